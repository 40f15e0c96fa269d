/* SPDX-License-Identifier: MIT */
/*
 * Streaming mappings of single buffers, and coherent memory.
 *
 * Fast paths: a buffer the device reaches costs a classification (one
 * range compare for the pool) and a translation; a bounce costs one pool
 * allocation, one owner record and, towards the device, one copy.  Unmap
 * finds the bounce through the pool's O(1) lookup; no table, no lock.
 */
#include "dma/dma_internal.h"
#include "dma/reach.h"

static _Thread_local int last_map_err;

/* Every failed streaming mapping: the error for ccdma_mapping_error()
 * and the trace point ccdma:map_fail (device name or "", bytes, -errno). */
static ccdma_addr_t map_fail(const struct ccdma_dev *d, size_t size, int err)
{
	last_map_err = err;
	CCDMA_TRACE3(map_fail, d ? d->name : "", size, err);
	return CCDMA_MAPPING_ERROR;
}

int ccdma_mapping_error(struct ccdma_dev *d, ccdma_addr_t addr)
{
	if (addr != CCDMA_MAPPING_ERROR) {
		if (d && unlikely(d->dbg))
			ccdma_chk_mapping_error(d, addr);
		return 0;
	}
	return last_map_err ? last_map_err : -ENOMEM;
}

static bool bad_range(uintptr_t a, size_t len)
{
	return !a || !len || a + len - 1 < a;
}

static unsigned bounce_pool_flags(const struct ccdma_dev *d, unsigned dir,
				  unsigned attrs)
{
	unsigned f = (attrs & CCDMA_ATTR_WAIT) ? CCDMA_POOL_WAIT : 0;

	/* Bytes the buffer will receive that nobody copies in must not be
	 * an earlier owner's: FROM_DEVICE unless the buffer is copied in
	 * (PRESERVE), BIDIRECTIONAL when the copy-in is skipped.  With a
	 * reported length, unmap clears what the device did not write, in
	 * the CPU's buffer instead. */
	if (dir != CCDMA_TO_DEVICE && !ccdma_copy_in(d, dir, attrs) &&
	    !(attrs & CCDMA_ATTR_REPORTED_LEN))
		f |= CCDMA_POOL_ZERO;
	return f;
}

/*
 * Whether the device reaches [a, a + size) as it is, and at which DMA
 * address: W_POOL or W_REGION (shared memory, reached), W_PRIVATE (private
 * memory the device may reach: trusted, not force-bounce), W_INVALID (pool
 * address range, not inside one live allocation), or W_BOUNCE (a bounce
 * is needed: private, outside the mask, ...).
 */
#define W_BOUNCE ((enum where)-1)
static inline enum where reach(struct ccdma_dev *d, uintptr_t a, size_t size,
			       ccdma_addr_t *dma, struct dev_region **r)
{
	struct ccdma_pool_owner o;
	enum where w;
	void *b;

	/* Pool memory: one O(1) lookup says it is inside a live allocation
	 * (the only pool memory a mapping may name). */
	if (a - d->pool_base < d->pool_size)
		w = ccdma_dev_in_live_alloc(d, a, size, &o, &b) ? W_POOL : W_INVALID;
	else
		w = ccdma_dev_classify(d, a, size, r);
	if (likely(w == W_POOL || w == W_REGION)) {
		*dma = ccdma_dev_dma_of(d, w, *r, a);
		return ccdma_dev_fits(d, *dma, size, d->dma_mask) ? w : W_BOUNCE;
	}
	if (w == W_PRIVATE) {
		if (d->reach_private && !d->force_bounce &&
		    ccdma_dev_xl_private_ok(d, a, size)) {
			*dma = ccdma_dev_dma_of(d, w, *r, a);
			if (ccdma_dev_fits(d, *dma, size, d->dma_mask))
				return W_PRIVATE;
		}
		return W_BOUNCE;
	}
	return W_INVALID;
}

bool ccdma_dev_would_bounce(struct ccdma_dev *d, const void *ptr, size_t size)
{
	struct dev_region *r = NULL;
	ccdma_addr_t dma;

	return !bad_range((uintptr_t)ptr, size) &&
	       reach(d, (uintptr_t)ptr, size, &dma, &r) == W_BOUNCE;
}

