/* SPDX-License-Identifier: MIT */
/*
 * ccdma virtio-blk driver over a virtio transport (ccdma/virtio.h), with
 * split virtqueues in coherent (shared) memory and every payload a
 * streaming mapping through the dma layer: in confidential mode a private
 * buffer is bounced whatever the device offers.
 *
 * Asynchronous API: fill a struct ccdma_vblk_req, ccdma_vblk_submit() it
 * on a queue, then ccdma_vblk_poll() or ccdma_vblk_wait() that queue; each
 * completed request gets its `status` set and its `done` callback (if any)
 * run from inside poll/wait.  Synchronous helpers (ccdma_vblk_read, ...)
 * submit one request on queue 0 and wait for it.
 *
 * Buffer ownership: from a successful submit until the request completes,
 * the request and its buffer belong to the driver and the device; the
 * caller must not touch either.  After completion the caller owns both: a
 * READ's buffer then holds what the device returned (copied out of shared
 * memory exactly once).
 *
 * The device is untrusted: config values are validated at create, every
 * used-ring entry is checked against the driver's private record of what
 * it posted (id in range and in flight, length clamped to what was
 * posted), and a second completion, a bad status byte or a corrupted ring
 * breaks the device: in-flight requests complete with -ENODEV and every
 * later call fails with -ENODEV.  The queue on whose call the fault is
 * seen completes its requests in that call (a poll or wait then returns
 * -ENODEV); the others at their next poll, wait or destroy.  A fault seen
 * by submit (the kick fails) is the exception: submit runs no callbacks,
 * so the request it posted (returning 0) and the queue's others complete
 * with -ENODEV at the next poll or wait on that queue, which returns
 * -ENODEV without blocking.
 *
 * Request status (req->status, and what the synchronous helpers return):
 *   0            done
 *   -EIO         the device reported an I/O error (VIRTIO_BLK_S_IOERR)
 *   -EOPNOTSUPP  the device does not support the request (S_UNSUPP), or
 *                the feature for it (flush, discard, ...) was not offered
 *   -ENODEV      the device is broken or disconnected
 *   -ENOMEM      the rest of a split request could not be mapped (or
 *                another error of the mapping, as is): the
 *                pool had no memory for even one block while nothing
 *                else was in flight on the queue (see Splitting)
 * Submit errors (nothing is posted): -EINVAL bad request (unaligned
 * length or sector, beyond capacity, NULL buffer; logged), -EROFS a write
 * to a read-only device, -EAGAIN the queue has no room now (the ring is
 * full, or a split request still has parts to post: complete some
 * requests and retry), -ENOMEM no bounce memory for even the first part
 * now (something else holds it: complete some requests and retry),
 * -EOPNOTSUPP the request needs a feature the device did not offer
 * (flush, discard, write-zeroes), -EIO the dma layer cannot map the
 * buffer for the device at all (logged by it), -ENODEV.
 *
 * Splitting.  A READ/WRITE is cut into parts of at most max_request bytes
 * (the device's seg_max x size_max, at most 4 MiB), DISCARD/WRITE_ZEROES
 * into parts of the device's largest, and the parts are posted as the ring
 * and the bounce pool have room, not all at once: a submit returns 0 once
 * the first part is posted, and each poll or wait on the queue posts more
 * as earlier parts complete.  So a request of any size works, however
 * little the ring or the pool holds at once (a 64 MiB request through a
 * pool capped at 24 MiB).  The rule for bounce memory: while something is
 * in flight on the queue, a part that cannot be mapped waits for a
 * completion; with nothing in flight, a READ/WRITE part is halved (down to
 * one block) until the pool can give it, and only then does the request
 * wait for memory (synchronous helpers, ccdma_vblk_wait: the pool's
 * bounded wait) or fail with -ENOMEM.
 *
 * Threads: calls on different queues may run concurrently; calls on one
 * queue are serialised by the driver.  Callbacks run on the thread that
 * polls, with no driver lock held; they may submit new requests.  The
 * synchronous helpers may run in several threads at once: each looks at
 * its own request at least every 10 ms, since another thread's poll may
 * have completed it (e2e_sync_threads).
 */
