// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * ctdel.c - see ctdel.h. Why dump then delete, not one filtered flush:
 * a flush filtered by tuple is recent in the kernel (and by address only
 * with CTA_FILTER on a dump); dump + delete by tuple works on every kernel
 * with ctnetlink. libmnl's -1/errno is turned into -errno here.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>

#include "ctdel.h"
#include "errbuf.h"

#define CTDEL_MAX_TUPLE 256	/* bytes of one nested CTA_TUPLE_ORIG */

struct ctdel_match {
	uint8_t tuple[CTDEL_MAX_TUPLE];
	uint16_t len;		/* attribute length, header included */
};

struct ctdel_ctx {
	int family;
	const uint8_t *addr;
	struct ctdel_match *v;
	size_t n, cap;
	int err;
};

/* Does the nested tuple attribute @t hold @addr as source or destination? */
static int tuple_has(const struct nlattr *t, int family, const uint8_t *addr)
{
	const struct nlattr *ip, *a;
	size_t alen = family == AF_INET ? 4 : 16;

	mnl_attr_for_each_nested(ip, t) {
		if (mnl_attr_get_type(ip) != CTA_TUPLE_IP)
			continue;
		mnl_attr_for_each_nested(a, ip) {
			uint16_t type = mnl_attr_get_type(a);
			bool want = family == AF_INET ?
				(type == CTA_IP_V4_SRC || type == CTA_IP_V4_DST) :
				(type == CTA_IP_V6_SRC || type == CTA_IP_V6_DST);

			if (want && mnl_attr_get_payload_len(a) == alen &&
			    !memcmp(mnl_attr_get_payload(a), addr, alen))
				return 1;
		}
	}
	return 0;
}

static int on_entry(const struct nlmsghdr *nlh, void *data)
{
	struct ctdel_ctx *c = data;
	const struct nlattr *a, *orig = NULL;
	bool hit = false;

	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
		uint16_t type = mnl_attr_get_type(a);

		if (type == CTA_TUPLE_ORIG)
			orig = a;
		if ((type == CTA_TUPLE_ORIG || type == CTA_TUPLE_REPLY) &&
		    tuple_has(a, c->family, c->addr))
			hit = true;
	}
	if (!hit || !orig || orig->nla_len > CTDEL_MAX_TUPLE)
		return MNL_CB_OK;
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 16;
		struct ctdel_match *v = realloc(c->v, cap * sizeof(*v));

		if (!v) {
			c->err = -ENOMEM;
			return MNL_CB_ERROR;
		}
		c->v = v;
		c->cap = cap;
	}
	memcpy(c->v[c->n].tuple, orig, orig->nla_len);
	c->v[c->n].len = orig->nla_len;
	c->n++;
	return MNL_CB_OK;
}

static struct nlmsghdr *ct_msg(char *buf, int type, uint16_t flags,
			       int family, uint32_t seq)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;

	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = (uint8_t)family;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = 0;
	return nlh;
}

int ctdel_host(int family, const uint8_t *addr, char *err, size_t errlen)
{
	struct ctdel_ctx c = { .family = family, .addr = addr };
	char *buf = NULL;
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	uint32_t seq = (uint32_t)time(NULL), portid;
	size_t i, sent = 0;
	int ret, deleted = 0;

	nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!nl) {
		ret = -errno;
		err_set(err, errlen, "conntrack netlink socket: %s",
			strerror(errno));
		return ret;
	}
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		err_set(err, errlen, "binding the conntrack socket: %s",
			strerror(errno));
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	buf = malloc(MNL_SOCKET_BUFFER_SIZE);
	if (!buf) {
		ret = -ENOMEM;
		err_set(err, errlen, "out of memory");
		goto out;
	}
	nlh = ct_msg(buf, IPCTNL_MSG_CT_GET, NLM_F_DUMP, family, seq);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		ret = -errno;
		err_set(err, errlen, "conntrack dump: %s", strerror(errno));
		goto out;
	}
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl, buf, MNL_SOCKET_BUFFER_SIZE);

		if (n < 0) {
			ret = -errno;
			err_set(err, errlen, "reading the conntrack dump: %s",
				strerror(errno));
			goto out;
		}
		ret = mnl_cb_run(buf, (size_t)n, seq, portid, on_entry, &c);
		if (ret <= 0)
			break;
	}
	if (ret < 0) {
		ret = c.err ? c.err : -errno;
		err_set(err, errlen, "conntrack dump: %s", strerror(-ret));
		goto out;
	}
	/* Delete every match: send them all, then count the acks. */
	for (i = 0; i < c.n; i++) {
		struct nlattr *a;

		nlh = ct_msg(buf, IPCTNL_MSG_CT_DELETE, NLM_F_ACK, family,
			     seq + 1 + (uint32_t)i);
		a = (struct nlattr *)((char *)nlh + nlh->nlmsg_len);
		memcpy(a, c.v[i].tuple, c.v[i].len);
		nlh->nlmsg_len += MNL_ALIGN(c.v[i].len);
		if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
			ret = -errno;
			err_set(err, errlen, "conntrack delete: %s",
				strerror(errno));
			goto out;
		}
		sent++;
	}
	while (sent) {
		ssize_t n = mnl_socket_recvfrom(nl, buf, MNL_SOCKET_BUFFER_SIZE);
		const struct nlmsghdr *h;
		int left;

		if (n < 0) {
			ret = -errno;
			err_set(err, errlen, "conntrack delete ack: %s",
				strerror(errno));
			goto out;
		}
		left = (int)n;
		for (h = (const struct nlmsghdr *)buf; mnl_nlmsg_ok(h, left);
		     h = mnl_nlmsg_next(h, &left)) {
			const struct nlmsgerr *e;

			if (h->nlmsg_type != NLMSG_ERROR || !sent)
				continue;
			e = mnl_nlmsg_get_payload(h);
			sent--;
			if (!e->error)
				deleted++;
			else if (e->error != -ENOENT) {
				ret = e->error;
				err_set(err, errlen, "conntrack delete: %s",
					strerror(-ret));
				goto out;
			}
		}
	}
	ret = deleted;
out:
	free(buf);
	free(c.v);
	mnl_socket_close(nl);
	return ret;
}
