/* SPDX-License-Identifier: MIT */
/*
 * busdma concurrency: four threads share one tag.  Each creates its own
 * maps on it (two lazy, two ALLOCNOW; one cut into 512-byte segments, one
 * loaded from iovecs) and loads, syncs and unloads private buffers of
 * random lengths in every direction, playing the device through
 * ccdma_dev_read / ccdma_dev_write: it checks what the device reads after
 * PREWRITE, that a PREREAD window reads as zeros (no other transfer's
 * bytes, whichever thread left them), and what the CPU gets after
 * POSTREAD.  Every byte is right, no load fails, the device never faults,
 * the pool's copy counters equal the threads' own counts, the pool's bytes
 * in use are back to the ALLOCNOW reservations when the threads are done
 * and to zero once the maps are gone, and the tag is left without users.
 * Once with an identity translation, once with the strict IOMMU (page
 * counters shared by neighbouring maps of different threads).
 */
#include <pthread.h>

#include "busdma_mem_util.h"

#define NTHREADS 4
#define ITERS 1500 /* per thread and phase */
#define NMAPS 4
#define MAXLEN (64u * 1024u)
#define AREA (16u * 1024u)

struct mapdef {
	size_t size, maxsegsz;
	int nsegs, flags;
	bool iovec;
};

static const struct mapdef defs[NMAPS] = {
	{ MAXLEN, 0, 16, 0, false },
	{ 16384, 0, 4, CCDMA_BUS_DMA_ALLOCNOW, false },
	{ 8192, 512, 16, 0, false },
	{ 12288, 0, 3, CCDMA_BUS_DMA_ALLOCNOW, true },
};

struct worker {
	pthread_t th;
	unsigned id;
	ccdma_bus_dmamap_t m[NMAPS];
	unsigned char *buf, *xfer, *devb, *view;
	uint64_t loads, load_errors, bad_bytes, stale_bytes, dev_errors, sync_errors;
	uint64_t copies_to, copies_from, bytes_to, bytes_from;
};

static struct ccdma_dev *d;
static ccdma_bus_dma_tag_t tag;
static pthread_barrier_t bar;
/* Patterns are windows of one table, and zeros one block, so that filling
 * and comparing are memcpy and memcmp (cheap under ThreadSanitizer). */
static unsigned char table[2 * MAXLEN], zeros[MAXLEN];

static void fill(unsigned char *b, size_t n, unsigned seed)
{
	memcpy(b, table + seed % MAXLEN, n);
}

static uint64_t diff(const unsigned char *a, const unsigned char *b, size_t n)
{
	uint64_t c = 0;
	size_t i;

	if (!memcmp(a, b, n))
		return 0;
	for (i = 0; i < n; i++)
		c += a[i] != b[i];
	return c;
}

/* One transfer on map k: dir 0 memory -> device, 1 device -> memory,
 * 2 both. */
