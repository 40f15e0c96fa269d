/* SPDX-License-Identifier: MIT */
/*
 * Config space and negotiation at create: a device without VERSION_1, bad
 * config values (capacity that overflows, block size, seg_max, size_max,
 * num_queues, queue sizes, no config access) are refused with -ENOTSUP and
 * a message; a bad driver config with -EINVAL; oversized values are capped;
 * unusable discard / write-zeroes limits turn the feature off.  Fields
 * are checked against each other: a capacity that is not whole blocks, a
 * seg_max x size_max below one block are refused; discard / write-zeroes
 * limits below one block turn the feature off.  The config is read once:
 * a device that changes it between reads gives one consistent snapshot.
 * Nothing is leaked by a failed create.
 */
#include "virtio_fake_dev.h"

static char last_msg[256];
static unsigned nmsg;

static void grab_log(void *arg, enum ccdma_log_level l, const char *m)
{
	(void)arg;
	(void)l;
	snprintf(last_msg, sizeof(last_msg), "%s", m);
	nmsg++;
}

enum what {
	W_NONE, W_NO_V1, W_CAPACITY, W_BLK_1000, W_BLK_256, W_BLK_128K,
	W_SEG_0, W_SIZE_100, W_NQ_0, W_NQ_BIG, W_NO_CONFIG, W_QMAX_2,
	W_QMAX_ODD, W_CAP_PARTIAL, W_SEG_SIZE,
	W_DRV_QSIZE, W_DRV_NQ, W_DRV_REFUSE_V1,
};

static int try_create(enum what w, struct ccdma_vblk_info *info)
{
	struct fake_opts o;
	struct fake_dev fd;
	struct ccdma_vblk_config cfg;
	struct ccdma_vblk *b = (struct ccdma_vblk *)&fd;
	int rc;

	fake_opts_init(&o);
	o.nq = 4;
	if (w == W_NO_V1)
		o.features = fake_default_features() &
			     ~(1ull << CCDMA_VIRTIO_F_VERSION_1);
	if (w == W_QMAX_2)
		o.qmax = 2;
	if (w == W_QMAX_ODD)
		o.qmax = 96;
	fake_init(&fd, &o);
	ccdma_vblk_config_init(&cfg);
	switch (w) {
	case W_CAPACITY:
		fake_cfg64(&fd, CCDMA_VBLK_CFG_CAPACITY, UINT64_MAX / 256);
		break;
	case W_BLK_1000:
		fake_cfg32(&fd, CCDMA_VBLK_CFG_BLK_SIZE, 1000);
		break;
	case W_BLK_256:
		fake_cfg32(&fd, CCDMA_VBLK_CFG_BLK_SIZE, 256);
		break;
	case W_BLK_128K:
		fake_cfg32(&fd, CCDMA_VBLK_CFG_BLK_SIZE, 128u << 10);
		break;
	case W_SEG_0:
		fake_cfg32(&fd, CCDMA_VBLK_CFG_SEG_MAX, 0);
		break;
	case W_SIZE_100:
		fake_cfg32(&fd, CCDMA_VBLK_CFG_SIZE_MAX, 100);
		break;
	case W_NQ_0:
		fake_cfg16(&fd, CCDMA_VBLK_CFG_NUM_QUEUES, 0);
		break;
	case W_NQ_BIG:
		fake_cfg16(&fd, CCDMA_VBLK_CFG_NUM_QUEUES, 5);
		break;
	case W_NO_CONFIG:
		fd.no_config = true;
		break;
	case W_CAP_PARTIAL: /* 7 sectors of 4096-byte blocks */
		fake_cfg32(&fd, CCDMA_VBLK_CFG_BLK_SIZE, 4096);
		fake_cfg64(&fd, CCDMA_VBLK_CFG_CAPACITY, 7);
		break;
	case W_SEG_SIZE: /* one 512-byte segment, 4096-byte blocks */
		fake_cfg32(&fd, CCDMA_VBLK_CFG_BLK_SIZE, 4096);
		fake_cfg32(&fd, CCDMA_VBLK_CFG_SEG_MAX, 1);
		fake_cfg32(&fd, CCDMA_VBLK_CFG_SIZE_MAX, 512);
		break;
	case W_DRV_QSIZE:
		cfg.queue_size = 100;
		break;
	case W_DRV_NQ:
		cfg.num_queues = 17;
		break;
	case W_DRV_REFUSE_V1:
		cfg.refuse_features = 1ull << CCDMA_VIRTIO_F_VERSION_1;
		break;
	default:
		break;
	}
	nmsg = 0;
	last_msg[0] = 0;
	rc = ccdma_vblk_create(&fd.t, &cfg, &b);
	if (rc) {
		CHECK(b == NULL);
		CHECK(nmsg > 0);
		printf("  %d: %d: %s\n", (int)w, rc, last_msg);
	} else {
		ccdma_vblk_get_info(b, info);
		ccdma_vblk_destroy(b);
	}
	/* fake_fini: the dma device is destroyed with no coherent memory
	 * or mapping left behind. */
	fake_fini(&fd);
	return rc;
}

