/* SPDX-License-Identifier: MIT */
/*
 * ccdma-demo: the dma layer and its bounce pool at work.
 *
 * Creates a device (in the process-wide mode, confidential by default)
 * whose pool starts with one region.  Several threads map private buffers of a
 * realistic mix of DMA sizes (bench/dma_mix.h) BIDIRECTIONAL, with a
 * steady number in flight; playing the device, each later reads the
 * request through the device's own view of memory (ccdma_dev_access),
 * checks it and writes an answer, then unmaps and checks the answer
 * reached the private buffer.  Meanwhile the grower adds shared regions;
 * afterwards the pool goes idle and gives back every region above its
 * floor (the demo's pool keeps one region when idle: its high watermark is
 * one region, so a pool of any size the run took it to shrinks).  Prints the
 * statistics table at the peak and after the shrink (--json: one JSON
 * object on stdout, the text on stderr).  The sharing cost is the
 * realistic default unless CCDMA_SHARE_COST_NS says otherwise.
 *
 * Exit status 0, or 1 when a mapping failed, a request or answer was
 * corrupted, or the idle pool did not come down to its floor (no region
 * given back for a minute while it could still give one back).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ccdma/dma.h>
#include <ccdma/hosted.h>
#include <ccdma/platform.h>
#include <ccdma/pool.h>

#include "bench.h"
#include "dma_mix.h"

/* The idle pool is given no longer than this since its last shrink to
 * reach its floor: a shrink takes idle_ms plus the grower's tick, so only
 * a pool that never gives memory back comes near it, at any machine
 * speed (sanitizers, emulators). */
#define SHRINK_PATIENCE_NS (60ull * 1000000000ull)

struct opts {
	int threads;
	int inflight;      /* per thread */
	double seconds;
	unsigned idle_ms;
	bool json;
};

static struct ccdma_dev *dev;
static struct ccdma_pool *pool;
static int stop; /* atomic: written by main, read by workers */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

struct worker {
	pthread_t t;
	int id, inflight;
	uint64_t ops, bytes, failures, corrupt;
	uint64_t live_bytes, peak_live;
};

/* The device's side of request k: check the request bytes the driver sent,
 * answer in the first byte.  Returns false when the request was corrupted. */
static bool device_answer(ccdma_addr_t dma, size_t len, int k)
{
	unsigned char *p;

	if (ccdma_dev_access(dev, dma, len, CCDMA_ACCESS_READ | CCDMA_ACCESS_WRITE,
			     (void **)&p))
		return false;
	if (p[0] != (unsigned char)len || (len > 1 && p[len - 1] != (unsigned char)k))
		return false;
	p[0] = (unsigned char)~len;
	return true;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	uint64_t seed = 0x9e3779b97f4a7c15ull * (uint64_t)(w->id + 1);
	unsigned char **buf = calloc((size_t)w->inflight, sizeof(*buf));
	ccdma_addr_t *dma = calloc((size_t)w->inflight, sizeof(*dma));
	size_t *len = calloc((size_t)w->inflight, sizeof(*len));
	int k;

	if (!buf || !len || !dma)
		goto out;
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		k = (int)(dma_mix_rand(&seed) % (uint64_t)w->inflight);
		if (buf[k]) {
			/* The device answers, the driver takes the buffer
			 * back and checks the answer arrived. */
			bool ok = device_answer(dma[k], len[k], k);

			if (ccdma_unmap_single(dev, dma[k], len[k], CCDMA_BIDIRECTIONAL) ||
			    !ok || buf[k][0] != (unsigned char)~len[k])
				w->corrupt++;
			free(buf[k]);
			w->live_bytes -= len[k];
			buf[k] = NULL;
		}
		len[k] = dma_mix_size(&seed, 0);
		buf[k] = malloc(len[k]);
		if (!buf[k]) {
			w->failures++;
			continue;
		}
		memset(buf[k], 0, len[k] < 64 ? len[k] : 64);
		buf[k][0] = (unsigned char)len[k];
		if (len[k] > 1)
			buf[k][len[k] - 1] = (unsigned char)k;
		dma[k] = ccdma_map_single_attrs(dev, buf[k], len[k], CCDMA_BIDIRECTIONAL,
						CCDMA_ATTR_WAIT);
		if (ccdma_mapping_error(dev, dma[k])) {
			w->failures++;
			free(buf[k]);
			buf[k] = NULL;
			continue;
		}
		w->ops++;
		w->bytes += len[k];
		w->live_bytes += len[k];
		if (w->live_bytes > w->peak_live)
			w->peak_live = w->live_bytes;
	}
	for (k = 0; k < w->inflight; k++) {
		if (buf[k]) {
			ccdma_unmap_single(dev, dma[k], len[k], CCDMA_BIDIRECTIONAL);
			free(buf[k]);
		}
	}
