/* Multi-thread stress: threads allocate the measured DMA size mix, write a
 * pattern into every byte, hand some buffers to other threads, and verify
 * every byte before freeing.  Overlap or reuse of a live slot shows up as a
 * corrupted pattern. */
#include <pthread.h>

#include <ccdma/hosted.h>

#include "test.h"
#include "dma_mix.h"

#define T 4
#define OPS 30000
#define KEEP 64
#define XCH 256

static struct ccdma_pool *p;
static struct { unsigned char *b; size_t sz; uint32_t tag; } xch[XCH];
static pthread_mutex_t xmu = PTHREAD_MUTEX_INITIALIZER;
static long corrupt;

/* Byte i of a buffer tagged t holds (t + 31 i) mod 256, which is
 * pattern[(i + 223 t) mod 256 + i] below (31 * 223 = 1 mod 256): a whole
 * buffer is one memcpy or memcmp, cheap under the sanitizers, which
 * instrument a byte loop byte by byte. */
#define MAX_SIZE (512u << 10) /* dma_mix_size() with no cap */
static unsigned char pattern[256 + MAX_SIZE];

static void pattern_init(void)
{
	size_t j;

	for (j = 0; j < sizeof(pattern); j++)
		pattern[j] = (unsigned char)(31 * j);
}

static const unsigned char *pattern_of(uint32_t tag)
{
	return pattern + (223u * tag) % 256u;
}

static void fill(unsigned char *b, size_t n, uint32_t tag)
{
	memcpy(b, pattern_of(tag), n);
}

static long verify(const unsigned char *b, size_t n, uint32_t tag)
{
	size_t i;
	long bad = 0;

	if (!memcmp(b, pattern_of(tag), n))
		return 0;
	for (i = 0; i < n; i++)
		bad += b[i] != (unsigned char)(tag + i * 31);
	return bad;
}

static void *worker(void *arg)
{
	uint64_t seed = (uintptr_t)arg * 0x9e3779b97f4a7c15ull;
	struct { unsigned char *b; size_t sz; uint32_t tag; } mine[KEEP] = { { 0 } };
	long bad = 0;
	int i, k;

	for (i = 0; i < OPS; i++) {
		k = (int)(xorshift(&seed) % KEEP);
		if (mine[k].b) {
			if (xorshift(&seed) % 4 == 0) {
				/* swap with the exchange: free another
				 * thread's buffer instead */
				int x = (int)(xorshift(&seed) % XCH);

				pthread_mutex_lock(&xmu);
				{
					unsigned char *ob = xch[x].b;
					size_t osz = xch[x].sz;
					uint32_t otag = xch[x].tag;

					xch[x].b = mine[k].b;
					xch[x].sz = mine[k].sz;
					xch[x].tag = mine[k].tag;
					mine[k].b = ob;
					mine[k].sz = osz;
					mine[k].tag = otag;
				}
				pthread_mutex_unlock(&xmu);
			}
			if (mine[k].b) {
				bad += verify(mine[k].b, mine[k].sz, mine[k].tag);
				CHECK_EQ(ccdma_pool_free(p, mine[k].b, mine[k].sz), 0);
				mine[k].b = NULL;
			}
		}
		mine[k].sz = dma_mix_size(&seed, 0);
		mine[k].tag = (uint32_t)xorshift(&seed);
		if (ccdma_pool_alloc(p, mine[k].sz, CCDMA_POOL_WAIT, (void **)&mine[k].b) != 0) {
			CHECK(0);
			mine[k].b = NULL;
			continue;
		}
		fill(mine[k].b, mine[k].sz, mine[k].tag);
	}
	for (k = 0; k < KEEP; k++) {
		if (!mine[k].b)
			continue;
		bad += verify(mine[k].b, mine[k].sz, mine[k].tag);
		CHECK_EQ(ccdma_pool_free(p, mine[k].b, mine[k].sz), 0);
	}
	pthread_mutex_lock(&xmu);
	corrupt += bad;
	pthread_mutex_unlock(&xmu);
	return NULL;
}

int main(int argc, char **argv)
{
	struct ccdma_pool_config cfg;
	struct ccdma_pool_stats st;
	pthread_t t[T];
	int i;

	(void)argc;
	(void)argv;
	test_init();
	pattern_init();
	REQUIRE(pattern_of(0xdeadbeef)[5] == (unsigned char)(0xdeadbeef + 5 * 31));
	test_config(&cfg, "stress");
	cfg.max_bytes = 512u << 20;
	REQUIRE(ccdma_pool_create(&cfg, &p) == 0);
	for (i = 0; i < T; i++)
		REQUIRE(pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)(i + 1)) == 0);
	for (i = 0; i < T; i++)
		pthread_join(t[i], NULL);
	for (i = 0; i < XCH; i++) {
		if (!xch[i].b)
			continue;
		corrupt += verify(xch[i].b, xch[i].sz, xch[i].tag);
		CHECK_EQ(ccdma_pool_free(p, xch[i].b, 0), 0);
	}
	CHECK_EQ(corrupt, 0);
	CHECK_EQ(ccdma_pool_get_stats(p, &st), 0);
	CHECK_EQ(st.allocs, st.frees);
	CHECK_EQ(st.in_use_bytes, 0);
	CHECK_EQ(st.failures, 0);
	ccdma_pool_print_stats(&st, stdout);
	ccdma_pool_destroy(p);
	return test_done("pool_stress");
}
