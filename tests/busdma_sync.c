/* SPDX-License-Identifier: MIT */
/*
 * busdma: dmamap_sync over windows that start and end inside segments.
 *
 * Maps whose transfer has three segments (maxsegsz 512 on a linear buffer;
 * an iovec of three pieces; an ALLOCNOW map), and windows such as
 * (100, 900), (511, 2), (0, len), (len-1, 1).  For every window:
 *   PREWRITE, PREREAD|PREWRITE  copy exactly the window memory -> bounce
 *                               (the device sees the buffer's bytes there
 *                               and its own outside);
 *   POSTREAD, POSTREAD|POSTWRITE copy exactly the window bounce -> memory
 *                               (the buffer outside the window unchanged);
 *   PREREAD alone               clears the bounce window (the device reads
 *                               zeros there, not an earlier transfer's
 *                               bytes), copies nothing;
 *   POSTWRITE                   copies nothing;
 *   PRE and POST mixed          EINVAL, nothing copied or changed.
 * The pool's copy counters move by exactly one call and the window's bytes
 * per copying sync, and not at all otherwise.  A map whose memory is used
 * in place (a pool buffer) costs no copy on any sync, and PREREAD leaves
 * its bytes alone; in a transfer that mixes pool and private memory only
 * the bounced part of a window is copied, cleared and counted.
 */
#include "busdma_mem_util.h"

#define LEN 1500
#define AREA 4096

static struct ccdma_dev *d;
static struct bdm_copies cc;

struct win {
	size_t off, len;
};

static const struct win wins[] = {
	{ 0, LEN }, { 100, 900 }, { 511, 2 }, { LEN - 1, 1 }, { 0, 1 },
	{ 1, LEN - 2 }, { 512, 512 }, { 299, 2 }, { 999, 2 }, { 300, 700 },
	{ 1024, LEN - 1024 }, { 513, 986 },
};
#define NWINS (sizeof(wins) / sizeof(wins[0]))

/* A loaded transfer: its map and its memory (iov) as the CPU sees it. */
struct xfer {
	const char *name;
	ccdma_bus_dma_tag_t t;
	ccdma_bus_dmamap_t m;
	struct ccdma_iovec iov[3];
	int n;
};

static int report_ctx(int before, const struct xfer *x, const struct win *w,
		      const char *what)
{
	if (test_failures != before)
		fprintf(stderr, "  (%s, window %zu+%zu, %s)\n", x->name, w->off,
			w->len, what);
	return test_failures;
}

/* The CPU's bytes of the transfer, in order, into out / from in. */
static void cpu_get(const struct xfer *x, unsigned char *out)
{
	size_t pos = 0;
	int i;

	for (i = 0; i < x->n; pos += x->iov[i].iov_len, i++)
		memcpy(out + pos, x->iov[i].iov_base, x->iov[i].iov_len);
}

static void cpu_put(const struct xfer *x, const unsigned char *in)
{
	size_t pos = 0;
	int i;

	for (i = 0; i < x->n; pos += x->iov[i].iov_len, i++)
		memcpy(x->iov[i].iov_base, in + pos, x->iov[i].iov_len);
}

/* got == in the window `inside`, outside it `outside` (NULL: all zero). */
static bool split_eq(const unsigned char *got, const struct win *w,
		     const unsigned char *inside, const unsigned char *outside)
{
	size_t i;

	for (i = 0; i < LEN; i++) {
		bool in = i >= w->off && i < w->off + w->len;
		const unsigned char *ref = in ? inside : outside;
		unsigned char want = ref ? ref[i] : 0;

		if (got[i] != want) {
			fprintf(stderr, "  byte %zu (%s the window): %#x, expected %#x\n",
				i, in ? "inside" : "outside", got[i], want);
			return false;
		}
	}
	return true;
}

static int load(struct xfer *x)
{
	if (x->n == 1)
		return ccdma_bus_dmamap_load(x->t, x->m, x->iov[0].iov_base,
					     x->iov[0].iov_len, NULL,
					     CCDMA_BUS_DMA_NOWAIT);
	return ccdma_bus_dmamap_load_iovec(x->t, x->m, x->iov, x->n,
					   CCDMA_BUS_DMA_NOWAIT);
}

