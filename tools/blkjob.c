/* SPDX-License-Identifier: MIT */
/*
 * The I/O engine of ccdma-blk and `ccdma-bench blk` (see blkjob.h).
 *
 * A job keeps `iodepth` slots, each with its own buffer: private memory
 * (malloc) in confidential mode, so every byte is bounced; coherent
 * (shared) memory of the device in direct mode, so buffers pass straight
 * through as in a guest without memory encryption.
 *
 * Verification: every block of the job's range carries a generation
 * number; a write fills the block with a pattern derived from (offset,
 * generation, seed) and a read compares every byte against the pattern of
 * the last completed write.  A block is never read and written at the
 * same time.  Jobs that read start with a write pass over the range so
 * that every read can be checked; jobs that write end with a read pass
 * over everything written.
 */
#define _GNU_SOURCE

#include "blkjob.h"

#include <ccdma/dma.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

volatile sig_atomic_t blkjob_stop_requested;
volatile sig_atomic_t blkjob_end_requested;
const char *blkjob_prog = "ccdma-blk";

void blkjob_say(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", blkjob_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

uint64_t blkjob_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- options ---------------------------------------------------------- */

static const char *const rw_names[] = {
	[BLKJOB_READ] = "read",         [BLKJOB_WRITE] = "write",
	[BLKJOB_RANDREAD] = "randread", [BLKJOB_RANDWRITE] = "randwrite",
	[BLKJOB_RW] = "rw",             [BLKJOB_RANDRW] = "randrw",
};

int blkjob_parse_rw(const char *s, enum blkjob_rw *out)
{
	for (unsigned i = 0; i < sizeof(rw_names) / sizeof(rw_names[0]); i++)
		if (!strcmp(s, rw_names[i])) {
			*out = (enum blkjob_rw)i;
			return 0;
		}
	return -1;
}

const char *blkjob_rw_name(enum blkjob_rw rw)
{
	return (unsigned)rw < sizeof(rw_names) / sizeof(rw_names[0]) ?
		       rw_names[rw] : "?";
}

int blkjob_parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	switch (*end) {
	case 0:
		break;
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	default:
		return -1;
	}
	if (*end == 'i' && shift)
		end++;
	if ((*end == 'b' || *end == 'B') && shift)
		end++;
	if (*end || (shift && v > (ULLONG_MAX >> shift)))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

const char *blkjob_size_str(uint64_t bytes, char *buf, size_t len)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB" };
	int u = -1;

	while (bytes && u < 3 && !(bytes & 1023)) {
		bytes >>= 10;
		u++;
	}
	if (u < 0)
		snprintf(buf, len, "%llu bytes", (unsigned long long)bytes);
	else
		snprintf(buf, len, "%llu %s", (unsigned long long)bytes, units[u]);
	return buf;
}

void blkjob_opts_init(struct blkjob_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->rw = BLKJOB_RANDREAD;
	o->bs = 4096;
	o->iodepth = 1;
	o->rwmixread = 50;
	o->seed = 0x6363646d61ull; /* "ccdma" */
}

/* ---- the device process ------------------------------------------------ */

int blkjob_socket_accepts(const char *path)
{
	struct sockaddr_un sa;
	int fd, ok;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

static bool executable(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	       access(path, X_OK) == 0;
}

/* `name` in a folder of PATH, into buf. */
static bool in_path(char *buf, size_t len, const char *name)
{
	const char *p = getenv("PATH"), *end;

	for (; p && *p; p = *end ? end + 1 : end) {
		end = strchr(p, ':');
		if (!end)
			end = p + strlen(p);
		if (end == p)
			continue;
		snprintf(buf, len, "%.*s/%s", (int)(end - p), p, name);
		if (executable(buf))
			return true;
	}
	return false;
}

int blkjob_devsim_find(char *buf, size_t len, const char *path)
{
	const char *env = getenv("CCDMA_DEVSIM");
	char exe[PATH_MAX], *slash;
	ssize_t n;

	if ((path && *path) || (env && *env)) {
		const char *p = path && *path ? path : env;

		snprintf(buf, len, "%s", p);
		if (executable(buf))
			return 0;
		blkjob_say("cannot run the device program %s (%s): %s", p,
		    path && *path ? "--devsim" : "$CCDMA_DEVSIM",
		    access(p, F_OK) ? strerror(errno) : "not an executable file");
		return -1;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = 0;
		slash = strrchr(exe, '/');
		if (slash) {
			*slash = 0;
			/* An install, or tools/ of the build tree. */
			snprintf(buf, len, "%s/ccdma-devsim", exe);
			if (executable(buf))
				return 0;
			/* bench/ or tests/ of the build tree. */
			snprintf(buf, len, "%s/../tools/ccdma-devsim", exe);
			if (executable(buf))
				return 0;
		}
	}
	if (in_path(buf, len, "ccdma-devsim"))
		return 0;
	blkjob_say("cannot find the device program ccdma-devsim: not beside %s, not "
	    "in the build tree's tools/, not on PATH (set CCDMA_DEVSIM or "
	    "--devsim, or give --socket)", n > 0 ? exe : "this program");
	return -1;
}

int blkjob_spawn_wait(pid_t *pid, const char *sock, char *const argv[])
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	int i, status;
	pid_t parent;

	fflush(NULL);
	parent = getpid();
	*pid = fork();
	if (*pid < 0) {
		blkjob_say("fork: %s", strerror(errno));
		*pid = 0;
		return -1;
	}
	if (*pid == 0) {
		/* The device process goes when its starter does, however that
		 * ends (a failed test's exit, a crash): a device left behind
		 * would keep its socket and whoever waits on its output. */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent)
			_exit(127);
		execvp(argv[0], argv);
		blkjob_say("cannot run %s: %s", argv[0], strerror(errno));
		_exit(127);
	}
	for (i = 0; i < 1000; i++) {
		if (waitpid(*pid, &status, WNOHANG) == *pid) {
			blkjob_say("the device process %s exited at start (status %d)",
			    argv[0], WIFEXITED(status) ? WEXITSTATUS(status) : -1);
			*pid = 0;
			return -1;
		}
		if (!sock || blkjob_socket_accepts(sock))
			return 0;
		nanosleep(&ts, NULL);
	}
	blkjob_say("the device process %s did not listen on %s within 10 s", argv[0],
	    sock);
	blkjob_stop_pid(pid);
	return -1;
}

int blkjob_stop_pid(pid_t *pid)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	int status = -1, i;

	if (*pid <= 0)
		return -1;
	kill(*pid, SIGTERM);
	for (i = 0; i < 500; i++) {
		if (waitpid(*pid, &status, WNOHANG) == *pid)
			break;
		nanosleep(&ts, NULL);
	}
	if (i == 500) {
		kill(*pid, SIGKILL);
		waitpid(*pid, &status, 0);
	}
	*pid = 0;
	if (status == -1)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int spawn(struct blkjob_proc *d, char *const argv[])
{
	if (blkjob_spawn_wait(&d->pid, d->sock, argv) == 0)
		return 0;
	unlink(d->sock);
	rmdir(d->dir);
	d->dir[0] = 0;
	return -1;
}

