/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * maps.h - the maps of segd's XDP program. Layouts and precedence are
 * documented once, in include/segd_abi.h; names come from there too.
 * Every map is pinned by userspace (bpf_map__set_pin_path before load), so
 * no LIBBPF_PIN_BY_NAME here: the pin directory is a segd option.
 */
#ifndef SEGD_BPF_MAPS_H
#define SEGD_BPF_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "segd_abi.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct segd_config);
} segd_config_v1 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SEGD_MAX_HOSTS);
	__type(key, struct segd_host4_key);
	__type(value, struct segd_endpoint);
} segd_host4_v1 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SEGD_MAX_HOSTS);
	__type(key, struct segd_host6_key);
	__type(value, struct segd_endpoint);
} segd_host6_v1 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, SEGD_MAX_PREFIXES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct segd_lpm4_key);
	__type(value, struct segd_endpoint);
} segd_lpm4_v1 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, SEGD_MAX_PREFIXES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct segd_lpm6_key);
	__type(value, struct segd_endpoint);
} segd_lpm6_v1 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SEGD_MAX_MACS);
	__type(key, struct segd_mac_key);
	__type(value, struct segd_endpoint);
} segd_mac_v1 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SEGD_MAX_POLICY);
	__type(key, struct segd_policy_key);
	__type(value, struct segd_policy_value);
} segd_policy_v1 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, SEGD_MAX_COUNTERS);
	__type(key, struct segd_counter_key);
	__type(value, struct segd_counter_value);
} segd_counters_v1 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SEGD_MAX_IDENTITIES);
	__type(key, __u32);
	__type(value, struct segd_name);
} segd_names_v1 SEC(".maps");

/* Drop events, their rate limit and their loss counters (events.h). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, SEGD_EVENTS_RB_SIZE);
} segd_events_v1 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SEGD_MAX_EVLIMIT);
	__type(key, struct segd_evlimit_key);
	__type(value, struct segd_evlimit_value);
} segd_evlimit_v1 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct segd_evstats);
} segd_evstats_v1 SEC(".maps");

/* Which files the live generation came from; userspace only. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct segd_meta);
} segd_meta_v1 SEC(".maps");

#endif /* SEGD_BPF_MAPS_H */
