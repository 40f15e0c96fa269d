/* SPDX-License-Identifier: MIT */
/*
 * Every kind of checker report, triggered once on a device with the
 * longest name (31 bytes), carries the fields ccdma/dma.h's table gives
 * it and a whole message: it starts with the kind, names the call sites,
 * and ends with the end of its own text (a 192-byte message used to cut
 * the missing-postread report in mid-word).
 *   - file:line is the misbehaving call (NULL for a leak and for CPU
 *     accesses, which are no library call); map_file:map_line where the
 *     mapping was made, or for busdma loaded; sync_file:sync_line only
 *     for missing-postread (the PREREAD);
 *   - cpu-access and unsynced-read give the byte touched (fault_addr) and
 *     the faulting instruction (fault_pc, inside touch() below on every
 *     architecture the platform layer knows);
 *   - three call-site names over 64 bytes with the longest body still
 *     leave a whole message.
 */
#include "dma_chk_util.h"

#include <ccdma/busdma.h>

#define NAME "device-with-a-31-character-name"
#define LEN 1000

static const char *tf;
static struct ccdma_debug_report r;
static const char *mlabel = "mapped"; /* busdma: "loaded" */

/* The newest report of kind k into r, with the checks every kind gets:
 * its kind first, a whole message ending in `tail`, and the call sites
 * (file NULL: none; `mf` the map's; sync only for missing-postread). */
static void got(int tl, enum ccdma_debug_kind k, int line, int mline,
		int sline, const char *tail)
{
	char at[128];
	int b = test_failures;

	memset(&r, 0, sizeof(r));
	if (!chk_last_report(k, &r)) {
		fprintf(stderr, "line %d: no %s report\n", tl, ccdma_debug_kind_name(k));
		test_failures++;
		return;
	}
	CHECK(strstr(r.msg, ccdma_debug_kind_name(k)) == r.msg);
	CHECK(strlen(r.msg) < sizeof(r.msg) - 1);
	CHECK(chk_ends_with(r.msg, tail));
	if (line) {
		CHECK(chk_ends_with(r.file, tf));
		CHECK_EQ(r.line, line);
		snprintf(at, sizeof(at), "%s at %s:%d", ccdma_debug_kind_name(k),
			 tf, line);
		CHECK(strstr(r.msg, at) == r.msg);
	} else {
		CHECK(r.file == NULL);
		CHECK_EQ(r.line, 0);
	}
	if (mline) {
		CHECK(chk_ends_with(r.map_file, tf));
		CHECK_EQ(r.map_line, mline);
		snprintf(at, sizeof(at), "(%s at %s:%d", mlabel, tf, mline);
		CHECK(strstr(r.msg, at) != NULL);
	} else {
		CHECK(r.map_file == NULL);
		CHECK_EQ(r.map_line, 0);
	}
	if (sline) {
		CHECK(chk_ends_with(r.sync_file, tf));
		CHECK_EQ(r.sync_line, sline);
		snprintf(at, sizeof(at), "PREREAD at %s:%d)", tf, sline);
		CHECK(strstr(r.msg, at) != NULL);
	} else {
		CHECK(r.sync_file == NULL);
		CHECK_EQ(r.sync_line, 0);
	}
	if (k != CCDMA_DBG_CPU_ACCESS && k != CCDMA_DBG_UNSYNCED_READ) {
		CHECK_EQ(r.fault_addr, 0);
		CHECK_EQ(r.fault_pc, 0);
	}
	if (test_failures != b)
		fprintf(stderr, "line %d: report: %s\n", tl, r.msg);
}

#define GOT(k, line, mline, sline, tail) got(__LINE__, k, line, mline, sline, tail)

/* Map `len` bytes of buf; the map's line in *l. */
#define MAP(d, buf, len, dir, l) AT(l, ccdma_map_single(d, buf, len, dir))

