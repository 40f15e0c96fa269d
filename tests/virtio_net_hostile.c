/* SPDX-License-Identifier: MIT */
/*
 * The virtio-net driver against an in-process echo device (every frame
 * sent comes back on the receive queue) that reaches memory only through
 * the dma layer's device accessor: a descriptor naming private memory
 * faults.  Cases:
 *   echo-conf, echo-direct, echo-nomrg   frames of 64, 1500 and 9000 bytes,
 *                                        each checked
 *   bad-input      too long / too short frames, NULL buffers, bad config
 *   nb-high        num_buffers beyond the receive buffers posted
 *   nb-nomrg       num_buffers 2 without MRG_RXBUF
 *   len-over       a used length beyond the buffer posted
 *   len-short      a used length shorter than the header
 *   id-range       a used id beyond the ring
 *   tx-double      a transmit head completed twice (not in flight)
 *   csum           a header asking for a checksum offload
 *   tx-len         a transmit used length: ignored and counted, not fatal
 *   zc, zc-nospare, zc-nomrg  zero-copy receive: frames lent in place and
 *                  held while more arrive, each checked, given back; bad
 *                  releases refused with nothing lost
 *   zc-segs        a frame spread over more buffers than a lent frame
 *                  names: dropped by recv_zc, taken whole by recv
 *   mq             two queue pairs: VQ_PAIRS_SET on the control queue,
 *                  then each pair echoes its own frames
 *   mq-ack-err, mq-ack-bad, mq-ack-len, mq-no-answer, mq-pairs-0,
 *   mq-pairs-huge, mq-pairs-few   the control queue's answer refused
 *                  (ERR), malformed (an ack that is neither OK nor ERR, a
 *                  used length of 0), never given; max_virtqueue_pairs 0,
 *                  above 0x8000, or fewer than asked: create fails with
 *                  the documented error
 *   not-vhost      a socket that does not speak vhost-user
 * Each hostile case checks the device is broken with the right reason,
 * and that every later call fails with -ENODEV at once.
 */
#include "netjob.h"
#include "test.h"

#include <ccdma/dma.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "virtio/virtio_ring.h"

enum evil { OK, NB_HIGH, NB_NOMRG, LEN_OVER, LEN_SHORT, ID_RANGE, TX_DOUBLE,
	    CSUM, TX_LEN, SPLIT, ACK_ERR, ACK_BAD, ACK_LEN, NO_ANSWER };

#define FQ_MAX 5u   /* two pairs and the control queue */

/* SPLIT: the device fills at most this many bytes of each buffer. */
#define SPLIT_BYTES 40u

struct fq {
	bool started;
	unsigned num;
	struct ccdma_vring_desc *desc;
	struct ccdma_vring_avail *avail;
	struct ccdma_vring_used *used;
	uint16_t last_avail, used_idx;
};

struct fnet {
	struct ccdma_dev *dma;
	struct ccdma_virtio_transport t;
	uint64_t offered, acked;
	struct fq q[FQ_MAX];
	bool mq;                 /* two pairs and a control queue */
	unsigned nqueues;        /* max_queues if not 0 */
	uint16_t max_pairs;      /* config space, with mq */
	unsigned ctrl_cmds, pairs_set;
	bool broken;
	char why[160];
	enum evil evil;
	unsigned signals;
	uint8_t frame[65536 + 64];
};

static void *at(struct fnet *f, uint64_t a, size_t len, unsigned acc)
{
	void *p = NULL;

	if (ccdma_dev_access(f->dma, a, len, acc, &p))
		return NULL;
	return p;
}

static void push_used(struct fq *q, uint32_t id, uint32_t len)
{
	struct ccdma_vring_used_elem *e = &q->used->ring[q->used_idx % q->num];

	e->id = ccdma_cpu_to_le32(id);
	e->len = ccdma_cpu_to_le32(len);
	q->used_idx++;
}

/* Publish the used index, and (EVENT_IDX) ask for a kick at the next
 * avail entry. */
static void publish(struct fq *q)
{
	ccdma_vring_st16(&q->used->idx, q->used_idx, __ATOMIC_RELEASE);
	ccdma_vring_st16(ccdma_vring_avail_event(q->used, q->num), q->last_avail,
			 __ATOMIC_SEQ_CST);
}

/* One transmit chain into f->frame (header skipped); its length or -1. */
static long tx_chain(struct fnet *f, struct fq *q, unsigned head)
{
	struct ccdma_vring_desc *d = q->desc;
	unsigned i = head, n = 0, max = q->num;
	long got = 0, skip = CCDMA_VNET_HDR_LEN;

	if (ccdma_le16_to_cpu(d[i].flags) & CCDMA_VRING_DESC_F_INDIRECT) {
		uint32_t l = ccdma_le32_to_cpu(d[i].len);

		d = at(f, ccdma_le64_to_cpu(d[i].addr), l, CCDMA_ACCESS_READ);
		if (!d)
			return -1;
		i = 0;
		max = l / 16;
	}
	for (;;) {
		uint32_t l = ccdma_le32_to_cpu(d[i].len);
		uint8_t *p = at(f, ccdma_le64_to_cpu(d[i].addr), l, CCDMA_ACCESS_READ);
		uint32_t s = (uint32_t)(skip < l ? skip : l);

		if (!p || got + l - s > 65536)
			return -1;
		memcpy(f->frame + got, p + s, l - s);
		got += l - s;
		skip -= s;
		if (!(ccdma_le16_to_cpu(d[i].flags) & CCDMA_VRING_DESC_F_NEXT))
			break;
		i = ccdma_le16_to_cpu(d[i].next);
		if (++n >= max || i >= max)
			return -1;
	}
	return got;
}

