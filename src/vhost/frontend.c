/* SPDX-License-Identifier: MIT */
/*
 * vhost-user front-end (ccdma/vhost.h): one Unix socket to a back-end
 * process, the dma device whose shared pool is the back-end's whole memory
 * table, and a virtio transport over both.
 *
 * Locking.  `lock` serialises every request/reply exchange on the socket
 * and guards the memory table, the queue setup and the counters.  The
 * pool's region listener runs on the pool's grower thread with the pool's
 * listener lock held and then takes `lock`, so nothing here may call into
 * the pool while holding `lock` (the order is pool listener lock -> lock).
 * notify() and wait() take no lock: they touch only the eventfds and poll
 * the socket for a hang-up, never read from it.
 *
 * Failure.  The back-end is untrusted: every reply is read into private
 * memory and checked (request code, flags, exact size, no descriptors,
 * sane values) before use.  Anything wrong, a timeout or a hang-up marks
 * the connection broken once (one log line), shuts the socket down (which
 * also wakes every waiter) and makes later calls fail with -ENODEV.
 */
#include <stdarg.h>

#include <ccdma/vhost.h>

#include "platform/ipc.h"
#include "platform/os.h"
#include "platform/trace.h"
#include "vhost/net_ctrl.h"
#include "vhost/vhost_proto.h"
#include "virtio/virtqueue.h"
#include "dma/dma_internal.h"
#include <ccdma/virtio_net.h>

/* The vring index of KICK/CALL messages has 8 bits. */
#define VH_MAX_QUEUES 256u
/* GET_MAX_MEM_SLOTS answers above this are nonsense. */
#define VH_SLOTS_SANE 4096u
/* Memory table entries tracked (slots beyond it go unused). */
#define VH_MAX_REGIONS 64u
/* Slots left free when the pool is capped. */
#define VH_SPARE_SLOTS 2u
/* Regions of the caller's own (ccdma_vhost_attach_region) at most. */
#define VH_MAX_USER 8u
/* Largest ring offered to the driver (libvhost-user's VIRTQUEUE_MAX_SIZE;
 * vhost-user has no message to ask). */
#define VH_QUEUE_SIZE_MAX 1024u
#define VH_DEFAULT_TIMEOUT_MS 5000u
/* How long a back-end without memory slots gets to finish the requests it
 * has in flight before a memory table change (table_quiesce). */
#define VH_DRAIN_MS 30000u

/* Default pool for block I/O: 4 MiB regions, 8 MiB made at once (rings,
 * headers and a queue depth of 32 x 128 KiB fit without growing). */
#define VH_POOL_REGION (4u << 20)
#define VH_POOL_INITIAL (8u << 20)

/* Feature bits the transport keeps to itself or cannot carry. */
#define VH_F_LOG_ALL 26
#define VH_F_SR_IOV 37
#define VH_F_NOTIFICATION_DATA 38
#define VH_F_RING_RESET 40
#define VH_F_ADMIN_VQ 41
#define VH_TRANSPORT_BITS                                                    \
	((1ull << VH_F_LOG_ALL) | (1ull << CCDMA_VU_F_PROTOCOL_FEATURES) |   \
	 (1ull << CCDMA_VIRTIO_F_ACCESS_PLATFORM) |                          \
	 (1ull << CCDMA_VIRTIO_F_RING_PACKED) | (1ull << VH_F_SR_IOV) |      \
	 (1ull << VH_F_NOTIFICATION_DATA) | (1ull << VH_F_RING_RESET) |      \
	 (1ull << VH_F_ADMIN_VQ))

/* Protocol features the front-end can use. */
#define VH_PF_WANTED                                                         \
	((1ull << CCDMA_VU_PF_MQ) | (1ull << CCDMA_VU_PF_REPLY_ACK) |        \
	 (1ull << CCDMA_VU_PF_CONFIG) |                                      \
	 (1ull << CCDMA_VU_PF_CONFIGURE_MEM_SLOTS))

struct vh_queue {
	int kick_fd, call_fd;
	unsigned num;
	const struct ccdma_vring_avail *avail; /* the driver's ring parts */
	const struct ccdma_vring_used *used;
	bool started;    /* atomic: read by notify()/wait() without the lock */
};

struct vh_region {
	struct ccdma_vu_region r;
	int fd;          /* the pool's memfd (owned by the pool) */
};

struct ccdma_vhost {
	struct ccdma_virtio_transport tp;
	ccdma_mutex_t lock;
	int sock;
	unsigned broken;     /* atomic (a word: riscv64 has no 1-byte exchange) */
	bool connected;  /* ccdma_vhost_connect() succeeded */
	int err;         /* first failure's errno (negative), for connect */
	unsigned timeout_ms;
	unsigned flags;
	char path[108];

	uint64_t features;           /* offered */
	uint64_t protocol_features;  /* negotiated */
	uint64_t acked;              /* sent with SET_FEATURES */
	bool features_set;
	unsigned max_queues;
	unsigned queues_per_unit;    /* ccdma_vhost_config's, 1 or 2 */
	unsigned mem_slots;          /* as the back-end said; 0: none */
	unsigned table_max;          /* regions the table may hold */
	uint64_t pool_max, pool_region; /* the pool's config, as capped */
	struct vh_queue *q;
	struct vh_ctrl ctrl;         /* virtio-net control queue (net_ctrl.h) */

	struct vh_region table[VH_MAX_REGIONS];
	unsigned nregions;

	struct ccdma_dev *dev;
	struct ccdma_pool *pool;
	struct ccdma_pool_listener listener; /* this connection's, on pool */
	bool listening;
	/* The caller's regions (ccdma_vhost_attach_region); in_table false
	 * once a revoke took one away from the back-end. */
	struct {
		const struct ccdma_region *r;
		bool in_table;
	} user[VH_MAX_USER];
	unsigned nuser;
	/* Closed around a SET_MEM_TABLE under I/O (table_quiesce). */
	struct ccdma_vq_gate gate;
	bool gate_taken;             /* atomic: a driver holds the gate */
	uint64_t drains;             /* table changes that waited for I/O */

	uint64_t messages_sent;
	uint64_t regions_added, regions_removed, table_sends;
	uint64_t reconnects;
};

static const char *req_name(uint32_t req)
{
	switch (req) {
	case CCDMA_VU_GET_FEATURES: return "GET_FEATURES";
	case CCDMA_VU_SET_FEATURES: return "SET_FEATURES";
	case CCDMA_VU_SET_OWNER: return "SET_OWNER";
	case CCDMA_VU_SET_MEM_TABLE: return "SET_MEM_TABLE";
	case CCDMA_VU_SET_VRING_NUM: return "SET_VRING_NUM";
	case CCDMA_VU_SET_VRING_ADDR: return "SET_VRING_ADDR";
	case CCDMA_VU_SET_VRING_BASE: return "SET_VRING_BASE";
	case CCDMA_VU_GET_VRING_BASE: return "GET_VRING_BASE";
	case CCDMA_VU_SET_VRING_KICK: return "SET_VRING_KICK";
	case CCDMA_VU_SET_VRING_CALL: return "SET_VRING_CALL";
	case CCDMA_VU_GET_PROTOCOL_FEATURES: return "GET_PROTOCOL_FEATURES";
	case CCDMA_VU_SET_PROTOCOL_FEATURES: return "SET_PROTOCOL_FEATURES";
	case CCDMA_VU_GET_QUEUE_NUM: return "GET_QUEUE_NUM";
	case CCDMA_VU_SET_VRING_ENABLE: return "SET_VRING_ENABLE";
	case CCDMA_VU_GET_CONFIG: return "GET_CONFIG";
	case CCDMA_VU_GET_MAX_MEM_SLOTS: return "GET_MAX_MEM_SLOTS";
	case CCDMA_VU_ADD_MEM_REG: return "ADD_MEM_REG";
	case CCDMA_VU_REM_MEM_REG: return "REM_MEM_REG";
	default: return "?";
	}
}

static bool is_broken(struct ccdma_vhost *h)
{
	return __atomic_load_n(&h->broken, __ATOMIC_ACQUIRE);
}

