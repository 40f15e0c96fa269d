/* SPDX-License-Identifier: MIT */
/*
 * A dynamic move with DMA in flight.  A device thread keeps writing
 * sequence numbers into the buffer (slot k, a 32-bit word, gets k + 1)
 * through the raw DMA address its importer gave it, while the main thread
 * moves the buffer's range through a chain of fresh pages, several times.
 * The importer keeps its contract: the move callback stops the device's DMA
 * and waits until the write in flight finished before returning; after
 * move returns the importer maps again and the device continues at the new
 * address.
 *
 * The main thread lets the device write a fixed number of words between
 * two moves (so the total is known), and before each move the device is
 * caught with a write in flight: it has translated the address (the old place) and only completes the write once
 * the callback asks it to stop.  Exactly that write was lost when move
 * copied the data before running the callbacks; with the callbacks first,
 * the write lands before the copy.  Checked, on a device behind a strict
 * IOMMU and on one without:
 *   - no write lost: at the end the buffer's current place holds every
 *     sequence number the device completed, and nothing more;
 *   - nothing lands in an old place after the callback: each old place is
 *     poisoned as soon as move returns and still poisoned at the end; with
 *     the strict IOMMU the old DMA address faults (-EFAULT) right after
 *     the callback, and the device's attempt to use it there fails;
 *   - map from inside the callback is refused (-EBUSY): the move is not
 *     done.
 * Every wait is on an event (mutex + condition variable), none on time.
 */
#include "dmabuf_util.h"

#include <pthread.h>
#include <unistd.h>

#define MOVES 6
#define FREE_WRITES 16 /* written freely between two moves */
#define POISON 0xee

static size_t pg;

/* The importer's view of its device, under mu. */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static struct {
	struct ccdma_dev *dev;
	ccdma_addr_t dma;   /* where the device writes; valid while mapped */
	bool mapped;        /* the device may start writes */
	bool stop;          /* the move callback asked the device to stop */
	bool busy;          /* a write is in flight */
	bool hold;          /* main: keep the next write in flight until stop */
	bool held;          /* device: a write is held in flight */
	bool done;          /* main: the device thread ends */
	uint32_t completed; /* writes completed (slots 0..completed-1) */
	uint32_t allowed;   /* main: the device writes up to this many */
	int fault_rc;       /* the device's attempt at the old address */
	ccdma_addr_t old;   /* the address the callback took away */
	int map_rc;         /* ccdma_dmabuf_map from inside the callback */
	int moves;
} st;

static void *device(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&mu);
	for (;;) {
		void *cpu = NULL;
		uint32_t k, v;
		int rc;

		while (!st.done &&
		       (!st.mapped || st.stop || st.completed >= st.allowed))
			pthread_cond_wait(&cv, &mu);
		if (st.done)
			break;
		k = st.completed;
		REQUIRE((k + 1) * sizeof(uint32_t) <= pg);
		st.busy = true;
		/* Translate: from here the write goes to this place. */
		rc = ccdma_dev_access(st.dev, st.dma + k * sizeof(uint32_t),
				      sizeof(uint32_t), CCDMA_ACCESS_WRITE, &cpu);
		CHECK_EQ(rc, 0);
		if (rc) {
			st.busy = false;
			st.done = true;
			pthread_cond_broadcast(&cv);
			break;
		}
		if (st.hold) {
			st.hold = false;
			st.held = true;
			pthread_cond_broadcast(&cv);
			while (!st.stop)
				pthread_cond_wait(&cv, &mu);
			st.held = false;
		}
		pthread_mutex_unlock(&mu);
		v = k + 1;
		memcpy(cpu, &v, sizeof(v)); /* the DMA write itself */
		pthread_mutex_lock(&mu);
		st.busy = false;
		st.completed = k + 1;
		pthread_cond_broadcast(&cv);
	}
	pthread_mutex_unlock(&mu);
	return NULL;
}

/* The importer's move callback: stop the device, wait for the write in
 * flight, forget the address. */
static void on_move(struct ccdma_dmabuf_attach *att, void *arg)
{
	void *cpu = NULL;

	(void)arg;
	pthread_mutex_lock(&mu);
	st.moves++;
	st.stop = true;
	pthread_cond_broadcast(&cv);
	while (st.busy)
		pthread_cond_wait(&cv, &mu);
	st.mapped = false;
	st.old = st.dma;
	pthread_mutex_unlock(&mu);
	/* A device that kept the old address cannot reach it any more. */
	st.fault_rc = ccdma_dev_access(st.dev, st.old, 1, CCDMA_ACCESS_WRITE,
				       &cpu);
	st.map_rc = ccdma_dmabuf_map(att);
}

/* Under mu: let the device write FREE_WRITES more words, and wait until it
 * did. */
static void let_write(void)
{
	st.allowed += FREE_WRITES;
	pthread_cond_broadcast(&cv);
	while (!st.done && st.completed < st.allowed)
		pthread_cond_wait(&cv, &mu);
}

