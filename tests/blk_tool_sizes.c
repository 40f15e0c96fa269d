/* SPDX-License-Identifier: MIT */
/*
 * ccdma-blk's options for the soak (issue 13, section 4):
 *   - --bs MIN-MAX: I/O sizes that vary from MIN to MAX by powers of two,
 *     verified block by block (MIN-sized blocks), random and sequential,
 *     every byte matched and reported in the summary and the JSON;
 *     malformed ranges and pool options refused (exit 2) with the rule;
 *   - --log-every MS --plot DIR: IOPS and latency over time (data, PNG);
 *   - --pool-max/--pool-idle-ms/--pool-high-water and --linger: the pool
 *     grows under 512 B - 4 MiB I/O, and after the run comes back to one
 *     region with only the rings in use; a --linger too short to see that
 *     says "not settled".
 */
#include "blk_tool_util.h"

static struct tool t;

static const char *json(void)
{
	static char js[65536];

	snprintf(js, sizeof(js), "%s", tool_text(t.out));
	return js;
}

/* Exit 2, no summary, a message with `why`. */
static void refused(const char *const *args, const char *why)
{
	CHECK_EQ(tool_blk(&t, args), 2);
	CHECK_EQ(strlen(tool_text(t.out)), 0);
	CHECK(tool_has(t.err, why));
	CHECK(tool_all_lines(t.err, "ccdma-blk: "));
}

/* The text after "linger" in the JSON (its own object). */
static const char *linger_obj(const char *js)
{
	const char *l = strstr(js, "\"linger\"");

	CHECK(l != NULL);
	return l ? l : "";
}

int main(int argc, char **argv)
{
	const char *js, *l;

	tool_init(&t, argc, argv);

	/* Random sizes, 512 B to 64 KiB, written and read back. */
	CHECK_EQ(tool_blk(&t, (const char *[]){ "--bs", "512-64k", "--rw", "randrw",
			  "--disk-size", "8m", "--iodepth", "8", "--verify",
			  "--quiet", NULL }), 0);
	CHECK(tool_has(t.out, "bs 512 bytes to 64 KiB"));
	CHECK(tool_has(t.out, "every byte matched"));
	CHECK_EQ(tool_blk(&t, (const char *[]){ "--bs", "1k-1m", "--rw", "randrw",
			  "--disk-size", "8m", "--iodepth", "4", "--verify",
			  "--quiet", "--json", NULL }), 0);
	js = json();
	CHECK_EQ(tool_json_num(js, "bs"), 1024);
	CHECK_EQ(tool_json_num(js, "bs_max"), 1048576);
	/* Reads of written blocks compared, so at least the read-back. */
	CHECK(tool_json_num(js, "verified_bytes") >= 8 << 20);
	CHECK_EQ(tool_json_num(js, "verify_errors"), 0);
	CHECK(strstr(js, "\"verify_complete\": true") != NULL);
	/* Sequential, with the sizes wrapping at the end of the range. */
	CHECK_EQ(tool_blk(&t, (const char *[]){ "--bs", "4k-128k", "--rw", "rw",
			  "--disk-size", "4m", "--iodepth", "4", "--verify",
			  "--quiet", NULL }), 0);
	CHECK(tool_has(t.out, "every byte matched"));

	/* Malformed ranges and pool options: the rule, before any I/O. */
	refused((const char *[]){ "--bs", "512-3k", NULL }, "MAX / MIN a power of two");
	refused((const char *[]){ "--bs", "4k-512", NULL }, "MAX / MIN a power of two");
	refused((const char *[]){ "--bs", "512-", NULL }, "--bs '512-'");
	refused((const char *[]){ "--pool-max", "32k", NULL }, "at least 64k");
	refused((const char *[]){ "--pool-region", "3m", NULL }, "a power of two");
	refused((const char *[]){ "--pool-max", "4m", "--pool-region", "8m", NULL },
		"less than one region");
	refused((const char *[]){ "--linger", "0", NULL }, "1..3600000");
	refused((const char *[]){ "--reconnect-hostile", NULL },
		"--reconnect-hostile needs --reconnect");
	refused((const char *[]){ "--log-every", "100", NULL },
		"--log-every and --plot go together");
	refused((const char *[]){ "--log-every", "5", "--plot", "x", NULL },
		"milliseconds, 10..3600000");

	/* The pool grows under large I/O, then comes back when idle. */
	CHECK_EQ(tool_blk(&t, (const char *[]){ "--bs", "512-4m", "--rw", "randrw",
			  "--disk-size", "64m", "--iodepth", "8", "--verify",
			  "--pool-max", "32m", "--pool-idle-ms", "50",
			  "--pool-high-water", "0", "--linger", "100000",
			  "--quiet", "--json", NULL }), 0);
	js = json();
	CHECK(tool_json_num(js, "pool_region_grows") > 1);
	CHECK(tool_json_num(js, "pool_high_water_bytes") <= 32 << 20);
	l = linger_obj(js);
	CHECK(strstr(l, "\"settled\": true") != NULL);
	CHECK_EQ(tool_json_num(l, "pool_regions"), 1);
	CHECK(tool_json_num(l, "pool_region_shrinks") >= 1);
	/* In use: the rings, and the persistent slots the driver keeps. */
	CHECK(tool_json_num(js, "slot_bytes") > 0);
	CHECK_EQ(tool_json_num(l, "pool_in_use_bytes"),
		 tool_json_num(l, "pool_in_use_before_bytes") +
		 tool_json_num(js, "slot_bytes"));
	/* The summary says it too. */
	CHECK_EQ(tool_blk(&t, (const char *[]){ "--bs", "512-4m", "--rw", "randwrite",
			  "--disk-size", "16m", "--iodepth", "8",
			  "--pool-max", "32m", "--pool-idle-ms", "50",
			  "--pool-high-water", "0", "--linger", "100000",
			  "--quiet", NULL }), 0);
	CHECK(tool_has(t.out, "linger: settled after"));
	CHECK(tool_has(t.out, "in 1 region(s)"));
	/* --log-every/--plot: a row per interval of the timed run (the run
	 * lasts until its 0.3 s passed: at least 3 rows of 50 ms), and the
	 * picture when gnuplot is there. */
	{
		char dir[256], path[300];
		int rows = 0;
		FILE *f;

		snprintf(dir, sizeof(dir), "%s/plot", t.dir);
		CHECK_EQ(tool_blk(&t, (const char *[]){ "--rw", "randread",
				  "--disk-size", "4m", "--runtime", "0.3",
				  "--log-every", "50", "--plot", dir, "--quiet",
				  NULL }), 0);
		snprintf(path, sizeof(path), "%s/blk-log.dat", dir);
		f = fopen(path, "r");
		CHECK(f != NULL);
		while (f && fgets(path, sizeof(path), f))
			rows += path[0] != '#';
		if (f)
			fclose(f);
		CHECK(rows >= 3);
		snprintf(path, sizeof(path), "%s/blk-log.png", dir);
		if (system("command -v gnuplot >/dev/null 2>&1") == 0)
			CHECK(access(path, R_OK) == 0);
		CHECK(tool_all_lines(t.err, "ccdma-blk: "));
	}
	/* 1 ms is less than the pool's idle time: never settled. */
	CHECK_EQ(tool_blk(&t, (const char *[]){ "--bs", "4k", "--rw", "randread",
			  "--disk-size", "4m", "--pool-idle-ms", "1000",
			  "--linger", "1", "--quiet", NULL }), 0);
	CHECK(tool_has(t.out, "not settled (--linger limit)"));
	tool_fini(&t);
	return test_failures ? 1 : 0;
}
