/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * segd_abi.h - the one definition of everything the XDP program and the
 * userspace controller share: map names, key and value layouts, reason
 * codes, identity numbers, pin file names.
 *
 * Rules for this file:
 *  - only <linux/types.h> types, so it compiles for BPF and for userspace;
 *  - never include vmlinux.h here (it clashes with UAPI headers);
 *  - when the layout of a map's key or value changes, bump the _vN suffix
 *    of its name so an old pinned map is never reused with a new layout;
 *  - every struct has a _Static_assert on its size.
 *
 * Byte order: addresses and MACs are in network byte order (as they sit in
 * the packet); ports, ids, protocol numbers and counters are host order.
 */
#ifndef SEGD_ABI_H
#define SEGD_ABI_H

#include <linux/types.h>

/* ------------------------------------------------------------------ */
/* Map names. Pinned as <pin-dir>/<name> (default /sys/fs/bpf/segd).    */
/* ------------------------------------------------------------------ */
#define SEGD_MAP_CONFIG  "segd_config_v1"
#define SEGD_MAP_HOST4   "segd_host4_v1"
#define SEGD_MAP_HOST6   "segd_host6_v1"
#define SEGD_MAP_LPM4    "segd_lpm4_v1"
#define SEGD_MAP_LPM6    "segd_lpm6_v1"
#define SEGD_MAP_MAC     "segd_mac_v1"
#define SEGD_MAP_POLICY  "segd_policy_v1"
#define SEGD_MAP_COUNTERS "segd_counters_v1"
#define SEGD_MAP_NAMES   "segd_names_v1"
#define SEGD_MAP_META    "segd_meta_v1"	/* generation in force: digest, time */
#define SEGD_MAP_EVENTS  "segd_events_v1"	/* drop events (docs/telemetry.md) */
#define SEGD_MAP_EVLIMIT "segd_evlimit_v1"
#define SEGD_MAP_EVSTATS "segd_evstats_v1"
#define SEGD_MAP_ISOLATED "segd_isolated_v1"	/* hosts under isolation (issue 5) */
#define SEGD_MAP_BREAKGLASS "segd_breakglass_v1"	/* time-bound emergency allows (issue 5) */

/* Pinned XDP links: <pin-dir>/link_<ifname> (one bpf_link per interface). */
#define SEGD_LINK_PIN_PREFIX "link_"

#define SEGD_DEFAULT_PIN_DIR "/sys/fs/bpf/segd"
#define SEGD_DEFAULT_RUN_DIR "/run/segd"
#define SEGD_SOCKET_NAME     "segd.sock"
#define SEGD_PID_NAME        "segd.pid"

/* Default capacities (max_entries). Memory per entry is documented in
 * docs/operations.md; userspace refuses a policy that does not fit before
 * writing anything. Each capacity covers both generation slots. */
#define SEGD_MAX_HOSTS      262144
#define SEGD_MAX_PREFIXES   65536
#define SEGD_MAX_MACS       131072
#define SEGD_MAX_POLICY     262144
#define SEGD_MAX_COUNTERS   65536
#define SEGD_MAX_IDENTITIES 16384
#define SEGD_EVENTS_RB_SIZE (1u << 20)	/* ring buffer bytes (~9000 events) */
#define SEGD_MAX_EVLIMIT    65536	/* token buckets, LRU */

/* Event rate limit defaults (per source address and destination segment),
 * the XDP program's const volatile knobs segd_ev_rate/segd_ev_burst. */
#define SEGD_EV_RATE_DEFAULT  10	/* events per second, 0 = unlimited */
#define SEGD_EV_BURST_DEFAULT 20	/* events sent back to back */

/* ------------------------------------------------------------------ */
/* Identities                                                           */
/* ------------------------------------------------------------------ */
/*
 * Every end of a packet resolves to an identity: a segment, a named device
 * (which belongs to a segment), or a built-in. Ids below SEGD_ID_FIRST are
 * reserved. Ids are stable for a name across policy generations as long as
 * the pinned names map survives (userspace reuses them).
 */
#define SEGD_ID_NONE    0	/* invalid / unused slot */
#define SEGD_ID_WORLD   1	/* any address no segment declares */
#define SEGD_ID_GATEWAY 2	/* the gateway's own addresses */
/* Stands for "a host under isolation" in policy keys only: the entries
 * (ISOLATED, T, proto, port) and (T, ISOLATED, proto, port) are the
 * remediation targets of isolation.still_allowed (docs/datapath.md step
 * 7b). No address ever resolves to it. */
#define SEGD_ID_ISOLATED 3
#define SEGD_ID_FIRST   16	/* first id handed to segments and devices */

