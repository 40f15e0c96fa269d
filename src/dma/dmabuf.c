/* SPDX-License-Identifier: MIT */
/*
 * Buffer sharing between devices (include/ccdma/dmabuf.h).  Each
 * attachment keeps its own DMA segment per range, computed with the dma
 * layer's classification and translation; its state says whether the
 * segments may be used (MAPPED), must be computed again (STALE, after a
 * move) or never again (REVOKED: acknowledged or cut off).
 *
 * On a device with a strict IOMMU an attachment also holds a window of
 * the device's I/O page table open over its ranges (read and write), from
 * attach or map until detach, a move or a revoke closes it: after that the
 * device itself, through ccdma_dev_access() with any DMA address it kept,
 * cannot reach the memory.  Without an IOMMU (or a lazy one) the device
 * reaches the whole pool anyway, as hardware would; only the attachment's
 * own calls refuse.
 */
#include <ccdma/dmabuf.h>

#include "dma/dma_internal.h"

enum att_state { A_MAPPED, A_STALE, A_REVOKED };

struct ccdma_dmabuf_attach {
	struct ccdma_dmabuf *buf;
	struct ccdma_dev *dev;
	enum ccdma_dmabuf_kind kind;
	struct ccdma_dmabuf_importer imp;
	enum att_state state;     /* under buf->lock */
	bool revoke_pending;      /* under buf->lock */
	bool notify;              /* revoke's own: callback to run */
	ccdma_addr_t dma[CCDMA_DMABUF_MAX_RANGES];
	/* The page-table window held open (strict IOMMU), per range. */
	bool win_open;
	unsigned win_n;
	enum where win_w[CCDMA_DMABUF_MAX_RANGES];
	struct dev_region *win_r[CCDMA_DMABUF_MAX_RANGES];
	uintptr_t win_a[CCDMA_DMABUF_MAX_RANGES];
	size_t win_len[CCDMA_DMABUF_MAX_RANGES];
	struct ccdma_dmabuf_attach *next;
};

struct ccdma_dmabuf {
	char owner[32];
	unsigned flags;
	unsigned nranges;
	uintptr_t addr[CCDMA_DMABUF_MAX_RANGES];
	size_t len[CCDMA_DMABUF_MAX_RANGES];
	ccdma_mutex_t lock;
	ccdma_cond_t acked;
	struct ccdma_dmabuf_attach *atts;
	/* Under lock: a move is under way (map refuses), and the number of
	 * moves begun (a map computed before one must compute again). */
	bool moving;
	unsigned moves;
	/* Run by destroy (an imported buffer unmaps its regions). */
	void (*release)(void *arg);
	void *release_arg;
};

void ccdma_dmabuf_set_release(struct ccdma_dmabuf *b, void (*fn)(void *arg),
			      void *arg)
{
	b->release = fn;
	b->release_arg = arg;
}

bool ccdma_dmabuf_is_private(const struct ccdma_dmabuf *b)
{
	return b->flags & CCDMA_DMABUF_F_PRIVATE;
}

unsigned ccdma_dmabuf_nranges(const struct ccdma_dmabuf *b)
{
	return b->nranges;
}

void ccdma_dmabuf_range(const struct ccdma_dmabuf *b, unsigned i, void **addr,
			size_t *len)
{
	*addr = (void *)b->addr[i];
	*len = b->len[i];
}

static const char *kind_name(enum ccdma_dmabuf_kind k)
{
	switch (k) {
	case CCDMA_DMABUF_PINNED: return "pinned";
	case CCDMA_DMABUF_DYNAMIC: return "dynamic";
	default: return "revocable";
	}
}

int ccdma_dmabuf_create(const char *owner, unsigned flags,
			struct ccdma_dmabuf **out)
{
	struct ccdma_dmabuf *b;

	if (!out || (flags & ~(unsigned)CCDMA_DMABUF_F_PRIVATE))
		return -EINVAL;
	b = ccdma_os_calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	if (ccdma_mutex_init(&b->lock)) {
		ccdma_os_free(b);
		return -ENOMEM;
	}
	if (ccdma_cond_init(&b->acked)) {
		ccdma_mutex_destroy(&b->lock);
		ccdma_os_free(b);
		return -ENOMEM;
	}
	ccdma_snprintf(b->owner, sizeof(b->owner), "%s", owner ? owner : "");
	b->flags = flags;
	*out = b;
	return 0;
}

