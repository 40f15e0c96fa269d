/* SPDX-License-Identifier: MIT */
/*
 * ccdma-devsim: the vhost-user protocol, back-end side.
 *
 * Every message is checked against vu_table (payload size bounds and file
 * descriptor count) before its handler runs; handlers then check the
 * values.  Two kinds of failure:
 *
 *  - a malformed message (unknown request, wrong size or fd count, a queue
 *    index out of range, a reply flag from the front-end, ...) breaks the
 *    connection at once: it is logged and closed, and the process waits for
 *    the next one;
 *  - a well-formed request that cannot be honoured (overlapping regions,
 *    a feature that was not offered, an mmap that fails) is answered with a
 *    non-zero REPLY_ACK when the front-end asked for one, and leaves the
 *    connection up; if it did not ask, it cannot know, so the connection
 *    breaks as well.  SET_CONFIG is refused politely and never breaks it.
 *
 * Received file descriptors are closed after the handler unless it kept
 * them (set the slot to -1).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ccdma/virtio.h>
#include <ccdma/virtio_blk.h>

#include "devsim.h"

struct vu_msg {
	struct ccdma_vu_hdr hdr;
	union {
		uint8_t raw[CCDMA_VU_MAX_PAYLOAD];
		uint64_t u64;
	} p;
	int fds[CCDMA_VU_MAX_FDS];
	unsigned nfds;
};

struct vu_spec {
	const char *name;
	uint32_t size_min, size_max;
	uint8_t fds_min, fds_max;
	bool has_reply; /* the handler always replies */
	bool soft;      /* a refusal never breaks the connection */
	int (*fn)(struct ds_dev *d, struct vu_msg *m);
};

static uint64_t net_features(const struct ds_opts *o)
{
	uint64_t f = 1ull << CCDMA_VIRTIO_F_VERSION_1 |
		     1ull << CCDMA_VU_F_PROTOCOL_FEATURES |
		     1ull << CCDMA_VIRTIO_NET_F_MAC |
		     1ull << CCDMA_VIRTIO_NET_F_STATUS;

	if (!o->no_mrg_rxbuf)
		f |= 1ull << CCDMA_VIRTIO_NET_F_MRG_RXBUF;
	/* --queues counts pairs here (not yet doubled). */
	if (o->queues > 1)
		f |= 1ull << CCDMA_VIRTIO_NET_F_MQ |
		     1ull << CCDMA_VIRTIO_NET_F_CTRL_VQ;
	if (!o->no_event_idx)
		f |= 1ull << CCDMA_VIRTIO_F_EVENT_IDX;
	if (!o->no_indirect)
		f |= 1ull << CCDMA_VIRTIO_F_INDIRECT_DESC;
	return f;
}

uint64_t ds_offered_features(const struct ds_opts *o)
{
	uint64_t f = 1ull << CCDMA_VIRTIO_F_VERSION_1 |
		     1ull << CCDMA_VU_F_PROTOCOL_FEATURES |
		     1ull << CCDMA_VIRTIO_BLK_F_SIZE_MAX |
		     1ull << CCDMA_VIRTIO_BLK_F_SEG_MAX |
		     1ull << CCDMA_VIRTIO_BLK_F_BLK_SIZE;

	if (o->net)
		return net_features(o);
	if (!o->no_event_idx)
		f |= 1ull << CCDMA_VIRTIO_F_EVENT_IDX;
	if (!o->no_indirect)
		f |= 1ull << CCDMA_VIRTIO_F_INDIRECT_DESC;
	if (!o->no_flush)
		f |= 1ull << CCDMA_VIRTIO_BLK_F_FLUSH;
	if (!o->no_discard)
		f |= 1ull << CCDMA_VIRTIO_BLK_F_DISCARD;
	if (!o->no_write_zeroes)
		f |= 1ull << CCDMA_VIRTIO_BLK_F_WRITE_ZEROES;
	if (o->queues > 1)
		f |= 1ull << CCDMA_VIRTIO_BLK_F_MQ;
	if (o->read_only)
		f |= 1ull << CCDMA_VIRTIO_BLK_F_RO;
	/* Never ACCESS_PLATFORM: there are no IOTLB messages here. */
	return f;
}

