/* SPDX-License-Identifier: MIT */
/*
 * ccdma-blk serves every option it accepts, or refuses it before any I/O
 * (exit 2) with the real limit (issue 12, D1-D3):
 *   - confidential mode, --bs 8m, 16m and 64m (more than the bounce pool
 *     holds at once) with --verify: exit 0, every byte matched; the same
 *     against qemu-storage-daemon;
 *   - direct mode: --bs 16m works; --bs 32m (above the largest coherent
 *     buffer) and --iodepth x --bs beyond the device's shared pool are
 *     refused with the limit;
 *   - a read-only device: --verify (which writes patterns first) is
 *     refused with the reason, no summary; plain reads work;
 *   - sizes in messages are in binary units, never raw byte counts, and
 *     every stderr line starts with "ccdma-blk: ".
 */
#include "blk_tool_util.h"

static struct tool t;

/* Exit 0 and a verified run. */
static void verified(const char *const *args)
{
	CHECK_EQ(tool_blk(&t, args), 0);
	CHECK(tool_has(t.out, "every byte matched"));
	CHECK(tool_lacks(t.out, "errors:"));
	CHECK(tool_all_lines(t.err, "ccdma-blk: "));
}

/* Exit 2, no summary, and a message with each of the texts. */
static void refused(const char *const *args, const char *a, const char *b)
{
	CHECK_EQ(tool_blk(&t, args), 2);
	CHECK_EQ(strlen(tool_text(t.out)), 0);
	CHECK(tool_has(t.err, a));
	if (b)
		CHECK(tool_has(t.err, b));
	CHECK(tool_all_lines(t.err, "ccdma-blk: "));
}

int main(int argc, char **argv)
{
	struct backend b;

	tool_init(&t, argc, argv);

	/* D1: large blocks in confidential mode, on a spawned ccdma-devsim. */
	verified((const char *[]){ "--bs", "8m", "--rw", "randrw", "--size", "64m",
				   "--verify", "--quiet", NULL });
	verified((const char *[]){ "--bs", "16m", "--rw", "write", "--size", "64m",
				   "--iodepth", "2", "--verify", "--quiet", NULL });
	verified((const char *[]){ "--bs", "64m", "--rw", "read", "--size", "128m",
				   "--verify", "--quiet", NULL });
	if (argv[1] && *argv[1] && access(argv[1], X_OK) == 0) {
		REQUIRE(backend_start_qsd(&b, argv[1], 1, 64ull << 20, 1) == 0);
		verified((const char *[]){ "--socket", b.sock, "--bs", "8m", "--rw",
					   "randrw", "--verify", "--quiet", NULL });
		verified((const char *[]){ "--socket", b.sock, "--bs", "32m", "--rw",
					   "write", "--verify", "--quiet", NULL });
		CHECK_EQ(backend_stop(&b), 0);
	}

	/* D2: direct mode, whose buffers are the device's shared memory. */
	CHECK_EQ(tool_blk(&t, (const char *[]){ "--mode", "direct", "--bs", "16m",
						"--rw", "read", "--size", "32m",
						"--quiet", NULL }), 0);
	CHECK(tool_has(t.out, "bs 16 MiB"));
	refused((const char *[]){ "--mode", "direct", "--bs", "32m", NULL },
		"--bs 32 MiB", "16 MiB");
	refused((const char *[]){ "--mode", "direct", "--bs", "16m", "--iodepth",
				  "8", NULL }, "shared pool of", "--iodepth 8");

	/* D3: a read-only device. */
	REQUIRE(backend_start_devsim(&b, argv[2], (const char *[]){ "--read-only",
				     "--size", "8m", "--quiet", NULL }) == 0);
	refused((const char *[]){ "--socket", b.sock, "--rw", "randread",
				  "--verify", NULL }, "read-only", "--verify");
	refused((const char *[]){ "--socket", b.sock, "--rw", "randwrite", NULL },
		"read-only", "--rw randwrite");
	CHECK_EQ(tool_blk(&t, (const char *[]){ "--socket", b.sock, "--rw",
						"randread", "--quiet", NULL }), 0);
	CHECK(tool_has(t.out, "read-only"));
	CHECK_EQ(backend_stop(&b), 0);

	/* Sizes as a person reads them. */
	refused((const char *[]){ "--size", "1g", NULL }, "--size 1 GiB",
		"256 MiB");
	CHECK(tool_lacks(t.err, "1073741824"));
	refused((const char *[]){ "--disk-size", "1m", "--bs", "2m", NULL },
		"--size 1 MiB is smaller than --bs 2 MiB", NULL);

	tool_fini(&t);
	return test_done("blk_tool_limits");
}
