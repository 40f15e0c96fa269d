/* SPDX-License-Identifier: MIT */
/*
 * The echo engine of ccdma-net and the virtio-net tests (netjob.h).
 */
#include "netjob.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ccdma/dma.h>

/* The frame: Ethernet header (broadcast, a local source, the local
 * experimental EtherType), the sequence number (le64), the frame size
 * (le32), then the pattern. */
#define ETH_TYPE_LOCAL 0x88b5u
#define OFF_SEQ 14u
#define OFF_SIZE 22u
#define OFF_PAT 26u
#define BATCH NETJOB_BATCH_MAX

static inline uint8_t pat(uint64_t seq, uint32_t i)
{
	return (uint8_t)(seq * 131u + i * 7u + (i >> 8));
}

static void put_seq(uint8_t *p, uint64_t seq)
{
	for (unsigned i = 0; i < 8; i++)
		p[OFF_SEQ + i] = (uint8_t)(seq >> (8 * i));
}

void netjob_frame(uint8_t *p, uint32_t size, uint64_t seq)
{
	uint32_t i;

	memset(p, 0xff, 6);
	memcpy(p + 6, "\x02\x00\x00\x00\x00\x01", 6);
	p[12] = ETH_TYPE_LOCAL >> 8;
	p[13] = ETH_TYPE_LOCAL & 0xff;
	put_seq(p, seq);
	for (i = 0; i < 4; i++)
		p[OFF_SIZE + i] = (uint8_t)(size >> (8 * i));
	for (i = OFF_PAT; i < size; i++)
		p[i] = pat(seq, i);
}

int netjob_frame_check(const uint8_t *p, uint32_t len, uint32_t size,
		       uint64_t count, uint64_t *seq)
{
	uint64_t s = 0;
	uint32_t i, sz = 0;

	*seq = UINT64_MAX;
	if (len < OFF_PAT)
		return -1;
	for (i = 0; i < 8; i++)
		s |= (uint64_t)p[OFF_SEQ + i] << (8 * i);
	for (i = 0; i < 4; i++)
		sz |= (uint32_t)p[OFF_SIZE + i] << (8 * i);
	if (s < count)
		*seq = s;
	if (s >= count || len != size || sz != size || p[12] != ETH_TYPE_LOCAL >> 8 ||
	    p[13] != (ETH_TYPE_LOCAL & 0xff) || memcmp(p + 6, "\x02\x00\x00\x00\x00\x01", 6))
		return -1;
	for (i = OFF_PAT; i < len; i++)
		if (p[i] != pat(s, i))
			return -1;
	return 0;
}

/* ---- connection ----------------------------------------------------------- */

void netjob_close(struct netjob *j)
{
	unsigned i;

	if (!j->pair_job)
		ccdma_vnet_destroy(j->n);
	for (i = 0; j->tx && i < j->window; i++) {
		if (!j->tx[i])
			continue;
		if (j->mode == CCDMA_MODE_DIRECT)
			ccdma_free_coherent(ccdma_vhost_dev(j->h), j->frame_cap,
					    j->tx[i], j->tx_dma[i]);
		else
			free(j->tx[i]);
	}
	free(j->tx);
	free(j->tx_dma);
	free(j->rx);
	if (!j->pair_job)
		ccdma_vhost_close(j->h);
	memset(j, 0, sizeof(*j));
}

static int alloc_frames(struct netjob *j)
{
	unsigned i;

	j->tx = calloc(j->window, sizeof(*j->tx));
	j->tx_dma = calloc(j->window, sizeof(*j->tx_dma));
	j->rx = malloc(j->frame_cap);
	if (!j->tx || !j->tx_dma || !j->rx)
		return -ENOMEM;
	for (i = 0; i < j->window; i++) {
		if (j->mode == CCDMA_MODE_DIRECT) {
			void *p;
			int rc = ccdma_alloc_coherent(ccdma_vhost_dev(j->h),
						      j->frame_cap, &p,
						      &j->tx_dma[i], 0);

			if (rc)
				return rc;
			j->tx[i] = p;
		} else if (!(j->tx[i] = malloc(j->frame_cap))) {
			return -ENOMEM;
		}
	}
	return 0;
}

