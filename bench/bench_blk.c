/* SPDX-License-Identifier: MIT */
/*
 * ccdma-bench blk: what bouncing costs a virtio-blk driver over vhost-user,
 * as CPU time per I/O against the copy the hardware must do, on real
 * device processes started by the benchmark: qemu-storage-daemon exporting
 * a null-co disk, and ccdma-devsim with a RAM disk.
 *
 * Cases (tools/blkjob.c runs each): 4 KiB random and 128 KiB sequential,
 * read and write, at queue depth 1 and 32; and 128 KiB at depth 1 where
 * the application uses its data (_touched: it reads every byte a read
 * returned and writes every byte before a write, in both modes).  Each
 * runs in confidential mode (private buffers: every payload bounced) and
 * direct mode (the buffers are the device's shared memory and pass
 * straight through, as in a guest without memory encryption).
 *
 * Every case runs `rounds` times; each round runs both modes back to back,
 * in alternating order, each on a fresh connection with a short untimed
 * warm-up, then measures the floor.  Per round:
 *   cpu_per_io_ns   CPU time of the driver process (every thread) over the
 *                   timed phase, divided by the I/Os completed in it;
 *   dev_cpu_per_io_ns  the same for the device process;
 *   tax_ns          cpu_per_io confidential - cpu_per_io direct;
 *   floor_ns        the cross-core copy of `ccdma-bench floor` for the
 *                   case's size, measured in this round: a read's bounce
 *                   copies out of shared memory the device just wrote, a
 *                   write's copies into shared memory the device just
 *                   read;
 *   tax_vs_floor    tax_ns / floor_ns: 1.0 means the bounce costs exactly
 *                   the copy; the target is <= 1.2;
 *   throughput_ratio  IOPS confidential / IOPS direct (what a user sees,
 *                   but it depends on the machine's wake-up latency as
 *                   much as on the bounce).
 * Figures are medians over rounds, with the smallest and largest round.
 * Top-level: tax_vs_floor_4k and _128k, the worst median over back-ends,
 * directions and depths (the untouched cases); touched_ratio_min, the
 * smallest throughput ratio of the _touched cases.
 *
 * Both modes poll for completions for up to --poll-us (default 200 us)
 * before sleeping (struct ccdma_vblk_config.poll_ns); CPU time includes
 * the polling, which both modes pay for the device's latency.
 *
 * Scaling (issue 14, section 4): 1, 2 and 4 jobs at once, each on its own
 * queue of one device with 4 queues and one pool (blkjob_run_many), 4 KiB
 * random reads at depth 16 per job, confidential mode: aggregate IOPS, CPU
 * per I/O of the driver process (the whole run), the pool's peak against
 * the bytes in flight, and the longest any allocation waited.  Top-level:
 * scale_cpu_4q_vs_1q (target <= 1.2), scale_alloc_wait_max_ns (target
 * <= 10 ms), scale_pool_peak_vs_in_flight (target <= 1.3; the pool's
 * initial size counts in its peak).
 *
 * Devices (issue 14, section 4): 1, 4 and 16 ccdma-devsim processes (all
 * started once, 32 MiB RAM disks), driven at once through one pool made
 * afresh for each count and round (blkjob_run_devs: one job on each, 4 KiB
 * random reads at depth 16, confidential): aggregate IOPS, CPU per I/O
 * of the driver process, the pool's peak against the bytes in flight
 * (16 x 4 KiB per device) and the longest allocation wait.  The pool has
 * 1 MiB regions, starts with one and may hold 30 (ccdma-devsim's 32
 * memory slots less two spare), so its peak is its growth.  Top-level:
 * scale_cpu_16dev_vs_1dev (target <= 1.2), scale_dev_alloc_wait_max_ns
 * (<= 10 ms), scale_dev_pool_peak_vs_in_flight (<= 1.3; the persistent
 * slots, --slot-size per ring entry, count in the peak).
 *
 * Sanity checks, counted as internal errors: a confidential run that
 * bounced nothing, a direct run that bounced anything, a failed request,
 * a run that completed no I/O.
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
	{ "4k_read_qd1", BLKJOB_RANDREAD, 4096, 1, false },
	{ "4k_read_qd32", BLKJOB_RANDREAD, 4096, 32, false },
	{ "4k_write_qd1", BLKJOB_RANDWRITE, 4096, 1, false },
	{ "4k_write_qd32", BLKJOB_RANDWRITE, 4096, 32, false },
	{ "128k_read_qd1", BLKJOB_READ, 131072, 1, false },
	{ "128k_read_qd32", BLKJOB_READ, 131072, 32, false },
	{ "128k_write_qd1", BLKJOB_WRITE, 131072, 1, false },
	{ "128k_write_qd32", BLKJOB_WRITE, 131072, 32, false },
	{ "128k_read_qd1_touched", BLKJOB_READ, 131072, 1, true },
	{ "128k_write_qd1_touched", BLKJOB_WRITE, 131072, 1, true },
};
#define NCASES (sizeof(cases) / sizeof(cases[0]))

/* Per round; [0] confidential, [1] direct. */
struct case_result {
	double iops[2][MAX_ROUNDS];
	double mib_s[2][MAX_ROUNDS];
	double p50_us[2][MAX_ROUNDS];
	double cpu_io[2][MAX_ROUNDS];      /* driver CPU ns per I/O */
	double dev_cpu_io[2][MAX_ROUNDS];  /* device CPU ns per I/O */
	double ratio[MAX_ROUNDS];          /* throughput */
	double tax[MAX_ROUNDS];            /* ns */
	double floor_ns[MAX_ROUNDS];
	double tax_floor[MAX_ROUNDS];
	uint64_t bounced[2];          /* bytes bounced either way, all rounds */
	uint64_t slot_parts[2];       /* parts through persistent slots */
	uint64_t hist[2][BLKJOB_HIST_N];  /* latencies, all rounds (--plot) */
};

