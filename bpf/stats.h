/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * stats.h - the one counter every frame ends in (docs/datapath.md, "Every
 * frame ends in exactly one counter").
 */
#ifndef SEGD_BPF_STATS_H
#define SEGD_BPF_STATS_H

#include "maps.h"

/*
 * Adds one packet of `bytes` to the per-CPU counter of key k. A missing
 * key is created with BPF_NOEXIST and looked up again: if another CPU
 * created it in between, the insert fails with -EEXIST and the second
 * lookup finds that entry, so no count is lost to the race.
 */
static __always_inline void stats_count(const struct segd_counter_key *k,
					__u64 bytes)
{
	struct segd_counter_value zero = {};
	struct segd_counter_value *v;

	v = bpf_map_lookup_elem(&segd_counters_v1, k);
	if (!v) {
		bpf_map_update_elem(&segd_counters_v1, k, &zero, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&segd_counters_v1, k);
		/* XXX: only a full map (SEGD_MAX_COUNTERS keys, far above
		 * segments^2 x reasons) loses a count here. */
		if (!v)
			return;
	}
	/* Per-CPU value, and XDP does not nest on one CPU: no atomics. */
	v->packets += 1;
	v->bytes += bytes;
}

#endif /* SEGD_BPF_STATS_H */
