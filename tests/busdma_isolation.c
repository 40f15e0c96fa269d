/* SPDX-License-Identifier: MIT */
/*
 * busdma: page isolation (CCDMA_BUS_DMA_TAG_ISOLATE).
 *
 * 64 maps of 100..3000 bytes (some ALLOCNOW, some cut into segments of
 * 1 KiB, some loaded from two-piece iovecs) and a few small dmamem
 * allocations, all live at once on one dense pool.  Under a tag with
 * ISOLATE no page of the device's address space holds bytes of two
 * different maps (or dmamem allocations); under a tag without it, small
 * maps do share pages (so the check can fail).  The cost of isolation is
 * measured in the pool's bytes in use for the same maps, printed, and
 * must be at least one page per map.  A child of an isolating tag
 * isolates too.
 */
#include "busdma_mem_util.h"

#define NMAPS 64
#define NDMAMEM 8
#define MAXLEN 3000

struct owner_page {
	uint64_t page;
	unsigned owner;
};

static struct ccdma_dev *d;
static size_t page;

static int cmp_page(const void *a, const void *b)
{
	const struct owner_page *x = a, *y = b;

	if (x->page != y->page)
		return x->page < y->page ? -1 : 1;
	return x->owner < y->owner ? -1 : x->owner > y->owner;
}

/* Pages of [addr, addr+len) for `owner`. */
static unsigned add_pages(struct owner_page *v, unsigned n, uint64_t addr,
			  size_t len, unsigned owner)
{
	uint64_t pg;

	for (pg = addr / page; pg <= (addr + len - 1) / page; pg++) {
		v[n].page = pg;
		v[n].owner = owner;
		n++;
	}
	return n;
}

/* Pages that hold bytes of more than one owner. */
static unsigned shared_pages(struct owner_page *v, unsigned n)
{
	unsigned i = 0, j, shared = 0;

	qsort(v, n, sizeof(*v), cmp_page);
	while (i < n) {
		bool two = false;

		for (j = i + 1; j < n && v[j].page == v[i].page; j++)
			two |= v[j].owner != v[i].owner;
		shared += two;
		i = j;
	}
	return shared;
}

/* Load the maps and dmamem through tag t; the pages shared between owners
 * and the bytes in use it cost. */
static void phase(ccdma_bus_dma_tag_t t, const char *name, unsigned *shared,
		  uint64_t *cost)
{
	static struct owner_page v[(NMAPS + NDMAMEM) * 16];
	ccdma_bus_dmamap_t m[NMAPS];
	ccdma_bus_dma_segment_t dm[NDMAMEM];
	unsigned char *buf[NMAPS], *exp[NMAPS], view[MAXLEN];
	size_t len[NMAPS];
	uint64_t rng = 0xfeedbeefull, base = bdm_in_use(d);
	unsigned i, n = 0, nsegs = 0;
	int k, rseg;

	for (i = 0; i < NMAPS; i++) {
		int flags = CCDMA_BUS_DMA_NOWAIT | (i % 4 == 0 ? CCDMA_BUS_DMA_ALLOCNOW : 0);
		size_t maxseg = i % 2 ? 1024 : 0;

		len[i] = 100 + (size_t)(xorshift(&rng) % (MAXLEN - 100 + 1));
		buf[i] = malloc(len[i] + 64);
		exp[i] = malloc(len[i]);
		REQUIRE(buf[i] && exp[i]);
		bdm_fill(buf[i], len[i] + 64, i);
		memcpy(exp[i], buf[i], len[i]);
		REQUIRE(ccdma_bus_dmamap_create(t, len[i], 4, maxseg, 0, flags, &m[i]) == 0);
		if (i % 5 == 1) {
			struct ccdma_iovec iov[2] = {
				{ buf[i], len[i] / 3 },
				{ buf[i] + len[i] / 3 + 64, len[i] - len[i] / 3 },
			};

			REQUIRE(ccdma_bus_dmamap_load_iovec(t, m[i], iov, 2,
							    CCDMA_BUS_DMA_NOWAIT) == 0);
			/* The transfer's bytes, in order, for the check below. */
			memcpy(exp[i] + len[i] / 3, buf[i] + len[i] / 3 + 64,
			       len[i] - len[i] / 3);
		} else {
			REQUIRE(ccdma_bus_dmamap_load(t, m[i], buf[i], len[i], NULL,
						      CCDMA_BUS_DMA_NOWAIT) == 0);
		}
	}
	for (i = 0; i < NDMAMEM; i++)
		REQUIRE(ccdma_bus_dmamem_alloc(t, 100, 0, 0, &dm[i], 1, &rseg, 0) == 0);
	*cost = bdm_in_use(d) - base;

	for (i = 0; i < NMAPS; i++) {
		CHECK_EQ(m[i]->dm_mapsize, len[i]);
		CHECK_EQ(bdm_bounced_segs(m[i]), m[i]->dm_nsegs);
		for (k = 0; k < m[i]->dm_nsegs; k++, nsegs++)
			n = add_pages(v, n, m[i]->dm_segs[k].ds_addr,
				      m[i]->dm_segs[k].ds_len, i);
	}
	for (i = 0; i < NDMAMEM; i++)
		n = add_pages(v, n, dm[i].ds_addr, dm[i].ds_len, NMAPS + i);
	*shared = shared_pages(v, n);
	printf("%s: %u maps (%u segments) and %u dmamem: %u shared pages, %llu "
	       "bytes in use (%.2f pages of %zu per owner)\n", name, NMAPS, nsegs,
	       NDMAMEM, *shared, (unsigned long long)*cost,
	       (double)*cost / (double)page / (NMAPS + NDMAMEM), page);

	/* The segments carry the maps' data. */
	for (i = 0; i < NMAPS; i++) {
		CHECK_EQ(ccdma_bus_dmamap_sync(t, m[i], 0, len[i],
					       CCDMA_BUS_DMASYNC_PREWRITE), 0);
		CHECK_EQ(bdm_dev_view(d, m[i], view), 0);
		CHECK(!memcmp(view, exp[i], len[i]));
		CHECK_EQ(ccdma_bus_dmamap_sync(t, m[i], 0, len[i],
					       CCDMA_BUS_DMASYNC_POSTWRITE), 0);
	}
	for (i = 0; i < NMAPS; i++) {
		CHECK_EQ(ccdma_bus_dmamap_unload(t, m[i]), 0);
		CHECK_EQ(ccdma_bus_dmamap_destroy(t, m[i]), 0);
		free(buf[i]);
		free(exp[i]);
	}
	for (i = 0; i < NDMAMEM; i++)
		CHECK_EQ(ccdma_bus_dmamem_free(t, &dm[i], 1), 0);
	CHECK_EQ(bdm_in_use(d), base);
}