/* Every op over window w of a bounced transfer. */
static void ops_on_window(struct xfer *x, const struct win *w, unsigned seed)
{
	static const int mixed[] = {
		CCDMA_BUS_DMASYNC_PREWRITE | CCDMA_BUS_DMASYNC_POSTREAD,
		CCDMA_BUS_DMASYNC_PREREAD | CCDMA_BUS_DMASYNC_POSTWRITE,
		CCDMA_BUS_DMASYNC_PREREAD | CCDMA_BUS_DMASYNC_POSTREAD,
		CCDMA_BUS_DMASYNC_PREWRITE | CCDMA_BUS_DMASYNC_POSTWRITE,
		CCDMA_BUS_DMASYNC_PREREAD | CCDMA_BUS_DMASYNC_PREWRITE |
			CCDMA_BUS_DMASYNC_POSTREAD | CCDMA_BUS_DMASYNC_POSTWRITE,
	};
	unsigned char cpu[LEN], devb[LEN], view[LEN], now[LEN];
	ccdma_bus_dmamap_t m = x->m;
	int b = test_failures;
	unsigned i;

	REQUIRE(load(x) == 0);
	REQUIRE(m->dm_mapsize == LEN);
	CHECK_EQ(m->dm_nsegs, 3);
	CHECK_EQ(bdm_bounced_segs(m), 3);
	b = report_ctx(b, x, w, "load");

	/* PREWRITE: memory -> bounce, the window only. */
	bdm_fill(cpu, LEN, seed);
	cpu_put(x, cpu);
	bdm_fill(devb, LEN, seed + 100);
	CHECK_EQ(bdm_dev_put(d, m, devb), 0);
	EXPECT_COPIES(d, &cc, 0, 0, 0, 0);
	CHECK_EQ(ccdma_bus_dmamap_sync(x->t, m, w->off, w->len,
				       CCDMA_BUS_DMASYNC_PREWRITE), 0);
	EXPECT_COPIES(d, &cc, 1, w->len, 0, 0);
	CHECK_EQ(bdm_dev_view(d, m, view), 0);
	CHECK(split_eq(view, w, cpu, devb));
	cpu_get(x, now);
	CHECK(!memcmp(now, cpu, LEN));
	b = report_ctx(b, x, w, "PREWRITE");

	/* PREREAD|PREWRITE: the same copy. */
	bdm_fill(cpu, LEN, seed + 1);
	cpu_put(x, cpu);
	bdm_fill(devb, LEN, seed + 101);
	CHECK_EQ(bdm_dev_put(d, m, devb), 0);
	CHECK_EQ(ccdma_bus_dmamap_sync(x->t, m, w->off, w->len,
				       CCDMA_BUS_DMASYNC_PREREAD |
				       CCDMA_BUS_DMASYNC_PREWRITE), 0);
	EXPECT_COPIES(d, &cc, 1, w->len, 0, 0);
	CHECK_EQ(bdm_dev_view(d, m, view), 0);
	CHECK(split_eq(view, w, cpu, devb));
	b = report_ctx(b, x, w, "PREREAD|PREWRITE");

	/* POSTWRITE: nothing either way. */
	bdm_fill(devb, LEN, seed + 102);
	CHECK_EQ(bdm_dev_put(d, m, devb), 0);
	CHECK_EQ(ccdma_bus_dmamap_sync(x->t, m, w->off, w->len,
				       CCDMA_BUS_DMASYNC_POSTWRITE), 0);
	EXPECT_COPIES(d, &cc, 0, 0, 0, 0);
	cpu_get(x, now);
	CHECK(!memcmp(now, cpu, LEN));
	CHECK_EQ(bdm_dev_view(d, m, view), 0);
	CHECK(!memcmp(view, devb, LEN));
	b = report_ctx(b, x, w, "POSTWRITE");

	/* PREREAD then POSTREAD: bounce -> memory, the window only. */
	bdm_fill(cpu, LEN, seed + 2);
	cpu_put(x, cpu);
	CHECK_EQ(ccdma_bus_dmamap_sync(x->t, m, 0, LEN, CCDMA_BUS_DMASYNC_PREREAD), 0);
	bdm_fill(devb, LEN, seed + 103);
	CHECK_EQ(bdm_dev_put(d, m, devb), 0);
	CHECK_EQ(ccdma_bus_dmamap_sync(x->t, m, w->off, w->len,
				       CCDMA_BUS_DMASYNC_POSTREAD), 0);
	EXPECT_COPIES(d, &cc, 0, 0, 1, w->len);
	cpu_get(x, now);
	CHECK(split_eq(now, w, devb, cpu));
	CHECK_EQ(bdm_dev_view(d, m, view), 0);
	CHECK(!memcmp(view, devb, LEN));
	b = report_ctx(b, x, w, "POSTREAD");

	/* POSTREAD|POSTWRITE: the same copy. */
	bdm_fill(cpu, LEN, seed + 3);
	cpu_put(x, cpu);
	bdm_fill(devb, LEN, seed + 104);
	CHECK_EQ(bdm_dev_put(d, m, devb), 0);
	CHECK_EQ(ccdma_bus_dmamap_sync(x->t, m, w->off, w->len,
				       CCDMA_BUS_DMASYNC_POSTREAD |
				       CCDMA_BUS_DMASYNC_POSTWRITE), 0);
	EXPECT_COPIES(d, &cc, 0, 0, 1, w->len);
	cpu_get(x, now);
	CHECK(split_eq(now, w, devb, cpu));
	b = report_ctx(b, x, w, "POSTREAD|POSTWRITE");

	/* PREREAD alone: the bounce window is cleared (the device's earlier
	 * bytes are gone there), nothing is copied, the buffer untouched;
	 * a POSTREAD with no device write then hands the CPU zeros. */
	bdm_fill(cpu, LEN, seed + 4);
	cpu_put(x, cpu);
	bdm_fill(devb, LEN, seed + 105);
	CHECK_EQ(bdm_dev_put(d, m, devb), 0);
	CHECK_EQ(ccdma_bus_dmamap_sync(x->t, m, w->off, w->len,
				       CCDMA_BUS_DMASYNC_PREREAD), 0);
	EXPECT_COPIES(d, &cc, 0, 0, 0, 0);
	CHECK_EQ(bdm_dev_view(d, m, view), 0);
	CHECK(split_eq(view, w, NULL, devb));
	cpu_get(x, now);
	CHECK(!memcmp(now, cpu, LEN));
	CHECK_EQ(ccdma_bus_dmamap_sync(x->t, m, w->off, w->len,
				       CCDMA_BUS_DMASYNC_POSTREAD), 0);
	EXPECT_COPIES(d, &cc, 0, 0, 1, w->len);
	cpu_get(x, now);
	CHECK(split_eq(now, w, NULL, cpu));
	b = report_ctx(b, x, w, "PREREAD alone");

	/* PRE and POST mixed: EINVAL, nothing moves. */
	bdm_fill(cpu, LEN, seed + 5);
	cpu_put(x, cpu);
	bdm_fill(devb, LEN, seed + 106);
	CHECK_EQ(bdm_dev_put(d, m, devb), 0);
	ccdma_log_set_handler(quiet_log, NULL);
	for (i = 0; i < sizeof(mixed) / sizeof(mixed[0]); i++)
		CHECK_EQ(ccdma_bus_dmamap_sync(x->t, m, w->off, w->len, mixed[i]),
			 EINVAL);
	ccdma_log_set_handler(NULL, NULL);
	EXPECT_COPIES(d, &cc, 0, 0, 0, 0);
	CHECK_EQ(bdm_dev_view(d, m, view), 0);
	CHECK(!memcmp(view, devb, LEN));
	cpu_get(x, now);
	CHECK(!memcmp(now, cpu, LEN));
	report_ctx(b, x, w, "PRE and POST mixed");

	CHECK_EQ(ccdma_bus_dmamap_unload(x->t, m), 0);
}

