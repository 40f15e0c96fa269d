/* SPDX-License-Identifier: MIT */
/*
 * virtio-net driver over a virtio transport (ccdma/virtio_net.h).
 *
 * Queue 0 receives, queue 1 transmits; each has a lock and a split
 * virtqueue (virtqueue.h).
 *
 * Receive: receive buffers (rx_buf_size bytes each) are coherent memory:
 * buffer b < queue_size is the receive ring's scratch area b, the others
 * are the spares (config rx_spare_buffers).  A free buffer is posted under
 * whatever head the ring gives next (rx_buf_of records which), so the
 * device writes only there.  A frame is taken in two steps: its first
 * used entry is validated and its header copied into private memory
 * (num_buffers read once); the rest of its entries are gathered as the
 * device publishes them (a frame may be published in pieces), and only
 * then is it copied out, once, into the caller's buffer, and its buffers
 * are free again; or (ccdma_vnet_recv_zc) lent to the caller in place
 * until ccdma_vnet_recv_release(), while the ring is refilled from the
 * free ones.
 *
 * Transmit: per head, 16 bytes of scratch hold the (zero) header; the
 * frame is a streaming mapping (the bounce in confidential mode).  A
 * private record per head keeps the mapping and the cookie; finished
 * heads' cookies go through a private FIFO to ccdma_vnet_tx_complete().
 */
#include <ccdma/virtio_net.h>

#include "virtio/virtqueue.h"
#include "platform/trace.h"

#define VNET_DEFAULT_QSIZE 256u
#define VNET_DEFAULT_FRAME 1514u
#define TX_SCRATCH 16u
/* Control queue (5.1.6.5): VIRTIO_NET_CTRL_MQ, VQ_PAIRS_SET. */
#define VNET_CTRL_MQ 4u
#define VNET_CTRL_MQ_VQ_PAIRS_SET 0u
#define VNET_OK 0u
#define VNET_ERR 1u
#define CTRL_SCRATCH 16u    /* class, command, 2 data bytes; ack at 8 */
#define CTRL_ACK_OFF 8u
#define CTRL_TIMEOUT_NS 5000000000ull

/* virtio_net_hdr (5.1.6), VERSION_1 layout. */
struct vnet_hdr {
	uint8_t flags;
	uint8_t gso_type;
	ccdma_le16_t hdr_len;
	ccdma_le16_t gso_size;
	ccdma_le16_t csum_start;
	ccdma_le16_t csum_offset;
	ccdma_le16_t num_buffers;
};
#define VNET_HDR_F_NEEDS_CSUM 1u

/* Config space (5.1.4). */
#define VNET_CFG_MAC 0u
#define VNET_CFG_STATUS 6u
#define VNET_CFG_MAX_PAIRS 8u
#define VNET_CFG_LEN 8u
#define VNET_CFG_LEN_MQ 10u
/* The most queue pairs the spec allows (max_virtqueue_pairs). */
#define VNET_MAX_PAIRS 0x8000u
#define VNET_S_LINK_UP 1u

struct vnet_tx {
	ccdma_addr_t dma;
	uint32_t len;
	void *user;
};

/* One frame being gathered from the receive ring. */
struct vnet_rx_frame {
	unsigned want;           /* num_buffers; 0: no frame started */
	unsigned got;
	uint32_t bytes;          /* frame bytes so far (headers excluded) */
	uint32_t *bufs;          /* want receive buffers */
	uint32_t *lens;
};

/* One queue pair.  The one ccdma_vnet_create() returns (pair 0) also
 * owns the device's state: the broken flag, the other pairs and the
 * control queue; t, dev and info are the same in every pair. */
struct ccdma_vnet {
	struct ccdma_virtio_transport t;
	struct ccdma_dev *dev;
	struct ccdma_vnet_info info;
	unsigned broken;         /* atomic; pair 0's counts */
	unsigned *brokenp;       /* &pair 0's broken */
	struct ccdma_vnet **pair; /* info.queue_pairs, shared */
	struct ccdma_vq *ctrlq;  /* pair 0, MQ only */

	_Alignas(64) ccdma_mutex_t rx_lock;
	struct ccdma_vq *rxq;
	struct vnet_rx_frame fr;
	struct ccdma_vnet_stats rx_st;
	uint8_t *spare;          /* the spares' coherent memory */
	ccdma_addr_t spare_dma;
	uint32_t *rx_buf_of;     /* by head: the buffer posted under it */
	uint32_t *rx_free;       /* stack of free buffers */
	unsigned rx_nfree;
	uint8_t *rx_lent;        /* by buffer: lent by ccdma_vnet_recv_zc */

	_Alignas(64) ccdma_mutex_t tx_lock;
	struct ccdma_vq *txq;
	struct vnet_tx *tx;      /* by head id */
	void **done;             /* FIFO of finished cookies, queue_size */
	unsigned done_head, done_n;
	struct ccdma_vnet_stats tx_st;
	bool locks_ok;
};

void ccdma_vnet_config_init(struct ccdma_vnet_config *cfg)
{
	if (cfg)
		ccdma_memset(cfg, 0, sizeof(*cfg));
}

static inline bool has(uint64_t f, unsigned bit)
{
	return f & (1ull << bit);
}

static inline bool is_broken(struct ccdma_vnet *n)
{
	return __atomic_load_n(n->brokenp, __ATOMIC_ACQUIRE);
}

static void vnet_break(struct ccdma_vnet *n, const char *why)
{
	if (__atomic_exchange_n(n->brokenp, 1u, __ATOMIC_ACQ_REL))
		return;
	ccdma_err("virtio-net: %s: device marked broken", why);
	CCDMA_TRACE3(device_broken, "virtio-net", why, 0);
	n->t.ops->fail(n->t.ctx, why);
}

/* ---- receive ------------------------------------------------------------ */

/* Receive buffers: the ring's (queue_size) and the spares. */
static inline unsigned nbufs(const struct ccdma_vnet *n)
{
	return n->info.queue_size + n->info.rx_spare_buffers;
}

