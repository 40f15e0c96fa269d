/* SPDX-License-Identifier: MIT */
/*
 * Requests larger than the bounce pool holds at once, in confidential mode
 * (every byte bounced).  The driver cuts a READ/WRITE into parts of at
 * most max_request (4 MiB) and posts them as the pool and the ring have
 * room, so any size works:
 *   - ccdma-devsim with memory slots: an 8 MiB write submitted on a fresh
 *     connection (the pool's first 8 MiB region also holds the rings, so
 *     its two 4 MiB parts never fit at once) is accepted and completes;
 *     24 and 64 MiB through ccdma_vblk_write/read, read back byte for byte;
 *   - SET_MEM_TABLE, where the pool is capped at 24 MiB: a 24 MiB and a
 *     64 MiB request, and the pool stays within its cap;
 *   - a pool smaller than one part (1 MiB regions, 2 MiB at most): the
 *     parts are cut to what the pool can give;
 *   - qemu-storage-daemon on a file, with and without memory slots: the
 *     data is found in the image.
 */
#include "e2e_util.h"

#include <ccdma/pool.h>

#define MiB (1ull << 20)

static int open_pool(struct e2e *e, const char *sock, unsigned flags,
		     const struct ccdma_pool_config *pc)
{
	struct ccdma_vhost_config c;
	int rc;

	memset(e, 0, sizeof(*e));
	ccdma_vhost_config_init(&c);
	c.socket_path = sock;
	c.mode = CCDMA_MODE_CONFIDENTIAL;
	c.flags = flags;
	c.pool_cfg = pc;
	rc = ccdma_vhost_connect(&c, &e->h);
	if (rc)
		return rc;
	rc = ccdma_vblk_create(ccdma_vhost_transport(e->h), NULL, &e->b);
	if (rc) {
		ccdma_vhost_close(e->h);
		return rc;
	}
	ccdma_vblk_get_info(e->b, &e->info);
	return 0;
}

/* The bytes at `sector` of the image file equal p[0, len). */
static bool image_has(const char *image, uint64_t sector, const uint8_t *p,
		      size_t len)
{
	uint8_t *f = malloc(len);
	int fd = open(image, O_RDONLY);
	bool ok;

	REQUIRE(f && fd >= 0);
	ok = pread(fd, f, len, (off_t)(sector * 512)) == (ssize_t)len &&
	     e2e_diff(p, f, len) < 0;
	close(fd);
	free(f);
	return ok;
}

/* ccdma_vblk_write then ccdma_vblk_read of len bytes at sector. */
static void big_sync(struct e2e *e, uint64_t sector, size_t len, uint32_t tag,
		     const char *image)
{
	uint8_t *w = malloc(len), *r = malloc(len);
	int rc;

	REQUIRE(w && r);
	e2e_fill(w, len, sector * 512, tag);
	memset(r, 0xee, len);
	rc = ccdma_vblk_write(e->b, sector, w, len);
	if (rc)
		fprintf(stderr, "write of %zu MiB: %s\n", len >> 20, strerror(-rc));
	CHECK_EQ(rc, 0);
	rc = ccdma_vblk_read(e->b, sector, r, len);
	if (rc)
		fprintf(stderr, "read of %zu MiB: %s\n", len >> 20, strerror(-rc));
	CHECK_EQ(rc, 0);
	CHECK(e2e_diff(w, r, len) < 0);
	if (image)
		CHECK(image_has(image, sector, w, len));
	free(w);
	free(r);
}

/* Submit one request and wait for it; its status. */
static int one_async(struct e2e *e, enum ccdma_vblk_op op, uint64_t sector,
		     void *buf, size_t len)
{
	struct ccdma_vblk_req r;
	unsigned done = 0;
	int rc;

	memset(&r, 0, sizeof(r));
	r.op = op;
	r.sector = sector;
	r.buf = buf;
	r.len = len;
	r.done = e2e_count_done;
	r.user = &done;
	rc = ccdma_vblk_submit(e->b, 0, &r);
	if (rc) {
		fprintf(stderr, "submit of %zu MiB: %s\n", len >> 20, strerror(-rc));
		return rc;
	}
	while (!done) {
		rc = ccdma_vblk_wait(e->b, 0, 10ull * 1000000000ull);
		REQUIRE(rc > 0);
	}
	return r.status;
}

