/* SPDX-License-Identifier: MIT */
/*
 * ccdma-devsim: split virtqueues, device side.
 *
 * The driver's rings live in its shared regions and it may change them
 * while we read: every index and descriptor is loaded once into a local
 * copy, then checked.  A chain that cannot be walked (a head or next index
 * out of range, a loop, nested or unnegotiated indirect tables, a readable
 * descriptor after a writable one, an avail index running more than a
 * ring ahead) is a broken driver: the connection is broken, as a real
 * device would mark itself NEEDS_RESET.  A descriptor whose buffer lies
 * outside every region fails only its own request (status IOERR).
 *
 * All completions go through ds_vq_complete() and all publications of the
 * used index through ds_vq_publish(): the one place a misbehaving device
 * mode will hook in.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <ccdma/virtio.h>

#include "devsim.h"

/* Scratch segments per chain: at least the ring size (a direct chain is
 * never longer), and room for an indirect table on a small ring. */
#define DS_MIN_SEGS 1024u

static inline bool has_feature(const struct ds_dev *d, unsigned bit)
{
	return (d->conn.features >> bit) & 1;
}

static unsigned seg_cap(const struct ds_vq *vq)
{
	return vq->num > DS_MIN_SEGS ? vq->num : DS_MIN_SEGS;
}

void ds_vq_init(struct ds_vq *vq, unsigned index)
{
	memset(vq, 0, sizeof(*vq));
	vq->index = index;
	vq->kick_fd = -1;
	vq->call_fd = -1;
	vq->err_fd = -1;
}

void ds_vq_stop(struct ds_dev *d, struct ds_vq *vq)
{
	if (!vq->started)
		return;
	/* ds_vq_poll publishes before it returns: nothing is pending, and
	 * the rings may already be unmapped. */
	vq->pending = 0;
	epoll_ctl(d->epfd, EPOLL_CTL_DEL, vq->kick_fd, NULL);
	vq->started = false;
	vq->desc = NULL;
	vq->avail = NULL;
	vq->used = NULL;
}

void ds_vq_reset(struct ds_dev *d, struct ds_vq *vq)
{
	unsigned index = vq->index;

	ds_vq_stop(d, vq);
	if (vq->kick_fd >= 0)
		close(vq->kick_fd);
	if (vq->call_fd >= 0)
		close(vq->call_fd);
	if (vq->err_fd >= 0)
		close(vq->err_fd);
	free(vq->segs);
	free(vq->iov);
	ds_vq_init(vq, index);
}

/* Translate the three ring parts; false (and why) when one does not lie
 * wholly inside a region or is misaligned. */
static bool vq_translate(struct ds_dev *d, struct ds_vq *vq)
{
	unsigned num = vq->num;
	size_t ev = has_feature(d, CCDMA_VIRTIO_F_EVENT_IDX) ? 2 : 0;
	struct ds_mem *m = &d->conn.mem;
	void *desc, *avail, *used;

	desc = ds_mem_uaddr(m, vq->addr.desc_user_addr, ccdma_vring_desc_size(num));
	avail = ds_mem_uaddr(m, vq->addr.avail_user_addr,
			     ccdma_vring_avail_size(num) - 2 + ev);
	used = ds_mem_uaddr(m, vq->addr.used_user_addr,
			    ccdma_vring_used_size(num) - 2 + ev);
	if (!desc || !avail || !used) {
		ds_err("ring %u: %s table lies outside every region", vq->index,
		       !desc ? "descriptor" : !avail ? "avail" : "used");
		return false;
	}
	if (((uintptr_t)desc & 15) || ((uintptr_t)avail & 1) ||
	    ((uintptr_t)used & 3)) {
		ds_err("ring %u: misaligned ring part", vq->index);
		return false;
	}
	vq->desc = desc;
	vq->avail = avail;
	vq->used = used;
	return true;
}

