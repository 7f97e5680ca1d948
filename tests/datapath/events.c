// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * events.c - drop events from the data path: one per dropped frame with
 * the frame's fields, none for a passed frame, audit would-drops flagged,
 * and a burst beyond the token bucket whose suppressed counts add up
 * (delivered + suppressed + lost = frames).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <netinet/in.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "segd.skel.h"
#include "fixture.h"
#include "hospital.h"
#include "pkt.h"
#include "suites.h"

#define EV_MAX 256

/* Hosts of the hospital (hospital.h). */
#define EHR4_   "10.1.0.10"
#define EHR6_   "2001:db8:1::10"
#define PACS4_  "10.3.0.9"
#define PUMP6_  "2001:db8:2::5"
#define LAB4_   "10.20.0.4"
#define GUEST4_ "10.9.0.8"

struct ev_got {
	size_t n;
	struct segd_event e[EV_MAX];
};

static struct ring_buffer *ev_rb;
static struct ev_got got;

static int ev_cb(void *ctx, void *data, size_t size)
{
	struct ev_got *g = ctx;

	if (size != sizeof(struct segd_event))
		return -EINVAL;
	if (g->n < EV_MAX)
		memcpy(&g->e[g->n], data, size);
	g->n++;
	return 0;
}

static struct segd_evstats evstats_sum(void)
{
	struct segd_evstats *v, sum = { 0 };
	__u32 key = 0;
	int c;

	v = calloc(dp->ncpus, sizeof(*v));
	assert_non_null(v);
	assert_int_equal(bpf_map_lookup_elem(
		bpf_map__fd(dp->skel->maps.segd_evstats_v1), &key, v), 0);
	for (c = 0; c < dp->ncpus; c++) {
		sum.sent += v[c].sent;
		sum.suppressed += v[c].suppressed;
		sum.lost += v[c].lost;
	}
	free(v);
	return sum;
}

/* Empty maps, the hospital, an empty ring buffer, fresh buckets, zero stats. */
static int ev_setup(void **state)
{
	int lim = bpf_map__fd(dp->skel->maps.segd_evlimit_v1);
	int st = bpf_map__fd(dp->skel->maps.segd_evstats_v1);
	struct segd_evstats *zero;
	__u8 key[64];
	__u32 k0 = 0;
	int ret;

	(void)state;
	if (dp_env_reset(dp) || dp_seed(dp, hospital))
		return -1;
	while (!bpf_map_get_next_key(lim, NULL, key))
		if (bpf_map_delete_elem(lim, key))
			return -1;
	zero = calloc(dp->ncpus, sizeof(*zero));
	if (!zero)
		return -1;
	ret = bpf_map_update_elem(st, &k0, zero, BPF_ANY);
	free(zero);
	if (ret)
		return -1;
	ring_buffer__consume(ev_rb);
	memset(&got, 0, sizeof(got));
	return 0;
}

static void run(const struct pkt_desc *d, __u32 repeat, int want_xdp,
		size_t *len)
{
	static struct frame f;

	pkt_build(&f, d);
	assert_int_equal(dp_run(dp, f.buf, f.len, repeat, NULL), want_xdp);
	if (len)
		*len = f.len;
	ring_buffer__consume(ev_rb);
}

static void addr_is(const __u8 *a, int family, const char *want)
{
	char buf[INET6_ADDRSTRLEN];

	inet_ntop(family == 4 ? AF_INET : AF_INET6, a, buf, sizeof(buf));
	assert_string_equal(buf, want);
}

static void test_drop_event_fields(void **state)
{
	struct pkt_desc d = { TCP4(EHR4_, PACS4_, 22), .sport = 40123 };
	const struct segd_event *e;
	struct segd_evstats st;
	static const __u8 zero4[12];
	size_t len;

	(void)state;
	run(&d, 1, XDP_DROP, &len);
	assert_int_equal(got.n, 1);
	e = &got.e[0];
	assert_int_equal(e->family, 4);
	addr_is(e->saddr, 4, EHR4_);
	addr_is(e->daddr, 4, PACS4_);
	assert_memory_equal(e->saddr + 4, zero4, sizeof(zero4));
	assert_int_equal(e->sport, 40123);
	assert_int_equal(e->dport, 22);
	assert_int_equal(e->l4proto, IPPROTO_TCP);
	assert_int_equal(e->verdict, SEGD_VERDICT_DROP);
	assert_int_equal(e->reason, SEGD_REASON_POLICY);
	assert_int_equal(e->flags, 0);
	assert_int_equal(e->src_seg, ID_EHR);
	assert_int_equal(e->dst_seg, ID_PACS);
	assert_int_equal(e->src_id, ID_EHR);
	assert_int_equal(e->dst_id, ID_PACS);
	assert_int_equal(e->suppressed, 0);
	assert_int_equal(e->pkt_len, len);
	assert_int_equal(e->generation, 1);	/* S_CFG(0, ...): slot + 1 */
	assert_memory_equal(e->smac, mac_host, 6);
	assert_memory_equal(e->dmac, mac_gw, 6);
	assert_true(e->ts_ns > 0);
	st = evstats_sum();
	assert_int_equal(st.sent, 1);
	assert_int_equal(st.suppressed, 0);
	assert_int_equal(st.lost, 0);
}

