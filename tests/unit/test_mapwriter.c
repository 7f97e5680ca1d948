// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * test_mapwriter.c - generation switches on real (unpinned, small) BPF
 * maps with the layouts of include/segd_abi.h: the first apply on empty
 * maps, the switch to the other slot, the old slot's removal, the capacity
 * check that changes nothing, leftovers of a dead apply, id hints.
 *
 * Needs CAP_BPF (root); every test is skipped without it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "mapwriter.h"

#define CAP_HOST 8	/* small, so the capacity check is easy to hit */

static struct mapw_fds fds;

static int mk(enum bpf_map_type type, const char *name, size_t key,
	      size_t val, unsigned max, unsigned flags)
{
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = flags);

	return bpf_map_create(type, name, (unsigned)key, (unsigned)val, max, &o);
}

static int setup(void **state)
{
	(void)state;
	memset(&fds, -1, sizeof(fds));
	libbpf_set_print(NULL);
	fds.config = mk(BPF_MAP_TYPE_ARRAY, "t_config", 4,
			sizeof(struct segd_config), 1, 0);
	if (fds.config < 0)
		return 0;	/* no privilege: tests skip */
	fds.host4 = mk(BPF_MAP_TYPE_HASH, "t_host4", sizeof(struct segd_host4_key),
		       sizeof(struct segd_endpoint), CAP_HOST, 0);
	fds.host6 = mk(BPF_MAP_TYPE_HASH, "t_host6", sizeof(struct segd_host6_key),
		       sizeof(struct segd_endpoint), 64, 0);
	fds.lpm4 = mk(BPF_MAP_TYPE_LPM_TRIE, "t_lpm4", sizeof(struct segd_lpm4_key),
		      sizeof(struct segd_endpoint), 64, BPF_F_NO_PREALLOC);
	fds.lpm6 = mk(BPF_MAP_TYPE_LPM_TRIE, "t_lpm6", sizeof(struct segd_lpm6_key),
		      sizeof(struct segd_endpoint), 64, BPF_F_NO_PREALLOC);
	fds.mac = mk(BPF_MAP_TYPE_HASH, "t_mac", sizeof(struct segd_mac_key),
		     sizeof(struct segd_endpoint), 64, 0);
	fds.policy = mk(BPF_MAP_TYPE_HASH, "t_policy", sizeof(struct segd_policy_key),
			sizeof(struct segd_policy_value), 64, 0);
	fds.counters = mk(BPF_MAP_TYPE_PERCPU_HASH, "t_counters",
			  sizeof(struct segd_counter_key),
			  sizeof(struct segd_counter_value), 64, 0);
	fds.names = mk(BPF_MAP_TYPE_ARRAY, "t_names", 4, sizeof(struct segd_name),
		       64, 0);
	if (fds.host4 < 0 || fds.host6 < 0 || fds.lpm4 < 0 || fds.lpm6 < 0 ||
	    fds.mac < 0 || fds.policy < 0 || fds.counters < 0 || fds.names < 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	mapw_fds_close(&fds);
	return 0;
}

#define NEED_BPF()                                                           \
	do {                                                                 \
		if (fds.config < 0)                                          \
			skip();                                              \
	} while (0)

/* A small policy: @n hosts 10.0.0.1.. of identity 16, one prefix, one
 * MAC, one allow rule, identities world, gateway, "a" (16), "b" (17). */
struct pol {
	struct comp_policy p;
	struct comp_identity ids[4];
	struct comp_host4 host4[CAP_HOST + 2];
	struct comp_lpm4 lpm4[1];
	struct comp_mac macs[1];
	struct comp_allow allows[1];
	char *rules[1];
};

static void mkpol(struct pol *x, size_t n_hosts, uint16_t port)
{
	static char rule[] = "a-to-b";
	size_t i;

	memset(x, 0, sizeof(*x));
	x->ids[0] = (struct comp_identity){ SEGD_ID_WORLD, SEGD_KIND_BUILTIN, SEGD_ID_WORLD, "world" };
	x->ids[1] = (struct comp_identity){ SEGD_ID_GATEWAY, SEGD_KIND_BUILTIN, SEGD_ID_GATEWAY, "gateway" };
	x->ids[2] = (struct comp_identity){ 16, SEGD_KIND_SEGMENT, 16, "a" };
	x->ids[3] = (struct comp_identity){ 17, SEGD_KIND_SEGMENT, 17, "b" };
	for (i = 0; i < n_hosts; i++) {
		x->host4[i].addr[0] = 10;
		x->host4[i].addr[3] = (uint8_t)(i + 1);
		x->host4[i].ep.id = 16;
		x->host4[i].ep.seg = 16;
	}
	x->lpm4[0] = (struct comp_lpm4){ { 10, 1, 0, 0 }, 16, { 17, 17, { 0 }, 0 } };
	x->macs[0] = (struct comp_mac){ { 2, 0, 0, 0, 0, 1 }, { 16, 16, { 0 }, 0 } };
	x->allows[0] = (struct comp_allow){ 16, 17, IPPROTO_TCP, port, 0 };
	x->rules[0] = rule;
	x->p.ids = x->ids;
	x->p.n_ids = 4;
	x->p.host4 = x->host4;
	x->p.n_host4 = n_hosts;
	x->p.lpm4 = x->lpm4;
	x->p.n_lpm4 = 1;
	x->p.macs = x->macs;
	x->p.n_macs = 1;
	x->p.allows = x->allows;
	x->p.n_allows = 1;
	x->p.rule_names = x->rules;
	x->p.n_rules = 1;
}

/* Entries of a map, and how many sit in @slot. */
static size_t count(int fd, size_t key_size, size_t slot_off, bool be,
		    uint32_t slot, size_t *total)
{
	unsigned char key[64], next[64];
	void *prev = NULL;
	size_t n = 0;

	*total = 0;
	while (!bpf_map_get_next_key(fd, prev, next)) {
		uint32_t s;

		memcpy(&s, next + slot_off, 4);
		if (be)
			s = ntohl(s);
		n += s == slot;
		(*total)++;
		memcpy(key, next, key_size);
		prev = key;
	}
	return n;
}

static size_t host4_in(uint32_t slot, size_t *total)
{
	return count(fds.host4, sizeof(struct segd_host4_key),
		     offsetof(struct segd_host4_key, slot), false, slot, total);
}

static void clear_all(void)
{
	int all[] = { fds.host4, fds.host6, fds.lpm4, fds.lpm6, fds.mac, fds.policy };
	struct segd_config zero_cfg = { 0 };
	struct segd_name none = { 0 };
	__u32 zero = 0, id;
	size_t i;

	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		unsigned char key[64];

		while (!bpf_map_get_next_key(all[i], NULL, key))
			bpf_map_delete_elem(all[i], key);
	}
	bpf_map_update_elem(fds.config, &zero, &zero_cfg, BPF_ANY);
	for (id = 0; id < 64; id++)
		bpf_map_update_elem(fds.names, &id, &none, BPF_ANY);
}

