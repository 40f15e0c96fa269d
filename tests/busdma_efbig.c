/* SPDX-License-Identifier: MIT */
/*
 * EFBIG: a buffer that cannot be described in the map's nsegments segments
 * is refused with EFBIG (positive), and the map is left unloaded (dm_nsegs
 * and dm_mapsize 0, sync and unload refuse it) and usable (a later load
 * that fits succeeds and carries the data), with no bounce memory held
 * (the pool's bytes in use are back where they were; an ALLOCNOW map keeps
 * just its reservation).  Cases: maxsegsz 512 with 3 segments for 2048
 * bytes, bounced and in place; a boundary that splits an in-place buffer
 * one segment too many while the same bytes bounced fit (the bounce is
 * placed to cross no line it need not, also when two bounced pieces
 * share one bounce area); iovecs with more non-contiguous
 * pieces than segments (private, shared, mixed) while adjacent pieces do
 * not count; raw device-memory segments; ALLOCNOW maps; NOWAIT.
 */
#include "busdma_segcheck.h"

#define POOLBUF (64u << 10)

static struct ccdma_dev *d;
static unsigned char *priv, *sh;
static uint64_t base;
static uint64_t seed = 100;

/* The map refused a load with EFBIG: unloaded and nothing held. */
#define REFUSED(t, m, held) refused(t, m, held, __LINE__)
static void refused(ccdma_bus_dma_tag_t t, ccdma_bus_dmamap_t m, uint64_t held,
		    int line)
{
	int before = test_failures;

	CHECK_EQ(m->dm_nsegs, 0);
	CHECK_EQ(m->dm_mapsize, 0);
	CHECK_EQ(bd_in_use(d), base + held);
	bd_log_catch();
	CHECK_EQ(ccdma_bus_dmamap_sync(t, m, 0, 1, CCDMA_BUS_DMASYNC_PREWRITE), EINVAL);
	CHECK_EQ(ccdma_bus_dmamap_unload(t, m), EINVAL);
	bd_log_release();
	if (test_failures != before)
		fprintf(stderr, "  ^ after the EFBIG at line %d\n", line);
}

/* Load `n` pieces (as one linear buffer when n == 1 and linear), check and
 * move the data, unload.  Returns dm_nsegs (0 when the load failed). */
static int load_ok(ccdma_bus_dma_tag_t t, ccdma_bus_dmamap_t m,
		   const struct bd_limits *lim, struct bd_piece *p, int n,
		   bool linear, uint64_t held, int line)
{
	struct ccdma_iovec iov[16];
	int rc, i, ns;

	for (i = 0; i < n; i++) {
		iov[i].iov_base = p[i].va;
		iov[i].iov_len = p[i].len;
	}
	rc = linear ? ccdma_bus_dmamap_load(t, m, p[0].va, p[0].len, NULL, 0) :
		      ccdma_bus_dmamap_load_iovec(t, m, iov, n, 0);
	if (rc) {
		fprintf(stderr, "line %d: load after EFBIG: %d\n", line, rc);
		test_failures++;
		return 0;
	}
	bd_check_segs(d, m, p, n, lim, line);
	bd_check_data(d, t, m, p, n, seed++, line);
	ns = m->dm_nsegs;
	CHECK_EQ(ccdma_bus_dmamap_unload(t, m), 0);
	CHECK_EQ(bd_in_use(d), base + held);
	return ns;
}

