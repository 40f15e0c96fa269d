/* SPDX-License-Identifier: MIT */
/*
 * ccdma-devsim's command line: --help and -h exit 0 with the usage on
 * stdout; each bad option exits 2 with a message naming the problem; a
 * peer that stalls in the middle of a message is cut off (and the next
 * one served); a stale
 * socket file is replaced; SIGINT exits 0, removes the socket and prints
 * the summary; --once exits by itself after the first connection that
 * spoke; --file creates the image at --size.
 */
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "test.h"
#include "devsim_client.h"

static const char *devsim;
static char dir[64], out_path[128], err_path[128];

/* Start devsim with args (NULL-terminated), stdout and stderr to files;
 * under $CCDMA_TEST_EMULATOR when set (cross builds). */
static pid_t spawn(const char *const *args)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		const char *emu = getenv("CCDMA_TEST_EMULATOR");
		char *argv[64], *words = NULL, *save = NULL, *w;
		int n = 0, fd;

		fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(fd, 1);
		fd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(fd, 2);
		if (emu && *emu) {
			words = strdup(emu);
			for (w = strtok_r(words, " ", &save); w && n < 16;
			     w = strtok_r(NULL, " ", &save))
				argv[n++] = w;
		}
		argv[n++] = (char *)devsim;
		while (*args && n < 63)
			argv[n++] = (char *)*args++;
		argv[n] = NULL;
		execvp(argv[0], argv);
		_exit(127);
	}
	return pid;
}

