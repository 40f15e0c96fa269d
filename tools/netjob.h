/* SPDX-License-Identifier: MIT */
/*
 * The engine of ccdma-net and of the virtio-net tests: open a virtio-net
 * device over vhost-user, start a back-end (ccdma-devsim --net, or DPDK's
 * dpdk-testpmd with a net_vhost port in io loop), and run an echo: frames
 * carrying a sequence number and a pattern go out, come back, and each is
 * checked.
 */
#ifndef CCDMA_TOOLS_NETJOB_H
#define CCDMA_TOOLS_NETJOB_H

#include <ccdma/platform.h>
#include <ccdma/vhost.h>
#include <ccdma/virtio_net.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "blkjob.h"

/* The most frames one echo step sends or takes back per call. */
#define NETJOB_BATCH_MAX 32u

/* One connection: front-end and driver, and the frames to send (private
 * memory in confidential mode, the device's coherent memory in direct
 * mode: then nothing is bounced). */
struct netjob {
	struct ccdma_vhost *h;
	struct ccdma_vnet *n;
	struct ccdma_vnet_info info;
	enum ccdma_mode mode;
	unsigned window;          /* frames in flight at most */
	unsigned batch;           /* frames per ccdma_vnet_send() call at
				   * most, 1..NETJOB_BATCH_MAX (netjob_open
				   * sets NETJOB_BATCH_MAX; change it after) */
	uint32_t frame_cap;
	uint8_t **tx;             /* window buffers of frame_cap bytes */
	uint8_t *rx;              /* one receive buffer of frame_cap bytes */
	ccdma_addr_t *tx_dma;     /* direct mode: coherent addresses */
	/* Receive with ccdma_vnet_recv_zc() (frames checked in place and
	 * given back at once) instead of ccdma_vnet_recv(); set after
	 * netjob_open. */
	bool zero_copy;
	/* netjob_open_pair: the device and connection are the base job's. */
	bool pair_job;
};

/* Connect to `sock` and create the driver with vcfg (NULL: defaults).
 * window 0: as many frames of frame_cap bytes as the receive ring holds
 * at once, at most 64.  0, or the negative errno after printing why. */
int netjob_open(struct netjob *j, const char *sock, enum ccdma_mode mode,
		const struct ccdma_vnet_config *vcfg, uint32_t frame_cap,
		unsigned window);
void netjob_close(struct netjob *j);
/* A job on queue pair `pair` of base's device (base opened with
 * vcfg->queue_pairs above pair): base's connection, mode, window, batch
 * and zero_copy, frames of its own.  Close it before base.  0, or the
 * negative errno after printing why. */
int netjob_open_pair(struct netjob *j, const struct netjob *base, unsigned pair);

/* What an echo run found. */
struct netjob_echo {
	uint64_t sent, received;
	/* lost: sent and not back (echo), or not used by the device (tx);
	 * unsent: never sent, because the run ended early (an error, or
	 * nothing moved for idle_ms). */
	uint64_t lost, duplicated, reordered, corrupt, unsent;
	uint64_t ns;              /* wall time of the run */
	uint64_t bytes;           /* netjob_rx: frame bytes received */
	uint64_t sends;           /* ccdma_vnet_send() calls that took frames */
	uint64_t max_burst;       /* the most frames one of them took */
	int error;                /* 0, or the driver's error that ended it */
};

/* Send `count` frames of `size` bytes, at most j->batch per
 * ccdma_vnet_send() call (j->batch outside 1..NETJOB_BATCH_MAX: -1 with
 * e->error -EINVAL), take each back and check it
 * (length, sequence number, every byte of the pattern).  Frames not back
 * within idle_ms of the last progress are lost.  progress (may be NULL)
 * is called about every 0.5 s.  Returns 0 when every frame came back
 * intact, 1 when some did not (the counts say how), -1 on a driver error
 * (e->error). */
int netjob_echo(struct netjob *j, uint32_t size, uint64_t count,
		unsigned idle_ms, struct netjob_echo *e,
		void (*progress)(const struct netjob_echo *e, void *arg),
		void *arg);

/* Send only: `count` frames of `size` bytes (as netjob_echo, at most
 * j->batch per call; each buffer is written whole once, then each frame
 * only gets its sequence number, as DPDK's txonly writes only its
 * headers) to a back-end that takes them (testpmd rxonly),
 * until the device has used every one.  e->received counts the frames the
 * device gave back as sent, e->lost those it did not within idle_ms of
 * the last progress.  0 when every frame was sent and used, 1 when some
 * were not, -1 on bad arguments or a driver error (e->error). */
