/* SPDX-License-Identifier: MIT */
/*
 * ccdma-bench dma: a reference copy of src/dma/map.c with the ownership
 * checker compiled out (bench_dma_ref.c).  Same signatures as the library's
 * ccdma_map_single_attrs_at / ccdma_unmap_single_attrs_at /
 * ccdma_mapping_error.
 */
#ifndef CCDMA_BENCH_DMA_REF_H
#define CCDMA_BENCH_DMA_REF_H

#include <ccdma/dma.h>

#ifndef BENCH_DMA_NO_REF
ccdma_addr_t ref_map_single_attrs_at(struct ccdma_dev *dev, void *ptr, size_t size,
				     enum ccdma_dir dir, unsigned attrs,
				     const char *file, int line);
int ref_unmap_single_attrs_at(struct ccdma_dev *dev, ccdma_addr_t addr,
			      size_t size, enum ccdma_dir dir, unsigned attrs,
			      const char *file, int line);
int ref_mapping_error(struct ccdma_dev *dev, ccdma_addr_t addr);
#endif

#endif /* CCDMA_BENCH_DMA_REF_H */
