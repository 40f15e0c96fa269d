/* SPDX-License-Identifier: MIT */
/*
 * A device process never outlives the program that started it
 * (blkjob_spawn_wait, used by ccdma-blk, ccdma-bench blk and the tests).
 * A test that stopped on a failed REQUIRE used to leave its ccdma-devsim
 * running, which kept CTest waiting for the test's output until the
 * timeout.
 *
 * A child of this test starts ccdma-devsim, says its pid through a pipe and
 * exits at once, as a failed test does (exit, nothing stopped), or dies of
 * a signal.  The device inherits the write end of a second pipe (as does
 * qemu-user running it in a cross build); the read end sees end-of-file
 * when the device is gone (an event, no polling), bounded by an alarm that
 * fails the test.
 */
#include <fcntl.h>
#include <signal.h>

#include "backend_util.h"
#include "test.h"

static volatile pid_t device;   /* for on_alarm */

static void on_alarm(int sig)
{
	static const char msg[] = "e2e_devsim_orphan: the device outlived its "
				  "starter by 60 s\n";

	(void)sig;
	(void)!write(2, msg, sizeof(msg) - 1);
	/* It holds our output open: CTest would wait for it too. */
	if (device > 0)
		kill(device, SIGKILL);
	_exit(1);
}

/* The starter's way to end: 0 exit(1), 1 SIGKILL. */
static void orphan(const char *devsim, int how)
{
	struct backend b;
	int fds[2], alive[2], status;
	pid_t starter, dev;
	char c;
	ssize_t n;

	REQUIRE(pipe2(fds, O_CLOEXEC) == 0);
	REQUIRE(pipe(alive) == 0);   /* inherited by the device */
	starter = fork();
	REQUIRE(starter >= 0);
	if (starter == 0) {
		close(fds[0]);
		close(alive[0]);
		if (backend_start_devsim(&b, devsim, NULL))
			_exit(2);
		if (write(fds[1], &b, sizeof(b)) != (ssize_t)sizeof(b))
			_exit(2);
		if (how)
			raise(SIGKILL);
		exit(1);   /* as REQUIRE does: nothing stopped */
	}
	close(fds[1]);
	close(alive[1]);
	memset(&b, 0, sizeof(b));
	CHECK_EQ(read(fds[0], &b, sizeof(b)), (ssize_t)sizeof(b));
	close(fds[0]);
	dev = b.pid;
	device = dev;
	REQUIRE(waitpid(starter, &status, 0) == starter);
	CHECK(how ? WIFSIGNALED(status) : WIFEXITED(status) && WEXITSTATUS(status) == 1);
	REQUIRE(dev > 0);
	alarm(60);
	do
		n = read(alive[0], &c, 1);
	while (n < 0 && errno == EINTR);
	alarm(0);
	CHECK_EQ(n, 0);   /* end of file: no process holds the pipe */
	close(alive[0]);
	/* Its files; the process is gone (not our child to reap). */
	b.pid = 0;
	backend_stop(&b);
	printf("starter %s: device %d gone with it\n", how ? "killed" : "exited",
	       (int)dev);
}

int main(int argc, char **argv)
{
	test_init();
	backend_require("ccdma-devsim", argc > 2 ? argv[2] : NULL);
	signal(SIGALRM, on_alarm);
	orphan(argv[2], 0);
	orphan(argv[2], 1);
	return test_done("e2e_devsim_orphan");
}
