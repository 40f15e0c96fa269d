/* SPDX-License-Identifier: MIT */
/*
 * qemu-storage-daemon exporting a file as vhost-user-blk; the driver in
 * confidential mode (private buffers, every payload bounced).  Patterns at
 * many offsets and sizes (including requests split by seg_max x size_max)
 * are written, read back byte for byte and found in the image file; then
 * many requests in flight, flush, write-zeroes and discard, the device id.
 * Once with memory slots (ADD_MEM_REG) and once with SET_MEM_TABLE.
 */
#include "e2e_util.h"

int main(int argc, char **argv)
{
	struct backend b;
	struct e2e e;
	char id[21];

	test_init();
	backend_require("qemu-storage-daemon", argc > 1 ? argv[1] : NULL);
	REQUIRE(backend_start_qsd(&b, argv[1], 1, 256ull << 20, 2) == 0);
	for (unsigned pass = 0; pass < 2; pass++) {
		unsigned flags = pass ? CCDMA_VHOST_F_NO_MEM_SLOTS : 0;
		struct ccdma_vhost_info vi;
		uint64_t compared;

		REQUIRE(e2e_open(&e, b.sock, CCDMA_MODE_CONFIDENTIAL, flags) == 0);
		ccdma_vhost_get_info(e.h, &vi);
		CHECK_EQ(e.info.capacity, (256ull << 20) / 512);
		CHECK(e.info.num_queues >= 1);
		CHECK(pass ? vi.mem_slots == 0 : vi.mem_slots > 0);
		printf("pass %u: seg_max %u size_max %u max_request %u queues %u "
		       "event_idx %d indirect %d mem_slots %u\n", pass,
		       e.info.seg_max, e.info.size_max, e.info.max_request,
		       e.info.num_queues, e.info.event_idx, e.info.indirect,
		       vi.mem_slots);
		compared = e2e_rw_matrix(&e, false, 100 + pass, b.image);
		CHECK(compared > 2ull * e.info.max_request);
		e2e_check_bounced(&e, compared);
		e2e_async(&e, e.info.num_queues - 1, 32, 400000, 200 + pass);
		e2e_discard_zeroes(&e, 450000);
		memset(id, 0, sizeof(id));
		CHECK_EQ(ccdma_vblk_get_id(e.b, id), 0);
		printf("device id '%s'\n", id);
		CHECK(!ccdma_vblk_broken(e.b));
		e2e_close(&e);
	}
	CHECK_EQ(backend_stop(&b), 0);
	return test_done("e2e_qsd_file");
}
