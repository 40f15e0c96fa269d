/* SPDX-License-Identifier: MIT */
/*
 * ccdma-devsim: virtio-blk requests (virtio 1.x, 5.2.6) on a RAM disk (an
 * anonymous mapping: reads and writes are one memcpy per segment, no
 * syscall) or a file (one preadv / pwritev per request).
 *
 * A request is a chain of segments already translated into our mappings:
 * the device-readable ones carry the 16-byte header and, for writes,
 * discards and write-zeroes, the payload; the device-writable ones take
 * read data and end with the status byte.  The header, the payload and the
 * data may be cut anywhere between descriptors: the device makes no
 * assumption about the layout (5.2.6.2), so everything is gathered through
 * seg_read / walked segment by segment.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <ccdma/virtio_blk.h>

#include "devsim.h"

#define SECTOR CCDMA_VBLK_SECTOR
/* DISCARD / WRITE_ZEROES limits offered in config space. */
#define DS_MAX_DWZ_SEG 32u
#define DS_MAX_DWZ_SECTORS (1u << 22) /* 2 GiB */

int ds_disk_open(struct ds_dev *d)
{
	struct ds_disk *disk = &d->disk;
	const struct ds_opts *o = &d->opt;
	struct stat st;

	disk->size = o->size;
	disk->fd = -1;
	disk->ram = NULL;
	if (!o->file) {
		/* Untouched pages cost nothing: a 64 GiB disk that is mostly
		 * never written is fine. */
		void *p = mmap(NULL, (size_t)o->size, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

		if (p == MAP_FAILED) {
			ds_err("RAM disk of %" PRIu64 " bytes: %s", o->size,
			       strerror(errno));
			return -1;
		}
		disk->ram = p;
		return 0;
	}
	disk->fd = open(o->file, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (disk->fd < 0 && o->read_only &&
	    (errno == EACCES || errno == EROFS || errno == EPERM))
		disk->fd = open(o->file, O_RDONLY | O_CLOEXEC);
	if (disk->fd < 0) {
		ds_err("%s: %s", o->file, strerror(errno));
		return -1;
	}
	if (fstat(disk->fd, &st) != 0) {
		ds_err("%s: %s", o->file, strerror(errno));
		return -1;
	}
	if (S_ISREG(st.st_mode) && (uint64_t)st.st_size < o->size &&
	    ftruncate(disk->fd, (off_t)o->size) != 0) {
		ds_err("%s: cannot extend to %" PRIu64 " bytes: %s", o->file,
		       o->size, strerror(errno));
		return -1;
	}
	return 0;
}

void ds_disk_close(struct ds_disk *disk)
{
	if (disk->ram)
		munmap(disk->ram, (size_t)disk->size);
	if (disk->fd >= 0)
		close(disk->fd);
	disk->ram = NULL;
	disk->fd = -1;
}

void ds_blk_config(struct ds_dev *d)
{
	const struct ds_opts *o = &d->opt;
	uint8_t *c = d->config;
	uint64_t max = d->disk.size / SECTOR;

	memset(c, 0, sizeof(d->config));
	ccdma_put_le64(c + CCDMA_VBLK_CFG_CAPACITY, d->disk.size / SECTOR);
	ccdma_put_le32(c + CCDMA_VBLK_CFG_SIZE_MAX, o->size_max);
	ccdma_put_le32(c + CCDMA_VBLK_CFG_SEG_MAX, o->seg_max);
	ccdma_put_le32(c + CCDMA_VBLK_CFG_BLK_SIZE, o->blk_size);
	ccdma_put_le16(c + CCDMA_VBLK_CFG_NUM_QUEUES, (uint16_t)o->queues);
	if (max > DS_MAX_DWZ_SECTORS)
		max = DS_MAX_DWZ_SECTORS;
	ccdma_put_le32(c + CCDMA_VBLK_CFG_MAX_DISCARD_SECTORS, (uint32_t)max);
	ccdma_put_le32(c + CCDMA_VBLK_CFG_MAX_DISCARD_SEG, DS_MAX_DWZ_SEG);
	ccdma_put_le32(c + CCDMA_VBLK_CFG_DISCARD_ALIGN, o->blk_size / SECTOR);
	ccdma_put_le32(c + CCDMA_VBLK_CFG_MAX_WZ_SECTORS, (uint32_t)max);
	ccdma_put_le32(c + CCDMA_VBLK_CFG_MAX_WZ_SEG, DS_MAX_DWZ_SEG);
	c[CCDMA_VBLK_CFG_WZ_MAY_UNMAP] = 1;
}

/* Copy len bytes at byte offset off of the readable segments segs[0..n)
 * into dst.  The caller has checked that they hold that many. */
static void seg_read(const struct ds_seg *segs, unsigned n, uint64_t off,
		     void *dst, size_t len)
{
	uint8_t *out = dst;
	unsigned i;

	for (i = 0; i < n && len; i++) {
		size_t take;

		if (off >= segs[i].len) {
			off -= segs[i].len;
			continue;
		}
		take = segs[i].len - off;
		if (take > len)
			take = len;
		memcpy(out, segs[i].p + off, take);
		out += take;
		len -= take;
		off = 0;
	}
}

/* Is [off, off + len) inside the disk and aligned to the logical block? */
static bool disk_range_ok(const struct ds_dev *d, uint64_t sector, uint64_t len)
{
	uint64_t off;

	if (sector > d->disk.size / SECTOR)
		return false;
	off = sector * SECTOR;
	return len <= d->disk.size - off && off % d->opt.blk_size == 0 &&
	       len % d->opt.blk_size == 0;
}

/* Move len bytes between the disk at off and the segments segs[0..n),
 * starting skip bytes into them.  to_guest: disk -> segments. */
static int disk_xfer(struct ds_dev *d, struct ds_vq *vq, bool to_guest,
		     uint64_t off, struct ds_seg *segs, unsigned n, uint64_t skip,
		     uint64_t len)
{
	struct ds_disk *disk = &d->disk;
	unsigned i, niov = 0;
	uint64_t left = len;

	for (i = 0; i < n && left; i++) {
		uint8_t *p = segs[i].p;
		size_t take = segs[i].len;

		if (skip >= take) {
			skip -= take;
			continue;
		}
		p += skip;
		take -= (size_t)skip;
		skip = 0;
		if (take > left)
			take = (size_t)left;
		if (disk->ram) {
			if (to_guest)
				memcpy(p, disk->ram + off, take);
			else
				memcpy(disk->ram + off, p, take);
			off += take;
		} else {
			vq->iov[niov].iov_base = p;
			vq->iov[niov].iov_len = take;
			niov++;
		}
		left -= take;
	}
	if (disk->ram || !niov)
		return 0;
	/* A short transfer (a file someone truncated under us) is an I/O
	 * error; the rest of the iovec is not retried. */
	{
		struct iovec *iov = vq->iov;
		int cnt = niov > IOV_MAX ? IOV_MAX : (int)niov;
		ssize_t r;

		while (len) {
			r = to_guest ? preadv(disk->fd, iov, cnt, (off_t)off)
				     : pwritev(disk->fd, iov, cnt, (off_t)off);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				return -EIO;
			len -= (uint64_t)r;
			off += (uint64_t)r;
			/* Advance the iovec past what was done. */
			while (r > 0 && niov) {
				if ((size_t)r >= iov->iov_len) {
					r -= (ssize_t)iov->iov_len;
					iov++;
					niov--;
				} else {
					iov->iov_base = (uint8_t *)iov->iov_base + r;
					iov->iov_len -= (size_t)r;
					r = 0;
				}
			}
			cnt = niov > IOV_MAX ? IOV_MAX : (int)niov;
			if (len && !niov)
				return -EIO;
		}
	}
	return 0;
}

/* Zero [off, off + len) of the disk. */
static int disk_zero(struct ds_dev *d, uint64_t off, uint64_t len, bool unmap)
{
	struct ds_disk *disk = &d->disk;
	static const uint8_t zeros[65536];

	if (disk->ram) {
		uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
		uint64_t a = (off + page - 1) / page * page;
		uint64_t b = (off + len) / page * page;

		/* Whole pages go back to the kernel (they read as zero
		 * again); the partial ends are cleared by hand. */
		if (b > a && b - a >= 4 * page &&
		    madvise(disk->ram + a, (size_t)(b - a), MADV_DONTNEED) == 0) {
			memset(disk->ram + off, 0, (size_t)(a - off));
			memset(disk->ram + b, 0, (size_t)(off + len - b));
		} else {
			memset(disk->ram + off, 0, (size_t)len);
		}
		return 0;
	}
	if (fallocate(disk->fd, unmap ? FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE
				      : FALLOC_FL_ZERO_RANGE,
		      (off_t)off, (off_t)len) == 0)
		return 0;
	while (len) {
		size_t take = len > sizeof(zeros) ? sizeof(zeros) : (size_t)len;
		ssize_t r = pwrite(disk->fd, zeros, take, (off_t)off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -EIO;
		off += (uint64_t)r;
		len -= (uint64_t)r;
	}
	return 0;
}

/* DISCARD / WRITE_ZEROES: payload is a list of ccdma_vblk_dwz. */
static uint8_t blk_dwz(struct ds_dev *d, bool discard, struct ds_seg *segs,
		       unsigned nr, uint64_t payload)
{
	struct ccdma_vblk_dwz r[DS_MAX_DWZ_SEG];
	unsigned i, count;

	if (payload == 0 || payload % sizeof(r[0]) ||
	    payload / sizeof(r[0]) > DS_MAX_DWZ_SEG)
		return CCDMA_VBLK_S_IOERR;
	count = (unsigned)(payload / sizeof(r[0]));
	/* One private copy of the list, checked whole before any zeroing. */
	memset(r, 0, (size_t)payload);
	seg_read(segs, nr, sizeof(struct ccdma_vblk_hdr), r, payload);
	for (i = 0; i < count; i++) {
		uint32_t flags = ccdma_le32_to_cpu(r[i].flags);
		uint32_t num = ccdma_le32_to_cpu(r[i].num_sectors);
		uint64_t sector = ccdma_le64_to_cpu(r[i].sector);

		/* Discard with the unmap bit, or any reserved bit: 5.2.6.2. */
		if ((discard && flags) || (flags & ~1u))
			return CCDMA_VBLK_S_UNSUPP;
		if (num > DS_MAX_DWZ_SECTORS ||
		    !disk_range_ok(d, sector, (uint64_t)num * SECTOR))
			return CCDMA_VBLK_S_IOERR;
	}
	if (d->opt.read_only)
		return CCDMA_VBLK_S_IOERR;
	for (i = 0; i < count; i++) {
		uint64_t off = ccdma_le64_to_cpu(r[i].sector) * SECTOR;
		uint64_t len = (uint64_t)ccdma_le32_to_cpu(r[i].num_sectors) * SECTOR;

		if (len && disk_zero(d, off, len,
				     discard || (ccdma_le32_to_cpu(r[i].flags) & 1)))
			return CCDMA_VBLK_S_IOERR;
	}
	return CCDMA_VBLK_S_OK;
}

static inline bool acked(const struct ds_dev *d, unsigned bit)
{
	return (d->conn.features >> bit) & 1;
}

uint32_t ds_blk_request(struct ds_dev *d, struct ds_vq *vq, struct ds_seg *segs,
			unsigned n)
{
	struct ccdma_vblk_hdr hdr;
	uint64_t rlen = 0, wlen = 0, data;
	unsigned nr = 0, i;
	uint32_t used = 1;
	uint8_t status = CCDMA_VBLK_S_OK;
	uint8_t *statusp;

	for (i = 0; i < n; i++) {
		if (segs[i].write)
			wlen += segs[i].len;
		else {
			rlen += segs[i].len;
			nr = i + 1;
		}
	}
	vq->last_type = ~0u;
	vq->last_statusp = NULL;
	vq->last_data = 0;
	vq->last_nr = nr;
	vq->last_n = n;
	/* The status byte is the last byte of the last segment. */
	if (n == 0 || !segs[n - 1].write || segs[n - 1].len == 0) {
		ds_req_err(d, "ring %u: request without a status byte", vq->index);
		d->st.req_ioerr++;
		return 0;
	}
	statusp = segs[n - 1].p + segs[n - 1].len - 1;
	vq->last_statusp = statusp;
	vq->last_status_prev = *statusp;
	data = wlen - 1; /* device-writable bytes before the status */
	if (rlen < sizeof(hdr)) {
		ds_req_err(d, "ring %u: request header is %" PRIu64 " bytes", vq->index,
		       rlen);
		*statusp = CCDMA_VBLK_S_IOERR;
		d->st.req_ioerr++;
		return 1;
	}
	memset(&hdr, 0, sizeof(hdr));
	seg_read(segs, nr, 0, &hdr, sizeof(hdr));
	switch (ccdma_le32_to_cpu(hdr.type)) {
	case CCDMA_VBLK_T_IN:
		d->st.req_in++;
		if (!disk_range_ok(d, ccdma_le64_to_cpu(hdr.sector), data) ||
		    disk_xfer(d, vq, true, ccdma_le64_to_cpu(hdr.sector) * SECTOR,
			      segs + nr, n - nr, 0, data)) {
			status = CCDMA_VBLK_S_IOERR;
			break;
		}
		d->st.bytes_in += data;
		used += (uint32_t)data;
		vq->last_off = ccdma_le64_to_cpu(hdr.sector) * SECTOR;
		vq->last_data = data;
		break;
	case CCDMA_VBLK_T_OUT:
		d->st.req_out++;
		data = rlen - sizeof(hdr);
		if (d->opt.read_only ||
		    !disk_range_ok(d, ccdma_le64_to_cpu(hdr.sector), data) ||
		    disk_xfer(d, vq, false, ccdma_le64_to_cpu(hdr.sector) * SECTOR,
			      segs, nr, sizeof(hdr), data)) {
			status = CCDMA_VBLK_S_IOERR;
			break;
		}
		d->st.bytes_out += data;
		break;
	case CCDMA_VBLK_T_FLUSH:
		d->st.req_flush++;
		if (!acked(d, CCDMA_VIRTIO_BLK_F_FLUSH))
			status = CCDMA_VBLK_S_UNSUPP;
		else if (d->disk.fd >= 0 && fdatasync(d->disk.fd) != 0)
			status = CCDMA_VBLK_S_IOERR;
		break;
	case CCDMA_VBLK_T_GET_ID: {
		char id[CCDMA_VBLK_ID_BYTES];
		uint64_t take = data < sizeof(id) ? data : sizeof(id);

		d->st.req_get_id++;
		memset(id, 0, sizeof(id));
		memcpy(id, DS_ID_STRING, sizeof(DS_ID_STRING) - 1);
		/* Through the same segment walk as read data. */
		for (i = nr; i < n && take; i++) {
			size_t k = segs[i].len < take ? segs[i].len : (size_t)take;

			memcpy(segs[i].p, id + (used - 1), k);
			used += (uint32_t)k;
			take -= k;
		}
		break;
	}
	case CCDMA_VBLK_T_DISCARD:
	case CCDMA_VBLK_T_WRITE_ZEROES: {
		bool discard = ccdma_le32_to_cpu(hdr.type) == CCDMA_VBLK_T_DISCARD;

		if (discard)
			d->st.req_discard++;
		else
			d->st.req_wz++;
		if (!acked(d, discard ? CCDMA_VIRTIO_BLK_F_DISCARD
				      : CCDMA_VIRTIO_BLK_F_WRITE_ZEROES))
			status = CCDMA_VBLK_S_UNSUPP;
		else
			status = blk_dwz(d, discard, segs, nr, rlen - sizeof(hdr));
		break;
	}
	default:
		status = CCDMA_VBLK_S_UNSUPP;
		break;
	}
	if (status == CCDMA_VBLK_S_IOERR)
		d->st.req_ioerr++;
	else if (status == CCDMA_VBLK_S_UNSUPP)
		d->st.req_unsupp++;
	*statusp = status;
	vq->last_type = ccdma_le32_to_cpu(hdr.type);
	vq->last_status = status;
	return used;
}
