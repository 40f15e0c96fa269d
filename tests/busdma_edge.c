/* SPDX-License-Identifier: MIT */
/*
 * The edge cases OpenBSD's bus_dma leaves open, each with its exact
 * segment layout and the data path:
 *   - maxsegsz smaller than a page: 512, and 1000 where the alignment
 *     permits it (8), refused where it does not (16);
 *   - a boundary inside a page: 1024 and 256 (alone and with a maxsegsz
 *     that is not a power of two); a segment may start on a line;
 *   - a maxsegsz that does not divide the boundary (1000 and 1024): bounced
 *     bytes fit in ceil(len / 1000) segments, as many as a map needs;
 *   - raw-segment loads that must still bounce: (a) dmamem allocated with
 *     a small alignment, loaded into a map whose tag asks for more; (b)
 *     dmamem of another device (its own pool, which this device cannot
 *     reach); while dmamem that fits is used in place at its own address;
 *   - raw segments naming device memory by bus address (_ds_va 0): used in
 *     place (split at the limits, merged when contiguous, no copies), and
 *     refused with EINVAL when misaligned or above the address limit;
 *   - an alignment above what the pool can give: refused at tag creation,
 *     or served, never EINVAL from a well-formed load.
 */
#include "busdma_segcheck.h"

#define BUFSZ (64u << 10)
#define DEVMEM 0x7000000000ull

static struct ccdma_dev *d;
static unsigned char *priv, *sh;
static uint64_t base, seed = 7;

/* Load one linear buffer, check it against the limits and, for memory used
 * in place, against the greedy layout from its own address (for bounced
 * memory, from the start of a boundary span); move the data; unload. */
static void one(ccdma_bus_dma_tag_t t, ccdma_bus_dmamap_t m,
		const struct bd_limits *lim, unsigned char *va, size_t len,
		int bounce, int line)
{
	struct bd_piece p = { va, len, bounce };
	int before = test_failures, i;
	uint64_t a, want;

	CHECK_EQ(ccdma_bus_dmamap_load(t, m, va, len, NULL, 0), 0);
	if (m->dm_nsegs) {
		bd_check_segs(d, m, &p, 1, lim, line);
		a = bounce ? m->dm_segs[0].ds_addr : (uintptr_t)va;
		if (bounce) {
			/* A bounce is placed no worse than from a line, and
			 * no segment can be longer than min(maxsegsz,
			 * boundary). */
			CHECK(m->dm_nsegs <= (int)bd_greedy(0, len, lim->maxsegsz,
							   lim->boundary));
			CHECK((uint64_t)m->dm_nsegs >= bd_fewest(len, lim));
		} else {
			CHECK_EQ(m->dm_nsegs, bd_greedy(a, len, lim->maxsegsz,
							lim->boundary));
		}
		/* In place, greedy: every segment but the last ends at
		 * maxsegsz or a line. */
		for (i = 0; !bounce && i + 1 < m->dm_nsegs; i++) {
			const ccdma_bus_dma_segment_t *s = &m->dm_segs[i];

			want = lim->maxsegsz;
			if (lim->boundary &&
			    lim->boundary - (s->ds_addr % lim->boundary) < want)
				want = lim->boundary - (s->ds_addr % lim->boundary);
			CHECK_EQ(s->ds_len, want);
			CHECK_EQ(m->dm_segs[i + 1].ds_addr, s->ds_addr + s->ds_len);
		}
		bd_check_data(d, t, m, &p, 1, seed++, line);
		CHECK_EQ(ccdma_bus_dmamap_unload(t, m), 0);
	}
	CHECK_EQ(bd_in_use(d), base);
	if (test_failures != before)
		fprintf(stderr, "  ^ line %d: %p+%zu, align %llu boundary %llu maxsegsz "
			"%llu\n", line, (void *)va, len, (unsigned long long)lim->align,
			(unsigned long long)lim->boundary,
			(unsigned long long)lim->maxsegsz);
}

