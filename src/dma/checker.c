/* SPDX-License-Identifier: MIT */
/*
 * The ownership checker.
 *
 * Every mapping of a device created while the checker is on gets a record,
 * in a hash by (device, DMA address) for single mappings and coherent
 * memory and by (device, output list) for chunk lists, and on one list of
 * live records (leak and overlap scans).  Unmapped records leave a trace in
 * a small ring so that a second unmap is told apart from a wild one.  One
 * lock serialises the checker; it is never taken when the checker is off.
 *
 * CPU access while the device owns a buffer: for bounced single mappings
 * the whole pages inside the buffer are protected (read-only for
 * TO_DEVICE, no access otherwise) from map (or sync_for_device) until
 * sync_for_cpu (or unmap), and FROM_DEVICE buffers are poisoned.  A fault
 * on such a page is recorded from the signal handler through a lock-free
 * table and event ring, the page is made accessible again (so the driver
 * runs on, reading poison), and the report is completed on the next
 * checker call.
 */
#include "dma/dma_internal.h"

#define NBUCKETS 4096
#define GRAVE_MAX 256
#define KEEP_REPORTS 64
#define PROT_MAX 256
#define EVENTS_MAX 64
#define POISON 0xa5

struct rec {
	struct rec *hnext;
	struct rec *lnext, *lprev;
	struct ccdma_dev *dev;
	enum chk_kind kind;
	ccdma_addr_t dma;
	const void *key;
	uintptr_t cpu;
	size_t len;
	unsigned dir;
	bool bounced, checked;
	const struct ccdma_chunk_list *in;
	const char *file;
	int line;
	int prot;          /* index in prot_tab, or -1 */
};

struct grave {
	struct ccdma_dev *dev;
	ccdma_addr_t dma;
	const void *key;
	const char *file;
	int line;
};

/* Read by the fault handler without locks: state last, with release. */
enum { PROT_FREE = 0, PROT_BUSY, PROT_ACTIVE, PROT_TRIPPED };
struct prot_ent {
	int state;
	uintptr_t start;
	size_t len;
	unsigned dir;
	ccdma_addr_t dma;
	size_t maplen;     /* the mapping's length */
	const char *file;
	int line;
};

struct fault_event {
	uintptr_t addr;
	uintptr_t pc;      /* the faulting instruction (0: unknown) */
	int write;
	unsigned dir;
	ccdma_addr_t dma;
	size_t len;
	const char *file;
	int line;
	int ready;
};

static struct {
	ccdma_mutex_t lock;
	bool inited;
	unsigned flags;
	struct rec *bucket[NBUCKETS];
	struct rec *live;
	struct grave grave[GRAVE_MAX];
	unsigned grave_next;
	struct ccdma_debug_report reports[KEEP_REPORTS];
	unsigned nreports;        /* total kept so far (ring index) */
	uint64_t counts[CCDMA_DBG_NKINDS]; /* atomic */
	struct prot_ent prot[PROT_MAX];
	struct fault_event ev[EVENTS_MAX];
	unsigned ev_head;         /* atomic: next slot to fill */
	unsigned ev_tail;         /* next to drain (lock) */
	bool handler;
} chk;

static const char *const kind_names[CCDMA_DBG_NKINDS] = {
	[CCDMA_DBG_UNMAP_UNKNOWN] = "unmap-unknown",
	[CCDMA_DBG_DOUBLE_UNMAP] = "double-unmap",
	[CCDMA_DBG_UNMAP_SIZE] = "unmap-size",
	[CCDMA_DBG_UNMAP_DIR] = "unmap-direction",
	[CCDMA_DBG_SYNC_DIR] = "sync-direction",
	[CCDMA_DBG_SYNC_OUTSIDE] = "sync-outside",
	[CCDMA_DBG_OVERLAP] = "overlap",
	[CCDMA_DBG_UNCHECKED] = "unchecked-map-error",
	[CCDMA_DBG_LEAK] = "leak",
	[CCDMA_DBG_CPU_ACCESS] = "cpu-access",
	[CCDMA_DBG_UNSYNCED_READ] = "unsynced-read",
	[CCDMA_DBG_MISSING_POSTREAD] = "missing-postread",
};

const char *ccdma_debug_kind_name(enum ccdma_debug_kind k)
{
	return (unsigned)k < CCDMA_DBG_NKINDS ? kind_names[k] : "invalid";
}