/* Receive buffer b: its CPU address and (dma) its DMA address. */
static uint8_t *rx_buf(struct ccdma_vnet *n, uint32_t b, ccdma_addr_t *dma)
{
	size_t off;

	if (b < n->info.queue_size)
		return ccdma_vq_scratch(n->rxq, b, dma);
	off = (size_t)(b - n->info.queue_size) * n->info.rx_buf_size;
	*dma = n->spare_dma + off;
	return n->spare + off;
}

/* Post a free receive buffer under the next head (rx lock held, room in
 * the ring checked).  Its header's num_buffers is cleared first: a
 * completion the device did not write (a used entry repeated after the
 * head was posted again, or naming a head it never filled) then shows as
 * num_buffers 0 and is refused, instead of handing the buffer's old frame
 * out a second time. */
static void rx_post_one(struct ccdma_vnet *n)
{
	struct ccdma_vq *vq = n->rxq;
	struct ccdma_vq_buf b;
	uint32_t id = n->rx_free[--n->rx_nfree];
	struct vnet_hdr *h = (struct vnet_hdr *)rx_buf(n, id, &b.addr);

	h->num_buffers = ccdma_cpu_to_le16(0);
	b.len = n->info.rx_buf_size;
	b.write = true;
	n->rx_buf_of[ccdma_vq_add(vq, &b, 1)] = id;
}

static void kick(struct ccdma_vnet *n, struct ccdma_vq *vq,
		 struct ccdma_vnet_stats *st)
{
	if (!ccdma_vq_publish(vq))
		return;
	st->kicks++;
	if (n->t.ops->notify(n->t.ctx, vq->index))
		vnet_break(n, "kick failed");
}

/* Post free receive buffers while the ring has room.  (The buffers of a
 * half-gathered frame are not free: they are still to be copied.) */
static void rx_refill(struct ccdma_vnet *n)
{
	while (n->rxq->num_free && n->rx_nfree)
		rx_post_one(n);
	kick(n, n->rxq, &n->rx_st);
}

/* Take the next used receive entry, validated (length within what was
 * posted): *b the buffer it names.  1, 0 (none), or -EIO (broken,
 * logged). */
static int rx_take(struct ccdma_vnet *n, uint32_t *b, uint32_t *len)
{
	const char *why = NULL;
	bool clamped;
	unsigned h;
	int rc = ccdma_vq_get_used(n->rxq, &h, len, &clamped, &why);

	if (rc < 0) {
		vnet_break(n, why);
		return -EIO;
	}
	if (rc && clamped) {
		vnet_break(n, "receive used length beyond the buffer posted");
		return -EIO;
	}
	if (rc) {
		n->rx_st.rx_buffers++;
		*b = n->rx_buf_of[h];
	}
	return rc;
}

/* Start a frame at its first entry: the header, copied once into private
 * memory, and checked.  0 or -EIO (broken). */
static int rx_start(struct ccdma_vnet *n, uint32_t b, uint32_t len)
{
	struct vnet_rx_frame *f = &n->fr;
	struct vnet_hdr hdr;
	ccdma_addr_t dma;
	unsigned nb, posted = n->rxq->inflight + 1;

	if (len < CCDMA_VNET_HDR_LEN) {
		vnet_break(n, "receive used length shorter than the header");
		return -EIO;
	}
	ccdma_memcpy(&hdr, rx_buf(n, b, &dma), sizeof(hdr));
	nb = ccdma_le16_to_cpu(hdr.num_buffers);
	if (!n->info.mrg_rxbuf ? nb != 1 : (nb < 1 || nb > posted)) {
		vnet_break(n, "receive header num_buffers beyond the buffers "
			   "posted");
		return -EIO;
	}
	if ((hdr.flags & VNET_HDR_F_NEEDS_CSUM) || hdr.gso_type) {
		vnet_break(n, "receive header asks for an offload not "
			   "negotiated");
		return -EIO;
	}
	f->want = nb;
	f->got = 1;
	f->bufs[0] = b;
	f->lens[0] = len;
	f->bytes = len - CCDMA_VNET_HDR_LEN;
	return 0;
}

/* Forget the gathered frame; its buffers are free again unless lent. */
static void rx_forget(struct ccdma_vnet *n, bool lent)
{
	struct vnet_rx_frame *f = &n->fr;

	for (unsigned i = 0; i < f->got; i++) {
		if (lent)
			n->rx_lent[f->bufs[i]] = 1;
		else
			n->rx_free[n->rx_nfree++] = f->bufs[i];
	}
	if (lent)
		n->rx_st.rx_lent += f->got;
	f->want = f->got = 0;
	f->bytes = 0;
}

/* Copy the gathered frame out into p (or drop it), then forget it. */
static void rx_deliver(struct ccdma_vnet *n, struct ccdma_vnet_pkt *p,
		       bool *delivered)
{
	struct vnet_rx_frame *f = &n->fr;
	uint32_t at = 0, cap = p->cap;
	unsigned i;

	*delivered = false;
	if (f->bytes > n->info.max_frame) {
		n->rx_st.rx_oversize++;
	} else {
		for (i = 0; i < f->got; i++) {
			ccdma_addr_t dma;
			const uint8_t *src = rx_buf(n, f->bufs[i], &dma);
			uint32_t l = f->lens[i];

			if (i == 0) {
				src += CCDMA_VNET_HDR_LEN;
				l -= CCDMA_VNET_HDR_LEN;
			}
			if (at < cap)
				ccdma_memcpy((uint8_t *)p->buf + at, src,
					     l < cap - at ? l : cap - at);
			at += l;
		}
		p->len = f->bytes;
		p->status = f->bytes > cap ? -EMSGSIZE : 0;
		if (p->status)
			n->rx_st.rx_truncated++;
		n->rx_st.rx_packets++;
		n->rx_st.rx_bytes += f->bytes;
		*delivered = true;
	}
	rx_forget(n, false);
}

