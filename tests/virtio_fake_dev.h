/* SPDX-License-Identifier: MIT */
/*
 * An in-process virtio-blk device behind a virtio transport
 * (ccdma/virtio.h), for the driver's tests.
 *
 * The device reaches guest memory ONLY through the dma layer's device
 * accessor (ccdma_dev_read / ccdma_dev_write / ccdma_dev_access) with the
 * DMA addresses the driver posted, so a descriptor that points at private
 * memory fails with -EFAULT (counted in ccdma_dev_faults() and in
 * fd->faults) instead of silently working.  It keeps a RAM disk, a config
 * space, and switches for hostile behaviour (struct fake_dev.evil ...).
 *
 * Two ways to run:
 *   - synchronous (default): the device works inside notify(); with
 *     fd->hold set it only records the kick, and fake_release() runs it;
 *   - threaded (fake_opts.threaded): a device thread woken by kicks, which
 *     raises interrupts that the transport's wait() blocks on.
 *
 * Ring words both sides poll (indices, flags, event words) are accessed
 * with atomics through ccdma_dev_access(); everything else with
 * ccdma_dev_read/write after an acquire of the index that published it.
 */
#ifndef CCDMA_VIRTIO_FAKE_DEV_H
#define CCDMA_VIRTIO_FAKE_DEV_H

#include <pthread.h>
#include <stdbool.h>
#include <time.h>

#include <ccdma/virtio.h>
#include <ccdma/virtio_blk.h>

#include "test.h"
#include "virtio/virtio_ring.h"

#define FAKE_MAXQ 16

enum fake_evil {
	FAKE_OK = 0,
	FAKE_ID_RANGE,        /* used id out of range */
	FAKE_ID_NOT_INFLIGHT, /* used id that was never posted */
	FAKE_DOUBLE,          /* the chain completed twice */
	FAKE_LEN_BIG,         /* used len 4096 above what was written */
	FAKE_BAD_STATUS,      /* status byte 7 */
	FAKE_IDX_JUMP,        /* used idx moves num + 3 ahead */
	FAKE_NO_STATUS,       /* status byte never written */
	FAKE_DOUBLE_2,        /* (internal: FAKE_DOUBLE's second step) */
	FAKE_LEN_SHORT,       /* status OK, used len 1000 below what was written */
	FAKE_IOERR_CLAIM,     /* IOERR, nothing written, used len all of it */
};

struct fake_q {
	bool started;
	unsigned num;
	ccdma_addr_t desc, avail, used;
	uint16_t last_avail, used_idx;
	uint64_t signals;        /* raised, not yet consumed by wait() */
	uint64_t kicks, irqs;
};

struct fake_opts {
	int mode;                /* CCDMA_MODE_* */
	unsigned dev_flags;      /* CCDMA_DEV_F_* */
	uint64_t disk_bytes;
	unsigned nq;             /* queues offered */
	unsigned qmax;           /* largest queue size */
	bool threaded;
	uint64_t features;       /* 0: fake_default_features() */
};

struct fake_dev {
	struct ccdma_dev *dma;
	struct ccdma_virtio_transport t;
	pthread_mutex_t lock;
	pthread_cond_t dev_cond, irq_cond;
	uint64_t offered, acked;
	unsigned set_features_calls;
	uint8_t cfg[CCDMA_VBLK_CFG_SIZE];
	bool no_config;
	/* cfg_flip: each config read swaps cfg and cfg_alt afterwards (a
	 * device whose config changes while the driver reads it) */
	bool cfg_flip;
	uint8_t cfg_alt[CCDMA_VBLK_CFG_SIZE];
	unsigned config_reads;
	unsigned nq, qmax;
	struct fake_q q[FAKE_MAXQ];
	uint8_t *disk;
	uint64_t disk_bytes;
	char id[CCDMA_VBLK_ID_BYTES];
	/* running */
	bool threaded, hold, kicked, stop;
	/* synchronous: the device works inside wait(), not notify() (as if
	 * it ran while the driver sleeps) */
	bool lazy;
	pthread_t thr;
	bool broken;
	unsigned fails;
	char why[160];
	/* hostile switches */
	enum fake_evil evil;
	uint64_t evil_at;        /* the completion (0-based) that misbehaves */
	uint32_t dup_id;
	unsigned ioerr_next;     /* the next n requests fail with IOERR */
	unsigned unsupp_next;    /* the next n requests get UNSUPP */
	bool no_notify;          /* keep used->flags NO_NOTIFY set */
	/* what the device saw */
	uint64_t completions, chains, faults, malformed;
	uint64_t by_type[16];
	unsigned max_chain;      /* most buffers in one chain */
	uint64_t indirect_chains;
	uint32_t last_dwz_flags;
	uint64_t dwz_sectors;
};

