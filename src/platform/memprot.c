/* SPDX-License-Identifier: MIT */
/*
 * Placement of reservations below an address limit, page protection and
 * the fault hook used by the ownership checker (Linux).
 */
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include "platform/os.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

void *ccdma_os_reserve_below(size_t size, uint64_t limit)
{
	/* Candidates from the top of the allowed range down, on 2 MiB lines;
	 * never below 16 MiB (the binary, and mmap_min_addr) unless the
	 * limit forces it. */
	const uint64_t step_align = 2u << 20;
	uint64_t floor = 16u << 20, cand, step;
	int tries;

	if (!size || size > limit)
		return NULL;
	if (limit + 1 - size < floor)
		floor = ccdma_os_page_size() * 16;
	cand = (limit + 1 - size) & ~(step_align - 1);
	if (cand < floor)
		cand = (limit + 1 - size) & ~(uint64_t)(ccdma_os_page_size() - 1);
	step = size / 4 > step_align ? (size / 4) & ~(step_align - 1) : step_align;
	for (tries = 0; tries < 256 && cand >= floor; tries++) {
		void *want = (void *)(uintptr_t)cand;
		void *p = mmap(want, size, PROT_NONE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE |
			       MAP_FIXED_NOREPLACE, -1, 0);

		if (p == want)
			return p;
		if (p != MAP_FAILED)
			munmap(p, size); /* a kernel that took it as a hint */
		if (cand < step)
			break;
		cand -= step;
	}
	return NULL;
}

int ccdma_os_protect(void *addr, size_t len, int prot)
{
	int p = prot == CCDMA_PROT_RW ? PROT_READ | PROT_WRITE :
		prot == CCDMA_PROT_READ ? PROT_READ : PROT_NONE;

	return mprotect(addr, len, p) ? -errno : 0;
}

static ccdma_fault_fn fault_fn;
static struct sigaction old_segv;

static int fault_is_write(void *uc)
{
#if defined(__x86_64__)
	/* Page-fault error code bit 1: the access was a write. */
	const ucontext_t *u = uc;

	return (u->uc_mcontext.gregs[REG_ERR] & 2) ? 1 : 0;
#else
	(void)uc;
	return -1;
#endif
}

/* The faulting instruction from the signal frame; NULL on an architecture
 * this file does not know. */
static void *fault_pc(void *uc)
{
	const ucontext_t *u = uc;

#if defined(__x86_64__)
	return (void *)u->uc_mcontext.gregs[REG_RIP];
#elif defined(__i386__)
	return (void *)u->uc_mcontext.gregs[REG_EIP];
#elif defined(__aarch64__)
	return (void *)u->uc_mcontext.pc;
#elif defined(__powerpc64__)
	return (void *)u->uc_mcontext.gp_regs[32]; /* PT_NIP */
#elif defined(__s390x__)
	/* The kernel rewinds the PSW of a (suppressing) protection
	 * exception to the instruction itself. */
	return (void *)u->uc_mcontext.psw.addr;
#elif defined(__riscv) && __riscv_xlen == 64
	return (void *)u->uc_mcontext.__gregs[REG_PC];
#else
	(void)u;
	return NULL;
#endif
}

static void segv_handler(int sig, siginfo_t *si, void *uc)
{
	if (fault_fn && si->si_code == SEGV_ACCERR &&
	    fault_fn(si->si_addr, fault_is_write(uc), fault_pc(uc)))
		return;
	/* Not ours: hand it to whatever was there before. */
	if ((old_segv.sa_flags & SA_SIGINFO) && old_segv.sa_sigaction) {
		old_segv.sa_sigaction(sig, si, uc);
		return;
	}
	if (old_segv.sa_handler != SIG_DFL && old_segv.sa_handler != SIG_IGN &&
	    old_segv.sa_handler) {
		old_segv.sa_handler(sig);
		return;
	}
	/* Default: restore it and return; the access faults again and the
	 * process ends as it would have without us. */
	signal(SIGSEGV, SIG_DFL);
}

int ccdma_os_fault_handler_install(ccdma_fault_fn fn)
{
	struct sigaction sa;
	int rc = 0;

	ccdma_os_global_lock();
	if (!fault_fn) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = segv_handler;
		sa.sa_flags = SA_SIGINFO | SA_NODEFER;
		sigemptyset(&sa.sa_mask);
		if (sigaction(SIGSEGV, &sa, &old_segv))
			rc = -errno;
		else
			__atomic_store_n(&fault_fn, fn, __ATOMIC_RELEASE);
	}
	ccdma_os_global_unlock();
	return rc;
}

void ccdma_os_describe_code(const void *pc, char *buf, size_t len)
{
	const char *name, *p;
	Dl_info di;

	if (!len)
		return;
	buf[0] = 0;
	if (!pc || !dladdr(pc, &di) || !di.dli_fname || !di.dli_fbase)
		return;
	name = di.dli_fname;
	for (p = name; *p; p++)
		if (*p == '/')
			name = p + 1;
	if (!*name)
		name = "?";
	/* Keep the offset whole: cut a long name from its start. */
	if (strlen(name) > 48)
		name += strlen(name) - 48;
	snprintf(buf, len, "%s+%#lx", name,
		 (unsigned long)((uintptr_t)pc - (uintptr_t)di.dli_fbase));
}

void ccdma_os_write_err_raw(const char *s, size_t len)
{
	while (len) {
		ssize_t n = write(2, s, len);

		if (n <= 0)
			return;
		s += n;
		len -= (size_t)n;
	}
}

_Noreturn void ccdma_os_abort(void)
{
	abort();
}
