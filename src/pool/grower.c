/* SPDX-License-Identifier: MIT */
/*
 * The grower: one thread per pool that pays the sharing cost so that
 * allocations never do.
 *
 * It wakes when an allocation could not be served (or a waiter registers),
 * and every tick otherwise, and then:
 *  - grows: while the uncarved free bytes are below the low watermark, or a
 *    pending request does not fit in any free run, it creates a region
 *    (within the cap) and wakes waiting allocations;
 *  - shrinks: spans of small classes that stayed wholly free for idle_ms go
 *    back to the page allocator; regions that stayed wholly free for
 *    idle_ms are destroyed while the pool keeps more than the high
 *    watermark free, never below the pool's floor (devices are told
 *    before the memory goes);
 *  - runs deferred callbacks after memory became available.
 * With CCDMA_POOL_F_NO_GROWER it only runs deferred callbacks.
 */
#include "pool/pool_internal.h"

#define TICK_NS 50000000ull /* 50 ms */

/* Listener lock held: every listener, in the order they were added. */
void ccdma_notify_listeners(struct ccdma_pool *p, bool added,
			    const struct region *r)
{
	struct ccdma_pool_listener *l;

	for (l = p->listeners; l; l = l->next_)
		l->fn(l->arg, added, r->fd, (void *)r->base, r->size,
		      r->base - p->base);
}

/* Listener lock held. */
static bool listener_linked(struct ccdma_pool *p,
			    const struct ccdma_pool_listener *l)
{
	const struct ccdma_pool_listener *i;

	for (i = p->listeners; i; i = i->next_)
		if (i == l)
			return true;
	return false;
}

/* Listener lock held. */
static void listener_unlink(struct ccdma_pool *p,
			    struct ccdma_pool_listener *l)
{
	struct ccdma_pool_listener **pp;

	for (pp = &p->listeners; *pp; pp = &(*pp)->next_)
		if (*pp == l) {
			*pp = l->next_;
			l->next_ = NULL;
			return;
		}
}

/* Listener lock held. */
static void listener_link(struct ccdma_pool *p, struct ccdma_pool_listener *l)
{
	struct ccdma_pool_listener **pp = &p->listeners;
	struct region *r;

	/* Regions that exist already are announced now, to this listener
	 * only.  The live list only changes under the listener lock, so it
	 * can be walked without the pool lock while the callback runs. */
	for (r = p->live; r; r = r->next)
		l->fn(l->arg, true, r->fd, (void *)r->base, r->size,
		      r->base - p->base);
	while (*pp)
		pp = &(*pp)->next_;
	l->next_ = NULL;
	*pp = l;
}

int ccdma_pool_add_region_listener(struct ccdma_pool *p,
				   struct ccdma_pool_listener *l)
{
	if (!p || !l || !l->fn)
		return -EINVAL;
	ccdma_mutex_lock(&p->listener_lock);
	if (listener_linked(p, l)) {
		ccdma_mutex_unlock(&p->listener_lock);
		return -EEXIST;
	}
	listener_link(p, l);
	ccdma_mutex_unlock(&p->listener_lock);
	return 0;
}

int ccdma_pool_remove_region_listener(struct ccdma_pool *p,
				      struct ccdma_pool_listener *l)
{
	bool linked;

	if (!p || !l)
		return -EINVAL;
	/* Callbacks run under the listener lock: taking it waits for one
	 * that is running. */
	ccdma_mutex_lock(&p->listener_lock);
	linked = listener_linked(p, l);
	if (linked)
		listener_unlink(p, l);
	ccdma_mutex_unlock(&p->listener_lock);
	return linked ? 0 : -ENOENT;
}

void ccdma_pool_set_region_listener(struct ccdma_pool *p,
				    ccdma_pool_region_fn fn, void *arg)
{
	if (!p)
		return;
	ccdma_mutex_lock(&p->listener_lock);
	listener_unlink(p, &p->single);
	p->single.fn = fn;
	p->single.arg = arg;
	if (fn)
		listener_link(p, &p->single);
	ccdma_mutex_unlock(&p->listener_lock);
}

/* First fit over the chunk map: only the grower and create call this. */
static int find_chunks(struct ccdma_pool *p, uint32_t n, uint32_t *first)
{
	uint32_t i, run = 0;

	for (i = 0; i < p->nchunks; i++) {
		run = p->chunk_used[i] ? 0 : run + 1;
		if (run == n) {
			*first = i + 1 - n;
			return 0;
		}
	}
	return -ENOMEM;
}

