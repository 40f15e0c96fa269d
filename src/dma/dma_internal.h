/* SPDX-License-Identifier: MIT */
/*
 * dma layer internals.
 *
 * Where memory lives.  Every CPU range a call names is classified in O(1)
 * (the pool is one reserved range) or O(attached regions):
 *   POOL     inside one region of the device's pool (bounce memory,
 *            coherent memory, or the caller's own pool allocations)
 *   REGION   inside a region the caller attached to the device
 *   PRIVATE  anything else
 * A DMA address is classified back the same way after undoing the
 * translation.  Bounce allocations carry a private owner record in the
 * pool (pool_dma.h): the original buffer, the mapped length and the
 * direction, so unmap and sync need no table and no lock.
 *
 * Strict IOMMU.  One 64-bit counter per CPU page of the pool reservation
 * (and of each attached region): the low half counts live mappings that let
 * the device read the page, the high half those that let it write.  Map
 * adds, unmap subtracts (refusing an underflow), the accessor tests.
 *
 * The ownership checker (checker.c) is entered only when dev->dbg, which
 * is fixed when the device is created.
 */
#ifndef CCDMA_DMA_INTERNAL_H
#define CCDMA_DMA_INTERNAL_H

#include <ccdma/dma.h>

#include "platform/os.h"
#include "pool/pool_dma.h"
#include "platform/trace.h"


/* Owner record tags (pool_dma.h): kind in the low byte, direction above. */
enum {
	TAG_BOUNCE = 1,      /* a map_single bounce */
	TAG_COHERENT = 2,    /* ccdma_alloc_coherent */
	TAG_LIST = 3,        /* the bounce of a chunk-list mapping */
	TAG_BUSDMA = 4,      /* busdma ALLOCNOW reservation */
	TAG_DMAMEM = 5,      /* busdma dmamem_alloc */
	TAG_KIND_MASK = 0xff,
	TAG_DIR_SHIFT = 8,
	TAG_DIR_MASK = 3,
	/* A bounce mapped with CCDMA_ATTR_REPORTED_LEN (not cleared). */
	TAG_F_REPORTED = 1u << 12,
};

static inline unsigned ccdma_tag_dir(uint32_t tag)
{
	return (tag >> TAG_DIR_SHIFT) & TAG_DIR_MASK;
}

/* The attributes every streaming call accepts. */
#define CCDMA_ATTRS_KNOWN \
	(CCDMA_ATTR_SKIP_CPU_SYNC | CCDMA_ATTR_NO_BOUNCE | CCDMA_ATTR_WAIT | \
	 CCDMA_ATTR_PRESERVE)
/* map_single and unmap_single also take CCDMA_ATTR_REPORTED_LEN. */
#define CCDMA_ATTRS_SINGLE (CCDMA_ATTRS_KNOWN | CCDMA_ATTR_REPORTED_LEN)

enum where { W_INVALID = 0, W_POOL, W_REGION, W_PRIVATE };

struct dev_region {
	uintptr_t base;
	size_t size;
	int fd;
	ccdma_addr_t dma;
	uint64_t *pt;            /* strict IOMMU counters, one per page */
	bool live;
};

struct ccdma_dev {
	char name[32];
	uint64_t dma_mask, coherent_mask;
	uint32_t max_seg;
	uint64_t boundary;       /* mask; ~0: none */
	uint64_t min_align_mask;
	size_t addr_align;
	struct ccdma_pool *pool;
	bool own_pool;
	uintptr_t pool_base;
	uint64_t pool_size;
	struct ccdma_xlate x;
	unsigned flags;
	enum ccdma_mode mode;
	bool reach_private;      /* the device may reach private memory */
	bool force_bounce;
	bool iommu, strict;
	bool dbg;                /* ownership checker */
	unsigned page_shift;
	ccdma_addr_t iova_pool;  /* IOMMU: I/O address of the pool base */
	ccdma_addr_t iova_next;  /* IOMMU: where the next region goes */
	uint64_t *pt;            /* strict: counters for the pool's pages */

	ccdma_mutex_t lock;      /* attach / detach */
	uint32_t nregions;       /* slots used (acquire/release) */
	struct dev_region regions[CCDMA_DEV_MAX_REGIONS];

