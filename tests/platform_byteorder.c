/* SPDX-License-Identifier: MIT */
/*
 * src/platform/byteorder.h puts device-shared fields in memory
 * little-endian on every CPU: the bytes in memory are checked one by one,
 * at every alignment, and so is a virtio-style descriptor.  On a
 * big-endian CPU (s390x) the stored word differs from the CPU value, which
 * proves a conversion happened; on a little-endian one it is the same.
 */
#include <stddef.h>

#include "test.h"

#include "platform/byteorder.h"

/* The layout of a virtio split-ring descriptor, as later layers declare it. */
struct desc {
	ccdma_le64_t addr;
	ccdma_le32_t len;
	ccdma_le16_t flags;
	ccdma_le16_t next;
};

_Static_assert(sizeof(ccdma_le16_t) == 2 && _Alignof(ccdma_le16_t) == 2, "le16");
_Static_assert(sizeof(ccdma_le32_t) == 4 && _Alignof(ccdma_le32_t) == 4, "le32");
_Static_assert(sizeof(ccdma_le64_t) == 8 && _Alignof(ccdma_le64_t) == _Alignof(uint64_t),
	       "le64");
_Static_assert(sizeof(struct desc) == 16 && offsetof(struct desc, len) == 8 &&
	       offsetof(struct desc, flags) == 12 && offsetof(struct desc, next) == 14,
	       "descriptor layout");

static const uint8_t le[8] = { 0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01 };

/* 1 when the CPU stores the low byte of a word first, asked of memory. */
static int cpu_little(void)
{
	uint32_t one = 1;
	uint8_t b;

	memcpy(&b, &one, 1);
	return b == 1;
}

/* The word whose bytes in memory are p[0..n). */
static uint64_t word_of(const uint8_t *p, size_t n)
{
	uint64_t v64;
	uint32_t v32;
	uint16_t v16;

	switch (n) {
	case 2:
		memcpy(&v16, p, 2);
		return v16;
	case 4:
		memcpy(&v32, p, 4);
		return v32;
	default:
		memcpy(&v64, p, 8);
		return v64;
	}
}

static void conversions(void)
{
	ccdma_le16_t a = ccdma_cpu_to_le16(0x0201);
	ccdma_le32_t b = ccdma_cpu_to_le32(0x04030201u);
	ccdma_le64_t c = ccdma_cpu_to_le64(0x0102030405060708ull);

	/* The bytes in memory, lowest address first. */
	CHECK_EQ(((uint8_t *)&a)[0], 0x01);
	CHECK_EQ(((uint8_t *)&a)[1], 0x02);
	CHECK_EQ(((uint8_t *)&b)[0], 0x01);
	CHECK_EQ(((uint8_t *)&b)[3], 0x04);
	CHECK(memcmp(&c, le, 8) == 0);

	/* Stored word vs CPU value: equal on little-endian, swapped on big. */
	if (cpu_little()) {
		CHECK_EQ(a.raw, 0x0201);
		CHECK_EQ(b.raw, 0x04030201u);
		CHECK(c.raw == 0x0102030405060708ull);
	} else {
		CHECK_EQ(a.raw, 0x0102);
		CHECK_EQ(b.raw, 0x01020304u);
		CHECK(c.raw == 0x0807060504030201ull);
	}
	CHECK(c.raw == word_of(le, 8));

	/* And back. */
	CHECK_EQ(ccdma_le16_to_cpu(a), 0x0201);
	CHECK_EQ(ccdma_le32_to_cpu(b), 0x04030201u);
	CHECK(ccdma_le64_to_cpu(c) == 0x0102030405060708ull);
	memcpy(&c, le, 8);
	CHECK(ccdma_le64_to_cpu(c) == 0x0102030405060708ull);
	memcpy(&b, le + 4, 4);
	CHECK_EQ(ccdma_le32_to_cpu(b), 0x01020304u);
	memcpy(&a, le + 6, 2);
	CHECK_EQ(ccdma_le16_to_cpu(a), 0x0102);

	/* Extremes survive the round trip. */
	CHECK_EQ(ccdma_le16_to_cpu(ccdma_cpu_to_le16(0xffff)), 0xffff);
	CHECK_EQ(ccdma_le16_to_cpu(ccdma_cpu_to_le16(0x8000)), 0x8000);
	CHECK(ccdma_le32_to_cpu(ccdma_cpu_to_le32(0x80000001u)) == 0x80000001u);
	CHECK(ccdma_le64_to_cpu(ccdma_cpu_to_le64(~0ull)) == ~0ull);
	CHECK(ccdma_le64_to_cpu(ccdma_cpu_to_le64(1ull << 63)) == 1ull << 63);
}

