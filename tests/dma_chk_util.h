/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the chunk-list (dma_chunks_*) and ownership-checker
 * (dma_chk_*) tests: a small device, a log catcher, report look-up.
 */
#ifndef CCDMA_DMA_CHK_UTIL_H
#define CCDMA_DMA_CHK_UTIL_H

#include <signal.h>
#include <stdbool.h>
#include <sys/mman.h>

#include <ccdma/dma.h>

#include "test.h"

/* Pool config of every test device: 2 MiB made at once, no grower. */
static inline void chk_pool_config(struct ccdma_pool_config *pc, const char *name)
{
	test_config(pc, name);
	pc->initial_bytes = 2u << 20;
	pc->flags = CCDMA_POOL_F_NO_GROWER;
}

/* A device with its own small pool.  `cfg` may be NULL (defaults);
 * mode and pool_cfg are set here. */
static inline struct ccdma_dev *chk_dev_mode(const char *name,
					     struct ccdma_dev_config *cfg,
					     int mode)
{
	struct ccdma_pool_config pc;

	chk_pool_config(&pc, name);
	return test_dev(name, cfg, mode, &pc);
}

static inline struct ccdma_dev *chk_dev(const char *name,
					struct ccdma_dev_config *cfg)
{
	return chk_dev_mode(name, cfg, CCDMA_MODE_CONFIDENTIAL);
}

static inline uint64_t chk_in_use(struct ccdma_dev *d)
{
	struct ccdma_pool_stats st;

	REQUIRE(ccdma_pool_get_stats(ccdma_dev_pool(d), &st) == 0);
	return st.in_use_bytes;
}

