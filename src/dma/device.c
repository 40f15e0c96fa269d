/* SPDX-License-Identifier: MIT */
/*
 * Devices: configuration, masks against the pool's DMA range, pool
 * placement, attached regions, address translation both ways and the
 * strict IOMMU page counters.
 */
#include "dma/dma_internal.h"

#define DEFAULT_IOVA_BASE (1ull << 20)
#define ALL_ONES (~(uint64_t)0)

const char *ccdma_dir_name(unsigned dir)
{
	switch (dir) {
	case CCDMA_BIDIRECTIONAL: return "BIDIRECTIONAL";
	case CCDMA_TO_DEVICE: return "TO_DEVICE";
	case CCDMA_FROM_DEVICE: return "FROM_DEVICE";
	default: return "invalid";
	}
}

void ccdma_dev_config_init(struct ccdma_dev_config *c)
{
	if (!c)
		return;
	ccdma_memset(c, 0, sizeof(*c));
	c->name = "dev";
	c->dma_mask = ALL_ONES;
	c->coherent_mask = ALL_ONES;
	c->max_seg_size = 65536;
	c->seg_boundary = ALL_ONES;
	c->addr_align = 1;
	c->xlate.kind = CCDMA_XLATE_IDENTITY;
	c->mode = CCDMA_DEV_MODE_PROCESS;
}

static bool is_mask(uint64_t m)
{
	return (m & (m + 1)) == 0;
}

static bool is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

/* ---- translation ------------------------------------------------------ */

/* Non-IOMMU: DMA -> physical; false when no physical address gives dma. */
static inline bool xl_back(const struct ccdma_xlate *x, ccdma_addr_t dma,
			   uint64_t *pa)
{
	switch (x->kind) {
	case CCDMA_XLATE_OFFSET:
		if (dma < x->offset)
			return false;
		*pa = dma - x->offset;
		return true;
	case CCDMA_XLATE_SET_BIT:
		if (!(dma & (1ull << x->bit)))
			return false;
		*pa = dma & ~(1ull << x->bit);
		return true;
	case CCDMA_XLATE_CLEAR_BIT:
		if (dma & (1ull << x->bit))
			return false;
		*pa = dma;
		return true;
	default:
		*pa = dma;
		return true;
	}
}

/* A physical address the translation can carry (SET_BIT and CLEAR_BIT
 * need the bit clear; OFFSET must not wrap). */
static inline bool xl_ok(const struct ccdma_xlate *x, uint64_t pa, size_t len)
{
	uint64_t last = pa + len - 1;

	switch (x->kind) {
	case CCDMA_XLATE_OFFSET: return last + x->offset >= last;
	case CCDMA_XLATE_SET_BIT:
	case CCDMA_XLATE_CLEAR_BIT: return (last >> x->bit) == 0;
	default: return true;
	}
}

bool ccdma_dev_xl_private_ok(const struct ccdma_dev *d, uintptr_t a, size_t len)
{
	uint64_t first = a, last = first + len - 1;

	switch (d->x.kind) {
	case CCDMA_XLATE_SET_BIT:
	case CCDMA_XLATE_CLEAR_BIT:
		/* No byte may hold the bit: setting or clearing it would name
		 * another address. */
		return (first >> d->x.bit) == (last >> d->x.bit) &&
		       !((first >> d->x.bit) & 1);
	default:
		return xl_ok(&d->x, first, len);
	}
}

enum where ccdma_dev_classify(struct ccdma_dev *d, uintptr_t a, size_t len,
			      struct dev_region **rp)
{
	uint32_t i, n;

	if (a - d->pool_base < d->pool_size) {
		if (len <= d->pool_size - (a - d->pool_base) &&
		    ccdma_pool_contains(d->pool, (void *)a, len))
			return W_POOL;
		return W_INVALID; /* in the pool's range, not in one region */
	}
	n = __atomic_load_n(&d->nregions, __ATOMIC_ACQUIRE);
	for (i = 0; i < n; i++) {
		struct dev_region *r = &d->regions[i];

		if (!__atomic_load_n(&r->live, __ATOMIC_ACQUIRE) ||
		    a - r->base >= r->size)
			continue;
		if (len > r->size - (a - r->base))
			return W_INVALID;
		*rp = r;
		return W_REGION;
	}
	return W_PRIVATE;
}

