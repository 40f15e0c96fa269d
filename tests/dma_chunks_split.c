/* SPDX-License-Identifier: MIT */
/*
 * The output of ccdma_map_chunks(): every segment is at most max_seg_size
 * long and crosses no multiple of seg_boundary + 1 (also a boundary inside
 * a page), the segments carry exactly the input's bytes, pieces contiguous
 * in DMA space are merged (scattered private pages share one bounce and
 * become one segment), the flags say BOUNCED / SHARED / DEVICE (0 for
 * private memory a direct-mode device reaches in place), the input
 * list is not modified by map or unmap, and a too small output list gives
 * -ENOSPC with nothing left mapped (pool usage back, out->n 0).
 */
#include "dma_chk_util.h"

#define PAGE 4096 /* a device page (NVMe's 4 KiB), not the CPU page */
#define NOLINE UINT64_MAX

/* Segments a contiguous DMA range [a, a+len) must take at least. */
static uint32_t greedy(uint64_t a, uint64_t len, uint64_t max, uint64_t b)
{
	uint32_t n = 0;

	while (len) {
		uint64_t take = max;

		if (b != NOLINE && b - (a & b) + 1 < take)
			take = b - (a & b) + 1;
		if (take > len)
			take = len;
		a += take;
		len -= take;
		n++;
	}
	return n;
}

/* Limits on every segment and the total; returns the failures seen. */
static int check_segs(const struct ccdma_seg_list *out, uint64_t bytes,
		      uint64_t max, uint64_t b, int line)
{
	uint64_t sum = 0;
	int bad = 0;
	uint32_t i;

	for (i = 0; i < out->n; i++) {
		const struct ccdma_seg *s = &out->seg[i];

		if (!s->len || s->len > max ||
		    (b != NOLINE && (s->addr & ~b) != ((s->addr + s->len - 1) & ~b))) {
			fprintf(stderr, "line %d: segment %u %#llx+%u breaks max %llu "
				"boundary %#llx\n", line, i,
				(unsigned long long)s->addr, s->len,
				(unsigned long long)max, (unsigned long long)b);
			bad++;
		}
		sum += s->len;
	}
	if (sum != bytes) {
		fprintf(stderr, "line %d: segments carry %llu bytes, input %llu\n",
			line, (unsigned long long)sum, (unsigned long long)bytes);
		bad++;
	}
	test_failures += bad;
	return bad;
}

/* Segments [from, to) follow each other in DMA space. */
static bool contiguous(const struct ccdma_seg_list *out, uint32_t from,
		       uint32_t to)
{
	uint32_t i;

	for (i = from + 1; i < to; i++)
		if (out->seg[i].addr != out->seg[i - 1].addr + out->seg[i - 1].len)
			return false;
	return true;
}

static bool all_flags(const struct ccdma_seg_list *out, uint32_t flags)
{
	uint32_t i;

	for (i = 0; i < out->n; i++)
		if (out->seg[i].flags != flags)
			return false;
	return true;
}

struct snap {
	struct ccdma_chunk_list l;
	struct ccdma_chunk c[16];
};

static void take(struct snap *s, const struct ccdma_chunk_list *l)
{
	REQUIRE(l->n <= 16);
	memcpy(&s->l, l, sizeof(*l));
	memcpy(s->c, l->chunk, l->n * sizeof(*l->chunk));
}

static bool unchanged(const struct snap *s, const struct ccdma_chunk_list *l)
{
	return !memcmp(&s->l, l, sizeof(*l)) &&
	       !memcmp(s->c, l->chunk, l->n * sizeof(*l->chunk));
}

static struct ccdma_seg segs[512];