void ccdma_dev_count_bounce(struct ccdma_dev *d, bool to_device, size_t mapped,
			    size_t copied)
{
	ccdma_dev_bounced(d, to_device, mapped, copied);
}

int ccdma_bounce_alloc(struct ccdma_dev *d, uintptr_t orig, size_t size,
		       unsigned dir, unsigned attrs, uint32_t tag, void **b)
{
	struct ccdma_pool_owner o = {
		.orig = orig,
		.len = (uint32_t)size,
		.tag = tag | (dir << TAG_DIR_SHIFT) |
		       ((attrs & CCDMA_ATTR_REPORTED_LEN) ? TAG_F_REPORTED : 0),
	};
	struct ccdma_pool_req req;
	unsigned flags = bounce_pool_flags(d, dir, attrs);
	int rc;

	if (likely(d->addr_align <= 1 && !d->min_align_mask)) {
		rc = ccdma_pool_alloc(d->pool, size, flags, b);
	} else {
		req = (struct ccdma_pool_req){
			.size = size,
			.align = d->addr_align > 1 ? d->addr_align : 0,
			.min_align_mask = d->min_align_mask,
			.orig = orig,
			.flags = flags,
			.timeout_ns = CCDMA_POOL_WAIT_DEFAULT_NS,
		};
		rc = ccdma_pool_alloc_req(d->pool, &req, b);
	}
	if (likely(!rc))
		ccdma_pool_set_owner(d->pool, *b, &o);
	return rc;
}

ccdma_addr_t ccdma_map_single_attrs_at(struct ccdma_dev *d, void *ptr,
				       size_t size, enum ccdma_dir dir,
				       unsigned attrs, const char *file,
				       int line)
{
	uintptr_t a = (uintptr_t)ptr;
	struct dev_region *r = NULL;
	ccdma_addr_t dma;
	enum where w;
	void *b;
	int rc;

	if (unlikely(!d || bad_range(a, size) || (unsigned)dir > CCDMA_FROM_DEVICE ||
		     (attrs & ~(unsigned)CCDMA_ATTRS_SINGLE) ||
		     ((attrs & CCDMA_ATTR_REPORTED_LEN) &&
		      (dir != CCDMA_FROM_DEVICE || (attrs & CCDMA_ATTR_PRESERVE))))) {
		ccdma_err("map_single(%p, %zu, dir %d, attrs %#x) at %s:%d: invalid "
			  "argument (NULL device or buffer, zero length, a range "
			  "that wraps, an unknown direction or attribute, or "
			  "REPORTED_LEN with a direction other than FROM_DEVICE "
			  "or with PRESERVE)",
			  ptr, size, (int)dir, attrs, file ? file : "?", line);
		return map_fail(d, size, -EINVAL);
	}
	w = reach(d, a, size, &dma, &r);
	if (w == W_POOL || w == W_REGION) {
		ccdma_pt_map(d, w, r, a, size, ccdma_dir_perm(dir));
		goto mapped;
	}
	if (w == W_PRIVATE)
		goto mapped;
	if (unlikely(w == W_INVALID)) {
		ccdma_err("dev %s: map_single(%p, %zu) at %s:%d: the buffer is in the "
			  "pool's address range but not inside one live allocation",
			  d->name, ptr, size, file ? file : "?", line);
		return map_fail(d, size, -EINVAL);
	}

	if (attrs & CCDMA_ATTR_NO_BOUNCE) {
		ccdma_err("dev %s: map_single(%p, %zu) at %s:%d: the device cannot "
			  "reach the buffer directly and NO_BOUNCE forbids a bounce",
			  d->name, ptr, size, file ? file : "?", line);
		return map_fail(d, size, -EIO);
	}
	if (unlikely(size > CCDMA_POOL_MAX_ALLOC)) {
		ccdma_err("dev %s: map_single(%p, %zu) at %s:%d: a bounce is at "
			  "most %u bytes", d->name, ptr, size, file ? file : "?",
			  line, CCDMA_POOL_MAX_ALLOC);
		return map_fail(d, size, -EINVAL);
	}
	rc = ccdma_bounce_alloc(d, a, size, dir, attrs, TAG_BOUNCE, &b);
	if (unlikely(rc))
		return map_fail(d, size, rc);
	if (ccdma_copy_in(d, dir, attrs)) {
		ccdma_copy_to_device(b, ptr, size);
		ccdma_dev_bounced(d, true, size, size);
	}
	dma = ccdma_dev_dma_of(d, W_POOL, NULL, (uintptr_t)b);
	ccdma_pt_map(d, W_POOL, NULL, (uintptr_t)b, size, ccdma_dir_perm(dir));
	if (unlikely(d->dbg))
		ccdma_chk_map(d, CHK_SINGLE, dma, NULL, a, size, dir, true, NULL,
			      file, line);
	return dma;
mapped:
	if (unlikely(d->dbg))
		ccdma_chk_map(d, CHK_SINGLE, dma, NULL, a, size, dir, false, NULL,
			      file, line);
	return dma;
}

