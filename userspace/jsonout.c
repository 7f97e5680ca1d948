// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * jsonout.c - one writer for segctl's output, errors included.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "jsonout.h"

static const char *jo_prog = "segctl";
static bool jo_is_json;

void jo_init(const char *prog, bool json)
{
	if (prog)
		jo_prog = prog;
	jo_is_json = json;
}

bool jo_json(void)
{
	return jo_is_json;
}

void jo_emit_record(json_t *obj)
{
	if (!obj) {
		/* Only an allocation failure gets here. */
		fputs("{\"ok\":false,\"error\":\"out of memory\"}\n", stdout);
		return;
	}
	json_dumpf(obj, stdout, JSON_COMPACT);
	fputc('\n', stdout);
	fflush(stdout);
	json_decref(obj);
}

/* Every document segctl prints says "ok": false when it carries an
 * error, true otherwise, unless the command set it itself. */
void jo_emit(json_t *obj)
{
	if (json_is_object(obj) && !json_object_get(obj, "ok"))
		json_object_set_new(obj, "ok",
				    json_boolean(!json_object_get(obj, "error")));
	jo_emit_record(obj);
}

static void jo_verror(json_t *extra, const char *fmt, va_list ap)
{
	char msg[2048];
	json_t *o;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (!jo_is_json) {
		fprintf(stderr, "%s: error: %s\n", jo_prog, msg);
		json_decref(extra);
		return;
	}
	o = json_object();
	if (o) {
		json_object_set_new(o, "error", json_string(msg));
		if (extra)
			json_object_update_missing(o, extra);
	}
	json_decref(extra);
	jo_emit(o);
}

void jo_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	jo_verror(NULL, fmt, ap);
	va_end(ap);
}

void jo_error_obj(json_t *extra, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	jo_verror(extra, fmt, ap);
	va_end(ap);
}

int jo_usage(const char *fmt, const char *arg)
{
	char msg[512];

	snprintf(msg, sizeof(msg), fmt, arg);
	if (jo_is_json)
		jo_error("%s (see %s help)", msg, jo_prog);
	else
		fprintf(stderr, "%s: %s\n(run `%s help` for usage)\n", jo_prog,
			msg, jo_prog);
	return 2;
}
