/* SPDX-License-Identifier: MIT */
/*
 * ccdma-devsim: options, the listening socket and the event loop.
 *
 * One epoll set holds the listening socket (only while no front-end is
 * connected: one connection at a time), a signalfd for SIGTERM / SIGINT,
 * the connection and the kick eventfds of its running rings.  Each wakeup
 * handles one vhost-user message or drains a ring; a broken connection is
 * closed at the end of the round, and the device waits for the next one.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "devsim.h"

/* epoll tags; kick fds of ring i use 16 + i. */
#define TAG_LISTEN 1u
#define TAG_SIGNAL 2u
#define TAG_CONN 3u
#define TAG_KICK 16u

void ds_err(const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fprintf(stderr, "ccdma-devsim: %s\n", buf);
}

void ds_info(const struct ds_dev *d, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	if (d->opt.quiet)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fprintf(stderr, "ccdma-devsim: %s\n", buf);
}

#define DS_REQ_ERR_LOG 8u

void ds_req_err(struct ds_dev *d, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	if (d->conn.req_errs_logged > DS_REQ_ERR_LOG)
		return;
	if (d->conn.req_errs_logged++ == DS_REQ_ERR_LOG) {
		ds_err("further failed requests on this connection are only "
		       "counted");
		return;
	}
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	ds_err("%s", buf);
}

static const char *const mb_names[DS_MB_COUNT] = {
	[DS_MB_ID_RANGE] = "id-range",
	[DS_MB_ID_NUM] = "id-num",
	[DS_MB_ID_UNPOSTED] = "id-unposted",
	[DS_MB_DOUBLE] = "double",
	[DS_MB_IDX_AHEAD] = "idx-ahead",
	[DS_MB_IDX_BACK] = "idx-back",
	[DS_MB_LEN_OVER] = "len-over",
	[DS_MB_LEN_SHORT] = "len-short",
	[DS_MB_USED_EARLY] = "used-early",
	[DS_MB_STATUS_BAD] = "status-bad",
	[DS_MB_STATUS_NONE] = "status-none",
	[DS_MB_LATE_WRITE] = "late-write",
	[DS_MB_WRITE_OUTSIDE] = "write-outside",
	[DS_MB_READ_UNOFFERED] = "read-unoffered",
	[DS_MB_CFG_CHANGE] = "config-change",
	[DS_MB_CFG_MIX] = "config-mix",
	[DS_MB_CAPACITY_0] = "capacity-0",
	[DS_MB_CAPACITY_HUGE] = "capacity-huge",
	[DS_MB_BLK_SIZE_0] = "blk-size-0",
	[DS_MB_BLK_SIZE_ODD] = "blk-size-odd",
	[DS_MB_SEG_MAX_0] = "seg-max-0",
	[DS_MB_SIZE_MAX_0] = "size-max-0",
	[DS_MB_NUM_QUEUES_0] = "num-queues-0",
	[DS_MB_NUM_QUEUES_HUGE] = "num-queues-huge",
	[DS_MB_VU_CODE] = "reply-code",
	[DS_MB_VU_SIZE] = "reply-size",
	[DS_MB_VU_FDS] = "reply-fds",
	[DS_MB_VU_ACK_FAIL] = "ack-fail",
	[DS_MB_VU_HANGUP] = "hangup",
	[DS_MB_STALL] = "stall",
	[DS_MB_SLOW] = "slow",
	[DS_MB_PAUSE] = "pause",
	[DS_MB_NET_NB_HIGH] = "net-nb-high",
	[DS_MB_NET_NB_ZERO] = "net-nb-zero",
	[DS_MB_NET_LEN_OVER] = "net-len-over",
	[DS_MB_NET_LEN_SHORT] = "net-len-short",
	[DS_MB_NET_CSUM] = "net-csum",
	[DS_MB_NET_GSO] = "net-gso",
	[DS_MB_NET_NB_TWO] = "net-nb-two",
	[DS_MB_NET_TX_RANGE] = "net-tx-range",
	[DS_MB_NET_TX_UNPOSTED] = "net-tx-unposted",
	[DS_MB_NET_TX_DOUBLE] = "net-tx-double",
};

const char *ds_mb_name(unsigned mode)
{
	return mode < DS_MB_COUNT ? mb_names[mode] : "?";
}

/* Firings logged per mode; the rest are counted in the summary. */
#define DS_MB_LOG 3u