uint64_t ds_offered_protocol_features(const struct ds_opts *o)
{
	uint64_t f = 1ull << CCDMA_VU_PF_MQ | 1ull << CCDMA_VU_PF_CONFIG;

	if (!o->no_reply_ack)
		f |= 1ull << CCDMA_VU_PF_REPLY_ACK;
	if (!o->no_mem_slots)
		f |= 1ull << CCDMA_VU_PF_CONFIGURE_MEM_SLOTS;
	return f;
}

static int vu_send(struct ds_dev *d, const struct vu_msg *req, const void *payload,
		   uint32_t size)
{
	struct ccdma_vu_hdr h = {
		.request = req->hdr.request,
		.flags = CCDMA_VU_VERSION | CCDMA_VU_FLAG_REPLY,
		.size = size,
	};
	static const uint8_t zeros[16];
	struct iovec iov[3] = {
		{ .iov_base = &h, .iov_len = sizeof(h) },
		{ .iov_base = (void *)payload, .iov_len = size },
		{ .iov_base = (void *)zeros, .iov_len = 0 },
	};
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 3 };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} cm;
	size_t total;
	int extra_fd = -1;
	ssize_t r;

	if (d->opt.misbehave) {
		if (ds_mb(d, DS_MB_VU_CODE, "reply with the wrong request code"))
			h.request = h.request == CCDMA_VU_GET_FEATURES
					    ? CCDMA_VU_GET_PROTOCOL_FEATURES
					    : CCDMA_VU_GET_FEATURES;
		if (ds_mb(d, DS_MB_VU_SIZE, "reply of the wrong size")) {
			h.size += 8;
			iov[2].iov_len = 8;
		}
		if (ds_mb(d, DS_MB_VU_FDS, "reply carries a file descriptor")) {
			extra_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
			if (extra_fd >= 0) {
				struct cmsghdr *c;

				memset(&cm, 0, sizeof(cm));
				mh.msg_control = cm.buf;
				mh.msg_controllen = sizeof(cm.buf);
				c = CMSG_FIRSTHDR(&mh);
				c->cmsg_level = SOL_SOCKET;
				c->cmsg_type = SCM_RIGHTS;
				c->cmsg_len = CMSG_LEN(sizeof(int));
				memcpy(CMSG_DATA(c), &extra_fd, sizeof(int));
			}
		}
		if (ds_mb(d, DS_MB_VU_HANGUP, "hangs up in the middle of a reply")) {
			/* Half the header, then the connection closes. */
			iov[0].iov_len = sizeof(h) / 2;
			mh.msg_iovlen = 1;
			do
				r = sendmsg(d->conn.fd, &mh, MSG_NOSIGNAL);
			while (r < 0 && errno == EINTR);
			return ds_conn_fail(d, "misbehave hangup");
		}
	}
	total = sizeof(h) + size + iov[2].iov_len;
	do
		r = sendmsg(d->conn.fd, &mh, MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	if (extra_fd >= 0)
		close(extra_fd);
	if (r != (ssize_t)total)
		return ds_conn_fail(d, "reply to request %u: %s", h.request,
				    r < 0 ? strerror(errno) : "short write");
	return 0;
}

static int vu_reply_u64(struct ds_dev *d, const struct vu_msg *m, uint64_t v)
{
	return vu_send(d, m, &v, sizeof(v));
}

/* A queue index from the peer. */
static struct ds_vq *vu_vq(struct ds_dev *d, const char *what, uint32_t index)
{
	if (index >= d->opt.queues) {
		ds_conn_fail(d, "%s: queue %u out of range (%u queues)", what,
			     index, d->opt.queues);
		return NULL;
	}
	return &d->conn.vq[index];
}

static void vu_update_rings(struct ds_dev *d)
{
	unsigned i;

	for (i = 0; i < d->opt.queues && !d->conn.broken; i++)
		ds_vq_update(d, &d->conn.vq[i]);
}

static int h_get_features(struct ds_dev *d, struct vu_msg *m)
{
	return vu_reply_u64(d, m, d->offered_features);
}