static bool has_mrg(struct fnet *f)
{
	return f->acked & (1ull << CCDMA_VIRTIO_NET_F_MRG_RXBUF);
}

/* Deliver f->frame (len bytes) into receive buffers of queue rxq. */
static void rx_frame(struct fnet *f, long len, unsigned rxq)
{
	struct fq *q = &f->q[rxq];
	uint16_t avail = ccdma_vring_ld16(&q->avail->idx, __ATOMIC_ACQUIRE);
	unsigned nb = 0, heads[64], lens[64];
	long left = len + CCDMA_VNET_HDR_LEN, off = 0;
	uint8_t hdr[CCDMA_VNET_HDR_LEN] = { 0 };

	while (left > 0 && nb < 64) {
		unsigned h;
		uint32_t bl, l;
		uint8_t *p;

		if (q->last_avail == avail)
			return; /* no buffer: dropped */
		h = ccdma_le16_to_cpu(q->avail->ring[q->last_avail++ % q->num]);
		bl = ccdma_le32_to_cpu(q->desc[h].len);
		p = at(f, ccdma_le64_to_cpu(q->desc[h].addr), bl, CCDMA_ACCESS_WRITE);
		if (!p)
			return;
		l = (uint32_t)(left < bl ? left : bl);
		if (f->evil == SPLIT && l > SPLIT_BYTES)
			l = SPLIT_BYTES;
		if (!nb) {
			memcpy(p + CCDMA_VNET_HDR_LEN, f->frame, l - CCDMA_VNET_HDR_LEN);
			off = l - CCDMA_VNET_HDR_LEN;
		} else {
			memcpy(p, f->frame + off, l);
			off += l;
		}
		heads[nb] = h;
		lens[nb++] = l;
		left -= l;
		if (!has_mrg(f) && left > 0)
			return;
	}
	{
		uint8_t *p0 = at(f, ccdma_le64_to_cpu(q->desc[heads[0]].addr),
				 CCDMA_VNET_HDR_LEN, CCDMA_ACCESS_WRITE);
		uint16_t n16 = (uint16_t)nb;

		if (f->evil == NB_HIGH)
			n16 = (uint16_t)(q->num + 1);
		if (f->evil == NB_NOMRG)
			n16 = 2;
		if (f->evil == CSUM)
			hdr[0] = 1;
		hdr[10] = (uint8_t)n16;
		hdr[11] = (uint8_t)(n16 >> 8);
		memcpy(p0, hdr, sizeof(hdr));
	}
	for (unsigned i = 0; i < nb; i++) {
		uint32_t id = heads[i], l = lens[i];

		if (f->evil == LEN_OVER)
			l = ccdma_le32_to_cpu(q->desc[heads[i]].len) + 100;
		if (f->evil == LEN_SHORT)
			l = 5;
		if (f->evil == ID_RANGE)
			id = q->num + 3;
		push_used(q, id, l);
	}
	publish(q);
	f->signals++;
}

static void process_tx(struct fnet *f, unsigned txq)
{
	struct fq *q = &f->q[txq];
	uint16_t avail = ccdma_vring_ld16(&q->avail->idx, __ATOMIC_ACQUIRE);

	bool doubled = false;

	while (q->last_avail != avail) {
		unsigned h = ccdma_le16_to_cpu(q->avail->ring[q->last_avail++ % q->num]);
		long len = tx_chain(f, q, h);

		/* tx-double: the first chain twice, the next one never (so
		 * the used index does not run ahead of the chains in flight). */
		if (f->evil != TX_DOUBLE || !doubled)
			push_used(q, h, f->evil == TX_LEN ? 100 : 0);
		if (f->evil == TX_DOUBLE && !doubled) {
			push_used(q, h, 0);
			doubled = true;
		}
		if (len > 0)
			rx_frame(f, len, txq - 1);
	}
	publish(q);
}

static struct ccdma_dev *t_dma_dev(void *ctx) { return ((struct fnet *)ctx)->dma; }
static uint64_t t_features(void *ctx) { return ((struct fnet *)ctx)->offered; }
static int t_set_features(void *ctx, uint64_t v)
{
	((struct fnet *)ctx)->acked = v;
	return 0;
}
static int t_get_config(void *ctx, uint32_t off, void *buf, uint32_t len)
{
	struct fnet *f = ctx;
	uint8_t cfg[10] = { 2, 0, 0, 0, 0, 9, 1, 0,
			    (uint8_t)f->max_pairs, (uint8_t)(f->max_pairs >> 8) };

	if (off + len > sizeof(cfg))
		return -EINVAL;
	memcpy(buf, cfg + off, len);
	return 0;
}
static unsigned t_max_queues(void *ctx)
{
	struct fnet *f = ctx;

	return f->nqueues ? f->nqueues : f->mq ? 5 : 2;
}
static unsigned t_max_qsize(void *ctx, unsigned q) { (void)ctx; (void)q; return 256; }
static int t_queue_start(void *ctx, unsigned qi, const struct ccdma_vq_layout *l)
{
	struct fnet *f = ctx;
	struct fq *q;

	if (qi >= FQ_MAX)
		return -EINVAL;
	q = &f->q[qi];
	memset(q, 0, sizeof(*q));
	q->num = l->num;
	q->desc = at(f, l->desc_dma, ccdma_vring_desc_size(l->num), CCDMA_ACCESS_READ);
	q->avail = at(f, l->avail_dma, ccdma_vring_avail_size(l->num), CCDMA_ACCESS_READ);
	q->used = at(f, l->used_dma, ccdma_vring_used_size(l->num), CCDMA_ACCESS_WRITE);
	q->started = q->desc && q->avail && q->used;
	return q->started ? 0 : -EINVAL;
}
/* The control queue (queue 4): class, command, data readable; one ack
 * byte writable.  The answer as f->evil says. */
