/* SPDX-License-Identifier: MIT */
/*
 * Data through chunk lists, played by the device with ccdma_dev_read /
 * ccdma_dev_write: TO_DEVICE the device reads, segment by segment, exactly
 * the input's bytes in order; FROM_DEVICE what it writes lands in the
 * private chunks in order at unmap (not before); BIDIRECTIONAL both.  A
 * list may mix private (bounced), shared (coherent, in place) and device
 * chunks (bus address passed through, CCDMA_SEG_DEVICE; above the mask:
 * -EIO).  Sub-range syncs whose windows start and end inside chunks copy
 * exactly those bytes.  With min_align_mask 4095 every bounced chunk keeps
 * its low 12 address bits; with addr_align every bounced chunk starts
 * aligned.  SKIP_CPU_SYNC leaves copies to the caller's syncs, NO_BOUNCE
 * maps shared-only lists.  A strict IOMMU lets the device reach the
 * segments only while mapped.
 */
#include "dma_chk_util.h"

#define PAGE 4096 /* a device page (NVMe's 4 KiB), not the CPU page */
#define BUS 0x6000000000ull

static struct ccdma_seg segs[256];
static unsigned char got[1 << 16], want[1 << 16], pat[1 << 16];

static void fill(unsigned char *p, size_t n, uint64_t seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (unsigned char)(xorshift(&seed) >> 24);
}

/* The device reads every non-device segment in order into buf. */
static size_t dev_read_all(struct ccdma_dev *d, const struct ccdma_seg_list *out,
			   unsigned char *buf)
{
	size_t pos = 0;
	uint32_t i;

	for (i = 0; i < out->n; i++) {
		if (!(out->seg[i].flags & CCDMA_SEG_DEVICE))
			CHECK_EQ(ccdma_dev_read(d, out->seg[i].addr, buf + pos,
						out->seg[i].len), 0);
		pos += out->seg[i].len;
	}
	return pos;
}

static size_t dev_write_all(struct ccdma_dev *d, const struct ccdma_seg_list *out,
			    const unsigned char *buf)
{
	size_t pos = 0;
	uint32_t i;

	for (i = 0; i < out->n; i++) {
		if (!(out->seg[i].flags & CCDMA_SEG_DEVICE))
			CHECK_EQ(ccdma_dev_write(d, out->seg[i].addr, buf + pos,
						 out->seg[i].len), 0);
		pos += out->seg[i].len;
	}
	return pos;
}

/* The input's bytes in order (device chunks: left as they are in buf). */
static void gather(const struct ccdma_chunk_list *in, unsigned char *buf)
{
	size_t pos = 0;
	uint32_t i;

	for (i = 0; i < in->n; i++) {
		if (in->chunk[i].mem != CCDMA_MEM_DEVICE)
			memcpy(buf + pos, (void *)(uintptr_t)in->chunk[i].addr,
			       in->chunk[i].len);
		pos += in->chunk[i].len;
	}
}

/* Same bytes in every non-device chunk? */
static bool holds(const struct ccdma_chunk_list *in, const unsigned char *buf)
{
	size_t pos = 0;
	uint32_t i;

	for (i = 0; i < in->n; i++) {
		if (in->chunk[i].mem != CCDMA_MEM_DEVICE &&
		    memcmp((void *)(uintptr_t)in->chunk[i].addr, buf + pos,
			   in->chunk[i].len))
			return false;
		pos += in->chunk[i].len;
	}
	return true;
}

static uint64_t copied(struct ccdma_dev *d, bool to_device)
{
	struct ccdma_pool_stats st;

	REQUIRE(ccdma_pool_get_stats(ccdma_dev_pool(d), &st) == 0);
	return to_device ? st.bounced_to_device_bytes : st.bounced_from_device_bytes;
}

