/* SPDX-License-Identifier: MIT */
/*
 * Segment construction under every constraint.  For a confidential device
 * (private memory bounced) and a direct-mode device (private memory used in
 * place), and for private buffers, pool allocations and an attached region
 * (shared: used in place), linear loads at many (offset, length) pairs under
 * alignment, boundary, maxsegsz and their combinations (set on the tag or
 * on the map) give segments that
 *   - start aligned, cross no boundary line, are at most maxsegsz long,
 *     number at most nsegments and, in place, exactly as many as a greedy
 *     cut of the DMA range needs (a bounce no more than from a line: it
 *     crosses no line it need not);
 *   - carry the buffer in order (_ds_va walks it, one contiguous original
 *     range per segment, lengths add up to dm_mapsize == buflen);
 *   - are bounced (_ds_bounce_va != 0) exactly when the memory is private
 *     to a confidential device, misaligned for the tag, or above the tag's
 *     address limit;
 * and the bytes flow: PREWRITE then a device read of the segments gives
 * the buffer; a device write then POSTREAD puts the bytes in the buffer
 * (and not before, for bounced memory); nothing around the buffer changes.
 * Iovec loads mix private and shared pieces with zero-length and adjacent
 * iovecs (a hand-made list with its exact layout, then random lists, also
 * into ALLOCNOW maps).
 */
#include <sys/mman.h>

#include "busdma_segcheck.h"

#define BUFSZ (192u << 10)
#define MAXLEN (80u << 10)
#define NSEGS 4096
#define NOLIMIT (~(uint64_t)0)

enum kind { K_PRIV, K_POOL, K_REGION, K_NKINDS };
static const char *const kind_name[K_NKINDS] = { "private", "pool", "region" };

struct env {
	struct ccdma_dev *d;
	bool conf;
	unsigned char *buf[K_NKINDS];
	struct ccdma_region reg;
	uint64_t base; /* pool bytes in use with nothing loaded */
};

static uint64_t seed = 1;

/* The load's view of the previous (non-empty) piece. */
struct prev {
	bool valid, in_place;
	int kind;
	uintptr_t end;
};

/* Must a piece of kind k at [va, va+len) be bounced?  A piece used in place
 * must start aligned unless it continues the previous in-place piece in
 * the same buffer (it then starts no segment); anything above the address
 * limit is bounced; private memory of a confidential device is always
 * bounced.  -1 for an empty piece (the load skips it). */
static int expect_bounce(const struct env *e, int k, const unsigned char *va,
			 size_t len, const struct bd_limits *lim, struct prev *pv)
{
	uintptr_t a = (uintptr_t)va;
	bool cont, b;

	if (!len)
		return -1;
	cont = pv->valid && pv->in_place && pv->kind == k && pv->end == a;
	b = (k == K_PRIV && e->conf) || a + len - 1 > lim->addr_limit ||
	    ((a % lim->align) && !cont);
	pv->valid = true;
	pv->in_place = !b;
	pv->kind = k;
	pv->end = a + len;
	return b;
}

static void context(const struct env *e, const struct bd_limits *lim,
		    const char *what, int before)
{
	if (test_failures != before && bd_msgs < 60)
		fprintf(stderr, "  ^ %s device, %s, align %llu boundary %llu maxsegsz "
			"%llu addr_limit %#llx\n", e->conf ? "confidential" : "direct",
			what, (unsigned long long)lim->align,
			(unsigned long long)lim->boundary,
			(unsigned long long)lim->maxsegsz,
			(unsigned long long)lim->addr_limit);
}

