/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * events.h - drop events to the ring buffer, rate limited per (source
 * address, destination segment). Layouts and the accounting rule
 * (delivered + suppressed + lost = drops and audits) are in
 * include/segd_abi.h; docs/telemetry.md is the user-facing contract.
 *
 * Only the drop and audit paths come here, from the one exit `out:`; a
 * passed frame costs one compare.
 */
#ifndef SEGD_BPF_EVENTS_H
#define SEGD_BPF_EVENTS_H

#include "maps.h"
#include "parsing.h"

/*
 * Knobs, set through the skeleton before load (segd --events-rate and
 * --events-burst): events per second per bucket (0: no limit) and how many
 * may go back to back.
 */
const volatile __u32 segd_ev_rate = SEGD_EV_RATE_DEFAULT;
const volatile __u32 segd_ev_burst = SEGD_EV_BURST_DEFAULT;

#define SEGD_NSEC_PER_SEC 1000000000ULL

/*
 * GCRA token bucket of @k at @now. Returns 1 to send an event (*carry is
 * the bucket's suppressed count, taken out of it; *bucket is the bucket,
 * or NULL when there is none), 0 when the frame is suppressed (counted in
 * the bucket).
 *
 * Concurrency: tat is written without atomics, so two CPUs may both send
 * on the last token (the rate overshoots a little, the accounting does
 * not); suppressed only changes by atomic adds, and the count is taken
 * by subtracting what was read, so no increment is ever lost.
 */
static __always_inline int ev_admit(const struct segd_evlimit_key *k,
				    __u64 now, __u64 *carry,
				    struct segd_evlimit_value **bucket)
{
	struct segd_evlimit_value *v, nv = {};
	__u64 interval, tol, tat, burst;

	*carry = 0;
	*bucket = NULL;
	if (!segd_ev_rate)
		return 1;
	interval = SEGD_NSEC_PER_SEC / segd_ev_rate;
	burst = segd_ev_burst ? segd_ev_burst : 1;
	tol = (burst - 1) * interval;
	v = bpf_map_lookup_elem(&segd_evlimit_v1, k);
	if (!v) {
		/* Lost race with another CPU: both send; harmless. */
		nv.tat = now + interval;
		bpf_map_update_elem(&segd_evlimit_v1, k, &nv, BPF_NOEXIST);
		return 1;
	}
	tat = v->tat > now ? v->tat : now;
	if (tat - now > tol) {
		__sync_fetch_and_add(&v->suppressed, 1);
		return 0;
	}
	v->tat = tat + interval;
	*carry = v->suppressed;
	if (*carry)
		__sync_fetch_and_add(&v->suppressed, -*carry);
	*bucket = v;
	return 1;
}

/*
 * ev_report - one event for a dropped (or audit would-drop) frame, unless
 * its bucket holds it back. @ck is the frame's counter key (segments,
 * verdict, reason), @p what the parsers learned (zeroed fields where they
 * stopped), @src/@dst the identities (zero before step 7).
 */
static __always_inline void ev_report(struct xdp_md *ctx,
				      const struct segd_counter_key *ck,
				      const struct segd_pkt *p,
				      const struct segd_endpoint *src,
				      const struct segd_endpoint *dst,
				      __u64 len)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct segd_evlimit_value *bucket;
	struct segd_evlimit_key lk = {};
	struct ethhdr *eth = data;
	struct segd_config *cfg;
	struct segd_evstats *st;
	struct segd_event *e;
	__u64 now, carry;
	__u32 zero = 0;

	st = bpf_map_lookup_elem(&segd_evstats_v1, &zero);
	if (!st)
		return;
	now = bpf_ktime_get_ns();
	lk.dst_seg = ck->dst_seg;
	lk.family = p->family;
	__builtin_memcpy(lk.saddr, p->saddr, sizeof(lk.saddr));
	if (!ev_admit(&lk, now, &carry, &bucket)) {
		st->suppressed++;	/* per-CPU: no atomics */
		return;
	}
	e = bpf_ringbuf_reserve(&segd_events_v1, sizeof(*e), 0);
	if (!e) {
		st->lost++;
		/* The count we took stays owed to the next event. */
		if (bucket && carry)
			__sync_fetch_and_add(&bucket->suppressed, carry);
		return;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->ts_ns = now;
	cfg = bpf_map_lookup_elem(&segd_config_v1, &zero);
	/* XXX: read again, not the packet's own read: a switch between the
	 * two reads labels the event with the newer generation. */
	if (cfg)
		e->generation = cfg->generation;
	__builtin_memcpy(e->saddr, p->saddr, sizeof(e->saddr));
	__builtin_memcpy(e->daddr, p->daddr, sizeof(e->daddr));
	e->ifindex = ctx->ingress_ifindex;
	e->src_id = src->id;
	e->dst_id = dst->id;
	e->src_seg = ck->src_seg;
	e->dst_seg = ck->dst_seg;
	e->suppressed = carry > 0xffffffffULL ? 0xffffffffU : (__u32)carry;
	e->pkt_len = (__u32)len;
	e->vlan = p->vid;
	e->sport = bpf_ntohs(p->sport);
	e->dport = bpf_ntohs(p->dport);
	if ((void *)(eth + 1) <= data_end) {
		__builtin_memcpy(e->smac, eth->h_source, ETH_ALEN);
		__builtin_memcpy(e->dmac, eth->h_dest, ETH_ALEN);
	}
	e->family = p->family;
	e->l4proto = p->l4proto;
	e->verdict = ck->verdict;
	e->reason = ck->reason;
	if (ck->reason == SEGD_REASON_AUDIT)
		e->flags = SEGD_EVF_AUDIT;
	if (p->l4proto == IPPROTO_ICMP || p->l4proto == IPPROTO_ICMPV6)
		e->icmp_type = p->icmp_type;
	bpf_ringbuf_submit(e, 0);
	st->sent++;
}

#endif /* SEGD_BPF_EVENTS_H */
