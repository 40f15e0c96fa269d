/* SPDX-License-Identifier: MIT */
/*
 * The one internal header behind which every OS call of the library lives.
 *
 * Everything above src/platform/ includes only this (and freestanding C
 * headers) to reach the operating system: memory for private metadata,
 * address-space reservation, shared regions, time, threads and locks,
 * environment and logging.  An embedder (firmware, unikernel, guest kernel)
 * supplies its own implementation of these functions; see docs/porting.md.
 *
 * Lock and condition types are opaque byte arrays sized for the largest
 * libc we support, so this header pulls in no OS header.
 */
#ifndef CCDMA_PLATFORM_OS_H
#define CCDMA_PLATFORM_OS_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ccdma/common.h>

#if __STDC_HOSTED__
#include <errno.h>
#else
/* Freestanding: the Linux values, which the public API documents. */
#define EPERM 1
#define ENOENT 2
#define EIO 5
#define EAGAIN 11
#define ENOMEM 12
#define EACCES 13
#define EEXIST 17
#define EFAULT 14
#define EBUSY 16
#define ENODEV 19
#define EINVAL 22
#define ENFILE 23
#define EMFILE 24
#define EFBIG 27
#define ENOSPC 28
#define EROFS 30
#define ERANGE 34
#define EOPNOTSUPP 95
#define ENOTSUP EOPNOTSUPP
#define ETIMEDOUT 110
#define EINPROGRESS 115
#define EMSGSIZE 90
#define ESTALE 116
#endif

/* Private (never shared) memory for metadata.  Zeroed by calloc. */
void *ccdma_os_calloc(size_t n, size_t size);
void *ccdma_os_realloc(void *p, size_t size);
void ccdma_os_free(void *p);

size_t ccdma_os_page_size(void);

/*
 * Address space: reserve `size` bytes of inaccessible address space (no
 * memory).  Returns the base or NULL.
 */
void *ccdma_os_reserve(size_t size);
void ccdma_os_unreserve(void *base, size_t size);
/* Reserve `size` bytes wholly below `limit` (the range's last byte <=
 * limit), for pools a device with a narrow DMA mask must reach.  NULL when
 * no such place is free. */
void *ccdma_os_reserve_below(size_t size, uint64_t limit);

/*
 * Page protection of private memory, for the ownership checker.  `addr`
 * and `len` are page aligned.  Returns 0 or -errno.
 */
enum { CCDMA_PROT_NONE = 0, CCDMA_PROT_READ = 1, CCDMA_PROT_RW = 3 };
int ccdma_os_protect(void *addr, size_t len, int prot);
/*
 * Install (once) a handler for memory-protection faults.  `fn` gets the
 * faulting address, whether the access was a write (1), a read (0) or
 * unknown (-1) on this architecture, and the address of the faulting
 * instruction (NULL where the platform cannot tell); it runs in signal
 * context and must be async-signal-safe.  It returns true when it made
 * the access possible (the access is retried); otherwise the fault goes
 * to the disposition that was there before.  Returns 0 or -errno.
 */
typedef bool (*ccdma_fault_fn)(void *addr, int write, void *pc);
int ccdma_os_fault_handler_install(ccdma_fault_fn fn);
/*
 * Name the code at `pc` for a report (not in signal context): the file
 * name of the object that holds it, without directories, and the offset
 * from where that object was loaded, "object+0x1a2b" (what addr2line
 * takes for a position-independent object), always NUL-terminated in
 * `len` bytes; "" when it cannot tell.
 */
#define CCDMA_OS_CODE_NAME_MAX 80
void ccdma_os_describe_code(const void *pc, char *buf, size_t len);
/* Write a line to the error stream from signal context. */
void ccdma_os_write_err_raw(const char *s, size_t len);
/* End the process at once (checker abort mode). */
_Noreturn void ccdma_os_abort(void);

/*
 * A shared region placed at `at` (inside a reservation, page aligned) or,
 * when `at` is NULL, anywhere.  Creates the backing object, maps it
 * read-write, populates it and pays the sharing cost.  Returns 0 and fills
 * *fd and *addr, or -errno.
 */
int ccdma_os_region_create(size_t size, const char *name, void *at, int *fd,
			   void **addr);
/*
 * Scrub, pay the cost of converting back, unmap and close.  When
 * `keep_reserved` the range becomes inaccessible reserved space again.
 */
void ccdma_os_region_destroy(int fd, void *addr, size_t size,
			     bool keep_reserved);

/* Monotonic clock in ns, and a sleep. */
uint64_t ccdma_os_now_ns(void);
void ccdma_os_sleep_ns(uint64_t ns);

/* Locks and condition variables (condition waits use the monotonic clock). */
typedef struct { _Alignas(16) unsigned char opaque[64]; } ccdma_mutex_t;
typedef struct { _Alignas(16) unsigned char opaque[64]; } ccdma_cond_t;
/* 0 or -errno (then the object is not initialised).  A condition whose
 * timed waits cannot use the monotonic clock fails. */
int ccdma_mutex_init(ccdma_mutex_t *m);
void ccdma_mutex_destroy(ccdma_mutex_t *m);
void ccdma_mutex_lock(ccdma_mutex_t *m);
void ccdma_mutex_unlock(ccdma_mutex_t *m);
int ccdma_cond_init(ccdma_cond_t *c);
void ccdma_cond_destroy(ccdma_cond_t *c);
void ccdma_cond_signal(ccdma_cond_t *c);
void ccdma_cond_broadcast(ccdma_cond_t *c);
void ccdma_cond_wait(ccdma_cond_t *c, ccdma_mutex_t *m);
/* Wait until woken or until the monotonic time `deadline_ns`; returns
 * true when the deadline passed. */
