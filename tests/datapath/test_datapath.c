// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * test_datapath.c - segd's XDP program, table-driven: each case is a frame
 * (described in pkt.h terms), the map entries on top of the hospital of
 * hospital.h, the XDP verdict and the one counter key that must move by
 * one packet of the frame's length. docs/datapath.md is the contract; the
 * cases name its steps.
 *
 *   test_datapath           run every case (root: loads BPF)
 *   test_datapath --bench   informational timings (see bench.c)
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <netinet/in.h>
#include <linux/bpf.h>

#include "fixture.h"
#include "hospital.h"
#include "pkt.h"
#include "suites.h"

struct dp_env *dp;

struct dp_case {
	const char *name;
	struct pkt_desc pkt;
	const struct seed *seeds;	/* written after the hospital */
	bool no_base;			/* start from empty maps instead */
	struct dp_expect want;
};

/* Hosts of the hospital. */
#define EHR4   "10.1.0.10"
#define EHR6   "2001:db8:1::10"
#define PACS4  "10.3.0.9"
#define PACS6  "2001:db8:3::9"
#define IOMT4  "10.2.0.77"
#define IOMT6  "2001:db8:2::77"
#define PUMP4  "10.2.0.5"
#define PUMP6  "2001:db8:2::5"
#define LAB4   "10.20.0.4"
#define GUEST4 "10.9.0.8"
#define GUEST6 "2001:db8:9::8"
#define PACSIN_EHR4 "10.1.0.99"		/* host entry (PACS) inside EHR's prefix */
#define PACSIN_EHR6 "2001:db8:1::99"
#define WORLD4 "198.51.100.7"
#define WORLD4B "203.0.113.5"
#define WORLD6 "2001:db8:ffff::7"
#define GW4    "10.0.0.1"
#define GW6    "2001:db8::1"

#define Q(v)    { 0x8100, (v) }
#define AD(v)   { 0x88a8, (v) }

/* ---- extra seeds ------------------------------------------------------ */
static const struct seed cfg_unloaded[] = { S_CFG(0, 0), S_END };
static const struct seed cfg_audit[] = {
	S_CFG(0, SEGD_CFG_LOADED | SEGD_CFG_AUDIT), S_END
};
/* A second generation in slot 1: EHR may reach PACS on tcp/22 only. */
static const struct seed slot1[] = {
	S_NET(1, "10.1.0.0/16", ID_EHR, ID_EHR, 0),
	S_NET(1, "10.3.0.0/16", ID_PACS, ID_PACS, 0),
	S_RULE(1, ID_EHR, ID_PACS, IPPROTO_TCP, 22),
	S_END,
};
static const struct seed slot1_live[] = {
	S_NET(1, "10.1.0.0/16", ID_EHR, ID_EHR, 0),
	S_NET(1, "10.3.0.0/16", ID_PACS, ID_PACS, 0),
	S_RULE(1, ID_EHR, ID_PACS, IPPROTO_TCP, 22),
	S_CFG(1, SEGD_CFG_LOADED),
	S_END,
};

/* Isolation (step 7b): EHR4/EHR6 isolated; remediation: PACS on tcp/22
 * and echo, both ways, as the compiler writes isolation.still_allowed. */
#define ISO_REMEDY \
	S_RULE(0, SEGD_ID_ISOLATED, ID_PACS, IPPROTO_TCP, 22), \
	S_RULE(0, ID_PACS, SEGD_ID_ISOLATED, IPPROTO_TCP, 22), \
	S_RULE(0, SEGD_ID_ISOLATED, ID_PACS, IPPROTO_ICMP, SEGD_ICMP_PORT(8)), \
	S_RULE(0, ID_PACS, SEGD_ID_ISOLATED, IPPROTO_ICMP, SEGD_ICMP_PORT(8))
static const struct seed iso_ehr[] = {
	S_ISO(EHR4), S_ISO(EHR6), ISO_REMEDY, S_END,
};
static const struct seed iso_ehr_pacs[] = {
	S_ISO(EHR4), S_ISO(PACS4), ISO_REMEDY, S_END,
};
static const struct seed iso_expired[] = {
	S_ISO_EXPIRED(EHR4), S_END,
};
static const struct seed iso_audit[] = {
	S_CFG(0, SEGD_CFG_LOADED | SEGD_CFG_AUDIT), S_ISO(EHR4), S_END,
};
/* Break-glass (step 11b): guest -> pacs tcp/104 for a minute. */
static const struct seed bg_guest_pacs[] = {
	S_BG(ID_GUEST, ID_PACS, IPPROTO_TCP, 104), S_END,
};
static const struct seed bg_expired[] = {
	S_BG_EXPIRED(ID_GUEST, ID_PACS, IPPROTO_TCP, 104), S_END,
};
static const struct seed bg_isolated[] = {
	S_ISO(GUEST4), S_BG(ID_GUEST, ID_PACS, IPPROTO_TCP, 104), S_END,
};
static const struct seed bg_pump_dev[] = {
	S_BG(ID_PUMP, ID_PACS, IPPROTO_TCP, 80), S_END,
};
static const struct seed bg_iomt_seg_udp_any[] = {
	S_BG(ID_IOMT, ID_PACS, IPPROTO_UDP, 0), S_END,
};
static const struct seed iso_mac[] = {
	S_ISO_MAC(mac_modality), S_END,
};

/* ---- odd frames ------------------------------------------------------- */
static void ihl_4(struct frame *f)
{
	f->buf[f->l3_off] = 0x44;
}

static void ipv4_cut_in_header(struct frame *f)
{
	f->len = f->l3_off + 12;
}

static void ipv4_options_past_frame(struct frame *f)
{
	f->buf[f->l3_off] = 0x4f;	/* 60-byte header */
	f->len = f->l3_off + 40;
}

static void ipv4_totlen_16(struct frame *f)
{
	f->buf[f->l3_off + 2] = 0;
	f->buf[f->l3_off + 3] = 16;
}

/* Total length one byte past the frame (all buffers). */
static void ipv4_totlen_past_frame(struct frame *f)
{
	size_t tot = f->len - f->l3_off + 1;

	f->buf[f->l3_off + 2] = (uint8_t)(tot >> 8);
	f->buf[f->l3_off + 3] = (uint8_t)tot;
}

static void ipv6_payload_past_frame(struct frame *f)
{
	size_t pl = f->len - f->l3_off - 40 + 1;

	f->buf[f->l3_off + 4] = (uint8_t)(pl >> 8);
	f->buf[f->l3_off + 5] = (uint8_t)pl;
}

static void ip_version_5(struct frame *f)
{
	f->buf[f->l3_off] = (uint8_t)(0x50 | (f->buf[f->l3_off] & 0x0f));
}

static void ipv6_cut_in_header(struct frame *f)
{
	f->len = f->l3_off + 30;
}

static void cut_in_vlan_tag(struct frame *f)
{
	f->len = 16;
}

#define IPV4_TINY_FIRST_FRAGMENT(proto_, keep) \
	.v = 4, .src = EHR4, .dst = PACS4, .proto = (proto_), .dport = 443, \
	.frag = 0x2000, .l4_keep = (keep), .pad_to = 60

