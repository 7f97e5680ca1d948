/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * ct.h - the kernel conntrack kfuncs (net/netfilter/nf_conntrack_bpf.c),
 * declared with minimal ___local structs so that no vmlinux.h is needed.
 *
 * libbpf resolves each extern against the running kernel's BTF by name and
 * checks the prototype loosely (struct pointers match any struct), so the
 * ___local suffix only keeps these names apart from kernel headers.
 *
 * Facts checked on 6.18 (and by tests/datapath/ct.c):
 *  - opts__sz may be 12 (the 6.0 layout, up to dir plus two reserved bytes)
 *    or 16 (ct_zone_id, ct_zone_dir and three reserved bytes, 6.12+);
 *    anything else fails at run time with opts.error = -EINVAL. 12 works on
 *    every kernel that has the kfunc, so it is the default (knob
 *    segd_ct_opts_sz in segd.bpf.c); all bytes past l4proto must be zero.
 *  - on success opts.dir is the direction of the tuple that matched:
 *    IP_CT_DIR_ORIGINAL (0) or IP_CT_DIR_REPLY (1).
 *  - l4proto must be IPPROTO_TCP or IPPROTO_UDP (else -EPROTO); a missing
 *    entry is -ENOENT.
 *  - netns_id = BPF_F_CURRENT_NETNS (-1) means the netns of the receiving
 *    device (under BPF_PROG_TEST_RUN: the caller's loopback device).
 *  - the returned reference must be released with bpf_ct_release on every
 *    path, or the verifier rejects the program.
 */
#ifndef SEGD_BPF_CT_H
#define SEGD_BPF_CT_H

#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>

#define SEGD_CT_OPTS_SZ_OLD 12	/* kernels 6.0 - 6.11, still accepted */
#define SEGD_CT_OPTS_SZ_NEW 16	/* kernels 6.12+ (conntrack zones) */

#ifndef BPF_F_CURRENT_NETNS
#define BPF_F_CURRENT_NETNS (-1)
#endif

#define SEGD_IP_CT_DIR_ORIGINAL 0
#define SEGD_IP_CT_DIR_REPLY    1

/* The 16-byte layout; with opts__sz 12 the kernel reads the first 12 bytes
 * only and requires ct_zone_id to be 0. */
struct bpf_ct_opts___local {
	__s32 netns_id;
	__s32 error;
	__u8 l4proto;
	__u8 dir;
	__u16 ct_zone_id;
	__u8 ct_zone_dir;
	__u8 reserved[3];
};
_Static_assert(sizeof(struct bpf_ct_opts___local) == SEGD_CT_OPTS_SZ_NEW,
	       "bpf_ct_opts layout");

/* Opaque: the program never reads a field, it only releases the pointer. */
struct nf_conn___local {
	int unused;
};

extern struct nf_conn___local *
bpf_xdp_ct_lookup(struct xdp_md *xdp_ctx, struct bpf_sock_tuple *bpf_tuple,
		  __u32 tuple__sz, struct bpf_ct_opts___local *opts,
		  __u32 opts__sz) __ksym;

extern void bpf_ct_release(struct nf_conn___local *ct) __ksym;

#endif /* SEGD_BPF_CT_H */
