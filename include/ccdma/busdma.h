/* SPDX-License-Identifier: MIT */
/*
 * ccdma bus_dma(9): the BSD DMA interface over the same engine as the
 * Linux-style dma layer (ccdma/dma.h).
 *
 * The names are OpenBSD's and NetBSD's with a `ccdma_` prefix, and so are
 * the arguments, so a BSD driver ports by adding the prefix:
 *
 *   ccdma_bus_dmamap_create(tag, MAXBSIZE, nsegs, MAXBSIZE, 0,
 *                           CCDMA_BUS_DMA_NOWAIT | CCDMA_BUS_DMA_ALLOCNOW, &map);
 *   ccdma_bus_dmamap_load(tag, map, buf, len, NULL, CCDMA_BUS_DMA_NOWAIT);
 *   ccdma_bus_dmamap_sync(tag, map, 0, len, CCDMA_BUS_DMASYNC_PREWRITE);
 *   ... the device reads map->dm_segs[0 .. map->dm_nsegs - 1] ...
 *   ccdma_bus_dmamap_sync(tag, map, 0, len, CCDMA_BUS_DMASYNC_POSTWRITE);
 *   ccdma_bus_dmamap_unload(tag, map);
 *
 * Tags.  A root tag is created from a device and starts from the device's
 * constraints (DMA mask, segment size, boundary, alignment); a child tag is
 * created from a parent and inherits every constraint, which it may only
 * narrow.  Maps are created from a tag and may narrow it again.
 *
 * Bouncing.  Memory the device cannot reach (private memory in a
 * confidential guest), or reaches only at an address above the tag's limit
 * or not aligned as the tag asks, is carried by bounce memory from the
 * device's pool.  Everything else -- pool allocations, dmamem, regions
 * attached to the device -- is handed to the device in place.  Bounce
 * memory is reserved when the map is created with CCDMA_BUS_DMA_ALLOCNOW
 * (the worst case for the map, kept until the map is destroyed, so a load
 * never fails for lack of memory) or taken at load and given back at
 * unload otherwise.  Syncs copy: PREWRITE memory -> bounce, POSTREAD
 * bounce -> memory.  PREREAD alone clears the bounce window, so the CPU
 * never receives bytes an earlier transfer left there.
 *
 * Ownership.  Between load and unload the buffer belongs to the transfer:
 * the CPU may touch it only between a POST sync and the next PRE sync.
 * The map, its segment array and the tag belong to the caller; dm_mapsize,
 * dm_nsegs and dm_segs[] are read-only for drivers.
 *
 * Errors.  Unlike the rest of ccdma, and as in bus_dma(9), functions return
 * 0 or a POSITIVE errno value, so that ported code comparing with EFBIG or
 * ENOMEM keeps working:
 *   EINVAL  bad argument (the message says which), a constraint that widens
 *           its parent's, a load of a loaded map, a sync window outside the
 *           mapping, PRE and POST operations in one sync
 *   EFBIG   the buffer cannot be described in the map's nsegments segments
 *   ENOMEM  no bounce memory now (NOWAIT, or WAITOK past the pool's wait
 *           bound), or none that fits the tag's constraints
 *   EBUSY   destroying a map that is loaded or has a deferred load
 *           pending, or a tag that still has maps or child tags
 *   EINPROGRESS  ccdma_bus_dmamap_load_cb(): the load is deferred until
 *           bounce memory is free (not an error)
 * Every error is also logged with what went wrong, except ENOMEM and
 * EFBIG, which drivers expect and handle (logged at debug level).
 *
 * Threads.  Tags may be used from any thread.  One map is used by one
 * thread at a time (the driver's lock), as in BSD.
 */
#ifndef CCDMA_BUSDMA_H
#define CCDMA_BUSDMA_H

#include <ccdma/common.h>
#include <ccdma/dma.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef ccdma_addr_t ccdma_bus_addr_t;
typedef size_t ccdma_bus_size_t;
typedef char *ccdma_caddr_t;
typedef struct ccdma_bus_dma_tag *ccdma_bus_dma_tag_t;
typedef struct ccdma_bus_dmamap *ccdma_bus_dmamap_t;