static const struct dp_case cases[] = {
	/* ---- step 11: exact port, any port, any protocol, default deny -- */
	{ "tcp4_exact_port_allowed", { TCP4(EHR4, PACS4, 443) }, .want = PASSES(ID_EHR, ID_PACS, SEGD_REASON_ALLOWED) },
	{ "tcp4_syn_other_port_denied", { TCP4(EHR4, PACS4, 22) }, .want = DROPS(ID_EHR, ID_PACS, SEGD_REASON_POLICY) },
	{ "tcp4_ack_no_conntrack_denied", { TCP4(EHR4, PACS4, 22), .flags = FR_TCP_ACK }, .want = DROPS(ID_EHR, ID_PACS, SEGD_REASON_POLICY) },
	{ "udp4_any_port_allowed", { UDP4(EHR4, IOMT4, 5683) }, .want = PASSES(ID_EHR, ID_IOMT, SEGD_REASON_ALLOWED) },
	{ "udp4_any_port_other_port_allowed", { UDP4(EHR4, IOMT4, 161) }, .want = PASSES(ID_EHR, ID_IOMT, SEGD_REASON_ALLOWED) },
	{ "tcp4_any_port_allowed", { TCP4(GUEST4, WORLD4B, 8080) }, .want = PASSES(ID_GUEST, ID_WORLD, SEGD_REASON_ALLOWED) },
	{ "udp4_not_in_tcp_any_port", { UDP4(GUEST4, WORLD4B, 8080) }, .want = DROPS(ID_GUEST, ID_WORLD, SEGD_REASON_POLICY) },
	{ "icmp4_any_type_allowed", { ICMP4(GUEST4, GW4, 13) }, .want = PASSES(ID_GUEST, ID_GW, SEGD_REASON_ALLOWED) },
	{ "icmp4_any_type_echo_reply_allowed", { ICMP4(GUEST4, GW4, 0) }, .want = PASSES(ID_GUEST, ID_GW, SEGD_REASON_ALLOWED) },
	{ "tcp4_not_covered_by_icmp_any_type", { TCP4(GUEST4, GW4, 22) }, .want = DROPS(ID_GUEST, ID_GW, SEGD_REASON_POLICY) },
	{ "tcp4_not_in_udp_any_port", { TCP4(EHR4, IOMT4, 5683) }, .want = DROPS(ID_EHR, ID_IOMT, SEGD_REASON_POLICY) },
	{ "icmp4_echo_allowed", { ICMP4(EHR4, PACS4, 8) }, .want = PASSES(ID_EHR, ID_PACS, SEGD_REASON_ALLOWED) },
	{ "icmp4_timestamp_denied", { ICMP4(EHR4, PACS4, 13) }, .want = DROPS(ID_EHR, ID_PACS, SEGD_REASON_POLICY) },
	{ "tcp4_any_proto_allowed", { TCP4(IOMT4, EHR4, 5000) }, .want = PASSES(ID_IOMT, ID_EHR, SEGD_REASON_ALLOWED) },
	{ "udp4_any_proto_allowed", { UDP4(IOMT4, EHR4, 9999) }, .want = PASSES(ID_IOMT, ID_EHR, SEGD_REASON_ALLOWED) },
	{ "icmp4_any_proto_allowed", { ICMP4(IOMT4, EHR4, 8) }, .want = PASSES(ID_IOMT, ID_EHR, SEGD_REASON_ALLOWED) },
	{ "gre4_any_proto_allowed", { .v = 4, .src = IOMT4, .dst = EHR4, .proto = 47, .payload = 24 }, .want = PASSES(ID_IOMT, ID_EHR, SEGD_REASON_ALLOWED) },
	{ "gre4_default_deny", { .v = 4, .src = EHR4, .dst = PACS4, .proto = 47, .payload = 24 }, .want = DROPS(ID_EHR, ID_PACS, SEGD_REASON_POLICY) },
	{ "udp4_default_deny", { UDP4(PACS4, EHR4, 53) }, .want = DROPS(ID_PACS, ID_EHR, SEGD_REASON_POLICY) },
	{ "icmp4_echo_default_deny", { ICMP4(PACS4, EHR4, 8) }, .want = DROPS(ID_PACS, ID_EHR, SEGD_REASON_POLICY) },

	{ "tcp6_exact_port_allowed", { TCP6(EHR6, PACS6, 443) }, .want = PASSES(ID_EHR, ID_PACS, SEGD_REASON_ALLOWED) },
	{ "tcp6_syn_other_port_denied", { TCP6(EHR6, PACS6, 22) }, .want = DROPS(ID_EHR, ID_PACS, SEGD_REASON_POLICY) },
	{ "tcp6_ack_no_conntrack_denied", { TCP6(EHR6, PACS6, 22), .flags = FR_TCP_ACK }, .want = DROPS(ID_EHR, ID_PACS, SEGD_REASON_POLICY) },
	{ "udp6_any_port_allowed", { UDP6(EHR6, IOMT6, 5683) }, .want = PASSES(ID_EHR, ID_IOMT, SEGD_REASON_ALLOWED) },
	{ "tcp6_any_port_allowed", { TCP6(GUEST6, WORLD6, 8443) }, .want = PASSES(ID_GUEST, ID_WORLD, SEGD_REASON_ALLOWED) },
	{ "icmp6_any_type_allowed", { ICMP6(GUEST6, GW6, 128) }, .want = PASSES(ID_GUEST, ID_GW, SEGD_REASON_ALLOWED) },
	{ "tcp6_not_in_udp_any_port", { TCP6(EHR6, IOMT6, 5683) }, .want = DROPS(ID_EHR, ID_IOMT, SEGD_REASON_POLICY) },
	{ "icmp6_echo_allowed", { ICMP6(EHR6, PACS6, 128) }, .want = PASSES(ID_EHR, ID_PACS, SEGD_REASON_ALLOWED) },
	{ "icmp6_unreachable_denied", { ICMP6(EHR6, PACS6, 1) }, .want = DROPS(ID_EHR, ID_PACS, SEGD_REASON_POLICY) },
	{ "tcp6_any_proto_allowed", { TCP6(IOMT6, EHR6, 5000) }, .want = PASSES(ID_IOMT, ID_EHR, SEGD_REASON_ALLOWED) },
	{ "udp6_any_proto_allowed", { UDP6(IOMT6, EHR6, 9999) }, .want = PASSES(ID_IOMT, ID_EHR, SEGD_REASON_ALLOWED) },
	{ "icmp6_any_proto_allowed", { ICMP6(IOMT6, EHR6, 128) }, .want = PASSES(ID_IOMT, ID_EHR, SEGD_REASON_ALLOWED) },
	{ "udp6_default_deny", { UDP6(PACS6, EHR6, 53) }, .want = DROPS(ID_PACS, ID_EHR, SEGD_REASON_POLICY) },
	{ "icmp6_echo_default_deny", { ICMP6(PACS6, EHR6, 128) }, .want = DROPS(ID_PACS, ID_EHR, SEGD_REASON_POLICY) },

	/* ---- step 7: identities ------------------------------------------ */
	{ "host_src_beats_prefix4", { TCP4(PACSIN_EHR4, PACS4, 443) }, .want = DROPS(ID_PACS, ID_PACS, SEGD_REASON_POLICY) },
	{ "host_dst_beats_prefix4", { TCP4(EHR4, PACSIN_EHR4, 443) }, .want = PASSES(ID_EHR, ID_PACS, SEGD_REASON_ALLOWED) },
	{ "host_src_beats_prefix6", { TCP6(PACSIN_EHR6, PACS6, 443) }, .want = DROPS(ID_PACS, ID_PACS, SEGD_REASON_POLICY) },
	{ "host_dst_beats_prefix6", { TCP6(EHR6, PACSIN_EHR6, 443) }, .want = PASSES(ID_EHR, ID_PACS, SEGD_REASON_ALLOWED) },
	{ "mac_member_src4", { TCP4("192.168.50.7", PACS4, 104), .smac = mac_modality }, .want = PASSES(ID_PACS, ID_PACS, SEGD_REASON_ALLOWED) },
	{ "mac_member_src6", { TCP6(WORLD6, PACS6, 104), .smac = mac_modality }, .want = PASSES(ID_PACS, ID_PACS, SEGD_REASON_ALLOWED) },
	{ "mac_unknown_src_is_world", { TCP4("192.168.50.7", PACS4, 104) }, .want = DROPS(ID_WORLD, ID_PACS, SEGD_REASON_POLICY) },
	{ "mac_beats_prefix", { TCP4(EHR4, PACS4, 104), .smac = mac_modality }, .want = PASSES(ID_PACS, ID_PACS, SEGD_REASON_ALLOWED) },
	{ "host_beats_mac", { TCP4(PACSIN_EHR4, PACS4, 104), .smac = mac_modality }, .want = DROPS(ID_PACS, ID_PACS, SEGD_REASON_POLICY) },
	{ "world_src_allowed", { TCP4(WORLD4, EHR4, 443) }, .want = PASSES(ID_WORLD, ID_EHR, SEGD_REASON_ALLOWED) },
	{ "world_src_denied", { TCP4(WORLD4, EHR4, 80) }, .want = DROPS(ID_WORLD, ID_EHR, SEGD_REASON_POLICY) },
	{ "world_dst_allowed", { TCP4(EHR4, WORLD4B, 443) }, .want = PASSES(ID_EHR, ID_WORLD, SEGD_REASON_ALLOWED) },
	{ "world_dst_denied", { UDP4(EHR4, WORLD4B, 53) }, .want = DROPS(ID_EHR, ID_WORLD, SEGD_REASON_POLICY) },
	{ "world_src6_allowed", { TCP6(WORLD6, EHR6, 443) }, .want = PASSES(ID_WORLD, ID_EHR, SEGD_REASON_ALLOWED) },
	{ "world_to_world_denied", { TCP4(WORLD4, WORLD4B, 443) }, .want = DROPS(ID_WORLD, ID_WORLD, SEGD_REASON_POLICY) },
	{ "gateway_host_allowed4", { TCP4(EHR4, GW4, 22) }, .want = PASSES(ID_EHR, ID_GW, SEGD_REASON_ALLOWED) },
	{ "gateway_host_denied4", { TCP4(EHR4, GW4, 23) }, .want = DROPS(ID_EHR, ID_GW, SEGD_REASON_POLICY) },
	{ "gateway_host_allowed6", { TCP6(EHR6, GW6, 22) }, .want = PASSES(ID_EHR, ID_GW, SEGD_REASON_ALLOWED) },
	{ "gateway_host_not_source_of_rule", { TCP4(GW4, EHR4, 22) }, .want = DROPS(ID_GW, ID_EHR, SEGD_REASON_POLICY) },

	/* ---- step 11b: break-glass ----------------------------------------- */
	{ "bg_none_dropped", { TCP4(GUEST4, PACS4, 104) }, .want = DROPS(ID_GUEST, ID_PACS, SEGD_REASON_POLICY) },
	{ "bg_allows4", { TCP4(GUEST4, PACS4, 104) }, bg_guest_pacs, .want = PASSES(ID_GUEST, ID_PACS, SEGD_REASON_BREAKGLASS) },
	{ "bg_allows6", { TCP6(GUEST6, PACS6, 104) }, bg_guest_pacs, .want = PASSES(ID_GUEST, ID_PACS, SEGD_REASON_BREAKGLASS) },
	{ "bg_other_port_dropped", { TCP4(GUEST4, PACS4, 105) }, bg_guest_pacs, .want = DROPS(ID_GUEST, ID_PACS, SEGD_REASON_POLICY) },
	{ "bg_other_proto_dropped", { UDP4(GUEST4, PACS4, 104) }, bg_guest_pacs, .want = DROPS(ID_GUEST, ID_PACS, SEGD_REASON_POLICY) },
	{ "bg_one_way_only", { TCP4(PACS4, GUEST4, 104) }, bg_guest_pacs, .want = DROPS(ID_PACS, ID_GUEST, SEGD_REASON_POLICY) },
	{ "bg_expired_dropped", { TCP4(GUEST4, PACS4, 104) }, bg_expired, .want = DROPS(ID_GUEST, ID_PACS, SEGD_REASON_POLICY) },
	{ "bg_isolation_wins", { TCP4(GUEST4, PACS4, 104) }, bg_isolated, .want = DROPS(ID_GUEST, ID_PACS, SEGD_REASON_ISOLATED) },
	{ "bg_policy_allow_stays_allowed", { TCP4(EHR4, PACS4, 443) }, bg_guest_pacs, .want = PASSES(ID_EHR, ID_PACS, SEGD_REASON_ALLOWED) },
	{ "bg_device", { TCP4(PUMP4, PACS4, 80), .smac = mac_pump }, bg_pump_dev, .want = PASSES(ID_IOMT, ID_PACS, SEGD_REASON_BREAKGLASS) },
	{ "bg_device_not_its_segment", { TCP4(IOMT4, PACS4, 80) }, bg_pump_dev, .want = DROPS(ID_IOMT, ID_PACS, SEGD_REASON_POLICY) },
	{ "bg_segment_covers_device_any_port", { UDP4(PUMP4, PACS4, 5000), .smac = mac_pump }, bg_iomt_seg_udp_any, .want = PASSES(ID_IOMT, ID_PACS, SEGD_REASON_BREAKGLASS) },
	/* ---- step 7b: isolation ------------------------------------------ */
	{ "iso_src4_allowed_flow_dropped", { TCP4(EHR4, PACS4, 443) }, iso_ehr, .want = DROPS(ID_EHR, ID_PACS, SEGD_REASON_ISOLATED) },
	{ "iso_src6_allowed_flow_dropped", { TCP6(EHR6, PACS6, 443) }, iso_ehr, .want = DROPS(ID_EHR, ID_PACS, SEGD_REASON_ISOLATED) },
	{ "iso_dst4_allowed_flow_dropped", { TCP4(IOMT4, EHR4, 5000) }, iso_ehr, .want = DROPS(ID_IOMT, ID_EHR, SEGD_REASON_ISOLATED) },
	{ "iso_dst4_ack_not_a_reply", { TCP4(PACS4, EHR4, 40000), .flags = FR_TCP_ACK }, iso_ehr, .want = DROPS(ID_PACS, ID_EHR, SEGD_REASON_ISOLATED) },
	{ "iso_echo_reply_dropped", { ICMP4(PACS4, EHR4, 0) }, iso_ehr_pacs, .want = DROPS(ID_PACS, ID_EHR, SEGD_REASON_ISOLATED) },
	{ "iso_global_audit_still_drops", { TCP4(EHR4, PACS4, 80) }, iso_audit, .want = DROPS(ID_EHR, ID_PACS, SEGD_REASON_ISOLATED) },
	{ "iso_remedy_to_target", { TCP4(EHR4, PACS4, 22) }, iso_ehr, .want = PASSES(ID_EHR, ID_PACS, SEGD_REASON_ALLOWED) },
	{ "iso_remedy_to_target6", { TCP6(EHR6, PACS6, 22) }, iso_ehr, .want = PASSES(ID_EHR, ID_PACS, SEGD_REASON_ALLOWED) },
	{ "iso_remedy_from_target", { TCP4(PACS4, EHR4, 22) }, iso_ehr, .want = PASSES(ID_PACS, ID_EHR, SEGD_REASON_ALLOWED) },
	{ "iso_remedy_other_port_dropped", { TCP4(EHR4, PACS4, 23) }, iso_ehr, .want = DROPS(ID_EHR, ID_PACS, SEGD_REASON_ISOLATED) },
	{ "iso_remedy_echo", { ICMP4(EHR4, PACS4, 8) }, iso_ehr, .want = PASSES(ID_EHR, ID_PACS, SEGD_REASON_ALLOWED) },
	{ "iso_remedy_echo_reply", { ICMP4(PACS4, EHR4, 0) }, iso_ehr, .want = PASSES(ID_PACS, ID_EHR, SEGD_REASON_ALLOWED) },
	{ "iso_remedy_reply_without_conntrack", { TCP4(PACS4, EHR4, 40000), .flags = FR_TCP_ACK }, iso_ehr, .want = DROPS(ID_PACS, ID_EHR, SEGD_REASON_ISOLATED) },
	{ "iso_both_ends_no_remedy", { TCP4(EHR4, PACS4, 22) }, iso_ehr_pacs, .want = DROPS(ID_EHR, ID_PACS, SEGD_REASON_ISOLATED) },
	{ "iso_other_host_unaffected", { TCP4("10.1.0.11", PACS4, 443) }, iso_ehr, .want = PASSES(ID_EHR, ID_PACS, SEGD_REASON_ALLOWED) },
	{ "iso_expired_lapses", { TCP4(EHR4, PACS4, 443) }, iso_expired, .want = PASSES(ID_EHR, ID_PACS, SEGD_REASON_ALLOWED) },
	{ "iso_source_mac", { TCP4("192.168.50.7", PACS4, 104), .smac = mac_modality }, iso_mac, .want = DROPS(ID_PACS, ID_PACS, SEGD_REASON_ISOLATED) },

	/* ---- step 9: anti-spoof ------------------------------------------ */
	{ "device_right_mac4", { TCP4(PUMP4, EHR4, 8443), .smac = mac_pump }, .want = PASSES(ID_IOMT, ID_EHR, SEGD_REASON_ALLOWED) },
	{ "device_wrong_mac4", { TCP4(PUMP4, EHR4, 8443), .smac = mac_rogue }, .want = DROPS(ID_IOMT, ID_EHR, SEGD_REASON_SPOOFED) },
	{ "device_right_mac6", { UDP6(PUMP6, EHR6, 2575), .smac = mac_pump }, .want = PASSES(ID_IOMT, ID_EHR, SEGD_REASON_ALLOWED) },
	{ "device_wrong_mac6", { UDP6(PUMP6, EHR6, 2575), .smac = mac_rogue }, .want = DROPS(ID_IOMT, ID_EHR, SEGD_REASON_SPOOFED) },
	{ "device_wrong_mac_in_global_audit", { TCP4(PUMP4, EHR4, 8443), .smac = mac_rogue }, cfg_audit, .want = DROPS(ID_IOMT, ID_EHR, SEGD_REASON_SPOOFED) },
	{ "device_wrong_mac_nonfirst_fragment", { TCP4(PUMP4, EHR4, 8443), .smac = mac_rogue, .frag = 185, .no_l4 = true }, .want = DROPS(ID_IOMT, ID_EHR, SEGD_REASON_SPOOFED) },

	/* ---- step 1: VLAN tags ------------------------------------------- */
	{ "vlan_8021q_allowed", { TCP4(EHR4, PACS4, 443), .ntags = 1, .tags = { Q(10) } }, .want = PASSES(ID_EHR, ID_PACS, SEGD_REASON_ALLOWED) },
	{ "vlan_8021q_denied", { TCP4(EHR4, PACS4, 22), .ntags = 1, .tags = { Q(10) } }, .want = DROPS(ID_EHR, ID_PACS, SEGD_REASON_POLICY) },
	{ "vlan_qinq_8021ad_allowed", { TCP4(EHR4, PACS4, 443), .ntags = 2, .tags = { AD(100), Q(10) } }, .want = PASSES(ID_EHR, ID_PACS, SEGD_REASON_ALLOWED) },
	{ "vlan_qinq_8021ad_denied", { TCP4(EHR4, PACS4, 22), .ntags = 2, .tags = { AD(100), Q(10) } }, .want = DROPS(ID_EHR, ID_PACS, SEGD_REASON_POLICY) },
	{ "vlan_two_8021q_allowed", { UDP4(EHR4, IOMT4, 5683), .ntags = 2, .tags = { Q(100), Q(10) } }, .want = PASSES(ID_EHR, ID_IOMT, SEGD_REASON_ALLOWED) },
	{ "vlan_8021q_in_8021ad_allowed", { UDP4(EHR4, IOMT4, 5683), .ntags = 2, .tags = { Q(100), AD(10) } }, .want = PASSES(ID_EHR, ID_IOMT, SEGD_REASON_ALLOWED) },
	{ "vlan_priority_tag_allowed", { TCP4(EHR4, PACS4, 443), .ntags = 1, .tags = { Q(0) } }, .want = PASSES(ID_EHR, ID_PACS, SEGD_REASON_ALLOWED) },
	{ "vlan_priority_tag_denied", { TCP4(EHR4, PACS4, 22), .ntags = 1, .tags = { Q(0) } }, .want = DROPS(ID_EHR, ID_PACS, SEGD_REASON_POLICY) },
	{ "vlan_qinq_ipv6_allowed", { TCP6(EHR6, PACS6, 443), .ntags = 2, .tags = { AD(100), Q(10) } }, .want = PASSES(ID_EHR, ID_PACS, SEGD_REASON_ALLOWED) },
	{ "vlan_8021q_ipv6_denied", { TCP6(EHR6, PACS6, 22), .ntags = 1, .tags = { Q(10) } }, .want = DROPS(ID_EHR, ID_PACS, SEGD_REASON_POLICY) },
	{ "vlan_three_tags_malformed", { TCP4(EHR4, PACS4, 443), .ntags = 3, .tags = { AD(100), Q(10), Q(20) } }, .want = DROPS(0, 0, SEGD_REASON_MALFORMED) },
	{ "vlan_tag_truncated_malformed", { TCP4(EHR4, PACS4, 443), .ntags = 1, .tags = { Q(10) }, .mangle = cut_in_vlan_tag }, .want = DROPS(0, 0, SEGD_REASON_MALFORMED) },
	{ "vlan_arp_local", { .ethertype = 0x0806, .ntags = 1, .tags = { Q(10) } }, .want = PASSES(0, 0, SEGD_REASON_LOCAL) },
	{ "vlan_lldp_unknown_ethertype", { .ethertype = 0x88cc, .ntags = 1, .tags = { Q(10) } }, .want = DROPS(0, 0, SEGD_REASON_UNKNOWN_ETHERTYPE) },

	/* ---- step 5: IPv4 header ----------------------------------------- */
	{ "ipv4_options_allowed", { TCP4(EHR4, PACS4, 443), .ipopt = 12 }, .want = PASSES(ID_EHR, ID_PACS, SEGD_REASON_ALLOWED) },
	{ "ipv4_max_options_denied", { TCP4(EHR4, PACS4, 22), .ipopt = 40 }, .want = DROPS(ID_EHR, ID_PACS, SEGD_REASON_POLICY) },
	{ "ipv4_max_options_udp_allowed", { UDP4(EHR4, IOMT4, 5683), .ipopt = 40 }, .want = PASSES(ID_EHR, ID_IOMT, SEGD_REASON_ALLOWED) },
	{ "ipv4_ihl_4_malformed", { TCP4(EHR4, PACS4, 443), .mangle = ihl_4 }, .want = DROPS(0, 0, SEGD_REASON_MALFORMED) },
	{ "ipv4_truncated_header_malformed", { TCP4(EHR4, PACS4, 443), .mangle = ipv4_cut_in_header }, .want = DROPS(0, 0, SEGD_REASON_MALFORMED) },
	{ "ipv4_options_past_frame_malformed", { TCP4(EHR4, PACS4, 443), .mangle = ipv4_options_past_frame }, .want = DROPS(0, 0, SEGD_REASON_MALFORMED) },
	{ "ipv4_total_length_below_header_malformed", { TCP4(EHR4, PACS4, 443), .mangle = ipv4_totlen_16 }, .want = DROPS(0, 0, SEGD_REASON_MALFORMED) },
	{ "ipv4_total_length_past_frame_malformed", { TCP4(EHR4, PACS4, 22), .payload = 10, .mangle = ipv4_totlen_past_frame }, .want = DROPS(0, 0, SEGD_REASON_MALFORMED) },
	{ "ipv4_total_length_past_padded_frame_malformed", { TCP4(EHR4, PACS4, 22), .pad_to = 60, .mangle = ipv4_totlen_past_frame }, .want = DROPS(0, 0, SEGD_REASON_MALFORMED) },
	{ "ipv4_total_length_past_jumbo_frame_malformed", { TCP4(EHR4, PACS4, 443), .payload = 9000 - 54, .mangle = ipv4_totlen_past_frame }, .want = DROPS(0, 0, SEGD_REASON_MALFORMED) },
	{ "ipv4_total_length_short_of_padded_frame_allowed", { TCP4(EHR4, PACS4, 443), .pad_to = 60 }, .want = PASSES(ID_EHR, ID_PACS, SEGD_REASON_ALLOWED) },
	{ "ipv4_total_length_past_frame_in_vlan_malformed", { TCP4(EHR4, PACS4, 443), .ntags = 2, .tags = { AD(100), Q(10) }, .mangle = ipv4_totlen_past_frame }, .want = DROPS(0, 0, SEGD_REASON_MALFORMED) },
	{ "ipv4_version_5_malformed", { TCP4(EHR4, PACS4, 443), .mangle = ip_version_5 }, .want = DROPS(0, 0, SEGD_REASON_MALFORMED) },

	/* ---- step 5: IPv6 header and extension headers ------------------- */
	{ "ipv6_hbh_allowed", { TCP6(EHR6, PACS6, 443), .next = 1, .ext = { EXT_HBH } }, .want = PASSES(ID_EHR, ID_PACS, SEGD_REASON_ALLOWED) },
	{ "ipv6_dstopts_allowed", { TCP6(EHR6, PACS6, 443), .next = 1, .ext = { EXT_DST } }, .want = PASSES(ID_EHR, ID_PACS, SEGD_REASON_ALLOWED) },
	{ "ipv6_routing_type2_allowed", { TCP6(EHR6, PACS6, 443), .next = 1, .ext = { EXT_RH(2) } }, .want = PASSES(ID_EHR, ID_PACS, SEGD_REASON_ALLOWED) },
	{ "ipv6_atomic_fragment_allowed", { TCP6(EHR6, PACS6, 443), .next = 1, .ext = { EXT_FRAG(0, false) } }, .want = PASSES(ID_EHR, ID_PACS, SEGD_REASON_ALLOWED) },
	{ "ipv6_ah_allowed", { TCP6(EHR6, PACS6, 443), .next = 1, .ext = { EXT_AH } }, .want = PASSES(ID_EHR, ID_PACS, SEGD_REASON_ALLOWED) },
	{ "ipv6_hbh_dst_rh2_frag_allowed", { TCP6(EHR6, PACS6, 443), .next = 4, .ext = { EXT_HBH, EXT_DST, EXT_RH(2), EXT_FRAG(0, false) } }, .want = PASSES(ID_EHR, ID_PACS, SEGD_REASON_ALLOWED) },
	{ "ipv6_hbh_dst_rh2_frag_denied", { TCP6(EHR6, PACS6, 22), .next = 4, .ext = { EXT_HBH, EXT_DST, EXT_RH(2), EXT_FRAG(0, false) } }, .want = DROPS(ID_EHR, ID_PACS, SEGD_REASON_POLICY) },
	{ "ipv6_hbh_udp_allowed", { UDP6(EHR6, IOMT6, 5683), .next = 1, .ext = { EXT_HBH } }, .want = PASSES(ID_EHR, ID_IOMT, SEGD_REASON_ALLOWED) },
	{ "ipv6_dstopts_icmp6_allowed", { ICMP6(EHR6, PACS6, 128), .next = 1, .ext = { EXT_DST } }, .want = PASSES(ID_EHR, ID_PACS, SEGD_REASON_ALLOWED) },
	{ "ipv6_big_hbh_allowed", { TCP6(EHR6, PACS6, 443), .next = 1, .ext = { { .type = 0, .len = 2048 } } }, .want = PASSES(ID_EHR, ID_PACS, SEGD_REASON_ALLOWED) },
	{ "ipv6_eight_ext_allowed", { TCP6(EHR6, PACS6, 443), .next = 8, .ext = { EXT_HBH, EXT_DST, EXT_DST, EXT_DST, EXT_DST, EXT_DST, EXT_DST, EXT_DST } }, .want = PASSES(ID_EHR, ID_PACS, SEGD_REASON_ALLOWED) },
	{ "ipv6_nine_ext_malformed", { TCP6(EHR6, PACS6, 443), .next = 9, .ext = { EXT_HBH, EXT_DST, EXT_DST, EXT_DST, EXT_DST, EXT_DST, EXT_DST, EXT_DST, EXT_DST } }, .want = DROPS(0, 0, SEGD_REASON_MALFORMED) },
	{ "ipv6_routing_type0_malformed", { TCP6(EHR6, PACS6, 443), .next = 1, .ext = { EXT_RH(0) } }, .want = DROPS(0, 0, SEGD_REASON_MALFORMED) },
	{ "ipv6_ext_past_frame_malformed", { TCP6(EHR6, PACS6, 443), .next = 1, .ext = { { .type = 0, .len = 64 } }, .cut = 30 }, .want = DROPS(0, 0, SEGD_REASON_MALFORMED) },
	{ "ipv6_truncated_header_malformed", { TCP6(EHR6, PACS6, 443), .mangle = ipv6_cut_in_header }, .want = DROPS(0, 0, SEGD_REASON_MALFORMED) },
	{ "ipv6_version_5_malformed", { TCP6(EHR6, PACS6, 443), .mangle = ip_version_5 }, .want = DROPS(0, 0, SEGD_REASON_MALFORMED) },
	{ "ipv6_payload_length_past_frame_malformed", { TCP6(EHR6, PACS6, 22), .payload = 10, .mangle = ipv6_payload_past_frame }, .want = DROPS(0, 0, SEGD_REASON_MALFORMED) },
	{ "ipv6_payload_length_past_jumbo_frame_malformed", { UDP6(PACS6, EHR6, 2049), .payload = 9000 - 62, .mangle = ipv6_payload_past_frame }, .want = DROPS(0, 0, SEGD_REASON_MALFORMED) },

	/* ---- steps 5, 6 and 10: fragments -------------------------------- */
	{ "ipv4_nonfirst_fragment", { TCP4(EHR4, PACS4, 22), .frag = 0x2000 | 185, .no_l4 = true }, .want = PASSES(ID_EHR, ID_PACS, SEGD_REASON_FRAGMENT) },
	{ "ipv4_last_fragment", { UDP4(PACS4, EHR4, 53), .frag = 10, .no_l4 = true }, .want = PASSES(ID_PACS, ID_EHR, SEGD_REASON_FRAGMENT) },
	{ "ipv4_first_fragment_allowed", { TCP4(EHR4, PACS4, 443), .frag = 0x2000, .payload = 100 }, .want = PASSES(ID_EHR, ID_PACS, SEGD_REASON_ALLOWED) },
	{ "ipv4_first_fragment_denied", { TCP4(EHR4, PACS4, 22), .frag = 0x2000, .payload = 100 }, .want = DROPS(ID_EHR, ID_PACS, SEGD_REASON_POLICY) },
	{ "ipv4_first_fragment_short_tcp_malformed", { IPV4_TINY_FIRST_FRAGMENT(IPPROTO_TCP, 8) }, .want = DROPS(0, 0, SEGD_REASON_MALFORMED) },
	{ "ipv4_first_fragment_short_udp_malformed", { IPV4_TINY_FIRST_FRAGMENT(IPPROTO_UDP, 4) }, .want = DROPS(0, 0, SEGD_REASON_MALFORMED) },
	{ "ipv6_nonfirst_fragment", { TCP6(EHR6, PACS6, 22), .next = 1, .ext = { EXT_FRAG(100, true) }, .no_l4 = true }, .want = PASSES(ID_EHR, ID_PACS, SEGD_REASON_FRAGMENT) },
	{ "ipv6_nonfirst_fragment_after_hbh", { UDP6(PACS6, EHR6, 53), .next = 2, .ext = { EXT_HBH, EXT_FRAG(100, false) }, .no_l4 = true }, .want = PASSES(ID_PACS, ID_EHR, SEGD_REASON_FRAGMENT) },
	{ "ipv6_first_fragment_allowed", { TCP6(EHR6, PACS6, 443), .next = 1, .ext = { EXT_FRAG(0, true) }, .payload = 100 }, .want = PASSES(ID_EHR, ID_PACS, SEGD_REASON_ALLOWED) },
	{ "ipv6_first_fragment_short_tcp_malformed", { TCP6(EHR6, PACS6, 443), .next = 1, .ext = { EXT_FRAG(0, true) }, .l4_keep = 8, .pad_to = 90 }, .want = DROPS(0, 0, SEGD_REASON_MALFORMED) },

	/* ---- step 6: L4 headers ------------------------------------------ */
	{ "tcp4_truncated_malformed", { TCP4(EHR4, PACS4, 443), .cut = 4 }, .want = DROPS(0, 0, SEGD_REASON_MALFORMED) },
	{ "udp4_truncated_malformed", { UDP4(EHR4, IOMT4, 5683), .cut = 2 }, .want = DROPS(0, 0, SEGD_REASON_MALFORMED) },
	{ "icmp4_truncated_malformed", { ICMP4(EHR4, PACS4, 8), .cut = 5 }, .want = DROPS(0, 0, SEGD_REASON_MALFORMED) },
	{ "tcp6_truncated_malformed", { TCP6(EHR6, PACS6, 443), .cut = 10 }, .want = DROPS(0, 0, SEGD_REASON_MALFORMED) },
	{ "udp6_truncated_malformed", { UDP6(EHR6, IOMT6, 5683), .cut = 1 }, .want = DROPS(0, 0, SEGD_REASON_MALFORMED) },
	{ "tcp4_short_for_ip_length_padded_malformed", { TCP4(EHR4, PACS4, 443), .l4_keep = 12, .pad_to = 60 }, .want = DROPS(0, 0, SEGD_REASON_MALFORMED) },

	/* ---- steps 2, 3, 8: local control, other ethertypes -------------- */
	{ "arp_local", { .ethertype = 0x0806 }, .want = PASSES(0, 0, SEGD_REASON_LOCAL) },
	{ "arp_local_without_policy", { .ethertype = 0x0806 }, cfg_unloaded, .want = PASSES(0, 0, SEGD_REASON_LOCAL) },
	{ "dhcp4_discover_local", { UDP4("0.0.0.0", "255.255.255.255", 67), .sport = 68 }, .want = PASSES(ID_WORLD, ID_GW, SEGD_REASON_LOCAL) },
	{ "dhcp4_request_to_gateway_local", { UDP4(GUEST4, GW4, 67), .sport = 68 }, .want = PASSES(ID_GUEST, ID_GW, SEGD_REASON_LOCAL) },
	{ "dhcp4_to_subnet_broadcast_local", { UDP4(GUEST4, "10.0.0.255", 67), .sport = 68 }, .want = PASSES(ID_GUEST, ID_GW, SEGD_REASON_LOCAL) },
	{ "dhcp4_offer_to_broadcast_local", { UDP4("10.9.0.2", "255.255.255.255", 68), .sport = 67 }, .want = PASSES(ID_GUEST, ID_GW, SEGD_REASON_LOCAL) },
	{ "dhcp4_offer_to_host_judged", { UDP4(GW4, "10.1.0.50", 68), .sport = 67 }, .want = DROPS(ID_GW, ID_EHR, SEGD_REASON_POLICY) },
	{ "dhcp4_guest_to_pacs_judged", { UDP4(GUEST4, PACS4, 67), .sport = 68 }, .want = DROPS(ID_GUEST, ID_PACS, SEGD_REASON_POLICY) },
	{ "dhcp4_guest_to_world_judged", { UDP4(GUEST4, WORLD4B, 67), .sport = 68 }, .want = DROPS(ID_GUEST, ID_WORLD, SEGD_REASON_POLICY) },
	{ "dhcp4_ports_reversed_denied", { UDP4("0.0.0.0", "255.255.255.255", 68), .sport = 68 }, .want = DROPS(ID_WORLD, ID_GW, SEGD_REASON_POLICY) },
	{ "dhcp6_solicit_local", { UDP6("fe80::1", "ff02::1:2", 547), .sport = 546 }, .want = PASSES(ID_WORLD, ID_GW, SEGD_REASON_LOCAL) },
	{ "dhcp6_advertise_local", { UDP6("fe80::2", "fe80::1", 546), .sport = 547 }, .want = PASSES(ID_WORLD, ID_GW, SEGD_REASON_LOCAL) },
	{ "dhcp6_request_to_gateway_local", { UDP6(GUEST6, GW6, 547), .sport = 546 }, .want = PASSES(ID_GUEST, ID_GW, SEGD_REASON_LOCAL) },
	{ "dhcp6_guest_to_pacs_judged", { UDP6(GUEST6, PACS6, 547), .sport = 546 }, .want = DROPS(ID_GUEST, ID_PACS, SEGD_REASON_POLICY) },
	{ "broadcast_dst_is_gateway_not_world", { TCP4(GUEST4, "255.255.255.255", 53) }, .want = DROPS(ID_GUEST, ID_GW, SEGD_REASON_POLICY) },
	{ "multicast4_dst_is_gateway_not_world", { TCP4(GUEST4, "239.255.255.250", 1900) }, .want = DROPS(ID_GUEST, ID_GW, SEGD_REASON_POLICY) },
	{ "multicast4_src_is_not_gateway", { TCP4("224.0.0.5", EHR4, 443) }, .want = PASSES(ID_WORLD, ID_EHR, SEGD_REASON_ALLOWED) },
	{ "broadcast_src_is_not_gateway", { TCP4("255.255.255.255", EHR4, 443) }, .want = PASSES(ID_WORLD, ID_EHR, SEGD_REASON_ALLOWED) },
	{ "link_local_src_is_not_gateway", { TCP6("fe80::5", EHR6, 443) }, .want = PASSES(ID_WORLD, ID_EHR, SEGD_REASON_ALLOWED) },
	{ "broadcast_src_falls_to_mac", { TCP4("255.255.255.255", PACS4, 104), .smac = mac_modality }, .want = PASSES(ID_PACS, ID_PACS, SEGD_REASON_ALLOWED) },
	{ "icmp6_router_solicitation_local", { ICMP6("fe80::1", "ff02::2", 133), .hlim = 255 }, .want = PASSES(ID_WORLD, ID_GW, SEGD_REASON_LOCAL) },
	{ "icmp6_router_advertisement_local", { ICMP6("fe80::2", "ff02::1", 134), .hlim = 255 }, .want = PASSES(ID_WORLD, ID_GW, SEGD_REASON_LOCAL) },
	{ "icmp6_neighbor_solicitation_local", { ICMP6(EHR6, "ff02::1:ff00:9", 135), .hlim = 255 }, .want = PASSES(ID_EHR, ID_GW, SEGD_REASON_LOCAL) },
	{ "icmp6_neighbor_advertisement_local", { ICMP6(PACS6, EHR6, 136), .hlim = 255 }, .want = PASSES(ID_PACS, ID_EHR, SEGD_REASON_LOCAL) },
	{ "icmp6_redirect_local", { ICMP6("fe80::2", "fe80::1", 137), .hlim = 255 }, .want = PASSES(ID_WORLD, ID_GW, SEGD_REASON_LOCAL) },
	{ "icmp6_mld_query_local", { ICMP6("fe80::2", "ff02::1", 130), .hlim = 1 }, .want = PASSES(ID_WORLD, ID_GW, SEGD_REASON_LOCAL) },
	{ "icmp6_mldv1_report_local", { ICMP6("fe80::1", "ff02::1:3", 131), .hlim = 1 }, .want = PASSES(ID_WORLD, ID_GW, SEGD_REASON_LOCAL) },
	{ "icmp6_mldv1_done_local", { ICMP6("fe80::1", "ff02::2", 132), .hlim = 1 }, .want = PASSES(ID_WORLD, ID_GW, SEGD_REASON_LOCAL) },
	{ "icmp6_mldv2_report_local", { ICMP6("fe80::1", "ff02::16", 143), .hlim = 1, .next = 1, .ext = { EXT_HBH } }, .want = PASSES(ID_WORLD, ID_GW, SEGD_REASON_LOCAL) },
	{ "icmp6_neighbor_advertisement_hop_limit_64_judged", { ICMP6(PACS6, EHR6, 136), .hlim = 64 }, .want = DROPS(ID_PACS, ID_EHR, SEGD_REASON_POLICY) },
	{ "icmp6_neighbor_solicitation_hop_limit_254_judged", { ICMP6(GUEST6, PACS6, 135), .hlim = 254 }, .want = DROPS(ID_GUEST, ID_PACS, SEGD_REASON_POLICY) },
	{ "icmp6_router_advertisement_hop_limit_1_judged", { ICMP6("fe80::2", "ff02::1", 134), .hlim = 1 }, .want = DROPS(ID_WORLD, ID_GW, SEGD_REASON_POLICY) },
	{ "icmp6_mldv2_report_hop_limit_255_judged", { ICMP6("fe80::1", "ff02::16", 143), .hlim = 255 }, .want = DROPS(ID_WORLD, ID_GW, SEGD_REASON_POLICY) },
	{ "icmp6_mld_query_to_host_hop_limit_64_judged", { ICMP6(GUEST6, PACS6, 130), .hlim = 64 }, .want = DROPS(ID_GUEST, ID_PACS, SEGD_REASON_POLICY) },
	{ "icmp6_echo_to_multicast_judged", { ICMP6("fe80::1", "ff02::1", 128) }, .want = DROPS(ID_WORLD, ID_GW, SEGD_REASON_POLICY) },
	{ "icmp4_type_135_not_local", { ICMP4(PACS4, EHR4, 135) }, .want = DROPS(ID_PACS, ID_EHR, SEGD_REASON_POLICY) },
	{ "lldp_unknown_ethertype", { .ethertype = 0x88cc }, .want = DROPS(0, 0, SEGD_REASON_UNKNOWN_ETHERTYPE) },
	{ "llc_8023_length_unknown_ethertype", { .ethertype = 0x0026 }, .want = DROPS(0, 0, SEGD_REASON_UNKNOWN_ETHERTYPE) },
	{ "unknown_ethertype_without_policy", { .ethertype = 0x88cc }, cfg_unloaded, .want = DROPS(0, 0, SEGD_REASON_UNKNOWN_ETHERTYPE) },

	/* ---- step 4: no policy ------------------------------------------- */
	{ "no_loaded_flag_no_policy", { TCP4(EHR4, PACS4, 443) }, cfg_unloaded, .want = DROPS(0, 0, SEGD_REASON_NO_POLICY) },
	{ "empty_maps_no_policy", { TCP6(EHR6, PACS6, 443) }, .no_base = true, .want = DROPS(0, 0, SEGD_REASON_NO_POLICY) },
	{ "no_policy_before_malformed_ip", { TCP4(EHR4, PACS4, 443), .mangle = ihl_4 }, cfg_unloaded, .want = DROPS(0, 0, SEGD_REASON_NO_POLICY) },

	/* ---- step 12: echo replies (conntrack: see ct.c) ----------------- */
	{ "icmp4_echo_reply_of_allowed_request", { ICMP4(PACS4, EHR4, 0) }, .want = PASSES(ID_PACS, ID_EHR, SEGD_REASON_REPLY) },
	{ "icmp4_echo_reply_without_request_rule", { ICMP4(EHR4, PACS4, 0) }, .want = DROPS(ID_EHR, ID_PACS, SEGD_REASON_POLICY) },
	{ "icmp4_echo_reply_via_any_proto_rule", { ICMP4(EHR4, IOMT4, 0) }, .want = PASSES(ID_EHR, ID_IOMT, SEGD_REASON_REPLY) },
	{ "icmp6_echo_reply_of_allowed_request", { ICMP6(PACS6, EHR6, 129) }, .want = PASSES(ID_PACS, ID_EHR, SEGD_REASON_REPLY) },
	{ "icmp6_echo_reply_without_request_rule", { ICMP6(EHR6, PACS6, 129) }, .want = DROPS(ID_EHR, ID_PACS, SEGD_REASON_POLICY) },
	{ "icmp4_unreachable_not_a_reply", { ICMP4(PACS4, EHR4, 3) }, .want = DROPS(ID_PACS, ID_EHR, SEGD_REASON_POLICY) },

	/* ---- step 13: audit ---------------------------------------------- */
	{ "audit_segment_src", { TCP4(LAB4, EHR4, 22) }, .want = PASSES(ID_LAB, ID_EHR, SEGD_REASON_AUDIT) },
	{ "audit_segment_dst", { TCP4(EHR4, LAB4, 22) }, .want = PASSES(ID_EHR, ID_LAB, SEGD_REASON_AUDIT) },
	{ "audit_segment_src6", { UDP6("2001:db8:20::4", PACS6, 161) }, .want = PASSES(ID_LAB, ID_PACS, SEGD_REASON_AUDIT) },
	{ "audit_global", { TCP4(EHR4, PACS4, 22) }, cfg_audit, .want = PASSES(ID_EHR, ID_PACS, SEGD_REASON_AUDIT) },
	{ "audit_global_allowed_stays_allowed", { TCP4(EHR4, PACS4, 443) }, cfg_audit, .want = PASSES(ID_EHR, ID_PACS, SEGD_REASON_ALLOWED) },
	{ "audit_global_malformed_still_dropped", { TCP4(EHR4, PACS4, 22), .cut = 4 }, cfg_audit, .want = DROPS(0, 0, SEGD_REASON_MALFORMED) },

	/* ---- generations: slot switch ------------------------------------ */
	{ "slot1_ignored_while_slot0_live", { TCP4(EHR4, PACS4, 22) }, slot1, .want = DROPS(ID_EHR, ID_PACS, SEGD_REASON_POLICY) },
	{ "slot1_used_after_switch", { TCP4(EHR4, PACS4, 22) }, slot1_live, .want = PASSES(ID_EHR, ID_PACS, SEGD_REASON_ALLOWED) },
	{ "slot0_rules_ignored_after_switch", { TCP4(EHR4, PACS4, 443) }, slot1_live, .want = DROPS(ID_EHR, ID_PACS, SEGD_REASON_POLICY) },
	{ "slot0_identities_ignored_after_switch", { UDP4(EHR4, IOMT4, 5683) }, slot1_live, .want = DROPS(ID_EHR, ID_WORLD, SEGD_REASON_POLICY) },
	{ "slot0_mac_ignored_after_switch", { TCP4("192.168.50.7", PACS4, 104), .smac = mac_modality }, slot1_live, .want = DROPS(ID_WORLD, ID_PACS, SEGD_REASON_POLICY) },

	/* ---- xdp.frags: a frame bigger than one page --------------------- */
	{ "jumbo_tcp4_allowed", { TCP4(EHR4, PACS4, 443), .payload = 9000 - 54 }, .want = PASSES(ID_EHR, ID_PACS, SEGD_REASON_ALLOWED) },
	{ "jumbo_udp6_denied", { UDP6(PACS6, EHR6, 2049), .payload = 9000 - 62 }, .want = DROPS(ID_PACS, ID_EHR, SEGD_REASON_POLICY) },
};

