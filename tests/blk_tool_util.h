/* SPDX-License-Identifier: MIT */
/*
 * Helpers of the tests that run ccdma-blk (and ccdma-bench blk) as a user
 * does: start the program with its stdout and stderr in files (or stderr
 * in a pipe, to wait for a line), wait for its exit status, and look at
 * what it printed.  The programs are found beside ccdma-devsim, whose path
 * the test gets on its command line (tests/CMakeLists.txt).
 */
#ifndef CCDMA_TEST_BLK_TOOL_UTIL_H
#define CCDMA_TEST_BLK_TOOL_UTIL_H

#include "backend_util.h"
#include "test.h"

#include <libgen.h>
#include <poll.h>

struct tool {
	char blk[512];      /* ccdma-blk */
	char bench[512];    /* ccdma-bench */
	char dir[64];       /* scratch folder: out, err */
	char out[96], err[96];
};

/* Exit 77 unless the programs are there and native (popen-like runs of a
 * foreign binary need an emulator the tests do not add). */
static inline void tool_init(struct tool *t, int argc, char **argv)
{
	char d[512];
	const char *dir;

	test_init();
	backend_require("ccdma-devsim", argc > 2 ? argv[2] : NULL);
	if (getenv("CCDMA_TEST_EMULATOR") && *getenv("CCDMA_TEST_EMULATOR")) {
		printf("SKIP: the tool tests run native builds only\n");
		exit(77);
	}
	snprintf(d, sizeof(d), "%s", argv[2]);
	dir = dirname(d);
	snprintf(t->blk, sizeof(t->blk), "%s/ccdma-blk", dir);
	snprintf(t->bench, sizeof(t->bench), "%s/../bench/ccdma-bench", dir);
	REQUIRE(access(t->blk, X_OK) == 0);
	snprintf(t->dir, sizeof(t->dir), "/tmp/ccdma-tool-XXXXXX");
	REQUIRE(mkdtemp(t->dir));
	snprintf(t->out, sizeof(t->out), "%s/out", t->dir);
	snprintf(t->err, sizeof(t->err), "%s/err", t->dir);
}

static inline void tool_fini(struct tool *t)
{
	unlink(t->out);
	unlink(t->err);
	rmdir(t->dir);
}

/* Start argv (NULL-terminated) with stdout in t->out and stderr in t->err,
 * or in a pipe whose read end goes to *err_pipe when err_pipe is given.
 * `env`: NULL, or a NULL-terminated list of "NAME=VALUE" to set and
 * "NAME" to unset in the child. */
static inline pid_t tool_spawn(struct tool *t, char *const argv[],
			       int *err_pipe, const char *const *env)
{
	int p[2] = { -1, -1 };
	pid_t pid;

	if (err_pipe)
		REQUIRE(pipe(p) == 0);
	fflush(NULL);
	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		int fd = open(t->out, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		dup2(fd, 1);
		if (err_pipe) {
			dup2(p[1], 2);
			close(p[0]);
		} else {
			fd = open(t->err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
			dup2(fd, 2);
		}
		for (; env && *env; env++) {
			if (strchr(*env, '='))
				putenv((char *)*env);
			else
				unsetenv(*env);
		}
		execv(argv[0], argv);
		_exit(127);
	}
	if (err_pipe) {
		close(p[1]);
		*err_pipe = p[0];
	}
	return pid;
}

/* The exit status of pid (waits up to 120 s, then kills it: -1). */
static inline int tool_wait(pid_t pid)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	int st;

	for (int i = 0; i < 12000; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		nanosleep(&ts, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return -1;
}

/* Run ccdma-blk with the arguments (NULL-terminated); its exit status. */
static inline int tool_blk(struct tool *t, const char *const *args)
{
	char *argv[256];
	int n = 0;

	argv[n++] = t->blk;
	while (*args && n < 255)
		argv[n++] = (char *)*args++;
	argv[n] = NULL;
	return tool_wait(tool_spawn(t, argv, NULL, NULL));
}

/* A file's text (at most 64 KiB), in a static buffer. */
static inline const char *tool_text(const char *path)
{
	static char buf[65536];
	int fd = open(path, O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = 0;
	return buf;
}

/* The file holds `text`; says what it holds when not. */
static inline bool tool_has(const char *path, const char *text)
{
	const char *s = tool_text(path);

	if (strstr(s, text))
		return true;
	fprintf(stderr, "%s lacks '%s':\n%s\n", path, text, s);
	return false;
}

static inline bool tool_lacks(const char *path, const char *text)
{
	const char *s = tool_text(path);

	if (!strstr(s, text))
		return true;
	fprintf(stderr, "%s has '%s':\n%s\n", path, text, s);
	return false;
}

/* Every line of the file starts with `prefix`. */
static inline bool tool_all_lines(const char *path, const char *prefix)
{
	const char *s = tool_text(path), *l;

	for (l = s; *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : l + strlen(l)) {
		if (strncmp(l, prefix, strlen(prefix))) {
			fprintf(stderr, "%s: a line lacks '%s':\n%s\n", path,
				prefix, s);
			return false;
		}
	}
	return true;
}

/* The number after "key": in a JSON text, or -1. */
static inline double tool_json_num(const char *js, const char *key)
{
	char pat[96];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\": ", key);
	p = strstr(js, pat);
	return p ? strtod(p + strlen(pat), NULL) : -1;
}

/* Read lines from fd until one holds `text` (or EOF / 60 s): true when
 * one did.  What was read is appended to the file at path. */
static inline bool tool_wait_line(int fd, const char *text, const char *path)
{
	char buf[4096];
	size_t n = 0;
	int log = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600);
	bool found = false;

	for (int i = 0; i < 600 && !found; i++) {
		struct pollfd p = { fd, POLLIN, 0 };
		ssize_t k;

		if (poll(&p, 1, 100) != 1)
			continue;
		k = read(fd, buf + n, sizeof(buf) - 1 - n);
		if (k <= 0)
			break;
		if (log >= 0)
			(void)!write(log, buf + n, (size_t)k);
		n += (size_t)k;
		buf[n] = 0;
		found = strstr(buf, text) != NULL;
		if (n > sizeof(buf) / 2 && !found) {
			/* Keep the tail: a line may straddle. */
			memmove(buf, buf + n - 256, 256);
			n = 256;
		}
	}
	if (log >= 0)
		close(log);
	return found;
}

/* Copy fd to the file at path until EOF. */
static inline void tool_drain(int fd, const char *path)
{
	char buf[4096];
	int log = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600);
	ssize_t k;

	while ((k = read(fd, buf, sizeof(buf))) > 0)
		if (log >= 0)
			(void)!write(log, buf, (size_t)k);
	if (log >= 0)
		close(log);
	close(fd);
}

#endif /* CCDMA_TEST_BLK_TOOL_UTIL_H */
