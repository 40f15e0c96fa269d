/* SPDX-License-Identifier: MIT */
/*
 * busdma on a strict IOMMU device: the device reaches a map's segments
 * from load to unload and nothing else.  Before a load, and after unload,
 * every segment is refused (-EFAULT, counted as a fault); while loaded,
 * each is reachable over its whole length and the data goes through.  The
 * load hints narrow the permission: CCDMA_BUS_DMA_READ (device to memory)
 * lets the device write but not read, CCDMA_BUS_DMA_WRITE read but not
 * write, neither both.  The same holds for an ALLOCNOW map (its
 * reservation is reachable only while loaded), for dmamem and for pool
 * memory loaded in place; two maps of the same memory keep their own
 * permissions.  The pool isolates pages, so no probe reaches a neighbour.
 */
#include "busdma_mem_util.h"

static struct ccdma_dev *d;
static uint64_t expect_faults;
static unsigned char *scratch;

/* A read and a write of [dma, dma+len): which succeed. */
static void probe(int line, ccdma_addr_t dma, size_t len, bool can_read,
		  bool can_write)
{
	int r, w;

	r = ccdma_dev_read(d, dma, scratch, len);
	w = ccdma_dev_write(d, dma, scratch, len);
	expect_faults += !can_read + !can_write;
	if (r != (can_read ? 0 : -EFAULT) || w != (can_write ? 0 : -EFAULT)) {
		fprintf(stderr, "%s:%d: access at %#llx+%zu: read %d write %d, "
			"expected read %s write %s\n", __FILE__, line,
			(unsigned long long)dma, len, r, w, can_read ? "ok" : "fault",
			can_write ? "ok" : "fault");
		test_failures++;
	}
	if (ccdma_dev_faults(d) != expect_faults) {
		fprintf(stderr, "%s:%d: %llu faults, expected %llu\n", __FILE__, line,
			(unsigned long long)ccdma_dev_faults(d),
			(unsigned long long)expect_faults);
		test_failures++;
		expect_faults = ccdma_dev_faults(d);
	}
}

#define PROBE(dma, len, r, w) probe(__LINE__, dma, len, r, w)

/* Every segment of map m: whole, first and last byte. */
static void probe_segs(int line, const ccdma_bus_dma_segment_t *s, int n,
		       bool r, bool w)
{
	int i;

	for (i = 0; i < n; i++) {
		probe(line, s[i].ds_addr, s[i].ds_len, r, w);
		probe(line, s[i].ds_addr, 1, r, w);
		probe(line, s[i].ds_addr + s[i].ds_len - 1, 1, r, w);
	}
}

#define PROBE_SEGS(s, n, r, w) probe_segs(__LINE__, s, n, r, w)

