/* SPDX-License-Identifier: MIT */
/*
 * Bounce copies by direction: TO_DEVICE copies in at map and nothing back
 * at unmap; FROM_DEVICE copies nothing in (the device sees zeros, not the
 * buffer) and exactly once back at unmap; BIDIRECTIONAL both;
 * CCDMA_ATTR_SKIP_CPU_SYNC skips the copy at map and/or unmap.  Checked on
 * the bytes and on the pool's copy counters.
 */
#include "test.h"

#include <ccdma/dma.h>

#define LEN 3000

static struct ccdma_dev *d;

struct cnt {
	uint64_t to, from, to_bytes, from_bytes;
};

static struct cnt counts(void)
{
	struct ccdma_pool_stats st;
	struct cnt c;

	CHECK_EQ(ccdma_pool_get_stats(ccdma_dev_pool(d), &st), 0);
	c.to = st.bounce_copies_to_device;
	c.from = st.bounce_copies_from_device;
	c.to_bytes = st.bounced_to_device_bytes;
	c.from_bytes = st.bounced_from_device_bytes;
	return c;
}

/* Copies since *c: `to` towards the device, `from` from it, LEN each. */
static void expect(int line, struct cnt *c, unsigned to, unsigned from)
{
	struct cnt n = counts();

	if (n.to - c->to != to || n.from - c->from != from ||
	    n.to_bytes - c->to_bytes != (uint64_t)to * LEN ||
	    n.from_bytes - c->from_bytes != (uint64_t)from * LEN) {
		fprintf(stderr, "line %d: copies to %llu (%llu bytes) from %llu "
			"(%llu bytes), expected %u and %u of %d bytes\n", line,
			(unsigned long long)(n.to - c->to),
			(unsigned long long)(n.to_bytes - c->to_bytes),
			(unsigned long long)(n.from - c->from),
			(unsigned long long)(n.from_bytes - c->from_bytes),
			to, from, LEN);
		test_failures++;
	}
	*c = n;
}

#define EXPECT(c, to, from) expect(__LINE__, c, to, from)

static bool all(const unsigned char *b, size_t n, unsigned char v)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i] != v)
			return false;
	return true;
}