int ccdma_dmabuf_add(struct ccdma_dmabuf *b, void *addr, size_t len)
{
	uintptr_t a = (uintptr_t)addr;

	if (!b || !addr || !len || a + len - 1 < a)
		return -EINVAL;
	if (b->atts) {
		ccdma_err("dmabuf %s: cannot add a range while devices are attached",
			  b->owner);
		return -EBUSY;
	}
	if (b->nranges == CCDMA_DMABUF_MAX_RANGES)
		return -ENOSPC;
	b->addr[b->nranges] = a;
	b->len[b->nranges] = len;
	b->nranges++;
	return 0;
}

size_t ccdma_dmabuf_size(const struct ccdma_dmabuf *b)
{
	size_t n = 0;

	if (!b)
		return 0;
	for (unsigned i = 0; i < b->nranges; i++)
		n += b->len[i];
	return n;
}

const char *ccdma_dmabuf_owner(const struct ccdma_dmabuf *b)
{
	return b ? b->owner : "";
}

int ccdma_dmabuf_destroy(struct ccdma_dmabuf *b)
{
	if (!b)
		return 0;
	if (b->atts) {
		ccdma_err("dmabuf %s: destroy refused: device %s is still attached",
			  b->owner, b->atts->dev->name);
		return -EBUSY;
	}
	if (b->release)
		b->release(b->release_arg);
	ccdma_cond_destroy(&b->acked);
	ccdma_mutex_destroy(&b->lock);
	ccdma_os_free(b);
	return 0;
}

/* The device's DMA address of range i, with the rules of attach; *wp and
 * *rp its classification. */
static int range_dma(struct ccdma_dmabuf *b, struct ccdma_dev *d, unsigned i,
		     ccdma_addr_t *dma, enum where *wp, struct dev_region **rp)
{
	uintptr_t a = b->addr[i];
	size_t len = b->len[i];
	struct dev_region *r = NULL;
	struct ccdma_pool_owner o;
	void *base;
	enum where w;
	ccdma_addr_t x;

	if (b->flags & CCDMA_DMABUF_F_PRIVATE) {
		if (!(d->flags & CCDMA_DEV_F_TRUSTED) || !d->reach_private) {
			ccdma_err("dmabuf %s: device %s refused: the buffer holds "
				  "private memory and the device is not trusted "
				  "(CCDMA_DEV_F_TRUSTED); an untrusted device may "
				  "only share shared memory", b->owner, d->name);
			return -EPERM;
		}
		if (!ccdma_dev_xl_private_ok(d, a, len)) {
			ccdma_err("dmabuf %s: device %s refused: its translation "
				  "cannot carry private range %#lx+%zu", b->owner,
				  d->name, (unsigned long)a, len);
			return -EPERM;
		}
		w = W_PRIVATE;
	} else {
		w = ccdma_dev_classify(d, a, len, &r);
		if (w == W_POOL && !ccdma_dev_in_live_alloc(d, a, len, &o, &base))
			w = W_INVALID;
		if (w != W_POOL && w != W_REGION) {
			ccdma_err("dmabuf %s: device %s refused: range %u (%#lx+%zu) "
				  "is not shared memory the device reaches (one live "
				  "allocation of its pool or an attached region)",
				  b->owner, d->name, i, (unsigned long)a, len);
			return -EINVAL;
		}
	}
	x = ccdma_dev_dma_of(d, w, r, a);
	if (!ccdma_dev_fits(d, x, len, d->dma_mask)) {
		ccdma_err("dmabuf %s: device %s refused: range %u at DMA %#llx+%zu "
			  "is outside its DMA mask %#llx (or its alignment)",
			  b->owner, d->name, i, (unsigned long long)x, len,
			  (unsigned long long)d->dma_mask);
		return -EIO;
	}
	*dma = x;
	*wp = w;
	*rp = r;
	return 0;
}

/* Every range's DMA address into dma[], and (w, r) the classifications
 * for the window. */
static int compute(struct ccdma_dmabuf_attach *t, ccdma_addr_t *dma,
		   enum where *w, struct dev_region **r)
{
	for (unsigned i = 0; i < t->buf->nranges; i++) {
		int rc = range_dma(t->buf, t->dev, i, &dma[i], &w[i], &r[i]);

		if (rc)
			return rc;
	}
	return 0;
}