int blkjob_make_dir(struct blkjob_proc *d, const char *prefix)
{
	memset(d, 0, sizeof(*d));
	snprintf(d->dir, sizeof(d->dir), "/tmp/%s-XXXXXX", prefix);
	if (!mkdtemp(d->dir)) {
		blkjob_say("cannot make a folder for the socket: %s", strerror(errno));
		d->dir[0] = 0;
		return -1;
	}
	snprintf(d->sock, sizeof(d->sock), "%s/vhost.sock", d->dir);
	return 0;
}

int blkjob_devsim_start(struct blkjob_proc *d, const char *path,
			uint64_t disk_bytes, const char *const *extra)
{
	char prog[PATH_MAX], size[32];
	char *argv[32];
	int n = 0;

	if (blkjob_devsim_find(prog, sizeof(prog), path))
		return -1;
	if (blkjob_make_dir(d, "ccdma-blk"))
		return -1;
	snprintf(size, sizeof(size), "%llu", (unsigned long long)disk_bytes);
	argv[n++] = prog;
	argv[n++] = (char *)"--socket";
	argv[n++] = d->sock;
	argv[n++] = (char *)"--size";
	argv[n++] = size;
	argv[n++] = (char *)"--quiet";
	while (extra && *extra && n < 31)
		argv[n++] = (char *)*extra++;
	argv[n] = NULL;
	return spawn(d, argv);
}

void blkjob_qsd_argv(char *argv[6], struct blkjob_qsd_args *a, const char *qsd,
		     const char *image, uint64_t bytes, const char *sock,
		     unsigned queues)
{
	if (image)
		snprintf(a->blockdev, sizeof(a->blockdev),
			 "driver=file,node-name=disk0,filename=%s", image);
	else
		snprintf(a->blockdev, sizeof(a->blockdev),
			 "driver=null-co,node-name=disk0,size=%llu,read-zeroes=on",
			 (unsigned long long)bytes);
	snprintf(a->export, sizeof(a->export),
		 "type=vhost-user-blk,id=exp0,node-name=disk0,addr.type=unix,"
		 "addr.path=%s,writable=on,num-queues=%u", sock, queues);
	argv[0] = (char *)qsd;
	argv[1] = (char *)"--blockdev";
	argv[2] = a->blockdev;
	argv[3] = (char *)"--export";
	argv[4] = a->export;
	argv[5] = NULL;
}

int blkjob_qsd_start(struct blkjob_proc *d, const char *qsd,
		     uint64_t disk_bytes, unsigned queues)
{
	struct blkjob_qsd_args args;
	char *argv[6];

	if (access(qsd, X_OK)) {
		blkjob_say("cannot run %s: %s (Debian package qemu-system-common)", qsd,
		    strerror(errno));
		return -1;
	}
	if (blkjob_make_dir(d, "ccdma-blk"))
		return -1;
	blkjob_qsd_argv(argv, &args, qsd, NULL, disk_bytes, d->sock, queues);
	return spawn(d, argv);
}

int blkjob_devsim_stop(struct blkjob_proc *d)
{
	int status = blkjob_stop_pid(&d->pid);

	if (d->dir[0]) {
		unlink(d->sock);
		rmdir(d->dir);
		d->dir[0] = 0;
	}
	return status;
}

/* ---- connection --------------------------------------------------------- */

/* What a connect error means for the user. */
static const char *connect_hint(int rc, unsigned timeout_ms, char *buf,
				size_t len)
{
	switch (rc) {
	case -ENOENT:
		return "no such socket: start the device process, or leave out "
		       "--socket to start ccdma-devsim";
	case -ENOTSOCK:
		return "that file is not a socket";
	case -ECONNREFUSED:
		return "nobody is listening on it";
	case -EACCES:
		return "no permission to connect to it";
	case -ECONNRESET:
		return "the back-end hung up: it closed the connection during "
		       "the vhost-user handshake";
	case -EPROTO:
		return "the back-end broke the vhost-user protocol (the message "
		       "above says how)";
	case -ETIMEDOUT:
		snprintf(buf, len, "the back-end accepted the connection but did "
			 "not answer within %u s: it may be busy with another "
			 "client, or stopped", timeout_ms / 1000);
		return buf;
	default:
		return strerror(-rc);
	}
}

static int open_dev(struct blkjob_dev *d, const char *sock, enum ccdma_mode mode,
		    const struct ccdma_vblk_config *vcfg,
		    const struct ccdma_pool_config *pool_cfg,
		    struct ccdma_pool *pool)
{
	struct ccdma_vhost_config c;
	char buf[160];
	int rc;

	memset(d, 0, sizeof(*d));
	d->mode = mode;
	d->name = sock;
	ccdma_vhost_config_init(&c);
	c.socket_path = sock;
	c.mode = (int)mode;
	c.pool_cfg = pool_cfg;
	c.pool = pool;
	rc = ccdma_vhost_connect(&c, &d->vhost);
	if (rc) {
		blkjob_say("cannot connect to %s: %s", sock,
		    connect_hint(rc, c.reply_timeout_ms ? c.reply_timeout_ms : 5000,
				 buf, sizeof(buf)));
		return rc;
	}
	d->dma = ccdma_vhost_dev(d->vhost);
	ccdma_vhost_get_info(d->vhost, &d->vinfo);
	rc = ccdma_vblk_create(ccdma_vhost_transport(d->vhost), vcfg, &d->blk);
	if (rc) {
		blkjob_say("cannot set up the virtio-blk device at %s: %s", sock,
		    strerror(-rc));
		ccdma_vhost_close(d->vhost);
		d->vhost = NULL;
		return rc;
	}
	ccdma_vblk_get_info(d->blk, &d->info);
	return 0;
}

int blkjob_open(struct blkjob_dev *d, const char *sock, enum ccdma_mode mode,
		const struct ccdma_vblk_config *vcfg,
		const struct ccdma_pool_config *pool_cfg)
{
	return open_dev(d, sock, mode, vcfg, pool_cfg, NULL);
}

int blkjob_open_shared(struct blkjob_dev *d, const char *sock,
		       enum ccdma_mode mode, const struct ccdma_vblk_config *vcfg,
		       struct ccdma_pool *pool)
{
	return open_dev(d, sock, mode, vcfg, NULL, pool);
}

void blkjob_close(struct blkjob_dev *d)
{
	ccdma_vblk_destroy(d->blk);
	ccdma_vhost_close(d->vhost);
	d->blk = NULL;
	d->vhost = NULL;
}

/* ---- latency histogram: 16 linear steps per power of two ---------------- */

#define HIST_SUB BLKJOB_HIST_SUB
#define HIST_N BLKJOB_HIST_N

static unsigned hist_index(uint64_t v)
{
	unsigned msb;

	if (v < HIST_SUB)
		return (unsigned)v;
	msb = 63u - (unsigned)__builtin_clzll(v);
	return msb * HIST_SUB + (unsigned)((v >> (msb - 4)) & (HIST_SUB - 1));
}

uint64_t blkjob_hist_ns(unsigned i)
{
	unsigned msb = i / HIST_SUB;

	if (i < HIST_SUB)
		return i;
	return ((uint64_t)(HIST_SUB + i % HIST_SUB)) << (msb - 4);
}

