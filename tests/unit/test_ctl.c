// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * test_ctl.c - the control protocol without a kernel: request parsing and
 * validation, explain answers and their one-line text, line framing over a
 * socketpair, policy loading from a directory.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "ctl.h"

/*
 * The policy the explain cases are written against: a copy of the demo
 * hospital at the time, kept here so that a change to segments/ does not
 * silently change what these tests check.
 */
static const char hospital[] =
	"{\n"
	"  \"version\": 1,\n"
	"  \"services\": {\n"
	"    \"https\":    [{ \"proto\": \"tcp\", \"ports\": [443] }],\n"
	"    \"dicom\":    [{ \"proto\": \"tcp\", \"ports\": [104, 11112] }],\n"
	"    \"hl7-mllp\": [{ \"proto\": \"tcp\", \"ports\": [2575] }],\n"
	"    \"syslog\":   [{ \"proto\": \"udp\", \"ports\": [514] }],\n"
	"    \"dns\":      [{ \"proto\": \"udp\", \"ports\": [53] }, { \"proto\": \"tcp\", \"ports\": [53] }],\n"
	"    \"ping\":     [{ \"proto\": \"icmp\" }, { \"proto\": \"icmpv6\" }]\n"
	"  },\n"
	"  \"segments\": {\n"
	"    \"ehr\": {\n"
	"      \"members\": { \"cidr\": [\"10.10.0.0/24\", \"fd00:10::/64\"] }\n"
	"    },\n"
	"    \"iomt\": {\n"
	"      \"intra\": \"deny\",\n"
	"      \"members\": {\n"
	"        \"cidr\": [\"10.20.0.0/24\"],\n"
	"        \"devices\": [\n"
	"          { \"name\": \"pump-7\", \"ipv4\": \"10.20.0.7\", \"mac\": \"02:00:00:20:00:07\" }\n"
	"        ]\n"
	"      }\n"
	"    },\n"
	"    \"pacs\": {\n"
	"      \"members\": { \"ipv4\": [\"10.30.0.10\"] }\n"
	"    },\n"
	"    \"guest\": {\n"
	"      \"members\": { \"cidr\": [\"10.40.0.0/24\"] }\n"
	"    }\n"
	"  },\n"
	"  \"rules\": [\n"
	"    { \"name\": \"ehr-web\",          \"from\": [\"ehr\"],    \"to\": [\"ehr\"],          \"services\": [\"https\"] },\n"
	"    { \"name\": \"modalities-store\", \"from\": [\"iomt\"],   \"to\": [\"pacs\"],         \"services\": [\"dicom\"] },\n"
	"    { \"name\": \"pump-hl7\",         \"from\": [\"pump-7\"], \"to\": [\"ehr\"],          \"services\": [\"hl7-mllp\"] },\n"
	"    { \"name\": \"device-syslog\",    \"from\": [\"iomt\"],   \"to\": [\"ehr\"],          \"services\": [\"syslog\"] },\n"
	"    { \"name\": \"clinical-ping\",    \"from\": [\"ehr\"],    \"to\": [\"iomt\", \"pacs\"], \"services\": [\"ping\"] },\n"
	"    { \"name\": \"guest-internet\",   \"from\": [\"guest\"],  \"to\": [\"world\"],        \"services\": [\"https\", \"dns\"] }\n"
	"  ]\n"
	"}\n"
;

static char segdir[] = "/tmp/segd-test-ctl-seg-XXXXXX";
static char segfile[sizeof(segdir) + 32];

static int setup_dir(void **state)
{
	FILE *f;

	(void)state;
	if (!mkdtemp(segdir))
		return -1;
	snprintf(segfile, sizeof(segfile), "%s/hospital.json", segdir);
	f = fopen(segfile, "w");
	if (!f)
		return -1;
	fputs(hospital, f);
	return fclose(f) ? -1 : 0;
}

static int teardown_dir(void **state)
{
	(void)state;
	unlink(segfile);
	rmdir(segdir);
	return 0;
}

