// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * test_state.c - the isolation state file (state.h) and the audit log
 * (audit.h): round trip, corrupt and truncated files refused with the
 * file named, never read as empty; an atomic write leaves no temp file;
 * audit lines appended and read back, --since filter, unreadable lines
 * reported.
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
#include <dirent.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>

#include "../include/segd_abi.h"
#include "audit.h"
#include "isolate.h"
#include "state.h"

static char dir[] = "/tmp/segd-test-state-XXXXXX";
static char path[300];

static int setup(void **st)
{
	(void)st;
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/%s", dir, STATE_FILE_NAME);
	return 0;
}

static int teardown(void **st)
{
	char p[400];
	DIR *d;
	struct dirent *de;

	(void)st;
	d = opendir(dir);
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		unlink(p);
	}
	if (d)
		closedir(d);
	rmdir(dir);
	return 0;
}

static void write_file(const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void two_entries(struct state_entry *v)
{
	memset(v, 0, 2 * sizeof(*v));
	v[0].kind = SEGD_ISO_IPV4;
	inet_pton(AF_INET, "10.10.0.10", v[0].addr);
	strcpy(v[0].host, "10.10.0.10");
	v[0].since = 1764786000;
	v[0].uid = 0;
	strcpy(v[0].reason, "ransomware \"alert\"");
	strcpy(v[0].ticket, "INC-1");
	v[1].kind = SEGD_ISO_MAC;
	memcpy(v[1].addr, "\x02\x00\x00\x20\x00\x07", 6);
	strcpy(v[1].host, "pump-7");
	v[1].since = 1764786001;
	v[1].until = 1764789601;
	v[1].uid = 1000;
	strcpy(v[1].reason, "odd");
}

static void test_round_trip(void **st)
{
	struct state_entry in[2], *out;
	char err[512] = "";
	size_t n;
	DIR *d;
	struct dirent *de;
	int files = 0;

	(void)st;
	two_entries(in);
	assert_int_equal(state_save(path, in, 2, err, sizeof(err)), 0);
	assert_int_equal(state_load(path, &out, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 2);
	assert_memory_equal(&out[0], &in[0], sizeof(in[0]));
	assert_memory_equal(&out[1], &in[1], sizeof(in[1]));
	free(out);
	/* no temp file left behind */
	d = opendir(dir);
	while ((de = readdir(d)))
		files += de->d_name[0] != '.';
	closedir(d);
	assert_int_equal(files, 1);
	/* an empty list is a valid state, distinct from no file */
	assert_int_equal(state_save(path, in, 0, err, sizeof(err)), 0);
	assert_int_equal(state_load(path, &out, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 0);
	free(out);
}

static void test_missing(void **st)
{
	struct state_entry *out;
	char err[512] = "";
	size_t n;

	(void)st;
	unlink(path);
	assert_int_equal(state_load(path, &out, &n, err, sizeof(err)), -ENOENT);
}

static void test_truncated(void **st)
{
	struct state_entry in[2], *out = NULL;
	char err[512] = "", *text;
	size_t n;
	FILE *f;
	long len;

	(void)st;
	two_entries(in);
	assert_int_equal(state_save(path, in, 2, err, sizeof(err)), 0);
	f = fopen(path, "r");
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	text = calloc(1, (size_t)len + 1);
	assert_int_equal(fread(text, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	text[len / 2] = '\0';	/* cut in the middle */
	write_file(text);
	free(text);
	assert_int_equal(state_load(path, &out, &n, err, sizeof(err)), -EINVAL);
	assert_null(out);
	assert_int_equal(n, 0);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "corrupt or truncated"));
}

static void test_corrupt(void **st)
{
	static const struct {
		const char *text;
		const char *says;
	} cases[] = {
		{ "", "corrupt or truncated" },
		{ "[]", "expected {\"version\": 1" },
		{ "{\"version\": 2, \"isolated\": []}", "expected {\"version\": 1" },
		{ "{\"version\": 1, \"isolated\": [], \"x\": 1}", "expected" },
		{ "{\"version\": 1, \"isolated\": [{\"kind\": \"ipv4\", \"address\": \"10.1.0.300\", \"host\": \"h\", \"since\": 1, \"until\": 0, \"uid\": 0, \"reason\": \"r\", \"ticket\": \"\"}]}",
		  "entry 0: \"address\" is not an address" },
		{ "{\"version\": 1, \"isolated\": [{\"kind\": \"ipv5\", \"address\": \"10.1.0.3\", \"host\": \"h\", \"since\": 1, \"until\": 0, \"uid\": 0, \"reason\": \"r\", \"ticket\": \"\"}]}",
		  "\"kind\" is not" },
		{ "{\"version\": 1, \"isolated\": [{\"kind\": \"ipv4\", \"address\": \"10.1.0.3\", \"host\": \"h\", \"since\": 1, \"until\": 0, \"uid\": 0, \"reason\": \"\", \"ticket\": \"\"}]}",
		  "\"reason\"" },
		{ "{\"version\": 1, \"isolated\": [{\"kind\": \"ipv4\", \"address\": \"10.1.0.3\", \"host\": \"h\", \"since\": \"x\", \"until\": 0, \"uid\": 0, \"reason\": \"r\", \"ticket\": \"\"}]}",
		  "\"since\"" },
		{ "{\"version\": 1, \"isolated\": [{\"kind\": \"ipv4\", \"address\": \"10.1.0.3\", \"host\": \"h\", \"since\": 1, \"until\": 0, \"uid\": 0, \"reason\": \"r\", \"ticket\": \"\", \"extra\": 1}]}",
		  "unknown key" },
		{ "{\"version\": 1, \"isolated\": [{\"kind\": \"mac\", \"address\": \"02:00:00:00:00:01\", \"host\": \"h\", \"since\": 1, \"until\": 0, \"uid\": 0, \"reason\": \"r\", \"ticket\": \"\"}, {\"kind\": \"mac\", \"address\": \"02:00:00:00:00:01\", \"host\": \"h\", \"since\": 1, \"until\": 0, \"uid\": 0, \"reason\": \"r\", \"ticket\": \"\"}]}",
		  "entry 1: the same address twice" },
		{ "{\"version\": 1, \"version\": 1, \"isolated\": []}", "corrupt" },
	};
	struct state_entry *out;
	char err[512];
	size_t i, n;

	(void)st;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		write_file(cases[i].text);
		err[0] = '\0';
		out = NULL;
		assert_int_equal(state_load(path, &out, &n, err, sizeof(err)),
				 -EINVAL);
		assert_null(out);
		if (!strstr(err, cases[i].says) || !strstr(err, path))
			fail_msg("case %zu: \"%s\" does not say \"%s\"", i, err,
				 cases[i].says);
	}
}

/* breakglass.json: round trip, missing, corrupt (state_bg_*). */
static void test_bg(void **st)
{
	static const char *const bad[] = {
		"{\"version\": 1, \"breakglass\": [",
		"{\"version\": 1, \"isolated\": []}",
		"{\"version\": 1, \"breakglass\": [{\"id\": 1}]}",
		"{\"version\": 1, \"breakglass\": [{\"id\": 1, \"from\": \"guest\", \"to\": \"pacs\", \"service\": \"dicom\", \"src_id\": 19, \"dst_id\": 18, \"keys\": [[6, 70000]], \"since\": 1, \"until\": 2, \"uid\": 0, \"reason\": \"r\", \"ticket\": \"\"}]}",
		"{\"version\": 1, \"breakglass\": [{\"id\": 1, \"from\": \"guest\", \"to\": \"pacs\", \"service\": \"dicom\", \"src_id\": 19, \"dst_id\": 18, \"keys\": [[6, 104]], \"since\": 1, \"until\": 0, \"uid\": 0, \"reason\": \"r\", \"ticket\": \"\"}]}",
		"{\"version\": 1, \"breakglass\": [{\"id\": 1, \"from\": \"guest\", \"to\": \"pacs\", \"service\": \"dicom\", \"src_id\": 19, \"dst_id\": 18, \"keys\": [[6, 104]], \"since\": 1, \"until\": 2, \"uid\": 0, \"reason\": \"\", \"ticket\": \"\"}]}",
	};
	struct state_bg in[2], *out = NULL;
	char p[400], err[512] = "";
	size_t i, n;
	FILE *f;

	(void)st;
	snprintf(p, sizeof(p), "%s/%s", dir, STATE_BG_FILE_NAME);
	unlink(p);
	assert_int_equal(state_bg_load(p, &out, &n, err, sizeof(err)), -ENOENT);
	memset(in, 0, sizeof(in));
	in[0].id = 1;
	strcpy(in[0].from, "guest");
	strcpy(in[0].to, "pacs");
	strcpy(in[0].service, "dicom");
	in[0].src_id = 19;
	in[0].dst_id = 18;
	in[0].proto[0] = 6;
	in[0].port[0] = 104;
	in[0].proto[1] = 6;
	in[0].port[1] = 11112;
	in[0].n_keys = 2;
	in[0].since = 1764786000;
	in[0].until = 1764786300;
	strcpy(in[0].reason, "PACS viewer down");
	strcpy(in[0].ticket, "INC-7");
	in[1] = in[0];
	in[1].id = 9;
	in[1].uid = -1;
	memset(in[1].ticket, 0, sizeof(in[1].ticket));
	assert_int_equal(state_bg_save(p, in, 2, err, sizeof(err)), 0);
	assert_int_equal(state_bg_load(p, &out, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 2);
	assert_memory_equal(&out[0], &in[0], sizeof(in[0]));
	assert_memory_equal(&out[1], &in[1], sizeof(in[1]));
	free(out);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		f = fopen(p, "w");
		assert_non_null(f);
		fputs(bad[i], f);
		fclose(f);
		out = NULL;
		err[0] = '\0';
		assert_int_equal(state_bg_load(p, &out, &n, err, sizeof(err)),
				 -EINVAL);
		assert_null(out);
		if (!strstr(err, p) || !strstr(err, "corrupt"))
			fail_msg("case %zu: \"%s\"", i, err);
	}
	unlink(p);
}

static void test_audit(void **st)
{
	char apath[400], err[512] = "";
	json_t *rec, *arr;
	FILE *f;

	(void)st;
	snprintf(apath, sizeof(apath), "%s/%s", dir, AUDIT_FILE_NAME);
	rec = json_pack("{s:s, s:{s:s}}", "@timestamp", "2026-12-03T18:00:00.000Z",
			"event", "action", "isolate");
	assert_int_equal(audit_append(apath, rec, err, sizeof(err)), 0);
	json_decref(rec);
	rec = json_pack("{s:s, s:{s:s}}", "@timestamp", "2026-12-03T19:00:00.000Z",
			"event", "action", "release");
	assert_int_equal(audit_append(apath, rec, err, sizeof(err)), 0);
	json_decref(rec);
	arr = audit_read(apath, 0, err, sizeof(err));
	assert_int_equal(json_array_size(arr), 2);
	json_decref(arr);
	/* 2026-12-03T18:30:00Z */
	arr = audit_read(apath, 1796322600, err, sizeof(err));
	assert_int_equal(json_array_size(arr), 1);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
		json_array_get(arr, 0), "event"), "action")), "release");
	json_decref(arr);
	f = fopen(apath, "a");
	fputs("{not json\n", f);
	fclose(f);
	arr = audit_read(apath, 0, err, sizeof(err));
	assert_int_equal(json_array_size(arr), 3);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(arr, 2),
							    "unreadable")), 3);
	json_decref(arr);
}

static void test_duration(void **st)
{
	uint64_t s;

	(void)st;
	assert_int_equal(iso_parse_duration("2s", &s), 0);
	assert_int_equal(s, 2);
	assert_int_equal(iso_parse_duration("90", &s), 0);
	assert_int_equal(s, 90);
	assert_int_equal(iso_parse_duration("15m", &s), 0);
	assert_int_equal(s, 900);
	assert_int_equal(iso_parse_duration("7d", &s), 0);
	assert_int_equal(s, 604800);
	assert_int_equal(iso_parse_duration("0s", &s), -EINVAL);
	assert_int_equal(iso_parse_duration("-1s", &s), -EINVAL);
	assert_int_equal(iso_parse_duration("1w", &s), -EINVAL);
	assert_int_equal(iso_parse_duration("", &s), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_missing),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_corrupt),
		cmocka_unit_test(test_bg),
		cmocka_unit_test(test_audit),
		cmocka_unit_test(test_duration),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
