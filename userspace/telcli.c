// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * telcli.c - segctl stats, top and events (telcli.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <jansson.h>

#include "../include/segd_abi.h"
#include "compile.h"
#include "ctl.h"
#include "jsonout.h"
#include "mapwriter.h"
#include "telcli.h"
#include "telemetry.h"

#define TCLI_OK 0
#define TCLI_FAIL 1
#define TCLI_LABEL (SEGD_NAME_LEN + 16)
#define TCLI_TOP_ROWS 10
#define TCLI_SRC_WINDOW_S 60
#define TCLI_TAIL_BYTES (1 << 20)	/* top: backlog read at start */

static double now_s(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Strict number in [min, max]; -1 if not. */
static long tcli_num(const char *s, long min, long max)
{
	char *end;
	long v;

	if (!s || !*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	return v;
}

/* ------------------------------------------------------------------ */
/* counters                                                             */
/* ------------------------------------------------------------------ */

struct tcli_counters {
	struct tel_counter *v;
	size_t n;
	struct tel_names names;
	struct segd_config cfg;
	struct segd_evstats es;
	bool have_es;
	double t;		/* CLOCK_REALTIME seconds */
};

static void tcli_counters_free(struct tcli_counters *c)
{
	free(c->v);
	c->v = NULL;
	tel_names_free(&c->names);
}

static int tcli_counters_read(const struct tcli_env *env,
			      struct tcli_counters *c, bool with_names)
{
	struct mapw_fds fds;
	char path[PATH_MAX];
	int ret, fd;

	memset(c, 0, sizeof(*c));
	ret = mapw_fds_open_pinned(env->pin_dir, &fds);
	if (ret) {
		jo_error("no segd maps pinned under \"%s\" (%s): is segd's policy loaded there?",
			 env->pin_dir, strerror(-ret));
		return ret;
	}
	ret = mapw_read_config(&fds, &c->cfg);
	if (!ret)
		ret = tel_read_counters(fds.counters, &c->v, &c->n);
	if (ret) {
		jo_error("reading counters under \"%s\": %s", env->pin_dir,
			 strerror(-ret));
		goto out;
	}
	if (with_names && tel_names_read(fds.names, &c->names))
		c->names.n = 0;
	snprintf(path, sizeof(path), "%s/%s", env->pin_dir, SEGD_MAP_EVSTATS);
	fd = bpf_obj_get(path);
	if (fd >= 0) {
		c->have_es = !tel_read_evstats(fd, &c->es);
		close(fd);
	}
	c->t = now_s(CLOCK_REALTIME);
out:
	mapw_fds_close(&fds);
	return ret;
}

static const struct tel_counter *tcli_find(const struct tel_counter *v,
					   size_t n, const struct tel_counter *k)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i].src_seg == k->src_seg && v[i].dst_seg == k->dst_seg &&
		    v[i].verdict == k->verdict && v[i].reason == k->reason)
			return &v[i];
	return NULL;
}

/* ------------------------------------------------------------------ */
/* stats                                                                */
/* ------------------------------------------------------------------ */

/* <run-dir>/stats.<uid>.json: the previous call's counters, by ids. */
static int tcli_snap_path(const struct tcli_env *env, char *buf, size_t len)
{
	if (snprintf(buf, len, "%s/stats.%u.json", env->run_dir,
		     (unsigned)getuid()) >= (int)len)
		return -ENAMETOOLONG;
	return 0;
}

static int tcli_snap_load(const struct tcli_env *env, struct tcli_counters *p)
{
	char path[PATH_MAX];
	json_t *o, *arr, *e;
	size_t i;

	memset(p, 0, sizeof(*p));
	if (tcli_snap_path(env, path, sizeof(path)))
		return -ENAMETOOLONG;
	o = json_load_file(path, 0, NULL);
	if (!o)
		return -ENOENT;
	arr = json_object_get(o, "counters");
	p->t = json_real_value(json_object_get(o, "time"));
	p->cfg.generation = (uint64_t)json_integer_value(json_object_get(o, "generation"));
	if (!json_is_array(arr) || p->t <= 0) {
		json_decref(o);
		return -EINVAL;
	}
	p->v = calloc(json_array_size(arr) + 1, sizeof(*p->v));
	if (!p->v) {
		json_decref(o);
		return -ENOMEM;
	}
	json_array_foreach(arr, i, e) {
		json_int_t a[6];

		if (json_unpack(e, "[IIIIII]", &a[0], &a[1], &a[2], &a[3],
				&a[4], &a[5]))
			continue;
		p->v[p->n].src_seg = (uint32_t)a[0];
		p->v[p->n].dst_seg = (uint32_t)a[1];
		p->v[p->n].verdict = (uint8_t)a[2];
		p->v[p->n].reason = (uint8_t)a[3];
		p->v[p->n].packets = (uint64_t)a[4];
		p->v[p->n].bytes = (uint64_t)a[5];
		p->n++;
	}
	json_decref(o);
	return 0;
}

