/* SPDX-License-Identifier: MIT */
/*
 * Byte order of everything shared with a device.
 *
 * Virtio rings and descriptors, virtio config space and vhost-user
 * messages are little-endian whatever the CPU (s390x is big-endian).
 * Every field of such a structure is declared with one of the ccdma_leN_t
 * types below and read or written only through these helpers, so that a
 * missing conversion is a compile error ("invalid operands"), not a bug
 * that shows only on s390x.  Bytes in a buffer (a message being parsed, a
 * config window) are read with ccdma_get_leN / written with ccdma_put_leN
 * at any alignment.
 *
 * Nothing here asks the compiler which byte order the CPU has: values are
 * taken apart and put together byte by byte, which compilers turn into one
 * load or store (plus a byte swap on a big-endian CPU).
 *
 * A ccdma_leN_t has the size and alignment of uintN_t.  Shared memory may
 * change under the driver: load a field once (for instance
 * `__atomic_load(&used->idx, &v, __ATOMIC_ACQUIRE)`), convert that copy,
 * and validate it before use.
 *
 * Header only, freestanding: no OS call, no libc.
 */
#ifndef CCDMA_PLATFORM_BYTEORDER_H
#define CCDMA_PLATFORM_BYTEORDER_H

#include <stdint.h>

typedef struct { uint16_t raw; } ccdma_le16_t;
typedef struct { uint32_t raw; } ccdma_le32_t;
typedef struct { uint64_t raw; } ccdma_le64_t;

/* A little-endian value at p (any alignment). */
static inline uint16_t ccdma_get_le16(const void *p)
{
	const uint8_t *b = p;

	return (uint16_t)(b[0] | (unsigned)b[1] << 8);
}

static inline uint32_t ccdma_get_le32(const void *p)
{
	const uint8_t *b = p;

	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
	       (uint32_t)b[3] << 24;
}

static inline uint64_t ccdma_get_le64(const void *p)
{
	const uint8_t *b = p;

	return (uint64_t)ccdma_get_le32(b) | (uint64_t)ccdma_get_le32(b + 4) << 32;
}

/* Store v little-endian at p (any alignment). */
static inline void ccdma_put_le16(void *p, uint16_t v)
{
	uint8_t *b = p;

	b[0] = (uint8_t)v;
	b[1] = (uint8_t)(v >> 8);
}

static inline void ccdma_put_le32(void *p, uint32_t v)
{
	uint8_t *b = p;

	b[0] = (uint8_t)v;
	b[1] = (uint8_t)(v >> 8);
	b[2] = (uint8_t)(v >> 16);
	b[3] = (uint8_t)(v >> 24);
}

static inline void ccdma_put_le64(void *p, uint64_t v)
{
	uint8_t *b = p;

	ccdma_put_le32(b, (uint32_t)v);
	ccdma_put_le32(b + 4, (uint32_t)(v >> 32));
}

/* CPU value <-> field of a device-shared structure. */
static inline ccdma_le16_t ccdma_cpu_to_le16(uint16_t v)
{
	ccdma_le16_t r;

	ccdma_put_le16(&r, v);
	return r;
}

static inline ccdma_le32_t ccdma_cpu_to_le32(uint32_t v)
{
	ccdma_le32_t r;

	ccdma_put_le32(&r, v);
	return r;
}

static inline ccdma_le64_t ccdma_cpu_to_le64(uint64_t v)
{
	ccdma_le64_t r;

	ccdma_put_le64(&r, v);
	return r;
}

static inline uint16_t ccdma_le16_to_cpu(ccdma_le16_t v)
{
	return ccdma_get_le16(&v);
}

static inline uint32_t ccdma_le32_to_cpu(ccdma_le32_t v)
{
	return ccdma_get_le32(&v);
}

static inline uint64_t ccdma_le64_to_cpu(ccdma_le64_t v)
{
	return ccdma_get_le64(&v);
}

#endif /* CCDMA_PLATFORM_BYTEORDER_H */
