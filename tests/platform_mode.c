/* Mode: parse, names, CCDMA_MODE from the environment, unknown values are
 * a clear error, the API overrides the environment. */
#include "test.h"

static char last_msg[512];

static void capture(void *arg, enum ccdma_log_level l, const char *m)
{
	(void)arg;
	(void)l;
	snprintf(last_msg, sizeof(last_msg), "%s", m);
}

int main(void)
{
	enum ccdma_mode m = CCDMA_MODE_DIRECT;

	test_init();
	CHECK_EQ(ccdma_mode_parse("confidential", &m), 0);
	CHECK_EQ(m, CCDMA_MODE_CONFIDENTIAL);
	CHECK_EQ(ccdma_mode_parse("direct", &m), 0);
	CHECK_EQ(m, CCDMA_MODE_DIRECT);
	CHECK_EQ(ccdma_mode_parse("Direct", &m), -EINVAL);
	CHECK_EQ(ccdma_mode_parse("", &m), -EINVAL);
	CHECK_EQ(ccdma_mode_parse(NULL, &m), -EINVAL);
	CHECK_EQ(ccdma_mode_parse("direct", NULL), -EINVAL);
	CHECK(!strcmp(ccdma_mode_name(CCDMA_MODE_CONFIDENTIAL), "confidential"));
	CHECK(!strcmp(ccdma_mode_name(CCDMA_MODE_DIRECT), "direct"));
	CHECK(!strcmp(ccdma_mode_name((enum ccdma_mode)7), "invalid"));

	unsetenv("CCDMA_MODE");
	CHECK_EQ(ccdma_mode_get(&m), 0);
	CHECK_EQ(m, CCDMA_MODE_CONFIDENTIAL); /* the default */
	setenv("CCDMA_MODE", "direct", 1);
	CHECK_EQ(ccdma_mode_get(&m), 0);
	CHECK_EQ(m, CCDMA_MODE_DIRECT);

	ccdma_log_set_handler(capture, NULL);
	setenv("CCDMA_MODE", "plaintext", 1);
	m = CCDMA_MODE_CONFIDENTIAL;
	CHECK_EQ(ccdma_mode_get(&m), -EINVAL);
	CHECK_EQ(m, CCDMA_MODE_CONFIDENTIAL); /* untouched on error */
	CHECK(strstr(last_msg, "plaintext") != NULL);
	CHECK(strstr(last_msg, "confidential") != NULL);
	ccdma_log_set_handler(NULL, NULL);

	/* The API wins over the environment. */
	CHECK_EQ(ccdma_mode_set(CCDMA_MODE_DIRECT), 0);
	CHECK_EQ(ccdma_mode_get(&m), 0);
	CHECK_EQ(m, CCDMA_MODE_DIRECT);
	CHECK_EQ(ccdma_mode_set((enum ccdma_mode)5), -EINVAL);
	CHECK_EQ(ccdma_mode_get(NULL), -EINVAL);
	return test_done("platform_mode");
}