/* Directions over a list of private chunks, and over a mixed list. */
static void directions(void)
{
	struct ccdma_dev_config cfg;
	struct ccdma_chunk ch[8];
	struct ccdma_chunk_list in;
	struct ccdma_seg_list out;
	unsigned char *a = malloc(3000), *b = malloc(9000), *c = malloc(100);
	unsigned char *coh;
	ccdma_addr_t cdma;
	struct ccdma_dev *d;
	uint64_t base;
	size_t n;

	ccdma_dev_config_init(&cfg);
	cfg.max_seg_size = 4096;
	cfg.seg_boundary = 0xffff;
	d = chk_dev("data", &cfg);
	REQUIRE(a && b && c);
	base = chk_in_use(d);

	ccdma_chunks_init(&in, ch, 8);
	REQUIRE(ccdma_chunks_add(&in, b + 10, 7000, CCDMA_MEM_PRIVATE) == 0);
	REQUIRE(ccdma_chunks_add(&in, a, 3000, CCDMA_MEM_PRIVATE) == 0);
	REQUIRE(ccdma_chunks_add(&in, c + 1, 99, CCDMA_MEM_PRIVATE) == 0);
	n = (size_t)in.bytes;

	/* TO_DEVICE: the device reads the input's bytes in order. */
	fill(a, 3000, 1);
	fill(b, 9000, 2);
	fill(c, 100, 3);
	gather(&in, want);
	ccdma_segs_init(&out, segs, 256);
	CHECK(ccdma_map_chunks(d, &in, &out, CCDMA_TO_DEVICE) > 1);
	CHECK_EQ(dev_read_all(d, &out, got), n);
	CHECK(!memcmp(got, want, n));
	CHECK_EQ(ccdma_unmap_chunks(d, &in, &out, CCDMA_TO_DEVICE), 0);
	CHECK(holds(&in, want)); /* TO_DEVICE copies nothing back */

	/* FROM_DEVICE: the device's bytes reach memory at unmap, in order;
	 * the bounce starts clean (no bytes of the earlier mapping). */
	ccdma_segs_init(&out, segs, 256);
	CHECK(ccdma_map_chunks(d, &in, &out, CCDMA_FROM_DEVICE) > 1);
	CHECK_EQ(dev_read_all(d, &out, got), n);
	{
		size_t i, nz = 0;

		for (i = 0; i < n; i++)
			nz += got[i] != 0;
		CHECK_EQ(nz, 0);
	}
	fill(pat, n, 4);
	CHECK_EQ(dev_write_all(d, &out, pat), n);
	CHECK(holds(&in, want)); /* not before unmap */
	CHECK_EQ(ccdma_unmap_chunks(d, &in, &out, CCDMA_FROM_DEVICE), 0);
	CHECK(holds(&in, pat));
	/* Bytes around the chunks are untouched. */
	fill(want, 9000, 2);
	CHECK(!memcmp(b, want, 10));
	CHECK(!memcmp(b + 7010, want + 7010, 1990));

	/* BIDIRECTIONAL: both. */
	fill(a, 3000, 5);
	fill(b, 9000, 6);
	fill(c, 100, 7);
	gather(&in, want);
	fill(pat, n, 8);
	ccdma_segs_init(&out, segs, 256);
	CHECK(ccdma_map_chunks(d, &in, &out, CCDMA_BIDIRECTIONAL) > 1);
	dev_read_all(d, &out, got);
	CHECK(!memcmp(got, want, n));
	dev_write_all(d, &out, pat);
	CHECK_EQ(ccdma_unmap_chunks(d, &in, &out, CCDMA_BIDIRECTIONAL), 0);
	CHECK(holds(&in, pat));
	CHECK_EQ(chk_in_use(d), base);

	/* A mix: private, shared (coherent), device, private. */
	REQUIRE(ccdma_alloc_coherent(d, 8192, (void **)&coh, &cdma, 0) == 0);
	base = chk_in_use(d);
	ccdma_chunks_init(&in, ch, 8);
	REQUIRE(ccdma_chunks_add(&in, a + 5, 2000, CCDMA_MEM_PRIVATE) == 0);
	REQUIRE(ccdma_chunks_add(&in, coh + 3, 5000, CCDMA_MEM_SHARED) == 0);
	REQUIRE(ccdma_chunks_add_bus(&in, BUS + 7, 1000) == 0);
	REQUIRE(ccdma_chunks_add(&in, b, 4000, CCDMA_MEM_PRIVATE) == 0);
	n = (size_t)in.bytes;
	fill(a, 3000, 9);
	fill(coh, 8192, 10);
	fill(b, 9000, 11);
	memset(want, 0, n);
	gather(&in, want);
	for (int dir = CCDMA_BIDIRECTIONAL; dir <= CCDMA_FROM_DEVICE; dir++) {
		uint32_t i, ndev = 0;
		uint64_t pos = 0;

		ccdma_segs_init(&out, segs, 256);
		CHECK(ccdma_map_chunks(d, &in, &out, (enum ccdma_dir)dir) > 3);
		for (i = 0; i < out.n; i++) {
			const struct ccdma_seg *s = &out.seg[i];
			uint32_t want_flags = pos < 2000 ? CCDMA_SEG_BOUNCED :
				pos < 7000 ? CCDMA_SEG_SHARED :
				pos < 8000 ? CCDMA_SEG_DEVICE : CCDMA_SEG_BOUNCED;

			CHECK_EQ(s->flags, want_flags);
			if (pos == 2000)
				CHECK_EQ(s->addr, cdma + 3);
			if (s->flags & CCDMA_SEG_DEVICE) {
				CHECK_EQ(s->addr, BUS + 7 + (pos - 7000));
				ndev++;
			}
			pos += s->len;
		}
		CHECK_EQ(ndev, 1);
		if (dir != CCDMA_FROM_DEVICE) {
			memset(got, 0, n);
			dev_read_all(d, &out, got);
			CHECK(!memcmp(got, want, n));
		}
		if (dir != CCDMA_TO_DEVICE) {
			fill(pat, n, 12 + (uint64_t)dir);
			memset(pat + 7000, 0, 1000);
			dev_write_all(d, &out, pat);
			/* Coherent memory sees the device at once. */
			CHECK(!memcmp(coh + 3, pat + 2000, 5000));
			CHECK(!memcmp(a + 5, want, 2000));
		}
		CHECK_EQ(ccdma_unmap_chunks(d, &in, &out, (enum ccdma_dir)dir), 0);
		if (dir != CCDMA_TO_DEVICE) {
			CHECK(holds(&in, pat));
			gather(&in, want);
		} else {
			CHECK(holds(&in, want));
		}
		CHECK_EQ(chk_in_use(d), base);
	}
	CHECK_EQ(ccdma_free_coherent(d, 8192, coh, cdma), 0);
	CHECK_EQ(ccdma_dev_destroy(d), 0);

	/* Device memory above the mask: -EIO, nothing mapped. */
	ccdma_dev_config_init(&cfg);
	cfg.dma_mask = (1ull << 48) - 1;
	d = chk_dev("mask48", &cfg);
	base = chk_in_use(d);
	ccdma_chunks_init(&in, ch, 8);
	REQUIRE(ccdma_chunks_add(&in, a, 100, CCDMA_MEM_PRIVATE) == 0);
	REQUIRE(ccdma_chunks_add_bus(&in, (1ull << 48) - 4096, 4096) == 0);
	ccdma_segs_init(&out, segs, 256);
	CHECK_EQ(ccdma_map_chunks(d, &in, &out, CCDMA_TO_DEVICE), 2);
	CHECK_EQ(out.seg[1].addr, (1ull << 48) - 4096);
	CHECK_EQ(ccdma_unmap_chunks(d, &in, &out, CCDMA_TO_DEVICE), 0);
	REQUIRE(ccdma_chunks_add_bus(&in, 1ull << 50, 4096) == 0);
	chk_log_catch();
	CHECK_EQ(ccdma_map_chunks(d, &in, &out, CCDMA_TO_DEVICE), -EIO);
	CHECK_EQ(chk_log.errors, 1);
	CHECK(strstr(chk_log.last, "mask") != NULL);
	ccdma_log_set_handler(NULL, NULL);
	CHECK_EQ(out.n, 0);
	CHECK_EQ(chk_in_use(d), base);
	CHECK_EQ(ccdma_dev_destroy(d), 0);
	free(a);
	free(b);
	free(c);
}

