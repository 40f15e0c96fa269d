/* SPDX-License-Identifier: MIT */
/*
 * An embedder's platform port: the hooks of src/platform/os.h for firmware
 * running in an Intel TDX guest (a TD's boot firmware or a small
 * unikernel), with no C library, no operating system and cooperative
 * tasks.  With this file and the freestanding core (docs/porting.md),
 * the firmware has ccdma's pool, dma and bus_dma layers and its virtio-blk
 * driver.
 *
 * What it shows:
 *   - every hook the core calls (the list scripts/freestanding.sh prints),
 *     built on a handful of firmware services (the fw_* declarations
 *     below; the firmware supplies them);
 *   - making memory shared the TDX way in ccdma_os_region_create:
 *     TDG.VP.VMCALL<MapGPA> with the shared bit, resumed on
 *     TDG.VP.VMCALL_RETRY, the shared alias mapped and the range zeroed;
 *     and back in ccdma_os_region_destroy: MapGPA private, then
 *     TDG.MEM.PAGE.ACCEPT of every page (accepted pages read as zero);
 *   - a failed conversion undone, so nothing is left half shared;
 *   - the checker's hooks (page protection, fault handler) declined, which
 *     the core allows: the checker then keeps its other reports.
 *
 * It is built freestanding (-ffreestanding -nostdinc, only the compiler's
 * own stddef.h, stdint.h, stdbool.h, stdatomic.h, stdarg.h) by
 * scripts/freestanding.sh (target ccdma_example_port), which then checks
 * that the core plus this port need nothing but fw_* services and the
 * compiler's runtime.  It includes the library's internal platform header
 * (src/platform/os.h), so it builds in the source tree, not against an
 * installed library: an embedder compiles the core's sources into the
 * firmware anyway.
 *
 * Firmware layout assumed: guest-physical memory is identity mapped; the
 * range [FW_DMA_GPA, FW_DMA_GPA + FW_DMA_SIZE) is set aside for pools
 * (each pool reserves twice its max_bytes plus one region: give pools a
 * small max_bytes, e.g. 16 MiB).  Address space handed to a pool is never
 * reused after the pool is destroyed (firmware creates its pools once).
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "platform/os.h"

/* ---- what the firmware provides --------------------------------------- */

/* Private heap for metadata. */
void *fw_heap_alloc(size_t size);          /* NULL when full */
void fw_heap_free(void *p);
size_t fw_heap_usable(const void *p);      /* usable bytes at p */
/* TDG.VP.VMCALL<MapGPA>(gpa, len): 0 done, FW_TDVMCALL_RETRY with
 * *next set to where to continue, or another nonzero status. */
#define FW_TDVMCALL_RETRY 1u
uint64_t fw_tdvmcall_map_gpa(uint64_t gpa, uint64_t len, uint64_t *next);
/* TDG.MEM.PAGE.ACCEPT of one 4 KiB page: 0 or nonzero. */
uint64_t fw_tdg_mem_page_accept(uint64_t gpa);
/* Map [va, va+len) to guest-physical gpa (with the shared bit in the PTEs
 * when `shared`) and flush the TLB; unmap leaves the range inaccessible. */
int fw_pt_map(uint64_t va, uint64_t gpa, uint64_t len, bool shared);
void fw_pt_unmap(uint64_t va, uint64_t len);
/* The shared bit of this TD's GPA width (bit 47 or 51). */
unsigned fw_tdx_shared_bit(void);
uint64_t fw_clock_ns(void);                /* monotonic */
/* Cooperative tasks: start, wait for the end, give the CPU away; the
 * scheduler calls the exit hook in every task that ends. */
int fw_task_start(void (*fn)(void *), void *arg, const char *name, unsigned *id);
void fw_task_join(unsigned id);
void fw_task_yield(void);
void fw_task_set_exit_hook(void (*fn)(void));
void fw_console_write(const char *s, size_t len);
_Noreturn void fw_panic(const char *why);

#define FW_DMA_GPA 0x40000000ull  /* 1 GiB */
#define FW_DMA_SIZE 0x10000000ull /* 256 MiB for pools */
#define PAGE 4096u

/* ---- memory and address space ----------------------------------------- */