/*
 * Take back the kicks the back-end has not consumed: a back-end that
 * resumes after the driver gave up on it finds its doorbells empty
 * (libvhost-user's eventfd_read fails, ccdma-devsim polls nothing) and
 * does not read rings the driver is about to scrub.  A back-end stopped
 * in the middle of a ring, or one that polls, is not held back by this.
 */
static void withdraw_kicks(struct ccdma_vhost *h)
{
	unsigned i;

	for (i = 0; h->q && i < h->max_queues; i++)
		if (__atomic_load_n(&h->q[i].started, __ATOMIC_ACQUIRE))
			(void)ccdma_os_eventfd_clear(h->q[i].kick_fd);
}

/*
 * Mark the connection broken (once): log why, remember the first errno,
 * withdraw the pending kicks and shut the socket down, which wakes every
 * thread in wait() and tells the back-end.  Safe without the lock; the
 * descriptors stay open until ccdma_vhost_close().
 */
static void vh_break(struct ccdma_vhost *h, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void vh_break(struct ccdma_vhost *h, int err, const char *fmt, ...)
{
	char why[200];
	va_list ap;

	if (__atomic_exchange_n(&h->broken, 1u, __ATOMIC_ACQ_REL))
		return;
	h->err = err;
	va_start(ap, fmt);
	ccdma_os_vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	ccdma_err("vhost %s: %s; %s", h->path, why,
		  h->connected ? "device broken" : "connect failed");
	CCDMA_TRACE3(device_broken, h->path, why, err);
	withdraw_kicks(h);
	ccdma_os_sock_shutdown(h->sock);
}

static const char *ipc_error(int rc)
{
	switch (rc) {
	case -ETIMEDOUT: return "timed out";
	case -ECONNRESET: return "back-end closed the connection";
	case -EPIPE: return "back-end is gone";
	default: return "socket error";
	}
}

/* Send one message.  Lock held. */
static int vh_send(struct ccdma_vhost *h, uint32_t req, uint32_t flags,
		   const void *payload, uint32_t size, const int *fds,
		   unsigned nfds)
{
	unsigned char buf[CCDMA_VU_HDR_SIZE + CCDMA_VU_MAX_PAYLOAD];
	struct ccdma_vu_hdr hdr;
	int rc;

	if (is_broken(h))
		return -ENODEV;
	if (size > CCDMA_VU_MAX_PAYLOAD)
		return -EINVAL;
	hdr.request = req;
	hdr.flags = CCDMA_VU_VERSION | flags;
	hdr.size = size;
	ccdma_memcpy(buf, &hdr, CCDMA_VU_HDR_SIZE);
	if (size)
		ccdma_memcpy(buf + CCDMA_VU_HDR_SIZE, payload, size);
	rc = ccdma_os_sock_send(h->sock, buf, CCDMA_VU_HDR_SIZE + size, fds, nfds);
	if (rc) {
		vh_break(h, rc == -ETIMEDOUT ? -ETIMEDOUT : -ECONNRESET,
			 "sending %s: %s (%d)", req_name(req), ipc_error(rc), rc);
		return -ENODEV;
	}
	h->messages_sent++;
	CCDMA_TRACE4(vhost_send, h->path, req, size, nfds);
	return 0;
}

/* Close descriptors a reply should not have carried: exactly the ones
 * received (ccdma_os_sock_recv() stores every one it counts). */
static void drop_fds(const int *fds, unsigned got)
{
	unsigned i;

	for (i = 0; i < got && i < CCDMA_VU_MAX_FDS; i++)
		ccdma_os_close(fds[i]);
}

/* Receive `len` bytes of the reply to `req` (`what`: header or payload)
 * and check that no descriptor came with them.  0 or -ENODEV. */
static int vh_recv_part(struct ccdma_vhost *h, uint32_t req, const char *what,
			void *buf, uint32_t len, uint64_t deadline)
{
	int fds[CCDMA_VU_MAX_FDS];
	unsigned nfds = 0;
	int rc;

	rc = ccdma_os_sock_recv(h->sock, buf, len, fds, CCDMA_VU_MAX_FDS, &nfds,
				deadline);
	drop_fds(fds, nfds);
	if (rc == -EMFILE) {
		/* Nothing was received, so nothing is closed: the kernel
		 * dropped the descriptors (strace: MSG_CTRUNC). */
		vh_break(h, -EPROTO, "%s of the reply to %s carried file "
			 "descriptor(s) this process could not receive (no free "
			 "descriptor slot: RLIMIT_NOFILE reached?)", what,
			 req_name(req));
		return -ENODEV;
	}
	if (rc) {
		vh_break(h, rc == -ETIMEDOUT ? -ETIMEDOUT : -ECONNRESET,
			 "%s of the reply to %s: %s (%d)", what, req_name(req),
			 ipc_error(rc), rc);
		return -ENODEV;
	}
	if (nfds) {
		vh_break(h, -EPROTO, "reply to %s carried %u file descriptor(s)",
			 req_name(req), nfds);
		return -ENODEV;
	}
	return 0;
}

/*
 * Read the reply to `req`: header and payload, into private memory.
 * Accepts payload sizes in [min, max]; *size gets the one that came.
 * Lock held.  0 or -ENODEV (the connection is broken then).
 */
static int vh_recv(struct ccdma_vhost *h, uint32_t req, void *buf,
		   uint32_t min, uint32_t max, uint32_t *size)
{
	uint64_t deadline = ccdma_os_now_ns() + (uint64_t)h->timeout_ms * 1000000ull;
	struct ccdma_vu_hdr hdr;

	if (is_broken(h))
		return -ENODEV;
	if (vh_recv_part(h, req, "header", &hdr, CCDMA_VU_HDR_SIZE, deadline))
		return -ENODEV;
	if (hdr.request != req) {
		vh_break(h, -EPROTO, "reply to %s has request code %u",
			 req_name(req), hdr.request);
		return -ENODEV;
	}
	if ((hdr.flags & CCDMA_VU_VERSION_MASK) != CCDMA_VU_VERSION ||
	    !(hdr.flags & CCDMA_VU_FLAG_REPLY)) {
		vh_break(h, -EPROTO, "reply to %s has flags %#x (want version 1 "
			 "and the reply bit)", req_name(req), hdr.flags);
		return -ENODEV;
	}
	if (hdr.size > CCDMA_VU_MAX_PAYLOAD || hdr.size < min || hdr.size > max) {
		vh_break(h, -EPROTO, "reply to %s has %u payload bytes (want %u..%u)",
			 req_name(req), hdr.size, min, max);
		return -ENODEV;
	}
	if (hdr.size &&
	    vh_recv_part(h, req, "payload", buf, hdr.size, deadline))
		return -ENODEV;
	*size = hdr.size;
	CCDMA_TRACE3(vhost_reply, h->path, req, hdr.size);
	return 0;
}

/* A request whose reply is one u64 (GET_FEATURES and friends). */
static int vh_get_u64(struct ccdma_vhost *h, uint32_t req, uint64_t *v)
{
	uint32_t size;
	int rc;

	rc = vh_send(h, req, 0, NULL, 0, NULL, 0);
	if (!rc)
		rc = vh_recv(h, req, v, 8, 8, &size);
	return rc;
}

static bool has_pf(struct ccdma_vhost *h, unsigned bit)
{
	return h->protocol_features & (1ull << bit);
}

/*
 * GET_FEATURES as a barrier: the back-end handles messages in order, so
 * once it answers, everything sent before has been done.
 */
static int vh_barrier(struct ccdma_vhost *h)
{
	uint64_t v;
	int rc = vh_get_u64(h, CCDMA_VU_GET_FEATURES, &v);

	if (!rc && v != h->features) {
		vh_break(h, -EPROTO, "features changed from %#llx to %#llx",
			 (unsigned long long)h->features, (unsigned long long)v);
		rc = -ENODEV;
	}
	return rc;
}

/*
 * A request without a reply of its own.  With REPLY_ACK the back-end is
 * asked to acknowledge it (a non-zero status breaks the connection); with
 * `sync` and no REPLY_ACK a GET_FEATURES round trip follows, so that the
 * request has been carried out when this returns.  Lock held.
 */
static int vh_request(struct ccdma_vhost *h, uint32_t req, const void *payload,
		      uint32_t size, const int *fds, unsigned nfds, bool sync)
{
	bool ack = has_pf(h, CCDMA_VU_PF_REPLY_ACK);
	uint64_t status;
	uint32_t got;
	int rc;

	rc = vh_send(h, req, ack ? CCDMA_VU_FLAG_NEED_REPLY : 0, payload, size,
		     fds, nfds);
	if (rc)
		return rc;
	if (!ack)
		return sync ? vh_barrier(h) : 0;
	rc = vh_recv(h, req, &status, 8, 8, &got);
	if (rc)
		return rc;
	if (status) {
		vh_break(h, -EPROTO, "back-end refused %s (status %#llx)",
			 req_name(req), (unsigned long long)status);
		return -ENODEV;
	}
	return 0;
}

/* ---- memory table ----------------------------------------------------- */

static int send_table(struct ccdma_vhost *h)
{
	struct ccdma_vu_mem_table t;
	int fds[CCDMA_VU_MAX_TABLE_REGIONS];
	unsigned i;

	ccdma_memset(&t, 0, sizeof(t));
	t.nregions = h->nregions;
	for (i = 0; i < h->nregions; i++) {
		t.regions[i] = h->table[i].r;
		fds[i] = h->table[i].fd;
	}
	h->table_sends++;
	return vh_request(h, CCDMA_VU_SET_MEM_TABLE, &t,
			  8u + h->nregions * (uint32_t)sizeof(t.regions[0]),
			  fds, h->nregions, true);
}

static int send_mem_reg(struct ccdma_vhost *h, uint32_t req,
			const struct vh_region *r)
{
	struct ccdma_vu_mem_reg m;

	ccdma_memset(&m, 0, sizeof(m));
	m.region = r->r;
	h->table_sends++;
	/* The fd goes with REM_MEM_REG too: libvhost-user before QEMU 9
	 * refuses the message without exactly one. */
	return vh_request(h, req, &m, sizeof(m), &r->fd, 1, true);
}

/*
 * A back-end without memory slots takes every change as a new table, and
 * libvhost-user unmaps every region and maps the new set: a request it has
 * in flight then loses its memory (qemu-storage-daemon 7.2 crashed).  So
 * the change is a revocation of the whole table: the gate stops the
 * driver's publishing, and the change waits until the back-end has
 * completed everything posted (used index = avail index on every started
 * queue).  One that does not within VH_DRAIN_MS is cut off: the connection
 * breaks (a reconnect sends the whole table to a fresh back-end).  Lock
 * held; the gate stays closed until table_resume().  0 or -ENODEV.
 */
static int table_quiesce(struct ccdma_vhost *h)
{
	uint64_t deadline = ccdma_os_now_ns() + (uint64_t)VH_DRAIN_MS * 1000000u;
	bool waited = false;
	unsigned i;

	/* Only a driver that took the gate (virtio-blk) can be paused; a
	 * network driver's receive buffers stay posted (its pool is whole
	 * at connect; a shared pool's change goes as a plain new table, which
	 * DPDK's back-end takes with its queues locked). */
	if (!__atomic_load_n(&h->gate_taken, __ATOMIC_ACQUIRE))
		return 0;
	ccdma_vq_gate_close(&h->gate);
	for (i = 0; i < h->max_queues; i++) {
		struct vh_queue *vq = &h->q[i];

		if (!__atomic_load_n(&vq->started, __ATOMIC_ACQUIRE) ||
		    !vq->avail)
			continue;
		while (ccdma_vring_ld16(&vq->used->idx, __ATOMIC_ACQUIRE) !=
		       ccdma_vring_ld16(&vq->avail->idx, __ATOMIC_ACQUIRE)) {
			if (is_broken(h))
				return -ENODEV;
			if (ccdma_os_now_ns() >= deadline) {
				vh_break(h, -ETIMEDOUT, "queue %u: the back-end did "
					 "not finish its requests in flight within "
					 "%u ms before a memory table change: cut off",
					 i, VH_DRAIN_MS);
				return -ENODEV;
			}
			waited = true;
			ccdma_os_sleep_ns(20000);
		}
	}
	if (waited)
		h->drains++;
	return 0;
}

static void table_resume(struct ccdma_vhost *h)
{
	if (__atomic_load_n(&h->gate_taken, __ATOMIC_ACQUIRE))
		ccdma_vq_gate_open(&h->gate);
}

/* Send the table after the back-end went idle (table_quiesce).  Lock
 * held.  0 or -ENODEV. */
static int send_table_quiet(struct ccdma_vhost *h)
{
	int rc = table_quiesce(h);

	if (!rc)
		rc = send_table(h);
	table_resume(h);
	return rc;
}

/* Take table entry i out and tell the back-end.  Lock held.  0, or
 * -ENODEV (the connection broke: the back-end lost every region). */
static int table_remove(struct ccdma_vhost *h, unsigned i)
{
	struct vh_region gone = h->table[i];

	h->table[i] = h->table[--h->nregions];
	if (is_broken(h))
		return -ENODEV;
	if (h->mem_slots ? send_mem_reg(h, CCDMA_VU_REM_MEM_REG, &gone) :
			   send_table_quiet(h))
		return -ENODEV;
	h->regions_removed++;
	return 0;
}

static int table_find(const struct ccdma_vhost *h, const void *addr)
{
	for (unsigned i = 0; i < h->nregions; i++)
		if (h->table[i].r.userspace_addr == (uint64_t)(uintptr_t)addr)
			return (int)i;
	return -1;
}

/*
 * The pool's region listener: runs on the pool's grower thread (or in
 * ccdma_pool_add_region_listener / ccdma_pool_destroy), before a new
 * region can be allocated from and before a removed one is destroyed, and
 * returns only once the back-end has done as told.
 */
static void region_event(void *arg, bool added, int fd, void *addr,
			 size_t size, uint64_t pool_offset)
{
	struct ccdma_vhost *h = arg;
	uint64_t a = (uint64_t)(uintptr_t)addr;
	struct vh_region *r;
	unsigned i;

	(void)pool_offset;
	ccdma_mutex_lock(&h->lock);
	if (added) {
		if (h->nregions >= h->table_max) {
			/* The pool cap should make this impossible. */
			vh_break(h, -ENOSPC, "pool region %#llx does not fit the "
				 "back-end's %u memory slots",
				 (unsigned long long)a, h->table_max);
			goto out;
		}
		r = &h->table[h->nregions++];
		/* Identity translation: DMA address = CPU address. */
		r->r.guest_phys_addr = a;
		r->r.userspace_addr = a;
		r->r.memory_size = size;
		r->r.mmap_offset = 0;
		r->fd = fd;
		if (is_broken(h)) {
			/* Not sent; a reconnect sends the whole table. */
			h->regions_added++;
			goto out;
		}
		/* A failure broke the connection: the region stays in the
		 * table, which a reconnect sends whole. */
		if (h->mem_slots ? send_mem_reg(h, CCDMA_VU_ADD_MEM_REG, r) :
				   send_table_quiet(h))
			goto out;
		h->regions_added++;
		ccdma_dbg("vhost %s: +region %#llx, %zu bytes (fd %d)", h->path,
			  (unsigned long long)a, size, fd);
		goto out;
	}
	i = (unsigned)table_find(h, addr);
	if (i >= h->nregions || table_remove(h, i))
		goto out;
	ccdma_dbg("vhost %s: -region %#llx, %zu bytes", h->path,
		  (unsigned long long)a, size);
out:
	ccdma_mutex_unlock(&h->lock);
}

/* ---- transport -------------------------------------------------------- */

static struct ccdma_dev *t_dma_dev(void *ctx)
{
	return ((struct ccdma_vhost *)ctx)->dev;
}

static uint64_t t_device_features(void *ctx)
{
	return ((struct ccdma_vhost *)ctx)->features & ~VH_TRANSPORT_BITS;
}

static int t_set_features(void *ctx, uint64_t features)
{
	struct ccdma_vhost *h = ctx;
	uint64_t wire = features;
	int rc;

	if (is_broken(h))
		return -ENODEV;
	if (features & ~t_device_features(h)) {
		ccdma_err("vhost %s: set_features %#llx: bits %#llx not offered",
			  h->path, (unsigned long long)features,
			  (unsigned long long)(features & ~t_device_features(h)));
		return -EINVAL;
	}
	/* Echoing the protocol-features bit keeps the rings disabled until
	 * SET_VRING_ENABLE. */
	if (h->features & (1ull << CCDMA_VU_F_PROTOCOL_FEATURES))
		wire |= 1ull << CCDMA_VU_F_PROTOCOL_FEATURES;
	ccdma_mutex_lock(&h->lock);
	rc = vh_request(h, CCDMA_VU_SET_FEATURES, &wire, 8, NULL, 0, true);
	if (!rc) {
		h->acked = wire;
		h->features_set = true;
	}
	ccdma_mutex_unlock(&h->lock);
	return rc;
}

static int t_get_config(void *ctx, uint32_t offset, void *buf, uint32_t len)
{
	struct ccdma_vhost *h = ctx;
	struct ccdma_vu_config c;
	uint32_t total, got;
	int rc;

	if (is_broken(h))
		return -ENODEV;
	if (!has_pf(h, CCDMA_VU_PF_CONFIG))
		return -EOPNOTSUPP;
	if (!buf || !len || offset > CCDMA_VU_CONFIG_MAX ||
	    len > CCDMA_VU_CONFIG_MAX - offset)
		return -EINVAL;
	/* Always from offset 0: qemu-storage-daemon's vhost-user-blk ignores
	 * the offset and copies from the start of its config. */
	total = offset + len;
	ccdma_memset(&c, 0, sizeof(c));
	c.offset = 0;
	c.size = total;
	ccdma_mutex_lock(&h->lock);
	rc = vh_send(h, CCDMA_VU_GET_CONFIG, 0, &c, CCDMA_VU_CONFIG_HDR + total,
		     NULL, 0);
	if (!rc)
		rc = vh_recv(h, CCDMA_VU_GET_CONFIG, &c, 0,
			     CCDMA_VU_CONFIG_HDR + total, &got);
	if (rc)
		goto out;
	if (got == 0) {
		/* The back-end's way of saying it cannot. */
		ccdma_warn("vhost %s: back-end refused GET_CONFIG of %u bytes",
			   h->path, total);
		rc = -EIO;
		goto out;
	}
	if (got != CCDMA_VU_CONFIG_HDR + total || c.offset != 0 ||
	    c.size != total) {
		vh_break(h, -EPROTO, "GET_CONFIG reply: %u bytes, offset %u, size "
			 "%u (asked offset 0, size %u)", got, c.offset, c.size,
			 total);
		rc = -ENODEV;
		goto out;
	}
	ccdma_memcpy(buf, c.payload + offset, len);
out:
	ccdma_mutex_unlock(&h->lock);
	return rc;
}

/* A net device (GET_QUEUE_NUM counts pairs) that offers CTRL_VQ: its
 * control queue is queue max_queues, served here (net_ctrl.h). */
static bool has_ctrl(const struct ccdma_vhost *h)
{
	return h->queues_per_unit == 2 &&
	       (h->features & (1ull << CCDMA_VIRTIO_NET_F_CTRL_VQ));
}

static bool is_ctrl(const struct ccdma_vhost *h, unsigned q)
{
	return has_ctrl(h) && q == h->max_queues;
}

static unsigned t_max_queues(void *ctx)
{
	struct ccdma_vhost *h = ctx;

	return h->max_queues + (has_ctrl(h) ? 1u : 0u);
}

static unsigned t_max_queue_size(void *ctx, unsigned q)
{
	struct ccdma_vhost *h = ctx;

	return q < h->max_queues || is_ctrl(h, q) ? VH_QUEUE_SIZE_MAX : 0;
}

/* SET_VRING_ENABLE on the started rings of queue pair `pair` (lock
 * held). */
static int ctrl_enable(void *arg, unsigned pair, bool on)
{
	struct ccdma_vhost *h = arg;
	int rc = 0;

	if (!(h->acked & (1ull << CCDMA_VU_F_PROTOCOL_FEATURES)))
		return 0;
	for (unsigned q = 2 * pair; q < 2 * pair + 2 && !rc; q++) {
		struct ccdma_vu_vring_state st = { .index = q, .num = on };

		if (q < h->max_queues && h->q[q].started)
			rc = vh_request(h, CCDMA_VU_SET_VRING_ENABLE, &st,
					sizeof(st), NULL, 0, false);
	}
	return rc;
}

/* The control queue: kept here, never sent to the back-end. */
static int ctrl_start(struct ccdma_vhost *h, const struct ccdma_vq_layout *l)
{
	int rc = 0;

	ccdma_mutex_lock(&h->lock);
	if (!h->features_set ||
	    !(h->acked & (1ull << CCDMA_VIRTIO_NET_F_CTRL_VQ))) {
		ccdma_err("vhost %s: control queue started without CTRL_VQ "
			  "accepted", h->path);
		rc = -EINVAL;
	} else if (h->ctrl.started) {
		ccdma_err("vhost %s: control queue started twice", h->path);
		rc = -EBUSY;
	} else {
		ccdma_memset(&h->ctrl, 0, sizeof(h->ctrl));
		h->ctrl.l = *l;
		h->ctrl.num = l->num;
		h->ctrl.started = true;
	}
	ccdma_mutex_unlock(&h->lock);
	return rc;
}

static bool in_pool(struct ccdma_vhost *h, const void *p, uint64_t dma,
		    size_t len)
{
	return p && dma == (uint64_t)(uintptr_t)p &&
	       ccdma_pool_contains(h->pool, p, len);
}

static int vring_fd_msg(struct ccdma_vhost *h, uint32_t req, unsigned q,
			int fd)
{
	uint64_t v = q & CCDMA_VU_VRING_IDX_MASK;

	return vh_request(h, req, &v, 8, &fd, 1, false);
}

static int t_queue_start(void *ctx, unsigned q, const struct ccdma_vq_layout *l)
{
	struct ccdma_vhost *h = ctx;
	struct ccdma_vu_vring_state st;
	struct ccdma_vu_vring_addr va;
	struct vh_queue *vq;
	int rc;

	if (is_broken(h))
		return -ENODEV;
	if ((q >= h->max_queues && !is_ctrl(h, q)) || !l || l->num < 1 ||
	    l->num > VH_QUEUE_SIZE_MAX || (l->num & (l->num - 1))) {
		ccdma_err("vhost %s: queue_start(%u): bad queue or size %u",
			  h->path, q, l ? l->num : 0);
		return -EINVAL;
	}
	/* The back-end can reach the pool and nothing else; the ring must
	 * lie in it, at its CPU address (identity translation).  Checked
	 * before taking the lock: the pool is not called with it held. */
	if (!in_pool(h, l->desc, l->desc_dma, 16u * l->num) ||
	    !in_pool(h, l->avail, l->avail_dma, 6u + 2u * l->num) ||
	    !in_pool(h, l->used, l->used_dma, 6u + 8u * l->num)) {
		ccdma_err("vhost %s: queue_start(%u): ring not in the device's "
			  "coherent memory", h->path, q);
		return -EINVAL;
	}
	if (is_ctrl(h, q))
		return ctrl_start(h, l);
	vq = &h->q[q];
	ccdma_mutex_lock(&h->lock);
	if (!h->features_set) {
		ccdma_err("vhost %s: queue_start(%u) before set_features",
			  h->path, q);
		rc = -EINVAL;
		goto out;
	}
	if (__atomic_load_n(&vq->started, __ATOMIC_ACQUIRE)) {
		ccdma_err("vhost %s: queue %u started twice", h->path, q);
		rc = -EBUSY;
		goto out;
	}
	if ((vq->kick_fd < 0 && (rc = ccdma_os_eventfd_create(&vq->kick_fd))) ||
	    (vq->call_fd < 0 && (rc = ccdma_os_eventfd_create(&vq->call_fd)))) {
		ccdma_err("vhost %s: queue_start(%u): no eventfd (%d)", h->path,
			  q, rc);
		if (rc != -EMFILE && rc != -ENFILE)
			rc = -ENOMEM;
		goto out;
	}

	st.index = q;
	st.num = l->num;
	rc = vh_request(h, CCDMA_VU_SET_VRING_NUM, &st, sizeof(st), NULL, 0, false);
	if (rc)
		goto out;
	st.num = 0;
	rc = vh_request(h, CCDMA_VU_SET_VRING_BASE, &st, sizeof(st), NULL, 0, false);
	if (rc)
		goto out;
	ccdma_memset(&va, 0, sizeof(va));
	va.index = q;
	va.desc_user_addr = l->desc_dma;
	va.avail_user_addr = l->avail_dma;
	va.used_user_addr = l->used_dma;
	rc = vh_request(h, CCDMA_VU_SET_VRING_ADDR, &va, sizeof(va), NULL, 0, false);
	if (rc)
		goto out;
	/* CALL before KICK: libvhost-user starts the ring on KICK. */
	rc = vring_fd_msg(h, CCDMA_VU_SET_VRING_CALL, q, vq->call_fd);
	if (rc)
		goto out;
	rc = vring_fd_msg(h, CCDMA_VU_SET_VRING_KICK, q, vq->kick_fd);
	if (rc)
		goto out;
	/* With the protocol-features bit, rings start disabled. */
	if (h->acked & (1ull << CCDMA_VU_F_PROTOCOL_FEATURES)) {
		st.num = 1;
		rc = vh_request(h, CCDMA_VU_SET_VRING_ENABLE, &st, sizeof(st),
				NULL, 0, false);
		if (rc)
			goto out;
	}
	if (!has_pf(h, CCDMA_VU_PF_REPLY_ACK) && (rc = vh_barrier(h)))
		goto out;
	/* libvhost-user signals a call fd as soon as it gets one; no
	 * buffer is posted yet, so that signal means nothing. */
	ccdma_os_eventfd_clear(vq->call_fd);
	vq->num = l->num;
	vq->avail = l->avail;
	vq->used = l->used;
	__atomic_store_n(&vq->started, true, __ATOMIC_RELEASE);
out:
	ccdma_mutex_unlock(&h->lock);
	return rc;
}

static struct vh_queue *live_queue(struct ccdma_vhost *h, unsigned q)
{
	if (q >= h->max_queues ||
	    !__atomic_load_n(&h->q[q].started, __ATOMIC_ACQUIRE))
		return NULL;
	return &h->q[q];
}

/* The started queue q of a device that is not broken: 0, -ENODEV or
 * -EINVAL. */
static int op_queue(struct ccdma_vhost *h, unsigned q, struct vh_queue **vq)
{
	if (is_broken(h))
		return -ENODEV;
	*vq = live_queue(h, q);
	return *vq ? 0 : -EINVAL;
}

/* The control queue, started and the device not broken: 0, -ENODEV or
 * -EINVAL. */
static int ctrl_op(struct ccdma_vhost *h)
{
	if (is_broken(h))
		return -ENODEV;
	return h->ctrl.started ? 0 : -EINVAL;
}

static int t_notify(void *ctx, unsigned q)
{
	struct ccdma_vhost *h = ctx;
	struct vh_queue *vq;
	int rc;

	if (is_ctrl(h, q)) {
		if ((rc = ctrl_op(h)))
			return rc;
		ccdma_mutex_lock(&h->lock);
		vh_net_ctrl_serve(&h->ctrl, h->dev, h->max_queues / 2,
				  ctrl_enable, h);
		ccdma_mutex_unlock(&h->lock);
		return is_broken(h) ? -ENODEV : 0;
	}
	if ((rc = op_queue(h, q, &vq)))
		return rc;
	rc = ccdma_os_eventfd_signal(vq->kick_fd);
	if (rc) {
		vh_break(h, rc, "kicking queue %u: error %d", q, rc);
		return -ENODEV;
	}
	return 0;
}

static int t_wait(void *ctx, unsigned q, uint64_t timeout_ns)
{
	struct ccdma_vhost *h = ctx;
	uint64_t deadline, now;
	struct vh_queue *vq;
	int rc;

	/* The control queue's answers are in the ring when notify returns. */
	if (is_ctrl(h, q))
		return ctrl_op(h);
	if ((rc = op_queue(h, q, &vq)))
		return rc;
	now = ccdma_os_now_ns();
	if (timeout_ns == UINT64_MAX)
		deadline = CCDMA_OS_NO_DEADLINE;
	else if (timeout_ns >= CCDMA_OS_NO_DEADLINE - 1 - now)
		deadline = CCDMA_OS_NO_DEADLINE - 1;
	else
		deadline = now + timeout_ns;
	rc = ccdma_os_eventfd_wait(vq->call_fd, h->sock, deadline);
	if (rc == 0 || rc == -ETIMEDOUT)
		return is_broken(h) ? -ENODEV : rc;
	if (rc == -ECONNRESET)
		vh_break(h, -ECONNRESET, "back-end hung up");
	else
		vh_break(h, rc, "waiting on queue %u: error %d", q, rc);
	return -ENODEV;
}

/* GET_VRING_BASE on started queue q: libvhost-user and ccdma-devsim stop
 * the ring before they answer.  Lock held.  0 or -ENODEV. */
static int stop_ring(struct ccdma_vhost *h, unsigned q)
{
	struct ccdma_vu_vring_state st = { .index = q, .num = 0 };
	uint32_t got;

	if (vh_send(h, CCDMA_VU_GET_VRING_BASE, 0, &st, sizeof(st), NULL, 0) ||
	    vh_recv(h, CCDMA_VU_GET_VRING_BASE, &st, sizeof(st), sizeof(st),
		    &got))
		return -ENODEV;
	if (st.index != q) {
		vh_break(h, -EPROTO, "GET_VRING_BASE reply for queue %u names "
			 "queue %u", q, st.index);
		return -ENODEV;
	}
	__atomic_store_n(&h->q[q].started, false, __ATOMIC_RELEASE);
	return 0;
}

static int t_queue_stop(void *ctx, unsigned q)
{
	struct ccdma_vhost *h = ctx;
	struct vh_queue *vq;
	int rc;

	if (is_ctrl(h, q)) {
		if ((rc = ctrl_op(h)))
			return rc;
		ccdma_mutex_lock(&h->lock);
		h->ctrl.started = false;
		ccdma_mutex_unlock(&h->lock);
		return 0;
	}
	if ((rc = op_queue(h, q, &vq)))
		return rc;
	ccdma_mutex_lock(&h->lock);
	rc = __atomic_load_n(&vq->started, __ATOMIC_ACQUIRE) ? stop_ring(h, q)
							     : -EINVAL;
	ccdma_mutex_unlock(&h->lock);
	return rc;
}

/* GET_VRING_BASE on every started ring, while the back-end answers (a
 * back-end that does not breaks the connection, reply_timeout_ms). */
static void stop_rings(struct ccdma_vhost *h)
{
	unsigned i;

	ccdma_mutex_lock(&h->lock);
	for (i = 0; h->q && i < h->max_queues && !is_broken(h); i++)
		if (h->q[i].started && stop_ring(h, i))
			break;
	ccdma_mutex_unlock(&h->lock);
}

/* The driver gives up on the device: the rings are stopped first, so
 * that the back-end no longer reads them (nor the bounces they name) when
 * the driver scrubs and reuses that memory. */
static void t_fail(void *ctx, const char *why)
{
	struct ccdma_vhost *h = ctx;

	stop_rings(h);
	vh_break(h, -EPROTO, "driver: %s", why ? why : "device misbehaved");
}

static bool t_broken(void *ctx)
{
	return is_broken(ctx);
}

static int negotiate(struct ccdma_vhost *h);

/* The memory table, whole, to a back-end that has none yet.  Lock held.
 * 0 or -ENODEV. */
static int resend_table(struct ccdma_vhost *h)
{
	unsigned i, room = h->mem_slots ? h->mem_slots : CCDMA_VU_MAX_TABLE_REGIONS;

	if (h->nregions > room) {
		vh_break(h, -EPROTO, "the new back-end takes %u memory region(s), "
			 "the pool has %u", room, h->nregions);
		return -ENODEV;
	}
	if (!h->mem_slots)
		return send_table(h);
	for (i = 0; i < h->nregions; i++)
		if (send_mem_reg(h, CCDMA_VU_ADD_MEM_REG, &h->table[i]))
			return -ENODEV;
	return 0;
}

/*
 * One attempt on a fresh connection `fd`: negotiate as at connect, check
 * that the back-end offers everything the old one had accepted, accept the
 * same features and send the table.  Lock held.  0, -EAGAIN (it hung up or
 * did not answer: try again), -ENODEV (it offers less: give up).
 */
static int reconnect_once(struct ccdma_vhost *h, int fd)
{
	unsigned queues = h->max_queues, i;
	uint64_t want = h->acked;
	int rc;

	rc = ccdma_os_fd_replace(h->sock, fd);
	if (rc) {
		ccdma_err("vhost %s: reconnect: cannot replace the socket (%d)",
			  h->path, rc);
		return -ENODEV;
	}
	h->protocol_features = 0;
	h->mem_slots = 0;
	h->err = 0;
	__atomic_store_n(&h->broken, 0u, __ATOMIC_RELEASE);
	rc = negotiate(h);
	if (!rc && (h->features & want) != want) {
		vh_break(h, -EPROTO, "reconnect: the new back-end lacks features "
			 "%#llx", (unsigned long long)(want & ~h->features));
		rc = -ENOTSUP;
	}
	if (!rc && h->max_queues < queues) {
		vh_break(h, -EPROTO, "reconnect: the new back-end has %u queue(s), "
			 "the old one %u", h->max_queues, queues);
		rc = -ENOTSUP;
	}
	h->max_queues = queues; /* the size of h->q */
	if (!rc)
		rc = vh_request(h, CCDMA_VU_SET_FEATURES, &want, 8, NULL, 0, true);
	if (!rc)
		rc = resend_table(h);
	if (rc == -ENOTSUP || (rc && h->err == -EPROTO))
		return -ENODEV;
	if (rc)
		return -EAGAIN;
	for (i = 0; i < h->max_queues; i++) {
		__atomic_store_n(&h->q[i].started, false, __ATOMIC_RELEASE);
		(void)ccdma_os_eventfd_clear(h->q[i].kick_fd);
		(void)ccdma_os_eventfd_clear(h->q[i].call_fd);
	}
	return 0;
}

static int t_reconnect(void *ctx, unsigned timeout_ms)
{
	struct ccdma_vhost *h = ctx;
	uint64_t deadline = ccdma_os_now_ns() + (uint64_t)timeout_ms * 1000000ull;
	unsigned saved = h->timeout_ms;
	int rc = -EAGAIN, fd;

	ccdma_mutex_lock(&h->lock);
	if (!h->features_set) {
		ccdma_mutex_unlock(&h->lock);
		return -ENODEV;
	}
	/* Hung up, or given up on (a stall): the old back-end is told. */
	if (!__atomic_exchange_n(&h->broken, 1u, __ATOMIC_ACQ_REL)) {
		withdraw_kicks(h);
		ccdma_os_sock_shutdown(h->sock);
	}
	ccdma_warn("vhost %s: reconnecting (up to %u ms)", h->path, timeout_ms);
	while (rc == -EAGAIN) {
		uint64_t now = ccdma_os_now_ns();
		unsigned left;

		if (now >= deadline)
			break;
		left = (unsigned)((deadline - now) / 1000000u) + 1;
		/* Each reply within what is left (a back-end still starting
		 * or stopped does not hold the reconnect past its end). */
		h->timeout_ms = left < saved ? left : saved;
		if (ccdma_os_unix_connect(h->path, h->timeout_ms, &fd)) {
			/* Not there yet: the back-end restarts. */
			ccdma_os_sleep_ns(10000000ull);
			continue;
		}
		rc = reconnect_once(h, fd);
		if (rc == -EAGAIN)
			ccdma_os_sleep_ns(10000000ull);
	}
	h->timeout_ms = saved;
	CCDMA_TRACE3(reconnect, h->path, rc == -EAGAIN ? -ETIMEDOUT : rc,
		     ccdma_os_now_ns() - (deadline - (uint64_t)timeout_ms * 1000000ull));
	if (!rc) {
		h->reconnects++;
		ccdma_warn("vhost %s: reconnected (%llu so far)", h->path,
			   (unsigned long long)h->reconnects);
	} else {
		if (rc == -EAGAIN)
			ccdma_err("vhost %s: reconnect: no back-end within %u ms",
				  h->path, timeout_ms);
		/* Broken for good. */
		__atomic_store_n(&h->broken, 1u, __ATOMIC_RELEASE);
		ccdma_os_sock_shutdown(h->sock);
		rc = -ENODEV;
	}
	ccdma_mutex_unlock(&h->lock);
	return rc;
}

/* Only a back-end without memory slots needs the driver to pause. */
static struct ccdma_vq_gate *t_gate(void *ctx)
{
	struct ccdma_vhost *h = ctx;

	if (h->mem_slots)
		return NULL;
	__atomic_store_n(&h->gate_taken, true, __ATOMIC_RELEASE);
	return &h->gate;
}

static const struct ccdma_virtio_transport_ops vhost_ops = {
	.dma_dev = t_dma_dev,
	.device_features = t_device_features,
	.set_features = t_set_features,
	.get_config = t_get_config,
	.max_queues = t_max_queues,
	.max_queue_size = t_max_queue_size,
	.queue_start = t_queue_start,
	.notify = t_notify,
	.wait = t_wait,
	.fail = t_fail,
	.broken = t_broken,
	.queue_stop = t_queue_stop,
	.reconnect = t_reconnect,
	.gate = t_gate,
};

/* ---- connect / close -------------------------------------------------- */

void ccdma_vhost_config_init(struct ccdma_vhost_config *cfg)
{
	if (!cfg)
		return;
	ccdma_memset(cfg, 0, sizeof(*cfg));
	cfg->mode = CCDMA_DEV_MODE_PROCESS;
}

/* SET_OWNER, features, protocol features, queues, memory slots.  Lock
 * held.  0 or -ENODEV. */
static int negotiate(struct ccdma_vhost *h)
{
	uint64_t v;
	int rc;

	rc = vh_send(h, CCDMA_VU_SET_OWNER, 0, NULL, 0, NULL, 0);
	if (!rc)
		rc = vh_get_u64(h, CCDMA_VU_GET_FEATURES, &h->features);
	if (rc)
		return rc;
	if (!(h->features & (1ull << CCDMA_VIRTIO_F_VERSION_1))) {
		vh_break(h, -EPROTO, "back-end does not offer VIRTIO_F_VERSION_1 "
			 "(features %#llx)", (unsigned long long)h->features);
		return -ENODEV;
	}
	h->max_queues = h->queues_per_unit;
	if (!(h->features & (1ull << CCDMA_VU_F_PROTOCOL_FEATURES)))
		return 0;
	rc = vh_get_u64(h, CCDMA_VU_GET_PROTOCOL_FEATURES, &v);
	if (rc)
		return rc;
	v &= VH_PF_WANTED;
	if (h->flags & CCDMA_VHOST_F_NO_REPLY_ACK)
		v &= ~(1ull << CCDMA_VU_PF_REPLY_ACK);
	if (h->flags & CCDMA_VHOST_F_NO_MEM_SLOTS)
		v &= ~(1ull << CCDMA_VU_PF_CONFIGURE_MEM_SLOTS);
	rc = vh_send(h, CCDMA_VU_SET_PROTOCOL_FEATURES, 0, &v, 8, NULL, 0);
	if (rc)
		return rc;
	/* REPLY_ACK applies from the next message on. */
	h->protocol_features = v;
	if (has_pf(h, CCDMA_VU_PF_MQ)) {
		rc = vh_get_u64(h, CCDMA_VU_GET_QUEUE_NUM, &v);
		if (rc)
			return rc;
		if (v < 1 || v > VH_MAX_QUEUES / h->queues_per_unit) {
			vh_break(h, -EPROTO, "GET_QUEUE_NUM: %llu (want 1..%u)",
				 (unsigned long long)v,
				 VH_MAX_QUEUES / h->queues_per_unit);
			return -ENODEV;
		}
		h->max_queues = (unsigned)v * h->queues_per_unit;
	}
	if (has_pf(h, CCDMA_VU_PF_CONFIGURE_MEM_SLOTS)) {
		rc = vh_get_u64(h, CCDMA_VU_GET_MAX_MEM_SLOTS, &v);
		if (rc)
			return rc;
		if (v < 1 || v > VH_SLOTS_SANE) {
			vh_break(h, -EPROTO, "GET_MAX_MEM_SLOTS: %llu slots (want "
				 "1..%u)", (unsigned long long)v, VH_SLOTS_SANE);
			return -ENODEV;
		}
		h->mem_slots = (unsigned)v;
	}
	return 0;
}

/* The pool config: the caller's or the block I/O default, capped so that
 * its regions (each at least region_size) fit the table. */
static void pool_config(struct ccdma_vhost *h, const struct ccdma_vhost_config *cfg,
			struct ccdma_pool_config *pc)
{
	unsigned spare = h->table_max > VH_SPARE_SLOTS ? VH_SPARE_SLOTS :
			 h->table_max - 1;
	size_t cap;

	if (cfg->pool_cfg) {
		*pc = *cfg->pool_cfg;
	} else {
		ccdma_pool_config_init(pc);
		pc->name = "vhost";
		pc->region_size = VH_POOL_REGION;
		pc->initial_bytes = VH_POOL_INITIAL;
	}
	cap = (size_t)(h->table_max - spare) * pc->region_size;
	if (pc->max_bytes > cap) {
		if (cfg->pool_cfg)
			ccdma_info("vhost %s: pool capped at %zu bytes (%u regions "
				   "of %zu) for the back-end's memory table",
				   h->path, cap, h->table_max - spare,
				   pc->region_size);
		pc->max_bytes = cap;
	}
	if (pc->initial_bytes > pc->max_bytes ||
	    (!h->mem_slots && h->queues_per_unit > 1)) {
		/* Without memory slots every change of the table is a
		 * SET_MEM_TABLE, which makes the back-end unmap and map every
		 * region again.  A block driver pauses for it (the gate,
		 * table_quiesce); a network driver cannot (its receive
		 * buffers stay posted), so its pool is made whole at connect
		 * and its floor keeps it whole: the table never changes under
		 * I/O. */
		pc->initial_bytes = pc->max_bytes;
	}
	if (pc->high_watermark > pc->max_bytes)
		pc->high_watermark = pc->max_bytes;
	if (pc->low_watermark > pc->high_watermark)
		pc->low_watermark = pc->high_watermark;
}

/* A pool the caller shares between devices: its regions must fit this
 * back-end's table as the cap of pool_config() would make them.  0, or
 * -ENOSPC with one line saying why. */
static int shared_pool_check(struct ccdma_vhost *h, struct ccdma_pool *pool,
			     struct ccdma_pool_config *pc)
{
	uint64_t need;

	ccdma_pool_get_config(pool, pc);
	need = pc->region_size ?
	       (pc->max_bytes + pc->region_size - 1) / pc->region_size : 0;
	if (need > h->table_max) {
		ccdma_err("vhost %s: the shared pool may hold %llu regions (%zu "
			  "bytes of %zu-byte regions); the back-end's memory "
			  "table takes %u", h->path, (unsigned long long)need,
			  pc->max_bytes, pc->region_size, h->table_max);
		return -ENOSPC;
	}
	return 0;
}

static void vhost_free(struct ccdma_vhost *h)
{
	unsigned i;

	if (h->listening)
		ccdma_pool_remove_region_listener(h->pool, &h->listener);
	h->listening = false;
	/* Disconnect first: the back-end lets go of the regions before the
	 * pool scrubs and destroys them. */
	ccdma_os_close(h->sock);
	h->sock = -1;
	for (i = 0; h->q && i < h->max_queues; i++) {
		ccdma_os_close(h->q[i].kick_fd);
		ccdma_os_close(h->q[i].call_fd);
	}
	if (h->dev)
		ccdma_dev_destroy(h->dev);
	ccdma_os_free(h->q);
	ccdma_vq_gate_destroy(&h->gate);
	ccdma_mutex_destroy(&h->lock);
	ccdma_os_free(h);
}

static int vh_cutoff(void *arg, uintptr_t addr, size_t len);

int ccdma_vhost_connect(const struct ccdma_vhost_config *cfg,
			struct ccdma_vhost **out)
{
	struct ccdma_pool_config pc;
	struct ccdma_dev_config dc;
	struct ccdma_vhost *h;
	size_t plen;
	unsigned i;
	int rc;

	if (!cfg || !out || !cfg->socket_path || !cfg->socket_path[0]) {
		ccdma_err("vhost_connect: no config, output or socket path");
		return -EINVAL;
	}
	if (cfg->flags & ~(unsigned)(CCDMA_VHOST_F_NO_MEM_SLOTS |
				     CCDMA_VHOST_F_NO_REPLY_ACK)) {
		ccdma_err("vhost_connect(%s): unknown flags %#x", cfg->socket_path,
			  cfg->flags);
		return -EINVAL;
	}
	if (cfg->queues_per_unit > 2) {
		ccdma_err("vhost_connect(%s): queues_per_unit %u (want 0..2)",
			  cfg->socket_path, cfg->queues_per_unit);
		return -EINVAL;
	}
	for (plen = 0; cfg->socket_path[plen]; plen++)
		;
	h = ccdma_os_calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	if (plen >= sizeof(h->path)) {
		ccdma_err("vhost_connect: socket path of %zu bytes is too long",
			  plen);
		ccdma_os_free(h);
		return -EINVAL;
	}
	ccdma_memcpy(h->path, cfg->socket_path, plen + 1);
	if (ccdma_mutex_init(&h->lock)) {
		/* glibc never fails it; another platform layer may lack
		 * memory for it. */
		ccdma_err("vhost %s: cannot make the connection's lock", h->path);
		ccdma_os_free(h);
		return -ENOMEM;
	}
	if (ccdma_vq_gate_init(&h->gate)) {
		ccdma_err("vhost %s: cannot make the connection's gate", h->path);
		ccdma_mutex_destroy(&h->lock);
		ccdma_os_free(h);
		return -ENOMEM;
	}
	h->sock = -1;
	h->flags = cfg->flags;
	h->queues_per_unit = cfg->queues_per_unit ? cfg->queues_per_unit : 1;
	h->timeout_ms = cfg->reply_timeout_ms ? cfg->reply_timeout_ms :
			VH_DEFAULT_TIMEOUT_MS;
	h->tp.ops = &vhost_ops;
	h->tp.ctx = h;

	rc = ccdma_os_unix_connect(h->path, h->timeout_ms, &h->sock);
	if (rc) {
		ccdma_err("vhost %s: cannot connect: %s (%d)", h->path,
			  rc == -ENOENT ? "no such socket" :
			  rc == -ENOTSOCK ? "not a socket" :
			  rc == -ECONNREFUSED ? "nobody listening" :
			  rc == -EACCES ? "permission denied" :
			  rc == -ETIMEDOUT ? "timed out" : "error", rc);
		h->sock = -1;
		vhost_free(h);
		return rc;
	}

	ccdma_mutex_lock(&h->lock);
	rc = negotiate(h);
	ccdma_mutex_unlock(&h->lock);
	if (rc)
		goto fail;

	h->q = ccdma_os_calloc(h->max_queues, sizeof(*h->q));
	if (!h->q) {
		rc = -ENOMEM;
		goto fail;
	}
	for (i = 0; i < h->max_queues; i++)
		h->q[i].kick_fd = h->q[i].call_fd = -1;

	h->table_max = h->mem_slots ?
		       (h->mem_slots < VH_MAX_REGIONS ? h->mem_slots : VH_MAX_REGIONS) :
		       CCDMA_VU_MAX_TABLE_REGIONS;
	if (cfg->pool) {
		rc = shared_pool_check(h, cfg->pool, &pc);
		if (rc)
			goto fail;
	} else {
		pool_config(h, cfg, &pc);
	}
	h->pool_max = pc.max_bytes;
	h->pool_region = pc.region_size;
	ccdma_dev_config_init(&dc);
	dc.name = "vhost";
	dc.pool = cfg->pool;
	dc.pool_cfg = cfg->pool ? NULL : &pc;
	dc.flags = CCDMA_DEV_F_SHARED_ONLY | cfg->dev_flags;
	dc.mode = cfg->mode;
	rc = ccdma_dev_create(&dc, &h->dev);
	if (rc) {
		h->dev = NULL;
		ccdma_err("vhost %s: cannot create the dma device (%d)", h->path, rc);
		goto fail;
	}
	h->pool = ccdma_dev_pool(h->dev);
	ccdma_dev_set_cutoff(h->dev, vh_cutoff, h);
	/* Announces the regions made so far: the back-end has them all
	 * mapped when this returns. */
	h->listener.fn = region_event;
	h->listener.arg = h;
	h->listening = !ccdma_pool_add_region_listener(h->pool, &h->listener);
	if (is_broken(h)) {
		rc = -ENODEV;
		goto fail;
	}
	ccdma_dbg("vhost %s: features %#llx, protocol features %#llx, %u "
		  "queue(s), %u memory slot(s)", h->path,
		  (unsigned long long)h->features,
		  (unsigned long long)h->protocol_features, h->max_queues,
		  h->mem_slots);
	h->connected = true;
	*out = h;
	return 0;

fail:
	/* The first failure said why (one line); map it to the documented
	 * connect errors: a hang-up is not a protocol violation. */
	if (rc == -ENODEV) {
		rc = h->err;
		if (rc != -ETIMEDOUT && rc != -ENOMEM && rc != -ECONNRESET)
			rc = -EPROTO;
	}
	vhost_free(h);
	return rc;
}

void ccdma_vhost_close(struct ccdma_vhost *h)
{
	if (!h)
		return;
	/* Stop the rings the back-end is running (GET_VRING_BASE stops a
	 * ring in libvhost-user); a broken connection is simply dropped. */
	stop_rings(h);
	vhost_free(h);
}

const struct ccdma_virtio_transport *ccdma_vhost_transport(struct ccdma_vhost *h)
{
	return h ? &h->tp : NULL;
}

struct ccdma_dev *ccdma_vhost_dev(struct ccdma_vhost *h)
{
	return h ? h->dev : NULL;
}

bool ccdma_vhost_broken(struct ccdma_vhost *h)
{
	return !h || is_broken(h);
}

/* ---- the caller's own regions ------------------------------------------ */

int ccdma_vhost_attach_region(struct ccdma_vhost *h,
			      const struct ccdma_region *r)
{
	struct vh_region *e;
	ccdma_addr_t dma;
	uint64_t pool_regions;
	int rc;

	if (!h || !r || !r->addr || !r->size || r->fd < 0)
		return -EINVAL;
	ccdma_mutex_lock(&h->lock);
	for (unsigned k = 0; k < h->nuser; k++)
		if (h->user[k].r == r || h->user[k].r->addr == r->addr) {
			ccdma_err("vhost %s: region %p+%zu is already attached",
				  h->path, r->addr, r->size);
			rc = -EINVAL;
			goto out;
		}
	pool_regions = h->pool_region ?
		       (h->pool_max + h->pool_region - 1) / h->pool_region : 0;
	if (h->nuser == VH_MAX_USER ||
	    pool_regions + h->nuser + 1 > h->table_max) {
		ccdma_err("vhost %s: no memory slot for region %p+%zu: the "
			  "back-end's table takes %u, the pool may need %llu, "
			  "%u region(s) of the caller's are attached (at most %u)",
			  h->path, r->addr, r->size, h->table_max,
			  (unsigned long long)pool_regions, h->nuser, VH_MAX_USER);
		rc = -ENOSPC;
		goto out;
	}
	if (is_broken(h)) {
		rc = -ENODEV;
		goto out;
	}
	rc = ccdma_dev_attach_region(h->dev, r, &dma);
	if (rc)
		goto out;
	e = &h->table[h->nregions++];
	ccdma_memset(e, 0, sizeof(*e));
	e->r.guest_phys_addr = dma;
	e->r.userspace_addr = (uint64_t)(uintptr_t)r->addr;
	e->r.memory_size = r->size;
	e->fd = r->fd;
	if (h->mem_slots ? send_mem_reg(h, CCDMA_VU_ADD_MEM_REG, e) :
			   send_table_quiet(h)) {
		h->nregions--;
		(void)ccdma_dev_detach_region(h->dev, r);
		rc = -ENODEV;
		goto out;
	}
	h->regions_added++;
	h->user[h->nuser].r = r;
	h->user[h->nuser].in_table = true;
	h->nuser++;
out:
	ccdma_mutex_unlock(&h->lock);
	return rc;
}

int ccdma_vhost_detach_region(struct ccdma_vhost *h,
			      const struct ccdma_region *r)
{
	unsigned k;
	int i, rc = 0;

	if (!h || !r)
		return -EINVAL;
	ccdma_mutex_lock(&h->lock);
	for (k = 0; k < h->nuser && h->user[k].r != r; k++)
		;
	if (k == h->nuser) {
		ccdma_mutex_unlock(&h->lock);
		ccdma_err("vhost %s: detach of region %p: not attached with "
			  "ccdma_vhost_attach_region", h->path, r->addr);
		return -EINVAL;
	}
	if (h->user[k].in_table && (i = table_find(h, r->addr)) >= 0)
		rc = table_remove(h, (unsigned)i);
	h->user[k] = h->user[--h->nuser];
	(void)ccdma_dev_detach_region(h->dev, r);
	ccdma_mutex_unlock(&h->lock);
	return rc;
}

/* The device boundary (ccdma_dev_set_cutoff): a revoked buffer's range
 * in one of the caller's regions takes that whole region out of the
 * back-end's table (REM_MEM_REG, acknowledged, or a new table after the
 * back-end went idle).  Pool memory cannot be taken away: -ENOTSUP. */
static int vh_cutoff(void *arg, uintptr_t addr, size_t len)
{
	struct ccdma_vhost *h = arg;
	bool found = false;
	unsigned k;
	int i;

	ccdma_mutex_lock(&h->lock);
	for (k = 0; k < h->nuser; k++) {
		const struct ccdma_region *r = h->user[k].r;
		uintptr_t a = (uintptr_t)r->addr;

		if (addr >= a + r->size || a >= addr + len)
			continue;
		found = true;
		if (!h->user[k].in_table)
			continue;
		h->user[k].in_table = false;
		if ((i = table_find(h, r->addr)) >= 0) {
			/* A failure broke the connection: the back-end lost
			 * every region, this one with them. */
			(void)table_remove(h, (unsigned)i);
			ccdma_info("vhost %s: region %p+%zu taken away from the "
				   "back-end (a buffer in it was revoked)", h->path,
				   r->addr, r->size);
		}
	}
	ccdma_mutex_unlock(&h->lock);
	return found ? 0 : -ENOTSUP;
}

unsigned ccdma_vhost_regions(struct ccdma_vhost *h, struct ccdma_vhost_region *out,
			     unsigned max)
{
	unsigned i, n;

	if (!h)
		return 0;
	ccdma_mutex_lock(&h->lock);
	n = h->nregions;
	for (i = 0; out && i < n && i < max; i++) {
		out[i].guest_phys_addr = h->table[i].r.guest_phys_addr;
		out[i].size = h->table[i].r.memory_size;
		out[i].user_addr = h->table[i].r.userspace_addr;
		out[i].mmap_offset = h->table[i].r.mmap_offset;
	}
	ccdma_mutex_unlock(&h->lock);
	return n;
}

void ccdma_vhost_get_info(struct ccdma_vhost *h, struct ccdma_vhost_info *info)
{
	if (!info)
		return;
	ccdma_memset(info, 0, sizeof(*info));
	if (!h)
		return;
	ccdma_mutex_lock(&h->lock);
	info->features = h->features;
	info->protocol_features = h->protocol_features;
	info->acked_features = h->acked;
	info->max_queues = h->max_queues;
	info->mem_slots = h->mem_slots;
	info->messages_sent = h->messages_sent;
	info->regions_added = h->regions_added;
	info->regions_removed = h->regions_removed;
	info->table_sends = h->table_sends;
	info->reconnects = h->reconnects;
	info->table_drains = h->drains;
	info->pool_max_bytes = h->pool_max;
	info->pool_region_bytes = h->pool_region;
	ccdma_mutex_unlock(&h->lock);
}