/* maxsegsz 512, 3 segments: 2048 bytes do not fit, 1536 do. */
static void maxsegsz_case(ccdma_bus_dma_tag_t root, int flags)
{
	ccdma_bus_dma_tag_t t = bd_tag(root, 1, 0, 512);
	struct bd_limits lim = { 1, 0, 512, 3, ~(uint64_t)0 };
	struct bd_piece p;
	ccdma_bus_dmamap_t m;
	uint64_t held = 0;

	REQUIRE(ccdma_bus_dmamap_create(t, 8192, 3, 0, 0, flags, &m) == 0);
	if (flags & CCDMA_BUS_DMA_ALLOCNOW) {
		held = bd_in_use(d) - base;
		CHECK(held >= 8192);
	}
	/* Bounced. */
	CHECK_EQ(ccdma_bus_dmamap_load(t, m, priv, 2048, NULL, flags & 1), EFBIG);
	REFUSED(t, m, held);
	CHECK_EQ(ccdma_bus_dmamap_load(t, m, priv + 1, 1537, NULL, flags & 1), EFBIG);
	REFUSED(t, m, held);
	p = (struct bd_piece){ priv, 1536, 1 };
	CHECK_EQ(load_ok(t, m, &lim, &p, 1, true, held, __LINE__), 3);
	/* In place. */
	CHECK_EQ(ccdma_bus_dmamap_load(t, m, sh, 2048, NULL, flags & 1), EFBIG);
	REFUSED(t, m, held);
	CHECK_EQ(ccdma_bus_dmamap_load(t, m, sh + 100, 1537, NULL, flags & 1), EFBIG);
	REFUSED(t, m, held);
	p = (struct bd_piece){ sh + 100, 1536, 0 };
	CHECK_EQ(load_ok(t, m, &lim, &p, 1, true, held, __LINE__), 3);
	/* The same map again and again: no drift. */
	CHECK_EQ(ccdma_bus_dmamap_load(t, m, priv, 4096, NULL, flags & 1), EFBIG);
	REFUSED(t, m, held);
	p = (struct bd_piece){ priv + 7, 1000, 1 };
	CHECK_EQ(load_ok(t, m, &lim, &p, 1, true, held, __LINE__), 2);
	CHECK_EQ(ccdma_bus_dmamap_destroy(t, m), 0);
	CHECK_EQ(bd_in_use(d), base);
	CHECK_EQ(ccdma_bus_dma_tag_destroy(t), 0);
}

/* Boundary 1024, 2 segments. */
static void boundary_case(ccdma_bus_dma_tag_t root, int flags)
{
	ccdma_bus_dma_tag_t t = bd_tag(root, 1, 1024, 0);
	struct bd_limits lim = { 1, 1024, 65536, 2, ~(uint64_t)0 };
	struct bd_piece p;
	ccdma_bus_dmamap_t m;
	uint64_t held = 0;

	REQUIRE(ccdma_bus_dmamap_create(t, 8192, 2, 0, 0, flags, &m) == 0);
	if (flags & CCDMA_BUS_DMA_ALLOCNOW)
		held = bd_in_use(d) - base;
	/* In place from a line: 2048 bytes are two segments. */
	p = (struct bd_piece){ sh, 2048, 0 };
	CHECK_EQ(load_ok(t, m, &lim, &p, 1, true, held, __LINE__), 2);
	/* From the middle of a line's span: three, one too many. */
	CHECK_EQ(ccdma_bus_dmamap_load(t, m, sh + 512, 2048, NULL, flags & 1), EFBIG);
	REFUSED(t, m, held);
	/* 1536 from the middle: 512 + 1024. */
	p = (struct bd_piece){ sh + 512, 1536, 0 };
	CHECK_EQ(load_ok(t, m, &lim, &p, 1, true, held, __LINE__), 2);
	/* Two bytes across a line with a one-segment map: EFBIG. */
	{
		ccdma_bus_dmamap_t m1;

		REQUIRE(ccdma_bus_dmamap_create(t, 8192, 1, 0, 0, flags, &m1) == 0);
		held = bd_in_use(d) - base;
		CHECK_EQ(ccdma_bus_dmamap_load(t, m1, sh + 1023, 2, NULL, 0), EFBIG);
		REFUSED(t, m1, held);
		lim.nsegments = 1;
		p = (struct bd_piece){ sh + 1022, 2, 0 };
		CHECK_EQ(load_ok(t, m1, &lim, &p, 1, true, held, __LINE__), 1);
		/* Bounced, the same two bytes need one segment. */
		p = (struct bd_piece){ priv + 1023, 2, 1 };
		CHECK_EQ(load_ok(t, m1, &lim, &p, 1, true, held, __LINE__), 1);
		/* 1024 bounced bytes fit one segment; 1025 do not. */
		p = (struct bd_piece){ priv + 1, 1024, 1 };
		CHECK_EQ(load_ok(t, m1, &lim, &p, 1, true, held, __LINE__), 1);
		CHECK_EQ(ccdma_bus_dmamap_load(t, m1, priv + 1, 1025, NULL, 0), EFBIG);
		REFUSED(t, m1, held);
		CHECK_EQ(ccdma_bus_dmamap_destroy(t, m1), 0);
		lim.nsegments = 2;
		held = (flags & CCDMA_BUS_DMA_ALLOCNOW) ? bd_in_use(d) - base : 0;
	}
	/* Bounced: 2048 bytes fit two segments (the bounce starts on a
	 * line), 2049 do not. */
	p = (struct bd_piece){ priv + 3, 2048, 1 };
	CHECK_EQ(load_ok(t, m, &lim, &p, 1, true, held, __LINE__), 2);
	CHECK_EQ(ccdma_bus_dmamap_load(t, m, priv + 3, 2049, NULL, flags & 1), EFBIG);
	REFUSED(t, m, held);
	/* Two bounced pieces of 600 bytes fit two segments: each fits a
	 * 1024-byte span, and the library places bounces (it put the
	 * 2048-byte one on a line above).  Laying the second right after
	 * the first (600..1200) would cross 1024 and need a third. */
	{
		struct ccdma_iovec iov[2] = { { priv, 600 }, { priv + 2000, 600 } };
		struct bd_piece pp[2] = { { priv, 600, 1 }, { priv + 2000, 600, 1 } };
		int rc = ccdma_bus_dmamap_load_iovec(t, m, iov, 2, flags & 1);

		if (rc)
			fprintf(stderr, "two 600-byte private pieces, boundary 1024, 2 "
				"segments (flags %#x): load gives %d, expected 0\n",
				(unsigned)flags, rc);
		CHECK_EQ(rc, 0);
		if (!rc) {
			CHECK_EQ(m->dm_nsegs, 2);
			bd_check_segs(d, m, pp, 2, &lim, __LINE__);
			CHECK_EQ(ccdma_bus_dmamap_unload(t, m), 0);
		} else {
			REFUSED(t, m, held);
		}
	}
	CHECK_EQ(ccdma_bus_dmamap_destroy(t, m), 0);
	CHECK_EQ(bd_in_use(d), base);
	CHECK_EQ(ccdma_bus_dma_tag_destroy(t), 0);
}