out:
	free(buf);
	free(dma);
	free(len);
	return NULL; /* thread exit returns this thread's cached slots */
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ccdma-demo [--threads N] [--inflight N] [--seconds S] [--idle-ms MS] [--json]\n"
		"  Maps a realistic mix of DMA buffer sizes through a growing bounce pool\n"
		"  from several threads, then lets it shrink, printing the statistics.\n"
		"  --threads N    mapping threads (default 4)\n"
		"  --inflight N   buffers each thread keeps mapped (default 512)\n"
		"  --seconds S    how long the threads run (default 3)\n"
		"  --idle-ms MS   how long a free region waits before it is given back (default 300)\n"
		"  --json         the figures as one JSON object on stdout (the text goes to stderr)\n"
		"Environment: CCDMA_SHARE_COST_NS (ns per 4 KiB page to make memory shared),\n"
		"  CCDMA_LOG=info|debug for region events.\n");
}

static int parse_int(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	int i;

	for (i = 1; i < argc; i += 2) {
		const char *a = argv[i];
		long v;

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			exit(0);
		}
		if (!strcmp(a, "--json")) {
			o->json = true;
			i--;
			continue;
		}
		if (i + 1 >= argc) {
			fprintf(stderr, "ccdma-demo: unknown option or missing value: %s\n", a);
			return -1;
		}
		if (!strcmp(a, "--threads") && !parse_int(argv[i + 1], 1, 64, &v))
			o->threads = (int)v;
		else if (!strcmp(a, "--inflight") && !parse_int(argv[i + 1], 1, 100000, &v))
			o->inflight = (int)v;
		else if (!strcmp(a, "--seconds") && !parse_int(argv[i + 1], 1, 3600, &v))
			o->seconds = (double)v;
		else if (!strcmp(a, "--idle-ms") && !parse_int(argv[i + 1], 10, 60000, &v))
			o->idle_ms = (unsigned)v;
		else {
			fprintf(stderr, "ccdma-demo: bad option or value: %s %s\n", a, argv[i + 1]);
			return -1;
		}
	}
	return 0;
}

/* The regions a pool is created with and never gives back: initial_bytes
 * in whole regions, at least one (ccdma/pool.h). */
static size_t pool_min_bytes(const struct ccdma_pool_config *c)
{
	size_t n = (c->initial_bytes + c->region_size - 1) / c->region_size;

	return (n ? n : 1) * c->region_size;
}

/*
 * The idle pool gives a region back while more than the high watermark is
 * free, at least the low watermark stays free after it, and it stays at
 * or above its minimum (pool/grower.c): with nothing in use it comes down
 * to this, and no further.
 */
static bool pool_at_floor(const struct ccdma_pool_config *c,
			  const struct ccdma_pool_stats *st)
{
	return st->shared_bytes <= c->high_watermark ||
	       st->shared_bytes - c->region_size < c->low_watermark ||
	       st->shared_bytes - c->region_size < pool_min_bytes(c);
}