/* One linear load of buf[k] + off, len bytes. */
static void linear(struct env *e, ccdma_bus_dma_tag_t t, ccdma_bus_dmamap_t m,
		   const struct bd_limits *lim, int k, size_t off, size_t len)
{
	unsigned char *va = e->buf[k] + off;
	size_t glo = off < 32 ? off : 32;
	size_t ghi = BUFSZ - off - len < 32 ? BUFSZ - off - len : 32;
	struct prev pv = { 0 };
	struct bd_piece p = { va, len, 0 };
	int before = test_failures, rc;
	char what[96];
	unsigned want;
	size_t i;

	p.bounce = expect_bounce(e, k, va, len, lim, &pv);
	memset(va - glo, 0xee, glo);
	memset(va + len, 0xee, ghi);
	rc = ccdma_bus_dmamap_load(t, m, va, len, NULL, 0);
	CHECK_EQ(rc, 0);
	if (!rc) {
		if (!bd_check_segs(e->d, m, &p, 1, lim, __LINE__)) {
			/* In place: exactly the greedy cut of its addresses.
			 * Bounced: no worse than a bounce starting on a line
			 * (it crosses no line it need not), and no better than
			 * runs of min(maxsegsz, boundary). */
			want = bd_greedy(p.bounce ? 0 : (uintptr_t)va, len,
					 lim->maxsegsz, lim->boundary);
			if (p.bounce) {
				CHECK(m->dm_nsegs <= (int)want);
				CHECK((uint64_t)m->dm_nsegs >= bd_fewest(len, lim));
			} else {
				CHECK_EQ(m->dm_nsegs, want);
			}
			if (!p.bounce)
				CHECK_EQ(m->dm_segs[0].ds_addr, (uintptr_t)va);
			bd_check_data(e->d, t, m, &p, 1, seed++, __LINE__);
			for (i = 0; i < glo; i++)
				CHECK_EQ(va[-1 - (long)i], 0xee);
			for (i = 0; i < ghi; i++)
				CHECK_EQ(va[len + i], 0xee);
		}
		CHECK_EQ(ccdma_bus_dmamap_unload(t, m), 0);
		CHECK_EQ(m->dm_nsegs, 0);
		CHECK_EQ(m->dm_mapsize, 0);
	}
	CHECK_EQ(bd_in_use(e->d), e->base);
	snprintf(what, sizeof(what), "linear %s buffer + %zu, %zu bytes",
		 kind_name[k], off, len);
	context(e, lim, what, before);
}

/* One iovec load of `n` pieces; exp_nsegs 0: not checked. */
static void iovec(struct env *e, ccdma_bus_dma_tag_t t, ccdma_bus_dmamap_t m,
		  const struct bd_limits *lim, const struct ccdma_iovec *iov,
		  const int *kinds, int n, int exp_nsegs, uint64_t held)
{
	struct bd_piece p[48];
	struct prev pv = { 0 };
	int before = test_failures, i, rc;
	char what[64];

	REQUIRE(n <= 48);
	for (i = 0; i < n; i++) {
		p[i].va = iov[i].iov_base;
		p[i].len = iov[i].iov_len;
		p[i].bounce = expect_bounce(e, kinds[i], p[i].va, p[i].len, lim, &pv);
	}
	rc = ccdma_bus_dmamap_load_iovec(t, m, iov, n, 0);
	CHECK_EQ(rc, 0);
	if (!rc) {
		if (!bd_check_segs(e->d, m, p, n, lim, __LINE__)) {
			if (exp_nsegs)
				CHECK_EQ(m->dm_nsegs, exp_nsegs);
			bd_check_data(e->d, t, m, p, n, seed++, __LINE__);
		}
		CHECK_EQ(ccdma_bus_dmamap_unload(t, m), 0);
		CHECK_EQ(m->dm_nsegs, 0);
	}
	CHECK_EQ(bd_in_use(e->d), e->base + held);
	snprintf(what, sizeof(what), "iovec of %d pieces", n);
	context(e, lim, what, before);
	if (test_failures != before && bd_msgs < 60)
		for (i = 0; i < n; i++)
			fprintf(stderr, "    iov[%d] %s %p+%zu expect %s\n", i,
				kind_name[kinds[i]], iov[i].iov_base, iov[i].iov_len,
				p[i].bounce < 0 ? "-" : p[i].bounce ? "bounced" :
				"in place");
}

