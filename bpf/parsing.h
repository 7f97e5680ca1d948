/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * parsing.h - header parsers of segd's XDP program (docs/datapath.md,
 * steps 1, 5 and 6).
 *
 * Contract of every parser: it reads at the cursor, checks every byte it
 * touches against data_end, advances the cursor past what it parsed and
 * returns the next protocol (an ethertype or an IP protocol number, >= 0),
 * or -SEGD_REASON_MALFORMED. It fills what it learns into struct segd_pkt.
 * Parsers never judge; they only describe.
 */
#ifndef SEGD_BPF_PARSING_H
#define SEGD_BPF_PARSING_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "segd_abi.h"

#define SEGD_MAX_VLAN_TAGS 2	/* docs/datapath.md step 1 */
#define SEGD_MAX_EXT_HDRS  8	/* docs/datapath.md step 5 */

#define SEGD_VLAN_VID_MASK 0x0fff
#define SEGD_IP_OFFSET     0x1fff	/* IPv4 fragment offset, 8-byte units */
#define SEGD_IP6_OFFSET    0xfff8	/* IPv6 fragment offset, in frag_off */

#define SEGD_TCP_FLAG_SYN 0x02
#define SEGD_TCP_FLAG_ACK 0x10

struct hdr_cursor {
	void *pos;
};

struct segd_vlan_hdr {
	__be16 tci;
	__be16 encap_proto;
};

/* IPv6 Routing header: the fields before the type-specific data. */
struct segd_ipv6_rt_hdr {
	__u8 nexthdr;
	__u8 hdrlen;
	__u8 type;
	__u8 segments_left;
};

/* ICMP and ICMPv6 share the first 4 bytes (linux/icmp.h pulls in libc). */
struct segd_icmp_hdr {
	__u8 type;
	__u8 code;
	__sum16 checksum;
};

/* IPv6 Fragment header. */
struct segd_ipv6_frag_hdr {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off;	/* offset << 3 | M flag */
	__be32 identification;
};

/*
 * What the parsers learned about a frame. Addresses and ports are in
 * network byte order; an IPv4 address sits in saddr[0] / daddr[0].
 */
struct segd_pkt {
	__u8 smac[ETH_ALEN];
	__u16 vid;		/* innermost VLAN id; 0 = untagged or priority tag */
	__u8 family;		/* 4 or 6 */
	__u8 l4proto;		/* IPPROTO_* after the extension headers */
	__u8 nonfirst_frag;	/* 1: a fragment with offset != 0, no L4 header */
	__u8 tcp_flags;		/* byte 13 of the TCP header */
	__u8 icmp_type;		/* ICMP / ICMPv6 type */
	__u8 hop_limit;		/* IPv4 TTL, IPv6 hop limit */
	__u8 tos;		/* IPv4 TOS, IPv6 traffic class */
	__u8 l3_off;		/* offset of the IP header in the frame */
	__u32 l4_room;		/* bytes the IP length fields leave for L4 */
	__be16 sport;
	__be16 dport;
	__be32 saddr[4];
	__be32 daddr[4];
};

static __always_inline int proto_is_vlan(__u16 h_proto)
{
	return h_proto == ETH_P_8021Q || h_proto == ETH_P_8021AD;
}

/*
 * Ethernet and up to SEGD_MAX_VLAN_TAGS tags (0x8100 / 0x88a8 in any
 * order). Returns the ethertype in host order; a third tag is malformed.
 * An ethertype below 0x0600 is an 802.3 length (LLC): returned as is, and
 * judged by the caller like any other unknown ethertype.
 */
static __always_inline int parse_ethhdr(struct hdr_cursor *nh, void *data_end,
					struct segd_pkt *p)
{
	struct ethhdr *eth = nh->pos;
	struct segd_vlan_hdr *vh;
	__u16 proto;
	int i;

	if ((void *)(eth + 1) > data_end)
		return -SEGD_REASON_MALFORMED;
	__builtin_memcpy(p->smac, eth->h_source, ETH_ALEN);
	proto = bpf_ntohs(eth->h_proto);
	vh = (void *)(eth + 1);