int netjob_tx(struct netjob *j, uint32_t size, uint64_t count,
	      unsigned idle_ms, struct netjob_echo *e);
/* Receive only: take `count` frames from a back-end that sends them
 * (testpmd txonly), at most j->batch per ccdma_vnet_recv() call (into the
 * send buffers; e->sends counts the calls that took frames), counting
 * frames and bytes; a frame the driver marked
 * bad or shorter than an Ethernet header is corrupt.  Stops idle_ms after
 * the last frame.  0 when count frames came and none was corrupt, 1 when
 * not, -1 on a driver error (e->error). */
int netjob_rx(struct netjob *j, uint64_t count, unsigned idle_ms,
	      struct netjob_echo *e);

/* Round trips of a ping-pong, in ns, over the frames that came back. */
struct netjob_lat {
	uint64_t count, min, p50, p90, p99, p999, max, mean;
};
/* Ping-pong: one frame in flight at a time, `count` frames of `size`
 * bytes; each round trip is timed from the send call to the frame back
 * and checked.  A frame not back within idle_ms is lost (the next one
 * goes); a frame back with another sequence number counts as duplicated,
 * a damaged one as corrupt.  lat gets the percentiles.  0 when every frame
 * came back intact, 1 when not, -1 on bad arguments or a driver error
 * (e->error). */
int netjob_pingpong(struct netjob *j, uint32_t size, uint64_t count,
		    unsigned idle_ms, struct netjob_echo *e,
		    struct netjob_lat *lat);

/* Frame i of an echo (size bytes) into p; check a received one: 0 intact,
 * else -1 with *seq set when the sequence number was readable (< count). */
void netjob_frame(uint8_t *p, uint32_t size, uint64_t seq);
int netjob_frame_check(const uint8_t *p, uint32_t len, uint32_t size,
		       uint64_t count, uint64_t *seq);

/* DPDK's testpmd: the program (`path`, else dpdk-testpmd on PATH) into
 * buf; -1 when there is none (after saying
 * which package has it). */
int netjob_testpmd_find(char *buf, size_t len, const char *path);
/*
 * Start testpmd with a vhost-user net port on a fresh socket in its own
 * directory (a unique --file-prefix too, so runs do not collide), pinned
 * to one CPU, forwarding in `fwd` mode ("io" loops every frame back), its
 * output in <dir>/testpmd.log; wait until the socket accepts.  0, or -1
 * after printing why (nothing left running).  netjob_testpmd_run with
 * netjob_testpmd_init's defaults.
 */
int netjob_testpmd_start(struct blkjob_proc *d, const char *prog,
			 const char *fwd);

/* How netjob_testpmd_run starts testpmd. */
struct netjob_testpmd {
	const char *fwd;          /* --forward-mode: io, rxonly, txonly, ... */
	unsigned queues;          /* queue pairs of its port (0 counts as 1) */
	int cpu;                  /* the CPU of both its lcores; -1: the first
				   * one this process may run on */
	/* NULL: a net_vhost back-end listening on a fresh socket (d->sock),
	 * waited for until it accepts.  Else DPDK's own net_virtio_user
	 * front-end, connecting to the back-end listening on this path; it
	 * is not waited for (its log says when it forwards). */
	const char *virtio_user;
	/* More testpmd options after "--" (e.g. "--txpkts=1500"),
	 * NULL-terminated; NULL for none. */
	const char *const *args;
	/* --stats-period: seconds between the statistics it prints to its
	 * log (Rx-pps, Tx-pps); 0: 1000, never within a run. */
	unsigned stats_period;
};
/* Defaults: fwd, 1 queue pair, the first CPU, a back-end, no options. */
void netjob_testpmd_init(struct netjob_testpmd *o, const char *fwd);
/* Start testpmd as `o` says, in its own directory and with its own
 * --file-prefix, its output in <dir>/testpmd.log.  0, or -1 after
 * printing why (nothing left running). */
int netjob_testpmd_run(struct blkjob_proc *d, const char *prog,
		       const struct netjob_testpmd *o);
/* The log path of a testpmd started above. */
void netjob_testpmd_log(const struct blkjob_proc *d, char *buf, size_t len);

/* Start ccdma-devsim --net (blkjob_devsim_find(path)) with extra arguments
 * (NULL-terminated, may be NULL).  0 or -1. */
int netjob_devsim_start(struct blkjob_proc *d, const char *path,
			const char *const *extra);
/* Stop either back-end and remove its directory.  Its exit status. */
int netjob_stop(struct blkjob_proc *d);

#endif /* CCDMA_TOOLS_NETJOB_H */
