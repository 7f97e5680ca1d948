// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * test_watch.c - which notifications make segd look again, without a
 * kernel: nf_tables messages built with libnftnl and parsed back by
 * nftwatch_msg_concerns(), link messages built with libmnl and parsed back
 * by lw_msg_link().
 */
#include <net/if.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/rtnetlink.h>

#include "linkwatch.h"
#include "nftwatch.h"

static char buf[8192];

enum obj { TABLE, CHAIN, RULE };

/* A notification as the kernel sends it: @type of @obj in @family/@table. */
static struct nlmsghdr *nft_msg(enum obj obj, uint16_t type, int family,
				const char *table)
{
	struct nlmsghdr *nlh;

	memset(buf, 0, sizeof(buf));
	nlh = nftnl_nlmsg_build_hdr(buf, type, (uint16_t)family, 0, 1);
	if (obj == TABLE) {
		struct nftnl_table *t = nftnl_table_alloc();

		assert_non_null(t);
		nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, (uint32_t)family);
		nftnl_table_set_str(t, NFTNL_TABLE_NAME, table);
		nftnl_table_nlmsg_build_payload(nlh, t);
		nftnl_table_free(t);
	} else if (obj == CHAIN) {
		struct nftnl_chain *c = nftnl_chain_alloc();

		assert_non_null(c);
		nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, table);
		nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, "forward");
		nftnl_chain_nlmsg_build_payload(nlh, c);
		nftnl_chain_free(c);
	} else {
		struct nftnl_rule *r = nftnl_rule_alloc();

		assert_non_null(r);
		nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table);
		nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, "forward");
		nftnl_rule_nlmsg_build_payload(nlh, r);
		nftnl_rule_free(r);
	}
	return nlh;
}

static void test_nft_deletions_of_our_table(void **state)
{
	(void)state;
	assert_true(nftwatch_msg_concerns(
		nft_msg(TABLE, NFT_MSG_DELTABLE, NFPROTO_INET, "segd"), "segd"));
	assert_true(nftwatch_msg_concerns(
		nft_msg(CHAIN, NFT_MSG_DELCHAIN, NFPROTO_INET, "segd"), "segd"));
	assert_true(nftwatch_msg_concerns(
		nft_msg(RULE, NFT_MSG_DELRULE, NFPROTO_INET, "segd"), "segd"));
}

static void test_nft_others_ignored(void **state)
{
	(void)state;
	/* another table, a prefix of ours, another family */
	assert_false(nftwatch_msg_concerns(
		nft_msg(TABLE, NFT_MSG_DELTABLE, NFPROTO_INET, "filter"), "segd"));
	assert_false(nftwatch_msg_concerns(
		nft_msg(TABLE, NFT_MSG_DELTABLE, NFPROTO_INET, "seg"), "segd"));
	assert_false(nftwatch_msg_concerns(
		nft_msg(TABLE, NFT_MSG_DELTABLE, NFPROTO_INET, "segd2"), "segd"));
	assert_false(nftwatch_msg_concerns(
		nft_msg(TABLE, NFT_MSG_DELTABLE, NFPROTO_IPV4, "segd"), "segd"));
	/* additions are not losses */
	assert_false(nftwatch_msg_concerns(
		nft_msg(TABLE, NFT_MSG_NEWTABLE, NFPROTO_INET, "segd"), "segd"));
	assert_false(nftwatch_msg_concerns(
		nft_msg(RULE, NFT_MSG_NEWRULE, NFPROTO_INET, "segd"), "segd"));
}

static void test_nft_truncated_ignored(void **state)
{
	struct nlmsghdr *nlh;

	(void)state;
	nlh = nft_msg(TABLE, NFT_MSG_DELTABLE, NFPROTO_INET, "segd");
	nlh->nlmsg_len = mnl_nlmsg_size(0);	/* no nfgenmsg, no name */
	assert_false(nftwatch_msg_concerns(nlh, "segd"));
}

static struct nlmsghdr *link_msg(uint16_t type, int ifindex, const char *name)
{
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;

	memset(buf, 0, sizeof(buf));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	mnl_attr_put_u32(nlh, IFLA_MTU, 1500);
	if (name)
		mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	return nlh;
}

static void test_link_messages(void **state)
{
	const char *name;
	int ifindex;

	(void)state;
	assert_true(lw_msg_link(link_msg(RTM_NEWLINK, 7, "guest"), &ifindex, &name));
	assert_int_equal(ifindex, 7);
	assert_non_null(name);
	assert_string_equal(name, "guest");

	assert_true(lw_msg_link(link_msg(RTM_DELLINK, 9, "pacs"), &ifindex, &name));
	assert_int_equal(ifindex, 9);
	assert_string_equal(name, "pacs");

	/* no name: still a link event, matched by ifindex */
	assert_true(lw_msg_link(link_msg(RTM_NEWLINK, 3, NULL), &ifindex, &name));
	assert_int_equal(ifindex, 3);
	assert_null(name);

	/* not a link event */
	assert_false(lw_msg_link(link_msg(RTM_NEWADDR, 7, "guest"), &ifindex, &name));
	assert_int_equal(ifindex, 0);
	assert_null(name);
}

static void test_link_truncated(void **state)
{
	struct nlmsghdr *nlh;
	const char *name;
	int ifindex;

	(void)state;
	nlh = link_msg(RTM_NEWLINK, 7, "guest");
	nlh->nlmsg_len = mnl_nlmsg_size(2);	/* shorter than ifinfomsg */
	assert_false(lw_msg_link(nlh, &ifindex, &name));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nft_deletions_of_our_table),
		cmocka_unit_test(test_nft_others_ignored),
		cmocka_unit_test(test_nft_truncated_ignored),
		cmocka_unit_test(test_link_messages),
		cmocka_unit_test(test_link_truncated),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
