/* SPDX-License-Identifier: MIT */
/*
 * ccdma-bench blk: virtio-blk over vhost-user, bounced (confidential mode)
 * against direct, on real device processes started by the benchmark:
 * qemu-storage-daemon exporting a null-co disk, and ccdma-devsim with a
 * RAM disk.
 *
 * Cases (tools/blkjob.c runs each):
 *   4k_qd1          4 KiB random read, queue depth 1
 *   4k_qd32         4 KiB random read, queue depth 32
 *   128k_seq_read   128 KiB sequential read, queue depth 1
 *   128k_seq_write  128 KiB sequential write, queue depth 1
 * each in confidential mode (private buffers: every payload bounced) and
 * direct mode (the buffers are the device's coherent, shared memory and
 * pass straight through, as in a guest without memory encryption).
 *
 * Every case runs `rounds` times; each round runs both modes back to back,
 * in alternating order, each on a fresh connection with a short untimed
 * warm-up.  Figures are medians over rounds:
 *   ratio_<case>  = IOPS confidential / IOPS direct (per round, median)
 *   excess_over_copy_128k_{read,write}
 *                 = (time per request confidential - time per request
 *                    direct) / time of one plain 128 KiB memcpy,
 *                 with the memcpy timed in the same round (median of
 *                 batches, private buffer to private buffer).
 * Queue depth 1 puts the whole copy on each request's path, so the excess
 * is the bounce's full cost, not one hidden behind the device.
 *
 * 128k_seq_{read,write}_touched: the same, but the application uses its
 * data in both modes (reads every byte a read returned, writes every byte
 * before a write).  Without that, direct mode never touches the payload, so
 * the device keeps its cache lines to itself; a bounce copy moves them to
 * the driver's core and back, a cost that any real reader of the data pays
 * in direct mode as well.  The figures are the untouched ones.
 *
 * Both modes poll for completions for up to --poll-us (default 200 µs)
 * before sleeping (struct ccdma_vblk_config.poll_ns), so that wake-up
 * latency between the two processes does not drown the copy; --poll-us 0
 * measures with interrupts only.
 *
 * Sanity checks, counted as internal errors: a confidential run that
 * bounced nothing, a direct run that bounced anything, a failed request.
 */
#define _GNU_SOURCE

#include "bench.h"
#include "blkjob.h"

#include <ccdma/dma.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_ROUNDS 15

struct bcase {
	const char *name;
	enum blkjob_rw rw;
	uint32_t bs;
	unsigned qd;
	bool touch;
};

static const struct bcase cases[] = {
	{ "4k_qd1", BLKJOB_RANDREAD, 4096, 1, false },
	{ "4k_qd32", BLKJOB_RANDREAD, 4096, 32, false },
	{ "128k_seq_read", BLKJOB_READ, 131072, 1, false },
	{ "128k_seq_write", BLKJOB_WRITE, 131072, 1, false },
	{ "128k_seq_read_touched", BLKJOB_READ, 131072, 1, true },
	{ "128k_seq_write_touched", BLKJOB_WRITE, 131072, 1, true },
};
#define NCASES (sizeof(cases) / sizeof(cases[0]))

struct case_result {
	double iops[2][MAX_ROUNDS];   /* [0] confidential, [1] direct */
	double mib_s[2][MAX_ROUNDS];
	double ratio[MAX_ROUNDS];
	double excess[MAX_ROUNDS];
	double memcpy_ns[MAX_ROUNDS];
	double p50_us[2][MAX_ROUNDS];
	uint64_t bounced[2];          /* bytes bounced either way, all rounds */
};

struct backend_result {
	const char *name;
	bool ran;
	struct case_result c[NCASES];
};

static int internal_errors;

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ccdma-bench blk [--json] [--quick] [--rounds N] [--seconds S]\n"
		"                       [--only devsim|qsd] [--qsd PATH] [--devsim PATH]\n"
		"                       [--poll-us N (default 200; 0: sleep at once)]\n"
		"virtio-blk over vhost-user, confidential (bounced) vs direct, against\n"
		"qemu-storage-daemon (null-co) and ccdma-devsim (RAM disk).\n"
		"Targets: ratio_4k_qd32 >= 0.95, excess_over_copy_128k_* <= 1.2.\n");
}