#define SEGMENTS segdir

static int parse(const char *line, struct ctl_request *req, char *err,
		 size_t errlen)
{
	err[0] = '\0';
	return ctl_parse_line(line, strlen(line), req, err, errlen);
}

/* ---------------------------------------------------------------- */
/* Requests                                                           */
/* ---------------------------------------------------------------- */

static void test_simple_commands(void **state)
{
	static const struct {
		const char *line;
		enum ctl_cmd cmd;
		const char *name;
	} ok[] = {
		{ "{\"cmd\":\"status\"}", CTL_CMD_STATUS, "status" },
		{ "{\"cmd\":\"reload\"}", CTL_CMD_RELOAD, "reload" },
		{ "  {\"cmd\" : \"stop\"}  ", CTL_CMD_STOP, "stop" },
	};
	struct ctl_request req;
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(parse(ok[i].line, &req, err, sizeof(err)), 0);
		assert_int_equal(req.cmd, ok[i].cmd);
		assert_string_equal(ctl_cmd_name(req.cmd), ok[i].name);
	}
}

/* Every refused request says why, quoting the bad input. */
static void test_refused_requests(void **state)
{
	static const struct {
		const char *line;
		const char *msg;	/* substring of the error */
	} bad[] = {
		{ "", "not valid JSON" },
		{ "status", "not valid JSON" },
		{ "{\"cmd\":\"status\"", "not valid JSON" },
		{ "[\"status\"]", "must be a JSON object" },
		{ "{}", "missing \"cmd\"" },
		{ "{\"cmd\":1}", "\"cmd\" must be a string" },
		{ "{\"cmd\":\"reboot\"}", "unknown cmd \"reboot\"" },
		{ "{\"cmd\":\"status\",\"verbose\":true}",
		  "unknown key \"verbose\" for cmd \"status\"" },
		{ "{\"cmd\":\"stop\",\"cmd\":\"status\"}", "duplicate" },
		{ "{\"cmd\":\"explain\",\"to\":\"10.0.0.1\",\"proto\":\"tcp\",\"port\":1}",
		  "source address" },
		{ "{\"cmd\":\"explain\",\"from\":\"10.0.0.1\",\"proto\":\"tcp\",\"port\":1}",
		  "destination address" },
		{ "{\"cmd\":\"explain\",\"from\":\"10.0.0.1\",\"to\":\"10.0.0.2\"}",
		  "needs a protocol" },
		{ "{\"cmd\":\"explain\",\"from\":\"10.0.0.300\",\"to\":\"10.0.0.2\",\"proto\":\"tcp\",\"port\":1}",
		  "\"10.0.0.300\" is not an IPv4 or IPv6 address" },
		{ "{\"cmd\":\"explain\",\"from\":\"10.0.0.0/8\",\"to\":\"10.0.0.2\",\"proto\":\"tcp\",\"port\":1}",
		  "\"10.0.0.0/8\" is not" },
		{ "{\"cmd\":\"explain\",\"from\":\"10.0.0.1\",\"to\":\"fd00::1\",\"proto\":\"tcp\",\"port\":1}",
		  "not of the same address family" },
		{ "{\"cmd\":\"explain\",\"from\":\"10.0.0.1\",\"to\":\"10.0.0.2\",\"proto\":\"sctp\",\"port\":1}",
		  "unknown protocol \"sctp\"" },
		{ "{\"cmd\":\"explain\",\"from\":\"10.0.0.1\",\"to\":\"10.0.0.2\",\"proto\":\"tcp\"}",
		  "tcp needs a destination port" },
		{ "{\"cmd\":\"explain\",\"from\":\"10.0.0.1\",\"to\":\"10.0.0.2\",\"proto\":\"udp\",\"port\":0}",
		  "port 0 out of range" },
		{ "{\"cmd\":\"explain\",\"from\":\"10.0.0.1\",\"to\":\"10.0.0.2\",\"proto\":\"udp\",\"port\":70000}",
		  "\"port\" 70000 out of range" },
		{ "{\"cmd\":\"explain\",\"from\":\"10.0.0.1\",\"to\":\"10.0.0.2\",\"proto\":\"udp\",\"port\":\"53\"}",
		  "\"port\" must be an integer" },
		{ "{\"cmd\":\"explain\",\"from\":\"10.0.0.1\",\"to\":\"10.0.0.2\",\"proto\":\"icmp\",\"port\":8}",
		  "a port does not apply to icmp" },
		{ "{\"cmd\":\"explain\",\"from\":\"10.0.0.1\",\"to\":\"10.0.0.2\",\"proto\":\"tcp\",\"port\":1,\"icmp_type\":3}",
		  "an icmp type does not apply to tcp" },
		{ "{\"cmd\":\"explain\",\"from\":\"10.0.0.1\",\"to\":\"10.0.0.2\",\"proto\":\"icmp\",\"icmp_type\":256}",
		  "icmp type 256 out of range" },
		{ "{\"cmd\":\"explain\",\"from\":\"fd00::1\",\"to\":\"fd00::2\",\"proto\":\"icmp\"}",
		  "icmp is for IPv4 addresses" },
		{ "{\"cmd\":\"explain\",\"from\":\"10.0.0.1\",\"to\":\"10.0.0.2\",\"proto\":\"icmpv6\"}",
		  "icmpv6 is for IPv6 addresses" },
		{ "{\"cmd\":\"explain\",\"from\":\"10.0.0.1\",\"to\":\"10.0.0.2\",\"proto\":\"tcp\",\"port\":1,\"src_mac\":\"02:00:00:00:00\"}",
		  "\"02:00:00:00:00\" is not a MAC address" },
		{ "{\"cmd\":\"explain\",\"from\":\"10.0.0.1\",\"to\":\"10.0.0.2\",\"proto\":\"tcp\",\"port\":1,\"src_mac\":\"02:00:00:00:00:zz\"}",
		  "is not a MAC address" },
		{ "{\"cmd\":\"explain\",\"from\":\"10.0.0.1\",\"to\":\"10.0.0.2\",\"proto\":\"tcp\",\"port\":1,\"dport\":1}",
		  "unknown key \"dport\" for cmd \"explain\"" },
	};
	struct ctl_request req;
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int ret = parse(bad[i].line, &req, err, sizeof(err));

		if (ret != -EINVAL || !strstr(err, bad[i].msg))
			fail_msg("request %s: ret %d, error \"%s\", want \"%s\"",
				 bad[i].line, ret, err, bad[i].msg);
	}
}

