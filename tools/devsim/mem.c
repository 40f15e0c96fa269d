/* SPDX-License-Identifier: MIT */
/*
 * ccdma-devsim: the front-end's shared regions.  Each region's fd is
 * mapped MAP_SHARED; the table is kept sorted by guest physical address
 * with overlaps refused, so one binary search (after a one-entry cache)
 * translates a descriptor address.  A translation succeeds only when the
 * whole [addr, addr + len) lies inside one region: the device never
 * reaches a byte the front-end did not hand it.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devsim.h"

static void region_unmap(struct ds_region *r)
{
	if (r->map)
		munmap(r->map, r->map_len);
	r->map = NULL;
	r->host = NULL;
}

void ds_mem_clear(struct ds_mem *m)
{
	unsigned i;

	for (i = 0; i < m->n; i++)
		region_unmap(&m->r[i]);
	m->n = 0;
	m->hint = 0;
}

/* One line per change, for the test that checks only shared memory is
 * ever sent; the file the fd named (a memfd shows as "/memfd:NAME
 * (deleted)", spaces made '_') lets it tell pool regions from anything
 * else. */
static void log_region(struct ds_dev *d, const char *op,
		       const struct ds_region *r)
{
	char line[512];
	int len;

	if (d->log_fd < 0)
		return;
	len = snprintf(line, sizeof(line),
		       "%s gpa=0x%" PRIx64 " size=0x%" PRIx64 " uaddr=0x%" PRIx64
		       " mmap_offset=0x%" PRIx64 " file=%s\n",
		       op, r->gpa, r->size, r->uaddr, r->mmap_offset,
		       r->file[0] ? r->file : "-");
	if (len > 0 && (size_t)len < sizeof(line) &&
	    write(d->log_fd, line, (size_t)len) != len)
		ds_err("--log-regions: write: %s", strerror(errno));
}

static void region_name(struct ds_region *r, int fd)
{
	char link[64];
	ssize_t n, i;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, r->file, sizeof(r->file) - 1);
	if (n < 0)
		n = 0;
	r->file[n] = '\0';
	for (i = 0; i < n; i++)
		if (r->file[i] == ' ')
			r->file[i] = '_';
}

static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

/* Check a region description from the peer and map it (fd stays the
 * caller's).  0 or a negative errno, after logging why. */
static int region_map(struct ds_region *r, const struct ccdma_vu_region *reg,
		      int fd)
{
	long page = sysconf(_SC_PAGESIZE);
	uint64_t skew, off;
	struct stat st;
	void *p;

	memset(r, 0, sizeof(*r));
	if (reg->memory_size == 0 ||
	    reg->guest_phys_addr + reg->memory_size < reg->guest_phys_addr ||
	    reg->userspace_addr + reg->memory_size < reg->userspace_addr ||
	    reg->mmap_offset + reg->memory_size < reg->mmap_offset) {
		ds_err("region gpa 0x%" PRIx64 " size 0x%" PRIx64
		       ": empty or wraps around", reg->guest_phys_addr,
		       reg->memory_size);
		return -EINVAL;
	}
	if (fstat(fd, &st) != 0)
		return -errno;
	/* Touching a page past the end of a file is SIGBUS: refuse a region
	 * its file cannot back.  (A front-end could still shrink an unsealed
	 * memfd later; that only hurts its own device.) */
	if (S_ISREG(st.st_mode) &&
	    (uint64_t)st.st_size < reg->mmap_offset + reg->memory_size) {
		ds_err("region gpa 0x%" PRIx64 ": file has 0x%" PRIx64
		       " bytes, region needs 0x%" PRIx64, reg->guest_phys_addr,
		       (uint64_t)st.st_size, reg->mmap_offset + reg->memory_size);
		return -EINVAL;
	}
	skew = reg->mmap_offset % (uint64_t)page;
	off = reg->mmap_offset - skew;
	if (reg->memory_size + skew > SIZE_MAX || off > (uint64_t)INT64_MAX)
		return -EINVAL;
	p = mmap(NULL, (size_t)(reg->memory_size + skew), PROT_READ | PROT_WRITE,
		 MAP_SHARED, fd, (off_t)off);
	if (p == MAP_FAILED) {
		int e = errno;

		ds_err("region gpa 0x%" PRIx64 ": mmap: %s", reg->guest_phys_addr,
		       strerror(e));
		return -e;
	}
	r->gpa = reg->guest_phys_addr;
	r->size = reg->memory_size;
	r->uaddr = reg->userspace_addr;
	r->mmap_offset = reg->mmap_offset;
	r->map = p;
	r->map_len = (size_t)(reg->memory_size + skew);
	r->host = (uint8_t *)p + skew;
	region_name(r, fd);
	return 0;
}

