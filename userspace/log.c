// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * log.c - pr_warn/pr_info/pr_debug and the libbpf print callback.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "log.h"

static const char *log_prog = "segd";
static enum log_level log_level = LOG_LVL_INFO;
static bool log_muted;
static int log_journal = -1;	/* -1: not yet checked */

void log_init(const char *prog, enum log_level level)
{
	if (prog)
		log_prog = prog;
	log_level = level;
	log_journal = getenv("JOURNAL_STREAM") != NULL;
}

void log_set_level(enum log_level level)
{
	log_level = level;
}

enum log_level log_get_level(void)
{
	return log_level;
}

/* Syslog priorities, for journald's "<N>" line prefix. */
static int log_syslog_prio(enum log_level level)
{
	switch (level) {
	case LOG_LVL_ERR:
		return 3;
	case LOG_LVL_WARN:
		return 4;
	case LOG_LVL_INFO:
		return 6;
	default:
		return 7;
	}
}

static void log_vprint(enum log_level level, const char *fmt, va_list ap)
{
	char msg[2048];
	size_t len;

	if ((int)level > (int)log_level)
		return;
	if (log_journal < 0)
		log_journal = getenv("JOURNAL_STREAM") != NULL;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	len = strlen(msg);
	/* libbpf ends its lines with '\n', our callers do not. */
	while (len && msg[len - 1] == '\n')
		msg[--len] = '\0';
	if (log_journal)
		fprintf(stderr, "<%d>", log_syslog_prio(level));
	fprintf(stderr, "%s: %s%s\n", log_prog,
		level == LOG_LVL_ERR ? "error: " :
		level == LOG_LVL_WARN ? "warning: " : "", msg);
}

void log_print(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vprint(level, fmt, ap);
	va_end(ap);
}

static int log_libbpf_print(enum libbpf_print_level level, const char *fmt,
			    va_list ap)
{
	enum log_level l;

	if (log_muted)
		return 0;
	switch (level) {
	case LIBBPF_WARN:
		l = LOG_LVL_WARN;
		break;
	case LIBBPF_INFO:
		l = LOG_LVL_DEBUG;
		break;
	default:
		l = LOG_LVL_TRACE;
		break;
	}
	log_vprint(l, fmt, ap);
	return 0;
}

void log_libbpf_setup(void)
{
	libbpf_set_print(log_libbpf_print);
}

bool log_libbpf_mute(bool mute)
{
	bool old = log_muted;

	log_muted = mute;
	return old;
}