static void test_explain_request_fields(void **state)
{
	struct ctl_request req;
	char err[256];
	uint8_t a[4];

	(void)state;
	assert_int_equal(parse("{\"cmd\":\"explain\",\"from\":\"10.20.0.30\",\"to\":\"10.30.0.10\","
			       "\"proto\":\"tcp\",\"port\":104,\"src_mac\":\"02:00:00:AA:bb:0c\"}",
			       &req, err, sizeof(err)), 0);
	assert_int_equal(req.cmd, CTL_CMD_EXPLAIN);
	assert_int_equal(req.probe.family, AF_INET);
	inet_pton(AF_INET, "10.20.0.30", a);
	assert_memory_equal(req.probe.src, a, 4);
	inet_pton(AF_INET, "10.30.0.10", a);
	assert_memory_equal(req.probe.dst, a, 4);
	assert_int_equal(req.probe.proto, IPPROTO_TCP);
	assert_int_equal(req.probe.dport, 104);
	assert_true(req.probe.has_src_mac);
	assert_memory_equal(req.probe.src_mac, "\x02\x00\x00\xaa\xbb\x0c", 6);
	assert_string_equal(req.proto, "tcp");
	assert_string_equal(req.from, "10.20.0.30");

	/* ICMP: the type defaults to echo request; IPv6 addresses are
	 * normalized. */
	assert_int_equal(parse("{\"cmd\":\"explain\",\"from\":\"10.0.0.1\",\"to\":\"10.0.0.2\",\"proto\":\"icmp\"}",
			       &req, err, sizeof(err)), 0);
	assert_int_equal(req.probe.proto, IPPROTO_ICMP);
	assert_int_equal(req.probe.icmp_type, 8);
	assert_false(req.probe.has_src_mac);
	assert_int_equal(parse("{\"cmd\":\"explain\",\"from\":\"FD00:0:0::1\",\"to\":\"fd00::2\",\"proto\":\"icmpv6\",\"icmp_type\":135}",
			       &req, err, sizeof(err)), 0);
	assert_int_equal(req.probe.family, AF_INET6);
	assert_int_equal(req.probe.proto, IPPROTO_ICMPV6);
	assert_int_equal(req.probe.icmp_type, 135);
	assert_string_equal(req.from, "fd00::1");
	assert_int_equal(parse("{\"cmd\":\"explain\",\"from\":\"fd00::1\",\"to\":\"fd00::2\",\"proto\":\"icmpv6\"}",
			       &req, err, sizeof(err)), 0);
	assert_int_equal(req.probe.icmp_type, 128);
}

