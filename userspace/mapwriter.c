// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * mapwriter.c - compiled policy -> BPF maps, one generation at a time.
 *
 * The order of an apply (see mapwriter.h and include/segd_abi.h):
 *  1. scan every slotted map: count the live slot's entries, collect the
 *     keys of any other slot (left over by an apply that died midway);
 *  2. check capacity: live entries + new entries must fit every map, and
 *     every id must fit the names map. Nothing has been written yet;
 *  3. delete the leftovers, write the new entries into the inactive slot
 *     and the identities' names (by id, not slotted);
 *  4. switch segd_config_v1 with one write;
 *  5. after an RCU grace period (mapw_grace_period), delete the old slot's
 *     entries.
 * A failure in 3 deletes what was written to the inactive slot and leaves
 * the live generation as it was.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "errbuf.h"
#include "log.h"
#include "mapwriter.h"

/*
 * Why a grace period between the switch and the deletes: an XDP invocation
 * that read the old slot just before the switch may still be looking up
 * entries of that slot on another CPU. XDP programs run inside an RCU
 * read-side critical section (NAPI poll, softirq, bh disabled), so once an
 * RCU grace period has elapsed after the switch, every invocation that
 * could have read the old slot has returned.
 *
 * Userspace cannot call synchronize_rcu(), but the kernel does it for us:
 * kernel/bpf/syscall.c map_update_elem() calls maybe_wait_bpf_programs()
 * after a successful update, and for BPF_MAP_TYPE_ARRAY_OF_MAPS and
 * HASH_OF_MAPS that is synchronize_rcu() ("wait for any running
 * non-sleepable BPF programs to complete so that userspace, when we return
 * to it, knows that all non-sleepable programs that could be running use
 * the new map value"). So one update of a one-entry map-in-map that segd
 * owns (never read by any program) is a grace period on demand. The
 * selftests do the same (prog_tests/btf_map_in_map.c, kern_sync_rcu()).
 *
 * Should that map be impossible to create, fall back to a pause far longer
 * than any XDP invocation (and say so once).
 */
#define MAPW_GRACE_FALLBACK_US 50000

static int mapw_sync_outer = -1, mapw_sync_inner = -1;

/* Phases of the last successful mapw_apply (mapw_last_timing). */
static struct mapw_timing mapw_last;

static uint64_t mapw_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void mapw_last_timing(struct mapw_timing *t)
{
	*t = mapw_last;
}

int mapw_grace_period(void)
{
	static bool warned;
	__u32 zero = 0;
	int ret;

	if (mapw_sync_outer < 0) {
		LIBBPF_OPTS(bpf_map_create_opts, o);

		if (mapw_sync_inner < 0)
			mapw_sync_inner = bpf_map_create(BPF_MAP_TYPE_ARRAY,
							 "segd_sync_in", 4, 4,
							 1, NULL);
		if (mapw_sync_inner < 0) {
			ret = -errno;
			goto fallback;
		}
		o.inner_map_fd = mapw_sync_inner;
		mapw_sync_outer = bpf_map_create(BPF_MAP_TYPE_ARRAY_OF_MAPS,
						 "segd_sync", 4, 4, 1, &o);
		if (mapw_sync_outer < 0) {
			ret = -errno;
			goto fallback;
		}
	}
	/* Waits in the kernel: maybe_wait_bpf_programs() -> synchronize_rcu(). */
	if (bpf_map_update_elem(mapw_sync_outer, &zero, &mapw_sync_inner,
				BPF_ANY)) {
		ret = -errno;
		goto fallback;
	}
	return 0;
fallback:
	if (!warned)
		pr_warn("no RCU grace period from a map-in-map (%s); pausing %d ms instead before deleting an old generation",
			strerror(-ret), MAPW_GRACE_FALLBACK_US / 1000);
	warned = true;
	usleep(MAPW_GRACE_FALLBACK_US);
	return ret;
}

/* The slotted maps, in the order they are written. */
enum mapw_kind { MK_HOST4, MK_HOST6, MK_LPM4, MK_LPM6, MK_MAC, MK_POLICY, MK__N };

struct mapw_desc {
	const char *name;
	size_t key_size;
	size_t slot_off;	/* offset of the __u32 slot in the key */
	bool slot_be;		/* slot stored in network byte order (LPM) */
};

