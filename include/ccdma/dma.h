/* SPDX-License-Identifier: MIT */
/*
 * ccdma dma layer: devices, address translation, streaming and coherent
 * mappings, chunk lists and an ownership checker.
 *
 * The names follow the Linux DMA API with a ccdma_ prefix, so a driver
 * author recognises every call: ccdma_map_single / ccdma_unmap_single /
 * ccdma_sync_single_for_cpu / ..._for_device, ccdma_map_chunks (the
 * scatter-gather call), ccdma_alloc_coherent, CCDMA_TO_DEVICE and so on.
 * The _attrs variants take CCDMA_ATTR_* flags.
 *
 * Memory model.  The "physical address" of memory is its CPU address in
 * this process.  Shared memory is the device's bounce pool, coherent memory
 * (which comes from that pool) and regions the caller attached to the
 * device.  Everything else is private.  A device reaches:
 *   - in confidential mode: shared memory only (a trusted device: all);
 *   - in direct mode: all memory, unless CCDMA_DEV_F_SHARED_ONLY (a device
 *     in another process, such as a vhost-user back-end, which sees only the
 *     regions it was sent).
 * A buffer is bounced exactly when the device cannot reach it, when its DMA
 * address is outside the device's mask or not aligned to addr_align, or
 * when it is private and the device is force-bounce.  Shared memory is
 * never bounced for confidentiality (only when misaligned for addr_align;
 * the pool and attached regions are always inside the mask).
 *
 * Ownership.  Between map and unmap (and between sync_for_device and
 * sync_for_cpu) the device owns the buffer: the CPU must not touch it.
 * After unmap or sync_for_cpu the CPU owns it again and sees what the
 * device wrote.  A device-to-memory mapping copies once, CPU-ward; bytes of
 * the mapping the device did not write read back as zero, never as data an
 * earlier mapping left in the bounce memory.  Linux instead keeps the
 * buffer's old bytes there (it copies the buffer into the bounce at map);
 * CCDMA_ATTR_PRESERVE or CCDMA_DEV_F_PRESERVE asks for that.
 *
 * Errors.  Functions returning int give 0 (or a count) or a negative errno:
 *   -EINVAL  bad argument: NULL, zero length, a range that wraps around the
 *            address space, a mask not of the form 2^n-1 (0 included), an
 *            unknown direction or flag, an address that is not a live
 *            mapping of this device
 *   -EIO     the device cannot reach the memory and the call may not bounce
 *            (CCDMA_ATTR_NO_BOUNCE), or a mask the device's pool cannot
 *            satisfy; on unmap and free with a strict IOMMU, the I/O page
 *            table no longer held the permission the memory was given
 *            (see ccdma_unmap_single)
 *   -ENOMEM  no bounce memory now (or within the bound with CCDMA_ATTR_WAIT),
 *            or no private memory for metadata
 *   -ENOSPC  an output list is too small
 *   -EFAULT  (device accessor) the device may not reach that address
 * The map_single family returns a DMA address, or the one sentinel
 * CCDMA_MAPPING_ERROR; ccdma_mapping_error() then gives the errno.
 * Every refused call logs one line saying why (except -ENOMEM, which is
 * expected under load and counted in the pool's statistics).
 *
 * Threads: every call may be made from any thread; calls on different
 * mappings of one device may run concurrently.  A mapping must not be
 * unmapped or synced from two threads at once.
 */
#ifndef CCDMA_DMA_H
#define CCDMA_DMA_H

#include <ccdma/common.h>
#include <ccdma/platform.h>
#include <ccdma/pool.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef uint64_t ccdma_addr_t;

/* The one error value of the map_single family. */
#define CCDMA_MAPPING_ERROR (~(ccdma_addr_t)0)

/* Direction, with the Linux values. */
enum ccdma_dir {
	CCDMA_BIDIRECTIONAL = 0,
	CCDMA_TO_DEVICE = 1,   /* memory -> device */
	CCDMA_FROM_DEVICE = 2, /* device -> memory */
};

