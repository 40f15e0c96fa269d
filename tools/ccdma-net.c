/* SPDX-License-Identifier: MIT */
/*
 * ccdma-net: virtio-net over the dma layer, against a vhost-user net
 * back-end.  `--rw echo`: frames carrying a sequence number and a pattern
 * go out and come back (ccdma-devsim --net, or dpdk-testpmd in io loop),
 * and each one is checked.  Without --socket it starts the back-end itself
 * (--backend devsim, the default, or dpdk).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "netjob.h"

struct cli {
	const char *socket, *devsim, *testpmd, *rw;
	bool dpdk, json, quiet, verify, zero_copy;
	enum ccdma_mode mode;
	uint32_t size;
	uint64_t count;
	unsigned window, batch, queues;
};

static void usage(FILE *f)
{
	fputs(
"usage: ccdma-net [options]\n"
"virtio-net over the dma layer against a vhost-user net back-end.\n"
"\n"
"  --rw MODE            echo (default): every frame sent comes back and\n"
"                       is checked (sequence number and pattern); tx: send\n"
"                       only (testpmd rxonly); rx: receive only (testpmd\n"
"                       txonly); tx and rx need --backend dpdk or --socket;\n"
"                       pingpong: one frame at a time, echoed and checked,\n"
"                       round-trip percentiles\n"
"  --verify             exit 3 when a frame was lost or never sent, duplicated,\n"
"                       reordered or corrupt (echo always counts them)\n"
"  --size BYTES         frame size, 64..9014 (default 64; above 1514 the\n"
"                       device's mergeable receive buffers carry it)\n"
"  --count N            frames to send (default 100000)\n"
"  --window N           frames in flight at most (default: what the\n"
"                       receive ring holds, at most 64)\n"
"  --batch N            frames per send call at most, 1..32 (default 32)\n"
"  --queues N           (echo) queue pairs, 1..8 (default 1): one thread\n"
"                       per pair, each echoing its share of --count; the\n"
"                       back-end started gets N pairs; more than one needs\n"
"                       MQ and CTRL_VQ from the device\n"
"  --zero-copy          (echo, rx) receive in place: frames lent in the\n"
"                       shared receive buffers (ccdma_vnet_recv_zc) and given\n"
"                       back, not copied out; 64 spare receive buffers\n"
"  --mode MODE          confidential (private frames, bounced; default)\n"
"                       or direct (frames in the device's shared memory)\n"
"  --socket PATH        a running back-end's vhost-user socket; without it\n"
"                       ccdma-net starts one:\n"
"  --backend B          devsim (ccdma-devsim --net, default) or dpdk\n"
"                       (dpdk-testpmd, forward-mode io, port-topology loop)\n"
"  --devsim PATH        the ccdma-devsim program\n"
"  --testpmd PATH       the dpdk-testpmd program (Debian: dpdk-dev)\n"
"  --json               one JSON object on stdout instead of the summary\n"
"  --quiet              no progress line on stderr\n"
"  -h, --help           this text\n"
"Exit status: 0 ok, 1 the run failed, 2 bad options or no back-end,\n"
"3 --verify found frames lost, never sent, duplicated, reordered or corrupt.\n", f);
}

static int bad(const char *opt, const char *val, const char *why)
{
	fprintf(stderr, "ccdma-net: %s %s: %s\nTry 'ccdma-net --help'.\n", opt,
		val, why);
	return 2;
}

static bool num(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi || *s == '-')
		return false;
	*out = v;
	return true;
}

enum { O_RW = 256, O_VERIFY, O_SIZE, O_COUNT, O_WINDOW, O_BATCH, O_MODE, O_SOCKET,
       O_BACKEND, O_DEVSIM, O_TESTPMD, O_JSON, O_QUIET, O_ZC, O_QUEUES };

static int parse(struct cli *c, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "rw", required_argument, 0, O_RW },
		{ "verify", no_argument, 0, O_VERIFY },
		{ "size", required_argument, 0, O_SIZE },
		{ "count", required_argument, 0, O_COUNT },
		{ "window", required_argument, 0, O_WINDOW },
		{ "batch", required_argument, 0, O_BATCH },
		{ "mode", required_argument, 0, O_MODE },
		{ "socket", required_argument, 0, O_SOCKET },
		{ "backend", required_argument, 0, O_BACKEND },
		{ "devsim", required_argument, 0, O_DEVSIM },
		{ "testpmd", required_argument, 0, O_TESTPMD },
		{ "json", no_argument, 0, O_JSON },
		{ "quiet", no_argument, 0, O_QUIET },
		{ "zero-copy", no_argument, 0, O_ZC },
		{ "queues", required_argument, 0, O_QUEUES },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	uint64_t v;
	int o;

	memset(c, 0, sizeof(*c));
	c->mode = CCDMA_MODE_CONFIDENTIAL;
	c->size = 64;
	c->count = 100000;
	c->rw = "echo";
	c->batch = NETJOB_BATCH_MAX;
	c->queues = 1;
	opterr = 0;
	while ((o = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		const char *a = optarg;

		switch (o) {
		case O_RW:
			if (strcmp(a, "echo") && strcmp(a, "tx") &&
			    strcmp(a, "rx") && strcmp(a, "pingpong"))
				return bad("--rw", a, "echo, tx, rx or pingpong");
			c->rw = a;
			break;
		case O_VERIFY: c->verify = true; break;
		case O_SIZE:
			if (!num(a, 64, 9014, &v))
				return bad("--size", a, "a frame size 64..9014");
			c->size = (uint32_t)v;
			break;
		case O_COUNT:
			if (!num(a, 1, 1ull << 40, &v))
				return bad("--count", a, "a number from 1");
			c->count = v;
			break;
		case O_WINDOW:
			if (!num(a, 1, 256, &v))
				return bad("--window", a, "a number 1..256");
			c->window = (unsigned)v;
			break;
		case O_BATCH:
			if (!num(a, 1, NETJOB_BATCH_MAX, &v))
				return bad("--batch", a, "a number 1..32");
			c->batch = (unsigned)v;
			break;
		case O_MODE:
			if (!strcmp(a, "confidential"))
				c->mode = CCDMA_MODE_CONFIDENTIAL;
			else if (!strcmp(a, "direct"))
				c->mode = CCDMA_MODE_DIRECT;
			else
				return bad("--mode", a, "confidential or direct");
			break;
		case O_SOCKET: c->socket = a; break;
		case O_BACKEND:
			if (!strcmp(a, "dpdk"))
				c->dpdk = true;
			else if (strcmp(a, "devsim"))
				return bad("--backend", a, "devsim or dpdk");
			break;
		case O_DEVSIM: c->devsim = a; break;
		case O_TESTPMD: c->testpmd = a; break;
		case O_JSON: c->json = true; break;
		case O_QUIET: c->quiet = true; break;
		case O_ZC: c->zero_copy = true; break;
		case O_QUEUES:
			if (!num(a, 1, 8, &v))
				return bad("--queues", a, "a number 1..8");
			c->queues = (unsigned)v;
			break;
		case 'h':
			usage(stdout);
			return 1;
		case ':':
			fprintf(stderr, "ccdma-net: option '%s' needs a value\n",
				argv[optind - 1]);
			return 2;
		default:
			fprintf(stderr, "ccdma-net: unknown option '%s'\nTry "
				"'ccdma-net --help'.\n", argv[optind - 1]);
			return 2;
		}
	}
	if ((!strcmp(c->rw, "tx") || !strcmp(c->rw, "rx")) && !c->dpdk &&
	    !c->socket)
		return bad("--rw", c->rw, "needs --backend dpdk or --socket "
			   "(ccdma-devsim --net only echoes)");
	if (c->queues > 1 && strcmp(c->rw, "echo"))
		return bad("--queues with --rw", c->rw,
			   "several queue pairs are for echo");
	if (c->zero_copy && strcmp(c->rw, "echo") && strcmp(c->rw, "rx"))
		return bad("--zero-copy with --rw", c->rw,
			   "zero-copy receive is for echo and rx");
	if (optind < argc) {
		fprintf(stderr, "ccdma-net: unexpected argument '%s'\n",
			argv[optind]);
		return 2;
	}
	return 0;
}

static void progress(const struct netjob_echo *e, void *arg)
{
	const struct cli *c = arg;
	double s = (double)e->ns / 1e9;

	fprintf(stderr, "\rccdma-net: echo %llu/%llu frames back, %.0f pps, "
		"lost %llu dup %llu reordered %llu corrupt %llu   ",
		(unsigned long long)e->received, (unsigned long long)c->count,
		s > 0 ? (double)e->received / s : 0.0,
		(unsigned long long)e->lost, (unsigned long long)e->duplicated,
		(unsigned long long)e->reordered, (unsigned long long)e->corrupt);
}

static void summary(const struct cli *c, const struct netjob *j,
		    const struct netjob_echo *e, const struct netjob_lat *l,
		    const char *backend)
{
	double s = (double)e->ns / 1e9, pps = s > 0 ? (double)e->received / s : 0;

	printf("ccdma-net: %s, %u-byte frames, %s mode%s, back-end %s\n", c->rw,
	       c->size, ccdma_mode_name(c->mode),
	       c->zero_copy ? ", zero-copy receive" : "", backend);
	if (c->queues > 1)
		printf("  queue pairs: %u of %u, one thread each\n",
		       j->info.queue_pairs, j->info.max_queue_pairs);
	printf("  device: features %#llx accepted of %#llx; queues of %u, "
	       "receive buffers of %u%s%s\n",
	       (unsigned long long)j->info.features,
	       (unsigned long long)j->info.offered, j->info.queue_size,
	       j->info.rx_buf_size, j->info.mrg_rxbuf ? ", mergeable" : "",
	       j->info.event_idx ? ", event-idx" : "");
	if (!strcmp(c->rw, "rx"))
		printf("  frames: %llu received (%llu bytes) in %.3f s: %.0f pps, "
		       "%.3f Gbit/s\n", (unsigned long long)e->received,
		       (unsigned long long)e->bytes, s, pps,
		       s > 0 ? (double)e->bytes * 8 / s / 1e9 : 0.0);
	else
		printf("  frames: %llu sent, %llu %s in %.3f s: %.0f pps, %.3f "
		       "Gbit/s%s (window %u)\n", (unsigned long long)e->sent,
		       (unsigned long long)e->received,
		       strcmp(c->rw, "tx") ? "back" : "used by the device", s,
		       pps, pps * c->size * 8 / 1e9,
		       strcmp(c->rw, "tx") ? " each way" : "", j->window);
	if (!strcmp(c->rw, "pingpong"))
		printf("  round trip (ns, %llu frames): min %llu p50 %llu p90 %llu "
		       "p99 %llu p99.9 %llu max %llu mean %llu\n",
		       (unsigned long long)l->count, (unsigned long long)l->min,
		       (unsigned long long)l->p50, (unsigned long long)l->p90,
		       (unsigned long long)l->p99, (unsigned long long)l->p999,
		       (unsigned long long)l->max, (unsigned long long)l->mean);
	printf("  batch %u: %llu send calls, at most %llu frames in one\n",
	       j->batch, (unsigned long long)e->sends,
	       (unsigned long long)e->max_burst);
	printf("  verify: lost %llu, duplicated %llu, reordered %llu, corrupt "
	       "%llu, never sent %llu\n", (unsigned long long)e->lost,
	       (unsigned long long)e->duplicated,
	       (unsigned long long)e->reordered, (unsigned long long)e->corrupt,
	       (unsigned long long)e->unsent);
	if (e->error)
		printf("  error: %s\n", strerror(-e->error));
}

static void json(const struct cli *c, const struct netjob *j,
		 const struct netjob_echo *e, const struct netjob_lat *l,
		 const char *backend, int rc)
{
	struct bench_json w;
	double s = (double)e->ns / 1e9, pps = s > 0 ? (double)e->received / s : 0;

	bench_json_begin(&w, stdout);
	bench_json_obj(&w, NULL);
	bench_json_str(&w, "rw", c->rw);
	bench_json_u64(&w, "size", c->size);
	bench_json_str(&w, "mode", ccdma_mode_name(c->mode));
	bench_json_bool(&w, "zero_copy", c->zero_copy);
	bench_json_u64(&w, "queue_pairs", c->queues);
	bench_json_str(&w, "backend", backend);
	bench_json_u64(&w, "features", j->info.features);
	bench_json_u64(&w, "offered", j->info.offered);
	bench_json_u64(&w, "window", j->window);
	bench_json_u64(&w, "batch", j->batch);
	bench_json_u64(&w, "sends", e->sends);
	bench_json_u64(&w, "max_burst", e->max_burst);
	bench_json_u64(&w, "sent", e->sent);
	bench_json_u64(&w, "received", e->received);
	bench_json_u64(&w, "bytes", e->bytes);
	bench_json_u64(&w, "lost", e->lost);
	bench_json_u64(&w, "unsent", e->unsent);
	bench_json_u64(&w, "duplicated", e->duplicated);
	bench_json_u64(&w, "reordered", e->reordered);
	bench_json_u64(&w, "corrupt", e->corrupt);
	bench_json_num(&w, "seconds", s);
	bench_json_num(&w, "pps", pps);
	bench_json_num(&w, "gbit_s", pps * c->size * 8 / 1e9);
	if (!strcmp(c->rw, "pingpong")) {
		bench_json_u64(&w, "lat_count", l->count);
		bench_json_u64(&w, "lat_min_ns", l->min);
		bench_json_u64(&w, "lat_p50_ns", l->p50);
		bench_json_u64(&w, "lat_p90_ns", l->p90);
		bench_json_u64(&w, "lat_p99_ns", l->p99);
		bench_json_u64(&w, "lat_p999_ns", l->p999);
		bench_json_u64(&w, "lat_max_ns", l->max);
		bench_json_u64(&w, "lat_mean_ns", l->mean);
	}
	bench_json_str(&w, "error", e->error ? strerror(-e->error) : "");
	bench_json_u64(&w, "exit", (uint64_t)rc);
	bench_json_end(&w);
	fputc('\n', stdout);
}

/* --queues N: one thread per queue pair, each echoing its share. */
struct pair_run {
	struct netjob j;
	const struct cli *c;
	uint64_t count;
	struct netjob_echo e;
	int rc;
};

