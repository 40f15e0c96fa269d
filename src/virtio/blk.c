/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk driver over a virtio transport (ccdma/virtio_blk.h).
 *
 * Each queue has a lock, a split virtqueue (virtqueue.h) and, per head id,
 * a private part record (which request, which data mapping) and 64 bytes
 * of coherent scratch preallocated at create: the request header at 0, the
 * discard / write-zeroes segment at 16 and the status byte at 32.  The I/O
 * path allocates nothing except the dma layer's bounce.
 *
 * Splitting.  A READ or WRITE is cut into parts of at most max_request
 * bytes (seg_max x size_max, at most 4 MiB, a multiple of the block size).
 * Each part maps its slice of the buffer once and describes the contiguous
 * DMA range with ceil(len / size_max) data descriptors.  DISCARD and
 * WRITE_ZEROES are cut by max_discard_sectors / max_write_zeroes_sectors,
 * one segment per part.  Submit is all or nothing: every part is posted,
 * or none (-EAGAIN when the ring lacks room now; -EINVAL, logged, when the
 * parts would not fit even an empty ring: info.max_transfer is the limit).
 *
 * Breaking.  A malformed used entry, a bad status byte or a transport that
 * reports the device gone sets b->broken and calls the transport's fail()
 * once.  Each queue then completes its in-flight requests with -ENODEV (the
 * queue that saw the fault at once, the others at their next poll, wait or
 * destroy), and every later call returns -ENODEV.
 */
#include <ccdma/virtio_blk.h>

#include "virtio/virtqueue.h"

#define VBLK_MAX_QUEUES 16u
#define VBLK_DEFAULT_QSIZE 256u
/* size_max when the device does not offer it, and the cap when it does. */
#define VBLK_DEFAULT_SIZE_MAX (1u << 20)
#define VBLK_SIZE_MAX_CAP (4u << 20)
/* Bytes per virtio request at most: bounds the bounce allocation of one
 * part and the indirect table size. */
#define VBLK_MAX_REQUEST_CAP (4u << 20)

/* Scratch layout per head (coherent). */
#define SCR_HDR 0u
#define SCR_DWZ 16u
#define SCR_STATUS 32u
#define SCR_SIZE 64u
/* Status value the driver stores before posting: a device that completes
 * without writing a status is caught as a bad status. */
#define STATUS_UNSET 0xffu

#define VBLK_KNOWN_FLAGS CCDMA_VBLK_REQ_UNMAP
/* Internal (the synchronous helpers): map with CCDMA_ATTR_WAIT. */
#define VBLK_REQ_WAIT_ (1u << 31)

struct vblk_part {
	struct ccdma_vblk_req *req;
	ccdma_addr_t dma;
	uint32_t len;            /* mapped bytes; 0: no data mapping */
	uint8_t dir;
};

struct vblk_queue {
	_Alignas(64) ccdma_mutex_t lock;
	struct ccdma_vq *vq;
	struct vblk_part *part;  /* by head id */
	struct ccdma_vq_buf *bufs;       /* one chain being built */
	uint16_t *heads;         /* heads of the request being posted */
	unsigned reqs;           /* requests in flight */
	unsigned waiters;
	bool lock_ok;
	struct ccdma_vblk_stats st;
};

struct ccdma_vblk {
	struct ccdma_virtio_transport t;
	struct ccdma_dev *dev;
	struct ccdma_vblk_info info;
	unsigned chain_max;      /* buffers in one chain: seg_max + 2 */
	uint32_t poll_ns;        /* wait(): poll this long before blocking */
	unsigned broken;             /* atomic (a word: riscv64 has no 1-byte exchange) */
	struct vblk_queue *q;
};

void ccdma_vblk_config_init(struct ccdma_vblk_config *cfg)
{
	if (!cfg)
		return;
	ccdma_memset(cfg, 0, sizeof(*cfg));
}

static inline bool is_broken(struct ccdma_vblk *b)
{
	return __atomic_load_n(&b->broken, __ATOMIC_ACQUIRE);
}

/* Mark the device broken (once) and tell the transport. */
static void vblk_break(struct ccdma_vblk *b, unsigned q, const char *why)
{
	if (__atomic_exchange_n(&b->broken, 1u, __ATOMIC_ACQ_REL))
		return;
	ccdma_err("virtio-blk: queue %u: %s: device marked broken", q, why);
	b->t.ops->fail(b->t.ctx, why);
}

/* ---- create / destroy ------------------------------------------------- */

static int cfg_read(struct ccdma_vblk *b, uint32_t off, void *buf, uint32_t len)
{
	int rc = b->t.ops->get_config(b->t.ctx, off, buf, len);

	if (rc == -EOPNOTSUPP) {
		ccdma_err("virtio-blk: the transport gives no config access");
		return -ENOTSUP;
	}
	if (rc)
		ccdma_err("virtio-blk: reading config at %u: error %d", off, rc);
	return rc;
}

static int cfg_le32(struct ccdma_vblk *b, uint32_t off, uint32_t *v)
{
	uint8_t raw[4];
	int rc = cfg_read(b, off, raw, 4);

	if (!rc)
		*v = ccdma_get_le32(raw);
	return rc;
}

static bool has(uint64_t f, unsigned bit)
{
	return f & (1ull << bit);
}

