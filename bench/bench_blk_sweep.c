/* SPDX-License-Identifier: MIT */
/*
 * ccdma-bench blk-sweep: virtio-blk throughput against the block size,
 * confidential (every payload bounced) against direct (the buffers are the
 * device's shared memory), on the device processes of `ccdma-bench blk`:
 * ccdma-devsim with a RAM disk and, when found, qemu-storage-daemon with a
 * null-co disk.
 *
 * Sequential reads and writes of 4 KiB to 1 MiB (every power of two; with
 * --quick 4 KiB, 16 KiB, 64 KiB, 256 KiB and 1 MiB) at one queue depth
 * (--iodepth, default 4).  Each point runs both modes back to back, each
 * on a fresh connection, --seconds (default 0.5; --quick 0.1) after a
 * warm-up of a quarter of that.  Figures: MiB/s of each mode and their
 * ratio (confidential / direct).  One run per point: a figure to look at,
 * not a measurement to compare against a target.
 *
 * Sanity checks, counted as internal errors (exit status 1): a
 * confidential run that bounced nothing, a direct run that bounced
 * anything, a run that failed or completed no I/O.
 */
#define _GNU_SOURCE

#include "bench.h"
#include "blkjob.h"

#include <ccdma/dma.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NSIZES_MAX 9
#define NDIRS 2

static const uint32_t sizes_full[] = { 4096, 8192, 16384, 32768, 65536, 131072,
				       262144, 524288, 1048576 };
static const uint32_t sizes_quick[] = { 4096, 16384, 65536, 262144, 1048576 };
static const enum blkjob_rw dirs[NDIRS] = { BLKJOB_READ, BLKJOB_WRITE };

struct sweep_backend {
	const char *name;
	bool ran;
	/* [direction][size][mode: 0 confidential, 1 direct] */
	double mib_s[NDIRS][NSIZES_MAX][2];
};

static int sweep_errors;

static void sweep_usage(FILE *f)
{
	fprintf(f,
		"usage: ccdma-bench blk-sweep [--json] [--quick] [--seconds S] [--iodepth N]\n"
		"                             [--only devsim|qsd] [--qsd PATH] [--devsim PATH]\n"
		"                             [--plot DIR]\n"
		"virtio-blk over vhost-user: sequential read and write throughput from\n"
		"4 KiB to 1 MiB per I/O, confidential (bounced) against direct, on\n"
		"ccdma-devsim (RAM disk) and qemu-storage-daemon (null-co).  --plot DIR:\n"
		"DIR/blk-sweep-<back-end>.png, MiB/s against the block size.\n");
}

/* One point: MiB/s, or -1 (counted as an internal error). */
static double sweep_point(const char *sock, enum ccdma_mode mode, enum blkjob_rw rw,
			  uint32_t bs, unsigned qd, double seconds)
{
	struct blkjob_dev d;
	struct blkjob_opts o;
	struct blkjob_result r;
	struct ccdma_vblk_config vcfg;
	uint64_t bounced;
	int rc;

	ccdma_vblk_config_init(&vcfg);
	vcfg.num_queues = 1;
	if (blkjob_open(&d, sock, mode, &vcfg, NULL)) {
		sweep_errors++;
		return -1;
	}
	blkjob_opts_init(&o);
	o.rw = rw;
	o.bs = bs;
	o.iodepth = qd;
	o.runtime_s = seconds;
	o.warmup_s = seconds / 4;
	memset(&r, 0, sizeof(r));
	rc = blkjob_run(&d, &o, &r);
	blkjob_close(&d);
	bounced = r.bounced_to_device + r.bounced_from_device;
	if (rc || !(r.reads + r.writes) ||
	    (mode == CCDMA_MODE_CONFIDENTIAL) != (bounced != 0)) {
		fprintf(stderr, "ccdma-bench blk-sweep: %s %u bytes %s: %s\n",
			blkjob_rw_name(rw), bs, ccdma_mode_name(mode),
			rc ? strerror(-rc) : !(r.reads + r.writes) ? "no I/O completed" :
			bounced ? "direct mode bounced" : "confidential mode bounced nothing");
		sweep_errors++;
		return -1;
	}
	return r.mib_s;
}

