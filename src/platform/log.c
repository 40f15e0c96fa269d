/* SPDX-License-Identifier: MIT */
/* Logging, version, and small parsing helpers shared by all layers.
 * Portable: no OS call and no libc (the freestanding core keeps it). */
#include <stdarg.h>

#include <ccdma/common.h>

#include "platform/os.h"

/* The handler and its argument, published together: a sequence count,
 * odd while a writer changes the pair (writers take turns on it), so a
 * reader never calls one handler with another's argument. */
static ccdma_log_fn log_fn;
static void *log_arg;
static unsigned log_seq;
static int log_level = -1; /* -1: read CCDMA_LOG on first use */

const char *ccdma_version(void)
{
#define STR2(x) #x
#define STR(x) STR2(x)
	return STR(CCDMA_VERSION_MAJOR) "." STR(CCDMA_VERSION_MINOR) "." STR(CCDMA_VERSION_PATCH);
}

void ccdma_log_set_handler(ccdma_log_fn fn, void *arg)
{
	unsigned seq = __atomic_load_n(&log_seq, __ATOMIC_RELAXED);

	/* Take the pair: make the count odd (another writer: wait). */
	for (;;) {
		if (!(seq & 1) &&
		    __atomic_compare_exchange_n(&log_seq, &seq, seq + 1, false,
						__ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			break;
		seq = __atomic_load_n(&log_seq, __ATOMIC_RELAXED);
	}
	/* Release stores (and acquire loads in current_handler), not
	 * fences: a reader that sees either new value then sees the odd
	 * count, and ThreadSanitizer understands it. */
	__atomic_store_n(&log_fn, fn, __ATOMIC_RELEASE);
	__atomic_store_n(&log_arg, arg, __ATOMIC_RELEASE);
	__atomic_store_n(&log_seq, seq + 2, __ATOMIC_RELEASE);
}

/* The current handler and its argument, read as one pair. */
static ccdma_log_fn current_handler(void **arg)
{
	unsigned s1, s2;
	ccdma_log_fn fn;

	for (;;) {
		s1 = __atomic_load_n(&log_seq, __ATOMIC_ACQUIRE);
		if (s1 & 1)
			continue;
		fn = __atomic_load_n(&log_fn, __ATOMIC_ACQUIRE);
		*arg = __atomic_load_n(&log_arg, __ATOMIC_ACQUIRE);
		s2 = __atomic_load_n(&log_seq, __ATOMIC_ACQUIRE);
		if (s1 == s2)
			return fn;
	}
}

void ccdma_log_set_level(enum ccdma_log_level level)
{
	__atomic_store_n(&log_level, (int)level, __ATOMIC_RELAXED);
}

static int current_level(void)
{
	int l = __atomic_load_n(&log_level, __ATOMIC_RELAXED);
	const char *env;

	if (l >= 0)
		return l;
	l = CCDMA_LOG_WARN;
	env = ccdma_os_getenv("CCDMA_LOG");
	if (env) {
		if (!ccdma_strcmp(env, "error"))
			l = CCDMA_LOG_ERROR;
		else if (!ccdma_strcmp(env, "warn"))
			l = CCDMA_LOG_WARN;
		else if (!ccdma_strcmp(env, "info"))
			l = CCDMA_LOG_INFO;
		else if (!ccdma_strcmp(env, "debug"))
			l = CCDMA_LOG_DEBUG;
	}
	__atomic_store_n(&log_level, l, __ATOMIC_RELAXED);
	return l;
}

void ccdma_log(enum ccdma_log_level level, const char *fmt, ...)
{
	char msg[512], line[540];
	const char *s;
	ccdma_log_fn fn;
	size_t n = 0;
	va_list ap;
	void *arg;

	if ((int)level > current_level())
		return;
	va_start(ap, fmt);
	ccdma_os_vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fn = current_handler(&arg);
	if (fn) {
		fn(arg, level, msg);
		return;
	}
	/* "ccdma: <msg>\n", built by hand: no <string.h> in the core. */
	for (s = "ccdma: "; *s; s++)
		line[n++] = *s;
	for (s = msg; *s && n < sizeof(line) - 2; s++)
		line[n++] = *s;
	line[n++] = '\n';
	line[n] = 0;
	ccdma_os_write_err(line);
}

int ccdma_parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (!s || !*s)
		return -EINVAL;
	for (; *s; s++) {
		unsigned d;

		if (*s < '0' || *s > '9')
			return -EINVAL;
		d = (unsigned)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

int ccdma_snprintf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = ccdma_os_vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return n;
}