/* ---------------------------------------------------------------- */
/* Policy and explain                                                 */
/* ---------------------------------------------------------------- */

static void load_hospital(struct ctl_policy *pol)
{
	struct cfg_diag *diag = calloc(1, sizeof(*diag));
	char err[512] = "";

	assert_non_null(diag);
	if (ctl_policy_load(SEGMENTS, NULL, 0, NULL, 0, pol, diag, err,
			    sizeof(err)))
		fail_msg("loading %s: %s", SEGMENTS, err);
	free(diag);
}

static void test_policy_load(void **state)
{
	struct ctl_policy pol;
	struct cfg_diag *diag = calloc(1, sizeof(*diag));
	char err[512] = "";
	json_t *counts;

	(void)state;
	load_hospital(&pol);
	assert_int_equal(pol.n_files, 1);
	assert_non_null(strstr(pol.files[0], "hospital.json"));
	assert_int_equal(pol.n_segments, 4);
	assert_int_equal(pol.n_devices, 1);
	assert_int_equal(pol.n_rules, 6);
	assert_int_equal(strlen(pol.comp->digest), 64);
	counts = ctl_counts_json(pol.comp);
	assert_int_equal(json_integer_value(json_object_get(counts, "rules")), 6);
	assert_int_equal(json_integer_value(json_object_get(counts, "ids")),
			 (json_int_t)pol.comp->n_ids);
	assert_int_equal(json_integer_value(json_object_get(counts, "allows")),
			 (json_int_t)pol.comp->n_allows);
	json_decref(counts);
	ctl_policy_free(&pol);

	/* A directory that is not there: an error message, no diagnostics. */
	assert_non_null(diag);
	assert_true(ctl_policy_load("/nonexistent/segd/no/such/dir", NULL, 0, NULL,
				    0, &pol, diag, err, sizeof(err)) < 0);
	assert_int_equal(diag->n_errors, 0);
	assert_non_null(strstr(err, "no/such/dir"));
	free(diag);
}

static json_t *explain(const struct ctl_policy *pol, const char *line)
{
	struct ctl_request req;
	char err[256];

	if (parse(line, &req, err, sizeof(err)))
		fail_msg("%s: %s", line, err);
	return ctl_explain(pol->comp, &req);
}

