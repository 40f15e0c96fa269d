/* SPDX-License-Identifier: MIT */
/*
 * ccdma-devsim serves virtio-blk requests correctly: writes at several
 * sectors and sizes (one segment, several, an indirect table, a batch with
 * one kick) read back byte for byte; FLUSH, GET_ID, DISCARD and
 * WRITE_ZEROES do what the spec says; out-of-range and misaligned requests
 * get IOERR, unknown types UNSUPP; used lengths count the bytes written
 * into device-writable buffers.  Two passes: a RAM disk with EVENT_IDX
 * and ADD_MEM_REG, a file disk without EVENT_IDX over SET_MEM_TABLE whose
 * image is then checked with pread.  Data outlives a connection.
 */
#include <fcntl.h>
#include <sys/wait.h>

#include "test.h"
#include "devsim_client.h"

#define DISK (16u << 20)
#define SECTORS (DISK / 512u)

struct io {
	uint64_t sector;
	uint32_t len;
	unsigned nseg;
	bool indirect;
};

static const struct io ios[] = {
	{ 0, 512, 1, false },
	{ 1, 4096, 1, false },
	{ 100, 8192, 3, false },
	{ 2047, 512, 1, false },
	{ 5000, 128u << 10, 4, false },
	{ 9000, 64u << 10, 16, true },
	{ 12000, 4096, 1, true },
	{ SECTORS - 1, 512, 1, false },
};
#define NIOS (sizeof(ios) / sizeof(ios[0]))

static uint8_t pattern(unsigned i, uint32_t k)
{
	return (uint8_t)(i * 131u + k * 7u + (k >> 9) + 1u);
}

static void fill(struct dc *c, uint64_t off, unsigned i, uint32_t len)
{
	uint32_t k;

	for (k = 0; k < len; k++)
		c->mem[DC_DATA + off + k] = pattern(i, k);
}

static bool check(struct dc *c, uint64_t off, unsigned i, uint32_t len)
{
	uint32_t k;

	for (k = 0; k < len; k++)
		if (c->mem[DC_DATA + off + k] != pattern(i, k)) {
			fprintf(stderr, "io %u: byte %u is %#x, expected %#x\n", i,
				k, c->mem[DC_DATA + off + k], pattern(i, k));
			return false;
		}
	return true;
}

static bool all_zero(const uint8_t *p, size_t len)
{
	size_t k;

	for (k = 0; k < len; k++)
		if (p[k])
			return false;
	return true;
}

/* DISCARD / WRITE_ZEROES with one range; the range sits in the data area. */
static int dwz(struct dc *c, uint32_t type, uint64_t sector, uint32_t num,
	       uint32_t flags)
{
	struct ccdma_vblk_dwz *r = (struct ccdma_vblk_dwz *)(void *)(c->mem + DC_DATA);
	uint64_t hoff = DC_HDRS + 63 * 32;
	struct ccdma_vblk_hdr *h = (struct ccdma_vblk_hdr *)(void *)(c->mem + hoff);
	struct dc_seg s[3];
	uint16_t target;

	r->sector = ccdma_cpu_to_le64(sector);
	r->num_sectors = ccdma_cpu_to_le32(num);
	r->flags = ccdma_cpu_to_le32(flags);
	h->type = ccdma_cpu_to_le32(type);
	h->reserved = ccdma_cpu_to_le32(0);
	h->sector = ccdma_cpu_to_le64(0);
	c->mem[hoff + 16] = 0xee;
	s[0] = (struct dc_seg){ dc_gpa(hoff), 16, false };
	s[1] = (struct dc_seg){ dc_gpa(DC_DATA), sizeof(*r), false };
	s[2] = (struct dc_seg){ dc_gpa(hoff + 16), 1, true };
	dc_post(c, s, 3, false);
	target = c->avail_idx;
	dc_kick(c);
	if (dc_wait(c, target, 5000) < 0)
		return -1;
	c->used_seen = target;
	CHECK_EQ(ccdma_le32_to_cpu(dc_used_elem(c, (uint16_t)(target - 1)).len), 1);
	return c->mem[hoff + 16];
}