struct backend_result {
	const char *name;
	bool ran;
	struct case_result c[NCASES];
};

static int internal_errors;

#define SCALE_QD 16
#define SCALE_N 3
static const unsigned scale_jobs[SCALE_N] = { 1, 2, 4 };

/* A scaling case: jobs on queues of one device, or devices on one pool;
 * counts[k] of them in the k-th step. */
struct scale_result {
	bool ran;
	const unsigned *counts;
	double iops[SCALE_N][MAX_ROUNDS];
	double cpu_io[SCALE_N][MAX_ROUNDS];
	uint64_t pool_peak[SCALE_N];       /* largest over rounds */
	uint64_t wait_max_ns[SCALE_N];     /* longest over rounds */
	uint64_t slot_bytes[SCALE_N];      /* pinned by slots, largest */
};

#define DEVS_MAX 16
static const unsigned scale_devs[SCALE_N] = { 1, 4, DEVS_MAX };


static void usage(FILE *f)
{
	fprintf(f,
		"usage: ccdma-bench blk [--json] [--quick] [--rounds N] [--seconds S]\n"
		"                       [--only devsim|qsd] [--qsd PATH] [--devsim PATH]\n"
		"                       [--poll-us N (default 200; 0: sleep at once)]\n"
		"                       [--plot DIR (gnuplot PNGs of the figures)]\n"
		"                       [--slot-size BYTES (persistent bounce slots;\n"
		"                        default the driver's, 64 KiB; 0: none)]\n"
		"virtio-blk over vhost-user: CPU time per I/O, confidential (bounced)\n"
		"against direct, beside the cross-core copy floor measured in the same\n"
		"run, on qemu-storage-daemon (null-co) and ccdma-devsim (RAM disk).\n"
		"Then 1, 2 and 4 jobs on their own queues of one device (scaling),\n"
		"and 1, 4 and 16 ccdma-devsim devices on one pool (scaling_devices).\n"
		"Targets: tax_vs_floor_4k and _128k <= 1.2, touched_ratio_min >= 0.95,\n"
		"scale_cpu_4q_vs_1q <= 1.2, scale_alloc_wait_max_ns <= 10 ms,\n"
		"scale_pool_peak_vs_in_flight <= 1.3, scale_cpu_16dev_vs_1dev <= 1.2,\n"
		"scale_dev_alloc_wait_max_ns <= 10 ms,\n"
		"scale_dev_pool_peak_vs_in_flight <= 1.3.\n");
}

static unsigned poll_us = 200;
static uint32_t slot_size = CCDMA_VBLK_SLOT_SIZE_DEFAULT;

static int run_one(const char *sock, pid_t dev_pid, enum ccdma_mode mode,
		   const struct bcase *bc, double seconds, uint64_t *hist,
		   struct blkjob_result *r)
{
	struct blkjob_dev d;
	struct blkjob_opts o;
	struct ccdma_vblk_config vcfg;
	int rc;

	ccdma_vblk_config_init(&vcfg);
	vcfg.num_queues = 1;
	vcfg.poll_ns = poll_us * 1000u;
	vcfg.slot_size = slot_size;
	if (blkjob_open(&d, sock, mode, &vcfg, NULL))
		return -1;
	blkjob_opts_init(&o);
	o.rw = bc->rw;
	o.bs = bc->bs;
	o.iodepth = bc->qd;
	o.runtime_s = seconds;
	o.warmup_s = seconds / 4;
	o.touch = bc->touch;
	o.dev_pid = dev_pid;
	o.lat_hist = hist;
	rc = blkjob_run(&d, &o, r);
	blkjob_close(&d);
	if (rc || !(r->reads + r->writes)) {
		fprintf(stderr, "ccdma-bench blk: %s %s run failed: %s\n", bc->name,
			ccdma_mode_name(mode), rc ? strerror(-rc) : "no I/O completed");
		internal_errors++;
		return -1;
	}
	return 0;
}

static bool is_read(const struct bcase *bc)
{
	return bc->rw == BLKJOB_READ || bc->rw == BLKJOB_RANDREAD;
}

/* The floor for the case, measured now: ns per copy, or -1. */
static double measure_floor(const struct bcase *bc, bool quick)
{
	unsigned n = (quick ? 8u : 64u) * 1024 * 1024 / bc->bs / 4;
	double out_ns, in_ns;
	int rc;

	if (n > 4000)
		n = 4000;
	rc = bench_floor_cross(bc->bs, bc->qd, n, &out_ns, &in_ns);
	if (rc) {
		fprintf(stderr, "ccdma-bench blk: floor of %u bytes: %s\n", bc->bs,
			strerror(-rc));
		internal_errors++;
		return -1;
	}
	return is_read(bc) ? out_ns : in_ns;
}

