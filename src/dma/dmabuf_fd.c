/* SPDX-License-Identifier: MIT */
/*
 * A buffer between processes (include/ccdma/dmabuf.h, "Between
 * processes"): export sends the memfds of the pool regions that hold the
 * buffer's ranges, with each range as (fd index, offset, length), over a
 * connected Unix stream socket; import checks every field, maps the
 * regions, attaches them to the importer's device and builds a buffer over
 * them.  Hosted: sockets through platform/ipc.h.
 *
 * The message (all little-endian), with the distinct fds attached to its
 * first byte (SCM_RIGHTS):
 *   header  64 bytes: magic "ccdmabuf", version 1, flags 0, nranges
 *           (1..16), nfds (1..16), owner (32 bytes, NUL-terminated),
 *           8 reserved bytes (0)
 *   ranges  nranges x 24 bytes: fd index (< nfds), 4 reserved bytes (0),
 *           offset in that fd's file, length (> 0)
 * No address, no pointer and no private memory travels.
 */
#include <ccdma/dmabuf.h>
#include <ccdma/platform.h>
#include <ccdma/pool.h>

#include "dma/dma_internal.h"
#include "platform/byteorder.h"
#include "platform/ipc.h"

#define WIRE_VERSION 1u
#define WIRE_MAX CCDMA_DMABUF_MAX_RANGES
static const char wire_magic[8] = { 'c', 'c', 'd', 'm', 'a', 'b', 'u', 'f' };

struct wire_hdr {
	uint8_t magic[8];
	ccdma_le32_t version, flags, nranges, nfds;
	char owner[32];
	uint8_t reserved[8];
};

struct wire_range {
	ccdma_le32_t fd_index, reserved;
	ccdma_le64_t offset, len;
};

_Static_assert(sizeof(struct wire_hdr) == 64, "wire header layout");
_Static_assert(sizeof(struct wire_range) == 24, "wire range layout");

int ccdma_dmabuf_export(struct ccdma_dmabuf *b, struct ccdma_pool *pool, int sock)
{
	struct {
		struct wire_hdr h;
		struct wire_range r[WIRE_MAX];
	} m;
	int fds[WIRE_MAX];
	unsigned nfds = 0, n, i, k;
	const char *owner;

	if (!b || !pool || sock < 0)
		return -EINVAL;
	if (ccdma_dmabuf_is_private(b)) {
		ccdma_err("dmabuf %s: export refused: it holds private memory, "
			  "which never leaves this process", ccdma_dmabuf_owner(b));
		return -EPERM;
	}
	n = ccdma_dmabuf_nranges(b);
	if (!n)
		return -EINVAL;
	ccdma_memset(&m, 0, sizeof(m));
	for (i = 0; i < n; i++) {
		struct ccdma_pool_addr_info info;
		void *addr;
		size_t len;

		ccdma_dmabuf_range(b, i, &addr, &len);
		if (ccdma_pool_lookup(pool, addr, &info) ||
		    len > info.alloc_size - ((uintptr_t)addr -
					     (uintptr_t)info.alloc_addr)) {
			ccdma_err("dmabuf %s: export refused: range %u (%p+%zu) is "
				  "not inside one live allocation of the pool (only "
				  "pool memory has an fd to send)",
				  ccdma_dmabuf_owner(b), i, addr, len);
			return -EINVAL;
		}
		for (k = 0; k < nfds && fds[k] != info.region_fd; k++)
			;
		if (k == nfds)
			fds[nfds++] = info.region_fd;
		m.r[i].fd_index = ccdma_cpu_to_le32(k);
		m.r[i].offset = ccdma_cpu_to_le64(info.region_offset);
		m.r[i].len = ccdma_cpu_to_le64(len);
	}
	ccdma_memcpy(m.h.magic, wire_magic, sizeof(wire_magic));
	m.h.version = ccdma_cpu_to_le32(WIRE_VERSION);
	m.h.nranges = ccdma_cpu_to_le32(n);
	m.h.nfds = ccdma_cpu_to_le32(nfds);
	owner = ccdma_dmabuf_owner(b);
	for (i = 0; i < sizeof(m.h.owner) - 1 && owner[i]; i++)
		m.h.owner[i] = owner[i];
	return ccdma_os_sock_send(sock, &m, sizeof(m.h) + n * sizeof(m.r[0]), fds,
				  nfds);
}

/* What an imported buffer holds: its regions, attached to dev. */
struct imported {
	struct ccdma_dev *dev;
	struct ccdma_region reg[WIRE_MAX];
	bool attached[WIRE_MAX];
	unsigned n;
};

static void imported_release(void *arg)
{
	struct imported *im = arg;

	for (unsigned i = 0; i < im->n; i++) {
		if (im->attached[i])
			(void)ccdma_dev_detach_region(im->dev, &im->reg[i]);
		ccdma_region_unmap(&im->reg[i]);
	}
	ccdma_os_free(im);
}

static int bad(const char *why, unsigned v)
{
	ccdma_err("dmabuf import: refused: %s (%u); nothing kept", why, v);
	return -EPROTO;
}

