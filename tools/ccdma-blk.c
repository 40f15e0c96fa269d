/* SPDX-License-Identifier: MIT */
/*
 * ccdma-blk: a fio-like tool over the virtio-blk driver.  It connects to a
 * vhost-user-blk device process (--socket), or starts ccdma-devsim itself
 * when no socket is given, runs one job and prints IOPS, bandwidth,
 * latency percentiles and the bounce statistics.  --json prints one JSON
 * object instead.
 *
 * Exit status: 0 success; 1 the run failed (a request failed, the device
 * broke or could not be reached); 2 bad options, or options this device
 * cannot serve (refused before any I/O, with the limit); 3 verification
 * found bytes that differ from what was written.
 *
 * Every line on stderr starts with "ccdma-blk: " (the library's own log
 * lines too), and sizes are printed in binary units ("64 MiB").
 */
#define _GNU_SOURCE

#include "blkjob.h"
#include "bench.h"

#include <ccdma/dma.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* --socket given more than once: at most this many devices. */
#define MAX_DEVS 64

struct cli {
	const char *socket;        /* the first --socket */
	const char *sockets[MAX_DEVS];
	unsigned nsockets;
	bool pool_per_device;      /* --pool-per-device */
	bool devsim_set, disk_size_set;
	const char *devsim;
	uint64_t disk_size;      /* spawned device's disk */
	enum ccdma_mode mode;
	bool json, quiet;
	unsigned queues;
	unsigned numjobs;          /* --numjobs: threads, one queue each */
	unsigned poll_us;
	/* --pool-*: the bounce pool (set: the user gave one of them). */
	bool pool_set;
	struct ccdma_pool_config pool;
	unsigned linger_ms;
	/* --reconnect[=S] (0: off), --stall-timeout S (0: the driver's). */
	unsigned reconnect_ms, stall_ms;
	bool reconnect_hostile;    /* --reconnect-hostile */
	uint32_t slot_size;        /* --slot-size */
	unsigned log_every_ms;     /* --log-every MS */
	const char *plot;          /* --plot DIR */
	struct blkjob_opts job;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ccdma-blk [options]\n"
		"  --socket PATH        vhost-user-blk socket of a running device process;\n"
		"                       without it ccdma-devsim is started on a RAM disk.\n"
		"                       Given more than once (up to 64): every device is\n"
		"                       driven at once, each with the whole job\n"
		"                       (--numjobs jobs on each), all bouncing through\n"
		"                       one shared pool; the summary and the JSON show\n"
		"                       each device and the total\n"
		"  --pool-per-device    with several --socket: each device its own pool\n"
		"                       (the --pool-* options apply to each)\n"
		"  --devsim PATH        the ccdma-devsim program to start (default: the\n"
		"                       one beside ccdma-blk, or $CCDMA_DEVSIM)\n"
		"  --disk-size SIZE     the started device's disk (default 256m)\n"
		"  --rw MODE            read|write|randread|randwrite|rw|randrw (default randread)\n"
		"  --rwmixread PCT      reads in rw/randrw, percent (default 50)\n"
		"  --bs SIZE            bytes per I/O, a multiple of 512 (default 4k)\n"
		"  --bs MIN-MAX         sizes that vary: each I/O moves MIN times a power\n"
		"                       of two up to MAX, every size equally likely\n"
		"                       (MAX / MIN a power of two; --verify checks every\n"
		"                       MIN-sized block)\n"
		"  --iodepth N          requests in flight (default 1)\n"
		"  --size SIZE          bytes of the device to use (default: all)\n"
		"  --runtime SECONDS    run this long (default: move --size bytes once)\n"
		"  --verify             write patterns, read them back, compare every byte\n"
		"  --mode MODE          confidential (private buffers, bounced; default)\n"
		"                       or direct (buffers in shared memory, not bounced)\n"
		"  --queue N            the virtqueue to use (default 0)\n"
		"  --numjobs N          N jobs at once, each on its own thread, queue\n"
		"                       (--queue + i) and 1/N of --size (default 1;\n"
		"                       the started ccdma-devsim gets enough queues)\n"
		"  --seed N             pattern and offset seed\n"
		"  --poll-us N          poll for completions this long before sleeping\n"
		"                       (default 0: sleep at once)\n"
		"  --pool-max SIZE      cap on the bounce pool's shared memory (default:\n"
		"                       the front-end's, see docs/vhost.md; a pool shared\n"
		"                       by several --socket: 30 regions, which fits\n"
		"                       ccdma-devsim's 32 memory slots)\n"
		"  --pool-region SIZE   the pool's growth unit (default 4m)\n"
		"  --pool-idle-ms N     a wholly free region is given back after N ms\n"
		"                       (default 1000)\n"
		"  --pool-high-water SIZE  free shared bytes the pool keeps when idle\n"
		"                       (default 8m; 0: shrink to the floor)\n"
		"  --linger MS          after the job, stay connected and idle until the\n"
		"                       pool has given back what it gives back when idle\n"
		"                       (at most MS ms), and report the pool then\n"
		"  --reconnect[=S]      when the device process hangs up, breaks the\n"
		"                       protocol or stalls, wait up to S seconds (default\n"
		"                       30) for it to come back on the socket, and post\n"
		"                       again what was in flight: a delay, not an error\n"
		"                       (the summary and the JSON count reconnects)\n"
		"  --log-every MS --plot DIR\n"
		"                       sample the timed run every MS ms (IOPS, MiB/s,\n"
		"                       mean latency, pool) into DIR/blk-log.dat and\n"
		"                       draw DIR/blk-log.png with gnuplot\n"
		"  --reconnect-hostile  with --reconnect, reconnect after a used-ring\n"
		"                       violation too (a device proven hostile; the\n"
		"                       soak's misbehaving restarts; docs/vhost.md)\n"
		"  --slot-size SIZE     persistent bounce slots: a request of at most\n"
		"                       SIZE bytes is copied through a slot its queue\n"
		"                       keeps (default 64k; 0: every request bounced\n"
		"                       through the pool)\n"
		"  --stall-timeout S    the device is stalled when it completes nothing\n"
		"                       for S seconds with requests in flight (default\n"
		"                       30): with --reconnect it is reconnected, without\n"
		"                       it the run fails\n"
		"  --json               one JSON object on stdout instead of the summary\n"
		"  (SIGUSR1 ends the timed run now, as if --runtime had passed; the\n"
		"  verification then runs.  SIGINT/SIGTERM stop it: cut short.)\n"
		"  --quiet              no progress line on stderr\n"
		"  -h, --help           this text\n"
		"SIZE takes k, m, g suffixes (powers of two).  In direct mode the buffers\n"
		"are the device's shared memory: --bs up to 16m, and --iodepth x --bs must\n"
		"fit its pool.  Exit status: 0 ok, 1 the run failed, 2 bad or unservable\n"
		"options, 3 verification found differing bytes.\n");
}

