/* SPDX-License-Identifier: MIT */
/* The confidentiality mode: configuration first, then CCDMA_MODE.
 * Portable: no OS call and no libc (the freestanding core keeps it). */
#include <ccdma/platform.h>

#include "platform/os.h"

static int mode_set = -1; /* -1: not set by API */

int ccdma_mode_parse(const char *s, enum ccdma_mode *out)
{
	if (!s || !out)
		return -EINVAL;
	if (!ccdma_strcmp(s, "confidential")) {
		*out = CCDMA_MODE_CONFIDENTIAL;
		return 0;
	}
	if (!ccdma_strcmp(s, "direct")) {
		*out = CCDMA_MODE_DIRECT;
		return 0;
	}
	return -EINVAL;
}

const char *ccdma_mode_name(enum ccdma_mode m)
{
	switch (m) {
	case CCDMA_MODE_CONFIDENTIAL:
		return "confidential";
	case CCDMA_MODE_DIRECT:
		return "direct";
	}
	return "invalid";
}

int ccdma_mode_set(enum ccdma_mode m)
{
	if (m != CCDMA_MODE_CONFIDENTIAL && m != CCDMA_MODE_DIRECT)
		return -EINVAL;
	__atomic_store_n(&mode_set, (int)m, __ATOMIC_RELAXED);
	return 0;
}

int ccdma_mode_get(enum ccdma_mode *out)
{
	int v = __atomic_load_n(&mode_set, __ATOMIC_RELAXED);
	const char *env;
	enum ccdma_mode m;

	if (!out)
		return -EINVAL;
	if (v >= 0) {
		*out = (enum ccdma_mode)v;
		return 0;
	}
	env = ccdma_os_getenv("CCDMA_MODE");
	if (!env || !*env) {
		*out = CCDMA_MODE_CONFIDENTIAL;
		return 0;
	}
	if (ccdma_mode_parse(env, &m) < 0) {
		ccdma_err("CCDMA_MODE=\"%s\" is not a mode; use \"confidential\" or \"direct\"",
			  env);
		return -EINVAL;
	}
	*out = m;
	return 0;
}