static ccdma_addr_t checked(struct ccdma_dev *d, ccdma_addr_t a)
{
	REQUIRE(ccdma_mapping_error(d, a) == 0);
	return a;
}

/* The accesses the checker catches: one instruction each. */
__attribute__((noinline)) static void touch(volatile unsigned char *p)
{
	*p = 0x42;
}

__attribute__((noinline)) static unsigned char peek(volatile unsigned char *p)
{
	return *p;
}

/* The architectures whose signal frame the platform layer reads. */
#if defined(__x86_64__) || defined(__i386__) || defined(__aarch64__) || \
	defined(__powerpc64__) || defined(__s390x__) || \
	(defined(__riscv) && __riscv_xlen == 64)
#define KNOWN_PC 1
#endif

/* The byte touched as the fault reports it: s390x hardware names only
 * its 4 KiB frame. */
static uintptr_t as_reported(const void *p)
{
#if defined(__s390x__)
	return (uintptr_t)p & ~(uintptr_t)4095;
#else
	return (uintptr_t)p;
#endif
}

/* fault_pc is inside fn (its code is well under 4 KiB). */
static bool pc_in(uintptr_t pc, void *fn)
{
	return pc >= (uintptr_t)fn && pc < (uintptr_t)fn + 4096;
}

static void unmap_kinds(struct ccdma_dev *d, unsigned char *buf)
{
	ccdma_addr_t a;
	int l, lm;
	char tail[128];

	/* Never mapped: the address and size the unmap named. */
	CHECK_EQ(AT(l, ccdma_unmap_single(d, 0x12345678, 77, CCDMA_TO_DEVICE)), -EINVAL);
	GOT(CCDMA_DBG_UNMAP_UNKNOWN, l, 0, 0, "no such mapping on device " NAME);
	CHECK_EQ(r.addr, 0x12345678);
	CHECK_EQ(r.size, 77);

	/* Unmapped twice. */
	a = checked(d, MAP(d, buf, 300, CCDMA_TO_DEVICE, lm));
	CHECK_EQ(ccdma_unmap_single(d, a, 300, CCDMA_TO_DEVICE), 0);
	CHECK_EQ(AT(l, ccdma_unmap_single(d, a, 299, CCDMA_TO_DEVICE)), -EINVAL);
	GOT(CCDMA_DBG_DOUBLE_UNMAP, l, lm, 0, "already unmapped");
	CHECK_EQ(r.addr, a);
	CHECK_EQ(r.size, 299);

	/* Wrong size, then wrong direction: the mapping's address and size. */
	a = checked(d, MAP(d, buf, 300, CCDMA_TO_DEVICE, lm));
	CHECK_EQ(AT(l, ccdma_unmap_single(d, a, 200, CCDMA_TO_DEVICE)), 0);
	GOT(CCDMA_DBG_UNMAP_SIZE, l, lm, 0, "it was mapped with 300");
	CHECK_EQ(r.addr, a);
	CHECK_EQ(r.size, 300);
	a = checked(d, MAP(d, buf, 300, CCDMA_TO_DEVICE, lm));
	CHECK_EQ(AT(l, ccdma_unmap_single(d, a, 300, CCDMA_FROM_DEVICE)), 0);
	GOT(CCDMA_DBG_UNMAP_DIR, l, lm, 0, "it was mapped TO_DEVICE");
	CHECK_EQ(r.addr, a);
	CHECK_EQ(r.size, 300);

	/* The map's result never checked. */
	a = MAP(d, buf, 300, CCDMA_TO_DEVICE, lm);
	CHECK_EQ(AT(l, ccdma_unmap_single(d, a, 300, CCDMA_TO_DEVICE)), 0);
	GOT(CCDMA_DBG_UNCHECKED, l, lm, 0, "with ccdma_mapping_error()");
	CHECK_EQ(r.addr, a);
	CHECK_EQ(r.size, 300);

	/* A call site whose name is far over 64 bytes keeps its end. */
	CHECK_EQ(ccdma_unmap_single_attrs_at(d, 0x1000, 5, CCDMA_TO_DEVICE, 0,
		 "/src/a_source_file_name_that_goes_on_and_on_well_past_the_"
		 "sixty_four_bytes_kept.c", 4242), -EINVAL);
	REQUIRE(chk_last_report(CCDMA_DBG_UNMAP_UNKNOWN, &r));
	CHECK(strstr(r.msg, " at ...") != NULL);
	CHECK(strstr(r.msg, "past_the_sixty_four_bytes_kept.c:4242: ") != NULL);
	snprintf(tail, sizeof(tail), "(5 bytes): no such mapping on device %s", NAME);
	CHECK(chk_ends_with(r.msg, tail));
	CHECK(strstr(r.file, "/src/a_source_file_name") == r.file);
}