enum where ccdma_dev_locate(struct ccdma_dev *d, ccdma_addr_t dma, size_t len,
			    uintptr_t *pa, struct dev_region **rp)
{
	uint64_t p;
	uint32_t i, n;
	enum where w;

	if (!len || dma + len - 1 < dma)
		return W_INVALID;
	if (d->iommu) {
		if (dma - d->iova_pool < d->pool_size) {
			p = d->pool_base + (dma - d->iova_pool);
			if (!ccdma_pool_contains(d->pool, (void *)(uintptr_t)p, len))
				return W_INVALID;
			*pa = (uintptr_t)p;
			return W_POOL;
		}
		n = __atomic_load_n(&d->nregions, __ATOMIC_ACQUIRE);
		for (i = 0; i < n; i++) {
			struct dev_region *r = &d->regions[i];

			if (!__atomic_load_n(&r->live, __ATOMIC_ACQUIRE) ||
			    dma - r->dma >= r->size)
				continue;
			if (len > r->size - (dma - r->dma))
				return W_INVALID;
			*pa = r->base + (uintptr_t)(dma - r->dma);
			*rp = r;
			return W_REGION;
		}
		return W_INVALID;
	}
	if (d->x.kind == CCDMA_XLATE_SET_BIT && !(dma & (1ull << d->x.bit))) {
		/* Without the shared bit: private memory only. */
		if (!d->reach_private || dma + len - 1 < dma ||
		    !ccdma_dev_xl_private_ok(d, (uintptr_t)dma, len) ||
		    ccdma_dev_classify(d, (uintptr_t)dma, len, rp) != W_PRIVATE)
			return W_INVALID;
		*pa = (uintptr_t)dma;
		return W_PRIVATE;
	}
	if (!xl_back(&d->x, dma, &p) || p + len - 1 < p ||
	    p > (uint64_t)UINTPTR_MAX - len + 1)
		return W_INVALID;
	w = ccdma_dev_classify(d, (uintptr_t)p, len, rp);
	if (w == W_PRIVATE && d->x.kind == CCDMA_XLATE_SET_BIT)
		return W_INVALID; /* the shared alias of private memory */
	if (w == W_REGION && (*rp)->dma + ((uintptr_t)p - (*rp)->base) != dma)
		return W_INVALID;
	if (w == W_PRIVATE && !d->reach_private)
		return W_INVALID;
	*pa = (uintptr_t)p;
	return w;
}

/* ---- strict IOMMU counters -------------------------------------------- */

#define PT_READ 1ull
#define PT_WRITE (1ull << 32)

static uint64_t *pt_of(struct ccdma_dev *d, enum where w, struct dev_region *r,
		       uintptr_t a, size_t *first)
{
	uintptr_t base = w == W_REGION ? r->base : d->pool_base;

	*first = (a - base) >> d->page_shift;
	return w == W_REGION ? r->pt : d->pt;
}

static size_t page_count(const struct ccdma_dev *d, uintptr_t a, size_t len)
{
	return ((a + len - 1) >> d->page_shift) - (a >> d->page_shift) + 1;
}

void ccdma_pt_map_strict(struct ccdma_dev *d, enum where w, struct dev_region *r,
			 uintptr_t a, size_t len, unsigned perm)
{
	uint64_t inc = ((perm & CCDMA_ACCESS_READ) ? PT_READ : 0) |
		       ((perm & CCDMA_ACCESS_WRITE) ? PT_WRITE : 0);
	size_t first, n, i;
	uint64_t *pt;

	if (!d->strict || (w != W_POOL && w != W_REGION))
		return;
	pt = pt_of(d, w, r, a, &first);
	n = page_count(d, a, len);
	for (i = 0; i < n; i++)
		__atomic_add_fetch(&pt[first + i], inc, __ATOMIC_RELEASE);
}