/* Written as temp + rename, so two segctl at once never see half a file.
 * Failing to save only costs the next call its rates. */
static void tcli_snap_save(const struct tcli_env *env,
			   const struct tcli_counters *c)
{
	char path[PATH_MAX], tmp[PATH_MAX + 32];
	json_t *o, *arr;
	size_t i;

	if (tcli_snap_path(env, path, sizeof(path)))
		return;
	snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)getpid());
	arr = json_array();
	for (i = 0; arr && i < c->n; i++)
		json_array_append_new(arr, json_pack("[IIIIII]",
			(json_int_t)c->v[i].src_seg, (json_int_t)c->v[i].dst_seg,
			(json_int_t)c->v[i].verdict, (json_int_t)c->v[i].reason,
			(json_int_t)c->v[i].packets, (json_int_t)c->v[i].bytes));
	o = json_pack("{s:f, s:I, s:o}", "time", c->t, "generation",
		      (json_int_t)c->cfg.generation, "counters",
		      arr ? arr : json_array());
	if (!o)
		return;
	if (!json_dump_file(o, tmp, JSON_COMPACT)) {
		if (rename(tmp, path))
			unlink(tmp);
	}
	json_decref(o);
}

/* Rate of one counter since @prev; false when unknown (first call, or
 * the counter went backwards: maps recreated). */
static bool tcli_rate(const struct tel_counter *cur, const struct tcli_counters *prev,
		      double dt, double *pps, double *bps)
{
	const struct tel_counter *p;

	if (!prev || dt <= 0)
		return false;
	p = tcli_find(prev->v, prev->n, cur);
	if (!p) {
		/* New since the last call: it started from zero. */
		*pps = (double)cur->packets / dt;
		*bps = (double)cur->bytes / dt;
		return true;
	}
	if (p->packets > cur->packets || p->bytes > cur->bytes)
		return false;
	*pps = (double)(cur->packets - p->packets) / dt;
	*bps = (double)(cur->bytes - p->bytes) / dt;
	return true;
}

