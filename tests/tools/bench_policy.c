// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * bench_policy.c - how long a policy change takes, measured in-process on
 * the real XDP object, loaded but attached nowhere and pinned nowhere (so
 * it leaves nothing behind). Part of `make bench` (scripts/bench.sh).
 *
 *   bench_policy [--policy FILE] [--updates N] [--hosts N] [--rules N]
 *                [--large-updates N]
 *
 * Prints one JSON object on stdout:
 *   update      a one-rule change of FILE (default segments/hospital.json),
 *               applied --updates times (default 200), alternating: per
 *               update comp_build + mapw_apply; median and p99 of the
 *               compile, the apply and their sum, and of the apply's phases
 *               (fill the inactive slot, the switch, the grace period,
 *               delete the old slot) and "in_force": from the start of
 *               the compile to the switch, when packets see the change;
 *   cold        a generated policy of --hosts host addresses (default
 *               100000) in 100 segments with 2 named devices each and
 *               --rules rules (default 10000): parse, compile, and the
 *               first apply onto empty maps;
 *   large       a one-rule change of that generated policy, --large-updates
 *               times (default 10);
 *   grace       mapw_grace_period() alone, --updates times.
 * Needs root (BPF). Times in microseconds unless the key says _ns.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "compile.h"
#include "config.h"
#include "log.h"
#include "mapwriter.h"
#include "segd.skel.h"
#include "source.h"

#define N_SEGS 100
#define N_SVCS 20
#define DEVS_PER_SEG 2

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Median and p99 (nearest rank) of v[0..n), sorted in place. */
static void stats(uint64_t *v, size_t n, uint64_t *med, uint64_t *p99)
{
	size_t r;

	qsort(v, n, sizeof(*v), cmp_u64);
	*med = n ? v[n / 2] : 0;
	r = (n * 99 + 99) / 100;
	*p99 = n ? v[(r ? r : 1) - 1] : 0;
}

/* Growable string. */
struct buf {
	char *s;
	size_t len, cap;
};

static int bprintf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int bprintf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->s ? b->s + b->len : NULL,
			      b->s ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0)
			return -EINVAL;
		if (b->s && b->len + (size_t)n < b->cap) {
			b->len += (size_t)n;
			return 0;
		}
		size_t cap = b->cap ? b->cap * 2 : 1 << 20;

		while (cap < b->len + (size_t)n + 1)
			cap *= 2;
		char *s = realloc(b->s, cap);

		if (!s)
			return -ENOMEM;
		b->s = s;
		b->cap = cap;
	}
}

/*
 * The generated hospital: N_SEGS segments seg-NNN, each with a /16, its
 * share of @hosts host addresses and DEVS_PER_SEG named devices (with a
 * MAC); N_SVCS tcp services; @rules rules segment -> segment, one service
 * each. @variant changes the service of rule 0 (a one-rule change).
 */
static char *gen_policy(size_t hosts, size_t rules, int variant)
{
	struct buf b = { 0 };
	size_t s, h, r, per = hosts / N_SEGS;
	int ret = 0;

	ret |= bprintf(&b, "{\n\"version\": 1,\n\"services\": {\n");
	for (s = 0; s < N_SVCS; s++)
		ret |= bprintf(&b, "%s\"svc-%zu\": [{ \"proto\": \"tcp\", \"ports\": [%zu] }]\n",
			       s ? "," : "", s, 1000 + s);
	ret |= bprintf(&b, "},\n\"segments\": {\n");
	for (s = 0; s < N_SEGS; s++) {
		ret |= bprintf(&b, "%s\"seg-%03zu\": { \"members\": { \"cidr\": [\"10.%zu.0.0/16\"], \"ipv4\": [",
			       s ? "," : "", s, s);
		for (h = 0; h < per; h++)
			ret |= bprintf(&b, "%s\"10.%zu.%zu.%zu\"", h ? "," : "",
				       s, 1 + h / 250, 1 + h % 250);
		ret |= bprintf(&b, "], \"devices\": [");
		for (h = 0; h < DEVS_PER_SEG; h++)
			ret |= bprintf(&b, "%s{ \"name\": \"dev-%03zu-%zu\", \"ipv4\": \"10.%zu.0.%zu\", \"mac\": \"02:00:00:%02zx:00:%02zx\" }",
				       h ? "," : "", s, h, s, 10 + h, s, h);
		ret |= bprintf(&b, "] } }\n");
	}
	ret |= bprintf(&b, "},\n\"rules\": [\n");
	for (r = 0; r < rules; r++) {
		size_t svc = (r + (r == 0 ? (size_t)variant : 0)) % N_SVCS;

		ret |= bprintf(&b, "%s{ \"name\": \"r-%zu\", \"from\": [\"seg-%03zu\"], \"to\": [\"seg-%03zu\"], \"services\": [\"svc-%zu\"] }\n",
			       r ? "," : "", r, r % N_SEGS, (r / N_SEGS) % N_SEGS, svc);
	}
	ret |= bprintf(&b, "]\n}\n");
	if (ret) {
		free(b.s);
		return NULL;
	}
	return b.s;
}