/* Attributes (the _attrs variants). */
enum {
	/* Map/unmap: do not copy between the buffer and bounce memory; the
	 * caller syncs the parts it needs. */
	CCDMA_ATTR_SKIP_CPU_SYNC = 1u << 0,
	/* Fail with -EIO instead of bouncing. */
	CCDMA_ATTR_NO_BOUNCE = 1u << 1,
	/* Block (bounded by the pool's CCDMA_POOL_WAIT_DEFAULT_NS, never
	 * spinning) for bounce or coherent memory instead of -ENOMEM. */
	CCDMA_ATTR_WAIT = 1u << 2,
	/* map_single, FROM_DEVICE only: the caller will tell unmap how many
	 * bytes the device wrote (ccdma_unmap_single_written; virtio's used
	 * length).  A bounce is then not cleared at map; unmap copies the
	 * reported bytes and clears the rest of the buffer, so the CPU still
	 * never receives bytes an earlier mapping left in the bounce memory,
	 * at the cost of one copy instead of a clear plus a copy.  A device
	 * that over-reports can only hand the CPU bytes that were already in
	 * shared memory, which it could have written itself.  Such a mapping
	 * refuses sync_for_cpu; a plain unmap copies nothing, clears the
	 * buffer and fails with -EINVAL. */
	CCDMA_ATTR_REPORTED_LEN = 1u << 3,
	/* FROM_DEVICE (map_single, map_chunks): Linux's semantics
	 * for a short device write.  A bounce is filled with the buffer's
	 * bytes at map, so bytes the device does not write come back
	 * unchanged after unmap or sync_for_cpu instead of as zeros.  The
	 * cost is one copy into shared memory at map, and the buffer's
	 * previous contents are then disclosed to the device (as on Linux):
	 * use it only where those bytes are not secret.  Ignored with
	 * CCDMA_ATTR_SKIP_CPU_SYNC (nothing is copied; the bounce is
	 * cleared) and by the other directions (they copy in anyway);
	 * with CCDMA_ATTR_REPORTED_LEN the call fails with -EINVAL. */
	CCDMA_ATTR_PRESERVE = 1u << 4,
};

/* ---- address translation ---------------------------------------------- */

enum ccdma_xlate_kind {
	/* DMA address = physical address. */
	CCDMA_XLATE_IDENTITY = 0,
	/* DMA address = physical + offset (pSeries: the DMA window at 1<<59). */
	CCDMA_XLATE_OFFSET,
	/* DMA address = physical | 1<<bit: shared memory is reached through
	 * a high alias (TDX shared bit, Arm CCA top IPA bit, Hyper-V vTOM). */
	CCDMA_XLATE_SET_BIT,
	/* DMA address = physical & ~(1<<bit): the encryption bit (SEV C-bit)
	 * is never part of a DMA address.  Shared memory has it clear, so
	 * this is the identity on everything a device reaches; it differs
	 * from SET_BIT in that a narrow mask can still reach a low pool. */
	CCDMA_XLATE_CLEAR_BIT,
	/* A per-device I/O page table (struct ccdma_xlate.iommu). */
	CCDMA_XLATE_IOMMU,
};

enum ccdma_iommu_mode {
	/* The device's whole pool (and every attached region) is mapped once,
	 * read-write, when the device is created. */
	CCDMA_IOMMU_WINDOW = 0,
	/* Only live mappings are mapped: each mapping's pages at map time,
	 * readable for TO_DEVICE, writable for FROM_DEVICE, both for
	 * BIDIRECTIONAL; unmapped at unmap.  Coherent memory is mapped
	 * read-write from alloc to free.  The granule is the CPU page: in a
	 * dense pool a small mapping exposes the rest of its page (use a
	 * CCDMA_ISOLATION_PAGE pool to prevent that). */
	CCDMA_IOMMU_STRICT = 1,
};

struct ccdma_xlate {
	enum ccdma_xlate_kind kind;
	uint64_t offset;            /* OFFSET */
	unsigned bit;               /* SET_BIT, CLEAR_BIT: 12 .. 63 */
	enum ccdma_iommu_mode iommu; /* IOMMU */
	/* IOMMU: first I/O virtual address (page aligned); 0 means 1 MiB.
	 * The pool is mapped at iova_base + pool offset, attached regions
	 * after it. */
	uint64_t iova_base;
};

/* ---- devices ---------------------------------------------------------- */

struct ccdma_dev;

/* Device flags. */
enum {
	/* Bounce every private buffer even when the device could reach it
	 * (Linux swiotlb=force): finds missing syncs. */
	CCDMA_DEV_F_FORCE_BOUNCE = 1u << 0,
	/* A trusted (TDISP-style) device that may reach private memory: never
	 * bounced for confidentiality (only for its mask or alignment).  Not
	 * with an IOMMU translation. */
	CCDMA_DEV_F_TRUSTED = 1u << 1,
	/* The device reaches only shared memory even in direct mode (it lives
	 * in another process, e.g. a vhost-user back-end). */
	CCDMA_DEV_F_SHARED_ONLY = 1u << 2,
	/* Every FROM_DEVICE mapping of the device behaves as with
	 * CCDMA_ATTR_PRESERVE (a driver ported from Linux that relies on
	 * untouched bytes keeping their value), except one made with
	 * CCDMA_ATTR_REPORTED_LEN, which keeps its own semantics. */
	CCDMA_DEV_F_PRESERVE = 1u << 3,
};

