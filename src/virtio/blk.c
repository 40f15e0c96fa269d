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
 * Persistent bounce slots (ccdma_vblk_config.slot_size; Xen blkfront's
 * persistent grants are the model).  A READ/WRITE part of at most
 * slot_size bytes whose buffer the dma layer would bounce goes through a
 * slot of the queue instead: coherent memory taken from the pool the first
 * time the queue has more parts in flight than slots (at most one per ring
 * entry, so the queue's depth in use, not its ring size, decides what is
 * pinned) and kept until destroy.  A part takes a free slot (LIFO: the
 * hottest), copies a write in, and gives the slot back at completion after
 * a read's copy out: no pool allocation, owner record or free per request,
 * and the lines stay where they were.  Larger parts, and parts when the
 * pool has no memory for a new slot, take the streaming mapping as before.
 * The rules of the streaming path hold: a read's data is copied out once
 * (the used length clamped to what was posted; nothing at all when the
 * status is not OK, so an error never returns what an earlier request
 * left in the slot), the rest of the caller's buffer is cleared, and
 * nothing but a write's payload is ever copied into a slot.
 *
 * Splitting.  A READ or WRITE is cut into parts of at most max_request
 * bytes (seg_max x size_max, at most 4 MiB, a multiple of the block size).
 * Each part maps its slice of the buffer once and describes the contiguous
 * DMA range with ceil(len / size_max) data descriptors.  DISCARD and
 * WRITE_ZEROES are cut by max_discard_sectors / max_write_zeroes_sectors,
 * one segment per part.
 *
 * Parts are posted as the ring and the bounce pool have room, not all at
 * once: submit posts what fits now and returns 0 once the first part is
 * posted; the request stays the queue's `open` request, and each poll or
 * wait posts more of it as earlier parts complete and free their ring
 * slots and bounce memory.  So a request larger than the pool (a 24 MiB
 * pool on a SET_MEM_TABLE back-end) or than the ring still works.  While a
 * queue has an open request, submits on it return -EAGAIN (its parts go
 * first).  When nothing is in flight on the queue, nothing would free
 * memory: a READ/WRITE part the pool cannot give now is halved (down to
 * one block) until it can; only then does a request wait for memory (the
 * synchronous helpers and ccdma_vblk_wait(), bounded by the pool's wait)
 * or fail with -ENOMEM (a submit that posted nothing).
 *
 * Breaking.  A malformed used entry, a bad status byte or a transport that
 * reports the device gone sets b->broken and calls the transport's fail()
 * once.  Each queue then completes its in-flight requests with -ENODEV (the
 * queue that saw the fault at once, the others at their next poll, wait or
 * destroy), and every later call returns -ENODEV.
 */
#include <ccdma/virtio_blk.h>

#include "virtio/virtqueue.h"
#include "dma/reach.h"
#include "platform/trace.h"

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
/* Internal (the synchronous helpers): when nothing is in flight on the
 * queue, wait for bounce memory (CCDMA_ATTR_WAIT) rather than fail. */
#define VBLK_REQ_WAIT_ (1u << 31)

/* A persistent bounce slot: slot_size bytes of the queue's coherent
 * memory.  Between requests it holds what the last part that used it
 * carried (a write's payload, or what the device wrote for a read): bytes
 * the device has already had, so they are left as they are; destroy
 * scrubs them before the memory goes back to the pool. */
struct vblk_slot {
	void *cpu;
	ccdma_addr_t dma;
};

/* What was posted for a head, privately: enough to post it again on a
 * new device (reconnect) without reading anything back from shared
 * memory. */
struct vblk_part {
	struct ccdma_vblk_req *req;
	uint64_t off, n;         /* the units of req it carries */
	ccdma_addr_t dma;
	uint32_t len;            /* mapped bytes; 0: no data mapping */
	uint8_t dir;
	/* Through a persistent slot instead of a mapping (NULL: none); buf:
	 * the caller's bytes the slot carries. */
	struct vblk_slot *slot;
	void *buf;
};

struct vblk_queue {
	_Alignas(64) ccdma_mutex_t lock;
	struct ccdma_vq *vq;
	struct vblk_part *part;  /* by head id */
	struct ccdma_vq_buf *bufs;       /* one chain being built */
	/* Persistent slots: nslots made (at most the ring size), the free
	 * ones a stack in slot_free[0 .. nfree). */
	struct vblk_slot *slots;
	struct vblk_slot **slot_free;
	unsigned nslots, nfree;
	/* A request accepted with parts still to post (at most one). */
	struct ccdma_vblk_req *open;
	unsigned reqs;           /* requests in flight */
	unsigned waiters;
	bool lock_ok;
	/* Last completion, or when the queue became busy (stall clock of
	 * ccdma_vblk_wait with reconnect on). */
	uint64_t progress_ns;
	struct ccdma_vblk_stats st;
};

struct ccdma_vblk {
	struct ccdma_virtio_transport t;
	struct ccdma_dev *dev;
	struct ccdma_vblk_info info;
	unsigned chain_max;      /* buffers in one chain: seg_max + 2 */
	uint32_t slot_size;      /* persistent slots: bytes each; 0: none */
	uint32_t poll_ns;        /* wait(): poll this long before blocking */
	uint32_t sync_timeout_ms; /* synchronous helpers: stalled after this */
	unsigned broken;             /* atomic (a word: riscv64 has no 1-byte exchange) */
	struct vblk_queue *q;
	/* Reconnect (ccdma_vblk_config.reconnect_ms): rec_lock serialises
	 * reconnects and is taken before any queue lock; gen (atomic) counts
	 * them, so a thread that saw the old device fail does not reconnect
	 * the new one. */
	uint32_t reconnect_ms;
	bool reconnect_hostile;
	ccdma_mutex_t rec_lock;
	bool rec_lock_ok;
	unsigned gen;
	uint64_t reconnects;         /* atomic */
};

void ccdma_vblk_config_init(struct ccdma_vblk_config *cfg)
{
	if (!cfg)
		return;
	ccdma_memset(cfg, 0, sizeof(*cfg));
	cfg->slot_size = CCDMA_VBLK_SLOT_SIZE_DEFAULT;
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
	CCDMA_TRACE3(device_broken, "virtio-blk", why, q);
	b->t.ops->fail(b->t.ctx, why);
}

static inline unsigned cur_gen(struct ccdma_vblk *b)
{
	return __atomic_load_n(&b->gen, __ATOMIC_ACQUIRE);
}

/* Whether a failure is met with a reconnect: a hang-up, a protocol error
 * or a stall always (when on); a device proven hostile only when asked. */
static inline bool can_recover(const struct ccdma_vblk *b, bool hostile)
{
	return b->reconnect_ms && b->t.ops->reconnect &&
	       (!hostile || b->reconnect_hostile);
}

static int vblk_recover(struct ccdma_vblk *b, unsigned gen, unsigned q,
			const char *why);

/* ---- create / destroy ------------------------------------------------- */

static int cfg_read(struct ccdma_vblk *b, uint32_t off, void *buf, uint32_t len)
{
	int rc = b->t.ops->get_config(b->t.ctx, off, buf, len);

	if (rc == -EOPNOTSUPP) {
		ccdma_err("virtio-blk: the transport gives no config access");
		return -ENOTSUP;
	}
	if (rc == -EIO) {
		/* The device answered, but would not give these bytes. */
		ccdma_err("virtio-blk: the device refused to read %u config "
			  "bytes at %u", len, off);
		return -ENOTSUP;
	}
	if (!rc)
		return 0;
	ccdma_err("virtio-blk: reading config at %u: error %d", off, rc);
	return -ENODEV;
}

static bool has(uint64_t f, unsigned bit)
{
	return f & (1ull << bit);
}

/* Config bytes the negotiated features give meaning to: the struct up to
 * the last field in use. */
static uint32_t config_len(uint64_t f)
{
	if (has(f, CCDMA_VIRTIO_BLK_F_WRITE_ZEROES))
		return CCDMA_VBLK_CFG_MAX_WZ_SEG + 4;
	if (has(f, CCDMA_VIRTIO_BLK_F_DISCARD))
		return CCDMA_VBLK_CFG_MAX_DISCARD_SEG + 4;
	if (has(f, CCDMA_VIRTIO_BLK_F_MQ))
		return CCDMA_VBLK_CFG_NUM_QUEUES + 2;
	if (has(f, CCDMA_VIRTIO_BLK_F_BLK_SIZE))
		return CCDMA_VBLK_CFG_BLK_SIZE + 4;
	if (has(f, CCDMA_VIRTIO_BLK_F_SEG_MAX))
		return CCDMA_VBLK_CFG_SEG_MAX + 4;
	if (has(f, CCDMA_VIRTIO_BLK_F_SIZE_MAX))
		return CCDMA_VBLK_CFG_SIZE_MAX + 4;
	return CCDMA_VBLK_CFG_CAPACITY + 8;
}

/* A DISCARD / WRITE_ZEROES limit pair: 0 (the feature unused, warned)
 * unless both are set and the sectors hold one block. */
static uint32_t dwz_limit(const struct ccdma_vblk_info *in, const char *what,
			  uint32_t sectors, uint32_t segs)
{
	if (sectors && segs && sectors >= in->blk_size / CCDMA_VBLK_SECTOR)
		return sectors;
	ccdma_warn("virtio-blk: %s offered with max_%s_sectors %u, max_%s_seg "
		   "%u (block %u): not used", what, what, sectors, what, segs,
		   in->blk_size);
	return 0;
}

/*
 * Read and validate config space into b->info (features are set).  The
 * whole struct comes in one read: a device that changes it while it is
 * read (one GET_CONFIG per field would see each change) cannot hand out
 * a mix of old and new fields.  Each field is checked alone, then against
 * the others.
 */
static int read_config(struct ccdma_vblk *b, unsigned *nq_dev)
{
	struct ccdma_vblk_info *in = &b->info;
	uint64_t f = in->features;
	uint8_t raw[CCDMA_VBLK_CFG_SIZE];
	uint32_t v;
	int rc;

	ccdma_memset(raw, 0, sizeof(raw));
	rc = cfg_read(b, 0, raw, config_len(f));
	if (rc)
		return rc;
	in->capacity = ccdma_get_le64(raw + CCDMA_VBLK_CFG_CAPACITY);
	if (in->capacity > UINT64_MAX / CCDMA_VBLK_SECTOR) {
		ccdma_err("virtio-blk: capacity of %llu sectors overflows a "
			  "byte count", (unsigned long long)in->capacity);
		return -ENOTSUP;
	}

	in->blk_size = CCDMA_VBLK_SECTOR;
	if (has(f, CCDMA_VIRTIO_BLK_F_BLK_SIZE)) {
		v = ccdma_get_le32(raw + CCDMA_VBLK_CFG_BLK_SIZE);
		if (v < 512 || v > 65536 || (v & (v - 1))) {
			ccdma_err("virtio-blk: block size %u is not a power of "
				  "two from 512 to 65536", v);
			return -ENOTSUP;
		}
		in->blk_size = v;
	}
	if (in->capacity % (in->blk_size / CCDMA_VBLK_SECTOR)) {
		ccdma_err("virtio-blk: capacity of %llu sectors is not a whole "
			  "number of %u-byte blocks",
			  (unsigned long long)in->capacity, in->blk_size);
		return -ENOTSUP;
	}

	in->seg_max = 1;
	if (has(f, CCDMA_VIRTIO_BLK_F_SEG_MAX)) {
		v = ccdma_get_le32(raw + CCDMA_VBLK_CFG_SEG_MAX);
		if (!v) {
			ccdma_err("virtio-blk: seg_max is 0");
			return -ENOTSUP;
		}
		in->seg_max = v;
	}

	in->size_max = VBLK_DEFAULT_SIZE_MAX;
	if (has(f, CCDMA_VIRTIO_BLK_F_SIZE_MAX)) {
		v = ccdma_get_le32(raw + CCDMA_VBLK_CFG_SIZE_MAX);
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
	/* One request must be able to carry one block. */
	if ((uint64_t)in->seg_max * in->size_max < in->blk_size) {
		ccdma_err("virtio-blk: seg_max %u x size_max %u bytes cannot "
			  "carry one %u-byte block", in->seg_max, in->size_max,
			  in->blk_size);
		return -ENOTSUP;
	}

	*nq_dev = 1;
	if (has(f, CCDMA_VIRTIO_BLK_F_MQ)) {
		unsigned max = b->t.ops->max_queues(b->t.ctx);

		v = ccdma_get_le16(raw + CCDMA_VBLK_CFG_NUM_QUEUES);
		if (!v || v > max) {
			ccdma_err("virtio-blk: num_queues %u is not within 1 .. "
				  "%u (the transport's queues)", v, max);
			return -ENOTSUP;
		}
		*nq_dev = v;
	}

	in->discard = has(f, CCDMA_VIRTIO_BLK_F_DISCARD);
	if (in->discard) {
		in->max_discard_sectors = dwz_limit(in, "discard",
			ccdma_get_le32(raw + CCDMA_VBLK_CFG_MAX_DISCARD_SECTORS),
			ccdma_get_le32(raw + CCDMA_VBLK_CFG_MAX_DISCARD_SEG));
		in->discard = in->max_discard_sectors != 0;
	}
	in->write_zeroes = has(f, CCDMA_VIRTIO_BLK_F_WRITE_ZEROES);
	if (in->write_zeroes) {
		in->max_write_zeroes_sectors = dwz_limit(in, "write_zeroes",
			ccdma_get_le32(raw + CCDMA_VBLK_CFG_MAX_WZ_SECTORS),
			ccdma_get_le32(raw + CCDMA_VBLK_CFG_MAX_WZ_SEG));
		in->write_zeroes = in->max_write_zeroes_sectors != 0;
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
	unsigned k;

	/* The device no longer uses them (destroy stopped or broke it):
	 * scrubbed, so that the pool's next user of this memory, maybe
	 * another device, gets none of this one's bytes. */
	for (k = 0; k < qq->nslots; k++) {
		ccdma_memset(qq->slots[k].cpu, 0, b->slot_size);
		(void)ccdma_free_coherent(b->dev, b->slot_size, qq->slots[k].cpu,
					  qq->slots[k].dma);
	}
	ccdma_os_free(qq->slots);
	ccdma_os_free(qq->slot_free);
	ccdma_vq_destroy(qq->vq);
	ccdma_os_free(qq->part);
	ccdma_os_free(qq->bufs);
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
	if (!qq->part || !qq->bufs)
		return -ENOMEM;
	if (b->slot_size) {
		qq->slots = ccdma_os_calloc(num, sizeof(*qq->slots));
		qq->slot_free = ccdma_os_calloc(num, sizeof(*qq->slot_free));
		if (!qq->slots || !qq->slot_free)
			return -ENOMEM;
	}
	rc = ccdma_vq_create(b->dev, i, num, b->info.event_idx,
			     b->info.indirect ? b->chain_max : 0, SCR_SIZE,
			     &qq->vq);
	if (rc)
		return rc;
	ccdma_vq_layout(qq->vq, &l);
	rc = b->t.ops->queue_start(b->t.ctx, i, &l);
	if (rc)
		ccdma_err("virtio-blk: starting queue %u: error %d", i, rc);
	else if (b->t.ops->gate)
		ccdma_vq_set_gate(qq->vq, b->t.ops->gate(b->t.ctx));
	return rc;
}

/* Only the errors virtio_blk.h documents leave create: the transport's
 * and the dma layer's own are mapped (and said in the log). */
static int create_error(int rc)
{
	int out;

	switch (rc) {
	case -EINVAL:
	case -ENOTSUP:
	case -ENOMEM:
	case -ENODEV:
		return rc;
	case -EMFILE:
	case -ENFILE:
	case -ENOSPC:
	case -EAGAIN:
		out = -ENOMEM; /* out of a resource: descriptors, slots */
		break;
	default:
		out = -ENODEV;
		break;
	}
	ccdma_err("virtio-blk: create: error %d reported as %d", rc, out);
	return out;
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
	if (cfg->slot_size > VBLK_MAX_REQUEST_CAP) {
		ccdma_err("virtio-blk: slot size %u above %u", cfg->slot_size,
			  VBLK_MAX_REQUEST_CAP);
		return -EINVAL;
	}
	if (cfg->reconnect_ms && !t->ops->reconnect) {
		ccdma_err("virtio-blk: reconnect asked, the transport has none");
		return -EINVAL;
	}
	if (t->ops->broken(t->ctx))
		return -ENODEV;

	b = ccdma_os_calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->t = *t;
	b->reconnect_ms = cfg->reconnect_ms;
	b->reconnect_hostile = cfg->reconnect_hostile;
	if (ccdma_mutex_init(&b->rec_lock)) {
		ccdma_os_free(b);
		return -ENOMEM;
	}
	b->rec_lock_ok = true;
	b->poll_ns = cfg->poll_ns;
	b->slot_size = cfg->slot_size;
	b->sync_timeout_ms = cfg->sync_timeout_ms ? cfg->sync_timeout_ms
						  : CCDMA_VBLK_SYNC_TIMEOUT_DEFAULT_MS;
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
	b->info.device_queues = nq_dev;
	b->info.queue_size = qsize;
	size_limits(b);
	/* No part is larger than max_request. */
	if (b->slot_size > b->info.max_request)
		b->slot_size = b->info.max_request;
	b->info.slot_size = b->slot_size;

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
	if (b->rec_lock_ok)
		ccdma_mutex_destroy(&b->rec_lock);
	ccdma_os_free(b);
	return create_error(rc);
}

/* ---- completion ------------------------------------------------------- */

struct done_list {
	struct ccdma_vblk_req *head, **tail;
	int n;
};

static void complete_req(struct vblk_queue *qq, struct ccdma_vblk_req *r,
			 struct done_list *dl)
{
	r->_next = NULL;
	*dl->tail = r;
	dl->tail = &r->_next;
	dl->n++;
	qq->reqs--;
	qq->st.completed++;
	if (r->_err)
		qq->st.errors++;
}

/* A part of r is done (err: its status).  The request completes when
 * every posted part has and nothing is left to post; an open request
 * whose part failed posts nothing more. */
static void finish_req(struct vblk_queue *qq, struct ccdma_vblk_req *r,
		       int err, struct done_list *dl)
{
	if (err && !r->_err)
		r->_err = err;
	if (++r->_parts_done < r->_parts)
		return;
	if (r == qq->open) {
		if (!r->_err)
			return; /* the next poll or wait posts more */
		qq->open = NULL;
	}
	complete_req(qq, r, dl);
}

/* A free persistent slot of qq (lock held), made now when every slot is
 * in use; NULL when the pool has no memory for one now (the part then
 * takes the streaming path). */
static struct vblk_slot *slot_get(struct ccdma_vblk *b, struct vblk_queue *qq)
{
	struct vblk_slot *s;

	if (likely(qq->nfree))
		return qq->slot_free[--qq->nfree];
	if (qq->nslots == b->info.queue_size)
		return NULL; /* not reached: one part per ring entry */
	s = &qq->slots[qq->nslots];
	if (ccdma_alloc_coherent(b->dev, b->slot_size, &s->cpu, &s->dma, 0))
		return NULL;
	qq->nslots++;
	return s;
}

/* A write's payload into its slot: the one copy towards the device. */
static void slot_fill(struct ccdma_vblk *b, const struct vblk_part *p)
{
	ccdma_copy_to_device(p->slot->cpu, p->buf, p->len);
	ccdma_dev_count_bounce(b->dev, true, p->len, p->len);
}

/* Device-to-memory payloads are mapped with CCDMA_ATTR_REPORTED_LEN:
 * unmap copies the `written` bytes the device reported (its used length
 * less the status byte) and clears the rest, so the bounce is never
 * cleared in advance.  A slot's read is copied out the same way (once:
 * the device may be writing the slot meanwhile) and the slot goes back
 * to the queue. */
static void unmap_part(struct ccdma_vblk *b, struct vblk_queue *qq,
		       struct vblk_part *p, uint32_t written)
{
	if (p->slot) {
		if (p->dir == CCDMA_FROM_DEVICE) {
			ccdma_memcpy(p->buf, p->slot->cpu, written);
			ccdma_memset((uint8_t *)p->buf + written, 0,
				     p->len - written);
			ccdma_dev_count_bounce(b->dev, false, p->len, written);
		}
		qq->slot_free[qq->nfree++] = p->slot;
		p->slot = NULL;
	} else if (p->len && p->dir == CCDMA_FROM_DEVICE)
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
	st = __atomic_load_n(scr + SCR_STATUS, __ATOMIC_RELAXED);
	/* A request that did not succeed returns no data: nothing the
	 * device reported as written is copied (found by fuzz_used_ring: an
	 * entry naming a chain the device never read, with a length and a
	 * bad status, handed the caller stale bounce bytes, e.g. an earlier
	 * request's data; with persistent slots an error status would do the
	 * same with the slot's last request). */
	if (st != CCDMA_VBLK_S_OK)
		written = 0;
	unmap_part(b, qq, p, written);
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

	unmap_part(c->b, c->qq, p, 0);
	finish_req(c->qq, p->req, -ENODEV, c->dl);
}

/* Complete everything of qq with -ENODEV: the open request's unposted
 * parts are dropped, the parts in flight forgotten. */
static void drain(struct ccdma_vblk *b, struct vblk_queue *qq,
		  struct done_list *dl)
{
	struct drain_ctx c = { b, qq, dl };
	struct ccdma_vblk_req *r = qq->open;

	if (r) {
		qq->open = NULL;
		if (!r->_err)
			r->_err = -ENODEV;
		if (r->_parts_done == r->_parts)
			complete_req(qq, r, dl);
	}
	ccdma_vq_drain(qq->vq, drain_head, &c);
}

/* Take what the device completed on qq (lock held).  Returns 0, -ENODEV
 * (broken: the queue's in-flight requests are then in dl too) or, with
 * `why` (a reconnect may follow), -EAGAIN: the device failed and is to be
 * reconnected (*why says how); nothing was drained. */
static int reap(struct ccdma_vblk *b, unsigned q, struct vblk_queue *qq,
		struct done_list *dl, const char **rwhy)
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
			why = "bad status byte";
			rc = -EIO;
			break;
		}
	}
	if (got)
		qq->progress_ns = ccdma_os_now_ns();
	if (unlikely(rc < 0)) {
		/* Proven hostile: its used ring or a status byte. */
		if (rwhy && can_recover(b, true)) {
			*rwhy = why;
			return -EAGAIN;
		}
		vblk_break(b, q, why);
		goto dead;
	}
	if (!got && vq->inflight && b->t.ops->broken(b->t.ctx)) {
		if (rwhy && can_recover(b, false)) {
			*rwhy = "transport down";
			return -EAGAIN;
		}
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

/* ---- posting the rest of an open request ------------------------------ */

static int post_parts(struct ccdma_vblk *b, struct vblk_queue *qq,
		      struct ccdma_vblk_req *r, bool may_wait);

/* Publish what was added since the last publish (lock held); true when
 * the device must be kicked. */
static bool publish(struct vblk_queue *qq)
{
	bool kick = ccdma_vq_publish(qq->vq);

	if (kick)
		qq->st.notifications++;
	return kick;
}

/* Kick queue q (no lock held).  When the device is gone, the device is
 * broken and, with `dl` (poll and wait), the queue's requests complete
 * with -ENODEV at once, in that call; without (submit, which runs no
 * callbacks) at the next poll or wait on q.  Returns 0 or -ENODEV. */
static int kick_queue(struct ccdma_vblk *b, unsigned q, struct done_list *dl)
{
	struct vblk_queue *qq = &b->q[q];
	unsigned gen = cur_gen(b);

	if (likely(!b->t.ops->notify(b->t.ctx, q)))
		return 0;
	if (can_recover(b, false) && !vblk_recover(b, gen, q, "notify failed"))
		return 0; /* posted again, and kicked, on the new device */
	ccdma_mutex_lock(&qq->lock);
	vblk_break(b, q, "notify failed");
	if (dl)
		drain(b, qq, dl);
	ccdma_mutex_unlock(&qq->lock);
	return -ENODEV;
}

/*
 * Post more parts of qq's open request (lock held).  It stays open while
 * the ring or the pool has no room now and a part in flight on the queue
 * will free some (without may_wait: in any case, the next poll tries
 * again).  Otherwise it posts nothing more and completes with the error
 * once its posted parts are done.  Returns true to kick.
 */
static bool advance(struct ccdma_vblk *b, struct vblk_queue *qq,
		    bool may_wait, struct done_list *dl)
{
	struct ccdma_vblk_req *r = qq->open;
	int rc;

	if (!r)
		return false;
	rc = r->_err ? r->_err : post_parts(b, qq, r, may_wait);
	if (rc == 0) {
		qq->open = NULL;
	} else if ((rc == -EAGAIN || rc == -ENOMEM) &&
		   (qq->vq->inflight || !may_wait)) {
		/* Later: a completion frees room. */
	} else {
		if (!r->_err)
			r->_err = rc;
		qq->open = NULL;
		if (r->_parts_done == r->_parts)
			complete_req(qq, r, dl);
	}
	return publish(qq);
}

int ccdma_vblk_poll(struct ccdma_vblk *b, unsigned q)
{
	struct vblk_queue *qq;
	struct done_list dl;
	const char *why = NULL;
	bool kick = false;
	unsigned gen;
	int rc;

	if (!b || q >= b->info.num_queues)
		return -EINVAL;
	qq = &b->q[q];
	dl_init(&dl);
	ccdma_mutex_lock(&qq->lock);
	gen = cur_gen(b);
	rc = reap(b, q, qq, &dl, &why);
	if (!rc && qq->open)
		kick = advance(b, qq, false, &dl);
	ccdma_mutex_unlock(&qq->lock);
	if (rc == -EAGAIN) {
		/* Reconnect: what was in flight is posted again; what fails
		 * now was drained by the queues' next reap. */
		rc = vblk_recover(b, gen, q, why);
		if (rc) {
			ccdma_mutex_lock(&qq->lock);
			drain(b, qq, &dl);
			ccdma_mutex_unlock(&qq->lock);
		}
		run_callbacks(&dl);
		return rc ? rc : dl.n;
	}
	if (kick)
		rc = kick_queue(b, q, &dl);
	run_callbacks(&dl);
	return rc ? rc : dl.n;
}

/* The open request of queue q has nothing in flight, so no completion
 * will come: post its next part, waiting for bounce memory (bounded by the
 * pool's wait), or fail it.  Returns what a poll then returns. */
static int unstick(struct ccdma_vblk *b, unsigned q)
{
	struct vblk_queue *qq = &b->q[q];
	struct done_list dl;
	bool kick = false;

	dl_init(&dl);
	ccdma_mutex_lock(&qq->lock);
	if (qq->open && !qq->vq->inflight && !is_broken(b))
		kick = advance(b, qq, true, &dl);
	ccdma_mutex_unlock(&qq->lock);
	if (kick && kick_queue(b, q, &dl)) {
		run_callbacks(&dl);
		return -ENODEV;
	}
	run_callbacks(&dl);
	if (dl.n)
		return dl.n;
	return ccdma_vblk_poll(b, q);
}

int ccdma_vblk_wait(struct ccdma_vblk *b, unsigned q, uint64_t timeout_ns)
{
	struct vblk_queue *qq;
	uint64_t deadline = UINT64_MAX, now;
	bool signalled = false, more, stuck;
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
		uint64_t left = UINT64_MAX, stall = UINT64_MAX;
		unsigned gen = cur_gen(b);

		ccdma_mutex_lock(&qq->lock);
		stuck = qq->open && !qq->vq->inflight;
		if (can_recover(b, false) && qq->vq->inflight &&
		    b->sync_timeout_ms != CCDMA_VBLK_NO_TIMEOUT)
			stall = qq->progress_ns +
				(uint64_t)b->sync_timeout_ms * 1000000ull;
		ccdma_mutex_unlock(&qq->lock);
		if (stall != UINT64_MAX && ccdma_os_now_ns() >= stall) {
			/* Connected, and nothing completes: a stall, met as a
			 * hang-up. */
			ccdma_err("virtio-blk: queue %u: the device completed "
				  "nothing in %u ms", q, b->sync_timeout_ms);
			rc = vblk_recover(b, gen, q, "device stalled");
			n = ccdma_vblk_poll(b, q);
			if (n)
				return n;
			if (rc)
				return -ENODEV;
			continue;
		}
		if (stuck) {
			n = unstick(b, q);
			if (n)
				return n;
			if (deadline != UINT64_MAX && ccdma_os_now_ns() >= deadline)
				return -ETIMEDOUT;
			continue;
		}
		ccdma_mutex_lock(&qq->lock);
		more = ccdma_vq_arm(qq->vq);
		qq->waiters++;
		ccdma_mutex_unlock(&qq->lock);
		rc = 0;
		if (!more) {
			now = ccdma_os_now_ns();
			if (deadline != UINT64_MAX)
				left = now < deadline ? deadline - now : 0;
			if (stall != UINT64_MAX && stall - now < left)
				left = stall - now; /* wakes as a timeout */
			rc = left ? b->t.ops->wait(b->t.ctx, q, left)
				  : -ETIMEDOUT;
			if (rc == 0)
				signalled = true;
		}
		ccdma_mutex_lock(&qq->lock);
		qq->waiters--;
		ccdma_mutex_unlock(&qq->lock);
		if (rc && rc != -ETIMEDOUT && can_recover(b, false)) {
			if (!vblk_recover(b, gen, q, "transport wait failed"))
				rc = 0; /* posted again on the new device */
		}
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
		if (rc == -ETIMEDOUT && (deadline == UINT64_MAX ||
					 ccdma_os_now_ns() < deadline))
			continue; /* woken for the stall check */
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

static uint32_t req_type(enum ccdma_vblk_op op);
static inline bool is_rw(enum ccdma_vblk_op op);

/*
 * Write the chain of part p (its request, units [off, off+n), its data
 * mapping) into the ring at the next head, from private memory only: the
 * header, the discard / write-zeroes segment and the status byte are
 * written afresh into the head's scratch.  Lock held, room checked.  Used
 * by submit and by a reconnect (the same part posted again).
 */
static void add_chain(struct ccdma_vblk *b, struct vblk_queue *qq,
		      const struct vblk_part *pp)
{
	struct ccdma_vq *vq = qq->vq;
	struct ccdma_vq_buf *bf = qq->bufs;
	const struct ccdma_vblk_req *r = pp->req;
	unsigned h = ccdma_vq_next_head(vq), n = 0;
	struct ccdma_vblk_hdr *hdr;
	ccdma_addr_t sdma;
	uint8_t *scr = ccdma_vq_scratch(vq, h, &sdma);
	uint32_t off;

	hdr = (struct ccdma_vblk_hdr *)(void *)(scr + SCR_HDR);
	hdr->type = ccdma_cpu_to_le32(req_type(r->op));
	hdr->reserved = ccdma_cpu_to_le32(0);
	hdr->sector = ccdma_cpu_to_le64(is_rw(r->op) ?
		r->sector + pp->off / CCDMA_VBLK_SECTOR : 0);
	__atomic_store_n(scr + SCR_STATUS, (uint8_t)STATUS_UNSET,
			 __ATOMIC_RELAXED);
	bf[n++] = (struct ccdma_vq_buf){ sdma + SCR_HDR, sizeof(*hdr), false };
	for (off = 0; off < pp->len; off += b->info.size_max) {
		uint32_t l = pp->len - off;

		if (l > b->info.size_max)
			l = b->info.size_max;
		bf[n++] = (struct ccdma_vq_buf){ pp->dma + off, l,
						 pp->dir == CCDMA_FROM_DEVICE };
	}
	if (r->op == CCDMA_VBLK_DISCARD || r->op == CCDMA_VBLK_WRITE_ZEROES) {
		struct ccdma_vblk_dwz d;
		bool unmap = r->op == CCDMA_VBLK_WRITE_ZEROES &&
			     (r->flags & CCDMA_VBLK_REQ_UNMAP);

		d.sector = ccdma_cpu_to_le64(r->sector + pp->off);
		d.num_sectors = ccdma_cpu_to_le32((uint32_t)pp->n);
		d.flags = ccdma_cpu_to_le32(unmap ? 1u : 0u);
		ccdma_memcpy(scr + SCR_DWZ, &d, sizeof(d));
		bf[n++] = (struct ccdma_vq_buf){ sdma + SCR_DWZ, sizeof(d),
						 false };
	}
	bf[n++] = (struct ccdma_vq_buf){ sdma + SCR_STATUS, 1, true };
	ccdma_vq_add(vq, bf, n);
	qq->part[h] = *pp;
}

/* Post one part (lock held, room checked): map its data (dlen bytes at
 * data), then its chain.  Returns 0 or the map error. */
static int post_part(struct ccdma_vblk *b, struct vblk_queue *qq,
		     struct ccdma_vblk_req *r, uint64_t off, uint64_t n,
		     void *data, uint32_t dlen, enum ccdma_dir dir,
		     unsigned attrs)
{
	struct vblk_part p = { r, off, n, 0, dlen, (uint8_t)dir, NULL, data };

	if (dlen && dlen <= b->slot_size && is_rw(r->op) &&
	    ccdma_dev_would_bounce(b->dev, data, dlen) &&
	    (p.slot = slot_get(b, qq)) != NULL) {
		p.dma = p.slot->dma;
		if (dir == CCDMA_TO_DEVICE)
			slot_fill(b, &p);
		qq->st.slot_parts++;
	} else if (dlen) {
		int rc;

		p.dma = ccdma_map_single_attrs(b->dev, data, dlen, dir, attrs |
					       (dir == CCDMA_FROM_DEVICE
							? CCDMA_ATTR_REPORTED_LEN : 0));
		rc = ccdma_mapping_error(b->dev, p.dma);
		if (unlikely(rc))
			return rc;
	}
	add_chain(b, qq, &p);
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

static inline bool is_rw(enum ccdma_vblk_op op)
{
	return op == CCDMA_VBLK_READ || op == CCDMA_VBLK_WRITE;
}

static inline bool is_dwz(enum ccdma_vblk_op op)
{
	return op == CCDMA_VBLK_DISCARD || op == CCDMA_VBLK_WRITE_ZEROES;
}

/* What a request is cut into: bytes (READ, WRITE), sectors (DISCARD,
 * WRITE_ZEROES), or one part of one unit (FLUSH, GET_ID). */
static inline uint64_t req_units(const struct ccdma_vblk_req *r)
{
	if (is_rw(r->op))
		return r->len;
	if (is_dwz(r->op))
		return r->len / CCDMA_VBLK_SECTOR;
	return 1;
}

static uint32_t req_type(enum ccdma_vblk_op op)
{
	switch (op) {
	case CCDMA_VBLK_READ: return CCDMA_VBLK_T_IN;
	case CCDMA_VBLK_WRITE: return CCDMA_VBLK_T_OUT;
	case CCDMA_VBLK_DISCARD: return CCDMA_VBLK_T_DISCARD;
	case CCDMA_VBLK_WRITE_ZEROES: return CCDMA_VBLK_T_WRITE_ZEROES;
	case CCDMA_VBLK_GET_ID: return CCDMA_VBLK_T_GET_ID;
	default: return CCDMA_VBLK_T_FLUSH;
	}
}

/* Post the part of r that starts at r->_off, of up to r->_chunk units
 * (lock held).  Returns 0, -EAGAIN (the ring has no room for it now) or
 * the map's error (-ENOMEM: no bounce memory now). */
static int post_next(struct ccdma_vblk *b, struct vblk_queue *qq,
		     struct ccdma_vblk_req *r, unsigned attrs)
{
	uint64_t left = req_units(r) - r->_off;
	uint64_t n = left < r->_chunk ? left : r->_chunk;
	unsigned bufs = 2;
	int rc;

	if (is_rw(r->op))
		bufs += data_segs(b, (uint32_t)n);
	else if (r->op != CCDMA_VBLK_FLUSH)
		bufs++;
	if (ccdma_vq_descs_for(qq->vq, bufs) > qq->vq->num_free)
		return -EAGAIN;
	switch (r->op) {
	case CCDMA_VBLK_READ:
	case CCDMA_VBLK_WRITE:
		rc = post_part(b, qq, r, r->_off, n, (uint8_t *)r->buf + r->_off,
			       (uint32_t)n,
			       r->op == CCDMA_VBLK_READ ? CCDMA_FROM_DEVICE
							: CCDMA_TO_DEVICE,
			       attrs);
		break;
	case CCDMA_VBLK_GET_ID:
		rc = post_part(b, qq, r, r->_off, n, r->buf, CCDMA_VBLK_ID_BYTES,
			       CCDMA_FROM_DEVICE, attrs);
		break;
	default: /* FLUSH, DISCARD, WRITE_ZEROES: no data mapping */
		rc = post_part(b, qq, r, r->_off, n, NULL, 0, CCDMA_TO_DEVICE, 0);
		break;
	}
	if (likely(!rc)) {
		r->_off += n;
		r->_parts++;
	}
	return rc;
}

/*
 * Post parts of r until all are (0), the ring has no room now (-EAGAIN)
 * or the pool no memory (-ENOMEM); another map error is returned as is.
 * Lock held; nothing is published.  With something in flight on the
 * queue, a completion will free room, so the caller waits for it.  With
 * nothing in flight, nothing will: a READ/WRITE part is halved (down to
 * one block) until the pool can give it, and the part grows back after
 * each success; at one block, may_wait blocks for memory (the pool's
 * bounded wait).
 */
static int post_parts(struct ccdma_vblk *b, struct vblk_queue *qq,
		      struct ccdma_vblk_req *r, bool may_wait)
{
	const struct ccdma_vblk_info *in = &b->info;
	uint64_t units = req_units(r);
	uint32_t unit = in->max_request >= in->blk_size ? in->blk_size
							: CCDMA_VBLK_SECTOR;
	int rc;

	while (r->_off < units) {
		rc = post_next(b, qq, r, 0);
		if (likely(!rc)) {
			if (unlikely(is_rw(r->op) && r->_chunk < in->max_request)) {
				r->_chunk *= 2;
				if (r->_chunk > in->max_request)
					r->_chunk = in->max_request;
			}
			continue;
		}
		if (rc != -ENOMEM || qq->vq->inflight)
			return rc;
		if (is_rw(r->op) && r->_chunk > unit) {
			r->_chunk = r->_chunk / 2 / unit * unit;
			if (r->_chunk < unit)
				r->_chunk = unit;
			continue;
		}
		if (!may_wait)
			return -ENOMEM;
		rc = post_next(b, qq, r, CCDMA_ATTR_WAIT);
		if (rc)
			return rc;
	}
	return 0;
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

/* Checks of a request before anything is posted; *chunk gets the units
 * of a whole part. */
static int check_req(struct ccdma_vblk *b, const struct ccdma_vblk_req *r,
		     uint64_t *chunk)
{
	const struct ccdma_vblk_info *in = &b->info;
	uint64_t nsec;

	*chunk = 1;
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
		*chunk = in->max_request;
		return check_range(b, r, &nsec);
	case CCDMA_VBLK_FLUSH:
		return in->flush ? 0 : -EOPNOTSUPP;
	case CCDMA_VBLK_GET_ID:
		if (!r->buf || r->len < CCDMA_VBLK_ID_BYTES) {
			ccdma_err("virtio-blk: get-id needs a buffer of %u "
				  "bytes", CCDMA_VBLK_ID_BYTES);
			return -EINVAL;
		}
		return 0;
	case CCDMA_VBLK_DISCARD:
	case CCDMA_VBLK_WRITE_ZEROES:
		if (r->op == CCDMA_VBLK_DISCARD ? !in->discard
						: !in->write_zeroes)
			return -EOPNOTSUPP;
		if (in->read_only)
			return -EROFS;
		*chunk = r->op == CCDMA_VBLK_DISCARD ? in->max_discard_sectors
						     : in->max_write_zeroes_sectors;
		return check_range(b, r, &nsec);
	default:
		ccdma_err("virtio-blk: unknown request type %d", (int)r->op);
		return -EINVAL;
	}
}

int ccdma_vblk_submit(struct ccdma_vblk *b, unsigned q,
		      struct ccdma_vblk_req *r)
{
	struct vblk_queue *qq;
	uint64_t chunk, units;
	bool kick;
	int rc;

	if (!b || !r || q >= b->info.num_queues) {
		ccdma_err("virtio-blk: submit: NULL or queue %u of %u", q,
			  b ? b->info.num_queues : 0);
		return -EINVAL;
	}
	if (unlikely(is_broken(b)))
		return -ENODEV;
	if (r->flags & ~(VBLK_KNOWN_FLAGS | VBLK_REQ_WAIT_)) {
		ccdma_err("virtio-blk: unknown request flags %#x", r->flags);
		return -EINVAL;
	}
	rc = check_req(b, r, &chunk);
	if (rc)
		return rc;
	qq = &b->q[q];
	r->_parts = 0;
	r->_parts_done = 0;
	r->_err = 0;
	r->_queue = q;
	r->_next = NULL;
	r->_off = 0;
	r->_chunk = chunk;

	ccdma_mutex_lock(&qq->lock);
	if (unlikely(is_broken(b))) {
		rc = -ENODEV;
		goto out;
	}
	if (qq->open) {
		/* The open request's parts go first. */
		rc = -EAGAIN;
		goto out;
	}
	if (!qq->reqs)
		qq->progress_ns = ccdma_os_now_ns(); /* the stall clock */
	rc = post_parts(b, qq, r, r->flags & VBLK_REQ_WAIT_);
	if (rc && !r->_parts)
		goto out; /* nothing posted: refused */
	if (rc == -EAGAIN || rc == -ENOMEM)
		qq->open = r;
	else if (rc)
		r->_err = rc; /* the rest cannot be mapped */
	r->status = CCDMA_VBLK_PENDING;
	qq->reqs++;
	qq->st.submitted++;
	units = req_units(r);
	if (units > chunk)
		qq->st.split_parts += (units + chunk - 1) / chunk;
	kick = publish(qq);
	ccdma_mutex_unlock(&qq->lock);
	if (kick)
		/* Posted: a failed kick fails it at the next poll or wait. */
		(void)kick_queue(b, q, NULL);
	return 0;
out:
	ccdma_mutex_unlock(&qq->lock);
	return rc;
}

/* ---- reconnect -------------------------------------------------------- */

/*
 * Queue q on the new device (its lock held): start the ring again from
 * index 0 and post every part that was in flight on the old one, from the
 * private part records (saved: room for num), never from shared memory; a
 * write's bounce is filled again from the caller's buffer.  Returns 0 or
 * queue_start's error.
 */
static int requeue(struct ccdma_vblk *b, unsigned q, struct vblk_part *saved)
{
	struct vblk_queue *qq = &b->q[q];
	struct ccdma_vq *vq = qq->vq;
	struct ccdma_vq_layout l;
	unsigned h, n = 0, k;
	int rc;

	for (h = 0; h < vq->num; h++)
		if (vq->chain[h].inflight)
			saved[n++] = qq->part[h];
	ccdma_vq_reset(vq);
	ccdma_vq_layout(vq, &l);
	rc = b->t.ops->queue_start(b->t.ctx, q, &l);
	if (rc) {
		ccdma_err("virtio-blk: reconnect: starting queue %u: error %d",
			  q, rc);
		/* Back in the record, for drain() to complete them. */
		for (k = 0; k < n; k++)
			add_chain(b, qq, &saved[k]);
		return rc;
	}
	for (k = 0; k < n; k++) {
		const struct vblk_part *p = &saved[k];

		if (p->len && p->dir == CCDMA_TO_DEVICE && p->slot)
			slot_fill(b, p);
		else if (p->len && p->dir == CCDMA_TO_DEVICE)
			(void)ccdma_sync_single_for_device(b->dev, p->dma, p->len,
							   CCDMA_TO_DEVICE);
		add_chain(b, qq, p);
	}
	(void)publish(qq);
	qq->progress_ns = ccdma_os_now_ns();
	return 0;
}

/*
 * The device failed (why) while at generation gen: reconnect through the
 * transport (at most reconnect_ms) and post again everything in flight on
 * every queue.  No queue lock held by the caller.  Returns 0 (reconnected
 * now, or by another thread since gen) or -ENODEV (broken: no device came
 * back, or it offers less; the queues complete their requests with
 * -ENODEV at their next poll or wait).
 */
static int vblk_recover(struct ccdma_vblk *b, unsigned gen, unsigned q,
			const char *why)
{
	unsigned nq = b->info.num_queues, num = b->info.queue_size, i, busy = 0;
	struct vblk_part *saved;
	int rc;

	ccdma_mutex_lock(&b->rec_lock);
	if (cur_gen(b) != gen || is_broken(b)) {
		rc = is_broken(b) ? -ENODEV : 0;
		ccdma_mutex_unlock(&b->rec_lock);
		return rc;
	}
	for (i = 0; i < nq; i++) {
		ccdma_mutex_lock(&b->q[i].lock);
		busy += b->q[i].vq->inflight;
	}
	ccdma_warn("virtio-blk: queue %u: %s: reconnecting (up to %u ms) with "
		   "%u request part(s) in flight", q, why, b->reconnect_ms, busy);
	saved = ccdma_os_calloc(num, sizeof(*saved));
	rc = saved ? b->t.ops->reconnect(b->t.ctx, b->reconnect_ms) : -ENOMEM;
	for (i = 0; !rc && i < nq; i++)
		rc = requeue(b, i, saved);
	ccdma_os_free(saved);
	if (rc) {
		vblk_break(b, q, "reconnect failed");
	} else {
		__atomic_add_fetch(&b->reconnects, 1, __ATOMIC_RELAXED);
		__atomic_add_fetch(&b->gen, 1, __ATOMIC_RELEASE);
	}
	for (i = nq; i-- > 0;)
		ccdma_mutex_unlock(&b->q[i].lock);
	/* Kick every queue: the new device has not seen a kick yet.  A
	 * failure here is seen (and met) by the next poll or wait. */
	for (i = 0; !rc && i < nq; i++)
		(void)b->t.ops->notify(b->t.ctx, i);
	ccdma_mutex_unlock(&b->rec_lock);
	if (!rc)
		ccdma_warn("virtio-blk: reconnected; %u request part(s) posted "
			   "again", busy);
	return rc ? -ENODEV : 0;
}

/* ---- synchronous helpers ---------------------------------------------- */

static void sync_done(struct ccdma_vblk_req *r)
{
	__atomic_store_n((bool *)r->user, true, __ATOMIC_RELEASE);
}

/* The longest a synchronous helper sleeps before it looks at its request
 * again (another thread may have completed it). */
#define SYNC_SLICE_NS 10000000ull

/* Deadline for the next completion of a synchronous helper. */
static uint64_t sync_deadline(const struct ccdma_vblk *b)
{
	if (b->sync_timeout_ms == CCDMA_VBLK_NO_TIMEOUT)
		return UINT64_MAX;
	return ccdma_os_now_ns() + (uint64_t)b->sync_timeout_ms * 1000000ull;
}

/*
 * Wait on queue 0 for a completion until `deadline`: > 0 (completions: the
 * deadline moves on), -ENODEV, or -ETIMEDOUT once the device completed
 * nothing for the whole timeout.  A stalled device is then broken and the
 * queue's requests (the caller's among them) completed with -ENODEV, so
 * that nothing stays mapped.
 */
static int sync_wait(struct ccdma_vblk *b, uint64_t *deadline)
{
	uint64_t now = ccdma_os_now_ns(), slice, seen;
	unsigned gen = cur_gen(b);
	int rc;

	/* Another thread's poll may complete this thread's request (its
	 * callback runs there) while this one sleeps in the transport, which
	 * nothing then wakes: wait in slices, so the caller looks at its
	 * request again, and count every thread's completions as progress. */
	slice = *deadline == UINT64_MAX || *deadline - now > SYNC_SLICE_NS ?
		SYNC_SLICE_NS : now < *deadline ? *deadline - now : 0;
	rc = ccdma_vblk_wait(b, 0, slice);
	if (rc > 0) {
		*deadline = sync_deadline(b);
		return rc;
	}
	if (rc != -ETIMEDOUT)
		return rc;
	now = ccdma_os_now_ns();
	if (now < *deadline)
		return 0; /* woken early: wait on */
	ccdma_mutex_lock(&b->q[0].lock);
	seen = b->q[0].progress_ns;
	ccdma_mutex_unlock(&b->q[0].lock);
	if (b->sync_timeout_ms != CCDMA_VBLK_NO_TIMEOUT &&
	    now - seen < (uint64_t)b->sync_timeout_ms * 1000000ull) {
		/* Completions, by other threads, within the timeout. */
		*deadline = seen + (uint64_t)b->sync_timeout_ms * 1000000ull;
		return 0;
	}
	ccdma_err("virtio-blk: queue 0: the device completed nothing in %u ms "
		  "(synchronous request)", b->sync_timeout_ms);
	if (can_recover(b, false)) {
		/* A stall is met as a hang-up: posted again on a new
		 * connection, the clock restarts. */
		rc = vblk_recover(b, gen, 0, "device stalled");
		if (!rc) {
			*deadline = sync_deadline(b);
			return 0;
		}
	}
	ccdma_mutex_lock(&b->q[0].lock);
	vblk_break(b, 0, "device stalled");
	ccdma_mutex_unlock(&b->q[0].lock);
	(void)ccdma_vblk_poll(b, 0); /* completes the queue with -ENODEV */
	return -ETIMEDOUT;
}

/* Submit on queue 0 (waiting for room while other requests are in
 * flight) and wait for the request, each wait bounded by the device's
 * sync timeout. */
static int sync_req(struct ccdma_vblk *b, struct ccdma_vblk_req *r)
{
	uint64_t deadline = sync_deadline(b);
	bool done = false;
	int rc;

	r->done = sync_done;
	r->user = &done;
	r->flags |= VBLK_REQ_WAIT_;
	while ((rc = ccdma_vblk_submit(b, 0, r)) == -EAGAIN ||
	       (rc == -ENOMEM && ccdma_vblk_inflight(b, 0))) {
		rc = sync_wait(b, &deadline);
		if (rc < 0)
			return rc;
	}
	if (rc)
		return rc;
	while (!__atomic_load_n(&done, __ATOMIC_ACQUIRE)) {
		rc = sync_wait(b, &deadline);
		if (rc == -ETIMEDOUT)
			return rc; /* r completed with -ENODEV */
		if (rc < 0 && !__atomic_load_n(&done, __ATOMIC_ACQUIRE))
			return rc;
	}
	return r->status;
}

/* One request of any length: the driver posts its parts as the ring and
 * the pool have room. */
static int sync_rw(struct ccdma_vblk *b, enum ccdma_vblk_op op,
		   uint64_t sector, void *buf, size_t len)
{
	struct ccdma_vblk_req r;

	if (!b)
		return -EINVAL;
	ccdma_memset(&r, 0, sizeof(r));
	r.op = op;
	r.sector = sector;
	r.buf = buf;
	r.len = len;
	return sync_req(b, &r);
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
	/* One request (the driver posts its parts as the ring has room),
	 * unless len would not fit a size_t (32-bit targets).  0 sectors:
	 * one request that the submit refuses. */
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
	if (!info)
		return;
	if (b)
		*info = b->info;
	else
		ccdma_memset(info, 0, sizeof(*info));
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
		st->slot_parts += qq->st.slot_parts;
		st->slots += qq->nslots;
		st->slot_bytes += (uint64_t)qq->nslots * b->slot_size;
		ccdma_mutex_unlock(&qq->lock);
	}
	st->reconnects = __atomic_load_n(&b->reconnects, __ATOMIC_RELAXED);
}

/*
 * Requests are in flight on queue q at destroy: the device must stop
 * using the ring before its memory and the payload bounces are scrubbed
 * and reused.  The transport's queue_stop (vhost: GET_VRING_BASE) does
 * that without breaking the device; without it, or when it fails, the
 * device is broken (fail(): the transport disconnects it).
 */
static void stop_queue(struct ccdma_vblk *b, unsigned q)
{
	int rc = -EOPNOTSUPP;

	if (b->t.ops->queue_stop)
		rc = b->t.ops->queue_stop(b->t.ctx, q);
	if (!rc) {
		ccdma_info("virtio-blk: queue %u: driver destroyed with requests "
			   "in flight: queue stopped", q);
		return;
	}
	ccdma_mutex_lock(&b->q[q].lock);
	vblk_break(b, q, "driver destroyed with requests in flight");
	ccdma_mutex_unlock(&b->q[q].lock);
}

void ccdma_vblk_destroy(struct ccdma_vblk *b)
{
	unsigned i;

	if (!b)
		return;
	for (i = 0; i < b->info.num_queues; i++) {
		struct vblk_queue *qq = &b->q[i];
		struct done_list dl;
		bool busy;

		dl_init(&dl);
		ccdma_mutex_lock(&qq->lock);
		/* Take what is complete; the rest cannot be waited for. */
		reap(b, i, qq, &dl, NULL);
		busy = qq->vq->inflight && !is_broken(b);
		ccdma_mutex_unlock(&qq->lock);
		/* No lock held: the transport may talk to the device (nobody
		 * else uses b any more). */
		if (busy)
			stop_queue(b, i);
		ccdma_mutex_lock(&qq->lock);
		/* What the device completed before it stopped counts. */
		if (busy && !is_broken(b))
			reap(b, i, qq, &dl, NULL);
		/* In-flight parts and an open request's unposted ones. */
		if (qq->vq->inflight || qq->open)
			drain(b, qq, &dl);
		ccdma_mutex_unlock(&qq->lock);
		run_callbacks(&dl);
	}
	for (i = 0; i < b->info.num_queues; i++)
		queue_fini(b, &b->q[i]);
	ccdma_os_free(b->q);
	ccdma_mutex_destroy(&b->rec_lock);
	ccdma_os_free(b);
}