static void serve_ctrl(struct fnet *f)
{
	struct fq *q = &f->q[4];
	uint16_t avail = ccdma_vring_ld16(&q->avail->idx, __ATOMIC_ACQUIRE);

	while (q->last_avail != avail) {
		unsigned h = ccdma_le16_to_cpu(q->avail->ring[q->last_avail++ % q->num]);
		uint8_t cmd[4] = { 0 }, *ack = NULL;
		unsigned i = h, got = 0;

		for (unsigned n = 0; n < 4; n++) {
			struct ccdma_vring_desc *d = &q->desc[i];
			uint32_t l = ccdma_le32_to_cpu(d->len);
			uint16_t fl = ccdma_le16_to_cpu(d->flags);
			uint8_t *p = at(f, ccdma_le64_to_cpu(d->addr), l,
					fl & CCDMA_VRING_DESC_F_WRITE ?
					CCDMA_ACCESS_WRITE : CCDMA_ACCESS_READ);

			REQUIRE(p);
			if (fl & CCDMA_VRING_DESC_F_WRITE)
				ack = p;
			else
				for (uint32_t k = 0; k < l && got < 4; k++)
					cmd[got++] = p[k];
			if (!(fl & CCDMA_VRING_DESC_F_NEXT))
				break;
			i = ccdma_le16_to_cpu(d->next);
		}
		REQUIRE(ack && got == 4);
		f->ctrl_cmds++;
		if (cmd[0] == 4 && cmd[1] == 0)
			f->pairs_set = (unsigned)cmd[2] | (unsigned)cmd[3] << 8;
		if (f->evil == NO_ANSWER)
			continue;
		*ack = f->evil == ACK_ERR ? 1 : f->evil == ACK_BAD ? 7 : 0;
		push_used(q, h, f->evil == ACK_LEN ? 0 : 1);
	}
	publish(q);
}

static int t_notify(void *ctx, unsigned qi)
{
	struct fnet *f = ctx;

	if (f->broken)
		return -ENODEV;
	if (f->mq && qi == 4)
		serve_ctrl(f);
	else if (qi & 1)
		process_tx(f, qi);
	return 0;
}
static int t_wait(void *ctx, unsigned qi, uint64_t timeout_ns)
{
	struct fnet *f = ctx;

	(void)qi;
	(void)timeout_ns;
	if (f->broken)
		return -ENODEV;
	if (!f->signals)
		return -ETIMEDOUT;
	f->signals = 0;
	return 0;
}
static void t_fail(void *ctx, const char *why)
{
	struct fnet *f = ctx;

	/* The first reason (create's failure path fails the device again). */
	if (!f->broken)
		snprintf(f->why, sizeof(f->why), "%s", why);
	f->broken = true;
}
static bool t_broken(void *ctx) { return ((struct fnet *)ctx)->broken; }

static const struct ccdma_virtio_transport_ops ops = {
	.dma_dev = t_dma_dev, .device_features = t_features,
	.set_features = t_set_features, .get_config = t_get_config,
	.max_queues = t_max_queues, .max_queue_size = t_max_qsize,
	.queue_start = t_queue_start, .notify = t_notify, .wait = t_wait,
	.fail = t_fail, .broken = t_broken,
};

static struct fnet *fnet_new(int mode)
{
	struct fnet *f = calloc(1, sizeof(*f));
	struct ccdma_pool_config pc;

	REQUIRE(f);
	test_config(&pc, "vnet");
	f->dma = test_dev("vnet", NULL, mode, &pc);
	f->offered = 1ull << CCDMA_VIRTIO_F_VERSION_1 |
		1ull << CCDMA_VIRTIO_F_INDIRECT_DESC |
		1ull << CCDMA_VIRTIO_F_EVENT_IDX |
		1ull << CCDMA_VIRTIO_NET_F_MAC | 1ull << CCDMA_VIRTIO_NET_F_STATUS |
		1ull << CCDMA_VIRTIO_NET_F_MRG_RXBUF |
		1ull << CCDMA_VIRTIO_NET_F_CSUM | 1ull << CCDMA_VIRTIO_NET_F_MQ |
		1ull << CCDMA_VIRTIO_NET_F_CTRL_VQ;
	f->t.ops = &ops;
	f->t.ctx = f;
	return f;
}

