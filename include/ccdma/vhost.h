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
 * Without memory slots each new table waits until the back-end has
 * completed every request published, with the block driver's publishing
 * paused meanwhile (the transport's gate; up to 30 s, then the back-end
 * is cut off: the connection breaks); a network connection's pool is made
 * whole at connect instead (docs/vhost.md).
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
 *
 * The transport (ccdma_vhost_transport()) follows ccdma/virtio.h, with:
 *   - device_features() hides the bits the transport keeps or cannot
 *     carry: the protocol-features bit (30), VHOST_F_LOG_ALL (26),
 *     ACCESS_PLATFORM (33), RING_PACKED (34: only split rings), SR_IOV
 *     (37), NOTIFICATION_DATA (38), RING_RESET (40), ADMIN_VQ (41);
 *   - get_config() asks the back-end for bytes [0, offset+len) and copies
 *     the window (qemu-storage-daemon ignores the offset); -EIO when the
 *     back-end answers with an empty reply (its way to refuse), -EINVAL
 *     for len 0 or a window past 256 bytes;
 *   - max_queue_size() is 1024 for every queue (vhost-user cannot ask);
 *   - queue_start() needs set_features() first (else -EINVAL), a ring in
 *     the device's coherent memory (else -EINVAL: the back-end could not
 *     reach it) and a queue not started yet (else -EBUSY); it returns once
 *     the back-end has the ring running (acknowledged, or a GET_FEATURES
 *     round trip without REPLY_ACK);
 *   - notify() and wait() on a queue that is not started: -EINVAL;
 *   - wait() returns -ENODEV, and the device is broken, as soon as the
 *     back-end hangs up;
 *   - queue_stop() sends GET_VRING_BASE for that ring and returns once the
 *     back-end answered (it stops the ring first); the connection stays
 *     up.  -EINVAL (not started), -ENODEV (broken, or no valid answer
 *     within reply_timeout_ms: broken then).
 *   - reconnect(timeout_ms) (used by ccdma_vblk with reconnect on) drops
 *     the connection (the old back-end sees a hang-up), then connects to
 *     socket_path again until a back-end answers or timeout_ms has passed
 *     (each reply waited for at most reply_timeout_ms, within what is
 *     left), negotiates as ccdma_vhost_connect() does, and requires the
 *     new back-end to offer every feature bit set_features() accepted
 *     (the protocol-features bit included) and at least as many queues
 *     (and memory slots as the pool has regions); it then sends the same
 *     SET_FEATURES and the pool's regions (ADD_MEM_REG each, or one
 *     SET_MEM_TABLE): the pool's shared regions as they are now, never
 *     private memory.  No queue is started: queue_start() again (the
 *     same eventfds are reused, emptied).  Regions the pool adds while
 *     the connection is down are kept for it.  0, or -ENODEV (no
 *     back-end within timeout_ms, or one that offers less or breaks the
 *     protocol: logged, broken for good).  ccdma_vhost_get_info()
 *     counts the successes (reconnects).
 * A reply with descriptors attached breaks the connection, also when this
 * process had no free descriptor slot to receive them (at RLIMIT_NOFILE;
 * the log says so): no descriptor this process did not receive is ever
 * closed.
 * notify(), wait() and broken() take no lock and may run in any thread
 * while another sets up a queue or the pool grows; other calls are
 * serialised on the connection.
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
	/* Pool for the device; NULL: defaults for block I/O (4 MiB regions,
	 * 8 MiB created at connect).  max_bytes (and initial_bytes and the
	 * watermarks with it) is lowered so that the pool never needs more
	 * regions than the back-end's memory slots less two (8 - 2 with
	 * SET_MEM_TABLE): at most (slots - 2) * region_size bytes. */
	const struct ccdma_pool_config *pool_cfg;
	/* An existing pool to share with other devices instead (pool_cfg is
	 * then ignored): the dma device is created on it, and the connection
	 * adds its own region listener (ccdma_pool_add_region_listener), so
	 * every region the pool holds or adds is sent to this back-end too,
	 * and removed from it before the pool destroys it; close removes the
	 * listener and leaves the pool (which must outlive the connection).
	 * Its max_bytes must need no more regions than the back-end's memory
	 * table takes (memory slots, or 8 with SET_MEM_TABLE), or connect
	 * fails with -ENOSPC; it is not capped here.  With a back-end
	 * without memory slots every region change resends the whole table
	 * after the back-end went idle (see above): a network connection
	 * cannot go idle, so give it a pool whose initial_bytes is its
	 * max_bytes. */
	struct ccdma_pool *pool;
	unsigned dev_flags;        /* extra CCDMA_DEV_F_* (e.g. FORCE_BOUNCE) */
	unsigned flags;            /* CCDMA_VHOST_F_* */
	/* How long to wait for a reply; 0 = 5000 ms. */
	unsigned reply_timeout_ms;
	/* Queues per unit of the back-end's queue count: 0 or 1 for a
	 * device whose GET_QUEUE_NUM counts queues (virtio-blk: one queue
	 * without the MQ protocol feature); 2 for virtio-net, whose
	 * GET_QUEUE_NUM counts queue pairs (receive and transmit: two
	 * queues without MQ).  Other values: -EINVAL. */
	unsigned queues_per_unit;
};
CCDMA_API void ccdma_vhost_config_init(struct ccdma_vhost_config *cfg);

