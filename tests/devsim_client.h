/* SPDX-License-Identifier: MIT */
/*
 * A tiny vhost-user front-end for the ccdma-devsim tests, self-contained
 * on purpose: it speaks the wire format of vhost/vhost_proto.h and writes
 * raw split-ring entries, so a devsim test depends on nothing but devsim.
 *
 * One memfd is the only shared memory.  Its guest physical base (DC_GPA)
 * differs from its user address (the mapping), so a device that confused
 * the two would fail.  Layout inside the memfd:
 *
 *   0x00000  descriptor table        0x04000  indirect tables
 *   0x02000  avail ring              0x10000  request headers + status
 *   0x03000  used ring               0x20000  data buffers (DC_DATA)
 *
 * Header only.
 */
#ifndef CCDMA_TEST_DEVSIM_CLIENT_H
#define CCDMA_TEST_DEVSIM_CLIENT_H

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <ccdma/virtio.h>
#include <ccdma/virtio_blk.h>

#include "vhost/vhost_proto.h"
#include "virtio/virtio_ring.h"

#include "backend_util.h"

#define DC_GPA 0x40000000ull
#define DC_MEM_SIZE (8u << 20)
#define DC_DESC 0x0u
#define DC_AVAIL 0x2000u
#define DC_USED 0x3000u
#define DC_INDIRECT 0x4000u
#define DC_HDRS 0x10000u
#define DC_DATA 0x20000u
/* Ring size (up to 256 fits the layout above). */
#ifndef DC_NUM
#define DC_NUM 64u
#endif

struct dc {
	int sock, kick, call, memfd;
	uint8_t *mem;
	unsigned num;
	uint64_t features, pfeatures;
	uint16_t avail_idx;  /* next avail index to publish */
	uint16_t used_seen;  /* used entries consumed */
	unsigned next_desc;  /* next free descriptor (reset when idle) */
	unsigned next_hdr;   /* next header slot */
	unsigned next_ind;   /* next indirect table slot */
	int wait_ms;         /* dc_blk's patience */
};

/* Setup options. */
#define DC_TABLE 1u       /* SET_MEM_TABLE instead of ADD_MEM_REG */
#define DC_EVENT_IDX 2u   /* negotiate EVENT_IDX */
#define DC_NO_RING 4u     /* stop after the memory table */

static inline uint64_t dc_gpa(uint64_t off)
{
	return DC_GPA + off;
}

