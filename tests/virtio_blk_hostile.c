/* SPDX-License-Identifier: MIT */
/*
 * A hostile device: used id out of range, id never posted, a double
 * completion, used len above what was posted (clamped and counted, data
 * still right), a bad status byte, no status byte at all, a used index
 * jumping more than the ring ahead, and a disconnect with requests in
 * flight.  Each breaks the device (the transport's fail() once), in-flight
 * requests complete with -ENODEV, later calls get -ENODEV; with the
 * ownership checker on, no mapping is leaked.  A read completed as good
 * with a used length short of its data fails with -EIO (short_reads), the
 * bytes past the reported length read as zero, and the device stays up.
 *
 *   virtio_blk_hostile [CASE]   one case (CTest runs each as its own entry,
 *                               tests/virtio_tests.cmake), or all of them
 */
#include "virtio_fake_dev.h"

#define N 4
#define LEN 8192
/* The requests reach sector 100 + (N - 1) * 16 + LEN / 512 at most; a
 * small disk keeps each case's set-up (a pattern written byte by byte)
 * cheap under the sanitizers. */
#define DISK_BYTES (1u << 20)

static const char *const names[] = {
	"ok", "id-range", "id-not-inflight", "double", "len-big",
	"bad-status", "idx-jump", "no-status", "double-2", "len-short",
};

/* Misbehave at completion `at` of N held reads (sync or threaded). */
static void one(enum fake_evil evil, unsigned at, bool ind, bool threaded)
{
	struct fake_opts o;
	struct fake_dev fd;
	struct ccdma_vblk_config cfg;
	struct ccdma_vblk_stats st;
	struct ccdma_vblk *b;
	struct ccdma_vblk_req r[N], late;
	struct fake_done d = { 0, 0, 0 };
	uint8_t *buf = malloc(N * LEN);
	bool breaks = evil != FAKE_LEN_BIG && evil != FAKE_OK &&
		      evil != FAKE_LEN_SHORT;
	unsigned i, guard = 0;
	int rc;

	REQUIRE(buf);
	fake_opts_init(&o);
	o.disk_bytes = DISK_BYTES;
	o.threaded = threaded;
	fake_init(&fd, &o);
	ccdma_vblk_config_init(&cfg);
	if (!ind)
		cfg.refuse_features = 1ull << CCDMA_VIRTIO_F_INDIRECT_DESC;
	b = fake_vblk(&fd, &cfg);
	/* One good request first, so the ring is not at index 0. */
	CHECK_EQ(ccdma_vblk_read(b, 0, buf, LEN), 0);
	fake_set_hold(&fd, true);
	memset(r, 0, sizeof(r));
	for (i = 0; i < N; i++) {
		r[i].op = CCDMA_VBLK_READ;
		r[i].sector = 100 + i * 16;
		r[i].buf = buf + i * LEN;
		r[i].len = LEN;
		r[i].done = fake_done_cb;
		r[i].user = &d;
		CHECK_EQ(ccdma_vblk_submit(b, 0, &r[i]), 0);
	}
	fake_set_evil(&fd, evil, at);
	fake_release(&fd);
	while (d.n < N && guard++ < 100) {
		rc = ccdma_vblk_wait(b, 0, 2000000000ull);
		if (rc == -ETIMEDOUT)
			break;
	}
	CHECK_EQ(d.n, N);
	ccdma_vblk_get_stats(b, &st);
	if (breaks) {
		CHECK(ccdma_vblk_broken(b));
		CHECK_EQ(fd.fails, 1);
		CHECK(fd.why[0]);
		if (at == 2 && !ind && !threaded)
			printf("%-16s -> %s\n", names[evil], fd.why);
		/* Requests before the bad entry completed normally; an
		 * index jump is seen before any entry is looked at. */
		for (i = 0; i < N; i++) {
			unsigned ok = evil == FAKE_IDX_JUMP ? 0
				      : evil == FAKE_DOUBLE ? at + 1 : at;

			CHECK_EQ(r[i].status, i < ok ? 0 : -ENODEV);
		}
		CHECK(d.errs >= N - at - 1);
		CHECK_EQ(ccdma_vblk_poll(b, 0), -ENODEV);
		CHECK_EQ(ccdma_vblk_wait(b, 0, 1000), -ENODEV);
		late = r[0];
		CHECK_EQ(ccdma_vblk_submit(b, 0, &late), -ENODEV);
		CHECK_EQ(ccdma_vblk_read(b, 0, buf, LEN), -ENODEV);
		CHECK_EQ(ccdma_vblk_flush(b), -ENODEV);
	} else if (evil == FAKE_LEN_SHORT) {
		/* The used entry of completion `at` claims 1000 bytes less:
		 * that read fails, its buffer holds the reported bytes and
		 * zeros after them; the others are whole. */
		CHECK(!ccdma_vblk_broken(b));
		CHECK_EQ(d.errs, 1);
		CHECK_EQ(st.short_reads, 1);
		for (i = 0; i < N; i++) {
			size_t good = r[i].status ? LEN - 1000 : LEN;

			CHECK_EQ(r[i].status, i == at ? -EIO : 0);
			CHECK(memcmp(buf + i * LEN, fd.disk + r[i].sector * 512,
				     good) == 0);
			for (size_t k = good; k < LEN; k++)
				if (buf[i * LEN + k]) {
					CHECK(!"byte past the reported length");
					break;
				}
		}
		CHECK_EQ(ccdma_vblk_read(b, 0, buf, LEN), 0);
	} else {
		CHECK(!ccdma_vblk_broken(b));
		CHECK_EQ(d.errs, 0);
		for (i = 0; i < N; i++)
			CHECK(memcmp(buf + i * LEN,
				     fd.disk + r[i].sector * 512, LEN) == 0);
		CHECK_EQ(st.used_len_clamped, evil == FAKE_LEN_BIG ? 1 : 0);
		CHECK_EQ(ccdma_vblk_read(b, 0, buf, LEN), 0);
	}
	CHECK_EQ(ccdma_vblk_inflight(b, 0), 0);
	ccdma_vblk_destroy(b);
	/* The fake's fault counters are about the driver's descriptors;
	 * fake_fini also checks that dev_destroy found no live mapping. */
	fake_fini(&fd);
	free(buf);
	if (test_failures)
		fprintf(stderr, "  (after %s at %u, indirect %d, threaded %d)\n",
			names[evil], at, ind, threaded);
}

