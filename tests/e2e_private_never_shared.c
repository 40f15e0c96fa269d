/* SPDX-License-Identifier: MIT */
/*
 * The device process is never sent a region that is not shared: private
 * buffers (heap, a large mmap-backed heap block, stack, static data) carry
 * I/O in confidential mode while the pool grows under load (regions added
 * while running, where the back-end has memory slots), and then
 *   - ccdma-devsim's own log of every region it mapped (--log-regions),
 *     with ADD_MEM_REG and with SET_MEM_TABLE, and
 *   - the front-end's memory table for qemu-storage-daemon
 * hold only memfd regions inside the pool's range, none overlapping a
 * private buffer.
 */
#include "e2e_util.h"

struct range {
	uint64_t lo, hi; /* [lo, hi) */
};

static struct range priv[8];
static unsigned npriv;
static uint8_t static_buf[65536];

static void add_priv(const void *p, size_t len)
{
	priv[npriv].lo = (uint64_t)(uintptr_t)p;
	priv[npriv].hi = priv[npriv].lo + len;
	npriv++;
}

static bool overlaps_private(uint64_t lo, uint64_t size)
{
	for (unsigned i = 0; i < npriv; i++)
		if (lo < priv[i].hi && priv[i].lo < lo + size)
			return true;
	return false;
}

/* Write and read back each private buffer. */
static void io_private(struct e2e *e, uint8_t *stack_buf, size_t stack_len,
		       uint8_t *heap, uint8_t *big, size_t big_len)
{
	uint8_t *bufs[] = { stack_buf, static_buf, heap, big };
	/* 8 MiB of the big block: one synchronous request must fit the pool
	 * even when SET_MEM_TABLE caps it at 24 MiB. */
	size_t lens[] = { stack_len, sizeof(static_buf), 1u << 20,
			  big_len < (8u << 20) ? big_len : (8u << 20) };
	uint8_t *back = malloc(big_len);

	REQUIRE(back);
	for (unsigned i = 0; i < 4; i++) {
		e2e_fill(bufs[i], lens[i], i << 20, 40 + i);
		CHECK_EQ(ccdma_vblk_write(e->b, (uint64_t)i << 15, bufs[i], lens[i]), 0);
		CHECK_EQ(ccdma_vblk_read(e->b, (uint64_t)i << 15, back, lens[i]), 0);
		CHECK(e2e_diff(bufs[i], back, lens[i]) < 0);
	}
	free(back);
}

/* 24 writes of 1 MiB from the big private block in flight at once: more
 * bounce memory than the pool starts with (8 MiB), so regions are added
 * while requests run.  -ENOMEM means the grower has not caught up yet. */
static void io_grow(struct e2e *e, uint8_t *big)
{
	enum { N = 24 };
	struct ccdma_vblk_req req[N];
	unsigned done = 0, posted = 0, tries = 0;

	while (done < N) {
		while (posted < N) {
			struct ccdma_vblk_req *r = &req[posted];
			int rc;

			memset(r, 0, sizeof(*r));
			r->op = CCDMA_VBLK_WRITE;
			r->sector = 100000 + 2048ull * posted;
			r->buf = big + ((size_t)posted << 20);
			r->len = 1u << 20;
			r->done = e2e_count_done;
			r->user = &done;
			rc = ccdma_vblk_submit(e->b, 0, r);
			if (rc == -ENOMEM || rc == -EAGAIN) {
				struct timespec ts = { 0, 2000000 };

				REQUIRE(++tries < 5000);
				nanosleep(&ts, NULL);
				break;
			}
			CHECK_EQ(rc, 0);
			REQUIRE(rc == 0);
			posted++;
		}
		if (posted > done)
			REQUIRE(ccdma_vblk_wait(e->b, 0, 10ull * 1000000000ull) > 0 ||
				done == posted);
	}
	for (unsigned i = 0; i < N; i++)
		CHECK_EQ(req[i].status, 0);
}

/* Check one region the device was given. */
static void check_region(struct e2e *e, const char *what, uint64_t gpa,
			 uint64_t size, uint64_t uaddr)
{
	ccdma_addr_t first, last;

	CHECK_EQ(ccdma_dev_pool_dma_range(ccdma_vhost_dev(e->h), &first, &last), 0);
	if (gpa < first || size == 0 || gpa + size - 1 > last || uaddr != gpa) {
		fprintf(stderr, "%s region gpa %#llx size %#llx uaddr %#llx is not "
				"inside the pool [%#llx, %#llx]\n", what,
			(unsigned long long)gpa, (unsigned long long)size,
			(unsigned long long)uaddr, (unsigned long long)first,
			(unsigned long long)last);
		CHECK(0);
	}
	if (overlaps_private(gpa, size) || overlaps_private(uaddr, size)) {
		fprintf(stderr, "%s region gpa %#llx size %#llx holds private "
				"memory\n", what, (unsigned long long)gpa,
			(unsigned long long)size);
		CHECK(0);
	}
}

