/* SPDX-License-Identifier: MIT */
/*
 * Building chunk lists: ccdma_chunks_add() merges a range that continues
 * the last chunk (same kind, adjacent) in one pass and starts a new chunk
 * after a gap or a change of kind; a full list answers -ENOSPC and is left
 * exactly as it was (n, bytes, the last chunk's length), even when part of
 * the range could have been merged; ranges above 4 GiB - 1 are split over
 * several chunks; bad input is -EINVAL with one logged line.  The input and
 * output records are 16 bytes.
 */
#include "dma_chk_util.h"

#define MAXC 0xffffffffull

static char mem[65536];

static void same_list(const struct ccdma_chunk_list *l, uint32_t n,
		      uint64_t bytes, uint32_t last_len, int line)
{
	if (l->n != n || l->bytes != bytes ||
	    (n && l->chunk[n - 1].len != last_len)) {
		fprintf(stderr, "line %d: list n %u bytes %llu last %u, expected "
			"%u %llu %u\n", line, l->n, (unsigned long long)l->bytes,
			l->n ? l->chunk[l->n - 1].len : 0, n,
			(unsigned long long)bytes, last_len);
		test_failures++;
	}
}

static void check_merge(void)
{
	struct ccdma_chunk st[8];
	struct ccdma_chunk_list l;

	ccdma_chunks_init(&l, st, 8);
	CHECK(l.chunk == st);
	CHECK_EQ(l.n, 0);
	CHECK_EQ(l.cap, 8);
	CHECK_EQ(l.bytes, 0);

	/* Contiguous pieces of one array: one chunk. */
	CHECK_EQ(ccdma_chunks_add(&l, mem, 100, CCDMA_MEM_PRIVATE), 0);
	CHECK_EQ(ccdma_chunks_add(&l, mem + 100, 900, CCDMA_MEM_PRIVATE), 0);
	CHECK_EQ(ccdma_chunks_add(&l, mem + 1000, 3096, CCDMA_MEM_PRIVATE), 0);
	CHECK_EQ(l.n, 1);
	CHECK_EQ(l.chunk[0].addr, (uintptr_t)mem);
	CHECK_EQ(l.chunk[0].len, 4096);
	CHECK_EQ(l.chunk[0].mem, CCDMA_MEM_PRIVATE);
	CHECK_EQ(l.bytes, 4096);

	/* A gap: a new chunk, which then grows. */
	CHECK_EQ(ccdma_chunks_add(&l, mem + 8192, 100, CCDMA_MEM_PRIVATE), 0);
	CHECK_EQ(ccdma_chunks_add(&l, mem + 8292, 28, CCDMA_MEM_PRIVATE), 0);
	CHECK_EQ(l.n, 2);
	CHECK_EQ(l.chunk[1].addr, (uintptr_t)(mem + 8192));
	CHECK_EQ(l.chunk[1].len, 128);
	CHECK_EQ(l.bytes, 4096 + 128);

	/* Adjacent but of another kind: a new chunk; then shared grows. */
	CHECK_EQ(ccdma_chunks_add(&l, mem + 8320, 64, CCDMA_MEM_SHARED), 0);
	CHECK_EQ(ccdma_chunks_add(&l, mem + 8384, 64, CCDMA_MEM_SHARED), 0);
	CHECK_EQ(l.n, 3);
	CHECK_EQ(l.chunk[2].addr, (uintptr_t)(mem + 8320));
	CHECK_EQ(l.chunk[2].len, 128);
	CHECK_EQ(l.chunk[2].mem, CCDMA_MEM_SHARED);

	/* Only a continuation of the last chunk merges: a range just before
	 * it, or one continuing an earlier chunk, starts a new one. */
	CHECK_EQ(ccdma_chunks_add(&l, mem + 4096, 16, CCDMA_MEM_PRIVATE), 0);
	CHECK_EQ(l.n, 4);
	CHECK_EQ(ccdma_chunks_add(&l, mem + 8448, 16, CCDMA_MEM_PRIVATE), 0);
	CHECK_EQ(l.n, 5);
	CHECK_EQ(l.chunk[4].len, 16);
	CHECK_EQ(l.chunk[4].mem, CCDMA_MEM_PRIVATE);
	/* Overlapping the last chunk is not a continuation either. */
	CHECK_EQ(ccdma_chunks_add(&l, mem + 8456, 16, CCDMA_MEM_PRIVATE), 0);
	CHECK_EQ(l.n, 6);

	/* Device memory merges by bus address. */
	CHECK_EQ(ccdma_chunks_add_bus(&l, 0x40000000, 4096), 0);
	CHECK_EQ(ccdma_chunks_add_bus(&l, 0x40001000, 4096), 0);
	CHECK_EQ(l.n, 7);
	CHECK_EQ(l.chunk[6].addr, 0x40000000);
	CHECK_EQ(l.chunk[6].len, 8192);
	CHECK_EQ(l.chunk[6].mem, CCDMA_MEM_DEVICE);
	/* A private range right after it (same numbers) is another kind. */
	CHECK_EQ(ccdma_chunks_add(&l, (void *)(uintptr_t)0x40002000, 16,
				  CCDMA_MEM_PRIVATE), 0);
	CHECK_EQ(l.n, 8);
	CHECK_EQ(l.chunk[6].len, 8192);
	CHECK_EQ(l.bytes, 4096 + 128 + 128 + 16 + 16 + 16 + 8192 + 16);
}

