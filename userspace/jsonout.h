/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * jsonout.h - the one writer of segctl's results, for --json and text.
 *
 * With --json every command prints exactly one JSON document on stdout,
 * errors included: {"error": "..."} (like bpftool's json_wtr). Without it,
 * results go to stdout and errors to stderr as "segctl: error: ...".
 */
#ifndef SEGD_JSONOUT_H
#define SEGD_JSONOUT_H

#include <stdbool.h>

#include <jansson.h>

void jo_init(const char *prog, bool json);
bool jo_json(void);

/* One record of a stream (an event line): printed as it is, no "ok". */
void jo_emit_record(json_t *obj);

/* jo_emit - print @obj as one line on stdout and release it; adds
 * "ok" (false when it has an "error") unless @obj has one. */
void jo_emit(json_t *obj);

/* jo_usage - report a command-line mistake (fmt takes one %s, @arg), with a
 * pointer to `segctl help`; returns 2, the usage exit status. */
int jo_usage(const char *fmt, const char *arg);

/* jo_error - report an error: {"error": MSG} or "PROG: error: MSG". */
void jo_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* jo_error_obj - report an error with extra fields (json mode) merged into
 * {"error": MSG, ...}; @extra is released. Text mode prints MSG only. */
void jo_error_obj(json_t *extra, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif /* SEGD_JSONOUT_H */