static void sync_kinds(struct ccdma_dev *d, unsigned char *buf)
{
	ccdma_addr_t a, b;
	int l, lm, lm2;

	a = checked(d, MAP(d, buf, 256, CCDMA_TO_DEVICE, lm));
	CHECK_EQ(AT(l, ccdma_sync_single_for_cpu(d, a, 256, CCDMA_FROM_DEVICE)), 0);
	GOT(CCDMA_DBG_SYNC_DIR, l, lm, 0, "it was mapped TO_DEVICE");
	CHECK_EQ(r.addr, a);
	CHECK_EQ(r.size, 256);
	/* Past the mapping's end: the mapping. */
	CHECK_EQ(AT(l, ccdma_sync_single_range_for_cpu(d, a, 200, 100, CCDMA_TO_DEVICE)), -EINVAL);
	GOT(CCDMA_DBG_SYNC_OUTSIDE, l, lm, 0, "outside the 256 mapped bytes");
	CHECK_EQ(r.addr, a);
	CHECK_EQ(r.size, 256);
	CHECK_EQ(ccdma_unmap_single(d, a, 256, CCDMA_TO_DEVICE), 0);
	/* In no mapping: the window named. */
	CHECK_EQ(AT(l, ccdma_sync_single_range_for_device(d, 0xdead0000, 16, 8, CCDMA_TO_DEVICE)), -EINVAL);
	GOT(CCDMA_DBG_SYNC_OUTSIDE, l, 0, 0, "no mapping of device " NAME " holds it");
	CHECK_EQ(r.addr, 0xdead0000 + 16);
	CHECK_EQ(r.size, 8);

	/* A second mapping of memory the device may write. */
	a = checked(d, MAP(d, buf, 400, CCDMA_FROM_DEVICE, lm));
	b = checked(d, MAP(d, buf + 100, 50, CCDMA_TO_DEVICE, lm2));
	GOT(CCDMA_DBG_OVERLAP, lm2, lm, 0, "of the same memory");
	CHECK_EQ(r.addr, a);
	CHECK_EQ(r.size, 400);
	CHECK_EQ(ccdma_unmap_single(d, b, 50, CCDMA_TO_DEVICE), 0);
	CHECK_EQ(ccdma_unmap_single(d, a, 400, CCDMA_FROM_DEVICE), 0);
}

static void leak_kind(unsigned char *buf)
{
	struct ccdma_dev *d2 = chk_dev(NAME, NULL);
	ccdma_addr_t a;
	char tail[64];
	int lm;

	a = checked(d2, MAP(d2, buf, 123, CCDMA_TO_DEVICE, lm));
	CHECK_EQ(ccdma_dev_destroy(d2), -EBUSY);
	snprintf(tail, sizeof(tail), "123 bytes at %#llx", (unsigned long long)a);
	GOT(CCDMA_DBG_LEAK, 0, lm, 0, tail);
	CHECK_EQ(r.addr, a);
	CHECK_EQ(r.size, 123);
}

