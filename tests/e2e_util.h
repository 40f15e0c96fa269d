/* SPDX-License-Identifier: MIT */
/*
 * End-to-end test helpers: the virtio-blk driver over the vhost-user
 * front-end, against a device process (tests/backend_util.h starts it).
 * Payload buffers are private (malloc) memory, so in confidential mode
 * every byte goes through the bounce pool.
 */
#ifndef CCDMA_TEST_E2E_UTIL_H
#define CCDMA_TEST_E2E_UTIL_H

#include "backend_util.h"
#include "test.h"

#include <ccdma/vhost.h>
#include <ccdma/virtio_blk.h>

struct e2e {
	struct ccdma_vhost *h;
	struct ccdma_vblk *b;
	struct ccdma_vblk_info info;
};

/* Connect (on an existing pool when `pool` is not NULL, see
 * ccdma_vhost_config.pool) and set up the driver. */
static inline int e2e_open_pool(struct e2e *e, const char *sock,
				enum ccdma_mode mode, unsigned vhost_flags,
				struct ccdma_pool *pool)
{
	struct ccdma_vhost_config c;
	struct ccdma_vblk_config vc;
	int rc;

	memset(e, 0, sizeof(*e));
	ccdma_vhost_config_init(&c);
	c.socket_path = sock;
	c.mode = (int)mode;
	c.flags = vhost_flags;
	c.pool = pool;
	rc = ccdma_vhost_connect(&c, &e->h);
	if (rc) {
		fprintf(stderr, "connect %s: %s\n", sock, strerror(-rc));
		return rc;
	}
	ccdma_vblk_config_init(&vc);
	rc = ccdma_vblk_create(ccdma_vhost_transport(e->h), &vc, &e->b);
	if (rc) {
		fprintf(stderr, "vblk create: %s\n", strerror(-rc));
		ccdma_vhost_close(e->h);
		return rc;
	}
	ccdma_vblk_get_info(e->b, &e->info);
	return 0;
}

static inline int e2e_open(struct e2e *e, const char *sock, enum ccdma_mode mode,
			   unsigned vhost_flags)
{
	return e2e_open_pool(e, sock, mode, vhost_flags, NULL);
}

static inline void e2e_close(struct e2e *e)
{
	ccdma_vblk_destroy(e->b);
	ccdma_vhost_close(e->h);
}

/* Bytes of a pattern unique to (offset, tag). */
static inline void e2e_fill(uint8_t *p, size_t len, uint64_t off, uint32_t tag)
{
	uint64_t s = off * 0x9e3779b97f4a7c15ull ^ ((uint64_t)tag << 32);

	for (size_t i = 0; i < len; i++) {
		if ((i & 7) == 0)
			s = s * 6364136223846793005ull + 1442695040888963407ull;
		p[i] = (uint8_t)(s >> (8 * (i & 7)));
	}
}

/* First differing byte of two buffers, or -1. */
static inline long e2e_diff(const uint8_t *a, const uint8_t *b, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (a[i] != b[i])
			return (long)i;
	return -1;
}

/* The sizes and offsets every back-end is checked with: single sectors,
 * pages, odd sector counts, a page-misaligned buffer, and requests larger
 * than one virtio request (split by seg_max x size_max). */
struct e2e_io {
	uint64_t sector;
	size_t len;
	size_t buf_off;   /* the buffer starts this far into its allocation */
};

static inline unsigned e2e_matrix(const struct ccdma_vblk_info *info,
				  struct e2e_io *io, unsigned max)
{
	size_t big = (size_t)info->max_request * 2 + 3 * 512;
	size_t sizes[] = { 512, 1024, 4096, 4608, 8192, 65536, 65536 + 512,
			   131072, 262144, 1u << 20, big };
	unsigned n = 0;
	uint64_t sector = 0;

	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]) && n < max; i++) {
		for (unsigned k = 0; k < 2 && n < max; k++) {
			io[n].sector = sector;
			io[n].len = sizes[i];
			io[n].buf_off = k ? 512 * (i % 7 + 1) : 0;
			/* Leave a gap so neighbours' bytes stay distinguishable. */
			sector += sizes[i] / 512 + 8 + 1;
			n++;
		}
	}
	return n;
}

/*
 * Write every request of the matrix with its own pattern, flush, read each
 * back into a clean buffer and compare byte for byte.  `zeroes`: the
 * device drops writes and reads zeroes (null-co).  `image`: the file the
 * device stores the disk in (or NULL): its bytes are checked too, so the
 * data is known to have reached the device, not only to come back.
 * Returns the bytes
 * compared; failures are CHECKed.
 */
