/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * pkt.h - a packet described by fields, for case tables; pkt_build()
 * turns it into a frame with the fr_* helpers. Zero means "default" for
 * every field, so a case names only what makes it special.
 */
#ifndef SEGD_TEST_PKT_H
#define SEGD_TEST_PKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "frame.h"

struct vlan_tag {
	uint16_t tpid;
	uint16_t vid;
};

/* One IPv6 extension header. */
struct ext6 {
	uint8_t type;		/* 0 HBH, 60 DSTOPTS, 43 RH, 44 FRAG, 51 AH */
	uint8_t rtype;		/* RH: routing type */
	uint16_t len;		/* HBH/DSTOPTS: bytes, 0 = 8 */
	uint16_t frag;		/* FRAG: offset in 8-byte units */
	bool more;		/* FRAG: M flag */
};

#define EXT_HBH       { .type = 0 }
#define EXT_DST       { .type = 60 }
#define EXT_RH(t)     { .type = 43, .rtype = (t) }
#define EXT_FRAG(o, m) { .type = 44, .frag = (o), .more = (m) }
#define EXT_AH        { .type = 51 }

struct pkt_desc {
	const uint8_t *smac;	/* NULL: mac_host */
	int ntags;
	struct vlan_tag tags[3];
	uint16_t ethertype;	/* non-zero: a non-IP frame of this type */
	int v;			/* 4 or 6 */
	const char *src, *dst;
	uint8_t ipopt;		/* IPv4 option bytes (NOPs) */
	uint16_t frag;		/* IPv4 flags+offset field: 0x2000 MF | offset */
	uint8_t hlim;		/* IPv4 TTL / IPv6 hop limit, 0 = 64 */
	int next;		/* number of IPv6 extension headers */
	struct ext6 ext[10];
	uint8_t proto;		/* IPPROTO_TCP, _UDP, _ICMP/_ICMPV6 or other */
	uint16_t sport, dport;	/* TCP/UDP; sport 0 = 40000 */
	uint8_t flags;		/* TCP flags, 0 = SYN */
	uint8_t type;		/* ICMP type */
	bool no_l4;		/* non-first fragment: payload, no L4 header */
	size_t payload;		/* bytes after the L4 header */
	size_t l4_keep;		/* keep only this much of the L4 header, lengths consistent */
	size_t cut;		/* then cut this much off the end, lengths stale */
	size_t pad_to;		/* then pad with zeros to this frame length */
	void (*mangle)(struct frame *f);	/* last word for odd frames */
};

#define TCP4(s, d, dp) .v = 4, .src = (s), .dst = (d), .proto = IPPROTO_TCP, .dport = (dp)
#define UDP4(s, d, dp) .v = 4, .src = (s), .dst = (d), .proto = IPPROTO_UDP, .dport = (dp)
#define ICMP4(s, d, t) .v = 4, .src = (s), .dst = (d), .proto = IPPROTO_ICMP, .type = (t)
#define TCP6(s, d, dp) .v = 6, .src = (s), .dst = (d), .proto = IPPROTO_TCP, .dport = (dp)
#define UDP6(s, d, dp) .v = 6, .src = (s), .dst = (d), .proto = IPPROTO_UDP, .dport = (dp)
#define ICMP6(s, d, t) .v = 6, .src = (s), .dst = (d), .proto = IPPROTO_ICMPV6, .type = (t)

void pkt_build(struct frame *f, const struct pkt_desc *d);

#endif /* SEGD_TEST_PKT_H */