static int run_backend(struct backend_result *br, const char *sock, pid_t dev_pid,
		       unsigned rounds, double seconds, bool quick, bool json)
{
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
				double ios;

				if (run_one(sock, dev_pid, mode, bc, seconds, cr->hist[m],
					    &res[m]))
					return -1;
				ios = (double)(res[m].reads + res[m].writes);
				cr->iops[m][r] = res[m].iops;
				cr->mib_s[m][r] = res[m].mib_s;
				cr->p50_us[m][r] = res[m].lat.p50_us;
				cr->cpu_io[m][r] = (double)res[m].cpu_ns / ios;
				cr->dev_cpu_io[m][r] = (double)res[m].dev_cpu_ns / ios;
				cr->bounced[m] += res[m].bounced_to_device +
						  res[m].bounced_from_device;
				cr->slot_parts[m] += res[m].drv.slot_parts;
			}
			cr->ratio[r] = res[1].iops > 0 ? res[0].iops / res[1].iops : 0;
			cr->tax[r] = cr->cpu_io[0][r] - cr->cpu_io[1][r];
			cr->floor_ns[r] = measure_floor(bc, quick);
			cr->tax_floor[r] = cr->floor_ns[r] > 0 ?
					   cr->tax[r] / cr->floor_ns[r] : 0;
			if (!json)
				fprintf(stderr, "  %s %-22s round %u: CPU/IO %.0f ns "
						"confidential, %.0f direct, tax %.0f ns = "
						"%.2f x floor %.0f ns; throughput ratio %.3f\n",
					br->name, bc->name, r + 1, cr->cpu_io[0][r],
					cr->cpu_io[1][r], cr->tax[r], cr->tax_floor[r],
					cr->floor_ns[r], cr->ratio[r]);
		}
		if (!cr->bounced[0]) {
			fprintf(stderr, "ccdma-bench blk: %s %s: confidential mode "
					"bounced nothing\n", br->name, bc->name);
			internal_errors++;
		}
		if (cr->bounced[1] || cr->slot_parts[1]) {
			fprintf(stderr, "ccdma-bench blk: %s %s: direct mode bounced "
					"%llu bytes\n", br->name, bc->name,
				(unsigned long long)cr->bounced[1]);
			internal_errors++;
		}
	}
	br->ran = true;
	return 0;
}

/* A scaling run's figures into its round's IOPS and CPU per I/O and the
 * largest peak and wait; -1 (an internal error, after a message saying
 * "NAME scaling, N WHAT") when it failed or completed no I/O. */
static int scale_take(const struct blkjob_result *tot, int rc, const char *name,
		      const char *what, unsigned n, double *iops, double *cpu_io,
		      uint64_t *peak, uint64_t *wait)
{
	double ios = rc ? 0 : (double)(tot->reads + tot->writes);

	if (rc || !(ios > 0)) {
		fprintf(stderr, "ccdma-bench blk: %s scaling, %u %s: %s\n", name, n,
			what, rc ? strerror(-rc) : "no I/O completed");
		internal_errors++;
		return -1;
	}
	*iops = tot->iops;
	*cpu_io = (double)tot->cpu_ns / ios;
	if (tot->pool.shared_high_water > *peak)
		*peak = tot->pool.shared_high_water;
	if (tot->pool.wait_max_ns > *wait)
		*wait = tot->pool.wait_max_ns;
	return 0;
}

/* The scaling case on one back-end: each round, 1, 2 and 4 jobs, each on
 * a fresh connection (so the pool's peak and longest wait are the run's). */
static int run_scale(struct scale_result *sr, const char *sock, unsigned rounds,
		     double seconds, bool json, const char *name)
{
	struct blkjob_result per[4], tot;

	for (unsigned r = 0; r < rounds; r++) {
		for (unsigned k = 0; k < SCALE_N; k++) {
			struct ccdma_vblk_config vcfg;
			struct blkjob_opts o;
			struct blkjob_dev d;
			int rc;

			ccdma_vblk_config_init(&vcfg);
			vcfg.num_queues = scale_jobs[k];
			vcfg.poll_ns = poll_us * 1000u;
			vcfg.slot_size = slot_size;
			if (blkjob_open(&d, sock, CCDMA_MODE_CONFIDENTIAL, &vcfg, NULL))
				return -1;
			blkjob_opts_init(&o);
			o.rw = BLKJOB_RANDREAD;
			o.bs = 4096;
			o.iodepth = SCALE_QD;
			o.runtime_s = seconds;
			rc = blkjob_run_many(&d, &o, scale_jobs[k], per, &tot);
			blkjob_close(&d);
			if (scale_take(&tot, rc, name, "jobs", scale_jobs[k],
				       &sr->iops[k][r], &sr->cpu_io[k][r],
				       &sr->pool_peak[k], &sr->wait_max_ns[k]))
				return -1;
			if (!json)
				fprintf(stderr, "  %s scaling %u job(s) round %u: %.0f IOPS, "
						"CPU/IO %.0f ns\n", name, scale_jobs[k],
					r + 1, sr->iops[k][r], sr->cpu_io[k][r]);
		}
	}
	sr->ran = true;
	return 0;
}

