/* SPDX-License-Identifier: MIT */
/*
 * Partial syncs of a bounced mapping: sync_single_range_for_cpu copies
 * exactly the window's bytes from the bounce (for FROM_DEVICE and
 * BIDIRECTIONAL mappings), windows starting and ending mid-page, nothing
 * around them; sync_for_device copies exactly the window's CPU bytes into
 * the bounce (TO_DEVICE and BIDIRECTIONAL); the direction that does not
 * apply copies nothing; a window outside the mapping is -EINVAL and copies
 * nothing.
 */
#include "test.h"

#include <ccdma/dma.h>

#define LEN (3 * 4096 + 100)

static struct ccdma_dev *d;

static void copies(uint64_t *to, uint64_t *from)
{
	struct ccdma_pool_stats st;

	CHECK_EQ(ccdma_pool_get_stats(ccdma_dev_pool(d), &st), 0);
	*to = st.bounced_to_device_bytes;
	*from = st.bounced_from_device_bytes;
}

/* buf[lo, hi) == v */
static bool all(const unsigned char *b, size_t lo, size_t hi, unsigned char v)
{
	size_t i;

	for (i = lo; i < hi; i++)
		if (b[i] != v)
			return false;
	return true;
}

/* The device writes v into [off, off+n) of the mapping. */
static void dev_fill(ccdma_addr_t dma, size_t off, size_t n, unsigned char v)
{
	unsigned char *t = malloc(n);

	REQUIRE(t);
	memset(t, v, n);
	CHECK_EQ(ccdma_dev_write(d, dma + off, t, n), 0);
	free(t);
}

/* What the device reads at [off, off+n) is all v. */
static bool dev_all(ccdma_addr_t dma, size_t off, size_t n, unsigned char v)
{
	unsigned char *t = malloc(n);
	bool ok;

	REQUIRE(t);
	ok = ccdma_dev_read(d, dma + off, t, n) == 0 && all(t, 0, n, v);
	free(t);
	return ok;
}

/* A device-to-memory (or bidirectional) mapping synced to the CPU in
 * windows. */