static void fnet_free(struct fnet *f);


/* Two queue pairs: VQ_PAIRS_SET(2) on the control queue, then each pair
 * echoes its own frames (the device sends each back on the pair it came
 * from), checked; statistics per pair. */
static void mq(void)
{
	struct fnet *f = fnet_new(CCDMA_MODE_CONFIDENTIAL);
	struct ccdma_vnet_config c;
	struct ccdma_vnet_info info;
	struct ccdma_vnet_stats st;
	struct ccdma_vnet *n = NULL;
	uint8_t tx[1514], rx[1514];

	f->mq = true;
	f->max_pairs = 2;
	ccdma_vnet_config_init(&c);
	c.queue_pairs = 2;
	REQUIRE(ccdma_vnet_create(&f->t, &c, &n) == 0);
	ccdma_vnet_get_info(n, &info);
	CHECK_EQ(info.queue_pairs, 2);
	CHECK_EQ(info.max_queue_pairs, 2);
	CHECK(info.features & (1ull << CCDMA_VIRTIO_NET_F_MQ));
	CHECK(info.features & (1ull << CCDMA_VIRTIO_NET_F_CTRL_VQ));
	CHECK_EQ(f->ctrl_cmds, 1);
	CHECK_EQ(f->pairs_set, 2);
	CHECK(ccdma_vnet_pair(n, 0) == n);
	CHECK(ccdma_vnet_pair(n, 2) == NULL);
	CHECK(ccdma_vnet_pair(NULL, 0) == NULL);
	for (unsigned k = 0; k < 2; k++) {
		struct ccdma_vnet *p = ccdma_vnet_pair(n, k);

		REQUIRE(p);
		for (uint64_t seq = 0; seq < 50; seq++) {
			struct ccdma_vnet_pkt s = { .buf = tx, .len = 1000 };
			struct ccdma_vnet_pkt r = { .buf = rx, .cap = sizeof(rx) };
			uint64_t got;
			void *u;

			netjob_frame(tx, 1000, seq + 100 * k);
			CHECK_EQ(ccdma_vnet_send(p, &s, 1), 1);
			CHECK_EQ(ccdma_vnet_recv(p, &r, 1), 1);
			CHECK_EQ(netjob_frame_check(rx, r.len, 1000, 200, &got), 0);
			CHECK_EQ(got, seq + 100 * k);
			CHECK_EQ(ccdma_vnet_tx_complete(p, &u, 1), 1);
		}
		ccdma_vnet_get_stats(p, &st);
		CHECK_EQ(st.rx_packets, 50);
		CHECK_EQ(st.tx_completed, 50);
	}
	/* Destroy only through pair 0. */
	ccdma_log_set_handler(quiet_log, NULL);
	ccdma_vnet_destroy(ccdma_vnet_pair(n, 1));
	ccdma_log_set_handler(NULL, NULL);
	CHECK(!ccdma_vnet_broken(n));
	ccdma_vnet_destroy(n);
	fnet_free(f);
}

/* A control queue that refuses or answers badly, or a max_virtqueue_pairs
 * that cannot be used: create fails with `want`.  The device is left
 * failed once queues were started (create's failure path), with the
 * malformed answer as its first reason; not when create stopped before
 * any queue. */
static void mq_bad(enum evil e, uint16_t max_pairs, unsigned ask, int want,
		   const char *said)
{
	struct fnet *f = fnet_new(CCDMA_MODE_CONFIDENTIAL);
	struct ccdma_vnet_config c;
	struct ccdma_vnet *n = NULL;

	f->mq = true;
	f->max_pairs = max_pairs;
	/* Queues enough for any max_virtqueue_pairs: only the device's
	 * number is wrong. */
	if (max_pairs > 2)
		f->nqueues = 2u * max_pairs + 1;
	f->evil = e;
	ccdma_vnet_config_init(&c);
	c.queue_pairs = ask;
	test_logged()[0] = 0;
	ccdma_log_set_handler(test_keep_log, NULL);
	CHECK_EQ(ccdma_vnet_create(&f->t, &c, &n), want);
	ccdma_log_set_handler(NULL, NULL);
	if (!strstr(test_logged(), said)) {
		fprintf(stderr, "logged:\n%swant \"%s\"\n", test_logged(), said);
		CHECK(0);
	}
	CHECK(n == NULL);
	CHECK_EQ(f->broken, e != OK);
	CHECK_EQ(f->ctrl_cmds, e != OK ? 1u : 0u);
	if (want == -ENODEV)
		CHECK(strstr(f->why, said) != NULL);
	fnet_free(f);
}

static void fnet_free(struct fnet *f)
{
	CHECK_EQ(ccdma_dev_faults(f->dma), 0);
	ccdma_dev_destroy(f->dma);
	free(f);
}

static struct ccdma_vnet *make_spares(struct fnet *f, uint32_t max_frame,
				      uint64_t refuse, unsigned spares)
{
	struct ccdma_vnet_config c;
	struct ccdma_vnet *n = NULL;

	ccdma_vnet_config_init(&c);
	c.max_frame = max_frame;
	c.refuse_features = refuse;
	c.rx_spare_buffers = spares;
	REQUIRE(ccdma_vnet_create(&f->t, &c, &n) == 0);
	return n;
}

