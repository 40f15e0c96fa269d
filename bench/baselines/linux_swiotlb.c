/* SPDX-License-Identifier: MIT */
/*
 * Model of the Linux swiotlb slot allocator (kernel/dma/swiotlb.c, v6.6
 * era), written from its description.
 *
 * Modelled faithfully (this is what the benchmark times):
 *  - 2 KiB slots (IO_TLB_SHIFT 11) grouped in segments of 128 slots
 *    (IO_TLB_SEGSIZE); an allocation never crosses a segment, so nothing
 *    above 256 KiB can be had (swiotlb_find_slots refuses it up front).
 *  - per-slot metadata of the kernel's size (orig_addr, alloc_size, list,
 *    pad_slots: 24 bytes), where `list` is the number of free contiguous
 *    slots from this one to the end of its segment (0 = in use).
 *  - the pool split into areas (one per CPU; 2 here), each with its own
 *    spinlock, a next-fit cursor `index` and a `used` count.  The search
 *    starts in the calling CPU's area and tries the others round-robin.
 *  - swiotlb_search_pool_area(): quick fail when the area has fewer free
 *    slots than needed; walk from the cursor, skipping slots that break
 *    alignment one at a time and others by a stride derived from the
 *    alignment masks; take the first slot whose `list` >= nslots; mark the
 *    slots used and renumber the free slots before them in the segment;
 *    move the cursor past the allocation.
 *  - min_align_mask: the offset of orig inside a 2 KiB slot is added to
 *    the size and to the returned address; the slot index must keep the
 *    bits of orig under the mask above IO_TLB_SHIFT.  Requests of a page
 *    or more with no alignment are page aligned (the historical rule).
 *  - swiotlb_release_slots(): give the slots back, merging with the free
 *    run after them and renumbering the free slots before them.
 *
 * Simplified:
 *  - one fixed pool whose base is treated as aligned to any requested
 *    alignment; no dynamic pools (CONFIG_SWIOTLB_DYNAMIC), no debugfs
 *    counters, no segment-boundary mask (the default boundary mask is
 *    ULONG_MAX, so iommu_is_span_boundary() never triggers).
 *  - v6.6 drops the bits of min_align_mask that an explicit alignment also
 *    covers; v6.9 keeps them with "pad slots".  The model keeps checking
 *    them instead, so a request whose orig bits contradict its alignment
 *    fails rather than returning a misaligned address.  No caller in the
 *    benchmarks passes both.
 *  - the CPU is the calling thread's ordinal (first use), not the real CPU.
 */
#define _POSIX_C_SOURCE 200809L

#include "baselines.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#define IO_TLB_SHIFT BL_IO_TLB_SHIFT
#define IO_TLB_SIZE BL_IO_TLB_SIZE
#define IO_TLB_SEGSIZE BL_IO_TLB_SEGSIZE
#define NAREAS BL_LINUX_NAREAS
#define LX_PAGE_SIZE 4096u
#define INVALID_PHYS_ADDR (~(uint64_t)0)

/* As struct io_tlb_slot. */
struct lx_slot {
	uint64_t orig_addr;
	size_t alloc_size;
	unsigned short list;
	unsigned short pad_slots;
};

/* As struct io_tlb_area (cache-line aligned in the kernel). */
struct lx_area {
	_Alignas(64) pthread_spinlock_t lock;
	unsigned index;         /* next-fit cursor, relative to the area */
	unsigned used;          /* slots in use in this area */
	uint64_t scanned;       /* slots checked by searches (model stat) */
};

struct lx_pool {
	unsigned nslabs;
	unsigned area_nslabs;
	struct lx_slot *slots;
	struct lx_area areas[NAREAS];
};

static _Thread_local int lx_thread_area = -1;
static atomic_uint lx_next_thread_area;

void bl_linux_set_thread_area(unsigned area)
{
	lx_thread_area = (int)(area % NAREAS);
}

/* raw_smp_processor_id() stand-in. */
static unsigned lx_cpu(void)
{
	if (lx_thread_area < 0)
		lx_thread_area = (int)(atomic_fetch_add(&lx_next_thread_area, 1) %
				       NAREAS);
	return (unsigned)lx_thread_area;
}

static unsigned nr_slots(uint64_t bytes)
{
	return (unsigned)((bytes + IO_TLB_SIZE - 1) >> IO_TLB_SHIFT);
}

static unsigned io_tlb_offset(unsigned i)
{
	return i & (IO_TLB_SEGSIZE - 1);
}

/* Area-relative cursor wrap: past the end goes back to 0. */
static unsigned wrap_area_index(const struct lx_pool *p, unsigned index)
{
	return index >= p->area_nslabs ? 0 : index;
}