/* Open the attachment's page-table window over the buffer's ranges now
 * (no-op without a strict IOMMU). */
static void window_open(struct ccdma_dmabuf_attach *t, const enum where *w,
			struct dev_region *const *r)
{
	struct ccdma_dmabuf *b = t->buf;

	for (unsigned i = 0; i < b->nranges; i++) {
		t->win_w[i] = w[i];
		t->win_r[i] = r[i];
		t->win_a[i] = b->addr[i];
		t->win_len[i] = b->len[i];
		ccdma_pt_map(t->dev, w[i], r[i], b->addr[i], b->len[i],
			     CCDMA_ACCESS_READ | CCDMA_ACCESS_WRITE);
	}
	t->win_n = b->nranges;
	t->win_open = true;
}

/* Close it: the device can no longer reach those ranges (strict IOMMU). */
static void window_close(struct ccdma_dmabuf_attach *t)
{
	if (!t->win_open)
		return;
	for (unsigned i = 0; i < t->win_n; i++)
		(void)ccdma_pt_unmap(t->dev, t->win_w[i], t->win_r[i], t->win_a[i],
				     t->win_len[i],
				     CCDMA_ACCESS_READ | CCDMA_ACCESS_WRITE);
	t->win_open = false;
}

int ccdma_dmabuf_attach(struct ccdma_dmabuf *b, struct ccdma_dev *d,
			enum ccdma_dmabuf_kind kind,
			const struct ccdma_dmabuf_importer *imp,
			struct ccdma_dmabuf_attach **out)
{
	struct ccdma_dmabuf_attach *t;
	enum where w[CCDMA_DMABUF_MAX_RANGES];
	struct dev_region *r[CCDMA_DMABUF_MAX_RANGES];
	int rc;

	if (!b || !d || !out || kind < CCDMA_DMABUF_PINNED ||
	    kind > CCDMA_DMABUF_REVOCABLE || !b->nranges)
		return -EINVAL;
	t = ccdma_os_calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->buf = b;
	t->dev = d;
	t->kind = kind;
	if (imp)
		t->imp = *imp;
	rc = compute(t, t->dma, w, r);
	if (rc) {
		ccdma_os_free(t);
		return rc;
	}
	ccdma_mutex_lock(&b->lock);
	window_open(t, w, r);
	t->state = A_MAPPED;
	t->next = b->atts;
	b->atts = t;
	ccdma_mutex_unlock(&b->lock);
	*out = t;
	return 0;
}

int ccdma_dmabuf_detach(struct ccdma_dmabuf_attach *t)
{
	struct ccdma_dmabuf_attach **p;

	if (!t)
		return -EINVAL;
	ccdma_mutex_lock(&t->buf->lock);
	for (p = &t->buf->atts; *p; p = &(*p)->next) {
		if (*p == t) {
			*p = t->next;
			break;
		}
	}
	window_close(t);
	ccdma_mutex_unlock(&t->buf->lock);
	ccdma_os_free(t);
	return 0;
}

/* Under b->lock: map may not start or commit now. */
static int map_refused(struct ccdma_dmabuf_attach *t)
{
	if (t->state == A_REVOKED)
		return -EACCES;
	return t->buf->moving ? -EBUSY : 0;
}

int ccdma_dmabuf_map(struct ccdma_dmabuf_attach *t)
{
	ccdma_addr_t dma[CCDMA_DMABUF_MAX_RANGES];
	enum where w[CCDMA_DMABUF_MAX_RANGES];
	struct dev_region *r[CCDMA_DMABUF_MAX_RANGES];
	unsigned moves;
	int rc;

	if (!t)
		return -EINVAL;
	for (;;) {
		ccdma_mutex_lock(&t->buf->lock);
		rc = map_refused(t);
		moves = t->buf->moves;
		ccdma_mutex_unlock(&t->buf->lock);
		if (rc)
			return rc;
		rc = compute(t, dma, w, r);
		if (rc)
			return rc;
		ccdma_mutex_lock(&t->buf->lock);
		rc = map_refused(t);
		if (!rc && moves == t->buf->moves)
			break;
		/* A move began meanwhile: refuse while it runs, else again. */
		ccdma_mutex_unlock(&t->buf->lock);
		if (rc)
			return rc;
	}
	ccdma_memcpy(t->dma, dma, sizeof(dma[0]) * t->buf->nranges);
	window_close(t);
	window_open(t, w, r);
	t->state = A_MAPPED;
	ccdma_mutex_unlock(&t->buf->lock);
	return 0;
}