static void test_vlan_v6_device_event(void **state)
{
	/* Spoofed: the pump's address from another MAC, inside VLAN 42. */
	struct pkt_desc d = { UDP6(PUMP6_, EHR6_, 2575), .smac = mac_rogue,
			      .ntags = 1, .tags = { { 0x8100, 42 } } };

	(void)state;
	run(&d, 1, XDP_DROP, NULL);
	assert_int_equal(got.n, 1);
	assert_int_equal(got.e[0].family, 6);
	addr_is(got.e[0].saddr, 6, PUMP6_);
	assert_int_equal(got.e[0].vlan, 42);
	assert_int_equal(got.e[0].reason, SEGD_REASON_SPOOFED);
	assert_int_equal(got.e[0].src_id, ID_PUMP);
	assert_int_equal(got.e[0].src_seg, ID_IOMT);
	assert_memory_equal(got.e[0].smac, mac_rogue, 6);
	assert_int_equal(got.e[0].l4proto, IPPROTO_UDP);
}

static void test_early_drop_event(void **state)
{
	struct pkt_desc d = { .ethertype = 0x88cc };	/* LLDP */

	(void)state;
	run(&d, 1, XDP_DROP, NULL);
	assert_int_equal(got.n, 1);
	assert_int_equal(got.e[0].family, 0);
	assert_int_equal(got.e[0].reason, SEGD_REASON_UNKNOWN_ETHERTYPE);
	assert_int_equal(got.e[0].src_seg, 0);
	assert_int_equal(got.e[0].dst_seg, 0);
	assert_memory_equal(got.e[0].smac, mac_host, 6);
}

static void test_pass_no_event(void **state)
{
	struct pkt_desc d = { TCP4(EHR4_, PACS4_, 443) };
	struct segd_evstats st;

	(void)state;
	run(&d, 5, XDP_PASS, NULL);
	assert_int_equal(got.n, 0);
	st = evstats_sum();
	assert_int_equal(st.sent + st.suppressed + st.lost, 0);
}

static void test_audit_event(void **state)
{
	struct pkt_desc d = { TCP4(LAB4_, EHR4_, 22) };

	(void)state;
	run(&d, 1, XDP_PASS, NULL);
	assert_int_equal(got.n, 1);
	assert_int_equal(got.e[0].verdict, SEGD_VERDICT_PASS);
	assert_int_equal(got.e[0].reason, SEGD_REASON_AUDIT);
	assert_int_equal(got.e[0].flags, SEGD_EVF_AUDIT);
	assert_int_equal(got.e[0].src_seg, ID_LAB);
}

/*
 * A burst of N frames of one pair: the first `burst` make events, the rest
 * are suppressed; after one token's time the next event carries the count.
 * Another source to the same segment has its own bucket.
 */
static void test_burst_suppressed(void **state)
{
	struct pkt_desc d = { TCP4(GUEST4_, EHR4_, 445) };
	struct pkt_desc other = { TCP4("10.9.0.9", EHR4_, 445) };
	__u32 burst = dp->skel->rodata->segd_ev_burst;
	__u32 rate = dp->skel->rodata->segd_ev_rate;
	const __u32 n = 500;
	struct segd_evstats st;
	__u64 carried = 0;
	struct timespec ts;
	size_t i;

	(void)state;
	assert_true(rate > 0 && burst < n);
	run(&d, n, XDP_DROP, NULL);
	st = evstats_sum();
	assert_int_equal(st.sent + st.suppressed + st.lost, n);
	assert_int_equal(got.n, st.sent);
	/* Tokens refill during the run too: allow a few more than burst. */
	assert_true(st.sent >= burst && st.sent <= burst + 2);
	run(&other, 1, XDP_DROP, NULL);
	assert_int_equal(got.n, st.sent + 1);
	assert_int_equal(got.e[got.n - 1].suppressed, 0);

	/* One token's time later (1/rate s), the next event tells. */
	ts.tv_sec = 0;
	ts.tv_nsec = (long)(1000000000UL / rate) + 20000000L;
	nanosleep(&ts, NULL);
	run(&d, 1, XDP_DROP, NULL);
	for (i = 0; i < got.n && i < EV_MAX; i++)
		carried += got.e[i].suppressed;
	st = evstats_sum();
	assert_int_equal(st.sent + st.suppressed + st.lost, n + 2);
	assert_int_equal(got.n, st.sent);
	assert_int_equal(got.e[got.n - 1].suppressed, st.suppressed);
	assert_int_equal(carried, st.suppressed);
}

int ev_run_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_drop_event_fields, ev_setup),
		cmocka_unit_test_setup(test_vlan_v6_device_event, ev_setup),
		cmocka_unit_test_setup(test_early_drop_event, ev_setup),
		cmocka_unit_test_setup(test_pass_no_event, ev_setup),
		cmocka_unit_test_setup(test_audit_event, ev_setup),
		cmocka_unit_test_setup(test_burst_suppressed, ev_setup),
	};
	int failed;

	ev_rb = ring_buffer__new(bpf_map__fd(dp->skel->maps.segd_events_v1),
				 ev_cb, &got, NULL);
	if (!ev_rb) {
		fprintf(stderr, "events: ring_buffer__new: %s\n", strerror(errno));
		return 1;
	}
	failed = cmocka_run_group_tests_name("events", tests, NULL, NULL);
	ring_buffer__free(ev_rb);
	ev_rb = NULL;
	return failed;
}