/* Bytes in flight at step k: SCALE_QD 4 KiB requests per job. */
static double in_flight(const struct scale_result *sr, unsigned k)
{
	return (double)sr->counts[k] * SCALE_QD * 4096;
}

/* A scaling case's figures as object `name`, one member "<what>_<n>"
 * per step (with slot_bytes when `slots`). */
static void emit_scale(struct bench_json *j, const struct scale_result *sr,
		       const char *name, const char *what, bool slots,
		       unsigned rounds)
{
	bench_json_obj(j, name);
	for (unsigned k = 0; sr->ran && k < SCALE_N; k++) {
		char key[24];

		snprintf(key, sizeof(key), "%s_%u", what, sr->counts[k]);
		bench_json_obj(j, key);
		bench_json_num(j, "iops", bench_median(sr->iops[k], rounds));
		bench_json_num(j, "cpu_per_io_ns", bench_median(sr->cpu_io[k], rounds));
		bench_json_u64(j, "pool_peak_bytes", sr->pool_peak[k]);
		bench_json_num(j, "bytes_in_flight", in_flight(sr, k));
		if (slots)
			bench_json_u64(j, "slot_bytes", sr->slot_bytes[k]);
		bench_json_u64(j, "alloc_wait_max_ns", sr->wait_max_ns[k]);
		bench_json_end(j);
	}
	bench_json_end(j);
}

/* One count of the devices case: n devices of `socks` on a fresh pool,
 * one job each.  0, or -1 after a message (an internal error). */
static int run_devs_once(struct scale_result *dr, unsigned k, unsigned r,
			 const char *const *socks, double seconds, bool json)
{
	unsigned n = scale_devs[k], opened = 0;
	struct blkjob_dev d[DEVS_MAX], *dp[DEVS_MAX];
	struct blkjob_result per[DEVS_MAX], tot;
	struct ccdma_vblk_config vcfg;
	struct ccdma_pool_config pc;
	struct ccdma_pool *pool;
	struct blkjob_opts o;
	int rc;

	ccdma_pool_config_init(&pc);
	pc.name = "bench-devs";
	pc.region_size = 1u << 20;
	pc.initial_bytes = 0;
	pc.max_bytes = 30u << 20;
	rc = ccdma_pool_create(&pc, &pool);
	if (rc) {
		fprintf(stderr, "ccdma-bench blk: devices case: no pool: %s\n",
			strerror(-rc));
		internal_errors++;
		return -1;
	}
	ccdma_vblk_config_init(&vcfg);
	vcfg.num_queues = 1;
	vcfg.poll_ns = poll_us * 1000u;
	vcfg.slot_size = slot_size;
	for (; opened < n; opened++) {
		if (blkjob_open_shared(&d[opened], socks[opened],
				       CCDMA_MODE_CONFIDENTIAL, &vcfg, pool))
			break;
		dp[opened] = &d[opened];
	}
	rc = opened < n ? -ENODEV : 0;
	if (!rc) {
		blkjob_opts_init(&o);
		o.rw = BLKJOB_RANDREAD;
		o.bs = 4096;
		o.iodepth = SCALE_QD;
		o.runtime_s = seconds;
		rc = blkjob_run_devs(dp, n, &o, 1, per, NULL, &tot);
	}
	while (opened)
		blkjob_close(&d[--opened]);
	ccdma_pool_destroy(pool);
	if (scale_take(&tot, rc, "devsim", "devices", n, &dr->iops[k][r],
		       &dr->cpu_io[k][r], &dr->pool_peak[k], &dr->wait_max_ns[k]))
		return -1;
	if (tot.drv.slot_bytes > dr->slot_bytes[k])
		dr->slot_bytes[k] = tot.drv.slot_bytes;
	if (!json)
		fprintf(stderr, "  devices case %u device(s) round %u: %.0f IOPS, "
				"CPU/IO %.0f ns, pool peak %.1f MiB\n", n, r + 1,
			dr->iops[k][r], dr->cpu_io[k][r],
			(double)tot.pool.shared_high_water / 1048576.0);
	return 0;
}

/* The devices case: DEVS_MAX ccdma-devsim processes started once, then
 * each round 1, 4 and 16 of them on a fresh pool. */
static void run_devs_case(struct scale_result *dr, const char *devsim,
			  unsigned rounds, double seconds, bool json)
{
	static struct blkjob_proc procs[DEVS_MAX];
	const char *socks[DEVS_MAX];
	unsigned started = 0;

	if (!json)
		fprintf(stderr, "ccdma-bench blk: devices (%u ccdma-devsim on one "
				"pool)\n", DEVS_MAX);
	for (; started < DEVS_MAX; started++) {
		if (blkjob_devsim_start(&procs[started], devsim, 32ull << 20, NULL))
			break;
		socks[started] = procs[started].sock;
	}
	if (started < DEVS_MAX) {
		fprintf(stderr, "ccdma-bench blk: devices case: started %u of %u "
				"ccdma-devsim\n", started, DEVS_MAX);
		internal_errors++;
	}
	for (unsigned r = 0; started == DEVS_MAX && r < rounds; r++)
		for (unsigned k = 0; k < SCALE_N; k++)
			if (run_devs_once(dr, k, r, socks, seconds, json))
				goto out;
	dr->ran = started == DEVS_MAX;
out:
	while (started)
		blkjob_devsim_stop(&procs[--started]);
}