static inline uint64_t fake_default_features(void)
{
	return 1ull << CCDMA_VIRTIO_F_VERSION_1 |
	       1ull << CCDMA_VIRTIO_F_EVENT_IDX |
	       1ull << CCDMA_VIRTIO_F_INDIRECT_DESC |
	       1ull << CCDMA_VIRTIO_F_ACCESS_PLATFORM |
	       1ull << CCDMA_VIRTIO_BLK_F_SIZE_MAX |
	       1ull << CCDMA_VIRTIO_BLK_F_SEG_MAX |
	       1ull << CCDMA_VIRTIO_BLK_F_BLK_SIZE |
	       1ull << CCDMA_VIRTIO_BLK_F_FLUSH |
	       1ull << CCDMA_VIRTIO_BLK_F_DISCARD |
	       1ull << CCDMA_VIRTIO_BLK_F_WRITE_ZEROES |
	       1ull << CCDMA_VIRTIO_BLK_F_MQ;
}

static inline void fake_cfg16(struct fake_dev *fd, unsigned off, uint16_t v)
{
	ccdma_put_le16(fd->cfg + off, v);
}
static inline void fake_cfg32(struct fake_dev *fd, unsigned off, uint32_t v)
{
	ccdma_put_le32(fd->cfg + off, v);
}
static inline void fake_cfg64(struct fake_dev *fd, unsigned off, uint64_t v)
{
	ccdma_put_le64(fd->cfg + off, v);
}

/* ---- device side: rings through the accessor only ----------------------- */

static void *fake_ptr(struct fake_dev *fd, ccdma_addr_t a, size_t len,
		      unsigned acc)
{
	void *p = NULL;

	if (ccdma_dev_access(fd->dma, a, len, acc, &p)) {
		fd->faults++;
		return NULL;
	}
	return p;
}

static uint16_t fake_ld16(struct fake_dev *fd, ccdma_addr_t a, int order)
{
	ccdma_le16_t *p = fake_ptr(fd, a, 2, CCDMA_ACCESS_READ), v;

	if (!p)
		return 0;
	v.raw = __atomic_load_n(&p->raw, order);
	return ccdma_le16_to_cpu(v);
}

static void fake_st16(struct fake_dev *fd, ccdma_addr_t a, uint16_t v,
		      int order)
{
	ccdma_le16_t *p = fake_ptr(fd, a, 2, CCDMA_ACCESS_WRITE);

	if (p)
		__atomic_store_n(&p->raw, ccdma_cpu_to_le16(v).raw, order);
}

static bool fake_has(struct fake_dev *fd, unsigned bit)
{
	return fd->acked & (1ull << bit);
}

struct fake_seg {
	uint64_t addr;
	uint32_t len;
	bool write;
};

#define FAKE_MAX_SEGS 4096

/* Read one chain into segs[]; returns the count, or -1 if malformed. */
static int fake_chain(struct fake_dev *fd, struct fake_q *q, unsigned head,
		      struct fake_seg *segs)
{
	struct ccdma_vring_desc d, *tbl = NULL;
	unsigned n = 0, i = head, tn = 0, limit = q->num;
	bool ind = false;

