/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * log.h - the one logging module of segd and segctl.
 *
 * Messages go to stderr as "PROG: [error: |warning: ]MSG". When stderr is the
 * systemd journal (JOURNAL_STREAM is set), each line is prefixed with its
 * syslog priority ("<4>") so journald records the right level.
 * libbpf's printer is routed through here (log_libbpf_setup); callers that
 * report a libbpf failure themselves can mute libbpf around the call.
 */
#ifndef SEGD_LOG_H
#define SEGD_LOG_H

#include <stdbool.h>

enum log_level {
	LOG_LVL_ERR = -1,	/* always printed */
	LOG_LVL_WARN = 0,
	LOG_LVL_INFO = 1,
	LOG_LVL_DEBUG = 2,
	LOG_LVL_TRACE = 3,	/* libbpf's own debug output */
};

/* log_init - set the program name shown in front of every line and the
 * most verbose level printed (default LOG_LVL_INFO). */
void log_init(const char *prog, enum log_level level);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);

void log_print(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define pr_err(...)   log_print(LOG_LVL_ERR, __VA_ARGS__)
#define pr_warn(...)  log_print(LOG_LVL_WARN, __VA_ARGS__)
#define pr_info(...)  log_print(LOG_LVL_INFO, __VA_ARGS__)
#define pr_debug(...) log_print(LOG_LVL_DEBUG, __VA_ARGS__)

/* log_libbpf_setup - install the libbpf print callback: libbpf warnings
 * print as warnings, its info at -v (debug) and its debug at -vv. */
void log_libbpf_setup(void);

/* log_libbpf_mute - while muted, libbpf's messages are dropped (we report
 * the failure ourselves). Returns the previous state. */
bool log_libbpf_mute(bool mute);

#endif /* SEGD_LOG_H */
