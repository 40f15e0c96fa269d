/* Explicit alignment and min_align_mask: the returned address has the
 * requested alignment, keeps the original address's low bits under the
 * mask, and the whole requested size is usable, for small and large sizes. */
#include "test.h"

static void run(struct ccdma_pool *p, size_t size, size_t align, uint64_t mask,
		uint64_t orig)
{
	struct ccdma_pool_req r = {
		.size = size, .align = align, .min_align_mask = mask,
		.orig = (uintptr_t)orig, .flags = CCDMA_POOL_WAIT,
		.timeout_ns = 2000000000ull,
	};
	struct ccdma_pool_addr_info info;
	void *a = NULL;
	uintptr_t v;

	CHECK_EQ(ccdma_pool_alloc_req(p, &r, &a), 0);
	if (!a)
		return;
	v = (uintptr_t)a;
	if (align)
		CHECK_EQ(v & (align - 1), 0);
	if (mask)
		CHECK_EQ(v & mask, orig & mask);
	CHECK(ccdma_pool_contains(p, a, size));
	CHECK_EQ(ccdma_pool_lookup(p, (char *)a + size - 1, &info), 0);
	CHECK(info.alloc_addr == a);
	CHECK(info.alloc_size >= size);
	memset(a, 0x5a, size);
	CHECK_EQ(ccdma_pool_free(p, a, size), 0);
}

int main(void)
{
	static const size_t sizes[] = { 1, 200, 512, 2048, 3000, 4096, 5000,
					16384, 32768, 40000, 65536, 300000,
					1u << 20 };
	static const size_t aligns[] = { 0, 64, 256, 512, 4096, 8192, 65536 };
	static const uint64_t masks[] = { 0, 0x7ff, 0xfff, 0x3fff };
	static const uint64_t origs[] = { 0x1000, 0x1234, 0x7ff0, 0xabc800,
					  0x100000fff, 0x100 };
	struct ccdma_pool_config cfg;
	struct ccdma_pool *p;
	unsigned i, j, k, l;

	test_init();
	test_config(&cfg, "align");
	cfg.region_size = 4u << 20;
	cfg.initial_bytes = 16u << 20;
	REQUIRE(ccdma_pool_create(&cfg, &p) == 0);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		for (j = 0; j < sizeof(aligns) / sizeof(aligns[0]); j++)
			run(p, sizes[i], aligns[j], 0, 0);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		for (k = 0; k < sizeof(masks) / sizeof(masks[0]); k++)
			for (l = 0; l < sizeof(origs) / sizeof(origs[0]); l++)
				run(p, sizes[i], 0, masks[k], origs[l]);
	/* NVMe: 4 KiB-1 mask with an explicit 4 KiB alignment and a
	 * page-aligned original. */
	run(p, 4096, 4096, 0xfff, 0x7f0000);
	run(p, 2048, 0, 0xfff, 0x7f0800);
	{
		struct ccdma_pool_stats st;

		CHECK_EQ(ccdma_pool_get_stats(p, &st), 0);
		CHECK_EQ(st.allocs, st.frees);
		CHECK_EQ(st.failures, 0);
	}
	ccdma_pool_destroy(p);
	return test_done("pool_align");
}
