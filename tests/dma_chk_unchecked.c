/* SPDX-License-Identifier: MIT */
/*
 * Checker report CCDMA_DBG_UNCHECKED: a driver that maps a buffer and
 * unmaps it without ever asking ccdma_mapping_error() about the address
 * (bounced or mapped in place) is reported at the unmap with the map's
 * call site.  A driver that checks is not reported, nor are chunk lists
 * (their map returns an errno directly), and the unmap itself succeeds.
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
	unsigned char *buf = malloc(128), *coh;
	ccdma_addr_t dma, dma2, cdma;
	struct ccdma_dev *d;
	int l, lmap;

	d = chk_begin("unchecked", buf);

	/* Buggy: never checked. */
	memset(buf, 0, 128);
	dma = AT(lmap, ccdma_map_single(d, buf, 128, CCDMA_FROM_DEVICE));
	CHECK(dma != CCDMA_MAPPING_ERROR);
	CHECK_EQ(ccdma_dev_write(d, dma, "abc", 3), 0);
	CHECK_EQ(AT(l, ccdma_unmap_single(d, dma, 128, CCDMA_FROM_DEVICE)), 0);
	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_UNCHECKED), 1);
	CHK_REPORT(CCDMA_DBG_UNCHECKED, tf, l, tf, lmap);
	REQUIRE(chk_last_report(CCDMA_DBG_UNCHECKED, &r));
	CHECK(strstr(r.msg, "ccdma_mapping_error") != NULL);
	CHECK_EQ(r.addr, dma);
	CHECK(!memcmp(buf, "abc", 3)); /* the unmap did its work */

	/* Buggy, in place (coherent memory mapped again). */
	REQUIRE(ccdma_alloc_coherent(d, 256, (void **)&coh, &cdma, 0) == 0);
	dma = AT(lmap, ccdma_map_single(d, coh, 256, CCDMA_TO_DEVICE));
	CHECK_EQ(dma, cdma);
	CHECK_EQ(AT(l, ccdma_unmap_single(d, dma, 256, CCDMA_TO_DEVICE)), 0);
	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_UNCHECKED), 2);
	CHK_REPORT(CCDMA_DBG_UNCHECKED, tf, l, tf, lmap);

	/* Correct drivers: checked right after the map, or after a sync. */
	dma = ccdma_map_single(d, buf, 128, CCDMA_TO_DEVICE);
	REQUIRE(ccdma_mapping_error(d, dma) == 0);
	CHECK_EQ(ccdma_unmap_single(d, dma, 128, CCDMA_TO_DEVICE), 0);
	dma = ccdma_map_single(d, coh, 256, CCDMA_BIDIRECTIONAL);
	CHECK_EQ(ccdma_sync_single_for_cpu(d, dma, 256, CCDMA_BIDIRECTIONAL), 0);
	REQUIRE(ccdma_mapping_error(d, dma) == 0);
	CHECK_EQ(ccdma_unmap_single(d, dma, 256, CCDMA_BIDIRECTIONAL), 0);
	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_UNCHECKED), 2);
	/* Checking one mapping does not check another. */
	dma = ccdma_map_single(d, buf, 64, CCDMA_TO_DEVICE);
	dma2 = ccdma_map_single(d, buf + 64, 64, CCDMA_TO_DEVICE);
	REQUIRE(ccdma_mapping_error(d, dma2) == 0);
	CHECK_EQ(ccdma_unmap_single(d, dma2, 64, CCDMA_TO_DEVICE), 0);
	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_UNCHECKED), 2);
	CHECK_EQ(ccdma_unmap_single(d, dma, 64, CCDMA_TO_DEVICE), 0);
	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_UNCHECKED), 3);

	/* A failed map, checked: nothing to unmap, nothing reported. */
	dma = ccdma_map_single_attrs(d, buf, 128, CCDMA_TO_DEVICE, CCDMA_ATTR_NO_BOUNCE);
	CHECK_EQ(ccdma_mapping_error(d, dma), -EIO);

	/* Chunk lists are never "unchecked". */
	ccdma_chunks_init(&in, ch, 2);
	REQUIRE(ccdma_chunks_add(&in, buf, 128, CCDMA_MEM_PRIVATE) == 0);
	ccdma_segs_init(&out, sg, 4);
	CHECK_EQ(ccdma_map_chunks(d, &in, &out, CCDMA_TO_DEVICE), 1);
	CHECK_EQ(ccdma_unmap_chunks(d, &in, &out, CCDMA_TO_DEVICE), 0);

	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_NKINDS), 3);
	CHECK_EQ(ccdma_free_coherent(d, 256, coh, cdma), 0);
	CHECK_EQ(ccdma_dev_destroy(d), 0);
	ccdma_log_set_handler(NULL, NULL);
	free(buf);
	return test_done("dma_chk_unchecked");
}