int main(void)
{
	static const enum ccdma_dir dirs[] = {
		CCDMA_TO_DEVICE, CCDMA_FROM_DEVICE, CCDMA_BIDIRECTIONAL
	};
	struct ccdma_pool_config pc;
	struct ccdma_dev_config cfg;
	unsigned char buf[LEN], dev[LEN], pat[LEN];
	struct cnt c;
	ccdma_addr_t dma;
	unsigned i, skip;

	test_init();
	test_config(&pc, "copy");
	pc.initial_bytes = 1u << 20;
	ccdma_dev_config_init(&cfg);
	cfg.name = "copy";
	cfg.mode = CCDMA_MODE_CONFIDENTIAL;
	cfg.pool_cfg = &pc;
	REQUIRE(ccdma_dev_create(&cfg, &d) == 0);
	memset(pat, 0xd7, sizeof(pat));
	c = counts();
	CHECK_EQ(c.to, 0);
	CHECK_EQ(c.from, 0);

	for (i = 0; i < 3; i++) {
		enum ccdma_dir dir = dirs[i];
		bool in = dir != CCDMA_FROM_DEVICE, out = dir != CCDMA_TO_DEVICE;

		for (skip = 0; skip < 4; skip++) {
			unsigned map_attrs = (skip & 1) ? CCDMA_ATTR_SKIP_CPU_SYNC : 0;
			unsigned unmap_attrs = (skip & 2) ? CCDMA_ATTR_SKIP_CPU_SYNC : 0;
			bool copy_in = in && !map_attrs, copy_out = out && !unmap_attrs;

			/* Dirty the bounce memory first, so that "not copied"
			 * cannot pass by accident. */
			memset(buf, 0x99, LEN);
			dma = ccdma_map_single(d, buf, LEN, CCDMA_TO_DEVICE);
			CHECK_EQ(ccdma_unmap_single(d, dma, LEN, CCDMA_TO_DEVICE), 0);
			c = counts();

			memset(buf, 0x42, LEN);
			dma = ccdma_map_single_attrs(d, buf, LEN, dir, map_attrs);
			REQUIRE(ccdma_mapping_error(d, dma) == 0);
			CHECK(dma != (uintptr_t)buf);
			EXPECT(&c, copy_in, 0);
			CHECK_EQ(ccdma_dev_read(d, dma, dev, LEN), 0);
			if (copy_in)
				CHECK(all(dev, LEN, 0x42));
			else if (dir != CCDMA_TO_DEVICE)
				/* Nothing copied in: zeros, never the earlier
				 * mapping's bytes nor the buffer's. */
				CHECK(all(dev, LEN, 0));
			else
				/* TO_DEVICE without the copy: not the buffer
				 * (the device may see what it already had). */
				CHECK(!all(dev, LEN, 0x42));

			/* The device writes; nothing reaches the buffer before
			 * unmap. */
			CHECK_EQ(ccdma_dev_write(d, dma, pat, LEN), 0);
			CHECK(all(buf, LEN, 0x42));
			EXPECT(&c, 0, 0);

			CHECK_EQ(ccdma_unmap_single_attrs(d, dma, LEN, dir,
							  unmap_attrs), 0);
			EXPECT(&c, 0, copy_out);
			CHECK(all(buf, LEN, copy_out ? 0xd7 : 0x42));
		}
	}

	/* A FROM_DEVICE map + unmap: exactly one copy, CPU-ward, of the
	 * mapping's bytes. */
	c = counts();
	dma = ccdma_map_single(d, buf, LEN, CCDMA_FROM_DEVICE);
	REQUIRE(ccdma_mapping_error(d, dma) == 0);
	CHECK_EQ(ccdma_dev_write(d, dma, pat, 100), 0);
	CHECK_EQ(ccdma_unmap_single(d, dma, LEN, CCDMA_FROM_DEVICE), 0);
	EXPECT(&c, 0, 1);

	/* Shared memory is never copied, whatever the direction. */
	{
		void *sh;

		REQUIRE(ccdma_pool_alloc(ccdma_dev_pool(d), LEN, 0, &sh) == 0);
		for (i = 0; i < 3; i++) {
			dma = ccdma_map_single(d, sh, LEN, dirs[i]);
			CHECK(dma == (uintptr_t)sh);
			CHECK_EQ(ccdma_sync_single_for_cpu(d, dma, LEN, dirs[i]), 0);
			CHECK_EQ(ccdma_sync_single_for_device(d, dma, LEN, dirs[i]), 0);
			CHECK_EQ(ccdma_unmap_single(d, dma, LEN, dirs[i]), 0);
		}
		EXPECT(&c, 0, 0);
		CHECK_EQ(ccdma_pool_free(ccdma_dev_pool(d), sh, 0), 0);
	}

	/* A size or direction at unmap that differs from the map's: the map's
	 * are used (logged), so the copy-back still happens, once, of the
	 * mapped length. */
	ccdma_log_set_handler(quiet_log, NULL);
	memset(buf, 0x42, LEN);
	dma = ccdma_map_single(d, buf, LEN, CCDMA_FROM_DEVICE);
	REQUIRE(ccdma_mapping_error(d, dma) == 0);
	CHECK_EQ(ccdma_dev_write(d, dma, pat, LEN), 0);
	CHECK_EQ(ccdma_unmap_single(d, dma, 10, CCDMA_TO_DEVICE), 0);
	EXPECT(&c, 0, 1);
	CHECK(all(buf, LEN, 0xd7));
	ccdma_log_set_handler(NULL, NULL);

	CHECK_EQ(ccdma_dev_destroy(d), 0);
	return test_done("dma_copy_rules");
}
