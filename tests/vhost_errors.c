/* SPDX-License-Identifier: MIT */
/*
 * vhost-user front-end failures: connect errors (no socket, nobody
 * listening, bad config) and a hostile back-end served by a thread of this
 * test that breaks the protocol in one way per scenario (wrong request
 * code, a reply longer or shorter than its fixed size, oversized payload, a descriptor in a reply, bad flags,
 * no VERSION_1, insane queue or slot counts, a refused memory region, a
 * hang-up mid-reply or while a queue waits, silence).  Each must give the
 * documented error, mark the device broken where it was connected, and
 * leave no descriptor open.  A well-behaved scenario checks the messages
 * the front-end sends: order, payloads, descriptors, features.
 */
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <ccdma/virtio_blk.h>

#include "vhost_util.h" /* and backend_util.h */

enum scen {
	S_GOOD,
	S_WRONG_CODE,     /* GET_FEATURES answered as SET_FEATURES */
	S_TOO_LONG,       /* GET_FEATURES reply of 16 bytes */
	S_TOO_SHORT,      /* GET_FEATURES reply of 4 bytes */
	S_PF_SHORT,       /* GET_PROTOCOL_FEATURES reply of 4 bytes */
	S_HUGE,           /* header says 100000 payload bytes */
	S_FD,             /* a descriptor rides on the reply */
	S_NO_V1,          /* features without VERSION_1 */
	S_NO_REPLY_FLAG,  /* reply without the reply bit */
	S_BAD_VERSION,    /* reply with version 2 */
	S_CLOSE_MID,      /* half a header, then close */
	S_CLOSE_AT_OWNER, /* close right after SET_OWNER (front-end sends on) */
	S_SILENT,         /* never answers */
	S_QNUM_0,         /* GET_QUEUE_NUM 0 */
	S_QNUM_BIG,       /* GET_QUEUE_NUM 100000 */
	S_SLOTS_0,        /* GET_MAX_MEM_SLOTS 0 */
	S_ACK_FAIL,       /* ADD_MEM_REG acknowledged with status 1 */
	S_CONFIG_SHORT,   /* GET_CONFIG reply one byte short */
	S_CONFIG_OFFSET,  /* GET_CONFIG reply names another offset */
	S_CONFIG_REFUSE,  /* GET_CONFIG reply of size 0 (libvhost-user: error) */
	S_HANGUP,         /* closes once queue 0 is enabled */
	S_NO_PF,          /* no protocol-features bit: the oldest back-end */
	S_CONFIG_FD,      /* a descriptor rides on the GET_CONFIG reply */
	S_BLK,            /* a virtio-blk config; requests never complete */
};

#define MAX_LOG 256

struct fake {
	enum scen s;
	int lsock, conn;
	pthread_t th;
	char path[108];
	/* what the front-end sent, in order */
	uint32_t req[MAX_LOG], flags[MAX_LOG];
	unsigned nfds[MAX_LOG];
	unsigned n;
	uint64_t set_pf, set_features;
	struct ccdma_vu_region regions[16];
	unsigned nregions;
	int kick_fd, call_fd;
	unsigned kicks;
	int spare_fd;     /* S_CONFIG_FD: made before the fd table fills */
};

#define OFFERED_PF                                                           \
	((1ull << CCDMA_VU_PF_MQ) | (1ull << CCDMA_VU_PF_REPLY_ACK) |        \
	 (1ull << CCDMA_VU_PF_CONFIG) |                                      \
	 (1ull << CCDMA_VU_PF_CONFIGURE_MEM_SLOTS) | (1ull << 1) | (1ull << 5))
#define OFFERED_F                                                            \
	((1ull << CCDMA_VIRTIO_F_VERSION_1) |                               \
	 (1ull << CCDMA_VU_F_PROTOCOL_FEATURES) |                           \
	 (1ull << CCDMA_VIRTIO_F_ACCESS_PLATFORM) |                         \
	 (1ull << CCDMA_VIRTIO_F_EVENT_IDX) | (1ull << 9))