/* Read and validate config space into b->info (features are set). */
static int read_config(struct ccdma_vblk *b, unsigned *nq_dev)
{
	struct ccdma_vblk_info *in = &b->info;
	uint64_t f = in->features;
	uint8_t raw[8];
	uint32_t v;
	int rc;

	rc = cfg_read(b, CCDMA_VBLK_CFG_CAPACITY, raw, 8);
	if (rc)
		return rc;
	in->capacity = ccdma_get_le64(raw);
	if (in->capacity > UINT64_MAX / CCDMA_VBLK_SECTOR) {
		ccdma_err("virtio-blk: capacity of %llu sectors overflows a "
			  "byte count", (unsigned long long)in->capacity);
		return -ENOTSUP;
	}

	in->blk_size = CCDMA_VBLK_SECTOR;
	if (has(f, CCDMA_VIRTIO_BLK_F_BLK_SIZE)) {
		if ((rc = cfg_le32(b, CCDMA_VBLK_CFG_BLK_SIZE, &v)))
			return rc;
		if (v < 512 || v > 65536 || (v & (v - 1))) {
			ccdma_err("virtio-blk: block size %u is not a power of "
				  "two from 512 to 65536", v);
			return -ENOTSUP;
		}
		in->blk_size = v;
	}

	in->seg_max = 1;
	if (has(f, CCDMA_VIRTIO_BLK_F_SEG_MAX)) {
		if ((rc = cfg_le32(b, CCDMA_VBLK_CFG_SEG_MAX, &v)))
			return rc;
		if (!v) {
			ccdma_err("virtio-blk: seg_max is 0");
			return -ENOTSUP;
		}
		in->seg_max = v;
	}

	in->size_max = VBLK_DEFAULT_SIZE_MAX;
	if (has(f, CCDMA_VIRTIO_BLK_F_SIZE_MAX)) {
		if ((rc = cfg_le32(b, CCDMA_VBLK_CFG_SIZE_MAX, &v)))
			return rc;
		/* 0 states no limit (qemu-storage-daemon 7.2 offers the
		 * feature with 0): the default applies. */
		if (v && v < CCDMA_VBLK_SECTOR) {
			ccdma_err("virtio-blk: size_max %u is below one sector",
				  v);
			return -ENOTSUP;
		}
		if (v)
			in->size_max = v < VBLK_SIZE_MAX_CAP ? v : VBLK_SIZE_MAX_CAP;
	}

	*nq_dev = 1;
	if (has(f, CCDMA_VIRTIO_BLK_F_MQ)) {
		unsigned max = b->t.ops->max_queues(b->t.ctx);

		if ((rc = cfg_read(b, CCDMA_VBLK_CFG_NUM_QUEUES, raw, 2)))
			return rc;
		v = ccdma_get_le16(raw);
		if (!v || v > max) {
			ccdma_err("virtio-blk: num_queues %u is not within 1 .. "
				  "%u (the transport's queues)", v, max);
			return -ENOTSUP;
		}
		*nq_dev = v;
	}

	in->discard = has(f, CCDMA_VIRTIO_BLK_F_DISCARD);
	if (in->discard) {
		uint32_t seg;

		if ((rc = cfg_le32(b, CCDMA_VBLK_CFG_MAX_DISCARD_SECTORS, &v)) ||
		    (rc = cfg_le32(b, CCDMA_VBLK_CFG_MAX_DISCARD_SEG, &seg)))
			return rc;
		if (!v || !seg) {
			ccdma_warn("virtio-blk: discard offered with "
				   "max_discard_sectors %u, max_discard_seg %u: "
				   "not used", v, seg);
			in->discard = false;
		}
		in->max_discard_sectors = in->discard ? v : 0;
	}
	in->write_zeroes = has(f, CCDMA_VIRTIO_BLK_F_WRITE_ZEROES);
	if (in->write_zeroes) {
		uint32_t seg;

		if ((rc = cfg_le32(b, CCDMA_VBLK_CFG_MAX_WZ_SECTORS, &v)) ||
		    (rc = cfg_le32(b, CCDMA_VBLK_CFG_MAX_WZ_SEG, &seg)))
			return rc;
		if (!v || !seg) {
			ccdma_warn("virtio-blk: write-zeroes offered with "
				   "max_write_zeroes_sectors %u, "
				   "max_write_zeroes_seg %u: not used", v, seg);
			in->write_zeroes = false;
		}
		in->max_write_zeroes_sectors = in->write_zeroes ? v : 0;
	}
	in->read_only = has(f, CCDMA_VIRTIO_BLK_F_RO);
	in->flush = has(f, CCDMA_VIRTIO_BLK_F_FLUSH);
	in->event_idx = has(f, CCDMA_VIRTIO_F_EVENT_IDX);
	in->indirect = has(f, CCDMA_VIRTIO_F_INDIRECT_DESC);
	return 0;
}

/* Segment and request limits, once the queue size is known. */
static void size_limits(struct ccdma_vblk *b)
{
	struct ccdma_vblk_info *in = &b->info;
	unsigned num = in->queue_size;
	uint32_t segs = in->seg_max, per_part;
	uint64_t req, unit;
	unsigned parts;

	/* A chain (header, data, status) may not be longer than the ring,
	 * direct or indirect. */
	if (segs > num - 2)
		segs = num - 2;
	req = (uint64_t)segs * in->size_max;
	if (req > VBLK_MAX_REQUEST_CAP)
		req = VBLK_MAX_REQUEST_CAP;
	unit = req >= in->blk_size ? in->blk_size : CCDMA_VBLK_SECTOR;
	req -= req % unit;
	in->max_request = (uint32_t)req;
	in->seg_max = (uint32_t)((req + in->size_max - 1) / in->size_max);
	b->chain_max = in->seg_max + 2;

	per_part = in->indirect ? 1 : in->seg_max + 2;
	parts = num / per_part;
	in->max_transfer = (uint64_t)parts * in->max_request;
	/* DISCARD / WRITE_ZEROES parts take three descriptors. */
	parts = in->indirect ? num : num / 3;
	in->max_transfer_dwz = 0;
	if (in->discard)
		in->max_transfer_dwz = (uint64_t)parts * in->max_discard_sectors;
	if (in->write_zeroes) {
		uint64_t wz = (uint64_t)parts * in->max_write_zeroes_sectors;

		if (!in->discard || wz < in->max_transfer_dwz)
			in->max_transfer_dwz = wz;
	}
}

