// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * test_compile.c - model -> identities, lookup entries, allow set; and
 * comp_explain() against a table of probes.
 *
 * The expected tables are written out in full: a change to the compiler's
 * output must show up here as a changed line, not slip through a count.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "compile.h"
#include "config.h"
#include "source.h"

#ifndef SEGD_SRCDIR
#define SEGD_SRCDIR "."
#endif

#define HOSPITAL SEGD_SRCDIR "/segments/hospital.json"

enum { TCP = IPPROTO_TCP, UDP = IPPROTO_UDP, ICMP = IPPROTO_ICMP,
       ICMP6 = IPPROTO_ICMPV6 };

/* ---------------------------------------------------------------- */
/* Helpers                                                            */
/* ---------------------------------------------------------------- */

static struct cfg_policy *parse_file(const char *path)
{
	struct cfg_policy *p = NULL;
	struct cfg_diag *d = calloc(1, sizeof(*d));
	struct src_docs *docs;
	char err[256];

	assert_non_null(d);
	docs = src_read_dir(path, err, sizeof(err));
	if (!docs)
		fail_msg("%s", err);
	if (cfg_parse(docs, &p, d)) {
		char line[600];

		cfg_diag_format(d, 0, line, sizeof(line));
		fail_msg("%s", line);
	}
	free(d);
	return p;
}

static struct cfg_policy *parse_text(const char *text)
{
	const char *names[] = { "t.json" };
	struct cfg_policy *p = NULL;
	struct cfg_diag *d = calloc(1, sizeof(*d));

	assert_non_null(d);
	if (cfg_parse(src_from_strings(names, &text, 1), &p, d)) {
		char line[600];

		cfg_diag_format(d, 0, line, sizeof(line));
		fail_msg("%s", line);
	}
	free(d);
	return p;
}

static struct comp_gw_addr gw_addr(const char *s)
{
	struct comp_gw_addr g;

	memset(&g, 0, sizeof(g));
	g.family = strchr(s, ':') ? AF_INET6 : AF_INET;
	assert_int_equal(inet_pton(g.family, s, g.addr), 1);
	return g;
}

static struct comp_policy *build(const struct cfg_policy *cfg,
				 const struct comp_gw_addr *gw, size_t n_gw,
				 const struct comp_id_hint *hints, size_t n_hints)
{
	struct comp_policy *p = NULL;
	char err[512] = "";
	int ret;

	ret = comp_build(cfg, gw, n_gw, hints, n_hints, &p, err, sizeof(err));
	if (ret)
		fail_msg("comp_build: %d: %s", ret, err);
	return p;
}

static const char *addr_str(int family, const uint8_t *a, char *buf)
{
	inet_ntop(family, a, buf, INET6_ADDRSTRLEN);
	return buf;
}

static const char *ep_str(const struct segd_endpoint *ep, char *buf,
			  size_t len)
{
	static const uint8_t zero[6];

	if (memcmp(ep->mac, zero, 6))
		snprintf(buf, len, "%u/%u/%u/%02x:%02x:%02x:%02x:%02x:%02x",
			 ep->id, ep->seg, ep->flags, ep->mac[0], ep->mac[1],
			 ep->mac[2], ep->mac[3], ep->mac[4], ep->mac[5]);
	else
		snprintf(buf, len, "%u/%u/%u", ep->id, ep->seg, ep->flags);
	return buf;
}

/*
 * Every entry of @p as text, one per line, so that a whole table can be
 * compared at once and a difference reads like a diff:
 *   id ID KIND SEG NAME | host4 ADDR EP | lpm4 ADDR/LEN EP | mac MAC EP |
 *   allow SRC DST PROTO PORT RULE   (EP = id/seg/flags[/boundmac])
 */
static char *dump(const struct comp_policy *p)
{
	size_t cap = 1 << 16, o = 0, i;
	char *s = malloc(cap), a[INET6_ADDRSTRLEN], e[64];

	assert_non_null(s);
	s[0] = '\0';
#define OUT(...) (o += (size_t)snprintf(s + o, cap - o, __VA_ARGS__))
	for (i = 0; i < p->n_ids; i++)
		OUT("id %u %u %u %s\n", p->ids[i].id, p->ids[i].kind,
		    p->ids[i].seg, p->ids[i].name);
	for (i = 0; i < p->n_host4; i++)
		OUT("host4 %s %s\n", addr_str(AF_INET, p->host4[i].addr, a),
		    ep_str(&p->host4[i].ep, e, sizeof(e)));
	for (i = 0; i < p->n_host6; i++)
		OUT("host6 %s %s\n", addr_str(AF_INET6, p->host6[i].addr, a),
		    ep_str(&p->host6[i].ep, e, sizeof(e)));
	for (i = 0; i < p->n_lpm4; i++)
		OUT("lpm4 %s/%u %s\n", addr_str(AF_INET, p->lpm4[i].addr, a),
		    p->lpm4[i].plen, ep_str(&p->lpm4[i].ep, e, sizeof(e)));
	for (i = 0; i < p->n_lpm6; i++)
		OUT("lpm6 %s/%u %s\n", addr_str(AF_INET6, p->lpm6[i].addr, a),
		    p->lpm6[i].plen, ep_str(&p->lpm6[i].ep, e, sizeof(e)));
	for (i = 0; i < p->n_macs; i++)
		OUT("mac %02x:%02x:%02x:%02x:%02x:%02x %s\n", p->macs[i].mac[0],
		    p->macs[i].mac[1], p->macs[i].mac[2], p->macs[i].mac[3],
		    p->macs[i].mac[4], p->macs[i].mac[5],
		    ep_str(&p->macs[i].ep, e, sizeof(e)));
	for (i = 0; i < p->n_allows; i++)
		OUT("allow %u %u %u %u %s\n", p->allows[i].src_id,
		    p->allows[i].dst_id, p->allows[i].proto, p->allows[i].port,
		    p->allows[i].rule < p->n_rules ?
			    p->rule_names[p->allows[i].rule] :
			    "?");
#undef OUT
	return s;
}

static void assert_dump(const struct comp_policy *p, const char *want)
{
	char *got = dump(p);

	if (strcmp(got, want)) {
		print_error("--- expected\n%s--- got\n%s", want, got);
		free(got);
		fail_msg("compiled policy differs");
	}
	free(got);
}

/* ---------------------------------------------------------------- */
/* segments/hospital.json                                             */
/* ---------------------------------------------------------------- */