	uint64_t faults;         /* atomic */

	/* The device boundary beyond an IOMMU (ccdma_dev_set_cutoff). */
	int (*cutoff)(void *arg, uintptr_t addr, size_t len);
	void *cutoff_arg;
};

/*
 * Who owns the device (a transport, such as a vhost-user connection) can
 * take memory away from it at its own boundary: a revoke of a shared
 * buffer (ccdma_dmabuf_revoke) calls fn for each of the buffer's CPU
 * ranges, outside every lock of the buffer.  fn returns 0 (nothing of
 * the range stays reachable through the transport), -ENOTSUP (it cannot
 * take that memory away, e.g. the device's pool) or another negative
 * errno (logged by the caller).  Set once, before any buffer attaches.
 */
void ccdma_dev_set_cutoff(struct ccdma_dev *d,
			  int (*fn)(void *arg, uintptr_t addr, size_t len),
			  void *arg);

/* device.c */
enum where ccdma_dev_classify(struct ccdma_dev *d, uintptr_t a, size_t len,
			      struct dev_region **rp);
/* Non-IOMMU: physical -> DMA.  Callers made sure the result exists. */
static inline ccdma_addr_t ccdma_xl(const struct ccdma_xlate *x, uint64_t pa)
{
	switch (x->kind) {
	case CCDMA_XLATE_OFFSET: return pa + x->offset;
	case CCDMA_XLATE_SET_BIT: return pa | (1ull << x->bit);
	case CCDMA_XLATE_CLEAR_BIT: return pa & ~(1ull << x->bit);
	default: return pa;
	}
}

/* DMA address of CPU address a, which the classification put in `w`. */
static inline ccdma_addr_t ccdma_dev_dma_of(const struct ccdma_dev *d,
					    enum where w,
					    const struct dev_region *r,
					    uintptr_t a)
{
	if (w == W_REGION)
		return r->dma + (a - r->base);
	if (d->iommu)
		return d->iova_pool + (a - d->pool_base);
	/* The shared bit names the shared alias; private memory a device
	 * reaches directly (trusted, or direct mode) is named without it. */
	if (w == W_PRIVATE && d->x.kind == CCDMA_XLATE_SET_BIT)
		return a;
	return ccdma_xl(&d->x, a);
}
/* True when the translation carries private range [a, a+len) to a DMA
 * range that leads back to it (a bit translation needs the bit clear in
 * every byte), so a device that reaches private memory may use it. */
bool ccdma_dev_xl_private_ok(const struct ccdma_dev *d, uintptr_t a, size_t len);
/* Undo the translation: the CPU address and classification of DMA range
 * [dma, dma+len).  W_INVALID when the device cannot have it mapped. */
enum where ccdma_dev_locate(struct ccdma_dev *d, ccdma_addr_t dma, size_t len,
			    uintptr_t *pa, struct dev_region **rp);
/* True when [dma, dma+len) is within `mask` and aligned for the device. */
static inline bool ccdma_dev_fits(const struct ccdma_dev *d, ccdma_addr_t dma,
				  size_t len, uint64_t mask)
{
	return dma + len - 1 >= dma && dma + len - 1 <= mask &&
	       (dma & (d->addr_align - 1)) == 0;
}

/*
 * The fast test for "this DMA address names the device's pool": undo the
 * translation and compare with the pool's range (no lookup).  *pa gets the
 * CPU address.  The caller still checks it is inside a live allocation.
 */
static inline bool ccdma_dev_pool_pa(const struct ccdma_dev *d, ccdma_addr_t dma,
				     uintptr_t *pa)
{
	uint64_t p = dma;

	if (d->iommu) {
		p = dma - d->iova_pool + d->pool_base;
	} else {
		switch (d->x.kind) {
		case CCDMA_XLATE_OFFSET:
			p = dma - d->x.offset;
			break;
		case CCDMA_XLATE_SET_BIT:
			if (!(dma & (1ull << d->x.bit)))
				return false;
			p = dma & ~(1ull << d->x.bit);
			break;
		case CCDMA_XLATE_CLEAR_BIT:
			if (dma & (1ull << d->x.bit))
				return false;
			break;
		default:
			break;
		}
	}
	if (p - d->pool_base >= d->pool_size)
		return false;
	*pa = (uintptr_t)p;
	return true;
}

