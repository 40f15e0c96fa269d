/* SPDX-License-Identifier: MIT */
/*
 * ccdma-bench: what the subcommands share (see bench.h): medians, a timed
 * memcpy loop, and the --json / --quick / --help options.
 */
#define _POSIX_C_SOURCE 200809L

#include "bench.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double bench_median(const double *v, size_t n)
{
	double *t, m;

	if (!n)
		return NAN;
	t = malloc(n * sizeof(*t));
	if (!t)
		return NAN;
	memcpy(t, v, n * sizeof(*t));
	qsort(t, n, sizeof(*t), cmp_double);
	m = n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
	free(t);
	return m;
}

__attribute__((noinline)) uint64_t bench_time_memcpy(void *dst, const void *src,
						     size_t len, unsigned n)
{
	uint64_t t0 = bench_now_ns();

	for (unsigned i = 0; i < n; i++) {
		memcpy(dst, src, len);
		BENCH_CLOBBER(dst);
	}
	return bench_now_ns() - t0;
}

int bench_options(int argc, char **argv, const char *name,
		  void (*usage)(FILE *), bool *json, bool *quick)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			*json = true;
		} else if (!strcmp(argv[i], "--quick")) {
			*quick = true;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "ccdma-bench %s: unknown option '%s'\n", name,
				argv[i]);
			usage(stderr);
			return 2;
		}
	}
	return -1;
}

double bench_min(const double *v, size_t n)
{
	double m = v[0];

	for (size_t i = 1; i < n; i++)
		if (v[i] < m)
			m = v[i];
	return m;
}

double bench_max(const double *v, size_t n)
{
	double m = v[0];

	for (size_t i = 1; i < n; i++)
		if (v[i] > m)
			m = v[i];
	return m;
}

int bench_opt_uint(const char *prog, const char *opt, const char *v,
		   unsigned lo, unsigned hi, unsigned *out)
{
	char *end;
	unsigned long x = strtoul(v, &end, 10);

	if (end == v || *end || *v == '-' || x < lo || x > hi) {
		fprintf(stderr, "%s: %s takes %u..%u (not \"%s\")\n", prog, opt, lo,
			hi, v);
		return 2;
	}
	*out = (unsigned)x;
	return 0;
}

int bench_opt_seconds(const char *prog, const char *v, double hi, double *out)
{
	char *end;
	double x = strtod(v, &end);

	if (end == v || *end || !(x > 0) || x > hi) {
		fprintf(stderr, "%s: --seconds takes a number in (0, %g] (not \"%s\")\n",
			prog, hi, v);
		return 2;
	}
	*out = x;
	return 0;
}
