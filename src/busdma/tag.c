/* SPDX-License-Identifier: MIT */
/*
 * busdma tags: a device's constraints, narrowed by each child tag.
 */
#include "busdma/busdma_internal.h"

/* The constraints a root tag starts from: the device's. */
static void device_constraints(const struct ccdma_dev *d,
			       struct ccdma_bus_dma_tag_config *c)
{
	ccdma_memset(c, 0, sizeof(*c));
	c->alignment = d->addr_align > 1 ? d->addr_align : 1;
	c->boundary = d->boundary == ~0ull ? 0 : (ccdma_bus_size_t)d->boundary + 1;
	c->maxsegsz = d->max_seg;
	c->nsegments = CCDMA_BUS_DMA_MAX_SEGS;
	c->maxsize = CCDMA_POOL_MAX_ALLOC;
	c->addr_limit = d->dma_mask;
}

/* Narrow `p` (effective, no zeros) by `w` into `out`.  NULL, or what is
 * wrong (a widening, or a value that is not allowed). */
static const char *narrow(const struct ccdma_bus_dma_tag_config *p,
			  const struct ccdma_bus_dma_tag_config *w,
			  struct ccdma_bus_dma_tag_config *out)
{
	static const struct ccdma_bus_dma_tag_config inherit;

	*out = *p;
	if (!w)
		w = &inherit;
	if (w->alignment) {
		if (!busdma_pow2(w->alignment))
			return "alignment is not a power of two";
		if (w->alignment < p->alignment)
			return "alignment is below (widens) the parent's";
		out->alignment = w->alignment;
	}
	if (w->boundary) {
		if (!busdma_pow2(w->boundary))
			return "boundary is not a power of two";
		if (p->boundary && w->boundary > p->boundary)
			return "boundary is above (widens) the parent's";
		out->boundary = w->boundary;
	}
	if (w->maxsegsz) {
		if (w->maxsegsz > p->maxsegsz)
			return "maxsegsz is above (widens) the parent's";
		out->maxsegsz = w->maxsegsz;
	}
	if (w->nsegments < 0)
		return "nsegments is negative";
	if (w->nsegments) {
		if (w->nsegments > p->nsegments)
			return "nsegments is above (widens) the parent's";
		out->nsegments = w->nsegments;
	}
	if (w->maxsize) {
		if (w->maxsize > p->maxsize)
			return "maxsize is above (widens) the parent's";
		out->maxsize = w->maxsize;
	}
	if (w->addr_limit) {
		if (w->addr_limit > p->addr_limit)
			return "addr_limit is above (widens) the parent's";
		out->addr_limit = w->addr_limit;
	}
	if (w->flags & ~(unsigned)CCDMA_BUS_DMA_TAG_ISOLATE)
		return "unknown tag flags";
	out->flags |= w->flags;
	if (out->boundary && out->boundary < out->alignment)
		return "boundary is below the alignment (a segment split at a "
		       "boundary line would start misaligned)";
	/* An inherited maxsegsz is narrowed to a multiple of the alignment;
	 * one given here must be one. */
	if (!w->maxsegsz)
		out->maxsegsz -= out->maxsegsz % out->alignment;
	if (!out->maxsegsz || out->maxsegsz % out->alignment)
		return "maxsegsz is not a multiple of the alignment (a segment "
		       "split at maxsegsz would start misaligned)";
	return NULL;
}

/* NULL, or why the device's pool does not suit tag constraints `c`. */
static const char *pool_fits(const struct ccdma_dev *d,
			     const struct ccdma_bus_dma_tag_config *c)
{
	ccdma_addr_t lo = ccdma_dev_dma_of(d, W_POOL, NULL, d->pool_base);
	ccdma_addr_t hi = ccdma_dev_dma_of(d, W_POOL, NULL,
					   d->pool_base + d->pool_size - 1);

	if (lo > c->addr_limit || hi > c->addr_limit)
		return "the device's pool lies above addr_limit (create the "
		       "device with a DMA mask that places its pool lower)";
	if (c->alignment > ccdma_pool_max_align(d->pool))
		return "alignment is above the pool's region size, the largest "
		       "alignment bounce memory can have";
	if ((lo - d->pool_base) & (c->alignment - 1))
		return "the device's translation moves pool addresses off the "
		       "alignment";
	return NULL;
}

