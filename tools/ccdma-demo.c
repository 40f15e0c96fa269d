/* SPDX-License-Identifier: MIT */
/*
 * ccdma-demo: the dma layer and its bounce pool at work.
 *
 * Creates a device (in the process-wide mode, confidential by default)
 * whose pool starts empty.  Several threads map private buffers of a
 * realistic mix of DMA sizes (bench/dma_mix.h) BIDIRECTIONAL, with a
 * steady number in flight; playing the device, each later reads the
 * request through the device's own view of memory (ccdma_dev_access),
 * checks it and writes an answer, then unmaps and checks the answer
 * reached the private buffer.  Meanwhile the grower adds shared regions;
 * afterwards the pool goes idle and gives regions back.  Prints the
 * statistics table at the peak and after the shrink.  The sharing cost is
 * the realistic default unless CCDMA_SHARE_COST_NS says otherwise.
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

#include "dma_mix.h"

struct opts {
	int threads;
	int inflight;      /* per thread */
	double seconds;
	unsigned idle_ms;
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
		"usage: ccdma-demo [--threads N] [--inflight N] [--seconds S] [--idle-ms MS]\n"
		"  Maps a realistic mix of DMA buffer sizes through a growing bounce pool\n"
		"  from several threads, then lets it shrink, printing the statistics.\n"
		"  --threads N    mapping threads (default 4)\n"
		"  --inflight N   buffers each thread keeps mapped (default 512)\n"
		"  --seconds S    how long the threads run (default 3)\n"
		"  --idle-ms MS   how long a free region waits before it is given back (default 300)\n"
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

int main(int argc, char **argv)
{
	struct opts o = { .threads = 4, .inflight = 512, .seconds = 3, .idle_ms = 300 };
	struct ccdma_pool_config cfg;
	struct ccdma_dev_config dcfg;
	struct ccdma_pool_stats st;
	struct worker *w;
	uint64_t t0, ops = 0, bytes = 0, fails = 0, corrupt = 0, peak_live = 0;
	enum ccdma_mode mode;
	int i, rc;

	if (parse_args(argc, argv, &o)) {
		usage(stderr);
		return 2;
	}
	if (ccdma_mode_get(&mode))
		return 2; /* the library said why */
	printf("ccdma %s demo: mode %s, sharing cost %" PRIu64 " ns per 4 KiB page, "
	       "page size %zu\n", ccdma_version(), ccdma_mode_name(mode),
	       ccdma_share_cost_get_ns(), ccdma_page_size());

	ccdma_pool_config_init(&cfg);
	cfg.name = "demo";
	cfg.idle_ms = o.idle_ms;
	ccdma_dev_config_init(&dcfg);
	dcfg.name = "demo";
	dcfg.pool_cfg = &cfg;
	rc = ccdma_dev_create(&dcfg, &dev);
	if (rc) {
		fprintf(stderr, "ccdma-demo: cannot create the device: %s\n", strerror(-rc));
		return 1;
	}
	pool = ccdma_dev_pool(dev);
	printf("pool: regions of %zu KiB, cap %zu MiB, low/high watermark %zu/%zu KiB, "
	       "starts empty\n", cfg.region_size >> 10, cfg.max_bytes >> 20,
	       cfg.low_watermark >> 10, cfg.high_watermark >> 10);
	printf("\n%d threads map private buffers of the DMA size mix BIDIRECTIONAL, "
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
		printf("  t=%4.1fs  shared %6.1f MiB in %3" PRIu64 " regions, in use %6.1f MiB, "
		       "allocs %9" PRIu64 "\n", (double)(now_ns() - t0) / 1e9,
		       (double)st.shared_bytes / 1048576, st.regions,
		       (double)st.in_use_bytes / 1048576, st.allocs);
	}
	ccdma_pool_get_stats(pool, &st);
	printf("\nat the peak:\n");
	ccdma_pool_print_stats(&st, stdout);
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
	printf("\nmapped %" PRIu64 " buffers (%.1f GiB) in %.1f s: %.0f maps/s, "
	       "%" PRIu64 " failures, %" PRIu64 " corrupted requests or answers\n", ops,
	       (double)bytes / (1 << 30), o.seconds, (double)ops / o.seconds,
	       fails, corrupt);
	printf("bounce copies: %" PRIu64 " to the device (%.1f GiB), %" PRIu64
	       " from it (%.1f GiB)\n", st.bounce_copies_to_device,
	       (double)st.bounced_to_device_bytes / (1 << 30),
	       st.bounce_copies_from_device,
	       (double)st.bounced_from_device_bytes / (1 << 30));
	printf("peak shared %.1f MiB for at most %.1f MiB requested in flight "
	       "(sum of per-thread peaks): ratio %.2f\n",
	       (double)st.shared_high_water / 1048576, (double)peak_live / 1048576,
	       peak_live ? (double)st.shared_high_water / (double)peak_live : 0.0);

	printf("\nall buffers unmapped; waiting for idle regions to be given back...\n");
	t0 = now_ns();
	for (i = 0; i < 40; i++) {
		usleep(o.idle_ms * 1000u / 2);
		ccdma_pool_get_stats(pool, &st);
		if (st.shared_bytes <= cfg.high_watermark + cfg.region_size)
			break;
	}
	printf("after %.1f s idle: shared %.1f MiB in %" PRIu64 " regions "
	       "(%" PRIu64 " created, %" PRIu64 " given back)\n\n",
	       (double)(now_ns() - t0) / 1e9, (double)st.shared_bytes / 1048576,
	       st.regions, st.region_grows, st.region_shrinks);
	ccdma_pool_print_stats(&st, stdout);
	ccdma_dev_destroy(dev);
	free(w);
	if (fails || corrupt || !st.region_shrinks) {
		fprintf(stderr, "ccdma-demo: FAILED (%" PRIu64 " failures, %" PRIu64
			" corrupted, %" PRIu64 " regions given back)\n",
			fails, corrupt, st.region_shrinks);
		return 1;
	}
	printf("\nok\n");
	return 0;
}
