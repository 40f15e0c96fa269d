/* SPDX-License-Identifier: MIT */
/*
 * ccdma virtio-net driver over a virtio transport (ccdma/virtio.h), with
 * split virtqueues in coherent (shared) memory.  Queue pair i: queue 2i
 * receives, queue 2i + 1 transmits.  One pair unless the config asks for
 * more (queue_pairs): then MQ and CTRL_VQ are required, the device's
 * max_virtqueue_pairs (config space; without config access, half the
 * transport's queues) is checked, and VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET
 * goes over the control queue (queue 2 * max_virtqueue_pairs) at create.
 * Each pair is used through its own handle (ccdma_vnet_pair()) with the
 * same calls: one thread per pair needs no lock but its pair's.
 *
 * Features accepted when offered: VERSION_1 (required), MAC and STATUS
 * (when the transport gives config access), MRG_RXBUF, EVENT_IDX,
 * INDIRECT_DESC (transmit chains), and MQ and CTRL_VQ for more than one
 * pair.  Refused even when offered: every checksum and segmentation
 * offload (CSUM, GUEST_CSUM, the TSO/UFO/USO bits, GUEST_*), the other
 * control-queue features (CTRL_RX, CTRL_VLAN, GUEST_ANNOUNCE,
 * CTRL_MAC_ADDR), MTU, ACCESS_PLATFORM and RING_PACKED.  So every frame travels whole,
 * with its checksums computed by whoever built it, and the device must
 * set no header field but num_buffers.
 *
 * Transmit.  Each frame is a streaming mapping through the dma layer
 * (CCDMA_TO_DEVICE): in confidential mode a private frame is copied into
 * bounce memory (the tax), in direct mode shared memory is handed over as
 * it is.  The 12-byte virtio_net_hdr (all zero) is written by the driver
 * into the queue's coherent memory.  Ownership: from a successful send
 * until ccdma_vnet_tx_complete() returns its `user` cookie, a frame's
 * buffer belongs to the driver and the device; the caller must not
 * change or free it.
 *
 * Receive.  Receive buffers are coherent (shared) memory of the driver's,
 * posted at create and again as soon as their frame is taken: the device
 * writes only there.  Two ways to take a frame:
 *  - ccdma_vnet_recv() copies it out exactly once, into the caller's
 *    private buffer; its buffers are posted again at once.  That copy is
 *    the receive cost in both modes (docs/virtio.md, "virtio-net").
 *  - ccdma_vnet_recv_zc() (zero-copy) lends it in place: the caller reads
 *    the frame where the device wrote it, in shared memory, until it gives
 *    the buffers back with ccdma_vnet_recv_release().  No copy, but the
 *    frame stays in memory the host can read and a hostile device can
 *    still write: only for data the caller accepts as disclosed, and
 *    whatever the caller checks it must first copy into private memory.
 *    While frames are lent the ring is refilled from the spare buffers
 *    (config rx_spare_buffers); without spares, each lent buffer is one
 *    fewer posted until it comes back.  With MRG_RXBUF the buffers are 2048
 * bytes and a frame spans num_buffers of them; without it each buffer
 * holds the header and the largest frame.
 *
 * The device is untrusted.  Every used entry is checked against the
 * driver's private record of what it posted: the id in range and in
 * flight, the length no more than the buffer posted, and, on receive, at
 * least the header; the header's num_buffers is 1 without MRG_RXBUF and,
 * with it, no more than the receive buffers then posted; the header asks
 * for no checksum (NEEDS_CSUM) nor segmentation (gso_type).  A device
 * that breaks one of these rules is broken: the transport's fail() is
 * called, frames being sent are given back by ccdma_vnet_tx_complete()
 * (counted as tx_dropped), and every later send, recv and wait fails with
 * -ENODEV at once.  A received frame longer than max_frame is dropped and
 * counted (rx_oversize), not a fault: the device may carry what the peer
 * sent.
 *
 * Threads: send / tx_complete (the transmit queue) and recv / wait (the
 * receive queue) each take their queue's lock: one thread may send while
 * another receives.
 */
#ifndef CCDMA_VIRTIO_NET_H
#define CCDMA_VIRTIO_NET_H

#include <ccdma/common.h>
#include <ccdma/virtio.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

