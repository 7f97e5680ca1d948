/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * metrics.h - segd's metrics in the Prometheus text exposition format
 * (version 0.0.4), for node_exporter's textfile collector (written
 * atomically) and for a loopback-only HTTP endpoint.
 *
 * Labels carry segment names, verdicts and reasons, never addresses, so
 * their number is bounded by segments^2 x reasons.
 */
#ifndef SEGD_METRICS_H
#define SEGD_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "telemetry.h"

#define MET_VERSION "0.1.0"

struct met_snapshot {
	const struct tel_counter *counters;	/* as tel_read_counters */
	size_t n;
	const struct tel_names *names;		/* may be NULL */
	uint64_t events_sent;		/* segd_evstats_v1, summed over CPUs */
	uint64_t events_suppressed;
	uint64_t ringbuf_lost;
	uint64_t events_written;	/* lines segd wrote to --events */
	uint64_t events_write_errors;	/* lines it could not write */
	uint64_t isolated_hosts;	/* isolation entries in force */
	uint64_t generation;
	const char *version;
};

/*
 * met_render - the exposition text of @s into a malloc'ed, NUL-terminated
 * *out (caller frees). Every family has its HELP and TYPE lines; samples of
 * a family are contiguous. Returns 0 or -ENOMEM.
 */
int met_render(const struct met_snapshot *s, char **out, size_t *len);

/*
 * met_escape_label - a label value escaped as the format asks (backslash,
 * double quote, newline). Returns @buf; truncates to @len.
 */
const char *met_escape_label(const char *in, char *buf, size_t len);

/*
 * met_write_file - replace @path with @text atomically: write PATH.tmp,
 * fsync, rename over PATH (a collector never reads half a file).
 * 0 or a negative errno.
 */
int met_write_file(const char *path, const char *text, size_t len);

/*
 * met_parse_listen - "127.0.0.1:PORT" or "[::1]:PORT" into @ss. Any
 * address outside 127.0.0.0/8 and ::1 is refused (-EPERM): the endpoint
 * has no authentication. -EINVAL with @err quoting bad input.
 */
int met_parse_listen(const char *spec, struct sockaddr_storage *ss,
		     socklen_t *sl, char *err, size_t errlen);

#endif /* SEGD_METRICS_H */
