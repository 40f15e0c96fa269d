/* SPDX-License-Identifier: MIT */
/*
 * busdma maps and loads.
 *
 * A load walks the transfer's pieces (one linear buffer, iovecs, or raw
 * segments) twice.  The first walk decides, per piece, whether the device
 * uses it in place or it is bounced, and lays the bounced pieces out one
 * after another in a single bounce area, in runs of at most one segment
 * (bounce_piece()); the second walk, once the bounce area exists, emits the
 * segments: runs contiguous in DMA space, in CPU space and in bounce space
 * grow one segment until maxsegsz or a boundary line ends it.  So every
 * segment carries one contiguous original range and at most one contiguous
 * bounce range: its _ds_va and _ds_bounce_va.
 *
 * The bounce area is the map's ALLOCNOW reservation (sized for the worst
 * case at create) or one pool allocation taken for this load.
 */
#include "busdma/busdma_internal.h"

#define CREATE_FLAGS \
	(CCDMA_BUS_DMA_NOWAIT | CCDMA_BUS_DMA_ALLOCNOW | CCDMA_BUS_DMA_STREAMING | \
	 CCDMA_BUS_DMA_COHERENT)

static const char *at_file(const char *f)
{
	return f ? f : "?";
}

/* ---- create / destroy -------------------------------------------------- */

/* Worst-case bounce bytes of a map: every byte bounced, and each of up to
 * nsegments pieces after the first padded to the alignment (on a device
 * with a min_align_mask, each piece, the first too, padded by up to the
 * mask to keep its low bits).  When maxsegsz does not divide the boundary,
 * a run may move to the next line (bounce_piece()), wasting less than its
 * own length: up to size more. */
static size_t worst_case(const struct ccdma_bus_dma_tag *t, size_t size,
			 int nsegments, size_t align, size_t maxsegsz,
			 size_t boundary)
{
	size_t w = size + (align > 1 ? (size_t)(nsegments - 1) * (align - 1) : 0);

	w += (size_t)nsegments * (size_t)t->dev->min_align_mask;

	if (boundary && maxsegsz < boundary && boundary % maxsegsz)
		w += size;
	return w;
}

int ccdma_bus_dmamap_create(ccdma_bus_dma_tag_t t, ccdma_bus_size_t size,
			    int nsegments, ccdma_bus_size_t maxsegsz,
			    ccdma_bus_size_t boundary, int flags,
			    ccdma_bus_dmamap_t *mapp)
{
	struct ccdma_bus_dmamap *m;
	const char *why = NULL;
	size_t align;
	int rc;

	if (!t || !mapp) {
		ccdma_err("bus_dmamap_create: NULL tag or map pointer");
		return EINVAL;
	}
	align = t->c.alignment;
	if (!maxsegsz)
		maxsegsz = t->c.maxsegsz;
	if (!boundary)
		boundary = t->c.boundary;
	if (!size || size > t->c.maxsize)
		why = "size is 0 or above the tag's maxsize";
	else if (nsegments < 1 || nsegments > t->c.nsegments)
		why = "nsegments is below 1 or above the tag's";
	else if (maxsegsz > t->c.maxsegsz)
		why = "maxsegsz is above (widens) the tag's";
	else if (maxsegsz % align)
		why = "maxsegsz is not a multiple of the tag's alignment";
	else if (!busdma_pow2(boundary) && boundary)
		why = "boundary is not a power of two";
	else if (t->c.boundary && boundary > t->c.boundary)
		why = "boundary is above (widens) the tag's";
	else if (boundary && boundary < align)
		why = "boundary is below the tag's alignment";
	else if ((unsigned)flags & ~(unsigned)CREATE_FLAGS)
		why = "unknown flags";
	else if ((flags & CCDMA_BUS_DMA_ALLOCNOW) &&
		 worst_case(t, size, nsegments, align, maxsegsz, boundary) >
		 CCDMA_POOL_MAX_ALLOC)
		why = "the ALLOCNOW reservation (size plus alignment padding of "
		      "every segment) exceeds the largest bounce";
	if (why) {
		ccdma_err("bus_dmamap_create(dev %s, size %zu, nsegments %d, maxsegsz "
			  "%zu, boundary %zu, flags %#x): %s", t->dev->name, size,
			  nsegments, maxsegsz, boundary, (unsigned)flags, why);
		return EINVAL;
	}
	m = ccdma_os_calloc(1, sizeof(*m) + (size_t)nsegments * sizeof(m->dm_segs[0]));
	if (!m)
		return ENOMEM;
	m->_dm_tag = t;
	m->_dm_size = size;
	m->_dm_segcnt = nsegments;
	m->_dm_flags = (unsigned)flags;
	m->_dm_maxsegsz = maxsegsz;
	m->_dm_boundary = boundary;
	m->_dm_align = align;
	m->_dm_rd = m->_dm_rd_inl;
	m->_dm_rd_cap = (int)(sizeof(m->_dm_rd_inl) / sizeof(m->_dm_rd_inl[0]));
	if (flags & CCDMA_BUS_DMA_ALLOCNOW) {
		rc = ccdma_busdma_pool_get(t, worst_case(t, size, nsegments, align,
							    maxsegsz, boundary),
					   busdma_bounce_align(t, align), boundary,
					   !(flags & CCDMA_BUS_DMA_NOWAIT), TAG_BUSDMA,
					   "bus_dmamap_create(ALLOCNOW)", &m->_dm_resv,
					   &m->_dm_resv_size);
		if (rc) {
			ccdma_os_free(m);
			return rc;
		}
	}
	__atomic_add_fetch(&t->users, 1, __ATOMIC_RELAXED);
	*mapp = m;
	return 0;
}

