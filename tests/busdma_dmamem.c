/* SPDX-License-Identifier: MIT */
/*
 * busdma: dmamem.
 *
 * dmamem_alloc memory is zeroed (even when the pool hands back memory an
 * earlier owner dirtied), aligned as asked (or as the tag asks), crosses no
 * boundary line (the smaller of the argument's and the tag's), and is one
 * contiguous range described in as many segments as the boundary needs --
 * EFBIG when nsegs is too small, EINVAL for bad arguments, nothing held
 * either way.  dmamem_map gives the CPU address (segs[0]._ds_va); the
 * device and the CPU see each other's writes at once.  Loading it (the
 * mapped address, or the segments raw) never bounces: every segment has
 * _ds_bounce_va 0 and the dmamem's DMA addresses, no pool allocation is
 * made, and no sync copies.  dmamem_free / _map / _unmap refuse segments
 * that are not one live dmamem allocation of the tag's device (pool
 * memory, bounce memory, private memory, the middle of an allocation,
 * segments out of order or too long, another device's dmamem, a freed
 * allocation) and change nothing when they do.
 *
 * The device translates with an offset, so a DMA address and a CPU address
 * mixed up show.
 */
#include "busdma_mem_util.h"

#define XOFF (1ull << 40)
#define MAXSEGS 64

static struct ccdma_dev *d;
static struct bdm_copies cc;

/* Boundary windows [addr, addr+len) touches. */
static int windows(uint64_t addr, size_t len, size_t b)
{
	return b ? (int)((addr + len - 1) / b - addr / b + 1) : 1;
}

/* Load dmamem (segs, n, size) into map m of tag t, by kva or raw; check it
 * is used in place at the dmamem's addresses and that syncs copy nothing.
 * same_segs: the map's segments must be the dmamem's, one for one. */
static void load_in_place(ccdma_bus_dma_tag_t t, ccdma_bus_dmamap_t m,
			  const ccdma_bus_dma_segment_t *segs, int n, size_t size,
			  unsigned char *kva, bool raw, bool same_segs)
{
	static const int ops[] = {
		CCDMA_BUS_DMASYNC_PREREAD, CCDMA_BUS_DMASYNC_PREWRITE,
		CCDMA_BUS_DMASYNC_PREREAD | CCDMA_BUS_DMASYNC_PREWRITE,
		CCDMA_BUS_DMASYNC_POSTREAD, CCDMA_BUS_DMASYNC_POSTWRITE,
		CCDMA_BUS_DMASYNC_POSTREAD | CCDMA_BUS_DMASYNC_POSTWRITE,
	};
	struct ccdma_pool_stats st0 = bdm_stats(d), st1;
	size_t pos = 0;
	unsigned char probe[3] = { 1, 2, 3 }, back[3];
	int i, rc;

	if (raw)
		rc = ccdma_bus_dmamap_load_raw(t, m, segs, n, size, CCDMA_BUS_DMA_NOWAIT);
	else
		rc = ccdma_bus_dmamap_load(t, m, kva, size, NULL, CCDMA_BUS_DMA_NOWAIT);
	CHECK_EQ(rc, 0);
	if (rc)
		return;
	CHECK_EQ(m->dm_mapsize, size);
	for (i = 0; i < m->dm_nsegs; i++) {
		const ccdma_bus_dma_segment_t *s = &m->dm_segs[i];

		CHECK_EQ(s->_ds_bounce_va, 0);
		CHECK_EQ(s->ds_addr, segs[0].ds_addr + pos);
		CHECK_EQ(s->_ds_va, (uintptr_t)kva + pos);
		pos += s->ds_len;
	}
	CHECK_EQ(pos, size);
	if (same_segs) {
		CHECK_EQ(m->dm_nsegs, n);
		for (i = 0; i < n && i < m->dm_nsegs; i++) {
			CHECK_EQ(m->dm_segs[i].ds_addr, segs[i].ds_addr);
			CHECK_EQ(m->dm_segs[i].ds_len, segs[i].ds_len);
		}
	}
	for (i = 0; i < (int)(sizeof(ops) / sizeof(ops[0])); i++)
		CHECK_EQ(ccdma_bus_dmamap_sync(t, m, 0, size, ops[i]), 0);
	CHECK_EQ(ccdma_bus_dmamap_sync(t, m, size / 2, size - size / 2,
				       CCDMA_BUS_DMASYNC_PREREAD), 0);
	EXPECT_COPIES(d, &cc, 0, 0, 0, 0);
	/* The device writes the last bytes: the CPU has them at once. */
	if (size >= 3) {
		CHECK_EQ(ccdma_dev_write(d, m->dm_segs[m->dm_nsegs - 1].ds_addr +
					 m->dm_segs[m->dm_nsegs - 1].ds_len - 3,
					 probe, 3), 0);
		CHECK(!memcmp(kva + size - 3, probe, 3));
		memcpy(kva + size - 3, "xyz", 3);
		CHECK_EQ(ccdma_dev_read(d, segs[0].ds_addr + size - 3, back, 3), 0);
		CHECK(!memcmp(back, "xyz", 3));
	}
	CHECK_EQ(ccdma_bus_dmamap_unload(t, m), 0);
	/* No bounce was taken. */
	st1 = bdm_stats(d);
	CHECK_EQ(st1.allocs, st0.allocs);
	CHECK_EQ(st1.in_use_bytes, st0.in_use_bytes);
}