/* An asynchronous write then read of len bytes (what ccdma-blk does). */
static void big_async(struct e2e *e, uint64_t sector, size_t len, uint32_t tag)
{
	uint8_t *w = malloc(len), *r = malloc(len);

	REQUIRE(w && r);
	e2e_fill(w, len, sector * 512, tag);
	memset(r, 0xee, len);
	CHECK_EQ(one_async(e, CCDMA_VBLK_WRITE, sector, w, len), 0);
	CHECK_EQ(one_async(e, CCDMA_VBLK_READ, sector, r, len), 0);
	CHECK(e2e_diff(w, r, len) < 0);
	free(w);
	free(r);
}

static uint64_t pool_high_water(struct e2e *e)
{
	struct ccdma_pool_stats st;

	REQUIRE(ccdma_pool_get_stats(ccdma_dev_pool(ccdma_vhost_dev(e->h)),
				     &st) == 0);
	return st.shared_high_water;
}

static void devsim_cases(const char *devsim)
{
	static const char *const args[] = { "--size", "256m", NULL };
	struct ccdma_pool_config pc;
	struct backend b;
	struct e2e e;

	REQUIRE(backend_start_devsim(&b, devsim, args) == 0);

	/* Memory slots (ADD_MEM_REG), the default pool, a fresh connection. */
	REQUIRE(open_pool(&e, b.sock, 0, NULL) == 0);
	CHECK_EQ(e.info.max_request, 4 * MiB);
	big_async(&e, 300000, 8 * MiB, 1);
	big_async(&e, 320000, 16 * MiB, 2);
	big_sync(&e, 150000, 24 * MiB, 3, NULL);
	big_sync(&e, 0, 64 * MiB, 4, NULL);
	CHECK(!ccdma_vblk_broken(e.b));
	e2e_close(&e);

	/* SET_MEM_TABLE: 8 regions less 2 spare, 24 MiB of pool at most. */
	REQUIRE(open_pool(&e, b.sock, CCDMA_VHOST_F_NO_MEM_SLOTS, NULL) == 0);
	big_async(&e, 300000, 8 * MiB, 5);
	big_sync(&e, 150000, 24 * MiB, 6, NULL);
	big_sync(&e, 0, 64 * MiB, 7, NULL);
	CHECK(pool_high_water(&e) <= 24 * MiB);
	CHECK(!ccdma_vblk_broken(e.b));
	e2e_close(&e);

	/* A pool that never holds one 4 MiB part. */
	ccdma_pool_config_init(&pc);
	pc.name = "small";
	pc.region_size = MiB;
	pc.initial_bytes = MiB;
	pc.max_bytes = 2 * MiB;
	pc.low_watermark = 256 << 10;
	pc.high_watermark = MiB;
	REQUIRE(open_pool(&e, b.sock, 0, &pc) == 0);
	big_async(&e, 300000, 8 * MiB, 8);
	big_sync(&e, 150000, 12 * MiB, 9, NULL);
	CHECK(pool_high_water(&e) <= 2 * MiB);
	CHECK(!ccdma_vblk_broken(e.b));
	e2e_close(&e);

	CHECK_EQ(backend_stop(&b), 0);
}

static void qsd_cases(const char *qsd)
{
	struct backend b;
	struct e2e e;

	REQUIRE(backend_start_qsd(&b, qsd, 1, 128 * MiB, 1) == 0);
	for (unsigned pass = 0; pass < 2; pass++) {
		unsigned flags = pass ? CCDMA_VHOST_F_NO_MEM_SLOTS : 0;

		REQUIRE(open_pool(&e, b.sock, flags, NULL) == 0);
		big_async(&e, 100000, 8 * MiB, 20 + pass);
		big_sync(&e, 0, 24 * MiB, 30 + pass, b.image);
		if (pass)
			CHECK(pool_high_water(&e) <= 24 * MiB);
		CHECK(!ccdma_vblk_broken(e.b));
		e2e_close(&e);
	}
	CHECK_EQ(backend_stop(&b), 0);
}

int main(int argc, char **argv)
{
	test_init();
	backend_require("ccdma-devsim", argc > 2 ? argv[2] : NULL);
	devsim_cases(argv[2]);
	if (argv[1] && *argv[1] && access(argv[1], X_OK) == 0)
		qsd_cases(argv[1]);
	else
		printf("qemu-storage-daemon not found: its cases skipped\n");
	return test_done("e2e_blk_large");
}