int ccdma_pt_unmap_strict(struct ccdma_dev *d, enum where w, struct dev_region *r,
			  uintptr_t a, size_t len, unsigned perm)
{
	uint64_t dec = ((perm & CCDMA_ACCESS_READ) ? PT_READ : 0) |
		       ((perm & CCDMA_ACCESS_WRITE) ? PT_WRITE : 0);
	size_t first, n, i;
	uint64_t *pt;

	if (!d->strict || (w != W_POOL && w != W_REGION))
		return 0;
	pt = pt_of(d, w, r, a, &first);
	n = page_count(d, a, len);
	for (i = 0; i < n; i++) {
		uint64_t v = __atomic_load_n(&pt[first + i], __ATOMIC_RELAXED);

		if (((perm & CCDMA_ACCESS_READ) && !(v & 0xffffffffull)) ||
		    ((perm & CCDMA_ACCESS_WRITE) && !(v >> 32))) {
			ccdma_err("dev %s: unmap of %zu bytes at %p: page %zu is not "
				  "mapped %s in the I/O page table (wrong size or "
				  "direction?)", d->name, len, (void *)a, i,
				  perm == CCDMA_ACCESS_READ ? "readable" :
				  perm == CCDMA_ACCESS_WRITE ? "writable" :
				  "read-write");
			return -EINVAL;
		}
	}
	for (i = 0; i < n; i++)
		__atomic_sub_fetch(&pt[first + i], dec, __ATOMIC_RELEASE);
	return 0;
}

bool ccdma_pt_allows(struct ccdma_dev *d, enum where w, struct dev_region *r,
		     uintptr_t a, size_t len, unsigned perm)
{
	size_t first, n, i;
	uint64_t *pt;

	if (!d->strict)
		return true;
	pt = pt_of(d, w, r, a, &first);
	n = page_count(d, a, len);
	for (i = 0; i < n; i++) {
		uint64_t v = __atomic_load_n(&pt[first + i], __ATOMIC_ACQUIRE);

		if (((perm & CCDMA_ACCESS_READ) && !(v & 0xffffffffull)) ||
		    ((perm & CCDMA_ACCESS_WRITE) && !(v >> 32)))
			return false;
	}
	return true;
}

/* ---- masks ------------------------------------------------------------ */

/* The DMA range [*lo, *hi] of the pool (and, with an IOMMU, of the attached
 * regions after it). */
static void pool_dma_range(const struct ccdma_dev *d, ccdma_addr_t *lo,
			   ccdma_addr_t *hi)
{
	if (d->iommu) {
		*lo = d->iova_pool;
		*hi = d->iova_next - 1;
	} else {
		*lo = ccdma_xl(&d->x, d->pool_base);
		*hi = ccdma_xl(&d->x, d->pool_base + d->pool_size - 1);
	}
}

static int check_mask(const struct ccdma_dev *d, uint64_t mask,
		      const char *which)
{
	ccdma_addr_t lo, hi;

	if (!mask || !is_mask(mask)) {
		ccdma_err("dev %s: %s %#llx: a mask must be nonzero and of the "
			  "form 2^n-1", d->name, which, (unsigned long long)mask);
		return -EINVAL;
	}
	pool_dma_range(d, &lo, &hi);
	if (hi > mask) {
		ccdma_err("dev %s: %s %#llx cannot reach the device's shared pool "
			  "at DMA addresses %#llx-%#llx (%s); refusing the mask "
			  "rather than failing in the I/O path",
			  d->name, which, (unsigned long long)mask,
			  (unsigned long long)lo, (unsigned long long)hi,
			  ccdma_mode_name(d->mode));
		return -EIO;
	}
	return 0;
}

int ccdma_dev_set_mask(struct ccdma_dev *d, uint64_t mask)
{
	int rc;

	if (!d)
		return -EINVAL;
	rc = check_mask(d, mask, "dma mask");
	if (!rc)
		d->dma_mask = mask;
	return rc;
}

int ccdma_dev_set_coherent_mask(struct ccdma_dev *d, uint64_t mask)
{
	int rc;

	if (!d)
		return -EINVAL;
	rc = check_mask(d, mask, "coherent mask");
	if (!rc)
		d->coherent_mask = mask;
	return rc;
}