static void small_maxsegsz(ccdma_bus_dma_tag_t root)
{
	struct bd_limits lim = { 1, 0, 512, 64, ~(uint64_t)0 };
	ccdma_bus_dma_tag_t t = bd_tag(root, 1, 0, 512), t8;
	struct ccdma_bus_dma_tag_config c;
	ccdma_bus_dmamap_t m;
	int i;

	REQUIRE(ccdma_bus_dmamap_create(t, BUFSZ, 64, 0, 0, 0, &m) == 0);
	/* 8 KiB in place from a page: 16 segments of 512. */
	CHECK_EQ(ccdma_bus_dmamap_load(t, m, sh, 8192, NULL, 0), 0);
	CHECK_EQ(m->dm_nsegs, 16);
	for (i = 0; i < m->dm_nsegs; i++) {
		CHECK_EQ(m->dm_segs[i].ds_addr, (uintptr_t)sh + 512 * (uint64_t)i);
		CHECK_EQ(m->dm_segs[i].ds_len, 512);
		CHECK_EQ(m->dm_segs[i]._ds_bounce_va, 0);
	}
	CHECK_EQ(ccdma_bus_dmamap_unload(t, m), 0);
	one(t, m, &lim, sh, 8192, 0, __LINE__);
	one(t, m, &lim, sh + 100, 3000, 0, __LINE__);  /* 5 x 512 + 440 */
	one(t, m, &lim, sh + 4095, 2, 0, __LINE__);
	one(t, m, &lim, priv, 3000, 1, __LINE__);
	one(t, m, &lim, priv + 1, 512, 1, __LINE__);
	one(t, m, &lim, priv + 77, 20000, 1, __LINE__);
	/* The map may narrow it further: 256. */
	{
		ccdma_bus_dmamap_t m2;
		struct bd_limits l2 = { 1, 0, 256, 64, ~(uint64_t)0 };

		REQUIRE(ccdma_bus_dmamap_create(t, BUFSZ, 64, 256, 0, 0, &m2) == 0);
		one(t, m2, &l2, sh + 10, 4096, 0, __LINE__);
		one(t, m2, &l2, priv + 10, 4096, 1, __LINE__);
		CHECK_EQ(ccdma_bus_dmamap_destroy(t, m2), 0);
	}
	CHECK_EQ(ccdma_bus_dmamap_destroy(t, m), 0);
	CHECK_EQ(ccdma_bus_dma_tag_destroy(t), 0);

	/* 1000 bytes, alignment 8 (1000 = 125 x 8): segments at 0, 1000, ...
	 * all aligned. */
	t8 = bd_tag(root, 8, 0, 1000);
	REQUIRE(ccdma_bus_dma_tag_get(t8, &c) == 0);
	CHECK_EQ(c.maxsegsz, 1000);
	CHECK_EQ(c.alignment, 8);
	lim = (struct bd_limits){ 8, 0, 1000, 64, ~(uint64_t)0 };
	REQUIRE(ccdma_bus_dmamap_create(t8, BUFSZ, 64, 0, 0, 0, &m) == 0);
	CHECK_EQ(ccdma_bus_dmamap_load(t8, m, sh, 4096, NULL, 0), 0);
	CHECK_EQ(m->dm_nsegs, 5);
	for (i = 0; i < 4; i++) {
		CHECK_EQ(m->dm_segs[i].ds_addr, (uintptr_t)sh + 1000 * (uint64_t)i);
		CHECK_EQ(m->dm_segs[i].ds_len, 1000);
	}
	CHECK_EQ(m->dm_segs[4].ds_len, 96);
	CHECK_EQ(ccdma_bus_dmamap_unload(t8, m), 0);
	one(t8, m, &lim, sh + 8, 4096, 0, __LINE__);
	one(t8, m, &lim, sh + 9, 4096, 1, __LINE__);  /* misaligned: bounced */
	one(t8, m, &lim, priv + 3, 9999, 1, __LINE__);
	CHECK_EQ(ccdma_bus_dmamap_destroy(t8, m), 0);
	/* And on the map: 1000 under a tag of alignment 8 and 4096 bytes. */
	{
		ccdma_bus_dma_tag_t t4 = bd_tag(root, 8, 0, 4096);

		REQUIRE(ccdma_bus_dmamap_create(t4, BUFSZ, 64, 1000, 0, 0, &m) == 0);
		one(t4, m, &lim, sh + 800, 5000, 0, __LINE__);
		one(t4, m, &lim, priv + 800, 5000, 1, __LINE__);
		CHECK_EQ(ccdma_bus_dmamap_destroy(t4, m), 0);
		/* 1000 is no multiple of 16: refused on a map too. */
		bd_log_catch();
		CHECK_EQ(ccdma_bus_dmamap_create(t8, BUFSZ, 64, 1000, 0, 0, &m), 0);
		CHECK_EQ(ccdma_bus_dmamap_destroy(t8, m), 0);
		{
			ccdma_bus_dma_tag_t t16 = bd_tag(root, 16, 0, 4096);
			struct ccdma_bus_dma_tag_config w;
			ccdma_bus_dma_tag_t x;

			m = NULL;
			CHECK_EQ(ccdma_bus_dmamap_create(t16, BUFSZ, 64, 1000, 0, 0, &m),
				 EINVAL);
			CHECK(m == NULL);
			memset(&w, 0, sizeof(w));
			w.maxsegsz = 1000;
			CHECK_EQ(ccdma_bus_dma_tag_create(NULL, t16, &w, &x), EINVAL);
			CHECK_EQ(ccdma_bus_dma_tag_destroy(t16), 0);
		}
		bd_log_release();
		CHECK_EQ(ccdma_bus_dma_tag_destroy(t4), 0);
	}
	CHECK_EQ(ccdma_bus_dma_tag_destroy(t8), 0);
}

/* A maxsegsz that does not divide the boundary (1000 and 1024, alignment
 * 8).  Memory used in place is cut where its addresses say; but where a
 * bounce goes is the library's choice, and the bytes then fit in
 * ceil(len / 1000) segments (each a run of at most 1000 bytes inside one
 * 1024-byte span: 24 bytes into a span, or a span of its own).  A map with
 * exactly that many segments must take them (EFBIG is for buffers that
 * cannot be described). */