/* Kinds, as stored in struct segd_name.kind. */
enum segd_id_kind {
	SEGD_KIND_UNUSED = 0,
	SEGD_KIND_BUILTIN = 1,
	SEGD_KIND_SEGMENT = 2,
	SEGD_KIND_DEVICE = 3,
};

/* ------------------------------------------------------------------ */
/* Verdicts and reasons                                                 */
/* ------------------------------------------------------------------ */
enum segd_verdict {
	SEGD_VERDICT_PASS = 0,
	SEGD_VERDICT_DROP = 1,
};

/*
 * Why a packet got its verdict. A fixed, documented set (docs/telemetry.md);
 * the names in segd_reason_name() double as metric labels, so never reuse a
 * number for another meaning.
 */
enum segd_reason {
	SEGD_REASON_ALLOWED = 0,	/* pass: a rule allows (src, dst, service) */
	SEGD_REASON_REPLY = 1,		/* pass: reply of a connection conntrack knows */
	SEGD_REASON_LOCAL = 2,		/* pass: ARP, ND, DHCP, link-local control */
	SEGD_REASON_FRAGMENT = 3,	/* pass: non-first fragment, judged by reassembly */
	SEGD_REASON_AUDIT = 4,		/* pass: would be dropped, segment in audit mode */
	SEGD_REASON_POLICY = 5,		/* drop: no rule allows it (default deny) */
	SEGD_REASON_SPOOFED = 6,	/* drop: source bound to another MAC, or no route back via ingress */
	SEGD_REASON_MALFORMED = 7,	/* drop: truncated or invalid headers */
	SEGD_REASON_UNKNOWN_ETHERTYPE = 8, /* drop: neither IPv4, IPv6 nor ARP */
	SEGD_REASON_ISOLATED = 9,	/* drop: host under isolation */
	SEGD_REASON_NO_POLICY = 10,	/* drop: no policy loaded yet (fail closed) */
	SEGD_REASON_BREAKGLASS = 11,	/* pass: a break-glass allow in force */
	SEGD_REASON__MAX
};

/* ------------------------------------------------------------------ */
/* segd_config_v1: BPF_MAP_TYPE_ARRAY, 1 entry, key __u32 0.            */
/* ------------------------------------------------------------------ */
/*
 * The switch between policy generations. Every policy key carries a slot
 * (0 or 1); userspace fills the inactive slot completely, then writes this
 * value once to make it live, then deletes the old slot's entries. The XDP
 * program reads this value once per packet, so a packet never sees half a
 * policy. flags: SEGD_CFG_*.
 */
#define SEGD_CFG_LOADED (1u << 0)	/* a policy is loaded; else drop all (NO_POLICY) */
#define SEGD_CFG_AUDIT  (1u << 1)	/* global audit mode: count drops, pass packets */

/* slot, flags and generation stay the first 16 bytes of every future
 * segd_config_vN: a new segd adopts them from an older pinned config
 * (mapw_adopt_config) so an upgrade keeps the live slot and the numbering.
 * When the layout of a slotted map changes, bump segd_config_vN with it:
 * the old program then keeps its own config (and its slot) until its link
 * is updated, instead of switching to a slot its old map never got. */
struct segd_config {
	__u32 slot;		/* active generation slot, 0 or 1 */
	__u32 flags;		/* SEGD_CFG_* */
	__u64 generation;	/* policy generation number, monotonic */
};
_Static_assert(sizeof(struct segd_config) == 16, "segd_config layout");

/* ------------------------------------------------------------------ */
/* Endpoint: the value of every identity lookup map.                   */
/* ------------------------------------------------------------------ */
/*
 * id:    identity used for policy lookups (a device id or a segment id).
 * seg:   segment of that identity, used for counters and intra checks;
 *        for segments seg == id, for built-ins seg == id.
 * mac:   with SEGD_EP_MAC_BOUND, the only source MAC this address may use.
 */
#define SEGD_EP_MAC_BOUND (1u << 0)	/* anti-spoof: source MAC must equal mac */
#define SEGD_EP_AUDIT     (1u << 1)	/* segment in audit mode */
/* A destination-only entry (the built-in broadcast, multicast and
 * link-local entries of `gateway`): a source lookup that finds it goes on
 * as if it were absent (host entry: next, MAC; prefix: world). */
#define SEGD_EP_DST_ONLY  (1u << 2)

struct segd_endpoint {
	__u32 id;
	__u32 seg;
	__u8 mac[6];
	__u16 flags;		/* SEGD_EP_* */
};
_Static_assert(sizeof(struct segd_endpoint) == 16, "segd_endpoint layout");