	/* Why unroll: a constant, tiny bound; clang 14 emits straight code
	 * the verifier walks once per tag. */
#pragma unroll
	for (i = 0; i < SEGD_MAX_VLAN_TAGS; i++) {
		if (!proto_is_vlan(proto))
			break;
		if ((void *)(vh + 1) > data_end)
			return -SEGD_REASON_MALFORMED;
		p->vid = bpf_ntohs(vh->tci) & SEGD_VLAN_VID_MASK;
		proto = bpf_ntohs(vh->encap_proto);
		vh++;
	}
	if (proto_is_vlan(proto))
		return -SEGD_REASON_MALFORMED;
	nh->pos = vh;
	p->l3_off = sizeof(*eth) + i * sizeof(*vh);
	return proto;
}

/*
 * IPv4: 20 bytes, version 4, IHL >= 5, options inside the frame, header
 * length <= total length <= l3_len, the bytes of the frame from the IP
 * header on, all buffers included (xdp.frags: data_end only bounds the
 * first). Options are skipped, not judged. Returns the IP protocol.
 */
static __always_inline int parse_ipv4(struct hdr_cursor *nh, void *data_end,
				      struct segd_pkt *p, __u32 l3_len)
{
	struct iphdr *iph = nh->pos;
	__u32 hlen, tot;

	if ((void *)(iph + 1) > data_end)
		return -SEGD_REASON_MALFORMED;
	if (iph->version != 4)
		return -SEGD_REASON_MALFORMED;
	hlen = iph->ihl * 4;
	if (hlen < sizeof(*iph))
		return -SEGD_REASON_MALFORMED;
	/* hlen <= 60: a bounded variable offset the verifier accepts. */
	if (nh->pos + hlen > data_end)
		return -SEGD_REASON_MALFORMED;
	tot = bpf_ntohs(iph->tot_len);
	if (tot < hlen || tot > l3_len)
		return -SEGD_REASON_MALFORMED;

	p->family = 4;
	p->hop_limit = iph->ttl;
	p->tos = iph->tos;
	p->saddr[0] = iph->saddr;
	p->daddr[0] = iph->daddr;
	p->l4_room = tot - hlen;
	if (iph->frag_off & bpf_htons(SEGD_IP_OFFSET))
		p->nonfirst_frag = 1;
	nh->pos += hlen;
	return iph->protocol;
}

static __always_inline int ipv6_is_ext(__u8 nexthdr)
{
	switch (nexthdr) {
	case IPPROTO_HOPOPTS:
	case IPPROTO_DSTOPTS:
	case IPPROTO_ROUTING:
	case IPPROTO_FRAGMENT:
	case IPPROTO_AH:
		return 1;
	default:
		return 0;
	}
}

/*
 * One IPv6 extension header at the cursor, of type *nexthdr. On success
 * sets *nexthdr to the following header and returns its length; returns
 * 0 when the walk must stop at a non-first fragment (*nexthdr is then the
 * fragment's protocol), or -SEGD_REASON_MALFORMED.
 */
static __always_inline int parse_ipv6_ext(struct hdr_cursor *nh,
					  void *data_end, __u8 *nexthdr,
					  struct segd_pkt *p)
{
	struct ipv6_opt_hdr *oh = nh->pos;
	struct segd_ipv6_rt_hdr *rh;
	struct segd_ipv6_frag_hdr *fh;
	__u32 len;

	switch (*nexthdr) {
	case IPPROTO_HOPOPTS:
	case IPPROTO_DSTOPTS:
		if ((void *)(oh + 1) > data_end)
			return -SEGD_REASON_MALFORMED;
		len = (oh->hdrlen + 1) * 8;
		break;
	case IPPROTO_ROUTING:
		rh = nh->pos;
		if ((void *)(rh + 1) > data_end)
			return -SEGD_REASON_MALFORMED;
		/* RFC 5095: type 0 is deprecated, an amplification vector. */
		if (rh->type == 0)
			return -SEGD_REASON_MALFORMED;
		len = (rh->hdrlen + 1) * 8;
		break;
	case IPPROTO_FRAGMENT:
		fh = nh->pos;
		if ((void *)(fh + 1) > data_end)
			return -SEGD_REASON_MALFORMED;
		if (fh->frag_off & bpf_htons(SEGD_IP6_OFFSET)) {
			p->nonfirst_frag = 1;
			*nexthdr = fh->nexthdr;
			return 0;
		}
		len = sizeof(*fh);
		break;
	case IPPROTO_AH:
		if ((void *)(oh + 1) > data_end)
			return -SEGD_REASON_MALFORMED;
		len = (oh->hdrlen + 2) * 4;
		break;
	default:
		return -SEGD_REASON_MALFORMED;
	}
	/* len <= 2048: a bounded variable offset the verifier accepts. */
	if (nh->pos + len > data_end)
		return -SEGD_REASON_MALFORMED;
	*nexthdr = oh->nexthdr;
	nh->pos += len;
	return len;
}