static int send_raw(int s, const void *buf, size_t len, int fd)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct iovec iov = { (void *)buf, len };
	struct msghdr mh;

	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (fd >= 0) {
		struct cmsghdr *c;

		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.b;
		mh.msg_controllen = sizeof(ctl.b);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	return sendmsg(s, &mh, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -1;
}

static int reply(struct fake *f, uint32_t req, uint32_t flags, const void *p,
		 uint32_t size, int fd)
{
	uint8_t buf[12 + 300];
	struct ccdma_vu_hdr h = { req, flags, size };

	memcpy(buf, &h, 12);
	if (size <= 300 && p)
		memcpy(buf + 12, p, size);
	return send_raw(f->conn, buf, 12 + (p ? size : 0), fd);
}

static int reply_u64(struct fake *f, uint32_t req, uint64_t v)
{
	return reply(f, req, CCDMA_VU_VERSION | CCDMA_VU_FLAG_REPLY, &v, 8, -1);
}

/* Read one message; returns 0, or -1 at EOF / error.  Descriptors are
 * kept when they are a queue's kick/call, closed otherwise. */
static int read_msg(struct fake *f, struct ccdma_vu_hdr *h, uint8_t *payload,
		    int *fds, unsigned *nfds)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int) * 16)];
	} ctl;
	struct iovec iov = { h, 12 };
	struct msghdr mh;
	struct cmsghdr *c;
	size_t got = 0;
	ssize_t n;

	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = ctl.b;
	mh.msg_controllen = sizeof(ctl.b);
	n = recvmsg(f->conn, &mh, MSG_CMSG_CLOEXEC);
	if (n <= 0)
		return -1;
	*nfds = 0;
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		unsigned k, m = (unsigned)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));

		for (k = 0; k < m && *nfds < 16; k++)
			memcpy(&fds[(*nfds)++], CMSG_DATA(c) + k * sizeof(int),
			       sizeof(int));
	}
	got = (size_t)n;
	while (got < 12) {
		n = recv(f->conn, (uint8_t *)h + got, 12 - got, 0);
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	if (h->size > 300)
		return -1;
	got = 0;
	while (got < h->size) {
		n = recv(f->conn, payload + got, h->size - got, 0);
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

static void close_fds(int *fds, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		close(fds[i]);
}

/* Answer one message the way the scenario says; -1 ends the connection. */
static int handle(struct fake *f, struct ccdma_vu_hdr *h, uint8_t *p, int *fds,
		  unsigned nfds)
{
	const uint32_t rf = CCDMA_VU_VERSION | CCDMA_VU_FLAG_REPLY;
	bool ack = h->flags & CCDMA_VU_FLAG_NEED_REPLY;
	uint64_t v = 0;

	if (h->size >= 8)
		memcpy(&v, p, 8);
	switch (h->request) {
	case CCDMA_VU_SET_OWNER:
		close_fds(fds, nfds);
		return f->s == S_CLOSE_AT_OWNER ? -1 : 0;
	case CCDMA_VU_GET_FEATURES: {
		uint64_t feat = f->s == S_NO_V1 ?
			(1ull << CCDMA_VU_F_PROTOCOL_FEATURES) :
			f->s == S_NO_PF ? 1ull << CCDMA_VIRTIO_F_VERSION_1 :
			OFFERED_F;
		uint8_t big[16] = { 0 };

		close_fds(fds, nfds);
		switch (f->s) {
		case S_WRONG_CODE:
			return reply_u64(f, CCDMA_VU_SET_FEATURES, feat);
		case S_TOO_LONG:
			memcpy(big, &feat, 8);
			return reply(f, h->request, rf, big, 16, -1);
		case S_TOO_SHORT:
			/* The low half: VIRTIO_F_VERSION_1 (bit 32) is not in it,
			 * so only the size check names the real fault. */
			memcpy(big, &feat, 8);
			return reply(f, h->request, rf, big, 4, -1);
		case S_HUGE:
			return reply(f, h->request, rf, NULL, 100000, -1);
		case S_FD: {
			int e = eventfd(0, EFD_CLOEXEC), rc;

			rc = reply(f, h->request, rf, &feat, 8, e);
			close(e);
			return rc;
		}
		case S_NO_REPLY_FLAG:
			return reply(f, h->request, CCDMA_VU_VERSION, &feat, 8, -1);
		case S_BAD_VERSION:
			return reply(f, h->request, 2 | CCDMA_VU_FLAG_REPLY, &feat, 8, -1);
		case S_CLOSE_MID: {
			struct ccdma_vu_hdr hh = { h->request, rf, 8 };

			send_raw(f->conn, &hh, 6, -1);
			return -1;
		}
		case S_SILENT:
			return 0;
		default:
			return reply_u64(f, h->request, feat);
		}
	}
	case CCDMA_VU_GET_PROTOCOL_FEATURES:
		if (f->s == S_PF_SHORT) {
			/* Every bit the front-end wants is in these 4 bytes
			 * (little-endian): taken as a u64, the reply would
			 * look good. */
			uint64_t pf = OFFERED_PF;

			return reply(f, h->request, rf, &pf, 4, -1);
		}
		return reply_u64(f, h->request, OFFERED_PF);
	case CCDMA_VU_SET_PROTOCOL_FEATURES:
		f->set_pf = v;
		break;
	case CCDMA_VU_SET_FEATURES:
		f->set_features = v;
		break;
	case CCDMA_VU_GET_QUEUE_NUM:
		return reply_u64(f, h->request, f->s == S_QNUM_0 ? 0 :
				 f->s == S_QNUM_BIG ? 100000 : 2);
	case CCDMA_VU_GET_MAX_MEM_SLOTS:
		return reply_u64(f, h->request, f->s == S_SLOTS_0 ? 0 : 8);
	case CCDMA_VU_SET_MEM_TABLE:
		if (h->size >= 8 + 32)
			memcpy(&f->regions[0], p + 8, 32);
		if (h->size >= 8) {
			uint32_t n; /* native byte order, as vhost-user */

			memcpy(&n, p, sizeof(n));
			f->nregions = n;
		} else {
			f->nregions = 0;
		}
		break;
	case CCDMA_VU_ADD_MEM_REG:
		if (f->nregions < 16 && h->size == 40)
			memcpy(&f->regions[f->nregions++], p + 8, 32);
		close_fds(fds, nfds);
		if (ack)
			return reply_u64(f, h->request, f->s == S_ACK_FAIL ? 1 : 0);
		break;
	case CCDMA_VU_GET_CONFIG: {
		struct ccdma_vu_config c;
		uint32_t i, size;

		memcpy(&c, p, h->size);
		for (i = 0; i < c.size && i < CCDMA_VU_CONFIG_MAX; i++)
			c.payload[i] = (uint8_t)(c.offset + i);
		size = CCDMA_VU_CONFIG_HDR + c.size;
		if (f->s == S_CONFIG_SHORT)
			size--;
		if (f->s == S_CONFIG_OFFSET)
			c.offset += 4;
		if (f->s == S_CONFIG_REFUSE)
			size = 0;
		if (f->s == S_BLK) {
			/* 1 MiB; nothing else offered needs config. */
			uint64_t cap = 2048;

			memset(c.payload, 0, sizeof(c.payload));
			memcpy(c.payload, &cap, 8); /* little-endian hosts */
		}
		return reply(f, h->request, rf, &c, size,
			     f->s == S_CONFIG_FD ? f->spare_fd : -1);
	}
	case CCDMA_VU_SET_VRING_KICK:
		if (nfds == 1 && f->kick_fd < 0) {
			f->kick_fd = fds[0];
			nfds = 0;
		}
		break;
	case CCDMA_VU_SET_VRING_CALL:
		if (nfds == 1 && f->call_fd < 0) {
			f->call_fd = fds[0];
			nfds = 0;
		}
		break;
	case CCDMA_VU_GET_VRING_BASE: {
		struct ccdma_vu_vring_state st;

		memcpy(&st, p, 8);
		st.num = 0;
		return reply(f, h->request, rf, &st, 8, -1);
	}
	default:
		break;
	}
	close_fds(fds, nfds);
	if (ack && reply_u64(f, h->request, 0))
		return -1;
	if (h->request == CCDMA_VU_SET_VRING_ENABLE && f->s == S_HANGUP)
		return -1;
	return 0;
}

static void *serve(void *arg)
{
	struct fake *f = arg;
	struct pollfd pl = { .fd = f->lsock, .events = POLLIN };

	if (poll(&pl, 1, 10000) != 1)
		return NULL;
	f->conn = accept4(f->lsock, NULL, NULL, SOCK_CLOEXEC);
	if (f->conn < 0)
		return NULL;
	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = f->conn, .events = POLLIN },
			{ .fd = f->kick_fd, .events = POLLIN },
		};
		struct ccdma_vu_hdr h;
		uint8_t payload[300];
		int fds[16];
		unsigned nfds;

		if (poll(pfd, 2, 20000) <= 0)
			break;
		if (pfd[1].revents & POLLIN) {
			uint64_t v, one = 1;

			/* A kick: complete at once, signal the call fd. */
			if (read(f->kick_fd, &v, 8) == 8)
				f->kicks++;
			if (f->call_fd >= 0 && write(f->call_fd, &one, 8) != 8)
				break;
			continue;
		}
		if (!(pfd[0].revents & (POLLIN | POLLHUP)))
			continue;
		if (read_msg(f, &h, payload, fds, &nfds))
			break;
		if (f->n < MAX_LOG) {
			f->req[f->n] = h.request;
			f->flags[f->n] = h.flags;
			f->nfds[f->n] = nfds;
			f->n++;
		}
		if (handle(f, &h, payload, fds, nfds))
			break;
	}
	close(f->conn);
	if (f->kick_fd >= 0)
		close(f->kick_fd);
	if (f->call_fd >= 0)
		close(f->call_fd);
	f->kick_fd = f->call_fd = -1;
	return NULL;
}