static void queue_fini(struct ccdma_vblk *b, struct vblk_queue *qq)
{
	(void)b;
	ccdma_vq_destroy(qq->vq);
	ccdma_os_free(qq->part);
	ccdma_os_free(qq->bufs);
	ccdma_os_free(qq->heads);
	if (qq->lock_ok)
		ccdma_mutex_destroy(&qq->lock);
}

static int queue_init(struct ccdma_vblk *b, unsigned i)
{
	struct vblk_queue *qq = &b->q[i];
	struct ccdma_vq_layout l;
	unsigned num = b->info.queue_size;
	int rc;

	if (ccdma_mutex_init(&qq->lock))
		return -ENOMEM;
	qq->lock_ok = true;
	qq->part = ccdma_os_calloc(num, sizeof(*qq->part));
	qq->bufs = ccdma_os_calloc(b->chain_max, sizeof(*qq->bufs));
	qq->heads = ccdma_os_calloc(num, sizeof(*qq->heads));
	if (!qq->part || !qq->bufs || !qq->heads)
		return -ENOMEM;
	rc = ccdma_vq_create(b->dev, i, num, b->info.event_idx,
			     b->info.indirect ? b->chain_max : 0, SCR_SIZE,
			     &qq->vq);
	if (rc)
		return rc;
	ccdma_vq_layout(qq->vq, &l);
	rc = b->t.ops->queue_start(b->t.ctx, i, &l);
	if (rc)
		ccdma_err("virtio-blk: starting queue %u: error %d", i, rc);
	return rc;
}

int ccdma_vblk_create(const struct ccdma_virtio_transport *t,
		      const struct ccdma_vblk_config *cfg,
		      struct ccdma_vblk **out)
{
	const uint64_t wanted = 1ull << CCDMA_VIRTIO_F_VERSION_1 |
		1ull << CCDMA_VIRTIO_F_EVENT_IDX |
		1ull << CCDMA_VIRTIO_F_INDIRECT_DESC |
		1ull << CCDMA_VIRTIO_BLK_F_SIZE_MAX |
		1ull << CCDMA_VIRTIO_BLK_F_SEG_MAX |
		1ull << CCDMA_VIRTIO_BLK_F_BLK_SIZE |
		1ull << CCDMA_VIRTIO_BLK_F_RO |
		1ull << CCDMA_VIRTIO_BLK_F_FLUSH |
		1ull << CCDMA_VIRTIO_BLK_F_DISCARD |
		1ull << CCDMA_VIRTIO_BLK_F_WRITE_ZEROES |
		1ull << CCDMA_VIRTIO_BLK_F_MQ;
	struct ccdma_vblk_config def;
	struct ccdma_vblk *b;
	uint64_t offered;
	unsigned nq_dev, nq = 0, qsize, i;
	int rc;

	if (out)
		*out = NULL;
	if (!t || !t->ops || !out) {
		ccdma_err("virtio-blk: create: NULL transport or result");
		return -EINVAL;
	}
	if (!cfg) {
		ccdma_vblk_config_init(&def);
		cfg = &def;
	}
	if (cfg->num_queues > VBLK_MAX_QUEUES) {
		ccdma_err("virtio-blk: %u queues asked, at most %u",
			  cfg->num_queues, VBLK_MAX_QUEUES);
		return -EINVAL;
	}
	qsize = cfg->queue_size ? cfg->queue_size : VBLK_DEFAULT_QSIZE;
	if (qsize < 4 || qsize > CCDMA_VRING_MAX_NUM || (qsize & (qsize - 1))) {
		ccdma_err("virtio-blk: queue size %u is not a power of two "
			  "from 4 to %u", qsize, CCDMA_VRING_MAX_NUM);
		return -EINVAL;
	}
	if (has(cfg->refuse_features, CCDMA_VIRTIO_F_VERSION_1)) {
		ccdma_err("virtio-blk: VERSION_1 cannot be refused");
		return -EINVAL;
	}
	if (t->ops->broken(t->ctx))
		return -ENODEV;

	b = ccdma_os_calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->t = *t;
	b->poll_ns = cfg->poll_ns;
	b->dev = t->ops->dma_dev(t->ctx);
	if (!b->dev) {
		ccdma_err("virtio-blk: the transport has no dma device");
		rc = -EINVAL;
		goto fail;
	}
	offered = t->ops->device_features(t->ctx);
	if (!has(offered, CCDMA_VIRTIO_F_VERSION_1)) {
		ccdma_err("virtio-blk: the device does not offer VERSION_1 "
			  "(legacy devices are not supported)");
		rc = -ENOTSUP;
		goto fail;
	}
	/* Never ACCESS_PLATFORM nor RING_PACKED: not in `wanted`.  The
	 * driver bounces through the dma layer whatever the device says. */
	b->info.features = offered & wanted & ~cfg->refuse_features;
	rc = t->ops->set_features(t->ctx, b->info.features);
	if (rc) {
		ccdma_err("virtio-blk: setting features %#llx: error %d",
			  (unsigned long long)b->info.features, rc);
		goto fail;
	}
	rc = read_config(b, &nq_dev);
	if (rc)
		goto fail;

	nq = cfg->num_queues ? cfg->num_queues : VBLK_MAX_QUEUES;
	if (nq > nq_dev)
		nq = nq_dev;
	for (i = 0; i < nq; i++) {
		unsigned m = t->ops->max_queue_size(t->ctx, i);

		if (m < 4 || m > CCDMA_VRING_MAX_NUM || (m & (m - 1))) {
			ccdma_err("virtio-blk: queue %u: the device's largest "
				  "size %u is not a power of two from 4 to %u",
				  i, m, CCDMA_VRING_MAX_NUM);
			rc = -ENOTSUP;
			goto fail;
		}
		if (qsize > m)
			qsize = m;
	}
	b->info.num_queues = nq;
	b->info.queue_size = qsize;
	size_limits(b);

