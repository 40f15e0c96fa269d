/* SPDX-License-Identifier: MIT */
/*
 * ccdma-bench: helpers shared by the benchmark subcommands.
 */
#ifndef CCDMA_BENCH_H
#define CCDMA_BENCH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "dma_mix.h"

/* Subcommands: return the process exit status. */
int bench_pool_main(int argc, char **argv);
int bench_stale_main(int argc, char **argv);
int bench_dma_main(int argc, char **argv);
int bench_busdma_main(int argc, char **argv);
int bench_blk_main(int argc, char **argv);
int bench_blk_sweep_main(int argc, char **argv);
int bench_net_main(int argc, char **argv);
int bench_floor_main(int argc, char **argv);
int bench_pairs_main(int argc, char **argv);

/*
 * The cross-core copy floor of `ccdma-bench floor` for one size, measured
 * now (n transfers each way, median ns per copy): *out_ns, a copy out of
 * shared memory the other core just wrote into private memory (what a
 * read's bounce must do); *in_ns, a copy from private memory into shared
 * memory the other core just read (a write's).  depth (>= 1) buffer pairs
 * are used in turn, and the device fills each depth - 1 transfers before
 * the driver copies it out: the working set of `depth` requests in flight
 * (depth 1: one pair, the data in the other core's cache).  Pins the
 * calling thread for the measurement and restores its affinity.  0 or
 * -errno.
 */
int bench_floor_cross(size_t len, unsigned depth, unsigned n, double *out_ns,
		      double *in_ns);

static inline uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* xorshift64 (dma_mix.h): the same sequence on every run. */
static inline uint64_t bench_rand(uint64_t *s)
{
	return dma_mix_rand(s);
}

/* Keep the compiler from merging or dropping copies into p. */
#define BENCH_CLOBBER(p) __asm__ __volatile__("" : : "r"(p) : "memory")

/* bench_util.c */
/* Median of n values (v is left untouched); NaN for n == 0. */
double bench_median(const double *v, size_t n);
/* A numeric option's value (decimal, lo..hi; --seconds: (0, hi]) into
 * *out: 0, or 2 (the exit status) after printing "PROG: OPT takes ...". */
int bench_opt_uint(const char *prog, const char *opt, const char *v,
		   unsigned lo, unsigned hi, unsigned *out);
int bench_opt_seconds(const char *prog, const char *v, double hi, double *out);
/* The smallest and the largest of n >= 1 values. */
double bench_min(const double *v, size_t n);
double bench_max(const double *v, size_t n);
/* ns for n memcpy calls of len bytes (a run-time length: libc's memcpy, as
 * the library's bounce copy is). */
uint64_t bench_time_memcpy(void *dst, const void *src, size_t len, unsigned n);
/* The options every subcommand takes: --json, --quick, --help.  -1 to go
 * on, or the exit status (0 after --help, 2 for an unknown option, with
 * `usage` printed). */
int bench_options(int argc, char **argv, const char *name,
		  void (*usage)(FILE *), bool *json, bool *quick);

/*
 * Minimal JSON writer: objects and scalar members, commas handled.
 * Non-finite numbers are written as null.
 */
#define BENCH_JSON_DEPTH 16
struct bench_json {
	FILE *f;
	int depth;
	bool need_comma[BENCH_JSON_DEPTH];
};

void bench_json_begin(struct bench_json *j, FILE *f);
void bench_json_obj(struct bench_json *j, const char *key);   /* key NULL: top */
void bench_json_end(struct bench_json *j);
void bench_json_num(struct bench_json *j, const char *key, double v);
void bench_json_u64(struct bench_json *j, const char *key, uint64_t v);
void bench_json_str(struct bench_json *j, const char *key, const char *v);
void bench_json_bool(struct bench_json *j, const char *key, bool v);

/*
 * --plot DIR (bench_plot.c): open DIR/NAME.dat for the figure's rows
 * (write them to p->dat), then draw: the gnuplot commands after the
 * common preamble (PNG terminal, output NAME.png, title) go to
 * DIR/NAME.gp and gnuplot runs it in DIR.  open: 0 or -1 (said why).
 * draw: 0 drawn, 1 no gnuplot (the data and script stay; said), -1 failed.
 * The picture is 800x450 unless the caller changes width and height
 * between open and draw.
 */
extern const char *bench_plot_prog;  /* starts its messages */
struct bench_plot {
	FILE *dat;
	char dir[256], name[64];
	unsigned width, height;  /* pixels */
};
int bench_plot_open(struct bench_plot *p, const char *dir, const char *name);
int bench_plot_draw(struct bench_plot *p, const char *title, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif /* CCDMA_BENCH_H */