/* The file name of a path (__FILE__ is absolute in CMake builds). */
static inline const char *chk_base(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* Evaluate `call` and store the line it is on in `l`: the line the _at
 * macros pass to the checker (keep the whole AT(...) on one line). */
#define AT(l, call) ((l) = __LINE__, (call))

/* Turn the checker on (page protection included) with no earlier reports;
 * devices created afterwards are checked. */
static inline void chk_on(unsigned extra)
{
	ccdma_debug_set(CCDMA_DEBUG_ON | CCDMA_DEBUG_PROTECT | extra);
	ccdma_debug_clear();
}

/*
 * Why the checker's page protection (a SIGSEGV handler) cannot work in
 * this process, or NULL.  AddressSanitizer lets a program install its own
 * SIGSEGV handler by default, but not with allow_user_segv_handler=0 in
 * ASAN_OPTIONS: it then reports the fault itself and ends the program.
 * An emulator may also get the fault wrong: the platform layer takes only
 * faults with si_code SEGV_ACCERR (an access a page's protection forbids)
 * for the checker's, and qemu-user 7.2 delivers every ppc64le data fault
 * as SEGV_MAPERR.  One protected page, touched once, tells.
 */
#if defined(__SANITIZE_ADDRESS__)
#define CHK_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CHK_ASAN 1
#endif
#endif

static struct {
	int done;
	volatile int code;
	void *page;
	char why[200];
} chk_probe;

static inline void chk_probe_fault(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	chk_probe.code = si->si_code;
	mprotect(chk_probe.page, ccdma_page_size(), PROT_READ | PROT_WRITE);
}

static inline const char *chk_segv_misreported(void)
{
	struct sigaction sa, old;

	if (chk_probe.done)
		return chk_probe.why[0] ? chk_probe.why : NULL;
	chk_probe.done = 1;
	chk_probe.page = mmap(NULL, ccdma_page_size(), PROT_NONE,
			      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	REQUIRE(chk_probe.page != MAP_FAILED);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = chk_probe_fault;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	REQUIRE(sigaction(SIGSEGV, &sa, &old) == 0);
	chk_probe.code = 0;
	*(volatile unsigned char *)chk_probe.page = 1;
	REQUIRE(sigaction(SIGSEGV, &old, NULL) == 0);
	munmap(chk_probe.page, ccdma_page_size());
	if (chk_probe.code != SEGV_ACCERR)
		snprintf(chk_probe.why, sizeof(chk_probe.why),
			 "a write to a PROT_NONE page faults with si_code %d, "
			 "not SEGV_ACCERR (%d), as under qemu-user for ppc64le; "
			 "the checker's page protection needs SEGV_ACCERR",
			 chk_probe.code, SEGV_ACCERR);
	return chk_probe.why[0] ? chk_probe.why : NULL;
}

static inline const char *chk_segv_blocked(void)
{
#ifdef CHK_ASAN
	const char *o = getenv("ASAN_OPTIONS");
	const char *k = "allow_user_segv_handler=";

	o = o ? strstr(o, k) : NULL;
	if (o && (o[strlen(k)] == '0' || o[strlen(k)] == 'f'))
		return "AddressSanitizer keeps SIGSEGV to itself "
		       "(ASAN_OPTIONS allow_user_segv_handler=0), and the "
		       "checker's page protection needs it";
#endif
	return chk_segv_misreported();
}

/* ---- log catcher: counts error/warning lines, keeps the last one ----- */

static struct {
	unsigned errors, warnings;
	char last[512];
} chk_log;

static inline void chk_log_fn(void *arg, enum ccdma_log_level l, const char *m)
{
	(void)arg;
	if (l == CCDMA_LOG_ERROR)
		chk_log.errors++;
	else if (l == CCDMA_LOG_WARN)
		chk_log.warnings++;
	else
		return;
	snprintf(chk_log.last, sizeof(chk_log.last), "%s", m);
}

/* Catch the library's messages from now on (and forget earlier ones). */
static inline void chk_log_catch(void)
{
	chk_log.errors = 0;
	chk_log.warnings = 0;
	chk_log.last[0] = 0;
	ccdma_log_set_handler(chk_log_fn, NULL);
}

/* ---- checker reports -------------------------------------------------- */

static inline bool chk_ends_with(const char *s, const char *suffix)
{
	size_t n, m;

	if (!s || !suffix)
		return false;
	n = strlen(s);
	m = strlen(suffix);
	return n >= m && !strcmp(s + n - m, suffix);
}

/* The newest kept report of kind k into *r; false when there is none. */
static inline bool chk_last_report(enum ccdma_debug_kind k,
				   struct ccdma_debug_report *r)
{
	static struct ccdma_debug_report all[64];
	unsigned n = ccdma_debug_reports(all, 64);

	while (n--) {
		if (all[n].kind == k) {
			*r = all[n];
			return true;
		}
	}
	return false;
}

/* Kept reports of kind k. */
static inline unsigned chk_nreports(enum ccdma_debug_kind k)
{
	static struct ccdma_debug_report all[64];
	unsigned n = ccdma_debug_reports(all, 64), i, c = 0;

	for (i = 0; i < n; i++)
		c += all[i].kind == k;
	return c;
}

/*
 * Check the newest report of kind k: made by the call at `file`:`line`
 * (file NULL: no call site expected) for a mapping made at
 * `map_file`:`map_line` (NULL: none), and its message names the kind and
 * the call sites.
 */
#define CHK_REPORT(k, file, line, map_file, map_line)                        \
	chk_report_check(k, file, line, map_file, map_line, __FILE__, __LINE__)

static inline void chk_report_check(enum ccdma_debug_kind k, const char *file,
				    int line, const char *map_file,
				    int map_line, const char *tf, int tl)
{
	struct ccdma_debug_report r;
	char at[160];
	int before = test_failures;

	if (!chk_last_report(k, &r)) {
		fprintf(stderr, "%s:%d: no %s report kept\n", tf, tl,
			ccdma_debug_kind_name(k));
		test_failures++;
		return;
	}
	CHECK_EQ(r.kind, k);
	CHECK(strstr(r.msg, ccdma_debug_kind_name(k)) == r.msg);
	if (file) {
		CHECK(chk_ends_with(r.file, file));
		CHECK_EQ(r.line, line);
		snprintf(at, sizeof(at), "%s:%d", file, line);
		CHECK(strstr(r.msg, at) != NULL);
	} else {
		CHECK(r.file == NULL);
	}
	if (map_file) {
		CHECK(chk_ends_with(r.map_file, map_file));
		CHECK_EQ(r.map_line, map_line);
		snprintf(at, sizeof(at), "%s:%d", map_file, map_line);
		CHECK(strstr(r.msg, at) != NULL);
	} else {
		CHECK(r.map_file == NULL);
	}
	if (test_failures != before)
		fprintf(stderr, "%s:%d: (report checked above) %s\n", tf, tl, r.msg);
}

/* The start of every checker test: harness, checker on, a device named
 * `name` (default pool), log lines caught.  `buf` is the test's buffer
 * (its allocation is checked here). */
static inline struct ccdma_dev *chk_begin(const char *name, const void *buf)
{
	struct ccdma_dev *d;

	test_init();
	REQUIRE(buf);
	chk_on(0);
	d = chk_dev(name, NULL);
	chk_log_catch();
	return d;
}

#endif