int netjob_open(struct netjob *j, const char *sock, enum ccdma_mode mode,
		const struct ccdma_vnet_config *vcfg, uint32_t frame_cap,
		unsigned window)
{
	struct ccdma_vhost_config c;
	unsigned per;
	int rc;

	memset(j, 0, sizeof(*j));
	ccdma_vhost_config_init(&c);
	c.socket_path = sock;
	c.mode = (int)mode;
	c.queues_per_unit = 2;
	rc = ccdma_vhost_connect(&c, &j->h);
	if (rc) {
		blkjob_say("cannot connect to %s: %s", sock, strerror(-rc));
		return rc;
	}
	j->mode = mode;
	rc = ccdma_vnet_create(ccdma_vhost_transport(j->h), vcfg, &j->n);
	if (rc) {
		blkjob_say("virtio-net over %s: %s", sock, strerror(-rc));
		ccdma_vhost_close(j->h);
		j->h = NULL;
		return rc;
	}
	ccdma_vnet_get_info(j->n, &j->info);
	j->frame_cap = frame_cap;
	/* Frames the receive ring holds at once: never more in flight, or
	 * the back-end drops what finds no buffer. */
	per = (CCDMA_VNET_HDR_LEN + frame_cap + j->info.rx_buf_size - 1) /
	      j->info.rx_buf_size;
	j->window = window ? window : j->info.queue_size / per / 2;
	if (j->window > 64)
		j->window = 64;
	if (!j->window)
		j->window = 1;
	j->batch = NETJOB_BATCH_MAX;
	rc = alloc_frames(j);
	if (rc) {
		blkjob_say("no memory for %u frames of %u bytes", j->window, frame_cap);
		netjob_close(j);
	}
	return rc;
}

int netjob_open_pair(struct netjob *j, const struct netjob *base, unsigned pair)
{
	int rc;

	memset(j, 0, sizeof(*j));
	j->n = ccdma_vnet_pair(base->n, pair);
	if (!j->n) {
		blkjob_say("no queue pair %u (the device has %u in use)", pair,
		    base->info.queue_pairs);
		return -EINVAL;
	}
	j->h = base->h;
	j->info = base->info;
	j->mode = base->mode;
	j->window = base->window;
	j->batch = base->batch;
	j->frame_cap = base->frame_cap;
	j->zero_copy = base->zero_copy;
	j->pair_job = true;
	rc = alloc_frames(j);
	if (rc) {
		blkjob_say("no memory for %u frames of %u bytes", j->window,
		    j->frame_cap);
		netjob_close(j);
	}
	return rc;
}

/* ---- echo ----------------------------------------------------------------- */

struct echo_state {
	uint8_t *seen;            /* count bits */
	uint64_t next, highest;
	uint64_t unique;          /* sequence numbers seen */
	unsigned *free_slots, nfree;
	/* netjob_tx: every frame was written whole once; each send only
	 * writes its sequence number (nobody checks the rest). */
	bool seq_only;
};

static void take_frame(struct echo_state *s,
		       struct netjob_echo *e, uint32_t size, uint64_t count,
		       const struct ccdma_vnet_pkt *p)
{
	uint64_t seq;
	int bad = p->status ? -1
			    : netjob_frame_check(p->buf, p->len, size, count, &seq);

	if (p->status)
		seq = UINT64_MAX;
	e->received++;
	if (seq == UINT64_MAX) {
		e->corrupt++;
		return;
	}
	if (s->seen[seq / 8] & (1u << (seq % 8))) {
		e->duplicated++;
		return;
	}
	s->seen[seq / 8] |= (uint8_t)(1u << (seq % 8));
	s->unique++;
	if (bad)
		e->corrupt++;
	else if (seq + 1 < s->highest)
		e->reordered++;
	if (seq + 1 > s->highest)
		s->highest = seq + 1;
}