static void check_full(void)
{
	struct ccdma_chunk st[3];
	struct ccdma_chunk_list l;
	uint64_t bytes;

	ccdma_chunks_init(&l, st, 3);
	CHECK_EQ(ccdma_chunks_add(&l, mem, 100, CCDMA_MEM_PRIVATE), 0);
	CHECK_EQ(ccdma_chunks_add(&l, mem + 200, 100, CCDMA_MEM_PRIVATE), 0);
	CHECK_EQ(ccdma_chunks_add(&l, mem + 400, 100, CCDMA_MEM_PRIVATE), 0);
	CHECK_EQ(l.n, 3);

	/* Full: a new range is refused with one message, nothing changes. */
	chk_log_catch();
	CHECK_EQ(ccdma_chunks_add(&l, mem + 600, 100, CCDMA_MEM_PRIVATE), -ENOSPC);
	CHECK_EQ(chk_log.errors, 1);
	same_list(&l, 3, 300, 100, __LINE__);
	CHECK_EQ(ccdma_chunks_add(&l, mem + 500, 100, CCDMA_MEM_SHARED), -ENOSPC);
	same_list(&l, 3, 300, 100, __LINE__);

	/* A continuation of the last chunk needs no slot. */
	CHECK_EQ(ccdma_chunks_add(&l, mem + 500, 50, CCDMA_MEM_PRIVATE), 0);
	same_list(&l, 3, 350, 150, __LINE__);

	/* Part of the range could extend the last chunk but the rest needs a
	 * slot: refused as a whole, the last chunk keeps its length. */
	ccdma_chunks_init(&l, st, 2);
	CHECK_EQ(ccdma_chunks_add(&l, mem, 16, CCDMA_MEM_PRIVATE), 0);
	CHECK_EQ(ccdma_chunks_add_bus(&l, 0x100000000ull, MAXC - 10), 0);
	same_list(&l, 2, 16 + MAXC - 10, (uint32_t)(MAXC - 10), __LINE__);
	bytes = l.bytes;
	CHECK_EQ(ccdma_chunks_add_bus(&l, 0x100000000ull + MAXC - 10, 100), -ENOSPC);
	same_list(&l, 2, bytes, (uint32_t)(MAXC - 10), __LINE__);
	/* ... and exactly the room left is accepted. */
	CHECK_EQ(ccdma_chunks_add_bus(&l, 0x100000000ull + MAXC - 10, 10), 0);
	same_list(&l, 2, bytes + 10, (uint32_t)MAXC, __LINE__);

	/* A split that needs more slots than there are: nothing added. */
	ccdma_chunks_init(&l, st, 2);
	CHECK_EQ(ccdma_chunks_add_bus(&l, 1ull << 40, 3 * MAXC), -ENOSPC);
	same_list(&l, 0, 0, 0, __LINE__);

	/* No storage: every add is -ENOSPC. */
	ccdma_chunks_init(&l, NULL, 5);
	CHECK_EQ(l.cap, 0);
	CHECK_EQ(ccdma_chunks_add(&l, mem, 1, CCDMA_MEM_PRIVATE), -ENOSPC);
	ccdma_log_set_handler(NULL, NULL);
}