static int bad(const char *opt, const char *val, const char *why)
{
	fprintf(stderr, "ccdma-blk: %s '%s': %s (try --help)\n", opt, val, why);
	return 2;
}

/* Seconds (a fraction allowed) from 0.001 to 3600, into ms.  0 or -1. */
static int parse_seconds_ms(const char *s, unsigned *ms)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= 0.001) || v > 3600)
		return -1;
	*ms = (unsigned)(v * 1000.0 + 0.5);
	return 0;
}

static int parse_uint(const char *s, unsigned max, unsigned *out)
{
	char *end;
	unsigned long v;

	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > max)
		return -1;
	*out = (unsigned)v;
	return 0;
}

/* --bs SIZE or --bs MIN-MAX: 0, or -1 when malformed. */
static int parse_bs(const char *arg, struct blkjob_opts *o)
{
	const char *dash = strchr(arg, '-');
	char min[32];
	uint64_t lo, hi;

	if (!dash) {
		if (blkjob_parse_size(arg, &lo))
			return -1;
		hi = lo;
	} else {
		if ((size_t)(dash - arg) >= sizeof(min))
			return -1;
		memcpy(min, arg, (size_t)(dash - arg));
		min[dash - arg] = 0;
		if (blkjob_parse_size(min, &lo) || blkjob_parse_size(dash + 1, &hi))
			return -1;
	}
	if (!lo || lo % 512 || hi % lo || hi > (64ull << 20) ||
	    ((hi / lo) & (hi / lo - 1)))
		return -1;
	o->bs = (uint32_t)lo;
	o->bs_max = (uint32_t)hi;
	return 0;
}

/* Options that serve one device only, with several --socket: 0, or -1
 * after the message. */
static int check_devices(const struct cli *c)
{
	const char *opt = NULL, *why = "";

	if (c->pool_per_device && c->nsockets < 2) {
		fprintf(stderr, "ccdma-blk: --pool-per-device needs more than one "
			"--socket (try --help)\n");
		return -1;
	}
	if (c->nsockets < 2)
		return 0;
	if (c->reconnect_ms) {
		opt = "--reconnect";
		why = "reconnecting is supported for one device only";
	} else if (c->devsim_set || c->disk_size_set) {
		opt = c->devsim_set ? "--devsim" : "--disk-size";
		why = "ccdma-blk starts ccdma-devsim only without --socket; start "
		      "each device process yourself";
	} else if (c->linger_ms) {
		opt = "--linger";
		why = "lingering is supported for one device only";
	} else if (c->plot) {
		opt = "--plot";
		why = "sampling is supported for one device only";
	} else {
		for (unsigned i = 0; i < c->nsockets && !opt; i++)
			for (unsigned k = 0; k < i && !opt; k++)
				if (!strcmp(c->sockets[i], c->sockets[k])) {
					opt = "--socket";
					why = "the same socket twice: give each "
					      "device once";
				}
	}
	if (!opt)
		return 0;
	fprintf(stderr, "ccdma-blk: %s with %u devices (--socket given %u "
		"times): %s (try --help)\n", opt, c->nsockets, c->nsockets, why);
	return -1;
}