static void check_config(struct dc *c)
{
	struct ccdma_vu_config cfg;
	uint64_t v;

	memset(&cfg, 0, sizeof(cfg));
	cfg.offset = 0;
	cfg.size = CCDMA_VBLK_CFG_SIZE;
	REQUIRE(dc_send(c, CCDMA_VU_GET_CONFIG, 0, &cfg,
			CCDMA_VU_CONFIG_HDR + CCDMA_VBLK_CFG_SIZE, NULL, 0) == 0);
	memset(&cfg, 0xff, sizeof(cfg));
	REQUIRE(dc_recv(c, CCDMA_VU_GET_CONFIG, &cfg,
			CCDMA_VU_CONFIG_HDR + CCDMA_VBLK_CFG_SIZE) == 0);
	CHECK_EQ(cfg.size, CCDMA_VBLK_CFG_SIZE);
	CHECK_EQ(ccdma_get_le64(cfg.payload + CCDMA_VBLK_CFG_CAPACITY), SECTORS);
	CHECK_EQ(ccdma_get_le32(cfg.payload + CCDMA_VBLK_CFG_SIZE_MAX), 65536);
	CHECK_EQ(ccdma_get_le32(cfg.payload + CCDMA_VBLK_CFG_SEG_MAX), 126);
	CHECK_EQ(ccdma_get_le32(cfg.payload + CCDMA_VBLK_CFG_BLK_SIZE), 512);
	CHECK_EQ(ccdma_get_le16(cfg.payload + CCDMA_VBLK_CFG_NUM_QUEUES), 1);
	CHECK(ccdma_get_le32(cfg.payload + CCDMA_VBLK_CFG_MAX_DISCARD_SEG) >= 1);
	CHECK(ccdma_get_le32(cfg.payload + CCDMA_VBLK_CFG_MAX_WZ_SECTORS) >= 256);
	REQUIRE(dc_get_u64(c, CCDMA_VU_GET_QUEUE_NUM, &v) == 0);
	CHECK_EQ(v, 1);
	REQUIRE(dc_get_u64(c, CCDMA_VU_GET_MAX_MEM_SLOTS, &v) == 0);
	CHECK(v >= 8);
}

static const uint64_t want = 1ull << CCDMA_VIRTIO_F_INDIRECT_DESC |
			     1ull << CCDMA_VIRTIO_BLK_F_SIZE_MAX |
			     1ull << CCDMA_VIRTIO_BLK_F_SEG_MAX |
			     1ull << CCDMA_VIRTIO_BLK_F_BLK_SIZE |
			     1ull << CCDMA_VIRTIO_BLK_F_FLUSH |
			     1ull << CCDMA_VIRTIO_BLK_F_DISCARD |
			     1ull << CCDMA_VIRTIO_BLK_F_WRITE_ZEROES;