/* One dmamem_alloc with its checks; frees it.  Returns the rc. */
static int one(ccdma_bus_dma_tag_t t, size_t size, size_t align, size_t boundary,
	       size_t want_align, size_t want_b)
{
	ccdma_bus_dma_segment_t segs[MAXSEGS];
	ccdma_bus_dmamap_t m;
	struct ccdma_pool *p = ccdma_dev_pool(d);
	unsigned char *kva, *buf;
	ccdma_caddr_t kv = NULL;
	uint64_t in_use = bdm_in_use(d);
	size_t pos = 0, i;
	void *dirty;
	int rsegs = -1, rc, before = test_failures, k;

	/* Dirty memory of that size first: the pool may hand it back. */
	if (ccdma_pool_alloc(p, size, 0, &dirty) == 0) {
		memset(dirty, 0xa5, size);
		CHECK_EQ(ccdma_pool_free(p, dirty, SIZE_MAX), 0);
	}
	memset(segs, 0x5c, sizeof(segs));
	rc = ccdma_bus_dmamem_alloc(t, size, align, boundary, segs, MAXSEGS, &rsegs,
				    CCDMA_BUS_DMA_NOWAIT);
	CHECK_EQ(rc, 0);
	if (rc) {
		fprintf(stderr, "  (size %zu, alignment %zu, boundary %zu)\n", size,
			align, boundary);
		return rc;
	}
	/* Held (the count of a small allocation aligned above 16 KiB is
	 * checked once, below: the pool misses it). */
	if (want_align <= 16384)
		CHECK(bdm_in_use(d) >= in_use + size);
	CHECK(rsegs >= 1 && rsegs <= MAXSEGS);
	CHECK_EQ(segs[0].ds_addr % want_align, 0);
	CHECK_EQ(rsegs, windows(segs[0].ds_addr, size, want_b));
	if (want_b && size > want_b)
		CHECK(rsegs > 1);
	for (k = 0; k < rsegs; k++) {
		const ccdma_bus_dma_segment_t *s = &segs[k];

		CHECK(s->ds_len >= 1);
		CHECK_EQ(s->_ds_bounce_va, 0);
		CHECK_EQ(s->_ds_va, segs[0]._ds_va + pos);
		CHECK_EQ(s->ds_addr, segs[0].ds_addr + pos);
		CHECK_EQ(s->ds_addr, s->_ds_va + XOFF);
		if (want_b)
			CHECK_EQ(s->ds_addr / want_b, (s->ds_addr + s->ds_len - 1) / want_b);
		pos += s->ds_len;
	}
	CHECK_EQ(pos, size);
	CHECK_EQ(ccdma_bus_dmamem_map(t, segs, rsegs, size, &kv, 0), 0);
	kva = (unsigned char *)kv;
	CHECK(kva == (unsigned char *)segs[0]._ds_va);
	if (!kva)
		return -1;
	for (i = 0; i < size; i++)
		if (kva[i]) {
			fprintf(stderr, "  dmamem byte %zu is %#x, not 0\n", i, kva[i]);
			test_failures++;
			break;
		}
	/* The device sees it as zeros too, and sees the CPU's writes. */
	buf = malloc(size);
	REQUIRE(buf);
	CHECK_EQ(ccdma_dev_read(d, segs[0].ds_addr, buf, size), 0);
	for (i = 0; i < size && !buf[i]; i++)
		;
	CHECK_EQ(i, size);
	bdm_fill(kva, size, (unsigned)size);
	CHECK_EQ(ccdma_dev_read(d, segs[0].ds_addr, buf, size), 0);
	CHECK(!memcmp(buf, kva, size));
	bdm_fill(buf, size, (unsigned)size + 1);
	CHECK_EQ(ccdma_dev_write(d, segs[0].ds_addr, buf, size), 0);
	CHECK(!memcmp(buf, kva, size));
	free(buf);

	/* Loads of it never bounce: by address and raw, into a map with the
	 * same boundary (one for one when the map's maxsegsz, 64 KiB, cuts
	 * nothing) and into one without a boundary. */
	REQUIRE(ccdma_bus_dmamap_create(t, size, MAXSEGS, 0, want_b, 0, &m) == 0);
	load_in_place(t, m, segs, rsegs, size, kva, false,
		      want_b ? want_b <= 65536 : size <= 65536);
	load_in_place(t, m, segs, rsegs, size, kva, true,
		      want_b ? want_b <= 65536 : size <= 65536);
	CHECK_EQ(ccdma_bus_dmamap_destroy(t, m), 0);

	CHECK_EQ(ccdma_bus_dmamem_unmap(t, kva, size), 0);
	CHECK_EQ(ccdma_bus_dmamem_free(t, segs, rsegs), 0);
	CHECK_EQ(bdm_in_use(d), in_use);
	if (test_failures != before)
		fprintf(stderr, "  (size %zu, alignment %zu, boundary %zu: %d "
			"segments at %#llx)\n", size, align, boundary, rsegs,
			(unsigned long long)segs[0].ds_addr);
	return 0;
}