int ccdma_dev_set_mask_and_coherent(struct ccdma_dev *d, uint64_t mask)
{
	int rc;

	if (!d)
		return -EINVAL;
	rc = check_mask(d, mask, "dma mask");
	if (!rc) {
		d->dma_mask = mask;
		d->coherent_mask = mask;
	}
	return rc;
}

struct ccdma_pool *ccdma_dev_pool(struct ccdma_dev *d)
{
	return d ? d->pool : NULL;
}

int ccdma_dev_pool_dma_range(struct ccdma_dev *d, ccdma_addr_t *first,
			     ccdma_addr_t *last)
{
	if (!d || !first || !last)
		return -EINVAL;
	if (d->iommu) {
		*first = d->iova_pool;
		*last = d->iova_pool + d->pool_size - 1;
	} else {
		pool_dma_range(d, first, last);
	}
	return 0;
}

/* ---- create / destroy ------------------------------------------------- */

static const char *check_config(const struct ccdma_dev_config *c)
{
	if (!c->max_seg_size || c->max_seg_size > 0xffffffffu)
		return "max_seg_size must be 1 .. 4 GiB - 1";
	if (!is_mask(c->seg_boundary))
		return "seg_boundary must be a mask of the form 2^n-1";
	if (c->seg_boundary < 255)
		return "seg_boundary must be at least 255";
	if (!is_mask(c->min_align_mask) || c->min_align_mask >= 65536)
		return "min_align_mask must be 2^n-1 below 64 KiB (the smallest region size)";
	if (c->min_align_mask && c->addr_align > 1)
		return "min_align_mask and addr_align exclude each other (a bounce "
		       "keeps the original's low bits, which may be misaligned)";
	if (!is_pow2(c->addr_align) || c->addr_align > 65536)
		return "addr_align must be a power of two, at most 64 KiB";
	if (c->flags & ~(unsigned)(CCDMA_DEV_F_FORCE_BOUNCE | CCDMA_DEV_F_TRUSTED |
				   CCDMA_DEV_F_SHARED_ONLY | CCDMA_DEV_F_PRESERVE))
		return "unknown flags";
	if (c->mode != CCDMA_DEV_MODE_PROCESS && c->mode != CCDMA_MODE_CONFIDENTIAL &&
	    c->mode != CCDMA_MODE_DIRECT)
		return "mode must be CCDMA_MODE_CONFIDENTIAL, CCDMA_MODE_DIRECT or CCDMA_DEV_MODE_PROCESS";
	if (c->xlate.kind > CCDMA_XLATE_IOMMU)
		return "unknown translation kind";
	if ((c->xlate.kind == CCDMA_XLATE_SET_BIT ||
	     c->xlate.kind == CCDMA_XLATE_CLEAR_BIT) &&
	    (c->xlate.bit < 12 || c->xlate.bit > 63))
		return "translation bit must be 12 .. 63";
	if (c->xlate.kind == CCDMA_XLATE_IOMMU) {
		if (c->xlate.iommu != CCDMA_IOMMU_WINDOW &&
		    c->xlate.iommu != CCDMA_IOMMU_STRICT)
			return "iommu mode must be CCDMA_IOMMU_WINDOW or CCDMA_IOMMU_STRICT";
		if (c->flags & CCDMA_DEV_F_TRUSTED)
			return "a trusted device reaches private memory directly; "
			       "it cannot have an IOMMU translation here";
	}
	return NULL;
}

/*
 * The highest physical address a pool may occupy for the device's masks to
 * reach all of it, or 0 when the masks cannot reach any pool (*why says
 * which).  UINT64_MAX: no constraint.
 */
static uint64_t pool_limit(const struct ccdma_dev_config *c, const char **why)
{
	uint64_t mask = c->dma_mask < c->coherent_mask ? c->dma_mask : c->coherent_mask;
	uint64_t lim = mask, bit;

	switch (c->xlate.kind) {
	case CCDMA_XLATE_OFFSET:
		if (c->xlate.offset > mask) {
			*why = "the translation offset is above the mask";
			return 0;
		}
		lim = mask - c->xlate.offset;
		break;
	case CCDMA_XLATE_SET_BIT:
		bit = 1ull << c->xlate.bit;
		if (!(mask & bit)) {
			*why = "the shared bit of every DMA address is above the mask";
			return 0;
		}
		lim = (mask & ~bit) < bit - 1 ? (mask & ~bit) : bit - 1;
		break;
	case CCDMA_XLATE_CLEAR_BIT:
		bit = 1ull << c->xlate.bit;
		lim = mask < bit - 1 ? mask : bit - 1;
		break;
	case CCDMA_XLATE_IOMMU:
		return UINT64_MAX; /* the I/O address space is the device's own */
	default:
		break;
	}
	return lim;
}

