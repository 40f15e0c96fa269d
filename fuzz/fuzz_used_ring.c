/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the virtio-blk driver's used-ring processing
 * (src/virtio/virtqueue.c ccdma_vq_get_used, src/virtio/blk.c reap /
 * complete_head) against a device whose every answer comes from the input.
 *
 * The device is tests/virtio_fake_dev.h held (it never works by itself);
 * the input is a script of steps: the driver submits READs and WRITEs,
 * polls or waits; the device picks up posted chains (filling a READ's
 * data with a pattern of its own), and completes them with a chosen
 * status byte (or none), used id (the right one, another chain's, one out
 * of range, a repeated one), used length, and used index move (one, a
 * jump, backwards, none yet), raises an interrupt or not, and writes into
 * buffers after their completion was published.
 *
 * Invariants (a violation traps):
 *   - every request submitted completes exactly once (by destroy at the
 *     latest), and its buffer does not change after its callback;
 *   - status 0 only for a request whose status byte the device set to 0
 *     after the driver posted it (the driver resets it at post; which
 *     request owns a head the device learns from the avail ring), and a
 *     READ that the device filled then holds exactly the device's bytes;
 *     -EIO / -EOPNOTSUPP only for what the device said; -ENODEV only
 *     once the device is broken, and then with a READ buffer of zeros
 *     (a device found broken returns no data);
 *   - a failed READ the device filled holds the device's bytes or zeros;
 *   - every chain the driver posts is well formed, in device-reachable
 *     memory, and a WRITE's data is the caller's;
 *   - once the device is broken, submit, poll, wait and the synchronous
 *     helpers return -ENODEV at once;
 *   - after destroy the pool holds nothing of the driver's and the
 *     ownership checker reported nothing.
 */
#include "fuzz_fakedev.h"

#define NREQ 24               /* requests per input at most */
#define TAG_SECTORS 16u       /* request i uses sectors [16 i, 16 i + 16) */
#define MAXLEN (TAG_SECTORS * 512u)
#define MAXSTEPS 256
#define MAXPEND 64
#define LATE_BYTE 0x4c        /* what the device writes after completion */
#define CANARY 0xc5           /* a READ buffer before submit */

struct ureq {
	struct ccdma_vblk_req r;
	bool used, read;
	size_t len;
	uint8_t buf[MAXLEN];
	uint8_t expect[MAXLEN];   /* READ: the device's fill; WRITE: the data */
	uint8_t snap[MAXLEN];     /* the buffer at completion */
	unsigned calls;
	int status;
	bool broken_at_done;
	/* The device's side: it filled the data (READ) or read it (WRITE)
	 * at pickup; status bytes it wrote into the chain while this
	 * request owned the head (ST_* bits); a used entry named the head. */
	bool dev_filled, dev_named;
	unsigned dev_st;
};

#define ST_OK 1u
#define ST_IOERR 2u
#define ST_UNSUPP 4u
#define ST_OTHER 8u
#define MAXQ 64

struct pend {
	unsigned head;
	int n;
	struct fake_seg segs[40];
	int req;                  /* index in U.r */
};

static struct {
	struct fake_dev fd;
	struct ccdma_vblk *b;
	struct ureq r[NREQ];
	unsigned nreq;
	struct pend pend[MAXPEND];
	unsigned npend;
	/* data segments of chains whose id was published (late writes) */
	struct fake_seg late[64];
	unsigned nlate;
	bool late_written;
	unsigned last_id;
	unsigned gen;
	/* Which request owns each head now, as the avail ring says (-1:
	 * none seen): the device looks at every posted chain before each
	 * of its steps, so a status byte it writes is counted for the
	 * request the driver will read it for. */
	int owner[MAXQ];
	uint16_t peek;
} U;

static bool dev_broken(void)
{
	return U.fd.broken;
}

static void done_cb(struct ccdma_vblk_req *r)
{
	struct ureq *u = r->user;

	u->calls++;
	FZ_CHECK(u->calls == 1, "request %d completed %u times",
		 (int)(u - U.r), u->calls);
	u->status = r->status;
	u->broken_at_done = dev_broken();
	memcpy(u->snap, u->buf, u->len);
}

static uint8_t fill_byte(unsigned gen, size_t i)
{
	return (uint8_t)(0x10 + (i * 7 + gen * 13) % 0x30);
}

