/* SPDX-License-Identifier: MIT */
/*
 * Helpers for the vhost-user front-end tests: descriptor counting, memory
 * table checks, and a minimal hand-built split ring that drives virtio-blk
 * requests through the transport alone (independent of src/virtio/).
 * Header only.
 */
#ifndef CCDMA_TEST_VHOST_UTIL_H
#define CCDMA_TEST_VHOST_UTIL_H

#include <dirent.h>
#include <stdbool.h>
#include <time.h>

#include <ccdma/vhost.h>
#include <ccdma/virtio.h>

#include "test.h"
#include "vhost/vhost_proto.h"
#include "virtio/virtio_ring.h"

static inline uint64_t test_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Open descriptors of this process. */
static inline int fd_count(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the DIR's own descriptor */
}

/* True when [addr, addr+len) lies inside one entry of the table. */
static inline bool table_covers(const struct ccdma_vhost_region *r, unsigned n,
				const void *addr, size_t len)
{
	uint64_t a = (uint64_t)(uintptr_t)addr;
	unsigned i;

	for (i = 0; i < n; i++)
		if (a >= r[i].user_addr && a + len <= r[i].user_addr + r[i].size)
			return true;
	return false;
}

/* True when any byte of [addr, addr+len) is in the table. */
static inline bool table_touches(const struct ccdma_vhost_region *r, unsigned n,
				 const void *addr, size_t len)
{
	uint64_t a = (uint64_t)(uintptr_t)addr;
	unsigned i;

	for (i = 0; i < n; i++)
		if (a < r[i].user_addr + r[i].size && a + len > r[i].user_addr)
			return true;
	return false;
}

/*
 * The table matches the pool: as many entries as regions, identity
 * addresses, offset 0, every entry inside the pool, sizes adding up to
 * the pool's shared bytes, no two entries overlapping.  Returns the
 * number of entries (or -1 after printing what is wrong).
 */
static inline int table_matches_pool(struct ccdma_vhost *h)
{
	struct ccdma_vhost_region r[64];
	struct ccdma_pool *pool = ccdma_dev_pool(ccdma_vhost_dev(h));
	struct ccdma_pool_stats st;
	uint64_t sum = 0;
	unsigned n, i, j;

	n = ccdma_vhost_regions(h, r, 64);
	if (n > 64 || ccdma_pool_get_stats(pool, &st))
		return -1;
	for (i = 0; i < n; i++) {
		if (r[i].guest_phys_addr != r[i].user_addr || r[i].mmap_offset ||
		    !r[i].size ||
		    !ccdma_pool_contains(pool, (void *)(uintptr_t)r[i].user_addr,
					 (size_t)r[i].size)) {
			fprintf(stderr, "entry %u (%#llx, %llu bytes) is not a pool "
				"region\n", i, (unsigned long long)r[i].user_addr,
				(unsigned long long)r[i].size);
			return -1;
		}
		for (j = 0; j < i; j++)
			if (r[i].user_addr < r[j].user_addr + r[j].size &&
			    r[j].user_addr < r[i].user_addr + r[i].size) {
				fprintf(stderr, "entries %u and %u overlap\n", j, i);
				return -1;
			}
		sum += r[i].size;
	}
	if (n != st.regions || sum != st.shared_bytes) {
		fprintf(stderr, "table: %u entries, %llu bytes; pool: %llu regions, "
			"%llu bytes\n", n, (unsigned long long)sum,
			(unsigned long long)st.regions,
			(unsigned long long)st.shared_bytes);
		return -1;
	}
	return (int)n;
}

/* ---- a minimal split ring --------------------------------------------- */

#define TRING_NUM 8u

struct tring {
	struct ccdma_dev *dev;
	const struct ccdma_virtio_transport *t;
	unsigned q;
	struct ccdma_vq_layout l;
	uint16_t avail_idx, used_seen;
	/* request header and status byte, coherent */
	struct ccdma_vblk_hdr *hdr;
	ccdma_addr_t hdr_dma;
	uint8_t *status;
	ccdma_addr_t status_dma;
};

static inline int tring_init(struct tring *r, struct ccdma_vhost *h, unsigned q)
{
	ccdma_addr_t d;
	void *p;

	memset(r, 0, sizeof(*r));
	r->dev = ccdma_vhost_dev(h);
	r->t = ccdma_vhost_transport(h);
	r->q = q;
	r->l.num = TRING_NUM;
	if (ccdma_alloc_coherent(r->dev, ccdma_vring_desc_size(TRING_NUM), &p, &d, 0))
		return -1;
	r->l.desc = p;
	r->l.desc_dma = d;
	if (ccdma_alloc_coherent(r->dev, ccdma_vring_avail_size(TRING_NUM), &p, &d, 0))
		return -1;
	r->l.avail = p;
	r->l.avail_dma = d;
	if (ccdma_alloc_coherent(r->dev, ccdma_vring_used_size(TRING_NUM), &p, &d, 0))
		return -1;
	r->l.used = p;
	r->l.used_dma = d;
	if (ccdma_alloc_coherent(r->dev, sizeof(*r->hdr), &p, &r->hdr_dma, 0))
		return -1;
	r->hdr = p;
	if (ccdma_alloc_coherent(r->dev, 1, &p, &r->status_dma, 0))
		return -1;
	r->status = p;
	return r->t->ops->queue_start(r->t->ctx, q, &r->l);
}

