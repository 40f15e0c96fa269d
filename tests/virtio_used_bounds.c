/* SPDX-License-Identifier: MIT */
/*
 * The driver's bounds on the used ring, each checked at its edge, with the
 * device's side written by hand (the fake device only holds the ring):
 *   - used id num - 1 (the last head) is accepted; used id == num, one past
 *     the chain records, is "used id out of range";
 *   - the used index may move ahead by exactly the chains in flight; one
 *     more (still far below the ring size) is "used index ahead of the
 *     chains in flight", seen before any entry is looked at, so the good
 *     entries before the bogus one are not completed either;
 *   - an index one behind the last entry consumed is "used index moved
 *     backwards" (not "more than the ring size ahead").
 * A violation breaks the device: every request in flight completes with
 * -ENODEV and the transport's fail() gets the reason once.
 */
#include "virtio_fake_dev.h"

#define QSIZE 8
#define LEN 512

struct rig {
	struct fake_dev fd;
	struct ccdma_vblk *b;
	struct ccdma_vblk_req r[QSIZE];
	uint8_t buf[QSIZE][LEN];
	struct fake_done done;
	unsigned num;
};

static void rig_init(struct rig *g)
{
	struct ccdma_vblk_config cfg;
	struct ccdma_vblk_info info;
	struct fake_opts o;

	memset(g, 0, sizeof(*g));
	fake_opts_init(&o);
	o.qmax = QSIZE;
	fake_init(&g->fd, &o);
	ccdma_vblk_config_init(&cfg);
	cfg.num_queues = 1;
	g->b = fake_vblk(&g->fd, &cfg);
	ccdma_vblk_get_info(g->b, &info);
	/* Indirect descriptors: one head per request, so QSIZE requests
	 * take every head 0 .. num-1. */
	REQUIRE(info.indirect);
	g->num = g->fd.q[0].num;
	REQUIRE(g->num == QSIZE && info.queue_size == QSIZE);
	fake_set_hold(&g->fd, true);
}

/* Submit n reads of LEN bytes, r[i] from sector 8 * i. */
static void submit(struct rig *g, unsigned from, unsigned n)
{
	unsigned i;

	for (i = from; i < from + n; i++) {
		struct ccdma_vblk_req *r = &g->r[i];

		memset(r, 0, sizeof(*r));
		memset(g->buf[i], 0, LEN);
		r->op = CCDMA_VBLK_READ;
		r->sector = 8 * i;
		r->buf = g->buf[i];
		r->len = LEN;
		r->done = fake_done_cb;
		r->user = &g->done;
		r->status = 1; /* not completed yet */
		CHECK_EQ(ccdma_vblk_submit(g->b, 0, r), 0);
	}
}

/* The device's view: the head in avail slot k (fd.lock held). */
static unsigned avail_head(struct fake_dev *fd, unsigned k)
{
	struct fake_q *q = &fd->q[0];

	return fake_ld16(fd, q->avail + 4 + 2ull * (k % q->num), __ATOMIC_ACQUIRE);
}

/* Carry out the chain at `head` and put its used entry in the ring,
 * unpublished (fd.lock held). */
static void complete(struct fake_dev *fd, unsigned head)
{
	struct fake_q *q = &fd->q[0];
	struct fake_seg segs[8];
	uint32_t wlen = 0;
	uint8_t st;
	int n = fake_chain(fd, q, head, segs);

	REQUIRE(n >= 2 && n <= 8);
	st = fake_exec(fd, segs, n, &wlen);
	CHECK_EQ(st, CCDMA_VBLK_S_OK);
	CHECK_EQ(ccdma_dev_write(fd->dma, segs[n - 1].addr, &st, 1), 0);
	fake_push_used(fd, q, head, wlen + 1);
}

/* Publish every used entry written so far (fd.lock held). */
static void publish(struct fake_dev *fd)
{
	struct fake_q *q = &fd->q[0];

	fake_st16(fd, q->used + 2, q->used_idx, __ATOMIC_RELEASE);
}

static void rig_fini(struct rig *g, unsigned want_fails)
{
	CHECK_EQ(ccdma_vblk_inflight(g->b, 0), 0);
	ccdma_vblk_destroy(g->b);
	CHECK_EQ(g->fd.fails, want_fails);
	fake_fini(&g->fd);
}

/* The request whose chain has head h (submitted in avail order). */
static unsigned req_of_head(struct rig *g, unsigned h, unsigned n)
{
	unsigned k;

	for (k = 0; k < n; k++)
		if (avail_head(&g->fd, k) == h)
			return k;
	return UINT32_MAX;
}

