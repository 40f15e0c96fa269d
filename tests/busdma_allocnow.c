/* SPDX-License-Identifier: MIT */
/*
 * busdma: CCDMA_BUS_DMA_ALLOCNOW.
 *
 * Creating a map with ALLOCNOW reserves its worst case at once (the pool's
 * bytes in use grow by at least the map size, plus the alignment padding of
 * every segment after the first).  With the pool otherwise exhausted, every
 * load of up to the map size then succeeds under NOWAIT -- linear buffers
 * at many offsets and lengths, and iovecs of up to nsegments pieces -- and
 * carries the data both ways, inside the reservation, without asking the
 * pool for anything.  Unload keeps the reservation, destroy (refused while
 * loaded) gives it back.  A lazy map on the exhausted pool fails with
 * ENOMEM under NOWAIT, and so does an ALLOCNOW create, holding nothing.
 */
#include "busdma_mem_util.h"

#define POOL (2u << 20)
#define AREA (64u * 1024u)   /* one iovec piece's private area */
#define MAXPIECES 8

static struct ccdma_dev *d;
static unsigned char *src, *view, *dev_data;

struct amap {
	const char *name;
	ccdma_bus_dma_tag_t t;
	ccdma_bus_dmamap_t m;
	size_t size, maxsegsz, boundary, align;
	int nsegs;
	int iov_pieces;          /* iovecs of up to this many pieces (0: none) */
	uint64_t resv;           /* bytes in use the create added */
	void *resv_addr;         /* the reservation (from the first load) */
};

/* The segments of a loaded map: lengths, constraints, all bounced into the
 * reservation. */
static void check_segs(struct amap *a, size_t len, int line)
{
	ccdma_bus_dmamap_t m = a->m;
	struct ccdma_pool_addr_info info;
	int before = test_failures, i;

	CHECK_EQ(m->dm_mapsize, len);
	CHECK(m->dm_nsegs >= 1 && m->dm_nsegs <= a->nsegs);
	CHECK_EQ(bdm_seg_bytes(m), len);
	for (i = 0; i < m->dm_nsegs; i++) {
		const ccdma_bus_dma_segment_t *s = &m->dm_segs[i];

		CHECK(s->ds_len >= 1 && s->ds_len <= a->maxsegsz);
		CHECK_EQ(s->ds_addr % a->align, 0);
		if (a->boundary)
			CHECK_EQ(s->ds_addr / a->boundary,
				 (s->ds_addr + s->ds_len - 1) / a->boundary);
		CHECK(s->_ds_bounce_va != 0);
		CHECK_EQ(ccdma_pool_lookup(ccdma_dev_pool(d), (void *)s->_ds_bounce_va,
					   &info), 0);
		if (!a->resv_addr)
			a->resv_addr = info.alloc_addr;
		CHECK(info.alloc_addr == a->resv_addr);
		CHECK(s->_ds_bounce_va + s->ds_len <=
		      (uintptr_t)info.alloc_addr + info.alloc_size);
	}
	if (test_failures != before)
		fprintf(stderr, "  (%s: a load of %zu bytes, line %d)\n", a->name,
			len, line);
}

/* PREWRITE: the device reads the buffer's bytes; the device writes and
 * POSTREAD brings its bytes in.  iov[0 .. n-1] is the transfer's memory. */
static void check_data(struct amap *a, const struct ccdma_iovec *iov, int n,
		       unsigned seed)
{
	ccdma_bus_dmamap_t m = a->m;
	size_t len = m->dm_mapsize, pos;
	int i;

	/* The transfer's bytes, in order, as the CPU has them. */
	for (i = 0, pos = 0; i < n; pos += iov[i].iov_len, i++)
		memcpy(src + pos, iov[i].iov_base, iov[i].iov_len);
	CHECK_EQ(ccdma_bus_dmamap_sync(a->t, m, 0, len, CCDMA_BUS_DMASYNC_PREWRITE |
				       CCDMA_BUS_DMASYNC_PREREAD), 0);
	CHECK_EQ(bdm_dev_view(d, m, view), 0);
	CHECK(!memcmp(view, src, len));
	bdm_fill(dev_data, len, seed ^ 0x77);
	CHECK_EQ(bdm_dev_put(d, m, dev_data), 0);
	CHECK_EQ(ccdma_bus_dmamap_sync(a->t, m, 0, len, CCDMA_BUS_DMASYNC_POSTREAD |
				       CCDMA_BUS_DMASYNC_POSTWRITE), 0);
	for (i = 0, pos = 0; i < n; pos += iov[i].iov_len, i++)
		CHECK(!memcmp(iov[i].iov_base, dev_data + pos, iov[i].iov_len));
}