static void test_first_apply_then_switch(void **state)
{
	struct segd_config cfg;
	struct segd_policy_key pk;
	struct segd_policy_value pv;
	struct segd_lpm4_key lk;
	struct segd_endpoint ep;
	struct segd_name name;
	struct pol x;
	uint64_t gen = 0;
	size_t total;
	char err[256] = "";
	__u32 id;

	(void)state;
	NEED_BPF();
	clear_all();

	/* Empty maps: config is all zero (slot 0, not loaded). */
	mkpol(&x, 3, 104);
	assert_int_equal(mapw_apply(&fds, &x.p, &gen, err, sizeof(err)), 0);
	assert_int_equal(gen, 1);
	assert_int_equal(mapw_read_config(&fds, &cfg), 0);
	assert_int_equal(cfg.slot, 1);
	assert_int_equal(cfg.generation, 1);
	assert_true(cfg.flags & SEGD_CFG_LOADED);
	assert_int_equal(host4_in(1, &total), 3);
	assert_int_equal(total, 3);

	/* The allow entry sits in slot 1 with its rule index. */
	memset(&pk, 0, sizeof(pk));
	pk.slot = 1;
	pk.src_id = 16;
	pk.dst_id = 17;
	pk.proto = IPPROTO_TCP;
	pk.port = 104;
	assert_int_equal(bpf_map_lookup_elem(fds.policy, &pk, &pv), 0);
	assert_int_equal(pv.rule, 0);

	/* LPM: slot in network order, prefixlen 32 + prefix; a full-length
	 * lookup of an address inside the prefix finds it. */
	memset(&lk, 0, sizeof(lk));
	lk.prefixlen = 64;
	lk.slot = htonl(1);
	lk.addr[0] = 10;
	lk.addr[1] = 1;
	lk.addr[2] = 2;
	lk.addr[3] = 3;
	assert_int_equal(bpf_map_lookup_elem(fds.lpm4, &lk, &ep), 0);
	assert_int_equal(ep.id, 17);
	lk.slot = htonl(0);
	assert_int_not_equal(bpf_map_lookup_elem(fds.lpm4, &lk, &ep), 0);

	/* Names by id, stamped with the generation. */
	id = 17;
	assert_int_equal(bpf_map_lookup_elem(fds.names, &id, &name), 0);
	assert_string_equal(name.name, "b");
	assert_int_equal(name.kind, SEGD_KIND_SEGMENT);
	assert_int_equal(name.generation, 1);

	/* Second apply: the other slot, and the old one is gone. */
	mkpol(&x, 2, 443);
	assert_int_equal(mapw_apply(&fds, &x.p, &gen, err, sizeof(err)), 0);
	assert_int_equal(gen, 2);
	assert_int_equal(mapw_read_config(&fds, &cfg), 0);
	assert_int_equal(cfg.slot, 0);
	assert_int_equal(host4_in(0, &total), 2);
	assert_int_equal(total, 2);
	pk.slot = 1;
	assert_int_not_equal(bpf_map_lookup_elem(fds.policy, &pk, &pv), 0);
	pk.slot = 0;
	pk.port = 443;
	assert_int_equal(bpf_map_lookup_elem(fds.policy, &pk, &pv), 0);
}

