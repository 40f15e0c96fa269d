/* SPDX-License-Identifier: MIT */
/*
 * ccdma functions that need a hosted C library (stdio).
 *
 * The layer headers (ccdma/pool.h, ccdma/dma.h, ...) include only
 * freestanding C headers, so that firmware or a unikernel can embed the
 * library with its own platform layer (docs/porting.md).  What needs
 * <stdio.h> lives here and in hosted-only source files; a freestanding
 * build leaves it out.
 */
#ifndef CCDMA_HOSTED_H
#define CCDMA_HOSTED_H

#include <ccdma/pool.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Print pool statistics as a table (classes with any activity) to `f`.
 * NULL `st` or `f` is a no-op. */
CCDMA_API void ccdma_pool_print_stats(const struct ccdma_pool_stats *st,
				      FILE *f);

#ifdef __cplusplus
}
#endif
#endif /* CCDMA_HOSTED_H */