/* Median time of a plain 128 KiB memcpy between private buffers, ns. */
static double time_memcpy(void *dst, const void *src, size_t len)
{
	double v[15];

	for (int i = 0; i < 15; i++)
		v[i] = (double)bench_time_memcpy(dst, src, len, 20) / 20.0;
	return bench_median(v, 15);
}

static unsigned poll_us = 200;

static int run_one(const char *sock, enum ccdma_mode mode, const struct bcase *bc,
		   double seconds, struct blkjob_result *r)
{
	struct blkjob_dev d;
	struct blkjob_opts o;
	struct ccdma_vblk_config vcfg;
	int rc;

	ccdma_vblk_config_init(&vcfg);
	vcfg.num_queues = 1;
	vcfg.poll_ns = poll_us * 1000u;
	if (blkjob_open(&d, sock, mode, &vcfg, NULL))
		return -1;
	blkjob_opts_init(&o);
	o.rw = bc->rw;
	o.bs = bc->bs;
	o.iodepth = bc->qd;
	o.runtime_s = seconds;
	o.warmup_s = seconds / 4;
	o.touch = bc->touch;
	rc = blkjob_run(&d, &o, r);
	blkjob_close(&d);
	if (rc) {
		fprintf(stderr, "ccdma-bench blk: %s %s run failed: %s\n", bc->name,
			ccdma_mode_name(mode), strerror(-rc));
		internal_errors++;
		return -1;
	}
	return 0;
}

static int run_backend(struct backend_result *br, const char *sock,
		       unsigned rounds, double seconds, bool json)
{
	void *src = malloc(131072), *dst = malloc(131072);

	if (!src || !dst) {
		free(src);
		free(dst);
		return -1;
	}
	memset(src, 0x5a, 131072);
	memset(dst, 0, 131072);
	for (unsigned k = 0; k < NCASES; k++) {
		const struct bcase *bc = &cases[k];
		struct case_result *cr = &br->c[k];

		for (unsigned r = 0; r < rounds; r++) {
			struct blkjob_result res[2];

			for (unsigned i = 0; i < 2; i++) {
				/* Alternate which mode goes first. */
				unsigned m = (r & 1) ? 1 - i : i;
				enum ccdma_mode mode = m ? CCDMA_MODE_DIRECT :
							   CCDMA_MODE_CONFIDENTIAL;

				if (run_one(sock, mode, bc, seconds, &res[m]))
					goto fail;
				cr->iops[m][r] = res[m].iops;
				cr->mib_s[m][r] = res[m].mib_s;
				cr->p50_us[m][r] = res[m].lat.p50_us;
				cr->bounced[m] += res[m].bounced_to_device +
						  res[m].bounced_from_device;
			}
			cr->memcpy_ns[r] = time_memcpy(dst, src, 131072);
			cr->ratio[r] = res[1].iops > 0 ? res[0].iops / res[1].iops : 0;
			if (res[0].iops > 0 && res[1].iops > 0)
				cr->excess[r] = (1e9 / res[0].iops - 1e9 / res[1].iops) /
						cr->memcpy_ns[r];
			if (!json)
				fprintf(stderr, "  %s %-15s round %u: confidential %.0f IOPS, "
						"direct %.0f IOPS, ratio %.3f\n",
					br->name, bc->name, r + 1, res[0].iops,
					res[1].iops, cr->ratio[r]);
		}
		if (!cr->bounced[0]) {
			fprintf(stderr, "ccdma-bench blk: %s %s: confidential mode "
					"bounced nothing\n", br->name, bc->name);
			internal_errors++;
		}
		if (cr->bounced[1]) {
			fprintf(stderr, "ccdma-bench blk: %s %s: direct mode bounced "
					"%llu bytes\n", br->name, bc->name,
				(unsigned long long)cr->bounced[1]);
			internal_errors++;
		}
	}
	free(src);
	free(dst);
	br->ran = true;
	return 0;
fail:
	free(src);
	free(dst);
	return -1;
}