bool ds_mb(struct ds_dev *d, enum ds_mb mode, const char *what)
{
	const struct ds_opts *o = &d->opt;
	/* slow delays every completion unless told otherwise. */
	uint64_t every = o->mb_every ? o->mb_every : mode == DS_MB_SLOW;
	uint64_t n;

	if (!ds_mb_on(d, mode))
		return false;
	n = d->st.mb_seen[mode]++;
	if (n < o->mb_after)
		return false;
	if (d->st.mb_fired[mode] && (!every || (n - o->mb_after) % every))
		return false;
	if (d->st.mb_fired[mode]++ < DS_MB_LOG)
		ds_err("misbehave %s: %s (event %" PRIu64 ")", mb_names[mode],
		       what, n);
	return true;
}

int ds_conn_fail(struct ds_dev *d, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	if (d->conn.broken)
		return -EPROTO;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	ds_err("protocol error, closing the connection: %s", buf);
	d->conn.broken = true;
	d->st.protocol_errors++;
	return -EPROTO;
}

static void usage(FILE *f)
{
	fputs(
"usage: ccdma-devsim --socket PATH [options]\n"
"A vhost-user-blk device process with a RAM or file-backed disk.\n"
"\n"
"  --socket PATH        listen on this Unix socket (a stale one is removed)\n"
"  --size BYTES         disk size, k/m/g/t suffixes (default 64m)\n"
"  --file PATH          file-backed disk, created or extended to --size\n"
"                       (default: a RAM disk)\n"
"  --queues N           request queues, 1..16 (default 1); with --net,\n"
"                       queue pairs, 1..8 (more than 1: MQ and CTRL_VQ\n"
"                       offered, max_virtqueue_pairs N in config space)\n"
"  --net                a virtio-net echo device instead: every frame sent\n"
"                       comes back on the receive queue (one queue pair)\n"
"  --no-mrg-rxbuf       (--net) do not offer VIRTIO_NET_F_MRG_RXBUF\n"
"  --queue-size N       largest ring accepted, a power of two up to 32768\n"
"                       (default 1024)\n"
"  --seg-max N          config seg_max (default 126)\n"
"  --size-max BYTES     config size_max (default 65536)\n"
"  --blk-size N         logical block size, a power of two 512..65536\n"
"                       (default 512)\n"
"  --read-only          offer VIRTIO_BLK_F_RO; writes fail with IOERR\n"
"  --no-mem-slots       do not offer CONFIGURE_MEM_SLOTS\n"
"  --no-reply-ack       do not offer REPLY_ACK\n"
"  --no-event-idx       do not offer VIRTIO_F_EVENT_IDX\n"
"  --no-indirect        do not offer VIRTIO_F_INDIRECT_DESC\n"
"  --no-flush           do not offer VIRTIO_BLK_F_FLUSH\n"
"  --no-discard         do not offer VIRTIO_BLK_F_DISCARD\n"
"  --no-write-zeroes    do not offer VIRTIO_BLK_F_WRITE_ZEROES\n"
"  --log-regions PATH   append a line per memory-table change\n"
"  --poll-us N          poll the rings N microseconds before sleeping\n"
"                       (default 0)\n"
"  --once               exit when the first connection that sent a message\n"
"                       closes (default: serve until SIGTERM / SIGINT)\n"
"  --quiet              no informational messages, no summary\n"
"  --misbehave MODE[,MODE...]\n"
"                       attack the driver on purpose (docs/devsim.md):\n"
"                       id-range id-num id-unposted double idx-ahead\n"
"                       idx-back len-over len-short used-early status-bad\n"
"                       status-none late-write write-outside read-unoffered\n"
"                       config-change config-mix capacity-0 capacity-huge\n"
"                       blk-size-0\n"
"                       blk-size-odd seg-max-0 size-max-0 num-queues-0\n"
"                       num-queues-huge reply-code reply-size reply-fds\n"
"                       ack-fail hangup stall slow pause; with --net:\n"
"                       net-nb-high net-nb-zero net-len-over net-len-short\n"
"                       net-csum net-gso net-nb-two net-tx-range\n"
"                       net-tx-unposted net-tx-double\n"
"  --misbehave-after N  let N eligible events through first (default 0)\n"
"  --misbehave-every N  then fire at every Nth one (default: once)\n"
"  --delay-us N         slow: delay each completion N microseconds\n"
"                       (default 1000)\n"
"  -h, --help           this text\n", f);
}