static double hist_percentile(const uint64_t *h, uint64_t total, double p)
{
	uint64_t want = (uint64_t)(p * (double)total + 0.5), seen = 0;

	if (!want)
		want = 1;
	for (unsigned i = 0; i < HIST_N; i++) {
		seen += h[i];
		if (seen >= want)
			return (double)blkjob_hist_ns(i) / 1000.0;
	}
	return 0;
}

/* ---- the job ------------------------------------------------------------ */

enum phase { PH_PREFILL, PH_WARMUP, PH_TIMED, PH_VERIFY };

struct slot {
	struct ccdma_vblk_req req;
	struct job *job;
	void *buf;
	ccdma_addr_t dma;   /* direct mode: the coherent buffer's address */
	uint64_t block;     /* first block (of o->bs bytes) */
	uint32_t nblk;      /* blocks this I/O moves */
	uint64_t start_ns;
	struct slot *next_free;
};

struct job {
	struct blkjob_dev *d;
	const struct blkjob_opts *o;
	struct blkjob_result *r;
	struct slot *slots, *free_slots;
	/* An I/O picked whose submit found no room (-EAGAIN, -ENOMEM): the
	 * next issue posts it before picking another, so that no block the
	 * phase chose (the read-back of a block written) is skipped. */
	bool held;
	bool held_read;
	uint64_t held_block;
	uint32_t held_nblk;
	unsigned nslots, inflight;
	uint64_t nblocks;
	uint32_t *gen;      /* per block, 0: never written, or a write to it
			     * failed so its content is unknown (verify only) */
	uint8_t *busy;      /* per block (verify only) */
	uint32_t *expect;   /* scratch: one block's expected pattern */
	uint64_t rng;
	uint64_t seq_next;
	enum phase phase;
	uint64_t issued, issue_limit;   /* blocks issued in this phase */
	uint32_t max_blk;   /* blocks per I/O at most (bs_max / bs) */
	unsigned size_steps; /* log2(max_blk) + 1: the sizes to draw from */
	uint64_t lat_hist[HIST_N];
	uint64_t lat_sum_ns, lat_n, lat_max_ns;
	uint64_t log_last, log_ios, log_bytes, log_lat_sum, log_lat_n;
	bool fatal;         /* issue nothing more */
	int fatal_err;      /* why (0: the device broke) */
};

static uint64_t rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* The pattern of a block: 32-bit words from (offset, generation, seed),
 * so a block written twice, or a block at the wrong offset, differs. */
static void fill_pattern(uint32_t *w, size_t bytes, uint64_t off, uint32_t gen,
			 uint64_t seed)
{
	uint64_t s = seed ^ (off * 0x9e3779b97f4a7c15ull) ^ ((uint64_t)gen << 40);

	for (size_t i = 0; i < bytes / 8; i++) {
		uint64_t v = rnd(&s);

		memcpy(&w[2 * i], &v, 8);
	}
}

static bool job_reads(enum blkjob_rw rw)
{
	return rw != BLKJOB_WRITE && rw != BLKJOB_RANDWRITE;
}

static bool job_writes(enum blkjob_rw rw)
{
	return rw != BLKJOB_READ && rw != BLKJOB_RANDREAD;
}

static bool job_random(enum blkjob_rw rw)
{
	return rw == BLKJOB_RANDREAD || rw == BLKJOB_RANDWRITE ||
	       rw == BLKJOB_RANDRW;
}

/* Compare block `blk` (o->bs bytes at got) with the pattern it was last
 * written with. */
static void check_block(struct job *j, uint64_t blk, const uint8_t *got)
{
	const struct blkjob_opts *o = j->o;
	uint64_t off = o->offset + blk * o->bs;
	const uint8_t *want;

	fill_pattern(j->expect, o->bs, off, j->gen[blk], o->seed);
	want = (const uint8_t *)j->expect;
	j->r->verified_bytes += o->bs;
	if (!memcmp(got, want, o->bs))
		return;
	for (uint32_t i = 0; i < o->bs; i++) {
		if (got[i] == want[i])
			continue;
		if (!j->r->verify_errors)
			j->r->first_bad_offset = off + i;
		if (j->r->verify_errors < 5)
			blkjob_say("verify: byte at offset %llu is %#04x, expected "
			    "%#04x (block %llu, generation %u)",
			    (unsigned long long)(off + i), got[i], want[i],
			    (unsigned long long)blk, j->gen[blk]);
		break;
	}
	j->r->verify_errors++;
}

/* What a completed I/O means for the blocks it covered. */
static void verify_done(struct job *j, const struct slot *s, bool is_read,
			int status)
{
	const uint8_t *buf = s->buf;

	for (uint32_t k = 0; k < s->nblk; k++) {
		uint64_t blk = s->block + k;

		if (status && !is_read)
			j->gen[blk] = 0; /* the device may have written part */
		else if (!status && is_read && j->gen[blk])
			check_block(j, blk, buf + (size_t)k * j->o->bs);
		else if (!status && !is_read)
			j->gen[blk]++; /* the pattern issue_one wrote */
		j->busy[blk] = 0;
	}
}

/* The application reading what a read returned (opts.touch). */
static uint64_t touch_sink;

static void touch_read(const void *buf, size_t len)
{
	const uint64_t *w = buf;
	uint64_t x = 0;

	for (size_t i = 0; i < len / 8; i++)
		x ^= w[i];
	__atomic_store_n(&touch_sink, x, __ATOMIC_RELAXED);
}

static void on_done(struct ccdma_vblk_req *req)
{
	struct slot *s = (struct slot *)req;
	struct job *j = s->job;
	uint64_t lat = blkjob_now_ns() - s->start_ns;
	bool is_read = req->op == CCDMA_VBLK_READ;

	if (is_read && j->o->touch && !req->status)
		touch_read(s->buf, req->len);
	if (j->phase == PH_TIMED) {
		j->lat_hist[hist_index(lat)]++;
		j->lat_sum_ns += lat;
		j->lat_n++;
		if (lat > j->lat_max_ns)
			j->lat_max_ns = lat;
		if (req->status == 0) {
			if (is_read) {
				j->r->reads++;
				j->r->bytes_read += req->len;
			} else {
				j->r->writes++;
				j->r->bytes_written += req->len;
			}
		}
	}
	if (req->status) {
		if (!j->r->error)
			j->r->error = req->status;
		j->r->failed++;
		if (req->status == -ENODEV)
			j->fatal = true;
	}
	if (j->o->verify)
		verify_done(j, s, is_read, req->status);
	s->next_free = j->free_slots;
	j->free_slots = s;
	j->inflight--;
}

enum pick {
	PICK_IO,    /* *block and *is_read say what to issue */
	PICK_WAIT,  /* every block tried is in flight: complete some first */
	PICK_DONE,  /* the phase issues nothing more */
};

static bool range_busy(const struct job *j, uint64_t b, uint32_t n)
{
	for (uint32_t k = 0; k < n; k++)
		if (j->busy[b + k])
			return true;
	return false;
}

/* Blocks the next I/O of the timed phase moves: max_blk when sizes do
 * not vary, else 2^k for k uniform over the sizes. */
