// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * ct.c - replies through the kernel's conntrack (docs/datapath.md step
 * 12), against real conntrack entries.
 *
 * The group runs in a private network namespace (unshare(CLONE_NEWNET)),
 * so nothing of the machine's own conntrack table is read or changed.
 * There, lo carries the hospital's addresses, an nftables table
 * (segdtest-ct) makes conntrack track locally generated traffic, and real
 * sockets open TCP and UDP flows over IPv4 and IPv6 whose forward
 * direction the policy does NOT allow (ehr -> pacs tcp/22, udp/5353).
 * Frames built from those tuples then show that:
 *   - the reply direction passes with reason reply;
 *   - the original direction and an unrelated tuple are judged by policy;
 *   - a SYN without ACK is not looked up even when its tuple is a reply;
 *   - both opts sizes (12 and 16) work.
 * BPF_PROG_TEST_RUN looks up in the netns of the calling thread (its
 * loopback device is the frame's ingress device). The group teardown
 * deletes the nft table and returns to the original namespace, which
 * drops the private one with everything in it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <netinet/in.h>
#include <linux/bpf.h>

#include "fixture.h"
#include "hospital.h"
#include "pkt.h"
#include "suites.h"

#define CT_TABLE "segdtest-ct"

#define C4 "10.1.0.10"		/* ehr client */
#define S4 "10.3.0.9"		/* pacs server */
#define C6 "2001:db8:1::10"
#define S6 "2001:db8:3::9"
#define TCP_PORT 22		/* ehr -> pacs tcp/22: not allowed */
#define UDP_PORT 5353		/* ehr -> pacs udp: not allowed */

struct flow {
	int v;
	uint8_t proto;
	const char *client, *server;
	uint16_t cport, sport;
};

enum { F_TCP4, F_UDP4, F_TCP6, F_UDP6, F__MAX };

static struct {
	int orig_ns;		/* -1: still in the original namespace */
	bool nft;		/* table CT_TABLE exists */
	const char *skip;	/* why the group cannot run, if it cannot */
	char err[160];		/* why setup failed, if it did */
	int fds[16];
	int nfds;
	struct flow flow[F__MAX];
	struct dp_env env16;	/* the object loaded with opts__sz = 16 */
	bool env16_loaded;
} ct = { .orig_ns = -1 };

static int sh(const char *cmd)
{
	int rc = system(cmd);

	if (rc == -1)
		return -1;
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static int nft_apply(const char *ruleset)
{
	FILE *p = popen("nft -f - 2>&1", "w");

	if (!p)
		return -1;
	fputs(ruleset, p);
	return pclose(p) == 0 ? 0 : -1;
}

static int keep_fd(int fd)
{
	if (fd >= 0 && ct.nfds < (int)(sizeof(ct.fds) / sizeof(ct.fds[0])))
		ct.fds[ct.nfds++] = fd;
	return fd;
}

static socklen_t sockaddr_of(int v, const char *addr, uint16_t port,
			     struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (v == 4) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		inet_pton(AF_INET, addr, &sin->sin_addr);
		return sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		inet_pton(AF_INET6, addr, &sin6->sin6_addr);
		return sizeof(*sin6);
	}
}

static uint16_t local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		return 0;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

/* Opens one real flow client -> server and fills f->cport. The server's
 * answer (accept / recv) makes sure the entry is confirmed. On failure
 * nothing stays open. */
static int flow_open_once(struct flow *f)
{
	int type = f->proto == IPPROTO_TCP ? SOCK_STREAM : SOCK_DGRAM;
	int af = f->v == 4 ? AF_INET : AF_INET6, one = 1;
	struct timeval tv = { .tv_sec = 2 };
	struct sockaddr_storage srv, cli;
	int s, c, a = -1, err = 0;
	socklen_t slen, clen;
	char b;

	slen = sockaddr_of(f->v, f->server, f->sport, &srv);
	clen = sockaddr_of(f->v, f->client, 0, &cli);
	s = socket(af, type | SOCK_CLOEXEC, 0);
	c = socket(af, type | SOCK_CLOEXEC, 0);
	if (s < 0 || c < 0) {
		err = -errno;
		goto out;
	}
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (bind(s, (struct sockaddr *)&srv, slen) ||
	    bind(c, (struct sockaddr *)&cli, clen)) {
		err = -errno;
		goto out;
	}
	if (f->proto == IPPROTO_TCP) {
		if (listen(s, 1) || connect(c, (struct sockaddr *)&srv, slen) ||
		    (a = accept(s, NULL, NULL)) < 0)
			err = -errno;
	} else {
		if (sendto(c, "q", 1, 0, (struct sockaddr *)&srv, slen) != 1 ||
		    recv(s, &b, 1, 0) != 1)
			err = -errno;
	}
	if (!err) {
		f->cport = local_port(c);
		if (!f->cport)
			err = -EADDRNOTAVAIL;
	}
out:
	if (err) {
		if (s >= 0)
			close(s);
		if (c >= 0)
			close(c);
		if (a >= 0)
			close(a);
		return err;
	}
	keep_fd(s);
	keep_fd(c);
	if (a >= 0)
		keep_fd(a);
	return 0;
}

/*
 * IPv6 installs the local routes of new addresses from a work queue, even
 * with nodad, and under load they can be missing for a moment after
 * `ip addr add` (seen: ENETUNREACH from a TCP connect right after a UDP
 * connect found the route). So a flow that fails for want of an address
 * or a route is tried again, for up to about 3 seconds.
 */
static int flow_open(struct flow *f)
{
	int err = 0, i;

	for (i = 0; i < 150; i++) {
		err = flow_open_once(f);
		if (err != -ENETUNREACH && err != -EHOSTUNREACH &&
		    err != -EADDRNOTAVAIL && err != -EAGAIN)
			return err;
		usleep(20000);
	}
	return err;
}

static int ct_setup(void **state)
{
	static const struct {
		int v;
		uint8_t proto;
		const char *client, *server;
		uint16_t port;
	} flows[F__MAX] = {
		[F_TCP4] = { 4, IPPROTO_TCP, C4, S4, TCP_PORT },
		[F_UDP4] = { 4, IPPROTO_UDP, C4, S4, UDP_PORT },
		[F_TCP6] = { 6, IPPROTO_TCP, C6, S6, TCP_PORT },
		[F_UDP6] = { 6, IPPROTO_UDP, C6, S6, UDP_PORT },
	};
	int i, err;

	(void)state;
	if (sh("command -v nft >/dev/null && command -v ip >/dev/null")) {
		ct.skip = "nft or ip not installed";
		return 0;
	}
	ct.orig_ns = dp_netns_enter();
	if (ct.orig_ns < 0) {
		snprintf(ct.err, sizeof(ct.err), "private netns: %s", strerror(errno));
		return 0;
	}
	if (sh("ip link set lo up && "
	       "ip addr add " C4 "/32 dev lo && ip addr add " S4 "/32 dev lo && "
	       "ip addr add " C6 "/128 dev lo nodad && "
	       "ip addr add " S6 "/128 dev lo nodad")) {
		snprintf(ct.err, sizeof(ct.err), "addresses on lo failed");
		return 0;
	}
	/* Conntrack only tracks a namespace some netfilter user needs it in. */
	if (nft_apply("table inet " CT_TABLE " {\n"
		      "\tchain out {\n"
		      "\t\ttype filter hook output priority 0;\n"
		      "\t\tct state new accept\n"
		      "\t}\n"
		      "}\n")) {
		snprintf(ct.err, sizeof(ct.err), "nft table " CT_TABLE " failed");
		return 0;
	}
	ct.nft = true;
	for (i = 0; i < F__MAX; i++) {
		ct.flow[i].v = flows[i].v;
		ct.flow[i].proto = flows[i].proto;
		ct.flow[i].client = flows[i].client;
		ct.flow[i].server = flows[i].server;
		ct.flow[i].sport = flows[i].port;
		err = flow_open(&ct.flow[i]);
		if (err) {
			snprintf(ct.err, sizeof(ct.err), "flow %d: %s", i, strerror(-err));
			return 0;
		}
	}
	err = dp_env_open(&ct.env16, 16);
	if (err) {
		snprintf(ct.err, sizeof(ct.err), "load with opts 16: %s", strerror(-err));
		return 0;
	}
	ct.env16_loaded = true;
	return 0;
}

static int ct_teardown(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < ct.nfds; i++)
		close(ct.fds[i]);
	ct.nfds = 0;
	if (ct.nft && sh("nft delete table inet " CT_TABLE))
		fprintf(stderr, "ct: could not delete nft table " CT_TABLE "\n");
	ct.nft = false;
	if (ct.env16_loaded)
		dp_env_close(&ct.env16);
	ct.env16_loaded = false;
	if (dp_netns_leave(ct.orig_ns, "ct")) {
		ct.orig_ns = -1;
		return -1;
	}
	ct.orig_ns = -1;
	return 0;
}

