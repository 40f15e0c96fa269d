/* SPDX-License-Identifier: MIT */
/*
 * busdma on a device with a min_align_mask (NVMe-style, 4 KiB pages):
 * every bounced segment keeps the low 12 bits of the memory it carries,
 * in its DMA address and in its bounce, for linear loads at every offset,
 * iovecs of pieces at unrelated offsets, loads cut by maxsegsz and by a
 * boundary, and ALLOCNOW maps (whose reservation holds the padding for
 * every segment, so no load of one fails).  Data goes to the device and
 * back intact.  A tag with an alignment on such a device is refused with
 * a message that says why; pool memory is still used in place.
 */
#include "busdma_mem_util.h"

#define MASK 4095ull
#define MAX (64u << 10)

static struct ccdma_dev *d;
static unsigned char mem[4 * MAX], devin[MAX];
static char last_err[512];

static void keep_err(void *arg, enum ccdma_log_level l, const char *msg)
{
	(void)arg;
	if (l == CCDMA_LOG_ERROR)
		snprintf(last_err, sizeof(last_err), "%s", msg);
}

/* Every bounced segment keeps its memory's low bits; returns how many
 * segments were bounced. */
static int check_low_bits(int line, ccdma_bus_dmamap_t m)
{
	int i, n = 0, b = test_failures;

	for (i = 0; i < m->dm_nsegs; i++) {
		const ccdma_bus_dma_segment_t *s = &m->dm_segs[i];

		if (!s->_ds_bounce_va)
			continue;
		n++;
		CHECK_EQ(s->ds_addr & MASK, s->_ds_va & MASK);
		CHECK_EQ(s->_ds_bounce_va & MASK, s->_ds_va & MASK);
	}
	if (test_failures != b)
		fprintf(stderr, "  (line %d, %d segments)\n", line, m->dm_nsegs);
	return n;
}

/* Write through the map and read back through it. */
static void round_trip(ccdma_bus_dma_tag_t t, ccdma_bus_dmamap_t m,
		       const struct ccdma_iovec *iov, int n, unsigned seed)
{
	unsigned char *view = malloc(m->dm_mapsize);
	size_t pos = 0, len = m->dm_mapsize;
	int i;

	REQUIRE(view);
	for (i = 0; i < n; i++)
		bdm_fill(iov[i].iov_base, iov[i].iov_len, seed + (unsigned)i);
	CHECK_EQ(ccdma_bus_dmamap_sync(t, m, 0, len, CCDMA_BUS_DMASYNC_PREWRITE), 0);
	CHECK_EQ(bdm_dev_view(d, m, view), 0);
	for (i = 0; i < n; i++) {
		CHECK(!memcmp(view + pos, iov[i].iov_base, iov[i].iov_len));
		pos += iov[i].iov_len;
	}
	CHECK_EQ(ccdma_bus_dmamap_sync(t, m, 0, len, CCDMA_BUS_DMASYNC_POSTWRITE), 0);
	bdm_fill(devin, len, seed + 100);
	CHECK_EQ(ccdma_bus_dmamap_sync(t, m, 0, len, CCDMA_BUS_DMASYNC_PREREAD), 0);
	CHECK_EQ(bdm_dev_put(d, m, devin), 0);
	CHECK_EQ(ccdma_bus_dmamap_sync(t, m, 0, len, CCDMA_BUS_DMASYNC_POSTREAD), 0);
	for (pos = 0, i = 0; i < n; i++) {
		CHECK(!memcmp(iov[i].iov_base, devin + pos, iov[i].iov_len));
		pos += iov[i].iov_len;
	}
	free(view);
}

static void loads(ccdma_bus_dma_tag_t t, ccdma_bus_dmamap_t m, const char *what)
{
	static const size_t offs[] = { 0, 1, 512, 1000, 4095 };
	static const size_t lens[] = { 1, 700, 4096, 5000, 20000 };
	int b = test_failures;
	unsigned i, j;

	for (i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		for (j = 0; j < sizeof(lens) / sizeof(lens[0]); j++) {
			struct ccdma_iovec v = { mem + 8192 + offs[i], lens[j] };

			CHECK_EQ(ccdma_bus_dmamap_load(t, m, v.iov_base, v.iov_len,
						       NULL, CCDMA_BUS_DMA_NOWAIT), 0);
			CHECK_EQ(check_low_bits(__LINE__, m), m->dm_nsegs);
			round_trip(t, m, &v, 1, i * 10 + j);
			CHECK_EQ(ccdma_bus_dmamap_unload(t, m), 0);
		}
	}
	/* Pieces at unrelated offsets, and two that continue each other. */
	{
		struct ccdma_iovec v[4] = {
			{ mem + 100, 3000 }, { mem + 3100, 2000 },
			{ mem + 3 * 4096 + 77, 6000 }, { mem + 9 * 4096 + 4000, 300 },
		};

		CHECK_EQ(ccdma_bus_dmamap_load_iovec(t, m, v, 4, CCDMA_BUS_DMA_NOWAIT), 0);
		CHECK(check_low_bits(__LINE__, m) >= 3);
		round_trip(t, m, v, 4, 50);
		CHECK_EQ(ccdma_bus_dmamap_unload(t, m), 0);
	}
	if (test_failures != b)
		fprintf(stderr, "  (%s)\n", what);
}

