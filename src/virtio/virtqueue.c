/* SPDX-License-Identifier: MIT */
/*
 * Split virtqueue, driver side: see virtqueue.h for the model.
 *
 * Shared fields the device may change under us are loaded once with an
 * atomic load (never a plain one the compiler could repeat) and converted
 * from little-endian; shared fields we own are written with plain stores
 * before the one release store of avail->idx that hands them over, except
 * the words the device polls (avail->flags, used_event), which are atomic.
 */
#include "virtio/virtqueue.h"

static int coherent(struct ccdma_dev *dev, size_t size, void **cpu,
		    ccdma_addr_t *dma)
{
	*cpu = NULL;
	if (!size)
		return 0;
	return ccdma_alloc_coherent(dev, size, cpu, dma, CCDMA_ATTR_WAIT);
}

static void uncoherent(struct ccdma_dev *dev, size_t size, void *cpu,
		       ccdma_addr_t dma)
{
	if (cpu)
		ccdma_free_coherent(dev, size, cpu, dma);
}

static size_t ind_bytes(const struct ccdma_vq *vq)
{
	return (size_t)vq->num * vq->ind_max * sizeof(struct ccdma_vring_desc);
}

void ccdma_vq_destroy(struct ccdma_vq *vq)
{
	if (!vq)
		return;
	uncoherent(vq->dev, ccdma_vring_desc_size(vq->num), vq->desc,
		   vq->desc_dma);
	uncoherent(vq->dev, ccdma_vring_avail_size(vq->num), vq->avail,
		   vq->avail_dma);
	uncoherent(vq->dev, ccdma_vring_used_size(vq->num), vq->used,
		   vq->used_dma);
	uncoherent(vq->dev, ind_bytes(vq), vq->ind, vq->ind_dma);
	uncoherent(vq->dev, (size_t)vq->num * vq->scratch_size, vq->scratch,
		   vq->scratch_dma);
	ccdma_os_free(vq->next_free);
	ccdma_os_free(vq->chain);
	ccdma_os_free(vq);
}

int ccdma_vq_create(struct ccdma_dev *dev, unsigned index, unsigned num,
		    bool event_idx, unsigned ind_max, size_t scratch_size,
		    struct ccdma_vq **out)
{
	struct ccdma_vq *vq;
	void *p;
	int rc;

	*out = NULL;
	if (!dev || num < 2 || num > CCDMA_VRING_MAX_NUM || (num & (num - 1)) ||
	    ind_max > num)
		return -EINVAL;
	vq = ccdma_os_calloc(1, sizeof(*vq));
	if (!vq)
		return -ENOMEM;
	vq->dev = dev;
	vq->index = index;
	vq->num = num;
	vq->mask = (uint16_t)(num - 1);
	vq->event_idx = event_idx;
	vq->indirect = ind_max > 1;
	vq->ind_max = vq->indirect ? ind_max : 0;
	vq->scratch_size = scratch_size;
	vq->next_free = ccdma_os_calloc(num, sizeof(*vq->next_free));
	vq->chain = ccdma_os_calloc(num, sizeof(*vq->chain));
	if (!vq->next_free || !vq->chain) {
		rc = -ENOMEM;
		goto fail;
	}
	rc = coherent(dev, ccdma_vring_desc_size(num), &p, &vq->desc_dma);
	vq->desc = p;
	if (!rc) {
		rc = coherent(dev, ccdma_vring_avail_size(num), &p,
			      &vq->avail_dma);
		vq->avail = p;
	}
	if (!rc) {
		rc = coherent(dev, ccdma_vring_used_size(num), &p, &vq->used_dma);
		vq->used = p;
	}
	if (!rc) {
		rc = coherent(dev, ind_bytes(vq), &p, &vq->ind_dma);
		vq->ind = p;
	}
	if (!rc) {
		rc = coherent(dev, (size_t)num * scratch_size, &p,
			      &vq->scratch_dma);
		vq->scratch = p;
	}
	if (rc)
		goto fail;

	ccdma_vq_reset(vq);
	*out = vq;
	return 0;
fail:
	ccdma_vq_destroy(vq);
	return rc;
}

