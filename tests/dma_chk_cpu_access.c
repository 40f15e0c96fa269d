/* SPDX-License-Identifier: MIT */
/*
 * Checker report CCDMA_DBG_CPU_ACCESS: while the device owns a bounced
 * private buffer, its whole pages are protected.  A driver that writes a
 * page-aligned buffer it mapped TO_DEVICE (or BIDIRECTIONAL) before the
 * unmap, or between sync_for_device and sync_for_cpu, is reported with
 * the map's call site; the program is not killed and the write takes
 * effect.  Reading a TO_DEVICE buffer is allowed, and so is everything
 * after unmap or sync_for_cpu.  Bytes outside whole pages are not
 * protected (a documented limit).
 */
#include "dma_chk_util.h"

#define PAGE 4096

int main(void)
{
	struct ccdma_debug_report r;
	const char *tf = chk_base(__FILE__);
	volatile unsigned char *v;
	unsigned char *buf, *small, data[2 * PAGE];
	ccdma_addr_t dma;
	struct ccdma_dev *d;
	unsigned sum = 0, i;
	int lmap;

	test_init();
	if (chk_segv_blocked()) {
		printf("dma_chk_cpu_access: skipped: %s\n", chk_segv_blocked());
		return 77;
	}
	if (ccdma_page_size() != PAGE) {
		printf("dma_chk_cpu_access: skipped: needs 4 KiB pages\n");
		return 77;
	}
	buf = aligned_alloc(PAGE, 2 * PAGE);
	small = malloc(64);
	REQUIRE(buf && small);
	v = buf;
	chk_on(0);
	d = chk_dev("cpuacc", NULL);
	chk_log_catch();

	/* TO_DEVICE: reading is fine, writing is reported. */
	memset(buf, 0x11, 2 * PAGE);
	dma = AT(lmap, ccdma_map_single(d, buf, 2 * PAGE, CCDMA_TO_DEVICE));
	REQUIRE(!ccdma_mapping_error(d, dma));
	for (i = 0; i < 2 * PAGE; i += 512)
		sum += v[i];
	CHECK_EQ(sum, 16 * 0x11);
	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_NKINDS), 0);
	v[5000] = 0x77; /* the bug */
	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_CPU_ACCESS), 1);
	CHK_REPORT(CCDMA_DBG_CPU_ACCESS, NULL, 0, tf, lmap);
	REQUIRE(chk_last_report(CCDMA_DBG_CPU_ACCESS, &r));
	CHECK_EQ(r.addr, dma);
	CHECK(strstr(r.msg, "write") != NULL);
	CHECK(strstr(r.msg, "TO_DEVICE") != NULL);
	CHECK_EQ(v[5000], 0x77); /* it took effect */
	v[100] = 0x78;            /* once per mapping */
	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_CPU_ACCESS), 1);
	/* The device saw the bytes of the map. */
	CHECK_EQ(ccdma_dev_read(d, dma + 5000, data, 1), 0);
	CHECK_EQ(data[0], 0x11);
	CHECK_EQ(ccdma_unmap_single(d, dma, 2 * PAGE, CCDMA_TO_DEVICE), 0);
	CHECK_EQ(buf[5000], 0x77);
	CHECK_EQ(buf[100], 0x78);
	buf[0] = 0;
	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_NKINDS), 1);

	/* BIDIRECTIONAL, written between sync_for_device and unmap. */
	memset(buf, 0x22, 2 * PAGE);
	dma = AT(lmap, ccdma_map_single(d, buf, 2 * PAGE, CCDMA_BIDIRECTIONAL));
	REQUIRE(!ccdma_mapping_error(d, dma));
	CHECK_EQ(ccdma_sync_single_for_cpu(d, dma, 2 * PAGE, CCDMA_BIDIRECTIONAL), 0);
	v[10] = 0x33; /* the CPU owns it now: fine */
	CHECK_EQ(ccdma_sync_single_for_device(d, dma, 2 * PAGE, CCDMA_BIDIRECTIONAL), 0);
	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_NKINDS), 1);
	v[PAGE + 10] = 0x44; /* the bug */
	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_CPU_ACCESS), 2);
	CHK_REPORT(CCDMA_DBG_CPU_ACCESS, NULL, 0, tf, lmap);
	CHECK_EQ(v[PAGE + 10], 0x44);
	/* The unmap copies the device's view back over it, as it must. */
	CHECK_EQ(ccdma_unmap_single(d, dma, 2 * PAGE, CCDMA_BIDIRECTIONAL), 0);
	CHECK_EQ(buf[10], 0x33);
	CHECK_EQ(buf[PAGE + 10], 0x22);

	/* Not whole pages: not protected, not reported. */
	dma = ccdma_map_single(d, small, 64, CCDMA_TO_DEVICE);
	REQUIRE(!ccdma_mapping_error(d, dma));
	((volatile unsigned char *)small)[3] = 9;
	CHECK_EQ(ccdma_unmap_single(d, dma, 64, CCDMA_TO_DEVICE), 0);
	CHECK_EQ(small[3], 9);

	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_NKINDS), 2);
	CHECK_EQ(chk_nreports(CCDMA_DBG_CPU_ACCESS), 2);
	CHECK_EQ(ccdma_dev_destroy(d), 0);
	ccdma_log_set_handler(NULL, NULL);
	free(buf);
	free(small);
	return test_done("dma_chk_cpu_access");
}
