// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* isocli.c - see isocli.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "ctl.h"
#include "isocli.h"
#include "isolate.h"
#include "jsonout.h"

#define ISOCLI_TIMEOUT_MS 10000

static int send_req(const char *run_dir, json_t *rq, json_t **resp)
{
	char err[1024] = "";
	int ret;

	*resp = NULL;
	if (!rq) {
		jo_error("out of memory");
		return 1;
	}
	ret = ctl_call(run_dir, rq, resp, ISOCLI_TIMEOUT_MS, err, sizeof(err));
	json_decref(rq);
	if (ret) {
		jo_error("%s", err);
		return 1;
	}
	if (!json_is_true(json_object_get(*resp, "ok"))) {
		jo_error("%s", json_string_value(json_object_get(*resp, "error")) ?:
			 "segd refused the request");
		json_decref(*resp);
		*resp = NULL;
		return 1;
	}
	json_object_del(*resp, "ok");
	return 0;
}

static const char *str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "-";
}

static void print_entry(const json_t *e)
{
	printf("%-18s %-40s since %s until %s uid %lld reason \"%s\"%s%s\n",
	       str(e, "host"), str(e, "address"), str(e, "since"),
	       json_object_get(e, "until") ? str(e, "until") : "released",
	       (long long)json_integer_value(json_object_get(e, "uid")),
	       str(e, "reason"), json_object_get(e, "ticket") ? " ticket " : "",
	       json_object_get(e, "ticket") ? str(e, "ticket") : "");
}

/* Options of the form --name VALUE; @host gets the one positional. */
static int parse_opts(int argc, char **argv, const char **host,
		      const char **reason, const char **dur,
		      const char **ticket, const char **since)
{
	int i;

	for (i = 1; i < argc; i++) {
		const char **slot = NULL;

		if (!strcmp(argv[i], "--reason"))
			slot = reason;
		else if (!strcmp(argv[i], "--for"))
			slot = dur;
		else if (!strcmp(argv[i], "--ticket"))
			slot = ticket;
		else if (!strcmp(argv[i], "--since"))
			slot = since;
		else if (argv[i][0] == '-' && argv[i][1] == '-')
			return jo_usage("unknown option \"%s\"", argv[i]);
		else if (host && !*host) {
			*host = argv[i];
			continue;
		} else {
			return jo_usage("unexpected argument \"%s\"", argv[i]);
		}
		if (!slot)
			return jo_usage("option \"%s\" does not belong to this command",
					argv[i]);
		if (i + 1 >= argc)
			return jo_usage("\"%s\" needs a value", argv[i]);
		*slot = argv[++i];
	}
	return 0;
}

static int do_isolate(const char *run_dir, int argc, char **argv)
{
	const char *host = NULL, *reason = NULL, *dur = NULL, *ticket = NULL;
	uint64_t secs = 0;
	json_t *rq, *resp, *a;
	size_t i;
	int ret;

	ret = parse_opts(argc, argv, &host, &reason, &dur, &ticket, NULL);
	if (ret)
		return ret;
	if (!host)
		return jo_usage("isolate needs a HOST (address, MAC or device name)%s", "");
	if (!reason)
		return jo_usage("isolate %s needs --reason TEXT", host);
	if (dur && iso_parse_duration(dur, &secs))
		return jo_usage("--for \"%s\": a duration like 90s, 15m, 12h, 7d", dur);
	rq = json_pack("{s:s, s:s, s:s}", "cmd", "isolate", "host", host,
		       "reason", reason);
	if (rq && dur)
		json_object_set_new(rq, "for", json_integer((json_int_t)secs));
	if (rq && ticket)
		json_object_set_new(rq, "ticket", json_string(ticket));
	ret = send_req(run_dir, rq, &resp);
	if (ret)
		return ret;
	if (jo_json()) {
		jo_emit(resp);
		return 0;
	}
	json_array_foreach(json_object_get(resp, "isolated"), i, a)
		printf("isolated %s (%s)%s%s\n", str(a, "address"), host,
		       json_object_get(a, "until") ? " until " : "",
		       json_object_get(a, "until") ? str(a, "until") : "");
	printf("%lld conntrack entr%s deleted, %.3f ms\n",
	       (long long)json_integer_value(json_object_get(resp, "conntrack_deleted")),
	       json_integer_value(json_object_get(resp, "conntrack_deleted")) == 1 ? "y" : "ies",
	       json_real_value(json_object_get(resp, "elapsed_ms")));
	json_decref(resp);
	return 0;
}

