/* SPDX-License-Identifier: MIT */
/*
 * An attachment as a segment list with the device's limits: a device that
 * takes segments of at most 1 KiB, none crossing a 4 KiB line, attaches a
 * buffer of three ranges (two contiguous); the segments carry every byte
 * in order, none longer than 1 KiB nor crossing a line, contiguous ranges
 * merged; too little storage is -ENOSPC; a moved buffer is -ESTALE until
 * mapped again, a revoked one -EACCES.
 */
#include "dmabuf_util.h"

static void on_move(struct ccdma_dmabuf_attach *att, void *arg)
{
	(void)att;
	(void)arg;
}

/* The segments carry [start of range 0 ...) in order: check limits and
 * sum; returns the number of segments. */
static unsigned check_segs(const struct ccdma_seg_list *l, uint64_t total)
{
	uint64_t sum = 0;

	for (uint32_t i = 0; i < l->n; i++) {
		const struct ccdma_seg *s = &l->seg[i];

		CHECK(s->len > 0 && s->len <= 1024);
		CHECK_EQ(s->addr >> 12, (s->addr + s->len - 1) >> 12);
		CHECK_EQ(s->flags, CCDMA_SEG_SHARED);
		/* Contiguous neighbours are only split at a limit. */
		if (i && l->seg[i - 1].addr + l->seg[i - 1].len == s->addr)
			CHECK(l->seg[i - 1].len == 1024 || (s->addr & 4095) == 0);
		sum += s->len;
	}
	CHECK_EQ(sum, total);
	return l->n;
}

int main(void)
{
	struct ccdma_dmabuf_importer imp = { .move = on_move };
	struct ccdma_dev_config c;
	struct ccdma_dev *d;
	struct ccdma_dmabuf *b;
	struct ccdma_dmabuf_attach *a;
	struct ccdma_seg seg[64];
	struct ccdma_seg_list l;
	unsigned char *m, *to;
	ccdma_addr_t dma0;
	size_t len0;
	int n;

	test_init();
	ccdma_dev_config_init(&c);
	c.max_seg_size = 1024;
	c.seg_boundary = 4095;
	test_config(&dmabuf_pc, "dmabuf_segs");
	d = test_dev("dmabuf_segs", &c, CCDMA_MODE_CONFIDENTIAL, &dmabuf_pc);
	m = dmabuf_mem(d, 16384, 1);
	to = dmabuf_mem(d, 16384, 0);
	REQUIRE(!ccdma_dmabuf_create("segs", 0, &b));
	/* 6000 bytes from offset 512, then 100 right after (contiguous),
	 * then 3000 elsewhere. */
	REQUIRE(!ccdma_dmabuf_add(b, m + 512, 6000));
	REQUIRE(!ccdma_dmabuf_add(b, m + 6512, 100));
	REQUIRE(!ccdma_dmabuf_add(b, m + 9000, 3000));
	REQUIRE(!ccdma_dmabuf_attach(b, d, CCDMA_DMABUF_DYNAMIC, &imp, &a));
	ccdma_segs_init(&l, seg, 64);
	n = ccdma_dmabuf_segs(a, &l);
	CHECK(n > 0);
	CHECK_EQ(check_segs(&l, 9100), (unsigned)n);
	/* The first starts where range 0 does. */
	CHECK_EQ(ccdma_dmabuf_seg(a, 0, &dma0, &len0), 0);
	CHECK_EQ(l.seg[0].addr, dma0);
	/* The allocation's DMA address is 4 KiB aligned (a 16 KiB pool
	 * allocation), so: 6100 contiguous bytes from offset 512 are
	 * 1024 x 3 + 512 up to the 4 KiB line, then 1024 x 2 + 468 (7); 3000
	 * bytes from 9000 are 1024 x 2 + 952 inside one 4 KiB line (3). */
	REQUIRE(((dma0 - 512) & 4095) == 0);
	CHECK_EQ(n, 7 + 3);
	ccdma_segs_init(&l, seg, 5);
	CHECK_EQ(ccdma_dmabuf_segs(a, &l), -ENOSPC);
	CHECK_EQ(l.n, 0);
	CHECK_EQ(ccdma_dmabuf_segs(NULL, &l), -EINVAL);
	/* Moved: stale until mapped again. */
	CHECK_EQ(ccdma_dmabuf_move(b, 2, to), 0);
	ccdma_segs_init(&l, seg, 64);
	CHECK_EQ(ccdma_dmabuf_segs(a, &l), -ESTALE);
	CHECK_EQ(ccdma_dmabuf_map(a), 0);
	n = ccdma_dmabuf_segs(a, &l);
	CHECK(n > 0);
	check_segs(&l, 9100);
	CHECK_EQ(ccdma_dmabuf_detach(a), 0);
	CHECK_EQ(ccdma_dmabuf_destroy(b), 0);
	CHECK_EQ(ccdma_pool_free(ccdma_dev_pool(d), m, 16384), 0);
	CHECK_EQ(ccdma_pool_free(ccdma_dev_pool(d), to, 16384), 0);
	ccdma_dev_destroy(d);
	return test_done("dmabuf_segs");
}