static void print_json(const struct opts *o, const struct ccdma_pool_config *cfg,
		       enum ccdma_mode mode, const struct ccdma_pool_stats *peak,
		       const struct ccdma_pool_stats *st, uint64_t ops,
		       uint64_t bytes, uint64_t fails, uint64_t corrupt,
		       uint64_t peak_live, double idle_s, bool floor, bool ok)
{
	struct bench_json j;

	bench_json_begin(&j, stdout);
	bench_json_obj(&j, NULL);
	bench_json_str(&j, "program", "ccdma-demo");
	bench_json_str(&j, "mode", ccdma_mode_name(mode));
	bench_json_u64(&j, "share_cost_ns", ccdma_share_cost_get_ns());
	bench_json_u64(&j, "page_size", ccdma_page_size());
	bench_json_u64(&j, "threads", (uint64_t)o->threads);
	bench_json_u64(&j, "inflight_per_thread", (uint64_t)o->inflight);
	bench_json_num(&j, "seconds", o->seconds);
	bench_json_obj(&j, "pool_config");
	bench_json_u64(&j, "region_size", cfg->region_size);
	bench_json_u64(&j, "min_bytes", pool_min_bytes(cfg));
	bench_json_u64(&j, "max_bytes", cfg->max_bytes);
	bench_json_u64(&j, "low_watermark", cfg->low_watermark);
	bench_json_u64(&j, "high_watermark", cfg->high_watermark);
	bench_json_u64(&j, "idle_ms", cfg->idle_ms);
	bench_json_end(&j);
	bench_json_u64(&j, "maps", ops);
	bench_json_u64(&j, "bytes_mapped", bytes);
	bench_json_num(&j, "maps_per_s", (double)ops / o->seconds);
	bench_json_u64(&j, "failures", fails);
	bench_json_u64(&j, "corrupt", corrupt);
	bench_json_u64(&j, "bounce_copies_to_device", st->bounce_copies_to_device);
	bench_json_u64(&j, "bounce_copies_from_device", st->bounce_copies_from_device);
	bench_json_u64(&j, "bounced_to_device_bytes", st->bounced_to_device_bytes);
	bench_json_u64(&j, "bounced_from_device_bytes", st->bounced_from_device_bytes);
	bench_json_obj(&j, "peak");
	bench_json_u64(&j, "shared_bytes", peak->shared_bytes);
	bench_json_u64(&j, "regions", peak->regions);
	bench_json_u64(&j, "in_use_bytes", peak->in_use_bytes);
	bench_json_end(&j);
	bench_json_u64(&j, "shared_high_water", st->shared_high_water);
	bench_json_u64(&j, "peak_live_bytes", peak_live);
	bench_json_num(&j, "footprint_ratio",
		       peak_live ? (double)st->shared_high_water / (double)peak_live : 0.0);
	bench_json_obj(&j, "after_idle");
	bench_json_num(&j, "waited_s", idle_s);
	bench_json_u64(&j, "shared_bytes", st->shared_bytes);
	bench_json_u64(&j, "in_use_bytes", st->in_use_bytes);
	bench_json_u64(&j, "regions", st->regions);
	bench_json_u64(&j, "regions_created", st->region_grows);
	bench_json_u64(&j, "regions_given_back", st->region_shrinks);
	bench_json_bool(&j, "at_floor", floor);
	bench_json_end(&j);
	bench_json_bool(&j, "ok", ok);
	bench_json_end(&j);
	printf("\n");
}