static const char hospital_want[] =
	"id 1 1 1 world\n"
	"id 2 1 2 gateway\n"
	"id 16 2 16 ehr\n"
	"id 17 2 17 guest\n"
	"id 18 2 18 iomt\n"
	"id 19 2 19 pacs\n"
	"id 20 3 18 pump-7\n"
	"host4 10.10.0.1 2/2/0\n"
	"host4 10.20.0.1 2/2/0\n"
	"host4 10.20.0.7 20/18/1/02:00:00:20:00:07\n"
	"host4 10.30.0.1 2/2/0\n"
	"host4 10.30.0.10 19/19/0\n"
	"host4 10.40.0.1 2/2/0\n"
	"host4 10.40.0.255 2/2/0\n"
	"host4 255.255.255.255 2/2/4\n"
	"host6 fd00:10::1 2/2/0\n"
	"lpm4 10.10.0.0/24 16/16/0\n"
	"lpm4 10.20.0.0/24 18/18/0\n"
	"lpm4 10.40.0.0/24 17/17/0\n"
	"lpm4 224.0.0.0/4 2/2/4\n"
	"lpm6 fd00:10::/64 16/16/0\n"
	"lpm6 fe80::/10 2/2/4\n"
	"lpm6 ff00::/8 2/2/4\n"
	"mac 02:00:00:20:00:07 20/18/0\n"
	"allow 16 16 6 443 ehr-web\n"
	"allow 16 18 1 0 clinical-ping\n"
	"allow 16 18 58 0 clinical-ping\n"
	"allow 16 19 1 0 clinical-ping\n"
	"allow 16 19 58 0 clinical-ping\n"
	"allow 16 20 1 0 clinical-ping\n"
	"allow 16 20 58 0 clinical-ping\n"
	"allow 17 1 6 53 guest-internet\n"
	"allow 17 1 6 443 guest-internet\n"
	"allow 17 1 17 53 guest-internet\n"
	"allow 18 16 17 514 device-syslog\n"
	"allow 18 19 6 104 modalities-store\n"
	"allow 18 19 6 11112 modalities-store\n"
	"allow 20 16 6 2575 pump-hl7\n"
	"allow 20 16 17 514 device-syslog\n"
	"allow 20 19 6 104 modalities-store\n"
	"allow 20 19 6 11112 modalities-store\n";

/* as segd passes them: addresses, one subnet broadcast, a duplicate */
static const char *const hospital_gw[] = { "10.10.0.1", "10.20.0.1",
					   "10.30.0.1", "10.40.0.1",
					   "fd00:10::1", "10.20.0.1",
					   "10.40.0.255" };
#define N_HOSPITAL_GW (sizeof(hospital_gw) / sizeof(hospital_gw[0]))

struct fixture {
	struct cfg_policy *cfg;
	struct comp_policy *p;
};

static int hospital_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct comp_gw_addr gw[N_HOSPITAL_GW];
	size_t i;

	for (i = 0; i < N_HOSPITAL_GW; i++)
		gw[i] = gw_addr(hospital_gw[i]);
	f->cfg = parse_file(HOSPITAL);
	f->p = build(f->cfg, gw, N_HOSPITAL_GW, NULL, 0);
	*state = f;
	return 0;
}

static int hospital_teardown(void **state)
{
	struct fixture *f = *state;

	comp_free(f->p);
	cfg_policy_free(f->cfg);
	free(f);
	return 0;
}

static void test_hospital_entries(void **state)
{
	const struct fixture *f = *state;
	const struct comp_policy *p = f->p;
	static const char *const rules[] = { "ehr-web", "modalities-store",
					     "pump-hl7", "device-syslog",
					     "clinical-ping", "guest-internet" };
	size_t i;

	assert_dump(p, hospital_want);
	assert_int_equal(p->n_rules, 6);
	for (i = 0; i < 6; i++)
		assert_string_equal(p->rule_names[i], rules[i]);
	assert_int_equal(p->flags, SEGD_CFG_LOADED);
	assert_string_equal(p->digest, f->cfg->docs->digest);
	assert_int_equal(strlen(p->digest), 64);
}

static void test_identity_lookup(void **state)
{
	const struct fixture *f = *state;
	const struct comp_identity *id;

	id = comp_identity(f->p, 20);
	assert_non_null(id);
	assert_string_equal(id->name, "pump-7");
	assert_int_equal(id->kind, SEGD_KIND_DEVICE);
	assert_int_equal(id->seg, 18);
	id = comp_identity(f->p, SEGD_ID_WORLD);
	assert_string_equal(id->name, "world");
	assert_int_equal(id->kind, SEGD_KIND_BUILTIN);
	assert_null(comp_identity(f->p, 0));
	assert_null(comp_identity(f->p, 3));
	assert_null(comp_identity(f->p, 21));
	assert_null(comp_identity(NULL, 1));
}

/* Compiling twice gives the same bytes: the map writer diffs on this. */
static void test_deterministic(void **state)
{
	const struct fixture *f = *state;
	struct comp_gw_addr gw[N_HOSPITAL_GW];
	struct comp_policy *q;
	char *a, *b;
	size_t i;

	for (i = 0; i < N_HOSPITAL_GW; i++)	/* other order */
		gw[N_HOSPITAL_GW - 1 - i] = gw_addr(hospital_gw[i]);
	q = build(f->cfg, gw, N_HOSPITAL_GW, NULL, 0);
	a = dump(f->p);
	b = dump(q);
	assert_string_equal(a, b);
	free(a);
	free(b);
	comp_free(q);
}

/* ---------------------------------------------------------------- */
/* explain                                                            */
/* ---------------------------------------------------------------- */

struct probe_case {
	const char *what;
	const char *src, *dst;
	const char *mac;	/* source MAC, or NULL */
	uint8_t proto;
	uint16_t dport;
	uint8_t icmp_type;
	uint16_t sport;
	/* expected */
	const char *verdict, *reason;
	uint32_t src_id, dst_id;
	const char *rule;	/* NULL: no rule */
};

