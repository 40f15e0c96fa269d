/* SPDX-License-Identifier: MIT */
/*
 * busdma: the ownership checker catches a missing POSTREAD.
 *
 * With the checker on when the device is created, a map unloaded while
 * part of a PREREAD window was never POSTREAD is reported once
 * (CCDMA_DBG_MISSING_POSTREAD) with the unload's file:line, the load's
 * (map_file), the PREREAD's (sync_file), the first segment's DMA address
 * and the pending bytes, in a whole message: no
 * POSTREAD at all, a POSTREAD of the first or the last part only, a
 * POSTREAD with a hole (the whole window stays pending, as documented), a
 * second PREREAD after a complete cycle, PREREAD|PREWRITE, and memory that
 * was not even bounced.  Correct drivers (PREREAD / POSTREAD of the whole
 * window, PREWRITE / POSTWRITE cycles, POSTREAD in two halves either way
 * round or in three pieces in order, a POSTREAD wider than the PREREAD,
 * overlapping PREREADs, disjoint PREREAD windows each POSTREAD, eight
 * and more disjoint windows each POSTREAD in any order) get no report and
 * no error line.  Windows are kept exactly however many there are: with
 * eight pending and seven POSTREAD, the report names the eighth alone.  With the checker off nothing is reported.
 */
#include "dma_chk_util.h"

#include "busdma_mem_util.h"

#define LEN 1000

static struct ccdma_dev *d;
static ccdma_bus_dma_tag_t t;
static ccdma_bus_dmamap_t m;
static unsigned char *buf, devdata[LEN];
static const char *tf;
static int lload; /* the line of the last load */

#define PREREAD CCDMA_BUS_DMASYNC_PREREAD
#define PREWRITE CCDMA_BUS_DMASYNC_PREWRITE
#define POSTREAD CCDMA_BUS_DMASYNC_POSTREAD
#define POSTWRITE CCDMA_BUS_DMASYNC_POSTWRITE

/* Load buf (LEN bytes); the first segment's DMA address. */
static ccdma_addr_t load(void)
{
	lload = __LINE__ + 1;
	REQUIRE(ccdma_bus_dmamap_load(t, m, buf, LEN, NULL, CCDMA_BUS_DMA_NOWAIT) == 0);
	return m->dm_segs[0].ds_addr;
}

/* The device writes the whole transfer. */
static void device_writes(unsigned seed)
{
	bdm_fill(devdata, LEN, seed);
	CHECK_EQ(bdm_dev_put(d, m, devdata), 0);
}

/* Exactly one new missing-postread report (and nothing else) since
 * `before`: at the unload on line lun, naming the PREREAD on line lpre,
 * the address `addr`, the span of pending bytes [lo, hi) and how many of
 * them are pending. */
static void expect_report(int line, uint64_t before, int lun, int lpre,
			  ccdma_addr_t addr, size_t lo, size_t hi, size_t pending)
{
	struct ccdma_debug_report r;
	char win[64];
	int b = test_failures;

	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_MISSING_POSTREAD) - before, 1);
	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_NKINDS) - before, 1);
	CHK_REPORT(CCDMA_DBG_MISSING_POSTREAD, tf, lun, tf, lload);
	if (chk_last_report(CCDMA_DBG_MISSING_POSTREAD, &r)) {
		CHECK_EQ(r.addr, addr);
		CHECK_EQ(r.size, pending);
		CHECK(chk_ends_with(r.sync_file, tf));
		CHECK_EQ(r.sync_line, lpre);
		snprintf(win, sizeof(win), "PREREAD at %s:%d)", tf, lpre);
		CHECK(strstr(r.msg, win) != NULL);
		snprintf(win, sizeof(win), "bytes %zu..%zu", lo, hi);
		CHECK(strstr(r.msg, win) != NULL);
		/* Whole, not cut in mid-word. */
		CHECK(chk_ends_with(r.msg, "never reached the buffer"));
		if (test_failures != b)
			fprintf(stderr, "  (report: %s)\n", r.msg);
	}
	if (test_failures != b)
		fprintf(stderr, "  (expect_report called at line %d)\n", line);
}