/* True when [a, a+len) lies inside one live allocation of the device's
 * pool, the only pool memory a mapping may name; *o and *b get its owner
 * record and start.  O(1). */
static inline bool ccdma_dev_in_live_alloc(struct ccdma_dev *d, uintptr_t a,
					   size_t len, struct ccdma_pool_owner *o,
					   void **b)
{
	size_t asz;

	return !ccdma_pool_get_owner(d->pool, (void *)a, o, b, &asz) &&
	       len <= asz - (a - (uintptr_t)*b);
}

/* Strict IOMMU: add or remove a mapping of CPU range [a, a+len) in
 * memory classified `w`.  perm: CCDMA_ACCESS_*. */
void ccdma_pt_map_strict(struct ccdma_dev *d, enum where w, struct dev_region *r,
			 uintptr_t a, size_t len, unsigned perm);
int ccdma_pt_unmap_strict(struct ccdma_dev *d, enum where w, struct dev_region *r,
			  uintptr_t a, size_t len, unsigned perm);
static inline void ccdma_pt_map(struct ccdma_dev *d, enum where w,
				struct dev_region *r, uintptr_t a, size_t len,
				unsigned perm)
{
	if (unlikely(d->strict))
		ccdma_pt_map_strict(d, w, r, a, len, perm);
}
static inline int ccdma_pt_unmap(struct ccdma_dev *d, enum where w,
				 struct dev_region *r, uintptr_t a, size_t len,
				 unsigned perm)
{
	return unlikely(d->strict) ? ccdma_pt_unmap_strict(d, w, r, a, len, perm) : 0;
}
bool ccdma_pt_allows(struct ccdma_dev *d, enum where w, struct dev_region *r,
		     uintptr_t a, size_t len, unsigned perm);

/* The device's access for a direction: TO_DEVICE reads memory. */
static inline unsigned ccdma_dir_perm(unsigned dir)
{
	return dir == CCDMA_TO_DEVICE ? CCDMA_ACCESS_READ :
	       dir == CCDMA_FROM_DEVICE ? CCDMA_ACCESS_WRITE :
	       CCDMA_ACCESS_READ | CCDMA_ACCESS_WRITE;
}

const char *ccdma_dir_name(unsigned dir);

/* map.c: take `size` bytes of bounce memory for a mapping in direction
 * `dir` (zeroed where nothing will be copied in, aligned for the device,
 * keeping orig's low bits under min_align_mask) and record the owner
 * {orig, size, tag | dir}.  0, or -ENOMEM / -EINVAL from the pool. */
int ccdma_bounce_alloc(struct ccdma_dev *d, uintptr_t orig, size_t size,
		       unsigned dir, unsigned attrs, uint32_t tag, void **b);

/* Whether a map in direction `dir` with `attrs` copies the buffer into its
 * bounce: TO_DEVICE and BIDIRECTIONAL, and FROM_DEVICE under
 * CCDMA_ATTR_PRESERVE or CCDMA_DEV_F_PRESERVE (not with a reported
 * length); never with SKIP_CPU_SYNC. */
static inline bool ccdma_copy_in(const struct ccdma_dev *d, unsigned dir,
				 unsigned attrs)
{
	if (attrs & CCDMA_ATTR_SKIP_CPU_SYNC)
		return false;
	if (dir != CCDMA_FROM_DEVICE)
		return true;
	return !(attrs & CCDMA_ATTR_REPORTED_LEN) &&
	       ((attrs & CCDMA_ATTR_PRESERVE) || (d->flags & CCDMA_DEV_F_PRESERVE));
}
/* map.c: release one tracked mapping without copying (device teardown). */
void ccdma_reclaim_single(struct ccdma_dev *d, ccdma_addr_t dma, size_t len,
			  unsigned dir);
/* map.c: give back coherent memory: 0, -EIO (strict: its I/O page table
 * entries were taken; withheld from reuse), -EINVAL (given back twice). */
int ccdma_reclaim_coherent(struct ccdma_dev *d, void *cpu, size_t len);
/* chunks.c */
void ccdma_reclaim_chunks(struct ccdma_dev *d, struct ccdma_seg_list *out);

