/* SPDX-License-Identifier: MIT */
/*
 * Shared regions: memfd-backed memory that a device process may map, plus
 * the cost model of converting guest memory between private and shared.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ccdma/platform.h>

#include "platform/os.h"

/* UINT64_MAX: not set by API; read from the environment on first use. */
static uint64_t share_cost_ns = UINT64_MAX;

void ccdma_share_cost_set_ns(uint64_t ns)
{
	if (ns == UINT64_MAX)
		ns = UINT64_MAX - 1;
	__atomic_store_n(&share_cost_ns, ns, __ATOMIC_RELAXED);
}

uint64_t ccdma_share_cost_get_ns(void)
{
	uint64_t v = __atomic_load_n(&share_cost_ns, __ATOMIC_RELAXED);
	const char *env;

	if (v != UINT64_MAX)
		return v;
	v = CCDMA_SHARE_COST_DEFAULT_NS;
	env = ccdma_os_getenv("CCDMA_SHARE_COST_NS");
	if (env && ccdma_parse_u64(env, &v) < 0) {
		ccdma_warn("CCDMA_SHARE_COST_NS=\"%s\" is not a decimal number "
			   "of nanoseconds; using the default %u ns per 4 KiB page",
			   env, CCDMA_SHARE_COST_DEFAULT_NS);
		v = CCDMA_SHARE_COST_DEFAULT_NS;
	}
	/* Benign race: every thread computes the same value. */
	__atomic_store_n(&share_cost_ns, v, __ATOMIC_RELAXED);
	return v;
}

/* Model of page-state conversion: the cost per 4 KiB page, paid in one sleep. */
static void pay_share_cost(size_t size)
{
	uint64_t per = ccdma_share_cost_get_ns();

	if (per)
		ccdma_os_sleep_ns(per * (uint64_t)((size + 4095) / 4096));
}

int ccdma_os_region_create(size_t size, const char *name, void *at, int *fdp,
			   void **addrp)
{
	int fd, flags, rc;
	void *p;

	fd = memfd_create(name ? name : "ccdma-region",
			  MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size) < 0) {
		rc = -errno;
		goto err_close;
	}
	/* The device process gets this fd: it must not be able to shrink the
	 * file under us (our accesses would fault) or grow it. */
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
		rc = -errno;
		goto err_close;
	}
	flags = MAP_SHARED | MAP_POPULATE;
	if (at)
		flags |= MAP_FIXED;
	p = mmap(at, size, PROT_READ | PROT_WRITE, flags, fd, 0);
	if (p == MAP_FAILED) {
		rc = -errno;
		goto err_close;
	}
	pay_share_cost(size);
	*fdp = fd;
	*addrp = p;
	return 0;

err_close:
	close(fd);
	return rc;
}

void ccdma_os_region_destroy(int fd, void *addr, size_t size,
			     bool keep_reserved)
{
	if (addr) {
		/* Scrub before the memory goes back to being private. */
		memset(addr, 0, size);
		pay_share_cost(size);
		if (keep_reserved)
			mmap(addr, size, PROT_NONE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED,
			     -1, 0);
		else
			munmap(addr, size);
	}
	if (fd >= 0)
		close(fd);
}

int ccdma_region_create(size_t size, const char *name, struct ccdma_region *out)
{
	size_t ps = ccdma_os_page_size();
	size_t rounded;
	int rc;

	if (!out || size == 0 || size > SIZE_MAX - ps) {
		ccdma_err("region_create: invalid argument (size %zu, out %p)",
			  size, (void *)out);
		return -EINVAL;
	}
	rounded = (size + ps - 1) & ~(ps - 1);
	rc = ccdma_os_region_create(rounded, name, NULL, &out->fd, &out->addr);
	if (rc < 0) {
		ccdma_err("region_create: cannot create a %zu-byte shared region: %s",
			  rounded, strerror(-rc));
		return rc;
	}
	out->size = rounded;
	return 0;
}

void ccdma_region_destroy(struct ccdma_region *r)
{
	if (!r)
		return;
	ccdma_os_region_destroy(r->fd, r->addr, r->size, false);
	r->fd = -1;
	r->addr = NULL;
	r->size = 0;
}

int ccdma_region_map_fd(int fd, struct ccdma_region *out)
{
	size_t ps = ccdma_os_page_size();
	struct stat st;
	void *p;

	if (!out || fd < 0)
		return -EINVAL;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || st.st_size <= 0 ||
	    (uint64_t)st.st_size > (uint64_t)SIZE_MAX ||
	    ((size_t)st.st_size & (ps - 1))) {
		ccdma_err("region_map_fd: fd %d is not a shared region (a regular "
			  "file of a non-zero multiple of %zu bytes)", fd, ps);
		return -EINVAL;
	}
	p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		 fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	out->fd = fd;
	out->addr = p;
	out->size = (size_t)st.st_size;
	return 0;
}

void ccdma_region_unmap(struct ccdma_region *r)
{
	if (!r)
		return;
	/* A zeroed struct (fd 0, addr NULL) maps nothing and owns no fd. */
	if (r->addr) {
		munmap(r->addr, r->size);
		if (r->fd >= 0)
			close(r->fd);
	}
	r->fd = -1;
	r->addr = NULL;
	r->size = 0;
}
