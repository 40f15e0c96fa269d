/* SPDX-License-Identifier: MIT */
/*
 * ccdma-devsim as a checker of the front-end: a region must not go away
 * (REM_MEM_REG, or left out of a new SET_MEM_TABLE) while a request the
 * driver posted, and the device has not taken yet, points into it.  The
 * device counts each such removal, logs it ("busy" in --log-regions) and
 * fails the request when it is taken (its memory is gone: IOERR, nothing
 * touched).  A region removed once its requests completed is not counted.
 * A new memory table while posted requests are not completed is counted
 * too ("busy-table"): a threaded back-end would pull their memory away.
 */
#include <sys/wait.h>

#include "test.h"
#include "devsim_client.h"

#define R2_GPA (DC_GPA + 0x10000000ull)
#define R2_SIZE (1u << 20)

static const char *sock, *logpath;

struct r2 {
	int fd;
	uint8_t *mem;
};

static int r2_create(struct r2 *r)
{
	r->fd = memfd_create("devsim-r2", MFD_CLOEXEC);
	if (r->fd < 0 || ftruncate(r->fd, R2_SIZE) != 0)
		return -1;
	r->mem = mmap(NULL, R2_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, 0);
	return r->mem == MAP_FAILED ? -1 : 0;
}

static void r2_free(struct r2 *r)
{
	if (r->mem && r->mem != MAP_FAILED)
		munmap(r->mem, R2_SIZE);
	if (r->fd >= 0)
		close(r->fd);
}

static struct ccdma_vu_region r2_region(const struct r2 *r)
{
	struct ccdma_vu_region x = {
		.guest_phys_addr = R2_GPA,
		.memory_size = R2_SIZE,
		.userspace_addr = (uint64_t)(uintptr_t)r->mem,
		.mmap_offset = 0,
	};
	return x;
}

/* Lines of the region log saying r2 went while in use, and that a new
 * table came while a request was posted. */
static unsigned busy_lines(void)
{
	return test_count_lines(logpath, "busy ", "gpa=0x50000000 ");
}

static unsigned busy_table_lines(void)
{
	return test_count_lines(logpath, "busy-table ring=0 posted=1", NULL);
}

/* Post (without a kick) a 4 KiB read whose data lies in r2; returns the
 * avail index that completes it. */
static uint16_t post_read_into_r2(struct dc *c)
{
	uint64_t hoff = DC_HDRS + (uint64_t)(c->next_hdr++ % 64) * 32;
	struct ccdma_vblk_hdr *h = (struct ccdma_vblk_hdr *)(void *)(c->mem + hoff);
	struct dc_seg s[3];

	h->type = ccdma_cpu_to_le32(CCDMA_VBLK_T_IN);
	h->reserved = ccdma_cpu_to_le32(0);
	h->sector = ccdma_cpu_to_le64(0);
	c->mem[hoff + 16] = 0xee;
	s[0] = (struct dc_seg){ dc_gpa(hoff), 16, false };
	s[1] = (struct dc_seg){ R2_GPA + 8192, 4096, true };
	s[2] = (struct dc_seg){ dc_gpa(hoff + 16), 1, true };
	dc_post(c, s, 3, false);
	return c->avail_idx;
}

static uint8_t last_status(struct dc *c)
{
	return c->mem[DC_HDRS + (uint64_t)((c->next_hdr - 1) % 64) * 32 + 16];
}

/* ADD/REM_MEM_REG: removing r2 with a read into it posted is counted;
 * the read then fails without touching r2; after a read completed, the
 * removal is not counted. */