	b->q = ccdma_os_calloc(nq, sizeof(*b->q));
	if (!b->q) {
		rc = -ENOMEM;
		goto fail;
	}
	for (i = 0; i < nq; i++) {
		rc = queue_init(b, i);
		if (rc)
			goto fail;
	}
	ccdma_dbg("virtio-blk: %llu sectors, %u queues of %u, seg_max %u, "
		  "size_max %u, max_request %u, features %#llx",
		  (unsigned long long)b->info.capacity, nq, qsize,
		  b->info.seg_max, b->info.size_max, b->info.max_request,
		  (unsigned long long)b->info.features);
	*out = b;
	return 0;
fail:
	if (b->q) {
		/* A started queue may be in the device's hands. */
		if (b->q[0].vq)
			t->ops->fail(t->ctx, "virtio-blk setup failed");
		for (i = 0; i < nq; i++)
			queue_fini(b, &b->q[i]);
		ccdma_os_free(b->q);
	}
	ccdma_os_free(b);
	return rc;
}

/* ---- completion ------------------------------------------------------- */

struct done_list {
	struct ccdma_vblk_req *head, **tail;
	int n;
};

static void finish_req(struct vblk_queue *qq, struct ccdma_vblk_req *r,
		       int err, struct done_list *dl)
{
	if (err && !r->_err)
		r->_err = err;
	if (++r->_parts_done < r->_parts)
		return;
	r->_next = NULL;
	*dl->tail = r;
	dl->tail = &r->_next;
	dl->n++;
	qq->reqs--;
	qq->st.completed++;
	if (r->_err)
		qq->st.errors++;
}

/* Device-to-memory payloads are mapped with CCDMA_ATTR_REPORTED_LEN:
 * unmap copies the `written` bytes the device reported (its used length
 * less the status byte) and clears the rest, so the bounce is never
 * cleared in advance. */
static void unmap_part(struct ccdma_vblk *b, struct vblk_part *p,
		       uint32_t written)
{
	if (p->len && p->dir == CCDMA_FROM_DEVICE)
		ccdma_unmap_single_written(b->dev, p->dma, p->len,
					   CCDMA_FROM_DEVICE, written);
	else if (p->len)
		ccdma_unmap_single(b->dev, p->dma, p->len, (enum ccdma_dir)p->dir);
	p->len = 0;
}

/* One validated used entry (used_len already clamped to what was
 * posted).  Returns 0, or -EIO for a bad status byte. */
static int complete_head(struct ccdma_vblk *b, struct vblk_queue *qq,
			 unsigned h, uint32_t used_len, struct done_list *dl)
{
	struct vblk_part *p = &qq->part[h];
	ccdma_addr_t sdma;
	uint8_t *scr = ccdma_vq_scratch(qq->vq, h, &sdma);
	uint32_t data_len = p->dir == CCDMA_FROM_DEVICE ? p->len : 0;
	uint32_t written = used_len ? used_len - 1 : 0;
	bool is_read = p->req->op == CCDMA_VBLK_READ;
	uint8_t st;
	int err;

	if (written > data_len)
		written = data_len;
	unmap_part(b, p, written);
	st = __atomic_load_n(scr + SCR_STATUS, __ATOMIC_RELAXED);
	switch (st) {
	case CCDMA_VBLK_S_OK:
		err = 0;
		break;
	case CCDMA_VBLK_S_IOERR:
		err = -EIO;
		break;
	case CCDMA_VBLK_S_UNSUPP:
		err = -EOPNOTSUPP;
		break;
	default:
		finish_req(qq, p->req, -ENODEV, dl);
		return -EIO;
	}
	/* A read the device calls good but reports as short: the driver
	 * must not use bytes beyond the used length (virtio 2.7.8.2), so
	 * the request fails rather than return cleared bytes as data. */
	if (!err && is_read && written < data_len) {
		qq->st.short_reads++;
		err = -EIO;
	}
	finish_req(qq, p->req, err, dl);
	return 0;
}

struct drain_ctx {
	struct ccdma_vblk *b;
	struct vblk_queue *qq;
	struct done_list *dl;
};

static void drain_head(void *arg, unsigned h)
{
	struct drain_ctx *c = arg;
	struct vblk_part *p = &c->qq->part[h];

	unmap_part(c->b, p, 0);
	finish_req(c->qq, p->req, -ENODEV, c->dl);
}

static void drain(struct ccdma_vblk *b, struct vblk_queue *qq,
		  struct done_list *dl)
{
	struct drain_ctx c = { b, qq, dl };

	ccdma_vq_drain(qq->vq, drain_head, &c);
}

/* Take what the device completed on qq (lock held).  Returns 0 or -ENODEV
 * (broken: the queue's in-flight requests are then in dl too). */
static int reap(struct ccdma_vblk *b, unsigned q, struct vblk_queue *qq,
		struct done_list *dl)
{
	struct ccdma_vq *vq = qq->vq;
	const char *why = NULL;
	unsigned h, got = 0;
	uint32_t len;
	bool clamped;
	int rc;

	if (unlikely(is_broken(b)))
		goto dead;
	if (vq->armed && !qq->waiters)
		ccdma_vq_disarm(vq);
	while ((rc = ccdma_vq_get_used(vq, &h, &len, &clamped, &why)) > 0) {
		got++;
		if (unlikely(clamped))
			qq->st.used_len_clamped++;
		if (unlikely(complete_head(b, qq, h, len, dl))) {
			vblk_break(b, q, "bad status byte");
			goto dead;
		}
	}
	if (unlikely(rc < 0)) {
		vblk_break(b, q, why);
		goto dead;
	}
	if (!got && vq->inflight && b->t.ops->broken(b->t.ctx)) {
		vblk_break(b, q, "transport down");
		goto dead;
	}
	return 0;
dead:
	drain(b, qq, dl);
	return -ENODEV;
}