static uint32_t pick_nblk(struct job *j)
{
	if (j->size_steps <= 1)
		return j->max_blk;
	return 1u << (rnd(&j->rng) % j->size_steps);
}

/* Pick the next I/O of the phase: *block, *nblk blocks from it. */
static enum pick next_io(struct job *j, uint64_t *block, uint32_t *nblk,
			 bool *is_read)
{
	const struct blkjob_opts *o = j->o;
	uint64_t b, tries;
	uint32_t n;

	if (j->issue_limit && j->issued >= j->issue_limit)
		return PICK_DONE;
	switch (j->phase) {
	case PH_PREFILL:
		/* Every block, in I/Os of the largest size. */
		*block = j->issued;
		*nblk = (uint32_t)(j->nblocks - j->issued < j->max_blk ?
				   j->nblocks - j->issued : j->max_blk);
		*is_read = false;
		return PICK_IO;
	case PH_VERIFY:
		/* Every block written, read back in I/Os of the largest
		 * size (blocks never written in them are not compared). */
		while (j->seq_next < j->nblocks && !j->gen[j->seq_next])
			j->seq_next++;
		if (j->seq_next >= j->nblocks)
			return PICK_DONE;
		*block = j->seq_next;
		*nblk = (uint32_t)(j->nblocks - j->seq_next < j->max_blk ?
				   j->nblocks - j->seq_next : j->max_blk);
		j->seq_next += *nblk;
		*is_read = true;
		return PICK_IO;
	default:
		break;
	}
	if (o->rw == BLKJOB_READ || o->rw == BLKJOB_RANDREAD)
		*is_read = true;
	else if (o->rw == BLKJOB_WRITE || o->rw == BLKJOB_RANDWRITE)
		*is_read = false;
	else
		*is_read = rnd(&j->rng) % 100 < o->rwmixread;
	n = pick_nblk(j);
	if (job_random(o->rw)) {
		/* Aligned to its own size, as a file system would. */
		b = rnd(&j->rng) % (j->nblocks / n) * n;
	} else {
		b = j->seq_next + n > j->nblocks ? 0 : j->seq_next;
		j->seq_next = (b + n) % j->nblocks;
	}
	/* Never two I/Os on one block at once when verifying (a busy block
	 * is in flight, so PICK_WAIT always has something to wait for). */
	if (o->verify) {
		for (tries = 0; tries <= j->nblocks / n && range_busy(j, b, n);
		     tries++) {
			b += n;
			if (b + n > j->nblocks)
				b = 0;
		}
		if (range_busy(j, b, n))
			return PICK_WAIT;
	}
	*block = b;
	*nblk = n;
	return PICK_IO;
}

static void progress(struct job *j, uint64_t start, uint64_t *last_print,
		     uint64_t *last_ios, uint64_t *last_bytes)
{
	struct ccdma_pool_stats ps;
	uint64_t now = blkjob_now_ns(), ios, bytes;
	double dt;

	if (!j->o->progress || now - *last_print < 1000000000ull)
		return;
	ios = j->r->reads + j->r->writes;
	bytes = j->r->bytes_read + j->r->bytes_written;
	dt = (double)(now - *last_print) / 1e9;
	ccdma_pool_get_stats(ccdma_dev_pool(j->d->dma), &ps);
	blkjob_say("[%5.1fs] %s: %.0f IOPS, %.1f MiB/s | bounced to device %.1f MiB, "
	    "from device %.1f MiB | pool %.1f MiB",
	    (double)(now - start) / 1e9,
	    j->phase == PH_TIMED ? "run" :
	    j->phase == PH_PREFILL ? "prefill" :
	    j->phase == PH_VERIFY ? "verify" : "warm-up",
	    (double)(ios - *last_ios) / dt,
	    (double)(bytes - *last_bytes) / dt / 1048576.0,
	    (double)ps.bounced_to_device_bytes / 1048576.0,
	    (double)ps.bounced_from_device_bytes / 1048576.0,
	    (double)ps.shared_bytes / 1048576.0);
	*last_print = now;
	*last_ios = ios;
	*last_bytes = bytes;
}

/* One row of opts.log per log_every_ms of the timed phase. */
static void log_sample(struct job *j, uint64_t start)
{
	const struct blkjob_opts *o = j->o;
	struct ccdma_pool_stats ps;
	uint64_t now = blkjob_now_ns(), ios, bytes, n;
	double dt;

	if (!o->log || now - j->log_last < (uint64_t)o->log_every_ms * 1000000ull)
		return;
	ios = j->r->reads + j->r->writes;
	bytes = j->r->bytes_read + j->r->bytes_written;
	dt = (double)(now - j->log_last) / 1e9;
	n = j->lat_n - j->log_lat_n;
	ccdma_pool_get_stats(ccdma_dev_pool(j->d->dma), &ps);
	fprintf(o->log, "%.3f %.0f %.2f %.2f %.1f\n", (double)(now - start) / 1e9,
		(double)(ios - j->log_ios) / dt,
		(double)(bytes - j->log_bytes) / dt / 1048576.0,
		n ? (double)(j->lat_sum_ns - j->log_lat_sum) / (double)n / 1000.0 : 0.0,
		(double)ps.shared_bytes / 1048576.0);
	j->log_last = now;
	j->log_ios = ios;
	j->log_bytes = bytes;
	j->log_lat_sum = j->lat_sum_ns;
	j->log_lat_n = j->lat_n;
}

/* A phase with a runtime ends when it has passed (or SIGUSR1 asked); the
 * timed phase only once an I/O has completed too, so that a very short
 * --runtime on a busy machine measures something rather than nothing. */
static bool time_up(const struct job *j, uint64_t end)
{
	if (!end || (blkjob_now_ns() < end && !blkjob_end_requested))
		return false;
	return j->phase != PH_TIMED || j->r->reads + j->r->writes + j->r->failed;
}

/* Issue the next I/O of the phase: 0 issued, 1 nothing to issue until a
 * completion, 2 the phase issues nothing more, or the submit's error. */
static int issue_one(struct job *j, uint64_t end)
{
	const struct blkjob_opts *o = j->o;
	struct slot *s = j->free_slots;
	enum pick pick = PICK_DONE;
	uint64_t block = 0;
	uint32_t nblk = 1;
	bool is_read = false;
	size_t len;
	int rc;

	if (!blkjob_stop_requested && !time_up(j, end) && j->held) {
		block = j->held_block;
		nblk = j->held_nblk;
		is_read = j->held_read;
		pick = PICK_IO;
	} else if (!blkjob_stop_requested && !time_up(j, end)) {
		pick = next_io(j, &block, &nblk, &is_read);
	}
	j->held = false;
	if (pick == PICK_WAIT)
		return 1;
	if (pick == PICK_DONE)
		return 2;
	len = (size_t)nblk * o->bs;
	s->block = block;
	s->nblk = nblk;
	memset(&s->req, 0, sizeof(s->req));
	s->req.op = is_read ? CCDMA_VBLK_READ : CCDMA_VBLK_WRITE;
	s->req.sector = (o->offset + block * o->bs) / CCDMA_VBLK_SECTOR;
	s->req.buf = s->buf;
	s->req.len = len;
	s->req.done = on_done;
	if (!is_read && o->touch && !o->verify)
		memset(s->buf, (int)(j->issued & 0xff), len);
	for (uint32_t k = 0; !is_read && o->verify && k < nblk; k++)
		fill_pattern((uint32_t *)((uint8_t *)s->buf + (size_t)k * o->bs),
			     o->bs, o->offset + (block + k) * o->bs,
			     j->gen[block + k] + 1,
			     o->seed);
	s->start_ns = blkjob_now_ns();
	rc = ccdma_vblk_submit(j->d->blk, o->queue, &s->req);
	if (rc == -EAGAIN || rc == -ENOMEM) {
		j->held = true;
		j->held_block = block;
		j->held_nblk = nblk;
		j->held_read = is_read;
	}
	if (rc)
		return rc;
	if (o->verify)
		memset(&j->busy[block], 1, nblk);
	j->free_slots = s->next_free;
	j->inflight++;
	j->issued += nblk;
	return 0;
}