#define EXPECT_REPORT(before, lun, lpre, addr, lo, hi) \
	expect_report(__LINE__, before, lun, lpre, addr, lo, hi, (hi) - (lo))
#define EXPECT_REPORT_N(before, lun, lpre, addr, lo, hi, pending) \
	expect_report(__LINE__, before, lun, lpre, addr, lo, hi, pending)

static void missing(void)
{
	ccdma_addr_t a;
	uint64_t n;
	int lpre, lun, i;
	void *sh;

	/* No POSTREAD at all: the device's data never reached the buffer. */
	n = ccdma_debug_count(CCDMA_DBG_NKINDS);
	memset(buf, 0x11, LEN);
	a = load();
	CHECK_EQ(AT(lpre, ccdma_bus_dmamap_sync(t, m, 0, LEN, PREREAD)), 0);
	device_writes(1);
	CHECK_EQ(AT(lun, ccdma_bus_dmamap_unload(t, m)), 0);
	EXPECT_REPORT(n, lun, lpre, a, 0, LEN);
	CHECK_EQ(buf[0], 0x11);
	CHECK_EQ(buf[LEN - 1], 0x11);

	/* POSTREAD of the first half only. */
	n = ccdma_debug_count(CCDMA_DBG_NKINDS);
	a = load();
	CHECK_EQ(AT(lpre, ccdma_bus_dmamap_sync(t, m, 0, LEN, PREREAD)), 0);
	device_writes(2);
	CHECK_EQ(ccdma_bus_dmamap_sync(t, m, 0, 500, POSTREAD), 0);
	CHECK_EQ(AT(lun, ccdma_bus_dmamap_unload(t, m)), 0);
	EXPECT_REPORT(n, lun, lpre, a, 500, LEN);

	/* POSTREAD of the last part only. */
	n = ccdma_debug_count(CCDMA_DBG_NKINDS);
	a = load();
	CHECK_EQ(AT(lpre, ccdma_bus_dmamap_sync(t, m, 0, LEN, PREREAD)), 0);
	device_writes(3);
	CHECK_EQ(ccdma_bus_dmamap_sync(t, m, 600, 400, POSTREAD), 0);
	CHECK_EQ(AT(lun, ccdma_bus_dmamap_unload(t, m)), 0);
	EXPECT_REPORT(n, lun, lpre, a, 0, 600);

	/* A POSTREAD in the middle splits the window: 0..200 and 500..LEN
	 * are still pending (docs/busdma.md). */
	n = ccdma_debug_count(CCDMA_DBG_NKINDS);
	a = load();
	CHECK_EQ(AT(lpre, ccdma_bus_dmamap_sync(t, m, 0, LEN, PREREAD)), 0);
	device_writes(4);
	CHECK_EQ(ccdma_bus_dmamap_sync(t, m, 200, 300, POSTREAD), 0);
	CHECK_EQ(AT(lun, ccdma_bus_dmamap_unload(t, m)), 0);
	EXPECT_REPORT_N(n, lun, lpre, a, 0, LEN, LEN - 300);

	/* A complete cycle, then a second PREREAD of a window: that one is
	 * named. */
	n = ccdma_debug_count(CCDMA_DBG_NKINDS);
	a = load();
	CHECK_EQ(ccdma_bus_dmamap_sync(t, m, 0, LEN, PREREAD), 0);
	device_writes(5);
	CHECK_EQ(ccdma_bus_dmamap_sync(t, m, 0, LEN, POSTREAD), 0);
	CHECK_EQ(AT(lpre, ccdma_bus_dmamap_sync(t, m, 100, 50, PREREAD)), 0);
	CHECK_EQ(AT(lun, ccdma_bus_dmamap_unload(t, m)), 0);
	EXPECT_REPORT(n, lun, lpre, a, 100, 150);

	/* PREREAD|PREWRITE: the device may write, so POSTREAD is due. */
	n = ccdma_debug_count(CCDMA_DBG_NKINDS);
	a = load();
	CHECK_EQ(AT(lpre, ccdma_bus_dmamap_sync(t, m, 0, LEN, PREREAD | PREWRITE)), 0);
	CHECK_EQ(ccdma_bus_dmamap_sync(t, m, 0, LEN, POSTWRITE), 0);
	CHECK_EQ(AT(lun, ccdma_bus_dmamap_unload(t, m)), 0);
	EXPECT_REPORT(n, lun, lpre, a, 0, LEN);

	/* Eight disjoint windows, seven POSTREAD (the second and the third
	 * split by a POSTREAD in their middle first): the report names the
	 * one left, 885..915, and its 30 bytes only. */
	n = ccdma_debug_count(CCDMA_DBG_NKINDS);
	a = load();
	for (i = 0; i < 8; i++) {
		if (i == 7)
			lpre = __LINE__ + 1;
		CHECK_EQ(ccdma_bus_dmamap_sync(t, m, 10 + (size_t)i * 125, 30, PREREAD), 0);
	}
	device_writes(6);
	CHECK_EQ(ccdma_bus_dmamap_sync(t, m, 145, 10, POSTREAD), 0);
	CHECK_EQ(ccdma_bus_dmamap_sync(t, m, 270, 10, POSTREAD), 0);
	for (i = 0; i < 7; i++)
		CHECK_EQ(ccdma_bus_dmamap_sync(t, m, 10 + (size_t)i * 125, 30, POSTREAD), 0);
	CHECK_EQ(AT(lun, ccdma_bus_dmamap_unload(t, m)), 0);
	EXPECT_REPORT(n, lun, lpre, a, 885, 915);

	/* Memory used in place: nothing to copy, but the driver is as wrong
	 * (it breaks wherever the memory is bounced), and is reported. */
	n = ccdma_debug_count(CCDMA_DBG_NKINDS);
	REQUIRE(ccdma_pool_alloc(ccdma_dev_pool(d), LEN, 0, &sh) == 0);
	lload = __LINE__ + 1;
	REQUIRE(ccdma_bus_dmamap_load(t, m, sh, LEN, NULL, CCDMA_BUS_DMA_NOWAIT) == 0);
	CHECK_EQ(bdm_bounced_segs(m), 0);
	a = m->dm_segs[0].ds_addr;
	CHECK_EQ(AT(lpre, ccdma_bus_dmamap_sync(t, m, 0, LEN, PREREAD)), 0);
	CHECK_EQ(AT(lun, ccdma_bus_dmamap_unload(t, m)), 0);
	EXPECT_REPORT(n, lun, lpre, a, 0, LEN);
	CHECK_EQ(ccdma_pool_free(ccdma_dev_pool(d), sh, LEN), 0);
}

