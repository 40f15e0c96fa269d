/* SPDX-License-Identifier: MIT */
/*
 * Stalls (issue 13, section 3): ccdma-devsim on a file (and, for the
 * longer stall with --reconnect, qemu-storage-daemon) is stopped with
 * SIGSTOP under a ccdma-blk --verify randrw run, then resumed (SIGCONT):
 *   - shorter than the stall timeout (2 s of 30 s): nothing to
 *     reconnect, exit 0;
 *   - longer than it (--stall-timeout 1, resumed once the driver said it
 *     reconnects) with --reconnect: one reconnect, exit 0, every byte
 *     verified;
 *   - longer than it without --reconnect: a clear error, exit 1.
 * Every other step waits for a line on ccdma-blk's stderr.
 */
#include "reconnect_util.h"

static void stall(struct tool *t, const char *prog, bool qsd, bool longer,
		  bool reconnect)
{
	const char *args[] = { "--rw", "randrw", "--verify", "--bs", "4k-64k",
			       "--iodepth", "16", "--runtime", "600",
			       "--stall-timeout", longer ? "1" : "30",
			       reconnect ? "--reconnect=60" : NULL, NULL };
	struct rc_dev d;
	pid_t pid;
	int err, st;

	pid = rc_running(t, &d, prog, qsd, args, &err);
	kill(d.b.pid, SIGSTOP);
	if (!longer)
		/* The stall's length, not a wait for an event: any stall
		 * well within the 30 s timeout must pass unnoticed. */
		sleep(2);
	else if (reconnect)
		REQUIRE(tool_wait_line(err, "device stalled: reconnecting",
				       t->err));
	else
		REQUIRE(tool_wait_line(err, "the device completed nothing in 1 s",
				       t->err));
	kill(d.b.pid, SIGCONT);
	if (longer && reconnect)
		REQUIRE(tool_wait_line(err, "reconnected (1 so far)", t->err));
	if (!longer || reconnect) {
		/* Progress again, then the end of the run. */
		REQUIRE(tool_wait_line(err, "] run: ", t->err));
		kill(pid, SIGUSR1);
	}
	st = rc_blk_end(t, pid, err);
	printf("%s: stall %s, %s: exit %d\n%s",
	       qsd ? "qemu-storage-daemon" : "ccdma-devsim", longer ? "longer" : "shorter",
	       reconnect ? "reconnect" : "no reconnect", st, tool_text(t->out));
	if (longer && !reconnect) {
		CHECK_EQ(st, 1);
		CHECK(tool_has(t->err, "the device completed nothing in 1 s"));
		CHECK(tool_lacks(t->out, "every byte matched"));
	} else {
		CHECK_EQ(st, 0);
		CHECK(tool_has(t->out, "0 block(s) differ: every byte matched"));
		CHECK(tool_has(t->out, longer ? "  reconnects: 1\n"
					      : "  reconnects: 0\n"));
	}
	backend_stop(&d.b);
}

int main(int argc, char **argv)
{
	struct tool t;

	tool_init(&t, argc, argv);
	stall(&t, argv[2], false, false, true);
	stall(&t, argv[2], false, true, true);
	stall(&t, argv[2], false, true, false);
	if (argv[1] && *argv[1] && access(argv[1], X_OK) == 0)
		stall(&t, argv[1], true, true, true);
	else
		printf("qemu-storage-daemon not found: its part skipped\n");
	tool_fini(&t);
	return test_done("e2e_reconnect_stall");
}
