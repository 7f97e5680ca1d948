/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * audit.h - the isolation audit trail, <state-dir>/audit.log: one JSON
 * object per line (ECS-style: "@timestamp", "event": {"action"}, "user":
 * {"id"}, "source": {"ip"|"mac"}, "reason", "ticket", "segd":
 * {"generation", ...}), appended and fsync'ed before the command that
 * made it returns.
 */
#ifndef SEGD_AUDIT_H
#define SEGD_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define AUDIT_FILE_NAME "audit.log"

/* audit_append - one line (@rec, compact), O_APPEND, fsync. */
int audit_append(const char *path, const json_t *rec, char *err,
		 size_t errlen);

/*
 * audit_read - the records of @path whose "@timestamp" is at or after
 * @since (Unix seconds; 0: all), in order, as a new array. A line that is
 * not a JSON object is returned as {"unreadable": LINE_NUMBER}, never
 * skipped silently. A missing file is an empty trail. NULL on error.
 */
json_t *audit_read(const char *path, int64_t since, char *err, size_t errlen);

/* audit_timestamp - RFC 3339 UTC with milliseconds, of CLOCK_REALTIME. */
void audit_timestamp(char *buf, size_t len);

#endif /* SEGD_AUDIT_H */