static const struct probe_case hospital_probes[] = {
	{ "ehr web inside ehr", "10.10.0.5", "10.10.0.6", NULL, TCP, 443, 0, 0,
	  "pass", "allowed", 16, 16, "ehr-web" },
	{ "ehr ssh inside ehr", "10.10.0.5", "10.10.0.6", NULL, TCP, 22, 0, 0,
	  "drop", "policy", 16, 16, NULL },
	{ "ehr web over UDP", "10.10.0.5", "10.10.0.6", NULL, UDP, 443, 0, 0,
	  "drop", "policy", 16, 16, NULL },
	{ "modality stores to pacs", "10.20.0.50", "10.30.0.10", NULL, TCP, 104,
	  0, 0, "pass", "allowed", 18, 19, "modalities-store" },
	{ "modality stores on 11112", "10.20.0.50", "10.30.0.10", NULL, TCP,
	  11112, 0, 0, "pass", "allowed", 18, 19, "modalities-store" },
	{ "pacs host next to pacs", "10.20.0.50", "10.30.0.11", NULL, TCP, 104,
	  0, 0, "drop", "policy", 18, 1, NULL },
	{ "pump with its MAC", "10.20.0.7", "10.30.0.10", "02:00:00:20:00:07",
	  TCP, 104, 0, 0, "pass", "allowed", 20, 19, "modalities-store" },
	{ "pump without MAC", "10.20.0.7", "10.30.0.10", NULL, TCP, 11112, 0, 0,
	  "pass", "allowed", 20, 19, "modalities-store" },
	{ "pump spoofed", "10.20.0.7", "10.30.0.10", "02:00:00:20:00:99", TCP,
	  104, 0, 0, "drop", "spoofed", 20, 19, NULL },
	{ "pump hl7 to ehr", "10.20.0.7", "10.10.0.9", NULL, TCP, 2575, 0, 0,
	  "pass", "allowed", 20, 16, "pump-hl7" },
	{ "other iomt hl7 to ehr", "10.20.0.8", "10.10.0.9", NULL, TCP, 2575, 0,
	  0, "drop", "policy", 18, 16, NULL },
	{ "pump syslog", "10.20.0.7", "10.10.0.9", NULL, UDP, 514, 0, 0, "pass",
	  "allowed", 20, 16, "device-syslog" },
	{ "iomt syslog", "10.20.0.8", "10.10.0.9", NULL, UDP, 514, 0, 0, "pass",
	  "allowed", 18, 16, "device-syslog" },
	{ "ehr pings pump", "10.10.0.5", "10.20.0.7", NULL, ICMP, 0, 8, 0,
	  "pass", "allowed", 16, 20, "clinical-ping" },
	{ "pump echo reply", "10.20.0.7", "10.10.0.5", NULL, ICMP, 0, 0, 0,
	  "pass", "reply", 20, 16, "clinical-ping" },
	{ "pump pings ehr", "10.20.0.7", "10.10.0.5", NULL, ICMP, 0, 8, 0,
	  "drop", "policy", 20, 16, NULL },
	{ "guest echo reply to ehr", "10.40.0.5", "10.10.0.5", NULL, ICMP, 0, 0,
	  0, "drop", "policy", 17, 16, NULL },
	{ "ehr unreachable to pump", "10.10.0.5", "10.20.0.7", NULL, ICMP, 0, 3,
	  0, "pass", "allowed", 16, 20, "clinical-ping" },
	{ "ehr v6 ping to world", "fd00:10::5", "fd00:99::1", NULL, ICMP6, 0,
	  128, 0, "drop", "policy", 16, 1, NULL },
	{ "v6 echo reply from world", "fd00:99::1", "fd00:10::5", NULL, ICMP6,
	  0, 129, 0, "drop", "policy", 1, 16, NULL },
	{ "neighbor solicitation", "fd00:10::5", "ff02::1:ff00:1", NULL, ICMP6,
	  0, 135, 0, "pass", "local", 16, 2, NULL },
	{ "neighbor advertisement to a host (hop limit 255 assumed)",
	  "fd00:10::5", "fd00:10::9", NULL, ICMP6, 0, 136, 0, "pass", "local",
	  16, 16, NULL },
	{ "router solicitation", "fe80::5", "ff02::2", NULL, ICMP6, 0, 133, 0,
	  "pass", "local", 1, 2, NULL },
	{ "MLDv2 report", "fe80::5", "ff02::16", NULL, ICMP6, 0, 143, 0, "pass",
	  "local", 1, 2, NULL },
	{ "MLD query", "fe80::1", "ff02::1", NULL, ICMP6, 0, 130, 0, "pass",
	  "local", 1, 2, NULL },
	{ "ND type over IPv4 is not ND", "10.40.0.9", "10.40.0.1", NULL, ICMP6, 0,
	  135, 0, "drop", "policy", 17, 2, NULL },
	{ "ICMPv6 type 138 is policy", "fe80::1", "ff02::1", NULL, ICMP6, 0, 138,
	  0, "drop", "policy", 1, 2, NULL },
	{ "DHCP discover", "0.0.0.0", "255.255.255.255", NULL, UDP, 67, 0, 68,
	  "pass", "local", 1, 2, NULL },
	{ "DHCP offer to a host is not the gateway's", "10.20.0.1",
	  "10.20.0.50", NULL, UDP, 68, 0, 67, "drop", "policy", 2, 18, NULL },
	{ "DHCP offer to broadcast", "10.20.0.9", "255.255.255.255", NULL, UDP,
	  68, 0, 67, "pass", "local", 18, 2, NULL },
	{ "guest DHCP to pacs is policy", "10.40.0.9", "10.30.0.10", NULL, UDP,
	  67, 0, 68, "drop", "policy", 17, 19, NULL },
	{ "guest DHCP to the world is policy", "10.40.0.9", "192.0.2.67", NULL,
	  UDP, 67, 0, 68, "drop", "policy", 17, 1, NULL },
	{ "DHCP without source port", "10.40.0.9", "10.40.0.1", NULL, UDP, 67, 0,
	  0, "pass", "local", 17, 2, NULL },
	{ "port 67 from elsewhere", "10.40.0.9", "10.40.0.1", NULL, UDP, 67, 0,
	  5000, "drop", "policy", 17, 2, NULL },
	{ "DHCP over TCP is not DHCP", "10.40.0.9", "10.40.0.1", NULL, TCP, 67,
	  0, 68, "drop", "policy", 17, 2, NULL },
	{ "DHCP ports over IPv6", "fd00:10::5", "fd00:10::1", NULL, UDP, 67, 0,
	  68, "drop", "policy", 16, 2, NULL },
	{ "DHCPv6 solicit", "fe80::5", "ff02::1:2", NULL, UDP, 547, 0, 546,
	  "pass", "local", 1, 2, NULL },
	{ "DHCPv6 reply", "fe80::1", "fe80::5", NULL, UDP, 546, 0, 547, "pass",
	  "local", 1, 2, NULL },
	{ "DHCPv6 to a global host is policy", "fd00:10::5", "fd00:10::9", NULL,
	  UDP, 547, 0, 546, "drop", "policy", 16, 16, NULL },
	{ "DHCPv6 to the gateway", "fd00:10::5", "fd00:10::1", NULL, UDP, 547,
	  0, 546, "pass", "local", 16, 2, NULL },
	{ "link-local source is not the gateway", "fe80::5", "fd00:10::9", NULL,
	  TCP, 443, 0, 0, "drop", "policy", 1, 16, NULL },
	{ "multicast source is not the gateway", "224.0.0.5", "10.10.0.9", NULL,
	  TCP, 443, 0, 0, "drop", "policy", 1, 16, NULL },
	{ "broadcast source is not the gateway", "255.255.255.255", "10.10.0.9",
	  NULL, TCP, 443, 0, 0, "drop", "policy", 1, 16, NULL },
	{ "DHCPv6 ports over IPv4", "10.40.0.9", "10.40.0.1", NULL, UDP, 547, 0,
	  546, "drop", "policy", 17, 2, NULL },
	{ "guest dns", "10.40.0.9", "8.8.8.8", NULL, UDP, 53, 0, 0, "pass",
	  "allowed", 17, 1, "guest-internet" },
	{ "guest dns over tcp", "10.40.0.9", "8.8.8.8", NULL, TCP, 53, 0, 0,
	  "pass", "allowed", 17, 1, "guest-internet" },
	{ "guest web", "10.40.0.9", "93.184.216.34", NULL, TCP, 443, 0, 0,
	  "pass", "allowed", 17, 1, "guest-internet" },
	{ "guest ssh out", "10.40.0.9", "93.184.216.34", NULL, TCP, 22, 0, 0,
	  "drop", "policy", 17, 1, NULL },
	{ "guest to ehr web", "10.40.0.9", "10.10.0.5", NULL, TCP, 443, 0, 0,
	  "drop", "policy", 17, 16, NULL },
	{ "guest to gateway web", "10.40.0.9", "10.40.0.1", NULL, TCP, 443, 0, 0,
	  "drop", "policy", 17, 2, NULL },
	{ "world to ehr", "192.0.2.1", "10.10.0.5", NULL, TCP, 443, 0, 0, "drop",
	  "policy", 1, 16, NULL },
	{ "iomt to gateway ssh", "10.20.0.50", "10.20.0.1", NULL, TCP, 22, 0, 0,
	  "drop", "policy", 18, 2, NULL },
	{ "source known by MAC only", "10.99.0.1", "10.30.0.10",
	  "02:00:00:20:00:07", TCP, 104, 0, 0, "pass", "allowed", 20, 19,
	  "modalities-store" },
	{ "host entry beats MAC", "10.30.0.10", "10.10.0.5", "02:00:00:20:00:07",
	  TCP, 443, 0, 0, "drop", "policy", 19, 16, NULL },
	{ "MAC beats prefix", "10.40.0.9", "10.30.0.10", "02:00:00:20:00:07",
	  TCP, 104, 0, 0, "pass", "allowed", 20, 19, "modalities-store" },
	{ "GRE inside ehr", "10.10.0.5", "10.10.0.6", NULL, 47, 0, 0, 0, "drop",
	  "policy", 16, 16, NULL },
	{ "subnet broadcast is the gateway's", "10.40.0.9", "10.40.0.255", NULL,
	  UDP, 137, 0, 137, "drop", "policy", 17, 2, NULL },
	{ "guest DNS to limited broadcast is not world", "10.40.0.9",
	  "255.255.255.255", NULL, UDP, 53, 0, 40000, "drop", "policy", 17, 2,
	  NULL },
	{ "guest mDNS to multicast is not world", "10.40.0.9", "224.0.0.251",
	  NULL, UDP, 5353, 0, 5353, "drop", "policy", 17, 2, NULL },
};