#ifndef CCDMA_VIRTIO_BLK_H
#define CCDMA_VIRTIO_BLK_H

#include <ccdma/common.h>
#include <ccdma/virtio.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

/* virtio-blk feature bits (virtio 1.x, 5.2.3). */
#define CCDMA_VIRTIO_BLK_F_SIZE_MAX 1
#define CCDMA_VIRTIO_BLK_F_SEG_MAX 2
#define CCDMA_VIRTIO_BLK_F_GEOMETRY 4
#define CCDMA_VIRTIO_BLK_F_RO 5
#define CCDMA_VIRTIO_BLK_F_BLK_SIZE 6
#define CCDMA_VIRTIO_BLK_F_FLUSH 9
#define CCDMA_VIRTIO_BLK_F_TOPOLOGY 10
#define CCDMA_VIRTIO_BLK_F_CONFIG_WCE 11
#define CCDMA_VIRTIO_BLK_F_MQ 12
#define CCDMA_VIRTIO_BLK_F_DISCARD 13
#define CCDMA_VIRTIO_BLK_F_WRITE_ZEROES 14

/* Sectors are always 512 bytes in virtio-blk, whatever the block size. */
#define CCDMA_VBLK_SECTOR 512u

struct ccdma_vblk;

struct ccdma_vblk_config {
	/* Queues to use: 0 = as many as the device offers (at most 16). */
	unsigned num_queues;
	/* Ring size: 0 = 256 (capped to the device's maximum). */
	unsigned queue_size;
	/* Feature bits the driver must not accept even when offered (tests,
	 * benchmarks): e.g. 1ull << CCDMA_VIRTIO_F_EVENT_IDX. */
	uint64_t refuse_features;
	/* ccdma_vblk_wait() first polls the used ring for up to this long
	 * before it blocks for the device's interrupt.  Polling trades a
	 * busy CPU for latency: a device in another process on another
	 * core is then noticed at once instead of after a wake-up.
	 * 0 (the default): block at once. */
	uint32_t poll_ns;
	/* The synchronous helpers (ccdma_vblk_read, ...) give up when the
	 * device completes nothing on queue 0 for this long while they wait:
	 * the device is then treated as stalled (broken: its in-flight
	 * requests complete with -ENODEV, their mappings undone) and the
	 * helper returns -ETIMEDOUT.  The clock restarts at every
	 * completion on queue 0 (whichever thread polled it), so a long
	 * request split into many parts is not cut short.  0: CCDMA_VBLK_SYNC_TIMEOUT_DEFAULT_MS (30 s, as Linux's
	 * block layer); CCDMA_VBLK_NO_TIMEOUT: wait for ever. */
	uint32_t sync_timeout_ms;
	/* Reconnect (0: off; needs a transport with reconnect(), such as
	 * vhost-user, else create fails with -EINVAL).  When the device
	 * hangs up, breaks the transport's protocol, or stalls (connected,
	 * with requests in flight on a queue and none completed for
	 * sync_timeout_ms, seen by ccdma_vblk_wait() and the synchronous
	 * helpers), the driver waits up to reconnect_ms for a device at the
	 * same address, negotiates the same features again (a device that
	 * offers less fails the reconnect), gives it the same memory (the
	 * transport's dma memory, never private memory), starts every queue
	 * again and posts every request part that was in flight, rebuilt
	 * from the driver's private record of what it posted (nothing is
	 * read back from shared memory; a write's bounce is filled again
	 * from the caller's buffer).  The caller sees a delay, not an
	 * error: each request completes exactly once, a request the old
	 * device completed (and the driver took) is never posted again.  The
	 * calls that meet the failure (poll, wait, submit's kick, the
	 * helpers) run the reconnect, holding every queue's lock meanwhile;
	 * other threads' calls wait for it.  When no device comes back
	 * within reconnect_ms, the device is broken as without reconnect
	 * (in-flight requests complete with -ENODEV).  A stall is only seen
	 * while some thread waits (ccdma_vblk_wait or a helper); poll alone
	 * sees hang-ups, not stalls. */
	uint32_t reconnect_ms;
	/* With reconnect on, also reconnect a device the driver proved
	 * hostile (its used ring broke the rules, or a status byte was not
	 * one of the three): off by default, because such a device is not
	 * failing but attacking, and a new connection to it is a new chance
	 * for it; see docs/vhost.md.  The request whose status byte was bad
	 * still fails (-ENODEV); the others are posted again. */
	bool reconnect_hostile;
	/* Persistent bounce slots: a READ/WRITE part of at most this many
	 * bytes whose buffer would be bounced (private memory in
	 * confidential mode) is copied through a slot the queue keeps from
	 * one request to the next, instead of a bounce allocated from the
	 * pool and freed per request.  A queue takes a slot from the pool
	 * (coherent memory of the transport's dma device) the first time it
	 * has more such parts in flight than slots, and keeps it until
	 * destroy: at most one per ring entry, so a queue pins about its
	 * depth in use times slot_size (ccdma_vblk_stats.slot_bytes; the
	 * pool cannot give that memory back while the driver lives).
	 * Larger parts, and parts for which the pool has no memory for a
	 * new slot now, are bounced as without slots.  Between requests a
	 * slot holds the last payload it carried: a write's data or what
	 * the device wrote, both bytes the device already had, so no
	 * private byte is left in shared memory that was not sent; destroy
	 * scrubs the slots.  An error completion copies nothing out of a
	 * slot (the caller's buffer is cleared), so a read never returns
	 * an earlier request's bytes.  ccdma_vblk_config_init() sets
	 * CCDMA_VBLK_SLOT_SIZE_DEFAULT (64 KiB); 0: no slots.  Above
	 * 4 MiB: create fails with -EINVAL; above the device's max_request,
	 * max_request (ccdma_vblk_info.slot_size says what is used). */
	uint32_t slot_size;
};
#define CCDMA_VBLK_SLOT_SIZE_DEFAULT (64u * 1024u)
#define CCDMA_VBLK_SYNC_TIMEOUT_DEFAULT_MS 30000u
#define CCDMA_VBLK_NO_TIMEOUT UINT32_MAX
CCDMA_API void ccdma_vblk_config_init(struct ccdma_vblk_config *cfg);

