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
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
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
	vq->late.n = 0;
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
	vq->idx_skew = 0;
	vq->signalled_valid = false;
	vq->pending = 0;
	vq->started = true;
	ds_info(d, "ring %u started: num %u, avail %u, used %u", vq->index,
		vq->num, vq->last_avail, vq->used_idx);
	/* The driver may have posted before the ring was enabled. */
	ds_vq_poll(d, vq);
	return 0;
}

/* ---- misbehaviour (--misbehave) -------------------------------------- */

/* The last request was a read that succeeded with data. */
static bool good_in(const struct ds_vq *vq)
{
	return vq->last_type == CCDMA_VBLK_T_IN &&
	       vq->last_status == CCDMA_VBLK_S_OK && vq->last_data;
}

/* Remember the read data segments of the last request for a write at the
 * next kick: the data itself (from_disk: the used entry goes out first,
 * over 0xa5 bytes) or 0xee bytes after the completion (late-write). */
static void hold_back(struct ds_dev *d, struct ds_vq *vq, bool from_disk)
{
	uint64_t left = vq->last_data;
	unsigned i, k = 0;

	for (i = vq->last_nr; i < vq->last_n && left && k < 8; i++) {
		uint32_t take = vq->segs[i].len < left ? vq->segs[i].len
						       : (uint32_t)left;

		if (!take)
			continue;
		vq->late.s[k].p = vq->segs[i].p;
		vq->late.s[k].len = take;
		if (from_disk)
			memset(vq->segs[i].p, 0xa5, take);
		left -= take;
		k++;
	}
	vq->late.n = k;
	vq->late.from_disk = from_disk;
	vq->late.off = vq->last_off;
	(void)d;
}

/* Do the held-back write (at the next kick), if its memory is still
 * mapped. */
static void late_apply(struct ds_dev *d, struct ds_vq *vq)
{
	uint64_t off = vq->late.off;
	unsigned i;

	for (i = 0; i < vq->late.n; i++) {
		uint8_t *p = vq->late.s[i].p;
		uint32_t len = vq->late.s[i].len;

		if (!ds_mem_host_ok(&d->conn.mem, p, len)) {
			off += len;
			continue;
		}
		if (!vq->late.from_disk)
			memset(p, 0xee, len);
		else if (d->disk.ram)
			memcpy(p, d->disk.ram + off, len);
		else if (pread(d->disk.fd, p, len, (off_t)off) != (ssize_t)len)
			memset(p, 0, len);
		off += len;
	}
	vq->late.n = 0;
}

/* write-outside: 0xee just past the request's last descriptor, and far
 * beyond it; the region map lets through only what lies in a region. */
static void write_outside(struct ds_dev *d, struct ds_vq *vq)
{
	const struct ds_seg *s = &vq->segs[vq->last_n - 1];
	uint64_t end = s->gpa + s->len;
	uint8_t *near = ds_mem_gpa(&d->conn.mem, end, 64);
	uint8_t *far = ds_mem_gpa(&d->conn.mem, end + (1ull << 40), 64);

	if (near)
		memset(near, 0xee, 64);
	if (far)
		memset(far, 0xee, 64);
	ds_err("misbehave write-outside: 64 bytes at gpa %#llx %s, at gpa "
	       "%#llx %s", (unsigned long long)end,
	       near ? "written" : "stopped by the region map",
	       (unsigned long long)(end + (1ull << 40)),
	       far ? "written" : "stopped by the region map");
}

/* read-unoffered: every descriptor of the table, and each buffer they
 * name that the region map lets us reach. */
static void read_unoffered(struct ds_dev *d, struct ds_vq *vq)
{
	unsigned i, bufs = 0;
	volatile uint8_t sink = 0;

	for (i = 0; i < vq->num; i++) {
		struct ccdma_vring_desc desc;
		const uint8_t *p;
		uint32_t len;

		memcpy(&desc, &vq->desc[i], sizeof(desc));
		len = ccdma_le32_to_cpu(desc.len);
		p = len ? ds_mem_gpa(&d->conn.mem, ccdma_le64_to_cpu(desc.addr),
				     len) : NULL;
		if (p) {
			sink ^= p[0] ^ p[len - 1];
			bufs++;
		}
	}
	(void)sink;
	if (d->st.mb_fired[DS_MB_READ_UNOFFERED] <= 3)
		ds_err("misbehave read-unoffered: read %u descriptors and %u "
		       "buffers", vq->num, bufs);
}

