// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* fixture.c - see fixture.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "segd.skel.h"
#include "fixture.h"
#include "compile.h"


/* The names the controller uses (metrics labels, JSON): one table. */
const char *dp_reason_name(unsigned int reason)
{
	return comp_reason_name(reason);
}

/* Keep libbpf quiet unless loading fails; then the verifier log matters. */
static int quiet_print(enum libbpf_print_level level, const char *fmt,
		       va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

long dp_ev_rate = -1;
bool dp_rpf;

int dp_env_open(struct dp_env *e, __u32 ct_opts_sz)
{
	int err;

	memset(e, 0, sizeof(*e));
	libbpf_set_print(quiet_print);
	e->ncpus = libbpf_num_possible_cpus();
	if (e->ncpus <= 0)
		return e->ncpus ? e->ncpus : -EINVAL;
	e->skel = segd_bpf__open();
	if (!e->skel)
		return -errno;
	if (ct_opts_sz)
		e->skel->rodata->segd_ct_opts_sz = ct_opts_sz;
	if (dp_ev_rate >= 0)
		e->skel->rodata->segd_ev_rate = (__u32)dp_ev_rate;
	e->skel->rodata->segd_rpf = dp_rpf;
	err = segd_bpf__load(e->skel);
	if (err) {
		segd_bpf__destroy(e->skel);
		e->skel = NULL;
		return err;
	}
	e->prog_fd = bpf_program__fd(e->skel->progs.segd_xdp);
	e->cfg_fd = bpf_map__fd(e->skel->maps.segd_config_v1);
	e->host4_fd = bpf_map__fd(e->skel->maps.segd_host4_v1);
	e->host6_fd = bpf_map__fd(e->skel->maps.segd_host6_v1);
	e->lpm4_fd = bpf_map__fd(e->skel->maps.segd_lpm4_v1);
	e->lpm6_fd = bpf_map__fd(e->skel->maps.segd_lpm6_v1);
	e->mac_fd = bpf_map__fd(e->skel->maps.segd_mac_v1);
	e->policy_fd = bpf_map__fd(e->skel->maps.segd_policy_v1);
	e->counters_fd = bpf_map__fd(e->skel->maps.segd_counters_v1);
	e->iso_fd = bpf_map__fd(e->skel->maps.segd_isolated_v1);
	e->bg_fd = bpf_map__fd(e->skel->maps.segd_breakglass_v1);
	return 0;
}

void dp_env_close(struct dp_env *e)
{
	segd_bpf__destroy(e->skel);
	e->skel = NULL;
}

/* Deletes every key; the key buffer is big enough for any segd key. */
static int map_empty(int fd)
{
	__u8 key[64];

	while (!bpf_map_get_next_key(fd, NULL, key)) {
		if (bpf_map_delete_elem(fd, key))
			return -errno;
	}
	return errno == ENOENT ? 0 : -errno;
}

int dp_env_reset(struct dp_env *e)
{
	struct segd_config zero = { 0 };
	int fds[] = { e->host4_fd, e->host6_fd, e->lpm4_fd, e->lpm6_fd,
		      e->mac_fd, e->policy_fd, e->counters_fd, e->iso_fd,
		      e->bg_fd };
	__u32 key = 0;
	size_t i;
	int err;

	for (i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		err = map_empty(fds[i]);
		if (err)
			return err;
	}
	if (bpf_map_update_elem(e->cfg_fd, &key, &zero, BPF_ANY))
		return -errno;
	e->rule_seq = 1;
	return 0;
}

static void seed_endpoint(const struct seed *s, struct segd_endpoint *ep)
{
	memset(ep, 0, sizeof(*ep));
	ep->id = s->id;
	ep->seg = s->seg;
	ep->flags = s->ep_flags;
	if (s->mac)
		memcpy(ep->mac, s->mac, sizeof(ep->mac));
}

static int seed_one(struct dp_env *e, const struct seed *s)
{
	struct segd_endpoint ep;
	char buf[64], *slash;
	int v6, plen = -1;

	seed_endpoint(s, &ep);
	switch (s->kind) {
	case SEED_CFG: {
		struct segd_config c = { .slot = s->slot, .flags = s->cfg_flags,
					 .generation = s->slot + 1 };
		__u32 key = 0;

		return bpf_map_update_elem(e->cfg_fd, &key, &c, BPF_ANY) ? -errno : 0;
	}
	case SEED_MAC: {
		struct segd_mac_key k = { .slot = s->slot };

		memcpy(k.mac, s->mac, sizeof(k.mac));
		memset(ep.mac, 0, sizeof(ep.mac));
		return bpf_map_update_elem(e->mac_fd, &k, &ep, BPF_NOEXIST) ? -errno : 0;
	}
	case SEED_RULE: {
		struct segd_policy_key k = {
			.slot = s->slot, .src_id = s->src, .dst_id = s->dst,
			.proto = s->proto, .port = s->port,
		};
		struct segd_policy_value v = { .rule = e->rule_seq++ };

		return bpf_map_update_elem(e->policy_fd, &k, &v, BPF_NOEXIST) ? -errno : 0;
	}
	case SEED_ISO: {
		struct segd_iso_key k = {};
		struct segd_iso_value v = {};
		struct timespec ts;

		if (s->mac) {
			k.kind = SEGD_ISO_MAC;
			memcpy(k.addr, s->mac, 6);
		} else if (strchr(s->addr, ':')) {
			k.kind = SEGD_ISO_IPV6;
			if (inet_pton(AF_INET6, s->addr, k.addr) != 1)
				return -EINVAL;
		} else {
			k.kind = SEGD_ISO_IPV4;
			if (inet_pton(AF_INET, s->addr, k.addr) != 1)
				return -EINVAL;
		}
		if (s->port) {
			clock_gettime(CLOCK_MONOTONIC, &ts);
			v.expires_ns = (__u64)ts.tv_sec * 1000000000ull +
				       (__u64)ts.tv_nsec - 1000000;
		}
		return bpf_map_update_elem(e->iso_fd, &k, &v, BPF_ANY) ? -errno : 0;
	}
	case SEED_BG: {
		struct segd_bg_key k = {
			.src_id = s->src, .dst_id = s->dst,
			.proto = s->proto, .port = s->port,
		};
		struct segd_bg_value v = { .id = 1 };
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		v.expires_ns = (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
		if (s->slot)
			v.expires_ns -= 1000000;
		else
			v.expires_ns += 60ull * 1000000000ull;
		return bpf_map_update_elem(e->bg_fd, &k, &v, BPF_ANY) ? -errno : 0;
	}
	case SEED_HOST:
	case SEED_NET:
		break;
	default:
		return -EINVAL;
	}

	snprintf(buf, sizeof(buf), "%s", s->addr);
	slash = strchr(buf, '/');
	if (slash) {
		*slash = '\0';
		plen = atoi(slash + 1);
	}
	v6 = strchr(buf, ':') != NULL;
	if (s->kind == SEED_HOST) {
		if (v6) {
			struct segd_host6_key k = { .slot = s->slot };

			if (inet_pton(AF_INET6, buf, k.addr) != 1)
				return -EINVAL;
			return bpf_map_update_elem(e->host6_fd, &k, &ep, BPF_NOEXIST) ? -errno : 0;
		} else {
			struct segd_host4_key k = { .slot = s->slot };

			if (inet_pton(AF_INET, buf, &k.addr) != 1)
				return -EINVAL;
			return bpf_map_update_elem(e->host4_fd, &k, &ep, BPF_NOEXIST) ? -errno : 0;
		}
	}
	if (v6) {
		struct segd_lpm6_key k = { .slot = htonl(s->slot) };

		if (plen < 0 || plen > 128 || inet_pton(AF_INET6, buf, k.addr) != 1)
			return -EINVAL;
		k.prefixlen = 32 + plen;
		return bpf_map_update_elem(e->lpm6_fd, &k, &ep, BPF_NOEXIST) ? -errno : 0;
	} else {
		struct segd_lpm4_key k = { .slot = htonl(s->slot) };

		if (plen < 0 || plen > 32 || inet_pton(AF_INET, buf, k.addr) != 1)
			return -EINVAL;
		k.prefixlen = 32 + plen;
		return bpf_map_update_elem(e->lpm4_fd, &k, &ep, BPF_NOEXIST) ? -errno : 0;
	}
}

int dp_seed(struct dp_env *e, const struct seed *s)
{
	int err;

	for (; s && s->kind != SEED_END; s++) {
		err = seed_one(e, s);
		if (err) {
			print_error("seed kind %d addr %s: %s\n", s->kind,
				    s->addr ? s->addr : "-", strerror(-err));
			return err;
		}
	}
	return 0;
}

int dp_run(struct dp_env *e, const void *frame, size_t len, __u32 repeat,
	   __u32 *duration_ns)
{
	struct xdp_md ctx = {
		.data_end = (__u32)len,
		.ingress_ifindex = e->ingress_ifindex,
	};
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = frame,
		.data_size_in = (__u32)len,
		.repeat = repeat,
	);

	if (e->ingress_ifindex) {
		opts.ctx_in = &ctx;
		opts.ctx_size_in = sizeof(ctx);
	}
	if (bpf_prog_test_run_opts(e->prog_fd, &opts))
		return -errno;
	if (duration_ns)
		*duration_ns = opts.duration;
	return (int)opts.retval;
}

/* ---- counters --------------------------------------------------------- */
#define SNAP_MAX 512

struct snap_entry {
	struct segd_counter_key key;
	struct segd_counter_value sum;
};

struct snap {
	size_t n;
	struct snap_entry e[SNAP_MAX];
};

/* Sums every counter over the CPUs. Returns 0 or a negative errno. */
static int snap_take(struct dp_env *e, struct snap *s)
{
	struct segd_counter_value *vals;
	struct segd_counter_key key, *prev = NULL;
	int err = 0, c;

	vals = calloc(e->ncpus, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	s->n = 0;
	while (!bpf_map_get_next_key(e->counters_fd, prev, &key)) {
		struct snap_entry *se;

		if (s->n == SNAP_MAX) {
			err = -E2BIG;
			goto out;
		}
		if (bpf_map_lookup_elem(e->counters_fd, &key, vals)) {
			err = -errno;
			goto out;
		}
		se = &s->e[s->n++];
		memset(se, 0, sizeof(*se));
		se->key = key;
		for (c = 0; c < e->ncpus; c++) {
			se->sum.packets += vals[c].packets;
			se->sum.bytes += vals[c].bytes;
		}
		prev = &se->key;
	}
out:
	free(vals);
	return err;
}

static const struct snap_entry *snap_find(const struct snap *s,
					  const struct segd_counter_key *k)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (!memcmp(&s->e[i].key, k, sizeof(*k)))
			return &s->e[i];
	return NULL;
}

static void key_str(const struct segd_counter_key *k, char *buf, size_t n)
{
	snprintf(buf, n, "(%u, %u, %s, %s)", k->src_seg, k->dst_seg,
		 k->verdict == SEGD_VERDICT_PASS ? "pass" :
		 k->verdict == SEGD_VERDICT_DROP ? "drop" : "?",
		 dp_reason_name(k->reason));
}

void dp_check(struct dp_env *e, const void *frame, size_t len,
	      const struct dp_expect *x, const char *what)
{
	static struct snap before, after;
	char want[96], got[96];
	size_t i, moved = 0;
	bool ok = true;
	int ret;

	assert_int_equal(snap_take(e, &before), 0);
	ret = dp_run(e, frame, len, 1, NULL);
	if (ret < 0) {
		print_error("%s: BPF_PROG_TEST_RUN: %s\n", what, strerror(-ret));
		fail();
	}
	assert_int_equal(snap_take(e, &after), 0);

	key_str(&x->key, want, sizeof(want));
	if (ret != x->xdp) {
		print_error("%s: verdict %s, want %s\n", what,
			    ret == XDP_PASS ? "XDP_PASS" : ret == XDP_DROP ? "XDP_DROP" : "other",
			    x->xdp == XDP_PASS ? "XDP_PASS" : "XDP_DROP");
		ok = false;
	}
	for (i = 0; i < after.n; i++) {
		const struct snap_entry *a = &after.e[i], *b;
		__u64 dp, db;

		b = snap_find(&before, &a->key);
		dp = a->sum.packets - (b ? b->sum.packets : 0);
		db = a->sum.bytes - (b ? b->sum.bytes : 0);
		if (!dp && !db)
			continue;
		moved++;
		key_str(&a->key, got, sizeof(got));
		if (memcmp(&a->key, &x->key, sizeof(x->key))) {
			print_error("%s: counter %s moved, want %s\n", what, got, want);
			ok = false;
		} else if (dp != 1 || db != len) {
			print_error("%s: counter %s moved by %llu packets %llu bytes, want 1 and %zu\n",
				    what, got, (unsigned long long)dp,
				    (unsigned long long)db, len);
			ok = false;
		}
	}
	if (!moved) {
		print_error("%s: no counter moved, want %s\n", what, want);
		ok = false;
	}
	if (!ok)
		fail_msg("%s: frame of %zu bytes misjudged", what, len);
}

int dp_netns_enter(void)
{
	int fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (unshare(CLONE_NEWNET)) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

int dp_netns_leave(int orig_ns, const char *who)
{
	int ret = 0;

	if (orig_ns < 0)
		return 0;
	if (setns(orig_ns, CLONE_NEWNET)) {
		fprintf(stderr, "%s: back to the original netns: %s\n", who,
			strerror(errno));
		ret = -1;
	}
	close(orig_ns);
	return ret;
}