static int echo_send(struct netjob *j, struct echo_state *s, uint32_t size,
		     uint64_t count, struct netjob_echo *e)
{
	struct ccdma_vnet_pkt p[BATCH];
	unsigned n = 0, k;
	int rc;

	while (n < j->batch && s->nfree > n && s->next + n < count) {
		unsigned slot = s->free_slots[s->nfree - 1 - n];

		if (s->seq_only)
			put_seq(j->tx[slot], s->next + n);
		else
			netjob_frame(j->tx[slot], size, s->next + n);
		p[n] = (struct ccdma_vnet_pkt){ .buf = j->tx[slot], .len = size,
			.user = (void *)(uintptr_t)slot };
		n++;
	}
	if (!n)
		return 0;
	rc = ccdma_vnet_send(j->n, p, n);
	if (rc == -EAGAIN || rc == -ENOMEM)
		return 0;
	if (rc < 0)
		return rc;
	for (k = 0; k < (unsigned)rc; k++)
		s->nfree--;
	s->next += (unsigned)rc;
	e->sent += (unsigned)rc;
	if (rc > 0)
		e->sends++;
	if ((uint64_t)rc > e->max_burst)
		e->max_burst = (uint64_t)rc;
	return rc;
}

static int echo_reap(struct netjob *j, struct echo_state *s)
{
	void *u[BATCH];
	int rc = ccdma_vnet_tx_complete(j->n, u, BATCH), i;

	for (i = 0; i < rc; i++)
		s->free_slots[s->nfree++] = (unsigned)(uintptr_t)u[i];
	return rc;
}

/* Zero-copy: one lent frame as a packet, read in place when it is one
 * segment, else gathered into j->rx (at most frame_cap bytes). */
static void zc_as_pkt(struct netjob *j, const struct ccdma_vnet_zc *z,
		      struct ccdma_vnet_pkt *p)
{
	uint32_t at = 0;

	p->len = z->len;
	p->status = z->len > j->frame_cap ? -EMSGSIZE : 0;
	if (z->nseg == 1) {
		p->buf = (void *)(uintptr_t)z->seg[0].buf;
		return;
	}
	for (unsigned i = 0; i < z->nseg && at < j->frame_cap; i++) {
		uint32_t l = z->seg[i].len;

		if (l > j->frame_cap - at)
			l = j->frame_cap - at;
		memcpy(j->rx + at, z->seg[i].buf, l);
		at += l;
	}
	p->buf = j->rx;
}

static int echo_recv(struct netjob *j, struct echo_state *s, uint32_t size,
		     uint64_t count, struct netjob_echo *e)
{
	struct ccdma_vnet_pkt p = { .buf = j->rx, .cap = j->frame_cap };
	struct ccdma_vnet_zc z;
	int rc, got = 0;

	if (j->zero_copy) {
		while ((rc = ccdma_vnet_recv_zc(j->n, &z, 1)) > 0) {
			zc_as_pkt(j, &z, &p);
			take_frame(s, e, size, count, &p);
			got++;
			rc = ccdma_vnet_recv_release(j->n, &z, 1);
			if (rc)
				break;
		}
		return rc < 0 ? rc : got;
	}
	while ((rc = ccdma_vnet_recv(j->n, &p, 1)) > 0) {
		take_frame(s, e, size, count, &p);
		got++;
	}
	return rc < 0 ? rc : got;
}

/* netjob_rx: up to `want` frames into p[] (copied, or lent and given back
 * at once); how many, or the driver's error. */