	if (head >= q->num)
		return -1;
	if (ccdma_dev_read(fd->dma, q->desc + 16ull * head, &d, sizeof(d)))
		return -1;
	if (ccdma_le16_to_cpu(d.flags) & CCDMA_VRING_DESC_F_INDIRECT) {
		uint32_t len = ccdma_le32_to_cpu(d.len);

		if (!len || len % 16 || len / 16 > q->num)
			return -1;
		tn = len / 16;
		tbl = malloc(len);
		if (!tbl || ccdma_dev_read(fd->dma, ccdma_le64_to_cpu(d.addr),
					   tbl, len)) {
			free(tbl);
			return -1;
		}
		ind = true;
		fd->indirect_chains++;
		i = 0;
		limit = tn;
	}
	for (;;) {
		uint16_t fl;

		if (ind)
			d = tbl[i];
		else if (ccdma_dev_read(fd->dma, q->desc + 16ull * i, &d,
					sizeof(d)))
			goto bad;
		fl = ccdma_le16_to_cpu(d.flags);
		if (n >= limit || n >= FAKE_MAX_SEGS ||
		    (fl & CCDMA_VRING_DESC_F_INDIRECT))
			goto bad;
		segs[n].addr = ccdma_le64_to_cpu(d.addr);
		segs[n].len = ccdma_le32_to_cpu(d.len);
		segs[n].write = fl & CCDMA_VRING_DESC_F_WRITE;
		n++;
		if (!(fl & CCDMA_VRING_DESC_F_NEXT))
			break;
		i = ccdma_le16_to_cpu(d.next);
		if (i >= limit)
			goto bad;
	}
	free(tbl);
	return (int)n;
bad:
	free(tbl);
	return -1;
}

/* Carry out one request; returns the status, *wlen the bytes written. */
static uint8_t fake_exec(struct fake_dev *fd, struct fake_seg *s, int n,
			 uint32_t *wlen)
{
	struct ccdma_vblk_hdr h;
	uint32_t type, i, data = 0;
	uint64_t off;

	*wlen = 0;
	if (n < 2 || s[0].write || s[0].len < sizeof(h) || !s[n - 1].write ||
	    s[n - 1].len < 1 ||
	    ccdma_dev_read(fd->dma, s[0].addr, &h, sizeof(h))) {
		fd->malformed++;
		return CCDMA_VBLK_S_IOERR;
	}
	type = ccdma_le32_to_cpu(h.type);
	fd->by_type[type & 15]++;
	if ((unsigned)n > fd->max_chain)
		fd->max_chain = (unsigned)n;
	for (i = 1; i + 1 < (unsigned)n; i++)
		data += s[i].len;
	if (fd->ioerr_next) {
		fd->ioerr_next--;
		return CCDMA_VBLK_S_IOERR;
	}
	if (fd->unsupp_next) {
		fd->unsupp_next--;
		return CCDMA_VBLK_S_UNSUPP;
	}
	off = ccdma_le64_to_cpu(h.sector) * 512;
	switch (type) {
	case CCDMA_VBLK_T_IN:
	case CCDMA_VBLK_T_OUT:
		if (off > fd->disk_bytes || data > fd->disk_bytes - off)
			return CCDMA_VBLK_S_IOERR;
		for (i = 1; i + 1 < (unsigned)n; i++) {
			int rc;

			if (s[i].write != (type == CCDMA_VBLK_T_IN)) {
				fd->malformed++;
				return CCDMA_VBLK_S_IOERR;
			}
			if (type == CCDMA_VBLK_T_IN)
				rc = ccdma_dev_write(fd->dma, s[i].addr,
						     fd->disk + off, s[i].len);
			else
				rc = ccdma_dev_read(fd->dma, s[i].addr,
						    fd->disk + off, s[i].len);
			if (rc) {
				fd->faults++;
				return CCDMA_VBLK_S_IOERR;
			}
			off += s[i].len;
		}
		if (type == CCDMA_VBLK_T_IN)
			*wlen = data;
		return CCDMA_VBLK_S_OK;
	case CCDMA_VBLK_T_FLUSH:
		if (!fake_has(fd, CCDMA_VIRTIO_BLK_F_FLUSH))
			return CCDMA_VBLK_S_UNSUPP;
		return CCDMA_VBLK_S_OK;
	case CCDMA_VBLK_T_GET_ID:
		if (n != 3 || !s[1].write || s[1].len < CCDMA_VBLK_ID_BYTES)
			return CCDMA_VBLK_S_IOERR;
		if (ccdma_dev_write(fd->dma, s[1].addr, fd->id,
				    CCDMA_VBLK_ID_BYTES)) {
			fd->faults++;
			return CCDMA_VBLK_S_IOERR;
		}
		*wlen = CCDMA_VBLK_ID_BYTES;
		return CCDMA_VBLK_S_OK;
	case CCDMA_VBLK_T_DISCARD:
	case CCDMA_VBLK_T_WRITE_ZEROES: {
		struct ccdma_vblk_dwz w;
		uint64_t sec, cnt;

		if (!fake_has(fd, type == CCDMA_VBLK_T_DISCARD
					  ? CCDMA_VIRTIO_BLK_F_DISCARD
					  : CCDMA_VIRTIO_BLK_F_WRITE_ZEROES))
			return CCDMA_VBLK_S_UNSUPP;
		if (n != 3 || s[1].write || s[1].len != sizeof(w) ||
		    ccdma_dev_read(fd->dma, s[1].addr, &w, sizeof(w))) {
			fd->malformed++;
			return CCDMA_VBLK_S_IOERR;
		}
		sec = ccdma_le64_to_cpu(w.sector);
		cnt = ccdma_le32_to_cpu(w.num_sectors);
		fd->last_dwz_flags = ccdma_le32_to_cpu(w.flags);
		fd->dwz_sectors += cnt;
		if (cnt > ccdma_get_le32(fd->cfg + (type == CCDMA_VBLK_T_DISCARD
				? CCDMA_VBLK_CFG_MAX_DISCARD_SECTORS
				: CCDMA_VBLK_CFG_MAX_WZ_SECTORS))) {
			fd->malformed++;
			return CCDMA_VBLK_S_IOERR;
		}
		if (sec * 512 > fd->disk_bytes ||
		    cnt * 512 > fd->disk_bytes - sec * 512)
			return CCDMA_VBLK_S_IOERR;
		/* Discarded sectors read back as 0xdd here, zeroed ones as 0. */
		memset(fd->disk + sec * 512,
		       type == CCDMA_VBLK_T_DISCARD ? 0xdd : 0, cnt * 512);
		return CCDMA_VBLK_S_OK;
	}
	default:
		return CCDMA_VBLK_S_UNSUPP;
	}
}

