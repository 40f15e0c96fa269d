/* SPDX-License-Identifier: MIT */
/*
 * The pool: creation, allocation and free (fast and slow paths), lookup,
 * waiting and deferred requests.  See pool_internal.h for the design.
 */
#include "pool/pool_internal.h"

void ccdma_pool_config_init(struct ccdma_pool_config *c)
{
	if (!c)
		return;
	ccdma_memset(c, 0, sizeof(*c));
	c->name = "pool";
	c->region_size = 4u << 20;
	c->initial_bytes = 0;
	c->max_bytes = (size_t)1 << 30;
	c->low_watermark = 1u << 20;
	c->high_watermark = 8u << 20;
	c->idle_ms = 1000;
	c->isolation = CCDMA_ISOLATION_DENSE;
	c->flags = 0;
}

static unsigned log2_exact(size_t v)
{
	return (unsigned)__builtin_ctzll((unsigned long long)v);
}

static bool is_pow2(size_t v)
{
	return v && !(v & (v - 1));
}

static int check_config(const struct ccdma_pool_config *c, size_t granule)
{
	const char *what = NULL;

	if (!is_pow2(c->region_size) || c->region_size < 65536 ||
	    c->region_size < granule)
		what = "region_size must be a power of two, at least 64 KiB and at least the page size";
	else if (c->max_bytes < c->region_size)
		what = "max_bytes must be at least region_size";
	else if (c->max_bytes > ((size_t)1 << 40))
		what = "max_bytes must be at most 1 TiB";
	else if (c->initial_bytes > c->max_bytes)
		what = "initial_bytes must not exceed max_bytes";
	else if (c->high_watermark < c->low_watermark)
		what = "high_watermark must be at least low_watermark";
	else if (c->isolation != CCDMA_ISOLATION_DENSE &&
		 c->isolation != CCDMA_ISOLATION_PAGE)
		what = "isolation must be CCDMA_ISOLATION_DENSE or CCDMA_ISOLATION_PAGE";
	else if (c->flags & ~(unsigned)(CCDMA_POOL_F_NO_GROWER | CCDMA_POOL_F_SCRUB_ON_FREE))
		what = "unknown flags";
	if (what) {
		ccdma_err("pool_create(%s): invalid configuration: %s",
			  c->name ? c->name : "?", what);
		return -EINVAL;
	}
	return 0;
}

/* initial_bytes in whole regions: rounded up, at least one region, at
 * most the whole regions max_bytes holds (check_config: at least one). */
static size_t pool_floor(const struct ccdma_pool_config *c)
{
	size_t r = c->region_size, cap = c->max_bytes & ~(r - 1);
	size_t n = c->initial_bytes > cap - r ? cap
					      : (c->initial_bytes + r - 1) & ~(r - 1);

	return n < r ? r : n;
}

static void free_span_arrays(struct span *s)
{
	ccdma_os_free(s->meta);
	ccdma_os_free(s->free_idx);
	s->meta = NULL;
	s->free_idx = NULL;
}

/* Count live allocations and free per-span arrays of a region that is
 * going away with the pool.  Runs partition the region, so walking run
 * heads through gmap visits every span once. */
static void region_teardown_spans(struct ccdma_pool *p, struct region *r,
				  uint64_t *live, uint64_t *live_bytes)
{
	uint32_t g = r->first, end = r->first + r->npages;

	while (g < end) {
		struct span *s = p->gmap[g];
		uint32_t i;

		if (!s || s->first != g || !s->npages)
			break; /* cannot happen: runs partition regions */
		if (s->state == SPAN_SMALL) {
			for (i = 0; i < s->nslots; i++) {
				if (s->meta[i].live) {
					(*live)++;
					*live_bytes += s->stride;
				}
			}
			free_span_arrays(s);
		} else if (s->state == SPAN_LARGE && s->off_plus1) {
			(*live)++;
			*live_bytes += (uint64_t)s->npages << p->gran_shift;
		}
		g += s->npages;
	}
}

static void regions_destroy_all(struct ccdma_pool *p)
{
	uint64_t live = 0, live_bytes = 0;
	struct region *r;

	while ((r = p->live) != NULL) {
		p->live = r->next;
		region_teardown_spans(p, r, &live, &live_bytes);
		ccdma_notify_listeners(p, false, r);
		ccdma_os_region_destroy(r->fd, (void *)r->base, r->size, true);
		r->live = false;
	}
	if (live)
		ccdma_warn("pool %s destroyed with %llu live allocation(s), %llu bytes: "
			   "reclaimed (a mapping was not unmapped)",
			   p->name, (unsigned long long)live,
			   (unsigned long long)live_bytes);
}

static void pool_locks_destroy(struct ccdma_pool *p, unsigned ndepots)
{
	unsigned ci;

	for (ci = 0; ci < ndepots; ci++)
		ccdma_mutex_destroy(&p->depot[ci].lock);
	ccdma_mutex_destroy(&p->page_lock);
	ccdma_mutex_destroy(&p->lock);
	ccdma_mutex_destroy(&p->listener_lock);
	ccdma_cond_destroy(&p->grower_cond);
	ccdma_cond_destroy(&p->avail_cond);
}

/* Every lock of the pool, or none: 0 or -errno.  A condition that cannot
 * wait on the monotonic clock fails here, not in a timed wait later. */
static int pool_locks_init(struct ccdma_pool *p)
{
	unsigned ci;
	int rc;

	rc = ccdma_mutex_init(&p->lock);
	if (rc)
		return rc;
	rc = ccdma_mutex_init(&p->listener_lock);
	if (rc)
		goto lock;
	rc = ccdma_mutex_init(&p->page_lock);
	if (rc)
		goto listener;
	rc = ccdma_cond_init(&p->grower_cond);
	if (rc)
		goto page;
	rc = ccdma_cond_init(&p->avail_cond);
	if (rc)
		goto grower;
	for (ci = 0; ci < CCDMA_NSMALL; ci++) {
		rc = ccdma_mutex_init(&p->depot[ci].lock);
		if (rc) {
			pool_locks_destroy(p, ci);
			return rc;
		}
	}
	return 0;
grower:
	ccdma_cond_destroy(&p->grower_cond);
page:
	ccdma_mutex_destroy(&p->page_lock);
listener:
	ccdma_mutex_destroy(&p->listener_lock);
lock:
	ccdma_mutex_destroy(&p->lock);
	return rc;
}