static void transfer(struct worker *w, unsigned k, unsigned dir, uint64_t *rng)
{
	const struct mapdef *df = &defs[k];
	ccdma_bus_dmamap_t m = w->m[k];
	struct ccdma_iovec iov[3];
	size_t len = 1 + (size_t)(xorshift(rng) % df->size), pos;
	unsigned seed = (unsigned)xorshift(rng), n = 1, j;
	int rc;

	/* The transfer's memory: one buffer, or up to three pieces of
	 * separate areas. */
	if (df->iovec) {
		n = 1 + (unsigned)(xorshift(rng) % 3);
		if (len < n)
			n = (unsigned)len;
		for (j = 0, pos = 0; j < n; j++) {
			size_t l = j == n - 1 ? len - pos : 1 + (size_t)(xorshift(rng) %
							      (len - pos - (n - 1 - j)));

			if (l > AREA)
				l = AREA;
			iov[j].iov_base = w->buf + j * AREA + (xorshift(rng) % (AREA - l + 1));
			iov[j].iov_len = l;
			pos += l;
		}
		len = pos;
	} else {
		iov[0].iov_base = w->buf + (xorshift(rng) % (MAXLEN - len + 1));
		iov[0].iov_len = len;
	}
	fill(w->xfer, len, seed);
	for (j = 0, pos = 0; j < n; pos += iov[j].iov_len, j++)
		memcpy(iov[j].iov_base, w->xfer + pos, iov[j].iov_len);

	if (df->iovec)
		rc = ccdma_bus_dmamap_load_iovec(tag, m, iov, (int)n, CCDMA_BUS_DMA_NOWAIT);
	else
		rc = ccdma_bus_dmamap_load(tag, m, iov[0].iov_base, len, NULL,
					   CCDMA_BUS_DMA_NOWAIT);
	if (rc) {
		w->load_errors++;
		return;
	}
	w->loads++;
	if (m->dm_mapsize != len || bdm_seg_bytes(m) != len)
		w->bad_bytes++;

	if (dir == 0 || dir == 2) {
		rc = ccdma_bus_dmamap_sync(tag, m, 0, len, dir == 0 ?
					   CCDMA_BUS_DMASYNC_PREWRITE :
					   CCDMA_BUS_DMASYNC_PREWRITE |
					   CCDMA_BUS_DMASYNC_PREREAD);
		w->sync_errors += rc != 0;
		w->copies_to++;
		w->bytes_to += len;
		if (bdm_dev_view(d, m, w->view))
			w->dev_errors++;
		else
			w->bad_bytes += diff(w->view, w->xfer, len);
	} else {
		w->sync_errors += ccdma_bus_dmamap_sync(tag, m, 0, len,
							CCDMA_BUS_DMASYNC_PREREAD) != 0;
		/* Nothing of an earlier transfer shows through. */
		if (bdm_dev_view(d, m, w->view)) {
			w->dev_errors++;
		} else {
			w->stale_bytes += diff(w->view, zeros, len);
		}
	}
	if (dir == 1 || dir == 2) {
		fill(w->devb, len, seed ^ 0xa5u);
		if (bdm_dev_put(d, m, w->devb))
			w->dev_errors++;
		rc = ccdma_bus_dmamap_sync(tag, m, 0, len, dir == 1 ?
					   CCDMA_BUS_DMASYNC_POSTREAD :
					   CCDMA_BUS_DMASYNC_POSTREAD |
					   CCDMA_BUS_DMASYNC_POSTWRITE);
		w->sync_errors += rc != 0;
		w->copies_from++;
		w->bytes_from += len;
		memcpy(w->xfer, w->devb, len);
	} else {
		w->sync_errors += ccdma_bus_dmamap_sync(tag, m, 0, len,
							CCDMA_BUS_DMASYNC_POSTWRITE) != 0;
	}
	w->sync_errors += ccdma_bus_dmamap_unload(tag, m) != 0;
	/* The CPU's memory: the device's bytes, or its own untouched. */
	for (j = 0, pos = 0; j < n; pos += iov[j].iov_len, j++)
		w->bad_bytes += diff(iov[j].iov_base, w->xfer + pos, iov[j].iov_len);
}

static void *work(void *arg)
{
	struct worker *w = arg;
	uint64_t rng = 0x9e3779b97f4a7c15ull * (w->id + 1);
	unsigned i, k;

	for (k = 0; k < NMAPS; k++)
		REQUIRE(ccdma_bus_dmamap_create(tag, defs[k].size, defs[k].nsegs,
						defs[k].maxsegsz, 0,
						CCDMA_BUS_DMA_NOWAIT | defs[k].flags,
						&w->m[k]) == 0);
	pthread_barrier_wait(&bar); /* maps made: main measures */
	pthread_barrier_wait(&bar); /* go */
	for (i = 0; i < ITERS; i++)
		transfer(w, (unsigned)(xorshift(&rng) % NMAPS),
			 (unsigned)(xorshift(&rng) % 3), &rng);
	pthread_barrier_wait(&bar); /* done: main measures */
	pthread_barrier_wait(&bar); /* destroy */
	for (k = 0; k < NMAPS; k++)
		CHECK_EQ(ccdma_bus_dmamap_destroy(tag, w->m[k]), 0);
	return NULL;
}

