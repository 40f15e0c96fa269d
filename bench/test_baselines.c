/* SPDX-License-Identifier: MIT */
/*
 * Correctness of the baseline allocator models (bench/baselines/).
 * Exit 0 pass, 1 fail.
 */
#define _POSIX_C_SOURCE 200809L

#include "baselines.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

#define CHECK(cond, ...)                                                   \
	do {                                                               \
		if (!(cond)) {                                             \
			failures++;                                        \
			fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__,      \
				__LINE__, #cond);                          \
			fprintf(stderr, __VA_ARGS__);                      \
			fputc('\n', stderr);                               \
		}                                                          \
	} while (0)

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	uint64_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

static unsigned nr_slots(uint64_t bytes)
{
	return (unsigned)((bytes + BL_IO_TLB_SIZE - 1) / BL_IO_TLB_SIZE);
}

/* Recompute every `list` from the set of used slots and compare. */
static bool linux_lists_consistent(void *h, const unsigned char *used)
{
	unsigned n = bl_linux_nslabs(h);

	for (unsigned seg = 0; seg < n; seg += BL_IO_TLB_SEGSIZE) {
		unsigned run = 0;

		for (unsigned i = seg + BL_IO_TLB_SEGSIZE; i-- > seg;) {
			unsigned want;

			run = used[i] ? 0 : run + 1;
			want = run;
			if (bl_linux_slot_list(h, i) != want) {
				fprintf(stderr, "slot %u: list %u, want %u\n", i,
					bl_linux_slot_list(h, i), want);
				return false;
			}
		}
	}
	return true;
}

static void test_linux_limits(void)
{
	const struct bl_ops *o = &bl_linux_swiotlb;
	void *h = o->create(64u << 20);
	uint64_t off;

	CHECK(h != NULL, "create");
	if (!h)
		return;
	CHECK(bl_linux_nslabs(h) == 32768, "nslabs %u", bl_linux_nslabs(h));
	CHECK(o->capacity_bytes(h) == 64u << 20, "capacity");
	CHECK(o->alloc(h, 256 * 1024 + 1, 0, 0, 0, &off) == -ENOMEM, "> 256 KiB");
	CHECK(o->alloc(h, 512 * 1024, 0, 0, 0, &off) == -ENOMEM, "512 KiB");
	CHECK(o->alloc(h, 0, 0, 0, 0, &off) == -EINVAL, "size 0");
	CHECK(o->alloc(h, 4096, 3, 0, 0, &off) == -EINVAL, "align 3");
	CHECK(o->alloc(h, 256 * 1024, 0, 0, 0, &off) == 0, "256 KiB");
	CHECK(off % (256 * 1024) == 0, "256 KiB takes a whole segment: %llu",
	      (unsigned long long)off);
	CHECK(o->reserved_bytes(h) == 256 * 1024, "reserved %zu", o->reserved_bytes(h));
	o->free(h, off, 256 * 1024);
	CHECK(o->reserved_bytes(h) == 0, "reserved after free");
	/* The orig offset in its slot counts toward the 256 KiB limit. */
	CHECK(o->alloc(h, 256 * 1024 - 0x7ff, 0, 0xfff, 0x10800, &off) == -ENOMEM,
	      "offset pushes over a segment");
	CHECK(o->alloc(h, 256 * 1024 - 0x800, 0, 0xfff, 0x10800, &off) == 0,
	      "offset fits a segment");
	CHECK((off & 0xfff) == 0x800, "min_align bits %llx", (unsigned long long)off);
	o->free(h, off, 256 * 1024 - 0x800);
	/* A page or more with no alignment constraint is page aligned. */
	for (int i = 0; i < 5; i++) {
		uint64_t o2;

		CHECK(o->alloc(h, 2048, 0, 0, 0, &off) == 0, "2 KiB");
		CHECK(o->alloc(h, 4096, 0, 0, 0, &o2) == 0, "4 KiB");
		CHECK(o2 % 4096 == 0, "4 KiB page aligned: %llx", (unsigned long long)o2);
		CHECK(o->alloc(h, 8192, 65536, 0, 0, &o2) == 0, "64K-aligned");
		CHECK(o2 % 65536 == 0, "explicit alignment: %llx", (unsigned long long)o2);
	}
	o->destroy(h);

	/* Fill with 2 KiB: exactly nslabs allocations fit. */
	h = o->create(1u << 20);
	CHECK(h != NULL, "create 1 MiB");
	if (!h)
		return;
	{
		unsigned n = 0;

		while (o->alloc(h, 2048, 0, 0, 0, &off) == 0)
			n++;
		CHECK(n == bl_linux_nslabs(h), "filled %u of %u", n, bl_linux_nslabs(h));
		CHECK(o->reserved_bytes(h) == o->capacity_bytes(h), "full");
		CHECK(o->alloc(h, 512, 0, 0, 0, &off) == -ENOMEM, "full pool fails");
	}
	o->destroy(h);
}