static int bad_option(const char *opt, const char *arg, const char *want)
{
	fprintf(stderr, "ccdma-devsim: %s: '%s' is not %s\n", opt, arg, want);
	fputs("Try 'ccdma-devsim --help'.\n", stderr);
	return 2;
}

/* "4096", "64k", "1M", "2g": bytes; false when malformed or 0. */
static bool parse_bytes(const char *s, uint64_t *out)
{
	unsigned shift = 0;
	char *end;
	unsigned long long v;

	if (!*s || *s == '-')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return false;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	default: break;
	}
	if (*end || v == 0 || v > (UINT64_MAX >> shift))
		return false;
	*out = (uint64_t)v << shift;
	return true;
}

static bool parse_uint(const char *s, unsigned lo, unsigned hi, unsigned *out)
{
	uint64_t v;
	char *end;

	if (!*s || *s == '-')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || end == s || v < lo || v > hi)
		return false;
	*out = (unsigned)v;
	return true;
}

static bool pow2(unsigned v)
{
	return v && !(v & (v - 1));
}

enum {
	O_SIZE = 256, O_FILE, O_QUEUES, O_QUEUE_SIZE, O_SEG_MAX, O_SIZE_MAX,
	O_BLK_SIZE, O_READ_ONLY, O_NO_MEM_SLOTS, O_NO_REPLY_ACK, O_NO_EVENT_IDX,
	O_NO_INDIRECT, O_NO_FLUSH, O_NO_DISCARD, O_NO_WRITE_ZEROES,
	O_LOG_REGIONS, O_POLL_US, O_ONCE, O_QUIET, O_HELP, O_SOCKET,
	O_MISBEHAVE, O_MB_AFTER, O_MB_EVERY, O_DELAY_US, O_NET, O_NO_MRG_RXBUF,
};

static const struct option long_opts[] = {
	{ "socket", required_argument, NULL, O_SOCKET },
	{ "size", required_argument, NULL, O_SIZE },
	{ "file", required_argument, NULL, O_FILE },
	{ "queues", required_argument, NULL, O_QUEUES },
	{ "queue-size", required_argument, NULL, O_QUEUE_SIZE },
	{ "seg-max", required_argument, NULL, O_SEG_MAX },
	{ "size-max", required_argument, NULL, O_SIZE_MAX },
	{ "blk-size", required_argument, NULL, O_BLK_SIZE },
	{ "read-only", no_argument, NULL, O_READ_ONLY },
	{ "no-mem-slots", no_argument, NULL, O_NO_MEM_SLOTS },
	{ "no-reply-ack", no_argument, NULL, O_NO_REPLY_ACK },
	{ "no-event-idx", no_argument, NULL, O_NO_EVENT_IDX },
	{ "no-indirect", no_argument, NULL, O_NO_INDIRECT },
	{ "no-flush", no_argument, NULL, O_NO_FLUSH },
	{ "no-discard", no_argument, NULL, O_NO_DISCARD },
	{ "no-write-zeroes", no_argument, NULL, O_NO_WRITE_ZEROES },
	{ "log-regions", required_argument, NULL, O_LOG_REGIONS },
	{ "poll-us", required_argument, NULL, O_POLL_US },
	{ "once", no_argument, NULL, O_ONCE },
	{ "quiet", no_argument, NULL, O_QUIET },
	{ "help", no_argument, NULL, O_HELP },
	{ "misbehave", required_argument, NULL, O_MISBEHAVE },
	{ "misbehave-after", required_argument, NULL, O_MB_AFTER },
	{ "misbehave-every", required_argument, NULL, O_MB_EVERY },
	{ "delay-us", required_argument, NULL, O_DELAY_US },
	{ "net", no_argument, NULL, O_NET },
	{ "no-mrg-rxbuf", no_argument, NULL, O_NO_MRG_RXBUF },
	{ NULL, 0, NULL, 0 },
};

/* "len-short,status-bad": bits of enum ds_mb; false on an unknown name
 * (named in *bad). */
static bool parse_modes(const char *s, uint64_t *out, char *bad, size_t badlen)
{
	while (*s) {
		size_t len = strcspn(s, ",");
		unsigned i;

		for (i = 0; i < DS_MB_COUNT; i++)
			if (strlen(mb_names[i]) == len &&
			    !strncmp(mb_names[i], s, len))
				break;
		if (i == DS_MB_COUNT) {
			snprintf(bad, badlen, "%.*s", (int)(len < 64 ? len : 64), s);
			return false;
		}
		*out |= 1ull << i;
		s += len;
		if (*s == ',')
			s++;
	}
	return *out != 0;
}