/* Sub-range syncs copy exactly their window. */
static void windows(void)
{
	struct ccdma_dev_config cfg;
	struct ccdma_chunk ch[8];
	struct ccdma_chunk_list in;
	struct ccdma_seg_list out;
	unsigned char *a = malloc(1000), *b = malloc(3000), *c = malloc(2000);
	unsigned char mem0[6000];
	struct ccdma_dev *d;
	uint64_t to0, from0;

	ccdma_dev_config_init(&cfg);
	cfg.max_seg_size = 1024;
	cfg.seg_boundary = 0xfff;
	d = chk_dev("window", &cfg);
	REQUIRE(a && b && c);
	fill(a, 1000, 20);
	fill(b, 3000, 21);
	fill(c, 2000, 22);
	ccdma_chunks_init(&in, ch, 8);
	REQUIRE(ccdma_chunks_add(&in, a, 1000, CCDMA_MEM_PRIVATE) == 0);
	REQUIRE(ccdma_chunks_add(&in, b, 3000, CCDMA_MEM_PRIVATE) == 0);
	REQUIRE(ccdma_chunks_add(&in, c, 2000, CCDMA_MEM_PRIVATE) == 0);
	gather(&in, mem0);
	ccdma_segs_init(&out, segs, 256);
	CHECK(ccdma_map_chunks(d, &in, &out, CCDMA_BIDIRECTIONAL) >= 6);

	/* for_cpu over [500, 4500): the end of a, all of b, the start of c. */
	fill(pat, 6000, 23);
	dev_write_all(d, &out, pat);
	from0 = copied(d, false);
	CHECK_EQ(ccdma_sync_chunks_for_cpu(d, &in, &out, 500, 4000,
					   CCDMA_BIDIRECTIONAL), 0);
	CHECK_EQ(copied(d, false) - from0, 4000);
	memcpy(want, mem0, 6000);
	memcpy(want + 500, pat + 500, 4000);
	CHECK(holds(&in, want));

	/* for_device over [700, 3200): inside a to inside b. */
	fill(got, 6000, 24);
	memcpy(a, got, 1000);
	memcpy(b, got + 1000, 3000);
	memcpy(c, got + 4000, 2000);
	to0 = copied(d, true);
	CHECK_EQ(ccdma_sync_chunks_for_device(d, &in, &out, 700, 2500,
					      CCDMA_BIDIRECTIONAL), 0);
	CHECK_EQ(copied(d, true) - to0, 2500);
	memcpy(want, pat, 6000);
	memcpy(want + 700, got + 700, 2500);
	dev_read_all(d, &out, mem0);
	CHECK(!memcmp(mem0, want, 6000));

	/* One byte in the middle of a chunk, and "to the end". */
	pat[2222] ^= 0xff;
	pat[5990] ^= 0xff;
	dev_write_all(d, &out, pat);
	gather(&in, want);
	from0 = copied(d, false);
	CHECK_EQ(ccdma_sync_chunks_for_cpu(d, &in, &out, 2222, 1,
					   CCDMA_BIDIRECTIONAL), 0);
	CHECK_EQ(ccdma_sync_chunks_for_cpu(d, &in, &out, 5990, SIZE_MAX,
					   CCDMA_BIDIRECTIONAL), 0);
	CHECK_EQ(copied(d, false) - from0, 11);
	want[2222] = pat[2222];
	memcpy(want + 5990, pat + 5990, 10);
	CHECK(holds(&in, want));

	/* Windows outside the list or empty: -EINVAL, nothing copied. */
	from0 = copied(d, false);
	ccdma_log_set_handler(quiet_log, NULL);
	CHECK_EQ(ccdma_sync_chunks_for_cpu(d, &in, &out, 6000, 1,
					   CCDMA_BIDIRECTIONAL), -EINVAL);
	CHECK_EQ(ccdma_sync_chunks_for_cpu(d, &in, &out, 5000, 1001,
					   CCDMA_BIDIRECTIONAL), -EINVAL);
	CHECK_EQ(ccdma_sync_chunks_for_cpu(d, &in, &out, 10, 0,
					   CCDMA_BIDIRECTIONAL), -EINVAL);
	CHECK_EQ(ccdma_sync_chunks_for_device(d, &in, &out, SIZE_MAX, 1,
					      CCDMA_BIDIRECTIONAL), -EINVAL);
	ccdma_log_set_handler(NULL, NULL);
	CHECK_EQ(copied(d, false) - from0, 0);

	CHECK_EQ(ccdma_unmap_chunks(d, &in, &out, CCDMA_BIDIRECTIONAL), 0);
	CHECK(holds(&in, pat));
	/* After unmap the list is no mapping to sync. */
	ccdma_log_set_handler(quiet_log, NULL);
	CHECK_EQ(ccdma_sync_chunks_for_cpu(d, &in, &out, 0, 1,
					   CCDMA_BIDIRECTIONAL), -EINVAL);
	ccdma_log_set_handler(NULL, NULL);

	/* TO_DEVICE: for_cpu copies nothing; FROM_DEVICE: for_device nothing. */
	ccdma_segs_init(&out, segs, 256);
	CHECK(ccdma_map_chunks(d, &in, &out, CCDMA_TO_DEVICE) > 0);
	from0 = copied(d, false);
	CHECK_EQ(ccdma_sync_chunks_for_cpu(d, &in, &out, 0, SIZE_MAX,
					   CCDMA_TO_DEVICE), 0);
	CHECK_EQ(copied(d, false), from0);
	CHECK_EQ(ccdma_unmap_chunks(d, &in, &out, CCDMA_TO_DEVICE), 0);
	CHECK(ccdma_map_chunks(d, &in, &out, CCDMA_FROM_DEVICE) > 0);
	to0 = copied(d, true);
	CHECK_EQ(ccdma_sync_chunks_for_device(d, &in, &out, 0, SIZE_MAX,
					      CCDMA_FROM_DEVICE), 0);
	CHECK_EQ(copied(d, true), to0);
	CHECK_EQ(ccdma_unmap_chunks(d, &in, &out, CCDMA_FROM_DEVICE), 0);
	CHECK_EQ(ccdma_dev_destroy(d), 0);
	free(a);
	free(b);
	free(c);
}