static void run(struct dc *c, bool event_idx)
{
	uint32_t used;
	unsigned i;
	uint16_t target;
	int calls;

	CHECK_EQ(!!(c->features & (1ull << CCDMA_VIRTIO_F_EVENT_IDX)), event_idx);
	CHECK_EQ(c->features & want, want);
	check_config(c);

	/* Write, then read back into a cleared buffer. */
	for (i = 0; i < NIOS; i++) {
		const struct io *io = &ios[i];

		fill(c, 0, i, io->len);
		CHECK_EQ(dc_blk(c, CCDMA_VBLK_T_OUT, io->sector, 0, io->len,
				io->nseg, io->indirect, &used), CCDMA_VBLK_S_OK);
		CHECK_EQ(used, 1);
	}
	for (i = 0; i < NIOS; i++) {
		const struct io *io = &ios[i];

		memset(c->mem + DC_DATA, 0, io->len);
		CHECK_EQ(dc_blk(c, CCDMA_VBLK_T_IN, io->sector, 0, io->len,
				io->nseg, io->indirect, &used), CCDMA_VBLK_S_OK);
		CHECK_EQ(used, io->len + 1);
		CHECK(check(c, 0, i, io->len));
	}

	/* Never written: zeros. */
	memset(c->mem + DC_DATA, 0xaa, 4096);
	CHECK_EQ(dc_blk(c, CCDMA_VBLK_T_IN, 20000, 0, 4096, 2, false, &used),
		 CCDMA_VBLK_S_OK);
	CHECK(all_zero(c->mem + DC_DATA, 4096));

	/* A batch: eight writes, one kick; then read them back. */
	for (i = 0; i < 8; i++) {
		uint64_t hoff = DC_HDRS + (uint64_t)i * 32;
		struct ccdma_vblk_hdr *h = (void *)(c->mem + hoff);
		struct dc_seg s[3];

		fill(c, (uint64_t)i * 4096, 100 + i, 4096);
		h->type = ccdma_cpu_to_le32(CCDMA_VBLK_T_OUT);
		h->reserved = ccdma_cpu_to_le32(0);
		h->sector = ccdma_cpu_to_le64(30000 + 8 * (uint64_t)i);
		c->mem[hoff + 16] = 0xee;
		s[0] = (struct dc_seg){ dc_gpa(hoff), 16, false };
		s[1] = (struct dc_seg){ dc_gpa(DC_DATA + (uint64_t)i * 4096), 4096,
					false };
		s[2] = (struct dc_seg){ dc_gpa(hoff + 16), 1, true };
		dc_post(c, s, 3, false);
	}
	target = c->avail_idx;
	dc_kick(c);
	calls = dc_wait(c, target, 5000);
	CHECK(calls >= 1);
	c->used_seen = target;
	for (i = 0; i < 8; i++)
		CHECK_EQ(c->mem[DC_HDRS + i * 32 + 16], CCDMA_VBLK_S_OK);
	c->next_hdr = 8;
	memset(c->mem + DC_DATA, 0, 8 * 4096);
	for (i = 0; i < 8; i++) {
		CHECK_EQ(dc_blk(c, CCDMA_VBLK_T_IN, 30000 + 8 * (uint64_t)i,
				(uint64_t)i * 4096, 4096, 1, false, &used),
			 CCDMA_VBLK_S_OK);
		CHECK(check(c, (uint64_t)i * 4096, 100 + i, 4096));
	}

	CHECK_EQ(dc_blk(c, CCDMA_VBLK_T_FLUSH, 0, 0, 0, 0, false, &used),
		 CCDMA_VBLK_S_OK);
	CHECK_EQ(used, 1);

	memset(c->mem + DC_DATA, 0xaa, CCDMA_VBLK_ID_BYTES);
	CHECK_EQ(dc_blk(c, CCDMA_VBLK_T_GET_ID, 0, 0, CCDMA_VBLK_ID_BYTES, 1,
			false, &used), CCDMA_VBLK_S_OK);
	CHECK_EQ(used, CCDMA_VBLK_ID_BYTES + 1);
	CHECK(memcmp(c->mem + DC_DATA, "ccdma-devsim", 12) == 0);
	CHECK(all_zero(c->mem + DC_DATA + 12, CCDMA_VBLK_ID_BYTES - 12));

	/* WRITE_ZEROES over io 2 (sectors 100..115), DISCARD over io 4. */
	CHECK_EQ(dwz(c, CCDMA_VBLK_T_WRITE_ZEROES, 100, 16, 0), CCDMA_VBLK_S_OK);
	memset(c->mem + DC_DATA, 0xaa, 8192);
	CHECK_EQ(dc_blk(c, CCDMA_VBLK_T_IN, 100, 0, 8192, 1, false, &used),
		 CCDMA_VBLK_S_OK);
	CHECK(all_zero(c->mem + DC_DATA, 8192));
	CHECK_EQ(dwz(c, CCDMA_VBLK_T_DISCARD, 5000, 256, 0), CCDMA_VBLK_S_OK);
	memset(c->mem + DC_DATA, 0xaa, 128u << 10);
	CHECK_EQ(dc_blk(c, CCDMA_VBLK_T_IN, 5000, 0, 128u << 10, 2, false, &used),
		 CCDMA_VBLK_S_OK);
	CHECK(all_zero(c->mem + DC_DATA, 128u << 10));
	/* Write-zeroes may unmap; discard with the unmap bit is UNSUPP. */
	CHECK_EQ(dwz(c, CCDMA_VBLK_T_WRITE_ZEROES, 9000, 8, 1), CCDMA_VBLK_S_OK);
	CHECK_EQ(dwz(c, CCDMA_VBLK_T_DISCARD, 9000, 8, 1), CCDMA_VBLK_S_UNSUPP);
	CHECK_EQ(dwz(c, CCDMA_VBLK_T_WRITE_ZEROES, SECTORS - 4, 8, 0),
		 CCDMA_VBLK_S_IOERR);
	/* io 5 outside the zeroed sectors is intact. */
	memset(c->mem + DC_DATA, 0, 64u << 10);
	CHECK_EQ(dc_blk(c, CCDMA_VBLK_T_IN, 9000, 0, 64u << 10, 1, false, &used),
		 CCDMA_VBLK_S_OK);
	CHECK(all_zero(c->mem + DC_DATA, 4096));
	for (i = 4096; i < (64u << 10); i++)
		if (c->mem[DC_DATA + i] != pattern(5, i))
			break;
	CHECK_EQ(i, 64u << 10);

	/* Out of range, misaligned, unknown. */
	CHECK_EQ(dc_blk(c, CCDMA_VBLK_T_IN, SECTORS, 0, 512, 1, false, &used),
		 CCDMA_VBLK_S_IOERR);
	CHECK_EQ(used, 1);
	CHECK_EQ(dc_blk(c, CCDMA_VBLK_T_OUT, SECTORS - 1, 0, 1024, 1, false, &used),
		 CCDMA_VBLK_S_IOERR);
	CHECK_EQ(dc_blk(c, CCDMA_VBLK_T_IN, 1ull << 60, 0, 512, 1, false, &used),
		 CCDMA_VBLK_S_IOERR);
	CHECK_EQ(dc_blk(c, CCDMA_VBLK_T_IN, 0, 0, 100, 1, false, &used),
		 CCDMA_VBLK_S_IOERR);
	CHECK_EQ(dc_blk(c, 99, 0, 0, 0, 0, false, &used), CCDMA_VBLK_S_UNSUPP);
	CHECK_EQ(used, 1);
}