static void undivided_boundary(ccdma_bus_dma_tag_t root)
{
	struct bd_limits lim = { 8, 1024, 1000, 0, ~(uint64_t)0 };
	ccdma_bus_dma_tag_t t = bd_tag(root, 8, 1024, 1000);
	static const size_t lens[] = { 1000, 1001, 2000, 3000, 4000, 10000 };
	ccdma_bus_dmamap_t m;
	unsigned i, n;
	int rc;

	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		struct bd_piece p = { priv + 16, lens[i], 1 };

		n = (unsigned)bd_fewest(lens[i], &lim);
		lim.nsegments = (int)n;
		REQUIRE(ccdma_bus_dmamap_create(t, BUFSZ, (int)n, 0, 0, 0, &m) == 0);
		rc = ccdma_bus_dmamap_load(t, m, priv + 16, lens[i], NULL, 0);
		if (rc)
			fprintf(stderr, "boundary 1024, maxsegsz 1000: %zu private bytes "
				"in a %u-segment map: %d (a bounce from a line takes "
				"%u)\n", lens[i], n, rc,
				bd_greedy(0, lens[i], 1000, 1024));
		CHECK_EQ(rc, 0);
		if (!rc) {
			CHECK_EQ(m->dm_nsegs, (int)n);
			bd_check_segs(d, m, &p, 1, &lim, __LINE__);
			bd_check_data(d, t, m, &p, 1, seed++, __LINE__);
			CHECK_EQ(ccdma_bus_dmamap_unload(t, m), 0);
		}
		CHECK_EQ(bd_in_use(d), base);
		CHECK_EQ(ccdma_bus_dmamap_destroy(t, m), 0);
	}
	CHECK_EQ(ccdma_bus_dma_tag_destroy(t), 0);
}

static void inner_boundary(ccdma_bus_dma_tag_t root)
{
	struct bd_limits lim = { 1, 1024, 65536, 64, ~(uint64_t)0 };
	ccdma_bus_dma_tag_t t = bd_tag(root, 1, 1024, 0), t2;
	ccdma_bus_dmamap_t m;
	static const uint64_t exp[] = { 24, 1024, 1024, 928 };
	int i;

	REQUIRE(ccdma_bus_dmamap_create(t, BUFSZ, 64, 0, 0, 0, &m) == 0);
	/* 3000 bytes from 1000: 24 | 1024 | 1024 | 928. */
	CHECK_EQ(ccdma_bus_dmamap_load(t, m, sh + 1000, 3000, NULL, 0), 0);
	CHECK_EQ(m->dm_nsegs, 4);
	for (i = 0; i < 4 && i < m->dm_nsegs; i++)
		CHECK_EQ(m->dm_segs[i].ds_len, exp[i]);
	CHECK_EQ(m->dm_segs[1].ds_addr, (uintptr_t)sh + 1024);
	CHECK_EQ(ccdma_bus_dmamap_unload(t, m), 0);
	/* A segment may start on a line: 1024 bytes from a line are one. */
	CHECK_EQ(ccdma_bus_dmamap_load(t, m, sh + 2048, 1024, NULL, 0), 0);
	CHECK_EQ(m->dm_nsegs, 1);
	CHECK_EQ(m->dm_segs[0].ds_addr, (uintptr_t)sh + 2048);
	CHECK_EQ(ccdma_bus_dmamap_unload(t, m), 0);
	/* One byte before a line and one on it: two. */
	CHECK_EQ(ccdma_bus_dmamap_load(t, m, sh + 1023, 2, NULL, 0), 0);
	CHECK_EQ(m->dm_nsegs, 2);
	CHECK_EQ(ccdma_bus_dmamap_unload(t, m), 0);
	one(t, m, &lim, sh + 1000, 3000, 0, __LINE__);
	one(t, m, &lim, sh + 1, 8191, 0, __LINE__);
	/* Bounced, 1000 bytes take one segment (the bounce crosses no line)
	 * and 3000 bytes three. */
	one(t, m, &lim, priv + 1000, 1000, 1, __LINE__);
	CHECK_EQ(ccdma_bus_dmamap_load(t, m, priv + 1000, 3000, NULL, 0), 0);
	CHECK_EQ(m->dm_nsegs, 3);
	CHECK_EQ(ccdma_bus_dmamap_unload(t, m), 0);
	one(t, m, &lim, priv + 5, 30000, 1, __LINE__);
	CHECK_EQ(ccdma_bus_dmamap_destroy(t, m), 0);

	/* 256 with maxsegsz 200 and alignment 8: 200 | 56 | 200 | 56 ... */
	t2 = bd_tag(root, 8, 256, 200);
	lim = (struct bd_limits){ 8, 256, 200, 64, ~(uint64_t)0 };
	REQUIRE(ccdma_bus_dmamap_create(t2, BUFSZ, 64, 0, 0, 0, &m) == 0);
	CHECK_EQ(ccdma_bus_dmamap_load(t2, m, sh, 1024, NULL, 0), 0);
	CHECK_EQ(m->dm_nsegs, 8);
	for (i = 0; i < m->dm_nsegs; i++) {
		CHECK_EQ(m->dm_segs[i].ds_len, i % 2 ? 56 : 200);
		CHECK_EQ(m->dm_segs[i].ds_addr % 8, 0);
	}
	CHECK_EQ(ccdma_bus_dmamap_unload(t2, m), 0);
	one(t2, m, &lim, sh + 64, 5000, 0, __LINE__);
	one(t2, m, &lim, sh + 65, 5000, 1, __LINE__);
	one(t2, m, &lim, priv + 65, 5000, 1, __LINE__);
	one(t2, m, &lim, priv, 100, 1, __LINE__);
	CHECK_EQ(ccdma_bus_dmamap_destroy(t2, m), 0);
	/* The map narrows the tag's 1024 to 256. */
	lim = (struct bd_limits){ 1, 256, 65536, 64, ~(uint64_t)0 };
	REQUIRE(ccdma_bus_dmamap_create(t, BUFSZ, 64, 0, 256, 0, &m) == 0);
	one(t, m, &lim, sh + 3, 2000, 0, __LINE__);
	one(t, m, &lim, priv + 3, 2000, 1, __LINE__);
	CHECK_EQ(ccdma_bus_dmamap_destroy(t, m), 0);
	CHECK_EQ(ccdma_bus_dma_tag_destroy(t2), 0);
	CHECK_EQ(ccdma_bus_dma_tag_destroy(t), 0);
}

