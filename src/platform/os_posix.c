/* SPDX-License-Identifier: MIT */
/*
 * POSIX / Linux implementation of the platform primitives (os.h).
 * This file and its siblings in src/platform/ are the only ones that call
 * the operating system.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <ccdma/platform.h>

#include "platform/os.h"

_Static_assert(sizeof(pthread_mutex_t) <= sizeof(ccdma_mutex_t),
	       "ccdma_mutex_t too small");
_Static_assert(sizeof(pthread_cond_t) <= sizeof(ccdma_cond_t),
	       "ccdma_cond_t too small");
_Static_assert(sizeof(pthread_t) <= sizeof(ccdma_thread_t),
	       "ccdma_thread_t too small");

void *ccdma_os_calloc(size_t n, size_t size)
{
	return calloc(n, size);
}

void *ccdma_os_realloc(void *p, size_t size)
{
	return realloc(p, size);
}

void ccdma_os_free(void *p)
{
	free(p);
}

size_t ccdma_os_page_size(void)
{
	static size_t cached;
	size_t ps = __atomic_load_n(&cached, __ATOMIC_RELAXED);

	if (!ps) {
		long v = sysconf(_SC_PAGESIZE);

		ps = v > 0 ? (size_t)v : 4096;
		__atomic_store_n(&cached, ps, __ATOMIC_RELAXED);
	}
	return ps;
}

size_t ccdma_page_size(void)
{
	return ccdma_os_page_size();
}

void *ccdma_os_reserve(size_t size)
{
	void *p = mmap(NULL, size, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

void ccdma_os_unreserve(void *base, size_t size)
{
	if (base)
		munmap(base, size);
}

uint64_t ccdma_os_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void ccdma_os_sleep_ns(uint64_t ns)
{
	struct timespec ts = {
		.tv_sec = (time_t)(ns / 1000000000ull),
		.tv_nsec = (long)(ns % 1000000000ull),
	};

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

#define PM(m) ((pthread_mutex_t *)(void *)(m)->opaque)
#define PC(c) ((pthread_cond_t *)(void *)(c)->opaque)

int ccdma_mutex_init(ccdma_mutex_t *m)
{
	return -pthread_mutex_init(PM(m), NULL);
}

void ccdma_mutex_destroy(ccdma_mutex_t *m)
{
	pthread_mutex_destroy(PM(m));
}

void ccdma_mutex_lock(ccdma_mutex_t *m)
{
	pthread_mutex_lock(PM(m));
}

void ccdma_mutex_unlock(ccdma_mutex_t *m)
{
	pthread_mutex_unlock(PM(m));
}

int ccdma_cond_init(ccdma_cond_t *c)
{
	pthread_condattr_t a;
	int rc = pthread_condattr_init(&a);

	if (rc)
		return -rc;
	/* Deadlines are ccdma_os_now_ns() values: a condition that waits on
	 * another clock would wake early or late, so that is an error. */
	rc = pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	if (!rc)
		rc = pthread_cond_init(PC(c), &a);
	pthread_condattr_destroy(&a);
	return -rc;
}

void ccdma_cond_destroy(ccdma_cond_t *c)
{
	pthread_cond_destroy(PC(c));
}

void ccdma_cond_signal(ccdma_cond_t *c)
{
	pthread_cond_signal(PC(c));
}

void ccdma_cond_broadcast(ccdma_cond_t *c)
{
	pthread_cond_broadcast(PC(c));
}

void ccdma_cond_wait(ccdma_cond_t *c, ccdma_mutex_t *m)
{
	pthread_cond_wait(PC(c), PM(m));
}

bool ccdma_cond_timedwait(ccdma_cond_t *c, ccdma_mutex_t *m,
			  uint64_t deadline_ns)
{
	struct timespec ts = {
		.tv_sec = (time_t)(deadline_ns / 1000000000ull),
		.tv_nsec = (long)(deadline_ns % 1000000000ull),
	};

	return pthread_cond_timedwait(PC(c), PM(m), &ts) == ETIMEDOUT;
}

static pthread_mutex_t global_lock = PTHREAD_MUTEX_INITIALIZER;

void ccdma_os_global_lock(void)
{
	pthread_mutex_lock(&global_lock);
}

void ccdma_os_global_unlock(void)
{
	pthread_mutex_unlock(&global_lock);
}

int ccdma_thread_create(ccdma_thread_t *t, void *(*fn)(void *), void *arg,
			const char *name)
{
	pthread_t *pt = (pthread_t *)(void *)t->opaque;
	int rc = pthread_create(pt, NULL, fn, arg);

	if (rc)
		return -rc;
	if (name) {
		char n[16];

		snprintf(n, sizeof(n), "%s", name);
		pthread_setname_np(*pt, n);
	}
	return 0;
}

void ccdma_thread_join(ccdma_thread_t *t)
{
	pthread_join(*(pthread_t *)(void *)t->opaque, NULL);
}

static pthread_key_t exit_key;
static bool exit_key_made;   /* atomic; set once, under the global lock */
static void (*exit_fn)(void); /* atomic */

static void exit_trampoline(void *v)
{
	void (*fn)(void) = __atomic_load_n(&exit_fn, __ATOMIC_ACQUIRE);

	(void)v;
	if (fn)
		fn();
}

int ccdma_os_thread_exit_hook(void (*fn)(void))
{
	int rc = 0;

	/* Not pthread_once: a key that could not be made this time (the
	 * process is out of keys or memory) is tried again next time. */
	pthread_mutex_lock(&global_lock);
	if (!exit_key_made) {
		rc = pthread_key_create(&exit_key, exit_trampoline);
		if (!rc)
			__atomic_store_n(&exit_key_made, true, __ATOMIC_RELEASE);
	}
	if (!rc)
		__atomic_store_n(&exit_fn, fn, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&global_lock);
	return -rc;
}

int ccdma_os_thread_exit_arm(void)
{
	if (!__atomic_load_n(&exit_key_made, __ATOMIC_ACQUIRE))
		return -EINVAL;
	return -pthread_setspecific(exit_key, (void *)1);
}

const char *ccdma_os_getenv(const char *name)
{
	return getenv(name);
}

void ccdma_os_write_err(const char *line)
{
	fputs(line, stderr);
	fflush(stderr);
}

/* The format comes from ccdma_log(), which gcc/clang check at its call
 * sites (it carries the printf attribute). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
int ccdma_os_vsnprintf(char *buf, size_t len, const char *fmt, va_list ap)
{
	return vsnprintf(buf, len, fmt, ap);
}
#pragma GCC diagnostic pop