int ccdma_bus_dma_tag_create(struct ccdma_dev *dev, ccdma_bus_dma_tag_t parent,
			     const struct ccdma_bus_dma_tag_config *cfg,
			     ccdma_bus_dma_tag_t *out)
{
	struct ccdma_bus_dma_tag_config base;
	struct ccdma_bus_dma_tag *t;
	const char *why;

	if (!out || (!dev && !parent) || (dev && parent && parent->dev != dev)) {
		ccdma_err("bus_dma_tag_create: invalid argument (NULL out, neither "
			  "a device nor a parent, or a parent of another device)");
		return EINVAL;
	}
	if (parent) {
		dev = parent->dev;
		base = parent->c;
	} else {
		device_constraints(dev, &base);
	}
	t = ccdma_os_calloc(1, sizeof(*t));
	if (!t)
		return ENOMEM;
	why = narrow(&base, cfg, &t->c);
	if (!why && dev->min_align_mask && t->c.alignment > 1)
		why = "an alignment on a device with a min_align_mask (a bounce keeps "
		      "the buffer's low address bits, which need not be aligned)";
	if (!why)
		why = pool_fits(dev, &t->c);
	if (why) {
		ccdma_err("bus_dma_tag_create(dev %s, %s tag): %s", dev->name,
			  parent ? "child" : "root", why);
		ccdma_os_free(t);
		return EINVAL;
	}
	t->dev = dev;
	t->parent = parent;
	t->page = (size_t)1 << dev->page_shift;
	if (parent)
		__atomic_add_fetch(&parent->users, 1, __ATOMIC_RELAXED);
	*out = t;
	return 0;
}

int ccdma_bus_dma_tag_destroy(ccdma_bus_dma_tag_t t)
{
	uint32_t users;

	if (!t) {
		ccdma_err("bus_dma_tag_destroy(NULL)");
		return EINVAL;
	}
	users = __atomic_load_n(&t->users, __ATOMIC_ACQUIRE);
	if (users) {
		ccdma_err("bus_dma_tag_destroy(dev %s): %u maps or child tags still "
			  "use the tag", t->dev->name, users);
		return EBUSY;
	}
	if (t->parent)
		__atomic_sub_fetch(&t->parent->users, 1, __ATOMIC_RELEASE);
	ccdma_os_free(t);
	return 0;
}

int ccdma_bus_dma_tag_get(ccdma_bus_dma_tag_t t,
			  struct ccdma_bus_dma_tag_config *cfg)
{
	if (!t || !cfg) {
		ccdma_err("bus_dma_tag_get: NULL argument");
		return EINVAL;
	}
	*cfg = t->c;
	return 0;
}

/* The alignment to ask the pool for when `need` bytes must start
 * `align`-aligned and should cross as few multiples of `boundary` (0:
 * none) as possible: an allocation aligned to the next power of two of its
 * size crosses none it need not. */
static size_t alloc_align(const struct ccdma_bus_dma_tag *t, size_t align,
			  size_t boundary, size_t need)
{
	size_t a = align, cap = ccdma_pool_max_align(t->dev->pool), p2 = 1;

	if (t->c.flags & CCDMA_BUS_DMA_TAG_ISOLATE && a < t->page)
		a = t->page;
	if (boundary) {
		while (p2 < need && p2 < boundary)
			p2 <<= 1;
		if (p2 > a)
			a = p2;
	}
	/* The boundary's wish stops at what the pool can give; the
	 * alignment itself was checked against it by the caller. */
	return a < cap ? a : cap;
}

int ccdma_busdma_pool_get(const struct ccdma_bus_dma_tag *t, size_t size,
			  size_t align, size_t boundary, bool wait, uint32_t otag,
			  const char *what, void **out, size_t *got)
{
	/* orig: the size asked for (the allocation may be rounded up). */
	struct ccdma_pool_owner o = { .orig = size, .tag = otag };
	struct ccdma_pool_req req = {
		.flags = wait ? CCDMA_POOL_WAIT : CCDMA_POOL_NOWAIT,
		.timeout_ns = CCDMA_POOL_WAIT_DEFAULT_NS,
	};
	int rc;

	if (t->c.flags & CCDMA_BUS_DMA_TAG_ISOLATE)
		size = busdma_round_up(size, t->page);
	if (size > CCDMA_POOL_MAX_ALLOC) {
		ccdma_err("dev %s: %s: %zu bytes of shared memory exceed the largest "
			  "allocation (%u)", t->dev->name, what, size,
			  CCDMA_POOL_MAX_ALLOC);
		return EINVAL;
	}
	req.size = size;
	req.align = alloc_align(t, align, boundary, size);
	if (req.align == 1)
		rc = ccdma_pool_alloc(t->dev->pool, size, req.flags, out);
	else
		rc = ccdma_pool_alloc_req(t->dev->pool, &req, out);
	if (rc == -ENOMEM) {
		/* Not an error of the caller's: the pool's own messages stay
		 * quiet on NOWAIT exhaustion, and so does this one at debug. */
		ccdma_dbg("dev %s: %s: no shared memory for %zu bytes (%s)",
			  t->dev->name, what, size, wait ? "WAITOK timed out" : "NOWAIT");
		return ENOMEM;
	}
	if (rc) {
		ccdma_err("dev %s: %s: the pool refused %zu bytes aligned to %zu",
			  t->dev->name, what, size, req.align);
		return -rc;
	}
	o.len = (uint32_t)size;
	if (otag)
		ccdma_pool_set_owner(t->dev->pool, *out, &o);
	*got = size;
	return 0;
}
