/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * state.h - the isolation state file, <state-dir>/isolation.json: who is
 * isolated, since when, until when, by whom, why. Written atomically
 * (temp file, fsync, rename, fsync of the directory); read strictly: a
 * file that is not exactly what state_save writes is refused with a
 * message naming the file and what is wrong, never read as empty.
 *
 *   {"version": 1, "isolated": [
 *     {"kind": "ipv4", "address": "10.1.0.10", "host": "ehr-ws-7",
 *      "since": 1764786000, "until": 0, "uid": 0,
 *      "reason": "ransomware alert", "ticket": "INC-1"}, ...]}
 *
 * since/until: Unix seconds (CLOCK_REALTIME); until 0 = until released.
 */
#ifndef SEGD_STATE_H
#define SEGD_STATE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define STATE_FILE_NAME "isolation.json"
#define STATE_HOST_LEN 64
#define STATE_REASON_LEN 256
#define STATE_TICKET_LEN 64

struct state_entry {
	uint8_t kind;		/* SEGD_ISO_IPV4, _IPV6, _MAC */
	uint8_t addr[16];	/* network order; MAC in the first 6 bytes */
	char host[STATE_HOST_LEN];	/* as the operator named it */
	int64_t since;
	int64_t until;		/* 0: until released */
	int64_t uid;		/* -1: unknown (recovered from the map) */
	char reason[STATE_REASON_LEN];
	char ticket[STATE_TICKET_LEN];	/* "" = none */
};

/* state_addr_str - the entry's address as text (inet_ntop, or MAC). */
void state_addr_str(const struct state_entry *e, char *buf, size_t len);

/* state_kind_name - "ipv4", "ipv6" or "mac". */
const char *state_kind_name(uint8_t kind);

/*
 * state_save - write @v atomically to @path. 0 or a negative errno with
 * @err naming the file.
 */
int state_save(const char *path, const struct state_entry *v, size_t n,
	       char *err, size_t errlen);

/*
 * state_load - read @path into a new array (*v, *n; free() it).
 * -ENOENT: no file (not an error for a first start); -EINVAL: the file is
 * corrupt or truncated (@err: "FILE: what is wrong"); other negative errno
 * on I/O errors.
 */
int state_load(const char *path, struct state_entry **v, size_t *n,
	       char *err, size_t errlen);

/*
 * state_write_json - write @root atomically to @path (temp file, fsync,
 * rename, fsync of the directory).
 */
int state_write_json(const char *path, const json_t *root, char *err,
		     size_t errlen);

/*
 * Break-glass allows, <state-dir>/breakglass.json, written and read like
 * isolation.json:
 *
 *   {"version": 1, "breakglass": [
 *     {"id": 3, "from": "guest", "to": "pacs", "service": "dicom",
 *      "src_id": 19, "dst_id": 18, "keys": [[6, 104]],
 *      "since": 1764786000, "until": 1764786300, "uid": 0,
 *      "reason": "PACS viewer down in ER", "ticket": ""}, ...]}
 *
 * keys: the (proto, port) pairs of the service when it was granted.
 */
#define STATE_BG_FILE_NAME "breakglass.json"
#define STATE_BG_MAX_KEYS 16

struct state_bg {
	uint32_t id;
	char from[STATE_HOST_LEN];
	char to[STATE_HOST_LEN];
	char service[STATE_HOST_LEN];
	uint32_t src_id, dst_id;
	uint8_t proto[STATE_BG_MAX_KEYS];
	uint16_t port[STATE_BG_MAX_KEYS];
	size_t n_keys;
	int64_t since;
	int64_t until;		/* always set: a break-glass is time-bound */
	int64_t uid;
	char reason[STATE_REASON_LEN];
	char ticket[STATE_TICKET_LEN];
};

int state_bg_save(const char *path, const struct state_bg *v, size_t n,
		  char *err, size_t errlen);
/* As state_load: -ENOENT, -EINVAL with @err naming the file, ... */
int state_bg_load(const char *path, struct state_bg **v, size_t *n,
		  char *err, size_t errlen);

#endif /* SEGD_STATE_H */