/* Lazily: the lock and the CCDMA_DEBUG variable. */
static void chk_init(void)
{
	const char *e;

	if (__atomic_load_n(&chk.inited, __ATOMIC_ACQUIRE))
		return;
	ccdma_os_global_lock();
	if (!chk.inited) {
		/* A lock without attributes: POSIX lets its init fail only for
		 * lack of resources, which no libc we support reports for one
		 * (glibc and musl never fail it).  An embedder's lock must not
		 * fail here either (docs/porting.md). */
		(void)ccdma_mutex_init(&chk.lock);
		e = ccdma_os_getenv("CCDMA_DEBUG");
		if (e && e[0]) {
			if (e[0] == '1' && !e[1])
				chk.flags = CCDMA_DEBUG_ON | CCDMA_DEBUG_PROTECT;
			else if (!__builtin_strcmp(e, "abort"))
				chk.flags = CCDMA_DEBUG_ON | CCDMA_DEBUG_PROTECT |
					    CCDMA_DEBUG_ABORT;
			else if (!(e[0] == '0' && !e[1]))
				ccdma_err("CCDMA_DEBUG=%s: expected 0, 1 or abort; the "
					  "checker stays off", e);
		}
		__atomic_store_n(&chk.inited, true, __ATOMIC_RELEASE);
	}
	ccdma_os_global_unlock();
}

unsigned ccdma_debug_set(unsigned flags)
{
	unsigned old;

	chk_init();
	old = __atomic_exchange_n(&chk.flags, flags, __ATOMIC_ACQ_REL);
	return old;
}

unsigned ccdma_debug_get(void)
{
	chk_init();
	return __atomic_load_n(&chk.flags, __ATOMIC_ACQUIRE);
}

bool ccdma_chk_enabled_for_new_device(void)
{
	return (ccdma_debug_get() & CCDMA_DEBUG_ON) != 0;
}

/* ---- reports ---------------------------------------------------------- */

/*
 * The kept message, "kind[ at F:L][ (LABEL M:ML[, PREREAD at S:SL])]: body"
 * with file names without their directories, is whole by construction:
 * each part has a bound and CCDMA_DEBUG_MSG_MAX holds them all.  Bodies
 * are formatted into BODY_MAX bytes; every format below stays under it
 * with a 31-byte device name and 20-digit numbers (dma_chk_report_fields
 * checks each kind).  A file name longer than NAME_KEPT bytes keeps its
 * last bytes after "...".
 */
#define BODY_MAX 320
#define NAME_KEPT 64
#define KIND_MAX 19     /* "unchecked-map-error" */
#define LINE_MAX 11     /* ":" and up to 10 digits (lines are positive) */
#define LABEL_MAX 9     /* "mapped at", "loaded at" */
_Static_assert(KIND_MAX +
	       (4 + NAME_KEPT + LINE_MAX) +                 /* " at F:L" */
	       (2 + LABEL_MAX + 1 + NAME_KEPT + LINE_MAX) + /* " (LABEL M:L" */
	       (13 + NAME_KEPT + LINE_MAX) + 1 +            /* ", PREREAD at S:L)" */
	       2 + (BODY_MAX - 1) + 1 <= CCDMA_DEBUG_MSG_MAX,
	       "a kept report message always fits");

static void keep_report(const struct ccdma_debug_report *r)
{
	chk.reports[chk.nreports % KEEP_REPORTS] = *r;
	chk.nreports++;
}

/* The last component of a path, at most NAME_KEPT bytes ("..." and the
 * end of a longer one) when `brief`. */
static const char *site_name(const char *f, bool brief, char buf[NAME_KEPT + 1])
{
	const char *b = f;
	size_t n;

	if (!brief)
		return f;
	for (; *f; f++)
		if (*f == '/' || *f == '\\')
			b = f + 1;
	n = (size_t)(f - b);
	if (n <= NAME_KEPT)
		return b;
	ccdma_snprintf(buf, NAME_KEPT + 1, "...%s", b + n - (NAME_KEPT - 3));
	return buf;
}