/* Insert a mapped region into m (sorted); refuses an overlap. */
static int table_insert(struct ds_mem *m, const struct ds_region *r)
{
	unsigned i, pos = m->n;

	if (m->n == DS_MAX_MEM_SLOTS) {
		ds_err("region gpa 0x%" PRIx64 ": all %u slots in use", r->gpa,
		       DS_MAX_MEM_SLOTS);
		return -ENOSPC;
	}
	for (i = 0; i < m->n; i++) {
		if (ranges_overlap(r->gpa, r->size, m->r[i].gpa, m->r[i].size)) {
			ds_err("region gpa 0x%" PRIx64 " size 0x%" PRIx64
			       " overlaps gpa 0x%" PRIx64 " size 0x%" PRIx64,
			       r->gpa, r->size, m->r[i].gpa, m->r[i].size);
			return -EEXIST;
		}
		if (pos == m->n && r->gpa < m->r[i].gpa)
			pos = i;
	}
	memmove(&m->r[pos + 1], &m->r[pos], (m->n - pos) * sizeof(m->r[0]));
	m->r[pos] = *r;
	m->n++;
	m->hint = 0;
	return 0;
}

int ds_mem_add(struct ds_dev *d, const struct ccdma_vu_region *reg, int fd,
	       const char *op)
{
	struct ds_region r;
	int ret;

	ret = region_map(&r, reg, fd);
	if (ret)
		return ret;
	ret = table_insert(&d->conn.mem, &r);
	if (ret) {
		region_unmap(&r);
		return ret;
	}
	log_region(d, op, &r);
	return 0;
}

static bool host_in(const struct ds_region *r, const void *p)
{
	uintptr_t a = (uintptr_t)p, h = (uintptr_t)r->host;

	return p && a >= h && a - h < r->size;
}

void ds_mem_gone(struct ds_dev *d, const struct ds_region *r)
{
	uint64_t hits = 0;
	unsigned i;

	d->st.regions_gone++;
	for (i = 0; i < DS_MAX_QUEUES; i++) {
		struct ds_vq *vq = &d->conn.vq[i];

		if (!vq->started)
			continue;
		if (host_in(r, vq->desc) || host_in(r, vq->avail) ||
		    host_in(r, vq->used)) {
			ds_err("ring %u: the region at gpa 0x%" PRIx64 " size 0x%"
			       PRIx64 " goes while the running ring lies in it",
			       vq->index, r->gpa, r->size);
			hits++;
		}
		hits += ds_vq_names(d, vq, r->gpa, r->size);
	}
	d->st.region_gone_busy += hits;
	if (hits)
		log_region(d, "busy", r);
}

int ds_mem_remove(struct ds_dev *d, const struct ccdma_vu_region *reg)
{
	struct ds_mem *m = &d->conn.mem;
	unsigned i;

	for (i = 0; i < m->n; i++) {
		struct ds_region *r = &m->r[i];

		if (r->gpa != reg->guest_phys_addr || r->size != reg->memory_size)
			continue;
		log_region(d, "rem", r);
		ds_mem_gone(d, r);
		region_unmap(r);
		memmove(r, r + 1, (m->n - i - 1) * sizeof(*r));
		m->n--;
		m->hint = 0;
		return 0;
	}
	ds_err("REM_MEM_REG: no region gpa 0x%" PRIx64 " size 0x%" PRIx64,
	       reg->guest_phys_addr, reg->memory_size);
	return -ENOENT;
}

/* A new table while the driver has requests posted and not completed: a
 * back-end that works on requests in threads (libvhost-user's) would have
 * them lose their memory as it maps the table afresh.  Counted, logged
 * ("busy-table" in --log-regions). */
