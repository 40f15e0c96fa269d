/* SPDX-License-Identifier: MIT */
/*
 * dmamem: shared memory from the device's pool for what the device and the
 * CPU share for good (descriptor rings, status blocks).  One pool
 * allocation per dmamem_alloc, zeroed, with an owner record (TAG_DMAMEM)
 * that free / map / unmap check.  Loads find it in the pool as a live
 * allocation and use it in place.
 */
#include "busdma/busdma_internal.h"

#define DMAMEM_FLAGS \
	(CCDMA_BUS_DMA_NOWAIT | CCDMA_BUS_DMA_COHERENT | CCDMA_BUS_DMA_STREAMING | \
	 CCDMA_BUS_DMA_ZERO)

int ccdma_bus_dmamem_alloc(ccdma_bus_dma_tag_t t, ccdma_bus_size_t size,
			   ccdma_bus_size_t alignment, ccdma_bus_size_t boundary,
			   ccdma_bus_dma_segment_t *segs, int nsegs, int *rsegs,
			   int flags)
{
	ccdma_bus_dma_segment_t *s;
	const char *why = NULL;
	size_t align, got, b;
	void *p;
	int rc, n = 0;

	if (!t || !segs || !rsegs || nsegs < 1) {
		ccdma_err("bus_dmamem_alloc: NULL tag, segments or count, or nsegs "
			  "below 1");
		return EINVAL;
	}
	align = alignment > t->c.alignment ? alignment : t->c.alignment;
	b = t->c.boundary;
	if (boundary && (!b || boundary < b))
		b = boundary;
	if (!size || size > CCDMA_POOL_MAX_ALLOC)
		why = "size is 0 or above the largest allocation";
	else if (alignment && !busdma_pow2(alignment))
		why = "alignment is not a power of two";
	else if (align > ccdma_pool_max_align(t->dev->pool))
		why = "alignment is above the pool's region size";
	else if (boundary && !busdma_pow2(boundary))
		why = "boundary is not a power of two";
	else if (b && b < align)
		why = "boundary is below the alignment";
	else if ((unsigned)flags & ~(unsigned)DMAMEM_FLAGS)
		why = "unknown flags";
	if (why) {
		ccdma_err("bus_dmamem_alloc(dev %s, %zu bytes, alignment %zu, boundary "
			  "%zu, flags %#x): %s", t->dev->name, size, alignment,
			  boundary, (unsigned)flags, why);
		return EINVAL;
	}
	rc = ccdma_busdma_pool_get(t, size, align, b,
				   !(flags & CCDMA_BUS_DMA_NOWAIT), TAG_DMAMEM,
				   "bus_dmamem_alloc", &p, &got);
	if (rc)
		return rc;
	/* The pool hands out shared memory that may hold an earlier owner's
	 * bytes: clear all of it (what a later load exposes is ours). */
	ccdma_memset(p, 0, got);
	/* Describe it in segments that cross no boundary line (one, unless
	 * the memory is larger than the boundary). */
	for (size_t off = 0; off < size; n++) {
		ccdma_addr_t dma = ccdma_dev_dma_of(t->dev, W_POOL, NULL,
						    (uintptr_t)p + off);
		size_t len = size - off;

		if (b && len > b - (dma & (b - 1)))
			len = b - (dma & (b - 1));
		if (n == nsegs) {
			ccdma_err("bus_dmamem_alloc(dev %s, %zu bytes, boundary %zu): "
				  "needs more than %d segments", t->dev->name, size,
				  b, nsegs);
			ccdma_pool_free(t->dev->pool, p, got);
			return EFBIG;
		}
		s = &segs[n];
		s->ds_addr = dma;
		s->ds_len = len;
		s->_ds_va = (uintptr_t)p + off;
		s->_ds_bounce_va = 0;
		off += len;
	}
	*rsegs = n;
	return 0;
}

/* The dmamem allocation `segs` describe (checked: in order, from its
 * start; all of it when `whole`), its start and the size it was asked
 * with. */
static int find_dmamem(ccdma_bus_dma_tag_t t, const ccdma_bus_dma_segment_t *segs,
		       int nsegs, bool whole, const char *what, void **start,
		       size_t *len)
{
	struct ccdma_pool_owner o;
	size_t asz, sum = 0;
	void *b;
	int i;

	if (!t || !segs || nsegs < 1) {
		ccdma_err("%s: NULL tag or segments, or nsegs below 1", what);
		return EINVAL;
	}
	for (i = 0; i < nsegs; i++) {
		if (segs[i]._ds_va != segs[0]._ds_va + sum)
			goto bad;
		sum += segs[i].ds_len;
	}
	if (ccdma_pool_get_owner(t->dev->pool, (void *)segs[0]._ds_va, &o, &b, &asz) ||
	    (uintptr_t)b != segs[0]._ds_va || (o.tag & TAG_KIND_MASK) != TAG_DMAMEM ||
	    sum > o.orig || (whole && sum != o.orig))
		goto bad;
	*start = b;
	*len = (size_t)o.orig;
	return 0;
bad:
	ccdma_err("dev %s: %s: the %d segments are not %s live dmamem_alloc of "
		  "this device, in order", t->dev->name, what, nsegs,
		  whole ? "all of one" : "one");
	return EINVAL;
}

int ccdma_bus_dmamem_free(ccdma_bus_dma_tag_t t, ccdma_bus_dma_segment_t *segs,
			  int nsegs)
{
	size_t len;
	void *p;
	int rc = find_dmamem(t, segs, nsegs, true, "bus_dmamem_free", &p, &len);

	if (rc)
		return rc;
	ccdma_pool_free(t->dev->pool, p, SIZE_MAX);
	return 0;
}

int ccdma_bus_dmamem_map(ccdma_bus_dma_tag_t t, ccdma_bus_dma_segment_t *segs,
			 int nsegs, size_t size, ccdma_caddr_t *kvap, int flags)
{
	size_t len;
	void *p;
	int rc;

	if (!kvap || ((unsigned)flags & ~(unsigned)DMAMEM_FLAGS)) {
		ccdma_err("bus_dmamem_map: NULL kvap or unknown flags %#x",
			  (unsigned)flags);
		return EINVAL;
	}
	rc = find_dmamem(t, segs, nsegs, false, "bus_dmamem_map", &p, &len);
	if (rc)
		return rc;
	if (!size || size > len) {
		ccdma_err("dev %s: bus_dmamem_map: size %zu; the memory holds %zu",
			  t->dev->name, size, len);
		return EINVAL;
	}
	*kvap = p;
	return 0;
}

int ccdma_bus_dmamem_unmap(ccdma_bus_dma_tag_t t, void *kva, size_t size)
{
	ccdma_bus_dma_segment_t s = { .ds_len = size, ._ds_va = (uintptr_t)kva };
	size_t len;
	void *p;

	if (!kva) {
		ccdma_err("bus_dmamem_unmap: NULL address");
		return EINVAL;
	}
	return find_dmamem(t, &s, 1, false, "bus_dmamem_unmap", &p, &len);
}
