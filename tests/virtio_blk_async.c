/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk asynchronous API: a queue filled to its size then -EAGAIN
 * (nothing posted), callbacks from poll, callbacks that submit, the
 * notification rules (EVENT_IDX avail_event, USED_F_NO_NOTIFY), wait()
 * against a device thread (interrupts, timeout), and several queues used
 * from several threads at once.
 */
#include <unistd.h>

#include "virtio_fake_dev.h"

#define BS 4096

static int submit_retry(struct ccdma_vblk *b, unsigned q,
			struct ccdma_vblk_req *r)
{
	int rc;

	while ((rc = ccdma_vblk_submit(b, q, r)) == -ENOMEM)
		usleep(100);
	return rc;
}

/* Fill a held queue; -EAGAIN at the limit; release; everything completes. */
static void fill(bool indirect)
{
	struct fake_opts o;
	struct fake_dev fd;
	struct ccdma_vblk_config cfg;
	struct ccdma_vblk_info info;
	struct ccdma_vblk_stats st;
	struct ccdma_vblk *b;
	struct ccdma_vblk_req *r;
	struct fake_done d = { 0, 0, 0 };
	uint8_t *buf;
	unsigned i, n, expect;
	uint64_t chains;
	int rc;

	fake_opts_init(&o);
	fake_init(&fd, &o);
	ccdma_vblk_config_init(&cfg);
	cfg.queue_size = 64;
	if (!indirect)
		cfg.refuse_features = 1ull << CCDMA_VIRTIO_F_INDIRECT_DESC;
	b = fake_vblk(&fd, &cfg);
	ccdma_vblk_get_info(b, &info);
	CHECK_EQ(info.indirect, indirect);
	expect = indirect ? 64 : 64 / 3;
	r = calloc(100, sizeof(*r));
	buf = malloc(100 * BS);
	REQUIRE(r && buf);
	fake_set_hold(&fd, true);
	for (n = 0; n < 100; n++) {
		r[n].op = CCDMA_VBLK_READ;
		r[n].sector = (uint64_t)n * 13;
		r[n].buf = buf + (size_t)n * BS;
		r[n].len = BS;
		r[n].done = fake_done_cb;
		r[n].user = &d;
		rc = submit_retry(b, 0, &r[n]);
		if (rc == -EAGAIN)
			break;
		CHECK_EQ(rc, 0);
	}
	CHECK_EQ(n, expect);
	CHECK_EQ(ccdma_vblk_inflight(b, 0), expect);
	chains = fd.chains;
	CHECK_EQ(ccdma_vblk_poll(b, 0), 0);
	CHECK_EQ(d.n, 0);
	fake_release(&fd);
	CHECK_EQ(fd.chains - chains, expect);
	CHECK_EQ(ccdma_vblk_poll(b, 0), (int)expect);
	CHECK_EQ(d.n, expect);
	CHECK_EQ(d.errs, 0);
	CHECK_EQ(ccdma_vblk_inflight(b, 0), 0);
	for (i = 0; i < n; i++) {
		CHECK_EQ(r[i].status, 0);
		CHECK(memcmp(buf + (size_t)i * BS, fd.disk + r[i].sector * 512,
			     BS) == 0);
	}
	/* Room again: the -EAGAIN request goes in now. */
	CHECK_EQ(submit_retry(b, 0, &r[n]), 0);
	CHECK_EQ(ccdma_vblk_wait(b, 0, 1000000000ull), 1);
	ccdma_vblk_get_stats(b, &st);
	CHECK_EQ(st.submitted, expect + 1);
	CHECK_EQ(st.completed, expect + 1);
	ccdma_vblk_destroy(b);
	fake_fini(&fd);
	free(r);
	free(buf);
}

/* Kicks: EVENT_IDX kicks once while the device has not caught up; without
 * it every publish kicks unless the device set NO_NOTIFY. */