static ccdma_addr_t seg0(struct ccdma_dmabuf_attach *a)
{
	ccdma_addr_t dma = 0;
	size_t len = 0;

	CHECK_EQ(ccdma_dmabuf_seg(a, 0, &dma, &len), 0);
	CHECK_EQ(len, pg);
	return dma;
}

static unsigned char *page_mem(struct ccdma_dev *d)
{
	struct ccdma_pool_req r = { .size = pg, .align = pg };
	void *p = NULL;

	REQUIRE(!ccdma_pool_alloc_req(ccdma_dev_pool(d), &r, &p));
	memset(p, 0, pg);
	return p;
}

static bool poisoned(const unsigned char *p)
{
	for (size_t i = 0; i < pg; i++)
		if (p[i] != POISON)
			return false;
	return true;
}

static void run(struct ccdma_dev *d, bool strict)
{
	struct ccdma_dmabuf_importer imp = { .move = on_move };
	unsigned char *place[MOVES + 1];
	struct ccdma_dmabuf *b;
	struct ccdma_dmabuf_attach *a;
	pthread_t th;
	uint32_t n, lost = 0;
	bool quit;

	memset(&st, 0, sizeof(st));
	st.dev = d;
	for (int i = 0; i <= MOVES; i++)
		place[i] = page_mem(d);
	REQUIRE(!ccdma_dmabuf_create("inflight", 0, &b));
	REQUIRE(!ccdma_dmabuf_add(b, place[0], pg));
	REQUIRE(!ccdma_dmabuf_attach(b, d, CCDMA_DMABUF_DYNAMIC, &imp, &a));
	st.dma = seg0(a);
	st.mapped = true;
	REQUIRE(!pthread_create(&th, NULL, device, NULL));

	for (int m = 1; m <= MOVES; m++) {
		pthread_mutex_lock(&mu);
		/* Some writes at this place, then one caught in flight. */
		let_write();
		st.hold = true;
		st.allowed++;
		pthread_cond_broadcast(&cv);
		while (!st.done && !st.held)
			pthread_cond_wait(&cv, &mu);
		quit = st.done;
		pthread_mutex_unlock(&mu);
		if (quit)
			break;

		CHECK_EQ(ccdma_dmabuf_move(b, 0, place[m]), 0);
		CHECK_EQ(st.moves, m);
		CHECK_EQ(st.map_rc, -EBUSY);
		if (strict)
			CHECK_EQ(st.fault_rc, -EFAULT);
		/* The old place is the exporter's again: nothing may land. */
		memset(place[m - 1], POISON, pg);
		if (strict) {
			void *cpu = NULL;

			CHECK_EQ(ccdma_dev_access(d, st.old, 1, CCDMA_ACCESS_READ,
						  &cpu), -EFAULT);
		}
		CHECK_EQ(ccdma_dmabuf_map(a), 0);
		pthread_mutex_lock(&mu);
		st.dma = seg0(a);
		CHECK(st.dma != st.old);
		st.stop = false;
		st.mapped = true;
		pthread_cond_broadcast(&cv);
		pthread_mutex_unlock(&mu);
	}
	/* A few more at the last place, then stop. */
	pthread_mutex_lock(&mu);
	let_write();
	st.done = true;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	REQUIRE(!pthread_join(th, NULL));

	n = st.completed;
	CHECK_EQ(n, (uint32_t)((MOVES + 1) * FREE_WRITES + MOVES));
	for (uint32_t k = 0; k < n; k++) {
		uint32_t v;

		memcpy(&v, place[MOVES] + k * sizeof(v), sizeof(v));
		if (v != k + 1) {
			if (!lost++)
				fprintf(stderr, "slot %u holds %u, not %u\n", k, v,
					k + 1);
		}
	}
	CHECK_EQ(lost, 0);
	CHECK_EQ(count_not(place[MOVES], n * sizeof(uint32_t), pg, 0), 0);
	for (int i = 0; i < MOVES; i++)
		CHECK(poisoned(place[i]));

	CHECK_EQ(ccdma_dmabuf_detach(a), 0);
	CHECK_EQ(ccdma_dmabuf_destroy(b), 0);
	for (int i = 0; i <= MOVES; i++)
		CHECK_EQ(ccdma_pool_free(ccdma_dev_pool(d), place[i], pg), 0);
}

int main(void)
{
	struct ccdma_dev_config c;
	struct ccdma_dev *d;

	test_init();
	pg = (size_t)sysconf(_SC_PAGESIZE);
	ccdma_dev_config_init(&c);
	c.xlate.kind = CCDMA_XLATE_IOMMU;
	c.xlate.iommu = CCDMA_IOMMU_STRICT;
	test_config(&dmabuf_pc, "dmabuf_move_inflight_strict");
	d = test_dev("dmabuf_move_inflight_strict", &c, CCDMA_MODE_CONFIDENTIAL,
		     &dmabuf_pc);
	run(d, true);
	ccdma_dev_destroy(d);
	d = dmabuf_dev("dmabuf_move_inflight_plain", 0);
	run(d, false);
	ccdma_dev_destroy(d);
	return test_done("dmabuf_move_inflight");
}