/* Iovecs: pieces that are not contiguous each need a segment. */
static void iovec_case(ccdma_bus_dma_tag_t root, int flags)
{
	ccdma_bus_dma_tag_t t = bd_tag(root, 1, 0, 0);
	struct bd_limits lim = { 1, 0, 65536, 4, ~(uint64_t)0 };
	struct ccdma_iovec iov[8];
	struct bd_piece p[8];
	ccdma_bus_dmamap_t m;
	uint64_t held = 0;
	int i;

	REQUIRE(ccdma_bus_dmamap_create(t, 16384, 4, 0, 0, flags, &m) == 0);
	if (flags & CCDMA_BUS_DMA_ALLOCNOW)
		held = bd_in_use(d) - base;
	/* Five scattered private pieces (each its own original range). */
	for (i = 0; i < 5; i++) {
		iov[i].iov_base = priv + 1000 * i;
		iov[i].iov_len = 100;
		p[i] = (struct bd_piece){ priv + 1000 * i, 100, 1 };
	}
	CHECK_EQ(ccdma_bus_dmamap_load_iovec(t, m, iov, 5, flags & 1), EFBIG);
	REFUSED(t, m, held);
	CHECK_EQ(load_ok(t, m, &lim, p, 4, false, held, __LINE__), 4);
	/* Five scattered shared pieces. */
	for (i = 0; i < 5; i++) {
		iov[i].iov_base = sh + 1000 * i;
		iov[i].iov_len = 100;
		p[i] = (struct bd_piece){ sh + 1000 * i, 100, 0 };
	}
	CHECK_EQ(ccdma_bus_dmamap_load_iovec(t, m, iov, 5, flags & 1), EFBIG);
	REFUSED(t, m, held);
	CHECK_EQ(load_ok(t, m, &lim, p, 4, false, held, __LINE__), 4);
	/* Mixed: private, shared, private, shared, private. */
	for (i = 0; i < 5; i++) {
		unsigned char *b = i % 2 ? sh : priv;

		iov[i].iov_base = b + 2000 * i;
		iov[i].iov_len = 300;
		p[i] = (struct bd_piece){ b + 2000 * i, 300, !(i % 2) };
	}
	CHECK_EQ(ccdma_bus_dmamap_load_iovec(t, m, iov, 5, flags & 1), EFBIG);
	REFUSED(t, m, held);
	CHECK_EQ(load_ok(t, m, &lim, p, 4, false, held, __LINE__), 4);
	/* Eight adjacent pieces (some empty, with or without a base between
	 * them) are one original range: one segment. */
	{
		size_t off = 0;

		for (i = 0; i < 8; i++) {
			size_t len = i % 3 == 2 ? 0 : 500;

			iov[i].iov_base = len || i == 5 ? priv + off : NULL;
			iov[i].iov_len = len;
			p[i] = (struct bd_piece){ priv + off, len, 1 };
			off += len;
		}
	}
	lim.nsegments = 1;
	{
		ccdma_bus_dmamap_t m1;
		uint64_t h1;

		REQUIRE(ccdma_bus_dmamap_create(t, 16384, 1, 0, 0, flags, &m1) == 0);
		h1 = bd_in_use(d) - base;
		CHECK_EQ(load_ok(t, m1, &lim, p, 8, false, h1, __LINE__), 1);
		/* The same with the shared buffer, in place. */
		for (i = 0; i < 8; i++) {
			iov[i].iov_base = iov[i].iov_base ? sh + (p[i].va - priv) : NULL;
			p[i].va = sh + (p[i].va - priv);
			p[i].bounce = 0;
		}
		CHECK_EQ(load_ok(t, m1, &lim, p, 8, false, h1, __LINE__), 1);
		/* One gap: two ranges, one too many. */
		iov[4].iov_base = (unsigned char *)iov[4].iov_base + 1;
		CHECK_EQ(ccdma_bus_dmamap_load_iovec(t, m1, iov, 8, flags & 1), EFBIG);
		REFUSED(t, m1, h1);
		CHECK_EQ(ccdma_bus_dmamap_destroy(t, m1), 0);
	}
	CHECK_EQ(ccdma_bus_dmamap_destroy(t, m), 0);
	CHECK_EQ(bd_in_use(d), base);
	CHECK_EQ(ccdma_bus_dma_tag_destroy(t), 0);
}