static void run_probes(const struct comp_policy *p,
		       const struct probe_case *t, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		struct comp_probe q;
		struct comp_verdict v;
		const char *rule;
		bool ok;

		memset(&q, 0, sizeof(q));
		q.family = strchr(t[i].src, ':') ? AF_INET6 : AF_INET;
		assert_int_equal(inet_pton(q.family, t[i].src, q.src), 1);
		assert_int_equal(inet_pton(q.family, t[i].dst, q.dst), 1);
		if (t[i].mac) {
			unsigned m[6];
			int k;

			assert_int_equal(sscanf(t[i].mac, "%x:%x:%x:%x:%x:%x",
						&m[0], &m[1], &m[2], &m[3],
						&m[4], &m[5]),
					 6);
			for (k = 0; k < 6; k++)
				q.src_mac[k] = (uint8_t)m[k];
			q.has_src_mac = true;
		}
		q.proto = t[i].proto;
		q.dport = t[i].dport;
		q.sport = t[i].sport;
		q.icmp_type = t[i].icmp_type;
		comp_explain(p, &q, &v);
		rule = v.has_rule && v.rule < p->n_rules ? p->rule_names[v.rule] :
							     NULL;
		ok = !strcmp(comp_verdict_name(v.verdict), t[i].verdict) &&
		     !strcmp(comp_reason_name(v.reason), t[i].reason) &&
		     v.src.id == t[i].src_id && v.dst.id == t[i].dst_id &&
		     ((!rule && !t[i].rule) ||
		      (rule && t[i].rule && !strcmp(rule, t[i].rule)));
		if (!ok)
			fail_msg("probe \"%s\": want %s/%s %u->%u rule %s, got %s/%s %u->%u rule %s",
				 t[i].what, t[i].verdict, t[i].reason,
				 t[i].src_id, t[i].dst_id,
				 t[i].rule ? t[i].rule : "-",
				 comp_verdict_name(v.verdict),
				 comp_reason_name(v.reason), v.src.id, v.dst.id,
				 rule ? rule : "-");
	}
}

static void test_hospital_explain(void **state)
{
	const struct fixture *f = *state;

	run_probes(f->p, hospital_probes,
		   sizeof(hospital_probes) / sizeof(hospital_probes[0]));
}

/* The endpoints explain reports are the map entries themselves. */
static void test_explain_endpoints(void **state)
{
	const struct fixture *f = *state;
	struct comp_probe q;
	struct comp_verdict v;

	memset(&q, 0, sizeof(q));
	q.family = AF_INET;
	inet_pton(AF_INET, "10.20.0.7", q.src);
	inet_pton(AF_INET, "10.30.0.10", q.dst);
	q.proto = IPPROTO_TCP;
	q.dport = 104;
	comp_explain(f->p, &q, &v);
	assert_int_equal(v.src.id, 20);
	assert_int_equal(v.src.seg, 18);
	assert_int_equal(v.src.flags, SEGD_EP_MAC_BOUND);
	assert_memory_equal(v.src.mac, "\x02\x00\x00\x20\x00\x07", 6);
	assert_int_equal(v.dst.id, 19);
	assert_int_equal(v.dst.seg, 19);
	assert_int_equal(v.rule, 1);

	/* a probe that is not IP is never passed */
	q.family = 0;
	comp_explain(f->p, &q, &v);
	assert_int_equal(v.verdict, SEGD_VERDICT_DROP);
	comp_explain(NULL, &q, &v);
	assert_int_equal(v.verdict, SEGD_VERDICT_DROP);
}

/* ---------------------------------------------------------------- */
/* Features beyond hospital.json                                      */
/* ---------------------------------------------------------------- */

static const char features_json[] =
	"{\n"
	"  \"version\": 1,\n"
	"  \"services\": {\n"
	"    \"any\":  [{ \"proto\": \"any\" }],\n"
	"    \"tcp\":  [{ \"proto\": \"tcp\" }],\n"
	"    \"ntp\":  [{ \"proto\": \"udp\", \"ports\": [123] }],\n"
	"    \"web\":  [{ \"proto\": \"tcp\", \"ports\": [443, 80] }],\n"
	"    \"ping\": [{ \"proto\": \"icmp\" }, { \"proto\": \"icmpv6\" }]\n"
	"  },\n"
	"  \"segments\": {\n"
	"    \"lab\": {\n"
	"      \"intra\": \"allow\",\n"
	"      \"mode\": \"audit\",\n"
	"      \"members\": {\n"
	"        \"cidr\": [\"10.70.0.0/24\", \"fd00:70::/64\", \"10.70.1.1/32\", \"fd00:70:1::1/128\"],\n"
	"        \"mac\": [\"02:00:00:70:00:01\"],\n"
	"        \"devices\": [\n"
	"          { \"name\": \"scale\", \"mac\": \"02:00:00:70:00:11\" },\n"
	"          { \"name\": \"analyzer\", \"ipv6\": \"fd00:70::10\", \"ipv4\": \"10.70.0.10\", \"mac\": \"02:00:00:70:00:10\" }\n"
	"        ]\n"
	"      }\n"
	"    },\n"
	"    \"mgmt\": { \"members\": { \"ipv4\": [\"10.99.0.5\", \"10.99.0.5\"], \"ipv6\": [\"fd00:99::5\"] } },\n"
	"    \"app\": { \"members\": { \"cidr\": [\"10.80.0.0/16\", \"239.1.0.0/16\", \"ff00::/8\"] } }\n"
	"  },\n"
	"  \"rules\": [\n"
	"    { \"name\": \"mgmt-all\", \"from\": [\"mgmt\"], \"to\": [\"*\"], \"services\": [\"any\"] },\n"
	"    { \"name\": \"lab-out\", \"from\": [\"lab\"], \"to\": [\"world\"], \"services\": [\"tcp\", \"ntp\"] },\n"
	"    { \"name\": \"probe\", \"from\": [\"analyzer\", \"lab\"], \"to\": [\"mgmt\"], \"services\": [\"ping\", \"ping\"] },\n"
	"    { \"name\": \"web\", \"from\": [\"gateway\"], \"to\": [\"app\"], \"services\": [\"web\"] },\n"
	"    { \"name\": \"web-again\", \"from\": [\"gateway\"], \"to\": [\"app\", \"app\"], \"services\": [\"web\", \"tcp\"] }\n"
	"  ]\n"
	"}\n";

