/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the vhost-user front-end's reply parser (src/vhost/
 * frontend.c vh_recv and every caller: negotiate, GET_CONFIG, REPLY_ACK,
 * SET_MEM_TABLE / ADD_MEM_REG acks, queue setup, GET_VRING_BASE) and what
 * the driver above it does with the answers.
 *
 * The real front-end connects over a real Unix socket to a back-end
 * thread here whose answers the input writes.  First the device's
 * profile (features, protocol features, queue count, memory slots, config
 * space), then one byte per message the back-end receives: most values
 * answer as an honest back-end would; the others send the reply with the
 * wrong request code, wrong flags, a wrong size (then hang up, or the
 * front-end would wait for bytes that never come), other payload bytes,
 * descriptors attached, an empty reply, a failing REPLY_ACK status, a
 * reply to a message that wants none, or hang up before, in the middle
 * of the reply, or after it.  An input that runs out answers honestly
 * from there on.
 * Over that connection: ccdma_vhost_connect, ccdma_vblk_create, a READ the
 * device never completes, a bounded wait for it (-ENODEV when the back-end
 * hung up), destroy (GET_VRING_BASE) and close.
 *
 * Invariants (a violation traps):
 *   - connect and create return only their documented errors;
 *   - what the front-end sends is well formed: version 1, never the
 *     reply bit, a size that fits, SET_FEATURES a subset of what was
 *     offered without ACCESS_PLATFORM, SET_PROTOCOL_FEATURES a subset of
 *     the offered protocol features;
 *   - the READ the device never completed never succeeds;
 *   - once the connection is broken, the transport's calls return
 *     -ENODEV at once;
 *   - no descriptor leaks and none the front-end did not receive is
 *     closed (the open-descriptor count is the same after every input);
 *   - the ownership checker reports nothing (a leaked mapping at close).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <ccdma/dma.h>
#include <ccdma/pool.h>
#include <ccdma/vhost.h>
#include <ccdma/virtio_blk.h>

#include "fuzz_util.h"
#include "vhost/vhost_proto.h"
#include "virtio/virtio_ring.h"

static int lsock = -1;
static char spath[108];

struct be {
	struct fz_in in;
	int conn;
	uint64_t features, pf;
	uint64_t nq, slots;
	uint8_t cfg[CCDMA_VU_CONFIG_MAX];
	uint64_t pf_set;
	bool features_set;
	/* Every feature / protocol-feature bit a reply carried. */
	uint64_t features_sent, pf_sent;
};

static void at_exit_cleanup(void)
{
	if (spath[0]) {
		unlink(spath);
		*strrchr(spath, '/') = 0;
		rmdir(spath);
	}
}

static void global_init(void)
{
	struct sockaddr_un a;
	char dir[] = "/tmp/ccdma-fuzz-XXXXXX";

	if (lsock >= 0)
		return;
	if (!getenv("CCDMA_FUZZ_LOG"))
		ccdma_log_set_handler(fz_quiet, NULL);
	ccdma_debug_set(CCDMA_DEBUG_ON);
	ccdma_share_cost_set_ns(0);
	FZ_CHECK(mkdtemp(dir), "mkdtemp");
	snprintf(spath, sizeof(spath), "%s/s", dir);
	atexit(at_exit_cleanup);
	memset(&a, 0, sizeof(a));
	a.sun_family = AF_UNIX;
	memcpy(a.sun_path, spath, strlen(spath) + 1);
	lsock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	FZ_CHECK(lsock >= 0 && bind(lsock, (struct sockaddr *)&a, sizeof(a)) == 0 &&
		 listen(lsock, 4) == 0, "listen on %s", spath);
}

static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	FZ_CHECK(d, "/proc/self/fd");
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;
}

/* ---- the back-end thread -------------------------------------------------- */

