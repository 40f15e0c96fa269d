/* SPDX-License-Identifier: MIT */
/*
 * netjob_pingpong against ccdma-devsim --net: every frame comes back
 * intact, one at a time, and the round-trip percentiles are ordered and
 * lie between the fastest and the slowest frame.
 */
#include "netjob.h"
#include "test.h"

#include <stdio.h>

int main(int argc, char **argv)
{
	const char *devsim = argc > 2 ? argv[2] : NULL;
	struct ccdma_vnet_stats st;
	struct blkjob_proc d;
	struct netjob_echo e;
	struct netjob_lat l;
	struct netjob j;

	test_init();
	blkjob_prog = "net_pingpong";
	if (!devsim || !*devsim) {
		printf("SKIP: no ccdma-devsim\n");
		return 77;
	}
	REQUIRE(netjob_devsim_start(&d, devsim, NULL) == 0);
	REQUIRE(netjob_open(&j, d.sock, CCDMA_MODE_CONFIDENTIAL, NULL, 1514,
			    0) == 0);
	CHECK_EQ(netjob_pingpong(&j, 1500, 500, 10000, &e, &l), 0);
	printf("sent %llu received %llu: min %llu p50 %llu p90 %llu p99 %llu "
	       "p99.9 %llu max %llu mean %llu ns\n",
	       (unsigned long long)e.sent, (unsigned long long)e.received,
	       (unsigned long long)l.min, (unsigned long long)l.p50,
	       (unsigned long long)l.p90, (unsigned long long)l.p99,
	       (unsigned long long)l.p999, (unsigned long long)l.max,
	       (unsigned long long)l.mean);
	CHECK_EQ(e.sent, 500);
	CHECK_EQ(e.received, 500);
	CHECK_EQ(e.sends, 500);
	CHECK_EQ(e.max_burst, 1);
	CHECK_EQ(e.lost + e.duplicated + e.corrupt, 0);
	CHECK_EQ(l.count, 500);
	CHECK(l.min > 0);
	CHECK(l.min <= l.p50 && l.p50 <= l.p90 && l.p90 <= l.p99 &&
	      l.p99 <= l.p999 && l.p999 <= l.max);
	CHECK(l.min <= l.mean && l.mean <= l.max);
	ccdma_vnet_get_stats(j.n, &st);
	CHECK_EQ(st.rx_packets, 500);
	CHECK_EQ(st.tx_completed, 500);
	netjob_close(&j);
	CHECK_EQ(netjob_stop(&d), 0);
	return test_done("net_pingpong");
}