static void fake_push_used(struct fake_dev *fd, struct fake_q *q, uint32_t id,
			   uint32_t len)
{
	struct ccdma_vring_used_elem e;

	e.id = ccdma_cpu_to_le32(id);
	e.len = ccdma_cpu_to_le32(len);
	if (ccdma_dev_write(fd->dma, q->used + 4 + 8ull * (q->used_idx % q->num),
			    &e, sizeof(e)))
		fd->faults++;
	q->used_idx++;
}

/* Process everything available on queue qi (fd->lock held). */
static void fake_process(struct fake_dev *fd, unsigned qi)
{
	struct fake_q *q = &fd->q[qi];
	struct fake_seg *segs;
	uint16_t old_used = q->used_idx, avail;
	bool ev = fake_has(fd, CCDMA_VIRTIO_F_EVENT_IDX);

	if (!q->started || fd->broken || fd->hold)
		return;
	segs = malloc(sizeof(*segs) * FAKE_MAX_SEGS);
	REQUIRE(segs);
	if (!ev)
		fake_st16(fd, q->used, fd->no_notify ? CCDMA_VRING_USED_F_NO_NOTIFY
						     : 0, __ATOMIC_RELAXED);
	for (;;) {
		avail = fake_ld16(fd, q->avail + 2, __ATOMIC_ACQUIRE);
		while (q->last_avail != avail) {
			uint16_t head = 0;
			uint32_t wlen = 0, id;
			uint8_t st;
			int n;

			if (ccdma_dev_read(fd->dma, q->avail + 4 + 2ull *
					   (q->last_avail % q->num), &head, 2))
				fd->faults++;
			head = ccdma_get_le16(&head);
			q->last_avail++;
			fd->chains++;
			n = fake_chain(fd, q, head, segs);
			if (n < 0) {
				fd->malformed++;
				continue;
			}
			if (fd->evil == FAKE_IOERR_CLAIM &&
			    fd->completions == fd->evil_at) {
				st = CCDMA_VBLK_S_IOERR;
				for (int k = 1; k + 1 < n; k++)
					wlen += segs[k].write ? segs[k].len : 0;
			} else {
				st = fake_exec(fd, segs, n, &wlen);
			}
			if (fd->evil && fd->completions == fd->evil_at) {
				if (fd->evil == FAKE_BAD_STATUS)
					st = 7;
			}
			if (!(fd->evil == FAKE_NO_STATUS &&
			      fd->completions == fd->evil_at) &&
			    ccdma_dev_write(fd->dma, segs[n - 1].addr, &st, 1))
				fd->faults++;
			id = head;
			wlen += 1;
			if (fd->evil && fd->completions == fd->evil_at) {
				switch (fd->evil) {
				case FAKE_ID_RANGE:
					id = q->num + 7;
					break;
				case FAKE_ID_NOT_INFLIGHT:
					/* Far from the heads in flight. */
					id = (head + q->num / 2) % q->num;
					break;
				case FAKE_LEN_BIG:
					wlen += 4096;
					break;
				case FAKE_LEN_SHORT:
					wlen = wlen > 1000 ? wlen - 1000 : 0;
					break;
				case FAKE_DOUBLE:
					/* This one completes normally; the next
					 * completion reports it again instead of
					 * its own chain. */
					fd->dup_id = id;
					fd->evil_at++;
					fd->evil = FAKE_DOUBLE_2;
					break;
				case FAKE_DOUBLE_2:
					id = fd->dup_id;
					break;
				case FAKE_IDX_JUMP:
					q->used_idx += q->num + 3;
					break;
				default:
					break;
				}
			}
			fake_push_used(fd, q, id, wlen);
			fd->completions++;
		}
		if (ev)
			fake_st16(fd, q->used + 4 + 8ull * q->num, q->last_avail,
				  __ATOMIC_SEQ_CST);
		else if (!fd->no_notify)
			fake_st16(fd, q->used, 0, __ATOMIC_SEQ_CST);
		/* Store-load ordered against the driver's publish. */
		if (fake_ld16(fd, q->avail + 2, __ATOMIC_SEQ_CST) == q->last_avail)
			break;
	}
	free(segs);
	if (q->used_idx == old_used)
		return;
	/* Store-load ordered against the driver's arm. */
	fake_st16(fd, q->used + 2, q->used_idx, __ATOMIC_SEQ_CST);
	if (ev ? ccdma_vring_need_event(fake_ld16(fd, q->avail + 4 + 2ull * q->num,
						  __ATOMIC_SEQ_CST),
					q->used_idx, old_used)
	       : !(fake_ld16(fd, q->avail, __ATOMIC_SEQ_CST) &
		   CCDMA_VRING_AVAIL_F_NO_INTERRUPT)) {
		q->signals++;
		q->irqs++;
		pthread_cond_broadcast(&fd->irq_cond);
	}
}

