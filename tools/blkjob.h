/* SPDX-License-Identifier: MIT */
/*
 * The I/O engine shared by ccdma-blk and `ccdma-bench blk`: open a
 * virtio-blk device over vhost-user (spawning ccdma-devsim when no socket
 * is given), run one fio-like job on it, and report what it measured.
 */
#ifndef CCDMA_TOOLS_BLKJOB_H
#define CCDMA_TOOLS_BLKJOB_H

#include <ccdma/platform.h>
#include <ccdma/pool.h>
#include <ccdma/vhost.h>
#include <ccdma/virtio_blk.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <signal.h>
#include <sys/types.h>

enum blkjob_rw {
	BLKJOB_READ,
	BLKJOB_WRITE,
	BLKJOB_RANDREAD,
	BLKJOB_RANDWRITE,
	BLKJOB_RW,      /* sequential, reads and writes mixed */
	BLKJOB_RANDRW,  /* random, reads and writes mixed */
};

/* The program name that starts every message of the engine
 * ("ccdma-blk" unless the program sets it). */
extern const char *blkjob_prog;
/* One message line on stderr, after blkjob_prog and ": ". */
void blkjob_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* CLOCK_MONOTONIC in ns. */
uint64_t blkjob_now_ns(void);

int blkjob_parse_rw(const char *s, enum blkjob_rw *out);
const char *blkjob_rw_name(enum blkjob_rw rw);
/* "4k", "128K", "1m", "2g", "4096": bytes, or -1 when malformed. */
int blkjob_parse_size(const char *s, uint64_t *out);
/* bytes in the largest binary unit that holds it exactly ("64 MiB",
 * "4 KiB", "1536 bytes"), written into buf; returns buf. */
const char *blkjob_size_str(uint64_t bytes, char *buf, size_t len);

/* A device process this tool started (ccdma-devsim or qemu-storage-daemon). */
struct blkjob_proc {
	pid_t pid;
	char dir[64];
	char sock[104]; /* fits sun_path */
};

/*
 * Find the ccdma-devsim program to start, the one lookup of ccdma-blk,
 * `ccdma-bench blk` and the tests: `path` when given; else $CCDMA_DEVSIM;
 * else the first executable of: beside this program (an install, or the
 * build tree's tools/), the build tree's tools/ seen from a sibling folder
 * (bench/, tests/), then `ccdma-devsim` on PATH.  0 and the path in buf, or
 * -1 after printing where it looked.
 */
/* Clear *d and make a private folder /tmp/PREFIX-XXXXXX for its socket
 * (d->dir, d->sock = d->dir/vhost.sock).  0, or -1 after a message. */
int blkjob_make_dir(struct blkjob_proc *d, const char *prefix);
int blkjob_devsim_find(char *buf, size_t len, const char *path);

/*
 * Start ccdma-devsim (blkjob_devsim_find(path)) on a fresh socket with a
 * RAM disk of disk_bytes, and wait until it accepts connections.  0, or
 * -1 after printing why.
 */
int blkjob_devsim_start(struct blkjob_proc *d, const char *path,
			uint64_t disk_bytes, const char *const *extra_args);
/* The command line of qemu-storage-daemon (program `qsd`) exporting a
 * vhost-user-blk device with `queues` queues on socket `sock`: a file
 * disk (`image`), or a null-co disk of `bytes` (image NULL).  The strings
 * live in *a. */
struct blkjob_qsd_args {
	char blockdev[256], export[384];
};
void blkjob_qsd_argv(char *argv[6], struct blkjob_qsd_args *a, const char *qsd,
		     const char *image, uint64_t bytes, const char *sock,
		     unsigned queues);

/* Start qemu-storage-daemon (program `qsd`) exporting a null-co disk
 * (reads return zeroes, writes are dropped) of disk_bytes as a
 * vhost-user-blk device with `queues` queues.  0, or -1 after printing
 * why. */
int blkjob_qsd_start(struct blkjob_proc *d, const char *qsd,
		     uint64_t disk_bytes, unsigned queues);
/* 1 when a Unix socket at `path` accepts a connection (which is closed
 * at once), else 0. */
int blkjob_socket_accepts(const char *path);

/*
 * Start argv (argv[0] a program, searched in PATH when it has no slash)
 * and wait up to 10 s until the Unix socket `sock` accepts a connection
 * (sock NULL: not waited for).  0 and *pid, or -1
 * after printing why (nothing left running).
 */
int blkjob_spawn_wait(pid_t *pid, const char *sock, char *const argv[]);
/* CPU time of this process (every thread), ns; 0 when unreadable. */
uint64_t blkjob_self_cpu_ns(void);
/* CPU time of process pid (every thread alive now: the first field of
 * /proc/PID/task/TID/schedstat), ns; 0 when unreadable. */
