/* SPDX-License-Identifier: MIT */
/*
 * ccdma-bench net: what bouncing costs a virtio-net driver over vhost-user,
 * against DPDK's own virtio-user front-end on the same back-end, and
 * against the copy the hardware must do.
 *
 * The back-end is DPDK's dpdk-testpmd with a net_vhost port, started by
 * the benchmark afresh for every run and pinned to one CPU: `rxonly` for the
 * transmit cases (it takes every frame), `txonly --txpkts=SIZE` for the
 * receive cases (it sends frames of SIZE bytes as fast as it can).  Each
 * case, 64 B and 1500 B frames each way, runs three front-ends in turn,
 * each on the other CPU:
 *   confidential  ccdma's driver (tools/netjob.c), frames in private
 *                 memory: every transmitted frame bounced into shared
 *                 memory, every received one copied out of it;
 *   direct        the same driver with the frames in the device's shared
 *                 memory: nothing bounced on transmit (receive still
 *                 copies each frame out once, in both modes);
 *   dpdk          DPDK's net_virtio_user in a second testpmd (`txonly` or
 *                 `rxonly`), a polling front-end that bounces nothing:
 *                 the anchor;
 *   zero_copy     (receive cases) confidential, with ccdma_vnet_recv_zc():
 *                 each frame lent in place and given back, not copied.
 * Per run:
 *   pps           frames the device used (transmit) or the front-end
 *                 received, per second.  ccdma: counted by the driver
 *                 over the timed run.  dpdk: the median of the Tx-pps or
 *                 Rx-pps testpmd prints each second, after the first;
 *   gbps          pps * size * 8;
 *   cpu_per_pkt_ns  CPU time of the front-end process over the timed run
 *                 per frame (dpdk: its CPU time per second / pps);
 *   dev_cpu_per_pkt_ns  the same for the back-end process (which polls:
 *                 one CPU whatever the rate, so the faster front-end
 *                 makes it cheaper per frame).
 * Per case and round: floor_ns, the cross-core copy of `ccdma-bench floor`
 * for the frame size (transmit: into shared memory the other core just
 * read; receive: out of shared memory the other core just wrote), and
 * tax_ns = cpu_per_pkt confidential - direct.  Figures are medians over
 * rounds, with the smallest and largest round.
 *
 * Targets (issue 15):
 *   net_direct_vs_dpdk_64   ccdma direct pps / dpdk pps, 64 B transmit, >= 0.8;
 *   net_conf_vs_direct_1500 confidential pps / direct pps, 1500 B, the
 *                           worse direction, >= 0.9;
 *   net_tax_vs_floor_1500   tax_ns / floor_ns, 1500 B, the worse
 *                           direction, <= 1.2.
 *
 * Sanity checks, counted as internal errors: a confidential transmit run
 * that bounced nothing, a direct one that bounced anything, a run that
 * moved no frame, a frame lost or damaged on transmit.
 */
#define _GNU_SOURCE

#include "bench.h"
#include "blkjob.h"
#include "netjob.h"

#include <ccdma/dma.h>
#include <ccdma/pool.h>
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_ROUNDS 15
#define NIMPL 4
enum { IMPL_CONF, IMPL_DIRECT, IMPL_DPDK, IMPL_ZC };
static const char *const impl_names[NIMPL] = { "confidential", "direct", "dpdk",
					       "zero_copy" };

struct ncase {
	const char *name;
	bool tx;          /* the front-end transmits (else it receives) */
	uint32_t size;    /* frame bytes */
};

static const struct ncase cases[] = {
	{ "tx_64", true, 64 },
	{ "tx_1500", true, 1500 },
	{ "rx_64", false, 64 },
	{ "rx_1500", false, 1500 },
};
#define NCASES (sizeof(cases) / sizeof(cases[0]))

struct case_result {
	double pps[NIMPL][MAX_ROUNDS];
	double cpu[NIMPL][MAX_ROUNDS];       /* front-end ns per frame */
	double dev_cpu[NIMPL][MAX_ROUNDS];   /* back-end ns per frame */
	double floor_ns[MAX_ROUNDS];
	double tax[MAX_ROUNDS];
	double tax_floor[MAX_ROUNDS];
	double conf_vs_direct[MAX_ROUNDS];
	double direct_vs_dpdk[MAX_ROUNDS];
	double zc_vs_dpdk[MAX_ROUNDS];
	uint64_t bounced[NIMPL];             /* to the device, all rounds */
};