static const struct mapw_desc mapw_descs[MK__N] = {
	[MK_HOST4] = { SEGD_MAP_HOST4, sizeof(struct segd_host4_key),
		       offsetof(struct segd_host4_key, slot), false },
	[MK_HOST6] = { SEGD_MAP_HOST6, sizeof(struct segd_host6_key),
		       offsetof(struct segd_host6_key, slot), false },
	[MK_LPM4] = { SEGD_MAP_LPM4, sizeof(struct segd_lpm4_key),
		      offsetof(struct segd_lpm4_key, slot), true },
	[MK_LPM6] = { SEGD_MAP_LPM6, sizeof(struct segd_lpm6_key),
		      offsetof(struct segd_lpm6_key, slot), true },
	[MK_MAC] = { SEGD_MAP_MAC, sizeof(struct segd_mac_key),
		     offsetof(struct segd_mac_key, slot), false },
	[MK_POLICY] = { SEGD_MAP_POLICY, sizeof(struct segd_policy_key),
			offsetof(struct segd_policy_key, slot), false },
};

static int mapw_kind_fd(const struct mapw_fds *fds, enum mapw_kind k)
{
	switch (k) {
	case MK_HOST4:
		return fds->host4;
	case MK_HOST6:
		return fds->host6;
	case MK_LPM4:
		return fds->lpm4;
	case MK_LPM6:
		return fds->lpm6;
	case MK_MAC:
		return fds->mac;
	case MK_POLICY:
		return fds->policy;
	default:
		return -1;
	}
}

static size_t mapw_kind_count(const struct comp_policy *p, enum mapw_kind k)
{
	switch (k) {
	case MK_HOST4:
		return p->n_host4;
	case MK_HOST6:
		return p->n_host6;
	case MK_LPM4:
		return p->n_lpm4;
	case MK_LPM6:
		return p->n_lpm6;
	case MK_MAC:
		return p->n_macs;
	case MK_POLICY:
		return p->n_allows;
	default:
		return 0;
	}
}

static const char *const mapw_names[9] = {
	SEGD_MAP_CONFIG, SEGD_MAP_HOST4, SEGD_MAP_HOST6, SEGD_MAP_LPM4,
	SEGD_MAP_LPM6, SEGD_MAP_MAC, SEGD_MAP_POLICY, SEGD_MAP_COUNTERS,
	SEGD_MAP_NAMES,
};

static int *mapw_fd_slot(struct mapw_fds *fds, size_t i)
{
	int *v[9] = { &fds->config, &fds->host4, &fds->host6, &fds->lpm4,
		      &fds->lpm6, &fds->mac, &fds->policy, &fds->counters,
		      &fds->names };

	return v[i];
}

int mapw_fds_from_obj(struct bpf_object *obj, struct mapw_fds *fds)
{
	struct bpf_map *m;
	size_t i;

	for (i = 0; i < 9; i++) {
		m = bpf_object__find_map_by_name(obj, mapw_names[i]);
		if (!m || bpf_map__fd(m) < 0)
			return -ENOENT;
		*mapw_fd_slot(fds, i) = bpf_map__fd(m);
	}
	m = bpf_object__find_map_by_name(obj, SEGD_MAP_META);
	fds->meta = m ? bpf_map__fd(m) : -1;
	return 0;
}

int mapw_fds_open_pinned(const char *pin_dir, struct mapw_fds *fds)
{
	char path[4096];
	size_t i;
	int err;

	for (i = 0; i < 9; i++)
		*mapw_fd_slot(fds, i) = -1;
	snprintf(path, sizeof(path), "%s/%s", pin_dir, SEGD_MAP_META);
	fds->meta = bpf_obj_get(path);	/* optional: pins of older builds */
	for (i = 0; i < 9; i++) {
		snprintf(path, sizeof(path), "%s/%s", pin_dir, mapw_names[i]);
		*mapw_fd_slot(fds, i) = bpf_obj_get(path);
		if (*mapw_fd_slot(fds, i) < 0) {
			err = -errno;
			mapw_fds_close(fds);
			return err;
		}
	}
	return 0;
}

void mapw_fds_close(struct mapw_fds *fds)
{
	size_t i;

	for (i = 0; i < 9; i++) {
		int *fd = mapw_fd_slot(fds, i);

		if (*fd >= 0)
			close(*fd);
		*fd = -1;
	}
	if (fds->meta >= 0)
		close(fds->meta);
	fds->meta = -1;
}