/* The header's fields, checked: 0 or -EPROTO (logged). */
static int check_hdr(const struct wire_hdr *h, unsigned got_fds,
		     unsigned *nranges, unsigned *nfds)
{
	unsigned i;

	for (i = 0; i < sizeof(wire_magic); i++)
		if (h->magic[i] != (uint8_t)wire_magic[i])
			return bad("not a ccdma buffer message (magic)", i);
	if (ccdma_le32_to_cpu(h->version) != WIRE_VERSION)
		return bad("unknown message version", ccdma_le32_to_cpu(h->version));
	if (ccdma_le32_to_cpu(h->flags))
		return bad("flags set (none is defined)", ccdma_le32_to_cpu(h->flags));
	for (i = 0; i < sizeof(h->reserved); i++)
		if (h->reserved[i])
			return bad("reserved header byte not zero", i);
	*nranges = ccdma_le32_to_cpu(h->nranges);
	*nfds = ccdma_le32_to_cpu(h->nfds);
	if (*nranges < 1 || *nranges > WIRE_MAX)
		return bad("range count not within 1..16", *nranges);
	if (*nfds < 1 || *nfds > WIRE_MAX || *nfds > *nranges)
		return bad("fd count not within 1..ranges", *nfds);
	if (*nfds != got_fds)
		return bad("fds attached differ from the count the header gives",
			   got_fds);
	for (i = 0; i < sizeof(h->owner) && h->owner[i]; i++)
		if (h->owner[i] < 0x20 || h->owner[i] > 0x7e)
			return bad("owner name not printable ASCII", i);
	if (i == sizeof(h->owner))
		return bad("owner name not NUL-terminated", i);
	return 0;
}

/* The ranges, checked against the regions: 0 or -EPROTO (logged). */
static int check_ranges(const struct wire_range *r, unsigned n,
			const struct imported *im)
{
	bool used[WIRE_MAX] = { false };
	unsigned i;

	for (i = 0; i < n; i++) {
		uint32_t fi = ccdma_le32_to_cpu(r[i].fd_index);
		uint64_t off = ccdma_le64_to_cpu(r[i].offset);
		uint64_t len = ccdma_le64_to_cpu(r[i].len);

		if (fi >= im->n)
			return bad("range names an fd that was not sent", i);
		if (ccdma_le32_to_cpu(r[i].reserved))
			return bad("reserved range field not zero", i);
		if (!len || off > im->reg[fi].size ||
		    len > im->reg[fi].size - off)
			return bad("range not inside its region (length 0, or "
				   "offset + length beyond the file)", i);
		used[fi] = true;
	}
	for (i = 0; i < im->n; i++)
		if (!used[i])
			return bad("an fd no range uses", i);
	return 0;
}

int ccdma_dmabuf_import(int sock, struct ccdma_dev *dev, unsigned timeout_ms,
			struct ccdma_dmabuf **out)
{
	uint64_t deadline = timeout_ms ? ccdma_os_now_ns() +
			    (uint64_t)timeout_ms * 1000000ull : CCDMA_OS_NO_DEADLINE;
	struct wire_range r[WIRE_MAX];
	struct wire_hdr h;
	struct imported *im;
	struct ccdma_dmabuf *b = NULL;
	int fds[WIRE_MAX];
	unsigned got = 0, nranges = 0, nfds = 0, i;
	int rc;

	if (out)
		*out = NULL;
	if (sock < 0 || !dev || !out)
		return -EINVAL;
	im = ccdma_os_calloc(1, sizeof(*im));
	if (!im)
		return -ENOMEM;
	im->dev = dev;
	rc = ccdma_os_sock_recv(sock, &h, sizeof(h), fds, WIRE_MAX, &got, deadline);
	if (rc == -EMFILE)
		ccdma_err("dmabuf import: descriptors were dropped on the way "
			  "(more than 16, or none free here): refused");
	if (!rc)
		rc = check_hdr(&h, got, &nranges, &nfds);
	if (!rc)
		rc = ccdma_os_sock_recv(sock, r, nranges * sizeof(r[0]), NULL, 0,
					NULL, deadline);
	/* Every fd received becomes a region (or is closed) from here on. */
	for (i = 0; i < got; i++) {
		if (!rc) {
			rc = ccdma_region_map_fd(fds[i], &im->reg[im->n]);
			if (!rc) {
				im->n++;
				continue;
			}
			rc = bad("an fd that is not a shared region", i);
		}
		ccdma_os_close(fds[i]);
	}
	if (!rc)
		rc = check_ranges(r, nranges, im);
	for (i = 0; !rc && i < im->n; i++) {
		rc = ccdma_dev_attach_region(dev, &im->reg[i], NULL);
		im->attached[i] = !rc;
	}
	if (!rc)
		rc = ccdma_dmabuf_create(h.owner[0] ? h.owner : "imported", 0, &b);
	for (i = 0; !rc && i < nranges; i++) {
		const struct ccdma_region *g =
			&im->reg[ccdma_le32_to_cpu(r[i].fd_index)];

		rc = ccdma_dmabuf_add(b, (uint8_t *)g->addr +
				      ccdma_le64_to_cpu(r[i].offset),
				      (size_t)ccdma_le64_to_cpu(r[i].len));
	}
	if (rc) {
		if (b)
			(void)ccdma_dmabuf_destroy(b);
		imported_release(im);
		return rc;
	}
	ccdma_dmabuf_set_release(b, imported_release, im);
	*out = b;
	return 0;
}
