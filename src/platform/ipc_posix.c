/* SPDX-License-Identifier: MIT */
/*
 * POSIX / Linux implementation of the inter-process primitives (ipc.h):
 * Unix sockets with SCM_RIGHTS, eventfds, poll.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "platform/ipc.h"
#include "platform/os.h"

/* The most descriptors one send or one recvmsg handles. */
#define IPC_MAX_FDS 16

/* poll() timeout for an absolute deadline: rounded up to whole ms. */
static int poll_ms(uint64_t deadline_ns)
{
	uint64_t now, left;

	if (deadline_ns == CCDMA_OS_NO_DEADLINE)
		return -1;
	now = ccdma_os_now_ns();
	if (now >= deadline_ns)
		return 0;
	left = (deadline_ns - now + 999999) / 1000000;
	return left > INT_MAX ? INT_MAX : (int)left;
}

/* False when `path` exists and is not a socket. */
static bool unix_path_is_socket(const char *path)
{
	struct stat st;

	return stat(path, &st) != 0 || S_ISSOCK(st.st_mode);
}

int ccdma_os_unix_connect(const char *path, unsigned timeout_ms, int *fd)
{
	struct sockaddr_un sa;
	size_t len;
	int s, err;

	if (!path || !fd)
		return -EINVAL;
	len = strlen(path);
	memset(&sa, 0, sizeof(sa));
	if (!len || len >= sizeof(sa.sun_path))
		return -EINVAL;
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, len);

	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	if (timeout_ms) {
		/* Bounds both connect (a full backlog) and every later send. */
		struct timeval tv;

		tv.tv_sec = timeout_ms / 1000;
		tv.tv_usec = (suseconds_t)(timeout_ms % 1000) * 1000;
		if (setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv))) {
			err = -errno;
			close(s);
			return err;
		}
	}
	while (connect(s, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		if (errno == EINTR)
			continue;
		if (errno == EISCONN)
			break;
		switch (errno) {
		case EAGAIN:
		case EINPROGRESS:
			err = -ETIMEDOUT;
			break;
		case ENOTSOCK:
		case EPROTOTYPE:
			err = -ENOTSOCK;
			break;
		case ECONNREFUSED:
			/* Linux says the same for a regular file. */
			err = unix_path_is_socket(path) ? -ECONNREFUSED
							: -ENOTSOCK;
			break;
		case EPERM:
			err = -EACCES;
			break;
		default:
			err = -errno;
			break;
		}
		close(s);
		return err;
	}
	*fd = s;
	return 0;
}

int ccdma_os_sock_send(int sock, const void *buf, size_t len, const int *fds,
		       unsigned nfds)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int) * IPC_MAX_FDS)];
	} ctl;
	const char *p = buf;
	bool first = true;

	if (nfds > IPC_MAX_FDS || (nfds && !fds) || (len && !buf))
		return -EINVAL;
	while (len) {
		struct msghdr mh;
		struct iovec iov;
		ssize_t n;

		memset(&mh, 0, sizeof(mh));
		iov.iov_base = (void *)p;
		iov.iov_len = len;
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		if (first && nfds) {
			struct cmsghdr *c;

			memset(&ctl, 0, sizeof(ctl));
			mh.msg_control = ctl.buf;
			mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
			c = CMSG_FIRSTHDR(&mh);
			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_RIGHTS;
			c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
			memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
		}
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return -ETIMEDOUT;
			if (errno == ECONNRESET || errno == ENOTCONN)
				return -EPIPE;
			return -errno;
		}
		first = false;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Take the descriptors of one recvmsg: keep up to max_fds, close the rest.
 * *nfds counts only descriptors this process received.  Returns true when
 * the kernel dropped some (MSG_CTRUNC: no free descriptor slot at
 * RLIMIT_NOFILE, or more than the control buffer holds); those were never
 * ours, so nothing is stored or closed for them. */
static bool take_fds(struct msghdr *mh, int *fds, unsigned max_fds,
		     unsigned *nfds)
{
	struct cmsghdr *c;

	for (c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		size_t i, n;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
		    c->cmsg_len < CMSG_LEN(0))
			continue;
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < n; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (*nfds < max_fds && fds)
				fds[(*nfds)++] = fd;
			else
				close(fd);
		}
	}
	return (mh->msg_flags & MSG_CTRUNC) != 0;
}

