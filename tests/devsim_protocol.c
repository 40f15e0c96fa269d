/* SPDX-License-Identifier: MIT */
/*
 * ccdma-devsim treats the front-end as a peer it does not trust: a
 * malformed message (wrong payload size, unknown request, bad flags, a
 * 9-region memory table, fds that do not match, queue indices out of
 * range) closes the connection; a well-formed request it cannot honour
 * (overlapping regions, a region its file cannot back, SET_CONFIG) is
 * refused with a non-zero REPLY_ACK and the connection stays; a descriptor
 * outside every region fails its request with IOERR; a chain that loops or
 * names descriptors out of range closes the connection.  After every bad
 * connection the device still serves a good one, and it exits 0 on
 * SIGTERM.  --log-regions records exactly the regions that were sent.
 */
#include <fcntl.h>
#include <sys/wait.h>

#include "test.h"
#include "devsim_client.h"

static const char *sock;

/* A good connection still works: one read of sector 0. */
static void expect_alive(const char *what)
{
	struct dc c;
	uint32_t used = 0;

	if (dc_setup(&c, sock, 0, 0) != 0) {
		fprintf(stderr, "after %s: device does not serve\n", what);
		test_failures++;
		dc_close(&c);
		return;
	}
	if (dc_blk(&c, CCDMA_VBLK_T_IN, 0, 0, 512, 1, false, &used) !=
	    CCDMA_VBLK_S_OK || used != 513) {
		fprintf(stderr, "after %s: read failed\n", what);
		test_failures++;
	}
	dc_close(&c);
}

static void expect_closed(struct dc *c, const char *what)
{
	if (!dc_closed(c, 3000)) {
		fprintf(stderr, "%s: connection not closed\n", what);
		test_failures++;
	}
	dc_close(c);
	expect_alive(what);
}

/* The connection is still up: GET_FEATURES answers. */
static bool still_up(struct dc *c)
{
	uint64_t f = 0;

	return dc_get_u64(c, CCDMA_VU_GET_FEATURES, &f) == 0 &&
	       (f & (1ull << CCDMA_VIRTIO_F_VERSION_1));
}

/* Connected, owner set, REPLY_ACK (unless ack is false), memory not yet. */
static void bare(struct dc *c, bool ack)
{
	uint64_t pf;

	REQUIRE(dc_connect(c, sock) == 0);
	REQUIRE(dc_mem_create(c) == 0);
	REQUIRE(dc_send(c, CCDMA_VU_SET_OWNER, 0, NULL, 0, NULL, 0) == 0);
	REQUIRE(dc_get_u64(c, CCDMA_VU_GET_PROTOCOL_FEATURES, &pf) == 0);
	pf &= 1ull << CCDMA_VU_PF_CONFIG | 1ull << CCDMA_VU_PF_MQ |
	      1ull << CCDMA_VU_PF_CONFIGURE_MEM_SLOTS |
	      (ack ? 1ull << CCDMA_VU_PF_REPLY_ACK : 0);
	REQUIRE(dc_set_u64(c, CCDMA_VU_SET_PROTOCOL_FEATURES, pf, NULL, 0) == 0);
	c->pfeatures = pf;
}

