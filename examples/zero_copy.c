/* SPDX-License-Identifier: MIT */
/*
 * Zero copy between two devices: a virtio-blk read lands in a shared
 * buffer that a virtio-net device then sends from, with no copy in
 * between and no bounce on either side.
 *
 * Both devices are vhost-user back-ends (ccdma-devsim for the disk,
 * ccdma-devsim --net, an echo device, for the network) connected over ONE
 * pool of shared memory (ccdma_vhost_config.pool).  The buffer is an
 * allocation of that pool, made a dmabuf attached (pinned) to both
 * devices: the attach checks that each device reaches it as shared memory,
 * and the pin keeps it in place while they use it.  ccdma_vblk_read()
 * and ccdma_vnet_send() map it with the dma layer, which hands memory
 * already in the device's pool over as it is: no bounce.
 *
 * ONLY FOR DATA THE CALLER MAY DISCLOSE.  Shared memory is visible to the
 * host: this is for ciphertext or public data, never for secrets.  Here
 * the disk holds 16 ready-made frames (an Ethernet header and bytes that
 * stand for ciphertext).
 *
 * What it checks, and exits 1 if not:
 *   - the pool made no bounce copy (counts and bytes, both directions)
 *     while the disk was read into the buffer and the frames were sent;
 *   - every frame the peer received and sent back (the echo device)
 *     equals the disk's bytes, read again afterwards into private memory;
 *     that read does bounce (64 KiB counted): the counters count, and
 *     they counted nothing before.
 *
 * Build: cc zero_copy.c $(pkg-config --cflags --libs ccdma)
 * Run:   ccdma-devsim --socket /tmp/blk.sock --once &
 *        ccdma-devsim --net --socket /tmp/net.sock --once &
 *        ./zero_copy /tmp/blk.sock /tmp/net.sock
 */
#include <ccdma/dmabuf.h>
#include <ccdma/vhost.h>
#include <ccdma/virtio_blk.h>
#include <ccdma/virtio_net.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define FRAMES 16
#define FRAME 4096u                  /* bytes per frame, header included */
#define BYTES (FRAMES * FRAME)        /* 64 KiB: the buffer, and the disk */
#define REGION (4u << 20)

static int fail(const char *what, int rc)
{
	fprintf(stderr, "zero_copy: %s: %s\n", what, strerror(-rc));
	return 1;
}

static uint64_t copies(const struct ccdma_pool_stats *s)
{
	return s->bounce_copies_to_device + s->bounce_copies_from_device +
	       s->bounced_to_device_bytes + s->bounced_from_device_bytes;
}

/* The frames the disk holds: a broadcast Ethernet header from the echo
 * device's MAC, EtherType 0x88b5 (local experimental), then bytes that
 * stand for ciphertext (a simple generator: any bytes do). */
static void make_frames(unsigned char *p)
{
	static const unsigned char hdr[14] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0x52, 0x54, 0x00, 0xcc, 0xd0, 0x02, 0x88, 0xb5 };
	uint32_t x = 0x2545f491u;

	for (unsigned f = 0; f < FRAMES; f++) {
		memcpy(p + f * FRAME, hdr, sizeof(hdr));
		for (unsigned i = sizeof(hdr); i < FRAME; i++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			p[f * FRAME + i] = (unsigned char)x;
		}
	}
}

/* Send the FRAMES frames straight from buf and take back their echoes in
 * place (recv_zc); what came back is written to rx (the peer's record) and
 * its length to rxlen.  Returns the frames received, or a negative errno. */
