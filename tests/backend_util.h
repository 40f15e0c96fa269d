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
	struct sockaddr_un sa;
	int fd, ok;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

/* Start argv[0] with argv; wait up to 10 s for b->sock to exist.  The
 * back-end must serve a new connection after one closes (both
 * qemu-storage-daemon and ccdma-devsim do), since the readiness probe
 * connects once.  Returns 0 or -1 (after saying why). */
static inline int backend_spawn(struct backend *b, char *const argv[])
{
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	int i, status;

	fflush(NULL);
	b->pid = fork();
	if (b->pid < 0) {
		perror("fork");
		return -1;
	}
	if (b->pid == 0) {
		/* Cross builds: run the back-end under the same emulator
		 * (CCDMA_TEST_EMULATOR, words separated by spaces). */
		const char *emu = getenv("CCDMA_TEST_EMULATOR");

		if (emu && *emu) {
			char *words = strdup(emu), *save = NULL, *w;
			char *full[48];
			int n = 0, k;

			for (w = strtok_r(words, " ", &save); w && n < 16;
			     w = strtok_r(NULL, " ", &save))
				full[n++] = w;
			for (k = 0; argv[k] && n < 47; k++)
				full[n++] = argv[k];
			full[n] = NULL;
			execvp(full[0], full);
			fprintf(stderr, "exec %s: %s\n", full[0], strerror(errno));
			_exit(127);
		}
		execv(argv[0], argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	for (i = 0; i < 500; i++) {
		struct stat st;

		if (waitpid(b->pid, &status, WNOHANG) == b->pid) {
			fprintf(stderr, "back-end %s exited early (status %#x)\n",
				argv[0], status);
			b->pid = 0;
			return -1;
		}
		if (stat(b->sock, &st) == 0 && backend_socket_ready(b->sock))
			return 0;
		nanosleep(&ts, NULL);
	}
	fprintf(stderr, "back-end %s: socket %s not ready after 10 s\n", argv[0],
		b->sock);
	return -1;
}

/* qemu-storage-daemon exporting a vhost-user-blk device: on the image file
 * (image != 0, `size` bytes) or on the null-co driver (reads give zeroes,
 * writes are dropped). */
static inline int backend_start_qsd(struct backend *b, const char *qsd,
				    int image, uint64_t size, unsigned queues)
{
	char blockdev[256], export[384];
	char *argv[8];

	if (backend_prepare(b))
		return -1;
	if (image) {
		if (backend_make_image(b, size))
			return -1;
		snprintf(blockdev, sizeof(blockdev),
			 "driver=file,node-name=disk0,filename=%s", b->image);
	} else {
		snprintf(blockdev, sizeof(blockdev),
			 "driver=null-co,node-name=disk0,size=%llu,read-zeroes=on",
			 (unsigned long long)size);
	}
	snprintf(export, sizeof(export),
		 "type=vhost-user-blk,id=exp0,node-name=disk0,addr.type=unix,"
		 "addr.path=%s,writable=on,num-queues=%u", b->sock, queues);
	argv[0] = (char *)qsd;
	argv[1] = (char *)"--blockdev";
	argv[2] = blockdev;
	argv[3] = (char *)"--export";
	argv[4] = export;
	argv[5] = NULL;
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
 * files.  Returns the back-end's exit status as waitpid gives it, or -1. */
static inline int backend_stop(struct backend *b)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	int i, status = -1;

	if (b->pid > 0) {
		kill(b->pid, SIGTERM);
		for (i = 0; i < 500; i++) {
			if (waitpid(b->pid, &status, WNOHANG) == b->pid)
				break;
			nanosleep(&ts, NULL);
		}
		if (i == 500) {
			kill(b->pid, SIGKILL);
			waitpid(b->pid, &status, 0);
		}
		b->pid = 0;
	}
	if (b->dir[0]) {
		unlink(b->sock);
		unlink(b->image);
		rmdir(b->dir);
	}
	return status;
}

#endif /* CCDMA_TEST_BACKEND_UTIL_H */
