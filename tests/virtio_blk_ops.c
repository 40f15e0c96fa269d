/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk requests other than plain I/O, and the errors the caller
 * sees: flush, discard and write-zeroes (split by the device's limits,
 * unmap flag), get-id, features not offered (-EOPNOTSUPP before anything is
 * posted), the device answering UNSUPP (-EOPNOTSUPP) or IOERR (-EIO), a
 * read-only device (-EROFS), bad ranges and arguments (-EINVAL), a request
 * larger than the ring holds (-EINVAL from submit; the helpers split it).
 */
#include <unistd.h>

#include "virtio_fake_dev.h"

static bool all(const uint8_t *p, size_t n, uint8_t v)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != v)
			return false;
	return true;
}

static void ops(void)
{
	struct fake_opts o;
	struct fake_dev fd;
	struct ccdma_vblk *b;
	struct ccdma_vblk_info info;
	struct ccdma_vblk_stats st;
	struct ccdma_vblk_req r;
	uint8_t buf[8192];
	char id[21];
	uint64_t cap;
	int rc;

	fake_opts_init(&o);
	fake_init(&fd, &o);
	b = fake_vblk(&fd, NULL);
	ccdma_vblk_get_info(b, &info);
	cap = info.capacity;
	CHECK(info.flush && info.discard && info.write_zeroes);
	CHECK(!info.read_only);
	CHECK_EQ(info.max_discard_sectors, 2048);
	CHECK_EQ(info.max_write_zeroes_sectors, 4096);

	CHECK_EQ(ccdma_vblk_flush(b), 0);
	CHECK_EQ(fd.by_type[CCDMA_VBLK_T_FLUSH], 1);

	/* Discard: one part, then one split in three (2048 + 2048 + 904). */
	CHECK_EQ(ccdma_vblk_discard(b, 1000, 100), 0);
	CHECK(all(fd.disk + 1000 * 512, 100 * 512, 0xdd));
	CHECK_EQ(fd.last_dwz_flags, 0);
	fd.dwz_sectors = 0;
	CHECK_EQ(ccdma_vblk_discard(b, 5000, 5000), 0);
	CHECK_EQ(fd.dwz_sectors, 5000);
	CHECK_EQ(fd.by_type[CCDMA_VBLK_T_DISCARD], 4);
	CHECK(all(fd.disk + 5000 * 512, 5000 * 512, 0xdd));

	/* Write zeroes with and without unmap; split by 4096. */
	CHECK_EQ(ccdma_vblk_write_zeroes(b, 20000, 10000, true), 0);
	CHECK_EQ(fd.last_dwz_flags, 1);
	CHECK_EQ(fd.by_type[CCDMA_VBLK_T_WRITE_ZEROES], 3);
	CHECK(all(fd.disk + 20000 * 512, 10000 * 512, 0));
	CHECK_EQ(ccdma_vblk_write_zeroes(b, 40, 8, false), 0);
	CHECK_EQ(fd.last_dwz_flags, 0);
	CHECK_EQ(ccdma_vblk_read(b, 40, buf, 4096), 0);
	CHECK(all(buf, 4096, 0));

	/* Get-id: 20 bytes, NUL-terminated. */
	memset(id, 'x', sizeof(id));
	CHECK_EQ(ccdma_vblk_get_id(b, id), 0);
	CHECK(memcmp(id, "ccdma-fake-012345678", 20) == 0);
	CHECK_EQ(id[20], 0);

	/* The device answers IOERR, then UNSUPP. */
	fd.ioerr_next = 1;
	CHECK_EQ(ccdma_vblk_read(b, 0, buf, 4096), -EIO);
	CHECK_EQ(ccdma_vblk_read(b, 0, buf, 4096), 0);
	fd.ioerr_next = 1;
	CHECK_EQ(ccdma_vblk_write(b, 0, buf, 4096), -EIO);
	fd.unsupp_next = 1;
	CHECK_EQ(ccdma_vblk_flush(b), -EOPNOTSUPP);
	/* A split request (2 MiB + 2 MiB + 1 MiB) with one failing part
	 * completes once, with that part's error. */
	{
		uint8_t *big = malloc(5u << 20);
		struct fake_done d = { 0, 0, 0 };

		REQUIRE(big);
		memset(&r, 0, sizeof(r));
		fake_set_hold(&fd, true);
		r.op = CCDMA_VBLK_READ;
		r.buf = big;
		r.len = 5u << 20;
		r.done = fake_done_cb;
		r.user = &d;
		/* Asynchronous submits do not wait for bounce memory. */
		while ((rc = ccdma_vblk_submit(b, 0, &r)) == -ENOMEM)
			usleep(1000);
		CHECK_EQ(rc, 0);
		CHECK_EQ(r.status, CCDMA_VBLK_PENDING);
		CHECK_EQ(ccdma_vblk_inflight(b, 0), 1);
		CHECK_EQ(ccdma_vblk_poll(b, 0), 0);
		pthread_mutex_lock(&fd.lock);
		fd.ioerr_next = 1;
		pthread_mutex_unlock(&fd.lock);
		fake_release(&fd);
		CHECK_EQ(ccdma_vblk_poll(b, 0), 1);
		CHECK_EQ(d.n, 1);
		CHECK_EQ(r.status, -EIO);
		CHECK_EQ(ccdma_vblk_inflight(b, 0), 0);
		CHECK_EQ(fd.ioerr_next, 0);
		free(big);
	}

	/* Bad arguments: nothing is posted. */
	CHECK_EQ(ccdma_vblk_read(b, cap - 1, buf, 1024), -EINVAL);
	CHECK_EQ(ccdma_vblk_read(b, cap, buf, 512), -EINVAL);
	CHECK_EQ(ccdma_vblk_read(b, UINT64_MAX, buf, 512), -EINVAL);
	CHECK_EQ(ccdma_vblk_read(b, cap - 1, buf, 512), 0);
	CHECK_EQ(ccdma_vblk_read(b, 0, buf, 100), -EINVAL);
	CHECK_EQ(ccdma_vblk_read(b, 0, NULL, 512), -EINVAL);
	CHECK_EQ(ccdma_vblk_discard(b, cap - 10, 11), -EINVAL);
	CHECK_EQ(ccdma_vblk_write_zeroes(b, cap, 1, false), -EINVAL);
	memset(&r, 0, sizeof(r));
	r.op = CCDMA_VBLK_READ;
	r.buf = buf;
	r.len = 0;
	CHECK_EQ(ccdma_vblk_submit(b, 0, &r), -EINVAL);
	r.len = 512;
	r.op = (enum ccdma_vblk_op)99;
	CHECK_EQ(ccdma_vblk_submit(b, 0, &r), -EINVAL);
	r.op = CCDMA_VBLK_READ;
	r.flags = 0x100;
	CHECK_EQ(ccdma_vblk_submit(b, 0, &r), -EINVAL);
	r.flags = 0;
	CHECK_EQ(ccdma_vblk_submit(b, 1, &r), -EINVAL);
	/* poll and wait: no such queue, no driver. */
	CHECK_EQ(ccdma_vblk_poll(b, 1), -EINVAL);
	CHECK_EQ(ccdma_vblk_wait(b, 1, 0), -EINVAL);
	CHECK_EQ(ccdma_vblk_poll(NULL, 0), -EINVAL);
	CHECK_EQ(ccdma_vblk_wait(NULL, 0, 0), -EINVAL);
	CHECK_EQ(ccdma_vblk_read(NULL, 0, buf, 512), -EINVAL);
	r.op = CCDMA_VBLK_GET_ID;
	r.len = 19;
	CHECK_EQ(ccdma_vblk_submit(b, 0, &r), -EINVAL);
	CHECK_EQ(ccdma_vblk_inflight(b, 0), 0);

	ccdma_vblk_get_stats(b, &st);
	CHECK_EQ(st.submitted, st.completed);
	CHECK_EQ(st.errors, 4);
	CHECK_EQ(st.split_parts, 9);
	CHECK(!ccdma_vblk_broken(b));
	ccdma_vblk_destroy(b);
	fake_fini(&fd);
}

