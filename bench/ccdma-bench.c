/* SPDX-License-Identifier: MIT */
/*
 * ccdma-bench: the project's benchmarks, one subcommand each.
 *
 *   ccdma-bench pool [--json] [--quick] [--share-cost]
 *   ccdma-bench stale [--json]
 *   ccdma-bench dma [--json] [--quick]
 *   ccdma-bench busdma [--json] [--quick]
 *   ccdma-bench blk [--json] [--quick] [--only devsim|qsd] ...
 *   ccdma-bench blk-sweep [--json] [--quick] [--only devsim|qsd] ...
 *   ccdma-bench net [--json] [--quick] [--rounds N] [--seconds S] ...
 *   ccdma-bench floor [--json] [--quick]
 *   ccdma-bench pairs [--n N] [--size BYTES]
 *
 * Each subcommand prints its figures with the design targets beside them
 * (--json: one JSON object on stdout).  Missing a target is not an error:
 * the exit status is 0 unless the benchmark itself failed.
 */
#define _POSIX_C_SOURCE 200809L

#include "bench.h"

#include <stdio.h>
#include <string.h>

struct subcommand {
	const char *name;
	int (*main)(int argc, char **argv);
	const char *summary;
};

static const struct subcommand subcommands[] = {
	{ "pool", bench_pool_main,
	  "bounce pool vs models of the Linux, OpenBSD and FreeBSD allocators" },
	{ "stale", bench_stale_main,
	  "cost of the no-stale-data rule per device-to-memory mapping" },
	{ "dma", bench_dma_main,
	  "dma layer map/unmap: direct, bounce vs memcpy, copies, checker cost" },
	{ "busdma", bench_busdma_main,
	  "bus_dma load/sync/unload vs dma map/unmap; shared memory per map vs OpenBSD" },
	{ "blk", bench_blk_main,
	  "virtio-blk over vhost-user, bounced vs direct, on qemu-storage-daemon and ccdma-devsim" },
	{ "blk-sweep", bench_blk_sweep_main,
	  "virtio-blk throughput against the block size, bounced vs direct" },
	{ "net", bench_net_main,
	  "virtio-net over vhost-user, bounced vs direct vs DPDK's virtio-user, on dpdk-testpmd" },
	{ "floor", bench_floor_main,
	  "the cross-core copy a bounce must do (the floor of the bounce tax)" },
	{ "pairs", bench_pairs_main,
	  "pool alloc+free pairs in a bare loop (for callgrind's instruction count)" },
};

#define NSUB (sizeof(subcommands) / sizeof(subcommands[0]))

static void usage(FILE *f)
{
	fprintf(f, "usage: ccdma-bench <subcommand> [options]\n"
		   "       ccdma-bench <subcommand> --help\n\nsubcommands:\n");
	for (size_t i = 0; i < NSUB; i++)
		fprintf(f, "  %-9s %s\n", subcommands[i].name, subcommands[i].summary);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < NSUB; i++)
		if (!strcmp(argv[1], subcommands[i].name))
			return subcommands[i].main(argc - 1, argv + 1);
	fprintf(stderr, "ccdma-bench: unknown subcommand '%s' (known:", argv[1]);
	for (size_t i = 0; i < NSUB; i++)
		fprintf(stderr, " %s", subcommands[i].name);
	fprintf(stderr, "; try ccdma-bench --help)\n");
	return 2;
}
