/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * segd.bpf.c - segd's XDP program: judges every frame arriving on a
 * segment-facing interface. It follows docs/datapath.md step by step, in
 * that order (comp_explain() in userspace follows the same steps); the
 * step numbers below are the document's.
 *
 * Every path ends at `out:`, which records exactly one counter
 * (src segment, dst segment, verdict, reason) with the whole frame's
 * length, all fragments (buffers) included.
 *
 * Stricter than the letter of the contract, invisible to comp_explain():
 * an L4 header must fit inside the IP datagram as its length fields say,
 * not only inside the frame (Ethernet padding cannot stand in for a
 * header), and IPv6 extension headers must fit inside payload_len.
 * Also beyond comp_explain(), which assumes they pass: the reverse-path
 * check (it needs the kernel's routes) and the ND / MLD hop limits.
 *
 * XXX: membership by ingress interface + VLAN has no map in segd_abi.h
 *      yet; the innermost VLAN id is parsed (segd_pkt.vid) for it.
 * Drops and audit would-drops also go to the ring buffer as events, rate
 * limited per (source address, destination segment): events.h.
 * XXX: IPv4 BIG TCP (tot_len 0 above 64 KiB) is malformed here; IPv6 BIG
 *      TCP (payload_len 0) is judged on the frame bounds.
 */
#include "maps.h"
#include "parsing.h"
#include "lookup.h"
#include "stats.h"
#include "events.h"
#include "rpf.h"
#include "isolate.h"
#include "breakglass.h"

/*
 * Knob, set through the skeleton before load: opts__sz passed to
 * bpf_xdp_ct_lookup, SEGD_CT_OPTS_SZ_OLD (12, every kernel with the kfunc)
 * or SEGD_CT_OPTS_SZ_NEW (16, 6.12+). See ct.h.
 */
const volatile __u32 segd_ct_opts_sz = SEGD_CT_OPTS_SZ_OLD;

/*
 * Knob, set through the skeleton before load: strict reverse-path check
 * (step 9, rpf.h). 1 by default; `segd --no-rpf` (asymmetric routing)
 * and the BPF_PROG_TEST_RUN case table, where no route exists, set 0.
 */
const volatile __u32 segd_rpf = 1;

#define judge(k, v, r)                                                       \
	do {                                                                 \
		(k).verdict = (v);                                           \
		(k).reason = (r);                                            \
	} while (0)

SEC("xdp.frags")
int segd_xdp(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct hdr_cursor nh = { .pos = data };
	struct segd_counter_key ck = {};
	/* Zeroed: an event for an early drop reads them. */
	struct segd_endpoint src = {}, dst = {};
	struct segd_pkt p = {};
	__u64 len;
	__u32 slot, cflags, l3_len, iso;
	int proto;

	/* 1. Ethernet and VLAN tags. Until both ends are known the counter
	 * keeps segments 0/0 (SEGD_ID_NONE). */
	proto = parse_ethhdr(&nh, data_end, &p);
	if (proto < 0) {
		judge(ck, SEGD_VERDICT_DROP, -proto);
		goto out;
	}
	/* 2. ARP: the gateway must answer it. */
	if (proto == ETH_P_ARP) {
		judge(ck, SEGD_VERDICT_PASS, SEGD_REASON_LOCAL);
		goto out;
	}
	/* 3. Anything else that is not IP (802.3 lengths included). */
	if (proto != ETH_P_IP && proto != ETH_P_IPV6) {
		judge(ck, SEGD_VERDICT_DROP, SEGD_REASON_UNKNOWN_ETHERTYPE);
		goto out;
	}
	/* 4. The one read of segd_config_v1 for this packet. */
	if (config_read(&slot, &cflags) || !(cflags & SEGD_CFG_LOADED)) {
		judge(ck, SEGD_VERDICT_DROP, SEGD_REASON_NO_POLICY);
		goto out;
	}
	/* 5. IP header, IPv6 extension headers, fragments. The IP length
	 * fields are held against the whole frame (all buffers). */
	l3_len = bpf_xdp_get_buff_len(ctx) - p.l3_off;
	if (proto == ETH_P_IP)
		proto = parse_ipv4(&nh, data_end, &p, l3_len);
	else
		proto = parse_ipv6(&nh, data_end, &p, l3_len);
	if (proto < 0) {
		judge(ck, SEGD_VERDICT_DROP, -proto);
		goto out;
	}
	p.l4proto = proto;
	/* 6. L4 header, except in non-first fragments. */
	if (!p.nonfirst_frag) {
		proto = parse_l4(&nh, data_end, &p);
		if (proto < 0) {
			judge(ck, SEGD_VERDICT_DROP, -proto);
			goto out;
		}
	}
	/* 7. Identities. */
	src_lookup(slot, &p, &src);
	dst_lookup(slot, &p, &dst);
	ck.src_seg = src.seg;
	ck.dst_seg = dst.seg;
	/* 7b. Isolation: from or to an isolated host, only remediation
	 * traffic goes on (and is judged allowed at step 11); conntrack
	 * replies of its other sessions do not pass. */
	iso = iso_check(&p);
	if (iso && !iso_remedy(ctx, slot, &p, &src, &dst, iso,
			       segd_ct_opts_sz)) {
		judge(ck, SEGD_VERDICT_DROP, SEGD_REASON_ISOLATED);
		goto out;
	}
	/* 8. Local control traffic. */
	if (!p.nonfirst_frag && is_local_control(&p, &dst)) {
		judge(ck, SEGD_VERDICT_PASS, SEGD_REASON_LOCAL);
		goto out;
	}
	/* 9. Anti-spoof: the MAC a device is bound to, then the route back
	 * to the source. XXX: a VLAN-tagged frame's route back leaves through
	 * the VLAN device, which XDP on the parent cannot name yet (no
	 * (ifindex, VID) map): tagged frames skip the route check. */
	if ((src.flags & SEGD_EP_MAC_BOUND) &&
	    !mac_eq(src.mac, p.smac)) {
		judge(ck, SEGD_VERDICT_DROP, SEGD_REASON_SPOOFED);
		goto out;
	}
	if (segd_rpf && !p.vid && !rpf_ok(ctx, &p)) {
		judge(ck, SEGD_VERDICT_DROP, SEGD_REASON_SPOOFED);
		goto out;
	}
	/* 10. Non-first fragments: their first fragment was judged. */
	if (p.nonfirst_frag) {
		judge(ck, SEGD_VERDICT_PASS, SEGD_REASON_FRAGMENT);
		goto out;
	}
	/* 11. Policy (remediation traffic of an isolated host: 7b). */
	if (iso) {
		judge(ck, SEGD_VERDICT_PASS, SEGD_REASON_ALLOWED);
		goto out;
	}
	if (policy_find(slot, src.id, dst.id, p.l4proto, policy_port(&p))) {
		judge(ck, SEGD_VERDICT_PASS, SEGD_REASON_ALLOWED);
		goto out;
	}
	/* 11b. Break-glass: time-bound allows (never for isolated hosts:
	 * 7b has judged those). */
	if (bg_find(&src, &dst, p.l4proto, policy_port(&p))) {
		judge(ck, SEGD_VERDICT_PASS, SEGD_REASON_BREAKGLASS);
		goto out;
	}
	/* 12. Replies. */
	if (is_reply(ctx, slot, &p, &src, &dst, segd_ct_opts_sz)) {
		judge(ck, SEGD_VERDICT_PASS, SEGD_REASON_REPLY);
		goto out;
	}
	/* 13. Audit: count as a would-be drop, let it through. */
	if ((cflags & SEGD_CFG_AUDIT) ||
	    ((src.flags | dst.flags) & SEGD_EP_AUDIT)) {
		judge(ck, SEGD_VERDICT_PASS, SEGD_REASON_AUDIT);
		goto out;
	}
	/* 14. Default deny. */
	judge(ck, SEGD_VERDICT_DROP, SEGD_REASON_POLICY);
out:
	len = bpf_xdp_get_buff_len(ctx);
	stats_count(&ck, len);
	if (ck.verdict == SEGD_VERDICT_DROP || ck.reason == SEGD_REASON_AUDIT)
		ev_report(ctx, &ck, &p, &src, &dst, len);
	return ck.verdict == SEGD_VERDICT_PASS ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