/* ---- device steps ---------------------------------------------------- */

/* The request a posted chain at `head` belongs to (its header's sector),
 * or -1. */
static int chain_req(unsigned head, struct fake_seg *segs, int *nseg)
{
	struct fake_q *q = &U.fd.q[0];
	struct ccdma_vblk_hdr h;
	uint64_t sec;
	int n;

	n = fake_chain(&U.fd, q, head, segs);
	FZ_CHECK(n >= 2 && n <= 40, "driver posted a malformed chain at head "
		 "%u (%d)", head, n);
	FZ_CHECK(!segs[0].write && segs[0].len == sizeof(h) &&
		 segs[n - 1].write && segs[n - 1].len == 1, "chain layout");
	FZ_CHECK(ccdma_dev_read(U.fd.dma, segs[0].addr, &h, sizeof(h)) == 0,
		 "header unreadable");
	sec = ccdma_le64_to_cpu(h.sector);
	FZ_CHECK(sec % TAG_SECTORS == 0 && sec / TAG_SECTORS < U.nreq &&
		 U.r[sec / TAG_SECTORS].used, "chain names sector %llu: no "
		 "request there", (unsigned long long)sec);
	FZ_CHECK(ccdma_le32_to_cpu(h.type) == (U.r[sec / TAG_SECTORS].read ?
		 CCDMA_VBLK_T_IN : CCDMA_VBLK_T_OUT), "request type");
	*nseg = n;
	return (int)(sec / TAG_SECTORS);
}

/* Look at every chain posted since the last look: who owns its head. */
static void dev_refresh(void)
{
	static struct fake_seg segs[40];
	struct fake_q *q = &U.fd.q[0];
	uint16_t avail = fake_ld16(&U.fd, q->avail + 2, __ATOMIC_ACQUIRE);
	uint16_t head;
	int n;

	if ((uint16_t)(avail - U.peek) > q->num)
		U.peek = (uint16_t)(avail - q->num);
	for (; U.peek != avail; U.peek++) {
		FZ_CHECK(ccdma_dev_read(U.fd.dma, q->avail + 4 + 2ull *
					(U.peek % q->num), &head, 2) == 0,
			 "avail ring unreadable");
		head = ccdma_get_le16(&head);
		FZ_CHECK(head < q->num, "avail entry %u", head);
		U.owner[head] = chain_req(head, segs, &n);
	}
}

/* Take the next posted chain off the avail ring. */
static void dev_pickup(void)
{
	struct fake_q *q = &U.fd.q[0];
	struct pend *p;
	struct ureq *u;
	uint16_t avail, head = 0;
	size_t off = 0;
	unsigned k;
	int i, n, ri;

	avail = fake_ld16(&U.fd, q->avail + 2, __ATOMIC_ACQUIRE);
	if (avail == q->last_avail)
		return;
	FZ_CHECK(ccdma_dev_read(U.fd.dma, q->avail + 4 + 2ull * (q->last_avail % q->num),
				&head, 2) == 0, "avail ring unreadable");
	head = ccdma_get_le16(&head);
	q->last_avail++;
	for (k = 0; k < U.npend && U.pend[k].head != head; k++)
		;
	if (k == U.npend) {
		FZ_CHECK(U.npend < MAXPEND, "pending");
		U.npend++;
	}
	p = &U.pend[k];
	ri = chain_req(head, p->segs, &n);
	u = &U.r[ri];
	if (u->calls || u->dev_filled) {
		/* A stale avail entry (the chain completed before the device
		 * got to it, the head posted again since): skip it. */
		U.pend[k] = U.pend[--U.npend];
		return;
	}
	for (i = 1; i + 1 < n; i++) {
		uint8_t tmp[MAXLEN];
		size_t b;

		FZ_CHECK(p->segs[i].write == u->read, "data direction");
		FZ_CHECK(off + p->segs[i].len <= u->len, "data beyond the request");
		if (u->read) {
			for (b = 0; b < p->segs[i].len; b++)
				tmp[b] = fill_byte(U.gen, off + b);
			memcpy(u->expect + off, tmp, p->segs[i].len);
			FZ_CHECK(ccdma_dev_write(U.fd.dma, p->segs[i].addr, tmp,
						 p->segs[i].len) == 0,
				 "data buffer not writable by the device");
		} else {
			FZ_CHECK(ccdma_dev_read(U.fd.dma, p->segs[i].addr, tmp,
						p->segs[i].len) == 0,
				 "data buffer not readable by the device");
			FZ_CHECK(U.late_written ||
				 !memcmp(tmp, u->expect + off, p->segs[i].len),
				 "WRITE data is not the caller's");
		}
		off += p->segs[i].len;
	}
	FZ_CHECK(off == u->len, "data length %zu, request %zu", off, u->len);
	u->dev_filled = true;
	p->head = head;
	p->n = n;
	p->req = ri;
	U.gen++;
}