/* One device: max_seg_size max, boundary b. */
static void run(uint64_t max, uint64_t b)
{
	struct ccdma_dev_config cfg;
	struct ccdma_chunk ch[16];
	struct ccdma_chunk_list in;
	struct ccdma_seg_list out;
	struct ccdma_dev *d;
	struct snap sn;
	uint64_t base;
	ccdma_addr_t cdma;
	char *buf, *c;
	uint32_t i, need, np;
	int rc;

	ccdma_dev_config_init(&cfg);
	cfg.max_seg_size = (size_t)max;
	cfg.seg_boundary = b;
	d = chk_dev("split", &cfg);
	buf = aligned_alloc(PAGE, 64 * 1024);
	REQUIRE(buf);
	memset(buf, 0x5a, 64 * 1024);
	REQUIRE(ccdma_alloc_coherent(d, 16384, (void **)&c, &cdma, 0) == 0);
	base = chk_in_use(d);

	/* Private chunks: bounced into one allocation, laid out one after
	 * another, so the segments follow each other and are only cut by
	 * the limits, never at chunk borders. */
	ccdma_chunks_init(&in, ch, 16);
	REQUIRE(ccdma_chunks_add(&in, buf + 100, 5000, CCDMA_MEM_PRIVATE) == 0);
	REQUIRE(ccdma_chunks_add(&in, buf + 16384, 3000, CCDMA_MEM_PRIVATE) == 0);
	REQUIRE(ccdma_chunks_add(&in, buf + 32768 + 7, 20000, CCDMA_MEM_PRIVATE) == 0);
	take(&sn, &in);
	ccdma_segs_init(&out, segs, 512);
	rc = ccdma_map_chunks(d, &in, &out, CCDMA_TO_DEVICE);
	CHECK_EQ(rc, (int)out.n);
	CHECK(out.n > 0);
	check_segs(&out, 28000, max, b, __LINE__);
	CHECK(all_flags(&out, CCDMA_SEG_BOUNCED));
	CHECK(contiguous(&out, 0, out.n));
	CHECK_EQ(out.n, greedy(out.seg[0].addr, 28000, max, b));
	CHECK(unchanged(&sn, &in));
	CHECK(chk_in_use(d) > base);
	CHECK_EQ(ccdma_unmap_chunks(d, &in, &out, CCDMA_TO_DEVICE), 0);
	CHECK(unchanged(&sn, &in));
	CHECK_EQ(chk_in_use(d), base);
	need = greedy(out.seg[0].addr, 28000, max, b);

	/* Too small an output list: -ENOSPC, nothing stays mapped. */
	ccdma_segs_init(&out, segs, need - 1);
	chk_log_catch();
	CHECK_EQ(ccdma_map_chunks(d, &in, &out, CCDMA_TO_DEVICE), -ENOSPC);
	CHECK_EQ(chk_log.errors, 1);
	CHECK_EQ(out.n, 0);
	CHECK_EQ(chk_in_use(d), base);
	CHECK(unchanged(&sn, &in));
	CHECK_EQ(ccdma_unmap_chunks(d, &in, &out, CCDMA_TO_DEVICE), -EINVAL);
	ccdma_log_set_handler(NULL, NULL);
	/* The same list maps into a large enough one. */
	ccdma_segs_init(&out, segs, 512);
	CHECK(ccdma_map_chunks(d, &in, &out, CCDMA_FROM_DEVICE) > 0);
	CHECK_EQ(ccdma_unmap_chunks(d, &in, &out, CCDMA_FROM_DEVICE), 0);
	CHECK_EQ(chk_in_use(d), base);

	/* Shared (coherent) memory: not bounced, split in place. */
	ccdma_chunks_init(&in, ch, 16);
	REQUIRE(ccdma_chunks_add(&in, c + 100, 10000, CCDMA_MEM_SHARED) == 0);
	take(&sn, &in);
	ccdma_segs_init(&out, segs, 512);
	rc = ccdma_map_chunks(d, &in, &out, CCDMA_FROM_DEVICE);
	CHECK_EQ(rc, (int)out.n);
	check_segs(&out, 10000, max, b, __LINE__);
	CHECK(all_flags(&out, CCDMA_SEG_SHARED));
	CHECK_EQ(out.seg[0].addr, cdma + 100);
	CHECK(contiguous(&out, 0, out.n));
	CHECK_EQ(out.n, greedy(cdma + 100, 10000, max, b));
	CHECK_EQ(chk_in_use(d), base); /* no bounce */
	CHECK(unchanged(&sn, &in));
	CHECK_EQ(ccdma_unmap_chunks(d, &in, &out, CCDMA_FROM_DEVICE), 0);
	CHECK(unchanged(&sn, &in));
	need = out.n;
	ccdma_segs_init(&out, segs, need - 1);
	ccdma_log_set_handler(quiet_log, NULL);
	CHECK_EQ(ccdma_map_chunks(d, &in, &out, CCDMA_FROM_DEVICE), -ENOSPC);
	ccdma_log_set_handler(NULL, NULL);
	CHECK_EQ(out.n, 0);
	CHECK_EQ(chk_in_use(d), base);

	/* Memory tagged private that is in fact shared is not bounced, and
	 * merges with the shared chunk it continues in DMA space. */
	ccdma_chunks_init(&in, ch, 16);
	REQUIRE(ccdma_chunks_add(&in, c + 1000, 1000, CCDMA_MEM_SHARED) == 0);
	REQUIRE(ccdma_chunks_add(&in, c + 2000, 300, CCDMA_MEM_PRIVATE) == 0);
	CHECK_EQ(in.n, 2);
	ccdma_segs_init(&out, segs, 512);
	CHECK(ccdma_map_chunks(d, &in, &out, CCDMA_BIDIRECTIONAL) > 0);
	check_segs(&out, 1300, max, b, __LINE__);
	CHECK(all_flags(&out, CCDMA_SEG_SHARED));
	CHECK_EQ(out.n, greedy(cdma + 1000, 1300, max, b));
	CHECK_EQ(out.seg[0].addr, cdma + 1000);
	CHECK_EQ(chk_in_use(d), base);
	CHECK_EQ(ccdma_unmap_chunks(d, &in, &out, CCDMA_BIDIRECTIONAL), 0);

	/* A mix: private, shared, device, private. */
	ccdma_chunks_init(&in, ch, 16);
	REQUIRE(ccdma_chunks_add(&in, buf, 3000, CCDMA_MEM_PRIVATE) == 0);
	REQUIRE(ccdma_chunks_add(&in, c + 8192, 2000, CCDMA_MEM_SHARED) == 0);
	REQUIRE(ccdma_chunks_add_bus(&in, 0x7000000000ull + 100, 9000) == 0);
	REQUIRE(ccdma_chunks_add(&in, buf + 8192, 100, CCDMA_MEM_PRIVATE) == 0);
	take(&sn, &in);
	ccdma_segs_init(&out, segs, 512);
	rc = ccdma_map_chunks(d, &in, &out, CCDMA_TO_DEVICE);
	CHECK_EQ(rc, (int)out.n);
	check_segs(&out, 14100, max, b, __LINE__);
	{
		/* Walk the output: each input chunk's bytes in order. */
		static const uint32_t want[4] = { CCDMA_SEG_BOUNCED, CCDMA_SEG_SHARED,
						  CCDMA_SEG_DEVICE, CCDMA_SEG_BOUNCED };
		uint32_t si = 0, first[4], last[4];

		for (i = 0; i < 4; i++) {
			uint64_t left = ch[i].len;

			first[i] = si;
			while (left && si < out.n) {
				CHECK_EQ(out.seg[si].flags, want[i]);
				CHECK(out.seg[si].len <= left);
				left -= out.seg[si].len;
				si++;
			}
			CHECK_EQ(left, 0);
			last[i] = si;
			CHECK(contiguous(&out, first[i], last[i]));
		}
		CHECK_EQ(si, out.n);
		CHECK_EQ(out.seg[first[1]].addr, cdma + 8192);
		CHECK_EQ(out.seg[first[2]].addr, 0x7000000000ull + 100);
		np = last[2] - first[2];
		CHECK_EQ(np, greedy(0x7000000000ull + 100, 9000, max, b));
		/* Both private chunks share one bounce, back to back. */
		CHECK_EQ(out.seg[first[3]].addr,
			 out.seg[last[0] - 1].addr + out.seg[last[0] - 1].len);
	}
	CHECK(unchanged(&sn, &in));
	CHECK_EQ(ccdma_unmap_chunks(d, &in, &out, CCDMA_TO_DEVICE), 0);
	CHECK(unchanged(&sn, &in));
	CHECK_EQ(chk_in_use(d), base);

	/* A failed map leaves out->n at 0 even when the list held an earlier
	 * (unmapped) mapping. */
	CHECK(out.n > 0);
	ccdma_chunks_init(&in, ch, 16);
	REQUIRE(ccdma_chunks_add(&in, buf, 100, CCDMA_MEM_SHARED) == 0);
	chk_log_catch();
	CHECK_EQ(ccdma_map_chunks(d, &in, &out, CCDMA_TO_DEVICE), -EINVAL);
	CHECK_EQ(chk_log.errors, 1);
	CHECK(strstr(chk_log.last, "shared") != NULL);
	CHECK_EQ(out.n, 0);
	ccdma_chunks_init(&in, ch, 16);
	REQUIRE(ccdma_chunks_add(&in, buf, 100, CCDMA_MEM_PRIVATE) == 0);
	CHECK(ccdma_map_chunks(d, &in, &out, CCDMA_TO_DEVICE) > 0);
	CHECK_EQ(ccdma_unmap_chunks(d, &in, &out, CCDMA_TO_DEVICE), 0);
	CHECK_EQ(ccdma_map_chunks_attrs(d, &in, &out, CCDMA_TO_DEVICE,
					CCDMA_ATTR_NO_BOUNCE), -EIO);
	CHECK_EQ(out.n, 0);
	CHECK_EQ(chk_in_use(d), base);
	ccdma_log_set_handler(NULL, NULL);

	CHECK_EQ(ccdma_free_coherent(d, 16384, c, cdma), 0);
	CHECK_EQ(ccdma_dev_destroy(d), 0);
	free(buf);
}

