/* SPDX-License-Identifier: MIT */
/*
 * Buffer sharing between devices (docs/dmabuf.md): one exporter owns a
 * buffer made of one or more CPU ranges; each importing device attaches
 * and gets the buffer as a list of its own DMA addresses.
 *
 * Memory: shared memory (allocations of the importing device's pool, or
 * regions attached to it) or, for a buffer created with
 * CCDMA_DMABUF_F_PRIVATE, private memory, which only a device created with
 * CCDMA_DEV_F_TRUSTED may attach.  The caller keeps owning the ranges: the
 * buffer never allocates or frees them.
 *
 * Kinds of attachment:
 *   PINNED     the ranges never change while it is attached: move refused.
 *   DYNAMIC    ccdma_dmabuf_move() calls its move callback before the data
 *              is copied and the old range may be reused; the callback
 *              stops the importer's DMA and returns only once no DMA of
 *              it is in flight; the importer calls ccdma_dmabuf_map()
 *              again, after move returned, before its next use (until then
 *              its segments and accesses fail with -ESTALE).
 *   REVOCABLE  ccdma_dmabuf_revoke() calls its revoke callback and waits,
 *              with a bound, for ccdma_dmabuf_revoke_ack(); one that does
 *              not answer in time is cut off all the same.
 *
 * The device boundary: on a device behind a strict IOMMU
 * (CCDMA_IOMMU_STRICT) an attachment keeps the device's I/O page table
 * open over the ranges from attach (or ccdma_dmabuf_map) until detach, a
 * move or a revoke closes it; after that the device cannot reach them even
 * with an address it kept (ccdma_dev_access faults).  Without one the
 * device reaches its whole pool anyway, and only the attachment's own
 * calls refuse.
 *
 * Threads: attach, detach, move, revoke and destroy of one buffer are not
 * run concurrently by the caller; ccdma_dmabuf_revoke_ack(),
 * ccdma_dmabuf_seg() and ccdma_dmabuf_access() may run in any thread.
 * Callbacks run in the thread that calls move or revoke, without the
 * buffer's lock held; they may call revoke_ack but not move or revoke.
 */
#ifndef CCDMA_DMABUF_H
#define CCDMA_DMABUF_H

#include <ccdma/dma.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ccdma_dmabuf;
struct ccdma_dmabuf_attach;

/* Buffer flags. */
enum {
	/* The ranges are private memory (a confidential guest's own memory):
	 * only a trusted device may attach. */
	CCDMA_DMABUF_F_PRIVATE = 1u << 0,
};

enum ccdma_dmabuf_kind {
	CCDMA_DMABUF_PINNED = 1,
	CCDMA_DMABUF_DYNAMIC = 2,
	CCDMA_DMABUF_REVOCABLE = 3,
};

/* The most ranges one buffer holds. */
#define CCDMA_DMABUF_MAX_RANGES 16

/* Importer callbacks (NULL: none). */
struct ccdma_dmabuf_importer {
	/* DYNAMIC: the buffer moves.  The importer's contract: stop the
	 * device's DMA to the buffer and wait until every DMA it started has
	 * finished before returning (a write that finishes later is lost, and
	 * lands in memory that is no longer the buffer's); do not call
	 * ccdma_dmabuf_map() from here (-EBUSY): map after move returned. */
	void (*move)(struct ccdma_dmabuf_attach *att, void *arg);
	/* REVOCABLE: stop using the buffer, then ccdma_dmabuf_revoke_ack(). */
	void (*revoke)(struct ccdma_dmabuf_attach *att, void *arg);
	void *arg;
};

/*
 * Create an empty buffer.  `owner` (copied, may be NULL) names the exporter
 * in messages.  Returns 0 and *out, -EINVAL (NULL out, unknown flags), or
 * -ENOMEM.
 */
CCDMA_API int ccdma_dmabuf_create(const char *owner, unsigned flags,
				  struct ccdma_dmabuf **out);

/*
 * Append CPU range [addr, addr+len) to the buffer (before any attach).
 * Returns 0, -EINVAL (NULL, len 0, a wrapping range), -EBUSY (attached:
 * the message says so) or -ENOSPC (CCDMA_DMABUF_MAX_RANGES reached).
 */
CCDMA_API int ccdma_dmabuf_add(struct ccdma_dmabuf *buf, void *addr,
			       size_t len);