/*
 * A submit found no bounce memory with none of this job's requests in
 * flight: the memory is held by others on the pool (other jobs, other
 * devices sharing it) or not made yet (the grower is behind).  Wait for it
 * with the pool's bounded wait (one block; given back at once) and say
 * whether to retry: true while the pool gives memory within its wait and
 * the job has been retrying for at most idle_limit ns.
 */
static bool pool_wait(struct job *j, uint64_t *since, uint64_t idle_limit)
{
	struct ccdma_pool *pool = ccdma_dev_pool(j->d->dma);
	uint64_t now = blkjob_now_ns();
	void *p;

	if (!*since)
		*since = now;
	if (now - *since > idle_limit ||
	    ccdma_pool_alloc(pool, j->o->bs, CCDMA_POOL_WAIT, &p))
		return false;
	ccdma_pool_free(pool, p, 0);
	return true;
}

/* Run one phase until it issues nothing more (or its time is up) and all
 * its requests completed.  Returns 0, or the error that cut it short:
 * -ENODEV (the device broke), -ETIMEDOUT (it stopped answering), a submit
 * error.  The timed phase's elapsed time is set whichever way it ends. */
static int run_phase(struct job *j, enum phase ph, double seconds,
		     uint64_t limit, uint64_t start)
{
	struct ccdma_vblk *b = j->d->blk;
	unsigned q = j->o->queue;
	uint64_t t0 = blkjob_now_ns(), end = 0, idle_since = 0;
	uint64_t last_print = t0, last_ios = 0, last_bytes = 0;
	uint64_t idle_limit = (j->o->idle_limit_ms ? j->o->idle_limit_ms
						   : 10000u) * 1000000ull;
	uint64_t nomem_since = 0;
	bool issuing = true;
	int ret = 0;

	j->phase = ph;
	if (ph == PH_TIMED)
		j->log_last = t0;
	j->issued = 0;
	j->issue_limit = limit;
	j->seq_next = 0;
	j->held = false;
	if (seconds > 0)
		end = t0 + (uint64_t)(seconds * 1e9);
	while (issuing || j->inflight) {
		int rc;

		while (issuing && !j->fatal && j->free_slots) {
			rc = issue_one(j, end);
			if (!rc)
				nomem_since = 0;
			if (rc == 1)
				break; /* wait for a completion */
			if (rc == 2) {
				issuing = false;
				break;
			}
			if (rc == -ENOMEM && !j->inflight &&
			    pool_wait(j, &nomem_since, idle_limit))
				continue; /* the pool had room again */
			if (rc == -EAGAIN || rc == -ENOMEM) {
				if (!j->inflight) {
					blkjob_say("no request can be posted with none in "
					    "flight: %s", rc == -ENOMEM ?
					    "the bounce pool has no memory for "
					    "even one block" : strerror(-rc));
					ret = rc;
					goto out;
				}
				break;
			}
			if (rc) {
				blkjob_say("submit failed: %s", strerror(-rc));
				if (!j->r->error)
					j->r->error = rc;
				j->fatal = true;
				j->fatal_err = rc;
				break;
			}
		}
		if (j->fatal)
			issuing = false;
		if (!j->inflight)
			continue;
		rc = ccdma_vblk_wait(b, q, 1000000000ull);
		if (rc == -ETIMEDOUT) {
			if (!idle_since)
				idle_since = blkjob_now_ns();
			if (blkjob_now_ns() - idle_since > idle_limit) {
				blkjob_say("the device completed nothing in %.0f s with "
				    "%u request(s) in flight", (double)idle_limit / 1e9,
				    j->inflight);
				ret = -ETIMEDOUT;
				goto out;
			}
			continue;
		}
		if (rc < 0) {
			/* In-flight requests were completed with -ENODEV. */
			blkjob_say("the device broke during the run (%s)", strerror(-rc));
			ret = -ENODEV;
			goto out;
		}
		idle_since = 0;
		if (ph == PH_TIMED) {
			progress(j, start, &last_print, &last_ios, &last_bytes);
			log_sample(j, start);
		}
	}
	if (j->fatal)
		ret = j->fatal_err ? j->fatal_err : -ENODEV;
out:
	if (ph == PH_TIMED)
		j->r->elapsed_s = (double)(blkjob_now_ns() - t0) / 1e9;
	return ret;
}

/* The largest I/O of the job, in bytes. */
static uint32_t io_max(const struct blkjob_opts *o)
{
	return o->bs_max > o->bs ? o->bs_max : o->bs;
}

/* CPU time of this process, every thread, ns. */
uint64_t blkjob_self_cpu_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts))
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* CPU time of process pid, every thread alive now, ns: the first field
 * of /proc/PID/task/TID/schedstat (time on a CPU).  0 when unreadable. */
uint64_t blkjob_proc_cpu_ns(pid_t pid)
{
	char path[64];
	struct dirent *e;
	uint64_t sum = 0;
	DIR *d;

	if (pid <= 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return 0;
	while ((e = readdir(d)) != NULL) {
		unsigned long long ns;
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%.16s/schedstat",
			 (int)pid, e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fscanf(f, "%llu", &ns) == 1)
			sum += ns;
		fclose(f);
	}
	closedir(d);
	return sum;
}

static void free_slots(struct job *j)
{
	for (unsigned i = 0; j->slots && i < j->nslots; i++) {
		struct slot *s = &j->slots[i];

		if (!s->buf)
			continue;
		if (j->d->mode == CCDMA_MODE_DIRECT)
			ccdma_free_coherent(j->d->dma, io_max(j->o), s->buf, s->dma);
		else
			free(s->buf);
	}
	free(j->slots);
}

/* Options this device (and, in direct mode, its shared pool) cannot
 * serve: refused before any I/O with a message that gives the limit.
 * 0, -EINVAL or -EROFS. */