/* Scattered private pages bounce into one allocation: with the default
 * 64 KiB segments they become one segment, or as few as the limit allows. */
static void scattered(void)
{
	struct ccdma_chunk ch[32];
	struct ccdma_chunk_list in;
	struct ccdma_seg_list out;
	struct ccdma_dev *d = chk_dev("scatter", NULL);
	char *buf = aligned_alloc(PAGE, 48 * PAGE);
	uint64_t base = chk_in_use(d);
	int i;

	REQUIRE(buf);
	ccdma_chunks_init(&in, ch, 32);
	REQUIRE(ccdma_chunks_add(&in, buf, PAGE, CCDMA_MEM_PRIVATE) == 0);
	REQUIRE(ccdma_chunks_add(&in, buf + 2 * PAGE, PAGE, CCDMA_MEM_PRIVATE) == 0);
	CHECK_EQ(in.n, 2);
	ccdma_segs_init(&out, segs, 8);
	CHECK_EQ(ccdma_map_chunks(d, &in, &out, CCDMA_TO_DEVICE), 1);
	CHECK_EQ(out.seg[0].len, 2 * PAGE);
	CHECK_EQ(out.seg[0].flags, CCDMA_SEG_BOUNCED);
	CHECK_EQ(ccdma_unmap_chunks(d, &in, &out, CCDMA_TO_DEVICE), 0);

	/* 20 scattered pages: 80 KiB in 64 KiB + 16 KiB. */
	ccdma_chunks_init(&in, ch, 32);
	for (i = 0; i < 20; i++)
		REQUIRE(ccdma_chunks_add(&in, buf + 2 * i * PAGE, PAGE,
					 CCDMA_MEM_PRIVATE) == 0);
	CHECK_EQ(in.n, 20);
	CHECK_EQ(ccdma_map_chunks(d, &in, &out, CCDMA_FROM_DEVICE), 2);
	CHECK_EQ(out.seg[0].len, 65536);
	CHECK_EQ(out.seg[1].len, 16384);
	CHECK_EQ(out.seg[1].addr, out.seg[0].addr + 65536);
	CHECK_EQ(ccdma_unmap_chunks(d, &in, &out, CCDMA_FROM_DEVICE), 0);
	CHECK_EQ(chk_in_use(d), base);
	CHECK_EQ(ccdma_dev_destroy(d), 0);
	free(buf);
}