void ccdma_vq_reset(struct ccdma_vq *vq)
{
	unsigned i;

	for (i = 0; i < vq->num; i++) {
		vq->next_free[i] = (uint16_t)((i + 1) & vq->mask);
		vq->chain[i].inflight = false;
	}
	vq->free_head = 0;
	vq->num_free = vq->num;
	vq->inflight = 0;
	vq->avail_idx = vq->avail_pub = vq->kick_old = vq->last_used = 0;
	ccdma_memset(vq->used, 0, ccdma_vring_used_size(vq->num));
	ccdma_vring_st16(&vq->avail->idx, 0, __ATOMIC_RELAXED);
	/* Interrupts off until a waiter arms them.  With EVENT_IDX there is
	 * no "off": ask for the entry furthest away. */
	if (vq->armed)
		vq->avail_flags = 0;
	else
		vq->avail_flags = CCDMA_VRING_AVAIL_F_NO_INTERRUPT;
	ccdma_vring_st16(&vq->avail->flags, vq->avail_flags, __ATOMIC_RELAXED);
	ccdma_vring_st16(ccdma_vring_used_event(vq->avail, vq->num),
			 vq->armed ? 0 : 0x7fff, __ATOMIC_RELAXED);
}

void ccdma_vq_layout(const struct ccdma_vq *vq, struct ccdma_vq_layout *l)
{
	l->num = vq->num;
	l->desc_dma = vq->desc_dma;
	l->avail_dma = vq->avail_dma;
	l->used_dma = vq->used_dma;
	l->desc = vq->desc;
	l->avail = vq->avail;
	l->used = vq->used;
}

static inline void put_desc(struct ccdma_vring_desc *d,
			    const struct ccdma_vq_buf *b, uint16_t flags,
			    uint16_t next)
{
	d->addr = ccdma_cpu_to_le64(b->addr);
	d->len = ccdma_cpu_to_le32(b->len);
	d->flags = ccdma_cpu_to_le16(
		(uint16_t)(flags | (b->write ? CCDMA_VRING_DESC_F_WRITE : 0)));
	d->next = ccdma_cpu_to_le16(next);
}

unsigned ccdma_vq_add(struct ccdma_vq *vq, const struct ccdma_vq_buf *b,
		      unsigned n)
{
	struct ccdma_vq_chain *c;
	uint16_t head = vq->free_head, cur = head, last = head;
	uint32_t wlen = 0;
	unsigned i;

	if (vq->indirect && n > 1) {
		struct ccdma_vring_desc *t = vq->ind + (size_t)head * vq->ind_max;
		struct ccdma_vq_buf tb;

		for (i = 0; i < n; i++) {
			put_desc(&t[i], &b[i],
				 i + 1 < n ? CCDMA_VRING_DESC_F_NEXT : 0,
				 (uint16_t)(i + 1 < n ? i + 1 : 0));
			if (b[i].write)
				wlen += b[i].len;
		}
		tb.addr = vq->ind_dma + (ccdma_addr_t)head * vq->ind_max *
			  sizeof(struct ccdma_vring_desc);
		tb.len = n * (uint32_t)sizeof(struct ccdma_vring_desc);
		tb.write = false;
		put_desc(&vq->desc[head], &tb, CCDMA_VRING_DESC_F_INDIRECT, 0);
		n = 1;
	} else {
		for (i = 0; i < n; i++) {
			uint16_t next = vq->next_free[cur];

			put_desc(&vq->desc[cur], &b[i],
				 i + 1 < n ? CCDMA_VRING_DESC_F_NEXT : 0,
				 i + 1 < n ? next : 0);
			if (b[i].write)
				wlen += b[i].len;
			last = cur;
			cur = next;
		}
	}
	vq->free_head = n == 1 ? vq->next_free[head] : cur;
	vq->num_free -= n;
	c = &vq->chain[head];
	c->wlen = wlen;
	c->ndesc = (uint16_t)n;
	c->last = last;
	c->inflight = true;
	vq->inflight++;
	vq->avail->ring[vq->avail_idx & vq->mask] = ccdma_cpu_to_le16(head);
	vq->avail_idx++;
	return head;
}

