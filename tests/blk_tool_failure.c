/* SPDX-License-Identifier: MIT */
/*
 * ccdma-blk when the back-end dies in the middle of a verified run
 * (issue 12, D4): once the run's first progress line shows I/O, the
 * device process is killed.  The tool exits 1, and its summary (and
 * --json) show the real time and rates up to the failure next to the
 * I/Os counted, say the run was cut short, and never that the
 * verification passed.
 */
#include "blk_tool_util.h"

static struct tool t;

/* Run the job on a ccdma-devsim that is killed once I/O runs. */
static void killed_mid_run(const char *devsim, bool json)
{
	const char *args[] = { t.blk, "--socket", NULL, "--rw", "randrw", "--bs",
			       "4k", "--iodepth", "16", "--runtime", "60",
			       "--verify", json ? "--json" : NULL, NULL };
	struct backend b;
	pid_t pid;
	int fd, st;

	REQUIRE(backend_start_devsim(&b, devsim, (const char *[]){ "--size",
				     "16m", "--quiet", NULL }) == 0);
	args[2] = b.sock;
	unlink(t.err);
	pid = tool_spawn(&t, (char *const *)args, &fd, NULL);
	/* The first progress line of the timed phase: I/O is running. */
	CHECK(tool_wait_line(fd, "] run:", t.err));
	kill(b.pid, SIGKILL);
	waitpid(b.pid, &st, 0);
	b.pid = 0;
	tool_drain(fd, t.err);
	CHECK_EQ(tool_wait(pid), 1);
	backend_stop(&b);
	CHECK(tool_has(t.err, "the device broke"));
	CHECK(tool_all_lines(t.err, "ccdma-blk: "));
	CHECK(tool_lacks(t.out, "every byte matched"));
}

int main(int argc, char **argv)
{
	const char *s;
	double secs = -1, iops = -1;
	unsigned long long reads = 0, writes = 0;

	tool_init(&t, argc, argv);

	killed_mid_run(argv[2], false);
	s = tool_text(t.out);
	CHECK(strstr(s, "time:") && sscanf(strstr(s, "time:"), "time: %lf", &secs) == 1);
	CHECK(secs > 0);
	CHECK(tool_has(t.out, "(cut short)"));
	s = tool_text(t.out);
	CHECK(strstr(s, "read:") && sscanf(strstr(s, "read:"), "read: %llu", &reads) == 1);
	CHECK(strstr(s, "write:") && sscanf(strstr(s, "write:"), "write: %llu", &writes) == 1);
	CHECK(reads + writes > 0);
	CHECK(strstr(s, "total:") && sscanf(strstr(s, "total:"), "total: %lf", &iops) == 1);
	CHECK(iops > 0);
	CHECK(tool_has(t.out, "verify:"));
	CHECK(tool_has(t.out, "incomplete"));
	CHECK(tool_has(t.out, "errors:"));

	killed_mid_run(argv[2], true);
	s = tool_text(t.out);
	CHECK(tool_json_num(s, "elapsed_s") > 0);
	CHECK(tool_json_num(s, "reads") + tool_json_num(s, "writes") > 0);
	CHECK(tool_json_num(s, "iops") > 0);
	CHECK(tool_json_num(s, "mib_s") > 0);
	CHECK(tool_has(t.out, "\"complete\": false"));
	CHECK(tool_has(t.out, "\"verify_complete\": false"));
	CHECK(tool_has(t.out, "\"result\": \"error\""));

	tool_fini(&t);
	return test_done("blk_tool_failure");
}