static void fake_process_all(struct fake_dev *fd)
{
	unsigned i;

	for (i = 0; i < fd->nq; i++)
		fake_process(fd, i);
}

static void *fake_thread(void *arg)
{
	struct fake_dev *fd = arg;

	pthread_mutex_lock(&fd->lock);
	while (!fd->stop) {
		if (!fd->kicked) {
			pthread_cond_wait(&fd->dev_cond, &fd->lock);
			continue;
		}
		fd->kicked = false;
		fake_process_all(fd);
	}
	pthread_mutex_unlock(&fd->lock);
	return NULL;
}

/* ---- the transport ----------------------------------------------------- */

static struct ccdma_dev *fake_dma_dev(void *ctx)
{
	return ((struct fake_dev *)ctx)->dma;
}

static uint64_t fake_device_features(void *ctx)
{
	return ((struct fake_dev *)ctx)->offered;
}

static int fake_set_features(void *ctx, uint64_t f)
{
	struct fake_dev *fd = ctx;
	int rc = 0;

	pthread_mutex_lock(&fd->lock);
	fd->set_features_calls++;
	if (fd->broken)
		rc = -ENODEV;
	else if (f & ~fd->offered)
		rc = -EINVAL;
	else
		fd->acked = f;
	pthread_mutex_unlock(&fd->lock);
	return rc;
}

