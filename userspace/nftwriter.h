/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * nftwriter.h - segd's nftables table, written with libnftnl over libmnl.
 *
 * For now the table `inet <name>` holds one base chain, `forward` (filter,
 * hook forward, priority 0, policy accept), with one rule:
 *     ct state established,related counter accept
 * Its purpose today: conntrack tracks connections in a network namespace
 * only while some netfilter user needs it, and the XDP program's reply
 * detection (bpf_xdp_ct_lookup) needs those entries. Later the table grows
 * into the second enforcement layer (sets of members, per-pair rules).
 *
 * Every change is one netlink batch, so it is atomic. Only the named table
 * is ever touched.
 */
#ifndef SEGD_NFTWRITER_H
#define SEGD_NFTWRITER_H

#include <stdbool.h>
#include <stddef.h>

#define NFTW_DEFAULT_TABLE "segd"
#define NFTW_CHAIN_FORWARD "forward"
#define NFTW_TABLE_MAX 64	/* our own limit on the name, incl. NUL */

/* nftw_valid_name - a table name we accept: a letter, then letters, digits,
 * '_' or '-', at most NFTW_TABLE_MAX - 1 characters. */
bool nftw_valid_name(const char *table);

/*
 * nftw_apply - create or replace table inet @table (add, delete, add in the
 * same batch: the old contents go in the same transaction as the new ones
 * come). Returns 0 or a negative errno; @err says what failed.
 */
int nftw_apply(const char *table, char *err, size_t errlen);

/* nftw_delete - delete table inet @table. -ENOENT when there is none. */
int nftw_delete(const char *table, char *err, size_t errlen);

/* nftw_exists - 1 if table inet @table exists, 0 if not, negative errno. */
int nftw_exists(const char *table);

/*
 * nftw_intact - 1 if table inet @table holds its forward chain with at
 * least one rule (what keeps conntrack on), 0 if the table, the chain or
 * the rule is gone, negative errno if the kernel could not be asked.
 */
int nftw_intact(const char *table);

#endif /* SEGD_NFTWRITER_H */
