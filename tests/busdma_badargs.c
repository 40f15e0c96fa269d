/* SPDX-License-Identifier: MIT */
/*
 * Bad arguments.  Every busdma function given NULL or an invalid argument
 * returns EINVAL (a positive errno; EBUSY for destroying a loaded map),
 * logs an error line, and changes nothing: a loaded map keeps its
 * segments and its data path, an unloaded map stays unloaded and usable,
 * *out arguments are left alone, the pool holds the same bytes and no
 * bounce copy is counted.  Covered: map create / destroy, the three loads
 * (a loaded map, longer than the map, a proc, unknown flags, a map of
 * another tag, bad iovecs and raw segments), unload, sync (not loaded,
 * empty window, window past the end, ops 0, unknown ops, PRE and POST
 * mixed), dmamem alloc / free / map / unmap.
 */
#include "busdma_segcheck.h"

#define MAPSZ 8192

static struct ccdma_dev *d;
static ccdma_bus_dma_tag_t t, t2;
static ccdma_bus_dmamap_t m, m2;
static unsigned char *buf, *sh;

/* A snapshot of everything a refused call must leave alone. */
struct snap {
	uint64_t in_use;
	struct bd_copies c;
	ccdma_bus_size_t mapsize;
	int nsegs;
	ccdma_bus_dma_segment_t segs[8];
};

static void take(struct snap *s)
{
	s->in_use = bd_in_use(d);
	s->c = bd_copies(d);
	s->mapsize = m->dm_mapsize;
	s->nsegs = m->dm_nsegs;
	memcpy(s->segs, m->dm_segs, sizeof(s->segs));
}

/* `call` returns `want`, logs an error (the checker, when CCDMA_DEBUG
 * turns it on, may add its own line), and nothing changed. */
#define REFUSED(call, want) refused((call), (want), #call, __LINE__)
static struct snap before;
static void refused(int rc, int want, const char *what, int line)
{
	struct snap now;
	unsigned errs = bd_log.errors;

	take(&now);
	if (rc != want || errs < 1 || now.in_use != before.in_use ||
	    !bd_copies_eq(now.c, before.c) || now.mapsize != before.mapsize ||
	    now.nsegs != before.nsegs ||
	    memcmp(now.segs, before.segs, sizeof(now.segs))) {
		fprintf(stderr, "line %d: %s: rc %d (expected %d), %u error lines "
			"(expected 1 or more), pool bytes %+lld, copies to %+lld from %+lld, "
			"mapsize %zu -> %zu, nsegs %d -> %d%s\n", line, what, rc, want,
			errs, (long long)(now.in_use - before.in_use),
			(long long)(now.c.to - before.c.to),
			(long long)(now.c.from - before.c.from), before.mapsize,
			now.mapsize, before.nsegs, now.nsegs,
			memcmp(now.segs, before.segs, sizeof(now.segs)) ?
			", segments changed" : "");
		test_failures++;
	}
	bd_log.errors = 0;
}

/* Start a refused-call block: snapshot, catch the log. */
static void expect_refusals(void)
{
	take(&before);
	bd_log_catch();
}

/* The loaded map still works: the device reads the buffer, and what it
 * writes reaches the buffer at POSTREAD. */
static void still_works(size_t len, int line)
{
	struct bd_piece p = { buf, len, 1 };

	bd_log_release();
	if (m->dm_mapsize != len) {
		fprintf(stderr, "line %d: the map no longer holds the load\n", line);
		test_failures++;
		return;
	}
	bd_check_segs(d, m, &p, 1, &(struct bd_limits){ 64, 0, 65536, 8, ~0ull },
		      line);
	bd_check_data(d, t, m, &p, 1, (uint64_t)line, line);
}

