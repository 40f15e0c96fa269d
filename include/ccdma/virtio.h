/* SPDX-License-Identifier: MIT */
/*
 * ccdma virtio: the transport interface between virtio drivers (the
 * virtqueue and virtio-blk code in src/virtio/) and whatever carries
 * notifications, features and config space to a device.  The vhost-user
 * front-end (ccdma/vhost.h) is one transport; tests use an in-process one.
 *
 * A transport owns the dma device (struct ccdma_dev) that every ring and
 * payload of the driver is mapped through: the driver never touches
 * memory the device reaches except through the dma layer.
 *
 * The device is untrusted (DESIGN.md, "Threat model"): config values and
 * everything read from rings are validated by the driver before use, and a
 * malformed answer makes the device broken (the transport's fail()).
 *
 * Errors are negative errno values.  -ENODEV means the device is broken or
 * gone: every later call fails the same way.
 */
#ifndef CCDMA_VIRTIO_H
#define CCDMA_VIRTIO_H

#include <ccdma/common.h>
#include <ccdma/dma.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Device-independent feature bits (virtio 1.x, section 6). */
#define CCDMA_VIRTIO_F_INDIRECT_DESC 28
#define CCDMA_VIRTIO_F_EVENT_IDX 29
#define CCDMA_VIRTIO_F_VERSION_1 32
#define CCDMA_VIRTIO_F_ACCESS_PLATFORM 33
#define CCDMA_VIRTIO_F_RING_PACKED 34

/* A transport's hold on a driver's publishing (see ops->gate). */
struct ccdma_vq_gate;

/* Where a split virtqueue's three parts are, as the driver allocated them
 * (coherent memory of the transport's dma device).  `num` is a power of
 * two up to 32768. */
struct ccdma_vq_layout {
	unsigned num;
	ccdma_addr_t desc_dma, avail_dma, used_dma;
	void *desc, *avail, *used; /* the same, as CPU addresses */
};

struct ccdma_virtio_transport_ops {
	/* The dma device that rings and payloads are mapped through. */
	struct ccdma_dev *(*dma_dev)(void *ctx);
	/* Feature bits the device offers (transport-private bits, such as
	 * vhost-user's protocol-features bit, removed). */
	uint64_t (*device_features)(void *ctx);
	/* Accept a subset of device_features(): 0, -EINVAL (a bit not
	 * offered), -ENODEV.  Called once, before any queue is set up. */
	int (*set_features)(void *ctx, uint64_t features);
	/* Read `len` bytes of config space at `offset` into buf (private
	 * memory).  0, -EOPNOTSUPP (no config access), -EIO (the device
	 * refused this read; it stays usable), -EINVAL (a window the
	 * transport cannot carry), -ENODEV. */
	int (*get_config)(void *ctx, uint32_t offset, void *buf, uint32_t len);
	/* Number of queues the device offers (>= 1). */
	unsigned (*max_queues)(void *ctx);
	/* Largest queue size the device takes for queue q (a power of two). */
	unsigned (*max_queue_size)(void *ctx, unsigned q);
	/* Tell the device where queue q is and start it (the device begins
	 * at avail/used index 0).  0, -EINVAL, -EBUSY (already started),
	 * -ENOMEM, -EMFILE / -ENFILE (no descriptor for its notifications),
	 * -ENODEV. */
	int (*queue_start)(void *ctx, unsigned q, const struct ccdma_vq_layout *l);
	/* Kick queue q (new available buffers).  0 or -ENODEV. */
	int (*notify)(void *ctx, unsigned q);
	/* Block until the device signals queue q (an interrupt), at most
	 * timeout_ns (0: do not block; UINT64_MAX: no limit).  A signal that
	 * arrived since the last wait counts.  0 signalled, -ETIMEDOUT,
	 * -ENODEV. */
	int (*wait)(void *ctx, unsigned q, uint64_t timeout_ns);
	/* The driver found the device misbehaving: mark it broken (stop it,
	 * disconnect); `why` is logged.  Later calls return -ENODEV. */
	void (*fail)(void *ctx, const char *why);
	/* True once the device is broken or gone. */
	bool (*broken)(void *ctx);
	/* Optional (NULL: the transport has none).  Stop started queue q
	 * without breaking the device: when this returns 0 the device has
	 * stopped the ring and will not read or write it, nor any buffer it
	 * names, again, so the driver may scrub and reuse that memory.  The
	 * queue cannot be started again; notify() and wait() on it return
	 * -EINVAL.  0, -EINVAL (q not started), -ENODEV (the device is
	 * broken, or did not answer: it is broken then). */
	int (*queue_stop)(void *ctx, unsigned q);
	/* Optional (NULL: the transport cannot reconnect).  The device hung
	 * up, broke the protocol or stalled: drop the connection to it (when
	 * still up), wait up to timeout_ms for a device at the same address
	 * and bring it where the old one was after set_features(): the same
	 * features accepted and the same memory reachable (the transport's
	 * dma memory, nothing else), no queue started: the driver starts
	 * each again with queue_start() (index 0) and posts what it had in
	 * flight.  Not broken when it returns 0.  0, or -ENODEV (no device
	 * came within timeout_ms, or the one that came offers less: fewer
	 * features, queues or memory slots; broken then, and each failure
	 * logged). */
	int (*reconnect)(void *ctx, unsigned timeout_ms);
	/* Optional (NULL, or NULL returned: none).  A gate the transport
	 * closes while it changes what the device can reach and needs the
	 * device idle (a vhost-user memory table sent whole): the driver
	 * hands it to every queue it starts, and publishing new available
	 * buffers waits while it is closed.  Owned by the transport; valid
	 * until the driver is destroyed. */
	struct ccdma_vq_gate *(*gate)(void *ctx);
};

struct ccdma_virtio_transport {
	const struct ccdma_virtio_transport_ops *ops;
	void *ctx;
};

#ifdef __cplusplus
}
#endif
#endif /* CCDMA_VIRTIO_H */