static void for_cpu(enum ccdma_dir dir, unsigned char *buf)
{
	uint64_t to0, from0, to1, from1;
	ccdma_addr_t dma;

	memset(buf, 0xaa, LEN);
	dma = ccdma_map_single(d, buf, LEN, dir);
	REQUIRE(ccdma_mapping_error(d, dma) == 0);
	CHECK(dma != (uintptr_t)buf);
	dev_fill(dma, 0, LEN, 0x11);
	dev_fill(dma, 100, 4900, 0x22);  /* [100, 5000) across a page */
	dev_fill(dma, 8000, 192, 0x33);  /* [8000, 8192) ends on a page */
	dev_fill(dma, 12000, LEN - 12000, 0x44); /* to the end */
	copies(&to0, &from0);
	CHECK(all(buf, 0, LEN, 0xaa)); /* nothing reaches the CPU yet */

	/* [150, 4150): inside the 0x22 run, mid-page both ends. */
	CHECK_EQ(ccdma_sync_single_range_for_cpu(d, dma, 150, 4000, dir), 0);
	CHECK(all(buf, 0, 150, 0xaa));
	CHECK(all(buf, 150, 4150, 0x22));
	CHECK(all(buf, 4150, LEN, 0xaa));
	copies(&to1, &from1);
	CHECK_EQ(from1 - from0, 4000);
	CHECK_EQ(to1 - to0, 0);

	/* [7990, 8200): straddles the 0x33 run and a page boundary. */
	CHECK_EQ(ccdma_sync_single_range_for_cpu(d, dma, 7990, 210, dir), 0);
	CHECK(all(buf, 4150, 7990, 0xaa));
	CHECK(all(buf, 7990, 8000, 0x11));
	CHECK(all(buf, 8000, 8192, 0x33));
	CHECK(all(buf, 8192, 8200, 0x11));
	CHECK(all(buf, 8200, LEN, 0xaa));

	/* The last byte alone, then the tail. */
	CHECK_EQ(ccdma_sync_single_range_for_cpu(d, dma, LEN - 1, 1, dir), 0);
	CHECK(buf[LEN - 1] == 0x44);
	CHECK(all(buf, 8200, LEN - 1, 0xaa));
	CHECK_EQ(ccdma_sync_single_range_for_cpu(d, dma, 12000, LEN - 12000, dir), 0);
	CHECK(all(buf, 8200, 12000, 0xaa));
	CHECK(all(buf, 12000, LEN, 0x44));
	copies(&to1, &from1);
	CHECK_EQ(from1 - from0, 4000 + 210 + 1 + (LEN - 12000));

	/* Windows not inside the mapping: refused, nothing copied. */
	dev_fill(dma, 0, LEN, 0x55);
	CHECK_EQ(ccdma_sync_single_range_for_cpu(d, dma, LEN - 10, 20, dir), -EINVAL);
	CHECK_EQ(ccdma_sync_single_range_for_cpu(d, dma, LEN, 1, dir), -EINVAL);
	CHECK_EQ(ccdma_sync_single_range_for_cpu(d, dma, 0, LEN + 1, dir), -EINVAL);
	CHECK_EQ(ccdma_sync_single_range_for_cpu(d, dma, 1, LEN, dir), -EINVAL);
	CHECK_EQ(ccdma_sync_single_range_for_cpu(d, dma, SIZE_MAX, 2, dir), -EINVAL);
	CHECK_EQ(ccdma_sync_single_range_for_cpu(d, dma, 10, 0, dir), -EINVAL);
	CHECK_EQ(ccdma_sync_single_range_for_device(d, dma, LEN - 10, 20, dir), -EINVAL);
	CHECK(all(buf, 0, 150, 0xaa));
	CHECK(all(buf, 12000, LEN, 0x44));
	copies(&to0, &from0);
	CHECK_EQ(from0 - from1, 0);
	CHECK_EQ(to0 - to1, 0);

	/* The full sync, then unmap copies everything once more. */
	CHECK_EQ(ccdma_sync_single_for_cpu(d, dma, LEN, dir), 0);
	CHECK(all(buf, 0, LEN, 0x55));
	dev_fill(dma, 0, LEN, 0x66);
	CHECK_EQ(ccdma_unmap_single(d, dma, LEN, dir), 0);
	CHECK(all(buf, 0, LEN, 0x66));
}

/* Memory-to-device (or bidirectional): CPU changes pushed in windows. */
static void for_device(enum ccdma_dir dir, unsigned char *buf)
{
	uint64_t to0, from0, to1, from1;
	ccdma_addr_t dma;

	memset(buf, 0x10, LEN);
	dma = ccdma_map_single(d, buf, LEN, dir);
	REQUIRE(ccdma_mapping_error(d, dma) == 0);
	CHECK(dev_all(dma, 0, LEN, 0x10));
	copies(&to0, &from0);

	/* [5000, 9000) mid-page both ends. */
	memset(buf, 0x20, LEN);
	CHECK_EQ(ccdma_sync_single_range_for_device(d, dma, 5000, 4000, dir), 0);
	CHECK(dev_all(dma, 0, 5000, 0x10));
	CHECK(dev_all(dma, 5000, 4000, 0x20));
	CHECK(dev_all(dma, 9000, LEN - 9000, 0x10));
	copies(&to1, &from1);
	CHECK_EQ(to1 - to0, 4000);
	CHECK_EQ(from1 - from0, 0);

	/* First byte, and [4095, 4097) across a page boundary. */
	CHECK_EQ(ccdma_sync_single_range_for_device(d, dma, 0, 1, dir), 0);
	CHECK_EQ(ccdma_sync_single_range_for_device(d, dma, 4095, 2, dir), 0);
	CHECK(dev_all(dma, 0, 1, 0x20));
	CHECK(dev_all(dma, 1, 4094, 0x10));
	CHECK(dev_all(dma, 4095, 2, 0x20));
	CHECK(dev_all(dma, 4097, 5000 - 4097, 0x10));
	CHECK(dev_all(dma, 9000, LEN - 9000, 0x10));

	/* Out of the mapping: refused, the bounce keeps its bytes. */
	memset(buf, 0x30, LEN);
	CHECK_EQ(ccdma_sync_single_range_for_device(d, dma, 9000, LEN, dir), -EINVAL);
	CHECK_EQ(ccdma_sync_single_range_for_device(d, dma, LEN, 1, dir), -EINVAL);
	CHECK(dev_all(dma, 9000, LEN - 9000, 0x10));

	CHECK_EQ(ccdma_sync_single_for_device(d, dma, LEN, dir), 0);
	CHECK(dev_all(dma, 0, LEN, 0x30));
	CHECK_EQ(ccdma_unmap_single(d, dma, LEN, dir), 0);
	if (dir == CCDMA_TO_DEVICE)
		CHECK(all(buf, 0, LEN, 0x30));
}

