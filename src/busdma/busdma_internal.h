/* SPDX-License-Identifier: MIT */
/*
 * busdma internals.  busdma is a front-end: it decides how each piece of
 * a transfer is carried (in place, or bounced) and describes it in BSD
 * segments; the memory, the translation, the reach and the checker are the
 * dma layer's (dma_internal.h) and the bounce memory is the device's pool.
 */
#ifndef CCDMA_BUSDMA_INTERNAL_H
#define CCDMA_BUSDMA_INTERNAL_H

#include <ccdma/busdma.h>

#include "dma/dma_internal.h"

struct ccdma_bus_dma_tag {
	struct ccdma_dev *dev;
	struct ccdma_bus_dma_tag *parent;
	struct ccdma_bus_dma_tag_config c;  /* effective: no zeros */
	size_t page;
	uint32_t users;                     /* maps and child tags (atomic) */
};

/* Load flags every load accepts. */
#define BUSDMA_LOAD_FLAGS \
	(CCDMA_BUS_DMA_NOWAIT | CCDMA_BUS_DMA_STREAMING | CCDMA_BUS_DMA_READ | \
	 CCDMA_BUS_DMA_WRITE | CCDMA_BUS_DMA_COHERENT)

static inline bool busdma_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

static inline size_t busdma_round_up(size_t v, size_t align)
{
	return (v + align - 1) & ~(align - 1);
}

/* The alignment of a map's bounce area: the map's, or for a device with a
 * min_align_mask (NVMe-style) mask + 1, so that a bounced run placed at
 * an offset with the buffer's low bits keeps them in its DMA address. */
static inline size_t busdma_bounce_align(const struct ccdma_bus_dma_tag *t,
					 size_t align)
{
	size_t m = (size_t)t->dev->min_align_mask + 1;

	return m > align ? m : align;
}

/* Take `size` bytes of shared memory from the device's pool for the tag:
 * page-rounded under ISOLATE, aligned to `align` (at most the pool's
 * region size), placed to cross as few multiples of `boundary` as it can,
 * with owner tag `otag` (0: no record; a load's own bounce needs none, the
 * map holds everything).  0 or a positive errno after a message naming
 * `what`. */
int ccdma_busdma_pool_get(const struct ccdma_bus_dma_tag *t, size_t size,
			  size_t align, size_t boundary, bool wait, uint32_t otag,
			  const char *what, void **out, size_t *got);

/* map.c: a linear load (ccdma_bus_dmamap_load), for `what`; `retry`: the
 * retry of the map's own deferred load, which its pending mark must not
 * refuse.  0 or a positive errno, as the load. */
int ccdma_busdma_load_linear(struct ccdma_bus_dma_tag *t,
			     struct ccdma_bus_dmamap *m, void *buf, size_t len,
			     int flags, bool retry, const char *what,
			     const char *file, int line);
/* map.c: unload a map that has no deferred load pending (0, or EINVAL
 * when it is not loaded). */
int ccdma_busdma_unload_loaded(struct ccdma_bus_dma_tag *t,
			       struct ccdma_bus_dmamap *m, const char *file,
			       int line);
/* defer.c: cancel the map's pending deferred load (unload): 0 when it was
 * cancelled (its callback never runs, the map is unloaded), or ENOENT when
 * it completed since the caller saw it pending (the map is loaded, and its
 * callback runs or ran). */
int ccdma_busdma_defer_cancel(struct ccdma_bus_dma_tag *t,
			      struct ccdma_bus_dmamap *m, const char *file,
			      int line);

#endif /* CCDMA_BUSDMA_INTERNAL_H */