static void fault_kinds(struct ccdma_dev *d)
{
	size_t page = ccdma_page_size();
	unsigned char *pg = aligned_alloc(page, 2 * page);
	ccdma_addr_t a;
	int lm;

	REQUIRE(pg);
	a = checked(d, MAP(d, pg, 2 * page, CCDMA_TO_DEVICE, lm));
	touch(pg + page + 5);
	GOT(CCDMA_DBG_CPU_ACCESS, 0, lm, 0, "the device owns the TO_DEVICE buffer");
	CHECK_EQ(r.addr, a);
	CHECK_EQ(r.size, 2 * page);
	CHECK_EQ(r.fault_addr, as_reported(pg + page + 5));
#ifdef KNOWN_PC
	if (!pc_in(r.fault_pc, (void *)touch))
		fprintf(stderr, "fault_pc %#lx, touch() at %p\n",
			(unsigned long)r.fault_pc, (void *)touch);
	CHECK(pc_in(r.fault_pc, (void *)touch));
	/* The instruction as object+offset, for addr2line. */
	CHECK(strstr(r.msg, "by the instruction at 0x") != NULL);
	CHECK(strstr(r.msg, "+0x") != NULL);
#else
	CHECK_EQ(r.fault_pc, 0);
	CHECK(strstr(r.msg, "by an instruction unknown on this platform") != NULL);
#endif
	CHECK_EQ(ccdma_unmap_single(d, a, 2 * page, CCDMA_TO_DEVICE), 0);

	a = checked(d, MAP(d, pg, 2 * page, CCDMA_FROM_DEVICE, lm));
	CHECK_EQ(peek(pg + 3), 0xa5);
#if defined(__x86_64__)
	GOT(CCDMA_DBG_UNSYNCED_READ, 0, lm, 0, "the bytes read are poison (0xa5)");
#else
	/* Reads are told from writes on x86-64 only. */
	GOT(CCDMA_DBG_CPU_ACCESS, 0, lm, 0, "the device owns the FROM_DEVICE buffer");
#endif
	CHECK_EQ(r.addr, a);
	CHECK_EQ(r.size, 2 * page);
	CHECK_EQ(r.fault_addr, as_reported(pg + 3));
#ifdef KNOWN_PC
	CHECK(pc_in(r.fault_pc, (void *)peek));
#else
	CHECK_EQ(r.fault_pc, 0);
#endif
	CHECK_EQ(ccdma_unmap_single(d, a, 2 * page, CCDMA_FROM_DEVICE), 0);
	free(pg);
}

