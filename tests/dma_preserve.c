/* SPDX-License-Identifier: MIT */
/*
 * Linux's semantics for a short device write, on request: with
 * CCDMA_ATTR_PRESERVE (or a device made with CCDMA_DEV_F_PRESERVE) a
 * FROM_DEVICE mapping whose device writes only the first N bytes gives the
 * CPU the device's N bytes and the buffer's own old bytes after them (at
 * unmap and at sync_for_cpu), never zeros and never the secret an earlier
 * mapping left in the same bounce memory; the device sees the buffer's
 * bytes from the map on (the documented disclosure).  map_chunks too.
 * REPORTED_LEN keeps its own semantics under the device flag, and with
 * the attribute the map fails with -EINVAL; SKIP_CPU_SYNC copies nothing
 * and clears.  Without either, bytes the device did not write still read
 * back as zero (the default, tests/dma_partial_write.c).
 */
#include "dma_chk_util.h"

#define SECRET 0xa5
#define OLD 0xee
#define DEV 0x3c
#define MAX (1u << 17)

static unsigned char sec[MAX], rcv[MAX], seen[MAX];

static struct ccdma_dev *dev(const char *name, unsigned flags)
{
	struct ccdma_pool_config pc;
	struct ccdma_dev_config cfg;
	struct ccdma_dev *d;

	test_config(&pc, name);
	pc.initial_bytes = 4u << 20;
	pc.region_size = 4u << 20;
	ccdma_dev_config_init(&cfg);
	cfg.name = name;
	cfg.mode = CCDMA_MODE_CONFIDENTIAL;
	cfg.pool_cfg = &pc;
	cfg.flags = flags;
	REQUIRE(ccdma_dev_create(&cfg, &d) == 0);
	return d;
}

/* The device writes DEV into the first n bytes at dma. */
static void dev_write_head(struct ccdma_dev *d, ccdma_addr_t dma, size_t n)
{
	static unsigned char t[MAX];

	memset(t, DEV, n);
	if (n)
		CHECK_EQ(ccdma_dev_write(d, dma, t, n), 0);
}

/* A secret goes out TO_DEVICE through a bounce, then a buffer of `size`
 * comes back FROM_DEVICE with attrs and only n bytes written.  `rest` is
 * what the bytes after n must hold (OLD preserved, 0 cleared).  Returns
 * whether the second mapping reused the secret's bounce. */
static bool round_trip(struct ccdma_dev *d, size_t size, size_t n,
		       unsigned attrs, bool use_sync, unsigned char rest)
{
	ccdma_addr_t s, r;
	int b = test_failures;

	memset(sec, SECRET, size);
	s = ccdma_map_single(d, sec, size, CCDMA_TO_DEVICE);
	REQUIRE(ccdma_mapping_error(d, s) == 0);
	CHECK_EQ(ccdma_unmap_single(d, s, size, CCDMA_TO_DEVICE), 0);

	memset(rcv, OLD, size);
	r = ccdma_map_single_attrs(d, rcv, size, CCDMA_FROM_DEVICE, attrs);
	REQUIRE(ccdma_mapping_error(d, r) == 0);
	CHECK(r != (uintptr_t)rcv);
	/* What the device can read from the map on. */
	CHECK_EQ(ccdma_dev_read(d, r, seen, size), 0);
	CHECK_EQ(count_not(seen, 0, size, rest), 0);
	dev_write_head(d, r, n);
	if (use_sync) {
		CHECK_EQ(ccdma_sync_single_for_cpu(d, r, size, CCDMA_FROM_DEVICE), 0);
		CHECK_EQ(count_not(rcv, 0, n, DEV), 0);
		CHECK_EQ(count_not(rcv, n, size, rest), 0);
		CHECK_EQ(ccdma_sync_single_for_device(d, r, size, CCDMA_FROM_DEVICE), 0);
	}
	CHECK_EQ(ccdma_unmap_single(d, r, size, CCDMA_FROM_DEVICE), 0);
	CHECK_EQ(count_not(rcv, 0, n, DEV), 0);
	CHECK_EQ(count_not(rcv, n, size, rest), 0);
	if (test_failures != b)
		fprintf(stderr, "  (size %zu, device wrote %zu, attrs %#x, sync %d: "
			"%zu secret bytes after them)\n", size, n, attrs,
			(int)use_sync, size - n - count_not(rcv, n, size, SECRET));
	return r == s;
}

static void sizes(struct ccdma_dev *d, unsigned attrs, unsigned char rest)
{
	static const size_t sz[] = { 100, 2048, 4096, 5000, 40000, MAX };
	unsigned i, reused = 0;

	for (i = 0; i < sizeof(sz) / sizeof(sz[0]); i++) {
		reused += round_trip(d, sz[i], sz[i] / 3, attrs, false, rest);
		round_trip(d, sz[i], 0, attrs, false, rest);
		round_trip(d, sz[i], sz[i] / 2, attrs, true, rest);
	}
	/* Worth something only if slots the secret dirtied were reused. */
	CHECK(reused >= 2);
}