static const char features_want[] =
	"id 1 1 1 world\n"
	"id 2 1 2 gateway\n"
	"id 16 2 16 app\n"
	"id 17 2 17 lab\n"
	"id 18 2 18 mgmt\n"
	"id 19 3 17 analyzer\n"
	"id 20 3 17 scale\n"
	"host4 10.70.0.10 19/17/3/02:00:00:70:00:10\n"
	"host4 10.70.1.1 17/17/2\n"
	"host4 10.99.0.5 18/18/0\n"
	"host4 255.255.255.255 2/2/4\n"
	"host6 fd00:70::10 19/17/3/02:00:00:70:00:10\n"
	"host6 fd00:70:1::1 17/17/2\n"
	"host6 fd00:99::5 18/18/0\n"
	"lpm4 10.70.0.0/24 17/17/2\n"
	"lpm4 10.80.0.0/16 16/16/0\n"
	"lpm4 224.0.0.0/4 2/2/4\n"
	"lpm4 239.1.0.0/16 16/16/0\n"
	"lpm6 fd00:70::/64 17/17/2\n"
	"lpm6 fe80::/10 2/2/4\n"
	"lpm6 ff00::/8 16/16/0\n"
	"mac 02:00:00:70:00:01 17/17/2\n"
	"mac 02:00:00:70:00:10 19/17/2\n"
	"mac 02:00:00:70:00:11 20/17/2\n"
	"allow 2 16 6 0 web-again\n"
	"allow 2 16 6 80 web\n"
	"allow 2 16 6 443 web\n"
	"allow 17 1 6 0 lab-out\n"
	"allow 17 1 17 123 lab-out\n"
	"allow 17 17 0 0 intra:lab\n"
	"allow 17 18 1 0 probe\n"
	"allow 17 18 58 0 probe\n"
	"allow 17 19 0 0 intra:lab\n"
	"allow 17 20 0 0 intra:lab\n"
	"allow 18 1 0 0 mgmt-all\n"
	"allow 18 2 0 0 mgmt-all\n"
	"allow 18 16 0 0 mgmt-all\n"
	"allow 18 17 0 0 mgmt-all\n"
	"allow 18 18 0 0 mgmt-all\n"
	"allow 18 19 0 0 mgmt-all\n"
	"allow 18 20 0 0 mgmt-all\n"
	"allow 19 1 6 0 lab-out\n"
	"allow 19 1 17 123 lab-out\n"
	"allow 19 17 0 0 intra:lab\n"
	"allow 19 18 1 0 probe\n"
	"allow 19 18 58 0 probe\n"
	"allow 19 19 0 0 intra:lab\n"
	"allow 19 20 0 0 intra:lab\n"
	"allow 20 1 6 0 lab-out\n"
	"allow 20 1 17 123 lab-out\n"
	"allow 20 17 0 0 intra:lab\n"
	"allow 20 18 1 0 probe\n"
	"allow 20 18 58 0 probe\n"
	"allow 20 19 0 0 intra:lab\n"
	"allow 20 20 0 0 intra:lab\n";


/* isolation.still_allowed: (ISOLATED, T, svc) and (T, ISOLATED, svc), and
 * explain's step 7b (docs/datapath.md). */
static void test_isolation(void **state)
{
	static const char *const text =
		"{\"version\": 1,"
		" \"services\": {\"ssh\": [{\"proto\": \"tcp\", \"ports\": [22]}],"
		"   \"ping\": [{\"proto\": \"icmp\"}]},"
		" \"segments\": {\"ehr\": {\"members\": {\"cidr\": [\"10.10.0.0/24\"]}},"
		"   \"soc\": {\"members\": {\"ipv4\": [\"10.99.0.5\"]}}},"
		" \"rules\": [{\"name\": \"r\", \"from\": [\"ehr\"], \"to\": [\"ehr\"], \"services\": [\"ssh\"]}],"
		" \"isolation\": {\"still_allowed\": [{\"to\": \"soc\", \"services\": [\"ssh\", \"ping\"]}]}}";
	struct cfg_policy *cfg = parse_text(text);
	struct comp_policy *p;
	struct comp_probe q;
	struct comp_verdict v;
	size_t i, n_iso = 0;

	(void)state;
	p = build(cfg, NULL, 0, NULL, 0);
	for (i = 0; i < p->n_allows; i++) {
		const struct comp_allow *a = &p->allows[i];

		if (a->src_id != SEGD_ID_ISOLATED && a->dst_id != SEGD_ID_ISOLATED)
			continue;
		n_iso++;
		assert_string_equal(p->rule_names[a->rule],
				    "isolation.still_allowed[0]");
	}
	assert_int_equal(n_iso, 4);	/* ssh and icmp, both ways */

	memset(&q, 0, sizeof(q));
	q.family = AF_INET;
	inet_pton(AF_INET, "10.10.0.10", q.src);
	inet_pton(AF_INET, "10.10.0.20", q.dst);
	q.proto = IPPROTO_TCP;
	q.dport = 22;
	comp_explain(p, &q, &v);
	assert_int_equal(v.reason, SEGD_REASON_ALLOWED);
	q.src_isolated = true;
	comp_explain(p, &q, &v);
	assert_int_equal(v.verdict, SEGD_VERDICT_DROP);
	assert_int_equal(v.reason, SEGD_REASON_ISOLATED);
	q.src_isolated = false;
	q.dst_isolated = true;
	comp_explain(p, &q, &v);
	assert_int_equal(v.reason, SEGD_REASON_ISOLATED);
	/* to the remediation target, and from it */
	inet_pton(AF_INET, "10.99.0.5", q.dst);
	q.dst_isolated = false;
	q.src_isolated = true;
	comp_explain(p, &q, &v);
	assert_int_equal(v.verdict, SEGD_VERDICT_PASS);
	assert_int_equal(v.reason, SEGD_REASON_ALLOWED);
	assert_string_equal(p->rule_names[v.rule], "isolation.still_allowed[0]");
	q.dport = 443;
	comp_explain(p, &q, &v);
	assert_int_equal(v.reason, SEGD_REASON_ISOLATED);
	memcpy(q.dst, q.src, 16);
	inet_pton(AF_INET, "10.99.0.5", q.src);
	q.src_isolated = false;
	q.dst_isolated = true;
	q.proto = IPPROTO_ICMP;
	q.icmp_type = 0;	/* echo reply to the target's ping */
	comp_explain(p, &q, &v);
	assert_int_equal(v.reason, SEGD_REASON_ALLOWED);
	comp_free(p);
	cfg_policy_free(cfg);
}