/* Fill dmamem through its CPU address. */
static unsigned char *dmamem_va(ccdma_bus_dma_tag_t t, ccdma_bus_dma_segment_t *s,
				int n, size_t size)
{
	ccdma_caddr_t kva = NULL;

	CHECK_EQ(ccdma_bus_dmamem_map(t, s, n, size, &kva, 0), 0);
	CHECK_EQ((uintptr_t)kva, s[0]._ds_va);
	return (unsigned char *)kva;
}

/* A raw load of segments `s` (size bytes); piece i is bounced when bit i
 * of `bounced` is set, used in place otherwise.  The segments are checked,
 * the bytes flow both ways, and the pool counts one copy each way of just
 * the bounced bytes. */
#define ALL_BOUNCED 0xffu
static void raw_check(struct ccdma_dev *dev, ccdma_bus_dma_tag_t t,
		      ccdma_bus_dmamap_t m, const ccdma_bus_dma_segment_t *s,
		      int n, size_t size, unsigned bounced,
		      const struct bd_limits *lim, int line)
{
	struct bd_piece p[8];
	struct bd_copies c0, c1;
	size_t left = size, nb = 0;
	int i, np = 0, before = test_failures;

	REQUIRE(n <= 8);
	for (i = 0; i < n && left; i++) {
		size_t len = s[i].ds_len < left ? s[i].ds_len : left;

		p[np++] = (struct bd_piece){ (unsigned char *)s[i]._ds_va, len,
					     (bounced >> i) & 1 };
		nb += (bounced >> i) & 1 ? len : 0;
		left -= len;
	}
	c0 = bd_copies(dev);
	CHECK_EQ(ccdma_bus_dmamap_load_raw(t, m, s, n, size, 0), 0);
	if (m->dm_nsegs) {
		bd_check_segs(dev, m, p, np, lim, line);
		bd_check_data(dev, t, m, p, np, seed++, line);
		c1 = bd_copies(dev);
		CHECK_EQ(c1.to - c0.to, nb ? 1 : 0);
		CHECK_EQ(c1.to_bytes - c0.to_bytes, nb);
		CHECK_EQ(c1.from - c0.from, nb ? 1 : 0);
		CHECK_EQ(c1.from_bytes - c0.from_bytes, nb);
		CHECK_EQ(ccdma_bus_dmamap_unload(t, m), 0);
	}
	if (test_failures != before)
		fprintf(stderr, "  ^ raw load at line %d\n", line);
}