static int usable(struct ccdma_dmabuf_attach *t)
{
	switch (t->state) {
	case A_MAPPED: return 0;
	case A_STALE: return -ESTALE;
	default: return -EACCES;
	}
}

int ccdma_dmabuf_seg(struct ccdma_dmabuf_attach *t, unsigned i,
		     ccdma_addr_t *dma, size_t *len)
{
	int rc;

	if (!t || !dma || !len || i >= t->buf->nranges)
		return -EINVAL;
	ccdma_mutex_lock(&t->buf->lock);
	rc = usable(t);
	if (!rc) {
		*dma = t->dma[i];
		*len = t->buf->len[i];
	}
	ccdma_mutex_unlock(&t->buf->lock);
	return rc;
}

int ccdma_dmabuf_segs(struct ccdma_dmabuf_attach *t, struct ccdma_seg_list *out)
{
	struct ccdma_dmabuf *b;
	uint32_t flags;
	int rc;

	if (!t || !out || !out->seg || !out->cap)
		return -EINVAL;
	b = t->buf;
	flags = (b->flags & CCDMA_DMABUF_F_PRIVATE) ? 0 : CCDMA_SEG_SHARED;
	out->n = 0;
	ccdma_mutex_lock(&b->lock);
	rc = usable(t);
	for (unsigned i = 0; !rc && i < b->nranges; i++)
		rc = ccdma_segs_emit(t->dev, out, t->dma[i], b->len[i], flags);
	ccdma_mutex_unlock(&b->lock);
	if (rc) {
		out->n = 0;
		return rc;
	}
	return (int)out->n;
}

unsigned ccdma_dmabuf_nsegs(const struct ccdma_dmabuf_attach *t)
{
	return t ? t->buf->nranges : 0;
}

int ccdma_dmabuf_access(struct ccdma_dmabuf_attach *t, size_t off, size_t len,
			unsigned access, void **cpu)
{
	struct ccdma_dmabuf *b;
	ccdma_addr_t dma = 0;
	unsigned i;
	int rc;

	if (!t || !len || !cpu)
		return -EINVAL;
	b = t->buf;
	for (i = 0; i < b->nranges && off >= b->len[i]; i++)
		off -= b->len[i];
	if (i == b->nranges || len > b->len[i] - off)
		return -EINVAL;
	/* The lock is held across the device's access so that a revoke
	 * that cuts the attachment off waits for an access in flight. */
	ccdma_mutex_lock(&b->lock);
	rc = usable(t);
	if (!rc) {
		dma = t->dma[i] + off;
		rc = ccdma_dev_access(t->dev, dma, len, access, cpu);
	}
	ccdma_mutex_unlock(&b->lock);
	return rc;
}

/* The first attachment of a kind in `refuse`, or NULL. */
static struct ccdma_dmabuf_attach *find_kind(struct ccdma_dmabuf *b,
					     enum ccdma_dmabuf_kind k1,
					     enum ccdma_dmabuf_kind k2)
{
	for (struct ccdma_dmabuf_attach *t = b->atts; t; t = t->next)
		if (t->kind == k1 || t->kind == k2)
			return t;
	return NULL;
}

