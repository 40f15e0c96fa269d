/* SPDX-License-Identifier: MIT */
/*
 * Chunk lists: the scatter-gather input (CPU ranges tagged with where they
 * live, merged while built) and the separate output list of DMA segments.
 *
 * Mapping makes two passes over the input.  The first decides, per chunk,
 * whether it is bounced and lays the bounced chunks out one after another
 * in a single bounce allocation (keeping min_align_mask bits or addr_align
 * alignment); the second copies, emits segments split at max_seg_size and
 * at the segment boundary, and merges pieces that are contiguous in DMA
 * space.  The output carries the input's bytes in order, so copy-back and
 * sub-range syncs walk the two lists side by side: no per-chunk state is
 * kept anywhere.
 */
#include "dma/dma_internal.h"

void ccdma_chunks_init(struct ccdma_chunk_list *l, struct ccdma_chunk *storage,
		       uint32_t cap)
{
	if (!l)
		return;
	l->chunk = storage;
	l->n = 0;
	l->cap = storage ? cap : 0;
	l->bytes = 0;
}

static int chunks_add(struct ccdma_chunk_list *l, uint64_t addr, size_t len,
		      unsigned mem)
{
	struct ccdma_chunk *last;
	uint32_t n0, last_len0;
	uint64_t a = addr;
	size_t left = len;

	if (!l || !len || addr + len - 1 < addr || mem > CCDMA_MEM_DEVICE ||
	    (!addr && mem != CCDMA_MEM_DEVICE)) {
		ccdma_err("chunks_add(%#llx, %zu, mem %u): invalid argument (NULL "
			  "list or address, zero length, a range that wraps, or an "
			  "unknown memory kind)", (unsigned long long)addr, len, mem);
		return -EINVAL;
	}
	n0 = l->n;
	last = l->n ? &l->chunk[l->n - 1] : NULL;
	last_len0 = last ? last->len : 0;
	/* Extend the last chunk when this range continues it. */
	if (last && last->mem == mem && last->addr + last->len == a) {
		size_t room = 0xffffffffu - last->len;
		size_t take = left < room ? left : room;

		last->len += (uint32_t)take;
		a += take;
		left -= take;
	}
	while (left) {
		size_t take = left < 0xffffffffu ? left : 0xffffffffu;

		if (l->n == l->cap) {
			ccdma_err("chunks_add: the list is full (%u chunks)", l->cap);
			/* The list is unchanged on failure. */
			if (last)
				last->len = last_len0;
			l->n = n0;
			return -ENOSPC;
		}
		l->chunk[l->n].addr = a;
		l->chunk[l->n].len = (uint32_t)take;
		l->chunk[l->n].mem = mem;
		l->n++;
		a += take;
		left -= take;
	}
	l->bytes += len;
	return 0;
}

int ccdma_chunks_add(struct ccdma_chunk_list *l, const void *addr, size_t len,
		     enum ccdma_mem mem)
{
	return chunks_add(l, (uint64_t)(uintptr_t)addr, len, (unsigned)mem);
}

int ccdma_chunks_add_bus(struct ccdma_chunk_list *l, ccdma_addr_t bus,
			 size_t len)
{
	return chunks_add(l, bus, len, CCDMA_MEM_DEVICE);
}

void ccdma_segs_init(struct ccdma_seg_list *s, struct ccdma_seg *storage,
		     uint32_t cap)
{
	if (!s)
		return;
	ccdma_memset(s, 0, sizeof(*s));
	s->seg = storage;
	s->cap = storage ? cap : 0;
}

/* ---- mapping ---------------------------------------------------------- */

enum plan_kind { P_BOUNCE, P_SHARED, P_DIRECT, P_DEVICE };

struct chunk_plan {
	enum plan_kind kind;
	enum where w;
	struct dev_region *r;
	ccdma_addr_t dma;   /* unless bounced */
};

