/* SPDX-License-Identifier: MIT */
/*
 * ccdma — common definitions shared by every public header.
 *
 * Error convention (all layers): functions return 0 (or a count) on success
 * and a negative errno value on failure.  They never set errno.
 */
#ifndef CCDMA_COMMON_H
#define CCDMA_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(CCDMA_BUILDING_LIBRARY) && defined(__GNUC__)
#define CCDMA_API __attribute__((visibility("default")))
#else
#define CCDMA_API
#endif

#define CCDMA_VERSION_MAJOR 0
#define CCDMA_VERSION_MINOR 1
#define CCDMA_VERSION_PATCH 0

/* Returns the library version as "MAJOR.MINOR.PATCH". */
CCDMA_API const char *ccdma_version(void);

/*
 * Log sink.  The library reports misuse and failures (with a reason a user
 * can act on) through this function; the default writes one line per
 * message to stderr prefixed with "ccdma: ".  Passing NULL restores the
 * default.  `level` is one of CCDMA_LOG_*.
 */
enum ccdma_log_level {
	CCDMA_LOG_ERROR = 0,
	CCDMA_LOG_WARN = 1,
	CCDMA_LOG_INFO = 2,
	CCDMA_LOG_DEBUG = 3,
};
typedef void (*ccdma_log_fn)(void *arg, enum ccdma_log_level level,
			     const char *msg);
/* Install fn (called with arg) for messages from now on, from any thread:
 * a message goes to one handler with that handler's own arg, never one
 * handler with another's.  A call to the previous handler that another
 * thread has already started may still be running when this returns. */
CCDMA_API void ccdma_log_set_handler(ccdma_log_fn fn, void *arg);
/* Messages above this level are dropped.  Default: CCDMA_LOG_WARN, or the
 * value of the CCDMA_LOG environment variable (error|warn|info|debug). */
CCDMA_API void ccdma_log_set_level(enum ccdma_log_level level);

#ifdef __cplusplus
}
#endif
#endif /* CCDMA_COMMON_H */