static bool bad_map(ccdma_bus_dma_tag_t t, ccdma_bus_dmamap_t m, const char *what)
{
	if (t && m && m->_dm_tag == t)
		return false;
	ccdma_err("%s: NULL tag or map, or a map of another tag", what);
	return true;
}

int ccdma_bus_dmamap_destroy(ccdma_bus_dma_tag_t t, ccdma_bus_dmamap_t m)
{
	if (bad_map(t, m, "bus_dmamap_destroy"))
		return EINVAL;
	if (m->_dm_loaded) {
		ccdma_err("bus_dmamap_destroy(dev %s): the map is loaded (at %s:%d); "
			  "unload it first", t->dev->name, at_file(m->_dm_load_file),
			  m->_dm_load_line);
		return EBUSY;
	}
	if (__atomic_load_n(&m->_dm_defer, __ATOMIC_ACQUIRE)) {
		ccdma_err("bus_dmamap_destroy(dev %s): the map has a deferred load "
			  "pending; unload it to cancel that first", t->dev->name);
		return EBUSY;
	}
	if (m->_dm_resv)
		ccdma_pool_free(t->dev->pool, m->_dm_resv, SIZE_MAX);
	__atomic_sub_fetch(&t->users, 1, __ATOMIC_RELEASE);
	if (m->_dm_rd != m->_dm_rd_inl)
		ccdma_os_free(m->_dm_rd);
	ccdma_os_free(m);
	return 0;
}

/* ---- the transfer's pieces ------------------------------------------- */

enum src_kind { SRC_LINEAR, SRC_IOVEC, SRC_RAW };

struct src {
	enum src_kind kind;
	const void *p;      /* buffer, iovec array or segment array */
	int n;              /* iovecs or segments */
	size_t total;       /* bytes of the transfer */
};

struct piece {
	uintptr_t va;       /* CPU address; 0: device memory at `bus` */
	ccdma_addr_t bus;
	size_t len;
};

/* Piece i of the transfer, with `left` bytes still to go (raw segments are
 * cut at the load size).  False when there are no more. */