/* No stale data across loads: a transfer leaves its bytes in the bounce;
 * the next load's PREREAD clears the window before the device writes. */
static void stale(struct xfer *x, unsigned char *other, bool same_bounce_required)
{
	unsigned char cpu[LEN], view[LEN], now[LEN];
	ccdma_bus_dmamap_t m = x->m;
	uintptr_t first_bounce;
	struct xfer y = *x;
	unsigned k, same = 0;
	int b = test_failures;

	for (k = 0; k < NWINS; k++) {
		const struct win *w = &wins[k];

		/* A first transfer: the CPU's bytes to the device. */
		bdm_fill(cpu, LEN, 40 + k);
		cpu_put(x, cpu);
		REQUIRE(load(x) == 0);
		first_bounce = m->dm_segs[0]._ds_bounce_va;
		CHECK_EQ(ccdma_bus_dmamap_sync(x->t, m, 0, LEN,
					       CCDMA_BUS_DMASYNC_PREWRITE), 0);
		CHECK_EQ(ccdma_bus_dmamap_sync(x->t, m, 0, LEN,
					       CCDMA_BUS_DMASYNC_POSTWRITE), 0);
		CHECK_EQ(ccdma_bus_dmamap_unload(x->t, m), 0);

		/* A second, device -> memory, of other memory. */
		y.iov[0].iov_base = other;
		y.iov[0].iov_len = LEN;
		y.n = 1;
		memset(other, 0xee, LEN);
		REQUIRE(load(&y) == 0);
		if (same_bounce_required)
			CHECK(m->dm_segs[0]._ds_bounce_va == first_bounce);
		if (m->dm_segs[0]._ds_bounce_va == first_bounce) {
			same++;
			/* The bounce does hold the first transfer's bytes (so
			 * the check below means something). */
			CHECK_EQ(bdm_dev_view(d, m, view), 0);
			CHECK(!memcmp(view, cpu, LEN));
		}
		CHECK_EQ(ccdma_bus_dmamap_sync(x->t, m, w->off, w->len,
					       CCDMA_BUS_DMASYNC_PREREAD), 0);
		CHECK_EQ(bdm_dev_view(d, m, view), 0);
		for (size_t i = w->off; i < w->off + w->len; i++)
			if (view[i]) {
				fprintf(stderr, "  byte %zu: %#x after PREREAD\n", i,
					view[i]);
				test_failures++;
				break;
			}
		/* The device writes nothing; the CPU gets zeros, never the
		 * first transfer's bytes. */
		CHECK_EQ(ccdma_bus_dmamap_sync(x->t, m, w->off, w->len,
					       CCDMA_BUS_DMASYNC_POSTREAD), 0);
		memcpy(now, other, LEN);
		for (size_t i = 0; i < LEN; i++) {
			unsigned char want = i >= w->off && i < w->off + w->len ? 0 : 0xee;

			if (now[i] != want) {
				fprintf(stderr, "  byte %zu: %#x, expected %#x\n", i,
					now[i], want);
				test_failures++;
				break;
			}
		}
		CHECK_EQ(ccdma_bus_dmamap_unload(x->t, m), 0);
		b = report_ctx(b, x, w, "stale data across loads");
	}
	printf("%s: the second load reused the first one's bounce %u of %u "
	       "times\n", x->name, same, (unsigned)NWINS);
	cc = bdm_copies(d);
}