static void create(struct amap *a)
{
	uint64_t before = bdm_in_use(d);

	REQUIRE(ccdma_bus_dmamap_create(a->t, a->size, a->nsegs, a->maxsegsz,
					a->boundary, CCDMA_BUS_DMA_NOWAIT |
					CCDMA_BUS_DMA_ALLOCNOW, &a->m) == 0);
	a->resv = bdm_in_use(d) - before;
	/* The worst case: every byte bounced, each segment after the first
	 * padded to the alignment. */
	CHECK(a->resv >= a->size + (size_t)(a->nsegs - 1) * (a->align - 1));
	if (a->resv < a->size)
		fprintf(stderr, "  (%s: the pool's bytes in use grew by %llu at an "
			"ALLOCNOW create of %zu bytes)\n", a->name,
			(unsigned long long)a->resv, a->size);
	printf("%s: size %zu, %d segments, align %zu: %llu bytes reserved\n",
	       a->name, a->size, a->nsegs, a->align, (unsigned long long)a->resv);
}

int main(void)
{
	static const size_t offs[] = { 0, 1, 63, 64, 100, 4095, 4096, 4097, 8191 };
	static const size_t lens[] = { 1, 2, 63, 64, 65, 511, 512, 4095, 4096, 4097,
				       8192, 10000, 12287, 12288, 16383, 16384, 19999,
				       20000 };
	struct ccdma_bus_dma_tag_config tc;
	struct ccdma_iovec iov[MAXPIECES];
	ccdma_bus_dma_tag_t t, ta;
	ccdma_bus_dmamap_t lazy, m5 = NULL;
	struct ccdma_pool_stats st0, st1;
	struct bdm_hold hold = { .n = 0 };
	struct amap maps[5];
	unsigned char *priv;
	uint64_t level, loads = 0, rng = 0x1234567;
	unsigned k, i, j, o, l;

	test_init();
	priv = malloc(MAXPIECES * AREA);
	src = malloc(AREA);
	view = malloc(AREA);
	dev_data = malloc(AREA);
	REQUIRE(priv && src && view && dev_data);
	d = bdm_dev("bd-allocnow", POOL, true, NULL, CCDMA_ISOLATION_DENSE);
	REQUIRE(ccdma_bus_dma_tag_create(d, NULL, NULL, &t) == 0);
	memset(&tc, 0, sizeof(tc));
	tc.alignment = 64;
	REQUIRE(ccdma_bus_dma_tag_create(NULL, t, &tc, &ta) == 0);

	memset(maps, 0, sizeof(maps));
	maps[0] = (struct amap){ "plain", t, NULL, 16384, 65536, 0, 1, 4, 4, 0, 0 };
	maps[1] = (struct amap){ "align64", ta, NULL, 10000, 65536, 0, 64, 5, 5, 0, 0 };
	maps[2] = (struct amap){ "boundary4k", t, NULL, 12288, 65536, 4096, 1, 3, 0, 0, 0 };
	maps[3] = (struct amap){ "maxseg4k", t, NULL, 16384, 4096, 0, 1, 8, 4, 0, 0 };
	/* One segment within a 64 KiB boundary: the reservation is asked
	 * for aligned to 32 KiB (the next power of two of its size). */
	maps[4] = (struct amap){ "boundary64k", t, NULL, 20000, 65536, 65536, 1, 1, 0, 0, 0 };
	CHECK_EQ(bdm_in_use(d), 0);
	for (k = 0; k < 5; k++)
		create(&maps[k]);
	REQUIRE(ccdma_bus_dmamap_create(t, 16384, 4, 0, 0, CCDMA_BUS_DMA_NOWAIT, &lazy) == 0);

	/* Take the rest of the pool. */
	bdm_exhaust(ccdma_dev_pool(d), &hold);
	level = bdm_in_use(d);
	st0 = bdm_stats(d);

	/* Lazy map: ENOMEM under NOWAIT, nothing held, no error logged. */
	bdm_log_catch();
	CHECK_EQ(ccdma_bus_dmamap_load(t, lazy, priv, 100, NULL, CCDMA_BUS_DMA_NOWAIT),
		 ENOMEM);
	CHECK_EQ(lazy->dm_nsegs, 0);
	/* ALLOCNOW create: ENOMEM under NOWAIT, nothing held or counted. */
	CHECK_EQ(ccdma_bus_dmamap_create(t, 4096, 1, 0, 0, CCDMA_BUS_DMA_NOWAIT |
					 CCDMA_BUS_DMA_ALLOCNOW, &m5), ENOMEM);
	CHECK(m5 == NULL);
	CHECK_EQ(ccdma_bus_dmamap_create(ta, 100, 2, 0, 0, CCDMA_BUS_DMA_NOWAIT |
					 CCDMA_BUS_DMA_ALLOCNOW, &m5), ENOMEM);
	CHECK(m5 == NULL);
	CHECK_EQ(bdm_log_errors, 0);
	ccdma_log_set_handler(NULL, NULL);
	CHECK_EQ(bdm_in_use(d), level);
	st1 = bdm_stats(d);
	CHECK_EQ(st1.allocs, st0.allocs);
	CHECK_EQ(st1.failures - st0.failures, 3);
	st0 = st1;

	/* Linear loads at every offset and length the map takes. */
	for (k = 0; k < 5; k++) {
		struct amap *a = &maps[k];

		for (o = 0; o < sizeof(offs) / sizeof(offs[0]); o++) {
			for (l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
				size_t len = lens[l];
				unsigned char *b = priv + offs[o];
				int rc;

				if (len > a->size)
					continue;
				bdm_fill(b, len, (unsigned)(o * 31 + l));
				iov[0].iov_base = b;
				iov[0].iov_len = len;
				rc = ccdma_bus_dmamap_load(a->t, a->m, b, len, NULL,
							   CCDMA_BUS_DMA_NOWAIT);
				CHECK_EQ(rc, 0);
				if (rc) {
					fprintf(stderr, "  (%s: offset %zu, length %zu)\n",
						a->name, offs[o], len);
					continue;
				}
				loads++;
				check_segs(a, len, __LINE__);
				check_data(a, iov, 1, (unsigned)(o + l));
				CHECK_EQ(ccdma_bus_dmamap_unload(a->t, a->m), 0);
				/* The reservation stays. */
				CHECK_EQ(bdm_in_use(d), level);
			}
		}
	}

	/* iovecs of 1 .. pieces, random lengths (summing to at most the map
	 * size) at random offsets of separate areas. */
	for (k = 0; k < 5; k++) {
		struct amap *a = &maps[k];

		for (i = 0; a->iov_pieces && i < 300; i++) {
			unsigned n = 1 + (unsigned)(xorshift(&rng) % (uint64_t)a->iov_pieces);
			size_t left = a->size, total = 0;
			int rc;

			if (i % 3 == 0)
				n = (unsigned)a->iov_pieces;
			for (j = 0; j < n; j++) {
				/* Leave at least one byte for each piece after. */
				size_t most = left - (n - 1 - j), len;

				len = (i % 4 == 0 && j == n - 1) ? most :
				      1 + (size_t)(xorshift(&rng) % (uint64_t)most);
				if (i % 5 == 0 && j < n - 1 && most > 64)
					len = 1 + (size_t)(xorshift(&rng) % 64);
				iov[j].iov_base = priv + j * AREA +
						  (size_t)(xorshift(&rng) % (AREA - len + 1));
				iov[j].iov_len = len;
				bdm_fill(iov[j].iov_base, len, i * 8 + j);
				left -= len;
				total += len;
			}
			rc = ccdma_bus_dmamap_load_iovec(a->t, a->m, iov, (int)n,
							 CCDMA_BUS_DMA_NOWAIT);
			CHECK_EQ(rc, 0);
			if (rc) {
				fprintf(stderr, "  (%s: %u pieces:", a->name, n);
				for (j = 0; j < n; j++)
					fprintf(stderr, " %zu", iov[j].iov_len);
				fprintf(stderr, ")\n");
				continue;
			}
			loads++;
			check_segs(a, total, __LINE__);
			check_data(a, iov, (int)n, i);
			CHECK_EQ(ccdma_bus_dmamap_unload(a->t, a->m), 0);
			CHECK_EQ(bdm_in_use(d), level);
		}
	}
	printf("%llu loads on the exhausted pool\n", (unsigned long long)loads);

	/* None of them asked the pool for anything. */
	st1 = bdm_stats(d);
	CHECK_EQ(st1.allocs, st0.allocs);
	CHECK_EQ(st1.frees, st0.frees);
	CHECK_EQ(st1.failures, st0.failures);
	CHECK_EQ(st1.in_use_bytes, level);

	/* Destroy refuses a loaded map and changes nothing. */
	bdm_fill(priv, 5000, 9);
	REQUIRE(ccdma_bus_dmamap_load(t, maps[0].m, priv, 5000, NULL,
				      CCDMA_BUS_DMA_NOWAIT) == 0);
	ccdma_log_set_handler(quiet_log, NULL);
	CHECK_EQ(ccdma_bus_dmamap_destroy(t, maps[0].m), EBUSY);
	ccdma_log_set_handler(NULL, NULL);
	CHECK_EQ(bdm_in_use(d), level);
	CHECK_EQ(maps[0].m->dm_mapsize, 5000);
	iov[0].iov_base = priv;
	iov[0].iov_len = 5000;
	check_data(&maps[0], iov, 1, 99);
	CHECK_EQ(ccdma_bus_dmamap_unload(t, maps[0].m), 0);

	/* Destroy gives the reservation back, all of it: the lazy map can
	 * now load what the reservation held. */
	CHECK_EQ(ccdma_bus_dmamap_destroy(t, maps[0].m), 0);
	CHECK_EQ(bdm_in_use(d), level - maps[0].resv);
	bdm_fill(priv, 16384, 3);
	CHECK_EQ(ccdma_bus_dmamap_load(t, lazy, priv, 16384, NULL,
				       CCDMA_BUS_DMA_NOWAIT), 0);
	CHECK_EQ(lazy->dm_mapsize, 16384);
	CHECK_EQ(ccdma_bus_dmamap_unload(t, lazy), 0);
	for (k = 1; k < 5; k++) {
		uint64_t before = bdm_in_use(d);

		CHECK_EQ(ccdma_bus_dmamap_destroy(maps[k].t, maps[k].m), 0);
		CHECK_EQ(bdm_in_use(d), before - maps[k].resv);
	}
	bdm_release(ccdma_dev_pool(d), &hold);
	CHECK_EQ(bdm_in_use(d), 0);

	/* A reservation larger than the largest bounce is refused. */
	ccdma_log_set_handler(quiet_log, NULL);
	CHECK_EQ(ccdma_bus_dmamap_create(ta, CCDMA_POOL_MAX_ALLOC, 2, 0, 0,
					 CCDMA_BUS_DMA_NOWAIT | CCDMA_BUS_DMA_ALLOCNOW,
					 &m5), EINVAL);
	ccdma_log_set_handler(NULL, NULL);
	CHECK_EQ(bdm_in_use(d), 0);

	CHECK_EQ(ccdma_bus_dmamap_destroy(t, lazy), 0);
	/* No map creation left a user on the tags. */
	CHECK_EQ(ccdma_bus_dma_tag_destroy(ta), 0);
	CHECK_EQ(ccdma_bus_dma_tag_destroy(t), 0);
	CHECK_EQ(ccdma_dev_destroy(d), 0);
	free(priv);
	free(src);
	free(view);
	free(dev_data);
	return test_done("busdma_allocnow");
}
