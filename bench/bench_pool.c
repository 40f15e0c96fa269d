/* SPDX-License-Identifier: MIT */
/*
 * ccdma-bench pool: ccdma's bounce pool side by side with models of the
 * Linux swiotlb, OpenBSD SEV and FreeBSD bounce allocators (baselines/).
 *
 *  [1] fast path: 4 KiB alloc+free in a loop; median ns per pair (batches
 *      of pairs timed with CLOCK_MONOTONIC), then pairs/s with one and with
 *      two threads on the same pool -> fastpath_ns_median,
 *      two_thread_scaling.
 *  [2] the measured mix of DMA sizes, a steady number of allocations in
 *      flight, freed in random order.  With the default pool (grower on,
 *      WAIT 1 s): footprint_ratio = shared_high_water / peak requested
 *      bytes in flight.  Then every allocator gets the same fixed capacity
 *      X = 1.5 x that peak (rounded up to 4 MiB) and the same sequence
 *      with NOWAIT: frag_failures = failures while X - bytes in flight >=
 *      the request.
 *  [3] the Linux model's pool at 75% occupancy with churn, and ccdma's
 *      pool holding the same live set: median ns per 4 KiB alloc+free ->
 *      vs_linux_slot_75pct = Linux / ccdma.
 *  [4] NOWAIT on an exhausted pool (no grower, 4 MiB, filled with 4 KiB):
 *      each failing attempt timed -> nowait_worst_us, p99, p99.9; then
 *      with 1/16 of the pool free in 4 KiB holes, 64 KiB attempts.
 *  [5] pressure: a capped pool (no grower) held at 80% occupancy, in
 *      requested bytes, under the mix: allocate NOWAIT while below, free a
 *      random live allocation while above.  After every -ENOMEM,
 *      ccdma_pool_would_fit() says whether a free run of the pages the
 *      request needs, or a free slot of its class, existed ->
 *      pressure_failures (those; target 0), pressure_enomem (all),
 *      pressure_failure_rate = pressure_failures / allocations.
 *
 * Every byte range ccdma hands out gets a few bytes written.  The baselines
 * manage offsets only; in the timed runs they get a plain memory area of
 * the pool's size and the same bytes are written there.
 */
#define _POSIX_C_SOURCE 200809L

#include "bench.h"
#include "dma_mix.h"
#include "baselines.h"

#include <ccdma/platform.h>
#include <ccdma/pool.h>

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#define KIB ((size_t)1024)
#define MIB ((size_t)1024 * 1024)
#define TOUCH 16                      /* bytes written into each allocation */
#define SEED 0x5eedcc0d3a0b1e55ull
#define WAIT_NS 1000000000ull         /* WAIT bound: 1 s */
#define LINUX_CAP (256 * KIB)         /* Linux refuses more */

/* Targets of the design (DESIGN.md, "Performance targets"). */
#define T_FASTPATH_NS 50.0
#define T_VS_LINUX 5.0
#define T_SCALING 1.7
#define T_FOOTPRINT 1.3
#define T_FRAG 0
#define T_NOWAIT_US 20.0
#define T_PRESSURE 0
/* Below this, the machine reference says another process took a CPU. */
#define MACHINE_BUSY 1.8

struct params {
	bool quick, json, share_cost;
	const char *plot;          /* --plot DIR, or NULL */
	unsigned fp_samples;       /* batches timed for the median */
	unsigned fp_batch;         /* pairs per batch */
	double tp_seconds;         /* each throughput run */
	unsigned tp_rounds;        /* 1-thread / 2-thread runs, interleaved */
	unsigned mix_inflight;
	unsigned mix_steps;
	size_t occ_pool;           /* Linux pool for [3] */
	unsigned occ_steps;
	unsigned occ_batch;        /* timed pairs per step */
	size_t nw_pool;            /* exhausted pool for [4] */
	size_t pr_pool;            /* capped pool for [5] */
	unsigned pr_steps;
	unsigned nw_attempts;      /* per series */
	unsigned nw_big_attempts;  /* Linux 64 MiB fragmented series */
};

static int internal_errors;
static double section_s[3];   /* seconds spent in [1], [2], [3] */

#define INTERNAL(...)                                                      \
	do {                                                               \
		internal_errors++;                                         \
		fprintf(stderr, "ccdma-bench pool: error: " __VA_ARGS__);  \
		fputc('\n', stderr);                                       \
	} while (0)

/* ------------------------------------------------------------------ */
/* One interface over ccdma's pool and the baseline models.            */

struct target {
	const char *name;
	struct ccdma_pool *pool;       /* ccdma, or NULL */
	const struct bl_ops *ops;      /* a baseline, or NULL */
	void *h;
	unsigned char *backing;        /* baseline: memory written like ccdma's */
	size_t capacity;
};

struct blk {
	uint64_t v;                    /* ccdma: address; baseline: offset */
	size_t size;                   /* 0: none */
};

static size_t touch_len(size_t size)
{
	return size < TOUCH ? size : TOUCH;
}

static int t_alloc(const struct target *t, size_t size, bool wait, struct blk *b)
{
	int rc;

	if (t->pool) {
		void *p;

		if (wait) {
			struct ccdma_pool_req rq;

			memset(&rq, 0, sizeof(rq));
			rq.size = size;
			rq.flags = CCDMA_POOL_WAIT;
			rq.timeout_ns = WAIT_NS;
			rc = ccdma_pool_alloc_req(t->pool, &rq, &p);
		} else {
			rc = ccdma_pool_alloc(t->pool, size, CCDMA_POOL_NOWAIT, &p);
		}
		if (rc)
			return rc;
		memset(p, 0xa5, touch_len(size));
		b->v = (uint64_t)(uintptr_t)p;
		b->size = size;
		return 0;
	}
	rc = t->ops->alloc(t->h, size, 0, 0, 0, &b->v);
	if (rc)
		return rc;
	if (t->backing && b->v + touch_len(size) <= t->capacity)
		memset(t->backing + b->v, 0xa5, touch_len(size));
	b->size = size;
	return 0;
}

static int t_free(const struct target *t, struct blk *b)
{
	int rc = 0;

	if (t->pool) {
		rc = ccdma_pool_free(t->pool, (void *)(uintptr_t)b->v,
				     touch_len(b->size));
		if (rc)
			INTERNAL("ccdma_pool_free(%p, %zu) = %d",
				 (void *)(uintptr_t)b->v, b->size, rc);
	} else {
		t->ops->free(t->h, b->v, b->size);
	}
	b->size = 0;
	return rc;
}

static size_t t_reserved(const struct target *t)
{
	if (t->pool) {
		struct ccdma_pool_stats st;

		if (ccdma_pool_get_stats(t->pool, &st))
			return 0;
		return (size_t)st.in_use_bytes;
	}
	return t->ops->reserved_bytes(t->h);
}

static int ccdma_target(struct target *t, const char *name, size_t initial,
			size_t max, unsigned flags)
{
	struct ccdma_pool_config cfg;
	int rc;

	memset(t, 0, sizeof(*t));
	t->name = "ccdma";
	ccdma_pool_config_init(&cfg);
	cfg.name = name;
	cfg.initial_bytes = initial;
	if (max)
		cfg.max_bytes = max;
	cfg.flags = flags;
	rc = ccdma_pool_create(&cfg, &t->pool);
	if (rc) {
		INTERNAL("ccdma_pool_create(%s, initial %zu, flags %#x) = %d (%s)",
			 name, initial, flags, rc, strerror(-rc));
		t->pool = NULL;
		return rc;
	}
	t->capacity = initial;
	return 0;
}