/* Every region ccdma-devsim logged; returns how many were added. */
static unsigned check_log(struct e2e *e, const char *path, const char *kind)
{
	char line[512];
	unsigned n = 0;
	FILE *f = fopen(path, "r");

	REQUIRE(f);
	while (fgets(line, sizeof(line), f)) {
		char op[16], file[256];
		unsigned long long gpa, size, uaddr, off;

		if (sscanf(line, "%15s gpa=%llx size=%llx uaddr=%llx mmap_offset=%llx "
				 "file=%255s", op, &gpa, &size, &uaddr, &off, file) != 6) {
			fprintf(stderr, "unparsed log line: %s", line);
			CHECK(0);
			continue;
		}
		CHECK(strstr(file, "memfd:") != NULL);
		CHECK_EQ(off, 0);
		if (!strcmp(op, kind)) {
			check_region(e, kind, gpa, size, uaddr);
			n++;
		} else {
			CHECK(!strcmp(op, "rem"));
		}
	}
	fclose(f);
	return n;
}

static void run_devsim(const char *devsim, bool slots, uint8_t *stack_buf,
		       size_t stack_len, uint8_t *heap, uint8_t *big, size_t big_len)
{
	struct backend b;
	struct e2e e;
	char log[192];
	struct ccdma_vhost_info vi;
	unsigned added;

	REQUIRE(backend_prepare(&b) == 0);
	snprintf(log, sizeof(log), "%s/regions.log", b.dir);
	{
		char *argv[] = { (char *)devsim, (char *)"--socket", b.sock,
				 (char *)"--size", (char *)"256m", (char *)"--quiet",
				 (char *)"--log-regions", log,
				 slots ? NULL : (char *)"--no-mem-slots", NULL };

		REQUIRE(backend_spawn(&b, argv) == 0);
	}
	REQUIRE(e2e_open(&e, b.sock, CCDMA_MODE_CONFIDENTIAL, 0) == 0);
	io_private(&e, stack_buf, stack_len, heap, big, big_len);
	io_grow(&e, big);
	ccdma_vhost_get_info(e.h, &vi);
	/* It grew while running: by ADD_MEM_REG, or by a new table each
	 * time (docs/vhost.md). */
	CHECK(vi.regions_added >= 2);
	if (!slots)
		CHECK_EQ(vi.table_sends, vi.regions_added + vi.regions_removed);
	/* The log is complete for every region sent before this point. */
	added = check_log(&e, log, slots ? "add" : "table");
	if (slots)
		CHECK_EQ(added, vi.regions_added);
	else
		CHECK(added >= vi.regions_added);
	printf("devsim (%s): %u region(s) logged, %llu added by the pool\n",
	       slots ? "ADD_MEM_REG" : "SET_MEM_TABLE", added,
	       (unsigned long long)vi.regions_added);
	e2e_close(&e);
	CHECK_EQ(backend_stop(&b), 0);
	unlink(log);
}

int main(int argc, char **argv)
{
	uint8_t stack_buf[8192];
	size_t big_len = 24u << 20;
	uint8_t *heap = malloc(1u << 20), *big = malloc(big_len);
	struct ccdma_vhost_region tab[64];
	struct backend b;
	struct e2e e;
	unsigned n;

	test_init();
	backend_require("ccdma-devsim", argc > 2 ? argv[2] : NULL);
	REQUIRE(heap && big);
	add_priv(stack_buf, sizeof(stack_buf));
	add_priv(static_buf, sizeof(static_buf));
	add_priv(heap, 1u << 20);
	add_priv(big, big_len);

	run_devsim(argv[2], true, stack_buf, sizeof(stack_buf), heap, big, big_len);
	run_devsim(argv[2], false, stack_buf, sizeof(stack_buf), heap, big, big_len);

	/* qemu-storage-daemon: the table the front-end sent it. */
	if (argv[1] && *argv[1] && access(argv[1], X_OK) == 0) {
		REQUIRE(backend_start_qsd(&b, argv[1], 1, 256ull << 20, 1) == 0);
		REQUIRE(e2e_open(&e, b.sock, CCDMA_MODE_CONFIDENTIAL, 0) == 0);
		io_private(&e, stack_buf, sizeof(stack_buf), heap, big, big_len);
		io_grow(&e, big);
		n = ccdma_vhost_regions(e.h, tab, 64);
		CHECK(n >= 2);
		for (unsigned i = 0; i < n && i < 64; i++)
			check_region(&e, "qsd", tab[i].guest_phys_addr, tab[i].size,
				     tab[i].user_addr);
		printf("qemu-storage-daemon: %u region(s) in the table\n", n);
		e2e_close(&e);
		CHECK_EQ(backend_stop(&b), 0);
	}
	free(heap);
	free(big);
	return test_done("e2e_private_never_shared");
}