static int rx_batch(struct netjob *j, struct ccdma_vnet_pkt *p, unsigned want)
{
	struct ccdma_vnet_zc z[NETJOB_BATCH_MAX];
	int rc, r;

	if (!j->zero_copy) {
		for (unsigned i = 0; i < want; i++)
			p[i] = (struct ccdma_vnet_pkt){ .buf = j->tx[i],
							.cap = j->frame_cap };
		return ccdma_vnet_recv(j->n, p, want);
	}
	rc = ccdma_vnet_recv_zc(j->n, z, want);
	for (int i = 0; i < rc; i++) {
		p[i].len = z[i].len;
		p[i].status = 0;
	}
	if (rc > 0 && (r = ccdma_vnet_recv_release(j->n, z, (unsigned)rc)) < 0)
		return r;
	return rc;
}

/* Take back every frame still being sent (the next run reuses the
 * slots), waiting at most idle_ms without progress.  0 or the driver's
 * error. */
static int drain_tx(struct netjob *j, struct echo_state *s, unsigned idle_ms)
{
	uint64_t last = blkjob_now_ns();
	int rc = 0;

	while (!rc && s->nfree < j->window &&
	       blkjob_now_ns() - last < (uint64_t)idle_ms * 1000000ull) {
		int r = echo_reap(j, s);

		if (r < 0)
			rc = r;
		else if (r > 0)
			last = blkjob_now_ns();
		else if ((r = ccdma_vnet_wait(j->n, CCDMA_VNET_EV_TX,
					      100000000ull)) < 0 &&
			 r != -ETIMEDOUT)
			rc = r;
	}
	return rc;
}

static bool bad_args(const struct netjob *j, uint32_t size,
		     struct netjob_echo *e)
{
	memset(e, 0, sizeof(*e));
	if (size > j->frame_cap || size < 64) {
		blkjob_say("frame size %u: want 64..%u", size, j->frame_cap);
		e->error = -EINVAL;
		return true;
	}
	if (j->batch < 1 || j->batch > NETJOB_BATCH_MAX) {
		blkjob_say("batch %u: want 1..%u", j->batch, NETJOB_BATCH_MAX);
		e->error = -EINVAL;
		return true;
	}
	return false;
}

int netjob_echo(struct netjob *j, uint32_t size, uint64_t count,
		unsigned idle_ms, struct netjob_echo *e,
		void (*progress)(const struct netjob_echo *e, void *arg),
		void *arg)
{
	struct echo_state s = { 0 };
	uint64_t start = blkjob_now_ns(), last = start, shown = start;
	unsigned i;
	int rc = 0;

	if (bad_args(j, size, e))
		return -1;
	s.seen = calloc(count / 8 + 1, 1);
	s.free_slots = calloc(j->window, sizeof(unsigned));
	if (!s.seen || !s.free_slots) {
		free(s.seen);
		free(s.free_slots);
		e->error = -ENOMEM;
		return -1;
	}
	for (i = 0; i < j->window; i++)
		s.free_slots[s.nfree++] = i;
	/* In flight: sent, not yet back (nor lost). */
	while (s.unique < count) {
		uint64_t now;
		int a, b, c;

		a = echo_send(j, &s, size, count, e);
		b = echo_reap(j, &s);
		c = echo_recv(j, &s, size, count, e);
		if (a < 0 || b < 0 || c < 0) {
			rc = a < 0 ? a : b < 0 ? b : c;
			break;
		}
		now = blkjob_now_ns();
		if (a > 0 || c > 0)
			last = now;
		if (progress && now - shown > 500000000ull) {
			e->ns = now - start;
			progress(e, arg);
			shown = now;
		}
		if (now - last > (uint64_t)idle_ms * 1000000ull)
			break;
		if (!a && !c && !b) {
			rc = ccdma_vnet_wait(j->n, s.nfree < j->window ?
					     CCDMA_VNET_EV_RX | CCDMA_VNET_EV_TX :
					     CCDMA_VNET_EV_RX, 100000000ull);
			if (rc == -ETIMEDOUT || rc > 0)
				rc = 0;
			if (rc)
				break;
		}
	}
	e->ns = blkjob_now_ns() - start;
	/* A device could echo frames never sent: not counted as back. */
	e->lost = e->sent > s.unique ? e->sent - s.unique : 0;
	e->unsent = count - e->sent;
	if (!rc)
		rc = drain_tx(j, &s, idle_ms);
	free(s.seen);
	free(s.free_slots);
	if (rc) {
		e->error = rc;
		return -1;
	}
	return (e->lost || e->unsent || e->duplicated || e->reordered ||
		e->corrupt) ? 1 : 0;
}

