/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * nftwatch.h - keep segd's nft table in place.
 *
 * `nft flush ruleset` (what Debian's nftables.service runs on every
 * reload) deletes every table, segd's too; without it conntrack stops in
 * the gateway's namespace and the XDP program no longer recognises
 * replies. A NETLINK_NETFILTER socket (libmnl) subscribed to
 * NFNLGRP_NFTABLES hears every committed change; a deletion of our table,
 * of its chain or of a rule in it marks the table to be checked once the
 * socket is drained (nftw_intact), and a table that is not intact is
 * written again with nftw_apply (one batch). Our own writes (add, delete,
 * add) notify too, but leave the table intact, so they cause no loop.
 * Other tables are never read or touched.
 */
#ifndef SEGD_NFTWATCH_H
#define SEGD_NFTWATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/netlink.h>

struct nftwatch;

/*
 * nftwatch_msg_concerns - true if @nlh, an nf_tables notification, deletes
 * table inet @table, its chain or a rule in it (NFT_MSG_DELTABLE,
 * DELCHAIN, DELRULE; a table of another family or name is not ours).
 */
bool nftwatch_msg_concerns(const struct nlmsghdr *nlh, const char *table);

/*
 * nftwatch_new - subscribe, register one fd in @epfd with @tag as its
 * epoll data, then check the table once. @table must outlive the watcher.
 * NULL with errno set and @err filled on failure.
 */
struct nftwatch *nftwatch_new(const char *table, int epfd, uint64_t tag,
			      char *err, size_t errlen);

/* nftwatch_handle - the fd is readable: drain, check, restore if needed. */
void nftwatch_handle(struct nftwatch *w);

/*
 * nftwatch_check - check the table now and restore it if it is not intact
 * (each reload). @why is logged. 0 intact, 1 restored, negative errno if
 * it could not be checked or restored. NULL-safe (0).
 */
int nftwatch_check(struct nftwatch *w, const char *why);

/* nftwatch_free - unregister and close. The table stays. NULL-safe. */
void nftwatch_free(struct nftwatch *w);

#endif /* SEGD_NFTWATCH_H */
