/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * isolate.h - containment for the SOC (issue 5): segd's side of
 * `segctl isolate | release | isolated | history`. Owns the pinned map
 * segd_isolated_v1 (docs/datapath.md step 7b), the state file (state.h)
 * and the audit log (audit.h), and ends an isolated host's connections
 * (ctdel.h).
 *
 * Control socket requests (ctl.h's protocol; handled before ctl.c's):
 *   {"cmd":"isolate","host":H,"reason":R,"for":SECONDS,"ticket":T}
 *   {"cmd":"release","host":H,"reason":R}
 *   {"cmd":"isolated"}
 *   {"cmd":"history","since":UNIX_SECONDS}
 * H: an IPv4 or IPv6 address, a MAC, or a device name of the policy in
 * force (all of its addresses and its MAC).
 */
#ifndef SEGD_ISOLATE_H
#define SEGD_ISOLATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "compile.h"

#define ISO_DEFAULT_STATE_DIR "/var/lib/segd"
#define ISO_DEFAULT_MAX_S (7 * 86400)	/* --max-isolation default: 7d */

struct iso;

/*
 * iso_open - read <state_dir>/isolation.json and make the map @map_fd hold
 * exactly it (plus entries found only in the map, kept and recorded as
 * recovered: a crash between the map write and the state write must not
 * lift an isolation). Entries whose time has passed expire (audit record).
 * Refuses (-EINVAL, @err naming the file) a corrupt state file.
 */
int iso_open(struct iso **out, const char *state_dir, uint64_t max_s,
	     int map_fd, uint64_t generation, char *err, size_t errlen);
void iso_free(struct iso *iso);

/* iso_timer_fd - a timerfd, readable when a timed isolation is due. */
int iso_timer_fd(const struct iso *iso);

/* iso_expire - lift what is due (audit "expire"), re-arm the timer. */
void iso_expire(struct iso *iso, uint64_t generation);

/* iso_has - is @addr (AF_INET / AF_INET6, network order) isolated now? */
bool iso_has(const struct iso *iso, int family, const uint8_t *addr);

/* iso_count - entries in force. */
size_t iso_count(const struct iso *iso);

/*
 * iso_handle - answer @req when its "cmd" is one of the four above;
 * NULL when it is not (ctl.c's commands). @uid: the peer's (SO_PEERCRED).
 */
json_t *iso_handle(struct iso *iso, const json_t *req, uid_t uid,
		   const struct comp_policy *pol, uint64_t generation);

/*
 * Break-glass (docs/operations.md): time-bound allows in the pinned map
 * segd_breakglass_v1 (docs/datapath.md step 11b), persisted in
 * <state_dir>/breakglass.json, audited in the same trail.
 *   {"cmd":"breakglass","from":A,"to":B,"service":S,"for":SECONDS,
 *    "reason":R,"ticket":T}
 *   {"cmd":"breakglass_list"}
 *   {"cmd":"revoke","id":N,"reason":R}
 * A, B: segment or device names of the policy in force; S: a service.
 *
 * iso_bg_open - after iso_open: read breakglass.json (a corrupt file:
 * -EINVAL, @err naming it) and make @map_fd hold exactly it.
 */
#define ISO_DEFAULT_MAX_BG_S 86400	/* --max-breakglass default: 24h */
int iso_bg_open(struct iso *iso, int map_fd, uint64_t max_s,
		uint64_t generation, char *err, size_t errlen);

/*
 * iso_bg_check - after a policy change (and at start): revoke (audit
 * "revoke", uid -1) every allow whose segment or device name is gone or
 * now names another identity.
 */
void iso_bg_check(struct iso *iso, const struct comp_policy *pol,
		  uint64_t generation);

/* iso_bg_keys - the map keys of the allows in force (free() *out). */
size_t iso_bg_keys(const struct iso *iso, struct segd_bg_key **out);

/*
 * iso_parse_duration - "90", "90s", "15m", "2h", "7d" -> seconds (> 0).
 * 0 or -EINVAL.
 */
int iso_parse_duration(const char *s, uint64_t *secs);

#endif /* SEGD_ISOLATE_H */