static void kicks(int mode)
{
	struct fake_opts o;
	struct fake_dev fd;
	struct ccdma_vblk_config cfg;
	struct ccdma_vblk_stats st;
	struct ccdma_vblk *b;
	struct ccdma_vblk_req r[5];
	uint8_t buf[5][512];
	struct fake_done d = { 0, 0, 0 };
	unsigned i;

	fake_opts_init(&o);
	fake_init(&fd, &o);
	ccdma_vblk_config_init(&cfg);
	if (mode)
		cfg.refuse_features = 1ull << CCDMA_VIRTIO_F_EVENT_IDX;
	b = fake_vblk(&fd, &cfg);
	if (mode == 2) {
		/* The device works once and then asks for no more kicks. */
		fd.no_notify = true;
		CHECK_EQ(ccdma_vblk_flush(b), 0);
	}
	fake_set_hold(&fd, true);
	memset(r, 0, sizeof(r));
	for (i = 0; i < 5; i++) {
		r[i].op = CCDMA_VBLK_READ;
		r[i].sector = i;
		r[i].buf = buf[i];
		r[i].len = 512;
		r[i].done = fake_done_cb;
		r[i].user = &d;
		CHECK_EQ(submit_retry(b, 0, &r[i]), 0);
	}
	ccdma_vblk_get_stats(b, &st);
	CHECK_EQ(st.notifications, mode == 0 ? 1 : mode == 1 ? 5 : 1);
	CHECK_EQ(fd.q[0].kicks, st.notifications);
	fake_release(&fd);
	CHECK_EQ(ccdma_vblk_poll(b, 0), 5);
	CHECK_EQ(d.n, 5);
	ccdma_vblk_destroy(b);
	fake_fini(&fd);
}

/* A callback that submits the next request. */
struct chain {
	struct ccdma_vblk *b;
	struct ccdma_vblk_req r;
	uint8_t buf[BS];
	unsigned left, done;
};

static void chain_cb(struct ccdma_vblk_req *r)
{
	struct chain *c = r->user;

	CHECK_EQ(r->status, 0);
	c->done++;
	if (c->left) {
		c->left--;
		r->sector += 8;
		CHECK_EQ(submit_retry(c->b, 0, r), 0);
	}
}

static void resubmit(void)
{
	struct fake_opts o;
	struct fake_dev fd;
	struct chain c;
	int guard = 0;

	fake_opts_init(&o);
	fake_init(&fd, &o);
	memset(&c, 0, sizeof(c));
	c.b = fake_vblk(&fd, NULL);
	c.left = 50;
	c.r.op = CCDMA_VBLK_READ;
	c.r.buf = c.buf;
	c.r.len = BS;
	c.r.done = chain_cb;
	c.r.user = &c;
	CHECK_EQ(submit_retry(c.b, 0, &c.r), 0);
	while (c.done < 51 && guard++ < 1000)
		CHECK(ccdma_vblk_poll(c.b, 0) >= 0);
	CHECK_EQ(c.done, 51);
	CHECK(memcmp(c.buf, fd.disk + 50 * 8 * 512, BS) == 0);
	ccdma_vblk_destroy(c.b);
	fake_fini(&fd);
}

/* Queue depth 32 of random reads against a device thread, with wait(). */
static void qd_wait(struct ccdma_vblk *b, struct fake_dev *fd, unsigned q,
		    unsigned total, uint64_t seed, uint64_t base, uint64_t span)
{
	enum { QD = 32 };
	struct ccdma_vblk_req r[QD];
	uint8_t *buf = malloc(QD * BS);
	struct fake_done d = { 0, 0, 0 };
	unsigned issued = 0, i, checked = 0;
	int rc;

	REQUIRE(buf);
	memset(r, 0, sizeof(r));
	for (i = 0; i < QD; i++) {
		r[i].op = CCDMA_VBLK_READ;
		r[i].buf = buf + (size_t)i * BS;
		r[i].len = BS;
		r[i].done = fake_done_cb;
		r[i].user = &d;
		r[i].sector = base + xorshift(&seed) % (span - 8);
		CHECK_EQ(submit_retry(b, q, &r[i]), 0);
		issued++;
	}
	while (__atomic_load_n(&d.n, __ATOMIC_RELAXED) < total) {
		rc = ccdma_vblk_wait(b, q, 5000000000ull);
		if (rc <= 0) {
			fprintf(stderr, "queue %u: wait %d\n", q, rc);
			test_failures++;
			break;
		}
		for (i = 0; i < QD; i++) {
			if (r[i].status == CCDMA_VBLK_PENDING || !r[i].user)
				continue;
			CHECK_EQ(r[i].status, 0);
			if (memcmp(r[i].buf, fd->disk + r[i].sector * 512, BS)) {
				fprintf(stderr, "queue %u: data at %llu\n", q,
					(unsigned long long)r[i].sector);
				test_failures++;
			}
			checked++;
			if (issued < total) {
				r[i].sector = base + xorshift(&seed) % (span - 8);
				CHECK_EQ(submit_retry(b, q, &r[i]), 0);
				issued++;
			} else {
				r[i].user = NULL; /* finished */
			}
		}
	}
	CHECK_EQ(checked, total);
	CHECK_EQ(d.errs, 0);
	free(buf);
}

