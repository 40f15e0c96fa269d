/* SPDX-License-Identifier: MIT */
/*
 * Tags.  A root tag takes the device's constraints (alignment = addr_align,
 * boundary = seg_boundary + 1 or none, maxsegsz = max_seg_size, addr_limit
 * = DMA mask, maxsize = the largest bounce, nsegments = the most a map may
 * have); a child inherits every field it leaves 0 and may only narrow:
 * each field widened is EINVAL (a positive errno), narrowed is accepted,
 * and a grandchild narrows the child in turn.  Flags add up.  Inconsistent
 * constraints (boundary below the alignment, maxsegsz not a multiple of
 * it, values that are not powers of two) are EINVAL, so is an address
 * limit below the device's pool and an alignment on a device with a
 * min_align_mask.  A
 * tag with a child or a map is not destroyed (EBUSY, nothing changed);
 * once they are gone it is.  Refused creations leave *out alone and do
 * not count as children.
 */
#include "busdma_segcheck.h"

#define MASK48 0xffffffffffffull

static struct ccdma_bus_dma_tag_config zero_cfg;

static bool same(const struct ccdma_bus_dma_tag_config *a,
		 const struct ccdma_bus_dma_tag_config *b)
{
	return a->alignment == b->alignment && a->boundary == b->boundary &&
	       a->maxsegsz == b->maxsegsz && a->nsegments == b->nsegments &&
	       a->maxsize == b->maxsize && a->addr_limit == b->addr_limit &&
	       a->flags == b->flags;
}

static struct ccdma_bus_dma_tag_config get(ccdma_bus_dma_tag_t t)
{
	struct ccdma_bus_dma_tag_config c;

	memset(&c, 0x5a, sizeof(c));
	CHECK_EQ(ccdma_bus_dma_tag_get(t, &c), 0);
	return c;
}

/* What every tag's effective constraints must satisfy (the header's
 * documented invariants). */
static void invariants(const struct ccdma_bus_dma_tag_config *c, int line)
{
	int before = test_failures;

	CHECK(c->alignment && !(c->alignment & (c->alignment - 1)));
	CHECK(!c->boundary || !(c->boundary & (c->boundary - 1)));
	CHECK(!c->boundary || c->boundary >= c->alignment);
	CHECK(c->maxsegsz >= c->alignment && c->maxsegsz % c->alignment == 0);
	CHECK(c->nsegments >= 1 && c->nsegments <= CCDMA_BUS_DMA_MAX_SEGS);
	CHECK(c->maxsize >= 1 && c->maxsize <= CCDMA_POOL_MAX_ALLOC);
	CHECK(c->addr_limit != 0);
	if (test_failures != before)
		fprintf(stderr, "  ^ tag from line %d: alignment %zu boundary %zu "
			"maxsegsz %zu nsegments %d maxsize %zu\n", line, c->alignment,
			c->boundary, c->maxsegsz, c->nsegments, c->maxsize);
}

/* Creating a child of `parent` with cfg must fail with EINVAL, logged,
 * leaving *out alone. */
#define REFUSE(parent, cfgp) refuse(parent, cfgp, __LINE__)
static void refuse(ccdma_bus_dma_tag_t parent,
		   const struct ccdma_bus_dma_tag_config *cfg, int line)
{
	ccdma_bus_dma_tag_t t = (ccdma_bus_dma_tag_t)(uintptr_t)0x1234;
	unsigned errs = bd_log.errors;
	int rc = ccdma_bus_dma_tag_create(NULL, parent, cfg, &t);

	if (rc != EINVAL || t != (ccdma_bus_dma_tag_t)(uintptr_t)0x1234 ||
	    bd_log.errors != errs + 1) {
		fprintf(stderr, "line %d: child tag: rc %d (expected EINVAL %d), out "
			"%s, %u error lines\n", line, rc, EINVAL,
			t == (ccdma_bus_dma_tag_t)(uintptr_t)0x1234 ? "untouched" :
			"CHANGED", bd_log.errors - errs);
		test_failures++;
		if (!rc && t)
			ccdma_bus_dma_tag_destroy(t);
	}
}

