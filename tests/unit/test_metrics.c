// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * test_metrics.c - the Prometheus exposition of metrics.c, parsed back by
 * the strict parser of promparse.h: families, values, escaped labels, no
 * addresses; the parser itself refuses broken text; the atomic file; the
 * loopback-only listen address.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "metrics.h"
#include "promparse.h"	/* tests/unit/ */

static struct pp_doc doc;

static void render(const struct met_snapshot *s, char **text)
{
	size_t len;

	assert_int_equal(met_render(s, text, &len), 0);
	assert_int_equal(strlen(*text), len);
	if (pp_parse(&doc, *text))
		fail_msg("%s\n%s", doc.err, *text);
}

static void test_render_parse(void **state)
{
	char names_buf[24][SEGD_NAME_LEN] = { { 0 } };
	struct tel_names names = { names_buf, 24 };
	struct tel_counter c[] = {
		{ 19, 16, SEGD_VERDICT_DROP, SEGD_REASON_POLICY, 1000, 74000 },
		{ 16, 18, SEGD_VERDICT_PASS, SEGD_REASON_ALLOWED, 5, 500 },
		{ 20, 16, SEGD_VERDICT_PASS, SEGD_REASON_AUDIT, 3, 180 },
		{ 0, 0, SEGD_VERDICT_DROP, SEGD_REASON_MALFORMED, 2, 100 },
		{ 21, 16, SEGD_VERDICT_DROP, SEGD_REASON_POLICY, 1, 60 },
	};
	const char *drop_guest[] = { "src_segment=guest", "dst_segment=ehr",
				     "verdict=drop", "reason=policy", NULL };
	const char *odd[] = { "src_segment=we\"ird\\seg\nx", NULL };
	const char *none[] = { "src_segment=-", "reason=malformed", NULL };
	struct met_snapshot s = { 0 };
	char *text = NULL;
	size_t n;

	(void)state;
	snprintf(names_buf[16], SEGD_NAME_LEN, "ehr");
	snprintf(names_buf[18], SEGD_NAME_LEN, "pacs");
	snprintf(names_buf[19], SEGD_NAME_LEN, "guest");
	snprintf(names_buf[20], SEGD_NAME_LEN, "lab");
	snprintf(names_buf[21], SEGD_NAME_LEN, "we\"ird\\seg\nx");
	s.counters = c;
	s.n = sizeof(c) / sizeof(c[0]);
	s.names = &names;
	s.events_sent = 40;
	s.events_suppressed = 960;
	s.ringbuf_lost = 3;
	s.events_written = 40;
	s.events_write_errors = 2;
	s.isolated_hosts = 3;
	s.generation = 9;
	render(&s, &text);
	assert_true(pp_sum(&doc, "segd_packets_total", drop_guest, &n) == 1000);
	assert_int_equal(n, 1);
	assert_true(pp_sum(&doc, "segd_bytes_total", drop_guest, &n) == 74000);
	assert_true(pp_sum(&doc, "segd_packets_total", NULL, &n) == 1011);
	assert_int_equal(n, 5);
	assert_true(pp_sum(&doc, "segd_packets_total", odd, &n) == 1);
	assert_int_equal(n, 1);
	assert_true(pp_sum(&doc, "segd_packets_total", none, &n) == 2);
	assert_true(pp_sum(&doc, "segd_events_total", NULL, &n) == 40);
	assert_true(pp_sum(&doc, "segd_events_suppressed_total", NULL, &n) == 960);
	assert_true(pp_sum(&doc, "segd_ringbuf_lost_total", NULL, &n) == 3);
	assert_true(pp_sum(&doc, "segd_policy_generation", NULL, &n) == 9);
	assert_true(pp_sum(&doc, "segd_build_info", NULL, &n) == 1);
	assert_true(pp_sum(&doc, "segd_events_write_errors_total", NULL, &n) == 2);
	assert_true(pp_sum(&doc, "segd_isolated_hosts", NULL, &n) == 3);
	assert_int_equal(doc.nf, 10);
	/* No addresses in labels: no digit-dot-digit, no "::" */
	assert_null(strstr(text, "10."));
	free(text);

	/* Nothing counted yet: still valid, HELP and TYPE for every family. */
	memset(&s, 0, sizeof(s));
	render(&s, &text);
	assert_int_equal(doc.nf, 10);
	assert_true(pp_sum(&doc, "segd_packets_total", NULL, &n) == 0);
	assert_int_equal(n, 0);
	free(text);
}

