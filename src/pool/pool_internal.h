/* SPDX-License-Identifier: MIT */
/*
 * Pool internals.
 *
 * Address space.  A pool reserves one virtual range (twice its cap) at
 * creation.  Regions are placed in it at multiples of the region size (a
 * "chunk"), so:
 *   chunk index   = (addr - base) >> chunk_shift   -> region  (chunk_tab)
 *   granule index = (addr - base) >> gran_shift    -> span    (gmap)
 *   pool offset   =  addr - base                   -> DMA address
 * all O(1).  A granule is one CPU page.  gmap and the dirty bitmap cover the
 * whole reservation; they are calloc'd, so untouched parts cost no memory.
 * None of this metadata lives in shared memory: a device can overwrite any
 * shared byte at any time, so free lists, counts and ownership are private.
 *
 * Spans.  A span is a run of granules inside one region, in one of three
 * states:
 *   FREE   uncarved memory, kept by the page allocator (pagealloc.c) in
 *          segregated-fit bins (two-level bitmap: O(1) find, no scan);
 *          only its first and last gmap entries are meaningful.
 *   SMALL  carved into equal slots of one class (<= CCDMA_POOL_SMALL_MAX);
 *          per-slot metadata and a stack of free slot indices.
 *   LARGE  one allocation, cut to the granule (class is a stats bin).
 *
 * Small allocations.  Each thread has a cache (magazine) of free slots per
 * class (tcache.c): alloc pops, free pushes, no lock and no atomic RMW.
 * An empty cache refills half its capacity from the class depot (spans with
 * free slots, under the class lock); a full one flushes half back.  A slot
 * may be freed by any thread: it goes into that thread's cache.  Spans that
 * become wholly free go back to the page allocator once the class has
 * another span's worth of free slots, or after idle_ms.
 *
 * No stale data.  Each slot records how far from its start earlier owners
 * may have written ("dirty extent"); free granules keep a dirty bit.  A
 * CCDMA_POOL_ZERO allocation clears only the dirty part of its window, so
 * freshly shared memory and slots used for short transfers cost little,
 * and no device-to-memory mapping ever copies the original buffer in.
 *
 * Locks, in the order they nest:
 *   registry (global) lock -> class lock -> page lock
 *   listener lock -> pool lock -> page lock
 * No path takes a lock to the left of one it holds.
 */
#ifndef CCDMA_POOL_INTERNAL_H
#define CCDMA_POOL_INTERNAL_H

#include <ccdma/pool.h>

#include "platform/os.h"
#include "pool/pool_dma.h"
#include "platform/trace.h"


/* Classes 0 .. NSMALL-1 are served by slot caches. */
#define CCDMA_NSMALL 29
_Static_assert(CCDMA_NSMALL - 1 == (15 - 8) * 4, "last small class is 32 KiB");

/* Most slots a thread caches per class. */
#define TC_MAX 32

enum span_state {
	SPAN_UNUSED = 0, /* descriptor on the free-descriptor list */
	SPAN_FREE,
	SPAN_SMALL,
	SPAN_LARGE,
};

struct slot_meta {
	/* 0 when free; else offset of the returned address in the slot + 1.
	 * Written by the owning thread only. */
	uint32_t live;
	/* Bytes from the slot start that earlier owners may have written. */
	uint32_t dirty;
	/* The layer above's record of the allocation (pool_dma.h). */
	struct ccdma_pool_owner owner;
};

struct region;

struct span {
	struct region *region;
	uintptr_t base;       /* CPU address of the first byte */
	uint32_t first;       /* global granule index */
	uint32_t npages;
	uint8_t state;        /* enum span_state */
	uint8_t cls;
	uint8_t mshift;       /* SMALL: slot index = (off * magic) >> mshift */
	uint8_t on_list;
	struct span *next, *prev; /* FREE: bin list; SMALL: depot list */
	/* SMALL */
	uint32_t stride, nslots, nfree, magic;
	uint32_t *free_idx;       /* stack of free (depot-held) slot indices */
	struct slot_meta *meta;
	uint64_t idle_since;      /* ns when it became wholly free, or 0 */
	/* LARGE */
	uint32_t off_plus1;       /* returned address - base + 1; 0: not live */
	struct ccdma_pool_owner owner;
};

struct region {
	int fd;
	bool live;
	uintptr_t base;
	size_t size;
	uint32_t first;           /* global granule index */
	uint32_t npages, nfree;   /* nfree under the page lock */
	uint32_t chunk0, nchunks;
	uint64_t free_since;      /* ns when wholly free, 0 if not */
	struct region *next;      /* live list (pool lock) */
};

