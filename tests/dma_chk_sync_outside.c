/* SPDX-License-Identifier: MIT */
/*
 * Checker report CCDMA_DBG_SYNC_OUTSIDE: a driver that syncs a window
 * reaching past its mapping (single buffer or chunk list, for the CPU or
 * for the device), an address it never mapped, or a list it has unmapped,
 * gets -EINVAL, nothing is copied, and the report names the sync's call
 * site (and the map's when the window starts in a mapping).  Windows
 * inside the mapping are not reported.
 */
#include "dma_chk_util.h"

/* Short, so that each checked call fits on its line (see AT). */
#define BIDI CCDMA_BIDIRECTIONAL

static uint64_t copies(struct ccdma_dev *d)
{
	struct ccdma_pool_stats st;

	REQUIRE(ccdma_pool_get_stats(ccdma_dev_pool(d), &st) == 0);
	return st.bounced_to_device_bytes + st.bounced_from_device_bytes;
}

int main(void)
{
	struct ccdma_chunk ch[2];
	struct ccdma_seg sg[4];
	struct ccdma_chunk_list in;
	struct ccdma_seg_list out;
	struct ccdma_debug_report r;
	const char *tf = chk_base(__FILE__);
	unsigned char *buf = malloc(256), *other = malloc(64);
	ccdma_addr_t dma;
	struct ccdma_dev *d;
	uint64_t c0, n = 0;
	int l, lmap;

	test_init();
	REQUIRE(buf && other);
	chk_on(0);
	d = chk_dev("outside", NULL);
	chk_log_catch();

	dma = AT(lmap, ccdma_map_single(d, buf, 256, CCDMA_BIDIRECTIONAL));
	REQUIRE(!ccdma_mapping_error(d, dma));
	c0 = copies(d);

	/* Past the end, from the start. */
	CHECK_EQ(AT(l, ccdma_sync_single_for_cpu(d, dma, 512, BIDI)), -EINVAL);
	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_SYNC_OUTSIDE), ++n);
	CHK_REPORT(CCDMA_DBG_SYNC_OUTSIDE, tf, l, tf, lmap);
	REQUIRE(chk_last_report(CCDMA_DBG_SYNC_OUTSIDE, &r));
	CHECK(strstr(r.msg, "256") != NULL); /* the mapping's size */
	/* A window that starts inside and ends outside. */
	CHECK_EQ(AT(l, ccdma_sync_single_range_for_cpu(d, dma, 200, 100, BIDI)), -EINVAL);
	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_SYNC_OUTSIDE), ++n);
	CHK_REPORT(CCDMA_DBG_SYNC_OUTSIDE, tf, l, tf, lmap);
	/* An address never mapped. */
	CHECK_EQ(AT(l, ccdma_sync_single_for_cpu(d, (uintptr_t)other, 64, BIDI)), -EINVAL);
	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_SYNC_OUTSIDE), ++n);
	CHK_REPORT(CCDMA_DBG_SYNC_OUTSIDE, tf, l, NULL, 0);
	/* For the device, past the end. */
	CHECK_EQ(AT(l, ccdma_sync_single_for_device(d, dma, 512, BIDI)), -EINVAL);
	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_SYNC_OUTSIDE), ++n);
	CHK_REPORT(CCDMA_DBG_SYNC_OUTSIDE, tf, l, tf, lmap);
	CHECK_EQ(copies(d), c0);

	/* Inside: fine, also by an inner address. */
	CHECK_EQ(ccdma_sync_single_range_for_cpu(d, dma, 100, 50, CCDMA_BIDIRECTIONAL), 0);
	CHECK_EQ(ccdma_sync_single_for_device(d, dma + 100, 156, CCDMA_BIDIRECTIONAL), 0);
	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_SYNC_OUTSIDE), n);
	CHECK_EQ(ccdma_unmap_single(d, dma, 256, CCDMA_BIDIRECTIONAL), 0);
	/* After unmap the address is no mapping. */
	CHECK_EQ(AT(l, ccdma_sync_single_for_cpu(d, dma, 16, BIDI)), -EINVAL);
	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_SYNC_OUTSIDE), ++n);
	CHK_REPORT(CCDMA_DBG_SYNC_OUTSIDE, tf, l, NULL, 0);

	/* Chunk lists. */
	ccdma_chunks_init(&in, ch, 2);
	REQUIRE(ccdma_chunks_add(&in, buf, 256, CCDMA_MEM_PRIVATE) == 0);
	ccdma_segs_init(&out, sg, 4);
	CHECK_EQ(AT(lmap, ccdma_map_chunks(d, &in, &out, CCDMA_BIDIRECTIONAL)), 1);
	c0 = copies(d);
	CHECK_EQ(AT(l, ccdma_sync_chunks_for_cpu(d, &in, &out, 200, 100, BIDI)), -EINVAL);
	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_SYNC_OUTSIDE), ++n);
	CHK_REPORT(CCDMA_DBG_SYNC_OUTSIDE, tf, l, tf, lmap);
	REQUIRE(chk_last_report(CCDMA_DBG_SYNC_OUTSIDE, &r));
	CHECK(strstr(r.msg, "chunk list") != NULL);
	CHECK_EQ(AT(l, ccdma_sync_chunks_for_device(d, &in, &out, 256, SIZE_MAX, BIDI)), -EINVAL);
	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_SYNC_OUTSIDE), ++n);
	CHK_REPORT(CCDMA_DBG_SYNC_OUTSIDE, tf, l, tf, lmap);
	CHECK_EQ(copies(d), c0);
	CHECK_EQ(ccdma_sync_chunks_for_cpu(d, &in, &out, 10, 246, CCDMA_BIDIRECTIONAL), 0);
	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_SYNC_OUTSIDE), n);
	CHECK_EQ(ccdma_unmap_chunks(d, &in, &out, CCDMA_BIDIRECTIONAL), 0);
	/* Synced after unmap. */
	CHECK_EQ(AT(l, ccdma_sync_chunks_for_cpu(d, &in, &out, 0, 16, BIDI)), -EINVAL);
	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_SYNC_OUTSIDE), ++n);
	CHK_REPORT(CCDMA_DBG_SYNC_OUTSIDE, tf, l, NULL, 0);

	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_NKINDS), n);
	CHECK_EQ(ccdma_dev_destroy(d), 0);
	ccdma_log_set_handler(NULL, NULL);
	free(buf);
	free(other);
	return test_done("dma_chk_sync_outside");
}