static int fake_get_config(void *ctx, uint32_t off, void *buf, uint32_t len)
{
	struct fake_dev *fd = ctx;
	int rc = 0;

	pthread_mutex_lock(&fd->lock);
	if (fd->no_config)
		rc = -EOPNOTSUPP;
	else if (fd->broken)
		rc = -ENODEV;
	else if (off > sizeof(fd->cfg) || len > sizeof(fd->cfg) - off)
		rc = -EIO;
	else
		memcpy(buf, fd->cfg + off, len);
	fd->config_reads++;
	if (!rc && fd->cfg_flip) {
		uint8_t t[CCDMA_VBLK_CFG_SIZE];

		memcpy(t, fd->cfg, sizeof(t));
		memcpy(fd->cfg, fd->cfg_alt, sizeof(t));
		memcpy(fd->cfg_alt, t, sizeof(t));
	}
	pthread_mutex_unlock(&fd->lock);
	return rc;
}

static unsigned fake_max_queues(void *ctx)
{
	return ((struct fake_dev *)ctx)->nq;
}

static unsigned fake_max_queue_size(void *ctx, unsigned q)
{
	(void)q;
	return ((struct fake_dev *)ctx)->qmax;
}

static int fake_queue_start(void *ctx, unsigned qi, const struct ccdma_vq_layout *l)
{
	struct fake_dev *fd = ctx;
	struct fake_q *q;
	int rc = 0;

	pthread_mutex_lock(&fd->lock);
	if (fd->broken)
		rc = -ENODEV;
	else if (qi >= fd->nq || !l->num || l->num > fd->qmax ||
		 (l->num & (l->num - 1)))
		rc = -EINVAL;
	if (!rc) {
		q = &fd->q[qi];
		memset(q, 0, sizeof(*q));
		q->num = l->num;
		q->desc = l->desc_dma;
		q->avail = l->avail_dma;
		q->used = l->used_dma;
		q->started = true;
	}
	pthread_mutex_unlock(&fd->lock);
	return rc;
}

static int fake_notify(void *ctx, unsigned qi)
{
	struct fake_dev *fd = ctx;
	int rc = 0;

	pthread_mutex_lock(&fd->lock);
	if (fd->broken) {
		rc = -ENODEV;
	} else if (qi < fd->nq) {
		fd->q[qi].kicks++;
		if (fd->threaded) {
			fd->kicked = true;
			pthread_cond_signal(&fd->dev_cond);
		} else if (!fd->lazy) {
			fake_process(fd, qi);
		}
	}
	pthread_mutex_unlock(&fd->lock);
	return rc;
}

static int fake_wait(void *ctx, unsigned qi, uint64_t timeout_ns)
{
	struct fake_dev *fd = ctx;
	struct fake_q *q = &fd->q[qi];
	struct timespec ts;
	int rc = 0;

	pthread_mutex_lock(&fd->lock);
	if (fd->lazy && !fd->threaded)
		fake_process(fd, qi);
	if (fd->threaded && timeout_ns && !q->signals && !fd->broken) {
		clock_gettime(CLOCK_REALTIME, &ts);
		if (timeout_ns > 3600ull * 1000000000ull)
			timeout_ns = 3600ull * 1000000000ull;
		ts.tv_sec += (time_t)(timeout_ns / 1000000000u);
		ts.tv_nsec += (long)(timeout_ns % 1000000000u);
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		while (!q->signals && !fd->broken)
			if (pthread_cond_timedwait(&fd->irq_cond, &fd->lock, &ts))
				break;
	}
	if (q->signals)
		q->signals = 0;
	else
		rc = fd->broken ? -ENODEV : -ETIMEDOUT;
	pthread_mutex_unlock(&fd->lock);
	return rc;
}