void *ccdma_os_calloc(size_t n, size_t size)
{
	size_t total;
	void *p;

	if (size && n > SIZE_MAX / size)
		return NULL;
	total = n * size;
	p = fw_heap_alloc(total > 0 ? total : 1);
	if (p)
		__builtin_memset(p, 0, total);
	return p;
}

void *ccdma_os_realloc(void *p, size_t size)
{
	size_t old = p ? fw_heap_usable(p) : 0;
	void *q = fw_heap_alloc(size ? size : 1);

	if (!q)
		return NULL;
	__builtin_memcpy(q, p, old < size ? old : size);
	ccdma_os_free(p);
	return q;
}

void ccdma_os_free(void *p)
{
	if (p)
		fw_heap_free(p);
}

size_t ccdma_os_page_size(void)
{
	return PAGE;
}

/* Reservations: a bump allocator over the pool window (never reused). */
static uint64_t window_next = FW_DMA_GPA;

void *ccdma_os_reserve_below(size_t size, uint64_t limit)
{
	uint64_t at, size_pg = ((uint64_t)size + PAGE - 1) & ~(uint64_t)(PAGE - 1);

	ccdma_os_global_lock();
	at = window_next;
	if (!size || size_pg > FW_DMA_GPA + FW_DMA_SIZE - at || at + size_pg - 1 > limit) {
		ccdma_os_global_unlock();
		return NULL;
	}
	window_next = at + size_pg;
	ccdma_os_global_unlock();
	fw_pt_unmap(at, size_pg); /* reserved space is inaccessible */
	return (void *)(uintptr_t)at;
}

void *ccdma_os_reserve(size_t size)
{
	return ccdma_os_reserve_below(size, UINT64_MAX);
}

void ccdma_os_unreserve(void *base, size_t size)
{
	(void)base; /* stays inaccessible; the window is not reused */
	(void)size;
}

/* ---- shared regions: the TDX conversion -------------------------------- */

/* MapGPA over [gpa, gpa+len), resumed where the VMM asks.  0 or -EIO;
 * *done gets how far it came. */
static int map_gpa(uint64_t gpa, uint64_t len, bool shared, uint64_t *done)
{
	uint64_t bit = shared ? 1ull << fw_tdx_shared_bit() : 0;
	uint64_t at = gpa, end = gpa + len, next, st;

	while (at < end) {
		st = fw_tdvmcall_map_gpa(at | bit, end - at, &next);
		if (st == 0)
			at = end;
		else if (st == FW_TDVMCALL_RETRY && (next & ~bit) > at && (next & ~bit) <= end)
			at = next & ~bit;
		else
			break;
	}
	*done = at - gpa;
	return at == end ? 0 : -EIO;
}

/* Back to private: MapGPA without the shared bit, then accept each page. */
static int make_private(uint64_t gpa, uint64_t len)
{
	uint64_t done, off;
	int rc = map_gpa(gpa, len, false, &done);

	for (off = 0; off < done; off += PAGE)
		if (fw_tdg_mem_page_accept(gpa + off))
			rc = -EIO;
	return rc;
}

static unsigned region_ids;

int ccdma_os_region_create(size_t size, const char *name, void *at, int *fd, void **addr)
{
	uint64_t gpa, done;

	(void)name;
	if (!at && !(at = ccdma_os_reserve(size)))
		return -ENOMEM;
	gpa = (uint64_t)(uintptr_t)at; /* identity mapped */
	if (map_gpa(gpa, size, true, &done)) {
		make_private(gpa, done); /* share nothing on failure */
		return -EIO;
	}
	if (fw_pt_map(gpa, gpa, size, true)) {
		make_private(gpa, size);
		return -ENOMEM;
	}
	/* The shared pages are the host's: what is there now is its data. */
	__builtin_memset(at, 0, size);
	*fd = (int)__atomic_add_fetch(&region_ids, 1, __ATOMIC_RELAXED);
	*addr = at;
	return 0;
}

void ccdma_os_region_destroy(int fd, void *addr, size_t size, bool keep_reserved)
{
	uint64_t gpa = (uint64_t)(uintptr_t)addr;

	(void)fd;
	__builtin_memset(addr, 0, size);
	fw_pt_unmap(gpa, size);
	if (make_private(gpa, size))
		fw_panic("ccdma: a region cannot be made private again");
	if (!keep_reserved)
		fw_pt_map(gpa, gpa, size, false); /* back to the firmware's map */
}

