/* SPDX-License-Identifier: MIT */
/*
 * The few C library functions the freestanding core still calls.
 *
 * GCC may emit calls to memcpy, memmove, memset and memcmp in any code,
 * -ffreestanding or not (structure copies, large initialisers, the
 * __builtin_mem* the core uses for ccdma_memcpy / ccdma_memset), and
 * __builtin_strcmp (ccdma_strcmp) may become a call to strcmp.  Firmware and
 * kernels usually have these; an embedder without them links this file.
 * Plain byte loops: the core's only large copies are bounce copies, and an
 * embedder that cares about their speed brings its own memcpy.
 *
 * Compiled with -fno-tree-loop-distribute-patterns (see cmake/
 * freestanding.cmake), or GCC would turn each loop back into a call to the
 * very function it implements.
 */
#include <stddef.h>
#include <stdint.h>

void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
int strcmp(const char *a, const char *b);

void *memcpy(void *restrict dst, const void *restrict src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	while (n--)
		*d++ = *s++;
	return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	if ((uintptr_t)d - (uintptr_t)s >= n) {
		while (n--)
			*d++ = *s++;
	} else {
		/* dst overlaps the tail of src: copy backwards. */
		while (n--)
			d[n] = s[n];
	}
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	unsigned char *d = dst;

	while (n--)
		*d++ = (unsigned char)c;
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;

	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x < *y ? -1 : 1;
	return 0;
}

int strcmp(const char *a, const char *b)
{
	const unsigned char *x = (const unsigned char *)a;
	const unsigned char *y = (const unsigned char *)b;

	while (*x && *x == *y) {
		x++;
		y++;
	}
	return *x < *y ? -1 : *x > *y;
}
