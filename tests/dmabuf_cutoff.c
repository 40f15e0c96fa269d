/* SPDX-License-Identifier: MIT */
/*
 * The cut-off at the device boundary: on a device behind a strict IOMMU an
 * attachment holds the I/O page-table window over its ranges, and the
 * device itself, with the raw DMA address it kept (ccdma_dev_access), can
 * reach the memory only while that window is open:
 *   - revocable: an importer that never confirms is cut off, and the raw
 *     address faults afterwards;
 *   - dynamic: after a move the old place faults at once (no DMA lands
 *     there after the callback); after ccdma_dmabuf_map() the new one is
 *     reachable;
 *   - pinned: detach closes it.
 * Without an IOMMU the device reaches the pool anyway (as hardware does):
 * the raw address still works after a revoke, and only the attachment's
 * own calls refuse (-EACCES).
 *
 * The I/O page table's granule is the CPU page: each buffer here is one
 * whole page (4 KiB, or 64 KiB on a 64 KiB-page kernel), so no two share
 * one.
 */
#include "dmabuf_util.h"

#include <unistd.h>

static size_t pg;

static int moves;

static void on_move(struct ccdma_dmabuf_attach *att, void *arg)
{
	(void)att;
	(void)arg;
	moves++;
}

static void on_revoke(struct ccdma_dmabuf_attach *att, void *arg)
{
	(void)att;
	(void)arg;
}

/* One whole page of d's pool, page aligned, filled with `fill`. */
static unsigned char *page_mem(struct ccdma_dev *d, int fill)
{
	struct ccdma_pool_req r = { .size = pg, .align = pg };
	void *p = NULL;

	REQUIRE(!ccdma_pool_alloc_req(ccdma_dev_pool(d), &r, &p));
	memset(p, fill, pg);
	return p;
}

static struct ccdma_dev *strict_dev(const char *name)
{
	struct ccdma_dev_config c;

	ccdma_dev_config_init(&c);
	c.xlate.kind = CCDMA_XLATE_IOMMU;
	c.xlate.iommu = CCDMA_IOMMU_STRICT;
	test_config(&dmabuf_pc, name);
	return test_dev(name, &c, CCDMA_MODE_CONFIDENTIAL, &dmabuf_pc);
}

/* The device reads one byte at a raw DMA address: the byte, or -errno. */
static int raw_byte(struct ccdma_dev *d, ccdma_addr_t dma)
{
	void *cpu = NULL;
	int rc = ccdma_dev_access(d, dma, 1, CCDMA_ACCESS_READ, &cpu);

	return rc ? rc : *(unsigned char *)cpu;
}

static ccdma_addr_t seg0(struct ccdma_dmabuf_attach *a)
{
	ccdma_addr_t dma = 0;
	size_t len = 0;

	CHECK_EQ(ccdma_dmabuf_seg(a, 0, &dma, &len), 0);
	return dma;
}

static void revoke_case(struct ccdma_dev *d, bool strict)
{
	struct ccdma_dmabuf_importer silent = { .revoke = on_revoke };
	struct ccdma_dmabuf *b;
	struct ccdma_dmabuf_attach *a;
	unsigned char *m = page_mem(d, 0x5a);
	ccdma_addr_t dma;
	int rc;

	REQUIRE(!ccdma_dmabuf_create("cut", 0, &b));
	REQUIRE(!ccdma_dmabuf_add(b, m, pg));
	/* Not reachable before anything maps it (strict). */
	REQUIRE(!ccdma_dmabuf_attach(b, d, CCDMA_DMABUF_REVOCABLE, &silent, &a));
	dma = seg0(a);
	CHECK_EQ(raw_byte(d, dma + 100), 0x5a);
	CAPTURE(rc = ccdma_dmabuf_revoke(b, 1000000ull));
	CHECK_EQ(rc, 1);
	CHECK_EQ(dmabuf_dev_byte(a, 100), -EACCES);
	/* The window closed: the raw address faults, only with the IOMMU. */
	if (strict)
		CHECK_EQ(raw_byte(d, dma + 100), -EFAULT);
	else
		CHECK_EQ(raw_byte(d, dma + 100), 0x5a);
	CHECK_EQ(ccdma_dmabuf_detach(a), 0);
	CHECK_EQ(ccdma_dmabuf_destroy(b), 0);
	CHECK_EQ(ccdma_pool_free(ccdma_dev_pool(d), m, pg), 0);
}

