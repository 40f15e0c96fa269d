/* SPDX-License-Identifier: MIT */
/*
 * ccdma-blk with --socket more than once (issue 14, section 4): several
 * ccdma-devsim devices driven at once through one shared bounce pool, or
 * --pool-per-device.
 *   - two and four devices on one pool, --verify, each device's 4 MiB
 *     written once on a pool that must grow during the job: exit 0; every
 *     device wrote its range and had every block of it compared with none
 *     differing; one pool: every
 *     device reports the same pool, its memory table holds the pool's
 *     regions and it was told of every region the pool added during the
 *     job (at least one);
 *   - the totals: I/Os the sum of the devices', and the bytes bounced to
 *     the devices equal to the bytes written (each pool counted once;
 *     they were counted once per job before);
 *   - --pool-per-device: two pools, each device's table its own pool's;
 *   - the human summary names each device and the shared pool;
 *   - refused with exit 2 and a message, before any I/O: --reconnect,
 *     --devsim, --disk-size, --linger, --plot, 65 sockets, the same
 *     socket twice, --pool-per-device with
 *     one --socket, a shared pool larger than a back-end's memory table,
 *     and more jobs than a device has queues.
 */
#include "blk_tool_util.h"

#define NDEV 4

static struct tool t;
static struct backend b[NDEV];

/* The JSON object of device k, and the totals after the devices. */
static const char *dev_json(const char *js, unsigned k)
{
	char key[16];
	const char *d = strstr(js, "\"devices\": {");

	snprintf(key, sizeof(key), "\"%u\": {", k);
	return d ? strstr(d, key) : NULL;
}

static const char *totals(const char *js)
{
	return strstr(js, "\"cpu_ns_per_io\"");
}

/* argv: ccdma-blk, --socket of the first n devices, then the rest. */
static int run_n(unsigned n, const char *const *rest)
{
	const char *args[64];
	unsigned a = 0;

	for (unsigned k = 0; k < n; k++) {
		args[a++] = "--socket";
		args[a++] = b[k].sock;
	}
	while (*rest && a < 63)
		args[a++] = *rest++;
	args[a] = NULL;
	return tool_blk(&t, args);
}

/* n devices on one pool that grows during the job, every block verified. */
static void shared(unsigned n)
{
	const char *js, *tot;
	double reads = 0, writes = 0, grows, regions, pool_bytes;

	CHECK_EQ(run_n(n, (const char *[]){ "--rw", "write", "--verify",
		 "--size", "4m", "--bs", "64k", "--iodepth", "4",
		 "--slot-size", "0", "--pool-region", "64k", "--pool-max", "2m",
		 "--pool-high-water", "64k", "--pool-idle-ms", "3600000",
		 "--json", "--quiet", NULL }), 0);
	js = tool_text(t.out);
	tot = totals(js);
	CHECK(tot != NULL);
	if (!tot)
		return;
	CHECK_EQ(tool_json_num(js, "device_count"), n);
	CHECK(tool_has(t.out, "\"pool_shared\": true"));
	CHECK(tool_has(t.out, "\"tables_settled\": true"));
	CHECK(tool_has(t.out, "\"result\": \"ok\""));
	CHECK_EQ(tool_json_num(tot, "pool_count"), 1);
	grows = tool_json_num(tot, "pool_region_grows");
	regions = tool_json_num(tot, "pool_regions");
	pool_bytes = tool_json_num(tot, "pool_bytes");
	CHECK(grows >= 1);
	for (unsigned k = 0; k < n; k++) {
		const char *d = dev_json(js, k);

		CHECK(d != NULL);
		if (!d)
			continue;
		/* 4 MiB written once in 64 KiB I/Os. */
		CHECK_EQ(tool_json_num(d, "writes"), 64);
		reads += tool_json_num(d, "reads");
		writes += tool_json_num(d, "writes");
		/* Every block of its 4 MiB read back and compared. */
		CHECK_EQ(tool_json_num(d, "verified_bytes"), 4.0 * 1048576.0);
		CHECK_EQ(tool_json_num(d, "verify_errors"), 0);
		CHECK(strstr(d, "\"verify_complete\": true") ==
		      strstr(d, "\"verify_complete\""));
		/* One pool: the same for each; each table holds it. */
		CHECK_EQ(tool_json_num(d, "pool_bytes"), pool_bytes);
		CHECK_EQ(tool_json_num(d, "pool_regions"), regions);
		CHECK_EQ(tool_json_num(d, "table_regions"), regions);
		CHECK_EQ(tool_json_num(d, "regions_added"), grows);
	}
	CHECK_EQ(tool_json_num(tot, "reads"), reads);
	CHECK_EQ(tool_json_num(tot, "writes"), writes);
	CHECK_EQ(tool_json_num(tot, "verify_errors"), 0);
	CHECK(tool_has(t.out, "\"verify_complete\": true"));
	CHECK(tool_all_lines(t.err, "ccdma-blk: "));
}