static void threaded(void)
{
	struct fake_opts o;
	struct fake_dev fd;
	struct ccdma_vblk_stats st;
	struct ccdma_vblk *b;
	struct ccdma_vblk_req r;
	uint8_t buf[512];

	fake_opts_init(&o);
	o.threaded = true;
	fake_init(&fd, &o);
	b = fake_vblk(&fd, NULL);
	qd_wait(b, &fd, 0, 2000, 7, 0, o.disk_bytes / 512);
	ccdma_vblk_get_stats(b, &st);
	CHECK_EQ(st.completed, 2000);
	printf("threaded: %llu kicks, %llu interrupts for 2000 requests\n",
	       (unsigned long long)st.notifications,
	       (unsigned long long)st.interrupts);

	/* Nothing to complete: the wait times out. */
	CHECK_EQ(ccdma_vblk_wait(b, 0, 20000000ull), -ETIMEDOUT);
	CHECK_EQ(ccdma_vblk_wait(b, 0, 0), -ETIMEDOUT);
	/* A held device: the wait times out with the request in flight,
	 * then completes once released. */
	fake_set_hold(&fd, true);
	memset(&r, 0, sizeof(r));
	r.op = CCDMA_VBLK_READ;
	r.buf = buf;
	r.len = 512;
	CHECK_EQ(submit_retry(b, 0, &r), 0);
	CHECK_EQ(ccdma_vblk_wait(b, 0, 20000000ull), -ETIMEDOUT);
	CHECK_EQ(r.status, CCDMA_VBLK_PENDING);
	fake_release(&fd);
	CHECK_EQ(ccdma_vblk_wait(b, 0, 5000000000ull), 1);
	CHECK_EQ(r.status, 0);
	ccdma_vblk_destroy(b);
	fake_fini(&fd);
}

/* Interrupts: none while nobody waits (AVAIL_F_NO_INTERRUPT, or
 * used_event far away), exactly one for a wait that blocks. */
static void interrupts(bool ev)
{
	struct fake_opts o;
	struct fake_dev fd;
	struct ccdma_vblk_config cfg;
	struct ccdma_vblk_stats st;
	struct ccdma_vblk *b;
	struct ccdma_vblk_req r[3];
	uint8_t buf[3][512];
	unsigned i, round;

	fake_opts_init(&o);
	fake_init(&fd, &o);
	fd.lazy = true;
	ccdma_vblk_config_init(&cfg);
	if (!ev)
		cfg.refuse_features = 1ull << CCDMA_VIRTIO_F_EVENT_IDX;
	b = fake_vblk(&fd, &cfg);
	memset(r, 0, sizeof(r));
	for (round = 0; round < 3; round++) {
		/* Polled: the device completes, raises nothing. */
		for (i = 0; i < 3; i++) {
			r[i].op = CCDMA_VBLK_READ;
			r[i].sector = i + round;
			r[i].buf = buf[i];
			r[i].len = 512;
			CHECK_EQ(submit_retry(b, 0, &r[i]), 0);
		}
		pthread_mutex_lock(&fd.lock);
		fake_process(&fd, 0);
		pthread_mutex_unlock(&fd.lock);
		CHECK_EQ(fd.q[0].irqs, round);
		CHECK_EQ(ccdma_vblk_poll(b, 0), 3);
		/* Waited for: one interrupt, one wake. */
		for (i = 0; i < 3; i++)
			CHECK_EQ(submit_retry(b, 0, &r[i]), 0);
		CHECK_EQ(ccdma_vblk_wait(b, 0, UINT64_MAX), 3);
		CHECK_EQ(fd.q[0].irqs, round + 1);
		for (i = 0; i < 3; i++) {
			CHECK_EQ(r[i].status, 0);
			CHECK(memcmp(buf[i], fd.disk + r[i].sector * 512, 512) == 0);
		}
	}
	ccdma_vblk_get_stats(b, &st);
	CHECK_EQ(st.interrupts, 3);
	ccdma_vblk_destroy(b);
	fake_fini(&fd);
}