/* 0: run; 1: --help printed; 2: bad options (message printed). */
static int parse_options(struct ds_opts *o, int argc, char **argv)
{
	int c;

	memset(o, 0, sizeof(*o));
	o->size = 64ull << 20;
	o->queues = 1;
	o->queue_size = 1024;
	o->seg_max = 126;
	o->size_max = 65536;
	o->blk_size = 512;
	o->delay_us = 1000;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", long_opts, NULL)) != -1) {
		const char *a = optarg;

		switch (c) {
		case O_SOCKET: o->socket = a; break;
		case O_FILE: o->file = a; break;
		case O_LOG_REGIONS: o->log_regions = a; break;
		case O_SIZE:
			if (!parse_bytes(a, &o->size))
				return bad_option("--size", a, "a size in bytes "
						  "(k/m/g/t suffixes)");
			break;
		case O_QUEUES:
			if (!parse_uint(a, 1, DS_MAX_QUEUES, &o->queues))
				return bad_option("--queues", a, "a number 1..16");
			break;
		case O_QUEUE_SIZE:
			if (!parse_uint(a, 1, DS_MAX_QUEUE_SIZE, &o->queue_size) ||
			    !pow2(o->queue_size))
				return bad_option("--queue-size", a, "a power of "
						  "two up to 32768");
			break;
		case O_SEG_MAX:
			if (!parse_uint(a, 1, 65535, &o->seg_max))
				return bad_option("--seg-max", a, "a number 1..65535");
			break;
		case O_SIZE_MAX: {
			uint64_t v;

			if (!parse_bytes(a, &v) || v > UINT32_MAX)
				return bad_option("--size-max", a, "a size up to "
						  "4g-1");
			o->size_max = (unsigned)v;
			break;
		}
		case O_BLK_SIZE:
			if (!parse_uint(a, 512, 65536, &o->blk_size) ||
			    !pow2(o->blk_size))
				return bad_option("--blk-size", a, "a power of two "
						  "512..65536");
			break;
		case O_POLL_US:
			if (!parse_uint(a, 0, 1000000, &o->poll_us))
				return bad_option("--poll-us", a, "a number 0..1000000");
			break;
		case O_MISBEHAVE: {
			char bad[80] = "";

			if (!parse_modes(a, &o->misbehave, bad, sizeof(bad))) {
				fprintf(stderr, "ccdma-devsim: --misbehave: unknown "
					"mode '%s'\n", bad);
				fputs("Try 'ccdma-devsim --help'.\n", stderr);
				return 2;
			}
			break;
		}
		case O_MB_AFTER:
		case O_MB_EVERY: {
			unsigned v;

			if (!parse_uint(a, c == O_MB_EVERY ? 1 : 0, 1000000000, &v))
				return bad_option(c == O_MB_EVERY ? "--misbehave-every"
								  : "--misbehave-after",
						  a, c == O_MB_EVERY ? "a number 1..1000000000"
								     : "a number 0..1000000000");
			if (c == O_MB_EVERY)
				o->mb_every = v;
			else
				o->mb_after = v;
			break;
		}
		case O_DELAY_US:
			if (!parse_uint(a, 1, 10000000, &o->delay_us))
				return bad_option("--delay-us", a, "a number 1..10000000");
			break;
		case O_READ_ONLY: o->read_only = true; break;
		case O_NO_MEM_SLOTS: o->no_mem_slots = true; break;
		case O_NO_REPLY_ACK: o->no_reply_ack = true; break;
		case O_NO_EVENT_IDX: o->no_event_idx = true; break;
		case O_NO_INDIRECT: o->no_indirect = true; break;
		case O_NO_FLUSH: o->no_flush = true; break;
		case O_NO_DISCARD: o->no_discard = true; break;
		case O_NO_WRITE_ZEROES: o->no_write_zeroes = true; break;
		case O_ONCE: o->once = true; break;
		case O_NET: o->net = true; break;
		case O_NO_MRG_RXBUF: o->no_mrg_rxbuf = true; break;
		case O_QUIET: o->quiet = true; break;
		case 'h':
		case O_HELP:
			usage(stdout);
			return 1;
		case ':':
			fprintf(stderr, "ccdma-devsim: option '%s' needs a value\n",
				argv[optind - 1]);
			fputs("Try 'ccdma-devsim --help'.\n", stderr);
			return 2;
		default:
			if (!strncmp(argv[optind - 1], "--", 2))
				fprintf(stderr, "ccdma-devsim: unknown option "
					"'%s'\n", argv[optind - 1]);
			else
				fprintf(stderr, "ccdma-devsim: unknown option "
					"'-%c'\n", optopt);
			fputs("Try 'ccdma-devsim --help'.\n", stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "ccdma-devsim: unexpected argument '%s'\n",
			argv[optind]);
		return 2;
	}
	if (!o->socket || !*o->socket) {
		fputs("ccdma-devsim: --socket PATH is required\n"
		      "Try 'ccdma-devsim --help'.\n", stderr);
		return 2;
	}
	if (strlen(o->socket) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		fprintf(stderr, "ccdma-devsim: --socket: path too long\n");
		return 2;
	}
	if (o->size % o->blk_size || o->size > (uint64_t)SIZE_MAX) {
		fprintf(stderr, "ccdma-devsim: --size %" PRIu64 " is not a "
			"multiple of the block size %u\n", o->size, o->blk_size);
		return 2;
	}
	return 0;
}