/* The report's line: its kind, its sites (briefly: base names) and body. */
static void compose(char *out, size_t n, const struct ccdma_debug_report *r,
		    const char *mlabel, const char *body, bool brief)
{
	char nb[3][NAME_KEPT + 1];
	char at[4 + NAME_KEPT + LINE_MAX + 1] = "";
	char mapped[2 + LABEL_MAX + 1 + NAME_KEPT + LINE_MAX + 1] = "";
	char synced[13 + NAME_KEPT + LINE_MAX + 1] = "";
	const char *f = r->file, *mf = r->map_file, *sf = r->sync_file;

	if (f)
		ccdma_snprintf(at, sizeof(at), " at %s:%d",
			       site_name(f, brief, nb[0]), r->line);
	if (mf)
		ccdma_snprintf(mapped, sizeof(mapped), " (%s %s:%d", mlabel,
			       site_name(mf, brief, nb[1]), r->map_line);
	if (sf)
		ccdma_snprintf(synced, sizeof(synced), "%sPREREAD at %s:%d",
			       mf ? ", " : " (", site_name(sf, brief, nb[2]),
			       r->sync_line);
	ccdma_snprintf(out, n, "%s%s%s%s%s: %s", kind_names[r->kind], at, mapped,
		       synced, mf || sf ? ")" : "", body);
}

/* Keep, count and log one report (under chk.lock, or from the drain);
 * r->msg is filled here. */
static void emit_report(struct ccdma_debug_report *r, const char *mlabel,
			const char *body)
{
	char line[1024];

	compose(line, sizeof(line), r, mlabel, body, false);
	compose(r->msg, sizeof(r->msg), r, mlabel, body, true);
	keep_report(r);
	CCDMA_TRACE4(checker_report, (int)r->kind, r->addr, r->size, r->msg);
	ccdma_err("dma-debug: %s", line);
}

static void vreport(struct ccdma_debug_report *r, const char *mlabel,
		    const char *fmt, va_list ap)
{
	char body[BODY_MAX];

	ccdma_os_vsnprintf(body, sizeof(body), fmt, ap);
	__atomic_add_fetch(&chk.counts[r->kind], 1, __ATOMIC_RELAXED);
	emit_report(r, mlabel, body);
	if (__atomic_load_n(&chk.flags, __ATOMIC_RELAXED) & CCDMA_DEBUG_ABORT) {
		ccdma_err("dma-debug: aborting on the first report (CCDMA_DEBUG=abort)");
		ccdma_os_abort();
	}
}

/* Under chk.lock.  `m` (may be NULL) is the mapping concerned: its site,
 * DMA address and length; without one, addr and size are what the call
 * named. */
__attribute__((format(printf, 7, 8)))
static void report(enum ccdma_debug_kind k, const char *file, int line,
		   const struct rec *m, ccdma_addr_t addr, uint64_t size,
		   const char *fmt, ...)
{
	struct ccdma_debug_report r = {
		.kind = k,
		.file = file,
		.line = line,
		.map_file = m ? m->file : NULL,
		.map_line = m ? m->line : 0,
		.addr = m ? m->dma : addr,
		.size = m ? m->len : size,
	};
	va_list ap;

	va_start(ap, fmt);
	vreport(&r, "mapped at", fmt, ap);
	va_end(ap);
}

void ccdma_chk_report(enum ccdma_debug_kind k, const char *file, int line,
		      const char *mlabel, const char *mfile, int mline,
		      const char *sfile, int sline, ccdma_addr_t addr,
		      uint64_t size, const char *fmt, ...)
{
	struct ccdma_debug_report r = {
		.kind = k,
		.file = file,
		.line = line,
		.map_file = mfile,
		.map_line = mline,
		.sync_file = sfile,
		.sync_line = sline,
		.addr = addr,
		.size = size,
	};
	va_list ap;

	chk_init();
	ccdma_mutex_lock(&chk.lock);
	va_start(ap, fmt);
	vreport(&r, mlabel, fmt, ap);
	va_end(ap);
	ccdma_mutex_unlock(&chk.lock);
}