/* The process-wide mode (ccdma_mode_get()) is used. */
#define CCDMA_DEV_MODE_PROCESS (-1)

struct ccdma_dev_config {
	const char *name;          /* for messages */
	uint64_t dma_mask;         /* default: all 64 bits */
	uint64_t coherent_mask;    /* default: all 64 bits */
	/* Largest DMA segment the device takes; chunk-list output is split
	 * to it.  Default 64 KiB (as Linux); at most 4 GiB - 1. */
	size_t max_seg_size;
	/* Segment boundary mask (2^n-1): no output segment crosses a
	 * multiple of mask+1.  Default: none (all ones). */
	uint64_t seg_boundary;
	/* 0 or 2^n-1 below 64 KiB: a bounce keeps these low bits of the
	 * original address (NVMe: 4095). */
	uint64_t min_align_mask;
	/* DMA addresses must be multiples of this (power of two up to
	 * 64 KiB; default 1).  A buffer that is not is bounced into aligned
	 * memory.  Not together with min_align_mask. */
	size_t addr_align;
	/* The pool the device bounces through and takes coherent memory
	 * from.  NULL: the device creates its own from pool_cfg (NULL means
	 * the defaults of ccdma_pool_config_init(), with the same floor of
	 * one region), placed so that its masks can reach it, and destroys
	 * it with the device.  A pool may serve several devices
	 * (they then see each other's bounce memory). */
	struct ccdma_pool *pool;
	const struct ccdma_pool_config *pool_cfg;
	struct ccdma_xlate xlate;  /* default identity */
	unsigned flags;            /* CCDMA_DEV_F_* */
	/* CCDMA_MODE_CONFIDENTIAL, CCDMA_MODE_DIRECT, or
	 * CCDMA_DEV_MODE_PROCESS (the default). */
	int mode;
};

/* Fill *cfg with the defaults above. */
CCDMA_API void ccdma_dev_config_init(struct ccdma_dev_config *cfg);

/*
 * Create a device.  Returns 0 and *out, or (each logged)
 *   -EIO     a mask cannot reach the pool (the message names the mask and
 *            the pool's DMA range), no pool of its own can be placed where
 *            its masks reach, or the pool cannot be translated
 *   -EINVAL  NULL out, a bad config (the message names the field), or
 *            CCDMA_MODE holds an unknown value (CCDMA_DEV_MODE_PROCESS)
 *   -ENOMEM  no private memory for metadata
 *   and, for a pool of its own, ccdma_pool_create()'s errors.
 * The ownership checker applies to the device when it is enabled at
 * creation time.
 */
CCDMA_API int ccdma_dev_create(const struct ccdma_dev_config *cfg,
			       struct ccdma_dev **out);

/*
 * Destroy a device (and its own pool, if it created one).  Every coherent
 * allocation and mapping of the device must be gone; with the checker on,
 * those still live are reported (CCDMA_DBG_LEAK, with their call sites),
 * their bounce memory is given back and -EBUSY is returned (the device is
 * destroyed all the same).  Returns 0, or -EBUSY.  NULL is a no-op.
 */
CCDMA_API int ccdma_dev_destroy(struct ccdma_dev *dev);

/*
 * Set the streaming (and/or coherent) mask, as dma_set_mask().  Returns 0;
 * -EINVAL for a NULL device or a mask that is not of the form 2^n-1 with
 * n >= 1 (0 included); -EIO when the device's pool (with an IOMMU, its
 * pool and attached regions) lies even partly outside what the mask
 * reaches.  On an error the mask is unchanged and the message names the
 * mask (and, for -EIO, the pool's DMA range).
 */
CCDMA_API int ccdma_dev_set_mask(struct ccdma_dev *dev, uint64_t mask);
CCDMA_API int ccdma_dev_set_coherent_mask(struct ccdma_dev *dev, uint64_t mask);
CCDMA_API int ccdma_dev_set_mask_and_coherent(struct ccdma_dev *dev,
					      uint64_t mask);

/* The device's pool (never NULL for a live device). */
CCDMA_API struct ccdma_pool *ccdma_dev_pool(struct ccdma_dev *dev);

/* The DMA addresses [*first, *last] the device's pool occupies. */
CCDMA_API int ccdma_dev_pool_dma_range(struct ccdma_dev *dev,
				       ccdma_addr_t *first, ccdma_addr_t *last);