/* Total bytes of the buffer's ranges; 0 for NULL. */
CCDMA_API size_t ccdma_dmabuf_size(const struct ccdma_dmabuf *buf);
/* The owner's name given at create ("" when none; never NULL). */
CCDMA_API const char *ccdma_dmabuf_owner(const struct ccdma_dmabuf *buf);

/*
 * Destroy a buffer.  Returns 0, or -EBUSY (logged, nothing changed) while
 * attachments remain.  NULL is a no-op.
 */
CCDMA_API int ccdma_dmabuf_destroy(struct ccdma_dmabuf *buf);

/*
 * Attach device `dev` as an importer of kind `kind`.  Every range is
 * checked for the device; refused, each with a message naming the buffer,
 * the device and the reason:
 *   -EPERM   a CCDMA_DMABUF_F_PRIVATE buffer and a device without
 *            CCDMA_DEV_F_TRUSTED (or whose translation cannot carry the
 *            private range)
 *   -EINVAL  NULL arguments, an unknown kind, an empty buffer, a range the
 *            device cannot reach as shared memory (not inside one live
 *            allocation of its pool nor inside a region attached to it)
 *            while the buffer is not private
 *   -EIO     a range whose DMA addresses lie outside the device's DMA mask
 *            (or do not meet its address alignment)
 *   -ENOMEM
 * On success *out holds the attachment, mapped: ccdma_dmabuf_seg() gives
 * one DMA segment per range.
 */
CCDMA_API int ccdma_dmabuf_attach(struct ccdma_dmabuf *buf,
				  struct ccdma_dev *dev,
				  enum ccdma_dmabuf_kind kind,
				  const struct ccdma_dmabuf_importer *imp,
				  struct ccdma_dmabuf_attach **out);

/* Detach and free the attachment (any state).  Returns 0; NULL: -EINVAL. */
CCDMA_API int ccdma_dmabuf_detach(struct ccdma_dmabuf_attach *att);

/*
 * DYNAMIC: compute the attachment's DMA addresses again after a move, with
 * the checks of ccdma_dmabuf_attach() and its errors; on an error the
 * attachment stays stale.  0 when already mapped.  -EACCES once revoked.
 * -EBUSY while a ccdma_dmabuf_move() of the buffer is under way (from a
 * move callback, or another thread before move returned): map again once
 * it returned.  A map that overlaps the start of a move computes again.
 */
CCDMA_API int ccdma_dmabuf_map(struct ccdma_dmabuf_attach *att);

/*
 * Segment i of the attachment: its DMA address and length.  Returns 0,
 * -EINVAL (NULL, i out of range), -ESTALE (moved and not mapped again) or
 * -EACCES (revoked or cut off).
 */
CCDMA_API int ccdma_dmabuf_seg(struct ccdma_dmabuf_attach *att, unsigned i,
			       ccdma_addr_t *dma, size_t *len);
/* Number of segments (the buffer's ranges); 0 for NULL. */
CCDMA_API unsigned ccdma_dmabuf_nsegs(const struct ccdma_dmabuf_attach *att);

/*
 * The device's access through the attachment: ccdma_dev_access() at byte
 * `off` of the buffer for `len` bytes (within one segment).  Returns its
 * result, or -EINVAL (NULL, len 0, outside the buffer or across segments),
 * -ESTALE (moved, not mapped again), -EACCES (revoked or cut off).
 */
CCDMA_API int ccdma_dmabuf_access(struct ccdma_dmabuf_attach *att, size_t off,
				  size_t len, unsigned access, void **cpu);

/*
 * Move range `idx` to `to` (same length), in this order: every DYNAMIC
 * attachment turns stale, its device window closes (strict IOMMU) and its
 * move callback runs (the importer stops its DMA and waits for what is in
 * flight); then the data is copied; then the range points at `to`.  So
 * every DMA write that finished before the callbacks returned is in the
 * copy, and none lands in the old place after them.  The old memory is the
 * caller's again on return.  Returns 0, -EINVAL (NULL, idx out of range, overlapping
 * ranges), or -EBUSY while a PINNED or REVOCABLE attachment exists (the
 * message names the device); nothing changed on an error.
 */
CCDMA_API int ccdma_dmabuf_move(struct ccdma_dmabuf *buf, unsigned idx,
				void *to);

