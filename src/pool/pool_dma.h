/* SPDX-License-Identifier: MIT */
/*
 * What the pool offers the layers built on it inside the library (dma,
 * busdma): a private record per allocation and copy accounting.  Not part
 * of the public API.
 */
#ifndef CCDMA_POOL_DMA_H
#define CCDMA_POOL_DMA_H

#include <ccdma/pool.h>
#include <stdbool.h>

/*
 * Kept in private metadata beside each allocation (never in shared
 * memory, which a device can overwrite).  Zeroed by every allocation;
 * its meaning belongs to the layer that sets it.
 */
struct ccdma_pool_owner {
	uint64_t orig;  /* e.g. the original buffer of a bounce */
	uint32_t len;   /* e.g. the mapped length */
	uint32_t tag;   /* layer-defined kind and flags; 0: none */
};

/* Set the record of the allocation that starts at `addr` (exactly what
 * the allocation returned).  0 or -EINVAL. */
int ccdma_pool_set_owner(struct ccdma_pool *p, void *addr,
			 const struct ccdma_pool_owner *o);

/* The record and start of the live allocation holding `addr`, in O(1).
 * 0 or -EINVAL (not inside a live allocation). */
int ccdma_pool_get_owner(struct ccdma_pool *p, const void *addr,
			 struct ccdma_pool_owner *o, void **alloc_addr,
			 size_t *alloc_size);

/* Count one bounce copy of `bytes` towards the device or from it, in the
 * calling thread's counters (no shared cache line). */
void ccdma_pool_count_copy(struct ccdma_pool *p, bool to_device, size_t bytes);

/* The largest alignment an allocation may ask for (the region size). */
size_t ccdma_pool_max_align(const struct ccdma_pool *p);

#endif /* CCDMA_POOL_DMA_H */