static int do_release(const char *run_dir, int argc, char **argv)
{
	const char *host = NULL, *reason = NULL;
	json_t *resp, *a;
	size_t i;
	int ret;

	ret = parse_opts(argc, argv, &host, &reason, NULL, NULL, NULL);
	if (ret)
		return ret;
	if (!host)
		return jo_usage("release needs a HOST%s", "");
	if (!reason)
		return jo_usage("release %s needs --reason TEXT", host);
	ret = send_req(run_dir, json_pack("{s:s, s:s, s:s}", "cmd", "release",
					  "host", host, "reason", reason),
		       &resp);
	if (ret)
		return ret;
	if (jo_json()) {
		jo_emit(resp);
		return 0;
	}
	json_array_foreach(json_object_get(resp, "released"), i, a)
		printf("released %s (%s)\n", str(a, "address"), host);
	json_decref(resp);
	return 0;
}

static int do_isolated(const char *run_dir, int argc, char **argv)
{
	json_t *resp, *a;
	size_t i;
	int ret;

	if (argc != 1)
		return jo_usage("isolated takes no argument (\"%s\")", argv[1]);
	ret = send_req(run_dir, json_pack("{s:s}", "cmd", "isolated"), &resp);
	if (ret)
		return ret;
	if (jo_json()) {
		jo_emit(resp);
		return 0;
	}
	if (!json_array_size(json_object_get(resp, "isolated")))
		printf("no host is isolated\n");
	json_array_foreach(json_object_get(resp, "isolated"), i, a)
		print_entry(a);
	json_decref(resp);
	return 0;
}

/* RFC 3339 UTC ("2026-12-03T18:00:00Z") or a duration ago ("1h"). */
static int parse_since(const char *s, long long *out)
{
	struct tm tm;
	uint64_t secs;
	const char *end;

	if (!iso_parse_duration(s, &secs)) {
		*out = (long long)time(NULL) - (long long)secs;
		return 0;
	}
	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!end || (strcmp(end, "Z") && strcmp(end, "")))
		return -EINVAL;
	*out = (long long)timegm(&tm);
	return 0;
}

static int do_history(const char *run_dir, int argc, char **argv)
{
	const char *since = NULL;
	long long t = 0;
	json_t *rq, *resp, *r;
	size_t i;
	int ret;

	ret = parse_opts(argc, argv, NULL, NULL, NULL, NULL, &since);
	if (ret)
		return ret;
	if (since && parse_since(since, &t))
		return jo_usage("--since \"%s\": a time like 2026-12-03T18:00:00Z or a duration ago like 1h",
				since);
	rq = json_pack("{s:s}", "cmd", "history");
	if (rq && since)
		json_object_set_new(rq, "since", json_integer(t < 0 ? 0 : t));
	ret = send_req(run_dir, rq, &resp);
	if (ret)
		return ret;
	if (jo_json()) {
		jo_emit(resp);
		return 0;
	}
	json_array_foreach(json_object_get(resp, "records"), i, r) {
		json_t *src = json_object_get(r, "source");
		json_t *ev = json_object_get(r, "event");
		json_t *user = json_object_get(r, "user");
		char what[200];

		if (json_object_get(r, "unreadable")) {
			printf("(line %lld of the audit log is unreadable)\n",
			       (long long)json_integer_value(json_object_get(r, "unreadable")));
			continue;
		}
		if (json_object_get(src, "segment"))	/* break-glass */
			snprintf(what, sizeof(what), "#%lld %s->%s %s",
				 (long long)json_integer_value(json_object_get(
					 json_object_get(r, "segd"), "breakglass")),
				 str(src, "segment"),
				 str(json_object_get(r, "destination"), "segment"),
				 str(json_object_get(r, "service"), "name"));
		else
			snprintf(what, sizeof(what), "%s",
				 json_object_get(src, "ip") ? str(src, "ip") :
							      str(src, "mac"));
		printf("%s %-10s %-18s uid %-5s %s%s%s\n", str(r, "@timestamp"),
		       str(ev, "action"), what,
		       str(user, "id"), str(r, "reason"),
		       json_object_get(r, "ticket") ? " ticket " : "",
		       json_object_get(r, "ticket") ? str(r, "ticket") : "");
	}
	json_decref(resp);
	return 0;
}

