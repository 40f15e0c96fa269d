/* SPDX-License-Identifier: MIT */
/*
 * IOMMU strict mode: the device reaches only live mappings, with the
 * direction's permission (TO_DEVICE: read, FROM_DEVICE: write,
 * BIDIRECTIONAL: both), from map to unmap; coherent memory read-write from
 * alloc to free; shared buffers and attached regions likewise only while
 * mapped.  Every refused access is counted, and only those.  The pool
 * isolates pages, so no mapping exposes another's page.
 */
#include "test.h"

#include <ccdma/dma.h>

static struct ccdma_dev *d;
static uint64_t expect_faults;

/* Try a read and a write of `len` bytes at `dma`; check which succeed. */
static void probe(int line, ccdma_addr_t dma, size_t len, bool can_read,
		  bool can_write)
{
	unsigned char tmp[256];
	int r, w;

	if (len > sizeof(tmp))
		len = sizeof(tmp);
	memset(tmp, 0x6b, sizeof(tmp));
	r = ccdma_dev_read(d, dma, tmp, len);
	w = ccdma_dev_write(d, dma, tmp, len);
	expect_faults += !can_read + !can_write;
	if (r != (can_read ? 0 : -EFAULT) || w != (can_write ? 0 : -EFAULT)) {
		fprintf(stderr, "line %d: access at %#llx: read %d write %d, "
			"expected read %s write %s\n", line,
			(unsigned long long)dma, r, w, can_read ? "ok" : "fault",
			can_write ? "ok" : "fault");
		test_failures++;
	}
	CHECK_EQ(ccdma_dev_faults(d), expect_faults);
}

#define PROBE(dma, len, r, w) probe(__LINE__, dma, len, r, w)