/* The worst of the scaling targets' figures over the back-ends that ran. */
static void scale_worst(const struct scale_result *sr, unsigned nb, unsigned rounds,
			double *cpu_ratio, double *wait_max, double *peak_ratio)
{
	*cpu_ratio = *wait_max = *peak_ratio = 0;
	for (unsigned b = 0; b < nb; b++) {
		double c1, c4;

		if (!sr[b].ran)
			continue;
		c1 = bench_median(sr[b].cpu_io[0], rounds);
		c4 = bench_median(sr[b].cpu_io[SCALE_N - 1], rounds);
		if (c1 > 0 && c4 / c1 > *cpu_ratio)
			*cpu_ratio = c4 / c1;
		for (unsigned k = 0; k < SCALE_N; k++) {
			if ((double)sr[b].wait_max_ns[k] > *wait_max)
				*wait_max = (double)sr[b].wait_max_ns[k];
			if ((double)sr[b].pool_peak[k] / in_flight(&sr[b], k) >
			    *peak_ratio)
				*peak_ratio = (double)sr[b].pool_peak[k] /
					      in_flight(&sr[b], k);
		}
	}
}

/* The worst tax_vs_floor median of the untouched cases of `bs` bytes, and
 * the smallest throughput ratio of the touched ones, over the back-ends
 * that ran. */
static double worst_tax(const struct backend_result *br, unsigned nb, uint32_t bs,
			unsigned rounds)
{
	double w = 0;

	for (unsigned b = 0; b < nb; b++)
		for (unsigned k = 0; br[b].ran && k < NCASES; k++)
			if (cases[k].bs == bs && !cases[k].touch &&
			    bench_median(br[b].c[k].tax_floor, rounds) > w)
				w = bench_median(br[b].c[k].tax_floor, rounds);
	return w;
}

static double touched_min(const struct backend_result *br, unsigned nb,
			  unsigned rounds)
{
	double w = -1;

	for (unsigned b = 0; b < nb; b++)
		for (unsigned k = 0; br[b].ran && k < NCASES; k++)
			if (cases[k].touch &&
			    (w < 0 || bench_median(br[b].c[k].ratio, rounds) < w))
				w = bench_median(br[b].c[k].ratio, rounds);
	return w;
}

static void emit_backend(struct bench_json *j, const struct backend_result *br,
			 unsigned rounds)
{
	bench_json_obj(j, br->name);
	for (unsigned k = 0; k < NCASES; k++) {
		const struct case_result *cr = &br->c[k];

		bench_json_obj(j, cases[k].name);
		bench_json_num(j, "cpu_per_io_ns_confidential",
			       bench_median(cr->cpu_io[0], rounds));
		bench_json_num(j, "cpu_per_io_ns_direct", bench_median(cr->cpu_io[1], rounds));
		bench_json_num(j, "dev_cpu_per_io_ns_confidential",
			       bench_median(cr->dev_cpu_io[0], rounds));
		bench_json_num(j, "dev_cpu_per_io_ns_direct",
			       bench_median(cr->dev_cpu_io[1], rounds));
		bench_json_num(j, "tax_ns", bench_median(cr->tax, rounds));
		bench_json_num(j, "floor_ns", bench_median(cr->floor_ns, rounds));
		bench_json_num(j, "tax_vs_floor", bench_median(cr->tax_floor, rounds));
		bench_json_num(j, "tax_vs_floor_min", bench_min(cr->tax_floor, rounds));
		bench_json_num(j, "tax_vs_floor_max", bench_max(cr->tax_floor, rounds));
		bench_json_num(j, "iops_confidential", bench_median(cr->iops[0], rounds));
		bench_json_num(j, "iops_direct", bench_median(cr->iops[1], rounds));
		bench_json_num(j, "mib_s_confidential", bench_median(cr->mib_s[0], rounds));
		bench_json_num(j, "mib_s_direct", bench_median(cr->mib_s[1], rounds));
		bench_json_num(j, "p50_us_confidential", bench_median(cr->p50_us[0], rounds));
		bench_json_num(j, "p50_us_direct", bench_median(cr->p50_us[1], rounds));
		bench_json_num(j, "throughput_ratio", bench_median(cr->ratio, rounds));
		bench_json_u64(j, "slot_parts", cr->slot_parts[0]);
		bench_json_end(j);
	}
	bench_json_end(j);
}