static inline void free_chain(struct ccdma_vq *vq, unsigned h)
{
	struct ccdma_vq_chain *c = &vq->chain[h];

	vq->next_free[c->last] = vq->free_head;
	vq->free_head = (uint16_t)h;
	vq->num_free += c->ndesc;
	c->inflight = false;
	vq->inflight--;
}

void ccdma_vq_unadd(struct ccdma_vq *vq, unsigned h)
{
	/* The avail slot stays written but unpublished: harmless. */
	free_chain(vq, h);
	vq->avail_idx--;
}

/* ---- the transport's gate ------------------------------------------- */

int ccdma_vq_gate_init(struct ccdma_vq_gate *g)
{
	g->closed = 0;
	g->busy = 0;
	if (ccdma_mutex_init(&g->lock))
		return -ENOMEM;
	if (ccdma_cond_init(&g->cond)) {
		ccdma_mutex_destroy(&g->lock);
		return -ENOMEM;
	}
	return 0;
}

void ccdma_vq_gate_destroy(struct ccdma_vq_gate *g)
{
	ccdma_cond_destroy(&g->cond);
	ccdma_mutex_destroy(&g->lock);
}

static void gate_leave(struct ccdma_vq_gate *g)
{
	/* Sequentially consistent against close(), which stores closed and
	 * then reads busy: one of the two sees the other. */
	if (__atomic_sub_fetch(&g->busy, 1, __ATOMIC_SEQ_CST) == 0 &&
	    __atomic_load_n(&g->closed, __ATOMIC_SEQ_CST)) {
		ccdma_mutex_lock(&g->lock);
		ccdma_cond_broadcast(&g->cond);
		ccdma_mutex_unlock(&g->lock);
	}
}

static void gate_enter(struct ccdma_vq_gate *g)
{
	for (;;) {
		__atomic_add_fetch(&g->busy, 1, __ATOMIC_SEQ_CST);
		if (!__atomic_load_n(&g->closed, __ATOMIC_SEQ_CST))
			return;
		gate_leave(g);
		ccdma_mutex_lock(&g->lock);
		while (__atomic_load_n(&g->closed, __ATOMIC_ACQUIRE))
			ccdma_cond_wait(&g->cond, &g->lock);
		ccdma_mutex_unlock(&g->lock);
	}
}

void ccdma_vq_gate_close(struct ccdma_vq_gate *g)
{
	ccdma_mutex_lock(&g->lock);
	__atomic_store_n(&g->closed, 1, __ATOMIC_SEQ_CST);
	ccdma_vring_mb(); /* against gate_enter: busy, then closed */
	while (__atomic_load_n(&g->busy, __ATOMIC_SEQ_CST))
		ccdma_cond_wait(&g->cond, &g->lock);
	ccdma_mutex_unlock(&g->lock);
}

void ccdma_vq_gate_open(struct ccdma_vq_gate *g)
{
	ccdma_mutex_lock(&g->lock);
	__atomic_store_n(&g->closed, 0, __ATOMIC_SEQ_CST);
	ccdma_cond_broadcast(&g->cond);
	ccdma_mutex_unlock(&g->lock);
}

static bool vq_publish(struct ccdma_vq *vq);

bool ccdma_vq_publish(struct ccdma_vq *vq)
{
	bool kick;

	if (vq->avail_idx == vq->avail_pub)
		return false;
	if (!vq->gate)
		return vq_publish(vq);
	gate_enter(vq->gate);
	kick = vq_publish(vq);
	gate_leave(vq->gate);
	return kick;
}

static bool vq_publish(struct ccdma_vq *vq)
{
	uint16_t new_idx = vq->avail_idx, old = vq->kick_old;

	/* Store the new index, then read whether the device wants a kick;
	 * the device does the opposite (writes avail_event or clears
	 * NO_NOTIFY, then reads our index).  Sequentially consistent on both
	 * words, and ccdma_vring_mb() between them (see there), so neither
	 * side misses the other. */
	__atomic_store_n(&vq->avail->idx.raw, ccdma_cpu_to_le16(new_idx).raw,
			 __ATOMIC_SEQ_CST);
	ccdma_vring_mb();
	vq->avail_pub = new_idx;
	vq->kick_old = new_idx;
	if (vq->event_idx) {
		uint16_t ev = ccdma_vring_ld16(ccdma_vring_avail_event(vq->used, vq->num),
				   __ATOMIC_SEQ_CST);

		return ccdma_vring_need_event(ev, new_idx, old);
	}
	return !(ccdma_vring_ld16(&vq->used->flags, __ATOMIC_SEQ_CST) &
		 CCDMA_VRING_USED_F_NO_NOTIFY);
}