int main(void)
{
	static const size_t sizes[] = { 1, 100, 255, 4096, 5000, 65536, 70000, 200000 };
	static const size_t aligns[] = { 0, 16, 256, 4096, 65536 };
	static const size_t bounds[] = { 0, 4096, 65536, 1u << 20 };
	struct ccdma_bus_dma_tag_config tc;
	struct ccdma_xlate xl = { .kind = CCDMA_XLATE_OFFSET, .offset = XOFF };
	ccdma_bus_dma_segment_t segs[MAXSEGS], bad[MAXSEGS], other[4];
	ccdma_bus_dma_tag_t t, t256, t4k, t2;
	ccdma_bus_dmamap_t lazy;
	struct ccdma_dev *d2;
	struct ccdma_pool *p;
	unsigned char *kva, *priv, *sh;
	ccdma_caddr_t k2;
	uint64_t in_use;
	unsigned s, a, b, ncase = 0;
	int rsegs, r2;

	test_init();
	d = bdm_dev("bd-dmamem", 4u << 20, false, &xl, CCDMA_ISOLATION_DENSE);
	p = ccdma_dev_pool(d);
	REQUIRE(ccdma_bus_dma_tag_create(d, NULL, NULL, &t) == 0);
	cc = bdm_copies(d);

	/* Every size, alignment and boundary (a boundary below the
	 * alignment is refused). */
	for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++)
		for (a = 0; a < sizeof(aligns) / sizeof(aligns[0]); a++)
			for (b = 0; b < sizeof(bounds) / sizeof(bounds[0]); b++) {
				size_t al = aligns[a], bd = bounds[b];

				if (bd && bd < al) {
					ccdma_log_set_handler(quiet_log, NULL);
					CHECK_EQ(ccdma_bus_dmamem_alloc(t, sizes[s], al, bd,
									segs, MAXSEGS,
									&rsegs, 0), EINVAL);
					ccdma_log_set_handler(NULL, NULL);
					continue;
				}
				one(t, sizes[s], al, bd, al ? al : 1, bd);
				ncase++;
			}
	printf("%u dmamem allocations checked\n", ncase);

	/* The tag's alignment and boundary apply too (the smaller boundary
	 * of the tag's and the argument's). */
	memset(&tc, 0, sizeof(tc));
	tc.alignment = 256;
	REQUIRE(ccdma_bus_dma_tag_create(NULL, t, &tc, &t256) == 0);
	memset(&tc, 0, sizeof(tc));
	tc.boundary = 4096;
	REQUIRE(ccdma_bus_dma_tag_create(NULL, t, &tc, &t4k) == 0);
	one(t256, 100, 0, 0, 256, 0);
	one(t256, 3000, 16, 0, 256, 0);
	one(t4k, 5000, 0, 0, 1, 4096);
	one(t4k, 9000, 0, 65536, 1, 4096);
	one(t4k, 9000, 0, 1024, 1, 1024);

	/* The pool's bytes in use count dmamem, however aligned.  (A request
	 * of at most 32 KiB whose alignment sends it to the page allocator is
	 * filed under a small class there, and the statistics sum page runs
	 * of the large classes only.) */
	{
		in_use = bdm_in_use(d);
		REQUIRE(ccdma_bus_dmamem_alloc(t, 100, 65536, 0, segs, 1, &rsegs, 0) == 0);
		CHECK(bdm_in_use(d) >= in_use + 100);
		CHECK_EQ(ccdma_bus_dmamem_free(t, segs, rsegs), 0);
		CHECK_EQ(bdm_in_use(d), in_use);
	}

	/* EFBIG: more segments needed than given; nothing held. */
	in_use = bdm_in_use(d);
	ccdma_log_set_handler(quiet_log, NULL);
	CHECK_EQ(ccdma_bus_dmamem_alloc(t, 200000, 0, 65536, segs, 3, &rsegs, 0), EFBIG);
	CHECK_EQ(ccdma_bus_dmamem_alloc(t, 5000, 0, 4096, segs, 1, &rsegs, 0), EFBIG);
	CHECK_EQ(ccdma_bus_dmamem_alloc(t4k, 4097, 0, 0, segs, 1, &rsegs, 0), EFBIG);
	CHECK_EQ(bdm_in_use(d), in_use);
	/* Bad arguments. */
	CHECK_EQ(ccdma_bus_dmamem_alloc(t, 0, 0, 0, segs, 1, &rsegs, 0), EINVAL);
	CHECK_EQ(ccdma_bus_dmamem_alloc(t, CCDMA_POOL_MAX_ALLOC + 1, 0, 0, segs, 1,
					&rsegs, 0), EINVAL);
	CHECK_EQ(ccdma_bus_dmamem_alloc(t, 100, 3, 0, segs, 1, &rsegs, 0), EINVAL);
	CHECK_EQ(ccdma_bus_dmamem_alloc(t, 100, 0, 3000, segs, 1, &rsegs, 0), EINVAL);
	CHECK_EQ(ccdma_bus_dmamem_alloc(t, 100, 0, 0, segs, 0, &rsegs, 0), EINVAL);
	CHECK_EQ(ccdma_bus_dmamem_alloc(t, 100, 0, 0, segs, 1, &rsegs, 1 << 12), EINVAL);
	CHECK_EQ(ccdma_bus_dmamem_alloc(t256, 100, 0, 128, segs, 1, &rsegs, 0), EINVAL);
	ccdma_log_set_handler(NULL, NULL);
	CHECK_EQ(bdm_in_use(d), in_use);

	/* ---- refusals: one live allocation of two segments to protect ---- */
	REQUIRE(ccdma_bus_dmamem_alloc(t, 6000, 0, 4096, segs, MAXSEGS, &rsegs, 0) == 0);
	REQUIRE(rsegs == 2);
	REQUIRE(ccdma_bus_dmamem_map(t, segs, rsegs, 6000, &k2, 0) == 0);
	kva = (unsigned char *)k2;
	bdm_fill(kva, 6000, 42);
	priv = malloc(6000);
	REQUIRE(priv);
	REQUIRE(ccdma_pool_alloc(p, 6000, 0, (void **)&sh) == 0);
	REQUIRE(ccdma_bus_dmamap_create(t, 6000, 4, 0, 0, 0, &lazy) == 0);
	REQUIRE(ccdma_bus_dmamap_load(t, lazy, priv, 6000, NULL, 0) == 0);
	REQUIRE(lazy->dm_segs[0]._ds_bounce_va != 0);
	in_use = bdm_in_use(d);

	ccdma_log_set_handler(quiet_log, NULL);
	/* Pool memory that is not dmamem. */
	bad[0] = (ccdma_bus_dma_segment_t){ (uintptr_t)sh + XOFF, 6000, (uintptr_t)sh, 0 };
	CHECK_EQ(ccdma_bus_dmamem_free(t, bad, 1), EINVAL);
	CHECK_EQ(ccdma_bus_dmamem_map(t, bad, 1, 6000, &k2, 0), EINVAL);
	CHECK_EQ(ccdma_bus_dmamem_unmap(t, sh, 6000), EINVAL);
	/* A load's bounce memory. */
	bad[0] = (ccdma_bus_dma_segment_t){ lazy->dm_segs[0].ds_addr, 100,
					    lazy->dm_segs[0]._ds_bounce_va, 0 };
	CHECK_EQ(ccdma_bus_dmamem_free(t, bad, 1), EINVAL);
	CHECK_EQ(ccdma_bus_dmamem_map(t, bad, 1, 100, &k2, 0), EINVAL);
	CHECK_EQ(ccdma_bus_dmamem_unmap(t, (void *)lazy->dm_segs[0]._ds_bounce_va, 100),
		 EINVAL);
	/* Private memory. */
	bad[0] = (ccdma_bus_dma_segment_t){ (uintptr_t)priv, 100, (uintptr_t)priv, 0 };
	CHECK_EQ(ccdma_bus_dmamem_free(t, bad, 1), EINVAL);
	CHECK_EQ(ccdma_bus_dmamem_map(t, bad, 1, 100, &k2, 0), EINVAL);
	CHECK_EQ(ccdma_bus_dmamem_unmap(t, priv, 100), EINVAL);
	/* The middle of the allocation. */
	bad[0] = segs[0];
	bad[0].ds_addr += 16;
	bad[0]._ds_va += 16;
	bad[0].ds_len -= 16;
	bad[1] = segs[1];
	CHECK_EQ(ccdma_bus_dmamem_free(t, bad, 2), EINVAL);
	CHECK_EQ(ccdma_bus_dmamem_map(t, bad, 2, 100, &k2, 0), EINVAL);
	CHECK_EQ(ccdma_bus_dmamem_unmap(t, kva + 16, 100), EINVAL);
	CHECK_EQ(ccdma_bus_dmamem_free(t, &bad[1], 1), EINVAL); /* 2nd segment alone */
	/* Segments out of order. */
	bad[0] = segs[1];
	bad[1] = segs[0];
	CHECK_EQ(ccdma_bus_dmamem_free(t, bad, 2), EINVAL);
	CHECK_EQ(ccdma_bus_dmamem_map(t, bad, 2, 6000, &k2, 0), EINVAL);
	/* Longer than the allocation. */
	bad[0] = segs[0];
	bad[1] = segs[1];
	bad[1].ds_len += 1;
	CHECK_EQ(ccdma_bus_dmamem_free(t, bad, 2), EINVAL);
	CHECK_EQ(ccdma_bus_dmamem_map(t, bad, 2, 6000, &k2, 0), EINVAL);
	CHECK_EQ(ccdma_bus_dmamem_unmap(t, kva, 6001), EINVAL);
	CHECK_EQ(ccdma_bus_dmamem_map(t, segs, rsegs, 6001, &k2, 0), EINVAL);
	CHECK_EQ(ccdma_bus_dmamem_map(t, segs, rsegs, 0, &k2, 0), EINVAL);
	CHECK_EQ(ccdma_bus_dmamem_map(t, segs, rsegs, 6000, NULL, 0), EINVAL);
	/* Only part of it: free wants every segment (map may take a
	 * prefix). */
	CHECK_EQ(ccdma_bus_dmamem_free(t, segs, 1), EINVAL);
	CHECK_EQ(ccdma_bus_dmamem_map(t, segs, 1, segs[0].ds_len, &k2, 0), 0);
	CHECK((unsigned char *)k2 == kva);
	CHECK_EQ(ccdma_bus_dmamem_free(t, segs, 0), EINVAL);
	CHECK_EQ(ccdma_bus_dmamem_free(NULL, segs, rsegs), EINVAL);
	CHECK_EQ(ccdma_bus_dmamem_unmap(t, NULL, 1), EINVAL);
	ccdma_log_set_handler(NULL, NULL);

	/* Another device's dmamem: refused through this device's tag,
	 * accepted through its own. */
	d2 = bdm_dev("bd-dmamem2", 1u << 20, false, NULL, CCDMA_ISOLATION_DENSE);
	REQUIRE(ccdma_bus_dma_tag_create(d2, NULL, NULL, &t2) == 0);
	REQUIRE(ccdma_bus_dmamem_alloc(t2, 300, 0, 0, other, 4, &r2, 0) == 0);
	ccdma_log_set_handler(quiet_log, NULL);
	CHECK_EQ(ccdma_bus_dmamem_map(t, other, r2, 300, &k2, 0), EINVAL);
	CHECK_EQ(ccdma_bus_dmamem_unmap(t, (void *)other[0]._ds_va, 300), EINVAL);
	CHECK_EQ(ccdma_bus_dmamem_free(t, other, r2), EINVAL);
	ccdma_log_set_handler(NULL, NULL);
	CHECK_EQ(ccdma_bus_dmamem_map(t2, other, r2, 300, &k2, 0), 0);
	CHECK(k2 == (ccdma_caddr_t)other[0]._ds_va);
	CHECK_EQ(ccdma_bus_dmamem_free(t2, other, r2), 0);
	CHECK_EQ(ccdma_bus_dma_tag_destroy(t2), 0);
	CHECK_EQ(ccdma_dev_destroy(d2), 0);

	/* Nothing refused changed anything: the allocation is live and
	 * intact, the rest still held. */
	CHECK_EQ(bdm_in_use(d), in_use);
	CHECK_EQ(ccdma_bus_dmamem_map(t, segs, rsegs, 6000, &k2, 0), 0);
	CHECK(k2 == (ccdma_caddr_t)kva);
	{
		unsigned char ref[6000];

		bdm_fill(ref, 6000, 42);
		CHECK(!memcmp(kva, ref, 6000));
	}
	CHECK_EQ(ccdma_bus_dmamap_unload(t, lazy), 0);
	CHECK_EQ(ccdma_bus_dmamap_destroy(t, lazy), 0);
	CHECK_EQ(ccdma_pool_free(p, sh, 6000), 0);

	/* Unmap keeps the memory; free, once. */
	CHECK_EQ(ccdma_bus_dmamem_unmap(t, kva, 6000), 0);
	CHECK_EQ(ccdma_dev_read(d, segs[1].ds_addr, priv, 10), 0);
	CHECK(!memcmp(priv, kva + segs[0].ds_len, 10));
	in_use = bdm_in_use(d);
	CHECK_EQ(ccdma_bus_dmamem_free(t, segs, rsegs), 0);
	CHECK(bdm_in_use(d) < in_use);
	in_use = bdm_in_use(d);
	ccdma_log_set_handler(quiet_log, NULL);
	CHECK_EQ(ccdma_bus_dmamem_free(t, segs, rsegs), EINVAL);
	CHECK_EQ(ccdma_bus_dmamem_map(t, segs, rsegs, 6000, &k2, 0), EINVAL);
	CHECK_EQ(ccdma_bus_dmamem_unmap(t, kva, 6000), EINVAL);
	ccdma_log_set_handler(NULL, NULL);
	CHECK_EQ(bdm_in_use(d), in_use);
	CHECK_EQ(in_use, 0);

	CHECK_EQ(ccdma_bus_dma_tag_destroy(t256), 0);
	CHECK_EQ(ccdma_bus_dma_tag_destroy(t4k), 0);
	CHECK_EQ(ccdma_bus_dma_tag_destroy(t), 0);
	CHECK_EQ(ccdma_dev_destroy(d), 0);
	free(priv);
	return test_done("busdma_dmamem");
}