static void pool_free_struct(struct ccdma_pool *p)
{
	ccdma_pa_release_descs(p);
	if (p->base)
		ccdma_os_unreserve((void *)p->base, p->resv_size);
	ccdma_os_free(p->chunk_tab);
	ccdma_os_free(p->gmap);
	ccdma_os_free(p->dirty);
	ccdma_os_free(p->regions);
	ccdma_os_free(p->chunk_used);
	pool_locks_destroy(p, CCDMA_NSMALL);
	ccdma_os_free(p);
}

int ccdma_pool_create(const struct ccdma_pool_config *cfg,
		      struct ccdma_pool **out)
{
	struct ccdma_pool_config def;
	struct ccdma_pool *p;
	size_t granule = ccdma_os_page_size(), resv, ngran, i;
	int rc;

	if (!out)
		return -EINVAL;
	if (!cfg) {
		ccdma_pool_config_init(&def);
		cfg = &def;
	}
	rc = check_config(cfg, granule);
	if (rc)
		return rc;
	p = ccdma_os_calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->cfg = *cfg;
	for (i = 0; cfg->name && cfg->name[i] && i < sizeof(p->name) - 1; i++)
		p->name[i] = cfg->name[i];
	p->cfg.name = p->name;
	p->isolation = cfg->isolation;
	p->flags = cfg->flags;
	p->scrub_on_free = !!(cfg->flags & CCDMA_POOL_F_SCRUB_ON_FREE);
	p->granule = granule;
	p->gran_shift = log2_exact(granule);
	p->chunk_shift = log2_exact(cfg->region_size);
	resv = ((cfg->max_bytes + cfg->region_size - 1) & ~(cfg->region_size - 1)) * 2;
	p->nchunks = (uint32_t)(resv >> p->chunk_shift);
	ngran = resv >> p->gran_shift;

	rc = pool_locks_init(p);
	if (rc) {
		ccdma_err("pool_create(%s): cannot initialise its locks (error %d)",
			  p->name, -rc);
		ccdma_os_free(p);
		return rc;
	}
	for (i = 0; i < CCDMA_NSMALL; i++) {
		struct depot *d = &p->depot[i];

		ccdma_class_geometry(granule, (unsigned)i, &d->span_pages,
				     &d->span_slots, &d->tc_cap);
		ccdma_div_magic((uint32_t)ccdma_class_bytes((unsigned)i),
				&d->magic, &d->mshift);
	}

	/* Reserve one extra chunk so the base can be chunk aligned: region
	 * alignment then equals address alignment. */
	p->resv_size = resv + cfg->region_size;
	if (cfg->addr_limit) {
		p->base = (uintptr_t)ccdma_os_reserve_below(p->resv_size,
							    cfg->addr_limit);
		if (!p->base) {
			ccdma_err("pool_create(%s): cannot place %zu bytes of address "
				  "space (twice max_bytes plus one region) below "
				  "addr_limit %#llx; lower max_bytes", p->name,
				  p->resv_size, (unsigned long long)cfg->addr_limit);
			pool_free_struct(p);
			return -ERANGE;
		}
	} else {
		p->base = (uintptr_t)ccdma_os_reserve(p->resv_size);
	}
	p->chunk_tab = ccdma_os_calloc(p->nchunks, sizeof(*p->chunk_tab));
	p->gmap = ccdma_os_calloc(ngran, sizeof(*p->gmap));
	p->dirty = ccdma_os_calloc(ngran / 64 + 1, sizeof(*p->dirty));
	p->regions = ccdma_os_calloc(p->nchunks, sizeof(*p->regions));
	p->chunk_used = ccdma_os_calloc(p->nchunks, 1);
	if (!p->base || !p->chunk_tab || !p->gmap || !p->dirty ||
	    !p->regions || !p->chunk_used) {
		ccdma_err("pool_create(%s): cannot reserve %zu bytes of address space "
			  "and metadata", p->name, p->resv_size);
		pool_free_struct(p);
		return -ENOMEM;
	}
	{
		/* Keep the unaligned reservation for unreserve; use an aligned
		 * base inside it. */
		uintptr_t raw = p->base;
		uintptr_t al = (raw + cfg->region_size - 1) & ~(uintptr_t)(cfg->region_size - 1);

		p->base = al;
		p->resv_size -= al - raw;
		/* The head [raw, al) stays reserved until unreserve; record it
		 * by unreserving it now. */
		if (al != raw)
			ccdma_os_unreserve((void *)raw, al - raw);
	}

	rc = ccdma_registry_add(p);
	if (rc) {
		if (rc == -ENOSPC)
			ccdma_err("pool_create(%s): more than %d pools alive",
				  p->name, CCDMA_POOL_MAX_POOLS);
		pool_free_struct(p);
		return rc;
	}
	/* The floor: whole regions, at least one, so that a new pool serves
	 * its first NOWAIT allocation whether or not a config was given. */
	p->min_bytes = pool_floor(cfg);
	rc = ccdma_region_add(p, p->min_bytes);
	if (rc) {
		ccdma_err("pool_create(%s): cannot create the initial %zu bytes",
			  p->name, p->min_bytes);
		goto err;
	}
	rc = ccdma_grower_start(p);
	if (rc)
		goto err;
	*out = p;
	return 0;
err:
	ccdma_registry_remove(p);
	regions_destroy_all(p);
	pool_free_struct(p);
	return rc;
}

int ccdma_pool_get_range(struct ccdma_pool *p, uint64_t *base, uint64_t *size)
{
	if (!p || !base || !size)
		return -EINVAL;
	*base = p->base;
	*size = (uint64_t)p->nchunks << p->chunk_shift;
	return 0;
}

int ccdma_pool_get_config(struct ccdma_pool *p, struct ccdma_pool_config *cfg)
{
	if (!p || !cfg)
		return -EINVAL;
	*cfg = p->cfg;
	return 0;
}

void ccdma_pool_destroy(struct ccdma_pool *p)
{
	if (!p)
		return;
	ccdma_grower_stop(p);
	ccdma_registry_remove(p);
	regions_destroy_all(p);
	pool_free_struct(p);
}

/* ---- lookup ---------------------------------------------------------- */

static inline void relaxed_add(uint64_t *v, uint64_t n)
{
	__atomic_store_n(v, __atomic_load_n(v, __ATOMIC_RELAXED) + n,
			 __ATOMIC_RELAXED);
}


