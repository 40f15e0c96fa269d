/* SPDX-License-Identifier: MIT */
/*
 * The cut-off at a vhost-user device's boundary (issue 16): a buffer in a
 * region the caller shared with the back-end (ccdma_vhost_attach_region)
 * is revoked; the importer never answers (or answers); either way the
 * region leaves the back-end's memory table before the revoke returns
 * (ccdma-devsim's region log has its "rem" line, or a new table without
 * it), and the back-end can no longer reach it: a read into it fails and
 * leaves its bytes as they were.  A buffer in the device's pool cannot be
 * taken away from a back-end that maps the pool: the revoke refuses the
 * attachment's calls only and the table keeps the pool's regions.  Run
 * against ccdma-devsim with memory slots and with SET_MEM_TABLE only.
 */
#include <ccdma/dmabuf.h>

#include "e2e_util.h"

#define RSIZE (256u * 1024u)
#define IO (64u * 1024u)

static void never_answers(struct ccdma_dmabuf_attach *a, void *arg)
{
	(void)a;
	(*(unsigned *)arg)++;
}

static void answers(struct ccdma_dmabuf_attach *a, void *arg)
{
	(*(unsigned *)arg)++;
	CHECK_EQ(ccdma_dmabuf_revoke_ack(a), 0);
}

/* Log lines starting with `op` that name CPU address `addr` as uaddr. */
static unsigned log_lines(const char *log, const char *op, const void *addr)
{
	char want[64], pre[16];

	snprintf(want, sizeof(want), " uaddr=0x%llx ",
		 (unsigned long long)(uintptr_t)addr);
	snprintf(pre, sizeof(pre), "%s ", op);
	return test_count_lines(log, pre, want);
}

/* Is `addr` in the connection's memory table? */
static bool in_table(struct e2e *e, const void *addr)
{
	struct ccdma_vhost_region t[64];
	unsigned n = ccdma_vhost_regions(e->h, t, 64), i;

	for (i = 0; i < n && i < 64; i++)
		if (t[i].user_addr == (uint64_t)(uintptr_t)addr)
			return true;
	return false;
}

/* Data written from the region reaches the disk; read back privately. */
static void region_io(struct e2e *e, struct ccdma_region *r, uint64_t sector,
		      uint32_t tag)
{
	uint8_t *back = malloc(IO);

	REQUIRE(back);
	e2e_fill(r->addr, IO, sector * 512, tag);
	CHECK_EQ(ccdma_vblk_write(e->b, sector, r->addr, IO), 0);
	memset(back, 0, IO);
	CHECK_EQ(ccdma_vblk_read(e->b, sector, back, IO), 0);
	CHECK(e2e_diff(r->addr, back, IO) < 0);
	free(back);
}

/* Revoke a buffer over the first IO bytes of r; then the back-end cannot
 * reach r: a read into it fails, its bytes stay. */
static void revoke_region(struct e2e *e, struct ccdma_region *r,
			  const char *log, bool answer, bool slots)
{
	struct ccdma_dmabuf_importer imp = { NULL, NULL, NULL };
	struct ccdma_dmabuf_attach *a;
	struct ccdma_dmabuf *b;
	struct ccdma_vhost_info v0, v1;
	unsigned calls = 0;
	int rc;

	imp.revoke = answer ? answers : never_answers;
	imp.arg = &calls;
	REQUIRE(ccdma_dmabuf_create("cutoff", 0, &b) == 0);
	REQUIRE(ccdma_dmabuf_add(b, r->addr, IO) == 0);
	REQUIRE(ccdma_dmabuf_attach(b, ccdma_vhost_dev(e->h),
				    CCDMA_DMABUF_REVOCABLE, &imp, &a) == 0);
	ccdma_vhost_get_info(e->h, &v0);
	CHECK(in_table(e, r->addr));
	rc = ccdma_dmabuf_revoke(b, answer ? 5000000000ull : 50000000ull);
	CHECK_EQ(rc, answer ? 0 : 1);
	CHECK_EQ(calls, 1);
	ccdma_vhost_get_info(e->h, &v1);
	CHECK_EQ(v1.regions_removed, v0.regions_removed + 1);
	CHECK(!in_table(e, r->addr));
	/* The back-end was told before the revoke returned. */
	if (slots)
		CHECK_EQ(log_lines(log, "rem", r->addr), 1);
	/* The back-end cannot reach it: the read fails, nothing written. */
	memset(r->addr, 0x5a, IO);
	CHECK_EQ(ccdma_vblk_read(e->b, 0, r->addr, IO), -EIO);
	CHECK_EQ(((uint8_t *)r->addr)[0], 0x5a);
	CHECK_EQ(((uint8_t *)r->addr)[IO - 1], 0x5a);
	CHECK(!ccdma_vblk_broken(e->b));
	CHECK_EQ(ccdma_dmabuf_detach(a), 0);
	CHECK_EQ(ccdma_dmabuf_destroy(b), 0);
}