int mapw_read_meta(const struct mapw_fds *fds, struct segd_meta *meta)
{
	__u32 zero = 0;

	memset(meta, 0, sizeof(*meta));
	if (fds->meta < 0)
		return -ENOENT;
	if (bpf_map_lookup_elem(fds->meta, &zero, meta))
		return -errno;
	meta->digest[sizeof(meta->digest) - 1] = '\0';
	return 0;
}

int mapw_read_config(const struct mapw_fds *fds, struct segd_config *cfg)
{
	__u32 zero = 0;

	memset(cfg, 0, sizeof(*cfg));
	if (bpf_map_lookup_elem(fds->config, &zero, cfg))
		return -errno;
	return 0;
}

int mapw_adopt_config(const struct mapw_fds *fds, const char *pin_dir,
		      char *from, size_t fromlen)
{
	unsigned char val[256];
	struct segd_config cur, old;
	struct bpf_map_info info;
	__u32 len = sizeof(info), zero = 0;
	struct dirent *de;
	char path[4096];
	int fd, ret = 0;
	DIR *d;

	ret = mapw_read_config(fds, &cur);
	if (ret || (cur.flags & SEGD_CFG_LOADED))
		return ret;
	d = opendir(pin_dir);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "segd_config_v", 13) ||
		    !strcmp(de->d_name, SEGD_MAP_CONFIG))
			continue;
		snprintf(path, sizeof(path), "%s/%s", pin_dir, de->d_name);
		fd = bpf_obj_get(path);
		if (fd < 0)
			continue;
		memset(&info, 0, sizeof(info));
		len = sizeof(info);
		if (bpf_obj_get_info_by_fd(fd, &info, &len) ||
		    info.type != BPF_MAP_TYPE_ARRAY || info.key_size != 4 ||
		    info.value_size < sizeof(old) ||
		    info.value_size > sizeof(val) ||
		    bpf_map_lookup_elem(fd, &zero, val)) {
			close(fd);
			continue;
		}
		close(fd);
		memcpy(&old, val, sizeof(old));
		if (!(old.flags & SEGD_CFG_LOADED))
			continue;
		memset(&cur, 0, sizeof(cur));
		cur.slot = old.slot & 1;
		cur.flags = old.flags;
		cur.generation = old.generation;
		if (bpf_map_update_elem(fds->config, &zero, &cur, BPF_ANY)) {
			ret = -errno;
			break;
		}
		snprintf(from, fromlen, "%s", path);
		ret = 1;
		break;
	}
	closedir(d);
	return ret;
}

static int mapw_max_entries(int fd, __u32 *max)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	*max = info.max_entries;
	return 0;
}

/* Keys of one map, as a flat array of key_size records. */
struct mapw_keys {
	unsigned char *v;
	size_t n, cap, key_size;
};

static int mapw_keys_push(struct mapw_keys *k, const void *key)
{
	if (k->n == k->cap) {
		size_t cap = k->cap ? k->cap * 2 : 256;
		unsigned char *v = realloc(k->v, cap * k->key_size);

		if (!v)
			return -ENOMEM;
		k->v = v;
		k->cap = cap;
	}
	memcpy(k->v + k->n * k->key_size, key, k->key_size);
	k->n++;
	return 0;
}

static __u32 mapw_key_slot(const struct mapw_desc *d, const void *key)
{
	__u32 slot;

	memcpy(&slot, (const unsigned char *)key + d->slot_off, sizeof(slot));
	return d->slot_be ? ntohl(slot) : slot;
}

/*
 * mapw_scan - walk every key of a slotted map. Keys of @live_slot are
 * counted into *n_live (when @live_slot >= 0); all other keys are collected
 * into @other. The walk collects before anything is deleted, because
 * deleting during get_next_key restarts a hash walk.
 */
static int mapw_scan(int fd, const struct mapw_desc *d, long live_slot,
		     size_t *n_live, struct mapw_keys *other)
{
	unsigned char key[64], next[64];
	void *prev = NULL;

	*n_live = 0;
	other->key_size = d->key_size;
	while (!bpf_map_get_next_key(fd, prev, next)) {
		int err;

		if (live_slot >= 0 && mapw_key_slot(d, next) == (__u32)live_slot) {
			(*n_live)++;
		} else {
			err = mapw_keys_push(other, next);
			if (err)
				return err;
		}
		memcpy(key, next, d->key_size);
		prev = key;
	}
	if (errno != ENOENT)
		return -errno;
	return 0;
}