static int send_and_receive(struct ccdma_vnet *n, const unsigned char *buf,
			    unsigned char *rx, uint32_t *rxlen)
{
	static struct ccdma_vnet_zc zc[FRAMES];
	struct ccdma_vnet_pkt pkt[FRAMES];
	unsigned sent = 0, done = 0, got = 0;
	void *cookie[FRAMES];
	int rc;

	for (unsigned f = 0; f < FRAMES; f++)
		pkt[f] = (struct ccdma_vnet_pkt){ .buf = (void *)(buf + f * FRAME),
						  .len = FRAME };
	while (done < FRAMES || got < FRAMES) {
		if (sent < FRAMES) {
			rc = ccdma_vnet_send(n, pkt + sent, FRAMES - sent);
			if (rc < 0 && rc != -EAGAIN)
				return rc;
			sent += rc > 0 ? (unsigned)rc : 0;
		}
		rc = ccdma_vnet_tx_complete(n, cookie, FRAMES);
		if (rc < 0)
			return rc;
		done += (unsigned)rc;
		rc = ccdma_vnet_recv_zc(n, zc, FRAMES);
		if (rc < 0)
			return rc;
		for (int i = 0; i < rc && got < FRAMES; i++, got++) {
			uint32_t off = 0;

			rxlen[got] = zc[i].len;
			for (unsigned s = 0; s < zc[i].nseg; s++) {
				uint32_t l = zc[i].seg[s].len;

				if (off + l > FRAME)
					l = off < FRAME ? FRAME - off : 0;
				memcpy(rx + got * FRAME + off, zc[i].seg[s].buf, l);
				off += l;
			}
		}
		if (rc > 0 && (rc = ccdma_vnet_recv_release(n, zc, (unsigned)rc)))
			return rc;
		if (done < FRAMES || got < FRAMES) {
			rc = ccdma_vnet_wait(n, CCDMA_VNET_EV_RX | CCDMA_VNET_EV_TX,
					     10000000000ull);
			if (rc < 0)
				return rc;
		}
	}
	return (int)got;
}

