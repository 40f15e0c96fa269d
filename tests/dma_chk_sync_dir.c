/* SPDX-License-Identifier: MIT */
/*
 * Checker report CCDMA_DBG_SYNC_DIR: a driver that syncs a mapping (single
 * or chunk list, for the CPU or for the device) with a direction other
 * than the map's is reported at the sync with the map's call site; a
 * BIDIRECTIONAL mapping may be synced with any direction, and the sync
 * itself still happens.
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
	unsigned char *buf = malloc(512), data[512];
	ccdma_addr_t dma;
	struct ccdma_dev *d;
	int l, lmap;

	d = chk_begin("syncdir", buf);

	/* Mapped TO_DEVICE, synced as FROM_DEVICE both ways. */
	memset(buf, 0x10, 512);
	dma = AT(lmap, ccdma_map_single(d, buf, 512, CCDMA_TO_DEVICE));
	REQUIRE(!ccdma_mapping_error(d, dma));
	CHECK_EQ(AT(l, ccdma_sync_single_for_cpu(d, dma, 512, CCDMA_FROM_DEVICE)), 0);
	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_SYNC_DIR), 1);
	CHK_REPORT(CCDMA_DBG_SYNC_DIR, tf, l, tf, lmap);
	REQUIRE(chk_last_report(CCDMA_DBG_SYNC_DIR, &r));
	CHECK(strstr(r.msg, "sync_for_cpu") != NULL);
	CHECK(strstr(r.msg, "FROM_DEVICE") != NULL);
	CHECK(strstr(r.msg, "TO_DEVICE") != NULL);
	CHECK_EQ(r.addr, dma);
	/* The CPU's new bytes still go to the device (the map's direction). */
	memset(buf, 0x20, 512);
	CHECK_EQ(AT(l, ccdma_sync_single_for_device(d, dma, 512, CCDMA_FROM_DEVICE)), 0);
	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_SYNC_DIR), 2);
	CHK_REPORT(CCDMA_DBG_SYNC_DIR, tf, l, tf, lmap);
	REQUIRE(chk_last_report(CCDMA_DBG_SYNC_DIR, &r));
	CHECK(strstr(r.msg, "sync_for_device") != NULL);
	CHECK_EQ(ccdma_dev_read(d, dma, data, 512), 0);
	CHECK_EQ(data[0], 0x20);
	CHECK_EQ(data[511], 0x20);
	/* A window, by an address inside the mapping. */
	CHECK_EQ(AT(l, ccdma_sync_single_range_for_cpu(d, dma, 64, 32, CCDMA_BIDIRECTIONAL)), 0);
	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_SYNC_DIR), 3);
	CHK_REPORT(CCDMA_DBG_SYNC_DIR, tf, l, tf, lmap);
	CHECK_EQ(ccdma_sync_single_for_cpu(d, dma, 512, CCDMA_TO_DEVICE), 0);
	CHECK_EQ(ccdma_unmap_single(d, dma, 512, CCDMA_TO_DEVICE), 0);
	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_SYNC_DIR), 3);

	/* BIDIRECTIONAL accepts any direction. */
	dma = ccdma_map_single(d, buf, 512, CCDMA_BIDIRECTIONAL);
	REQUIRE(!ccdma_mapping_error(d, dma));
	CHECK_EQ(ccdma_sync_single_for_cpu(d, dma, 512, CCDMA_FROM_DEVICE), 0);
	CHECK_EQ(ccdma_sync_single_for_device(d, dma, 512, CCDMA_TO_DEVICE), 0);
	CHECK_EQ(ccdma_sync_single_for_cpu(d, dma, 512, CCDMA_BIDIRECTIONAL), 0);
	CHECK_EQ(ccdma_unmap_single(d, dma, 512, CCDMA_BIDIRECTIONAL), 0);
	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_SYNC_DIR), 3);

	/* A chunk list mapped FROM_DEVICE, synced for the CPU as TO_DEVICE:
	 * reported, and the device's bytes still arrive. */
	memset(buf, 0, 512);
	ccdma_chunks_init(&in, ch, 2);
	REQUIRE(ccdma_chunks_add(&in, buf, 512, CCDMA_MEM_PRIVATE) == 0);
	ccdma_segs_init(&out, sg, 4);
	CHECK_EQ(AT(lmap, ccdma_map_chunks(d, &in, &out, CCDMA_FROM_DEVICE)), 1);
	memset(data, 0x5e, 512);
	CHECK_EQ(ccdma_dev_write(d, sg[0].addr, data, 512), 0);
	CHECK_EQ(AT(l, ccdma_sync_chunks_for_cpu(d, &in, &out, 0, SIZE_MAX, CCDMA_TO_DEVICE)), 0);
	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_SYNC_DIR), 4);
	CHK_REPORT(CCDMA_DBG_SYNC_DIR, tf, l, tf, lmap);
	CHECK(!memcmp(buf, data, 512));
	CHECK_EQ(AT(l, ccdma_sync_chunks_for_device(d, &in, &out, 0, 100, CCDMA_BIDIRECTIONAL)), 0);
	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_SYNC_DIR), 5);
	CHK_REPORT(CCDMA_DBG_SYNC_DIR, tf, l, tf, lmap);
	CHECK_EQ(ccdma_sync_chunks_for_cpu(d, &in, &out, 0, SIZE_MAX, CCDMA_FROM_DEVICE), 0);
	CHECK_EQ(ccdma_unmap_chunks(d, &in, &out, CCDMA_FROM_DEVICE), 0);

	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_NKINDS), 5);
	CHECK_EQ(ccdma_dev_destroy(d), 0);
	ccdma_log_set_handler(NULL, NULL);
	free(buf);
	return test_done("dma_chk_sync_dir");
}
