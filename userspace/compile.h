/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * compile.h - validated policy model -> the entries the kernel holds.
 *
 * Pure functions, no I/O. The output is slot-less: the map writer adds the
 * generation slot when it writes. comp_explain() evaluates a probe against a
 * compiled policy with exactly the lookup order of the XDP program
 * (bpf/segd.bpf.c), so segctl explain says what the kernel does.
 */
#ifndef SEGD_COMPILE_H
#define SEGD_COMPILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../include/segd_abi.h"
#include "config.h"

struct comp_identity {
	uint32_t id;
	uint32_t kind;		/* enum segd_id_kind */
	uint32_t seg;		/* segment id (== id for segments, built-ins) */
	char name[SEGD_NAME_LEN];
};

struct comp_host4 { uint8_t addr[4]; struct segd_endpoint ep; };
struct comp_host6 { uint8_t addr[16]; struct segd_endpoint ep; };
struct comp_lpm4 { uint8_t addr[4]; uint8_t plen; struct segd_endpoint ep; };
struct comp_lpm6 { uint8_t addr[16]; uint8_t plen; struct segd_endpoint ep; };
struct comp_mac { uint8_t mac[6]; struct segd_endpoint ep; };

struct comp_allow {
	uint32_t src_id;
	uint32_t dst_id;
	uint8_t proto;		/* 0 = any */
	uint16_t port;		/* 0 = any; ICMP: SEGD_ICMP_PORT(type) */
	uint32_t rule;		/* index into rule_names */
};

/* An address of the gateway itself; resolves to SEGD_ID_GATEWAY. */
struct comp_gw_addr {
	int family;
	uint8_t addr[16];
};

/* One (proto, port) of a named service, as policy keys hold it: port 0
 * for any port, protocols without ports and ICMP. */
struct comp_svc {
	char name[SEGD_NAME_LEN];
	uint8_t proto;
	uint16_t port;
};

/* Previous name -> id assignment, so ids stay stable across generations. */
struct comp_id_hint {
	char name[SEGD_NAME_LEN];
	uint32_t kind;
	uint32_t id;
};

struct comp_policy {
	struct comp_identity *ids;	/* sorted by id; includes world, gateway */
	size_t n_ids;
	struct comp_host4 *host4;
	size_t n_host4;
	struct comp_host6 *host6;
	size_t n_host6;
	struct comp_lpm4 *lpm4;
	size_t n_lpm4;
	struct comp_lpm6 *lpm6;
	size_t n_lpm6;
	struct comp_mac *macs;
	size_t n_macs;
	struct comp_allow *allows;	/* sorted, no duplicates */
	size_t n_allows;
	char **rule_names;		/* rule index -> name */
	size_t n_rules;
	struct comp_svc *svcs;		/* every service, in file order */
	size_t n_svcs;
	uint32_t flags;			/* SEGD_CFG_* to write with this policy */
	char digest[65];		/* digest of the source documents */
};

/*
 * comp_build - compile @cfg.
 * @gw, @n_gw: the gateway's own addresses (may be 0).
 * @hints, @n_hints: ids to reuse for names seen before (may be 0).
 * On error returns a negative errno and writes a message into @err.
 */
int comp_build(const struct cfg_policy *cfg, const struct comp_gw_addr *gw,
	       size_t n_gw, const struct comp_id_hint *hints, size_t n_hints,
	       struct comp_policy **out, char *err, size_t errlen);

void comp_free(struct comp_policy *p);

/* Identity by id, or NULL. */
const struct comp_identity *comp_identity(const struct comp_policy *p,
					  uint32_t id);

/* A packet to evaluate. Addresses in network byte order. */
struct comp_probe {
	int family;		/* AF_INET or AF_INET6 */
	uint8_t src[16];
	uint8_t dst[16];
	bool has_src_mac;
	uint8_t src_mac[6];
	uint8_t proto;		/* IPPROTO_TCP, _UDP, _ICMP, _ICMPV6, other */
	uint16_t dport;		/* TCP/UDP destination port */
	uint8_t icmp_type;	/* ICMP/ICMPv6 type (default: echo request) */
	uint16_t sport;		/* TCP/UDP source port; 0 = not given: DHCP
				 * and DHCPv6 are then told by dport alone */
	bool src_isolated;	/* the source / destination is under isolation
				 * (segd fills these from its list) */
	bool dst_isolated;
	/* break-glass allows in force (segd fills these from its list;
	 * docs/datapath.md step 11b) */
	const struct segd_bg_key *bg;
	size_t n_bg;
};

struct comp_verdict {
	uint8_t verdict;	/* enum segd_verdict */
	uint8_t reason;		/* enum segd_reason */
	struct segd_endpoint src;
	struct segd_endpoint dst;
	bool has_rule;
	uint32_t rule;		/* valid when has_rule */
};

/*
 * comp_explain - the verdict the data path gives a new flow's first packet
 * (no conntrack state: replies are the kernel's to know). Mirrors the XDP
 * program's order: identity resolution, local control traffic, anti-spoof,
 * policy with wildcards, audit. It knows no routes and no hop limits: it
 * assumes the frame arrived on the interface its source routes through
 * (the reverse-path check passes) and that ND and MLD carry their
 * link-local hop limits (255 and 1).
 */
void comp_explain(const struct comp_policy *p, const struct comp_probe *probe,
		  struct comp_verdict *out);

/* Name of a reason / verdict, as used in counters, JSON and metrics. */
const char *comp_reason_name(unsigned reason);
const char *comp_verdict_name(unsigned verdict);

#endif /* SEGD_COMPILE_H */