static int make_pool(struct ccdma_dev *d, const struct ccdma_dev_config *c)
{
	struct ccdma_pool_config pc;
	const char *why = NULL;
	uint64_t lim = pool_limit(c, &why);
	int rc;

	/* No config means the defaults, exactly as if they were passed. */
	if (c->pool_cfg)
		pc = *c->pool_cfg;
	else
		ccdma_pool_config_init(&pc);
	if (!pc.name)
		pc.name = d->name;
	if (!lim) {
		ccdma_err("dev %s: no shared pool can be reached: %s (dma mask %#llx, "
			  "coherent mask %#llx)", d->name, why,
			  (unsigned long long)c->dma_mask,
			  (unsigned long long)c->coherent_mask);
		return -EIO;
	}
	/* Below 128 TiB every address of this process fits anyway. */
	if (lim < (1ull << 47) && (!pc.addr_limit || lim < pc.addr_limit)) {
		pc.addr_limit = lim;
		/* With the default config, shrink the cap until the
		 * reservation (about twice max_bytes) can fit. */
		while (!c->pool_cfg && pc.max_bytes > pc.region_size &&
		       (uint64_t)pc.max_bytes * 2 + pc.region_size > lim / 2) {
			pc.max_bytes /= 2;
			if (pc.high_watermark > pc.max_bytes)
				pc.high_watermark = pc.max_bytes;
			if (pc.low_watermark > pc.high_watermark)
				pc.low_watermark = pc.high_watermark;
		}
	}
	rc = ccdma_pool_create(&pc, &d->pool);
	if (rc == -ERANGE) {
		ccdma_err("dev %s: cannot place a shared pool below %#llx for dma "
			  "mask %#llx", d->name, (unsigned long long)lim,
			  (unsigned long long)c->dma_mask);
		return -EIO;
	}
	if (rc)
		return rc;
	d->own_pool = true;
	return 0;
}