/* Turn fault events recorded by the signal handler into reports. */
static void drain_events(void)
{
	unsigned head = __atomic_load_n(&chk.ev_head, __ATOMIC_ACQUIRE);

	while (chk.ev_tail != head) {
		struct fault_event *e = &chk.ev[chk.ev_tail % EVENTS_MAX];
		struct ccdma_debug_report r;
		char body[BODY_MAX], code[CCDMA_OS_CODE_NAME_MAX];
		char by[40 + CCDMA_OS_CODE_NAME_MAX];
		enum ccdma_debug_kind k;

		if (!__atomic_load_n(&e->ready, __ATOMIC_ACQUIRE))
			break;
		k = (e->dir != CCDMA_TO_DEVICE && e->write == 0) ?
			CCDMA_DBG_UNSYNCED_READ : CCDMA_DBG_CPU_ACCESS;
		if (e->pc) {
			ccdma_os_describe_code((void *)e->pc, code, sizeof(code));
			ccdma_snprintf(by, sizeof(by), "the instruction at %p%s%s%s",
				       (void *)e->pc, code[0] ? " (" : "", code,
				       code[0] ? ")" : "");
		} else {
			ccdma_snprintf(by, sizeof(by), "an instruction unknown on "
				       "this platform");
		}
		ccdma_snprintf(body, sizeof(body),
			      "CPU %s of %p by %s while the device owns the %s "
			      "buffer%s",
			      e->write == 1 ? "write" : e->write == 0 ? "read" :
			      "access", (void *)e->addr, by,
			      ccdma_dir_name(e->dir),
			      k != CCDMA_DBG_UNSYNCED_READ ? "" :
			      e->dir == CCDMA_FROM_DEVICE ?
			      "; sync_for_cpu first: the bytes read are poison (0xa5)" :
			      "; sync_for_cpu first: the bytes read are stale");
		ccdma_memset(&r, 0, sizeof(r));
		r.kind = k;
		r.map_file = e->file;
		r.map_line = e->line;
		r.addr = e->dma;
		r.size = e->len;
		r.fault_addr = e->addr;
		r.fault_pc = e->pc;
		emit_report(&r, "mapped at", body);
		__atomic_store_n(&e->ready, 0, __ATOMIC_RELAXED);
		chk.ev_tail++;
	}
}

uint64_t ccdma_debug_count(enum ccdma_debug_kind k)
{
	uint64_t n = 0;
	unsigned i;

	if ((unsigned)k > CCDMA_DBG_NKINDS)
		return 0;
	if (k < CCDMA_DBG_NKINDS)
		return __atomic_load_n(&chk.counts[k], __ATOMIC_RELAXED);
	for (i = 0; i < CCDMA_DBG_NKINDS; i++)
		n += __atomic_load_n(&chk.counts[i], __ATOMIC_RELAXED);
	return n;
}

unsigned ccdma_debug_reports(struct ccdma_debug_report *out, unsigned max)
{
	unsigned n, first, i;

	if (!out || !max)
		return 0;
	chk_init();
	ccdma_mutex_lock(&chk.lock);
	drain_events();
	n = chk.nreports < KEEP_REPORTS ? chk.nreports : KEEP_REPORTS;
	if (n > max)
		n = max;
	first = chk.nreports - n;
	for (i = 0; i < n; i++)
		out[i] = chk.reports[(first + i) % KEEP_REPORTS];
	ccdma_mutex_unlock(&chk.lock);
	return n;
}

void ccdma_debug_clear(void)
{
	unsigned i;

	chk_init();
	ccdma_mutex_lock(&chk.lock);
	drain_events();
	for (i = 0; i < CCDMA_DBG_NKINDS; i++)
		__atomic_store_n(&chk.counts[i], 0, __ATOMIC_RELAXED);
	chk.nreports = 0;
	ccdma_mutex_unlock(&chk.lock);
}

/* ---- page protection -------------------------------------------------- */

static bool ranges_overlap(uintptr_t a, size_t al, uintptr_t b, size_t bl)
{
	return a < b + bl && b < a + al;
}

static bool on_fault(void *addr, int write, void *pc)
{
	uintptr_t a = (uintptr_t)addr;
	unsigned i;

	for (i = 0; i < PROT_MAX; i++) {
		struct prot_ent *p = &chk.prot[i];
		struct fault_event *e;
		unsigned slot;
		int k;

		if (__atomic_load_n(&p->state, __ATOMIC_ACQUIRE) != PROT_ACTIVE ||
		    a - p->start >= p->len)
			continue;
		ccdma_os_protect((void *)p->start, p->len, CCDMA_PROT_RW);
		__atomic_store_n(&p->state, PROT_TRIPPED, __ATOMIC_RELEASE);
		k = (p->dir != CCDMA_TO_DEVICE && write == 0) ?
			CCDMA_DBG_UNSYNCED_READ : CCDMA_DBG_CPU_ACCESS;
		__atomic_add_fetch(&chk.counts[k], 1, __ATOMIC_RELAXED);
		slot = __atomic_fetch_add(&chk.ev_head, 1, __ATOMIC_ACQ_REL);
		e = &chk.ev[slot % EVENTS_MAX];
		e->addr = a;
		e->pc = (uintptr_t)pc;
		e->write = write;
		e->dir = p->dir;
		e->dma = p->dma;
		e->len = p->maplen;
		e->file = p->file;
		e->line = p->line;
		__atomic_store_n(&e->ready, 1, __ATOMIC_RELEASE);
		if (__atomic_load_n(&chk.flags, __ATOMIC_RELAXED) & CCDMA_DEBUG_ABORT) {
			static const char m[] = "ccdma: dma-debug: CPU touched a buffer "
						"the device owns; aborting (CCDMA_DEBUG=abort)\n";

			ccdma_os_write_err_raw(m, sizeof(m) - 1);
			ccdma_os_abort();
		}
		return true;
	}
	return false;
}