static void *lx_create(size_t pool_bytes)
{
	uint64_t nslabs = pool_bytes >> IO_TLB_SHIFT;
	struct lx_pool *p;

	/* Whole segments, and every area a whole number of segments. */
	nslabs -= nslabs % (IO_TLB_SEGSIZE * NAREAS);
	if (nslabs == 0 || nslabs > (1u << 30))
		return NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->nslabs = (unsigned)nslabs;
	p->area_nslabs = p->nslabs / NAREAS;
	p->slots = calloc(p->nslabs, sizeof(*p->slots));
	if (!p->slots) {
		free(p);
		return NULL;
	}
	for (unsigned i = 0; i < p->nslabs; i++) {
		p->slots[i].list = (unsigned short)(IO_TLB_SEGSIZE - io_tlb_offset(i));
		p->slots[i].orig_addr = INVALID_PHYS_ADDR;
		p->slots[i].alloc_size = 0;
	}
	for (unsigned a = 0; a < NAREAS; a++)
		pthread_spin_init(&p->areas[a].lock, PTHREAD_PROCESS_PRIVATE);
	return p;
}

static void lx_destroy(void *h)
{
	struct lx_pool *p = h;

	if (!p)
		return;
	for (unsigned a = 0; a < NAREAS; a++)
		pthread_spin_destroy(&p->areas[a].lock);
	free(p->slots);
	free(p);
}

/*
 * swiotlb_search_pool_area(): returns the first slot index or -1.
 * `alloc_size` already includes `offset` (the orig offset in its slot).
 */
static long lx_search_area(struct lx_pool *p, unsigned area_index,
			   uint64_t orig, size_t alloc_size, unsigned offset,
			   uint64_t alloc_align_mask, uint64_t min_align_mask)
{
	struct lx_area *area = &p->areas[area_index];
	uint64_t iotlb_align_mask = min_align_mask;
	unsigned nslots = nr_slots(alloc_size);
	unsigned stride, index, slot_index, slot_base, checked;
	unsigned count = 0;
	long i;

	/* Historical rule: a page or more with no alignment constraint is
	 * page aligned. */
	if (!alloc_align_mask && !iotlb_align_mask && alloc_size >= LX_PAGE_SIZE)
		alloc_align_mask = LX_PAGE_SIZE - 1;
	/* At least slot aligned; the bits below a slot are kept by offset. */
	alloc_align_mask |= IO_TLB_SIZE - 1;
	iotlb_align_mask &= ~(uint64_t)(IO_TLB_SIZE - 1);
	/* Do not bother looking at slots that cannot be aligned. */
	{
		uint64_t m = alloc_align_mask > iotlb_align_mask ?
			alloc_align_mask : iotlb_align_mask;
		uint64_t s = (m >> IO_TLB_SHIFT) + 1;

		stride = s > p->area_nslabs ? p->area_nslabs : (unsigned)s;
	}

	pthread_spin_lock(&area->lock);
	if (nslots > p->area_nslabs - area->used)
		goto not_found;

	slot_base = area_index * p->area_nslabs;
	index = area->index;
	for (checked = 0; checked < p->area_nslabs;) {
		uint64_t tlb_addr;

		slot_index = slot_base + index;
		tlb_addr = (uint64_t)slot_index << IO_TLB_SHIFT;
		if ((tlb_addr & alloc_align_mask) ||
		    (orig && (tlb_addr & iotlb_align_mask) !=
			     (orig & iotlb_align_mask))) {
			index = wrap_area_index(p, index + 1);
			checked++;
			continue;
		}
		if (p->slots[slot_index].list >= nslots)
			goto found;
		index = wrap_area_index(p, index + stride);
		checked += stride;
	}
	area->scanned += checked;
not_found:
	pthread_spin_unlock(&area->lock);
	return -1;

found:
	area->scanned += checked + 1;
	for (unsigned k = slot_index; k < slot_index + nslots; k++) {
		p->slots[k].list = 0;
		p->slots[k].alloc_size =
			alloc_size - (offset + ((size_t)(k - slot_index) << IO_TLB_SHIFT));
		p->slots[k].orig_addr = orig + ((uint64_t)(k - slot_index) << IO_TLB_SHIFT);
	}
	/* Free slots before it in the segment now reach only up to it. */
	for (i = (long)slot_index - 1;
	     i >= 0 && io_tlb_offset((unsigned)i) != IO_TLB_SEGSIZE - 1 &&
	     p->slots[i].list;
	     i--)
		p->slots[i].list = (unsigned short)++count;
	area->index = wrap_area_index(p, index + nslots);
	area->used += nslots;
	pthread_spin_unlock(&area->lock);
	return (long)slot_index;
}

