/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * mapwriter.h - compiled policy -> BPF maps, one generation at a time.
 *
 * An apply writes every entry of the new policy into the inactive slot,
 * then switches segd_config_v1 with a single map write, then deletes the
 * entries of the old slot. Capacity is checked before anything is written:
 * a policy that does not fit changes nothing.
 */
#ifndef SEGD_MAPWRITER_H
#define SEGD_MAPWRITER_H

#include <stddef.h>
#include <stdint.h>

#include "compile.h"

struct bpf_object;

struct mapw_fds {
	int config, host4, host6, lpm4, lpm6, mac, policy, counters, names;
	int meta;	/* segd_meta_v1, or -1: optional (older pins, tests) */
};

/* Fill @fds from a loaded object (fds stay owned by the object). */
int mapw_fds_from_obj(struct bpf_object *obj, struct mapw_fds *fds);

/* Open the pinned maps under @pin_dir (fds owned by caller: close them). */
int mapw_fds_open_pinned(const char *pin_dir, struct mapw_fds *fds);
void mapw_fds_close(struct mapw_fds *fds);

/* The record of segd_meta_v1 (-ENOENT without that map). */
int mapw_read_meta(const struct mapw_fds *fds, struct segd_meta *meta);

/* Current live config (slot, flags, generation). */
int mapw_read_config(const struct mapw_fds *fds, struct segd_config *cfg);

/*
 * mapw_adopt_config - upgrade path. When segd_config_vN was just created
 * (no SEGD_CFG_LOADED) but the pin dir holds the config map of another
 * layout (segd_config_vM) with a loaded policy, copy its live slot, flags
 * and generation (the first 16 bytes of every version, a promise of
 * include/segd_abi.h), so the next apply fills the *other* slot of the
 * adopted policy maps, which the old program is still reading, and the
 * numbering continues. Returns 1 when adopted (@from names the old map),
 * 0 when there was nothing to adopt, or a negative errno.
 */
int mapw_adopt_config(const struct mapw_fds *fds, const char *pin_dir,
		      char *from, size_t fromlen);

/*
 * mapw_apply - make @p the live policy. On success *generation is the new
 * generation number. On failure (-ENOSPC: does not fit; other -errno) the
 * live generation is untouched and @err says why.
 */
int mapw_apply(const struct mapw_fds *fds, const struct comp_policy *p,
	       uint64_t *generation, char *err, size_t errlen);

/*
 * mapw_apply_keep_old - mapw_apply without step 5: the old slot's entries
 * stay. For an upgrade whose config map changed layout: the old program
 * still reads the old slot through the old config map until its link is
 * updated; then mapw_drop_slot() removes them.
 */
int mapw_apply_keep_old(const struct mapw_fds *fds,
			const struct comp_policy *p, uint64_t *generation,
			char *err, size_t errlen);

/* mapw_drop_slot - after a grace period, delete every entry of @slot from
 * the slotted maps. 0 or the first negative errno (the rest is tried). */
int mapw_drop_slot(const struct mapw_fds *fds, uint32_t slot);

/*
 * mapw_grace_period - return only after every BPF program that was running
 * when it was called has finished (an RCU grace period, obtained by
 * updating a map-in-map that segd owns; see mapwriter.c). 0, or a negative
 * errno after falling back to a long pause.
 */
int mapw_grace_period(void);

/*
 * Where the time of the last successful mapw_apply went, in nanoseconds:
 * scan and capacity check, filling the inactive slot (names included), the
 * switch (one map write), the grace period, deleting the old slot; total.
 */
struct mapw_timing {
	uint64_t check_ns, fill_ns, switch_ns, grace_ns, purge_ns, total_ns;
};

void mapw_last_timing(struct mapw_timing *t);

/* Ids recorded in segd_names_v1, to keep ids stable (caller frees). */
int mapw_read_hints(const struct mapw_fds *fds, struct comp_id_hint **hints,
		    size_t *n);

#endif /* SEGD_MAPWRITER_H */