static void maps(void)
{
	ccdma_bus_dmamap_t x = (ccdma_bus_dmamap_t)(uintptr_t)0x4321;
	const ccdma_bus_dmamap_t x0 = x;

	expect_refusals();
	REFUSED(ccdma_bus_dmamap_create(NULL, MAPSZ, 1, 0, 0, 0, &x), EINVAL);
	REFUSED(ccdma_bus_dmamap_create(t, MAPSZ, 1, 0, 0, 0, NULL), EINVAL);
	REFUSED(ccdma_bus_dmamap_create(t, 0, 1, 0, 0, 0, &x), EINVAL);
	/* The tag's maxsize is 65536. */
	REFUSED(ccdma_bus_dmamap_create(t, 65537, 1, 0, 0, 0, &x), EINVAL);
	REFUSED(ccdma_bus_dmamap_create(t, MAPSZ, 0, 0, 0, 0, &x), EINVAL);
	REFUSED(ccdma_bus_dmamap_create(t, MAPSZ, -1, 0, 0, 0, &x), EINVAL);
	/* The tag allows 16 segments. */
	REFUSED(ccdma_bus_dmamap_create(t, MAPSZ, 17, 0, 0, 0, &x), EINVAL);
	/* maxsegsz above the tag's (65536), or not a multiple of 64. */
	REFUSED(ccdma_bus_dmamap_create(t, MAPSZ, 1, 65536 + 64, 0, 0, &x), EINVAL);
	REFUSED(ccdma_bus_dmamap_create(t, MAPSZ, 1, 1000, 0, 0, &x), EINVAL);
	REFUSED(ccdma_bus_dmamap_create(t, MAPSZ, 1, 32, 0, 0, &x), EINVAL);
	/* boundary: not a power of two, below the alignment. */
	REFUSED(ccdma_bus_dmamap_create(t, MAPSZ, 1, 0, 3000, 0, &x), EINVAL);
	REFUSED(ccdma_bus_dmamap_create(t, MAPSZ, 1, 0, 32, 0, &x), EINVAL);
	/* Unknown flags. */
	REFUSED(ccdma_bus_dmamap_create(t, MAPSZ, 1, 0, 0, 1 << 12, &x), EINVAL);
	REFUSED(ccdma_bus_dmamap_create(t, MAPSZ, 1, 0, 0, 1 << 7, &x), EINVAL);
	CHECK(x == x0);
	/* A boundary wider than a tag that has one. */
	REFUSED(ccdma_bus_dmamap_create(t2, MAPSZ, 1, 0, 8192, 0, &x), EINVAL);
	CHECK(x == x0);

	/* Destroy: NULLs, a map of another tag, a loaded map (EBUSY). */
	REFUSED(ccdma_bus_dmamap_destroy(NULL, m), EINVAL);
	REFUSED(ccdma_bus_dmamap_destroy(t, NULL), EINVAL);
	REFUSED(ccdma_bus_dmamap_destroy(t2, m), EINVAL);
	REFUSED(ccdma_bus_dmamap_destroy(t, m), EBUSY);
	still_works(3000, __LINE__);
}

