// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * nftwriter.c - one libnftnl batch per change (libnftnl
 * examples/nft-rule-add.c). libmnl's -1/errno is turned into -errno here.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "errbuf.h"
#include "nftwriter.h"

#define NFTW_BUFSZ (MNL_SOCKET_BUFFER_SIZE * 4)

bool nftw_valid_name(const char *t)
{
	size_t i, n;

	if (!t)
		return false;
	n = strlen(t);
	if (n == 0 || n >= NFTW_TABLE_MAX)
		return false;
	if (!((t[0] >= 'a' && t[0] <= 'z') || (t[0] >= 'A' && t[0] <= 'Z')))
		return false;
	for (i = 1; i < n; i++) {
		char c = t[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return false;
	}
	return true;
}

/*
 * nftw_talk - send @len bytes of messages and collect the kernel's answers.
 * nfnetlink handles a message in the sender's sendmsg(), so every ack is
 * queued when sendto() returns; we drain without blocking, and wait briefly
 * only if fewer than @acks acknowledgements arrived. Returns the first
 * error the kernel reported (negative errno) or 0. When @cb is given it
 * sees every non-error message (for GET requests).
 */
static int nftw_talk(const void *msg, size_t len, unsigned acks,
		     mnl_cb_t cb, void *data)
{
	struct mnl_socket *nl;
	char *buf = NULL;
	unsigned seen = 0;
	int ret = 0, first = 0, fd;

	nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		goto out;
	}
	buf = malloc(NFTW_BUFSZ);
	if (!buf) {
		ret = -ENOMEM;
		goto out;
	}
	if (mnl_socket_sendto(nl, msg, len) < 0) {
		ret = -errno;
		goto out;
	}
	fd = mnl_socket_get_fd(nl);
	for (;;) {
		struct nlmsghdr *nlh;
		ssize_t n;
		int rem;

		n = recv(fd, buf, NFTW_BUFSZ, MSG_DONTWAIT);
		if (n < 0) {
			struct pollfd p = { .fd = fd, .events = POLLIN };

			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				ret = -errno;
				goto out;
			}
			if (seen >= acks || first)
				break;
			if (poll(&p, 1, 1000) <= 0)
				break;
			continue;
		}
		rem = (int)n;
		for (nlh = (struct nlmsghdr *)buf; mnl_nlmsg_ok(nlh, rem);
		     nlh = mnl_nlmsg_next(nlh, &rem)) {
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

				seen++;
				if (e->error && !first)
					first = e->error;
			} else if (nlh->nlmsg_type == NLMSG_DONE) {
				seen++;
			} else if (cb) {
				cb(nlh, data);
			}
		}
	}
	ret = first;
	if (!ret && seen < acks)
		ret = -ETIMEDOUT;
out:
	free(buf);
	mnl_socket_close(nl);
	return ret;
}

static struct nftnl_table *nftw_table(const char *name)
{
	struct nftnl_table *t = nftnl_table_alloc();

	if (!t)
		return NULL;
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_INET);
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, name);
	return t;
}

static void nftw_add_table_msg(struct mnl_nlmsg_batch *b, struct nftnl_table *t,
			       uint16_t type, uint16_t flags, uint32_t *seq)
{
	struct nlmsghdr *nlh;

	nlh = nftnl_nlmsg_build_hdr(mnl_nlmsg_batch_current(b), type,
				    NFPROTO_INET, flags | NLM_F_ACK, (*seq)++);
	nftnl_table_nlmsg_build_payload(nlh, t);
	mnl_nlmsg_batch_next(b);
}

static int nftw_add_expr(struct nftnl_rule *r, struct nftnl_expr *e)
{
	if (!e)
		return -ENOMEM;
	nftnl_rule_add_expr(r, e);
	return 0;
}

