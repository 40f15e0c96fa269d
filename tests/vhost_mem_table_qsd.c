/* SPDX-License-Identifier: MIT */
/*
 * The memory table follows the pool while queues run, against
 * qemu-storage-daemon: once with SET_MEM_TABLE (CCDMA_VHOST_F_NO_MEM_SLOTS)
 * and once with ADD_MEM_REG / REM_MEM_REG.
 *   ADD_MEM_REG: the pool grows (a coherent allocation beyond its first
 *   region), the new region is in the table before the allocation returns
 *   and I/O through it works; the region is given back when freed and
 *   leaves the table; I/O still works afterwards.
 *   SET_MEM_TABLE: the same, each change a whole new table sent while the
 *   ring runs (idle here: the front-end pauses the driver and waits for
 *   requests in flight first, docs/vhost.md); the cap (8 slots less 2
 *   spare, 6 regions) holds.
 */
#include "vhost_util.h" /* and backend_util.h */

#define DISK_BYTES (64ull << 20)
#define MIB (1u << 20)
#define BIG (3u * MIB)
#define IO_BYTES (64u * 1024u)

static void pool_cfg(struct ccdma_pool_config *pc)
{
	ccdma_pool_config_init(pc);
	pc->name = "vhost-test";
	pc->region_size = MIB;
	pc->initial_bytes = MIB;
	pc->max_bytes = 64u * MIB;
	pc->low_watermark = 256u * 1024u;
	pc->high_watermark = 512u * 1024u;
	pc->idle_ms = 100;
}

/* Write `len` bytes from src_dma at `sector`, read them back to dst_dma. */
static void io_check(struct tring *r, uint8_t *src, ccdma_addr_t src_dma,
		     uint8_t *dst, ccdma_addr_t dst_dma, uint64_t sector,
		     uint64_t seed)
{
	uint32_t i, used_len = 0;

	for (i = 0; i < IO_BYTES; i++)
		src[i] = (uint8_t)xorshift(&seed);
	memset(dst, 0, IO_BYTES);
	CHECK_EQ(tring_blk(r, CCDMA_VBLK_T_OUT, sector, src_dma, IO_BYTES, NULL),
		 CCDMA_VBLK_S_OK);
	CHECK_EQ(tring_blk(r, CCDMA_VBLK_T_IN, sector, dst_dma, IO_BYTES, &used_len),
		 CCDMA_VBLK_S_OK);
	CHECK_EQ(used_len, IO_BYTES + 1);
	CHECK(memcmp(src, dst, IO_BYTES) == 0);
}