/* ---- tx and rx only ------------------------------------------------------ */

int netjob_tx(struct netjob *j, uint32_t size, uint64_t count,
	      unsigned idle_ms, struct netjob_echo *e)
{
	struct echo_state s = { 0 };
	uint64_t start = blkjob_now_ns(), last = start;
	unsigned i;
	int rc = 0;

	if (bad_args(j, size, e))
		return -1;
	s.free_slots = calloc(j->window, sizeof(unsigned));
	if (!s.free_slots) {
		e->error = -ENOMEM;
		return -1;
	}
	for (i = 0; i < j->window; i++) {
		s.free_slots[s.nfree++] = i;
		netjob_frame(j->tx[i], size, 0);
	}
	s.seq_only = true;
	while (s.next < count) {
		int a = echo_send(j, &s, size, count, e), b = echo_reap(j, &s);
		uint64_t now = blkjob_now_ns();

		if (a < 0 || b < 0) {
			rc = a < 0 ? a : b;
			break;
		}
		if (a > 0 || b > 0)
			last = now;
		else if (now - last > (uint64_t)idle_ms * 1000000ull)
			break;
		else if ((rc = ccdma_vnet_wait(j->n, CCDMA_VNET_EV_TX,
					       100000000ull)) == -ETIMEDOUT ||
			 rc > 0)
			rc = 0;
		else if (rc)
			break;
	}
	if (!rc)
		rc = drain_tx(j, &s, idle_ms);
	e->ns = blkjob_now_ns() - start;
	e->received = e->sent - (j->window - s.nfree);
	e->lost = e->sent - e->received;
	e->unsent = count - e->sent;
	free(s.free_slots);
	if (rc) {
		e->error = rc;
		return -1;
	}
	return e->lost || e->unsent ? 1 : 0;
}

int netjob_rx(struct netjob *j, uint64_t count, unsigned idle_ms,
	      struct netjob_echo *e)
{
	uint64_t start = blkjob_now_ns(), last = start;
	struct ccdma_vnet_pkt p[NETJOB_BATCH_MAX];
	/* Up to j->batch frames a call, into the (otherwise unused) send
	 * buffers. */
	unsigned nb = j->batch < j->window ? j->batch : j->window, i;
	int rc = 0;

	memset(e, 0, sizeof(*e));
	if (!nb || nb > NETJOB_BATCH_MAX) {
		e->error = -EINVAL;
		return -1;
	}
	while (e->received < count) {
		uint64_t now;
		unsigned want = count - e->received < nb ?
				(unsigned)(count - e->received) : nb;

		rc = rx_batch(j, p, want);
		if (rc < 0)
			break;
		now = blkjob_now_ns();
		if (rc > 0) {
			for (i = 0; i < (unsigned)rc; i++) {
				e->bytes += p[i].len;
				if (p[i].status || p[i].len < 14)
					e->corrupt++;
			}
			e->received += (unsigned)rc;
			e->sends++;
			if ((uint64_t)rc > e->max_burst)
				e->max_burst = (uint64_t)rc;
			last = now;
			rc = 0;
			continue;
		}
		if (now - last > (uint64_t)idle_ms * 1000000ull)
			break;
		rc = ccdma_vnet_wait(j->n, CCDMA_VNET_EV_RX, 100000000ull);
		if (rc == -ETIMEDOUT || rc > 0)
			rc = 0;
		if (rc)
			break;
	}
	e->ns = blkjob_now_ns() - start;
	e->lost = count - e->received;
	if (rc < 0) {
		e->error = rc;
		return -1;
	}
	return e->lost || e->corrupt ? 1 : 0;
}