static void loads(void)
{
	struct ccdma_iovec iov[3];
	ccdma_bus_dma_segment_t seg[2];
	void *notalloc;

	/* On the loaded map m. */
	expect_refusals();
	REFUSED(ccdma_bus_dmamap_load(t, m, buf + 4096, 100, NULL, 0), EINVAL);
	REFUSED(ccdma_bus_dmamap_load(t, m, buf, 3000, NULL, 0), EINVAL);
	iov[0] = (struct ccdma_iovec){ buf + 4096, 100 };
	REFUSED(ccdma_bus_dmamap_load_iovec(t, m, iov, 1, 0), EINVAL);
	memset(seg, 0, sizeof(seg));
	seg[0].ds_addr = 0x7000000000ull;
	seg[0].ds_len = 4096;
	REFUSED(ccdma_bus_dmamap_load_raw(t, m, seg, 1, 4096, 0), EINVAL);
	still_works(3000, __LINE__);

	/* On the unloaded map m2 (of tag t2: alignment 64, boundary 4096). */
	expect_refusals();
	/* NULLs, another tag's map. */
	REFUSED(ccdma_bus_dmamap_load(NULL, m2, buf, 100, NULL, 0), EINVAL);
	REFUSED(ccdma_bus_dmamap_load(t2, NULL, buf, 100, NULL, 0), EINVAL);
	REFUSED(ccdma_bus_dmamap_load(t, m2, buf, 100, NULL, 0), EINVAL);
	REFUSED(ccdma_bus_dmamap_load(t2, m2, NULL, 100, NULL, 0), EINVAL);
	/* Empty, longer than the map. */
	REFUSED(ccdma_bus_dmamap_load(t2, m2, buf, 0, NULL, 0), EINVAL);
	REFUSED(ccdma_bus_dmamap_load(t2, m2, buf, MAPSZ + 1, NULL, 0), EINVAL);
	/* A struct proc. */
	REFUSED(ccdma_bus_dmamap_load(t2, m2, buf, 100, (void *)buf, 0), EINVAL);
	/* Unknown flags. */
	REFUSED(ccdma_bus_dmamap_load(t2, m2, buf, 100, NULL, 1 << 7), EINVAL);
	REFUSED(ccdma_bus_dmamap_load(t2, m2, buf, 100, NULL, 1 << 20), EINVAL);
	REFUSED(ccdma_bus_dmamap_load(t2, m2, buf, 100, NULL, -1), EINVAL);
	/* Memory that wraps the address space. */
	REFUSED(ccdma_bus_dmamap_load(t2, m2, (void *)(UINTPTR_MAX - 50), 100, NULL,
				      0), EINVAL);
	/* In the pool's range but not inside one live allocation: past
	 * the end of `sh`, and a range that runs off its end. */
	REQUIRE(ccdma_pool_alloc(ccdma_dev_pool(d), 4096, 0, &notalloc) == 0);
	REQUIRE(ccdma_pool_free(ccdma_dev_pool(d), notalloc, 0) == 0);
	take(&before);
	REFUSED(ccdma_bus_dmamap_load(t2, m2, notalloc, 100, NULL, 0), EINVAL);
	REFUSED(ccdma_bus_dmamap_load(t2, m2, sh + 4096 - 64, 128, NULL, 0), EINVAL);

	/* Iovecs. */
	iov[0] = (struct ccdma_iovec){ buf, 100 };
	iov[1] = (struct ccdma_iovec){ NULL, 100 };
	iov[2] = (struct ccdma_iovec){ buf + 200, 100 };
	REFUSED(ccdma_bus_dmamap_load_iovec(NULL, m2, iov, 1, 0), EINVAL);
	REFUSED(ccdma_bus_dmamap_load_iovec(t2, NULL, iov, 1, 0), EINVAL);
	REFUSED(ccdma_bus_dmamap_load_iovec(t, m2, iov, 1, 0), EINVAL);
	REFUSED(ccdma_bus_dmamap_load_iovec(t2, m2, NULL, 1, 0), EINVAL);
	REFUSED(ccdma_bus_dmamap_load_iovec(t2, m2, iov, 0, 0), EINVAL);
	REFUSED(ccdma_bus_dmamap_load_iovec(t2, m2, iov, -1, 0), EINVAL);
	REFUSED(ccdma_bus_dmamap_load_iovec(t2, m2, iov, 3, 0), EINVAL);
	iov[1] = (struct ccdma_iovec){ buf + 100, SIZE_MAX - 50 };
	REFUSED(ccdma_bus_dmamap_load_iovec(t2, m2, iov, 3, 0), EINVAL);
	iov[1] = (struct ccdma_iovec){ buf + 100, MAPSZ };
	REFUSED(ccdma_bus_dmamap_load_iovec(t2, m2, iov, 3, 0), EINVAL);
	iov[0].iov_len = 0;
	iov[1] = (struct ccdma_iovec){ NULL, 0 };
	iov[2].iov_len = 0;
	REFUSED(ccdma_bus_dmamap_load_iovec(t2, m2, iov, 3, 0), EINVAL);
	iov[0].iov_len = 100;
	REFUSED(ccdma_bus_dmamap_load_iovec(t2, m2, iov, 3, 1 << 20), EINVAL);

	/* Raw segments. */
	memset(seg, 0, sizeof(seg));
	seg[0].ds_addr = 0x7000000000ull;
	seg[0].ds_len = 4096;
	REFUSED(ccdma_bus_dmamap_load_raw(NULL, m2, seg, 1, 4096, 0), EINVAL);
	REFUSED(ccdma_bus_dmamap_load_raw(t2, NULL, seg, 1, 4096, 0), EINVAL);
	REFUSED(ccdma_bus_dmamap_load_raw(t, m2, seg, 1, 4096, 0), EINVAL);
	REFUSED(ccdma_bus_dmamap_load_raw(t2, m2, NULL, 1, 4096, 0), EINVAL);
	REFUSED(ccdma_bus_dmamap_load_raw(t2, m2, seg, 0, 4096, 0), EINVAL);
	REFUSED(ccdma_bus_dmamap_load_raw(t2, m2, seg, 1, 0, 0), EINVAL);
	/* Fewer bytes in the segments than the size. */
	REFUSED(ccdma_bus_dmamap_load_raw(t2, m2, seg, 1, 4097, 0), EINVAL);
	REFUSED(ccdma_bus_dmamap_load_raw(t2, m2, seg, 1, MAPSZ + 1, 0), EINVAL);
	REFUSED(ccdma_bus_dmamap_load_raw(t2, m2, seg, 1, 4096, 1 << 20), EINVAL);
	/* Pool memory under a DMA address that is not its own. */
	seg[0].ds_addr = (uintptr_t)sh + 4096;
	seg[0]._ds_va = (uintptr_t)sh;
	REFUSED(ccdma_bus_dmamap_load_raw(t2, m2, seg, 1, 4096, 0), EINVAL);
	/* Device memory, misaligned for t2 (64). */
	seg[0].ds_addr = 0x7000000000ull + 32;
	seg[0]._ds_va = 0;
	REFUSED(ccdma_bus_dmamap_load_raw(t2, m2, seg, 1, 4096, 0), EINVAL);
	bd_log_release();
	/* After all that, m2 loads. */
	CHECK_EQ(m2->dm_nsegs, 0);
	CHECK_EQ(ccdma_bus_dmamap_load(t2, m2, buf, 5000, NULL, 0), 0);
	CHECK_EQ(m2->dm_nsegs, 2);
	CHECK_EQ(ccdma_bus_dmamap_unload(t2, m2), 0);
}

