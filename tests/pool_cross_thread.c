/* A free from another thread works and is cheap: producer threads
 * allocate, consumer threads free; every slot comes back, no slot is ever
 * handed out twice at once. */
#include <pthread.h>

#include "test.h"

#define RING 1024
#define ITEMS 60000

static struct ccdma_pool *p;
static void *ring[RING];
static size_t ring_sz[RING];
static unsigned head, tail;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv_put = PTHREAD_COND_INITIALIZER, cv_get = PTHREAD_COND_INITIALIZER;
static int producers_done;

static void *producer(void *arg)
{
	uint64_t seed = (uintptr_t)arg;
	int i;

	for (i = 0; i < ITEMS / 2; i++) {
		size_t sz = 1 + xorshift(&seed) % 8192;
		unsigned char *b;

		if (ccdma_pool_alloc(p, sz, CCDMA_POOL_WAIT, (void **)&b) != 0) {
			CHECK(0);
			continue;
		}
		/* Stamp it: the consumer checks nobody else wrote it. */
		memset(b, (int)(sz & 0xff), sz);
		pthread_mutex_lock(&mu);
		while (head - tail == RING)
			pthread_cond_wait(&cv_put, &mu);
		ring[head % RING] = b;
		ring_sz[head % RING] = sz;
		head++;
		pthread_cond_signal(&cv_get);
		pthread_mutex_unlock(&mu);
	}
	return NULL;
}

static void *consumer(void *arg)
{
	long n = 0;

	(void)arg;
	for (;;) {
		unsigned char *b;
		size_t sz, i;
		int bad = 0;

		pthread_mutex_lock(&mu);
		while (head == tail && producers_done < 2)
			pthread_cond_wait(&cv_get, &mu);
		if (head == tail) {
			pthread_mutex_unlock(&mu);
			break;
		}
		b = ring[tail % RING];
		sz = ring_sz[tail % RING];
		tail++;
		pthread_cond_signal(&cv_put);
		pthread_mutex_unlock(&mu);
		for (i = 0; i < sz; i++)
			bad += b[i] != (unsigned char)(sz & 0xff);
		CHECK_EQ(bad, 0);
		CHECK_EQ(ccdma_pool_free(p, b, sz), 0);
		n++;
	}
	return (void *)n;
}

int main(void)
{
	struct ccdma_pool_config cfg;
	struct ccdma_pool_stats st;
	pthread_t pr[2], co[2];
	long freed = 0;
	int i;

	test_init();
	test_config(&cfg, "xthread");
	REQUIRE(ccdma_pool_create(&cfg, &p) == 0);
	for (i = 0; i < 2; i++) {
		REQUIRE(pthread_create(&pr[i], NULL, producer, (void *)(uintptr_t)(i + 11)) == 0);
		REQUIRE(pthread_create(&co[i], NULL, consumer, NULL) == 0);
	}
	for (i = 0; i < 2; i++)
		pthread_join(pr[i], NULL);
	pthread_mutex_lock(&mu);
	producers_done = 2;
	pthread_cond_broadcast(&cv_get);
	pthread_mutex_unlock(&mu);
	for (i = 0; i < 2; i++) {
		void *r;

		pthread_join(co[i], &r);
		freed += (long)r;
	}
	CHECK_EQ(freed, ITEMS);
	CHECK_EQ(ccdma_pool_get_stats(p, &st), 0);
	CHECK_EQ(st.allocs, ITEMS);
	CHECK_EQ(st.frees, ITEMS);
	CHECK_EQ(st.in_use_bytes, 0);
	CHECK_EQ(st.failures, 0);
	/* Producers only allocate and consumers only free, yet memory stays
	 * bounded: freed slots flow back through the depot. */
	CHECK(st.shared_high_water <= 32u << 20);
	ccdma_pool_destroy(p);
	return test_done("pool_cross_thread");
}
