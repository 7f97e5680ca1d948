/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * linkwatch.h - follow the gateway's interfaces and keep segd's XDP program
 * on every one segd was told to enforce.
 *
 * A NETLINK_ROUTE socket subscribed to RTNLGRP_LINK (plain libmnl: one fd
 * for segd's epoll loop, no cache to keep in sync, and a lost notification
 * (ENOBUFS) simply turns into a check of every interface) tells when an
 * interface appears, changes or goes. The kernel, not the event, is the
 * truth: an event only marks an interface to be checked with
 * ldr_iface_query(), and one that runs no (or another) program is attached
 * again with ldr_attach() - the code path of segd's start, link pinned at
 * <pin-dir>/link_<ifname>, a defunct pin of a deleted interface replaced.
 * Losing the program without a link event (a pinned link detached with
 * bpftool) sends no notification, so a timer checks every interface each
 * LW_CHECK_MS as a backstop.
 *
 * Changes are logged at warning level, once per change (not per check).
 */
#ifndef SEGD_LINKWATCH_H
#define SEGD_LINKWATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/netlink.h>

#include "loader.h"

#define LW_CHECK_MS 1000	/* backstop check of every interface */

struct lw;

/*
 * lw_new - subscribe to link changes, register one fd in @epfd with
 * @tag as its epoll data, then check (and attach where needed) every one
 * of @ifnames, so nothing that changed since segd's start is missed. @l,
 * @pin_dir and the names must outlive the watcher. Returns NULL with errno
 * set and @err filled on failure.
 */
struct lw *lw_new(struct ldr *l, const char *pin_dir,
		  const char *const *ifnames, size_t n_ifs, int epfd,
		  uint64_t tag, char *err, size_t errlen);

/* lw_handle - the fd is readable: read the notifications, check and
 * reattach the interfaces they concern (all of them after an overrun or
 * a timer tick). */
void lw_handle(struct lw *w);

/*
 * lw_check_all - check every interface now and attach where segd's
 * program does not run (segctl apply, SIGHUP). @why is logged. Returns
 * the number of interfaces still not attached. NULL-safe (returns 0).
 */
int lw_check_all(struct lw *w, const char *why);

/*
 * lw_msg_link - for a RTM_NEWLINK or RTM_DELLINK: true, with its ifindex
 * and IFLA_IFNAME (NULL if absent or malformed). False for anything else.
 */
bool lw_msg_link(const struct nlmsghdr *nlh, int *ifindex, const char **name);

/* lw_free - unregister and close. Attachments stay. NULL-safe. */
void lw_free(struct lw *w);

#endif /* SEGD_LINKWATCH_H */