/* The hand-made list: private, shared, zero-length and adjacent iovecs. */
static void iovec_fixed(struct env *e, ccdma_bus_dma_tag_t t,
			ccdma_bus_dmamap_t m, const struct bd_limits *lim,
			uint64_t held)
{
	unsigned char *pr = e->buf[K_PRIV], *po = e->buf[K_POOL], *rg = e->buf[K_REGION];
	const struct ccdma_iovec iov[] = {
		{ pr + 0, 100 },      /* private */
		{ po + 0, 1000 },     /* shared */
		{ pr + 5000, 300 },   /* private */
		{ NULL, 0 },          /* empty, no base */
		{ pr + 5300, 700 },   /* continues the private piece */
		{ po + 1000, 500 },   /* after the earlier shared piece only */
		{ po + 9000, 0 },     /* empty, with a base */
		{ po + 1500, 2500 },  /* continues the shared piece */
		{ rg + 64, 4000 },    /* region */
		{ rg + 4064, 3000 },  /* continues it */
		{ pr + 20000, 1 },    /* one private byte */
		{ rg + 100000, 0 },   /* empty at the end */
	};
	static const int kinds[] = { K_PRIV, K_POOL, K_PRIV, K_PRIV, K_PRIV, K_POOL,
				     K_POOL, K_POOL, K_REGION, K_REGION, K_PRIV,
				     K_REGION };
	int n = (int)(sizeof(iov) / sizeof(iov[0]));
	/* Without limits: [100] [1000] [300+700] [500+2500] [4000+3000] [1]. */
	bool plain = lim->align == 1 && !lim->boundary && lim->maxsegsz >= 65536 &&
		     lim->addr_limit == NOLIMIT;

	iovec(e, t, m, lim, iov, kinds, n, plain ? 6 : 0, held);
	if (plain && !e->conf) {
		/* Everything in place: check the exact layout once. */
		REQUIRE(ccdma_bus_dmamap_load_iovec(t, m, iov, n, 0) == 0);
		CHECK_EQ(m->dm_nsegs, 6);
		CHECK_EQ(m->dm_segs[2].ds_addr, (uintptr_t)(pr + 5000));
		CHECK_EQ(m->dm_segs[2].ds_len, 1000);
		CHECK_EQ(m->dm_segs[3].ds_addr, (uintptr_t)(po + 1000));
		CHECK_EQ(m->dm_segs[3].ds_len, 3000);
		CHECK_EQ(m->dm_segs[4].ds_addr, (uintptr_t)(rg + 64));
		CHECK_EQ(m->dm_segs[4].ds_len, 7000);
		CHECK_EQ(ccdma_bus_dmamap_unload(t, m), 0);
	} else if (plain) {
		REQUIRE(ccdma_bus_dmamap_load_iovec(t, m, iov, n, 0) == 0);
		CHECK_EQ(m->dm_nsegs, 6);
		CHECK(m->dm_segs[0]._ds_bounce_va != 0);
		CHECK_EQ(m->dm_segs[1].ds_addr, (uintptr_t)po);
		CHECK_EQ(m->dm_segs[1]._ds_bounce_va, 0);
		CHECK_EQ(m->dm_segs[2]._ds_va, (uintptr_t)(pr + 5000));
		CHECK_EQ(m->dm_segs[2].ds_len, 1000);
		CHECK(m->dm_segs[2]._ds_bounce_va != 0);
		CHECK_EQ(m->dm_segs[3].ds_addr, (uintptr_t)(po + 1000));
		CHECK_EQ(m->dm_segs[3].ds_len, 3000);
		CHECK_EQ(m->dm_segs[4].ds_len, 7000);
		CHECK(m->dm_segs[5]._ds_bounce_va != 0);
		CHECK_EQ(ccdma_bus_dmamap_unload(t, m), 0);
	}
}

/* Random iovec lists: pieces taken in order from each buffer, adjacent or
 * with a gap, some empty; every fourth list is long (up to 48 iovecs). */
static void iovec_random(struct env *e, ccdma_bus_dma_tag_t t,
			 ccdma_bus_dmamap_t m, const struct bd_limits *lim,
			 int rounds, uint64_t held)
{
	static uint64_t rs = 0x1234567;
	struct ccdma_iovec iov[48];
	int kinds[48], r, i, n;

	for (r = 0; r < rounds; r++) {
		size_t cur[K_NKINDS], total = 0;

		for (i = 0; i < K_NKINDS; i++)
			cur[i] = xorshift(&rs) % 8192;
		n = 1 + (int)(xorshift(&rs) % (r % 4 == 3 ? 48 : 12));
		for (i = 0; i < n; i++) {
			int k = (int)(xorshift(&rs) % K_NKINDS);
			uint64_t x = xorshift(&rs);
			size_t len, gap = x % 3 == 0 ? 0 : (size_t)(x >> 8) % 5000;

			if (x % 10 == 1)
				len = 0;
			else if (x % 2)
				len = 1 + (size_t)(x >> 24) % 300;
			else
				len = 1 + (size_t)(x >> 24) % 12000;
			if (cur[k] + gap + len > BUFSZ || total + len > MAXLEN)
				len = 0;
			if (!len && x % 4 == 0) {
				iov[i].iov_base = NULL;
			} else {
				cur[k] += len ? gap : 0;
				iov[i].iov_base = e->buf[k] + cur[k];
			}
			iov[i].iov_len = len;
			kinds[i] = k;
			cur[k] += len;
			total += len;
		}
		if (!total) {
			iov[0].iov_base = e->buf[K_PRIV];
			iov[0].iov_len = 10;
			kinds[0] = K_PRIV;
		}
		iovec(e, t, m, lim, iov, kinds, n, 0, held);
	}
}

