/* SPDX-License-Identifier: MIT */
/*
 * --plot DIR for the benchmarks: each figure is three files in DIR, the
 * data (NAME.dat, whitespace-separated columns with a # header), the
 * gnuplot script that draws it (NAME.gp) and, when gnuplot is installed
 * (Debian gnuplot-nox), the picture (NAME.png).  Without gnuplot the data
 * and the script stay, and a message says how to draw them.
 */
#define _POSIX_C_SOURCE 200809L
#include "bench.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

const char *bench_plot_prog = "ccdma-bench";

int bench_plot_open(struct bench_plot *p, const char *dir, const char *name)
{
	char path[512];

	memset(p, 0, sizeof(*p));
	if (mkdir(dir, 0755) && errno != EEXIST) {
		fprintf(stderr, "%s: --plot %s: %s\n", bench_plot_prog, dir, strerror(errno));
		return -1;
	}
	p->width = 800;
	p->height = 450;
	snprintf(p->dir, sizeof(p->dir), "%s", dir);
	snprintf(p->name, sizeof(p->name), "%s", name);
	snprintf(path, sizeof(path), "%s/%s.dat", dir, name);
	p->dat = fopen(path, "w");
	if (!p->dat) {
		fprintf(stderr, "%s: %s: %s\n", bench_plot_prog, path, strerror(errno));
		return -1;
	}
	return 0;
}

int bench_plot_draw(struct bench_plot *p, const char *title, const char *fmt, ...)
{
	char path[600], cmd[1400];
	va_list ap;
	FILE *gp;
	int rc;

	if (!p->dat)
		return -1;
	fclose(p->dat);
	p->dat = NULL;
	snprintf(path, sizeof(path), "%s/%s.gp", p->dir, p->name);
	gp = fopen(path, "w");
	if (!gp) {
		fprintf(stderr, "%s: %s: %s\n", bench_plot_prog, path, strerror(errno));
		return -1;
	}
	/* Paths in the script are relative: it runs in DIR. */
	fprintf(gp, "set terminal pngcairo size %u,%u font \",9\" noenhanced\n"
		    "set output \"%s.png\"\n"
		    "set title \"%s\"\n"
		    "set key outside right\n"
		    "set grid ytics\n", p->width, p->height, p->name, title);
	va_start(ap, fmt);
	vfprintf(gp, fmt, ap);
	va_end(ap);
	fclose(gp);
	snprintf(cmd, sizeof(cmd), "command -v gnuplot >/dev/null 2>&1 || exit 127; "
		 "cd '%s' && gnuplot '%s.gp'", p->dir, p->name);
	rc = system(cmd);
	if (rc != -1 && WIFEXITED(rc) && WEXITSTATUS(rc) == 127) {
		fprintf(stderr, "%s: no gnuplot (Debian gnuplot-nox): "
			"%s/%s.dat and .gp written; draw with: cd %s && gnuplot %s.gp\n",
			bench_plot_prog, p->dir, p->name, p->dir, p->name);
		return 1;
	}
	if (rc == -1 || !WIFEXITED(rc) || WEXITSTATUS(rc)) {
		fprintf(stderr, "%s: gnuplot failed on %s/%s.gp\n", bench_plot_prog, p->dir,
			p->name);
		return -1;
	}
	fprintf(stderr, "%s: plot %s/%s.png\n", bench_plot_prog, p->dir, p->name);
	return 0;
}