static struct ccdma_vnet *make(struct fnet *f, uint32_t max_frame, uint64_t refuse)
{
	return make_spares(f, max_frame, refuse, 0);
}

/* Frames of each size out and back, each checked. */
static void echo(int mode, uint64_t refuse)
{
	static const uint32_t sizes[] = { 64, 1500, 9000 };
	struct fnet *f = fnet_new(mode);
	struct ccdma_vnet *n = make(f, 9014, refuse);
	struct ccdma_vnet_info info;
	struct ccdma_vnet_stats st;
	uint8_t *tx = malloc(9014), *rx = malloc(9014);

	REQUIRE(tx && rx);
	ccdma_vnet_get_info(n, &info);
	CHECK(info.has_mac && info.mac[5] == 9 && info.link_up);
	/* Offloads, MQ and CTRL_VQ are refused. */
	CHECK_EQ(info.features & (1ull << CCDMA_VIRTIO_NET_F_CSUM |
				  1ull << CCDMA_VIRTIO_NET_F_MQ |
				  1ull << CCDMA_VIRTIO_NET_F_CTRL_VQ), 0);
	CHECK_EQ(info.mrg_rxbuf, !refuse);
	for (unsigned k = 0; k < 3; k++) {
		for (uint64_t seq = 0; seq < 300; seq++) {
			struct ccdma_vnet_pkt p = { .buf = tx, .len = sizes[k],
						    .user = (void *)(uintptr_t)(seq + 1) };
			struct ccdma_vnet_pkt r = { .buf = rx, .cap = 9014 };
			void *u = NULL;
			uint64_t got;

			netjob_frame(tx, sizes[k], seq);
			CHECK_EQ(ccdma_vnet_send(n, &p, 1), 1);
			CHECK_EQ(ccdma_vnet_wait(n, CCDMA_VNET_EV_RX, 1000000000ull),
				 CCDMA_VNET_EV_RX);
			CHECK_EQ(ccdma_vnet_recv(n, &r, 1), 1);
			CHECK_EQ(r.status, 0);
			CHECK_EQ(netjob_frame_check(rx, r.len, sizes[k], 300, &got), 0);
			CHECK_EQ(got, seq);
			CHECK_EQ(ccdma_vnet_tx_complete(n, &u, 1), 1);
			CHECK(u == (void *)(uintptr_t)(seq + 1));
		}
	}
	ccdma_vnet_get_stats(n, &st);
	CHECK_EQ(st.rx_packets, 900);
	CHECK_EQ(st.tx_completed, 900);
	if (!refuse)
		CHECK(st.rx_buffers >= 300 * 5 + 600);
	/* A buffer too small: the frame's head, and -EMSGSIZE. */
	{
		struct ccdma_vnet_pkt p = { .buf = tx, .len = 1500 };
		struct ccdma_vnet_pkt r = { .buf = rx, .cap = 100 };

		netjob_frame(tx, 1500, 7);
		CHECK_EQ(ccdma_vnet_send(n, &p, 1), 1);
		CHECK_EQ(ccdma_vnet_recv(n, &r, 1), 1);
		CHECK_EQ(r.status, -EMSGSIZE);
		CHECK_EQ(r.len, 1500);
		CHECK_EQ(memcmp(rx, tx, 100), 0);
	}
	CHECK(!ccdma_vnet_broken(n));
	ccdma_vnet_destroy(n);
	free(tx);
	free(rx);
	fnet_free(f);
}

static void bad_input(void)
{
	struct fnet *f = fnet_new(CCDMA_MODE_CONFIDENTIAL);
	struct ccdma_vnet *n = make(f, 0, 0);
	struct ccdma_vnet_config c;
	struct ccdma_vnet_stats st;
	struct ccdma_vnet *m = NULL;
	uint8_t buf[2000] = { 0 };
	struct ccdma_vnet_pkt p[2] = { { .buf = buf, .len = 64 },
				       { .buf = buf, .len = 1515 } };

	ccdma_log_set_handler(quiet_log, NULL);
	CHECK_EQ(ccdma_vnet_send(n, &p[1], 1), -EMSGSIZE);
	p[1].len = 0;
	CHECK_EQ(ccdma_vnet_send(n, &p[1], 1), -EINVAL);
	p[1].len = 13;
	CHECK_EQ(ccdma_vnet_send(n, &p[1], 1), -EINVAL);
	p[1].len = 64;
	p[1].buf = NULL;
	CHECK_EQ(ccdma_vnet_send(n, &p[1], 1), -EINVAL);
	/* A bad frame ends the batch: the good one before it is posted. */
	CHECK_EQ(ccdma_vnet_send(n, p, 2), 1);
	CHECK_EQ(ccdma_vnet_send(n, p, 0), -EINVAL);
	CHECK_EQ(ccdma_vnet_send(NULL, p, 1), -EINVAL);
	ccdma_vnet_get_stats(n, &st);
	CHECK_EQ(st.tx_packets, 1);
	ccdma_vnet_config_init(&c);
	c.max_frame = CCDMA_VNET_MAX_FRAME + 1;
	CHECK_EQ(ccdma_vnet_create(&f->t, &c, &m), -EINVAL);
	c.max_frame = 0;
	c.queue_size = 100;
	CHECK_EQ(ccdma_vnet_create(&f->t, &c, &m), -EINVAL);
	c.queue_size = 0;
	c.refuse_features = 1ull << CCDMA_VIRTIO_F_VERSION_1;
	CHECK_EQ(ccdma_vnet_create(&f->t, &c, &m), -EINVAL);
	CHECK(m == NULL);
	ccdma_log_set_handler(NULL, NULL);
	CHECK(!ccdma_vnet_broken(n));
	ccdma_vnet_destroy(n);
	fnet_free(f);
}

