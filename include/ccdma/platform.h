/* SPDX-License-Identifier: MIT */
/*
 * ccdma platform layer: shared regions, the cost of making memory shared,
 * and the confidentiality mode.
 *
 * A *region* is a contiguous range of shared memory: on Linux a memfd, so
 * the file descriptor is exactly what a device process receives and the
 * device can reach nothing else.  Creating a region models converting guest
 * memory to shared (page-state change, MapGPA, ...) and costs a
 * configurable delay per 4 KiB page; destroying it scrubs it and models the
 * conversion back to private.  Both may sleep and never belong on an I/O
 * fast path: the pool calls them from its grower thread.
 */
#ifndef CCDMA_PLATFORM_H
#define CCDMA_PLATFORM_H

#include <ccdma/common.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

enum ccdma_mode {
	/* Bounce everything that is not already in shared memory. */
	CCDMA_MODE_CONFIDENTIAL = 0,
	/* No memory encryption: shared buffers pass straight through. */
	CCDMA_MODE_DIRECT = 1,
};

/*
 * Parse "confidential" or "direct".  Returns 0, or -EINVAL for NULL or any
 * other string (nothing is written to *out then).
 */
CCDMA_API int ccdma_mode_parse(const char *s, enum ccdma_mode *out);

/* "confidential", "direct", or "invalid". */
CCDMA_API const char *ccdma_mode_name(enum ccdma_mode m);

/*
 * The process-wide mode: the value given to ccdma_mode_set() if any, else
 * the CCDMA_MODE environment variable, else confidential.  Returns 0, or
 * -EINVAL when CCDMA_MODE holds an unknown value (a message naming the
 * value and the accepted ones is logged; *out is left unchanged).
 */
CCDMA_API int ccdma_mode_get(enum ccdma_mode *out);

/* Set the process-wide mode; overrides CCDMA_MODE.  -EINVAL for an
 * unknown enum value. */
CCDMA_API int ccdma_mode_set(enum ccdma_mode m);

/*
 * Sharing cost model: nanoseconds slept per 4 KiB page when a region is
 * created (converted to shared) and again when it is destroyed (converted
 * back).  Default CCDMA_SHARE_COST_DEFAULT_NS, overridden by the
 * CCDMA_SHARE_COST_NS environment variable (a decimal number; an invalid
 * value is reported and ignored) and by ccdma_share_cost_set_ns().
 *
 * The default, 2 µs per 4 KiB page, is in the range measured for one SEV-SNP
 * page-state change or TDX MapGPA + TDG.MEM.PAGE.ACCEPT per 4 KiB page
 * including the exit to the host; a 4 MiB region costs about 2 ms.
 */
#define CCDMA_SHARE_COST_DEFAULT_NS 2000u
CCDMA_API void ccdma_share_cost_set_ns(uint64_t ns_per_4k_page);
CCDMA_API uint64_t ccdma_share_cost_get_ns(void);

/* The CPU page size, read at run time (never assumed to be 4 KiB). */
CCDMA_API size_t ccdma_page_size(void);

struct ccdma_region {
	int fd;        /* memfd; owned by the region, closed by destroy */
	void *addr;    /* CPU mapping of the whole region */
	size_t size;   /* bytes, a multiple of the page size */
};

/*
 * Create a shared region of at least `size` bytes (rounded up to the page
 * size), backed by a sealed memfd (it cannot be shrunk, so a device process
 * cannot make the driver fault), mapped read-write and populated.  `name`
 * is the memfd's debug name (may be NULL).  Sleeps the sharing cost.
 *
 * Returns 0 and fills *out; -EINVAL for size 0, NULL out, or a size that
 * overflows; -ENOMEM (or the OS error) when the memory cannot be had.
 * On failure nothing is left allocated.
 */
CCDMA_API int ccdma_region_create(size_t size, const char *name,
				  struct ccdma_region *out);

/*
 * Scrub (zero) the region, unmap it, close its fd and sleep the cost of
 * converting it back to private.  The caller must have revoked it from
 * every device first.  Safe on a zeroed struct (fd < 0 or addr NULL is a
 * no-op); the struct is cleared.
 */
CCDMA_API void ccdma_region_destroy(struct ccdma_region *r);

/*
 * Map a region another process created and sent (its memfd, received over
 * a Unix socket), shared and read-write.  The region takes `fd` over on
 * success (ccdma_region_unmap closes it); on failure the caller still owns
 * it.  Returns 0, -EINVAL (NULL, or fd not a regular file of a non-zero
 * size that is a multiple of the page size; logged), or -errno of the
 * mapping.
 */
CCDMA_API int ccdma_region_map_fd(int fd, struct ccdma_region *out);
/*
 * Unmap a region mapped with ccdma_region_map_fd and close its fd, without
 * scrubbing it: the memory is its creator's.  Safe on a zeroed struct
 * (addr NULL: nothing is closed); the struct is cleared.
 */
CCDMA_API void ccdma_region_unmap(struct ccdma_region *r);

#ifdef __cplusplus
}
#endif
#endif /* CCDMA_PLATFORM_H */
