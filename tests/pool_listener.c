/* Region events: each region is announced with its fd, address, size and
 * pool offset when it appears, and withdrawn before it is destroyed; a
 * "device" mapping the fd sees what the driver wrote. */
#include <sys/mman.h>
#include <unistd.h>

#include "test.h"

struct ev {
	bool added;
	int fd;
	void *addr;
	size_t size;
	uint64_t off;
};
static struct ev evs[64];
static int nev;

static void listener(void *arg, bool added, int fd, void *addr, size_t size,
		     uint64_t off)
{
	CHECK(arg == (void *)evs);
	if (nev < 64)
		evs[nev++] = (struct ev){ added, fd, addr, size, off };
}

int main(void)
{
	struct ccdma_pool_config cfg;
	struct ccdma_pool_addr_info info;
	struct ccdma_pool *p;
	unsigned char *a, *dev;
	int i;

	test_init();
	test_config(&cfg, "listen");
	cfg.flags = CCDMA_POOL_F_NO_GROWER;
	cfg.initial_bytes = 1u << 20;
	REQUIRE(ccdma_pool_create(&cfg, &p) == 0);
	/* The initial region came before the listener: it is announced when
	 * the listener is installed, and withdrawn at destroy. */
	ccdma_pool_set_region_listener(p, listener, evs);
	CHECK_EQ(nev, 1);
	CHECK(evs[0].added && evs[0].size == (1u << 20) && evs[0].fd >= 0);
	ccdma_pool_destroy(p);
	CHECK_EQ(nev, 2);
	CHECK(!evs[1].added && evs[1].fd == evs[0].fd && evs[1].off == evs[0].off);

	nev = 0;
	test_config(&cfg, "listen2");
	cfg.region_size = 1u << 20;
	REQUIRE(ccdma_pool_create(&cfg, &p) == 0);
	ccdma_pool_set_region_listener(p, listener, evs);
	REQUIRE(ccdma_pool_alloc(p, 3000, CCDMA_POOL_WAIT, (void **)&a) == 0);
	memset(a, 0x3c, 3000);
	CHECK(nev >= 1);
	CHECK(evs[0].added);
	CHECK_EQ(ccdma_pool_lookup(p, a, &info), 0);
	for (i = 0; i < nev; i++)
		if (evs[i].fd == info.region_fd)
			break;
	REQUIRE(i < nev);
	CHECK(evs[i].addr == info.region_addr);
	CHECK_EQ(evs[i].size, info.region_size);
	CHECK_EQ(evs[i].off + info.region_offset, info.pool_offset);
	dev = mmap(NULL, evs[i].size, PROT_READ | PROT_WRITE, MAP_SHARED, evs[i].fd, 0);
	REQUIRE(dev != MAP_FAILED);
	CHECK(dev[info.region_offset] == 0x3c);
	dev[info.region_offset + 10] = 0x99; /* device writes */
	CHECK(a[10] == 0x99);
	munmap(dev, evs[i].size);
	CHECK_EQ(ccdma_pool_free(p, a, 3000), 0);
	{
		int before = nev, adds = 0, removes = 0;

		ccdma_pool_destroy(p);
		for (i = 0; i < nev; i++) {
			adds += evs[i].added;
			removes += !evs[i].added;
		}
		CHECK(nev > before);
		CHECK_EQ(adds, removes); /* every region withdrawn */
	}
	return test_done("pool_listener");
}
