/* SPDX-License-Identifier: MIT */
/*
 * DMA masks against the shared pool: a device whose masks can reach a pool
 * gets one placed where they reach it; a mask (with its translation) that
 * cannot reach any pool, or the pool it was given, fails at creation with
 * -EIO; ccdma_dev_set_mask() refuses (-EIO, mask unchanged) a mask the pool
 * lies outside of, and -EINVAL for 0 or a value not of the form 2^n-1.
 */
#include "test.h"

#include <ccdma/dma.h>

#define MASK32 0xffffffffull

static struct ccdma_pool_config pcfg;

static int mkdev(struct ccdma_dev **d, int mode, uint64_t mask,
		 uint64_t coherent_mask, enum ccdma_xlate_kind kind,
		 uint64_t arg, struct ccdma_pool *pool)
{
	struct ccdma_dev_config cfg;

	ccdma_dev_config_init(&cfg);
	cfg.name = "mask";
	cfg.mode = mode;
	cfg.dma_mask = mask;
	cfg.coherent_mask = coherent_mask;
	cfg.xlate.kind = kind;
	if (kind == CCDMA_XLATE_OFFSET)
		cfg.xlate.offset = arg;
	else
		cfg.xlate.bit = (unsigned)arg;
	cfg.pool = pool;
	cfg.pool_cfg = &pcfg;
	*d = NULL;
	return ccdma_dev_create(&cfg, d);
}

/* Map a private buffer TO_DEVICE and check the device reads it at a DMA
 * address within `mask`. */
static void check_io(struct ccdma_dev *d, uint64_t mask)
{
	unsigned char buf[3000], got[3000];
	ccdma_addr_t dma;
	size_t i;

	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)(i * 7 + 1);
	dma = ccdma_map_single(d, buf, sizeof(buf), CCDMA_TO_DEVICE);
	CHECK(ccdma_mapping_error(d, dma) == 0);
	if (dma == CCDMA_MAPPING_ERROR)
		return;
	CHECK(dma + sizeof(buf) - 1 <= mask);
	memset(got, 0, sizeof(got));
	CHECK_EQ(ccdma_dev_read(d, dma, got, sizeof(got)), 0);
	CHECK(memcmp(got, buf, sizeof(buf)) == 0);
	CHECK_EQ(ccdma_unmap_single(d, dma, sizeof(buf), CCDMA_TO_DEVICE), 0);
}