static void test_capacity_changes_nothing(void **state)
{
	struct segd_config before, after;
	struct pol x;
	uint64_t gen = 0;
	size_t total;
	char err[256] = "";

	(void)state;
	NEED_BPF();
	clear_all();
	mkpol(&x, 3, 104);
	assert_int_equal(mapw_apply(&fds, &x.p, &gen, err, sizeof(err)), 0);
	assert_int_equal(mapw_read_config(&fds, &before), 0);

	/* 3 live + 6 new > 8: both generations must fit during a switch. */
	mkpol(&x, 6, 443);
	assert_int_equal(mapw_apply(&fds, &x.p, &gen, err, sizeof(err)), -ENOSPC);
	assert_non_null(strstr(err, "does not fit"));
	assert_non_null(strstr(err, "segd_host4_v1"));
	assert_int_equal(mapw_read_config(&fds, &after), 0);
	assert_memory_equal(&before, &after, sizeof(before));
	assert_int_equal(host4_in(before.slot, &total), 3);
	assert_int_equal(total, 3);	/* nothing written to the other slot */

	/* 3 live + 5 new = 8 fits. */
	mkpol(&x, 5, 443);
	assert_int_equal(mapw_apply(&fds, &x.p, &gen, err, sizeof(err)), 0);
	assert_int_equal(host4_in(before.slot ^ 1, &total), 5);
	assert_int_equal(total, 5);
}

/* An apply that died midway left entries in the inactive slot: the next
 * apply clears them, and they do not count against capacity. */
static void test_leftovers_cleared(void **state)
{
	struct segd_config cfg;
	struct segd_host4_key k;
	struct segd_endpoint ep = { 99, 99, { 0 }, 0 };
	struct pol x;
	uint64_t gen = 0;
	size_t total, i;
	char err[256] = "";

	(void)state;
	NEED_BPF();
	clear_all();
	mkpol(&x, 2, 104);
	assert_int_equal(mapw_apply(&fds, &x.p, &gen, err, sizeof(err)), 0);
	assert_int_equal(mapw_read_config(&fds, &cfg), 0);
	for (i = 0; i < 4; i++) {
		memset(&k, 0, sizeof(k));
		k.slot = cfg.slot ^ 1;
		k.addr = htonl(0xc0a80000 + (uint32_t)i);
		assert_int_equal(bpf_map_update_elem(fds.host4, &k, &ep, BPF_ANY), 0);
	}
	/* 2 live + 4 stale + 6 new > 8, but the stale ones do not count. */
	mkpol(&x, 6, 104);
	assert_int_equal(mapw_apply(&fds, &x.p, &gen, err, sizeof(err)), 0);
	assert_int_equal(host4_in(cfg.slot ^ 1, &total), 6);
	assert_int_equal(total, 6);
}

