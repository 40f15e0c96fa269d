/* Shared regions: memfd-backed, sealed against shrinking, the same memory
 * through the fd (what a device process gets), scrubbed on destroy; the
 * sharing cost is configurable by API and environment. */
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"

int main(void)
{
	struct ccdma_region r;
	unsigned char *dev;
	size_t ps = ccdma_page_size();
	int seals;

	/* The environment is read on first use, before any API setting:
	 * a bad value (in a child, so this process keeps a clean state) is
	 * reported and the default used; a good one is taken. */
	{
		pid_t pid = fork();
		int st = 0;

		if (pid == 0) {
			setenv("CCDMA_SHARE_COST_NS", "12abc", 1);
			_exit(ccdma_share_cost_get_ns() == CCDMA_SHARE_COST_DEFAULT_NS ? 0 : 1);
		}
		REQUIRE(pid > 0 && waitpid(pid, &st, 0) == pid);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	setenv("CCDMA_SHARE_COST_NS", "777", 1);
	CHECK_EQ(ccdma_share_cost_get_ns(), 777);

	test_init();
	CHECK(ps >= 4096 && (ps & (ps - 1)) == 0);

	/* Cost model: default, environment, API. */
	ccdma_share_cost_set_ns(123);
	CHECK_EQ(ccdma_share_cost_get_ns(), 123);
	ccdma_share_cost_set_ns(0);
	CHECK_EQ(ccdma_share_cost_get_ns(), 0);

	CHECK_EQ(ccdma_region_create(0, "x", &r), -EINVAL);
	CHECK_EQ(ccdma_region_create(4096, "x", NULL), -EINVAL);
	CHECK_EQ(ccdma_region_create(SIZE_MAX, "x", &r), -EINVAL);

	REQUIRE(ccdma_region_create(ps + 1, "test-region", &r) == 0);
	CHECK_EQ(r.size, 2 * ps);
	CHECK(r.fd >= 0);
	CHECK(r.addr != NULL);
	seals = fcntl(r.fd, F_GET_SEALS);
	CHECK(seals >= 0 && (seals & F_SEAL_SHRINK) && (seals & F_SEAL_GROW));
	CHECK(ftruncate(r.fd, 0) < 0); /* a device cannot shrink it */

	/* Fresh shared memory is zero; the fd maps the same bytes. */
	CHECK(((unsigned char *)r.addr)[0] == 0 && ((unsigned char *)r.addr)[r.size - 1] == 0);
	memset(r.addr, 0xab, r.size);
	dev = mmap(NULL, r.size, PROT_READ | PROT_WRITE, MAP_SHARED, r.fd, 0);
	REQUIRE(dev != MAP_FAILED);
	CHECK(dev[0] == 0xab && dev[r.size - 1] == 0xab);
	dev[5] = 0x11; /* the device writes */
	CHECK(((unsigned char *)r.addr)[5] == 0x11);

	{
		int fd2 = dup(r.fd);

		ccdma_region_destroy(&r);
		CHECK_EQ(r.fd, -1);
		CHECK(r.addr == NULL);
		/* Scrubbed: the device's view shows zeros. */
		CHECK(dev[0] == 0 && dev[5] == 0 && dev[2 * ps - 1] == 0);
		close(fd2);
	}
	munmap(dev, 2 * ps);
	ccdma_region_destroy(&r); /* destroyed struct: no-op */
	ccdma_region_destroy(NULL);

	return test_done("platform_region");
}