/* Raw device-memory segments: five apart do not fit four. */
static void raw_case(ccdma_bus_dma_tag_t root)
{
	ccdma_bus_dma_tag_t t = bd_tag(root, 64, 0, 0);
	ccdma_bus_dma_segment_t segs[5];
	ccdma_bus_dmamap_t m;
	struct ccdma_pool_stats st;
	int i;

	REQUIRE(ccdma_bus_dmamap_create(t, 65536, 4, 0, 0, 0, &m) == 0);
	memset(segs, 0, sizeof(segs));
	for (i = 0; i < 5; i++) {
		segs[i].ds_addr = 0x7000000000ull + 8192 * (uint64_t)i;
		segs[i].ds_len = 4096;
	}
	CHECK_EQ(ccdma_bus_dmamap_load_raw(t, m, segs, 5, 5 * 4096, 0), EFBIG);
	REFUSED(t, m, 0);
	/* The first four fit; the size cuts off the fifth. */
	CHECK_EQ(ccdma_bus_dmamap_load_raw(t, m, segs, 5, 4 * 4096, 0), 0);
	CHECK_EQ(m->dm_nsegs, 4);
	for (i = 0; i < m->dm_nsegs; i++) {
		CHECK_EQ(m->dm_segs[i].ds_addr, segs[i].ds_addr);
		CHECK_EQ(m->dm_segs[i].ds_len, 4096);
		CHECK_EQ(m->dm_segs[i]._ds_bounce_va, 0);
	}
	CHECK_EQ(ccdma_bus_dmamap_unload(t, m), 0);
	/* Contiguous device memory merges: five 4 KiB pieces, one segment. */
	for (i = 0; i < 5; i++)
		segs[i].ds_addr = 0x7000000000ull + 4096 * (uint64_t)i;
	CHECK_EQ(ccdma_bus_dmamap_load_raw(t, m, segs, 5, 5 * 4096, 0), 0);
	CHECK_EQ(m->dm_nsegs, 1);
	CHECK_EQ(m->dm_segs[0].ds_len, 5 * 4096);
	CHECK_EQ(ccdma_bus_dmamap_unload(t, m), 0);
	REQUIRE(ccdma_pool_get_stats(ccdma_dev_pool(d), &st) == 0);
	CHECK_EQ(st.in_use_bytes, base);
	CHECK_EQ(ccdma_bus_dmamap_destroy(t, m), 0);
	CHECK_EQ(ccdma_bus_dma_tag_destroy(t), 0);
}

