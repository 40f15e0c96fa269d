/* SPDX-License-Identifier: MIT */
/*
 * ccdma-bench dma: the library's src/dma/map.c compiled a second time, with
 * the ownership checker's hooks defined away, as the build-time reference
 * for checker_off_overhead_pct.
 *
 * In map.c every checker call sits behind `if (unlikely(d->dbg))` (or
 * `unlikely(d->dbg) && ccdma_chk_...()`).  With the hooks defined as
 * no-ops the compiler deletes those tests (a load with no side effect under
 * an empty branch is dead code), so this copy is the library's fast path
 * minus exactly what the checker costs when it is off.  Everything else
 * (classification, pool, copies) is the library's own code, called the same
 * way.  Built with the library's flags (PIC, hidden visibility); the build
 * then keeps only the ref_* symbols global (objcopy -G), so the copy never
 * clashes with the library's map.c whatever functions it gains.
 */
#define ccdma_map_single_attrs_at ref_map_single_attrs_at
#define ccdma_unmap_single_attrs_at ref_unmap_single_attrs_at
#define ccdma_mapping_error ref_mapping_error

#include "dma/dma_internal.h"

/* The checker, compiled out: hooks that do nothing, inlined, so that the
 * `d->dbg` tests guarding them fold away. */
#define UNUSED __attribute__((unused))
static inline void nochk_map(UNUSED struct ccdma_dev *d, UNUSED enum chk_kind k,
			     UNUSED ccdma_addr_t dma, UNUSED const void *key,
			     UNUSED uintptr_t cpu, UNUSED size_t len,
			     UNUSED unsigned dir, UNUSED bool bounced,
			     UNUSED const struct ccdma_chunk_list *in,
			     UNUSED const char *file, UNUSED int line)
{
}

static inline void nochk_mapping_error(UNUSED struct ccdma_dev *d,
				       UNUSED ccdma_addr_t dma)
{
}

static inline int nochk_unmap(UNUSED struct ccdma_dev *d, UNUSED enum chk_kind k,
			      UNUSED ccdma_addr_t dma, UNUSED const void *key,
			      UNUSED size_t len, UNUSED unsigned dir,
			      UNUSED const char *file, UNUSED int line)
{
	return 0;
}

static inline int nochk_sync(UNUSED struct ccdma_dev *d, UNUSED enum chk_kind k,
			     UNUSED ccdma_addr_t dma, UNUSED const void *key,
			     UNUSED size_t off, UNUSED size_t len,
			     UNUSED unsigned dir, UNUSED bool for_cpu,
			     UNUSED const char *file, UNUSED int line)
{
	return 0;
}

#define ccdma_chk_map nochk_map
#define ccdma_chk_mapping_error nochk_mapping_error
#define ccdma_chk_unmap nochk_unmap
#define ccdma_chk_sync nochk_sync

#include "dma/map.c"
