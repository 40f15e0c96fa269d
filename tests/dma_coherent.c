/* SPDX-License-Identifier: MIT */
/*
 * Coherent memory: zeroed (even when the memory held an earlier owner's
 * bytes), aligned to the smallest power of two >= size up to the page size,
 * at a DMA address the device reaches (with the device's translation);
 * a streaming mapping inside it is never bounced; freeing with a wrong
 * size, CPU or DMA address, or twice, is -EINVAL and changes nothing.
 */
#include "test.h"

#include <ccdma/dma.h>

static size_t expect_align(size_t size)
{
	size_t a = 1, ps = ccdma_page_size();

	while (a < size && a < ps)
		a <<= 1;
	return a;
}

static size_t nonzero(const unsigned char *b, size_t n)
{
	size_t i, c = 0;

	for (i = 0; i < n; i++)
		c += b[i] != 0;
	return c;
}

static void run(enum ccdma_xlate_kind kind, uint64_t offset)
{
	static const size_t sizes[] = {
		1, 7, 100, 256, 300, 2048, 3000, 4096, 5000, 40000, 70000,
		1u << 20
	};
	struct ccdma_pool_config pc;
	struct ccdma_dev_config cfg;
	struct ccdma_pool_stats st;
	struct ccdma_dev *d;
	struct ccdma_pool *p;
	ccdma_addr_t dma, m, first, last;
	unsigned char got[64], pat[64];
	void *cpu, *other;
	unsigned i;

	test_config(&pc, "coherent");
	pc.initial_bytes = 4u << 20;
	pc.region_size = 4u << 20;
	ccdma_dev_config_init(&cfg);
	cfg.name = "coherent";
	cfg.mode = CCDMA_MODE_CONFIDENTIAL;
	cfg.pool_cfg = &pc;
	cfg.xlate.kind = kind;
	cfg.xlate.offset = offset;
	REQUIRE(ccdma_dev_create(&cfg, &d) == 0);
	p = ccdma_dev_pool(d);
	CHECK_EQ(ccdma_dev_pool_dma_range(d, &first, &last), 0);
	memset(pat, 0x7e, sizeof(pat));

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t size = sizes[i], al = expect_align(size), n;
		int round;

		for (round = 0; round < 2; round++) {
			REQUIRE(ccdma_alloc_coherent(d, size, &cpu, &dma, 0) == 0);
			CHECK(ccdma_pool_contains(p, cpu, size));
			CHECK_EQ(nonzero(cpu, size), 0);
			CHECK_EQ((uintptr_t)cpu & (al - 1), 0);
			CHECK_EQ(dma & (al - 1), 0);
			CHECK(dma == (uintptr_t)cpu + offset);
			CHECK(dma >= first && dma + size - 1 <= last);
			/* Fill it: the second round must get zeros again. */
			memset(cpu, 0xc1, size);
			/* The device sees the CPU's bytes and the CPU the
			 * device's, with no copy. */
			n = size < sizeof(got) ? size : sizeof(got);
			CHECK_EQ(ccdma_dev_read(d, dma + size - n, got, n), 0);
			CHECK_EQ(memcmp(got, (char *)cpu + size - n, n), 0);
			CHECK_EQ(ccdma_dev_write(d, dma, pat, n), 0);
			CHECK_EQ(memcmp(cpu, pat, n), 0);
			CHECK_EQ(ccdma_free_coherent(d, size, cpu, dma), 0);
		}
	}

	/* A streaming mapping inside coherent memory: its own DMA address,
	 * no bounce, no copy, in every direction. */
	REQUIRE(ccdma_alloc_coherent(d, 8192, &cpu, &dma, 0) == 0);
	for (i = 0; i < 3; i++) {
		m = ccdma_map_single(d, (char *)cpu + 100, 5000, (enum ccdma_dir)i);
		CHECK(m == dma + 100);
		CHECK_EQ(ccdma_sync_single_for_cpu(d, m, 5000, (enum ccdma_dir)i), 0);
		CHECK_EQ(ccdma_unmap_single(d, m, 5000, (enum ccdma_dir)i), 0);
	}
	CHECK_EQ(ccdma_pool_get_stats(p, &st), 0);
	CHECK_EQ(st.bounce_copies_to_device, 0);
	CHECK_EQ(st.bounce_copies_from_device, 0);

	/* Wrong frees change nothing. */
	CHECK_EQ(ccdma_free_coherent(d, 8191, cpu, dma), -EINVAL);
	CHECK_EQ(ccdma_free_coherent(d, 8193, cpu, dma), -EINVAL);
	CHECK_EQ(ccdma_free_coherent(d, 8192, (char *)cpu + 1, dma + 1), -EINVAL);
	CHECK_EQ(ccdma_free_coherent(d, 8192, cpu, dma + 4096), -EINVAL);
	CHECK_EQ(ccdma_free_coherent(d, 8192, cpu, 0), -EINVAL);
	CHECK_EQ(ccdma_free_coherent(d, 0, cpu, dma), -EINVAL);
	CHECK_EQ(ccdma_free_coherent(d, 8192, NULL, dma), -EINVAL);
	CHECK_EQ(ccdma_free_coherent(NULL, 8192, cpu, dma), -EINVAL);
	CHECK_EQ(ccdma_free_coherent(d, 100, pat, (uintptr_t)pat), -EINVAL);
	/* Shared memory that is not coherent memory. */
	REQUIRE(ccdma_pool_alloc(p, 8192, 0, &other) == 0);
	CHECK_EQ(ccdma_free_coherent(d, 8192, other, (uintptr_t)other + offset),
		 -EINVAL);
	CHECK_EQ(ccdma_pool_free(p, other, 0), 0);
	/* A streaming bounce is not coherent memory either. */
	m = ccdma_map_single(d, pat, sizeof(pat), CCDMA_TO_DEVICE);
	REQUIRE(ccdma_mapping_error(d, m) == 0);
	CHECK_EQ(ccdma_free_coherent(d, sizeof(pat), (void *)(uintptr_t)(m - offset),
				     m), -EINVAL);
	CHECK_EQ(ccdma_unmap_single(d, m, sizeof(pat), CCDMA_TO_DEVICE), 0);
	/* Still live and reachable. */
	CHECK_EQ(ccdma_dev_write(d, dma + 8000, pat, 64), 0);
	CHECK_EQ(memcmp((char *)cpu + 8000, pat, 64), 0);
	CHECK_EQ(ccdma_free_coherent(d, 8192, cpu, dma), 0);
	/* Double free. */
	CHECK_EQ(ccdma_free_coherent(d, 8192, cpu, dma), -EINVAL);

	/* Bad allocations. */
	CHECK_EQ(ccdma_alloc_coherent(d, 0, &cpu, &dma, 0), -EINVAL);
	CHECK_EQ(ccdma_alloc_coherent(d, CCDMA_POOL_MAX_ALLOC + 1, &cpu, &dma, 0),
		 -EINVAL);
	CHECK_EQ(ccdma_alloc_coherent(d, 100, NULL, &dma, 0), -EINVAL);
	CHECK_EQ(ccdma_alloc_coherent(d, 100, &cpu, NULL, 0), -EINVAL);
	CHECK_EQ(ccdma_alloc_coherent(d, 100, &cpu, &dma, CCDMA_ATTR_NO_BOUNCE),
		 -EINVAL);
	CHECK_EQ(ccdma_alloc_coherent(NULL, 100, &cpu, &dma, 0), -EINVAL);
	/* WAIT is accepted. */
	CHECK_EQ(ccdma_alloc_coherent(d, 100, &cpu, &dma, CCDMA_ATTR_WAIT), 0);
	CHECK_EQ(ccdma_free_coherent(d, 100, cpu, dma), 0);

	CHECK_EQ(ccdma_pool_get_stats(p, &st), 0);
	CHECK_EQ(st.allocs, st.frees);
	CHECK_EQ(ccdma_dev_destroy(d), 0);
}

int main(void)
{
	test_init();
	ccdma_log_set_handler(quiet_log, NULL);
	run(CCDMA_XLATE_IDENTITY, 0);
	run(CCDMA_XLATE_OFFSET, 1ull << 59);
	ccdma_log_set_handler(NULL, NULL);
	return test_done("dma_coherent");
}