bool ccdma_cond_timedwait(ccdma_cond_t *c, ccdma_mutex_t *m,
			  uint64_t deadline_ns);

/* One process-wide lock, usable before anything is initialised (pool
 * registry, thread exit).  Never held on a fast path. */
void ccdma_os_global_lock(void);
void ccdma_os_global_unlock(void);

/* Threads. */
typedef struct { _Alignas(8) unsigned char opaque[16]; } ccdma_thread_t;
int ccdma_thread_create(ccdma_thread_t *t, void *(*fn)(void *), void *arg,
			const char *name);
void ccdma_thread_join(ccdma_thread_t *t);

/*
 * Thread-exit hook: `fn` runs in every thread that called
 * ccdma_os_thread_exit_arm() once, when that thread exits.  One `fn` per
 * process (the pool's per-thread caches use it).
 * ccdma_os_thread_exit_hook: 0, or -errno when the hook cannot be set up
 * (-EAGAIN: no thread-specific key left; -ENOMEM); a later call tries
 * again.  ccdma_os_thread_exit_arm: 0, -EINVAL when no hook is set up, or
 * -ENOMEM; the thread is not armed then, and must keep nothing that only
 * `fn` would give back.
 */
int ccdma_os_thread_exit_hook(void (*fn)(void));
int ccdma_os_thread_exit_arm(void);

/* Environment (NULL when unset). */
const char *ccdma_os_getenv(const char *name);

/* Write one already-formatted line to the error stream. */
void ccdma_os_write_err(const char *line);

/* Formatting without libc in the freestanding core: vsnprintf. */
int ccdma_os_vsnprintf(char *buf, size_t len, const char *fmt, va_list ap);

/* Internal logging (src/platform/log.c); printf-style. */
void ccdma_log(enum ccdma_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
#define ccdma_err(...) ccdma_log(CCDMA_LOG_ERROR, __VA_ARGS__)
#define ccdma_warn(...) ccdma_log(CCDMA_LOG_WARN, __VA_ARGS__)
#define ccdma_info(...) ccdma_log(CCDMA_LOG_INFO, __VA_ARGS__)
#define ccdma_dbg(...) ccdma_log(CCDMA_LOG_DEBUG, __VA_ARGS__)

/* snprintf through ccdma_os_vsnprintf. */
int ccdma_snprintf(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A spin-wait hint to the CPU (a busy-polling loop's body). */
static inline void ccdma_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}

/* Branch hints for the layers' fast paths. */
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* Small freestanding helpers the core needs instead of <string.h>.  The
 * compiler may still emit calls to memset, memcpy and strcmp for them (an
 * embedder without a C runtime links src/platform/freestanding/libc.c). */
#define ccdma_memset __builtin_memset
#define ccdma_memcpy __builtin_memcpy
#define ccdma_strcmp __builtin_strcmp

/*
 * The copy towards the device: private memory into a bounce buffer that
 * the device (another core) reads next.  memcpy, unless the library is
 * built with -DCCDMA_NT_COPY=ON: then, on x86-64 from 512 bytes, with
 * non-temporal stores, which write whole lines without first taking them
 * back from the core that read them last, and a store fence, which orders
 * the data before whatever publishes it.  `ccdma-bench floor` shows the
 * copy itself 1.4-3.4x cheaper that way, but the device's read dearer,
 * and ccdma-blk's CPU per write I/O came out higher (docs/performance.md),
 * so it is off by default.  Sanitizer builds always use memcpy.
 */
#if defined(__x86_64__) && defined(__SSE2__)
#define CCDMA_HAVE_NT_COPY 1
#define CCDMA_NT_MIN 512
static inline void ccdma_copy_nt(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;
	size_t head = (64 - ((uintptr_t)d & 63)) & 63;

	if (n < CCDMA_NT_MIN) {
		__builtin_memcpy(dst, src, n);
		return;
	}
	__builtin_memcpy(d, s, head);
	d += head;
	s += head;
	n -= head;
	for (; n >= 64; n -= 64, d += 64, s += 64)
		__asm__ __volatile__(
			"movdqu (%1), %%xmm0\n\tmovdqu 16(%1), %%xmm1\n\t"
			"movdqu 32(%1), %%xmm2\n\tmovdqu 48(%1), %%xmm3\n\t"
			"movntdq %%xmm0, (%0)\n\tmovntdq %%xmm1, 16(%0)\n\t"
			"movntdq %%xmm2, 32(%0)\n\tmovntdq %%xmm3, 48(%0)"
			: : "r"(d), "r"(s)
			: "xmm0", "xmm1", "xmm2", "xmm3", "memory");
	__builtin_memcpy(d, s, n);
	__asm__ __volatile__("sfence" ::: "memory");
}
#endif
#if defined(CCDMA_NT_COPY) && defined(CCDMA_HAVE_NT_COPY) && \
	!defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
#define ccdma_copy_to_device ccdma_copy_nt
#else
#define ccdma_copy_to_device __builtin_memcpy
#endif

/* Parse an unsigned decimal; returns 0 or -EINVAL. */
int ccdma_parse_u64(const char *s, uint64_t *out);

#endif /* CCDMA_PLATFORM_OS_H */