static void round_trip(const char *sock, unsigned flags)
{
	struct ccdma_vhost_region tab[64];
	struct ccdma_vhost_config cfg;
	struct ccdma_vhost_info i0, i1, i2;
	struct ccdma_pool_config pc;
	struct ccdma_pool_stats st;
	const struct ccdma_virtio_transport *t;
	struct ccdma_vhost *h = NULL;
	struct ccdma_dev *dev;
	struct tring r;
	uint8_t *big, *small;
	ccdma_addr_t big_dma, small_dma;
	uint64_t deadline;
	void *p, *extra;
	ccdma_addr_t extra_dma;
	unsigned n;
	int fds0 = fd_count();

	printf("round: %s\n", flags & CCDMA_VHOST_F_NO_MEM_SLOTS ?
	       "SET_MEM_TABLE" : "ADD_MEM_REG / REM_MEM_REG");
	pool_cfg(&pc);
	ccdma_vhost_config_init(&cfg);
	cfg.socket_path = sock;
	cfg.pool_cfg = &pc;
	cfg.flags = flags;
	REQUIRE(ccdma_vhost_connect(&cfg, &h) == 0);
	t = ccdma_vhost_transport(h);
	dev = ccdma_vhost_dev(h);

	ccdma_vhost_get_info(h, &i0);
	if (flags & CCDMA_VHOST_F_NO_MEM_SLOTS) {
		CHECK_EQ(i0.mem_slots, 0);
		CHECK(!(i0.protocol_features & (1ull << CCDMA_VU_PF_CONFIGURE_MEM_SLOTS)));
	} else {
		CHECK(i0.mem_slots > 0);
	}
	CHECK_EQ(i0.regions_added, 1);
	CHECK_EQ(i0.table_sends, 1);
	CHECK_EQ(table_matches_pool(h), 1);
	/* Only the floor at connect, without memory slots too. */
	REQUIRE(ccdma_pool_get_stats(ccdma_dev_pool(dev), &st) == 0);
	CHECK_EQ(st.shared_bytes, (uint64_t)MIB);

	CHECK_EQ(t->ops->set_features(t->ctx, 1ull << CCDMA_VIRTIO_F_VERSION_1), 0);
	REQUIRE(tring_init(&r, h, 0) == 0);
	REQUIRE(ccdma_alloc_coherent(dev, IO_BYTES, &p, &small_dma, 0) == 0);
	small = p;

	/* Grow: 3 MiB cannot come from the 1 MiB region. */
	REQUIRE(ccdma_alloc_coherent(dev, BIG, &p, &big_dma, CCDMA_ATTR_WAIT) == 0);
	big = p;
	ccdma_vhost_get_info(h, &i1);
	CHECK(i1.regions_added > i0.regions_added);
	CHECK(i1.table_sends > i0.table_sends);
	CHECK(table_matches_pool(h) >= 2);
	n = ccdma_vhost_regions(h, tab, 64);
	/* In the table before the allocation returned. */
	CHECK(table_covers(tab, n, big, BIG));
	CHECK(!table_covers(tab, 1, big, 1) || n == 1);
	/* The data crosses the new region both ways. */
	io_check(&r, big + BIG - IO_BYTES, big_dma + BIG - IO_BYTES, small,
		 small_dma, 256, 11);
	io_check(&r, small, small_dma, big, big_dma, 512, 12);
	CHECK(!ccdma_vhost_broken(h));

	if (flags & CCDMA_VHOST_F_NO_MEM_SLOTS) {
		/* Capped at 8 - 2 regions of 1 MiB: 4 more MiB do not fit. */
		CHECK_EQ(ccdma_alloc_coherent(dev, 4u * MIB, &extra, &extra_dma,
					      CCDMA_ATTR_WAIT), -ENOMEM);
		REQUIRE(ccdma_pool_get_stats(ccdma_dev_pool(dev), &st) == 0);
		CHECK(st.shared_bytes <= 6u * MIB);
		CHECK(st.regions <= 6);
		CHECK(!ccdma_vhost_broken(h));
	} else {
		/* With 32 slots the same fits. */
		CHECK_EQ(ccdma_alloc_coherent(dev, 4u * MIB, &extra, &extra_dma,
					      CCDMA_ATTR_WAIT), 0);
		CHECK(table_matches_pool(h) >= 3);
		ccdma_free_coherent(dev, 4u * MIB, extra, extra_dma);
	}

	CHECK_EQ(ccdma_free_coherent(dev, BIG, big, big_dma), 0);
	{
		/* Shrink: the big region goes idle and is given back. */
		deadline = test_now_ns() + 10000000000ull;
		do {
			struct timespec ts = { 0, 20 * 1000 * 1000 };

			nanosleep(&ts, NULL);
			ccdma_vhost_get_info(h, &i2);
		} while (i2.regions_removed == i1.regions_removed &&
			 test_now_ns() < deadline);
		CHECK(i2.regions_removed > i1.regions_removed);
		CHECK(i2.table_sends > i1.table_sends);
		CHECK(table_matches_pool(h) >= 1);
	}
	n = ccdma_vhost_regions(h, tab, 64);
	CHECK(table_covers(tab, n, r.l.desc, 16));
	/* The rings survived the table change. */
	REQUIRE(ccdma_alloc_coherent(dev, IO_BYTES, &p, &big_dma, 0) == 0);
	big = p;
	io_check(&r, big, big_dma, small, small_dma, 1024, 13);
	ccdma_free_coherent(dev, IO_BYTES, big, big_dma);
	CHECK(!ccdma_vhost_broken(h));
	printf("regions added %llu, removed %llu, table messages %llu, messages %llu\n",
	       (unsigned long long)i2.regions_added,
	       (unsigned long long)i2.regions_removed,
	       (unsigned long long)i2.table_sends,
	       (unsigned long long)i2.messages_sent);

	ccdma_free_coherent(dev, IO_BYTES, small, small_dma);
	tring_free(&r);
	/* Stops the running ring (GET_VRING_BASE) before disconnecting. */
	ccdma_vhost_close(h);
	CHECK_EQ(fd_count(), fds0);
}

int main(int argc, char **argv)
{
	struct backend b;

	test_init();
	backend_require("qemu-storage-daemon", argc > 1 ? argv[1] : NULL);
	REQUIRE(backend_start_qsd(&b, argv[1], 1, DISK_BYTES, 1) == 0);
	round_trip(b.sock, CCDMA_VHOST_F_NO_MEM_SLOTS);
	round_trip(b.sock, 0);
	/* Without REPLY_ACK: GET_FEATURES round trips as barriers. */
	round_trip(b.sock, CCDMA_VHOST_F_NO_MEM_SLOTS | CCDMA_VHOST_F_NO_REPLY_ACK);
	round_trip(b.sock, CCDMA_VHOST_F_NO_REPLY_ACK);
	backend_stop(&b);
	return test_done("vhost_mem_table_qsd");
}