static void malformed_messages(void)
{
	struct ccdma_vu_mem_table t;
	struct ccdma_vu_region r;
	uint8_t big[300];
	struct dc c;
	uint64_t v = 0;
	int fds[8], i;

	bare(&c, true);
	CHECK(dc_send(&c, CCDMA_VU_SET_FEATURES, 0, &v, 4, NULL, 0) == 0);
	expect_closed(&c, "SET_FEATURES with 4 bytes");

	bare(&c, true);
	CHECK(dc_send(&c, 99, 0, NULL, 0, NULL, 0) == 0);
	expect_closed(&c, "unknown request 99");

	bare(&c, true);
	CHECK(dc_send(&c, CCDMA_VU_GET_FEATURES, 0, &v, 8, NULL, 0) == 0);
	expect_closed(&c, "GET_FEATURES with a payload");

	bare(&c, true);
	CHECK(dc_send(&c, CCDMA_VU_SET_OWNER, CCDMA_VU_VERSION | CCDMA_VU_FLAG_REPLY,
		      NULL, 0, NULL, 0) == 0);
	expect_closed(&c, "REPLY flag from the front-end");

	bare(&c, true);
	CHECK(dc_send(&c, CCDMA_VU_SET_OWNER, 2, NULL, 0, NULL, 0) == 0);
	expect_closed(&c, "version 2");

	bare(&c, true);
	memset(big, 0, sizeof(big));
	CHECK(dc_send(&c, CCDMA_VU_SET_CONFIG, 0, big, sizeof(big), NULL, 0) == 0);
	expect_closed(&c, "oversized SET_CONFIG");

	/* 9 regions: more than SET_MEM_TABLE carries. */
	bare(&c, true);
	memset(big, 0, sizeof(big));
	memcpy(big, &(uint32_t){ 9 }, 4);
	r = dc_region(&c);
	for (i = 0; i < 9; i++) {
		r.guest_phys_addr = DC_GPA + (uint64_t)i * DC_MEM_SIZE;
		memcpy(big + 8 + i * 32, &r, sizeof(r));
	}
	for (i = 0; i < 8; i++)
		fds[i] = c.memfd;
	CHECK(dc_send(&c, CCDMA_VU_SET_MEM_TABLE, 0, big, 8 + 9 * 32, fds, 8) == 0);
	expect_closed(&c, "SET_MEM_TABLE with 9 regions");

	/* Two regions, one fd. */
	bare(&c, true);
	memset(&t, 0, sizeof(t));
	t.nregions = 2;
	t.regions[0] = dc_region(&c);
	t.regions[1] = dc_region(&c);
	t.regions[1].guest_phys_addr += DC_MEM_SIZE;
	CHECK(dc_send(&c, CCDMA_VU_SET_MEM_TABLE, 0, &t, 8 + 2 * 32, &c.memfd,
		      1) == 0);
	expect_closed(&c, "SET_MEM_TABLE with a missing fd");

	/* ADD_MEM_REG without its fd. */
	bare(&c, true);
	{
		struct ccdma_vu_mem_reg m = { 0, dc_region(&c) };

		CHECK(dc_send(&c, CCDMA_VU_ADD_MEM_REG, 0, &m, sizeof(m), NULL,
			      0) == 0);
	}
	expect_closed(&c, "ADD_MEM_REG without an fd");

	/* A header promising 8 bytes, then the front-end goes away. */
	bare(&c, true);
	{
		struct ccdma_vu_hdr h = { CCDMA_VU_SET_FEATURES, 1, 8 };
		uint8_t buf[16];

		memcpy(buf, &h, sizeof(h));
		memset(buf + 12, 0, 4);
		CHECK(send(c.sock, buf, 16, MSG_NOSIGNAL) == 16);
	}
	dc_close(&c);
	expect_alive("truncated payload");
}

static void bad_ring_setup(void)
{
	struct ccdma_vu_vring_state st;
	struct dc c;
	int64_t r;

	REQUIRE(dc_setup(&c, sock, 0, DC_NO_RING) == 0);
	st.index = 16;
	st.num = 64;
	CHECK(dc_send(&c, CCDMA_VU_SET_VRING_NUM, 0, &st, sizeof(st), NULL, 0) == 0);
	expect_closed(&c, "SET_VRING_NUM on queue 16");

	REQUIRE(dc_setup(&c, sock, 0, DC_NO_RING) == 0);
	st.index = 0;
	st.num = 48;
	r = dc_request(&c, CCDMA_VU_SET_VRING_NUM, &st, sizeof(st), NULL, 0);
	CHECK(r != 0);
	expect_closed(&c, "SET_VRING_NUM 48");

	REQUIRE(dc_setup(&c, sock, 0, DC_NO_RING) == 0);
	st.num = 2048;
	CHECK(dc_request(&c, CCDMA_VU_SET_VRING_NUM, &st, sizeof(st), NULL, 0) != 0);
	expect_closed(&c, "SET_VRING_NUM above --queue-size");

	REQUIRE(dc_setup(&c, sock, 0, DC_NO_RING) == 0);
	c.kick = eventfd(0, EFD_CLOEXEC);
	CHECK(dc_set_u64(&c, CCDMA_VU_SET_VRING_KICK, 5, &c.kick, 1) != 0);
	expect_closed(&c, "SET_VRING_KICK on queue 5");

	REQUIRE(dc_setup(&c, sock, 0, DC_NO_RING) == 0);
	c.kick = eventfd(0, EFD_CLOEXEC);
	CHECK(dc_set_u64(&c, CCDMA_VU_SET_VRING_KICK, CCDMA_VU_VRING_NOFD, &c.kick,
			 1) != 0);
	expect_closed(&c, "SET_VRING_KICK with NOFD and an fd");

	REQUIRE(dc_setup(&c, sock, 0, DC_NO_RING) == 0);
	CHECK(dc_set_u64(&c, CCDMA_VU_SET_FEATURES,
			 1ull << CCDMA_VIRTIO_F_ACCESS_PLATFORM, NULL, 0) != 0);
	/* Refused with an ack: the connection stays. */
	CHECK(still_up(&c));
	dc_close(&c);
}