/* What the driver negotiated and read from config space (validated). */
struct ccdma_vblk_info {
	uint64_t capacity;        /* in 512-byte sectors */
	uint32_t blk_size;        /* logical block size, bytes (512 if not offered) */
	uint32_t seg_max;         /* data segments per request the driver uses */
	uint32_t size_max;        /* bytes per segment the driver uses */
	uint32_t max_request;     /* bytes per virtio request before splitting */
	/* Bytes of a READ/WRITE (sectors of a DISCARD / WRITE_ZEROES) that an
	 * empty ring takes at once.  No limit: a larger request has its
	 * parts posted as earlier ones complete. */
	uint64_t max_transfer;
	uint64_t max_transfer_dwz;
	unsigned num_queues;      /* queues in use */
	/* Queues the device has (its num_queues with MQ, else 1): the
	 * driver uses num_queues of them (ccdma_vblk_config.num_queues). */
	unsigned device_queues;
	unsigned queue_size;      /* ring size in use */
	uint64_t features;        /* negotiated feature bits */
	bool read_only, flush, discard, write_zeroes;
	bool event_idx, indirect;
	uint32_t max_discard_sectors, max_write_zeroes_sectors;
	/* Persistent bounce slots in use: bytes each (0: none). */
	uint32_t slot_size;
};