/* Decide how one chunk is mapped.  0, or -EINVAL / -EIO after a message. */
static int plan_chunk(struct ccdma_dev *d, const struct ccdma_chunk *c,
		      uint32_t i, struct chunk_plan *p)
{
	uintptr_t a = (uintptr_t)c->addr;

	p->r = NULL;
	if (c->mem == CCDMA_MEM_DEVICE) {
		if (c->addr + c->len - 1 > d->dma_mask) {
			ccdma_err("dev %s: map_chunks: chunk %u is device memory at "
				  "%#llx+%u, outside the dma mask %#llx", d->name, i,
				  (unsigned long long)c->addr, c->len,
				  (unsigned long long)d->dma_mask);
			return -EIO;
		}
		p->kind = P_DEVICE;
		p->dma = c->addr;
		return 0;
	}
	if (c->mem > CCDMA_MEM_DEVICE || !c->len || !a || a + c->len - 1 < a) {
		ccdma_err("dev %s: map_chunks: chunk %u (%#llx+%u, mem %u) is "
			  "invalid", d->name, i, (unsigned long long)c->addr,
			  c->len, c->mem);
		return -EINVAL;
	}
	p->w = ccdma_dev_classify(d, a, c->len, &p->r);
	if (p->w == W_POOL || p->w == W_REGION) {
		p->dma = ccdma_dev_dma_of(d, p->w, p->r, a);
		p->kind = ccdma_dev_fits(d, p->dma, c->len, d->dma_mask) ? P_SHARED : P_BOUNCE;
		return 0;
	}
	if (p->w == W_INVALID || c->mem == CCDMA_MEM_SHARED) {
		ccdma_err("dev %s: map_chunks: chunk %u (%#llx+%u) is tagged %s but "
			  "is not inside one shared region of the device", d->name,
			  i, (unsigned long long)c->addr, c->len,
			  c->mem == CCDMA_MEM_SHARED ? "shared" : "private");
		return -EINVAL;
	}
	/* As map_single: only when the translation can carry the chunk
	 * (a bit translation names another address for memory holding
	 * the bit). */
	if (d->reach_private && !d->force_bounce &&
	    ccdma_dev_xl_private_ok(d, a, c->len)) {
		p->dma = ccdma_dev_dma_of(d, W_PRIVATE, NULL, a);
		if (ccdma_dev_fits(d, p->dma, c->len, d->dma_mask)) {
			p->kind = P_DIRECT;
			return 0;
		}
	}
	p->kind = P_BOUNCE;
	return 0;
}

/* Where a bounced chunk at `orig` goes in the bounce layout, at or after
 * `cursor`.  first_orig is the first bounced chunk's address (the
 * allocation keeps its low bits under min_align_mask). */
static uint64_t place(const struct ccdma_dev *d, uint64_t cursor,
		      uint64_t orig, uint64_t first_orig)
{
	if (d->min_align_mask)
		return cursor + ((orig - first_orig - cursor) & d->min_align_mask);
	return (cursor + d->addr_align - 1) & ~(uint64_t)(d->addr_align - 1);
}

/* Append [dma, dma+len) to the output, merging and splitting. */
int ccdma_segs_emit(const struct ccdma_dev *d, struct ccdma_seg_list *out,
		    ccdma_addr_t dma, uint64_t len, uint32_t flags)
{
	while (len) {
		struct ccdma_seg *last = out->n ? &out->seg[out->n - 1] : NULL;
		uint64_t to_line = d->boundary - (dma & d->boundary) + 1;
		uint64_t take;

		if (last && last->flags == flags && last->addr + last->len == dma &&
		    last->len < d->max_seg &&
		    ((last->addr ^ dma) & ~d->boundary) == 0) {
			take = d->max_seg - last->len;
			if (to_line && take > to_line)
				take = to_line;
			if (take > len)
				take = len;
			last->len += (uint32_t)take;
		} else {
			if (out->n == out->cap)
				return -ENOSPC;
			take = d->max_seg;
			if (to_line && take > to_line)
				take = to_line;
			if (take > len)
				take = len;
			out->seg[out->n].addr = dma;
			out->seg[out->n].len = (uint32_t)take;
			out->seg[out->n].flags = flags;
			out->n++;
		}
		dma += take;
		len -= take;
	}
	return 0;
}

/* Strict IOMMU entries for every segment the device reaches through it.
 * Unmapping returns 0, or -EIO when an entry no longer held the
 * permission (another unmap took it); the other segments are unmapped
 * all the same. */
static int segs_pt(struct ccdma_dev *d, const struct ccdma_seg_list *out,
		   uint32_t n, unsigned dir, bool map)
{
	uint32_t i;
	int rc = 0;

	if (!d->strict)
		return 0;
	for (i = 0; i < n; i++) {
		const struct ccdma_seg *s = &out->seg[i];
		struct dev_region *r = NULL;
		uintptr_t pa;
		enum where w;

		if (!(s->flags & (CCDMA_SEG_BOUNCED | CCDMA_SEG_SHARED)))
			continue;
		w = ccdma_dev_locate(d, s->addr, s->len, &pa, &r);
		if (map)
			ccdma_pt_map(d, w, r, pa, s->len, ccdma_dir_perm(dir));
		else if (ccdma_pt_unmap(d, w, r, pa, s->len, ccdma_dir_perm(dir)))
			rc = -EIO;
	}
	return rc;
}