static void unloads(void)
{
	expect_refusals();
	REFUSED(ccdma_bus_dmamap_unload(NULL, m), EINVAL);
	REFUSED(ccdma_bus_dmamap_unload(t, NULL), EINVAL);
	REFUSED(ccdma_bus_dmamap_unload(t2, m), EINVAL);
	REFUSED(ccdma_bus_dmamap_unload(t2, m2), EINVAL);
	still_works(3000, __LINE__);
}

static void syncs(void)
{
	static const int mixed[] = {
		CCDMA_BUS_DMASYNC_PREREAD | CCDMA_BUS_DMASYNC_POSTREAD,
		CCDMA_BUS_DMASYNC_PREWRITE | CCDMA_BUS_DMASYNC_POSTWRITE,
		CCDMA_BUS_DMASYNC_PREREAD | CCDMA_BUS_DMASYNC_POSTWRITE,
		CCDMA_BUS_DMASYNC_PREWRITE | CCDMA_BUS_DMASYNC_POSTREAD,
		CCDMA_BUS_DMASYNC_PREREAD | CCDMA_BUS_DMASYNC_PREWRITE |
			CCDMA_BUS_DMASYNC_POSTREAD | CCDMA_BUS_DMASYNC_POSTWRITE,
	};
	unsigned i;

	/* The buffer holds one pattern, the bounce another: a sync that
	 * copied anything would show in the bytes too. */
	CHECK_EQ(ccdma_bus_dmamap_sync(t, m, 0, 3000, CCDMA_BUS_DMASYNC_PREWRITE), 0);
	memset(buf, 0x11, 3000);
	expect_refusals();
	REFUSED(ccdma_bus_dmamap_sync(NULL, m, 0, 100, CCDMA_BUS_DMASYNC_PREWRITE), EINVAL);
	REFUSED(ccdma_bus_dmamap_sync(t, NULL, 0, 100, CCDMA_BUS_DMASYNC_PREWRITE), EINVAL);
	REFUSED(ccdma_bus_dmamap_sync(t2, m, 0, 100, CCDMA_BUS_DMASYNC_PREWRITE), EINVAL);
	/* Not loaded. */
	REFUSED(ccdma_bus_dmamap_sync(t2, m2, 0, 100, CCDMA_BUS_DMASYNC_PREWRITE), EINVAL);
	REFUSED(ccdma_bus_dmamap_sync(t2, m2, 0, 100, CCDMA_BUS_DMASYNC_POSTREAD), EINVAL);
	/* Empty window; windows past the end. */
	REFUSED(ccdma_bus_dmamap_sync(t, m, 0, 0, CCDMA_BUS_DMASYNC_PREWRITE), EINVAL);
	REFUSED(ccdma_bus_dmamap_sync(t, m, 100, 0, CCDMA_BUS_DMASYNC_POSTREAD), EINVAL);
	REFUSED(ccdma_bus_dmamap_sync(t, m, 0, 3001, CCDMA_BUS_DMASYNC_PREWRITE), EINVAL);
	REFUSED(ccdma_bus_dmamap_sync(t, m, 2999, 2, CCDMA_BUS_DMASYNC_POSTREAD), EINVAL);
	REFUSED(ccdma_bus_dmamap_sync(t, m, 3000, 1, CCDMA_BUS_DMASYNC_POSTREAD), EINVAL);
	REFUSED(ccdma_bus_dmamap_sync(t, m, SIZE_MAX, 2, CCDMA_BUS_DMASYNC_POSTREAD), EINVAL);
	REFUSED(ccdma_bus_dmamap_sync(t, m, 100, SIZE_MAX, CCDMA_BUS_DMASYNC_POSTREAD), EINVAL);
	/* ops 0, unknown ops. */
	REFUSED(ccdma_bus_dmamap_sync(t, m, 0, 100, 0), EINVAL);
	REFUSED(ccdma_bus_dmamap_sync(t, m, 0, 100, 1 << 4), EINVAL);
	REFUSED(ccdma_bus_dmamap_sync(t, m, 0, 100,
				      CCDMA_BUS_DMASYNC_POSTREAD | (1 << 9)), EINVAL);
	REFUSED(ccdma_bus_dmamap_sync(t, m, 0, 100, -1), EINVAL);
	/* PRE and POST mixed. */
	for (i = 0; i < sizeof(mixed) / sizeof(mixed[0]); i++)
		REFUSED(ccdma_bus_dmamap_sync(t, m, 0, 3000, mixed[i]), EINVAL);
	bd_log_release();
	/* Nothing moved: the buffer still holds 0x11 (no POSTREAD copied the
	 * bounce in), the device still reads the PREWRITE's bytes (no
	 * PREWRITE or PREREAD touched the bounce). */
	{
		unsigned char got[3000];
		size_t j, k = 0;
		int s;

		for (j = 0; j < 3000; j++)
			if (buf[j] != 0x11)
				break;
		CHECK_EQ(j, 3000);
		for (s = 0; s < m->dm_nsegs; s++) {
			CHECK_EQ(ccdma_dev_read(d, m->dm_segs[s].ds_addr, got + k,
						m->dm_segs[s].ds_len), 0);
			k += m->dm_segs[s].ds_len;
		}
		CHECK(bd_holds(&(struct bd_piece){ got, 3000, 1 }, 1, 0x5eed, -1) < 0);
	}
	still_works(3000, __LINE__);
}