/* Page allocator bins: SL_BITS second-level bins per power of two. */
#define PA_SL_BITS 3
#define PA_SL_COUNT (1u << PA_SL_BITS)
#define PA_FL_COUNT 32

struct depot {
	ccdma_mutex_t lock;
	struct span *partial;     /* spans with free slots (nfree > 0) */
	uint64_t nfree, nslots;   /* over all spans of the class */
	uint64_t npages;          /* pages of all spans (some may be short) */
	uint64_t high_water;      /* peak nslots - nfree */
	uint64_t grows, shrinks;
	uint32_t span_pages, span_slots, tc_cap;
	uint32_t magic;
	uint8_t mshift;
};

/* Large-class and retired-thread counters (page lock / registry lock). */
struct class_acc {
	uint64_t allocs, frees, in_use, high_water, live_pages;
	uint64_t grows, shrinks;
};

struct tc_entry {
	void *p;                  /* slot start */
	struct slot_meta *m;
};

struct tc_class {
	uint32_t n, cap;
	/* Single writer (the owning thread), read by stats: relaxed atomics.
	 * Beside n so that counting touches no extra cache line. */
	uint64_t allocs, frees;
	struct tc_entry e[TC_MAX];
};

struct tcache {
	struct ccdma_pool *pool;
	struct tcache *next, *prev; /* pool's list (registry lock) */
	struct tc_class cls[CCDMA_NSMALL];
	uint64_t zeroed;
	uint64_t copies[2], copied[2]; /* bounce copies: [0] to device */
};

struct ccdma_pool {
	/* Read on every fast-path call. */
	uint32_t id;              /* registry slot */
	uint64_t gen;             /* registry generation (TLS validity) */
	uintptr_t base;           /* reservation */
	size_t resv_size;
	unsigned chunk_shift, gran_shift;
	size_t granule;
	uint32_t nchunks;
	struct region **chunk_tab; /* per chunk; atomic loads */
	struct span **gmap;        /* per granule; atomic loads */
	uint64_t *dirty;           /* per granule bit; atomic ops */
	enum ccdma_isolation isolation;
	unsigned flags;
	bool scrub_on_free;
	int hungry;                /* waiters or deferred callbacks pending
				    * or running */
	int kick_pending;          /* grower woken, has not looked yet */
	size_t want_hint;          /* largest failed request since then */

	struct ccdma_pool_config cfg;
	char name[32];

	struct depot depot[CCDMA_NSMALL];

	/* Page allocator (page lock). */
	ccdma_mutex_t page_lock;
	uint32_t fl_map;
	uint32_t sl_map[PA_FL_COUNT];
	struct span *bins[PA_FL_COUNT][PA_SL_COUNT];
	uint64_t free_pages;
	struct span *desc_free;    /* unused span descriptors */
	void **desc_blocks;
	size_t ndesc_blocks;
	struct class_acc large[CCDMA_POOL_NCLASSES];
	uint64_t large_zeroed;
	uint64_t failures[CCDMA_POOL_NCLASSES]; /* atomic */

	/* Regions, grower, waiters (pool lock). */
	ccdma_mutex_t lock;
	ccdma_cond_t grower_cond;  /* wakes the grower */
	ccdma_cond_t avail_cond;   /* wakes WAIT allocations */
	ccdma_thread_t grower;
	bool grower_running, stopping, kicked;
	struct region *regions;    /* descriptors, one per chunk (by chunk0) */
	struct region *live;       /* list of live regions */
	uint8_t *chunk_used;
	uint64_t shared_bytes, shared_high_water; /* atomic reads */
	uint64_t region_grows, region_shrinks;
	size_t min_bytes;          /* the floor: made at create, never given back */
	uint64_t grower_passes;
	size_t want_bytes;         /* largest unmet request since last growth */
	uint64_t avail_seq;
	unsigned nwaiting;
	uint64_t waits, wait_ns, wait_max_ns, deferred_runs;
	bool deferred_running;     /* the grower is running the callbacks */
	uint64_t reclaims;         /* atomic adds */
	/* Wholly free spans the depots keep (idle_since set), atomic: a
	 * failing allocation looks for something to take back only when
	 * there is some. */
	uint64_t idle_spans;
	struct ccdma_pool_waiter *defer_head, *defer_tail;
	/* Held across every region event and while a listener is added or
	 * removed, so each region is announced to each listener exactly once
	 * and withdrawn once, and a removal waits for a running callback.
	 * `listeners` in the order they were added; `single` is the one of
	 * ccdma_pool_set_region_listener(). */
	ccdma_mutex_t listener_lock;
	struct ccdma_pool_listener *listeners;
	struct ccdma_pool_listener single;

