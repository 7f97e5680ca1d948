/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * config.h - segment files (JSON documents) -> validated policy model.
 *
 * Input is a set of named documents (see source.h: today the *.json files
 * of one directory). All documents together form one policy; names of
 * services, segments, devices and rules are global. Parsing is strict:
 * duplicate keys, unknown keys, wrong types, bad addresses, bad ports and
 * references to undeclared names are errors. Every diagnostic carries the
 * document name, line and column of the offending value. The parser never
 * prints; it fills a struct cfg_diag.
 */
#ifndef SEGD_CONFIG_H
#define SEGD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "source.h"

#define CFG_MAX_DIAGS 64	/* stop collecting after this many errors */

struct cfg_pos {
	const char *file;	/* document name; points into the policy's docs */
	int line;		/* 1-based, 0 if unknown */
	int column;		/* 1-based, 0 if unknown */
};

enum cfg_severity { CFG_ERROR = 0, CFG_WARNING = 1 };

struct cfg_diag_entry {
	enum cfg_severity severity;
	char file[256];
	int line;
	int column;
	char msg[512];
};

/* Collected diagnostics. Formatted as "FILE:LINE:COLUMN: error: MSG". */
struct cfg_diag {
	struct cfg_diag_entry v[CFG_MAX_DIAGS];
	size_t n;		/* entries stored */
	size_t n_errors;	/* errors seen (may exceed what is stored) */
	size_t n_warnings;
};

/* One protocol + ports element of a service. proto: IPPROTO_TCP, _UDP,
 * _ICMP, _ICMPV6, or 0 for "any". n_ports == 0 means every port (and for
 * ICMP every type). */
struct cfg_service_entry {
	uint8_t proto;
	uint16_t *ports;
	size_t n_ports;
	struct cfg_pos pos;
};

struct cfg_service {
	char *name;
	struct cfg_service_entry *entries;
	size_t n_entries;
	struct cfg_pos pos;
};

/* An address member: a host (plen 32 / 128) or a prefix, host bits zero. */
struct cfg_prefix {
	int family;		/* AF_INET or AF_INET6 */
	uint8_t addr[16];	/* network byte order; IPv4 uses addr[0..3] */
	uint8_t plen;
	struct cfg_pos pos;
};

struct cfg_mac {
	uint8_t mac[6];
	struct cfg_pos pos;
};

/* A named host. Binds its MAC to its addresses (anti-spoof) when both are
 * given. Has an identity of its own when rules name it. */
struct cfg_device {
	char *name;
	bool has_mac, has_ipv4, has_ipv6;
	uint8_t mac[6];
	uint8_t ipv4[4];
	uint8_t ipv6[16];
	size_t segment;		/* index into cfg_policy.segments */
	struct cfg_pos pos;	/* of its "name" value */
	struct cfg_pos ipv4_pos, ipv6_pos, mac_pos;	/* of each value given */
};

struct cfg_segment {
	char *name;
	bool intra_allow;	/* "intra": "allow" (default deny) */
	bool audit;		/* "mode": "audit" (default enforce) */
	struct cfg_prefix *prefixes;	/* cidr, ipv4 and ipv6 members */
	size_t n_prefixes;
	struct cfg_mac *macs;
	size_t n_macs;
	size_t *devices;	/* indexes into cfg_policy.devices */
	size_t n_devices;
	struct cfg_pos pos;
};

enum cfg_ref_kind {
	CFG_REF_SEGMENT,	/* index: segments[] */
	CFG_REF_DEVICE,		/* index: devices[] */
	CFG_REF_WORLD,		/* built-in "world" */
	CFG_REF_GATEWAY,	/* built-in "gateway" */
	CFG_REF_ANY,		/* "*": every segment, device, world and gateway */
};

struct cfg_ref {
	enum cfg_ref_kind kind;
	size_t index;
	struct cfg_pos pos;
};

struct cfg_rule {
	char *name;
	struct cfg_ref *from;
	size_t n_from;
	struct cfg_ref *to;
	size_t n_to;
	size_t *services;	/* indexes into cfg_policy.services */
	size_t n_services;
	struct cfg_pos pos;
};

struct cfg_policy {
	struct src_docs *docs;	/* owned: positions point at doc names */
	struct cfg_service *services;
	size_t n_services;
	struct cfg_segment *segments;
	size_t n_segments;
	struct cfg_device *devices;
	size_t n_devices;
	struct cfg_rule *rules;
	size_t n_rules;
	/* isolation.still_allowed: remediation targets of isolated hosts.
	 * Each is a rule with no "from" (an isolated host is the other end)
	 * named "isolation.still_allowed[N]", N counting across files. */
	struct cfg_rule *still_allowed;
	size_t n_still_allowed;
};

/*
 * cfg_parse - parse and validate a set of documents into one policy.
 * @docs: the documents; ownership passes to the policy on success and
 *        is released (src_docs_free) on failure.
 * @out:  set to a new policy on success, NULL on failure.
 * @diag: receives every error and warning (zeroed first).
 *
 * Returns 0 on success, -EINVAL when any error was found (diag says which),
 * -ENOMEM on allocation failure. Warnings alone do not fail.
 */
int cfg_parse(struct src_docs *docs, struct cfg_policy **out,
	      struct cfg_diag *diag);

void cfg_policy_free(struct cfg_policy *p);

/* Formats diag entry i as "FILE:LINE:COLUMN: error: MSG" into buf. */
void cfg_diag_format(const struct cfg_diag *d, size_t i, char *buf,
		     size_t len);

/* Name lookups on a parsed policy; return index or -1. */
long cfg_find_segment(const struct cfg_policy *p, const char *name);
long cfg_find_device(const struct cfg_policy *p, const char *name);

#endif /* SEGD_CONFIG_H */