static void hostile(enum evil e, const char *why, bool nomrg)
{
	struct fnet *f = fnet_new(CCDMA_MODE_CONFIDENTIAL);
	struct ccdma_vnet *n = make(f, 0, nomrg ? 1ull << CCDMA_VIRTIO_NET_F_MRG_RXBUF : 0);
	uint8_t tx[1514], rx[1514];
	struct ccdma_vnet_pkt p = { .buf = tx, .len = 1000, .user = tx };
	struct ccdma_vnet_pkt r = { .buf = rx, .cap = sizeof(rx) };
	struct ccdma_vnet_stats st;
	void *u[4];
	int rc;

	netjob_frame(tx, 1000, 1);
	/* One good frame first. */
	CHECK_EQ(ccdma_vnet_send(n, &p, 1), 1);
	CHECK_EQ(ccdma_vnet_recv(n, &r, 1), 1);
	CHECK_EQ(ccdma_vnet_tx_complete(n, u, 4), 1);
	f->evil = e;
	ccdma_log_set_handler(quiet_log, NULL);
	if (e == TX_DOUBLE) {
		struct ccdma_vnet_pkt two[2] = { p, p };

		CHECK_EQ(ccdma_vnet_send(n, two, 2), 2);
	} else {
		CHECK_EQ(ccdma_vnet_send(n, &p, 1), 1);
	}
	rc = ccdma_vnet_recv(n, &r, 1);
	if (e != TX_DOUBLE && e != TX_LEN)
		CHECK_EQ(rc, -ENODEV);
	rc = ccdma_vnet_tx_complete(n, u, 4);
	ccdma_log_set_handler(NULL, NULL);
	ccdma_vnet_get_stats(n, &st);
	if (e == TX_LEN) {
		CHECK_EQ(rc, 1);
		CHECK_EQ(st.tx_len_ignored, 1);
		CHECK(!ccdma_vnet_broken(n));
	} else {
		/* The frame comes back to its owner either way. */
		CHECK_EQ(rc, e == TX_DOUBLE ? 2 : 1);
		CHECK(ccdma_vnet_broken(n));
		if (!strstr(f->why, why)) {
			fprintf(stderr, "broken for \"%s\", want \"%s\"\n", f->why, why);
			CHECK(0);
		}
		/* Later calls fail at once. */
		CHECK_EQ(ccdma_vnet_send(n, &p, 1), -ENODEV);
		CHECK_EQ(ccdma_vnet_recv(n, &r, 1), -ENODEV);
		CHECK_EQ(ccdma_vnet_wait(n, CCDMA_VNET_EV_RX, UINT64_MAX), -ENODEV);
		CHECK_EQ(ccdma_vnet_tx_complete(n, u, 4), -ENODEV);
	}
	ccdma_vnet_destroy(n);
	fnet_free(f);
}

/* A lent frame's segments, gathered into out (cap bytes): its length. */
static uint32_t zc_gather(const struct ccdma_vnet_zc *z, uint8_t *out, uint32_t cap)
{
	uint32_t at = 0;

	for (unsigned i = 0; i < z->nseg; i++) {
		REQUIRE(at + z->seg[i].len <= cap);
		memcpy(out + at, z->seg[i].buf, z->seg[i].len);
		at += z->seg[i].len;
	}
	return at;
}

#define ZC_HOLD 8u

static uint64_t lent_now(struct ccdma_vnet *n)
{
	struct ccdma_vnet_stats st;

	ccdma_vnet_get_stats(n, &st);
	return st.rx_lent;
}

/* Zero-copy receive: ZC_HOLD frames of each size lent and held (the
 * spares, if any, keep the ring full), each checked in place, then bad
 * releases (each refused, nothing given back) and the good one. */
