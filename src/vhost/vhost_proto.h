/* SPDX-License-Identifier: MIT */
/*
 * vhost-user wire format, shared by the front-end (src/vhost/) and the
 * project's back-end (tools/ccdma-devsim).  vhost-user messages are in the
 * host's native byte order (both ends run on one machine); the virtio
 * rings they describe are little-endian (virtio/virtio_ring.h).
 *
 * A message is a 12-byte header (request, flags, size) followed by `size`
 * payload bytes; file descriptors travel as SCM_RIGHTS ancillary data of
 * the header's sendmsg.
 */
#ifndef CCDMA_VHOST_PROTO_H
#define CCDMA_VHOST_PROTO_H

#include <stdint.h>

enum ccdma_vu_request {
	CCDMA_VU_GET_FEATURES = 1,
	CCDMA_VU_SET_FEATURES = 2,
	CCDMA_VU_SET_OWNER = 3,
	CCDMA_VU_RESET_OWNER = 4,
	CCDMA_VU_SET_MEM_TABLE = 5,
	CCDMA_VU_SET_LOG_BASE = 6,
	CCDMA_VU_SET_LOG_FD = 7,
	CCDMA_VU_SET_VRING_NUM = 8,
	CCDMA_VU_SET_VRING_ADDR = 9,
	CCDMA_VU_SET_VRING_BASE = 10,
	CCDMA_VU_GET_VRING_BASE = 11,
	CCDMA_VU_SET_VRING_KICK = 12,
	CCDMA_VU_SET_VRING_CALL = 13,
	CCDMA_VU_SET_VRING_ERR = 14,
	CCDMA_VU_GET_PROTOCOL_FEATURES = 15,
	CCDMA_VU_SET_PROTOCOL_FEATURES = 16,
	CCDMA_VU_GET_QUEUE_NUM = 17,
	CCDMA_VU_SET_VRING_ENABLE = 18,
	CCDMA_VU_GET_CONFIG = 24,
	CCDMA_VU_SET_CONFIG = 25,
	CCDMA_VU_GET_MAX_MEM_SLOTS = 36,
	CCDMA_VU_ADD_MEM_REG = 37,
	CCDMA_VU_REM_MEM_REG = 38,
};

/* Header flags. */
#define CCDMA_VU_VERSION 0x1u
#define CCDMA_VU_VERSION_MASK 0x3u
#define CCDMA_VU_FLAG_REPLY (1u << 2)
#define CCDMA_VU_FLAG_NEED_REPLY (1u << 3)

/* The protocol-features bit in GET_FEATURES. */
#define CCDMA_VU_F_PROTOCOL_FEATURES 30

/* Protocol feature bits. */
#define CCDMA_VU_PF_MQ 0
#define CCDMA_VU_PF_REPLY_ACK 3
#define CCDMA_VU_PF_CONFIG 9
#define CCDMA_VU_PF_CONFIGURE_MEM_SLOTS 15

/* SET_VRING_KICK / CALL / ERR payload: a u64 with the queue index in bits
 * 0-7; bit 8 set means no file descriptor comes with it. */
#define CCDMA_VU_VRING_IDX_MASK 0xffu
#define CCDMA_VU_VRING_NOFD (1u << 8)

#define CCDMA_VU_HDR_SIZE 12u
/* SET_MEM_TABLE carries at most this many regions. */
#define CCDMA_VU_MAX_TABLE_REGIONS 8u
/* The largest payload either side accepts (GET_CONFIG: 12 + 256; a full
 * SET_MEM_TABLE is 8 + 8 * 32). */
#define CCDMA_VU_MAX_PAYLOAD 268u
/* GET_CONFIG / SET_CONFIG: 12 bytes of header, then at most this many. */
#define CCDMA_VU_CONFIG_MAX 256u
/* The most file descriptors one message carries. */
#define CCDMA_VU_MAX_FDS 8u

struct ccdma_vu_hdr {
	uint32_t request;
	uint32_t flags;
	uint32_t size;
};

struct ccdma_vu_region {
	uint64_t guest_phys_addr;
	uint64_t memory_size;
	uint64_t userspace_addr;
	uint64_t mmap_offset;
};

/* SET_MEM_TABLE payload: nregions, padding, then nregions regions (one fd
 * each, in order). */
struct ccdma_vu_mem_table {
	uint32_t nregions;
	uint32_t padding;
	struct ccdma_vu_region regions[CCDMA_VU_MAX_TABLE_REGIONS];
};

/* ADD_MEM_REG / REM_MEM_REG payload (one fd with ADD). */
struct ccdma_vu_mem_reg {
	uint64_t padding;
	struct ccdma_vu_region region;
};

/* SET_VRING_NUM / SET_VRING_BASE / GET_VRING_BASE / SET_VRING_ENABLE. */
struct ccdma_vu_vring_state {
	uint32_t index;
	uint32_t num;
};

/* SET_VRING_ADDR: front-end user addresses of the three parts. */
struct ccdma_vu_vring_addr {
	uint32_t index;
	uint32_t flags;
	uint64_t desc_user_addr;
	uint64_t used_user_addr;
	uint64_t avail_user_addr;
	uint64_t log_guest_addr;
};

/* GET_CONFIG / SET_CONFIG. */
struct ccdma_vu_config {
	uint32_t offset;
	uint32_t size;
	uint32_t flags;
	uint8_t payload[CCDMA_VU_CONFIG_MAX];
};
#define CCDMA_VU_CONFIG_HDR 12u

#endif /* CCDMA_VHOST_PROTO_H */