/* Break-glass: the services table (comp_svc) and explain's step 11b,
 * with segment and device ends, after policy, never over isolation. */
static void test_breakglass(void **state)
{
	static const char *const text =
		"{\"version\": 1,"
		" \"services\": {\"dicom\": [{\"proto\": \"tcp\", \"ports\": [104, 11112]}],"
		"   \"ping\": [{\"proto\": \"icmp\"}], \"all-udp\": [{\"proto\": \"udp\"}]},"
		" \"segments\": {\"guest\": {\"members\": {\"cidr\": [\"10.40.0.0/24\"]}},"
		"   \"pacs\": {\"members\": {\"ipv4\": [\"10.30.0.10\"],"
		"     \"devices\": [{\"name\": \"viewer\", \"ipv4\": \"10.30.0.20\"}]}}},"
		" \"rules\": []}";
	struct cfg_policy *cfg = parse_text(text);
	struct comp_policy *p;
	struct segd_bg_key bg[2];
	struct comp_probe q;
	struct comp_verdict v;
	uint32_t guest = 0, pacs = 0, viewer = 0;
	size_t i, n_dicom = 0;

	(void)state;
	p = build(cfg, NULL, 0, NULL, 0);
	for (i = 0; i < p->n_ids; i++) {
		if (!strcmp(p->ids[i].name, "guest"))
			guest = p->ids[i].id;
		if (!strcmp(p->ids[i].name, "pacs"))
			pacs = p->ids[i].id;
		if (!strcmp(p->ids[i].name, "viewer"))
			viewer = p->ids[i].id;
	}
	assert_true(guest && pacs && viewer);
	assert_int_equal(p->n_svcs, 4);
	for (i = 0; i < p->n_svcs; i++) {
		if (!strcmp(p->svcs[i].name, "dicom")) {
			assert_int_equal(p->svcs[i].proto, IPPROTO_TCP);
			assert_true(p->svcs[i].port == 104 || p->svcs[i].port == 11112);
			n_dicom++;
		} else {
			assert_int_equal(p->svcs[i].port, 0);
		}
	}
	assert_int_equal(n_dicom, 2);

	memset(&q, 0, sizeof(q));
	memset(bg, 0, sizeof(bg));
	q.family = AF_INET;
	inet_pton(AF_INET, "10.40.0.9", q.src);
	inet_pton(AF_INET, "10.30.0.20", q.dst);	/* the viewer device */
	q.proto = IPPROTO_TCP;
	q.dport = 104;
	comp_explain(p, &q, &v);
	assert_int_equal(v.reason, SEGD_REASON_POLICY);
	/* segment pacs covers its device */
	bg[0].src_id = guest;
	bg[0].dst_id = pacs;
	bg[0].proto = IPPROTO_TCP;
	bg[0].port = 104;
	q.bg = bg;
	q.n_bg = 1;
	comp_explain(p, &q, &v);
	assert_int_equal(v.verdict, SEGD_VERDICT_PASS);
	assert_int_equal(v.reason, SEGD_REASON_BREAKGLASS);
	q.dport = 105;
	comp_explain(p, &q, &v);
	assert_int_equal(v.reason, SEGD_REASON_POLICY);
	/* a device end: the viewer only, not the rest of pacs */
	bg[0].dst_id = viewer;
	bg[0].port = 0;		/* any port of tcp */
	comp_explain(p, &q, &v);
	assert_int_equal(v.reason, SEGD_REASON_BREAKGLASS);
	inet_pton(AF_INET, "10.30.0.10", q.dst);
	comp_explain(p, &q, &v);
	assert_int_equal(v.reason, SEGD_REASON_POLICY);
	/* isolation wins */
	inet_pton(AF_INET, "10.30.0.20", q.dst);
	q.src_isolated = true;
	comp_explain(p, &q, &v);
	assert_int_equal(v.reason, SEGD_REASON_ISOLATED);
	comp_free(p);
	cfg_policy_free(cfg);
}

static void test_features(void **state)
{
	struct cfg_policy *cfg = parse_text(features_json);
	struct comp_policy *p;
	static const char *const rules[] = { "mgmt-all", "lab-out", "probe",
					     "web", "web-again", "intra:lab" };
	size_t i;

	(void)state;
	p = build(cfg, NULL, 0, NULL, 0);
	assert_dump(p, features_want);
	assert_int_equal(p->n_rules, 6);
	for (i = 0; i < 6; i++)
		assert_string_equal(p->rule_names[i], rules[i]);
	comp_free(p);
	cfg_policy_free(cfg);
}

static const struct probe_case feature_probes[] = {
	{ "lab member to lab member: intra allow", "10.70.0.5", "10.70.0.6",
	  NULL, UDP, 9999, 0, 0, "pass", "allowed", 17, 17, "intra:lab" },
	{ "analyzer to a lab host", "fd00:70::10", "fd00:70::5", NULL, TCP, 22,
	  0, 0, "pass", "allowed", 19, 17, "intra:lab" },
	{ "lab any tcp out", "10.70.0.5", "198.51.100.1", NULL, TCP, 8080, 0, 0,
	  "pass", "allowed", 17, 1, "lab-out" },
	{ "lab udp out is audited, not dropped", "10.70.0.5", "198.51.100.1",
	  NULL, UDP, 53, 0, 0, "pass", "audit", 17, 1, NULL },
	{ "world into audit segment", "198.51.100.1", "10.70.0.5", NULL, TCP,
	  22, 0, 0, "pass", "audit", 1, 17, NULL },
	{ "analyzer spoofed is dropped even in audit", "10.70.0.10",
	  "10.99.0.5", "02:00:00:70:00:99", ICMP, 0, 8, 0, "drop", "spoofed",
	  19, 18, NULL },
	{ "analyzer pings mgmt", "10.70.0.10", "10.99.0.5", "02:00:00:70:00:10",
	  ICMP, 0, 8, 0, "pass", "allowed", 19, 18, "probe" },
	{ "mgmt anything anywhere", "10.99.0.5", "10.80.1.1", NULL, 132, 0, 0, 0,
	  "pass", "allowed", 18, 16, "mgmt-all" },
	{ "mgmt v6 to an undeclared host", "fd00:99::5", "fd00:99::1", NULL, TCP, 22, 0,
	  0, "pass", "allowed", 18, 1, "mgmt-all" },
	{ "mgmt echo reply to lab: allowed by mgmt-all itself", "10.99.0.5",
	  "10.70.0.5", NULL, ICMP, 0, 0, 0, "pass", "allowed", 18, 17,
	  "mgmt-all" },
	{ "app to world: enforce", "10.80.0.1", "198.51.100.1", NULL, TCP, 443,
	  0, 0, "drop", "policy", 16, 1, NULL },
	{ "scale by MAC", "0.0.0.0", "10.70.0.1", "02:00:00:70:00:11", UDP, 123,
	  0, 0, "pass", "allowed", 20, 17, "intra:lab" },
	{ "MAC member known by MAC", "10.1.1.1", "198.51.100.1",
	  "02:00:00:70:00:01", UDP, 123, 0, 0, "pass", "allowed", 17, 1,
	  "lab-out" },
	{ "member prefix inside multicast beats the built-in", "10.99.0.5",
	  "239.1.2.3", NULL, UDP, 5004, 0, 0, "pass", "allowed", 18, 16,
	  "mgmt-all" },
	{ "other multicast stays the gateway's", "10.99.0.5", "224.0.0.5", NULL,
	  UDP, 5004, 0, 0, "pass", "allowed", 18, 2, "mgmt-all" },
	{ "member with a built-in's key keeps it", "fd00:99::5", "ff02::1:2",
	  NULL, UDP, 547, 0, 546, "pass", "allowed", 18, 16, "mgmt-all" },
	{ "DHCPv6 to a member's multicast is not local", "fd00:70::5",
	  "ff02::1:2", NULL, UDP, 547, 0, 546, "pass", "audit", 17, 16, NULL },
	{ "link-local stays the gateway's", "fd00:70::5", "fe80::1", NULL, UDP,
	  547, 0, 546, "pass", "local", 17, 2, NULL },
};