static int h_set_features(struct ds_dev *d, struct vu_msg *m)
{
	uint64_t f = m->p.u64;

	if (f & ~d->offered_features) {
		ds_err("SET_FEATURES %#" PRIx64 ": %#" PRIx64 " not offered", f,
		       f & ~d->offered_features);
		return -EINVAL;
	}
	d->conn.features = f;
	/* The protocol-features bit decides whether rings wait for
	 * SET_VRING_ENABLE. */
	vu_update_rings(d);
	return 0;
}

static int h_set_owner(struct ds_dev *d, struct vu_msg *m)
{
	(void)m;
	d->conn.owner = true;
	return 0;
}

static int h_reset_owner(struct ds_dev *d, struct vu_msg *m)
{
	unsigned i;

	(void)m;
	for (i = 0; i < DS_MAX_QUEUES; i++)
		ds_vq_reset(d, &d->conn.vq[i]);
	d->conn.features = 0;
	d->conn.owner = false;
	return 0;
}

static int h_get_protocol_features(struct ds_dev *d, struct vu_msg *m)
{
	return vu_reply_u64(d, m, d->offered_protocol_features);
}

static int h_set_protocol_features(struct ds_dev *d, struct vu_msg *m)
{
	uint64_t f = m->p.u64;

	if (f & ~d->offered_protocol_features) {
		ds_err("SET_PROTOCOL_FEATURES %#" PRIx64 ": %#" PRIx64
		       " not offered", f, f & ~d->offered_protocol_features);
		return -EINVAL;
	}
	d->conn.protocol_features = f;
	return 0;
}

static int h_get_queue_num(struct ds_dev *d, struct vu_msg *m)
{
	/* virtio-net counts queue pairs. */
	return vu_reply_u64(d, m, d->opt.net ? d->opt.queues / 2 : d->opt.queues);
}

static int h_get_max_mem_slots(struct ds_dev *d, struct vu_msg *m)
{
	return vu_reply_u64(d, m, DS_MAX_MEM_SLOTS);
}

static int h_set_mem_table(struct ds_dev *d, struct vu_msg *m)
{
	struct ccdma_vu_mem_table t;
	int ret;

	memset(&t, 0, sizeof(t));
	memcpy(&t, m->p.raw, m->hdr.size);
	if (t.nregions > CCDMA_VU_MAX_TABLE_REGIONS ||
	    m->hdr.size != 8 + t.nregions * sizeof(struct ccdma_vu_region) ||
	    m->nfds != t.nregions)
		return ds_conn_fail(d, "SET_MEM_TABLE: %u regions in %u bytes "
				    "with %u fds", t.nregions, m->hdr.size,
				    m->nfds);
	ret = ds_mem_set_table(d, t.regions, t.nregions, m->fds);
	vu_update_rings(d);
	return ret;
}

static int h_add_mem_reg(struct ds_dev *d, struct vu_msg *m)
{
	struct ccdma_vu_mem_reg r;
	int ret;

	memcpy(&r, m->p.raw, sizeof(r));
	ret = ds_mem_add(d, &r.region, m->fds[0], "add");
	vu_update_rings(d);
	return ret;
}

static int h_rem_mem_reg(struct ds_dev *d, struct vu_msg *m)
{
	struct ccdma_vu_mem_reg r;
	int ret;

	memcpy(&r, m->p.raw, sizeof(r));
	ret = ds_mem_remove(d, &r.region);
	/* A ring in the region that went stops here, before anything could
	 * touch the unmapped memory. */
	vu_update_rings(d);
	return ret;
}

static int h_set_vring_num(struct ds_dev *d, struct vu_msg *m)
{
	struct ccdma_vu_vring_state s;
	struct ds_vq *vq;

	memcpy(&s, m->p.raw, sizeof(s));
	vq = vu_vq(d, "SET_VRING_NUM", s.index);
	if (!vq)
		return -EPROTO;
	if (s.num == 0 || s.num > d->opt.queue_size || (s.num & (s.num - 1)))
		return ds_conn_fail(d, "SET_VRING_NUM: ring %u: size %u (a power "
				    "of two up to %u)", s.index, s.num,
				    d->opt.queue_size);
	if (vq->started)
		return ds_conn_fail(d, "SET_VRING_NUM: ring %u is running",
				    s.index);
	if (vq->segs && s.num != vq->num) {
		/* Scratch is sized for the ring: reallocated on start. */
		free(vq->segs);
		free(vq->iov);
		vq->segs = NULL;
		vq->iov = NULL;
	}
	vq->num = s.num;
	return 0;
}