int ccdma_region_add(struct ccdma_pool *p, size_t size)
{
	uint32_t n = (uint32_t)(size >> p->chunk_shift), c0, i;
	struct region *r;
	char name[48];
	void *addr;
	int fd, rc;

	ccdma_mutex_lock(&p->lock);
	if (p->shared_bytes + size > p->cfg.max_bytes) {
		ccdma_mutex_unlock(&p->lock);
		return -ENOMEM;
	}
	rc = find_chunks(p, n, &c0);
	if (!rc)
		for (i = 0; i < n; i++)
			p->chunk_used[c0 + i] = 1;
	ccdma_mutex_unlock(&p->lock);
	if (rc) {
		ccdma_warn("pool %s: no room in the address reservation for a "
			   "%zu-byte region", p->name, size);
		return rc;
	}
	addr = (void *)(p->base + ((uintptr_t)c0 << p->chunk_shift));
	{
		/* "ccdma-<pool>-<chunk>" without snprintf in the core. */
		size_t k = 0, j;
		char digits[12];
		uint32_t v = c0;
		int nd = 0;

		for (j = 0; "ccdma-"[j]; j++)
			name[k++] = "ccdma-"[j];
		for (j = 0; p->name[j] && k < 36; j++)
			name[k++] = p->name[j];
		name[k++] = '-';
		do {
			digits[nd++] = (char)('0' + v % 10);
			v /= 10;
		} while (v);
		while (nd)
			name[k++] = digits[--nd];
		name[k] = 0;
	}
	rc = ccdma_os_region_create(size, name, addr, &fd, &addr);
	if (rc) {
		ccdma_err("pool %s: cannot create a %zu-byte shared region (error %d)",
			  p->name, size, -rc);
		ccdma_mutex_lock(&p->lock);
		for (i = 0; i < n; i++)
			p->chunk_used[c0 + i] = 0;
		ccdma_mutex_unlock(&p->lock);
		return rc;
	}
	r = &p->regions[c0];
	r->fd = fd;
	r->base = (uintptr_t)addr;
	r->size = size;
	r->first = gran_index(p, r->base);
	r->npages = (uint32_t)(size >> p->gran_shift);
	r->chunk0 = c0;
	r->nchunks = n;
	r->live = true;
	/* Fresh shared memory is zero: no earlier owner's bytes in it. */
	for (i = 0; i < r->npages; i++)
		ccdma_dirty_test_clear(p, r->first + i);

	/* Counted before any byte of it can be allocated, so that a stats
	 * snapshot never finds more bytes in use than shared. */
	ccdma_mutex_lock(&p->lock);
	__atomic_store_n(&p->shared_bytes, p->shared_bytes + size, __ATOMIC_RELAXED);
	if (p->shared_bytes > p->shared_high_water)
		p->shared_high_water = p->shared_bytes;
	p->region_grows++;
	CCDMA_TRACE3(pool_grow, p->name, size, p->region_grows - p->region_shrinks);
	ccdma_mutex_unlock(&p->lock);

	/* Devices are told before any byte of the region can be allocated
	 * (a vhost-user back-end must have it mapped before a descriptor
	 * points into it). */
	ccdma_mutex_lock(&p->listener_lock);
	ccdma_notify_listeners(p, true, r);
	ccdma_mutex_lock(&p->page_lock);
	for (i = 0; i < n; i++)
		__atomic_store_n(&p->chunk_tab[c0 + i], r, __ATOMIC_RELEASE);
	ccdma_pa_add_region(p, r);
	ccdma_mutex_unlock(&p->page_lock);
	ccdma_mutex_lock(&p->lock);
	r->next = p->live;
	p->live = r;
	ccdma_mutex_unlock(&p->lock);
	ccdma_mutex_unlock(&p->listener_lock);
	ccdma_dbg("pool %s: +region %zu bytes at offset %#llx (fd %d)", p->name,
		  size, (unsigned long long)(r->base - p->base), fd);
	return 0;
}

static bool fits(struct ccdma_pool *p, size_t bytes, uint64_t *free_bytes)
{
	uint32_t npages = (uint32_t)((bytes + p->granule - 1) >> p->gran_shift);
	bool ok;

	ccdma_mutex_lock(&p->page_lock);
	*free_bytes = p->free_pages << p->gran_shift;
	ok = !npages || ccdma_pa_fits(p, npages);
	ccdma_mutex_unlock(&p->page_lock);
	return ok;
}