static inline struct span *span_of(struct ccdma_pool *p, uintptr_t a)
{
	struct region *r;
	struct span *s;
	uint32_t g;

	if (a < p->base || ((a - p->base) >> p->chunk_shift) >= p->nchunks)
		return NULL;
	r = __atomic_load_n(&p->chunk_tab[(a - p->base) >> p->chunk_shift],
			    __ATOMIC_ACQUIRE);
	if (!r)
		return NULL;
	g = gran_index(p, a);
	s = __atomic_load_n(&p->gmap[g], __ATOMIC_ACQUIRE);
	if (!s || s->region != r || g < s->first || g >= s->first + s->npages)
		return NULL;
	return s;
}

/* Slot index of an address inside a small span, or UINT32_MAX. */
static inline uint32_t slot_index(const struct span *s, uintptr_t a)
{
	uint64_t off = a - s->base;
	uint32_t idx = (uint32_t)((off * s->magic) >> s->mshift);

	return idx < s->nslots ? idx : UINT32_MAX;
}

/* The live allocation holding address a: its span, start, usable size and
 * owner record.  False when a is not inside a live allocation. */
static bool lookup_live(struct ccdma_pool *p, uintptr_t a, struct span **sp,
			uintptr_t *startp, size_t *usablep,
			struct ccdma_pool_owner **ownerp)
{
	struct span *s = span_of(p, a);
	uintptr_t start;
	size_t usable;
	uint32_t live;

	if (!s)
		return false;
	if (s->state == SPAN_SMALL) {
		uint32_t idx = slot_index(s, a);
		uintptr_t slot;

		if (idx == UINT32_MAX)
			return false;
		slot = s->base + (uintptr_t)idx * s->stride;
		live = __atomic_load_n(&s->meta[idx].live, __ATOMIC_RELAXED);
		if (!live)
			return false;
		start = slot + live - 1;
		usable = s->stride - (live - 1);
		*ownerp = &s->meta[idx].owner;
	} else if (s->state == SPAN_LARGE) {
		live = __atomic_load_n(&s->off_plus1, __ATOMIC_RELAXED);
		if (!live)
			return false;
		start = s->base + live - 1;
		usable = ((size_t)s->npages << p->gran_shift) - (live - 1);
		*ownerp = &s->owner;
	} else {
		return false;
	}
	if (a < start || a - start >= usable)
		return false;
	*sp = s;
	*startp = start;
	*usablep = usable;
	return true;
}

int ccdma_pool_lookup(struct ccdma_pool *p, const void *addr,
		      struct ccdma_pool_addr_info *info)
{
	uintptr_t a = (uintptr_t)addr, start;
	struct ccdma_pool_owner *o;
	struct span *s;
	size_t usable;

	if (!p || !info || !lookup_live(p, a, &s, &start, &usable, &o))
		return -EINVAL;
	info->pool_offset = a - p->base;
	info->region_fd = s->region->fd;
	info->region_addr = (void *)s->region->base;
	info->region_size = s->region->size;
	info->region_offset = a - s->region->base;
	info->alloc_addr = (void *)start;
	info->alloc_size = usable;
	info->class_index = s->cls;
	return 0;
}

int ccdma_pool_set_owner(struct ccdma_pool *p, void *addr,
			 const struct ccdma_pool_owner *o)
{
	uintptr_t a = (uintptr_t)addr, start;
	struct ccdma_pool_owner *po;
	struct span *s;
	size_t usable;

	if (!lookup_live(p, a, &s, &start, &usable, &po) || a != start)
		return -EINVAL;
	*po = *o;
	return 0;
}

int ccdma_pool_get_owner(struct ccdma_pool *p, const void *addr,
			 struct ccdma_pool_owner *o, void **alloc_addr,
			 size_t *alloc_size)
{
	uintptr_t start;
	struct ccdma_pool_owner *po;
	struct span *s;
	size_t usable;

	if (!lookup_live(p, (uintptr_t)addr, &s, &start, &usable, &po))
		return -EINVAL;
	*o = *po;
	*alloc_addr = (void *)start;
	*alloc_size = usable;
	return 0;
}

void ccdma_pool_count_copy(struct ccdma_pool *p, bool to_device, size_t bytes)
{
	struct tcache *tc = ccdma_tcache_get(p);
	unsigned i = to_device ? 0 : 1;

	if (unlikely(!tc))
		return;
	relaxed_add(&tc->copies[i], 1);
	relaxed_add(&tc->copied[i], bytes);
}

size_t ccdma_pool_max_align(const struct ccdma_pool *p)
{
	return p->cfg.region_size;
}

bool ccdma_pool_contains(struct ccdma_pool *p, const void *addr, size_t len)
{
	uintptr_t a = (uintptr_t)addr;
	struct region *r;

	if (!p || !len || a < p->base ||
	    ((a - p->base) >> p->chunk_shift) >= p->nchunks)
		return false;
	r = __atomic_load_n(&p->chunk_tab[(a - p->base) >> p->chunk_shift],
			    __ATOMIC_ACQUIRE);
	return r && len <= r->size && a - r->base <= r->size - len;
}

void *ccdma_pool_offset_to_addr(struct ccdma_pool *p, uint64_t off, size_t len)
{
	if (!p || off >= p->resv_size)
		return NULL;
	if (!ccdma_pool_contains(p, (void *)(p->base + (uintptr_t)off), len))
		return NULL;
	return (void *)(p->base + (uintptr_t)off);
}

/* ---- dirty tracking -------------------------------------------------- */

/* Mark granules [first, first+n) dirty: one atomic OR per 64 granules. */
static void dirty_mark(struct ccdma_pool *p, uint32_t first, uint32_t n)
{
	uint32_t g = first, end = first + n;

	while (g < end) {
		uint32_t sh = g & 63, cnt = end - g < 64 - sh ? end - g : 64 - sh;
		uint64_t bits = (cnt == 64 ? ~0ull : ((1ull << cnt) - 1)) << sh;

		__atomic_fetch_or(&p->dirty[g >> 6], bits, __ATOMIC_RELAXED);
		g += cnt;
	}
}

bool ccdma_dirty_test_clear(struct ccdma_pool *p, uint32_t g)
{
	uint64_t bit = 1ull << (g & 63);

	return __atomic_fetch_and(&p->dirty[g >> 6], ~bit, __ATOMIC_RELAXED) & bit;
}

