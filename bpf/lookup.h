/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * lookup.h - identities, policy and replies (docs/datapath.md steps 7, 11
 * and 12). Every key carries the generation slot read once per packet by
 * the caller, so one packet never mixes two policies.
 */
#ifndef SEGD_BPF_LOOKUP_H
#define SEGD_BPF_LOOKUP_H

#include "maps.h"
#include "parsing.h"
#include "ct.h"

#define SEGD_ICMP_ECHO        8
#define SEGD_ICMP_ECHOREPLY   0
#define SEGD_ICMPV6_ECHO      128
#define SEGD_ICMPV6_ECHOREPLY 129

/*
 * segd_config_v1, read once per packet. slot and flags share one aligned
 * 8-byte word and are read with a single load, so the pair always comes
 * from one moment; a map update copies aligned 8-byte words on 64-bit
 * machines, so a packet sees the old or the new pair, not half of each.
 * Returns 0, or -1 if the lookup fails (never for an array of one entry,
 * but the verifier wants the NULL check).
 */
static __always_inline int config_read(__u32 *slot, __u32 *flags)
{
	union {
		__u64 raw;
		struct {
			__u32 slot;
			__u32 flags;
		} f;
	} u;
	__u32 key = 0;
	struct segd_config *cfg;

	cfg = bpf_map_lookup_elem(&segd_config_v1, &key);
	if (!cfg)
		return -1;
	u.raw = *(volatile __u64 *)cfg;
	*slot = u.f.slot;
	*flags = u.f.flags;
	return 0;
}

static __always_inline void ep_world(struct segd_endpoint *ep)
{
	__builtin_memset(ep, 0, sizeof(*ep));
	ep->id = SEGD_ID_WORLD;
	ep->seg = SEGD_ID_WORLD;
}

static __always_inline struct segd_endpoint *
host_lookup(__u32 slot, const struct segd_pkt *p, const __be32 *addr)
{
	if (p->family == 4) {
		struct segd_host4_key k = {};

		k.slot = slot;
		k.addr = addr[0];
		return bpf_map_lookup_elem(&segd_host4_v1, &k);
	} else {
		struct segd_host6_key k = {};

		k.slot = slot;
		__builtin_memcpy(k.addr, addr, sizeof(k.addr));
		return bpf_map_lookup_elem(&segd_host6_v1, &k);
	}
}

static __always_inline struct segd_endpoint *
prefix_lookup(__u32 slot, const struct segd_pkt *p, const __be32 *addr)
{
	if (p->family == 4) {
		struct segd_lpm4_key k = {};

		k.prefixlen = 32 + 32;
		k.slot = bpf_htonl(slot);
		__builtin_memcpy(k.addr, addr, sizeof(k.addr));
		return bpf_map_lookup_elem(&segd_lpm4_v1, &k);
	} else {
		struct segd_lpm6_key k = {};

		k.prefixlen = 32 + 128;
		k.slot = bpf_htonl(slot);
		__builtin_memcpy(k.addr, addr, sizeof(k.addr));
		return bpf_map_lookup_elem(&segd_lpm6_v1, &k);
	}
}

/* Source: host address, else source MAC, else longest prefix, else world. */
static __always_inline void src_lookup(__u32 slot, const struct segd_pkt *p,
				       struct segd_endpoint *ep)
{
	struct segd_endpoint *v;

	v = host_lookup(slot, p, p->saddr);
	if (v && (v->flags & SEGD_EP_DST_ONLY))
		v = NULL;
	if (!v) {
		struct segd_mac_key k = {};

		k.slot = slot;
		__builtin_memcpy(k.mac, p->smac, sizeof(k.mac));
		v = bpf_map_lookup_elem(&segd_mac_v1, &k);
	}
	if (!v)
		v = prefix_lookup(slot, p, p->saddr);
	if (v && !(v->flags & SEGD_EP_DST_ONLY))
		*ep = *v;
	else
		ep_world(ep);
}

/* Destination: host address, else longest prefix, else world. */
static __always_inline void dst_lookup(__u32 slot, const struct segd_pkt *p,
				       struct segd_endpoint *ep)
{
	struct segd_endpoint *v;

	v = host_lookup(slot, p, p->daddr);
	if (!v)
		v = prefix_lookup(slot, p, p->daddr);
	if (v)
		*ep = *v;
	else
		ep_world(ep);
}

/* Equal MACs. Why byte by byte: clang 14 turns __builtin_memcmp into a
 * call to memcmp, which BPF does not have. */
static __always_inline int mac_eq(const __u8 *a, const __u8 *b)
{
	return !((a[0] ^ b[0]) | (a[1] ^ b[1]) | (a[2] ^ b[2]) |
		 (a[3] ^ b[3]) | (a[4] ^ b[4]) | (a[5] ^ b[5]));
}

/*
 * Step 8: control traffic of the gateway's own links, whatever the policy.
 * DHCP and DHCPv6 only to the gateway itself (dst is `gateway`: one of its
 * addresses, broadcast, multicast or link-local), so a relay or a rogue
 * server behind the gateway is judged by policy. ND (RFC 4861) only with
 * hop limit 255 and MLD (RFC 2710, 3810) only with hop limit 1: with any
 * other value a receiver discards them, so they are not what they claim.
 */