/* virtio-net feature bits (virtio 1.x, 5.1.3) the driver knows of. */
#define CCDMA_VIRTIO_NET_F_CSUM 0
#define CCDMA_VIRTIO_NET_F_GUEST_CSUM 1
#define CCDMA_VIRTIO_NET_F_MTU 3
#define CCDMA_VIRTIO_NET_F_MAC 5
#define CCDMA_VIRTIO_NET_F_MRG_RXBUF 15
#define CCDMA_VIRTIO_NET_F_STATUS 16
#define CCDMA_VIRTIO_NET_F_CTRL_VQ 17
#define CCDMA_VIRTIO_NET_F_MQ 22

/* The virtio_net_hdr the driver uses (VERSION_1: num_buffers always). */
#define CCDMA_VNET_HDR_LEN 12u
/* Receive buffer size with MRG_RXBUF (header included). */
#define CCDMA_VNET_MRG_BUF 2048u
/* The largest max_frame: what 16-bit lengths and a 64 KiB frame allow. */
#define CCDMA_VNET_MAX_FRAME 65535u
/* The shortest frame send takes: an Ethernet header. */
#define CCDMA_VNET_MIN_FRAME 14u

struct ccdma_vnet;

struct ccdma_vnet_config {
	/* Ring size of each queue: 0 = 256 (capped to the device's). */
	unsigned queue_size;
	/* The largest frame (Ethernet header included, virtio-net header
	 * not) sent or received: 0 = 1514 (MTU 1500).  A jumbo frame
	 * (9014) without MRG_RXBUF makes every receive buffer that big. */
	uint32_t max_frame;
	/* Feature bits not to accept even when offered (tests, benchmarks):
	 * e.g. 1ull << CCDMA_VIRTIO_NET_F_MRG_RXBUF.  VERSION_1: -EINVAL. */
	uint64_t refuse_features;
	/* Receive buffers beyond the ring's (0..CCDMA_VNET_MAX_SPARES; 0 =
	 * none), in coherent memory allocated at create: they keep the ring
	 * full while ccdma_vnet_recv_zc() frames are lent. */
	unsigned rx_spare_buffers;
	/* Queue pairs (0 or 1: one; up to 32768, and no more than the
	 * device's max_virtqueue_pairs).  More than one needs MQ and CTRL_VQ
	 * from the device, else create fails with -ENOTSUP.  Each pair has
	 * its own rings, receive buffers (and spares) and statistics. */
	unsigned queue_pairs;
};
#define CCDMA_VNET_MAX_SPARES 32768u
CCDMA_API void ccdma_vnet_config_init(struct ccdma_vnet_config *cfg);

struct ccdma_vnet_info {
	uint64_t features;        /* negotiated */
	uint64_t offered;         /* what the device offered */
	uint8_t mac[6];           /* the device's, when has_mac */
	bool has_mac;
	/* Link state (STATUS negotiated: as read at create; else true). */
	bool link_up;
	bool mrg_rxbuf, event_idx, indirect;
	unsigned queue_size;
	uint32_t max_frame;
	uint32_t rx_buf_size;     /* bytes per receive buffer, header included */
	unsigned rx_spare_buffers;
	unsigned queue_pairs;     /* in use */
	unsigned max_queue_pairs; /* the device's (1 without MQ) */
};

/*
 * Set up the device over transport `t` (which must outlive the driver and
 * have at least two queues): negotiate, read the MAC and status when the
 * transport has config access (else MAC and STATUS are not accepted),
 * create both queues and post every receive buffer.  Returns 0,
 * -EINVAL (NULL argument, or a bad config: queue_size not a power of two
 * from 4 to 32768, max_frame above CCDMA_VNET_MAX_FRAME or below 64,
 * VERSION_1 refused; logged), -ENOTSUP (no VERSION_1, fewer than two
 * queues, a queue size the device gives that is unusable; logged),
 * -ENOMEM (no memory for rings or receive buffers), -ENODEV (the device is
 * broken or failed; logged).  rx_spare_buffers above CCDMA_VNET_MAX_SPARES
 * or queue_pairs above 32768: -EINVAL.  More than one queue pair: -ENOTSUP
 * (logged) when the device offers no MQ with CTRL_VQ, its
 * max_virtqueue_pairs is unusable (0, above 32768, or its control queue
 * beyond the transport's queues) or smaller than asked, or it answers
 * VQ_PAIRS_SET with VIRTIO_NET_ERR; -ENODEV (broken, logged) when the
 * answer never comes (5 s) or is malformed.  The handle returned is queue
 * pair 0.
 */