int tcli_stats(const struct tcli_env *env, int argc, char **argv)
{
	struct tcli_counters c, prev;
	bool have_prev;
	double dt = 0;
	size_t i;
	int w_src = 3, w_dst = 3, w_r = 6;

	if (argc != 1)
		return jo_usage("stats takes no argument (\"%s\")", argv[1]);
	if (tcli_counters_read(env, &c, true))
		return TCLI_FAIL;
	have_prev = !tcli_snap_load(env, &prev);
	if (have_prev)
		dt = c.t - prev.t;
	tcli_snap_save(env, &c);

	if (jo_json()) {
		json_t *arr = json_array(), *o;

		for (i = 0; arr && i < c.n; i++) {
			char s[TCLI_LABEL], d[TCLI_LABEL];
			double pps, bps;
			json_t *e;

			e = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I}",
				      "src_segment",
				      tel_label(&c.names, c.v[i].src_seg, s, sizeof(s)),
				      "dst_segment",
				      tel_label(&c.names, c.v[i].dst_seg, d, sizeof(d)),
				      "verdict", tel_verdict_name(c.v[i].verdict),
				      "reason", tel_reason_name(c.v[i].reason),
				      "packets", (json_int_t)c.v[i].packets,
				      "bytes", (json_int_t)c.v[i].bytes);
			if (e && tcli_rate(&c.v[i], have_prev ? &prev : NULL, dt,
					   &pps, &bps)) {
				json_object_set_new(e, "pps", json_real(pps));
				json_object_set_new(e, "bps", json_real(bps));
			} else if (e) {
				json_object_set_new(e, "pps", json_null());
				json_object_set_new(e, "bps", json_null());
			}
			json_array_append_new(arr, e);
		}
		o = json_pack("{s:I, s:o, s:o}", "generation",
			      (json_int_t)c.cfg.generation, "counters",
			      arr ? arr : json_array(), "interval_s",
			      have_prev ? json_real(dt) : json_null());
		if (o && c.have_es)
			json_object_set_new(o, "events", json_pack(
				"{s:I, s:I, s:I}", "sent", (json_int_t)c.es.sent,
				"suppressed", (json_int_t)c.es.suppressed,
				"lost", (json_int_t)c.es.lost));
		jo_emit(o);
		goto out;
	}
	for (i = 0; i < c.n; i++) {
		char s[TCLI_LABEL];
		int l;

		l = (int)strlen(tel_label(&c.names, c.v[i].src_seg, s, sizeof(s)));
		w_src = l > w_src ? l : w_src;
		l = (int)strlen(tel_label(&c.names, c.v[i].dst_seg, s, sizeof(s)));
		w_dst = l > w_dst ? l : w_dst;
		l = (int)strlen(tel_reason_name(c.v[i].reason));
		w_r = l > w_r ? l : w_r;
	}
	printf("generation %llu%s", (unsigned long long)c.cfg.generation,
	       c.cfg.flags & SEGD_CFG_LOADED ? "" : " (no policy loaded)");
	if (have_prev)
		printf(", rates over the last %.1f s\n", dt);
	else
		printf(", rates from the next call on\n");
	printf("%-*s  %-*s  %-7s  %-*s  %12s  %14s  %10s  %12s\n", w_src, "SRC",
	       w_dst, "DST", "VERDICT", w_r, "REASON", "PACKETS", "BYTES",
	       "PKT/S", "BYTES/S");
	for (i = 0; i < c.n; i++) {
		char s[TCLI_LABEL], d[TCLI_LABEL], r1[32] = "-", r2[32] = "-";
		double pps, bps;

		if (tcli_rate(&c.v[i], have_prev ? &prev : NULL, dt, &pps, &bps)) {
			snprintf(r1, sizeof(r1), "%.1f", pps);
			snprintf(r2, sizeof(r2), "%.0f", bps);
		}
		printf("%-*s  %-*s  %-7s  %-*s  %12llu  %14llu  %10s  %12s\n",
		       w_src, tel_label(&c.names, c.v[i].src_seg, s, sizeof(s)),
		       w_dst, tel_label(&c.names, c.v[i].dst_seg, d, sizeof(d)),
		       tel_verdict_name(c.v[i].verdict), w_r,
		       tel_reason_name(c.v[i].reason),
		       (unsigned long long)c.v[i].packets,
		       (unsigned long long)c.v[i].bytes, r1, r2);
	}
	if (c.have_es)
		printf("events: %llu sent, %llu suppressed (rate limit), %llu lost (ring buffer full)\n",
		       (unsigned long long)c.es.sent,
		       (unsigned long long)c.es.suppressed,
		       (unsigned long long)c.es.lost);
out:
	if (have_prev)
		free(prev.v);
	tcli_counters_free(&c);
	return TCLI_OK;
}

/* ------------------------------------------------------------------ */
/* the events file                                                      */
/* ------------------------------------------------------------------ */

/* --file, or the file segd says it writes. 0 or -errno (reported). */
static int tcli_events_file(const struct tcli_env *env, const char *given,
			    char *out, size_t len)
{
	json_t *rq, *resp = NULL;
	const char *f;
	char err[512];
	int ret;

	if (given) {
		snprintf(out, len, "%s", given);
		return 0;
	}
	rq = json_pack("{s:s}", "cmd", "status");
	if (!rq) {
		jo_error("out of memory");
		return -ENOMEM;
	}
	ret = ctl_call(env->run_dir, rq, &resp, 10000, err, sizeof(err));
	json_decref(rq);
	if (ret) {
		jo_error("%s (give the events file with --file FILE)", err);
		return ret;
	}
	f = json_string_value(json_object_get(resp, "events_file"));
	if (!f) {
		jo_error("segd writes no events file (start it with --events FILE, or give --file FILE)");
		json_decref(resp);
		return -ENOENT;
	}
	snprintf(out, len, "%s", f);
	json_decref(resp);
	return 0;
}

