/* SPDX-License-Identifier: MIT */
/*
 * The one lookup of the device program (blkjob_devsim_find), used by
 * ccdma-blk and `ccdma-bench blk` alike (issue 12, section 4): with no
 * --devsim and no $CCDMA_DEVSIM, ccdma-bench (in the build tree's bench/)
 * finds the ccdma-devsim built in tools/ and measures it; a ccdma-blk
 * copied where no ccdma-devsim is beside it finds the one on PATH, and
 * says where it looked when there is none; a $CCDMA_DEVSIM that is not a
 * program is named in the message.
 */
#include "blk_tool_util.h"

static struct tool t;

static int run(char *const argv[], const char *const *env)
{
	return tool_wait(tool_spawn(&t, argv, NULL, env));
}

/* Copy the file at `from` to `to`, executable. */
static void copy_exe(const char *from, const char *to)
{
	char buf[65536];
	int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	ssize_t n;

	REQUIRE(in >= 0 && out >= 0);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		REQUIRE(write(out, buf, (size_t)n) == n);
	close(in);
	close(out);
}

int main(int argc, char **argv)
{
	char bin[128], blk[160], path_env[600], devsim_dir[512];
	char *slash;

	tool_init(&t, argc, argv);

	/* ccdma-bench blk from bench/, nothing told where the device is. */
	if (access(t.bench, X_OK) == 0) {
		char *bench[] = { t.bench, (char *)"blk", (char *)"--only",
				  (char *)"devsim", (char *)"--quick", (char *)"--rounds",
				  (char *)"1", (char *)"--seconds", (char *)"0.05",
				  (char *)"--json", NULL };

		CHECK_EQ(run(bench, (const char *[]){ "CCDMA_DEVSIM", NULL }), 0);
		CHECK(tool_has(t.out, "\"devsim\": {"));
		CHECK(tool_has(t.out, "\"4k_read_qd1\": {"));
		CHECK_EQ(tool_json_num(tool_text(t.out), "internal_errors"), 0);
		CHECK(tool_lacks(t.err, "cannot start"));
	} else {
		printf("ccdma-bench not built: its case skipped\n");
	}

	/* ccdma-blk alone in a folder: ccdma-devsim from PATH. */
	snprintf(bin, sizeof(bin), "%s/bin", t.dir);
	REQUIRE(mkdir(bin, 0700) == 0);
	snprintf(blk, sizeof(blk), "%s/ccdma-blk", bin);
	copy_exe(t.blk, blk);
	snprintf(devsim_dir, sizeof(devsim_dir), "%s", argv[2]);
	slash = strrchr(devsim_dir, '/');
	REQUIRE(slash);
	*slash = 0;
	snprintf(path_env, sizeof(path_env), "PATH=/nonexistent:%s", devsim_dir);
	{
		char *args[] = { blk, (char *)"--rw", (char *)"read", (char *)"--size",
				 (char *)"1m", (char *)"--quiet", NULL };

		CHECK_EQ(run(args, (const char *[]){ "CCDMA_DEVSIM", path_env,
						     NULL }), 0);
		CHECK(tool_has(t.out, "ccdma-devsim (spawned)"));
		CHECK_EQ(run(args, (const char *[]){ "CCDMA_DEVSIM",
						     "PATH=/nonexistent", NULL }), 1);
		CHECK(tool_has(t.err, "cannot find the device program ccdma-devsim"));
		CHECK(tool_has(t.err, "PATH"));
		CHECK(tool_all_lines(t.err, "ccdma-blk: "));
		CHECK_EQ(run(args, (const char *[]){ "CCDMA_DEVSIM=/nonexistent/devsim",
						     NULL }), 1);
		CHECK(tool_has(t.err, "/nonexistent/devsim"));
		CHECK(tool_has(t.err, "$CCDMA_DEVSIM"));
	}
	unlink(blk);
	rmdir(bin);
	tool_fini(&t);
	return test_done("blk_tool_find_devsim");
}
