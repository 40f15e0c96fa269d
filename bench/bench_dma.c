/* SPDX-License-Identifier: MIT */
/*
 * ccdma-bench dma: the dma layer's map/unmap paths (include/ccdma/dma.h)
 * against the physical floor measured in the same run.
 *
 *  [1] shared memory, no bounce: map_single + unmap_single of a 4 KiB
 *      buffer allocated from the device's pool, on a device in direct mode
 *      -> direct_map_unmap_ns.  Beside it (informational): a private buffer
 *      on the direct device, and pool memory on a confidential device.
 *  [2] bounce, 4 KiB, confidential device: map TO_DEVICE + unmap of a
 *      private buffer, and a plain memcpy of the same 4 KiB from the same
 *      source into the same bounce slot (allocated from the pool just
 *      before the memcpy batch and freed after it, untimed: the pool's
 *      thread cache is LIFO, so it is the slot the bounce uses; checked)
 *      -> bounce_4k_to_device_overhead_ns = bounce - memcpy (medians).
 *      FROM_DEVICE likewise, informational.
 *  [3] FROM_DEVICE mappings (map, the device writes through
 *      ccdma_dev_write, unmap) at 4 KiB, 64 KiB and 1 MiB: the pool's copy
 *      counters (bounce_copies_to_device + bounce_copies_from_device) over
 *      the number of mappings -> from_device_copies; the data that comes
 *      back is checked.
 *  [4] 64 KiB, 256 KiB, 1 MiB: bounced TO_DEVICE map+unmap ÷ memcpy of the
 *      same source into the same bounce slot, and FROM_DEVICE map+unmap ÷
 *      memcpy from that slot into the same private buffer
 *      -> bounce_copy_vs_memcpy_64k/_256k/_1m (throughput ratios, TO_DEVICE;
 *      FROM_DEVICE reported beside, with the floor memset + memcpy that the
 *      no-stale-data rule implies).
 *  [5] ownership checker off: map + mapping_error + unmap, 4 KiB bounce, on
 *      a checker-off device (A), the same loop through a copy of
 *      src/dma/map.c built into this program with the checker's hooks
 *      compiled out (B, bench_dma_ref.c), and A again on a second,
 *      identical device (A') -> checker_off_overhead_pct = median over
 *      rounds of (A - B) / median B; noise floor: the same for A - A'.
 *  [6] checker on (CCDMA_DEBUG=1: tracking + page protection; and tracking
 *      only): the same loop, informational.
 *  [7] the steps of one bounce at 4 KiB and 128 KiB (what a virtio-blk
 *      request pays beyond its copy, issue 14): map+unmap TO_DEVICE, and
 *      FROM_DEVICE with a reported length (as the virtio-blk driver maps
 *      a read); a pool allocation + free of the same size; the owner
 *      record (set + look up); memcpy into and out of a slot; and the
 *      cross-core copy of `ccdma-bench floor` (the slot's lines were just
 *      used by another core: the cache-line ping-pong).  Derived:
 *      other = map+unmap - pool - owner - copy (checks, translation,
 *      counters), pingpong = cross-core copy - memcpy.
 *
 * Every series is timed in batches with CLOCK_MONOTONIC; the series of one
 * section are interleaved batch by batch (rotating the order), so that
 * they see the same machine; figures are medians over batches.  One shared
 * pool (no grower, 32 MiB made at creation) serves every device; the sharing
 * cost is set to 0; every series is warmed up before it is timed.
 */
#define _POSIX_C_SOURCE 200809L

#include "bench.h"
#include "bench_dma_ref.h"

#include <ccdma/dma.h>
#include <ccdma/platform.h>
#include <ccdma/pool.h>

#include "pool/pool_dma.h" /* the owner record, timed alone in [7] */

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define KIB ((size_t)1024)
#define MIB ((size_t)1024 * 1024)
#define POOL_BYTES (32 * MIB)
#define BIG_MAX MIB

/* Targets of the design (DESIGN.md, "Performance targets", and the brief
 * of this benchmark). */
#define T_DIRECT_NS 15.0
#define T_BOUNCE4K_OVER_NS 60.0
#define T_FROM_DEV_COPIES 1.0
#define T_COPY_RATIO 0.9
/* Ours, from dma.h's "off, it costs one predictable branch per call". */
#define T_CHECKER_OFF_PCT 2.0 /* the target */

static int internal_errors;

#define INTERNAL(...)                                                     \
	do {                                                              \
		internal_errors++;                                        \
		fprintf(stderr, "ccdma-bench dma: error: " __VA_ARGS__);  \
		fputc('\n', stderr);                                      \
	} while (0)

static const char *verdict(bool ok)
{
	return ok ? "ok" : "MISSED";
}

/* ------------------------------------------------------------------ */
/* Statistics.                                                         */


/* Median over i of a[i] - b[i]. */
static double median_diff(const double *a, const double *b, size_t n)
{
	double *t = malloc((n ? n : 1) * sizeof(*t)), m;

	if (!t)
		return NAN;
	for (size_t i = 0; i < n; i++)
		t[i] = a[i] - b[i];
	m = bench_median(t, n);
	free(t);
	return m;
}

/* ------------------------------------------------------------------ */
/* Timed loops: one batch of n operations, elapsed ns.                 */


static __attribute__((noinline)) uint64_t
t_map_unmap(struct ccdma_dev *d, void *buf, size_t len, enum ccdma_dir dir,
	    unsigned n, ccdma_addr_t *last)
{
	ccdma_addr_t a = CCDMA_MAPPING_ERROR;
	uint64_t t0 = bench_now_ns();
	int bad = 0;

	for (unsigned i = 0; i < n; i++) {
		a = ccdma_map_single(d, buf, len, dir);
		if (__builtin_expect(a == CCDMA_MAPPING_ERROR, 0))
			break;
		bad |= ccdma_unmap_single(d, a, len, dir);
	}
	t0 = bench_now_ns() - t0;
	if (a == CCDMA_MAPPING_ERROR)
		INTERNAL("map_single(%zu bytes, %s) failed: %d", len,
			 dir == CCDMA_TO_DEVICE ? "TO_DEVICE" : "FROM_DEVICE",
			 ccdma_mapping_error(d, a));
	if (bad)
		INTERNAL("unmap_single(%zu bytes) failed: %d", len, bad);
	*last = a;
	return t0;
}

/* As a driver does it: map, ccdma_mapping_error(), unmap. */
static __attribute__((noinline)) uint64_t
t_map_err_unmap(struct ccdma_dev *d, void *buf, size_t len, unsigned n)
{
	uint64_t t0 = bench_now_ns();
	int bad = 0;

	for (unsigned i = 0; i < n; i++) {
		ccdma_addr_t a = ccdma_map_single(d, buf, len, CCDMA_TO_DEVICE);

		if (__builtin_expect(ccdma_mapping_error(d, a) != 0, 0)) {
			bad = -ENOMEM;
			break;
		}
		bad |= ccdma_unmap_single(d, a, len, CCDMA_TO_DEVICE);
	}
	t0 = bench_now_ns() - t0;
	if (bad)
		INTERNAL("map/unmap of %zu bytes failed: %d", len, bad);
	return t0;
}

#ifndef BENCH_DMA_NO_REF
/* The same through the copy of map.c with the checker compiled out.  The
 * _at functions get the same arguments as the macros pass. */
static __attribute__((noinline)) uint64_t
t_ref_map_err_unmap(struct ccdma_dev *d, void *buf, size_t len, unsigned n)
{
	uint64_t t0 = bench_now_ns();
	int bad = 0;

	for (unsigned i = 0; i < n; i++) {
		ccdma_addr_t a = ref_map_single_attrs_at(d, buf, len, CCDMA_TO_DEVICE,
							 0, __FILE__, __LINE__);

		if (__builtin_expect(ref_mapping_error(d, a) != 0, 0)) {
			bad = -ENOMEM;
			break;
		}
		bad |= ref_unmap_single_attrs_at(d, a, len, CCDMA_TO_DEVICE, 0,
						 __FILE__, __LINE__);
	}
	t0 = bench_now_ns() - t0;
	if (bad)
		INTERNAL("reference map/unmap of %zu bytes failed: %d", len, bad);
	return t0;
}
#endif