static void sweep_plot(const char *dir, const struct sweep_backend *b,
		       const uint32_t *sizes, unsigned nsizes, unsigned qd)
{
	char name[64];
	struct bench_plot p;

	snprintf(name, sizeof(name), "blk-sweep-%s", b->name);
	if (bench_plot_open(&p, dir, name))
		return;
	fprintf(p.dat, "# bs_kib read_confidential read_direct write_confidential "
		       "write_direct (MiB/s)\n");
	for (unsigned s = 0; s < nsizes; s++)
		fprintf(p.dat, "%u %.1f %.1f %.1f %.1f\n", sizes[s] / 1024,
			b->mib_s[0][s][0], b->mib_s[0][s][1], b->mib_s[1][s][0],
			b->mib_s[1][s][1]);
	bench_plot_draw(&p, "ccdma-bench blk-sweep: throughput against the block size",
			"set logscale x 2\n"
			"set xlabel \"bytes per I/O, KiB (sequential, queue depth %u, %s)\"\n"
			"set ylabel \"MiB/s\"\n"
			"set logscale y\n"
			"set key inside top left\n"
			"plot \"%s.dat\" using 1:2 with linespoints lw 2 lc 1 title \"read, confidential\", "
			"\"\" using 1:3 with linespoints lw 2 lc 1 dt 2 title \"read, direct\", "
			"\"\" using 1:4 with linespoints lw 2 lc 2 title \"write, confidential\", "
			"\"\" using 1:5 with linespoints lw 2 lc 2 dt 2 title \"write, direct\"\n",
			qd, b->name, name);
}