static void test_escape(void **state)
{
	char buf[64];

	(void)state;
	assert_string_equal(met_escape_label("a\"b\\c\nd", buf, sizeof(buf)),
			    "a\\\"b\\\\c\\nd");
	/* Truncation never splits an escape. */
	assert_string_equal(met_escape_label("ab\"", buf, 4), "ab");
}

/* The parser must refuse what Prometheus would refuse (and a bit more). */
static void test_parser_strict(void **state)
{
	static const char *const bad[] = {
		"x_total 1\n",				/* no HELP/TYPE */
		"# HELP x_total h\n# TYPE x_total counter\nx_total 1",	/* no newline */
		"# HELP x h\n# TYPE x counter\nx 1\n",	/* counter without _total */
		"# HELP x h\n# TYPE x gauge\nx{a=\"1\"} 1\nx{a=\"1\"} 2\n",
		"# HELP x h\n# TYPE x gauge\nx{a=\"\\t\"} 1\n",
		"# HELP x h\n# TYPE x gauge\nx{a=\"1\",a=\"2\"} 1\n",
		"# HELP x h\n# TYPE x gauge\nx{1a=\"1\"} 1\n",
		"# HELP x h\n# TYPE x gauge\nx one\n",
		"# HELP x h\n# TYPE x gauge\n\nx 1\n",
		"# HELP x h\n# TYPE x gauge\n# HELP y h\n# TYPE y gauge\nx 1\ny 1\nx{a=\"b\"} 1\n",
		"# HELP x h\n# TYPE x gauge\n# TYPE x gauge\nx 1\n",
		"# HELP x h\n# TYPE x nonsense\nx 1\n",
		"# HELP x_total h\n# TYPE x_total counter\nx_total -1\n",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (!pp_parse(&doc, bad[i]))
			fail_msg("accepted bad text #%zu: %s", i, bad[i]);
	assert_int_equal(pp_parse(&doc,
		"# HELP x h\n# TYPE x gauge\nx{a=\"q\\\"\\n\\\\\"} +Inf 123\n# a comment\n"), 0);
	assert_string_equal(doc.s[0].lval[0], "q\"\n\\");
}

static void test_write_file(void **state)
{
	char dir[] = "/tmp/segd-mettest-XXXXXX", path[128], tmp[140], buf[64];
	FILE *f;
	size_t n;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/segd.prom", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	assert_int_equal(met_write_file(path, "a 1\n", 4), 0);
	assert_int_equal(met_write_file(path, "b 2\n", 4), 0);
	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	assert_int_equal(n, 4);
	assert_memory_equal(buf, "b 2\n", 4);
	assert_int_equal(access(tmp, F_OK), -1);	/* no temp left */
	unlink(path);
	rmdir(dir);
	assert_true(met_write_file("/nonexistent-dir/x.prom", "a\n", 2) < 0);
}

static void test_listen(void **state)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	char err[256];

	(void)state;
	assert_int_equal(met_parse_listen("127.0.0.1:9640", &ss, &sl, err, sizeof(err)), 0);
	assert_int_equal(ss.ss_family, AF_INET);
	assert_int_equal(ntohs(((struct sockaddr_in *)&ss)->sin_port), 9640);
	assert_int_equal(met_parse_listen("127.1.2.3:80", &ss, &sl, err, sizeof(err)), 0);
	assert_int_equal(met_parse_listen("[::1]:9640", &ss, &sl, err, sizeof(err)), 0);
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_int_equal(met_parse_listen("0.0.0.0:9640", &ss, &sl, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "\"0.0.0.0\""));
	assert_int_equal(met_parse_listen("10.0.0.1:9640", &ss, &sl, err, sizeof(err)), -EPERM);
	assert_int_equal(met_parse_listen("[::]:9640", &ss, &sl, err, sizeof(err)), -EPERM);
	assert_int_equal(met_parse_listen("127.0.0.1:0", &ss, &sl, err, sizeof(err)), -EINVAL);
	assert_int_equal(met_parse_listen("127.0.0.1:70000", &ss, &sl, err, sizeof(err)), -EINVAL);
	assert_int_equal(met_parse_listen("9640", &ss, &sl, err, sizeof(err)), -EINVAL);
	assert_int_equal(met_parse_listen("localhost:9640", &ss, &sl, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "\"localhost:9640\""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render_parse),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_parser_strict),
		cmocka_unit_test(test_write_file),
		cmocka_unit_test(test_listen),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