/* The floor of a FROM_DEVICE bounce under the no-stale-data rule: clear
 * the slot, copy it out. */
static __attribute__((noinline)) uint64_t
t_memset_memcpy(void *slot, void *out, size_t len, unsigned n)
{
	uint64_t t0 = bench_now_ns();

	for (unsigned i = 0; i < n; i++) {
		memset(slot, 0, len);
		BENCH_CLOBBER(slot);
		memcpy(out, slot, len);
		BENCH_CLOBBER(out);
	}
	return bench_now_ns() - t0;
}

static __attribute__((noinline)) uint64_t
t_map_unmap_written(struct ccdma_dev *d, void *buf, size_t len, unsigned n)
{
	uint64_t t0 = bench_now_ns();
	int bad = 0;

	for (unsigned i = 0; i < n; i++) {
		ccdma_addr_t a = ccdma_map_single_attrs(d, buf, len, CCDMA_FROM_DEVICE,
							CCDMA_ATTR_REPORTED_LEN);

		if (__builtin_expect(ccdma_mapping_error(d, a) != 0, 0)) {
			bad = -ENOMEM;
			break;
		}
		bad |= ccdma_unmap_single_written(d, a, len, CCDMA_FROM_DEVICE, len);
	}
	t0 = bench_now_ns() - t0;
	if (bad)
		INTERNAL("map/unmap_written of %zu bytes failed: %d", len, bad);
	return t0;
}

static __attribute__((noinline)) uint64_t
t_pool_pair(struct ccdma_pool *p, size_t len, unsigned n)
{
	uint64_t t0 = bench_now_ns();
	int bad = 0;

	for (unsigned i = 0; i < n; i++) {
		void *b;

		bad |= ccdma_pool_alloc(p, len, CCDMA_POOL_NOWAIT, &b);
		if (__builtin_expect(bad != 0, 0))
			break;
		bad |= ccdma_pool_free(p, b, len);
	}
	t0 = bench_now_ns() - t0;
	if (bad)
		INTERNAL("pool alloc/free of %zu bytes failed: %d", len, bad);
	return t0;
}

static __attribute__((noinline)) uint64_t
t_owner(struct ccdma_pool *p, void *slot, size_t len, unsigned n)
{
	struct ccdma_pool_owner o = { (uintptr_t)slot, (uint32_t)len, 1 }, g;
	uint64_t t0 = bench_now_ns();
	size_t asz;
	void *b;
	int bad = 0;

	for (unsigned i = 0; i < n; i++) {
		o.orig += i & 1;
		bad |= ccdma_pool_set_owner(p, slot, &o);
		bad |= ccdma_pool_get_owner(p, slot, &g, &b, &asz);
		BENCH_CLOBBER(&g);
	}
	t0 = bench_now_ns() - t0;
	if (bad)
		INTERNAL("owner record of %zu bytes failed: %d", len, bad);
	return t0;
}

/* ------------------------------------------------------------------ */
/* Interleaved series.                                                 */

enum job_kind {
	J_MAP_UNMAP,       /* map + unmap, dir */
	J_MAP_ERR_UNMAP,   /* map + mapping_error + unmap, TO_DEVICE */
	J_REF_MAP_ERR_UNMAP,
	J_MEMCPY_TO_SLOT,  /* memcpy buf -> a pool slot of len (same as bounce) */
	J_MEMCPY_FROM_SLOT,/* memcpy a pool slot of len -> buf */
	J_MEMSET_MEMCPY,   /* memset slot + memcpy slot -> buf */
	J_MEMCPY_PRIVATE,  /* memcpy buf -> dst (private memory) */
	J_MAP_UNMAP_WRITTEN, /* FROM_DEVICE + REPORTED_LEN, unmap_written(len) */
	J_POOL_PAIR,       /* ccdma_pool_alloc + ccdma_pool_free of len */
	J_OWNER,           /* set_owner + get_owner on a slot of len */
};

struct job {
	const char *name;
	enum job_kind kind;
	struct ccdma_dev *dev;
	struct ccdma_pool *pool;
	void *buf, *dst;
	size_t len;
	enum ccdma_dir dir;
	unsigned batch;            /* operations per sample */
	const struct job *partner; /* slot jobs: the bounce job to compare with */
	/* Checker jobs: the process-wide checker flags during the batch
	 * (page protection is decided at map time from them). */
	bool set_dbg;
	unsigned dbg_flags;
	/* results */
	double *ns;                /* per operation, one per sample */
	unsigned n;
	double med;
	ccdma_addr_t last;         /* bounce jobs: last DMA address */
	unsigned slot_samples, same_slot;
};

static uint64_t job_run(struct job *j, unsigned n)
{
	void *slot;
	uint64_t dt = 0;
	int rc;

	if (j->set_dbg)
		ccdma_debug_set(j->dbg_flags);
	switch (j->kind) {
	case J_MAP_UNMAP:
		return t_map_unmap(j->dev, j->buf, j->len, j->dir, n, &j->last);
	case J_MAP_ERR_UNMAP:
		return t_map_err_unmap(j->dev, j->buf, j->len, n);
	case J_REF_MAP_ERR_UNMAP:
#ifndef BENCH_DMA_NO_REF
		return t_ref_map_err_unmap(j->dev, j->buf, j->len, n);
#else
		return 0;
#endif
	case J_MEMCPY_PRIVATE:
		return bench_time_memcpy(j->dst, j->buf, j->len, n);
	case J_MAP_UNMAP_WRITTEN:
		return t_map_unmap_written(j->dev, j->buf, j->len, n);
	case J_POOL_PAIR:
		return t_pool_pair(j->pool, j->len, n);
	case J_OWNER:
	case J_MEMCPY_TO_SLOT:
	case J_MEMCPY_FROM_SLOT:
	case J_MEMSET_MEMCPY:
		rc = ccdma_pool_alloc(j->pool, j->len, CCDMA_POOL_NOWAIT, &slot);
		if (rc) {
			INTERNAL("ccdma_pool_alloc(%zu) = %d", j->len, rc);
			return 0;
		}
		if (j->kind == J_OWNER)
			dt = t_owner(j->pool, slot, j->len, n);
		else if (j->kind == J_MEMCPY_TO_SLOT)
			dt = bench_time_memcpy(slot, j->buf, j->len, n);
		else if (j->kind == J_MEMCPY_FROM_SLOT)
			dt = bench_time_memcpy(j->buf, slot, j->len, n);
		else
			dt = t_memset_memcpy(slot, j->buf, j->len, n);
		if (j->partner && j->partner->last != CCDMA_MAPPING_ERROR) {
			j->slot_samples++;
			/* Identity translation: DMA address = CPU address. */
			if ((uintptr_t)j->partner->last == (uintptr_t)slot)
				j->same_slot++;
		}
		rc = ccdma_pool_free(j->pool, slot, j->len);
		if (rc)
			INTERNAL("ccdma_pool_free(%zu) = %d", j->len, rc);
		return dt;
	}
	return 0;
}

/*
 * Warm every job up, then time `samples` batches of each, interleaved and
 * in rotating order; j->ns[] gets ns per operation, j->med the median.
 */
static int interleave(struct job *jobs, unsigned njobs, unsigned samples,
		      unsigned warm)
{
	for (unsigned k = 0; k < njobs; k++) {
		jobs[k].ns = calloc(samples, sizeof(double));
		jobs[k].n = samples;
		jobs[k].last = CCDMA_MAPPING_ERROR;
		if (!jobs[k].ns) {
			INTERNAL("out of memory");
			return -ENOMEM;
		}
	}
	for (unsigned w = 0; w < warm; w++)
		for (unsigned k = 0; k < njobs; k++)
			job_run(&jobs[k], jobs[k].batch);
	for (unsigned k = 0; k < njobs; k++) {
		jobs[k].slot_samples = 0;
		jobs[k].same_slot = 0;
	}
	for (unsigned s = 0; s < samples && !internal_errors; s++) {
		for (unsigned i = 0; i < njobs; i++) {
			struct job *j = &jobs[(i + s) % njobs];

			j->ns[s] = (double)job_run(j, j->batch) / j->batch;
		}
	}
	for (unsigned k = 0; k < njobs; k++)
		jobs[k].med = bench_median(jobs[k].ns, samples);
	return internal_errors ? -EIO : 0;
}