static const char *loc(const char *file)
{
	return file ? file : "?";
}

static int map_chunks(struct ccdma_dev *d, const struct ccdma_chunk_list *in,
		      struct ccdma_seg_list *out, enum ccdma_dir dir,
		      unsigned attrs, const char *file, int line)
{
	struct chunk_plan p;
	uint64_t cursor = 0, first_orig = 0;
	bool any_bounce = false;
	ccdma_addr_t bdma = 0;
	void *b = NULL;
	uint32_t i;
	int rc;

	if (!d || !in || !out || !in->n || !in->chunk || !out->seg ||
	    (unsigned)dir > CCDMA_FROM_DEVICE ||
	    (attrs & ~(unsigned)CCDMA_ATTRS_KNOWN)) {
		ccdma_err("map_chunks at %s:%d: invalid argument (NULL device or "
			  "list, empty list, no output storage, or an unknown "
			  "direction or attribute)", loc(file), line);
		if (out && !out->live_)
			out->n = 0;
		return -EINVAL;
	}
	if (out->live_) {
		ccdma_err("dev %s: map_chunks at %s:%d: the output list still holds a "
			  "live mapping", d->name, loc(file), line);
		return -EINVAL;
	}
	/* Every failure from here on leaves an empty output. */
	out->n = 0;
	/* Pass 1: decide and lay out the bounce. */
	for (i = 0; i < in->n; i++) {
		const struct ccdma_chunk *c = &in->chunk[i];

		rc = plan_chunk(d, c, i, &p);
		if (rc)
			return rc;
		if (p.kind != P_BOUNCE)
			continue;
		if (!any_bounce)
			first_orig = c->addr;
		any_bounce = true;
		cursor = place(d, cursor, c->addr, first_orig) + c->len;
		if (cursor > CCDMA_POOL_MAX_ALLOC) {
			ccdma_err("dev %s: map_chunks at %s:%d: the chunks to bounce "
				  "need more than %u bytes", d->name, loc(file), line,
				  CCDMA_POOL_MAX_ALLOC);
			return -EINVAL;
		}
	}
	if (any_bounce) {
		if (attrs & CCDMA_ATTR_NO_BOUNCE) {
			ccdma_err("dev %s: map_chunks at %s:%d: the device cannot reach "
				  "some chunks directly and NO_BOUNCE forbids a bounce",
				  d->name, loc(file), line);
			return -EIO;
		}
		rc = ccdma_bounce_alloc(d, (uintptr_t)first_orig, cursor, dir, attrs,
					TAG_LIST, &b);
		if (rc)
			return rc;
		bdma = ccdma_dev_dma_of(d, W_POOL, NULL, (uintptr_t)b);
	}
	/* Pass 2: copy and emit. */
	out->n = 0;
	cursor = 0;
	for (i = 0; i < in->n; i++) {
		const struct ccdma_chunk *c = &in->chunk[i];
		uint32_t flags;
		ccdma_addr_t dma;

		plan_chunk(d, c, i, &p);
		if (p.kind == P_BOUNCE) {
			cursor = place(d, cursor, c->addr, first_orig);
			if (ccdma_copy_in(d, dir, attrs)) {
				ccdma_copy_to_device((char *)b + cursor,
						     (const void *)(uintptr_t)c->addr,
						     c->len);
				ccdma_dev_bounced(d, true, c->len, c->len);
			}
			dma = bdma + cursor;
			cursor += c->len;
			flags = CCDMA_SEG_BOUNCED;
		} else {
			dma = p.dma;
			flags = p.kind == P_SHARED ? CCDMA_SEG_SHARED :
				p.kind == P_DEVICE ? CCDMA_SEG_DEVICE : 0;
		}
		rc = ccdma_segs_emit(d, out, dma, c->len, flags);
		if (rc) {
			ccdma_err("dev %s: map_chunks at %s:%d: more than %u output "
				  "segments needed", d->name, loc(file), line, out->cap);
			if (b) /* ours since the alloc above: cannot fail */
				(void)ccdma_pool_free(d->pool, b, cursor);
			out->n = 0;
			return rc;
		}
	}
	(void)segs_pt(d, out, out->n, dir, true); /* mapping cannot fail */
	out->bounce_ = b;
	out->bounce_dma_ = bdma;
	out->bounce_len_ = cursor;
	out->dir_ = (uint32_t)dir;
	out->live_ = 1;
	if (unlikely(d->dbg))
		ccdma_chk_map(d, CHK_LIST, out->n ? out->seg[0].addr : 0, out, 0,
			      (size_t)in->bytes, dir, b != NULL, in, file, line);
	return (int)out->n;
}