/* Creating a child with cfg succeeds and yields `want`. */
#define ACCEPT(parent, cfgp, wantp) accept(parent, cfgp, wantp, __LINE__)
static void accept(ccdma_bus_dma_tag_t parent,
		   const struct ccdma_bus_dma_tag_config *cfg,
		   const struct ccdma_bus_dma_tag_config *want, int line)
{
	ccdma_bus_dma_tag_t t = NULL;
	struct ccdma_bus_dma_tag_config c;
	int rc = ccdma_bus_dma_tag_create(NULL, parent, cfg, &t);

	if (rc || !t) {
		fprintf(stderr, "line %d: child tag refused: %d (%s)\n", line, rc,
			bd_log.last);
		test_failures++;
		return;
	}
	c = get(t);
	if (!same(&c, want)) {
		fprintf(stderr, "line %d: child tag: alignment %zu boundary %zu "
			"maxsegsz %zu nsegments %d maxsize %zu addr_limit %#llx flags "
			"%#x; expected %zu %zu %zu %d %zu %#llx %#x\n", line,
			c.alignment, c.boundary, c.maxsegsz, c.nsegments, c.maxsize,
			(unsigned long long)c.addr_limit, c.flags, want->alignment,
			want->boundary, want->maxsegsz, want->nsegments, want->maxsize,
			(unsigned long long)want->addr_limit, want->flags);
		test_failures++;
	}
	invariants(&c, line);
	CHECK_EQ(ccdma_bus_dma_tag_destroy(t), 0);
}

/* A device with the constraints the root tag must take over. */
static struct ccdma_dev *make_dev(const char *name, size_t align, uint64_t boundary,
				  size_t maxseg, uint64_t mask)
{
	struct ccdma_dev_config cfg;

	ccdma_dev_config_init(&cfg);
	cfg.addr_align = align;
	cfg.seg_boundary = boundary;
	cfg.max_seg_size = maxseg;
	cfg.dma_mask = mask;
	cfg.coherent_mask = mask;
	return bd_dev(name, &cfg, CCDMA_MODE_CONFIDENTIAL);
}

