/* SPDX-License-Identifier: MIT */
/*
 * A Linux-style driver on ccdma's dma layer (<ccdma/dma.h>): the calls of
 * the Linux DMA API with a ccdma_ prefix.
 *
 * What it shows:
 *   - a device created with its constraints (a 48-bit mask, 64 KiB
 *     segments), in confidential mode: private memory is bounced;
 *   - a descriptor ring in coherent memory (ccdma_alloc_coherent), which
 *     the driver reads back ONCE into private memory before trusting it;
 *   - ccdma_map_single / ccdma_mapping_error / ccdma_unmap_single of one
 *     buffer each way;
 *   - a scatter-gather transfer of three scattered private buffers with a
 *     chunk list (ccdma_chunks_add, ccdma_map_chunks): the device gets the
 *     segments, never the private addresses.
 *
 * The device is a memory-to-memory copy engine ("DMA engine").  It is
 * played in this program through the device-side accessor
 * (ccdma_dev_read / ccdma_dev_write), which reaches only what the device
 * may reach: in a real system it is hardware, or another process.
 *
 * Build: cc linux_driver.c $(pkg-config --cflags --libs ccdma)
 * Run:   ./linux_driver        (exit 0: every byte arrived; 1: failure)
 */
#include <ccdma/dma.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

/* The engine's descriptor: copy len bytes from DMA address src to dst. */
struct desc {
	uint64_t src, dst;
	uint32_t len;
	uint32_t status; /* the device writes 1 when done */
};
#define RING 16

static struct ccdma_dev *dev;
static struct desc *ring;       /* CPU address of the coherent ring */
static ccdma_addr_t ring_dma;   /* its DMA address */

/* ---- the device: reaches memory only by DMA address ------------------- */

static void device_run(unsigned n)
{
	unsigned char buf[65536];
	struct desc d;
	unsigned i;

	for (i = 0; i < n; i++) {
		ccdma_addr_t at = ring_dma + i * sizeof(d);

		if (ccdma_dev_read(dev, at, &d, sizeof(d)) || d.len > sizeof(buf) ||
		    ccdma_dev_read(dev, d.src, buf, d.len) ||
		    ccdma_dev_write(dev, d.dst, buf, d.len))
			d.status = 2; /* a fault: the address was not mapped */
		else
			d.status = 1;
		ccdma_dev_write(dev, at + offsetof(struct desc, status), &d.status,
				sizeof(d.status));
	}
}

/* ---- the driver ------------------------------------------------------- */

/* Read descriptor i's status once into private memory, then check it. */
static int desc_status(unsigned i)
{
	uint32_t st = __atomic_load_n(&ring[i].status, __ATOMIC_ACQUIRE);

	return st == 1 ? 0 : -EIO;
}

static void post(unsigned i, ccdma_addr_t src, ccdma_addr_t dst, uint32_t len)
{
	ring[i] = (struct desc){ .src = src, .dst = dst, .len = len };
}

/* One buffer each way with map_single. */
static int copy_single(void *dst, const void *src, size_t len)
{
	ccdma_addr_t s, d;
	int rc;

	s = ccdma_map_single(dev, (void *)src, len, CCDMA_TO_DEVICE);
	if (ccdma_mapping_error(dev, s))
		return ccdma_mapping_error(dev, s);
	d = ccdma_map_single(dev, dst, len, CCDMA_FROM_DEVICE);
	if ((rc = ccdma_mapping_error(dev, d))) {
		ccdma_unmap_single(dev, s, len, CCDMA_TO_DEVICE);
		return rc;
	}
	post(0, s, d, (uint32_t)len);
	device_run(1);                  /* "ring the doorbell" */
	rc = desc_status(0);
	ccdma_unmap_single(dev, s, len, CCDMA_TO_DEVICE);
	ccdma_unmap_single(dev, d, len, CCDMA_FROM_DEVICE); /* copies into dst */
	return rc;
}

/* Three scattered source buffers gathered into one destination. */
static int gather(void *dst, void *const src[3], const size_t len[3])
{
	struct ccdma_chunk chunks[3];
	struct ccdma_seg segs[RING];
	struct ccdma_chunk_list in;
	struct ccdma_seg_list out;
	ccdma_addr_t d;
	size_t total = 0, off = 0;
	int n, i, rc = 0;

	ccdma_chunks_init(&in, chunks, 3);
	for (i = 0; i < 3; i++) {
		if ((rc = ccdma_chunks_add(&in, src[i], len[i], CCDMA_MEM_PRIVATE)))
			return rc;
		total += len[i];
	}
	ccdma_segs_init(&out, segs, RING);
	n = ccdma_map_chunks(dev, &in, &out, CCDMA_TO_DEVICE);
	if (n < 0)
		return n;
	d = ccdma_map_single(dev, dst, total, CCDMA_FROM_DEVICE);
	if ((rc = ccdma_mapping_error(dev, d))) {
		ccdma_unmap_chunks(dev, &in, &out, CCDMA_TO_DEVICE);
		return rc;
	}
	/* One descriptor per segment (the bounced pieces may have merged). */
	for (i = 0; i < n; i++) {
		post((unsigned)i, out.seg[i].addr, d + off, out.seg[i].len);
		off += out.seg[i].len;
	}
	device_run((unsigned)n);
	for (i = 0; i < n && !rc; i++)
		rc = desc_status((unsigned)i);
	ccdma_unmap_chunks(dev, &in, &out, CCDMA_TO_DEVICE);
	ccdma_unmap_single(dev, d, total, CCDMA_FROM_DEVICE);
	printf("gather: 3 chunks became %d segment(s)\n", n);
	return rc;
}

int main(void)
{
	static char a[3000], b[5000], c[700], one[8192], got[8700];
	void *src[3] = { a, b, c };
	size_t len[3] = { sizeof(a), sizeof(b), sizeof(c) };
	struct ccdma_dev_config cfg;
	int rc;

	ccdma_dev_config_init(&cfg);
	cfg.name = "dmaengine0";
	cfg.dma_mask = (1ull << 48) - 1;
	cfg.mode = CCDMA_MODE_CONFIDENTIAL;
	if ((rc = ccdma_dev_create(&cfg, &dev)))
		return fprintf(stderr, "dev_create: %s\n", strerror(-rc)), 1;
	if ((rc = ccdma_alloc_coherent(dev, RING * sizeof(struct desc), (void **)&ring,
				       &ring_dma, 0)))
		return fprintf(stderr, "alloc_coherent: %s\n", strerror(-rc)), 1;

	memset(one, 0x5a, sizeof(one));
	rc = copy_single(got, one, sizeof(one));
	if (rc || memcmp(got, one, sizeof(one)))
		return fprintf(stderr, "copy_single failed (%d)\n", rc), 1;
	printf("copy_single: %zu bytes through a bounce each way\n", sizeof(one));

	memset(a, 'a', sizeof(a));
	memset(b, 'b', sizeof(b));
	memset(c, 'c', sizeof(c));
	memset(got, 0, sizeof(got));
	rc = gather(got, src, len);
	if (rc || memcmp(got, a, sizeof(a)) || memcmp(got + sizeof(a), b, sizeof(b)) ||
	    memcmp(got + sizeof(a) + sizeof(b), c, sizeof(c)))
		return fprintf(stderr, "gather failed (%d)\n", rc), 1;

	ccdma_free_coherent(dev, RING * sizeof(struct desc), ring, ring_dma);
	if (ccdma_dev_destroy(dev))
		return 1;
	printf("linux_driver: ok\n");
	return 0;
}