/* ------------------------------------------------------------------ */
/* Identity lookup maps. Precedence, source side:                       */
/*   host address (host4/host6) > source MAC (mac) > prefix (lpm4/lpm6) */
/*   > SEGD_ID_WORLD.                                                   */
/* Destination side: host address > prefix > SEGD_ID_WORLD (the MAC of */
/* a routed packet's destination is the gateway's, so it says nothing). */
/* ------------------------------------------------------------------ */

/* segd_host4_v1: BPF_MAP_TYPE_HASH, exact IPv4 host addresses. */
struct segd_host4_key {
	__u32 slot;
	__u32 addr;		/* network byte order */
};
_Static_assert(sizeof(struct segd_host4_key) == 8, "segd_host4_key layout");

/* segd_host6_v1: BPF_MAP_TYPE_HASH, exact IPv6 host addresses. */
struct segd_host6_key {
	__u32 slot;
	__u8 addr[16];		/* network byte order */
};
_Static_assert(sizeof(struct segd_host6_key) == 20, "segd_host6_key layout");

/*
 * segd_lpm4_v1 / segd_lpm6_v1: BPF_MAP_TYPE_LPM_TRIE (BPF_F_NO_PREALLOC).
 * The slot is part of the matched data, so prefixlen = 32 + prefix length
 * and a lookup always uses prefixlen = 32 + 32 (or 32 + 128).
 */
struct segd_lpm4_key {
	__u32 prefixlen;
	__u32 slot;		/* in network byte order: bytes matched in order */
	__u8 addr[4];
};
_Static_assert(sizeof(struct segd_lpm4_key) == 12, "segd_lpm4_key layout");

struct segd_lpm6_key {
	__u32 prefixlen;
	__u32 slot;		/* network byte order */
	__u8 addr[16];
};
_Static_assert(sizeof(struct segd_lpm6_key) == 24, "segd_lpm6_key layout");

/* segd_mac_v1: BPF_MAP_TYPE_HASH, members known by source MAC. */
struct segd_mac_key {
	__u32 slot;
	__u8 mac[6];
	__u16 pad;		/* always 0 */
};
_Static_assert(sizeof(struct segd_mac_key) == 12, "segd_mac_key layout");

/* ------------------------------------------------------------------ */
/* segd_policy_v1: BPF_MAP_TYPE_HASH, the allow set. Default deny.      */
/* ------------------------------------------------------------------ */
/*
 * Key (src identity, dst identity, protocol, destination port).
 * Wildcards, tried in this order by the data path:
 *   (src, dst, proto, port)  exact service
 *   (src, dst, proto, 0)     any port of proto (and protocols without ports)
 *   (src, dst, 0, 0)         any protocol
 * For ICMP and ICMPv6 the port field holds SEGD_ICMP_PORT(type), so that
 * type 0 (echo reply) does not collide with the wildcard 0.
 * Rules naming a segment are expanded by userspace to every identity of
 * that segment (the segment itself and its devices).
 */
#define SEGD_ICMP_PORT(type) ((__u16)(type) + 1)

struct segd_policy_key {
	__u32 slot;
	__u32 src_id;
	__u32 dst_id;
	__u8 proto;		/* IPPROTO_*, 0 = any */
	__u8 pad;		/* always 0 */
	__u16 port;		/* host order, 0 = any */
};
_Static_assert(sizeof(struct segd_policy_key) == 16, "segd_policy_key layout");

struct segd_policy_value {
	__u32 rule;		/* index of the rule in the compiled policy */
	__u32 flags;		/* reserved, 0 */
};
_Static_assert(sizeof(struct segd_policy_value) == 8, "segd_policy_value layout");

/* ------------------------------------------------------------------ */
/* segd_counters_v1: BPF_MAP_TYPE_PERCPU_HASH.                          */
/* ------------------------------------------------------------------ */
/*
 * Per (source segment, destination segment, verdict, reason): packets and
 * bytes (frame length as seen by XDP). Keys use segment ids, never device
 * ids. Never reset by a policy change; userspace sums the per-CPU values.
 * Frames that are dropped before both ends are known (malformed, unknown
 * ethertype) count under src_seg = dst_seg = SEGD_ID_NONE.
 */
struct segd_counter_key {
	__u32 src_seg;
	__u32 dst_seg;
	__u8 verdict;		/* enum segd_verdict */
	__u8 reason;		/* enum segd_reason */
	__u16 pad;		/* always 0 */
};
_Static_assert(sizeof(struct segd_counter_key) == 12, "segd_counter_key layout");