int ds_vq_update(struct ds_dev *d, struct ds_vq *vq)
{
	bool enabled = vq->enabled ||
		       !has_feature(d, CCDMA_VU_F_PROTOCOL_FEATURES);
	struct epoll_event ev;

	if (vq->started) {
		/* The table or the addresses changed under a running ring. */
		if (!enabled || !vq_translate(d, vq)) {
			if (enabled)
				ds_err("ring %u: stopped", vq->index);
			ds_vq_stop(d, vq);
		}
		return 0;
	}
	if (!enabled || vq->kick_fd < 0 || !vq->addr_set || !vq->num)
		return 0;
	if (!vq_translate(d, vq)) {
		ds_err("ring %u: cannot start", vq->index);
		return 0;
	}
	if (!vq->segs) {
		vq->segs = calloc(seg_cap(vq), sizeof(*vq->segs));
		vq->iov = calloc(seg_cap(vq), sizeof(*vq->iov));
		if (!vq->segs || !vq->iov)
			return ds_conn_fail(d, "ring %u: out of memory", vq->index);
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.u64 = 16 + vq->index;
	if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, vq->kick_fd, &ev) != 0)
		return ds_conn_fail(d, "ring %u: kick fd cannot be polled: %s",
				    vq->index, strerror(errno));
	/* The used index carries over from whatever the ring already holds
	 * (a reconnect after GET_VRING_BASE); nothing is in flight here. */
	vq->used_idx = ccdma_vring_ld16(&vq->used->idx, __ATOMIC_RELAXED);
	vq->signalled_valid = false;
	vq->pending = 0;
	vq->started = true;
	ds_info(d, "ring %u started: num %u, avail %u, used %u", vq->index,
		vq->num, vq->last_avail, vq->used_idx);
	/* The driver may have posted before the ring was enabled. */
	ds_vq_poll(d, vq);
	return 0;
}

void ds_vq_complete(struct ds_dev *d, struct ds_vq *vq, uint16_t head,
		    uint32_t len)
{
	struct ccdma_vring_used_elem *e = &vq->used->ring[vq->used_idx % vq->num];

	(void)d;
	e->id = ccdma_cpu_to_le32(head);
	e->len = ccdma_cpu_to_le32(len);
	vq->used_idx++;
	vq->pending++;
}

void ds_vq_publish(struct ds_dev *d, struct ds_vq *vq)
{
	uint16_t old, new_idx = vq->used_idx;
	bool notify;

	if (!vq->pending || !vq->used)
		return;
	vq->pending = 0;
	/* Entries before the index: the driver reads them after seeing it.
	 * The index is published before the driver's wish is read (a
	 * store-load pair): sequentially consistent store and loads, not a
	 * fence, which ThreadSanitizer cannot follow. */
	ccdma_vring_st16(&vq->used->idx, new_idx, __ATOMIC_SEQ_CST);
	if (has_feature(d, CCDMA_VIRTIO_F_EVENT_IDX)) {
		uint16_t ue = ccdma_vring_ld16(
			ccdma_vring_used_event(vq->avail, vq->num), __ATOMIC_SEQ_CST);

		old = vq->signalled_used;
		notify = !vq->signalled_valid ||
			 ccdma_vring_need_event(ue, new_idx, old);
		vq->signalled_used = new_idx;
		vq->signalled_valid = true;
	} else {
		notify = !(ccdma_vring_ld16(&vq->avail->flags, __ATOMIC_SEQ_CST) &
			   CCDMA_VRING_AVAIL_F_NO_INTERRUPT);
	}
	if (notify && vq->call_fd >= 0) {
		uint64_t one = 1;

		if (write(vq->call_fd, &one, sizeof(one)) == sizeof(one))
			d->st.calls++;
	}
}

/* Fail a request whose buffers could not all be translated: IOERR in the
 * status byte if that one can be reached, else a zero-length completion. */
static uint32_t chain_unreachable(struct ds_dev *d, struct ds_vq *vq,
				  uint16_t head, struct ds_seg *segs, unsigned n)
{
	struct ds_seg *st = n ? &segs[n - 1] : NULL;

	d->st.req_ioerr++;
	ds_req_err(d, "ring %u: request %u names memory outside every region",
	       vq->index, head);
	if (st && st->write && st->p && st->len) {
		st->p[st->len - 1] = CCDMA_VBLK_S_IOERR;
		return 1;
	}
	return 0;
}

/* Walk the chain at head into vq->segs and execute it.  false when the
 * chain is malformed (the connection is then broken). */
