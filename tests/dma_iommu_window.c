/* SPDX-License-Identifier: MIT */
/*
 * IOMMU window mode: the device's I/O addresses are iova_base (default
 * 1 MiB) + pool offset; the device may read and write anywhere in the
 * pool's live regions (mapped or not) and in attached regions, which are
 * placed after the pool; everything else in its I/O space faults.
 */
#include "test.h"

#include <ccdma/dma.h>

#define LEN 3000

static void run(uint64_t iova_base)
{
	uint64_t want_base = iova_base ? iova_base : 1ull << 20;
	struct ccdma_pool_config pc;
	struct ccdma_dev_config cfg;
	struct ccdma_pool_addr_info info;
	struct ccdma_region reg;
	struct ccdma_dev *d;
	struct ccdma_pool *p;
	unsigned char buf[LEN], got[LEN], pat[64];
	uint64_t pbase, psize, f;
	ccdma_addr_t dma, first, last, rdma;
	void *cp, *sh;
	size_t i;

	test_config(&pc, "window");
	pc.initial_bytes = 1u << 20;
	pc.flags = CCDMA_POOL_F_NO_GROWER;
	ccdma_dev_config_init(&cfg);
	cfg.name = "window";
	cfg.mode = CCDMA_MODE_CONFIDENTIAL;
	cfg.pool_cfg = &pc;
	cfg.xlate.kind = CCDMA_XLATE_IOMMU;
	cfg.xlate.iommu = CCDMA_IOMMU_WINDOW;
	cfg.xlate.iova_base = iova_base;
	REQUIRE(ccdma_dev_create(&cfg, &d) == 0);
	p = ccdma_dev_pool(d);
	REQUIRE(ccdma_pool_get_range(p, &pbase, &psize) == 0);
	CHECK_EQ(ccdma_dev_pool_dma_range(d, &first, &last), 0);
	CHECK(first == want_base);
	CHECK(last == want_base + psize - 1);

	/* A bounced private buffer: iova = base + pool offset of its bounce. */
	for (i = 0; i < LEN; i++)
		buf[i] = (unsigned char)(i ^ 0x5a);
	dma = ccdma_map_single(d, buf, LEN, CCDMA_TO_DEVICE);
	REQUIRE(ccdma_mapping_error(d, dma) == 0);
	CHECK_EQ(ccdma_dev_access(d, dma, LEN, CCDMA_ACCESS_READ, &cp), 0);
	CHECK((uintptr_t)cp >= pbase && (uintptr_t)cp + LEN <= pbase + psize);
	CHECK_EQ(ccdma_pool_lookup(p, cp, &info), 0);
	CHECK(info.alloc_addr == cp);
	CHECK(dma == want_base + info.pool_offset);
	CHECK(info.pool_offset == (uintptr_t)cp - pbase);
	CHECK_EQ(ccdma_dev_read(d, dma, got, LEN), 0);
	CHECK(memcmp(got, buf, LEN) == 0);
	CHECK_EQ(ccdma_unmap_single(d, dma, LEN, CCDMA_TO_DEVICE), 0);

	/* Window: anywhere in a live region, mapped or not, read and write. */
	REQUIRE(info.region_addr && info.region_size);
	{
		uint64_t roff = (uintptr_t)info.region_addr - pbase;
		ccdma_addr_t r0 = want_base + roff;
		ccdma_addr_t rend = r0 + info.region_size;

		memset(pat, 0xc3, sizeof(pat));
		CHECK_EQ(ccdma_dev_write(d, r0, pat, sizeof(pat)), 0);
		CHECK(((unsigned char *)info.region_addr)[0] == 0xc3);
		CHECK(((unsigned char *)info.region_addr)[63] == 0xc3);
		CHECK_EQ(ccdma_dev_write(d, rend - sizeof(pat), pat, sizeof(pat)), 0);
		CHECK(((unsigned char *)info.region_addr)[info.region_size - 1] == 0xc3);
		CHECK_EQ(ccdma_dev_read(d, r0 + 12345, got, 100), 0);
		CHECK_EQ(ccdma_dev_faults(d), 0);

		/* Outside: below the window, across the region's end, in the
		 * reservation where no region lives, above the pool. */
		f = ccdma_dev_faults(d);
		CHECK_EQ(ccdma_dev_read(d, want_base - 1, got, 1), -EFAULT);
		CHECK_EQ(ccdma_dev_read(d, 0, got, 1), -EFAULT);
		CHECK_EQ(ccdma_dev_write(d, rend - 8, pat, 16), -EFAULT);
		CHECK_EQ(ccdma_dev_read(d, rend, got, 1), -EFAULT);
		CHECK_EQ(ccdma_dev_read(d, want_base + psize, got, 1), -EFAULT);
		/* The CPU address of the bounce means nothing to the device. */
		CHECK_EQ(ccdma_dev_read(d, (uintptr_t)cp, got, 1), -EFAULT);
		CHECK_EQ(ccdma_dev_faults(d) - f, 6);
		if (roff != 0) {
			CHECK_EQ(ccdma_dev_read(d, want_base, got, 1), -EFAULT);
			CHECK_EQ(ccdma_dev_faults(d) - f, 7);
		}
	}

	/* Shared memory from the pool is not bounced: iova of its offset. */
	REQUIRE(ccdma_pool_alloc(p, 512, 0, &sh) == 0);
	memset(sh, 0x11, 512);
	dma = ccdma_map_single(d, sh, 512, CCDMA_FROM_DEVICE);
	CHECK(dma == want_base + ((uintptr_t)sh - pbase));
	memset(pat, 0x22, sizeof(pat));
	CHECK_EQ(ccdma_dev_write(d, dma + 10, pat, sizeof(pat)), 0);
	CHECK(((unsigned char *)sh)[10] == 0x22 && ((unsigned char *)sh)[9] == 0x11);
	CHECK_EQ(ccdma_unmap_single(d, dma, 512, CCDMA_FROM_DEVICE), 0);
	CHECK_EQ(ccdma_pool_free(p, sh, 512), 0);

	/* An attached region sits after the pool in I/O space. */
	REQUIRE(ccdma_region_create(64u << 10, "window-reg", &reg) == 0);
	CHECK_EQ(ccdma_dev_attach_region(d, &reg, &rdma), 0);
	CHECK(rdma == want_base + psize);
	memset(reg.addr, 0x44, reg.size);
	CHECK_EQ(ccdma_dev_read(d, rdma + reg.size - 4, got, 4), 0);
	CHECK(got[0] == 0x44 && got[3] == 0x44);
	dma = ccdma_map_single(d, (char *)reg.addr + 100, 200, CCDMA_TO_DEVICE);
	CHECK(dma == rdma + 100);
	CHECK_EQ(ccdma_unmap_single(d, dma, 200, CCDMA_TO_DEVICE), 0);
	f = ccdma_dev_faults(d);
	CHECK_EQ(ccdma_dev_read(d, rdma + reg.size, got, 1), -EFAULT);
	CHECK_EQ(ccdma_dev_read(d, rdma + reg.size - 2, got, 4), -EFAULT);
	CHECK_EQ(ccdma_dev_faults(d) - f, 2);
	/* Detached: gone from the device's I/O space. */
	CHECK_EQ(ccdma_dev_detach_region(d, &reg), 0);
	CHECK_EQ(ccdma_dev_read(d, rdma, got, 1), -EFAULT);
	CHECK_EQ(ccdma_dev_faults(d) - f, 3);
	ccdma_region_destroy(&reg);

	CHECK_EQ(ccdma_dev_destroy(d), 0);
}