struct segd_counter_value {
	__u64 packets;
	__u64 bytes;
};
_Static_assert(sizeof(struct segd_counter_value) == 16, "segd_counter_value layout");

/* ------------------------------------------------------------------ */
/* segd_names_v1: BPF_MAP_TYPE_ARRAY, key = identity id.                */
/* ------------------------------------------------------------------ */
/*
 * Names of identities, so that readers of the pinned maps (segctl stats)
 * can label counters without asking segd, and so that a restarted segd
 * keeps each name's id. Not read by the XDP program.
 */
#define SEGD_NAME_LEN 48

struct segd_name {
	char name[SEGD_NAME_LEN];	/* NUL-terminated */
	__u32 kind;			/* enum segd_id_kind */
	__u32 seg;			/* segment id of this identity */
	__u64 generation;		/* generation that last wrote it */
};
_Static_assert(sizeof(struct segd_name) == 64, "segd_name layout");

/* ------------------------------------------------------------------ */
/* segd_meta_v1: BPF_MAP_TYPE_ARRAY, 1 entry, key __u32 0.              */
/* ------------------------------------------------------------------ */
/*
 * Which policy a generation is: written by userspace right after each
 * switch of segd_config_v1, so that readers of the pins (segctl status
 * while segd is down) can say which files are in force. Not read by the
 * XDP program. When generation differs from segd_config_v1's, segd died
 * between the switch and this write: the digest is then unknown.
 */
struct segd_meta {
	__u64 generation;	/* the generation this record describes */
	__u64 applied_ns;	/* CLOCK_REALTIME of the switch, ns */
	char digest[72];	/* hex SHA-256 of the segment files, NUL-terminated */
};
_Static_assert(sizeof(struct segd_meta) == 88, "segd_meta layout");

/* ------------------------------------------------------------------ */
/* Drop events (docs/telemetry.md).                                     */
/* ------------------------------------------------------------------ */
/*
 * segd_events_v1: BPF_MAP_TYPE_RINGBUF, SEGD_EVENTS_RB_SIZE bytes. One
 * struct segd_event per dropped frame (verdict drop) and per audit
 * would-drop (verdict pass, reason audit, SEGD_EVF_AUDIT), unless the
 * token bucket of (source address, destination segment) is empty: then the
 * frame is counted in that bucket's `suppressed` and in
 * segd_evstats_v1.suppressed, and the next event of the pair carries the
 * count. A failed ring buffer reserve counts in segd_evstats_v1.lost.
 * So, for every drop and audit: delivered + suppressed + lost = frames.
 *
 * ts_ns is bpf_ktime_get_ns() (CLOCK_MONOTONIC); userspace converts it to
 * wall clock. Addresses and MACs network order, the rest host order.
 * family 0: the frame was not parsed as IP (malformed, unknown ethertype);
 * addresses, ports and identities are then 0. For ICMP/ICMPv6, sport and
 * dport are 0 and icmp_type holds the type. Fields not yet known when the
 * frame was dropped (e.g. ports of a malformed packet) are 0.
 * generation: segd_config_v1.generation when the event was made.
 */
#define SEGD_EVF_AUDIT (1u << 0)	/* would-drop in audit mode, passed */

struct segd_event {
	__u64 ts_ns;
	__u64 generation;
	__u8 saddr[16];		/* IPv4 in the first 4 bytes */
	__u8 daddr[16];
	__u32 ifindex;		/* ingress interface */
	__u32 src_id;		/* identity (segment or device), 0 unknown */
	__u32 dst_id;
	__u32 src_seg;		/* segment of that identity */
	__u32 dst_seg;
	__u32 suppressed;	/* events of this pair suppressed before this one */
	__u32 pkt_len;		/* frame bytes, all buffers */
	__u16 vlan;		/* innermost VLAN id, 0 untagged */
	__u16 sport;		/* host order */
	__u16 dport;
	__u8 smac[6];
	__u8 dmac[6];
	__u8 family;		/* 4, 6, or 0 (not IP) */
	__u8 l4proto;		/* IPPROTO_* */
	__u8 verdict;		/* enum segd_verdict */
	__u8 reason;		/* enum segd_reason */
	__u8 flags;		/* SEGD_EVF_* */
	__u8 icmp_type;
	__u8 pad[4];		/* always 0 */
};
_Static_assert(sizeof(struct segd_event) == 104, "segd_event layout");

