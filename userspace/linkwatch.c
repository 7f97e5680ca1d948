// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * linkwatch.c - follow link changes, keep XDP on segd's interfaces (see
 * linkwatch.h). libmnl's -1/errno is turned into -errno here.
 */
#include <errno.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "linkwatch.h"
#include "log.h"

#define LW_RCVBUF (4 << 20)	/* a burst of link events must not overrun */

enum lw_state { LW_UNKNOWN, LW_ATTACHED, LW_ABSENT, LW_FAILED };

struct lw_iface {
	const char *name;
	int ifindex;		/* last seen; 0 while absent */
	enum lw_state state;
	int last_err;		/* of the last failed attach */
	bool dirty;		/* an event concerns it: check it */
};

struct lw {
	struct ldr *ldr;
	const char *pin_dir;
	struct mnl_socket *nl;
	int tfd;		/* backstop timer */
	int epfd;		/* ours: nl and tfd; registered in the caller's */
	int outer;		/* the caller's epoll fd */
	char *buf;
	size_t n;
	struct lw_iface ifs[];
};

static double lw_ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) * 1e3 +
	       (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

static int lw_gone(struct lw_iface *it, const char *why)
{
	if (it->state != LW_ABSENT)
		pr_warn("%s: interface is gone (was ifindex %d, %s); its XDP attachment went with it, segd attaches again when it reappears",
			it->name, it->ifindex, why);
	it->state = LW_ABSENT;
	it->ifindex = 0;
	return -ENODEV;
}

/*
 * Check one interface against the kernel; attach when it is there without
 * our program. Logs only changes. 0 when our program runs there.
 */
static int lw_check(struct lw *w, struct lw_iface *it, const char *why)
{
	struct ldr_iface_state st;
	struct timespec t0;
	char err[1024] = "";
	const char *what;
	bool created;
	int ret;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	ret = ldr_iface_query(w->pin_dir, it->name, ldr_prog_id(w->ldr), &st);
	if (ret) {
		if (it->state != LW_FAILED || it->last_err != ret)
			pr_warn("%s: cannot query the interface (%s): %s",
				it->name, why, strerror(-ret));
		it->state = LW_FAILED;
		it->last_err = ret;
		return ret;
	}
	if (!st.ifindex)
		return lw_gone(it, why);
	if (st.attached) {
		if (it->state != LW_ATTACHED && it->state != LW_UNKNOWN)
			pr_warn("%s: segd's XDP program runs there again (ifindex %d)",
				it->name, st.ifindex);
		it->state = LW_ATTACHED;
		it->ifindex = st.ifindex;
		return 0;
	}

	what = it->state == LW_ABSENT ? "interface reappeared" :
	       it->ifindex && it->ifindex != st.ifindex ?
	       "interface was recreated" : "segd's XDP program was gone";
	ret = ldr_attach(w->ldr, it->name, &created, err, sizeof(err));
	if (ret && (int)if_nametoindex(it->name) != st.ifindex) {
		/* Being deleted (its program goes first, then the link event
		 * that says so) or replaced meanwhile: no attach failure to
		 * report; the interface's own events (or the timer) follow. */
		if (!if_nametoindex(it->name))
			return lw_gone(it, why);
		return ret;
	}
	if (ret) {
		if (it->state != LW_FAILED || it->last_err != ret)
			pr_err("%s: NOT ENFORCING: %s (ifindex %d, %s): %s (retried at every link change, every %d ms and at each reload)",
			       it->name, what, st.ifindex, why, err, LW_CHECK_MS);
		it->state = LW_FAILED;
		it->last_err = ret;
		it->ifindex = st.ifindex;
		return ret;
	}
	pr_warn("%s: %s (ifindex %d, %s, %s): XDP program attached again (%s link, %.1f ms)",
		it->name, what, st.ifindex, why,
		st.prog_id ? "another program ran there" : "no program ran there",
		created ? "new pinned" : "pinned", lw_ms_since(&t0));
	it->state = LW_ATTACHED;
	it->ifindex = st.ifindex;
	it->last_err = 0;
	return 0;
}

int lw_check_all(struct lw *w, const char *why)
{
	int bad = 0;
	size_t i;

	if (!w)
		return 0;
	for (i = 0; i < w->n; i++) {
		w->ifs[i].dirty = false;
		if (lw_check(w, &w->ifs[i], why))
			bad++;
	}
	return bad;
}

bool lw_msg_link(const struct nlmsghdr *nlh, int *ifindex, const char **name)
{
	const struct ifinfomsg *ifi;
	struct nlattr *a;

	*ifindex = 0;
	*name = NULL;
	if (nlh->nlmsg_type != RTM_NEWLINK && nlh->nlmsg_type != RTM_DELLINK)
		return false;
	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifi)))
		return false;
	ifi = mnl_nlmsg_get_payload(nlh);
	*ifindex = ifi->ifi_index;
	mnl_attr_for_each(a, nlh, sizeof(*ifi)) {
		if (mnl_attr_get_type(a) == IFLA_IFNAME &&
		    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0)
			*name = mnl_attr_get_str(a);
	}
	return true;
}