/* Gather the next whole frame.  1 (in n->fr), 0 (none whole yet), -EIO. */
static int rx_gather(struct ccdma_vnet *n)
{
	struct vnet_rx_frame *f = &n->fr;
	uint32_t b, len;
	int rc;

	if (!f->want) {
		rc = rx_take(n, &b, &len);
		if (rc <= 0)
			return rc;
		if (rx_start(n, b, len))
			return -EIO;
	}
	while (f->got < f->want) {
		rc = rx_take(n, &b, &len);
		if (rc <= 0)
			return rc;
		f->bufs[f->got] = b;
		f->lens[f->got++] = len;
		f->bytes += len;
	}
	return 1;
}

static void rx_lend(struct ccdma_vnet *n, struct ccdma_vnet_zc *z,
		    bool *delivered);

/* Take up to count whole frames: copied into pkts, or (pkts NULL) lent
 * into zc; then refill.  The count, or -ENODEV. */
static int rx_frames(struct ccdma_vnet *n, unsigned count,
		     struct ccdma_vnet_pkt *pkts, struct ccdma_vnet_zc *zc)
{
	unsigned got = 0;
	int rc;

	ccdma_mutex_lock(&n->rx_lock);
	while (got < count && !is_broken(n)) {
		bool delivered;

		if (rx_gather(n) <= 0)
			break;
		if (pkts)
			rx_deliver(n, &pkts[got], &delivered);
		else
			rx_lend(n, &zc[got], &delivered);
		if (delivered)
			got++;
	}
	if (!is_broken(n))
		rx_refill(n);
	rc = is_broken(n) ? -ENODEV : (int)got;
	ccdma_mutex_unlock(&n->rx_lock);
	return rc;
}

int ccdma_vnet_recv(struct ccdma_vnet *n, struct ccdma_vnet_pkt *pkts,
		    unsigned count)
{
	unsigned i;

	if (!n || !pkts)
		return -EINVAL;
	for (i = 0; i < count; i++)
		if (!pkts[i].buf && pkts[i].cap)
			return -EINVAL;
	return rx_frames(n, count, pkts, NULL);
}

/* Lend the gathered frame to the caller in place (or drop it). */
static void rx_lend(struct ccdma_vnet *n, struct ccdma_vnet_zc *z,
		    bool *delivered)
{
	struct vnet_rx_frame *f = &n->fr;

	*delivered = false;
	if (f->bytes > n->info.max_frame || f->got > CCDMA_VNET_ZC_SEGS) {
		n->rx_st.rx_oversize++;
		rx_forget(n, false);
		return;
	}
	for (unsigned i = 0; i < f->got; i++) {
		ccdma_addr_t dma;
		const uint8_t *p = rx_buf(n, f->bufs[i], &dma);
		uint32_t l = f->lens[i];

		if (i == 0) {
			p += CCDMA_VNET_HDR_LEN;
			l -= CCDMA_VNET_HDR_LEN;
		}
		z->seg[i].buf = p;
		z->seg[i].len = l;
		z->buf_id[i] = f->bufs[i];
	}
	z->nseg = f->got;
	z->len = f->bytes;
	n->rx_st.rx_packets++;
	n->rx_st.rx_bytes += f->bytes;
	n->rx_st.rx_zero_copy++;
	*delivered = true;
	rx_forget(n, true);
}

int ccdma_vnet_recv_zc(struct ccdma_vnet *n, struct ccdma_vnet_zc *frames,
		       unsigned count)
{
	if (!n || !frames)
		return -EINVAL;
	return rx_frames(n, count, NULL, frames);
}

/* Every buffer of the frames lent and named once: 0, or -EINVAL (logged).
 * The lent flags are left as they were. */
static int zc_check(struct ccdma_vnet *n, const struct ccdma_vnet_zc *z,
		    unsigned count)
{
	unsigned i, k, bad = 0;

	for (i = 0; i < count && !bad; i++) {
		if (!z[i].nseg || z[i].nseg > CCDMA_VNET_ZC_SEGS) {
			ccdma_err("virtio-net: release: frame %u has %u segments "
				  "(a lent frame has 1..%u)", i, z[i].nseg,
				  CCDMA_VNET_ZC_SEGS);
			/* The frames before it are marked: undo below. */
			bad = 1;
			break;
		}
		for (k = 0; k < z[i].nseg; k++) {
			uint32_t b = z[i].buf_id[k];

			if (b >= nbufs(n) || n->rx_lent[b] != 1) {
				ccdma_err("virtio-net: release: frame %u names "
					  "buffer %u, which is not lent (released "
					  "twice, or not from recv_zc)", i, b);
				bad = 1;
				break;
			}
			n->rx_lent[b] = 2;    /* seen in this call */
		}
	}
	/* Undo the marks. */
	for (unsigned j = 0; j < i; j++)
		for (k = 0; k < z[j].nseg && k < CCDMA_VNET_ZC_SEGS; k++) {
			uint32_t b = z[j].buf_id[k];

			if (b < nbufs(n) && n->rx_lent[b] == 2)
				n->rx_lent[b] = 1;
		}
	return bad ? -EINVAL : 0;
}

int ccdma_vnet_recv_release(struct ccdma_vnet *n,
			    const struct ccdma_vnet_zc *frames, unsigned count)
{
	int rc;

	if (!n || !frames)
		return -EINVAL;
	ccdma_mutex_lock(&n->rx_lock);
	rc = zc_check(n, frames, count);
	for (unsigned i = 0; !rc && i < count; i++)
		for (unsigned k = 0; k < frames[i].nseg; k++) {
			uint32_t b = frames[i].buf_id[k];

			n->rx_lent[b] = 0;
			n->rx_free[n->rx_nfree++] = b;
			n->rx_st.rx_lent--;
		}
	if (!rc && !is_broken(n))
		rx_refill(n);
	ccdma_mutex_unlock(&n->rx_lock);
	return rc;
}

/* ---- transmit ----------------------------------------------------------- */

static void done_push(struct ccdma_vnet *n, void *user)
{
	unsigned num = n->info.queue_size;

	n->done[(n->done_head + n->done_n) & (num - 1)] = user;
	n->done_n++;
}