void ds_vq_complete(struct ds_dev *d, struct ds_vq *vq, uint16_t head,
		    uint32_t len)
{
	struct ccdma_vring_used_elem *e;
	uint32_t id = head;
	/* The net-tx-* modes: a virtio-net transmit queue (2i + 1). */
	bool tx = d->opt.net && (vq->index & 1u);

	if (d->opt.misbehave) {
		if (d->conn.stalled)
			return;
		if (ds_mb(d, DS_MB_STALL, "the device stops answering")) {
			d->conn.stalled = true;
			return;
		}
		if (ds_mb(d, DS_MB_SLOW, "completions are delayed")) {
			struct timespec ts = {
				(time_t)(d->opt.delay_us / 1000000u),
				(long)(d->opt.delay_us % 1000000u) * 1000,
			};

			while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
				;
		}
		if (ds_mb(d, DS_MB_ID_RANGE, "used id out of range"))
			id = vq->num * 2u + 1u;
		if (ds_mb(d, DS_MB_ID_NUM, "used id == ring size"))
			id = vq->num;
		if (ds_mb(d, DS_MB_ID_UNPOSTED, "used id never posted"))
			id = (head + vq->num / 2u) % vq->num;
		if (tx && ds_mb(d, DS_MB_NET_TX_RANGE, "transmit used id out of range"))
			id = vq->num * 2u + 1u;
		if (tx && ds_mb(d, DS_MB_NET_TX_UNPOSTED,
				"transmit used id never posted"))
			id = (head + vq->num / 2u) % vq->num;
		if (good_in(vq)) {
			if (ds_mb(d, DS_MB_LEN_OVER, "used length above the buffers"))
				len += 65536;
			if (ds_mb(d, DS_MB_LEN_SHORT, "short length on a good read"))
				len = 1 + (uint32_t)(vq->last_data / 2);
			if (ds_mb(d, DS_MB_USED_EARLY, "used entry before the data"))
				hold_back(d, vq, true);
			if (ds_mb(d, DS_MB_LATE_WRITE,
				  "data written after the completion"))
				hold_back(d, vq, false);
			if (ds_mb(d, DS_MB_WRITE_OUTSIDE,
				  "writes outside the descriptors"))
				write_outside(d, vq);
		}
		if (vq->last_statusp) {
			if (ds_mb(d, DS_MB_STATUS_BAD, "status byte 0x7f"))
				*vq->last_statusp = 0x7f;
			if (ds_mb(d, DS_MB_STATUS_NONE, "no status byte")) {
				*vq->last_statusp = vq->last_status_prev;
				len = len ? len - 1 : 0;
			}
		}
		if (ds_mb(d, DS_MB_READ_UNOFFERED, "reads descriptors never offered"))
			read_unoffered(d, vq);
		if (ds_mb(d, DS_MB_CFG_CHANGE, "config space changes while running"))
			ds_vu_config_change(d);
	}
	e = &vq->used->ring[vq->used_idx % vq->num];
	e->id = ccdma_cpu_to_le32(id);
	e->len = ccdma_cpu_to_le32(len);
	vq->used_idx++;
	vq->pending++;
	if (ds_mb(d, DS_MB_DOUBLE, "completes a request twice") ||
	    (tx && ds_mb(d, DS_MB_NET_TX_DOUBLE, "completes a frame sent twice"))) {
		e = &vq->used->ring[vq->used_idx % vq->num];
		e->id = ccdma_cpu_to_le32(id);
		e->len = ccdma_cpu_to_le32(len);
		vq->used_idx++;
		vq->pending++;
	}
}