static inline uint64_t e2e_rw_matrix(struct e2e *e, bool zeroes, uint32_t tag,
				     const char *image)
{
	struct e2e_io io[32];
	unsigned n = e2e_matrix(&e->info, io, 32);
	uint64_t compared = 0;

	for (unsigned i = 0; i < n; i++) {
		uint8_t *w = malloc(io[i].len + 4096), *r = malloc(io[i].len + 4096);
		uint8_t *wb = w + io[i].buf_off, *rb = r + io[i].buf_off;
		int rc;
		long d;

		REQUIRE(w && r);
		if ((io[i].sector + io[i].len / 512) > e->info.capacity) {
			free(w);
			free(r);
			continue;
		}
		e2e_fill(wb, io[i].len, io[i].sector * 512, tag);
		rc = ccdma_vblk_write(e->b, io[i].sector, wb, io[i].len);
		if (rc)
			fprintf(stderr, "write sector %llu len %zu: %s\n",
				(unsigned long long)io[i].sector, io[i].len, strerror(-rc));
		CHECK_EQ(rc, 0);
		memset(r, 0xee, io[i].len + 4096);
		rc = ccdma_vblk_read(e->b, io[i].sector, rb, io[i].len);
		CHECK_EQ(rc, 0);
		if (zeroes)
			memset(wb, 0, io[i].len);
		d = e2e_diff(wb, rb, io[i].len);
		if (d >= 0)
			fprintf(stderr, "sector %llu len %zu: byte %ld differs "
					"(%#x, expected %#x)\n",
				(unsigned long long)io[i].sector, io[i].len, d, rb[d],
				wb[d]);
		CHECK(d < 0);
		/* Bytes around the buffer were never the device's to write. */
		if (io[i].buf_off)
			CHECK(rb[-1] == 0xee);
		CHECK(rb[io[i].len] == 0xee);
		if (image) {
			int fd = open(image, O_RDONLY);
			ssize_t got;

			REQUIRE(fd >= 0);
			got = pread(fd, r, io[i].len, (off_t)(io[i].sector * 512));
			CHECK_EQ(got, (ssize_t)io[i].len);
			CHECK(e2e_diff(wb, r, io[i].len) < 0);
			close(fd);
		}
		compared += io[i].len;
		free(w);
		free(r);
	}
	CHECK_EQ(ccdma_vblk_flush(e->b), e->info.flush ? 0 : -EOPNOTSUPP);
	return compared;
}

static inline void e2e_count_done(struct ccdma_vblk_req *r)
{
	(*(unsigned *)r->user)++;
}

/* N requests of mixed sizes, up to `depth` in flight on queue q: all
 * written, then all read back asynchronously and compared. */
static inline void e2e_async(struct e2e *e, unsigned q, unsigned depth,
			     uint64_t base_sector, uint32_t tag)
{
	enum { N = 64 };
	struct ccdma_vblk_req req[N];
	uint8_t *buf[N], *back[N];
	size_t len[N];

	for (unsigned i = 0; i < N; i++) {
		len[i] = (size_t)512 * (1 + (i * 7) % 64);
		buf[i] = malloc(len[i]);
		back[i] = malloc(len[i]);
		REQUIRE(buf[i] && back[i]);
		e2e_fill(buf[i], len[i], (base_sector + 64 * i) * 512, tag);
		memset(back[i], 0xee, len[i]);
	}
	for (unsigned pass = 0; pass < 2; pass++) {
		unsigned posted = 0, completed = 0;

		while (completed < N) {
			while (posted < N && posted - completed < depth) {
				struct ccdma_vblk_req *r = &req[posted];
				int rc;

				memset(r, 0, sizeof(*r));
				r->op = pass ? CCDMA_VBLK_READ : CCDMA_VBLK_WRITE;
				r->sector = base_sector + 64 * posted;
				r->len = len[posted];
				r->buf = pass ? back[posted] : buf[posted];
				r->done = e2e_count_done;
				r->user = &completed;
				rc = ccdma_vblk_submit(e->b, q, r);
				if (rc == -EAGAIN)
					break;
				CHECK_EQ(rc, 0);
				REQUIRE(rc == 0);
				posted++;
			}
			int rc = ccdma_vblk_wait(e->b, q, 10ull * 1000000000ull);

			CHECK(rc > 0);
			REQUIRE(rc > 0);
		}
		for (unsigned i = 0; i < N; i++)
			CHECK_EQ(req[i].status, 0);
	}
	for (unsigned i = 0; i < N; i++) {
		CHECK(e2e_diff(buf[i], back[i], len[i]) < 0);
		free(buf[i]);
		free(back[i]);
	}
}

/* Discard, then write-zeroes over written data: zeroes read back. */
static inline void e2e_discard_zeroes(struct e2e *e, uint64_t sector)
{
	size_t len = 64 * 1024;
	uint8_t *p = malloc(len), *z = calloc(1, len);

	REQUIRE(p && z);
	e2e_fill(p, len, sector * 512, 7);
	CHECK_EQ(ccdma_vblk_write(e->b, sector, p, len), 0);
	if (e->info.write_zeroes) {
		CHECK_EQ(ccdma_vblk_write_zeroes(e->b, sector, len / 512, false), 0);
		CHECK_EQ(ccdma_vblk_read(e->b, sector, p, len), 0);
		CHECK(e2e_diff(p, z, len) < 0);
	} else {
		CHECK_EQ(ccdma_vblk_write_zeroes(e->b, sector, len / 512, false),
			 -EOPNOTSUPP);
	}
	if (e->info.discard)
		CHECK_EQ(ccdma_vblk_discard(e->b, sector, len / 512), 0);
	else
		CHECK_EQ(ccdma_vblk_discard(e->b, sector, len / 512), -EOPNOTSUPP);
	free(p);
	free(z);
}

/* The pool's counters say payloads were bounced both ways (confidential
 * mode with private buffers). */
static inline void e2e_check_bounced(struct e2e *e, uint64_t min_bytes)
{
	struct ccdma_pool_stats st;

	CHECK_EQ(ccdma_pool_get_stats(ccdma_dev_pool(ccdma_vhost_dev(e->h)), &st), 0);
	CHECK(st.bounced_to_device_bytes >= min_bytes);
	CHECK(st.bounced_from_device_bytes >= min_bytes);
}

#endif /* CCDMA_TEST_E2E_UTIL_H */