static void table_busy(struct ds_dev *d)
{
	unsigned i;

	for (i = 0; i < DS_MAX_QUEUES; i++) {
		struct ds_vq *vq = &d->conn.vq[i];
		uint16_t posted;
		char line[96];
		int len;

		if (!vq->started)
			continue;
		posted = (uint16_t)(ccdma_vring_ld16(&vq->avail->idx,
						     __ATOMIC_ACQUIRE) -
				    vq->last_avail);
		if (!posted)
			continue;
		d->st.table_busy++;
		ds_err("ring %u: a new memory table while %u posted request(s) "
		       "are not completed", vq->index, posted);
		len = snprintf(line, sizeof(line), "busy-table ring=%u posted=%u\n",
			       vq->index, posted);
		if (d->log_fd >= 0 && len > 0 &&
		    write(d->log_fd, line, (size_t)len) != len)
			ds_err("--log-regions: write: %s", strerror(errno));
	}
}

int ds_mem_set_table(struct ds_dev *d, const struct ccdma_vu_region *regs,
		     unsigned n, const int *fds)
{
	struct ds_mem fresh;
	unsigned i;
	int ret;

	/* Build the new table aside: a bad table leaves the old one. */
	memset(&fresh, 0, sizeof(fresh));
	for (i = 0; i < n; i++) {
		struct ds_region r;

		ret = region_map(&r, &regs[i], fds[i]);
		if (ret == 0) {
			ret = table_insert(&fresh, &r);
			if (ret)
				region_unmap(&r);
		}
		if (ret) {
			ds_mem_clear(&fresh);
			return ret;
		}
	}
	table_busy(d);
	/* A region the new table leaves out goes (the same one sent again
	 * stays: this device maps it afresh before it takes a request). */
	for (i = 0; i < d->conn.mem.n; i++) {
		const struct ds_region *o = &d->conn.mem.r[i];
		unsigned j;

		for (j = 0; j < fresh.n; j++)
			if (fresh.r[j].gpa == o->gpa && fresh.r[j].size == o->size)
				break;
		if (j == fresh.n)
			ds_mem_gone(d, o);
	}
	ds_mem_clear(&d->conn.mem);
	d->conn.mem = fresh;
	for (i = 0; i < fresh.n; i++)
		log_region(d, "table", &fresh.r[i]);
	return 0;
}

void *ds_mem_gpa(struct ds_mem *m, uint64_t gpa, uint64_t len)
{
	const struct ds_region *r;
	unsigned lo, hi;

	if (m->n == 0)
		return NULL;
	r = &m->r[m->hint < m->n ? m->hint : 0];
	if (gpa - r->gpa < r->size && len <= r->size - (gpa - r->gpa))
		return r->host + (gpa - r->gpa);
	/* The last region starting at or below gpa. */
	lo = 0;
	hi = m->n;
	while (hi - lo > 1) {
		unsigned mid = lo + (hi - lo) / 2;

		if (m->r[mid].gpa <= gpa)
			lo = mid;
		else
			hi = mid;
	}
	r = &m->r[lo];
	if (gpa < r->gpa || gpa - r->gpa >= r->size ||
	    len > r->size - (gpa - r->gpa))
		return NULL;
	m->hint = lo;
	return r->host + (gpa - r->gpa);
}

void *ds_mem_uaddr(const struct ds_mem *m, uint64_t ua, uint64_t len)
{
	unsigned i;

	for (i = 0; i < m->n; i++) {
		const struct ds_region *r = &m->r[i];

		if (ua >= r->uaddr && ua - r->uaddr < r->size &&
		    len <= r->size - (ua - r->uaddr))
			return r->host + (ua - r->uaddr);
	}
	return NULL;
}

bool ds_mem_host_ok(const struct ds_mem *m, const void *p, uint64_t len)
{
	uintptr_t a = (uintptr_t)p;
	unsigned i;

	for (i = 0; i < m->n; i++) {
		const struct ds_region *r = &m->r[i];
		uintptr_t h = (uintptr_t)r->host;

		if (a >= h && a - h < r->size && len <= r->size - (a - h))
			return true;
	}
	return false;
}