int main(void)
{
	const int conf = CCDMA_MODE_CONFIDENTIAL;
	struct ccdma_pool_config lowcfg;
	struct ccdma_dev *d;
	struct ccdma_pool *p, *low;
	ccdma_addr_t first, last;
	uint64_t pbase, psize;
	void *a;
	unsigned char *hb;

	test_init();
	ccdma_log_set_handler(quiet_log, NULL);
	test_config(&pcfg, "mask");
	pcfg.initial_bytes = 1u << 20;

	/* Identity, 32-bit: the pool is placed below 4 GiB. */
	REQUIRE(mkdev(&d, conf, MASK32, MASK32, CCDMA_XLATE_IDENTITY, 0, NULL) == 0);
	CHECK_EQ(ccdma_dev_pool_dma_range(d, &first, &last), 0);
	CHECK(first <= last);
	CHECK(last <= MASK32);
	check_io(d, MASK32);
	CHECK_EQ(ccdma_dev_destroy(d), 0);

	/* The same with the default pool config (1 GiB cap, shrunk to fit). */
	{
		struct ccdma_dev_config cfg;

		ccdma_dev_config_init(&cfg);
		cfg.mode = conf;
		cfg.dma_mask = cfg.coherent_mask = MASK32;
		REQUIRE(ccdma_dev_create(&cfg, &d) == 0);
		CHECK_EQ(ccdma_dev_pool_dma_range(d, &first, &last), 0);
		CHECK(last <= MASK32);
		check_io(d, MASK32);
		CHECK_EQ(ccdma_dev_destroy(d), 0);
	}

	/* Only the coherent mask is narrow: it still decides the placement. */
	REQUIRE(mkdev(&d, conf, ~0ull, MASK32, CCDMA_XLATE_IDENTITY, 0, NULL) == 0);
	CHECK_EQ(ccdma_dev_pool_dma_range(d, &first, &last), 0);
	CHECK(last <= MASK32);
	CHECK_EQ(ccdma_dev_destroy(d), 0);

	/* TDX-style shared bit 51: every DMA address has bit 51 set, which a
	 * 32-bit mask cannot carry. */
	CHECK_EQ(mkdev(&d, conf, MASK32, MASK32, CCDMA_XLATE_SET_BIT, 51, NULL),
		 -EIO);
	CHECK(d == NULL);
	/* ... a 52-bit mask can. */
	REQUIRE(mkdev(&d, conf, (1ull << 52) - 1, (1ull << 52) - 1,
		      CCDMA_XLATE_SET_BIT, 51, NULL) == 0);
	CHECK_EQ(ccdma_dev_pool_dma_range(d, &first, &last), 0);
	CHECK(first & (1ull << 51));
	CHECK(last <= (1ull << 52) - 1);
	check_io(d, (1ull << 52) - 1);
	CHECK_EQ(ccdma_dev_destroy(d), 0);

	/* SEV-style C-bit 51 (cleared in DMA addresses): a low pool works. */
	REQUIRE(mkdev(&d, conf, MASK32, MASK32, CCDMA_XLATE_CLEAR_BIT, 51,
		      NULL) == 0);
	CHECK_EQ(ccdma_dev_pool_dma_range(d, &first, &last), 0);
	CHECK(last <= MASK32);
	check_io(d, MASK32);
	CHECK_EQ(ccdma_dev_destroy(d), 0);

	/* pSeries window at 1<<59: beyond 32 bits; fine with 64. */
	CHECK_EQ(mkdev(&d, conf, MASK32, MASK32, CCDMA_XLATE_OFFSET, 1ull << 59,
		       NULL), -EIO);
	CHECK(d == NULL);
	REQUIRE(mkdev(&d, conf, ~0ull, ~0ull, CCDMA_XLATE_OFFSET, 1ull << 59,
		      NULL) == 0);
	CHECK_EQ(ccdma_dev_pool_dma_range(d, &first, &last), 0);
	CHECK(first >= 1ull << 59);
	check_io(d, ~0ull);
	CHECK_EQ(ccdma_dev_destroy(d), 0);

	/* A small offset with a 32-bit mask: the pool goes below 4 GiB minus
	 * the offset. */
	REQUIRE(mkdev(&d, conf, MASK32, MASK32, CCDMA_XLATE_OFFSET, 1ull << 31,
		      NULL) == 0);
	CHECK_EQ(ccdma_dev_pool_dma_range(d, &first, &last), 0);
	CHECK(first >= 1ull << 31);
	CHECK(last <= MASK32);
	check_io(d, MASK32);
	CHECK_EQ(ccdma_dev_destroy(d), 0);

	/* set_mask on a device whose pool lies high.  Direct mode, so that a
	 * mask change would show: a private buffer above 4 GiB goes straight
	 * through with a 64-bit mask and would be bounced with a 32-bit one. */
	REQUIRE(mkdev(&d, CCDMA_MODE_DIRECT, ~0ull, ~0ull, CCDMA_XLATE_IDENTITY,
		      0, NULL) == 0);
	CHECK_EQ(ccdma_dev_pool_dma_range(d, &first, &last), 0);
	hb = malloc(4096);
	REQUIRE(hb);
	memset(hb, 0x5a, 4096);
	CHECK_EQ(ccdma_dev_set_mask(d, 0), -EINVAL);
	CHECK_EQ(ccdma_dev_set_mask(d, 0x12345), -EINVAL);
	CHECK_EQ(ccdma_dev_set_coherent_mask(d, 0), -EINVAL);
	CHECK_EQ(ccdma_dev_set_mask_and_coherent(d, 0), -EINVAL);
	/* Not 2^n-1 (documented with mask 0 as -EINVAL). */
	CHECK_EQ(ccdma_dev_set_coherent_mask(d, 0x12345), -EINVAL);
	CHECK_EQ(ccdma_dev_set_mask_and_coherent(d, 0xfff0), -EINVAL);
	CHECK_EQ(ccdma_dev_set_mask(d, 1ull << 63), -EINVAL);
	CHECK_EQ(ccdma_dev_set_mask(NULL, ~0ull), -EINVAL);
	if (last > MASK32) {
		ccdma_addr_t dma;

		CHECK_EQ(ccdma_dev_set_mask(d, MASK32), -EIO);
		CHECK_EQ(ccdma_dev_set_coherent_mask(d, MASK32), -EIO);
		CHECK_EQ(ccdma_dev_set_mask_and_coherent(d, MASK32), -EIO);
		/* The mask is unchanged: still no bounce for a high buffer. */
		dma = ccdma_map_single(d, hb, 4096, CCDMA_TO_DEVICE);
		CHECK(ccdma_mapping_error(d, dma) == 0);
		if ((uintptr_t)hb > MASK32)
			CHECK(dma == (uintptr_t)hb);
		CHECK_EQ(ccdma_unmap_single(d, dma, 4096, CCDMA_TO_DEVICE), 0);
	} else {
		printf("pool placed below 4 GiB; high-pool set_mask part skipped\n");
	}
	/* A narrower mask that still reaches the pool is accepted... */
	CHECK_EQ(ccdma_dev_set_mask(d, (1ull << 48) - 1), 0);
	CHECK_EQ(ccdma_dev_set_coherent_mask(d, (1ull << 48) - 1), 0);
	CHECK_EQ(ccdma_dev_set_mask_and_coherent(d, (1ull << 48) - 1), 0);
	/* ...one just below the pool's last DMA address is not. */
	if (last >= 2) {
		uint64_t m = 1;

		while (m < last / 2)
			m = (m << 1) | 1;
		/* m < last: the largest 2^n-1 below the pool's end */
		CHECK(m < last);
		CHECK_EQ(ccdma_dev_set_mask(d, m), -EIO);
	}
	CHECK_EQ(ccdma_dev_set_mask(d, ~0ull), 0);
	CHECK_EQ(ccdma_dev_destroy(d), 0);
	free(hb);

	/* A device given a pool its mask cannot reach fails, and the caller's
	 * pool is left alone. */
	REQUIRE(ccdma_pool_create(&pcfg, &p) == 0);
	CHECK_EQ(ccdma_pool_get_range(p, &pbase, &psize), 0);
	if (pbase + psize - 1 > MASK32) {
		CHECK_EQ(mkdev(&d, conf, MASK32, ~0ull, CCDMA_XLATE_IDENTITY, 0, p),
			 -EIO);
		CHECK_EQ(mkdev(&d, conf, ~0ull, MASK32, CCDMA_XLATE_IDENTITY, 0, p),
			 -EIO);
		/* The pool still works. */
		CHECK_EQ(ccdma_pool_alloc(p, 100, 0, &a), 0);
		CHECK_EQ(ccdma_pool_free(p, a, 0), 0);
	}
	/* A pool holding the translation bit cannot be carried by SET_BIT or
	 * CLEAR_BIT at that bit. */
	{
		unsigned bit = 63 - (unsigned)__builtin_clzll(pbase);

		CHECK_EQ(mkdev(&d, conf, ~0ull, ~0ull, CCDMA_XLATE_SET_BIT, bit, p),
			 -EIO);
		CHECK_EQ(mkdev(&d, conf, ~0ull, ~0ull, CCDMA_XLATE_CLEAR_BIT, bit, p),
			 -EIO);
	}
	REQUIRE(mkdev(&d, conf, ~0ull, ~0ull, CCDMA_XLATE_IDENTITY, 0, p) == 0);
	CHECK(ccdma_dev_pool(d) == p);
	check_io(d, ~0ull);
	CHECK_EQ(ccdma_dev_destroy(d), 0);
	/* The device did not destroy the pool it was given. */
	CHECK_EQ(ccdma_pool_alloc(p, 100, 0, &a), 0);
	CHECK_EQ(ccdma_pool_free(p, a, 0), 0);
	ccdma_pool_destroy(p);

	/* A pool the caller placed low serves a 32-bit device. */
	lowcfg = pcfg;
	lowcfg.addr_limit = MASK32;
	REQUIRE(ccdma_pool_create(&lowcfg, &low) == 0);
	REQUIRE(mkdev(&d, conf, MASK32, MASK32, CCDMA_XLATE_IDENTITY, 0, low) == 0);
	CHECK_EQ(ccdma_dev_pool_dma_range(d, &first, &last), 0);
	CHECK(last <= MASK32);
	check_io(d, MASK32);
	/* ...and refuses a mask narrower than where it lies. */
	CHECK_EQ(ccdma_dev_set_mask(d, 0xffffff), -EIO);
	CHECK_EQ(ccdma_dev_destroy(d), 0);
	ccdma_pool_destroy(low);

	ccdma_log_set_handler(NULL, NULL);
	return test_done("dma_mask");
}