int main(void)
{
	struct ccdma_pool_config pc;
	struct ccdma_dev_config cfg;
	uint64_t to0, from0, to1, from1;
	unsigned char *buf;
	ccdma_addr_t dma;

	test_init();
	ccdma_log_set_handler(quiet_log, NULL);
	test_config(&pc, "sync");
	pc.initial_bytes = 2u << 20;
	ccdma_dev_config_init(&cfg);
	cfg.name = "sync";
	cfg.mode = CCDMA_MODE_CONFIDENTIAL;
	cfg.pool_cfg = &pc;
	REQUIRE(ccdma_dev_create(&cfg, &d) == 0);
	buf = malloc(LEN);
	REQUIRE(buf);

	for_cpu(CCDMA_FROM_DEVICE, buf);
	for_cpu(CCDMA_BIDIRECTIONAL, buf);
	for_device(CCDMA_TO_DEVICE, buf);
	for_device(CCDMA_BIDIRECTIONAL, buf);

	/* A FROM_DEVICE mapping: sync_for_device pushes nothing (the device
	 * keeps what it wrote, the CPU's bytes do not leak in). */
	memset(buf, 0x77, LEN);
	dma = ccdma_map_single(d, buf, LEN, CCDMA_FROM_DEVICE);
	REQUIRE(ccdma_mapping_error(d, dma) == 0);
	CHECK(dev_all(dma, 0, LEN, 0));
	dev_fill(dma, 0, 2000, 0x88);
	copies(&to0, &from0);
	CHECK_EQ(ccdma_sync_single_range_for_device(d, dma, 1000, 3000,
						    CCDMA_FROM_DEVICE), 0);
	CHECK(dev_all(dma, 0, 2000, 0x88));
	CHECK(dev_all(dma, 2000, LEN - 2000, 0));
	copies(&to1, &from1);
	CHECK_EQ(to1 - to0, 0);
	CHECK_EQ(ccdma_unmap_single(d, dma, LEN, CCDMA_FROM_DEVICE), 0);
	CHECK(all(buf, 0, 2000, 0x88));
	CHECK(all(buf, 2000, LEN, 0));

	/* A TO_DEVICE mapping: sync_for_cpu brings nothing back. */
	memset(buf, 0x99, LEN);
	dma = ccdma_map_single(d, buf, LEN, CCDMA_TO_DEVICE);
	REQUIRE(ccdma_mapping_error(d, dma) == 0);
	dev_fill(dma, 0, LEN, 0xee);
	copies(&to0, &from0);
	CHECK_EQ(ccdma_sync_single_range_for_cpu(d, dma, 100, 5000, CCDMA_TO_DEVICE), 0);
	CHECK(all(buf, 0, LEN, 0x99));
	copies(&to1, &from1);
	CHECK_EQ(from1 - from0, 0);
	CHECK_EQ(ccdma_unmap_single(d, dma, LEN, CCDMA_TO_DEVICE), 0);
	CHECK(all(buf, 0, LEN, 0x99));

	/* After unmap no window of it is a live mapping. */
	CHECK_EQ(ccdma_sync_single_for_cpu(d, dma, LEN, CCDMA_TO_DEVICE), -EINVAL);
	CHECK_EQ(ccdma_sync_single_range_for_device(d, dma, 10, 10,
						    CCDMA_TO_DEVICE), -EINVAL);
	CHECK(all(buf, 0, LEN, 0x99));

	free(buf);
	CHECK_EQ(ccdma_dev_destroy(d), 0);
	ccdma_log_set_handler(NULL, NULL);
	return test_done("dma_sync_range");
}