static void emit_backend(struct bench_json *j, const struct backend_result *br,
			 unsigned rounds)
{
	bench_json_obj(j, br->name);
	for (unsigned k = 0; k < NCASES; k++) {
		const struct case_result *cr = &br->c[k];

		bench_json_obj(j, cases[k].name);
		bench_json_num(j, "iops_confidential", bench_median(cr->iops[0], rounds));
		bench_json_num(j, "iops_direct", bench_median(cr->iops[1], rounds));
		bench_json_num(j, "mib_s_confidential", bench_median(cr->mib_s[0], rounds));
		bench_json_num(j, "mib_s_direct", bench_median(cr->mib_s[1], rounds));
		bench_json_num(j, "p50_us_confidential", bench_median(cr->p50_us[0], rounds));
		bench_json_num(j, "p50_us_direct", bench_median(cr->p50_us[1], rounds));
		bench_json_num(j, "ratio", bench_median(cr->ratio, rounds));
		bench_json_end(j);
	}
	bench_json_num(j, "ratio_4k_qd1", bench_median(br->c[0].ratio, rounds));
	bench_json_num(j, "ratio_4k_qd32", bench_median(br->c[1].ratio, rounds));
	bench_json_num(j, "ratio_128k_seq_read", bench_median(br->c[2].ratio, rounds));
	bench_json_num(j, "ratio_128k_seq_write", bench_median(br->c[3].ratio, rounds));
	bench_json_num(j, "memcpy_128k_ns", bench_median(br->c[2].memcpy_ns, rounds));
	bench_json_num(j, "excess_over_copy_128k_read",
		       bench_median(br->c[2].excess, rounds));
	bench_json_num(j, "excess_over_copy_128k_write",
		       bench_median(br->c[3].excess, rounds));
	bench_json_num(j, "excess_over_copy_128k_read_touched",
		       bench_median(br->c[4].excess, rounds));
	bench_json_num(j, "excess_over_copy_128k_write_touched",
		       bench_median(br->c[5].excess, rounds));
	bench_json_end(j);
}

static void print_backend(const struct backend_result *br, unsigned rounds)
{
	printf("%s\n", br->name);
	printf("  %-15s %12s %12s %9s %10s %10s\n", "case", "IOPS conf", "IOPS direct",
	       "ratio", "p50 conf", "p50 direct");
	for (unsigned k = 0; k < NCASES; k++) {
		const struct case_result *cr = &br->c[k];

		printf("  %-15s %12.0f %12.0f %9.3f %8.1fus %8.1fus\n", cases[k].name,
		       bench_median(cr->iops[0], rounds), bench_median(cr->iops[1], rounds),
		       bench_median(cr->ratio, rounds), bench_median(cr->p50_us[0], rounds),
		       bench_median(cr->p50_us[1], rounds));
	}
	printf("  ratio_4k_qd32 %.3f (target >= 0.95)\n",
	       bench_median(br->c[1].ratio, rounds));
	printf("  memcpy 128 KiB: %.0f ns\n", bench_median(br->c[2].memcpy_ns, rounds));
	printf("  excess_over_copy_128k_read %.2f, _write %.2f (target <= 1.2)\n",
	       bench_median(br->c[2].excess, rounds),
	       bench_median(br->c[3].excess, rounds));
	printf("  the same when the application uses its data: read %.2f, write %.2f\n",
	       bench_median(br->c[4].excess, rounds),
	       bench_median(br->c[5].excess, rounds));
}