CCDMA_API int ccdma_vnet_create(const struct ccdma_virtio_transport *t,
				const struct ccdma_vnet_config *cfg,
				struct ccdma_vnet **out);
/*
 * Queue pair i (0 .. info.queue_pairs - 1) of the device created as n:
 * a handle for send, tx_complete, recv, recv_zc, recv_release, wait and
 * get_stats, valid until ccdma_vnet_destroy(n).  NULL when i is out of
 * range or n is NULL.  Pair 0 is n itself.
 */
CCDMA_API struct ccdma_vnet *ccdma_vnet_pair(struct ccdma_vnet *n, unsigned i);
/* Stop every queue (the transport's queue_stop, else the device is
 * broken) and free everything, every pair's too; only through pair 0 (on
 * another pair: logged, nothing done).  Frames still being sent are unmapped;
 * their cookies are lost (the caller owns their buffers again).  NULL is a
 * no-op. */
CCDMA_API void ccdma_vnet_destroy(struct ccdma_vnet *n);
CCDMA_API void ccdma_vnet_get_info(struct ccdma_vnet *n,
				   struct ccdma_vnet_info *info);
CCDMA_API bool ccdma_vnet_broken(struct ccdma_vnet *n);

/* One frame. */
struct ccdma_vnet_pkt {
	void *buf;       /* send: the frame; recv: where it is copied */
	uint32_t len;    /* send: frame bytes; recv: set to the frame's length */
	uint32_t cap;    /* recv: bytes buf holds (send: unused) */
	void *user;      /* send: the cookie ccdma_vnet_tx_complete returns */
	/* recv: 0, or -EMSGSIZE when the frame was longer than cap (the
	 * first cap bytes were copied, len says how long it was). */
	int status;
};

/*
 * Post up to `count` frames on the transmit queue and kick the device once
 * (when it wants kicks).  Returns how many were posted from the start of
 * pkts (> 0; the rest were not), or, when none was: -EINVAL (n or pkts
 * NULL, count 0, a NULL buffer, a frame shorter than CCDMA_VNET_MIN_FRAME
 * (zero-length included); logged), -EMSGSIZE (a frame longer than
 * max_frame; logged), -EAGAIN (the ring is full: take completions with
 * ccdma_vnet_tx_complete and retry), -ENOMEM (no bounce memory now), -EIO
 * (the dma layer cannot map the frame at all; logged by it), -ENODEV.  A
 * bad frame after the first ends the batch there (the count is returned).
 */
CCDMA_API int ccdma_vnet_send(struct ccdma_vnet *n,
			      const struct ccdma_vnet_pkt *pkts, unsigned count);
/*
 * Take the cookies of up to `max` sent frames that the device has
 * finished (their buffers are the caller's again), oldest first.  After
 * the device broke, the frames it never finished come back here too.
 * Returns the number of cookies stored (0: none now), -EINVAL (NULL
 * argument), or -ENODEV when the device is broken and nothing is left to
 * give back.
 */
CCDMA_API int ccdma_vnet_tx_complete(struct ccdma_vnet *n, void **user,
				     unsigned max);
/*
 * Copy up to `count` received frames into the caller's buffers (pkts[i].buf,
 * cap bytes) and post their receive buffers again; never blocks.  Returns
 * the number of frames received (0: none now), -EINVAL (NULL argument, or
 * a NULL buf), or -ENODEV (the device is broken: already, or by a used
 * entry or header seen now; frames copied before the fault in this call
 * are lost).
 */
CCDMA_API int ccdma_vnet_recv(struct ccdma_vnet *n, struct ccdma_vnet_pkt *pkts,
			      unsigned count);

/* The most receive buffers a lent frame spans: a CCDMA_VNET_MAX_FRAME
 * frame and its header in CCDMA_VNET_MRG_BUF buffers. */