static bool src_piece(const struct src *s, int i, size_t left, struct piece *pc)
{
	const struct ccdma_iovec *iov;
	const ccdma_bus_dma_segment_t *seg;

	if (!left || i >= s->n)
		return false;
	switch (s->kind) {
	case SRC_LINEAR:
		pc->va = (uintptr_t)s->p;
		pc->bus = 0;
		pc->len = s->total;
		break;
	case SRC_IOVEC:
		iov = (const struct ccdma_iovec *)s->p + i;
		pc->va = (uintptr_t)iov->iov_base;
		pc->bus = 0;
		pc->len = iov->iov_len;
		break;
	default:
		seg = (const ccdma_bus_dma_segment_t *)s->p + i;
		pc->va = seg->_ds_va;
		pc->bus = seg->ds_addr;
		pc->len = seg->ds_len < left ? seg->ds_len : left;
		break;
	}
	return true;
}

/* ---- the two walks ------------------------------------------------------ */

struct decision {
	bool in_place;
	enum where w;
	struct dev_region *r;
	ccdma_addr_t dma;
	/* What an in-place piece lies in (the pool allocation, the region;
	 * 1 for private memory, 0 for device memory): only pieces in the same
	 * one join a segment, because the device maps each separately. */
	uintptr_t unit;
};

#define DECISION_CACHE 16

struct walk {
	struct ccdma_bus_dma_tag *t;
	struct ccdma_bus_dmamap *m;
	const char *what, *file;
	int line;
	bool emit;              /* second walk */
	bool line_up;           /* bounced runs may move to a boundary line
				   to save a segment (bounce_piece()) */
	size_t seg_off, seg_len; /* the open bounced segment, in the area */
	uintptr_t bounce;       /* second walk: the bounce area */
	size_t boff;            /* bounce bytes laid out so far */
	bool prev, prev_bounced;
	uintptr_t prev_va_end, prev_unit;
	ccdma_addr_t prev_dma_end;
	struct decision cache[DECISION_CACHE];
};

/* Room left in a segment that starts at `start` and holds `cur` bytes. */
static size_t seg_room(const struct ccdma_bus_dmamap *m, ccdma_addr_t start,
		       size_t cur)
{
	size_t room = m->_dm_maxsegsz - cur, b;

	if (m->_dm_boundary) {
		b = m->_dm_boundary - (size_t)(start & (m->_dm_boundary - 1)) - cur;
		if (b < room)
			room = b;
	}
	return room;
}

/* True when the last segment `s` can grow by a range at dma / va / bva. */
static bool continues(const ccdma_bus_dma_segment_t *s, ccdma_addr_t dma,
		      uintptr_t va, uintptr_t bva)
{
	if (s->ds_addr + s->ds_len != dma)
		return false;
	if (va ? s->_ds_va + s->ds_len != va || !s->_ds_va : s->_ds_va != 0)
		return false;
	return bva ? s->_ds_bounce_va && s->_ds_bounce_va + s->ds_len == bva :
		     !s->_ds_bounce_va;
}

/* Append a range to the map's segments; `join`: it may grow the last
 * segment.  0 or EFBIG. */
static int emit(struct ccdma_bus_dmamap *m, ccdma_addr_t dma, uintptr_t va,
		uintptr_t bva, size_t len, bool join)
{
	ccdma_bus_dma_segment_t *s = m->dm_nsegs && join ?
				     &m->dm_segs[m->dm_nsegs - 1] : NULL;
	size_t room = 0, take;

	while (len) {
		if (s && continues(s, dma, va, bva))
			room = seg_room(m, s->ds_addr, s->ds_len);
		if (!room) {
			if (m->dm_nsegs == m->_dm_segcnt)
				return EFBIG;
			s = &m->dm_segs[m->dm_nsegs++];
			s->ds_addr = dma;
			s->ds_len = 0;
			s->_ds_va = va;
			s->_ds_bounce_va = bva;
			room = seg_room(m, dma, 0);
		}
		take = len < room ? len : room;
		s->ds_len += take;
		dma += take;
		va += va ? take : 0;
		bva += bva ? take : 0;
		len -= take;
		room = 0;
	}
	return 0;
}

