/* SPDX-License-Identifier: MIT */
/*
 * A hostile device process (issue 13, section 1): ccdma-devsim
 * --misbehave MODE attacks the driver while `ccdma-blk --verify` runs
 * against it with the ownership checker on (CCDMA_DEBUG=1).  The mode is
 * the third argument; tests/devsim_tests.cmake registers one test per
 * mode.
 *
 * For every mode the test checks that the mode really fired (the device's
 * log), that ccdma-blk exited with the status the mode calls for and said
 * why, that the checker reported nothing (no leaked, doubly unmapped or
 * unknown mapping), and, where the run may succeed, that every byte read
 * back was verified.  The driver never waits on a clock here except where
 * the mode is a stall (ccdma-blk's own 10 s limit).  docs/devsim.md has
 * the table of modes and outcomes.
 */
#include "blk_tool_util.h"

struct mode {
	const char *name;
	const char *devsim[6];  /* extra ccdma-devsim arguments */
	const char *blk[6];     /* extra ccdma-blk arguments */
	int status;             /* ccdma-blk's exit status */
	const char *said[3];    /* on ccdma-blk's stderr */
	const char *out;        /* on its stdout, or NULL */
	const char *dslog;      /* on ccdma-devsim's stderr, or NULL */
};

#define BROKEN "device marked broken"
#define WENT "the run failed: the device broke or went away"
#define VERIFIED "0 block(s) differ: every byte"
/* The driver gave up on a device that still answers: it stopped the ring
 * before scrubbing the ring and the bounces. */
#define STOPPED "ring 0 stopped by GET_VRING_BASE"

static const struct mode modes[] = {
	/* used ring: the device is marked broken, the run fails */
	{ "id-range", {0}, {0}, 1, { "used id out of range: " BROKEN, WENT },
	  NULL, STOPPED },
	{ "id-num", {0}, {0}, 1, { "used id out of range: " BROKEN, WENT },
	  NULL, STOPPED },
	{ "id-unposted", {0}, {0}, 1,
	  { "used id not in flight (completed twice, or never posted): " BROKEN,
	    WENT }, NULL, STOPPED },
	{ "double", {0}, {0}, 1, { BROKEN, WENT }, NULL, STOPPED },
	{ "idx-ahead", {0}, {0}, 1,
	  { "used index moved more than the ring size ahead: " BROKEN, WENT },
	  NULL, STOPPED },
	{ "idx-back", {0}, {0}, 1,
	  { "used index moved backwards: " BROKEN, WENT }, NULL, STOPPED },
	/* clamped to what was posted, counted, the data is good */
	{ "len-over", {0}, {0}, 0, {0},
	  "1 used length(s) above what was posted (clamped)", NULL },
	/* the read fails, not the device: bytes past the used length are
	 * never returned as data */
	{ "len-short", {0}, {0}, 1,
	  { "1 request(s) failed, the first with: Input/output error" },
	  NULL, NULL },
	/* the driver returns what the device had written when it completed
	 * the request: 0xa5, which the verification catches */
	{ "used-early", {0}, { "--iodepth", "1" }, 3,
	  { "is 0xa5, expected", "verification failed: 1 block(s) differ" },
	  NULL, NULL },
	/* status and data */
	{ "status-bad", {0}, {0}, 1, { "bad status byte: " BROKEN, WENT },
	  NULL, STOPPED },
	{ "status-none", {0}, {0}, 1, { "bad status byte: " BROKEN, WENT },
	  NULL, STOPPED },
	{ "late-write", {0}, { "--iodepth", "1" }, 0, {0}, VERIFIED, NULL },
	/* 64 bytes past the status byte land in the next head's scratch
	 * (request header, status): at depth 1 no request lives there.  At
	 * depth 8 the write may corrupt the header of a request the device
	 * has not read yet, which then fails (the device's right: the
	 * memory is shared); the far write is stopped by the region map. */
	{ "write-outside", {0}, { "--iodepth", "1" }, 0, {0}, VERIFIED, NULL },
	{ "read-unoffered", {0}, {0}, 0, {0}, VERIFIED, NULL },
	/* config space */
	/* after 20 completions: the driver keeps the config it validated
	 * (it reads it once, at setup; vhost-user tells it of no change) */
	{ "config-change", { "--misbehave-after", "20" }, {0}, 0, {0},
	  VERIFIED, NULL },
	/* what a field-by-field read of a changing config could take */
	{ "config-mix", {0}, {0}, 1,
	  { "seg_max 1 x size_max 512 bytes cannot carry one 4096-byte block",
	    "cannot set up the virtio-blk device" }, NULL, NULL },
	{ "capacity-0", {0}, {0}, 2, { "is beyond the device's 0 bytes" },
	  NULL, NULL },
	{ "capacity-huge", {0}, {0}, 1,
	  { "capacity of 9223372036854775808 sectors overflows a byte count",
	    "cannot set up the virtio-blk device" }, NULL, NULL },
	{ "blk-size-0", {0}, {0}, 1,
	  { "block size 0 is not a power of two from 512 to 65536",
	    "cannot set up the virtio-blk device" }, NULL, NULL },
	{ "blk-size-odd", {0}, {0}, 1,
	  { "block size 1000 is not a power of two from 512 to 65536",
	    "cannot set up the virtio-blk device" }, NULL, NULL },
	{ "seg-max-0", {0}, {0}, 1,
	  { "seg_max is 0", "cannot set up the virtio-blk device" },
	  NULL, NULL },
	/* size_max 0 means no limit of its own: the driver's defaults */
	{ "size-max-0", {0}, {0}, 0, {0}, VERIFIED, NULL },
	{ "num-queues-0", { "--queues", "2" }, {0}, 1,
	  { "num_queues 0 is not within 1 .. 2",
	    "cannot set up the virtio-blk device" }, NULL, NULL },
	{ "num-queues-huge", { "--queues", "2" }, {0}, 1,
	  { "num_queues 65535 is not within 1 .. 2",
	    "cannot set up the virtio-blk device" }, NULL, NULL },
	/* vhost-user protocol: the first reply, then one after the
	 * handshake (GET_CONFIG), the device broken */
	{ "reply-code", {0}, {0}, 1,
	  { "reply to GET_FEATURES has request code",
	    "the back-end broke the vhost-user protocol" }, NULL, NULL },
	{ "reply-size", { "--misbehave-after", "6" }, {0}, 1,
	  { "payload bytes (want", "device broken",
	    "cannot set up the virtio-blk device" }, NULL, NULL },
	{ "reply-fds", { "--misbehave-after", "6" }, {0}, 1,
	  { "carried 1 file descriptor(s); device broken",
	    "cannot set up the virtio-blk device" }, NULL, NULL },
	{ "ack-fail", {0}, {0}, 1, { "back-end refused", "(status 0x1)" },
	  NULL, NULL },
	{ "hangup", { "--misbehave-after", "6" }, {0}, 1,
	  { "back-end closed the connection", "device broken",
	    "cannot set up the virtio-blk device" }, NULL, NULL },
	{ "stall", { "--misbehave-after", "20" }, {0}, 1,
	  { "the device completed nothing in 10 s with 8 request(s) in flight",
	    "driver destroyed with requests in flight: " BROKEN }, NULL, NULL },
	{ "slow", { "--delay-us", "2000" }, { "--size", "256k" }, 0, {0},
	  VERIFIED, NULL },
	/* stopped with a kick pending (as under SIGSTOP) until the driver
	 * gives up: it cannot stop the ring (GET_VRING_BASE unanswered), so
	 * it takes its kick back; the resumed device finds no doorbell and
	 * leaves the scrubbed ring alone.  At the first kick: with EVENT_IDX
	 * a device that keeps up may never be kicked again (a CI run saw one
	 * kick for the whole 1 MiB, so "after 5" never fired). */
	{ "pause", { "--misbehave-after", "0" }, {0}, 1,
	  { "the device completed nothing in 10 s",
	    "GET_VRING_BASE: timed out", BROKEN }, NULL,
	  "doorbell empty: the ring is left alone" },
};

