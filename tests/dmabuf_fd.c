/* SPDX-License-Identifier: MIT */
/*
 * A buffer between two processes.  Process A exports a buffer of two
 * ranges (one pool allocation, so one fd travels for both) over a Unix
 * socket; process B (a child with its own device and pool) imports it,
 * attaches its device, reads A's bytes through its device, writes its own
 * into the second range, and says so; A then reads B's bytes through its
 * own device.  A private buffer is refused at export, as is memory that is
 * not a pool allocation.
 */
#include "dmabuf_util.h"

#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define LEN 4096

/* The device reads [off, off+len) through att: all `want`? */
static bool reads(struct ccdma_dmabuf_attach *att, size_t off, size_t len,
		  int want)
{
	for (size_t i = 0; i < len; i++)
		if (dmabuf_dev_byte(att, off + i) != want)
			return false;
	return true;
}

/* The device writes `v` over [off, off+len) through att. */
static void writes(struct ccdma_dmabuf_attach *att, size_t off, size_t len,
		   int v)
{
	void *cpu = NULL;

	REQUIRE(!ccdma_dmabuf_access(att, off, len, CCDMA_ACCESS_WRITE, &cpu));
	memset(cpu, v, len);
}

static int child(int sock)
{
	struct ccdma_dev *d = dmabuf_dev("dmabuf_fd_b", 0);
	struct ccdma_dmabuf *b = NULL;
	struct ccdma_dmabuf_attach *a = NULL;
	char c = 0;

	REQUIRE(!ccdma_dmabuf_import(sock, d, 10000, &b));
	CHECK_EQ(ccdma_dmabuf_size(b), 2 * LEN);
	CHECK(!strcmp(ccdma_dmabuf_owner(b), "proc-a"));
	REQUIRE(!ccdma_dmabuf_attach(b, d, CCDMA_DMABUF_PINNED, NULL, &a));
	/* A's bytes, through B's device. */
	CHECK(reads(a, 0, LEN, 0x5a));
	CHECK(reads(a, LEN, LEN, 0x6b));
	/* B's bytes into the second range, through B's device. */
	writes(a, LEN, LEN, 0xc3);
	REQUIRE(write(sock, "w", 1) == 1);
	REQUIRE(read(sock, &c, 1) == 1 && c == 'd');
	CHECK_EQ(ccdma_dmabuf_detach(a), 0);
	CHECK_EQ(ccdma_dmabuf_destroy(b), 0);
	ccdma_dev_destroy(d);
	return test_done("dmabuf_fd (importer)");
}

int main(void)
{
	struct ccdma_dev *d;
	struct ccdma_dmabuf *b, *p;
	struct ccdma_dmabuf_attach *a;
	unsigned char *m, priv[64];
	int sv[2], status = -1;
	char c = 0;
	pid_t pid;

	test_init();
	REQUIRE(!socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	fflush(NULL);
	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		close(sv[0]);
		_exit(child(sv[1]));
	}
	close(sv[1]);
	d = dmabuf_dev("dmabuf_fd_a", 0);
	m = dmabuf_mem(d, 2 * LEN, 0x5a);
	memset(m + LEN, 0x6b, LEN);
	REQUIRE(!ccdma_dmabuf_create("proc-a", 0, &b));
	REQUIRE(!ccdma_dmabuf_add(b, m, LEN));
	REQUIRE(!ccdma_dmabuf_add(b, m + LEN, LEN));
	REQUIRE(!ccdma_dmabuf_attach(b, d, CCDMA_DMABUF_PINNED, NULL, &a));
	CHECK_EQ(ccdma_dmabuf_export(b, ccdma_dev_pool(d), sv[0]), 0);
	/* B wrote: A's device sees B's bytes, and A's own first range. */
	REQUIRE(read(sv[0], &c, 1) == 1 && c == 'w');
	CHECK(reads(a, LEN, LEN, 0xc3));
	CHECK(reads(a, 0, LEN, 0x5a));
	REQUIRE(write(sv[0], "d", 1) == 1);
	REQUIRE(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	/* What cannot be exported. */
	REQUIRE(!ccdma_dmabuf_create("priv", CCDMA_DMABUF_F_PRIVATE, &p));
	REQUIRE(!ccdma_dmabuf_add(p, priv, sizeof(priv)));
	CAPTURE(CHECK_EQ(ccdma_dmabuf_export(p, ccdma_dev_pool(d), sv[0]), -EPERM));
	CHECK(strstr(dmabuf_msg, "private memory") != NULL);
	CHECK_EQ(ccdma_dmabuf_destroy(p), 0);
	REQUIRE(!ccdma_dmabuf_create("stack", 0, &p));
	REQUIRE(!ccdma_dmabuf_add(p, priv, sizeof(priv)));
	CAPTURE(CHECK_EQ(ccdma_dmabuf_export(p, ccdma_dev_pool(d), sv[0]), -EINVAL));
	CHECK(strstr(dmabuf_msg, "not inside one live allocation") != NULL);
	CHECK_EQ(ccdma_dmabuf_destroy(p), 0);
	CHECK_EQ(ccdma_dmabuf_export(NULL, ccdma_dev_pool(d), sv[0]), -EINVAL);

	CHECK_EQ(ccdma_dmabuf_detach(a), 0);
	CHECK_EQ(ccdma_dmabuf_destroy(b), 0);
	CHECK_EQ(ccdma_pool_free(ccdma_dev_pool(d), m, 2 * LEN), 0);
	close(sv[0]);
	ccdma_dev_destroy(d);
	return test_done("dmabuf_fd");
}