/* Decide how piece `pc` (number i) is carried.  0 or EINVAL. */
static int decide(struct walk *wk, int i, const struct piece *pc,
		  struct decision *dc)
{
	struct ccdma_dev *d = wk->t->dev;
	const struct ccdma_bus_dma_tag_config *c = &wk->t->c;
	struct ccdma_pool_owner o;
	uintptr_t a = pc->va;
	void *b;

	dc->r = NULL;
	dc->in_place = false;
	dc->unit = 0;
	if (!a) {
		/* Device memory named by bus address: nothing to bounce. */
		dc->w = W_INVALID;
		dc->dma = pc->bus;
		if (pc->bus + pc->len - 1 < pc->bus || pc->bus + pc->len - 1 > c->addr_limit) {
			ccdma_err("dev %s: %s at %s:%d: segment %d is device memory at "
				  "%#llx+%zu, above the tag's addr_limit %#llx (and it "
				  "has no CPU address to bounce from)", d->name, wk->what,
				  at_file(wk->file), wk->line, i,
				  (unsigned long long)pc->bus, pc->len,
				  (unsigned long long)c->addr_limit);
			return EINVAL;
		}
		dc->in_place = true;
		return 0;
	}
	if (a + pc->len - 1 < a) {
		ccdma_err("dev %s: %s at %s:%d: piece %d (%#llx+%zu) wraps the "
			  "address space", d->name, wk->what, at_file(wk->file),
			  wk->line, i, (unsigned long long)a, pc->len);
		return EINVAL;
	}
	if (a - d->pool_base < d->pool_size) {
		/* Pool memory: only inside one live allocation. */
		if (ccdma_dev_in_live_alloc(d, a, pc->len, &o, &b)) {
			dc->w = W_POOL;
			dc->unit = (uintptr_t)b;
		} else {
			dc->w = W_INVALID;
		}
	} else {
		dc->w = ccdma_dev_classify(d, a, pc->len, &dc->r);
		dc->unit = dc->r ? dc->r->base : 1;
	}
	if (dc->w == W_INVALID) {
		ccdma_err("dev %s: %s at %s:%d: piece %d (%#llx+%zu) is in shared "
			  "memory but not inside one live allocation or one region",
			  d->name, wk->what, at_file(wk->file), wk->line, i,
			  (unsigned long long)a, pc->len);
		return EINVAL;
	}
	if (dc->w == W_PRIVATE && !(d->reach_private && !d->force_bounce &&
				    ccdma_dev_xl_private_ok(d, a, pc->len)))
		return 0;
	dc->dma = ccdma_dev_dma_of(d, dc->w, dc->r, a);
	dc->in_place = dc->dma + pc->len - 1 >= dc->dma &&
		       dc->dma + pc->len - 1 <= c->addr_limit;
	return 0;
}

/* Room left in the bounced segment that starts at bounce offset `off` and
 * holds `len` bytes (offsets stand for DMA addresses: the bounce area is
 * aligned to the boundary whenever it is large enough to reach a line). */
static size_t bounce_room(const struct ccdma_bus_dmamap *m, size_t off, size_t len)
{
	size_t room = m->_dm_maxsegsz - len, b = m->_dm_boundary;

	if (b && b - (off & (b - 1)) - len < room)
		room = b - (off & (b - 1)) - len;
	return room;
}

/* Lay a bounced piece out as runs of at most one segment each.  A run
 * starts at the alignment; it is cut at maxsegsz and at a boundary line,
 * or, when the layout may spend the padding (line_up), a run that would
 * be cut by a line moves to that line instead, so a piece takes no more
 * segments than its length needs whatever maxsegsz and the boundary are.
 * A piece that continues the previous bounced one in memory first fills
 * that one's open segment.  0 or EFBIG (second walk). */
