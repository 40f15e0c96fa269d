/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: virtio-blk feature negotiation and config space
 * (src/virtio/blk.c ccdma_vblk_create, read_config, size_limits).
 *
 * The input is the device: the feature bits it offers, its queue count and
 * largest queue size, its whole config space (capacity, blk_size,
 * seg_max, size_max, num_queues, discard and write-zeroes limits), a
 * second config space it switches to after a chosen number of reads (a
 * config that changes while the driver reads it), and which config read
 * or set_features fails and how.  Then, on a driver that came up, a few
 * requests run against the honest fake device (tests/virtio_fake_dev.h)
 * with a small RAM disk.
 *
 * Invariants (a violation traps):
 *   - create returns only its documented errors (0, -EINVAL, -ENOTSUP,
 *     -ENOMEM, -ENODEV); a failed create leaves nothing behind;
 *   - the accepted features are offered ones, VERSION_1 among them, and
 *     never ACCESS_PLATFORM or RING_PACKED; set_features was called once,
 *     with them;
 *   - every value in ccdma_vblk_info is sane: blk_size a power of two in
 *     512..65536, capacity * 512 no overflow, 1 <= seg_max, 512 <=
 *     size_max <= 4 MiB, 512 <= max_request <= 4 MiB and a multiple of
 *     512 and of the block size when it fits, a chain fits the ring,
 *     1 <= queues <= 16 and <= what the device and transport have, a
 *     power-of-two ring within the device's maximum, discard and
 *     write-zeroes only with limits above 0;
 *   - requests beyond the capacity are refused (-EINVAL), a write to a
 *     read-only device is -EROFS, a flush without the feature
 *     -EOPNOTSUPP, and what is written reads back;
 *   - after destroy the pool holds nothing of the driver's and the
 *     ownership checker reported nothing.
 */
#include "fuzz_fakedev.h"

#define DISK_MAX (64u << 10)

static struct {
	struct fake_dev fd;
	uint8_t cfg2[CCDMA_VBLK_CFG_SIZE];
	unsigned reads, switch_at, fail_at;
	int fail_rc;
	int set_features_rc;
	unsigned max_queues_tp;
	unsigned qmax_tp;
} C;

static int c_get_config(void *ctx, uint32_t off, void *buf, uint32_t len)
{
	unsigned n = C.reads++;

	if (n == C.switch_at)
		memcpy(C.fd.cfg, C.cfg2, sizeof(C.cfg2));
	if (n == C.fail_at)
		return C.fail_rc;
	return fake_get_config(ctx, off, buf, len);
}

static int c_set_features(void *ctx, uint64_t f)
{
	int rc = fake_set_features(ctx, f);

	return rc ? rc : C.set_features_rc;
}

static unsigned c_max_queues(void *ctx)
{
	(void)ctx;
	return C.max_queues_tp;
}

static unsigned c_max_queue_size(void *ctx, unsigned q)
{
	(void)ctx;
	(void)q;
	return C.qmax_tp;
}

static const struct ccdma_virtio_transport_ops c_ops = {
	.dma_dev = fake_dma_dev,
	.device_features = fake_device_features,
	.set_features = c_set_features,
	.get_config = c_get_config,
	.max_queues = c_max_queues,
	.max_queue_size = c_max_queue_size,
	.queue_start = fake_queue_start,
	.notify = fake_notify,
	.wait = fake_wait,
	.fail = fake_fail,
	.broken = fake_broken,
};

static const int errs[] = { 0, -EIO, -EOPNOTSUPP, -EINVAL, -ENODEV, -ENOMEM,
			    -EMFILE, -E2BIG };

static bool pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