/* `written` of an unmap that reports no length. */
#define NO_LEN SIZE_MAX

/*
 * Give back pool memory a mapping or coherent allocation held, after its
 * strict I/O page table entries.  0; -EIO when the table no longer holds
 * the permission this memory was given (an unmap of another mapping on the
 * same page, made with the wrong direction, took it): the device may still
 * reach the page, so the memory is withheld from reuse (fail closed);
 * -EINVAL when it was given back meanwhile (two releases at once).
 */
static int release_pool_mem(struct ccdma_dev *d, void *b, size_t len,
			    unsigned perm, const char *what)
{
	if (unlikely(ccdma_pt_unmap(d, W_POOL, NULL, (uintptr_t)b, len, perm))) {
		ccdma_err("dev %s: %s %p (%zu bytes): its I/O page table entries "
			  "were taken by another unmap; the memory is withheld "
			  "from reuse", d->name, what, b, len);
		return -EIO;
	}
	if (unlikely(ccdma_pool_free(d->pool, b, len))) {
		ccdma_err("dev %s: %s %p (%zu bytes) was given back twice (two "
			  "releases of one mapping at once?)", d->name, what, b, len);
		return -EINVAL;
	}
	return 0;
}

/* Copy-back and release of a bounce; o is its owner record.  A bounce
 * mapped with a reported length gets `written` bytes copied and the rest
 * of the CPU's buffer cleared (nothing copied when no length came).
 * Returns as release_pool_mem(). */
static int bounce_release(struct ccdma_dev *d, void *b,
			  const struct ccdma_pool_owner *o, bool copy,
			  size_t written)
{
	unsigned mdir = ccdma_tag_dir(o->tag);
	size_t n = o->len;

	if (copy && mdir != CCDMA_TO_DEVICE) {
		if (o->tag & TAG_F_REPORTED) {
			n = written == NO_LEN ? 0 : written < o->len ? written : o->len;
			ccdma_memset((void *)(uintptr_t)(o->orig + n), 0, o->len - n);
		}
		ccdma_memcpy((void *)(uintptr_t)o->orig, b, n);
		ccdma_dev_bounced(d, false, o->len, n);
	}
	return release_pool_mem(d, b, o->len, ccdma_dir_perm(mdir), "bounce");
}