static void dev_named(unsigned j)
{
	struct pend *p = &U.pend[j];
	int i;

	for (i = 1; i + 1 < p->n && U.nlate < 64; i++)
		U.late[U.nlate++] = p->segs[i];
}

/* Complete pending chain k as the input says. */
static void dev_complete(struct fz_in *in)
{
	struct fake_q *q = &U.fd.q[0];
	struct ccdma_vring_used_elem e;
	unsigned k, j, id, c;
	uint32_t len, good;
	uint8_t st = 0;
	bool write_status = true;
	struct pend *p;

	if (!U.npend)
		return;
	k = fz_u8(in) % U.npend;
	p = &U.pend[k];
	good = (U.r[p->req].read ? (uint32_t)U.r[p->req].len : 0) + 1;
	c = fz_u8(in);
	switch (c % 8) {
	case 0: case 1: case 2: case 3: st = CCDMA_VBLK_S_OK; break;
	case 4: st = CCDMA_VBLK_S_IOERR; break;
	case 5: st = CCDMA_VBLK_S_UNSUPP; break;
	case 6: st = fz_u8(in); break;
	default: write_status = false; break;
	}
	if (write_status) {
		FZ_CHECK(ccdma_dev_write(U.fd.dma, p->segs[p->n - 1].addr, &st, 1) == 0,
			 "status byte not writable");
		if (U.owner[p->head] >= 0)
			U.r[U.owner[p->head]].dev_st |=
				st == CCDMA_VBLK_S_OK ? ST_OK :
				st == CCDMA_VBLK_S_IOERR ? ST_IOERR :
				st == CCDMA_VBLK_S_UNSUPP ? ST_UNSUPP : ST_OTHER;
	}
	c = fz_u8(in);
	switch (c % 8) {
	case 0: case 1: case 2: case 3: len = good; break;
	case 4: len = fz_u32(in); break;
	case 5: len = good > (c >> 3) ? good - (c >> 3) : 0; break;
	case 6: len = good + (c >> 3); break;
	default: len = 0; break;
	}
	c = fz_u8(in);
	switch (c % 8) {
	case 0: case 1: case 2: case 3: case 4: id = p->head; break;
	case 5: id = U.pend[(c >> 3) % U.npend].head; break;
	case 6: id = U.last_id; break;
	default: id = (c & 0x80) ? fz_u32(in) : (c >> 3) % (q->num + 2); break;
	}
	e.id = ccdma_cpu_to_le32(id);
	e.len = ccdma_cpu_to_le32(len);
	FZ_CHECK(ccdma_dev_write(U.fd.dma, q->used + 4 + 8ull * (q->used_idx % q->num),
				 &e, sizeof(e)) == 0, "used ring not writable");
	q->used_idx++;
	U.last_id = id;
	if (id < q->num && U.owner[id] >= 0)
		U.r[U.owner[id]].dev_named = true;
	for (j = 0; j < U.npend; j++)
		if (U.pend[j].head == id)
			dev_named(j);
	c = fz_u8(in);
	switch (c % 8) {
	case 0: case 1: case 2: case 3: case 4: break;
	case 5: q->used_idx = (uint16_t)(q->used_idx + fz_u16(in)); break;
	case 6: q->used_idx = (uint16_t)(q->used_idx - 1 - (c >> 3)); break;
	default: return; /* not published yet */
	}
	fake_st16(&U.fd, q->used + 2, q->used_idx, __ATOMIC_RELEASE);
	if (!(c & 0x80))
		q->signals++;
}