static void *pair_thread(void *arg)
{
	struct pair_run *p = arg;

	p->rc = netjob_echo(&p->j, p->c->size, p->count, 10000, &p->e, NULL,
			    NULL);
	return NULL;
}

static int echo_pairs(const struct cli *c, struct netjob *base,
		      struct netjob_echo *e)
{
	struct pair_run *p = calloc(c->queues, sizeof(*p));
	pthread_t *t = calloc(c->queues, sizeof(*t));
	unsigned i, opened = 0, started = 0;
	int rc = 0;

	memset(e, 0, sizeof(*e));
	if (!p || !t) {
		free(p);
		free(t);
		e->error = -ENOMEM;
		return -1;
	}
	for (i = 0; i < c->queues && !rc; i++) {
		p[i].c = c;
		p[i].count = c->count / c->queues + (i < c->count % c->queues);
		rc = i ? netjob_open_pair(&p[i].j, base, i) : 0;
		if (!rc)
			opened++;
	}
	/* Pair 0 runs on the base job itself. */
	if (!rc)
		p[0].j = *base;
	for (i = 0; !rc && i < c->queues; i++) {
		if (pthread_create(&t[i], NULL, pair_thread, &p[i])) {
			rc = -EAGAIN;
			break;
		}
		started++;
	}
	for (i = 0; i < started; i++) {
		pthread_join(t[i], NULL);
		e->sent += p[i].e.sent;
		e->received += p[i].e.received;
		e->lost += p[i].e.lost;
		e->unsent += p[i].e.unsent;
		e->duplicated += p[i].e.duplicated;
		e->reordered += p[i].e.reordered;
		e->corrupt += p[i].e.corrupt;
		e->sends += p[i].e.sends;
		if (p[i].e.max_burst > e->max_burst)
			e->max_burst = p[i].e.max_burst;
		if (p[i].e.ns > e->ns)
			e->ns = p[i].e.ns;
		if (p[i].rc < 0 && !e->error)
			e->error = p[i].e.error;
		if (p[i].rc && !rc)
			rc = p[i].rc;
	}
	for (i = 1; i < opened; i++)
		netjob_close(&p[i].j);
	if (rc < 0 && !e->error)
		e->error = rc;
	free(p);
	free(t);
	return rc < 0 ? -1 : rc;
}