struct tcli_filter {
	const char *segment;
	const char *reason;
};

static const char *tcli_jstr(json_t *o, const char *a, const char *b)
{
	json_t *v = json_object_get(json_object_get(o, a), b);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static bool tcli_match(json_t *o, const struct tcli_filter *f)
{
	const char *s;

	if (f->reason) {
		s = tcli_jstr(o, "event", "reason");
		if (!s || strcmp(s, f->reason))
			return false;
	}
	if (f->segment) {
		const char *a = tcli_jstr(o, "segd", "src_segment");
		const char *b = tcli_jstr(o, "segd", "dst_segment");

		if ((!a || strcmp(a, f->segment)) && (!b || strcmp(b, f->segment)))
			return false;
	}
	return true;
}

/* One event for humans. */
static void tcli_event_text(json_t *o)
{
	json_t *sp = json_object_get(json_object_get(o, "source"), "port");
	json_t *dp = json_object_get(json_object_get(o, "destination"), "port");
	json_t *sup = json_object_get(json_object_get(o, "segd"), "suppressed");
	const char *ifn = NULL, *ts, *sip, *dip, *tr;
	char sport[16] = "", dport[16] = "";

	ts = json_string_value(json_object_get(o, "@timestamp"));
	sip = tcli_jstr(o, "source", "ip");
	dip = tcli_jstr(o, "destination", "ip");
	tr = tcli_jstr(o, "network", "transport");
	if (json_is_integer(sp))
		snprintf(sport, sizeof(sport), ":%lld", (long long)json_integer_value(sp));
	if (json_is_integer(dp))
		snprintf(dport, sizeof(dport), "/%lld", (long long)json_integer_value(dp));
	ifn = json_string_value(json_object_get(json_object_get(json_object_get(
		json_object_get(o, "observer"), "ingress"), "interface"), "name"));
	printf("%s %-5s %-17s %s%s [%s] -> %s [%s] %s%s%s%s",
	       ts ? ts : "?", tcli_jstr(o, "event", "action") ?: "?",
	       tcli_jstr(o, "event", "reason") ?: "?",
	       sip ? sip : tcli_jstr(o, "source", "mac") ?: "?", sport,
	       tcli_jstr(o, "segd", "src_segment") ?: "?",
	       dip ? dip : "?", tcli_jstr(o, "segd", "dst_segment") ?: "?",
	       tr ? tr : "-", dport, ifn ? " on " : "", ifn ? ifn : "");
	if (json_integer_value(sup) > 0)
		printf(" (+%lld suppressed)", (long long)json_integer_value(sup));
	putchar('\n');
}

/* Keeps the last @cap matching events. */
struct tcli_ring {
	json_t **e;
	size_t cap, n, head;
};

static void tcli_ring_push(struct tcli_ring *r, json_t *o)
{
	if (r->n < r->cap) {
		r->e[(r->head + r->n++) % r->cap] = o;
		return;
	}
	json_decref(r->e[r->head]);
	r->e[r->head] = o;
	r->head = (r->head + 1) % r->cap;
}

/* Reads every line of @f; each parsed event goes to @fn. Lines that are
 * not JSON objects (a torn last line) are skipped. */
static void tcli_read_lines(FILE *f, void (*fn)(json_t *, void *), void *ctx)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	while ((n = getline(&line, &cap, f)) > 0) {
		json_t *o;

		if (line[n - 1] != '\n') {
			/* Partial: the writer is mid-line; read it next time. */
			fseek(f, -(long)n, SEEK_CUR);
			break;
		}
		o = json_loadb(line, (size_t)n, 0, NULL);
		if (json_is_object(o))
			fn(o, ctx);
		else
			json_decref(o);
	}
	free(line);
}

struct tcli_collect {
	struct tcli_ring *ring;
	const struct tcli_filter *flt;
	bool follow_print;
};

static void tcli_emit_event(json_t *o)
{
	if (jo_json()) {
		jo_emit_record(o);	/* one ECS event per line, as shipped */
	} else {
		tcli_event_text(o);
		json_decref(o);
	}
	fflush(stdout);
}