static void dmamem(void)
{
	ccdma_bus_dma_segment_t s[4], ok[1], bad[2];
	ccdma_caddr_t kva = (ccdma_caddr_t)(uintptr_t)0x777;
	int r = 99, n;

	REQUIRE(ccdma_bus_dmamem_alloc(t, 1000, 0, 0, ok, 1, &n, 0) == 0);
	CHECK_EQ(n, 1);
	expect_refusals();
	REFUSED(ccdma_bus_dmamem_alloc(NULL, 1000, 0, 0, s, 4, &r, 0), EINVAL);
	REFUSED(ccdma_bus_dmamem_alloc(t, 1000, 0, 0, NULL, 4, &r, 0), EINVAL);
	REFUSED(ccdma_bus_dmamem_alloc(t, 1000, 0, 0, s, 4, NULL, 0), EINVAL);
	REFUSED(ccdma_bus_dmamem_alloc(t, 1000, 0, 0, s, 0, &r, 0), EINVAL);
	REFUSED(ccdma_bus_dmamem_alloc(t, 0, 0, 0, s, 4, &r, 0), EINVAL);
	REFUSED(ccdma_bus_dmamem_alloc(t, CCDMA_POOL_MAX_ALLOC + 1, 0, 0, s, 4, &r, 0),
		EINVAL);
	REFUSED(ccdma_bus_dmamem_alloc(t, 1000, 48, 0, s, 4, &r, 0), EINVAL);
	REFUSED(ccdma_bus_dmamem_alloc(t, 1000, 0, 3000, s, 4, &r, 0), EINVAL);
	REFUSED(ccdma_bus_dmamem_alloc(t, 1000, 4096, 1024, s, 4, &r, 0), EINVAL);
	REFUSED(ccdma_bus_dmamem_alloc(t, 1000, 0, 0, s, 4, &r, 1 << 7), EINVAL);
	REFUSED(ccdma_bus_dmamem_alloc(t, 1000, 0, 0, s, 4, &r, 1 << 20), EINVAL);
	CHECK_EQ(r, 99);
	/* free / map / unmap of what is not one dmamem allocation. */
	REFUSED(ccdma_bus_dmamem_free(NULL, ok, 1), EINVAL);
	REFUSED(ccdma_bus_dmamem_free(t, NULL, 1), EINVAL);
	REFUSED(ccdma_bus_dmamem_free(t, ok, 0), EINVAL);
	memset(bad, 0, sizeof(bad));
	bad[0].ds_addr = (uintptr_t)buf;
	bad[0].ds_len = 100;
	bad[0]._ds_va = (uintptr_t)buf;
	REFUSED(ccdma_bus_dmamem_free(t, bad, 1), EINVAL);
	/* A pool allocation that is not dmamem. */
	bad[0].ds_addr = bad[0]._ds_va = (uintptr_t)sh;
	REFUSED(ccdma_bus_dmamem_free(t, bad, 1), EINVAL);
	/* The middle of the dmamem, or two segments that do not follow. */
	bad[0] = ok[0];
	bad[0]._ds_va += 64;
	bad[0].ds_addr += 64;
	bad[0].ds_len -= 64;
	REFUSED(ccdma_bus_dmamem_free(t, bad, 1), EINVAL);
	bad[0] = ok[0];
	bad[0].ds_len = 100;
	bad[1] = ok[0];
	bad[1].ds_len = 100;
	REFUSED(ccdma_bus_dmamem_free(t, bad, 2), EINVAL);
	REFUSED(ccdma_bus_dmamem_map(t, ok, 1, 1000, NULL, 0), EINVAL);
	REFUSED(ccdma_bus_dmamem_map(t, ok, 1, 0, &kva, 0), EINVAL);
	REFUSED(ccdma_bus_dmamem_map(t, ok, 1, 1000 + 4096 * 16, &kva, 0), EINVAL);
	REFUSED(ccdma_bus_dmamem_map(t, ok, 1, 1000, &kva, 1 << 20), EINVAL);
	REFUSED(ccdma_bus_dmamem_map(NULL, ok, 1, 1000, &kva, 0), EINVAL);
	REFUSED(ccdma_bus_dmamem_map(t, bad, 2, 200, &kva, 0), EINVAL);
	CHECK(kva == (ccdma_caddr_t)(uintptr_t)0x777);
	REFUSED(ccdma_bus_dmamem_unmap(t, NULL, 1000), EINVAL);
	REFUSED(ccdma_bus_dmamem_unmap(t, buf, 1000), EINVAL);
	REFUSED(ccdma_bus_dmamem_unmap(t, sh, 1000), EINVAL);
	bd_log_release();
	/* The real one still maps, unmaps and frees. */
	CHECK_EQ(ccdma_bus_dmamem_map(t, ok, 1, 1000, &kva, 0), 0);
	CHECK_EQ((uintptr_t)kva, ok[0]._ds_va);
	CHECK_EQ(ccdma_bus_dmamem_unmap(t, kva, 1000), 0);
	CHECK_EQ(ccdma_bus_dmamem_free(t, ok, 1), 0);
	/* And freeing it twice is refused. */
	expect_refusals();
	REFUSED(ccdma_bus_dmamem_free(t, ok, 1), EINVAL);
	bd_log_release();
}

