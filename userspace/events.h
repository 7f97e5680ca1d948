/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * events.h - drop events as JSON lines with Elastic Common Schema field
 * names, and the file they are appended to (rotation on SIGHUP and size).
 *
 * The schema is docs/telemetry.md. Formatting is pure (ev_format), so the
 * unit tests pin it down; the sink does the I/O.
 */
#ifndef SEGD_EVENTS_H
#define SEGD_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "../include/segd_abi.h"
#include "telemetry.h"

/* What an event needs from outside the kernel's record. */
struct ev_labels {
	uint64_t wall_ns;		/* the event's time, ns since the epoch */
	const char *ifname;		/* ingress interface, NULL if unknown */
	const struct tel_names *names;	/* ids -> names, may be NULL */
};

/*
 * ev_json - the event as an ECS object: @timestamp, event.*, source.*,
 * destination.*, network.*, observer.ingress.interface.name, segd.*.
 * NULL on ENOMEM.
 */
json_t *ev_json(const struct segd_event *e, const struct ev_labels *l);

/*
 * ev_format - ev_json as one compact line with a trailing '\n' into @buf.
 * Returns the length, or -ENOSPC / -ENOMEM.
 */
int ev_format(const struct segd_event *e, const struct ev_labels *l,
	      char *buf, size_t len);

/* ev_rfc3339_ms - "2026-12-03T18:07:02.123Z" for @wall_ns. */
void ev_rfc3339_ms(uint64_t wall_ns, char *buf, size_t len);

/* ev_mac - ECS form of a MAC: upper case, '-' separated. */
void ev_mac(const uint8_t mac[6], char *buf, size_t len);

/* ev_transport - network.transport: "tcp", "udp", "icmp", "ipv6-icmp",
 * or the protocol number as text in @buf. */
const char *ev_transport(uint8_t proto, char *buf, size_t len);

/* ---- the sink ------------------------------------------------------ */

/*
 * An events file. "-" is stdout (no rotation). Lines are written with one
 * write(2) each, O_APPEND, so a reader never sees half a line from us.
 * With max_size, a write that would grow the file past it first renames
 * FILE to FILE.1 (replacing an older FILE.1) and opens a new FILE.
 */
struct ev_sink {
	char *path;
	int fd;
	uint64_t size;
	uint64_t max_size;	/* 0: no size rotation */
	uint64_t written;	/* lines written since start */
	uint64_t failed;	/* lines that could not be written */
	bool cut;		/* a partial line is at the end of the file */
};

/* ev_sink_open - 0 or a negative errno. */
int ev_sink_open(struct ev_sink *s, const char *path, uint64_t max_size);

/* ev_sink_reopen - SIGHUP: close and open the path again (a log rotator
 * has moved the file). 0 or a negative errno (the old fd is kept). */
int ev_sink_reopen(struct ev_sink *s);

/* ev_sink_write - append one line (ending in '\n'). 0 or -errno. */
int ev_sink_write(struct ev_sink *s, const char *line, size_t len);

void ev_sink_close(struct ev_sink *s);

#endif /* SEGD_EVENTS_H */
