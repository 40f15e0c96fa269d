/* SPDX-License-Identifier: MIT */
/*
 * Faults survived (issue 13, section 3): ccdma-blk --verify --reconnect,
 * randrw with requests in flight, while its device process is killed with
 * SIGKILL and started again on the same socket 5 times: against
 * qemu-storage-daemon (file export; --json) and ccdma-devsim (--file;
 * the summary).  Each kill comes after the run made progress since the
 * last reconnect (a progress line after "reconnected (k so far)"), and the
 * run is ended by SIGUSR1 after the fifth: no step depends on speed.  It
 * must exit 0 with every byte read back matching what was written (the
 * verification also covers the blocks written before each kill, read
 * through the new process), and report 5 reconnects.  The requests of up
 * to 64 KiB go through the driver's persistent bounce slots (the
 * default): parts in flight at a kill are posted again in their slots,
 * writes refilled from the caller's buffer.
 */
#include "reconnect_util.h"

static void run(struct tool *t, const char *prog, bool qsd)
{
	const char *args[] = { "--rw", "randrw", "--verify", "--bs", "4k-64k",
			       "--iodepth", "16", "--runtime", "600",
			       "--reconnect=60", qsd ? "--json" : NULL, NULL };
	struct rc_dev d;
	char want[64];
	const char *out;
	pid_t pid;
	int err, st;

	pid = rc_running(t, &d, prog, qsd, args, &err);
	for (int k = 1; k <= 5; k++) {
		rc_dev_kill(&d);
		REQUIRE(rc_dev_spawn(&d) == 0);
		snprintf(want, sizeof(want), "reconnected (%d so far)", k);
		REQUIRE(tool_wait_line(err, want, t->err));
		/* Progress on the new process before the next kill. */
		REQUIRE(tool_wait_line(err, "] run: ", t->err));
	}
	kill(pid, SIGUSR1);
	st = rc_blk_end(t, pid, err);
	out = tool_text(t->out);
	printf("%s: exit %d\n%s", qsd ? "qemu-storage-daemon" : "ccdma-devsim",
	       st, out);
	CHECK_EQ(st, 0);
	if (qsd) {
		CHECK_EQ(tool_json_num(out, "reconnects"), 5);
		CHECK_EQ(tool_json_num(out, "verify_errors"), 0);
		CHECK_EQ(tool_json_num(out, "failed_requests"), 0);
		CHECK(tool_json_num(out, "verified_bytes") > 0);
		CHECK(tool_json_num(out, "slot_parts") > 0);
		CHECK(tool_has(t->out, "\"verify_complete\": true"));
		CHECK(tool_has(t->out, "\"result\": \"ok\""));
	} else {
		CHECK(tool_has(t->out, "  reconnects: 5\n"));
		CHECK(tool_has(t->out, "0 block(s) differ: every byte matched"));
		CHECK(tool_lacks(t->out, "errors:"));
		CHECK(tool_has(t->out, "  slots: "));
	}
	CHECK(tool_has(t->err, "reconnected (5 so far)"));
	CHECK(tool_lacks(t->err, "reconnected (6 so far)"));
	CHECK_EQ(backend_stop(&d.b), 0);
}

int main(int argc, char **argv)
{
	struct tool t;

	tool_init(&t, argc, argv);
	if (argv[1] && *argv[1] && access(argv[1], X_OK) == 0)
		run(&t, argv[1], true);
	else
		printf("qemu-storage-daemon not found: its part skipped\n");
	run(&t, argv[2], false);
	tool_fini(&t);
	return test_done("e2e_reconnect");
}