/* Mark the interfaces a RTM_NEWLINK/RTM_DELLINK concerns: by name (a new
 * interface) or by the ifindex we last saw (a rename, a removal). */
static int lw_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	struct lw *w = data;
	const char *name;
	int ifindex;
	size_t i;

	if (!lw_msg_link(nlh, &ifindex, &name))
		return MNL_CB_OK;
	for (i = 0; i < w->n; i++) {
		struct lw_iface *it = &w->ifs[i];

		if ((name && !strcmp(name, it->name)) ||
		    (ifindex && ifindex == it->ifindex))
			it->dirty = true;
	}
	return MNL_CB_OK;
}

void lw_handle(struct lw *w)
{
	bool all = false;
	uint64_t ticks;
	size_t i;

	if (!w)
		return;
	if (read(w->tfd, &ticks, sizeof(ticks)) == sizeof(ticks))
		all = true;
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(w->nl, w->buf, MNL_SOCKET_BUFFER_SIZE);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) {
				/* Notifications were lost: trust none. */
				pr_warn("link notifications overran; checking every interface");
				all = true;
				continue;
			}
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				pr_warn("reading link notifications: %s",
					strerror(errno));
			break;
		}
		mnl_cb_run(w->buf, (size_t)n, 0, 0, lw_msg_cb, w);
	}
	for (i = 0; i < w->n; i++) {
		if (!all && !w->ifs[i].dirty)
			continue;
		w->ifs[i].dirty = false;
		lw_check(w, &w->ifs[i], all ? "periodic check" : "link change");
	}
}

struct lw *lw_new(struct ldr *l, const char *pin_dir,
		  const char *const *ifnames, size_t n_ifs, int epfd,
		  uint64_t tag, char *err, size_t errlen)
{
	struct itimerspec its = {
		.it_interval = { LW_CHECK_MS / 1000, (LW_CHECK_MS % 1000) * 1000000L },
		.it_value = { LW_CHECK_MS / 1000, (LW_CHECK_MS % 1000) * 1000000L },
	};
	struct epoll_event ev = { .events = EPOLLIN };
	int rcvbuf = LW_RCVBUF, ret;
	const char *what = "";
	struct lw *w;
	size_t i;

	w = calloc(1, sizeof(*w) + n_ifs * sizeof(w->ifs[0]));
	if (!w) {
		snprintf(err, errlen, "link watch: out of memory");
		errno = ENOMEM;
		return NULL;
	}
	w->ldr = l;
	w->pin_dir = pin_dir;
	w->tfd = w->epfd = -1;
	w->outer = -1;
	w->n = n_ifs;
	for (i = 0; i < n_ifs; i++)
		w->ifs[i].name = ifnames[i];
	w->buf = malloc(MNL_SOCKET_BUFFER_SIZE);
	if (!w->buf) {
		ret = -ENOMEM;
		what = "allocating";
		goto fail;
	}
	w->nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (!w->nl) {
		ret = -errno;
		what = "opening a NETLINK_ROUTE socket";
		goto fail;
	}
	if (mnl_socket_bind(w->nl, RTMGRP_LINK, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		what = "subscribing to RTNLGRP_LINK";
		goto fail;
	}
	/* Root may go past rmem_max; failing that, the default will do. */
	if (setsockopt(mnl_socket_get_fd(w->nl), SOL_SOCKET, SO_RCVBUFFORCE,
		       &rcvbuf, sizeof(rcvbuf)))
		setsockopt(mnl_socket_get_fd(w->nl), SOL_SOCKET, SO_RCVBUF,
			   &rcvbuf, sizeof(rcvbuf));
	w->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (w->tfd < 0 || timerfd_settime(w->tfd, 0, &its, NULL)) {
		ret = -errno;
		what = "creating the check timer";
		goto fail;
	}
	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (w->epfd < 0) {
		ret = -errno;
		what = "epoll_create1";
		goto fail;
	}
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, mnl_socket_get_fd(w->nl), &ev) ||
	    epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->tfd, &ev)) {
		ret = -errno;
		what = "epoll_ctl";
		goto fail;
	}
	ev.data.u64 = tag;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, w->epfd, &ev)) {
		ret = -errno;
		what = "registering in the event loop";
		goto fail;
	}
	w->outer = epfd;
	/* Subscribed first, checked second: nothing falls in between. */
	lw_check_all(w, "start");
	pr_info("following link changes of %zu interface%s (and checking them every %d ms)",
		n_ifs, n_ifs == 1 ? "" : "s", LW_CHECK_MS);
	return w;

fail:
	snprintf(err, errlen, "link watch: %s: %s", what, strerror(-ret));
	lw_free(w);
	errno = -ret;
	return NULL;
}

void lw_free(struct lw *w)
{
	if (!w)
		return;
	if (w->outer >= 0 && w->epfd >= 0)
		epoll_ctl(w->outer, EPOLL_CTL_DEL, w->epfd, NULL);
	if (w->epfd >= 0)
		close(w->epfd);
	if (w->tfd >= 0)
		close(w->tfd);
	if (w->nl)
		mnl_socket_close(w->nl);
	free(w->buf);
	free(w);
}