/*
 * Set up the device over transport `t`: negotiate features (VERSION_1
 * required; never ACCESS_PLATFORM), read and validate config, create and
 * start the queues.  The transport must outlive the driver.  Returns 0,
 * -EINVAL (bad config; logged), -ENOTSUP (the device lacks VERSION_1, or
 * its config is unusable or refused, e.g. an empty GET_CONFIG reply;
 * logged), -ENOMEM (no memory, or no other resource such as a descriptor
 * for a queue's eventfds; logged), -ENODEV (the device is broken, gone,
 * or failed in a way the transport could not name; logged).  No other
 * value.
 */
CCDMA_API int ccdma_vblk_create(const struct ccdma_virtio_transport *t,
				const struct ccdma_vblk_config *cfg,
				struct ccdma_vblk **out);
/* Stop using the device and free everything.  With requests in flight,
 * each busy queue is first stopped through the transport's queue_stop
 * (vhost: GET_VRING_BASE; the device is not broken), so that the device
 * no longer reads or writes the rings and buffers that are scrubbed and
 * freed; when the transport has no queue_stop or it fails, the device is
 * broken (disconnected) instead.  What the device completed before it
 * stopped completes as usual; the other in-flight requests complete with
 * -ENODEV (their callbacks run).  NULL is a no-op. */
CCDMA_API void ccdma_vblk_destroy(struct ccdma_vblk *b);
/* What was negotiated and read from the config space.  b NULL: *info is
 * zeroed (as ccdma_vblk_get_stats); info NULL: nothing. */
CCDMA_API void ccdma_vblk_get_info(struct ccdma_vblk *b,
				   struct ccdma_vblk_info *info);
CCDMA_API bool ccdma_vblk_broken(struct ccdma_vblk *b);

enum ccdma_vblk_op {
	CCDMA_VBLK_READ = 0,
	CCDMA_VBLK_WRITE,
	CCDMA_VBLK_FLUSH,
	CCDMA_VBLK_DISCARD,
	CCDMA_VBLK_WRITE_ZEROES,
	CCDMA_VBLK_GET_ID,        /* buf of len >= 20 bytes gets the id */
};

/* req->flags */
enum {
	/* WRITE_ZEROES: the device may deallocate the range. */
	CCDMA_VBLK_REQ_UNMAP = 1u << 0,
};

/* req->status while the request is in flight (no errno is positive). */
#define CCDMA_VBLK_PENDING 1

struct ccdma_vblk_req;
typedef void (*ccdma_vblk_done_fn)(struct ccdma_vblk_req *req);

struct ccdma_vblk_req {
	/* Set by the caller. */
	enum ccdma_vblk_op op;
	uint64_t sector;          /* READ, WRITE, DISCARD, WRITE_ZEROES */
	void *buf;                /* READ, WRITE, GET_ID */
	size_t len;               /* bytes: a multiple of 512 for READ, WRITE,
				     DISCARD and WRITE_ZEROES (the range) */
	unsigned flags;           /* CCDMA_VBLK_REQ_* */
	ccdma_vblk_done_fn done;  /* may be NULL */
	void *user;               /* the caller's */
	/* Set by the driver: CCDMA_VBLK_PENDING from a successful submit
	 * until completion, then the request's status. */
	int status;
	/* Private to the driver. */
	struct ccdma_vblk_req *_next;
	unsigned _parts, _parts_done;
	int _err;
	uint32_t _queue;
	uint64_t _off, _chunk;
};

/* Post a request on queue q (see the header comment for errors).  A
 * request larger than the device takes in one virtio request is split
 * (see Splitting) and completes when every part has (status: the first
 * error of any part; no part is posted after one failed).  Never blocks. */
CCDMA_API int ccdma_vblk_submit(struct ccdma_vblk *b, unsigned q,
				struct ccdma_vblk_req *req);
/* Complete what the device has finished on queue q without blocking, and
 * post more parts of a split request that has parts left.  Returns the
 * number of requests completed (callbacks run), -ENODEV once the device
 * is broken (after completing the in-flight ones), or -EINVAL (b NULL or
 * no queue q). */
