/* SPDX-License-Identifier: MIT */
/*
 * Checker report CCDMA_DBG_UNMAP_UNKNOWN: a driver that unmaps a DMA
 * address it never mapped (private memory, free pool memory, an address
 * inside a live mapping that is not its start) or a chunk list it never
 * mapped is refused with -EINVAL and reported at the unmap's call site;
 * the live mapping it missed is unharmed.  The last 64 reports are kept,
 * oldest first, and ccdma_debug_clear() forgets them.
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
	unsigned char *buf = malloc(256), data[256];
	ccdma_addr_t dma, first, last;
	struct ccdma_dev *d;
	int l, lmap;

	d = chk_begin("unknown", buf);

	/* Private memory the device never had. */
	CHECK_EQ(AT(l, ccdma_unmap_single(d, (uintptr_t)buf, 256, CCDMA_TO_DEVICE)), -EINVAL);
	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_UNMAP_UNKNOWN), 1);
	CHK_REPORT(CCDMA_DBG_UNMAP_UNKNOWN, tf, l, NULL, 0);
	REQUIRE(chk_last_report(CCDMA_DBG_UNMAP_UNKNOWN, &r));
	CHECK(strstr(r.msg, "no such mapping") != NULL);
	CHECK(strstr(r.msg, "unknown") != NULL); /* the device's name */
	CHECK(chk_log.errors >= 1);
	CHECK(strstr(chk_log.last, "unmap-unknown") != NULL);

	/* Pool memory no mapping holds. */
	REQUIRE(ccdma_dev_pool_dma_range(d, &first, &last) == 0);
	CHECK_EQ(AT(l, ccdma_unmap_single(d, first + 8192, 64, CCDMA_FROM_DEVICE)), -EINVAL);
	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_UNMAP_UNKNOWN), 2);
	CHK_REPORT(CCDMA_DBG_UNMAP_UNKNOWN, tf, l, NULL, 0);

	/* Inside a live mapping, not its start. */
	dma = AT(lmap, ccdma_map_single(d, buf, 256, CCDMA_FROM_DEVICE));
	REQUIRE(!ccdma_mapping_error(d, dma));
	CHECK_EQ(AT(l, ccdma_unmap_single(d, dma + 16, 240, CCDMA_FROM_DEVICE)), -EINVAL);
	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_UNMAP_UNKNOWN), 3);
	CHK_REPORT(CCDMA_DBG_UNMAP_UNKNOWN, tf, l, NULL, 0);
	/* The real mapping still works. */
	memset(data, 0x3c, sizeof(data));
	CHECK_EQ(ccdma_dev_write(d, dma, data, 256), 0);
	CHECK_EQ(ccdma_unmap_single(d, dma, 256, CCDMA_FROM_DEVICE), 0);
	CHECK(!memcmp(buf, data, 256));
	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_UNMAP_UNKNOWN), 3);

	/* A chunk list that was never mapped. */
	ccdma_chunks_init(&in, ch, 2);
	REQUIRE(ccdma_chunks_add(&in, buf, 256, CCDMA_MEM_PRIVATE) == 0);
	ccdma_segs_init(&out, sg, 4);
	CHECK_EQ(AT(l, ccdma_unmap_chunks(d, &in, &out, CCDMA_TO_DEVICE)), -EINVAL);
	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_UNMAP_UNKNOWN), 4);
	CHK_REPORT(CCDMA_DBG_UNMAP_UNKNOWN, tf, l, NULL, 0);
	REQUIRE(chk_last_report(CCDMA_DBG_UNMAP_UNKNOWN, &r));
	CHECK(strstr(r.msg, "unmap_chunks") != NULL);

	/* Nothing else was reported. */
	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_NKINDS), 4);
	CHECK_EQ(chk_nreports(CCDMA_DBG_UNMAP_UNKNOWN), 4);
	(void)lmap;

	/* The last 64 reports are kept, oldest first; counts go on. */
	{
		static struct ccdma_debug_report all[80];
		char want[32];
		unsigned i, n;

		for (i = 0; i < 70; i++)
			CHECK_EQ(ccdma_unmap_single(d, (uintptr_t)buf, i + 1,
						    CCDMA_TO_DEVICE), -EINVAL);
		CHECK_EQ(ccdma_debug_count(CCDMA_DBG_UNMAP_UNKNOWN), 74);
		n = ccdma_debug_reports(all, 80);
		CHECK_EQ(n, 64);
		snprintf(want, sizeof(want), "(%u bytes)", 70 - 64 + 1);
		CHECK(strstr(all[0].msg, want) != NULL);
		CHECK(strstr(all[63].msg, "(70 bytes)") != NULL);
		n = ccdma_debug_reports(all, 2);
		CHECK_EQ(n, 2);
		CHECK(strstr(all[0].msg, "(69 bytes)") != NULL);
		CHECK(strstr(all[1].msg, "(70 bytes)") != NULL);
		CHECK_EQ(ccdma_debug_reports(NULL, 5), 0);
		CHECK_EQ(ccdma_debug_count((enum ccdma_debug_kind)99), 0);
		CHECK_EQ(strcmp(ccdma_debug_kind_name(CCDMA_DBG_UNMAP_UNKNOWN),
				"unmap-unknown"), 0);
		ccdma_debug_clear();
		CHECK_EQ(ccdma_debug_count(CCDMA_DBG_NKINDS), 0);
		CHECK_EQ(ccdma_debug_reports(all, 80), 0);
	}
	CHECK_EQ(ccdma_dev_destroy(d), 0);
	ccdma_log_set_handler(NULL, NULL);
	free(buf);
	return test_done("dma_chk_unmap_unknown");
}