int main(int argc, char **argv)
{
	static unsigned char frames[BYTES], disk[BYTES], rx[BYTES];
	uint32_t rxlen[FRAMES];
	struct ccdma_pool_config pc;
	struct ccdma_pool_stats s0, s1, s2;
	struct ccdma_vhost_config vc;
	struct ccdma_vnet_config nc;
	struct ccdma_vnet_stats ns;
	struct ccdma_pool *pool;
	struct ccdma_vhost *hb, *hn;
	struct ccdma_vblk *blk;
	struct ccdma_vnet *net;
	struct ccdma_dmabuf *b;
	struct ccdma_dmabuf_attach *ab, *an;
	ccdma_addr_t dma_b, dma_n;
	size_t len;
	void *buf;
	unsigned differ = 0;
	int rc, bad = 0;

	if (argc != 3)
		return fprintf(stderr, "usage: zero_copy BLK_SOCKET NET_SOCKET\n"), 2;

	/* One pool for both devices, fixed in size (a network connection is
	 * never idle for the memory table to change): two 4 MiB regions. */
	ccdma_pool_config_init(&pc);
	pc.name = "zero-copy";
	pc.region_size = REGION;
	pc.initial_bytes = pc.max_bytes = 2 * REGION;
	pc.low_watermark = pc.high_watermark = 0;
	if ((rc = ccdma_pool_create(&pc, &pool)))
		return fail("pool", rc);
	ccdma_vhost_config_init(&vc);
	vc.mode = CCDMA_MODE_CONFIDENTIAL;
	vc.pool = pool;
	vc.socket_path = argv[1];
	if ((rc = ccdma_vhost_connect(&vc, &hb)))
		return fail(argv[1], rc);
	vc.socket_path = argv[2];
	vc.queues_per_unit = 2; /* virtio-net counts queue pairs */
	if ((rc = ccdma_vhost_connect(&vc, &hn)))
		return fail(argv[2], rc);
	if ((rc = ccdma_vblk_create(ccdma_vhost_transport(hb), NULL, &blk)))
		return fail("virtio-blk", rc);
	ccdma_vnet_config_init(&nc);
	nc.max_frame = FRAME;
	if ((rc = ccdma_vnet_create(ccdma_vhost_transport(hn), &nc, &net)))
		return fail("virtio-net", rc);

	/* Put the frames on the disk (from private memory: bounced). */
	make_frames(frames);
	if ((rc = ccdma_vblk_write(blk, 0, frames, BYTES)))
		return fail("disk write", rc);

	/* The shared buffer, attached to both devices. */
	if ((rc = ccdma_pool_alloc(pool, BYTES, 0, &buf)))
		return fail("buffer", rc);
	if ((rc = ccdma_dmabuf_create("zero_copy", 0, &b)) ||
	    (rc = ccdma_dmabuf_add(b, buf, BYTES)) ||
	    (rc = ccdma_dmabuf_attach(b, ccdma_vhost_dev(hb), CCDMA_DMABUF_PINNED,
				      NULL, &ab)) ||
	    (rc = ccdma_dmabuf_attach(b, ccdma_vhost_dev(hn), CCDMA_DMABUF_PINNED,
				      NULL, &an)) ||
	    (rc = ccdma_dmabuf_seg(ab, 0, &dma_b, &len)) ||
	    (rc = ccdma_dmabuf_seg(an, 0, &dma_n, &len)))
		return fail("dmabuf", rc);
	printf("buffer: %u bytes at DMA %#llx (blk) and %#llx (net)\n", BYTES,
	       (unsigned long long)dma_b, (unsigned long long)dma_n);

	/* Disk -> buffer -> wire, with no copy. */
	ccdma_pool_get_stats(pool, &s0);
	if ((rc = ccdma_vblk_read(blk, 0, buf, BYTES)))
		return fail("disk read", rc);
	rc = send_and_receive(net, buf, rx, rxlen);
	if (rc < 0)
		return fail("network", rc);
	ccdma_pool_get_stats(pool, &s1);
	printf("zero-copy phase: bounce copies to device %llu, from device %llu, "
	       "bytes %llu + %llu\n",
	       (unsigned long long)(s1.bounce_copies_to_device -
				    s0.bounce_copies_to_device),
	       (unsigned long long)(s1.bounce_copies_from_device -
				    s0.bounce_copies_from_device),
	       (unsigned long long)(s1.bounced_to_device_bytes -
				    s0.bounced_to_device_bytes),
	       (unsigned long long)(s1.bounced_from_device_bytes -
				    s0.bounced_from_device_bytes));
	if (copies(&s1) != copies(&s0)) {
		fprintf(stderr, "zero_copy: the pool bounced\n");
		bad = 1;
	}
	ccdma_vnet_get_stats(net, &ns);
	printf("network: %llu frames sent, %llu completed, %llu received in place\n",
	       (unsigned long long)ns.tx_packets,
	       (unsigned long long)ns.tx_completed,
	       (unsigned long long)ns.rx_zero_copy);
	if (ns.tx_completed != FRAMES || ns.rx_zero_copy != FRAMES)
		bad = 1;

	/* The disk again, into private memory (bounced, and counted): the
	 * echoed frames were its bytes. */
	if ((rc = ccdma_vblk_read(blk, 0, disk, BYTES)))
		return fail("disk read back", rc);
	ccdma_pool_get_stats(pool, &s2);
	printf("control: reading the disk into private memory bounced %llu "
	       "bytes\n", (unsigned long long)(s2.bounced_from_device_bytes -
					       s1.bounced_from_device_bytes));
	if (s2.bounced_from_device_bytes - s1.bounced_from_device_bytes != BYTES) {
		fprintf(stderr, "zero_copy: the control read was not counted\n");
		bad = 1;
	}
	for (unsigned f = 0; f < FRAMES; f++) {
		if (rxlen[f] != FRAME ||
		    memcmp(rx + f * FRAME, disk + f * FRAME, FRAME)) {
			fprintf(stderr, "zero_copy: frame %u came back different "
				"from the disk's bytes\n", f);
			differ++;
		}
	}
	if (memcmp(disk, frames, BYTES)) {
		fprintf(stderr, "zero_copy: the disk does not hold the frames\n");
		bad = 1;
	}
	printf("peer: %u frames received, %u differ from the disk's bytes\n",
	       FRAMES, differ);
	bad |= differ != 0;

	ccdma_dmabuf_detach(an);
	ccdma_dmabuf_detach(ab);
	ccdma_dmabuf_destroy(b);
	ccdma_pool_free(pool, buf, BYTES);
	ccdma_vnet_destroy(net);
	ccdma_vblk_destroy(blk);
	ccdma_vhost_close(hn);
	ccdma_vhost_close(hb);
	ccdma_pool_destroy(pool);
	printf("zero_copy: %s\n", bad ? "FAILED" : "ok: disk to wire, no copy");
	return bad;
}