static int baseline_target(struct target *t, const struct bl_ops *ops,
			   size_t bytes, bool backing)
{
	memset(t, 0, sizeof(*t));
	t->name = ops->name;
	t->ops = ops;
	t->h = ops->create(bytes);
	if (!t->h) {
		INTERNAL("%s: create(%zu) failed", ops->name, bytes);
		return -ENOMEM;
	}
	t->capacity = ops->capacity_bytes(t->h);
	if (backing) {
		t->backing = calloc(1, t->capacity);
		if (!t->backing) {
			INTERNAL("%s: no memory for a %zu-byte area", ops->name,
				 t->capacity);
			ops->destroy(t->h);
			t->h = NULL;
			return -ENOMEM;
		}
	}
	return 0;
}

static void target_destroy(struct target *t)
{
	if (t->pool)
		ccdma_pool_destroy(t->pool);
	if (t->h)
		t->ops->destroy(t->h);
	free(t->backing);
	memset(t, 0, sizeof(*t));
}

static const struct bl_ops *const baselines[] = {
	&bl_linux_swiotlb, &bl_openbsd_sev, &bl_freebsd_bounce,
};
#define NBASE (sizeof(baselines) / sizeof(baselines[0]))
#define NALLOC (1 + NBASE)   /* ccdma first, then the baselines */

static const char *alloc_name(size_t i)
{
	return i == 0 ? "ccdma" : baselines[i - 1]->name;
}

/* ------------------------------------------------------------------ */
/* Statistics helpers.                                                 */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Sorts v. */
static uint64_t quantile_u64(uint64_t *v, size_t n, double q, bool sorted)
{
	size_t k;

	if (n == 0)
		return 0;
	if (!sorted)
		qsort(v, n, sizeof(*v), cmp_u64);
	k = (size_t)ceil(q * (double)n);
	if (k > 0)
		k--;
	if (k >= n)
		k = n - 1;
	return v[k];
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Sorts v. */
static double median_double(double *v, size_t n)
{
	if (n == 0)
		return NAN;
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Context switches of the whole process so far (all threads). */
static uint64_t ctx_switches(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru))
		return 0;
	return (uint64_t)ru.ru_nvcsw + (uint64_t)ru.ru_nivcsw;
}

static size_t round_up(size_t v, size_t to)
{
	return (v + to - 1) / to * to;
}

/* ------------------------------------------------------------------ */
/* [1] Fast path.                                                      */

struct fp_result {
	double ns_median;
	double pps_1t, pps_2t, scaling;   /* medians over the rounds */
	double scaling_min, scaling_max;
	uint64_t nomem;
};

#define TP_MAX_ROUNDS 16

/* Fill the thread's caches: hold some, then loop, with WAIT. */
static int fp_warm(const struct target *t)
{
	struct blk held[64];
	int rc = 0;

	for (int i = 0; i < 64; i++) {
		rc = t_alloc(t, 4096, true, &held[i]);
		if (rc) {
			INTERNAL("%s: warm-up alloc = %d", t->name, rc);
			while (i-- > 0)
				t_free(t, &held[i]);
			return rc;
		}
	}
	for (int i = 63; i >= 0; i--)
		t_free(t, &held[i]);
	for (int i = 0; i < 1000 && !rc; i++) {
		struct blk b;

		rc = t_alloc(t, 4096, true, &b);
		if (!rc)
			rc = t_free(t, &b);
	}
	if (rc)
		INTERNAL("%s: warm-up = %d", t->name, rc);
	return rc;
}

/* n pairs of 4 KiB alloc+free, NOWAIT. */
static int fp_pairs(const struct target *t, unsigned n, uint64_t *nomem)
{
	for (unsigned i = 0; i < n; i++) {
		struct blk b;
		int rc = t_alloc(t, 4096, false, &b);

		if (rc == -ENOMEM) {
			(*nomem)++;
			continue;
		}
		if (rc) {
			INTERNAL("%s: 4 KiB alloc = %d", t->name, rc);
			return rc;
		}
		if (t_free(t, &b))
			return -EIO;
	}
	return 0;
}

struct tp_arg {
	_Alignas(64) const struct target *t;   /* NULL: arithmetic only */
	unsigned idx;
	double seconds;
	pthread_barrier_t *bar;
	uint64_t pairs, nomem;
	double elapsed;
	int rc;
	uint64_t sink;
};

static void *tp_thread(void *argp)
{
	struct tp_arg *a = argp;
	uint64_t t0, deadline, now;

	bl_linux_set_thread_area(a->idx);
	a->rc = a->t ? fp_warm(a->t) : 0;
	pthread_barrier_wait(a->bar);
	if (a->rc)
		return NULL;
	t0 = bench_now_ns();
	deadline = t0 + (uint64_t)(a->seconds * 1e9);
	do {
		if (a->t) {
			a->rc = fp_pairs(a->t, 1000, &a->nomem);
		} else {
			/* Machine reference: private work, no shared memory. */
			uint64_t x = a->sink + a->idx + 1;

			for (int i = 0; i < 1000; i++)
				x = bench_rand(&x) | 1;
			a->sink = x;
		}
		a->pairs += 1000;
		now = bench_now_ns();
	} while (!a->rc && now < deadline);
	a->elapsed = (double)(now - t0) / 1e9;
	if (a->t && a->t->pool)
		ccdma_pool_thread_flush(a->t->pool);
	return NULL;
}

/* Aggregate pairs/s of `nthreads` threads looping on one pool. */
static int fp_throughput(const struct target *t, unsigned nthreads, double seconds,
			 double *pps, uint64_t *nomem)
{
	pthread_t th[2];
	struct tp_arg a[2];
	pthread_barrier_t bar;
	int rc = 0;

	*pps = 0;
	pthread_barrier_init(&bar, NULL, nthreads);
	for (unsigned i = 0; i < nthreads; i++) {
		memset(&a[i], 0, sizeof(a[i]));
		a[i].t = t;
		a[i].idx = i;
		a[i].seconds = seconds;
		a[i].bar = &bar;
		if (pthread_create(&th[i], NULL, tp_thread, &a[i])) {
			/* Threads already started wait at the barrier. */
			fprintf(stderr, "ccdma-bench pool: pthread_create failed\n");
			exit(1);
		}
	}
	for (unsigned i = 0; i < nthreads; i++) {
		pthread_join(th[i], NULL);
		if (a[i].rc)
			rc = a[i].rc;
		else if (a[i].elapsed > 0)
			*pps += (double)a[i].pairs / a[i].elapsed;
		*nomem += a[i].nomem;
	}
	pthread_barrier_destroy(&bar);
	return rc;
}

/*
 * One thread, then two, `tp_rounds` times, interleaved so that whatever
 * else the machine does hits both alike; medians of the rounds.
 * t NULL: the machine reference (private arithmetic in each thread).
 */
static int fp_scaling(const struct target *t, const struct params *P,
		      struct fp_result *r)
{
	double p1[TP_MAX_ROUNDS], p2[TP_MAX_ROUNDS], ratio[TP_MAX_ROUNDS];
	unsigned n = P->tp_rounds < TP_MAX_ROUNDS ? P->tp_rounds : TP_MAX_ROUNDS;
	int rc = 0;

	r->scaling_min = INFINITY;
	r->scaling_max = 0;
	for (unsigned k = 0; k < n && !rc; k++) {
		rc = fp_throughput(t, 1, P->tp_seconds, &p1[k], &r->nomem);
		if (!rc)
			rc = fp_throughput(t, 2, P->tp_seconds, &p2[k], &r->nomem);
		ratio[k] = p1[k] > 0 ? p2[k] / p1[k] : NAN;
		r->scaling_min = fmin(r->scaling_min, ratio[k]);
		r->scaling_max = fmax(r->scaling_max, ratio[k]);
	}
	if (rc)
		return rc;
	r->pps_1t = median_double(p1, n);
	r->pps_2t = median_double(p2, n);
	r->scaling = median_double(ratio, n);
	return 0;
}