static int parse_args(int argc, char **argv, struct cli *c)
{
	static const struct option lo[] = {
		{ "socket", required_argument, 0, 's' },
		{ "pool-per-device", no_argument, 0, 'p' },
		{ "devsim", required_argument, 0, 'D' },
		{ "disk-size", required_argument, 0, 'd' },
		{ "rw", required_argument, 0, 'w' },
		{ "rwmixread", required_argument, 0, 'x' },
		{ "bs", required_argument, 0, 'b' },
		{ "iodepth", required_argument, 0, 'q' },
		{ "size", required_argument, 0, 'z' },
		{ "runtime", required_argument, 0, 't' },
		{ "verify", no_argument, 0, 'v' },
		{ "mode", required_argument, 0, 'm' },
		{ "queue", required_argument, 0, 'Q' },
		{ "numjobs", required_argument, 0, 'J' },
		{ "seed", required_argument, 0, 'S' },
		{ "poll-us", required_argument, 0, 'P' },
		{ "pool-max", required_argument, 0, 'M' },
		{ "pool-region", required_argument, 0, 'R' },
		{ "pool-idle-ms", required_argument, 0, 'I' },
		{ "pool-high-water", required_argument, 0, 'H' },
		{ "linger", required_argument, 0, 'L' },
		{ "reconnect", optional_argument, 0, 'r' },
		{ "stall-timeout", required_argument, 0, 'T' },
		{ "reconnect-hostile", no_argument, 0, 'X' },
		{ "slot-size", required_argument, 0, 'W' },
		{ "log-every", required_argument, 0, 'G' },
		{ "plot", required_argument, 0, 'O' },
		{ "json", no_argument, 0, 'j' },
		{ "quiet", no_argument, 0, 'u' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	uint64_t v;
	unsigned u;
	char *end;
	int ch;

	memset(c, 0, sizeof(*c));
	c->slot_size = CCDMA_VBLK_SLOT_SIZE_DEFAULT;
	ccdma_pool_config_init(&c->pool);
	c->disk_size = 256ull << 20;
	c->mode = CCDMA_MODE_CONFIDENTIAL;
	c->numjobs = 1;
	blkjob_opts_init(&c->job);
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		switch (ch) {
		case 's':
			if (c->nsockets == MAX_DEVS)
				return bad("--socket", optarg, "at most 64 devices");
			c->sockets[c->nsockets++] = optarg;
			c->socket = c->sockets[0];
			break;
		case 'p': c->pool_per_device = true; break;
		case 'D': c->devsim = optarg; c->devsim_set = true; break;
		case 'd':
			if (blkjob_parse_size(optarg, &v) || v < 1048576 || v % 512)
				return bad("--disk-size", optarg,
					   "a size of at least 1m, a multiple of 512");
			c->disk_size = v;
			c->disk_size_set = true;
			break;
		case 'w':
			if (blkjob_parse_rw(optarg, &c->job.rw))
				return bad("--rw", optarg,
					   "one of read, write, randread, randwrite, rw, randrw");
			break;
		case 'x':
			if (parse_uint(optarg, 100, &c->job.rwmixread))
				return bad("--rwmixread", optarg, "a percentage 0..100");
			break;
		case 'b':
			if (parse_bs(optarg, &c->job))
				return bad("--bs", optarg,
					   "a multiple of 512 bytes up to 64m, or "
					   "MIN-MAX of such with MAX / MIN a power "
					   "of two");
			break;
		case 'q':
			if (parse_uint(optarg, 4096, &u) || !u)
				return bad("--iodepth", optarg, "1..4096");
			c->job.iodepth = u;
			break;
		case 'z':
			if (blkjob_parse_size(optarg, &v) || !v || v % 512)
				return bad("--size", optarg, "a multiple of 512 bytes");
			c->job.size = v;
			break;
		case 't':
			errno = 0;
			c->job.runtime_s = strtod(optarg, &end);
			if (errno || *end || !(c->job.runtime_s > 0) ||
			    c->job.runtime_s > 1e6)
				return bad("--runtime", optarg, "seconds, > 0");
			break;
		case 'v': c->job.verify = true; break;
		case 'm':
			if (!strcmp(optarg, "confidential"))
				c->mode = CCDMA_MODE_CONFIDENTIAL;
			else if (!strcmp(optarg, "direct"))
				c->mode = CCDMA_MODE_DIRECT;
			else
				return bad("--mode", optarg, "confidential or direct");
			break;
		case 'Q':
			if (parse_uint(optarg, 15, &c->job.queue))
				return bad("--queue", optarg, "0..15");
			break;
		case 'J':
			if (parse_uint(optarg, 16, &c->numjobs) || !c->numjobs)
				return bad("--numjobs", optarg, "1..16");
			break;
		case 'S':
			errno = 0;
			c->job.seed = strtoull(optarg, &end, 0);
			if (errno || *end || !*optarg)
				return bad("--seed", optarg, "a number");
			break;
		case 'P':
			if (parse_uint(optarg, 1000000, &c->poll_us))
				return bad("--poll-us", optarg, "microseconds, 0..1000000");
			break;
		case 'M':
			if (blkjob_parse_size(optarg, &v) || v < (64u << 10))
				return bad("--pool-max", optarg, "a size of at least 64k");
			c->pool.max_bytes = (size_t)v;
			c->pool_set = true;
			break;
		case 'R':
			if (blkjob_parse_size(optarg, &v) || v < (64u << 10) ||
			    v > (1u << 30) || (v & (v - 1)))
				return bad("--pool-region", optarg,
					   "a power of two from 64k to 1g");
			c->pool.region_size = (size_t)v;
			c->pool_set = true;
			break;
		case 'I':
			if (parse_uint(optarg, 3600000, &u))
				return bad("--pool-idle-ms", optarg,
					   "milliseconds, 0..3600000");
			c->pool.idle_ms = u;
			c->pool_set = true;
			break;
		case 'H':
			if (blkjob_parse_size(optarg, &v))
				return bad("--pool-high-water", optarg, "a size");
			c->pool.high_watermark = (size_t)v;
			if (c->pool.low_watermark > v)
				c->pool.low_watermark = (size_t)v;
			c->pool_set = true;
			break;
		case 'L':
			if (parse_uint(optarg, 3600000, &c->linger_ms) || !c->linger_ms)
				return bad("--linger", optarg, "milliseconds, 1..3600000");
			break;
		case 'r':
			c->reconnect_ms = 30000;
			if (optarg && parse_seconds_ms(optarg, &c->reconnect_ms))
				return bad("--reconnect", optarg,
					   "seconds, > 0 (at most 3600)");
			break;
		case 'X': c->reconnect_hostile = true; break;
		case 'W':
			if (blkjob_parse_size(optarg, &v) || v > (4u << 20))
				return bad("--slot-size", optarg,
					   "a size, 0..4m (0: no slots)");
			c->slot_size = (uint32_t)v;
			break;
		case 'G':
			if (parse_uint(optarg, 3600000, &c->log_every_ms) ||
			    c->log_every_ms < 10)
				return bad("--log-every", optarg,
					   "milliseconds, 10..3600000");
			break;
		case 'O': c->plot = optarg; break;
		case 'T':
			if (parse_seconds_ms(optarg, &c->stall_ms))
				return bad("--stall-timeout", optarg,
					   "seconds, > 0 (at most 3600)");
			break;
		case 'j': c->json = true; break;
		case 'u': c->quiet = true; break;
		case 'h':
			usage(stdout);
			exit(0);
		case ':':
			fprintf(stderr, "ccdma-blk: option %s needs a value (try "
				"--help)\n", argv[optind - 1]);
			return 2;
		default: {
			const char *arg = argv[optind - 1];
			const char *eq = strchr(arg, '=');

			if (!strncmp(arg, "--", 2) && eq && optopt)
				fprintf(stderr, "ccdma-blk: option %.*s takes no "
					"value (try --help)\n", (int)(eq - arg), arg);
			else if (!strncmp(arg, "--", 2))
				fprintf(stderr, "ccdma-blk: unknown option %s (try "
					"--help)\n", arg);
			else
				fprintf(stderr, "ccdma-blk: unknown option -%c (try "
					"--help)\n", optopt);
			return 2;
		}
		}
	}
	if (optind < argc) {
		fprintf(stderr, "ccdma-blk: unexpected argument '%s' (try --help)\n",
			argv[optind]);
		return 2;
	}
	if (c->pool_set && c->pool.max_bytes < c->pool.region_size) {
		fprintf(stderr, "ccdma-blk: --pool-max %zu bytes is less than one "
			"region of %zu bytes (--pool-region) (try --help)\n",
			c->pool.max_bytes, c->pool.region_size);
		return 2;
	}
	if (!c->log_every_ms != !c->plot) {
		fprintf(stderr, "ccdma-blk: --log-every and --plot go together "
			"(try --help)\n");
		return 2;
	}
	if (c->reconnect_hostile && !c->reconnect_ms) {
		fprintf(stderr, "ccdma-blk: --reconnect-hostile needs --reconnect "
			"(try --help)\n");
		return 2;
	}
	/* On stderr, so --json output on stdout stays one object. */
	c->job.progress = !c->quiet;
	if (c->job.queue + c->numjobs > 16) {
		fprintf(stderr, "ccdma-blk: --queue %u --numjobs %u: queues %u..%u; a "
			"device has at most 16 (try --help)\n", c->job.queue,
			c->numjobs, c->job.queue, c->job.queue + c->numjobs - 1);
		return 2;
	}
	if (c->numjobs > 1 && c->plot) {
		fprintf(stderr, "ccdma-blk: --plot samples one job; leave it out with "
			"--numjobs (try --help)\n");
		return 2;
	}
	if (check_devices(c))
		return 2;
	c->queues = c->job.queue + c->numjobs;
	/* The job's own "device silent" limit: --stall-timeout; with
	 * --reconnect beyond the driver's stall timeout and reconnect (the
	 * driver decides). */
	c->job.idle_limit_ms = c->stall_ms;
	if (c->reconnect_ms)
		c->job.idle_limit_ms = (c->stall_ms ? c->stall_ms :
					CCDMA_VBLK_SYNC_TIMEOUT_DEFAULT_MS) +
				       c->reconnect_ms + 10000u;
	return 0;
}

/* The pool after the job (--linger). */
struct linger {
	bool ran, settled;
	double seconds;
	uint64_t in_use_before;          /* before the job: the rings */
	struct ccdma_pool_stats pool;    /* when it settled, or at the limit */
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * Stay idle until the pool has given back what it gives back when idle:
 * idle_ms has passed since the job ended (so every region freed by then
 * has been free long enough), and the grower has then made three passes
 * without changing the number of regions.  Events of the pool, not a
 * guessed time; at most c->linger_ms.
 */
static void do_linger(const struct cli *c, const struct blkjob_dev *d,
		      struct linger *l)
{
	struct ccdma_pool *p = ccdma_dev_pool(d->dma);
	uint64_t t0 = mono_ns(), idle = (uint64_t)c->pool.idle_ms * 1000000ull;
	uint64_t end = t0 + (uint64_t)c->linger_ms * 1000000ull;
	uint64_t first_pass = 0, stable_pass = 0, regions = UINT64_MAX;
	const struct timespec tick = { 0, 5000000 };

	l->ran = true;
	for (;;) {
		uint64_t now = mono_ns();

		ccdma_pool_get_stats(p, &l->pool);
		if (now - t0 >= idle) {
			if (!first_pass)
				first_pass = l->pool.grower_passes + 1;
			if (l->pool.regions != regions) {
				regions = l->pool.regions;
				stable_pass = l->pool.grower_passes;
			} else if (l->pool.grower_passes >= first_pass &&
				   l->pool.grower_passes >= stable_pass + 3) {
				l->settled = true;
				break;
			}
		}
		if (now >= end || blkjob_stop_requested)
			break;
		nanosleep(&tick, NULL);
	}
	l->seconds = (double)(mono_ns() - t0) / 1e9;
}

static void print_linger(const struct linger *l)
{
	if (!l->ran)
		return;
	printf("  linger: %s after %.2f s: pool %.1f MiB in %llu region(s), "
	       "%llu bytes in use (%llu before the job)\n",
	       l->settled ? "settled" : "not settled (--linger limit)",
	       l->seconds, (double)l->pool.shared_bytes / 1048576.0,
	       (unsigned long long)l->pool.regions,
	       (unsigned long long)l->pool.in_use_bytes,
	       (unsigned long long)l->in_use_before);
}

/* What the verification established, in words for the summary. */
static void print_verify(const struct blkjob_opts *o, const struct blkjob_result *r)
{
	if (!o->verify)
		return;
	printf("  verify: %.1f MiB compared, %llu block(s) differ",
	       (double)r->verified_bytes / 1048576.0,
	       (unsigned long long)r->verify_errors);
	if (r->verify_complete && !r->verify_errors)
		printf(": every byte matched\n");
	else if (r->verify_complete)
		printf("\n");
	else if (r->failed)
		printf("; incomplete: %llu request(s) failed, their blocks were "
		       "not checked\n", (unsigned long long)r->failed);
	else
		printf("; incomplete: the run was cut short before every block "
		       "written was read back\n");
}

/* Failed requests and clamped used lengths, when there were any; `who`
 * names the device(s) in the line. */
static void print_problems(const struct blkjob_result *r, const char *who)
{
	if (r->failed)
		printf("  errors: %llu request(s) failed, first: %s\n",
		       (unsigned long long)r->failed, strerror(-r->error));
	if (r->drv.used_len_clamped)
		printf("  %s: %llu used length(s) above what was posted "
		       "(clamped)\n", who,
		       (unsigned long long)r->drv.used_len_clamped);
}

static void print_summary(const struct cli *c, const struct blkjob_dev *d,
			  const struct blkjob_result *r,
			  const struct blkjob_result *per, const struct linger *l)
{
	const struct blkjob_opts *o = &c->job;
	double t = r->elapsed_s;
	char bs[32], bsmax[32], cap[32];

	printf("ccdma-blk: %s, bs %s%s%s, iodepth %u%s, %s mode, device %s\n",
	       blkjob_rw_name(o->rw), blkjob_size_str(o->bs, bs, sizeof(bs)),
	       o->bs_max > o->bs ? " to " : "",
	       o->bs_max > o->bs ? blkjob_size_str(o->bs_max, bsmax,
						   sizeof(bsmax)) : "",
	       o->iodepth, c->numjobs > 1 ? " per job" : "",
	       ccdma_mode_name(d->mode),
	       c->socket ? c->socket : "ccdma-devsim (spawned)");
	printf("  device: %llu sectors (%s), block %u, %u queue(s), %u in use, "
	       "of %u; seg_max %u, size_max %u%s%s%s\n",
	       (unsigned long long)d->info.capacity,
	       blkjob_size_str(d->info.capacity * 512, cap, sizeof(cap)),
	       d->info.blk_size, d->info.device_queues, d->info.num_queues,
	       d->info.queue_size, d->info.seg_max, d->info.size_max,
	       d->info.event_idx ? ", event-idx" : "",
	       d->info.indirect ? ", indirect" : "",
	       d->info.read_only ? ", read-only" : "");
	printf("  time:   %.3f s%s\n", t, r->complete ? "" : " (cut short)");
	printf("  read:   %llu I/Os, %.1f MiB, %.0f IOPS, %.1f MiB/s\n",
	       (unsigned long long)r->reads, (double)r->bytes_read / 1048576.0,
	       t > 0 ? (double)r->reads / t : 0.0,
	       t > 0 ? (double)r->bytes_read / t / 1048576.0 : 0.0);
	printf("  write:  %llu I/Os, %.1f MiB, %.0f IOPS, %.1f MiB/s\n",
	       (unsigned long long)r->writes, (double)r->bytes_written / 1048576.0,
	       t > 0 ? (double)r->writes / t : 0.0,
	       t > 0 ? (double)r->bytes_written / t / 1048576.0 : 0.0);
	printf("  total:  %.0f IOPS, %.1f MiB/s\n", r->iops, r->mib_s);
	for (unsigned i = 0; c->numjobs > 1 && i < c->numjobs; i++)
		printf("  job %u (queue %u): %llu reads, %llu writes, %.0f IOPS, "
		       "%.1f MiB/s%s\n", i, o->queue + i,
		       (unsigned long long)per[i].reads,
		       (unsigned long long)per[i].writes, per[i].iops,
		       per[i].mib_s, per[i].verify_errors ? ", verify errors" : "");
	if (r->reads + r->writes)
		printf("  cpu:    %.0f ns per I/O (this process, every thread, "
		       "%s)\n", (double)r->cpu_ns / (double)(r->reads + r->writes),
		       c->numjobs > 1 ? "the whole run" : "the timed phase");
	printf("  latency (us): mean %.1f, p50 %.1f, p90 %.1f, p99 %.1f, "
	       "p99.9 %.1f, max %.1f\n", r->lat.mean_us, r->lat.p50_us,
	       r->lat.p90_us, r->lat.p99_us, r->lat.p999_us, r->lat.max_us);
	printf("  bounced: %.1f MiB to the device, %.1f MiB from it (this run); "
	       "pool %.1f MiB, high-water %.1f MiB, %llu region(s)\n",
	       (double)r->bounced_to_device / 1048576.0,
	       (double)r->bounced_from_device / 1048576.0,
	       (double)r->pool.shared_bytes / 1048576.0,
	       (double)r->pool.shared_high_water / 1048576.0,
	       (unsigned long long)r->pool.regions);
	print_verify(o, r);
	print_linger(l);
	print_problems(r, "device");
	if (c->reconnect_ms || r->drv.reconnects)
		printf("  reconnects: %llu\n",
		       (unsigned long long)r->drv.reconnects);
	if (r->drv.slot_parts)
		printf("  slots: %llu request part(s) through %llu persistent "
		       "slot(s), %.1f MiB of the pool pinned\n",
		       (unsigned long long)r->drv.slot_parts,
		       (unsigned long long)r->drv.slots,
		       (double)r->drv.slot_bytes / 1048576.0);
}

/* The run's verification and errors in the JSON. */
static void json_checks(struct bench_json *jp, const struct cli *c,
			const struct blkjob_result *r)
{
	bench_json_bool(jp, "verify", c->job.verify);
	bench_json_bool(jp, "verify_complete", r->verify_complete);
	bench_json_u64(jp, "verified_bytes", r->verified_bytes);
	bench_json_u64(jp, "verify_errors", r->verify_errors);
	bench_json_u64(jp, "failed_requests", r->failed);
	bench_json_str(jp, "first_error", r->error ? strerror(-r->error) : "");
	bench_json_u64(jp, "used_len_clamped", r->drv.used_len_clamped);
}

/* The job's options in the JSON. */
static void json_job(struct bench_json *jp, const struct cli *c)
{
	bench_json_str(jp, "rw", blkjob_rw_name(c->job.rw));
	bench_json_u64(jp, "bs", c->job.bs);
	bench_json_u64(jp, "bs_max", c->job.bs_max > c->job.bs ? c->job.bs_max :
								   c->job.bs);
	bench_json_u64(jp, "iodepth", c->job.iodepth);
	bench_json_str(jp, "mode", ccdma_mode_name(c->mode));
}

/* The run's figures in the JSON: CPU, time, I/Os, rates, latency, bytes
 * bounced (the same keys for one device and for several). */
static void json_run(struct bench_json *jp, const struct blkjob_result *r)
{
	bench_json_num(jp, "cpu_ns_per_io", r->reads + r->writes ?
		       (double)r->cpu_ns / (double)(r->reads + r->writes) : 0);
	bench_json_num(jp, "elapsed_s", r->elapsed_s);
	bench_json_bool(jp, "complete", r->complete);
	bench_json_u64(jp, "reads", r->reads);
	bench_json_u64(jp, "writes", r->writes);
	bench_json_u64(jp, "bytes_read", r->bytes_read);
	bench_json_u64(jp, "bytes_written", r->bytes_written);
	bench_json_num(jp, "iops", r->iops);
	bench_json_num(jp, "mib_s", r->mib_s);
	bench_json_obj(jp, "latency_us");
	bench_json_num(jp, "mean", r->lat.mean_us);
	bench_json_num(jp, "p50", r->lat.p50_us);
	bench_json_num(jp, "p90", r->lat.p90_us);
	bench_json_num(jp, "p99", r->lat.p99_us);
	bench_json_num(jp, "p99_9", r->lat.p999_us);
	bench_json_num(jp, "max", r->lat.max_us);
	bench_json_end(jp);
	bench_json_u64(jp, "bounced_to_device_bytes", r->bounced_to_device);
	bench_json_u64(jp, "bounced_from_device_bytes", r->bounced_from_device);
}

static void print_json(const struct cli *c, const struct blkjob_dev *d,
		       const struct blkjob_result *r,
		       const struct blkjob_result *per, const struct linger *l,
		       int rc)
{
	struct bench_json j;

	bench_json_begin(&j, stdout);
	bench_json_obj(&j, NULL);
	json_job(&j, c);
	bench_json_str(&j, "device", c->socket ? c->socket : "ccdma-devsim");
	bench_json_u64(&j, "capacity_sectors", d->info.capacity);
	bench_json_u64(&j, "device_queues", d->info.device_queues);
	bench_json_u64(&j, "queues_in_use", d->info.num_queues);
	bench_json_u64(&j, "numjobs", c->numjobs);
	if (c->numjobs > 1) {
		bench_json_obj(&j, "jobs");
		for (unsigned i = 0; i < c->numjobs; i++) {
			char key[16];

			snprintf(key, sizeof(key), "%u", i);
			bench_json_obj(&j, key);
			bench_json_u64(&j, "queue", c->job.queue + i);
			bench_json_u64(&j, "reads", per[i].reads);
			bench_json_u64(&j, "writes", per[i].writes);
			bench_json_num(&j, "iops", per[i].iops);
			bench_json_num(&j, "mib_s", per[i].mib_s);
			bench_json_u64(&j, "verified_bytes", per[i].verified_bytes);
			bench_json_u64(&j, "verify_errors", per[i].verify_errors);
			bench_json_bool(&j, "complete", per[i].complete);
			bench_json_end(&j);
		}
		bench_json_end(&j);
	}
	/* One job: its timed phase; several: the whole run. */
	json_run(&j, r);
	bench_json_u64(&j, "pool_bytes", r->pool.shared_bytes);
	bench_json_u64(&j, "pool_high_water_bytes", r->pool.shared_high_water);
	bench_json_u64(&j, "pool_regions", r->pool.regions);
	bench_json_u64(&j, "pool_region_grows", r->pool.region_grows);
	bench_json_u64(&j, "pool_region_shrinks", r->pool.region_shrinks);
	bench_json_u64(&j, "pool_in_use_bytes", r->pool.in_use_bytes);
	if (l->ran) {
		bench_json_obj(&j, "linger");
		bench_json_bool(&j, "settled", l->settled);
		bench_json_num(&j, "seconds", l->seconds);
		bench_json_u64(&j, "pool_bytes", l->pool.shared_bytes);
		bench_json_u64(&j, "pool_regions", l->pool.regions);
		bench_json_u64(&j, "pool_in_use_bytes", l->pool.in_use_bytes);
		bench_json_u64(&j, "pool_in_use_before_bytes", l->in_use_before);
		bench_json_u64(&j, "pool_region_shrinks", l->pool.region_shrinks);
		bench_json_end(&j);
	}
	json_checks(&j, c, r);
	bench_json_u64(&j, "reconnects", r->drv.reconnects);
	bench_json_u64(&j, "slot_size", c->slot_size);
	bench_json_u64(&j, "slot_parts", r->drv.slot_parts);
	bench_json_u64(&j, "slots", r->drv.slots);
	bench_json_u64(&j, "slot_bytes", r->drv.slot_bytes);
	bench_json_str(&j, "result", rc == 0 ? "ok" : rc == -EILSEQ ? "verify-failed" : "error");
	bench_json_end(&j);
	fputc('\n', stdout);
}

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		blkjob_end_requested = 1;
	else
		blkjob_stop_requested = 1;
}

/* The library's log lines carry the tool's name too. */
static void log_line(void *arg, enum ccdma_log_level level, const char *msg)
{
	(void)arg;
	(void)level;
	fprintf(stderr, "ccdma-blk: %s\n", msg);
}

/* ---- several devices (--socket more than once) ------------------------- */

/* One device of several: its connection and what it did. */
struct devrun {
	struct blkjob_dev d;
	bool open;
	struct ccdma_vhost_info v0, v1; /* before and after the job */
	unsigned table_regions;         /* its memory table, after the job */
};

struct devs {
	unsigned n;
	struct devrun *dv;
	struct ccdma_pool *pool;        /* the shared one, or NULL */
	/* The shared pool before and after; p0 without one: the devices'
	 * pools' region_grows and region_shrinks added up. */
	struct ccdma_pool_stats p0, p1;
	bool settled;                   /* every table told of every change */
	struct blkjob_result *per, *dt, total;
};

/*
 * Each connection's counters and table, and the shared pool's, at one
 * moment: before the job (after false: v0, p0) or after it (v1, p1).  The
 * pool counts a region change just before it tells the connections, one
 * after another, so a reading is taken again (every 1 ms, at most 5 s:
 * events of the pool, not a guessed time) until the pool did not change
 * while the connections were read and every connection's table holds the
 * pool's regions; after the job also until each was told of every change
 * the pool counted since before.  Sets s->settled (after) to whether that
 * happened.
 */
static void settle(struct devs *s, bool after)
{
	const struct timespec tick = { 0, 1000000 };
	struct ccdma_pool_stats *p = after ? &s->p1 : &s->p0, again;
	struct ccdma_vhost_region one;

	for (unsigned tries = 0;; tries++) {
		bool ok = true;

		if (s->pool)
			ccdma_pool_get_stats(s->pool, p);
		for (unsigned k = 0; k < s->n; k++) {
			struct devrun *v = &s->dv[k];
			struct ccdma_vhost_info *vi = after ? &v->v1 : &v->v0;

			ccdma_vhost_get_info(v->d.vhost, vi);
			v->table_regions = ccdma_vhost_regions(v->d.vhost, &one, 1);
			if (!s->pool)
				continue;
			ok = ok && v->table_regions == p->regions;
			if (after)
				ok = ok && v->v1.regions_added - v->v0.regions_added ==
				     s->p1.region_grows - s->p0.region_grows &&
				     v->v1.regions_removed - v->v0.regions_removed ==
				     s->p1.region_shrinks - s->p0.region_shrinks;
		}
		if (s->pool) {
			ccdma_pool_get_stats(s->pool, &again);
			ok = ok && again.region_grows == p->region_grows &&
			     again.region_shrinks == p->region_shrinks;
		}
		if (after)
			s->settled = ok;
		if (ok || tries >= 5000)
			return;
		nanosleep(&tick, NULL);
	}
}

/* Device k's pool after the job (the shared one as settle() saw it). */
static const struct ccdma_pool_stats *devpool(const struct devs *s, unsigned k)
{
	return s->pool ? &s->p1 : &s->dt[k].pool;
}

/* The pool figures of the run: the shared pool's, or the devices' pools
 * added up (high-water: the sum of each pool's, an upper bound). */
static void pool_total(const struct devs *s, struct ccdma_pool_stats *p)
{
	if (s->pool) {
		*p = s->p1;
		return;
	}
	memset(p, 0, sizeof(*p));
	for (unsigned k = 0; k < s->n; k++) {
		const struct ccdma_pool_stats *q = &s->dt[k].pool;

		p->shared_bytes += q->shared_bytes;
		p->shared_high_water += q->shared_high_water;
		p->regions += q->regions;
		p->region_grows += q->region_grows;
		p->region_shrinks += q->region_shrinks;
		p->in_use_bytes += q->in_use_bytes;
		if (q->wait_max_ns > p->wait_max_ns)
			p->wait_max_ns = q->wait_max_ns;
	}
}

static void print_devs(const struct cli *c, const struct devs *s)
{
	const struct blkjob_opts *o = &c->job;
	const struct blkjob_result *r = &s->total;
	struct ccdma_pool_stats p;
	char bs[32], bsmax[32];
	double t = r->elapsed_s;

	pool_total(s, &p);
	printf("ccdma-blk: %s, bs %s%s%s, iodepth %u per job, %u job(s) per "
	       "device, %s mode, %u devices, %s\n", blkjob_rw_name(o->rw),
	       blkjob_size_str(o->bs, bs, sizeof(bs)),
	       o->bs_max > o->bs ? " to " : "",
	       o->bs_max > o->bs ? blkjob_size_str(o->bs_max, bsmax,
						   sizeof(bsmax)) : "",
	       o->iodepth, c->numjobs, ccdma_mode_name(c->mode), s->n,
	       s->pool ? "one shared pool" : "a pool each");
	for (unsigned k = 0; k < s->n; k++) {
		const struct devrun *v = &s->dv[k];
		const struct blkjob_result *d = &s->dt[k];

		printf("  device %u (%s): %llu sectors, %u queue(s) in use; "
		       "%llu reads, %llu writes, %.0f IOPS, %.1f MiB/s, "
		       "latency mean %.1f us, p99 %.1f us\n", k, c->sockets[k],
		       (unsigned long long)v->d.info.capacity,
		       v->d.info.num_queues, (unsigned long long)d->reads,
		       (unsigned long long)d->writes, d->iops, d->mib_s,
		       d->lat.mean_us, d->lat.p99_us);
		printf("    memory table %u region(s); during the job told of "
		       "%llu added, %llu removed; pool %.1f MiB, high-water "
		       "%.1f MiB\n", v->table_regions,
		       (unsigned long long)(v->v1.regions_added - v->v0.regions_added),
		       (unsigned long long)(v->v1.regions_removed -
					    v->v0.regions_removed),
		       (double)devpool(s, k)->shared_bytes / 1048576.0,
		       (double)devpool(s, k)->shared_high_water / 1048576.0);
		if (o->verify)
			printf("    verify: %.1f MiB compared, %llu block(s) differ%s\n",
			       (double)d->verified_bytes / 1048576.0,
			       (unsigned long long)d->verify_errors,
			       d->verify_complete && !d->verify_errors ?
			       ": every byte matched" :
			       d->verify_complete ? "" : "; incomplete");
	}
	printf("  time:   %.3f s%s\n", t, r->complete ? "" : " (cut short)");
	printf("  total:  %llu reads, %llu writes, %.0f IOPS, %.1f MiB/s\n",
	       (unsigned long long)r->reads, (unsigned long long)r->writes,
	       r->iops, r->mib_s);
	if (r->reads + r->writes)
		printf("  cpu:    %.0f ns per I/O (this process, every thread, "
		       "the whole run)\n",
		       (double)r->cpu_ns / (double)(r->reads + r->writes));
	printf("  latency (us): mean %.1f, p50 %.1f, p90 %.1f, p99 %.1f, "
	       "p99.9 %.1f, max %.1f\n", r->lat.mean_us, r->lat.p50_us,
	       r->lat.p90_us, r->lat.p99_us, r->lat.p999_us, r->lat.max_us);
	printf("  bounced: %.1f MiB to the devices, %.1f MiB from them\n",
	       (double)r->bounced_to_device / 1048576.0,
	       (double)r->bounced_from_device / 1048576.0);
	if (s->pool)
		printf("  pool (shared by %u devices): %.1f MiB, high-water %.1f "
		       "MiB, %llu region(s), %llu added and %llu given back during "
		       "the job, longest allocation wait %.3f ms\n", s->n,
		       (double)p.shared_bytes / 1048576.0,
		       (double)p.shared_high_water / 1048576.0,
		       (unsigned long long)p.regions,
		       (unsigned long long)(p.region_grows - s->p0.region_grows),
		       (unsigned long long)(p.region_shrinks - s->p0.region_shrinks),
		       (double)p.wait_max_ns / 1e6);
	else
		printf("  pools (%u, one per device): %.1f MiB in all, high-water "
		       "at most %.1f MiB, %llu region(s), longest allocation "
		       "wait %.3f ms\n", s->n, (double)p.shared_bytes / 1048576.0,
		       (double)p.shared_high_water / 1048576.0,
		       (unsigned long long)p.regions, (double)p.wait_max_ns / 1e6);
	if (s->pool && !s->settled)
		printf("  tables: not every device was told of every region "
		       "change of the pool within 5 s\n");
	print_verify(o, r);
	print_problems(r, "devices");
}

static void json_devs(const struct cli *c, const struct devs *s, int rc)
{
	const struct blkjob_result *r = &s->total;
	struct ccdma_pool_stats p;
	struct bench_json j;

	pool_total(s, &p);
	bench_json_begin(&j, stdout);
	bench_json_obj(&j, NULL);
	json_job(&j, c);
	bench_json_u64(&j, "numjobs", c->numjobs);
	bench_json_u64(&j, "device_count", s->n);
	bench_json_bool(&j, "pool_shared", s->pool != NULL);
	/* Shared pool: every device's table matched the pool after the job. */
	bench_json_bool(&j, "tables_settled", s->settled);
	bench_json_obj(&j, "devices");
	for (unsigned k = 0; k < s->n; k++) {
		const struct devrun *v = &s->dv[k];
		const struct blkjob_result *d = &s->dt[k];
		char key[16];

		snprintf(key, sizeof(key), "%u", k);
		bench_json_obj(&j, key);
		bench_json_str(&j, "socket", c->sockets[k]);
		bench_json_u64(&j, "capacity_sectors", v->d.info.capacity);
		bench_json_u64(&j, "queues_in_use", v->d.info.num_queues);
		bench_json_u64(&j, "reads", d->reads);
		bench_json_u64(&j, "writes", d->writes);
		bench_json_num(&j, "iops", d->iops);
		bench_json_num(&j, "mib_s", d->mib_s);
		bench_json_num(&j, "latency_mean_us", d->lat.mean_us);
		bench_json_num(&j, "latency_p99_us", d->lat.p99_us);
		bench_json_u64(&j, "verified_bytes", d->verified_bytes);
		bench_json_u64(&j, "verify_errors", d->verify_errors);
		bench_json_bool(&j, "verify_complete", d->verify_complete);
		bench_json_bool(&j, "complete", d->complete);
		bench_json_u64(&j, "failed_requests", d->failed);
		bench_json_u64(&j, "table_regions", v->table_regions);
		bench_json_u64(&j, "regions_added", v->v1.regions_added -
						      v->v0.regions_added);
		bench_json_u64(&j, "regions_removed", v->v1.regions_removed -
							v->v0.regions_removed);
		bench_json_u64(&j, "pool_bytes", devpool(s, k)->shared_bytes);
		bench_json_u64(&j, "pool_high_water_bytes",
			       devpool(s, k)->shared_high_water);
		bench_json_u64(&j, "pool_regions", devpool(s, k)->regions);
		bench_json_end(&j);
	}
	bench_json_end(&j);
	json_run(&j, r);
	/* The shared pool, or the devices' pools added up. */
	bench_json_u64(&j, "pool_count", s->pool ? 1 : s->n);
	bench_json_u64(&j, "pool_bytes", p.shared_bytes);
	bench_json_u64(&j, "pool_high_water_bytes", p.shared_high_water);
	bench_json_u64(&j, "pool_regions", p.regions);
	bench_json_u64(&j, "pool_region_grows", p.region_grows - s->p0.region_grows);
	bench_json_u64(&j, "pool_region_shrinks",
		       p.region_shrinks - s->p0.region_shrinks);
	bench_json_u64(&j, "pool_in_use_bytes", p.in_use_bytes);
	bench_json_u64(&j, "pool_alloc_wait_max_ns", p.wait_max_ns);
	json_checks(&j, c, r);
	bench_json_u64(&j, "slot_size", c->slot_size);
	bench_json_u64(&j, "slot_parts", r->drv.slot_parts);
	bench_json_str(&j, "result", rc == 0 ? "ok" : rc == -EILSEQ ?
		       "verify-failed" : "error");
	bench_json_end(&j);
	fputc('\n', stdout);
}

/* The shared pool of several devices: the --pool-* options, or 4 MiB
 * regions, 8 MiB made at once and at most 30 regions (ccdma-devsim's 32
 * memory slots less the front-end's two spare).  0, or 1 after a
 * message. */
static int shared_pool(const struct cli *c, struct ccdma_pool **out)
{
	struct ccdma_pool_config pc;
	int rc;

	if (c->pool_set) {
		pc = c->pool;
	} else {
		ccdma_pool_config_init(&pc);
		pc.region_size = 4u << 20;
		pc.initial_bytes = 8u << 20;
		pc.max_bytes = 30 * pc.region_size;
	}
	pc.name = "ccdma-blk";
	rc = ccdma_pool_create(&pc, out);
	if (rc)
		fprintf(stderr, "ccdma-blk: cannot create the shared pool: %s\n",
			strerror(-rc));
	return rc ? 1 : 0;
}

/* What the job's return code means: the exit status (after a message). */
static int job_status(const struct blkjob_result *r, int rc)
{
	if (rc == -EILSEQ) {
		fprintf(stderr, "ccdma-blk: verification failed: %llu block(s) differ, "
				"first at byte %llu\n",
			(unsigned long long)r->verify_errors,
			(unsigned long long)r->first_bad_offset);
		return 3;
	}
	if (!r->ran && (rc == -EINVAL || rc == -EROFS || rc == -ENOMEM))
		return 2;
	if (rc == -EIO) {
		fprintf(stderr, "ccdma-blk: the run failed: %llu request(s) failed, "
				"the first with: %s\n",
			(unsigned long long)r->failed, strerror(-r->error));
		return 1;
	}
	if (rc == -ENODEV) {
		fprintf(stderr, "ccdma-blk: the run failed: the device broke or "
				"went away\n");
		return 1;
	}
	if (rc) {
		fprintf(stderr, "ccdma-blk: the run failed: %s\n", strerror(-rc));
		return 1;
	}
	return 0;
}

/* Every --socket at once: connect each (on the shared pool unless
 * --pool-per-device), run the jobs, print what each did; the exit status. */
static int run_devices(const struct cli *c, const struct ccdma_vblk_config *vcfg)
{
	struct devs s;
	struct blkjob_dev **dp = NULL;
	int rc = 0, status = 0;

	memset(&s, 0, sizeof(s));
	s.n = c->nsockets;
	s.dv = calloc(s.n, sizeof(*s.dv));
	dp = calloc(s.n, sizeof(*dp));
	s.per = calloc((size_t)s.n * c->numjobs, sizeof(*s.per));
	s.dt = calloc(s.n, sizeof(*s.dt));
	if (!s.dv || !dp || !s.per || !s.dt) {
		fprintf(stderr, "ccdma-blk: out of memory\n");
		status = 1;
		goto out;
	}
	if (!c->pool_per_device && shared_pool(c, &s.pool)) {
		status = 1;
		goto out;
	}
	for (unsigned k = 0; k < s.n; k++) {
		struct devrun *v = &s.dv[k];

		rc = s.pool ? blkjob_open_shared(&v->d, c->sockets[k], c->mode,
						 vcfg, s.pool) :
			      blkjob_open(&v->d, c->sockets[k], c->mode, vcfg,
					  c->pool_set ? &c->pool : NULL);
		if (rc) {
			status = rc == -ENOSPC ? 2 : 1;
			goto out;
		}
		v->open = true;
		dp[k] = &v->d;
	}
	settle(&s, false);
	for (unsigned k = 0; !s.pool && k < s.n; k++) {
		struct ccdma_pool_stats q;

		ccdma_pool_get_stats(ccdma_dev_pool(s.dv[k].d.dma), &q);
		s.p0.region_grows += q.region_grows;
		s.p0.region_shrinks += q.region_shrinks;
	}
	rc = blkjob_run_devs(dp, s.n, &c->job, c->numjobs, s.per, s.dt, &s.total);
	settle(&s, true);
	if (s.total.ran) {
		if (c->json)
			json_devs(c, &s, rc);
		else
			print_devs(c, &s);
	}
	status = job_status(&s.total, rc);
out:
	/* Every connection goes before the pool it shares. */
	for (unsigned k = 0; s.dv && k < s.n; k++)
		if (s.dv[k].open)
			blkjob_close(&s.dv[k].d);
	ccdma_pool_destroy(s.pool);
	free(s.dv);
	free(dp);
	free(s.per);
	free(s.dt);
	return status;
}

/* Connect, run the job, print what it did; the exit status. */
static int run(const struct cli *c, const char *sock)
{
	struct ccdma_vblk_config vcfg;
	struct blkjob_result r, *per = NULL;
	struct blkjob_dev d;
	struct ccdma_pool_stats before;
	struct linger l;
	struct bench_plot plot;
	struct blkjob_opts job;
	int rc, status = 0;

	ccdma_vblk_config_init(&vcfg);
	vcfg.num_queues = c->queues;
	vcfg.poll_ns = c->poll_us * 1000u;
	vcfg.reconnect_ms = c->reconnect_ms;
	vcfg.reconnect_hostile = c->reconnect_hostile;
	vcfg.sync_timeout_ms = c->stall_ms;
	vcfg.slot_size = c->slot_size;
	if (c->nsockets > 1)
		return run_devices(c, &vcfg);

	if (blkjob_open(&d, sock, c->mode, &vcfg, c->pool_set ? &c->pool : NULL))
		return 1;
	if (c->job.queue >= d.info.num_queues) {
		fprintf(stderr, "ccdma-blk: --queue %u: the device has %u queue(s)\n",
			c->job.queue, d.info.device_queues);
		blkjob_close(&d);
		return 2;
	}
	memset(&l, 0, sizeof(l));
	ccdma_pool_get_stats(ccdma_dev_pool(d.dma), &before);
	l.in_use_before = before.in_use_bytes;
	if (c->plot && bench_plot_open(&plot, c->plot, "blk-log")) {
		blkjob_close(&d);
		return 2;
	}
	job = c->job;
	if (c->plot) {
		fprintf(plot.dat, "# t_s iops mib_s mean_latency_us pool_mib\n");
		job.log = plot.dat;
		job.log_every_ms = c->log_every_ms;
	}
	if (c->numjobs > 1) {
		per = calloc(c->numjobs, sizeof(*per));
		if (!per) {
			fprintf(stderr, "ccdma-blk: out of memory\n");
			blkjob_close(&d);
			return 1;
		}
		job.progress = false;
		rc = blkjob_run_many(&d, &job, c->numjobs, per, &r);
	} else {
		rc = blkjob_run(&d, &job, &r);
	}
	if (c->plot)
		bench_plot_draw(&plot, "ccdma-blk: IOPS and mean latency over the run",
				"set xlabel \"seconds\"\n"
				"set ylabel \"IOPS\"\n"
				"set y2label \"mean latency (us)\"\n"
				"set y2tics\n"
				"set ytics nomirror\n"
				"plot \"blk-log.dat\" using 1:2 with lines lw 2 "
				"title \"IOPS\", \"\" using 1:4 axes x1y2 with lines "
				"title \"mean latency (us)\"\n");
	if (c->linger_ms && r.complete && d.blk)
		do_linger(c, &d, &l);
	/* A job refused before it ran (its message said why) has nothing
	 * to summarise. */
	if (r.ran) {
		if (c->json)
			print_json(c, &d, &r, per, &l, rc);
		else
			print_summary(c, &d, &r, per, &l);
	}
	status = job_status(&r, rc);
	blkjob_close(&d);
	free(per);
	return status;
}

int main(int argc, char **argv)
{
	struct cli c;
	struct blkjob_proc ds;
	struct sigaction sa;
	const char *sock;
	bool spawned = false;
	int rc, status;

	bench_plot_prog = "ccdma-blk";
	rc = parse_args(argc, argv, &c);
	if (rc)
		return rc;
	ccdma_log_set_handler(log_line, NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	sock = c.socket;
	if (!sock) {
		char nq[16];
		const char *qargs[] = { "--queues", nq, NULL };

		snprintf(nq, sizeof(nq), "%u", c.queues);
		if (blkjob_devsim_start(&ds, c.devsim, c.disk_size,
					c.queues > 1 ? qargs : NULL)) {
			fprintf(stderr, "ccdma-blk: could not start the device process\n");
			return 1;
		}
		spawned = true;
		sock = ds.sock;
	}
	status = run(&c, sock);
	if (spawned) {
		int ds_status = blkjob_devsim_stop(&ds);

		if (ds_status != 0 && !status) {
			fprintf(stderr, "ccdma-blk: the device process exited with "
					"status %d\n", ds_status);
			status = 1;
		}
	}
	return status;
}
