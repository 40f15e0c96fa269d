/* SPDX-License-Identifier: MIT */
/*
 * Model of OpenBSD's SEV bounce buffers (sys/arch/amd64/amd64/bus_dma.c),
 * written from its description.
 *
 * In an SEV guest, _bus_dmamap_create() for a map without BUS_DMA_64BIT
 * reserves the map's bounce pages up front: round_page(size) / PAGE_SIZE + 1
 * pages (one extra because a buffer that is not page aligned touches one
 * more page), and at least nsegments pages.  The pages are taken from the
 * page allocator (uvm_pglistalloc, not necessarily contiguous), entered
 * unencrypted into a private virtual range, and held until
 * _bus_dmamap_destroy().  A load copies each buffer page into the bounce
 * page at the same page offset, so two maps never share a page.
 *
 * Modelled: the reservation rule (reserved bytes per map =
 * max(pages(size) + 1, nsegments) * 4 KiB) and a page pool with one lock
 * and a free page list; one "allocation" here is one map created for the
 * request size (the benchmark's allocation), so the figures are a lower
 * bound: real drivers create maps at attach time sized for their largest
 * transfer and keep them.
 * Simplified: no virtual range or pmap work, the page allocator is a LIFO
 * stack of free page numbers, `align` is ignored (bounce pages are page
 * aligned), the returned offset is the first page's plus orig's page
 * offset (pages after the first are not contiguous in the pool).
 */
#define _POSIX_C_SOURCE 200809L

#include "baselines.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

struct obsd_pool {
	pthread_mutex_t lock;
	uint32_t npages;
	uint32_t nfree;
	uint32_t *free_stack;   /* free page numbers, top at nfree - 1 */
	uint32_t *next;         /* chain of a map's pages */
	uint32_t *map_npages;   /* pages owned by the map starting here */
	unsigned nsegments;
};

size_t bl_openbsd_sev_map_pages(size_t size, unsigned nsegments)
{
	size_t npages = (size + BL_PAGE_SIZE - 1) / BL_PAGE_SIZE + 1;

	return npages < nsegments ? nsegments : npages;
}

void bl_openbsd_sev_set_nsegments(void *h, unsigned nsegments)
{
	struct obsd_pool *p = h;

	p->nsegments = nsegments ? nsegments : 1;
}

static void *obsd_create(size_t pool_bytes)
{
	struct obsd_pool *p;
	uint64_t npages = pool_bytes / BL_PAGE_SIZE;

	if (npages == 0 || npages > UINT32_MAX / 2)
		return NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->npages = (uint32_t)npages;
	p->free_stack = malloc(npages * sizeof(uint32_t));
	p->next = malloc(npages * sizeof(uint32_t));
	p->map_npages = calloc(npages, sizeof(uint32_t));
	if (!p->free_stack || !p->next || !p->map_npages) {
		free(p->free_stack);
		free(p->next);
		free(p->map_npages);
		free(p);
		return NULL;
	}
	/* Lowest page on top. */
	for (uint32_t i = 0; i < p->npages; i++)
		p->free_stack[i] = p->npages - 1 - i;
	p->nfree = p->npages;
	p->nsegments = 1;
	pthread_mutex_init(&p->lock, NULL);
	return p;
}

static void obsd_destroy(void *h)
{
	struct obsd_pool *p = h;

	if (!p)
		return;
	pthread_mutex_destroy(&p->lock);
	free(p->free_stack);
	free(p->next);
	free(p->map_npages);
	free(p);
}

/* _bus_dmamap_create(): reserve the map's bounce pages. */
static int obsd_alloc(void *h, size_t size, size_t align, uint64_t min_align_mask,
		      uint64_t orig, uint64_t *off)
{
	struct obsd_pool *p = h;
	size_t npages;
	uint32_t first, prev;

	(void)min_align_mask; /* the page offset is always kept */
	if (!p || size == 0 || (align & (align - 1)))
		return -EINVAL;
	npages = bl_openbsd_sev_map_pages(size, p->nsegments);
	pthread_mutex_lock(&p->lock);
	if (npages > p->nfree) {
		pthread_mutex_unlock(&p->lock);
		return -ENOMEM;
	}
	first = prev = p->free_stack[--p->nfree];
	for (size_t i = 1; i < npages; i++) {
		uint32_t pg = p->free_stack[--p->nfree];

		p->next[prev] = pg;
		prev = pg;
	}
	p->next[prev] = UINT32_MAX;
	p->map_npages[first] = (uint32_t)npages;
	pthread_mutex_unlock(&p->lock);
	*off = (uint64_t)first * BL_PAGE_SIZE + (orig & (BL_PAGE_SIZE - 1));
	return 0;
}

/* _bus_dmamap_destroy(): give the pages back. */
static void obsd_free(void *h, uint64_t off, size_t size)
{
	struct obsd_pool *p = h;
	uint64_t first = off / BL_PAGE_SIZE;
	uint32_t pg, n;

	(void)size;
	if (first >= p->npages || p->map_npages[first] == 0) {
		fprintf(stderr, "openbsd-sev model: bad free of offset %llu\n",
			(unsigned long long)off);
		abort();
	}
	pthread_mutex_lock(&p->lock);
	n = p->map_npages[first];
	p->map_npages[first] = 0;
	pg = (uint32_t)first;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t nx = p->next[pg];

		p->free_stack[p->nfree++] = pg;
		pg = nx;
	}
	pthread_mutex_unlock(&p->lock);
}

static size_t obsd_reserved_bytes(void *h)
{
	struct obsd_pool *p = h;
	size_t n;

	pthread_mutex_lock(&p->lock);
	n = (size_t)(p->npages - p->nfree) * BL_PAGE_SIZE;
	pthread_mutex_unlock(&p->lock);
	return n;
}

static size_t obsd_capacity_bytes(void *h)
{
	const struct obsd_pool *p = h;

	return (size_t)p->npages * BL_PAGE_SIZE;
}

const struct bl_ops bl_openbsd_sev = {
	.name = "openbsd-sev",
	.create = obsd_create,
	.destroy = obsd_destroy,
	.alloc = obsd_alloc,
	.free = obsd_free,
	.reserved_bytes = obsd_reserved_bytes,
	.capacity_bytes = obsd_capacity_bytes,
};