int ccdma_dmabuf_move(struct ccdma_dmabuf *b, unsigned idx, void *to)
{
	struct ccdma_dmabuf_attach *t;
	uintptr_t a = (uintptr_t)to;

	if (!b || !to || idx >= b->nranges)
		return -EINVAL;
	if (a + b->len[idx] - 1 < a ||
	    (a < b->addr[idx] + b->len[idx] && b->addr[idx] < a + b->len[idx]))
		return -EINVAL;
	t = find_kind(b, CCDMA_DMABUF_PINNED, CCDMA_DMABUF_REVOCABLE);
	if (t) {
		ccdma_err("dmabuf %s: move refused: device %s holds a %s "
			  "attachment, which never moves", b->owner, t->dev->name,
			  kind_name(t->kind));
		return -EBUSY;
	}
	/* First every importer stops: its window closes, its callback waits
	 * for its DMA in flight.  Only then is the data copied, so a write
	 * that lands before the callback returns is in the copy, and none
	 * lands in the old place after it. */
	ccdma_mutex_lock(&b->lock);
	b->moving = true;
	b->moves++;
	ccdma_mutex_unlock(&b->lock);
	for (t = b->atts; t; t = t->next) {
		ccdma_mutex_lock(&b->lock);
		if (t->state == A_MAPPED)
			t->state = A_STALE;
		window_close(t);
		ccdma_mutex_unlock(&b->lock);
		if (t->imp.move)
			t->imp.move(t, t->imp.arg);
	}
	ccdma_memcpy(to, (void *)b->addr[idx], b->len[idx]);
	ccdma_mutex_lock(&b->lock);
	b->addr[idx] = a;
	b->moving = false;
	ccdma_mutex_unlock(&b->lock);
	return 0;
}

/* Past an IOMMU: the transport that owns the device takes the ranges
 * away at its boundary (a vhost-user back-end's memory table). */
static void cut_at_boundary(struct ccdma_dmabuf *b, struct ccdma_dmabuf_attach *t)
{
	struct ccdma_dev *d = t->dev;

	for (unsigned i = 0; d->cutoff && i < b->nranges; i++) {
		int rc = d->cutoff(d->cutoff_arg, b->addr[i], b->len[i]);

		if (rc == -ENOTSUP)
			ccdma_info("dmabuf %s: device %s: range %u lies in memory "
				   "its transport cannot take away (the device's "
				   "pool): only the attachment refuses it now",
				   b->owner, d->name, i);
		else if (rc)
			ccdma_err("dmabuf %s: device %s: taking range %u away at "
				  "the device failed (error %d)", b->owner,
				  d->name, i, rc);
	}
}

int ccdma_dmabuf_revoke(struct ccdma_dmabuf *b, uint64_t timeout_ns)
{
	struct ccdma_dmabuf_attach *t;
	uint64_t deadline;
	int cut = 0;
	bool pending;

	if (!b)
		return -EINVAL;
	t = find_kind(b, CCDMA_DMABUF_PINNED, CCDMA_DMABUF_DYNAMIC);
	if (t) {
		ccdma_err("dmabuf %s: revoke refused: device %s holds a %s "
			  "attachment, which cannot be revoked", b->owner,
			  t->dev->name, kind_name(t->kind));
		return -EBUSY;
	}
	ccdma_mutex_lock(&b->lock);
	for (t = b->atts; t; t = t->next)
		t->notify = t->revoke_pending = t->state != A_REVOKED;
	ccdma_mutex_unlock(&b->lock);
	for (t = b->atts; t; t = t->next)
		if (t->notify && t->imp.revoke)
			t->imp.revoke(t, t->imp.arg);
	deadline = ccdma_os_now_ns() + timeout_ns;
	if (deadline < timeout_ns)
		deadline = UINT64_MAX;
	ccdma_mutex_lock(&b->lock);
	for (;;) {
		pending = false;
		for (t = b->atts; t; t = t->next)
			pending |= t->revoke_pending;
		if (!pending || ccdma_os_now_ns() >= deadline)
			break;
		ccdma_cond_timedwait(&b->acked, &b->lock, deadline);
	}
	for (t = b->atts; t; t = t->next) {
		if (t->revoke_pending) {
			t->revoke_pending = false;
			cut++;
			ccdma_err("dmabuf %s: device %s did not confirm the revoke "
				  "in time: cut off", b->owner, t->dev->name);
		}
		t->state = A_REVOKED;
		window_close(t);
	}
	ccdma_mutex_unlock(&b->lock);
	for (t = b->atts; t; t = t->next)
		if (t->notify)
			cut_at_boundary(b, t);
	return cut;
}

int ccdma_dmabuf_revoke_ack(struct ccdma_dmabuf_attach *t)
{
	int rc = -EINVAL;

	if (!t)
		return -EINVAL;
	ccdma_mutex_lock(&t->buf->lock);
	if (t->revoke_pending) {
		t->revoke_pending = false;
		t->state = A_REVOKED;
		window_close(t);
		ccdma_cond_broadcast(&t->buf->acked);
		rc = 0;
	}
	ccdma_mutex_unlock(&t->buf->lock);
	return rc;
}
