/* SPDX-License-Identifier: MIT */
/*
 * ccdma bounce pool: shared memory handed out in size classes.
 *
 * A pool owns a set of shared regions (see ccdma/platform.h) placed in one
 * reserved virtual range, so that any address maps to its region, span and
 * slot in O(1) and to a pool offset (the basis of the DMA address) by one
 * subtraction.  Requests up to CCDMA_POOL_SMALL_MAX come from per-thread
 * caches of free slots (no lock, no syscall, no scan); larger ones are cut
 * to the page from the regions by an O(1) segregated-fit allocator.  A
 * background grower thread adds regions before the pool runs dry and gives
 * back regions that stay wholly free.
 *
 * Ownership: memory returned by ccdma_pool_alloc*() belongs to the caller
 * until it is passed to ccdma_pool_free(); any thread may free it.  Bounce
 * memory is shared: a device may read or write it at any time, so never keep
 * secrets or pointers in it.
 *
 * Errors: negative errno values, never errno.
 *   -EINVAL  bad argument (NULL pool, size 0, size above
 *            CCDMA_POOL_MAX_ALLOC, alignment not a power of two, mask not
 *            2^n-1, an address that is not a live allocation of this pool)
 *   -ENOMEM  no memory now (NOWAIT), or none within the WAIT bound, or the
 *            pool is at its cap.  Before it fails, an allocation takes back
 *            what the pool holds but does not use: the calling thread's
 *            cached slots of every class and every wholly free span of the
 *            class depots go back to the page allocator, which then finds
 *            any free run that fits (a small class takes a shorter span
 *            when a full one does not fit).  So a NOWAIT failure means no
 *            free run of the pages the request needs exists, and no free
 *            slot of its class is cached by this thread or its depot
 *            (ccdma_pool_would_fit() asks exactly that); slots cached by
 *            other threads are not taken (they return at those threads'
 *            next flush or exit).  For a small request also when the calling
 *            thread cannot have a slot cache (no private memory for it, or
 *            its exit cannot be hooked to give the cache back: logged)
 *   -ENOSPC  too many pools alive at once (CCDMA_POOL_MAX_POOLS)
 */
#ifndef CCDMA_POOL_H
#define CCDMA_POOL_H

#include <ccdma/common.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ccdma_pool;

/* Smallest class; requests below it take a 256-byte slot. */
#define CCDMA_POOL_MIN_CLASS 256u
/* Largest request served by per-thread slot caches. */
#define CCDMA_POOL_SMALL_MAX (32u * 1024u)
/* Largest single allocation. */
#define CCDMA_POOL_MAX_ALLOC (16u * 1024u * 1024u)
/* Number of size classes (256 B .. 16 MiB, four per doubling). */
#define CCDMA_POOL_NCLASSES 65
/* Pools that may be alive at the same time. */
#define CCDMA_POOL_MAX_POOLS 256

enum ccdma_isolation {
	/* Small slots may share a page. */
	CCDMA_ISOLATION_DENSE = 0,
	/* No two live allocations share a CPU page: every allocation is a
	 * whole number of pages, page aligned. */
	CCDMA_ISOLATION_PAGE = 1,
};

/* Pool creation flags. */
enum {
	/* No background grower: the pool keeps its initial regions, never
	 * grows or shrinks.  For deterministic tests and fixed pools. */
	CCDMA_POOL_F_NO_GROWER = 1u << 0,
	/* Zero every dirty byte of a slot when it is freed (costs a memset
	 * per free; use when a pool is shared by devices that must not see
	 * each other's data). */
	CCDMA_POOL_F_SCRUB_ON_FREE = 1u << 1,
};