static void capped(void)
{
	struct fake_opts o;
	struct fake_dev fd;
	struct ccdma_vblk_config cfg;
	struct ccdma_vblk_info info;
	struct ccdma_vblk *b;
	uint8_t *buf = malloc(8u << 20);

	REQUIRE(buf);
	fake_opts_init(&o);
	o.qmax = 64;
	fake_init(&fd, &o);
	fake_cfg32(&fd, CCDMA_VBLK_CFG_SIZE_MAX, 1u << 30);
	fake_cfg32(&fd, CCDMA_VBLK_CFG_SEG_MAX, 100000);
	fake_cfg32(&fd, CCDMA_VBLK_CFG_BLK_SIZE, 4096);
	fake_cfg32(&fd, CCDMA_VBLK_CFG_MAX_DISCARD_SECTORS, 0);
	fake_cfg32(&fd, CCDMA_VBLK_CFG_MAX_WZ_SEG, 0);
	ccdma_vblk_config_init(&cfg);
	cfg.queue_size = 1024; /* capped to the device's 64 */
	b = fake_vblk(&fd, &cfg);
	ccdma_vblk_get_info(b, &info);
	CHECK_EQ(info.queue_size, 64);
	CHECK_EQ(info.size_max, 4u << 20);
	CHECK(info.seg_max <= 62);
	CHECK_EQ(info.max_request, 4u << 20);
	CHECK_EQ(info.blk_size, 4096);
	CHECK(!info.discard);
	CHECK(!info.write_zeroes);
	CHECK_EQ(ccdma_vblk_discard(b, 0, 8), -EOPNOTSUPP);
	CHECK_EQ(ccdma_vblk_write_zeroes(b, 0, 8, false), -EOPNOTSUPP);
	fake_pattern(buf, 8u << 20, 11);
	CHECK_EQ(ccdma_vblk_write(b, 8, buf, 8u << 20), 0);
	CHECK(memcmp(fd.disk + 8 * 512, buf, 8u << 20) == 0);
	ccdma_vblk_destroy(b);
	fake_fini(&fd);
	free(buf);
}

/* Discard / write-zeroes limits below one block turn the feature off. */
static void dwz_below_block(void)
{
	struct fake_opts o;
	struct fake_dev fd;
	struct ccdma_vblk_info info;
	struct ccdma_vblk *b;

	fake_opts_init(&o);
	fake_init(&fd, &o);
	fake_cfg32(&fd, CCDMA_VBLK_CFG_BLK_SIZE, 4096);
	fake_cfg32(&fd, CCDMA_VBLK_CFG_MAX_DISCARD_SECTORS, 7);
	fake_cfg32(&fd, CCDMA_VBLK_CFG_MAX_WZ_SECTORS, 8);
	b = fake_vblk(&fd, NULL);
	ccdma_vblk_get_info(b, &info);
	CHECK(!info.discard);
	CHECK_EQ(info.max_discard_sectors, 0);
	CHECK(info.write_zeroes);
	CHECK_EQ(info.max_write_zeroes_sectors, 8);
	ccdma_vblk_destroy(b);
	fake_fini(&fd);
}

/* The config changes after every read (fields of two devices, each
 * consistent alone): the driver takes one of them whole, never a mix. */
