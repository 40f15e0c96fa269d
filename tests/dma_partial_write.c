/* SPDX-License-Identifier: MIT */
/*
 * No stale data (CVE-2022-0854): a device-to-memory mapping whose device
 * writes only the first N bytes gives the CPU zeros after them (at unmap
 * and at sync_for_cpu), never the secret an earlier TO_DEVICE mapping left
 * in the same bounce memory, nor the buffer's old bytes; for small slots
 * and large (> 32 KiB) allocations, dense and page-isolated pools, and with
 * an NVMe-style min_align_mask.
 */
#include "test.h"

#include <ccdma/dma.h>

#define SECRET 0xa5
#define OLD 0xee
#define DEV 0x3c

static uint64_t zeroed(struct ccdma_dev *d)
{
	struct ccdma_pool_stats st;

	CHECK_EQ(ccdma_pool_get_stats(ccdma_dev_pool(d), &st), 0);
	return st.zeroed_bytes;
}

static unsigned char *page_up(unsigned char *p)
{
	return (unsigned char *)(((uintptr_t)p + 4095) & ~(uintptr_t)4095);
}

/* The device writes DEV into the first n bytes. */
static void dev_write_head(struct ccdma_dev *d, ccdma_addr_t dma, size_t n)
{
	unsigned char *t;

	if (!n)
		return;
	t = malloc(n);
	REQUIRE(t);
	memset(t, DEV, n);
	CHECK_EQ(ccdma_dev_write(d, dma, t, n), 0);
	free(t);
}

/*
 * One round: a secret goes out TO_DEVICE through a bounce, then a buffer
 * of the same size comes back FROM_DEVICE (or BIDIRECTIONAL with
 * SKIP_CPU_SYNC) with only n bytes written.  Returns true when the second
 * mapping reused the secret's bounce memory.
 */
static bool round_trip(struct ccdma_dev *d, unsigned char *sec,
		       unsigned char *rcv, size_t size, size_t n,
		       enum ccdma_dir dir, unsigned attrs, bool use_sync)
{
	ccdma_addr_t s, r;
	uint64_t z0;

	memset(sec, SECRET, size);
	s = ccdma_map_single(d, sec, size, CCDMA_TO_DEVICE);
	REQUIRE(ccdma_mapping_error(d, s) == 0);
	CHECK_EQ(ccdma_unmap_single(d, s, size, CCDMA_TO_DEVICE), 0);

	memset(rcv, OLD, size);
	z0 = zeroed(d);
	r = ccdma_map_single_attrs(d, rcv, size, dir, attrs);
	REQUIRE(ccdma_mapping_error(d, r) == 0);
	CHECK(r != (uintptr_t)rcv);
	if (r == s)
		CHECK(zeroed(d) > z0); /* the dirty slot was cleaned */
	dev_write_head(d, r, n);
	if (use_sync) {
		CHECK_EQ(ccdma_sync_single_for_cpu(d, r, size, dir), 0);
		CHECK_EQ(count_not(rcv, 0, n, DEV), 0);
		CHECK_EQ(count_not(rcv, n, size, 0), 0);
		/* The device goes on, and writes a little more. */
		CHECK_EQ(ccdma_sync_single_for_device(d, r, size, dir), 0);
		if (n + 10 <= size) {
			n += 10;
			dev_write_head(d, r, n);
		}
	}
	/* Unmap copies back (whatever the map skipped). */
	CHECK_EQ(ccdma_unmap_single(d, r, size, dir), 0);
	if (count_not(rcv, 0, n, DEV) || count_not(rcv, n, size, 0)) {
		fprintf(stderr, "size %zu, device wrote %zu, dir %d attrs %#x sync %d: "
			"%zu bytes not the device's, %zu stale bytes after them "
			"(%zu secret)\n", size, n, (int)dir, attrs, (int)use_sync,
			count_not(rcv, 0, n, DEV), count_not(rcv, n, size, 0),
			size - n - count_not(rcv, n, size, SECRET));
		test_failures++;
	}
	return r == s;
}