/* checker.c (entered only when d->dbg). */
enum chk_kind { CHK_SINGLE = 0, CHK_LIST, CHK_COHERENT };
bool ccdma_chk_enabled_for_new_device(void);
__attribute__((cold)) void ccdma_chk_map(struct ccdma_dev *d, enum chk_kind k, ccdma_addr_t dma,
		   const void *key, uintptr_t cpu, size_t len, unsigned dir,
		   bool bounced, const struct ccdma_chunk_list *in,
		   const char *file, int line);
__attribute__((cold)) void ccdma_chk_mapping_error(struct ccdma_dev *d, ccdma_addr_t dma);
/* Before an unmap: 0 when the mapping is known (its record is removed and
 * its pages unprotected), else -EINVAL after a report. */
__attribute__((cold)) int ccdma_chk_unmap(struct ccdma_dev *d, enum chk_kind k, ccdma_addr_t dma,
		    const void *key, size_t len, unsigned dir,
		    const char *file, int line);
/* Before a sync's copy (either way): 0 when the window lies in a known
 * mapping (its pages are made accessible for the copy), else -EINVAL after
 * a report (window outside any mapping). */
__attribute__((cold)) int ccdma_chk_sync(struct ccdma_dev *d, enum chk_kind k, ccdma_addr_t dma,
		   const void *key, size_t off, size_t len, unsigned dir,
		   bool for_cpu, const char *file, int line);
/* After a sync_for_device's copy: the device owns the buffer again
 * (pages protected, FROM_DEVICE window poisoned). */
__attribute__((cold)) void ccdma_chk_handover(struct ccdma_dev *d, enum chk_kind k, ccdma_addr_t dma,
			const void *key, size_t off, size_t len);
/* A report from a layer above (busdma), with its own call sites: the
 * misbehaving call at file:line, the mapping's at mfile:mline (labelled
 * `mlabel`: "loaded at"), and for a missing POSTREAD the PREREAD at
 * sfile:sline (NULL: none).  addr and size as struct ccdma_debug_report
 * says for the kind. */
__attribute__((cold, format(printf, 11, 12)))
void ccdma_chk_report(enum ccdma_debug_kind k, const char *file, int line,
		      const char *mlabel, const char *mfile, int mline,
		      const char *sfile, int sline, ccdma_addr_t addr,
		      uint64_t size, const char *fmt, ...);
/* Report and reclaim every mapping still live; returns how many. */
unsigned ccdma_chk_dev_destroy(struct ccdma_dev *d);

/* A bounce copy was made for a mapping of `mapped` bytes on d: counted
 * in the pool's statistics, and the trace point ccdma:bounce (device
 * name, mapped bytes, 1 towards the device / 0 from it, copied bytes). */
static inline void ccdma_dev_bounced(struct ccdma_dev *d, bool to_device,
				     size_t mapped, size_t copied)
{
	ccdma_pool_count_copy(d->pool, to_device, copied);
	CCDMA_TRACE4(bounce, d->name, mapped, to_device ? 1 : 0, copied);
}

/* chunks.c: append [dma, dma+len) to out, merged with the last segment
 * when contiguous with the same flags, split so that no segment is longer
 * than the device's max_seg_size or crosses its segment boundary.  0 or
 * -ENOSPC (out->cap reached). */
int ccdma_segs_emit(const struct ccdma_dev *d, struct ccdma_seg_list *out,
		    ccdma_addr_t dma, uint64_t len, uint32_t flags);

/* dmabuf.c: fn(arg) runs when the buffer is destroyed (after its last
 * detach): how an imported buffer (dmabuf_fd.c) gives its regions back. */
struct ccdma_dmabuf;
void ccdma_dmabuf_set_release(struct ccdma_dmabuf *b, void (*fn)(void *arg),
			      void *arg);
/* The buffer's flags and ranges, for export (i < nranges). */
bool ccdma_dmabuf_is_private(const struct ccdma_dmabuf *b);
unsigned ccdma_dmabuf_nranges(const struct ccdma_dmabuf *b);
void ccdma_dmabuf_range(const struct ccdma_dmabuf *b, unsigned i, void **addr,
			size_t *len);

#endif /* CCDMA_DMA_INTERNAL_H */