static void test_linux_min_align(void)
{
	const struct bl_ops *o = &bl_linux_swiotlb;
	void *h = o->create(16u << 20);
	static const uint64_t masks[] = { 0xfff, 0x3fff, 0x1ff, 0x7ff };

	if (!h) {
		CHECK(0, "create");
		return;
	}
	for (int i = 0; i < 2000; i++) {
		uint64_t mask = masks[i % 4];
		uint64_t orig = rnd() & 0xffffffffull;
		size_t size = 1 + (size_t)(rnd() % (64 * 1024));
		uint64_t off;

		CHECK(o->alloc(h, size, 0, mask, orig, &off) == 0, "alloc %zu", size);
		CHECK((off & mask) == (orig & mask),
		      "mask %llx orig %llx off %llx", (unsigned long long)mask,
		      (unsigned long long)orig, (unsigned long long)off);
		o->free(h, off, size);
	}
	CHECK(o->reserved_bytes(h) == 0, "all freed");
	o->destroy(h);
}

#define LIVE_MAX 256

struct live {
	uint64_t off;
	size_t size;
	bool used;
};

/* Randomized alloc/free: no overlap (slot bitmap), lists consistent. */
static void test_linux_random(void)
{
	const struct bl_ops *o = &bl_linux_swiotlb;
	void *h = o->create(4u << 20);
	struct live lv[LIVE_MAX];
	unsigned char *used;
	unsigned n;
	size_t used_slots = 0;
	int bad_lists = 0;

	if (!h) {
		CHECK(0, "create");
		return;
	}
	n = bl_linux_nslabs(h);
	used = calloc(n, 1);
	memset(lv, 0, sizeof(lv));
	for (int step = 0; step < 20000 && used; step++) {
		struct live *l = &lv[rnd() % LIVE_MAX];

		if (l->used) {
			unsigned first = (unsigned)(l->off / BL_IO_TLB_SIZE);
			unsigned ns = nr_slots(l->size + (l->off % BL_IO_TLB_SIZE));

			o->free(h, l->off, l->size);
			for (unsigned i = first; i < first + ns; i++)
				used[i] = 0;
			used_slots -= ns;
			l->used = false;
		} else {
			size_t size;
			size_t align = 0;
			uint64_t mask = 0, orig = 0, off;
			unsigned r = (unsigned)(rnd() % 8);

			size = r < 5 ? 1 + rnd() % 4096 :
			       r < 7 ? 1 + rnd() % 65536 : 1 + rnd() % (256 * 1024);
			if (rnd() % 4 == 0) {
				mask = 0xfff;
				orig = rnd() & 0xfffffff;
				if (size + (orig & 0x7ff) > 256 * 1024)
					size = 256 * 1024 - (orig & 0x7ff);
			} else if (rnd() % 4 == 0) {
				align = (size_t)4096 << (rnd() % 5);
			}
			if (o->alloc(h, size, align, mask, orig, &off) == 0) {
				unsigned first = (unsigned)(off / BL_IO_TLB_SIZE);
				unsigned ns = nr_slots(size + (off % BL_IO_TLB_SIZE));
				bool overlap = false;

				CHECK(first + ns <= n, "inside the pool");
				CHECK(first / BL_IO_TLB_SEGSIZE ==
				      (first + ns - 1) / BL_IO_TLB_SEGSIZE,
				      "crosses a segment: %u+%u", first, ns);
				if (mask)
					CHECK((off & mask) == (orig & mask), "min_align");
				if (align)
					CHECK(off % align == 0, "align %zu off %llx", align,
					      (unsigned long long)off);
				for (unsigned i = first; i < first + ns && i < n; i++) {
					overlap |= used[i];
					used[i] = 1;
				}
				CHECK(!overlap, "overlapping allocation at slot %u", first);
				used_slots += ns;
				l->off = off;
				l->size = size;
				l->used = true;
			}
		}
		if (!linux_lists_consistent(h, used) && bad_lists++ < 3)
			CHECK(0, "list counts inconsistent after step %d", step);
		CHECK(o->reserved_bytes(h) == used_slots * BL_IO_TLB_SIZE,
		      "reserved %zu vs %zu", o->reserved_bytes(h),
		      used_slots * BL_IO_TLB_SIZE);
		if (failures > 20)
			break;
	}
	for (int i = 0; i < LIVE_MAX; i++)
		if (lv[i].used)
			o->free(h, lv[i].off, lv[i].size);
	memset(used, 0, n);
	CHECK(linux_lists_consistent(h, used), "lists after freeing all");
	CHECK(o->reserved_bytes(h) == 0, "empty");
	free(used);
	o->destroy(h);
}