static char *read_file(const char *path)
{
	char *s = NULL;
	long n;
	FILE *f = fopen(path, "r");

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET))
		goto out;
	s = calloc(1, (size_t)n + 1);
	if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
		free(s);
		s = NULL;
	}
out:
	fclose(f);
	return s;
}

/* Parse one document; prints the first diagnostic on failure. */
static struct cfg_policy *parse(const char *name, const char *text)
{
	const char *names[1] = { name }, *texts[1] = { text };
	struct cfg_policy *cfg = NULL;
	struct src_docs *docs;
	struct cfg_diag *diag = calloc(1, sizeof(*diag));
	char line[1024];

	docs = src_from_strings(names, texts, 1);
	if (!docs || !diag) {
		free(diag);
		return NULL;
	}
	if (cfg_parse(docs, &cfg, diag)) {
		if (diag->n) {
			cfg_diag_format(diag, 0, line, sizeof(line));
			fprintf(stderr, "bench_policy: %s\n", line);
		}
		cfg = NULL;
	}
	free(diag);
	return cfg;
}

struct series {
	uint64_t *compile, *apply, *total, *fill, *sw, *grace, *purge;
	uint64_t *inforce;	/* compile + check + fill + switch */
	size_t n;
};

static int series_alloc(struct series *s, size_t n)
{
	memset(s, 0, sizeof(*s));
	s->compile = calloc(n, 8);
	s->apply = calloc(n, 8);
	s->total = calloc(n, 8);
	s->fill = calloc(n, 8);
	s->sw = calloc(n, 8);
	s->grace = calloc(n, 8);
	s->purge = calloc(n, 8);
	s->inforce = calloc(n, 8);
	return s->compile && s->apply && s->total && s->fill && s->sw &&
	       s->grace && s->purge && s->inforce ? 0 : -ENOMEM;
}

static void series_free(struct series *s)
{
	free(s->compile);
	free(s->apply);
	free(s->total);
	free(s->fill);
	free(s->sw);
	free(s->grace);
	free(s->purge);
	free(s->inforce);
}

static void emit_stat(const char *key, uint64_t *v, size_t n, bool ns)
{
	uint64_t med, p99;

	stats(v, n, &med, &p99);
	if (ns)
		printf("\"%s_median_ns\": %llu, \"%s_p99_ns\": %llu", key,
		       (unsigned long long)med, key, (unsigned long long)p99);
	else
		printf("\"%s_median_us\": %.1f, \"%s_p99_us\": %.1f", key,
		       med / 1e3, key, p99 / 1e3);
}

static void emit_series(struct series *s)
{
	printf("\"n\": %zu, ", s->n);
	emit_stat("compile", s->compile, s->n, false);
	printf(", ");
	emit_stat("apply", s->apply, s->n, false);
	printf(", ");
	emit_stat("total", s->total, s->n, false);
	printf(", ");
	emit_stat("in_force", s->inforce, s->n, false);
	printf(", ");
	emit_stat("fill", s->fill, s->n, false);
	printf(", ");
	emit_stat("switch", s->sw, s->n, true);
	printf(", ");
	emit_stat("grace", s->grace, s->n, false);
	printf(", ");
	emit_stat("purge", s->purge, s->n, false);
}

