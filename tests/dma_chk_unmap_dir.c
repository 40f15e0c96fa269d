/* SPDX-License-Identifier: MIT */
/*
 * Checker report CCDMA_DBG_UNMAP_DIR: a driver that unmaps with a
 * direction other than the map's (a single buffer, a chunk list) is
 * reported at the unmap with the map's call site and both directions
 * named; the unmap still uses the map's direction, so the device's data
 * is copied back even when the unmap says TO_DEVICE.
 */
#include "dma_chk_util.h"

int main(void)
{
	struct ccdma_chunk ch[2];
	struct ccdma_seg sg[4];
	struct ccdma_chunk_list in;
	struct ccdma_seg_list out;
	struct ccdma_debug_report r;
	const char *tf = chk_base(__FILE__);
	unsigned char *buf = malloc(400), data[400];
	ccdma_addr_t dma;
	struct ccdma_dev *d;
	uint64_t base;
	int l, lmap;

	d = chk_begin("dir", buf);
	base = chk_in_use(d);

	/* Single: mapped FROM_DEVICE, unmapped TO_DEVICE. */
	memset(buf, 0x11, 400);
	memset(data, 0x77, 400);
	dma = AT(lmap, ccdma_map_single(d, buf, 400, CCDMA_FROM_DEVICE));
	REQUIRE(!ccdma_mapping_error(d, dma));
	CHECK_EQ(ccdma_dev_write(d, dma, data, 400), 0);
	CHECK_EQ(AT(l, ccdma_unmap_single(d, dma, 400, CCDMA_TO_DEVICE)), 0);
	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_UNMAP_DIR), 1);
	CHK_REPORT(CCDMA_DBG_UNMAP_DIR, tf, l, tf, lmap);
	REQUIRE(chk_last_report(CCDMA_DBG_UNMAP_DIR, &r));
	CHECK(strstr(r.msg, "TO_DEVICE") != NULL);
	CHECK(strstr(r.msg, "FROM_DEVICE") != NULL);
	CHECK_EQ(r.addr, dma);
	CHECK(!memcmp(buf, data, 400)); /* the map's direction was used */
	CHECK_EQ(chk_in_use(d), base);

	/* Chunk list: mapped FROM_DEVICE, unmapped BIDIRECTIONAL. */
	memset(buf, 0x11, 400);
	memset(data, 0x55, 400);
	ccdma_chunks_init(&in, ch, 2);
	REQUIRE(ccdma_chunks_add(&in, buf, 400, CCDMA_MEM_PRIVATE) == 0);
	ccdma_segs_init(&out, sg, 4);
	CHECK_EQ(AT(lmap, ccdma_map_chunks(d, &in, &out, CCDMA_FROM_DEVICE)), 1);
	CHECK_EQ(ccdma_dev_write(d, sg[0].addr, data, 400), 0);
	CHECK_EQ(AT(l, ccdma_unmap_chunks(d, &in, &out, CCDMA_BIDIRECTIONAL)), 0);
	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_UNMAP_DIR), 2);
	CHK_REPORT(CCDMA_DBG_UNMAP_DIR, tf, l, tf, lmap);
	REQUIRE(chk_last_report(CCDMA_DBG_UNMAP_DIR, &r));
	CHECK(strstr(r.msg, "BIDIRECTIONAL") != NULL);
	CHECK(!memcmp(buf, data, 400));

	/* Chunk list mapped TO_DEVICE and unmapped FROM_DEVICE: no copy
	 * back over the CPU's data. */
	memset(buf, 0x33, 400);
	CHECK_EQ(AT(lmap, ccdma_map_chunks(d, &in, &out, CCDMA_TO_DEVICE)), 1);
	CHECK_EQ(ccdma_dev_write(d, sg[0].addr, data, 400), 0); /* unchecked device */
	CHECK_EQ(AT(l, ccdma_unmap_chunks(d, &in, &out, CCDMA_FROM_DEVICE)), 0);
	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_UNMAP_DIR), 3);
	CHK_REPORT(CCDMA_DBG_UNMAP_DIR, tf, l, tf, lmap);
	CHECK_EQ(buf[0], 0x33);
	CHECK_EQ(buf[399], 0x33);

	/* Matching directions: no report. */
	dma = ccdma_map_single(d, buf, 400, CCDMA_BIDIRECTIONAL);
	REQUIRE(!ccdma_mapping_error(d, dma));
	CHECK_EQ(ccdma_unmap_single(d, dma, 400, CCDMA_BIDIRECTIONAL), 0);
	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_NKINDS), 3);
	CHECK_EQ(chk_in_use(d), base);
	CHECK_EQ(ccdma_dev_destroy(d), 0);
	ccdma_log_set_handler(NULL, NULL);
	free(buf);
	return test_done("dma_chk_unmap_dir");
}