static void run_callbacks(struct done_list *dl)
{
	struct ccdma_vblk_req *r = dl->head, *next;

	for (; r; r = next) {
		next = r->_next;
		r->status = r->_err;
		if (r->done)
			r->done(r);
	}
}

static inline void dl_init(struct done_list *dl)
{
	dl->head = NULL;
	dl->tail = &dl->head;
	dl->n = 0;
}

int ccdma_vblk_poll(struct ccdma_vblk *b, unsigned q)
{
	struct vblk_queue *qq;
	struct done_list dl;
	int rc;

	if (!b || q >= b->info.num_queues)
		return -EINVAL;
	qq = &b->q[q];
	dl_init(&dl);
	ccdma_mutex_lock(&qq->lock);
	rc = reap(b, q, qq, &dl);
	ccdma_mutex_unlock(&qq->lock);
	run_callbacks(&dl);
	return rc ? rc : dl.n;
}

int ccdma_vblk_wait(struct ccdma_vblk *b, unsigned q, uint64_t timeout_ns)
{
	struct vblk_queue *qq;
	uint64_t deadline = UINT64_MAX, now;
	bool signalled = false, more;
	int n, rc;

	n = ccdma_vblk_poll(b, q);
	if (n)
		return n;
	qq = &b->q[q];
	now = ccdma_os_now_ns();
	if (timeout_ns != UINT64_MAX)
		deadline = now + timeout_ns < now ? UINT64_MAX - 1
						  : now + timeout_ns;
	if (b->poll_ns) {
		/* Busy-poll first (bounded by the timeout too). */
		uint64_t end = now + b->poll_ns;

		if (end > deadline)
			end = deadline;
		do {
			for (unsigned k = 0; k < 32; k++)
				ccdma_cpu_relax();
			n = ccdma_vblk_poll(b, q);
			if (n)
				return n;
		} while (ccdma_os_now_ns() < end);
	}
	for (;;) {
		uint64_t left = UINT64_MAX;

		ccdma_mutex_lock(&qq->lock);
		more = ccdma_vq_arm(qq->vq);
		qq->waiters++;
		ccdma_mutex_unlock(&qq->lock);
		rc = 0;
		if (!more) {
			if (deadline != UINT64_MAX) {
				now = ccdma_os_now_ns();
				left = now < deadline ? deadline - now : 0;
			}
			rc = left ? b->t.ops->wait(b->t.ctx, q, left)
				  : -ETIMEDOUT;
			if (rc == 0)
				signalled = true;
		}
		ccdma_mutex_lock(&qq->lock);
		qq->waiters--;
		ccdma_mutex_unlock(&qq->lock);
		if (rc && rc != -ETIMEDOUT) {
			ccdma_mutex_lock(&qq->lock);
			vblk_break(b, q, "transport wait failed");
			ccdma_mutex_unlock(&qq->lock);
		}
		n = ccdma_vblk_poll(b, q);
		if (n > 0 && signalled) {
			ccdma_mutex_lock(&qq->lock);
			qq->st.interrupts++;
			ccdma_mutex_unlock(&qq->lock);
		}
		if (n)
			return n;
		if (rc == -ETIMEDOUT)
			return -ETIMEDOUT;
	}
}

unsigned ccdma_vblk_inflight(struct ccdma_vblk *b, unsigned q)
{
	unsigned n;

	if (!b || q >= b->info.num_queues)
		return 0;
	ccdma_mutex_lock(&b->q[q].lock);
	n = b->q[q].reqs;
	ccdma_mutex_unlock(&b->q[q].lock);
	return n;
}

/* ---- submission ------------------------------------------------------- */

/* Data descriptors for a part of len bytes. */
static inline unsigned data_segs(const struct ccdma_vblk *b, uint32_t len)
{
	return (unsigned)((len + (uint64_t)b->info.size_max - 1) /
			  b->info.size_max);
}

/* Post one part (lock held, room checked).  Returns 0 or the map error. */
static int post_part(struct ccdma_vblk *b, struct vblk_queue *qq,
		     struct ccdma_vblk_req *r, uint32_t type, uint64_t sector,
		     void *data, uint32_t dlen, enum ccdma_dir dir,
		     const struct ccdma_vblk_dwz *dwz, unsigned *head)
{
	struct ccdma_vq *vq = qq->vq;
	struct ccdma_vq_buf *bf = qq->bufs;
	unsigned h = ccdma_vq_next_head(vq), n = 0;
	struct vblk_part *p = &qq->part[h];
	struct ccdma_vblk_hdr *hdr;
	ccdma_addr_t sdma, dma = 0;
	uint8_t *scr = ccdma_vq_scratch(vq, h, &sdma);
	uint32_t off;

	if (dlen) {
		int rc;

		dma = ccdma_map_single_attrs(b->dev, data, dlen, dir,
					     ((r->flags & VBLK_REQ_WAIT_)
						      ? CCDMA_ATTR_WAIT : 0) |
					     (dir == CCDMA_FROM_DEVICE
						      ? CCDMA_ATTR_REPORTED_LEN : 0));
		rc = ccdma_mapping_error(b->dev, dma);
		if (unlikely(rc))
			return rc;
	}
	hdr = (struct ccdma_vblk_hdr *)(void *)(scr + SCR_HDR);
	hdr->type = ccdma_cpu_to_le32(type);
	hdr->reserved = ccdma_cpu_to_le32(0);
	hdr->sector = ccdma_cpu_to_le64(sector);
	__atomic_store_n(scr + SCR_STATUS, (uint8_t)STATUS_UNSET,
			 __ATOMIC_RELAXED);
	bf[n++] = (struct ccdma_vq_buf){ sdma + SCR_HDR, sizeof(*hdr), false };
	for (off = 0; off < dlen; off += b->info.size_max) {
		uint32_t l = dlen - off;

		if (l > b->info.size_max)
			l = b->info.size_max;
		bf[n++] = (struct ccdma_vq_buf){ dma + off, l,
						 dir == CCDMA_FROM_DEVICE };
	}
	if (dwz) {
		ccdma_memcpy(scr + SCR_DWZ, dwz, sizeof(*dwz));
		bf[n++] = (struct ccdma_vq_buf){ sdma + SCR_DWZ, sizeof(*dwz),
						 false };
	}
	bf[n++] = (struct ccdma_vq_buf){ sdma + SCR_STATUS, 1, true };
	ccdma_vq_add(vq, bf, n);
	p->req = r;
	p->dma = dma;
	p->len = dlen;
	p->dir = (uint8_t)dir;
	*head = h;
	return 0;
}