static void tcli_collect_fn(json_t *o, void *ctx)
{
	struct tcli_collect *c = ctx;

	if (!tcli_match(o, c->flt)) {
		json_decref(o);
		return;
	}
	if (c->follow_print)
		tcli_emit_event(o);
	else
		tcli_ring_push(c->ring, o);
}

static volatile sig_atomic_t tcli_stop;

static void tcli_on_sigint(int sig)
{
	(void)sig;
	tcli_stop = 1;
}

int tcli_events(const struct tcli_env *env, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "follow", no_argument, NULL, 'f' },
		{ "segment", required_argument, NULL, 's' },
		{ "reason", required_argument, NULL, 'r' },
		{ "file", required_argument, NULL, 'F' },
		{ 0 },
	};
	struct tcli_filter flt = { 0 };
	struct tcli_ring ring = { 0 };
	struct tcli_collect col;
	const char *given = NULL;
	char path[PATH_MAX], old[PATH_MAX + 4];
	bool follow = false;
	long n = 20;
	FILE *f;
	size_t i;
	int c, rc = TCLI_FAIL;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+fn:", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			follow = true;
			break;
		case 'n':
			n = tcli_num(optarg, 0, 1000000);
			if (n < 0)
				return jo_usage("-n \"%s\": a number of events, 0 to 1000000",
						  optarg);
			break;
		case 's':
			flt.segment = optarg;
			break;
		case 'r': {
			unsigned r;

			for (r = 0; r < SEGD_REASON__MAX; r++)
				if (!strcmp(optarg, tel_reason_name(r)))
					break;
			if (r == SEGD_REASON__MAX)
				return jo_usage("--reason \"%s\": not a reason (policy, isolated, spoofed, malformed, fragment, unknown_ethertype, no_policy, audit, ...)",
						  optarg);
			flt.reason = optarg;
			break;
		}
		case 'F':
			given = optarg;
			break;
		default:
			return jo_usage("events: unknown option or missing value \"%s\"",
					  argv[optind - 1]);
		}
	}
	if (optind < argc)
		return jo_usage("events: unexpected argument \"%s\"", argv[optind]);
	if (tcli_events_file(env, given, path, sizeof(path)))
		return TCLI_FAIL;

	ring.cap = n ? (size_t)n : 1;
	ring.e = calloc(ring.cap, sizeof(*ring.e));
	if (!ring.e) {
		jo_error("out of memory");
		return TCLI_FAIL;
	}
	col.ring = &ring;
	col.flt = &flt;
	col.follow_print = false;
	snprintf(old, sizeof(old), "%s.1", path);
	f = fopen(old, "r");
	if (f) {
		tcli_read_lines(f, tcli_collect_fn, &col);
		fclose(f);
	}
	f = fopen(path, "r");
	if (!f && !(follow && errno == ENOENT)) {
		jo_error("cannot read events file \"%s\": %s", path,
			 strerror(errno));
		goto out;
	}
	if (f)
		tcli_read_lines(f, tcli_collect_fn, &col);
	if (!n) {
		for (i = 0; i < ring.n; i++)
			json_decref(ring.e[(ring.head + i) % ring.cap]);
		ring.n = 0;
	}
	if (!follow && jo_json()) {
		json_t *arr = json_array();

		for (i = 0; i < ring.n; i++)
			json_array_append_new(arr, ring.e[(ring.head + i) % ring.cap]);
		ring.n = 0;
		jo_emit(json_pack("{s:s, s:o}", "file", path, "events",
				  arr ? arr : json_array()));
		rc = TCLI_OK;
		goto out;
	}
	for (i = 0; i < ring.n; i++)
		tcli_emit_event(ring.e[(ring.head + i) % ring.cap]);
	ring.n = 0;
	rc = TCLI_OK;
	if (!follow)
		goto out;

	/* --follow: like tail -F. A rotation (the path now names another
	 * file, or the file shrank) is noticed within a poll interval; the
	 * rest of the old file is read first. */
	signal(SIGINT, tcli_on_sigint);
	signal(SIGTERM, tcli_on_sigint);
	col.follow_print = true;
	while (!tcli_stop) {
		struct timespec nap = { 0, 200 * 1000 * 1000 };
		struct stat pst, fst;
		bool rotated;

		nanosleep(&nap, NULL);
		if (f) {
			clearerr(f);
			tcli_read_lines(f, tcli_collect_fn, &col);
		}
		if (stat(path, &pst))
			continue;
		rotated = !f || fstat(fileno(f), &fst) ||
			  fst.st_ino != pst.st_ino || fst.st_dev != pst.st_dev ||
			  pst.st_size < ftell(f);
		if (!rotated)
			continue;
		if (f)
			fclose(f);
		f = fopen(path, "r");
		if (f)
			tcli_read_lines(f, tcli_collect_fn, &col);
	}
