/* SPDX-License-Identifier: MIT */
/*
 * The device's side: what a DMA address reaches, after the device's
 * translation and (strict mode) its I/O page table.  Device emulators and
 * tests go through here, so a device can never touch what the model says it
 * cannot reach.
 */
#include "dma/dma_internal.h"

static int fault(struct ccdma_dev *d, ccdma_addr_t addr, size_t len,
		 unsigned access, const char *why)
{
	__atomic_add_fetch(&d->faults, 1, __ATOMIC_RELAXED);
	ccdma_dbg("dev %s: device %s of %zu bytes at DMA address %#llx refused: %s",
		  d->name, access == CCDMA_ACCESS_READ ? "read" :
		  access == CCDMA_ACCESS_WRITE ? "write" : "access", len,
		  (unsigned long long)addr, why);
	return -EFAULT;
}

int ccdma_dev_access(struct ccdma_dev *d, ccdma_addr_t addr, size_t len,
		     unsigned access, void **cpu)
{
	struct dev_region *r = NULL;
	uintptr_t pa;
	enum where w;

	if (!d || !cpu || !len || !access ||
	    (access & ~(unsigned)(CCDMA_ACCESS_READ | CCDMA_ACCESS_WRITE)))
		return -EINVAL;
	if (addr + len - 1 < addr)
		return fault(d, addr, len, access, "the range wraps");
	w = ccdma_dev_locate(d, addr, len, &pa, &r);
	if (w == W_INVALID)
		return fault(d, addr, len, access,
			     d->iommu ? "not in the device's I/O address space" :
			     "not memory the device can reach (outside its pool and "
			     "attached regions, or across a region's end)");
	if (w == W_POOL || w == W_REGION) {
		if (!ccdma_pt_allows(d, w, r, pa, len, access))
			return fault(d, addr, len, access,
				     "not mapped with that permission in the I/O "
				     "page table");
	}
	*cpu = (void *)pa;
	return 0;
}

int ccdma_dev_read(struct ccdma_dev *d, ccdma_addr_t addr, void *buf, size_t len)
{
	void *p;
	int rc;

	if (!buf)
		return -EINVAL;
	rc = ccdma_dev_access(d, addr, len, CCDMA_ACCESS_READ, &p);
	if (!rc)
		ccdma_memcpy(buf, p, len);
	return rc;
}

int ccdma_dev_write(struct ccdma_dev *d, ccdma_addr_t addr, const void *buf,
		    size_t len)
{
	void *p;
	int rc;

	if (!buf)
		return -EINVAL;
	rc = ccdma_dev_access(d, addr, len, CCDMA_ACCESS_WRITE, &p);
	if (!rc)
		ccdma_memcpy(p, buf, len);
	return rc;
}

uint64_t ccdma_dev_faults(struct ccdma_dev *d)
{
	return d ? __atomic_load_n(&d->faults, __ATOMIC_RELAXED) : 0;
}
