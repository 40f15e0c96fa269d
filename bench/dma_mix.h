/* SPDX-License-Identifier: MIT */
/*
 * The measured mix of DMA mapping sizes, shared by the benchmark, the demo
 * and the stress test: 3.5% <= 512 B, 57.7% <= 2 KiB, 91.3% <= 4 KiB,
 * 96.0% <= 16 KiB, 100% <= 512 KiB, uniform inside each bucket.
 */
#ifndef CCDMA_DMA_MIX_H
#define CCDMA_DMA_MIX_H

#include <stddef.h>
#include <stdint.h>

/* xorshift64: small, fast, and the same sequence on every run. */
static inline uint64_t dma_mix_rand(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

/* One size from the mix; `cap` (0: none) narrows the last bucket.  Always
 * two draws from `rng`. */
static inline size_t dma_mix_size(uint64_t *rng, size_t cap)
{
	static const struct { unsigned permille; size_t hi; } buckets[] = {
		{ 35, 512 }, { 577, 2048 }, { 913, 4096 }, { 960, 16384 },
		{ 1000, 512 * 1024 },
	};
	uint64_t r = dma_mix_rand(rng) % 1000, u = dma_mix_rand(rng);
	size_t lo = 0, hi = 0;
	unsigned i;

	for (i = 0; i < sizeof(buckets) / sizeof(buckets[0]); i++) {
		hi = buckets[i].hi;
		if (r < buckets[i].permille)
			break;
		lo = hi;
	}
	if (cap && hi > cap)
		hi = cap;
	return lo + 1 + (size_t)(u % (hi - lo));
}

#endif