/*
 * Share a region the caller created (ccdma_region_create) with the
 * device: buffers inside it are mapped without bouncing.  *dma (may be
 * NULL) gets the region's DMA address.  The region must stay alive until
 * ccdma_dev_detach_region().  At most CCDMA_DEV_MAX_REGIONS per device.
 * Returns 0, -EINVAL (NULL, overlapping an attached region or the pool),
 * -EIO (outside the mask), -ENOSPC (too many).
 */
#define CCDMA_DEV_MAX_REGIONS 32
CCDMA_API int ccdma_dev_attach_region(struct ccdma_dev *dev,
				      const struct ccdma_region *r,
				      ccdma_addr_t *dma);
/* Take it back.  Its mappings must be gone and no device access to it in
 * flight.  0 or -EINVAL (not attached). */
CCDMA_API int ccdma_dev_detach_region(struct ccdma_dev *dev,
				      const struct ccdma_region *r);

/* ---- streaming mappings ----------------------------------------------- */

/*
 * The _at functions take the caller's file and line for the ownership
 * checker's reports; use the macros, which pass them.
 */

/*
 * Map [ptr, ptr+size) for the device; returns its DMA address or
 * CCDMA_MAPPING_ERROR.  The device owns the buffer until unmap.  When
 * bounced: TO_DEVICE and BIDIRECTIONAL copy the buffer in (unless
 * SKIP_CPU_SYNC); FROM_DEVICE copies nothing (unless PRESERVE).
 * ccdma_mapping_error() then gives:
 *   -EINVAL  NULL device or buffer, size 0, a range that wraps, an unknown
 *            direction or attribute, REPORTED_LEN with a direction other
 *            than FROM_DEVICE or with PRESERVE; a buffer in the pool's
 *            address range but not inside one live allocation; a buffer
 *            to bounce larger than CCDMA_POOL_MAX_ALLOC
 *   -EIO     the device cannot reach the buffer and NO_BOUNCE was given
 *   -ENOMEM  no bounce memory now (or within the bound with WAIT)
 */
CCDMA_API ccdma_addr_t ccdma_map_single_attrs_at(struct ccdma_dev *dev,
						 void *ptr, size_t size,
						 enum ccdma_dir dir,
						 unsigned attrs,
						 const char *file, int line);
#define ccdma_map_single(dev, ptr, size, dir) \
	ccdma_map_single_attrs_at(dev, ptr, size, dir, 0, __FILE__, __LINE__)
#define ccdma_map_single_attrs(dev, ptr, size, dir, attrs) \
	ccdma_map_single_attrs_at(dev, ptr, size, dir, attrs, __FILE__, __LINE__)

/*
 * 0 when `addr` is a good DMA address.  For CCDMA_MAPPING_ERROR, the
 * negative errno of the calling thread's last failed map (-ENOMEM when
 * none is recorded).  Marks the mapping as checked for the checker.
 */
CCDMA_API int ccdma_mapping_error(struct ccdma_dev *dev, ccdma_addr_t addr);

/*
 * Unmap.  `addr` is what map returned; `size` and `dir` are those of the
 * map.  When bounced, FROM_DEVICE and BIDIRECTIONAL copy the mapped bytes
 * back (unless SKIP_CPU_SYNC) and the bounce memory goes back to the pool.
 * Returns 0, or -EINVAL for an address that is not a live mapping of the
 * device (nothing is changed then; also when two unmaps of one bounced
 * mapping race and this one lost).  With a strict IOMMU, -EIO when the
 * I/O page table no longer held the mapping's permission: an unmap of
 * another mapping on the same page, with the wrong direction, took it.
 * The data is copied back and the mapping is gone all the same, but the
 * device may still reach that page, so a bounce is withheld from reuse.
 * A size or direction that differs from the map's is logged (and reported
 * by the checker); the map's own length and direction are used.
 */
CCDMA_API int ccdma_unmap_single_attrs_at(struct ccdma_dev *dev,
					  ccdma_addr_t addr, size_t size,
					  enum ccdma_dir dir, unsigned attrs,
					  const char *file, int line);
#define ccdma_unmap_single(dev, addr, size, dir) \
	ccdma_unmap_single_attrs_at(dev, addr, size, dir, 0, __FILE__, __LINE__)
#define ccdma_unmap_single_attrs(dev, addr, size, dir, attrs) \
	ccdma_unmap_single_attrs_at(dev, addr, size, dir, attrs, __FILE__, __LINE__)