/* Flags of dmamap_create, the loads and dmamem_alloc/map. */
enum {
	CCDMA_BUS_DMA_WAITOK = 0,          /* may sleep (up to the pool's
					      wait bound) for bounce memory */
	CCDMA_BUS_DMA_NOWAIT = 1u << 0,    /* fail at once with ENOMEM */
	CCDMA_BUS_DMA_ALLOCNOW = 1u << 1,  /* dmamap_create: reserve the
					      worst-case bounce memory now */
	CCDMA_BUS_DMA_COHERENT = 1u << 2,  /* dmamem: accepted; dmamem is
					      always coherent */
	CCDMA_BUS_DMA_STREAMING = 1u << 3, /* accepted, no effect */
	CCDMA_BUS_DMA_READ = 1u << 4,      /* load hint: device -> memory */
	CCDMA_BUS_DMA_WRITE = 1u << 5,     /* load hint: memory -> device */
	CCDMA_BUS_DMA_ZERO = 1u << 6,      /* dmamem_alloc: accepted; dmamem
					      is always zeroed */
};

/* dmamap_sync operations.  PRE and POST may not be mixed in one call. */
enum {
	CCDMA_BUS_DMASYNC_PREREAD = 1u << 0,   /* before the device writes */
	CCDMA_BUS_DMASYNC_POSTREAD = 1u << 1,  /* after it wrote: copy in */
	CCDMA_BUS_DMASYNC_PREWRITE = 1u << 2,  /* before it reads: copy out */
	CCDMA_BUS_DMASYNC_POSTWRITE = 1u << 3, /* after it read */
};

/* Tag flags (a child keeps its parent's and may add). */
enum {
	/* Page isolation: no two maps' bounce memory shares a page (OpenBSD's
	 * guarantee), and dmamem is whole pages.  Costs the rest of the page
	 * for every map smaller than a page; see docs/busdma.md. */
	CCDMA_BUS_DMA_TAG_ISOLATE = 1u << 0,
};

/* Segments per map at most, and the default of a root tag. */
#define CCDMA_BUS_DMA_MAX_SEGS 65536

typedef struct ccdma_bus_dma_segment {
	ccdma_bus_addr_t ds_addr;  /* DMA address the device uses */
	ccdma_bus_size_t ds_len;   /* bytes */
	/* Private (OpenBSD's _ds_va / _ds_bounce_va): the CPU address of the
	 * bytes this segment carries, and of its bounce (0: not bounced).
	 * dmamem_alloc fills _ds_va; a raw segment with _ds_va 0 names device
	 * memory by bus address only and is never bounced. */
	uintptr_t _ds_va;
	uintptr_t _ds_bounce_va;
} ccdma_bus_dma_segment_t;

/* A map.  Drivers read dm_mapsize, dm_nsegs and dm_segs[]; the fields
 * starting with an underscore belong to the library. */
struct ccdma_bus_dmamap {
	struct ccdma_bus_dma_tag *_dm_tag;
	ccdma_bus_size_t _dm_size;       /* largest load */
	int _dm_segcnt;                  /* dm_segs[] entries */
	unsigned _dm_flags;              /* create flags */
	ccdma_bus_size_t _dm_maxsegsz;
	ccdma_bus_size_t _dm_boundary;   /* 0: none */
	ccdma_bus_size_t _dm_align;
	void *_dm_resv;                  /* ALLOCNOW reservation, or NULL */
	size_t _dm_resv_size;
	void *_dm_bounce;                /* bounce of the current load */
	size_t _dm_bounce_used;          /* bytes of it the load uses */
	int _dm_loaded;
	unsigned _dm_lflags;             /* flags of the current load */
	/* Ownership checker (CCDMA_DEBUG): the disjoint PREREAD windows
	 * [lo, hi) not yet followed by POSTREAD, _dm_rd_n of them in _dm_rd
	 * (_dm_rd_inl until more than four are pending, then a heap array of
	 * _dm_rd_cap), and where the last PREREAD was. */
	ccdma_bus_size_t (*_dm_rd)[2];
	int _dm_rd_n, _dm_rd_cap;
	ccdma_bus_size_t _dm_rd_inl[4][2];
	const char *_dm_rd_file;
	int _dm_rd_line;
	const char *_dm_load_file;
	int _dm_load_line;
	void *_dm_defer;                 /* pending deferred load, or NULL */

	ccdma_bus_size_t dm_mapsize;     /* bytes loaded */
	int dm_nsegs;                    /* valid entries of dm_segs[] */
	ccdma_bus_dma_segment_t dm_segs[]; /* _dm_segcnt entries */
};

