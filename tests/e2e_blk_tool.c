/* SPDX-License-Identifier: MIT */
/*
 * The ccdma-blk tool as a user runs it: a short verified random
 * read/write run against a ccdma-devsim it starts itself (the README's
 * main job), with --json checked field by field; the same against a
 * running qemu-storage-daemon; and its answers to bad options, a missing
 * socket and a socket nobody listens on.
 */
#include "backend_util.h"
#include "test.h"

#include <libgen.h>
#include <sys/socket.h>

static char blk[512];
static char errpath[64];

/* Run ccdma-blk with args; stdout into out (NUL-terminated); exit status. */
static int run_blk(const char *args, char *out, size_t outlen)
{
	char cmd[1024];
	FILE *p;
	size_t n = 0;
	int st;

	snprintf(cmd, sizeof(cmd), "%s %s 2>%s", blk, args, errpath);
	p = popen(cmd, "r");
	REQUIRE(p);
	while (n + 1 < outlen) {
		size_t k = fread(out + n, 1, outlen - 1 - n, p);

		if (!k)
			break;
		n += k;
	}
	out[n] = 0;
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The number after "key": in a JSON text, or -1. */
static double json_num(const char *js, const char *key)
{
	char pat[96];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\": ", key);
	p = strstr(js, pat);
	return p ? strtod(p + strlen(pat), NULL) : -1;
}

static bool stderr_has(const char *text)
{
	char buf[4096];
	FILE *f = fopen(errpath, "r");
	size_t n;

	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = 0;
	fclose(f);
	if (!strstr(buf, text))
		fprintf(stderr, "stderr lacks '%s':\n%s\n", text, buf);
	return strstr(buf, text) != NULL;
}

static void check_run(const char *js, bool bounced)
{
	CHECK(strstr(js, "\"result\": \"ok\"") != NULL);
	CHECK(json_num(js, "reads") > 0);
	CHECK(json_num(js, "writes") > 0);
	CHECK(json_num(js, "verified_bytes") >= 4096);
	CHECK_EQ(json_num(js, "verify_errors"), 0);
	CHECK_EQ(json_num(js, "failed_requests"), 0);
	CHECK(json_num(js, "iops") > 0);
	CHECK(json_num(js, "p50") > 0);
	if (bounced) {
		CHECK(json_num(js, "bounced_to_device_bytes") > 0);
		CHECK(json_num(js, "bounced_from_device_bytes") > 0);
	} else {
		CHECK_EQ(json_num(js, "bounced_to_device_bytes"), 0);
		CHECK_EQ(json_num(js, "bounced_from_device_bytes"), 0);
	}
}

int main(int argc, char **argv)
{
	static char out[65536];
	char devsim_dir[512], args[512];
	struct backend b;
	int fd;

	test_init();
	snprintf(errpath, sizeof(errpath), "/tmp/ccdma-blk-test-%d.err", (int)getpid());
	backend_require("ccdma-devsim", argc > 2 ? argv[2] : NULL);
	if (getenv("CCDMA_TEST_EMULATOR") && *getenv("CCDMA_TEST_EMULATOR")) {
		/* popen runs a foreign binary directly. */
		printf("SKIP: the tool test runs native builds only\n");
		return 77;
	}
	snprintf(devsim_dir, sizeof(devsim_dir), "%s", argv[2]);
	snprintf(blk, sizeof(blk), "%s/ccdma-blk", dirname(devsim_dir));
	REQUIRE(access(blk, X_OK) == 0);

	/* The main job, spawning its own device. */
	CHECK_EQ(run_blk("--rw randrw --bs 4k --iodepth 8 --size 8m --runtime 0.5 "
			 "--verify --json", out, sizeof(out)), 0);
	check_run(out, true);
	CHECK_EQ(run_blk("--rw randrw --bs 16k --iodepth 4 --size 4m --runtime 0.3 "
			 "--verify --mode direct --json", out, sizeof(out)), 0);
	check_run(out, false);
	/* The human summary. */
	CHECK_EQ(run_blk("--rw write --bs 64k --size 2m --verify --quiet", out,
			 sizeof(out)), 0);
	CHECK(strstr(out, "every byte matched") != NULL);
	CHECK(strstr(out, "latency (us)") != NULL);

	/* Against a running qemu-storage-daemon. */
	if (argv[1] && *argv[1] && access(argv[1], X_OK) == 0) {
		REQUIRE(backend_start_qsd(&b, argv[1], 1, 32ull << 20, 1) == 0);
		snprintf(args, sizeof(args), "--socket %s --rw randrw --bs 8k "
			 "--iodepth 16 --runtime 0.5 --verify --json", b.sock);
		CHECK_EQ(run_blk(args, out, sizeof(out)), 0);
		check_run(out, true);
		CHECK_EQ(backend_stop(&b), 0);
	}

	/* Bad options: exit 2 and a message naming the option. */
	CHECK_EQ(run_blk("--bs 1000", out, sizeof(out)), 2);
	CHECK(stderr_has("--bs"));
	CHECK_EQ(run_blk("--rw sideways", out, sizeof(out)), 2);
	CHECK(stderr_has("--rw"));
	CHECK_EQ(run_blk("--iodepth 0", out, sizeof(out)), 2);
	CHECK_EQ(run_blk("--mode sometimes", out, sizeof(out)), 2);
	CHECK_EQ(run_blk("--frobnicate", out, sizeof(out)), 2);
	/* No socket there, and a socket nobody listens on: exit 1. */
	CHECK_EQ(run_blk("--socket /nonexistent/ccdma.sock --runtime 0.1", out,
			 sizeof(out)), 1);
	CHECK(stderr_has("no such socket"));
	REQUIRE(backend_prepare(&b) == 0);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	{
		struct sockaddr_un sa = { .sun_family = AF_UNIX };

		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", b.sock);
		REQUIRE(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	}
	close(fd); /* bound, then closed: the file stays, nobody listens */
	snprintf(args, sizeof(args), "--socket %s --runtime 0.1", b.sock);
	CHECK_EQ(run_blk(args, out, sizeof(out)), 1);
	CHECK(stderr_has("nobody is listening"));
	backend_stop(&b);
	unlink(errpath);
	return test_done("e2e_blk_tool");
}