static int bounce_piece(struct walk *wk, const struct piece *pc)
{
	struct ccdma_bus_dmamap *m = wk->m;
	size_t left = pc->len, done = 0, off, run, b = m->_dm_boundary;
	size_t mam = (size_t)wk->t->dev->min_align_mask;
	bool cont = wk->prev && wk->prev_bounced && wk->prev_va_end == pc->va;
	int rc;

	while (left) {
		if (cont && (run = bounce_room(m, wk->seg_off, wk->seg_len))) {
			off = wk->boff;
			run = left < run ? left : run;
		} else {
			off = busdma_round_up(wk->boff, m->_dm_align);
			/* min_align_mask: the run's offset in the area
			 * (aligned to mask + 1) keeps the buffer's low bits;
			 * it may then not move to a line. */
			off += (pc->va + done - off) & mam;
			run = left < m->_dm_maxsegsz ? left : m->_dm_maxsegsz;
			if (b) {
				if (wk->line_up && !mam && (off & (b - 1)) &&
				    run > b - (off & (b - 1)))
					off = busdma_round_up(off, b);
				if (run > b - (off & (b - 1)))
					run = b - (off & (b - 1));
			}
			wk->seg_off = off;
			wk->seg_len = 0;
		}
		cont = false;
		if (wk->emit) {
			uintptr_t bva = wk->bounce + off;

			rc = emit(m, ccdma_dev_dma_of(wk->t->dev, W_POOL, NULL, bva),
				  pc->va + done, bva, run, true);
			if (rc)
				return rc;
		}
		wk->seg_len += run;
		wk->boff = off + run;
		done += run;
		left -= run;
	}
	return 0;
}

static int walk_piece(struct walk *wk, int i, const struct piece *pc)
{
	struct ccdma_bus_dmamap *m = wk->m;
	struct decision tmp, *dc = i < DECISION_CACHE ? &wk->cache[i] : &tmp;
	bool cont_va = wk->prev && pc->va && wk->prev_va_end == pc->va, join;
	int rc;

	if (!wk->emit || i >= DECISION_CACHE) {
		rc = decide(wk, i, pc, dc);
		if (rc)
			return rc;
	}
	/* An in-place piece that continues the previous one (contiguous
	 * in the same allocation, region or private memory) may join its
	 * segment; any other piece that starts a segment must start
	 * aligned. */
	join = dc->in_place && wk->prev && !wk->prev_bounced &&
	       wk->prev_unit == dc->unit && wk->prev_dma_end == dc->dma &&
	       (cont_va || (!pc->va && !wk->prev_va_end));
	if (dc->in_place && (dc->dma & (m->_dm_align - 1)) && !join) {
		if (!pc->va) {
			ccdma_err("dev %s: %s at %s:%d: segment %d is device memory at "
				  "%#llx, not aligned to %zu (and it has no CPU address "
				  "to bounce from)", wk->t->dev->name, wk->what,
				  at_file(wk->file), wk->line, i,
				  (unsigned long long)dc->dma, m->_dm_align);
			return EINVAL;
		}
		dc->in_place = false;
	}
	if (dc->in_place) {
		if (wk->emit) {
			rc = emit(m, dc->dma, pc->va, 0, pc->len, join);
			if (rc)
				return rc;
		}
		wk->prev_bounced = false;
		wk->prev_dma_end = dc->dma + pc->len;
		wk->prev_unit = dc->unit;
	} else {
		rc = bounce_piece(wk, pc);
		if (rc)
			return rc;
		wk->prev_bounced = true;
	}
	wk->prev = true;
	wk->prev_va_end = pc->va ? pc->va + pc->len : 0;
	return 0;
}

static int walk(struct walk *wk, const struct src *s)
{
	struct piece pc;
	size_t left = s->total;
	int i, rc;

	wk->boff = 0;
	wk->prev = wk->prev_bounced = false;
	wk->prev_va_end = wk->prev_unit = 0;
	wk->prev_dma_end = 0;
	for (i = 0; src_piece(s, i, left, &pc); i++) {
		if (!pc.len)
			continue;
		rc = walk_piece(wk, i, &pc);
		if (rc)
			return rc;
		left -= pc.len;
	}
	return 0;
}