out:
	if (f)
		fclose(f);
	for (i = 0; i < ring.n; i++)
		json_decref(ring.e[(ring.head + i) % ring.cap]);
	free(ring.e);
	return rc;
}

/* ------------------------------------------------------------------ */
/* top                                                                  */
/* ------------------------------------------------------------------ */

struct tcli_src {
	char ip[64];
	char seg[TCLI_LABEL];
	uint64_t n;		/* drops seen in events (1 + suppressed each) */
	char last_dst[TCLI_LABEL];
	double last;
};

struct tcli_top {
	struct tcli_src *s;
	size_t n, cap;
	double now;
};

static void tcli_top_event(json_t *o, void *ctx)
{
	struct tcli_top *t = ctx;
	const char *ip = tcli_jstr(o, "source", "ip");
	const char *seg = tcli_jstr(o, "segd", "src_segment");
	const char *dst = tcli_jstr(o, "segd", "dst_segment");
	json_t *sup = json_object_get(json_object_get(o, "segd"), "suppressed");
	size_t i;

	if (!ip)
		ip = tcli_jstr(o, "source", "mac");
	if (!ip)
		ip = "-";
	for (i = 0; i < t->n; i++)
		if (!strcmp(t->s[i].ip, ip))
			break;
	if (i == t->n) {
		if (t->n == t->cap) {
			size_t nc = t->cap ? t->cap * 2 : 64;
			struct tcli_src *ns = realloc(t->s, nc * sizeof(*ns));

			if (!ns) {
				json_decref(o);
				return;
			}
			t->s = ns;
			t->cap = nc;
		}
		memset(&t->s[i], 0, sizeof(t->s[i]));
		snprintf(t->s[i].ip, sizeof(t->s[i].ip), "%s", ip);
		t->n++;
	}
	snprintf(t->s[i].seg, sizeof(t->s[i].seg), "%s", seg ? seg : "?");
	snprintf(t->s[i].last_dst, sizeof(t->s[i].last_dst), "%s", dst ? dst : "?");
	t->s[i].n += 1 + (uint64_t)(json_integer_value(sup) > 0 ?
				    json_integer_value(sup) : 0);
	t->s[i].last = t->now;
	json_decref(o);
}

static int tcli_src_cmp(const void *a, const void *b)
{
	const struct tcli_src *x = a, *y = b;

	if (x->n != y->n)
		return x->n > y->n ? -1 : 1;
	return strcmp(x->ip, y->ip);
}

struct tcli_pair {
	const struct tel_counter *c;
	double pps;
};

static int tcli_pair_cmp(const void *a, const void *b)
{
	const struct tcli_pair *x = a, *y = b;

	if (x->pps != y->pps)
		return x->pps > y->pps ? -1 : 1;
	if (x->c->packets != y->c->packets)
		return x->c->packets > y->c->packets ? -1 : 1;
	return 0;
}

static bool tcli_is_drop(const struct tel_counter *c)
{
	return c->verdict == SEGD_VERDICT_DROP || c->reason == SEGD_REASON_AUDIT;
}

/* One frame of top: pairs from the counters (rates against @prev), sources
 * from the events of the last TCLI_SRC_WINDOW_S seconds. */
static void tcli_top_frame(struct tcli_counters *c, struct tcli_counters *prev,
			   struct tcli_top *t, const char *evfile, bool clear)
{
	struct tcli_pair *pairs;
	double dt = prev ? c->t - prev->t : 0;
	size_t i, np = 0, ns;
	struct tcli_src *srcs;
	time_t now = time(NULL);
	char when[32];

