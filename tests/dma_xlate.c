/* SPDX-License-Identifier: MIT */
/*
 * Address translation without an IOMMU (identity, offset 1<<59, TDX-style
 * set bit 51, SEV-style clear bit 51): a bounced private buffer's DMA
 * address is the translation of its bounce's CPU address, the device reads
 * the buffer's bytes there, and DMA addresses outside the pool (or without
 * the translation applied) fault with -EFAULT and are counted.  A device
 * that reaches private memory maps a private buffer at its translation,
 * unless the buffer's address holds the translation bit: then it bounces.
 */
#include "test.h"

#include <ccdma/dma.h>

#define LEN 5000
#define BIT51 (1ull << 51)
#define OFF59 (1ull << 59)

struct kind {
	const char *name;
	enum ccdma_xlate_kind kind;
	uint64_t offset;
	unsigned bit;
};

static const struct kind kinds[] = {
	{ "identity", CCDMA_XLATE_IDENTITY, 0, 0 },
	{ "offset", CCDMA_XLATE_OFFSET, OFF59, 0 },
	{ "set-bit", CCDMA_XLATE_SET_BIT, 0, 51 },
	{ "clear-bit", CCDMA_XLATE_CLEAR_BIT, 0, 51 },
};

/* What the test expects the translation of CPU address pa to be. */
static uint64_t xlate(const struct kind *k, uint64_t pa)
{
	switch (k->kind) {
	case CCDMA_XLATE_OFFSET: return pa + k->offset;
	case CCDMA_XLATE_SET_BIT: return pa | (1ull << k->bit);
	case CCDMA_XLATE_CLEAR_BIT: return pa & ~(1ull << k->bit);
	default: return pa;
	}
}

/* And back: the CPU address of a DMA address the device was given. */
static uint64_t untranslate(const struct kind *k, uint64_t dma)
{
	switch (k->kind) {
	case CCDMA_XLATE_OFFSET: return dma - k->offset;
	case CCDMA_XLATE_SET_BIT: return dma & ~(1ull << k->bit);
	default: return dma;
	}
}

static uint64_t faults_delta(struct ccdma_dev *d, uint64_t *last)
{
	uint64_t now = ccdma_dev_faults(d), delta = now - *last;

	*last = now;
	return delta;
}