/* Alternate cfg[0] and cfg[1], @n times: comp_build + mapw_apply. */
static int run_updates(const struct mapw_fds *fds, struct cfg_policy *cfg[2],
		       size_t n, struct series *s)
{
	char err[512];
	size_t i;
	int ret;

	ret = series_alloc(s, n);
	if (ret)
		return ret;
	for (i = 0; i < n; i++) {
		struct comp_policy *p = NULL;
		struct mapw_timing t;
		uint64_t gen, t0, t1, t2;

		t0 = now_ns();
		ret = comp_build(cfg[i & 1], NULL, 0, NULL, 0, &p, err,
				 sizeof(err));
		t1 = now_ns();
		if (!ret)
			ret = mapw_apply(fds, p, &gen, err, sizeof(err));
		t2 = now_ns();
		comp_free(p);
		if (ret) {
			fprintf(stderr, "bench_policy: update %zu: %s\n", i, err);
			return ret;
		}
		mapw_last_timing(&t);
		s->compile[i] = t1 - t0;
		s->apply[i] = t2 - t1;
		s->total[i] = t2 - t0;
		s->fill[i] = t.fill_ns;
		s->sw[i] = t.switch_ns;
		s->grace[i] = t.grace_ns;
		s->purge[i] = t.purge_ns;
		s->inforce[i] = (t1 - t0) + t.check_ns + t.fill_ns + t.switch_ns;
		s->n++;
	}
	return 0;
}

static long arg_num(const char *opt, const char *v)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || *end || n < 1 || n > 10000000) {
		fprintf(stderr, "bench_policy: %s \"%s\": a number from 1 to 10000000\n",
			opt, v);
		exit(2);
	}
	return n;
}

