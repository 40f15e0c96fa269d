/* SPDX-License-Identifier: MIT */
/*
 * The pool grows and shrinks while I/O runs (issue 16): a thread keeps 8
 * writes, then 8 reads, in flight and compares what comes back, while the
 * main thread makes the pool grow (whole-region allocations) and then
 * lets it give the regions back, several times.  Against ccdma-devsim and
 * qemu-storage-daemon, each with memory slots (ADD/REM_MEM_REG) and with
 * SET_MEM_TABLE only (a whole new table per change: the front-end pauses
 * the driver's publishing and waits for the back-end's requests in flight
 * first).  Checked: every byte read back is the byte written; the pool
 * added and gave back regions under I/O and each connection was told;
 * ccdma-devsim's region log has no "busy" line (no region went while a
 * posted request pointed into it, no table came while one was posted and
 * not completed); the device is not broken.
 */
#include <pthread.h>

#include "e2e_util.h"

#define REGION (1u << 20)
#define CYCLES 4
#define DEPTH 8
#define MAX_IO (256u * 1024u)
/* Parts up to this size go through the queue's persistent slots
 * (CCDMA_VBLK_SLOT_SIZE_DEFAULT); larger ones take pool memory each. */
#define SLOT (64u * 1024u)

/* The I/O thread: batches of DEPTH writes of random sizes (each in its
 * own MAX_IO of the disk) in flight at once on queue 0, then the same
 * read back and compared, until told to stop.  While `big` is set the
 * sizes are above the slot size (their bounces come from the pool, the
 * regions just added among it); otherwise at most a slot, and the thread
 * gives its cached pool memory back first, so that regions can go idle
 * while I/O continues. */
struct worker {
	struct e2e *e;
	struct ccdma_pool *pool;
	unsigned stop;           /* atomic */
	unsigned big;            /* atomic: the main thread's wish */
	unsigned big_now;        /* atomic: what the thread does */
	uint64_t big_batches;    /* atomic */
	uint64_t small_batches;  /* atomic */
	uint64_t ios, bad, errs;
	int first_err;
};

static void on_done(struct ccdma_vblk_req *r)
{
	(*(unsigned *)r->user)++;
}

/* Submit n requests and wait for all; false on any error (counted). */
static bool batch(struct worker *w, struct ccdma_vblk_req *req, unsigned n)
{
	unsigned posted = 0, done = 0, i;

	while (done < n) {
		while (posted < n) {
			int rc;

			req[posted].done = on_done;
			req[posted].user = &done;
			rc = ccdma_vblk_submit(w->e->b, 0, &req[posted]);
			if (rc == -EAGAIN || rc == -ENOMEM)
				break;
			if (rc) {
				w->first_err = rc;
				__atomic_add_fetch(&w->errs, 1, __ATOMIC_RELAXED);
				return false;
			}
			posted++;
		}
		int rc = ccdma_vblk_wait(w->e->b, 0, 30ull * 1000000000ull);

		if (rc < 0) {
			w->first_err = rc;
			__atomic_add_fetch(&w->errs, 1, __ATOMIC_RELAXED);
			return false;
		}
	}
	for (i = 0; i < n; i++)
		if (req[i].status) {
			w->first_err = req[i].status;
			__atomic_add_fetch(&w->errs, 1, __ATOMIC_RELAXED);
			return false;
		}
	return true;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct ccdma_vblk_req req[DEPTH];
	uint8_t *buf[DEPTH], *back[DEPTH];
	uint64_t seed = 0x1234567ull;
	uint32_t tag = 0;
	unsigned i;

	for (i = 0; i < DEPTH; i++) {
		buf[i] = malloc(MAX_IO);
		back[i] = malloc(MAX_IO);
		if (!buf[i] || !back[i])
			__atomic_add_fetch(&w->errs, 1, __ATOMIC_RELAXED);
	}
	while (!w->errs && !__atomic_load_n(&w->stop, __ATOMIC_ACQUIRE)) {
		bool big = __atomic_load_n(&w->big, __ATOMIC_ACQUIRE);

		if (!big && __atomic_load_n(&w->big_now, __ATOMIC_RELAXED))
			ccdma_pool_thread_flush(w->pool);
		__atomic_store_n(&w->big_now, big, __ATOMIC_RELEASE);
		tag++;
		for (i = 0; i < DEPTH; i++) {
			size_t lo = big ? SLOT + 4096 : 4096, hi = big ? MAX_IO : SLOT;

			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			memset(&req[i], 0, sizeof(req[i]));
			req[i].op = CCDMA_VBLK_WRITE;
			req[i].len = lo + (size_t)((seed >> 33) % ((hi - lo) / 4096 + 1)) * 4096;
			req[i].sector = (uint64_t)i * (MAX_IO / 512);
			req[i].buf = buf[i];
			e2e_fill(buf[i], req[i].len, req[i].sector * 512, tag);
		}
		if (!batch(w, req, DEPTH))
			break;
		for (i = 0; i < DEPTH; i++) {
			req[i].op = CCDMA_VBLK_READ;
			req[i].buf = back[i];
			req[i].status = 0;
			memset(back[i], 0xee, req[i].len);
		}
		if (!batch(w, req, DEPTH))
			break;
		for (i = 0; i < DEPTH; i++)
			if (e2e_diff(buf[i], back[i], req[i].len) >= 0)
				w->bad++;
		w->ios += 2 * DEPTH;
		__atomic_add_fetch(big ? &w->big_batches : &w->small_batches, 1,
				   __ATOMIC_RELEASE);
	}
	for (i = 0; i < DEPTH; i++) {
		free(buf[i]);
		free(back[i]);
	}
	return NULL;
}

