// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * test_events.c - drop events as ECS JSON lines (events.c): the fields of
 * an IPv4 TCP drop, an IPv6 audit would-drop with VLAN, an early drop that
 * is not IP, and the events file's size rotation and reopen.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
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
#include <jansson.h>

#include "events.h"

static char names_buf[40][SEGD_NAME_LEN];
static struct tel_names names = { names_buf, 40 };

static int setup(void **state)
{
	(void)state;
	snprintf(names_buf[1], SEGD_NAME_LEN, "world");
	snprintf(names_buf[16], SEGD_NAME_LEN, "ehr");
	snprintf(names_buf[19], SEGD_NAME_LEN, "guest");
	snprintf(names_buf[20], SEGD_NAME_LEN, "lab \"x\"");
	snprintf(names_buf[33], SEGD_NAME_LEN, "ct-scanner");
	return 0;
}

/* The JSON line of @e parsed back, checked to be one line. */
static json_t *line_of(const struct segd_event *e, const struct ev_labels *l)
{
	char buf[2048];
	json_error_t jerr;
	json_t *o;
	int n;

	n = ev_format(e, l, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(buf[n - 1], '\n');
	assert_null(memchr(buf, '\n', (size_t)n - 1));
	o = json_loads(buf, JSON_REJECT_DUPLICATES, &jerr);
	if (!o)
		fail_msg("not JSON: %s: %s", jerr.text, buf);
	return o;
}

static const char *str_at(json_t *o, const char *path)
{
	char p[128], *tok, *save = NULL;
	json_t *v = o;

	snprintf(p, sizeof(p), "%s", path);
	for (tok = strtok_r(p, ".", &save); tok && v;
	     tok = strtok_r(NULL, ".", &save))
		v = json_object_get(v, tok);
	if (!v)
		fail_msg("no %s", path);
	if (json_is_integer(v)) {
		static char num[32];

		snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
		return num;
	}
	if (!json_is_string(v))
		fail_msg("%s is not a string or integer", path);
	return json_string_value(v);
}

static bool has(json_t *o, const char *path)
{
	char p[128], *tok, *save = NULL;
	json_t *v = o;

	snprintf(p, sizeof(p), "%s", path);
	for (tok = strtok_r(p, ".", &save); tok && v;
	     tok = strtok_r(NULL, ".", &save))
		v = json_object_get(v, tok);
	return v != NULL;
}

static void test_tcp4_drop(void **state)
{
	struct segd_event e = { 0 };
	struct ev_labels l = { 0 };
	json_t *o, *cat;

	(void)state;
	e.family = 4;
	inet_pton(AF_INET, "10.9.0.8", e.saddr);
	inet_pton(AF_INET, "10.1.0.10", e.daddr);
	e.sport = 40000;
	e.dport = 445;
	e.l4proto = 6;
	e.verdict = SEGD_VERDICT_DROP;
	e.reason = SEGD_REASON_POLICY;
	e.src_seg = e.src_id = 19;
	e.dst_seg = 16;
	e.dst_id = 33;
	e.generation = 7;
	e.suppressed = 12;
	e.pkt_len = 74;
	e.ifindex = 3;
	memcpy(e.smac, "\x02\x00\x0a\x09\x00\x08", 6);
	memcpy(e.dmac, "\x02\xaa\xbb\xcc\xdd\xee", 6);
	l.wall_ns = 1764785222123456789ULL;	/* 2025-12-03T18:07:02.123 */
	l.ifname = "gw-guest";
	l.names = &names;
	o = line_of(&e, &l);
	assert_string_equal(str_at(o, "@timestamp"), "2025-12-03T18:07:02.123Z");
	assert_string_equal(str_at(o, "event.kind"), "event");
	cat = json_object_get(json_object_get(o, "event"), "category");
	assert_true(json_is_array(cat) && json_array_size(cat) == 1);
	assert_string_equal(json_string_value(json_array_get(cat, 0)), "network");
	assert_string_equal(str_at(o, "event.action"), "deny");
	assert_string_equal(str_at(o, "event.reason"), "policy");
	assert_string_equal(str_at(o, "source.ip"), "10.9.0.8");
	assert_string_equal(str_at(o, "source.port"), "40000");
	assert_string_equal(str_at(o, "source.mac"), "02-00-0A-09-00-08");
	assert_string_equal(str_at(o, "destination.ip"), "10.1.0.10");
	assert_string_equal(str_at(o, "destination.port"), "445");
	assert_string_equal(str_at(o, "destination.mac"), "02-AA-BB-CC-DD-EE");
	assert_string_equal(str_at(o, "network.transport"), "tcp");
	assert_string_equal(str_at(o, "network.type"), "ipv4");
	assert_string_equal(str_at(o, "network.bytes"), "74");
	assert_false(has(o, "network.vlan"));
	assert_string_equal(str_at(o, "observer.ingress.interface.name"), "gw-guest");
	assert_string_equal(str_at(o, "segd.src_segment"), "guest");
	assert_string_equal(str_at(o, "segd.dst_segment"), "ehr");
	assert_string_equal(str_at(o, "segd.src_identity"), "guest");
	assert_string_equal(str_at(o, "segd.dst_identity"), "ct-scanner");
	assert_string_equal(str_at(o, "segd.generation"), "7");
	assert_string_equal(str_at(o, "segd.suppressed"), "12");
	assert_string_equal(str_at(o, "segd.verdict"), "drop");
	json_decref(o);
}

static void test_udp6_audit_vlan(void **state)
{
	struct segd_event e = { 0 };
	struct ev_labels l = { 0 };
	json_t *o;

	(void)state;
	e.family = 6;
	inet_pton(AF_INET6, "2001:db8:20::4", e.saddr);
	inet_pton(AF_INET6, "2001:db8:1::10", e.daddr);
	e.sport = 5353;
	e.dport = 161;
	e.l4proto = 17;
	e.vlan = 120;
	e.verdict = SEGD_VERDICT_PASS;
	e.reason = SEGD_REASON_AUDIT;
	e.flags = SEGD_EVF_AUDIT;
	e.src_seg = e.src_id = 20;
	e.dst_seg = e.dst_id = 16;
	l.wall_ns = 1000;
	l.names = &names;
	o = line_of(&e, &l);
	assert_string_equal(str_at(o, "@timestamp"), "1970-01-01T00:00:00.000Z");
	assert_string_equal(str_at(o, "event.action"), "audit");
	assert_string_equal(str_at(o, "event.reason"), "audit");
	assert_string_equal(str_at(o, "source.ip"), "2001:db8:20::4");
	assert_string_equal(str_at(o, "network.type"), "ipv6");
	assert_string_equal(str_at(o, "network.transport"), "udp");
	assert_string_equal(str_at(o, "network.vlan.id"), "120");
	/* a name with a quote stays one JSON string */
	assert_string_equal(str_at(o, "segd.src_segment"), "lab \"x\"");
	assert_string_equal(str_at(o, "segd.verdict"), "pass");
	assert_false(has(o, "observer"));
	assert_false(has(o, "source.mac"));	/* all-zero MAC: unknown */
	json_decref(o);
}

static void test_icmp6_and_not_ip(void **state)
{
	struct segd_event e = { 0 };
	struct ev_labels l = { 0 };
	json_t *o;

	(void)state;
	e.family = 6;
	e.l4proto = 58;
	e.icmp_type = 128;
	e.reason = SEGD_REASON_POLICY;
	e.verdict = SEGD_VERDICT_DROP;
	e.src_seg = 40000;	/* beyond the names: id:N */
	o = line_of(&e, &l);
	assert_string_equal(str_at(o, "network.transport"), "ipv6-icmp");
	assert_false(has(o, "source.port"));
	assert_string_equal(str_at(o, "segd.icmp_type"), "128");
	assert_string_equal(str_at(o, "segd.src_segment"), "id:40000");
	json_decref(o);

	memset(&e, 0, sizeof(e));
	e.reason = SEGD_REASON_UNKNOWN_ETHERTYPE;
	e.verdict = SEGD_VERDICT_DROP;
	memcpy(e.smac, "\x02\x00\x00\x00\x00\x01", 6);
	o = line_of(&e, &l);
	assert_string_equal(str_at(o, "event.reason"), "unknown_ethertype");
	assert_false(has(o, "source.ip"));
	assert_false(has(o, "network.type"));
	assert_string_equal(str_at(o, "source.mac"), "02-00-00-00-00-01");
	assert_string_equal(str_at(o, "segd.src_segment"), "-");
	json_decref(o);
}

static void test_format_too_small(void **state)
{
	struct segd_event e = { 0 };
	struct ev_labels l = { 0 };
	char buf[16];

	(void)state;
	assert_int_equal(ev_format(&e, &l, buf, sizeof(buf)), -ENOSPC);
}

static long file_size(const char *p)
{
	struct stat st;

	return stat(p, &st) ? -1 : (long)st.st_size;
}

static void test_sink_rotation(void **state)
{
	char dir[] = "/tmp/segd-evtest-XXXXXX", path[128], old[140];
	struct ev_sink s;
	const char *line = "{\"a\":1}\n";	/* 8 bytes */
	int i;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/events.json", dir);
	snprintf(old, sizeof(old), "%s.1", path);
	assert_int_equal(ev_sink_open(&s, path, 4096), 0);
	for (i = 0; i < 512; i++)	/* exactly 4096 bytes */
		assert_int_equal(ev_sink_write(&s, line, 8), 0);
	assert_int_equal(file_size(path), 4096);
	assert_int_equal(file_size(old), -1);
	assert_int_equal(ev_sink_write(&s, line, 8), 0);	/* rotates */
	assert_int_equal(file_size(old), 4096);
	assert_int_equal(file_size(path), 8);
	/* SIGHUP after a rotator moved the file: a new file appears. */
	assert_int_equal(rename(path, old), 0);
	assert_int_equal(ev_sink_reopen(&s), 0);
	assert_int_equal(ev_sink_write(&s, line, 8), 0);
	assert_int_equal(file_size(path), 8);
	assert_int_equal(s.written, 514);
	assert_int_equal(s.failed, 0);
	ev_sink_close(&s);
	unlink(path);
	unlink(old);
	rmdir(dir);
}

/* A line cut short (no room left) never glues onto the next one. */
static void test_sink_cut_line(void **state)
{
	struct ev_sink s;
	char big[8192], got[16384];
	int pfd[2];
	ssize_t n, total = 0;

	(void)state;
	assert_int_equal(pipe2(pfd, O_NONBLOCK), 0);
	assert_true(fcntl(pfd[1], F_SETPIPE_SZ, 4096) >= 4096);
	memset(&s, 0, sizeof(s));
	s.path = strdup("pipe");
	s.fd = pfd[1];
	memset(big, 'x', sizeof(big));
	big[sizeof(big) - 1] = '\n';
	assert_true(ev_sink_write(&s, big, sizeof(big)) < 0);	/* cut */
	assert_int_equal(s.failed, 1);
	while ((n = read(pfd[0], got, sizeof(got))) > 0)	/* drain */
		total += n;
	assert_true(total > 0 && total < (ssize_t)sizeof(big));
	assert_int_equal(ev_sink_write(&s, "{\"a\":1}\n", 8), 0);
	n = read(pfd[0], got, sizeof(got));
	assert_int_equal(n, 9);
	assert_memory_equal(got, "\n{\"a\":1}\n", 9);
	assert_int_equal(s.written, 1);
	close(pfd[0]);
	ev_sink_close(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp4_drop),
		cmocka_unit_test(test_udp6_audit_vlan),
		cmocka_unit_test(test_icmp6_and_not_ip),
		cmocka_unit_test(test_format_too_small),
		cmocka_unit_test(test_sink_rotation),
		cmocka_unit_test(test_sink_cut_line),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