/* One correct driver's cycle; `what` names it in failures. */
static void clean(const char *what, int step)
{
	uint64_t n = ccdma_debug_count(CCDMA_DBG_NKINDS);
	unsigned errors = chk_log.errors;
	int b = test_failures, i;

	memset(buf, 0x22, LEN);
	load();
	switch (step) {
	case 0: /* the whole window */
		CHECK_EQ(ccdma_bus_dmamap_sync(t, m, 0, LEN, PREREAD), 0);
		device_writes(10);
		CHECK_EQ(ccdma_bus_dmamap_sync(t, m, 0, LEN, POSTREAD), 0);
		CHECK(!memcmp(buf, devdata, LEN));
		break;
	case 1: /* PREWRITE / POSTWRITE cycles */
		for (i = 0; i < 3; i++) {
			CHECK_EQ(ccdma_bus_dmamap_sync(t, m, 0, LEN, PREWRITE), 0);
			CHECK_EQ(ccdma_bus_dmamap_sync(t, m, 0, LEN, POSTWRITE), 0);
		}
		CHECK_EQ(ccdma_bus_dmamap_sync(t, m, 10, 20, PREWRITE), 0);
		CHECK_EQ(ccdma_bus_dmamap_sync(t, m, 10, 20, POSTWRITE), 0);
		break;
	case 2: /* two halves */
		CHECK_EQ(ccdma_bus_dmamap_sync(t, m, 0, LEN, PREREAD), 0);
		device_writes(11);
		CHECK_EQ(ccdma_bus_dmamap_sync(t, m, 0, LEN / 2, POSTREAD), 0);
		CHECK_EQ(ccdma_bus_dmamap_sync(t, m, LEN / 2, LEN - LEN / 2, POSTREAD), 0);
		CHECK(!memcmp(buf, devdata, LEN));
		break;
	case 3: /* two halves, the second first */
		CHECK_EQ(ccdma_bus_dmamap_sync(t, m, 0, LEN, PREREAD), 0);
		device_writes(12);
		CHECK_EQ(ccdma_bus_dmamap_sync(t, m, LEN / 2, LEN - LEN / 2, POSTREAD), 0);
		CHECK_EQ(ccdma_bus_dmamap_sync(t, m, 0, LEN / 2, POSTREAD), 0);
		CHECK(!memcmp(buf, devdata, LEN));
		break;
	case 4: /* three pieces in order */
		CHECK_EQ(ccdma_bus_dmamap_sync(t, m, 0, LEN, PREREAD), 0);
		device_writes(13);
		CHECK_EQ(ccdma_bus_dmamap_sync(t, m, 0, 300, POSTREAD), 0);
		CHECK_EQ(ccdma_bus_dmamap_sync(t, m, 300, 300, POSTREAD), 0);
		CHECK_EQ(ccdma_bus_dmamap_sync(t, m, 600, LEN - 600, POSTREAD), 0);
		CHECK(!memcmp(buf, devdata, LEN));
		break;
	case 5: /* both directions at once */
		CHECK_EQ(ccdma_bus_dmamap_sync(t, m, 0, LEN, PREREAD | PREWRITE), 0);
		device_writes(14);
		CHECK_EQ(ccdma_bus_dmamap_sync(t, m, 0, LEN, POSTREAD | POSTWRITE), 0);
		CHECK(!memcmp(buf, devdata, LEN));
		break;
	case 6: /* a POSTREAD wider than the PREREAD */
		CHECK_EQ(ccdma_bus_dmamap_sync(t, m, 100, 200, PREREAD), 0);
		CHECK_EQ(ccdma_bus_dmamap_sync(t, m, 0, LEN, POSTREAD), 0);
		break;
	case 7: /* overlapping PREREADs, one POSTREAD of both */
		CHECK_EQ(ccdma_bus_dmamap_sync(t, m, 0, 600, PREREAD), 0);
		CHECK_EQ(ccdma_bus_dmamap_sync(t, m, 400, 600, PREREAD), 0);
		CHECK_EQ(ccdma_bus_dmamap_sync(t, m, 0, LEN, POSTREAD), 0);
		break;
	case 8: /* disjoint PREREAD windows, each POSTREAD: bytes 100..500
		   were never PREREAD, so nothing is missing */
		CHECK_EQ(ccdma_bus_dmamap_sync(t, m, 0, 100, PREREAD), 0);
		CHECK_EQ(ccdma_bus_dmamap_sync(t, m, 500, 100, PREREAD), 0);
		device_writes(15);
		CHECK_EQ(ccdma_bus_dmamap_sync(t, m, 0, 100, POSTREAD), 0);
		CHECK_EQ(ccdma_bus_dmamap_sync(t, m, 500, 100, POSTREAD), 0);
		CHECK(!memcmp(buf, devdata, 100));
		CHECK(!memcmp(buf + 500, devdata + 500, 100));
		break;
	case 9: /* twenty disjoint windows, each POSTREAD, the last first:
		   never joined, so the gaps between them are never pending */
		for (i = 0; i < 20; i++)
			CHECK_EQ(ccdma_bus_dmamap_sync(t, m, (size_t)i * 50, 20, PREREAD), 0);
		device_writes(16);
		for (i = 19; i >= 0; i--)
			CHECK_EQ(ccdma_bus_dmamap_sync(t, m, (size_t)i * 50, 20, POSTREAD), 0);
		for (i = 0; i < 20; i++)
			CHECK(!memcmp(buf + i * 50, devdata + i * 50, 20));
		break;
	}
	CHECK_EQ(ccdma_bus_dmamap_unload(t, m), 0);
	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_NKINDS), n);
	CHECK_EQ(chk_log.errors, errors);
	if (test_failures != b)
		fprintf(stderr, "  (a correct driver: %s; %s)\n", what, chk_log.last);
}

