/* SPDX-License-Identifier: MIT */
/*
 * The synchronous helpers (ccdma_vblk_read / _write, queue 0) from several
 * threads at once: one thread's poll runs another's completion, and the
 * other must not sleep on until its stall timeout (then it took the
 * device for stalled: -ETIMEDOUT, the device broken).  Four threads each
 * write, read back and compare 150 requests of 4-64 KiB on their own part
 * of a ccdma-devsim disk; the stall timeout is 10 s, far above any single
 * request.  Every call returns 0, every byte compares, nothing breaks.
 */
#include <pthread.h>

#include "e2e_util.h"

#define THREADS 4
#define ROUNDS 150
#define MAX_IO (64u * 1024u)

struct th {
	struct e2e *e;
	unsigned id;
	int first_err;
	unsigned errs, bad, done;
};

static void *run(void *arg)
{
	struct th *t = arg;
	uint8_t *buf = malloc(MAX_IO), *back = malloc(MAX_IO);
	uint64_t seed = 77 + t->id, base = (uint64_t)t->id * 4096;

	if (!buf || !back) {
		t->errs++;
		goto out;
	}
	for (unsigned i = 0; i < ROUNDS; i++) {
		size_t len = (size_t)(xorshift(&seed) % (MAX_IO / 4096) + 1) * 4096;
		uint64_t sector = base + xorshift(&seed) % (4096 - len / 512);
		int rc;

		e2e_fill(buf, len, sector * 512, i + 1000 * t->id);
		rc = ccdma_vblk_write(t->e->b, sector, buf, len);
		if (!rc)
			rc = ccdma_vblk_read(t->e->b, sector, back, len);
		if (rc) {
			if (!t->errs++)
				t->first_err = rc;
			break;
		}
		if (e2e_diff(buf, back, len) >= 0)
			t->bad++;
		t->done++;
	}
out:
	free(buf);
	free(back);
	return NULL;
}

int main(int argc, char **argv)
{
	static const char *const args[] = { "--size", "64m", NULL };
	struct ccdma_vhost_config c;
	struct ccdma_vblk_config vc;
	struct th t[THREADS];
	pthread_t th[THREADS];
	struct backend be;
	struct e2e e;
	unsigned i;

	test_init();
	backend_require("ccdma-devsim", argc > 2 ? argv[2] : NULL);
	REQUIRE(backend_start_devsim(&be, argv[2], args) == 0);
	memset(&e, 0, sizeof(e));
	ccdma_vhost_config_init(&c);
	c.socket_path = be.sock;
	c.mode = CCDMA_MODE_CONFIDENTIAL;
	REQUIRE(ccdma_vhost_connect(&c, &e.h) == 0);
	ccdma_vblk_config_init(&vc);
	vc.sync_timeout_ms = 10000;
	REQUIRE(ccdma_vblk_create(ccdma_vhost_transport(e.h), &vc, &e.b) == 0);
	for (i = 0; i < THREADS; i++) {
		t[i] = (struct th){ .e = &e, .id = i };
		REQUIRE(pthread_create(&th[i], NULL, run, &t[i]) == 0);
	}
	for (i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		if (t[i].errs)
			fprintf(stderr, "thread %u: error %d after %u requests\n", i,
				t[i].first_err, t[i].done);
		CHECK_EQ(t[i].errs, 0);
		CHECK_EQ(t[i].bad, 0);
		CHECK_EQ(t[i].done, ROUNDS);
	}
	CHECK(!ccdma_vblk_broken(e.b));
	e2e_close(&e);
	CHECK_EQ(backend_stop(&be), 0);
	return test_done("e2e_sync_threads");
}
