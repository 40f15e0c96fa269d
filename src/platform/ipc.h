/* SPDX-License-Identifier: MIT */
/*
 * Inter-process primitives for the hosted layers (the vhost-user
 * front-end): a Unix stream socket that carries file descriptors, eventfds
 * and waiting on them.  Implemented by src/platform/ipc_posix.c; like os.h,
 * this header pulls in no OS header, so the callers stay OS-free.
 *
 * Every function returns 0 (or a count) or a negative errno value and
 * never sets errno.  Deadlines are absolute ccdma_os_now_ns() values;
 * CCDMA_OS_NO_DEADLINE waits for ever.
 *
 * Sockets are never a source of SIGPIPE (sends use MSG_NOSIGNAL), and file
 * descriptors received are close-on-exec.
 */
#ifndef CCDMA_PLATFORM_IPC_H
#define CCDMA_PLATFORM_IPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CCDMA_OS_NO_DEADLINE UINT64_MAX

/*
 * Connect a stream socket to the Unix socket at `path` (close-on-exec,
 * blocking; sends time out after `timeout_ms`, 0 = never).  Returns 0 and
 * *fd, or -ENOENT (no such file), -ENOTSOCK (a file that is not a stream
 * socket), -ECONNREFUSED (a socket nobody listens on), -EACCES (no
 * permission), -ETIMEDOUT (the listener's backlog stayed full), -EINVAL
 * (path too long or empty), another -errno.
 */
int ccdma_os_unix_connect(const char *path, unsigned timeout_ms, int *fd);

/*
 * Send all `len` bytes of `buf` on `sock`, with `nfds` descriptors (at
 * most 16) attached to the first byte.  Returns 0, -ETIMEDOUT (the peer
 * did not take the bytes before the send timeout), -EPIPE (the peer is
 * gone), another -errno.
 */
int ccdma_os_sock_send(int sock, const void *buf, size_t len, const int *fds,
		       unsigned nfds);

/*
 * Receive exactly `len` bytes into `buf` before `deadline_ns`.  Descriptors
 * that arrive with them are stored in fds[] (up to max_fds; *nfds gets how
 * many were stored) and any beyond max_fds are closed at once; the caller
 * owns (and must close) exactly fds[0 .. *nfds).  Returns 0, -ETIMEDOUT,
 * -ECONNRESET (the peer closed the connection, even mid-message), -EMFILE
 * (all bytes were received, but the kernel dropped descriptors sent with
 * them because this process had no free descriptor slot, or more than 16
 * came: MSG_CTRUNC; those were never this process's, and *nfds does not
 * count them), another -errno.
 */
int ccdma_os_sock_recv(int sock, void *buf, size_t len, int *fds,
		       unsigned max_fds, unsigned *nfds, uint64_t deadline_ns);

/* Shut both directions of a socket down (wakes every thread polling it);
 * the descriptor stays open. */
void ccdma_os_sock_shutdown(int sock);

/* A non-blocking, close-on-exec eventfd with counter 0.  0 and *fd, or
 * -errno. */
int ccdma_os_eventfd_create(int *fd);
/* Add one to the counter.  0 or -errno. */
int ccdma_os_eventfd_signal(int fd);
/* Read (and so reset) the counter without blocking: true when it was
 * non-zero. */
bool ccdma_os_eventfd_clear(int fd);

/*
 * Wait until eventfd `efd` is signalled or `sock` is hung up, at most
 * until `deadline_ns`.  A signal is consumed (the counter reset).  Returns
 * 0 (signalled), -ETIMEDOUT, -ECONNRESET (the socket is hung up or
 * shut down), another -errno.  `sock` may be -1.
 */
int ccdma_os_eventfd_wait(int efd, int sock, uint64_t deadline_ns);

/* Make descriptor `fd` refer to what `newfd` refers to (atomically: a
 * thread that uses fd meanwhile sees the old file or the new one, never
 * another), then close newfd.  0 or -errno (newfd is closed either way). */
int ccdma_os_fd_replace(int fd, int newfd);

/* Close a descriptor this process owns (-1 is ignored). */
void ccdma_os_close(int fd);

#endif /* CCDMA_PLATFORM_IPC_H */