/*
 * Unmap a mapping made with CCDMA_ATTR_REPORTED_LEN, given the number of
 * bytes the device says it wrote from the start of the buffer (clamped to
 * size): those are copied back, the rest of the buffer is cleared.  For a
 * mapping that was not bounced nothing is copied or cleared.  Returns as
 * ccdma_unmap_single_attrs.
 */
CCDMA_API int ccdma_unmap_single_written_at(struct ccdma_dev *dev,
					    ccdma_addr_t addr, size_t size,
					    enum ccdma_dir dir, unsigned attrs,
					    size_t written, const char *file,
					    int line);
#define ccdma_unmap_single_written(dev, addr, size, dir, written) \
	ccdma_unmap_single_written_at(dev, addr, size, dir, 0, written, \
				      __FILE__, __LINE__)

/*
 * Sync [addr+offset, addr+offset+size) of a mapping: for_cpu hands it to
 * the CPU (bounce: copies device data in for FROM_DEVICE and
 * BIDIRECTIONAL), for_device hands it back (bounce: copies the CPU's
 * bytes out for TO_DEVICE and BIDIRECTIONAL).  `addr` is the DMA address
 * map returned.  Returns 0, or -EINVAL when the window is not inside a live
 * mapping of the device (nothing copied).
 */
CCDMA_API int ccdma_sync_single_range_for_cpu_at(struct ccdma_dev *dev,
						 ccdma_addr_t addr, size_t offset,
						 size_t size, enum ccdma_dir dir,
						 const char *file, int line);
CCDMA_API int ccdma_sync_single_range_for_device_at(struct ccdma_dev *dev,
						    ccdma_addr_t addr,
						    size_t offset, size_t size,
						    enum ccdma_dir dir,
						    const char *file, int line);
#define ccdma_sync_single_for_cpu(dev, addr, size, dir) \
	ccdma_sync_single_range_for_cpu_at(dev, addr, 0, size, dir, __FILE__, __LINE__)
#define ccdma_sync_single_for_device(dev, addr, size, dir) \
	ccdma_sync_single_range_for_device_at(dev, addr, 0, size, dir, __FILE__, __LINE__)
#define ccdma_sync_single_range_for_cpu(dev, addr, off, size, dir) \
	ccdma_sync_single_range_for_cpu_at(dev, addr, off, size, dir, __FILE__, __LINE__)
#define ccdma_sync_single_range_for_device(dev, addr, off, size, dir) \
	ccdma_sync_single_range_for_device_at(dev, addr, off, size, dir, __FILE__, __LINE__)

/* ---- coherent memory -------------------------------------------------- */

/*
 * Allocate `size` bytes of coherent memory straight from the device's
 * shared pool: zeroed, aligned to the smallest power of two >= size (at
 * most the page size), never bounced, reachable under the coherent mask.
 * *cpu gets the CPU address, *dma the device's.  attrs: CCDMA_ATTR_WAIT.
 * Returns 0, -EINVAL, -ENOMEM.  The caller owns it until
 * ccdma_free_coherent(); the device may read and write it at any time, so
 * read values from it once into private memory before validating them.
 */
CCDMA_API int ccdma_alloc_coherent_at(struct ccdma_dev *dev, size_t size,
				      void **cpu, ccdma_addr_t *dma,
				      unsigned attrs, const char *file,
				      int line);
#define ccdma_alloc_coherent(dev, size, cpu, dma, attrs) \
	ccdma_alloc_coherent_at(dev, size, cpu, dma, attrs, __FILE__, __LINE__)
/* Free it (size, cpu and dma as allocated).  0, or -EINVAL when that is
 * not a live coherent allocation of the device (nothing is freed then), or
 * -EIO (strict IOMMU) as ccdma_unmap_single: the memory is withheld. */
CCDMA_API int ccdma_free_coherent_at(struct ccdma_dev *dev, size_t size,
				     void *cpu, ccdma_addr_t dma,
				     const char *file, int line);
#define ccdma_free_coherent(dev, size, cpu, dma) \
	ccdma_free_coherent_at(dev, size, cpu, dma, __FILE__, __LINE__)

/* ---- chunk lists (scatter-gather) ------------------------------------- */

/* Where a chunk's memory lives. */
enum ccdma_mem {
	/* Driver memory: bounced when the device cannot reach it (memory
	 * that turns out to be shared with the device is not bounced). */
	CCDMA_MEM_PRIVATE = 0,
	/* Memory already shared with the device (its pool, coherent memory,
	 * an attached region); checked, never bounced. */
	CCDMA_MEM_SHARED = 1,
	/* Device (bus) memory, given by DMA address: passed through as is,
	 * never bounced or translated (peer-to-peer). */
	CCDMA_MEM_DEVICE = 2,
};