/* get/put at every offset of a buffer: unaligned access, exact bytes, and
 * no byte outside the field touched. */
static void unaligned(void)
{
	uint8_t buf[24];
	size_t off, i;

	for (off = 0; off < 16; off++) {
		memset(buf, 0xee, sizeof(buf));
		ccdma_put_le64(buf + off, 0x0102030405060708ull);
		CHECK(memcmp(buf + off, le, 8) == 0);
		for (i = 0; i < sizeof(buf); i++)
			if (i < off || i >= off + 8)
				CHECK_EQ(buf[i], 0xee);
		CHECK(ccdma_get_le64(buf + off) == 0x0102030405060708ull);

		memset(buf, 0xee, sizeof(buf));
		ccdma_put_le32(buf + off, 0xa1b2c3d4u);
		CHECK_EQ(buf[off], 0xd4);
		CHECK_EQ(buf[off + 1], 0xc3);
		CHECK_EQ(buf[off + 2], 0xb2);
		CHECK_EQ(buf[off + 3], 0xa1);
		CHECK_EQ(buf[off + 4], 0xee);
		if (off)
			CHECK_EQ(buf[off - 1], 0xee);
		CHECK_EQ(ccdma_get_le32(buf + off), 0xa1b2c3d4u);

		memset(buf, 0xee, sizeof(buf));
		ccdma_put_le16(buf + off, 0xbeef);
		CHECK_EQ(buf[off], 0xef);
		CHECK_EQ(buf[off + 1], 0xbe);
		CHECK_EQ(buf[off + 2], 0xee);
		CHECK_EQ(ccdma_get_le16(buf + off), 0xbeef);
	}
}

/* A descriptor as a device (any CPU) reads it from shared memory. */
static void descriptor(void)
{
	static const uint8_t want[16] = {
		0x00, 0x30, 0x20, 0x10, 0xef, 0xbe, 0x00, 0x00, /* addr */
		0x00, 0x10, 0x00, 0x00,                         /* len 4096 */
		0x03, 0x00,                                     /* NEXT | WRITE */
		0x07, 0x00,                                     /* next 7 */
	};
	struct desc d;

	d.addr = ccdma_cpu_to_le64(0xbeef10203000ull);
	d.len = ccdma_cpu_to_le32(4096);
	d.flags = ccdma_cpu_to_le16(3);
	d.next = ccdma_cpu_to_le16(7);
	CHECK(memcmp(&d, want, sizeof(want)) == 0);
	CHECK(ccdma_get_le64(want) == 0xbeef10203000ull);
	CHECK_EQ(ccdma_get_le32(want + 8), 4096);
	CHECK_EQ(ccdma_get_le16(want + 12), 3);
	CHECK_EQ(ccdma_le16_to_cpu(d.next), 7);
}

int main(void)
{
	test_init();
	printf("platform_byteorder: %s-endian CPU\n", cpu_little() ? "little" : "big");
#if defined(__BYTE_ORDER__) && defined(__ORDER_BIG_ENDIAN__)
	CHECK_EQ(cpu_little(), __BYTE_ORDER__ != __ORDER_BIG_ENDIAN__);
#endif
	conversions();
	unaligned();
	descriptor();
	return test_done("platform_byteorder");
}
