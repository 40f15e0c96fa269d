/* SPDX-License-Identifier: MIT */
/*
 * Checker report CCDMA_DBG_OVERLAP: a driver that maps the same private
 * memory twice while one of the mappings lets the device write it
 * (FROM_DEVICE or BIDIRECTIONAL, single or chunk list) is reported at the
 * second map with the first map's call site.  Two TO_DEVICE mappings of
 * the same memory, and writable mappings of adjacent memory, are not
 * reported; nor is anything else (the checker's own poisoning and page
 * protection do not trip over the overlapping mapping).  The buffer is
 * two pages of ccdma_page_size().
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
	size_t page = ccdma_page_size();
	unsigned char *buf = aligned_alloc(page, 2 * page);
	ccdma_addr_t a, b, c, e;
	struct ccdma_dev *d;
	int l, la, lb;

	test_init();
	REQUIRE(buf);
	memset(buf, 0x42, 2 * page);
	chk_on(0);
	d = chk_dev("overlap", NULL);
	chk_log_catch();

	/* Two device-read-only mappings of the same pages: fine. */
	a = AT(la, ccdma_map_single(d, buf, 2 * page, CCDMA_TO_DEVICE));
	REQUIRE(!ccdma_mapping_error(d, a));
	b = AT(lb, ccdma_map_single(d, buf, 2 * page, CCDMA_TO_DEVICE));
	REQUIRE(!ccdma_mapping_error(d, b));
	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_NKINDS), 0);

	/* A writable mapping inside them: reported against the newest. */
	c = AT(l, ccdma_map_single(d, buf + 100, 500, CCDMA_FROM_DEVICE));
	REQUIRE(!ccdma_mapping_error(d, c));
	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_OVERLAP), 1);
	CHK_REPORT(CCDMA_DBG_OVERLAP, tf, l, tf, lb);
	REQUIRE(chk_last_report(CCDMA_DBG_OVERLAP, &r));
	CHECK(strstr(r.msg, "FROM_DEVICE") != NULL);
	CHECK(strstr(r.msg, "TO_DEVICE") != NULL);
	/* Only that: poisoning the new mapping's bytes, which lie on pages
	 * protected for the first two, is no CPU access. */
	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_NKINDS), 1);
	CHECK_EQ(ccdma_unmap_single(d, a, 2 * page, CCDMA_TO_DEVICE), 0);
	CHECK_EQ(ccdma_unmap_single(d, b, 2 * page, CCDMA_TO_DEVICE), 0);
	CHECK_EQ(ccdma_unmap_single(d, c, 500, CCDMA_FROM_DEVICE), 0);
	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_NKINDS), 1);

	/* Writable first, then a read-only one over it (within one page:
	 * nothing is page-protected, so the second map's copy-in is no CPU
	 * access either). */
	a = AT(la, ccdma_map_single(d, buf + 10, 1000, CCDMA_BIDIRECTIONAL));
	REQUIRE(!ccdma_mapping_error(d, a));
	b = AT(l, ccdma_map_single(d, buf + 500, 16, CCDMA_TO_DEVICE));
	REQUIRE(!ccdma_mapping_error(d, b));
	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_OVERLAP), 2);
	CHK_REPORT(CCDMA_DBG_OVERLAP, tf, l, tf, la);
	REQUIRE(chk_last_report(CCDMA_DBG_OVERLAP, &r));
	CHECK(strstr(r.msg, "BIDIRECTIONAL") != NULL);
	CHECK_EQ(ccdma_unmap_single(d, b, 16, CCDMA_TO_DEVICE), 0);
	CHECK_EQ(ccdma_unmap_single(d, a, 1000, CCDMA_BIDIRECTIONAL), 0);
	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_NKINDS), 2);

	/* Adjacent writable mappings do not overlap. */
	a = AT(la, ccdma_map_single(d, buf, 100, CCDMA_FROM_DEVICE));
	REQUIRE(!ccdma_mapping_error(d, a));
	b = AT(lb, ccdma_map_single(d, buf + 100, 100, CCDMA_FROM_DEVICE));
	REQUIRE(!ccdma_mapping_error(d, b));
	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_OVERLAP), 2);

	/* A read-only chunk list over the second one. */
	ccdma_chunks_init(&in, ch, 2);
	REQUIRE(ccdma_chunks_add(&in, buf + 150, 300, CCDMA_MEM_PRIVATE) == 0);
	ccdma_segs_init(&out, sg, 4);
	CHECK_EQ(AT(l, ccdma_map_chunks(d, &in, &out, CCDMA_TO_DEVICE)), 1);
	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_OVERLAP), 3);
	CHK_REPORT(CCDMA_DBG_OVERLAP, tf, l, tf, lb);
	/* A writable single map over the live list. */
	e = AT(l, ccdma_map_single(d, buf + 400, 8, CCDMA_FROM_DEVICE));
	REQUIRE(!ccdma_mapping_error(d, e));
	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_OVERLAP), 4);
	CHECK_EQ(chk_last_report(CCDMA_DBG_OVERLAP, &r), true);
	CHECK_EQ(r.line, l);
	CHECK_EQ(ccdma_unmap_single(d, e, 8, CCDMA_FROM_DEVICE), 0);
	CHECK_EQ(ccdma_unmap_chunks(d, &in, &out, CCDMA_TO_DEVICE), 0);
	CHECK_EQ(ccdma_unmap_single(d, a, 100, CCDMA_FROM_DEVICE), 0);
	CHECK_EQ(ccdma_unmap_single(d, b, 100, CCDMA_FROM_DEVICE), 0);

	/* Nothing but the four overlaps. */
	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_NKINDS), 4);
	CHECK_EQ(chk_nreports(CCDMA_DBG_OVERLAP), 4);
	CHECK_EQ(ccdma_dev_destroy(d), 0);
	ccdma_log_set_handler(NULL, NULL);
	free(buf);
	return test_done("dma_chk_overlap");
}