void ds_vq_publish(struct ds_dev *d, struct ds_vq *vq)
{
	uint16_t old, new_idx = vq->used_idx;
	bool notify, force = false;

	if (!vq->pending || !vq->used)
		return;
	vq->pending = 0;
	if (ds_mb(d, DS_MB_IDX_AHEAD, "used index moved past the ring")) {
		vq->idx_skew = (uint16_t)(vq->idx_skew + vq->num + 1u);
		force = true;
	}
	if (ds_mb(d, DS_MB_IDX_BACK, "used index moved backwards")) {
		/* The ring size and one below what was last published, and it
		 * stays behind: below whatever the driver had consumed, so it
		 * is sure to see the move (a smaller step back, to an entry it
		 * had not consumed yet, looks like fewer completions). */
		uint16_t seen = ccdma_vring_ld16(&vq->used->idx, __ATOMIC_RELAXED);

		vq->idx_skew = (uint16_t)(seen - vq->num - 1u - vq->used_idx);
		force = true;
	}
	new_idx = (uint16_t)(new_idx + vq->idx_skew);
	/* Entries before the index: the driver reads them after seeing it.
	 * The index is published before the driver's wish is read (a
	 * store-load pair): sequentially consistent store and loads, and
	 * ccdma_vring_mb() between them (see there). */
	ccdma_vring_st16(&vq->used->idx, new_idx, __ATOMIC_SEQ_CST);
	ccdma_vring_mb();
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
	if ((notify || force) && vq->call_fd >= 0) {
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

/* Descriptor idx of table, copied once out of shared memory. */
static void desc_read(const struct ccdma_vring_desc *table, unsigned idx,
		      struct ccdma_vring_desc *desc, uint64_t *addr,
		      uint32_t *len, uint16_t *flags)
{
	memcpy(desc, &table[idx], sizeof(*desc));
	*addr = ccdma_le64_to_cpu(desc->addr);
	*len = ccdma_le32_to_cpu(desc->len);
	*flags = ccdma_le16_to_cpu(desc->flags);
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

	vq->last_type = ~0u;
	vq->last_statusp = NULL;
	vq->last_data = 0;

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

		desc_read(table, idx, &desc, &addr, &len, &flags);
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
		segs[n].gpa = addr;
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
	else if (d->opt.net)
		ds_vq_complete(d, vq, head, ds_net_request(d, vq, segs, n));
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

	/* --net: receive buffers wait in the ring for frames (net.c). */
	if (d->opt.net && !(vq->index & 1))
		return false;
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
		ccdma_vring_mb();
		if (ccdma_vring_ld16(&vq->avail->idx, __ATOMIC_SEQ_CST) ==
		    vq->last_avail)
			break;
	}
	return vq->last_avail != start;
}

/* pause: the device stops with a kick pending (as a back-end under
 * SIGSTOP) until the driver hangs up, then goes on. */
static void pause_until_hangup(struct ds_dev *d)
{
	/* A signal (left pending for the main loop) ends it too. */
	struct pollfd p[2] = {
		{ .fd = d->conn.fd, .events = POLLRDHUP },
		{ .fd = d->sig_fd, .events = POLLIN },
	};

	while (poll(p, 2, -1) < 0 && errno == EINTR)
		;
}

void ds_vq_kick(struct ds_dev *d, struct ds_vq *vq)
{
	uint64_t v = 0;
	bool paused;
	ssize_t r;

	if (!vq->started)
		return;
	paused = ds_mb(d, DS_MB_PAUSE, "stops with a kick pending until the "
		       "driver hangs up");
	if (paused)
		pause_until_hangup(d);
	/* The kick fd is non-blocking.  An empty doorbell (a stale event, or
	 * a kick the driver took back when it gave up) is no work: the ring
	 * is not read, as libvhost-user does not. */
	r = read(vq->kick_fd, &v, sizeof(v));
	if (r < 0 && errno != EAGAIN)
		ds_err("ring %u: kick fd: %s", vq->index, strerror(errno));
	if (paused)
		ds_err("misbehave pause: resumed after the hang-up, doorbell %s",
		       r == sizeof(v) ? "rung: the ring is read"
				      : "empty: the ring is left alone");
	if (r != sizeof(v))
		return;
	d->st.kicks++;
	if (d->conn.stalled)
		return;
	if (vq->late.n)
		late_apply(d, vq);
	ds_vq_poll(d, vq);
}

/* ---- regions going away (ds_mem_gone) --------------------------------- */

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return alen && blen && a < b + blen && b < a + alen;
}

/* Does a chain the driver has posted and this device not yet taken name
 * [gpa, gpa + size)?  Walks the descriptor table as vq_handle_chain does,
 * with the same bounds, but never fails the ring: a chain it cannot walk
 * is the handler's business when it is taken. */
static bool chain_names(struct ds_dev *d, struct ds_vq *vq, uint16_t head,
			uint64_t gpa, uint64_t size)
{
	const struct ccdma_vring_desc *table = vq->desc;
	unsigned tnum = vq->num, idx = head, visited = 0;
	bool indirect = false;

	while (idx < tnum && visited++ < tnum) {
		struct ccdma_vring_desc desc;
		uint64_t addr;
		uint32_t len;
		uint16_t flags;

		desc_read(table, idx, &desc, &addr, &len, &flags);
		if (overlaps(addr, len, gpa, size))
			return true;
		if (flags & CCDMA_VRING_DESC_F_INDIRECT) {
			if (indirect || len < sizeof(desc))
				return false;
			table = ds_mem_gpa(&d->conn.mem, addr, len);
			if (!table || (uintptr_t)table % _Alignof(struct ccdma_vring_desc))
				return false;
			tnum = len / sizeof(desc);
			indirect = true;
			idx = 0;
			visited = 0;
			continue;
		}
		if (!(flags & CCDMA_VRING_DESC_F_NEXT))
			return false;
		idx = ccdma_le16_to_cpu(desc.next);
	}
	return false;
}

unsigned ds_vq_names(struct ds_dev *d, struct ds_vq *vq, uint64_t gpa,
		     uint64_t size)
{
	uint16_t avail_idx, count, k;
	unsigned hits = 0;

	if (!vq->started)
		return 0;
	avail_idx = ccdma_vring_ld16(&vq->avail->idx, __ATOMIC_ACQUIRE);
	count = (uint16_t)(avail_idx - vq->last_avail);
	if (count > vq->num)
		return 0; /* a broken index: taking the ring will say so */
	for (k = 0; k < count; k++) {
		uint16_t head = ccdma_vring_ld16(
			&vq->avail->ring[(uint16_t)(vq->last_avail + k) % vq->num],
			__ATOMIC_RELAXED);

		if (chain_names(d, vq, head, gpa, size)) {
			ds_err("ring %u: the region at gpa 0x%" PRIx64 " size 0x%"
			       PRIx64 " goes while posted request %u (not yet "
			       "taken) points into it", vq->index, gpa, size, head);
			hits++;
		}
	}
	return hits;
}
