/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * telsrv.h - segd's telemetry, served from segd's one epoll loop: the
 * drop event ring buffer (ring_buffer__epoll_fd) to the events file, a
 * timer that writes the metrics file, and the loopback /metrics endpoint.
 *
 * The ring buffer is always consumed (without --events the events are
 * counted and discarded), so a full buffer never turns every event into a
 * loss while nobody looks.
 */
#ifndef SEGD_TELSRV_H
#define SEGD_TELSRV_H

#include <stddef.h>
#include <stdint.h>
#include <getopt.h>

struct bpf_object;
struct tsrv;

struct tsrv_opts {
	const char *events;		/* NULL, "-" (stdout) or a file */
	uint64_t events_max_size;	/* rotate at this size; 0 never */
	const char *metrics_file;	/* NULL or a path */
	const char *metrics_listen;	/* NULL or "127.0.0.1:PORT" */
	unsigned metrics_interval;	/* seconds between metrics writes */
	uint32_t ev_rate;		/* events/s per bucket, 0 unlimited */
	uint32_t ev_burst;
};

/* segd's telemetry options, for its getopt_long table and switch. */
#define TSRV_OPT_BASE 0x200
#define TSRV_OPT_END  (TSRV_OPT_BASE + 7)
#define TSRV_LONG_OPTIONS \
	{ "events", required_argument, NULL, TSRV_OPT_BASE + 0 }, \
	{ "events-max-size", required_argument, NULL, TSRV_OPT_BASE + 1 }, \
	{ "metrics-file", required_argument, NULL, TSRV_OPT_BASE + 2 }, \
	{ "metrics-listen", required_argument, NULL, TSRV_OPT_BASE + 3 }, \
	{ "metrics-interval", required_argument, NULL, TSRV_OPT_BASE + 4 }, \
	{ "events-rate", required_argument, NULL, TSRV_OPT_BASE + 5 }, \
	{ "events-burst", required_argument, NULL, TSRV_OPT_BASE + 6 }

#define TSRV_USAGE \
	"  --events FILE|-    drop events as JSON lines (ECS) to FILE or stdout\n" \
	"  --events-max-size BYTES  rotate FILE to FILE.1 at this size\n" \
	"  --events-rate N    events/s per (source, destination segment), 0 = no\n" \
	"                     limit (default 10); --events-burst N (default 20)\n" \
	"  --metrics-file PATH      Prometheus text file, rewritten atomically\n" \
	"  --metrics-interval SEC   how often (default 5)\n" \
	"  --metrics-listen 127.0.0.1:PORT  serve GET /metrics (loopback only)\n"

/* tsrv_opts_init - defaults. */
void tsrv_opts_init(struct tsrv_opts *o);

/*
 * tsrv_parse_opt - one of TSRV_LONG_OPTIONS (@c) with its argument.
 * 0 or -EINVAL with @err quoting the bad value.
 */
int tsrv_parse_opt(struct tsrv_opts *o, int c, const char *arg, char *err,
		   size_t errlen);

#define TSRV_METRICS_INTERVAL 5

/*
 * tsrv_check_opts - validate before anything is loaded: the listen address
 * (loopback only). 0 or a negative errno with @err quoting the input.
 */
int tsrv_check_opts(const struct tsrv_opts *o, char *err, size_t errlen);

/*
 * tsrv_new - open the sinks and register the ring buffer, the timer and
 * the listener on @epfd; each registration's data.u64 is
 * ((uint64_t)@tag << 32) | sub, and the caller passes sub back to
 * tsrv_handle. Returns NULL with errno set and @err filled.
 */
struct tsrv *tsrv_new(const struct tsrv_opts *o, struct bpf_object *obj,
		      int epfd, uint32_t tag, char *err, size_t errlen);

/* tsrv_set_isolated - where segd_isolated_hosts comes from: @count(@ctx)
 * is asked at each metrics render (NULL: the gauge reads 0). */
void tsrv_set_isolated(struct tsrv *t, size_t (*count)(const void *ctx),
		       const void *ctx);

/* tsrv_handle - one readiness of the registration @sub. */
void tsrv_handle(struct tsrv *t, uint32_t sub);

/* tsrv_reopen - SIGHUP: reopen the events file (log rotation). */
void tsrv_reopen(struct tsrv *t);

/* tsrv_events_path - the events file, or NULL (none or stdout). */
const char *tsrv_events_path(const struct tsrv *t);

/* tsrv_free - flush metrics once more, close everything. NULL is fine. */
void tsrv_free(struct tsrv *t);

#endif /* SEGD_TELSRV_H */