static void print_backend(const struct backend_result *br, unsigned rounds)
{
	printf("%s (CPU ns per I/O, medians of %u round(s); tax = confidential - "
	       "direct)\n", br->name, rounds);
	printf("  %-23s %9s %9s %9s %9s %9s %13s %9s %9s\n", "case", "conf", "direct",
	       "tax", "floor", "tax/floor", "(min-max)", "dev conf", "tput");
	for (unsigned k = 0; k < NCASES; k++) {
		const struct case_result *cr = &br->c[k];

		printf("  %-23s %9.0f %9.0f %9.0f %9.0f %9.2f %6.2f-%-6.2f %9.0f %9.3f\n",
		       cases[k].name, bench_median(cr->cpu_io[0], rounds),
		       bench_median(cr->cpu_io[1], rounds), bench_median(cr->tax, rounds),
		       bench_median(cr->floor_ns, rounds),
		       bench_median(cr->tax_floor, rounds), bench_min(cr->tax_floor, rounds),
		       bench_max(cr->tax_floor, rounds),
		       bench_median(cr->dev_cpu_io[0], rounds),
		       bench_median(cr->ratio, rounds));
	}
}

/* --plot DIR, a back-end's latency distributions: per case one block of
 * rows "lower_bound_us pct_confidential pct_direct" (the share of the
 * I/Os of all rounds in each step of a quarter of a power of two, from
 * the first step either mode used to the last), drawn in a grid of one
 * panel per case. */
#define LAT_MERGE 4  /* histogram buckets per step of the plot */

static void plot_latency(const char *dir, const struct backend_result *br,
			 unsigned rounds)
{
	char name[64], script[4096];
	struct bench_plot p;
	size_t off;

	snprintf(name, sizeof(name), "blk-%s-latency", br->name);
	if (bench_plot_open(&p, dir, name))
		return;
	fprintf(p.dat, "# per case (gnuplot index = case number): lower_bound_us "
		       "pct_confidential pct_direct (I/Os of %u round(s))\n", rounds);
	for (unsigned k = 0; k < NCASES; k++) {
		const struct case_result *cr = &br->c[k];
		uint64_t n[2] = { 0, 0 };
		unsigned lo = BLKJOB_HIST_N, hi = 0;

		for (unsigned i = 0; i < BLKJOB_HIST_N; i++)
			for (unsigned m = 0; m < 2; m++)
				if (cr->hist[m][i]) {
					n[m] += cr->hist[m][i];
					lo = i < lo ? i : lo;
					hi = i;
				}
		fprintf(p.dat, "# %s\n", cases[k].name);
		lo -= lo % LAT_MERGE;
		for (unsigned i = lo; i <= hi && hi < BLKJOB_HIST_N; i += LAT_MERGE) {
			uint64_t c[2] = { 0, 0 };

			for (unsigned m = 0; m < 2; m++)
				for (unsigned s = i; s < i + LAT_MERGE; s++)
					c[m] += cr->hist[m][s];
			fprintf(p.dat, "%.3f %.3f %.3f\n", (double)blkjob_hist_ns(i) / 1000.0,
				n[0] ? 100.0 * (double)c[0] / (double)n[0] : 0,
				n[1] ? 100.0 * (double)c[1] / (double)n[1] : 0);
		}
		/* The end of the last step, so that `steps` draws it. */
		if (lo <= hi && hi + LAT_MERGE < BLKJOB_HIST_N)
			fprintf(p.dat, "%.3f 0 0\n",
				(double)blkjob_hist_ns(hi - hi % LAT_MERGE + LAT_MERGE) /
					1000.0);
		fprintf(p.dat, "\n\n");
	}
	off = (size_t)snprintf(script, sizeof(script),
			       "set multiplot layout 2,%u title \"ccdma-bench blk on %s: "
			       "latency of every I/O of %u round(s), confidential "
			       "(bounced) and direct\"\n"
			       "set logscale x\n"
			       "set format x \"%%.0s%%c\"\n"
			       "set xlabel \"latency, us\"\n"
			       "set ylabel \"%% of I/Os\"\n"
			       "set key inside top right\n",
			       (unsigned)(NCASES + 1) / 2, br->name, rounds);
	for (unsigned k = 0; k < NCASES && off < sizeof(script); k++)
		off += (size_t)snprintf(script + off, sizeof(script) - off,
					"set title \"%s\"\n"
					"plot \"%s.dat\" index %u using 1:2 with steps lw 2 "
					"title \"confidential\", \"\" index %u using 1:3 "
					"with steps lw 2 title \"direct\"\n%s",
					cases[k].name, name, k, k, k ? "" : "unset key\n");
	p.width = 1200;
	p.height = 560;
	bench_plot_draw(&p, name, "%s", script);
}

/* --plot DIR: per back-end, CPU per I/O of both modes beside direct +
 * the floor (what a bounce that costs only the copy would give), and the
 * latency distributions; and the tax over the floor of every case
 * against the target. */