/* ---- tags -------------------------------------------------------------- */

/*
 * Constraints of a tag.  0 in a field means "the parent's" (for a root tag,
 * the device's).  A value that widens the parent's is refused (EINVAL).
 */
struct ccdma_bus_dma_tag_config {
	/* Every segment starts at a DMA address that is a multiple of this
	 * (a power of two).  Root default: the device's addr_align, or 1. */
	ccdma_bus_size_t alignment;
	/* No segment crosses a multiple of this (a power of two, at least
	 * the alignment); a segment may start on one.  Root default: the
	 * device's seg_boundary + 1, or none. */
	ccdma_bus_size_t boundary;
	/* Largest segment, a multiple of the alignment.  Root default: the
	 * device's max_seg_size.  An inherited value is rounded down to a
	 * multiple of the alignment. */
	ccdma_bus_size_t maxsegsz;
	/* Most segments of one map.  Root default: CCDMA_BUS_DMA_MAX_SEGS. */
	int nsegments;
	/* Largest map.  Root default and upper limit: CCDMA_POOL_MAX_ALLOC
	 * (the largest bounce). */
	ccdma_bus_size_t maxsize;
	/* Highest DMA address any segment may use; memory the device reaches
	 * above it is bounced.  Root default: the device's DMA mask.  The
	 * device's pool must lie wholly below it (else EINVAL: create the
	 * device with a narrower mask so its pool is placed low enough). */
	ccdma_bus_addr_t addr_limit;
	unsigned flags;                  /* CCDMA_BUS_DMA_TAG_* */
};

/*
 * Create a tag for device `dev` (root: parent NULL) or under `parent` (dev
 * NULL or the parent's device).  cfg NULL: inherit everything.  The tag
 * must be destroyed before its device.  0 and *out, or EINVAL (the message
 * says which constraint), ENOMEM.
 */
CCDMA_API int ccdma_bus_dma_tag_create(struct ccdma_dev *dev,
				       ccdma_bus_dma_tag_t parent,
				       const struct ccdma_bus_dma_tag_config *cfg,
				       ccdma_bus_dma_tag_t *out);
/* Destroy a tag without maps or children.  0, EBUSY, or EINVAL for NULL. */
CCDMA_API int ccdma_bus_dma_tag_destroy(ccdma_bus_dma_tag_t tag);
/* The tag's effective constraints (no zeros).  0 or EINVAL. */
CCDMA_API int ccdma_bus_dma_tag_get(ccdma_bus_dma_tag_t tag,
				    struct ccdma_bus_dma_tag_config *cfg);

/* ---- maps ---------------------------------------------------------------- */

/*
 * Create a map for loads of up to `size` bytes in up to `nsegments`
 * segments (at least 1; the map holds that many) of at most `maxsegsz`
 * bytes, none crossing a multiple of `boundary`.  0 for maxsegsz or
 * boundary means the tag's.  Flags: WAITOK or NOWAIT, ALLOCNOW (and the
 * hints STREAMING, COHERENT).  With ALLOCNOW the worst-case bounce memory
 * of the map is reserved now (ENOMEM if the pool cannot give it) and kept
 * until dmamap_destroy.  0 and *mapp, or
 *   EINVAL  NULL tag or mapp; size 0 or above the tag's maxsize;
 *           nsegments below 1 or above the tag's; maxsegsz above the
 *           tag's or not a multiple of its alignment; a boundary that is
 *           not a power of two, above the tag's or below its alignment;
 *           unknown flags; an ALLOCNOW reservation (size plus the padding
 *           of every segment) above the largest bounce
 *   ENOMEM  no private memory for the map, or (ALLOCNOW) no bounce memory
 */
CCDMA_API int ccdma_bus_dmamap_create(ccdma_bus_dma_tag_t tag,
				      ccdma_bus_size_t size, int nsegments,
				      ccdma_bus_size_t maxsegsz,
				      ccdma_bus_size_t boundary, int flags,
				      ccdma_bus_dmamap_t *mapp);
/* Destroy an unloaded map, giving back its reservation.  0, EBUSY (still
 * loaded: nothing is changed), EINVAL. */
CCDMA_API int ccdma_bus_dmamap_destroy(ccdma_bus_dma_tag_t tag,
				       ccdma_bus_dmamap_t map);