/* Wait (60 s at most) until the pool's counter `*ctr` passes `from` and
 * the connection was told of as many changes; false at once when the I/O
 * thread failed (its error is checked after the cycles). */
static bool wait_change(struct e2e *e, struct ccdma_pool *p, bool removed,
			uint64_t from, uint64_t told_from, const uint64_t *errs)
{
	uint64_t t0 = blkjob_now_ns();

	for (;;) {
		struct ccdma_pool_stats st;
		struct ccdma_vhost_info vi;
		uint64_t pool, told;

		if (ccdma_pool_get_stats(p, &st))
			return false;
		ccdma_vhost_get_info(e->h, &vi);
		pool = removed ? st.region_shrinks : st.region_grows;
		told = removed ? vi.regions_removed : vi.regions_added;
		if (pool > from && told - told_from == pool - from)
			return true;
		if (__atomic_load_n(errs, __ATOMIC_RELAXED))
			return false;
		if (blkjob_now_ns() - t0 > 60000000000ull) {
			fprintf(stderr, "pool %s %llu region(s), connection told of "
				"%llu\n", removed ? "gave back" : "added",
				(unsigned long long)(pool - from),
				(unsigned long long)(told - told_from));
			return false;
		}
		usleep(5000);
	}
}

static void run(const char *sock, unsigned vflags, const char *what,
		const char *log)
{
	struct ccdma_pool_config pc;
	struct ccdma_pool_stats st;
	struct ccdma_vhost_info v0, v1;
	struct worker w;
	pthread_t th;
	struct ccdma_pool *p;
	struct e2e e;
	unsigned i, c;
	void *m[4];

	printf("%s\n", what);
	test_config(&pc, "shrink-io");
	pc.region_size = REGION;
	pc.max_bytes = 6u * REGION;  /* fits SET_MEM_TABLE's 8 */
	pc.initial_bytes = 2u * REGION;
	pc.low_watermark = 0;
	pc.high_watermark = 0;
	pc.idle_ms = 20;
	REQUIRE(ccdma_pool_create(&pc, &p) == 0);
	REQUIRE(e2e_open_pool(&e, sock, CCDMA_MODE_CONFIDENTIAL, vflags, p) == 0);
	ccdma_vhost_get_info(e.h, &v0);
	w = (struct worker){ .e = &e, .pool = p };
	REQUIRE(pthread_create(&th, NULL, worker_main, &w) == 0);
	/* The queue's persistent slots (taken the first time more small
	 * parts are in flight than it has, kept for its life) come from the
	 * floor's regions: a slot taken later could land in a region the
	 * test grows, which then never goes idle.  Small batches until the
	 * queue holds a slot per request of a batch (or 200 batches: the
	 * device may never let DEPTH pile up). */
	for (;;) {
		struct ccdma_vblk_stats vs;
		uint64_t sb = __atomic_load_n(&w.small_batches, __ATOMIC_ACQUIRE);

		ccdma_vblk_get_stats(e.b, &vs);
		if ((sb && vs.slots >= DEPTH) || sb >= 200 ||
		    __atomic_load_n(&w.errs, __ATOMIC_RELAXED))
			break;
		usleep(1000);
	}
	for (c = 0; c < CYCLES; c++) {
		struct ccdma_vhost_info a;
		unsigned n = 0;

		uint64_t b0 = __atomic_load_n(&w.big_batches, __ATOMIC_ACQUIRE);

		/* Large requests (pool bounces) while the pool grows. */
		__atomic_store_n(&w.big, 1, __ATOMIC_RELEASE);
		CHECK_EQ(ccdma_pool_get_stats(p, &st), 0);
		ccdma_vhost_get_info(e.h, &a);
		/* Whole regions until the pool grew by one at least. */
		while (n < 4 && ccdma_pool_alloc(p, REGION, CCDMA_POOL_WAIT,
						 &m[n]) == 0) {
			struct ccdma_pool_stats s;

			n++;
			if (!ccdma_pool_get_stats(p, &s) &&
			    s.region_grows > st.region_grows)
				break;
		}
		CHECK(n > 0);
		CHECK(wait_change(&e, p, false, st.region_grows, a.regions_added,
				  &w.errs));
		/* Two batches of large requests on the grown pool, then slot
		 * sized ones only: the regions can go idle under I/O. */
		while (__atomic_load_n(&w.big_batches, __ATOMIC_ACQUIRE) < b0 + 2 &&
		       !__atomic_load_n(&w.errs, __ATOMIC_RELAXED))
			usleep(1000);
		__atomic_store_n(&w.big, 0, __ATOMIC_RELEASE);
		while (__atomic_load_n(&w.big_now, __ATOMIC_ACQUIRE) &&
		       !__atomic_load_n(&w.errs, __ATOMIC_RELAXED))
			usleep(1000);
		CHECK_EQ(ccdma_pool_get_stats(p, &st), 0);
		ccdma_vhost_get_info(e.h, &a);
		for (i = 0; i < n; i++)
			CHECK_EQ(ccdma_pool_free(p, m[i], REGION), 0);
		CHECK(wait_change(&e, p, true, st.region_shrinks,
				  a.regions_removed, &w.errs));
	}
	__atomic_store_n(&w.stop, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	CHECK_EQ(w.errs, 0);
	if (w.errs)
		fprintf(stderr, "I/O thread: error %d\n", w.first_err);
	CHECK_EQ(w.bad, 0);
	CHECK(w.ios > 0);
	ccdma_vhost_get_info(e.h, &v1);
	CHECK(!ccdma_vblk_broken(e.b));
	CHECK(v1.regions_added - v0.regions_added >= CYCLES);
	CHECK(v1.regions_removed - v0.regions_removed >= CYCLES);
	if (log)
		/* Nothing went, and no table came, under I/O. */
		CHECK_EQ(test_count_lines(log, "busy", NULL), 0u);
	printf("  %llu I/Os verified; regions +%llu -%llu, table messages %llu, "
	       "changes that waited for I/O %llu\n", (unsigned long long)w.ios,
	       (unsigned long long)(v1.regions_added - v0.regions_added),
	       (unsigned long long)(v1.regions_removed - v0.regions_removed),
	       (unsigned long long)(v1.table_sends - v0.table_sends),
	       (unsigned long long)v1.table_drains);
	e2e_close(&e);
	ccdma_pool_destroy(p);
}

int main(int argc, char **argv)
{
	const char *qsd = argc > 1 ? argv[1] : NULL;
	const char *devsim = argc > 2 ? argv[2] : NULL;
	char log[2][128];
	struct backend b;
	int k;

	test_init();
	backend_require("ccdma-devsim", devsim);
	for (k = 0; k < 2; k++) {
		const char *args[] = { "--size", "64m", "--log-regions", log[k],
				       k ? "--no-mem-slots" : NULL, NULL };

		snprintf(log[k], sizeof(log[k]), "/tmp/ccdma-shrink-io-%d-%d.log",
			 (int)getpid(), k);
		unlink(log[k]);
		REQUIRE(backend_start_devsim(&b, devsim, args) == 0);
		run(b.sock, 0, k ? "ccdma-devsim, SET_MEM_TABLE" :
				  "ccdma-devsim, ADD/REM_MEM_REG", log[k]);
		CHECK_EQ(backend_stop(&b), 0);
		unlink(log[k]);
	}
	if (qsd && *qsd && access(qsd, X_OK) == 0) {
		for (k = 0; k < 2; k++) {
			REQUIRE(backend_start_qsd(&b, qsd, 1, 64ull << 20, 1) == 0);
			run(b.sock, k ? CCDMA_VHOST_F_NO_MEM_SLOTS : 0,
			    k ? "qemu-storage-daemon, SET_MEM_TABLE" :
				"qemu-storage-daemon, ADD/REM_MEM_REG", NULL);
			CHECK_EQ(backend_stop(&b), 0);
		}
	} else {
		printf("qemu-storage-daemon not found: devsim only\n");
	}
	return test_done("e2e_pool_shrink_io");
}
