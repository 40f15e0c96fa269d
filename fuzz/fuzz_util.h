/* SPDX-License-Identifier: MIT */
/*
 * Shared by the fuzz targets (docs/fuzzing.md): reading the input as a
 * script, and the invariant check that stops the run.
 *
 * Every target is a plain LLVMFuzzerTestOneInput(); it is linked with
 * libFuzzer (-DCCDMA_FUZZ=ON, clang) or with fuzz/replay.c, which runs
 * the seed corpus and the regression inputs as ordinary CTest tests with
 * any compiler.
 */
#ifndef CCDMA_FUZZ_UTIL_H
#define CCDMA_FUZZ_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ccdma/common.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An invariant the library must keep, whatever the device does: a
 * violation is a finding, so the run stops at once (libFuzzer saves the
 * input as a crash).  The message goes to stderr and, with
 * CCDMA_FUZZ_REPORT=FILE, is appended to FILE (libFuzzer's fork mode
 * keeps no output of the job that crashed). */
__attribute__((format(printf, 4, 5), noreturn, unused)) static void
fz_violation(const char *file, int line, const char *cond, const char *fmt, ...)
{
	const char *path = getenv("CCDMA_FUZZ_REPORT");
	FILE *f = path ? fopen(path, "a") : NULL;
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "%s:%d: INVARIANT VIOLATED: %s: ", file, line, cond);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	if (f) {
		va_start(ap, fmt);
		fprintf(f, "%s:%d: INVARIANT VIOLATED: %s: ", file, line, cond);
		vfprintf(f, fmt, ap);
		fputc('\n', f);
		va_end(ap);
		fclose(f);
	}
	__builtin_trap();
}

#define FZ_CHECK(cond, ...)                                                  \
	do {                                                                 \
		if (!(cond))                                                 \
			fz_violation(__FILE__, __LINE__, #cond,              \
				     __VA_ARGS__);                           \
	} while (0)

/* The input, consumed front to back; past its end every read gives 0. */
struct fz_in {
	const uint8_t *p;
	size_t n;
};

static inline uint8_t fz_u8(struct fz_in *in)
{
	uint8_t v;

	if (!in->n)
		return 0;
	v = *in->p++;
	in->n--;
	return v;
}

static inline uint16_t fz_u16(struct fz_in *in)
{
	return (uint16_t)(fz_u8(in) | fz_u8(in) << 8);
}

static inline uint32_t fz_u32(struct fz_in *in)
{
	return (uint32_t)fz_u16(in) | (uint32_t)fz_u16(in) << 16;
}

static inline uint64_t fz_u64(struct fz_in *in)
{
	return (uint64_t)fz_u32(in) | (uint64_t)fz_u32(in) << 32;
}

/* Copy up to len bytes of input (the rest of buf is zero); returns how
 * many came from the input. */
static inline size_t fz_bytes(struct fz_in *in, void *buf, size_t len)
{
	size_t k = len < in->n ? len : in->n;

	memcpy(buf, in->p, k);
	memset((uint8_t *)buf + k, 0, len - k);
	in->p += k;
	in->n -= k;
	return k;
}

/* The library's log is not what is being checked; CCDMA_FUZZ_LOG=1 in
 * the environment shows it (to see what an input does). */
static inline void fz_quiet(void *arg, enum ccdma_log_level l, const char *m)
{
	(void)arg;
	(void)l;
	(void)m;
}

/* CCDMA_FUZZ_TRACE=1: each target says what an input led to. */
#define FZ_TRACE(...)                                                        \
	do {                                                                 \
		static int on_ = -1;                                         \
		if (on_ < 0)                                                 \
			on_ = getenv("CCDMA_FUZZ_TRACE") != NULL;            \
		if (on_)                                                     \
			fprintf(stderr, __VA_ARGS__);                        \
	} while (0)

#endif /* CCDMA_FUZZ_UTIL_H */