static int lx_alloc(void *h, size_t size, size_t align, uint64_t min_align_mask,
		    uint64_t orig, uint64_t *off)
{
	struct lx_pool *p = h;
	unsigned offset, start;
	size_t alloc_size;

	if (!p || size == 0 || (align & (align - 1)) ||
	    (min_align_mask & (min_align_mask + 1)))
		return -EINVAL;
	/* swiotlb_tbl_map_single(): swiotlb_align_offset() */
	offset = (unsigned)(orig & min_align_mask & (IO_TLB_SIZE - 1));
	alloc_size = size + offset;
	/* swiotlb_find_slots() */
	if (alloc_size > (size_t)IO_TLB_SEGSIZE * IO_TLB_SIZE)
		return -ENOMEM;
	start = lx_cpu();
	for (unsigned i = 0; i < NAREAS; i++) {
		long idx = lx_search_area(p, (start + i) & (NAREAS - 1), orig,
					  alloc_size, offset,
					  align ? (uint64_t)align - 1 : 0,
					  min_align_mask);
		if (idx >= 0) {
			*off = ((uint64_t)idx << IO_TLB_SHIFT) + offset;
			return 0;
		}
	}
	return -ENOMEM;
}

/* swiotlb_release_slots() */
static void lx_free(void *h, uint64_t off, size_t size)
{
	struct lx_pool *p = h;
	unsigned offset = (unsigned)(off & (IO_TLB_SIZE - 1));
	unsigned index = (unsigned)(off >> IO_TLB_SHIFT);
	unsigned nslots, count, seg_end;
	struct lx_area *area;
	long i;

	if (index >= p->nslabs || p->slots[index].list != 0 ||
	    p->slots[index].alloc_size != size) {
		fprintf(stderr, "linux-swiotlb model: bad free of offset %llu size %zu\n",
			(unsigned long long)off, size);
		abort();
	}
	nslots = nr_slots(p->slots[index].alloc_size + offset);
	area = &p->areas[index / p->area_nslabs];

	pthread_spin_lock(&area->lock);
	seg_end = (index / IO_TLB_SEGSIZE + 1) * IO_TLB_SEGSIZE;
	count = index + nslots < seg_end ? p->slots[index + nslots].list : 0;
	/* Step 1: return the slots, merged with the free run after them. */
	for (i = (long)(index + nslots) - 1; i >= (long)index; i--) {
		p->slots[i].list = (unsigned short)++count;
		p->slots[i].orig_addr = INVALID_PHYS_ADDR;
		p->slots[i].alloc_size = 0;
		p->slots[i].pad_slots = 0;
	}
	/* Step 2: merge with the free slots before them in the segment. */
	for (i = (long)index - 1;
	     i >= 0 && io_tlb_offset((unsigned)i) != IO_TLB_SEGSIZE - 1 &&
	     p->slots[i].list;
	     i--)
		p->slots[i].list = (unsigned short)++count;
	area->used -= nslots;
	pthread_spin_unlock(&area->lock);
}

static size_t lx_reserved_bytes(void *h)
{
	struct lx_pool *p = h;
	size_t used = 0;

	for (unsigned a = 0; a < NAREAS; a++) {
		pthread_spin_lock(&p->areas[a].lock);
		used += p->areas[a].used;
		pthread_spin_unlock(&p->areas[a].lock);
	}
	return used << IO_TLB_SHIFT;
}

static size_t lx_capacity_bytes(void *h)
{
	const struct lx_pool *p = h;

	return (size_t)p->nslabs << IO_TLB_SHIFT;
}

unsigned bl_linux_nslabs(void *h)
{
	return ((const struct lx_pool *)h)->nslabs;
}

unsigned bl_linux_slot_list(void *h, unsigned i)
{
	const struct lx_pool *p = h;

	return i < p->nslabs ? p->slots[i].list : 0;
}

uint64_t bl_linux_slots_scanned(void *h)
{
	struct lx_pool *p = h;
	uint64_t n = 0;

	for (unsigned a = 0; a < NAREAS; a++) {
		pthread_spin_lock(&p->areas[a].lock);
		n += p->areas[a].scanned;
		pthread_spin_unlock(&p->areas[a].lock);
	}
	return n;
}

const struct bl_ops bl_linux_swiotlb = {
	.name = "linux-swiotlb",
	.create = lx_create,
	.destroy = lx_destroy,
	.alloc = lx_alloc,
	.free = lx_free,
	.reserved_bytes = lx_reserved_bytes,
	.capacity_bytes = lx_capacity_bytes,
};