static void test_explain_answers(void **state)
{
	static const struct {
		const char *req;
		const char *text;
		const char *rule;	/* NULL: json null */
	} cases[] = {
		{ "{\"cmd\":\"explain\",\"from\":\"10.40.0.50\",\"to\":\"10.30.0.10\",\"proto\":\"tcp\",\"port\":104}",
		  "drop (policy): 10.40.0.50 [guest] -> 10.30.0.10 [pacs] tcp/104: no rule allows it (default deny)",
		  NULL },
		{ "{\"cmd\":\"explain\",\"from\":\"10.20.0.30\",\"to\":\"10.30.0.10\",\"proto\":\"tcp\",\"port\":104}",
		  "pass (allowed): 10.20.0.30 [iomt] -> 10.30.0.10 [pacs] tcp/104 by rule modalities-store",
		  "modalities-store" },
		{ "{\"cmd\":\"explain\",\"from\":\"10.20.0.7\",\"to\":\"10.10.0.5\",\"proto\":\"tcp\",\"port\":2575}",
		  "pass (allowed): 10.20.0.7 [iomt/pump-7] -> 10.10.0.5 [ehr] tcp/2575 by rule pump-hl7",
		  "pump-hl7" },
		{ "{\"cmd\":\"explain\",\"from\":\"10.20.0.7\",\"to\":\"10.10.0.5\",\"proto\":\"tcp\",\"port\":2575,\"src_mac\":\"02:00:00:20:00:99\"}",
		  "drop (spoofed): 10.20.0.7 [iomt/pump-7] -> 10.10.0.5 [ehr] tcp/2575: 10.20.0.7 is bound to MAC 02:00:00:20:00:07 and the frame comes from another MAC",
		  NULL },
		{ "{\"cmd\":\"explain\",\"from\":\"10.10.0.5\",\"to\":\"10.30.0.10\",\"proto\":\"icmp\"}",
		  "pass (allowed): 10.10.0.5 [ehr] -> 10.30.0.10 [pacs] icmp type 8 by rule clinical-ping",
		  "clinical-ping" },
		{ "{\"cmd\":\"explain\",\"from\":\"10.40.0.9\",\"to\":\"8.8.8.8\",\"proto\":\"udp\",\"port\":53}",
		  "pass (allowed): 10.40.0.9 [guest] -> 8.8.8.8 [world] udp/53 by rule guest-internet",
		  "guest-internet" },
	};
	struct ctl_policy pol;
	char text[1024];
	size_t i;

	(void)state;
	load_hospital(&pol);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *r = explain(&pol, cases[i].req);
		const json_t *rule;

		assert_non_null(r);
		assert_int_equal(ctl_explain_text(r, text, sizeof(text)), 0);
		if (strcmp(text, cases[i].text))
			fail_msg("%s\n got: %s\nwant: %s", cases[i].req, text,
				 cases[i].text);
		rule = json_object_get(r, "rule");
		if (cases[i].rule)
			assert_string_equal(json_string_value(rule), cases[i].rule);
		else
			assert_true(json_is_null(rule));
		json_decref(r);
	}
	ctl_policy_free(&pol);
}

/* The JSON answer carries the documented fields. */
static void test_explain_json_shape(void **state)
{
	struct ctl_policy pol;
	const json_t *from, *to;
	json_t *r;

	(void)state;
	load_hospital(&pol);
	r = explain(&pol, "{\"cmd\":\"explain\",\"from\":\"10.20.0.7\",\"to\":\"10.30.0.10\",\"proto\":\"tcp\",\"port\":104}");
	assert_string_equal(json_string_value(json_object_get(r, "verdict")), "pass");
	assert_string_equal(json_string_value(json_object_get(r, "reason")), "allowed");
	assert_string_equal(json_string_value(json_object_get(r, "proto")), "tcp");
	assert_int_equal(json_integer_value(json_object_get(r, "port")), 104);
	from = json_object_get(r, "from");
	to = json_object_get(r, "to");
	assert_string_equal(json_string_value(json_object_get(from, "address")), "10.20.0.7");
	assert_string_equal(json_string_value(json_object_get(from, "identity")), "pump-7");
	assert_string_equal(json_string_value(json_object_get(from, "segment")), "iomt");
	assert_string_equal(json_string_value(json_object_get(from, "bound_mac")),
			    "02:00:00:20:00:07");
	assert_string_equal(json_string_value(json_object_get(to, "identity")), "pacs");
	assert_string_equal(json_string_value(json_object_get(to, "segment")), "pacs");
	assert_null(json_object_get(to, "bound_mac"));
	json_decref(r);

	/* ICMP: port is null, the type is given. */
	r = explain(&pol, "{\"cmd\":\"explain\",\"from\":\"10.40.0.9\",\"to\":\"10.30.0.10\",\"proto\":\"icmp\",\"icmp_type\":13}");
	assert_true(json_is_null(json_object_get(r, "port")));
	assert_int_equal(json_integer_value(json_object_get(r, "icmp_type")), 13);
	assert_string_equal(json_string_value(json_object_get(r, "verdict")), "drop");
	json_decref(r);
	ctl_policy_free(&pol);
}