static bool vq_handle_chain(struct ds_dev *d, struct ds_vq *vq, uint16_t head)
{
	const struct ccdma_vring_desc *table = vq->desc;
	unsigned tnum = vq->num, cap = seg_cap(vq);
	unsigned idx = head, visited = 0, n = 0;
	bool indirect = false, seen_write = false, unreachable = false;
	struct ds_seg *segs = vq->segs;

	if (head >= vq->num) {
		ds_conn_fail(d, "ring %u: head %u out of range (num %u)",
			     vq->index, head, vq->num);
		return false;
	}
	for (;;) {
		struct ccdma_vring_desc desc;
		uint64_t addr;
		uint32_t len;
		uint16_t flags;

		memcpy(&desc, &table[idx], sizeof(desc));
		addr = ccdma_le64_to_cpu(desc.addr);
		len = ccdma_le32_to_cpu(desc.len);
		flags = ccdma_le16_to_cpu(desc.flags);
		if (++visited > tnum) {
			ds_conn_fail(d, "ring %u: chain at %u loops", vq->index,
				     head);
			return false;
		}
		if (flags & CCDMA_VRING_DESC_F_INDIRECT) {
			if (!has_feature(d, CCDMA_VIRTIO_F_INDIRECT_DESC) ||
			    indirect || (flags & CCDMA_VRING_DESC_F_NEXT) ||
			    len == 0 || len % sizeof(desc) ||
			    len / sizeof(desc) > cap) {
				ds_conn_fail(d, "ring %u: chain at %u: bad indirect "
					     "descriptor (flags %#x len %u)",
					     vq->index, head, flags, len);
				return false;
			}
			table = ds_mem_gpa(&d->conn.mem, addr, len);
			if (!table) {
				ds_vq_complete(d, vq, head,
					       chain_unreachable(d, vq, head,
								 segs, 0));
				return true;
			}
			if ((uintptr_t)table % _Alignof(struct ccdma_vring_desc)) {
				ds_conn_fail(d, "ring %u: misaligned indirect "
					     "table", vq->index);
				return false;
			}
			tnum = len / sizeof(desc);
			indirect = true;
			idx = 0;
			visited = 0;
			continue;
		}
		if (n == cap) {
			ds_conn_fail(d, "ring %u: chain at %u longer than %u",
				     vq->index, head, cap);
			return false;
		}
		if (flags & CCDMA_VRING_DESC_F_WRITE)
			seen_write = true;
		else if (seen_write) {
			ds_conn_fail(d, "ring %u: chain at %u: readable descriptor "
				     "after a writable one", vq->index, head);
			return false;
		}
		segs[n].p = ds_mem_gpa(&d->conn.mem, addr, len);
		segs[n].len = len;
		segs[n].write = seen_write;
		if (!segs[n].p)
			unreachable = true;
		n++;
		if (!(flags & CCDMA_VRING_DESC_F_NEXT))
			break;
		idx = ccdma_le16_to_cpu(desc.next);
		if (idx >= tnum) {
			ds_conn_fail(d, "ring %u: chain at %u: next %u out of "
				     "range", vq->index, head, idx);
			return false;
		}
	}
	if (unreachable)
		ds_vq_complete(d, vq, head,
			       chain_unreachable(d, vq, head, segs, n));
	else
		ds_vq_complete(d, vq, head, ds_blk_request(d, vq, segs, n));
	return true;
}

/* Take every entry the avail ring holds now.  false on a broken ring. */
static bool vq_drain(struct ds_dev *d, struct ds_vq *vq)
{
	uint16_t avail_idx = ccdma_vring_ld16(&vq->avail->idx, __ATOMIC_ACQUIRE);
	uint16_t count = (uint16_t)(avail_idx - vq->last_avail);

	if (count > vq->num) {
		ds_conn_fail(d, "ring %u: avail idx %u is %u ahead of %u (num %u)",
			     vq->index, avail_idx, count, vq->last_avail, vq->num);
		return false;
	}
	while (count--) {
		uint16_t head = ccdma_vring_ld16(
			&vq->avail->ring[vq->last_avail % vq->num], __ATOMIC_RELAXED);

		vq->last_avail++;
		if (!vq_handle_chain(d, vq, head))
			return false;
	}
	return true;
}

bool ds_vq_poll(struct ds_dev *d, struct ds_vq *vq)
{
	bool event_idx = has_feature(d, CCDMA_VIRTIO_F_EVENT_IDX);
	uint16_t start = vq->last_avail;

	while (vq->started && !d->conn.broken) {
		bool ok = vq_drain(d, vq);

		/* One call for the whole batch (and for what completed before
		 * a malformed chain). */
		ds_vq_publish(d, vq);
		if (!ok)
			break;
		/* Ask for a kick at the next entry, then look again: the
		 * driver may have added one before it could see the ask. */
		if (event_idx)
			ccdma_vring_st16(ccdma_vring_avail_event(vq->used, vq->num),
					 vq->last_avail, __ATOMIC_SEQ_CST);
		if (ccdma_vring_ld16(&vq->avail->idx, __ATOMIC_SEQ_CST) ==
		    vq->last_avail)
			break;
	}
	return vq->last_avail != start;
}

void ds_vq_kick(struct ds_dev *d, struct ds_vq *vq)
{
	uint64_t v;

	if (!vq->started)
		return;
	/* The kick fd is non-blocking: a stale event costs nothing. */
	if (read(vq->kick_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		ds_err("ring %u: kick fd: %s", vq->index, strerror(errno));
	d->st.kicks++;
	ds_vq_poll(d, vq);
}