/*
 * Does [a, a+len) touch a page that is protected now (for this mapping,
 * by a second sync_for_device, or for an overlapping one)?  Poisoning it
 * would fault in the checker itself and be taken for a CPU access; such
 * bytes are left as they are.  Under chk.lock, which every change of
 * state but the fault handler's (ACTIVE -> TRIPPED, unprotecting) holds.
 */
static bool page_protected(uintptr_t a, size_t len)
{
	unsigned i;

	for (i = 0; i < PROT_MAX; i++) {
		const struct prot_ent *p = &chk.prot[i];

		if (__atomic_load_n(&p->state, __ATOMIC_ACQUIRE) == PROT_ACTIVE &&
		    ranges_overlap(a, len, p->start, p->len))
			return true;
	}
	return false;
}

/* Protect the whole pages inside [cpu, cpu+len) of a device-owned buffer.
 * Under chk.lock. */
static void protect(struct rec *m, size_t poison_off, size_t poison_len)
{
	size_t page = ccdma_os_page_size();
	uintptr_t lo = (m->cpu + page - 1) & ~(uintptr_t)(page - 1);
	uintptr_t hi = (m->cpu + m->len) & ~(uintptr_t)(page - 1);
	unsigned i, free_i = PROT_MAX;

	if (!(__atomic_load_n(&chk.flags, __ATOMIC_RELAXED) & CCDMA_DEBUG_PROTECT) ||
	    !m->bounced ||
	    m->kind != CHK_SINGLE)
		return;
	if (m->dir == CCDMA_FROM_DEVICE &&
	    !page_protected(m->cpu + poison_off, poison_len))
		ccdma_memset((void *)(m->cpu + poison_off), POISON, poison_len);
	if (hi <= lo || m->prot >= 0)
		return;
	for (i = 0; i < PROT_MAX; i++) {
		struct prot_ent *p = &chk.prot[i];
		int st = __atomic_load_n(&p->state, __ATOMIC_ACQUIRE);

		if (st == PROT_FREE) {
			if (free_i == PROT_MAX)
				free_i = i;
			continue;
		}
		if (p->start < hi && lo < p->start + p->len)
			return; /* pages already protected for another mapping */
	}
	if (free_i == PROT_MAX)
		return; /* table full: this mapping goes unprotected */
	if (!chk.handler) {
		if (ccdma_os_fault_handler_install(on_fault))
			return;
		chk.handler = true;
	}
	chk.prot[free_i].start = lo;
	chk.prot[free_i].len = hi - lo;
	chk.prot[free_i].dir = m->dir;
	chk.prot[free_i].dma = m->dma;
	chk.prot[free_i].maplen = m->len;
	chk.prot[free_i].file = m->file;
	chk.prot[free_i].line = m->line;
	__atomic_store_n(&chk.prot[free_i].state, PROT_BUSY, __ATOMIC_RELEASE);
	if (ccdma_os_protect((void *)lo, hi - lo, m->dir == CCDMA_TO_DEVICE ?
			     CCDMA_PROT_READ : CCDMA_PROT_NONE)) {
		__atomic_store_n(&chk.prot[free_i].state, PROT_FREE, __ATOMIC_RELEASE);
		return;
	}
	__atomic_store_n(&chk.prot[free_i].state, PROT_ACTIVE, __ATOMIC_RELEASE);
	m->prot = (int)free_i;
}