static void memory_refusals(void)
{
	struct ccdma_vu_mem_table t;
	struct dc c;

	/* Overlapping regions, REPLY_ACK: refused, connection stays. */
	bare(&c, true);
	memset(&t, 0, sizeof(t));
	t.nregions = 2;
	t.regions[0] = dc_region(&c);
	t.regions[1] = dc_region(&c);
	t.regions[1].guest_phys_addr += DC_MEM_SIZE / 2;
	t.regions[1].memory_size = DC_MEM_SIZE / 2;
	{
		int fds[2] = { c.memfd, c.memfd };

		CHECK(dc_request(&c, CCDMA_VU_SET_MEM_TABLE, &t, 8 + 2 * 32, fds,
				 2) > 0);
	}
	CHECK(still_up(&c));
	dc_close(&c);

	/* Same without REPLY_ACK: the front-end cannot be told, so closed. */
	bare(&c, false);
	{
		int fds[2] = { c.memfd, c.memfd };

		CHECK(dc_request(&c, CCDMA_VU_SET_MEM_TABLE, &t, 8 + 2 * 32, fds,
				 2) == 0);
	}
	expect_closed(&c, "overlapping SET_MEM_TABLE without REPLY_ACK");

	/* ADD_MEM_REG overlapping, then one larger than its memfd. */
	REQUIRE(dc_setup(&c, sock, 0, DC_NO_RING) == 0);
	{
		struct ccdma_vu_mem_reg m = { 0, dc_region(&c) };

		m.region.guest_phys_addr += 4096;
		CHECK(dc_request(&c, CCDMA_VU_ADD_MEM_REG, &m, sizeof(m), &c.memfd,
				 1) > 0);
		m.region.guest_phys_addr = DC_GPA + 2 * (uint64_t)DC_MEM_SIZE;
		m.region.memory_size = 2 * (uint64_t)DC_MEM_SIZE;
		CHECK(dc_request(&c, CCDMA_VU_ADD_MEM_REG, &m, sizeof(m), &c.memfd,
				 1) > 0);
		/* Removing a region that is not there. */
		m.region.memory_size = 4096;
		CHECK(dc_request(&c, CCDMA_VU_REM_MEM_REG, &m, sizeof(m), NULL,
				 0) > 0);
	}
	CHECK(still_up(&c));
	/* SET_CONFIG is refused politely. */
	{
		struct ccdma_vu_config cfg;

		memset(&cfg, 0, sizeof(cfg));
		cfg.offset = CCDMA_VBLK_CFG_CAPACITY;
		cfg.size = 8;
		CHECK(dc_request(&c, CCDMA_VU_SET_CONFIG, &cfg, CCDMA_VU_CONFIG_HDR + 8,
				 NULL, 0) > 0);
	}
	CHECK(still_up(&c));
	dc_close(&c);
	expect_alive("memory refusals");
}

/* A raw chain of descriptors 0..n-1 as given, head 0, then a kick. */
static void post_raw(struct dc *c, uint16_t head)
{
	dc_avail(c)->ring[c->avail_idx % c->num] = ccdma_cpu_to_le16(head);
	c->avail_idx++;
	__atomic_store_n(&dc_avail(c)->idx.raw,
			 ccdma_cpu_to_le16(c->avail_idx).raw, __ATOMIC_RELEASE);
	dc_kick(c);
}