/* map_chunks: two private chunks with a gap, the device writes the first
 * 10 bytes of each segment's data. */
static void chunks(struct ccdma_dev *d, unsigned attrs, unsigned char rest)
{
	struct ccdma_chunk ch[4];
	struct ccdma_seg sg[8];
	struct ccdma_chunk_list in;
	struct ccdma_seg_list out;
	int rc;

	memset(rcv, OLD, 9000);
	ccdma_chunks_init(&in, ch, 4);
	CHECK_EQ(ccdma_chunks_add(&in, rcv, 3000, CCDMA_MEM_PRIVATE), 0);
	CHECK_EQ(ccdma_chunks_add(&in, rcv + 5000, 4000, CCDMA_MEM_PRIVATE), 0);
	memset(&out, 0, sizeof(out));
	out.seg = sg;
	out.cap = 8;
	rc = ccdma_map_chunks_attrs(d, &in, &out, CCDMA_FROM_DEVICE, attrs);
	REQUIRE(rc >= 1 && (uint32_t)rc == out.n);
	dev_write_head(d, out.seg[0].addr, 10);
	CHECK_EQ(ccdma_unmap_chunks(d, &in, &out, CCDMA_FROM_DEVICE), 0);
	CHECK_EQ(count_not(rcv, 0, 10, DEV), 0);
	CHECK_EQ(count_not(rcv, 10, 3000, rest), 0);
	CHECK_EQ(count_not(rcv, 3000, 5000, OLD), 0); /* not in the list */
	CHECK_EQ(count_not(rcv, 5000, 9000, rest), 0);
}

int main(void)
{
	struct ccdma_dev *d;
	ccdma_addr_t r;

	test_init();

	/* The attribute, on a default device. */
	d = dev("pres-attr", 0);
	sizes(d, CCDMA_ATTR_PRESERVE, OLD);
	chunks(d, CCDMA_ATTR_PRESERVE, OLD);
	/* The default is unchanged on the same device. */
	sizes(d, 0, 0);
	chunks(d, 0, 0);
	/* SKIP_CPU_SYNC: nothing copied in, the bounce is cleared. */
	memset(rcv, OLD, 4096);
	r = ccdma_map_single_attrs(d, rcv, 4096, CCDMA_FROM_DEVICE,
				   CCDMA_ATTR_PRESERVE | CCDMA_ATTR_SKIP_CPU_SYNC);
	REQUIRE(ccdma_mapping_error(d, r) == 0);
	CHECK_EQ(ccdma_dev_read(d, r, seen, 4096), 0);
	CHECK_EQ(count_not(seen, 0, 4096, 0), 0);
	CHECK_EQ(ccdma_unmap_single_attrs(d, r, 4096, CCDMA_FROM_DEVICE,
					  CCDMA_ATTR_SKIP_CPU_SYNC), 0);
	CHECK_EQ(count_not(rcv, 0, 4096, OLD), 0);
	/* PRESERVE with REPORTED_LEN: refused. */
	chk_log_catch();
	r = ccdma_map_single_attrs(d, rcv, 4096, CCDMA_FROM_DEVICE,
				   CCDMA_ATTR_PRESERVE | CCDMA_ATTR_REPORTED_LEN);
	CHECK_EQ(ccdma_mapping_error(d, r), -EINVAL);
	CHECK_EQ(chk_log.errors, 1);
	CHECK(strstr(chk_log.last, "with PRESERVE") != NULL);
	ccdma_log_set_handler(NULL, NULL);
	CHECK_EQ(ccdma_dev_destroy(d), 0);

	/* The device flag: every FROM_DEVICE mapping preserves... */
	d = dev("pres-flag", CCDMA_DEV_F_PRESERVE);
	sizes(d, 0, OLD);
	chunks(d, 0, OLD);
	/* ...except one with a reported length, which clears the rest and
	 * copies nothing in (the device never sees the buffer's bytes). */
	memset(rcv, 0x77, 4096);
	r = ccdma_map_single_attrs(d, rcv, 4096, CCDMA_FROM_DEVICE,
				   CCDMA_ATTR_REPORTED_LEN);
	REQUIRE(ccdma_mapping_error(d, r) == 0);
	CHECK_EQ(ccdma_dev_read(d, r, seen, 4096), 0);
	CHECK(count_not(seen, 0, 4096, 0x77) == 4096);
	dev_write_head(d, r, 100);
	CHECK_EQ(ccdma_unmap_single_written(d, r, 4096, CCDMA_FROM_DEVICE, 100), 0);
	CHECK_EQ(count_not(rcv, 0, 100, DEV), 0);
	CHECK_EQ(count_not(rcv, 100, 4096, 0), 0);
	CHECK_EQ(ccdma_dev_destroy(d), 0);

	return test_done("dma_preserve");
}