/* The device disappears with requests in flight. */
static void disconnect(void)
{
	struct fake_opts o;
	struct fake_dev fd;
	struct ccdma_vblk *b;
	struct ccdma_vblk_req r[3];
	struct fake_done d = { 0, 0, 0 };
	uint8_t buf[3][4096];
	unsigned i;

	fake_opts_init(&o);
	o.disk_bytes = DISK_BYTES;
	fake_init(&fd, &o);
	b = fake_vblk(&fd, NULL);
	fake_set_hold(&fd, true);
	memset(r, 0, sizeof(r));
	for (i = 0; i < 3; i++) {
		r[i].op = i == 1 ? CCDMA_VBLK_WRITE : CCDMA_VBLK_READ;
		r[i].sector = i * 8;
		r[i].buf = buf[i];
		r[i].len = 4096;
		r[i].done = fake_done_cb;
		r[i].user = &d;
		CHECK_EQ(ccdma_vblk_submit(b, 0, &r[i]), 0);
	}
	fake_fail(&fd, "peer hung up");
	CHECK_EQ(ccdma_vblk_wait(b, 0, UINT64_MAX), -ENODEV);
	CHECK_EQ(d.n, 3);
	CHECK_EQ(d.errs, 3);
	for (i = 0; i < 3; i++)
		CHECK_EQ(r[i].status, -ENODEV);
	CHECK(ccdma_vblk_broken(b));
	CHECK_EQ(ccdma_vblk_submit(b, 0, &r[0]), -ENODEV);
	ccdma_vblk_destroy(b);
	fake_fini(&fd);
}

/* Destroy with requests in flight: they complete with -ENODEV and the
 * device is stopped first. */
static void destroy_inflight(void)
{
	struct fake_opts o;
	struct fake_dev fd;
	struct ccdma_vblk *b;
	struct ccdma_vblk_req r;
	struct fake_done d = { 0, 0, 0 };
	uint8_t buf[4096];

	fake_opts_init(&o);
	o.disk_bytes = DISK_BYTES;
	fake_init(&fd, &o);
	b = fake_vblk(&fd, NULL);
	fake_set_hold(&fd, true);
	memset(&r, 0, sizeof(r));
	r.op = CCDMA_VBLK_READ;
	r.buf = buf;
	r.len = sizeof(buf);
	r.done = fake_done_cb;
	r.user = &d;
	CHECK_EQ(ccdma_vblk_submit(b, 0, &r), 0);
	ccdma_vblk_destroy(b);
	CHECK_EQ(d.n, 1);
	CHECK_EQ(r.status, -ENODEV);
	CHECK_EQ(fd.fails, 1);
	fake_fini(&fd);
}

/* Misbehaviour `e` at completion 0 and 2, with and without indirect
 * descriptors, synchronous and threaded. */
static void evil_case(enum fake_evil e)
{
	unsigned c;

	for (c = 0; c < 4; c++) {
		one(e, 0, c & 1, c & 2);
		one(e, 2, c & 1, c & 2);
	}
}

/* The cases by name: these names, "disconnect" and "destroy-inflight" are
 * the CTest entries' arguments (tests/virtio_tests.cmake lists every one). */
static const enum fake_evil evils[] = {
	FAKE_ID_RANGE, FAKE_ID_NOT_INFLIGHT, FAKE_DOUBLE, FAKE_LEN_BIG,
	FAKE_BAD_STATUS, FAKE_IDX_JUMP, FAKE_NO_STATUS, FAKE_LEN_SHORT,
};
#define NEVILS (sizeof(evils) / sizeof(evils[0]))

int main(int argc, char **argv)
{
	const char *only = argc > 1 ? argv[1] : NULL;
	bool ran = false;
	size_t k;

	test_init();
	ccdma_log_set_handler(quiet_log, NULL);
	/* Leaked mappings make ccdma_dev_destroy() return -EBUSY. */
	ccdma_debug_set(CCDMA_DEBUG_ON);
	for (k = 0; k < NEVILS; k++) {
		if (!only || !strcmp(only, names[evils[k]])) {
			evil_case(evils[k]);
			ran = true;
		}
	}
	if (!only || !strcmp(only, "disconnect")) {
		disconnect();
		ran = true;
	}
	if (!only || !strcmp(only, "destroy-inflight")) {
		destroy_inflight();
		ran = true;
	}
	if (!ran) {
		fprintf(stderr, "virtio_blk_hostile: no case '%s' (cases:", only);
		for (k = 0; k < NEVILS; k++)
			fprintf(stderr, " %s", names[evils[k]]);
		fprintf(stderr, " disconnect destroy-inflight)\n");
		return 1;
	}
	return test_done("virtio_blk_hostile");
}