static int check_job(const struct blkjob_dev *d, const struct blkjob_opts *o)
{
	uint64_t cap = d->info.capacity * CCDMA_VBLK_SECTOR;
	uint64_t range = o->size ? o->size : cap > o->offset ? cap - o->offset : 0;
	uint32_t bs = io_max(o);
	char a[32], b[32], c[32];

	if (o->offset % o->bs || (o->offset && o->offset >= cap)) {
		blkjob_say("offset %llu: not a multiple of --bs, or not inside the "
		    "device's %s", (unsigned long long)o->offset,
		    blkjob_size_str(cap, a, sizeof(a)));
		return -EINVAL;
	}

	if (!o->bs || o->bs % CCDMA_VBLK_SECTOR || o->bs % d->info.blk_size) {
		blkjob_say("--bs %s is not a multiple of the device's block size of %s",
		    blkjob_size_str(o->bs, a, sizeof(a)),
		    blkjob_size_str(d->info.blk_size, b, sizeof(b)));
		return -EINVAL;
	}
	if (bs != o->bs && (bs % o->bs || ((bs / o->bs) & (bs / o->bs - 1)))) {
		blkjob_say("--bs %s-%s: the largest size must be the smallest times a "
		    "power of two", blkjob_size_str(o->bs, a, sizeof(a)),
		    blkjob_size_str(bs, b, sizeof(b)));
		return -EINVAL;
	}
	if (!o->iodepth || o->iodepth > 4096) {
		blkjob_say("--iodepth %u: must be 1..4096", o->iodepth);
		return -EINVAL;
	}
	if (o->rwmixread > 100) {
		blkjob_say("--rwmixread %u: must be 0..100", o->rwmixread);
		return -EINVAL;
	}
	if (o->offset + range > cap) {
		blkjob_say("--size %s is beyond the device's %s",
		    blkjob_size_str(range, a, sizeof(a)),
		    blkjob_size_str(cap, b, sizeof(b)));
		return -EINVAL;
	}
	if (range < bs) {
		blkjob_say("--size %s is smaller than --bs %s (the device has %s)",
		    blkjob_size_str(range, a, sizeof(a)),
		    blkjob_size_str(bs, b, sizeof(b)),
		    blkjob_size_str(cap, c, sizeof(c)));
		return -EINVAL;
	}
	if (d->info.read_only && job_writes(o->rw)) {
		blkjob_say("the device is read-only: --rw %s writes", blkjob_rw_name(o->rw));
		return -EROFS;
	}
	if (d->info.read_only && o->verify) {
		blkjob_say("the device is read-only: --verify writes patterns before it "
		    "reads them back (leave out --verify to read the disk as it is)");
		return -EROFS;
	}
	if (d->mode == CCDMA_MODE_DIRECT) {
		/* The buffers are coherent allocations of the device's pool,
		 * which also holds the rings (one region). */
		uint64_t pool = d->vinfo.pool_max_bytes;
		uint64_t spare = d->vinfo.pool_region_bytes;
		uint64_t slots = o->iodepth;

		if (o->verify && slots > range / o->bs)
			slots = range / o->bs;
		if (bs > CCDMA_POOL_MAX_ALLOC) {
			blkjob_say("--mode direct: --bs %s is more than one coherent "
			    "buffer can be (%s, the largest shared allocation); "
			    "use --bs %llum or less, or --mode confidential",
			    blkjob_size_str(bs, a, sizeof(a)),
			    blkjob_size_str(CCDMA_POOL_MAX_ALLOC, b, sizeof(b)),
			    (unsigned long long)CCDMA_POOL_MAX_ALLOC >> 20);
			return -EINVAL;
		}
		if (pool && slots * bs + spare > pool) {
			blkjob_say("--mode direct: --iodepth %llu x --bs %s of coherent "
			    "buffers do not fit the device's shared pool of %s "
			    "(less %s for the rings); lower --iodepth or --bs, or "
			    "use --mode confidential",
			    (unsigned long long)slots,
			    blkjob_size_str(bs, a, sizeof(a)),
			    blkjob_size_str(pool, b, sizeof(b)),
			    blkjob_size_str(spare, c, sizeof(c)));
			return -EINVAL;
		}
	}
	return 0;
}

/* The job's slots, their buffers and the verification state. */
static int setup_job(struct job *j)
{
	const struct blkjob_opts *o = j->o;
	struct blkjob_dev *d = j->d;
	uint32_t bs = io_max(o);
	char a[32];

	j->slots = calloc(j->nslots, sizeof(*j->slots));
	if (!j->slots)
		return -ENOMEM;
	for (unsigned i = 0; i < j->nslots; i++) {
		struct slot *s = &j->slots[i];

		s->job = j;
		if (d->mode == CCDMA_MODE_DIRECT) {
			if (ccdma_alloc_coherent(d->dma, bs, &s->buf, &s->dma,
						 CCDMA_ATTR_WAIT))
				s->buf = NULL;
		} else {
			s->buf = aligned_alloc(4096, (bs + 4095) & ~(size_t)4095);
		}
		if (!s->buf) {
			blkjob_say("no %s memory for %u buffers of %s",
			    d->mode == CCDMA_MODE_DIRECT ? "shared (coherent)" :
							   "private",
			    j->nslots, blkjob_size_str(bs, a, sizeof(a)));
			return -ENOMEM;
		}
		/* Writes without verification send this. */
		fill_pattern(s->buf, bs, i, 0, o->seed);
		s->next_free = j->free_slots;
		j->free_slots = s;
	}
	if (o->verify) {
		j->gen = calloc(j->nblocks, sizeof(*j->gen));
		j->busy = calloc(j->nblocks, 1);
		j->expect = malloc(o->bs);
		if (!j->gen || !j->busy || !j->expect)
			return -ENOMEM;
	}
	return 0;
}

/* Latency percentiles from a histogram and its sums. */
static void lat_from(struct blkjob_lat *l, const uint64_t *hist, uint64_t n,
		     uint64_t sum, uint64_t max)
{
	if (!n)
		return;
	l->mean_us = (double)sum / (double)n / 1000.0;
	l->p50_us = hist_percentile(hist, n, 0.50);
	l->p90_us = hist_percentile(hist, n, 0.90);
	l->p99_us = hist_percentile(hist, n, 0.99);
	l->p999_us = hist_percentile(hist, n, 0.999);
	l->max_us = (double)max / 1000.0;
}

/* Latency percentiles and rates of the timed phase. */
static void sum_up(struct job *j, struct blkjob_result *r)
{
	if (j->lat_n) {
		lat_from(&r->lat, j->lat_hist, j->lat_n, j->lat_sum_ns,
			 j->lat_max_ns);
		if (j->o->lat_hist)
			for (unsigned i = 0; i < HIST_N; i++)
				j->o->lat_hist[i] += j->lat_hist[i];
	}
	if (r->elapsed_s > 0) {
		r->iops = (double)(r->reads + r->writes) / r->elapsed_s;
		r->mib_s = (double)(r->bytes_read + r->bytes_written) /
			   r->elapsed_s / 1048576.0;
	}
}

/* The phases: prefill (verify of a job that reads), warm-up, timed,
 * read-back (verify of a job that writes).  0 or what cut them short. */