/* One input range: 16 bytes. */
struct ccdma_chunk {
	uint64_t addr;   /* CPU address, or bus address for MEM_DEVICE */
	uint32_t len;
	uint32_t mem;    /* enum ccdma_mem */
};

struct ccdma_chunk_list {
	struct ccdma_chunk *chunk; /* caller storage */
	uint32_t n, cap;
	uint64_t bytes;            /* sum of lengths */
};

/* Start an empty list over caller storage of `cap` chunks. */
CCDMA_API void ccdma_chunks_init(struct ccdma_chunk_list *l,
				 struct ccdma_chunk *storage, uint32_t cap);
/*
 * Append [addr, addr+len).  A range that continues the last chunk (same
 * kind, adjacent) extends it; ranges above 4 GiB - 1 take several chunks.
 * Returns 0, -EINVAL (NULL, len 0, wraps, bad kind), -ENOSPC (full; the
 * list is unchanged).
 */
CCDMA_API int ccdma_chunks_add(struct ccdma_chunk_list *l, const void *addr,
			       size_t len, enum ccdma_mem mem);
/* Append device memory by bus address (CCDMA_MEM_DEVICE). */
CCDMA_API int ccdma_chunks_add_bus(struct ccdma_chunk_list *l,
				   ccdma_addr_t bus, size_t len);

/* One output range: 16 bytes. */
struct ccdma_seg {
	ccdma_addr_t addr;
	uint32_t len;
	uint32_t flags;  /* CCDMA_SEG_* */
};
enum {
	CCDMA_SEG_BOUNCED = 1u << 0, /* lies in bounce memory */
	CCDMA_SEG_SHARED = 1u << 1,  /* the caller's shared memory */
	CCDMA_SEG_DEVICE = 1u << 2,  /* device memory */
};

/*
 * The output of a mapping.  The segments, in order, carry the input's
 * bytes in order, split so that none is longer than max_seg_size or
 * crosses the segment boundary; contiguous pieces are merged.  All
 * private chunks of one mapping that need bouncing share one bounce
 * allocation (so a list of scattered pages may become one segment).
 */
struct ccdma_seg_list {
	struct ccdma_seg *seg;   /* caller storage */
	uint32_t n, cap;
	/* private to the library */
	void *bounce_;
	ccdma_addr_t bounce_dma_;
	uint64_t bounce_len_;
	uint32_t dir_, live_;
};

CCDMA_API void ccdma_segs_init(struct ccdma_seg_list *s,
			       struct ccdma_seg *storage, uint32_t cap);

/*
 * Map a chunk list into `out` (which must not hold a live mapping).
 * Returns the number of segments, or
 *   -EINVAL  NULL device or list, an empty list, no output storage, an
 *            unknown direction or attribute (REPORTED_LEN included), an
 *            output that still holds a live mapping, a chunk with length
 *            0, a NULL or wrapping address or an unknown kind, a chunk
 *            tagged CCDMA_MEM_SHARED (or in the pool's range) that is not
 *            inside one shared region of the device, chunks to bounce
 *            that need more than CCDMA_POOL_MAX_ALLOC bytes together
 *   -EIO     NO_BOUNCE and a chunk needs a bounce, or device memory
 *            outside the mask
 *   -ENOMEM  no bounce memory now (or within the bound with WAIT)
 *   -ENOSPC  more segments than out->cap
 * On failure nothing stays mapped and out->n is 0.  The input is not
 * modified and must not change until unmap.
 */
CCDMA_API int ccdma_map_chunks_attrs_at(struct ccdma_dev *dev,
					const struct ccdma_chunk_list *in,
					struct ccdma_seg_list *out,
					enum ccdma_dir dir, unsigned attrs,
					const char *file, int line);
#define ccdma_map_chunks(dev, in, out, dir) \
	ccdma_map_chunks_attrs_at(dev, in, out, dir, 0, __FILE__, __LINE__)
#define ccdma_map_chunks_attrs(dev, in, out, dir, attrs) \
	ccdma_map_chunks_attrs_at(dev, in, out, dir, attrs, __FILE__, __LINE__)

/* Unmap (copying bounced device data back unless SKIP_CPU_SYNC).  0,
 * -EINVAL (not a live mapping of this device, or an unknown direction or
 * attribute), or -EIO (strict IOMMU) as ccdma_unmap_single. */