int ccdma_os_sock_recv(int sock, void *buf, size_t len, int *fds,
		       unsigned max_fds, unsigned *nfds, uint64_t deadline_ns)
{
	char *p = buf;
	unsigned got = 0;
	bool dropped = false;
	int rc = 0;

	while (len) {
		union {
			struct cmsghdr h;
			char buf[CMSG_SPACE(sizeof(int) * IPC_MAX_FDS)];
		} ctl;
		struct pollfd pfd = { .fd = sock, .events = POLLIN };
		struct msghdr mh;
		struct iovec iov;
		ssize_t n;

		rc = poll(&pfd, 1, poll_ms(deadline_ns));
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0) {
			rc = -errno;
			break;
		}
		if (rc == 0) {
			rc = -ETIMEDOUT;
			break;
		}
		memset(&mh, 0, sizeof(mh));
		iov.iov_base = p;
		iov.iov_len = len;
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = ctl.buf;
		mh.msg_controllen = sizeof(ctl.buf);
		n = recvmsg(sock, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n < 0) {
			rc = 0;
			if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
				continue;
			rc = errno == EPIPE || errno == ENOTCONN ? -ECONNRESET : -errno;
			break;
		}
		if (take_fds(&mh, fds, max_fds, &got))
			dropped = true;
		if (n == 0) {
			rc = -ECONNRESET;
			break;
		}
		rc = 0;
		p += n;
		len -= (size_t)n;
	}
	if (nfds)
		*nfds = got;
	/* All bytes came, but descriptors sent with them were lost. */
	if (!rc && dropped)
		rc = -EMFILE;
	return rc;
}

void ccdma_os_sock_shutdown(int sock)
{
	if (sock >= 0)
		shutdown(sock, SHUT_RDWR);
}

int ccdma_os_eventfd_create(int *fd)
{
	int e = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

	if (e < 0)
		return -errno;
	*fd = e;
	return 0;
}

int ccdma_os_eventfd_signal(int fd)
{
	uint64_t one = 1;

	for (;;) {
		ssize_t n = write(fd, &one, sizeof(one));

		if (n == (ssize_t)sizeof(one))
			return 0;
		if (n < 0 && errno == EINTR)
			continue;
		/* A counter at its maximum is still a pending signal. */
		if (n < 0 && errno == EAGAIN)
			return 0;
		return n < 0 ? -errno : -EIO;
	}
}

bool ccdma_os_eventfd_clear(int fd)
{
	uint64_t v = 0;
	ssize_t n;

	do
		n = read(fd, &v, sizeof(v));
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof(v) && v;
}

int ccdma_os_eventfd_wait(int efd, int sock, uint64_t deadline_ns)
{
	for (;;) {
		struct pollfd pfd[2];
		int rc;

		/* Hang-up only: the socket's data belongs to whoever holds
		 * the request lock. */
		pfd[0].fd = sock;
		pfd[0].events = POLLRDHUP;
		pfd[0].revents = 0;
		pfd[1].fd = efd;
		pfd[1].events = POLLIN;
		pfd[1].revents = 0;
		rc = poll(pfd, 2, poll_ms(deadline_ns));
		if (rc < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (pfd[0].revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL))
			return -ECONNRESET;
		if (pfd[1].revents & POLLNVAL)
			return -EBADF;
		if (pfd[1].revents & POLLIN) {
			/* Another waiter may have taken it first: wait on. */
			if (ccdma_os_eventfd_clear(efd))
				return 0;
			continue;
		}
		if (rc == 0)
			return -ETIMEDOUT;
	}
}

int ccdma_os_fd_replace(int fd, int newfd)
{
	int rc = 0;

	/* dup3 keeps close-on-exec on fd (dup2 would clear it). */
	if (dup3(newfd, fd, O_CLOEXEC) < 0)
		rc = -errno;
	close(newfd);
	return rc;
}

void ccdma_os_close(int fd)
{
	if (fd >= 0)
		close(fd);
}