static int mapw_delete_keys(int fd, const struct mapw_keys *k)
{
	size_t i;
	int ret = 0;

	for (i = 0; i < k->n; i++) {
		if (bpf_map_delete_elem(fd, k->v + i * k->key_size) &&
		    errno != ENOENT && !ret)
			ret = -errno;
	}
	return ret;
}

/* Deletes every key of @slot from a slotted map. */
static int mapw_purge_slot(int fd, const struct mapw_desc *d, __u32 slot)
{
	struct mapw_keys all = { 0 }, mine = { 0 };
	size_t n_live, i;
	int err;

	err = mapw_scan(fd, d, -1, &n_live, &all);
	if (err)
		goto out;
	mine.key_size = d->key_size;
	for (i = 0; i < all.n; i++) {
		const void *key = all.v + i * all.key_size;

		if (mapw_key_slot(d, key) != slot)
			continue;
		err = mapw_keys_push(&mine, key);
		if (err)
			goto out;
	}
	err = mapw_delete_keys(fd, &mine);
out:
	free(all.v);
	free(mine.v);
	return err;
}

/* Writes the entries of one kind into @slot. */
static int mapw_write_kind(int fd, enum mapw_kind k, const struct comp_policy *p,
			   __u32 slot, char *err, size_t errlen)
{
	size_t i, n = mapw_kind_count(p, k);

	for (i = 0; i < n; i++) {
		const void *key, *val;
		struct segd_host4_key h4;
		struct segd_host6_key h6;
		struct segd_lpm4_key l4;
		struct segd_lpm6_key l6;
		struct segd_mac_key mk;
		struct segd_policy_key pk;
		struct segd_policy_value pv;

		switch (k) {
		case MK_HOST4:
			memset(&h4, 0, sizeof(h4));
			h4.slot = slot;
			memcpy(&h4.addr, p->host4[i].addr, 4);
			key = &h4;
			val = &p->host4[i].ep;
			break;
		case MK_HOST6:
			memset(&h6, 0, sizeof(h6));
			h6.slot = slot;
			memcpy(h6.addr, p->host6[i].addr, 16);
			key = &h6;
			val = &p->host6[i].ep;
			break;
		case MK_LPM4:
			memset(&l4, 0, sizeof(l4));
			l4.prefixlen = 32 + p->lpm4[i].plen;
			l4.slot = htonl(slot);
			memcpy(l4.addr, p->lpm4[i].addr, 4);
			key = &l4;
			val = &p->lpm4[i].ep;
			break;
		case MK_LPM6:
			memset(&l6, 0, sizeof(l6));
			l6.prefixlen = 32 + p->lpm6[i].plen;
			l6.slot = htonl(slot);
			memcpy(l6.addr, p->lpm6[i].addr, 16);
			key = &l6;
			val = &p->lpm6[i].ep;
			break;
		case MK_MAC:
			memset(&mk, 0, sizeof(mk));
			mk.slot = slot;
			memcpy(mk.mac, p->macs[i].mac, 6);
			key = &mk;
			val = &p->macs[i].ep;
			break;
		case MK_POLICY:
			memset(&pk, 0, sizeof(pk));
			memset(&pv, 0, sizeof(pv));
			pk.slot = slot;
			pk.src_id = p->allows[i].src_id;
			pk.dst_id = p->allows[i].dst_id;
			pk.proto = p->allows[i].proto;
			pk.port = p->allows[i].port;
			pv.rule = p->allows[i].rule;
			key = &pk;
			val = &pv;
			break;
		default:
			return -EINVAL;
		}
		if (bpf_map_update_elem(fd, key, val, BPF_ANY)) {
			int ret = -errno;

			err_set(err, errlen, "writing entry %zu of %s: %s",
				    i, mapw_descs[k].name, strerror(-ret));
			return ret;
		}
	}
	return 0;
}

static int mapw_write_names(const struct mapw_fds *fds,
			    const struct comp_policy *p, __u64 generation,
			    char *err, size_t errlen)
{
	size_t i;

	for (i = 0; i < p->n_ids; i++) {
		const struct comp_identity *id = &p->ids[i];
		struct segd_name n;
		__u32 key = id->id;

		memset(&n, 0, sizeof(n));
		snprintf(n.name, sizeof(n.name), "%s", id->name);
		n.kind = id->kind;
		n.seg = id->seg;
		n.generation = generation;
		if (bpf_map_update_elem(fds->names, &key, &n, BPF_ANY)) {
			int ret = -errno;

			err_set(err, errlen, "writing name \"%s\" (id %u) to %s: %s",
				    id->name, id->id, SEGD_MAP_NAMES,
				    strerror(-ret));
			return ret;
		}
	}
	return 0;
}

