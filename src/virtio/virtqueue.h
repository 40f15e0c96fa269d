/* SPDX-License-Identifier: MIT */
/*
 * Split virtqueue, driver side (virtio 1.x, 2.7).  Internal to src/virtio/.
 *
 * The three ring parts live in coherent (shared) memory of the transport's
 * dma device; so do the optional per-head scratch area (the virtio-blk
 * request header, status byte and discard segment of each head) and the
 * per-head indirect tables.  Everything the driver acts on is private:
 *
 *   - the free-descriptor list is a private array of links (next_free), so
 *     freeing a chain never reads desc[].next back from shared memory;
 *   - each head has a private record (struct ccdma_vq_chain) of what was
 *     posted: in flight or not, how many ring descriptors, the last one (to
 *     splice the chain back onto the free list in O(1)) and the number of
 *     device-writable bytes posted;
 *   - the avail index is a private shadow, published with one release store;
 *   - each used entry is read once (used->idx with acquire, then the element)
 *     into private memory and validated against the chain records before
 *     anything else happens (ccdma_vq_get_used).
 *
 * Locking: none here.  The caller (one lock per queue) serialises every
 * call on a queue.
 *
 * Indirect descriptors: when negotiated, every chain of more than one
 * descriptor goes through the head's preallocated indirect table, so each
 * request takes exactly one ring descriptor and a ring of num entries holds
 * num requests.
 */
#ifndef CCDMA_VIRTQUEUE_H
#define CCDMA_VIRTQUEUE_H

#include <ccdma/dma.h>
#include <ccdma/virtio.h>

#include "platform/os.h"
#include "virtio/virtio_ring.h"

/* One buffer of a chain, as the caller describes it (private memory). */
struct ccdma_vq_buf {
	ccdma_addr_t addr;
	uint32_t len;
	bool write;              /* device-writable */
};

/* The private record of a posted chain, by head id. */
struct ccdma_vq_chain {
	uint32_t wlen;           /* device-writable bytes posted */
	uint16_t ndesc;          /* ring descriptors taken */
	uint16_t last;           /* last ring descriptor of the chain */
	bool inflight;
};

struct ccdma_vq {
	struct ccdma_dev *dev;
	unsigned index;          /* queue number on the transport */
	unsigned num;            /* ring size, a power of two */
	uint16_t mask;
	bool event_idx;
	bool indirect;           /* chains > 1 descriptor go indirect */
	unsigned ind_max;        /* entries per indirect table (0: none) */

	/* Shared memory (coherent). */
	struct ccdma_vring_desc *desc;
	struct ccdma_vring_avail *avail;
	struct ccdma_vring_used *used;
	ccdma_addr_t desc_dma, avail_dma, used_dma;
	struct ccdma_vring_desc *ind;    /* num tables of ind_max entries */
	ccdma_addr_t ind_dma;
	uint8_t *scratch;                /* num areas of scratch_size bytes */
	ccdma_addr_t scratch_dma;
	size_t scratch_size;

	/* Private state. */
	uint16_t *next_free;     /* free-list links, by descriptor */
	struct ccdma_vq_chain *chain;    /* by head id */
	uint16_t free_head;
	unsigned num_free;       /* free ring descriptors */
	unsigned inflight;       /* chains posted and not completed */
	uint16_t avail_idx;      /* next avail index (includes pending) */
	uint16_t avail_pub;      /* avail index the device has seen */
	uint16_t kick_old;       /* avail index at the last kick decision */
	struct ccdma_vq_gate *gate; /* the transport's, or NULL */
	uint16_t last_used;      /* next used index to consume */
	uint16_t avail_flags;    /* shadow of avail->flags */
	bool armed;              /* interrupts requested */
};

/*
 * Allocate a queue of `num` entries (a power of two <= 32768) on `dev`:
 * rings, `scratch_size` bytes of coherent scratch per head (0: none),
 * and, when `ind_max` > 0, an indirect table of ind_max entries per head.
 * Interrupts start disabled.  0, -EINVAL, -ENOMEM.
 */
int ccdma_vq_create(struct ccdma_dev *dev, unsigned index, unsigned num,
		    bool event_idx, unsigned ind_max, size_t scratch_size,
		    struct ccdma_vq **out);
void ccdma_vq_destroy(struct ccdma_vq *vq);
/* The layout to hand to the transport's queue_start(). */
void ccdma_vq_layout(const struct ccdma_vq *vq, struct ccdma_vq_layout *l);