static void changes_while_read(void)
{
	struct fake_opts o;
	struct fake_dev fd;
	struct ccdma_vblk_info info;
	struct ccdma_vblk *b;
	uint64_t cap;

	fake_opts_init(&o);
	fake_init(&fd, &o);
	cap = o.disk_bytes / 512;
	memcpy(fd.cfg_alt, fd.cfg, sizeof(fd.cfg));
	fd.cfg_flip = true;
	/* The other device: half the capacity, 4096-byte blocks, one
	 * 4096-byte segment. */
	ccdma_put_le64(fd.cfg_alt + CCDMA_VBLK_CFG_CAPACITY, cap / 2);
	ccdma_put_le32(fd.cfg_alt + CCDMA_VBLK_CFG_BLK_SIZE, 4096);
	ccdma_put_le32(fd.cfg_alt + CCDMA_VBLK_CFG_SEG_MAX, 1);
	ccdma_put_le32(fd.cfg_alt + CCDMA_VBLK_CFG_SIZE_MAX, 4096);
	b = fake_vblk(&fd, NULL);
	ccdma_vblk_get_info(b, &info);
	CHECK_EQ(fd.config_reads, 1);
	CHECK_EQ(info.capacity, cap);
	CHECK_EQ(info.blk_size, 512);
	CHECK_EQ(info.size_max, 64u << 10);
	CHECK(info.seg_max > 1);
	ccdma_vblk_destroy(b);
	fake_fini(&fd);
}

int main(void)
{
	struct ccdma_vblk_info info;

	test_init();
	ccdma_log_set_handler(grab_log, NULL);
	CHECK_EQ(try_create(W_NONE, &info), 0);
	CHECK_EQ(info.num_queues, 4);
	CHECK_EQ(info.queue_size, 256);
	CHECK_EQ(try_create(W_NO_V1, &info), -ENOTSUP);
	CHECK_EQ(try_create(W_CAPACITY, &info), -ENOTSUP);
	CHECK_EQ(try_create(W_BLK_1000, &info), -ENOTSUP);
	CHECK_EQ(try_create(W_BLK_256, &info), -ENOTSUP);
	CHECK_EQ(try_create(W_BLK_128K, &info), -ENOTSUP);
	CHECK_EQ(try_create(W_SEG_0, &info), -ENOTSUP);
	CHECK_EQ(try_create(W_SIZE_100, &info), -ENOTSUP);
	CHECK_EQ(try_create(W_NQ_0, &info), -ENOTSUP);
	CHECK_EQ(try_create(W_NQ_BIG, &info), -ENOTSUP);
	CHECK_EQ(try_create(W_NO_CONFIG, &info), -ENOTSUP);
	CHECK_EQ(try_create(W_QMAX_2, &info), -ENOTSUP);
	CHECK_EQ(try_create(W_QMAX_ODD, &info), -ENOTSUP);
	CHECK_EQ(try_create(W_CAP_PARTIAL, &info), -ENOTSUP);
	CHECK(strstr(last_msg, "not a whole number of 4096-byte blocks"));
	CHECK_EQ(try_create(W_SEG_SIZE, &info), -ENOTSUP);
	CHECK(strstr(last_msg, "cannot carry one 4096-byte block"));
	CHECK_EQ(try_create(W_DRV_QSIZE, &info), -EINVAL);
	CHECK_EQ(try_create(W_DRV_NQ, &info), -EINVAL);
	CHECK_EQ(try_create(W_DRV_REFUSE_V1, &info), -EINVAL);
	CHECK(ccdma_vblk_create(NULL, NULL, NULL) == -EINVAL);
	/* No device: info and stats read as zeros, NULL outputs are no-ops. */
	{
		struct ccdma_vblk_stats st;

		memset(&info, 0x5a, sizeof(info));
		memset(&st, 0x5a, sizeof(st));
		ccdma_vblk_get_info(NULL, &info);
		ccdma_vblk_get_stats(NULL, &st);
		CHECK_EQ(info.capacity, 0);
		CHECK_EQ(info.num_queues, 0);
		CHECK_EQ(info.slot_size, 0);
		CHECK_EQ(st.submitted, 0);
		CHECK_EQ(st.slot_bytes, 0);
		ccdma_vblk_get_info(NULL, NULL);
		ccdma_vblk_get_stats(NULL, NULL);
	}
	capped();
	dwz_below_block();
	changes_while_read();
	ccdma_log_set_handler(NULL, NULL);
	return test_done("virtio_blk_config");
}