int mapw_drop_slot(const struct mapw_fds *fds, uint32_t slot)
{
	int k, ret = 0;

	mapw_grace_period();
	for (k = 0; k < MK__N; k++) {
		int e = mapw_purge_slot(mapw_kind_fd(fds, k), &mapw_descs[k],
					slot & 1);

		if (e && !ret)
			ret = e;
	}
	return ret;
}

static int mapw_apply_common(const struct mapw_fds *fds,
			     const struct comp_policy *p, uint64_t *generation,
			     bool purge, char *err, size_t errlen)
{
	struct mapw_keys stale[MK__N];
	size_t n_live[MK__N];
	struct segd_config cur, next;
	__u32 old_slot, new_slot, max = 0, zero = 0;
	struct mapw_timing tm = { 0 };
	uint64_t t0 = mapw_now_ns(), t;
	bool loaded;
	size_t i;
	int k, ret;

	memset(stale, 0, sizeof(stale));
	ret = mapw_read_config(fds, &cur);
	if (ret) {
		err_set(err, errlen, "reading %s: %s", SEGD_MAP_CONFIG,
			    strerror(-ret));
		return ret;
	}
	loaded = cur.flags & SEGD_CFG_LOADED;
	old_slot = cur.slot & 1;
	new_slot = old_slot ^ 1;

	/* 1 + 2: scan and check capacity before writing anything. */
	for (k = 0; k < MK__N; k++) {
		int fd = mapw_kind_fd(fds, k);
		size_t need;

		/* Entries of the old slot are counted as live even without
		 * SEGD_CFG_LOADED: they stay until after the switch. */
		ret = mapw_scan(fd, &mapw_descs[k], (long)old_slot,
				&n_live[k], &stale[k]);
		if (ret) {
			err_set(err, errlen, "reading %s: %s",
				    mapw_descs[k].name, strerror(-ret));
			goto out;
		}
		ret = mapw_max_entries(fd, &max);
		if (ret) {
			err_set(err, errlen, "querying %s: %s",
				    mapw_descs[k].name, strerror(-ret));
			goto out;
		}
		need = n_live[k] + mapw_kind_count(p, k);
		if (need > max) {
			err_set(err, errlen,
				    "policy does not fit %s: %zu new entries + %zu live entries > capacity %u (a generation switch holds both)",
				    mapw_descs[k].name, mapw_kind_count(p, k),
				    n_live[k], max);
			ret = -ENOSPC;
			goto out;
		}
	}
	ret = mapw_max_entries(fds->names, &max);
	if (ret) {
		err_set(err, errlen, "querying %s: %s", SEGD_MAP_NAMES,
			    strerror(-ret));
		goto out;
	}
	for (i = 0; i < p->n_ids; i++) {
		if (p->ids[i].id >= max) {
			err_set(err, errlen,
				    "identity \"%s\" has id %u, beyond the capacity of %s (%u)",
				    p->ids[i].name, p->ids[i].id,
				    SEGD_MAP_NAMES, max);
			ret = -ENOSPC;
			goto out;
		}
	}

	t = mapw_now_ns();
	tm.check_ns = t - t0;

	/* 3: fill the inactive slot. Leftovers exist only if an apply died
	 * midway; a packet may have read them if it died right after its
	 * switch, so they too go only after a grace period. */
	for (k = 0; k < MK__N; k++)
		if (stale[k].n)
			break;
	if (k < MK__N)
		mapw_grace_period();
	for (k = 0; k < MK__N; k++) {
		ret = mapw_delete_keys(mapw_kind_fd(fds, k), &stale[k]);
		if (ret) {
			err_set(err, errlen, "clearing leftovers of %s: %s",
				    mapw_descs[k].name, strerror(-ret));
			goto out;
		}
	}
	for (k = 0; k < MK__N; k++) {
		ret = mapw_write_kind(mapw_kind_fd(fds, k), k, p, new_slot, err,
				      errlen);
		if (ret)
			goto rollback;
	}
	memset(&next, 0, sizeof(next));
	next.slot = new_slot;
	next.flags = p->flags | SEGD_CFG_LOADED;
	next.generation = cur.generation + 1;
	ret = mapw_write_names(fds, p, next.generation, err, errlen);
	if (ret)
		goto rollback;

	/* 4: the switch. */
	tm.fill_ns = mapw_now_ns() - t;
	t = mapw_now_ns();
	if (bpf_map_update_elem(fds->config, &zero, &next, BPF_ANY)) {
		ret = -errno;
		err_set(err, errlen, "switching %s: %s", SEGD_MAP_CONFIG,
			    strerror(-ret));
		goto rollback;
	}
	tm.switch_ns = mapw_now_ns() - t;
	*generation = next.generation;
	if (fds->meta >= 0) {
		struct segd_meta meta;
		struct timespec ts;

		memset(&meta, 0, sizeof(meta));
		clock_gettime(CLOCK_REALTIME, &ts);
		meta.generation = next.generation;
		meta.applied_ns = (__u64)ts.tv_sec * 1000000000ull +
				  (__u64)ts.tv_nsec;
		snprintf(meta.digest, sizeof(meta.digest), "%s", p->digest);
		if (bpf_map_update_elem(fds->meta, &zero, &meta, BPF_ANY))
			pr_warn("recording generation %llu in %s: %s",
				(unsigned long long)next.generation,
				SEGD_MAP_META, strerror(errno));
	}

	/* 5: the old generation goes. Its leftovers, should a delete fail,
	 * are cleared by the next apply (step 1), so this does not fail. */
	for (k = 0; k < MK__N; k++)
		if (n_live[k])
			break;
	if (purge && (loaded || k < MK__N)) {
		t = mapw_now_ns();
		mapw_grace_period();
		tm.grace_ns = mapw_now_ns() - t;
		t = mapw_now_ns();
		for (k = 0; k < MK__N; k++) {
			int e = mapw_purge_slot(mapw_kind_fd(fds, k),
						&mapw_descs[k], old_slot);

			if (e)
				pr_warn("removing generation %llu from %s: %s (cleared on next apply)",
					(unsigned long long)cur.generation,
					mapw_descs[k].name, strerror(-e));
		}
		tm.purge_ns = mapw_now_ns() - t;
	}
	tm.total_ns = mapw_now_ns() - t0;
	mapw_last = tm;
	ret = 0;
	goto out;

rollback:
	/* Names written for ids of the new policy stay: they are labels only,
	 * and the ids were chosen not to clash with live ones. */
	for (k = 0; k < MK__N; k++)
		mapw_purge_slot(mapw_kind_fd(fds, k), &mapw_descs[k], new_slot);
out:
	for (k = 0; k < MK__N; k++)
		free(stale[k].v);
	return ret;
}