/* Features not offered: refused before anything is posted. */
static void not_offered(void)
{
	struct fake_opts o;
	struct fake_dev fd;
	struct ccdma_vblk *b;
	struct ccdma_vblk_info info;
	uint64_t chains;
	char id[21];

	fake_opts_init(&o);
	o.features = fake_default_features() &
		     ~(1ull << CCDMA_VIRTIO_BLK_F_FLUSH |
		       1ull << CCDMA_VIRTIO_BLK_F_DISCARD |
		       1ull << CCDMA_VIRTIO_BLK_F_WRITE_ZEROES);
	fake_init(&fd, &o);
	b = fake_vblk(&fd, NULL);
	ccdma_vblk_get_info(b, &info);
	CHECK(!info.flush && !info.discard && !info.write_zeroes);
	chains = fd.chains;
	CHECK_EQ(ccdma_vblk_flush(b), -EOPNOTSUPP);
	CHECK_EQ(ccdma_vblk_discard(b, 0, 8), -EOPNOTSUPP);
	CHECK_EQ(ccdma_vblk_write_zeroes(b, 0, 8, true), -EOPNOTSUPP);
	CHECK_EQ(fd.chains, chains);
	/* GET_ID needs no feature; a device that does not know it answers
	 * UNSUPP. */
	fd.unsupp_next = 1;
	CHECK_EQ(ccdma_vblk_get_id(b, id), -EOPNOTSUPP);
	CHECK_EQ(id[0], 0);
	ccdma_vblk_destroy(b);
	fake_fini(&fd);
}

