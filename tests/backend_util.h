/* SPDX-License-Identifier: MIT */
/*
 * Test helper: start a vhost-user-blk back-end in its own process
 * (qemu-storage-daemon or ccdma-devsim) listening on a fresh Unix socket,
 * wait until the socket accepts connections, and stop it at the end.
 * Header only; used by the tests that talk to a real device process.
 */
#ifndef CCDMA_TEST_BACKEND_UTIL_H
#define CCDMA_TEST_BACKEND_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "blkjob.h"

struct backend {
	pid_t pid;
	char dir[64];     /* temporary directory: socket, disk image */
	char sock[104];   /* socket path (fits sun_path) */
	char image[128];  /* disk image path (file back-ends) */
};

/* Exit 77 with a message when `path` (a back-end program named on the test
 * command line) is missing: CMake passes an empty string when it did not
 * find the program. */
static inline void backend_require(const char *what, const char *path)
{
	if (!path || !*path || access(path, X_OK) != 0) {
		printf("SKIP: %s not found (%s)\n", what,
		       path && *path ? path : "not configured");
		exit(77);
	}
}

static inline int backend_prepare(struct backend *b)
{
	memset(b, 0, sizeof(*b));
	snprintf(b->dir, sizeof(b->dir), "/tmp/ccdma-test-XXXXXX");
	if (!mkdtemp(b->dir)) {
		perror("mkdtemp");
		return -1;
	}
	snprintf(b->sock, sizeof(b->sock), "%s/vhost.sock", b->dir);
	snprintf(b->image, sizeof(b->image), "%s/disk.img", b->dir);
	return 0;
}

/* A sparse image file of `size` bytes at b->image. */
static inline int backend_make_image(struct backend *b, uint64_t size)
{
	int fd = open(b->image, O_RDWR | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || ftruncate(fd, (off_t)size) != 0) {
		perror("backend image");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static inline int backend_socket_ready(const char *path)
{
	return blkjob_socket_accepts(path);
}

/* Start argv[0] with argv; wait up to 10 s until b->sock accepts a
 * connection (tools/blkjob.c).  The back-end must serve a new connection
 * after one closes (qemu-storage-daemon and ccdma-devsim do), since the
 * readiness probe connects once.  Cross builds run the back-end under the
 * same emulator (CCDMA_TEST_EMULATOR, words separated by spaces).  Returns
 * 0 or -1 (after saying why). */
static inline int backend_spawn(struct backend *b, char *const argv[])
{
	const char *emu = getenv("CCDMA_TEST_EMULATOR");
	char *full[48], *words = NULL, *save = NULL, *w;
	int n = 0, rc;

	if (emu && *emu) {
		words = strdup(emu);
		for (w = strtok_r(words, " ", &save); w && n < 16;
		     w = strtok_r(NULL, " ", &save))
			full[n++] = w;
	}
	for (int k = 0; argv[k] && n < 47; k++)
		full[n++] = argv[k];
	full[n] = NULL;
	rc = blkjob_spawn_wait(&b->pid, b->sock, full);
	free(words);
	return rc;
}

/* qemu-storage-daemon exporting a vhost-user-blk device: on the image file
 * (image != 0, `size` bytes) or on the null-co driver (reads give zeroes,
 * writes are dropped). */
static inline int backend_start_qsd(struct backend *b, const char *qsd,
				    int image, uint64_t size, unsigned queues)
{
	struct blkjob_qsd_args args;
	char *argv[6];

	if (backend_prepare(b))
		return -1;
	if (image && backend_make_image(b, size))
		return -1;
	blkjob_qsd_argv(argv, &args, qsd, image ? b->image : NULL, size, b->sock,
			queues);
	return backend_spawn(b, argv);
}

/* ccdma-devsim with extra arguments (NULL-terminated list): the socket
 * argument is added. */
static inline int backend_start_devsim(struct backend *b, const char *devsim,
				       const char *const *extra)
{
	char *argv[32];
	int n = 0;

	if (backend_prepare(b))
		return -1;
	argv[n++] = (char *)devsim;
	argv[n++] = (char *)"--socket";
	argv[n++] = b->sock;
	while (extra && *extra && n < 31)
		argv[n++] = (char *)*extra++;
	argv[n] = NULL;
	return backend_spawn(b, argv);
}

/* Stop the back-end (SIGTERM, then SIGKILL after 5 s) and remove its
 * files.  Returns its exit status (0: a clean exit), or -1. */
static inline int backend_stop(struct backend *b)
{
	int status = blkjob_stop_pid(&b->pid);

	if (b->dir[0]) {
		unlink(b->sock);
		unlink(b->image);
		rmdir(b->dir);
	}
	return status;
}

#endif /* CCDMA_TEST_BACKEND_UTIL_H */