/* min_align_mask 4095: each bounced chunk keeps its low 12 bits. */
static void min_align(void)
{
	static const struct { uint32_t off, len; } shape[] = {
		{ 0x123, 0x300 }, { 0x800, 0x1000 }, { 0xff0, 0x20 },
		{ 0, 100 }, { 0x7ff, 0x2345 },
	};
	const unsigned nshape = sizeof(shape) / sizeof(shape[0]);
	struct ccdma_dev_config cfg;
	struct ccdma_chunk ch[8];
	struct ccdma_chunk_list in;
	struct ccdma_seg_list out;
	unsigned char *buf = aligned_alloc(PAGE, 32 * PAGE);
	struct ccdma_dev *d;
	unsigned i;

	REQUIRE(buf);
	ccdma_dev_config_init(&cfg);
	cfg.min_align_mask = 4095;
	cfg.max_seg_size = 4096;
	d = chk_dev("nvme", &cfg);
	fill(buf, 32 * PAGE, 30);
	ccdma_chunks_init(&in, ch, 8);
	for (i = 0; i < nshape; i++)
		REQUIRE(ccdma_chunks_add(&in, buf + 5 * i * PAGE + shape[i].off,
					 shape[i].len, CCDMA_MEM_PRIVATE) == 0);
	CHECK_EQ(in.n, nshape);
	gather(&in, want);
	for (int dir = CCDMA_BIDIRECTIONAL; dir <= CCDMA_FROM_DEVICE; dir++) {
		uint32_t si = 0;

		ccdma_segs_init(&out, segs, 256);
		CHECK(ccdma_map_chunks(d, &in, &out, (enum ccdma_dir)dir) > 0);
		/* The segment that starts each chunk. */
		for (i = 0; i < nshape; i++) {
			uint64_t left = shape[i].len;

			CHECK(si < out.n);
			if (si >= out.n)
				break;
			CHECK_EQ(out.seg[si].flags, CCDMA_SEG_BOUNCED);
			CHECK_EQ(out.seg[si].addr & 4095, shape[i].off);
			while (left && si < out.n) {
				CHECK(out.seg[si].len <= left);
				CHECK(out.seg[si].len <= 4096);
				left -= out.seg[si].len;
				si++;
			}
		}
		CHECK_EQ(si, out.n);
		if (dir != CCDMA_FROM_DEVICE) {
			dev_read_all(d, &out, got);
			CHECK(!memcmp(got, want, (size_t)in.bytes));
		} else {
			fill(pat, (size_t)in.bytes, 31);
			dev_write_all(d, &out, pat);
		}
		CHECK_EQ(ccdma_unmap_chunks(d, &in, &out, (enum ccdma_dir)dir), 0);
		if (dir == CCDMA_FROM_DEVICE)
			CHECK(holds(&in, pat));
	}
	CHECK_EQ(ccdma_dev_destroy(d), 0);
	free(buf);
}

