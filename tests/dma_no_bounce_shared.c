/* SPDX-License-Identifier: MIT */
/*
 * Who is bounced.  Never: buffers in an attached region or in the device's
 * pool; private buffers for a trusted device in confidential mode and for
 * a device in direct mode (DMA address == CPU address, identity).  Always:
 * private buffers in confidential mode, in direct mode with
 * CCDMA_DEV_F_SHARED_ONLY or FORCE_BOUNCE, and a private buffer above a
 * 32-bit mask in direct mode.  Checked on the DMA address and the copy
 * counters.
 */
#include "test.h"

#include <ccdma/dma.h>

#define MASK32 0xffffffffull

static uint64_t ncopies(struct ccdma_dev *d)
{
	struct ccdma_pool_stats st;

	CHECK_EQ(ccdma_pool_get_stats(ccdma_dev_pool(d), &st), 0);
	return st.bounce_copies_to_device + st.bounce_copies_from_device;
}

static struct ccdma_dev *mkdev(int mode, unsigned flags, uint64_t mask)
{
	static struct ccdma_pool_config pc;
	struct ccdma_dev_config cfg;
	struct ccdma_dev *d = NULL;

	test_config(&pc, "nobounce");
	pc.initial_bytes = 1u << 20;
	ccdma_dev_config_init(&cfg);
	cfg.name = "nobounce";
	cfg.mode = mode;
	cfg.flags = flags;
	cfg.dma_mask = cfg.coherent_mask = mask;
	cfg.pool_cfg = &pc;
	REQUIRE(ccdma_dev_create(&cfg, &d) == 0);
	return d;
}

/* Map buf (BIDIRECTIONAL) and say whether it was bounced; either way the
 * device reads the bytes, its write reaches the buffer by unmap, and the
 * copies counted match. */
static bool bounced(struct ccdma_dev *d, unsigned char *buf, size_t len)
{
	unsigned char got[256], pat[256];
	uint64_t c0 = ncopies(d);
	ccdma_addr_t dma, first, last;
	bool b;
	size_t n = len < sizeof(got) ? len : sizeof(got);

	memset(buf, 0x4d, len);
	memset(pat, 0xb2, sizeof(pat));
	dma = ccdma_map_single(d, buf, len, CCDMA_BIDIRECTIONAL);
	REQUIRE(ccdma_mapping_error(d, dma) == 0);
	b = dma != (uintptr_t)buf;
	CHECK_EQ(ccdma_dev_pool_dma_range(d, &first, &last), 0);
	if (b)
		CHECK(dma >= first && dma + len - 1 <= last);
	CHECK_EQ(ccdma_dev_read(d, dma, got, n), 0);
	CHECK(memcmp(got, buf, n) == 0);
	CHECK_EQ(ccdma_dev_write(d, dma, pat, n), 0);
	/* Not bounced: the device wrote the buffer itself. */
	CHECK((memcmp(buf, pat, n) == 0) == !b);
	CHECK_EQ(ccdma_unmap_single(d, dma, len, CCDMA_BIDIRECTIONAL), 0);
	CHECK(memcmp(buf, pat, n) == 0);
	CHECK_EQ(ncopies(d) - c0, b ? 2 : 0);
	return b;
}