static int listen_on(const char *path)
{
	struct sockaddr_un sa;
	int fd;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(fd, 4) != 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static int ep_add(int epfd, int fd, uint32_t tag)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.u64 = tag;
	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

static void conn_open(struct ds_dev *d, int lfd)
{
	struct timeval tv = { 5, 0 };
	unsigned i;
	int fd;

	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR)
			ds_err("accept: %s", strerror(errno));
		return;
	}
	/* A peer that stalls in the middle of a message is cut off; without
	 * that bound one peer could hold the device for ever, so a
	 * connection whose reads cannot be bounded is refused. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0) {
		ds_err("connection refused: cannot bound its reads (SO_RCVTIMEO: "
		       "%s)", strerror(errno));
		close(fd);
		return;
	}
	memset(&d->conn, 0, sizeof(d->conn));
	d->conn.fd = fd;
	for (i = 0; i < DS_MAX_QUEUES; i++)
		ds_vq_init(&d->conn.vq[i], i);
	if (ep_add(d->epfd, fd, TAG_CONN) != 0) {
		ds_err("epoll: %s", strerror(errno));
		close(fd);
		d->conn.fd = -1;
		return;
	}
	/* One front-end at a time: the next waits in the backlog. */
	epoll_ctl(d->epfd, EPOLL_CTL_DEL, lfd, NULL);
	d->st.connections++;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* --poll-us: look at the running rings until nothing came for poll_us. */
static void poll_rings(struct ds_dev *d)
{
	uint64_t deadline = now_ns() + (uint64_t)d->opt.poll_us * 1000;
	unsigned i;

	while (!d->conn.broken && d->conn.fd >= 0) {
		bool any = false, running = false;

		for (i = 0; i < d->opt.queues; i++) {
			struct ds_vq *vq = &d->conn.vq[i];

			if (!vq->started)
				continue;
			running = true;
			any |= ds_vq_poll(d, vq);
		}
		if (!running)
			return;
		if (any)
			deadline = now_ns() + (uint64_t)d->opt.poll_us * 1000;
		else if (now_ns() >= deadline)
			return;
	}
}

static void summary(const struct ds_dev *d)
{
	const struct ds_stats *s = &d->st;

	if (d->opt.quiet)
		return;
	fprintf(stderr, "ccdma-devsim: summary: connections %" PRIu64
		" in %" PRIu64 " out %" PRIu64 " flush %" PRIu64 " get_id %" PRIu64
		" discard %" PRIu64 " write_zeroes %" PRIu64 " unsupp %" PRIu64
		" ioerr %" PRIu64 " protocol_errors %" PRIu64 " kicks %" PRIu64
		" calls %" PRIu64 " bytes_in %" PRIu64 " bytes_out %" PRIu64 "\n",
		s->connections, s->req_in, s->req_out, s->req_flush, s->req_get_id,
		s->req_discard, s->req_wz, s->req_unsupp, s->req_ioerr,
		s->protocol_errors, s->kicks, s->calls, s->bytes_in, s->bytes_out);
	fprintf(stderr, "ccdma-devsim: regions: removed %" PRIu64
		" while_in_use %" PRIu64 " tables_under_io %" PRIu64 "\n",
		s->regions_gone, s->region_gone_busy, s->table_busy);
	if (d->opt.net)
		fprintf(stderr, "ccdma-devsim: net: frames sent %" PRIu64
			" echoed %" PRIu64 " dropped %" PRIu64 "\n", s->net_tx,
			s->net_rx, s->net_dropped);
	for (unsigned i = 0; i < DS_MB_COUNT; i++)
		if (ds_mb_on(d, (enum ds_mb)i))
			fprintf(stderr, "ccdma-devsim: misbehave %s: fired %" PRIu64
				" of %" PRIu64 " events\n", mb_names[i],
				s->mb_fired[i], s->mb_seen[i]);
}