struct combo {
	uint64_t align, boundary, maxsegsz;
	int at_map; /* boundary and maxsegsz given to the map, not the tag */
};

static const struct combo combos[] = {
	{ 1, 0, 65536, 0 },     /* the device's defaults */
	{ 1, 4096, 65536, 0 },
	{ 1, 0, 4096, 0 },
	{ 1, 1024, 1000, 1 },
	{ 2, 0, 3000, 1 },
	{ 4, 256, 256, 0 },
	{ 8, 1024, 1000, 0 },
	{ 16, 65536, 65520, 0 },
	{ 64, 0, 65536, 0 },
	{ 64, 4096, 4096, 1 },
	{ 512, 4096, 1536, 0 },
	{ 4096, 65536, 8192, 0 },
};

static const size_t offs[] = { 0, 1, 3, 64, 100, 511, 4095, 4096 + 64 };
static const size_t lens[] = { 1, 63, 64, 100, 512, 1000, 1024, 4095, 4097,
			       10000, 33000, 70000 };

static void run_combo(struct env *e, ccdma_bus_dma_tag_t root, const struct combo *c)
{
	struct ccdma_bus_dma_tag_config tc;
	struct bd_limits lim = { c->align, c->boundary, c->maxsegsz, NSEGS, NOLIMIT };
	ccdma_bus_dma_tag_t t;
	ccdma_bus_dmamap_t m, ma;
	uint64_t worst, resv;
	size_t oi, li;
	int k;

	memset(&tc, 0, sizeof(tc));
	tc.alignment = c->align;
	if (!c->at_map) {
		tc.boundary = c->boundary;
		tc.maxsegsz = c->maxsegsz;
	}
	REQUIRE(ccdma_bus_dma_tag_create(NULL, root, &tc, &t) == 0);
	REQUIRE(ccdma_bus_dmamap_create(t, MAXLEN, NSEGS,
					c->at_map ? c->maxsegsz : 0,
					c->at_map ? c->boundary : 0, 0, &m) == 0);
	for (k = 0; k < K_NKINDS; k++)
		for (oi = 0; oi < sizeof(offs) / sizeof(offs[0]); oi++)
			for (li = 0; li < sizeof(lens) / sizeof(lens[0]); li++)
				linear(e, t, m, &lim, k, offs[oi], lens[li]);
	iovec_fixed(e, t, m, &lim, 0);
	iovec_random(e, t, m, &lim, 150, 0);
	CHECK_EQ(ccdma_bus_dmamap_destroy(t, m), 0);

	/* The same into an ALLOCNOW map (the bounce is its reservation),
	 * when the reservation is of a sensible size. */
	worst = MAXLEN + (uint64_t)(512 - 1) * (c->align - 1);
	if (worst <= (512u << 10)) {
		REQUIRE(ccdma_bus_dmamap_create(t, MAXLEN, 512,
						c->at_map ? c->maxsegsz : 0,
						c->at_map ? c->boundary : 0,
						CCDMA_BUS_DMA_ALLOCNOW, &ma) == 0);
		resv = bd_in_use(e->d) - e->base;
		CHECK(resv >= MAXLEN);
		lim.nsegments = 512;
		iovec_fixed(e, t, ma, &lim, resv);
		iovec_random(e, t, ma, &lim, 100, resv);
		for (k = 0; k < K_NKINDS; k++)
			for (li = 0; li < sizeof(lens) / sizeof(lens[0]); li += 3) {
				e->base += resv;
				linear(e, t, ma, &lim, k, 100, lens[li]);
				e->base -= resv;
			}
		CHECK_EQ(ccdma_bus_dmamap_destroy(t, ma), 0);
		CHECK_EQ(bd_in_use(e->d), e->base);
	}
	CHECK_EQ(ccdma_bus_dma_tag_destroy(t), 0);
}

/* A tag whose address limit is the top of the device's pool: memory the
 * device reaches above it is bounced, below it used in place; no segment
 * lies above it.  `high` is private memory placed above the pool. */
