/* SPDX-License-Identifier: MIT */
/*
 * CCDMA_ATTR_REPORTED_LEN: a FROM_DEVICE bounce that the caller unmaps with
 * the length the device reported (virtio's used length).  The bounce is
 * not cleared at map (the pool's zeroed_bytes does not move), yet the CPU
 * never receives what an earlier mapping left there: unmap copies the
 * reported bytes and clears the rest of the buffer.  Over-reporting is
 * clamped; a plain unmap or a sync_for_cpu of such a mapping is refused
 * and hands over nothing stale; the attribute is refused for other
 * directions and for chunk lists.
 */
#include "test.h"

#include <ccdma/dma.h>

#define SECRET 0xa5
#define OLD 0xee
#define DEV 0x3c

static uint64_t pool_stat(struct ccdma_dev *d, int which)
{
	struct ccdma_pool_stats st;

	CHECK_EQ(ccdma_pool_get_stats(ccdma_dev_pool(d), &st), 0);
	return which ? st.bounced_from_device_bytes : st.zeroed_bytes;
}

/* A secret goes out through a bounce of `len` bytes; then a FROM_DEVICE
 * mapping of the same size, likely in the same bounce memory (checked),
 * gets `wrote` bytes from the device and is unmapped reporting `report`. */
static void round_trip(struct ccdma_dev *d, size_t len, size_t wrote,
		       size_t report)
{
	unsigned char *secret = malloc(len), *buf = malloc(len), *t = malloc(len);
	size_t expect = report < len ? report : len;
	ccdma_addr_t a, b2;
	uint64_t z0, f0;

	REQUIRE(secret && buf && t);
	memset(secret, SECRET, len);
	memset(buf, OLD, len);
	memset(t, DEV, len);
	a = ccdma_map_single(d, secret, len, CCDMA_TO_DEVICE);
	REQUIRE(!ccdma_mapping_error(d, a));
	CHECK_EQ(ccdma_unmap_single(d, a, len, CCDMA_TO_DEVICE), 0);

	z0 = pool_stat(d, 0);
	f0 = pool_stat(d, 1);
	b2 = ccdma_map_single_attrs(d, buf, len, CCDMA_FROM_DEVICE,
				    CCDMA_ATTR_REPORTED_LEN);
	REQUIRE(!ccdma_mapping_error(d, b2));
	CHECK_EQ(b2, a); /* the secret's bounce memory, not cleared */
	CHECK_EQ(pool_stat(d, 0), z0);
	if (wrote)
		CHECK_EQ(ccdma_dev_write(d, b2, t, wrote), 0);
	CHECK_EQ(ccdma_unmap_single_written(d, b2, len, CCDMA_FROM_DEVICE, report), 0);
	CHECK_EQ(count_not(buf, 0, wrote < expect ? wrote : expect, DEV), 0);
	/* Reported but not written: the secret would be here; it is what
	 * the device had in shared memory, so it may be, but never beyond
	 * the report. */
	CHECK_EQ(count_not(buf, expect, len, 0), 0);
	CHECK_EQ(pool_stat(d, 1) - f0, expect);
	free(secret);
	free(buf);
	free(t);
}

int main(void)
{
	struct ccdma_dev_config cfg;
	struct ccdma_pool_config pc;
	struct ccdma_dev *d;
	struct ccdma_chunk_list in;
	struct ccdma_chunk ch[1];
	struct ccdma_seg_list out;
	struct ccdma_seg seg[4];
	unsigned char buf[4096], t[4096];
	ccdma_addr_t a;

	test_init();
	test_config(&pc, "reported");
	pc.initial_bytes = 4u << 20;
	ccdma_dev_config_init(&cfg);
	d = test_dev("reported", &cfg, CCDMA_MODE_CONFIDENTIAL, &pc);
	ccdma_log_set_handler(quiet_log, NULL);

	round_trip(d, 4096, 4096, 4096);      /* all written, all reported */
	round_trip(d, 4096, 1000, 1000);      /* short, reported exactly */
	round_trip(d, 2048, 0, 0);            /* nothing */
	round_trip(d, 4096, 4096, 1u << 30);  /* over-reported: clamped */
	round_trip(d, 131072, 131072, 131072);
	round_trip(d, 131072, 70000, 70000);

	/* A plain unmap of such a mapping: refused, buffer cleared. */
	memset(buf, OLD, sizeof(buf));
	memset(t, DEV, sizeof(t));
	a = ccdma_map_single_attrs(d, buf, sizeof(buf), CCDMA_FROM_DEVICE,
				   CCDMA_ATTR_REPORTED_LEN);
	REQUIRE(!ccdma_mapping_error(d, a));
	CHECK_EQ(ccdma_dev_write(d, a, t, sizeof(t)), 0);
	CHECK_EQ(ccdma_sync_single_for_cpu(d, a, sizeof(buf), CCDMA_FROM_DEVICE),
		 -EINVAL);
	CHECK_EQ(count_not(buf, 0, sizeof(buf), OLD), 0);
	CHECK_EQ(ccdma_unmap_single(d, a, sizeof(buf), CCDMA_FROM_DEVICE), -EINVAL);
	CHECK_EQ(count_not(buf, 0, sizeof(buf), 0), 0);

	/* Other directions and chunk lists do not take it. */
	a = ccdma_map_single_attrs(d, buf, sizeof(buf), CCDMA_TO_DEVICE,
				   CCDMA_ATTR_REPORTED_LEN);
	CHECK(ccdma_mapping_error(d, a) == -EINVAL);
	a = ccdma_map_single_attrs(d, buf, sizeof(buf), CCDMA_BIDIRECTIONAL,
				   CCDMA_ATTR_REPORTED_LEN);
	CHECK(ccdma_mapping_error(d, a) == -EINVAL);
	ccdma_chunks_init(&in, ch, 1);
	CHECK_EQ(ccdma_chunks_add(&in, buf, sizeof(buf), CCDMA_MEM_PRIVATE), 0);
	ccdma_segs_init(&out, seg, 4);
	CHECK_EQ(ccdma_map_chunks_attrs(d, &in, &out, CCDMA_FROM_DEVICE,
					CCDMA_ATTR_REPORTED_LEN), -EINVAL);

	CHECK_EQ(ccdma_dev_destroy(d), 0);
	return test_done("dma_reported_len");
}