static void tx_finish(struct ccdma_vnet *n, unsigned h)
{
	struct vnet_tx *x = &n->tx[h];

	ccdma_unmap_single(n->dev, x->dma, x->len, CCDMA_TO_DEVICE);
	done_push(n, x->user);
	x->len = 0;
}

static void tx_drain_one(void *arg, unsigned h)
{
	struct ccdma_vnet *n = arg;

	tx_finish(n, h);
	n->tx_st.tx_dropped++;
}

/* Take what the device finished (tx lock held).  After a break, every
 * frame still in flight is given back. */
static void tx_reap(struct ccdma_vnet *n)
{
	const char *why = NULL;
	unsigned h;
	uint32_t len;
	bool clamped;
	int rc;

	if (!is_broken(n)) {
		while ((rc = ccdma_vq_get_used(n->txq, &h, &len, &clamped,
					       &why)) > 0) {
			if (len || clamped)
				n->tx_st.tx_len_ignored++;
			tx_finish(n, h);
			n->tx_st.tx_completed++;
		}
		if (rc < 0)
			vnet_break(n, why);
	}
	if (is_broken(n) && n->txq->inflight)
		ccdma_vq_drain(n->txq, tx_drain_one, n);
}

static int check_frame(struct ccdma_vnet *n, const struct ccdma_vnet_pkt *p)
{
	if (!p->buf || p->len < CCDMA_VNET_MIN_FRAME) {
		ccdma_err("virtio-net: send: frame of %u bytes%s (at least %u)",
			  p->len, p->buf ? "" : " at NULL", CCDMA_VNET_MIN_FRAME);
		return -EINVAL;
	}
	if (p->len > n->info.max_frame) {
		ccdma_err("virtio-net: send: frame of %u bytes is longer than "
			  "max_frame %u", p->len, n->info.max_frame);
		return -EMSGSIZE;
	}
	return 0;
}

static int tx_post(struct ccdma_vnet *n, const struct ccdma_vnet_pkt *p)
{
	struct ccdma_vq *vq = n->txq;
	struct ccdma_vq_buf b[2];
	unsigned h = ccdma_vq_next_head(vq);
	ccdma_addr_t dma;
	int rc;

	if (vq->num_free < ccdma_vq_descs_for(vq, 2))
		return -EAGAIN;
	dma = ccdma_map_single(n->dev, p->buf, p->len, CCDMA_TO_DEVICE);
	rc = ccdma_mapping_error(n->dev, dma);
	if (rc)
		return rc;
	/* The header scratch is all zero from create on: nothing to write. */
	(void)ccdma_vq_scratch(vq, h, &b[0].addr);
	b[0].len = CCDMA_VNET_HDR_LEN;
	b[0].write = false;
	b[1] = (struct ccdma_vq_buf){ dma, p->len, false };
	ccdma_vq_add(vq, b, 2);
	n->tx[h] = (struct vnet_tx){ dma, p->len, p->user };
	n->tx_st.tx_packets++;
	n->tx_st.tx_bytes += p->len;
	return 0;
}

int ccdma_vnet_send(struct ccdma_vnet *n, const struct ccdma_vnet_pkt *pkts,
		    unsigned count)
{
	unsigned i;
	int rc = 0;

	if (!n || !pkts || !count)
		return -EINVAL;
	ccdma_mutex_lock(&n->tx_lock);
	if (!is_broken(n) && n->txq->num_free < 2)
		tx_reap(n);
	for (i = 0; i < count && !is_broken(n); i++) {
		rc = check_frame(n, &pkts[i]);
		if (!rc)
			rc = tx_post(n, &pkts[i]);
		if (rc)
			break;
	}
	if (i && !is_broken(n))
		kick(n, n->txq, &n->tx_st);
	if (is_broken(n)) {
		tx_reap(n);
		rc = -ENODEV;
	} else if (i) {
		rc = (int)i;
	}
	ccdma_mutex_unlock(&n->tx_lock);
	return rc;
}

int ccdma_vnet_tx_complete(struct ccdma_vnet *n, void **user, unsigned max)
{
	unsigned got = 0;
	int rc;

	if (!n || !user)
		return -EINVAL;
	ccdma_mutex_lock(&n->tx_lock);
	tx_reap(n);
	while (got < max && n->done_n) {
		user[got++] = n->done[n->done_head];
		n->done_head = (n->done_head + 1) & (n->info.queue_size - 1);
		n->done_n--;
	}
	rc = (!got && is_broken(n)) ? -ENODEV : (int)got;
	ccdma_mutex_unlock(&n->tx_lock);
	return rc;
}

/* ---- waiting ------------------------------------------------------------ */

static unsigned ready(struct ccdma_vnet *n, unsigned events)
{
	unsigned r = 0;

	if (events & CCDMA_VNET_EV_RX) {
		ccdma_mutex_lock(&n->rx_lock);
		/* A half-gathered frame is ready only when more of it
		 * (or anything) is in the ring. */
		if (ccdma_vq_more_used(n->rxq))
			r |= CCDMA_VNET_EV_RX;
		ccdma_mutex_unlock(&n->rx_lock);
	}
	if (events & CCDMA_VNET_EV_TX) {
		ccdma_mutex_lock(&n->tx_lock);
		if (ccdma_vq_more_used(n->txq) || n->done_n)
			r |= CCDMA_VNET_EV_TX;
		ccdma_mutex_unlock(&n->tx_lock);
	}
	return r;
}

/* Arm (or disarm) the receive (rx) or transmit queue's interrupt; true
 * when something is there already. */
static bool arm(struct ccdma_vnet *n, bool rx, bool on, bool signalled)
{
	ccdma_mutex_t *lk = rx ? &n->rx_lock : &n->tx_lock;
	struct ccdma_vq *vq = rx ? n->rxq : n->txq;
	bool more = false;

	ccdma_mutex_lock(lk);
	if (on) {
		more = ccdma_vq_arm(vq);
	} else {
		ccdma_vq_disarm(vq);
		if (signalled)
			(rx ? &n->rx_st : &n->tx_st)->interrupts++;
	}
	ccdma_mutex_unlock(lk);
	return more;
}

