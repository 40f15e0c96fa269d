/* SPDX-License-Identifier: MIT */
/*
 * vhost-user front-end against qemu-storage-daemon (file image, 64 MiB, two
 * queues): negotiation results, config space through GET_CONFIG, a memory
 * table that is exactly the pool's regions (and never private memory),
 * and a clean close that leaves no descriptor behind.
 */
#include "vhost_util.h" /* and backend_util.h */

#define DISK_BYTES (64ull << 20)

int main(int argc, char **argv)
{
	struct ccdma_vhost_region r[64];
	struct ccdma_vhost_config cfg;
	struct ccdma_vhost_info info;
	const struct ccdma_virtio_transport *t;
	struct ccdma_vhost *h = NULL;
	struct backend b;
	uint8_t full[64], cap_le[8], seg_le[4];
	uint64_t feat, pool_base, pool_size;
	uint32_t size_max, seg_max, blk_size;
	int stack_var = 42, fds0, n, rc;
	char *priv;
	void *coh;
	ccdma_addr_t coh_dma;

	test_init();
	backend_require("qemu-storage-daemon", argc > 1 ? argv[1] : NULL);
	REQUIRE(backend_start_qsd(&b, argv[1], 1, DISK_BYTES, 2) == 0);
	fds0 = fd_count();

	ccdma_vhost_config_init(&cfg);
	cfg.socket_path = b.sock;
	rc = ccdma_vhost_connect(&cfg, &h);
	CHECK_EQ(rc, 0);
	if (rc) {
		backend_stop(&b);
		return test_done("vhost_connect_qsd");
	}
	t = ccdma_vhost_transport(h);
	REQUIRE(t && t->ops && t->ctx);
	CHECK(t->ops->dma_dev(t->ctx) == ccdma_vhost_dev(h));
	CHECK(!ccdma_vhost_broken(h));
	CHECK(!t->ops->broken(t->ctx));

	ccdma_vhost_get_info(h, &info);
	printf("features %#llx, protocol features %#llx, queues %u, mem slots %u, "
	       "messages %llu\n", (unsigned long long)info.features,
	       (unsigned long long)info.protocol_features, info.max_queues,
	       info.mem_slots, (unsigned long long)info.messages_sent);
	CHECK(info.features & (1ull << CCDMA_VIRTIO_F_VERSION_1));
	CHECK(info.features & (1ull << CCDMA_VU_F_PROTOCOL_FEATURES));
	CHECK(info.protocol_features & (1ull << CCDMA_VU_PF_REPLY_ACK));
	CHECK(info.protocol_features & (1ull << CCDMA_VU_PF_CONFIG));
	CHECK(info.protocol_features & (1ull << CCDMA_VU_PF_CONFIGURE_MEM_SLOTS));
	CHECK(info.protocol_features & (1ull << CCDMA_VU_PF_MQ));
	/* Nothing beyond what the front-end understands is negotiated. */
	CHECK_EQ(info.protocol_features & ~((1ull << CCDMA_VU_PF_REPLY_ACK) |
		(1ull << CCDMA_VU_PF_CONFIG) | (1ull << CCDMA_VU_PF_MQ) |
		(1ull << CCDMA_VU_PF_CONFIGURE_MEM_SLOTS)), 0);
	CHECK_EQ(info.max_queues, 2);
	CHECK(info.mem_slots > 0);
	CHECK_EQ(info.acked_features, 0);
	CHECK(info.regions_added >= 1);
	CHECK_EQ(info.regions_removed, 0);
	CHECK(info.messages_sent >= 6);
	CHECK_EQ(t->ops->max_queues(t->ctx), 2);
	CHECK(t->ops->max_queue_size(t->ctx, 0) >= 128);
	CHECK_EQ(t->ops->max_queue_size(t->ctx, 2), 0);

	/* The driver never sees transport bits, nor ACCESS_PLATFORM. */
	feat = t->ops->device_features(t->ctx);
	CHECK(feat & (1ull << CCDMA_VIRTIO_F_VERSION_1));
	CHECK(!(feat & (1ull << CCDMA_VU_F_PROTOCOL_FEATURES)));
	CHECK(!(feat & (1ull << CCDMA_VIRTIO_F_ACCESS_PLATFORM)));
	CHECK_EQ(t->ops->set_features(t->ctx, 1ull << CCDMA_VIRTIO_F_ACCESS_PLATFORM),
		 -EINVAL);
	CHECK_EQ(t->ops->set_features(t->ctx, 1ull << CCDMA_VU_F_PROTOCOL_FEATURES),
		 -EINVAL);
	CHECK(!ccdma_vhost_broken(h));

	/* Config space: capacity in 512-byte sectors, little-endian. */
	CHECK_EQ(t->ops->get_config(t->ctx, CCDMA_VBLK_CFG_CAPACITY, cap_le, 8), 0);
	CHECK_EQ(ccdma_get_le64(cap_le), DISK_BYTES / 512);
	/* A window not at offset 0 reads the same bytes as a full read. */
	CHECK_EQ(t->ops->get_config(t->ctx, 0, full, 24), 0);
	CHECK_EQ(t->ops->get_config(t->ctx, CCDMA_VBLK_CFG_SEG_MAX, seg_le, 4), 0);
	CHECK(memcmp(seg_le, full + CCDMA_VBLK_CFG_SEG_MAX, 4) == 0);
	CHECK_EQ(ccdma_get_le64(full), DISK_BYTES / 512);
	size_max = ccdma_get_le32(full + CCDMA_VBLK_CFG_SIZE_MAX);
	seg_max = ccdma_get_le32(full + CCDMA_VBLK_CFG_SEG_MAX);
	blk_size = ccdma_get_le32(full + CCDMA_VBLK_CFG_BLK_SIZE);
	printf("config: capacity %llu sectors, size_max %u, seg_max %u, blk_size %u\n",
	       (unsigned long long)ccdma_get_le64(full), size_max, seg_max,
	       blk_size);
	CHECK(blk_size == 512 || blk_size == 4096);
	/* Bad windows are refused before anything is sent. */
	CHECK_EQ(t->ops->get_config(t->ctx, 250, full, 8), -EINVAL);
	CHECK_EQ(t->ops->get_config(t->ctx, 0, full, 0), -EINVAL);
	CHECK(!ccdma_vhost_broken(h));

	/* The memory table is the pool, the whole pool and nothing else. */
	n = table_matches_pool(h);
	CHECK(n >= 1);
	CHECK_EQ(ccdma_vhost_regions(h, NULL, 0), n);
	REQUIRE(ccdma_vhost_regions(h, r, 64) == (unsigned)n);
	CHECK_EQ(ccdma_pool_get_range(ccdma_dev_pool(ccdma_vhost_dev(h)),
				      &pool_base, &pool_size), 0);
	CHECK(r[0].user_addr >= pool_base &&
	      r[0].user_addr + r[0].size <= pool_base + pool_size);
	REQUIRE(ccdma_alloc_coherent(ccdma_vhost_dev(h), 4096, &coh, &coh_dma, 0) == 0);
	CHECK(table_covers(r, (unsigned)n, coh, 4096));
	CHECK_EQ(coh_dma, (uint64_t)(uintptr_t)coh);
	priv = malloc(1 << 20);
	REQUIRE(priv);
	memset(priv, 0x5a, 1 << 20);
	CHECK(!table_touches(r, (unsigned)n, priv, 1 << 20));
	CHECK(!table_touches(r, (unsigned)n, &stack_var, sizeof(stack_var)));
	CHECK(!table_touches(r, (unsigned)n, (void *)main, 1));
	free(priv);
	CHECK_EQ(ccdma_free_coherent(ccdma_vhost_dev(h), 4096, coh, coh_dma), 0);

	/* Queue ops before a queue runs. */
	CHECK_EQ(t->ops->notify(t->ctx, 0), -EINVAL);
	CHECK_EQ(t->ops->wait(t->ctx, 0, 0), -EINVAL);
	CHECK_EQ(t->ops->notify(t->ctx, 7), -EINVAL);

	ccdma_vhost_close(h);
	CHECK_EQ(fd_count(), fds0);
	ccdma_vhost_close(NULL);

	/* A second connection to the same daemon works (it serves one
	 * client at a time) and uses its own pool. */
	cfg.flags = CCDMA_VHOST_F_NO_REPLY_ACK;
	rc = ccdma_vhost_connect(&cfg, &h);
	CHECK_EQ(rc, 0);
	if (!rc) {
		ccdma_vhost_get_info(h, &info);
		CHECK(!(info.protocol_features & (1ull << CCDMA_VU_PF_REPLY_ACK)));
		/* The new connection's own transport, stable while it lives. */
		t = ccdma_vhost_transport(h);
		REQUIRE(t && t->ops && t->ctx);
		CHECK(ccdma_vhost_transport(h) == t);
		CHECK(t->ops->dma_dev(t->ctx) == ccdma_vhost_dev(h));
		CHECK(!t->ops->broken(t->ctx));
		CHECK_EQ(t->ops->get_config(t->ctx, 0, cap_le, 8), 0);
		CHECK_EQ(ccdma_get_le64(cap_le), DISK_BYTES / 512);
		CHECK(table_matches_pool(h) >= 1);
		ccdma_vhost_close(h);
	}
	CHECK_EQ(fd_count(), fds0);

	/* The daemon outlived both clients and exits cleanly on SIGTERM. */
	CHECK_EQ(backend_stop(&b), 0);
	return test_done("vhost_connect_qsd");
}
