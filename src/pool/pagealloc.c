/* SPDX-License-Identifier: MIT */
/*
 * Page allocator: free runs of granules in segregated-fit bins.
 *
 * A run of n granules lives in bin (fl, sl): fl picks the power of two,
 * sl one of PA_SL_COUNT equal slices of it.  A request rounds n up to the
 * next slice boundary, so any run in any non-empty bin at or above that
 * slice fits; two bitmaps find that bin with two count-trailing-zeros.
 * Allocation, free and coalescing with both neighbours are O(1): no scan,
 * whatever the number of runs.  Runs never cross a region boundary, so a
 * region that is wholly free is one run and can be given back.
 *
 * Every function here runs under the page lock.
 */
#include "pool/pool_internal.h"

static void mapping(uint32_t n, unsigned *fl, unsigned *sl)
{
	unsigned l;

	if (n < PA_SL_COUNT) {
		*fl = 0;
		*sl = n;
		return;
	}
	l = 31u - (unsigned)__builtin_clz(n);
	*fl = l - PA_SL_BITS + 1;
	*sl = (n >> (l - PA_SL_BITS)) - PA_SL_COUNT;
}

static void bin_insert(struct ccdma_pool *p, struct span *s)
{
	unsigned fl, sl;

	mapping(s->npages, &fl, &sl);
	s->prev = NULL;
	s->next = p->bins[fl][sl];
	if (s->next)
		s->next->prev = s;
	p->bins[fl][sl] = s;
	p->fl_map |= 1u << fl;
	p->sl_map[fl] |= 1u << sl;
	s->on_list = 1;
}

static void bin_remove(struct ccdma_pool *p, struct span *s)
{
	unsigned fl, sl;

	mapping(s->npages, &fl, &sl);
	if (s->prev)
		s->prev->next = s->next;
	else
		p->bins[fl][sl] = s->next;
	if (s->next)
		s->next->prev = s->prev;
	if (!p->bins[fl][sl]) {
		p->sl_map[fl] &= ~(1u << sl);
		if (!p->sl_map[fl])
			p->fl_map &= ~(1u << fl);
	}
	s->next = s->prev = NULL;
	s->on_list = 0;
}

/* The first non-empty bin whose every run holds at least n granules. */
static struct span *bin_find(struct ccdma_pool *p, uint32_t n)
{
	unsigned fl, sl;
	uint32_t m;

	if (n >= PA_SL_COUNT) {
		unsigned l = 31u - (unsigned)__builtin_clz(n);
		uint64_t up = (uint64_t)n + (1u << (l - PA_SL_BITS)) - 1;

		if (up > UINT32_MAX)
			return NULL;
		n = (uint32_t)up;
	}
	mapping(n, &fl, &sl);
	if (fl >= PA_FL_COUNT)
		return NULL;
	m = p->sl_map[fl] & (~0u << sl);
	if (!m) {
		uint32_t f = fl + 1 < 32 ? p->fl_map & (~0u << (fl + 1)) : 0;

		if (!f)
			return NULL;
		fl = (unsigned)__builtin_ctz(f);
		m = p->sl_map[fl];
	}
	sl = (unsigned)__builtin_ctz(m);
	return p->bins[fl][sl];
}

/* The granules to skip at the start of run s for `align` (1: none);
 * region bases are chunk aligned, so region-relative alignment is address
 * alignment. */
static uint32_t lead_of(const struct span *s, uint32_t align)
{
	uint32_t rem = align > 1 ? (s->first - s->region->first) % align : 0;

	return rem ? align - rem : 0;
}

/*
 * Best effort after bin_find() failed: the bins it skipped because it
 * rounds a request up to the next slice may hold a run that fits exactly
 * (a freed 25-granule run and a 25-granule request), or that fits with the
 * alignment it actually needs rather than the worst case.  Every bin from
 * npages' own upward is looked at, run by run (bins above the rounded
 * request are empty, or bin_find() would have found one).
 */
