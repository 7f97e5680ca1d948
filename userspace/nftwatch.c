// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * nftwatch.c - notice when segd's nft table goes and put it back (see
 * nftwatch.h). libmnl's -1/errno is turned into -errno here.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "log.h"
#include "nftwatch.h"
#include "nftwriter.h"

#define NFTWATCH_RCVBUF (4 << 20)	/* a flush of a big ruleset is chatty */

struct nftwatch {
	const char *table;
	struct mnl_socket *nl;
	int epfd;		/* the caller's, while registered */
	bool dirty;		/* something of our table was deleted */
	char *buf;
};

static int nftwatch_check_at(struct nftwatch *w, const char *why,
			     bool quiet_if_intact)
{
	struct timespec t0, t1;
	char err[512] = "";
	int ret;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	ret = nftw_intact(w->table);
	if (ret < 0) {
		pr_warn("checking nft table inet %s (%s): %s", w->table, why,
			strerror(-ret));
		return ret;
	}
	if (ret == 1) {
		if (!quiet_if_intact)
			pr_debug("nft table inet %s is intact (%s)", w->table, why);
		return 0;
	}
	pr_warn("nft table inet %s is gone or emptied (%s; `nft flush ruleset`?): conntrack, which lets replies through, depends on it; recreating it",
		w->table, why);
	ret = nftw_apply(w->table, err, sizeof(err));
	if (ret) {
		pr_err("%s; replies of allowed connections may be dropped until it is back (retried at the next change and reload)",
		       err);
		return ret;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	pr_warn("nft table inet %s recreated (%.1f ms)", w->table,
		(double)(t1.tv_sec - t0.tv_sec) * 1e3 +
		(double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
	return 1;
}

int nftwatch_check(struct nftwatch *w, const char *why)
{
	if (!w)
		return 0;
	return nftwatch_check_at(w, why, false);
}

/* Only the first attribute matters: NFTA_TABLE_NAME, NFTA_CHAIN_TABLE and
 * NFTA_RULE_TABLE are all attribute 1, the table's name. */
static int nftwatch_attr_cb(const struct nlattr *a, void *data)
{
	const char **name = data;

	if (mnl_attr_get_type(a) == NFTA_TABLE_NAME &&
	    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0)
		*name = mnl_attr_get_str(a);
	return MNL_CB_OK;
}

bool nftwatch_msg_concerns(const struct nlmsghdr *nlh, const char *table)
{
	const struct nfgenmsg *g;
	const char *name = NULL;
	uint16_t type;

	_Static_assert(NFTA_TABLE_NAME == 1 && NFTA_CHAIN_TABLE == 1 &&
		       NFTA_RULE_TABLE == 1, "table name attribute");
	if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_NFTABLES)
		return false;
	type = NFNL_MSG_TYPE(nlh->nlmsg_type);
	if (type != NFT_MSG_DELTABLE && type != NFT_MSG_DELCHAIN &&
	    type != NFT_MSG_DELRULE)
		return false;
	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*g)))
		return false;
	g = mnl_nlmsg_get_payload(nlh);
	if (g->nfgen_family != NFPROTO_INET)
		return false;
	if (mnl_attr_parse(nlh, sizeof(*g), nftwatch_attr_cb, &name) < 0)
		return false;
	return name && !strcmp(name, table);
}

static int nftwatch_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nftwatch *w = data;

	if (nftwatch_msg_concerns(nlh, w->table))
		w->dirty = true;
	return MNL_CB_OK;
}

void nftwatch_handle(struct nftwatch *w)
{
	if (!w)
		return;
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(w->nl, w->buf, MNL_SOCKET_BUFFER_SIZE);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) {
				pr_warn("nftables notifications overran; checking nft table inet %s",
					w->table);
				w->dirty = true;
				continue;
			}
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				pr_warn("reading nftables notifications: %s",
					strerror(errno));
			break;
		}
		mnl_cb_run(w->buf, (size_t)n, 0, 0, nftwatch_msg_cb, w);
	}
	/* Checked once the socket is drained: a whole transaction (ours:
	 * add, delete, add) has been seen, and the kernel is the judge. */
	if (w->dirty) {
		w->dirty = false;
		nftwatch_check_at(w, "deleted by someone", true);
	}
}

struct nftwatch *nftwatch_new(const char *table, int epfd, uint64_t tag,
			      char *err, size_t errlen)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = tag };
	int grp = NFNLGRP_NFTABLES, rcvbuf = NFTWATCH_RCVBUF, ret;
	const char *what = "";
	struct nftwatch *w;

	w = calloc(1, sizeof(*w));
	if (!w) {
		snprintf(err, errlen, "nft watch: out of memory");
		errno = ENOMEM;
		return NULL;
	}
	w->table = table;
	w->epfd = -1;
	w->buf = malloc(MNL_SOCKET_BUFFER_SIZE);
	if (!w->buf) {
		ret = -ENOMEM;
		what = "allocating";
		goto fail;
	}
	w->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (!w->nl) {
		ret = -errno;
		what = "opening a NETLINK_NETFILTER socket";
		goto fail;
	}
	if (mnl_socket_bind(w->nl, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    mnl_socket_setsockopt(w->nl, NETLINK_ADD_MEMBERSHIP, &grp,
				  sizeof(grp)) < 0) {
		ret = -errno;
		what = "subscribing to NFNLGRP_NFTABLES";
		goto fail;
	}
	if (setsockopt(mnl_socket_get_fd(w->nl), SOL_SOCKET, SO_RCVBUFFORCE,
		       &rcvbuf, sizeof(rcvbuf)))
		setsockopt(mnl_socket_get_fd(w->nl), SOL_SOCKET, SO_RCVBUF,
			   &rcvbuf, sizeof(rcvbuf));
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, mnl_socket_get_fd(w->nl), &ev)) {
		ret = -errno;
		what = "registering in the event loop";
		goto fail;
	}
	w->epfd = epfd;
	/* Subscribed first, checked second: nothing falls in between. */
	nftwatch_check_at(w, "start", true);
	pr_info("watching nft table inet %s (recreated if deleted)", table);
	return w;

fail:
	snprintf(err, errlen, "nft watch: %s: %s", what, strerror(-ret));
	nftwatch_free(w);
	errno = -ret;
	return NULL;
}

void nftwatch_free(struct nftwatch *w)
{
	if (!w)
		return;
	if (w->epfd >= 0 && w->nl)
		epoll_ctl(w->epfd, EPOLL_CTL_DEL, mnl_socket_get_fd(w->nl), NULL);
	if (w->nl)
		mnl_socket_close(w->nl);
	free(w->buf);
	free(w);
}
