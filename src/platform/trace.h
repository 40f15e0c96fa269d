/* SPDX-License-Identifier: MIT */
/*
 * Static trace points (USDT): probes in the library that perf, bpftrace
 * or SystemTap attach to at run time, named ccdma:<probe> (docs/tracing.md
 * lists every probe and its arguments).  Each is one no-op instruction and
 * an ELF note until a tracer attaches.  Built with <sys/sdt.h> (Debian
 * systemtap-sdt-dev) when the build finds it (CCDMA_HAVE_SDT); without it,
 * and in the freestanding core, every probe compiles to nothing (its
 * arguments are still evaluated as (void) so that no variable goes unused).
 * Arguments are integers or pointers (strings as const char *).
 */
#ifndef CCDMA_PLATFORM_TRACE_H
#define CCDMA_PLATFORM_TRACE_H

#if defined(CCDMA_HAVE_SDT)
#include <sys/sdt.h>
#define CCDMA_TRACE1(n, a) DTRACE_PROBE1(ccdma, n, a)
#define CCDMA_TRACE2(n, a, b) DTRACE_PROBE2(ccdma, n, a, b)
#define CCDMA_TRACE3(n, a, b, c) DTRACE_PROBE3(ccdma, n, a, b, c)
#define CCDMA_TRACE4(n, a, b, c, d) DTRACE_PROBE4(ccdma, n, a, b, c, d)
#else
#define CCDMA_TRACE1(n, a) ((void)(a))
#define CCDMA_TRACE2(n, a, b) ((void)(a), (void)(b))
#define CCDMA_TRACE3(n, a, b, c) ((void)(a), (void)(b), (void)(c))
#define CCDMA_TRACE4(n, a, b, c, d) ((void)(a), (void)(b), (void)(c), (void)(d))
#endif

#endif /* CCDMA_PLATFORM_TRACE_H */