int ccdma_vnet_wait(struct ccdma_vnet *n, unsigned events, uint64_t timeout_ns)
{
	unsigned r;
	bool rx;
	int rc = 0;

	if (!n || !(events & (CCDMA_VNET_EV_RX | CCDMA_VNET_EV_TX)))
		return -EINVAL;
	if (is_broken(n))
		return -ENODEV;
	r = ready(n, events);
	if (r)
		return (int)r;
	rx = events & CCDMA_VNET_EV_RX;
	if (!arm(n, rx, true, false))
		rc = n->t.ops->wait(n->t.ctx, (rx ? n->rxq : n->txq)->index,
				    timeout_ns);
	arm(n, rx, false, rc == 0);
	if (rc == -ENODEV)
		vnet_break(n, "transport down");
	if (is_broken(n))
		return -ENODEV;
	r = ready(n, events);
	return r ? (int)r : -ETIMEDOUT;
}

/* ---- create / destroy --------------------------------------------------- */

/* MAC, status and (len VNET_CFG_LEN_MQ) max_virtqueue_pairs, when the
 * transport can read config space.  0 (read, or no config access: *ok
 * false), or the error. */
static int read_config(struct ccdma_vnet *n, uint8_t *cfg, uint32_t len,
		       bool *ok)
{
	int rc = n->t.ops->get_config(n->t.ctx, 0, cfg, len);

	*ok = rc == 0;
	if (rc == -EOPNOTSUPP || rc == -EIO) {
		ccdma_dbg("virtio-net: no config access (%d): MAC and STATUS "
			  "not accepted", rc);
		return 0;
	}
	if (rc)
		ccdma_err("virtio-net: reading config: error %d", rc);
	return rc;
}

static int check_config(const struct ccdma_vnet_config *cfg, unsigned *qsize,
			uint32_t *frame)
{
	*qsize = cfg->queue_size ? cfg->queue_size : VNET_DEFAULT_QSIZE;
	*frame = cfg->max_frame ? cfg->max_frame : VNET_DEFAULT_FRAME;
	if (*qsize < 4 || *qsize > CCDMA_VRING_MAX_NUM || (*qsize & (*qsize - 1))) {
		ccdma_err("virtio-net: queue size %u is not a power of two from "
			  "4 to %u", *qsize, CCDMA_VRING_MAX_NUM);
		return -EINVAL;
	}
	if (*frame < 64 || *frame > CCDMA_VNET_MAX_FRAME) {
		ccdma_err("virtio-net: max_frame %u (want 64..%u)", *frame,
			  CCDMA_VNET_MAX_FRAME);
		return -EINVAL;
	}
	if (cfg->rx_spare_buffers > CCDMA_VNET_MAX_SPARES) {
		ccdma_err("virtio-net: rx_spare_buffers %u (at most %u)",
			  cfg->rx_spare_buffers, CCDMA_VNET_MAX_SPARES);
		return -EINVAL;
	}
	if (cfg->queue_pairs > VNET_MAX_PAIRS) {
		ccdma_err("virtio-net: queue_pairs %u (at most %u)",
			  cfg->queue_pairs, VNET_MAX_PAIRS);
		return -EINVAL;
	}
	if (has(cfg->refuse_features, CCDMA_VIRTIO_F_VERSION_1)) {
		ccdma_err("virtio-net: VERSION_1 cannot be refused");
		return -EINVAL;
	}
	return 0;
}

/* Features: what is offered, wanted and not refused; MAC and STATUS only
 * with config access; MQ and CTRL_VQ only for more than one pair. */
static int negotiate(struct ccdma_vnet *n, const struct ccdma_vnet_config *cfg,
		     uint8_t conf[VNET_CFG_LEN_MQ], bool *conf_ok)
{
	const uint64_t mq = 1ull << CCDMA_VIRTIO_NET_F_MQ |
		1ull << CCDMA_VIRTIO_NET_F_CTRL_VQ;
	uint64_t wanted = 1ull << CCDMA_VIRTIO_F_VERSION_1 |
		1ull << CCDMA_VIRTIO_F_EVENT_IDX |
		1ull << CCDMA_VIRTIO_F_INDIRECT_DESC |
		1ull << CCDMA_VIRTIO_NET_F_MAC |
		1ull << CCDMA_VIRTIO_NET_F_STATUS |
		1ull << CCDMA_VIRTIO_NET_F_MRG_RXBUF;
	uint64_t f;
	int rc;

	n->info.offered = n->t.ops->device_features(n->t.ctx);
	if (!has(n->info.offered, CCDMA_VIRTIO_F_VERSION_1)) {
		ccdma_err("virtio-net: the device does not offer VERSION_1");
		return -ENOTSUP;
	}
	if (cfg->queue_pairs > 1) {
		if ((n->info.offered & ~cfg->refuse_features & mq) != mq) {
			ccdma_err("virtio-net: %u queue pairs asked, but the device "
				  "does not offer MQ with CTRL_VQ: it has one queue "
				  "pair", cfg->queue_pairs);
			return -ENOTSUP;
		}
		wanted |= mq;
	}
	rc = read_config(n, conf, cfg->queue_pairs > 1 ? VNET_CFG_LEN_MQ :
			 VNET_CFG_LEN, conf_ok);
	if (rc)
		return rc;
	f = n->info.offered & wanted & ~cfg->refuse_features;
	if (!*conf_ok)
		f &= ~(1ull << CCDMA_VIRTIO_NET_F_MAC |
		       1ull << CCDMA_VIRTIO_NET_F_STATUS);
	rc = n->t.ops->set_features(n->t.ctx, f);
	if (rc) {
		ccdma_err("virtio-net: setting features %#llx: error %d",
			  (unsigned long long)f, rc);
		return rc;
	}
	n->info.features = f;
	n->info.has_mac = has(f, CCDMA_VIRTIO_NET_F_MAC);
	if (n->info.has_mac)
		ccdma_memcpy(n->info.mac, conf + VNET_CFG_MAC, 6);
	n->info.link_up = !has(f, CCDMA_VIRTIO_NET_F_STATUS) ||
		(conf[VNET_CFG_STATUS] & VNET_S_LINK_UP);
	n->info.mrg_rxbuf = has(f, CCDMA_VIRTIO_NET_F_MRG_RXBUF);
	n->info.event_idx = has(f, CCDMA_VIRTIO_F_EVENT_IDX);
	n->info.indirect = has(f, CCDMA_VIRTIO_F_INDIRECT_DESC);
	return 0;
}