static void bad_requests(void)
{
	struct ccdma_vblk_hdr *h;
	struct ccdma_vring_desc *d;
	struct dc c;
	uint32_t used;
	uint8_t *status;

	/* Data outside every region: IOERR, then the ring goes on. */
	REQUIRE(dc_setup(&c, sock, 0, 0) == 0);
	h = (void *)(c.mem + DC_HDRS);
	status = c.mem + DC_HDRS + 16;
	h->type = ccdma_cpu_to_le32(CCDMA_VBLK_T_IN);
	h->reserved = ccdma_cpu_to_le32(0);
	h->sector = ccdma_cpu_to_le64(0);
	*status = 0xee;
	d = dc_desc(&c);
	dc_set_desc(&c, &d[0], dc_gpa(DC_HDRS), 16, CCDMA_VRING_DESC_F_NEXT, 1);
	dc_set_desc(&c, &d[1], 0x1000, 512,
		    CCDMA_VRING_DESC_F_NEXT | CCDMA_VRING_DESC_F_WRITE, 2);
	dc_set_desc(&c, &d[2], dc_gpa(DC_HDRS + 16), 1, CCDMA_VRING_DESC_F_WRITE, 0);
	post_raw(&c, 0);
	CHECK(dc_wait(&c, c.avail_idx, 3000) >= 0);
	CHECK_EQ(*status, CCDMA_VBLK_S_IOERR);
	CHECK_EQ(ccdma_le32_to_cpu(dc_used_elem(&c, 0).len), 1);
	/* Straddling the end of the region. */
	*status = 0xee;
	dc_set_desc(&c, &d[1], DC_GPA + DC_MEM_SIZE - 256, 512,
		    CCDMA_VRING_DESC_F_NEXT | CCDMA_VRING_DESC_F_WRITE, 2);
	post_raw(&c, 0);
	CHECK(dc_wait(&c, c.avail_idx, 3000) >= 0);
	CHECK_EQ(*status, CCDMA_VBLK_S_IOERR);
	/* No status byte at all: a zero-length completion. */
	dc_set_desc(&c, &d[0], dc_gpa(DC_HDRS), 16, 0, 0);
	post_raw(&c, 0);
	CHECK(dc_wait(&c, c.avail_idx, 3000) >= 0);
	CHECK_EQ(ccdma_le32_to_cpu(dc_used_elem(&c, 2).len), 0);
	/* The ring still serves; GET_VRING_BASE reports what it took. */
	c.used_seen = c.avail_idx;
	c.next_desc = 8;
	CHECK_EQ(dc_blk(&c, CCDMA_VBLK_T_IN, 0, 0, 512, 1, false, &used),
		 CCDMA_VBLK_S_OK);
	{
		struct ccdma_vu_vring_state st = { 0, 0 };

		CHECK(dc_send(&c, CCDMA_VU_GET_VRING_BASE, 0, &st, sizeof(st),
			      NULL, 0) == 0);
		CHECK(dc_recv(&c, CCDMA_VU_GET_VRING_BASE, &st, sizeof(st)) == 0);
		CHECK_EQ(st.index, 0);
		CHECK_EQ(st.num, 4);
	}
	dc_close(&c);

	/* A loop: 0 -> 1 -> 0. */
	REQUIRE(dc_setup(&c, sock, 0, 0) == 0);
	d = dc_desc(&c);
	dc_set_desc(&c, &d[0], dc_gpa(DC_HDRS), 16, CCDMA_VRING_DESC_F_NEXT, 1);
	dc_set_desc(&c, &d[1], dc_gpa(DC_DATA), 512, CCDMA_VRING_DESC_F_NEXT, 0);
	post_raw(&c, 0);
	expect_closed(&c, "descriptor loop");

	/* A head out of range. */
	REQUIRE(dc_setup(&c, sock, 0, 0) == 0);
	post_raw(&c, 200);
	expect_closed(&c, "head 200 on a ring of 64");

	/* next out of range. */
	REQUIRE(dc_setup(&c, sock, 0, 0) == 0);
	d = dc_desc(&c);
	dc_set_desc(&c, &d[0], dc_gpa(DC_HDRS), 16, CCDMA_VRING_DESC_F_NEXT, 64);
	post_raw(&c, 0);
	expect_closed(&c, "next 64 on a ring of 64");

	/* The avail index a whole ring ahead. */
	REQUIRE(dc_setup(&c, sock, 0, 0) == 0);
	c.avail_idx = 100;
	post_raw(&c, 0);
	expect_closed(&c, "avail index 101 ahead");

	/* Indirect without the feature. */
	REQUIRE(dc_setup(&c, sock, 0, 0) == 0);
	d = dc_desc(&c);
	dc_set_desc(&c, &d[0], dc_gpa(DC_INDIRECT), 48, CCDMA_VRING_DESC_F_INDIRECT,
		    0);
	post_raw(&c, 0);
	expect_closed(&c, "unnegotiated indirect");

	/* Nested indirect. */
	REQUIRE(dc_setup(&c, sock, 1ull << CCDMA_VIRTIO_F_INDIRECT_DESC, 0) == 0);
	d = dc_desc(&c);
	dc_set_desc(&c, &d[0], dc_gpa(DC_INDIRECT), 32, CCDMA_VRING_DESC_F_INDIRECT,
		    0);
	dc_set_desc(&c, (struct ccdma_vring_desc *)(void *)(c.mem + DC_INDIRECT),
		    dc_gpa(DC_INDIRECT + 1024), 32, CCDMA_VRING_DESC_F_INDIRECT, 0);
	post_raw(&c, 0);
	expect_closed(&c, "nested indirect");

	/* A readable descriptor after a writable one. */
	REQUIRE(dc_setup(&c, sock, 0, 0) == 0);
	d = dc_desc(&c);
	dc_set_desc(&c, &d[0], dc_gpa(DC_HDRS), 16,
		    CCDMA_VRING_DESC_F_NEXT | CCDMA_VRING_DESC_F_WRITE, 1);
	dc_set_desc(&c, &d[1], dc_gpa(DC_HDRS + 16), 1, 0, 0);
	post_raw(&c, 0);
	expect_closed(&c, "readable after writable");
}