static inline int dc_send(struct dc *c, uint32_t req, uint32_t flags,
			  const void *payload, uint32_t size, const int *fds,
			  unsigned nfds)
{
	struct ccdma_vu_hdr h = { req, flags ? flags : CCDMA_VU_VERSION, size };
	union {
		char buf[CMSG_SPACE(16 * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov[2] = {
		{ &h, sizeof(h) },
		{ (void *)payload, size },
	};
	struct msghdr mh;
	ssize_t r;

	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = iov;
	mh.msg_iovlen = size ? 2 : 1;
	if (nfds) {
		struct cmsghdr *cm;

		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(cm), fds, nfds * sizeof(int));
	}
	r = sendmsg(c->sock, &mh, MSG_NOSIGNAL);
	return r == (ssize_t)(sizeof(h) + size) ? 0 : -1;
}

/* Wait up to ms for the socket to be readable. */
static inline int dc_wait_sock(struct dc *c, int ms)
{
	struct pollfd p = { c->sock, POLLIN, 0 };

	return poll(&p, 1, ms) == 1 ? 0 : -1;
}

/* A reply to req with exactly size payload bytes. */
static inline int dc_recv(struct dc *c, uint32_t req, void *payload,
			  uint32_t size)
{
	struct ccdma_vu_hdr h;

	if (dc_wait_sock(c, 5000) || recv(c->sock, &h, sizeof(h), MSG_WAITALL) !=
	    (ssize_t)sizeof(h)) {
		fprintf(stderr, "dc: no reply to %u\n", req);
		return -1;
	}
	if (h.request != req || h.flags != (CCDMA_VU_VERSION | CCDMA_VU_FLAG_REPLY) ||
	    h.size != size) {
		fprintf(stderr, "dc: reply %u flags %#x size %u to %u (want %u)\n",
			h.request, h.flags, h.size, req, size);
		return -1;
	}
	if (size && recv(c->sock, payload, size, MSG_WAITALL) != (ssize_t)size)
		return -1;
	return 0;
}

/* True when the device closed the connection within ms. */
static inline bool dc_closed(struct dc *c, int ms)
{
	char b[64];

	for (;;) {
		ssize_t r;

		if (dc_wait_sock(c, ms))
			return false;
		r = recv(c->sock, b, sizeof(b), MSG_DONTWAIT);
		if (r == 0 || (r < 0 && errno == ECONNRESET))
			return true;
		if (r < 0)
			return false;
		/* A reply (a refusal before the close): read on. */
	}
}

static inline int dc_get_u64(struct dc *c, uint32_t req, uint64_t *v)
{
	if (dc_send(c, req, 0, NULL, 0, NULL, 0))
		return -1;
	return dc_recv(c, req, v, sizeof(*v));
}

/* A u64-payload request; with REPLY_ACK negotiated the ack is awaited and
 * returned (0 ok, else the device's failure value). */
static inline int64_t dc_set_u64(struct dc *c, uint32_t req, uint64_t v,
				 const int *fds, unsigned nfds)
{
	bool ack = c->pfeatures & (1ull << CCDMA_VU_PF_REPLY_ACK);
	uint64_t r = 0;

	if (dc_send(c, req, CCDMA_VU_VERSION | (ack ? CCDMA_VU_FLAG_NEED_REPLY : 0),
		    &v, sizeof(v), fds, nfds))
		return -1;
	if (ack && dc_recv(c, req, &r, sizeof(r)))
		return -1;
	return (int64_t)r;
}

/* Any request with payload; ack awaited as above. */
static inline int64_t dc_request(struct dc *c, uint32_t req, const void *p,
				 uint32_t size, const int *fds, unsigned nfds)
{
	bool ack = c->pfeatures & (1ull << CCDMA_VU_PF_REPLY_ACK);
	uint64_t r = 0;

	if (dc_send(c, req, CCDMA_VU_VERSION | (ack ? CCDMA_VU_FLAG_NEED_REPLY : 0),
		    p, size, fds, nfds))
		return -1;
	if (ack && dc_recv(c, req, &r, sizeof(r)))
		return -1;
	return (int64_t)r;
}

static inline int dc_connect(struct dc *c, const char *path)
{
	struct sockaddr_un sa;

	memset(c, 0, sizeof(*c));
	c->kick = c->call = c->memfd = -1;
	c->num = DC_NUM;
	c->wait_ms = 5000;
	c->sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->sock < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path))
		return -1;
	memcpy(sa.sun_path, path, strlen(path));
	if (connect(c->sock, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		perror("dc connect");
		return -1;
	}
	return 0;
}

static inline int dc_mem_create(struct dc *c)
{
	c->memfd = memfd_create("devsim-test", MFD_CLOEXEC);
	if (c->memfd < 0 || ftruncate(c->memfd, DC_MEM_SIZE) != 0)
		return -1;
	c->mem = mmap(NULL, DC_MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		      c->memfd, 0);
	if (c->mem == MAP_FAILED) {
		c->mem = NULL;
		return -1;
	}
	return 0;
}

static inline struct ccdma_vu_region dc_region(struct dc *c)
{
	struct ccdma_vu_region r = {
		.guest_phys_addr = DC_GPA,
		.memory_size = DC_MEM_SIZE,
		.userspace_addr = (uint64_t)(uintptr_t)c->mem,
		.mmap_offset = 0,
	};
	return r;
}

static inline void dc_close(struct dc *c)
{
	if (c->sock >= 0)
		close(c->sock);
	if (c->kick >= 0)
		close(c->kick);
	if (c->call >= 0)
		close(c->call);
	if (c->mem)
		munmap(c->mem, DC_MEM_SIZE);
	if (c->memfd >= 0)
		close(c->memfd);
	memset(c, 0, sizeof(*c));
	c->sock = c->kick = c->call = c->memfd = -1;
}

static inline struct ccdma_vring_desc *dc_desc(struct dc *c)
{
	return (struct ccdma_vring_desc *)(void *)(c->mem + DC_DESC);
}
static inline struct ccdma_vring_avail *dc_avail(struct dc *c)
{
	return (struct ccdma_vring_avail *)(void *)(c->mem + DC_AVAIL);
}
static inline struct ccdma_vring_used *dc_used(struct dc *c)
{
	return (struct ccdma_vring_used *)(void *)(c->mem + DC_USED);
}

/* Connect and set up memory and ring 0.  want: feature bits to accept if
 * offered (VERSION_1 and the protocol-features bit always).  Returns 0 or
 * -1 (after saying where). */
static inline int dc_setup(struct dc *c, const char *path, uint64_t want,
			   unsigned opts)
{
	uint64_t f, pf;
	struct ccdma_vu_vring_state st;
	struct ccdma_vu_vring_addr a;
	struct ccdma_vu_region r;
	const char *step = "connect";

	if (dc_connect(c, path))
		goto fail;
	step = "memfd";
	if (dc_mem_create(c))
		goto fail;
	step = "SET_OWNER";
	if (dc_send(c, CCDMA_VU_SET_OWNER, 0, NULL, 0, NULL, 0))
		goto fail;
	step = "GET_FEATURES";
	if (dc_get_u64(c, CCDMA_VU_GET_FEATURES, &f))
		goto fail;
	want |= 1ull << CCDMA_VIRTIO_F_VERSION_1 |
		1ull << CCDMA_VU_F_PROTOCOL_FEATURES;
	if (opts & DC_EVENT_IDX)
		want |= 1ull << CCDMA_VIRTIO_F_EVENT_IDX;
	step = "GET_PROTOCOL_FEATURES";
	if (dc_get_u64(c, CCDMA_VU_GET_PROTOCOL_FEATURES, &pf))
		goto fail;
	pf &= 1ull << CCDMA_VU_PF_REPLY_ACK | 1ull << CCDMA_VU_PF_CONFIG |
	      1ull << CCDMA_VU_PF_MQ | 1ull << CCDMA_VU_PF_CONFIGURE_MEM_SLOTS;
	step = "SET_PROTOCOL_FEATURES";
	if (dc_set_u64(c, CCDMA_VU_SET_PROTOCOL_FEATURES, pf, NULL, 0))
		goto fail;
	c->pfeatures = pf;
	c->features = f & want;
	step = "SET_FEATURES";
	if (dc_set_u64(c, CCDMA_VU_SET_FEATURES, c->features, NULL, 0))
		goto fail;
	r = dc_region(c);
	if ((opts & DC_TABLE) ||
	    !(pf & (1ull << CCDMA_VU_PF_CONFIGURE_MEM_SLOTS))) {
		struct ccdma_vu_mem_table t;

		memset(&t, 0, sizeof(t));
		t.nregions = 1;
		t.regions[0] = r;
		step = "SET_MEM_TABLE";
		if (dc_request(c, CCDMA_VU_SET_MEM_TABLE, &t, 8 + sizeof(r),
			       &c->memfd, 1))
			goto fail;
	} else {
		struct ccdma_vu_mem_reg m = { 0, r };

		step = "ADD_MEM_REG";
		if (dc_request(c, CCDMA_VU_ADD_MEM_REG, &m, sizeof(m), &c->memfd, 1))
			goto fail;
	}
	if (opts & DC_NO_RING)
		return 0;
	c->kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	c->call = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	st.index = 0;
	st.num = c->num;
	step = "SET_VRING_NUM";
	if (dc_request(c, CCDMA_VU_SET_VRING_NUM, &st, sizeof(st), NULL, 0))
		goto fail;
	st.num = 0;
	step = "SET_VRING_BASE";
	if (dc_request(c, CCDMA_VU_SET_VRING_BASE, &st, sizeof(st), NULL, 0))
		goto fail;
	memset(&a, 0, sizeof(a));
	a.desc_user_addr = (uint64_t)(uintptr_t)(c->mem + DC_DESC);
	a.avail_user_addr = (uint64_t)(uintptr_t)(c->mem + DC_AVAIL);
	a.used_user_addr = (uint64_t)(uintptr_t)(c->mem + DC_USED);
	step = "SET_VRING_ADDR";
	if (dc_request(c, CCDMA_VU_SET_VRING_ADDR, &a, sizeof(a), NULL, 0))
		goto fail;
	step = "SET_VRING_CALL";
	if (dc_set_u64(c, CCDMA_VU_SET_VRING_CALL, 0, &c->call, 1))
		goto fail;
	step = "SET_VRING_KICK";
	if (dc_set_u64(c, CCDMA_VU_SET_VRING_KICK, 0, &c->kick, 1))
		goto fail;
	st.num = 1;
	step = "SET_VRING_ENABLE";
	if (dc_request(c, CCDMA_VU_SET_VRING_ENABLE, &st, sizeof(st), NULL, 0))
		goto fail;
	return 0;
fail:
	fprintf(stderr, "dc_setup: %s failed\n", step);
	return -1;
}

static inline void dc_set_desc(struct dc *c, struct ccdma_vring_desc *d,
			       uint64_t gpa, uint32_t len, uint16_t flags,
			       uint16_t next)
{
	(void)c;
	d->addr = ccdma_cpu_to_le64(gpa);
	d->len = ccdma_cpu_to_le32(len);
	d->flags = ccdma_cpu_to_le16(flags);
	d->next = ccdma_cpu_to_le16(next);
}

/* One segment of a chain: guest physical address, length, writable. */
struct dc_seg {
	uint64_t gpa;
	uint32_t len;
	bool write;
};

/* Put a chain on the avail ring (not yet kicked); returns its head.
 * indirect: one descriptor pointing at a table in the indirect area. */
static inline uint16_t dc_post(struct dc *c, const struct dc_seg *s, unsigned n,
			       bool indirect)
{
	struct ccdma_vring_desc *t;
	uint16_t head = (uint16_t)c->next_desc;
	unsigned i, base;

	if (indirect) {
		uint64_t off = DC_INDIRECT + (uint64_t)c->next_ind * 1024;

		t = (struct ccdma_vring_desc *)(void *)(c->mem + off);
		for (i = 0; i < n; i++)
			dc_set_desc(c, &t[i], s[i].gpa, s[i].len,
				    (uint16_t)((s[i].write ? CCDMA_VRING_DESC_F_WRITE : 0) |
					       (i + 1 < n ? CCDMA_VRING_DESC_F_NEXT : 0)),
				    (uint16_t)(i + 1 < n ? i + 1 : 0));
		c->next_ind = (c->next_ind + 1) % 16;
		dc_set_desc(c, &dc_desc(c)[head], dc_gpa(off), n * 16,
			    CCDMA_VRING_DESC_F_INDIRECT, 0);
		c->next_desc = (c->next_desc + 1) % c->num;
	} else {
		base = c->next_desc;
		for (i = 0; i < n; i++) {
			unsigned at = (base + i) % c->num;

			dc_set_desc(c, &dc_desc(c)[at], s[i].gpa, s[i].len,
				    (uint16_t)((s[i].write ? CCDMA_VRING_DESC_F_WRITE : 0) |
					       (i + 1 < n ? CCDMA_VRING_DESC_F_NEXT : 0)),
				    (uint16_t)((at + 1) % c->num));
		}
		c->next_desc = (c->next_desc + n) % c->num;
	}
	dc_avail(c)->ring[c->avail_idx % c->num] = ccdma_cpu_to_le16(head);
	c->avail_idx++;
	__atomic_store_n(&dc_avail(c)->idx.raw,
			 ccdma_cpu_to_le16(c->avail_idx).raw, __ATOMIC_RELEASE);
	return head;
}

static inline void dc_kick(struct dc *c)
{
	uint64_t one = 1;

	/* EVENT_IDX: ask for a call at every completion. */
	if (c->features & (1ull << CCDMA_VIRTIO_F_EVENT_IDX))
		ccdma_vring_st16(ccdma_vring_used_event(dc_avail(c), c->num),
				 c->used_seen, __ATOMIC_SEQ_CST);
	if (write(c->kick, &one, sizeof(one)) != sizeof(one))
		perror("dc kick");
}

static inline uint16_t dc_used_idx(struct dc *c)
{
	ccdma_le16_t v;

	v.raw = __atomic_load_n(&dc_used(c)->idx.raw, __ATOMIC_ACQUIRE);
	return ccdma_le16_to_cpu(v);
}

/* Wait (on the call eventfd) until the used index reaches target.
 * Returns how many times the call eventfd was found signalled (each read
 * consumes all calls so far), or -1 on timeout. */
static inline int dc_wait(struct dc *c, uint16_t target, int ms)
{
	int calls = 0;

	while (dc_used_idx(c) != target) {
		struct pollfd p = { c->call, POLLIN, 0 };
		uint64_t v;

		if (poll(&p, 1, ms) != 1)
			return -1;
		if (read(c->call, &v, sizeof(v)) == sizeof(v))
			calls++;
	}
	/* The call may have come before we looked. */
	{
		uint64_t v;

		if (read(c->call, &v, sizeof(v)) == sizeof(v))
			calls++;
	}
	return calls;
}

/* The used element for the i-th completion. */
static inline struct ccdma_vring_used_elem dc_used_elem(struct dc *c,
							 uint16_t i)
{
	return dc_used(c)->ring[i % c->num];
}

/* One virtio-blk request, synchronously.  Data is at DC_DATA + data_off,
 * data_len bytes cut into nseg equal-ish segments (0: none).  The header
 * and status live in a header slot.  Returns the status byte (or -1 on a
 * timeout) and the used length in *used_len. */
static inline int dc_blk(struct dc *c, uint32_t type, uint64_t sector,
			 uint64_t data_off, uint32_t data_len, unsigned nseg,
			 bool indirect, uint32_t *used_len)
{
	uint64_t hoff = DC_HDRS + (uint64_t)(c->next_hdr++ % 64) * 32;
	struct ccdma_vblk_hdr *h = (struct ccdma_vblk_hdr *)(void *)(c->mem + hoff);
	uint8_t *status = c->mem + hoff + 16;
	bool wr = type == CCDMA_VBLK_T_IN || type == CCDMA_VBLK_T_GET_ID;
	struct dc_seg s[40];
	unsigned n = 0, i;
	uint32_t done = 0;
	uint16_t head, target;
	struct ccdma_vring_used_elem e;

	h->type = ccdma_cpu_to_le32(type);
	h->reserved = ccdma_cpu_to_le32(0);
	h->sector = ccdma_cpu_to_le64(sector);
	*status = 0xee;
	s[n++] = (struct dc_seg){ dc_gpa(hoff), 16, false };
	for (i = 0; i < nseg && n < 39; i++) {
		uint32_t len = i + 1 == nseg ? data_len - done : data_len / nseg;

		s[n++] = (struct dc_seg){ dc_gpa(DC_DATA + data_off + done), len, wr };
		done += len;
	}
	s[n++] = (struct dc_seg){ dc_gpa(hoff + 16), 1, true };
	head = dc_post(c, s, n, indirect);
	target = c->avail_idx;
	dc_kick(c);
	if (dc_wait(c, target, c->wait_ms) < 0) {
		fprintf(stderr, "dc_blk: type %u timed out\n", type);
		return -1;
	}
	e = dc_used_elem(c, (uint16_t)(target - 1));
	c->used_seen = target;
	if (ccdma_le32_to_cpu(e.id) != head) {
		fprintf(stderr, "dc_blk: used id %u, expected %u\n",
			ccdma_le32_to_cpu(e.id), head);
		return -1;
	}
	if (used_len)
		*used_len = ccdma_le32_to_cpu(e.len);
	return *status;
}

#endif /* CCDMA_TEST_DEVSIM_CLIENT_H */