/* Queue pairs: the device's max_virtqueue_pairs (config space, or without
 * config access what the transport carries), checked, and the number
 * asked for.  0 or -ENOTSUP (logged). */
static int queue_pairs(struct ccdma_vnet *n, const struct ccdma_vnet_config *cfg,
		       const uint8_t conf[VNET_CFG_LEN_MQ], bool conf_ok)
{
	unsigned queues = n->t.ops->max_queues(n->t.ctx), max;

	n->info.queue_pairs = cfg->queue_pairs ? cfg->queue_pairs : 1;
	n->info.max_queue_pairs = 1;
	if (!has(n->info.features, CCDMA_VIRTIO_NET_F_MQ))
		return 0;
	max = conf_ok ? (unsigned)conf[VNET_CFG_MAX_PAIRS] |
			(unsigned)conf[VNET_CFG_MAX_PAIRS + 1] << 8
		      : queues / 2;
	/* The control queue is queue 2 * max_virtqueue_pairs. */
	if (max < 1 || max > VNET_MAX_PAIRS || 2 * max + 1 > queues) {
		ccdma_err("virtio-net: the device's max_virtqueue_pairs %u is "
			  "unusable (want 1..%u, and its control queue %u within "
			  "the %u queues the transport has)", max, VNET_MAX_PAIRS,
			  2 * max, queues);
		return -ENOTSUP;
	}
	n->info.max_queue_pairs = max;
	if (n->info.queue_pairs > max) {
		ccdma_err("virtio-net: %u queue pairs asked, the device has %u",
			  n->info.queue_pairs, max);
		return -ENOTSUP;
	}
	return 0;
}

static int queue_size(struct ccdma_vnet *n, unsigned *qsize)
{
	unsigned q, nq = 2 * n->info.queue_pairs;

	if (n->t.ops->max_queues(n->t.ctx) < 2) {
		ccdma_err("virtio-net: the device has fewer than two queues");
		return -ENOTSUP;
	}
	for (q = 0; q < nq; q++) {
		unsigned m = n->t.ops->max_queue_size(n->t.ctx, q);

		if (m < 4 || m > CCDMA_VRING_MAX_NUM || (m & (m - 1))) {
			ccdma_err("virtio-net: queue %u: the device's largest "
				  "size %u is not a power of two from 4", q, m);
			return -ENOTSUP;
		}
		if (*qsize > m)
			*qsize = m;
	}
	return 0;
}

static int start_queue(struct ccdma_vnet *n, struct ccdma_vq *vq)
{
	struct ccdma_vq_layout l;
	int rc;

	ccdma_vq_layout(vq, &l);
	rc = n->t.ops->queue_start(n->t.ctx, vq->index, &l);
	if (rc)
		ccdma_err("virtio-net: starting queue %u: error %d", vq->index,
			  rc);
	return rc;
}

/* Queue pair `pair`: its receive (2 * pair) and transmit queues. */
static int make_queues(struct ccdma_vnet *n, unsigned pair)
{
	unsigned num = n->info.queue_size;
	int rc;

	n->tx = ccdma_os_calloc(num, sizeof(*n->tx));
	n->done = ccdma_os_calloc(num, sizeof(*n->done));
	n->fr.bufs = ccdma_os_calloc(num, sizeof(*n->fr.bufs));
	n->fr.lens = ccdma_os_calloc(num, sizeof(*n->fr.lens));
	n->rx_buf_of = ccdma_os_calloc(num, sizeof(*n->rx_buf_of));
	n->rx_free = ccdma_os_calloc(nbufs(n), sizeof(*n->rx_free));
	n->rx_lent = ccdma_os_calloc(nbufs(n), 1);
	if (!n->tx || !n->done || !n->fr.bufs || !n->fr.lens || !n->rx_buf_of ||
	    !n->rx_free || !n->rx_lent)
		return -ENOMEM;
	/* The first in the stack are posted first. */
	for (unsigned b = 0; b < nbufs(n); b++)
		n->rx_free[b] = nbufs(n) - 1 - b;
	n->rx_nfree = nbufs(n);
	if (nbufs(n) > num) {
		void *p;

		rc = ccdma_alloc_coherent(n->dev, (size_t)(nbufs(n) - num) *
					  n->info.rx_buf_size, &p, &n->spare_dma, 0);
		if (rc)
			return rc;
		n->spare = p;
	}
	rc = ccdma_vq_create(n->dev, 2 * pair, num, n->info.event_idx, 0,
			     n->info.rx_buf_size, &n->rxq);
	if (!rc)
		rc = ccdma_vq_create(n->dev, 2 * pair + 1, num, n->info.event_idx,
				     n->info.indirect ? 2 : 0, TX_SCRATCH,
				     &n->txq);
	if (rc)
		return rc;
	ccdma_memset(n->txq->scratch, 0, (size_t)num * TX_SCRATCH);
	rc = start_queue(n, n->rxq);
	if (!rc)
		rc = start_queue(n, n->txq);
	if (!rc) {
		rx_refill(n);
		if (is_broken(n))
			rc = -ENODEV;
	}
	return rc;
}

/* The control queue's answer to the command just posted, checked.  0 (the
 * device said VIRTIO_NET_OK), -ENOTSUP (it said VIRTIO_NET_ERR; logged),
 * -ENODEV (no answer in time, or a malformed one: broken, logged). */
