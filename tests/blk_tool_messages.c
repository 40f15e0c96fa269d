/* SPDX-License-Identifier: MIT */
/*
 * What ccdma-blk tells a user (issue 12, D5): a back-end busy with another
 * client or stopped "accepted the connection but did not answer"; a
 * server that closes at once "hung up" (it broke no protocol); a regular
 * file given as --socket "is not a socket"; the summary gives the
 * device's queues and the ones in use; `--bs` without a value names
 * --bs; -h prints the usage; every stderr line starts with "ccdma-blk: ".
 */
#include "blk_tool_util.h"

#include <pthread.h>

static struct tool t;

/* A Unix socket server that accepts and closes at once, `n` times. */
struct hangup {
	int fd;
	unsigned n;
	pthread_t th;
};

static void *hangup_main(void *arg)
{
	struct hangup *h = arg;

	for (unsigned i = 0; i < h->n; i++) {
		int c = accept(h->fd, NULL, NULL);

		if (c >= 0)
			close(c);
	}
	return NULL;
}

static int listen_unix(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	REQUIRE(fd >= 0);
	REQUIRE(strlen(path) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, path, strlen(path) + 1);
	REQUIRE(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	REQUIRE(listen(fd, 4) == 0);
	return fd;
}

static int connect_unix(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	REQUIRE(fd >= 0);
	REQUIRE(strlen(path) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, path, strlen(path) + 1);
	REQUIRE(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	return fd;
}

/* Exit 1 against `sock`, and the message says `what`. */
static void cannot_connect(const char *sock, const char *what, const char *not)
{
	CHECK_EQ(tool_blk(&t, (const char *[]){ "--socket", sock, "--runtime",
						"0.1", NULL }), 1);
	CHECK(tool_has(t.err, what));
	if (not)
		CHECK(tool_lacks(t.err, not));
	CHECK(tool_all_lines(t.err, "ccdma-blk: "));
	CHECK_EQ(strlen(tool_text(t.out)), 0);
}

/* The summary and --json of a short read on `sock` give 2 device queues,
 * 1 in use. */
static void two_queues(const char *sock)
{
	CHECK_EQ(tool_blk(&t, (const char *[]){ "--socket", sock, "--rw", "read",
						"--size", "1m", "--quiet", NULL }), 0);
	CHECK(tool_has(t.out, "2 queue(s), 1 in use"));
	CHECK_EQ(tool_blk(&t, (const char *[]){ "--socket", sock, "--rw", "read",
						"--size", "1m", "--json", NULL }), 0);
	CHECK_EQ(tool_json_num(tool_text(t.out), "device_queues"), 2);
	CHECK_EQ(tool_json_num(tool_text(t.out), "queues_in_use"), 1);
}

int main(int argc, char **argv)
{
	struct backend b;
	struct hangup h;
	char path[128];
	int busy;

	tool_init(&t, argc, argv);

	/* Options. */
	CHECK_EQ(tool_blk(&t, (const char *[]){ "--bs", NULL }), 2);
	CHECK(tool_has(t.err, "option --bs needs a value"));
	CHECK(tool_lacks(t.err, "-b "));
	CHECK_EQ(tool_blk(&t, (const char *[]){ "-h", NULL }), 0);
	CHECK(tool_has(t.out, "usage: ccdma-blk"));
	CHECK_EQ(tool_blk(&t, (const char *[]){ "--help", NULL }), 0);
	CHECK(tool_has(t.out, "usage: ccdma-blk"));
	CHECK_EQ(tool_blk(&t, (const char *[]){ "--bogus", NULL }), 2);
	CHECK(tool_has(t.err, "unknown option --bogus"));
	CHECK_EQ(tool_blk(&t, (const char *[]){ "--verify=yes", NULL }), 2);
	CHECK(tool_has(t.err, "option --verify takes no value"));

	/* A back-end serving another client, then one that is stopped. */
	REQUIRE(backend_start_devsim(&b, argv[2], (const char *[]){ "--quiet",
				     NULL }) == 0);
	busy = connect_unix(b.sock);
	cannot_connect(b.sock, "accepted the connection but did not answer",
		       "Connection timed out");
	close(busy);
	kill(b.pid, SIGSTOP);
	cannot_connect(b.sock, "accepted the connection but did not answer", NULL);
	kill(b.pid, SIGCONT);
	CHECK_EQ(backend_stop(&b), 0);

	/* A server that closes every connection at once. */
	snprintf(path, sizeof(path), "%s/hangup.sock", t.dir);
	h.fd = listen_unix(path);
	h.n = 1;
	REQUIRE(pthread_create(&h.th, NULL, hangup_main, &h) == 0);
	cannot_connect(path, "hung up", "broke the vhost-user protocol");
	pthread_join(h.th, NULL);
	close(h.fd);
	unlink(path);

	/* A regular file, and a path with nothing there. */
	snprintf(path, sizeof(path), "%s/plain", t.dir);
	close(open(path, O_CREAT | O_WRONLY, 0600));
	cannot_connect(path, "is not a socket", "nobody is listening");
	unlink(path);
	cannot_connect("/nonexistent/ccdma.sock", "no such socket", NULL);

	/* A device with two queues, of which the tool uses one. */
	REQUIRE(backend_start_devsim(&b, argv[2], (const char *[]){ "--queues",
				     "2", "--quiet", NULL }) == 0);
	two_queues(b.sock);
	CHECK_EQ(backend_stop(&b), 0);
	if (argv[1] && *argv[1] && access(argv[1], X_OK) == 0) {
		REQUIRE(backend_start_qsd(&b, argv[1], 0, 16ull << 20, 2) == 0);
		two_queues(b.sock);
		CHECK_EQ(backend_stop(&b), 0);
	}

	tool_fini(&t);
	return test_done("blk_tool_messages");
}
