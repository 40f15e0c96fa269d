/*
 * Under pressure a NOWAIT allocation fails only when no memory that could
 * serve it exists (issue 14, section 3):
 *   - exact_fit: a freed 100000-byte run serves a 100000-byte request
 *     (the segregated-fit bins rounded the request up to the next slice
 *     and skipped the bin that held the one run that fits), with and
 *     without alignment;
 *   - reclaim: slots of other classes cached by this thread, and wholly
 *     free spans kept by the depots, are given back to the page allocator
 *     before a NOWAIT allocation fails;
 *   - small_span: a small class whose full span does not fit takes a
 *     shorter span from a free run that holds at least one slot;
 *   - would_fit: ccdma_pool_would_fit() says whether memory for a size is
 *     free or cached, and agrees with what an allocation then does.
 */
#include "test.h"

#include <unistd.h>

/* The pool's granule (the page size: 4 KiB, or 64 KiB under qemu-user
 * with QEMU_PAGESIZE=65536): every size below is counted in pages. */
static size_t pg;

/* A pool of one region of 256 pages, no grower: what is there is all
 * there is. */
static struct ccdma_pool *fixed_pool(const char *name)
{
	struct ccdma_pool_config cfg;
	struct ccdma_pool *p;

	test_config(&cfg, name);
	cfg.region_size = 256 * pg;
	cfg.max_bytes = 256 * pg;
	cfg.initial_bytes = 256 * pg;
	cfg.flags = CCDMA_POOL_F_NO_GROWER;
	REQUIRE(ccdma_pool_create(&cfg, &p) == 0);
	return p;
}

/* Fill the pool with large allocations of `sz` bytes (the last one
 * smaller, so nothing is left); returns how many. */
static unsigned fill(struct ccdma_pool *p, size_t sz, void **a, unsigned max)
{
	unsigned n = 0;

	while (n < max && ccdma_pool_alloc(p, sz, 0, &a[n]) == 0)
		n++;
	return n;
}

static void exact_fit(void)
{
	struct ccdma_pool *p = fixed_pool("exact");
	void *a[64], *x, *rest[64];
	unsigned n, m, i;

	/* 24.4 pages (100000 bytes with 4 KiB pages) take 25: a run of 25
	 * lies in the bin of runs 24..27 pages, and a request rounded up to
	 * 28 never looks there. */
	size_t sz = 24 * pg + pg * 2 / 5;

	n = fill(p, sz, a, 64);
	CHECK(n >= 9);
	m = fill(p, pg * 4 + 1, rest, 64);   /* what is left, in pieces */
	(void)m;
	CHECK_EQ(ccdma_pool_free(p, a[n / 2], 0), 0);
	CHECK_EQ(ccdma_pool_would_fit(p, sz), 1);
	CHECK_EQ(ccdma_pool_alloc(p, sz, 0, &x), 0);
	CHECK(x == a[n / 2]);
	CHECK_EQ(ccdma_pool_would_fit(p, sz), 0);
	a[n / 2] = x;
	/* Aligned: the freed run of pages 25..49 holds 22 pages aligned to
	 * 16 KiB (pages 28..49), though 22 + 3 for alignment rounds up past
	 * its bin. */
	{
		struct ccdma_pool_req r = { .size = 22 * pg, .align = 4 * pg };
		uintptr_t base = (uintptr_t)a[1];

		CHECK_EQ(ccdma_pool_free(p, a[1], 0), 0);
		CHECK_EQ(ccdma_pool_alloc_req(p, &r, &x), 0);
		CHECK(((uintptr_t)x & (4 * pg - 1)) == 0);
		CHECK((uintptr_t)x >= base && (uintptr_t)x + 22 * pg <= base + 25 * pg);
		CHECK_EQ(ccdma_pool_free(p, x, 0), 0);
		CHECK_EQ(ccdma_pool_alloc(p, sz, 0, &a[1]), 0);
	}
	for (i = 0; i < n; i++)
		CHECK_EQ(ccdma_pool_free(p, a[i], 0), 0);
	for (i = 0; i < m; i++)
		CHECK_EQ(ccdma_pool_free(p, rest[i], 0), 0);
	ccdma_pool_destroy(p);
}