/* A device that reaches private memory maps it in place (flags 0, the
 * CPU address under the identity translation), split at the limits;
 * force-bounce bounces it. */
static void direct(void)
{
	struct ccdma_dev_config cfg;
	struct ccdma_chunk ch[4];
	struct ccdma_chunk_list in;
	struct ccdma_seg_list out;
	char *buf = aligned_alloc(PAGE, 8 * PAGE);
	struct ccdma_dev *d;
	uint64_t base;

	REQUIRE(buf);
	ccdma_dev_config_init(&cfg);
	cfg.max_seg_size = 4096;
	cfg.seg_boundary = 0xfff;
	d = chk_dev_mode("direct", &cfg, CCDMA_MODE_DIRECT);
	base = chk_in_use(d);
	ccdma_chunks_init(&in, ch, 4);
	REQUIRE(ccdma_chunks_add(&in, buf + 100, 3 * PAGE, CCDMA_MEM_PRIVATE) == 0);
	REQUIRE(ccdma_chunks_add(&in, buf + 5 * PAGE, 10, CCDMA_MEM_PRIVATE) == 0);
	ccdma_segs_init(&out, segs, 512);
	CHECK_EQ(ccdma_map_chunks(d, &in, &out, CCDMA_BIDIRECTIONAL), 5);
	check_segs(&out, 3 * PAGE + 10, 4096, 0xfff, __LINE__);
	CHECK(all_flags(&out, 0));
	CHECK_EQ(out.seg[0].addr, (uintptr_t)(buf + 100));
	CHECK_EQ(out.seg[0].len, PAGE - 100);
	CHECK(contiguous(&out, 0, 4));
	CHECK_EQ(out.seg[4].addr, (uintptr_t)(buf + 5 * PAGE));
	CHECK_EQ(chk_in_use(d), base);
	CHECK_EQ(ccdma_unmap_chunks(d, &in, &out, CCDMA_BIDIRECTIONAL), 0);
	CHECK_EQ(ccdma_dev_destroy(d), 0);

	ccdma_dev_config_init(&cfg);
	cfg.flags = CCDMA_DEV_F_FORCE_BOUNCE;
	d = chk_dev_mode("forced", &cfg, CCDMA_MODE_DIRECT);
	CHECK_EQ(ccdma_map_chunks(d, &in, &out, CCDMA_BIDIRECTIONAL), 1);
	CHECK_EQ(out.seg[0].flags, CCDMA_SEG_BOUNCED);
	CHECK_EQ(out.seg[0].len, 3 * PAGE + 10);
	CHECK_EQ(ccdma_unmap_chunks(d, &in, &out, CCDMA_BIDIRECTIONAL), 0);
	CHECK_EQ(ccdma_dev_destroy(d), 0);
	free(buf);
}

int main(void)
{
	test_init();
	run(4096, 0xffff);
	run(4096, 0x1ff);   /* a boundary inside a page */
	run(65536, NOLINE); /* the defaults */
	run(1000, 0xfff);   /* a limit that is not a power of two */
	scattered();
	direct();
	return test_done("dma_chunks_split");
}
