/* SPDX-License-Identifier: MIT */
/*
 * CCDMA_ATTR_NO_BOUNCE: a buffer the device cannot reach directly (private
 * memory in confidential mode, above the mask in direct mode) is refused
 * with CCDMA_MAPPING_ERROR and ccdma_mapping_error() == -EIO, and no bounce
 * memory is taken; shared memory (pool, attached region) and memory the
 * device reaches map normally.
 */
#include "test.h"

#include <ccdma/dma.h>

static struct ccdma_dev *mkdev(int mode, uint64_t mask)
{
	static struct ccdma_pool_config pc;
	struct ccdma_dev_config cfg;
	struct ccdma_dev *d = NULL;

	test_config(&pc, "nobounce-attr");
	pc.initial_bytes = 1u << 20;
	ccdma_dev_config_init(&cfg);
	cfg.name = "nobounce-attr";
	cfg.mode = mode;
	cfg.dma_mask = cfg.coherent_mask = mask;
	cfg.pool_cfg = &pc;
	REQUIRE(ccdma_dev_create(&cfg, &d) == 0);
	return d;
}

static uint64_t allocs(struct ccdma_dev *d)
{
	struct ccdma_pool_stats st;

	CHECK_EQ(ccdma_pool_get_stats(ccdma_dev_pool(d), &st), 0);
	return st.allocs;
}

int main(void)
{
	unsigned char *priv = malloc(5000);
	struct ccdma_region reg;
	struct ccdma_dev *d;
	ccdma_addr_t dma, rdma;
	uint64_t a0;
	void *sh;
	unsigned dir;

	test_init();
	ccdma_log_set_handler(quiet_log, NULL);
	REQUIRE(priv);
	memset(priv, 0x21, 5000);
	REQUIRE(ccdma_region_create(64u << 10, "nobounce-attr", &reg) == 0);

	d = mkdev(CCDMA_MODE_CONFIDENTIAL, ~0ull);
	CHECK_EQ(ccdma_dev_attach_region(d, &reg, &rdma), 0);
	REQUIRE(ccdma_pool_alloc(ccdma_dev_pool(d), 5000, 0, &sh) == 0);
	for (dir = 0; dir < 3; dir++) {
		a0 = allocs(d);
		dma = ccdma_map_single_attrs(d, priv, 5000, (enum ccdma_dir)dir,
					     CCDMA_ATTR_NO_BOUNCE);
		CHECK(dma == CCDMA_MAPPING_ERROR);
		CHECK_EQ(ccdma_mapping_error(d, dma), -EIO);
		CHECK_EQ(allocs(d), a0);
		/* With SKIP_CPU_SYNC as well: same answer. */
		dma = ccdma_map_single_attrs(d, priv, 5000, (enum ccdma_dir)dir,
					     CCDMA_ATTR_NO_BOUNCE |
					     CCDMA_ATTR_SKIP_CPU_SYNC);
		CHECK(dma == CCDMA_MAPPING_ERROR);
		CHECK_EQ(ccdma_mapping_error(d, dma), -EIO);

		/* Shared: fine. */
		dma = ccdma_map_single_attrs(d, sh, 5000, (enum ccdma_dir)dir,
					     CCDMA_ATTR_NO_BOUNCE);
		CHECK(dma == (uintptr_t)sh);
		CHECK_EQ(ccdma_mapping_error(d, dma), 0);
		CHECK_EQ(ccdma_unmap_single(d, dma, 5000, (enum ccdma_dir)dir), 0);
		dma = ccdma_map_single_attrs(d, (char *)reg.addr + 8, 5000,
					     (enum ccdma_dir)dir, CCDMA_ATTR_NO_BOUNCE);
		CHECK(dma == rdma + 8);
		CHECK_EQ(ccdma_mapping_error(d, dma), 0);
		CHECK_EQ(ccdma_unmap_single(d, dma, 5000, (enum ccdma_dir)dir), 0);
		CHECK_EQ(allocs(d), a0);
	}
	/* A refused map leaves the error for this thread; a later good map
	 * does not turn a good address into an error. */
	dma = ccdma_map_single(d, priv, 5000, CCDMA_TO_DEVICE);
	CHECK_EQ(ccdma_mapping_error(d, dma), 0);
	CHECK(dma != CCDMA_MAPPING_ERROR);
	CHECK_EQ(ccdma_unmap_single(d, dma, 5000, CCDMA_TO_DEVICE), 0);
	CHECK_EQ(ccdma_pool_free(ccdma_dev_pool(d), sh, 0), 0);
	CHECK_EQ(ccdma_dev_detach_region(d, &reg), 0);
	CHECK_EQ(ccdma_dev_destroy(d), 0);

	/* Direct mode: private memory is reachable, so NO_BOUNCE is fine... */
	d = mkdev(CCDMA_MODE_DIRECT, ~0ull);
	dma = ccdma_map_single_attrs(d, priv, 5000, CCDMA_FROM_DEVICE,
				     CCDMA_ATTR_NO_BOUNCE);
	CHECK(dma == (uintptr_t)priv);
	CHECK_EQ(ccdma_unmap_single(d, dma, 5000, CCDMA_FROM_DEVICE), 0);
	CHECK_EQ(ccdma_dev_destroy(d), 0);
	/* ...unless it is above the mask. */
	d = mkdev(CCDMA_MODE_DIRECT, 0xffffffffull);
	if ((uintptr_t)priv + 5000 - 1 > 0xffffffffull) {
		a0 = allocs(d);
		dma = ccdma_map_single_attrs(d, priv, 5000, CCDMA_TO_DEVICE,
					     CCDMA_ATTR_NO_BOUNCE);
		CHECK(dma == CCDMA_MAPPING_ERROR);
		CHECK_EQ(ccdma_mapping_error(d, dma), -EIO);
		CHECK_EQ(allocs(d), a0);
	} else {
		printf("malloc'd buffer below 4 GiB: mask part skipped\n");
	}
	CHECK_EQ(ccdma_dev_destroy(d), 0);

	ccdma_region_destroy(&reg);
	free(priv);
	ccdma_log_set_handler(NULL, NULL);
	return test_done("dma_nobounce_attr");
}
