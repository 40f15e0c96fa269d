/* SPDX-License-Identifier: MIT */
/*
 * Statistics: gathered on demand from per-thread counters (single writer,
 * relaxed), the depots, the page allocator and the pool, so that counting
 * costs the fast path no shared cache line.
 */
#include "pool/pool_internal.h"

int ccdma_pool_get_stats(struct ccdma_pool *p, struct ccdma_pool_stats *st)
{
	uint64_t allocs[CCDMA_NSMALL], frees[CCDMA_NSMALL], zeroed;
	uint64_t copies[2], copied[2];
	struct tcache *tc;
	unsigned ci;

	if (!p || !st)
		return -EINVAL;
	ccdma_memset(st, 0, sizeof(*st));
	st->nclasses = CCDMA_POOL_NCLASSES;

	ccdma_os_global_lock();
	zeroed = p->retired_zeroed;
	for (ci = 0; ci < 2; ci++) {
		copies[ci] = p->retired_copies[ci];
		copied[ci] = p->retired_copied[ci];
	}
	for (ci = 0; ci < CCDMA_NSMALL; ci++) {
		allocs[ci] = p->retired[ci].allocs;
		frees[ci] = p->retired[ci].frees;
	}
	for (tc = p->tcaches; tc; tc = tc->next) {
		for (ci = 0; ci < CCDMA_NSMALL; ci++) {
			allocs[ci] += __atomic_load_n(&tc->cls[ci].allocs, __ATOMIC_RELAXED);
			frees[ci] += __atomic_load_n(&tc->cls[ci].frees, __ATOMIC_RELAXED);
		}
		zeroed += __atomic_load_n(&tc->zeroed, __ATOMIC_RELAXED);
		for (ci = 0; ci < 2; ci++) {
			copies[ci] += __atomic_load_n(&tc->copies[ci], __ATOMIC_RELAXED);
			copied[ci] += __atomic_load_n(&tc->copied[ci], __ATOMIC_RELAXED);
		}
	}
	ccdma_os_global_unlock();

	for (ci = 0; ci < CCDMA_NSMALL; ci++) {
		struct ccdma_pool_class_stats *c = &st->classes[ci];
		struct depot *d = &p->depot[ci];
		uint64_t nslots, npages;

		c->size = ccdma_class_bytes(ci);
		c->allocs = allocs[ci];
		c->frees = frees[ci];
		/* Counters of different threads are read at slightly
		 * different moments: clamp the difference. */
		c->in_use = allocs[ci] > frees[ci] ? allocs[ci] - frees[ci] : 0;
		ccdma_mutex_lock(&d->lock);
		nslots = d->nslots;
		npages = d->npages;
		c->high_water = d->high_water;
		c->grows = d->grows;
		c->shrinks = d->shrinks;
		ccdma_mutex_unlock(&d->lock);
		if (c->in_use > nslots)
			c->in_use = nslots;
		c->free = nslots - c->in_use;
		c->shared_bytes = npages << p->gran_shift;
		st->in_use_bytes += c->in_use * c->size;
	}

	ccdma_mutex_lock(&p->page_lock);
	/* Small requests that alignment sent to the page allocator are
	 * counted under their class too. */
	for (ci = 0; ci < CCDMA_NSMALL; ci++) {
		struct ccdma_pool_class_stats *c = &st->classes[ci];
		const struct class_acc *a = &p->large[ci];

		c->allocs += a->allocs;
		c->frees += a->frees;
		c->in_use += a->in_use;
		st->in_use_bytes += a->live_pages << p->gran_shift;
	}
	for (ci = CCDMA_NSMALL; ci < CCDMA_POOL_NCLASSES; ci++) {
		struct ccdma_pool_class_stats *c = &st->classes[ci];
		const struct class_acc *a = &p->large[ci];

		c->size = ccdma_class_bytes(ci);
		c->allocs = a->allocs;
		c->frees = a->frees;
		c->in_use = a->in_use;
		c->high_water = a->high_water;
		c->grows = a->allocs;
		c->shrinks = a->frees;
		c->shared_bytes = a->live_pages << p->gran_shift;
		st->in_use_bytes += c->shared_bytes;
	}
	st->free_bytes = p->free_pages << p->gran_shift;
	zeroed += p->large_zeroed;
	ccdma_mutex_unlock(&p->page_lock);

	for (ci = 0; ci < CCDMA_POOL_NCLASSES; ci++) {
		struct ccdma_pool_class_stats *c = &st->classes[ci];

		c->failures = __atomic_load_n(&p->failures[ci], __ATOMIC_RELAXED);
		st->allocs += c->allocs;
		st->frees += c->frees;
		st->failures += c->failures;
	}
	st->zeroed_bytes = zeroed;
	st->bounce_copies_to_device = copies[0];
	st->bounce_copies_from_device = copies[1];
	st->bounced_to_device_bytes = copied[0];
	st->bounced_from_device_bytes = copied[1];

	ccdma_mutex_lock(&p->lock);
	st->shared_bytes = p->shared_bytes;
	st->shared_high_water = p->shared_high_water;
	st->region_grows = p->region_grows;
	st->region_shrinks = p->region_shrinks;
	st->regions = p->region_grows - p->region_shrinks;
	st->waits = p->waits;
	st->wait_ns = p->wait_ns;
	st->wait_max_ns = p->wait_max_ns;
	st->deferred_callbacks = __atomic_load_n(&p->deferred_runs,
						 __ATOMIC_RELAXED);
	st->grower_passes = p->grower_passes;
	st->reclaims = __atomic_load_n(&p->reclaims, __ATOMIC_RELAXED);
	ccdma_mutex_unlock(&p->lock);
	return 0;
}