static void run(const struct kind *k)
{
	struct ccdma_pool_config pc;
	struct ccdma_dev_config cfg;
	struct ccdma_pool_addr_info info;
	struct ccdma_dev *d;
	struct ccdma_pool *p;
	unsigned char *buf, got[LEN];
	uint64_t pbase, psize, cpu, f = 0;
	ccdma_addr_t dma, first, last;
	size_t i;
	void *cp;

	test_config(&pc, k->name);
	pc.initial_bytes = 1u << 20;
	ccdma_dev_config_init(&cfg);
	cfg.name = k->name;
	cfg.mode = CCDMA_MODE_CONFIDENTIAL;
	cfg.pool_cfg = &pc;
	cfg.xlate.kind = k->kind;
	cfg.xlate.offset = k->offset;
	cfg.xlate.bit = k->bit;
	REQUIRE(ccdma_dev_create(&cfg, &d) == 0);
	p = ccdma_dev_pool(d);
	REQUIRE(p);
	REQUIRE(ccdma_pool_get_range(p, &pbase, &psize) == 0);
	CHECK_EQ(ccdma_dev_pool_dma_range(d, &first, &last), 0);
	CHECK(first == xlate(k, pbase));
	CHECK(last == xlate(k, pbase + psize - 1));

	buf = malloc(LEN);
	REQUIRE(buf);
	for (i = 0; i < LEN; i++)
		buf[i] = (unsigned char)(i * 13 + 5);
	dma = ccdma_map_single(d, buf, LEN, CCDMA_TO_DEVICE);
	REQUIRE(ccdma_mapping_error(d, dma) == 0);
	/* Bounced (private memory, confidential mode). */
	CHECK(dma != (uintptr_t)buf);
	switch (k->kind) {
	case CCDMA_XLATE_SET_BIT:
		CHECK(dma & BIT51);
		break;
	case CCDMA_XLATE_CLEAR_BIT:
		CHECK(!(dma & BIT51));
		break;
	case CCDMA_XLATE_OFFSET:
		CHECK(dma >= OFF59);
		break;
	default:
		break;
	}
	CHECK(dma >= first && dma + LEN - 1 <= last);
	cpu = untranslate(k, dma);
	CHECK(cpu >= pbase && cpu + LEN <= pbase + psize);
	CHECK_EQ(ccdma_pool_lookup(p, (void *)(uintptr_t)cpu, &info), 0);
	CHECK(info.alloc_addr == (void *)(uintptr_t)cpu);
	CHECK(info.alloc_size >= LEN);
	CHECK(xlate(k, cpu) == dma);
	CHECK(memcmp((void *)(uintptr_t)cpu, buf, LEN) == 0);

	/* The device reads the buffer's bytes at the DMA address. */
	memset(got, 0, sizeof(got));
	CHECK_EQ(ccdma_dev_read(d, dma, got, LEN), 0);
	CHECK(memcmp(got, buf, LEN) == 0);
	CHECK_EQ(ccdma_dev_read(d, dma + 100, got, 10), 0);
	CHECK(memcmp(got, buf + 100, 10) == 0);
	CHECK_EQ(ccdma_dev_access(d, dma, LEN, CCDMA_ACCESS_READ, &cp), 0);
	CHECK(cp == (void *)(uintptr_t)cpu);
	CHECK_EQ(faults_delta(d, &f), 0);

	/* The private buffer's own address is not reachable. */
	CHECK_EQ(ccdma_dev_read(d, xlate(k, (uintptr_t)buf), got, 16), -EFAULT);
	CHECK_EQ(faults_delta(d, &f), 1);
	CHECK_EQ(ccdma_dev_write(d, xlate(k, (uintptr_t)buf), got, 16), -EFAULT);
	CHECK_EQ(faults_delta(d, &f), 1);
	/* Just outside the pool, both ends. */
	CHECK_EQ(ccdma_dev_read(d, first - 1, got, 1), -EFAULT);
	CHECK_EQ(faults_delta(d, &f), 1);
	CHECK_EQ(ccdma_dev_read(d, last + 1, got, 1), -EFAULT);
	CHECK_EQ(faults_delta(d, &f), 1);
	/* Starting inside the pool's range but running out of its region. */
	CHECK_EQ(ccdma_dev_read(d, first + (1u << 20) - 8, got, 16), -EFAULT);
	CHECK_EQ(faults_delta(d, &f), 1);
	/* The untranslated address of the bounce (for identity and clear-bit
	 * the translation is the identity on the pool: skip). */
	if (k->kind == CCDMA_XLATE_OFFSET || k->kind == CCDMA_XLATE_SET_BIT) {
		CHECK_EQ(ccdma_dev_read(d, cpu, got, 16), -EFAULT);
		CHECK_EQ(faults_delta(d, &f), 1);
	}
	/* The encrypted alias (C-bit set) is never a DMA address. */
	if (k->kind == CCDMA_XLATE_CLEAR_BIT) {
		CHECK_EQ(ccdma_dev_read(d, dma | BIT51, got, 16), -EFAULT);
		CHECK_EQ(faults_delta(d, &f), 1);
	}
	/* A range that wraps the address space. */
	CHECK_EQ(ccdma_dev_read(d, ~0ull - 4, got, 16), -EFAULT);
	CHECK_EQ(faults_delta(d, &f), 1);
	/* Argument errors are not device faults. */
	CHECK_EQ(ccdma_dev_access(d, dma, 0, CCDMA_ACCESS_READ, &cp), -EINVAL);
	CHECK_EQ(ccdma_dev_access(d, dma, 1, 0, &cp), -EINVAL);
	CHECK_EQ(ccdma_dev_access(d, dma, 1, 4, &cp), -EINVAL);
	CHECK_EQ(ccdma_dev_access(d, dma, 1, CCDMA_ACCESS_READ, NULL), -EINVAL);
	CHECK_EQ(ccdma_dev_read(d, dma, NULL, 1), -EINVAL);
	CHECK_EQ(faults_delta(d, &f), 0);

	CHECK_EQ(ccdma_unmap_single(d, dma, LEN, CCDMA_TO_DEVICE), 0);

	/* A shared buffer from the pool maps to its translated address. */
	REQUIRE(ccdma_pool_alloc(p, 700, 0, &cp) == 0);
	memset(cp, 0x3c, 700);
	dma = ccdma_map_single(d, cp, 700, CCDMA_BIDIRECTIONAL);
	CHECK(dma == xlate(k, (uintptr_t)cp));
	CHECK_EQ(ccdma_dev_read(d, dma, got, 700), 0);
	CHECK(got[0] == 0x3c && got[699] == 0x3c);
	CHECK_EQ(ccdma_unmap_single(d, dma, 700, CCDMA_BIDIRECTIONAL), 0);
	CHECK_EQ(ccdma_pool_free(p, cp, 700), 0);

	free(buf);
	CHECK_EQ(ccdma_dev_destroy(d), 0);
}

/*
 * A device that reaches private memory (trusted, or direct mode) with a
 * bit translation: a private buffer whose address holds the bit has no
 * DMA address under the translation (the device would reach another
 * address), so it is bounced; one without the bit goes straight through.
 */