static void test_explain_text_needs_fields(void **state)
{
	char text[256];
	json_t *r = json_pack("{s:s}", "verdict", "pass");

	(void)state;
	assert_int_equal(ctl_explain_text(r, text, sizeof(text)), -EINVAL);
	json_decref(r);
}

static void test_diag_json(void **state)
{
	struct cfg_diag d;
	json_t *errs, *warns;

	(void)state;
	memset(&d, 0, sizeof(d));
	d.v[0] = (struct cfg_diag_entry){ CFG_ERROR, "a.json", 3, 7, "bad \"x\"" };
	d.v[1] = (struct cfg_diag_entry){ CFG_WARNING, "b.json", 1, 2, "hmm" };
	d.v[2] = (struct cfg_diag_entry){ CFG_ERROR, "c.json", 9, 1, "worse" };
	d.n = 3;
	d.n_errors = 2;
	d.n_warnings = 1;
	errs = ctl_diag_json(&d, CFG_ERROR);
	warns = ctl_diag_json(&d, CFG_WARNING);
	assert_int_equal(json_array_size(errs), 2);
	assert_int_equal(json_array_size(warns), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(errs, 0), "file")), "a.json");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(errs, 0), "line")), 3);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(errs, 0), "column")), 7);
	assert_string_equal(json_string_value(json_object_get(json_array_get(errs, 0), "message")), "bad \"x\"");
	assert_string_equal(json_string_value(json_object_get(json_array_get(errs, 1), "file")), "c.json");
	assert_string_equal(json_string_value(json_object_get(json_array_get(warns, 0), "message")), "hmm");
	json_decref(errs);
	json_decref(warns);
}

/* ---------------------------------------------------------------- */
/* Framing                                                            */
/* ---------------------------------------------------------------- */

struct seen {
	int calls;
	char last[256];
};

static json_t *echo_cmd(const char *line, size_t len, void *ctx)
{
	struct seen *s = ctx;
	struct ctl_request req;
	char err[256];

	s->calls++;
	snprintf(s->last, sizeof(s->last), "%.*s", (int)len, line);
	if (ctl_parse_line(line, len, &req, err, sizeof(err)))
		return ctl_error_response("%s", err);
	return json_pack("{s:b, s:s}", "ok", 1, "cmd", ctl_cmd_name(req.cmd));
}

static char *read_line(int fd)
{
	static char buf[4096];
	size_t len = 0;

	while (len < sizeof(buf) - 1) {
		ssize_t n = read(fd, buf + len, 1);

		if (n <= 0)
			break;
		if (buf[len] == '\n')
			break;
		len++;
	}
	buf[len] = '\0';
	return buf;
}