/* Every failure also fires ccdma:map_fail (device name or "", the bytes
 * of the list, -errno). */
int ccdma_map_chunks_attrs_at(struct ccdma_dev *d,
			      const struct ccdma_chunk_list *in,
			      struct ccdma_seg_list *out, enum ccdma_dir dir,
			      unsigned attrs, const char *file, int line)
{
	int rc = map_chunks(d, in, out, dir, attrs, file, line);

	if (unlikely(rc)) {
		uint64_t total = 0;

		for (uint32_t i = 0; in && in->chunk && i < in->n; i++)
			total += in->chunk[i].len;
		CCDMA_TRACE3(map_fail, d ? d->name : "", total, rc);
	}
	return rc;
}

/*
 * Copy between the input's memory and the bounce for the bytes
 * [off, off+len) of the list that were bounced.  to_cpu: bounce -> memory.
 */
static void walk_copy(struct ccdma_dev *d, const struct ccdma_chunk_list *in,
		      const struct ccdma_seg_list *out, uint64_t off,
		      uint64_t len, bool to_cpu)
{
	uint64_t pos = 0, end = off + len, coff = 0, copied = 0;
	uint32_t ci = 0, si;

	for (si = 0; si < out->n && pos < end; si++) {
		const struct ccdma_seg *s = &out->seg[si];
		uint64_t soff = 0;

		while (soff < s->len && ci < in->n) {
			const struct ccdma_chunk *c = &in->chunk[ci];
			uint64_t piece = c->len - coff;

			if (piece > s->len - soff)
				piece = s->len - soff;
			if ((s->flags & CCDMA_SEG_BOUNCED) && pos + piece > off && pos < end) {
				uint64_t lo = pos > off ? pos : off;
				uint64_t hi = pos + piece < end ? pos + piece : end;
				char *bp = (char *)out->bounce_ +
					   (s->addr + soff - out->bounce_dma_) + (lo - pos);
				char *mp = (char *)(uintptr_t)c->addr + coff + (lo - pos);

				if (to_cpu)
					ccdma_memcpy(mp, bp, hi - lo);
				else
					ccdma_copy_to_device(bp, mp, hi - lo);
				copied += hi - lo;
			}
			pos += piece;
			soff += piece;
			coff += piece;
			if (coff == c->len) {
				ci++;
				coff = 0;
			}
		}
	}
	if (copied)
		ccdma_dev_bounced(d, !to_cpu, len, copied);
}

static int check_live(struct ccdma_dev *d, const struct ccdma_chunk_list *in,
		      const struct ccdma_seg_list *out, const char *what,
		      const char *file, int line)
{
	uint64_t sum = 0;
	uint32_t i;

	if (!d || !in || !out || !out->live_ || out->n > out->cap) {
		ccdma_err("%s at %s:%d: not a live chunk-list mapping", what,
			  loc(file), line);
		return -EINVAL;
	}
	for (i = 0; i < out->n; i++)
		sum += out->seg[i].len;
	if (sum != in->bytes) {
		ccdma_err("dev %s: %s at %s:%d: the input list (%llu bytes) is not the "
			  "one mapped (%llu bytes)", d->name, what, loc(file), line,
			  (unsigned long long)in->bytes, (unsigned long long)sum);
		return -EINVAL;
	}
	return 0;
}

/* 0, or -EIO when the strict I/O page table had lost a segment's
 * permission: the device may still reach the bounce, which is then
 * withheld from reuse (fail closed).  The mapping is gone either way. */
static int release(struct ccdma_dev *d, struct ccdma_seg_list *out)
{
	int rc = segs_pt(d, out, out->n, out->dir_, false);

	if (unlikely(rc))
		ccdma_err("dev %s: unmap_chunks: I/O page table entries of the "
			  "mapping were taken by another unmap%s", d->name,
			  out->bounce_ ? "; its bounce memory is withheld from reuse" : "");
	else if (out->bounce_ &&
		 ccdma_pool_free(d->pool, out->bounce_, out->bounce_len_))
		rc = -EINVAL; /* given back twice: logged by the pool */
	out->bounce_ = NULL;
	out->live_ = 0;
	return rc;
}

