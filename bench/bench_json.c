/* SPDX-License-Identifier: MIT */
/*
 * ccdma-bench: a minimal JSON writer (see bench.h).
 */
#define _POSIX_C_SOURCE 200809L

#include "bench.h"

#include <math.h>

static void json_key(struct bench_json *j, const char *key)
{
	if (j->depth > 0) {
		if (j->need_comma[j->depth])
			fputc(',', j->f);
		j->need_comma[j->depth] = true;
		fprintf(j->f, "\n%*s", 2 * j->depth, "");
	}
	if (key) {
		fputc('"', j->f);
		for (const char *p = key; *p; p++) {
			if (*p == '"' || *p == '\\')
				fputc('\\', j->f);
			fputc(*p, j->f);
		}
		fputs("\": ", j->f);
	}
}

void bench_json_begin(struct bench_json *j, FILE *f)
{
	j->f = f;
	j->depth = 0;
	for (int i = 0; i < BENCH_JSON_DEPTH; i++)
		j->need_comma[i] = false;
}

void bench_json_obj(struct bench_json *j, const char *key)
{
	json_key(j, key);
	fputc('{', j->f);
	if (j->depth + 1 < BENCH_JSON_DEPTH)
		j->depth++;
	j->need_comma[j->depth] = false;
}

void bench_json_end(struct bench_json *j)
{
	if (j->depth > 0)
		j->depth--;
	fprintf(j->f, "\n%*s}", 2 * j->depth, "");
	if (j->depth == 0)
		fputc('\n', j->f);
}

void bench_json_num(struct bench_json *j, const char *key, double v)
{
	json_key(j, key);
	if (isfinite(v))
		fprintf(j->f, "%.6g", v);
	else
		fputs("null", j->f);
}

void bench_json_u64(struct bench_json *j, const char *key, uint64_t v)
{
	json_key(j, key);
	fprintf(j->f, "%llu", (unsigned long long)v);
}

void bench_json_str(struct bench_json *j, const char *key, const char *v)
{
	json_key(j, key);
	fputc('"', j->f);
	for (const char *p = v; *p; p++) {
		if (*p == '"' || *p == '\\')
			fputc('\\', j->f);
		if ((unsigned char)*p >= 0x20)
			fputc(*p, j->f);
	}
	fputc('"', j->f);
}

void bench_json_bool(struct bench_json *j, const char *key, bool v)
{
	json_key(j, key);
	fputs(v ? "true" : "false", j->f);
}