int bench_blk_main(int argc, char **argv)
{
	static struct backend_result br[2] = { { .name = "qsd_null" },
					       { .name = "devsim" } };
	const char *qsd = NULL, *devsim = NULL, *only = NULL;
	bool json = false, quick = false;
	unsigned rounds = 0;
	double seconds = 0;
	struct blkjob_proc proc;
	struct bench_json j;

	/* The engine's messages (and its lookup of ccdma-devsim, the one
	 * ccdma-blk uses: blkjob_devsim_find) speak for this program. */
	blkjob_prog = "ccdma-bench blk";
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--json")) {
			json = true;
		} else if (!strcmp(a, "--quick")) {
			quick = true;
		} else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return 0;
		} else if (v && !strcmp(a, "--rounds")) {
			rounds = (unsigned)atoi(v);
			i++;
			if (!rounds || rounds > MAX_ROUNDS) {
				fprintf(stderr, "ccdma-bench blk: --rounds 1..%d\n", MAX_ROUNDS);
				return 2;
			}
		} else if (v && !strcmp(a, "--seconds")) {
			seconds = atof(v);
			i++;
			if (!(seconds > 0) || seconds > 60) {
				fprintf(stderr, "ccdma-bench blk: --seconds: (0, 60]\n");
				return 2;
			}
		} else if (v && !strcmp(a, "--only")) {
			only = v;
			i++;
			if (strcmp(only, "devsim") && strcmp(only, "qsd")) {
				fprintf(stderr, "ccdma-bench blk: --only devsim|qsd\n");
				return 2;
			}
		} else if (v && !strcmp(a, "--poll-us")) {
			poll_us = (unsigned)atoi(v);
			i++;
			if (poll_us > 100000) {
				fprintf(stderr, "ccdma-bench blk: --poll-us 0..100000\n");
				return 2;
			}
		} else if (v && !strcmp(a, "--qsd")) {
			qsd = v;
			i++;
		} else if (v && !strcmp(a, "--devsim")) {
			devsim = v;
			i++;
		} else {
			fprintf(stderr, "ccdma-bench blk: unknown option or missing "
					"value: '%s'\n", a);
			usage(stderr);
			return 2;
		}
	}
	if (!rounds)
		rounds = quick ? 1 : 5;
	if (!(seconds > 0))
		seconds = quick ? 0.2 : 1.0;
	if (!qsd)
		qsd = access("/usr/bin/qemu-storage-daemon", X_OK) == 0 ?
			      "/usr/bin/qemu-storage-daemon" : "qemu-storage-daemon";

	for (unsigned b = 0; b < 2; b++) {
		bool is_qsd = b == 0;
		int rc;

		if (only && strcmp(only, is_qsd ? "qsd" : "devsim"))
			continue;
		if (!json)
			fprintf(stderr, "ccdma-bench blk: %s\n", br[b].name);
		rc = is_qsd ? blkjob_qsd_start(&proc, qsd, 1ull << 30, 1) :
			      blkjob_devsim_start(&proc, devsim, 256ull << 20, NULL);
		if (rc) {
			fprintf(stderr, "ccdma-bench blk: cannot start %s\n", br[b].name);
			internal_errors++;
			continue;
		}
		run_backend(&br[b], proc.sock, rounds, seconds, json);
		blkjob_devsim_stop(&proc);
	}

	if (json) {
		bench_json_begin(&j, stdout);
		bench_json_obj(&j, NULL);
		bench_json_u64(&j, "rounds", rounds);
		bench_json_num(&j, "seconds_per_run", seconds);
		bench_json_u64(&j, "poll_us", poll_us);
		for (unsigned b = 0; b < 2; b++)
			if (br[b].ran)
				emit_backend(&j, &br[b], rounds);
		bench_json_obj(&j, "targets");
		bench_json_num(&j, "ratio_4k_qd32_min", 0.95);
		bench_json_num(&j, "excess_over_copy_128k_max", 1.2);
		bench_json_end(&j);
		bench_json_u64(&j, "internal_errors", (uint64_t)internal_errors);
		bench_json_end(&j);
		fputc('\n', stdout);
	} else {
		for (unsigned b = 0; b < 2; b++)
			if (br[b].ran)
				print_backend(&br[b], rounds);
		if (internal_errors)
			printf("internal errors: %d\n", internal_errors);
	}
	return internal_errors ? 1 : 0;
}