static void reclaim(void)
{
	struct ccdma_pool *p = fixed_pool("reclaim");
	static void *small[16384];
	void *big;
	unsigned n = 0, i;

	/* The whole pool carved into 2 KiB slots, then every one freed: some
	 * slots sit in this thread's cache, a span stays with the class's
	 * depot, and only all of it together is the 1 MiB a request for the
	 * whole pool needs. */
	while (n < 16384 && ccdma_pool_alloc(p, 2048, 0, &small[n]) == 0)
		n++;
	CHECK(n >= 256);
	for (i = 0; i < n; i++)
		CHECK_EQ(ccdma_pool_free(p, small[i], 0), 0);
	CHECK_EQ(ccdma_pool_alloc(p, 256 * pg, 0, &big), 0);
	CHECK_EQ(ccdma_pool_free(p, big, 0), 0);
	/* The same, asked first (it takes back what the allocation would). */
	for (i = 0; i < n; i++)
		CHECK_EQ(ccdma_pool_alloc(p, 2048, 0, &small[i]), 0);
	for (i = 0; i < n; i++)
		CHECK_EQ(ccdma_pool_free(p, small[i], 0), 0);
	CHECK_EQ(ccdma_pool_would_fit(p, 256 * pg), 1);
	CHECK_EQ(ccdma_pool_alloc(p, 256 * pg, 0, &big), 0);
	CHECK_EQ(ccdma_pool_free(p, big, 0), 0);
	/* And back: the large run now serves small slots again. */
	CHECK_EQ(ccdma_pool_alloc(p, 2048, 0, &small[0]), 0);
	CHECK_EQ(ccdma_pool_free(p, small[0], 0), 0);
	ccdma_pool_destroy(p);
}

static void small_span(void)
{
	struct ccdma_pool *p = fixed_pool("span");
	void *a[64], *x[8] = { 0 };
	unsigned n, i;

	/* Large allocations of 9 pages, every other one freed: free runs of
	 * 9 pages, shorter than the span of any small class (16 pages or
	 * more), each long enough for a slot of any of them. */
	n = fill(p, 9 * pg, a, 64);
	CHECK(n >= 20);
	for (i = 0; i < n; i += 2)
		CHECK_EQ(ccdma_pool_free(p, a[i], 0), 0);
	CHECK_EQ(ccdma_pool_would_fit(p, 12000), 1);
	CHECK_EQ(ccdma_pool_would_fit(p, 32768), 1);
	for (i = 0; i < 8; i++) {
		CHECK_EQ(ccdma_pool_alloc(p, i & 1 ? 32768 : 12000, 0, &x[i]), 0);
		if (x[i])
			memset(x[i], 0x5a, i & 1 ? 32768 : 12000);
	}
	for (i = 0; i < 8; i++)
		CHECK_EQ(ccdma_pool_free(p, x[i], 0), 0);
	for (i = 1; i < n; i += 2)
		CHECK_EQ(ccdma_pool_free(p, a[i], 0), 0);
	ccdma_pool_destroy(p);
}

static void would_fit_args(void)
{
	struct ccdma_pool *p = fixed_pool("args");

	CHECK_EQ(ccdma_pool_would_fit(NULL, 4096), -EINVAL);
	CHECK_EQ(ccdma_pool_would_fit(p, 0), -EINVAL);
	CHECK_EQ(ccdma_pool_would_fit(p, CCDMA_POOL_MAX_ALLOC + 1), -EINVAL);
	CHECK_EQ(ccdma_pool_would_fit(p, 4096), 1);
	/* One page above the cap (with 64 KiB pages also above the largest
	 * allocation: then refused as an argument). */
	CHECK_EQ(ccdma_pool_would_fit(p, 257 * pg),
		 257 * pg > CCDMA_POOL_MAX_ALLOC ? -EINVAL : 0);
	ccdma_pool_destroy(p);
}

int main(int argc, char **argv)
{
	const char *c = argc > 1 ? argv[1] : "all";

	test_init();
	pg = (size_t)sysconf(_SC_PAGESIZE);
	if (!strcmp(c, "all") || !strcmp(c, "exact-fit"))
		exact_fit();
	if (!strcmp(c, "all") || !strcmp(c, "reclaim"))
		reclaim();
	if (!strcmp(c, "all") || !strcmp(c, "small-span"))
		small_span();
	if (!strcmp(c, "all") || !strcmp(c, "would-fit"))
		would_fit_args();
	return test_failures ? 1 : 0;
}
