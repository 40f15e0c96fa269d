/* SPDX-License-Identifier: MIT */
/*
 * Model of FreeBSD's x86 bounce zones (sys/x86/x86/busdma_bounce.c with
 * sys/kern/subr_busdma_bounce.c, FreeBSD 13/14), written from its
 * description.
 *
 * A bounce zone keeps a list of 4 KiB bounce pages, all under one global
 * mutex (bounce_lock).  Loading a map first counts the pages the buffer
 * needs (one per 4 KiB page of the buffer that must bounce), reserves that
 * many (reserve_bounce_pages: fails with ENOMEM for BUS_DMA_NOWAIT when the
 * zone has too few free pages), then takes them one at a time from the head
 * of the list (add_bounce_page: lock, take, unlock, once per page).  Unload
 * gives the map's pages back in one go, appended to the tail of the list
 * (free_bounce_pages: STAILQ_CONCAT under the lock).
 *
 * Modelled: the page count, the reservation, the per-page take with the
 * lock taken for each page, the FIFO free list, the single lock.
 * Simplified: no deferred loads (callers see -ENOMEM, as with
 * BUS_DMA_NOWAIT), no zone growth (alloc_bounce_pages at tag creation is
 * the fixed pool size), no address limits; `align` is ignored (bounce pages
 * are page aligned); the returned offset is the first page's plus the page
 * offset of orig under min_align_mask (BUS_DMA_KEEP_PG_OFFSET); pages after
 * the first are not contiguous in the pool.
 */
#define _POSIX_C_SOURCE 200809L

#include "baselines.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

struct fbsd_zone {
	pthread_mutex_t lock;       /* bounce_lock */
	uint32_t npages;
	uint32_t free_bpages;       /* on the list and not reserved */
	uint32_t reserved_bpages;   /* reserved, still on the list */
	uint32_t *ring;             /* the free list: a FIFO of page numbers */
	uint32_t head, count;       /* pages on the list */
	uint32_t *next;             /* chain of a map's pages */
	uint32_t *map_npages;       /* pages held by the load starting here */
};

size_t bl_freebsd_bounce_pages(uint64_t orig, size_t size)
{
	uint64_t first = orig / BL_PAGE_SIZE;
	uint64_t last = (orig + size - 1) / BL_PAGE_SIZE;

	return size ? (size_t)(last - first + 1) : 0;
}

static void *fbsd_create(size_t pool_bytes)
{
	struct fbsd_zone *z;
	uint64_t npages = pool_bytes / BL_PAGE_SIZE;

	if (npages == 0 || npages > UINT32_MAX / 2)
		return NULL;
	z = calloc(1, sizeof(*z));
	if (!z)
		return NULL;
	z->npages = (uint32_t)npages;
	z->ring = malloc(npages * sizeof(uint32_t));
	z->next = malloc(npages * sizeof(uint32_t));
	z->map_npages = calloc(npages, sizeof(uint32_t));
	if (!z->ring || !z->next || !z->map_npages) {
		free(z->ring);
		free(z->next);
		free(z->map_npages);
		free(z);
		return NULL;
	}
	for (uint32_t i = 0; i < z->npages; i++)
		z->ring[i] = i;
	z->head = 0;
	z->count = z->npages;
	z->free_bpages = z->npages;
	pthread_mutex_init(&z->lock, NULL);
	return z;
}

static void fbsd_destroy(void *h)
{
	struct fbsd_zone *z = h;

	if (!z)
		return;
	pthread_mutex_destroy(&z->lock);
	free(z->ring);
	free(z->next);
	free(z->map_npages);
	free(z);
}

/* add_bounce_page(): take one reserved page off the head of the list. */
static uint32_t fbsd_add_bounce_page(struct fbsd_zone *z)
{
	uint32_t pg;

	pthread_mutex_lock(&z->lock);
	pg = z->ring[z->head];
	z->head = z->head + 1 == z->npages ? 0 : z->head + 1;
	z->count--;
	z->reserved_bpages--;
	pthread_mutex_unlock(&z->lock);
	return pg;
}

static int fbsd_alloc(void *h, size_t size, size_t align, uint64_t min_align_mask,
		      uint64_t orig, uint64_t *off)
{
	struct fbsd_zone *z = h;
	size_t pagesneeded;
	uint32_t first, prev;

	if (!z || size == 0 || (align & (align - 1)))
		return -EINVAL;
	/* _bus_dmamap_count_pages() */
	pagesneeded = bl_freebsd_bounce_pages(orig, size);
	/* reserve_bounce_pages(map, commit = 0) for BUS_DMA_NOWAIT */
	pthread_mutex_lock(&z->lock);
	if (pagesneeded > z->free_bpages) {
		pthread_mutex_unlock(&z->lock);
		return -ENOMEM;
	}
	z->free_bpages -= (uint32_t)pagesneeded;
	z->reserved_bpages += (uint32_t)pagesneeded;
	pthread_mutex_unlock(&z->lock);
	/* _bus_dmamap_load_buffer(): one bounce page per buffer page */
	first = prev = fbsd_add_bounce_page(z);
	for (size_t i = 1; i < pagesneeded; i++) {
		uint32_t pg = fbsd_add_bounce_page(z);

		z->next[prev] = pg;
		prev = pg;
	}
	z->next[prev] = UINT32_MAX;
	z->map_npages[first] = (uint32_t)pagesneeded;
	*off = (uint64_t)first * BL_PAGE_SIZE +
	       (orig & min_align_mask & (BL_PAGE_SIZE - 1));
	return 0;
}

/* free_bounce_pages(): append the map's pages to the tail, one lock. */
static void fbsd_free(void *h, uint64_t off, size_t size)
{
	struct fbsd_zone *z = h;
	uint64_t first = off / BL_PAGE_SIZE;
	uint32_t n, pg;

	(void)size;
	if (first >= z->npages || z->map_npages[first] == 0) {
		fprintf(stderr, "freebsd-bounce model: bad free of offset %llu\n",
			(unsigned long long)off);
		abort();
	}
	n = z->map_npages[first];
	z->map_npages[first] = 0;
	pthread_mutex_lock(&z->lock);
	pg = (uint32_t)first;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t tail = z->head + z->count;

		if (tail >= z->npages)
			tail -= z->npages;
		z->ring[tail] = pg;
		z->count++;
		pg = z->next[pg];
	}
	z->free_bpages += n;
	pthread_mutex_unlock(&z->lock);
}

static size_t fbsd_reserved_bytes(void *h)
{
	struct fbsd_zone *z = h;
	size_t n;

	pthread_mutex_lock(&z->lock);
	n = (size_t)(z->npages - z->free_bpages) * BL_PAGE_SIZE;
	pthread_mutex_unlock(&z->lock);
	return n;
}

static size_t fbsd_capacity_bytes(void *h)
{
	const struct fbsd_zone *z = h;

	return (size_t)z->npages * BL_PAGE_SIZE;
}

const struct bl_ops bl_freebsd_bounce = {
	.name = "freebsd-bounce",
	.create = fbsd_create,
	.destroy = fbsd_destroy,
	.alloc = fbsd_alloc,
	.free = fbsd_free,
	.reserved_bytes = fbsd_reserved_bytes,
	.capacity_bytes = fbsd_capacity_bytes,
};