	pairs = calloc(c->n + 1, sizeof(*pairs));
	if (!pairs)
		return;
	for (i = 0; i < c->n; i++) {
		double pps = 0, bps;

		if (!tcli_is_drop(&c->v[i]))
			continue;
		if (!tcli_rate(&c->v[i], prev, dt, &pps, &bps))
			pps = 0;
		pairs[np].c = &c->v[i];
		pairs[np++].pps = pps;
	}
	qsort(pairs, np, sizeof(*pairs), tcli_pair_cmp);
	/* sources seen in the window */
	ns = 0;
	srcs = calloc(t->n + 1, sizeof(*srcs));
	for (i = 0; srcs && i < t->n; i++)
		if (t->now - t->s[i].last <= TCLI_SRC_WINDOW_S)
			srcs[ns++] = t->s[i];
	if (srcs)
		qsort(srcs, ns, sizeof(*srcs), tcli_src_cmp);

	if (jo_json()) {
		json_t *pa = json_array(), *sa = json_array(), *o;

		for (i = 0; pa && i < np && i < TCLI_TOP_ROWS; i++) {
			char s[TCLI_LABEL], d[TCLI_LABEL];

			json_array_append_new(pa, json_pack("{s:s, s:s, s:s, s:s, s:I, s:f}",
				"src_segment", tel_label(&c->names, pairs[i].c->src_seg, s, sizeof(s)),
				"dst_segment", tel_label(&c->names, pairs[i].c->dst_seg, d, sizeof(d)),
				"verdict", tel_verdict_name(pairs[i].c->verdict),
				"reason", tel_reason_name(pairs[i].c->reason),
				"packets", (json_int_t)pairs[i].c->packets,
				"pps", pairs[i].pps));
		}
		for (i = 0; sa && srcs && i < ns && i < TCLI_TOP_ROWS; i++)
			json_array_append_new(sa, json_pack("{s:s, s:s, s:s, s:I}",
				"source", srcs[i].ip, "src_segment", srcs[i].seg,
				"last_dst_segment", srcs[i].last_dst,
				"drops", (json_int_t)srcs[i].n));
		o = json_pack("{s:I, s:o, s:o, s:o}", "generation",
			      (json_int_t)c->cfg.generation, "pairs",
			      pa ? pa : json_array(), "sources",
			      sa ? sa : json_array(), "events_file",
			      evfile ? json_string(evfile) : json_null());
		jo_emit(o);
		free(pairs);
		free(srcs);
		return;
	}
	if (clear)
		fputs("\033[H\033[2J", stdout);
	strftime(when, sizeof(when), "%H:%M:%S", localtime(&now));
	printf("segd top - %s  generation %llu", when,
	       (unsigned long long)c->cfg.generation);
	if (c->have_es)
		printf("  events %llu sent, %llu suppressed, %llu lost",
		       (unsigned long long)c->es.sent,
		       (unsigned long long)c->es.suppressed,
		       (unsigned long long)c->es.lost);
	printf("\n\nBUSIEST DROPPING PAIRS%s\n", prev ? "" : " (rates from the next frame)");
	printf("%-20s %-20s %-18s %10s %14s\n", "SRC", "DST", "REASON", "PKT/S",
	       "PACKETS");
	for (i = 0; i < np && i < TCLI_TOP_ROWS; i++) {
		char s[TCLI_LABEL], d[TCLI_LABEL];

		printf("%-20s %-20s %-18s %10.1f %14llu\n",
		       tel_label(&c->names, pairs[i].c->src_seg, s, sizeof(s)),
		       tel_label(&c->names, pairs[i].c->dst_seg, d, sizeof(d)),
		       tel_reason_name(pairs[i].c->reason), pairs[i].pps,
		       (unsigned long long)pairs[i].c->packets);
	}
	if (!np)
		printf("(no drops)\n");
	printf("\nBUSIEST DROPPING SOURCES (events, last %d s)\n", TCLI_SRC_WINDOW_S);
	if (!evfile) {
		printf("(no events file: start segd with --events FILE, or give --file FILE)\n");
	} else {
		printf("%-40s %-20s %-20s %10s\n", "SOURCE", "SEGMENT", "LAST DST",
		       "DROPS");
		for (i = 0; srcs && i < ns && i < TCLI_TOP_ROWS; i++)
			printf("%-40s %-20s %-20s %10llu\n", srcs[i].ip, srcs[i].seg,
			       srcs[i].last_dst, (unsigned long long)srcs[i].n);
		if (!ns)
			printf("(none)\n");
	}
	fflush(stdout);
	free(pairs);
	free(srcs);
}