/* Wait up to 10 s; the exit status, or -1 (then killed). */
static int reap(pid_t pid)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	int i, st;

	for (i = 0; i < 1000; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		nanosleep(&ts, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return -1;
}

static bool file_has(const char *path, const char *needle)
{
	char buf[8192];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return false;
	buf[n] = '\0';
	return strstr(buf, needle) != NULL;
}

static void bad(const char *needle, const char *const *args)
{
	int rc = reap(spawn(args));

	if (rc != 2 || !file_has(err_path, needle)) {
		fprintf(stderr, "%s %s: exit %d, stderr lacks '%s'\n", args[0],
			args[1] ? args[1] : "", rc, needle);
		test_failures++;
	}
}

static bool wait_ready(const char *sock, pid_t pid)
{
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	int i, st;

	for (i = 0; i < 500; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return false;
		if (backend_socket_ready(sock))
			return true;
		nanosleep(&ts, NULL);
	}
	return false;
}

int main(int argc, char **argv)
{
	char sock[128], image[128];
	struct stat st;
	pid_t pid;
	int fd;

	test_init();
	devsim = argc > 2 ? argv[2] : NULL;
	backend_require("ccdma-devsim", devsim);
	snprintf(dir, sizeof(dir), "/tmp/ccdma-devsim-cli-XXXXXX");
	REQUIRE(mkdtemp(dir));
	snprintf(out_path, sizeof(out_path), "%s/out", dir);
	snprintf(err_path, sizeof(err_path), "%s/err", dir);
	snprintf(sock, sizeof(sock), "%s/s.sock", dir);
	snprintf(image, sizeof(image), "%s/disk.img", dir);

	CHECK_EQ(reap(spawn((const char *[]){ "--help", NULL })), 0);
	CHECK(file_has(out_path, "usage: ccdma-devsim"));
	CHECK(file_has(out_path, "--no-write-zeroes"));
	CHECK_EQ(reap(spawn((const char *[]){ "-h", NULL })), 0);
	CHECK(file_has(out_path, "usage: ccdma-devsim"));

	bad("--socket PATH is required", (const char *[]){ "--size", "1m", NULL });
	bad("option '--socket' needs a value", (const char *[]){ "--socket", NULL });
	bad("unknown option '-x'", (const char *[]){ "-x", NULL });
	bad("unknown option '--bogus'",
	    (const char *[]){ "--bogus", "--socket", sock, NULL });
	bad("--queues", (const char *[]){ "--queues", "0", "--socket", sock, NULL });
	bad("--queues", (const char *[]){ "--queues", "17", "--socket", sock, NULL });
	bad("--queues", (const char *[]){ "--queues", "2x", "--socket", sock, NULL });
	bad("--size", (const char *[]){ "--size", "12x", "--socket", sock, NULL });
	bad("--size", (const char *[]){ "--size", "0", "--socket", sock, NULL });
	bad("--size", (const char *[]){ "--size", "-1", "--socket", sock, NULL });
	bad("not a multiple",
	    (const char *[]){ "--size", "1000", "--socket", sock, NULL });
	bad("not a multiple", (const char *[]){ "--size", "1m", "--blk-size",
						"4096", "--size", "6k",
						"--socket", sock, NULL });
	bad("--blk-size",
	    (const char *[]){ "--blk-size", "1000", "--socket", sock, NULL });
	bad("--queue-size",
	    (const char *[]){ "--queue-size", "100", "--socket", sock, NULL });
	bad("--seg-max", (const char *[]){ "--seg-max", "0", "--socket", sock, NULL });
	bad("unexpected argument",
	    (const char *[]){ "--socket", sock, "extra", NULL });

	/* A stale socket file is replaced; SIGINT ends it cleanly. */
	fd = open(sock, O_WRONLY | O_CREAT, 0600);
	REQUIRE(fd >= 0);
	close(fd);
	pid = spawn((const char *[]){ "--socket", sock, "--size", "1m", "--file",
				      image, NULL });
	CHECK(wait_ready(sock, pid));
	CHECK(stat(image, &st) == 0 && st.st_size == (1 << 20));
	kill(pid, SIGINT);
	CHECK_EQ(reap(pid), 0);
	CHECK(stat(sock, &st) != 0 && errno == ENOENT);
	CHECK(file_has(err_path, "ccdma-devsim: listening on "));
	CHECK(file_has(err_path, sock));
	CHECK(file_has(err_path, "summary: connections 1 "));

	/* A peer that sends half a header and stalls is cut off (after the
	 * 5 s receive bound); the next connection is served. */
	pid = spawn((const char *[]){ "--socket", sock, "--size", "1m", "--quiet",
				      NULL });
	CHECK(wait_ready(sock, pid));
	{
		struct dc c, c2;
		uint64_t f = 0;

		REQUIRE(dc_connect(&c, sock) == 0);
		CHECK(send(c.sock, "\x01\0", 2, MSG_NOSIGNAL) == 2);
		CHECK(dc_closed(&c, 60000));
		dc_close(&c);
		REQUIRE(dc_connect(&c2, sock) == 0);
		CHECK(dc_get_u64(&c2, CCDMA_VU_GET_FEATURES, &f) == 0);
		CHECK(f & (1ull << CCDMA_VIRTIO_F_VERSION_1));
		dc_close(&c2);
	}
	kill(pid, SIGTERM);
	CHECK_EQ(reap(pid), 0);

	/* --once: the readiness probe (no message) does not count; the
	 * first connection that speaks does.  --quiet prints nothing. */
	pid = spawn((const char *[]){ "--socket", sock, "--size", "1m", "--once",
				      "--quiet", NULL });
	CHECK(wait_ready(sock, pid));
	{
		struct dc c;
		uint64_t f = 0;

		REQUIRE(dc_connect(&c, sock) == 0);
		CHECK(dc_get_u64(&c, CCDMA_VU_GET_FEATURES, &f) == 0);
		CHECK(f & (1ull << CCDMA_VIRTIO_F_VERSION_1));
		CHECK(!(f & (1ull << CCDMA_VIRTIO_F_ACCESS_PLATFORM)));
		dc_close(&c);
	}
	CHECK_EQ(reap(pid), 0);
	CHECK(stat(err_path, &st) == 0 && st.st_size == 0);

	/* Offered features follow the switches. */
	pid = spawn((const char *[]){ "--socket", sock, "--read-only", "--queues",
				      "4", "--no-flush", "--no-event-idx",
				      "--no-reply-ack", "--no-mem-slots", "--quiet",
				      NULL });
	CHECK(wait_ready(sock, pid));
	{
		struct dc c;
		uint64_t f = 0, pf = 0, q = 0;

		REQUIRE(dc_connect(&c, sock) == 0);
		CHECK(dc_get_u64(&c, CCDMA_VU_GET_FEATURES, &f) == 0);
		CHECK(f & (1ull << CCDMA_VIRTIO_BLK_F_RO));
		CHECK(f & (1ull << CCDMA_VIRTIO_BLK_F_MQ));
		CHECK(!(f & (1ull << CCDMA_VIRTIO_BLK_F_FLUSH)));
		CHECK(!(f & (1ull << CCDMA_VIRTIO_F_EVENT_IDX)));
		CHECK(f & (1ull << CCDMA_VIRTIO_F_INDIRECT_DESC));
		CHECK(f & (1ull << CCDMA_VIRTIO_BLK_F_DISCARD));
		CHECK(dc_get_u64(&c, CCDMA_VU_GET_PROTOCOL_FEATURES, &pf) == 0);
		CHECK(!(pf & (1ull << CCDMA_VU_PF_REPLY_ACK)));
		CHECK(!(pf & (1ull << CCDMA_VU_PF_CONFIGURE_MEM_SLOTS)));
		CHECK(pf & (1ull << CCDMA_VU_PF_MQ));
		CHECK(pf & (1ull << CCDMA_VU_PF_CONFIG));
		CHECK(dc_get_u64(&c, CCDMA_VU_GET_QUEUE_NUM, &q) == 0);
		CHECK_EQ(q, 4);
		dc_close(&c);
	}
	kill(pid, SIGTERM);
	CHECK_EQ(reap(pid), 0);

	unlink(out_path);
	unlink(err_path);
	unlink(image);
	unlink(sock);
	rmdir(dir);
	return test_done("devsim_cli");
}