static void move_case(struct ccdma_dev *d)
{
	struct ccdma_dmabuf_importer imp = { .move = on_move };
	struct ccdma_dmabuf *b;
	struct ccdma_dmabuf_attach *a;
	unsigned char *m = page_mem(d, 0x11);
	unsigned char *to = page_mem(d, 0);
	ccdma_addr_t old, now;

	REQUIRE(!ccdma_dmabuf_create("mv", 0, &b));
	REQUIRE(!ccdma_dmabuf_add(b, m, pg));
	REQUIRE(!ccdma_dmabuf_attach(b, d, CCDMA_DMABUF_DYNAMIC, &imp, &a));
	old = seg0(a);
	CHECK_EQ(raw_byte(d, old), 0x11);
	/* The destination is not reachable before the importer maps it. */
	CHECK_EQ(ccdma_dmabuf_move(b, 0, to), 0);
	CHECK_EQ(moves, 1);
	CHECK_EQ(raw_byte(d, old), -EFAULT);
	CHECK_EQ(ccdma_dmabuf_map(a), 0);
	now = seg0(a);
	CHECK(now != old);
	CHECK_EQ(raw_byte(d, now), 0x11);
	CHECK_EQ(raw_byte(d, old), -EFAULT);
	CHECK_EQ(ccdma_dmabuf_detach(a), 0);
	CHECK_EQ(raw_byte(d, now), -EFAULT);
	CHECK_EQ(ccdma_dmabuf_destroy(b), 0);
	CHECK_EQ(ccdma_pool_free(ccdma_dev_pool(d), m, pg), 0);
	CHECK_EQ(ccdma_pool_free(ccdma_dev_pool(d), to, pg), 0);
}

static void pinned_case(struct ccdma_dev *d)
{
	struct ccdma_dmabuf *b;
	struct ccdma_dmabuf_attach *a, *a2;
	unsigned char *m = page_mem(d, 0x33);
	ccdma_addr_t dma;

	REQUIRE(!ccdma_dmabuf_create("pin", 0, &b));
	REQUIRE(!ccdma_dmabuf_add(b, m, pg));
	REQUIRE(!ccdma_dmabuf_attach(b, d, CCDMA_DMABUF_PINNED, NULL, &a));
	REQUIRE(!ccdma_dmabuf_attach(b, d, CCDMA_DMABUF_PINNED, NULL, &a2));
	dma = seg0(a);
	CHECK_EQ(raw_byte(d, dma), 0x33);
	/* Two attachments: the window stays open until both are gone. */
	CHECK_EQ(ccdma_dmabuf_detach(a), 0);
	CHECK_EQ(raw_byte(d, dma), 0x33);
	CHECK_EQ(ccdma_dmabuf_detach(a2), 0);
	CHECK_EQ(raw_byte(d, dma), -EFAULT);
	CHECK_EQ(ccdma_dmabuf_destroy(b), 0);
	CHECK_EQ(ccdma_pool_free(ccdma_dev_pool(d), m, pg), 0);
}

int main(void)
{
	struct ccdma_dev *s, *plain;

	test_init();
	pg = (size_t)sysconf(_SC_PAGESIZE);
	s = strict_dev("dmabuf_cutoff_strict");
	revoke_case(s, true);
	move_case(s);
	pinned_case(s);
	ccdma_dev_destroy(s);
	plain = dmabuf_dev("dmabuf_cutoff_plain", 0);
	revoke_case(plain, false);
	ccdma_dev_destroy(plain);
	return test_done("dmabuf_cutoff");
}
