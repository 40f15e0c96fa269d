/* SPDX-License-Identifier: MIT */
/*
 * The virtio-net driver against a ccdma-devsim --net that attacks it
 * (--misbehave MODE, docs/devsim.md): an echo of 200 frames through the
 * real device process.  Each mode must break the device with the reason
 * the driver's check gives, end the echo with -ENODEV, and deliver no
 * damaged frame, nor any frame twice.
 *
 * id-unposted and double on the receive ring: with every receive buffer
 * posted, any id in range is in flight (and a repeated entry names a head
 * the driver has posted again), so the used-ring check cannot see them;
 * the buffer's header, whose num_buffers the driver clears at each
 * posting, gives them away as num_buffers 0.  The net-tx-* modes do the
 * same on the transmit ring, where the used-ring check sees them.
 *   e2e_net_misbehave MODE <testpmd (unused)> <ccdma-devsim>
 */
#include "netjob.h"
#include "test.h"

#include <ccdma/platform.h>
#include <stdio.h>
#include <string.h>


static const struct {
	const char *mode;
	const char *why;     /* in the driver's "device marked broken" line */
	const char *or_why;  /* or this one (NULL: none) */
} modes[] = {
	{ "net-nb-high", "num_buffers beyond the buffers posted", NULL },
	{ "net-nb-zero", "num_buffers beyond the buffers posted", NULL },
	{ "net-len-over", "receive used length beyond the buffer posted", NULL },
	{ "net-len-short", "receive used length shorter than the header", NULL },
	{ "net-csum", "asks for an offload not negotiated", NULL },
	{ "id-range", "used id out of range", NULL },
	{ "id-unposted", "num_buffers beyond the buffers posted", NULL },
	{ "double", "num_buffers beyond the buffers posted", NULL },
	{ "net-gso", "asks for an offload not negotiated", NULL },
	{ "net-nb-two", "num_buffers beyond the buffers posted", NULL },
	{ "net-tx-range", "used id out of range", NULL },
	{ "net-tx-unposted", "used id not in flight", NULL },
	{ "idx-ahead", "used index moved more than the ring size ahead",
	  NULL },
	{ "idx-back", "used index moved backwards", NULL },
	/* The repeated entry is seen as not in flight, or, when the device
	 * published it with the rest of a batch, as one entry too many. */
	{ "net-tx-double", "used id not in flight",
	  "used index ahead of the chains in flight" },
};

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	const char *devsim = argc > 3 ? argv[3] : NULL;
	/* net-nb-two: 2 is refused only without MRG_RXBUF. */
	const char *extra[] = { "--misbehave", mode, "--quiet",
				strcmp(mode, "net-nb-two") ? NULL :
				"--no-mrg-rxbuf", NULL };
	const char *why = NULL, *or_why = NULL;
	struct blkjob_proc d;
	struct netjob_echo e;
	struct netjob j;
	int rc;

	test_init();
	blkjob_prog = "e2e_net_misbehave";
	if (!devsim || !*devsim) {
		printf("SKIP: no ccdma-devsim\n");
		return 77;
	}
	for (unsigned i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (!strcmp(modes[i].mode, mode)) {
			why = modes[i].why;
			or_why = modes[i].or_why;
		}
	REQUIRE(why);
	REQUIRE(netjob_devsim_start(&d, devsim, extra) == 0);
	REQUIRE(netjob_open(&j, d.sock, CCDMA_MODE_CONFIDENTIAL, NULL, 1514, 0) == 0);
	ccdma_log_set_handler(test_keep_log, NULL);
	rc = netjob_echo(&j, 1000, 200, 5000, &e, NULL, NULL);
	ccdma_log_set_handler(NULL, NULL);
	printf("%s: rc %d error %d sent %llu received %llu corrupt %llu\n%s", mode,
	       rc, e.error, (unsigned long long)e.sent,
	       (unsigned long long)e.received, (unsigned long long)e.corrupt,
	       test_logged());
	CHECK_EQ(rc, -1);
	CHECK_EQ(e.error, -ENODEV);
	CHECK(ccdma_vnet_broken(j.n));
	/* Nothing damaged reached the caller; whatever came before the
	 * attack came whole. */
	CHECK_EQ(e.corrupt, 0);
	CHECK_EQ(e.duplicated, 0);
	CHECK(e.received < 200);
	if (or_why && strstr(test_logged(), or_why))
		why = or_why;
	if (!strstr(test_logged(), why) ||
	    !strstr(test_logged(), "device marked broken")) {
		fprintf(stderr, "want \"%s: device marked broken\"\n", why);
		CHECK(0);
	}
	netjob_close(&j);
	netjob_stop(&d);
	return test_done("e2e_net_misbehave");
}
