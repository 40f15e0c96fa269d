/* SPDX-License-Identifier: MIT */
/*
 * qemu-storage-daemon exporting the null-co driver (reads give zeroes,
 * writes are dropped) as vhost-user-blk; the driver in confidential mode.
 * Every read, of every size, must come back as zeroes: a bounce slot that
 * held an earlier write's pattern must not leak it into a read buffer.
 */
#include "e2e_util.h"

int main(int argc, char **argv)
{
	struct backend b;
	struct e2e e;
	uint64_t compared;

	test_init();
	backend_require("qemu-storage-daemon", argc > 1 ? argv[1] : NULL);
	REQUIRE(backend_start_qsd(&b, argv[1], 0, 1ull << 30, 1) == 0);
	REQUIRE(e2e_open(&e, b.sock, CCDMA_MODE_CONFIDENTIAL, 0) == 0);
	CHECK_EQ(e.info.capacity, (1ull << 30) / 512);
	compared = e2e_rw_matrix(&e, true, 1, NULL);
	CHECK(compared > 2ull * e.info.max_request);
	e2e_check_bounced(&e, compared);
	CHECK(!ccdma_vblk_broken(e.b));
	e2e_close(&e);
	/* Direct mode: private buffers are still bounced (the device process
	 * sees only shared memory), so data moves the same way. */
	REQUIRE(e2e_open(&e, b.sock, CCDMA_MODE_DIRECT, 0) == 0);
	compared = e2e_rw_matrix(&e, true, 2, NULL);
	CHECK(compared > 0);
	e2e_close(&e);
	CHECK_EQ(backend_stop(&b), 0);
	return test_done("e2e_qsd_null");
}