static void read_only(void)
{
	struct fake_opts o;
	struct fake_dev fd;
	struct ccdma_vblk *b;
	struct ccdma_vblk_info info;
	uint8_t buf[4096];

	fake_opts_init(&o);
	o.features = fake_default_features() | 1ull << CCDMA_VIRTIO_BLK_F_RO;
	fake_init(&fd, &o);
	b = fake_vblk(&fd, NULL);
	ccdma_vblk_get_info(b, &info);
	CHECK(info.read_only);
	CHECK_EQ(ccdma_vblk_write(b, 0, buf, sizeof(buf)), -EROFS);
	CHECK_EQ(ccdma_vblk_discard(b, 0, 8), -EROFS);
	CHECK_EQ(ccdma_vblk_write_zeroes(b, 0, 8, false), -EROFS);
	CHECK_EQ(ccdma_vblk_read(b, 0, buf, sizeof(buf)), 0);
	CHECK(memcmp(buf, fd.disk, sizeof(buf)) == 0);
	CHECK_EQ(ccdma_vblk_flush(b), 0);
	ccdma_vblk_destroy(b);
	fake_fini(&fd);
}

/* A ring of 8 without indirect descriptors: a part takes up to 6
 * descriptors, so the ring holds one part at a time; a larger request
 * gets its parts posted one after the other. */
static void ring_limit(void)
{
	struct fake_opts o;
	struct fake_dev fd;
	struct ccdma_vblk_config cfg;
	struct ccdma_vblk_info info;
	struct ccdma_vblk_req r;
	struct ccdma_vblk *b;
	size_t len = 256u << 10;
	uint8_t *w = malloc(len), *rd = malloc(len);

	REQUIRE(w && rd);
	fake_opts_init(&o);
	fake_init(&fd, &o);
	fake_cfg32(&fd, CCDMA_VBLK_CFG_SIZE_MAX, 4096);
	ccdma_vblk_config_init(&cfg);
	cfg.queue_size = 8;
	cfg.refuse_features = 1ull << CCDMA_VIRTIO_F_INDIRECT_DESC;
	b = fake_vblk(&fd, &cfg);
	ccdma_vblk_get_info(b, &info);
	CHECK_EQ(info.queue_size, 8);
	CHECK_EQ(info.seg_max, 6);
	CHECK_EQ(info.max_request, 6 * 4096);
	CHECK_EQ(info.max_transfer, 6 * 4096);
	/* More than the ring holds at once: accepted, and its other parts
	 * posted as the first ones complete. */
	memset(&r, 0, sizeof(r));
	r.op = CCDMA_VBLK_WRITE;
	r.buf = w;
	r.len = (size_t)info.max_transfer + 512;
	fake_pattern(w, r.len, 4);
	CHECK_EQ(ccdma_vblk_submit(b, 0, &r), 0);
	CHECK_EQ(ccdma_vblk_inflight(b, 0), 1);
	CHECK_EQ(ccdma_vblk_wait(b, 0, 10000000000ull), 1);
	CHECK_EQ(r.status, 0);
	CHECK_EQ(ccdma_vblk_inflight(b, 0), 0);
	CHECK(memcmp(fd.disk, w, r.len) == 0);
	fake_pattern(w, len, 5);
	CHECK_EQ(ccdma_vblk_write(b, 7, w, len), 0);
	CHECK_EQ(ccdma_vblk_read(b, 7, rd, len), 0);
	CHECK(memcmp(w, rd, len) == 0);
	/* Discard: 8 / 3 = 2 parts of 2048 sectors per submit at most. */
	CHECK_EQ(info.max_transfer_dwz, 2 * 2048);
	CHECK_EQ(ccdma_vblk_discard(b, 0, 10000), 0);
	ccdma_vblk_destroy(b);
	fake_fini(&fd);
	free(w);
	free(rd);
}

int main(void)
{
	test_init();
	ccdma_log_set_handler(quiet_log, NULL);
	ops();
	not_offered();
	read_only();
	ring_limit();
	return test_done("virtio_blk_ops");
}