bool ccdma_vq_more_used(struct ccdma_vq *vq)
{
	return ccdma_vring_ld16(&vq->used->idx, __ATOMIC_RELAXED) != vq->last_used;
}

int ccdma_vq_get_used(struct ccdma_vq *vq, unsigned *head, uint32_t *len,
		      bool *clamped, const char **why)
{
	const struct ccdma_vring_used_elem *e;
	uint16_t idx = ccdma_vring_ld16(&vq->used->idx, __ATOMIC_ACQUIRE);
	uint16_t ahead = (uint16_t)(idx - vq->last_used);
	struct ccdma_vq_chain *c;
	uint32_t id, l;

	if (!ahead)
		return 0;
	/* The device cannot have used more chains than are in flight.  An
	 * index behind the last one consumed reads as half the index space
	 * or more ahead (a move back the driver never saw, to an entry it had
	 * not consumed yet, looks like fewer completions and cannot be told). */
	if (unlikely(ahead > vq->inflight)) {
		*why = ahead >= 0x8000u ? "used index moved backwards"
		       : ahead > vq->num ? "used index moved more than the ring "
					   "size ahead"
					 : "used index ahead of the chains in "
					   "flight";
		return -EIO;
	}
	e = &vq->used->ring[vq->last_used & vq->mask];
	id = ccdma_vring_ld32(&e->id);
	l = ccdma_vring_ld32(&e->len);
	if (unlikely(id >= vq->num)) {
		*why = "used id out of range";
		return -EIO;
	}
	c = &vq->chain[id];
	if (unlikely(!c->inflight)) {
		*why = "used id not in flight (completed twice, or never "
		       "posted)";
		return -EIO;
	}
	*clamped = l > c->wlen;
	if (*clamped)
		l = c->wlen;
	vq->last_used++;
	free_chain(vq, id);
	*head = id;
	*len = l;
	return 1;
}

bool ccdma_vq_arm(struct ccdma_vq *vq)
{
	/* The request must be visible before we look at the used index
	 * again, or a completion between the two is never signalled: both
	 * sequentially consistent (the device writes the index, then reads
	 * the request). */
	if (vq->event_idx) {
		ccdma_vring_st16(ccdma_vring_used_event(vq->avail, vq->num), vq->last_used,
		     __ATOMIC_SEQ_CST);
	} else {
		vq->avail_flags &= (uint16_t)~CCDMA_VRING_AVAIL_F_NO_INTERRUPT;
		ccdma_vring_st16(&vq->avail->flags, vq->avail_flags, __ATOMIC_SEQ_CST);
	}
	ccdma_vring_mb();
	vq->armed = true;
	return ccdma_vring_ld16(&vq->used->idx, __ATOMIC_SEQ_CST) != vq->last_used;
}

void ccdma_vq_disarm(struct ccdma_vq *vq)
{
	if (!vq->armed)
		return;
	vq->armed = false;
	if (vq->event_idx) {
		/* The furthest entry away: at most one stray interrupt. */
		ccdma_vring_st16(ccdma_vring_used_event(vq->avail, vq->num),
		     (uint16_t)(vq->last_used + 0x7fff), __ATOMIC_RELAXED);
	} else {
		vq->avail_flags |= CCDMA_VRING_AVAIL_F_NO_INTERRUPT;
		ccdma_vring_st16(&vq->avail->flags, vq->avail_flags, __ATOMIC_RELAXED);
	}
}

void ccdma_vq_drain(struct ccdma_vq *vq, void (*fn)(void *arg, unsigned head),
		    void *arg)
{
	unsigned h;

	for (h = 0; h < vq->num && vq->inflight; h++) {
		if (!vq->chain[h].inflight)
			continue;
		fn(arg, h);
		free_chain(vq, h);
	}
}
