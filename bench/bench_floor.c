/* SPDX-License-Identifier: MIT */
/*
 * ccdma-bench floor: the copy the hardware must do, measured.
 *
 * A bounce is a copy between shared memory that a device touches on one
 * core and private memory the driver uses on another.  Whatever a bounce
 * engine does beyond that copy is its tax; this subcommand measures the
 * copy alone, so other figures can be read against it (DESIGN.md, "bounce
 * tax").  Two threads pinned to two different CPUs play the device and the
 * driver over one buffer of the bounce pool (shared memory):
 *
 *   out    the device thread fills the shared buffer; the driver thread
 *          then copies it into private memory (device-to-memory: a read);
 *   in     the device thread reads the whole shared buffer; the driver
 *          thread then copies private memory into it (memory-to-device: a
 *          write into lines the other core holds);
 *   dev_write_after_read   the device's own fill of the buffer the driver
 *          has just copied out (it must take the lines back);
 *   dev_read_after_write   the device's own read of the buffer the driver
 *          has just copied in;
 *   in_nt, dev_read_after_nt   the same two with non-temporal stores for
 *          the copy in (x86-64; memcpy elsewhere): a candidate for the copy
 *          towards the device, which the library does not use (measured in
 *          the I/O path, docs/performance.md);
 *   hot    the same copy with both buffers in the driver's cache.
 *
 * Every figure is the median, over many transfers, of the time one thread
 * spends in one copy (the other thread waits); the cost of reading the
 * clock, measured in the same run, is subtracted.  A thread that copies
 * runs on its CPU for the whole interval, so these are CPU times per copy.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <ccdma/platform.h>
#include <ccdma/pool.h>

#include "bench.h"
#include "platform/os.h" /* ccdma_copy_nt */

static const size_t floor_sizes[] = { 4096, 131072 };
#define NSIZES (sizeof(floor_sizes) / sizeof(floor_sizes[0]))

enum fig { F_HOT, F_OUT, F_IN, F_DEV_WRITE, F_DEV_READ, F_IN_NT, F_DEV_READ_NT,
	   NFIG };

static const char *const fig_key[NFIG] = {
	"hot_ns", "out_cross_ns", "in_cross_ns",
	"dev_write_after_read_ns", "dev_read_after_write_ns",
	"in_nt_cross_ns", "dev_read_after_nt_ns",
};
static const char *const fig_text[NFIG] = {
	"copy, both buffers in this core's cache",
	"copy out: shared (just written on the other core) -> private",
	"copy in: private -> shared (just read on the other core)",
	"device fills shared lines the driver just read",
	"device reads shared lines the driver just wrote",
	"copy in with non-temporal stores (x86-64; memcpy elsewhere)",
	"device reads shared lines written that way",
};

struct floor_run {
	/* Transfer i uses buffer pair i % depth: one pool buffer and the
	 * driver's private one.  depth > 1 makes the working set that of
	 * `depth` requests in flight (the lines of a pair were last touched
	 * depth transfers ago, and may have left the caches since). */
	unsigned char **shared;
	unsigned char **priv;
	unsigned depth;
	unsigned char *dev_priv;        /* the device's own memory */
	size_t len;
	unsigned n;                     /* transfers per direction */
	int cpu_dev, cpu_drv;           /* -1: not pinned */
	uint64_t clock_ns;              /* subtracted from every figure */
	uint64_t *t[NFIG];              /* per-transfer ns */
	_Atomic unsigned turn;          /* the step whose move is next */
	atomic_bool failed;
};

/* Wait until step `step` is the next move. */
static bool wait_turn(struct floor_run *r, unsigned step)
{
	unsigned spins = 0;

	while (atomic_load_explicit(&r->turn, memory_order_acquire) != step) {
		if (atomic_load_explicit(&r->failed, memory_order_relaxed))
			return false;
		if (++spins % 1024 == 0)
			sched_yield();   /* one CPU, or a busy machine */
	}
	return true;
}

static void pass_turn(struct floor_run *r, unsigned step)
{
	atomic_store_explicit(&r->turn, step + 1, memory_order_release);
}

