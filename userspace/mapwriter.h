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
};

/* Fill @fds from a loaded object (fds stay owned by the object). */
int mapw_fds_from_obj(struct bpf_object *obj, struct mapw_fds *fds);

/* Open the pinned maps under @pin_dir (fds owned by caller: close them). */
int mapw_fds_open_pinned(const char *pin_dir, struct mapw_fds *fds);
void mapw_fds_close(struct mapw_fds *fds);

/* Current live config (slot, flags, generation). */
int mapw_read_config(const struct mapw_fds *fds, struct segd_config *cfg);

/*
 * mapw_apply - make @p the live policy. On success *generation is the new
 * generation number. On failure (-ENOSPC: does not fit; other -errno) the
 * live generation is untouched and @err says why.
 */
int mapw_apply(const struct mapw_fds *fds, const struct comp_policy *p,
	       uint64_t *generation, char *err, size_t errlen);

/* Ids recorded in segd_names_v1, to keep ids stable (caller frees). */
int mapw_read_hints(const struct mapw_fds *fds, struct comp_id_hint **hints,
		    size_t *n);

#endif /* SEGD_MAPWRITER_H */