static void ct_ready(void)
{
	if (ct.skip) {
		print_message("skip: %s\n", ct.skip);
		skip();
	}
	if (ct.err[0])
		fail_msg("conntrack setup: %s", ct.err);
}

enum dir { ORIGINAL, REPLY, UNRELATED };

/* A frame of flow f in the given direction; UNRELATED is the reply
 * direction with a client port conntrack does not know. */
static void flow_frame(struct frame *fr, const struct flow *f, enum dir d,
		       uint8_t tcp_flags)
{
	struct pkt_desc p = {
		.v = f->v,
		.proto = f->proto,
		.flags = tcp_flags,
		.payload = 16,
	};

	if (d == ORIGINAL) {
		p.src = f->client;
		p.dst = f->server;
		p.sport = f->cport;
		p.dport = f->sport;
	} else {
		p.src = f->server;
		p.dst = f->client;
		p.sport = f->sport;
		p.dport = d == REPLY ? f->cport : (uint16_t)(f->cport ^ 0x5a5a);
	}
	pkt_build(fr, &p);
}

struct ct_case {
	const char *name;
	bool opts16;		/* run on the object loaded with opts__sz 16 */
	bool audit;		/* global audit flag on */
	int flow;
	enum dir dir;
	uint8_t tcp_flags;
	struct dp_expect want;
};