/* A strict IOMMU: the segments are reachable only while mapped. */
static void strict(void)
{
	struct ccdma_dev_config cfg;
	struct ccdma_chunk ch[8];
	struct ccdma_chunk_list in;
	struct ccdma_seg_list out;
	unsigned char *a = malloc(5000), *coh;
	ccdma_addr_t cdma;
	struct ccdma_dev *d;
	uint32_t i;

	REQUIRE(a);
	ccdma_dev_config_init(&cfg);
	cfg.xlate.kind = CCDMA_XLATE_IOMMU;
	cfg.xlate.iommu = CCDMA_IOMMU_STRICT;
	d = chk_dev("strict", &cfg);
	REQUIRE(ccdma_alloc_coherent(d, 4096, (void **)&coh, &cdma, 0) == 0);
	fill(a, 5000, 40);
	ccdma_chunks_init(&in, ch, 8);
	REQUIRE(ccdma_chunks_add(&in, a, 5000, CCDMA_MEM_PRIVATE) == 0);
	REQUIRE(ccdma_chunks_add(&in, coh, 4096, CCDMA_MEM_SHARED) == 0);
	gather(&in, want);
	ccdma_segs_init(&out, segs, 256);
	CHECK(ccdma_map_chunks(d, &in, &out, CCDMA_TO_DEVICE) >= 2);
	dev_read_all(d, &out, got);
	CHECK(!memcmp(got, want, 9096));
	/* TO_DEVICE: the device may not write the bounce. */
	for (i = 0; i < out.n; i++)
		if (out.seg[i].flags & CCDMA_SEG_BOUNCED)
			CHECK_EQ(ccdma_dev_write(d, out.seg[i].addr, got, 1), -EFAULT);
	CHECK_EQ(ccdma_unmap_chunks(d, &in, &out, CCDMA_TO_DEVICE), 0);
	/* Gone from the I/O page table (coherent memory stays mapped). */
	for (i = 0; i < out.n; i++) {
		if (out.seg[i].flags & CCDMA_SEG_BOUNCED)
			CHECK_EQ(ccdma_dev_read(d, out.seg[i].addr, got, 1), -EFAULT);
		else
			CHECK_EQ(ccdma_dev_read(d, out.seg[i].addr, got, 1), 0);
	}
	CHECK_EQ(ccdma_free_coherent(d, 4096, coh, cdma), 0);
	CHECK_EQ(ccdma_dev_read(d, cdma, got, 1), -EFAULT);
	CHECK_EQ(ccdma_dev_destroy(d), 0);
	free(a);
}