/* Write into a buffer whose chain was already completed. */
static void dev_late_write(struct fz_in *in)
{
	struct fake_seg *s;
	uint8_t tmp[MAXLEN];
	unsigned k = fz_u8(in);

	if (!U.nlate)
		return;
	s = &U.late[k % U.nlate];
	memset(tmp, LATE_BYTE, s->len);
	U.late_written = true;
	(void)ccdma_dev_write(U.fd.dma, s->addr, tmp, s->len);
}

/* ---- driver steps ---------------------------------------------------- */

static void drv_submit(struct fz_in *in, bool read)
{
	struct ureq *u;
	bool was_broken = dev_broken() || ccdma_vblk_broken(U.b);
	size_t i;
	int rc;

	if (U.nreq == NREQ)
		return;
	u = &U.r[U.nreq];
	memset(&u->r, 0, sizeof(u->r));
	u->read = read;
	u->len = (1 + fz_u8(in) % TAG_SECTORS) * 512u;
	if (read) {
		memset(u->buf, CANARY, u->len);
	} else {
		for (i = 0; i < u->len; i++)
			u->buf[i] = (uint8_t)(i * 31 + U.nreq);
		memcpy(u->expect, u->buf, u->len);
	}
	u->r.op = read ? CCDMA_VBLK_READ : CCDMA_VBLK_WRITE;
	u->r.sector = (uint64_t)U.nreq * TAG_SECTORS;
	u->r.buf = u->buf;
	u->r.len = u->len;
	u->r.done = done_cb;
	u->r.user = u;
	rc = ccdma_vblk_submit(U.b, 0, &u->r);
	if (was_broken)
		FZ_CHECK(rc == -ENODEV, "submit on a broken device: %d", rc);
	FZ_CHECK(rc == 0 || rc == -EAGAIN || rc == -ENOMEM || rc == -ENODEV,
		 "submit: %d", rc);
	if (rc == -ENODEV)
		FZ_CHECK(dev_broken() && ccdma_vblk_broken(U.b),
			 "-ENODEV from a device not broken");
	if (rc == 0) {
		FZ_CHECK(u->r.status == CCDMA_VBLK_PENDING, "status after submit");
		u->used = true;
		U.nreq++;
	}
}

static void drv_poll(struct fz_in *in)
{
	bool was_broken = ccdma_vblk_broken(U.b);
	unsigned c = fz_u8(in) % 4;
	int rc;

	if (c == 0)
		rc = ccdma_vblk_wait(U.b, 0, 0);
	else if (c == 1)
		rc = ccdma_vblk_wait(U.b, 0, 1000);
	else
		rc = ccdma_vblk_poll(U.b, 0);
	if (was_broken)
		FZ_CHECK(rc == -ENODEV, "poll/wait on a broken device: %d", rc);
	FZ_CHECK(rc >= 0 || rc == -ENODEV || (c < 2 && rc == -ETIMEDOUT),
		 "poll/wait: %d", rc);
	if (rc == -ENODEV) {
		FZ_CHECK(ccdma_vblk_broken(U.b) && dev_broken(),
			 "-ENODEV but not broken");
		FZ_CHECK(ccdma_vblk_inflight(U.b, 0) == 0,
			 "requests in flight on a broken queue");
	}
}

/* Once broken, the synchronous helpers fail at once. */
static void drv_sync_broken(void)
{
	uint8_t buf[512];
	char id[21];

	if (!ccdma_vblk_broken(U.b))
		return;
	FZ_CHECK(ccdma_vblk_read(U.b, 0, buf, sizeof(buf)) == -ENODEV, "read");
	FZ_CHECK(ccdma_vblk_write(U.b, 0, buf, sizeof(buf)) == -ENODEV, "write");
	FZ_CHECK(ccdma_vblk_flush(U.b) == -ENODEV, "flush");
	FZ_CHECK(ccdma_vblk_get_id(U.b, id) == -ENODEV, "get_id");
}

/* ---- the end: what every request got ----------------------------------- */