static int run_phases(struct job *j)
{
	const struct blkjob_opts *o = j->o;
	struct blkjob_result *r = j->r;
	struct ccdma_pool *pool = ccdma_dev_pool(j->d->dma);
	struct ccdma_pool_stats before;
	uint64_t start = blkjob_now_ns(), cpu0, dev0, dev1;
	int rc;

	r->ran = true;
	if (o->verify && job_reads(o->rw)) {
		rc = run_phase(j, PH_PREFILL, 0, j->nblocks, start);
		if (rc)
			return rc;
	}
	if (o->warmup_s > 0) {
		rc = run_phase(j, PH_WARMUP, o->warmup_s, 0, start);
		if (rc)
			return rc;
	}
	ccdma_pool_get_stats(pool, &before);
	cpu0 = blkjob_self_cpu_ns();
	dev0 = blkjob_proc_cpu_ns(o->dev_pid);
	rc = run_phase(j, PH_TIMED, o->runtime_s,
		       o->runtime_s > 0 ? 0 : j->nblocks, start);
	r->cpu_ns = blkjob_self_cpu_ns() - cpu0;
	dev1 = blkjob_proc_cpu_ns(o->dev_pid);
	r->dev_cpu_ns = dev0 && dev1 > dev0 ? dev1 - dev0 : 0;
	ccdma_pool_get_stats(pool, &r->pool);
	r->bounced_to_device = r->pool.bounced_to_device_bytes -
			       before.bounced_to_device_bytes;
	r->bounced_from_device = r->pool.bounced_from_device_bytes -
				 before.bounced_from_device_bytes;
	if (rc || blkjob_stop_requested)
		return rc;
	if (o->verify && job_writes(o->rw))
		rc = run_phase(j, PH_VERIFY, 0, 0, start);
	return rc;
}

/* Check the job and set it up: 0 and *out, or the error (with *out set
 * when there is something for job_end to free). */
static int job_begin(struct blkjob_dev *d, const struct blkjob_opts *o,
		     struct blkjob_result *r, struct job **out)
{
	uint64_t cap = d->info.capacity * CCDMA_VBLK_SECTOR;
	struct job *j;
	int rc;

	*out = NULL;
	memset(r, 0, sizeof(*r));
	rc = check_job(d, o);
	if (rc)
		return rc;
	j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	*out = j;
	j->d = d;
	j->o = o;
	j->r = r;
	j->rng = o->seed;
	j->nblocks = (o->size ? o->size : cap - o->offset) / o->bs;
	j->max_blk = io_max(o) / o->bs;
	while ((1u << j->size_steps) <= j->max_blk)
		j->size_steps++;
	j->nslots = o->iodepth;
	if (o->verify && j->nslots > j->nblocks)
		j->nslots = (unsigned)j->nblocks;
	return setup_job(j);
}

/* The phases of a job that was set up, and its summary. */
static int job_go(struct job *j)
{
	int rc = run_phases(j);

	sum_up(j, j->r);
	j->r->complete = !rc && !blkjob_stop_requested;
	j->r->verify_complete = j->o->verify && j->r->complete && !j->r->failed;
	return rc;
}

/* The device still owns buffers of a job that ended with requests in
 * flight (it stopped answering): tear the driver down first, which
 * completes them with -ENODEV. */
static void job_teardown(struct blkjob_dev *d)
{
	ccdma_vblk_destroy(d->blk);
	d->blk = NULL;
}

/* Free the job; what blkjob_run returns for it. */
static int job_end(struct job *j, int rc)
{
	struct blkjob_result *r = j->r;

	if (j->d->blk)
		ccdma_vblk_get_stats(j->d->blk, &r->drv);
	free_slots(j);
	free(j->gen);
	free(j->busy);
	free(j->expect);
	free(j);
	if (rc)
		return rc;
	if (r->failed)
		return -EIO;
	if (r->verify_errors)
		return -EILSEQ;
	return 0;
}

int blkjob_run(struct blkjob_dev *d, const struct blkjob_opts *o,
	       struct blkjob_result *r)
{
	struct job *j;
	int rc = job_begin(d, o, r, &j);

	if (!j)
		return rc;
	if (!rc)
		rc = job_go(j);
	if (j->inflight)
		job_teardown(d);
	return job_end(j, rc);
}

struct job_thread {
	struct job *j;
	pthread_t tid;
	bool started;
	int rc;
};

static void *job_thread_main(void *arg)
{
	struct job_thread *t = arg;

	t->rc = job_go(t->j);
	return NULL;
}

/* *total from the jobs' results (see blkjob_run_many). */
static void add_up(struct blkjob_result *total, const struct blkjob_result *per,
		   unsigned n)
{
	memset(total, 0, sizeof(*total));
	total->complete = true;
	for (unsigned i = 0; i < n; i++) {
		const struct blkjob_result *r = &per[i];

		total->reads += r->reads;
		total->writes += r->writes;
		total->bytes_read += r->bytes_read;
		total->bytes_written += r->bytes_written;
		total->verified_bytes += r->verified_bytes;
		if (r->verify_errors && !total->verify_errors)
			total->first_bad_offset = r->first_bad_offset;
		total->verify_errors += r->verify_errors;
		if (r->error && !total->error)
			total->error = r->error;
		total->failed += r->failed;
		total->ran |= r->ran;
		total->complete &= r->complete;
		total->bounced_to_device += r->bounced_to_device;
		total->bounced_from_device += r->bounced_from_device;
		total->dev_cpu_ns += r->dev_cpu_ns;
		if (r->elapsed_s > total->elapsed_s)
			total->elapsed_s = r->elapsed_s;
	}
	if (total->elapsed_s > 0) {
		total->iops = (double)(total->reads + total->writes) / total->elapsed_s;
		total->mib_s = (double)(total->bytes_read + total->bytes_written) /
			       total->elapsed_s / 1048576.0;
	}
}

/* The driver's counters of two devices added. */
static void drv_add(struct ccdma_vblk_stats *t, const struct ccdma_vblk_stats *s)
{
	t->submitted += s->submitted;
	t->completed += s->completed;
	t->split_parts += s->split_parts;
	t->errors += s->errors;
	t->notifications += s->notifications;
	t->interrupts += s->interrupts;
	t->used_len_clamped += s->used_len_clamped;
	t->short_reads += s->short_reads;
	t->reconnects += s->reconnects;
	t->slot_parts += s->slot_parts;
	t->slots += s->slots;
	t->slot_bytes += s->slot_bytes;
}

/* Check that every device can take njobs jobs on queues o->queue.. and a
 * block each: 0, or -EINVAL after a message; *part the bytes each job of
 * device k gets (part[k]). */
static int check_many(struct blkjob_dev *const *devs, unsigned ndevs,
		      const struct blkjob_opts *o, unsigned njobs, uint64_t *part)
{
	char a[32], b[32];

	for (unsigned k = 0; k < ndevs; k++) {
		const struct blkjob_dev *d = devs[k];
		uint64_t cap = d->info.capacity * CCDMA_VBLK_SECTOR, range;

		if (!njobs || o->queue + njobs > d->info.num_queues) {
			blkjob_say("%u job(s) on queues %u..%u: the device%s%s has "
			    "%u queue(s) (ccdma-devsim --queues N, "
			    "qemu-storage-daemon num-queues=N)", njobs, o->queue,
			    o->queue + njobs - 1, ndevs > 1 ? " at " : "",
			    ndevs > 1 && d->name ? d->name : "",
			    d->info.device_queues);
			return -EINVAL;
		}
		range = o->size ? o->size : cap > o->offset ? cap - o->offset : 0;
		part[k] = range / njobs / io_max(o) * io_max(o);
		if (!part[k]) {
			blkjob_say("--size %s cannot give each of %u jobs a block "
			    "of %s", blkjob_size_str(range, a, sizeof(a)), njobs,
			    blkjob_size_str(io_max(o), b, sizeof(b)));
			return -EINVAL;
		}
	}
	return 0;
}