static void check_split(void)
{
	struct ccdma_chunk st[8];
	struct ccdma_chunk_list l;
	const uint64_t bus = 0x1000000000ull;
	const uint64_t len = 10ull << 30;
	uint32_t i;

	if (sizeof(size_t) < 8)
		return;
	/* 10 GiB of device memory: two full chunks and the rest. */
	ccdma_chunks_init(&l, st, 8);
	CHECK_EQ(ccdma_chunks_add_bus(&l, bus, (size_t)len), 0);
	CHECK_EQ(l.n, 3);
	CHECK_EQ(l.bytes, len);
	CHECK_EQ(st[0].addr, bus);
	CHECK_EQ(st[0].len, MAXC);
	CHECK_EQ(st[1].addr, bus + MAXC);
	CHECK_EQ(st[1].len, MAXC);
	CHECK_EQ(st[2].addr, bus + 2 * MAXC);
	CHECK_EQ(st[2].len, len - 2 * MAXC);
	for (i = 0; i < 3; i++)
		CHECK_EQ(st[i].mem, CCDMA_MEM_DEVICE);
	/* The last one still grows by continuation. */
	CHECK_EQ(ccdma_chunks_add_bus(&l, bus + len, 5), 0);
	CHECK_EQ(l.n, 3);
	CHECK_EQ(st[2].len, len - 2 * MAXC + 5);

	/* Exactly 4 GiB - 1 is one chunk; 4 GiB is two. */
	ccdma_chunks_init(&l, st, 8);
	CHECK_EQ(ccdma_chunks_add_bus(&l, bus, (size_t)MAXC), 0);
	CHECK_EQ(l.n, 1);
	ccdma_chunks_init(&l, st, 8);
	CHECK_EQ(ccdma_chunks_add_bus(&l, bus, (size_t)MAXC + 1), 0);
	CHECK_EQ(l.n, 2);
	CHECK_EQ(st[0].len, MAXC);
	CHECK_EQ(st[1].addr, bus + MAXC);
	CHECK_EQ(st[1].len, 1);

	/* A continuation of a full chunk goes to a new one. */
	ccdma_chunks_init(&l, st, 8);
	CHECK_EQ(ccdma_chunks_add_bus(&l, bus, (size_t)MAXC), 0);
	CHECK_EQ(ccdma_chunks_add_bus(&l, bus + MAXC, 7), 0);
	CHECK_EQ(l.n, 2);
	CHECK_EQ(st[1].addr, bus + MAXC);
	CHECK_EQ(st[1].len, 7);
	CHECK_EQ(l.bytes, MAXC + 7);
}

static void check_badargs(void)
{
	struct ccdma_chunk st[4];
	struct ccdma_chunk_list l;

	ccdma_chunks_init(&l, st, 4);
	CHECK_EQ(ccdma_chunks_add(&l, mem, 64, CCDMA_MEM_PRIVATE), 0);
	chk_log_catch();
	CHECK_EQ(ccdma_chunks_add(NULL, mem, 64, CCDMA_MEM_PRIVATE), -EINVAL);
	CHECK_EQ(ccdma_chunks_add_bus(NULL, 0x1000, 64), -EINVAL);
	CHECK_EQ(ccdma_chunks_add(&l, NULL, 64, CCDMA_MEM_PRIVATE), -EINVAL);
	CHECK_EQ(ccdma_chunks_add(&l, NULL, 64, CCDMA_MEM_SHARED), -EINVAL);
	CHECK_EQ(ccdma_chunks_add(&l, mem + 64, 0, CCDMA_MEM_PRIVATE), -EINVAL);
	CHECK_EQ(ccdma_chunks_add_bus(&l, 0x1000, 0), -EINVAL);
	CHECK_EQ(ccdma_chunks_add(&l, (void *)(UINTPTR_MAX - 15), 32,
				  CCDMA_MEM_PRIVATE), -EINVAL);
	CHECK_EQ(ccdma_chunks_add_bus(&l, UINT64_MAX - 15, 32), -EINVAL);
	CHECK_EQ(ccdma_chunks_add(&l, mem + 64, 64, (enum ccdma_mem)3), -EINVAL);
	CHECK_EQ(ccdma_chunks_add(&l, mem + 64, 64, (enum ccdma_mem)-1), -EINVAL);
	/* Each refusal said why, once. */
	CHECK_EQ(chk_log.errors, 10);
	CHECK(strstr(chk_log.last, "invalid") != NULL);
	ccdma_log_set_handler(NULL, NULL);
	same_list(&l, 1, 64, 64, __LINE__);
	CHECK_EQ(l.chunk[0].addr, (uintptr_t)mem);

	/* NULL is harmless to init. */
	ccdma_chunks_init(NULL, st, 4);
}

int main(void)
{
	test_init();
	CHECK_EQ(sizeof(struct ccdma_chunk), 16);
	CHECK_EQ(sizeof(struct ccdma_seg), 16);
	check_merge();
	check_full();
	check_split();
	check_badargs();
	return test_done("dma_chunks_merge");
}
