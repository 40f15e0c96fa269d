/* SPDX-License-Identifier: MIT */
/*
 * A pinned attachment: the device's segment is the DMA address of the pool
 * allocation, the device reads the data through it, and a move of the
 * buffer is refused with -EBUSY (nothing changes: same address, same data)
 * while it is attached; after detach the move is allowed.
 */
#include "dmabuf_util.h"

int main(void)
{
	struct ccdma_dev *d;
	struct ccdma_dmabuf *b;
	struct ccdma_dmabuf_attach *a = NULL;
	ccdma_addr_t dma = 0, dma2 = 0;
	size_t len = 0;
	unsigned char *m, *m2;
	int rc;

	test_init();
	d = dmabuf_dev("dmabuf_pinned", 0);
	m = dmabuf_mem(d, 4096, 0x5a);
	m2 = dmabuf_mem(d, 4096, 0);
	REQUIRE(!ccdma_dmabuf_create("exporter", 0, &b));
	REQUIRE(!ccdma_dmabuf_add(b, m, 4096));
	CHECK_EQ(ccdma_dmabuf_size(b), 4096);
	REQUIRE(!ccdma_dmabuf_attach(b, d, CCDMA_DMABUF_PINNED, NULL, &a));
	CHECK_EQ(ccdma_dmabuf_nsegs(a), 1);
	CHECK_EQ(ccdma_dmabuf_seg(a, 0, &dma, &len), 0);
	CHECK_EQ(len, 4096);
	CHECK_EQ(dmabuf_dev_byte(a, 100), 0x5a);

	CAPTURE(rc = ccdma_dmabuf_move(b, 0, m2));
	CHECK_EQ(rc, -EBUSY);
	CHECK(strstr(dmabuf_msg, "dmabuf_pinned") && strstr(dmabuf_msg, "pinned attachment"));
	CHECK_EQ(ccdma_dmabuf_seg(a, 0, &dma2, &len), 0);
	CHECK_EQ(dma2, dma);
	CHECK_EQ(m2[100], 0);
	CHECK_EQ(dmabuf_dev_byte(a, 100), 0x5a);
	CAPTURE(rc = ccdma_dmabuf_destroy(b));
	CHECK_EQ(rc, -EBUSY);

	CHECK_EQ(ccdma_dmabuf_detach(a), 0);
	CHECK_EQ(ccdma_dmabuf_move(b, 0, m2), 0);
	CHECK_EQ(m2[100], 0x5a);
	CHECK_EQ(ccdma_dmabuf_destroy(b), 0);
	ccdma_pool_free(ccdma_dev_pool(d), m, SIZE_MAX);
	ccdma_pool_free(ccdma_dev_pool(d), m2, SIZE_MAX);
	ccdma_dev_destroy(d);
	return test_done("dmabuf_pinned");
}
