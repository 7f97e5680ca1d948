// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * rpf.c - the strict reverse-path check (docs/datapath.md step 9, bpf/rpf.h)
 * against a real FIB.
 *
 * The group runs in a private network namespace (unshare(CLONE_NEWNET)),
 * so no route of the machine is read or changed. There, with forwarding
 * on, three veth interfaces carry the hospital's subnets (their peers,
 * segdtest-?-p, stay up and unaddressed in the same namespace; Debian's
 * cloud kernels have no dummy module):
 *
 *   segdtest-a  10.1.0.1/16   2001:db8:1::1/48   ehr side
 *   segdtest-b  10.2.0.1/16   2001:db8:2::1/48   iomt side; also the host
 *               routes 10.1.0.50/32 and 2001:db8:1::50/128 (more specific
 *               than a's prefix), and 10.20.0.0/16, 2001:db8:20::/48 (lab)
 *               in table 100, reached only through `ip rule ... lookup
 *               100` (policy routing)
 *   segdtest-c  10.9.0.1/16                      guest side, IPv4
 *               forwarding OFF on it
 *   unreachable 10.3.0.0/16 and 2001:db8:3::/48 (pacs); no default route
 *
 * Each case runs one frame through the program loaded with segd_rpf = 1,
 * with the test run's ingress_ifindex set to the interface the frame
 * "arrived" on. The group teardown returns to the original namespace,
 * which drops the private one with every interface and route in it.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <netinet/in.h>
#include <linux/bpf.h>

#include "fixture.h"
#include "hospital.h"
#include "pkt.h"
#include "suites.h"

enum rpf_if { IF_A, IF_B, IF_C, IF__MAX };

static const char *const if_names[IF__MAX] = {
	"segdtest-a", "segdtest-b", "segdtest-c",
};

static struct {
	int orig_ns;		/* -1: still in the original namespace */
	const char *skip;	/* why the group cannot run, if it cannot */
	char err[160];		/* why setup failed, if it did */
	__u32 ifindex[IF__MAX];
	struct dp_env env;	/* the object loaded with segd_rpf = 1 */
	bool loaded;
	bool no_rules;		/* bench: no ip rule (the FIB's fast path) */
} rpf = { .orig_ns = -1 };

static int sh(const char *cmd)
{
	int rc = system(cmd);

	if (rc == -1)
		return -1;
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static int rpf_setup(void **state)
{
	int i, err;

	(void)state;
	if (sh("command -v ip >/dev/null")) {
		rpf.skip = "ip not installed";
		return 0;
	}
	rpf.orig_ns = dp_netns_enter();
	if (rpf.orig_ns < 0) {
		snprintf(rpf.err, sizeof(rpf.err), "private netns: %s",
			 strerror(errno));
		return 0;
	}
	if (sh("set -e; exec >/dev/null 2>&1\n"
	       "ip link set lo up\n"
	       "echo 1 >/proc/sys/net/ipv4/conf/all/forwarding\n"
	       "echo 1 >/proc/sys/net/ipv6/conf/all/forwarding\n"
	       "for i in a b c; do ip link add segdtest-$i type veth peer "
	       "name segdtest-$i-p; ip link set segdtest-$i-p up; "
	       "ip link set segdtest-$i up; done\n"
	       "echo 0 >/proc/sys/net/ipv4/conf/segdtest-c/forwarding\n"
	       "ip addr add 10.1.0.1/16 dev segdtest-a\n"
	       "ip addr add 10.2.0.1/16 dev segdtest-b\n"
	       "ip addr add 10.9.0.1/16 dev segdtest-c\n"
	       "ip -6 addr add 2001:db8:1::1/48 dev segdtest-a nodad\n"
	       "ip -6 addr add 2001:db8:2::1/48 dev segdtest-b nodad\n"
	       "ip route add 10.1.0.50/32 dev segdtest-b\n"
	       "ip -6 route add 2001:db8:1::50/128 dev segdtest-b\n"
	       "ip route add unreachable 10.3.0.0/16\n"
	       "ip -6 route add unreachable 2001:db8:3::/48\n") ||
	    (!rpf.no_rules &&
	     sh("set -e; exec >/dev/null 2>&1\n"
		"ip rule add to 10.20.0.0/16 lookup 100\n"
		"ip route add 10.20.0.0/16 dev segdtest-b table 100\n"
		"ip -6 rule add to 2001:db8:20::/48 lookup 100\n"
		"ip -6 route add 2001:db8:20::/48 dev segdtest-b table 100\n"))) {
		snprintf(rpf.err, sizeof(rpf.err), "interfaces and routes failed");
		return 0;
	}
	/* IPv6 installs local and link-local routes from a work queue (see
	 * ct.c): wait for the ones the cases rely on, up to 3 seconds. */
	if (sh("for i in $(seq 150); do "
	       "ip -6 route show table local | grep -q '^local 2001:db8:1::1 ' && "
	       "ip -6 route show dev segdtest-a | grep -q '^fe80::/64' && "
	       "ip -6 route show dev segdtest-b | grep -q '^fe80::/64' && "
	       "exit 0; sleep 0.02; done; exit 1")) {
		snprintf(rpf.err, sizeof(rpf.err), "IPv6 routes did not appear");
		return 0;
	}
	for (i = 0; i < IF__MAX; i++) {
		rpf.ifindex[i] = if_nametoindex(if_names[i]);
		if (!rpf.ifindex[i]) {
			snprintf(rpf.err, sizeof(rpf.err), "%s: %s", if_names[i],
				 strerror(errno));
			return 0;
		}
	}
	dp_rpf = true;
	err = dp_env_open(&rpf.env, 0);
	dp_rpf = false;
	if (err) {
		snprintf(rpf.err, sizeof(rpf.err), "load with segd_rpf = 1: %s",
			 strerror(-err));
		return 0;
	}
	rpf.loaded = true;
	return 0;
}

static int rpf_teardown(void **state)
{
	(void)state;
	if (rpf.loaded)
		dp_env_close(&rpf.env);
	rpf.loaded = false;
	if (dp_netns_leave(rpf.orig_ns, "rpf")) {
		rpf.orig_ns = -1;
		return -1;
	}
	rpf.orig_ns = -1;
	return 0;
}

struct rpf_case {
	const char *name;
	enum rpf_if in;		/* the interface the frame arrives on */
	struct pkt_desc pkt;
	struct dp_expect want;
};

#define EHR4   "10.1.0.10"
#define EHR6   "2001:db8:1::10"
#define IOMT4  "10.2.0.77"
#define IOMT6  "2001:db8:2::77"
#define PACS4  "10.3.0.9"
#define PACS6  "2001:db8:3::9"
#define GUEST4 "10.9.0.8"
#define WORLD4 "198.51.100.7"
#define WORLD6 "2001:db8:ffff::7"
#define B4     "10.1.0.50"		/* in a's prefix, host route via b */
#define B6     "2001:db8:1::50"
#define LAB4   "10.20.0.4"		/* table 100, via b */
#define LAB6   "2001:db8:20::4"

#define SPOOFED(s, d) DROPS(s, d, SEGD_REASON_SPOOFED)

static const struct rpf_case rpf_cases[] = {
	/* IPv4 */
	{ "rpf4_right_interface", IF_A, { UDP4(EHR4, IOMT4, 5683) }, PASSES(ID_EHR, ID_IOMT, SEGD_REASON_ALLOWED) },
	{ "rpf4_wrong_interface", IF_B, { UDP4(EHR4, IOMT4, 5683) }, SPOOFED(ID_EHR, ID_IOMT) },
	/* The QA finding: an iomt source (iomt -> ehr: any) arriving on
	 * another segment's interface. */
	{ "rpf4_iomt_source_on_ehr_side", IF_A, { TCP4(IOMT4, EHR4, 5000) }, SPOOFED(ID_IOMT, ID_EHR) },
	{ "rpf4_iomt_source_on_iomt_side", IF_B, { TCP4(IOMT4, EHR4, 5000) }, PASSES(ID_IOMT, ID_EHR, SEGD_REASON_ALLOWED) },
	{ "rpf4_iomt_nonfirst_fragment_on_ehr_side", IF_A, { TCP4(IOMT4, EHR4, 5000), .frag = 185, .no_l4 = true }, SPOOFED(ID_IOMT, ID_EHR) },
	{ "rpf4_bound_device_right_interface", IF_B, { TCP4("10.2.0.5", EHR4, 8443), .smac = mac_pump }, PASSES(ID_IOMT, ID_EHR, SEGD_REASON_ALLOWED) },
	{ "rpf4_bound_device_wrong_interface", IF_A, { TCP4("10.2.0.5", EHR4, 8443), .smac = mac_pump }, SPOOFED(ID_IOMT, ID_EHR) },
	{ "rpf4_no_route", IF_A, { TCP4(WORLD4, EHR4, 443) }, SPOOFED(ID_WORLD, ID_EHR) },
	{ "rpf4_unreachable_route", IF_A, { ICMP4(PACS4, EHR4, 0) }, SPOOFED(ID_PACS, ID_EHR) },
	{ "rpf4_host_route_beats_prefix", IF_B, { TCP4(B4, PACS4, 443) }, PASSES(ID_EHR, ID_PACS, SEGD_REASON_ALLOWED) },
	{ "rpf4_host_route_prefix_side_spoofed", IF_A, { TCP4(B4, PACS4, 443) }, SPOOFED(ID_EHR, ID_PACS) },
	{ "rpf4_policy_routing_honoured", IF_B, { TCP4(LAB4, EHR4, 22) }, PASSES(ID_LAB, ID_EHR, SEGD_REASON_AUDIT) },
	/* Spoofed is dropped in audit mode too, like a wrong MAC. */
	{ "rpf4_policy_routing_other_interface", IF_A, { TCP4(LAB4, EHR4, 22) }, SPOOFED(ID_LAB, ID_EHR) },
	{ "rpf4_own_address_as_source", IF_A, { TCP4("10.1.0.1", PACS4, 443) }, SPOOFED(ID_EHR, ID_PACS) },
	{ "rpf4_forwarding_off_on_ingress", IF_C, { TCP4(GUEST4, WORLD4, 80) }, SPOOFED(ID_GUEST, ID_WORLD) },
	{ "rpf4_multicast_dst_right_interface", IF_A, { UDP4(EHR4, "224.0.0.251", 5353) }, DROPS(ID_EHR, ID_GW, SEGD_REASON_POLICY) },
	{ "rpf4_multicast_dst_wrong_interface", IF_B, { UDP4(EHR4, "224.0.0.251", 5353) }, SPOOFED(ID_EHR, ID_GW) },
	{ "rpf4_broadcast_source", IF_A, { TCP4("255.255.255.255", EHR4, 443) }, SPOOFED(ID_WORLD, ID_EHR) },
	{ "rpf4_dhcp_discover_local_before_rpf", IF_A, { UDP4("0.0.0.0", "255.255.255.255", 67), .sport = 68 }, PASSES(ID_WORLD, ID_GW, SEGD_REASON_LOCAL) },
	{ "rpf4_priority_tag_checked", IF_A, { TCP4(IOMT4, EHR4, 5000), .ntags = 1, .tags = { { 0x8100, 0 } } }, SPOOFED(ID_IOMT, ID_EHR) },
	/* XXX: tagged frames skip the check until VLAN devices can be named
	 * (segd.bpf.c step 9); this pins the known gap. */
	{ "rpf4_vlan_tagged_not_checked_xxx", IF_A, { TCP4(IOMT4, EHR4, 5000), .ntags = 1, .tags = { { 0x8100, 10 } } }, PASSES(ID_IOMT, ID_EHR, SEGD_REASON_ALLOWED) },

	/* IPv6 */
	{ "rpf6_right_interface", IF_A, { UDP6(EHR6, IOMT6, 5683) }, PASSES(ID_EHR, ID_IOMT, SEGD_REASON_ALLOWED) },
	{ "rpf6_wrong_interface", IF_B, { UDP6(EHR6, IOMT6, 5683) }, SPOOFED(ID_EHR, ID_IOMT) },
	{ "rpf6_iomt_source_on_ehr_side", IF_A, { TCP6(IOMT6, EHR6, 5000) }, SPOOFED(ID_IOMT, ID_EHR) },
	{ "rpf6_iomt_source_on_iomt_side", IF_B, { TCP6(IOMT6, EHR6, 5000) }, PASSES(ID_IOMT, ID_EHR, SEGD_REASON_ALLOWED) },
	{ "rpf6_no_route", IF_A, { TCP6(WORLD6, EHR6, 443) }, SPOOFED(ID_WORLD, ID_EHR) },
	{ "rpf6_unreachable_route", IF_A, { ICMP6(PACS6, EHR6, 129) }, SPOOFED(ID_PACS, ID_EHR) },
	{ "rpf6_host_route_beats_prefix", IF_B, { TCP6(B6, PACS6, 443) }, PASSES(ID_EHR, ID_PACS, SEGD_REASON_ALLOWED) },
	{ "rpf6_host_route_prefix_side_spoofed", IF_A, { TCP6(B6, PACS6, 443) }, SPOOFED(ID_EHR, ID_PACS) },
	{ "rpf6_policy_routing_honoured", IF_B, { UDP6(LAB6, PACS6, 161) }, PASSES(ID_LAB, ID_PACS, SEGD_REASON_AUDIT) },
	{ "rpf6_policy_routing_other_interface", IF_A, { UDP6(LAB6, PACS6, 161) }, SPOOFED(ID_LAB, ID_PACS) },
	{ "rpf6_own_address_as_source", IF_A, { TCP6("2001:db8:1::1", PACS6, 443) }, SPOOFED(ID_EHR, ID_PACS) },
	/* The kernel's IPv6 lookup refuses link-local and multicast ends:
	 * such destinations are looked up from ::, such sources not at all
	 * (bpf/rpf.h). */
	{ "rpf6_link_local_source_not_checked_on_a", IF_A, { TCP6("fe80::5", "fe80::1", 22) }, DROPS(ID_WORLD, ID_GW, SEGD_REASON_POLICY) },
	{ "rpf6_link_local_source_not_checked_on_b", IF_B, { TCP6("fe80::5", EHR6, 443) }, PASSES(ID_WORLD, ID_EHR, SEGD_REASON_ALLOWED) },
	{ "rpf6_link_local_dst_right_interface", IF_A, { TCP6(EHR6, "fe80::1", 22) }, PASSES(ID_EHR, ID_GW, SEGD_REASON_ALLOWED) },
	{ "rpf6_link_local_dst_wrong_interface", IF_B, { TCP6(EHR6, "fe80::1", 22) }, SPOOFED(ID_EHR, ID_GW) },
	{ "rpf6_multicast_dst_right_interface", IF_A, { UDP6(EHR6, "ff02::fb", 5353) }, DROPS(ID_EHR, ID_GW, SEGD_REASON_POLICY) },
	{ "rpf6_multicast_dst_wrong_interface", IF_B, { UDP6(EHR6, "ff02::fb", 5353) }, SPOOFED(ID_EHR, ID_GW) },
	{ "rpf6_multicast_source", IF_A, { UDP6("ff02::1", EHR6, 5353) }, SPOOFED(ID_WORLD, ID_EHR) },
	{ "rpf6_neighbor_solicitation_local_before_rpf", IF_B, { ICMP6(PACS6, "ff02::1:ff00:9", 135), .hlim = 255 }, PASSES(ID_PACS, ID_GW, SEGD_REASON_LOCAL) },
};

static void run_rpf_case(void **state)
{
	const struct rpf_case *c = *state;
	static struct frame fr;

	if (rpf.skip) {
		print_message("skip: %s\n", rpf.skip);
		skip();
	}
	if (rpf.err[0])
		fail_msg("rpf setup: %s", rpf.err);
	assert_int_equal(dp_env_reset(&rpf.env), 0);
	assert_int_equal(dp_seed(&rpf.env, hospital), 0);
	pkt_build(&fr, &c->pkt);
	rpf.env.ingress_ifindex = rpf.ifindex[c->in];
	dp_check(&rpf.env, fr.buf, fr.len, &c->want, c->name);
}

int rpf_run_tests(void)
{
	size_t n = sizeof(rpf_cases) / sizeof(rpf_cases[0]), i;
	struct CMUnitTest *tests;
	int failed;

	tests = calloc(n, sizeof(*tests));
	if (!tests)
		return 1;
	for (i = 0; i < n; i++) {
		tests[i].name = rpf_cases[i].name;
		tests[i].test_func = run_rpf_case;
		tests[i].initial_state = (void *)&rpf_cases[i];
	}
	failed = _cmocka_run_group_tests("datapath_rpf", tests, n, rpf_setup,
					 rpf_teardown);
	free(tests);
	return failed;
}

#define BENCH_ROUNDS 11
#define BENCH_REPEAT 1000000

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

/* Median ns per run of the frame on e (arriving on e->ingress_ifindex),
 * or a negative errno. */
static long bench_median(struct dp_env *e, const struct frame *f)
{
	__u32 d[BENCH_ROUNDS];
	int i, ret;

	for (i = 0; i < BENCH_ROUNDS; i++) {
		ret = dp_run(e, f->buf, f->len, BENCH_REPEAT, &d[i]);
		if (ret < 0)
			return ret;
	}
	qsort(d, BENCH_ROUNDS, sizeof(d[0]), cmp_u32);
	return d[BENCH_ROUNDS / 2];
}

/*
 * `test_datapath --bench`: what the reverse-path lookup costs. The same
 * frames, arriving on segdtest-a in the private namespace of the group,
 * through the object loaded with segd_rpf = 0 and = 1.
 */
static int rpf_bench_one(void)
{
	static const struct pkt_desc descs[] = {
		{ TCP4(EHR4, PACS4, 443) },	/* allowed */
		{ TCP4(EHR4, PACS4, 22) },	/* denied by policy */
		{ TCP6(EHR6, PACS6, 443) },	/* allowed */
	};
	static const char *const what[] = {
		"allowed tcp4 SYN", "denied  tcp4 SYN", "allowed tcp6 SYN",
	};
	static struct frame f;
	struct dp_env off;
	bool off_loaded = false;
	long ns[2];
	size_t i;
	int err;

	rpf_setup(NULL);
	if (rpf.skip || rpf.err[0]) {
		fprintf(stderr, "rpf bench: %s\n", rpf.skip ? rpf.skip : rpf.err);
		err = -EINVAL;
		goto out;
	}
	err = dp_env_open(&off, 0);
	if (err)
		goto out;
	off_loaded = true;
	off.ingress_ifindex = rpf.env.ingress_ifindex = rpf.ifindex[IF_A];
	err = dp_env_reset(&off);
	if (!err)
		err = dp_seed(&off, hospital);
	if (!err)
		err = dp_env_reset(&rpf.env);
	if (!err)
		err = dp_seed(&rpf.env, hospital);
	if (err)
		goto out;
	printf("reverse-path check, frames arriving on segdtest-a (repeat=%d, median of %d rounds)\n",
	       BENCH_REPEAT, BENCH_ROUNDS);
	for (i = 0; i < sizeof(descs) / sizeof(descs[0]); i++) {
		pkt_build(&f, &descs[i]);
		ns[0] = bench_median(&off, &f);
		ns[1] = bench_median(&rpf.env, &f);
		if (ns[0] < 0 || ns[1] < 0) {
			err = (int)(ns[0] < 0 ? ns[0] : ns[1]);
			goto out;
		}
		printf("  segd_xdp  %s (%zu bytes): %ld ns/run rpf off, %ld ns/run rpf on (+%ld)\n",
		       what[i], f.len, ns[0], ns[1], ns[1] - ns[0]);
	}
out:
	if (off_loaded)
		dp_env_close(&off);
	rpf_teardown(NULL);
	if (err)
		fprintf(stderr, "rpf bench: %s\n", strerror(-err));
	return err;
}

/* Without ip rules (main and local tables only: the FIB's fast path; the
 * kernel never forgets that a namespace once had a custom rule), then
 * with the group's one rule per family. */
int rpf_bench(void)
{
	int err;

	printf("without ip rules: ");
	rpf.no_rules = true;
	err = rpf_bench_one();
	rpf.no_rules = false;
	if (err)
		return err;
	printf("with one custom ip rule per family: ");
	return rpf_bench_one();
}