static struct case_result results[NCASES];
static int internal_errors;
static const char *testpmd_path;
static int be_cpu = -1, fe_cpu = -1;

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ccdma-bench net [--json] [--quick] [--rounds N] [--seconds S]\n"
		"                       [--testpmd PATH]\n"
		"virtio-net over vhost-user against DPDK's testpmd (net_vhost): frames\n"
		"per second and CPU per frame of ccdma confidential (bounced), ccdma\n"
		"direct and DPDK's own virtio-user front-end, 64 B and 1500 B each way,\n"
		"beside the cross-core copy floor measured in the same run.\n"
		"Targets: net_direct_vs_dpdk_64 >= 0.8, net_conf_vs_direct_1500 >= 0.9,\n"
		"net_tax_vs_floor_1500 <= 1.2.  Needs dpdk-testpmd (Debian: dpdk-dev).\n");
}

/* The back-end's CPU, and the front-end's: the first two this process
 * may run on (one CPU: both on it). */
static void pick_cpus(void)
{
	cpu_set_t set;
	int i;

	if (sched_getaffinity(0, sizeof(set), &set))
		CPU_ZERO(&set);
	for (i = 0; i < CPU_SETSIZE; i++) {
		if (!CPU_ISSET(i, &set))
			continue;
		if (be_cpu < 0)
			be_cpu = i;
		else if (fe_cpu < 0)
			fe_cpu = i;
	}
	if (be_cpu < 0)
		be_cpu = 0;
	if (fe_cpu < 0)
		fe_cpu = be_cpu;
}

static int pin_self(int cpu, cpu_set_t *old)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(*old), old))
		return -errno;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) ? -errno : 0;
}

static int start_backend(struct blkjob_proc *be, const struct ncase *nc)
{
	struct netjob_testpmd o;
	char txpkts[32];
	const char *args[2] = { txpkts, NULL };

	netjob_testpmd_init(&o, nc->tx ? "rxonly" : "txonly");
	o.cpu = be_cpu;
	snprintf(txpkts, sizeof(txpkts), "--txpkts=%u", nc->size);
	if (!nc->tx)
		o.args = args;
	return netjob_testpmd_run(be, testpmd_path, &o);
}

/* One ccdma run: a short untimed warm-up that also sizes the timed run to
 * about `seconds`, then the timed run.  0 or -1 (counted). */
static int run_ccdma(const struct ncase *nc, const struct blkjob_proc *be,
		     enum ccdma_mode mode, bool zc, double seconds, double *pps,
		     double *cpu, double *dev_cpu, uint64_t *bounced)
{
	struct ccdma_vnet_config vc;
	const unsigned idle_ms = 3000;
	struct ccdma_pool_stats ps0, ps1;
	struct netjob_echo e;
	struct netjob j;
	uint64_t count = 20000, c0, c1, d0, d1;
	cpu_set_t old;
	int rc;

	if (pin_self(fe_cpu, &old))
		fprintf(stderr, "ccdma-bench net: cannot pin to CPU %d\n", fe_cpu);
	ccdma_vnet_config_init(&vc);
	vc.rx_spare_buffers = zc ? 64 : 0;
	rc = netjob_open(&j, be->sock, mode, &vc, nc->size > 64 ? nc->size : 64, 0);
	if (rc)
		goto out;
	j.zero_copy = zc;
	for (int phase = 0; phase < 2; phase++) {
		struct ccdma_pool *pool = ccdma_dev_pool(ccdma_vhost_dev(j.h));

		memset(&e, 0, sizeof(e));
		ccdma_pool_get_stats(pool, &ps0);
		c0 = blkjob_self_cpu_ns();
		d0 = blkjob_proc_cpu_ns(be->pid);
		rc = nc->tx ? netjob_tx(&j, nc->size, count, idle_ms, &e) :
			      netjob_rx(&j, count, idle_ms, &e);
		c1 = blkjob_self_cpu_ns();
		d1 = blkjob_proc_cpu_ns(be->pid);
		ccdma_pool_get_stats(pool, &ps1);
		if (rc < 0 || !e.received || !e.ns ||
		    (nc->tx && (e.lost || e.corrupt)) || (!nc->tx && e.corrupt)) {
			fprintf(stderr, "ccdma-bench net: %s %s: %s (received %llu of "
					"%llu, lost %llu, corrupt %llu)\n", nc->name,
				ccdma_mode_name(mode),
				rc < 0 ? strerror(-e.error) : "frames lost or damaged",
				(unsigned long long)e.received,
				(unsigned long long)count, (unsigned long long)e.lost,
				(unsigned long long)e.corrupt);
			rc = -1;
			break;
		}
		rc = 0;
		*pps = (double)e.received * 1e9 / (double)e.ns;
		if (phase == 0) {
			/* Size the timed run from the warm-up's rate. */
			double want = *pps * seconds;

			count = want > 20000 ? (uint64_t)want : 20000;
			continue;
		}
		*cpu = (double)(c1 - c0) / (double)e.received;
		*dev_cpu = d0 && d1 > d0 ? (double)(d1 - d0) / (double)e.received : 0;
		*bounced += ps1.bounced_to_device_bytes - ps0.bounced_to_device_bytes;
	}
	netjob_close(&j);
out:
	sched_setaffinity(0, sizeof(old), &old);
	if (rc)
		internal_errors++;
	return rc ? -1 : 0;
}