static void unprotect(struct rec *m)
{
	struct prot_ent *p;

	if (m->prot < 0)
		return;
	p = &chk.prot[m->prot];
	if (__atomic_exchange_n(&p->state, PROT_BUSY, __ATOMIC_ACQ_REL) == PROT_ACTIVE)
		ccdma_os_protect((void *)p->start, p->len, CCDMA_PROT_RW);
	__atomic_store_n(&p->state, PROT_FREE, __ATOMIC_RELEASE);
	m->prot = -1;
}

/* ---- records ---------------------------------------------------------- */

static unsigned hash(const struct ccdma_dev *d, uint64_t k)
{
	uint64_t h = (k ^ ((uint64_t)(uintptr_t)d << 7)) * 0x9e3779b97f4a7c15ull;

	return (unsigned)(h >> 52) & (NBUCKETS - 1);
}

static uint64_t rec_key(const struct rec *m)
{
	return m->kind == CHK_LIST ? (uint64_t)(uintptr_t)m->key : m->dma;
}

static struct rec **find_slot(struct ccdma_dev *d, enum chk_kind k,
			      ccdma_addr_t dma, const void *key)
{
	uint64_t hk = k == CHK_LIST ? (uint64_t)(uintptr_t)key : dma;
	struct rec **pp = &chk.bucket[hash(d, hk)];

	for (; *pp; pp = &(*pp)->hnext) {
		struct rec *m = *pp;

		if (m->dev == d && m->kind == k && rec_key(m) == hk)
			return pp;
	}
	return pp;
}

static void rec_remove(struct rec *m)
{
	struct rec **pp = &chk.bucket[hash(m->dev, rec_key(m))];
	struct grave *g = &chk.grave[chk.grave_next++ % GRAVE_MAX];

	while (*pp != m)
		pp = &(*pp)->hnext;
	*pp = m->hnext;
	if (m->lprev)
		m->lprev->lnext = m->lnext;
	else
		chk.live = m->lnext;
	if (m->lnext)
		m->lnext->lprev = m->lprev;
	unprotect(m);
	g->dev = m->dev;
	g->dma = m->dma;
	g->key = m->kind == CHK_LIST ? m->key : NULL;
	g->file = m->file;
	g->line = m->line;
	ccdma_os_free(m);
}

/* Does CPU range [a, a+len) (direction dir) overlap live mapping m, with
 * either side writable by the device? */
static bool overlaps(const struct rec *m, uintptr_t a, size_t len, unsigned dir)
{
	uint32_t i;

	if (m->kind == CHK_COHERENT ||
	    (dir == CCDMA_TO_DEVICE && m->dir == CCDMA_TO_DEVICE))
		return false;
	if (m->kind == CHK_SINGLE)
		return ranges_overlap(a, len, m->cpu, m->len);
	for (i = 0; i < m->in->n; i++) {
		const struct ccdma_chunk *c = &m->in->chunk[i];

		if (c->mem != CCDMA_MEM_DEVICE &&
		    ranges_overlap(a, len, (uintptr_t)c->addr, c->len))
			return true;
	}
	return false;
}

static void check_overlap(uintptr_t a, size_t len, unsigned dir,
			  const char *file, int line)
{
	struct rec *m;

	for (m = chk.live; m; m = m->lnext) {
		if (overlaps(m, a, len, dir)) {
			report(CCDMA_DBG_OVERLAP, file, line, m, 0, 0,
			       "mapping %p+%zu %s overlaps a live %s mapping of the "
			       "same memory", (void *)a, len, ccdma_dir_name(dir),
			       ccdma_dir_name(m->dir));
			return;
		}
	}
}

