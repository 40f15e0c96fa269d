/* SPDX-License-Identifier: MIT */
/*
 * ccdma vhost-user front-end: drives a virtio device that lives in another
 * process (qemu-storage-daemon, ccdma-devsim) over a Unix socket, with
 * file descriptors passed by SCM_RIGHTS.
 *
 * The front-end creates the dma device (and its pool) the driver maps
 * through, with CCDMA_DEV_F_SHARED_ONLY: the back-end is sent the pool's
 * shared regions and nothing else, so private memory is never in its
 * memory table.  Regions the pool adds while running are sent before any
 * byte of them can be allocated (ADD_MEM_REG when the back-end offers
 * memory slots, the whole table again with SET_MEM_TABLE otherwise);
 * regions the pool gives back are removed first (REM_MEM_REG).  The pool is
 * capped so that it never needs more regions than the back-end has slots.
 *
 * DMA addresses are the front-end's CPU addresses (identity translation):
 * the memory table gives each region guest_phys_addr = userspace_addr =
 * its address here.
 *
 * Negotiation: SET_OWNER; GET_FEATURES; with the protocol-features bit,
 * GET/SET_PROTOCOL_FEATURES (REPLY_ACK, CONFIG, CONFIGURE_MEM_SLOTS, MQ
 * when offered); GET_QUEUE_NUM with MQ, GET_MAX_MEM_SLOTS with memory
 * slots.  The driver's features go out with SET_FEATURES, and
 * VIRTIO_F_ACCESS_PLATFORM is never sent (no IOTLB support).  Each
 * queue: SET_VRING_NUM, SET_VRING_BASE, SET_VRING_ADDR, SET_VRING_CALL,
 * SET_VRING_KICK (eventfds), SET_VRING_ENABLE.
 *
 * Every reply is validated (request code, flags, size, fd count, values)
 * before use; any protocol error, a reply timeout or a disconnect marks the
 * device broken: later calls return -ENODEV and the transport reports
 * broken.  Errors are negative errno values; each failure logs one line
 * saying what happened.
 */
#ifndef CCDMA_VHOST_H
#define CCDMA_VHOST_H

#include <ccdma/common.h>
#include <ccdma/dma.h>
#include <ccdma/virtio.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ccdma_vhost;

/* ccdma_vhost_config.flags */
enum {
	/* Use SET_MEM_TABLE even when the back-end offers memory slots. */
	CCDMA_VHOST_F_NO_MEM_SLOTS = 1u << 0,
	/* Do not ask for REPLY_ACK even when offered. */
	CCDMA_VHOST_F_NO_REPLY_ACK = 1u << 1,
};

struct ccdma_vhost_config {
	const char *socket_path;   /* required */
	/* CCDMA_MODE_* or CCDMA_DEV_MODE_PROCESS (the default). */
	int mode;
	/* Pool for the device; NULL: defaults for block I/O.  max_bytes is
	 * lowered so the pool fits the back-end's memory slots. */
	const struct ccdma_pool_config *pool_cfg;
	unsigned dev_flags;        /* extra CCDMA_DEV_F_* (e.g. FORCE_BOUNCE) */
	unsigned flags;            /* CCDMA_VHOST_F_* */
	/* How long to wait for a reply; 0 = 5000 ms. */
	unsigned reply_timeout_ms;
};
CCDMA_API void ccdma_vhost_config_init(struct ccdma_vhost_config *cfg);

/*
 * Connect and negotiate, create the dma device and send its memory table.
 * Returns 0 and *out, or -EINVAL (bad config), -ENOENT / -ECONNREFUSED /
 * -EACCES (the socket: nothing there, nobody listening, no permission),
 * -EPROTO (the back-end broke the protocol, e.g. no VERSION_1),
 * -ETIMEDOUT (no reply), -ENOMEM.  Nothing is left open on failure.
 */
CCDMA_API int ccdma_vhost_connect(const struct ccdma_vhost_config *cfg,
				  struct ccdma_vhost **out);
/* Disconnect and free: queues are stopped, the socket closed, the dma
 * device destroyed (its mappings and coherent memory must be gone).  NULL
 * is a no-op. */
CCDMA_API void ccdma_vhost_close(struct ccdma_vhost *h);

/* The virtio transport over this connection (valid until close). */
CCDMA_API const struct ccdma_virtio_transport *
ccdma_vhost_transport(struct ccdma_vhost *h);
/* The dma device the driver maps through (valid until close). */
CCDMA_API struct ccdma_dev *ccdma_vhost_dev(struct ccdma_vhost *h);
CCDMA_API bool ccdma_vhost_broken(struct ccdma_vhost *h);

/* One entry of the memory table as the back-end was last told. */
struct ccdma_vhost_region {
	uint64_t guest_phys_addr, size, user_addr, mmap_offset;
};
/* Copy up to max entries of the current memory table; returns how many
 * there are (which may exceed max). */
CCDMA_API unsigned ccdma_vhost_regions(struct ccdma_vhost *h,
				       struct ccdma_vhost_region *out,
				       unsigned max);

struct ccdma_vhost_info {
	uint64_t features;            /* offered by the back-end */
	uint64_t protocol_features;   /* negotiated */
	uint64_t acked_features;      /* sent with SET_FEATURES */
	unsigned max_queues;
	unsigned mem_slots;           /* 0: SET_MEM_TABLE (8 regions) */
	uint64_t messages_sent;
	uint64_t regions_added, regions_removed, table_sends;
};
CCDMA_API void ccdma_vhost_get_info(struct ccdma_vhost *h,
				    struct ccdma_vhost_info *info);

#ifdef __cplusplus
}
#endif
#endif /* CCDMA_VHOST_H */
