/* SPDX-License-Identifier: MIT */
/*
 * The virtio-net driver against DPDK's vhost-user back-end: dpdk-testpmd
 * with a net_vhost port forwarding in io loop, so every frame sent comes
 * back.  64 B, 1500 B and 9000 B frames (mergeable receive buffers), in
 * confidential and direct mode; every frame checked (sequence number and
 * pattern).  Private never shared: every region DPDK says it mapped (its
 * VHOST_CONFIG "guest memory region" lines) and every region of ccdma's
 * memory table lies inside the device's pool, and none holds the private
 * frames.  Skipped (77) when dpdk-testpmd is not installed.
 */
#include "netjob.h"
#include "test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void echo(struct netjob *j, uint32_t size, uint64_t count)
{
	struct netjob_echo e;
	int rc = netjob_echo(j, size, count, 10000, &e, NULL, NULL);

	printf("%u B x %llu (%s): sent %llu received %llu lost %llu dup %llu "
	       "reordered %llu corrupt %llu error %d\n", size,
	       (unsigned long long)count, ccdma_mode_name(j->mode),
	       (unsigned long long)e.sent, (unsigned long long)e.received,
	       (unsigned long long)e.lost, (unsigned long long)e.duplicated,
	       (unsigned long long)e.reordered, (unsigned long long)e.corrupt,
	       e.error);
	CHECK_EQ(rc, 0);
	CHECK_EQ(e.error, 0);
	CHECK_EQ(e.sent, count);
	CHECK_EQ(e.received, count);
	CHECK_EQ(e.lost + e.duplicated + e.reordered + e.corrupt, 0);
}

static long log_pos;

static void check_region(struct netjob *j, const char *what, uint64_t gpa,
			 uint64_t size)
{
	ccdma_addr_t first, last;

	CHECK_EQ(ccdma_dev_pool_dma_range(ccdma_vhost_dev(j->h), &first, &last), 0);
	if (!size || gpa < first || gpa + size - 1 > last) {
		fprintf(stderr, "%s region %#llx+%#llx is not inside the pool "
			"[%#llx, %#llx]\n", what, (unsigned long long)gpa,
			(unsigned long long)size, (unsigned long long)first,
			(unsigned long long)last);
		CHECK(0);
	}
	for (unsigned i = 0; j->mode != CCDMA_MODE_DIRECT && i < j->window; i++) {
		uint64_t lo = (uint64_t)(uintptr_t)j->tx[i];

		CHECK(!(lo < gpa + size && gpa < lo + j->frame_cap));
	}
}

/* The regions DPDK mapped for this connection (log lines since the last
 * call), and ccdma's table. */
static void check_shared(struct netjob *j, const char *log)
{
	struct ccdma_vhost_region r[64];
	unsigned nr = ccdma_vhost_regions(j->h, r, 64), seen = 0;
	unsigned long long size = 0, gpa;
	char line[512];
	FILE *f = fopen(log, "r");

	REQUIRE(f);
	fseek(f, log_pos, SEEK_SET);
	while (fgets(line, sizeof(line), f)) {
		const char *p;

		if (!strstr(line, "VHOST_CONFIG"))
			continue;
		if ((p = strstr(line, "guest memory region size: ")))
			size = strtoull(p + strlen("guest memory region size: "), NULL, 16);
		if ((p = strstr(line, "guest physical addr: "))) {
			gpa = strtoull(p + strlen("guest physical addr: "), NULL, 16);
			check_region(j, "DPDK", gpa, size);
			seen++;
		}
	}
	log_pos = ftell(f);
	fclose(f);
	printf("DPDK mapped %u region(s), ccdma's table holds %u\n", seen, nr);
	CHECK(seen >= 1);
	CHECK(nr >= 1 && nr <= 64);
	for (unsigned i = 0; i < nr && i < 64; i++) {
		CHECK_EQ(r[i].user_addr, r[i].guest_phys_addr);
		check_region(j, "ccdma", r[i].guest_phys_addr, r[i].size);
	}
}

static void run(const char *sock, enum ccdma_mode mode, const char *log)
{
	struct ccdma_vnet_config vc;
	struct ccdma_vnet_stats st;
	struct netjob j;

	ccdma_vnet_config_init(&vc);
	vc.max_frame = 9014;
	REQUIRE(netjob_open(&j, sock, mode, &vc, 9014, 0) == 0);
	printf("features offered %#llx accepted %#llx, receive buffers %u\n",
	       (unsigned long long)j.info.offered,
	       (unsigned long long)j.info.features, j.info.rx_buf_size);
	CHECK(j.info.mrg_rxbuf);
	echo(&j, 64, 20000);
	echo(&j, 1500, 5000);
	echo(&j, 9000, 1000);
	ccdma_vnet_get_stats(j.n, &st);
	CHECK(st.rx_buffers > st.rx_packets); /* 9000 B spanned buffers */
	CHECK_EQ(st.rx_oversize + st.rx_truncated, 0);
	CHECK(!ccdma_vnet_broken(j.n));
	check_shared(&j, log);
	netjob_close(&j);
}

int main(int argc, char **argv)
{
	struct blkjob_proc d;
	char prog[4096], log[128];

	test_init();
	blkjob_prog = "e2e_net_dpdk";
	if (argc < 2 || !argv[1][0] ||
	    netjob_testpmd_find(prog, sizeof(prog), argv[1])) {
		printf("SKIP: dpdk-testpmd not found (install dpdk-dev)\n");
		return 77;
	}
	REQUIRE(netjob_testpmd_start(&d, prog, "io") == 0);
	netjob_testpmd_log(&d, log, sizeof(log));
	run(d.sock, CCDMA_MODE_CONFIDENTIAL, log);
	run(d.sock, CCDMA_MODE_DIRECT, log);
	netjob_stop(&d);
	return test_done("e2e_net_dpdk");
}