static int send_msg(int s, const void *buf, size_t len, unsigned nfds)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int) * 4)];
	} ctl;
	struct iovec iov = { (void *)buf, len };
	struct msghdr mh;
	int fds[4], i, rc;

	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (nfds) {
		struct cmsghdr *c;

		for (i = 0; i < (int)nfds; i++)
			fds[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.b;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	rc = sendmsg(s, &mh, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -1;
	for (i = 0; i < (int)nfds; i++)
		close(fds[i]);
	return rc;
}

static int recv_all(int s, void *buf, size_t len, int *fds, unsigned *nfds)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int) * 16)];
	} ctl;
	size_t got = 0;

	while (got < len) {
		struct iovec iov = { (uint8_t *)buf + got, len - got };
		struct msghdr mh;
		struct cmsghdr *c;
		ssize_t n;

		memset(&mh, 0, sizeof(mh));
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = ctl.b;
		mh.msg_controllen = sizeof(ctl.b);
		n = recvmsg(s, &mh, MSG_CMSG_CLOEXEC);
		if (n <= 0)
			return -1;
		for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
			unsigned k, m = (unsigned)((c->cmsg_len - CMSG_LEN(0)) /
						   sizeof(int));

			for (k = 0; k < m; k++) {
				int fd;

				memcpy(&fd, CMSG_DATA(c) + k * sizeof(int), sizeof(int));
				if (fds && *nfds < 16)
					fds[(*nfds)++] = fd;
				else
					close(fd);
			}
		}
		got += (size_t)n;
	}
	return 0;
}

static bool wants_reply(const struct ccdma_vu_hdr *h)
{
	switch (h->request) {
	case CCDMA_VU_GET_FEATURES:
	case CCDMA_VU_GET_PROTOCOL_FEATURES:
	case CCDMA_VU_GET_QUEUE_NUM:
	case CCDMA_VU_GET_CONFIG:
	case CCDMA_VU_GET_VRING_BASE:
	case CCDMA_VU_GET_MAX_MEM_SLOTS:
		return true;
	default:
		return h->flags & CCDMA_VU_FLAG_NEED_REPLY;
	}
}

/* Check one message the front-end sent. */
static void check_msg(struct be *be, const struct ccdma_vu_hdr *h,
		      const uint8_t *p, unsigned nfds)
{
	uint64_t v = 0;

	FZ_CHECK((h->flags & CCDMA_VU_VERSION_MASK) == CCDMA_VU_VERSION &&
		 !(h->flags & CCDMA_VU_FLAG_REPLY) &&
		 !(h->flags & ~(CCDMA_VU_VERSION_MASK | CCDMA_VU_FLAG_NEED_REPLY)),
		 "front-end message %u has flags %#x", h->request, h->flags);
	if (h->size >= 8)
		memcpy(&v, p, 8);
	switch (h->request) {
	case CCDMA_VU_SET_FEATURES:
		FZ_CHECK(h->size == 8 && !(v & ~be->features_sent) &&
			 !(v & (1ull << CCDMA_VIRTIO_F_ACCESS_PLATFORM)),
			 "SET_FEATURES %#llx of %#llx", (unsigned long long)v,
			 (unsigned long long)be->features_sent);
		be->features_set = true;
		break;
	case CCDMA_VU_SET_PROTOCOL_FEATURES:
		FZ_CHECK(h->size == 8 && !(v & ~be->pf_sent), "SET_PROTOCOL_FEATURES "
			 "%#llx of %#llx", (unsigned long long)v,
			 (unsigned long long)be->pf_sent);
		be->pf_set = v;
		break;
	case CCDMA_VU_SET_MEM_TABLE: {
		uint32_t n;

		memcpy(&n, p, 4);
		FZ_CHECK(h->size >= 8 && n <= CCDMA_VU_MAX_TABLE_REGIONS &&
			 h->size == 8 + 32 * n && nfds == n,
			 "SET_MEM_TABLE of %u regions, %u bytes, %u fds", n,
			 h->size, nfds);
		break;
	}
	case CCDMA_VU_ADD_MEM_REG:
	case CCDMA_VU_REM_MEM_REG:
		FZ_CHECK(h->size == 40 && nfds == 1, "MEM_REG: %u bytes, %u fds",
			 h->size, nfds);
		break;
	case CCDMA_VU_SET_VRING_KICK:
	case CCDMA_VU_SET_VRING_CALL:
		FZ_CHECK(h->size == 8 && nfds == 1, "vring fd message");
		break;
	case CCDMA_VU_SET_VRING_NUM:
	case CCDMA_VU_SET_VRING_BASE:
	case CCDMA_VU_GET_VRING_BASE:
	case CCDMA_VU_SET_VRING_ENABLE:
		FZ_CHECK(h->size == 8 && nfds == 0, "vring state message");
		break;
	default:
		break;
	}
}