static int ctrl_answer(struct ccdma_vnet *n, unsigned head)
{
	struct ccdma_vq *vq = n->ctrlq;
	uint64_t deadline = ccdma_os_now_ns() + CTRL_TIMEOUT_NS;
	const char *why = NULL;
	unsigned h;
	uint32_t len;
	bool clamped;
	ccdma_addr_t dma;
	uint8_t ack;
	int rc;

	for (;;) {
		rc = ccdma_vq_get_used(vq, &h, &len, &clamped, &why);
		if (rc)
			break;
		if (ccdma_os_now_ns() >= deadline) {
			vnet_break(n, "control queue: no answer");
			return -ENODEV;
		}
		rc = n->t.ops->wait(n->t.ctx, vq->index, 100000000ull);
		if (rc && rc != -ETIMEDOUT) {
			vnet_break(n, "control queue: transport down");
			return -ENODEV;
		}
	}
	if (rc < 0) {
		vnet_break(n, why);
		return -ENODEV;
	}
	/* Only one command is ever in flight, and get_used checked that
	 * the id is in flight: it is this one. */
	if (h != head || clamped || len < 1) {
		vnet_break(n, "control queue: the answer's length is not the "
			   "one ack byte posted");
		return -ENODEV;
	}
	ack = *((volatile uint8_t *)ccdma_vq_scratch(vq, head, &dma) +
		CTRL_ACK_OFF);
	if (ack == VNET_OK)
		return 0;
	if (ack != VNET_ERR) {
		vnet_break(n, "control queue: an ack that is neither OK nor ERR");
		return -ENODEV;
	}
	return -ENOTSUP;
}

/* VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET(pairs) on the control queue (queue
 * 2 * max_queue_pairs): 0, -ENOTSUP (refused), -ENOMEM, -ENODEV. */
static int ctrl_set_pairs(struct ccdma_vnet *n, unsigned pairs)
{
	struct ccdma_vq_buf b[3];
	ccdma_addr_t dma;
	uint8_t *cmd;
	unsigned head;
	int rc;

	rc = ccdma_vq_create(n->dev, 2 * n->info.max_queue_pairs, 4,
			     n->info.event_idx, 0, CTRL_SCRATCH, &n->ctrlq);
	if (!rc)
		rc = start_queue(n, n->ctrlq);
	if (rc)
		return rc;
	head = ccdma_vq_next_head(n->ctrlq);
	cmd = ccdma_vq_scratch(n->ctrlq, head, &dma);
	ccdma_memset(cmd, 0, CTRL_SCRATCH);
	cmd[0] = VNET_CTRL_MQ;
	cmd[1] = VNET_CTRL_MQ_VQ_PAIRS_SET;
	cmd[2] = (uint8_t)pairs;
	cmd[3] = (uint8_t)(pairs >> 8);
	cmd[CTRL_ACK_OFF] = 0xff;
	b[0] = (struct ccdma_vq_buf){ dma, 2, false };
	b[1] = (struct ccdma_vq_buf){ dma + 2, 2, false };
	b[2] = (struct ccdma_vq_buf){ dma + CTRL_ACK_OFF, 1, true };
	ccdma_vq_add(n->ctrlq, b, 3);
	ccdma_vq_publish(n->ctrlq);
	if (n->t.ops->notify(n->t.ctx, n->ctrlq->index)) {
		vnet_break(n, "control queue: kick failed");
		return -ENODEV;
	}
	rc = ctrl_answer(n, head);
	if (rc == -ENOTSUP)
		ccdma_err("virtio-net: the device refused %u queue pairs "
			  "(VQ_PAIRS_SET answered VIRTIO_NET_ERR)", pairs);
	return rc;
}

static void free_pair(struct ccdma_vnet *n)
{
	ccdma_vq_destroy(n->rxq);
	ccdma_vq_destroy(n->txq);
	ccdma_vq_destroy(n->ctrlq);
	ccdma_os_free(n->tx);
	ccdma_os_free(n->done);
	ccdma_os_free(n->fr.bufs);
	ccdma_os_free(n->fr.lens);
	ccdma_os_free(n->rx_buf_of);
	ccdma_os_free(n->rx_free);
	ccdma_os_free(n->rx_lent);
	if (n->spare)
		(void)ccdma_free_coherent(n->dev, (size_t)(nbufs(n) -
				n->info.queue_size) * n->info.rx_buf_size,
				n->spare, n->spare_dma);
	if (n->locks_ok) {
		ccdma_mutex_destroy(&n->rx_lock);
		ccdma_mutex_destroy(&n->tx_lock);
	}
	ccdma_os_free(n);
}

/* Every pair (pair 0 last: it holds the array and the broken flag). */
static void free_all(struct ccdma_vnet *n)
{
	struct ccdma_vnet **pair = n->pair;

	for (unsigned i = 1; pair && i < n->info.queue_pairs; i++)
		if (pair[i])
			free_pair(pair[i]);
	free_pair(n);
	ccdma_os_free(pair);
}

static int create_error(int rc)
{
	if (rc == -EINVAL || rc == -ENOTSUP || rc == -ENOMEM || rc == -ENODEV)
		return rc;
	if (rc == -EMFILE || rc == -ENFILE || rc == -ENOSPC || rc == -EAGAIN)
		return -ENOMEM;
	ccdma_err("virtio-net: create: error %d reported as %d", rc, -ENODEV);
	return -ENODEV;
}

/* A queue pair's record, sharing pair 0's transport, device and flag. */
static struct ccdma_vnet *new_pair(struct ccdma_vnet *p0)
{
	struct ccdma_vnet *n = ccdma_os_calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->t = p0->t;
	n->dev = p0->dev;
	n->brokenp = &p0->broken;
	n->pair = p0->pair;
	if (ccdma_mutex_init(&n->rx_lock)) {
		ccdma_os_free(n);
		return NULL;
	}
	if (ccdma_mutex_init(&n->tx_lock)) {
		ccdma_mutex_destroy(&n->rx_lock);
		ccdma_os_free(n);
		return NULL;
	}
	n->locks_ok = true;
	return n;
}