/* Strict IOMMU: open (or close) the device's access to every segment. */
static void strict_segs(struct ccdma_bus_dma_tag *t, struct ccdma_bus_dmamap *m,
			bool open)
{
	struct ccdma_dev *d = t->dev;
	unsigned perm = (m->_dm_lflags & CCDMA_BUS_DMA_READ) ? CCDMA_ACCESS_WRITE :
			(m->_dm_lflags & CCDMA_BUS_DMA_WRITE) ? CCDMA_ACCESS_READ :
			CCDMA_ACCESS_READ | CCDMA_ACCESS_WRITE;
	struct dev_region *r;
	uintptr_t a;
	enum where w;
	int i;

	for (i = 0; i < m->dm_nsegs; i++) {
		const ccdma_bus_dma_segment_t *s = &m->dm_segs[i];

		r = NULL;
		if (s->_ds_bounce_va) {
			a = s->_ds_bounce_va;
			w = W_POOL;
		} else if (s->_ds_va) {
			a = s->_ds_va;
			w = ccdma_dev_classify(d, a, s->ds_len, &r);
		} else {
			continue;
		}
		if (w != W_POOL && w != W_REGION)
			continue;
		if (open)
			ccdma_pt_map(d, w, r, a, s->ds_len, perm);
		else
			ccdma_pt_unmap(d, w, r, a, s->ds_len, perm);
	}
}

/* retry: the retry of the map's own deferred load (defer.c). */
static int load(struct ccdma_bus_dma_tag *t, struct ccdma_bus_dmamap *m,
		const struct src *s, int flags, bool retry, const char *what,
		const char *file, int line)
{
	struct walk wk;     /* cache[] is written by the first walk before
			       the second reads it: not cleared */
	size_t need, got = 0;
	void *b = NULL;
	int rc;

	if (__atomic_load_n(&m->_dm_defer, __ATOMIC_ACQUIRE) && !retry) {
		ccdma_err("dev %s: %s at %s:%d: the map has a deferred load pending; "
			  "unload it to cancel that first", t->dev->name, what,
			  at_file(file), line);
		return EINVAL;
	}
	if (m->_dm_loaded) {
		ccdma_err("dev %s: %s at %s:%d: the map is already loaded (at %s:%d); "
			  "unload it first", t->dev->name, what, at_file(file), line,
			  at_file(m->_dm_load_file), m->_dm_load_line);
		return EINVAL;
	}
	if ((unsigned)flags & ~(unsigned)BUSDMA_LOAD_FLAGS) {
		ccdma_err("dev %s: %s at %s:%d: unknown flags %#x", t->dev->name,
			  what, at_file(file), line, (unsigned)flags);
		return EINVAL;
	}
	if (!s->total || s->total > m->_dm_size) {
		ccdma_err("dev %s: %s at %s:%d: %zu bytes; the map takes 1..%zu",
			  t->dev->name, what, at_file(file), line, s->total,
			  m->_dm_size);
		return EINVAL;
	}
	wk.t = t;
	wk.m = m;
	wk.what = what;
	wk.file = file;
	wk.line = line;
	wk.emit = false;
	wk.line_up = true;
	wk.bounce = 0;
	rc = walk(&wk, s);
	if (rc)
		return rc;
	need = wk.boff;
	if (need && m->_dm_resv && need > m->_dm_resv_size) {
		/* The reservation holds any layout of up to nsegments pieces
		 * at the alignment; lining pieces up on boundary lines may
		 * need more: lay out at the alignment only. */
		wk.line_up = false;
		rc = walk(&wk, s);
		if (rc)
			return rc;
		need = wk.boff;
	}
	if (need) {
		if (m->_dm_resv) {
			/* More pieces than nsegments cannot fit in the map
			 * anyway. */
			if (need > m->_dm_resv_size)
				return EFBIG;
			b = m->_dm_resv;
		} else {
			rc = ccdma_busdma_pool_get(t, need,
						   busdma_bounce_align(t, m->_dm_align),
						   m->_dm_boundary,
						   !(flags & CCDMA_BUS_DMA_NOWAIT),
						   0, what, &b, &got);
			if (rc)
				return rc;
		}
	}
	wk.emit = true;
	wk.bounce = (uintptr_t)b;
	m->dm_nsegs = 0;
	rc = walk(&wk, s);
	if (rc) {
		if (rc == EFBIG)
			ccdma_dbg("dev %s: %s at %s:%d: %zu bytes need more than %d "
				  "segments", t->dev->name, what, at_file(file), line,
				  s->total, m->_dm_segcnt);
		if (b && b != m->_dm_resv)
			ccdma_pool_free(t->dev->pool, b, 0);
		m->dm_nsegs = 0;
		return rc;
	}
	m->_dm_bounce = b;
	m->_dm_bounce_used = need;
	m->_dm_lflags = (unsigned)flags;
	m->_dm_loaded = 1;
	m->_dm_load_file = file;
	m->_dm_load_line = line;
	m->_dm_rd_n = 0;
	m->dm_mapsize = s->total;
	if (unlikely(t->dev->strict))
		strict_segs(t, m, true);
	return 0;
}