int mapw_apply(const struct mapw_fds *fds, const struct comp_policy *p,
	       uint64_t *generation, char *err, size_t errlen)
{
	return mapw_apply_common(fds, p, generation, true, err, errlen);
}

int mapw_apply_keep_old(const struct mapw_fds *fds,
			const struct comp_policy *p, uint64_t *generation,
			char *err, size_t errlen)
{
	return mapw_apply_common(fds, p, generation, false, err, errlen);
}

int mapw_read_hints(const struct mapw_fds *fds, struct comp_id_hint **hints,
		    size_t *n)
{
	struct comp_id_hint *v = NULL;
	size_t cnt = 0, cap = 0;
	__u32 max = 0, id;
	int ret;

	*hints = NULL;
	*n = 0;
	ret = mapw_max_entries(fds->names, &max);
	if (ret)
		return ret;
	for (id = 0; id < max; id++) {
		struct segd_name name;

		if (bpf_map_lookup_elem(fds->names, &id, &name)) {
			ret = -errno;
			free(v);
			return ret;
		}
		if (name.kind == SEGD_KIND_UNUSED || !name.name[0])
			continue;
		if (cnt == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			struct comp_id_hint *nv = realloc(v, ncap * sizeof(*v));

			if (!nv) {
				free(v);
				return -ENOMEM;
			}
			v = nv;
			cap = ncap;
		}
		memset(&v[cnt], 0, sizeof(v[cnt]));
		memcpy(v[cnt].name, name.name, SEGD_NAME_LEN - 1);
		v[cnt].kind = name.kind;
		v[cnt].id = id;
		cnt++;
	}
	*hints = v;
	*n = cnt;
	return 0;
}