/* ct state established,related counter accept */
static struct nftnl_rule *nftw_ct_rule(const char *table)
{
	uint32_t mask = NF_CT_STATE_BIT(IP_CT_ESTABLISHED) |
			NF_CT_STATE_BIT(IP_CT_RELATED);
	uint32_t zero = 0;
	struct nftnl_rule *r;
	struct nftnl_expr *e;

	r = nftnl_rule_alloc();
	if (!r)
		return NULL;
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, NFTW_CHAIN_FORWARD);

	e = nftnl_expr_alloc("ct");
	if (nftw_add_expr(r, e))
		goto fail;
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_STATE);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);

	e = nftnl_expr_alloc("bitwise");
	if (nftw_add_expr(r, e))
		goto fail;
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, sizeof(uint32_t));
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, &mask, sizeof(mask));
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, &zero, sizeof(zero));

	e = nftnl_expr_alloc("cmp");
	if (nftw_add_expr(r, e))
		goto fail;
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, NFT_CMP_NEQ);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, &zero, sizeof(zero));

	e = nftnl_expr_alloc("counter");
	if (nftw_add_expr(r, e))
		goto fail;

	e = nftnl_expr_alloc("immediate");
	if (nftw_add_expr(r, e))
		goto fail;
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, NF_ACCEPT);
	return r;
fail:
	nftnl_rule_free(r);
	return NULL;
}

int nftw_apply(const char *table, char *err, size_t errlen)
{
	struct nftnl_table *t = NULL;
	struct nftnl_chain *c = NULL;
	struct nftnl_rule *r = NULL;
	struct mnl_nlmsg_batch *b = NULL;
	struct nlmsghdr *nlh;
	uint32_t seq = (uint32_t)time(NULL);
	char *buf = NULL;
	unsigned acks = 0;
	int ret;

	if (!nftw_valid_name(table)) {
		err_set(err, errlen, "invalid nft table name \"%s\"",
			    table ? table : "");
		return -EINVAL;
	}
	buf = malloc(NFTW_BUFSZ);
	t = nftw_table(table);
	c = nftnl_chain_alloc();
	r = nftw_ct_rule(table);
	if (!buf || !t || !c || !r) {
		ret = -ENOMEM;
		err_set(err, errlen, "nft table \"%s\": out of memory", table);
		goto out;
	}
	nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, NFPROTO_INET);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, table);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, NFTW_CHAIN_FORWARD);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "filter");
	nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, NF_INET_FORWARD);
	nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, 0);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);

	b = mnl_nlmsg_batch_start(buf, NFTW_BUFSZ);
	if (!b) {
		ret = -ENOMEM;
		goto out;
	}
	nftnl_batch_begin(mnl_nlmsg_batch_current(b), seq++);
	mnl_nlmsg_batch_next(b);
	/* add + delete + add: replaces whatever the table held, atomically,
	 * and works whether or not the table exists. */
	nftw_add_table_msg(b, t, NFT_MSG_NEWTABLE, NLM_F_CREATE, &seq);
	nftw_add_table_msg(b, t, NFT_MSG_DELTABLE, 0, &seq);
	nftw_add_table_msg(b, t, NFT_MSG_NEWTABLE, NLM_F_CREATE | NLM_F_EXCL, &seq);
	acks += 3;

	nlh = nftnl_nlmsg_build_hdr(mnl_nlmsg_batch_current(b), NFT_MSG_NEWCHAIN,
				    NFPROTO_INET,
				    NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK, seq++);
	nftnl_chain_nlmsg_build_payload(nlh, c);
	mnl_nlmsg_batch_next(b);
	acks++;

	nlh = nftnl_nlmsg_build_hdr(mnl_nlmsg_batch_current(b), NFT_MSG_NEWRULE,
				    NFPROTO_INET,
				    NLM_F_CREATE | NLM_F_APPEND | NLM_F_ACK, seq++);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	mnl_nlmsg_batch_next(b);
	acks++;

	nftnl_batch_end(mnl_nlmsg_batch_current(b), seq++);
	mnl_nlmsg_batch_next(b);

	ret = nftw_talk(mnl_nlmsg_batch_head(b), mnl_nlmsg_batch_size(b), acks,
			NULL, NULL);
	if (ret)
		err_set(err, errlen, "writing nft table inet %s: %s", table,
			    strerror(-ret));
