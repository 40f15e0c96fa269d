/* SPDX-License-Identifier: MIT */
/*
 * Split virtqueue layout (virtio 1.x, 2.7), shared by the driver
 * (src/virtio/) and the project's device process (tools/ccdma-devsim).
 * Every field is little-endian: use the ccdma_leN_t helpers of
 * platform/byteorder.h, never a plain load.  Header only, freestanding.
 */
#ifndef CCDMA_VIRTIO_RING_H
#define CCDMA_VIRTIO_RING_H

#include <stddef.h>
#include <stdint.h>

#include "platform/byteorder.h"

#define CCDMA_VRING_DESC_F_NEXT 1u
#define CCDMA_VRING_DESC_F_WRITE 2u
#define CCDMA_VRING_DESC_F_INDIRECT 4u

/* avail->flags: the driver needs no interrupt (without EVENT_IDX). */
#define CCDMA_VRING_AVAIL_F_NO_INTERRUPT 1u
/* used->flags: the device needs no kick (without EVENT_IDX). */
#define CCDMA_VRING_USED_F_NO_NOTIFY 1u

#define CCDMA_VRING_MAX_NUM 32768u

struct ccdma_vring_desc {
	ccdma_le64_t addr;
	ccdma_le32_t len;
	ccdma_le16_t flags;
	ccdma_le16_t next;
};

struct ccdma_vring_avail {
	ccdma_le16_t flags;
	ccdma_le16_t idx;
	ccdma_le16_t ring[]; /* num entries, then used_event (EVENT_IDX) */
};

struct ccdma_vring_used_elem {
	ccdma_le32_t id;
	ccdma_le32_t len;
};

struct ccdma_vring_used {
	ccdma_le16_t flags;
	ccdma_le16_t idx;
	struct ccdma_vring_used_elem ring[]; /* num, then avail_event */
};

/* Ring fields change under the reader (the other side writes them at any
 * time): each is loaded or stored once, atomically, with the ordering the
 * protocol needs, and converted from or to little-endian. */
static inline uint16_t ccdma_vring_ld16(const ccdma_le16_t *p, int order)
{
	ccdma_le16_t v;

	v.raw = __atomic_load_n(&p->raw, order);
	return ccdma_le16_to_cpu(v);
}

static inline uint32_t ccdma_vring_ld32(const ccdma_le32_t *p)
{
	ccdma_le32_t v;

	v.raw = __atomic_load_n(&p->raw, __ATOMIC_RELAXED);
	return ccdma_le32_to_cpu(v);
}

static inline void ccdma_vring_st16(ccdma_le16_t *p, uint16_t v, int order)
{
	__atomic_store_n(&p->raw, ccdma_cpu_to_le16(v).raw, order);
}

/*
 * The store-load barrier of the notification protocol: each side stores
 * its index (or its wish) and then loads the other side's wish (or
 * index), and one of the two must see the other, or a kick or an
 * interrupt is lost for good.  By the C11 model the sequentially
 * consistent store and load used for those words are enough, and they are
 * what ThreadSanitizer follows.  But qemu-user turns AArch64's STLR then
 * LDAR into a plain store and a plain load on an x86-64 host, whose store
 * buffer lets the load pass the store: under qemu-aarch64 both sides
 * missed each other and requests waited unkicked (e2e_pool_shrink_io
 * stalled 30 s).  So a full fence sits between the two as well, as
 * Linux's virtio_mb() does.  x86's sequentially consistent store is a
 * full barrier already; ThreadSanitizer cannot model a fence (gcc warns)
 * and checks the pair on its own.
 */
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CCDMA_VRING_TSAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define CCDMA_VRING_TSAN 1
#endif
static inline void ccdma_vring_mb(void)
{
#if !defined(CCDMA_VRING_TSAN) && !defined(__x86_64__) && !defined(__i386__)
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
}

/* Sizes in bytes of the three parts for a ring of num entries, including
 * the event words. */
static inline size_t ccdma_vring_desc_size(unsigned num)
{
	return 16u * (size_t)num;
}
static inline size_t ccdma_vring_avail_size(unsigned num)
{
	return 6u + 2u * (size_t)num;
}
static inline size_t ccdma_vring_used_size(unsigned num)
{
	return 6u + 8u * (size_t)num;
}

/* The used_event word (in the avail ring) and avail_event word (in the
 * used ring). */
static inline ccdma_le16_t *ccdma_vring_used_event(struct ccdma_vring_avail *a,
						   unsigned num)
{
	return &a->ring[num];
}
static inline ccdma_le16_t *ccdma_vring_avail_event(struct ccdma_vring_used *u,
						    unsigned num)
{
	return (ccdma_le16_t *)(void *)&u->ring[num];
}

/* EVENT_IDX: should the other side be notified, given that the index
 * moved from old to new_idx and it asked to be told at event_idx? */
static inline int ccdma_vring_need_event(uint16_t event_idx, uint16_t new_idx,
					 uint16_t old)
{
	return (uint16_t)(new_idx - event_idx - 1) < (uint16_t)(new_idx - old);
}

/* virtio-blk request header, status values and request types (5.2.6). */
struct ccdma_vblk_hdr {
	ccdma_le32_t type;
	ccdma_le32_t reserved;
	ccdma_le64_t sector;
};
#define CCDMA_VBLK_T_IN 0u
#define CCDMA_VBLK_T_OUT 1u
#define CCDMA_VBLK_T_FLUSH 4u
#define CCDMA_VBLK_T_GET_ID 8u
#define CCDMA_VBLK_T_DISCARD 11u
#define CCDMA_VBLK_T_WRITE_ZEROES 13u
#define CCDMA_VBLK_S_OK 0u
#define CCDMA_VBLK_S_IOERR 1u
#define CCDMA_VBLK_S_UNSUPP 2u
#define CCDMA_VBLK_ID_BYTES 20u

/* DISCARD / WRITE_ZEROES payload segment. */
struct ccdma_vblk_dwz {
	ccdma_le64_t sector;
	ccdma_le32_t num_sectors;
	ccdma_le32_t flags; /* bit 0: unmap */
};

/* virtio-blk config space offsets (5.2.4). */
#define CCDMA_VBLK_CFG_CAPACITY 0u       /* le64 */
#define CCDMA_VBLK_CFG_SIZE_MAX 8u       /* le32 */
#define CCDMA_VBLK_CFG_SEG_MAX 12u       /* le32 */
#define CCDMA_VBLK_CFG_BLK_SIZE 20u      /* le32 */
#define CCDMA_VBLK_CFG_NUM_QUEUES 34u    /* le16 */
#define CCDMA_VBLK_CFG_MAX_DISCARD_SECTORS 36u  /* le32 */
#define CCDMA_VBLK_CFG_MAX_DISCARD_SEG 40u      /* le32 */
#define CCDMA_VBLK_CFG_DISCARD_ALIGN 44u        /* le32 */
#define CCDMA_VBLK_CFG_MAX_WZ_SECTORS 48u       /* le32 */
#define CCDMA_VBLK_CFG_MAX_WZ_SEG 52u           /* le32 */
#define CCDMA_VBLK_CFG_WZ_MAY_UNMAP 56u         /* u8 */
#define CCDMA_VBLK_CFG_SIZE 60u

#endif /* CCDMA_VIRTIO_RING_H */