static void fake_start(struct fake *f, const char *dir, enum scen s)
{
	struct sockaddr_un sa;

	memset(f, 0, sizeof(*f));
	f->s = s;
	f->conn = f->kick_fd = f->call_fd = -1;
	f->spare_fd = s == S_CONFIG_FD ? eventfd(0, EFD_CLOEXEC) : -1;
	snprintf(f->path, sizeof(f->path), "%s/fake.sock", dir);
	unlink(f->path);
	f->lsock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	REQUIRE(f->lsock >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, f->path, strlen(f->path) + 1);
	REQUIRE(bind(f->lsock, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	REQUIRE(listen(f->lsock, 1) == 0);
	REQUIRE(pthread_create(&f->th, NULL, serve, f) == 0);
}

static void fake_stop(struct fake *f)
{
	pthread_join(f->th, NULL);
	if (f->spare_fd >= 0)
		close(f->spare_fd);
	close(f->lsock);
	unlink(f->path);
}

static struct ccdma_vhost *fake_connect(struct fake *f, int *rc,
					unsigned timeout_ms)
{
	struct ccdma_vhost_config cfg;
	struct ccdma_vhost *h = NULL;

	ccdma_vhost_config_init(&cfg);
	cfg.socket_path = f->path;
	cfg.reply_timeout_ms = timeout_ms;
	*rc = ccdma_vhost_connect(&cfg, &h);
	return h;
}

/* Error lines logged while a scenario runs (all on the main thread). */
static char logged[4096];

static void keep_log(void *arg, enum ccdma_log_level l, const char *m)
{
	size_t n = strlen(logged);

	(void)arg;
	if (l == CCDMA_LOG_ERROR && n + strlen(m) + 2 < sizeof(logged))
		snprintf(logged + n, sizeof(logged) - n, "%s\n", m);
}

/* A connect that must fail with `want`, leaving nothing open; when `why`
 * is not NULL, an error line must name it. */
static void expect_connect_why(const char *dir, enum scen s, int want,
			       const char *why)
{
	struct ccdma_vhost *h;
	struct fake f;
	int fds0 = fd_count(), rc;

	fake_start(&f, dir, s);
	logged[0] = 0;
	if (why)
		ccdma_log_set_handler(keep_log, NULL);
	h = fake_connect(&f, &rc, 500);
	if (why) {
		if (!getenv("CCDMA_TEST_VERBOSE"))
			ccdma_log_set_handler(quiet_log, NULL);
		else
			ccdma_log_set_handler(NULL, NULL);
		if (!strstr(logged, why))
			fprintf(stderr, "scenario %d: want \"%s\" in the log, got:\n%s",
				s, why, logged);
		CHECK(strstr(logged, why) != NULL);
	}
	if (rc != want)
		fprintf(stderr, "scenario %d: connect gave %d, want %d\n", s, rc,
			want);
	CHECK_EQ(rc, want);
	CHECK(h == NULL);
	if (h)
		ccdma_vhost_close(h);
	fake_stop(&f);
	CHECK_EQ(fd_count(), fds0);
}

static void expect_connect_error(const char *dir, enum scen s, int want)
{
	expect_connect_why(dir, s, want, NULL);
}

static unsigned find(const struct fake *f, uint32_t req, unsigned from)
{
	unsigned i;

	for (i = from; i < f->n; i++)
		if (f->req[i] == req)
			return i;
	return f->n;
}

static void good_backend(const char *dir)
{
	const struct ccdma_virtio_transport *t;
	struct ccdma_vhost_region tab[8];
	struct ccdma_vhost *h;
	struct fake f;
	struct tring r;
	uint8_t cfgbuf[16];
	unsigned i, n, k;
	int fds0 = fd_count(), rc;

	fake_start(&f, dir, S_GOOD);
	h = fake_connect(&f, &rc, 2000);
	REQUIRE(rc == 0 && h);
	t = ccdma_vhost_transport(h);
	/* Only what the front-end understands is negotiated. */
	CHECK_EQ(t->ops->device_features(t->ctx),
		 (1ull << CCDMA_VIRTIO_F_VERSION_1) |
		 (1ull << CCDMA_VIRTIO_F_EVENT_IDX) | (1ull << 9));
	CHECK_EQ(t->ops->max_queues(t->ctx), 2);
	/* A window: asked from offset 0, the bytes at 5..8 handed back. */
	CHECK_EQ(t->ops->get_config(t->ctx, 5, cfgbuf, 4), 0);
	CHECK(cfgbuf[0] == 5 && cfgbuf[3] == 8);
	CHECK_EQ(t->ops->set_features(t->ctx, (1ull << CCDMA_VIRTIO_F_VERSION_1) |
				      (1ull << CCDMA_VIRTIO_F_EVENT_IDX)), 0);
	REQUIRE(tring_init(&r, h, 1) == 0);
	/* notify -> kick eventfd; the fake signals the call eventfd. */
	CHECK_EQ(t->ops->notify(t->ctx, 1), 0);
	CHECK_EQ(t->ops->wait(t->ctx, 1, 5000000000ull), 0);
	/* Consumed: nothing pending now. */
	CHECK_EQ(t->ops->wait(t->ctx, 1, 1000000), -ETIMEDOUT);
	CHECK(!ccdma_vhost_broken(h));
	n = ccdma_vhost_regions(h, tab, 8);
	tring_free(&r);
	ccdma_vhost_close(h);
	fake_stop(&f);
	CHECK_EQ(fd_count(), fds0);
	CHECK_EQ(f.kicks, 1);

	/* Order and contents of what was sent. */
	REQUIRE(f.n >= 12);
	CHECK_EQ(f.req[0], CCDMA_VU_SET_OWNER);
	CHECK_EQ(f.req[1], CCDMA_VU_GET_FEATURES);
	CHECK_EQ(f.req[2], CCDMA_VU_GET_PROTOCOL_FEATURES);
	CHECK_EQ(f.req[3], CCDMA_VU_SET_PROTOCOL_FEATURES);
	CHECK_EQ(f.set_pf, (1ull << CCDMA_VU_PF_MQ) | (1ull << CCDMA_VU_PF_REPLY_ACK) |
		 (1ull << CCDMA_VU_PF_CONFIG) |
		 (1ull << CCDMA_VU_PF_CONFIGURE_MEM_SLOTS));
	CHECK(find(&f, CCDMA_VU_GET_QUEUE_NUM, 0) < f.n);
	CHECK(find(&f, CCDMA_VU_GET_MAX_MEM_SLOTS, 0) < f.n);
	CHECK(find(&f, CCDMA_VU_SET_MEM_TABLE, 0) == f.n);
	/* Every memory message carries one descriptor and asks for an ack. */
	for (i = 0; i < f.n; i++) {
		if (f.req[i] == CCDMA_VU_ADD_MEM_REG) {
			CHECK_EQ(f.nfds[i], 1);
			CHECK(f.flags[i] & CCDMA_VU_FLAG_NEED_REPLY);
		} else if (f.req[i] != CCDMA_VU_SET_VRING_KICK &&
			   f.req[i] != CCDMA_VU_SET_VRING_CALL) {
			CHECK_EQ(f.nfds[i], 0);
		}
		CHECK_EQ(f.flags[i] & CCDMA_VU_VERSION_MASK, CCDMA_VU_VERSION);
		CHECK(!(f.flags[i] & CCDMA_VU_FLAG_REPLY));
	}
	CHECK_EQ(f.nregions, n);
	for (i = 0; i < f.nregions && i < n; i++) {
		CHECK_EQ(f.regions[i].guest_phys_addr, tab[i].user_addr);
		CHECK_EQ(f.regions[i].userspace_addr, tab[i].user_addr);
		CHECK_EQ(f.regions[i].memory_size, tab[i].size);
		CHECK_EQ(f.regions[i].mmap_offset, 0);
	}
	/* SET_FEATURES echoes the protocol bit, never ACCESS_PLATFORM. */
	CHECK_EQ(f.set_features, (1ull << CCDMA_VIRTIO_F_VERSION_1) |
		 (1ull << CCDMA_VIRTIO_F_EVENT_IDX) |
		 (1ull << CCDMA_VU_F_PROTOCOL_FEATURES));
	/* Queue setup in order, CALL before KICK, then ENABLE; stopped at
	 * close. */
	k = find(&f, CCDMA_VU_SET_VRING_NUM, 0);
	CHECK(k < f.n);
	CHECK(k + 5 < f.n);
	if (k + 5 < f.n) {
		CHECK_EQ(f.req[k + 1], CCDMA_VU_SET_VRING_BASE);
		CHECK_EQ(f.req[k + 2], CCDMA_VU_SET_VRING_ADDR);
		CHECK_EQ(f.req[k + 3], CCDMA_VU_SET_VRING_CALL);
		CHECK_EQ(f.nfds[k + 3], 1);
		CHECK_EQ(f.req[k + 4], CCDMA_VU_SET_VRING_KICK);
		CHECK_EQ(f.nfds[k + 4], 1);
		CHECK_EQ(f.req[k + 5], CCDMA_VU_SET_VRING_ENABLE);
	}
	CHECK_EQ(f.req[f.n - 1], CCDMA_VU_GET_VRING_BASE);
}

/* Connected, then a hostile answer to GET_CONFIG. */
static void config_scenario(const char *dir, enum scen s, int want, bool broken)
{
	const struct ccdma_virtio_transport *t;
	struct ccdma_vhost *h;
	struct fake f;
	uint8_t buf[8];
	int fds0 = fd_count(), rc;

	fake_start(&f, dir, s);
	h = fake_connect(&f, &rc, 2000);
	REQUIRE(rc == 0 && h);
	t = ccdma_vhost_transport(h);
	CHECK_EQ(t->ops->get_config(t->ctx, 0, buf, 8), want);
	CHECK_EQ(ccdma_vhost_broken(h), broken);
	if (broken) {
		CHECK_EQ(t->ops->get_config(t->ctx, 0, buf, 8), -ENODEV);
		CHECK_EQ(t->ops->set_features(t->ctx, 1ull << CCDMA_VIRTIO_F_VERSION_1),
			 -ENODEV);
	}
	ccdma_vhost_close(h);
	fake_stop(&f);
	CHECK_EQ(fd_count(), fds0);
}

/* A back-end without protocol features: one queue, no config access,
 * SET_MEM_TABLE followed by a GET_FEATURES barrier, no SET_VRING_ENABLE. */
static void no_pf_scenario(const char *dir)
{
	const struct ccdma_virtio_transport *t;
	struct ccdma_vhost_region tab[8];
	struct ccdma_vhost_info info;
	struct ccdma_vhost *h;
	struct fake f;
	struct tring r;
	uint8_t buf[8];
	unsigned k;
	int fds0 = fd_count(), rc;

	fake_start(&f, dir, S_NO_PF);
	h = fake_connect(&f, &rc, 2000);
	REQUIRE(rc == 0 && h);
	t = ccdma_vhost_transport(h);
	ccdma_vhost_get_info(h, &info);
	CHECK_EQ(info.protocol_features, 0);
	CHECK_EQ(info.max_queues, 1);
	CHECK_EQ(info.mem_slots, 0);
	CHECK_EQ(t->ops->get_config(t->ctx, 0, buf, 8), -EOPNOTSUPP);
	CHECK_EQ(t->ops->set_features(t->ctx, 1ull << CCDMA_VIRTIO_F_VERSION_1), 0);
	CHECK_EQ(tring_init(&r, h, 0), 0);
	CHECK_EQ(t->ops->notify(t->ctx, 0), 0);
	CHECK_EQ(t->ops->wait(t->ctx, 0, 5000000000ull), 0);
	CHECK_EQ(ccdma_vhost_regions(h, tab, 8), 1);
	tring_free(&r);
	ccdma_vhost_close(h);
	fake_stop(&f);
	CHECK_EQ(fd_count(), fds0);

	k = find(&f, CCDMA_VU_SET_MEM_TABLE, 0);
	REQUIRE(k + 1 < f.n);
	CHECK_EQ(f.nfds[k], 1);
	CHECK_EQ(f.nregions, 1);
	CHECK_EQ(f.regions[0].userspace_addr, tab[0].user_addr);
	CHECK_EQ(f.regions[0].memory_size, tab[0].size);
	CHECK_EQ(f.req[k + 1], CCDMA_VU_GET_FEATURES);
	CHECK_EQ(find(&f, CCDMA_VU_GET_PROTOCOL_FEATURES, 0), f.n);
	CHECK_EQ(find(&f, CCDMA_VU_SET_VRING_ENABLE, 0), f.n);
	CHECK_EQ(f.set_features, 1ull << CCDMA_VIRTIO_F_VERSION_1);
	for (k = 0; k < f.n; k++)
		CHECK(!(f.flags[k] & CCDMA_VU_FLAG_NEED_REPLY));
}

/* The back-end hangs up while the driver waits for an interrupt. */
static void hangup_scenario(const char *dir)
{
	const struct ccdma_virtio_transport *t;
	struct ccdma_vhost *h;
	struct fake f;
	struct tring r;
	uint64_t t0;
	int fds0 = fd_count(), rc;

	fake_start(&f, dir, S_HANGUP);
	h = fake_connect(&f, &rc, 2000);
	REQUIRE(rc == 0 && h);
	t = ccdma_vhost_transport(h);
	CHECK_EQ(t->ops->set_features(t->ctx, 1ull << CCDMA_VIRTIO_F_VERSION_1), 0);
	CHECK_EQ(tring_init(&r, h, 0), 0);
	t0 = test_now_ns();
	CHECK_EQ(t->ops->wait(t->ctx, 0, 10000000000ull), -ENODEV);
	CHECK(test_now_ns() - t0 < 5000000000ull);
	CHECK(ccdma_vhost_broken(h));
	CHECK_EQ(t->ops->notify(t->ctx, 0), -ENODEV);
	tring_free(&r);
	ccdma_vhost_close(h);
	fake_stop(&f);
	CHECK_EQ(fd_count(), fds0);
}

/* Highest descriptor number open now. */
static int max_fd(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int m = -1;

	REQUIRE(d);
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.' && atoi(e->d_name) > m)
			m = atoi(e->d_name);
	closedir(d);
	return m;
}

/* Log lines go to `logged` while `on`. */
static void capture_log(bool on)
{
	if (on) {
		logged[0] = 0;
		ccdma_log_set_handler(keep_log, NULL);
	} else if (!getenv("CCDMA_TEST_VERBOSE")) {
		ccdma_log_set_handler(quiet_log, NULL);
	} else {
		ccdma_log_set_handler(NULL, NULL);
	}
}

/*
 * The back-end attaches a descriptor to a reply while this process has no
 * free descriptor slot: the kernel drops it (MSG_CTRUNC).  The front-end
 * must break the device saying so, and close nothing it did not receive
 * (it used to close fds[0] of an uninitialised array: stdin in practice).
 */
static void fd_table_full_scenario(const char *dir)
{
	const struct ccdma_virtio_transport *t;
	struct rlimit old, lim;
	struct ccdma_vhost *h;
	struct fake f;
	uint8_t buf[8];
	int fill[512], nfill = 0, fds0, rc, i, stdin_was = -1;

	if (fcntl(0, F_GETFD) < 0) {
		stdin_was = open("/dev/null", O_RDONLY); /* becomes fd 0 */
		REQUIRE(stdin_was == 0);
	}
	fds0 = fd_count();
	fake_start(&f, dir, S_CONFIG_FD);
	REQUIRE(f.spare_fd >= 0);
	h = fake_connect(&f, &rc, 2000);
	REQUIRE(rc == 0 && h);
	t = ccdma_vhost_transport(h);

	/* Fill every slot below a lowered limit. */
	REQUIRE(getrlimit(RLIMIT_NOFILE, &old) == 0);
	lim = old;
	lim.rlim_cur = (rlim_t)max_fd() + 1 + 32;
	REQUIRE(lim.rlim_cur <= old.rlim_cur);
	REQUIRE(setrlimit(RLIMIT_NOFILE, &lim) == 0);
	while (nfill < 512) {
		int d = dup(0);

		if (d < 0)
			break;
		fill[nfill++] = d;
	}
	REQUIRE(nfill < 512 && errno == EMFILE);

	capture_log(true);
	rc = t->ops->get_config(t->ctx, 0, buf, 8);
	capture_log(false);
	/* Every descriptor is still open: none was closed by mistake. */
	CHECK(fcntl(0, F_GETFD) >= 0);
	for (i = 0; i < nfill; i++)
		CHECK(fcntl(fill[i], F_GETFD) >= 0);
	for (i = 0; i < nfill; i++)
		close(fill[i]);
	REQUIRE(setrlimit(RLIMIT_NOFILE, &old) == 0);

	CHECK_EQ(rc, -ENODEV);
	CHECK(ccdma_vhost_broken(h));
	if (!strstr(logged, "could not receive"))
		fprintf(stderr, "fd table full: log was:\n%s", logged);
	CHECK(strstr(logged, "header of the reply to GET_CONFIG carried file "
		     "descriptor(s) this process could not receive") != NULL);
	CHECK(strstr(logged, "device broken") != NULL);
	ccdma_vhost_close(h);
	fake_stop(&f);
	CHECK_EQ(fd_count(), fds0);
	if (stdin_was == 0)
		close(0);
}

static struct ccdma_vblk *blk_create(struct fake *f, struct ccdma_vhost **h,
				     uint32_t sync_timeout_ms, int *rc)
{
	struct ccdma_vblk_config bc;
	struct ccdma_vblk *b = NULL;

	*h = fake_connect(f, rc, 2000);
	REQUIRE(*rc == 0 && *h);
	ccdma_vblk_config_init(&bc);
	bc.sync_timeout_ms = sync_timeout_ms;
	*rc = ccdma_vblk_create(ccdma_vhost_transport(*h), &bc, &b);
	return b;
}

static uint64_t in_use(struct ccdma_vhost *h)
{
	struct ccdma_pool_stats st;

	REQUIRE(ccdma_pool_get_stats(ccdma_dev_pool(ccdma_vhost_dev(h)), &st) == 0);
	return st.in_use_bytes;
}

/* An empty GET_CONFIG reply (the back-end refuses) is an unusable config
 * for ccdma_vblk_create: -ENOTSUP, as documented (it returned -EIO). */
static void create_config_refused(const char *dir)
{
	struct ccdma_vhost *h;
	struct ccdma_vblk *b;
	struct fake f;
	int fds0 = fd_count(), rc;

	fake_start(&f, dir, S_CONFIG_REFUSE);
	b = blk_create(&f, &h, 0, &rc);
	CHECK_EQ(rc, -ENOTSUP);
	CHECK(b == NULL);
	ccdma_vblk_destroy(b);
	ccdma_vhost_close(h);
	fake_stop(&f);
	CHECK_EQ(fd_count(), fds0);
}

static void on_alarm(int sig)
{
	static const char m[] = "vhost_errors: a synchronous helper never "
				"returned\n";

	(void)sig;
	if (write(2, m, sizeof(m) - 1) < 0)
		_exit(1);
	_exit(1);
}

/*
 * A device that stays connected (it answers every message and signals
 * every kick) but never completes a request: a synchronous read gives up
 * after sync_timeout_ms with -ETIMEDOUT, the device is broken, the bounce
 * memory is back in the pool, later calls fail at once.  (It used to wait
 * for ever.)
 */
static void sync_stall_scenario(const char *dir)
{
	struct ccdma_vblk_stats st;
	struct ccdma_vhost *h;
	struct ccdma_vblk *b;
	struct fake f;
	uint8_t buf[4096];
	uint64_t before, t0;
	int fds0 = fd_count(), rc;

	fake_start(&f, dir, S_BLK);
	b = blk_create(&f, &h, 200, &rc);
	REQUIRE(rc == 0 && b);
	before = in_use(h);
	signal(SIGALRM, on_alarm);
	alarm(120);
	capture_log(true);
	t0 = test_now_ns();
	rc = ccdma_vblk_read(b, 0, buf, sizeof(buf));
	capture_log(false);
	alarm(0);
	CHECK_EQ(rc, -ETIMEDOUT);
	CHECK(test_now_ns() - t0 >= 200000000ull);
	CHECK(strstr(logged, "the device completed nothing in 200 ms") != NULL);
	CHECK(strstr(logged, "device stalled: device marked broken") != NULL);
	CHECK(ccdma_vblk_broken(b));
	CHECK(ccdma_vhost_broken(h));
	CHECK_EQ(ccdma_vblk_inflight(b, 0), 0);
	/* Nothing in use but the rings and the persistent slot the read
	 * took (kept until destroy). */
	ccdma_vblk_get_stats(b, &st);
	CHECK_EQ(st.slots, 1);
	CHECK_EQ(in_use(h), before + st.slot_bytes);
	CHECK_EQ(ccdma_vblk_read(b, 0, buf, sizeof(buf)), -ENODEV);
	CHECK_EQ(ccdma_vblk_flush(b), -ENODEV);
	ccdma_vblk_destroy(b);
	ccdma_vhost_close(h);
	fake_stop(&f);
	CHECK_EQ(fd_count(), fds0);
}

static void count_done(struct ccdma_vblk_req *r)
{
	(*(unsigned *)r->user)++;
}

/*
 * ccdma_vblk_destroy with a request in flight stops the ring first
 * (GET_VRING_BASE on queue 0) and leaves the device unbroken; the request
 * completes with -ENODEV.  (Without queue_stop the device was broken and
 * the ring scrubbed while the back-end could still read it.)
 */
static void destroy_stops_ring(const char *dir)
{
	struct ccdma_vblk_req r;
	struct ccdma_vhost *h;
	struct ccdma_vblk *b;
	struct fake f;
	uint8_t buf[4096];
	unsigned done = 0, k, n = 0, at = 0;
	int fds0 = fd_count(), rc;

	fake_start(&f, dir, S_BLK);
	b = blk_create(&f, &h, 0, &rc);
	REQUIRE(rc == 0 && b);
	memset(&r, 0, sizeof(r));
	r.op = CCDMA_VBLK_READ;
	r.buf = buf;
	r.len = sizeof(buf);
	r.done = count_done;
	r.user = &done;
	CHECK_EQ(ccdma_vblk_submit(b, 0, &r), 0);
	CHECK_EQ(ccdma_vblk_inflight(b, 0), 1);
	ccdma_vblk_destroy(b);
	CHECK_EQ(done, 1);
	CHECK_EQ(r.status, -ENODEV);
	CHECK(!ccdma_vhost_broken(h));
	ccdma_vhost_close(h);
	fake_stop(&f);
	CHECK_EQ(fd_count(), fds0);
	/* Stopped once (close does not stop it again), after the kick. */
	for (k = 0; k < f.n; k++)
		if (f.req[k] == CCDMA_VU_GET_VRING_BASE) {
			n++;
			at = k;
		}
	CHECK_EQ(n, 1);
	CHECK_EQ(f.kicks, 1);
	CHECK(at > find(&f, CCDMA_VU_SET_VRING_KICK, 0));
}

int main(void)
{
	struct ccdma_vhost_config cfg;
	struct ccdma_vhost *h = NULL;
	struct sockaddr_un sa;
	char dir[64], path[128], longpath[200];
	int fds0, s;

	test_init();
	/* Every scenario logs why it failed; keep the output readable. */
	if (!getenv("CCDMA_TEST_VERBOSE"))
		ccdma_log_set_handler(quiet_log, NULL);
	snprintf(dir, sizeof(dir), "/tmp/ccdma-vhost-errors-XXXXXX");
	REQUIRE(mkdtemp(dir));
	fds0 = fd_count();

	/* Bad configs. */
	ccdma_vhost_config_init(&cfg);
	CHECK_EQ(ccdma_vhost_connect(&cfg, &h), -EINVAL);
	CHECK_EQ(ccdma_vhost_connect(NULL, &h), -EINVAL);
	cfg.socket_path = "/nonexistent";
	CHECK_EQ(ccdma_vhost_connect(&cfg, NULL), -EINVAL);
	cfg.flags = 1u << 7;
	CHECK_EQ(ccdma_vhost_connect(&cfg, &h), -EINVAL);
	cfg.flags = 0;
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = 0;
	cfg.socket_path = longpath;
	CHECK_EQ(ccdma_vhost_connect(&cfg, &h), -EINVAL);
	CHECK(h == NULL);

	/* No socket file. */
	snprintf(path, sizeof(path), "%s/missing.sock", dir);
	cfg.socket_path = path;
	CHECK_EQ(ccdma_vhost_connect(&cfg, &h), -ENOENT);
	/* A socket file nobody listens on. */
	snprintf(path, sizeof(path), "%s/dead.sock", dir);
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	REQUIRE(s >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	REQUIRE(bind(s, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	close(s);
	CHECK_EQ(ccdma_vhost_connect(&cfg, &h), -ECONNREFUSED);
	unlink(path);
	/* A regular file is no socket at all. */
	snprintf(path, sizeof(path), "%s/plain", dir);
	s = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	REQUIRE(s >= 0);
	close(s);
	CHECK_EQ(ccdma_vhost_connect(&cfg, &h), -ENOTSOCK);
	/* No permission (root is never refused). */
	if (geteuid() != 0) {
		chmod(path, 0);
		s = socket(AF_UNIX, SOCK_STREAM, 0);
		snprintf(path, sizeof(path), "%s/locked.sock", dir);
		memcpy(sa.sun_path, path, strlen(path) + 1);
		REQUIRE(bind(s, (struct sockaddr *)&sa, sizeof(sa)) == 0);
		REQUIRE(listen(s, 1) == 0);
		chmod(path, 0);
		CHECK_EQ(ccdma_vhost_connect(&cfg, &h), -EACCES);
		close(s);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/plain", dir);
	unlink(path);
	CHECK(h == NULL);
	CHECK_EQ(fd_count(), fds0);

	/* Hostile replies during connect. */
	expect_connect_error(dir, S_WRONG_CODE, -EPROTO);
	expect_connect_why(dir, S_TOO_LONG, -EPROTO,
			   "reply to GET_FEATURES has 16 payload bytes (want 8..8)");
	expect_connect_why(dir, S_TOO_SHORT, -EPROTO,
			   "reply to GET_FEATURES has 4 payload bytes (want 8..8)");
	expect_connect_why(dir, S_PF_SHORT, -EPROTO,
			   "reply to GET_PROTOCOL_FEATURES has 4 payload bytes "
			   "(want 8..8)");
	expect_connect_error(dir, S_HUGE, -EPROTO);
	expect_connect_error(dir, S_FD, -EPROTO);
	expect_connect_error(dir, S_NO_V1, -EPROTO);
	expect_connect_error(dir, S_NO_REPLY_FLAG, -EPROTO);
	expect_connect_error(dir, S_BAD_VERSION, -EPROTO);
	/* Hang-ups are told apart from protocol violations. */
	expect_connect_error(dir, S_CLOSE_MID, -ECONNRESET);
	/* The front-end writes to a closed socket: no SIGPIPE. */
	expect_connect_error(dir, S_CLOSE_AT_OWNER, -ECONNRESET);
	expect_connect_error(dir, S_SILENT, -ETIMEDOUT);
	expect_connect_error(dir, S_QNUM_0, -EPROTO);
	expect_connect_error(dir, S_QNUM_BIG, -EPROTO);
	expect_connect_error(dir, S_SLOTS_0, -EPROTO);
	expect_connect_error(dir, S_ACK_FAIL, -EPROTO);

	/* A well-behaved back-end sees well-formed messages. */
	good_backend(dir);

	/* Hostile answers once connected. */
	config_scenario(dir, S_CONFIG_SHORT, -ENODEV, true);
	config_scenario(dir, S_CONFIG_OFFSET, -ENODEV, true);
	config_scenario(dir, S_CONFIG_REFUSE, -EIO, false);
	hangup_scenario(dir);
	no_pf_scenario(dir);
	fd_table_full_scenario(dir);

	/* The virtio-blk driver over a back-end that answers but fails. */
	create_config_refused(dir);
	sync_stall_scenario(dir);
	destroy_stops_ring(dir);

	CHECK_EQ(fd_count(), fds0);
	rmdir(dir);
	return test_done("vhost_errors");
}