struct ccdma_pool_config {
	const char *name;          /* for messages and memfd names */
	/* Growth unit: regions are created in multiples of this (power of
	 * two, >= 64 KiB and >= the page size).  Default 4 MiB. */
	size_t region_size;
	/* The pool's floor: shared memory ccdma_pool_create() makes before it
	 * returns and the grower never gives back.  Counted in whole
	 * regions: rounded up to a multiple of region_size, never less than
	 * one region and never more than max_bytes allows.  Default 0, that
	 * is one region: every pool, with these defaults or with none, serves
	 * a NOWAIT allocation of up to region_size as soon as it exists. */
	size_t initial_bytes;
	/* Hard cap on shared bytes.  Default 1 GiB. */
	size_t max_bytes;
	/* The grower creates regions when fewer free bytes than this remain
	 * uncarved.  Default 1 MiB. */
	size_t low_watermark;
	/* Wholly free regions are destroyed only while more free bytes than
	 * this remain, and never below the floor (initial_bytes).  Default
	 * 8 MiB; must be >= low_watermark. */
	size_t high_watermark;
	/* A region must have been wholly free this long before it is
	 * destroyed.  Default 1000 ms. */
	unsigned idle_ms;
	enum ccdma_isolation isolation;
	unsigned flags;            /* CCDMA_POOL_F_* */
	/* 0, or the highest address the pool may occupy: its whole
	 * reservation (twice max_bytes plus one region) is placed below it,
	 * so that a device with a narrow DMA mask can reach every byte.
	 * ccdma_pool_create() fails with -ERANGE when it cannot be placed. */
	uint64_t addr_limit;
};

/* Fill *cfg with the defaults above. */
CCDMA_API void ccdma_pool_config_init(struct ccdma_pool_config *cfg);

/*
 * Create a pool.  `cfg` may be NULL for the defaults (exactly what
 * ccdma_pool_config_init() fills in).  Reserves address space for twice
 * max_bytes (no memory), creates the floor of regions (initial_bytes in
 * whole regions, at least one; sleeping the sharing cost) and starts the
 * grower thread.
 * Returns 0 and *out, or (each logged)
 *   -EINVAL  bad config (the message says which field), or the platform's
 *            condition variables cannot wait on the monotonic clock
 *   -ENOMEM  no private memory for metadata or a lock, no address space
 *            to reserve
 *   -ENOSPC  too many pools alive (CCDMA_POOL_MAX_POOLS)
 *   -ERANGE  cannot be placed below addr_limit
 *   -EAGAIN  no thread-specific key left for the thread-exit hook (which
 *            gives an exiting thread's cached slots back), no resources
 *            for a lock, or no thread for the grower
 *   another -errno of the platform when the floor's shared memory cannot
 *            be made (the Linux layer: memfd_create, ftruncate, mmap, e.g.
 *            -EMFILE or -ENOMEM).
 */
CCDMA_API int ccdma_pool_create(const struct ccdma_pool_config *cfg,
				struct ccdma_pool **out);

/*
 * Stop the grower, destroy every region (scrubbed) and free the pool.
 * Allocations still live are reported (count and bytes) and reclaimed.
 * No thread may use the pool during or after the call.  NULL is a no-op.
 */
CCDMA_API void ccdma_pool_destroy(struct ccdma_pool *pool);

/* Allocation flags. */
enum {
	/* Default: fail at once with -ENOMEM when no free slot is ready. */
	CCDMA_POOL_NOWAIT = 0,
	/* Block (never spin) up to the request's timeout_ns for memory. */
	CCDMA_POOL_WAIT = 1u << 0,
	/* The returned bytes [addr, addr+size) hold no data from any earlier
	 * owner (they are zero unless untouched since they were made shared).
	 * Only bytes an earlier owner may have written are cleared: a slot
	 * of up to CCDMA_POOL_SMALL_MAX bytes whose previous owner wrote 512
	 * bytes costs a 512-byte memset; a larger buffer (page allocator)
	 * tracks written bytes by page, so there it costs the pages those
	 * bytes touched (4096 bytes for 512 written at its start, measured
	 * by `ccdma-bench stale --json`: ccdma_zero_after_512b_zeroed_bytes).
	 * Use for device-to-memory mappings (no-stale-data invariant). */
	CCDMA_POOL_ZERO = 1u << 1,
};