static void zc(unsigned spares, uint64_t refuse)
{
	static const uint32_t sizes[] = { 64, 1500, 9000 };
	struct fnet *f = fnet_new(CCDMA_MODE_CONFIDENTIAL);
	struct ccdma_vnet *n = make_spares(f, 9014, refuse, spares);
	struct ccdma_vnet_zc z[ZC_HOLD], bad[2];
	struct ccdma_vnet_stats st;
	struct ccdma_vnet_info info;
	uint8_t *tx = malloc(9014), *rx = malloc(9014);
	uint64_t lent, frames = 0;

	REQUIRE(tx && rx);
	ccdma_vnet_get_info(n, &info);
	CHECK_EQ(info.rx_spare_buffers, spares);
	for (unsigned k = 0; k < 3; k++) {
		lent = 0;
		for (unsigned i = 0; i < ZC_HOLD; i++) {
			struct ccdma_vnet_pkt p = { .buf = tx, .len = sizes[k] };
			void *u;
			uint64_t got;

			netjob_frame(tx, sizes[k], i);
			CHECK_EQ(ccdma_vnet_send(n, &p, 1), 1);
			CHECK_EQ(ccdma_vnet_recv_zc(n, &z[i], 1), 1);
			CHECK_EQ(z[i].len, sizes[k]);
			CHECK_EQ(z[i].nseg, info.mrg_rxbuf ?
				 (sizes[k] + CCDMA_VNET_HDR_LEN + CCDMA_VNET_MRG_BUF - 1) /
				 CCDMA_VNET_MRG_BUF : 1);
			CHECK_EQ(zc_gather(&z[i], rx, 9014), sizes[k]);
			CHECK_EQ(netjob_frame_check(rx, sizes[k], sizes[k], ZC_HOLD,
						    &got), 0);
			CHECK_EQ(got, i);
			CHECK_EQ(ccdma_vnet_tx_complete(n, &u, 1), 1);
			lent += z[i].nseg;
			CHECK_EQ(lent_now(n), lent);
			frames++;
		}
		/* The frames held are still intact after more arrived. */
		for (unsigned i = 0; i < ZC_HOLD; i++) {
			uint64_t got;

			zc_gather(&z[i], rx, 9014);
			CHECK_EQ(netjob_frame_check(rx, sizes[k], sizes[k], ZC_HOLD,
						    &got), 0);
			CHECK_EQ(got, i);
		}
		ccdma_log_set_handler(quiet_log, NULL);
		/* A buffer id that is not lent, a frame with no segments, too
		 * many segments, and a good frame beside a bad one: refused,
		 * nothing given back. */
		bad[0] = z[0];
		bad[0].buf_id[0] = 1000000;
		CHECK_EQ(ccdma_vnet_recv_release(n, bad, 1), -EINVAL);
		bad[0] = z[0];
		bad[0].nseg = 0;
		CHECK_EQ(ccdma_vnet_recv_release(n, bad, 1), -EINVAL);
		bad[0].nseg = CCDMA_VNET_ZC_SEGS + 1;
		CHECK_EQ(ccdma_vnet_recv_release(n, bad, 1), -EINVAL);
		bad[0] = z[0];
		bad[1] = z[0];     /* the same frame twice in one call */
		CHECK_EQ(ccdma_vnet_recv_release(n, bad, 2), -EINVAL);
		/* A good frame, then one with no segments: the good one
		 * stays lent and can be given back later (its buffers were
		 * not left marked by the refused call). */
		bad[1].nseg = 0;
		CHECK_EQ(ccdma_vnet_recv_release(n, bad, 2), -EINVAL);
		CHECK_EQ(ccdma_vnet_recv_release(NULL, z, 1), -EINVAL);
		CHECK_EQ(lent_now(n), lent);
		ccdma_log_set_handler(NULL, NULL);
		CHECK_EQ(ccdma_vnet_recv_release(n, z, ZC_HOLD), 0);
		CHECK_EQ(lent_now(n), 0);
		/* Given back twice: refused. */
		ccdma_log_set_handler(quiet_log, NULL);
		CHECK_EQ(ccdma_vnet_recv_release(n, z, 1), -EINVAL);
		ccdma_log_set_handler(NULL, NULL);
	}
	/* recv and recv_zc mixed: the copy path still works. */
	{
		struct ccdma_vnet_pkt p = { .buf = tx, .len = 1500 };
		struct ccdma_vnet_pkt r = { .buf = rx, .cap = 9014 };
		uint64_t got;
		void *u;

		netjob_frame(tx, 1500, 3);
		CHECK_EQ(ccdma_vnet_send(n, &p, 1), 1);
		CHECK_EQ(ccdma_vnet_recv(n, &r, 1), 1);
		CHECK_EQ(netjob_frame_check(rx, r.len, 1500, 4, &got), 0);
		CHECK_EQ(got, 3);
		CHECK_EQ(ccdma_vnet_tx_complete(n, &u, 1), 1);
	}
	ccdma_vnet_get_stats(n, &st);
	CHECK_EQ(st.rx_zero_copy, frames);
	CHECK_EQ(st.rx_packets, frames + 1);
	CHECK(!ccdma_vnet_broken(n));
	ccdma_vnet_destroy(n);
	free(tx);
	free(rx);
	fnet_free(f);
}

/* A device that spreads a 1500-byte frame over SPLIT_BYTES-byte pieces
 * (38 buffers, more than CCDMA_VNET_ZC_SEGS): recv_zc drops it and counts
 * it, the device is not broken, and recv takes the same frame whole. */