/* After a fresh connection, io 0 and io 7 are still there. */
static void reconnect(const char *sock, unsigned opts)
{
	struct dc c;
	uint32_t used;

	REQUIRE(dc_setup(&c, sock, want, opts) == 0);
	memset(c.mem + DC_DATA, 0, 512);
	CHECK_EQ(dc_blk(&c, CCDMA_VBLK_T_IN, ios[7].sector, 0, 512, 1, false,
			&used), CCDMA_VBLK_S_OK);
	CHECK(check(&c, 0, 7, 512));
	dc_close(&c);
}

static int stopped_cleanly(struct backend *b)
{
	int st = backend_stop(b);

	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

int main(int argc, char **argv)
{
	const char *ram_args[] = { "--size", "16m", "--quiet", NULL };
	const char *file_args[] = { "--size", "16m", "--quiet", "--file", NULL,
				    NULL };
	char image[128];
	struct backend b;
	struct dc c;
	unsigned i;
	int fd;

	test_init();
	backend_require("ccdma-devsim", argc > 2 ? argv[2] : NULL);

	/* RAM disk, EVENT_IDX, ADD_MEM_REG. */
	REQUIRE(backend_start_devsim(&b, argv[2], ram_args) == 0);
	REQUIRE(dc_setup(&c, b.sock, want, DC_EVENT_IDX) == 0);
	run(&c, true);
	dc_close(&c);
	reconnect(b.sock, DC_EVENT_IDX);
	CHECK(stopped_cleanly(&b));

	/* File disk, no EVENT_IDX, SET_MEM_TABLE; the image holds the data. */
	snprintf(image, sizeof(image), "/tmp/ccdma-devsim-rw-%d.img", (int)getpid());
	unlink(image);
	file_args[4] = image;
	REQUIRE(backend_start_devsim(&b, argv[2], file_args) == 0);
	REQUIRE(dc_setup(&c, b.sock, want, DC_TABLE) == 0);
	run(&c, false);
	dc_close(&c);
	reconnect(b.sock, DC_TABLE);
	CHECK(stopped_cleanly(&b));
	fd = open(image, O_RDONLY);
	REQUIRE(fd >= 0);
	{
		struct stat st;
		uint8_t buf[4096];

		CHECK(fstat(fd, &st) == 0 && st.st_size == DISK);
		for (i = 0; i < NIOS; i++) {
			uint32_t len = ios[i].len < sizeof(buf) ? ios[i].len
								: sizeof(buf);
			uint32_t k;

			/* ios 2 and 4 were zeroed afterwards. */
			if (i == 2 || i == 4 || i == 5)
				continue;
			CHECK(pread(fd, buf, len, (off_t)(ios[i].sector * 512)) ==
			      (ssize_t)len);
			for (k = 0; k < len; k++)
				if (buf[k] != pattern(i, k))
					break;
			CHECK_EQ(k, len);
		}
		CHECK(pread(fd, buf, 4096, 100 * 512) == 4096);
		CHECK(all_zero(buf, 4096));
	}
	close(fd);
	unlink(image);

	/* Read-only, no DISCARD: writes fail, reads work, discard is not
	 * a request the driver may make. */
	{
		const char *ro_args[] = { "--size", "16m", "--quiet", "--read-only",
					  "--no-discard", NULL };
		uint32_t used;

		REQUIRE(backend_start_devsim(&b, argv[2], ro_args) == 0);
		REQUIRE(dc_setup(&c, b.sock, want | 1ull << CCDMA_VIRTIO_BLK_F_RO,
				 0) == 0);
		CHECK(c.features & (1ull << CCDMA_VIRTIO_BLK_F_RO));
		CHECK(!(c.features & (1ull << CCDMA_VIRTIO_BLK_F_DISCARD)));
		CHECK_EQ(dc_blk(&c, CCDMA_VBLK_T_OUT, 0, 0, 4096, 1, false, &used),
			 CCDMA_VBLK_S_IOERR);
		CHECK_EQ(used, 1);
		CHECK_EQ(dc_blk(&c, CCDMA_VBLK_T_IN, 0, 0, 4096, 1, false, &used),
			 CCDMA_VBLK_S_OK);
		CHECK_EQ(used, 4097);
		CHECK_EQ(dwz(&c, CCDMA_VBLK_T_WRITE_ZEROES, 0, 8, 0),
			 CCDMA_VBLK_S_IOERR);
		CHECK_EQ(dwz(&c, CCDMA_VBLK_T_DISCARD, 0, 8, 0),
			 CCDMA_VBLK_S_UNSUPP);
		dc_close(&c);
		CHECK(stopped_cleanly(&b));
	}
	return test_done("devsim_rw");
}
