/* O(1) lookup from any address inside an allocation back to its region and
 * allocation, and from a pool offset to the CPU address. */
#include <sys/mman.h>

#include "test.h"

int main(void)
{
	struct ccdma_pool_config cfg;
	struct ccdma_pool_addr_info info;
	struct ccdma_pool *p;
	static const size_t sizes[] = { 100, 2048, 4000, 20000, 70000, 1u << 20 };
	unsigned i;

	test_init();
	test_config(&cfg, "lookup");
	cfg.region_size = 2u << 20;
	cfg.initial_bytes = 8u << 20;
	REQUIRE(ccdma_pool_create(&cfg, &p) == 0);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		unsigned char *a, *dev;
		size_t off;

		REQUIRE(ccdma_pool_alloc(p, sizes[i], 0, (void **)&a) == 0);
		memset(a, (int)i + 1, sizes[i]);
		for (off = 0; off < sizes[i]; off += sizes[i] / 7 + 1) {
			CHECK_EQ(ccdma_pool_lookup(p, a + off, &info), 0);
			CHECK(info.alloc_addr == a);
			CHECK(info.alloc_size >= sizes[i]);
			CHECK_EQ(info.class_index, ccdma_pool_class_of(sizes[i]));
			CHECK(ccdma_pool_offset_to_addr(p, info.pool_offset, 1) == a + off);
			CHECK((unsigned char *)info.region_addr + info.region_offset == a + off);
			CHECK(info.region_offset + sizes[i] - off <= info.region_size);
		}
		/* The region fd maps the same bytes (what a device sees). */
		CHECK_EQ(ccdma_pool_lookup(p, a, &info), 0);
		dev = mmap(NULL, info.region_size, PROT_READ, MAP_SHARED,
			   info.region_fd, 0);
		REQUIRE(dev != MAP_FAILED);
		CHECK(dev[info.region_offset] == (unsigned char)(i + 1));
		CHECK(dev[info.region_offset + sizes[i] - 1] == (unsigned char)(i + 1));
		munmap(dev, info.region_size);
		CHECK_EQ(ccdma_pool_free(p, a, 0), 0);
		CHECK_EQ(ccdma_pool_lookup(p, a, &info), -EINVAL);
	}
	/* Offsets outside every region map to nothing. */
	CHECK(ccdma_pool_offset_to_addr(p, 64u << 20, 1) == NULL);
	CHECK(ccdma_pool_offset_to_addr(p, 0, (size_t)1 << 40) == NULL);
	ccdma_pool_destroy(p);
	return test_done("pool_lookup");
}