/*
 * Revoke every REVOCABLE attachment: each revoke callback runs, then the
 * exporter waits until each importer called ccdma_dmabuf_revoke_ack() or
 * `timeout_ns` passed.  Every revoked attachment refuses its segments and
 * accesses afterwards (-EACCES); those that did not answer are logged as
 * cut off.  Returns the number cut off (>= 0), or -EINVAL (NULL), -EBUSY
 * (a PINNED or DYNAMIC attachment exists; nothing changed).
 */
CCDMA_API int ccdma_dmabuf_revoke(struct ccdma_dmabuf *buf,
				  uint64_t timeout_ns);

/* The importer confirms a revoke: it no longer uses the buffer.  Returns
 * 0, -EINVAL (NULL, or no revoke pending on it). */
CCDMA_API int ccdma_dmabuf_revoke_ack(struct ccdma_dmabuf_attach *att);

/*
 * The attachment as a segment list in the device's DMA addresses, as a
 * mapping's output is (ccdma/dma.h, struct ccdma_seg_list): the ranges in
 * order, contiguous ones merged, split so that no segment is longer than
 * the device's max_seg_size or crosses its segment boundary; flags
 * CCDMA_SEG_SHARED (0 for a private buffer on a trusted device).  `out`
 * is the caller's storage (ccdma_segs_init); it is not a mapping: never
 * pass it to ccdma_unmap_chunks.  Returns the number of segments, or
 * -EINVAL (NULL, no storage), -ENOSPC (more than out->cap), -ESTALE,
 * -EACCES (as ccdma_dmabuf_seg); on error out->n is 0.
 */
CCDMA_API int ccdma_dmabuf_segs(struct ccdma_dmabuf_attach *att,
				struct ccdma_seg_list *out);

/* ---- between processes (hosted builds) ------------------------------------ */

/*
 * Send buffer `buf` to another process over the connected Unix stream
 * socket `sock`.  Every range must lie inside one live allocation of
 * `pool` (pool memory is what has an fd to send).  What travels, in one
 * message: a 64-byte header (magic "ccdmabuf", version 1, flags 0, the
 * number of ranges and of fds, the owner name) and, per range, the index
 * of its fd, its offset in that fd's file and its length, all
 * little-endian; the memfds of the pool regions holding the ranges (each
 * once) ride with it (SCM_RIGHTS).  No address and no private memory
 * travel: the receiver can reach the whole of each region sent, so send
 * only what may be disclosed to it.  The buffer and its attachments are
 * unchanged; the regions stay the pool's (a shrink of the pool does not
 * wait for the importer: keep the allocations until it is done).  Returns
 * 0, -EINVAL (NULL, no range, a range not in a live allocation of pool;
 * logged), -EPERM (a private buffer; logged), or the socket's error
 * (-ETIMEDOUT, -EPIPE, ...).
 */
CCDMA_API int ccdma_dmabuf_export(struct ccdma_dmabuf *buf,
				  struct ccdma_pool *pool, int sock);
/*
 * Receive a buffer sent by ccdma_dmabuf_export() on `sock` (waiting at most
 * timeout_ms; 0: no limit), check it, map its regions into this process,
 * attach them to `dev` (ccdma_dev_attach_region) and return a buffer over
 * the ranges, which this process's devices attach as any other
 * (ccdma_dmabuf_attach).  ccdma_dmabuf_destroy() detaches the regions
 * from dev and unmaps them (without scrubbing: the memory is the
 * exporter's).  Every field is checked before anything is kept: magic,
 * version, flags and reserved bytes, 1..16 ranges, 1..16 fds and exactly
 * as many attached as announced, every fd a shared region (a regular
 * file, a non-zero multiple of the page size) used by some range, every
 * range non-empty and inside its region.  Returns 0, -EINVAL (NULL, sock
 * < 0), -EPROTO (a malformed message; logged), -ETIMEDOUT, -ECONNRESET
 * (the sender went away, even mid-message), -EMFILE (descriptors dropped
 * on the way: more than 16, or none free here), -ENOMEM, or the error of
 * ccdma_dev_attach_region (-EIO outside the mask, -ENOSPC too many
 * regions, -EINVAL overlapping).  On error every fd received is closed and
 * nothing stays mapped or attached.
 */
CCDMA_API int ccdma_dmabuf_import(int sock, struct ccdma_dev *dev,
				  unsigned timeout_ms,
				  struct ccdma_dmabuf **out);

#ifdef __cplusplus
}
#endif
#endif