int main(void)
{
	struct ccdma_bus_dma_tag_config tc;
	struct ccdma_pool_config pc;
	struct ccdma_dev_config cfg;
	ccdma_bus_dma_tag_t t, tb, ta;
	ccdma_bus_dmamap_t m;
	void *sh;
	int i;

	test_init();
	test_config(&pc, "bd-nvme");
	pc.initial_bytes = 4u << 20;
	ccdma_dev_config_init(&cfg);
	cfg.name = "bd-nvme";
	cfg.mode = CCDMA_MODE_CONFIDENTIAL;
	cfg.pool_cfg = &pc;
	cfg.min_align_mask = MASK;
	REQUIRE(ccdma_dev_create(&cfg, &d) == 0);

	REQUIRE(ccdma_bus_dma_tag_create(d, NULL, NULL, &t) == 0);
	REQUIRE(ccdma_bus_dmamap_create(t, MAX, 8, 0, 0, 0, &m) == 0);
	loads(t, m, "lazy map");
	CHECK_EQ(ccdma_bus_dmamap_destroy(t, m), 0);

	/* ALLOCNOW: the reservation holds every segment's padding; loads
	 * into eight pieces at the worst offsets all fit. */
	REQUIRE(ccdma_bus_dmamap_create(t, MAX, 8, 0, 0, CCDMA_BUS_DMA_ALLOCNOW, &m) == 0);
	loads(t, m, "ALLOCNOW map");
	{
		struct ccdma_iovec v[8];

		for (i = 0; i < 8; i++) {
			v[i].iov_base = mem + (size_t)i * 3 * 4096 + 4095;
			v[i].iov_len = MAX / 8;
		}
		CHECK_EQ(ccdma_bus_dmamap_load_iovec(t, m, v, 8, CCDMA_BUS_DMA_NOWAIT), 0);
		CHECK_EQ(check_low_bits(__LINE__, m), 8);
		round_trip(t, m, v, 8, 60);
		CHECK_EQ(ccdma_bus_dmamap_unload(t, m), 0);
	}
	CHECK_EQ(ccdma_bus_dmamap_destroy(t, m), 0);

	/* Segments cut at 2 KiB and at an 8 KiB boundary still keep the
	 * bits (a run may not move to a line). */
	memset(&tc, 0, sizeof(tc));
	tc.maxsegsz = 2048;
	tc.boundary = 8192;
	REQUIRE(ccdma_bus_dma_tag_create(NULL, t, &tc, &tb) == 0);
	REQUIRE(ccdma_bus_dmamap_create(tb, MAX, 64, 0, 0, 0, &m) == 0);
	loads(tb, m, "maxsegsz 2048, boundary 8192");
	CHECK_EQ(ccdma_bus_dmamap_destroy(tb, m), 0);

	/* Pool memory is used in place. */
	REQUIRE(ccdma_bus_dmamap_create(t, MAX, 8, 0, 0, 0, &m) == 0);
	REQUIRE(ccdma_pool_alloc(ccdma_dev_pool(d), 5000, 0, &sh) == 0);
	CHECK_EQ(ccdma_bus_dmamap_load(t, m, (char *)sh + 3, 4000, NULL,
				       CCDMA_BUS_DMA_NOWAIT), 0);
	CHECK_EQ(bdm_bounced_segs(m), 0);
	CHECK_EQ(m->dm_segs[0]._ds_va, (uintptr_t)sh + 3);
	CHECK_EQ(ccdma_bus_dmamap_unload(t, m), 0);
	CHECK_EQ(ccdma_pool_free(ccdma_dev_pool(d), sh, 0), 0);
	CHECK_EQ(ccdma_bus_dmamap_destroy(t, m), 0);

	/* An alignment on top of the mask: refused, saying why. */
	ccdma_log_set_handler(keep_err, NULL);
	memset(&tc, 0, sizeof(tc));
	tc.alignment = 16;
	CHECK_EQ(ccdma_bus_dma_tag_create(NULL, t, &tc, &ta), EINVAL);
	CHECK(strstr(last_err, "min_align_mask") != NULL);
	ccdma_log_set_handler(NULL, NULL);

	CHECK_EQ(ccdma_bus_dma_tag_destroy(tb), 0);
	CHECK_EQ(ccdma_bus_dma_tag_destroy(t), 0);
	CHECK_EQ(bdm_in_use(d), 0);
	CHECK_EQ(ccdma_dev_destroy(d), 0);
	return test_done("busdma_min_align");
}