int bench_blk_sweep_main(int argc, char **argv)
{
	static struct sweep_backend be[2] = { { .name = "devsim" }, { .name = "qsd_null" } };
	const char *qsd = NULL, *devsim = NULL, *only = NULL, *plot = NULL;
	bool json = false, quick = false;
	double seconds = 0;
	unsigned qd = 4, nsizes;
	const uint32_t *sizes;
	struct blkjob_proc proc;
	struct bench_json j;

	blkjob_prog = "ccdma-bench blk-sweep";
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--json")) {
			json = true;
		} else if (!strcmp(a, "--quick")) {
			quick = true;
		} else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			sweep_usage(stdout);
			return 0;
		} else if (v && !strcmp(a, "--seconds")) {
			i++;
			if (bench_opt_seconds("ccdma-bench blk-sweep", v, 60, &seconds))
				return 2;
		} else if (v && !strcmp(a, "--iodepth")) {
			i++;
			if (bench_opt_uint("ccdma-bench blk-sweep", a, v, 1, 128, &qd))
				return 2;
		} else if (v && !strcmp(a, "--only")) {
			only = v;
			i++;
			if (strcmp(only, "devsim") && strcmp(only, "qsd")) {
				fprintf(stderr, "ccdma-bench blk-sweep: --only devsim|qsd\n");
				return 2;
			}
		} else if (v && !strcmp(a, "--plot")) {
			plot = v;
			i++;
		} else if (v && !strcmp(a, "--qsd")) {
			qsd = v;
			i++;
		} else if (v && !strcmp(a, "--devsim")) {
			devsim = v;
			i++;
		} else {
			fprintf(stderr, "ccdma-bench blk-sweep: unknown option or missing "
					"value: '%s'\n", a);
			sweep_usage(stderr);
			return 2;
		}
	}
	if (!(seconds > 0))
		seconds = quick ? 0.1 : 0.5;
	sizes = quick ? sizes_quick : sizes_full;
	nsizes = quick ? sizeof(sizes_quick) / sizeof(sizes_quick[0]) :
			 sizeof(sizes_full) / sizeof(sizes_full[0]);
	if (!qsd)
		qsd = access("/usr/bin/qemu-storage-daemon", X_OK) == 0 ?
			      "/usr/bin/qemu-storage-daemon" : "qemu-storage-daemon";

	for (unsigned b = 0; b < 2; b++) {
		bool is_qsd = b == 1;
		int rc;

		if (only && strcmp(only, is_qsd ? "qsd" : "devsim"))
			continue;
		rc = is_qsd ? blkjob_qsd_start(&proc, qsd, 1ull << 30, 1) :
			      blkjob_devsim_start(&proc, devsim, 256ull << 20, NULL);
		if (rc) {
			/* Without --only, a missing qemu-storage-daemon is
			 * only a shorter sweep. */
			if (only || !is_qsd)
				sweep_errors++;
			fprintf(stderr, "ccdma-bench blk-sweep: %s not run\n", be[b].name);
			continue;
		}
		for (unsigned d = 0; d < NDIRS; d++)
			for (unsigned s = 0; s < nsizes; s++)
				for (unsigned m = 0; m < 2; m++) {
					/* Alternate which mode goes first. */
					unsigned mm = (s & 1) ? 1 - m : m;

					be[b].mib_s[d][s][mm] = sweep_point(
						proc.sock,
						mm ? CCDMA_MODE_DIRECT : CCDMA_MODE_CONFIDENTIAL,
						dirs[d], sizes[s], qd, seconds);
				}
		blkjob_devsim_stop(&proc);
		be[b].ran = true;
		if (plot)
			sweep_plot(plot, &be[b], sizes, nsizes, qd);
	}

	if (json) {
		bench_json_begin(&j, stdout);
		bench_json_obj(&j, NULL);
		bench_json_num(&j, "seconds_per_run", seconds);
		bench_json_u64(&j, "iodepth", qd);
	}
	for (unsigned b = 0; b < 2; b++) {
		if (!be[b].ran)
			continue;
		if (json)
			bench_json_obj(&j, be[b].name);
		else
			printf("%s, sequential, queue depth %u, MiB/s (one run per point)\n"
			       "  %9s %12s %9s %7s %12s %9s %7s\n", be[b].name, qd, "bytes",
			       "read conf", "direct", "ratio", "write conf", "direct", "ratio");
		for (unsigned s = 0; s < nsizes; s++) {
			const double *r = be[b].mib_s[0][s], *w = be[b].mib_s[1][s];
			double rr = r[1] > 0 ? r[0] / r[1] : 0, wr = w[1] > 0 ? w[0] / w[1] : 0;
			char key[32];

			if (!json) {
				printf("  %9u %12.1f %9.1f %7.3f %12.1f %9.1f %7.3f\n", sizes[s],
				       r[0], r[1], rr, w[0], w[1], wr);
				continue;
			}
			snprintf(key, sizeof(key), "bs_%u", sizes[s]);
			bench_json_obj(&j, key);
			bench_json_num(&j, "read_mib_s_confidential", r[0]);
			bench_json_num(&j, "read_mib_s_direct", r[1]);
			bench_json_num(&j, "read_ratio", rr);
			bench_json_num(&j, "write_mib_s_confidential", w[0]);
			bench_json_num(&j, "write_mib_s_direct", w[1]);
			bench_json_num(&j, "write_ratio", wr);
			bench_json_end(&j);
		}
		if (json)
			bench_json_end(&j);
	}
	if (json) {
		bench_json_u64(&j, "internal_errors", (uint64_t)sweep_errors);
		bench_json_end(&j);
		fputc('\n', stdout);
	} else if (sweep_errors) {
		printf("internal errors: %d\n", sweep_errors);
	}
	return sweep_errors ? 1 : 0;
}