	/* Thread caches of this pool (registry lock) and what exited threads
	 * counted. */
	struct tcache *tcaches;
	struct class_acc retired[CCDMA_NSMALL];
	uint64_t retired_zeroed;
	uint64_t retired_copies[2], retired_copied[2];
};

/* classes.c */
/* Index of the smallest class holding n bytes (n = 1..MAX_ALLOC). */
static inline unsigned ccdma_class_index(size_t n)
{
	unsigned e;
	size_t step;

	if (n <= CCDMA_POOL_MIN_CLASS)
		return 0;
	/* 2^e < n <= 2^(e+1), four classes per doubling */
	e = 63u - (unsigned)__builtin_clzll((unsigned long long)(n - 1));
	step = (size_t)1 << (e - 2);
	return (e - 8) * 4 + (unsigned)((n - ((size_t)1 << e) + step - 1) >> (e - 2));
}
size_t ccdma_class_bytes(unsigned index);
void ccdma_class_geometry(size_t granule, unsigned ci, uint32_t *span_pages,
			  uint32_t *slots, uint32_t *tc_cap);
void ccdma_div_magic(uint32_t d, uint32_t *magic, uint8_t *shift);

/* pagealloc.c (page lock held) */
struct span *ccdma_pa_alloc(struct ccdma_pool *p, uint32_t npages,
			    uint32_t align_pages);
void ccdma_pa_free(struct ccdma_pool *p, struct span *s);
void ccdma_pa_add_region(struct ccdma_pool *p, struct region *r);
void ccdma_pa_remove_region(struct ccdma_pool *p, struct region *r);
bool ccdma_pa_fits(struct ccdma_pool *p, uint32_t npages);
void ccdma_pa_release_descs(struct ccdma_pool *p);

/* pool.c */
bool ccdma_dirty_test_clear(struct ccdma_pool *p, uint32_t g);
void ccdma_pool_kick(struct ccdma_pool *p, size_t want);
/* Listener lock held (or the pool being destroyed): tell every listener. */
void ccdma_notify_listeners(struct ccdma_pool *p, bool added,
			    const struct region *r);
void ccdma_pool_notify_avail(struct ccdma_pool *p);
void ccdma_pool_update_hungry(struct ccdma_pool *p); /* pool lock held */
int ccdma_small_refill(struct ccdma_pool *p, struct tcache *tc, unsigned ci);
void ccdma_small_flush(struct ccdma_pool *p, struct tcache *tc, unsigned ci,
		       uint32_t keep);
void ccdma_depot_release_idle(struct ccdma_pool *p, uint64_t now,
			      uint64_t idle_ns, bool force);

/* tcache.c */
struct heap_entry {
	uint64_t gen;
	struct tcache *tc;
};
struct heap {
	struct heap_entry e[CCDMA_POOL_MAX_POOLS];
};
extern _Thread_local struct heap *ccdma_tls_heap
	__attribute__((tls_model("initial-exec")));
struct tcache *ccdma_tcache_create(struct ccdma_pool *p);

/* This thread's cache for pool p: one TLS load and a generation check. */
static inline struct tcache *ccdma_tcache_get(struct ccdma_pool *p)
{
	struct heap *h = ccdma_tls_heap;

	if (likely(h && h->e[p->id].gen == p->gen))
		return h->e[p->id].tc;
	return ccdma_tcache_create(p);
}
void ccdma_tcache_flush_all(struct ccdma_pool *p, struct tcache *tc);
size_t ccdma_tcache_flush_mine(struct ccdma_pool *p);
int ccdma_registry_add(struct ccdma_pool *p);
void ccdma_registry_remove(struct ccdma_pool *p);

/* grower.c */
int ccdma_grower_start(struct ccdma_pool *p);
void ccdma_grower_stop(struct ccdma_pool *p);
int ccdma_region_add(struct ccdma_pool *p, size_t size);

static inline uint32_t gran_index(const struct ccdma_pool *p, uintptr_t a)
{
	return (uint32_t)((a - p->base) >> p->gran_shift);
}

#endif /* CCDMA_POOL_INTERNAL_H */