static const struct mode *find_mode(const char *name)
{
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (!strcmp(modes[i].name, name))
			return &modes[i];
	return NULL;
}

int main(int argc, char **argv)
{
	static const char *const env[] = { "CCDMA_DEBUG=1", NULL };
	const struct mode *m;
	struct tool t;
	char sock[128], dslog[128], fired[96];
	char *dv[24], *bv[24];
	int n = 0, k = 0, efd, st;
	pid_t ds;

	REQUIRE(argc > 3);
	m = find_mode(argv[3]);
	if (!m) {
		fprintf(stderr, "unknown mode '%s'\n", argv[3]);
		return 1;
	}
	tool_init(&t, argc, argv);
	snprintf(sock, sizeof(sock), "%s/vhost.sock", t.dir);
	snprintf(dslog, sizeof(dslog), "%s/devsim.err", t.dir);

	/* The device, its stderr in a pipe: wait for it to listen. */
	dv[n++] = argv[2];
	dv[n++] = (char *)"--socket";
	dv[n++] = sock;
	dv[n++] = (char *)"--size";
	dv[n++] = (char *)"8m";
	dv[n++] = (char *)"--misbehave";
	dv[n++] = (char *)m->name;
	for (int i = 0; m->devsim[i]; i++)
		dv[n++] = (char *)m->devsim[i];
	dv[n] = NULL;
	ds = tool_spawn(&t, dv, &efd, NULL);
	REQUIRE(tool_wait_line(efd, "listening on", dslog));

	/* The driver: write patterns, read them back, with 8 in flight. */
	bv[k++] = t.blk;
	bv[k++] = (char *)"--socket";
	bv[k++] = sock;
	bv[k++] = (char *)"--verify";
	bv[k++] = (char *)"--quiet";
	bv[k++] = (char *)"--iodepth";
	bv[k++] = (char *)"8";
	bv[k++] = (char *)"--size";
	bv[k++] = (char *)"1m";
	/* The mode's own, later, win. */
	for (int i = 0; m->blk[i]; i++)
		bv[k++] = (char *)m->blk[i];
	bv[k] = NULL;
	st = tool_wait(tool_spawn(&t, bv, NULL, env));

	kill(ds, SIGTERM);
	tool_drain(efd, dslog);
	CHECK_EQ(tool_wait(ds), 0);

	CHECK_EQ(st, m->status);
	for (int i = 0; i < 3 && m->said[i]; i++)
		CHECK(tool_has(t.err, m->said[i]));
	if (m->out)
		CHECK(tool_has(t.out, m->out));
	if (m->dslog)
		CHECK(tool_has(dslog, m->dslog));
	/* The checker saw every mapping undone once, none leaked. */
	CHECK(tool_lacks(t.err, "dma-debug"));
	/* A success is one of every byte, never of an unverified run. */
	if (m->status == 0)
		CHECK(tool_has(t.out, VERIFIED));
	/* The attack took place. */
	snprintf(fired, sizeof(fired), "ccdma-devsim: misbehave %s: ", m->name);
	CHECK(tool_has(dslog, fired));
	CHECK(tool_lacks(dslog, "fired 0 of"));

	unlink(dslog);
	unlink(sock);
	tool_fini(&t);
	return test_done(argv[3]);
}