static int unmap_single(struct ccdma_dev *d, ccdma_addr_t addr, size_t size,
			enum ccdma_dir dir, unsigned attrs, size_t written,
			const char *file, int line)
{
	struct dev_region *r = NULL;
	struct ccdma_pool_owner o;
	uintptr_t pa;
	enum where w;
	size_t asz;
	void *b;
	int rc;

	if (unlikely(!d || !size || (unsigned)dir > CCDMA_FROM_DEVICE ||
		     (attrs & ~(unsigned)CCDMA_ATTRS_SINGLE) || addr == CCDMA_MAPPING_ERROR)) {
		ccdma_err("unmap_single(%#llx, %zu, dir %d) at %s:%d: invalid "
			  "argument (NULL device, zero length, CCDMA_MAPPING_ERROR, "
			  "or an unknown direction or attribute)",
			  (unsigned long long)addr, size, (int)dir,
			  file ? file : "?", line);
		return -EINVAL;
	}
	if (unlikely(d->dbg) &&
	    ccdma_chk_unmap(d, CHK_SINGLE, addr, NULL, size, dir, file, line))
		return -EINVAL;
	if (likely(ccdma_dev_pool_pa(d, addr, &pa))) {
		/* Pool memory outside every live allocation (a bounce
		 * already unmapped, say) is no live mapping. */
		if (ccdma_pool_get_owner(d->pool, (void *)pa, &o, &b, &asz))
			goto bad;
		if ((o.tag & TAG_KIND_MASK) != TAG_BOUNCE) {
			/* Shared memory mapped in place. */
			if (size > asz - (pa - (uintptr_t)b))
				goto bad;
			return ccdma_pt_unmap(d, W_POOL, NULL, pa, size,
					      ccdma_dir_perm(dir));
		}
		if ((uintptr_t)b != pa)
			goto bad;
		if (size != o.len || (unsigned)dir != ccdma_tag_dir(o.tag))
			ccdma_warn("dev %s: unmap_single(%#llx) at %s:%d: size %zu / "
				   "%s differ from the map's %u / %s; using the "
				   "map's", d->name, (unsigned long long)addr,
				   file ? file : "?", line, size, ccdma_dir_name(dir),
				   o.len, ccdma_dir_name(ccdma_tag_dir(o.tag)));
		rc = bounce_release(d, b, &o, !(attrs & CCDMA_ATTR_SKIP_CPU_SYNC),
				    written);
		if (unlikely(rc))
			return rc;
		if (unlikely((o.tag & TAG_F_REPORTED) && written == NO_LEN &&
			     !(attrs & CCDMA_ATTR_SKIP_CPU_SYNC))) {
			ccdma_err("dev %s: unmap_single(%#llx) at %s:%d: the mapping "
				  "was made with REPORTED_LEN and needs "
				  "ccdma_unmap_single_written(); nothing was copied "
				  "and the buffer was cleared", d->name,
				  (unsigned long long)addr, file ? file : "?", line);
			return -EINVAL;
		}
		return 0;
	}
	w = ccdma_dev_locate(d, addr, size, &pa, &r);
	if (w == W_REGION)
		return ccdma_pt_unmap(d, w, r, pa, size, ccdma_dir_perm(dir));
	if (w == W_PRIVATE)
		return 0;
bad:
	ccdma_err("dev %s: unmap_single(%#llx, %zu) at %s:%d: not a live mapping "
		  "of this device", d->name, (unsigned long long)addr, size,
		  file ? file : "?", line);
	return -EINVAL;
}

int ccdma_unmap_single_attrs_at(struct ccdma_dev *d, ccdma_addr_t addr,
				size_t size, enum ccdma_dir dir, unsigned attrs,
				const char *file, int line)
{
	return unmap_single(d, addr, size, dir, attrs, NO_LEN, file, line);
}

int ccdma_unmap_single_written_at(struct ccdma_dev *d, ccdma_addr_t addr,
				  size_t size, enum ccdma_dir dir,
				  unsigned attrs, size_t written,
				  const char *file, int line)
{
	if (written == NO_LEN)
		written--;
	return unmap_single(d, addr, size, dir, attrs, written, file, line);
}

void ccdma_reclaim_single(struct ccdma_dev *d, ccdma_addr_t dma, size_t len,
			  unsigned dir)
{
	struct dev_region *r = NULL;
	struct ccdma_pool_owner o;
	uintptr_t pa;
	size_t asz;
	void *b;
	enum where w = ccdma_dev_locate(d, dma, 1, &pa, &r);

	/* Device teardown: a failure was logged, and the page table goes
	 * with the device. */
	if (w == W_POOL && !ccdma_pool_get_owner(d->pool, (void *)pa, &o, &b, &asz) &&
	    (o.tag & TAG_KIND_MASK) == TAG_BOUNCE && (uintptr_t)b == pa)
		(void)bounce_release(d, b, &o, false, NO_LEN);
	else if (w == W_POOL || w == W_REGION)
		(void)ccdma_pt_unmap(d, w, r, pa, len, ccdma_dir_perm(dir));
}