/*
 * Loads.  Describe a buffer in map->dm_segs[], bouncing what the device
 * cannot use in place; nothing is copied yet (that is dmamap_sync's job).
 * The buffer must stay valid until unload.  `p` is BSD's struct proc *
 * and must be NULL (user address spaces do not exist here).
 * 0, or EINVAL (bad argument, map already loaded, longer than the map),
 * EFBIG (more segments than the map allows), ENOMEM (no bounce memory).
 * On error the map is left unloaded and nothing is held.
 */
#define ccdma_bus_dmamap_load(t, m, buf, len, p, f) \
	ccdma_bus_dmamap_load_at((t), (m), (buf), (len), (p), (f), __FILE__, __LINE__)
CCDMA_API int ccdma_bus_dmamap_load_at(ccdma_bus_dma_tag_t tag,
				       ccdma_bus_dmamap_t map, void *buf,
				       ccdma_bus_size_t buflen, void *p,
				       int flags, const char *file, int line);

/* The layout of POSIX struct iovec, without <sys/uio.h>. */
struct ccdma_iovec {
	void *iov_base;
	size_t iov_len;
};
/* Load `iovcnt` buffers as one transfer, in order. */
#define ccdma_bus_dmamap_load_iovec(t, m, iov, n, f) \
	ccdma_bus_dmamap_load_iovec_at((t), (m), (iov), (n), (f), __FILE__, __LINE__)
CCDMA_API int ccdma_bus_dmamap_load_iovec_at(ccdma_bus_dma_tag_t tag,
					     ccdma_bus_dmamap_t map,
					     const struct ccdma_iovec *iov,
					     int iovcnt, int flags,
					     const char *file, int line);

/* Load `size` bytes described by segments from dmamem_alloc (or device
 * memory: _ds_va 0).  Segments the map's constraints allow are used in
 * place; the others are bounced (a segment with _ds_va 0 cannot be:
 * EINVAL). */
#define ccdma_bus_dmamap_load_raw(t, m, segs, n, size, f) \
	ccdma_bus_dmamap_load_raw_at((t), (m), (segs), (n), (size), (f), __FILE__, __LINE__)
CCDMA_API int ccdma_bus_dmamap_load_raw_at(ccdma_bus_dma_tag_t tag,
					   ccdma_bus_dmamap_t map,
					   const ccdma_bus_dma_segment_t *segs,
					   int nsegs, ccdma_bus_size_t size,
					   int flags, const char *file, int line);

/*
 * FreeBSD's load with a callback, and its deferred loads.  The load of
 * `buf` is tried at once, never blocking:
 *   - loaded: cb(cbarg, map->dm_segs, map->dm_nsegs, 0) runs before the
 *     call returns 0;
 *   - no bounce memory, CCDMA_BUS_DMA_NOWAIT: cb(cbarg, NULL, 0, ENOMEM),
 *     and the call returns ENOMEM;
 *   - no bounce memory, WAITOK (flags without NOWAIT): the call returns
 *     EINPROGRESS at once and the load is deferred.  It is retried on the
 *     pool's grower thread each time memory has been freed or added (the
 *     pool grows for it if it may), in the order loads were deferred, and
 *     the callback runs there when it succeeds (segments, 0) or fails for
 *     another reason (NULL, 0, the error).  There is no time bound: cancel
 *     with ccdma_bus_dmamap_unload().  Meanwhile the map is pending: loads
 *     and syncs of it fail with EINVAL and its destroy with EBUSY;
 *   - any other failure (EINVAL for a length the map cannot take or a map
 *     already loaded or pending, EFBIG): cb(cbarg, NULL, 0, error), and
 *     the call returns the error.
 * A NULL tag, map, buffer or callback, or a p that is not NULL, is EINVAL
 * without a callback.  The callback runs without any library lock held;
 * a callback on the grower thread must not block for long (the pool does
 * not grow meanwhile) and should take the lock the driver uses for the map
 * (FreeBSD's lockfunc).  It may sync, unload and load the map again.
 */
typedef void (*ccdma_bus_dmamap_callback_t)(void *arg,
					    ccdma_bus_dma_segment_t *segs,
					    int nseg, int error);
#define ccdma_bus_dmamap_load_cb(t, m, buf, len, cb, cbarg, f) \
	ccdma_bus_dmamap_load_cb_at((t), (m), (buf), (len), (cb), (cbarg), (f), \
				    __FILE__, __LINE__)
