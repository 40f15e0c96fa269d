/* SPDX-License-Identifier: MIT */
/*
 * Models of three published bounce-buffer allocators, for the benchmarks.
 *
 * Each model manages only offsets and metadata inside an imaginary pool of
 * `pool_bytes` bytes (no real memory is touched), with the same data
 * structures, search and locking as the original, so that its time and its
 * failures can be compared with ccdma's pool in the same run:
 *
 *   bl_linux_swiotlb   Linux kernel/dma/swiotlb.c (v6.x): 2 KiB slots,
 *                      per-slot free-run counts, per-CPU areas with a
 *                      spinlock and a next-fit cursor.
 *   bl_openbsd_sev     OpenBSD amd64 bus_dma.c under SEV: every map owns
 *                      max(pages + 1, nsegments) bounce pages.
 *   bl_freebsd_bounce  FreeBSD x86 busdma_bounce.c: one free list of 4 KiB
 *                      bounce pages under one lock.
 *
 * All functions are thread safe (each model locks as its original does).
 */
#ifndef CCDMA_BENCH_BASELINES_H
#define CCDMA_BENCH_BASELINES_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct bl_ops {
	const char *name;
	/* A pool of pool_bytes (rounded down to the model's granule).
	 * NULL on failure. */
	void *(*create)(size_t pool_bytes);
	void (*destroy)(void *h);
	/*
	 * Allocate `size` bytes (> 0).  `align`: 0 or a power of two;
	 * `min_align_mask`: 0 or 2^n-1, the returned offset keeps the bits of
	 * `orig` under the mask (as far as the model implements it).
	 * Returns 0 and *off (byte offset in the pool), -ENOMEM, or -EINVAL.
	 */
	int (*alloc)(void *h, size_t size, size_t align,
		     uint64_t min_align_mask, uint64_t orig, uint64_t *off);
	/* Give back an allocation: `off` and `size` exactly as allocated. */
	void (*free)(void *h, uint64_t off, size_t size);
	/* Bytes currently reserved (in use, including waste). */
	size_t (*reserved_bytes)(void *h);
	/* Usable capacity of the pool in bytes. */
	size_t (*capacity_bytes)(void *h);
};

extern const struct bl_ops bl_linux_swiotlb;
extern const struct bl_ops bl_openbsd_sev;
extern const struct bl_ops bl_freebsd_bounce;

/* ---- Linux swiotlb model: constants and inspection (for tests) ---- */
#define BL_IO_TLB_SHIFT 11
#define BL_IO_TLB_SIZE (1u << BL_IO_TLB_SHIFT)   /* 2 KiB slot */
#define BL_IO_TLB_SEGSIZE 128u                    /* slots per segment */
#define BL_LINUX_NAREAS 2u                        /* one per CPU */
#define BL_LINUX_MAX_ALLOC (BL_IO_TLB_SEGSIZE * BL_IO_TLB_SIZE)

/* Number of slots of the pool. */
unsigned bl_linux_nslabs(void *h);
/* The `list` count of slot i (free contiguous slots from i to the end of
 * its segment; 0 when i is in use). */
unsigned bl_linux_slot_list(void *h, unsigned i);
/* Slots checked by the searches so far (a measure of scanning). */
uint64_t bl_linux_slots_scanned(void *h);
/* The area the calling thread searches first (stands in for the CPU). */
void bl_linux_set_thread_area(unsigned area);

/* ---- OpenBSD SEV model ---- */
#define BL_PAGE_SIZE 4096u
/* Pages a map of `size` bytes and `nsegments` segments reserves:
 * max(round_page(size) / PAGE_SIZE + 1, nsegments). */
size_t bl_openbsd_sev_map_pages(size_t size, unsigned nsegments);
/* nsegments used for the maps this pool creates (default 1). */
void bl_openbsd_sev_set_nsegments(void *h, unsigned nsegments);

/* ---- FreeBSD bounce model ---- */
/* Bounce pages a load of [orig, orig + size) needs: one per 4 KiB page
 * of the buffer it touches (= ceil(size / 4096) for a page-aligned
 * buffer). */
size_t bl_freebsd_bounce_pages(uint64_t orig, size_t size);

#ifdef __cplusplus
}
#endif
#endif /* CCDMA_BENCH_BASELINES_H */