static int sync_range(struct ccdma_dev *d, ccdma_addr_t addr, size_t off,
		      size_t size, enum ccdma_dir dir, bool for_cpu,
		      const char *file, int line)
{
	struct dev_region *r = NULL;
	struct ccdma_pool_owner o;
	ccdma_addr_t start = addr + off;
	uintptr_t pa;
	enum where w;
	unsigned mdir;
	void *b;
	const char *what = for_cpu ? "for_cpu" : "for_device";

	if (unlikely(!d || !size || (unsigned)dir > CCDMA_FROM_DEVICE ||
		     start < addr || start + size - 1 < start ||
		     addr == CCDMA_MAPPING_ERROR)) {
		ccdma_err("sync_single_%s(%#llx + %zu, %zu) at %s:%d: invalid "
			  "argument (NULL device, zero length, a window that wraps, "
			  "CCDMA_MAPPING_ERROR or an unknown direction)", what,
			  (unsigned long long)addr, off, size, file ? file : "?", line);
		return -EINVAL;
	}
	if (unlikely(d->dbg) &&
	    ccdma_chk_sync(d, CHK_SINGLE, addr, NULL, off, size, dir, for_cpu,
			   file, line))
		return -EINVAL;
	if (ccdma_dev_pool_pa(d, start, &pa)) {
		/* One lookup: a live allocation, and whether it is a bounce. */
		if (!ccdma_dev_in_live_alloc(d, pa, size, &o, &b))
			goto bad;
		w = W_POOL;
	} else {
		w = ccdma_dev_locate(d, start, size, &pa, &r);
	}
	if (w == W_POOL && (o.tag & TAG_KIND_MASK) == TAG_BOUNCE) {
		uintptr_t boff = pa - (uintptr_t)b;

		if (boff > o.len || size > o.len - boff)
			goto bad;
		mdir = ccdma_tag_dir(o.tag);
		if (for_cpu && (o.tag & TAG_F_REPORTED)) {
			ccdma_err("dev %s: sync_single_for_cpu(%#llx) at %s:%d: "
				  "the mapping was made with REPORTED_LEN: only "
				  "ccdma_unmap_single_written() hands its data to "
				  "the CPU", d->name, (unsigned long long)addr,
				  file ? file : "?", line);
			return -EINVAL;
		}
		if (for_cpu && mdir != CCDMA_TO_DEVICE) {
			ccdma_memcpy((void *)(uintptr_t)(o.orig + boff), (void *)pa, size);
			ccdma_dev_bounced(d, false, o.len, size);
		} else if (!for_cpu && mdir != CCDMA_FROM_DEVICE) {
			ccdma_copy_to_device((void *)pa,
					     (const void *)(uintptr_t)(o.orig + boff), size);
			ccdma_dev_bounced(d, true, o.len, size);
		}
	} else if (w == W_INVALID) {
		goto bad;
	}
	if (unlikely(d->dbg) && !for_cpu)
		ccdma_chk_handover(d, CHK_SINGLE, addr, NULL, off, size);
	return 0;
bad:
	ccdma_err("dev %s: sync_single_%s(%#llx + %zu, %zu) at %s:%d: the window "
		  "is not inside a live mapping of this device", d->name, what,
		  (unsigned long long)addr, off, size, file ? file : "?", line);
	return -EINVAL;
}

int ccdma_sync_single_range_for_cpu_at(struct ccdma_dev *d, ccdma_addr_t addr,
				       size_t off, size_t size,
				       enum ccdma_dir dir, const char *file,
				       int line)
{
	return sync_range(d, addr, off, size, dir, true, file, line);
}

int ccdma_sync_single_range_for_device_at(struct ccdma_dev *d,
					  ccdma_addr_t addr, size_t off,
					  size_t size, enum ccdma_dir dir,
					  const char *file, int line)
{
	return sync_range(d, addr, off, size, dir, false, file, line);
}

/* ---- coherent memory -------------------------------------------------- */

