/* SPDX-License-Identifier: MIT */
/*
 * ccdma-devsim: the project's vhost-user-blk back-end, a device process.
 *
 * The front-end (the confidential "guest") hands this process nothing but
 * the file descriptors of its shared memory regions; everything the device
 * touches goes through the region table below, and every address a
 * descriptor or ring setup names is checked to lie wholly inside one
 * region.  The front-end is a peer, not trusted: every vhost-user message
 * is validated against a table (vu.c) before it is acted on, and anything
 * malformed marks the connection *broken*, which stops all work on it and
 * closes it.  The process then waits for the next connection.
 *
 * Files:
 *   main.c  options, the listening socket, signals, the event loop
 *   vu.c    vhost-user messages: table-driven validation and handlers
 *   mem.c   the region table: mmap, overlap checks, address translation
 *   vq.c    split virtqueues: chain walking, completion, notification
 *   blk.c   virtio-blk requests on a RAM or file-backed disk
 *
 * Misbehaviour switches (later issues) go into struct ds_opts; every
 * used-ring write goes through ds_vq_complete() and every publication of
 * the used index through ds_vq_publish(), so that is where a deliberately
 * hostile device will bend the rules.
 *
 * Single-threaded: one connection at a time, one epoll loop.
 */
#ifndef CCDMA_DEVSIM_H
#define CCDMA_DEVSIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "vhost/vhost_proto.h"
#include "virtio/virtio_ring.h"

#define DS_MAX_QUEUES 16u
#define DS_MAX_MEM_SLOTS 32u
#define DS_ID_STRING "ccdma-devsim"
/* The most segments one request may have: a chain is never longer than
 * its queue, and queues are at most this long. */
#define DS_MAX_QUEUE_SIZE CCDMA_VRING_MAX_NUM

/* Command-line options.  Misbehaviour switches for the hostile-device
 * tests belong here too. */
struct ds_opts {
	const char *socket;
	const char *file;        /* NULL: RAM disk */
	const char *log_regions; /* NULL: no region log */
	uint64_t size;           /* disk bytes, a multiple of blk_size */
	unsigned queues;
	unsigned queue_size;     /* largest SET_VRING_NUM accepted */
	unsigned seg_max;
	unsigned size_max;
	unsigned blk_size;
	unsigned poll_us;        /* busy-poll rings this long before sleeping */
	bool read_only;
	bool no_mem_slots;
	bool no_reply_ack;
	bool no_event_idx;
	bool no_indirect;
	bool no_flush;
	bool no_discard;
	bool no_write_zeroes;
	bool once;
	bool quiet;
};

/* Counters printed at exit. */
struct ds_stats {
	uint64_t connections;
	uint64_t protocol_errors;
	uint64_t kicks;
	uint64_t calls;
	uint64_t req_in, req_out, req_flush, req_get_id, req_discard, req_wz;
	uint64_t req_unsupp;
	uint64_t req_ioerr;
	uint64_t bytes_in, bytes_out;
};

/* One mapped region of the front-end's shared memory. */
struct ds_region {
	uint64_t gpa;          /* guest_phys_addr */
	uint64_t size;
	uint64_t uaddr;        /* front-end user address */
	uint64_t mmap_offset;
	void *map;             /* our mapping of [0, mmap_offset + size) */
	size_t map_len;
	uint8_t *host;         /* map + mmap_offset: gpa maps here */
	char file[96];         /* what the fd named, for --log-regions */
};

struct ds_mem {
	struct ds_region r[DS_MAX_MEM_SLOTS]; /* sorted by gpa, disjoint */
	unsigned n;
	unsigned hint;         /* last region a gpa lookup hit */
};

/* One device-visible piece of a request, already translated. */
struct ds_seg {
	uint8_t *p;            /* NULL: the address lay outside every region */
	uint32_t len;
	bool write;            /* device-writable */
};

struct ds_vq {
	unsigned index;
	unsigned num;          /* 0 until SET_VRING_NUM */
	bool addr_set;
	bool enabled;          /* SET_VRING_ENABLE 1 */
	bool started;          /* kick fd + translated rings + enabled */
	int kick_fd, call_fd, err_fd;
	struct ccdma_vu_vring_addr addr;
	struct ccdma_vring_desc *desc;
	struct ccdma_vring_avail *avail;
	struct ccdma_vring_used *used;
	uint16_t last_avail;   /* next avail entry to take */
	uint16_t used_idx;     /* our copy of used->idx */
	uint16_t signalled_used; /* used idx at the last call */
	bool signalled_valid;
	struct ds_seg *segs;   /* scratch for one chain, num entries */
	struct iovec *iov;     /* scratch for file I/O, num entries */
	unsigned pending;      /* completions not yet published */
};