static void raw_dmamem(ccdma_bus_dma_tag_t root)
{
	ccdma_bus_dma_tag_t big = bd_tag(root, 4096, 0, 0), other_tag;
	struct bd_limits lim = { 4096, 0, 65536, 8, ~(uint64_t)0 };
	struct bd_limits lim1 = { 1, 0, 65536, 8, ~(uint64_t)0 };
	ccdma_bus_dma_segment_t s[64][1], fit, ms[4];
	ccdma_bus_dmamap_t m, mr;
	struct bd_copies c0, c1;
	struct ccdma_dev *other;
	unsigned char *va, got[300];
	int i, r, found = -1;

	REQUIRE(ccdma_bus_dmamap_create(big, BUFSZ, 8, 0, 0, 0, &m) == 0);
	REQUIRE(ccdma_bus_dmamap_create(root, BUFSZ, 8, 0, 0, 0, &mr) == 0);

	/* (a) dmamem with a 16-byte alignment: find one allocation that is
	 * not 4 KiB aligned. */
	for (i = 0; i < 64 && found < 0; i++) {
		REQUIRE(ccdma_bus_dmamem_alloc(root, 300, 16, 0, s[i], 1, &r, 0) == 0);
		CHECK_EQ(r, 1);
		CHECK_EQ(s[i][0].ds_len, 300);
		CHECK_EQ(s[i][0].ds_addr % 16, 0);
		if (s[i][0].ds_addr % 4096)
			found = i;
	}
	REQUIRE(found >= 0);
	va = dmamem_va(root, s[found], 1, 300);
	for (i = 0; i < 300; i++)
		va[i] = (unsigned char)(i * 3 + 1);
	/* Into the 4 KiB-aligned map: bounced. */
	CHECK_EQ(ccdma_bus_dmamap_load_raw(big, m, s[found], 1, 300, 0), 0);
	CHECK_EQ(m->dm_nsegs, 1);
	CHECK(m->dm_segs[0]._ds_bounce_va != 0);
	CHECK_EQ(m->dm_segs[0].ds_addr % 4096, 0);
	CHECK_EQ(m->dm_segs[0]._ds_va, s[found][0]._ds_va);
	CHECK_EQ(m->dm_segs[0].ds_len, 300);
	CHECK_EQ(ccdma_bus_dmamap_sync(big, m, 0, 300, CCDMA_BUS_DMASYNC_PREWRITE), 0);
	memset(got, 0, sizeof(got));
	CHECK_EQ(ccdma_dev_read(d, m->dm_segs[0].ds_addr, got, 300), 0);
	CHECK(memcmp(got, va, 300) == 0);
	CHECK_EQ(ccdma_bus_dmamap_sync(big, m, 0, 300, CCDMA_BUS_DMASYNC_POSTWRITE), 0);
	CHECK_EQ(ccdma_bus_dmamap_unload(big, m), 0);
	raw_check(d, big, m, s[found], 1, 300, ALL_BOUNCED, &lim, __LINE__);
	/* Part of it (the load size cuts the segment). */
	raw_check(d, big, m, s[found], 1, 120, ALL_BOUNCED, &lim, __LINE__);
	/* Into a map whose tag it fits: in place at its own address, no
	 * copies. */
	c0 = bd_copies(d);
	CHECK_EQ(ccdma_bus_dmamap_load_raw(root, mr, s[found], 1, 300, 0), 0);
	CHECK_EQ(mr->dm_nsegs, 1);
	CHECK_EQ(mr->dm_segs[0]._ds_bounce_va, 0);
	CHECK_EQ(mr->dm_segs[0].ds_addr, s[found][0].ds_addr);
	CHECK_EQ(mr->dm_segs[0]._ds_va, s[found][0]._ds_va);
	{
		struct bd_piece p = { va, 300, 0 };

		bd_check_segs(d, mr, &p, 1, &lim1, __LINE__);
		bd_check_data(d, root, mr, &p, 1, seed++, __LINE__);
	}
	c1 = bd_copies(d);
	CHECK(bd_copies_eq(c0, c1));
	CHECK_EQ(ccdma_bus_dmamap_unload(root, mr), 0);
	for (i = 0; i <= found; i++)
		CHECK_EQ(ccdma_bus_dmamem_free(root, s[i], 1), 0);

	/* dmamem that meets the big tag: in place in its map too. */
	REQUIRE(ccdma_bus_dmamem_alloc(big, 5000, 0, 0, &fit, 1, &r, 0) == 0);
	CHECK_EQ(fit.ds_addr % 4096, 0);
	c0 = bd_copies(d);
	CHECK_EQ(ccdma_bus_dmamap_load_raw(big, m, &fit, 1, 5000, 0), 0);
	CHECK_EQ(m->dm_nsegs, 1);
	CHECK_EQ(m->dm_segs[0]._ds_bounce_va, 0);
	CHECK_EQ(m->dm_segs[0].ds_addr, fit.ds_addr);
	CHECK_EQ(m->dm_segs[0].ds_len, 5000);
	CHECK(bd_in_use(d) > base);
	{
		struct bd_piece p = { (unsigned char *)fit._ds_va, 5000, 0 };

		bd_check_data(d, big, m, &p, 1, seed++, __LINE__);
	}
	CHECK(bd_copies_eq(c0, bd_copies(d)));
	CHECK_EQ(ccdma_bus_dmamap_unload(big, m), 0);
	CHECK_EQ(ccdma_bus_dmamem_free(big, &fit, 1), 0);
	CHECK_EQ(bd_in_use(d), base);

	/* dmamem split by a boundary (several raw segments), into a map of a
	 * tag with 2 KiB alignment: the first segment may start anywhere, so
	 * take allocations until one starts off 2 KiB; every piece then
	 * bounces or continues the previous one, and the segments still
	 * start aligned. */
	{
		ccdma_bus_dma_tag_t b1k = bd_tag(root, 1, 1024, 0);
		ccdma_bus_dma_tag_t a2k = bd_tag(root, 2048, 0, 0);
		struct bd_limits l2 = { 2048, 0, 65536, 8, ~(uint64_t)0 };
		ccdma_bus_dmamap_t m2;
		int n = 0;

		REQUIRE(ccdma_bus_dmamap_create(a2k, BUFSZ, 8, 0, 0, 0, &m2) == 0);
		REQUIRE(ccdma_bus_dmamem_alloc(b1k, 3000, 8, 0, ms, 4, &n, 0) == 0);
		CHECK(n >= 3);
		for (i = 1; i < n; i++) {
			CHECK_EQ(ms[i].ds_addr % 1024, 0);
			CHECK_EQ(ms[i]._ds_va, ms[i - 1]._ds_va + ms[i - 1].ds_len);
		}
		/* Off 2 KiB, the first piece bounces and the second (on a
		 * 2 KiB multiple) starts an in-place segment the third
		 * continues; on 2 KiB, all three are one in-place range. */
		raw_check(d, a2k, m2, ms, n, 3000, ms[0].ds_addr % 2048 ? 1u : 0u,
			  &l2, __LINE__);
		CHECK_EQ(ccdma_bus_dmamap_load_raw(a2k, m2, ms, n, 3000, 0), 0);
		CHECK_EQ(m2->dm_nsegs, ms[0].ds_addr % 2048 ? 2 : 1);
		CHECK_EQ(m2->dm_segs[m2->dm_nsegs - 1].ds_addr,
			 ms[0].ds_addr % 2048 ? ms[1].ds_addr : ms[0].ds_addr);
		CHECK_EQ(ccdma_bus_dmamap_unload(a2k, m2), 0);
		/* In its own tag's map: in place, as allocated. */
		{
			ccdma_bus_dmamap_t m3;

			REQUIRE(ccdma_bus_dmamap_create(b1k, BUFSZ, 8, 0, 0, 0, &m3) == 0);
			CHECK_EQ(ccdma_bus_dmamap_load_raw(b1k, m3, ms, n, 3000, 0), 0);
			CHECK_EQ(m3->dm_nsegs, n);
			for (i = 0; i < n && i < m3->dm_nsegs; i++) {
				CHECK_EQ(m3->dm_segs[i].ds_addr, ms[i].ds_addr);
				CHECK_EQ(m3->dm_segs[i].ds_len, ms[i].ds_len);
				CHECK_EQ(m3->dm_segs[i]._ds_bounce_va, 0);
			}
			CHECK_EQ(ccdma_bus_dmamap_unload(b1k, m3), 0);
			CHECK_EQ(ccdma_bus_dmamap_destroy(b1k, m3), 0);
		}
		CHECK_EQ(ccdma_bus_dmamem_free(b1k, ms, n), 0);
		CHECK_EQ(ccdma_bus_dmamap_destroy(a2k, m2), 0);
		CHECK_EQ(ccdma_bus_dma_tag_destroy(a2k), 0);
		CHECK_EQ(ccdma_bus_dma_tag_destroy(b1k), 0);
	}

	/* (b) dmamem of another device: its pool is not this device's, and
	 * this device cannot reach it, so a raw load bounces it. */
	{
		ccdma_bus_dma_segment_t os;
		unsigned char tmp[16];

		other = bd_dev("edge-other", NULL, CCDMA_MODE_CONFIDENTIAL);
		REQUIRE(ccdma_bus_dma_tag_create(other, NULL, NULL, &other_tag) == 0);
		REQUIRE(ccdma_bus_dmamem_alloc(other_tag, 6000, 0, 0, &os, 1, &r, 0) == 0);
		bd_log_catch();
		CHECK_EQ(ccdma_dev_read(d, os.ds_addr, tmp, sizeof(tmp)), -EFAULT);
		bd_log_release();
		CHECK_EQ(ccdma_dev_read(other, os.ds_addr, tmp, sizeof(tmp)), 0);
		raw_check(d, big, m, &os, 1, 6000, ALL_BOUNCED, &lim, __LINE__);
		raw_check(d, root, mr, &os, 1, 6000, ALL_BOUNCED, &lim1, __LINE__);
		CHECK_EQ(ccdma_bus_dmamap_load_raw(root, mr, &os, 1, 6000, 0), 0);
		CHECK(!ccdma_pool_contains(ccdma_dev_pool(d), (void *)os._ds_va, 1));
		CHECK(ccdma_pool_contains(ccdma_dev_pool(d),
					  (void *)mr->dm_segs[0]._ds_bounce_va, 6000));
		CHECK(bd_in_use(d) > base);
		CHECK_EQ(ccdma_bus_dmamap_unload(root, mr), 0);
		CHECK_EQ(ccdma_bus_dmamem_free(other_tag, &os, 1), 0);
		CHECK_EQ(ccdma_bus_dma_tag_destroy(other_tag), 0);
		CHECK_EQ(ccdma_dev_destroy(other), 0);
	}
	CHECK_EQ(bd_in_use(d), base);
	CHECK_EQ(ccdma_bus_dmamap_destroy(big, m), 0);
	CHECK_EQ(ccdma_bus_dmamap_destroy(root, mr), 0);
	CHECK_EQ(ccdma_bus_dma_tag_destroy(big), 0);
}