static void mem_slots(void)
{
	struct dc c;
	struct r2 r = { -1, NULL };
	struct ccdma_vu_mem_reg m;
	uint16_t target;

	REQUIRE(dc_setup(&c, sock, 0, 0) == 0);
	REQUIRE(c.pfeatures & (1ull << CCDMA_VU_PF_CONFIGURE_MEM_SLOTS));
	REQUIRE(r2_create(&r) == 0);
	memset(&m, 0, sizeof(m));
	m.region = r2_region(&r);

	/* Completed first: not counted. */
	CHECK(dc_request(&c, CCDMA_VU_ADD_MEM_REG, &m, sizeof(m), &r.fd, 1) == 0);
	target = post_read_into_r2(&c);
	dc_kick(&c);
	CHECK(dc_wait(&c, target, 5000) >= 0);
	c.used_seen = target;
	CHECK_EQ(last_status(&c), CCDMA_VBLK_S_OK);
	CHECK(dc_request(&c, CCDMA_VU_REM_MEM_REG, &m, sizeof(m), &r.fd, 1) == 0);
	CHECK_EQ(busy_lines(), 0u);

	/* Posted, not taken: counted; the read fails, r2 untouched. */
	CHECK(dc_request(&c, CCDMA_VU_ADD_MEM_REG, &m, sizeof(m), &r.fd, 1) == 0);
	memset(r.mem + 8192, 0x5a, 4096);
	target = post_read_into_r2(&c);
	CHECK(dc_request(&c, CCDMA_VU_REM_MEM_REG, &m, sizeof(m), &r.fd, 1) == 0);
	CHECK_EQ(busy_lines(), 1u);
	dc_kick(&c);
	CHECK(dc_wait(&c, target, 5000) >= 0);
	c.used_seen = target;
	CHECK_EQ(last_status(&c), CCDMA_VBLK_S_IOERR);
	CHECK_EQ(r.mem[8192], 0x5a);
	CHECK_EQ(r.mem[8192 + 4095], 0x5a);
	dc_close(&c);
	r2_free(&r);
}

/* SET_MEM_TABLE without r2 while a read into it is posted: counted. */
static void table(void)
{
	struct dc c;
	struct r2 r = { -1, NULL };
	struct ccdma_vu_mem_table t;
	int fds[2];
	uint16_t target;

	REQUIRE(dc_setup(&c, sock, 0, DC_TABLE) == 0);
	REQUIRE(r2_create(&r) == 0);
	memset(&t, 0, sizeof(t));
	t.nregions = 2;
	t.regions[0] = dc_region(&c);
	t.regions[1] = r2_region(&r);
	fds[0] = c.memfd;
	fds[1] = r.fd;
	CHECK(dc_request(&c, CCDMA_VU_SET_MEM_TABLE, &t, 8 + 2 * sizeof(t.regions[0]),
			 fds, 2) == 0);
	target = post_read_into_r2(&c);
	/* The same table again: nothing goes. */
	CHECK(dc_request(&c, CCDMA_VU_SET_MEM_TABLE, &t, 8 + 2 * sizeof(t.regions[0]),
			 fds, 2) == 0);
	CHECK_EQ(busy_lines(), 1u);
	/* Both new tables came with a request posted, not completed. */
	CHECK_EQ(busy_table_lines(), 1u);
	t.nregions = 1;
	CHECK(dc_request(&c, CCDMA_VU_SET_MEM_TABLE, &t, 8 + sizeof(t.regions[0]),
			 fds, 1) == 0);
	CHECK_EQ(busy_lines(), 2u);
	CHECK_EQ(busy_table_lines(), 2u);
	dc_kick(&c);
	CHECK(dc_wait(&c, target, 5000) >= 0);
	CHECK_EQ(last_status(&c), CCDMA_VBLK_S_IOERR);
	dc_close(&c);
	r2_free(&r);
}

int main(int argc, char **argv)
{
	char log[128];
	const char *args[] = { "--size", "4m", "--log-regions", NULL, NULL };
	struct backend b;
	int st;

	test_init();
	backend_require("ccdma-devsim", argc > 2 ? argv[2] : NULL);
	snprintf(log, sizeof(log), "/tmp/ccdma-devsim-gone-%d.log", (int)getpid());
	unlink(log);
	args[3] = log;
	logpath = log;
	REQUIRE(backend_start_devsim(&b, argv[2], args) == 0);
	sock = b.sock;

	mem_slots();
	table();

	st = backend_stop(&b);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	unlink(log);
	return test_done("devsim_region_gone");
}
