/* SPDX-License-Identifier: MIT */
/*
 * The virtio-net driver against ccdma-devsim --net (an echo device in its
 * own process): 64 B, 1500 B and 9000 B frames, with mergeable receive
 * buffers and without, in confidential and direct mode, every frame
 * checked (sequence number and pattern); the MAC read from config space.
 * Then queue pairs: 4 pairs against a ccdma-devsim with 4 (each pair's
 * frames verified, on its own handle), and a device with one pair or
 * fewer than asked refused at create with -ENOTSUP.
 */
#include "netjob.h"
#include "test.h"

#include <stdio.h>
#include <string.h>

static void run(const char *devsim, enum ccdma_mode mode, bool mrg)
{
	static const uint32_t sizes[] = { 64, 1500, 9000 };
	static const char *const nomrg[] = { "--no-mrg-rxbuf", NULL };
	struct ccdma_vnet_config vc;
	struct ccdma_vnet_stats st;
	struct blkjob_proc d;
	struct netjob j;

	REQUIRE(netjob_devsim_start(&d, devsim, mrg ? NULL : nomrg) == 0);
	ccdma_vnet_config_init(&vc);
	vc.max_frame = 9014;
	REQUIRE(netjob_open(&j, d.sock, mode, &vc, 9014, 0) == 0);
	CHECK_EQ(j.info.mrg_rxbuf, mrg);
	CHECK(j.info.has_mac && j.info.mac[0] == 0x52 && j.info.mac[5] == 0x01);
	CHECK(j.info.link_up);
	for (unsigned k = 0; k < 3; k++) {
		struct netjob_echo e;
		uint64_t count = sizes[k] == 64 ? 5000 : 1000;

		CHECK_EQ(netjob_echo(&j, sizes[k], count, 10000, &e, NULL, NULL), 0);
		printf("%u B: sent %llu received %llu lost %llu dup %llu reordered %llu corrupt %llu\n", sizes[k], (unsigned long long)e.sent, (unsigned long long)e.received, (unsigned long long)e.lost, (unsigned long long)e.duplicated, (unsigned long long)e.reordered, (unsigned long long)e.corrupt);
		CHECK_EQ(e.received, count);
		CHECK_EQ(e.lost + e.duplicated + e.reordered + e.corrupt, 0);
	}
	ccdma_vnet_get_stats(j.n, &st);
	CHECK_EQ(st.rx_packets, 7000);
	CHECK_EQ(st.tx_completed, 7000);
	if (mrg)
		CHECK(st.rx_buffers >= 7000 + 4 * 1000);
	else
		CHECK_EQ(st.rx_buffers, 7000);
	CHECK(!ccdma_vnet_broken(j.n));
	netjob_close(&j);
	CHECK_EQ(netjob_stop(&d), 0);
}

static void run_mq(const char *devsim)
{
	static const char *const four[] = { "--queues", "4", NULL };
	static const char *const two[] = { "--queues", "2", NULL };
	struct ccdma_vnet_config vc;
	struct ccdma_vnet_stats st;
	struct blkjob_proc d;
	struct netjob j, p;

	REQUIRE(netjob_devsim_start(&d, devsim, four) == 0);
	ccdma_vnet_config_init(&vc);
	vc.queue_pairs = 4;
	REQUIRE(netjob_open(&j, d.sock, CCDMA_MODE_CONFIDENTIAL, &vc, 1514, 0) == 0);
	CHECK_EQ(j.info.queue_pairs, 4);
	CHECK_EQ(j.info.max_queue_pairs, 4);
	for (unsigned k = 0; k < 4; k++) {
		struct netjob_echo e;

		REQUIRE(k == 0 || netjob_open_pair(&p, &j, k) == 0);
		CHECK_EQ(netjob_echo(k ? &p : &j, 1500, 1000, 10000, &e, NULL, NULL), 0);
		CHECK_EQ(e.received, 1000);
		CHECK_EQ(e.lost + e.duplicated + e.reordered + e.corrupt, 0);
		ccdma_vnet_get_stats(k ? p.n : j.n, &st);
		CHECK_EQ(st.rx_packets, 1000);
		if (k)
			netjob_close(&p);
	}
	CHECK(netjob_open_pair(&p, &j, 4) == -EINVAL);
	netjob_close(&j);
	CHECK_EQ(netjob_stop(&d), 0);

	/* One pair only (no MQ offered): two asked, refused. */
	REQUIRE(netjob_devsim_start(&d, devsim, NULL) == 0);
	vc.queue_pairs = 2;
	CHECK_EQ(netjob_open(&j, d.sock, CCDMA_MODE_CONFIDENTIAL, &vc, 1514, 0),
		 -ENOTSUP);
	netjob_stop(&d);
	/* Two pairs, four asked. */
	REQUIRE(netjob_devsim_start(&d, devsim, two) == 0);
	vc.queue_pairs = 4;
	CHECK_EQ(netjob_open(&j, d.sock, CCDMA_MODE_CONFIDENTIAL, &vc, 1514, 0),
		 -ENOTSUP);
	netjob_stop(&d);
}

int main(int argc, char **argv)
{
	const char *devsim = argc > 2 ? argv[2] : NULL;

	test_init();
	blkjob_prog = "e2e_net_devsim";
	if (!devsim || !*devsim) {
		printf("SKIP: no ccdma-devsim\n");
		return 77;
	}
	run(devsim, CCDMA_MODE_CONFIDENTIAL, true);
	run(devsim, CCDMA_MODE_DIRECT, true);
	run(devsim, CCDMA_MODE_CONFIDENTIAL, false);
	run_mq(devsim);
	return test_done("e2e_net_devsim");
}