/* Used id num - 1 is the last valid head; id num is one past it. */
static void id_edge(void)
{
	struct rig g;
	unsigned last, i;

	rig_init(&g);
	submit(&g, 0, QSIZE);
	pthread_mutex_lock(&g.fd.lock);
	last = req_of_head(&g, g.num - 1, QSIZE);
	REQUIRE(last < QSIZE);
	complete(&g.fd, g.num - 1);
	publish(&g.fd);
	pthread_mutex_unlock(&g.fd.lock);
	CHECK_EQ(ccdma_vblk_poll(g.b, 0), 1);
	CHECK_EQ(g.r[last].status, 0);
	CHECK(memcmp(g.buf[last], g.fd.disk + g.r[last].sector * 512, LEN) == 0);
	CHECK(!ccdma_vblk_broken(g.b));

	/* Head num does not exist. */
	pthread_mutex_lock(&g.fd.lock);
	fake_push_used(&g.fd, &g.fd.q[0], g.num, LEN + 1);
	publish(&g.fd);
	pthread_mutex_unlock(&g.fd.lock);
	CHECK_EQ(ccdma_vblk_poll(g.b, 0), -ENODEV);
	CHECK(ccdma_vblk_broken(g.b));
	CHECK(strcmp(g.fd.why, "used id out of range") == 0);
	for (i = 0; i < QSIZE; i++)
		CHECK_EQ(g.r[i].status, i == last ? 0 : -ENODEV);
	CHECK_EQ(g.done.n, QSIZE);
	CHECK_EQ(g.done.errs, QSIZE - 1);
	if (strcmp(g.fd.why, "used id out of range"))
		fprintf(stderr, "id_edge: the driver said \"%s\"\n", g.fd.why);
	rig_fini(&g, 1);
}

/* The used index may move by the chains in flight, and no further. */
static void idx_edge(void)
{
	struct rig g;
	unsigned i;

	rig_init(&g);
	/* Two in flight, both completed at once: ahead == inflight. */
	submit(&g, 0, 2);
	pthread_mutex_lock(&g.fd.lock);
	complete(&g.fd, avail_head(&g.fd, 0));
	complete(&g.fd, avail_head(&g.fd, 1));
	publish(&g.fd);
	pthread_mutex_unlock(&g.fd.lock);
	CHECK_EQ(ccdma_vblk_poll(g.b, 0), 2);
	CHECK_EQ(g.r[0].status, 0);
	CHECK_EQ(g.r[1].status, 0);
	CHECK(!ccdma_vblk_broken(g.b));

	/* Two in flight, two good entries, and the index moved three:
	 * fewer than the ring size, one more than in flight. */
	submit(&g, 2, 2);
	pthread_mutex_lock(&g.fd.lock);
	complete(&g.fd, avail_head(&g.fd, 2));
	complete(&g.fd, avail_head(&g.fd, 3));
	fake_push_used(&g.fd, &g.fd.q[0], avail_head(&g.fd, 2), LEN + 1);
	publish(&g.fd);
	pthread_mutex_unlock(&g.fd.lock);
	CHECK(3 < g.num);
	CHECK_EQ(ccdma_vblk_poll(g.b, 0), -ENODEV);
	CHECK(ccdma_vblk_broken(g.b));
	CHECK(strcmp(g.fd.why, "used index ahead of the chains in flight") == 0);
	if (strcmp(g.fd.why, "used index ahead of the chains in flight"))
		fprintf(stderr, "idx_edge: the driver said \"%s\"\n", g.fd.why);
	/* Seen before any entry: neither good entry completed. */
	for (i = 2; i < 4; i++)
		CHECK_EQ(g.r[i].status, -ENODEV);
	CHECK_EQ(g.done.n, 4);
	CHECK_EQ(g.done.errs, 2);
	rig_fini(&g, 1);
}

/* The index goes back one entry, below what the driver consumed. */
static void idx_back(void)
{
	struct rig g;
	uint16_t idx;

	rig_init(&g);
	submit(&g, 0, 2);
	pthread_mutex_lock(&g.fd.lock);
	complete(&g.fd, avail_head(&g.fd, 0));
	publish(&g.fd);
	pthread_mutex_unlock(&g.fd.lock);
	CHECK_EQ(ccdma_vblk_poll(g.b, 0), 1);
	CHECK_EQ(g.r[0].status, 0);
	CHECK(!ccdma_vblk_broken(g.b));

	pthread_mutex_lock(&g.fd.lock);
	idx = (uint16_t)(g.fd.q[0].used_idx - 1u);
	fake_st16(&g.fd, g.fd.q[0].used + 2, idx, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&g.fd.lock);
	CHECK_EQ(ccdma_vblk_poll(g.b, 0), -ENODEV);
	CHECK(ccdma_vblk_broken(g.b));
	CHECK(strcmp(g.fd.why, "used index moved backwards") == 0);
	if (strcmp(g.fd.why, "used index moved backwards"))
		fprintf(stderr, "idx_back: the driver said \"%s\"\n", g.fd.why);
	CHECK_EQ(g.r[1].status, -ENODEV);
	CHECK_EQ(g.done.n, 2);
	CHECK_EQ(g.done.errs, 1);
	rig_fini(&g, 1);
}

int main(void)
{
	test_init();
	if (!getenv("CCDMA_TEST_VERBOSE"))
		ccdma_log_set_handler(quiet_log, NULL);
	id_edge();
	idx_edge();
	idx_back();
	return test_done("virtio_used_bounds");
}