/* The honest payload of the reply to h; returns its size. */
static uint32_t honest(struct be *be, const struct ccdma_vu_hdr *h,
		       const uint8_t *p, uint8_t *out)
{
	uint64_t v = 0;

	switch (h->request) {
	case CCDMA_VU_GET_FEATURES: v = be->features; break;
	case CCDMA_VU_GET_PROTOCOL_FEATURES: v = be->pf; break;
	case CCDMA_VU_GET_QUEUE_NUM: v = be->nq; break;
	case CCDMA_VU_GET_MAX_MEM_SLOTS: v = be->slots; break;
	case CCDMA_VU_GET_VRING_BASE:
		memcpy(out, p, 4);
		memset(out + 4, 0, 4);
		return 8;
	case CCDMA_VU_GET_CONFIG: {
		struct ccdma_vu_config c;
		uint32_t size;

		memcpy(&c, p, CCDMA_VU_CONFIG_HDR);
		size = c.size <= CCDMA_VU_CONFIG_MAX ? c.size : CCDMA_VU_CONFIG_MAX;
		c.size = size;
		memcpy(out, &c, CCDMA_VU_CONFIG_HDR);
		memcpy(out + CCDMA_VU_CONFIG_HDR, be->cfg, size);
		return CCDMA_VU_CONFIG_HDR + size;
	}
	default: v = 0; break; /* REPLY_ACK: success */
	}
	memcpy(out, &v, 8);
	return 8;
}

static void *backend(void *arg)
{
	struct be *be = arg;
	uint8_t p[CCDMA_VU_MAX_PAYLOAD + 64], out[12 + 400];
	struct ccdma_vu_hdr h, rh;
	int fds[16];

	be->conn = accept4(lsock, NULL, NULL, SOCK_CLOEXEC);
	FZ_CHECK(be->conn >= 0, "accept");
	for (;;) {
		unsigned nfds = 0, i, a, extra_fds = 0;
		uint32_t size;
		uint64_t v;
		bool hangup_after = false;

		if (recv_all(be->conn, &h, 12, fds, &nfds))
			break;
		FZ_CHECK(h.size <= CCDMA_VU_MAX_PAYLOAD, "message of %u bytes",
			 h.size);
		if (h.size && recv_all(be->conn, p, h.size, fds, &nfds))
			break;
		for (i = 0; i < nfds; i++)
			close(fds[i]);
		check_msg(be, &h, p, nfds);
		a = fz_u8(&be->in);
		if (!wants_reply(&h)) {
			if (a < 0xf8)
				continue;
			/* A reply nobody asked for. */
			a = 0;
		}
		rh.request = h.request;
		rh.flags = CCDMA_VU_VERSION | CCDMA_VU_FLAG_REPLY;
		size = honest(be, &h, p, out + 12);
		rh.size = size;
		switch (a % 24) {
		case 8: rh.request ^= 1u + fz_u8(&be->in); break;
		case 9: rh.flags = fz_u32(&be->in); break;
		case 10:
			rh.size = fz_u16(&be->in) % 300;
			if (rh.size > size)
				memset(out + 12 + size, 0xab, rh.size - size);
			size = rh.size;
			break;
		case 11:
			rh.size = fz_u32(&be->in);
			hangup_after = true;
			break;
		case 12: case 13:
			fz_bytes(&be->in, out + 12, size > 8 ? 16 : 8);
			break;
		case 14:
			extra_fds = 1 + fz_u8(&be->in) % 3;
			break;
		case 15:
			goto hangup;
		case 16:
			/* Header, part of the payload, gone. */
			memcpy(out, &rh, 12);
			send_msg(be->conn, out, 12 + size / 2, 0);
			goto hangup;
		case 17:
			rh.size = size = 0;
			break;
		case 18:
			/* A REPLY_ACK status other than 0, a u64 reply of 0. */
			memset(out + 12, 0, 8);
			out[12] = (uint8_t)(1 + fz_u8(&be->in));
			break;
		case 20:
			/* The right reply, then gone: the front-end sees the
			 * hang-up at its next message, or in wait(). */
			hangup_after = true;
			break;
		case 19:
			/* A config space that changes between reads. */
			fz_bytes(&be->in, be->cfg, 16);
			size = honest(be, &h, p, out + 12);
			break;
		default:
			break;
		}
		memcpy(out, &rh, 12);
		if (size >= 8 && h.request == CCDMA_VU_GET_FEATURES) {
			memcpy(&v, out + 12, 8);
			be->features_sent |= v;
		}
		if (size >= 8 && h.request == CCDMA_VU_GET_PROTOCOL_FEATURES) {
			memcpy(&v, out + 12, 8);
			be->pf_sent |= v;
		}
		if (send_msg(be->conn, out, 12 + size, extra_fds) || hangup_after)
			goto hangup;
	}
hangup:
	close(be->conn);
	be->conn = -1;
	return NULL;
}