static const char *op_name(enum ccdma_vblk_op op)
{
	switch (op) {
	case CCDMA_VBLK_READ: return "read";
	case CCDMA_VBLK_WRITE: return "write";
	case CCDMA_VBLK_DISCARD: return "discard";
	case CCDMA_VBLK_WRITE_ZEROES: return "write-zeroes";
	default: return "request";
	}
}

/* Range checks of a sector-addressed request; nsec gets its length. */
static int check_range(struct ccdma_vblk *b, const struct ccdma_vblk_req *r,
		       uint64_t *nsec)
{
	if (!r->len || r->len % CCDMA_VBLK_SECTOR) {
		ccdma_err("virtio-blk: %s of %zu bytes: not a positive multiple "
			  "of 512", op_name(r->op), r->len);
		return -EINVAL;
	}
	*nsec = r->len / CCDMA_VBLK_SECTOR;
	if (r->sector > b->info.capacity ||
	    *nsec > b->info.capacity - r->sector) {
		ccdma_err("virtio-blk: %s of %llu sectors at %llu: beyond the "
			  "capacity of %llu sectors", op_name(r->op),
			  (unsigned long long)*nsec,
			  (unsigned long long)r->sector,
			  (unsigned long long)b->info.capacity);
		return -EINVAL;
	}
	return 0;
}

int ccdma_vblk_submit(struct ccdma_vblk *b, unsigned q,
		      struct ccdma_vblk_req *r)
{
	struct ccdma_vblk_info *in;
	struct vblk_queue *qq;
	struct ccdma_vq *vq;
	uint64_t nsec = 0, chunk = 0;
	unsigned parts = 1, descs, i;
	uint32_t type;
	bool kick;
	int rc;

	if (!b || !r || q >= b->info.num_queues) {
		ccdma_err("virtio-blk: submit: NULL or queue %u of %u", q,
			  b ? b->info.num_queues : 0);
		return -EINVAL;
	}
	in = &b->info;
	if (unlikely(is_broken(b)))
		return -ENODEV;
	if (r->flags & ~(VBLK_KNOWN_FLAGS | VBLK_REQ_WAIT_)) {
		ccdma_err("virtio-blk: unknown request flags %#x", r->flags);
		return -EINVAL;
	}
	qq = &b->q[q];
	vq = qq->vq;

	/* Parts and ring descriptors the request needs. */
	switch (r->op) {
	case CCDMA_VBLK_READ:
	case CCDMA_VBLK_WRITE:
		if (r->op == CCDMA_VBLK_WRITE && in->read_only)
			return -EROFS;
		if (!r->buf) {
			ccdma_err("virtio-blk: %s with a NULL buffer",
				  op_name(r->op));
			return -EINVAL;
		}
		if ((rc = check_range(b, r, &nsec)))
			return rc;
		type = r->op == CCDMA_VBLK_READ ? CCDMA_VBLK_T_IN
						: CCDMA_VBLK_T_OUT;
		chunk = in->max_request;
		if (r->len > in->max_transfer) {
			ccdma_err("virtio-blk: %s of %zu bytes: more than a queue "
				  "of %u holds at once (%llu bytes at most)",
				  op_name(r->op), r->len, in->queue_size,
				  (unsigned long long)in->max_transfer);
			return -EINVAL;
		}
		parts = (unsigned)((r->len + chunk - 1) / chunk);
		if (vq->indirect)
			descs = parts;
		else
			descs = (parts - 1) * (in->seg_max + 2) + 2 +
				data_segs(b, (uint32_t)(r->len -
						(uint64_t)(parts - 1) * chunk));
		break;
	case CCDMA_VBLK_FLUSH:
		if (!in->flush)
			return -EOPNOTSUPP;
		type = CCDMA_VBLK_T_FLUSH;
		descs = ccdma_vq_descs_for(vq, 2);
		break;
	case CCDMA_VBLK_GET_ID:
		if (!r->buf || r->len < CCDMA_VBLK_ID_BYTES) {
			ccdma_err("virtio-blk: get-id needs a buffer of %u "
				  "bytes", CCDMA_VBLK_ID_BYTES);
			return -EINVAL;
		}
		type = CCDMA_VBLK_T_GET_ID;
		descs = ccdma_vq_descs_for(vq, 3);
		break;
	case CCDMA_VBLK_DISCARD:
	case CCDMA_VBLK_WRITE_ZEROES:
		if (r->op == CCDMA_VBLK_DISCARD ? !in->discard
						: !in->write_zeroes)
			return -EOPNOTSUPP;
		if (in->read_only)
			return -EROFS;
		if ((rc = check_range(b, r, &nsec)))
			return rc;
		if (r->op == CCDMA_VBLK_DISCARD) {
			type = CCDMA_VBLK_T_DISCARD;
			chunk = in->max_discard_sectors;
		} else {
			type = CCDMA_VBLK_T_WRITE_ZEROES;
			chunk = in->max_write_zeroes_sectors;
		}
		if (nsec > in->max_transfer_dwz) {
			ccdma_err("virtio-blk: %s of %llu sectors: more than a "
				  "queue of %u holds at once (%llu sectors at "
				  "most)", op_name(r->op),
				  (unsigned long long)nsec, in->queue_size,
				  (unsigned long long)in->max_transfer_dwz);
			return -EINVAL;
		}
		parts = (unsigned)((nsec + chunk - 1) / chunk);
		descs = parts * ccdma_vq_descs_for(vq, 3);
		break;
	default:
		ccdma_err("virtio-blk: unknown request type %d", (int)r->op);
		return -EINVAL;
	}

