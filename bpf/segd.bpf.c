/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* Placeholder so the tree builds; the data path is being written. */
#include "maps.h"

SEC("xdp.frags")
int segd_xdp(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
