/* SPDX-License-Identifier: MIT */
/*
 * Strict IOMMU, dense pool: when a bounce's I/O page table entries were
 * taken by another unmap, its own unmap fails closed.
 *
 * A coherent buffer C and a TO_DEVICE bounce B share a page.  C is mapped
 * again in place FROM_DEVICE, then unmapped with the wrong direction
 * (TO_DEVICE): without the checker nothing records in-place mappings, and
 * the page is readable thanks to B, so that unmap takes B's read
 * permission.  Freeing C takes the rest.  B's unmap then finds no read
 * permission to remove: it returns -EIO (it used to return 0), and since
 * the device can still write the page (the in-place mapping's permission
 * was never removed), B's bounce slot is withheld from reuse.
 */
#include "test.h"

#define LEN 256
#define NB 64

int main(void)
{
	size_t ps = ccdma_page_size();
	struct ccdma_pool_config pc;
	struct ccdma_dev_config cfg;
	struct ccdma_pool_stats st;
	struct ccdma_dev *d;
	static unsigned char priv[NB][LEN];
	ccdma_addr_t cdma, idma, b[NB], bdma = 0;
	unsigned char one = 0x77;
	unsigned i, pick = NB;
	void *c;

	test_init();
	if (!getenv("CCDMA_TEST_VERBOSE"))
		ccdma_log_set_handler(quiet_log, NULL);
	test_config(&pc, "lost");
	pc.flags = CCDMA_POOL_F_NO_GROWER;
	ccdma_dev_config_init(&cfg);
	cfg.name = "lost";
	cfg.mode = CCDMA_MODE_CONFIDENTIAL;
	cfg.pool_cfg = &pc;
	cfg.xlate.kind = CCDMA_XLATE_IOMMU;
	cfg.xlate.iommu = CCDMA_IOMMU_STRICT;
	REQUIRE(ccdma_dev_create(&cfg, &d) == 0);

	REQUIRE(ccdma_alloc_coherent(d, LEN, &c, &cdma, 0) == 0);
	/* A bounce on C's page (small slots of one class share pages). */
	for (i = 0; i < NB; i++) {
		memset(priv[i], (int)i, LEN);
		b[i] = ccdma_map_single(d, priv[i], LEN, CCDMA_TO_DEVICE);
		REQUIRE(ccdma_mapping_error(d, b[i]) == 0);
		if (pick == NB && b[i] / ps == cdma / ps) {
			pick = i;
			bdma = b[i];
		}
	}
	if (pick == NB) {
		printf("no bounce landed on the coherent buffer's page: skipped\n");
		return 77;
	}
	for (i = 0; i < NB; i++)
		if (i != pick)
			CHECK_EQ(ccdma_unmap_single(d, b[i], LEN, CCDMA_TO_DEVICE), 0);

	/* C mapped in place for the device to write, unmapped as TO_DEVICE:
	 * accepted (the page is readable, through B). */
	idma = ccdma_map_single(d, c, LEN, CCDMA_FROM_DEVICE);
	REQUIRE(ccdma_mapping_error(d, idma) == 0);
	CHECK_EQ(idma, cdma);
	CHECK_EQ(ccdma_unmap_single(d, idma, LEN, CCDMA_TO_DEVICE), 0);
	CHECK_EQ(ccdma_free_coherent(d, LEN, c, cdma), 0);

	/* B's read permission is gone: its unmap fails closed. */
	CHECK_EQ(ccdma_unmap_single(d, bdma, LEN, CCDMA_TO_DEVICE), -EIO);
	/* The device can still write the page (why the slot is withheld). */
	CHECK_EQ(ccdma_dev_write(d, bdma, &one, 1), 0);
	CHECK_EQ(ccdma_pool_get_stats(ccdma_dev_pool(d), &st), 0);
	CHECK_EQ(st.classes[ccdma_pool_class_of(LEN)].in_use, 1);
	/* Still withheld on a second try. */
	CHECK_EQ(ccdma_unmap_single(d, bdma, LEN, CCDMA_TO_DEVICE), -EIO);
	CHECK_EQ(ccdma_pool_get_stats(ccdma_dev_pool(d), &st), 0);
	CHECK_EQ(st.classes[ccdma_pool_class_of(LEN)].in_use, 1);
	ccdma_dev_destroy(d);
	return test_done("dma_strict_lost_perm");
}