	r->_parts = parts;
	r->_parts_done = 0;
	r->_err = 0;
	r->_queue = q;
	r->_next = NULL;

	ccdma_mutex_lock(&qq->lock);
	if (unlikely(is_broken(b))) {
		rc = -ENODEV;
		goto out;
	}
	if (descs > vq->num_free) {
		rc = -EAGAIN;
		goto out;
	}
	for (i = 0; i < parts; i++) {
		unsigned h = 0;

		switch (r->op) {
		case CCDMA_VBLK_READ:
		case CCDMA_VBLK_WRITE: {
			uint64_t off = (uint64_t)i * chunk;
			uint64_t len = r->len - off < chunk ? r->len - off : chunk;

			rc = post_part(b, qq, r, type,
				       r->sector + off / CCDMA_VBLK_SECTOR,
				       (uint8_t *)r->buf + off, (uint32_t)len,
				       r->op == CCDMA_VBLK_READ
					       ? CCDMA_FROM_DEVICE
					       : CCDMA_TO_DEVICE,
				       NULL, &h);
			break;
		}
		case CCDMA_VBLK_DISCARD:
		case CCDMA_VBLK_WRITE_ZEROES: {
			uint64_t s = (uint64_t)i * chunk;
			struct ccdma_vblk_dwz d;
			bool unmap = r->op == CCDMA_VBLK_WRITE_ZEROES &&
				     (r->flags & CCDMA_VBLK_REQ_UNMAP);

			d.sector = ccdma_cpu_to_le64(r->sector + s);
			d.num_sectors = ccdma_cpu_to_le32(
				(uint32_t)(nsec - s < chunk ? nsec - s : chunk));
			d.flags = ccdma_cpu_to_le32(unmap ? 1u : 0u);
			rc = post_part(b, qq, r, type, 0, NULL, 0,
				       CCDMA_TO_DEVICE, &d, &h);
			break;
		}
		case CCDMA_VBLK_GET_ID:
			rc = post_part(b, qq, r, type, 0, r->buf,
				       CCDMA_VBLK_ID_BYTES, CCDMA_FROM_DEVICE,
				       NULL, &h);
			break;
		default: /* FLUSH */
			rc = post_part(b, qq, r, type, 0, NULL, 0,
				       CCDMA_TO_DEVICE, NULL, &h);
			break;
		}
		if (unlikely(rc)) {
			/* Take back what this request posted, newest first:
			 * nothing was published. */
			while (i--) {
				struct vblk_part *p = &qq->part[qq->heads[i]];

				if (p->len)
					ccdma_unmap_single_attrs(
						b->dev, p->dma, p->len,
						(enum ccdma_dir)p->dir,
						CCDMA_ATTR_SKIP_CPU_SYNC);
				p->len = 0;
				ccdma_vq_unadd(vq, qq->heads[i]);
			}
			goto out;
		}
		qq->heads[i] = (uint16_t)h;
	}
	r->status = CCDMA_VBLK_PENDING;
	qq->reqs++;
	qq->st.submitted++;
	if (parts > 1)
		qq->st.split_parts += parts;
	kick = ccdma_vq_publish(vq);
	if (kick)
		qq->st.notifications++;
	ccdma_mutex_unlock(&qq->lock);
	if (kick && b->t.ops->notify(b->t.ctx, q)) {
		/* Posted but the device is gone: the request completes with
		 * -ENODEV at the next poll. */
		ccdma_mutex_lock(&qq->lock);
		vblk_break(b, q, "notify failed");
		ccdma_mutex_unlock(&qq->lock);
	}
	return 0;
out:
	ccdma_mutex_unlock(&qq->lock);
	return rc;
}

/* ---- synchronous helpers ---------------------------------------------- */

static void sync_done(struct ccdma_vblk_req *r)
{
	__atomic_store_n((bool *)r->user, true, __ATOMIC_RELEASE);
}

static int sync_req(struct ccdma_vblk *b, struct ccdma_vblk_req *r)
{
	bool done = false;
	int rc;

	r->done = sync_done;
	r->user = &done;
	r->flags |= VBLK_REQ_WAIT_;
	while ((rc = ccdma_vblk_submit(b, 0, r)) == -EAGAIN) {
		rc = ccdma_vblk_wait(b, 0, UINT64_MAX);
		if (rc < 0 && rc != -ETIMEDOUT)
			return rc;
	}
	if (rc)
		return rc;
	while (!__atomic_load_n(&done, __ATOMIC_ACQUIRE)) {
		rc = ccdma_vblk_wait(b, 0, UINT64_MAX);
		if (rc < 0 && rc != -ETIMEDOUT &&
		    !__atomic_load_n(&done, __ATOMIC_ACQUIRE))
			return rc;
	}
	return r->status;
}