CCDMA_API int ccdma_bus_dmamap_load_cb_at(ccdma_bus_dma_tag_t tag,
					  ccdma_bus_dmamap_t map, void *buf,
					  ccdma_bus_size_t buflen,
					  ccdma_bus_dmamap_callback_t cb,
					  void *cbarg, int flags,
					  const char *file, int line);

/* End the transfer: give back bounce memory taken at load (an ALLOCNOW
 * reservation is kept).  Nothing is copied: POSTREAD first.  0, or EINVAL
 * (not loaded).  On a map with a deferred load pending, cancel it: 0, and
 * its callback never runs, even when the grower thread is trying the load
 * at that moment (unload then waits the few microseconds until the grower
 * has undone it).  A deferred load that completed before the unload is an
 * ordinary load: unloaded, and its callback runs or ran (the driver's lock,
 * taken in the callback, orders the two). */
#define ccdma_bus_dmamap_unload(t, m) \
	ccdma_bus_dmamap_unload_at((t), (m), __FILE__, __LINE__)
CCDMA_API int ccdma_bus_dmamap_unload_at(ccdma_bus_dma_tag_t tag,
					 ccdma_bus_dmamap_t map,
					 const char *file, int line);

/*
 * Synchronise bytes [offset, offset + len) of the loaded transfer (any
 * window, across segment edges).  ops: PREREAD and/or PREWRITE, or
 * POSTREAD and/or POSTWRITE.  For bounced segments PREWRITE copies memory
 * to the bounce, POSTREAD copies the bounce to memory, PREREAD (without
 * PREWRITE) clears the bounce window, POSTWRITE does nothing.  Segments
 * used in place cost nothing.  0, or EINVAL (not loaded, window outside
 * the transfer or empty, unknown ops, PRE and POST mixed).
 */
#define ccdma_bus_dmamap_sync(t, m, off, len, ops) \
	ccdma_bus_dmamap_sync_at((t), (m), (off), (len), (ops), __FILE__, __LINE__)
CCDMA_API int ccdma_bus_dmamap_sync_at(ccdma_bus_dma_tag_t tag,
				       ccdma_bus_dmamap_t map,
				       ccdma_bus_size_t offset,
				       ccdma_bus_size_t len, int ops,
				       const char *file, int line);

/* ---- dmamem: shared memory for descriptors and rings --------------------- */

/*
 * Allocate `size` bytes of zeroed shared memory from the device's pool,
 * aligned to `alignment` (0: the tag's; a power of two) and crossing no
 * multiple of `boundary` (0: the tag's).  The memory is one contiguous
 * range, described in *rsegs <= nsegs segments (more than one only when a
 * boundary splits it).  Loading it into a map of the same tag never
 * bounces.  0, or EINVAL, EFBIG (nsegs too small), ENOMEM.
 */
CCDMA_API int ccdma_bus_dmamem_alloc(ccdma_bus_dma_tag_t tag,
				     ccdma_bus_size_t size,
				     ccdma_bus_size_t alignment,
				     ccdma_bus_size_t boundary,
				     ccdma_bus_dma_segment_t *segs, int nsegs,
				     int *rsegs, int flags);
/* Free what one dmamem_alloc returned: all its segments, in order.
 * 0, or EINVAL (anything else; nothing is freed). */
CCDMA_API int ccdma_bus_dmamem_free(ccdma_bus_dma_tag_t tag,
				    ccdma_bus_dma_segment_t *segs, int nsegs);
/* The CPU address of dmamem segments (one dmamem_alloc's, in order).
 * 0 and *kvap, or EINVAL (segments not from one allocation). */
CCDMA_API int ccdma_bus_dmamem_map(ccdma_bus_dma_tag_t tag,
				   ccdma_bus_dma_segment_t *segs, int nsegs,
				   size_t size, ccdma_caddr_t *kvap, int flags);
/* Forget a dmamem_map address (the memory stays allocated).  0 or EINVAL
 * (not dmamem of this tag's device). */
CCDMA_API int ccdma_bus_dmamem_unmap(ccdma_bus_dma_tag_t tag, void *kva,
				     size_t size);

#ifdef __cplusplus
}
#endif
#endif /* CCDMA_BUSDMA_H */