int main(int argc, char **argv)
{
	const char *policy = "segments/hospital.json";
	size_t updates = 200, hosts = 100000, rules = 10000, large = 10, i;
	struct cfg_policy *small[2] = { 0 }, *big[2] = { 0 };
	struct series su = { 0 }, sl = { 0 };
	struct segd_bpf *skel = NULL;
	struct comp_policy *p = NULL;
	char *text = NULL, *text2 = NULL, *g0 = NULL, *g1 = NULL, *at;
	uint64_t t0, t1, t2, t3, gen, *graces = NULL;
	struct mapw_timing tc;
	struct mapw_fds fds;
	char err[512];
	int ret = 1;

	for (i = 1; i < (size_t)argc; i++) {
		if (i + 1 < (size_t)argc && !strcmp(argv[i], "--policy"))
			policy = argv[++i];
		else if (i + 1 < (size_t)argc && !strcmp(argv[i], "--updates"))
			updates = (size_t)arg_num(argv[i], argv[i + 1]), i++;
		else if (i + 1 < (size_t)argc && !strcmp(argv[i], "--hosts"))
			hosts = (size_t)arg_num(argv[i], argv[i + 1]), i++;
		else if (i + 1 < (size_t)argc && !strcmp(argv[i], "--rules"))
			rules = (size_t)arg_num(argv[i], argv[i + 1]), i++;
		else if (i + 1 < (size_t)argc && !strcmp(argv[i], "--large-updates"))
			large = (size_t)arg_num(argv[i], argv[i + 1]), i++;
		else {
			fprintf(stderr, "usage: bench_policy [--policy FILE] [--updates N] [--hosts N] [--rules N] [--large-updates N]\n");
			return 2;
		}
	}
	log_init("bench_policy", LOG_LVL_WARN);
	libbpf_set_print(NULL);

	/* The small policy and its one-rule change: ehr-web also allows
	 * dicom (one rule, two more ports). */
	text = read_file(policy);
	if (!text) {
		fprintf(stderr, "bench_policy: cannot read \"%s\": %s\n", policy,
			strerror(errno));
		goto out;
	}
	text2 = strdup(text);
	at = text2 ? strstr(text2, "\"services\": [\"https\"] }") : NULL;
	if (!at) {
		fprintf(stderr, "bench_policy: \"%s\" has no rule with \"services\": [\"https\"] to change\n",
			policy);
		goto out;
	}
	memcpy(at, "\"services\": [\"dicom\"] }", strlen("\"services\": [\"dicom\"] }"));
	small[0] = parse(policy, text);
	small[1] = parse(policy, text2);
	if (!small[0] || !small[1])
		goto out;

	skel = segd_bpf__open();
	if (!skel || segd_bpf__load(skel)) {
		fprintf(stderr, "bench_policy: loading the XDP object: %s (root?)\n",
			strerror(errno));
		goto out;
	}
	if (mapw_fds_from_obj(skel->obj, &fds))
		goto out;

	/* update: the small policy, one rule changing back and forth. */
	if (run_updates(&fds, small, updates, &su))
		goto out;

	/* grace: the grace period alone. */
	graces = calloc(updates, sizeof(*graces));
	if (!graces)
		goto out;
	for (i = 0; i < updates; i++) {
		t0 = now_ns();
		mapw_grace_period();
		graces[i] = now_ns() - t0;
	}

	/* cold: the generated policy, parsed, compiled, applied to fresh,
	 * empty maps (a new instance of the object). */
	segd_bpf__destroy(skel);
	skel = segd_bpf__open();
	if (!skel || segd_bpf__load(skel) || mapw_fds_from_obj(skel->obj, &fds)) {
		fprintf(stderr, "bench_policy: reloading the XDP object: %s\n",
			strerror(errno));
		goto out;
	}
	g0 = gen_policy(hosts, rules, 0);
	g1 = gen_policy(hosts, rules, 1);
	if (!g0 || !g1)
		goto out;
	t0 = now_ns();
	big[0] = parse("generated.json", g0);
	t1 = now_ns();
	if (!big[0])
		goto out;
	if (comp_build(big[0], NULL, 0, NULL, 0, &p, err, sizeof(err))) {
		fprintf(stderr, "bench_policy: compiling the generated policy: %s\n", err);
		goto out;
	}
	t2 = now_ns();
	if (mapw_apply(&fds, p, &gen, err, sizeof(err))) {
		fprintf(stderr, "bench_policy: applying the generated policy: %s\n", err);
		goto out;
	}
	t3 = now_ns();
	mapw_last_timing(&tc);
	big[1] = parse("generated.json", g1);
	if (!big[1])
		goto out;

	printf("{\"update\": {\"policy\": \"%s\", \"change\": \"one rule (ehr-web: https -> dicom)\", ", policy);
	emit_series(&su);
	printf("},\n \"grace\": {\"n\": %zu, ", updates);
	emit_stat("grace", graces, updates, false);
	printf("},\n \"cold\": {\"hosts\": %zu, \"segments\": %d, \"devices\": %d, \"rules\": %zu, \"bytes\": %zu, "
	       "\"entries\": {\"host4\": %zu, \"lpm4\": %zu, \"macs\": %zu, \"allows\": %zu, \"ids\": %zu}, "
	       "\"parse_us\": %.1f, \"compile_us\": %.1f, \"apply_us\": %.1f, \"fill_us\": %.1f, \"switch_ns\": %llu, \"total_us\": %.1f}",
	       hosts, N_SEGS, N_SEGS * DEVS_PER_SEG, rules, strlen(g0),
	       p->n_host4, p->n_lpm4, p->n_macs, p->n_allows, p->n_ids,
	       (t1 - t0) / 1e3, (t2 - t1) / 1e3, (t3 - t2) / 1e3,
	       tc.fill_ns / 1e3, (unsigned long long)tc.switch_ns,
	       (t3 - t0) / 1e3);
	fflush(stdout);

	/* large: a one-rule change of the big policy. */
	if (run_updates(&fds, big, large, &sl))
		goto out;
	printf(",\n \"large\": {\"change\": \"one rule (r-0: svc-0 -> svc-1)\", ");
	emit_series(&sl);
	printf("}}\n");
	ret = 0;
out:
	comp_free(p);
	cfg_policy_free(small[0]);
	cfg_policy_free(small[1]);
	cfg_policy_free(big[0]);
	cfg_policy_free(big[1]);
	series_free(&su);
	series_free(&sl);
	segd_bpf__destroy(skel);
	free(graces);
	free(text);
	free(text2);
	free(g0);
	free(g1);
	return ret;
}