static void phase(const char *name, const struct ccdma_xlate *xl)
{
	struct worker w[NTHREADS];
	struct bdm_copies c0, c1;
	uint64_t resv, loads = 0, to = 0, from = 0, bto = 0, bfrom = 0;
	unsigned i;

	d = bdm_dev(name, 8u << 20, false, xl, CCDMA_ISOLATION_DENSE);
	REQUIRE(ccdma_bus_dma_tag_create(d, NULL, NULL, &tag) == 0);
	REQUIRE(pthread_barrier_init(&bar, NULL, NTHREADS + 1) == 0);
	memset(w, 0, sizeof(w));
	for (i = 0; i < NTHREADS; i++) {
		w[i].id = i;
		w[i].buf = malloc(MAXLEN);
		w[i].xfer = malloc(MAXLEN);
		w[i].devb = malloc(MAXLEN);
		w[i].view = malloc(MAXLEN);
		REQUIRE(w[i].buf && w[i].xfer && w[i].devb && w[i].view);
		REQUIRE(pthread_create(&w[i].th, NULL, work, &w[i]) == 0);
	}
	pthread_barrier_wait(&bar);
	/* Only the ALLOCNOW reservations are held. */
	resv = bdm_in_use(d);
	CHECK(resv >= NTHREADS * (16384u + 12288u));
	c0 = bdm_copies(d);
	pthread_barrier_wait(&bar);
	pthread_barrier_wait(&bar);
	CHECK_EQ(bdm_in_use(d), resv);
	c1 = bdm_copies(d);
	pthread_barrier_wait(&bar);
	for (i = 0; i < NTHREADS; i++) {
		REQUIRE(pthread_join(w[i].th, NULL) == 0);
		CHECK_EQ(w[i].load_errors, 0);
		CHECK_EQ(w[i].sync_errors, 0);
		CHECK_EQ(w[i].dev_errors, 0);
		CHECK_EQ(w[i].bad_bytes, 0);
		CHECK_EQ(w[i].stale_bytes, 0);
		CHECK_EQ(w[i].loads, ITERS);
		loads += w[i].loads;
		to += w[i].copies_to;
		from += w[i].copies_from;
		bto += w[i].bytes_to;
		bfrom += w[i].bytes_from;
		free(w[i].buf);
		free(w[i].xfer);
		free(w[i].devb);
		free(w[i].view);
	}
	/* Every private buffer bounced: one copy per copying sync. */
	CHECK_EQ(c1.to - c0.to, to);
	CHECK_EQ(c1.from - c0.from, from);
	CHECK_EQ(c1.to_bytes - c0.to_bytes, bto);
	CHECK_EQ(c1.from_bytes - c0.from_bytes, bfrom);
	CHECK_EQ(ccdma_dev_faults(d), 0);
	CHECK_EQ(bdm_in_use(d), 0);
	printf("%s: %llu load/sync/unload cycles, %llu KiB to the device, %llu KiB "
	       "from it\n", name, (unsigned long long)loads,
	       (unsigned long long)(bto >> 10), (unsigned long long)(bfrom >> 10));
	CHECK_EQ(ccdma_bus_dma_tag_destroy(tag), 0);
	pthread_barrier_destroy(&bar);
	CHECK_EQ(ccdma_dev_destroy(d), 0);
}

int main(void)
{
	struct ccdma_xlate strict = { .kind = CCDMA_XLATE_IOMMU,
				      .iommu = CCDMA_IOMMU_STRICT };

	test_init();
	bdm_fill(table, sizeof(table), 1);
	phase("bd-threads-identity", NULL);
	phase("bd-threads-strict", &strict);
	return test_done("busdma_threads");
}