/* ---- ping-pong -------------------------------------------------------------- */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Wait for slot 0's frame to finish sending (it is reused next). */
static int pp_reap(struct netjob *j, unsigned idle_ms)
{
	uint64_t start = blkjob_now_ns();
	void *u;
	int rc;

	while ((rc = ccdma_vnet_tx_complete(j->n, &u, 1)) == 0) {
		if (blkjob_now_ns() - start > (uint64_t)idle_ms * 1000000ull)
			return -ETIMEDOUT;
		rc = ccdma_vnet_wait(j->n, CCDMA_VNET_EV_TX, 100000000ull);
		if (rc < 0 && rc != -ETIMEDOUT)
			return rc;
	}
	return rc < 0 ? rc : 0;
}

/* Frames until seq i comes back intact: its round trip, 0 when it did not
 * come within idle_ms, or the driver's error. */
static int64_t pp_recv(struct netjob *j, uint32_t size, uint64_t count,
		       uint64_t i, uint64_t t0, unsigned idle_ms,
		       struct netjob_echo *e)
{
	for (;;) {
		struct ccdma_vnet_pkt p = { .buf = j->rx, .cap = j->frame_cap };
		uint64_t seq, now;
		int rc = ccdma_vnet_recv(j->n, &p, 1);

		now = blkjob_now_ns();
		if (rc < 0)
			return rc;
		if (rc > 0) {
			int bad = p.status ? -1 : netjob_frame_check(p.buf, p.len,
					size, count, &seq);

			e->received++;
			if (bad)
				e->corrupt++;
			else if (seq != i)
				e->duplicated++;
			else
				return (int64_t)(now - t0 ? now - t0 : 1);
			continue;
		}
		if (now - t0 > (uint64_t)idle_ms * 1000000ull)
			return 0;
		rc = ccdma_vnet_wait(j->n, CCDMA_VNET_EV_RX, 100000000ull);
		if (rc < 0 && rc != -ETIMEDOUT)
			return rc;
	}
}

int netjob_pingpong(struct netjob *j, uint32_t size, uint64_t count,
		    unsigned idle_ms, struct netjob_echo *e,
		    struct netjob_lat *lat)
{
	uint64_t start = blkjob_now_ns(), *ns, i, n = 0, sum = 0;
	int rc = 0;

	memset(lat, 0, sizeof(*lat));
	if (bad_args(j, size, e))
		return -1;
	ns = calloc(count, sizeof(*ns));
	if (!ns) {
		e->error = -ENOMEM;
		return -1;
	}
	for (i = 0; i < count; i++) {
		struct ccdma_vnet_pkt p = { .buf = j->tx[0], .len = size };
		uint64_t t0;
		int64_t rt;

		netjob_frame(j->tx[0], size, i);
		t0 = blkjob_now_ns();
		while ((rc = ccdma_vnet_send(j->n, &p, 1)) == -EAGAIN ||
		       rc == -ENOMEM || rc == 0) {
			if (blkjob_now_ns() - t0 > (uint64_t)idle_ms * 1000000ull)
				break;
			(void)ccdma_vnet_wait(j->n, CCDMA_VNET_EV_TX, 1000000ull);
		}
		if (rc < 0 && rc != -EAGAIN && rc != -ENOMEM)
			break;
		if (rc != 1) {
			rc = -ETIMEDOUT;
			break;
		}
		e->sent++;
		e->sends++;
		e->max_burst = 1;
		rt = pp_recv(j, size, count, i, t0, idle_ms, e);
		rc = pp_reap(j, idle_ms);
		if (rt < 0 || rc < 0) {
			rc = rt < 0 ? (int)rt : rc;
			break;
		}
		if (!rt)
			e->lost++;
		else {
			ns[n++] = (uint64_t)rt;
			sum += (uint64_t)rt;
		}
	}
	e->ns = blkjob_now_ns() - start;
	if (n) {
		qsort(ns, n, sizeof(*ns), cmp_u64);
		lat->count = n;
		lat->min = ns[0];
		lat->p50 = ns[(n - 1) * 50 / 100];
		lat->p90 = ns[(n - 1) * 90 / 100];
		lat->p99 = ns[(n - 1) * 99 / 100];
		lat->p999 = ns[(n - 1) * 999 / 1000];
		lat->max = ns[n - 1];
		lat->mean = sum / n;
	}
	free(ns);
	if (rc < 0) {
		e->error = rc;
		return -1;
	}
	e->unsent = count - i;
	return e->lost || e->unsent || e->duplicated || e->corrupt ? 1 : 0;
}