int main(void)
{
	struct ccdma_dev_config cfg;
	struct ccdma_pool_config pc;
	struct ccdma_dev *d = NULL;

	test_init();
	ccdma_log_set_handler(quiet_log, NULL);
	run(0);
	run(1ull << 32);
	run(0xfee00000ull + (1ull << 40));

	/* iova_base must be page aligned. */
	test_config(&pc, "window");
	pc.initial_bytes = 1u << 20;
	ccdma_dev_config_init(&cfg);
	cfg.mode = CCDMA_MODE_CONFIDENTIAL;
	cfg.pool_cfg = &pc;
	cfg.xlate.kind = CCDMA_XLATE_IOMMU;
	cfg.xlate.iova_base = (1ull << 20) + 8;
	CHECK_EQ(ccdma_dev_create(&cfg, &d), -EINVAL);
	CHECK(d == NULL);
	/* ...and leave room for the pool below 2^64. */
	cfg.xlate.iova_base = ~0ull & ~(uint64_t)(ccdma_page_size() - 1);
	CHECK_EQ(ccdma_dev_create(&cfg, &d), -EINVAL);
	/* A 32-bit mask is fine when the I/O space is low, whatever the CPU
	 * addresses of the pool. */
	cfg.xlate.iova_base = 0;
	cfg.dma_mask = cfg.coherent_mask = 0xffffffffull;
	CHECK_EQ(ccdma_dev_create(&cfg, &d), 0);
	CHECK_EQ(ccdma_dev_destroy(d), 0);
	/* ...and refused when the window is above it. */
	cfg.xlate.iova_base = 1ull << 32;
	CHECK_EQ(ccdma_dev_create(&cfg, &d), -EIO);
	ccdma_log_set_handler(NULL, NULL);
	return test_done("dma_iommu_window");
}
