/* SPDX-License-Identifier: MIT */
/*
 * ccdma-net --rw echo --verify, as a user runs it, against a ccdma-devsim
 * --net --misbehave MODE it did not start (--socket): the tool exits 1
 * (the run failed, man page), says the device broke and why, counts no
 * frame corrupt or duplicated, and never says every frame came back.
 *   net_tool_misbehave MODE <testpmd (unused)> <ccdma-devsim>
 */
#include "blk_tool_util.h"

static const struct {
	const char *mode, *why;
} modes[] = {
	{ "net-nb-high", "num_buffers beyond the buffers posted" },
	{ "net-len-over", "receive used length beyond the buffer posted" },
	{ "net-tx-range", "used id out of range" },
};

int main(int argc, char **argv)
{
	const char *why = NULL;
	char net[512], d[512];
	const char *args[] = { net, "--socket", NULL, "--verify", "--count",
			       "200", "--quiet", NULL };
	struct backend b;
	struct tool t;
	char *targv[3];

	/* tool_init() takes the device program as argv[2]. */
	targv[0] = argv[0];
	targv[1] = argc > 1 ? argv[1] : (char *)"";
	targv[2] = argc > 3 ? argv[3] : NULL;
	tool_init(&t, targv[2] ? 3 : 2, targv);
	for (unsigned i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (!strcmp(modes[i].mode, targv[1]))
			why = modes[i].why;
	REQUIRE(why);
	snprintf(d, sizeof(d), "%s", targv[2]);
	snprintf(net, sizeof(net), "%s/ccdma-net", dirname(d));
	REQUIRE(access(net, X_OK) == 0);
	REQUIRE(backend_start_devsim(&b, targv[2], (const char *[]){ "--net",
				     "--misbehave", targv[1], "--quiet",
				     NULL }) == 0);
	args[2] = b.sock;
	CHECK_EQ(tool_wait(tool_spawn(&t, (char *const *)args, NULL, NULL)), 1);
	backend_stop(&b);
	CHECK(tool_has(t.err, why));
	CHECK(tool_has(t.err, "device marked broken"));
	CHECK(tool_has(t.out, "error: No such device"));
	CHECK(tool_has(t.out, "duplicated 0, reordered 0, corrupt 0"));
	/* The run ended early: the frames it never sent are said as such,
	 * not as lost (200 were asked for, at most a window of 64 went; how
	 * many of those came back before the break depends on timing). */
	CHECK(tool_has(t.out, ", never sent "));
	CHECK(tool_lacks(t.out, "never sent 0\n"));
	CHECK(tool_lacks(t.out, "lost 200,"));
	tool_fini(&t);
	return test_done("net_tool_misbehave");
}