int ccdma_busdma_load_linear(struct ccdma_bus_dma_tag *t,
			     struct ccdma_bus_dmamap *m, void *buf, size_t len,
			     int flags, bool retry, const char *what,
			     const char *file, int line)
{
	struct src s = { .kind = SRC_LINEAR, .p = buf, .n = 1, .total = len };

	return load(t, m, &s, flags, retry, what, file, line);
}

int ccdma_bus_dmamap_load_at(ccdma_bus_dma_tag_t t, ccdma_bus_dmamap_t m,
			     void *buf, ccdma_bus_size_t buflen, void *p,
			     int flags, const char *file, int line)
{
	if (bad_map(t, m, "bus_dmamap_load"))
		return EINVAL;
	if (!buf || p) {
		ccdma_err("dev %s: bus_dmamap_load at %s:%d: %s", t->dev->name,
			  at_file(file), line, p ? "a struct proc (user address "
			  "space) is not supported: pass NULL" : "NULL buffer");
		return EINVAL;
	}
	return ccdma_busdma_load_linear(t, m, buf, buflen, flags, false,
					"bus_dmamap_load", file, line);
}

int ccdma_bus_dmamap_load_iovec_at(ccdma_bus_dma_tag_t t, ccdma_bus_dmamap_t m,
				   const struct ccdma_iovec *iov, int iovcnt,
				   int flags, const char *file, int line)
{
	struct src s = { .kind = SRC_IOVEC, .p = iov, .n = iovcnt, .total = 0 };
	int i;

	if (bad_map(t, m, "bus_dmamap_load_iovec"))
		return EINVAL;
	if (!iov || iovcnt < 1) {
		ccdma_err("dev %s: bus_dmamap_load_iovec at %s:%d: NULL iovec or a "
			  "count below 1", t->dev->name, at_file(file), line);
		return EINVAL;
	}
	for (i = 0; i < iovcnt; i++) {
		if ((!iov[i].iov_base && iov[i].iov_len) ||
		    s.total + iov[i].iov_len < s.total) {
			ccdma_err("dev %s: bus_dmamap_load_iovec at %s:%d: iovec %d "
				  "has a NULL base or the lengths overflow",
				  t->dev->name, at_file(file), line, i);
			return EINVAL;
		}
		s.total += iov[i].iov_len;
	}
	return load(t, m, &s, flags, false, "bus_dmamap_load_iovec", file, line);
}

