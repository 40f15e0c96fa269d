/* SPDX-License-Identifier: MIT */
/*
 * A device that reaches private memory (trusted in confidential mode, or
 * direct mode) with a bit translation (SET_BIT / CLEAR_BIT), mapping a
 * private chunk whose address holds the bit: the translation cannot carry
 * it (setting or clearing the bit names another address), so the chunk is
 * bounced and the device reads the chunk's bytes at the segment; a chunk
 * without the bit goes straight through at its own address (private
 * memory is never named through the shared alias).
 *
 * Regression test: chunks.c plan_chunk() once mapped such a chunk
 * directly (map_single checks ccdma_dev_xl_private_ok()); the segment is
 * read only when bounced, so that a regression fails the test instead of
 * crashing it.
 */
#include "test.h"

#include <ccdma/dma.h>

static unsigned char got[4096];

/* Map buf as one private chunk TO_DEVICE; returns the segment's flags. */
static uint32_t map_chunk(struct ccdma_dev *d, unsigned char *buf,
			  ccdma_addr_t *addr)
{
	struct ccdma_chunk ch[1];
	struct ccdma_chunk_list in;
	struct ccdma_seg sg[4];
	struct ccdma_seg_list out;
	uint32_t flags = 0;

	ccdma_chunks_init(&in, ch, 1);
	REQUIRE(ccdma_chunks_add(&in, buf, 4096, CCDMA_MEM_PRIVATE) == 0);
	ccdma_segs_init(&out, sg, 4);
	CHECK_EQ(ccdma_map_chunks(d, &in, &out, CCDMA_TO_DEVICE), 1);
	if (out.n == 1) {
		flags = sg[0].flags;
		*addr = sg[0].addr;
		CHECK_EQ(sg[0].len, 4096);
		if (flags & CCDMA_SEG_BOUNCED) {
			memset(got, 0, sizeof(got));
			CHECK_EQ(ccdma_dev_read(d, sg[0].addr, got, 4096), 0);
			CHECK(memcmp(got, buf, 4096) == 0);
		}
	}
	CHECK_EQ(ccdma_unmap_chunks(d, &in, &out, CCDMA_TO_DEVICE), 0);
	return flags;
}

static void run(enum ccdma_xlate_kind kind, int mode, unsigned flags)
{
	struct ccdma_pool_config pc;
	struct ccdma_dev_config cfg;
	struct ccdma_pool *low;
	struct ccdma_dev *d;
	unsigned char *buf = malloc(4096);
	uint64_t pbase, psize;
	ccdma_addr_t addr = 0;
	uintptr_t b;
	unsigned bit;
	size_t i;

	REQUIRE(buf);
	b = (uintptr_t)buf;
	for (i = 0; i < 4096; i++)
		buf[i] = (unsigned char)(i * 5 + 3);
	/* A pool below 4 GiB, and a bit above that the buffer holds. */
	test_config(&pc, "xlate-chunks");
	pc.initial_bytes = 1u << 20;
	pc.addr_limit = 0xffffffffull;
	REQUIRE(ccdma_pool_create(&pc, &low) == 0);
	REQUIRE(ccdma_pool_get_range(low, &pbase, &psize) == 0);
	for (bit = 32; bit < 63; bit++)
		if ((b >> bit & 1) && ((b + 4095) >> bit & 1))
			break;
	if (bit < 63) {
		ccdma_dev_config_init(&cfg);
		cfg.name = "xlate-chunks";
		cfg.mode = mode;
		cfg.flags = flags;
		cfg.pool = low;
		cfg.xlate.kind = kind;
		cfg.xlate.bit = bit;
		REQUIRE(ccdma_dev_create(&cfg, &d) == 0);
		CHECK(map_chunk(d, buf, &addr) & CCDMA_SEG_BOUNCED);
		CHECK_EQ(ccdma_dev_destroy(d), 0);
	} else {
		printf("buffer below 4 GiB: bit-set part skipped\n");
	}

	/* A bit neither the buffer nor the pool holds: not bounced. */
	for (bit = 46; bit >= 13; bit--)
		if (!(b >> bit & 1) && !((b + 4095) >> bit & 1) &&
		    !((pbase + psize - 1) >> bit))
			break;
	if (bit >= 13) {
		ccdma_dev_config_init(&cfg);
		cfg.name = "xlate-chunks";
		cfg.mode = mode;
		cfg.flags = flags;
		cfg.pool = low;
		cfg.xlate.kind = kind;
		cfg.xlate.bit = bit;
		REQUIRE(ccdma_dev_create(&cfg, &d) == 0);
		CHECK(!(map_chunk(d, buf, &addr) & CCDMA_SEG_BOUNCED));
		CHECK(addr == b);
		CHECK_EQ(ccdma_dev_read(d, addr, got, 4096), 0);
		CHECK(memcmp(got, buf, 4096) == 0);
		CHECK_EQ(ccdma_dev_destroy(d), 0);
	}
	ccdma_pool_destroy(low);
	free(buf);
}

int main(void)
{
	test_init();
	ccdma_log_set_handler(quiet_log, NULL);
	run(CCDMA_XLATE_SET_BIT, CCDMA_MODE_CONFIDENTIAL, CCDMA_DEV_F_TRUSTED);
	run(CCDMA_XLATE_SET_BIT, CCDMA_MODE_DIRECT, 0);
	run(CCDMA_XLATE_CLEAR_BIT, CCDMA_MODE_CONFIDENTIAL, CCDMA_DEV_F_TRUSTED);
	run(CCDMA_XLATE_CLEAR_BIT, CCDMA_MODE_DIRECT, 0);
	ccdma_log_set_handler(NULL, NULL);
	return test_done("dma_xlate_chunks");
}