/* addr_align: every bounced chunk starts aligned; shared memory that is
 * not aligned is bounced too, aligned shared memory is not. */
static void addr_align(void)
{
	struct ccdma_dev_config cfg;
	struct ccdma_chunk ch[8];
	struct ccdma_chunk_list in;
	struct ccdma_seg_list out;
	unsigned char *a = malloc(4000), *coh;
	static const uint32_t want_flags[4] = {
		CCDMA_SEG_BOUNCED, CCDMA_SEG_BOUNCED, CCDMA_SEG_SHARED,
		CCDMA_SEG_BOUNCED,
	};
	ccdma_addr_t cdma;
	struct ccdma_dev *d;
	uint32_t i, si;

	REQUIRE(a);
	ccdma_dev_config_init(&cfg);
	cfg.addr_align = 512;
	d = chk_dev("align", &cfg);
	REQUIRE(ccdma_alloc_coherent(d, 4096, (void **)&coh, &cdma, 0) == 0);
	CHECK_EQ(cdma & 511, 0);
	fill(a, 4000, 50);
	fill(coh, 4096, 51);
	ccdma_chunks_init(&in, ch, 8);
	REQUIRE(ccdma_chunks_add(&in, a + 3, 1000, CCDMA_MEM_PRIVATE) == 0);
	REQUIRE(ccdma_chunks_add(&in, coh + 3, 500, CCDMA_MEM_SHARED) == 0);
	REQUIRE(ccdma_chunks_add(&in, coh + 1024, 700, CCDMA_MEM_SHARED) == 0);
	REQUIRE(ccdma_chunks_add(&in, a + 2001, 77, CCDMA_MEM_PRIVATE) == 0);
	gather(&in, want);
	ccdma_segs_init(&out, segs, 256);
	CHECK(ccdma_map_chunks(d, &in, &out, CCDMA_BIDIRECTIONAL) >= 4);
	for (i = 0, si = 0; i < 4 && si < out.n; i++) {
		uint64_t left = ch[i].len;

		CHECK_EQ(out.seg[si].addr & 511, 0);
		CHECK_EQ(out.seg[si].flags, want_flags[i]);
		if (i == 2)
			CHECK_EQ(out.seg[si].addr, cdma + 1024);
		while (left && si < out.n)
			left -= out.seg[si++].len;
	}
	CHECK_EQ(i, 4);
	CHECK_EQ(si, out.n);
	dev_read_all(d, &out, got);
	CHECK(!memcmp(got, want, (size_t)in.bytes));
	fill(pat, (size_t)in.bytes, 52);
	dev_write_all(d, &out, pat);
	CHECK_EQ(ccdma_unmap_chunks(d, &in, &out, CCDMA_BIDIRECTIONAL), 0);
	CHECK(holds(&in, pat));
	CHECK_EQ(ccdma_free_coherent(d, 4096, coh, cdma), 0);
	CHECK_EQ(ccdma_dev_destroy(d), 0);
	free(a);
}