int tcli_top(const struct tcli_env *env, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "once", no_argument, NULL, 'o' },
		{ "file", required_argument, NULL, 'F' },
		{ "interval", required_argument, NULL, 'i' },
		{ 0 },
	};
	struct tcli_counters cur, prev;
	struct tcli_top t = { 0 };
	const char *given = NULL;
	char path[PATH_MAX];
	bool have_prev = false, clear, have_file = false;
	long frames = -1, interval = 1, k;
	FILE *f = NULL;
	ino_t ino = 0;
	int c, rc = TCLI_OK;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+n:", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			frames = 1;
			break;
		case 'n':
			frames = tcli_num(optarg, 1, 1000000);
			if (frames < 0)
				return jo_usage("-n \"%s\": a number of frames, 1 or more",
						  optarg);
			break;
		case 'i':
			interval = tcli_num(optarg, 1, 3600);
			if (interval < 0)
				return jo_usage("--interval \"%s\": seconds, 1 to 3600",
						  optarg);
			break;
		case 'F':
			given = optarg;
			break;
		default:
			return jo_usage("top: unknown option or missing value \"%s\"",
					  argv[optind - 1]);
		}
	}
	if (optind < argc)
		return jo_usage("top: unexpected argument \"%s\"", argv[optind]);
	/* Events are optional for top: without them, pairs only. */
	if (given) {
		snprintf(path, sizeof(path), "%s", given);
		have_file = true;
	} else {
		json_t *rq = json_pack("{s:s}", "cmd", "status"), *resp = NULL;
		char err[256];

		if (rq && !ctl_call(env->run_dir, rq, &resp, 5000, err, sizeof(err)) &&
		    json_string_value(json_object_get(resp, "events_file"))) {
			snprintf(path, sizeof(path), "%s",
				 json_string_value(json_object_get(resp, "events_file")));
			have_file = true;
		}
		json_decref(rq);
		json_decref(resp);
	}
	clear = !jo_json() && isatty(STDOUT_FILENO) && frames != 1;
	signal(SIGINT, tcli_on_sigint);
	signal(SIGTERM, tcli_on_sigint);
	for (k = 0; !tcli_stop && (frames < 0 || k < frames); k++) {
		struct stat st;

		if (k) {
			struct timespec nap = { interval, 0 };

			nanosleep(&nap, NULL);
			if (tcli_stop)
				break;
		}
		if (tcli_counters_read(env, &cur, true)) {
			rc = TCLI_FAIL;
			break;
		}
		t.now = now_s(CLOCK_MONOTONIC);
		if (have_file && (!f || stat(path, &st) || st.st_ino != ino)) {
			if (f)
				tcli_read_lines(f, tcli_top_event, &t);
			if (f)
				fclose(f);
			if (!k) {
				/* The last minute may have started in the
				 * file rotated away (FILE.1): its tail first. */
				char old[PATH_MAX + 8];
				FILE *of;

				snprintf(old, sizeof(old), "%s.1", path);
				of = fopen(old, "r");
				if (of) {
					if (!fstat(fileno(of), &st) &&
					    st.st_size > TCLI_TAIL_BYTES) {
						int ch;

						fseek(of, -(long)TCLI_TAIL_BYTES, SEEK_END);
						while ((ch = fgetc(of)) != EOF && ch != '\n')
							;
					}
					tcli_read_lines(of, tcli_top_event, &t);
					fclose(of);
				}
			}
			f = fopen(path, "r");
			if (f && !fstat(fileno(f), &st)) {
				ino = st.st_ino;
				/* First open: only the tail is recent. */
				if (!k && st.st_size > TCLI_TAIL_BYTES) {
					int ch;

					fseek(f, -(long)TCLI_TAIL_BYTES, SEEK_END);
					while ((ch = fgetc(f)) != EOF && ch != '\n')
						;
				}
			}
		}
		if (f) {
			clearerr(f);
			tcli_read_lines(f, tcli_top_event, &t);
		}
		tcli_top_frame(&cur, have_prev ? &prev : NULL, &t,
			       have_file ? path : NULL, clear);
		if (have_prev)
			tcli_counters_free(&prev);
		prev = cur;
		have_prev = true;
	}
	if (have_prev)
		tcli_counters_free(&prev);
	if (f)
		fclose(f);
	free(t.s);
	return rc;
}