struct mq_arg {
	struct ccdma_vblk *b;
	struct fake_dev *fd;
	unsigned q;
	uint64_t span;
};

static void *mq_thread(void *p)
{
	struct mq_arg *a = p;
	uint64_t base = a->q * a->span;
	size_t len = 64u << 10;
	uint8_t *w = malloc(len), *r = malloc(len);
	unsigned i;

	REQUIRE(w && r);
	/* Writes on this thread's own queue and range, read back. */
	for (i = 0; i < 20; i++) {
		uint64_t sec = base + (i * 128) % (a->span - 128);
		struct ccdma_vblk_req rq;
		struct fake_done d = { 0, 0, 0 };

		fake_pattern(w, len, a->q * 1000 + i);
		memset(&rq, 0, sizeof(rq));
		rq.op = CCDMA_VBLK_WRITE;
		rq.sector = sec;
		rq.buf = w;
		rq.len = len;
		rq.done = fake_done_cb;
		rq.user = &d;
		CHECK_EQ(submit_retry(a->b, a->q, &rq), 0);
		while (!__atomic_load_n(&d.n, __ATOMIC_RELAXED))
			if (ccdma_vblk_wait(a->b, a->q, 5000000000ull) < 0)
				break;
		CHECK_EQ(rq.status, 0);
		rq.op = CCDMA_VBLK_READ;
		rq.buf = r;
		d.n = 0;
		CHECK_EQ(submit_retry(a->b, a->q, &rq), 0);
		while (!__atomic_load_n(&d.n, __ATOMIC_RELAXED))
			if (ccdma_vblk_wait(a->b, a->q, 5000000000ull) < 0)
				break;
		CHECK_EQ(rq.status, 0);
		CHECK(memcmp(w, r, len) == 0);
	}
	qd_wait(a->b, a->fd, a->q, 500, a->q + 1, base, a->span);
	free(w);
	free(r);
	return NULL;
}

static void multiqueue(void)
{
	struct fake_opts o;
	struct fake_dev fd;
	struct ccdma_vblk_info info;
	struct ccdma_vblk_config cfg;
	struct ccdma_vblk *b;
	struct mq_arg a[4];
	pthread_t t[4];
	unsigned i;

	fake_opts_init(&o);
	o.threaded = true;
	o.nq = 6;
	fake_init(&fd, &o);
	ccdma_vblk_config_init(&cfg);
	cfg.num_queues = 4;
	b = fake_vblk(&fd, &cfg);
	ccdma_vblk_get_info(b, &info);
	CHECK_EQ(info.num_queues, 4);
	CHECK(fd.q[3].started && !fd.q[4].started);
	for (i = 0; i < 4; i++) {
		a[i] = (struct mq_arg){ b, &fd, i, o.disk_bytes / 512 / 4 };
		REQUIRE(pthread_create(&t[i], NULL, mq_thread, &a[i]) == 0);
	}
	for (i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	for (i = 0; i < 4; i++)
		CHECK(fd.q[i].kicks > 0);
	ccdma_vblk_destroy(b);
	fake_fini(&fd);

	/* num_queues 0: all the device offers. */
	fake_init(&fd, &o);
	b = fake_vblk(&fd, NULL);
	ccdma_vblk_get_info(b, &info);
	CHECK_EQ(info.num_queues, 6);
	ccdma_vblk_destroy(b);
	fake_fini(&fd);
}

int main(void)
{
	test_init();
	fill(true);
	fill(false);
	kicks(0);
	kicks(1);
	kicks(2);
	resubmit();
	interrupts(true);
	interrupts(false);
	threaded();
	multiqueue();
	return test_done("virtio_blk_async");
}