/* Head h's coherent scratch area. */
static inline void *ccdma_vq_scratch(struct ccdma_vq *vq, unsigned h,
				     ccdma_addr_t *dma)
{
	*dma = vq->scratch_dma + (ccdma_addr_t)h * vq->scratch_size;
	return vq->scratch + (size_t)h * vq->scratch_size;
}

/* Ring descriptors a chain of n buffers takes. */
static inline unsigned ccdma_vq_descs_for(const struct ccdma_vq *vq,
					  unsigned n)
{
	return (vq->indirect && n > 1) ? 1 : n;
}

/* The head id the next ccdma_vq_add() will use (there must be room). */
static inline unsigned ccdma_vq_next_head(const struct ccdma_vq *vq)
{
	return vq->free_head;
}

/*
 * Write a chain of n buffers (readable ones first) into the ring and the
 * next avail slot, without publishing it.  The caller has checked that
 * num_free >= ccdma_vq_descs_for(n) and n fits (<= ind_max when indirect,
 * <= num otherwise).  Returns the head id.
 */
unsigned ccdma_vq_add(struct ccdma_vq *vq, const struct ccdma_vq_buf *b,
		      unsigned n);
/* Take back the most recent unpublished chain, whose head is h. */
void ccdma_vq_unadd(struct ccdma_vq *vq, unsigned h);
/*
 * Publish every chain added since the last publish (one release store of
 * avail->idx) and decide whether the device must be kicked (EVENT_IDX:
 * avail_event; else used->flags NO_NOTIFY).  Returns true to kick.
 */
bool ccdma_vq_publish(struct ccdma_vq *vq);

/*
 * Take the next used entry, validated.  Returns 1 and fills *head and *len
 * (clamped to the chain's posted writable length; *clamped says so), 0 when
 * there is none, or -EIO when the device misbehaved (why in *why): the
 * queue is then unusable.  The chain's descriptors are back on the free
 * list when this returns 1.
 */
int ccdma_vq_get_used(struct ccdma_vq *vq, unsigned *head, uint32_t *len,
		      bool *clamped, const char **why);
/* Something in the used ring now (one acquire load). */
bool ccdma_vq_more_used(struct ccdma_vq *vq);

/* Ask for an interrupt at the next used entry; returns true when there
 * already is one (re-check after arming: the lost-wakeup race). */
bool ccdma_vq_arm(struct ccdma_vq *vq);
/* No interrupts wanted (best effort with EVENT_IDX). */
void ccdma_vq_disarm(struct ccdma_vq *vq);

/* Start over on a new device (a reconnect): every chain forgotten (the
 * caller has its own record of them), indices at 0, the used ring
 * cleared; interrupts stay as armed.  The caller adds the chains again. */
void ccdma_vq_reset(struct ccdma_vq *vq);

/* Forget every chain in flight (the device is broken): calls fn(head) for
 * each, then frees it.  A scan of the heads; never on the I/O path. */
void ccdma_vq_drain(struct ccdma_vq *vq, void (*fn)(void *arg, unsigned head),
		    void *arg);

/*
 * The gate (struct ccdma_virtio_transport_ops.gate): while a transport
 * holds it closed, ccdma_vq_publish() waits before it stores a new avail
 * index; ccdma_vq_gate_close() returns once no publish is under way, so
 * from then until ccdma_vq_gate_open() the avail index of every queue on
 * the gate stays where it is.  Costs two atomic operations per publish on
 * a queue that has one, nothing on one that does not.
 */
struct ccdma_vq_gate {
	unsigned closed;         /* atomic */
	unsigned busy;           /* atomic: publishes under way */
	ccdma_mutex_t lock;
	ccdma_cond_t cond;
};

int ccdma_vq_gate_init(struct ccdma_vq_gate *g);
void ccdma_vq_gate_destroy(struct ccdma_vq_gate *g);
void ccdma_vq_gate_close(struct ccdma_vq_gate *g);
void ccdma_vq_gate_open(struct ccdma_vq_gate *g);
/* Attach the transport's gate (NULL: none) to a queue; lock held. */
static inline void ccdma_vq_set_gate(struct ccdma_vq *vq,
				     struct ccdma_vq_gate *g)
{
	vq->gate = g;
}

#endif /* CCDMA_VIRTQUEUE_H */