void ccdma_chk_map(struct ccdma_dev *d, enum chk_kind k, ccdma_addr_t dma,
		   const void *key, uintptr_t cpu, size_t len, unsigned dir,
		   bool bounced, const struct ccdma_chunk_list *in,
		   const char *file, int line)
{
	struct rec *m = ccdma_os_calloc(1, sizeof(*m));
	struct rec **pp;
	uint32_t i;

	ccdma_mutex_lock(&chk.lock);
	drain_events();
	if (!m) {
		ccdma_mutex_unlock(&chk.lock);
		ccdma_err("dma-debug: out of memory: a mapping at %s:%d is not "
			  "tracked", file ? file : "?", line);
		return;
	}
	if (k == CHK_SINGLE)
		check_overlap(cpu, len, dir, file, line);
	else if (k == CHK_LIST)
		for (i = 0; i < in->n; i++)
			if (in->chunk[i].mem != CCDMA_MEM_DEVICE)
				check_overlap((uintptr_t)in->chunk[i].addr,
					      in->chunk[i].len, dir, file, line);
	m->dev = d;
	m->kind = k;
	m->dma = dma;
	m->key = key;
	m->cpu = cpu;
	m->len = len;
	m->dir = dir;
	m->bounced = bounced;
	m->checked = k != CHK_SINGLE;
	m->in = in;
	m->file = file;
	m->line = line;
	m->prot = -1;
	/* The same DMA address may be live twice (shared memory mapped
	 * again); the newest is found first. */
	pp = &chk.bucket[hash(d, rec_key(m))];
	m->hnext = *pp;
	*pp = m;
	m->lnext = chk.live;
	if (chk.live)
		chk.live->lprev = m;
	chk.live = m;
	protect(m, 0, len);
	ccdma_mutex_unlock(&chk.lock);
}

void ccdma_chk_mapping_error(struct ccdma_dev *d, ccdma_addr_t dma)
{
	struct rec **pp;

	ccdma_mutex_lock(&chk.lock);
	pp = find_slot(d, CHK_SINGLE, dma, NULL);
	if (*pp)
		(*pp)->checked = true;
	ccdma_mutex_unlock(&chk.lock);
}

static const struct grave *find_grave(struct ccdma_dev *d, enum chk_kind k,
				      ccdma_addr_t dma, const void *key)
{
	unsigned i, n = chk.grave_next < GRAVE_MAX ? chk.grave_next : GRAVE_MAX;

	for (i = 1; i <= n; i++) {
		const struct grave *g = &chk.grave[(chk.grave_next - i) % GRAVE_MAX];

		if (g->dev == d && (k == CHK_LIST ? g->key == key :
				    (!g->key && g->dma == dma)))
			return g;
	}
	return NULL;
}

/* What a call names, for messages: "0x1000" or "chunk list 0x7f..". */
static const char *target(char *buf, size_t n, enum chk_kind k,
			  ccdma_addr_t dma, const void *key)
{
	if (k == CHK_LIST)
		ccdma_snprintf(buf, n, "chunk list %p", key);
	else
		ccdma_snprintf(buf, n, "%#llx", (unsigned long long)dma);
	return buf;
}

int ccdma_chk_unmap(struct ccdma_dev *d, enum chk_kind k, ccdma_addr_t dma,
		    const void *key, size_t len, unsigned dir, const char *file,
		    int line)
{
	const char *what = k == CHK_COHERENT ? "free_coherent" :
			   k == CHK_LIST ? "unmap_chunks" : "unmap_single";
	struct rec **pp, *m;
	char t[48];

	ccdma_mutex_lock(&chk.lock);
	drain_events();
	pp = find_slot(d, k, dma, key);
	m = *pp;
	if (!m) {
		const struct grave *g = find_grave(d, k, dma, key);

		if (g) {
			struct rec gm = { .file = g->file, .line = g->line,
					  .dma = g->dma, .len = len };

			report(CCDMA_DBG_DOUBLE_UNMAP, file, line, &gm, 0, 0,
			       "%s of %s: already unmapped", what,
			       target(t, sizeof(t), k, dma, key));
		} else {
			report(CCDMA_DBG_UNMAP_UNKNOWN, file, line, NULL, dma, len,
			       "%s of %s (%zu bytes): no such mapping on device %s",
			       what, target(t, sizeof(t), k, dma, key), len,
			       d->name);
		}
		ccdma_mutex_unlock(&chk.lock);
		return -EINVAL;
	}
	target(t, sizeof(t), k, m->dma, key);
	if (m->len != len)
		report(CCDMA_DBG_UNMAP_SIZE, file, line, m, 0, 0,
		       "%s of %s with size %zu; it was mapped with %zu", what, t,
		       len, m->len);
	if (m->dir != dir)
		report(CCDMA_DBG_UNMAP_DIR, file, line, m, 0, 0,
		       "%s of %s with direction %s; it was mapped %s", what, t,
		       ccdma_dir_name(dir), ccdma_dir_name(m->dir));
	if (!m->checked)
		report(CCDMA_DBG_UNCHECKED, file, line, m, 0, 0,
		       "%s of %s: the result of the map was never checked "
		       "with ccdma_mapping_error()", what, t);
	rec_remove(m);
	ccdma_mutex_unlock(&chk.lock);
	return 0;
}