/* ---- time, locks, tasks ----------------------------------------------- */

uint64_t ccdma_os_now_ns(void)
{
	return fw_clock_ns();
}

void ccdma_os_sleep_ns(uint64_t ns)
{
	uint64_t end = fw_clock_ns() + ns;

	while (fw_clock_ns() < end)
		fw_task_yield();
}

/* A mutex is a flag in the opaque bytes; a task that finds it taken
 * yields to the holder. */
static bool *flag_of(void *opaque)
{
	return (bool *)opaque;
}

int ccdma_mutex_init(ccdma_mutex_t *m)
{
	__atomic_store_n(flag_of(m->opaque), false, __ATOMIC_RELAXED);
	return 0;
}

void ccdma_mutex_destroy(ccdma_mutex_t *m)
{
	(void)m;
}

void ccdma_mutex_lock(ccdma_mutex_t *m)
{
	while (__atomic_exchange_n(flag_of(m->opaque), true, __ATOMIC_ACQUIRE))
		fw_task_yield();
}

void ccdma_mutex_unlock(ccdma_mutex_t *m)
{
	__atomic_store_n(flag_of(m->opaque), false, __ATOMIC_RELEASE);
}

/* A condition is a sequence number: a waiter yields until it moves. */
static uint64_t *seq_of(ccdma_cond_t *c)
{
	return (uint64_t *)(void *)c->opaque;
}

int ccdma_cond_init(ccdma_cond_t *c)
{
	__atomic_store_n(seq_of(c), 0, __ATOMIC_RELAXED);
	return 0;
}

void ccdma_cond_destroy(ccdma_cond_t *c)
{
	(void)c;
}

void ccdma_cond_signal(ccdma_cond_t *c)
{
	__atomic_add_fetch(seq_of(c), 1, __ATOMIC_RELEASE);
}

void ccdma_cond_broadcast(ccdma_cond_t *c)
{
	__atomic_add_fetch(seq_of(c), 1, __ATOMIC_RELEASE);
}

bool ccdma_cond_timedwait(ccdma_cond_t *c, ccdma_mutex_t *m, uint64_t deadline_ns)
{
	uint64_t seen = __atomic_load_n(seq_of(c), __ATOMIC_ACQUIRE);
	bool late = false;

	ccdma_mutex_unlock(m);
	while (__atomic_load_n(seq_of(c), __ATOMIC_ACQUIRE) == seen &&
	       !(late = fw_clock_ns() >= deadline_ns))
		fw_task_yield();
	ccdma_mutex_lock(m);
	return late;
}

void ccdma_cond_wait(ccdma_cond_t *c, ccdma_mutex_t *m)
{
	ccdma_cond_timedwait(c, m, UINT64_MAX);
}

static bool global_flag;

void ccdma_os_global_lock(void)
{
	while (__atomic_exchange_n(&global_flag, true, __ATOMIC_ACQUIRE))
		fw_task_yield();
}

void ccdma_os_global_unlock(void)
{
	__atomic_store_n(&global_flag, false, __ATOMIC_RELEASE);
}

/* Threads are tasks; the opaque bytes hold the task id and the trampoline. */
struct start {
	void *(*fn)(void *);
	void *arg;
};
struct task {
	unsigned id;
	struct start *st;
};

static void trampoline(void *p)
{
	struct start *st = p;

	st->fn(st->arg);
}

int ccdma_thread_create(ccdma_thread_t *t, void *(*fn)(void *), void *arg, const char *name)
{
	struct task *tk = (struct task *)(void *)t->opaque;
	struct start *st = ccdma_os_calloc(1, sizeof(*st));

	_Static_assert(sizeof(struct task) <= sizeof(t->opaque), "task fits");
	if (!st)
		return -ENOMEM;
	st->fn = fn;
	st->arg = arg;
	if (fw_task_start(trampoline, st, name, &tk->id)) {
		ccdma_os_free(st);
		return -EAGAIN;
	}
	tk->st = st;
	return 0;
}

void ccdma_thread_join(ccdma_thread_t *t)
{
	struct task *tk = (struct task *)(void *)t->opaque;

	fw_task_join(tk->id);
	ccdma_os_free(tk->st);
}

static void (*exit_fn)(void);

int ccdma_os_thread_exit_hook(void (*fn)(void))
{
	exit_fn = fn;
	fw_task_set_exit_hook(fn); /* the scheduler runs it in every task */
	return 0;
}