static void grow(struct ccdma_pool *p)
{
	size_t rs = p->cfg.region_size;

	for (;;) {
		uint64_t free_bytes;
		size_t want, size, room;
		bool ok;

		ccdma_mutex_lock(&p->lock);
		want = p->want_bytes;
		ccdma_mutex_unlock(&p->lock);
		ok = fits(p, want, &free_bytes);
		if (ok && free_bytes >= p->cfg.low_watermark) {
			ccdma_mutex_lock(&p->lock);
			if (p->want_bytes == want)
				p->want_bytes = 0;
			ccdma_mutex_unlock(&p->lock);
			return;
		}
		size = rs;
		if (!ok && want > size)
			size = (want + rs - 1) & ~(rs - 1);
		ccdma_mutex_lock(&p->lock);
		room = p->cfg.max_bytes > p->shared_bytes ?
		       p->cfg.max_bytes - p->shared_bytes : 0;
		ccdma_mutex_unlock(&p->lock);
		if (size > room) {
			/* At the cap: what is left must come from frees.  Drop
			 * the request; waiters keep waiting for frees. */
			ccdma_mutex_lock(&p->lock);
			if (p->want_bytes == want)
				p->want_bytes = 0;
			ccdma_mutex_unlock(&p->lock);
			return;
		}
		if (ccdma_region_add(p, size))
			return;
		if (size >= want) {
			/* That request is met.  Its waiter, woken below, may
			 * take the region before the next look, which must not
			 * then grow again for it: neither for the request taken
			 * over nor for a hint its waiter left while the region
			 * was being made (it failed once more before the wake).
			 * A waiter that still fails after the wake asks again
			 * (ccdma_pool_kick). */
			size_t hint = __atomic_load_n(&p->want_hint,
						      __ATOMIC_RELAXED);

			while (hint && hint <= size &&
			       !__atomic_compare_exchange_n(&p->want_hint, &hint,
							    0, false,
							    __ATOMIC_SEQ_CST,
							    __ATOMIC_RELAXED))
				;
			ccdma_mutex_lock(&p->lock);
			if (p->want_bytes == want)
				p->want_bytes = 0;
			ccdma_mutex_unlock(&p->lock);
		}
		ccdma_pool_notify_avail(p);
	}
}

static void shrink(struct ccdma_pool *p, uint64_t now)
{
	uint64_t idle_ns = (uint64_t)p->cfg.idle_ms * 1000000ull;

	ccdma_depot_release_idle(p, now, idle_ns, false);
	for (;;) {
		struct region *r, **pp;
		uint32_t i;

		ccdma_mutex_lock(&p->listener_lock);
		ccdma_mutex_lock(&p->lock);
		ccdma_mutex_lock(&p->page_lock);
		for (pp = &p->live; (r = *pp) != NULL; pp = &r->next) {
			uint64_t free_bytes = p->free_pages << p->gran_shift;

			if (r->nfree != r->npages || !r->free_since ||
			    now - r->free_since < idle_ns)
				continue;
			if (free_bytes <= p->cfg.high_watermark ||
			    free_bytes - r->size < p->cfg.low_watermark ||
			    p->shared_bytes - r->size < p->min_bytes)
				continue;
			break;
		}
		if (r) {
			ccdma_pa_remove_region(p, r);
			for (i = 0; i < r->nchunks; i++)
				__atomic_store_n(&p->chunk_tab[r->chunk0 + i], NULL,
						 __ATOMIC_RELEASE);
			*pp = r->next;
			r->live = false;
			/* Gone from the pool's view from here on. */
			__atomic_store_n(&p->shared_bytes, p->shared_bytes - r->size,
					 __ATOMIC_RELAXED);
			p->region_shrinks++;
			CCDMA_TRACE3(pool_shrink, p->name, r->size,
				     p->region_grows - p->region_shrinks);
		}
		ccdma_mutex_unlock(&p->page_lock);
		ccdma_mutex_unlock(&p->lock);
		/* Devices first, then scrub and convert back. */
		if (r)
			ccdma_notify_listeners(p, false, r);
		ccdma_mutex_unlock(&p->listener_lock);
		if (!r)
			return;
		ccdma_os_region_destroy(r->fd, (void *)r->base, r->size, true);
		ccdma_dbg("pool %s: -region %zu bytes at offset %#llx", p->name,
			  r->size, (unsigned long long)(r->base - p->base));
		ccdma_mutex_lock(&p->lock);
		for (i = 0; i < r->nchunks; i++)
			p->chunk_used[r->chunk0 + i] = 0;
		ccdma_mutex_unlock(&p->lock);
	}
}

/* First come, first served: when w registered again (what it waits for is
 * still not there), the callbacks after it in this pass (rest, a chain)
 * go back on the list right behind it, before any registered since, and
 * wait for the next memory too.  True when w had registered again. */