struct ccdma_pool_req {
	size_t size;            /* bytes wanted, 1 .. CCDMA_POOL_MAX_ALLOC */
	size_t align;           /* 0 or a power of two; address alignment */
	/* 0 or 2^n-1: the returned address has the same low bits under the
	 * mask as `orig` (NVMe's 4 KiB-1).  The slot is taken large enough
	 * to hold the offset. */
	uint64_t min_align_mask;
	uintptr_t orig;         /* the original buffer address */
	unsigned flags;         /* CCDMA_POOL_* */
	uint64_t timeout_ns;    /* bound for CCDMA_POOL_WAIT */
};

/*
 * Allocate bounce memory.  On success returns 0 and *addr; the caller owns
 * [*addr, *addr + size) until ccdma_pool_free().  Errors: -EINVAL, -ENOMEM
 * (see the top of this file).  On failure *addr is untouched.
 */
CCDMA_API int ccdma_pool_alloc_req(struct ccdma_pool *pool,
				   const struct ccdma_pool_req *req,
				   void **addr);

/* ccdma_pool_alloc_req() with only a size and flags (NOWAIT, WAIT, ZERO);
 * CCDMA_POOL_WAIT waits up to CCDMA_POOL_WAIT_DEFAULT_NS. */
#define CCDMA_POOL_WAIT_DEFAULT_NS 1000000000ull
CCDMA_API int ccdma_pool_alloc(struct ccdma_pool *pool, size_t size,
			       unsigned flags, void **addr);

/*
 * Give an allocation back.  `addr` is exactly what the allocation returned.
 * `dirty_len` is how many bytes from addr may have been written (by the CPU
 * or the device) while it was owned; SIZE_MAX for "all of it".  It lets a
 * later CCDMA_POOL_ZERO allocation clear only what needs clearing.
 * Returns 0, or -EINVAL for an address that is not a live allocation of
 * this pool (a double free is caught); nothing is changed then.
 */
CCDMA_API int ccdma_pool_free(struct ccdma_pool *pool, void *addr,
			      size_t dirty_len);

/*
 * Whether an allocation of `size` bytes (no alignment, no min_align_mask)
 * would find memory in the pool as it is now, without growing it: a free
 * slot of its class in the calling thread's cache or the class's depot, a
 * slot cached by this thread or a wholly free span in any depot that the
 * allocation would take back, or a free run of the pages it needs (for a
 * small class, the pages of one slot).  Like a failing allocation, it
 * first takes back this thread's cached slots and the depots' free spans.
 * A diagnostic for failures: the answer may change at once when other
 * threads allocate or free.  Returns
 * 1 or 0, or -EINVAL (NULL pool, size 0 or above CCDMA_POOL_MAX_ALLOC).
 */
CCDMA_API int ccdma_pool_would_fit(struct ccdma_pool *pool, size_t size);

/*
 * Return the calling thread's cached free slots of this pool to the shared
 * depot, so they can be reused by other threads and idle regions can be
 * given back.  Thread exit does the same automatically.
 */
CCDMA_API void ccdma_pool_thread_flush(struct ccdma_pool *pool);

/* Where an address lives. */
struct ccdma_pool_addr_info {
	uint64_t pool_offset;   /* addr - pool base: the DMA address is
				   derived from this */
	int region_fd;          /* the region's memfd (owned by the pool) */
	void *region_addr;      /* CPU address of the region */
	size_t region_size;
	uint64_t region_offset; /* addr - region_addr */
	void *alloc_addr;       /* what the allocation returned */
	size_t alloc_size;      /* usable bytes from alloc_addr */
	unsigned class_index;
};

/*
 * Look up an address inside a live allocation, in O(1).  Returns 0, or
 * -EINVAL when the address is not inside a live allocation of the pool.
 */
CCDMA_API int ccdma_pool_lookup(struct ccdma_pool *pool, const void *addr,
				struct ccdma_pool_addr_info *info);

/* True when [addr, addr+len) lies inside one region of the pool. */
CCDMA_API bool ccdma_pool_contains(struct ccdma_pool *pool, const void *addr,
				   size_t len);