static bool dirty_any(struct ccdma_pool *p, uint32_t first, uint32_t n)
{
	uint32_t g;

	for (g = first; g < first + n; g++)
		if (__atomic_load_n(&p->dirty[g >> 6], __ATOMIC_RELAXED) &
		    (1ull << (g & 63)))
			return true;
	return false;
}

/* ---- small classes: depot side (class lock) --------------------------- */

static void depot_list_add(struct depot *d, struct span *s)
{
	s->prev = NULL;
	s->next = d->partial;
	if (s->next)
		s->next->prev = s;
	d->partial = s;
	s->on_list = 1;
}

static void depot_list_del(struct depot *d, struct span *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		d->partial = s->next;
	if (s->next)
		s->next->prev = s->prev;
	s->next = s->prev = NULL;
	s->on_list = 0;
}

/* Pages of a span of class ci that holds one slot. */
static uint32_t one_slot_pages(const struct ccdma_pool *p, unsigned ci)
{
	return (uint32_t)((ccdma_class_bytes(ci) + p->granule - 1) >> p->gran_shift);
}

/*
 * Pages for a new span of class ci (page lock held): its full span, or
 * when no free run holds one, a shorter span down to one slot's pages
 * (halving, then the least), so that a pool under pressure still serves
 * the class from whatever free run can hold a slot.
 */
static struct span *span_pages_alloc(struct ccdma_pool *p, struct depot *d,
				     unsigned ci)
{
	uint32_t min = one_slot_pages(p, ci), n = d->span_pages;
	struct span *s = ccdma_pa_alloc(p, n, 1);

	/* No free run at all (an exhausted pool): fail at once. */
	while (!s && n > min && p->fl_map) {
		n = n / 2 > min ? n / 2 : min;
		s = ccdma_pa_alloc(p, n, 1);
	}
	return s;
}

/* Cut a new span for class ci from the page allocator (class lock held). */
static struct span *carve(struct ccdma_pool *p, unsigned ci)
{
	struct depot *d = &p->depot[ci];
	uint32_t stride = (uint32_t)ccdma_class_bytes(ci), i, nslots;
	struct slot_meta *meta;
	uint32_t *idx;
	struct span *s;

	ccdma_mutex_lock(&p->page_lock);
	s = span_pages_alloc(p, d, ci);
	ccdma_mutex_unlock(&p->page_lock);
	if (!s)
		return NULL;
	nslots = (uint32_t)(((size_t)s->npages << p->gran_shift) / stride);
	/* Not visible to anyone yet (class lock held, no slot handed out):
	 * the metadata can be allocated outside the page lock. */
	meta = ccdma_os_calloc(nslots, sizeof(*meta));
	idx = ccdma_os_calloc(nslots, sizeof(*idx));
	if (!meta || !idx) {
		ccdma_os_free(meta);
		ccdma_os_free(idx);
		ccdma_mutex_lock(&p->page_lock);
		ccdma_pa_free(p, s);
		ccdma_mutex_unlock(&p->page_lock);
		return NULL;
	}
	/* Published under the page lock: pa_free() reads the state of
	 * neighbouring spans when it coalesces. */
	ccdma_mutex_lock(&p->page_lock);
	s->cls = (uint8_t)ci;
	s->stride = stride;
	s->nslots = nslots;
	s->magic = d->magic;
	s->mshift = d->mshift;
	s->meta = meta;
	s->free_idx = idx;
	s->idle_since = 0;
	__atomic_store_n(&s->state, (uint8_t)SPAN_SMALL, __ATOMIC_RELEASE);
	ccdma_mutex_unlock(&p->page_lock);
	/* Dirty granules become dirty slots: the span now owns the state. */
	for (i = 0; i < s->nslots; i++) {
		uintptr_t a = s->base + (uintptr_t)i * stride;
		uint32_t g0 = gran_index(p, a), g1 = gran_index(p, a + stride - 1);

		if (dirty_any(p, g0, g1 - g0 + 1))
			meta[i].dirty = stride;
		idx[i] = s->nslots - 1 - i;
	}
	for (i = 0; i < s->npages; i++)
		ccdma_dirty_test_clear(p, s->first + i);
	s->nfree = s->nslots;
	d->nslots += s->nslots;
	d->npages += s->npages;
	d->nfree += s->nslots;
	d->grows++;
	depot_list_add(d, s);
	return s;
}

/* Give a wholly free span back to the page allocator (class lock held). */
static void release_span(struct ccdma_pool *p, struct depot *d, struct span *s)
{
	struct slot_meta *meta = s->meta;
	uint32_t *idx = s->free_idx;
	uint32_t i;

	depot_list_del(d, s);
	if (s->idle_since)
		__atomic_sub_fetch(&p->idle_spans, 1, __ATOMIC_RELAXED);
	d->nfree -= s->nslots;
	d->nslots -= s->nslots;
	d->npages -= s->npages;
	d->shrinks++;
	for (i = 0; i < s->nslots; i++) {
		if (meta[i].dirty) {
			uintptr_t a = s->base + (uintptr_t)i * s->stride;
			uint32_t g0 = gran_index(p, a);
			uint32_t g1 = gran_index(p, a + meta[i].dirty - 1);

			dirty_mark(p, g0, g1 - g0 + 1);
		}
	}
	ccdma_mutex_lock(&p->page_lock);
	s->meta = NULL;
	s->free_idx = NULL;
	ccdma_pa_free(p, s);
	ccdma_mutex_unlock(&p->page_lock);
	ccdma_os_free(meta);
	ccdma_os_free(idx);
}

int ccdma_small_refill(struct ccdma_pool *p, struct tcache *tc, unsigned ci)
{
	struct depot *d = &p->depot[ci];
	struct tc_class *c = &tc->cls[ci];
	uint32_t want = c->cap / 2 ? c->cap / 2 : 1;
	uint64_t out;

	ccdma_mutex_lock(&d->lock);
	while (c->n < want) {
		struct span *s = d->partial;

		if (!s) {
			s = carve(p, ci);
			if (!s)
				break;
		}
		while (s->nfree && c->n < want) {
			uint32_t i = s->free_idx[--s->nfree];

			c->e[c->n].p = (void *)(s->base + (uintptr_t)i * s->stride);
			c->e[c->n].m = &s->meta[i];
			c->n++;
			d->nfree--;
		}
		if (s->idle_since)
			__atomic_sub_fetch(&p->idle_spans, 1, __ATOMIC_RELAXED);
		s->idle_since = 0;
		if (!s->nfree)
			depot_list_del(d, s);
	}
	out = d->nslots - d->nfree;
	if (out > d->high_water)
		d->high_water = out;
	ccdma_mutex_unlock(&d->lock);
	return c->n ? 0 : -ENOMEM;
}