static void plot_blk(const char *dir, const struct backend_result *br,
		     unsigned rounds)
{
	struct bench_plot p;

	for (unsigned b = 0; b < 2; b++) {
		char name[64];

		if (!br[b].ran)
			continue;
		snprintf(name, sizeof(name), "blk-%s-cpu", br[b].name);
		if (bench_plot_open(&p, dir, name))
			return;
		fprintf(p.dat, "# case confidential direct direct+floor (CPU ns per I/O, medians)\n");
		for (unsigned k = 0; k < NCASES; k++) {
			const struct case_result *cr = &br[b].c[k];

			fprintf(p.dat, "%s %.0f %.0f %.0f\n", cases[k].name,
				bench_median(cr->cpu_io[0], rounds),
				bench_median(cr->cpu_io[1], rounds),
				bench_median(cr->cpu_io[1], rounds) +
					bench_median(cr->floor_ns, rounds));
		}
		bench_plot_draw(&p, "ccdma-bench blk, CPU per I/O of the driver",
				"set style data histograms\n"
				"set style histogram clustered gap 1\n"
				"set style fill solid 0.8 border -1\n"
				"set xtics rotate by -30\n"
				"set logscale y\n"
				"set ylabel \"CPU ns per I/O (median of %u rounds)\"\n"
				"plot \"%s.dat\" using 2:xtic(1) title \"confidential\", "
				"\"\" using 3 title \"direct\", "
				"\"\" using 4 title \"direct + the copy floor\"\n",
				rounds, name);
		plot_latency(dir, &br[b], rounds);
	}
	if (bench_plot_open(&p, dir, "blk-tax"))
		return;
	fprintf(p.dat, "# case qsd_null devsim (tax_vs_floor, medians; 0 for a back-end not run)\n");
	for (unsigned k = 0; k < NCASES; k++)
		fprintf(p.dat, "%s %.3f %.3f\n", cases[k].name,
			br[0].ran ? bench_median(br[0].c[k].tax_floor, rounds) : 0,
			br[1].ran ? bench_median(br[1].c[k].tax_floor, rounds) : 0);
	bench_plot_draw(&p, "ccdma-bench blk, the bounce tax in copies (target <= 1.2)",
			"set style data histograms\n"
			"set style histogram clustered gap 1\n"
			"set style fill solid 0.8 border -1\n"
			"set xtics rotate by -30\n"
			"set ylabel \"(CPU/IO confidential - direct) / cross-core copy\"\n"
			"plot \"blk-tax.dat\" using 2:xtic(1) title \"qemu-storage-daemon\", "
			"\"\" using 3 title \"ccdma-devsim\", 1.2 with lines lw 2 "
			"title \"target\"\n");
}