static void root_tags(void)
{
	struct ccdma_bus_dma_tag_config c, w;
	ccdma_bus_dma_tag_t t, t2;
	struct ccdma_dev *d, *d2;

	/* Constraints from the device. */
	d = make_dev("tag-a", 64, 0xffff, 32768, MASK48);
	REQUIRE(ccdma_bus_dma_tag_create(d, NULL, NULL, &t) == 0);
	c = get(t);
	CHECK_EQ(c.alignment, 64);
	CHECK_EQ(c.boundary, 65536);
	CHECK_EQ(c.maxsegsz, 32768);
	CHECK_EQ(c.addr_limit, MASK48);
	CHECK_EQ(c.maxsize, CCDMA_POOL_MAX_ALLOC);
	CHECK_EQ(c.nsegments, CCDMA_BUS_DMA_MAX_SEGS);
	CHECK_EQ(c.flags, 0);
	invariants(&c, __LINE__);
	/* An all-zero config is the same as none. */
	REQUIRE(ccdma_bus_dma_tag_create(d, NULL, &zero_cfg, &t2) == 0);
	w = get(t2);
	CHECK(same(&c, &w));
	CHECK_EQ(ccdma_bus_dma_tag_destroy(t2), 0);
	/* A root tag may narrow the device, not widen it. */
	bd_log_catch();
	w = zero_cfg;
	w.alignment = 32;
	CHECK_EQ(ccdma_bus_dma_tag_create(d, NULL, &w, &t2), EINVAL);
	w = zero_cfg;
	w.boundary = 131072;
	CHECK_EQ(ccdma_bus_dma_tag_create(d, NULL, &w, &t2), EINVAL);
	w = zero_cfg;
	w.maxsegsz = 32768 + 64;
	CHECK_EQ(ccdma_bus_dma_tag_create(d, NULL, &w, &t2), EINVAL);
	w = zero_cfg;
	w.addr_limit = MASK48 + 1;
	CHECK_EQ(ccdma_bus_dma_tag_create(d, NULL, &w, &t2), EINVAL);
	w = zero_cfg;
	w.nsegments = CCDMA_BUS_DMA_MAX_SEGS + 1;
	CHECK_EQ(ccdma_bus_dma_tag_create(d, NULL, &w, &t2), EINVAL);
	w = zero_cfg;
	w.maxsize = CCDMA_POOL_MAX_ALLOC + 1;
	CHECK_EQ(ccdma_bus_dma_tag_create(d, NULL, &w, &t2), EINVAL);
	CHECK_EQ(bd_log.errors, 6);
	bd_log_release();
	w = zero_cfg;
	w.alignment = 128;
	w.boundary = 4096;
	w.maxsegsz = 4096;
	REQUIRE(ccdma_bus_dma_tag_create(d, NULL, &w, &t2) == 0);
	w = get(t2);
	CHECK_EQ(w.alignment, 128);
	CHECK_EQ(w.boundary, 4096);
	CHECK_EQ(w.maxsegsz, 4096);
	CHECK_EQ(w.addr_limit, MASK48);
	CHECK_EQ(ccdma_bus_dma_tag_destroy(t2), 0);
	CHECK_EQ(ccdma_bus_dma_tag_destroy(t), 0);
	CHECK_EQ(ccdma_dev_destroy(d), 0);

	/* The defaults of a device: alignment 1, no boundary, 64 KiB. */
	d = bd_dev("tag-b", NULL, CCDMA_MODE_CONFIDENTIAL);
	REQUIRE(ccdma_bus_dma_tag_create(d, NULL, NULL, &t) == 0);
	c = get(t);
	CHECK_EQ(c.alignment, 1);
	CHECK_EQ(c.boundary, 0);
	CHECK_EQ(c.maxsegsz, 65536);
	CHECK_EQ(c.addr_limit, ~(uint64_t)0);
	CHECK_EQ(c.maxsize, CCDMA_POOL_MAX_ALLOC);
	CHECK_EQ(c.nsegments, CCDMA_BUS_DMA_MAX_SEGS);
	CHECK_EQ(c.flags, 0);
	/* With no boundary above, a child may set any. */
	w = zero_cfg;
	w.boundary = (size_t)1 << 30;
	c.boundary = (size_t)1 << 30;
	ACCEPT(t, &w, &c);
	CHECK_EQ(ccdma_bus_dma_tag_destroy(t), 0);

	/* A device whose boundary sits inside a page. */
	d2 = make_dev("tag-c", 1, 0xff, 65536, ~(uint64_t)0);
	REQUIRE(ccdma_bus_dma_tag_create(d2, NULL, NULL, &t2) == 0);
	c = get(t2);
	CHECK_EQ(c.boundary, 256);
	CHECK_EQ(c.alignment, 1);

	/* dev and parent must agree; one of them is needed; out is needed. */
	bd_log_catch();
	t = (ccdma_bus_dma_tag_t)(uintptr_t)0x1234;
	CHECK_EQ(ccdma_bus_dma_tag_create(d, t2, NULL, &t), EINVAL);
	CHECK_EQ(ccdma_bus_dma_tag_create(NULL, NULL, NULL, &t), EINVAL);
	CHECK(t == (ccdma_bus_dma_tag_t)(uintptr_t)0x1234);
	CHECK_EQ(ccdma_bus_dma_tag_create(d, NULL, NULL, NULL), EINVAL);
	CHECK_EQ(ccdma_bus_dma_tag_create(NULL, t2, NULL, NULL), EINVAL);
	CHECK_EQ(ccdma_bus_dma_tag_get(NULL, &c), EINVAL);
	CHECK_EQ(ccdma_bus_dma_tag_get(t2, NULL), EINVAL);
	CHECK_EQ(ccdma_bus_dma_tag_destroy(NULL), EINVAL);
	CHECK_EQ(bd_log.errors, 7);
	bd_log_release();
	/* The parent's own device is fine. */
	REQUIRE(ccdma_bus_dma_tag_create(d2, t2, NULL, &t) == 0);
	w = get(t);
	CHECK(same(&c, &w));
	CHECK_EQ(ccdma_bus_dma_tag_destroy(t), 0);
	CHECK_EQ(ccdma_bus_dma_tag_destroy(t2), 0);
	CHECK_EQ(ccdma_dev_destroy(d2), 0);
	CHECK_EQ(ccdma_dev_destroy(d), 0);

	/* A min_align_mask device takes tags (tests/busdma_min_align.c),
	 * but not an alignment on top of the mask. */
	{
		struct ccdma_dev_config cfg;
		struct ccdma_bus_dma_tag_config al;

		ccdma_dev_config_init(&cfg);
		cfg.min_align_mask = 4095;
		d = bd_dev("tag-nvme", &cfg, CCDMA_MODE_CONFIDENTIAL);
		CHECK_EQ(ccdma_bus_dma_tag_create(d, NULL, &zero_cfg, &t2), 0);
		memset(&al, 0, sizeof(al));
		al.alignment = 64;
		bd_log_catch();
		t = (ccdma_bus_dma_tag_t)(uintptr_t)0x1234;
		CHECK_EQ(ccdma_bus_dma_tag_create(d, NULL, &al, &t), EINVAL);
		CHECK(t == (ccdma_bus_dma_tag_t)(uintptr_t)0x1234);
		CHECK_EQ(ccdma_bus_dma_tag_create(NULL, t2, &al, &t), EINVAL);
		CHECK_EQ(bd_log.errors, 2);
		CHECK(strstr(bd_log.last, "min_align_mask") != NULL);
		bd_log_release();
		CHECK_EQ(ccdma_bus_dma_tag_destroy(t2), 0);
		CHECK_EQ(ccdma_dev_destroy(d), 0);
	}
}