int blkjob_run_devs(struct blkjob_dev *const *devs, unsigned ndevs,
		    const struct blkjob_opts *o, unsigned njobs,
		    struct blkjob_result *per, struct blkjob_result *dev_total,
		    struct blkjob_result *total)
{
	unsigned n = ndevs * njobs;
	uint64_t cpu0 = 0, cpu_ns = 0, *part = NULL;
	struct ccdma_pool_stats *p0 = NULL;
	uint64_t *hist = NULL, lat_n = 0, lat_sum = 0, lat_max = 0;
	struct blkjob_opts *opts = NULL;
	struct job_thread *t = NULL;
	int rc = 0, first = 0;

	memset(total, 0, sizeof(*total));
	if (dev_total)
		memset(dev_total, 0, ndevs * sizeof(*dev_total));
	if (!ndevs)
		return -EINVAL;
	part = calloc(ndevs, sizeof(*part));
	p0 = calloc(ndevs, sizeof(*p0));
	if (!part || !p0) {
		free(part);
		free(p0);
		return -ENOMEM;
	}
	rc = check_many(devs, ndevs, o, njobs, part);
	if (rc) {
		free(part);
		free(p0);
		return rc;
	}
	opts = calloc(n, sizeof(*opts));
	t = calloc(n, sizeof(*t));
	/* One histogram per device and one for the total. */
	hist = calloc((size_t)(ndevs + 1) * HIST_N, sizeof(*hist));
	if (!opts || !t || !hist) {
		rc = -ENOMEM;
		goto out;
	}
	for (unsigned x = 0; x < n && !rc; x++) {
		unsigned k = x / njobs, i = x % njobs;

		opts[x] = *o;
		opts[x].queue = o->queue + i;
		opts[x].offset = o->offset + i * part[k];
		opts[x].size = part[k];
		opts[x].seed = o->seed + x;
		opts[x].progress = false;
		opts[x].log = NULL;
		opts[x].lat_hist = NULL;
		rc = job_begin(devs[k], &opts[x], &per[x], &t[x].j);
	}
	for (unsigned k = 0; k < ndevs; k++)
		ccdma_pool_get_stats(ccdma_dev_pool(devs[k]->dma), &p0[k]);
	cpu0 = blkjob_self_cpu_ns();
	for (unsigned x = 0; x < n && !rc; x++) {
		int err = pthread_create(&t[x].tid, NULL, job_thread_main, &t[x]);

		if (err) {
			blkjob_say("cannot start job %u's thread: %s", x, strerror(err));
			rc = -err;
			blkjob_stop_requested = 1; /* the others stop issuing */
		} else {
			t[x].started = true;
		}
	}
	for (unsigned x = 0; x < n; x++)
		if (t[x].started)
			pthread_join(t[x].tid, NULL);
	cpu_ns = blkjob_self_cpu_ns() - cpu0;
	for (unsigned k = 0; k < ndevs; k++) {
		uint64_t dn = 0, dsum = 0, dmax = 0, *dh = hist + (k + 1) * HIST_N;
		bool inflight = false;

		for (unsigned i = 0; i < njobs; i++) {
			struct job *j = t[k * njobs + i].j;

			if (!j)
				continue;
			inflight |= j->inflight != 0;
			for (unsigned b = 0; b < HIST_N; b++) {
				dh[b] += j->lat_hist[b];
				hist[b] += j->lat_hist[b];
			}
			dn += j->lat_n;
			dsum += j->lat_sum_ns;
			if (j->lat_max_ns > dmax)
				dmax = j->lat_max_ns;
		}
		if (dev_total)
			lat_from(&dev_total[k].lat, dh, dn, dsum, dmax);
		lat_n += dn;
		lat_sum += dsum;
		if (dmax > lat_max)
			lat_max = dmax;
		if (inflight)
			job_teardown(devs[k]);
	}
out:
	for (unsigned x = 0; t && x < n; x++) {
		int jrc;

		if (!t[x].j)
			continue;
		jrc = job_end(t[x].j, rc ? rc : t[x].rc);
		if (jrc && !first)
			first = jrc;
	}
	for (unsigned k = 0; t && dev_total && k < ndevs; k++) {
		struct blkjob_lat l = dev_total[k].lat;
		struct blkjob_result *dt = &dev_total[k];

		add_up(dt, per + k * njobs, njobs);
		dt->lat = l;
		dt->verify_complete = o->verify && dt->complete && !dt->failed;
		ccdma_pool_get_stats(ccdma_dev_pool(devs[k]->dma), &dt->pool);
		if (devs[k]->blk)
			ccdma_vblk_get_stats(devs[k]->blk, &dt->drv);
	}
	if (t)
		add_up(total, per, n);
	/* Each job's bounced bytes are its pool's counters over its timed
	 * phase, which count every job on that pool: the totals are each
	 * pool's over the whole run instead, every pool counted once. */
	total->bounced_to_device = total->bounced_from_device = 0;
	for (unsigned k = 0; k < ndevs; k++) {
		struct ccdma_pool *pk = ccdma_dev_pool(devs[k]->dma);
		struct ccdma_pool_stats st;
		bool seen = false;

		ccdma_pool_get_stats(pk, &st);
		st.bounced_to_device_bytes -= p0[k].bounced_to_device_bytes;
		st.bounced_from_device_bytes -= p0[k].bounced_from_device_bytes;
		if (dev_total) {
			dev_total[k].bounced_to_device = st.bounced_to_device_bytes;
			dev_total[k].bounced_from_device = st.bounced_from_device_bytes;
		}
		for (unsigned i = 0; i < k; i++)
			seen |= ccdma_dev_pool(devs[i]->dma) == pk;
		if (seen)
			continue;
		total->bounced_to_device += st.bounced_to_device_bytes;
		total->bounced_from_device += st.bounced_from_device_bytes;
	}
	total->cpu_ns = cpu_ns;
	lat_from(&total->lat, hist, lat_n, lat_sum, lat_max);
	total->verify_complete = o->verify && total->complete && !total->failed;
	ccdma_pool_get_stats(ccdma_dev_pool(devs[0]->dma), &total->pool);
	for (unsigned k = 0; k < ndevs; k++) {
		struct ccdma_vblk_stats st;

		if (!devs[k]->blk)
			continue;
		ccdma_vblk_get_stats(devs[k]->blk, &st);
		drv_add(&total->drv, &st);
	}
	free(hist);
	free(opts);
	free(t);
	free(part);
	free(p0);
	return first ? first : rc;
}

int blkjob_run_many(struct blkjob_dev *d, const struct blkjob_opts *o,
		    unsigned njobs, struct blkjob_result *per,
		    struct blkjob_result *total)
{
	return blkjob_run_devs(&d, 1, o, njobs, per, NULL, total);
}