/* The pairs beyond pair 0, their queues, and (MQ) VQ_PAIRS_SET. */
static int make_pairs(struct ccdma_vnet *n)
{
	unsigned np = n->info.queue_pairs;
	int rc = 0;

	n->pair = ccdma_os_calloc(np, sizeof(*n->pair));
	if (!n->pair)
		return -ENOMEM;
	n->pair[0] = n;
	for (unsigned i = 1; i < np; i++)
		if (!(n->pair[i] = new_pair(n)))
			return -ENOMEM;
	for (unsigned i = 0; i < np && !rc; i++) {
		struct ccdma_vnet *p = n->pair[i];

		p->info = n->info;
		rc = make_queues(p, i);
	}
	if (!rc && has(n->info.features, CCDMA_VIRTIO_NET_F_MQ))
		rc = ctrl_set_pairs(n, np);
	return rc;
}

int ccdma_vnet_create(const struct ccdma_virtio_transport *t,
		      const struct ccdma_vnet_config *cfg,
		      struct ccdma_vnet **out)
{
	struct ccdma_vnet_config def;
	struct ccdma_vnet *n;
	uint8_t conf[VNET_CFG_LEN_MQ] = { 0 };
	bool conf_ok;
	unsigned qsize;
	uint32_t frame;
	int rc;

	if (out)
		*out = NULL;
	if (!t || !t->ops || !out) {
		ccdma_err("virtio-net: create: NULL transport or result");
		return -EINVAL;
	}
	if (!cfg) {
		ccdma_vnet_config_init(&def);
		cfg = &def;
	}
	rc = check_config(cfg, &qsize, &frame);
	if (rc)
		return rc;
	if (t->ops->broken(t->ctx))
		return -ENODEV;
	n = ccdma_os_calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->t = *t;
	n->brokenp = &n->broken;
	if (ccdma_mutex_init(&n->rx_lock)) {
		ccdma_os_free(n);
		return -ENOMEM;
	}
	if (ccdma_mutex_init(&n->tx_lock)) {
		ccdma_mutex_destroy(&n->rx_lock);
		ccdma_os_free(n);
		return -ENOMEM;
	}
	n->locks_ok = true;
	n->dev = t->ops->dma_dev(t->ctx);
	if (!n->dev) {
		ccdma_err("virtio-net: the transport has no dma device");
		free_all(n);
		return -EINVAL;
	}
	rc = negotiate(n, cfg, conf, &conf_ok);
	if (!rc)
		rc = queue_pairs(n, cfg, conf, conf_ok);
	if (!rc)
		rc = queue_size(n, &qsize);
	if (rc)
		goto fail;
	n->info.queue_size = qsize;
	n->info.max_frame = frame;
	n->info.rx_buf_size = n->info.mrg_rxbuf ? CCDMA_VNET_MRG_BUF
		: (CCDMA_VNET_HDR_LEN + frame + 63u) & ~63u;
	n->info.rx_spare_buffers = cfg->rx_spare_buffers;
	rc = make_pairs(n);
	if (rc)
		goto fail;
	ccdma_dbg("virtio-net: features %#llx (offered %#llx), %u queue pair(s) "
		  "of %u, queues of %u, max_frame %u, receive buffers of %u",
		  (unsigned long long)n->info.features,
		  (unsigned long long)n->info.offered, n->info.queue_pairs,
		  n->info.max_queue_pairs, qsize, frame, n->info.rx_buf_size);
	*out = n;
	return 0;
fail:
	if (n->rxq)
		t->ops->fail(t->ctx, "virtio-net setup failed");
	free_all(n);
	return create_error(rc);
}

static void stop_queue(struct ccdma_vnet *n, struct ccdma_vq *vq)
{
	if (!vq || is_broken(n))
		return;
	if (!n->t.ops->queue_stop || n->t.ops->queue_stop(n->t.ctx, vq->index))
		vnet_break(n, "destroyed while the device held buffers");
}

struct ccdma_vnet *ccdma_vnet_pair(struct ccdma_vnet *n, unsigned i)
{
	if (!n || i >= n->info.queue_pairs)
		return NULL;
	return n->pair[i];
}

void ccdma_vnet_destroy(struct ccdma_vnet *n)
{
	unsigned i;

	if (!n)
		return;
	if (n->pair[0] != n) {
		ccdma_err("virtio-net: destroy called on queue pair other than "
			  "0: ignored (destroy the device through pair 0)");
		return;
	}
	/* The receive rings always hold buffers: stop them before they are
	 * freed, and the transmit rings with them. */
	for (i = 0; i < n->info.queue_pairs; i++) {
		stop_queue(n, n->pair[i]->rxq);
		stop_queue(n, n->pair[i]->txq);
	}
	stop_queue(n, n->ctrlq);
	for (i = 0; i < n->info.queue_pairs; i++) {
		struct ccdma_vnet *p = n->pair[i];

		ccdma_mutex_lock(&p->tx_lock);
		if (!is_broken(p))
			tx_reap(p);
		if (p->txq->inflight)
			ccdma_vq_drain(p->txq, tx_drain_one, p);
		ccdma_mutex_unlock(&p->tx_lock);
	}
	free_all(n);
}

void ccdma_vnet_get_info(struct ccdma_vnet *n, struct ccdma_vnet_info *info)
{
	if (n && info)
		*info = n->info;
}

bool ccdma_vnet_broken(struct ccdma_vnet *n)
{
	return !n || is_broken(n);
}

void ccdma_vnet_get_stats(struct ccdma_vnet *n, struct ccdma_vnet_stats *st)
{
	if (!n || !st)
		return;
	ccdma_mutex_lock(&n->rx_lock);
	*st = n->rx_st;
	ccdma_mutex_unlock(&n->rx_lock);
	ccdma_mutex_lock(&n->tx_lock);
	st->tx_packets = n->tx_st.tx_packets;
	st->tx_bytes = n->tx_st.tx_bytes;
	st->tx_completed = n->tx_st.tx_completed;
	st->tx_dropped = n->tx_st.tx_dropped;
	st->tx_len_ignored = n->tx_st.tx_len_ignored;
	st->kicks += n->tx_st.kicks;
	st->interrupts += n->tx_st.interrupts;
	ccdma_mutex_unlock(&n->tx_lock);
}
