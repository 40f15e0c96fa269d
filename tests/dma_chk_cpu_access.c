/* SPDX-License-Identifier: MIT */
/*
 * Checker report CCDMA_DBG_CPU_ACCESS: while the device owns a bounced
 * private buffer, its whole pages are protected.  A driver that writes a
 * page-aligned buffer it mapped TO_DEVICE (or BIDIRECTIONAL) before the
 * unmap, or between sync_for_device and sync_for_cpu, is reported with
 * the map's call site; the program is not killed and the write takes
 * effect.  Reading a TO_DEVICE buffer is allowed, and so is everything
 * after unmap or sync_for_cpu.  Bytes outside whole pages are not
 * protected (a documented limit).  Written for any page size: the buffer
 * is two pages of ccdma_page_size().  Telling a write from a read needs
 * the x86-64 page-fault error code; elsewhere the report says "access".
 */
#include "dma_chk_util.h"

#if defined(__x86_64__)
#define WRITE_WORD "write"
#else
#define WRITE_WORD "access"
#endif

int main(void)
{
	struct ccdma_debug_report r;
	const char *tf = chk_base(__FILE__);
	volatile unsigned char *v;
	size_t page = ccdma_page_size(), i;
	unsigned char *buf, *small, got;
	ccdma_addr_t dma;
	struct ccdma_dev *d;
	unsigned sum = 0;
	int lmap;

	test_init();
	if (chk_segv_blocked()) {
		printf("dma_chk_cpu_access: skipped: %s\n", chk_segv_blocked());
		return 77;
	}
	buf = aligned_alloc(page, 2 * page);
	small = malloc(64);
	REQUIRE(buf && small);
	v = buf;
	chk_on(0);
	d = chk_dev("cpuacc", NULL);
	chk_log_catch();

	/* TO_DEVICE: reading is fine, writing is reported. */
	memset(buf, 0x11, 2 * page);
	dma = AT(lmap, ccdma_map_single(d, buf, 2 * page, CCDMA_TO_DEVICE));
	REQUIRE(!ccdma_mapping_error(d, dma));
	for (i = 0; i < 2 * page; i += 512)
		sum += v[i];
	CHECK_EQ(sum, 2 * page / 512 * 0x11);
	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_NKINDS), 0);
	v[page + 904] = 0x77; /* the bug */
	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_CPU_ACCESS), 1);
	CHK_REPORT(CCDMA_DBG_CPU_ACCESS, NULL, 0, tf, lmap);
	REQUIRE(chk_last_report(CCDMA_DBG_CPU_ACCESS, &r));
	CHECK_EQ(r.addr, dma);
	CHECK(strstr(r.msg, WRITE_WORD) != NULL);
	CHECK(strstr(r.msg, "TO_DEVICE") != NULL);
	CHECK_EQ(v[page + 904], 0x77); /* it took effect */
	v[100] = 0x78;            /* once per mapping */
	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_CPU_ACCESS), 1);
	/* The device saw the bytes of the map. */
	CHECK_EQ(ccdma_dev_read(d, dma + page + 904, &got, 1), 0);
	CHECK_EQ(got, 0x11);
	CHECK_EQ(ccdma_unmap_single(d, dma, 2 * page, CCDMA_TO_DEVICE), 0);
	CHECK_EQ(buf[page + 904], 0x77);
	CHECK_EQ(buf[100], 0x78);
	buf[0] = 0;
	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_NKINDS), 1);

	/* BIDIRECTIONAL, written between sync_for_device and unmap. */
	memset(buf, 0x22, 2 * page);
	dma = AT(lmap, ccdma_map_single(d, buf, 2 * page, CCDMA_BIDIRECTIONAL));
	REQUIRE(!ccdma_mapping_error(d, dma));
	CHECK_EQ(ccdma_sync_single_for_cpu(d, dma, 2 * page, CCDMA_BIDIRECTIONAL), 0);
	v[10] = 0x33; /* the CPU owns it now: fine */
	CHECK_EQ(ccdma_sync_single_for_device(d, dma, 2 * page, CCDMA_BIDIRECTIONAL), 0);
	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_NKINDS), 1);
	v[page + 10] = 0x44; /* the bug */
	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_CPU_ACCESS), 2);
	CHK_REPORT(CCDMA_DBG_CPU_ACCESS, NULL, 0, tf, lmap);
	CHECK_EQ(v[page + 10], 0x44);
	/* The unmap copies the device's view back over it, as it must. */
	CHECK_EQ(ccdma_unmap_single(d, dma, 2 * page, CCDMA_BIDIRECTIONAL), 0);
	CHECK_EQ(buf[10], 0x33);
	CHECK_EQ(buf[page + 10], 0x22);

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
