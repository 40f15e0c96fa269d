/* SPDX-License-Identifier: MIT */
/* The statistics table (hosted builds only: it uses stdio). */
#include <inttypes.h>
#include <stdio.h>

#include <ccdma/hosted.h>

static void human(char *buf, size_t len, uint64_t v)
{
	if (v >= (1ull << 30) && !(v % (1ull << 20)))
		snprintf(buf, len, "%" PRIu64 "M", v >> 20);
	else if (v >= (1ull << 20))
		snprintf(buf, len, "%.1fM", (double)v / (1 << 20));
	else if (v >= 1024)
		snprintf(buf, len, "%.1fK", (double)v / 1024);
	else
		snprintf(buf, len, "%" PRIu64, v);
}

void ccdma_pool_print_stats(const struct ccdma_pool_stats *st, FILE *f)
{
	char a[32], b[32], c[32], d[32];
	unsigned i;

	if (!st || !f)
		return;
	fprintf(f, "%9s %9s %9s %9s %11s %11s %7s %7s %7s %9s\n", "class",
		"in_use", "free", "high", "allocs", "frees", "fail", "grow",
		"shrink", "shared");
	for (i = 0; i < st->nclasses; i++) {
		const struct ccdma_pool_class_stats *k = &st->classes[i];

		if (!k->allocs && !k->shared_bytes && !k->failures)
			continue;
		human(a, sizeof(a), k->size);
		human(b, sizeof(b), k->shared_bytes);
		fprintf(f, "%9s %9" PRIu64 " %9" PRIu64 " %9" PRIu64 " %11" PRIu64
			" %11" PRIu64 " %7" PRIu64 " %7" PRIu64 " %7" PRIu64 " %9s\n",
			a, k->in_use, k->free, k->high_water, k->allocs, k->frees,
			k->failures, k->grows, k->shrinks, b);
	}
	human(a, sizeof(a), st->shared_bytes);
	human(b, sizeof(b), st->shared_high_water);
	human(c, sizeof(c), st->in_use_bytes);
	human(d, sizeof(d), st->free_bytes);
	fprintf(f, "pool: shared %s (peak %s), in use %s, uncarved free %s, "
		"regions %" PRIu64 " (+%" PRIu64 " -%" PRIu64 ")\n",
		a, b, c, d, st->regions, st->region_grows, st->region_shrinks);
	human(a, sizeof(a), st->zeroed_bytes);
	fprintf(f, "pool: allocs %" PRIu64 ", frees %" PRIu64 ", failures %" PRIu64
		" (after %" PRIu64 " reclaims), waits %" PRIu64 " (%.3f ms, "
		"longest %.3f ms), deferred callbacks %" PRIu64 ", zeroed for "
		"no-stale-data %s\n",
		st->allocs, st->frees, st->failures, st->reclaims, st->waits,
		(double)st->wait_ns / 1e6, (double)st->wait_max_ns / 1e6,
		st->deferred_callbacks, a);
	if (st->bounce_copies_to_device || st->bounce_copies_from_device) {
		human(a, sizeof(a), st->bounced_to_device_bytes);
		human(b, sizeof(b), st->bounced_from_device_bytes);
		fprintf(f, "pool: bounce copies %" PRIu64 " to the device (%s), %"
			PRIu64 " from it (%s)\n", st->bounce_copies_to_device, a,
			st->bounce_copies_from_device, b);
	}
}