static void run(const char *name, enum ccdma_isolation iso, uint64_t min_align)
{
	static const size_t sizes[] = {
		100, 256, 700, 2048, 4000, 4096, 5000, 16384, 32768,
		32769, 40000, 65536, 300000, 1u << 20
	};
	struct ccdma_pool_config pc;
	struct ccdma_dev_config cfg;
	struct ccdma_dev *d;
	unsigned char *sec_mem, *rcv_mem;
	unsigned i, reused = 0, small = 0;
	size_t skew = min_align ? 0x123 : 0;

	test_config(&pc, name);
	pc.initial_bytes = 4u << 20;
	pc.region_size = 4u << 20;
	pc.isolation = iso;
	ccdma_dev_config_init(&cfg);
	cfg.name = name;
	cfg.mode = CCDMA_MODE_CONFIDENTIAL;
	cfg.pool_cfg = &pc;
	cfg.min_align_mask = min_align;
	REQUIRE(ccdma_dev_create(&cfg, &d) == 0);
	sec_mem = malloc((1u << 20) + 8192);
	rcv_mem = malloc((1u << 20) + 8192);
	REQUIRE(sec_mem && rcv_mem);

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t size = sizes[i];
		unsigned char *sec = sec_mem + skew, *rcv = rcv_mem + skew;

		/* Same low bits for both, so that with min_align_mask they
		 * take the same slot offset. */
		if (min_align) {
			sec = page_up(sec_mem) + skew;
			rcv = page_up(rcv_mem) + skew;
		}
		small += size <= CCDMA_POOL_SMALL_MAX;
		reused += round_trip(d, sec, rcv, size, size / 3, CCDMA_FROM_DEVICE,
				     0, false);
		round_trip(d, sec, rcv, size, 0, CCDMA_FROM_DEVICE, 0, false);
		round_trip(d, sec, rcv, size, size - 1, CCDMA_FROM_DEVICE, 0, false);
		round_trip(d, sec, rcv, size, size / 2, CCDMA_FROM_DEVICE, 0, true);
		round_trip(d, sec, rcv, size, size / 4, CCDMA_BIDIRECTIONAL,
			   CCDMA_ATTR_SKIP_CPU_SYNC, false);
		round_trip(d, sec, rcv, size, size / 5, CCDMA_BIDIRECTIONAL,
			   CCDMA_ATTR_SKIP_CPU_SYNC, true);
	}
	/* The test is only worth anything if the slots were reused: at
	 * least every small size (LIFO thread cache). */
	CHECK(reused >= small);
	printf("%s: %u of %zu sizes reused the secret's bounce memory\n", name,
	       reused, sizeof(sizes) / sizeof(sizes[0]));

	/* A shorter FROM_DEVICE mapping in a slot a longer secret dirtied. */
	{
		ccdma_addr_t s, r;

		memset(sec_mem, SECRET, 4096);
		s = ccdma_map_single(d, sec_mem, 4096, CCDMA_TO_DEVICE);
		CHECK_EQ(ccdma_unmap_single(d, s, 4096, CCDMA_TO_DEVICE), 0);
		memset(rcv_mem, OLD, 4096);
		r = ccdma_map_single(d, rcv_mem, 3900, CCDMA_FROM_DEVICE);
		REQUIRE(ccdma_mapping_error(d, r) == 0);
		dev_write_head(d, r, 10);
		CHECK_EQ(ccdma_unmap_single(d, r, 3900, CCDMA_FROM_DEVICE), 0);
		CHECK_EQ(count_not(rcv_mem, 0, 10, DEV), 0);
		CHECK_EQ(count_not(rcv_mem, 10, 3900, 0), 0);
		CHECK_EQ(count_not(rcv_mem, 3900, 4096, OLD), 0);
	}

	free(sec_mem);
	free(rcv_mem);
	CHECK_EQ(ccdma_dev_destroy(d), 0);
}

int main(void)
{
	test_init();
	run("dense", CCDMA_ISOLATION_DENSE, 0);
	run("page", CCDMA_ISOLATION_PAGE, 0);
	run("nvme", CCDMA_ISOLATION_DENSE, 4095);
	return test_done("dma_partial_write");
}