static void jobs_free(struct job *jobs, unsigned njobs)
{
	for (unsigned k = 0; k < njobs; k++) {
		free(jobs[k].ns);
		jobs[k].ns = NULL;
	}
}

/* ------------------------------------------------------------------ */
/* Setup.                                                              */

struct params {
	bool quick, json;
	unsigned small_samples;    /* batches for the 4 KiB series */
	unsigned small_batch;      /* operations per batch */
	unsigned chk_rounds;       /* [5] */
	unsigned chk_on_samples;   /* [6] */
	unsigned big_samples;      /* [4] */
	unsigned fd_count_4k;      /* [3] mappings */
	unsigned steps_samples;    /* [7] batches */
	unsigned steps_cross;      /* [7] cross-core transfers each way */
	unsigned warm;
};

struct env {
	struct ccdma_pool *pool;
	struct ccdma_dev *direct, *conf[2], *chk_on, *chk_track;
	unsigned env_debug;        /* checker flags found at start */
	unsigned char *src, *out, *pdst, *chkbuf;
	void *shared4k;
};

static int make_dev(struct env *e, const char *name, int mode, unsigned dbg,
		    struct ccdma_dev **out)
{
	struct ccdma_dev_config c;
	unsigned old;
	int rc;

	ccdma_dev_config_init(&c);
	c.name = name;
	c.mode = mode;
	c.pool = e->pool;
	old = ccdma_debug_set(dbg);
	rc = ccdma_dev_create(&c, out);
	ccdma_debug_set(old);
	if (rc) {
		INTERNAL("ccdma_dev_create(%s) = %d (%s)", name, rc, strerror(-rc));
		*out = NULL;
	}
	return rc;
}