/* Exit 2, no summary, a message with the text. */
static void refused(unsigned n, const char *const *rest, const char *text)
{
	CHECK_EQ(run_n(n, rest), 2);
	CHECK_EQ(strlen(tool_text(t.out)), 0);
	CHECK(tool_has(t.err, text));
	CHECK(tool_all_lines(t.err, "ccdma-blk: "));
}

int main(int argc, char **argv)
{
	const char *js, *tot;
	char text[256];

	tool_init(&t, argc, argv);
	for (unsigned k = 0; k < NDEV; k++)
		REQUIRE(backend_start_devsim(&b[k], argv[2], (const char *[]){
			"--size", "16m", NULL }) == 0);

	shared(2);
	shared(NDEV);

	/* Bytes bounced towards the devices: what was written, once. */
	CHECK_EQ(run_n(2, (const char *[]){ "--rw", "randwrite", "--numjobs", "1",
		 "--slot-size", "0", "--size", "4m", "--json", "--quiet", NULL }), 0);
	tot = totals(tool_text(t.out));
	CHECK(tot && tool_json_num(tot, "bytes_written") == 8.0 * 1048576.0);
	CHECK(tot && tool_json_num(tot, "bounced_to_device_bytes") ==
		     8.0 * 1048576.0);

	/* A pool each. */
	CHECK_EQ(run_n(2, (const char *[]){ "--pool-per-device", "--rw", "randrw",
		 "--verify", "--size", "4m", "--json", "--quiet", NULL }), 0);
	js = tool_text(t.out);
	tot = totals(js);
	CHECK(tool_has(t.out, "\"pool_shared\": false"));
	CHECK(tot && tool_json_num(tot, "pool_count") == 2);
	for (unsigned k = 0; k < 2; k++) {
		const char *d = dev_json(js, k);

		CHECK(d && tool_json_num(d, "table_regions") ==
			   tool_json_num(d, "pool_regions"));
		CHECK(d && tool_json_num(d, "verified_bytes") > 0);
		CHECK(d && strstr(d, "\"verify_complete\": true") ==
			   strstr(d, "\"verify_complete\""));
		CHECK(d && tool_json_num(d, "verify_errors") == 0);
	}
	CHECK(tot && tool_json_num(tot, "pool_bytes") ==
		     tool_json_num(dev_json(js, 0), "pool_bytes") +
		     tool_json_num(dev_json(js, 1), "pool_bytes"));

	/* The summary: each device, the shared pool. */
	CHECK_EQ(run_n(2, (const char *[]){ "--rw", "randrw", "--verify", "--size",
		 "4m", "--quiet", NULL }), 0);
	snprintf(text, sizeof(text), "device 1 (%s)", b[1].sock);
	CHECK(tool_has(t.out, text));
	CHECK(tool_has(t.out, "2 devices, one shared pool"));
	CHECK(tool_has(t.out, "pool (shared by 2 devices)"));
	CHECK(tool_has(t.out, "every byte matched"));

	refused(2, (const char *[]){ "--reconnect", NULL },
		"--reconnect with 2 devices (--socket given 2 times): "
		"reconnecting is supported for one device only");
	refused(2, (const char *[]){ "--devsim", argv[2], NULL },
		"--devsim with 2 devices");
	refused(3, (const char *[]){ "--linger", "100", NULL },
		"--linger with 3 devices");
	refused(2, (const char *[]){ "--disk-size", "64m", NULL },
		"--disk-size with 2 devices");
	refused(2, (const char *[]){ "--log-every", "100", "--plot", "/tmp", NULL },
		"sampling is supported for one device only");
	{
		/* 65 devices: one more than the tool drives. */
		static char paths[65][24];
		const char *args[2 * 65 + 1];

		for (unsigned k = 0; k < 65; k++) {
			snprintf(paths[k], sizeof(paths[k]), "/nonexistent-%u", k);
			args[2 * k] = "--socket";
			args[2 * k + 1] = paths[k];
		}
		args[2 * 65] = NULL;
		CHECK_EQ(tool_blk(&t, args), 2);
		CHECK_EQ(strlen(tool_text(t.out)), 0);
		CHECK(tool_has(t.err, "/nonexistent-64"));
		CHECK(tool_has(t.err, "at most 64 devices"));
	}
	refused(1, (const char *[]){ "--pool-per-device", NULL },
		"--pool-per-device needs more than one --socket");
	refused(2, (const char *[]){ "--socket", b[0].sock, NULL },
		"the same socket twice");
	/* 64 regions of 64 KiB: more than ccdma-devsim's 32 memory slots. */
	refused(2, (const char *[]){ "--pool-region", "64k", "--pool-max", "4m",
		"--quiet", NULL }, "memory table takes 32");
	snprintf(text, sizeof(text), "2 job(s) on queues 0..1: the device at %s "
		 "has 1 queue(s)", b[0].sock);
	refused(2, (const char *[]){ "--numjobs", "2", "--quiet", NULL }, text);

	for (unsigned k = 0; k < NDEV; k++)
		CHECK_EQ(backend_stop(&b[k]), 0);
	tool_fini(&t);
	return test_done("blk_tool_devices");
}