/* The CPU address of pool offset `off`, or NULL if no region holds
 * [off, off+len). */
CCDMA_API void *ccdma_pool_offset_to_addr(struct ccdma_pool *pool,
					  uint64_t off, size_t len);

/* The pool's reserved address range: every region it ever holds lies in
 * [*base, *base + *size).  Returns 0 or -EINVAL. */
CCDMA_API int ccdma_pool_get_range(struct ccdma_pool *pool, uint64_t *base,
				   uint64_t *size);

/* The config the pool runs with: the caller's, with defaults filled in and
 * sizes rounded as ccdma_pool_create() did (region_size, max_bytes,
 * initial_bytes, watermarks); name points to the pool's copy or the
 * caller's string.  Returns 0 or -EINVAL. */
CCDMA_API int ccdma_pool_get_config(struct ccdma_pool *pool,
				    struct ccdma_pool_config *cfg);

/* Size classes. */
/* Class size in bytes of class `index` (0 .. CCDMA_POOL_NCLASSES-1), or 0. */
CCDMA_API size_t ccdma_pool_class_size(unsigned index);
/* Index of the class that serves `size` bytes with no alignment needs,
 * or -EINVAL for 0 or above CCDMA_POOL_MAX_ALLOC. */
CCDMA_API int ccdma_pool_class_of(size_t size);

/*
 * Deferred requests (bus_dma's deferred load): after an allocation of
 * `size` bytes failed with -ENOMEM, register `w`; `w->fn(w->arg)` runs once,
 * from the grower thread, when memory that could satisfy `size` has become
 * free or been added.  The callback should retry; it may register again.
 * First come, first served: callbacks run in the order they registered,
 * and when one registers again from its callback (its retry failed), the
 * ones behind it do not run in that pass and keep their places, ahead of
 * any registered later.  Slots that the callbacks' allocations left in the
 * grower thread's cache go back to the pool after each pass.
 * `w` is caller storage and must stay valid until the callback has run or
 * ccdma_pool_defer_cancel() returned 0.  Returns 0 or -EINVAL.
 */
struct ccdma_pool_waiter {
	void (*fn)(void *arg);
	void *arg;
	size_t size;
	struct ccdma_pool_waiter *next_; /* private */
};
CCDMA_API int ccdma_pool_defer(struct ccdma_pool *pool,
			       struct ccdma_pool_waiter *w);
/* Remove a waiter that has not run yet.  Returns 0, or -ENOENT when it is
 * not registered: it has run, or the grower thread has taken it to run
 * (then its callback still runs once, and must find out that it is no
 * longer wanted; w must stay valid until then). */
CCDMA_API int ccdma_pool_defer_cancel(struct ccdma_pool *pool,
				      struct ccdma_pool_waiter *w);

/*
 * Region events, for layers that must tell a device about regions (vhost
 * memory table, IOMMU windows).  `added` is true for a new region (told
 * before any byte of it can be allocated), false for a region that can no
 * longer be allocated, just before it is destroyed.  Called from the thread
 * that changes the regions (the grower or ccdma_pool_create/destroy), with
 * no pool lock held.  A pool takes any number of listeners (several
 * devices sharing one pool each keep their own table): each event goes to
 * every listener, in the order they were added, one at a time; the next
 * region change waits until all have returned.  A callback must not add
 * or remove a listener of the same pool (it would deadlock).
 */
typedef void (*ccdma_pool_region_fn)(void *arg, bool added, int fd,
				     void *addr, size_t size,
				     uint64_t pool_offset);
/* Caller storage for one listener; fn and arg set by the caller, valid
 * until ccdma_pool_remove_region_listener() returned (or the pool is
 * destroyed). */
struct ccdma_pool_listener {
	ccdma_pool_region_fn fn;
	void *arg;
	struct ccdma_pool_listener *next_; /* private */
};
/*
 * Add a listener.  The regions that exist already are announced (added =
 * true) to it at once, and to it only, from the calling thread, before
 * this returns; regions cannot be added or removed meanwhile, so every
 * later event finds it registered.  Returns 0, -EINVAL (NULL pool,
 * listener or fn) or -EEXIST (l is registered already).
 */