static __always_inline int is_local_control(const struct segd_pkt *p,
					    const struct segd_endpoint *dst)
{
	__u16 sport = bpf_ntohs(p->sport), dport = bpf_ntohs(p->dport);

	if (p->l4proto == IPPROTO_UDP) {
		if (dst->id != SEGD_ID_GATEWAY)
			return 0;
		if (p->family == 4)
			return (sport == 68 && dport == 67) ||
			       (sport == 67 && dport == 68);
		return (sport == 546 && dport == 547) ||
		       (sport == 547 && dport == 546);
	}
	if (p->l4proto == IPPROTO_ICMPV6 && p->family == 6) {
		switch (p->icmp_type) {
		case 130: /* MLD query */
		case 131: /* MLDv1 report */
		case 132: /* MLDv1 done */
		case 143: /* MLDv2 report */
			return p->hop_limit == 1;
		case 133: /* router solicitation */
		case 134: /* router advertisement */
		case 135: /* neighbor solicitation */
		case 136: /* neighbor advertisement */
		case 137: /* redirect */
			return p->hop_limit == 255;
		}
	}
	return 0;
}

/* The policy key's port for this packet (docs/datapath.md step 11). */
static __always_inline __u16 policy_port(const struct segd_pkt *p)
{
	switch (p->l4proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
		return bpf_ntohs(p->dport);
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		return SEGD_ICMP_PORT(p->icmp_type);
	default:
		return 0;
	}
}

/*
 * (src, dst, proto, port), then (src, dst, proto, 0), then (src, dst, 0, 0).
 * Lookups that would repeat the previous key are skipped.
 */
static __always_inline struct segd_policy_value *
policy_find(__u32 slot, __u32 src, __u32 dst, __u8 proto, __u16 port)
{
	struct segd_policy_key k = {};
	struct segd_policy_value *v;

	k.slot = slot;
	k.src_id = src;
	k.dst_id = dst;
	k.proto = proto;
	k.port = port;
	v = bpf_map_lookup_elem(&segd_policy_v1, &k);
	if (v || !proto)
		return v;
	if (port) {
		k.port = 0;
		v = bpf_map_lookup_elem(&segd_policy_v1, &k);
		if (v)
			return v;
	}
	k.proto = 0;
	k.port = 0;
	return bpf_map_lookup_elem(&segd_policy_v1, &k);
}

/*
 * Asks the kernel's conntrack whether the frame's tuple is the reply
 * direction of a known connection. TCP and UDP only (the kfunc refuses
 * others). opts_sz is SEGD_CT_OPTS_SZ_OLD or _NEW (see ct.h).
 */
static __always_inline int ct_is_reply(struct xdp_md *ctx,
				       const struct segd_pkt *p, __u32 opts_sz)
{
	struct bpf_ct_opts___local opts = {};
	struct bpf_sock_tuple tup = {};
	struct nf_conn___local *ct;
	int reply;

	opts.netns_id = BPF_F_CURRENT_NETNS;
	opts.l4proto = p->l4proto;
	/* Why a ternary: the verifier checks opts__sz against the 16-byte
	 * stack object; two constants keep that check trivial. */
	opts_sz = opts_sz == SEGD_CT_OPTS_SZ_NEW ? SEGD_CT_OPTS_SZ_NEW :
						   SEGD_CT_OPTS_SZ_OLD;
	if (p->family == 4) {
		tup.ipv4.saddr = p->saddr[0];
		tup.ipv4.daddr = p->daddr[0];
		tup.ipv4.sport = p->sport;
		tup.ipv4.dport = p->dport;
		ct = bpf_xdp_ct_lookup(ctx, &tup, sizeof(tup.ipv4), &opts,
				       opts_sz);
	} else {
		__builtin_memcpy(tup.ipv6.saddr, p->saddr, sizeof(tup.ipv6.saddr));
		__builtin_memcpy(tup.ipv6.daddr, p->daddr, sizeof(tup.ipv6.daddr));
		tup.ipv6.sport = p->sport;
		tup.ipv6.dport = p->dport;
		ct = bpf_xdp_ct_lookup(ctx, &tup, sizeof(tup.ipv6), &opts,
				       opts_sz);
	}
	if (!ct)
		return 0;
	reply = opts.dir == SEGD_IP_CT_DIR_REPLY;
	bpf_ct_release(ct);
	return reply;
}

/*
 * Step 12: a reply of something policy allowed. TCP/UDP ask conntrack
 * (never for SYN without ACK: a new connection is not a reply, and a SYN
 * scan must not cost a conntrack lookup each); echo replies pass when the
 * echo request the other way is allowed.
 */
static __always_inline int is_reply(struct xdp_md *ctx, __u32 slot,
				    const struct segd_pkt *p,
				    const struct segd_endpoint *src,
				    const struct segd_endpoint *dst,
				    __u32 ct_opts_sz)
{
	__u8 req;

	switch (p->l4proto) {
	case IPPROTO_TCP:
		if ((p->tcp_flags & (SEGD_TCP_FLAG_SYN | SEGD_TCP_FLAG_ACK)) ==
		    SEGD_TCP_FLAG_SYN)
			return 0;
		return ct_is_reply(ctx, p, ct_opts_sz);
	case IPPROTO_UDP:
		return ct_is_reply(ctx, p, ct_opts_sz);
	case IPPROTO_ICMP:
		if (p->icmp_type != SEGD_ICMP_ECHOREPLY)
			return 0;
		req = SEGD_ICMP_ECHO;
		break;
	case IPPROTO_ICMPV6:
		if (p->icmp_type != SEGD_ICMPV6_ECHOREPLY)
			return 0;
		req = SEGD_ICMPV6_ECHO;
		break;
	default:
		return 0;
	}
	return policy_find(slot, dst->id, src->id, p->l4proto,
			   SEGD_ICMP_PORT(req)) != NULL;
}

#endif /* SEGD_BPF_LOOKUP_H */