uint64_t blkjob_proc_cpu_ns(pid_t pid);
/* SIGTERM, then SIGKILL after 5 s; reaps it.  Its exit status (128 + the
 * signal when killed), or -1 when there was no process. */
int blkjob_stop_pid(pid_t *pid);

/* Stop either (SIGTERM) and remove its socket.  Returns its exit status
 * (0 when it exited cleanly), or -1. */
int blkjob_devsim_stop(struct blkjob_proc *d);

/* One connection: front-end and driver. */
struct blkjob_dev {
	struct ccdma_vhost *vhost;
	struct ccdma_vblk *blk;
	struct ccdma_dev *dma;
	struct ccdma_vblk_info info;
	struct ccdma_vhost_info vinfo;
	enum ccdma_mode mode;
	const char *name;        /* the socket path given to blkjob_open */
};

/* Connect to `sock` in `mode` and set up the driver; `pool_cfg` is the
 * bounce pool's configuration (NULL: the front-end's defaults, see
 * ccdma_vhost_config).  Returns 0, or a
 * negative errno after printing a message that names the socket and says
 * what the error means for this connection (no socket, not a socket,
 * nobody listening, a back-end that hung up, broke the protocol, or
 * accepted but never answered). */
int blkjob_open(struct blkjob_dev *d, const char *sock, enum ccdma_mode mode,
		const struct ccdma_vblk_config *vcfg,
		const struct ccdma_pool_config *pool_cfg);
/* The same on an existing pool shared with other devices
 * (ccdma_vhost_config.pool): the pool must outlive the connection, and
 * its max_bytes must need no more regions than the back-end's memory
 * table takes (else -ENOSPC, after the message). */
int blkjob_open_shared(struct blkjob_dev *d, const char *sock,
		       enum ccdma_mode mode, const struct ccdma_vblk_config *vcfg,
		       struct ccdma_pool *pool);
void blkjob_close(struct blkjob_dev *d);

struct blkjob_opts {
	enum blkjob_rw rw;
	uint32_t bs;             /* bytes per I/O, a multiple of 512 */
	/* 0 (or bs): every I/O moves bs bytes.  Else sizes vary: each I/O
	 * moves bs << k bytes, k drawn uniformly so that every power of two
	 * from bs to bs_max is equally likely (bs_max / bs a power of two).
	 * Verification then tracks every bs-sized block on its own. */
	uint32_t bs_max;
	unsigned iodepth;        /* requests in flight */
	uint64_t size;           /* bytes of the device used (0: all) */
	double runtime_s;        /* > 0: run this long; 0: move `size` bytes */
	bool verify;             /* patterns written, read back, compared */
	unsigned rwmixread;      /* percent reads for rw/randrw (default 50) */
	unsigned queue;          /* the queue to use */
	/* Bytes from the device's start where the job's range begins (a
	 * multiple of bs); the range is `size` bytes, or up to the end. */
	uint64_t offset;
	uint64_t seed;
	bool progress;           /* a progress line on stderr each second */
	/* For benchmarks: time this many seconds first without counting. */
	double warmup_s;
	/* The application uses its data, as a real one would: it reads every
	 * byte a read returned and writes every byte before a write (in both
	 * modes, so it costs both the same CPU work). */
	bool touch;
	/* > 0: the device process; the timed phase also measures its CPU
	 * time (result.dev_cpu_ns). */
	pid_t dev_pid;
	/* A phase gives up (-ETIMEDOUT) when the device completes nothing
	 * for this long with requests in flight; 0: 10 s. */
	unsigned idle_limit_ms;
	/* Non-NULL: every log_every_ms of the timed phase, one row
	 * "t_s iops mib_s mean_latency_us pool_mib" (the caller writes any
	 * header). */
	FILE *log;
	unsigned log_every_ms;
	/* Non-NULL: the latencies of the timed phase are added to these
	 * BLKJOB_HIST_N counters (bucket i holds latencies from
	 * blkjob_hist_ns(i) up to blkjob_hist_ns(i + 1)), so that runs can
	 * be summed. */
	uint64_t *lat_hist;
};
void blkjob_opts_init(struct blkjob_opts *o);

/* The latency histogram: 16 linear steps per power of two of ns. */
#define BLKJOB_HIST_SUB 16
#define BLKJOB_HIST_N (64 * BLKJOB_HIST_SUB)
/* The smallest latency (ns) of bucket i (i < BLKJOB_HIST_N). */
uint64_t blkjob_hist_ns(unsigned i);

struct blkjob_lat {
	double mean_us, p50_us, p90_us, p99_us, p999_us, max_us;
};