struct thr_arg {
	const struct bl_ops *o;
	void *h;
	int errors;
};

static void *linux_thread(void *argp)
{
	struct thr_arg *a = argp;
	uint64_t offs[64];
	size_t sizes[64];
	uint64_t s = (uint64_t)(uintptr_t)argp | 1;

	for (int it = 0; it < 20000; it++) {
		int k = 0;

		for (; k < 64; k++) {
			s ^= s << 13;
			s ^= s >> 7;
			s ^= s << 17;
			sizes[k] = 1 + s % 20000;
			if (a->o->alloc(a->h, sizes[k], 0, 0, 0, &offs[k]) != 0)
				break;
		}
		while (k-- > 0)
			a->o->free(a->h, offs[k], sizes[k]);
	}
	return NULL;
}

static void test_threads(const struct bl_ops *o)
{
	void *h = o->create(32u << 20);
	pthread_t t[2];
	struct thr_arg a[2];
	unsigned char *used;

	if (!h) {
		CHECK(0, "create");
		return;
	}
	for (int i = 0; i < 2; i++) {
		a[i].o = o;
		a[i].h = h;
		a[i].errors = 0;
		pthread_create(&t[i], NULL, linux_thread, &a[i]);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	CHECK(o->reserved_bytes(h) == 0, "%s: all freed", o->name);
	if (o == &bl_linux_swiotlb) {
		used = calloc(bl_linux_nslabs(h), 1);
		CHECK(used && linux_lists_consistent(h, used), "lists after threads");
		free(used);
	}
	o->destroy(h);
}

static void test_openbsd(void)
{
	const struct bl_ops *o = &bl_openbsd_sev;
	void *h = o->create(1u << 20);
	uint64_t off, offs[300];
	int n = 0;

	CHECK(bl_openbsd_sev_map_pages(1, 1) == 2, "1 byte");
	CHECK(bl_openbsd_sev_map_pages(512, 1) == 2, "512 B");
	CHECK(bl_openbsd_sev_map_pages(4096, 1) == 2, "4 KiB");
	CHECK(bl_openbsd_sev_map_pages(4097, 1) == 3, "4 KiB + 1");
	CHECK(bl_openbsd_sev_map_pages(65536, 1) == 17, "64 KiB");
	CHECK(bl_openbsd_sev_map_pages(4096, 5) == 5, "nsegments wins");
	CHECK(bl_openbsd_sev_map_pages(65536, 17) == 17, "equal");
	if (!h) {
		CHECK(0, "create");
		return;
	}
	CHECK(o->capacity_bytes(h) == 1u << 20, "capacity");
	CHECK(o->alloc(h, 1000, 0, 0, 0x1234, &off) == 0, "alloc");
	CHECK(o->reserved_bytes(h) == 2 * 4096, "1000 B reserves 2 pages: %zu",
	      o->reserved_bytes(h));
	CHECK((off & 0xfff) == 0x234, "page offset kept");
	o->free(h, off, 1000);
	CHECK(o->reserved_bytes(h) == 0, "freed");
	bl_openbsd_sev_set_nsegments(h, 4);
	CHECK(o->alloc(h, 1000, 0, 0, 0, &off) == 0, "alloc nsegs 4");
	CHECK(o->reserved_bytes(h) == 4 * 4096, "nsegments 4: %zu", o->reserved_bytes(h));
	o->free(h, off, 1000);
	bl_openbsd_sev_set_nsegments(h, 1);
	/* 256 pages, 2 per 4 KiB map: 128 maps fit. */
	while (n < 300 && o->alloc(h, 4096, 0, 0, 0, &offs[n]) == 0)
		n++;
	CHECK(n == 128, "4 KiB maps in 1 MiB: %d", n);
	CHECK(o->reserved_bytes(h) == 1u << 20, "full");
	for (int i = 0; i < n; i++)
		for (int j = i + 1; j < n; j++)
			if (offs[i] / 4096 == offs[j] / 4096)
				CHECK(0, "same first page %d %d", i, j);
	for (int i = n - 1; i >= 0; i -= 2)
		o->free(h, offs[i], 4096);
	CHECK(o->reserved_bytes(h) == 64 * 2 * 4096, "half freed: %zu", o->reserved_bytes(h));
	CHECK(o->alloc(h, 65536, 0, 0, 0, &off) == 0, "17 pages from scattered ones");
	CHECK(o->reserved_bytes(h) == (128 + 17) * 4096, "after 64K: %zu",
	      o->reserved_bytes(h));
	o->free(h, off, 65536);
	for (int i = n - 2; i >= 0; i -= 2)
		o->free(h, offs[i], 4096);
	CHECK(o->reserved_bytes(h) == 0, "empty");
	o->destroy(h);
}

static void test_freebsd(void)
{
	const struct bl_ops *o = &bl_freebsd_bounce;
	void *h = o->create(1u << 20);
	uint64_t off, offs[300];
	int n = 0;

	CHECK(bl_freebsd_bounce_pages(0, 1) == 1, "1 B");
	CHECK(bl_freebsd_bounce_pages(0, 4096) == 1, "4 KiB");
	CHECK(bl_freebsd_bounce_pages(0, 4097) == 2, "4 KiB + 1");
	CHECK(bl_freebsd_bounce_pages(0, 65536) == 16, "64 KiB");
	CHECK(bl_freebsd_bounce_pages(4095, 2) == 2, "straddles");
	CHECK(bl_freebsd_bounce_pages(100, 8192) == 3, "unaligned 8 KiB");
	if (!h) {
		CHECK(0, "create");
		return;
	}
	CHECK(o->alloc(h, 10000, 0, 0, 0, &off) == 0, "alloc");
	CHECK(o->reserved_bytes(h) == 3 * 4096, "10000 B = 3 pages: %zu",
	      o->reserved_bytes(h));
	o->free(h, off, 10000);
	CHECK(o->reserved_bytes(h) == 0, "freed");
	CHECK(o->alloc(h, 512, 0, 0xfff, 0x5a00, &off) == 0, "alloc with mask");
	CHECK((off & 0xfff) == 0xa00, "page offset under mask");
	CHECK(o->reserved_bytes(h) == 4096, "512 B = 1 page");
	o->free(h, off, 512);
	while (n < 300 && o->alloc(h, 4096, 0, 0, 0, &offs[n]) == 0)
		n++;
	CHECK(n == 256, "4 KiB loads in 1 MiB: %d", n);
	CHECK(o->alloc(h, 1, 0, 0, 0, &off) == -ENOMEM, "full");
	for (int i = 0; i < n; i++)
		for (int j = i + 1; j < n; j++)
			if (offs[i] / 4096 == offs[j] / 4096)
				CHECK(0, "same page %d %d", i, j);
	for (int i = 0; i < n; i += 2)
		o->free(h, offs[i], 4096);
	CHECK(o->reserved_bytes(h) == 128 * 4096, "half: %zu", o->reserved_bytes(h));
	CHECK(o->alloc(h, 129 * 4096, 0, 0, 0, &off) == -ENOMEM, "129 pages > 128 free");
	CHECK(o->alloc(h, 128 * 4096, 0, 0, 0, &off) == 0, "128 scattered pages");
	CHECK(o->reserved_bytes(h) == 1u << 20, "full again");
	o->free(h, off, 128 * 4096);
	for (int i = 1; i < n; i += 2)
		o->free(h, offs[i], 4096);
	CHECK(o->reserved_bytes(h) == 0, "empty");
	o->destroy(h);
}

int main(void)
{
	test_linux_limits();
	test_linux_min_align();
	test_linux_random();
	test_threads(&bl_linux_swiotlb);
	test_threads(&bl_openbsd_sev);
	test_threads(&bl_freebsd_bounce);
	test_openbsd();
	test_freebsd();
	if (failures) {
		fprintf(stderr, "test_baselines: %d failure(s)\n", failures);
		return 1;
	}
	printf("test_baselines: ok\n");
	return 0;
}
