/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * rpf.h - strict unicast reverse-path check (docs/datapath.md step 9):
 * the route back to the frame's source must leave through the interface
 * the frame arrived on.
 *
 * The kernel's FIB is asked with bpf_fib_lookup() as if the frame's
 * source were a destination reached from the ingress interface: source
 * and destination (and ports) swapped, ifindex = ingress interface. Not
 * BPF_FIB_LOOKUP_DIRECT, so ip rules (policy routing, including `iif`
 * selectors) are honoured; BPF_FIB_LOOKUP_SKIP_NEIGH, so an unresolved
 * neighbour of the source does not matter (only the interface does).
 *
 * Facts checked on 6.18 (and by tests/datapath/rpf.c):
 *  - a missing route is BPF_FIB_LKUP_RET_NOT_FWDED; blackhole, unreachable
 *    and prohibit routes have their own codes; a source that is a local
 *    address of the gateway is NOT_FWDED too (its route is RTN_LOCAL);
 *  - forwarding disabled on the ingress interface is
 *    BPF_FIB_LKUP_RET_FWD_DISABLED (the check fails: segd is a gateway);
 *  - IPv6 refuses (NOT_FWDED) any lookup whose source or destination is
 *    link-local or multicast ("never forwarded"). So a frame to such a
 *    destination (delivered to the gateway itself) is looked up with
 *    source :: instead, and a frame FROM a link-local source is not
 *    checked: its address only means something on the link it arrived on,
 *    and the kernel never forwards it (XXX: a member declared by a
 *    link-local address is then only as strong as its MAC binding);
 *  - IPv6 passes the ingress ifindex as the preferred device among routes
 *    of one prefix;
 *  - an ECMP route picks one nexthop by hash: asymmetric or multipath
 *    routing needs `segd --no-rpf`.
 * Every outcome other than SUCCESS with the ingress interface is a failed
 * check (fail closed).
 */
#ifndef SEGD_BPF_RPF_H
#define SEGD_BPF_RPF_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "parsing.h"

#define SEGD_AF_INET  2
#define SEGD_AF_INET6 10

/*
 * 1 when the route to p's source leaves through ctx's ingress interface.
 * Debian 12's UAPI header (6.1) already names BPF_FIB_LOOKUP_SKIP_NEIGH
 * (an enum value, so no #ifndef fallback is possible); the running kernel
 * needs 6.3 or later for it, else the helper returns -EINVAL and the
 * check fails closed.
 */
/* fe80::/10 */
static __always_inline int ip6_is_ll(const __be32 *a)
{
	return (bpf_ntohl(a[0]) >> 22) == (0xfe80 >> 6);
}

/* ff00::/8 */
static __always_inline int ip6_is_mc(const __be32 *a)
{
	return (bpf_ntohl(a[0]) >> 24) == 0xff;
}

static __always_inline int rpf_ok(struct xdp_md *ctx, const struct segd_pkt *p)
{
	struct bpf_fib_lookup fib = {};
	__u32 iif = ctx->ingress_ifindex;
	long rc;

	fib.ifindex = iif;
	fib.l4_protocol = p->l4proto;
	fib.sport = p->dport;	/* the way back: ports swapped too */
	fib.dport = p->sport;
	/* tot_len stays 0: no MTU verdict (FRAG_NEEDED) on the way back */
	if (p->family == 4) {
		fib.family = SEGD_AF_INET;
		fib.tos = p->tos;
		fib.ipv4_src = p->daddr[0];
		fib.ipv4_dst = p->saddr[0];
	} else {
		if (ip6_is_ll(p->saddr))
			return 1;	/* link-local source: see above */
		fib.family = SEGD_AF_INET6;
		fib.flowinfo = bpf_htonl((__u32)p->tos << 20);
		/* fib.ipv6_src stays :: for a link-local or multicast dst */
		if (!ip6_is_ll(p->daddr) && !ip6_is_mc(p->daddr))
			__builtin_memcpy(fib.ipv6_src, p->daddr,
					 sizeof(fib.ipv6_src));
		__builtin_memcpy(fib.ipv6_dst, p->saddr, sizeof(fib.ipv6_dst));
	}
	rc = bpf_fib_lookup(ctx, &fib, sizeof(fib), BPF_FIB_LOOKUP_SKIP_NEIGH);
	return rc == BPF_FIB_LKUP_RET_SUCCESS && fib.ifindex == iif;
}

#endif /* SEGD_BPF_RPF_H */