/* A transfer of pool memory (300 bytes), private memory (700) and pool
 * memory (500): only the middle is bounced.  Copying syncs copy the part of
 * the window that lies in it (and count nothing when that is empty);
 * PREREAD clears only that part and leaves the pool memory alone. */
static void mixed(ccdma_bus_dma_tag_t t, ccdma_bus_dmamap_t m, unsigned char *priv)
{
	struct ccdma_pool *p = ccdma_dev_pool(d);
	unsigned char *sh1, *sh2, cpu[LEN], devb[LEN], view[LEN], now[LEN], want[LEN];
	struct xfer x;
	unsigned k;

	REQUIRE(ccdma_pool_alloc(p, 300, 0, (void **)&sh1) == 0);
	REQUIRE(ccdma_pool_alloc(p, 500, 0, (void **)&sh2) == 0);
	x = (struct xfer){ "pool 300 + private 700 + pool 500", t, m,
			   { { sh1, 300 }, { priv, 700 }, { sh2, 500 } }, 3 };
	for (k = 0; k < NWINS; k++) {
		const struct win *w = &wins[k];
		size_t lo = w->off > 300 ? w->off : 300;
		size_t hi = w->off + w->len < 1000 ? w->off + w->len : 1000;
		size_t in = hi > lo ? hi - lo : 0, i;
		struct win bw = { lo, in };
		int b = test_failures;

		REQUIRE(load(&x) == 0);
		CHECK_EQ(m->dm_nsegs, 3);
		CHECK_EQ(m->dm_segs[0]._ds_bounce_va, 0);
		CHECK(m->dm_segs[1]._ds_bounce_va != 0);
		CHECK_EQ(m->dm_segs[2]._ds_bounce_va, 0);

		/* PREWRITE: the bounced part of the window goes out. */
		bdm_fill(cpu, LEN, 50 + k);
		cpu_put(&x, cpu);
		bdm_fill(devb, LEN, 60 + k);
		CHECK_EQ(ccdma_dev_write(d, m->dm_segs[1].ds_addr, devb + 300, 700), 0);
		cc = bdm_copies(d);
		CHECK_EQ(ccdma_bus_dmamap_sync(t, m, w->off, w->len,
					       CCDMA_BUS_DMASYNC_PREWRITE), 0);
		EXPECT_COPIES(d, &cc, in ? 1 : 0, in, 0, 0);
		CHECK_EQ(bdm_dev_view(d, m, view), 0);
		for (i = 0; i < LEN; i++)
			want[i] = (i < 300 || i >= 1000 ||
				   (i >= bw.off && i < bw.off + bw.len)) ? cpu[i] : devb[i];
		CHECK(!memcmp(view, want, LEN));

		/* PREREAD: the bounced part cleared, the pool memory kept. */
		CHECK_EQ(ccdma_bus_dmamap_sync(t, m, w->off, w->len,
					       CCDMA_BUS_DMASYNC_PREREAD), 0);
		EXPECT_COPIES(d, &cc, 0, 0, 0, 0);
		CHECK_EQ(bdm_dev_view(d, m, view), 0);
		for (i = bw.off; i < bw.off + bw.len; i++)
			want[i] = 0;
		CHECK(!memcmp(view, want, LEN));
		cpu_get(&x, now);
		CHECK(!memcmp(now, cpu, LEN));

		/* POSTREAD: the device's bytes; those in pool memory are there
		 * already, the bounced part of the window is copied in. */
		bdm_fill(devb, LEN, 70 + k);
		CHECK_EQ(bdm_dev_put(d, m, devb), 0);
		CHECK_EQ(ccdma_bus_dmamap_sync(t, m, w->off, w->len,
					       CCDMA_BUS_DMASYNC_POSTREAD), 0);
		EXPECT_COPIES(d, &cc, 0, 0, in ? 1 : 0, in);
		cpu_get(&x, now);
		for (i = 0; i < LEN; i++)
			want[i] = (i < 300 || i >= 1000 ||
				   (i >= bw.off && i < bw.off + bw.len)) ? devb[i] : cpu[i];
		CHECK(!memcmp(now, want, LEN));
		CHECK_EQ(ccdma_bus_dmamap_unload(t, m), 0);
		report_ctx(b, &x, w, "mixed in place and bounced");
	}
	CHECK_EQ(ccdma_pool_free(p, sh1, 300), 0);
	CHECK_EQ(ccdma_pool_free(p, sh2, 500), 0);
}

