/* SPDX-License-Identifier: MIT */
/*
 * Checker report CCDMA_DBG_DOUBLE_UNMAP: a driver that unmaps the same
 * mapping twice (a bounced single buffer, shared memory mapped in place,
 * a chunk list) gets -EINVAL for the second unmap, reported at its call
 * site together with the map's call site.  An address unmapped once and
 * then mapped again is a live mapping, not a double unmap.
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
	unsigned char *buf = malloc(512), *coh;
	ccdma_addr_t dma, dma2, cdma;
	struct ccdma_dev *d;
	uint64_t base;
	int l, lmap;

	d = chk_begin("double", buf);
	base = chk_in_use(d);

	/* A bounced buffer. */
	dma = AT(lmap, ccdma_map_single(d, buf, 512, CCDMA_TO_DEVICE));
	REQUIRE(!ccdma_mapping_error(d, dma));
	CHECK_EQ(ccdma_unmap_single(d, dma, 512, CCDMA_TO_DEVICE), 0);
	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_NKINDS), 0);
	CHECK_EQ(AT(l, ccdma_unmap_single(d, dma, 512, CCDMA_TO_DEVICE)), -EINVAL);
	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_DOUBLE_UNMAP), 1);
	CHK_REPORT(CCDMA_DBG_DOUBLE_UNMAP, tf, l, tf, lmap);
	REQUIRE(chk_last_report(CCDMA_DBG_DOUBLE_UNMAP, &r));
	CHECK(strstr(r.msg, "already unmapped") != NULL);
	CHECK_EQ(r.addr, dma);
	CHECK_EQ(chk_in_use(d), base); /* the bounce went back once */

	/* Mapped again (likely at the same address): live, not double. */
	dma2 = ccdma_map_single(d, buf, 512, CCDMA_TO_DEVICE);
	REQUIRE(!ccdma_mapping_error(d, dma2));
	CHECK_EQ(ccdma_unmap_single(d, dma2, 512, CCDMA_TO_DEVICE), 0);
	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_NKINDS), 1);

	/* Shared (coherent) memory mapped in place. */
	REQUIRE(ccdma_alloc_coherent(d, 1024, (void **)&coh, &cdma, 0) == 0);
	dma = AT(lmap, ccdma_map_single(d, coh, 1024, CCDMA_FROM_DEVICE));
	REQUIRE(!ccdma_mapping_error(d, dma));
	CHECK_EQ(dma, cdma);
	CHECK_EQ(ccdma_unmap_single(d, dma, 1024, CCDMA_FROM_DEVICE), 0);
	CHECK_EQ(AT(l, ccdma_unmap_single(d, dma, 1024, CCDMA_FROM_DEVICE)), -EINVAL);
	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_DOUBLE_UNMAP), 2);
	CHK_REPORT(CCDMA_DBG_DOUBLE_UNMAP, tf, l, tf, lmap);
	CHECK_EQ(AT(lmap, ccdma_free_coherent(d, 1024, coh, cdma)), 0);
	/* A second free is refused and reported as a double unmap. */
	CHECK_EQ(AT(l, ccdma_free_coherent(d, 1024, coh, cdma)), -EINVAL);
	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_DOUBLE_UNMAP), 3);
	REQUIRE(chk_last_report(CCDMA_DBG_DOUBLE_UNMAP, &r));
	CHECK(strstr(r.msg, "free_coherent") != NULL);
	CHECK_EQ(r.line, l);

	/* A chunk list. */
	ccdma_chunks_init(&in, ch, 2);
	REQUIRE(ccdma_chunks_add(&in, buf, 300, CCDMA_MEM_PRIVATE) == 0);
	ccdma_segs_init(&out, sg, 4);
	CHECK_EQ(AT(lmap, ccdma_map_chunks(d, &in, &out, CCDMA_BIDIRECTIONAL)), 1);
	CHECK_EQ(ccdma_unmap_chunks(d, &in, &out, CCDMA_BIDIRECTIONAL), 0);
	CHECK_EQ(AT(l, ccdma_unmap_chunks(d, &in, &out, CCDMA_BIDIRECTIONAL)), -EINVAL);
	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_DOUBLE_UNMAP), 4);
	CHK_REPORT(CCDMA_DBG_DOUBLE_UNMAP, tf, l, tf, lmap);
	REQUIRE(chk_last_report(CCDMA_DBG_DOUBLE_UNMAP, &r));
	CHECK(strstr(r.msg, "unmap_chunks") != NULL);
	CHECK_EQ(chk_in_use(d), base);

	/* Only those four. */
	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_NKINDS), 4);
	CHECK_EQ(chk_nreports(CCDMA_DBG_DOUBLE_UNMAP), 4);
	CHECK_EQ(ccdma_dev_destroy(d), 0);
	ccdma_log_set_handler(NULL, NULL);
	free(buf);
	return test_done("dma_chk_double_unmap");
}