int main(int argc, char **argv)
{
	struct opts o = { .threads = 4, .inflight = 512, .seconds = 3, .idle_ms = 300 };
	struct ccdma_pool_config cfg;
	struct ccdma_dev_config dcfg;
	struct ccdma_pool_stats st, peak;
	struct worker *w;
	uint64_t t0, last, ops = 0, bytes = 0, fails = 0, corrupt = 0, peak_live = 0;
	uint64_t shrinks;
	enum ccdma_mode mode;
	double idle_s;
	bool floor, ok;
	FILE *out;
	int i, rc;

	if (parse_args(argc, argv, &o)) {
		usage(stderr);
		return 2;
	}
	/* --json: stdout holds the JSON object alone. */
	out = o.json ? stderr : stdout;
	if (ccdma_mode_get(&mode))
		return 2; /* the library said why */
	fprintf(out, "ccdma %s demo: mode %s, sharing cost %" PRIu64 " ns per 4 KiB page, "
		"page size %zu\n", ccdma_version(), ccdma_mode_name(mode),
		ccdma_share_cost_get_ns(), ccdma_page_size());

	ccdma_pool_config_init(&cfg);
	cfg.name = "demo";
	cfg.idle_ms = o.idle_ms;
	/* Idle, the pool keeps one region: whatever size the run took it to
	 * (on a slow machine only two regions), the rest is given back. */
	cfg.high_watermark = cfg.region_size;
	ccdma_dev_config_init(&dcfg);
	dcfg.name = "demo";
	dcfg.pool_cfg = &cfg;
	rc = ccdma_dev_create(&dcfg, &dev);
	if (rc) {
		fprintf(stderr, "ccdma-demo: cannot create the device: %s\n", strerror(-rc));
		return 1;
	}
	pool = ccdma_dev_pool(dev);
	fprintf(out, "pool: regions of %zu KiB, cap %zu MiB, low/high watermark %zu/%zu KiB, "
		"starts with (and keeps) %zu KiB\n", cfg.region_size >> 10,
		cfg.max_bytes >> 20, cfg.low_watermark >> 10, cfg.high_watermark >> 10,
		pool_min_bytes(&cfg) >> 10);
	fprintf(out, "\n%d threads map private buffers of the DMA size mix BIDIRECTIONAL, "
		"%d in flight each, for %.0f s;\nthe emulated device checks each "
		"request and answers through its own view of shared memory\n",
		o.threads, o.inflight, o.seconds);

	w = calloc((size_t)o.threads, sizeof(*w));
	if (!w)
		return 1;
	t0 = now_ns();
	for (i = 0; i < o.threads; i++) {
		w[i].id = i;
		w[i].inflight = o.inflight;
		if (pthread_create(&w[i].t, NULL, worker_main, &w[i])) {
			fprintf(stderr, "ccdma-demo: cannot start thread %d\n", i);
			return 1;
		}
	}
	while ((double)(now_ns() - t0) / 1e9 < o.seconds) {
		usleep(500 * 1000);
		ccdma_pool_get_stats(pool, &st);
		fprintf(out, "  t=%4.1fs  shared %6.1f MiB in %3" PRIu64 " regions, in use "
			"%6.1f MiB, allocs %9" PRIu64 "\n", (double)(now_ns() - t0) / 1e9,
			(double)st.shared_bytes / 1048576, st.regions,
			(double)st.in_use_bytes / 1048576, st.allocs);
	}
	ccdma_pool_get_stats(pool, &peak);
	fprintf(out, "\nat the peak:\n");
	ccdma_pool_print_stats(&peak, out);
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < o.threads; i++) {
		pthread_join(w[i].t, NULL);
		ops += w[i].ops;
		bytes += w[i].bytes;
		fails += w[i].failures;
		corrupt += w[i].corrupt;
		peak_live += w[i].peak_live;
	}
	ccdma_pool_get_stats(pool, &st);
	fprintf(out, "\nmapped %" PRIu64 " buffers (%.1f GiB) in %.1f s: %.0f maps/s, "
		"%" PRIu64 " failures, %" PRIu64 " corrupted requests or answers\n", ops,
		(double)bytes / (1 << 30), o.seconds, (double)ops / o.seconds,
		fails, corrupt);
	fprintf(out, "bounce copies: %" PRIu64 " to the device (%.1f GiB), %" PRIu64
		" from it (%.1f GiB)\n", st.bounce_copies_to_device,
		(double)st.bounced_to_device_bytes / (1 << 30),
		st.bounce_copies_from_device,
		(double)st.bounced_from_device_bytes / (1 << 30));
	fprintf(out, "peak shared %.1f MiB for at most %.1f MiB requested in flight "
		"(sum of per-thread peaks): ratio %.2f\n",
		(double)st.shared_high_water / 1048576, (double)peak_live / 1048576,
		peak_live ? (double)st.shared_high_water / (double)peak_live : 0.0);

	/* Wait for the event, not for a time: the pool at its floor.  Give
	 * up only when no region has been given back for a long while. */
	fprintf(out, "\nall buffers unmapped; waiting for idle regions to be given back...\n");
	t0 = last = now_ns();
	shrinks = st.region_shrinks;
	for (;;) {
		ccdma_pool_get_stats(pool, &st);
		floor = pool_at_floor(&cfg, &st);
		if (floor)
			break;
		if (st.region_shrinks != shrinks) {
			shrinks = st.region_shrinks;
			last = now_ns();
		} else if (now_ns() - last > SHRINK_PATIENCE_NS) {
			break;
		}
		usleep(o.idle_ms * 1000u / 4);
	}
	idle_s = (double)(now_ns() - t0) / 1e9;
	fprintf(out, "after %.1f s idle: shared %.1f MiB in %" PRIu64 " regions "
		"(%" PRIu64 " created, %" PRIu64 " given back)%s\n\n", idle_s,
		(double)st.shared_bytes / 1048576, st.regions, st.region_grows,
		st.region_shrinks, floor ? ", the floor" : "");
	ccdma_pool_print_stats(&st, out);
	ok = !fails && !corrupt && floor && !st.in_use_bytes;
	if (o.json)
		print_json(&o, &cfg, mode, &peak, &st, ops, bytes, fails, corrupt,
			   peak_live, idle_s, floor, ok);
	ccdma_dev_destroy(dev);
	free(w);
	if (!ok) {
		fprintf(stderr, "ccdma-demo: FAILED (%" PRIu64 " failures, %" PRIu64
			" corrupted; idle pool %s its floor: %.1f MiB in %" PRIu64
			" regions, %" PRIu64 " bytes in use, %" PRIu64 " given back)\n",
			fails, corrupt, floor ? "at" : "not at",
			(double)st.shared_bytes / 1048576, st.regions, st.in_use_bytes,
			st.region_shrinks);
		return 1;
	}
	fprintf(out, "\nok\n");
	return 0;
}