/* The per-second rates testpmd printed into its log ("Tx-pps:" or
 * "Rx-pps:" lines), in order; how many were read. */
static unsigned read_rates(const char *log, bool tx, double *v, unsigned max)
{
	const char *key = tx ? "Tx-pps:" : "Rx-pps:";
	char line[512];
	unsigned n = 0;
	FILE *f = fopen(log, "r");

	if (!f)
		return 0;
	while (n < max && fgets(line, sizeof(line), f)) {
		const char *p = strstr(line, key);

		if (p)
			v[n++] = strtod(p + strlen(key), NULL);
	}
	fclose(f);
	return n;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* The index of the first nonzero rate, or n. */
static unsigned first_nonzero(const double *v, unsigned n)
{
	unsigned i = 0;

	while (i < n && v[i] <= 0)
		i++;
	return i;
}

#define MAX_RATES 256

/* One run of DPDK's virtio-user front-end against the back-end: wait until
 * it forwards, then time `seconds` (at least 2 of its one-second rates).
 * 0 or -1 (counted). */
static int run_dpdk(const struct ncase *nc, const struct blkjob_proc *be,
		    double seconds, double *pps, double *cpu, double *dev_cpu)
{
	struct blkjob_proc fe;
	struct netjob_testpmd o;
	char txpkts[32], log[PATH_MAX];
	const char *args[2] = { txpkts, NULL };
	double v[MAX_RATES], rates[MAX_RATES];
	uint64_t t0, t1, c0, c1, d0, d1;
	unsigned n, i, k = 0, wait_ms = (unsigned)(seconds * 1000) + 2500;

	netjob_testpmd_init(&o, nc->tx ? "txonly" : "rxonly");
	o.cpu = fe_cpu;
	o.virtio_user = be->sock;
	o.stats_period = 1;
	snprintf(txpkts, sizeof(txpkts), "--txpkts=%u", nc->size);
	if (nc->tx)
		o.args = args;
	if (netjob_testpmd_run(&fe, testpmd_path, &o)) {
		internal_errors++;
		return -1;
	}
	netjob_testpmd_log(&fe, log, sizeof(log));
	/* Forwarding: a nonzero rate printed (at most 30 s). */
	for (i = 0; i < 600; i++) {
		n = read_rates(log, nc->tx, v, MAX_RATES);
		if (first_nonzero(v, n) < n)
			break;
		sleep_ms(50);
	}
	if (i == 600) {
		fprintf(stderr, "ccdma-bench net: %s: DPDK's virtio-user front-end "
				"moved no frame in 30 s (its log: %s)\n", nc->name, log);
		netjob_stop(&fe);
		internal_errors++;
		return -1;
	}
	t0 = blkjob_now_ns();
	c0 = blkjob_proc_cpu_ns(fe.pid);
	d0 = blkjob_proc_cpu_ns(be->pid);
	/* At least two full seconds after the first rate, so at least two
	 * rates that are not its partial first second. */
	sleep_ms(wait_ms);
	t1 = blkjob_now_ns();
	c1 = blkjob_proc_cpu_ns(fe.pid);
	d1 = blkjob_proc_cpu_ns(be->pid);
	n = read_rates(log, nc->tx, v, MAX_RATES);
	netjob_stop(&fe);
	/* The rates after the first nonzero one (a partial second). */
	for (i = first_nonzero(v, n) + 1; i < n; i++)
		rates[k++] = v[i];
	if (!k || !(c1 > c0) || t1 <= t0) {
		fprintf(stderr, "ccdma-bench net: %s: no rate or CPU time from DPDK's "
				"front-end\n", nc->name);
		internal_errors++;
		return -1;
	}
	*pps = bench_median(rates, k);
	if (!(*pps > 0)) {
		internal_errors++;
		return -1;
	}
	*cpu = (double)(c1 - c0) / ((double)(t1 - t0) / 1e9) / *pps;
	*dev_cpu = d0 && d1 > d0 ?
		   (double)(d1 - d0) / ((double)(t1 - t0) / 1e9) / *pps : 0;
	return 0;
}

static double measure_floor(const struct ncase *nc, bool quick)
{
	double out_ns, in_ns;
	int rc = bench_floor_cross(nc->size, 1, quick ? 2000 : 20000, &out_ns,
				   &in_ns);

	if (rc) {
		fprintf(stderr, "ccdma-bench net: floor of %u bytes: %s\n", nc->size,
			strerror(-rc));
		internal_errors++;
		return -1;
	}
	return nc->tx ? in_ns : out_ns;
}

static int run_case(unsigned k, unsigned rounds, double seconds, bool quick,
		    bool json)
{
	const struct ncase *nc = &cases[k];
	struct case_result *cr = &results[k];
	struct blkjob_proc be;

	for (unsigned r = 0; r < rounds; r++) {
		for (unsigned i = 0; i < NIMPL; i++) {
			/* Alternate which ccdma mode goes first; DPDK, then
			 * zero-copy (receive only), last. */
			unsigned m = i >= IMPL_DPDK ? i : (r & 1) ? 1 - i : i;
			int rc;

			if (m == IMPL_ZC && nc->tx)
				continue;
			/* A fresh back-end for every run: one that has served
			 * a ccdma connection served DPDK's front-end at less
			 * than half its rate afterwards (docs/performance.md). */
			if (start_backend(&be, nc)) {
				internal_errors++;
				return -1;
			}
			if (m == IMPL_DPDK)
				rc = run_dpdk(nc, &be, seconds, &cr->pps[m][r],
					      &cr->cpu[m][r], &cr->dev_cpu[m][r]);
			else
				rc = run_ccdma(nc, &be,
					       m == IMPL_DIRECT ? CCDMA_MODE_DIRECT :
								  CCDMA_MODE_CONFIDENTIAL,
					       m == IMPL_ZC, seconds, &cr->pps[m][r],
					       &cr->cpu[m][r],
					       &cr->dev_cpu[m][r], &cr->bounced[m]);
			netjob_stop(&be);
			if (rc)
				return -1;
		}
		cr->floor_ns[r] = measure_floor(nc, quick);
		cr->tax[r] = cr->cpu[IMPL_CONF][r] - cr->cpu[IMPL_DIRECT][r];
		cr->tax_floor[r] = cr->floor_ns[r] > 0 ? cr->tax[r] / cr->floor_ns[r] : 0;
		cr->conf_vs_direct[r] = cr->pps[IMPL_CONF][r] / cr->pps[IMPL_DIRECT][r];
		cr->direct_vs_dpdk[r] = cr->pps[IMPL_DIRECT][r] / cr->pps[IMPL_DPDK][r];
		cr->zc_vs_dpdk[r] = cr->pps[IMPL_ZC][r] / cr->pps[IMPL_DPDK][r];
		if (!json)
			fprintf(stderr, "  %-8s round %u: Mpps %.3f confidential, %.3f "
					"direct, %.3f dpdk, %.3f zero-copy; CPU/frame "
					"%.0f, %.0f, %.0f, %.0f ns; tax %.0f ns = %.2f x "
					"floor %.0f ns\n",
				nc->name, r + 1, cr->pps[0][r] / 1e6, cr->pps[1][r] / 1e6,
				cr->pps[2][r] / 1e6, cr->pps[3][r] / 1e6, cr->cpu[0][r],
				cr->cpu[1][r], cr->cpu[2][r], cr->cpu[3][r], cr->tax[r],
				cr->tax_floor[r], cr->floor_ns[r]);
	}
	if (nc->tx && !cr->bounced[IMPL_CONF]) {
		fprintf(stderr, "ccdma-bench net: %s: confidential mode bounced "
				"nothing\n", nc->name);
		internal_errors++;
	}
	if (cr->bounced[IMPL_DIRECT]) {
		fprintf(stderr, "ccdma-bench net: %s: direct mode bounced %llu bytes\n",
			nc->name, (unsigned long long)cr->bounced[IMPL_DIRECT]);
		internal_errors++;
	}
	return 0;
}

static unsigned case_index(const char *name)
{
	for (unsigned k = 0; k < NCASES; k++)
		if (!strcmp(cases[k].name, name))
			return k;
	return 0;
}

static void json_case(struct bench_json *j, unsigned k, unsigned rounds)
{
	const struct ncase *nc = &cases[k];
	struct case_result *cr = &results[k];

	bench_json_obj(j, nc->name);
	bench_json_str(j, "direction", nc->tx ? "tx" : "rx");
	bench_json_u64(j, "size", nc->size);
	for (unsigned m = 0; m < NIMPL; m++) {
		double pps = bench_median(cr->pps[m], rounds);

		if (m == IMPL_ZC && nc->tx)
			continue;
		bench_json_obj(j, impl_names[m]);
		bench_json_num(j, "pps", pps);
		bench_json_num(j, "pps_min", bench_min(cr->pps[m], rounds));
		bench_json_num(j, "pps_max", bench_max(cr->pps[m], rounds));
		bench_json_num(j, "gbps", pps * nc->size * 8 / 1e9);
		bench_json_num(j, "cpu_per_pkt_ns", bench_median(cr->cpu[m], rounds));
		bench_json_num(j, "dev_cpu_per_pkt_ns",
			       bench_median(cr->dev_cpu[m], rounds));
		bench_json_end(j);
	}
	bench_json_num(j, "floor_ns", bench_median(cr->floor_ns, rounds));
	bench_json_num(j, "tax_ns", bench_median(cr->tax, rounds));
	bench_json_num(j, "tax_vs_floor", bench_median(cr->tax_floor, rounds));
	bench_json_num(j, "tax_vs_floor_min", bench_min(cr->tax_floor, rounds));
	bench_json_num(j, "tax_vs_floor_max", bench_max(cr->tax_floor, rounds));
	bench_json_num(j, "conf_vs_direct", bench_median(cr->conf_vs_direct, rounds));
	bench_json_num(j, "direct_vs_dpdk", bench_median(cr->direct_vs_dpdk, rounds));
	if (!nc->tx)
		bench_json_num(j, "zero_copy_vs_dpdk", bench_median(cr->zc_vs_dpdk, rounds));
	bench_json_u64(j, "bounced_bytes_confidential", cr->bounced[IMPL_CONF]);
	bench_json_u64(j, "bounced_bytes_direct", cr->bounced[IMPL_DIRECT]);
	bench_json_end(j);
}

static double worse_min(double a, double b) { return a < b ? a : b; }
static double worse_max(double a, double b) { return a > b ? a : b; }

int bench_net_main(int argc, char **argv)
{
	unsigned rounds = 3, rounds_given = 0;
	double seconds = 2.0, seconds_given = 0;
	bool json = false, quick = false;
	char prog[PATH_MAX];
	const char *tp = NULL;
	double d64, c1500, t1500;
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--json"))
			json = true;
		else if (!strcmp(a, "--quick"))
			quick = true;
		else if (!strcmp(a, "--rounds") && i + 1 < argc) {
			if (bench_opt_uint("ccdma-bench net", a, argv[++i], 1,
					   MAX_ROUNDS, &rounds_given))
				return 2;
		} else if (!strcmp(a, "--seconds") && i + 1 < argc) {
			if (bench_opt_seconds("ccdma-bench net", argv[++i], 600,
					      &seconds_given))
				return 2;
		} else if (!strcmp(a, "--testpmd") && i + 1 < argc)
			tp = argv[++i];
		else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "ccdma-bench net: unknown option '%s'\n", a);
			usage(stderr);
			return 2;
		}
	}
	if (quick) {
		rounds = 1;
		seconds = 0.5;
	}
	if (rounds_given)
		rounds = rounds_given;
	if (seconds_given)
		seconds = seconds_given;
	if (netjob_testpmd_find(prog, sizeof(prog), tp))
		return 1;
	testpmd_path = prog;
	pick_cpus();
	if (!json)
		fprintf(stderr, "ccdma-bench net: %u round(s) of %.1f s per run; "
				"back-end on CPU %d, front-ends on CPU %d\n",
			rounds, seconds, be_cpu, fe_cpu);
	for (unsigned k = 0; k < NCASES; k++)
		if (run_case(k, rounds, seconds, quick, json))
			break;

	{
		struct case_result *t64 = &results[case_index("tx_64")];
		struct case_result *t15 = &results[case_index("tx_1500")];
		struct case_result *r15 = &results[case_index("rx_1500")];

		d64 = bench_median(t64->direct_vs_dpdk, rounds);
		c1500 = worse_min(bench_median(t15->conf_vs_direct, rounds),
				  bench_median(r15->conf_vs_direct, rounds));
		t1500 = worse_max(bench_median(t15->tax_floor, rounds),
				  bench_median(r15->tax_floor, rounds));
	}
	if (json) {
		struct bench_json j;

		bench_json_begin(&j, stdout);
		bench_json_obj(&j, NULL);
		bench_json_str(&j, "benchmark", "net");
		bench_json_str(&j, "backend", "dpdk-testpmd net_vhost");
		bench_json_u64(&j, "rounds", rounds);
		bench_json_num(&j, "seconds_per_run", seconds);
		bench_json_u64(&j, "backend_cpu", (uint64_t)be_cpu);
		bench_json_u64(&j, "frontend_cpu", (uint64_t)fe_cpu);
		bench_json_obj(&j, "cases");
		for (unsigned k = 0; k < NCASES; k++)
			json_case(&j, k, rounds);
		bench_json_end(&j);
		bench_json_num(&j, "net_direct_vs_dpdk_64", d64);
		bench_json_num(&j, "net_conf_vs_direct_1500", c1500);
		bench_json_num(&j, "net_tax_vs_floor_1500", t1500);
		bench_json_obj(&j, "targets");
		bench_json_num(&j, "net_direct_vs_dpdk_64", 0.8);
		bench_json_num(&j, "net_conf_vs_direct_1500", 0.9);
		bench_json_num(&j, "net_tax_vs_floor_1500", 1.2);
		bench_json_end(&j);
		bench_json_u64(&j, "internal_errors", (uint64_t)internal_errors);
		bench_json_end(&j);
		fputc('\n', stdout);
	} else {
		printf("ccdma-bench net: medians of %u round(s), %.1f s per run\n",
		       rounds, seconds);
		printf("%-8s %-12s %10s %8s %12s %12s\n", "case", "front-end", "Mpps",
		       "Gbit/s", "CPU/frame", "dev CPU/fr");
		for (unsigned k = 0; k < NCASES; k++)
			for (unsigned m = 0; m < NIMPL; m++) {
				double pps = bench_median(results[k].pps[m], rounds);

				if (m == IMPL_ZC && cases[k].tx)
					continue;
				printf("%-8s %-12s %10.3f %8.2f %9.0f ns %9.0f ns\n",
				       cases[k].name, impl_names[m], pps / 1e6,
				       pps * cases[k].size * 8 / 1e9,
				       bench_median(results[k].cpu[m], rounds),
				       bench_median(results[k].dev_cpu[m], rounds));
			}
		printf("net_direct_vs_dpdk_64   %6.3f (target >= 0.8)%s\n", d64,
		       d64 >= 0.8 ? "" : "  MISSED");
		printf("net_conf_vs_direct_1500 %6.3f (target >= 0.9)%s\n", c1500,
		       c1500 >= 0.9 ? "" : "  MISSED");
		printf("net_tax_vs_floor_1500   %6.3f (target <= 1.2)%s\n", t1500,
		       t1500 <= 1.2 ? "" : "  MISSED");
		if (internal_errors)
			printf("internal errors: %d\n", internal_errors);
	}
	return internal_errors ? 1 : 0;
}