int ccdma_dev_create(const struct ccdma_dev_config *cfg, struct ccdma_dev **out)
{
	struct ccdma_dev_config def;
	const char *what;
	struct ccdma_dev *d;
	uint64_t base, size;
	enum ccdma_mode mode;
	size_t i;
	int rc;

	if (!out)
		return -EINVAL;
	if (!cfg) {
		ccdma_dev_config_init(&def);
		cfg = &def;
	}
	what = check_config(cfg);
	if (what) {
		ccdma_err("dev_create(%s): invalid configuration: %s",
			  cfg->name ? cfg->name : "?", what);
		return -EINVAL;
	}
	if (!cfg->dma_mask || !cfg->coherent_mask ||
	    !is_mask(cfg->dma_mask) || !is_mask(cfg->coherent_mask)) {
		ccdma_err("dev_create(%s): invalid configuration: masks must be "
			  "nonzero and of the form 2^n-1", cfg->name ? cfg->name : "?");
		return -EINVAL;
	}
	if (cfg->mode == CCDMA_DEV_MODE_PROCESS) {
		rc = ccdma_mode_get(&mode);
		if (rc)
			return rc;
	} else {
		mode = (enum ccdma_mode)cfg->mode;
	}
	d = ccdma_os_calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	for (i = 0; cfg->name && cfg->name[i] && i < sizeof(d->name) - 1; i++)
		d->name[i] = cfg->name[i];
	d->mode = mode;
	d->dma_mask = cfg->dma_mask;
	d->coherent_mask = cfg->coherent_mask;
	d->max_seg = (uint32_t)cfg->max_seg_size;
	d->boundary = cfg->seg_boundary;
	d->min_align_mask = cfg->min_align_mask;
	d->addr_align = cfg->addr_align;
	d->x = cfg->xlate;
	d->flags = cfg->flags;
	d->iommu = cfg->xlate.kind == CCDMA_XLATE_IOMMU;
	d->strict = d->iommu && cfg->xlate.iommu == CCDMA_IOMMU_STRICT;
	d->force_bounce = !!(cfg->flags & CCDMA_DEV_F_FORCE_BOUNCE);
	d->reach_private = !d->iommu &&
		((cfg->flags & CCDMA_DEV_F_TRUSTED) ||
		 (mode == CCDMA_MODE_DIRECT && !(cfg->flags & CCDMA_DEV_F_SHARED_ONLY)));
	d->page_shift = (unsigned)__builtin_ctzll(ccdma_os_page_size());
	rc = ccdma_mutex_init(&d->lock);
	if (rc) {
		ccdma_err("dev_create(%s): cannot initialise its lock (error %d)",
			  d->name, -rc);
		ccdma_os_free(d);
		return rc;
	}

	if (cfg->pool) {
		d->pool = cfg->pool;
	} else {
		rc = make_pool(d, cfg);
		if (rc)
			goto fail;
	}
	ccdma_pool_get_range(d->pool, &base, &size);
	d->pool_base = (uintptr_t)base;
	d->pool_size = size;
	if (d->iommu) {
		d->iova_pool = cfg->xlate.iova_base ? cfg->xlate.iova_base
						    : DEFAULT_IOVA_BASE;
		if (d->iova_pool & ((1ull << d->page_shift) - 1) ||
		    d->iova_pool + size < d->iova_pool) {
			ccdma_err("dev_create(%s): invalid configuration: iova_base "
				  "%#llx must be page aligned and leave room for the "
				  "pool", d->name, (unsigned long long)d->iova_pool);
			rc = -EINVAL;
			goto fail;
		}
		d->iova_next = d->iova_pool + size;
		if (d->strict) {
			d->pt = ccdma_os_calloc(size >> d->page_shift, sizeof(*d->pt));
			if (!d->pt) {
				rc = -ENOMEM;
				goto fail;
			}
		}
	} else if (!xl_ok(&d->x, d->pool_base, d->pool_size)) {
		ccdma_err("dev_create(%s): the pool at %#llx-%#llx cannot be "
			  "translated (it holds the translation bit, or the offset "
			  "wraps)", d->name, (unsigned long long)base,
			  (unsigned long long)(base + size - 1));
		rc = -EIO;
		goto fail;
	}
	rc = check_mask(d, d->dma_mask, "dma mask");
	if (!rc)
		rc = check_mask(d, d->coherent_mask, "coherent mask");
	if (rc)
		goto fail;
	d->dbg = ccdma_chk_enabled_for_new_device();
	*out = d;
	return 0;
fail:
	if (d->own_pool)
		ccdma_pool_destroy(d->pool);
	ccdma_os_free(d->pt);
	ccdma_mutex_destroy(&d->lock);
	ccdma_os_free(d);
	return rc;
}

int ccdma_dev_destroy(struct ccdma_dev *d)
{
	unsigned leaked = 0;
	uint32_t i;

	if (!d)
		return 0;
	if (d->dbg)
		leaked = ccdma_chk_dev_destroy(d);
	for (i = 0; i < d->nregions; i++)
		ccdma_os_free(d->regions[i].pt);
	if (d->own_pool)
		ccdma_pool_destroy(d->pool);
	ccdma_os_free(d->pt);
	ccdma_mutex_destroy(&d->lock);
	ccdma_os_free(d);
	return leaked ? -EBUSY : 0;
}

/* ---- attached regions ------------------------------------------------- */

void ccdma_dev_set_cutoff(struct ccdma_dev *d,
			  int (*fn)(void *arg, uintptr_t addr, size_t len),
			  void *arg)
{
	d->cutoff = fn;
	d->cutoff_arg = arg;
}