out:
	if (b)
		mnl_nlmsg_batch_stop(b);
	nftnl_rule_free(r);
	nftnl_chain_free(c);
	nftnl_table_free(t);
	free(buf);
	return ret;
}

int nftw_delete(const char *table, char *err, size_t errlen)
{
	struct mnl_nlmsg_batch *b = NULL;
	struct nftnl_table *t = NULL;
	uint32_t seq = (uint32_t)time(NULL);
	char *buf = NULL;
	int ret;

	if (!nftw_valid_name(table)) {
		err_set(err, errlen, "invalid nft table name \"%s\"",
			    table ? table : "");
		return -EINVAL;
	}
	buf = malloc(NFTW_BUFSZ);
	t = nftw_table(table);
	if (!buf || !t) {
		ret = -ENOMEM;
		goto out;
	}
	b = mnl_nlmsg_batch_start(buf, NFTW_BUFSZ);
	if (!b) {
		ret = -ENOMEM;
		goto out;
	}
	nftnl_batch_begin(mnl_nlmsg_batch_current(b), seq++);
	mnl_nlmsg_batch_next(b);
	nftw_add_table_msg(b, t, NFT_MSG_DELTABLE, 0, &seq);
	nftnl_batch_end(mnl_nlmsg_batch_current(b), seq++);
	mnl_nlmsg_batch_next(b);
	ret = nftw_talk(mnl_nlmsg_batch_head(b), mnl_nlmsg_batch_size(b), 1,
			NULL, NULL);
	if (ret && ret != -ENOENT)
		err_set(err, errlen, "deleting nft table inet %s: %s",
			    table, strerror(-ret));
out:
	if (b)
		mnl_nlmsg_batch_stop(b);
	nftnl_table_free(t);
	free(buf);
	return ret;
}

static int nftw_exists_cb(const struct nlmsghdr *nlh, void *data)
{
	(void)nlh;
	*(int *)data = 1;
	return MNL_CB_OK;
}

int nftw_exists(const char *table)
{
	struct nftnl_table *t;
	struct nlmsghdr *nlh;
	char buf[MNL_SOCKET_BUFFER_SIZE];
	int found = 0, ret;

	if (!nftw_valid_name(table))
		return -EINVAL;
	t = nftw_table(table);
	if (!t)
		return -ENOMEM;
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETTABLE, NFPROTO_INET,
				    NLM_F_ACK, (uint32_t)time(NULL));
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	ret = nftw_talk(nlh, nlh->nlmsg_len, 1, nftw_exists_cb, &found);
	if (ret == -ENOENT)
		return 0;
	if (ret && !found)
		return ret;
	return found;
}

static int nftw_count_cb(const struct nlmsghdr *nlh, void *data)
{
	(void)nlh;
	(*(unsigned *)data)++;
	return MNL_CB_OK;
}

int nftw_intact(const char *table)
{
	struct nftnl_rule *r;
	struct nlmsghdr *nlh;
	char buf[MNL_SOCKET_BUFFER_SIZE];
	unsigned rules = 0;
	int ret;

	if (!nftw_valid_name(table))
		return -EINVAL;
	r = nftnl_rule_alloc();
	if (!r)
		return -ENOMEM;
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, NFTW_CHAIN_FORWARD);
	/* A dump filtered by table and chain: only our rules come back. */
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETRULE, NFPROTO_INET,
				    NLM_F_DUMP, (uint32_t)time(NULL));
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nftnl_rule_free(r);
	ret = nftw_talk(nlh, nlh->nlmsg_len, 1, nftw_count_cb, &rules);
	if (ret == -ENOENT)
		return 0;
	if (ret)
		return ret;
	return rules > 0;
}