#define ACK FR_TCP_ACK
#define SYN FR_TCP_SYN
#define SYNACK (FR_TCP_SYN | FR_TCP_ACK)
#define REPLIES PASSES(ID_PACS, ID_EHR, SEGD_REASON_REPLY)
#define DENIED_BACK DROPS(ID_PACS, ID_EHR, SEGD_REASON_POLICY)
#define DENIED_FWD DROPS(ID_EHR, ID_PACS, SEGD_REASON_POLICY)

static const struct ct_case ct_cases[] = {
	{ "ct_tcp4_reply", false, false, F_TCP4, REPLY, ACK, REPLIES },
	{ "ct_tcp4_synack_reply", false, false, F_TCP4, REPLY, SYNACK, REPLIES },
	{ "ct_tcp4_original_denied", false, false, F_TCP4, ORIGINAL, ACK, DENIED_FWD },
	{ "ct_tcp4_unrelated_denied", false, false, F_TCP4, UNRELATED, ACK, DENIED_BACK },
	/* The reply tuple, but SYN without ACK: never looked up. */
	{ "ct_tcp4_syn_not_looked_up", false, false, F_TCP4, REPLY, SYN, DENIED_BACK },
	{ "ct_udp4_reply", false, false, F_UDP4, REPLY, 0, REPLIES },
	{ "ct_udp4_original_denied", false, false, F_UDP4, ORIGINAL, 0, DENIED_FWD },
	{ "ct_udp4_unrelated_denied", false, false, F_UDP4, UNRELATED, 0, DENIED_BACK },
	{ "ct_tcp6_reply", false, false, F_TCP6, REPLY, ACK, REPLIES },
	{ "ct_tcp6_original_denied", false, false, F_TCP6, ORIGINAL, ACK, DENIED_FWD },
	{ "ct_tcp6_unrelated_denied", false, false, F_TCP6, UNRELATED, ACK, DENIED_BACK },
	{ "ct_tcp6_syn_not_looked_up", false, false, F_TCP6, REPLY, SYN, DENIED_BACK },
	{ "ct_udp6_reply", false, false, F_UDP6, REPLY, 0, REPLIES },
	{ "ct_udp6_original_denied", false, false, F_UDP6, ORIGINAL, 0, DENIED_FWD },
	{ "ct_udp6_unrelated_denied", false, false, F_UDP6, UNRELATED, 0, DENIED_BACK },
	/* opts__sz 16, the 6.12+ layout. */
	{ "ct_opts16_tcp4_reply", true, false, F_TCP4, REPLY, ACK, REPLIES },
	{ "ct_opts16_tcp4_original_denied", true, false, F_TCP4, ORIGINAL, ACK, DENIED_FWD },
	{ "ct_opts16_udp6_reply", true, false, F_UDP6, REPLY, 0, REPLIES },
	{ "ct_opts16_udp6_unrelated_denied", true, false, F_UDP6, UNRELATED, 0, DENIED_BACK },
	/* Audit lets an unknown tuple through as audit, never as reply. */
	{ "ct_tcp4_unrelated_global_audit", false, true, F_TCP4, UNRELATED, ACK,
	  PASSES(ID_PACS, ID_EHR, SEGD_REASON_AUDIT) },
};

static void run_ct_case(void **state)
{
	static const struct seed audit[] = {
		S_CFG(0, SEGD_CFG_LOADED | SEGD_CFG_AUDIT), S_END
	};
	const struct ct_case *c = *state;
	struct dp_env *e = c->opts16 ? &ct.env16 : dp;
	static struct frame fr;

	ct_ready();
	assert_int_equal(dp_env_reset(e), 0);
	assert_int_equal(dp_seed(e, hospital), 0);
	if (c->audit)
		assert_int_equal(dp_seed(e, audit), 0);
	flow_frame(&fr, &ct.flow[c->flow], c->dir, c->tcp_flags);
	dp_check(e, fr.buf, fr.len, &c->want, c->name);
}

int ct_run_tests(void)
{
	size_t n = sizeof(ct_cases) / sizeof(ct_cases[0]), i;
	struct CMUnitTest *tests;
	int failed;

	tests = calloc(n, sizeof(*tests));
	if (!tests)
		return 1;
	for (i = 0; i < n; i++) {
		tests[i].name = ct_cases[i].name;
		tests[i].test_func = run_ct_case;
		tests[i].initial_state = (void *)&ct_cases[i];
	}
	failed = _cmocka_run_group_tests("datapath_conntrack", tests, n,
					 ct_setup, ct_teardown);
	free(tests);
	return failed;
}