int main(void)
{
	static const enum ccdma_dir dirs[] = {
		CCDMA_TO_DEVICE, CCDMA_FROM_DEVICE, CCDMA_BIDIRECTIONAL
	};
	size_t ps = ccdma_page_size(), len = ps + 100;
	struct ccdma_pool_config pc;
	struct ccdma_dev_config cfg;
	struct ccdma_pool_addr_info info;
	struct ccdma_region reg;
	ccdma_addr_t dma, dma2, first, last, cdma, rdma;
	unsigned char *buf, *buf2;
	void *cpu, *sh;
	unsigned i;

	test_init();
	ccdma_log_set_handler(quiet_log, NULL);
	test_config(&pc, "strict");
	pc.initial_bytes = 2u << 20;
	pc.isolation = CCDMA_ISOLATION_PAGE;
	pc.flags = CCDMA_POOL_F_NO_GROWER;
	ccdma_dev_config_init(&cfg);
	cfg.name = "strict";
	cfg.mode = CCDMA_MODE_CONFIDENTIAL;
	cfg.pool_cfg = &pc;
	cfg.xlate.kind = CCDMA_XLATE_IOMMU;
	cfg.xlate.iommu = CCDMA_IOMMU_STRICT;
	REQUIRE(ccdma_dev_create(&cfg, &d) == 0);
	CHECK_EQ(ccdma_dev_pool_dma_range(d, &first, &last), 0);
	CHECK(first == 1ull << 20);

	buf = malloc(len);
	buf2 = malloc(len);
	REQUIRE(buf && buf2);
	memset(buf, 0x33, len);

	/* Nothing mapped: the pool is not in the I/O page table. */
	PROBE(first, 1, false, false);
	PROBE(first + ps, 16, false, false);

	for (i = 0; i < 3; i++) {
		enum ccdma_dir dir = dirs[i];
		bool rd = dir != CCDMA_FROM_DEVICE, wr = dir != CCDMA_TO_DEVICE;

		dma = ccdma_map_single(d, buf, len, dir);
		REQUIRE(ccdma_mapping_error(d, dma) == 0);
		CHECK(dma >= first && dma + len - 1 <= last);
		/* Whole mapping, its first and last byte. */
		PROBE(dma, len, rd, wr);
		PROBE(dma, 1, rd, wr);
		PROBE(dma + len - 1, 1, rd, wr);
		/* The rest of the mapping's last page (the granule is the page);
		 * the next page belongs to no mapping. */
		PROBE((dma + len - 1) | (ps - 1), 1, rd, wr);
		PROBE(((dma + len - 1) | (ps - 1)) + 1, 1, false, false);
		/* Before the mapping: another page. */
		if (!(dma & (ps - 1)) && dma > first)
			PROBE(dma - 1, 1, false, false);
		CHECK_EQ(ccdma_unmap_single(d, dma, len, dir), 0);
		/* Unmapped: gone. */
		PROBE(dma, 1, false, false);
		PROBE(dma + len - 1, 1, false, false);
	}

	/* Two live mappings: each keeps its own permission; unmapping one
	 * leaves the other. */
	dma = ccdma_map_single(d, buf, len, CCDMA_TO_DEVICE);
	dma2 = ccdma_map_single(d, buf2, 200, CCDMA_FROM_DEVICE);
	REQUIRE(ccdma_mapping_error(d, dma) == 0 && ccdma_mapping_error(d, dma2) == 0);
	CHECK((dma2 & ~(ccdma_addr_t)(ps - 1)) != (dma & ~(ccdma_addr_t)(ps - 1)));
	PROBE(dma, 8, true, false);
	PROBE(dma2, 8, false, true);
	CHECK_EQ(ccdma_unmap_single(d, dma, len, CCDMA_TO_DEVICE), 0);
	PROBE(dma, 8, false, false);
	PROBE(dma2, 8, false, true);
	CHECK_EQ(ccdma_unmap_single(d, dma2, 200, CCDMA_FROM_DEVICE), 0);
	PROBE(dma2, 8, false, false);

	/* Coherent memory: read-write from alloc to free. */
	CHECK_EQ(ccdma_alloc_coherent(d, 3000, &cpu, &cdma, 0), 0);
	PROBE(cdma, 3000, true, true);
	PROBE(cdma + 2999, 1, true, true);
	/* A streaming mapping of part of it adds and removes only its own
	 * permission. */
	dma = ccdma_map_single(d, (char *)cpu + 64, 128, CCDMA_TO_DEVICE);
	CHECK(dma == cdma + 64);
	CHECK_EQ(ccdma_unmap_single(d, dma, 128, CCDMA_TO_DEVICE), 0);
	PROBE(cdma, 3000, true, true);
	CHECK_EQ(ccdma_free_coherent(d, 3000, cpu, cdma), 0);
	PROBE(cdma, 1, false, false);

	/* Shared memory from the pool: mapped at its offset, reachable only
	 * while mapped; two mappings of it count separately. */
	REQUIRE(ccdma_pool_alloc(ccdma_dev_pool(d), 1000, 0, &sh) == 0);
	REQUIRE(ccdma_pool_lookup(ccdma_dev_pool(d), sh, &info) == 0);
	PROBE(first + info.pool_offset, 1, false, false);
	dma = ccdma_map_single(d, sh, 1000, CCDMA_TO_DEVICE);
	CHECK(dma == first + info.pool_offset);
	PROBE(dma, 1000, true, false);
	dma2 = ccdma_map_single(d, sh, 1000, CCDMA_BIDIRECTIONAL);
	CHECK(dma2 == dma);
	PROBE(dma, 1000, true, true);
	CHECK_EQ(ccdma_unmap_single(d, dma2, 1000, CCDMA_BIDIRECTIONAL), 0);
	PROBE(dma, 1000, true, false);
	/* Unmapping with the wrong direction is refused and changes
	 * nothing. */
	CHECK_EQ(ccdma_unmap_single(d, dma, 1000, CCDMA_FROM_DEVICE), -EINVAL);
	PROBE(dma, 1000, true, false);
	CHECK_EQ(ccdma_unmap_single(d, dma, 1000, CCDMA_TO_DEVICE), 0);
	PROBE(dma, 1, false, false);
	/* A second unmap finds nothing mapped. */
	CHECK_EQ(ccdma_unmap_single(d, dma, 1000, CCDMA_TO_DEVICE), -EINVAL);
	PROBE(dma, 1, false, false);
	CHECK_EQ(ccdma_pool_free(ccdma_dev_pool(d), sh, 1000), 0);

	/* An attached region: nothing reachable until a buffer in it is
	 * mapped. */
	REQUIRE(ccdma_region_create(16 * ps, "strict-reg", &reg) == 0);
	CHECK_EQ(ccdma_dev_attach_region(d, &reg, &rdma), 0);
	CHECK(rdma > last);
	PROBE(rdma, 1, false, false);
	dma = ccdma_map_single(d, (char *)reg.addr + 3 * ps, 2 * ps,
			       CCDMA_FROM_DEVICE);
	CHECK(dma == rdma + 3 * ps);
	PROBE(dma, 2 * ps, false, true);
	PROBE(dma - 1, 1, false, false);
	PROBE(dma + 2 * ps, 1, false, false);
	/* An unmap running past the region's end names no live mapping (and
	 * must not touch counters beyond the region's). */
	CHECK_EQ(ccdma_unmap_single(d, dma, 64 * ps, CCDMA_FROM_DEVICE), -EINVAL);
	CHECK_EQ(ccdma_unmap_single(d, rdma + 15 * ps, 2 * ps, CCDMA_FROM_DEVICE),
		 -EINVAL);
	PROBE(dma, 2 * ps, false, true);
	CHECK_EQ(ccdma_unmap_single(d, dma, 2 * ps, CCDMA_FROM_DEVICE), 0);
	PROBE(dma, 1, false, false);
	CHECK_EQ(ccdma_dev_detach_region(d, &reg), 0);
	ccdma_region_destroy(&reg);

	free(buf);
	free(buf2);
	CHECK_EQ(ccdma_dev_destroy(d), 0);
	ccdma_log_set_handler(NULL, NULL);
	return test_done("dma_iommu_strict");
}