/* breakglass --from A --to B --service S --for D --reason R [--ticket T] */
static int do_bg_grant(const char *run_dir, int argc, char **argv)
{
	const char *v[6] = { NULL };
	static const char *const opt[6] = { "--from", "--to", "--service",
					    "--for", "--reason", "--ticket" };
	uint64_t secs;
	json_t *rq, *resp, *b;
	int i, k, ret;

	for (i = 1; i < argc; i++) {
		for (k = 0; k < 6; k++)
			if (!strcmp(argv[i], opt[k]))
				break;
		if (k == 6)
			return jo_usage("breakglass: unexpected \"%s\"", argv[i]);
		if (i + 1 >= argc)
			return jo_usage("\"%s\" needs a value", argv[i]);
		v[k] = argv[++i];
	}
	if (!v[0] || !v[1] || !v[2] || !v[3])
		return jo_usage("breakglass needs --from A --to B --service S --for DURATION%s", "");
	if (!v[4])
		return jo_usage("breakglass needs --reason TEXT%s", "");
	if (iso_parse_duration(v[3], &secs))
		return jo_usage("--for \"%s\": a duration like 90s, 15m, 12h", v[3]);
	rq = json_pack("{s:s, s:s, s:s, s:s, s:I, s:s}", "cmd", "breakglass",
		       "from", v[0], "to", v[1], "service", v[2], "for",
		       (json_int_t)secs, "reason", v[4]);
	if (rq && v[5])
		json_object_set_new(rq, "ticket", json_string(v[5]));
	ret = send_req(run_dir, rq, &resp);
	if (ret)
		return ret;
	if (jo_json()) {
		jo_emit(resp);
		return 0;
	}
	b = json_object_get(resp, "breakglass");
	printf("break-glass #%lld: %s -> %s %s allowed until %s\n",
	       (long long)json_integer_value(json_object_get(b, "id")),
	       str(b, "from"), str(b, "to"), str(b, "service"), str(b, "until"));
	json_decref(resp);
	return 0;
}

static int do_breakglass(const char *run_dir, int argc, char **argv)
{
	const char *reason = NULL;
	json_t *resp, *b;
	char *end;
	long long id;
	size_t i;
	int ret;

	if (argc < 2 || (strcmp(argv[1], "list") && strcmp(argv[1], "revoke")))
		return do_bg_grant(run_dir, argc, argv);
	if (!strcmp(argv[1], "list")) {
		if (argc != 2)
			return jo_usage("breakglass list takes no argument (\"%s\")", argv[2]);
		ret = send_req(run_dir, json_pack("{s:s}", "cmd", "breakglass_list"),
			       &resp);
		if (ret)
			return ret;
		if (jo_json()) {
			jo_emit(resp);
			return 0;
		}
		if (!json_array_size(json_object_get(resp, "breakglass")))
			printf("no break-glass allow in force\n");
		json_array_foreach(json_object_get(resp, "breakglass"), i, b)
			printf("#%-4lld %-16s -> %-16s %-12s since %s until %s uid %lld reason \"%s\"%s%s\n",
			       (long long)json_integer_value(json_object_get(b, "id")),
			       str(b, "from"), str(b, "to"), str(b, "service"),
			       str(b, "since"), str(b, "until"),
			       (long long)json_integer_value(json_object_get(b, "uid")),
			       str(b, "reason"),
			       json_object_get(b, "ticket") ? " ticket " : "",
			       json_object_get(b, "ticket") ? str(b, "ticket") : "");
		json_decref(resp);
		return 0;
	}
	if (argc < 3 || argv[2][0] < '0' || argv[2][0] > '9')
		return jo_usage("breakglass revoke needs an ID (see breakglass list)%s", "");
	errno = 0;
	id = strtoll(argv[2], &end, 10);
	if (errno || *end)
		return jo_usage("breakglass revoke: \"%s\" is not an id", argv[2]);
	ret = parse_opts(argc - 2, argv + 2, NULL, &reason, NULL, NULL, NULL);
	if (ret)
		return ret;
	if (!reason)
		return jo_usage("breakglass revoke %s needs --reason TEXT", argv[2]);
	ret = send_req(run_dir, json_pack("{s:s, s:I, s:s}", "cmd", "revoke",
					  "id", (json_int_t)id, "reason", reason),
		       &resp);
	if (ret)
		return ret;
	if (jo_json()) {
		jo_emit(resp);
		return 0;
	}
	b = json_object_get(resp, "revoked");
	printf("revoked break-glass #%lld (%s -> %s %s)\n", id, str(b, "from"),
	       str(b, "to"), str(b, "service"));
	json_decref(resp);
	return 0;
}

int isocli_run(const char *run_dir, int argc, char **argv)
{
	if (!strcmp(argv[0], "breakglass"))
		return do_breakglass(run_dir, argc, argv);
	if (!strcmp(argv[0], "isolate"))
		return do_isolate(run_dir, argc, argv);
	if (!strcmp(argv[0], "release"))
		return do_release(run_dir, argc, argv);
	if (!strcmp(argv[0], "isolated"))
		return do_isolated(run_dir, argc, argv);
	return do_history(run_dir, argc, argv);
}
