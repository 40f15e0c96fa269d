/* SPDX-License-Identifier: MIT */
/*
 * A kick (notify) that fails because the device went away.  Inside poll
 * or wait the queue's in-flight requests complete with -ENODEV in that
 * very call (they used to wait for the next poll, and that poll returned
 * 0 with the request still pending on a broken device).  Inside submit,
 * which runs no callbacks, the posted request completes with -ENODEV at
 * the next poll or wait, which returns -ENODEV without blocking: what
 * virtio_blk.h says.
 */
#include "virtio_fake_dev.h"

/* The transport goes down without the driver being told. */
static void transport_down(struct fake_dev *fd)
{
	pthread_mutex_lock(&fd->lock);
	fd->broken = true;
	pthread_mutex_unlock(&fd->lock);
}

/* A read split into more parts than the ring holds: the rest is posted
 * by poll, whose kick fails. */
static void kick_fails_in_poll(void)
{
	struct ccdma_vblk_config cfg;
	struct fake_done d = { 0, 0, 0 };
	struct ccdma_vblk_req r;
	struct ccdma_vblk_info info;
	struct fake_opts o;
	struct fake_dev fd;
	struct ccdma_vblk *b;
	static uint8_t buf[2u << 20];

	fake_opts_init(&o);
	fake_init(&fd, &o);
	ccdma_vblk_config_init(&cfg);
	cfg.queue_size = 4;
	b = fake_vblk(&fd, &cfg);
	ccdma_vblk_get_info(b, &info);
	REQUIRE(info.max_transfer < sizeof(buf));
	fake_set_hold(&fd, true);
	memset(&r, 0, sizeof(r));
	r.op = CCDMA_VBLK_READ;
	r.buf = buf;
	r.len = sizeof(buf);
	r.done = fake_done_cb;
	r.user = &d;
	CHECK_EQ(ccdma_vblk_submit(b, 0, &r), 0);
	/* The device completes what was posted, then is gone. */
	fake_release(&fd);
	transport_down(&fd);
	/* Poll takes the completed parts, posts more, kicks: the kick
	 * fails, and the request completes now. */
	CHECK_EQ(ccdma_vblk_poll(b, 0), -ENODEV);
	CHECK_EQ(d.n, 1);
	CHECK_EQ(r.status, -ENODEV);
	CHECK_EQ(ccdma_vblk_inflight(b, 0), 0);
	CHECK(ccdma_vblk_broken(b));
	CHECK_EQ(fd.fails, 1);
	CHECK_EQ(ccdma_vblk_poll(b, 0), -ENODEV);
	CHECK_EQ(d.n, 1);
	ccdma_vblk_destroy(b);
	fake_fini(&fd); /* no mapping left behind */
}

static void kick_fails_in_submit(void)
{
	struct fake_done d = { 0, 0, 0 };
	struct ccdma_vblk_req r;
	struct fake_opts o;
	struct fake_dev fd;
	struct ccdma_vblk *b;
	uint8_t buf[4096];

	fake_opts_init(&o);
	fake_init(&fd, &o);
	b = fake_vblk(&fd, NULL);
	transport_down(&fd);
	memset(&r, 0, sizeof(r));
	r.op = CCDMA_VBLK_READ;
	r.buf = buf;
	r.len = sizeof(buf);
	r.done = fake_done_cb;
	r.user = &d;
	/* Posted before the kick failed: accepted, and no callback ran. */
	CHECK_EQ(ccdma_vblk_submit(b, 0, &r), 0);
	CHECK_EQ(d.n, 0);
	CHECK_EQ(r.status, CCDMA_VBLK_PENDING);
	CHECK(ccdma_vblk_broken(b));
	CHECK_EQ(fd.fails, 1);
	/* The next wait completes it and does not block. */
	CHECK_EQ(ccdma_vblk_wait(b, 0, UINT64_MAX), -ENODEV);
	CHECK_EQ(d.n, 1);
	CHECK_EQ(r.status, -ENODEV);
	CHECK_EQ(ccdma_vblk_inflight(b, 0), 0);
	CHECK_EQ(ccdma_vblk_submit(b, 0, &r), -ENODEV);
	ccdma_vblk_destroy(b);
	fake_fini(&fd);
}

int main(void)
{
	test_init();
	ccdma_log_set_handler(quiet_log, NULL);
	/* Leaked mappings make ccdma_dev_destroy() return -EBUSY. */
	ccdma_debug_set(CCDMA_DEBUG_ON);
	kick_fails_in_poll();
	kick_fails_in_submit();
	return test_done("virtio_blk_kick_fail");
}