static void ring_memory(void)
{
	struct ccdma_vu_vring_addr a;
	struct dc c;
	uint32_t used;

	/* Ring addresses outside the region: the ring does not start. */
	REQUIRE(dc_setup(&c, sock, 0, 0) == 0);
	memset(&a, 0, sizeof(a));
	a.desc_user_addr = (uint64_t)(uintptr_t)c.mem + DC_MEM_SIZE;
	a.avail_user_addr = (uint64_t)(uintptr_t)(c.mem + DC_AVAIL);
	a.used_user_addr = (uint64_t)(uintptr_t)(c.mem + DC_USED);
	CHECK(dc_request(&c, CCDMA_VU_SET_VRING_ADDR, &a, sizeof(a), NULL, 0) == 0);
	c.wait_ms = 300;
	CHECK_EQ(dc_blk(&c, CCDMA_VBLK_T_IN, 0, 0, 512, 1, false, &used), -1);
	CHECK(still_up(&c));
	dc_close(&c);

	/* The region under a running ring goes away: the ring stops, the
	 * device does not touch the unmapped memory. */
	REQUIRE(dc_setup(&c, sock, 0, 0) == 0);
	CHECK_EQ(dc_blk(&c, CCDMA_VBLK_T_IN, 0, 0, 512, 1, false, &used),
		 CCDMA_VBLK_S_OK);
	{
		struct ccdma_vu_mem_reg m = { 0, dc_region(&c) };

		CHECK(dc_request(&c, CCDMA_VU_REM_MEM_REG, &m, sizeof(m), NULL,
				 0) == 0);
	}
	c.used_seen = c.avail_idx;
	c.wait_ms = 300;
	CHECK_EQ(dc_blk(&c, CCDMA_VBLK_T_IN, 0, 0, 512, 1, false, &used), -1);
	CHECK(still_up(&c));
	dc_close(&c);
	expect_alive("ring memory removed");
}

/* Every line of the region log names our memfd at DC_GPA. */
static void check_region_log(const char *path)
{
	char line[512];
	unsigned adds = 0, rems = 0, tables = 0;
	FILE *f = fopen(path, "r");

	REQUIRE(f);
	while (fgets(line, sizeof(line), f)) {
		char op[16], file[256];
		unsigned long long gpa, size, ua, off;

		if (sscanf(line, "%15s gpa=%llx size=%llx uaddr=%llx mmap_offset=%llx "
			   "file=%255s", op, &gpa, &size, &ua, &off, file) != 6) {
			fprintf(stderr, "region log: bad line: %s", line);
			test_failures++;
			continue;
		}
		CHECK(strstr(file, "memfd:devsim-test") != NULL);
		CHECK(gpa >= DC_GPA);
		if (!strcmp(op, "add"))
			adds++;
		else if (!strcmp(op, "rem"))
			rems++;
		else if (!strcmp(op, "table"))
			tables++;
	}
	fclose(f);
	CHECK(adds >= 10);
	CHECK(rems >= 1);
	CHECK(tables == 0);
}

int main(int argc, char **argv)
{
	char log[128];
	const char *args[] = { "--size", "4m", "--log-regions", NULL, NULL };
	struct backend b;
	int st;

	test_init();
	backend_require("ccdma-devsim", argc > 2 ? argv[2] : NULL);
	snprintf(log, sizeof(log), "/tmp/ccdma-devsim-regions-%d.log",
		 (int)getpid());
	unlink(log);
	args[3] = log;
	REQUIRE(backend_start_devsim(&b, argv[2], args) == 0);
	sock = b.sock;

	malformed_messages();
	bad_ring_setup();
	memory_refusals();
	bad_requests();
	ring_memory();

	st = backend_stop(&b);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	check_region_log(log);
	unlink(log);
	return test_done("devsim_protocol");
}