/*
 * Connect and negotiate, create the dma device and send its memory table.
 * Returns 0 and *out, or -EINVAL (bad config, socket path longer than
 * 107 bytes), -ENOENT / -ENOTSOCK / -ECONNREFUSED / -EACCES (the socket:
 * nothing there, a file that is not a stream socket, nobody listening, no
 * permission), -ECONNRESET (the back-end hung up during negotiation: it
 * closed the connection, even mid-message), -EPROTO (the back-end broke
 * the protocol, e.g. a malformed reply or no VERSION_1), -ETIMEDOUT (no
 * reply within reply_timeout_ms: the back-end accepted the connection, or
 * kept it in its listen backlog, but did not answer, e.g. because it
 * serves another front-end or is stopped), -ENOSPC (a shared pool that
 * may need more regions than the back-end's memory table takes), -ENOMEM,
 * or an error of ccdma_dev_create().  Nothing is left open on failure.
 */
CCDMA_API int ccdma_vhost_connect(const struct ccdma_vhost_config *cfg,
				  struct ccdma_vhost **out);
/* Disconnect and free: started queues are stopped (GET_VRING_BASE, unless
 * the device is broken), the pool's listener removed, the socket and
 * eventfds closed, the dma device destroyed (its mappings and coherent
 * memory must be gone), with its pool unless the config gave a shared
 * one.  No other thread may use h or its transport
 * during or after the call.  NULL is a no-op. */
CCDMA_API void ccdma_vhost_close(struct ccdma_vhost *h);

/* The virtio transport over this connection (valid until close). */
CCDMA_API const struct ccdma_virtio_transport *
ccdma_vhost_transport(struct ccdma_vhost *h);
/* The dma device the driver maps through (valid until close). */
CCDMA_API struct ccdma_dev *ccdma_vhost_dev(struct ccdma_vhost *h);
/* True once the connection is broken (protocol error, timeout, hang-up,
 * or the driver's fail()); also for NULL. */
CCDMA_API bool ccdma_vhost_broken(struct ccdma_vhost *h);

/*
 * Share a region the caller made (ccdma_region_create, or one imported
 * with ccdma_region_map_fd) with the back-end: it is attached to the
 * connection's dma device (ccdma_dev_attach_region: buffers inside it are
 * mapped without bouncing) and sent to the back-end (ADD_MEM_REG, or a new
 * table) before this returns.  The caller keeps owning the region; it must
 * stay alive until ccdma_vhost_detach_region().  A revoked buffer
 * (ccdma_dmabuf_revoke) with a range in such a region takes the WHOLE
 * region out of the back-end's table at once, whether the importer
 * confirmed or not: the back-end can no longer reach any byte of it (its
 * requests into it then fail), while the region stays attached to the dma
 * device until detached.  So give a revocable buffer a region of its own.
 * ccdma_vhost_close() lets go of regions still attached (the back-end is
 * disconnected; the regions stay the caller's).
 * Returns 0, -EINVAL (NULL, an empty region or one without an fd;
 * overlapping the pool or an attached region), -EIO (outside the
 * device's DMA mask), -ENOSPC (the back-end's table has no slot left for
 * it beside the pool's regions at their cap, or 8 of the caller's are
 * attached; logged), -ENODEV (the connection is or became broken).
 */
CCDMA_API int ccdma_vhost_attach_region(struct ccdma_vhost *h,
					const struct ccdma_region *r);
/*
 * Take the region out of the back-end's table (unless a revoke did) and
 * detach it from the dma device.  No mapping into it may remain.  Returns
 * 0, -EINVAL (NULL, or not attached with ccdma_vhost_attach_region;
 * logged), or -ENODEV (the back-end did not acknowledge: the connection
 * broke, and the back-end lost every region; the region is detached all
 * the same).
 */
CCDMA_API int ccdma_vhost_detach_region(struct ccdma_vhost *h,
					const struct ccdma_region *r);

/* One entry of the memory table (in no particular order): the regions
 * the back-end acknowledged, and, once the connection is broken, those
 * the pool added since (a reconnect sends them).  guest_phys_addr =
 * user_addr = the region's CPU address here, mmap_offset = 0. */
struct ccdma_vhost_region {
	uint64_t guest_phys_addr, size, user_addr, mmap_offset;
};
/* Copy up to max entries of the current memory table; returns how many
 * there are (which may exceed max). */
CCDMA_API unsigned ccdma_vhost_regions(struct ccdma_vhost *h,
				       struct ccdma_vhost_region *out,
				       unsigned max);

struct ccdma_vhost_info {
	uint64_t features;            /* offered by the back-end (all bits) */
	uint64_t protocol_features;   /* negotiated */
	/* sent with SET_FEATURES: the driver's bits plus the protocol-
	 * features bit when negotiated; 0 before set_features() */
	uint64_t acked_features;
	unsigned max_queues;
	/* GET_MAX_MEM_SLOTS; 0: no memory slots, SET_MEM_TABLE (8 regions) */
	unsigned mem_slots;
	uint64_t messages_sent;       /* every message, all kinds */
	/* regions the back-end was told about, and given back */
	uint64_t regions_added, regions_removed;
	/* memory-table messages: SET_MEM_TABLE, ADD_MEM_REG, REM_MEM_REG */
	uint64_t table_sends;
	/* The device's pool: its cap on shared bytes (after the memory-table
	 * cap above) and its growth unit.  A single allocation is at most
	 * CCDMA_POOL_MAX_ALLOC bytes and needs room within one region. */
	uint64_t pool_max_bytes, pool_region_bytes;
	/* Successful reconnects (the transport's reconnect()). */
	uint64_t reconnects;
	/* Without memory slots: table changes that had to wait for the
	 * back-end to finish requests in flight (the driver's publishing
	 * paused meanwhile; docs/vhost.md). */
	uint64_t table_drains;
};
/* Snapshot of the negotiation results and counters. */
CCDMA_API void ccdma_vhost_get_info(struct ccdma_vhost *h,
				    struct ccdma_vhost_info *info);

#ifdef __cplusplus
}
#endif
#endif /* CCDMA_VHOST_H */
