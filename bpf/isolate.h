/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * isolate.h - hosts under isolation (docs/datapath.md step 7b): the map
 * segd_isolated_v1 and the checks the XDP program makes right after
 * identities. Layouts in include/segd_abi.h.
 */
#ifndef SEGD_BPF_ISOLATE_H
#define SEGD_BPF_ISOLATE_H

#include "maps.h"
#include "parsing.h"
#include "lookup.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SEGD_MAX_ISOLATED);
	__type(key, struct segd_iso_key);
	__type(value, struct segd_iso_value);
} segd_isolated_v1 SEC(".maps");

#define SEGD_ISO_SRC (1u << 0)
#define SEGD_ISO_DST (1u << 1)

/* An entry in force: present and its deadline (if any) not passed. */
static __always_inline int iso_live(const struct segd_iso_value *v,
				    __u64 *now)
{
	if (!v)
		return 0;
	if (!v->expires_ns)
		return 1;
	if (!*now)
		*now = bpf_ktime_get_ns();
	return *now < v->expires_ns;
}

static __always_inline int iso_addr(const struct segd_pkt *p,
				    const __be32 *addr, __u64 *now)
{
	struct segd_iso_key k = {};

	if (p->family == 4) {
		k.kind = SEGD_ISO_IPV4;
		__builtin_memcpy(k.addr, addr, 4);
	} else {
		k.kind = SEGD_ISO_IPV6;
		__builtin_memcpy(k.addr, addr, 16);
	}
	return iso_live(bpf_map_lookup_elem(&segd_isolated_v1, &k), now);
}

/* SEGD_ISO_SRC and/or SEGD_ISO_DST, or 0. */
static __always_inline __u32 iso_check(const struct segd_pkt *p)
{
	struct segd_iso_key k = {};
	__u64 now = 0;
	__u32 r = 0;

	if (iso_addr(p, p->saddr, &now))
		r |= SEGD_ISO_SRC;
	else {
		k.kind = SEGD_ISO_MAC;
		__builtin_memcpy(k.addr, p->smac, 6);
		if (iso_live(bpf_map_lookup_elem(&segd_isolated_v1, &k), &now))
			r |= SEGD_ISO_SRC;
	}
	if (iso_addr(p, p->daddr, &now))
		r |= SEGD_ISO_DST;
	return r;
}

/*
 * Is this frame, from or to an isolated host, remediation traffic? The
 * isolated end stands for SEGD_ID_ISOLATED in the policy keys. Passes:
 *  - (a, b, proto, port): a flow opened towards a remediation service;
 *  - a reply of a flow opened the other way: (b, a, proto, source port)
 *    and conntrack knows the tuple as a reply (TCP, UDP), or an echo reply
 *    whose request (b, a) is allowed.
 * Both ends isolated: never.
 */
static __always_inline int iso_remedy(struct xdp_md *ctx, __u32 slot,
				      const struct segd_pkt *p,
				      const struct segd_endpoint *src,
				      const struct segd_endpoint *dst,
				      __u32 iso, __u32 ct_opts_sz)
{
	__u32 a = (iso & SEGD_ISO_SRC) ? SEGD_ID_ISOLATED : src->id;
	__u32 b = (iso & SEGD_ISO_DST) ? SEGD_ID_ISOLATED : dst->id;

	if (a == b)
		return 0;
	if (policy_find(slot, a, b, p->l4proto, policy_port(p)))
		return 1;
	if (p->nonfirst_frag)
		return 0;
	switch (p->l4proto) {
	case IPPROTO_TCP:
		if ((p->tcp_flags & (SEGD_TCP_FLAG_SYN | SEGD_TCP_FLAG_ACK)) ==
		    SEGD_TCP_FLAG_SYN)
			return 0;
		/* fall through */
	case IPPROTO_UDP:
		if (!policy_find(slot, b, a, p->l4proto, bpf_ntohs(p->sport)))
			return 0;
		return ct_is_reply(ctx, p, ct_opts_sz);
	case IPPROTO_ICMP:
		return p->icmp_type == SEGD_ICMP_ECHOREPLY &&
		       policy_find(slot, b, a, p->l4proto,
				   SEGD_ICMP_PORT(SEGD_ICMP_ECHO));
	case IPPROTO_ICMPV6:
		return p->icmp_type == SEGD_ICMPV6_ECHOREPLY &&
		       policy_find(slot, b, a, p->l4proto,
				   SEGD_ICMP_PORT(SEGD_ICMPV6_ECHO));
	}
	return 0;
}

#endif /* SEGD_BPF_ISOLATE_H */