/* One free slot back into its span (depot lock held). */
static void depot_put(struct ccdma_pool *p, struct depot *d, struct tc_entry e,
		      uint64_t *now)
{
	struct span *s = span_of(p, (uintptr_t)e.p);

	if (!s || s->state != SPAN_SMALL)
		return; /* cannot happen: the slot was ours */
	s->free_idx[s->nfree++] = (uint32_t)(e.m - s->meta);
	d->nfree++;
	if (!s->on_list)
		depot_list_add(d, s);
	if (s->nfree == s->nslots) {
		/* Keep one span's worth of free slots in the class; anything
		 * beyond goes back to the page allocator so other classes and
		 * large requests can use it. */
		if (d->nfree - s->nslots >= d->span_slots) {
			release_span(p, d, s);
		} else {
			if (!*now)
				*now = ccdma_os_now_ns();
			if (!s->idle_since)
				__atomic_add_fetch(&p->idle_spans, 1, __ATOMIC_RELAXED);
			s->idle_since = *now;
		}
	}
}

void ccdma_small_flush(struct ccdma_pool *p, struct tcache *tc, unsigned ci,
		       uint32_t keep)
{
	struct depot *d = &p->depot[ci];
	struct tc_class *c = &tc->cls[ci];
	uint64_t now = 0;

	ccdma_mutex_lock(&d->lock);
	while (c->n > keep)
		depot_put(p, d, c->e[--c->n], &now);
	ccdma_mutex_unlock(&d->lock);
}

/* A free from a thread without a cache: straight to the depot, counted
 * with what exited threads counted. */
static void small_free_direct(struct ccdma_pool *p, unsigned ci, void *slot,
			      struct slot_meta *m)
{
	struct depot *d = &p->depot[ci];
	struct tc_entry e = { slot, m };
	uint64_t now = 0;

	ccdma_mutex_lock(&d->lock);
	depot_put(p, d, e, &now);
	ccdma_mutex_unlock(&d->lock);
	ccdma_os_global_lock();
	p->retired[ci].frees++;
	ccdma_os_global_unlock();
	if (__atomic_load_n(&p->hungry, __ATOMIC_RELAXED))
		ccdma_pool_notify_avail(p);
}

void ccdma_depot_release_idle(struct ccdma_pool *p, uint64_t now,
			      uint64_t idle_ns, bool force)
{
	unsigned ci;

	for (ci = 0; ci < CCDMA_NSMALL; ci++) {
		struct depot *d = &p->depot[ci];
		struct span *s, *next;

		ccdma_mutex_lock(&d->lock);
		for (s = d->partial; s; s = next) {
			next = s->next;
			if (s->nfree == s->nslots &&
			    (force || (s->idle_since && now - s->idle_since >= idle_ns)))
				release_span(p, d, s);
		}
		ccdma_mutex_unlock(&d->lock);
	}
}

/* ---- allocation ------------------------------------------------------ */

/* Counters with a single writer: a plain add that stats may read. */
static int small_alloc(struct ccdma_pool *p, unsigned ci, size_t need,
		       uint32_t moff, size_t size, unsigned flags, void **addr)
{
	struct tcache *tc = ccdma_tcache_get(p);
	struct tc_class *c;
	struct tc_entry e;
	uintptr_t slot;
	uint32_t off;

	if (unlikely(!tc))
		return -ENOMEM;
	c = &tc->cls[ci];
	if (unlikely(!c->n)) {
		int rc = ccdma_small_refill(p, tc, ci);

		if (rc)
			return rc;
	}
	e = c->e[--c->n];
	slot = (uintptr_t)e.p;
	off = moff;
	if (need > 1)
		off += (uint32_t)(((slot + need - 1) & ~(uintptr_t)(need - 1)) - slot);
	__atomic_store_n(&e.m->live, off + 1, __ATOMIC_RELAXED);
	e.m->owner = (struct ccdma_pool_owner){ 0, 0, 0 };
	if (flags & CCDMA_POOL_ZERO) {
		uint32_t d = e.m->dirty;

		if (d > off) {
			size_t end = off + size;
			size_t z = (d < end ? d : end) - off;

			ccdma_memset((void *)(slot + off), 0, z);
			relaxed_add(&tc->zeroed, z);
			if (off == 0 && end >= d)
				e.m->dirty = 0;
		}
	}
	relaxed_add(&tc->cls[ci].allocs, 1);
	*addr = (void *)(slot + off);
	return 0;
}

static int large_alloc(struct ccdma_pool *p, unsigned ci, uint32_t npages,
		       uint32_t align_pages, uint32_t moff, unsigned flags,
		       void **addr)
{
	struct class_acc *acc = &p->large[ci];
	struct span *s;
	uint32_t g;

	ccdma_mutex_lock(&p->page_lock);
	s = ccdma_pa_alloc(p, npages, align_pages);
	if (!s) {
		ccdma_mutex_unlock(&p->page_lock);
		return -ENOMEM;
	}
	s->cls = (uint8_t)ci;
	__atomic_store_n(&s->off_plus1, moff + 1, __ATOMIC_RELAXED);
	s->owner = (struct ccdma_pool_owner){ 0, 0, 0 };
	acc->allocs++;
	acc->in_use++;
	acc->live_pages += npages;
	if (acc->in_use > acc->high_water)
		acc->high_water = acc->in_use;
	ccdma_mutex_unlock(&p->page_lock);
	if (flags & CCDMA_POOL_ZERO) {
		uint64_t z = 0;

		for (g = 0; g < npages; g++) {
			if (ccdma_dirty_test_clear(p, s->first + g)) {
				ccdma_memset((void *)(s->base + ((uintptr_t)g << p->gran_shift)),
					     0, p->granule);
				z += p->granule;
			}
		}
		if (z) {
			ccdma_mutex_lock(&p->page_lock);
			p->large_zeroed += z;
			ccdma_mutex_unlock(&p->page_lock);
		}
	}
	*addr = (void *)(s->base + moff);
	return 0;
}