static void busdma_kinds(struct ccdma_dev *d, unsigned char *buf)
{
	static const char *const lf[3] = {
		"/x/unload_site_with_a_name_of_far_more_than_sixty_four_bytes_in_it_u.c",
		"/x/load_site_with_a_name_of_far_more_than_sixty_four_bytes_in_it_ld.c",
		"/x/preread_site_with_a_name_of_far_more_than_sixty_four_bytes_in_it.c",
	};
	struct ccdma_bus_dma_tag_config tc;
	ccdma_bus_dma_tag_t t;
	ccdma_bus_dmamap_t m;
	ccdma_addr_t a;
	int l, ll, lp;

	memset(&tc, 0, sizeof(tc));
	REQUIRE(ccdma_bus_dma_tag_create(d, NULL, &tc, &t) == 0);
	REQUIRE(ccdma_bus_dmamap_create(t, LEN, 4, 0, 0, 0, &m) == 0);

	CHECK_EQ(AT(ll, ccdma_bus_dmamap_load(t, m, buf, LEN, NULL, CCDMA_BUS_DMA_NOWAIT)), 0);
	a = m->dm_segs[0].ds_addr;
	CHECK_EQ(AT(l, ccdma_bus_dmamap_sync(t, m, LEN - 10, 100, CCDMA_BUS_DMASYNC_POSTREAD)), EINVAL);
	mlabel = "loaded";
	GOT(CCDMA_DBG_SYNC_OUTSIDE, l, ll, 0, "outside the 1000-byte transfer");
	CHECK_EQ(r.addr, a);
	CHECK_EQ(r.size, LEN);
	CHECK_EQ(AT(lp, ccdma_bus_dmamap_sync(t, m, 0, LEN, CCDMA_BUS_DMASYNC_PREREAD)), 0);
	CHECK_EQ(AT(l, ccdma_bus_dmamap_unload(t, m)), 0);
	GOT(CCDMA_DBG_MISSING_POSTREAD, l, ll, lp, "so the device's data never reached the buffer");
	CHECK_EQ(r.addr, a);
	CHECK_EQ(r.size, LEN);

	/* All three sites with long names, and the longest body. */
	CHECK_EQ(ccdma_bus_dmamap_load_at(t, m, buf, LEN, NULL,
					  CCDMA_BUS_DMA_NOWAIT, lf[1], 1000000002), 0);
	CHECK_EQ(ccdma_bus_dmamap_sync_at(t, m, 0, LEN, CCDMA_BUS_DMASYNC_PREREAD,
					  lf[2], 1000000003), 0);
	CHECK_EQ(ccdma_bus_dmamap_unload_at(t, m, lf[0], 1000000001), 0);
	REQUIRE(chk_last_report(CCDMA_DBG_MISSING_POSTREAD, &r));
	CHECK(strlen(r.msg) < sizeof(r.msg) - 1);
	CHECK(strstr(r.msg, "far_more_than_sixty_four_bytes_in_it_u.c:1000000001 (loaded at ...") != NULL);
	CHECK(strstr(r.msg, "far_more_than_sixty_four_bytes_in_it_ld.c:1000000002, PREREAD at ...") != NULL);
	CHECK(strstr(r.msg, "far_more_than_sixty_four_bytes_in_it.c:1000000003): dev " NAME) != NULL);
	CHECK(chk_ends_with(r.msg, "so the device's data never reached the buffer"));
	CHECK(r.file == lf[0] && r.map_file == lf[1] && r.sync_file == lf[2]);
	if (!chk_ends_with(r.msg, "never reached the buffer"))
		fprintf(stderr, "long report: %s\n", r.msg);

	CHECK_EQ(ccdma_bus_dmamap_destroy(t, m), 0);
	CHECK_EQ(ccdma_bus_dma_tag_destroy(t), 0);
	mlabel = "mapped";
}

int main(void)
{
	static unsigned char buf[LEN];
	const char *segv;
	struct ccdma_dev *d;
	unsigned k;

	test_init();
	tf = chk_base(__FILE__);
	segv = chk_segv_blocked();
	chk_on(0);
	d = chk_dev(NAME, NULL);
	chk_log_catch();

	unmap_kinds(d, buf);
	sync_kinds(d, buf);
	busdma_kinds(d, buf);
	leak_kind(buf);
	if (segv)
		printf("cpu-access and unsynced-read not triggered: %s\n", segv);
	else
		fault_kinds(d);

	/* Every kind was seen (but the two page faults when they cannot
	 * be caught here; unsynced-read needs x86-64). */
	for (k = 0; k < CCDMA_DBG_NKINDS; k++) {
		bool fault = k == CCDMA_DBG_CPU_ACCESS || k == CCDMA_DBG_UNSYNCED_READ;
#if !defined(__x86_64__)
		if (k == CCDMA_DBG_UNSYNCED_READ)
			continue;
#endif
		if (segv && fault)
			continue;
		if (!ccdma_debug_count((enum ccdma_debug_kind)k))
			fprintf(stderr, "no %s report\n",
				ccdma_debug_kind_name((enum ccdma_debug_kind)k));
		CHECK(ccdma_debug_count((enum ccdma_debug_kind)k) > 0);
	}
	CHECK_EQ(ccdma_dev_destroy(d), 0);
	ccdma_log_set_handler(NULL, NULL);
	return test_done("dma_chk_report_fields");
}