static int h_set_vring_addr(struct ds_dev *d, struct vu_msg *m)
{
	struct ccdma_vu_vring_addr a;
	struct ds_vq *vq;

	memcpy(&a, m->p.raw, sizeof(a));
	vq = vu_vq(d, "SET_VRING_ADDR", a.index);
	if (!vq)
		return -EPROTO;
	vq->addr = a;
	vq->addr_set = true;
	return ds_vq_update(d, vq);
}

static int h_set_vring_base(struct ds_dev *d, struct vu_msg *m)
{
	struct ccdma_vu_vring_state s;
	struct ds_vq *vq;

	memcpy(&s, m->p.raw, sizeof(s));
	vq = vu_vq(d, "SET_VRING_BASE", s.index);
	if (!vq)
		return -EPROTO;
	if (s.num > 0xffff)
		return ds_conn_fail(d, "SET_VRING_BASE: ring %u: base %u",
				    s.index, s.num);
	if (vq->started)
		return ds_conn_fail(d, "SET_VRING_BASE: ring %u is running",
				    s.index);
	vq->last_avail = (uint16_t)s.num;
	return 0;
}

static int h_get_vring_base(struct ds_dev *d, struct vu_msg *m)
{
	struct ccdma_vu_vring_state s;
	struct ds_vq *vq;

	memcpy(&s, m->p.raw, sizeof(s));
	vq = vu_vq(d, "GET_VRING_BASE", s.index);
	if (!vq)
		return -EPROTO;
	/* Stop the ring: it starts again only with a new kick fd. */
	ds_vq_stop(d, vq);
	if (vq->kick_fd >= 0)
		close(vq->kick_fd);
	if (vq->call_fd >= 0)
		close(vq->call_fd);
	vq->kick_fd = -1;
	vq->call_fd = -1;
	vq->enabled = false;
	s.num = vq->last_avail;
	ds_info(d, "ring %u stopped by GET_VRING_BASE at avail %u", vq->index,
		vq->last_avail);
	return vu_send(d, m, &s, sizeof(s));
}

/* SET_VRING_KICK / CALL / ERR: u64 with the index in bits 0-7, NOFD in
 * bit 8 and nothing else. */
static struct ds_vq *vu_vring_fd(struct ds_dev *d, struct vu_msg *m,
				 const char *what, int *fd)
{
	uint64_t v = m->p.u64;
	bool nofd = v & CCDMA_VU_VRING_NOFD;

	if (v & ~(uint64_t)(CCDMA_VU_VRING_IDX_MASK | CCDMA_VU_VRING_NOFD) ||
	    m->nfds != (nofd ? 0u : 1u)) {
		ds_conn_fail(d, "%s: payload %#" PRIx64 " with %u fds", what, v,
			     m->nfds);
		return NULL;
	}
	*fd = nofd ? -1 : m->fds[0];
	return vu_vq(d, what, (uint32_t)(v & CCDMA_VU_VRING_IDX_MASK));
}

static int h_set_vring_kick(struct ds_dev *d, struct vu_msg *m)
{
	struct ds_vq *vq;
	int fd;

	vq = vu_vring_fd(d, m, "SET_VRING_KICK", &fd);
	if (!vq)
		return -EPROTO;
	if (fd < 0)
		return ds_conn_fail(d, "SET_VRING_KICK: ring %u: polling mode "
				    "(no fd) is not supported", vq->index);
	ds_vq_stop(d, vq);
	if (vq->kick_fd >= 0)
		close(vq->kick_fd);
	/* Non-blocking: a stale readiness event must not hang the loop.  The
	 * flag is shared with the front-end, which only ever writes a kick
	 * eventfd, and such a write does not block either way. */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	vq->kick_fd = fd;
	m->fds[0] = -1;
	return ds_vq_update(d, vq);
}