/* Raw segments of device memory (no CPU address). */
static void raw_device(ccdma_bus_dma_tag_t root)
{
	struct ccdma_bus_dma_tag_config c;
	ccdma_bus_dma_tag_t t = bd_tag(root, 64, 8192, 4096), lt;
	ccdma_bus_dma_segment_t s[3];
	ccdma_bus_dmamap_t m, ml;
	struct bd_copies c0;
	uint64_t first, last;

	REQUIRE(ccdma_bus_dmamap_create(t, BUFSZ, 8, 0, 0, 0, &m) == 0);
	memset(s, 0, sizeof(s));
	s[0].ds_addr = DEVMEM + 4096;
	s[0].ds_len = 12288;
	c0 = bd_copies(d);
	CHECK_EQ(ccdma_bus_dmamap_load_raw(t, m, s, 1, 12288, 0), 0);
	/* 4096 | 4096 (a line at 8192 multiples) | 4096. */
	CHECK_EQ(m->dm_nsegs, 3);
	CHECK_EQ(m->dm_segs[0].ds_addr, DEVMEM + 4096);
	CHECK_EQ(m->dm_segs[1].ds_addr, DEVMEM + 8192);
	CHECK_EQ(m->dm_segs[2].ds_addr, DEVMEM + 12288);
	for (int i = 0; i < m->dm_nsegs; i++) {
		CHECK_EQ(m->dm_segs[i].ds_len, 4096);
		CHECK_EQ(m->dm_segs[i]._ds_va, 0);
		CHECK_EQ(m->dm_segs[i]._ds_bounce_va, 0);
	}
	CHECK_EQ(m->dm_mapsize, 12288);
	CHECK_EQ(bd_in_use(d), base);
	CHECK_EQ(ccdma_bus_dmamap_sync(t, m, 0, 12288,
				       CCDMA_BUS_DMASYNC_PREREAD | CCDMA_BUS_DMASYNC_PREWRITE), 0);
	/* POST in three windows, across segment edges. */
	CHECK_EQ(ccdma_bus_dmamap_sync(t, m, 100, 5000,
				       CCDMA_BUS_DMASYNC_POSTREAD | CCDMA_BUS_DMASYNC_POSTWRITE), 0);
	CHECK_EQ(ccdma_bus_dmamap_sync(t, m, 0, 100, CCDMA_BUS_DMASYNC_POSTREAD), 0);
	CHECK_EQ(ccdma_bus_dmamap_sync(t, m, 5100, 12288 - 5100,
				       CCDMA_BUS_DMASYNC_POSTREAD), 0);
	CHECK(bd_copies_eq(c0, bd_copies(d)));
	CHECK_EQ(ccdma_bus_dmamap_unload(t, m), 0);

	/* Contiguous pieces merge; the second need not be aligned (it starts
	 * no segment). */
	s[0].ds_addr = DEVMEM;
	s[0].ds_len = 100;
	s[1].ds_addr = DEVMEM + 100;
	s[1].ds_len = 200;
	CHECK_EQ(ccdma_bus_dmamap_load_raw(t, m, s, 2, 300, 0), 0);
	CHECK_EQ(m->dm_nsegs, 1);
	CHECK_EQ(m->dm_segs[0].ds_addr, DEVMEM);
	CHECK_EQ(m->dm_segs[0].ds_len, 300);
	CHECK_EQ(ccdma_bus_dmamap_unload(t, m), 0);

	/* Misaligned for the tag: EINVAL, nothing loaded, the map usable. */
	bd_log_catch();
	s[0].ds_addr = DEVMEM + 100;
	s[0].ds_len = 100;
	CHECK_EQ(ccdma_bus_dmamap_load_raw(t, m, s, 1, 100, 0), EINVAL);
	CHECK_EQ(m->dm_nsegs, 0);
	/* A second piece that does not continue the first, misaligned. */
	s[0].ds_addr = DEVMEM;
	s[1].ds_addr = DEVMEM + 1000;
	s[1].ds_len = 100;
	CHECK_EQ(ccdma_bus_dmamap_load_raw(t, m, s, 2, 200, 0), EINVAL);
	CHECK_EQ(m->dm_nsegs, 0);
	CHECK_EQ(bd_log.errors, 2);
	CHECK(strstr(bd_log.last, "align") != NULL);
	CHECK_EQ(ccdma_bus_dmamap_unload(t, m), EINVAL);
	bd_log_release();
	CHECK_EQ(bd_in_use(d), base);
	s[1].ds_addr = DEVMEM + 1024;
	CHECK_EQ(ccdma_bus_dmamap_load_raw(t, m, s, 2, 200, 0), 0);
	CHECK_EQ(m->dm_nsegs, 2);
	CHECK_EQ(ccdma_bus_dmamap_unload(t, m), 0);

	/* Above the tag's address limit: EINVAL (nothing to bounce from). */
	bd_pool_range(d, &first, &last);
	memset(&c, 0, sizeof(c));
	c.addr_limit = last;
	REQUIRE(ccdma_bus_dma_tag_create(NULL, t, &c, &lt) == 0);
	REQUIRE(ccdma_bus_dmamap_create(lt, BUFSZ, 8, 0, 0, 0, &ml) == 0);
	s[0].ds_addr = (last + 1 + 4095) & ~(uint64_t)4095;
	s[0].ds_len = 4096;
	bd_log_catch();
	CHECK_EQ(ccdma_bus_dmamap_load_raw(lt, ml, s, 1, 4096, 0), EINVAL);
	CHECK_EQ(bd_log.errors, 1);
	bd_log_release();
	CHECK_EQ(ml->dm_nsegs, 0);
	/* Below it: fine. */
	s[0].ds_addr = first > 8192 ? (first - 8192) & ~(uint64_t)4095 : 4096;
	CHECK_EQ(ccdma_bus_dmamap_load_raw(lt, ml, s, 1, 4096, 0), 0);
	CHECK_EQ(ml->dm_nsegs, 1);
	CHECK_EQ(ml->dm_segs[0].ds_addr, s[0].ds_addr);
	CHECK_EQ(ccdma_bus_dmamap_unload(lt, ml), 0);
	CHECK_EQ(ccdma_bus_dmamap_destroy(lt, ml), 0);
	CHECK_EQ(ccdma_bus_dma_tag_destroy(lt), 0);
	CHECK_EQ(ccdma_bus_dmamap_destroy(t, m), 0);
	CHECK_EQ(ccdma_bus_dma_tag_destroy(t), 0);
}