static void zc_segs(void)
{
	struct fnet *f = fnet_new(CCDMA_MODE_CONFIDENTIAL);
	struct ccdma_vnet *n = make(f, 0, 0);
	uint8_t tx[1514], rx[1514];
	struct ccdma_vnet_pkt p = { .buf = tx, .len = 1500 };
	struct ccdma_vnet_pkt r = { .buf = rx, .cap = sizeof(rx) };
	struct ccdma_vnet_zc z;
	struct ccdma_vnet_stats st;
	uint64_t got;
	void *u[2];

	REQUIRE((1500 + CCDMA_VNET_HDR_LEN + SPLIT_BYTES - 1) / SPLIT_BYTES >
		CCDMA_VNET_ZC_SEGS);
	f->evil = SPLIT;
	netjob_frame(tx, 1500, 0);
	CHECK_EQ(ccdma_vnet_send(n, &p, 1), 1);
	CHECK_EQ(ccdma_vnet_recv_zc(n, &z, 1), 0);
	ccdma_vnet_get_stats(n, &st);
	CHECK_EQ(st.rx_oversize, 1);
	CHECK_EQ(st.rx_lent, 0);
	netjob_frame(tx, 1500, 1);
	CHECK_EQ(ccdma_vnet_send(n, &p, 1), 1);
	CHECK_EQ(ccdma_vnet_recv(n, &r, 1), 1);
	CHECK_EQ(netjob_frame_check(rx, r.len, 1500, 2, &got), 0);
	CHECK_EQ(got, 1);
	CHECK_EQ(ccdma_vnet_tx_complete(n, u, 2), 2);
	CHECK(!ccdma_vnet_broken(n));
	ccdma_vnet_destroy(n);
	fnet_free(f);
}

/* A socket that accepts and never speaks vhost-user: connect times out
 * with a clear error, nothing hangs. */
static void not_vhost(void)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct ccdma_vhost_config c;
	struct ccdma_vhost *h = NULL;
	char dir[] = "/tmp/ccdma-nv-XXXXXX";
	int s = socket(AF_UNIX, SOCK_STREAM, 0);

	REQUIRE(s >= 0 && mkdtemp(dir));
	snprintf(a.sun_path, sizeof(a.sun_path), "%s/s", dir);
	REQUIRE(bind(s, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(s, 4) == 0);
	ccdma_vhost_config_init(&c);
	c.socket_path = a.sun_path;
	c.queues_per_unit = 2;
	c.reply_timeout_ms = 300;
	CHECK_EQ(ccdma_vhost_connect(&c, &h), -ETIMEDOUT);
	c.queues_per_unit = 3;
	CHECK_EQ(ccdma_vhost_connect(&c, &h), -EINVAL);
	CHECK(h == NULL);
	close(s);
	unlink(a.sun_path);
	rmdir(dir);
}

int main(int argc, char **argv)
{
	const char *c = argc > 1 ? argv[1] : "";

	test_init();
	if (!strcmp(c, "echo-conf"))
		echo(CCDMA_MODE_CONFIDENTIAL, 0);
	else if (!strcmp(c, "echo-direct"))
		echo(CCDMA_MODE_DIRECT, 0);
	else if (!strcmp(c, "echo-nomrg"))
		echo(CCDMA_MODE_CONFIDENTIAL, 1ull << CCDMA_VIRTIO_NET_F_MRG_RXBUF);
	else if (!strcmp(c, "bad-input"))
		bad_input();
	else if (!strcmp(c, "zc"))
		zc(64, 0);
	else if (!strcmp(c, "zc-nospare"))
		zc(0, 0);
	else if (!strcmp(c, "zc-nomrg"))
		zc(16, 1ull << CCDMA_VIRTIO_NET_F_MRG_RXBUF);
	else if (!strcmp(c, "zc-segs"))
		zc_segs();
	else if (!strcmp(c, "mq"))
		mq();
	else if (!strcmp(c, "mq-ack-err"))
		mq_bad(ACK_ERR, 2, 2, -ENOTSUP, "refused 2 queue pairs");
	else if (!strcmp(c, "mq-ack-bad"))
		mq_bad(ACK_BAD, 2, 2, -ENODEV, "neither OK nor ERR");
	else if (!strcmp(c, "mq-ack-len"))
		mq_bad(ACK_LEN, 2, 2, -ENODEV, "length");
	else if (!strcmp(c, "mq-no-answer"))
		mq_bad(NO_ANSWER, 2, 2, -ENODEV, "no answer");
	else if (!strcmp(c, "mq-pairs-0"))
		mq_bad(OK, 0, 2, -ENOTSUP, "max_virtqueue_pairs 0 is unusable");
	else if (!strcmp(c, "mq-pairs-huge"))
		mq_bad(OK, 0x8001, 2, -ENOTSUP,
		       "max_virtqueue_pairs 32769 is unusable");
	else if (!strcmp(c, "mq-pairs-few"))
		mq_bad(OK, 2, 3, -ENOTSUP, "3 queue pairs asked, the device has 2");
	else if (!strcmp(c, "nb-high"))
		hostile(NB_HIGH, "num_buffers", false);
	else if (!strcmp(c, "nb-nomrg"))
		hostile(NB_NOMRG, "num_buffers", true);
	else if (!strcmp(c, "len-over"))
		hostile(LEN_OVER, "beyond the buffer posted", false);
	else if (!strcmp(c, "len-short"))
		hostile(LEN_SHORT, "shorter than the header", false);
	else if (!strcmp(c, "id-range"))
		hostile(ID_RANGE, "used id out of range", false);
	else if (!strcmp(c, "tx-double"))
		hostile(TX_DOUBLE, "not in flight", false);
	else if (!strcmp(c, "csum"))
		hostile(CSUM, "offload", false);
	else if (!strcmp(c, "tx-len"))
		hostile(TX_LEN, "", false);
	else if (!strcmp(c, "not-vhost"))
		not_vhost();
	else {
		fprintf(stderr, "unknown case %s\n", c);
		return 1;
	}
	return test_done("virtio_net_hostile");
}
