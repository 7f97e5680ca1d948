/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * fixture.h - the real XDP object under BPF_PROG_TEST_RUN: load it through
 * the skeleton (never attached), seed its maps with ABI structs, run a
 * frame, check the verdict and the one counter that moved.
 */
#ifndef SEGD_TEST_FIXTURE_H
#define SEGD_TEST_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "segd_abi.h"

struct segd_bpf;

struct dp_env {
	struct segd_bpf *skel;
	int prog_fd;
	int cfg_fd, host4_fd, host6_fd, lpm4_fd, lpm6_fd, mac_fd, policy_fd;
	int counters_fd;
	int iso_fd;
	int bg_fd;
	int ncpus;
	__u32 rule_seq;		/* next segd_policy_value.rule */
	__u32 ingress_ifindex;	/* frames arrive here (0: the test run's lo) */
};

/* Event rate knob for the next dp_env_open: -1 keeps the object's
 * default, else segd_ev_rate (0: no limit). */
extern long dp_ev_rate;

/* Reverse-path knob (segd_rpf) for the next dp_env_open: false unless a
 * group sets it. Under BPF_PROG_TEST_RUN frames arrive on lo, from which
 * no route leads back to the hospital's hosts; rpf.c sets it around its
 * own object, in a namespace with interfaces and routes. */
extern bool dp_rpf;

/* Opens and loads build/segd.bpf.o's skeleton with the given conntrack
 * opts size (12 or 16; 0 keeps the object's default). Returns 0 or a
 * negative errno. */
int dp_env_open(struct dp_env *e, __u32 ct_opts_sz);
void dp_env_close(struct dp_env *e);

/*
 * dp_netns_enter - move this process into a new private network namespace
 * (groups that need real interfaces, routes or conntrack). Returns an fd
 * of the original namespace, or -1 with errno set (still in the original).
 * dp_netns_leave - go back through that fd and close it; 0, or -1 (the
 * process stays in the private namespace; @who names the group).
 */
int dp_netns_enter(void);
int dp_netns_leave(int orig_ns, const char *who);
/* Empties every map the program reads and the counters. */
int dp_env_reset(struct dp_env *e);

/* ---- seeds: map entries, written as ABI structs --------------------- */
enum seed_kind {
	SEED_END = 0,
	SEED_CFG,	/* segd_config_v1: slot, cfg_flags */
	SEED_HOST,	/* host4/host6: addr "10.1.0.5" or "2001:db8::5" */
	SEED_NET,	/* lpm4/lpm6: addr "10.1.0.0/16" */
	SEED_MAC,	/* mac: mac */
	SEED_RULE,	/* policy: src, dst, proto, port */
	SEED_ISO,	/* isolated: addr or mac; port != 0: expired */
	SEED_BG,	/* break-glass: src, dst, proto, port; slot != 0: expired */
};

struct seed {
	enum seed_kind kind;
	__u32 slot;
	const char *addr;
	const __u8 *mac;	/* SEED_MAC key, or the bound MAC of a SEED_HOST */
	__u32 id, seg;
	__u16 ep_flags;		/* SEGD_EP_* */
	__u32 cfg_flags;	/* SEGD_CFG_* */
	__u32 src, dst;
	__u8 proto;
	__u16 port;
};

#define S_END { .kind = SEED_END }
#define S_CFG(sl, fl) { .kind = SEED_CFG, .slot = (sl), .cfg_flags = (fl) }
#define S_HOST(sl, a, i, sg) \
	{ .kind = SEED_HOST, .slot = (sl), .addr = (a), .id = (i), .seg = (sg) }
/* A device declared with both MAC and address: anti-spoof applies. */
#define S_DEV(sl, a, i, sg, m) \
	{ .kind = SEED_HOST, .slot = (sl), .addr = (a), .id = (i), \
	  .seg = (sg), .mac = (m), .ep_flags = SEGD_EP_MAC_BOUND }
#define S_NET(sl, a, i, sg, fl) \
	{ .kind = SEED_NET, .slot = (sl), .addr = (a), .id = (i), \
	  .seg = (sg), .ep_flags = (fl) }
/* A built-in destination-only entry of `gateway`: SEED_HOST or SEED_NET. */
#define S_BUILTIN(k, sl, a) \
	{ .kind = (k), .slot = (sl), .addr = (a), .id = SEGD_ID_GATEWAY, \
	  .seg = SEGD_ID_GATEWAY, .ep_flags = SEGD_EP_DST_ONLY }
#define S_MAC(sl, m, i, sg) \
	{ .kind = SEED_MAC, .slot = (sl), .mac = (m), .id = (i), .seg = (sg) }
#define S_RULE(sl, s, d, pr, po) \
	{ .kind = SEED_RULE, .slot = (sl), .src = (s), .dst = (d), \
	  .proto = (pr), .port = (po) }

/* A host under isolation (addr) or a source MAC (mac); S_ISO_EXPIRED:
 * its deadline has passed. */
#define S_ISO(a) { .kind = SEED_ISO, .addr = (a) }
#define S_ISO_MAC(m) { .kind = SEED_ISO, .mac = (m) }
#define S_ISO_EXPIRED(a) { .kind = SEED_ISO, .addr = (a), .port = 1 }

/* A break-glass allow in force for a minute; S_BG_EXPIRED: lapsed. */
#define S_BG(s, d, pr, po) \
	{ .kind = SEED_BG, .src = (s), .dst = (d), .proto = (pr), .port = (po) }
#define S_BG_EXPIRED(s, d, pr, po) \
	{ .kind = SEED_BG, .slot = 1, .src = (s), .dst = (d), \
	  .proto = (pr), .port = (po) }

/* Writes seeds up to SEED_END. Returns 0 or a negative errno. */
int dp_seed(struct dp_env *e, const struct seed *s);

/* ---- running ---------------------------------------------------------- */
struct dp_expect {
	int xdp;			/* XDP_PASS or XDP_DROP */
	struct segd_counter_key key;	/* the one counter that must move */
};

#define EXPECT(x, s, d, v, r) \
	{ .xdp = (x), .key = { .src_seg = (s), .dst_seg = (d), \
			       .verdict = (v), .reason = (r) } }
#define PASSES(s, d, r) EXPECT(XDP_PASS, s, d, SEGD_VERDICT_PASS, r)
#define DROPS(s, d, r)  EXPECT(XDP_DROP, s, d, SEGD_VERDICT_DROP, r)

/*
 * Runs one frame through the program and checks it: the XDP verdict, and
 * that exactly one counter key moved, by 1 packet and len bytes. On a
 * mismatch it prints what happened and fails the current cmocka test.
 */
void dp_check(struct dp_env *e, const void *frame, size_t len,
	      const struct dp_expect *x, const char *what);

/* Runs one frame, returns the XDP verdict or a negative errno. */
int dp_run(struct dp_env *e, const void *frame, size_t len, __u32 repeat,
	   __u32 *duration_ns);

const char *dp_reason_name(unsigned int reason);

#endif /* SEGD_TEST_FIXTURE_H */
