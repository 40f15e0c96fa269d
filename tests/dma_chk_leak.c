/* SPDX-License-Identifier: MIT */
/*
 * Checker report CCDMA_DBG_LEAK: a driver that destroys its device with a
 * mapping and a coherent allocation still live gets one report for each
 * (the mapping's with its map call site, address and size),
 * ccdma_dev_destroy() returns -EBUSY, and the bounce and coherent memory
 * go back to the pool (which outlives the device here), the buffer's page
 * protection is lifted.  A live chunk-list mapping is reported and
 * reclaimed the same way; a clean device is destroyed with 0.  The buffer
 * is two pages of ccdma_page_size().
 */
#include "dma_chk_util.h"

static uint64_t in_use(struct ccdma_pool *p)
{
	struct ccdma_pool_stats st;

	REQUIRE(ccdma_pool_get_stats(p, &st) == 0);
	return st.in_use_bytes;
}

static struct ccdma_dev *dev_on(struct ccdma_pool *p, const char *name)
{
	struct ccdma_dev_config cfg;
	struct ccdma_dev *d = NULL;

	ccdma_dev_config_init(&cfg);
	cfg.name = name;
	cfg.mode = CCDMA_MODE_CONFIDENTIAL;
	cfg.pool = p;
	REQUIRE(ccdma_dev_create(&cfg, &d) == 0);
	return d;
}

int main(void)
{
	struct ccdma_debug_report rep[64];
	struct ccdma_pool_config pc;
	struct ccdma_chunk ch[2];
	struct ccdma_seg sg[4];
	struct ccdma_chunk_list in;
	struct ccdma_seg_list out;
	const char *tf = chk_base(__FILE__);
	size_t page = ccdma_page_size();
	unsigned char *buf = aligned_alloc(page, 2 * page), *coh;
	ccdma_addr_t dma, cdma;
	struct ccdma_pool *p;
	struct ccdma_dev *d;
	unsigned n, i, seen_map = 0, seen_coh = 0;
	uint64_t base;
	int lmap, lcoh;

	test_init();
	REQUIRE(buf);
	chk_on(0);
	chk_pool_config(&pc, "leakpool");
	REQUIRE(ccdma_pool_create(&pc, &p) == 0);
	base = in_use(p);
	chk_log_catch();

	/* A live (page-protected) mapping and a coherent allocation. */
	d = dev_on(p, "leaky");
	dma = AT(lmap, ccdma_map_single(d, buf, 2 * page, CCDMA_FROM_DEVICE));
	REQUIRE(!ccdma_mapping_error(d, dma));
	REQUIRE(AT(lcoh, ccdma_alloc_coherent(d, 512, (void **)&coh, &cdma, 0)) == 0);
	CHECK(in_use(p) > base);
	CHECK_EQ(ccdma_dev_destroy(d), -EBUSY);
	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_LEAK), 2);
	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_NKINDS), 2);
	n = ccdma_debug_reports(rep, 64);
	CHECK_EQ(n, 2);
	for (i = 0; i < n; i++) {
		CHECK_EQ(rep[i].kind, CCDMA_DBG_LEAK);
		CHECK(rep[i].file == NULL); /* no call: the device went away */
		CHECK(strstr(rep[i].msg, "leak") == rep[i].msg);
		CHECK(strstr(rep[i].msg, "leaky") != NULL);
		/* Both name their call sites now. */
		CHECK(rep[i].map_file && chk_ends_with(rep[i].map_file, tf));
		if (rep[i].map_line == lmap) {
			seen_map++;
			CHECK(chk_ends_with(rep[i].map_file, tf));
			CHECK_EQ(rep[i].map_line, lmap);
			CHECK_EQ(rep[i].addr, dma);
			CHECK_EQ(rep[i].size, 2 * page);
			CHECK(strstr(rep[i].msg, "mapping") != NULL);
		} else {
			seen_coh++;
			CHECK_EQ(rep[i].map_line, lcoh);
			CHECK_EQ(rep[i].addr, cdma);
			CHECK_EQ(rep[i].size, 512);
			CHECK(strstr(rep[i].msg, "coherent") != NULL);
		}
	}
	CHECK_EQ(seen_map, 1);
	CHECK_EQ(seen_coh, 1);
	/* Everything went back to the pool; the buffer is the CPU's again. */
	CHECK_EQ(in_use(p), base);
	buf[0] = 1;
	buf[2 * page - 1] = 2;
	CHECK_EQ(buf[0] + buf[2 * page - 1], 3);
	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_NKINDS), 2);

	/* A live chunk list. */
	d = dev_on(p, "leaky2");
	ccdma_chunks_init(&in, ch, 2);
	REQUIRE(ccdma_chunks_add(&in, buf, 3000, CCDMA_MEM_PRIVATE) == 0);
	ccdma_segs_init(&out, sg, 4);
	CHECK_EQ(AT(lmap, ccdma_map_chunks(d, &in, &out, CCDMA_BIDIRECTIONAL)), 1);
	CHECK(in_use(p) > base);
	CHECK_EQ(ccdma_dev_destroy(d), -EBUSY);
	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_LEAK), 3);
	CHK_REPORT(CCDMA_DBG_LEAK, NULL, 0, tf, lmap);
	CHECK_EQ(in_use(p), base);

	/* Clean. */
	d = dev_on(p, "clean");
	dma = ccdma_map_single(d, buf, 100, CCDMA_TO_DEVICE);
	REQUIRE(!ccdma_mapping_error(d, dma));
	CHECK_EQ(ccdma_unmap_single(d, dma, 100, CCDMA_TO_DEVICE), 0);
	CHECK_EQ(ccdma_dev_destroy(d), 0);
	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_NKINDS), 3);
	CHECK_EQ(in_use(p), base);

	/* The pool has nothing left to complain about. */
	n = chk_log.errors + chk_log.warnings;
	ccdma_pool_destroy(p);
	CHECK_EQ(chk_log.errors + chk_log.warnings, n);
	ccdma_log_set_handler(NULL, NULL);
	free(buf);
	return test_done("dma_chk_leak");
}
