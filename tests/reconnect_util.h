/* SPDX-License-Identifier: MIT */
/*
 * Helpers of the reconnect tests (issue 13, section 3): a device process
 * on a file-backed disk (qemu-storage-daemon or ccdma-devsim), so that what
 * was written survives a restart of the process, started again on the
 * same socket; and ccdma-blk --reconnect run against it, with its stderr
 * read line by line so that the test acts on events (a reconnect, a
 * progress line), never on guessed times.
 */
#ifndef CCDMA_TEST_RECONNECT_UTIL_H
#define CCDMA_TEST_RECONNECT_UTIL_H

#include "blk_tool_util.h"

#include <sys/wait.h>

#define RC_DISK (64ull << 20)

struct rc_dev {
	struct backend b;
	const char *prog;
	bool qsd;
};

/* Start (again, on the same socket and file) the device process. */
static inline int rc_dev_spawn(struct rc_dev *d)
{
	struct blkjob_qsd_args args;
	char *argv[12];
	char size[32];

	if (d->qsd) {
		blkjob_qsd_argv(argv, &args, d->prog, d->b.image, RC_DISK,
				d->b.sock, 1);
		return backend_spawn(&d->b, argv);
	}
	snprintf(size, sizeof(size), "%llu", (unsigned long long)RC_DISK);
	argv[0] = (char *)d->prog;
	argv[1] = (char *)"--socket";
	argv[2] = d->b.sock;
	argv[3] = (char *)"--file";
	argv[4] = d->b.image;
	argv[5] = (char *)"--size";
	argv[6] = size;
	argv[7] = NULL;
	return backend_spawn(&d->b, argv);
}

static inline int rc_dev_start(struct rc_dev *d, const char *prog, bool qsd)
{
	d->prog = prog;
	d->qsd = qsd;
	if (backend_prepare(&d->b) || backend_make_image(&d->b, RC_DISK))
		return -1;
	return rc_dev_spawn(d);
}

/* SIGKILL the device process and reap it: it leaves its socket file. */
static inline void rc_dev_kill(struct rc_dev *d)
{
	int st;

	REQUIRE(d->b.pid > 0);
	kill(d->b.pid, SIGKILL);
	waitpid(d->b.pid, &st, 0);
	d->b.pid = 0;
}

/* Start ccdma-blk on the device with args (NULL-terminated, after
 * --socket S); its stderr comes to *err. */
static inline pid_t rc_blk_start(struct tool *t, struct rc_dev *d,
				 const char *const *args, int *err)
{
	char *argv[40];
	int n = 0;

	argv[n++] = t->blk;
	argv[n++] = (char *)"--socket";
	argv[n++] = d->b.sock;
	while (*args && n < 39)
		argv[n++] = (char *)*args++;
	argv[n] = NULL;
	return tool_spawn(t, argv, err, NULL);
}

/* Start the device process, then ccdma-blk on it (args as for
 * rc_blk_start), and wait until the run made progress (its first progress
 * line).  Returns ccdma-blk's pid; its stderr comes to *err. */
static inline pid_t rc_running(struct tool *t, struct rc_dev *d,
			       const char *prog, bool qsd,
			       const char *const *args, int *err)
{
	pid_t pid;

	REQUIRE(rc_dev_start(d, prog, qsd) == 0);
	unlink(t->err);
	pid = rc_blk_start(t, d, args, err);
	REQUIRE(tool_wait_line(*err, "] run: ", t->err));
	return pid;
}

/* ccdma-blk's exit status once it ended; its stderr copied to t->err. */
static inline int rc_blk_end(struct tool *t, pid_t pid, int err)
{
	tool_drain(err, t->err);
	close(err);
	return tool_wait(pid);
}

#endif /* CCDMA_TEST_RECONNECT_UTIL_H */
