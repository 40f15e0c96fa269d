/* SPDX-License-Identifier: MIT */
/* Shared setup of the dmabuf tests: a confidential device with its own
 * pool and a buffer over one allocation of it. */
#ifndef DMABUF_UTIL_H
#define DMABUF_UTIL_H

#include "test.h"

#include <ccdma/dmabuf.h>
#include <string.h>

static struct ccdma_pool_config dmabuf_pc;

static inline struct ccdma_dev *dmabuf_dev(const char *name, unsigned flags)
{
	struct ccdma_dev_config c;

	ccdma_dev_config_init(&c);
	c.flags = flags;
	test_config(&dmabuf_pc, name);
	return test_dev(name, &c, CCDMA_MODE_CONFIDENTIAL, &dmabuf_pc);
}

/* A pool allocation of `dev` filled with `fill`. */
static inline void *dmabuf_mem(struct ccdma_dev *dev, size_t len, int fill)
{
	void *p = NULL;

	REQUIRE(!ccdma_pool_alloc(ccdma_dev_pool(dev), len, 0, &p));
	memset(p, fill, len);
	return p;
}

/* The last error message, captured while dmabuf_capture() is on. */
static char dmabuf_msg[512];

static inline void dmabuf_log(void *arg, enum ccdma_log_level l, const char *m)
{
	(void)arg;
	(void)l;
	snprintf(dmabuf_msg, sizeof(dmabuf_msg), "%s", m);
}

/* Run `stmt` with messages captured into dmabuf_msg instead of printed. */
#define CAPTURE(stmt)                                                        \
	do {                                                                 \
		dmabuf_msg[0] = 0;                                           \
		ccdma_log_set_handler(dmabuf_log, NULL);                     \
		stmt;                                                        \
		ccdma_log_set_handler(NULL, NULL);                           \
	} while (0)

/* The byte the device reads at buffer offset `off` through `att`; -errno
 * when the access is refused. */
static inline int dmabuf_dev_byte(struct ccdma_dmabuf_attach *att, size_t off)
{
	void *cpu = NULL;
	int rc = ccdma_dmabuf_access(att, off, 1, CCDMA_ACCESS_READ, &cpu);

	return rc ? rc : *(unsigned char *)cpu;
}

#endif
