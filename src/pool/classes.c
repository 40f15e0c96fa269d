/* SPDX-License-Identifier: MIT */
/*
 * Size classes: four per doubling, 256 B .. 16 MiB (2^e * {5,6,7,8}/4).
 *
 * Why four: a request lands in a class at most 25% (on average about 11%)
 * larger than itself.  Weighted by bytes, the measured DMA mix is dominated
 * by the few mappings above 16 KiB, which are cut to the page instead
 * (classes above CCDMA_POOL_SMALL_MAX are only statistics bins), so the
 * slot rounding costs about 2% of the footprint while keeping the number of
 * cached classes (29) and thus per-thread cache memory small.  Eight per
 * doubling would halve that 2% and double the classes whose partly used
 * spans hold memory.
 */
#include "pool/pool_internal.h"

size_t ccdma_class_bytes(unsigned ci)
{
	unsigned e, k;

	if (ci >= CCDMA_POOL_NCLASSES)
		return 0;
	if (ci == 0)
		return CCDMA_POOL_MIN_CLASS;
	e = 8 + (ci - 1) / 4;
	k = (ci - 1) % 4 + 1;
	return ((size_t)1 << e) + k * ((size_t)1 << (e - 2));
}

size_t ccdma_pool_class_size(unsigned index)
{
	return ccdma_class_bytes(index);
}

int ccdma_pool_class_of(size_t size)
{
	if (size == 0 || size > CCDMA_POOL_MAX_ALLOC)
		return -EINVAL;
	return (int)ccdma_class_index(size);
}

/*
 * Span geometry of a small class: at least 64 KiB and 8 slots, choosing
 * among up to 50% more pages the size that wastes least at the tail.
 * The per-thread cache holds up to 128 KiB of a class (4 .. TC_MAX slots).
 */
void ccdma_class_geometry(size_t granule, unsigned ci, uint32_t *span_pages,
			  uint32_t *slots, uint32_t *tc_cap)
{
	size_t stride = ccdma_class_bytes(ci);
	size_t target = stride * 8 > 65536 ? stride * 8 : 65536;
	size_t lo = (target + granule - 1) / granule, best = lo, n;
	size_t best_waste = (size_t)-1;
	size_t cap;

	for (n = lo; n <= lo + lo / 2; n++) {
		size_t waste = (n * granule) % stride;

		/* Relative waste: compare waste/n as waste * best < best_waste * n */
		if (best_waste == (size_t)-1 || waste * best < best_waste * n) {
			best = n;
			best_waste = waste;
		}
	}
	*span_pages = (uint32_t)best;
	*slots = (uint32_t)(best * granule / stride);
	cap = (128u * 1024u) / stride;
	if (cap < 4)
		cap = 4;
	if (cap > TC_MAX)
		cap = TC_MAX;
	*tc_cap = (uint32_t)cap;
}

/*
 * Exact division of offsets below 2^20 by d (256 .. 32 KiB) by a multiply
 * and a shift: with s = 20 + ceil(log2 d) and m = ceil(2^s / d), the error
 * m*d - 2^s < d keeps floor(x*m / 2^s) == floor(x / d) for x < 2^20.
 * tests/pool_classes.c checks it exhaustively for every class.
 */
void ccdma_div_magic(uint32_t d, uint32_t *magic, uint8_t *shift)
{
	unsigned l = 0;
	uint64_t s;

	while ((1u << l) < d)
		l++;
	s = 20 + l;
	*shift = (uint8_t)s;
	*magic = (uint32_t)((((uint64_t)1 << s) + d - 1) / d);
}