/* ---- the front-end side ----------------------------------------------------- */

static void check_dead(struct ccdma_vhost *h)
{
	const struct ccdma_virtio_transport *t = ccdma_vhost_transport(h);
	uint8_t buf[8];
	struct ccdma_vq_layout l;

	if (!ccdma_vhost_broken(h))
		return;
	memset(&l, 0, sizeof(l));
	FZ_CHECK(t->ops->broken(t->ctx), "broken()");
	FZ_CHECK(t->ops->set_features(t->ctx, 0) == -ENODEV, "set_features");
	FZ_CHECK(t->ops->get_config(t->ctx, 0, buf, 8) == -ENODEV, "get_config");
	FZ_CHECK(t->ops->queue_start(t->ctx, 0, &l) == -ENODEV, "queue_start");
	FZ_CHECK(t->ops->notify(t->ctx, 0) == -ENODEV, "notify");
	FZ_CHECK(t->ops->wait(t->ctx, 0, UINT64_MAX) == -ENODEV, "wait");
	FZ_CHECK(t->ops->queue_stop(t->ctx, 0) == -ENODEV, "queue_stop");
}

static void req_done(struct ccdma_vblk_req *r)
{
	int *calls = r->user;

	(*calls)++;
}

static void drive(struct ccdma_vhost *h, uint8_t drv)
{
	struct ccdma_vblk_config cfg;
	struct ccdma_vblk_req r;
	struct ccdma_vblk *b = NULL;
	static uint8_t buf[4096];
	int rc, calls = 0;
	bool posted;

	ccdma_vblk_config_init(&cfg);
	cfg.queue_size = 8;
	cfg.num_queues = 1 + drv % 2;
	rc = ccdma_vblk_create(ccdma_vhost_transport(h), &cfg, &b);
	FZ_CHECK(rc == 0 || rc == -EINVAL || rc == -ENOTSUP || rc == -ENOMEM ||
		 rc == -ENODEV, "create: undocumented error %d", rc);
	FZ_TRACE("create: %d\n", rc);
	if (rc) {
		check_dead(h);
		return;
	}
	memset(&r, 0, sizeof(r));
	memset(buf, 0x5a, sizeof(buf));
	r.op = CCDMA_VBLK_READ;
	r.buf = buf;
	r.len = 512;
	r.done = req_done;
	r.user = &calls;
	rc = ccdma_vblk_submit(b, 0, &r);
	/* -EINVAL: the device's capacity is below one sector. */
	FZ_CHECK(rc == 0 || rc == -ENODEV || rc == -EINVAL, "submit: %d", rc);
	posted = !rc;
	if (posted) {
		rc = ccdma_vblk_poll(b, 0);
		FZ_CHECK(rc == 0 || rc == -ENODEV || rc == 1, "poll: %d", rc);
		/* A back-end that hung up (or never will answer): the wait
		 * ends with -ENODEV, or times out (the device completes
		 * nothing here). */
		rc = ccdma_vblk_wait(b, 0, 2000000);
		FZ_TRACE("wait: %d\n", rc);
		FZ_CHECK(rc == -ETIMEDOUT || rc == -ENODEV, "wait: %d", rc);
		if (rc == -ENODEV)
			FZ_CHECK(calls == 1 && r.status == -ENODEV,
				 "wait -ENODEV: READ %d, %d callback(s)",
				 r.status, calls);
	}
	ccdma_vblk_destroy(b);
	FZ_TRACE("READ: status %d, %d callback(s)\n", r.status, calls);
	if (posted) {
		FZ_CHECK(calls == 1, "READ completed %d times", calls);
		FZ_CHECK(r.status == -ENODEV, "a READ the device never did: %d",
			 r.status);
	}
	check_dead(h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ccdma_vhost_config vc;
	struct ccdma_pool_config pc;
	struct ccdma_vhost *h = NULL;
	struct be be;
	struct fz_in in = { data, size };
	pthread_t thr;
	int rc, fds_before;
	uint8_t c, drv;

	global_init();
	fds_before = open_fds();
	memset(&be, 0, sizeof(be));
	/* The device's profile. */
	c = fz_u8(&in);
	be.features = 1ull << CCDMA_VIRTIO_F_VERSION_1 |
		      1ull << CCDMA_VU_F_PROTOCOL_FEATURES |
		      1ull << CCDMA_VIRTIO_BLK_F_SEG_MAX |
		      1ull << CCDMA_VIRTIO_BLK_F_BLK_SIZE |
		      1ull << CCDMA_VIRTIO_BLK_F_FLUSH |
		      1ull << CCDMA_VIRTIO_BLK_F_MQ |
		      1ull << CCDMA_VIRTIO_F_EVENT_IDX;
	be.pf = 1ull << CCDMA_VU_PF_MQ | 1ull << CCDMA_VU_PF_REPLY_ACK |
		1ull << CCDMA_VU_PF_CONFIG | 1ull << CCDMA_VU_PF_CONFIGURE_MEM_SLOTS;
	be.nq = 2;
	be.slots = 8;
	if (c & 1)
		be.features ^= fz_u64(&in);
	if (c & 2)
		be.pf ^= fz_u64(&in);
	if (c & 4)
		be.nq = fz_u8(&in) & 1 ? fz_u64(&in) : fz_u8(&in);
	if (c & 8)
		be.slots = fz_u8(&in) & 1 ? fz_u64(&in) : fz_u8(&in);
	{
		uint64_t cap = 2048;
		uint32_t seg = 8, blk = 512;
		uint16_t nq = 2;

		memcpy(be.cfg + CCDMA_VBLK_CFG_CAPACITY, &cap, 8);
		memcpy(be.cfg + CCDMA_VBLK_CFG_SEG_MAX, &seg, 4);
		memcpy(be.cfg + CCDMA_VBLK_CFG_BLK_SIZE, &blk, 4);
		memcpy(be.cfg + CCDMA_VBLK_CFG_NUM_QUEUES, &nq, 2);
	}
	if (c & 16)
		fz_bytes(&in, be.cfg, 64);
	ccdma_vhost_config_init(&vc);
	vc.socket_path = spath;
	vc.reply_timeout_ms = 20000;
	vc.flags = (c >> 5) & 3;
	ccdma_pool_config_init(&pc);
	pc.name = "fuzz";
	pc.region_size = 64u << 10;
	pc.initial_bytes = pc.max_bytes = 256u << 10;
	pc.low_watermark = 0;
	pc.high_watermark = 256u << 10;
	vc.pool_cfg = &pc;

	drv = fz_u8(&in);
	be.in = in;
	be.conn = -1;
	FZ_CHECK(pthread_create(&thr, NULL, backend, &be) == 0, "thread");
	rc = ccdma_vhost_connect(&vc, &h);
	FZ_CHECK(rc == 0 || rc == -EPROTO || rc == -ECONNRESET ||
		 rc == -ETIMEDOUT || rc == -ENOMEM, "connect: undocumented "
		 "error %d", rc);
	FZ_TRACE("connect: %d\n", rc);
	if (!rc) {
		struct ccdma_vhost_info info;

		ccdma_vhost_get_info(h, &info);
		FZ_CHECK(info.features & (1ull << CCDMA_VIRTIO_F_VERSION_1),
			 "connected without VERSION_1");
		FZ_CHECK(info.max_queues >= 1 && info.max_queues <= 256,
			 "%u queues", info.max_queues);
		FZ_CHECK(info.mem_slots <= 4096, "%u slots", info.mem_slots);
		FZ_CHECK(!(info.protocol_features & ~be.pf_sent),
			 "protocol features not offered");
		drive(h, drv);
		ccdma_vhost_close(h);
	}
	pthread_join(thr, NULL);
	FZ_CHECK(ccdma_debug_count(CCDMA_DBG_NKINDS) == 0,
		 "ownership checker: %llu report(s)",
		 (unsigned long long)ccdma_debug_count(CCDMA_DBG_NKINDS));
	rc = open_fds();
	FZ_CHECK(rc == fds_before, "%d descriptors open before, %d after",
		 fds_before, rc);
	return 0;
}