/*
 * segd_evlimit_v1: BPF_MAP_TYPE_LRU_HASH, SEGD_MAX_EVLIMIT buckets. A
 * GCRA token bucket per (source address, destination segment): tat is the
 * "theoretical arrival time" in ktime ns; an event is sent while
 * tat - now <= (burst - 1) * 1e9 / rate. suppressed is added atomically
 * and taken (subtracted) by the CPU that sends the next event. XXX: an
 * evicted bucket takes its untold suppressed count with it; the total in
 * segd_evstats_v1 stays exact.
 */
struct segd_evlimit_key {
	__u32 dst_seg;
	__u8 family;		/* 0, 4 or 6 */
	__u8 pad[3];		/* always 0 */
	__u8 saddr[16];		/* network order, IPv4 in the first 4 bytes */
};
_Static_assert(sizeof(struct segd_evlimit_key) == 24, "segd_evlimit_key layout");

struct segd_evlimit_value {
	__u64 tat;		/* ktime ns */
	__u64 suppressed;	/* not yet carried by an event */
};
_Static_assert(sizeof(struct segd_evlimit_value) == 16, "segd_evlimit_value layout");

/*
 * segd_evstats_v1: BPF_MAP_TYPE_PERCPU_ARRAY, 1 entry, key 0. Userspace
 * sums the CPUs. sent: events committed to the ring buffer; suppressed:
 * frames the token buckets held back; lost: ring buffer full.
 */
struct segd_evstats {
	__u64 sent;
	__u64 suppressed;
	__u64 lost;
};
_Static_assert(sizeof(struct segd_evstats) == 24, "segd_evstats layout");

/* ------------------------------------------------------------------ */
/* segd_isolated_v1: BPF_MAP_TYPE_HASH, hosts under isolation.          */
/* ------------------------------------------------------------------ */
/*
 * Not slotted: isolation is not part of a policy generation and holds
 * across them. Key: kind SEGD_ISO_IPV4 (addr[0..3]), SEGD_ISO_IPV6
 * (addr[0..15]) or SEGD_ISO_MAC (addr[0..5], matched against the source
 * MAC only: a routed frame's destination MAC is the gateway's); unused
 * bytes 0. Value: expires_ns is a bpf_ktime_get_ns() (CLOCK_MONOTONIC)
 * deadline, 0 = until released; the XDP program ignores an entry whose
 * deadline has passed, so a timed isolation lapses with segd down (segd
 * deletes it and writes the audit record when it next looks).
 */
#define SEGD_MAX_ISOLATED 4096

enum segd_iso_kind {
	SEGD_ISO_MAC = 1,
	SEGD_ISO_IPV4 = 4,
	SEGD_ISO_IPV6 = 6,
};

struct segd_iso_key {
	__u8 kind;		/* enum segd_iso_kind */
	__u8 pad[3];		/* always 0 */
	__u8 addr[16];		/* network order; MAC in the first 6 bytes */
};
_Static_assert(sizeof(struct segd_iso_key) == 20, "segd_iso_key layout");

struct segd_iso_value {
	__u64 expires_ns;	/* ktime deadline, 0 = none */
	__u32 flags;		/* reserved, 0 */
	__u32 pad;		/* always 0 */
};
_Static_assert(sizeof(struct segd_iso_value) == 16, "segd_iso_value layout");

/* ------------------------------------------------------------------ */
/* segd_breakglass_v1: BPF_MAP_TYPE_HASH, time-bound emergency allows.  */
/* ------------------------------------------------------------------ */
/*
 * Not slotted: identities are stable across generations (names map), so
 * an allow holds across policy updates. Key: like segd_policy_key without
 * the slot; src_id / dst_id are a segment or device identity; the data
 * path tries each end's identity, then its segment (docs/datapath.md step
 * 11), with the port, then port 0. Value: expires_ns is a
 * bpf_ktime_get_ns() deadline, never 0: an entry whose deadline has passed
 * is ignored, so a break-glass lapses with segd down.
 */
#define SEGD_MAX_BREAKGLASS 1024

struct segd_bg_key {
	__u32 src_id;
	__u32 dst_id;
	__u8 proto;		/* IPPROTO_*, 0 = any */
	__u8 pad;		/* always 0 */
	__u16 port;		/* host order, 0 = any; ICMP: SEGD_ICMP_PORT */
};
_Static_assert(sizeof(struct segd_bg_key) == 12, "segd_bg_key layout");

struct segd_bg_value {
	__u64 expires_ns;	/* ktime deadline */
	__u32 id;		/* break-glass id (segctl breakglass list) */
	__u32 flags;		/* reserved, 0 */
};
_Static_assert(sizeof(struct segd_bg_value) == 16, "segd_bg_value layout");

#endif /* SEGD_ABI_H */