static bool requeue_behind(struct ccdma_pool *p, struct ccdma_pool_waiter *w,
			   struct ccdma_pool_waiter *rest)
{
	struct ccdma_pool_waiter *x, *last;

	ccdma_mutex_lock(&p->lock);
	for (x = p->defer_head; x && x != w; x = x->next_)
		;
	if (x) {
		for (last = rest; last->next_; last = last->next_)
			;
		last->next_ = w->next_;
		w->next_ = rest;
		if (p->defer_tail == w)
			p->defer_tail = last;
		ccdma_pool_update_hungry(p);
	}
	ccdma_mutex_unlock(&p->lock);
	return x != NULL;
}

/* Run the registered deferred callbacks in order (pool lock not held),
 * until one registers again. */
static void run_deferred(struct ccdma_pool *p)
{
	struct ccdma_pool_waiter *w, *next;

	ccdma_mutex_lock(&p->lock);
	w = p->defer_head;
	p->defer_head = p->defer_tail = NULL;
	p->deferred_running = true; /* frees meanwhile still notify */
	ccdma_pool_update_hungry(p);
	ccdma_mutex_unlock(&p->lock);
	for (; w; w = next) {
		next = w->next_;
		w->next_ = NULL;
		CCDMA_TRACE2(deferred, p->name, w->arg);
		__atomic_add_fetch(&p->deferred_runs, 1, __ATOMIC_RELAXED);
		w->fn(w->arg); /* may register w again */
		if (next && requeue_behind(p, w, next))
			break;
	}
	ccdma_mutex_lock(&p->lock);
	p->deferred_running = false;
	ccdma_pool_update_hungry(p);
	ccdma_mutex_unlock(&p->lock);
	/* A callback that allocated filled this thread's slot cache with
	 * more than it took; nobody allocates here otherwise, so those slots
	 * would be out of every other thread's reach.  Give them back, and
	 * tell whoever still waits (a failed allocation has emptied the
	 * cache already, so this does not repeat without progress). */
	if (ccdma_tcache_flush_mine(p) &&
	    __atomic_load_n(&p->hungry, __ATOMIC_RELAXED))
		ccdma_pool_notify_avail(p);
}

static void *grower_main(void *arg)
{
	struct ccdma_pool *p = arg;
	uint64_t seen_seq = 0;

	ccdma_mutex_lock(&p->lock);
	while (!p->stopping) {
		bool deferred;

		if (!p->kicked)
			ccdma_cond_timedwait(&p->grower_cond, &p->lock,
					     ccdma_os_now_ns() + TICK_NS);
		p->kicked = false;
		if (p->stopping)
			break;
		/* Take over what failed allocations asked for since the last
		 * look; the next failure may wake us again. */
		{
			size_t hint;

			/* Clear first: a failure that stores its hint after the
			 * exchange below then finds the flag clear and wakes us. */
			__atomic_store_n(&p->kick_pending, 0, __ATOMIC_SEQ_CST);
			hint = __atomic_exchange_n(&p->want_hint, 0, __ATOMIC_SEQ_CST);
			if (hint > p->want_bytes)
				p->want_bytes = hint;
		}
		ccdma_mutex_unlock(&p->lock);
		if (!(p->flags & CCDMA_POOL_F_NO_GROWER)) {
			grow(p);
			shrink(p, ccdma_os_now_ns());
		}
		ccdma_mutex_lock(&p->lock);
		/* Callbacks run once memory became available since they
		 * registered (a grow or a free bumps avail_seq). */
		deferred = p->defer_head && p->avail_seq != seen_seq;
		seen_seq = p->avail_seq;
		if (deferred) {
			ccdma_mutex_unlock(&p->lock);
			run_deferred(p);
			ccdma_mutex_lock(&p->lock);
		}
		p->grower_passes++;
	}
	ccdma_mutex_unlock(&p->lock);
	return NULL;
}

int ccdma_grower_start(struct ccdma_pool *p)
{
	int rc = ccdma_thread_create(&p->grower, grower_main, p, "ccdma-grower");

	if (rc) {
		ccdma_err("pool %s: cannot start the grower thread (error %d)",
			  p->name, -rc);
		return rc;
	}
	p->grower_running = true;
	return 0;
}

void ccdma_grower_stop(struct ccdma_pool *p)
{
	if (!p->grower_running)
		return;
	ccdma_mutex_lock(&p->lock);
	p->stopping = true;
	ccdma_cond_signal(&p->grower_cond);
	ccdma_mutex_unlock(&p->lock);
	ccdma_thread_join(&p->grower);
	p->grower_running = false;
}
