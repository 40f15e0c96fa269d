/* SPDX-License-Identifier: MIT */
/*
 * ccdma-devsim, the project's device process, as the back-end: a RAM disk
 * (patterns, many requests in flight on two queues, write-zeroes,
 * discard, the id), a file-backed disk whose image is checked byte for
 * byte, and a device offering neither memory slots, EVENT_IDX nor
 * indirect descriptors.
 */
#include "e2e_util.h"

static void run(const char *devsim, const char *const *args, bool image,
		uint32_t tag)
{
	struct backend b;
	struct e2e e;
	uint64_t compared;
	char id[21];

	if (image) {
		/* A file-backed disk: the image path is known once the
		 * back-end's directory exists. */
		char *argv[] = { (char *)devsim, (char *)"--socket", b.sock,
				 (char *)"--size", (char *)"128m", (char *)"--file",
				 b.image, NULL };

		REQUIRE(backend_prepare(&b) == 0);
		REQUIRE(backend_spawn(&b, argv) == 0);
	} else {
		REQUIRE(backend_start_devsim(&b, devsim, args) == 0);
	}
	REQUIRE(e2e_open(&e, b.sock, CCDMA_MODE_CONFIDENTIAL, 0) == 0);
	CHECK_EQ(e.info.capacity, (128ull << 20) / 512);
	compared = e2e_rw_matrix(&e, false, tag, image ? b.image : NULL);
	CHECK(compared > 2ull * e.info.max_request);
	e2e_check_bounced(&e, compared);
	for (unsigned q = 0; q < e.info.num_queues; q++)
		e2e_async(&e, q, 32, 100000 + 10000 * q, tag + q);
	e2e_discard_zeroes(&e, 200000);
	memset(id, 0, sizeof(id));
	CHECK_EQ(ccdma_vblk_get_id(e.b, id), 0);
	CHECK(id[0] != 0);
	CHECK(!ccdma_vblk_broken(e.b));
	e2e_close(&e);
	CHECK_EQ(backend_stop(&b), 0);
}

int main(int argc, char **argv)
{
	static const char *const ram[] = { "--size", "128m", "--queues", "2", NULL };
	static const char *const plain[] = { "--size", "128m", "--no-mem-slots",
					     "--no-event-idx", "--no-indirect", NULL };

	test_init();
	backend_require("ccdma-devsim", argc > 2 ? argv[2] : NULL);
	run(argv[2], ram, false, 10);
	run(argv[2], plain, false, 20);
	run(argv[2], NULL, true, 30);
	return test_done("e2e_devsim");
}
