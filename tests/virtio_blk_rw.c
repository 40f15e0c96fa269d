/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk reads and writes through the in-process device: patterns at
 * many offsets and sizes (including sizes split by seg_max x size_max and
 * by the ring), read back byte for byte and checked against the device's
 * disk.  Confidential mode: every payload byte is bounced, each way once.
 * Direct mode with buffers in coherent memory: nothing is bounced.
 */
#include "virtio_fake_dev.h"

static const size_t sizes[] = {
	512, 1024, 4096, 4608, 16384, 16896, 65536, 65536 + 512,
	200 * 1024, 1u << 20, (1u << 20) + 512, 3u << 20,
};
#define NSIZES (sizeof(sizes) / sizeof(sizes[0]))

struct variant {
	const char *name;
	uint32_t size_max, seg_max; /* 0: feature not offered */
	uint64_t refuse;
	unsigned qsize;
};

static void one_variant(const struct variant *v, int misalign)
{
	struct fake_opts o;
	struct fake_dev fd;
	struct ccdma_vblk_config cfg;
	struct ccdma_vblk_info info;
	struct ccdma_vblk_stats st;
	struct ccdma_vblk *b;
	struct fake_bounce b0, b1;
	uint64_t seed = 0x1234 + (uint64_t)misalign, wrote = 0, read = 0;
	uint8_t *wbuf, *rbuf;
	size_t i;

	fake_opts_init(&o);
	if (!v->size_max)
		o.features = fake_default_features() &
			     ~(1ull << CCDMA_VIRTIO_BLK_F_SIZE_MAX);
	if (!v->seg_max)
		o.features = (o.features ? o.features : fake_default_features()) &
			     ~(1ull << CCDMA_VIRTIO_BLK_F_SEG_MAX);
	fake_init(&fd, &o);
	if (v->size_max)
		fake_cfg32(&fd, CCDMA_VBLK_CFG_SIZE_MAX, v->size_max);
	if (v->seg_max)
		fake_cfg32(&fd, CCDMA_VBLK_CFG_SEG_MAX, v->seg_max);
	ccdma_vblk_config_init(&cfg);
	cfg.refuse_features = v->refuse;
	cfg.queue_size = v->qsize;
	b = fake_vblk(&fd, &cfg);
	ccdma_vblk_get_info(b, &info);
	printf("%s: size_max %u seg_max %u max_request %u max_transfer %llu "
	       "indirect %d\n", v->name, info.size_max, info.seg_max,
	       info.max_request, (unsigned long long)info.max_transfer,
	       info.indirect);
	CHECK_EQ(info.capacity, o.disk_bytes / 512);
	CHECK(info.max_request % 512 == 0);
	CHECK(info.max_request <= (uint64_t)info.seg_max * info.size_max);

	wbuf = malloc((3u << 20) + 64);
	rbuf = malloc((3u << 20) + 64);
	REQUIRE(wbuf && rbuf);
	b0 = fake_bounced(&fd);
	for (i = 0; i < NSIZES * 3; i++) {
		size_t len = sizes[i % NSIZES];
		uint64_t sectors = o.disk_bytes / 512 - len / 512;
		uint64_t sec = xorshift(&seed) % (sectors + 1);
		uint8_t *w = wbuf + misalign, *r = rbuf + misalign * 3;

		if (i % NSIZES == 0)
			sec = 0;
		if (i % NSIZES == 1)
			sec = sectors; /* the last sectors */
		fake_pattern(w, len, seed + i);
		CHECK_EQ(ccdma_vblk_write(b, sec, w, len), 0);
		CHECK(memcmp(fd.disk + sec * 512, w, len) == 0);
		memset(r, 0x5a, len);
		CHECK_EQ(ccdma_vblk_read(b, sec, r, len), 0);
		if (memcmp(r, w, len)) {
			fprintf(stderr, "%s: %zu bytes at sector %llu differ\n",
				v->name, len, (unsigned long long)sec);
			test_failures++;
		}
		wrote += len;
		read += len;
	}
	b1 = fake_bounced(&fd);
	/* Each payload byte bounced exactly once each way; headers and
	 * status bytes live in coherent memory and are never bounced. */
	CHECK_EQ(b1.to - b0.to, wrote);
	CHECK_EQ(b1.from - b0.from, read);

	ccdma_vblk_get_stats(b, &st);
	CHECK_EQ(st.submitted, st.completed);
	CHECK_EQ(st.errors, 0);
	CHECK(st.split_parts > 0);
	CHECK_EQ(st.used_len_clamped, 0);
	CHECK(fd.max_chain <= info.seg_max + 2);
	if (info.indirect)
		CHECK(fd.indirect_chains > 0);
	else
		CHECK_EQ(fd.indirect_chains, 0);
	CHECK(!ccdma_vblk_broken(b));
	ccdma_vblk_destroy(b);
	free(wbuf);
	free(rbuf);
	fake_fini(&fd);
}