static void check_req(unsigned i)
{
	struct ureq *u = &U.r[i];
	size_t k;

	FZ_TRACE("request %u: %s %zu bytes: status %d (device: picked up %d, "
		 "named %d, status bits %#x)\n", i, u->read ? "READ" : "WRITE",
		 u->len, u->status, u->dev_filled, u->dev_named, u->dev_st);
	FZ_CHECK(u->calls == 1, "request %u completed %u times", i, u->calls);
	FZ_CHECK(u->r.status == u->status, "status changed after completion");
	FZ_CHECK(!memcmp(u->snap, u->buf, u->len),
		 "request %u: buffer changed after completion", i);
	switch (u->status) {
	case 0:
		FZ_CHECK(u->dev_st & ST_OK,
			 "request %u succeeded, but the device never wrote "
			 "status 0 for it (named %d, status bits %#x)", i,
			 u->dev_named, u->dev_st);
		break;
	case -EIO:
		FZ_CHECK(((u->dev_st & ST_IOERR) ||
			 (u->read && (u->dev_st & ST_OK))), "request %u: -EIO "
			 "the device did not report (status bits %#x)", i,
			 u->dev_st);
		break;
	case -EOPNOTSUPP:
		FZ_CHECK(u->dev_st & ST_UNSUPP,
			 "request %u: -EOPNOTSUPP the device did not report", i);
		break;
	case -ENODEV:
		FZ_CHECK(u->broken_at_done, "request %u: -ENODEV, device not "
			 "broken", i);
		break;
	default:
		FZ_CHECK(0, "request %u: status %d", i, u->status);
	}
	if (!u->read)
		return;
	for (k = 0; k < u->len; k++) {
		uint8_t v = u->buf[k];

		/* (A chain the device never read may return what the
		 * bounce held: the caller's own bytes, copied at map, or
		 * another request's that the device saw; nothing to check
		 * there but -ENODEV.) */
		if (u->status == -ENODEV)
			/* A device found broken returns nothing. */
			FZ_CHECK(v == 0, "request %u failed with -ENODEV, "
				 "byte %zu is %#x", i, k, v);
		else if (u->status == 0 && u->dev_filled)
			FZ_CHECK(v == u->expect[k] ||
				 (U.late_written && v == LATE_BYTE),
				 "request %u: byte %zu is %#x, the device wrote "
				 "%#x", i, k, v, u->expect[k]);
		else if (u->dev_filled)
			FZ_CHECK(v == 0 || v == u->expect[k] ||
				 (U.late_written && v == LATE_BYTE),
				 "request %u: byte %zu is %#x, the device wrote "
				 "%#x", i, k, v, u->expect[k]);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	struct ccdma_vblk_config cfg;
	uint64_t offered = fake_default_features(), before;
	unsigned c, steps, i;
	int rc;

	fz_global_init();
	memset(&U, 0, sizeof(U));
	c = fz_u8(&in);
	if (c & 1)
		offered &= ~(1ull << CCDMA_VIRTIO_F_EVENT_IDX);
	if (c & 2)
		offered &= ~(1ull << CCDMA_VIRTIO_F_INDIRECT_DESC);
	fz_dirty_pool();
	before = fz_in_use();
	fz_fake_init(&U.fd, offered, 1, 4u << ((c >> 2) % 4),
		     (uint64_t)NREQ * TAG_SECTORS);
	U.fd.hold = true;
	memset(U.owner, 0xff, sizeof(U.owner));
	ccdma_vblk_config_init(&cfg);
	cfg.num_queues = 1;
	rc = ccdma_vblk_create(&U.fd.t, &cfg, &U.b);
	FZ_CHECK(rc == 0, "create: %d", rc);

	for (steps = 0; in.n && steps < MAXSTEPS; steps++) {
		bool dead = dev_broken();

		c = fz_u8(&in);
		switch (c % 10) {
		case 0: case 1: drv_submit(&in, true); break;
		case 2: drv_submit(&in, false); break;
		case 3: drv_poll(&in); break;
		case 4: case 5:
			if (!dead) {
				dev_refresh();
				dev_pickup();
			}
			break;
		case 6: case 7:
			if (!dead) {
				dev_refresh();
				dev_complete(&in);
			}
			break;
		case 8: if (!dead) dev_late_write(&in); break;
		default: drv_sync_broken(); break;
		}
	}
	ccdma_vblk_destroy(U.b);
	for (i = 0; i < U.nreq; i++)
		check_req(i);
	fz_check_released(before);
	fz_fake_fini(&U.fd);
	return 0;
}