void ccdma_reclaim_chunks(struct ccdma_dev *d, struct ccdma_seg_list *out)
{
	(void)release(d, out); /* device teardown: logged */
}

int ccdma_unmap_chunks_attrs_at(struct ccdma_dev *d,
				const struct ccdma_chunk_list *in,
				struct ccdma_seg_list *out, enum ccdma_dir dir,
				unsigned attrs, const char *file, int line)
{
	int rc;

	if (d && in && out && !out->live_ && unlikely(d->dbg)) {
		/* Never mapped or already unmapped: the checker tells which. */
		if (ccdma_chk_unmap(d, CHK_LIST, 0, out, (size_t)in->bytes, dir,
				    file, line))
			return -EINVAL;
	}
	rc = check_live(d, in, out, "unmap_chunks", file, line);
	if (rc)
		return rc;
	if ((unsigned)dir > CCDMA_FROM_DEVICE ||
	    (attrs & ~(unsigned)CCDMA_ATTRS_KNOWN)) {
		ccdma_err("dev %s: unmap_chunks at %s:%d: unknown direction or "
			  "attribute", d->name, loc(file), line);
		return -EINVAL;
	}
	if (unlikely(d->dbg) &&
	    ccdma_chk_unmap(d, CHK_LIST, 0, out, (size_t)in->bytes, dir, file, line))
		return -EINVAL;
	if (out->bounce_ && out->dir_ != CCDMA_TO_DEVICE &&
	    !(attrs & CCDMA_ATTR_SKIP_CPU_SYNC))
		walk_copy(d, in, out, 0, in->bytes, true);
	return release(d, out);
}

static int sync_chunks(struct ccdma_dev *d, const struct ccdma_chunk_list *in,
		       const struct ccdma_seg_list *out, size_t off, size_t len,
		       enum ccdma_dir dir, bool for_cpu, const char *file, int line)
{
	const char *what = for_cpu ? "sync_chunks_for_cpu" : "sync_chunks_for_device";
	int rc;

	if (d && in && out && !out->live_ && unlikely(d->dbg) &&
	    ccdma_chk_sync(d, CHK_LIST, 0, out, off, len, dir, for_cpu, file, line))
		return -EINVAL; /* not mapped: reported as outside any mapping */
	rc = check_live(d, in, out, what, file, line);
	if (rc)
		return rc;
	if (len == SIZE_MAX && off < in->bytes)
		len = (size_t)(in->bytes - off);
	if (!len || off >= in->bytes || len > in->bytes - off ||
	    (unsigned)dir > CCDMA_FROM_DEVICE) {
		/* A window past the mapping is the checker's sync-outside. */
		if (unlikely(d->dbg) && len && (unsigned)dir <= CCDMA_FROM_DEVICE &&
		    ccdma_chk_sync(d, CHK_LIST, 0, out, off, len, dir, for_cpu,
				   file, line))
			return -EINVAL;
		ccdma_err("dev %s: %s(%zu, %zu) at %s:%d: window outside the %llu "
			  "mapped bytes, empty, or an unknown direction", d->name,
			  what, off, len, loc(file), line,
			  (unsigned long long)in->bytes);
		return -EINVAL;
	}
	if (unlikely(d->dbg) &&
	    ccdma_chk_sync(d, CHK_LIST, 0, out, off, len, dir, for_cpu, file, line))
		return -EINVAL;
	if (out->bounce_) {
		if (for_cpu && out->dir_ != CCDMA_TO_DEVICE)
			walk_copy(d, in, out, off, len, true);
		else if (!for_cpu && out->dir_ != CCDMA_FROM_DEVICE)
			walk_copy(d, in, out, off, len, false);
	}
	if (unlikely(d->dbg) && !for_cpu)
		ccdma_chk_handover(d, CHK_LIST, 0, out, off, len);
	return 0;
}

int ccdma_sync_chunks_for_cpu_at(struct ccdma_dev *d,
				 const struct ccdma_chunk_list *in,
				 const struct ccdma_seg_list *out, size_t off,
				 size_t len, enum ccdma_dir dir,
				 const char *file, int line)
{
	return sync_chunks(d, in, out, off, len, dir, true, file, line);
}

int ccdma_sync_chunks_for_device_at(struct ccdma_dev *d,
				    const struct ccdma_chunk_list *in,
				    const struct ccdma_seg_list *out,
				    size_t off, size_t len, enum ccdma_dir dir,
				    const char *file, int line)
{
	return sync_chunks(d, in, out, off, len, dir, false, file, line);
}