CCDMA_API int ccdma_unmap_chunks_attrs_at(struct ccdma_dev *dev,
					  const struct ccdma_chunk_list *in,
					  struct ccdma_seg_list *out,
					  enum ccdma_dir dir, unsigned attrs,
					  const char *file, int line);
#define ccdma_unmap_chunks(dev, in, out, dir) \
	ccdma_unmap_chunks_attrs_at(dev, in, out, dir, 0, __FILE__, __LINE__)
#define ccdma_unmap_chunks_attrs(dev, in, out, dir, attrs) \
	ccdma_unmap_chunks_attrs_at(dev, in, out, dir, attrs, __FILE__, __LINE__)

/*
 * Sync bytes [offset, offset+len) of the list (counted over the input's
 * bytes in order; len SIZE_MAX for "to the end").  0 or -EINVAL.
 */
CCDMA_API int ccdma_sync_chunks_for_cpu_at(struct ccdma_dev *dev,
					   const struct ccdma_chunk_list *in,
					   const struct ccdma_seg_list *out,
					   size_t offset, size_t len,
					   enum ccdma_dir dir,
					   const char *file, int line);
CCDMA_API int ccdma_sync_chunks_for_device_at(struct ccdma_dev *dev,
					      const struct ccdma_chunk_list *in,
					      const struct ccdma_seg_list *out,
					      size_t offset, size_t len,
					      enum ccdma_dir dir,
					      const char *file, int line);
#define ccdma_sync_chunks_for_cpu(dev, in, out, off, len, dir) \
	ccdma_sync_chunks_for_cpu_at(dev, in, out, off, len, dir, __FILE__, __LINE__)
#define ccdma_sync_chunks_for_device(dev, in, out, off, len, dir) \
	ccdma_sync_chunks_for_device_at(dev, in, out, off, len, dir, __FILE__, __LINE__)

/* ---- the device's side ------------------------------------------------ */

enum {
	CCDMA_ACCESS_READ = 1u << 0,  /* the device reads memory */
	CCDMA_ACCESS_WRITE = 1u << 1, /* the device writes memory */
};

/*
 * For device emulators and tests: the CPU address the device reaches at
 * DMA address `addr` for `len` bytes and the given access, after the
 * device's translation.  Refuses (-EFAULT, counted as a fault, logged at
 * debug level) anything the device may not reach: outside its pool and
 * attached regions (and, when it reaches private memory, outside the
 * address space), not mapped in its I/O page table, against the page's
 * permission, or crossing a region end.  -EINVAL for NULL or len 0.
 */
CCDMA_API int ccdma_dev_access(struct ccdma_dev *dev, ccdma_addr_t addr,
			       size_t len, unsigned access, void **cpu);
/* Copy through ccdma_dev_access(): the device reads or writes memory. */
CCDMA_API int ccdma_dev_read(struct ccdma_dev *dev, ccdma_addr_t addr,
			     void *buf, size_t len);
CCDMA_API int ccdma_dev_write(struct ccdma_dev *dev, ccdma_addr_t addr,
			      const void *buf, size_t len);
/* Refused device accesses so far. */
CCDMA_API uint64_t ccdma_dev_faults(struct ccdma_dev *dev);

/* ---- ownership checker ------------------------------------------------ */

/*
 * Enabled by CCDMA_DEBUG=1 (CCDMA_DEBUG=abort: abort on the first report)
 * or ccdma_debug_set(); applies to devices created while it is on.  Off,
 * it costs one predictable branch per call.  On, every mapping is tracked
 * in a hash by DMA address and each misuse below is logged, counted and
 * kept as a struct ccdma_debug_report.  What each kind reports ("call":
 * file:line of the library call that misbehaved; "map": where the mapping
 * was made, for busdma where the map was loaded; addr and size: the
 * mapping's DMA address and length unless said otherwise):
 *
 *   kind                 file:line     map_file:map_line   else
 *   unmap-unknown        the unmap     NULL                addr, size: as
 *                                                          the unmap named
 *                                                          them (chunk list:
 *                                                          addr 0)
 *   double-unmap         the unmap     the map             size: as named
 *   unmap-size, unmap-direction, unchecked-map-error
 *                        the unmap     the map
 *   sync-direction       the sync      the map
 *   sync-outside         the sync      the map, or NULL    no mapping holds
 *                                      when no mapping     the window: addr,
 *                                      holds the window    size: the window
 *   overlap              the new map   the live mapping it overlaps (addr,
 *                                      size: that one's)
 *   leak                 NULL          the map
 *   cpu-access,          NULL (the     the map             fault_addr: the
 *   unsynced-read        access is no                      byte touched;
 *                        library call)                     fault_pc: the
 *                                                          instruction
 *   missing-postread     the unload    the load            sync_file:
 *                                                          sync_line: the
 *                                                          last PREREAD;
 *                                                          addr: the first
 *                                                          segment; size:
 *                                                          the bytes never
 *                                                          POSTREAD
 *
 * Fields a kind does not set are NULL or 0.  fault_addr is what the fault
 * reports: on s390x the hardware gives only the 4 KiB frame of the byte.  fault_pc is 0 on a platform
 * whose signal frame the library cannot read (the Linux layer reads it on
 * x86-64, i386, aarch64, ppc64, s390x and riscv64); msg then says "by an
 * instruction unknown on this platform", and otherwise "by the instruction
 * at 0x... (object+0x...)", the offset in the object for addr2line.
 */