/* Attributes: SKIP_CPU_SYNC leaves the copies to the caller's syncs (and
 * the bounce holds no stale bytes); NO_BOUNCE maps shared-only lists. */
static void attrs(void)
{
	struct ccdma_chunk ch[8];
	struct ccdma_chunk_list in;
	struct ccdma_seg_list out;
	unsigned char *a = malloc(3000), *coh;
	ccdma_addr_t cdma;
	struct ccdma_dev *d = chk_dev("attrs", NULL);
	size_t i, nz;

	REQUIRE(a);
	REQUIRE(ccdma_alloc_coherent(d, 2048, (void **)&coh, &cdma, 0) == 0);
	/* Leave stale bytes in the pool first. */
	ccdma_chunks_init(&in, ch, 8);
	REQUIRE(ccdma_chunks_add(&in, a, 3000, CCDMA_MEM_PRIVATE) == 0);
	memset(a, 0xee, 3000);
	ccdma_segs_init(&out, segs, 256);
	CHECK(ccdma_map_chunks(d, &in, &out, CCDMA_TO_DEVICE) > 0);
	CHECK_EQ(ccdma_unmap_chunks(d, &in, &out, CCDMA_TO_DEVICE), 0);

	fill(a, 3000, 60);
	memcpy(want, a, 3000);
	CHECK(ccdma_map_chunks_attrs(d, &in, &out, CCDMA_BIDIRECTIONAL,
				     CCDMA_ATTR_SKIP_CPU_SYNC) > 0);
	dev_read_all(d, &out, got);
	for (i = 0, nz = 0; i < 3000; i++)
		nz += got[i] != 0;
	CHECK_EQ(nz, 0); /* neither the CPU's bytes nor stale ones */
	CHECK_EQ(ccdma_sync_chunks_for_device(d, &in, &out, 0, SIZE_MAX,
					      CCDMA_BIDIRECTIONAL), 0);
	dev_read_all(d, &out, got);
	CHECK(!memcmp(got, want, 3000));
	fill(pat, 3000, 61);
	dev_write_all(d, &out, pat);
	CHECK_EQ(ccdma_unmap_chunks_attrs(d, &in, &out, CCDMA_BIDIRECTIONAL,
					  CCDMA_ATTR_SKIP_CPU_SYNC), 0);
	CHECK(!memcmp(a, want, 3000)); /* nothing copied back */

	/* TO_DEVICE with SKIP_CPU_SYNC: the device sees no CPU bytes until
	 * a sync for the device. */
	CHECK(ccdma_map_chunks_attrs(d, &in, &out, CCDMA_TO_DEVICE,
				     CCDMA_ATTR_SKIP_CPU_SYNC) > 0);
	CHECK_EQ(ccdma_sync_chunks_for_device(d, &in, &out, 1000, 10,
					      CCDMA_TO_DEVICE), 0);
	dev_read_all(d, &out, got);
	CHECK(!memcmp(got + 1000, want + 1000, 10));
	CHECK_EQ(ccdma_unmap_chunks(d, &in, &out, CCDMA_TO_DEVICE), 0);

	/* NO_BOUNCE: shared memory only maps; private is -EIO. */
	ccdma_chunks_init(&in, ch, 8);
	REQUIRE(ccdma_chunks_add(&in, coh, 1000, CCDMA_MEM_SHARED) == 0);
	REQUIRE(ccdma_chunks_add(&in, coh + 1500, 500, CCDMA_MEM_SHARED) == 0);
	CHECK_EQ(ccdma_map_chunks_attrs(d, &in, &out, CCDMA_FROM_DEVICE,
					CCDMA_ATTR_NO_BOUNCE), 2);
	CHECK_EQ(out.seg[1].addr, cdma + 1500);
	CHECK_EQ(ccdma_unmap_chunks(d, &in, &out, CCDMA_FROM_DEVICE), 0);
	REQUIRE(ccdma_chunks_add(&in, a, 10, CCDMA_MEM_PRIVATE) == 0);
	ccdma_log_set_handler(quiet_log, NULL);
	CHECK_EQ(ccdma_map_chunks_attrs(d, &in, &out, CCDMA_FROM_DEVICE,
					CCDMA_ATTR_NO_BOUNCE), -EIO);
	CHECK_EQ(ccdma_map_chunks_attrs(d, &in, &out, CCDMA_FROM_DEVICE,
					1u << 7), -EINVAL);
	CHECK_EQ(ccdma_map_chunks(d, &in, &out, (enum ccdma_dir)3), -EINVAL);
	ccdma_log_set_handler(NULL, NULL);
	CHECK_EQ(out.n, 0);
	CHECK_EQ(ccdma_free_coherent(d, 2048, coh, cdma), 0);
	CHECK_EQ(ccdma_dev_destroy(d), 0);
	free(a);
}

int main(void)
{
	test_init();
	directions();
	windows();
	min_align();
	strict();
	addr_align();
	attrs();
	return test_done("dma_chunks_data");
}