CCDMA_API int ccdma_pool_add_region_listener(struct ccdma_pool *pool,
					     struct ccdma_pool_listener *l);
/*
 * Remove a listener.  When it returns, no callback of l is running or
 * will run (a callback running on another thread is waited for); the
 * regions are not withdrawn from it.  Returns 0, -EINVAL (NULL pool or
 * l) or -ENOENT (l is not registered).
 */
CCDMA_API int ccdma_pool_remove_region_listener(struct ccdma_pool *pool,
						struct ccdma_pool_listener *l);
/*
 * One listener kept by the pool itself, beside those added above:
 * replaces the earlier one of this call (removed as by
 * ccdma_pool_remove_region_listener()); NULL removes it.  A new one is
 * told of the existing regions as by ccdma_pool_add_region_listener().
 */
CCDMA_API void ccdma_pool_set_region_listener(struct ccdma_pool *pool,
					      ccdma_pool_region_fn fn,
					      void *arg);

/* Statistics. */
struct ccdma_pool_class_stats {
	size_t size;             /* class size in bytes */
	uint64_t in_use;         /* live allocations */
	uint64_t free;           /* small classes: carved slots not in use
				    (depot + thread caches); large: 0 */
	uint64_t high_water;     /* peak slots out of the depot (small: in
				    use + in thread caches, sampled at each
				    depot transfer; large: peak in use) */
	uint64_t allocs, frees;
	uint64_t failures;       /* -ENOMEM answers */
	uint64_t grows, shrinks; /* spans carved / given back */
	uint64_t shared_bytes;   /* bytes of shared memory in this class's
				    spans (small) or live runs (large) */
};

struct ccdma_pool_stats {
	unsigned nclasses;
	struct ccdma_pool_class_stats classes[CCDMA_POOL_NCLASSES];
	uint64_t shared_bytes;        /* bytes in regions now */
	uint64_t shared_high_water;   /* peak of shared_bytes */
	uint64_t free_bytes;          /* uncarved bytes in regions */
	uint64_t in_use_bytes;        /* bytes of live allocations
					 (rounded to slot or page) */
	uint64_t regions;             /* regions now */
	uint64_t region_grows;        /* regions created */
	uint64_t region_shrinks;      /* regions destroyed */
	uint64_t allocs, frees, failures;
	uint64_t waits;               /* WAIT allocations that blocked */
	uint64_t wait_ns;             /* total time blocked */
	uint64_t zeroed_bytes;        /* bytes cleared for CCDMA_POOL_ZERO */
	uint64_t deferred_callbacks;  /* waiter callbacks run */
	/* Times the grower thread has looked at the pool (grow, shrink, run
	 * deferred callbacks), woken by a need or by its 50 ms tick.  Once
	 * it has grown by two since a moment, one whole pass ran after it. */
	uint64_t grower_passes;
	/* Bounce copies made by the dma layer through this pool, and their
	 * bytes, towards the device (map, sync_for_device) and from it
	 * (sync_for_cpu, unmap). */
	uint64_t bounce_copies_to_device, bounce_copies_from_device;
	uint64_t bounced_to_device_bytes, bounced_from_device_bytes;
	/* Allocations that, about to fail or wait, took back cached slots
	 * and idle spans and so freed pages (see -ENOMEM above). */
	uint64_t reclaims;
	/* The longest a WAIT allocation blocked, ns (0: none blocked). */
	uint64_t wait_max_ns;
};

/* Snapshot the pool's statistics.  Returns 0 or -EINVAL.
 * ccdma_pool_print_stats() (ccdma/hosted.h) prints them as a table. */
CCDMA_API int ccdma_pool_get_stats(struct ccdma_pool *pool,
				   struct ccdma_pool_stats *st);

#ifdef __cplusplus
}
#endif
#endif /* CCDMA_POOL_H */