static struct span *bin_scan(struct ccdma_pool *p, uint32_t npages,
			     uint32_t align)
{
	unsigned fl, sl;
	uint32_t f;

	mapping(npages, &fl, &sl);
	if (fl >= PA_FL_COUNT)
		return NULL;
	/* Non-empty first levels from npages' own up (none: at once). */
	for (f = p->fl_map & (~0u << fl); f; f &= f - 1) {
		unsigned l = (unsigned)__builtin_ctz(f);
		uint32_t m = p->sl_map[l] & (l == fl ? ~0u << sl : ~0u);

		while (m) {
			unsigned b = (unsigned)__builtin_ctz(m);
			struct span *s;

			m &= m - 1;
			for (s = p->bins[l][b]; s; s = s->next)
				if ((uint64_t)lead_of(s, align) + npages <= s->npages)
					return s;
		}
	}
	return NULL;
}

/* Whether a run of npages could be allocated now (no state changes). */
bool ccdma_pa_fits(struct ccdma_pool *p, uint32_t npages)
{
	return bin_find(p, npages) != NULL || bin_scan(p, npages, 1) != NULL;
}

static struct span *desc_get(struct ccdma_pool *p)
{
	struct span *s = p->desc_free;

	if (!s) {
		enum { BATCH = 128 };
		struct span *blk;
		void **blocks;
		int i;

		blocks = ccdma_os_realloc(p->desc_blocks,
					  (p->ndesc_blocks + 1) * sizeof(void *));
		if (!blocks)
			return NULL;
		p->desc_blocks = blocks;
		blk = ccdma_os_calloc(BATCH, sizeof(*blk));
		if (!blk)
			return NULL;
		blocks[p->ndesc_blocks++] = blk;
		for (i = BATCH - 1; i >= 0; i--) {
			blk[i].next = p->desc_free;
			p->desc_free = &blk[i];
		}
		s = p->desc_free;
	}
	p->desc_free = s->next;
	/* Descriptors are never freed while the pool lives, so a stale gmap
	 * entry always points at a descriptor; span_of() checks containment. */
	s->next = s->prev = NULL;
	s->on_list = 0;
	return s;
}

static void desc_put(struct ccdma_pool *p, struct span *s)
{
	s->state = SPAN_UNUSED;
	s->npages = 0;
	s->next = p->desc_free;
	p->desc_free = s;
}

void ccdma_pa_release_descs(struct ccdma_pool *p)
{
	size_t i;

	for (i = 0; i < p->ndesc_blocks; i++)
		ccdma_os_free(p->desc_blocks[i]);
	ccdma_os_free(p->desc_blocks);
	p->desc_blocks = NULL;
	p->ndesc_blocks = 0;
	p->desc_free = NULL;
}

static void set_range(struct ccdma_pool *p, uint32_t first, uint32_t n,
		      struct span *s)
{
	uint32_t g;

	for (g = first; g < first + n; g++)
		__atomic_store_n(&p->gmap[g], s, __ATOMIC_RELEASE);
}

/* A free run: mark its ends and put it in its bin. */
static void free_run_insert(struct ccdma_pool *p, struct span *s)
{
	s->state = SPAN_FREE;
	__atomic_store_n(&p->gmap[s->first], s, __ATOMIC_RELEASE);
	__atomic_store_n(&p->gmap[s->first + s->npages - 1], s, __ATOMIC_RELEASE);
	bin_insert(p, s);
}

static void region_account(struct ccdma_pool *p, struct region *r,
			   int64_t delta)
{
	r->nfree = (uint32_t)((int64_t)r->nfree + delta);
	p->free_pages = (uint64_t)((int64_t)p->free_pages + delta);
	if (r->nfree == r->npages)
		r->free_since = ccdma_os_now_ns();
	else
		r->free_since = 0;
}