int main(void)
{
	struct ccdma_bus_dma_tag_config c;

	test_init();
	d = bd_dev("badargs", NULL, CCDMA_MODE_CONFIDENTIAL);
	buf = aligned_alloc(4096, 3 * MAPSZ);
	REQUIRE(buf);
	REQUIRE(ccdma_pool_alloc(ccdma_dev_pool(d), 4096, 0, (void **)&sh) == 0);
	memset(&c, 0, sizeof(c));
	c.alignment = 64;
	c.nsegments = 16;
	c.maxsize = 65536;
	REQUIRE(ccdma_bus_dma_tag_create(d, NULL, &c, &t) == 0);
	c.boundary = 4096;
	REQUIRE(ccdma_bus_dma_tag_create(d, NULL, &c, &t2) == 0);
	REQUIRE(ccdma_bus_dmamap_create(t, MAPSZ, 8, 0, 0, 0, &m) == 0);
	REQUIRE(ccdma_bus_dmamap_create(t2, MAPSZ, 8, 0, 0, 0, &m2) == 0);
	/* m holds a bounced load throughout. */
	REQUIRE(ccdma_bus_dmamap_load(t, m, buf, 3000, NULL, 0) == 0);
	REQUIRE(m->dm_nsegs == 1);
	/* Fill the bounce with a known pattern (0x5eed) for syncs(). */
	bd_fill(&(struct bd_piece){ buf, 3000, 1 }, 1, 0x5eed);

	maps();
	loads();
	unloads();
	bd_fill(&(struct bd_piece){ buf, 3000, 1 }, 1, 0x5eed);
	syncs();
	dmamem();

	CHECK_EQ(ccdma_bus_dmamap_unload(t, m), 0);
	CHECK_EQ(ccdma_bus_dmamap_destroy(t, m), 0);
	CHECK_EQ(ccdma_bus_dmamap_destroy(t2, m2), 0);
	CHECK_EQ(ccdma_bus_dma_tag_destroy(t2), 0);
	CHECK_EQ(ccdma_bus_dma_tag_destroy(t), 0);
	CHECK_EQ(ccdma_pool_free(ccdma_dev_pool(d), sh, SIZE_MAX), 0);
	CHECK_EQ(ccdma_dev_destroy(d), 0);
	free(buf);
	return test_done("busdma_badargs");
}
