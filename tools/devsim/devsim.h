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
 *   net.c   --net: a virtio-net echo device instead
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
#include <ccdma/virtio_net.h>

#define DS_MAX_QUEUES 16u
#define DS_MAX_MEM_SLOTS 32u
#define DS_ID_STRING "ccdma-devsim"
/* The most segments one request may have: a chain is never longer than
 * its queue, and queues are at most this long. */
#define DS_MAX_QUEUE_SIZE CCDMA_VRING_MAX_NUM

/* Misbehaviour modes (--misbehave, docs/devsim.md): each is a deliberate
 * attack on the driver.  ds_mb() decides when one fires. */
enum ds_mb {
	/* used ring */
	DS_MB_ID_RANGE, DS_MB_ID_NUM, DS_MB_ID_UNPOSTED, DS_MB_DOUBLE,
	DS_MB_IDX_AHEAD, DS_MB_IDX_BACK, DS_MB_LEN_OVER, DS_MB_LEN_SHORT,
	DS_MB_USED_EARLY,
	/* status and data */
	DS_MB_STATUS_BAD, DS_MB_STATUS_NONE, DS_MB_LATE_WRITE,
	DS_MB_WRITE_OUTSIDE, DS_MB_READ_UNOFFERED,
	/* config space */
	DS_MB_CFG_CHANGE, DS_MB_CFG_MIX, DS_MB_CAPACITY_0, DS_MB_CAPACITY_HUGE,
	DS_MB_BLK_SIZE_0, DS_MB_BLK_SIZE_ODD, DS_MB_SEG_MAX_0,
	DS_MB_SIZE_MAX_0, DS_MB_NUM_QUEUES_0, DS_MB_NUM_QUEUES_HUGE,
	/* vhost-user protocol */
	DS_MB_VU_CODE, DS_MB_VU_SIZE, DS_MB_VU_FDS, DS_MB_VU_ACK_FAIL,
	DS_MB_VU_HANGUP, DS_MB_STALL, DS_MB_SLOW, DS_MB_PAUSE,
	/* virtio-net receive (--net) */
	DS_MB_NET_NB_HIGH, DS_MB_NET_NB_ZERO, DS_MB_NET_LEN_OVER,
	DS_MB_NET_LEN_SHORT, DS_MB_NET_CSUM, DS_MB_NET_GSO, DS_MB_NET_NB_TWO,
	/* virtio-net transmit (--net) */
	DS_MB_NET_TX_RANGE, DS_MB_NET_TX_UNPOSTED, DS_MB_NET_TX_DOUBLE,
	DS_MB_COUNT
};

/* The mode's name on the command line. */
const char *ds_mb_name(unsigned mode);

/* Command-line options, misbehaviour switches included. */
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
	bool net;                /* --net: a virtio-net echo device (net.c) */
	bool no_mrg_rxbuf;
	uint64_t misbehave;      /* bit per enum ds_mb */
	uint64_t mb_after;       /* eligible events let through first */
	uint64_t mb_every;       /* 0: fire once; N: then every Nth event */
	unsigned delay_us;       /* slow: delay per completion */
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
	uint64_t net_tx, net_rx, net_dropped;  /* --net frames */
	/* Regions taken away (REM_MEM_REG, or left out of a new
	 * SET_MEM_TABLE) while a posted request or a running ring pointed
	 * into them: a front-end bug (ds_mem_gone). */
	uint64_t region_gone_busy;
	uint64_t regions_gone;
	/* SET_MEM_TABLE while posted requests were not completed. */
	uint64_t table_busy;
	uint64_t mb_seen[DS_MB_COUNT];  /* eligible events per mode */
	uint64_t mb_fired[DS_MB_COUNT];
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
	uint64_t gpa;          /* the descriptor's address */
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
	/* The last request ds_blk_request executed, for the misbehaviour
	 * modes: its type, its read data, its status byte. */
	uint32_t last_type;    /* ~0u: not executed */
	uint8_t last_status;
	uint8_t *last_statusp; /* NULL: none */
	uint8_t last_status_prev; /* what the driver had put there */
	uint64_t last_off;     /* IN: disk byte offset */
	uint64_t last_data;    /* IN: data bytes */
	unsigned last_nr;      /* first device-writable segment */
	unsigned last_n;
	/* idx-ahead / idx-back: added to every used index published from
	 * the firing on (a value the driver is sure to see). */
	uint16_t idx_skew;
	/* A write held back until the next kick (used-early, late-write). */
	struct {
		unsigned n;
		bool from_disk;    /* else fill with 0xee */
		uint64_t off;
		struct { uint8_t *p; uint32_t len; } s[8];
	} late;
};

struct ds_disk {
	uint8_t *ram;          /* RAM disk (NULL for a file) */
	int fd;                /* file-backed disk, else -1 */
	uint64_t size;
};

struct ds_conn {
	int fd;                /* -1: no connection */
	bool broken;
	bool stalled;          /* misbehave stall: nothing more is answered */
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
	int sig_fd;            /* signalfd of SIGTERM / SIGINT */
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

/* Does misbehaviour `mode` fire at this eligible event?  Counts the
 * event; false at once when the mode is off.  Each firing is logged (the
 * first few per mode) with "misbehave MODE: ...". */
bool ds_mb(struct ds_dev *d, enum ds_mb mode, const char *what);
static inline bool ds_mb_on(const struct ds_dev *d, enum ds_mb mode)
{
	return (d->opt.misbehave >> mode) & 1;
}

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
/* Region r is about to go: count (and log) every posted request not yet
 * taken and every running ring that points into it. */
void ds_mem_gone(struct ds_dev *d, const struct ds_region *r);
/* Posted requests of vq not yet taken that name [gpa, gpa + size). */
unsigned ds_vq_names(struct ds_dev *d, struct ds_vq *vq, uint64_t gpa,
		     uint64_t size);
/* Host pointer of guest physical [gpa, gpa + len), or NULL. */
void *ds_mem_gpa(struct ds_mem *m, uint64_t gpa, uint64_t len);
/* Host pointer of front-end user address [ua, ua + len), or NULL. */
void *ds_mem_uaddr(const struct ds_mem *m, uint64_t ua, uint64_t len);
/* Is host [p, p + len) wholly inside one mapped region? */
bool ds_mem_host_ok(const struct ds_mem *m, const void *p, uint64_t len);

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

/* net.c (--net) */
void ds_net_config(struct ds_dev *d);
/* A transmit chain: its frame goes back on the receive queue.  Returns
 * the transmit used length (0). */
uint32_t ds_net_request(struct ds_dev *d, struct ds_vq *vq,
			struct ds_seg *segs, unsigned n);

/* vu.c */
/* config-change: other values in config space from now on. */
void ds_vu_config_change(struct ds_dev *d);
/* Read and handle one message; on a protocol error or EOF the connection
 * is marked broken.  */
void ds_vu_handle(struct ds_dev *d);
void ds_conn_close(struct ds_dev *d);
uint64_t ds_offered_features(const struct ds_opts *o);
uint64_t ds_offered_protocol_features(const struct ds_opts *o);

#endif /* CCDMA_DEVSIM_H */
