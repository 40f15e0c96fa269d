/* SPDX-License-Identifier: MIT */
/*
 * Abort mode: with CCDMA_DEBUG_ABORT (ccdma_debug_set, or CCDMA_DEBUG=abort
 * in the environment) the first report ends the process with SIGABRT: a
 * double unmap, and a CPU write to a protected buffer (from the fault
 * handler).  A correct driver in abort mode runs to its end.  Also the
 * CCDMA_DEBUG variable: 1 turns the checker on with page protection, 0 or
 * garbage leave it off.  Each case runs in a forked child.
 */
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dma_chk_util.h"

enum { DOUBLE_UNMAP, CPU_WRITE, CLEAN, ENV_ABORT, ENV_ON, ENV_OFF, ENV_BAD };

static void child(int what)
{
	struct rlimit none = { 0, 0 };
	size_t page = ccdma_page_size();
	unsigned char *buf = aligned_alloc(page, 2 * page);
	ccdma_addr_t dma;
	struct ccdma_dev *d;

	setrlimit(RLIMIT_CORE, &none); /* no core files */
	ccdma_log_set_handler(quiet_log, NULL);
	if (!buf)
		_exit(2);
	switch (what) {
	case ENV_ABORT:
		setenv("CCDMA_DEBUG", "abort", 1);
		if (ccdma_debug_get() != (CCDMA_DEBUG_ON | CCDMA_DEBUG_PROTECT |
					  CCDMA_DEBUG_ABORT))
			_exit(4);
		break;
	case ENV_ON:
		setenv("CCDMA_DEBUG", "1", 1);
		_exit(ccdma_debug_get() == (CCDMA_DEBUG_ON | CCDMA_DEBUG_PROTECT) ? 0 : 4);
	case ENV_OFF:
		setenv("CCDMA_DEBUG", "0", 1);
		_exit(ccdma_debug_get() == 0 ? 0 : 4);
	case ENV_BAD:
		setenv("CCDMA_DEBUG", "yes please", 1);
		_exit(ccdma_debug_get() == 0 ? 0 : 4);
	default:
		ccdma_debug_set(CCDMA_DEBUG_ON | CCDMA_DEBUG_ABORT |
				(what == CPU_WRITE ? CCDMA_DEBUG_PROTECT : 0));
		break;
	}
	d = chk_dev("abort", NULL);
	dma = ccdma_map_single(d, buf, 2 * page, CCDMA_TO_DEVICE);
	if (ccdma_mapping_error(d, dma))
		_exit(2);
	if (what == CPU_WRITE)
		((volatile unsigned char *)buf)[page] = 1;
	if (ccdma_unmap_single(d, dma, 2 * page, CCDMA_TO_DEVICE))
		_exit(2);
	if (what != CLEAN)
		ccdma_unmap_single(d, dma, 2 * page, CCDMA_TO_DEVICE);
	if (ccdma_dev_destroy(d))
		_exit(2);
	_exit(0);
}

/* Run case `what` in a child: its wait status. */
static int run(int what)
{
	pid_t pid = fork();
	int st = 0;

	REQUIRE(pid >= 0);
	if (pid == 0)
		child(what);
	REQUIRE(waitpid(pid, &st, 0) == pid);
	return st;
}

static bool aborted(int st)
{
	return WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT;
}

static bool exited0(int st)
{
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

int main(void)
{
	int st;

	test_init();
	st = run(DOUBLE_UNMAP);
	CHECK(aborted(st));
	if (chk_segv_blocked()) {
		printf("dma_chk_abort: CPU write case skipped: %s\n",
		       chk_segv_blocked());
	} else {
		st = run(CPU_WRITE);
		CHECK(aborted(st));
	}
	st = run(ENV_ABORT);
	CHECK(aborted(st));
	st = run(CLEAN);
	CHECK(exited0(st));
	st = run(ENV_ON);
	CHECK(exited0(st));
	st = run(ENV_OFF);
	CHECK(exited0(st));
	st = run(ENV_BAD);
	CHECK(exited0(st));
	return test_done("dma_chk_abort");
}