/* Many EFBIG loads in a row hold nothing and change no allocation count
 * beyond what they give back. */
static void repeat_case(ccdma_bus_dma_tag_t root)
{
	ccdma_bus_dma_tag_t t = bd_tag(root, 8, 0, 1000);
	struct ccdma_pool_stats a, b;
	ccdma_bus_dmamap_t m;
	int i;

	REQUIRE(ccdma_bus_dmamap_create(t, 65536, 8, 0, 0, 0, &m) == 0);
	REQUIRE(ccdma_pool_get_stats(ccdma_dev_pool(d), &a) == 0);
	for (i = 0; i < 1000; i++)
		CHECK_EQ(ccdma_bus_dmamap_load(t, m, priv + (i % 64), 8001 + i,
					       NULL, i & 1), EFBIG);
	REQUIRE(ccdma_pool_get_stats(ccdma_dev_pool(d), &b) == 0);
	CHECK_EQ(b.in_use_bytes, a.in_use_bytes);
	CHECK_EQ(b.allocs - a.allocs, b.frees - a.frees);
	CHECK_EQ(m->dm_nsegs, 0);
	CHECK_EQ(ccdma_bus_dmamap_load(t, m, priv, 8000, NULL, 0), 0);
	CHECK_EQ(m->dm_nsegs, 8);
	CHECK_EQ(ccdma_bus_dmamap_unload(t, m), 0);
	CHECK_EQ(ccdma_bus_dmamap_destroy(t, m), 0);
	CHECK_EQ(ccdma_bus_dma_tag_destroy(t), 0);
}

int main(void)
{
	ccdma_bus_dma_tag_t root;
	static const int flags[] = { 0, CCDMA_BUS_DMA_NOWAIT, CCDMA_BUS_DMA_ALLOCNOW };
	unsigned i;

	test_init();
	d = bd_dev("efbig", NULL, CCDMA_MODE_CONFIDENTIAL);
	priv = aligned_alloc(65536, POOLBUF);
	REQUIRE(priv);
	REQUIRE(ccdma_pool_alloc(ccdma_dev_pool(d), POOLBUF, 0, (void **)&sh) == 0);
	REQUIRE((uintptr_t)sh % 4096 == 0);
	base = bd_in_use(d);
	REQUIRE(ccdma_bus_dma_tag_create(d, NULL, NULL, &root) == 0);

	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		maxsegsz_case(root, flags[i]);
		boundary_case(root, flags[i]);
		iovec_case(root, flags[i]);
	}
	raw_case(root);
	repeat_case(root);

	/* EFBIG says what went wrong (at debug level: drivers meet it
	 * routinely and defragment). */
	{
		ccdma_bus_dma_tag_t t = bd_tag(root, 1, 0, 512);
		ccdma_bus_dmamap_t m;

		REQUIRE(ccdma_bus_dmamap_create(t, 8192, 1, 0, 0, 0, &m) == 0);
		bd_log_catch();
		ccdma_log_set_level(CCDMA_LOG_DEBUG);
		CHECK_EQ(ccdma_bus_dmamap_load(t, m, priv, 513, NULL, 0), EFBIG);
		ccdma_log_set_level(CCDMA_LOG_WARN);
		CHECK(bd_log.errors + bd_log.others >= 1);
		CHECK(strstr(bd_log.last, "segments") != NULL);
		bd_log_release();
		CHECK_EQ(ccdma_bus_dmamap_destroy(t, m), 0);
		CHECK_EQ(ccdma_bus_dma_tag_destroy(t), 0);
	}

	CHECK_EQ(ccdma_bus_dma_tag_destroy(root), 0);
	CHECK_EQ(bd_in_use(d), base);
	CHECK_EQ(ccdma_pool_free(ccdma_dev_pool(d), sh, SIZE_MAX), 0);
	CHECK_EQ(ccdma_dev_destroy(d), 0);
	free(priv);
	return test_done("busdma_efbig");
}