int main(int argc, char **argv)
{
	static struct ds_dev dev;
	struct ds_dev *d = &dev;
	struct epoll_event evs[32];
	sigset_t mask;
	int lfd, sfd, rc = 0;
	bool stop = false;

	rc = parse_options(&d->opt, argc, argv);
	if (rc)
		return rc == 1 ? 0 : 2;
	d->conn.fd = -1;
	d->log_fd = -1;
	d->offered_features = ds_offered_features(&d->opt);
	d->offered_protocol_features = ds_offered_protocol_features(&d->opt);
	if (ds_disk_open(d))
		return 1;
	if (d->opt.net) {
		/* Queue pair i: receive (2i) and transmit (2i + 1). */
		if (d->opt.queues > DS_MAX_QUEUES / 2) {
			ds_err("--net --queues %u: at most %u queue pairs",
			       d->opt.queues, DS_MAX_QUEUES / 2);
			return 2;
		}
		d->opt.queues *= 2;
		ds_net_config(d);
	} else {
		ds_blk_config(d);
	}
	if (d->opt.log_regions) {
		d->log_fd = open(d->opt.log_regions,
				 O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (d->log_fd < 0) {
			ds_err("%s: %s", d->opt.log_regions, strerror(errno));
			return 1;
		}
	}

	/* Signals arrive as events; a closed peer is an error return. */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	d->sig_fd = sfd;
	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	lfd = listen_on(d->opt.socket);
	if (sfd < 0 || d->epfd < 0 || lfd < 0) {
		ds_err("%s: %s", d->opt.socket, strerror(errno));
		return 1;
	}
	if (ep_add(d->epfd, sfd, TAG_SIGNAL) || ep_add(d->epfd, lfd, TAG_LISTEN)) {
		ds_err("epoll: %s", strerror(errno));
		return 1;
	}
	ds_info(d, "listening on %s", d->opt.socket);

	while (!stop) {
		int i, n = epoll_wait(d->epfd, evs, 32, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			ds_err("epoll_wait: %s", strerror(errno));
			rc = 1;
			break;
		}
		for (i = 0; i < n && !stop; i++) {
			uint64_t tag = evs[i].data.u64;

			if (tag == TAG_SIGNAL) {
				stop = true;
			} else if (tag == TAG_LISTEN) {
				if (d->conn.fd < 0)
					conn_open(d, lfd);
			} else if (tag == TAG_CONN) {
				if (d->conn.fd >= 0 && !d->conn.broken)
					ds_vu_handle(d);
			} else if (tag >= TAG_KICK && tag < TAG_KICK + DS_MAX_QUEUES) {
				/* The ring may have stopped earlier in this
				 * round: ds_vq_kick checks. */
				if (d->conn.fd >= 0 && !d->conn.broken)
					ds_vq_kick(d, &d->conn.vq[tag - TAG_KICK]);
			}
		}
		if (d->opt.poll_us && d->conn.fd >= 0 && !d->conn.broken)
			poll_rings(d);
		if (d->conn.fd >= 0 && d->conn.broken) {
			bool was_active = d->conn.active;

			ds_conn_close(d);
			if (d->opt.once && was_active)
				stop = true;
			else if (ep_add(d->epfd, lfd, TAG_LISTEN) != 0) {
				ds_err("epoll: %s", strerror(errno));
				rc = 1;
				stop = true;
			}
		}
	}
	ds_conn_close(d);
	close(lfd);
	unlink(d->opt.socket);
	ds_disk_close(&d->disk);
	if (d->log_fd >= 0)
		close(d->log_fd);
	summary(d);
	return rc;
}