int ccdma_dev_attach_region(struct ccdma_dev *d, const struct ccdma_region *r,
			    ccdma_addr_t *dma)
{
	uintptr_t a;
	struct dev_region *slot = NULL;
	ccdma_addr_t da;
	uint32_t i;
	int rc = 0;

	if (!d || !r || !r->addr || !r->size)
		return -EINVAL;
	a = (uintptr_t)r->addr;
	if (a + r->size - 1 < a || (a & ((1ull << d->page_shift) - 1))) {
		ccdma_err("dev %s: attach of region %p+%zu: not a page-aligned "
			  "range", d->name, r->addr, r->size);
		return -EINVAL;
	}
	ccdma_mutex_lock(&d->lock);
	if (a - d->pool_base < d->pool_size ||
	    d->pool_base - a < r->size) {
		ccdma_err("dev %s: attach of region %p+%zu: overlaps the device's pool",
			  d->name, r->addr, r->size);
		rc = -EINVAL;
		goto out;
	}
	for (i = 0; i < d->nregions; i++) {
		struct dev_region *o = &d->regions[i];

		if (!o->live) {
			if (!slot)
				slot = o;
			continue;
		}
		if (a - o->base < o->size || o->base - a < r->size) {
			ccdma_err("dev %s: attach of region %p+%zu: overlaps an "
				  "attached region", d->name, r->addr, r->size);
			rc = -EINVAL;
			goto out;
		}
	}
	if (!slot) {
		if (d->nregions == CCDMA_DEV_MAX_REGIONS) {
			ccdma_err("dev %s: attach of region %p+%zu: %d regions are "
				  "attached already", d->name, r->addr, r->size,
				  CCDMA_DEV_MAX_REGIONS);
			rc = -ENOSPC;
			goto out;
		}
		slot = &d->regions[d->nregions];
	}
	if (d->iommu) {
		da = d->iova_next;
	} else {
		if (!xl_ok(&d->x, a, r->size)) {
			ccdma_err("dev %s: attach of region %p+%zu: the translation "
				  "cannot carry it", d->name, r->addr, r->size);
			rc = -EIO;
			goto out;
		}
		da = ccdma_xl(&d->x, a);
	}
	if (da + r->size - 1 > d->dma_mask || da + r->size - 1 < da) {
		ccdma_err("dev %s: attach of region %p+%zu: its DMA addresses "
			  "%#llx-%#llx are outside the dma mask %#llx", d->name,
			  r->addr, r->size, (unsigned long long)da,
			  (unsigned long long)(da + r->size - 1),
			  (unsigned long long)d->dma_mask);
		rc = -EIO;
		goto out;
	}
	/* A reused slot's counters are no longer read by anyone. */
	ccdma_os_free(slot->pt);
	slot->pt = NULL;
	if (d->strict) {
		slot->pt = ccdma_os_calloc((r->size >> d->page_shift) + 1,
					   sizeof(*slot->pt));
		if (!slot->pt) {
			rc = -ENOMEM;
			goto out;
		}
	}
	slot->base = a;
	slot->size = r->size;
	slot->fd = r->fd;
	slot->dma = da;
	if (d->iommu)
		d->iova_next += (r->size + (1ull << d->page_shift) - 1) &
				~((1ull << d->page_shift) - 1);
	__atomic_store_n(&slot->live, true, __ATOMIC_RELEASE);
	if (slot == &d->regions[d->nregions])
		__atomic_store_n(&d->nregions, d->nregions + 1, __ATOMIC_RELEASE);
	if (dma)
		*dma = da;
out:
	ccdma_mutex_unlock(&d->lock);
	return rc;
}

int ccdma_dev_detach_region(struct ccdma_dev *d, const struct ccdma_region *r)
{
	uint32_t i;

	if (!d || !r)
		return -EINVAL;
	ccdma_mutex_lock(&d->lock);
	for (i = 0; i < d->nregions; i++) {
		struct dev_region *o = &d->regions[i];

		if (o->live && o->base == (uintptr_t)r->addr && o->size == r->size) {
			__atomic_store_n(&o->live, false, __ATOMIC_RELEASE);
			/* The counters stay until the slot is reused or the
			 * device destroyed; no mapping of the region and no
			 * device access to it may be in flight (see dma.h). */
			ccdma_mutex_unlock(&d->lock);
			return 0;
		}
	}
	ccdma_mutex_unlock(&d->lock);
	ccdma_err("dev %s: detach of region %p: not attached", d->name, r->addr);
	return -EINVAL;
}
