/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* suites.h - the test groups of test_datapath beyond the case table. */
#ifndef SEGD_TEST_SUITES_H
#define SEGD_TEST_SUITES_H

#include "fixture.h"

/* The program loaded with the default knobs, shared by the groups. */
extern struct dp_env *dp;

/* Replies through the kernel's conntrack, in a private network namespace
 * (ct.c). Returns the number of failed tests. */
int ct_run_tests(void);

/* The reverse-path check against a real FIB, in a private network
 * namespace (rpf.c). Returns the number of failed tests. */
int rpf_run_tests(void);
/* Its cost, for --bench (rpf.c). 0 or a negative errno. */
int rpf_bench(void);

/* Drop events through the ring buffer (events.c). Returns the number of
 * failed tests. */
int ev_run_tests(void);

/* Informational timings (bench.c). Returns 0 or a negative errno. */
int dp_bench(void);

/* The drop event path under a flood (evbench.c). 0 or a negative errno. */
int ev_bench(void);

#endif /* SEGD_TEST_SUITES_H */