static void run_case(void **state)
{
	const struct dp_case *c = *state;
	static struct frame f;

	assert_int_equal(dp_env_reset(dp), 0);
	if (!c->no_base)
		assert_int_equal(dp_seed(dp, hospital), 0);
	assert_int_equal(dp_seed(dp, c->seeds), 0);
	pkt_build(&f, &c->pkt);
	dp_check(dp, f.buf, f.len, &c->want, c->name);
}

int main(int argc, char **argv)
{
	size_t n = sizeof(cases) / sizeof(cases[0]), i;
	struct CMUnitTest *tests;
	static struct dp_env env;
	int err, failed = 0;

	if (argc > 1 && !strcmp(argv[1], "--bench"))
		return dp_bench() || rpf_bench() ? 1 : 0;

	err = dp_env_open(&env, 0);
	if (err) {
		fprintf(stderr, "test_datapath: loading build/segd.bpf.o: %s\n",
			strerror(-err));
		return 1;
	}
	dp = &env;

	tests = calloc(n, sizeof(*tests));
	if (!tests)
		return 1;
	for (i = 0; i < n; i++) {
		tests[i].name = cases[i].name;
		tests[i].test_func = run_case;
		tests[i].initial_state = (void *)&cases[i];
	}
	failed += _cmocka_run_group_tests("datapath", tests, n, NULL, NULL);
	free(tests);
	failed += ct_run_tests();
	failed += rpf_run_tests();
	failed += ev_run_tests();

	dp_env_close(&env);
	return failed ? 1 : 0;
}