struct plan {
	unsigned ci;        /* class (small) or stats bin (large) */
	bool small;
	size_t need;        /* alignment of the slot start, 1 if none */
	uint32_t moff;      /* offset kept from the original address */
	uint32_t npages, align_pages;
	size_t want;        /* bytes the grower should make room for */
};

static int plan_request(struct ccdma_pool *p, const struct ccdma_pool_req *r,
			struct plan *pl)
{
	size_t need = 1, total;
	uint64_t mask = r->min_align_mask;
	unsigned ci;

	if (r->size == 0 || r->size > CCDMA_POOL_MAX_ALLOC) {
		ccdma_err("pool %s: allocation of %zu bytes: size must be 1..%u",
			  p->name, r->size, CCDMA_POOL_MAX_ALLOC);
		return -EINVAL;
	}
	if (r->align && !is_pow2(r->align)) {
		ccdma_err("pool %s: alignment %zu is not a power of two",
			  p->name, r->align);
		return -EINVAL;
	}
	if (mask & (mask + 1)) {
		ccdma_err("pool %s: min_align_mask %#llx is not of the form 2^n-1",
			  p->name, (unsigned long long)mask);
		return -EINVAL;
	}
	if (r->align > p->cfg.region_size || mask >= p->cfg.region_size) {
		ccdma_err("pool %s: alignment %zu / min_align_mask %#llx exceed the "
			  "region size %zu", p->name, r->align,
			  (unsigned long long)mask, p->cfg.region_size);
		return -EINVAL;
	}
	pl->moff = (uint32_t)(r->orig & mask);
	if (r->align > 1 && (pl->moff & (r->align - 1))) {
		ccdma_err("pool %s: original address %#llx under min_align_mask %#llx "
			  "cannot also be %zu-byte aligned", p->name,
			  (unsigned long long)r->orig, (unsigned long long)mask,
			  r->align);
		return -EINVAL;
	}
	if (r->align > need)
		need = r->align;
	if (mask + 1 > need)
		need = (size_t)mask + 1;
	if (p->isolation == CCDMA_ISOLATION_PAGE && p->granule > need)
		need = p->granule;
	total = pl->moff + r->size;
	if (total > CCDMA_POOL_MAX_ALLOC) {
		ccdma_err("pool %s: %zu bytes at offset %u under min_align_mask "
			  "exceed the largest allocation", p->name, r->size, pl->moff);
		return -EINVAL;
	}
	pl->need = need;
	ci = ccdma_class_index(total);
	while (ci < CCDMA_NSMALL) {
		size_t stride = ccdma_class_bytes(ci);
		size_t nat = stride & (~stride + 1);
		size_t slack;

		if (nat > p->granule)
			nat = p->granule;
		if (p->isolation == CCDMA_ISOLATION_PAGE && stride % p->granule) {
			ci++;
			continue;
		}
		slack = need > nat ? need - nat : 0;
		if (stride >= total + slack) {
			pl->ci = ci;
			pl->small = true;
			pl->want = (size_t)p->depot[ci].span_pages << p->gran_shift;
			return 0;
		}
		ci = ccdma_class_index(total + slack);
	}
	pl->small = false;
	pl->ci = ccdma_class_index(total);
	pl->npages = (uint32_t)((total + p->granule - 1) >> p->gran_shift);
	pl->align_pages = need > p->granule ? (uint32_t)(need >> p->gran_shift) : 1;
	pl->want = ((size_t)pl->npages + pl->align_pages - 1) << p->gran_shift;
	return 0;
}

static int attempt(struct ccdma_pool *p, const struct plan *pl, size_t size,
		   unsigned flags, void **addr)
{
	if (pl->small)
		return small_alloc(p, pl->ci, pl->need, pl->moff, size, flags, addr);
	return large_alloc(p, pl->ci, pl->npages, pl->align_pages, pl->moff,
			   flags, addr);
}

void ccdma_pool_kick(struct ccdma_pool *p, size_t want)
{
	/* The exhaustion path must stay cheap and never convoy on the pool
	 * lock: only the first failure after the grower last looked takes the
	 * lock and wakes it; later ones only raise the wanted size.  A fixed
	 * pool has nobody to wake. */
	if (p->flags & CCDMA_POOL_F_NO_GROWER)
		return;
	if (want > __atomic_load_n(&p->want_hint, __ATOMIC_RELAXED))
		__atomic_store_n(&p->want_hint, want, __ATOMIC_SEQ_CST);
	if (__atomic_exchange_n(&p->kick_pending, 1, __ATOMIC_SEQ_CST))
		return;
	ccdma_mutex_lock(&p->lock);
	p->kicked = true;
	ccdma_cond_signal(&p->grower_cond);
	ccdma_mutex_unlock(&p->lock);
}

/* Pool lock held.  Deferred callbacks that the grower is running still
 * wait for memory (they may register again): a free while they run must
 * make its slot visible, or a callback that just failed would register
 * again with the slot kept in the freeing thread's cache, and never run. */
void ccdma_pool_update_hungry(struct ccdma_pool *p)
{
	__atomic_store_n(&p->hungry,
			 p->nwaiting || p->defer_head || p->deferred_running,
			 __ATOMIC_RELAXED);
}

void ccdma_pool_notify_avail(struct ccdma_pool *p)
{
	ccdma_mutex_lock(&p->lock);
	p->avail_seq++;
	ccdma_cond_broadcast(&p->avail_cond);
	if (p->defer_head) {
		p->kicked = true;
		ccdma_cond_signal(&p->grower_cond);
	}
	ccdma_mutex_unlock(&p->lock);
}

static int wait_and_retry(struct ccdma_pool *p, const struct plan *pl,
			  size_t size, unsigned flags, uint64_t timeout_ns,
			  void **addr)
{
	uint64_t t0 = ccdma_os_now_ns(), deadline = t0 + timeout_ns;
	int rc;

	CCDMA_TRACE2(wait_start, p->name, size);
	ccdma_mutex_lock(&p->lock);
	p->nwaiting++;
	ccdma_pool_update_hungry(p);
	ccdma_mutex_unlock(&p->lock);
	for (;;) {
		uint64_t seq;
		bool timed_out = false;

		ccdma_mutex_lock(&p->lock);
		seq = p->avail_seq;
		ccdma_mutex_unlock(&p->lock);
		rc = attempt(p, pl, size, flags, addr);
		if (!rc)
			break;
		ccdma_pool_kick(p, pl->want);
		ccdma_mutex_lock(&p->lock);
		while (p->avail_seq == seq && !timed_out)
			timed_out = ccdma_cond_timedwait(&p->avail_cond, &p->lock,
							 deadline);
		ccdma_mutex_unlock(&p->lock);
		if (timed_out) {
			rc = attempt(p, pl, size, flags, addr);
			break;
		}
	}
	ccdma_mutex_lock(&p->lock);
	p->nwaiting--;
	ccdma_pool_update_hungry(p);
	p->waits++;
	{
		uint64_t waited = ccdma_os_now_ns() - t0;

		p->wait_ns += waited;
		if (waited > p->wait_max_ns)
			p->wait_max_ns = waited;
	}
	ccdma_mutex_unlock(&p->lock);
	CCDMA_TRACE4(wait_end, p->name, size, rc, ccdma_os_now_ns() - t0);
	return rc;
}