static void check_info(const struct ccdma_vblk_info *in, uint64_t offered,
		       const uint8_t *cfg_seen)
{
	uint64_t wanted_never = 1ull << CCDMA_VIRTIO_F_ACCESS_PLATFORM |
				1ull << CCDMA_VIRTIO_F_RING_PACKED;
	unsigned chain;

	FZ_CHECK(!(in->features & ~offered), "features %#llx not offered",
		 (unsigned long long)(in->features & ~offered));
	FZ_CHECK(in->features & (1ull << CCDMA_VIRTIO_F_VERSION_1), "VERSION_1");
	FZ_CHECK(!(in->features & wanted_never), "ACCESS_PLATFORM/RING_PACKED");
	FZ_CHECK(C.fd.set_features_calls == 1 && C.fd.acked == in->features,
		 "set_features: %u calls, acked %#llx, info %#llx",
		 C.fd.set_features_calls, (unsigned long long)C.fd.acked,
		 (unsigned long long)in->features);
	FZ_CHECK(pow2(in->blk_size) && in->blk_size >= 512 &&
		 in->blk_size <= 65536, "blk_size %u", in->blk_size);
	if (!(in->features & (1ull << CCDMA_VIRTIO_BLK_F_BLK_SIZE)))
		FZ_CHECK(in->blk_size == 512, "blk_size without the feature");
	FZ_CHECK(in->capacity <= UINT64_MAX / 512, "capacity %llu",
		 (unsigned long long)in->capacity);
	FZ_CHECK(in->seg_max >= 1, "seg_max 0");
	FZ_CHECK(in->size_max >= 512 && in->size_max <= (4u << 20),
		 "size_max %u", in->size_max);
	FZ_CHECK(in->max_request >= 512 && in->max_request <= (4u << 20) &&
		 in->max_request % 512 == 0, "max_request %u", in->max_request);
	FZ_CHECK((uint64_t)in->seg_max * in->size_max >= in->max_request,
		 "seg_max %u x size_max %u < max_request %u", in->seg_max,
		 in->size_max, in->max_request);
	if (in->max_request >= in->blk_size)
		FZ_CHECK(in->max_request % in->blk_size == 0,
			 "max_request %u not whole blocks of %u",
			 in->max_request, in->blk_size);
	chain = in->seg_max + 2;
	FZ_CHECK(chain <= in->queue_size, "a chain of %u in a ring of %u",
		 chain, in->queue_size);
	FZ_CHECK(in->num_queues >= 1 && in->num_queues <= 16 &&
		 in->num_queues <= in->device_queues &&
		 in->device_queues <= C.max_queues_tp,
		 "queues %u of %u (transport %u)", in->num_queues,
		 in->device_queues, C.max_queues_tp);
	FZ_CHECK(pow2(in->queue_size) && in->queue_size >= 4 &&
		 in->queue_size <= CCDMA_VRING_MAX_NUM && in->queue_size <= C.qmax_tp,
		 "queue size %u (device max %u)", in->queue_size, C.qmax_tp);
	FZ_CHECK(!in->discard || in->max_discard_sectors >= 1, "discard limit");
	FZ_CHECK(!in->write_zeroes || in->max_write_zeroes_sectors >= 1,
		 "write-zeroes limit");
	FZ_CHECK(!in->discard || (in->features & (1ull << CCDMA_VIRTIO_BLK_F_DISCARD)),
		 "discard without the feature");
	FZ_CHECK(!in->write_zeroes ||
		 (in->features & (1ull << CCDMA_VIRTIO_BLK_F_WRITE_ZEROES)),
		 "write-zeroes without the feature");
	FZ_CHECK(in->read_only == !!(in->features & (1ull << CCDMA_VIRTIO_BLK_F_RO)),
		 "read-only");
	FZ_CHECK(in->flush == !!(in->features & (1ull << CCDMA_VIRTIO_BLK_F_FLUSH)),
		 "flush");
	/* The values are the device's, as it gave them while read. */
	(void)cfg_seen;
}

/* A few requests on the honest device. */
static void run_io(struct ccdma_vblk *b, const struct ccdma_vblk_info *in,
		   struct fz_in *inp)
{
	static uint8_t w[8192], r[8192];
	uint64_t sec;
	size_t len;
	unsigned i;
	int rc;

	len = (1 + fz_u8(inp) % 16) * 512u;
	sec = fz_u8(inp);
	for (i = 0; i < len; i++)
		w[i] = (uint8_t)(i * 13 + sec);
	rc = ccdma_vblk_write(b, sec, w, len);
	if (sec > in->capacity || len / 512 > in->capacity - sec) {
		FZ_CHECK(rc == -EINVAL || (in->read_only && rc == -EROFS),
			 "write beyond capacity: %d", rc);
		FZ_CHECK(ccdma_vblk_read(b, sec, r, len) == -EINVAL,
			 "read beyond capacity");
	} else if (in->read_only) {
		FZ_CHECK(rc == -EROFS, "write to a read-only device: %d", rc);
	} else if ((sec + len / 512) * 512 <= C.fd.disk_bytes) {
		FZ_CHECK(rc == 0, "write: %d", rc);
		memset(r, 0, len);
		rc = ccdma_vblk_read(b, sec, r, len);
		FZ_CHECK(rc == 0 && !memcmp(r, w, len), "read back: %d", rc);
	} else {
		/* Past the RAM disk: the device says IOERR. */
		FZ_CHECK(rc == -EIO, "write past the disk: %d", rc);
	}
	rc = ccdma_vblk_flush(b);
	FZ_CHECK(in->flush ? rc == 0 : rc == -EOPNOTSUPP, "flush: %d", rc);
	if (!in->read_only) {
		rc = ccdma_vblk_discard(b, 0, 1);
		FZ_CHECK(in->discard ? (rc == 0 || rc == -EIO || rc == -EINVAL)
				     : rc == -EOPNOTSUPP, "discard: %d", rc);
	}
	FZ_CHECK(!ccdma_vblk_broken(b), "an honest device broken");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	struct ccdma_vblk_config cfg;
	struct ccdma_vblk_info info;
	struct ccdma_vblk *b = NULL;
	uint64_t offered, before, cap, disk;
	uint8_t cfg_seen[CCDMA_VBLK_CFG_SIZE];
	unsigned c;
	int rc;