static int h_set_vring_call(struct ds_dev *d, struct vu_msg *m)
{
	struct ds_vq *vq;
	int fd;

	vq = vu_vring_fd(d, m, "SET_VRING_CALL", &fd);
	if (!vq)
		return -EPROTO;
	if (vq->call_fd >= 0)
		close(vq->call_fd);
	/* Left as it came: the front-end may read it blocking, and the
	 * flags belong to the file description it shares with us. */
	vq->call_fd = fd;
	if (fd >= 0)
		m->fds[0] = -1;
	return 0;
}

static int h_set_vring_err(struct ds_dev *d, struct vu_msg *m)
{
	struct ds_vq *vq;
	int fd;

	vq = vu_vring_fd(d, m, "SET_VRING_ERR", &fd);
	if (!vq)
		return -EPROTO;
	if (vq->err_fd >= 0)
		close(vq->err_fd);
	vq->err_fd = fd;
	if (fd >= 0)
		m->fds[0] = -1;
	return 0;
}

static int h_set_vring_enable(struct ds_dev *d, struct vu_msg *m)
{
	struct ccdma_vu_vring_state s;
	struct ds_vq *vq;

	memcpy(&s, m->p.raw, sizeof(s));
	vq = vu_vq(d, "SET_VRING_ENABLE", s.index);
	if (!vq)
		return -EPROTO;
	if (s.num > 1)
		return ds_conn_fail(d, "SET_VRING_ENABLE: ring %u: %u", s.index,
				    s.num);
	vq->enabled = s.num;
	return ds_vq_update(d, vq);
}

/* GET_CONFIG / SET_CONFIG: offset, size, flags, then size bytes. */
static int vu_config_window(struct ds_dev *d, struct vu_msg *m,
			    struct ccdma_vu_config *c)
{
	memset(c, 0, sizeof(*c));
	memcpy(c, m->p.raw, m->hdr.size);
	if (c->size != m->hdr.size - CCDMA_VU_CONFIG_HDR ||
	    c->offset > CCDMA_VU_CONFIG_MAX ||
	    c->size > CCDMA_VU_CONFIG_MAX - c->offset)
		return ds_conn_fail(d, "%s_CONFIG: offset %u size %u in %u bytes",
				    m->hdr.request == CCDMA_VU_GET_CONFIG ? "GET"
									 : "SET",
				    c->offset, c->size, m->hdr.size);
	return 0;
}

/* config-change (at a completion, vq.c): every field the driver sizes
 * requests by, at once, to other values that are consistent among
 * themselves.  The disk itself keeps its geometry. */
void ds_vu_config_change(struct ds_dev *d)
{
	uint8_t *c = d->config;

	ccdma_put_le64(c + CCDMA_VBLK_CFG_CAPACITY,
		       ccdma_get_le64(c + CCDMA_VBLK_CFG_CAPACITY) / 2);
	ccdma_put_le32(c + CCDMA_VBLK_CFG_BLK_SIZE, 4096);
	ccdma_put_le32(c + CCDMA_VBLK_CFG_SEG_MAX, 1);
	ccdma_put_le32(c + CCDMA_VBLK_CFG_SIZE_MAX, 4096);
	ccdma_put_le16(c + CCDMA_VBLK_CFG_NUM_QUEUES, 2);
}

/* The config-space modes: absurd or contradictory values from the first
 * GET_CONFIG on. */