int ccdma_bus_dmamap_load_raw_at(ccdma_bus_dma_tag_t t, ccdma_bus_dmamap_t m,
				 const ccdma_bus_dma_segment_t *segs, int nsegs,
				 ccdma_bus_size_t size, int flags,
				 const char *file, int line)
{
	struct src s = { .kind = SRC_RAW, .p = segs, .n = nsegs, .total = size };
	size_t sum = 0;
	int i;

	if (bad_map(t, m, "bus_dmamap_load_raw"))
		return EINVAL;
	if (!segs || nsegs < 1) {
		ccdma_err("dev %s: bus_dmamap_load_raw at %s:%d: NULL segments or a "
			  "count below 1", t->dev->name, at_file(file), line);
		return EINVAL;
	}
	for (i = 0; i < nsegs && sum < size; i++) {
		const ccdma_bus_dma_segment_t *sg = &segs[i];

		/* Segments of this device's memory must say what it is. */
		if (sg->_ds_va && sg->ds_len &&
		    sg->_ds_va - t->dev->pool_base < t->dev->pool_size &&
		    sg->ds_addr != ccdma_dev_dma_of(t->dev, W_POOL, NULL, sg->_ds_va)) {
			ccdma_err("dev %s: bus_dmamap_load_raw at %s:%d: segment %d "
				  "names DMA address %#llx, but its memory is at %#llx "
				  "for this device", t->dev->name, at_file(file), line,
				  i, (unsigned long long)sg->ds_addr,
				  (unsigned long long)ccdma_dev_dma_of(t->dev, W_POOL,
								       NULL, sg->_ds_va));
			return EINVAL;
		}
		sum += sg->ds_len;
	}
	if (sum < size) {
		ccdma_err("dev %s: bus_dmamap_load_raw at %s:%d: the %d segments hold "
			  "%zu bytes, fewer than the %zu to load", t->dev->name,
			  at_file(file), line, nsegs, sum, size);
		return EINVAL;
	}
	return load(t, m, &s, flags, false, "bus_dmamap_load_raw", file, line);
}

/* The checker: PREREAD windows still pending at unload. */
static void report_pending_read(struct ccdma_dev *d, struct ccdma_bus_dmamap *m,
				const char *file, int line)
{
	size_t lo = SIZE_MAX, hi = 0, bytes = 0;
	int i;

	for (i = 0; i < m->_dm_rd_n; i++) {
		lo = m->_dm_rd[i][0] < lo ? m->_dm_rd[i][0] : lo;
		hi = m->_dm_rd[i][1] > hi ? m->_dm_rd[i][1] : hi;
		bytes += m->_dm_rd[i][1] - m->_dm_rd[i][0];
	}
	ccdma_chk_report(CCDMA_DBG_MISSING_POSTREAD, file, line, "loaded at",
			 m->_dm_load_file, m->_dm_load_line, m->_dm_rd_file,
			 m->_dm_rd_line, m->dm_nsegs ? m->dm_segs[0].ds_addr : 0, bytes,
			 "dev %s: bus_dmamap_unload: bytes %zu..%zu (%zu of them) "
			 "were synced PREREAD but never POSTREAD, so the device's "
			 "data never reached the buffer", d->name, lo, hi, bytes);
}

int ccdma_bus_dmamap_unload_at(ccdma_bus_dma_tag_t t, ccdma_bus_dmamap_t m,
			       const char *file, int line)
{
	if (bad_map(t, m, "bus_dmamap_unload"))
		return EINVAL;
	if (__atomic_load_n(&m->_dm_defer, __ATOMIC_ACQUIRE)) {
		int rc = ccdma_busdma_defer_cancel(t, m, file, line);

		if (rc != ENOENT)
			return rc;
		/* The deferred load completed meanwhile: unload it. */
	}
	return ccdma_busdma_unload_loaded(t, m, file, line);
}

int ccdma_busdma_unload_loaded(struct ccdma_bus_dma_tag *t,
			       struct ccdma_bus_dmamap *m, const char *file,
			       int line)
{
	struct ccdma_dev *d = t->dev;

	if (!m->_dm_loaded) {
		ccdma_err("dev %s: bus_dmamap_unload at %s:%d: the map is not loaded",
			  d->name, at_file(file), line);
		return EINVAL;
	}
	if (unlikely(d->dbg) && m->_dm_rd_n)
		report_pending_read(d, m, file, line);
	if (unlikely(d->strict))
		strict_segs(t, m, false);
	if (m->_dm_bounce && m->_dm_bounce != m->_dm_resv)
		ccdma_pool_free(d->pool, m->_dm_bounce, m->_dm_bounce_used);
	m->_dm_bounce = NULL;
	m->_dm_bounce_used = 0;
	m->_dm_loaded = 0;
	m->_dm_rd_n = 0;
	m->dm_mapsize = 0;
	m->dm_nsegs = 0;
	return 0;
}