static void run(const char *devsim, bool slots)
{
	const char *args[] = { "--size", "16m", "--log-regions", NULL,
			       slots ? NULL : "--no-mem-slots", NULL };
	struct ccdma_dmabuf_importer imp = { NULL, never_answers, NULL };
	struct ccdma_region r1, r2, r3;
	struct ccdma_dmabuf_attach *a;
	struct ccdma_vhost_info v0, v1;
	struct ccdma_dmabuf *b;
	struct backend be;
	unsigned calls = 0;
	char log[128];
	struct e2e e;
	void *m;

	printf("%s\n", slots ? "ADD/REM_MEM_REG" : "SET_MEM_TABLE");
	snprintf(log, sizeof(log), "/tmp/ccdma-vhost-cutoff-%d.log", (int)getpid());
	unlink(log);
	args[3] = log;
	REQUIRE(backend_start_devsim(&be, devsim, args) == 0);
	REQUIRE(e2e_open(&e, be.sock, CCDMA_MODE_CONFIDENTIAL, 0) == 0);
	REQUIRE(ccdma_region_create(RSIZE, "cutoff-1", &r1) == 0);
	REQUIRE(ccdma_region_create(RSIZE, "cutoff-2", &r2) == 0);
	REQUIRE(ccdma_region_create(RSIZE, "cutoff-3", &r3) == 0);

	/* Bad calls. */
	CHECK_EQ(ccdma_vhost_attach_region(NULL, &r1), -EINVAL);
	CHECK_EQ(ccdma_vhost_attach_region(e.h, NULL), -EINVAL);
	CHECK_EQ(ccdma_vhost_detach_region(e.h, &r1), -EINVAL);

	ccdma_vhost_get_info(e.h, &v0);
	REQUIRE(ccdma_vhost_attach_region(e.h, &r1) == 0);
	REQUIRE(ccdma_vhost_attach_region(e.h, &r2) == 0);
	CHECK_EQ(ccdma_vhost_attach_region(e.h, &r1), -EINVAL); /* twice */
	ccdma_vhost_get_info(e.h, &v1);
	CHECK_EQ(v1.regions_added, v0.regions_added + 2);
	CHECK(in_table(&e, r1.addr) && in_table(&e, r2.addr));
	/* Sent (each new table names every region again). */
	if (slots)
		CHECK_EQ(log_lines(log, "add", r1.addr), 1);
	else
		CHECK(log_lines(log, "table", r1.addr) >= 1);
	region_io(&e, &r1, 0, 1);
	region_io(&e, &r2, 256, 2);

	/* Never answers: cut off, r1 leaves the table. */
	revoke_region(&e, &r1, log, false, slots);
	/* Answers: r2 leaves it as well. */
	revoke_region(&e, &r2, log, true, slots);

	/* The table holds no slot for a third region beside a pool at its
	 * cap without memory slots (8 - 2 pool regions, 2 of ours). */
	if (!slots)
		CHECK_EQ(ccdma_vhost_attach_region(e.h, &r3), -ENOSPC);

	/* A buffer in the pool: refused at its calls, the pool's regions stay
	 * (the back-end maps the pool). */
	REQUIRE(ccdma_pool_alloc(ccdma_dev_pool(ccdma_vhost_dev(e.h)), IO, 0, &m) == 0);
	REQUIRE(ccdma_dmabuf_create("in-pool", 0, &b) == 0);
	REQUIRE(ccdma_dmabuf_add(b, m, IO) == 0);
	imp.arg = &calls;
	REQUIRE(ccdma_dmabuf_attach(b, ccdma_vhost_dev(e.h), CCDMA_DMABUF_REVOCABLE,
				    &imp, &a) == 0);
	ccdma_vhost_get_info(e.h, &v0);
	CHECK_EQ(ccdma_dmabuf_revoke(b, 1000000ull), 1);
	ccdma_vhost_get_info(e.h, &v1);
	CHECK_EQ(v1.regions_removed, v0.regions_removed);
	{
		ccdma_addr_t dma;
		size_t len;

		CHECK_EQ(ccdma_dmabuf_seg(a, 0, &dma, &len), -EACCES);
	}
	CHECK_EQ(ccdma_dmabuf_detach(a), 0);
	CHECK_EQ(ccdma_dmabuf_destroy(b), 0);
	CHECK_EQ(ccdma_pool_free(ccdma_dev_pool(ccdma_vhost_dev(e.h)), m, IO), 0);

	/* Detach: already out of the table, no message; then gone locally. */
	ccdma_vhost_get_info(e.h, &v0);
	CHECK_EQ(ccdma_vhost_detach_region(e.h, &r1), 0);
	CHECK_EQ(ccdma_vhost_detach_region(e.h, &r2), 0);
	CHECK_EQ(ccdma_vhost_detach_region(e.h, &r2), -EINVAL);
	ccdma_vhost_get_info(e.h, &v1);
	CHECK_EQ(v1.table_sends, v0.table_sends);
	/* Attached and detached without a revoke: removed by the detach. */
	if (slots) {
		REQUIRE(ccdma_vhost_attach_region(e.h, &r3) == 0);
		region_io(&e, &r3, 512, 3);
		CHECK_EQ(ccdma_vhost_detach_region(e.h, &r3), 0);
		CHECK(!in_table(&e, r3.addr));
		CHECK_EQ(log_lines(log, "rem", r3.addr), 1);
	}
	CHECK(!ccdma_vblk_broken(e.b));
	e2e_close(&e);
	ccdma_region_destroy(&r1);
	ccdma_region_destroy(&r2);
	ccdma_region_destroy(&r3);
	CHECK_EQ(backend_stop(&be), 0);
	unlink(log);
}

int main(int argc, char **argv)
{
	test_init();
	backend_require("ccdma-devsim", argc > 2 ? argv[2] : NULL);
	run(argv[2], true);
	run(argv[2], false);
	return test_done("dmabuf_vhost_cutoff");
}