static void mb_config(struct ds_dev *d)
{
	uint8_t *c = d->config;

	if (ds_mb(d, DS_MB_CAPACITY_0, "capacity 0"))
		ccdma_put_le64(c + CCDMA_VBLK_CFG_CAPACITY, 0);
	if (ds_mb(d, DS_MB_CAPACITY_HUGE, "capacity 2^63 sectors"))
		ccdma_put_le64(c + CCDMA_VBLK_CFG_CAPACITY, 1ull << 63);
	if (ds_mb(d, DS_MB_BLK_SIZE_0, "blk_size 0"))
		ccdma_put_le32(c + CCDMA_VBLK_CFG_BLK_SIZE, 0);
	if (ds_mb(d, DS_MB_BLK_SIZE_ODD, "blk_size 1000 (not a power of two)"))
		ccdma_put_le32(c + CCDMA_VBLK_CFG_BLK_SIZE, 1000);
	if (ds_mb(d, DS_MB_SEG_MAX_0, "seg_max 0"))
		ccdma_put_le32(c + CCDMA_VBLK_CFG_SEG_MAX, 0);
	if (ds_mb(d, DS_MB_SIZE_MAX_0, "size_max 0"))
		ccdma_put_le32(c + CCDMA_VBLK_CFG_SIZE_MAX, 0);
	if (ds_mb(d, DS_MB_NUM_QUEUES_0, "num_queues 0"))
		ccdma_put_le16(c + CCDMA_VBLK_CFG_NUM_QUEUES, 0);
	if (ds_mb(d, DS_MB_NUM_QUEUES_HUGE, "num_queues 65535"))
		ccdma_put_le16(c + CCDMA_VBLK_CFG_NUM_QUEUES, 65535);
	if (ds_mb(d, DS_MB_CFG_MIX, "blk_size 4096 with one 512-byte segment")) {
		/* Each field valid alone (what a field-by-field read of a
		 * changing config could take), not together. */
		ccdma_put_le32(c + CCDMA_VBLK_CFG_BLK_SIZE, 4096);
		ccdma_put_le32(c + CCDMA_VBLK_CFG_SEG_MAX, 1);
		ccdma_put_le32(c + CCDMA_VBLK_CFG_SIZE_MAX, 512);
	}
}

static int h_get_config(struct ds_dev *d, struct vu_msg *m)
{
	struct ccdma_vu_config c;
	uint32_t i;

	if (vu_config_window(d, m, &c))
		return -EPROTO;
	if (d->opt.misbehave)
		mb_config(d);
	/* Bytes past the virtio-blk config read as zero. */
	for (i = 0; i < c.size; i++)
		c.payload[i] = c.offset + i < sizeof(d->config)
				       ? d->config[c.offset + i] : 0;
	return vu_send(d, m, &c, CCDMA_VU_CONFIG_HDR + c.size);
}

static int h_set_config(struct ds_dev *d, struct vu_msg *m)
{
	struct ccdma_vu_config c;

	if (vu_config_window(d, m, &c))
		return -EPROTO;
	ds_info(d, "SET_CONFIG offset %u size %u refused: config is read-only",
		c.offset, c.size);
	return -ENOTSUP;
}

#define U64 sizeof(uint64_t)
#define STATE sizeof(struct ccdma_vu_vring_state)
#define MEMREG sizeof(struct ccdma_vu_mem_reg)