static void private_bit(enum ccdma_xlate_kind kind, int mode, unsigned flags)
{
	struct ccdma_pool_config pc;
	struct ccdma_dev_config cfg;
	struct ccdma_pool *low;
	struct ccdma_dev *d;
	struct kind k = { "private-bit", kind, 0, 0 };
	unsigned char *buf = malloc(4096), got[4096];
	uintptr_t b;
	ccdma_addr_t dma;
	uint64_t pbase, psize, cpu;
	size_t i;

	REQUIRE(buf);
	b = (uintptr_t)buf;
	for (i = 0; i < 4096; i++)
		buf[i] = (unsigned char)(i * 3 + 1);
	/* A pool below 4 GiB, and a bit above that the buffer holds. */
	test_config(&pc, "private-bit");
	pc.initial_bytes = 1u << 20;
	pc.addr_limit = 0xffffffffull;
	REQUIRE(ccdma_pool_create(&pc, &low) == 0);
	REQUIRE(ccdma_pool_get_range(low, &pbase, &psize) == 0);
	for (k.bit = 32; k.bit < 63; k.bit++)
		if ((b >> k.bit & 1) && ((b + 4095) >> k.bit & 1))
			break;
	if (k.bit == 63) {
		printf("buffer below 4 GiB: private-bit part skipped\n");
		ccdma_pool_destroy(low);
		free(buf);
		return;
	}
	ccdma_dev_config_init(&cfg);
	cfg.name = "private-bit";
	cfg.mode = mode;
	cfg.flags = flags;
	cfg.pool = low;
	cfg.xlate.kind = kind;
	cfg.xlate.bit = k.bit;
	REQUIRE(ccdma_dev_create(&cfg, &d) == 0);
	dma = ccdma_map_single(d, buf, 4096, CCDMA_TO_DEVICE);
	REQUIRE(ccdma_mapping_error(d, dma) == 0);
	/* Bounced into the pool, at the translation of the bounce. */
	cpu = untranslate(&k, dma);
	CHECK(cpu >= pbase && cpu + 4096 <= pbase + psize);
	CHECK(dma == xlate(&k, cpu));
	memset(got, 0, sizeof(got));
	CHECK_EQ(ccdma_dev_read(d, dma, got, 4096), 0);
	CHECK(memcmp(got, buf, 4096) == 0);
	CHECK_EQ(ccdma_unmap_single(d, dma, 4096, CCDMA_TO_DEVICE), 0);
	CHECK_EQ(ccdma_dev_destroy(d), 0);

	/* A bit the buffer (and the pool) does not hold: straight through.
	 * Private memory is reached without the shared bit (that names the
	 * shared alias); a cleared C-bit leaves the address as it is. */
	for (k.bit = 46; k.bit >= 13; k.bit--)
		if (!(b >> k.bit & 1) && !((b + 4095) >> k.bit & 1) &&
		    !((pbase + psize - 1) >> k.bit))
			break;
	if (k.bit >= 13) {
		cfg.xlate.bit = k.bit;
		REQUIRE(ccdma_dev_create(&cfg, &d) == 0);
		dma = ccdma_map_single(d, buf, 4096, CCDMA_TO_DEVICE);
		REQUIRE(ccdma_mapping_error(d, dma) == 0);
		CHECK(dma == b);
		CHECK_EQ(ccdma_dev_read(d, dma, got, 4096), 0);
		CHECK(memcmp(got, buf, 4096) == 0);
		if (k.kind == CCDMA_XLATE_SET_BIT)
			CHECK_EQ(ccdma_dev_read(d, xlate(&k, b), got, 16), -EFAULT);
		CHECK_EQ(ccdma_unmap_single(d, dma, 4096, CCDMA_TO_DEVICE), 0);
		CHECK_EQ(ccdma_dev_destroy(d), 0);
	}
	ccdma_pool_destroy(low);
	free(buf);
}

int main(void)
{
	size_t i;

	test_init();
	ccdma_log_set_handler(quiet_log, NULL);
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		run(&kinds[i]);
	private_bit(CCDMA_XLATE_SET_BIT, CCDMA_MODE_CONFIDENTIAL, CCDMA_DEV_F_TRUSTED);
	private_bit(CCDMA_XLATE_SET_BIT, CCDMA_MODE_DIRECT, 0);
	private_bit(CCDMA_XLATE_CLEAR_BIT, CCDMA_MODE_CONFIDENTIAL, CCDMA_DEV_F_TRUSTED);
	private_bit(CCDMA_XLATE_CLEAR_BIT, CCDMA_MODE_DIRECT, 0);
	ccdma_log_set_handler(NULL, NULL);
	return test_done("dma_xlate");
}