struct blkjob_result {
	uint64_t reads, writes;             /* completed in the timed phase */
	uint64_t bytes_read, bytes_written;
	double elapsed_s;
	double iops, mib_s;
	struct blkjob_lat lat;              /* all I/Os of the timed phase */
	/* Verification: bytes compared, mismatching blocks, and the first. */
	uint64_t verified_bytes, verify_errors;
	uint64_t first_bad_offset;
	/* First failing request status (0: none) and how many failed. */
	int error;
	uint64_t failed;
	/* I/O started (the job was not refused at setup). */
	bool ran;
	/* Every phase ran to its end: not stopped by a signal, nor cut
	 * short by a failed request, a broken or silent device. */
	bool complete;
	/* --verify, complete, no request failed: every byte written was
	 * read back and compared (verify_errors says whether it matched). */
	bool verify_complete;
	/* CPU time in the timed phase, ns: this process's (every thread:
	 * the driver, the pool's grower), and the device process's (every
	 * thread; 0 without opts.dev_pid or when it cannot be read). */
	uint64_t cpu_ns, dev_cpu_ns;
	/* Bytes bounced each way in the timed phase. */
	uint64_t bounced_to_device, bounced_from_device;
	struct ccdma_pool_stats pool;       /* after the run */
	struct ccdma_vblk_stats drv;
};

/* Set (from a signal handler) to stop issuing; in-flight I/O completes. */
extern volatile sig_atomic_t blkjob_stop_requested;
/* Set (from a signal handler) to end a phase that runs for a time
 * (--runtime) now, as if its time were up: the run stays complete. */
extern volatile sig_atomic_t blkjob_end_requested;

/*
 * Run the job.  Returns 0 when every request succeeded and every compared
 * byte matched; -EIO when some request failed (r->error says how),
 * -EILSEQ on a verification mismatch, -ENODEV when the device broke,
 * -ETIMEDOUT when it stopped answering, another errno when a submit failed
 * (that error).  A job refused before any I/O (its message says why)
 * returns -EINVAL (options the device or the pool cannot serve: --bs,
 * --size, --iodepth, --mode direct limits), -EROFS (writes, or --verify,
 * on a read-only device) or -ENOMEM.  *r is filled up to the failure in
 * every case: elapsed time and rates of the timed phase as far as it ran.
 */
int blkjob_run(struct blkjob_dev *d, const struct blkjob_opts *o,
	       struct blkjob_result *r);

/*
 * Run `njobs` copies of the job at once, each on its own thread and its own
 * queue (o->queue + i), each on its own part of the range (o->offset,
 * o->size): the range split into njobs equal parts of whole --bs-max
 * blocks, so that verification stays exact.  Job i's seed is o->seed + i.
 * per[i] gets each job's result (its bounced bytes: the pool's, every
 * job's); *total the sum (I/Os, bytes, verified
 * bytes, differing blocks, failed requests), the bytes bounced over the
 * whole run (every phase), the longest elapsed time,
 * rates over it, latency percentiles over every I/O of every job, the
 * process's CPU time over the whole run (all phases), the first error, and
 * the pool and driver statistics after the run.  o->log, o->lat_hist and
 * o->progress are not used.  The driver is torn down (as blkjob_run does)
 * only after every job has ended.  Returns what blkjob_run would for the
 * first job that failed (in job order), or 0.  -EINVAL before any I/O when
 * the device has fewer queues than o->queue + njobs, or the range holds
 * fewer than njobs blocks.
 */
int blkjob_run_many(struct blkjob_dev *d, const struct blkjob_opts *o,
		    unsigned njobs, struct blkjob_result *per,
		    struct blkjob_result *total);

/*
 * blkjob_run_many on `ndevs` devices at once (several devices, on one pool
 * or each on its own): njobs jobs on each, all started together, one
 * thread each.  Device k's job i is per[k * njobs + i], on queue
 * o->queue + i and part i of that device's range, seed o->seed +
 * k * njobs + i.  dev_total (NULL, or ndevs entries) gets each device's
 * sum as blkjob_run_many's total (its latency over its jobs; cpu_ns 0;
 * pool: that device's pool; drv: its driver; bounced bytes: its pool's
 * over the whole run, so with a shared pool every device's).  *total: the
 * sum over every job, the process's CPU time over the whole run, latency
 * over every I/O, the bytes bounced each way over the whole run (every
 * phase; each pool counted once), devs[0]'s pool statistics (the shared
 * pool's when they share one) and the drivers' counters added up.  Returns what blkjob_run_many would for
 * the first failing job (device order, then job order), or 0; -EINVAL
 * before any I/O when a device cannot take the jobs (the message names
 * its socket) or ndevs is 0.
 */
int blkjob_run_devs(struct blkjob_dev *const *devs, unsigned ndevs,
		    const struct blkjob_opts *o, unsigned njobs,
		    struct blkjob_result *per, struct blkjob_result *dev_total,
		    struct blkjob_result *total);

#endif /* CCDMA_TOOLS_BLKJOB_H */