struct ds_disk {
	uint8_t *ram;          /* RAM disk (NULL for a file) */
	int fd;                /* file-backed disk, else -1 */
	uint64_t size;
};

struct ds_conn {
	int fd;                /* -1: no connection */
	bool broken;
	bool active;           /* at least one message was received */
	unsigned req_errs_logged; /* ds_req_err lines so far */
	uint64_t features;     /* acked by SET_FEATURES */
	uint64_t protocol_features;
	bool owner;
	struct ds_mem mem;
	struct ds_vq vq[DS_MAX_QUEUES];
};

struct ds_dev {
	struct ds_opts opt;
	struct ds_stats st;
	struct ds_disk disk;
	struct ds_conn conn;
	uint64_t offered_features;
	uint64_t offered_protocol_features;
	uint8_t config[CCDMA_VBLK_CFG_SIZE];
	int epfd;
	int log_fd;            /* --log-regions, else -1 */
};

/* Logging: messages go to stderr with a "ccdma-devsim: " prefix; dbg only
 * when not --quiet.  Errors are always printed. */
void ds_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ds_info(const struct ds_dev *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* A failed request, logged for the first few per connection only: a
 * driver must not be able to flood the log. */
void ds_req_err(struct ds_dev *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Mark the connection broken (logged once); returns -EPROTO. */
int ds_conn_fail(struct ds_dev *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* mem.c */
int ds_mem_add(struct ds_dev *d, const struct ccdma_vu_region *reg, int fd,
	       const char *op);
int ds_mem_remove(struct ds_dev *d, const struct ccdma_vu_region *reg);
int ds_mem_set_table(struct ds_dev *d, const struct ccdma_vu_region *regs,
		     unsigned n, const int *fds);
void ds_mem_clear(struct ds_mem *m);
/* Host pointer of guest physical [gpa, gpa + len), or NULL. */
void *ds_mem_gpa(struct ds_mem *m, uint64_t gpa, uint64_t len);
/* Host pointer of front-end user address [ua, ua + len), or NULL. */
void *ds_mem_uaddr(const struct ds_mem *m, uint64_t ua, uint64_t len);

/* vq.c */
void ds_vq_init(struct ds_vq *vq, unsigned index);
void ds_vq_reset(struct ds_dev *d, struct ds_vq *vq);
/* Start the ring if it has everything it needs; stop it if its rings no
 * longer translate.  Returns 0, or -EPROTO after breaking the connection. */
int ds_vq_update(struct ds_dev *d, struct ds_vq *vq);
void ds_vq_stop(struct ds_dev *d, struct ds_vq *vq);
/* Process everything available; signal the driver once. */
void ds_vq_kick(struct ds_dev *d, struct ds_vq *vq);
/* Process whatever is available without sleeping; true if any was. */
bool ds_vq_poll(struct ds_dev *d, struct ds_vq *vq);
void ds_vq_complete(struct ds_dev *d, struct ds_vq *vq, uint16_t head,
		    uint32_t len);
void ds_vq_publish(struct ds_dev *d, struct ds_vq *vq);

/* blk.c */
int ds_disk_open(struct ds_dev *d);
void ds_disk_close(struct ds_disk *disk);
void ds_blk_config(struct ds_dev *d);
/* Execute one request whose segments are segs[0..n); returns the used
 * length (bytes written into device-writable buffers). */
uint32_t ds_blk_request(struct ds_dev *d, struct ds_vq *vq,
			struct ds_seg *segs, unsigned n);

/* vu.c */
/* Read and handle one message; on a protocol error or EOF the connection
 * is marked broken.  */
void ds_vu_handle(struct ds_dev *d);
void ds_conn_close(struct ds_dev *d);
uint64_t ds_offered_features(const struct ds_opts *o);
uint64_t ds_offered_protocol_features(const struct ds_opts *o);

#endif /* CCDMA_DEVSIM_H */
