/* SPDX-License-Identifier: MIT */
/*
 * Revoke with two importers: one confirms from another thread after the
 * callback, the other never answers.  The exporter waits for the first and
 * only up to the bound for the second (a large bound would make the test
 * slow, not flaky: the confirming importer answers at once), then cuts the
 * second off: both attachments refuse segments and accesses (-EACCES), the
 * device reads nothing through them, and revoke returns 1 (one cut off).
 * A pinned attachment makes revoke refuse (-EBUSY).
 */
#include "dmabuf_util.h"

#include <pthread.h>

static int revokes_good, revokes_silent;
static pthread_t acker;

static void *ack_thread(void *arg)
{
	CHECK_EQ(ccdma_dmabuf_revoke_ack(arg), 0);
	return NULL;
}

static void on_revoke_good(struct ccdma_dmabuf_attach *att, void *arg)
{
	(void)arg;
	revokes_good++;
	REQUIRE(!pthread_create(&acker, NULL, ack_thread, att));
}

static void on_revoke_silent(struct ccdma_dmabuf_attach *att, void *arg)
{
	(void)att;
	(void)arg;
	revokes_silent++;
}

int main(void)
{
	struct ccdma_dmabuf_importer good = { .revoke = on_revoke_good };
	struct ccdma_dmabuf_importer silent = { .revoke = on_revoke_silent };
	struct ccdma_dev *d1, *d2;
	struct ccdma_dmabuf *b;
	struct ccdma_dmabuf_attach *a1 = NULL, *a2 = NULL, *p = NULL;
	ccdma_addr_t dma;
	size_t len;
	unsigned char *m;
	uint64_t f1, f2;
	int rc;

	test_init();
	/* Two devices sharing one pool: the second is given the first's. */
	d1 = dmabuf_dev("dmabuf_revoke1", 0);
	{
		struct ccdma_dev_config c;

		ccdma_dev_config_init(&c);
		c.name = "dmabuf_revoke2";
		c.mode = CCDMA_MODE_CONFIDENTIAL;
		c.pool = ccdma_dev_pool(d1);
		REQUIRE(!ccdma_dev_create(&c, &d2));
	}
	m = dmabuf_mem(d1, 4096, 0x77);
	REQUIRE(!ccdma_dmabuf_create("rev", 0, &b));
	REQUIRE(!ccdma_dmabuf_add(b, m, 4096));
	REQUIRE(!ccdma_dmabuf_attach(b, d1, CCDMA_DMABUF_REVOCABLE, &good, &a1));
	REQUIRE(!ccdma_dmabuf_attach(b, d2, CCDMA_DMABUF_REVOCABLE, &silent, &a2));
	CHECK_EQ(dmabuf_dev_byte(a1, 5), 0x77);
	CHECK_EQ(dmabuf_dev_byte(a2, 5), 0x77);

	/* Not while a pinned importer is there. */
	REQUIRE(!ccdma_dmabuf_attach(b, d1, CCDMA_DMABUF_PINNED, NULL, &p));
	CAPTURE(rc = ccdma_dmabuf_revoke(b, 1000000));
	CHECK_EQ(rc, -EBUSY);
	CHECK_EQ(revokes_good + revokes_silent, 0);
	CHECK_EQ(dmabuf_dev_byte(a1, 5), 0x77);
	CHECK_EQ(ccdma_dmabuf_detach(p), 0);

	CAPTURE(rc = ccdma_dmabuf_revoke(b, 200000000ull));
	CHECK_EQ(rc, 1);
	CHECK(strstr(dmabuf_msg, "dmabuf_revoke2") && strstr(dmabuf_msg, "cut off"));
	pthread_join(acker, NULL);
	CHECK_EQ(revokes_good, 1);
	CHECK_EQ(revokes_silent, 1);
	f1 = ccdma_dev_faults(d1);
	f2 = ccdma_dev_faults(d2);
	CHECK_EQ(dmabuf_dev_byte(a1, 5), -EACCES);
	CHECK_EQ(dmabuf_dev_byte(a2, 5), -EACCES);
	CHECK_EQ(ccdma_dmabuf_seg(a2, 0, &dma, &len), -EACCES);
	CHECK_EQ(ccdma_dmabuf_map(a2), -EACCES);
	/* A late confirmation changes nothing. */
	CHECK_EQ(ccdma_dmabuf_revoke_ack(a2), -EINVAL);
	CHECK_EQ(dmabuf_dev_byte(a2, 5), -EACCES);
	/* Refused before reaching the device. */
	CHECK_EQ(ccdma_dev_faults(d1), f1);
	CHECK_EQ(ccdma_dev_faults(d2), f2);

	CHECK_EQ(ccdma_dmabuf_detach(a1), 0);
	CHECK_EQ(ccdma_dmabuf_detach(a2), 0);
	CHECK_EQ(ccdma_dmabuf_destroy(b), 0);
	ccdma_pool_free(ccdma_dev_pool(d1), m, SIZE_MAX);
	ccdma_dev_destroy(d2);
	ccdma_dev_destroy(d1);
	return test_done("dmabuf_revoke");
}
