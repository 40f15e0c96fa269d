/* SPDX-License-Identifier: MIT */
/*
 * Rules at attach.  A private buffer with an untrusted device: -EPERM and a
 * message that says why; with a trusted device it attaches and the device
 * reads the private bytes.  A shared buffer over memory that is no live
 * allocation of the device's pool: -EINVAL.  A private buffer above a
 * trusted device's 32-bit DMA mask: -EIO, message names the mask.
 */
#include "dmabuf_util.h"

#include <stdlib.h>

int main(void)
{
	struct ccdma_dev *u, *t, *t32;
	struct ccdma_dmabuf *priv, *shared;
	struct ccdma_dmabuf_attach *a = NULL;
	unsigned char *mem = malloc(1u << 20);
	struct ccdma_dev_config c;
	int rc;

	test_init();
	REQUIRE(mem);
	memset(mem, 0x42, 1u << 20);
	u = dmabuf_dev("dmabuf_untrusted", 0);
	t = dmabuf_dev("dmabuf_trusted", CCDMA_DEV_F_TRUSTED);
	REQUIRE(!ccdma_dmabuf_create("priv", CCDMA_DMABUF_F_PRIVATE, &priv));
	REQUIRE(!ccdma_dmabuf_add(priv, mem, 1u << 20));

	CAPTURE(rc = ccdma_dmabuf_attach(priv, u, CCDMA_DMABUF_PINNED, NULL, &a));
	CHECK_EQ(rc, -EPERM);
	CHECK(a == NULL);
	CHECK(strstr(dmabuf_msg, "dmabuf_untrusted") &&
	      strstr(dmabuf_msg, "private memory") &&
	      strstr(dmabuf_msg, "not trusted"));

	CHECK_EQ(ccdma_dmabuf_attach(priv, t, CCDMA_DMABUF_PINNED, NULL, &a), 0);
	CHECK_EQ(dmabuf_dev_byte(a, 12345), 0x42);
	CHECK_EQ(ccdma_dmabuf_detach(a), 0);
	a = NULL;

	/* Private memory in a buffer not marked private. */
	REQUIRE(!ccdma_dmabuf_create("shared", 0, &shared));
	REQUIRE(!ccdma_dmabuf_add(shared, mem, 4096));
	CAPTURE(rc = ccdma_dmabuf_attach(shared, t, CCDMA_DMABUF_PINNED, NULL, &a));
	CHECK_EQ(rc, -EINVAL);
	CHECK(strstr(dmabuf_msg, "not shared memory"));
	CHECK_EQ(ccdma_dmabuf_destroy(shared), 0);

	/* The DMA mask. */
	if ((uintptr_t)mem + (1u << 20) - 1 <= 0xffffffffu) {
		printf("dmabuf_attach_rules: memory below 4 GiB, mask case skipped\n");
	} else {
		ccdma_dev_config_init(&c);
		c.flags = CCDMA_DEV_F_TRUSTED;
		c.dma_mask = 0xffffffffu;
		c.coherent_mask = 0xffffffffu;
		t32 = test_dev("dmabuf_mask32", &c, CCDMA_MODE_CONFIDENTIAL,
			       &dmabuf_pc);
		CAPTURE(rc = ccdma_dmabuf_attach(priv, t32, CCDMA_DMABUF_PINNED,
						 NULL, &a));
		CHECK_EQ(rc, -EIO);
		CHECK(a == NULL);
		CHECK(strstr(dmabuf_msg, "outside its DMA mask 0xffffffff"));
		ccdma_dev_destroy(t32);
	}

	CHECK_EQ(ccdma_dmabuf_destroy(priv), 0);
	ccdma_dev_destroy(t);
	ccdma_dev_destroy(u);
	free(mem);
	return test_done("dmabuf_attach_rules");
}