static void test_features_explain(void **state)
{
	struct cfg_policy *cfg = parse_text(features_json);
	struct comp_gw_addr gw = gw_addr("10.80.0.1");
	struct comp_policy *p;
	struct comp_probe q;
	struct comp_verdict v;

	(void)state;
	p = build(cfg, NULL, 0, NULL, 0);
	/* the gateway 10.80.0.1 is not declared here: app prefix wins */
	run_probes(p, feature_probes,
		   sizeof(feature_probes) / sizeof(feature_probes[0]));

	/* global audit flag: every would-be drop passes as audit */
	memset(&q, 0, sizeof(q));
	q.family = AF_INET;
	inet_pton(AF_INET, "10.80.0.1", q.src);
	inet_pton(AF_INET, "198.51.100.1", q.dst);
	q.proto = IPPROTO_TCP;
	q.dport = 443;
	p->flags |= SEGD_CFG_AUDIT;
	comp_explain(p, &q, &v);
	assert_string_equal(comp_reason_name(v.reason), "audit");
	assert_int_equal(v.verdict, SEGD_VERDICT_PASS);
	assert_false(v.has_rule);
	comp_free(p);

	/* with the gateway address declared, it is the gateway's */
	p = build(cfg, &gw, 1, NULL, 0);
	comp_explain(p, &q, &v);
	assert_int_equal(v.src.id, SEGD_ID_GATEWAY);
	assert_int_equal(v.src.seg, SEGD_ID_GATEWAY);
	assert_string_equal(comp_reason_name(v.reason), "policy");
	comp_free(p);
	cfg_policy_free(cfg);
}

/* ---------------------------------------------------------------- */
/* Identity hints                                                     */
/* ---------------------------------------------------------------- */

static struct comp_id_hint hint(const char *name, uint32_t kind, uint32_t id)
{
	struct comp_id_hint h;

	memset(&h, 0, sizeof(h));
	snprintf(h.name, sizeof(h.name), "%s", name);
	h.kind = kind;
	h.id = id;
	return h;
}

static void test_hints(void **state)
{
	struct cfg_policy *cfg = parse_file(HOSPITAL);
	struct comp_id_hint h[8];
	struct comp_policy *p;
	char *got;

	(void)state;
	h[0] = hint("ehr", SEGD_KIND_SEGMENT, 40);	/* kept */
	h[1] = hint("pump-7", SEGD_KIND_DEVICE, 16);	/* kept */
	h[2] = hint("pacs", SEGD_KIND_DEVICE, 17);	/* wrong kind: retired */
	h[3] = hint("guest", SEGD_KIND_SEGMENT, 1);	/* reserved id */
	h[4] = hint("iomt", SEGD_KIND_SEGMENT, SEGD_MAX_IDENTITIES); /* too big */
	h[5] = hint("gone", SEGD_KIND_SEGMENT, 18);	/* retired: reserved */
	h[6] = hint("world", SEGD_KIND_BUILTIN, 30);	/* built-ins fixed */
	h[7] = hint("pacs", SEGD_KIND_SEGMENT, 40);	/* id taken by ehr */
	p = build(cfg, NULL, 0, h, 8);
	got = dump(p);
	/* hinted names first; ids of retired names (17, 18) stay reserved so
	 * no new segment inherits their counters; then the lowest free ids in
	 * name order */
	assert_non_null(strstr(got,
			       "id 1 1 1 world\n"
			       "id 2 1 2 gateway\n"
			       "id 16 3 20 pump-7\n"
			       "id 19 2 19 guest\n"
			       "id 20 2 20 iomt\n"
			       "id 21 2 21 pacs\n"
			       "id 40 2 40 ehr\n"));
	assert_null(comp_identity(p, 17));
	assert_null(comp_identity(p, 18));
	assert_null(comp_identity(p, 30));
	assert_non_null(strstr(got, "host4 10.20.0.7 16/20/1/02:00:00:20:00:07\n"));
	assert_non_null(strstr(got, "lpm4 10.10.0.0/24 40/40/0\n"));
	assert_non_null(strstr(got, "allow 16 21 6 104 modalities-store\n"));
	assert_non_null(strstr(got, "allow 16 40 6 2575 pump-hl7\n"));
	free(got);
	comp_free(p);

	/* same hints, same answer; no hints: names in order from 16 */
	p = build(cfg, NULL, 0, h, 8);
	assert_int_equal(comp_identity(p, 40)->kind, SEGD_KIND_SEGMENT);
	comp_free(p);
	cfg_policy_free(cfg);
}

/* A segment renamed gets a new id (its old one stays reserved, with its
 * counters); the others keep their ids. */
static void test_hints_across_generations(void **state)
{
	struct cfg_policy *a = parse_file(HOSPITAL), *b;
	struct comp_policy *pa, *pb;
	struct comp_id_hint *h;
	char *text, *at;
	size_t i;

	(void)state;
	pa = build(a, NULL, 0, NULL, 0);
	h = calloc(pa->n_ids, sizeof(*h));
	for (i = 0; i < pa->n_ids; i++)
		h[i] = hint(pa->ids[i].name, pa->ids[i].kind, pa->ids[i].id);

	/* next generation: "ehr" becomes "emr" (sorts after guest) */
	{
		FILE *f = fopen(HOSPITAL, "r");
		size_t n;

		assert_non_null(f);
		text = calloc(1, 1 << 16);
		n = fread(text, 1, (1 << 16) - 1, f);
		fclose(f);
		text[n] = '\0';
		while ((at = strstr(text, "\"ehr\"")))
			memcpy(at, "\"emr\"", 5);
	}
	b = parse_text(text);
	pb = build(b, NULL, 0, h, pa->n_ids);
	assert_string_equal(comp_identity(pb, 17)->name, "guest");
	assert_string_equal(comp_identity(pb, 18)->name, "iomt");
	assert_string_equal(comp_identity(pb, 19)->name, "pacs");
	assert_string_equal(comp_identity(pb, 20)->name, "pump-7");
	assert_string_equal(comp_identity(pb, 21)->name, "emr");
	assert_null(comp_identity(pb, 16));	/* ehr's id, retired */
	comp_free(pa);
	comp_free(pb);
	cfg_policy_free(a);
	cfg_policy_free(b);
	free(h);
	free(text);
}

