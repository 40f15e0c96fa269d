/* SPDX-License-Identifier: MIT */
/*
 * Per-thread caches and the pool registry.
 *
 * Each thread has one small heap: for every registry slot, the generation
 * of the pool it was made for and that pool's tcache.  A pool's generation
 * is unique for the life of the process, so a stale entry (the pool was
 * destroyed, the slot reused) is recognised without touching freed memory.
 * The heap pointer is initial-exec TLS: one load from the thread pointer.
 */
#include "pool/pool_internal.h"

_Thread_local struct heap *ccdma_tls_heap
	__attribute__((tls_model("initial-exec")));
#define tls_heap ccdma_tls_heap

/* Registry (global lock). */
static struct ccdma_pool *registry[CCDMA_POOL_MAX_POOLS];
static uint64_t next_gen = 1;

static void thread_exit(void);

int ccdma_registry_add(struct ccdma_pool *p)
{
	uint32_t i;
	int rc;

	/* Without it, slots cached by a thread that exits would never come
	 * back: no pool then. */
	rc = ccdma_os_thread_exit_hook(thread_exit);
	if (rc) {
		ccdma_err("pool_create(%s): cannot set up the thread-exit hook that "
			  "returns an exiting thread's cached slots (error %d)",
			  p->name, -rc);
		return rc;
	}
	rc = -ENOSPC;
	ccdma_os_global_lock();
	for (i = 0; i < CCDMA_POOL_MAX_POOLS; i++) {
		if (!registry[i]) {
			registry[i] = p;
			p->id = i;
			p->gen = next_gen++;
			rc = 0;
			break;
		}
	}
	ccdma_os_global_unlock();
	return rc;
}

static void tcache_unlink(struct ccdma_pool *p, struct tcache *tc)
{
	if (tc->prev)
		tc->prev->next = tc->next;
	else
		p->tcaches = tc->next;
	if (tc->next)
		tc->next->prev = tc->prev;
}

/* Keep what a cache counted once the cache is gone (global lock held). */
static void tcache_retire(struct ccdma_pool *p, struct tcache *tc)
{
	unsigned ci;

	for (ci = 0; ci < CCDMA_NSMALL; ci++) {
		p->retired[ci].allocs += tc->cls[ci].allocs;
		p->retired[ci].frees += tc->cls[ci].frees;
	}
	p->retired_zeroed += tc->zeroed;
	for (ci = 0; ci < 2; ci++) {
		p->retired_copies[ci] += tc->copies[ci];
		p->retired_copied[ci] += tc->copied[ci];
	}
	tcache_unlink(p, tc);
	ccdma_os_free(tc);
}

void ccdma_registry_remove(struct ccdma_pool *p)
{
	struct tcache *tc;

	ccdma_os_global_lock();
	registry[p->id] = NULL;
	while ((tc = p->tcaches) != NULL)
		tcache_retire(p, tc);
	ccdma_os_global_unlock();
}

struct tcache *ccdma_tcache_create(struct ccdma_pool *p)
{
	struct heap *h = tls_heap;
	struct tcache *tc;
	unsigned ci;

	if (!h) {
		int rc;

		h = ccdma_os_calloc(1, sizeof(*h));
		if (!h)
			return NULL;
		/* A cache only for a thread whose exit gives it back; without
		 * one, this thread's allocations fail with -ENOMEM and its
		 * frees go straight to the depot.  Tried again next time. */
		rc = ccdma_os_thread_exit_arm();
		if (rc) {
			ccdma_err("pool %s: no per-thread cache for this thread: "
				  "cannot arm the thread-exit hook (error %d)",
				  p->name, -rc);
			ccdma_os_free(h);
			return NULL;
		}
		tls_heap = h;
	}
	tc = ccdma_os_calloc(1, sizeof(*tc));
	if (!tc)
		return NULL;
	tc->pool = p;
	for (ci = 0; ci < CCDMA_NSMALL; ci++)
		tc->cls[ci].cap = p->depot[ci].tc_cap;
	ccdma_os_global_lock();
	tc->next = p->tcaches;
	if (tc->next)
		tc->next->prev = tc;
	p->tcaches = tc;
	ccdma_os_global_unlock();
	h->e[p->id].gen = p->gen;
	h->e[p->id].tc = tc;
	return tc;
}

void ccdma_tcache_flush_all(struct ccdma_pool *p, struct tcache *tc)
{
	unsigned ci;

	for (ci = 0; ci < CCDMA_NSMALL; ci++)
		if (tc->cls[ci].n)
			ccdma_small_flush(p, tc, ci, 0);
}

/* The calling thread's cached slots of p go to the depots; how many. */
size_t ccdma_tcache_flush_mine(struct ccdma_pool *p)
{
	struct heap *h = tls_heap;
	struct tcache *tc;
	size_t n = 0;
	unsigned ci;

	if (!p || !h || h->e[p->id].gen != p->gen)
		return 0;
	tc = h->e[p->id].tc;
	for (ci = 0; ci < CCDMA_NSMALL; ci++)
		n += tc->cls[ci].n;
	ccdma_tcache_flush_all(p, tc);
	return n;
}

void ccdma_pool_thread_flush(struct ccdma_pool *p)
{
	(void)ccdma_tcache_flush_mine(p);
}

/* A thread that used a pool is exiting: give its slots back. */
static void thread_exit(void)
{
	struct heap *h = tls_heap;
	uint32_t i;

	if (!h)
		return;
	tls_heap = NULL;
	ccdma_os_global_lock();
	for (i = 0; i < CCDMA_POOL_MAX_POOLS; i++) {
		struct ccdma_pool *p = registry[i];
		struct tcache *tc = h->e[i].tc;

		if (!tc || !p || p->gen != h->e[i].gen)
			continue;
		ccdma_tcache_flush_all(p, tc);
		tcache_retire(p, tc);
	}
	ccdma_os_global_unlock();
	ccdma_os_free(h);
}