int main(void)
{
	static const char *const names[] = {
		"PREREAD / POSTREAD of the whole window", "PREWRITE / POSTWRITE cycles",
		"POSTREAD in two halves", "POSTREAD in two halves, second first",
		"POSTREAD in three pieces", "PREREAD|PREWRITE / POSTREAD|POSTWRITE",
		"POSTREAD wider than the PREREAD", "overlapping PREREADs",
		"disjoint PREREAD windows, each POSTREAD",
		"twenty disjoint PREREAD windows, each POSTREAD",
	};
	struct ccdma_bus_dma_tag_config tc;
	int i, lpre, lun;
	ccdma_addr_t a;
	uint64_t n;

	test_init();
	tf = chk_base(__FILE__);
	buf = malloc(LEN);
	REQUIRE(buf);

	/* Checker on before the device exists. */
	ccdma_debug_set(CCDMA_DEBUG_ON);
	ccdma_debug_clear();
	d = bdm_dev("bd-chk", 2u << 20, false, NULL, CCDMA_ISOLATION_DENSE);
	memset(&tc, 0, sizeof(tc));
	tc.maxsegsz = 512; /* two segments: windows cross a segment edge */
	REQUIRE(ccdma_bus_dma_tag_create(d, NULL, &tc, &t) == 0);
	REQUIRE(ccdma_bus_dmamap_create(t, LEN, 4, 0, 0, 0, &m) == 0);
	chk_log_catch();

	/* Misbehaving drivers. */
	missing();
	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_MISSING_POSTREAD), 8);

	/* Correct drivers: no report, no error line. */
	for (i = 0; i < (int)(sizeof(names) / sizeof(names[0])); i++)
		clean(names[i], i);

	/* After a report the map is clean again: a correct cycle passes. */
	n = ccdma_debug_count(CCDMA_DBG_NKINDS);
	a = load();
	CHECK_EQ(AT(lpre, ccdma_bus_dmamap_sync(t, m, 0, LEN, PREREAD)), 0);
	CHECK_EQ(AT(lun, ccdma_bus_dmamap_unload(t, m)), 0);
	EXPECT_REPORT(n, lun, lpre, a, 0, LEN);
	clean(names[0], 0);

	CHECK_EQ(ccdma_bus_dmamap_destroy(t, m), 0);
	CHECK_EQ(ccdma_bus_dma_tag_destroy(t), 0);
	CHECK_EQ(ccdma_dev_destroy(d), 0);

	/* Checker off: a device created now reports nothing. */
	ccdma_debug_set(0);
	ccdma_debug_clear();
	chk_log_catch();
	d = bdm_dev("bd-chk-off", 2u << 20, false, NULL, CCDMA_ISOLATION_DENSE);
	REQUIRE(ccdma_bus_dma_tag_create(d, NULL, &tc, &t) == 0);
	REQUIRE(ccdma_bus_dmamap_create(t, LEN, 4, 0, 0, 0, &m) == 0);
	load();
	CHECK_EQ(ccdma_bus_dmamap_sync(t, m, 0, LEN, PREREAD), 0);
	device_writes(20);
	CHECK_EQ(ccdma_bus_dmamap_unload(t, m), 0);
	load();
	CHECK_EQ(ccdma_bus_dmamap_sync(t, m, 0, LEN, PREREAD), 0);
	CHECK_EQ(ccdma_bus_dmamap_sync(t, m, 0, 10, POSTREAD), 0);
	CHECK_EQ(ccdma_bus_dmamap_unload(t, m), 0);
	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_MISSING_POSTREAD), 0);
	CHECK_EQ(ccdma_debug_count(CCDMA_DBG_NKINDS), 0);
	{
		struct ccdma_debug_report r;

		CHECK_EQ(ccdma_debug_reports(&r, 1), 0);
	}
	CHECK_EQ(chk_log.errors, 0);
	CHECK_EQ(ccdma_bus_dmamap_destroy(t, m), 0);
	CHECK_EQ(ccdma_bus_dma_tag_destroy(t), 0);
	CHECK_EQ(ccdma_dev_destroy(d), 0);

	ccdma_log_set_handler(NULL, NULL);
	free(buf);
	return test_done("busdma_chk_postread");
}