/* Direct mode, a device that reaches only shared memory, buffers in
 * coherent memory: passed straight through, nothing bounced. */
static void direct_shared(void)
{
	struct fake_opts o;
	struct fake_dev fd;
	struct ccdma_vblk *b;
	struct fake_bounce b0, b1;
	void *w, *r;
	ccdma_addr_t wd, rd;
	size_t len = 256u << 10;

	fake_opts_init(&o);
	o.mode = CCDMA_MODE_DIRECT;
	o.dev_flags = CCDMA_DEV_F_SHARED_ONLY;
	fake_init(&fd, &o);
	b = fake_vblk(&fd, NULL);
	REQUIRE(ccdma_alloc_coherent(fd.dma, len, &w, &wd, 0) == 0);
	REQUIRE(ccdma_alloc_coherent(fd.dma, len, &r, &rd, 0) == 0);
	fake_pattern(w, len, 99);
	b0 = fake_bounced(&fd);
	CHECK_EQ(ccdma_vblk_write(b, 100, w, len), 0);
	CHECK_EQ(ccdma_vblk_read(b, 100, r, len), 0);
	CHECK(memcmp(w, r, len) == 0);
	CHECK(memcmp(fd.disk + 100 * 512, w, len) == 0);
	b1 = fake_bounced(&fd);
	CHECK_EQ(b1.to - b0.to, 0);
	CHECK_EQ(b1.from - b0.from, 0);

	/* A private buffer in direct mode with a shared-only device is
	 * bounced all the same. */
	{
		uint8_t *p = malloc(4096);

		REQUIRE(p);
		CHECK_EQ(ccdma_vblk_read(b, 100, p, 4096), 0);
		CHECK(memcmp(p, w, 4096) == 0);
		CHECK_EQ(fake_bounced(&fd).from - b1.from, 4096);
		free(p);
	}
	ccdma_vblk_destroy(b);
	ccdma_free_coherent(fd.dma, len, w, wd);
	ccdma_free_coherent(fd.dma, len, r, rd);
	fake_fini(&fd);
}

int main(void)
{
	static const struct variant v[] = {
		{ "default", 64u << 10, 32, 0, 0 },
		{ "small-segs", 4096, 4, 0, 0 },
		{ "small-segs-direct-desc", 4096, 4,
		  1ull << CCDMA_VIRTIO_F_INDIRECT_DESC, 0 },
		{ "no-size-seg-max", 0, 0, 0, 0 },
		{ "odd-size-max", 3000, 7, 0, 0 },
		/* 16 descriptors, 6 per part: max_transfer splits the
		 * synchronous helpers' requests. */
		{ "tiny-ring", 8192, 4, 1ull << CCDMA_VIRTIO_F_INDIRECT_DESC,
		  16 },
	};
	unsigned i;

	test_init();
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		one_variant(&v[i], 0);
		one_variant(&v[i], 1);
	}
	direct_shared();
	return test_done("virtio_blk_rw");
}
