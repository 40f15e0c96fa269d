/* Every class boundary: a request of exactly a class size gets that class,
 * one byte more gets the next; classes are four per doubling; the
 * multiply-shift slot division is exact for every class and offset. */
#include "test.h"
#include "pool/pool_internal.h"

int main(void)
{
	unsigned ci;
	size_t prev = 0;

	test_init();
	CHECK_EQ(ccdma_pool_class_size(0), 256);
	CHECK_EQ(ccdma_pool_class_size(CCDMA_POOL_NCLASSES - 1), 16u << 20);
	CHECK_EQ(ccdma_pool_class_size(CCDMA_POOL_NCLASSES), 0);
	CHECK_EQ(ccdma_pool_class_size(CCDMA_NSMALL - 1), CCDMA_POOL_SMALL_MAX);
	CHECK(ccdma_pool_class_size(CCDMA_POOL_NCLASSES - 1) >= 4u << 20);
	CHECK_EQ(ccdma_pool_class_of(1), 0);
	CHECK_EQ(ccdma_pool_class_of(0), -EINVAL);
	CHECK_EQ(ccdma_pool_class_of((size_t)CCDMA_POOL_MAX_ALLOC + 1), -EINVAL);
	for (ci = 0; ci < CCDMA_POOL_NCLASSES; ci++) {
		size_t sz = ccdma_pool_class_size(ci);

		CHECK(sz > prev);
		CHECK(sz % 64 == 0);
		/* spacing: at most 25% above the previous class */
		if (prev)
			CHECK(sz * 4 <= prev * 5);
		CHECK_EQ(ccdma_pool_class_of(sz), ci);
		if (sz > 1)
			CHECK_EQ(ccdma_pool_class_of(sz - 1), ci == 0 ? 0 : (sz - 1 > prev ? ci : ci - 1));
		if (ci + 1 < CCDMA_POOL_NCLASSES)
			CHECK_EQ(ccdma_pool_class_of(sz + 1), ci + 1);
		if (prev)
			CHECK_EQ(ccdma_pool_class_of(prev + 1), ci);
		prev = sz;
	}
	/* Exact division for every small class over every offset < 2^20. */
	for (ci = 0; ci < CCDMA_NSMALL; ci++) {
		uint32_t d = (uint32_t)ccdma_pool_class_size(ci), magic, x;
		uint8_t shift;
		int bad = 0;

		ccdma_div_magic(d, &magic, &shift);
		for (x = 0; x < (1u << 20); x++)
			if ((uint32_t)(((uint64_t)x * magic) >> shift) != x / d)
				bad++;
		CHECK_EQ(bad, 0);
	}
	/* Span geometry: at least 8 slots, tail waste under one slot. */
	for (ci = 0; ci < CCDMA_NSMALL; ci++) {
		uint32_t pages, slots, cap;
		size_t sz = ccdma_pool_class_size(ci);

		ccdma_class_geometry(4096, ci, &pages, &slots, &cap);
		CHECK(slots >= 8);
		CHECK_EQ(slots, (uint32_t)((size_t)pages * 4096 / sz));
		CHECK(cap >= 4 && cap <= TC_MAX);
		CHECK((size_t)pages * 4096 - slots * sz < sz);
	}
	return test_done("pool_classes");
}