CCDMA_API int ccdma_vblk_poll(struct ccdma_vblk *b, unsigned q);
/* As poll, but when nothing is complete block up to timeout_ns
 * (UINT64_MAX: no limit) for the device's next completion.  When a split
 * request has parts left and nothing is in flight on the queue, it blocks
 * for bounce memory instead (the pool's bounded wait, which may exceed
 * timeout_ns) and fails that request with -ENOMEM when none comes.
 * Returns the number completed (> 0), -ETIMEDOUT, -ENODEV, -EINVAL (b
 * NULL or no queue q). */
CCDMA_API int ccdma_vblk_wait(struct ccdma_vblk *b, unsigned q,
			      uint64_t timeout_ns);
/* Requests submitted on queue q and not yet completed. */
CCDMA_API unsigned ccdma_vblk_inflight(struct ccdma_vblk *b, unsigned q);

/* Synchronous helpers on queue 0: return the request's status.  Any
 * length (a multiple of 512): one request, split by the driver.  Returns
 * 0, -EINVAL (b NULL, or the request is bad, see submit), -EROFS,
 * -EOPNOTSUPP, -EIO, -ENODEV, or:
 *   -ETIMEDOUT  the device completed nothing on queue 0 for
 *               sync_timeout_ms (ccdma_vblk_config): it is stalled, now
 *               broken, and every request in flight on it (the caller's
 *               async ones too) completed with -ENODEV;
 *   -ENOMEM     no bounce memory for even one block, with nothing in
 *               flight on queue 0 that would free some, after the pool's
 *               bounded wait (CCDMA_POOL_WAIT_DEFAULT_NS, 1 s).  Memory
 *               held by the caller itself (its mappings, its requests
 *               in flight on other queues) counts: a helper does not
 *               complete those, so it sleeps the full wait before it
 *               fails.  Requests on
 *               queue 0 are completed while the helper waits (their
 *               callbacks run on the helper's thread). */
CCDMA_API int ccdma_vblk_read(struct ccdma_vblk *b, uint64_t sector,
			      void *buf, size_t len);
CCDMA_API int ccdma_vblk_write(struct ccdma_vblk *b, uint64_t sector,
			       const void *buf, size_t len);
CCDMA_API int ccdma_vblk_flush(struct ccdma_vblk *b);
CCDMA_API int ccdma_vblk_discard(struct ccdma_vblk *b, uint64_t sector,
				 uint64_t nsectors);
CCDMA_API int ccdma_vblk_write_zeroes(struct ccdma_vblk *b, uint64_t sector,
				      uint64_t nsectors, bool unmap);
/* The device's id string (up to 20 bytes, NUL-terminated into id[21]). */
CCDMA_API int ccdma_vblk_get_id(struct ccdma_vblk *b, char id[21]);

/* Driver counters (all queues). */
struct ccdma_vblk_stats {
	/* split_parts: parts of the requests larger than one part at the
	 * device's limits (max_request, max_discard_sectors, ...); counted at
	 * submit, whatever the pool then made of them. */
	uint64_t submitted, completed, split_parts;
	uint64_t errors;           /* requests completed with status != 0 */
	uint64_t notifications;    /* kicks sent */
	uint64_t interrupts;       /* waits that blocked and were signalled */
	uint64_t used_len_clamped; /* used lengths above what was posted */
	/* Reads the device completed as good with a used length short of
	 * the data (failed with -EIO: bytes beyond it are not used). */
	uint64_t short_reads;
	/* Reconnects that succeeded (ccdma_vblk_config.reconnect_ms). */
	uint64_t reconnects;
	/* Persistent bounce slots (ccdma_vblk_config.slot_size): request
	 * parts that went through one; slots held now, and the pool memory
	 * they pin (slots x slot_size). */
	uint64_t slot_parts, slots, slot_bytes;
};
/* The counters now.  b NULL: *st is zeroed; st NULL: nothing. */
CCDMA_API void ccdma_vblk_get_stats(struct ccdma_vblk *b,
				    struct ccdma_vblk_stats *st);

#ifdef __cplusplus
}
#endif
#endif /* CCDMA_VIRTIO_BLK_H */