static void test_conn_lines(void **state)
{
	struct ctl_conn c = { 0 };
	struct seen s = { 0 };
	const char *in = "{\"cmd\":\"status\"}\n\r\n{\"cmd\":\"stop\"}\r\n{\"cmd\":";
	json_t *r;
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	c.fd = sv[0];
	assert_int_equal(write(sv[1], in, strlen(in)), (ssize_t)strlen(in));
	/* Two complete requests answered in order, empty lines skipped, the
	 * partial one kept for later. */
	assert_int_equal(ctl_conn_read(&c, echo_cmd, &s), 0);
	assert_int_equal(s.calls, 2);
	assert_string_equal(s.last, "{\"cmd\":\"stop\"}");
	r = json_loads(read_line(sv[1]), 0, NULL);
	assert_string_equal(json_string_value(json_object_get(r, "cmd")), "status");
	json_decref(r);
	r = json_loads(read_line(sv[1]), 0, NULL);
	assert_string_equal(json_string_value(json_object_get(r, "cmd")), "stop");
	json_decref(r);

	assert_int_equal(write(sv[1], "\"reload\"}\n{\"cmd\":\"x\"}\n", 23), 23);
	assert_int_equal(ctl_conn_read(&c, echo_cmd, &s), 0);
	assert_int_equal(s.calls, 4);
	r = json_loads(read_line(sv[1]), 0, NULL);
	assert_string_equal(json_string_value(json_object_get(r, "cmd")), "reload");
	json_decref(r);
	r = json_loads(read_line(sv[1]), 0, NULL);
	assert_true(json_is_false(json_object_get(r, "ok")));
	assert_non_null(strstr(json_string_value(json_object_get(r, "error")),
			       "unknown cmd \"x\""));
	json_decref(r);

	/* The peer closing ends the connection. */
	close(sv[1]);
	assert_int_equal(ctl_conn_read(&c, echo_cmd, &s), 1);
	free(c.buf);
	close(sv[0]);
}

static void test_conn_oversized_line(void **state)
{
	struct ctl_conn c = { 0 };
	struct seen s = { 0 };
	char *big;
	json_t *r;
	int sv[2], ret;
	size_t off = 0, len = CTL_MAX_LINE + 10;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	c.fd = sv[0];
	big = malloc(len);
	assert_non_null(big);
	memset(big, ' ', len);
	/* Feed it in pieces: the socket buffer is smaller than a line. */
	ret = 0;
	while (off < len && ret == 0) {
		ssize_t n = write(sv[1], big + off, len - off);

		if (n > 0)
			off += (size_t)n;
		ret = ctl_conn_read(&c, echo_cmd, &s);
	}
	assert_int_equal(ret, 1);	/* dropped */
	assert_int_equal(s.calls, 0);	/* never handled */
	r = json_loads(read_line(sv[1]), 0, NULL);
	assert_non_null(strstr(json_string_value(json_object_get(r, "error")),
			       "longer than"));
	json_decref(r);
	free(big);
	free(c.buf);
	close(sv[0]);
	close(sv[1]);
}

static void test_sock_path(void **state)
{
	char buf[256], longdir[200];

	(void)state;
	assert_int_equal(ctl_sock_path("/run/segd", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/run/segd/segd.sock");
	memset(longdir, 'a', sizeof(longdir) - 1);
	longdir[0] = '/';
	longdir[sizeof(longdir) - 1] = '\0';
	/* sockaddr_un holds 108 bytes: refuse rather than truncate. */
	assert_int_equal(ctl_sock_path(longdir, buf, sizeof(buf)), -ENAMETOOLONG);
}

static void test_call_not_running(void **state)
{
	char dir[] = "/tmp/segd-test-ctl-XXXXXX", err[512] = "";
	json_t *req = json_pack("{s:s}", "cmd", "status"), *resp = NULL;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(ctl_call(dir, req, &resp, 1000, err, sizeof(err)), -ENOENT);
	assert_null(resp);
	assert_non_null(strstr(err, "segd is not running"));
	assert_non_null(strstr(err, dir));
	json_decref(req);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simple_commands),
		cmocka_unit_test(test_refused_requests),
		cmocka_unit_test(test_explain_request_fields),
		cmocka_unit_test(test_policy_load),
		cmocka_unit_test(test_explain_answers),
		cmocka_unit_test(test_explain_json_shape),
		cmocka_unit_test(test_explain_text_needs_fields),
		cmocka_unit_test(test_diag_json),
		cmocka_unit_test(test_conn_lines),
		cmocka_unit_test(test_conn_oversized_line),
		cmocka_unit_test(test_sock_path),
		cmocka_unit_test(test_call_not_running),
	};

	return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