int main(int argc, char **argv)
{
	struct ccdma_vnet_config vc;
	struct blkjob_proc d = { 0 };
	struct netjob_lat lat = { 0 };
	struct netjob_echo e;
	struct netjob j;
	struct cli c;
	char prog[PATH_MAX];
	const char *sock, *backend, *fwd;
	int rc;

	blkjob_prog = "ccdma-net";
	rc = parse(&c, argc, argv);
	if (rc)
		return rc == 1 ? 0 : 2;
	d.pid = -1;
	if (c.socket) {
		sock = c.socket;
		backend = c.socket;
	} else if (c.dpdk) {
		struct netjob_testpmd o;

		fwd = !strcmp(c.rw, "tx") ? "rxonly" :
		      !strcmp(c.rw, "rx") ? "txonly" : "io";
		netjob_testpmd_init(&o, fwd);
		o.queues = c.queues;
		if (netjob_testpmd_find(prog, sizeof(prog), c.testpmd) ||
		    netjob_testpmd_run(&d, prog, &o))
			return 2;
		sock = d.sock;
		backend = !strcmp(c.rw, "tx") ? "dpdk-testpmd (started, rxonly)" :
			  !strcmp(c.rw, "rx") ? "dpdk-testpmd (started, txonly)" :
						"dpdk-testpmd (started, io loop)";
	} else {
		char nq[16];
		const char *extra[] = { "--queues", nq, NULL };

		snprintf(nq, sizeof(nq), "%u", c.queues);
		if (netjob_devsim_start(&d, c.devsim, extra))
			return 2;
		sock = d.sock;
		backend = "ccdma-devsim --net (started)";
	}
	ccdma_vnet_config_init(&vc);
	vc.max_frame = c.size > 1514 ? c.size : 1514;
	if (c.zero_copy)
		vc.rx_spare_buffers = 64;
	vc.queue_pairs = c.queues;
	if (netjob_open(&j, sock, c.mode, &vc, vc.max_frame, c.window)) {
		if (d.dir[0])
			netjob_stop(&d);
		return 1;
	}
	j.batch = c.batch;
	j.zero_copy = c.zero_copy;
	if (!strcmp(c.rw, "tx"))
		rc = netjob_tx(&j, c.size, c.count, 10000, &e);
	else if (!strcmp(c.rw, "rx"))
		rc = netjob_rx(&j, c.count, 10000, &e);
	else if (!strcmp(c.rw, "pingpong"))
		rc = netjob_pingpong(&j, c.size, c.count, 10000, &e, &lat);
	else if (c.queues > 1)
		rc = echo_pairs(&c, &j, &e);
	else
		rc = netjob_echo(&j, c.size, c.count, 10000, &e,
				 c.quiet ? NULL : progress, &c);
	if (!c.quiet)
		fputc('\n', stderr);
	rc = rc < 0 ? 1 : (rc > 0 && c.verify) ? 3 : 0;
	if (c.json)
		json(&c, &j, &e, &lat, backend, rc);
	else
		summary(&c, &j, &e, &lat, backend);
	netjob_close(&j);
	if (d.dir[0])
		netjob_stop(&d);
	return rc;
}