/* An alignment above what the device's pool can give (the pool aligns
 * to at most its region size, 1 MiB here).  Either the tag is refused at
 * creation (EINVAL, as for any constraint the device cannot meet), or it
 * serves loads: a load that must bounce then succeeds with an aligned
 * segment or, at worst, reports ENOMEM ("none that fits the tag's
 * constraints") -- never EINVAL, which is for bad arguments. */
static void huge_alignment(void)
{
	struct ccdma_bus_dma_tag_config c;
	struct ccdma_dev_config cfg;
	ccdma_bus_dma_tag_t r, t;
	ccdma_bus_dmamap_t m;
	struct ccdma_dev *hd;
	int rc;

	ccdma_dev_config_init(&cfg);
	cfg.max_seg_size = 4u << 20;
	hd = bd_dev("edge-huge", &cfg, CCDMA_MODE_CONFIDENTIAL);
	REQUIRE(ccdma_bus_dma_tag_create(hd, NULL, NULL, &r) == 0);
	memset(&c, 0, sizeof(c));
	c.alignment = 2u << 20;
	bd_log_catch();
	rc = ccdma_bus_dma_tag_create(NULL, r, &c, &t);
	bd_log_release();
	CHECK(rc == 0 || rc == EINVAL);
	if (!rc) {
		REQUIRE(ccdma_bus_dmamap_create(t, 4096, 1, 0, 0, 0, &m) == 0);
		bd_log_catch();
		rc = ccdma_bus_dmamap_load(t, m, priv, 100, NULL, CCDMA_BUS_DMA_NOWAIT);
		bd_log_release();
		if (rc == EINVAL)
			fprintf(stderr, "tag alignment 2 MiB, pool region 1 MiB: the tag "
				"was created, but a load that bounces gives EINVAL (%s)\n",
				bd_log.last);
		CHECK(rc == 0 || rc == ENOMEM);
		if (!rc) {
			CHECK_EQ(m->dm_segs[0].ds_addr % (2u << 20), 0);
			CHECK_EQ(ccdma_bus_dmamap_unload(t, m), 0);
		}
		CHECK_EQ(ccdma_bus_dmamap_destroy(t, m), 0);
		CHECK_EQ(ccdma_bus_dma_tag_destroy(t), 0);
	}
	CHECK_EQ(ccdma_bus_dma_tag_destroy(r), 0);
	CHECK_EQ(ccdma_dev_destroy(hd), 0);
}

int main(void)
{
	ccdma_bus_dma_tag_t root;

	test_init();
	d = bd_dev("edge", NULL, CCDMA_MODE_CONFIDENTIAL);
	priv = aligned_alloc(65536, BUFSZ);
	REQUIRE(priv);
	REQUIRE(ccdma_pool_alloc(ccdma_dev_pool(d), BUFSZ, 0, (void **)&sh) == 0);
	REQUIRE((uintptr_t)sh % 4096 == 0);
	base = bd_in_use(d);
	REQUIRE(ccdma_bus_dma_tag_create(d, NULL, NULL, &root) == 0);

	small_maxsegsz(root);
	inner_boundary(root);
	undivided_boundary(root);
	raw_dmamem(root);
	raw_device(root);
	huge_alignment();

	CHECK_EQ(ccdma_bus_dma_tag_destroy(root), 0);
	CHECK_EQ(bd_in_use(d), base);
	CHECK_EQ(ccdma_pool_free(ccdma_dev_pool(d), sh, SIZE_MAX), 0);
	CHECK_EQ(ccdma_dev_destroy(d), 0);
	free(priv);
	return test_done("busdma_edge");
}