static unsigned run_limit(struct env *e, ccdma_bus_dma_tag_t root,
			  unsigned char *high)
{
	struct ccdma_bus_dma_tag_config tc;
	struct bd_limits lim = { 1, 0, 65536, NSEGS, 0 };
	ccdma_bus_dma_tag_t t;
	ccdma_bus_dmamap_t m;
	uint64_t first, last;
	unsigned char *keep = e->buf[K_PRIV];
	unsigned above = 0;
	size_t li;
	int k;

	bd_pool_range(e->d, &first, &last);
	memset(&tc, 0, sizeof(tc));
	tc.addr_limit = last;
	lim.addr_limit = last;
	REQUIRE(ccdma_bus_dma_tag_create(NULL, root, &tc, &t) == 0);
	REQUIRE(ccdma_bus_dmamap_create(t, MAXLEN, NSEGS, 0, 0, 0, &m) == 0);
	for (k = 0; k < K_NKINDS; k++) {
		above += (uintptr_t)e->buf[k] + BUFSZ - 1 > last;
		for (li = 0; li < sizeof(lens) / sizeof(lens[0]); li += 2)
			linear(e, t, m, &lim, k, 64, lens[li]);
	}
	if (high) {
		e->buf[K_PRIV] = high;
		above += (uintptr_t)high > last;
		for (li = 0; li < sizeof(lens) / sizeof(lens[0]); li += 2)
			linear(e, t, m, &lim, K_PRIV, 64, lens[li]);
		e->buf[K_PRIV] = keep;
	}
	iovec_fixed(e, t, m, &lim, 0);
	CHECK_EQ(ccdma_bus_dmamap_destroy(t, m), 0);
	CHECK_EQ(ccdma_bus_dma_tag_destroy(t), 0);
	return above;
}

/* Two attached regions that happen to be neighbours in the address space
 * (mmap places consecutive mappings next to each other) are still two
 * regions: a buffer running from one into the other is refused (it is not
 * inside one region), and an iovec with a piece at the end of one and a
 * piece at the start of the other must not become one segment the device
 * cannot reach -- every segment must be usable by the device. */
static void across_regions(struct env *e, ccdma_bus_dma_tag_t root)
{
	struct bd_limits lim = { 1, 0, 65536, 8, NOLIMIT };
	struct ccdma_region r[16], *lo = NULL, *hi = NULL;
	struct ccdma_iovec iov[2];
	struct bd_piece p[2];
	ccdma_bus_dmamap_t m;
	int before = test_failures, n, i, j;

	/* Make regions until two are neighbours. */
	for (n = 0; n < 16 && !lo; n++) {
		REQUIRE(ccdma_region_create(65536, "segs-nb", &r[n]) == 0);
		for (i = 0; i < n && !lo; i++) {
			if ((unsigned char *)r[i].addr + r[i].size == r[n].addr) {
				lo = &r[i];
				hi = &r[n];
			} else if ((unsigned char *)r[n].addr + r[n].size == r[i].addr) {
				lo = &r[n];
				hi = &r[i];
			}
		}
	}
	if (!lo) {
		fprintf(stderr, "note: no two of %d regions are neighbours; the case "
			"is checked on the last two, apart\n", n);
		lo = &r[n - 2];
		hi = &r[n - 1];
	}
	REQUIRE(ccdma_dev_attach_region(e->d, lo, NULL) == 0);
	REQUIRE(ccdma_dev_attach_region(e->d, hi, NULL) == 0);
	REQUIRE(ccdma_bus_dmamap_create(root, 65536, 8, 0, 0, 0, &m) == 0);
	if ((unsigned char *)lo->addr + lo->size == (unsigned char *)hi->addr) {
		bd_log_catch();
		CHECK_EQ(ccdma_bus_dmamap_load(root, m, (unsigned char *)hi->addr - 100,
					       200, NULL, 0), EINVAL);
		CHECK_EQ(bd_log.errors, 1);
		bd_log_release();
	}
	iov[0] = (struct ccdma_iovec){ (unsigned char *)lo->addr + lo->size - 100, 100 };
	iov[1] = (struct ccdma_iovec){ hi->addr, 100 };
	p[0] = (struct bd_piece){ iov[0].iov_base, 100, 0 };
	p[1] = (struct bd_piece){ iov[1].iov_base, 100, 0 };
	CHECK_EQ(ccdma_bus_dmamap_load_iovec(root, m, iov, 2, 0), 0);
	if (m->dm_nsegs) {
		bd_check_segs(e->d, m, p, 2, &lim, __LINE__);
		bd_check_data(e->d, root, m, p, 2, seed++, __LINE__);
		CHECK_EQ(ccdma_bus_dmamap_unload(root, m), 0);
	}
	if (test_failures != before)
		fprintf(stderr, "  ^ %s device: iovec of the last 100 bytes of region "
			"%p+%zu and the first 100 of region %p\n",
			e->conf ? "confidential" : "direct", lo->addr, lo->size,
			hi->addr);
	CHECK_EQ(ccdma_bus_dmamap_destroy(root, m), 0);
	CHECK_EQ(ccdma_dev_detach_region(e->d, lo), 0);
	CHECK_EQ(ccdma_dev_detach_region(e->d, hi), 0);
	for (j = 0; j < n; j++)
		ccdma_region_destroy(&r[j]);
}

