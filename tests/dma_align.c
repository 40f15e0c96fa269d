/* SPDX-License-Identifier: MIT */
/*
 * Device alignment: with min_align_mask 4095 (NVMe) a bounce keeps the low
 * 12 bits of the original address, small and large; with addr_align 512 a
 * misaligned buffer (private, even in direct mode, or shared) is bounced
 * into a 512-aligned DMA address while an aligned one goes straight
 * through, and coherent memory is 512-aligned whatever its size.
 */
#include "test.h"

#include <ccdma/dma.h>

static struct ccdma_dev *mkdev(int mode, uint64_t min_align_mask,
			       size_t addr_align)
{
	static struct ccdma_pool_config pc;
	struct ccdma_dev_config cfg;
	struct ccdma_dev *d = NULL;

	test_config(&pc, "align");
	pc.initial_bytes = 4u << 20;
	pc.region_size = 4u << 20;
	ccdma_dev_config_init(&cfg);
	cfg.name = "align";
	cfg.mode = mode;
	cfg.min_align_mask = min_align_mask;
	cfg.addr_align = addr_align;
	cfg.pool_cfg = &pc;
	REQUIRE(ccdma_dev_create(&cfg, &d) == 0);
	return d;
}

/* Map TO_DEVICE, check the device reads the bytes; returns the DMA
 * address (unmapped again). */
static ccdma_addr_t map_check(struct ccdma_dev *d, unsigned char *p,
			      size_t len)
{
	unsigned char *got = malloc(len);
	ccdma_addr_t dma;
	size_t i;

	REQUIRE(got);
	for (i = 0; i < len; i++)
		p[i] = (unsigned char)(i * 31 + len);
	dma = ccdma_map_single(d, p, len, CCDMA_TO_DEVICE);
	REQUIRE(ccdma_mapping_error(d, dma) == 0);
	CHECK_EQ(ccdma_dev_read(d, dma, got, len), 0);
	CHECK(memcmp(got, p, len) == 0);
	CHECK_EQ(ccdma_unmap_single(d, dma, len, CCDMA_TO_DEVICE), 0);
	free(got);
	return dma;
}

int main(void)
{
	static const size_t offs[] = { 0, 1, 8, 0x123, 0x800, 0xfff };
	static const size_t lens[] = { 1, 100, 512, 3000, 4096, 10000, 40000,
				       300000 };
	unsigned char *mem = aligned_alloc(65536, 1u << 20);
	struct ccdma_dev *d;
	ccdma_addr_t dma;
	void *cpu, *sh;
	unsigned i, j;

	test_init();
	REQUIRE(mem);

	/* NVMe: low 12 bits kept, confidential mode (always bounced). */
	d = mkdev(CCDMA_MODE_CONFIDENTIAL, 4095, 1);
	for (i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		for (j = 0; j < sizeof(lens) / sizeof(lens[0]); j++) {
			unsigned char *p = mem + 4096 + offs[i];

			dma = map_check(d, p, lens[j]);
			CHECK(dma != (uintptr_t)p);
			if ((dma & 4095) != ((uintptr_t)p & 4095)) {
				fprintf(stderr, "offset %#zx len %zu: dma %#llx\n",
					offs[i], lens[j], (unsigned long long)dma);
				test_failures++;
			}
		}
	}
	CHECK_EQ(ccdma_dev_destroy(d), 0);

	/* A smaller mask keeps fewer bits. */
	d = mkdev(CCDMA_MODE_CONFIDENTIAL, 511, 1);
	for (i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		unsigned char *p = mem + 8192 + offs[i];

		dma = map_check(d, p, 2000);
		CHECK_EQ(dma & 511, (uintptr_t)p & 511);
	}
	CHECK_EQ(ccdma_dev_destroy(d), 0);

	/* addr_align 512 in direct mode: only misaligned buffers bounce. */
	d = mkdev(CCDMA_MODE_DIRECT, 0, 512);
	for (i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		unsigned char *p = mem + 4096 + offs[i];

		for (j = 0; j < sizeof(lens) / sizeof(lens[0]); j++) {
			dma = map_check(d, p, lens[j]);
			CHECK_EQ(dma & 511, 0);
			if (((uintptr_t)p & 511) == 0)
				CHECK(dma == (uintptr_t)p);
			else
				CHECK(dma != (uintptr_t)p);
		}
	}
	/* 512-aligned, but not at 1024: no bounce either. */
	CHECK(map_check(d, mem + 512, 100) == (uintptr_t)(mem + 512));
	/* Coherent memory honours addr_align at every size. */
	for (j = 1; j <= 4096; j *= 4) {
		CHECK_EQ(ccdma_alloc_coherent(d, j, &cpu, &dma, 0), 0);
		CHECK_EQ(dma & 511, 0);
		CHECK_EQ(ccdma_free_coherent(d, j, cpu, dma), 0);
	}
	/* Aligned shared memory goes straight through. */
	REQUIRE(ccdma_pool_alloc(ccdma_dev_pool(d), 4096, 0, &sh) == 0);
	CHECK_EQ((uintptr_t)sh & 511, 0);
	CHECK(map_check(d, sh, 1000) == (uintptr_t)sh);
	/* Misaligned shared memory cannot be given to the device as is: it
	 * is bounced to an aligned address too. */
	dma = map_check(d, (unsigned char *)sh + 8, 1000);
	CHECK_EQ(dma & 511, 0);
	CHECK_EQ(ccdma_pool_free(ccdma_dev_pool(d), sh, 0), 0);
	CHECK_EQ(ccdma_dev_destroy(d), 0);

	/* addr_align 512 in confidential mode: the bounce is aligned. */
	d = mkdev(CCDMA_MODE_CONFIDENTIAL, 0, 512);
	for (i = 0; i < sizeof(offs) / sizeof(offs[0]); i++)
		CHECK_EQ(map_check(d, mem + 4096 + offs[i], 700) & 511, 0);
	CHECK_EQ(ccdma_dev_destroy(d), 0);

	/* Both at once are refused at creation: a bounce that keeps the
	 * original's low bits could not also be aligned. */
	{
		struct ccdma_dev_config cfg;
		struct ccdma_dev *bad = NULL;

		ccdma_dev_config_init(&cfg);
		cfg.mode = CCDMA_MODE_CONFIDENTIAL;
		cfg.min_align_mask = 4095;
		cfg.addr_align = 512;
		CHECK_EQ(ccdma_dev_create(&cfg, &bad), -EINVAL);
		CHECK(bad == NULL);
	}
	(void)dma;

	free(mem);
	return test_done("dma_align");
}
