/* SPDX-License-Identifier: MIT */
/*
 * Checker report CCDMA_DBG_UNMAP_SIZE: a driver that unmaps with a size
 * other than the map's is reported at the unmap with the map's call site,
 * the mapping's address and its real size; the unmap still succeeds with
 * the map's own length, so every byte the device wrote arrives.
 */
#include "dma_chk_util.h"

int main(void)
{
	struct ccdma_debug_report r;
	const char *tf = chk_base(__FILE__);
	unsigned char *buf = malloc(300), data[300];
	ccdma_addr_t dma;
	struct ccdma_dev *d;
	uint64_t base;
	int l, lmap;

	d = chk_begin("size", buf);
	base = chk_in_use(d);

	memset(buf, 0x11, 300);
	dma = AT(lmap, ccdma_map_single(d, buf, 300, CCDMA_FROM_DEVICE));
	REQUIRE(!ccdma_mapping_error(d, dma));
	memset(data, 0x99, sizeof(data));
	CHECK_EQ(ccdma_dev_write(d, dma, data, 300), 0);
	CHECK_EQ(AT(l, ccdma_unmap_single(d, dma, 200, CCDMA_FROM_DEVICE)), 0);
	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_UNMAP_SIZE), 1);
	CHK_REPORT(CCDMA_DBG_UNMAP_SIZE, tf, l, tf, lmap);
	REQUIRE(chk_last_report(CCDMA_DBG_UNMAP_SIZE, &r));
	CHECK_EQ(r.addr, dma);
	CHECK_EQ(r.size, 300);
	CHECK(strstr(r.msg, "200") != NULL);
	CHECK(strstr(r.msg, "300") != NULL);
	/* The map's length was used. */
	CHECK(!memcmp(buf, data, 300));
	CHECK_EQ(chk_in_use(d), base);

	/* Larger than the map: the same, and nothing past it is touched. */
	memset(buf, 0x22, 300);
	dma = AT(lmap, ccdma_map_single(d, buf, 100, CCDMA_BIDIRECTIONAL));
	REQUIRE(!ccdma_mapping_error(d, dma));
	CHECK_EQ(ccdma_dev_write(d, dma, data, 100), 0);
	CHECK_EQ(AT(l, ccdma_unmap_single(d, dma, 300, CCDMA_BIDIRECTIONAL)), 0);
	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_UNMAP_SIZE), 2);
	CHK_REPORT(CCDMA_DBG_UNMAP_SIZE, tf, l, tf, lmap);
	CHECK(!memcmp(buf, data, 100));
	CHECK_EQ(buf[100], 0x22);
	CHECK_EQ(buf[299], 0x22);

	/* The right size: no report. */
	dma = ccdma_map_single(d, buf, 300, CCDMA_TO_DEVICE);
	REQUIRE(!ccdma_mapping_error(d, dma));
	CHECK_EQ(ccdma_unmap_single(d, dma, 300, CCDMA_TO_DEVICE), 0);
	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_NKINDS), 2);
	CHECK_EQ(chk_in_use(d), base);
	CHECK_EQ(ccdma_dev_destroy(d), 0);
	ccdma_log_set_handler(NULL, NULL);
	free(buf);
	return test_done("dma_chk_unmap_size");
}