static inline void tring_free(struct tring *r)
{
	ccdma_free_coherent(r->dev, ccdma_vring_desc_size(TRING_NUM), r->l.desc,
			    r->l.desc_dma);
	ccdma_free_coherent(r->dev, ccdma_vring_avail_size(TRING_NUM), r->l.avail,
			    r->l.avail_dma);
	ccdma_free_coherent(r->dev, ccdma_vring_used_size(TRING_NUM), r->l.used,
			    r->l.used_dma);
	ccdma_free_coherent(r->dev, sizeof(*r->hdr), r->hdr, r->hdr_dma);
	ccdma_free_coherent(r->dev, 1, r->status, r->status_dma);
}

/*
 * One virtio-blk request: header, `len` bytes of data at `data_dma`
 * (coherent memory; device-writable for a read) and the status byte.
 * Waits up to 10 s.  Returns the status byte, or -1 with a message;
 * *used_len gets the used element's length.
 */
static inline int tring_blk(struct tring *r, uint32_t type, uint64_t sector,
			    ccdma_addr_t data_dma, uint32_t len,
			    uint32_t *used_len)
{
	struct ccdma_vring_desc *desc = r->l.desc;
	struct ccdma_vring_avail *avail = r->l.avail;
	struct ccdma_vring_used *used = r->l.used;
	const struct ccdma_virtio_transport_ops *ops = r->t->ops;
	uint64_t deadline = test_now_ns() + 10000000000ull;
	uint16_t idx, want = (uint16_t)(r->used_seen + 1);
	struct ccdma_vring_used_elem e;
	ccdma_le16_t raw;
	int rc;

	r->hdr->type = ccdma_cpu_to_le32(type);
	r->hdr->reserved = ccdma_cpu_to_le32(0);
	r->hdr->sector = ccdma_cpu_to_le64(sector);
	*r->status = 0xff;
	desc[0].addr = ccdma_cpu_to_le64(r->hdr_dma);
	desc[0].len = ccdma_cpu_to_le32(sizeof(*r->hdr));
	desc[0].flags = ccdma_cpu_to_le16(CCDMA_VRING_DESC_F_NEXT);
	desc[0].next = ccdma_cpu_to_le16(1);
	desc[1].addr = ccdma_cpu_to_le64(data_dma);
	desc[1].len = ccdma_cpu_to_le32(len);
	desc[1].flags = ccdma_cpu_to_le16(CCDMA_VRING_DESC_F_NEXT |
		(type == CCDMA_VBLK_T_IN ? CCDMA_VRING_DESC_F_WRITE : 0));
	desc[1].next = ccdma_cpu_to_le16(2);
	desc[2].addr = ccdma_cpu_to_le64(r->status_dma);
	desc[2].len = ccdma_cpu_to_le32(1);
	desc[2].flags = ccdma_cpu_to_le16(CCDMA_VRING_DESC_F_WRITE);
	desc[2].next = ccdma_cpu_to_le16(0);
	avail->ring[r->avail_idx % TRING_NUM] = ccdma_cpu_to_le16(0);
	r->avail_idx++;
	raw = ccdma_cpu_to_le16(r->avail_idx);
	/* Always kicked (the eventfd write orders the store before it). */
	__atomic_store(&avail->idx, &raw, __ATOMIC_RELEASE);
	rc = ops->notify(r->t->ctx, r->q);
	if (rc) {
		fprintf(stderr, "notify: %d\n", rc);
		return -1;
	}
	for (;;) {
		__atomic_load(&used->idx, &raw, __ATOMIC_ACQUIRE);
		idx = ccdma_le16_to_cpu(raw);
		if (idx == want)
			break;
		if (idx != r->used_seen) {
			fprintf(stderr, "used idx %u, expected %u\n", idx, want);
			return -1;
		}
		if (test_now_ns() > deadline) {
			fprintf(stderr, "no completion in 10 s\n");
			return -1;
		}
		rc = ops->wait(r->t->ctx, r->q, 1000000000ull);
		if (rc && rc != -ETIMEDOUT) {
			fprintf(stderr, "wait: %d\n", rc);
			return -1;
		}
	}
	r->used_seen = idx;
	e = used->ring[(uint16_t)(idx - 1) % TRING_NUM];
	if (ccdma_le32_to_cpu(e.id) != 0) {
		fprintf(stderr, "used id %u\n", ccdma_le32_to_cpu(e.id));
		return -1;
	}
	if (used_len)
		*used_len = ccdma_le32_to_cpu(e.len);
	return *(volatile uint8_t *)r->status;
}

#include "backend_util.h"

#endif /* CCDMA_TEST_VHOST_UTIL_H */