int main(void)
{
	struct ccdma_bus_dma_tag_config tc, got;
	ccdma_bus_dma_tag_t t, iso, iso_child;
	unsigned sh_dense, sh_iso, sh_child;
	uint64_t c_dense, c_iso, c_child;

	test_init();
	page = ccdma_page_size();
	d = bdm_dev("bd-isolation", 8u << 20, false, NULL, CCDMA_ISOLATION_DENSE);
	REQUIRE(ccdma_bus_dma_tag_create(d, NULL, NULL, &t) == 0);
	memset(&tc, 0, sizeof(tc));
	tc.flags = CCDMA_BUS_DMA_TAG_ISOLATE;
	REQUIRE(ccdma_bus_dma_tag_create(NULL, t, &tc, &iso) == 0);
	REQUIRE(ccdma_bus_dma_tag_create(NULL, iso, NULL, &iso_child) == 0);
	CHECK_EQ(ccdma_bus_dma_tag_get(iso_child, &got), 0);
	CHECK(got.flags & CCDMA_BUS_DMA_TAG_ISOLATE);
	CHECK_EQ(ccdma_bus_dma_tag_get(t, &got), 0);
	CHECK(!(got.flags & CCDMA_BUS_DMA_TAG_ISOLATE));

	phase(t, "dense", &sh_dense, &c_dense);
	phase(iso, "isolated", &sh_iso, &c_iso);
	phase(iso_child, "isolated (child tag)", &sh_child, &c_child);

	/* Without isolation small maps share pages; with it none do. */
	CHECK(sh_dense > 0);
	CHECK_EQ(sh_iso, 0);
	CHECK_EQ(sh_child, 0);
	/* What it costs: at least a page per map and dmamem allocation, and
	 * more than the dense layout. */
	CHECK(c_iso >= (uint64_t)(NMAPS + NDMAMEM) * page);
	CHECK(c_child >= (uint64_t)(NMAPS + NDMAMEM) * page);
	CHECK(c_iso > c_dense);
	printf("isolation costs %.2fx the dense layout's bytes in use\n",
	       (double)c_iso / (double)c_dense);

	CHECK_EQ(ccdma_bus_dma_tag_destroy(iso_child), 0);
	CHECK_EQ(ccdma_bus_dma_tag_destroy(iso), 0);
	CHECK_EQ(ccdma_bus_dma_tag_destroy(t), 0);
	CHECK_EQ(ccdma_dev_destroy(d), 0);
	return test_done("busdma_isolation");
}