/* ---- back-ends -------------------------------------------------------------- */

int netjob_testpmd_find(char *buf, size_t len, const char *path)
{
	const char *p = path && *path ? path : NULL;
	char *dirs, *save = NULL, *d;

	if (p) {
		if (access(p, X_OK) == 0) {
			snprintf(buf, len, "%s", p);
			return 0;
		}
		blkjob_say("%s is not an executable program: install DPDK (Debian/"
		    "Ubuntu: apt-get install dpdk-dev)", p);
		return -1;
	}
	dirs = getenv("PATH") ? strdup(getenv("PATH")) : NULL;
	for (d = dirs ? strtok_r(dirs, ":", &save) : NULL; d;
	     d = strtok_r(NULL, ":", &save)) {
		snprintf(buf, len, "%s/dpdk-testpmd", d);
		if (access(buf, X_OK) == 0) {
			free(dirs);
			return 0;
		}
	}
	free(dirs);
	blkjob_say("dpdk-testpmd not found: install DPDK (Debian/Ubuntu: apt-get "
	    "install dpdk-dev), or name it with --testpmd");
	return -1;
}

void netjob_testpmd_log(const struct blkjob_proc *d, char *buf, size_t len)
{
	snprintf(buf, len, "%s/testpmd.log", d->dir);
}

static int first_cpu(void)
{
	cpu_set_t set;
	int i;

	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		for (i = 0; i < CPU_SETSIZE; i++)
			if (CPU_ISSET(i, &set))
				return i;
	return 0;
}

void netjob_testpmd_init(struct netjob_testpmd *o, const char *fwd)
{
	memset(o, 0, sizeof(*o));
	o->fwd = fwd;
	o->queues = 1;
	o->cpu = -1;
}

