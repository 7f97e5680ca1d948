/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * breakglass.h - time-bound emergency allows (docs/datapath.md step 11,
 * after the policy misses): the map segd_breakglass_v1 and its lookup.
 * Layouts in include/segd_abi.h.
 */
#ifndef SEGD_BPF_BREAKGLASS_H
#define SEGD_BPF_BREAKGLASS_H

#include "maps.h"
#include "parsing.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SEGD_MAX_BREAKGLASS);
	__type(key, struct segd_bg_key);
	__type(value, struct segd_bg_value);
} segd_breakglass_v1 SEC(".maps");

/* (src, dst, proto, port), then (src, dst, proto, 0), then (src, dst, 0, 0),
 * as policy_find; live entries only. */
static __always_inline int bg_pair(__u32 src, __u32 dst, __u8 proto,
				   __u16 port, __u64 *now)
{
	struct segd_bg_key k = {};
	struct segd_bg_value *v;

	k.src_id = src;
	k.dst_id = dst;
	k.proto = proto;
	k.port = port;
	v = bpf_map_lookup_elem(&segd_breakglass_v1, &k);
	if (!v && port) {
		k.port = 0;
		v = bpf_map_lookup_elem(&segd_breakglass_v1, &k);
	}
	if (!v && proto) {
		k.proto = 0;
		k.port = 0;
		v = bpf_map_lookup_elem(&segd_breakglass_v1, &k);
	}
	if (!v)
		return 0;
	if (!*now)
		*now = bpf_ktime_get_ns();
	return *now < v->expires_ns;
}

/*
 * Each end as its identity, then as its segment (a break-glass names a
 * segment or a device); pairs that repeat an earlier one are skipped.
 */
static __always_inline int bg_find(const struct segd_endpoint *src,
				   const struct segd_endpoint *dst,
				   __u8 proto, __u16 port)
{
	__u64 now = 0;

	if (bg_pair(src->id, dst->id, proto, port, &now))
		return 1;
	if (src->seg != src->id &&
	    bg_pair(src->seg, dst->id, proto, port, &now))
		return 1;
	if (dst->seg == dst->id)
		return 0;
	if (bg_pair(src->id, dst->seg, proto, port, &now))
		return 1;
	return src->seg != src->id &&
	       bg_pair(src->seg, dst->seg, proto, port, &now);
}

#endif /* SEGD_BPF_BREAKGLASS_H */