/*
 * IPv6: 40 bytes, version 6, 40 + payload length <= l3_len (as for IPv4),
 * then at most SEGD_MAX_EXT_HDRS extension headers (Hop-by-Hop,
 * Destination Options, Routing, Fragment, AH). Returns the upper-layer
 * protocol, or the fragment's protocol for a non-first fragment
 * (p->nonfirst_frag set).
 */
static __always_inline int parse_ipv6(struct hdr_cursor *nh, void *data_end,
				      struct segd_pkt *p, __u32 l3_len)
{
	struct ipv6hdr *ip6h = nh->pos;
	__u32 room, used = 0;
	__u8 nexthdr;
	int i, len;

	if ((void *)(ip6h + 1) > data_end)
		return -SEGD_REASON_MALFORMED;
	if (ip6h->version != 6)
		return -SEGD_REASON_MALFORMED;

	p->family = 6;
	p->hop_limit = ip6h->hop_limit;
	p->tos = ip6h->priority << 4 | ip6h->flow_lbl[0] >> 4;
	__builtin_memcpy(p->saddr, &ip6h->saddr, sizeof(p->saddr));
	__builtin_memcpy(p->daddr, &ip6h->daddr, sizeof(p->daddr));
	/* payload_len 0: a jumbogram or BIG TCP; the frame bounds remain. */
	room = bpf_ntohs(ip6h->payload_len);
	if (room > l3_len - sizeof(*ip6h))
		return -SEGD_REASON_MALFORMED;	/* longer than the frame */
	if (!room)
		room = 0xffffffff;
	nexthdr = ip6h->nexthdr;
	nh->pos = ip6h + 1;

	/* Why unroll: the verifier must see a bounded walk; 8 copies of a
	 * small switch are cheaper to verify than a bpf_loop callback that
	 * would have to carry packet pointers through a context struct. */
#pragma unroll
	for (i = 0; i < SEGD_MAX_EXT_HDRS; i++) {
		if (!ipv6_is_ext(nexthdr))
			break;
		len = parse_ipv6_ext(nh, data_end, &nexthdr, p);
		if (len < 0)
			return len;
		if (len == 0)	/* non-first fragment: no L4 header */
			break;
		used += len;
	}
	if (!p->nonfirst_frag && ipv6_is_ext(nexthdr))
		return -SEGD_REASON_MALFORMED;	/* more than 8 */
	if (used > room)
		return -SEGD_REASON_MALFORMED;	/* headers past payload_len */
	p->l4_room = room - used;
	return nexthdr;
}

/*
 * The L4 header of a packet that has one (not of a non-first fragment):
 * TCP 20 bytes, UDP 8, ICMP and ICMPv6 4, each inside both the frame and
 * the IP datagram (a first fragment too short for it is the tiny-fragment
 * evasion). Other protocols have no port. Returns the protocol.
 */
static __always_inline int parse_l4(struct hdr_cursor *nh, void *data_end,
				    struct segd_pkt *p)
{
	struct tcphdr *th = nh->pos;
	struct udphdr *uh = nh->pos;
	struct segd_icmp_hdr *ih = nh->pos;

	switch (p->l4proto) {
	case IPPROTO_TCP:
		if ((void *)(th + 1) > data_end || p->l4_room < sizeof(*th))
			return -SEGD_REASON_MALFORMED;
		p->sport = th->source;
		p->dport = th->dest;
		p->tcp_flags = ((__u8 *)th)[13];
		break;
	case IPPROTO_UDP:
		if ((void *)(uh + 1) > data_end || p->l4_room < sizeof(*uh))
			return -SEGD_REASON_MALFORMED;
		p->sport = uh->source;
		p->dport = uh->dest;
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		if ((void *)(ih + 1) > data_end || p->l4_room < sizeof(*ih))
			return -SEGD_REASON_MALFORMED;
		p->icmp_type = ih->type;
		break;
	default:
		break;
	}
	return p->l4proto;
}

#endif /* SEGD_BPF_PARSING_H */
