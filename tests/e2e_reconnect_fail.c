/* SPDX-License-Identifier: MIT */
/*
 * What a reconnect does not paper over (issue 13, section 3), with
 * ccdma-devsim on a file and ccdma-blk --verify --reconnect:
 *   - the new process offers less (no EVENT_IDX, which the driver had
 *     accepted): the reconnect fails and says which bits are missing;
 *   - no process comes back within --reconnect=S: it says so;
 *   - a device proven hostile (a used id out of range) is not reconnected:
 *     broken, as without --reconnect.
 * Each run exits 1 with the reason on stderr and no reconnect counted.
 * And malformed --reconnect / --stall-timeout values are refused.
 */
#include "reconnect_util.h"

static const char *const args[] = { "--rw", "randrw", "--verify", "--bs",
				     "4k", "--iodepth", "8", "--runtime",
				     "600", "--reconnect=3", NULL };

/* Kill the device after progress; restart it with `extra` (NULL: not at
 * all); ccdma-blk must fail with `msg` on stderr. */
static void lost(struct tool *t, const char *prog, const char *extra,
		 const char *msg)
{
	struct rc_dev d;
	pid_t pid;
	int err, st;

	pid = rc_running(t, &d, prog, false, args, &err);
	rc_dev_kill(&d);
	if (extra) {
		char size[32], *argv[10];

		snprintf(size, sizeof(size), "%llu", (unsigned long long)RC_DISK);
		argv[0] = (char *)prog;
		argv[1] = (char *)"--socket";
		argv[2] = d.b.sock;
		argv[3] = (char *)"--file";
		argv[4] = d.b.image;
		argv[5] = (char *)"--size";
		argv[6] = size;
		argv[7] = (char *)extra;
		argv[8] = NULL;
		REQUIRE(backend_spawn(&d.b, argv) == 0);
	}
	st = rc_blk_end(t, pid, err);
	printf("restart with %s: exit %d\n", extra ? extra : "(none)", st);
	CHECK_EQ(st, 1);
	CHECK(tool_has(t->err, msg));
	CHECK(tool_has(t->err, "reconnect failed"));
	CHECK(tool_lacks(t->err, "reconnected ("));
	CHECK(tool_lacks(t->out, "every byte matched"));
	backend_stop(&d.b); /* the process when restarted, the files */
}

static void hostile(struct tool *t, const char *prog)
{
	const char *extra[] = { "--misbehave", "id-range",
				"--misbehave-after", "200", NULL };
	struct backend b;
	char *argv[24];
	int n = 0, st;

	REQUIRE(backend_start_devsim(&b, prog, extra) == 0);
	argv[n++] = t->blk;
	argv[n++] = (char *)"--socket";
	argv[n++] = b.sock;
	for (int k = 0; args[k]; k++)
		argv[n++] = (char *)args[k];
	argv[n] = NULL;
	unlink(t->err);
	st = tool_wait(tool_spawn(t, argv, NULL, NULL));
	printf("hostile: exit %d\n", st);
	CHECK_EQ(st, 1);
	CHECK(tool_has(t->err, "used id out of range"));
	CHECK(tool_has(t->err, "device marked broken"));
	CHECK(tool_lacks(t->err, "reconnecting"));
	backend_stop(&b);
}

/* Malformed values: refused before anything starts (exit 2). */
static void refused(struct tool *t)
{
	static const char *const bad[][2] = {
		{ "--reconnect=0", NULL }, { "--reconnect=x", NULL },
		{ "--reconnect=3601", NULL }, { "--stall-timeout", "0" },
		{ "--stall-timeout", "-1" }, { "--stall-timeout", "1s" },
	};

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *a[] = { bad[i][0], bad[i][1], NULL };

		CHECK_EQ(tool_blk(t, a), 2);
		CHECK(tool_has(t->err, "seconds, > 0 (at most 3600)"));
	}
}

int main(int argc, char **argv)
{
	struct tool t;

	tool_init(&t, argc, argv);
	refused(&t);
	lost(&t, argv[2], "--no-event-idx",
	     "reconnect: the new back-end lacks features 0x20000000");
	lost(&t, argv[2], NULL, "reconnect: no back-end within 3000 ms");
	hostile(&t, argv[2]);
	tool_fini(&t);
	return test_done("e2e_reconnect_fail");
}