static int env_setup(struct env *e)
{
	struct ccdma_pool_config pc;
	int rc;

	memset(e, 0, sizeof(*e));
	e->env_debug = ccdma_debug_get();
	ccdma_pool_config_init(&pc);
	pc.name = "bench-dma";
	pc.initial_bytes = POOL_BYTES;
	pc.flags = CCDMA_POOL_F_NO_GROWER;
	rc = ccdma_pool_create(&pc, &e->pool);
	if (rc) {
		INTERNAL("ccdma_pool_create(%zu MiB) = %d (%s)", POOL_BYTES / MIB,
			 rc, strerror(-rc));
		return rc;
	}
	if (make_dev(e, "direct", CCDMA_MODE_DIRECT, 0, &e->direct) ||
	    make_dev(e, "conf-a", CCDMA_MODE_CONFIDENTIAL, 0, &e->conf[0]) ||
	    make_dev(e, "conf-b", CCDMA_MODE_CONFIDENTIAL, 0, &e->conf[1]) ||
	    make_dev(e, "checker-on", CCDMA_MODE_CONFIDENTIAL,
		     CCDMA_DEBUG_ON | CCDMA_DEBUG_PROTECT, &e->chk_on) ||
	    make_dev(e, "checker-track", CCDMA_MODE_CONFIDENTIAL, CCDMA_DEBUG_ON,
		     &e->chk_track))
		return -EIO;
	e->src = aligned_alloc(4096, BIG_MAX);
	e->out = aligned_alloc(4096, BIG_MAX);
	e->pdst = aligned_alloc(4096, BIG_MAX);
	e->chkbuf = aligned_alloc(4096, 4096);
	if (!e->src || !e->out || !e->pdst || !e->chkbuf) {
		INTERNAL("out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < BIG_MAX; i++)
		e->src[i] = (unsigned char)(i * 131 + 7);
	memset(e->out, 0x11, BIG_MAX);
	memset(e->pdst, 0x22, BIG_MAX);
	memset(e->chkbuf, 0x33, 4096);
	rc = ccdma_pool_alloc(e->pool, 4096, CCDMA_POOL_NOWAIT, &e->shared4k);
	if (rc) {
		INTERNAL("ccdma_pool_alloc(4096) = %d", rc);
		return rc;
	}
	memset(e->shared4k, 0x44, 4096);
	return 0;
}

static void env_teardown(struct env *e)
{
	struct ccdma_dev *devs[] = { e->direct, e->conf[0], e->conf[1], e->chk_on,
				     e->chk_track };

	if (e->shared4k && ccdma_pool_free(e->pool, e->shared4k, 4096))
		INTERNAL("freeing the shared buffer failed");
	for (size_t i = 0; i < sizeof(devs) / sizeof(devs[0]); i++)
		if (devs[i] && ccdma_dev_destroy(devs[i]))
			INTERNAL("ccdma_dev_destroy: mappings left behind");
	ccdma_pool_destroy(e->pool);
	free(e->src);
	free(e->out);
	free(e->pdst);
	free(e->chkbuf);
}

/* ------------------------------------------------------------------ */
/* Sections.                                                           */

struct shared_result {
	double direct_ns, direct_private_ns, conf_shared_ns;
};

static int sec_shared(const struct params *P, struct env *e, struct shared_result *r)
{
	struct job j[3] = {
		{ .name = "direct, pool memory", .kind = J_MAP_UNMAP, .dev = e->direct,
		  .buf = e->shared4k, .len = 4096, .dir = CCDMA_TO_DEVICE },
		{ .name = "direct, private memory", .kind = J_MAP_UNMAP, .dev = e->direct,
		  .buf = e->src, .len = 4096, .dir = CCDMA_TO_DEVICE },
		{ .name = "confidential, pool memory", .kind = J_MAP_UNMAP,
		  .dev = e->conf[0], .buf = e->shared4k, .len = 4096,
		  .dir = CCDMA_TO_DEVICE },
	};
	struct ccdma_pool_stats a, b;
	int rc;

	for (int k = 0; k < 3; k++)
		j[k].batch = P->small_batch;
	if (ccdma_pool_get_stats(e->pool, &a))
		INTERNAL("ccdma_pool_get_stats failed");
	rc = interleave(j, 3, P->small_samples, P->warm);
	if (ccdma_pool_get_stats(e->pool, &b))
		INTERNAL("ccdma_pool_get_stats failed");
	/* Shared memory is never bounced: no allocation, no copy. */
	if (b.allocs != a.allocs || b.bounce_copies_to_device != a.bounce_copies_to_device)
		INTERNAL("mapping shared or reachable memory bounced (%llu allocations)",
			 (unsigned long long)(b.allocs - a.allocs));
	r->direct_ns = j[0].med;
	r->direct_private_ns = j[1].med;
	r->conf_shared_ns = j[2].med;
	jobs_free(j, 3);
	return rc;
}

struct bounce4k_result {
	double to_ns, memcpy_to_ns, over_to_ns;
	double from_ns, memcpy_from_ns, over_from_ns;
	unsigned same_slot, slot_samples;
};

static int sec_bounce4k(const struct params *P, struct env *e, struct bounce4k_result *r)
{
	struct job j[4] = {
		{ .name = "bounce TO_DEVICE", .kind = J_MAP_UNMAP, .dev = e->conf[0],
		  .buf = e->src, .len = 4096, .dir = CCDMA_TO_DEVICE },
		{ .name = "memcpy into the slot", .kind = J_MEMCPY_TO_SLOT,
		  .pool = e->pool, .buf = e->src, .len = 4096 },
		{ .name = "bounce FROM_DEVICE", .kind = J_MAP_UNMAP, .dev = e->conf[0],
		  .buf = e->out, .len = 4096, .dir = CCDMA_FROM_DEVICE },
		{ .name = "memcpy out of the slot", .kind = J_MEMCPY_FROM_SLOT,
		  .pool = e->pool, .buf = e->out, .len = 4096 },
	};
	int rc;

	j[1].partner = &j[0];
	j[3].partner = &j[2];
	for (int k = 0; k < 4; k++)
		j[k].batch = P->small_batch;
	rc = interleave(j, 4, P->small_samples, P->warm);
	r->to_ns = j[0].med;
	r->memcpy_to_ns = j[1].med;
	r->over_to_ns = j[0].med - j[1].med;
	r->from_ns = j[2].med;
	r->memcpy_from_ns = j[3].med;
	r->over_from_ns = j[2].med - j[3].med;
	r->same_slot = j[1].same_slot + j[3].same_slot;
	r->slot_samples = j[1].slot_samples + j[3].slot_samples;
	jobs_free(j, 4);
	return rc;
}

#define NFD 3
struct fromdev_result {
	size_t size[NFD];
	unsigned maps[NFD];
	uint64_t to_dev[NFD], from_dev[NFD], zeroed[NFD];
	double copies[NFD];
	unsigned maps_total;
	uint64_t copies_total;
	double copies_per_map;
};

static int sec_fromdev(const struct params *P, struct env *e, struct fromdev_result *r)
{
	static const size_t sizes[NFD] = { 4 * KIB, 64 * KIB, MIB };
	struct ccdma_dev *d = e->conf[0];

	memset(r, 0, sizeof(*r));
	for (int k = 0; k < NFD && !internal_errors; k++) {
		size_t len = sizes[k];
		unsigned n = (unsigned)(P->fd_count_4k / (len / (4 * KIB)));
		struct ccdma_pool_stats a, b;

		if (n < 8)
			n = 8;
		if (ccdma_pool_get_stats(e->pool, &a)) {
			INTERNAL("ccdma_pool_get_stats failed");
			return -EIO;
		}
		for (unsigned i = 0; i < n; i++) {
			ccdma_addr_t a_dma = ccdma_map_single(d, e->out, len,
							      CCDMA_FROM_DEVICE);
			int rc;

			if (ccdma_mapping_error(d, a_dma)) {
				INTERNAL("map FROM_DEVICE %zu: %d", len,
					 ccdma_mapping_error(d, a_dma));
				return -EIO;
			}
			/* The device writes the whole buffer: the source
			 * pattern, shifted by i so that every mapping's data
			 * differs. */
			rc = ccdma_dev_write(d, a_dma, e->src + (i % 64), len - 64);
			if (!rc)
				rc = ccdma_dev_write(d, a_dma + len - 64, e->src, 64);
			if (rc) {
				INTERNAL("ccdma_dev_write(%zu) = %d", len, rc);
				return -EIO;
			}
			rc = ccdma_unmap_single(d, a_dma, len, CCDMA_FROM_DEVICE);
			if (rc) {
				INTERNAL("unmap FROM_DEVICE %zu = %d", len, rc);
				return -EIO;
			}
			if (memcmp(e->out, e->src + (i % 64), len - 64) ||
			    memcmp(e->out + len - 64, e->src, 64)) {
				INTERNAL("FROM_DEVICE %zu: the buffer does not hold what "
					 "the device wrote", len);
				return -EIO;
			}
		}
		if (ccdma_pool_get_stats(e->pool, &b)) {
			INTERNAL("ccdma_pool_get_stats failed");
			return -EIO;
		}
		r->size[k] = len;
		r->maps[k] = n;
		r->to_dev[k] = b.bounce_copies_to_device - a.bounce_copies_to_device;
		r->from_dev[k] = b.bounce_copies_from_device - a.bounce_copies_from_device;
		r->zeroed[k] = b.zeroed_bytes - a.zeroed_bytes;
		r->copies[k] = (double)(r->to_dev[k] + r->from_dev[k]) / n;
		r->maps_total += n;
		r->copies_total += r->to_dev[k] + r->from_dev[k];
	}
	r->copies_per_map = r->maps_total ? (double)r->copies_total / r->maps_total : NAN;
	return internal_errors ? -EIO : 0;
}

#define NBIG 3
struct big_result {
	size_t size;
	unsigned batch;
	double to_ns, memcpy_to_ns, from_ns, memcpy_from_ns, floor_from_ns;
	double memcpy_private_ns;
	double ratio_to, ratio_from, ratio_from_floor, ratio_to_private;
	double zeroed_per_map;
	unsigned same_slot, slot_samples, distinct_slots;
};

/* Distinct bounce addresses over 16 consecutive mappings. */
static unsigned distinct_slots(struct ccdma_dev *d, void *buf, size_t len)
{
	ccdma_addr_t seen[16];
	unsigned nseen = 0;

	for (int i = 0; i < 16; i++) {
		ccdma_addr_t a = ccdma_map_single(d, buf, len, CCDMA_TO_DEVICE);
		bool dup = false;

		if (ccdma_mapping_error(d, a)) {
			INTERNAL("map %zu failed", len);
			return 0;
		}
		for (unsigned k = 0; k < nseen; k++)
			dup |= seen[k] == a;
		if (!dup)
			seen[nseen++] = a;
		if (ccdma_unmap_single(d, a, len, CCDMA_TO_DEVICE))
			INTERNAL("unmap %zu failed", len);
	}
	return nseen;
}

static int sec_big(const struct params *P, struct env *e, struct big_result *res)
{
	static const size_t sizes[NBIG] = { 64 * KIB, 256 * KIB, MIB };

	for (int s = 0; s < NBIG && !internal_errors; s++) {
		size_t len = sizes[s];
		/* About 64 KiB .. 256 KiB copied per batch. */
		unsigned batch = len >= MIB ? 1 : (unsigned)(256 * KIB / len);
		struct big_result *r = &res[s];
		struct job j[6] = {
			{ .name = "bounce TO_DEVICE", .kind = J_MAP_UNMAP, .dev = e->conf[0],
			  .buf = e->src, .len = len, .dir = CCDMA_TO_DEVICE },
			{ .name = "memcpy into the slot", .kind = J_MEMCPY_TO_SLOT,
			  .pool = e->pool, .buf = e->src, .len = len },
			{ .name = "bounce FROM_DEVICE", .kind = J_MAP_UNMAP, .dev = e->conf[0],
			  .buf = e->out, .len = len, .dir = CCDMA_FROM_DEVICE },
			{ .name = "memcpy out of the slot", .kind = J_MEMCPY_FROM_SLOT,
			  .pool = e->pool, .buf = e->out, .len = len },
			{ .name = "memset + memcpy out of the slot", .kind = J_MEMSET_MEMCPY,
			  .pool = e->pool, .buf = e->out, .len = len },
			{ .name = "memcpy into private memory", .kind = J_MEMCPY_PRIVATE,
			  .buf = e->src, .dst = e->pdst, .len = len },
		};
		struct ccdma_pool_stats a, b;
		ccdma_addr_t last;
		int rc;

		j[1].partner = &j[0];
		j[3].partner = &j[2];
		j[4].partner = &j[2];
		for (int k = 0; k < 6; k++)
			j[k].batch = batch;
		memset(r, 0, sizeof(*r));
		r->size = len;
		r->batch = batch;
		r->distinct_slots = distinct_slots(e->conf[0], e->src, len);
		rc = interleave(j, 6, P->big_samples, P->warm);
		if (rc) {
			jobs_free(j, 6);
			return rc;
		}
		r->to_ns = j[0].med;
		r->memcpy_to_ns = j[1].med;
		r->from_ns = j[2].med;
		r->memcpy_from_ns = j[3].med;
		r->floor_from_ns = j[4].med;
		r->memcpy_private_ns = j[5].med;
		r->ratio_to = r->memcpy_to_ns / r->to_ns;
		r->ratio_from = r->memcpy_from_ns / r->from_ns;
		r->ratio_from_floor = r->floor_from_ns / r->from_ns;
		r->ratio_to_private = r->memcpy_private_ns / r->to_ns;
		r->same_slot = j[1].same_slot + j[3].same_slot + j[4].same_slot;
		r->slot_samples = j[1].slot_samples + j[3].slot_samples + j[4].slot_samples;
		jobs_free(j, 6);
		/* What the no-stale-data rule clears per FROM_DEVICE mapping. */
		if (ccdma_pool_get_stats(e->pool, &a))
			INTERNAL("ccdma_pool_get_stats failed");
		t_map_unmap(e->conf[0], e->out, len, CCDMA_FROM_DEVICE, 8, &last);
		if (ccdma_pool_get_stats(e->pool, &b))
			INTERNAL("ccdma_pool_get_stats failed");
		r->zeroed_per_map = (double)(b.zeroed_bytes - a.zeroed_bytes) / 8;
	}
	return internal_errors ? -EIO : 0;
}

struct checker_result {
	bool have_ref;
	double a_ns, b_ns, a2_ns;        /* bounce 4 KiB: lib, ref, lib dev 2 */
	double over_ns, noise_ns;        /* median paired differences */
	double over_pct, noise_pct;
	double da_ns, db_ns, dover_ns, dover_pct; /* direct, pool memory */
	double off_ns, on_ns, track_ns;  /* [6] */
};

static int sec_checker(const struct params *P, struct env *e, struct checker_result *r)
{
	struct job j[5] = {
		{ .name = "A: library, checker off", .kind = J_MAP_ERR_UNMAP,
		  .dev = e->conf[0], .buf = e->src, .len = 4096 },
		{ .name = "B: checker compiled out", .kind = J_REF_MAP_ERR_UNMAP,
		  .dev = e->conf[0], .buf = e->src, .len = 4096 },
		{ .name = "A': library, second device", .kind = J_MAP_ERR_UNMAP,
		  .dev = e->conf[1], .buf = e->src, .len = 4096 },
		{ .name = "direct A", .kind = J_MAP_ERR_UNMAP, .dev = e->direct,
		  .buf = e->shared4k, .len = 4096 },
		{ .name = "direct B", .kind = J_REF_MAP_ERR_UNMAP, .dev = e->direct,
		  .buf = e->shared4k, .len = 4096 },
	};
	struct job on[3] = {
		{ .name = "checker off", .kind = J_MAP_ERR_UNMAP, .dev = e->conf[0],
		  .buf = e->chkbuf, .len = 4096 },
		{ .name = "checker on (CCDMA_DEBUG=1)", .kind = J_MAP_ERR_UNMAP,
		  .dev = e->chk_on, .buf = e->chkbuf, .len = 4096 },
		{ .name = "checker on, no page protection", .kind = J_MAP_ERR_UNMAP,
		  .dev = e->chk_track, .buf = e->chkbuf, .len = 4096 },
	};
	unsigned nj = 5;
	int rc;

	memset(r, 0, sizeof(*r));
#ifdef BENCH_DMA_NO_REF
	/* No reference: A and A' only. */
	j[1] = j[2];
	nj = 2;
#else
	r->have_ref = true;
#endif
	for (unsigned k = 0; k < nj; k++)
		j[k].batch = P->small_batch;
	rc = interleave(j, nj, P->chk_rounds, P->warm);
	if (!rc) {
		if (r->have_ref) {
			r->a_ns = j[0].med;
			r->b_ns = j[1].med;
			r->a2_ns = j[2].med;
			r->over_ns = median_diff(j[0].ns, j[1].ns, P->chk_rounds);
			r->noise_ns = median_diff(j[0].ns, j[2].ns, P->chk_rounds);
			r->over_pct = 100.0 * r->over_ns / r->b_ns;
			r->noise_pct = 100.0 * fabs(r->noise_ns) / r->a2_ns;
			r->da_ns = j[3].med;
			r->db_ns = j[4].med;
			r->dover_ns = median_diff(j[3].ns, j[4].ns, P->chk_rounds);
			r->dover_pct = 100.0 * r->dover_ns / r->db_ns;
		} else {
			r->a_ns = j[0].med;
			r->a2_ns = j[1].med;
			r->noise_ns = median_diff(j[0].ns, j[1].ns, P->chk_rounds);
			r->noise_pct = 100.0 * fabs(r->noise_ns) / r->a2_ns;
			r->over_ns = r->over_pct = r->b_ns = NAN;
			r->da_ns = r->db_ns = r->dover_ns = r->dover_pct = NAN;
		}
	}
	jobs_free(j, nj);
	if (rc)
		return rc;

	for (int k = 0; k < 3; k++) {
		on[k].batch = P->small_batch / 10;
		on[k].set_dbg = true;
	}
	on[0].dbg_flags = 0;
	on[1].dbg_flags = CCDMA_DEBUG_ON | CCDMA_DEBUG_PROTECT;
	on[2].dbg_flags = CCDMA_DEBUG_ON;
	rc = interleave(on, 3, P->chk_on_samples, P->warm);
	ccdma_debug_set(e->env_debug);
	r->off_ns = on[0].med;
	r->on_ns = on[1].med;
	r->track_ns = on[2].med;
	jobs_free(on, 3);
	if (!rc && ccdma_debug_count(CCDMA_DBG_NKINDS)) {
		INTERNAL("the ownership checker reported %llu misuses of the benchmark",
			 (unsigned long long)ccdma_debug_count(CCDMA_DBG_NKINDS));
		rc = -EIO;
	}
	return rc;
}


#define NSTEP 2
struct steps_result {
	size_t size;
	unsigned batch;
	double to_ns, from_ns, pool_ns, owner_ns, copy_to_ns, copy_from_ns;
	double other_to_ns, other_from_ns;
	double cross_in_ns, cross_out_ns, pingpong_in_ns, pingpong_out_ns;
};

static const char *const step_key[NSTEP] = { "4k", "128k" };

/* [7] one bounce, step by step (see the header). */
static int sec_steps(const struct params *P, struct env *e, struct steps_result *res)
{
	static const size_t sizes[NSTEP] = { 4 * KIB, 128 * KIB };

	for (int s = 0; s < NSTEP && !internal_errors; s++) {
		size_t len = sizes[s];
		unsigned batch = len >= 128 * KIB ? 4 : P->small_batch / 4;
		struct steps_result *r = &res[s];
		struct job j[6] = {
			{ .name = "map+unmap TO_DEVICE", .kind = J_MAP_UNMAP,
			  .dev = e->conf[0], .buf = e->src, .len = len,
			  .dir = CCDMA_TO_DEVICE },
			{ .name = "map+unmap_written FROM_DEVICE", .kind = J_MAP_UNMAP_WRITTEN,
			  .dev = e->conf[0], .buf = e->out, .len = len },
			{ .name = "pool alloc+free", .kind = J_POOL_PAIR, .pool = e->pool,
			  .len = len },
			{ .name = "owner set+get", .kind = J_OWNER, .pool = e->pool,
			  .len = len },
			{ .name = "memcpy into the slot", .kind = J_MEMCPY_TO_SLOT,
			  .pool = e->pool, .buf = e->src, .len = len },
			{ .name = "memcpy out of the slot", .kind = J_MEMCPY_FROM_SLOT,
			  .pool = e->pool, .buf = e->out, .len = len },
		};
		int rc;

		for (int k = 0; k < 6; k++)
			j[k].batch = batch;
		memset(r, 0, sizeof(*r));
		r->size = len;
		r->batch = batch;
		rc = interleave(j, 6, P->steps_samples, P->warm);
		if (!rc)
			rc = bench_floor_cross(len, 1, P->steps_cross, &r->cross_out_ns,
					       &r->cross_in_ns);
		if (rc) {
			if (!internal_errors)
				INTERNAL("cross-core copy of %zu bytes: %d", len, rc);
			jobs_free(j, 6);
			return rc;
		}
		r->to_ns = j[0].med;
		r->from_ns = j[1].med;
		r->pool_ns = j[2].med;
		r->owner_ns = j[3].med;
		r->copy_to_ns = j[4].med;
		r->copy_from_ns = j[5].med;
		r->other_to_ns = r->to_ns - r->pool_ns - r->owner_ns - r->copy_to_ns;
		r->other_from_ns = r->from_ns - r->pool_ns - r->owner_ns - r->copy_from_ns;
		r->pingpong_in_ns = r->cross_in_ns - r->copy_to_ns;
		r->pingpong_out_ns = r->cross_out_ns - r->copy_from_ns;
		jobs_free(j, 6);
	}
	return internal_errors ? -EIO : 0;
}

/* ------------------------------------------------------------------ */
/* Output.                                                             */

struct results {
	struct shared_result sh;
	struct bounce4k_result b4;
	struct fromdev_result fd;
	struct big_result big[NBIG];
	struct checker_result ck;
	struct steps_result st[NSTEP];
	double elapsed, section_s[6];
};

static const char *const big_key[NBIG] = { "64k", "256k", "1m" };

static bool met_direct(const struct results *R) { return R->sh.direct_ns <= T_DIRECT_NS; }
static bool met_b4(const struct results *R) { return R->b4.over_to_ns <= T_BOUNCE4K_OVER_NS; }
static bool met_fd(const struct results *R)
{
	return R->fd.copies_per_map == T_FROM_DEV_COPIES;
}
static bool met_big(const struct results *R, int s)
{
	return R->big[s].ratio_to >= T_COPY_RATIO;
}
static bool met_chk(const struct results *R)
{
	return R->ck.have_ref && R->ck.over_pct <= T_CHECKER_OFF_PCT;
}

static void print_human(FILE *f, const struct params *P, const struct env *e,
			const struct results *R)
{
	fprintf(f, "ccdma-bench dma (%s): map/unmap paths of the dma layer against "
		   "memcpy in the same run\n", P->quick ? "quick" : "full");
	fprintf(f, "sharing cost: set to 0; one pool of %zu MiB, no grower; medians "
		   "over batches, series interleaved\n", POOL_BYTES / MIB);
	if (e->env_debug)
		fprintf(f, "note: CCDMA_DEBUG is set; the devices measured with the "
			   "checker off were created with it off\n");

	fprintf(f, "\n%-34s %12s %10s  %s\n", "figure", "value", "target", "");
	fprintf(f, "%-34s %9.1f ns %10s  %s\n", "direct_map_unmap_ns", R->sh.direct_ns,
		"<= 15", verdict(met_direct(R)));
	fprintf(f, "%-34s %9.1f ns %10s  %s (%.1f - %.1f)\n",
		"bounce_4k_to_device_overhead_ns", R->b4.over_to_ns, "<= 60",
		verdict(met_b4(R)), R->b4.to_ns, R->b4.memcpy_to_ns);
	fprintf(f, "%-34s %12.3f %10s  %s (%llu copies / %u mappings)\n",
		"from_device_copies", R->fd.copies_per_map, "= 1", verdict(met_fd(R)),
		(unsigned long long)R->fd.copies_total, R->fd.maps_total);
	for (int s = 0; s < NBIG; s++) {
		char key[48];

		snprintf(key, sizeof(key), "bounce_copy_vs_memcpy_%s", big_key[s]);
		fprintf(f, "%-34s %12.3f %10s  %s (FROM_DEVICE %.3f)\n", key,
			R->big[s].ratio_to, ">= 0.9", verdict(met_big(R, s)),
			R->big[s].ratio_from);
	}
	if (R->ck.have_ref)
		fprintf(f, "%-34s %11.2f%% %10s  %s (noise floor %.2f%%)\n",
			"checker_off_overhead_pct", R->ck.over_pct, "<= 2%",
			verdict(met_chk(R)), R->ck.noise_pct);
	else
		fprintf(f, "%-34s %12s %10s  (no reference build: objcopy missing)\n",
			"checker_off_overhead_pct", "n/a", "<= 2%");

	fprintf(f, "\n[1] 4 KiB already reachable, map + unmap (median of %u batches "
		   "of %u)\n", P->small_samples, P->small_batch);
	fprintf(f, "  direct device, pool memory          %8.1f ns\n", R->sh.direct_ns);
	fprintf(f, "  direct device, private memory       %8.1f ns\n",
		R->sh.direct_private_ns);
	fprintf(f, "  confidential device, pool memory    %8.1f ns\n", R->sh.conf_shared_ns);

	fprintf(f, "\n[2] 4 KiB bounce, confidential device (median of %u batches of %u);"
		   " memcpy into/out of\n    the same bounce slot (%u of %u checks: "
		   "same address)\n", P->small_samples, P->small_batch,
		R->b4.same_slot, R->b4.slot_samples);
	fprintf(f, "  %-12s %10s %10s %10s\n", "", "map+unmap", "memcpy", "overhead");
	fprintf(f, "  %-12s %7.1f ns %7.1f ns %7.1f ns\n", "TO_DEVICE", R->b4.to_ns,
		R->b4.memcpy_to_ns, R->b4.over_to_ns);
	fprintf(f, "  %-12s %7.1f ns %7.1f ns %7.1f ns  (includes clearing the slot: "
		   "no stale data)\n", "FROM_DEVICE", R->b4.from_ns, R->b4.memcpy_from_ns,
		R->b4.over_from_ns);

	fprintf(f, "\n[3] FROM_DEVICE: map, device writes all of it (ccdma_dev_write), "
		   "unmap; pool copy counters\n");
	fprintf(f, "  %8s %8s %10s %10s %8s %14s\n", "size", "maps", "to device",
		"from dev", "copies", "zeroed/map");
	for (int k = 0; k < NFD; k++)
		fprintf(f, "  %7zuK %8u %10llu %10llu %8.3f %14.0f\n",
			R->fd.size[k] / KIB, R->fd.maps[k],
			(unsigned long long)R->fd.to_dev[k],
			(unsigned long long)R->fd.from_dev[k], R->fd.copies[k],
			(double)R->fd.zeroed[k] / R->fd.maps[k]);

	fprintf(f, "\n[4] large bounces vs memcpy of the same bytes (median of %u batches;"
		   " memcpy into/out of the\n    bounce slot itself; ratio = memcpy "
		   "time / bounce time)\n", P->big_samples);
	fprintf(f, "  %6s %6s %9s %9s %7s | %9s %9s %7s %11s %7s | %9s %6s %6s\n",
		"size", "batch", "TO us", "memcpy", "ratio", "FROM us", "memcpy", "ratio",
		"memset+cpy", "ratio", "priv dst", "slots", "same");
	for (int s = 0; s < NBIG; s++) {
		const struct big_result *b = &R->big[s];

		fprintf(f, "  %5zuK %6u %9.2f %9.2f %7.3f | %9.2f %9.2f %7.3f %11.2f %7.3f"
			   " | %9.2f %6u %3u/%u\n", b->size / KIB, b->batch,
			b->to_ns / 1e3, b->memcpy_to_ns / 1e3, b->ratio_to,
			b->from_ns / 1e3, b->memcpy_from_ns / 1e3, b->ratio_from,
			b->floor_from_ns / 1e3, b->ratio_from_floor,
			b->memcpy_private_ns / 1e3, b->distinct_slots, b->same_slot,
			b->slot_samples);
	}
	fprintf(f, "  (GB/s TO_DEVICE bounce / memcpy:");
	for (int s = 0; s < NBIG; s++)
		fprintf(f, " %s %.1f/%.1f", big_key[s],
			(double)R->big[s].size / R->big[s].to_ns,
			(double)R->big[s].size / R->big[s].memcpy_to_ns);
	fprintf(f, ")\n  (zeroed per FROM_DEVICE mapping:");
	for (int s = 0; s < NBIG; s++)
		fprintf(f, " %s %.0f", big_key[s], R->big[s].zeroed_per_map);
	fprintf(f, " bytes; slots: distinct bounce\n   addresses over 16 mappings; "
		   "priv dst: memcpy into a private buffer, us)\n");

	fprintf(f, "\n[5] checker off: map + mapping_error + unmap, 4 KiB bounce, %u "
		   "interleaved rounds of %u\n", P->chk_rounds, P->small_batch);
	if (R->ck.have_ref) {
		fprintf(f, "  %-46s %9.2f ns\n", "A  library, checker-off device", R->ck.a_ns);
		fprintf(f, "  %-46s %9.2f ns\n", "B  map.c with the checker compiled out",
			R->ck.b_ns);
		fprintf(f, "  %-46s %9.2f ns\n", "A' library, second identical device",
			R->ck.a2_ns);
		fprintf(f, "  median(A - B)  = %+.2f ns = %+.2f%%   (checker_off_overhead_pct)\n",
			R->ck.over_ns, R->ck.over_pct);
		fprintf(f, "  median(A - A') = %+.2f ns = %.2f%%    (noise floor)\n",
			R->ck.noise_ns, R->ck.noise_pct);
		fprintf(f, "  direct device, pool memory: A %.2f ns, B %.2f ns, "
			   "median(A - B) %+.2f ns = %+.2f%%\n", R->ck.da_ns, R->ck.db_ns,
			R->ck.dover_ns, R->ck.dover_pct);
	} else {
		fprintf(f, "  no reference build; A %.2f ns, A' %.2f ns, noise %.2f%%\n",
			R->ck.a_ns, R->ck.a2_ns, R->ck.noise_pct);
	}
	fprintf(f, "\n[6] checker on, same loop (median of %u batches of %u)\n",
		P->chk_on_samples, P->small_batch / 10);
	fprintf(f, "  %-46s %9.1f ns\n", "off", R->ck.off_ns);
	fprintf(f, "  %-46s %9.1f ns  (+%.1f ns)\n",
		"on, CCDMA_DEBUG=1 (tracking + page protection)", R->ck.on_ns,
		R->ck.on_ns - R->ck.off_ns);
	fprintf(f, "  %-46s %9.1f ns  (+%.1f ns)\n", "on, tracking only (CCDMA_DEBUG_ON)",
		R->ck.track_ns, R->ck.track_ns - R->ck.off_ns);
	fprintf(f, "\n[7] one bounce, step by step (median of %u batches; ns per "
		   "operation)\n", P->steps_samples);
	fprintf(f, "  %6s %9s %9s %8s %8s %9s %9s %9s %9s %9s %9s\n", "size",
		"map TO", "map FROM", "pool", "owner", "cpy in", "cpy out",
		"other TO", "other FR", "pp in", "pp out");
	for (int s = 0; s < NSTEP; s++) {
		const struct steps_result *t = &R->st[s];

		fprintf(f, "  %5zuK %9.1f %9.1f %8.1f %8.1f %9.1f %9.1f %9.1f %9.1f "
			   "%9.1f %9.1f\n", t->size / KIB, t->to_ns, t->from_ns,
			t->pool_ns, t->owner_ns, t->copy_to_ns, t->copy_from_ns,
			t->other_to_ns, t->other_from_ns, t->pingpong_in_ns,
			t->pingpong_out_ns);
	}
	fprintf(f, "  (map FROM: REPORTED_LEN, unmap_written of all of it, as a "
		   "virtio-blk read;\n   other = map - pool - owner - copy; pp = "
		   "cross-core copy - memcpy: the ping-pong)\n");
	fprintf(f, "\nelapsed %.1f s ([1] %.1f, [2] %.1f, [3] %.1f, [4] %.1f, "
		   "[5]+[6] %.1f, [7] %.1f)\n", R->elapsed, R->section_s[0],
		R->section_s[1], R->section_s[2], R->section_s[3], R->section_s[4],
		R->section_s[5]);
}

static void print_json(FILE *f, const struct params *P, const struct results *R)
{
	struct bench_json j;
	char key[64];

	bench_json_begin(&j, f);
	bench_json_obj(&j, NULL);
	bench_json_str(&j, "benchmark", "dma");
	bench_json_bool(&j, "quick", P->quick);
	bench_json_u64(&j, "share_cost_ns", ccdma_share_cost_get_ns());
	bench_json_num(&j, "direct_map_unmap_ns", R->sh.direct_ns);
	bench_json_num(&j, "bounce_4k_to_device_overhead_ns", R->b4.over_to_ns);
	bench_json_num(&j, "bounce_4k_to_device_ns", R->b4.to_ns);
	bench_json_num(&j, "memcpy_4k_ns", R->b4.memcpy_to_ns);
	bench_json_num(&j, "from_device_copies", R->fd.copies_per_map);
	for (int s = 0; s < NBIG; s++) {
		snprintf(key, sizeof(key), "bounce_copy_vs_memcpy_%s", big_key[s]);
		bench_json_num(&j, key, R->big[s].ratio_to);
	}
	for (int s = 0; s < NBIG; s++) {
		snprintf(key, sizeof(key), "bounce_copy_vs_memcpy_%s_from_device", big_key[s]);
		bench_json_num(&j, key, R->big[s].ratio_from);
	}
	bench_json_num(&j, "checker_off_overhead_pct",
		       R->ck.have_ref ? R->ck.over_pct : NAN);
	bench_json_num(&j, "checker_off_noise_floor_pct", R->ck.noise_pct);
	bench_json_num(&j, "checker_on_map_unmap_ns", R->ck.on_ns);
	bench_json_num(&j, "checker_on_extra_ns", R->ck.on_ns - R->ck.off_ns);

	bench_json_obj(&j, "targets");
	bench_json_num(&j, "direct_map_unmap_ns_max", T_DIRECT_NS);
	bench_json_num(&j, "bounce_4k_to_device_overhead_ns_max", T_BOUNCE4K_OVER_NS);
	bench_json_num(&j, "from_device_copies_eq", T_FROM_DEV_COPIES);
	bench_json_num(&j, "bounce_copy_vs_memcpy_min", T_COPY_RATIO);
	bench_json_num(&j, "checker_off_overhead_pct_max", T_CHECKER_OFF_PCT);
	bench_json_end(&j);

	bench_json_obj(&j, "met");
	bench_json_bool(&j, "direct_map_unmap_ns", met_direct(R));
	bench_json_bool(&j, "bounce_4k_to_device_overhead_ns", met_b4(R));
	bench_json_bool(&j, "from_device_copies", met_fd(R));
	for (int s = 0; s < NBIG; s++) {
		snprintf(key, sizeof(key), "bounce_copy_vs_memcpy_%s", big_key[s]);
		bench_json_bool(&j, key, met_big(R, s));
	}
	bench_json_bool(&j, "checker_off_overhead_pct", met_chk(R));
	bench_json_end(&j);

	bench_json_obj(&j, "shared");
	bench_json_num(&j, "direct_pool_memory_ns", R->sh.direct_ns);
	bench_json_num(&j, "direct_private_memory_ns", R->sh.direct_private_ns);
	bench_json_num(&j, "confidential_pool_memory_ns", R->sh.conf_shared_ns);
	bench_json_end(&j);

	bench_json_obj(&j, "bounce_4k");
	bench_json_num(&j, "to_device_ns", R->b4.to_ns);
	bench_json_num(&j, "memcpy_to_slot_ns", R->b4.memcpy_to_ns);
	bench_json_num(&j, "to_device_overhead_ns", R->b4.over_to_ns);
	bench_json_num(&j, "from_device_ns", R->b4.from_ns);
	bench_json_num(&j, "memcpy_from_slot_ns", R->b4.memcpy_from_ns);
	bench_json_num(&j, "from_device_overhead_ns", R->b4.over_from_ns);
	bench_json_u64(&j, "baseline_same_slot", R->b4.same_slot);
	bench_json_u64(&j, "baseline_slot_checks", R->b4.slot_samples);
	bench_json_end(&j);

	bench_json_obj(&j, "from_device");
	bench_json_u64(&j, "mappings", R->fd.maps_total);
	bench_json_u64(&j, "copies", R->fd.copies_total);
	for (int k = 0; k < NFD; k++) {
		snprintf(key, sizeof(key), "%zuk", R->fd.size[k] / KIB);
		bench_json_obj(&j, key);
		bench_json_u64(&j, "mappings", R->fd.maps[k]);
		bench_json_u64(&j, "copies_to_device", R->fd.to_dev[k]);
		bench_json_u64(&j, "copies_from_device", R->fd.from_dev[k]);
		bench_json_num(&j, "copies_per_mapping", R->fd.copies[k]);
		bench_json_num(&j, "zeroed_bytes_per_mapping",
			       (double)R->fd.zeroed[k] / R->fd.maps[k]);
		bench_json_end(&j);
	}
	bench_json_end(&j);

	bench_json_obj(&j, "large");
	for (int s = 0; s < NBIG; s++) {
		const struct big_result *b = &R->big[s];

		bench_json_obj(&j, big_key[s]);
		bench_json_u64(&j, "bytes", b->size);
		bench_json_u64(&j, "batch", b->batch);
		bench_json_num(&j, "to_device_ns", b->to_ns);
		bench_json_num(&j, "memcpy_to_slot_ns", b->memcpy_to_ns);
		bench_json_num(&j, "ratio_to_device", b->ratio_to);
		bench_json_num(&j, "from_device_ns", b->from_ns);
		bench_json_num(&j, "memcpy_from_slot_ns", b->memcpy_from_ns);
		bench_json_num(&j, "ratio_from_device", b->ratio_from);
		bench_json_num(&j, "memset_memcpy_from_slot_ns", b->floor_from_ns);
		bench_json_num(&j, "ratio_from_device_vs_memset_memcpy", b->ratio_from_floor);
		bench_json_num(&j, "memcpy_private_dst_ns", b->memcpy_private_ns);
		bench_json_num(&j, "ratio_to_device_vs_private_dst", b->ratio_to_private);
		bench_json_num(&j, "zeroed_bytes_per_from_device_mapping", b->zeroed_per_map);
		bench_json_u64(&j, "distinct_bounce_slots_16_maps", b->distinct_slots);
		bench_json_u64(&j, "baseline_same_slot", b->same_slot);
		bench_json_u64(&j, "baseline_slot_checks", b->slot_samples);
		bench_json_end(&j);
	}
	bench_json_end(&j);

	bench_json_obj(&j, "checker");
	bench_json_bool(&j, "reference_build", R->ck.have_ref);
	bench_json_u64(&j, "rounds", P->chk_rounds);
	bench_json_num(&j, "off_ns", R->ck.a_ns);
	bench_json_num(&j, "compiled_out_ns", R->ck.have_ref ? R->ck.b_ns : NAN);
	bench_json_num(&j, "off_second_device_ns", R->ck.a2_ns);
	bench_json_num(&j, "overhead_ns", R->ck.over_ns);
	bench_json_num(&j, "overhead_pct", R->ck.over_pct);
	bench_json_num(&j, "noise_floor_ns", R->ck.noise_ns);
	bench_json_num(&j, "noise_floor_pct", R->ck.noise_pct);
	bench_json_num(&j, "direct_off_ns", R->ck.da_ns);
	bench_json_num(&j, "direct_compiled_out_ns", R->ck.db_ns);
	bench_json_num(&j, "direct_overhead_pct", R->ck.dover_pct);
	bench_json_num(&j, "on_loop_off_ns", R->ck.off_ns);
	bench_json_num(&j, "on_ns", R->ck.on_ns);
	bench_json_num(&j, "on_tracking_only_ns", R->ck.track_ns);
	bench_json_end(&j);

	bench_json_obj(&j, "steps");
	for (int s = 0; s < NSTEP; s++) {
		const struct steps_result *t = &R->st[s];

		bench_json_obj(&j, step_key[s]);
		bench_json_u64(&j, "bytes", t->size);
		bench_json_u64(&j, "batch", t->batch);
		bench_json_num(&j, "map_unmap_to_device_ns", t->to_ns);
		bench_json_num(&j, "map_unmap_from_device_ns", t->from_ns);
		bench_json_num(&j, "pool_alloc_free_ns", t->pool_ns);
		bench_json_num(&j, "owner_record_ns", t->owner_ns);
		bench_json_num(&j, "memcpy_to_slot_ns", t->copy_to_ns);
		bench_json_num(&j, "memcpy_from_slot_ns", t->copy_from_ns);
		bench_json_num(&j, "other_to_device_ns", t->other_to_ns);
		bench_json_num(&j, "other_from_device_ns", t->other_from_ns);
		bench_json_num(&j, "cross_core_in_ns", t->cross_in_ns);
		bench_json_num(&j, "cross_core_out_ns", t->cross_out_ns);
		bench_json_num(&j, "pingpong_in_ns", t->pingpong_in_ns);
		bench_json_num(&j, "pingpong_out_ns", t->pingpong_out_ns);
		bench_json_end(&j);
	}
	bench_json_end(&j);

	bench_json_num(&j, "elapsed_s", R->elapsed);
	bench_json_end(&j);
}

/* ------------------------------------------------------------------ */

static void dma_usage(FILE *f)
{
	fprintf(f,
		"usage: ccdma-bench dma [--json] [--quick]\n"
		"  the dma layer's map/unmap paths: shared memory in direct mode, 4 KiB\n"
		"  bounce overhead over memcpy, copies per device-to-memory mapping,\n"
		"  large bounces vs memcpy, the cost of the ownership checker off and on,\n"
		"  the steps of one 4 KiB and 128 KiB bounce (pool, owner, copy, ping-pong).\n"
		"  --json    one JSON object on stdout (the table goes to stderr)\n"
		"  --quick   shorter runs (a few seconds)\n"
		"Exit status 0 whether or not targets are met; 1 on an internal error.\n");
}

int bench_dma_main(int argc, char **argv)
{
	struct params P;
	struct results *R = calloc(1, sizeof(*R));
	struct env e;
	uint64_t t0 = bench_now_ns(), t;
	int rc;

	memset(&P, 0, sizeof(P));
	rc = bench_options(argc, argv, "dma", dma_usage, &P.json, &P.quick);
	if (rc >= 0) {
		free(R);
		return rc;
	}
	if (!R) {
		fprintf(stderr, "ccdma-bench dma: out of memory\n");
		return 1;
	}
	P.small_batch = 1000;
	P.small_samples = P.quick ? 500 : 4000;
	P.chk_rounds = P.quick ? 800 : 8000;
	P.chk_on_samples = P.quick ? 30 : 300;
	P.big_samples = P.quick ? 150 : 1500;
	P.fd_count_4k = P.quick ? 1000 : 20000;
	P.warm = P.quick ? 3 : 20;
	P.steps_samples = P.quick ? 100 : 1000;
	P.steps_cross = P.quick ? 200 : 2000;

	ccdma_share_cost_set_ns(0);
	rc = env_setup(&e);
	t = bench_now_ns();
	if (!rc)
		rc = sec_shared(&P, &e, &R->sh);
	R->section_s[0] = (double)(bench_now_ns() - t) / 1e9;
	t = bench_now_ns();
	if (!rc)
		rc = sec_bounce4k(&P, &e, &R->b4);
	R->section_s[1] = (double)(bench_now_ns() - t) / 1e9;
	t = bench_now_ns();
	if (!rc)
		rc = sec_fromdev(&P, &e, &R->fd);
	R->section_s[2] = (double)(bench_now_ns() - t) / 1e9;
	t = bench_now_ns();
	if (!rc)
		rc = sec_big(&P, &e, R->big);
	R->section_s[3] = (double)(bench_now_ns() - t) / 1e9;
	t = bench_now_ns();
	if (!rc)
		rc = sec_checker(&P, &e, &R->ck);
	R->section_s[4] = (double)(bench_now_ns() - t) / 1e9;
	t = bench_now_ns();
	if (!rc)
		rc = sec_steps(&P, &e, R->st);
	R->section_s[5] = (double)(bench_now_ns() - t) / 1e9;
	env_teardown(&e);
	R->elapsed = (double)(bench_now_ns() - t0) / 1e9;
	if (rc || internal_errors) {
		fprintf(stderr, "ccdma-bench dma: failed (%d, %d internal errors)\n", rc,
			internal_errors);
		free(R);
		return 1;
	}
	print_human(P.json ? stderr : stdout, &P, &e, R);
	if (P.json)
		print_json(stdout, &P, R);
	free(R);
	return 0;
}
