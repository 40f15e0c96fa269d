/* Several region listeners on one pool (several devices sharing it): a
 * listener added late is told of the regions that exist, and only it;
 * every later region is told to every listener, in the order they were
 * added; a removed listener hears nothing more; the add/remove errors. */
#include "test.h"

#define MAXEV 64

struct lis {
	struct ccdma_pool_listener l;
	int adds, removes;
	int seq[MAXEV]; /* global order of its events */
	int nev;
	int fds[MAXEV];
};

static int order;

static void event(void *arg, bool added, int fd, void *addr, size_t size,
		  uint64_t off)
{
	struct lis *s = arg;

	(void)addr;
	(void)size;
	(void)off;
	if (added)
		s->adds++;
	else
		s->removes++;
	if (s->nev < MAXEV) {
		s->fds[s->nev] = fd;
		s->seq[s->nev++] = order++;
	}
}

static void lis_init(struct lis *s)
{
	memset(s, 0, sizeof(*s));
	s->l.fn = event;
	s->l.arg = s;
}

int main(void)
{
	struct ccdma_pool_config cfg;
	struct ccdma_pool_stats st;
	struct ccdma_pool *p;
	struct lis a, b, c;
	int c_before;
	void *m0, *m1, *m2[2];
	unsigned n2;

	test_init();
	lis_init(&a);
	lis_init(&b);
	lis_init(&c);
	test_config(&cfg, "listeners");
	cfg.region_size = 1u << 20;
	/* Regions only for requests that do not fit, none shrunk: the
	 * counts below cannot change behind the test's back. */
	cfg.low_watermark = 0;
	cfg.high_watermark = 64u << 20;
	REQUIRE(ccdma_pool_create(&cfg, &p) == 0);

	CHECK_EQ(ccdma_pool_add_region_listener(NULL, &a.l), -EINVAL);
	CHECK_EQ(ccdma_pool_add_region_listener(p, NULL), -EINVAL);
	c.l.fn = NULL;
	CHECK_EQ(ccdma_pool_add_region_listener(p, &c.l), -EINVAL);
	c.l.fn = event;
	CHECK_EQ(ccdma_pool_remove_region_listener(p, &c.l), -ENOENT);
	CHECK_EQ(ccdma_pool_remove_region_listener(NULL, &c.l), -EINVAL);

	/* a: told of the floor's region at once. */
	CHECK_EQ(ccdma_pool_add_region_listener(p, &a.l), 0);
	CHECK_EQ(a.adds, 1);
	CHECK_EQ(ccdma_pool_add_region_listener(p, &a.l), -EEXIST);
	CHECK_EQ(a.adds, 1); /* not announced twice */

	/* The floor region takes one whole-region allocation; the next
	 * makes the grower add a region. */
	REQUIRE(ccdma_pool_alloc(p, 1u << 20, CCDMA_POOL_WAIT, &m0) == 0);
	REQUIRE(ccdma_pool_alloc(p, 1u << 20, CCDMA_POOL_WAIT, &m1) == 0);
	/* A waiter's failure reported just before its region came can still
	 * make the grower add one more, after the wait: counted once it
	 * went quiet. */
	test_grower_settle(p);
	CHECK_EQ(ccdma_pool_get_stats(p, &st), 0);
	REQUIRE(st.regions >= 2);
	CHECK_EQ((uint64_t)a.adds, st.regions);

	/* b, added late: told of every region now, a of none again. */
	{
		int a_before = a.adds;

		CHECK_EQ(ccdma_pool_add_region_listener(p, &b.l), 0);
		CHECK_EQ((uint64_t)b.adds, st.regions);
		CHECK_EQ(a.adds, a_before);
	}
	/* The single listener of set_region_listener lives beside them. */
	ccdma_pool_set_region_listener(p, event, &c);
	CHECK_EQ((uint64_t)c.adds, st.regions);

	/* A region added now is told to all three, a first, b, then c (the
	 * region the grower may have added ahead serves the first). */
	{
		int an = a.nev, bn = b.nev, cn = c.nev;

		for (n2 = 0; n2 < 2 && a.nev == an; n2++)
			REQUIRE(ccdma_pool_alloc(p, 1u << 20, CCDMA_POOL_WAIT,
						 &m2[n2]) == 0);
		test_grower_settle(p);
		CHECK_EQ(ccdma_pool_get_stats(p, &st), 0);
		CHECK_EQ((uint64_t)a.adds, st.regions);
		CHECK_EQ((uint64_t)b.adds, st.regions);
		CHECK_EQ((uint64_t)c.adds, st.regions);
		REQUIRE(a.nev > an && b.nev > bn && c.nev > cn);
		CHECK_EQ(a.fds[an], b.fds[bn]);
		CHECK_EQ(b.fds[bn], c.fds[cn]);
		CHECK(a.seq[an] < b.seq[bn] && b.seq[bn] < c.seq[cn]);
	}

	/* a removed: hears nothing more; b and c hear every withdrawal. */
	CHECK_EQ(ccdma_pool_remove_region_listener(p, &a.l), 0);
	CHECK_EQ(ccdma_pool_remove_region_listener(p, &a.l), -ENOENT);
	ccdma_pool_set_region_listener(p, NULL, NULL);
	c_before = c.adds;
	ccdma_pool_set_region_listener(p, event, &c); /* replaced: told again */
	CHECK((uint64_t)(c.adds - c_before) >= st.regions);
	CHECK_EQ(ccdma_pool_free(p, m0, 1u << 20), 0);
	CHECK_EQ(ccdma_pool_free(p, m1, 1u << 20), 0);
	for (unsigned k = 0; k < n2; k++)
		CHECK_EQ(ccdma_pool_free(p, m2[k], 1u << 20), 0);
	{
		int a_removes = a.removes;

		ccdma_pool_destroy(p);
		CHECK_EQ(a.removes, a_removes);
		CHECK_EQ(a.removes, 0);
		CHECK_EQ(b.removes, b.adds);
		/* Every region c heard of since it was set again (the grower
		 * may have added one since the frees: not st.regions). */
		CHECK_EQ(c.removes, c.adds - c_before);
	}
	return test_done("pool_listeners");
}