static const struct vu_spec vu_table[] = {
	[CCDMA_VU_GET_FEATURES] = { "GET_FEATURES", 0, 0, 0, 0, true, false,
				    h_get_features },
	[CCDMA_VU_SET_FEATURES] = { "SET_FEATURES", U64, U64, 0, 0, false, false,
				    h_set_features },
	[CCDMA_VU_SET_OWNER] = { "SET_OWNER", 0, 0, 0, 0, false, false,
				 h_set_owner },
	[CCDMA_VU_RESET_OWNER] = { "RESET_OWNER", 0, 0, 0, 0, false, false,
				   h_reset_owner },
	[CCDMA_VU_SET_MEM_TABLE] = { "SET_MEM_TABLE", 8,
				     8 + CCDMA_VU_MAX_TABLE_REGIONS *
					     sizeof(struct ccdma_vu_region),
				     0, CCDMA_VU_MAX_TABLE_REGIONS, false, false,
				     h_set_mem_table },
	[CCDMA_VU_SET_VRING_NUM] = { "SET_VRING_NUM", STATE, STATE, 0, 0, false,
				     false, h_set_vring_num },
	[CCDMA_VU_SET_VRING_ADDR] = { "SET_VRING_ADDR",
				      sizeof(struct ccdma_vu_vring_addr),
				      sizeof(struct ccdma_vu_vring_addr), 0, 0,
				      false, false, h_set_vring_addr },
	[CCDMA_VU_SET_VRING_BASE] = { "SET_VRING_BASE", STATE, STATE, 0, 0,
				      false, false, h_set_vring_base },
	[CCDMA_VU_GET_VRING_BASE] = { "GET_VRING_BASE", STATE, STATE, 0, 0, true,
				      false, h_get_vring_base },
	[CCDMA_VU_SET_VRING_KICK] = { "SET_VRING_KICK", U64, U64, 0, 1, false,
				      false, h_set_vring_kick },
	[CCDMA_VU_SET_VRING_CALL] = { "SET_VRING_CALL", U64, U64, 0, 1, false,
				      false, h_set_vring_call },
	[CCDMA_VU_SET_VRING_ERR] = { "SET_VRING_ERR", U64, U64, 0, 1, false,
				     false, h_set_vring_err },
	[CCDMA_VU_GET_PROTOCOL_FEATURES] = { "GET_PROTOCOL_FEATURES", 0, 0, 0, 0,
					     true, false,
					     h_get_protocol_features },
	[CCDMA_VU_SET_PROTOCOL_FEATURES] = { "SET_PROTOCOL_FEATURES", U64, U64, 0,
					     0, false, false,
					     h_set_protocol_features },
	[CCDMA_VU_GET_QUEUE_NUM] = { "GET_QUEUE_NUM", 0, 0, 0, 0, true, false,
				     h_get_queue_num },
	[CCDMA_VU_SET_VRING_ENABLE] = { "SET_VRING_ENABLE", STATE, STATE, 0, 0,
					false, false, h_set_vring_enable },
	[CCDMA_VU_GET_CONFIG] = { "GET_CONFIG", CCDMA_VU_CONFIG_HDR,
				  CCDMA_VU_CONFIG_HDR + CCDMA_VU_CONFIG_MAX, 0, 0,
				  true, false, h_get_config },
	[CCDMA_VU_SET_CONFIG] = { "SET_CONFIG", CCDMA_VU_CONFIG_HDR,
				  CCDMA_VU_CONFIG_HDR + CCDMA_VU_CONFIG_MAX, 0, 0,
				  false, true, h_set_config },
	[CCDMA_VU_GET_MAX_MEM_SLOTS] = { "GET_MAX_MEM_SLOTS", 0, 0, 0, 0, true,
					 false, h_get_max_mem_slots },
	[CCDMA_VU_ADD_MEM_REG] = { "ADD_MEM_REG", MEMREG, MEMREG, 1, 1, false,
				   false, h_add_mem_reg },
	[CCDMA_VU_REM_MEM_REG] = { "REM_MEM_REG", MEMREG, MEMREG, 0, 1, false,
				   false, h_rem_mem_reg },
};

static void close_fds(struct vu_msg *m)
{
	unsigned i;

	for (i = 0; i < m->nfds; i++)
		if (m->fds[i] >= 0)
			close(m->fds[i]);
	m->nfds = 0;
}

/* Read exactly len bytes (the socket has a receive timeout, so a peer
 * that stops mid-message cannot hang the device). */
static int read_full(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t r = recv(fd, p, len, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r == 0 ? -EPIPE : -errno;
		p += r;
		len -= (size_t)r;
	}
	return 0;
}

/* Receive the header and its fds.  1: a message; 0: orderly EOF; <0 error
 * (connection already marked broken). */
static int vu_recv(struct ds_dev *d, struct vu_msg *m)
{
	union {
		char buf[CMSG_SPACE(CCDMA_VU_MAX_FDS * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = &m->hdr, .iov_len = sizeof(m->hdr) };
	struct msghdr mh = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = ctl.buf,
		.msg_controllen = sizeof(ctl.buf),
	};
	struct cmsghdr *c;
	ssize_t r;

	m->nfds = 0;
	do
		r = recvmsg(d->conn.fd, &mh, MSG_CMSG_CLOEXEC);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		return 0;
	if (r < 0)
		return ds_conn_fail(d, "recvmsg: %s", strerror(errno));
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		size_t n;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		if (n > CCDMA_VU_MAX_FDS - m->nfds)
			n = CCDMA_VU_MAX_FDS - m->nfds;
		memcpy(&m->fds[m->nfds], CMSG_DATA(c), n * sizeof(int));
		m->nfds += (unsigned)n;
	}
	if (mh.msg_flags & MSG_CTRUNC) {
		close_fds(m);
		return ds_conn_fail(d, "more than %u file descriptors in one "
				    "message", CCDMA_VU_MAX_FDS);
	}
	if ((size_t)r < sizeof(m->hdr) &&
	    read_full(d->conn.fd, (uint8_t *)&m->hdr + r,
		      sizeof(m->hdr) - (size_t)r)) {
		close_fds(m);
		return ds_conn_fail(d, "truncated message header");
	}
	return 1;
}

