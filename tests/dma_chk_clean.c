/* SPDX-License-Identifier: MIT */
/*
 * No false reports: a correct driver (map, check, device I/O, sync for the
 * CPU and back, reading a TO_DEVICE buffer, unmap; coherent memory, also
 * mapped in place; chunk lists in every direction with sub-range syncs)
 * on confidential, force-bounce, trusted and strict-IOMMU devices, with
 * page protection on, produces no checker report at all, and leaves the
 * pools as it found them.  The buffers are whole pages of
 * ccdma_page_size(), so the protection is exercised at any page size.
 */
#include "dma_chk_util.h"

static size_t page;
static unsigned char *data;

static void single(struct ccdma_dev *d, unsigned char *buf)
{
	volatile unsigned char *v = buf;
	ccdma_addr_t dma;
	unsigned char x;
	int dir;

	for (dir = CCDMA_BIDIRECTIONAL; dir <= CCDMA_FROM_DEVICE; dir++) {
		memset(buf, 0x10 + dir, 3 * page);
		dma = ccdma_map_single(d, buf, 3 * page, (enum ccdma_dir)dir);
		REQUIRE(ccdma_mapping_error(d, dma) == 0);
		/* A redundant hand-over to the device (it owns the buffer
		 * already) is no CPU access: the library's own copy of the
		 * CPU's bytes must not trip the page protection. */
		CHECK_EQ(ccdma_sync_single_for_device(d, dma, 3 * page,
						      (enum ccdma_dir)dir), 0);
		if (dir == CCDMA_TO_DEVICE) {
			x = v[page]; /* reading a TO_DEVICE buffer is allowed */
			CHECK_EQ(x, 0x10 + dir);
			CHECK_EQ(ccdma_dev_read(d, dma, data, 3 * page), 0);
			CHECK_EQ(data[2 * page], 0x10 + dir);
		} else {
			memset(data, 0x40 + dir, 3 * page);
			CHECK_EQ(ccdma_dev_write(d, dma, data, 3 * page), 0);
			CHECK_EQ(ccdma_sync_single_for_cpu(d, dma, 3 * page,
							   (enum ccdma_dir)dir), 0);
			CHECK_EQ(v[page + 1], 0x40 + dir);
			if (dir == CCDMA_BIDIRECTIONAL)
				v[0] = 0x99;
			CHECK_EQ(ccdma_sync_single_for_device(d, dma, 3 * page,
							      (enum ccdma_dir)dir), 0);
			/* A window of it, by offset and by inner address. */
			CHECK_EQ(ccdma_sync_single_range_for_cpu(d, dma, 100, 200,
								 (enum ccdma_dir)dir), 0);
			CHECK_EQ(ccdma_sync_single_range_for_device(d, dma, 100, 200,
								    (enum ccdma_dir)dir), 0);
			CHECK_EQ(ccdma_sync_single_for_cpu(d, dma + page, page,
							   (enum ccdma_dir)dir), 0);
			CHECK_EQ(ccdma_sync_single_for_device(d, dma + page, page,
							      (enum ccdma_dir)dir), 0);
		}
		CHECK_EQ(ccdma_unmap_single(d, dma, 3 * page, (enum ccdma_dir)dir), 0);
		x = v[2 * page];
		CHECK_EQ(x, dir == CCDMA_TO_DEVICE ? 0x10 + dir : 0x40 + dir);
		v[2 * page] = 0;
	}
}

static void coherent(struct ccdma_dev *d)
{
	unsigned char *c;
	ccdma_addr_t cdma, dma;

	REQUIRE(ccdma_alloc_coherent(d, 2 * page, (void **)&c, &cdma, 0) == 0);
	c[0] = 1;
	CHECK_EQ(ccdma_dev_write(d, cdma + 1, "x", 1), 0);
	CHECK_EQ(c[1], 'x');
	dma = ccdma_map_single(d, c + 100, 300, CCDMA_FROM_DEVICE);
	REQUIRE(ccdma_mapping_error(d, dma) == 0);
	CHECK_EQ(dma, cdma + 100);
	CHECK_EQ(ccdma_sync_single_for_cpu(d, dma, 300, CCDMA_FROM_DEVICE), 0);
	CHECK_EQ(ccdma_unmap_single(d, dma, 300, CCDMA_FROM_DEVICE), 0);
	CHECK_EQ(ccdma_free_coherent(d, 2 * page, c, cdma), 0);
}

