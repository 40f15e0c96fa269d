/* SPDX-License-Identifier: MIT */
/*
 * Feature negotiation: the four combinations of EVENT_IDX and
 * INDIRECT_DESC all move data correctly (against a device thread, with
 * wait()); ACCESS_PLATFORM and RING_PACKED are never accepted even when
 * offered, and the payload is bounced all the same; bits the driver does
 * not know are not accepted.
 */
#include <unistd.h>

#include "virtio_fake_dev.h"

static void combo(bool ev, bool ind, bool threaded)
{
	struct fake_opts o;
	struct fake_dev fd;
	struct ccdma_vblk_config cfg;
	struct ccdma_vblk_info info;
	struct ccdma_vblk *b;
	struct fake_bounce b0, b1;
	struct ccdma_vblk_req r[16];
	struct fake_done d = { 0, 0, 0 };
	size_t len = 96u << 10;
	uint8_t *w = malloc(16 * len), *rd = malloc(16 * len);
	uint64_t seed = 3;
	unsigned i, round;
	int rc;

	REQUIRE(w && rd);
	fake_opts_init(&o);
	o.threaded = threaded;
	o.features = fake_default_features() |
		     1ull << CCDMA_VIRTIO_F_RING_PACKED |
		     1ull << 40 | 1ull << CCDMA_VIRTIO_BLK_F_GEOMETRY;
	fake_init(&fd, &o);
	fake_cfg32(&fd, CCDMA_VBLK_CFG_SIZE_MAX, 16384);
	ccdma_vblk_config_init(&cfg);
	cfg.queue_size = 128;
	if (!ev)
		cfg.refuse_features |= 1ull << CCDMA_VIRTIO_F_EVENT_IDX;
	if (!ind)
		cfg.refuse_features |= 1ull << CCDMA_VIRTIO_F_INDIRECT_DESC;
	b = fake_vblk(&fd, &cfg);
	ccdma_vblk_get_info(b, &info);
	CHECK_EQ(info.event_idx, ev);
	CHECK_EQ(info.indirect, ind);
	CHECK_EQ(fd.set_features_calls, 1);
	CHECK(fd.acked & (1ull << CCDMA_VIRTIO_F_VERSION_1));
	CHECK(!(fd.acked & (1ull << CCDMA_VIRTIO_F_ACCESS_PLATFORM)));
	CHECK(!(fd.acked & (1ull << CCDMA_VIRTIO_F_RING_PACKED)));
	CHECK(!(fd.acked & (1ull << 40)));
	CHECK(!(fd.acked & (1ull << CCDMA_VIRTIO_BLK_F_GEOMETRY)));
	CHECK_EQ(!!(fd.acked & (1ull << CCDMA_VIRTIO_F_EVENT_IDX)), ev);
	CHECK_EQ(!!(fd.acked & (1ull << CCDMA_VIRTIO_F_INDIRECT_DESC)), ind);
	CHECK_EQ(info.features, fd.acked);

	b0 = fake_bounced(&fd);
	for (round = 0; round < 8; round++) {
		bool write = !(round & 1);

		d.n = 0;
		memset(r, 0, sizeof(r));
		for (i = 0; i < 16; i++) {
			r[i].op = write ? CCDMA_VBLK_WRITE : CCDMA_VBLK_READ;
			r[i].sector = (round / 2) * 4096 + i * (len / 512);
			r[i].buf = (write ? w : rd) + i * len;
			r[i].len = len;
			r[i].done = fake_done_cb;
			r[i].user = &d;
			if (write)
				fake_pattern(r[i].buf, len, seed++);
			while ((rc = ccdma_vblk_submit(b, 0, &r[i])) == -ENOMEM ||
			       rc == -EAGAIN)
				if (ccdma_vblk_wait(b, 0, 1000000) < 0)
					usleep(100);
			CHECK_EQ(rc, 0);
		}
		while (__atomic_load_n(&d.n, __ATOMIC_RELAXED) < 16)
			if (ccdma_vblk_wait(b, 0, 5000000000ull) < 0) {
				test_failures++;
				break;
			}
		for (i = 0; i < 16; i++)
			CHECK_EQ(r[i].status, 0);
		if (!write)
			CHECK(memcmp(w, rd, 16 * len) == 0);
	}
	b1 = fake_bounced(&fd);
	CHECK_EQ(b1.to - b0.to, 4 * 16 * len);
	CHECK_EQ(b1.from - b0.from, 4 * 16 * len);
	if (ind)
		CHECK(fd.indirect_chains > 0);
	else
		CHECK_EQ(fd.indirect_chains, 0);
	ccdma_vblk_destroy(b);
	fake_fini(&fd);
	free(w);
	free(rd);
}

/* ACCESS_PLATFORM not offered at all, direct mode with a device that sees
 * only shared memory: private buffers bounced anyway. */
static void no_access_platform(void)
{
	struct fake_opts o;
	struct fake_dev fd;
	struct ccdma_vblk *b;
	uint8_t buf[8192];

	fake_opts_init(&o);
	o.mode = CCDMA_MODE_DIRECT;
	o.dev_flags = CCDMA_DEV_F_SHARED_ONLY;
	o.features = fake_default_features() &
		     ~(1ull << CCDMA_VIRTIO_F_ACCESS_PLATFORM);
	fake_init(&fd, &o);
	b = fake_vblk(&fd, NULL);
	fake_pattern(buf, sizeof(buf), 1);
	CHECK_EQ(ccdma_vblk_write(b, 3, buf, sizeof(buf)), 0);
	CHECK(memcmp(fd.disk + 3 * 512, buf, sizeof(buf)) == 0);
	CHECK_EQ(fake_bounced(&fd).to, sizeof(buf));
	ccdma_vblk_destroy(b);
	fake_fini(&fd);
}

/* Reconnect asked of a transport that cannot reconnect (the fake one has
 * no reconnect()): create refuses with -EINVAL, nothing set up. */
static void reconnect_needs_transport(void)
{
	struct ccdma_vblk_config cfg;
	struct fake_opts o;
	struct fake_dev fd;
	struct ccdma_vblk *b = (struct ccdma_vblk *)&cfg;

	fake_opts_init(&o);
	fake_init(&fd, &o);
	CHECK(fd.t.ops->reconnect == NULL);
	ccdma_vblk_config_init(&cfg);
	cfg.reconnect_ms = 1000;
	CHECK_EQ(ccdma_vblk_create(&fd.t, &cfg, &b), -EINVAL);
	CHECK(b == NULL);
	CHECK_EQ(fd.set_features_calls, 0);
	cfg.reconnect_ms = 0;
	b = fake_vblk(&fd, &cfg);
	CHECK(b != NULL);
	ccdma_vblk_destroy(b);
	fake_fini(&fd);
}

int main(void)
{
	unsigned c;

	test_init();
	for (c = 0; c < 8; c++)
		combo(c & 1, c & 2, c & 4);
	no_access_platform();
	reconnect_needs_transport();
	return test_done("virtio_blk_features");
}