/* ---------------------------------------------------------------- */
/* Errors                                                             */
/* ---------------------------------------------------------------- */

static const char conflict_json[] =
	"{\"version\": 1,\n"
	" \"segments\": {\n"
	"  \"pacs\": {\"members\": {\"cidr\": [\"10.30.0.0/24\", \"10.30.1.1/32\"], \"ipv6\": [\"fd00:30::1\"]}},\n"
	"  \"iomt\": {\"members\": {\"devices\": [{\"name\": \"pump-7\", \"ipv4\": \"10.20.0.7\", \"ipv6\": \"fd00:20::7\"}]}}\n"
	" },\n"
	" \"services\": {\"x\": [{\"proto\": \"any\"}]},\n"
	" \"rules\": [{\"name\": \"r\", \"from\": [\"iomt\"], \"to\": [\"pacs\"], \"services\": [\"x\"]}]\n"
	"}\n";

static void expect_build_error(const struct cfg_policy *cfg, const char *gw,
			       int want_ret, const char *want)
{
	struct comp_gw_addr g = gw_addr(gw);
	struct comp_policy *p = (struct comp_policy *)1;
	char err[512] = "";

	assert_int_equal(comp_build(cfg, &g, 1, NULL, 0, &p, err, sizeof(err)),
			 want_ret);
	assert_null(p);
	assert_string_equal(err, want);
}

static void test_gateway_conflicts(void **state)
{
	struct cfg_policy *cfg;
	struct comp_policy *p;
	struct comp_gw_addr g;
	char err[256];

	(void)state;
	cfg = parse_text(conflict_json);
	expect_build_error(cfg, "10.30.1.1", -EINVAL,
			   "t.json:3:49: error: 10.30.1.1 is an address of this gateway, so it cannot be a member of segment \"pacs\"");
	expect_build_error(cfg, "fd00:30::1", -EINVAL,
			   "t.json:3:75: error: fd00:30::1 is an address of this gateway, so it cannot be a member of segment \"pacs\"");
	expect_build_error(cfg, "10.20.0.7", -EINVAL,
			   "t.json:4:63: error: 10.20.0.7 is an address of this gateway, so it cannot be the address of device \"pump-7\"");
	expect_build_error(cfg, "fd00:20::7", -EINVAL,
			   "t.json:4:84: error: fd00:20::7 is an address of this gateway, so it cannot be the address of device \"pump-7\"");

	/* inside a prefix is fine: the host entry wins */
	g = gw_addr("10.30.0.1");
	assert_int_equal(comp_build(cfg, &g, 1, NULL, 0, &p, err, sizeof(err)),
			 0);
	comp_free(p);

	/* bad arguments */
	g.family = 99;
	assert_int_equal(comp_build(cfg, &g, 1, NULL, 0, &p, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "gateway address 0: unknown address family 99");
	assert_int_equal(comp_build(NULL, NULL, 0, NULL, 0, &p, err,
				    sizeof(err)),
			 -EINVAL);
	assert_int_equal(comp_build(cfg, NULL, 1, NULL, 0, &p, err,
				    sizeof(err)),
			 -EINVAL);
	cfg_policy_free(cfg);
}

/* More segments and devices than the names map can hold. */
static void test_too_many_identities(void **state)
{
	const size_t n = SEGD_MAX_IDENTITIES - SEGD_ID_FIRST + 1;
	struct comp_policy *p = (struct comp_policy *)1;
	struct cfg_policy *cfg;
	size_t cap = n * 64 + 256, o = 0, i;
	char *text = malloc(cap), err[256];

	(void)state;
	assert_non_null(text);
	o += (size_t)snprintf(text + o, cap - o,
			      "{\"version\": 1, \"segments\": {\"s\": {\"members\": {\"devices\": [\n");
	for (i = 0; i < n - 1; i++)
		o += (size_t)snprintf(text + o, cap - o,
				      "%s{\"name\": \"d%zu\", \"ipv4\": \"10.%zu.%zu.1\"}\n",
				      i ? "," : "", i, i / 256, i % 256);
	snprintf(text + o, cap - o, "]}}}}\n");
	cfg = parse_text(text);
	assert_int_equal(cfg->n_devices, n - 1);
	assert_int_equal(comp_build(cfg, NULL, 0, NULL, 0, &p, err, sizeof(err)),
			 -ENOSPC);
	assert_null(p);
	assert_string_equal(err,
			    "too many segments and devices: at most 16368 identities");
	cfg_policy_free(cfg);
	free(text);
}

static void test_names(void **state)
{
	static const char *const reasons[] = {
		"allowed", "reply", "local", "fragment", "audit", "policy",
		"spoofed", "malformed", "unknown_ethertype", "isolated",
		"no_policy", "breakglass",
	};
	unsigned i;

	(void)state;
	assert_int_equal(SEGD_REASON__MAX, 12);
	for (i = 0; i < SEGD_REASON__MAX; i++)
		assert_string_equal(comp_reason_name(i), reasons[i]);
	assert_string_equal(comp_reason_name(SEGD_REASON__MAX), "invalid");
	assert_string_equal(comp_verdict_name(SEGD_VERDICT_PASS), "pass");
	assert_string_equal(comp_verdict_name(SEGD_VERDICT_DROP), "drop");
	assert_string_equal(comp_verdict_name(7), "invalid");
	comp_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_hospital_entries,
						hospital_setup,
						hospital_teardown),
		cmocka_unit_test_setup_teardown(test_identity_lookup,
						hospital_setup,
						hospital_teardown),
		cmocka_unit_test_setup_teardown(test_deterministic,
						hospital_setup,
						hospital_teardown),
		cmocka_unit_test_setup_teardown(test_hospital_explain,
						hospital_setup,
						hospital_teardown),
		cmocka_unit_test_setup_teardown(test_explain_endpoints,
						hospital_setup,
						hospital_teardown),
		cmocka_unit_test(test_features),
		cmocka_unit_test(test_isolation),
		cmocka_unit_test(test_features_explain),
		cmocka_unit_test(test_hints),
		cmocka_unit_test(test_hints_across_generations),
		cmocka_unit_test(test_gateway_conflicts),
		cmocka_unit_test(test_too_many_identities),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_breakglass),
	};

	return cmocka_run_group_tests_name("compile", tests, NULL, NULL);
}
