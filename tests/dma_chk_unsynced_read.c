/* SPDX-License-Identifier: MIT */
/*
 * Checker report CCDMA_DBG_UNSYNCED_READ: a driver that reads a bounced
 * FROM_DEVICE buffer after the device wrote it but before sync_for_cpu is
 * reported with the map's call site, and reads the poison byte 0xa5, never
 * the device's data; after sync_for_cpu (or unmap) the data is right.
 * Shown on a force-bounce device in direct mode and on a confidential one.
 * Telling reads from writes needs the x86-64 page-fault error code: on
 * other architectures the access is reported as CCDMA_DBG_CPU_ACCESS and
 * the test is skipped after checking that.  The buffer is two pages of
 * ccdma_page_size(), whatever that is.
 */
#include "dma_chk_util.h"

static void run(struct ccdma_dev *d, unsigned char *buf, const char *tf,
		uint64_t n0)
{
	volatile unsigned char *v = buf;
	size_t page = ccdma_page_size(), len = 2 * page;
	unsigned char *data = malloc(len);
	ccdma_addr_t dma;
	unsigned char x;
	int lmap;

	REQUIRE(data);
	memset(buf, 0x11, len);
	dma = AT(lmap, ccdma_map_single(d, buf, len, CCDMA_FROM_DEVICE));
	REQUIRE(!ccdma_mapping_error(d, dma));
	memset(data, 0x5d, len);
	CHECK_EQ(ccdma_dev_write(d, dma, data, len), 0);
	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_NKINDS), n0);
	x = v[page + 7]; /* the bug: no sync_for_cpu */
	CHECK_EQ(x, 0xa5);
	CHECK_EQ(v[0], 0xa5);
	CHECK_EQ(v[len - 1], 0xa5);
#if defined(__x86_64__)
	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_UNSYNCED_READ), n0 + 1);
	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_NKINDS), n0 + 1);
	CHK_REPORT(CCDMA_DBG_UNSYNCED_READ, NULL, 0, tf, lmap);
	{
		struct ccdma_debug_report r;

		REQUIRE(chk_last_report(CCDMA_DBG_UNSYNCED_READ, &r));
		CHECK_EQ(r.addr, dma);
		CHECK(strstr(r.msg, "read") != NULL);
		CHECK(strstr(r.msg, "sync_for_cpu") != NULL);
		CHECK(strstr(r.msg, "poison") != NULL);
	}
#else
	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_CPU_ACCESS), n0 + 1);
	CHK_REPORT(CCDMA_DBG_CPU_ACCESS, NULL, 0, tf, lmap);
#endif
	/* After sync_for_cpu the device's data is there. */
	CHECK_EQ(ccdma_sync_single_for_cpu(d, dma, len, CCDMA_FROM_DEVICE), 0);
	CHECK(!memcmp(buf, data, len));
	/* Handed back and written again: unmap brings the new data. */
	CHECK_EQ(ccdma_sync_single_for_device(d, dma, len, CCDMA_FROM_DEVICE), 0);
	memset(data, 0x6e, len);
	CHECK_EQ(ccdma_dev_write(d, dma, data, len), 0);
	CHECK_EQ(ccdma_unmap_single(d, dma, len, CCDMA_FROM_DEVICE), 0);
	CHECK(!memcmp(buf, data, len));
	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_NKINDS), n0 + 1);
	free(data);
}

int main(void)
{
	struct ccdma_dev_config cfg;
	const char *tf = chk_base(__FILE__);
	unsigned char *buf;
	struct ccdma_dev *d;

	test_init();
	if (chk_segv_blocked()) {
		printf("dma_chk_unsynced_read: skipped: %s\n", chk_segv_blocked());
		return 77;
	}
	buf = aligned_alloc(ccdma_page_size(), 2 * ccdma_page_size());
	REQUIRE(buf);
	chk_on(0);
	chk_log_catch();

	ccdma_dev_config_init(&cfg);
	cfg.flags = CCDMA_DEV_F_FORCE_BOUNCE;
	d = chk_dev_mode("forced", &cfg, CCDMA_MODE_DIRECT);
	run(d, buf, tf, 0);
	CHECK_EQ(ccdma_dev_destroy(d), 0);

	d = chk_dev("confidential", NULL);
	run(d, buf, tf, 1);
	CHECK_EQ(ccdma_dev_destroy(d), 0);

	/* Reading after a correct sync: never reported. */
	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_NKINDS), 2);
	ccdma_log_set_handler(NULL, NULL);
	free(buf);
#if !defined(__x86_64__)
	if (test_failures == 0) {
		printf("dma_chk_unsynced_read: skipped: reads are told from writes "
		       "on x86-64 only (reported as cpu-access here)\n");
		return 77;
	}
#endif
	return test_done("dma_chk_unsynced_read");
}