	fz_global_init();
	memset(&C, 0, sizeof(C));
	offered = fz_u64(&in);
	c = fz_u8(&in);
	/* Mostly a device the driver can take: VERSION_1 set. */
	if (c & 1)
		offered |= 1ull << CCDMA_VIRTIO_F_VERSION_1;
	C.max_queues_tp = c & 2 ? fz_u8(&in) % 20 : 1 + fz_u8(&in) % 4;
	C.qmax_tp = c & 4 ? fz_u16(&in) : 4u << (fz_u8(&in) % 7);
	before = fz_in_use();
	fz_fake_init(&C.fd, offered, C.max_queues_tp > FAKE_MAXQ ? FAKE_MAXQ :
		     C.max_queues_tp, C.qmax_tp, 0);
	C.fd.t.ops = &c_ops;
	if (c & 8)
		fz_bytes(&in, C.fd.cfg, sizeof(C.fd.cfg));
	memcpy(C.cfg2, C.fd.cfg, sizeof(C.cfg2));
	if (c & 16)
		fz_bytes(&in, C.cfg2, sizeof(C.cfg2));
	C.switch_at = c & 16 ? fz_u8(&in) % 16 : ~0u;
	C.fail_at = c & 32 ? fz_u8(&in) % 16 : ~0u;
	C.fail_rc = errs[fz_u8(&in) % 8];
	C.set_features_rc = c & 64 ? errs[fz_u8(&in) % 8] : 0;
	if (c & 128)
		C.fd.no_config = true;
	/* The RAM disk behind the (first) capacity, at most 64 KiB. */
	cap = ccdma_get_le64(C.fd.cfg + CCDMA_VBLK_CFG_CAPACITY);
	disk = cap < DISK_MAX / 512 ? cap * 512 : DISK_MAX;
	C.fd.disk_bytes = disk;
	C.fd.disk = calloc(1, disk ? disk : 1);
	FZ_CHECK(C.fd.disk, "no memory");

	ccdma_vblk_config_init(&cfg);
	c = fz_u8(&in);
	cfg.num_queues = c % 18;
	cfg.queue_size = c & 0x80 ? 4u << (fz_u8(&in) % 8) : 0;
	cfg.sync_timeout_ms = 60000;
	rc = ccdma_vblk_create(&C.fd.t, &cfg, &b);
	FZ_CHECK(rc == 0 || rc == -EINVAL || rc == -ENOTSUP || rc == -ENOMEM ||
		 rc == -ENODEV, "create: undocumented error %d", rc);
	FZ_TRACE("create: %d\n", rc);
	if (rc) {
		FZ_CHECK(!b, "create failed but set *out");
	} else {
		memcpy(cfg_seen, C.fd.cfg, sizeof(cfg_seen));
		ccdma_vblk_get_info(b, &info);
		check_info(&info, offered, cfg_seen);
		FZ_CHECK(cfg.num_queues <= 16, "num_queues");
		if (cfg.num_queues)
			FZ_CHECK(info.num_queues <= cfg.num_queues, "queues");
		FZ_CHECK(info.queue_size <= (cfg.queue_size ? cfg.queue_size : 256),
			 "queue size %u, asked %u", info.queue_size, cfg.queue_size);
		/* Only now is the device honest: the first config stays. */
		run_io(b, &info, &in);
		ccdma_vblk_destroy(b);
	}
	fz_check_released(before);
	free(C.fd.disk);
	fz_fake_fini(&C.fd);
	return 0;
}
