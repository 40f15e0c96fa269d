/* SPDX-License-Identifier: MIT */
/*
 * A dynamic attachment: move calls the importer's move callback once,
 * after which the old addresses are refused (-ESTALE) until the importer
 * maps again; then the device sees the data at the new DMA address.  The
 * buffer has two ranges; only range 1 moves.
 */
#include "dmabuf_util.h"

static int moves;

static void on_move(struct ccdma_dmabuf_attach *att, void *arg)
{
	ccdma_addr_t dma;
	size_t len;

	CHECK(arg == &moves);
	/* Already stale when the importer hears of it. */
	CHECK_EQ(ccdma_dmabuf_seg(att, 1, &dma, &len), -ESTALE);
	moves++;
}

int main(void)
{
	struct ccdma_dmabuf_importer imp = { .move = on_move, .arg = &moves };
	struct ccdma_dev *d;
	struct ccdma_dmabuf *b;
	struct ccdma_dmabuf_attach *a = NULL;
	ccdma_addr_t d0 = 0, d1 = 0, n1 = 0, x = 0;
	size_t len = 0;
	unsigned char *m0, *m1, *to;

	test_init();
	d = dmabuf_dev("dmabuf_dynamic", 0);
	m0 = dmabuf_mem(d, 4096, 0x11);
	m1 = dmabuf_mem(d, 8192, 0x22);
	to = dmabuf_mem(d, 8192, 0);
	m1[8191] = 0x33;
	REQUIRE(!ccdma_dmabuf_create("dyn", 0, &b));
	REQUIRE(!ccdma_dmabuf_add(b, m0, 4096));
	REQUIRE(!ccdma_dmabuf_add(b, m1, 8192));
	REQUIRE(!ccdma_dmabuf_attach(b, d, CCDMA_DMABUF_DYNAMIC, &imp, &a));
	CHECK_EQ(ccdma_dmabuf_seg(a, 0, &d0, &len), 0);
	CHECK_EQ(ccdma_dmabuf_seg(a, 1, &d1, &len), 0);
	CHECK_EQ(len, 8192);
	CHECK_EQ(dmabuf_dev_byte(a, 4096 + 8191), 0x33);

	CHECK_EQ(ccdma_dmabuf_move(b, 1, to), 0);
	CHECK_EQ(moves, 1);
	CHECK_EQ(ccdma_dmabuf_seg(a, 1, &x, &len), -ESTALE);
	CHECK_EQ(dmabuf_dev_byte(a, 4096), -ESTALE);
	memset(m1, 0, 8192); /* the old memory is the exporter's again */

	CHECK_EQ(ccdma_dmabuf_map(a), 0);
	CHECK_EQ(ccdma_dmabuf_seg(a, 0, &x, &len), 0);
	CHECK_EQ(x, d0);
	CHECK_EQ(ccdma_dmabuf_seg(a, 1, &n1, &len), 0);
	CHECK(n1 != d1);
	CHECK_EQ(n1 - d1, (ccdma_addr_t)((uintptr_t)to - (uintptr_t)m1));
	CHECK_EQ(dmabuf_dev_byte(a, 4096), 0x22);
	CHECK_EQ(dmabuf_dev_byte(a, 4096 + 8191), 0x33);
	CHECK_EQ(dmabuf_dev_byte(a, 0), 0x11);

	CHECK_EQ(ccdma_dmabuf_detach(a), 0);
	CHECK_EQ(ccdma_dmabuf_destroy(b), 0);
	ccdma_pool_free(ccdma_dev_pool(d), m0, SIZE_MAX);
	ccdma_pool_free(ccdma_dev_pool(d), m1, SIZE_MAX);
	ccdma_pool_free(ccdma_dev_pool(d), to, SIZE_MAX);
	ccdma_dev_destroy(d);
	return test_done("dmabuf_dynamic");
}