/* A device whose own constraints disagree (max_seg_size not a multiple of
 * addr_align; seg_boundary + 1 below addr_align; the dma layer accepts
 * both).  A root tag must not carry that on: an inherited maxsegsz is
 * rounded down to a multiple of the alignment (want_maxseg; 0 when nothing
 * is left), a boundary below the alignment is refused (EINVAL) -- with cfg
 * NULL as with an all-zero cfg, which mean the same.  A tag that is made
 * keeps the invariants, its maps can be created with the tag's values
 * (0, 0) and its segments start aligned. */
static void inconsistent_device(size_t align, uint64_t boundary, size_t maxseg,
				size_t want_maxseg)
{
	char buf[8192];
	struct ccdma_bus_dma_tag_config c;
	ccdma_bus_dma_tag_t t = NULL, t0 = NULL;
	ccdma_bus_dmamap_t m;
	struct ccdma_dev *d;
	int rc, rc0, i, want_rc;

	want_rc = want_maxseg && (boundary == ~(uint64_t)0 || boundary + 1 >= align) ?
		  0 : EINVAL;
	d = make_dev("tag-odd", align, boundary, maxseg, ~(uint64_t)0);
	bd_log_catch();
	rc = ccdma_bus_dma_tag_create(d, NULL, NULL, &t);
	rc0 = ccdma_bus_dma_tag_create(d, NULL, &zero_cfg, &t0);
	bd_log_release();
	if (rc != want_rc || rc0 != want_rc)
		fprintf(stderr, "device addr_align %zu seg_boundary %#llx max_seg_size "
			"%zu: root tag with cfg NULL gives %d, with an all-zero cfg "
			"%d; expected %d\n", align, (unsigned long long)boundary,
			maxseg, rc, rc0, want_rc);
	CHECK_EQ(rc, want_rc);
	CHECK_EQ(rc0, want_rc);
	if (!rc) {
		c = get(t);
		invariants(&c, __LINE__);
		CHECK_EQ(c.maxsegsz, want_maxseg);
		CHECK_EQ(c.alignment, align);
		bd_log_catch();
		rc = ccdma_bus_dmamap_create(t, sizeof(buf), 64, 0, 0, 0, &m);
		bd_log_release();
		CHECK_EQ(rc, 0);
		if (!rc) {
			CHECK_EQ(ccdma_bus_dmamap_load(t, m, buf, sizeof(buf), NULL, 0), 0);
			for (i = 0; i < m->dm_nsegs; i++) {
				CHECK_EQ(m->dm_segs[i].ds_addr % align, 0);
				CHECK(m->dm_segs[i].ds_len <= want_maxseg);
			}
			if (m->dm_nsegs)
				CHECK_EQ(ccdma_bus_dmamap_unload(t, m), 0);
			CHECK_EQ(ccdma_bus_dmamap_destroy(t, m), 0);
		}
		CHECK_EQ(ccdma_bus_dma_tag_destroy(t), 0);
	}
	if (!rc0 && t0) {
		c = get(t0);
		CHECK_EQ(c.maxsegsz, want_maxseg);
		CHECK_EQ(ccdma_bus_dma_tag_destroy(t0), 0);
	}
	CHECK_EQ(ccdma_dev_destroy(d), 0);
}