/*
 * Before an allocation fails or waits: give back what the pool holds but
 * does not use.  The calling thread's cached slots of every class go to
 * their depots, and every wholly free span of every depot goes to the page
 * allocator (the depots otherwise keep one idle span per class).  True
 * when that freed pages, so that trying again can succeed.  Other
 * threads' caches are theirs (lock-free): they come back at those
 * threads' next flush or exit.
 */
/* This thread's cached slots to their depots, every wholly free span of
 * every depot to the page allocator. */
static void take_back(struct ccdma_pool *p)
{
	ccdma_pool_thread_flush(p);
	ccdma_depot_release_idle(p, 0, 0, true);
}

static bool reclaimable(struct ccdma_pool *p)
{
	struct heap *h = ccdma_tls_heap;
	struct tcache *tc;
	unsigned ci;

	if (__atomic_load_n(&p->idle_spans, __ATOMIC_RELAXED))
		return true;
	if (!h || h->e[p->id].gen != p->gen)
		return false;
	tc = h->e[p->id].tc;
	for (ci = 0; ci < CCDMA_NSMALL; ci++)
		if (tc->cls[ci].n)
			return true;
	return false;
}

static bool reclaim(struct ccdma_pool *p)
{
	uint64_t before, after;

	/* An exhausted pool fails fast: nothing to look for. */
	if (!reclaimable(p))
		return false;

	ccdma_mutex_lock(&p->page_lock);
	before = p->free_pages;
	ccdma_mutex_unlock(&p->page_lock);
	take_back(p);
	ccdma_mutex_lock(&p->page_lock);
	after = p->free_pages;
	ccdma_mutex_unlock(&p->page_lock);
	if (after > before) {
		__atomic_add_fetch(&p->reclaims, 1, __ATOMIC_RELAXED);
		return true;
	}
	return false;
}

/* `tried`: the caller's fast path already failed this very attempt. */
static int alloc_planned(struct ccdma_pool *p, const struct plan *pl,
			 size_t size, unsigned flags, uint64_t timeout_ns,
			 void **addr, bool tried)
{
	int rc = tried ? -ENOMEM : attempt(p, pl, size, flags, addr);

	if (likely(!rc))
		return 0;
	/* Short of memory: ask the grower for room (for the requests to
	 * come, even when taking back cached memory serves this one), take
	 * back what is cached, and try once more.  Then, never spinning,
	 * fail now (NOWAIT) or sleep until memory appears or time is up. */
	ccdma_pool_kick(p, pl->want);
	if (reclaim(p))
		rc = attempt(p, pl, size, flags, addr);
	if (!rc)
		return 0;
	if (flags & CCDMA_POOL_WAIT)
		rc = wait_and_retry(p, pl, size, flags, timeout_ns, addr);
	else
		CCDMA_TRACE2(nowait_fail, p->name, size);
	if (rc)
		__atomic_add_fetch(&p->failures[pl->ci], 1, __ATOMIC_RELAXED);
	return rc;
}

static int alloc_req(struct ccdma_pool *p, const struct ccdma_pool_req *r,
		     void **addr, bool tried)
{
	struct plan pl;
	int rc;

	if (!p || !r || !addr)
		return -EINVAL;
	if (r->flags & ~(unsigned)(CCDMA_POOL_WAIT | CCDMA_POOL_ZERO)) {
		ccdma_err("pool %s: unknown allocation flags %#x", p->name, r->flags);
		return -EINVAL;
	}
	rc = plan_request(p, r, &pl);
	if (rc)
		return rc;
	return alloc_planned(p, &pl, r->size, r->flags, r->timeout_ns, addr,
			     tried);
}

int ccdma_pool_alloc_req(struct ccdma_pool *p, const struct ccdma_pool_req *r,
			 void **addr)
{
	return alloc_req(p, r, addr, false);
}

static int __attribute__((noinline))
alloc_slow(struct ccdma_pool *p, size_t size, unsigned flags, void **addr,
	   bool tried)
{
	struct ccdma_pool_req r = {
		.size = size,
		.flags = flags,
		.timeout_ns = CCDMA_POOL_WAIT_DEFAULT_NS,
	};

	return alloc_req(p, &r, addr, tried);
}

int ccdma_pool_alloc(struct ccdma_pool *p, size_t size, unsigned flags,
		     void **addr)
{
	/* The common case: a dense pool, a cached class, no alignment. */
	if (likely(p && addr && size - 1 < CCDMA_POOL_SMALL_MAX &&
		   p->isolation == CCDMA_ISOLATION_DENSE &&
		   !(flags & ~(unsigned)(CCDMA_POOL_WAIT | CCDMA_POOL_ZERO)))) {
		unsigned ci = ccdma_class_index(size);

		if (likely(!small_alloc(p, ci, 1, 0, size, flags, addr)))
			return 0;
		/* The planned attempt would be this same one. */
		return alloc_slow(p, size, flags, addr, true);
	}
	return alloc_slow(p, size, flags, addr, false);
}