static void fake_fail(void *ctx, const char *why)
{
	struct fake_dev *fd = ctx;

	pthread_mutex_lock(&fd->lock);
	fd->broken = true;
	fd->fails++;
	snprintf(fd->why, sizeof(fd->why), "%s", why);
	pthread_cond_broadcast(&fd->irq_cond);
	pthread_mutex_unlock(&fd->lock);
}

static bool fake_broken(void *ctx)
{
	struct fake_dev *fd = ctx;
	bool b;

	pthread_mutex_lock(&fd->lock);
	b = fd->broken;
	pthread_mutex_unlock(&fd->lock);
	return b;
}

static const struct ccdma_virtio_transport_ops fake_ops = {
	.dma_dev = fake_dma_dev,
	.device_features = fake_device_features,
	.set_features = fake_set_features,
	.get_config = fake_get_config,
	.max_queues = fake_max_queues,
	.max_queue_size = fake_max_queue_size,
	.queue_start = fake_queue_start,
	.notify = fake_notify,
	.wait = fake_wait,
	.fail = fake_fail,
	.broken = fake_broken,
};

/* ---- test side ---------------------------------------------------------- */

static inline void fake_opts_init(struct fake_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->mode = CCDMA_MODE_CONFIDENTIAL;
	o->disk_bytes = 16u << 20;
	o->nq = 1;
	o->qmax = 256;
}

/* Set up the device (a dma device of its own, a RAM disk with a pattern,
 * the default config); the threaded device starts at fake_start(). */
static inline void fake_init(struct fake_dev *fd, const struct fake_opts *o)
{
	struct ccdma_pool_config pc;
	struct ccdma_dev_config dc;
	uint64_t i;

	memset(fd, 0, sizeof(*fd));
	test_config(&pc, "vblk");
	pc.max_bytes = 256u << 20;
	ccdma_dev_config_init(&dc);
	dc.flags = o->dev_flags;
	fd->dma = test_dev("vblk", &dc, o->mode, &pc);
	fd->t.ops = &fake_ops;
	fd->t.ctx = fd;
	pthread_mutex_init(&fd->lock, NULL);
	pthread_cond_init(&fd->dev_cond, NULL);
	pthread_cond_init(&fd->irq_cond, NULL);
	fd->offered = o->features ? o->features : fake_default_features();
	fd->nq = o->nq;
	fd->qmax = o->qmax;
	fd->threaded = o->threaded;
	fd->disk_bytes = o->disk_bytes;
	fd->disk = malloc(o->disk_bytes);
	REQUIRE(fd->disk);
	for (i = 0; i < o->disk_bytes; i++)
		fd->disk[i] = (uint8_t)(i * 7 + (i >> 9));
	memcpy(fd->id, "ccdma-fake-0123456789", CCDMA_VBLK_ID_BYTES);
	fake_cfg64(fd, CCDMA_VBLK_CFG_CAPACITY, o->disk_bytes / 512);
	fake_cfg32(fd, CCDMA_VBLK_CFG_SIZE_MAX, 64u << 10);
	fake_cfg32(fd, CCDMA_VBLK_CFG_SEG_MAX, 32);
	fake_cfg32(fd, CCDMA_VBLK_CFG_BLK_SIZE, 512);
	fake_cfg16(fd, CCDMA_VBLK_CFG_NUM_QUEUES, (uint16_t)o->nq);
	fake_cfg32(fd, CCDMA_VBLK_CFG_MAX_DISCARD_SECTORS, 2048);
	fake_cfg32(fd, CCDMA_VBLK_CFG_MAX_DISCARD_SEG, 1);
	fake_cfg32(fd, CCDMA_VBLK_CFG_DISCARD_ALIGN, 1);
	fake_cfg32(fd, CCDMA_VBLK_CFG_MAX_WZ_SECTORS, 4096);
	fake_cfg32(fd, CCDMA_VBLK_CFG_MAX_WZ_SEG, 1);
	fd->cfg[CCDMA_VBLK_CFG_WZ_MAY_UNMAP] = 1;
	if (fd->threaded)
		REQUIRE(pthread_create(&fd->thr, NULL, fake_thread, fd) == 0);
}