struct span *ccdma_pa_alloc(struct ccdma_pool *p, uint32_t npages,
			    uint32_t align_pages)
{
	uint32_t want = npages, lead, base_g;
	struct span *s, *head, *tail;

	if (align_pages > 1) {
		if ((uint64_t)npages + align_pages - 1 > UINT32_MAX)
			return NULL;
		want = npages + align_pages - 1;
	}
	s = bin_find(p, want);
	if (!s)
		s = bin_scan(p, npages, align_pages);
	if (!s)
		return NULL;
	/* Two spare descriptors up front so a split cannot fail half done. */
	head = desc_get(p);
	tail = desc_get(p);
	if (!head || !tail) {
		if (head)
			desc_put(p, head);
		if (tail)
			desc_put(p, tail);
		return NULL;
	}
	bin_remove(p, s);
	lead = lead_of(s, align_pages);
	base_g = s->first + lead;
	/* Leading remainder becomes its own free run. */
	if (lead) {
		*head = *s;
		head->npages = lead;
		head->base = s->base;
		free_run_insert(p, head);
		head = NULL;
	}
	{
		uint32_t after = s->first + s->npages - (base_g + npages);

		if (after) {
			*tail = *s;
			tail->first = base_g + npages;
			tail->npages = after;
			tail->base = s->region->base +
				     ((uintptr_t)(tail->first - s->region->first)
				      << p->gran_shift);
			free_run_insert(p, tail);
			tail = NULL;
		}
	}
	if (head)
		desc_put(p, head);
	if (tail)
		desc_put(p, tail);
	s->first = base_g;
	s->npages = npages;
	s->base = s->region->base +
		  ((uintptr_t)(base_g - s->region->first) << p->gran_shift);
	s->state = SPAN_LARGE; /* caller sets the final state */
	s->next = s->prev = NULL;
	set_range(p, s->first, s->npages, s);
	region_account(p, s->region, -(int64_t)npages);
	return s;
}

void ccdma_pa_free(struct ccdma_pool *p, struct span *s)
{
	struct region *r = s->region;
	uint32_t rend = r->first + r->npages;
	struct span *nb;

	region_account(p, r, (int64_t)s->npages);
	s->state = SPAN_FREE;
	if (s->first > r->first) {
		nb = __atomic_load_n(&p->gmap[s->first - 1], __ATOMIC_RELAXED);
		if (nb && nb->state == SPAN_FREE && nb->region == r &&
		    nb->first + nb->npages == s->first) {
			bin_remove(p, nb);
			nb->npages += s->npages;
			desc_put(p, s);
			s = nb;
		}
	}
	if (s->first + s->npages < rend) {
		nb = __atomic_load_n(&p->gmap[s->first + s->npages], __ATOMIC_RELAXED);
		if (nb && nb->state == SPAN_FREE && nb->region == r &&
		    nb->first == s->first + s->npages) {
			bin_remove(p, nb);
			s->npages += nb->npages;
			desc_put(p, nb);
		}
	}
	free_run_insert(p, s);
}

void ccdma_pa_add_region(struct ccdma_pool *p, struct region *r)
{
	struct span *s = desc_get(p);

	/* The caller reserved a descriptor's worth of memory: on the
	 * impossible failure the region simply stays unusable. */
	if (!s)
		return;
	s->region = r;
	s->first = r->first;
	s->npages = r->npages;
	s->base = r->base;
	r->nfree = 0;
	region_account(p, r, (int64_t)r->npages);
	free_run_insert(p, s);
}

void ccdma_pa_remove_region(struct ccdma_pool *p, struct region *r)
{
	struct span *s = __atomic_load_n(&p->gmap[r->first], __ATOMIC_RELAXED);

	if (s && s->state == SPAN_FREE && s->npages == r->npages) {
		bin_remove(p, s);
		desc_put(p, s);
	}
	p->free_pages -= r->nfree;
	r->nfree = 0;
	r->free_since = 0;
}