static int sync_rw(struct ccdma_vblk *b, enum ccdma_vblk_op op,
		   uint64_t sector, void *buf, size_t len)
{
	struct ccdma_vblk_req r;
	size_t off = 0;
	int rc = 0;

	if (!b)
		return -EINVAL;
	do {
		size_t l = len - off;

		if (l > b->info.max_transfer)
			l = (size_t)b->info.max_transfer;
		ccdma_memset(&r, 0, sizeof(r));
		r.op = op;
		r.sector = sector + off / CCDMA_VBLK_SECTOR;
		r.buf = (uint8_t *)buf + off;
		r.len = l;
		rc = sync_req(b, &r);
		off += l;
	} while (!rc && off < len);
	return rc;
}

int ccdma_vblk_read(struct ccdma_vblk *b, uint64_t sector, void *buf,
		    size_t len)
{
	return sync_rw(b, CCDMA_VBLK_READ, sector, buf, len);
}

int ccdma_vblk_write(struct ccdma_vblk *b, uint64_t sector, const void *buf,
		     size_t len)
{
	/* The buffer is only read (mapped TO_DEVICE). */
	return sync_rw(b, CCDMA_VBLK_WRITE, sector, (void *)(uintptr_t)buf, len);
}

int ccdma_vblk_flush(struct ccdma_vblk *b)
{
	struct ccdma_vblk_req r;

	if (!b)
		return -EINVAL;
	ccdma_memset(&r, 0, sizeof(r));
	r.op = CCDMA_VBLK_FLUSH;
	return sync_req(b, &r);
}

static int sync_dwz(struct ccdma_vblk *b, enum ccdma_vblk_op op,
		    uint64_t sector, uint64_t nsectors, unsigned flags)
{
	struct ccdma_vblk_req r;
	uint64_t done = 0, max;
	int rc;

	if (!b)
		return -EINVAL;
	max = b->info.max_transfer_dwz;
	if (!max || !nsectors) /* the submit reports it */
		max = nsectors ? nsectors : 1;
	/* Keep len within size_t (32-bit targets). */
	if (max > SIZE_MAX / CCDMA_VBLK_SECTOR)
		max = SIZE_MAX / CCDMA_VBLK_SECTOR;
	do {
		uint64_t n = nsectors - done < max ? nsectors - done : max;

		ccdma_memset(&r, 0, sizeof(r));
		r.op = op;
		r.sector = sector + done;
		r.len = (size_t)(n * CCDMA_VBLK_SECTOR);
		r.flags = flags;
		rc = sync_req(b, &r);
		done += n;
	} while (!rc && done < nsectors);
	return rc;
}

int ccdma_vblk_discard(struct ccdma_vblk *b, uint64_t sector,
		       uint64_t nsectors)
{
	return sync_dwz(b, CCDMA_VBLK_DISCARD, sector, nsectors, 0);
}

int ccdma_vblk_write_zeroes(struct ccdma_vblk *b, uint64_t sector,
			    uint64_t nsectors, bool unmap)
{
	return sync_dwz(b, CCDMA_VBLK_WRITE_ZEROES, sector, nsectors,
			unmap ? CCDMA_VBLK_REQ_UNMAP : 0);
}

int ccdma_vblk_get_id(struct ccdma_vblk *b, char id[21])
{
	struct ccdma_vblk_req r;
	int rc;

	if (!b || !id)
		return -EINVAL;
	ccdma_memset(&r, 0, sizeof(r));
	r.op = CCDMA_VBLK_GET_ID;
	r.buf = id;
	r.len = CCDMA_VBLK_ID_BYTES;
	rc = sync_req(b, &r);
	id[CCDMA_VBLK_ID_BYTES] = 0;
	if (rc)
		id[0] = 0;
	return rc;
}

/* ---- info, stats, teardown -------------------------------------------- */

void ccdma_vblk_get_info(struct ccdma_vblk *b, struct ccdma_vblk_info *info)
{
	if (b && info)
		*info = b->info;
}

bool ccdma_vblk_broken(struct ccdma_vblk *b)
{
	return !b || is_broken(b) || b->t.ops->broken(b->t.ctx);
}

void ccdma_vblk_get_stats(struct ccdma_vblk *b, struct ccdma_vblk_stats *st)
{
	unsigned i;

	if (!st)
		return;
	ccdma_memset(st, 0, sizeof(*st));
	if (!b)
		return;
	for (i = 0; i < b->info.num_queues; i++) {
		struct vblk_queue *qq = &b->q[i];

		ccdma_mutex_lock(&qq->lock);
		st->submitted += qq->st.submitted;
		st->completed += qq->st.completed;
		st->split_parts += qq->st.split_parts;
		st->errors += qq->st.errors;
		st->notifications += qq->st.notifications;
		st->interrupts += qq->st.interrupts;
		st->used_len_clamped += qq->st.used_len_clamped;
		st->short_reads += qq->st.short_reads;
		ccdma_mutex_unlock(&qq->lock);
	}
}

void ccdma_vblk_destroy(struct ccdma_vblk *b)
{
	unsigned i;

	if (!b)
		return;
	for (i = 0; i < b->info.num_queues; i++) {
		struct vblk_queue *qq = &b->q[i];
		struct done_list dl;

		dl_init(&dl);
		ccdma_mutex_lock(&qq->lock);
		/* Take what is complete; the rest cannot be waited for. */
		reap(b, i, qq, &dl);
		if (qq->vq->inflight) {
			/* There is no queue reset in the transport: a device
			 * still holding requests must be stopped before the
			 * rings and buffers go away. */
			vblk_break(b, i, "driver destroyed with requests in "
				   "flight");
			drain(b, qq, &dl);
		}
		ccdma_mutex_unlock(&qq->lock);
		run_callbacks(&dl);
	}
	for (i = 0; i < b->info.num_queues; i++)
		queue_fini(b, &b->q[i]);
	ccdma_os_free(b->q);
	ccdma_os_free(b);
}