static int fp_run(const struct target *t, const struct params *P, struct fp_result *r)
{
	uint64_t *ns = calloc(P->fp_samples, sizeof(*ns));
	int rc;

	memset(r, 0, sizeof(*r));
	if (!ns)
		return -ENOMEM;
	bl_linux_set_thread_area(0);
	rc = fp_warm(t);
	for (unsigned s = 0; s < P->fp_samples && !rc; s++) {
		uint64_t t0 = bench_now_ns();

		rc = fp_pairs(t, P->fp_batch, &r->nomem);
		ns[s] = bench_now_ns() - t0;
	}
	if (!rc)
		r->ns_median = (double)quantile_u64(ns, P->fp_samples, 0.5, false) /
			       P->fp_batch;
	free(ns);
	if (t->pool)
		ccdma_pool_thread_flush(t->pool);
	if (!rc)
		rc = fp_scaling(t, P, r);
	return rc;
}

static int bench_fastpath(const struct params *P, struct fp_result res[NALLOC],
			  struct fp_result *machine)
{
	int rc0;

	memset(machine, 0, sizeof(*machine));
	rc0 = fp_scaling(NULL, P, machine);
	if (rc0)
		return rc0;
	for (size_t i = 0; i < NALLOC; i++) {
		struct target t;
		int rc;

		if (i == 0)
			rc = ccdma_target(&t, "bench-fastpath", 8 * MIB, 0, 0);
		else
			rc = baseline_target(&t, baselines[i - 1], 64 * MIB, true);
		if (rc)
			return rc;
		rc = fp_run(&t, P, &res[i]);
		target_destroy(&t);
		if (rc)
			return rc;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* [2] Mixed sizes.                                                    */

/* The measured mix: see dma_mix.h. */
static size_t mix_size(uint64_t *rng, size_t cap)
{
	return dma_mix_size(rng, cap);
}

struct mix_result {
	uint64_t allocs, failures;
	uint64_t frag_failures;    /* failed while capacity - in flight >= size */
	uint64_t frag_oversize;    /* of those, requests above 256 KiB */
	size_t peak_req;           /* peak requested bytes in flight */
	size_t peak_reserved;      /* baselines: peak reserved bytes */
	double seconds;
};

/*
 * The same sequence for every allocator: slot i of `inflight` is freed
 * and refilled in random order; a failed allocation leaves its slot empty.
 * capacity 0: no fragmentation accounting.
 */
/* --plot: the footprint run's samples (step, bytes requested in flight,
 * the pool's shared and in-use bytes), every MIX_TRACE_EVERY steps. */
static FILE *mix_trace;
#define MIX_TRACE_EVERY 500

static int run_mix(const struct target *t, const struct params *P, bool wait,
		   size_t capacity, bool track_reserved, struct mix_result *r)
{
	unsigned n = P->mix_inflight;
	struct blk *live = calloc(n, sizeof(*live));
	uint64_t rng = SEED;
	size_t inflight = 0;
	uint64_t t0 = bench_now_ns();
	int rc = 0;

	memset(r, 0, sizeof(*r));
	if (!live)
		return -ENOMEM;
	for (uint64_t step = 0; step < (uint64_t)n + P->mix_steps && !rc; step++) {
		unsigned idx = step < n ? (unsigned)step :
					  (unsigned)(bench_rand(&rng) % n);
		size_t size = mix_size(&rng, 0);

		if (live[idx].size) {
			inflight -= live[idx].size;
			if (t_free(t, &live[idx]))
				rc = -EIO;
		}
		r->allocs++;
		rc = rc ? rc : t_alloc(t, size, wait, &live[idx]);
		if (rc == 0) {
			inflight += size;
			if (inflight > r->peak_req)
				r->peak_req = inflight;
		} else if (rc == -ENOMEM) {
			rc = 0;
			live[idx].size = 0;
			r->failures++;
			if (capacity && capacity >= inflight &&
			    capacity - inflight >= size) {
				r->frag_failures++;
				if (size > LINUX_CAP)
					r->frag_oversize++;
			}
		} else if (rc != -EIO) {
			INTERNAL("%s: alloc(%zu) = %d", t->name, size, rc);
		}
		if (mix_trace && t->pool && step % MIX_TRACE_EVERY == 0) {
			struct ccdma_pool_stats st;

			if (ccdma_pool_get_stats(t->pool, &st) == 0)
				fprintf(mix_trace, "%llu %zu %llu %llu\n",
					(unsigned long long)step, inflight,
					(unsigned long long)st.shared_bytes,
					(unsigned long long)st.in_use_bytes);
		}
		if (track_reserved) {
			size_t res = t_reserved(t);

			if (res > r->peak_reserved)
				r->peak_reserved = res;
		}
	}
	for (unsigned i = 0; i < n; i++)
		if (live[i].size)
			t_free(t, &live[i]);
	free(live);
	r->seconds = (double)(bench_now_ns() - t0) / 1e9;
	return rc;
}

struct mix_report {
	size_t peak_req;                  /* from ccdma's WAIT run */
	struct ccdma_pool_stats cc_stats; /* ccdma footprint run */
	struct mix_result cc_foot;
	double footprint_ratio;
	struct mix_result base_foot[NBASE];
	size_t capacity;                  /* X */
	struct mix_result frag[NALLOC];
	struct bench_plot trace;     /* --plot: the footprint run */
};

static int bench_mix(const struct params *P, struct mix_report *m)
{
	struct target t;
	int rc;

	memset(m, 0, sizeof(*m));
	/* Footprint: the default pool, growth keeping up. */
	rc = ccdma_target(&t, "bench-mix", 0, 0, 0);
	if (rc)
		return rc;
	if (P->plot && !bench_plot_open(&m->trace, P->plot, "pool-mix-footprint")) {
		mix_trace = m->trace.dat;
		fprintf(mix_trace, "# step requested_in_flight shared_bytes in_use_bytes\n");
	}
	rc = run_mix(&t, P, true, 0, false, &m->cc_foot);
	mix_trace = NULL;
	if (!rc && ccdma_pool_get_stats(t.pool, &m->cc_stats))
		INTERNAL("ccdma_pool_get_stats failed");
	target_destroy(&t);
	if (rc)
		return rc;
	m->peak_req = m->cc_foot.peak_req;
	if (m->peak_req == 0) {
		INTERNAL("mix: nothing was allocated");
		return -EIO;
	}
	m->footprint_ratio = (double)m->cc_stats.shared_high_water / (double)m->peak_req;

	/* Baselines' footprint: pools large enough that only refusals fail. */
	for (size_t i = 0; i < NBASE; i++) {
		rc = baseline_target(&t, baselines[i], 12 * m->peak_req, false);
		if (rc)
			return rc;
		rc = run_mix(&t, P, false, 0, true, &m->base_foot[i]);
		target_destroy(&t);
		if (rc)
			return rc;
	}

	/* Fixed capacity X for everyone, NOWAIT. */
	m->capacity = round_up(m->peak_req + m->peak_req / 2, 4 * MIB);
	for (size_t i = 0; i < NALLOC; i++) {
		if (i == 0)
			rc = ccdma_target(&t, "bench-frag", m->capacity, m->capacity,
					  CCDMA_POOL_F_NO_GROWER);
		else
			rc = baseline_target(&t, baselines[i - 1], m->capacity, false);
		if (rc)
			return rc;
		rc = run_mix(&t, P, false, m->capacity, false, &m->frag[i]);
		target_destroy(&t);
		if (rc)
			return rc;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* [3] The Linux pool at 75% occupancy, and ccdma with the same set.   */

struct occ_result {
	double linux_ns, ccdma_ns, ratio;
	double linux_slots_per_alloc;     /* slots checked per timed alloc */
	size_t live, live_req_bytes, linux_reserved;
	uint64_t linux_timed_fail, ccdma_timed_fail, churn_refused;
	size_t ccdma_shared;
};

struct occ_pair {
	struct blk l, c;
};

/* n timed 4 KiB alloc+free pairs; returns ns, counts failures. */
static uint64_t occ_timed(const struct target *t, unsigned n, uint64_t *fails, int *rc)
{
	uint64_t t0 = bench_now_ns();

	*rc = fp_pairs(t, n, fails);
	return bench_now_ns() - t0;
}

/* Allocate one mix size in both; false when Linux refused it. */
static bool occ_add(const struct target *L, const struct target *C,
		    struct occ_pair *p, uint64_t *rng, int *rc)
{
	size_t size = mix_size(rng, LINUX_CAP);

	if (t_alloc(L, size, false, &p->l))
		return false;
	*rc = t_alloc(C, size, true, &p->c);
	if (*rc) {
		INTERNAL("ccdma: WAIT alloc(%zu) with %s held = %d", size, "the live set", *rc);
		t_free(L, &p->l);
		return false;
	}
	return true;
}

static int bench_occupancy(const struct params *P, struct occ_result *r)
{
	struct target L, C;
	size_t maxlive = P->occ_pool / BL_IO_TLB_SIZE + 1, n = 0;
	size_t goal = P->occ_pool / 4 * 3;
	struct occ_pair *live;
	uint64_t *ls, *cs, rng = SEED ^ 0x75;
	uint64_t scanned = 0, timed_allocs = 0;
	int rc;

	memset(r, 0, sizeof(*r));
	rc = baseline_target(&L, &bl_linux_swiotlb, P->occ_pool, true);
	if (rc)
		return rc;
	rc = ccdma_target(&C, "bench-occupancy", P->occ_pool, 0, 0);
	if (rc) {
		target_destroy(&L);
		return rc;
	}
	live = calloc(maxlive, sizeof(*live));
	ls = calloc(P->occ_steps, sizeof(*ls));
	cs = calloc(P->occ_steps, sizeof(*cs));
	if (!live || !ls || !cs) {
		rc = -ENOMEM;
		goto out;
	}
	bl_linux_set_thread_area(0);
	rc = fp_warm(&C);
	/* Fill to 75% of the Linux pool's bytes. */
	for (unsigned tries = 0; !rc && L.ops->reserved_bytes(L.h) < goal &&
				 n < maxlive && tries < 1000000; tries++) {
		if (occ_add(&L, &C, &live[n], &rng, &rc))
			n++;
		else
			r->churn_refused++;
	}
	for (unsigned s = 0; s < P->occ_steps && !rc; s++) {
		uint64_t before;
		int rc2 = 0;

		if (n) {
			size_t i = (size_t)(bench_rand(&rng) % n);

			t_free(&L, &live[i].l);
			t_free(&C, &live[i].c);
			live[i] = live[--n];
		}
		for (unsigned k = 0; !rc && k < 64 && n < maxlive &&
				     L.ops->reserved_bytes(L.h) < goal; k++) {
			if (occ_add(&L, &C, &live[n], &rng, &rc))
				n++;
			else
				r->churn_refused++;
		}
		if (rc)
			break;
		/* Alternate which one runs first. */
		before = bl_linux_slots_scanned(L.h);
		if (s & 1) {
			cs[s] = occ_timed(&C, P->occ_batch, &r->ccdma_timed_fail, &rc2);
			ls[s] = occ_timed(&L, P->occ_batch, &r->linux_timed_fail, &rc);
		} else {
			ls[s] = occ_timed(&L, P->occ_batch, &r->linux_timed_fail, &rc);
			cs[s] = occ_timed(&C, P->occ_batch, &r->ccdma_timed_fail, &rc2);
		}
		scanned += bl_linux_slots_scanned(L.h) - before;
		timed_allocs += P->occ_batch;
		if (!rc)
			rc = rc2;
	}
	if (!rc) {
		struct ccdma_pool_stats st;

		r->live = n;
		for (size_t i = 0; i < n; i++)
			r->live_req_bytes += live[i].l.size;
		r->linux_reserved = L.ops->reserved_bytes(L.h);
		if (ccdma_pool_get_stats(C.pool, &st) == 0)
			r->ccdma_shared = (size_t)st.shared_bytes;
		r->linux_ns = (double)quantile_u64(ls, P->occ_steps, 0.5, false) /
			      P->occ_batch;
		r->ccdma_ns = (double)quantile_u64(cs, P->occ_steps, 0.5, false) /
			      P->occ_batch;
		r->ratio = r->ccdma_ns > 0 ? r->linux_ns / r->ccdma_ns : NAN;
		r->linux_slots_per_alloc = timed_allocs ?
			(double)scanned / (double)timed_allocs : 0;
	}
	for (size_t i = 0; i < n; i++) {
		t_free(&L, &live[i].l);
		t_free(&C, &live[i].c);
	}
out:
	free(live);
	free(ls);
	free(cs);
	target_destroy(&C);
	target_destroy(&L);
	return rc;
}

/* ------------------------------------------------------------------ */
/* [4] NOWAIT on an exhausted pool.                                    */

struct nw_stats {
	uint64_t attempts, successes;
	uint64_t over_target;   /* attempts slower than the 20 us target */
	uint64_t ctx_switches;  /* of the process (all threads) meanwhile */
	double median_us, p99_us, p999_us, max_us;
	double block_max_us;  /* median of the maxima of blocks of NW_BLOCK */
};

struct blkvec {
	struct blk *v;
	size_t n, cap;
};

static int bv_push(struct blkvec *bv, const struct blk *b)
{
	if (bv->n == bv->cap) {
		size_t nc = bv->cap ? 2 * bv->cap : 1024;
		struct blk *nv = realloc(bv->v, nc * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		bv->v = nv;
		bv->cap = nc;
	}
	bv->v[bv->n++] = *b;
	return 0;
}

static void bv_free_all(const struct target *t, struct blkvec *bv)
{
	for (size_t i = 0; i < bv->n; i++)
		if (bv->v[i].size)
			t_free(t, &bv->v[i]);
	free(bv->v);
	memset(bv, 0, sizeof(*bv));
}

/* Fill with 4 KiB NOWAIT until -ENOMEM.  Returns the count, or -1. */
static long nw_fill(const struct target *t, struct blkvec *held)
{
	size_t limit = t->capacity / 256 + 1024;

	for (size_t i = 0; i < limit; i++) {
		struct blk b;
		int rc = t_alloc(t, 4096, false, &b);

		if (rc == -ENOMEM)
			return (long)i;
		if (rc) {
			INTERNAL("%s: fill alloc = %d", t->name, rc);
			return -1;
		}
		if (bv_push(held, &b)) {
			t_free(t, &b);
			return -1;
		}
	}
	fprintf(stderr, "ccdma-bench pool: %s: a %zu-byte pool was not exhausted "
			"after %zu 4 KiB allocations\n", t->name, t->capacity, limit);
	return (long)limit;
}

/*
 * Time `total` NOWAIT allocations of `size`, one by one (t NULL: empty
 * attempts, the machine's noise floor).  Besides the plain maximum, the
 * median over blocks of NW_BLOCK attempts of each block's maximum: a slow
 * path hit at least once per block shows there, a rare interruption of
 * the thread (this is a VM on a shared host) does not.
 */
#define NW_BLOCK 1000u
static int nw_series(const struct target *t, size_t size, unsigned total,
		     struct blkvec *held, struct nw_stats *st)
{
	unsigned block = total < NW_BLOCK ? (total ? total : 1) : NW_BLOCK;
	unsigned nblocks = total / block;
	uint64_t *ns = calloc(total ? total : 1, sizeof(*ns));
	uint64_t *bmax = calloc(nblocks ? nblocks : 1, sizeof(*bmax));
	uint64_t cs0 = ctx_switches();

	memset(st, 0, sizeof(*st));
	if (!ns || !bmax || nblocks == 0) {
		free(ns);
		free(bmax);
		return -ENOMEM;
	}
	total = nblocks * block;
	for (unsigned r = 0; r < nblocks; r++) {
		uint64_t rep_max = 0;

		for (unsigned i = 0; i < block; i++) {
			struct blk b;
			uint64_t t0 = bench_now_ns();
			/* t NULL: time nothing (the machine's noise floor). */
			int rc = t ? t_alloc(t, size, false, &b) : -ENOMEM;
			uint64_t d = bench_now_ns() - t0;

			ns[(size_t)r * block + i] = d;
			if (d > rep_max)
				rep_max = d;
			if (rc == 0) {
				/* Keep it: the pool stays exhausted. */
				st->successes++;
				if (bv_push(held, &b)) {
					t_free(t, &b);
					free(ns);
					free(bmax);
					return -ENOMEM;
				}
			} else if (rc != -ENOMEM) {
				INTERNAL("%s: NOWAIT alloc(%zu) = %d", t->name, size, rc);
				free(ns);
				free(bmax);
				return rc;
			}
		}
		bmax[r] = rep_max;
	}
	st->ctx_switches = ctx_switches() - cs0;
	st->attempts = total;
	qsort(ns, total, sizeof(*ns), cmp_u64);
	for (size_t i = total; i-- > 0 && ns[i] > (uint64_t)(T_NOWAIT_US * 1e3);)
		st->over_target++;
	st->median_us = (double)quantile_u64(ns, total, 0.5, true) / 1e3;
	st->p99_us = (double)quantile_u64(ns, total, 0.99, true) / 1e3;
	st->p999_us = (double)quantile_u64(ns, total, 0.999, true) / 1e3;
	st->max_us = (double)ns[total - 1] / 1e3;
	st->block_max_us = (double)quantile_u64(bmax, nblocks, 0.5, false) / 1e3;
	free(ns);
	free(bmax);
	return 0;
}

/* Free every 16th held 4 KiB allocation: holes no 64 KiB fits in. */
static void nw_punch(const struct target *t, struct blkvec *held, size_t filled)
{
	for (size_t i = 0; i < filled && i < held->n; i += 16)
		if (held->v[i].size)
			t_free(t, &held->v[i]);
}

struct nw_report {
	struct nw_stats noise;   /* timing an empty attempt */
	long cc_filled, lx_filled;
	struct nw_stats cc_4k, cc_64k, cc_64k_holes;
	struct nw_stats lx_4k, lx_64k, lx_64k_holes, lx64m_64k_holes;
	double worst_us, worst_p999_us, worst_block_us;   /* ccdma, all series */
};

static int nw_run(const struct target *t, const struct params *P, long *filled,
		  struct nw_stats *s4k, struct nw_stats *s64k, struct nw_stats *sholes,
		  unsigned holes_attempts)
{
	struct blkvec held = { 0 };
	int rc;

	bl_linux_set_thread_area(0);
	*filled = nw_fill(t, &held);
	if (*filled < 0) {
		bv_free_all(t, &held);
		return -EIO;
	}
	rc = nw_series(t, 4096, P->nw_attempts, &held, s4k);
	if (!rc && s64k)
		rc = nw_series(t, 64 * KIB, P->nw_attempts, &held, s64k);
	if (!rc) {
		nw_punch(t, &held, (size_t)*filled);
		rc = nw_series(t, 64 * KIB, holes_attempts, &held, sholes);
	}
	bv_free_all(t, &held);
	return rc;
}

static int bench_nowait(const struct params *P, struct nw_report *w)
{
	struct target t;
	struct nw_stats dummy;
	long filled;
	int rc;

	memset(w, 0, sizeof(*w));
	rc = nw_series(NULL, 0, P->nw_attempts, NULL, &w->noise);
	if (rc)
		return rc;
	rc = ccdma_target(&t, "bench-nowait", P->nw_pool, P->nw_pool,
			  CCDMA_POOL_F_NO_GROWER);
	if (rc)
		return rc;
	rc = nw_run(&t, P, &w->cc_filled, &w->cc_4k, &w->cc_64k, &w->cc_64k_holes,
		    P->nw_attempts);
	target_destroy(&t);
	if (rc)
		return rc;
	w->worst_us = fmax(w->cc_4k.max_us, fmax(w->cc_64k.max_us, w->cc_64k_holes.max_us));
	w->worst_p999_us = fmax(w->cc_4k.p999_us,
				fmax(w->cc_64k.p999_us, w->cc_64k_holes.p999_us));
	w->worst_block_us = fmax(w->cc_4k.block_max_us,
				 fmax(w->cc_64k.block_max_us, w->cc_64k_holes.block_max_us));

	rc = baseline_target(&t, &bl_linux_swiotlb, P->nw_pool, true);
	if (rc)
		return rc;
	rc = nw_run(&t, P, &w->lx_filled, &w->lx_4k, &w->lx_64k, &w->lx_64k_holes,
		    P->nw_attempts);
	target_destroy(&t);
	if (rc)
		return rc;
	/* The kernel's default 64 MiB pool: the failing search is longer. */
	rc = baseline_target(&t, &bl_linux_swiotlb, 64 * MIB, true);
	if (rc)
		return rc;
	rc = nw_run(&t, P, &filled, &dummy, NULL, &w->lx64m_64k_holes,
		    P->nw_big_attempts);
	target_destroy(&t);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Output.                                                             */

static const char *verdict(bool ok)
{
	return ok ? "ok" : "MISSED";
}

static void print_nw(FILE *f, const char *who, const char *what, const struct nw_stats *s)
{
	fprintf(f, "  %-14s %-22s %7llu %4llu %7.2f %7.2f %8.2f %8.2f %8.2f %6llu %7llu\n",
		who, what, (unsigned long long)s->attempts,
		(unsigned long long)s->successes, s->median_us, s->p99_us, s->p999_us,
		s->max_us, s->block_max_us, (unsigned long long)s->over_target,
		(unsigned long long)s->ctx_switches);
}

/* [5]: the pool under pressure. */
struct pressure_result {
	uint64_t allocs, enomem, failures, reclaims;
	double occupancy;          /* mean requested bytes / capacity */
	double seconds;
};
static struct pressure_result pressure;

static int bench_pressure(const struct params *P, struct pressure_result *r)
{
	size_t cap = P->pr_pool, goal = cap / 10 * 8, inflight = 0, n = 0;
	size_t maxlive = cap / CCDMA_POOL_MIN_CLASS;
	struct ccdma_pool_stats st;
	struct target t;
	struct blk *live;
	uint64_t rng = SEED ^ 0x80, t0 = bench_now_ns();
	double occ_sum = 0;
	int rc;

	memset(r, 0, sizeof(*r));
	rc = ccdma_target(&t, "bench-pressure", cap, cap, CCDMA_POOL_F_NO_GROWER);
	if (rc)
		return rc;
	live = calloc(maxlive, sizeof(*live));
	if (!live) {
		target_destroy(&t);
		return -ENOMEM;
	}
	for (unsigned step = 0; step < P->pr_steps && !rc; step++) {
		if (inflight < goal && n < maxlive) {
			size_t size = mix_size(&rng, 0);

			r->allocs++;
			rc = t_alloc(&t, size, false, &live[n]);
			if (rc == 0) {
				inflight += size;
				n++;
			} else if (rc == -ENOMEM) {
				int fit = ccdma_pool_would_fit(t.pool, size);

				rc = 0;
				r->enomem++;
				if (fit == 1)
					r->failures++;
				else if (fit < 0)
					INTERNAL("pressure: would_fit(%zu) = %d", size, fit);
				/* Make room, as a driver whose map failed would
				 * complete something first. */
				if (n) {
					size_t i = (size_t)(bench_rand(&rng) % n);

					inflight -= live[i].size;
					rc = t_free(&t, &live[i]);
					live[i] = live[--n];
				}
			} else {
				INTERNAL("pressure: alloc(%zu) = %d", size, rc);
			}
		} else if (n) {
			size_t i = (size_t)(bench_rand(&rng) % n);

			inflight -= live[i].size;
			rc = t_free(&t, &live[i]);
			live[i] = live[--n];
		}
		occ_sum += (double)inflight / (double)cap;
	}
	if (ccdma_pool_get_stats(t.pool, &st) == 0)
		r->reclaims = st.reclaims;
	for (size_t i = 0; i < n; i++)
		t_free(&t, &live[i]);
	free(live);
	target_destroy(&t);
	r->occupancy = P->pr_steps ? occ_sum / P->pr_steps : 0;
	r->seconds = (double)(bench_now_ns() - t0) / 1e9;
	return rc;
}

static void print_human(FILE *f, const struct params *P, const struct fp_result *fp,
			const struct fp_result *mach, const struct mix_report *m, const struct occ_result *o,
			const struct nw_report *w, double elapsed)
{
	const struct fp_result *cc = &fp[0];

	fprintf(f, "ccdma-bench pool (%s): ccdma %s vs models of %s, %s, %s\n",
		P->quick ? "quick" : "full", "pool", baselines[0]->name,
		baselines[1]->name, baselines[2]->name);
	if (P->share_cost)
		fprintf(f, "sharing cost: %llu ns per 4 KiB page (--share-cost)\n",
			(unsigned long long)ccdma_share_cost_get_ns());
	else
		fprintf(f, "sharing cost: set to 0 (region creation is free here; "
			   "--share-cost keeps the modelled cost)\n");
	fprintf(f, "\n%-22s %12s %10s  %s\n", "figure", "value", "target", "");
	fprintf(f, "%-22s %9.1f ns %10s  %s\n", "fastpath_ns_median", cc->ns_median,
		"<= 50", verdict(cc->ns_median <= T_FASTPATH_NS));
	fprintf(f, "%-22s %11.2fx %10s  %s\n", "vs_linux_slot_75pct", o->ratio, ">= 5",
		verdict(o->ratio >= T_VS_LINUX));
	fprintf(f, "%-22s %11.2fx %10s  %s\n", "two_thread_scaling", cc->scaling,
		">= 1.7", verdict(cc->scaling >= T_SCALING));
	fprintf(f, "%-22s %12.3f %10s  %s\n", "footprint_ratio", m->footprint_ratio,
		"<= 1.3", verdict(m->footprint_ratio <= T_FOOTPRINT));
	fprintf(f, "%-22s %12llu %10s  %s\n", "frag_failures",
		(unsigned long long)m->frag[0].frag_failures, "= 0",
		verdict(m->frag[0].frag_failures == T_FRAG));
	fprintf(f, "%-22s %9.2f us %10s  %s (p99.9 %.2f us, median per-%u max %.2f us; "
		   "timing nothing: max %.2f us)\n", "nowait_worst_us", w->worst_us, "<= 20",
		verdict(w->worst_us <= T_NOWAIT_US), w->worst_p999_us, NW_BLOCK,
		w->worst_block_us, w->noise.max_us);
	fprintf(f, "%-22s %12llu %10s  %s (%llu -ENOMEM of %llu allocations at %.0f%% "
		   "occupancy, %llu reclaims)\n", "pressure_failures",
		(unsigned long long)pressure.failures, "= 0",
		verdict(pressure.failures == T_PRESSURE),
		(unsigned long long)pressure.enomem, (unsigned long long)pressure.allocs,
		pressure.occupancy * 100, (unsigned long long)pressure.reclaims);

	fprintf(f, "\n[1] 4 KiB alloc+free, NOWAIT (median of %u batches of %u; "
		   "throughput: medians of %u interleaved rounds of %.2f s)\n",
		P->fp_samples, P->fp_batch, P->tp_rounds, P->tp_seconds);
	fprintf(f, "  %-16s %10s %14s %14s %8s %13s %7s\n", "allocator", "median ns",
		"1 thread Mp/s", "2 threads Mp/s", "scaling", "(min..max)", "ENOMEM");
	for (size_t i = 0; i < NALLOC; i++)
		fprintf(f, "  %-16s %10.1f %14.2f %14.2f %7.2fx %5.2f..%5.2f %7llu\n",
			alloc_name(i), fp[i].ns_median, fp[i].pps_1t / 1e6,
			fp[i].pps_2t / 1e6, fp[i].scaling, fp[i].scaling_min,
			fp[i].scaling_max, (unsigned long long)fp[i].nomem);
	fprintf(f, "  %-16s %10s %14.2f %14.2f %7.2fx %5.2f..%5.2f   (private arithmetic:"
		   " what this machine allows)\n", "machine", "-", mach->pps_1t / 1e6,
		mach->pps_2t / 1e6, mach->scaling, mach->scaling_min, mach->scaling_max);
	if (mach->scaling < MACHINE_BUSY)
		fprintf(f, "  WARNING: two threads of private arithmetic scale only %.2fx: "
			   "another process\n  is using the second CPU, the scaling "
			   "figures of this run say little.\n", mach->scaling);

	fprintf(f, "\n[2] size mix: %u in flight, %u random frees+allocs; "
		   "peak requested in flight %.2f MiB\n", P->mix_inflight, P->mix_steps,
		(double)m->peak_req / MIB);
	fprintf(f, "  ccdma (grower on, WAIT 1 s): shared high water %.2f MiB -> "
		   "footprint %.3f; %llu regions created, %llu failures, %llu waits "
		   "(%.1f ms), %.2f s\n",
		(double)m->cc_stats.shared_high_water / MIB, m->footprint_ratio,
		(unsigned long long)m->cc_stats.region_grows,
		(unsigned long long)m->cc_foot.failures,
		(unsigned long long)m->cc_stats.waits, (double)m->cc_stats.wait_ns / 1e6,
		m->cc_foot.seconds);
	fprintf(f, "  baselines with ample pools: peak reserved / peak requested\n");
	for (size_t i = 0; i < NBASE; i++)
		fprintf(f, "    %-16s %8.2f MiB / %8.2f MiB = %6.3f  (%llu refused)\n",
			baselines[i]->name, (double)m->base_foot[i].peak_reserved / MIB,
			(double)m->base_foot[i].peak_req / MIB,
			m->base_foot[i].peak_req ?
			(double)m->base_foot[i].peak_reserved / (double)m->base_foot[i].peak_req : 0,
			(unsigned long long)m->base_foot[i].failures);
	fprintf(f, "  fixed capacity X = %.0f MiB, NOWAIT (frag = failed while X - in "
		   "flight >= request)\n", (double)m->capacity / MIB);
	fprintf(f, "    %-16s %10s %10s %16s\n", "allocator", "failures", "frag",
		"frag > 256 KiB");
	for (size_t i = 0; i < NALLOC; i++)
		fprintf(f, "    %-16s %10llu %10llu %16llu\n", alloc_name(i),
			(unsigned long long)m->frag[i].failures,
			(unsigned long long)m->frag[i].frag_failures,
			(unsigned long long)m->frag[i].frag_oversize);

	fprintf(f, "\n[3] Linux pool of %.0f MiB at 75%% (%zu live, %.1f MiB requested, "
		   "%.1f MiB of slots), %u steps x %u timed pairs\n",
		(double)P->occ_pool / MIB, o->live, (double)o->live_req_bytes / MIB,
		(double)o->linux_reserved / MIB, P->occ_steps, P->occ_batch);
	fprintf(f, "  linux-swiotlb %8.1f ns per 4 KiB pair (%.1f slots checked per "
		   "alloc, %llu failed)\n", o->linux_ns, o->linux_slots_per_alloc,
		(unsigned long long)o->linux_timed_fail);
	fprintf(f, "  ccdma         %8.1f ns per 4 KiB pair (%llu failed; pool %.1f MiB)"
		   " -> Linux / ccdma = %.2fx\n", o->ccdma_ns,
		(unsigned long long)o->ccdma_timed_fail, (double)o->ccdma_shared / MIB,
		o->ratio);

	fprintf(f, "\n[4] NOWAIT on an exhausted %.0f MiB pool (no grower), each attempt "
		   "timed\n", (double)P->nw_pool / MIB);
	fprintf(f, "  filled with 4 KiB: ccdma %ld, linux-swiotlb %ld allocations; "
		   "'holes' = every 16th freed\n", w->cc_filled, w->lx_filled);
	fprintf(f, "  %-14s %-22s %7s %4s %7s %7s %8s %8s %8s %6s %7s\n", "allocator",
		"attempt", "n", "ok", "med us", "p99 us", "p99.9 us", "max us", "blk max",
		">20us", "ctxsw");
	print_nw(f, "(nothing)", "noise floor: empty", &w->noise);
	print_nw(f, "ccdma", "4 KiB, full", &w->cc_4k);
	print_nw(f, "ccdma", "64 KiB, full", &w->cc_64k);
	print_nw(f, "ccdma", "64 KiB, holes", &w->cc_64k_holes);
	print_nw(f, "linux-swiotlb", "4 KiB, full", &w->lx_4k);
	print_nw(f, "linux-swiotlb", "64 KiB, full", &w->lx_64k);
	print_nw(f, "linux-swiotlb", "64 KiB, holes", &w->lx_64k_holes);
	print_nw(f, "linux-swiotlb", "64 KiB, holes, 64 MiB", &w->lx64m_64k_holes);
	fprintf(f, "  (blk max: median over blocks of %u attempts of the block's "
		   "maximum; ctxsw: context\n   switches of the process, all threads, "
		   "during the series)\n", NW_BLOCK);
	fprintf(f, "\nelapsed %.1f s ([1] %.1f s, [2] %.1f s, [3] %.1f s, [4] %.1f s)\n",
		elapsed, section_s[0], section_s[1], section_s[2],
		elapsed - section_s[0] - section_s[1] - section_s[2]);
}

static void json_nw(struct bench_json *j, const char *key, const struct nw_stats *s)
{
	bench_json_obj(j, key);
	bench_json_u64(j, "attempts", s->attempts);
	bench_json_u64(j, "successes", s->successes);
	bench_json_num(j, "median_us", s->median_us);
	bench_json_num(j, "p99_us", s->p99_us);
	bench_json_num(j, "p999_us", s->p999_us);
	bench_json_num(j, "max_us", s->max_us);
	bench_json_num(j, "median_block_max_us", s->block_max_us);
	bench_json_u64(j, "over_20us", s->over_target);
	bench_json_u64(j, "context_switches", s->ctx_switches);
	bench_json_end(j);
}

static void print_json(FILE *f, const struct params *P, const struct fp_result *fp,
		       const struct fp_result *mach, const struct mix_report *m, const struct occ_result *o,
		       const struct nw_report *w, double elapsed)
{
	struct bench_json j;

	bench_json_begin(&j, f);
	bench_json_obj(&j, NULL);
	bench_json_str(&j, "benchmark", "pool");
	bench_json_bool(&j, "quick", P->quick);
	bench_json_u64(&j, "share_cost_ns", ccdma_share_cost_get_ns());
	bench_json_num(&j, "fastpath_ns_median", fp[0].ns_median);
	bench_json_num(&j, "vs_linux_slot_75pct", o->ratio);
	bench_json_num(&j, "two_thread_scaling", fp[0].scaling);
	bench_json_num(&j, "footprint_ratio", m->footprint_ratio);
	bench_json_u64(&j, "frag_failures", m->frag[0].frag_failures);
	bench_json_num(&j, "nowait_worst_us", w->worst_us);
	bench_json_num(&j, "nowait_p99_us",
		       fmax(w->cc_4k.p99_us, fmax(w->cc_64k.p99_us, w->cc_64k_holes.p99_us)));
	bench_json_num(&j, "nowait_p999_us", w->worst_p999_us);
	bench_json_num(&j, "nowait_median_block_max_us", w->worst_block_us);
	bench_json_num(&j, "nowait_noise_floor_max_us", w->noise.max_us);
	bench_json_u64(&j, "pressure_failures", pressure.failures);
	bench_json_num(&j, "pressure_failure_rate", pressure.allocs ?
		       (double)pressure.failures / (double)pressure.allocs : 0);
	bench_json_u64(&j, "pressure_enomem", pressure.enomem);
	bench_json_u64(&j, "pressure_allocs", pressure.allocs);
	bench_json_num(&j, "pressure_occupancy", pressure.occupancy);
	bench_json_u64(&j, "pressure_reclaims", pressure.reclaims);

	bench_json_obj(&j, "targets");
	bench_json_num(&j, "fastpath_ns_median_max", T_FASTPATH_NS);
	bench_json_num(&j, "vs_linux_slot_75pct_min", T_VS_LINUX);
	bench_json_num(&j, "two_thread_scaling_min", T_SCALING);
	bench_json_num(&j, "footprint_ratio_max", T_FOOTPRINT);
	bench_json_u64(&j, "frag_failures_max", T_FRAG);
	bench_json_num(&j, "nowait_worst_us_max", T_NOWAIT_US);
	bench_json_u64(&j, "pressure_failures_max", T_PRESSURE);
	bench_json_end(&j);

	bench_json_obj(&j, "fastpath");
	for (size_t i = 0; i < NALLOC; i++) {
		bench_json_obj(&j, alloc_name(i));
		bench_json_num(&j, "ns_median", fp[i].ns_median);
		bench_json_num(&j, "pairs_per_s_1t", fp[i].pps_1t);
		bench_json_num(&j, "pairs_per_s_2t", fp[i].pps_2t);
		bench_json_num(&j, "scaling", fp[i].scaling);
		bench_json_num(&j, "scaling_min", fp[i].scaling_min);
		bench_json_num(&j, "scaling_max", fp[i].scaling_max);
		bench_json_u64(&j, "enomem", fp[i].nomem);
		bench_json_end(&j);
	}
	bench_json_obj(&j, "machine_reference");
	bench_json_num(&j, "scaling", mach->scaling);
	bench_json_num(&j, "scaling_min", mach->scaling_min);
	bench_json_num(&j, "scaling_max", mach->scaling_max);
	bench_json_bool(&j, "cpu_busy", mach->scaling < MACHINE_BUSY);
	bench_json_end(&j);
	bench_json_end(&j);

	bench_json_obj(&j, "mix");
	bench_json_u64(&j, "inflight", P->mix_inflight);
	bench_json_u64(&j, "steps", P->mix_steps);
	bench_json_u64(&j, "peak_requested_bytes", m->peak_req);
	bench_json_obj(&j, "ccdma");
	bench_json_u64(&j, "shared_high_water", m->cc_stats.shared_high_water);
	bench_json_num(&j, "footprint_ratio", m->footprint_ratio);
	bench_json_u64(&j, "region_grows", m->cc_stats.region_grows);
	bench_json_u64(&j, "failures", m->cc_foot.failures);
	bench_json_u64(&j, "waits", m->cc_stats.waits);
	bench_json_u64(&j, "wait_ns", m->cc_stats.wait_ns);
	bench_json_num(&j, "seconds", m->cc_foot.seconds);
	bench_json_end(&j);
	for (size_t i = 0; i < NBASE; i++) {
		const struct mix_result *b = &m->base_foot[i];

		bench_json_obj(&j, baselines[i]->name);
		bench_json_u64(&j, "peak_reserved_bytes", b->peak_reserved);
		bench_json_u64(&j, "peak_requested_bytes", b->peak_req);
		bench_json_num(&j, "footprint_ratio",
			       b->peak_req ? (double)b->peak_reserved / (double)b->peak_req : NAN);
		bench_json_u64(&j, "refused", b->failures);
		bench_json_end(&j);
	}
	bench_json_obj(&j, "fixed_capacity");
	bench_json_u64(&j, "capacity_bytes", m->capacity);
	for (size_t i = 0; i < NALLOC; i++) {
		bench_json_obj(&j, alloc_name(i));
		bench_json_u64(&j, "failures", m->frag[i].failures);
		bench_json_u64(&j, "frag_failures", m->frag[i].frag_failures);
		bench_json_u64(&j, "frag_failures_over_256k", m->frag[i].frag_oversize);
		bench_json_end(&j);
	}
	bench_json_end(&j);
	bench_json_end(&j);

	bench_json_obj(&j, "occupancy75");
	bench_json_u64(&j, "linux_pool_bytes", P->occ_pool);
	bench_json_u64(&j, "live", o->live);
	bench_json_u64(&j, "live_requested_bytes", o->live_req_bytes);
	bench_json_u64(&j, "linux_reserved_bytes", o->linux_reserved);
	bench_json_num(&j, "linux_ns_median", o->linux_ns);
	bench_json_num(&j, "ccdma_ns_median", o->ccdma_ns);
	bench_json_num(&j, "linux_slots_checked_per_alloc", o->linux_slots_per_alloc);
	bench_json_u64(&j, "linux_timed_failures", o->linux_timed_fail);
	bench_json_u64(&j, "ccdma_timed_failures", o->ccdma_timed_fail);
	bench_json_end(&j);

	bench_json_obj(&j, "nowait");
	bench_json_u64(&j, "pool_bytes", P->nw_pool);
	json_nw(&j, "noise_floor_empty_attempt", &w->noise);
	bench_json_obj(&j, "ccdma");
	bench_json_u64(&j, "filled_4k", (uint64_t)w->cc_filled);
	json_nw(&j, "4k_full", &w->cc_4k);
	json_nw(&j, "64k_full", &w->cc_64k);
	json_nw(&j, "64k_holes", &w->cc_64k_holes);
	bench_json_end(&j);
	bench_json_obj(&j, "linux-swiotlb");
	bench_json_u64(&j, "filled_4k", (uint64_t)w->lx_filled);
	json_nw(&j, "4k_full", &w->lx_4k);
	json_nw(&j, "64k_full", &w->lx_64k);
	json_nw(&j, "64k_holes", &w->lx_64k_holes);
	json_nw(&j, "64k_holes_64mib_pool", &w->lx64m_64k_holes);
	bench_json_end(&j);
	bench_json_end(&j);

	bench_json_num(&j, "elapsed_s", elapsed);
	bench_json_end(&j);
}

/* ------------------------------------------------------------------ */

/* --plot DIR: the footprint run's samples, and the fast path of every
 * allocator. */
static void plot_pool(const struct params *P, const struct fp_result *fp,
		      struct mix_report *m)
{
	struct bench_plot p;

	if (m->trace.dir[0])
		bench_plot_draw(&m->trace, "ccdma-bench pool [2]: the pool's size "
				"under the measured mix (grower on)",
				"set xlabel \"allocations and frees\"\n"
				"set ylabel \"MiB\"\n"
				"plot \"pool-mix-footprint.dat\" using 1:($3/1048576) "
				"with steps lw 2 title \"shared (the pool's regions)\", "
				"\"\" using 1:($4/1048576) with lines title "
				"\"in use (rounded to slots and pages)\", "
				"\"\" using 1:($2/1048576) with lines title "
				"\"requested in flight\"\n");
	if (bench_plot_open(&p, P->plot, "pool-fastpath"))
		return;
	fprintf(p.dat, "# allocator ns_per_pair Mpairs_per_s_1thread Mpairs_per_s_2threads\n");
	for (size_t i = 0; i < NALLOC; i++)
		fprintf(p.dat, "%s %.1f %.2f %.2f\n", alloc_name(i), fp[i].ns_median,
			fp[i].pps_1t / 1e6, fp[i].pps_2t / 1e6);
	bench_plot_draw(&p, "ccdma-bench pool [1]: 4 KiB alloc+free, ccdma and "
			"models of other bounce allocators",
			"set style data histograms\n"
			"set style histogram clustered gap 1\n"
			"set style fill solid 0.8 border -1\n"
			"set ylabel \"million pairs per second\"\n"
			"plot \"pool-fastpath.dat\" using 3:xtic(1) title \"1 thread\", "
			"\"\" using 4 title \"2 threads\"\n");
}

static void pool_usage(FILE *f)
{
	fprintf(f,
		"usage: ccdma-bench pool [--json] [--quick] [--share-cost] [--plot DIR]\n"
		"  ccdma's bounce pool vs models of the Linux swiotlb, OpenBSD SEV\n"
		"  and FreeBSD bounce allocators: fast path, two-thread scaling,\n"
		"  footprint and fragmentation on the measured size mix, the Linux\n"
		"  pool at 75%% occupancy, NOWAIT latency on an exhausted pool.\n"
		"  --json        one JSON object on stdout (the table goes to stderr)\n"
		"  --quick       shorter runs (about 10 s)\n"
		"  --share-cost  keep the modelled cost of making memory shared\n"
		"                (default: set to 0 for the run)\n"
		"  --plot DIR    gnuplot PNGs: the pool's size over the mix against\n"
		"                bytes in flight; ccdma against the baselines\n"
		"Exit status 0 whether or not targets are met; 1 on an internal error.\n");
}

int bench_pool_main(int argc, char **argv)
{
	struct params P;
	struct fp_result fp[NALLOC], mach;
	struct mix_report *m = calloc(1, sizeof(*m));
	struct occ_result occ;
	struct nw_report nw;
	uint64_t t0 = bench_now_ns();
	double elapsed;
	int rc;

	memset(&P, 0, sizeof(P));
	memset(section_s, 0, sizeof(section_s));
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			P.json = true;
		} else if (!strcmp(argv[i], "--quick")) {
			P.quick = true;
		} else if (!strcmp(argv[i], "--plot") && i + 1 < argc) {
			P.plot = argv[++i];
		} else if (!strcmp(argv[i], "--share-cost")) {
			P.share_cost = true;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			pool_usage(stdout);
			free(m);
			return 0;
		} else {
			fprintf(stderr, "ccdma-bench pool: unknown option '%s'\n", argv[i]);
			pool_usage(stderr);
			free(m);
			return 2;
		}
	}
	if (!m) {
		fprintf(stderr, "ccdma-bench pool: out of memory\n");
		return 1;
	}
	P.fp_batch = 1000;
	P.fp_samples = P.quick ? 300 : 2000;
	P.tp_seconds = P.quick ? 0.05 : 0.2;
	P.tp_rounds = P.quick ? 3 : 5;
	P.mix_inflight = 4096;
	P.mix_steps = P.quick ? 100000 : 200000;
	P.occ_pool = 64 * MIB;
	P.occ_steps = P.quick ? 4000 : 30000;
	P.occ_batch = 8;
	P.nw_pool = 4 * MIB;
	P.nw_attempts = P.quick ? 60000 : 300000;
	P.nw_big_attempts = P.quick ? 1000 : 4000;
	P.pr_pool = 32 * MIB;
	P.pr_steps = P.quick ? 200000 : 2000000;

	if (!P.share_cost)
		ccdma_share_cost_set_ns(0);

	memset(fp, 0, sizeof(fp));
	memset(&occ, 0, sizeof(occ));
	memset(&nw, 0, sizeof(nw));
	rc = bench_fastpath(&P, fp, &mach);
	section_s[0] = (double)(bench_now_ns() - t0) / 1e9;
	if (!rc)
		rc = bench_mix(&P, m);
	section_s[1] = (double)(bench_now_ns() - t0) / 1e9 - section_s[0];
	if (!rc)
		rc = bench_occupancy(&P, &occ);
	section_s[2] = (double)(bench_now_ns() - t0) / 1e9 - section_s[0] - section_s[1];
	if (!rc)
		rc = bench_nowait(&P, &nw);
	if (!rc)
		rc = bench_pressure(&P, &pressure);
	elapsed = (double)(bench_now_ns() - t0) / 1e9;
	if (rc || internal_errors) {
		fprintf(stderr, "ccdma-bench pool: failed (%d, %d internal errors)\n", rc,
			internal_errors);
		free(m);
		return 1;
	}
	if (P.plot)
		plot_pool(&P, fp, m);
	print_human(P.json ? stderr : stdout, &P, fp, &mach, m, &occ, &nw, elapsed);
	if (P.json)
		print_json(stdout, &P, fp, &mach, m, &occ, &nw, elapsed);
	free(m);
	return 0;
}