static void children(void)
{
	struct ccdma_bus_dma_tag_config pc, cc, gc, w, want;
	ccdma_bus_dma_tag_t root, child, grand;
	struct ccdma_dev *d = make_dev("tag-kids", 64, 0xffff, 32768, MASK48);
	uint64_t first, last;

	bd_pool_range(d, &first, &last);
	REQUIRE(last <= MASK48);
	REQUIRE(ccdma_bus_dma_tag_create(d, NULL, NULL, &root) == 0);
	pc = get(root);

	/* Inherit everything. */
	ACCEPT(root, NULL, &pc);
	ACCEPT(root, &zero_cfg, &pc);

	/* Each field narrowed alone: taken, the rest inherited. */
	w = zero_cfg; want = pc; w.alignment = want.alignment = 128; ACCEPT(root, &w, &want);
	w = zero_cfg; want = pc; w.alignment = want.alignment = 64; ACCEPT(root, &w, &want);
	w = zero_cfg; want = pc; w.boundary = want.boundary = 4096; ACCEPT(root, &w, &want);
	w = zero_cfg; want = pc; w.boundary = want.boundary = 65536; ACCEPT(root, &w, &want);
	w = zero_cfg; want = pc; w.maxsegsz = want.maxsegsz = 4096; ACCEPT(root, &w, &want);
	w = zero_cfg; want = pc; w.maxsegsz = want.maxsegsz = 192; ACCEPT(root, &w, &want);
	w = zero_cfg; want = pc; w.nsegments = want.nsegments = 17; ACCEPT(root, &w, &want);
	w = zero_cfg; want = pc; w.nsegments = want.nsegments = 1; ACCEPT(root, &w, &want);
	w = zero_cfg; want = pc; w.maxsize = want.maxsize = 65536; ACCEPT(root, &w, &want);
	w = zero_cfg; want = pc; w.maxsize = want.maxsize = 1; ACCEPT(root, &w, &want);
	w = zero_cfg; want = pc; w.addr_limit = want.addr_limit = last; ACCEPT(root, &w, &want);
	w = zero_cfg; want = pc; w.flags = want.flags = CCDMA_BUS_DMA_TAG_ISOLATE;
	ACCEPT(root, &w, &want);

	/* Each field widened: EINVAL. */
	bd_log_catch();
	w = zero_cfg; w.alignment = 32; REFUSE(root, &w);
	w = zero_cfg; w.alignment = 1; REFUSE(root, &w);
	w = zero_cfg; w.boundary = 131072; REFUSE(root, &w);
	w = zero_cfg; w.maxsegsz = 32768 + 64; REFUSE(root, &w);
	w = zero_cfg; w.nsegments = CCDMA_BUS_DMA_MAX_SEGS + 1; REFUSE(root, &w);
	w = zero_cfg; w.maxsize = CCDMA_POOL_MAX_ALLOC + 1; REFUSE(root, &w);
	w = zero_cfg; w.addr_limit = MASK48 + 1; REFUSE(root, &w);
	/* Not values at all. */
	w = zero_cfg; w.nsegments = -1; REFUSE(root, &w);
	w = zero_cfg; w.flags = 1u << 7; REFUSE(root, &w);
	/* Inconsistent. */
	w = zero_cfg; w.alignment = 96; REFUSE(root, &w);
	w = zero_cfg; w.alignment = 4096 + 64; REFUSE(root, &w);
	w = zero_cfg; w.boundary = 3000; REFUSE(root, &w);
	w = zero_cfg; w.boundary = 4096 + 64; REFUSE(root, &w);
	w = zero_cfg; w.alignment = 4096; w.boundary = 1024; REFUSE(root, &w);
	/* The alignment above the inherited boundary. */
	w = zero_cfg; w.alignment = 131072; REFUSE(root, &w);
	w = zero_cfg; w.maxsegsz = 1000; REFUSE(root, &w);
	w = zero_cfg; w.maxsegsz = 32; REFUSE(root, &w);
	w = zero_cfg; w.alignment = 128; w.maxsegsz = 192; REFUSE(root, &w);
	/* An alignment above the inherited maxsegsz (32768). */
	w = zero_cfg; w.alignment = 65536; w.boundary = 65536; REFUSE(root, &w);
	/* An address limit the pool does not fit under. */
	w = zero_cfg; w.addr_limit = last - 1; REFUSE(root, &w);
	w = zero_cfg; w.addr_limit = first; REFUSE(root, &w);
	if (first)
		{ w = zero_cfg; w.addr_limit = first - 1; REFUSE(root, &w); }
	w = zero_cfg; w.addr_limit = 0xffffffffull < last ? 0xffffffffull : 4095; REFUSE(root, &w);
	bd_log_release();

	/* A child that narrows everything, and a grandchild under it. */
	cc = zero_cfg;
	cc.alignment = 128;
	cc.boundary = 8192;
	cc.maxsegsz = 4096;
	cc.nsegments = 17;
	cc.maxsize = 65536;
	cc.addr_limit = last;
	REQUIRE(ccdma_bus_dma_tag_create(d, root, &cc, &child) == 0);
	w = get(child);
	CHECK(same(&w, &cc));
	cc = w;
	/* Grandchild: inherits the child's (not the root's). */
	ACCEPT(child, NULL, &cc);
	/* Narrows the child. */
	gc = zero_cfg;
	gc.alignment = 256;
	gc.boundary = 4096;
	gc.maxsegsz = 2048;
	gc.nsegments = 5;
	gc.maxsize = 8192;
	gc.flags = CCDMA_BUS_DMA_TAG_ISOLATE;
	want = gc;
	want.addr_limit = last;
	ACCEPT(child, &gc, &want);
	/* Widening the child, though within the root: EINVAL. */
	bd_log_catch();
	w = zero_cfg; w.alignment = 64; REFUSE(child, &w);
	w = zero_cfg; w.boundary = 16384; REFUSE(child, &w);
	w = zero_cfg; w.maxsegsz = 8192; REFUSE(child, &w);
	w = zero_cfg; w.nsegments = 18; REFUSE(child, &w);
	w = zero_cfg; w.maxsize = 65536 + 128; REFUSE(child, &w);
	w = zero_cfg; w.addr_limit = MASK48; REFUSE(child, &w);
	/* An alignment above the child's boundary. */
	w = zero_cfg; w.alignment = 16384; REFUSE(child, &w);
	/* The child's maxsegsz (4096) is not a multiple of 8192. */
	w = zero_cfg; w.alignment = 8192; w.boundary = 8192; REFUSE(child, &w);
	bd_log_release();

	/* An inherited maxsegsz is rounded down to the (new) alignment; one
	 * given explicitly must be a multiple, and is not rounded. */
	{
		ccdma_bus_dma_tag_t odd;

		w = zero_cfg;
		w.maxsegsz = 3520; /* 55 x 64 */
		REQUIRE(ccdma_bus_dma_tag_create(NULL, root, &w, &odd) == 0);
		want = get(odd);
		CHECK_EQ(want.maxsegsz, 3520);
		w = zero_cfg;
		w.alignment = want.alignment = 512;
		want.maxsegsz = 3072;
		ACCEPT(odd, &w, &want);
		w.alignment = want.alignment = 2048;
		want.maxsegsz = 2048;
		ACCEPT(odd, &w, &want);
		bd_log_catch();
		w.alignment = 4096;        /* nothing left */
		REFUSE(odd, &w);
		w.alignment = 512;
		w.maxsegsz = 3520;         /* explicit, not a multiple */
		REFUSE(odd, &w);
		bd_log_release();
		CHECK_EQ(ccdma_bus_dma_tag_destroy(odd), 0);
	}

	/* Flags add up: ISOLATE set on the child stays on a grandchild that
	 * asks for nothing. */
	w = zero_cfg;
	w.flags = CCDMA_BUS_DMA_TAG_ISOLATE;
	REQUIRE(ccdma_bus_dma_tag_create(NULL, child, &w, &grand) == 0);
	gc = get(grand);
	CHECK_EQ(gc.flags, CCDMA_BUS_DMA_TAG_ISOLATE);
	want = gc;
	ACCEPT(grand, &zero_cfg, &want);
	ACCEPT(grand, &w, &want);

	/* Destroying a tag with a child or a map: EBUSY, nothing changed. */
	{
		ccdma_bus_dmamap_t m;
		char buf[100];

		bd_log_catch();
		CHECK_EQ(ccdma_bus_dma_tag_destroy(root), EBUSY);
		CHECK_EQ(ccdma_bus_dma_tag_destroy(child), EBUSY);
		CHECK_EQ(bd_log.errors, 2);
		bd_log_release();
		w = get(root);
		CHECK(same(&w, &pc));
		w = get(child);
		CHECK(same(&w, &cc));
		/* Still usable: a map on the grandchild. */
		REQUIRE(ccdma_bus_dmamap_create(grand, 4096, 1, 0, 0, 0, &m) == 0);
		CHECK_EQ(ccdma_bus_dmamap_load(grand, m, buf, sizeof(buf), NULL, 0), 0);
		CHECK_EQ(m->dm_nsegs, 1);
		CHECK_EQ(m->dm_segs[0].ds_addr % 128, 0);
		CHECK_EQ(ccdma_bus_dmamap_unload(grand, m), 0);
		bd_log_catch();
		CHECK_EQ(ccdma_bus_dma_tag_destroy(grand), EBUSY);
		bd_log_release();
		gc = get(grand);
		CHECK_EQ(gc.alignment, 128);
		CHECK_EQ(ccdma_bus_dmamap_destroy(grand, m), 0);
		CHECK_EQ(ccdma_bus_dma_tag_destroy(grand), 0);
		bd_log_catch();
		CHECK_EQ(ccdma_bus_dma_tag_destroy(child), 0);
		CHECK_EQ(bd_log.errors, 0);
		bd_log_release();

		/* A map on the root itself. */
		REQUIRE(ccdma_bus_dmamap_create(root, 4096, 1, 0, 0, 0, &m) == 0);
		bd_log_catch();
		CHECK_EQ(ccdma_bus_dma_tag_destroy(root), EBUSY);
		bd_log_release();
		w = get(root);
		CHECK(same(&w, &pc));
		CHECK_EQ(ccdma_bus_dmamap_destroy(root, m), 0);
	}
	/* None of the refused children counts: the root goes now. */
	CHECK_EQ(ccdma_bus_dma_tag_destroy(root), 0);
	CHECK_EQ(ccdma_dev_destroy(d), 0);
}

int main(void)
{
	test_init();
	root_tags();
	children();
	/* max_seg_size 1000 with addr_align 64 (960); 6000 with 4096 (4096);
	 * 3000 with 4096 (nothing left); seg_boundary 255 (256) with
	 * addr_align 4096. */
	inconsistent_device(64, ~(uint64_t)0, 1000, 960);
	inconsistent_device(4096, ~(uint64_t)0, 6000, 4096);
	inconsistent_device(4096, ~(uint64_t)0, 3000, 0);
	inconsistent_device(4096, 0xff, 65536, 0);
	return test_done("busdma_tag");
}