/* Let a held device run (synchronous: at once; threaded: kick it). */
static inline void fake_release(struct fake_dev *fd)
{
	pthread_mutex_lock(&fd->lock);
	fd->hold = false;
	if (fd->threaded) {
		fd->kicked = true;
		pthread_cond_signal(&fd->dev_cond);
	} else {
		fake_process_all(fd);
	}
	pthread_mutex_unlock(&fd->lock);
}

static inline void fake_set_hold(struct fake_dev *fd, bool hold)
{
	pthread_mutex_lock(&fd->lock);
	fd->hold = hold;
	pthread_mutex_unlock(&fd->lock);
	if (!hold)
		fake_release(fd);
}

static inline void fake_set_evil(struct fake_dev *fd, enum fake_evil e,
				 uint64_t after_completions)
{
	pthread_mutex_lock(&fd->lock);
	fd->evil = e;
	fd->evil_at = fd->completions + after_completions;
	pthread_mutex_unlock(&fd->lock);
}

/* Tear down; checks that the device never touched what it may not. */
static inline void fake_fini(struct fake_dev *fd)
{
	if (fd->threaded) {
		pthread_mutex_lock(&fd->lock);
		fd->stop = true;
		pthread_cond_signal(&fd->dev_cond);
		pthread_mutex_unlock(&fd->lock);
		pthread_join(fd->thr, NULL);
	}
	CHECK_EQ(fd->faults, 0);
	CHECK_EQ(fd->malformed, 0);
	CHECK_EQ(ccdma_dev_faults(fd->dma), 0);
	CHECK_EQ(ccdma_dev_destroy(fd->dma), 0);
	pthread_cond_destroy(&fd->irq_cond);
	pthread_cond_destroy(&fd->dev_cond);
	pthread_mutex_destroy(&fd->lock);
	free(fd->disk);
}

/* Pool copy counters of the device. */
struct fake_bounce {
	uint64_t to, from;
};

static inline struct fake_bounce fake_bounced(struct fake_dev *fd)
{
	struct ccdma_pool_stats st;
	struct fake_bounce b;

	REQUIRE(ccdma_pool_get_stats(ccdma_dev_pool(fd->dma), &st) == 0);
	b.to = st.bounced_to_device_bytes;
	b.from = st.bounced_from_device_bytes;
	return b;
}

/* Allocations the device's pool has made so far. */
static inline uint64_t fake_pool_allocs(struct fake_dev *fd)
{
	struct ccdma_pool_stats st;

	REQUIRE(ccdma_pool_get_stats(ccdma_dev_pool(fd->dma), &st) == 0);
	return st.allocs;
}

/* Fill with a pattern from seed. */
static inline void fake_pattern(void *buf, size_t len, uint64_t seed)
{
	uint8_t *p = buf;
	uint64_t s = seed | 1;
	size_t i;

	for (i = 0; i < len; i++) {
		if (!(i & 7))
			s = xorshift(&s);
		p[i] = (uint8_t)(s >> (8 * (i & 7)));
	}
}

/* Create the driver over fd (cfg may be NULL); must succeed. */
static inline struct ccdma_vblk *fake_vblk(struct fake_dev *fd,
					   const struct ccdma_vblk_config *cfg)
{
	struct ccdma_vblk *b = NULL;
	int rc = ccdma_vblk_create(&fd->t, cfg, &b);

	if (rc) {
		fprintf(stderr, "ccdma_vblk_create: %d\n", rc);
		exit(1);
	}
	return b;
}

/* Completion counting for asynchronous tests. */
struct fake_done {
	unsigned n, errs;
	int last_status;
};

static inline void fake_done_cb(struct ccdma_vblk_req *r)
{
	struct fake_done *d = r->user;

	__atomic_add_fetch(&d->n, 1, __ATOMIC_RELAXED);
	if (r->status)
		__atomic_add_fetch(&d->errs, 1, __ATOMIC_RELAXED);
	d->last_status = r->status;
}

#endif /* CCDMA_VIRTIO_FAKE_DEV_H */