int ccdma_pool_would_fit(struct ccdma_pool *p, size_t size)
{
	struct ccdma_pool_req r = { .size = size };
	struct heap *h;
	struct plan pl;
	bool fit = false;
	unsigned ci;

	if (!p || !size || size > CCDMA_POOL_MAX_ALLOC)
		return -EINVAL;
	if (plan_request(p, &r, &pl))
		return -EINVAL;
	h = ccdma_tls_heap;
	/* A free slot of the class, cached here or in the depot. */
	if (pl.small) {
		if (h && h->e[p->id].gen == p->gen && h->e[p->id].tc->cls[pl.ci].n)
			return 1;
		ccdma_mutex_lock(&p->depot[pl.ci].lock);
		fit = p->depot[pl.ci].nfree > 0;
		ccdma_mutex_unlock(&p->depot[pl.ci].lock);
		if (fit)
			return 1;
	}
	/* Otherwise pages: as the allocation would see them after taking
	 * back this thread's cache and the depots' free spans. */
	take_back(p);
	if (pl.small) {
		ccdma_mutex_lock(&p->depot[pl.ci].lock);
		fit = p->depot[pl.ci].nfree > 0;
		ccdma_mutex_unlock(&p->depot[pl.ci].lock);
		if (fit)
			return 1;
	}
	ccdma_mutex_lock(&p->page_lock);
	if (pl.small) {
		ci = pl.ci;
		fit = ccdma_pa_fits(p, one_slot_pages(p, ci));
	} else {
		fit = ccdma_pa_fits(p, pl.npages);
	}
	ccdma_mutex_unlock(&p->page_lock);
	return fit ? 1 : 0;
}

/* ---- free ------------------------------------------------------------ */

static int bad_free(struct ccdma_pool *p, void *addr)
{
	ccdma_err("pool %s: free of %p: not a live allocation of this pool "
		  "(double free, or not the address the allocation returned)",
		  p->name, addr);
	return -EINVAL;
}

static int large_free(struct ccdma_pool *p, struct span *s, uintptr_t a,
		      size_t dirty_len)
{
	struct class_acc *acc;
	uint32_t off, npages;
	size_t avail;

	ccdma_mutex_lock(&p->page_lock);
	if (s->state != SPAN_LARGE || !s->off_plus1 ||
	    a != s->base + s->off_plus1 - 1) {
		ccdma_mutex_unlock(&p->page_lock);
		return bad_free(p, (void *)a);
	}
	off = s->off_plus1 - 1;
	npages = s->npages;
	avail = ((size_t)npages << p->gran_shift) - off;
	if (dirty_len > avail)
		dirty_len = avail;
	if (dirty_len) {
		if (p->flags & CCDMA_POOL_F_SCRUB_ON_FREE) {
			ccdma_memset((void *)a, 0, dirty_len);
		} else {
			uint32_t g0 = gran_index(p, a);
			uint32_t g1 = gran_index(p, a + dirty_len - 1);

			dirty_mark(p, g0, g1 - g0 + 1);
		}
	}
	acc = &p->large[s->cls];
	acc->frees++;
	acc->in_use--;
	acc->live_pages -= npages;
	__atomic_store_n(&s->off_plus1, 0, __ATOMIC_RELAXED);
	ccdma_pa_free(p, s);
	ccdma_mutex_unlock(&p->page_lock);
	if (__atomic_load_n(&p->hungry, __ATOMIC_RELAXED))
		ccdma_pool_notify_avail(p);
	return 0;
}

int ccdma_pool_free(struct ccdma_pool *p, void *addr, size_t dirty_len)
{
	uintptr_t a = (uintptr_t)addr, slot;
	struct tcache *tc;
	struct tc_class *c;
	struct slot_meta *m;
	struct span *s;
	uint32_t idx, o, d;
	unsigned ci;

	if (!p)
		return -EINVAL;
	s = span_of(p, a);
	if (unlikely(!s))
		return bad_free(p, addr);
	if (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) != SPAN_SMALL)
		return large_free(p, s, a, dirty_len);
	idx = slot_index(s, a);
	if (unlikely(idx == UINT32_MAX))
		return bad_free(p, addr);
	m = &s->meta[idx];
	slot = s->base + (uintptr_t)idx * s->stride;
	o = (uint32_t)(a - slot);
	if (unlikely(__atomic_load_n(&m->live, __ATOMIC_RELAXED) != o + 1))
		return bad_free(p, addr);
	d = dirty_len >= s->stride - o ? s->stride : o + (uint32_t)dirty_len;
	if (d > m->dirty)
		m->dirty = d;
	if (unlikely(p->scrub_on_free)) {
		ccdma_memset((void *)slot, 0, m->dirty);
		m->dirty = 0;
	}
	__atomic_store_n(&m->live, 0, __ATOMIC_RELAXED);
	ci = s->cls;
	tc = ccdma_tcache_get(p);
	if (unlikely(!tc)) {
		/* No cache for this thread (out of private memory, or its
		 * exit could not be hooked). */
		small_free_direct(p, ci, (void *)slot, m);
		return 0;
	}
	c = &tc->cls[ci];
	if (unlikely(c->n == c->cap))
		ccdma_small_flush(p, tc, ci, c->cap / 2);
	c->e[c->n].p = (void *)slot;
	c->e[c->n].m = m;
	c->n++;
	relaxed_add(&tc->cls[ci].frees, 1);
	if (unlikely(__atomic_load_n(&p->hungry, __ATOMIC_RELAXED))) {
		/* Someone is waiting: make the memory visible to all. */
		ccdma_small_flush(p, tc, ci, 0);
		ccdma_pool_notify_avail(p);
	}
	return 0;
}

/* ---- deferred requests ----------------------------------------------- */

int ccdma_pool_defer(struct ccdma_pool *p, struct ccdma_pool_waiter *w)
{
	if (!p || !w || !w->fn)
		return -EINVAL;
	ccdma_mutex_lock(&p->lock);
	w->next_ = NULL;
	if (p->defer_tail)
		p->defer_tail->next_ = w;
	else
		p->defer_head = w;
	p->defer_tail = w;
	ccdma_pool_update_hungry(p);
	if (w->size > p->want_bytes)
		p->want_bytes = w->size;
	p->kicked = true;
	ccdma_cond_signal(&p->grower_cond);
	ccdma_mutex_unlock(&p->lock);
	return 0;
}

int ccdma_pool_defer_cancel(struct ccdma_pool *p, struct ccdma_pool_waiter *w)
{
	struct ccdma_pool_waiter **pp, *prev = NULL;
	int rc = -ENOENT;

	if (!p || !w)
		return -EINVAL;
	ccdma_mutex_lock(&p->lock);
	for (pp = &p->defer_head; *pp; prev = *pp, pp = &(*pp)->next_) {
		if (*pp == w) {
			*pp = w->next_;
			if (p->defer_tail == w)
				p->defer_tail = prev;
			rc = 0;
			break;
		}
	}
	ccdma_pool_update_hungry(p);
	ccdma_mutex_unlock(&p->lock);
	return rc;
}
