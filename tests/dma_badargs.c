/* SPDX-License-Identifier: MIT */
/*
 * Bad arguments are refused with -EINVAL (CCDMA_MAPPING_ERROR and
 * ccdma_mapping_error() == -EINVAL for the map_single family), never crash,
 * and lose nothing: a live mapping stays valid after refused calls on it.
 * Covers NULLs, zero lengths, wrapping ranges, unknown directions and
 * attributes, unmap of CCDMA_MAPPING_ERROR or of addresses that are no
 * live mapping (including a double unmap), bad device configs, and
 * attaching overlapping regions.
 */
#include "test.h"

#include <ccdma/dma.h>

static struct ccdma_pool_config pc;

static void base_config(struct ccdma_dev_config *c)
{
	ccdma_dev_config_init(c);
	c->name = "badargs";
	c->mode = CCDMA_MODE_CONFIDENTIAL;
	c->pool_cfg = &pc;
}

static int try_config(void (*tweak)(struct ccdma_dev_config *))
{
	struct ccdma_dev_config c;
	struct ccdma_dev *d = (struct ccdma_dev *)&c; /* must be left alone */
	int rc;

	base_config(&c);
	tweak(&c);
	rc = ccdma_dev_create(&c, &d);
	if (!rc)
		ccdma_dev_destroy(d);
	else if (d != (struct ccdma_dev *)&c)
		return -1000; /* *out written on failure */
	return rc;
}

static void mask0(struct ccdma_dev_config *c) { c->dma_mask = 0; }
static void cmask0(struct ccdma_dev_config *c) { c->coherent_mask = 0; }
static void mask_holes(struct ccdma_dev_config *c) { c->dma_mask = 0xff00ffffull; }
static void cmask_holes(struct ccdma_dev_config *c) { c->coherent_mask = 0x1234; }
static void boundary(struct ccdma_dev_config *c) { c->seg_boundary = 0x10000; }
static void boundary_small(struct ccdma_dev_config *c) { c->seg_boundary = 15; }
static void align3(struct ccdma_dev_config *c) { c->addr_align = 3; }
static void align0(struct ccdma_dev_config *c) { c->addr_align = 0; }
static void align_big(struct ccdma_dev_config *c) { c->addr_align = 1u << 20; }
static void min_align(struct ccdma_dev_config *c) { c->min_align_mask = 0x1001; }
static void min_align_big(struct ccdma_dev_config *c)
{
	c->min_align_mask = (1ull << 25) - 1;
}
static void seg0(struct ccdma_dev_config *c) { c->max_seg_size = 0; }
static void flags(struct ccdma_dev_config *c) { c->flags = 1u << 10; }
static void mode(struct ccdma_dev_config *c) { c->mode = 5; }
static void xkind(struct ccdma_dev_config *c)
{
	c->xlate.kind = (enum ccdma_xlate_kind)9;
}
static void bit_low(struct ccdma_dev_config *c)
{
	c->xlate.kind = CCDMA_XLATE_SET_BIT;
	c->xlate.bit = 5;
}
static void bit_high(struct ccdma_dev_config *c)
{
	c->xlate.kind = CCDMA_XLATE_CLEAR_BIT;
	c->xlate.bit = 64;
}
static void iommu_mode(struct ccdma_dev_config *c)
{
	c->xlate.kind = CCDMA_XLATE_IOMMU;
	c->xlate.iommu = (enum ccdma_iommu_mode)3;
}
static void trusted_iommu(struct ccdma_dev_config *c)
{
	c->xlate.kind = CCDMA_XLATE_IOMMU;
	c->flags = CCDMA_DEV_F_TRUSTED;
}
static void good(struct ccdma_dev_config *c) { (void)c; }
static void good_edges(struct ccdma_dev_config *c)
{
	c->seg_boundary = 4095;
	c->addr_align = 65536;
	c->max_seg_size = 0xffffffffu;
	c->xlate.kind = CCDMA_XLATE_SET_BIT;
	c->xlate.bit = 63;
}

#define MAP_EINVAL(expr)                                                     \
	do {                                                                 \
		ccdma_addr_t a_ = (expr);                                    \
		CHECK(a_ == CCDMA_MAPPING_ERROR);                            \
		CHECK_EQ(ccdma_mapping_error(d, a_), -EINVAL);               \
	} while (0)