int ccdma_alloc_coherent_at(struct ccdma_dev *d, size_t size, void **cpu,
			    ccdma_addr_t *dma, unsigned attrs, const char *file,
			    int line)
{
	struct ccdma_pool_req req;
	struct ccdma_pool_owner o;
	size_t align = 1, page = (size_t)1 << (d ? d->page_shift : 12);
	ccdma_addr_t da;
	void *p;
	int rc;

	if (!d || !cpu || !dma || !size || size > CCDMA_POOL_MAX_ALLOC ||
	    (attrs & ~(unsigned)CCDMA_ATTR_WAIT)) {
		ccdma_err("alloc_coherent(%zu): invalid argument (NULL pointer, "
			  "size 0 or above %u, or an attribute other than WAIT)",
			  size, CCDMA_POOL_MAX_ALLOC);
		return -EINVAL;
	}
	while (align < size && align < page)
		align <<= 1;
	req = (struct ccdma_pool_req){
		.size = size,
		.align = align > d->addr_align ? align : d->addr_align,
		.flags = CCDMA_POOL_ZERO |
			 ((attrs & CCDMA_ATTR_WAIT) ? CCDMA_POOL_WAIT : 0),
		.timeout_ns = CCDMA_POOL_WAIT_DEFAULT_NS,
	};
	rc = ccdma_pool_alloc_req(d->pool, &req, &p);
	if (rc)
		return rc;
	o.orig = 0;
	o.len = (uint32_t)size;
	o.tag = TAG_COHERENT;
	ccdma_pool_set_owner(d->pool, p, &o);
	da = ccdma_dev_dma_of(d, W_POOL, NULL, (uintptr_t)p);
	ccdma_pt_map(d, W_POOL, NULL, (uintptr_t)p, size,
		     CCDMA_ACCESS_READ | CCDMA_ACCESS_WRITE);
	if (unlikely(d->dbg))
		ccdma_chk_map(d, CHK_COHERENT, da, NULL, (uintptr_t)p, size,
			      CCDMA_BIDIRECTIONAL, false, NULL, file, line);
	*cpu = p;
	*dma = da;
	return 0;
}

int ccdma_reclaim_coherent(struct ccdma_dev *d, void *cpu, size_t len)
{
	return release_pool_mem(d, cpu, len, CCDMA_ACCESS_READ | CCDMA_ACCESS_WRITE,
				"coherent memory");
}

int ccdma_free_coherent_at(struct ccdma_dev *d, size_t size, void *cpu,
			   ccdma_addr_t dma, const char *file, int line)
{
	struct ccdma_pool_owner o;
	size_t asz;
	void *b;
	bool live;

	if (!d || !cpu || !size) {
		ccdma_err("free_coherent(%zu, %p) at %s:%d: invalid argument (NULL "
			  "device or address, or size 0)", size, cpu,
			  file ? file : "?", line);
		return -EINVAL;
	}
	live = !ccdma_pool_get_owner(d->pool, cpu, &o, &b, &asz) && b == cpu &&
	       (o.tag & TAG_KIND_MASK) == TAG_COHERENT;
	if (!live || o.len != size ||
	    ccdma_dev_dma_of(d, W_POOL, NULL, (uintptr_t)cpu) != dma) {
		/* Not live at all: the checker tells a double free from a
		 * wild one, with the call site. */
		if (unlikely(d->dbg) && !live)
			ccdma_chk_unmap(d, CHK_COHERENT, dma, NULL, size,
					CCDMA_BIDIRECTIONAL, file, line);
		ccdma_err("dev %s: free_coherent(%zu, %p, %#llx) at %s:%d: not a live "
			  "coherent allocation of this device with that size and "
			  "address", d->name, size, cpu, (unsigned long long)dma,
			  file ? file : "?", line);
		return -EINVAL;
	}
	if (unlikely(d->dbg) &&
	    ccdma_chk_unmap(d, CHK_COHERENT, dma, NULL, size, CCDMA_BIDIRECTIONAL,
			    file, line))
		return -EINVAL;
	return ccdma_reclaim_coherent(d, cpu, size);
}