int main(void)
{
	const int conf = CCDMA_MODE_CONFIDENTIAL, direct = CCDMA_MODE_DIRECT;
	struct ccdma_region reg;
	struct ccdma_dev *d;
	unsigned char *priv;
	ccdma_addr_t rdma, dma;
	void *sh;
	int mode;

	test_init();
	priv = malloc(6000);
	REQUIRE(priv);
	REQUIRE(ccdma_region_create(64u << 10, "nobounce-reg", &reg) == 0);

	/* Confidential, untrusted: private bounced, shared not. */
	d = mkdev(conf, 0, ~0ull);
	CHECK(bounced(d, priv, 6000));
	CHECK_EQ(ccdma_dev_attach_region(d, &reg, &rdma), 0);
	CHECK(rdma == (uintptr_t)reg.addr);
	CHECK(!bounced(d, (unsigned char *)reg.addr + 100, 6000));
	REQUIRE(ccdma_pool_alloc(ccdma_dev_pool(d), 6000, 0, &sh) == 0);
	CHECK(!bounced(d, sh, 6000));
	CHECK_EQ(ccdma_pool_free(ccdma_dev_pool(d), sh, 0), 0);
	/* Once detached, the region is private memory again: bounced. */
	CHECK_EQ(ccdma_dev_detach_region(d, &reg), 0);
	CHECK(bounced(d, reg.addr, 6000));
	CHECK_EQ(ccdma_dev_destroy(d), 0);

	/* Trusted in confidential mode; and direct mode: reach everything. */
	for (mode = 0; mode < 2; mode++) {
		d = mkdev(mode ? direct : conf, mode ? 0 : CCDMA_DEV_F_TRUSTED, ~0ull);
		CHECK(!bounced(d, priv, 6000));
		CHECK(!bounced(d, priv + 1, 1));
		dma = ccdma_map_single(d, priv, 6000, CCDMA_FROM_DEVICE);
		CHECK(dma == (uintptr_t)priv);
		CHECK_EQ(ccdma_sync_single_for_cpu(d, dma, 6000, CCDMA_FROM_DEVICE), 0);
		CHECK_EQ(ccdma_unmap_single(d, dma, 6000, CCDMA_FROM_DEVICE), 0);
		CHECK_EQ(ccdma_dev_attach_region(d, &reg, &rdma), 0);
		CHECK(!bounced(d, reg.addr, 6000));
		CHECK_EQ(ccdma_dev_detach_region(d, &reg), 0);
		CHECK_EQ(ncopies(d), 0);
		CHECK_EQ(ccdma_dev_destroy(d), 0);
	}

	/* Direct mode, but the device sees only shared memory. */
	d = mkdev(direct, CCDMA_DEV_F_SHARED_ONLY, ~0ull);
	CHECK(bounced(d, priv, 6000));
	CHECK_EQ(ccdma_dev_attach_region(d, &reg, &rdma), 0);
	CHECK(!bounced(d, reg.addr, 6000));
	CHECK_EQ(ccdma_dev_detach_region(d, &reg), 0);
	CHECK_EQ(ccdma_dev_destroy(d), 0);

	/* Direct mode, forced bounce: private bounced, shared still not. */
	d = mkdev(direct, CCDMA_DEV_F_FORCE_BOUNCE, ~0ull);
	CHECK(bounced(d, priv, 6000));
	CHECK_EQ(ccdma_dev_attach_region(d, &reg, &rdma), 0);
	CHECK(!bounced(d, reg.addr, 6000));
	REQUIRE(ccdma_pool_alloc(ccdma_dev_pool(d), 100, 0, &sh) == 0);
	CHECK(!bounced(d, sh, 100));
	CHECK_EQ(ccdma_pool_free(ccdma_dev_pool(d), sh, 0), 0);
	CHECK_EQ(ccdma_dev_detach_region(d, &reg), 0);
	CHECK_EQ(ccdma_dev_destroy(d), 0);

	/* A trusted device with a forced bounce is bounced too. */
	d = mkdev(conf, CCDMA_DEV_F_TRUSTED | CCDMA_DEV_F_FORCE_BOUNCE, ~0ull);
	CHECK(bounced(d, priv, 6000));
	CHECK_EQ(ccdma_dev_destroy(d), 0);

	/* Direct mode, 32-bit mask: a private buffer above 4 GiB is bounced
	 * below it. */
	d = mkdev(direct, 0, MASK32);
	if ((uintptr_t)priv + 6000 - 1 > MASK32) {
		CHECK(bounced(d, priv, 6000));
		dma = ccdma_map_single(d, priv, 6000, CCDMA_TO_DEVICE);
		CHECK(dma + 6000 - 1 <= MASK32);
		CHECK_EQ(ccdma_unmap_single(d, dma, 6000, CCDMA_TO_DEVICE), 0);
	} else {
		printf("malloc'd buffer below 4 GiB: mask bounce part skipped\n");
	}
	/* The pool itself is below the mask: shared memory goes straight. */
	REQUIRE(ccdma_pool_alloc(ccdma_dev_pool(d), 100, 0, &sh) == 0);
	CHECK(!bounced(d, sh, 100));
	CHECK_EQ(ccdma_pool_free(ccdma_dev_pool(d), sh, 0), 0);
	CHECK_EQ(ccdma_dev_destroy(d), 0);

	ccdma_region_destroy(&reg);
	free(priv);
	return test_done("dma_no_bounce_shared");
}