static void chunks(struct ccdma_dev *d, unsigned char *buf)
{
	struct ccdma_chunk ch[4];
	struct ccdma_seg sg[64];
	struct ccdma_chunk_list in;
	struct ccdma_seg_list out;
	unsigned char *c;
	ccdma_addr_t cdma;
	int dir;

	REQUIRE(ccdma_alloc_coherent(d, 1024, (void **)&c, &cdma, 0) == 0);
	ccdma_chunks_init(&in, ch, 4);
	REQUIRE(ccdma_chunks_add(&in, buf, page, CCDMA_MEM_PRIVATE) == 0);
	REQUIRE(ccdma_chunks_add(&in, c, 1024, CCDMA_MEM_SHARED) == 0);
	REQUIRE(ccdma_chunks_add(&in, buf + 2 * page + 10, 1000, CCDMA_MEM_PRIVATE) == 0);
	REQUIRE(ccdma_chunks_add_bus(&in, 0x4000000000ull, 4096) == 0);
	for (dir = CCDMA_BIDIRECTIONAL; dir <= CCDMA_FROM_DEVICE; dir++) {
		ccdma_segs_init(&out, sg, 64);
		CHECK(ccdma_map_chunks(d, &in, &out, (enum ccdma_dir)dir) > 0);
		CHECK_EQ(ccdma_sync_chunks_for_cpu(d, &in, &out, 100, 5000,
						   (enum ccdma_dir)dir), 0);
		CHECK_EQ(ccdma_sync_chunks_for_device(d, &in, &out, 100, 5000,
						      (enum ccdma_dir)dir), 0);
		CHECK_EQ(ccdma_sync_chunks_for_cpu(d, &in, &out, 0, SIZE_MAX,
						   (enum ccdma_dir)dir), 0);
		CHECK_EQ(ccdma_unmap_chunks(d, &in, &out, (enum ccdma_dir)dir), 0);
	}
	CHECK_EQ(ccdma_free_coherent(d, 1024, c, cdma), 0);
}

static void run(struct ccdma_dev *d, unsigned char *buf)
{
	uint64_t base = chk_in_use(d);

	single(d, buf);
	coherent(d);
	chunks(d, buf);
	CHECK_EQ(chk_in_use(d), base);
	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_NKINDS), 0);
	CHECK_EQ(ccdma_dev_destroy(d), 0);
}

int main(void)
{
	struct ccdma_debug_report r;
	struct ccdma_dev_config cfg;
	unsigned char *buf;

	test_init();
	page = ccdma_page_size();
	buf = aligned_alloc(page, 3 * page);
	data = malloc(3 * page);
	REQUIRE(buf && data);
	chk_on(0);
	CHECK_EQ(ccdma_debug_get(), CCDMA_DEBUG_ON | CCDMA_DEBUG_PROTECT);
	chk_log_catch();

	run(chk_dev("clean", NULL), buf);
	ccdma_dev_config_init(&cfg);
	cfg.flags = CCDMA_DEV_F_FORCE_BOUNCE;
	run(chk_dev_mode("forced", &cfg, CCDMA_MODE_DIRECT), buf);
	ccdma_dev_config_init(&cfg);
	cfg.flags = CCDMA_DEV_F_TRUSTED;
	run(chk_dev("trusted", &cfg), buf);
	ccdma_dev_config_init(&cfg);
	cfg.xlate.kind = CCDMA_XLATE_IOMMU;
	cfg.xlate.iommu = CCDMA_IOMMU_STRICT;
	run(chk_dev("strict", &cfg), buf);
	ccdma_dev_config_init(&cfg);
	cfg.min_align_mask = 4095;
	cfg.max_seg_size = 4096;
	cfg.seg_boundary = 0xfff;
	run(chk_dev("nvme", &cfg), buf);

	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_NKINDS), 0);
	CHECK_EQ(ccdma_debug_reports(&r, 1), 0);
	CHECK_EQ(chk_log.errors, 0);
	CHECK_EQ(chk_log.warnings, 0);
	if (chk_log.last[0])
		fprintf(stderr, "unexpected message: %s\n", chk_log.last);
	ccdma_log_set_handler(NULL, NULL);
	free(buf);
	free(data);
	return test_done("dma_chk_clean");
}