#define CCDMA_VNET_ZC_SEGS \
	((CCDMA_VNET_MAX_FRAME + CCDMA_VNET_HDR_LEN + CCDMA_VNET_MRG_BUF - 1) / \
	 CCDMA_VNET_MRG_BUF)

/* A frame lent in place by ccdma_vnet_recv_zc(). */
struct ccdma_vnet_zc {
	uint32_t len;             /* frame bytes (virtio-net header excluded) */
	unsigned nseg;            /* 1.. CCDMA_VNET_ZC_SEGS */
	struct {
		const void *buf;  /* in shared receive memory */
		uint32_t len;
	} seg[CCDMA_VNET_ZC_SEGS];   /* the frame, in order */
	/* The driver's: which buffers to give back.  Do not change. */
	uint32_t buf_id[CCDMA_VNET_ZC_SEGS];
};

/*
 * Zero-copy receive: lend up to `count` received frames in place, in the
 * receive buffers the device wrote (each frame one segment per buffer:
 * one with MRG_RXBUF for frames up to CCDMA_VNET_MRG_BUF - 12 bytes, and
 * without it), and post free buffers in their place; never blocks.
 * Ownership: the frames' memory is the caller's to read (not to write)
 * until ccdma_vnet_recv_release() gives them back; it is shared memory,
 * which the host can read and a hostile device can change at any time, so
 * the caller copies into private memory anything it checks or keeps
 * secret.  A frame longer than max_frame, or spread over more than
 * CCDMA_VNET_ZC_SEGS buffers, is dropped (rx_oversize).  Frames lent and
 * not given back when the driver is destroyed are gone with it.  Returns
 * the number of frames lent (0: none now), -EINVAL (NULL argument), or
 * -ENODEV as ccdma_vnet_recv().  ccdma_vnet_recv() and this may be mixed.
 */
CCDMA_API int ccdma_vnet_recv_zc(struct ccdma_vnet *n,
				 struct ccdma_vnet_zc *frames, unsigned count);
/*
 * Give back `count` frames lent by ccdma_vnet_recv_zc() (their buffers are
 * posted again); never blocks.  Returns 0, or -EINVAL (NULL argument, or a
 * frame that is not lent now: released already, changed, or not from
 * ccdma_vnet_recv_zc() of this driver; logged), and then none of them is
 * given back.  After the device broke it still takes them back (0).
 */
CCDMA_API int ccdma_vnet_recv_release(struct ccdma_vnet *n,
				      const struct ccdma_vnet_zc *frames,
				      unsigned count);

/* ccdma_vnet_wait() events */
enum {
	CCDMA_VNET_EV_RX = 1u << 0,  /* a frame to receive */
	CCDMA_VNET_EV_TX = 1u << 1,  /* a sent frame finished */
};
/*
 * Block until one of `events` is ready, at most timeout_ns (UINT64_MAX: no
 * limit).  With both events the driver waits for the receive queue's
 * interrupt and looks at the transmit queue when it comes or the time is
 * up.  Returns the events ready (> 0), -ETIMEDOUT, -EINVAL (NULL, or no
 * known event), -ENODEV.
 */
CCDMA_API int ccdma_vnet_wait(struct ccdma_vnet *n, unsigned events,
			      uint64_t timeout_ns);

struct ccdma_vnet_stats {
	uint64_t tx_packets, tx_bytes;     /* posted */
	uint64_t tx_completed;
	uint64_t tx_dropped;               /* given back after a break */
	uint64_t rx_packets, rx_bytes;     /* copied out */
	uint64_t rx_buffers;               /* used receive buffers */
	uint64_t rx_oversize;              /* dropped: longer than max_frame */
	uint64_t rx_truncated;             /* longer than the caller's cap */
	uint64_t rx_zero_copy;             /* frames lent by recv_zc */
	uint64_t rx_lent;                  /* receive buffers lent now */
	uint64_t kicks;
	uint64_t interrupts;               /* waits that blocked and were signalled */
	/* Transmit used entries with a length (a device-writable length was
	 * never posted; the length is ignored). */
	uint64_t tx_len_ignored;
};
CCDMA_API void ccdma_vnet_get_stats(struct ccdma_vnet *n,
				    struct ccdma_vnet_stats *st);

#ifdef __cplusplus
}
#endif
#endif /* CCDMA_VIRTIO_NET_H */
