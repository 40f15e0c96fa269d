/* SPDX-License-Identifier: MIT */
/*
 * With the checker off (ccdma_debug_set(0) before the device is created)
 * the buggy drivers of the dma_chk_* tests produce no report at all: no
 * page is protected or poisoned (a CPU write or read of a device-owned
 * buffer just happens), and the library's own answers remain: -EINVAL for
 * an address that is no live mapping or a window outside one, 0 with a
 * warning for a wrong unmap size, the map's length and direction used,
 * ccdma_dev_destroy() returns 0.  The flag is sampled when a device is
 * created: a device made while the checker was on keeps being checked.
 */
#include "dma_chk_util.h"

int main(void)
{
	struct ccdma_chunk ch[2];
	struct ccdma_seg sg[4];
	struct ccdma_chunk_list in;
	struct ccdma_seg_list out;
	struct ccdma_debug_report r;
	volatile unsigned char *v;
	size_t page = ccdma_page_size();
	unsigned char *buf = aligned_alloc(page, 2 * page);
	unsigned char *data = malloc(2 * page), x;
	ccdma_addr_t dma, dma2, first, last, cdma;
	struct ccdma_dev *d, *on;
	void *coh;
	unsigned w;

	test_init();
	REQUIRE(buf && data);
	v = buf;
	chk_on(0);
	on = chk_dev("still-on", NULL);
	CHECK_EQ(ccdma_debug_set(0), CCDMA_DEBUG_ON | CCDMA_DEBUG_PROTECT);
	CHECK_EQ(ccdma_debug_get(), 0);
	d = chk_dev("off", NULL);
	chk_log_catch();

	/* Unmap of an address never mapped. */
	CHECK_EQ(ccdma_unmap_single(d, (uintptr_t)buf, 64, CCDMA_TO_DEVICE), -EINVAL);
	REQUIRE(ccdma_dev_pool_dma_range(d, &first, &last) == 0);
	CHECK_EQ(ccdma_unmap_single(d, first + 8192, 64, CCDMA_TO_DEVICE), -EINVAL);

	/* Double unmap (single and chunk list). */
	dma = ccdma_map_single(d, buf, 512, CCDMA_TO_DEVICE);
	REQUIRE(!ccdma_mapping_error(d, dma));
	CHECK_EQ(ccdma_unmap_single(d, dma, 512, CCDMA_TO_DEVICE), 0);
	CHECK_EQ(ccdma_unmap_single(d, dma, 512, CCDMA_TO_DEVICE), -EINVAL);
	ccdma_chunks_init(&in, ch, 2);
	REQUIRE(ccdma_chunks_add(&in, buf, 300, CCDMA_MEM_PRIVATE) == 0);
	ccdma_segs_init(&out, sg, 4);
	CHECK_EQ(ccdma_map_chunks(d, &in, &out, CCDMA_TO_DEVICE), 1);
	CHECK_EQ(ccdma_unmap_chunks(d, &in, &out, CCDMA_TO_DEVICE), 0);
	CHECK_EQ(ccdma_unmap_chunks(d, &in, &out, CCDMA_TO_DEVICE), -EINVAL);

	/* Wrong size and direction at unmap: warned, the map's are used. */
	memset(buf, 0, 300);
	memset(data, 0x31, 300);
	dma = ccdma_map_single(d, buf, 300, CCDMA_FROM_DEVICE);
	REQUIRE(!ccdma_mapping_error(d, dma));
	CHECK_EQ(ccdma_dev_write(d, dma, data, 300), 0);
	w = chk_log.warnings;
	CHECK_EQ(ccdma_unmap_single(d, dma, 200, CCDMA_TO_DEVICE), 0);
	CHECK_EQ(chk_log.warnings, w + 1);
	CHECK(!memcmp(buf, data, 300));

	/* Wrong sync direction, sync outside, overlap, unchecked map. */
	dma = ccdma_map_single(d, buf, 256, CCDMA_TO_DEVICE);
	CHECK_EQ(ccdma_sync_single_for_cpu(d, dma, 256, CCDMA_FROM_DEVICE), 0);
	CHECK_EQ(ccdma_sync_single_for_cpu(d, dma, 512, CCDMA_TO_DEVICE), -EINVAL);
	CHECK_EQ(ccdma_sync_single_range_for_device(d, dma, 200, 100, CCDMA_TO_DEVICE), -EINVAL);
	dma2 = ccdma_map_single(d, buf + 16, 16, CCDMA_FROM_DEVICE);
	CHECK(dma2 != CCDMA_MAPPING_ERROR);
	CHECK_EQ(ccdma_unmap_single(d, dma2, 16, CCDMA_FROM_DEVICE), 0);
	CHECK_EQ(ccdma_unmap_single(d, dma, 256, CCDMA_TO_DEVICE), 0);
	CHECK_EQ(ccdma_map_chunks(d, &in, &out, CCDMA_FROM_DEVICE), 1);
	CHECK_EQ(ccdma_sync_chunks_for_cpu(d, &in, &out, 200, 200, CCDMA_FROM_DEVICE), -EINVAL);
	CHECK_EQ(ccdma_sync_chunks_for_cpu(d, &in, &out, 0, 100, CCDMA_TO_DEVICE), 0);
	CHECK_EQ(ccdma_unmap_chunks(d, &in, &out, CCDMA_BIDIRECTIONAL), 0);

	/* CPU write of a TO_DEVICE buffer, read of a FROM_DEVICE one: no
	 * protection, no poison. */
	memset(buf, 0x11, 2 * page);
	dma = ccdma_map_single(d, buf, 2 * page, CCDMA_TO_DEVICE);
	REQUIRE(!ccdma_mapping_error(d, dma));
	v[page + 904] = 0x77;
	CHECK_EQ(v[page + 904], 0x77);
	CHECK_EQ(ccdma_unmap_single(d, dma, 2 * page, CCDMA_TO_DEVICE), 0);
	memset(buf, 0x11, 2 * page);
	dma = ccdma_map_single(d, buf, 2 * page, CCDMA_FROM_DEVICE);
	REQUIRE(!ccdma_mapping_error(d, dma));
	memset(data, 0x5d, 2 * page);
	CHECK_EQ(ccdma_dev_write(d, dma, data, 2 * page), 0);
	x = v[page + 7];
	CHECK_EQ(x, 0x11); /* the CPU's old bytes: no poison, no data */
	CHECK_EQ(ccdma_unmap_single(d, dma, 2 * page, CCDMA_FROM_DEVICE), 0);
	CHECK(!memcmp(buf, data, 2 * page));

	/* Leaks: destroy says 0; the pool reclaims (and says so). */
	dma = ccdma_map_single(d, buf, 2 * page, CCDMA_BIDIRECTIONAL);
	REQUIRE(!ccdma_mapping_error(d, dma));
	REQUIRE(ccdma_alloc_coherent(d, 512, &coh, &cdma, 0) == 0);
	w = chk_log.warnings;
	CHECK_EQ(ccdma_dev_destroy(d), 0);
	CHECK_EQ(chk_log.warnings, w + 1);
	CHECK(strstr(chk_log.last, "live allocation") != NULL);
	buf[0] = 1;

	/* Not one report. */
	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_NKINDS), 0);
	CHECK_EQ(ccdma_debug_reports(&r, 1), 0);

	/* The device made while the checker was on is still checked. */
	dma = ccdma_map_single(on, buf, 64, CCDMA_TO_DEVICE);
	REQUIRE(!ccdma_mapping_error(on, dma));
	CHECK_EQ(ccdma_unmap_single(on, dma, 64, CCDMA_TO_DEVICE), 0);
	CHECK_EQ(ccdma_unmap_single(on, dma, 64, CCDMA_TO_DEVICE), -EINVAL);
	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_DOUBLE_UNMAP), 1);
	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_NKINDS), 1);
	CHECK_EQ(ccdma_dev_destroy(on), 0);
	ccdma_log_set_handler(NULL, NULL);
	free(buf);
	free(data);
	return test_done("dma_chk_off");
}