int bench_blk_main(int argc, char **argv)
{
	static struct backend_result br[2] = { { .name = "qsd_null" },
					       { .name = "devsim" } };
	static struct scale_result sr[2] = { { .counts = scale_jobs },
					     { .counts = scale_jobs } };
	static struct scale_result dr = { .counts = scale_devs };
	double dev_cpu, dev_wait, dev_peak;
	static const char *const four_queues[] = { "--queues", "4", NULL };
	double scale_cpu, scale_wait, scale_peak;
	const char *qsd = NULL, *devsim = NULL, *only = NULL, *plot = NULL;
	bool json = false, quick = false;
	unsigned rounds = 0;
	double seconds = 0;
	struct blkjob_proc proc;
	struct bench_json j;
	double t4, t128, touched;

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
			i++;
			if (bench_opt_uint("ccdma-bench blk", a, v, 1, MAX_ROUNDS,
					   &rounds))
				return 2;
		} else if (v && !strcmp(a, "--seconds")) {
			i++;
			if (bench_opt_seconds("ccdma-bench blk", v, 60, &seconds))
				return 2;
		} else if (v && !strcmp(a, "--only")) {
			only = v;
			i++;
			if (strcmp(only, "devsim") && strcmp(only, "qsd")) {
				fprintf(stderr, "ccdma-bench blk: --only devsim|qsd\n");
				return 2;
			}
		} else if (v && !strcmp(a, "--slot-size")) {
			char *end;
			unsigned long sz = strtoul(v, &end, 0);

			i++;
			if (*end || sz > (4ul << 20)) {
				fprintf(stderr, "ccdma-bench blk: --slot-size 0..4194304\n");
				return 2;
			}
			slot_size = (uint32_t)sz;
		} else if (v && !strcmp(a, "--poll-us")) {
			poll_us = (unsigned)atoi(v);
			i++;
			if (poll_us > 100000) {
				fprintf(stderr, "ccdma-bench blk: --poll-us 0..100000\n");
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
			fprintf(stderr, "ccdma-bench blk: unknown option or missing "
					"value: '%s'\n", a);
			usage(stderr);
			return 2;
		}
	}
	if (!rounds)
		rounds = quick ? 1 : 5;
	if (!(seconds > 0))
		seconds = quick ? 0.1 : 1.0;
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
		/* Four queues for the scaling case; the other cases use one. */
		rc = is_qsd ? blkjob_qsd_start(&proc, qsd, 1ull << 30, 4) :
			      blkjob_devsim_start(&proc, devsim, 256ull << 20,
						  four_queues);
		if (rc) {
			fprintf(stderr, "ccdma-bench blk: cannot start %s\n", br[b].name);
			internal_errors++;
			continue;
		}
		if (!run_backend(&br[b], proc.sock, proc.pid, rounds, seconds, quick,
				 json))
			run_scale(&sr[b], proc.sock, rounds, seconds, json, br[b].name);
		blkjob_devsim_stop(&proc);
	}

	if (!only || !strcmp(only, "devsim"))
		run_devs_case(&dr, devsim, rounds, seconds, json);
	scale_worst(&dr, 1, rounds, &dev_cpu, &dev_wait, &dev_peak);

	if (plot)
		plot_blk(plot, br, rounds);
	t4 = worst_tax(br, 2, 4096, rounds);
	t128 = worst_tax(br, 2, 131072, rounds);
	touched = touched_min(br, 2, rounds);
	scale_worst(sr, 2, rounds, &scale_cpu, &scale_wait, &scale_peak);
	if (json) {
		bench_json_begin(&j, stdout);
		bench_json_obj(&j, NULL);
		bench_json_u64(&j, "rounds", rounds);
		bench_json_num(&j, "seconds_per_run", seconds);
		bench_json_u64(&j, "poll_us", poll_us);
		bench_json_u64(&j, "slot_size", slot_size);
		for (unsigned b = 0; b < 2; b++)
			if (br[b].ran)
				emit_backend(&j, &br[b], rounds);
		bench_json_num(&j, "tax_vs_floor_4k", t4);
		bench_json_num(&j, "tax_vs_floor_128k", t128);
		bench_json_num(&j, "touched_ratio_min", touched);
		bench_json_obj(&j, "scaling");
		for (unsigned b = 0; b < 2; b++)
			if (sr[b].ran)
				emit_scale(&j, &sr[b], br[b].name, "jobs", false,
					   rounds);
		bench_json_end(&j);
		bench_json_num(&j, "scale_cpu_4q_vs_1q", scale_cpu);
		bench_json_num(&j, "scale_alloc_wait_max_ns", scale_wait);
		bench_json_num(&j, "scale_pool_peak_vs_in_flight", scale_peak);
		emit_scale(&j, &dr, "scaling_devices", "devices", true, rounds);
		bench_json_num(&j, "scale_cpu_16dev_vs_1dev", dev_cpu);
		bench_json_num(&j, "scale_dev_alloc_wait_max_ns", dev_wait);
		bench_json_num(&j, "scale_dev_pool_peak_vs_in_flight", dev_peak);
		bench_json_obj(&j, "targets");
		bench_json_num(&j, "tax_vs_floor_max", 1.2);
		bench_json_num(&j, "touched_ratio_min", 0.95);
		bench_json_num(&j, "scale_cpu_4q_vs_1q", 1.2);
		bench_json_num(&j, "scale_alloc_wait_max_ns", 10e6);
		bench_json_num(&j, "scale_pool_peak_vs_in_flight", 1.3);
		bench_json_num(&j, "scale_cpu_16dev_vs_1dev", 1.2);
		bench_json_num(&j, "scale_dev_alloc_wait_max_ns", 10e6);
		bench_json_num(&j, "scale_dev_pool_peak_vs_in_flight", 1.3);
		bench_json_end(&j);
		bench_json_u64(&j, "internal_errors", (uint64_t)internal_errors);
		bench_json_end(&j);
		fputc('\n', stdout);
	} else {
		for (unsigned b = 0; b < 2; b++)
			if (br[b].ran)
				print_backend(&br[b], rounds);
		printf("tax_vs_floor_4k %.2f, tax_vs_floor_128k %.2f (target <= 1.2; "
		       "the worst over back-ends, directions, depths)\n", t4, t128);
		printf("touched_ratio_min %.3f (target >= 0.95; throughput, the "
		       "application using its data)\n", touched);
		for (unsigned b = 0; b < 2; b++)
			for (unsigned k = 0; sr[b].ran && k < SCALE_N; k++)
				printf("%s scaling, %u job(s): %.0f IOPS, CPU/IO %.0f ns, "
				       "pool peak %.1f MiB for %.2f MiB in flight, "
				       "longest wait %.3f ms\n", br[b].name,
				       scale_jobs[k], bench_median(sr[b].iops[k], rounds),
				       bench_median(sr[b].cpu_io[k], rounds),
				       (double)sr[b].pool_peak[k] / 1048576.0,
				       in_flight(&sr[b], k) / 1048576.0,
				       (double)sr[b].wait_max_ns[k] / 1e6);
		printf("scale_cpu_4q_vs_1q %.2f (target <= 1.2), longest allocation "
		       "wait %.3f ms (target <= 10), pool peak / in flight %.1f "
		       "(target <= 1.3)\n", scale_cpu, scale_wait / 1e6, scale_peak);
		for (unsigned k = 0; dr.ran && k < SCALE_N; k++)
			printf("devices scaling, %u device(s) on one pool: %.0f IOPS, "
			       "CPU/IO %.0f ns, pool peak %.1f MiB (slots %.1f MiB) "
			       "for %.2f MiB in flight, longest wait %.3f ms\n",
			       scale_devs[k], bench_median(dr.iops[k], rounds),
			       bench_median(dr.cpu_io[k], rounds),
			       (double)dr.pool_peak[k] / 1048576.0,
			       (double)dr.slot_bytes[k] / 1048576.0,
			       in_flight(&dr, k) / 1048576.0,
			       (double)dr.wait_max_ns[k] / 1e6);
		if (dr.ran)
			printf("scale_cpu_16dev_vs_1dev %.2f (target <= 1.2), longest "
			       "allocation wait %.3f ms (target <= 10), pool peak / "
			       "in flight %.1f (target <= 1.3)\n", dev_cpu,
			       dev_wait / 1e6, dev_peak);
		if (internal_errors)
			printf("internal errors: %d\n", internal_errors);
	}
	return internal_errors ? 1 : 0;
}