int main(void)
{
	struct ccdma_dev_config cfg;
	struct ccdma_region reg, fake;
	struct ccdma_dev *d;
	unsigned char buf[4096], got[4096], pat[4096];
	ccdma_addr_t dma, dma2, rdma;
	uint64_t pbase, psize;
	void *cp;

	test_init();
	ccdma_log_set_handler(quiet_log, NULL);
	test_config(&pc, "badargs");
	pc.initial_bytes = 1u << 20;

	/* Device configs. */
	CHECK_EQ(try_config(good), 0);
	CHECK_EQ(try_config(good_edges), 0);
	CHECK_EQ(try_config(mask0), -EINVAL);
	CHECK_EQ(try_config(cmask0), -EINVAL);
	CHECK_EQ(try_config(mask_holes), -EINVAL);
	CHECK_EQ(try_config(cmask_holes), -EINVAL);
	CHECK_EQ(try_config(boundary), -EINVAL);
	CHECK_EQ(try_config(boundary_small), -EINVAL);
	CHECK_EQ(try_config(align3), -EINVAL);
	CHECK_EQ(try_config(align0), -EINVAL);
	CHECK_EQ(try_config(align_big), -EINVAL);
	CHECK_EQ(try_config(min_align), -EINVAL);
	CHECK_EQ(try_config(min_align_big), -EINVAL);
	CHECK_EQ(try_config(seg0), -EINVAL);
	CHECK_EQ(try_config(flags), -EINVAL);
	CHECK_EQ(try_config(mode), -EINVAL);
	CHECK_EQ(try_config(xkind), -EINVAL);
	CHECK_EQ(try_config(bit_low), -EINVAL);
	CHECK_EQ(try_config(bit_high), -EINVAL);
	CHECK_EQ(try_config(iommu_mode), -EINVAL);
	CHECK_EQ(try_config(trusted_iommu), -EINVAL);
	base_config(&cfg);
	CHECK_EQ(ccdma_dev_create(&cfg, NULL), -EINVAL);
	CHECK_EQ(ccdma_dev_destroy(NULL), 0);

	base_config(&cfg);
	REQUIRE(ccdma_dev_create(&cfg, &d) == 0);
	memset(pat, 0x5e, sizeof(pat));

	/* map_single. */
	MAP_EINVAL(ccdma_map_single(NULL, buf, 100, CCDMA_TO_DEVICE));
	MAP_EINVAL(ccdma_map_single(d, NULL, 100, CCDMA_TO_DEVICE));
	MAP_EINVAL(ccdma_map_single(d, buf, 0, CCDMA_TO_DEVICE));
	MAP_EINVAL(ccdma_map_single(d, (void *)(UINTPTR_MAX - 10), 100,
				    CCDMA_TO_DEVICE));
	MAP_EINVAL(ccdma_map_single(d, buf, SIZE_MAX, CCDMA_TO_DEVICE));
	MAP_EINVAL(ccdma_map_single(d, buf, 100, (enum ccdma_dir)3));
	MAP_EINVAL(ccdma_map_single(d, buf, 100, (enum ccdma_dir)-1));
	MAP_EINVAL(ccdma_map_single_attrs(d, buf, 100, CCDMA_TO_DEVICE, 1u << 7));
	/* A bounce larger than the pool's largest allocation. */
	MAP_EINVAL(ccdma_map_single(d, buf, CCDMA_POOL_MAX_ALLOC + 1,
				    CCDMA_TO_DEVICE));
	/* Inside the pool's reservation but in no region. */
	CHECK_EQ(ccdma_pool_get_range(ccdma_dev_pool(d), &pbase, &psize), 0);
	MAP_EINVAL(ccdma_map_single(d, (void *)(uintptr_t)(pbase + psize - 4096),
				    100, CCDMA_TO_DEVICE));
	/* Pool memory that is no live allocation (freed). */
	REQUIRE(ccdma_pool_alloc(ccdma_dev_pool(d), 100, 0, &cp) == 0);
	CHECK_EQ(ccdma_pool_free(ccdma_dev_pool(d), cp, 0), 0);
	MAP_EINVAL(ccdma_map_single(d, cp, 100, CCDMA_TO_DEVICE));
	/* ccdma_mapping_error on a good address is 0 whatever came before. */
	CHECK_EQ(ccdma_mapping_error(d, 0x1000), 0);

	/* A live bounced mapping, then refused calls on and around it. */
	memset(buf, 0x17, sizeof(buf));
	dma = ccdma_map_single(d, buf, sizeof(buf), CCDMA_BIDIRECTIONAL);
	REQUIRE(ccdma_mapping_error(d, dma) == 0);
	REQUIRE(dma != (uintptr_t)buf);
	CHECK_EQ(ccdma_unmap_single(NULL, dma, sizeof(buf), CCDMA_BIDIRECTIONAL),
		 -EINVAL);
	CHECK_EQ(ccdma_unmap_single(d, dma, 0, CCDMA_BIDIRECTIONAL), -EINVAL);
	CHECK_EQ(ccdma_unmap_single(d, dma, sizeof(buf), (enum ccdma_dir)3), -EINVAL);
	CHECK_EQ(ccdma_unmap_single_attrs(d, dma, sizeof(buf), CCDMA_BIDIRECTIONAL,
					  1u << 9), -EINVAL);
	CHECK_EQ(ccdma_unmap_single(d, CCDMA_MAPPING_ERROR, sizeof(buf),
				    CCDMA_BIDIRECTIONAL), -EINVAL);
	/* Inside the mapping but not its start. */
	CHECK_EQ(ccdma_unmap_single(d, dma + 1, sizeof(buf) - 1, CCDMA_BIDIRECTIONAL),
		 -EINVAL);
	CHECK_EQ(ccdma_unmap_single(d, dma + 2048, 2048, CCDMA_BIDIRECTIONAL),
		 -EINVAL);
	/* Random addresses: private memory, the zero page, the top. */
	CHECK_EQ(ccdma_unmap_single(d, (uintptr_t)got, 100, CCDMA_TO_DEVICE), -EINVAL);
	CHECK_EQ(ccdma_unmap_single(d, 0x1000, 100, CCDMA_TO_DEVICE), -EINVAL);
	CHECK_EQ(ccdma_unmap_single(d, ~0ull - 1, 1, CCDMA_TO_DEVICE), -EINVAL);
	/* Syncs. */
	CHECK_EQ(ccdma_sync_single_for_cpu(NULL, dma, 10, CCDMA_BIDIRECTIONAL), -EINVAL);
	CHECK_EQ(ccdma_sync_single_for_cpu(d, dma, 0, CCDMA_BIDIRECTIONAL), -EINVAL);
	CHECK_EQ(ccdma_sync_single_for_device(d, dma, 0, CCDMA_BIDIRECTIONAL), -EINVAL);
	CHECK_EQ(ccdma_sync_single_for_cpu(d, dma, 10, (enum ccdma_dir)4), -EINVAL);
	CHECK_EQ(ccdma_sync_single_for_cpu(d, CCDMA_MAPPING_ERROR, 10,
					   CCDMA_BIDIRECTIONAL), -EINVAL);
	CHECK_EQ(ccdma_sync_single_range_for_cpu(d, dma, SIZE_MAX, 10,
						 CCDMA_BIDIRECTIONAL), -EINVAL);
	CHECK_EQ(ccdma_sync_single_range_for_device(d, dma, 0, SIZE_MAX,
						    CCDMA_BIDIRECTIONAL), -EINVAL);
	CHECK_EQ(ccdma_sync_single_for_cpu(d, (uintptr_t)got, 10,
					   CCDMA_BIDIRECTIONAL), -EINVAL);
	CHECK_EQ(ccdma_sync_single_for_cpu(d, 0x1000, 10, CCDMA_BIDIRECTIONAL), -EINVAL);
	/* Nothing was lost or copied: the device still reads the buffer's
	 * bytes at the mapping, its write comes back once at unmap. */
	CHECK_EQ(ccdma_dev_read(d, dma, got, sizeof(got)), 0);
	CHECK(memcmp(got, buf, sizeof(got)) == 0);
	CHECK_EQ(ccdma_dev_write(d, dma, pat, sizeof(pat)), 0);
	CHECK(buf[0] == 0x17);
	CHECK_EQ(ccdma_unmap_single(d, dma, sizeof(buf), CCDMA_BIDIRECTIONAL), 0);
	CHECK(memcmp(buf, pat, sizeof(buf)) == 0);
	/* Double unmap: the bounce is gone. */
	memset(buf, 0x17, sizeof(buf));
	CHECK_EQ(ccdma_unmap_single(d, dma, sizeof(buf), CCDMA_BIDIRECTIONAL), -EINVAL);
	CHECK(buf[0] == 0x17);

	/* A double unmap after the bounce memory was reused by another
	 * mapping of a different size: refused (the other mapping's start
	 * is elsewhere, or it is not the same allocation). */
	dma = ccdma_map_single(d, buf, 1000, CCDMA_TO_DEVICE);
	REQUIRE(ccdma_mapping_error(d, dma) == 0);
	CHECK_EQ(ccdma_unmap_single(d, dma, 1000, CCDMA_TO_DEVICE), 0);
	CHECK_EQ(ccdma_unmap_single(d, dma, 1000, CCDMA_TO_DEVICE), -EINVAL);

	/* Device accessor. */
	CHECK_EQ(ccdma_dev_access(NULL, 0x1000, 1, CCDMA_ACCESS_READ, &cp), -EINVAL);
	CHECK_EQ(ccdma_dev_read(NULL, 0x1000, got, 1), -EINVAL);
	CHECK_EQ(ccdma_dev_write(d, 0x1000, NULL, 1), -EINVAL);
	CHECK_EQ(ccdma_dev_read(d, 0x1000, got, 0), -EINVAL);
	CHECK_EQ(ccdma_dev_faults(NULL), 0);

	/* Masks and ranges on NULL. */
	CHECK_EQ(ccdma_dev_set_coherent_mask(NULL, ~0ull), -EINVAL);
	CHECK_EQ(ccdma_dev_set_mask_and_coherent(NULL, ~0ull), -EINVAL);
	CHECK(ccdma_dev_pool(NULL) == NULL);
	CHECK_EQ(ccdma_dev_pool_dma_range(NULL, &dma, &dma2), -EINVAL);
	CHECK_EQ(ccdma_dev_pool_dma_range(d, NULL, &dma2), -EINVAL);

	/* Regions. */
	REQUIRE(ccdma_region_create(64u << 10, "badargs-reg", &reg) == 0);
	CHECK_EQ(ccdma_dev_attach_region(NULL, &reg, &rdma), -EINVAL);
	CHECK_EQ(ccdma_dev_attach_region(d, NULL, &rdma), -EINVAL);
	fake = reg;
	fake.addr = (char *)reg.addr + 1;
	fake.size = 4096;
	CHECK_EQ(ccdma_dev_attach_region(d, &fake, &rdma), -EINVAL); /* unaligned */
	fake.addr = reg.addr;
	fake.size = 0;
	CHECK_EQ(ccdma_dev_attach_region(d, &fake, &rdma), -EINVAL);
	fake.addr = (void *)(UINTPTR_MAX & ~(uintptr_t)4095);
	fake.size = 8192;
	CHECK_EQ(ccdma_dev_attach_region(d, &fake, &rdma), -EINVAL); /* wraps */
	fake.addr = (void *)(uintptr_t)pbase;
	fake.size = 4096;
	CHECK_EQ(ccdma_dev_attach_region(d, &fake, &rdma), -EINVAL); /* the pool */
	fake.addr = (void *)(uintptr_t)(pbase - 4096);
	fake.size = 8192;
	CHECK_EQ(ccdma_dev_attach_region(d, &fake, &rdma), -EINVAL); /* pool start */
	CHECK_EQ(ccdma_dev_attach_region(d, &reg, &rdma), 0);
	CHECK_EQ(ccdma_dev_attach_region(d, &reg, &rdma), -EINVAL); /* twice */
	fake.addr = (char *)reg.addr + 4096;
	fake.size = 4096;
	CHECK_EQ(ccdma_dev_attach_region(d, &fake, &rdma), -EINVAL); /* inside */
	fake.addr = (char *)reg.addr - 4096;
	fake.size = 8192;
	CHECK_EQ(ccdma_dev_attach_region(d, &fake, &rdma), -EINVAL); /* head */
	fake.addr = (char *)reg.addr + reg.size - 4096;
	fake.size = 8192;
	CHECK_EQ(ccdma_dev_attach_region(d, &fake, &rdma), -EINVAL); /* tail */
	fake.addr = (char *)reg.addr - 4096;
	fake.size = reg.size + 8192;
	CHECK_EQ(ccdma_dev_attach_region(d, &fake, &rdma), -EINVAL); /* around */
	/* The attached region still works. */
	dma = ccdma_map_single(d, reg.addr, 100, CCDMA_TO_DEVICE);
	CHECK(dma == rdma);
	CHECK_EQ(ccdma_unmap_single(d, dma, 100, CCDMA_TO_DEVICE), 0);
	/* A map running off the region's end is not a shared buffer. */
	MAP_EINVAL(ccdma_map_single(d, (char *)reg.addr + reg.size - 10, 100,
				    CCDMA_TO_DEVICE));
	fake = reg;
	fake.size = 4096;
	CHECK_EQ(ccdma_dev_detach_region(d, &fake), -EINVAL); /* not as attached */
	CHECK_EQ(ccdma_dev_detach_region(d, NULL), -EINVAL);
	CHECK_EQ(ccdma_dev_detach_region(d, &reg), 0);
	CHECK_EQ(ccdma_dev_detach_region(d, &reg), -EINVAL); /* twice */
	ccdma_region_destroy(&reg);

	CHECK_EQ(ccdma_dev_destroy(d), 0);
	ccdma_log_set_handler(NULL, NULL);
	return test_done("dma_badargs");
}