/* Private memory mapped just above the device's pool (NULL if the system
 * will not place it there). */
static unsigned char *map_above_pool(struct ccdma_dev *d)
{
	uint64_t first, last, want;
	void *p;

	bd_pool_range(d, &first, &last);
	want = (last + (64u << 20)) & ~(uint64_t)((2u << 20) - 1);
	p = mmap((void *)(uintptr_t)want, BUFSZ, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	if ((uintptr_t)p <= last) {
		munmap(p, BUFSZ);
		return NULL;
	}
	return p;
}

static void run_mode(int mode)
{
	struct env e;
	ccdma_bus_dma_tag_t root;
	struct ccdma_bus_dma_tag_config rc;
	unsigned char *high;
	ccdma_addr_t rdma;
	unsigned above;
	size_t ci;

	memset(&e, 0, sizeof(e));
	e.conf = mode == CCDMA_MODE_CONFIDENTIAL;
	e.d = bd_dev(e.conf ? "segs-conf" : "segs-direct", NULL, mode);
	e.buf[K_PRIV] = aligned_alloc(65536, BUFSZ);
	REQUIRE(e.buf[K_PRIV]);
	REQUIRE(ccdma_pool_alloc(ccdma_dev_pool(e.d), BUFSZ, 0,
				 (void **)&e.buf[K_POOL]) == 0);
	REQUIRE(ccdma_region_create(BUFSZ, "segs", &e.reg) == 0);
	REQUIRE(ccdma_dev_attach_region(e.d, &e.reg, &rdma) == 0);
	CHECK_EQ(rdma, (uintptr_t)e.reg.addr);
	e.buf[K_REGION] = e.reg.addr;
	/* The shared buffers start page aligned: every alignment above can
	 * be met in place. */
	CHECK_EQ((uintptr_t)e.buf[K_POOL] % 4096, 0);
	CHECK_EQ((uintptr_t)e.buf[K_REGION] % 4096, 0);
	e.base = bd_in_use(e.d);

	REQUIRE(ccdma_bus_dma_tag_create(e.d, NULL, NULL, &root) == 0);
	REQUIRE(ccdma_bus_dma_tag_get(root, &rc) == 0);
	CHECK_EQ(rc.alignment, 1);
	CHECK_EQ(rc.boundary, 0);
	CHECK_EQ(rc.maxsegsz, 65536);
	for (ci = 0; ci < sizeof(combos) / sizeof(combos[0]); ci++)
		run_combo(&e, root, &combos[ci]);

	across_regions(&e, root);
	high = map_above_pool(e.d);
	above = run_limit(&e, root, high);
	/* Something was above the limit, so bouncing for it was exercised
	 * (unless the system refused to map memory above the pool). */
	if (high)
		CHECK(above > 0);
	else
		fprintf(stderr, "note: no memory above the pool; the address limit "
			"was checked only on what lies where it lies\n");

	CHECK_EQ(ccdma_bus_dma_tag_destroy(root), 0);
	CHECK_EQ(bd_in_use(e.d), e.base);
	if (high)
		munmap(high, BUFSZ);
	CHECK_EQ(ccdma_pool_free(ccdma_dev_pool(e.d), e.buf[K_POOL], SIZE_MAX), 0);
	CHECK_EQ(ccdma_dev_detach_region(e.d, &e.reg), 0);
	CHECK_EQ(ccdma_dev_destroy(e.d), 0);
	ccdma_region_destroy(&e.reg);
	free(e.buf[K_PRIV]);
}

int main(void)
{
	test_init();
	run_mode(CCDMA_MODE_CONFIDENTIAL);
	run_mode(CCDMA_MODE_DIRECT);
	return test_done("busdma_segs");
}
