// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * telsrv.c - ring buffer -> events file, metrics file and endpoint
 * (telsrv.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <sys/uio.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "../include/segd_abi.h"
#include "events.h"
#include "log.h"
#include "metrics.h"
#include "telemetry.h"
#include "telsrv.h"

enum { TSRV_RB = 0, TSRV_TIMER = 1, TSRV_HTTP = 2, TSRV_HTTP_CONN = 16 };

#define TSRV_IFCACHE 32
#define TSRV_HTTP_MAX 2048	/* request head; a GET fits in far less */
#define TSRV_HTTP_CONNS 8	/* clients served at once */
#define TSRV_HTTP_DEADLINE_MS 2000	/* whole request, from accept */

/* One metrics client. Never blocks segd's loop: reads what is there,
 * answers once the head is complete, and is closed at its deadline. */
struct tsrv_http_conn {
	int fd;
	size_t got;
	int64_t deadline_ns;	/* CLOCK_MONOTONIC */
	char req[TSRV_HTTP_MAX];
};

struct tsrv {
	struct tsrv_opts o;
	struct ring_buffer *rb;
	int counters_fd, names_fd, config_fd, evstats_fd;
	struct ev_sink sink;
	bool have_sink;
	int timer_fd, http_fd;
	int epfd;
	uint32_t tag;
	struct tsrv_http_conn http[TSRV_HTTP_CONNS];
	struct tel_names names;
	uint64_t names_gen;		/* generation the names were read at */
	bool names_ok;
	int64_t mono_to_wall;		/* realtime - monotonic, ns */
	struct {
		int idx;
		char name[IF_NAMESIZE];
	} ifc[TSRV_IFCACHE];
	unsigned ifc_next;
	uint64_t delivered;		/* events read from the ring buffer */
	size_t (*iso_count)(const void *ctx);	/* hosts under isolation */
	const void *iso_ctx;
	bool warned_write;
};

static int tsrv_add(int epfd, int fd, uint32_t tag, uint32_t sub);

static int64_t clock_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void tsrv_names_refresh(struct tsrv *t, uint64_t gen)
{
	tel_names_free(&t->names);
	t->names_ok = !tel_names_read(t->names_fd, &t->names);
	t->names_gen = gen;
}

static const char *tsrv_ifname(struct tsrv *t, int idx)
{
	unsigned i;

	if (!idx)
		return NULL;
	for (i = 0; i < TSRV_IFCACHE; i++)
		if (t->ifc[i].idx == idx)
			return t->ifc[i].name;
	i = t->ifc_next++ % TSRV_IFCACHE;
	if (!if_indextoname((unsigned)idx, t->ifc[i].name))
		snprintf(t->ifc[i].name, IF_NAMESIZE, "if%d", idx);
	t->ifc[i].idx = idx;
	return t->ifc[i].name;
}

static int tsrv_on_event(void *ctx, void *data, size_t size)
{
	struct tsrv *t = ctx;
	const struct segd_event *e = data;
	struct ev_labels l;
	char line[2048];
	int n, ret;

	if (size < sizeof(*e))
		return 0;
	t->delivered++;
	if (!t->have_sink)
		return 0;
	if (e->generation != t->names_gen)
		tsrv_names_refresh(t, e->generation);
	l.wall_ns = (uint64_t)((int64_t)e->ts_ns + t->mono_to_wall);
	l.ifname = tsrv_ifname(t, (int)e->ifindex);
	l.names = t->names_ok ? &t->names : NULL;
	n = ev_format(e, &l, line, sizeof(line));
	if (n < 0)
		return 0;
	ret = ev_sink_write(&t->sink, line, (size_t)n);
	if (ret && !t->warned_write) {
		pr_warn("writing events to \"%s\": %s (further failures are counted, not logged)",
			t->sink.path, strerror(-ret));
		t->warned_write = true;
	}
	return 0;
}

static int tsrv_render(struct tsrv *t, char **text, size_t *len)
{
	struct tel_counter *v = NULL;
	struct met_snapshot s;
	struct segd_config cfg;
	struct segd_evstats es;
	__u32 key = 0;
	size_t n = 0;
	int ret;

	memset(&s, 0, sizeof(s));
	ret = tel_read_counters(t->counters_fd, &v, &n);
	if (ret)
		return ret;
	if (tel_read_evstats(t->evstats_fd, &es))
		memset(&es, 0, sizeof(es));
	if (bpf_map_lookup_elem(t->config_fd, &key, &cfg))
		memset(&cfg, 0, sizeof(cfg));
	tsrv_names_refresh(t, cfg.generation);
	s.counters = v;
	s.n = n;
	s.names = t->names_ok ? &t->names : NULL;
	s.events_sent = es.sent;
	s.events_suppressed = es.suppressed;
	s.ringbuf_lost = es.lost;
	s.events_written = t->sink.written;
	s.events_write_errors = t->sink.failed;
	s.isolated_hosts = t->iso_count ? t->iso_count(t->iso_ctx) : 0;
	s.generation = cfg.generation;
	s.version = MET_VERSION;
	ret = met_render(&s, text, len);
	free(v);
	return ret;
}

static void tsrv_write_metrics(struct tsrv *t)
{
	char *text = NULL;
	size_t len = 0;
	int ret;

	if (!t->o.metrics_file)
		return;
	ret = tsrv_render(t, &text, &len);
	if (!ret)
		ret = met_write_file(t->o.metrics_file, text, len);
	if (ret)
		pr_warn("writing metrics to \"%s\": %s", t->o.metrics_file,
			strerror(-ret));
	free(text);
}

/*
 * Answer with one non-blocking write: a scraper reads promptly and the
 * loopback socket buffer holds a normal exposition whole; a client that
 * does not read gets a cut answer rather than a stalled segd.
 */
static void tsrv_reply(int fd, const char *status, const char *ctype,
		       const char *body, size_t blen)
{
	struct iovec iov[2];
	char hdr[256];
	int n;

	n = snprintf(hdr, sizeof(hdr),
		     "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
		     status, ctype, blen);
	iov[0].iov_base = hdr;
	iov[0].iov_len = (size_t)n;
	iov[1].iov_base = (void *)body;
	iov[1].iov_len = blen;
	if (writev(fd, iov, 2) < 0)
		pr_debug("metrics client: %s", strerror(errno));
}

static void tsrv_http_close(struct tsrv *t, struct tsrv_http_conn *c)
{
	(void)t;
	if (c->fd < 0)
		return;
	close(c->fd);	/* also leaves the epoll set */
	c->fd = -1;
	c->got = 0;
}

static void tsrv_http_answer(struct tsrv *t, struct tsrv_http_conn *c)
{
	const char *req = c->req;

	if (!strncmp(req, "GET /metrics ", 13) ||
	    !strncmp(req, "GET /metrics?", 13)) {
		char *text = NULL;
		size_t len = 0;

		if (!tsrv_render(t, &text, &len))
			tsrv_reply(c->fd, "200 OK",
				   "text/plain; version=0.0.4; charset=utf-8",
				   text, len);
		else
			tsrv_reply(c->fd, "500 Internal Server Error",
				   "text/plain", "error\n", 6);
		free(text);
	} else if (!strncmp(req, "GET ", 4)) {
		tsrv_reply(c->fd, "404 Not Found", "text/plain",
			   "try /metrics\n", 13);
	} else if (!strncmp(req, "HEAD ", 5) || !strncmp(req, "POST ", 5) ||
		   !strncmp(req, "PUT ", 4) || !strncmp(req, "DELETE ", 7)) {
		tsrv_reply(c->fd, "405 Method Not Allowed", "text/plain",
			   "GET only\n", 9);
	} else {
		tsrv_reply(c->fd, "400 Bad Request", "text/plain",
			   "bad request\n", 12);
	}
	tsrv_http_close(t, c);
}

/* New clients: each gets a slot; when all are taken, the oldest goes. */
static void tsrv_http_accept(struct tsrv *t)
{
	int k;

	for (k = 0; k < 2 * TSRV_HTTP_CONNS; k++) {	/* bounded per wakeup */
		struct tsrv_http_conn *c = NULL;
		int fd, i;

		fd = accept4(t->http_fd, NULL, NULL,
			     SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		for (i = 0; i < TSRV_HTTP_CONNS; i++) {
			if (t->http[i].fd < 0) {
				c = &t->http[i];
				break;
			}
			if (!c || t->http[i].deadline_ns < c->deadline_ns)
				c = &t->http[i];
		}
		tsrv_http_close(t, c);
		c->fd = fd;
		c->got = 0;
		c->deadline_ns = clock_ns(CLOCK_MONOTONIC) +
				 (int64_t)TSRV_HTTP_DEADLINE_MS * 1000000;
		if (tsrv_add(t->epfd, fd, t->tag,
			     TSRV_HTTP_CONN + (uint32_t)(c - t->http)))
			tsrv_http_close(t, c);
	}
}

static void tsrv_http_read(struct tsrv *t, struct tsrv_http_conn *c)
{
	ssize_t n;

	if (c->fd < 0)
		return;
	if (clock_ns(CLOCK_MONOTONIC) > c->deadline_ns) {
		tsrv_http_close(t, c);
		return;
	}
	n = read(c->fd, c->req + c->got, sizeof(c->req) - 1 - c->got);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		tsrv_http_close(t, c);
		return;
	}
	c->got += (size_t)n;
	c->req[c->got] = '\0';
	if (strstr(c->req, "\r\n\r\n") || strstr(c->req, "\n\n") ||
	    c->got == sizeof(c->req) - 1)
		tsrv_http_answer(t, c);
}

void tsrv_set_isolated(struct tsrv *t, size_t (*count)(const void *ctx),
		       const void *ctx)
{
	t->iso_count = count;
	t->iso_ctx = ctx;
}

void tsrv_handle(struct tsrv *t, uint32_t sub)
{
	uint64_t ticks;

	switch (sub) {
	case TSRV_RB:
		t->mono_to_wall = clock_ns(CLOCK_REALTIME) -
				  clock_ns(CLOCK_MONOTONIC);
		/* XXX: libbpf 1.1 consumes until the buffer is empty; with
		 * --events-rate 0 a flood could keep the loop here. The
		 * default rate limit bounds it (pairs x rate). */
		ring_buffer__consume(t->rb);
		break;
	case TSRV_TIMER:
		if (read(t->timer_fd, &ticks, sizeof(ticks)) < 0)
			break;
		tsrv_write_metrics(t);
		break;
	case TSRV_HTTP:
		tsrv_http_accept(t);
		break;
	default:
		if (sub >= TSRV_HTTP_CONN && sub < TSRV_HTTP_CONN + TSRV_HTTP_CONNS)
			tsrv_http_read(t, &t->http[sub - TSRV_HTTP_CONN]);
		break;
	}
}

void tsrv_reopen(struct tsrv *t)
{
	int ret;

	if (!t || !t->have_sink)
		return;
	ret = ev_sink_reopen(&t->sink);
	if (ret)
		pr_warn("reopening events file \"%s\": %s (still writing the old one)",
			t->sink.path, strerror(-ret));
	else
		pr_info("events file \"%s\" reopened", t->sink.path);
	t->warned_write = false;
}

const char *tsrv_events_path(const struct tsrv *t)
{
	if (!t || !t->have_sink || !strcmp(t->sink.path, "-"))
		return NULL;
	return t->sink.path;
}

void tsrv_opts_init(struct tsrv_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->metrics_interval = TSRV_METRICS_INTERVAL;
	o->ev_rate = SEGD_EV_RATE_DEFAULT;
	o->ev_burst = SEGD_EV_BURST_DEFAULT;
}

static int tsrv_num(const char *name, const char *arg, unsigned long long min,
		    unsigned long long max, unsigned long long *v, char *err,
		    size_t errlen)
{
	char *end;

	errno = 0;
	*v = strtoull(arg, &end, 10);
	if (errno || end == arg || *end || arg[0] == '-' || *v < min ||
	    *v > max) {
		snprintf(err, errlen, "--%s \"%s\": a number from %llu to %llu",
			 name, arg, min, max);
		return -EINVAL;
	}
	return 0;
}

int tsrv_parse_opt(struct tsrv_opts *o, int c, const char *arg, char *err,
		   size_t errlen)
{
	unsigned long long v;
	int ret = 0;

	switch (c - TSRV_OPT_BASE) {
	case 0:
		if (!*arg) {
			snprintf(err, errlen, "--events \"\": give a file or -");
			return -EINVAL;
		}
		o->events = arg;
		break;
	case 1:
		ret = tsrv_num("events-max-size", arg, 4096, 1ULL << 50, &v,
			       err, errlen);
		o->events_max_size = v;
		break;
	case 2:
		o->metrics_file = arg;
		break;
	case 3:
		o->metrics_listen = arg;
		break;
	case 4:
		ret = tsrv_num("metrics-interval", arg, 1, 3600, &v, err, errlen);
		o->metrics_interval = (unsigned)v;
		break;
	case 5:
		ret = tsrv_num("events-rate", arg, 0, 1000000, &v, err, errlen);
		o->ev_rate = (uint32_t)v;
		break;
	case 6:
		ret = tsrv_num("events-burst", arg, 1, 1000000, &v, err, errlen);
		o->ev_burst = (uint32_t)v;
		break;
	default:
		snprintf(err, errlen, "unknown telemetry option");
		return -EINVAL;
	}
	return ret;
}

int tsrv_check_opts(const struct tsrv_opts *o, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sl;

	if (o->metrics_listen)
		return met_parse_listen(o->metrics_listen, &ss, &sl, err,
					errlen);
	return 0;
}

static int tsrv_map_fd(struct bpf_object *obj, const char *name)
{
	struct bpf_map *m = bpf_object__find_map_by_name(obj, name);

	return m ? bpf_map__fd(m) : -ENOENT;
}

static int tsrv_add(int epfd, int fd, uint32_t tag, uint32_t sub)
{
	struct epoll_event ev = { .events = EPOLLIN };

	ev.data.u64 = ((uint64_t)tag << 32) | sub;
	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

struct tsrv *tsrv_new(const struct tsrv_opts *o, struct bpf_object *obj,
		      int epfd, uint32_t tag, char *err, size_t errlen)
{
	struct tsrv *t;
	int ret, rb_fd;

	t = calloc(1, sizeof(*t));
	if (!t) {
		snprintf(err, errlen, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	t->o = *o;
	if (!t->o.metrics_interval)
		t->o.metrics_interval = TSRV_METRICS_INTERVAL;
	t->timer_fd = t->http_fd = -1;
	t->epfd = epfd;
	t->tag = tag;
	{
		int i;

		for (i = 0; i < TSRV_HTTP_CONNS; i++)
			t->http[i].fd = -1;
	}
	t->names_gen = UINT64_MAX;	/* read at the first event */
	t->sink.fd = -1;
	t->counters_fd = tsrv_map_fd(obj, SEGD_MAP_COUNTERS);
	t->names_fd = tsrv_map_fd(obj, SEGD_MAP_NAMES);
	t->config_fd = tsrv_map_fd(obj, SEGD_MAP_CONFIG);
	t->evstats_fd = tsrv_map_fd(obj, SEGD_MAP_EVSTATS);
	rb_fd = tsrv_map_fd(obj, SEGD_MAP_EVENTS);
	if (t->counters_fd < 0 || t->names_fd < 0 || t->config_fd < 0 ||
	    t->evstats_fd < 0 || rb_fd < 0) {
		ret = -ENOENT;
		snprintf(err, errlen, "the BPF object lacks a telemetry map");
		goto fail;
	}
	if (o->events) {
		ret = ev_sink_open(&t->sink, o->events, o->events_max_size);
		if (ret) {
			snprintf(err, errlen, "cannot open events file \"%s\": %s",
				 o->events, strerror(-ret));
			goto fail;
		}
		t->have_sink = true;
	}
	t->mono_to_wall = clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_MONOTONIC);
	t->rb = ring_buffer__new(rb_fd, tsrv_on_event, t, NULL);
	if (!t->rb) {
		ret = -errno;
		snprintf(err, errlen, "ring buffer %s: %s", SEGD_MAP_EVENTS,
			 strerror(-ret));
		goto fail;
	}
	ret = tsrv_add(epfd, ring_buffer__epoll_fd(t->rb), tag, TSRV_RB);
	if (ret) {
		snprintf(err, errlen, "epoll: %s", strerror(-ret));
		goto fail;
	}
	if (o->metrics_file) {
		struct itimerspec its = { 0 };

		its.it_value.tv_sec = 1;	/* first file soon after start */
		its.it_interval.tv_sec = t->o.metrics_interval;
		t->timer_fd = timerfd_create(CLOCK_MONOTONIC,
					     TFD_NONBLOCK | TFD_CLOEXEC);
		if (t->timer_fd < 0 || timerfd_settime(t->timer_fd, 0, &its, NULL)) {
			ret = -errno;
			snprintf(err, errlen, "timerfd: %s", strerror(-ret));
			goto fail;
		}
		ret = tsrv_add(epfd, t->timer_fd, tag, TSRV_TIMER);
		if (ret) {
			snprintf(err, errlen, "epoll: %s", strerror(-ret));
			goto fail;
		}
	}
	if (o->metrics_listen) {
		struct sockaddr_storage ss;
		socklen_t sl;
		int one = 1;

		ret = met_parse_listen(o->metrics_listen, &ss, &sl, err, errlen);
		if (ret)
			goto fail;
		t->http_fd = socket(ss.ss_family,
				    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (t->http_fd < 0) {
			ret = -errno;
			snprintf(err, errlen, "metrics socket: %s", strerror(-ret));
			goto fail;
		}
		setsockopt(t->http_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(t->http_fd, (struct sockaddr *)&ss, sl) ||
		    listen(t->http_fd, 16)) {
			ret = -errno;
			snprintf(err, errlen, "--metrics-listen \"%s\": %s",
				 o->metrics_listen, strerror(-ret));
			goto fail;
		}
		ret = tsrv_add(epfd, t->http_fd, tag, TSRV_HTTP);
		if (ret) {
			snprintf(err, errlen, "epoll: %s", strerror(-ret));
			goto fail;
		}
	}
	return t;
fail:
	tsrv_free(t);
	errno = -ret;
	return NULL;
}

void tsrv_free(struct tsrv *t)
{
	if (!t)
		return;
	if (t->rb) {
		ring_buffer__consume(t->rb);	/* what is already there */
		ring_buffer__free(t->rb);
		tsrv_write_metrics(t);
	}
	if (t->timer_fd >= 0)
		close(t->timer_fd);
	if (t->http_fd >= 0)
		close(t->http_fd);
	{
		int i;

		for (i = 0; i < TSRV_HTTP_CONNS; i++)
			tsrv_http_close(t, &t->http[i]);
	}
	if (t->have_sink)
		ev_sink_close(&t->sink);
	tel_names_free(&t->names);
	free(t);
}