void ds_vu_handle(struct ds_dev *d)
{
	const struct vu_spec *s = NULL;
	bool hdr_ok = false;
	struct vu_msg m;
	int r, ret;

	r = vu_recv(d, &m);
	if (r <= 0) {
		if (r == 0)
			d->conn.broken = true; /* orderly close */
		return;
	}
	d->conn.active = true;
	if (m.hdr.request < sizeof(vu_table) / sizeof(vu_table[0]))
		s = &vu_table[m.hdr.request];
	if (!s || !s->fn) {
		ds_conn_fail(d, "unknown request %u (size %u)", m.hdr.request,
			     m.hdr.size);
		goto out;
	}
	if ((m.hdr.flags & CCDMA_VU_VERSION_MASK) != CCDMA_VU_VERSION ||
	    (m.hdr.flags & CCDMA_VU_FLAG_REPLY)) {
		ds_conn_fail(d, "%s: flags %#x", s->name, m.hdr.flags);
		goto out;
	}
	if (m.hdr.size < s->size_min || m.hdr.size > s->size_max) {
		ds_conn_fail(d, "%s: payload of %u bytes, expected %u..%u",
			     s->name, m.hdr.size, s->size_min, s->size_max);
		goto out;
	}
	if (m.nfds < s->fds_min || m.nfds > s->fds_max) {
		ds_conn_fail(d, "%s: %u file descriptors, expected %u..%u",
			     s->name, m.nfds, s->fds_min, s->fds_max);
		goto out;
	}
	if (m.hdr.size && read_full(d->conn.fd, m.p.raw, m.hdr.size)) {
		ds_conn_fail(d, "%s: truncated payload", s->name);
		goto out;
	}
	hdr_ok = true;
	if (d->conn.stalled)
		goto out; /* stall: read, then nothing */
	ret = s->fn(d, &m);
	if (d->conn.broken)
		goto out;
	if (!s->has_reply && (m.hdr.flags & CCDMA_VU_FLAG_NEED_REPLY) &&
	    (d->conn.protocol_features & (1ull << CCDMA_VU_PF_REPLY_ACK))) {
		if (!ret && ds_mb(d, DS_MB_VU_ACK_FAIL, "REPLY_ACK reports a failure"))
			ret = -EIO;
		if (vu_reply_u64(d, &m, ret ? 1 : 0))
			goto out;
		if (ret)
			ds_err("%s refused (told the front-end): %s", s->name,
			       strerror(-ret));
	} else if (ret && !s->soft) {
		ds_conn_fail(d, "%s failed: %s", s->name, strerror(-ret));
	}
out:
	/* A front-end waiting for an ack gets a refusal before the close. */
	if (d->conn.broken && hdr_ok && !s->has_reply &&
	    (m.hdr.flags & CCDMA_VU_FLAG_NEED_REPLY) &&
	    (d->conn.protocol_features & (1ull << CCDMA_VU_PF_REPLY_ACK))) {
		uint64_t one = 1;
		bool was = d->conn.broken;

		vu_send(d, &m, &one, sizeof(one));
		d->conn.broken = was;
	}
	close_fds(&m);
}

void ds_conn_close(struct ds_dev *d)
{
	struct ds_conn *c = &d->conn;
	unsigned i;

	if (c->fd < 0)
		return;
	for (i = 0; i < DS_MAX_QUEUES; i++)
		ds_vq_reset(d, &c->vq[i]);
	ds_mem_clear(&c->mem);
	epoll_ctl(d->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	ds_info(d, "connection closed");
}