int netjob_testpmd_run(struct blkjob_proc *d, const char *prog,
		       const struct netjob_testpmd *o)
{
	char script[256], lcores[32], prefix[64], vdev[PATH_MAX + 64], mode[48];
	char stats[32], rxq[24], txq[24];
	int cpu = o->cpu >= 0 ? o->cpu : first_cpu();
	unsigned queues = o->queues ? o->queues : 1;
	char *argv[40];
	int n = 0;

	if (blkjob_make_dir(d, o->virtio_user ? "ccdma-net-fe" : "ccdma-net"))
		return -1;
	/* The shell only redirects; exec keeps the pid (and the parent-death
	 * signal blkjob_spawn_wait sets). */
	snprintf(script, sizeof(script),
		 "exec \"$0\" \"$@\" >%s/testpmd.log 2>&1 </dev/null", d->dir);
	snprintf(lcores, sizeof(lcores), "0@%d,1@%d", cpu, cpu);
	snprintf(prefix, sizeof(prefix), "--file-prefix=%s", d->dir + 5);
	if (o->virtio_user)
		snprintf(vdev, sizeof(vdev), "net_virtio_user0,path=%s,queues=%u",
			 o->virtio_user, queues);
	else
		snprintf(vdev, sizeof(vdev), "net_vhost0,iface=%s,queues=%u", d->sock,
			 queues);
	snprintf(mode, sizeof(mode), "--forward-mode=%s", o->fwd);
	/* Without a terminal testpmd ends at once, unless it prints
	 * statistics periodically: by default every 1000 s, so never in a
	 * run. */
	snprintf(stats, sizeof(stats), "--stats-period=%u",
		 o->stats_period ? o->stats_period : 1000);
	snprintf(rxq, sizeof(rxq), "--rxq=%u", queues);
	snprintf(txq, sizeof(txq), "--txq=%u", queues);
	argv[n++] = (char *)"/bin/sh";
	argv[n++] = (char *)"-c";
	argv[n++] = script;
	argv[n++] = (char *)prog;
	argv[n++] = (char *)"--lcores";
	argv[n++] = lcores;
	argv[n++] = (char *)"--no-huge";
	argv[n++] = (char *)"-m";
	argv[n++] = (char *)"512";
	argv[n++] = (char *)"--no-pci";
	argv[n++] = prefix;
	argv[n++] = (char *)"--vdev";
	argv[n++] = vdev;
	argv[n++] = (char *)"--log-level=lib.vhost.config:debug";
	argv[n++] = (char *)"--";
	argv[n++] = (char *)"--total-num-mbufs=16384";
	argv[n++] = (char *)"--nb-cores=1";
	argv[n++] = mode;
	argv[n++] = (char *)"--port-topology=loop";
	argv[n++] = (char *)"--auto-start";
	argv[n++] = stats;
	if (queues > 1) {
		argv[n++] = rxq;
		argv[n++] = txq;
	}
	for (const char *const *a = o->args; a && *a; a++) {
		if (n >= (int)(sizeof(argv) / sizeof(argv[0])) - 1) {
			blkjob_say("too many testpmd options");
			rmdir(d->dir);
			d->dir[0] = 0;
			return -1;
		}
		argv[n++] = (char *)*a;
	}
	argv[n] = NULL;
	/* A front-end has no socket of its own to wait for. */
	if (blkjob_spawn_wait(&d->pid, o->virtio_user ? NULL : d->sock, argv) == 0)
		return 0;
	unlink(d->sock);
	rmdir(d->dir);
	d->dir[0] = 0;
	return -1;
}

int netjob_testpmd_start(struct blkjob_proc *d, const char *prog,
			 const char *fwd)
{
	struct netjob_testpmd o;

	netjob_testpmd_init(&o, fwd);
	return netjob_testpmd_run(d, prog, &o);
}

int netjob_devsim_start(struct blkjob_proc *d, const char *path,
			const char *const *extra)
{
	const char *args[16] = { "--net" };
	unsigned n = 1;

	while (extra && *extra && n < 15)
		args[n++] = *extra++;
	args[n] = NULL;
	return blkjob_devsim_start(d, path, 1u << 20, args);
}

/* testpmd's runtime folder (/var/run/dpdk/<file-prefix> when run as
 * root): DPDK leaves it.  (Other users' runs leave theirs under
 * $XDG_RUNTIME_DIR/dpdk, not removed here.) */
static void remove_runtime(const struct blkjob_proc *d)
{
	char path[PATH_MAX], f[PATH_MAX + 256];
	struct dirent *e;
	DIR *dir;

	if (getuid() != 0)
		return;
	snprintf(path, sizeof(path), "/var/run/dpdk/%s", d->dir + 5);
	dir = opendir(path);
	if (!dir)
		return;
	while ((e = readdir(dir)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			snprintf(f, sizeof(f), "%s/%s", path, e->d_name);
			unlink(f);
		}
	closedir(dir);
	rmdir(path);
}

int netjob_stop(struct blkjob_proc *d)
{
	char log[128];
	int status = blkjob_stop_pid(&d->pid);

	if (d->dir[0]) {
		netjob_testpmd_log(d, log, sizeof(log));
		unlink(log);
		remove_runtime(d);
		unlink(d->sock);
		rmdir(d->dir);
		d->dir[0] = 0;
	}
	return status;
}