static void test_hints_roundtrip(void **state)
{
	struct comp_id_hint *hints = NULL;
	struct pol x;
	uint64_t gen;
	size_t n = 0, i;
	char err[256];
	bool a = false, b = false;

	(void)state;
	NEED_BPF();
	clear_all();
	mkpol(&x, 1, 104);
	assert_int_equal(mapw_apply(&fds, &x.p, &gen, err, sizeof(err)), 0);
	assert_int_equal(mapw_read_hints(&fds, &hints, &n), 0);
	assert_int_equal(n, 4);	/* world, gateway, a, b */
	for (i = 0; i < n; i++) {
		if (!strcmp(hints[i].name, "a")) {
			a = true;
			assert_int_equal(hints[i].id, 16);
			assert_int_equal(hints[i].kind, SEGD_KIND_SEGMENT);
		}
		if (!strcmp(hints[i].name, "b")) {
			b = true;
			assert_int_equal(hints[i].id, 17);
		}
	}
	assert_true(a && b);
	free(hints);
}

/* The grace period is a real wait in the kernel (synchronize_rcu), not
 * the fallback pause. */
static void test_grace_period(void **state)
{
	(void)state;
	NEED_BPF();
	assert_int_equal(mapw_grace_period(), 0);
	assert_int_equal(mapw_grace_period(), 0);
}

/*
 * Upgrade: a fresh config map (no LOADED flag) beside an older config map
 * of another layout, pinned with a loaded policy in slot 1, generation 41:
 * mapw_adopt_config takes slot, flags and number, so the next apply fills
 * slot 0 (the one the old program does not read) and is generation 42.
 */
static void test_adopt_older_config(void **state)
{
	char dir[] = "/sys/fs/bpf/segdt-unit-XXXXXX", path[256], from[256] = "";
	struct {
		struct segd_config c;
		__u64 extra;	/* the older layout was larger: fine */
	} old = { { 1, SEGD_CFG_LOADED, 41 }, 7 };
	struct segd_config cfg;
	struct pol x;
	uint64_t gen = 0;
	size_t total;
	char err[256] = "";
	__u32 zero = 0;
	int fd;

	(void)state;
	NEED_BPF();
	clear_all();
	if (!mkdtemp(dir))
		skip();	/* no bpffs on /sys/fs/bpf */
	snprintf(path, sizeof(path), "%s/segd_config_v0", dir);
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "t_cfg_v0", 4, sizeof(old), 1,
			    NULL);
	assert_true(fd >= 0);
	assert_int_equal(bpf_map_update_elem(fd, &zero, &old, BPF_ANY), 0);
	assert_int_equal(bpf_obj_pin(fd, path), 0);
	close(fd);

	assert_int_equal(mapw_adopt_config(&fds, dir, from, sizeof(from)), 1);
	assert_string_equal(from, path);
	assert_int_equal(mapw_read_config(&fds, &cfg), 0);
	assert_int_equal(cfg.slot, 1);
	assert_int_equal(cfg.generation, 41);
	assert_true(cfg.flags & SEGD_CFG_LOADED);
	/* Once loaded, nothing more to adopt. */
	assert_int_equal(mapw_adopt_config(&fds, dir, from, sizeof(from)), 0);

	mkpol(&x, 3, 104);
	assert_int_equal(mapw_apply(&fds, &x.p, &gen, err, sizeof(err)), 0);
	assert_int_equal(gen, 42);
	assert_int_equal(mapw_read_config(&fds, &cfg), 0);
	assert_int_equal(cfg.slot, 0);
	assert_int_equal(host4_in(0, &total), 3);

	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_apply_then_switch),
		cmocka_unit_test(test_capacity_changes_nothing),
		cmocka_unit_test(test_leftovers_cleared),
		cmocka_unit_test(test_hints_roundtrip),
		cmocka_unit_test(test_grace_period),
		cmocka_unit_test(test_adopt_older_config),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
