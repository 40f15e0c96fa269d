/* SPDX-License-Identifier: MIT */
/*
 * --net: a virtio-net echo device.  Every frame the driver sends on a
 * transmit queue (2i + 1) is written back into receive buffers of the same
 * pair (queue 2i): the
 * virtio_net_hdr first (all zero but num_buffers), then the frame, over as
 * many buffers as it takes with MRG_RXBUF, into one buffer without it.
 * Receive buffers wait in the avail ring until a frame needs them; a frame
 * that finds none (or, without MRG_RXBUF, one too small) is dropped and
 * counted, as a NIC does.
 */
#include "devsim.h"

#include <string.h>

#define NET_HDR 12u
#define NET_MAX_BUFS 64u

static uint8_t frame[NET_HDR + 65536];

void ds_net_config(struct ds_dev *d)
{
	static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0xcc, 0xd0, 0x01 };

	memset(d->config, 0, sizeof(d->config));
	memcpy(d->config, mac, sizeof(mac));
	d->config[6] = 1; /* status: link up */
	/* max_virtqueue_pairs (read only with MQ). */
	d->config[8] = (uint8_t)(d->opt.queues / 2);
	d->config[9] = (uint8_t)((d->opt.queues / 2) >> 8);
}

/* The next receive buffer: one device-writable descriptor.  NULL when
 * there is none (*fail false) or the chain is malformed (*fail true, the
 * connection broken). */
static uint8_t *rx_buf(struct ds_dev *d, struct ds_vq *vq, uint16_t avail,
		       uint16_t *head, uint32_t *len, bool *fail)
{
	struct ccdma_vring_desc desc;
	uint16_t h, flags;
	uint8_t *p;

	*fail = false;
	if (vq->last_avail == avail)
		return NULL;
	h = ccdma_vring_ld16(&vq->avail->ring[vq->last_avail % vq->num],
			     __ATOMIC_RELAXED);
	if (h >= vq->num) {
		*fail = true;
		ds_conn_fail(d, "ring %u: head %u out of range", vq->index, h);
		return NULL;
	}
	memcpy(&desc, &vq->desc[h], sizeof(desc));
	flags = ccdma_le16_to_cpu(desc.flags);
	*len = ccdma_le32_to_cpu(desc.len);
	p = ds_mem_gpa(&d->conn.mem, ccdma_le64_to_cpu(desc.addr), *len);
	if (flags != CCDMA_VRING_DESC_F_WRITE || !p || *len < NET_HDR) {
		*fail = true;
		ds_conn_fail(d, "ring %u: receive buffer %u is not one writable "
			     "descriptor of at least %u bytes in shared memory",
			     vq->index, h, NET_HDR);
		return NULL;
	}
	vq->last_avail++;
	*head = h;
	return p;
}

/* Frame bytes (header included) into receive buffers. */
static void echo(struct ds_dev *d, uint32_t total, unsigned rxq)
{
	struct ds_vq *vq = &d->conn.vq[rxq];
	bool mrg = d->conn.features & (1ull << CCDMA_VIRTIO_NET_F_MRG_RXBUF);
	uint16_t avail, heads[NET_MAX_BUFS], start, nb;
	uint32_t lens[NET_MAX_BUFS], buf0 = 0, off = 0;
	uint8_t *first = NULL;
	unsigned n = 0, i;
	bool fail;

	if (!vq->started) {
		d->st.net_dropped++;
		return;
	}
	avail = ccdma_vring_ld16(&vq->avail->idx, __ATOMIC_ACQUIRE);
	start = vq->last_avail;
	while (off < total) {
		uint32_t len, l;
		uint8_t *p = n < NET_MAX_BUFS ? rx_buf(d, vq, avail, &heads[n],
						       &len, &fail) : NULL;

		if (!p || (!mrg && len < total)) {
			/* Dropped: the buffers taken go back unused. */
			if (!p && fail)
				return;
			vq->last_avail = start;
			d->st.net_dropped++;
			return;
		}
		l = total - off < len ? total - off : len;
		memcpy(p, frame + off, l);
		if (!first) {
			first = p;
			buf0 = len;
		}
		lens[n++] = l;
		off += l;
	}
	/* --misbehave: a header or first used length that breaks the rules
	 * the driver checks (docs/devsim.md). */
	nb = (uint16_t)n;
	if (ds_mb(d, DS_MB_NET_NB_HIGH, "num_buffers beyond the buffers posted"))
		nb = (uint16_t)(vq->num + 1);
	if (ds_mb(d, DS_MB_NET_NB_ZERO, "num_buffers 0"))
		nb = 0;
	if (ds_mb(d, DS_MB_NET_NB_TWO, "num_buffers 2"))
		nb = 2;
	if (ds_mb(d, DS_MB_NET_CSUM, "header asks for a checksum (NEEDS_CSUM)"))
		first[0] |= 1;
	if (ds_mb(d, DS_MB_NET_GSO, "header asks for segmentation (gso_type)"))
		first[1] = 1; /* VIRTIO_NET_HDR_GSO_TCPV4 */
	if (ds_mb(d, DS_MB_NET_LEN_OVER, "used length beyond the receive buffer"))
		lens[0] = buf0 + 100;
	if (ds_mb(d, DS_MB_NET_LEN_SHORT, "used length shorter than the header"))
		lens[0] = 5;
	first[10] = (uint8_t)nb;
	first[11] = (uint8_t)(nb >> 8);
	for (i = 0; i < n; i++)
		ds_vq_complete(d, vq, heads[i], lens[i]);
	ds_vq_publish(d, vq);
	d->st.net_rx++;
}

uint32_t ds_net_request(struct ds_dev *d, struct ds_vq *vq, struct ds_seg *segs,
			unsigned n)
{
	uint32_t total = 0;
	unsigned i;

	for (i = 0; i < n; i++) {
		if (segs[i].write || segs[i].len > sizeof(frame) - total) {
			ds_req_err(d, "transmit chain: a writable or oversized "
				   "segment: dropped");
			d->st.net_dropped++;
			return 0;
		}
		memcpy(frame + total, segs[i].p, segs[i].len);
		total += segs[i].len;
	}
	d->st.net_tx++;
	if (total <= NET_HDR) {
		d->st.net_dropped++;
		return 0;
	}
	memset(frame, 0, NET_HDR);
	echo(d, total, vq->index & ~1u);
	return 0;
}