enum ccdma_debug_kind {
	CCDMA_DBG_UNMAP_UNKNOWN = 0, /* unmap of an address never mapped */
	CCDMA_DBG_DOUBLE_UNMAP,      /* unmap of an address already unmapped */
	CCDMA_DBG_UNMAP_SIZE,        /* unmap size differs from map's */
	CCDMA_DBG_UNMAP_DIR,         /* unmap direction differs from map's */
	CCDMA_DBG_SYNC_DIR,          /* sync direction does not fit the map */
	CCDMA_DBG_SYNC_OUTSIDE,      /* sync window outside any mapping */
	CCDMA_DBG_OVERLAP,           /* two live mappings of the same memory,
					one of them device-writable */
	CCDMA_DBG_UNCHECKED,         /* unmapped without ccdma_mapping_error() */
	CCDMA_DBG_LEAK,              /* live at ccdma_dev_destroy() */
	CCDMA_DBG_CPU_ACCESS,        /* CPU touched a buffer the device owns */
	CCDMA_DBG_UNSYNCED_READ,     /* CPU read device data without
					sync_for_cpu (forced bounce) */
	CCDMA_DBG_MISSING_POSTREAD,  /* busdma: unload after PREREAD without
					a POSTREAD of the window */
	CCDMA_DBG_NKINDS
};

enum {
	CCDMA_DEBUG_ON = 1u << 0,
	CCDMA_DEBUG_ABORT = 1u << 1,  /* abort() on the first report */
	/* Protect whole pages of bounced private buffers while the device
	 * owns them and poison device-bound ones (on by default with
	 * CCDMA_DEBUG_ON; see docs/dma.md for the limits). */
	CCDMA_DEBUG_PROTECT = 1u << 2,
};

/* Room for the longest report message, NUL included. */
#define CCDMA_DEBUG_MSG_MAX 640

struct ccdma_debug_report {
	enum ccdma_debug_kind kind;
	const char *file;       /* see the table above; NULL: none */
	int line;
	const char *map_file;
	int map_line;
	const char *sync_file;  /* missing-postread only */
	int sync_line;
	ccdma_addr_t addr;
	uint64_t size;
	uintptr_t fault_addr;   /* cpu-access and unsynced-read only */
	uintptr_t fault_pc;
	/* The report as one line, always whole: "kind at FILE:LINE (mapped
	 * at FILE:LINE, PREREAD at FILE:LINE): what happened" with the sites
	 * the kind has ("loaded at" for a busdma map), file names without
	 * directories (a name over 64 bytes keeps its last 61 after "..."). */
	char msg[CCDMA_DEBUG_MSG_MAX];
};

/* Set the checker flags (CCDMA_DEBUG_*); 0 turns it off for devices
 * created afterwards.  Returns the previous flags. */
CCDMA_API unsigned ccdma_debug_set(unsigned flags);
/* The current flags (after reading CCDMA_DEBUG the first time). */
CCDMA_API unsigned ccdma_debug_get(void);
/* Reports of one kind so far; CCDMA_DBG_NKINDS for all kinds. */
CCDMA_API uint64_t ccdma_debug_count(enum ccdma_debug_kind kind);
/* Copy up to `max` of the most recent reports (oldest first, the last 64
 * are kept); returns how many. */
CCDMA_API unsigned ccdma_debug_reports(struct ccdma_debug_report *out,
				       unsigned max);
/* Forget the counts and kept reports. */
CCDMA_API void ccdma_debug_clear(void);
/* "unmap-unknown", "double-unmap", ... */
CCDMA_API const char *ccdma_debug_kind_name(enum ccdma_debug_kind kind);

#ifdef __cplusplus
}
#endif
#endif /* CCDMA_DMA_H */