int main(void)
{
	struct ccdma_xlate xl = { .kind = CCDMA_XLATE_IOMMU, .iommu = CCDMA_IOMMU_STRICT };
	size_t ps = ccdma_page_size(), len = 3 * ps + 100;
	struct ccdma_bus_dma_tag_config tc;
	ccdma_bus_dma_segment_t saved[8], dm[4];
	ccdma_bus_dma_tag_t t, tp;
	ccdma_bus_dmamap_t m, ma, m2;
	ccdma_addr_t first, last;
	unsigned char *buf, *pat, *view, *sh;
	ccdma_caddr_t kva;
	int n, rseg, hint;

	test_init();
	buf = malloc(len);
	pat = malloc(len);
	view = malloc(len);
	scratch = malloc(len);
	REQUIRE(buf && pat && view && scratch);
	memset(scratch, 0x6b, len);
	d = bdm_dev("bd-strict", 2u << 20, true, &xl, CCDMA_ISOLATION_PAGE);
	REQUIRE(ccdma_dev_pool_dma_range(d, &first, &last) == 0);
	REQUIRE(ccdma_bus_dma_tag_create(d, NULL, NULL, &t) == 0);
	memset(&tc, 0, sizeof(tc));
	tc.maxsegsz = ps; /* several segments per map */
	REQUIRE(ccdma_bus_dma_tag_create(NULL, t, &tc, &tp) == 0);
	REQUIRE(ccdma_bus_dmamap_create(tp, len, 8, 0, 0, CCDMA_BUS_DMA_NOWAIT, &m) == 0);

	/* Nothing loaded: nothing reachable. */
	PROBE(first, 1, false, false);
	PROBE(first + ps, 16, false, false);

	/* No hint: read and write, while loaded only. */
	bdm_fill(buf, len, 1);
	REQUIRE(ccdma_bus_dmamap_load(tp, m, buf, len, NULL, CCDMA_BUS_DMA_NOWAIT) == 0);
	n = m->dm_nsegs;
	CHECK_EQ(n, 4);
	REQUIRE(n <= 8);
	memcpy(saved, m->dm_segs, (size_t)n * sizeof(saved[0]));
	for (int i = 0; i < n; i++)
		CHECK(saved[i].ds_addr >= first && saved[i].ds_addr + saved[i].ds_len - 1 <= last);
	PROBE_SEGS(saved, n, true, true);
	CHECK_EQ(ccdma_bus_dmamap_sync(tp, m, 0, len, CCDMA_BUS_DMASYNC_PREWRITE |
				       CCDMA_BUS_DMASYNC_PREREAD), 0);
	CHECK_EQ(bdm_dev_view(d, m, view), 0);
	CHECK(!memcmp(view, buf, len));
	bdm_fill(pat, len, 2);
	CHECK_EQ(bdm_dev_put(d, m, pat), 0);
	CHECK_EQ(ccdma_bus_dmamap_sync(tp, m, 0, len, CCDMA_BUS_DMASYNC_POSTREAD |
				       CCDMA_BUS_DMASYNC_POSTWRITE), 0);
	CHECK(!memcmp(buf, pat, len));
	CHECK_EQ(ccdma_bus_dmamap_unload(tp, m), 0);
	PROBE_SEGS(saved, n, false, false);

	/* CCDMA_BUS_DMA_READ: the device writes memory, may not read it. */
	bdm_fill(buf, len, 3);
	REQUIRE(ccdma_bus_dmamap_load(tp, m, buf, len, NULL,
				      CCDMA_BUS_DMA_NOWAIT | CCDMA_BUS_DMA_READ) == 0);
	n = m->dm_nsegs;
	memcpy(saved, m->dm_segs, (size_t)n * sizeof(saved[0]));
	CHECK_EQ(ccdma_bus_dmamap_sync(tp, m, 0, len, CCDMA_BUS_DMASYNC_PREREAD), 0);
	PROBE_SEGS(saved, n, false, true);
	bdm_fill(pat, len, 4);
	CHECK_EQ(bdm_dev_put(d, m, pat), 0);
	CHECK_EQ(bdm_dev_view(d, m, view), -EFAULT);
	expect_faults++;
	CHECK_EQ(ccdma_bus_dmamap_sync(tp, m, 0, len, CCDMA_BUS_DMASYNC_POSTREAD), 0);
	CHECK(!memcmp(buf, pat, len));
	CHECK_EQ(ccdma_bus_dmamap_unload(tp, m), 0);
	PROBE_SEGS(saved, n, false, false);

	/* CCDMA_BUS_DMA_WRITE: the device reads memory, may not write it. */
	bdm_fill(buf, len, 5);
	REQUIRE(ccdma_bus_dmamap_load(tp, m, buf, len, NULL,
				      CCDMA_BUS_DMA_NOWAIT | CCDMA_BUS_DMA_WRITE) == 0);
	n = m->dm_nsegs;
	memcpy(saved, m->dm_segs, (size_t)n * sizeof(saved[0]));
	CHECK_EQ(ccdma_bus_dmamap_sync(tp, m, 0, len, CCDMA_BUS_DMASYNC_PREWRITE), 0);
	CHECK_EQ(bdm_dev_view(d, m, view), 0);
	CHECK(!memcmp(view, buf, len));
	PROBE_SEGS(saved, n, true, false);
	CHECK_EQ(bdm_dev_put(d, m, pat), -EFAULT);
	expect_faults++;
	CHECK_EQ(ccdma_bus_dmamap_sync(tp, m, 0, len, CCDMA_BUS_DMASYNC_POSTWRITE), 0);
	CHECK_EQ(ccdma_bus_dmamap_unload(tp, m), 0);
	PROBE_SEGS(saved, n, false, false);
	bdm_fill(pat, len, 5);
	CHECK(!memcmp(buf, pat, len)); /* the refused write changed nothing */

	/* ALLOCNOW: the reservation is reachable only while loaded, each
	 * time with the load's permission. */
	REQUIRE(ccdma_bus_dmamap_create(tp, len, 8, 0, 0, CCDMA_BUS_DMA_NOWAIT |
					CCDMA_BUS_DMA_ALLOCNOW, &ma) == 0);
	for (hint = 0; hint < 3; hint++) {
		int f = hint == 1 ? CCDMA_BUS_DMA_READ : hint == 2 ? CCDMA_BUS_DMA_WRITE : 0;

		REQUIRE(ccdma_bus_dmamap_load(tp, ma, buf, len, NULL,
					      CCDMA_BUS_DMA_NOWAIT | f) == 0);
		n = ma->dm_nsegs;
		memcpy(saved, ma->dm_segs, (size_t)n * sizeof(saved[0]));
		PROBE_SEGS(saved, n, hint != 1, hint != 2);
		CHECK_EQ(ccdma_bus_dmamap_unload(tp, ma), 0);
		PROBE_SEGS(saved, n, false, false);
	}
	/* A shorter load opens only its own segments. */
	REQUIRE(ccdma_bus_dmamap_load(tp, ma, buf, 100, NULL, CCDMA_BUS_DMA_NOWAIT) == 0);
	CHECK_EQ(ma->dm_nsegs, 1);
	PROBE(ma->dm_segs[0].ds_addr, 100, true, true);
	PROBE(saved[0].ds_addr + ps, 1, false, false);
	CHECK_EQ(ccdma_bus_dmamap_unload(tp, ma), 0);
	PROBE(saved[0].ds_addr, 1, false, false);
	CHECK_EQ(ccdma_bus_dmamap_destroy(tp, ma), 0);

	/* dmamem: the device learns of it by a load and reaches it from
	 * load to unload. */
	REQUIRE(ccdma_bus_dmamem_alloc(t, 2 * ps, 0, 0, dm, 4, &rseg, 0) == 0);
	REQUIRE(ccdma_bus_dmamem_map(t, dm, rseg, 2 * ps, &kva, 0) == 0);
	PROBE(dm[0].ds_addr, 1, false, false);
	REQUIRE(ccdma_bus_dmamap_create(t, 2 * ps, 4, 0, 0, 0, &m2) == 0);
	REQUIRE(ccdma_bus_dmamap_load_raw(t, m2, dm, rseg, 2 * ps, CCDMA_BUS_DMA_NOWAIT) == 0);
	CHECK_EQ(bdm_bounced_segs(m2), 0);
	CHECK_EQ(m2->dm_segs[0].ds_addr, dm[0].ds_addr);
	PROBE(dm[0].ds_addr, 2 * ps, true, true);
	memcpy(kva, "ring", 4);
	CHECK_EQ(ccdma_dev_read(d, dm[0].ds_addr, view, 4), 0);
	CHECK(!memcmp(view, "ring", 4));
	CHECK_EQ(ccdma_bus_dmamap_unload(t, m2), 0);
	PROBE(dm[0].ds_addr, 1, false, false);
	PROBE(dm[0].ds_addr + 2 * ps - 1, 1, false, false);

	/* Pool memory loaded in place; two maps of it add and remove only
	 * their own permission. */
	REQUIRE(ccdma_pool_alloc(ccdma_dev_pool(d), 1000, 0, (void **)&sh) == 0);
	REQUIRE(ccdma_bus_dmamap_load(tp, m, sh, 1000, NULL,
				      CCDMA_BUS_DMA_NOWAIT | CCDMA_BUS_DMA_WRITE) == 0);
	CHECK_EQ(bdm_bounced_segs(m), 0);
	saved[0] = m->dm_segs[0];
	PROBE(saved[0].ds_addr, 1000, true, false);
	REQUIRE(ccdma_bus_dmamap_load(t, m2, sh, 1000, NULL,
				      CCDMA_BUS_DMA_NOWAIT | CCDMA_BUS_DMA_READ) == 0);
	CHECK_EQ(m2->dm_segs[0].ds_addr, saved[0].ds_addr);
	PROBE(saved[0].ds_addr, 1000, true, true);
	CHECK_EQ(ccdma_bus_dmamap_unload(tp, m), 0);
	PROBE(saved[0].ds_addr, 1000, false, true);
	CHECK_EQ(ccdma_bus_dmamap_unload(t, m2), 0);
	PROBE(saved[0].ds_addr, 1, false, false);
	CHECK_EQ(ccdma_pool_free(ccdma_dev_pool(d), sh, 1000), 0);

	CHECK_EQ(ccdma_bus_dmamem_unmap(t, kva, 2 * ps), 0);
	CHECK_EQ(ccdma_bus_dmamem_free(t, dm, rseg), 0);
	CHECK_EQ(ccdma_bus_dmamap_destroy(t, m2), 0);
	CHECK_EQ(ccdma_bus_dmamap_destroy(tp, m), 0);
	CHECK_EQ(bdm_in_use(d), 0);
	CHECK_EQ(ccdma_bus_dma_tag_destroy(tp), 0);
	CHECK_EQ(ccdma_bus_dma_tag_destroy(t), 0);
	CHECK_EQ(ccdma_dev_destroy(d), 0);
	free(buf);
	free(pat);
	free(view);
	free(scratch);
	return test_done("busdma_strict");
}