int main(void)
{
	struct ccdma_bus_dma_tag_config tc;
	ccdma_bus_dma_tag_t t, t512;
	ccdma_bus_dmamap_t ma, mb, mc;
	struct xfer xa, xb, xc;
	unsigned char *priv, *other, *sh, view[LEN], pat[LEN];
	unsigned k, i;

	test_init();
	priv = malloc(4 * AREA);
	other = malloc(LEN);
	REQUIRE(priv && other);
	d = bdm_dev("bd-sync", 2u << 20, false, NULL, CCDMA_ISOLATION_DENSE);
	REQUIRE(ccdma_bus_dma_tag_create(d, NULL, NULL, &t) == 0);
	memset(&tc, 0, sizeof(tc));
	tc.maxsegsz = 512;
	REQUIRE(ccdma_bus_dma_tag_create(NULL, t, &tc, &t512) == 0);
	REQUIRE(ccdma_bus_dmamap_create(t512, LEN, 3, 0, 0, 0, &ma) == 0);
	REQUIRE(ccdma_bus_dmamap_create(t, LEN, 3, 0, 0, 0, &mb) == 0);
	REQUIRE(ccdma_bus_dmamap_create(t512, LEN, 3, 0, 0, CCDMA_BUS_DMA_ALLOCNOW,
					&mc) == 0);

	/* A: one buffer, segments of 512, 512, 476. */
	xa = (struct xfer){ "linear, maxsegsz 512", t512, ma,
			    { { priv + 7, LEN } }, 1 };
	/* B: three pieces of 300, 700, 500 bytes, one segment each. */
	xb = (struct xfer){ "iovec 300+700+500", t, mb,
			    { { priv + AREA + 3, 300 }, { priv + 2 * AREA + 100, 700 },
			      { priv + 3 * AREA + 1, 500 } }, 3 };
	/* C: A on an ALLOCNOW map. */
	xc = xa;
	xc.name = "linear, maxsegsz 512, ALLOCNOW";
	xc.m = mc;

	/* The segments are as described. */
	REQUIRE(load(&xa) == 0);
	CHECK_EQ(ma->dm_nsegs, 3);
	CHECK_EQ(ma->dm_segs[0].ds_len, 512);
	CHECK_EQ(ma->dm_segs[1].ds_len, 512);
	CHECK_EQ(ma->dm_segs[2].ds_len, LEN - 1024);
	CHECK_EQ(ccdma_bus_dmamap_unload(t512, ma), 0);
	REQUIRE(load(&xb) == 0);
	CHECK_EQ(mb->dm_nsegs, 3);
	CHECK_EQ(mb->dm_segs[0].ds_len, 300);
	CHECK_EQ(mb->dm_segs[1].ds_len, 700);
	CHECK_EQ(mb->dm_segs[2].ds_len, 500);
	CHECK_EQ(ccdma_bus_dmamap_unload(t, mb), 0);

	cc = bdm_copies(d);
	for (k = 0; k < NWINS; k++) {
		ops_on_window(&xa, &wins[k], 10 * k);
		ops_on_window(&xb, &wins[k], 10 * k + 3);
		ops_on_window(&xc, &wins[k], 10 * k + 6);
	}

	/* No stale data: on the ALLOCNOW map the bounce is the same memory
	 * every time; on the lazy map it is whatever the pool gives. */
	stale(&xc, other, true);
	stale(&xa, other, false);

	mixed(t, mb, priv + AREA);
	cc = bdm_copies(d);

	/* Bad windows and ops: EINVAL, nothing copied. */
	REQUIRE(load(&xa) == 0);
	ccdma_log_set_handler(quiet_log, NULL);
	CHECK_EQ(ccdma_bus_dmamap_sync(t512, ma, 0, 0, CCDMA_BUS_DMASYNC_PREWRITE), EINVAL);
	CHECK_EQ(ccdma_bus_dmamap_sync(t512, ma, LEN, 1, CCDMA_BUS_DMASYNC_PREWRITE), EINVAL);
	CHECK_EQ(ccdma_bus_dmamap_sync(t512, ma, 1, LEN, CCDMA_BUS_DMASYNC_POSTREAD), EINVAL);
	CHECK_EQ(ccdma_bus_dmamap_sync(t512, ma, LEN - 1, 2, CCDMA_BUS_DMASYNC_POSTREAD), EINVAL);
	CHECK_EQ(ccdma_bus_dmamap_sync(t512, ma, (size_t)-1, 2, CCDMA_BUS_DMASYNC_POSTREAD), EINVAL);
	CHECK_EQ(ccdma_bus_dmamap_sync(t512, ma, 2, (size_t)-1, CCDMA_BUS_DMASYNC_POSTREAD), EINVAL);
	CHECK_EQ(ccdma_bus_dmamap_sync(t512, ma, 0, LEN, 0), EINVAL);
	CHECK_EQ(ccdma_bus_dmamap_sync(t512, ma, 0, LEN, 1 << 4), EINVAL);
	CHECK_EQ(ccdma_bus_dmamap_sync(t, ma, 0, LEN, CCDMA_BUS_DMASYNC_PREWRITE), EINVAL);
	CHECK_EQ(ccdma_bus_dmamap_unload(t512, ma), 0);
	CHECK_EQ(ccdma_bus_dmamap_sync(t512, ma, 0, LEN, CCDMA_BUS_DMASYNC_PREWRITE), EINVAL);
	ccdma_log_set_handler(NULL, NULL);
	EXPECT_COPIES(d, &cc, 0, 0, 0, 0);

	/* Memory used in place (pool memory): no copy on any sync, and
	 * PREREAD leaves the bytes alone; the device's writes are there at
	 * once. */
	REQUIRE(ccdma_pool_alloc(ccdma_dev_pool(d), LEN, 0, (void **)&sh) == 0);
	bdm_fill(sh, LEN, 77);
	memcpy(pat, sh, LEN);
	REQUIRE(ccdma_bus_dmamap_load(t512, ma, sh, LEN, NULL, CCDMA_BUS_DMA_NOWAIT) == 0);
	CHECK_EQ(ma->dm_nsegs, 3);
	CHECK_EQ(bdm_bounced_segs(ma), 0);
	for (i = 0; i < (unsigned)ma->dm_nsegs; i++)
		CHECK_EQ(ma->dm_segs[i]._ds_va, (uintptr_t)sh + 512 * i);
	for (k = 0; k < NWINS; k++) {
		static const int ops[] = {
			CCDMA_BUS_DMASYNC_PREREAD, CCDMA_BUS_DMASYNC_PREWRITE,
			CCDMA_BUS_DMASYNC_PREREAD | CCDMA_BUS_DMASYNC_PREWRITE,
			CCDMA_BUS_DMASYNC_POSTREAD, CCDMA_BUS_DMASYNC_POSTWRITE,
			CCDMA_BUS_DMASYNC_POSTREAD | CCDMA_BUS_DMASYNC_POSTWRITE,
		};

		for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
			CHECK_EQ(ccdma_bus_dmamap_sync(t512, ma, wins[k].off,
						       wins[k].len, ops[i]), 0);
	}
	EXPECT_COPIES(d, &cc, 0, 0, 0, 0);
	CHECK(!memcmp(sh, pat, LEN));
	CHECK_EQ(bdm_dev_view(d, ma, view), 0);
	CHECK(!memcmp(view, pat, LEN));
	bdm_fill(pat, LEN, 78);
	CHECK_EQ(bdm_dev_put(d, ma, pat), 0);
	CHECK(!memcmp(sh, pat, LEN));
	CHECK_EQ(ccdma_bus_dmamap_unload(t512, ma), 0);
	CHECK_EQ(ccdma_pool_free(ccdma_dev_pool(d), sh, LEN), 0);

	CHECK_EQ(ccdma_bus_dmamap_destroy(t512, ma), 0);
	CHECK_EQ(ccdma_bus_dmamap_destroy(t, mb), 0);
	CHECK_EQ(ccdma_bus_dmamap_destroy(t512, mc), 0);
	CHECK_EQ(bdm_in_use(d), 0);
	CHECK_EQ(ccdma_bus_dma_tag_destroy(t512), 0);
	CHECK_EQ(ccdma_bus_dma_tag_destroy(t), 0);
	CHECK_EQ(ccdma_dev_destroy(d), 0);
	free(priv);
	free(other);
	return test_done("busdma_sync");
}
