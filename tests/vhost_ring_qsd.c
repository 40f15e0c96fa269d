/* SPDX-License-Identifier: MIT */
/*
 * The vhost transport alone moves data: a hand-built split ring (no
 * src/virtio/ code) in the front-end's coherent memory, a virtio-blk WRITE
 * of a pattern and a READ back on each of qemu-storage-daemon's two
 * queues, checked byte for byte; then the driver fails the device and
 * every op reports it.
 */
#include "vhost_util.h" /* and backend_util.h */

#define DISK_BYTES (64ull << 20)
#define IO_BYTES 8192u

static void fill(uint8_t *p, size_t n, uint64_t seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)xorshift(&seed);
}

/* Write a pattern at `sector`, read it back into other memory, compare. */
static void write_read(struct tring *r, uint64_t sector, uint64_t seed)
{
	struct ccdma_dev *dev = r->dev;
	uint8_t *wbuf, *rbuf, expect[IO_BYTES];
	ccdma_addr_t wdma, rdma;
	uint32_t used_len = 0;
	void *p;

	REQUIRE(ccdma_alloc_coherent(dev, IO_BYTES, &p, &wdma, 0) == 0);
	wbuf = p;
	REQUIRE(ccdma_alloc_coherent(dev, IO_BYTES, &p, &rdma, 0) == 0);
	rbuf = p;
	fill(expect, IO_BYTES, seed);
	memcpy(wbuf, expect, IO_BYTES);
	memset(rbuf, 0xee, IO_BYTES);

	CHECK_EQ(tring_blk(r, CCDMA_VBLK_T_OUT, sector, wdma, IO_BYTES, &used_len),
		 CCDMA_VBLK_S_OK);
	/* A write hands back only the status byte. */
	CHECK(used_len <= 1);
	CHECK_EQ(tring_blk(r, CCDMA_VBLK_T_IN, sector, rdma, IO_BYTES, &used_len),
		 CCDMA_VBLK_S_OK);
	CHECK_EQ(used_len, IO_BYTES + 1);
	CHECK(memcmp(rbuf, expect, IO_BYTES) == 0);

	ccdma_free_coherent(dev, IO_BYTES, wbuf, wdma);
	ccdma_free_coherent(dev, IO_BYTES, rbuf, rdma);
}

int main(int argc, char **argv)
{
	struct ccdma_vhost_config cfg;
	struct ccdma_vhost_info info;
	const struct ccdma_virtio_transport *t;
	struct ccdma_vq_layout bad;
	struct ccdma_vhost *h = NULL;
	struct tring r0, r1;
	struct backend b;
	uint8_t cap[8];
	int fds0, rc, i;

	test_init();
	backend_require("qemu-storage-daemon", argc > 1 ? argv[1] : NULL);
	REQUIRE(backend_start_qsd(&b, argv[1], 1, DISK_BYTES, 2) == 0);
	fds0 = fd_count();

	ccdma_vhost_config_init(&cfg);
	cfg.socket_path = b.sock;
	rc = ccdma_vhost_connect(&cfg, &h);
	REQUIRE(rc == 0);
	t = ccdma_vhost_transport(h);

	/* Queues only after features. */
	memset(&r0, 0, sizeof(r0));
	CHECK_EQ(tring_init(&r0, h, 0), -EINVAL);
	tring_free(&r0);
	CHECK_EQ(t->ops->set_features(t->ctx, 1ull << CCDMA_VIRTIO_F_VERSION_1), 0);
	ccdma_vhost_get_info(h, &info);
	CHECK_EQ(info.acked_features, (1ull << CCDMA_VIRTIO_F_VERSION_1) |
		 (1ull << CCDMA_VU_F_PROTOCOL_FEATURES));

	/* A ring outside the shared pool is refused, nothing sent. */
	memset(&bad, 0, sizeof(bad));
	bad.num = 8;
	bad.desc = malloc(4096);
	bad.avail = malloc(4096);
	bad.used = malloc(4096);
	bad.desc_dma = (uintptr_t)bad.desc;
	bad.avail_dma = (uintptr_t)bad.avail;
	bad.used_dma = (uintptr_t)bad.used;
	CHECK_EQ(t->ops->queue_start(t->ctx, 0, &bad), -EINVAL);
	bad.num = 6;
	CHECK_EQ(t->ops->queue_start(t->ctx, 0, &bad), -EINVAL);
	CHECK_EQ(t->ops->queue_start(t->ctx, 2, &bad), -EINVAL);
	free(bad.desc);
	free(bad.avail);
	free(bad.used);
	CHECK(!ccdma_vhost_broken(h));

	REQUIRE(tring_init(&r0, h, 0) == 0);
	REQUIRE(tring_init(&r1, h, 1) == 0);
	/* Started once only. */
	CHECK_EQ(t->ops->queue_start(t->ctx, 0, &r0.l), -EBUSY);
	/* No signal pending after start. */
	CHECK_EQ(t->ops->wait(t->ctx, 0, 0), -ETIMEDOUT);

	for (i = 0; i < 3; i++) {
		write_read(&r0, 8 + 64 * (uint64_t)i, 1000 + (uint64_t)i);
		write_read(&r1, 4096 + 64 * (uint64_t)i, 2000 + (uint64_t)i);
	}
	/* More requests than ring entries: indices wrap. */
	for (i = 0; i < (int)TRING_NUM + 3; i++)
		write_read(&r0, 16, 3000 + (uint64_t)i);
	CHECK(!ccdma_vhost_broken(h));
	CHECK_EQ(t->ops->get_config(t->ctx, 0, cap, 8), 0);
	CHECK_EQ(ccdma_get_le64(cap), DISK_BYTES / 512);

	/* The driver gives up on the device: everything says so. */
	t->ops->fail(t->ctx, "test: simulated driver failure");
	CHECK(ccdma_vhost_broken(h));
	CHECK(t->ops->broken(t->ctx));
	CHECK_EQ(t->ops->notify(t->ctx, 0), -ENODEV);
	CHECK_EQ(t->ops->wait(t->ctx, 0, 1000000), -ENODEV);
	CHECK_EQ(t->ops->get_config(t->ctx, 0, cap, 8), -ENODEV);
	CHECK_EQ(t->ops->set_features(t->ctx, 1ull << CCDMA_VIRTIO_F_VERSION_1),
		 -ENODEV);

	tring_free(&r0);
	tring_free(&r1);
	ccdma_vhost_close(h);
	CHECK_EQ(fd_count(), fds0);
	backend_stop(&b);
	return test_done("vhost_ring_qsd");
}