int ccdma_os_thread_exit_arm(void)
{
	return exit_fn ? 0 : -EINVAL;
}

/* ---- configuration, messages, the checker ------------------------------ */

const char *ccdma_os_getenv(const char *name)
{
	(void)name;
	return NULL; /* no environment: the defaults apply */
}

static size_t str_len(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

void ccdma_os_write_err(const char *line)
{
	fw_console_write(line, str_len(line));
}

void ccdma_os_write_err_raw(const char *s, size_t len)
{
	fw_console_write(s, len);
}

_Noreturn void ccdma_os_abort(void)
{
	fw_panic("ccdma: checker abort");
}

int ccdma_os_protect(void *addr, size_t len, int prot)
{
	(void)addr;
	(void)len;
	(void)prot;
	return -EOPNOTSUPP;
}

int ccdma_os_fault_handler_install(ccdma_fault_fn fn)
{
	(void)fn;
	return -EOPNOTSUPP; /* the checker then protects nothing */
}

void ccdma_os_describe_code(const void *pc, char *buf, size_t len)
{
	(void)pc;
	if (len)
		buf[0] = 0;
}

/* vsnprintf for what the core formats: %s %c %d %u %x %p and %%, with the
 * '#' flag, a field width, and the h, l, ll, z length modifiers. */
struct out {
	char *buf;
	size_t len, n;
};

static void put(struct out *o, char c)
{
	if (o->n + 1 < o->len)
		o->buf[o->n] = c;
	o->n++;
}

static void put_num(struct out *o, unsigned long long v, unsigned base, bool neg,
		    const char *prefix, unsigned width)
{
	char d[24];
	unsigned i = 0, plen = str_len(prefix);

	do {
		d[i++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (width > i + plen + neg) {
		put(o, ' ');
		width--;
	}
	if (neg)
		put(o, '-');
	while (*prefix)
		put(o, *prefix++);
	while (i)
		put(o, d[--i]);
}

_Static_assert(sizeof(size_t) == sizeof(unsigned long), "%zu is read as a long");

int ccdma_os_vsnprintf(char *buf, size_t len, const char *fmt, va_list ap)
{
	struct out o = { buf, len, 0 };
	unsigned width, lng;
	unsigned long long u;
	long long s;
	bool alt;

	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			put(&o, *fmt);
			continue;
		}
		alt = *++fmt == '#';
		fmt += alt;
		for (width = 0; *fmt >= '0' && *fmt <= '9'; fmt++)
			width = width * 10 + (unsigned)(*fmt - '0');
		/* lng: 0 int, 1 long (and size_t, as wide on our targets), 2
		 * long long; h is promoted to int. */
		for (lng = 0; *fmt == 'l' || *fmt == 'z' || *fmt == 'h'; fmt++)
			lng += *fmt != 'h';
		switch (*fmt) {
		case 'd':
			s = lng >= 2 ? va_arg(ap, long long) : lng ? va_arg(ap, long) : va_arg(ap, int);
			put_num(&o, s < 0 ? 0ull - (unsigned long long)s : (unsigned long long)s,
				10, s < 0, "", width);
			break;
		case 'u':
		case 'x':
			u = lng >= 2 ? va_arg(ap, unsigned long long)
			    : lng ? va_arg(ap, unsigned long) : va_arg(ap, unsigned);
			put_num(&o, u, *fmt == 'u' ? 10 : 16, false,
				alt && *fmt == 'x' && u ? "0x" : "", width);
			break;
		case 'p':
			put_num(&o, (uintptr_t)va_arg(ap, void *), 16, false, "0x", width);
			break;
		case 's': {
			const char *str = va_arg(ap, const char *);
			size_t n;

			str = str ? str : "(null)";
			for (n = str_len(str); width > n; width--)
				put(&o, ' ');
			while (*str)
				put(&o, *str++);
			break;
		}
		case 'c':
			put(&o, (char)va_arg(ap, int));
			break;
		case '%':
			put(&o, '%');
			break;
		default: /* unknown: print it as written */
			put(&o, '%');
			if (!*fmt)
				fmt--;
			else
				put(&o, *fmt);
		}
	}
	if (len)
		buf[o.n < len ? o.n : len - 1] = 0;
	return (int)o.n;
}