/* The mapping a sync names: by its handle, or (single mappings) by an
 * address inside it, when *off is then made relative to its start. */
static struct rec *find_window(struct ccdma_dev *d, enum chk_kind k,
			       ccdma_addr_t dma, const void *key, size_t *off,
			       size_t len)
{
	struct rec *m = *find_slot(d, k, dma, key);
	ccdma_addr_t at = dma + *off;

	if (m || k != CHK_SINGLE)
		return m;
	for (m = chk.live; m; m = m->lnext) {
		if (m->dev == d && m->kind == CHK_SINGLE &&
		    at - m->dma < m->len && len <= m->len - (at - m->dma)) {
			*off = (size_t)(at - m->dma);
			return m;
		}
	}
	return NULL;
}

int ccdma_chk_sync(struct ccdma_dev *d, enum chk_kind k, ccdma_addr_t dma,
		   const void *key, size_t off, size_t len, unsigned dir,
		   bool for_cpu, const char *file, int line)
{
	const char *what = for_cpu ? "sync_for_cpu" : "sync_for_device";
	struct rec *m;
	char t[48];

	ccdma_mutex_lock(&chk.lock);
	drain_events();
	m = find_window(d, k, dma, key, &off, len);
	if (!m) {
		report(CCDMA_DBG_SYNC_OUTSIDE, file, line, NULL, dma + off, len,
		       "%s of %s+%zu (%zu bytes): no mapping of device %s holds "
		       "it", what, target(t, sizeof(t), k, dma, key), off, len,
		       d->name);
		ccdma_mutex_unlock(&chk.lock);
		return -EINVAL;
	}
	target(t, sizeof(t), k, m->dma, key);
	if (off > m->len || len > m->len - off) {
		report(CCDMA_DBG_SYNC_OUTSIDE, file, line, m, 0, 0,
		       "%s of %zu bytes at offset %zu of %s: outside the %zu "
		       "mapped bytes", what, len, off, t, m->len);
		ccdma_mutex_unlock(&chk.lock);
		return -EINVAL;
	}
	if (m->dir != dir && m->dir != CCDMA_BIDIRECTIONAL)
		report(CCDMA_DBG_SYNC_DIR, file, line, m, 0, 0,
		       "%s of %s with direction %s; it was mapped %s", what, t,
		       ccdma_dir_name(dir), ccdma_dir_name(m->dir));
	/* The library is about to copy between the buffer and the bounce:
	 * the pages must be accessible (for_device re-protects them after
	 * the copy, in ccdma_chk_handover()). */
	unprotect(m);
	ccdma_mutex_unlock(&chk.lock);
	return 0;
}

void ccdma_chk_handover(struct ccdma_dev *d, enum chk_kind k, ccdma_addr_t dma,
			const void *key, size_t off, size_t len)
{
	struct rec *m;

	ccdma_mutex_lock(&chk.lock);
	m = find_window(d, k, dma, key, &off, len);
	if (m && off <= m->len && len <= m->len - off)
		protect(m, off, len);
	ccdma_mutex_unlock(&chk.lock);
}

unsigned ccdma_chk_dev_destroy(struct ccdma_dev *d)
{
	struct rec *m, *next;
	unsigned n = 0;

	ccdma_mutex_lock(&chk.lock);
	drain_events();
	for (m = chk.live; m; m = next) {
		next = m->lnext;
		if (m->dev != d)
			continue;
		n++;
		report(CCDMA_DBG_LEAK, NULL, 0, m, 0, 0,
		       "device %s destroyed with a live %s of %zu bytes at %#llx",
		       d->name, m->kind == CHK_COHERENT ? "coherent allocation" :
		       m->kind == CHK_LIST ? "chunk-list mapping" : "mapping",
		       m->len, (unsigned long long)m->dma);
		unprotect(m);
		if (m->kind == CHK_SINGLE)
			ccdma_reclaim_single(d, m->dma, m->len, m->dir);
		else if (m->kind == CHK_COHERENT)
			(void)ccdma_reclaim_coherent(d, (void *)m->cpu, m->len);
		else
			ccdma_reclaim_chunks(d, (struct ccdma_seg_list *)(uintptr_t)m->key);
		rec_remove(m);
	}
	ccdma_mutex_unlock(&chk.lock);
	return n;
}