static void pin(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	/* Unpinned on failure: the figures are then a scheduler's choice. */
	(void)pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static uint64_t timed_ns(uint64_t t0, uint64_t clock_ns)
{
	uint64_t dt = bench_now_ns() - t0;

	return dt > clock_ns ? dt - clock_ns : 0;
}

/* A copy into lines another core read last, without first taking each
 * line back: the library's non-temporal copy (memcpy where it has none). */
static void copy_nt(void *dst, const void *src, size_t n)
{
#ifdef CCDMA_HAVE_NT_COPY
	ccdma_copy_nt(dst, src, n);
#else
	memcpy(dst, src, n);
#endif
}

/* The byte every transfer i carries: a fill by the device, or the
 * driver's private data. */
static unsigned char out_byte(unsigned i) { return (unsigned char)(i * 7 + 1); }
static unsigned char in_byte(unsigned i) { return (unsigned char)(i * 5 + 3); }

/*
 * Three phases of n transfers, one move each per transfer (transfer i on
 * buffer pair i % depth):
 *   the read path:  step 2i the device fills buffer i + depth - 1 (F_DEV_WRITE:
 *                   the driver copied it out last), step 2i+1 the driver
 *                   copies buffer i out (F_OUT): filled depth - 1 transfers
 *                   ago, as a request completes behind depth - 1 others;
 *   the write path: step 2n+2i the driver copies in (F_IN: the device read
 *                   it last), step 2n+2i+1 the device reads it (F_DEV_READ);
 *   the same with non-temporal stores: steps 4n+2i (F_IN_NT) and 4n+2i+1
 *                   (F_DEV_READ_NT).
 * Transfer 0 of each phase follows something else and is not counted.
 */
static void *device_thread(void *arg)
{
	struct floor_run *r = arg;
	uint64_t t0;

	pin(r->cpu_dev);
	/* The device runs depth - 1 transfers ahead of the driver: what the
	 * driver copies out was filled that many transfers before. */
	for (unsigned i = 0; i + 1 < r->depth; i++)
		memset(r->shared[i], out_byte(i), r->len);
	for (unsigned i = 0; i < r->n; i++) {
		unsigned ahead = i + r->depth - 1;

		if (!wait_turn(r, 2 * i))
			return NULL;
		t0 = bench_now_ns();
		memset(r->shared[ahead % r->depth], out_byte(ahead), r->len);
		BENCH_CLOBBER(r->shared[ahead % r->depth]);
		r->t[F_DEV_WRITE][i] = timed_ns(t0, r->clock_ns);
		pass_turn(r, 2 * i);
	}
	for (unsigned k = 0; k < 2 * r->n; k++) {
		unsigned i = k % r->n, step = 2 * r->n + 2 * k + 1;

		if (!wait_turn(r, step))
			return NULL;
		t0 = bench_now_ns();
		memcpy(r->dev_priv, r->shared[k % r->depth], r->len);
		BENCH_CLOBBER(r->dev_priv);
		r->t[k < r->n ? F_DEV_READ : F_DEV_READ_NT][i] = timed_ns(t0, r->clock_ns);
		if (r->dev_priv[0] != in_byte(k) || r->dev_priv[r->len - 1] != in_byte(k))
			atomic_store(&r->failed, true);
		pass_turn(r, step);
	}
	return NULL;
}

static void driver_steps(struct floor_run *r)
{
	uint64_t t0;

	for (unsigned i = 0; i < r->n; i++) {
		if (!wait_turn(r, 2 * i + 1))
			return;
		unsigned char *p = r->priv[i % r->depth];

		t0 = bench_now_ns();
		memcpy(p, r->shared[i % r->depth], r->len);
		BENCH_CLOBBER(p);
		r->t[F_OUT][i] = timed_ns(t0, r->clock_ns);
		if (p[0] != out_byte(i) || p[r->len - 1] != out_byte(i))
			atomic_store(&r->failed, true);
		pass_turn(r, 2 * i + 1);
	}
	for (unsigned k = 0; k < 2 * r->n; k++) {
		unsigned i = k % r->n, step = 2 * r->n + 2 * k;
		unsigned char *p = r->priv[k % r->depth], *sh = r->shared[k % r->depth];

		memset(p, in_byte(k), r->len);
		if (!wait_turn(r, step))
			return;
		t0 = bench_now_ns();
		if (k < r->n)
			memcpy(sh, p, r->len);
		else
			copy_nt(sh, p, r->len);
		BENCH_CLOBBER(sh);
		r->t[k < r->n ? F_IN : F_IN_NT][i] = timed_ns(t0, r->clock_ns);
		pass_turn(r, step);
	}
}

/* The median cost of reading the clock twice, in this run. */
static uint64_t clock_cost_ns(void)
{
	double v[64];

	for (int k = 0; k < 64; k++) {
		uint64_t best = UINT64_MAX;

		for (int i = 0; i < 64; i++) {
			uint64_t t0 = bench_now_ns(), dt = bench_now_ns() - t0;

			if (dt < best)
				best = dt;
		}
		v[k] = (double)best;
	}
	return (uint64_t)bench_median(v, 64);
}

static double median_u64(const uint64_t *t, unsigned n)
{
	double *v = malloc(n * sizeof(*v)), m;

	if (!v)
		return -1;
	for (unsigned i = 0; i < n; i++)
		v[i] = (double)t[i];
	m = bench_median(v, n);
	free(v);
	return m;
}

/* Two CPUs this process may run on, or -1, -1. */
static void pick_cpus(int *a, int *b)
{
	cpu_set_t set;

	*a = *b = -1;
	if (sched_getaffinity(0, sizeof(set), &set))
		return;
	for (int c = 0; c < CPU_SETSIZE && *b < 0; c++) {
		if (!CPU_ISSET(c, &set))
			continue;
		if (*a < 0)
			*a = c;
		else
			*b = c;
	}
	if (*b < 0)
		*a = -1;
}

static int run_size(struct ccdma_pool *pool, size_t len, unsigned depth,
		    unsigned n, const int cpu[2], double fig[NFIG])
{
	struct floor_run r = { .len = len, .n = n, .clock_ns = clock_cost_ns(),
			       .cpu_dev = cpu[0], .cpu_drv = cpu[1],
			       .depth = depth ? depth : 1 };
	pthread_t dev;
	/* aligned_alloc wants a multiple of the alignment (64-byte frames). */
	size_t cap = (len + 4095) & ~(size_t)4095;
	unsigned d, got = 0;
	int rc = -ENOMEM;

	r.shared = calloc(r.depth, sizeof(*r.shared));
	r.priv = calloc(r.depth, sizeof(*r.priv));
	r.dev_priv = aligned_alloc(4096, cap);
	for (int f = 0; f < NFIG; f++)
		r.t[f] = calloc(n, sizeof(uint64_t));
	if (!r.shared || !r.priv || !r.dev_priv)
		goto out;
	for (int f = 0; f < NFIG; f++)
		if (!r.t[f])
			goto out;
	for (d = 0; d < r.depth; d++) {
		r.priv[d] = aligned_alloc(4096, cap);
		if (!r.priv[d])
			goto out;
		memset(r.priv[d], 1, len);
	}
	for (got = 0; got < r.depth; got++) {
		rc = ccdma_pool_alloc(pool, len, CCDMA_POOL_WAIT,
				      (void **)&r.shared[got]);
		if (rc)
			goto free_shared;
		memset(r.shared[got], 1, len);
	}
	memset(r.dev_priv, 1, len);

	/* Hot: the driver thread alone, both buffers in its cache. */
	pin(r.cpu_drv);
	for (unsigned i = 0; i < n; i++) {
		uint64_t t0 = bench_now_ns();

		memcpy(r.priv[0], r.shared[0], len);
		BENCH_CLOBBER(r.priv[0]);
		r.t[F_HOT][i] = timed_ns(t0, r.clock_ns);
	}

	rc = -pthread_create(&dev, NULL, device_thread, &r);
	if (rc)
		goto free_shared;
	driver_steps(&r);
	pthread_join(dev, NULL);
	if (atomic_load(&r.failed)) {
		fprintf(stderr, "ccdma-bench floor: a copy did not carry the pattern\n");
		rc = -EIO;
		goto free_shared;
	}
	/* Transfer 0 of each phase follows another phase. */
	for (int f = F_OUT; f < NFIG; f++)
		r.t[f][0] = r.t[f][n > 1 ? 1 : 0];
	for (int f = 0; f < NFIG; f++)
		fig[f] = median_u64(r.t[f], n);
	rc = 0;
free_shared:
	while (got)
		ccdma_pool_free(pool, r.shared[--got], len);
out:
	for (int f = 0; f < NFIG; f++)
		free(r.t[f]);
	for (d = 0; r.priv && d < r.depth; d++)
		free(r.priv[d]);
	free(r.priv);
	free(r.shared);
	free(r.dev_priv);
	return rc;
}

static int floor_pool(struct ccdma_pool **pool)
{
	struct ccdma_pool_config cfg;

	ccdma_pool_config_init(&cfg);
	cfg.name = "floor";
	cfg.initial_bytes = 4u << 20;
	return ccdma_pool_create(&cfg, pool);
}

int bench_floor_cross(size_t len, unsigned depth, unsigned n, double *out_ns,
		      double *in_ns)
{
	uint64_t cost = ccdma_share_cost_get_ns();
	struct ccdma_pool *pool;
	double fig[NFIG];
	int cpu[2], rc;
	cpu_set_t all;

	pick_cpus(&cpu[0], &cpu[1]);
	if (sched_getaffinity(0, sizeof(all), &all))
		CPU_ZERO(&all);
	ccdma_share_cost_set_ns(0);
	rc = floor_pool(&pool);
	ccdma_share_cost_set_ns(cost);
	if (rc)
		return rc;
	rc = run_size(pool, len, depth, n, cpu, fig);
	ccdma_pool_destroy(pool);
	if (CPU_COUNT(&all))
		(void)sched_setaffinity(0, sizeof(all), &all);
	if (rc)
		return rc;
	*out_ns = fig[F_OUT];
	*in_ns = fig[F_IN];
	return 0;
}

static void floor_usage(FILE *f)
{
	fprintf(f,
		"usage: ccdma-bench floor [--json] [--quick]\n"
		"  the cross-core copy a bounce must do, 4 KiB and 128 KiB, with the\n"
		"  device's own cost of touching lines the driver just used\n"
		"  --json   one JSON object on stdout\n"
		"  --quick  fewer transfers (a consistency run, not a measurement)\n");
}

int bench_floor_main(int argc, char **argv)
{
	double fig[NSIZES][NFIG];
	struct ccdma_pool *pool;
	bool json = false, quick = false, cross;
	int rc = bench_options(argc, argv, "floor", floor_usage, &json, &quick);
	int cpu[2];
	cpu_set_t all;

	if (rc >= 0)
		return rc;
	pick_cpus(&cpu[0], &cpu[1]);
	cross = cpu[1] >= 0;
	if (sched_getaffinity(0, sizeof(all), &all))
		CPU_ZERO(&all);
	ccdma_share_cost_set_ns(0);
	rc = floor_pool(&pool);
	if (rc) {
		fprintf(stderr, "ccdma-bench floor: pool: %s\n", strerror(-rc));
		return 1;
	}
	for (size_t s = 0; s < NSIZES; s++) {
		size_t len = floor_sizes[s];
		unsigned n = (unsigned)((quick ? 16u : 512u) * 1024 * 1024 / len / 16);

		if (n > 20000)
			n = 20000;
		rc = run_size(pool, len, 1, n, cpu, fig[s]);
		if (rc) {
			fprintf(stderr, "ccdma-bench floor: %zu bytes: %s\n", len, strerror(-rc));
			ccdma_pool_destroy(pool);
			return 1;
		}
	}
	ccdma_pool_destroy(pool);
	if (CPU_COUNT(&all))
		(void)sched_setaffinity(0, sizeof(all), &all);

	if (json) {
		struct bench_json j;

		bench_json_begin(&j, stdout);
		bench_json_obj(&j, NULL);
		bench_json_str(&j, "benchmark", "floor");
		bench_json_bool(&j, "cross_core", cross);
		for (size_t s = 0; s < NSIZES; s++) {
			char key[32];

			snprintf(key, sizeof(key), "copy_%zuk", floor_sizes[s] >> 10);
			bench_json_obj(&j, key);
			for (int f = 0; f < NFIG; f++)
				bench_json_num(&j, fig_key[f], fig[s][f]);
			bench_json_num(&j, "out_vs_hot", fig[s][F_OUT] / fig[s][F_HOT]);
			/* The write path with non-temporal stores against
			 * memcpy: the driver's copy, and copy plus the device's
			 * read. */
			bench_json_num(&j, "in_nt_vs_in", fig[s][F_IN_NT] / fig[s][F_IN]);
			bench_json_num(&j, "write_path_nt_vs_memcpy",
				       (fig[s][F_IN_NT] + fig[s][F_DEV_READ_NT]) /
				       (fig[s][F_IN] + fig[s][F_DEV_READ]));
			bench_json_end(&j);
		}
		bench_json_end(&j);
		printf("\n");
		return 0;
	}
	printf("the copy a bounce must do (median ns per copy%s)\n",
	       cross ? ", device and driver on two CPUs" :
		       "; ONE CPU: the cross-core figures are same-core figures");
	printf("  %-62s %10s %10s\n", "", "4 KiB", "128 KiB");
	for (int f = 0; f < NFIG; f++)
		printf("  %-62s %10.0f %10.0f\n", fig_text[f], fig[0][f], fig[1][f]);
	printf("  %-62s %10.2f %10.2f\n", "copy out / hot copy", fig[0][F_OUT] / fig[0][F_HOT],
	       fig[1][F_OUT] / fig[1][F_HOT]);
	return 0;
}
