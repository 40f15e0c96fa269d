/* SPDX-License-Identifier: MIT */
/*
 * ccdma-blk --numjobs N (issue 14, section 4): N jobs at once, each on its
 * own thread and queue, each on its own part of the device.
 *   - a spawned ccdma-devsim (given enough queues): --numjobs 4 --verify
 *     randrw: exit 0, every byte matched, four jobs on queues 0..3 that
 *     each did I/O, and the totals are their sums;
 *   - qemu-storage-daemon with 4 queues (file export): the same;
 *   - a device with fewer queues than jobs: exit 2 before any I/O, no
 *     summary, a message with the numbers;
 *   - --queue + --numjobs beyond 16, and --numjobs 0: refused (exit 2).
 */
#include "blk_tool_util.h"

static struct tool t;

/* A verified 4-job run: the JSON's totals and each job. */
static void four_jobs(const char *sock)
{
	const char *args_spawn[] = { "--numjobs", "4", "--verify", "--rw", "randrw",
				     "--size", "32m", "--iodepth", "8", "--json",
				     "--quiet", NULL };
	const char *args_sock[] = { "--socket", sock, "--numjobs", "4", "--verify",
				    "--rw", "randrw", "--size", "32m", "--iodepth",
				    "8", "--json", "--quiet", NULL };
	const char *js;
	double reads, writes;

	CHECK_EQ(tool_blk(&t, sock ? args_sock : args_spawn), 0);
	js = tool_text(t.out);
	CHECK_EQ(tool_json_num(js, "numjobs"), 4);
	CHECK(tool_json_num(js, "queues_in_use") >= 4);
	CHECK(tool_has(t.out, "\"result\": \"ok\""));
	CHECK(tool_has(t.out, "\"verify_complete\": true"));
	/* The totals come after the jobs: at least every job's part was
	 * read back and compared (reads of the run are compared too). */
	CHECK(strstr(js, "\"elapsed_s\"") != NULL);
	if (!strstr(js, "\"elapsed_s\""))
		return;
	CHECK(tool_json_num(strstr(js, "\"elapsed_s\""), "verified_bytes") >=
	      32.0 * 1048576.0);
	CHECK_EQ(tool_json_num(strstr(js, "\"elapsed_s\""), "verify_errors"), 0);
	for (int q = 0; q < 4; q++) {
		char pat[32], key[16];
		const char *p;

		snprintf(key, sizeof(key), "\"%d\": {", q);
		p = strstr(js, key);
		CHECK(p != NULL);
		if (!p)
			continue;
		snprintf(pat, sizeof(pat), "\"queue\": %d", q);
		CHECK(strstr(p, pat) != NULL);
		CHECK(tool_json_num(p, "reads") > 0);
		CHECK(tool_json_num(p, "writes") > 0);
		CHECK_EQ(tool_json_num(p, "verify_errors"), 0);
	}
	reads = tool_json_num(strstr(js, "\"elapsed_s\""), "reads");
	writes = tool_json_num(strstr(js, "\"elapsed_s\""), "writes");
	CHECK(reads > 0 && writes > 0);
	CHECK(tool_json_num(js, "cpu_ns_per_io") > 0);
	CHECK(tool_all_lines(t.err, "ccdma-blk: "));
}

/* Exit 2, no summary, and a message with the text. */
static void refused(const char *const *args, const char *text)
{
	CHECK_EQ(tool_blk(&t, args), 2);
	CHECK_EQ(strlen(tool_text(t.out)), 0);
	CHECK(tool_has(t.err, text));
	CHECK(tool_all_lines(t.err, "ccdma-blk: "));
}

int main(int argc, char **argv)
{
	struct backend b;

	tool_init(&t, argc, argv);
	four_jobs(NULL);
	/* The human summary names every job. */
	CHECK_EQ(tool_blk(&t, (const char *[]){ "--numjobs", "3", "--rw", "randread",
						 "--size", "8m", "--quiet", NULL }), 0);
	CHECK(tool_has(t.out, "job 0 (queue 0)"));
	CHECK(tool_has(t.out, "job 2 (queue 2)"));
	CHECK(tool_lacks(t.out, "job 3"));

	REQUIRE(backend_start_devsim(&b, argv[2], (const char *[]){ "--queues", "2",
								    NULL }) == 0);
	refused((const char *[]){ "--socket", b.sock, "--numjobs", "3", "--quiet", NULL },
		"3 job(s) on queues 0..2: the device has 2 queue(s)");
	CHECK_EQ(backend_stop(&b), 0);

	refused((const char *[]){ "--queue", "14", "--numjobs", "3", NULL },
		"queues 14..16; a device has at most 16");
	refused((const char *[]){ "--numjobs", "0", NULL }, "--numjobs");

	if (argv[1] && *argv[1] && access(argv[1], X_OK) == 0) {
		REQUIRE(backend_start_qsd(&b, argv[1], 1, 64ull << 20, 4) == 0);
		four_jobs(b.sock);
		CHECK_EQ(backend_stop(&b), 0);
	}
	tool_fini(&t);
	return test_done("blk_tool_numjobs");
}
