// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * test_telemetry.c - labels for ids, the order of counters, and the sum
 * over CPUs of a real per-CPU map (that one needs root; skipped without).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "telemetry.h"

static void test_labels(void **state)
{
	char names[20][SEGD_NAME_LEN] = { { 0 } };
	struct tel_names n = { names, 20 };
	char buf[64];

	(void)state;
	snprintf(names[1], SEGD_NAME_LEN, "world");
	snprintf(names[16], SEGD_NAME_LEN, "pacs");
	assert_string_equal(tel_label(&n, SEGD_ID_NONE, buf, sizeof(buf)), "-");
	assert_string_equal(tel_label(&n, 1, buf, sizeof(buf)), "world");
	assert_string_equal(tel_label(&n, 16, buf, sizeof(buf)), "pacs");
	/* known range, no name; beyond the map; no names map at all */
	assert_string_equal(tel_label(&n, 17, buf, sizeof(buf)), "id:17");
	assert_string_equal(tel_label(&n, 4000, buf, sizeof(buf)), "id:4000");
	assert_string_equal(tel_label(NULL, 16, buf, sizeof(buf)), "id:16");
	assert_string_equal(tel_label(NULL, 0, buf, sizeof(buf)), "-");
}

static void test_sort(void **state)
{
	struct tel_counter v[] = {
		{ 16, 17, SEGD_VERDICT_DROP, SEGD_REASON_POLICY, 5, 500 },
		{ 16, 17, SEGD_VERDICT_PASS, SEGD_REASON_ALLOWED, 90, 9000 },
		{ 0, 0, SEGD_VERDICT_DROP, SEGD_REASON_MALFORMED, 5, 700 },
		{ 17, 16, SEGD_VERDICT_PASS, SEGD_REASON_REPLY, 90, 9000 },
	};

	(void)state;
	tel_sort(v, 4);
	/* packets desc, then bytes desc, then the key */
	assert_int_equal(v[0].src_seg, 16);
	assert_int_equal(v[0].reason, SEGD_REASON_ALLOWED);
	assert_int_equal(v[1].src_seg, 17);
	assert_int_equal(v[2].reason, SEGD_REASON_MALFORMED);
	assert_int_equal(v[3].reason, SEGD_REASON_POLICY);
	assert_string_equal(tel_reason_name(SEGD_REASON_POLICY), "policy");
	assert_string_equal(tel_verdict_name(SEGD_VERDICT_DROP), "drop");
}

static void test_percpu_sum(void **state)
{
	struct segd_counter_key k1 = { 16, 17, SEGD_VERDICT_PASS, SEGD_REASON_ALLOWED, 0 };
	struct segd_counter_key k2 = { 0, 0, SEGD_VERDICT_DROP, SEGD_REASON_MALFORMED, 0 };
	struct segd_counter_value *vals;
	struct tel_counter *out = NULL;
	size_t n = 0;
	int fd, ncpu, c;

	(void)state;
	libbpf_set_print(NULL);
	fd = bpf_map_create(BPF_MAP_TYPE_PERCPU_HASH, "t_counters",
			    sizeof(struct segd_counter_key),
			    sizeof(struct segd_counter_value), 16, NULL);
	if (fd < 0)
		skip();
	ncpu = libbpf_num_possible_cpus();
	assert_true(ncpu > 0);
	vals = calloc((size_t)ncpu, sizeof(*vals));
	assert_non_null(vals);
	for (c = 0; c < ncpu; c++)
		vals[c] = (struct segd_counter_value){ (uint64_t)c + 1, 100 };
	assert_int_equal(bpf_map_update_elem(fd, &k1, vals, BPF_ANY), 0);
	for (c = 0; c < ncpu; c++)
		vals[c] = (struct segd_counter_value){ 0, 0 };
	vals[0] = (struct segd_counter_value){ 1, 60 };
	assert_int_equal(bpf_map_update_elem(fd, &k2, vals, BPF_ANY), 0);

	assert_int_equal(tel_read_counters(fd, &out, &n), 0);
	assert_int_equal(n, 2);
	/* sum over CPUs: 1 + 2 + ... + ncpu packets, 100 bytes each */
	assert_int_equal(out[0].src_seg, 16);
	assert_int_equal(out[0].packets, (uint64_t)ncpu * (ncpu + 1) / 2);
	assert_int_equal(out[0].bytes, (uint64_t)ncpu * 100);
	assert_int_equal(out[1].reason, SEGD_REASON_MALFORMED);
	assert_int_equal(out[1].packets, 1);
	assert_int_equal(out[1].bytes, 60);
	free(out);
	free(vals);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_labels),
		cmocka_unit_test(test_sort),
		cmocka_unit_test(test_percpu_sum),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
