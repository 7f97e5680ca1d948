// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * isolate.c - see isolate.h.
 *
 * Order of an isolate: validate everything first (nothing changes on a
 * refusal); write the map entries (from here on every packet from or to
 * the host is dropped); delete the host's conntrack entries; write the
 * state file; append the audit records (fsync); answer. A release deletes
 * the map entries, then writes state and audit. A crash between the map
 * and the state file is repaired at the next start (iso_open keeps map
 * entries the state file lacks): it never lifts an isolation.
 *
 * Break-glass (iso_bg_*, bg_*) follows the same order (map, state, audit)
 * but fails the other way: at start the map is made to hold exactly
 * breakglass.json, so an allow the file lacks is removed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "../include/segd_abi.h"
#include "audit.h"
#include "ctdel.h"
#include "ctl.h"
#include "errbuf.h"
#include "isolate.h"
#include "log.h"
#include "state.h"

struct iso {
	char state_path[PATH_MAX];
	char audit_path[PATH_MAX];
	uint64_t max_s;
	int map_fd;
	int tfd;
	struct state_entry *v;
	size_t n;
	/* break-glass (iso_bg_open) */
	char bg_path[PATH_MAX];
	int bg_fd;		/* segd_breakglass_v1, -1 until iso_bg_open */
	uint64_t max_bg_s;
	struct state_bg *bg;
	size_t n_bg;
	uint32_t bg_next_id;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void entry_key(const struct state_entry *e, struct segd_iso_key *k)
{
	memset(k, 0, sizeof(*k));
	k->kind = e->kind;
	memcpy(k->addr, e->addr, e->kind == SEGD_ISO_IPV4 ? 4 :
				 e->kind == SEGD_ISO_MAC ? 6 : 16);
}

/* The map value for @e: wall-clock until -> ktime deadline. */
static void entry_value(const struct state_entry *e, time_t now,
			struct segd_iso_value *val)
{
	memset(val, 0, sizeof(*val));
	if (e->until)
		val->expires_ns = mono_ns() +
			(uint64_t)(e->until > now ? e->until - now : 0) *
				1000000000ull;
}

int iso_parse_duration(const char *s, uint64_t *secs)
{
	unsigned long long v;
	char *end;
	uint64_t mul = 1;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	if (!strcmp(end, "") || !strcmp(end, "s"))
		mul = 1;
	else if (!strcmp(end, "m"))
		mul = 60;
	else if (!strcmp(end, "h"))
		mul = 3600;
	else if (!strcmp(end, "d"))
		mul = 86400;
	else
		return -EINVAL;
	if (!v || v > UINT64_MAX / mul / 1000000000ull)
		return -EINVAL;
	*secs = v * mul;
	return 0;
}

static void rfc3339(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void arm_timer(struct iso *iso)
{
	struct itimerspec its = { 0 };
	int64_t next = 0;
	size_t i;

	for (i = 0; i < iso->n; i++)
		if (iso->v[i].until && (!next || iso->v[i].until < next))
			next = iso->v[i].until;
	for (i = 0; i < iso->n_bg; i++)
		if (!next || iso->bg[i].until < next)
			next = iso->bg[i].until;
	if (next) {
		/* absolute wall clock: a timed isolation ends on the second */
		its.it_value.tv_sec = (time_t)next;
		its.it_value.tv_nsec = 1;
	}
	if (timerfd_settime(iso->tfd, TFD_TIMER_ABSTIME, &its, NULL))
		pr_warn("isolation timer: %s", strerror(errno));
}

/* One audit record for entry @e. */
static void audit(struct iso *iso, const char *action,
		  const struct state_entry *e, int64_t uid, const char *reason,
		  const char *ticket, uint64_t generation)
{
	char ts[40], addr[64], until[32], uidbuf[24], err[512];
	json_t *rec, *src;

	audit_timestamp(ts, sizeof(ts));
	state_addr_str(e, addr, sizeof(addr));
	snprintf(uidbuf, sizeof(uidbuf), "%" PRId64, uid);
	src = json_pack("{s:s}", e->kind == SEGD_ISO_MAC ? "mac" : "ip", addr);
	rec = json_pack("{s:s, s:{s:s, s:s, s:s}, s:{s:s}, s:o, s:s, s:s*, s:{s:I, s:s}}",
			"@timestamp", ts,
			"event", "action", action, "kind", "event",
			"module", "segd",
			"user", "id", uidbuf,
			"source", src,
			"reason", reason,
			"ticket", ticket && *ticket ? ticket : NULL,
			"segd", "generation", (json_int_t)generation,
			"host", e->host);
	if (rec && e->until && strcmp(action, "release")) {
		rfc3339(e->until, until, sizeof(until));
		json_object_set_new(json_object_get(rec, "segd"), "until",
				    json_string(until));
	}
	if (!rec || audit_append(iso->audit_path, rec, err, sizeof(err)))
		pr_err("%s", rec ? err : "audit record: out of memory");
	pr_info("isolation %s: %s (%s) by uid %" PRId64 ": %s", action, addr,
		e->host, uid, reason);
	json_decref(rec);
}

static int save(struct iso *iso, char *err, size_t errlen)
{
	return state_save(iso->state_path, iso->v, iso->n, err, errlen);
}

static void drop_at(struct iso *iso, size_t i)
{
	memmove(&iso->v[i], &iso->v[i + 1], (iso->n - i - 1) * sizeof(*iso->v));
	iso->n--;
}

static void bg_expire(struct iso *iso, time_t now, uint64_t generation);

void iso_expire(struct iso *iso, uint64_t generation)
{
	time_t now = time(NULL);
	uint64_t exp;
	char err[512];
	bool changed = false;
	size_t i;

	if (!iso)
		return;
	if (read(iso->tfd, &exp, sizeof(exp)) < 0 && errno != EAGAIN)
		pr_debug("isolation timer read: %s", strerror(errno));
	for (i = 0; i < iso->n;) {
		struct state_entry e = iso->v[i];
		struct segd_iso_key k;

		if (!e.until || e.until > now) {
			i++;
			continue;
		}
		entry_key(&e, &k);
		if (bpf_map_delete_elem(iso->map_fd, &k) && errno != ENOENT)
			pr_warn("deleting an expired isolation: %s",
				strerror(errno));
		drop_at(iso, i);
		changed = true;
		audit(iso, "expire", &e, -1, e.reason, e.ticket, generation);
	}
	if (changed && save(iso, err, sizeof(err)))
		pr_err("%s", err);
	bg_expire(iso, now, generation);
	arm_timer(iso);
}

static ssize_t find(const struct iso *iso, uint8_t kind, const uint8_t *addr)
{
	size_t i, len = kind == SEGD_ISO_IPV4 ? 4 : kind == SEGD_ISO_MAC ? 6 : 16;

	for (i = 0; i < iso->n; i++)
		if (iso->v[i].kind == kind && !memcmp(iso->v[i].addr, addr, len))
			return (ssize_t)i;
	return -1;
}

bool iso_has(const struct iso *iso, int family, const uint8_t *addr)
{
	ssize_t i;

	if (!iso)
		return false;
	i = find(iso, family == AF_INET ? SEGD_ISO_IPV4 : SEGD_ISO_IPV6, addr);
	return i >= 0 && (!iso->v[i].until || iso->v[i].until > time(NULL));
}

size_t iso_count(const struct iso *iso)
{
	return iso ? iso->n : 0;
}

int iso_timer_fd(const struct iso *iso)
{
	return iso ? iso->tfd : -1;
}

void iso_free(struct iso *iso)
{
	if (!iso)
		return;
	if (iso->tfd >= 0)
		close(iso->tfd);
	free(iso->v);
	free(iso->bg);
	free(iso);
}

int iso_open(struct iso **out, const char *state_dir, uint64_t max_s,
	     int map_fd, uint64_t generation, char *err, size_t errlen)
{
	struct segd_iso_key k, next;
	struct segd_iso_value val;
	struct iso *iso;
	time_t now = time(NULL);
	uint64_t mono = mono_ns();
	bool changed = false;
	size_t i;
	int ret;

	*out = NULL;
	iso = calloc(1, sizeof(*iso));
	if (!iso) {
		err_set(err, errlen, "out of memory");
		return -ENOMEM;
	}
	iso->map_fd = map_fd;
	iso->max_s = max_s;
	iso->tfd = -1;
	iso->bg_fd = -1;
	if (mkdir(state_dir, 0700) && errno != EEXIST) {
		ret = -errno;
		err_set(err, errlen, "state dir \"%s\": %s", state_dir,
			strerror(errno));
		goto fail;
	}
	if (snprintf(iso->state_path, sizeof(iso->state_path), "%s/%s",
		     state_dir, STATE_FILE_NAME) >= (int)sizeof(iso->state_path) ||
	    snprintf(iso->audit_path, sizeof(iso->audit_path), "%s/%s",
		     state_dir, AUDIT_FILE_NAME) >= (int)sizeof(iso->audit_path)) {
		ret = -ENAMETOOLONG;
		err_set(err, errlen, "state dir \"%s\": name too long",
			state_dir);
		goto fail;
	}
	iso->tfd = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC);
	if (iso->tfd < 0) {
		ret = -errno;
		err_set(err, errlen, "timerfd: %s", strerror(errno));
		goto fail;
	}
	ret = state_load(iso->state_path, &iso->v, &iso->n, err, errlen);
	if (ret == -ENOENT) {
		ret = 0;
	} else if (ret) {
		goto fail;
	}
	{
		struct state_entry *v = realloc(iso->v, (iso->n + SEGD_MAX_ISOLATED) *
							sizeof(*v));

		if (!v) {
			ret = -ENOMEM;
			err_set(err, errlen, "out of memory");
			goto fail;
		}
		iso->v = v;
	}
	/* Map entries the state file lacks: kept (fail closed), recorded. */
	if (!bpf_map_get_next_key(map_fd, NULL, &k)) {
		for (;;) {
			int last = bpf_map_get_next_key(map_fd, &k, &next);

			if (!bpf_map_lookup_elem(map_fd, &k, &val) &&
			    find(iso, k.kind, k.addr) < 0 &&
			    (k.kind == SEGD_ISO_IPV4 || k.kind == SEGD_ISO_IPV6 ||
			     k.kind == SEGD_ISO_MAC) &&
			    iso->n < SEGD_MAX_ISOLATED) {
				struct state_entry *e = &iso->v[iso->n];

				memset(e, 0, sizeof(*e));
				e->kind = k.kind;
				memcpy(e->addr, k.addr, sizeof(e->addr));
				state_addr_str(e, e->host, sizeof(e->host));
				e->since = now;
				e->uid = -1;
				if (val.expires_ns)
					e->until = val.expires_ns > mono ?
						now + (int64_t)((val.expires_ns - mono) / 1000000000ull) + 1 :
						now;
				snprintf(e->reason, sizeof(e->reason),
					 "recovered from the pinned map (not in the state file)");
				iso->n++;
				changed = true;
				pr_warn("isolation of %s found in the pinned map only: kept, recorded in %s",
					e->host, iso->state_path);
				audit(iso, "recover", e, -1, e->reason, "",
				      generation);
			}
			if (last)
				break;
			k = next;
		}
	}
	/* The map holds exactly the state from here on. */
	for (i = 0; i < iso->n; i++) {
		entry_key(&iso->v[i], &k);
		entry_value(&iso->v[i], now, &val);
		if (bpf_map_update_elem(map_fd, &k, &val, BPF_ANY)) {
			ret = -errno;
			err_set(err, errlen, "restoring isolation into %s: %s",
				SEGD_MAP_ISOLATED, strerror(errno));
			goto fail;
		}
	}
	if (changed && save(iso, err, errlen)) {
		ret = -EIO;
		goto fail;
	}
	*out = iso;
	iso_expire(iso, generation);
	if (iso->n)
		pr_info("%zu isolation entr%s restored from %s", iso->n,
			iso->n == 1 ? "y" : "ies", iso->state_path);
	return 0;
fail:
	iso_free(iso);
	return ret;
}

/* ---------------------------------------------------------------- */
/* Requests                                                           */
/* ---------------------------------------------------------------- */

static int parse_mac(const char *s, uint8_t *mac)
{
	unsigned int b[6];
	char tail;

	if (strlen(s) != 17 ||
	    sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3],
		   &b[4], &b[5], &tail) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	return 0;
}

/* HOST -> entries (kind, addr, host name) in @v (room for 64). */
static int resolve(const struct comp_policy *pol, const char *host,
		   struct state_entry *v, size_t *n, char *err, size_t errlen)
{
	const struct comp_identity *id = NULL;
	size_t i;

	*n = 0;
	memset(v, 0, sizeof(*v));
	if (inet_pton(AF_INET, host, v->addr) == 1) {
		v->kind = SEGD_ISO_IPV4;
	} else if (inet_pton(AF_INET6, host, v->addr) == 1) {
		v->kind = SEGD_ISO_IPV6;
	} else if (!parse_mac(host, v->addr)) {
		v->kind = SEGD_ISO_MAC;
	}
	if (v->kind) {
		state_addr_str(v, v->host, sizeof(v->host));
		*n = 1;
		return 0;
	}
	for (i = 0; pol && i < pol->n_ids; i++)
		if (pol->ids[i].kind == SEGD_KIND_DEVICE &&
		    !strcmp(pol->ids[i].name, host))
			id = &pol->ids[i];
	if (!id) {
		err_set(err, errlen,
			"host \"%s\" is not an IPv4 or IPv6 address, a MAC or a device of the policy in force",
			host);
		return -EINVAL;
	}
	for (i = 0; i < pol->n_host4 && *n < 64; i++) {
		if (pol->host4[i].ep.id != id->id)
			continue;
		memset(&v[*n], 0, sizeof(*v));
		v[*n].kind = SEGD_ISO_IPV4;
		memcpy(v[*n].addr, pol->host4[i].addr, 4);
		snprintf(v[(*n)++].host, sizeof(v->host), "%s", host);
	}
	for (i = 0; i < pol->n_host6 && *n < 64; i++) {
		if (pol->host6[i].ep.id != id->id)
			continue;
		memset(&v[*n], 0, sizeof(*v));
		v[*n].kind = SEGD_ISO_IPV6;
		memcpy(v[*n].addr, pol->host6[i].addr, 16);
		snprintf(v[(*n)++].host, sizeof(v->host), "%s", host);
	}
	for (i = 0; i < pol->n_macs && *n < 64; i++) {
		if (pol->macs[i].ep.id != id->id)
			continue;
		memset(&v[*n], 0, sizeof(*v));
		v[*n].kind = SEGD_ISO_MAC;
		memcpy(v[*n].addr, pol->macs[i].mac, 6);
		snprintf(v[(*n)++].host, sizeof(v->host), "%s", host);
	}
	if (!*n) {
		err_set(err, errlen,
			"device \"%s\" has no address or MAC of its own to isolate (it is known by its segment's prefixes only); isolate its address",
			host);
		return -EINVAL;
	}
	return 0;
}

/* Refuse the gateway's own addresses and remediation targets. */
static int refuse_special(const struct comp_policy *pol,
			  const struct state_entry *e, const char *host,
			  char *err, size_t errlen)
{
	struct comp_probe q = { 0 };
	struct comp_verdict out;
	const struct comp_identity *id;
	char addr[64];
	size_t i;

	if (!pol || e->kind == SEGD_ISO_MAC)
		return 0;
	q.family = e->kind == SEGD_ISO_IPV4 ? AF_INET : AF_INET6;
	memcpy(q.src, e->addr, 16);
	memcpy(q.dst, e->addr, 16);
	q.proto = IPPROTO_TCP;
	q.dport = 1;
	comp_explain(pol, &q, &out);
	state_addr_str(e, addr, sizeof(addr));
	if (out.dst.id == SEGD_ID_GATEWAY) {
		err_set(err, errlen,
			"refusing to isolate \"%s\": %s is the gateway's own (isolating it would cut every segment off from its gateway)",
			host, addr);
		return -EPERM;
	}
	for (i = 0; i < pol->n_allows; i++) {
		if (pol->allows[i].src_id != SEGD_ID_ISOLATED ||
		    pol->allows[i].dst_id != out.dst.id)
			continue;
		id = comp_identity(pol, out.dst.id);
		err_set(err, errlen,
			"refusing to isolate \"%s\": %s is a remediation target (%s, in isolation.still_allowed) that isolated hosts must keep reaching",
			host, addr, id ? id->name : "?");
		return -EPERM;
	}
	return 0;
}

static json_t *entry_json(const struct state_entry *e)
{
	char addr[64], since[32], until[32];
	json_t *o;

	state_addr_str(e, addr, sizeof(addr));
	rfc3339(e->since, since, sizeof(since));
	if (e->until)
		rfc3339(e->until, until, sizeof(until));
	o = json_pack("{s:s, s:s, s:s, s:s, s:s*, s:I, s:s, s:s*}",
		      "host", e->host, "address", addr, "kind",
		      state_kind_name(e->kind), "since", since, "until",
		      e->until ? until : NULL, "uid", (json_int_t)e->uid,
		      "reason", e->reason, "ticket",
		      *e->ticket ? e->ticket : NULL);
	return o;
}

static int get_opt_str(const json_t *req, const char *key, const char **out,
		       size_t max, char *err, size_t errlen)
{
	json_t *v = json_object_get(req, key);

	*out = NULL;
	if (!v)
		return 0;
	if (!json_is_string(v)) {
		err_set(err, errlen, "\"%s\" must be a string", key);
		return -EINVAL;
	}
	if (json_string_length(v) >= max ||
	    strlen(json_string_value(v)) != json_string_length(v)) {
		err_set(err, errlen, "\"%s\" is too long (at most %zu bytes)",
			key, max - 1);
		return -EINVAL;
	}
	*out = json_string_value(v);
	return 0;
}

static int check_keys(const json_t *req, const char *const *keys,
		      char *err, size_t errlen)
{
	const char *key;
	json_t *v;
	size_t i;

	json_object_foreach((json_t *)req, key, v) {
		for (i = 0; keys[i]; i++)
			if (!strcmp(key, keys[i]))
				break;
		if (!keys[i]) {
			err_set(err, errlen, "unknown key \"%s\" for cmd \"%s\"",
				key, json_string_value(json_object_get(req, "cmd")));
			return -EINVAL;
		}
	}
	return 0;
}

static json_t *do_isolate(struct iso *iso, const json_t *req, uid_t uid,
			  const struct comp_policy *pol, uint64_t generation)
{
	static const char *const keys[] = { "cmd", "host", "reason", "for",
					    "ticket", NULL };
	struct state_entry v[64];
	const char *host, *reason, *ticket;
	json_t *fv, *addrs, *r;
	uint64_t t0 = mono_ns(), secs = 0;
	time_t now = time(NULL);
	char err[512];
	size_t n, i, added = 0;
	int ct = 0, ret;

	if (check_keys(req, keys, err, sizeof(err)) ||
	    get_opt_str(req, "host", &host, 256, err, sizeof(err)) ||
	    get_opt_str(req, "reason", &reason, STATE_REASON_LEN, err, sizeof(err)) ||
	    get_opt_str(req, "ticket", &ticket, STATE_TICKET_LEN, err, sizeof(err)))
		return ctl_error_response("%s", err);
	if (!host || !*host)
		return ctl_error_response("isolate: \"host\" is required");
	if (!reason || !*reason)
		return ctl_error_response("isolate: a reason is required (--reason TEXT): the audit trail says why");
	fv = json_object_get(req, "for");
	if (fv) {
		if (!json_is_integer(fv) || json_integer_value(fv) <= 0)
			return ctl_error_response("\"for\" must be a positive number of seconds");
		secs = (uint64_t)json_integer_value(fv);
		if (secs > iso->max_s)
			return ctl_error_response("--for %" PRIu64 "s is longer than the maximum isolation of %" PRIu64 "s (segd --max-isolation); isolate without --for to hold until released",
						  secs, iso->max_s);
	}
	ret = resolve(pol, host, v, &n, err, sizeof(err));
	if (ret)
		return ctl_error_response("%s", err);
	for (i = 0; i < n; i++) {
		if (refuse_special(pol, &v[i], host, err, sizeof(err)))
			return ctl_error_response("%s", err);
		if (find(iso, v[i].kind, v[i].addr) < 0)
			added++;
	}
	if (iso->n + added > SEGD_MAX_ISOLATED)
		return ctl_error_response("too many isolated hosts (at most %d)",
					  SEGD_MAX_ISOLATED);
	/* 1. the map: from here on the host's packets are dropped */
	for (i = 0; i < n; i++) {
		struct segd_iso_key k;
		struct segd_iso_value val;

		v[i].since = now;
		v[i].until = secs ? now + (int64_t)secs : 0;
		v[i].uid = uid;
		snprintf(v[i].reason, sizeof(v[i].reason), "%s", reason);
		snprintf(v[i].ticket, sizeof(v[i].ticket), "%s", ticket ?: "");
		entry_key(&v[i], &k);
		memset(&val, 0, sizeof(val));
		if (secs)
			val.expires_ns = t0 + secs * 1000000000ull;
		if (bpf_map_update_elem(iso->map_fd, &k, &val, BPF_ANY))
			return ctl_error_response("writing %s: %s",
						  SEGD_MAP_ISOLATED, strerror(errno));
	}
	/* 2. its live sessions: neither direction goes on as a reply */
	for (i = 0; i < n; i++) {
		if (v[i].kind == SEGD_ISO_MAC)
			continue;
		ret = ctdel_host(v[i].kind == SEGD_ISO_IPV4 ? AF_INET : AF_INET6,
				 v[i].addr, err, sizeof(err));
		if (ret < 0)
			pr_warn("isolate %s: %s", host, err);
		else
			ct += ret;
	}
	/* 3. state and audit */
	for (i = 0; i < n; i++) {
		ssize_t at = find(iso, v[i].kind, v[i].addr);

		if (at >= 0)
			iso->v[at] = v[i];
		else
			iso->v[iso->n++] = v[i];
	}
	if (save(iso, err, sizeof(err)))
		pr_err("%s", err);
	addrs = json_array();
	for (i = 0; i < n; i++) {
		audit(iso, "isolate", &v[i], uid, reason, ticket, generation);
		json_array_append_new(addrs, entry_json(&v[i]));
	}
	arm_timer(iso);
	r = json_pack("{s:b, s:s, s:o, s:i, s:f}", "ok", 1, "host", host,
		      "isolated", addrs, "conntrack_deleted", ct, "elapsed_ms",
		      (double)(mono_ns() - t0) / 1e6);
	return r ? r : ctl_error_response("out of memory");
}

static json_t *do_release(struct iso *iso, const json_t *req, uid_t uid,
			  const struct comp_policy *pol, uint64_t generation)
{
	static const char *const keys[] = { "cmd", "host", "reason", NULL };
	struct state_entry v[64];
	const char *host, *reason;
	char err[512];
	size_t n = 0, i, done = 0;
	json_t *addrs;

	if (check_keys(req, keys, err, sizeof(err)) ||
	    get_opt_str(req, "host", &host, 256, err, sizeof(err)) ||
	    get_opt_str(req, "reason", &reason, STATE_REASON_LEN, err, sizeof(err)))
		return ctl_error_response("%s", err);
	if (!host || !*host)
		return ctl_error_response("release: \"host\" is required");
	if (!reason || !*reason)
		return ctl_error_response("release: a reason is required (--reason TEXT): the audit trail says why");
	/* by the name it was isolated under first (a device renamed or
	 * removed since still releases), else as an address */
	for (i = 0; i < iso->n && n < 64; i++)
		if (!strcmp(iso->v[i].host, host))
			v[n++] = iso->v[i];
	if (!n && resolve(pol, host, v, &n, err, sizeof(err)))
		return ctl_error_response("%s", err);
	addrs = json_array();
	for (i = 0; i < n; i++) {
		ssize_t at = find(iso, v[i].kind, v[i].addr);
		struct segd_iso_key k;
		struct state_entry e;

		if (at < 0)
			continue;
		e = iso->v[at];
		entry_key(&e, &k);
		if (bpf_map_delete_elem(iso->map_fd, &k) && errno != ENOENT) {
			json_decref(addrs);
			return ctl_error_response("deleting from %s: %s",
						  SEGD_MAP_ISOLATED, strerror(errno));
		}
		drop_at(iso, (size_t)at);
		audit(iso, "release", &e, uid, reason, NULL, generation);
		json_array_append_new(addrs, entry_json(&e));
		done++;
	}
	if (!done) {
		json_decref(addrs);
		return ctl_error_response("\"%s\" is not isolated", host);
	}
	if (save(iso, err, sizeof(err)))
		pr_err("%s", err);
	arm_timer(iso);
	return json_pack("{s:b, s:s, s:o}", "ok", 1, "host", host, "released",
			 addrs);
}

/* ---------------------------------------------------------------- */
/* Break-glass                                                        */
/* ---------------------------------------------------------------- */

static void bg_key(const struct state_bg *e, size_t k, struct segd_bg_key *out)
{
	memset(out, 0, sizeof(*out));
	out->src_id = e->src_id;
	out->dst_id = e->dst_id;
	out->proto = e->proto[k];
	out->port = e->port[k];
}

/* The map entries of @e: wall-clock until -> ktime deadline. */
static int bg_write(struct iso *iso, const struct state_bg *e, time_t now)
{
	struct segd_bg_value val = { .id = e->id };
	struct segd_bg_key k;
	size_t i;

	val.expires_ns = mono_ns() +
		(uint64_t)(e->until > now ? e->until - now : 0) * 1000000000ull;
	for (i = 0; i < e->n_keys; i++) {
		bg_key(e, i, &k);
		if (bpf_map_update_elem(iso->bg_fd, &k, &val, BPF_ANY))
			return -errno;
	}
	return 0;
}

static void bg_unwrite(struct iso *iso, const struct state_bg *e)
{
	struct segd_bg_key k;
	size_t i;

	for (i = 0; i < e->n_keys; i++) {
		bg_key(e, i, &k);
		if (bpf_map_delete_elem(iso->bg_fd, &k) && errno != ENOENT)
			pr_warn("deleting break-glass %u from %s: %s", e->id,
				SEGD_MAP_BREAKGLASS, strerror(errno));
	}
}

static void bg_audit(struct iso *iso, const char *action,
		     const struct state_bg *e, int64_t uid, const char *reason,
		     uint64_t generation)
{
	char ts[40], until[32], uidbuf[24], err[512];
	json_t *rec;

	audit_timestamp(ts, sizeof(ts));
	rfc3339(e->until, until, sizeof(until));
	snprintf(uidbuf, sizeof(uidbuf), "%" PRId64, uid);
	rec = json_pack("{s:s, s:{s:s, s:s, s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:s, s:s*, s:{s:I, s:I, s:s}}",
			"@timestamp", ts,
			"event", "action", action, "kind", "event",
			"module", "segd",
			"user", "id", uidbuf,
			"source", "segment", e->from,
			"destination", "segment", e->to,
			"service", "name", e->service,
			"reason", reason,
			"ticket", *e->ticket ? e->ticket : NULL,
			"segd", "generation", (json_int_t)generation,
			"breakglass", (json_int_t)e->id, "until", until);
	if (!rec || audit_append(iso->audit_path, rec, err, sizeof(err)))
		pr_err("%s", rec ? err : "audit record: out of memory");
	pr_info("break-glass %s: #%u %s -> %s %s until %s by uid %" PRId64 ": %s",
		action, e->id, e->from, e->to, e->service, until, uid, reason);
	json_decref(rec);
}

static int bg_save(struct iso *iso, char *err, size_t errlen)
{
	return state_bg_save(iso->bg_path, iso->bg, iso->n_bg, err, errlen);
}

static void bg_drop_at(struct iso *iso, size_t i)
{
	memmove(&iso->bg[i], &iso->bg[i + 1],
		(iso->n_bg - i - 1) * sizeof(*iso->bg));
	iso->n_bg--;
}

static void bg_expire(struct iso *iso, time_t now, uint64_t generation)
{
	bool changed = false;
	char err[512];
	size_t i;

	for (i = 0; i < iso->n_bg;) {
		struct state_bg e = iso->bg[i];

		if (e.until > now) {
			i++;
			continue;
		}
		bg_unwrite(iso, &e);
		bg_drop_at(iso, i);
		changed = true;
		bg_audit(iso, "expire", &e, -1, e.reason, generation);
	}
	if (changed && bg_save(iso, err, sizeof(err)))
		pr_err("%s", err);
}

/* A segment or device name of the policy in force. */
static int bg_resolve(const struct comp_policy *pol, const char *name,
		      uint32_t *id, char *err, size_t errlen)
{
	size_t i;

	for (i = 0; pol && i < pol->n_ids; i++) {
		const struct comp_identity *c = &pol->ids[i];

		if ((c->kind == SEGD_KIND_SEGMENT || c->kind == SEGD_KIND_DEVICE) &&
		    !strcmp(c->name, name)) {
			*id = c->id;
			return 0;
		}
	}
	err_set(err, errlen, "\"%s\" is not a segment or device of the policy in force",
		name);
	return -ENOENT;
}

int iso_bg_open(struct iso *iso, int map_fd, uint64_t max_s,
		uint64_t generation, char *err, size_t errlen)
{
	struct segd_bg_key k;
	time_t now = time(NULL);
	size_t i;
	int ret;

	if (snprintf(iso->bg_path, sizeof(iso->bg_path), "%s", iso->state_path) >=
	    (int)sizeof(iso->bg_path))
		return -ENAMETOOLONG;
	/* same directory as isolation.json */
	snprintf(strrchr(iso->bg_path, '/') + 1,
		 sizeof(iso->bg_path) - (size_t)(strrchr(iso->bg_path, '/') + 1 - iso->bg_path),
		 "%s", STATE_BG_FILE_NAME);
	ret = state_bg_load(iso->bg_path, &iso->bg, &iso->n_bg, err, errlen);
	if (ret == -ENOENT)
		ret = 0;
	if (ret)
		return ret;
	{
		struct state_bg *v = realloc(iso->bg, (iso->n_bg + SEGD_MAX_BREAKGLASS) *
							sizeof(*v));

		if (!v) {
			err_set(err, errlen, "out of memory");
			return -ENOMEM;
		}
		iso->bg = v;
	}
	iso->bg_fd = map_fd;
	iso->max_bg_s = max_s;
	/* The map holds exactly the state file: an allow the file lacks
	 * (a crash before the state write) is removed, failing closed. */
	while (!bpf_map_get_next_key(map_fd, NULL, &k))
		if (bpf_map_delete_elem(map_fd, &k))
			break;
	iso->bg_next_id = 1;
	for (i = 0; i < iso->n_bg; i++) {
		if (iso->bg[i].id >= iso->bg_next_id)
			iso->bg_next_id = iso->bg[i].id + 1;
		ret = bg_write(iso, &iso->bg[i], now);
		if (ret) {
			err_set(err, errlen, "restoring break-glass into %s: %s",
				SEGD_MAP_BREAKGLASS, strerror(-ret));
			return ret;
		}
	}
	if (iso->n_bg)
		pr_info("%zu break-glass allow%s restored from %s", iso->n_bg,
			iso->n_bg == 1 ? "" : "s", iso->bg_path);
	iso_expire(iso, generation);
	return 0;
}

void iso_bg_check(struct iso *iso, const struct comp_policy *pol,
		  uint64_t generation)
{
	char err[512], why[STATE_REASON_LEN];
	bool changed = false;
	uint32_t sid, did;
	size_t i;

	if (!iso || iso->bg_fd < 0 || !pol)
		return;
	for (i = 0; i < iso->n_bg;) {
		struct state_bg e = iso->bg[i];

		if (!bg_resolve(pol, e.from, &sid, err, sizeof(err)) &&
		    !bg_resolve(pol, e.to, &did, err, sizeof(err)) &&
		    sid == e.src_id && did == e.dst_id) {
			i++;
			continue;
		}
		/* its identity may go to another name later: never keep an
		 * allow for a number that no longer means what was granted */
		bg_unwrite(iso, &e);
		bg_drop_at(iso, i);
		changed = true;
		snprintf(why, sizeof(why), "%s or %s is no longer in the policy",
			 e.from, e.to);
		pr_warn("break-glass #%u revoked: %s", e.id, why);
		bg_audit(iso, "revoke", &e, -1, why, generation);
	}
	if (changed && bg_save(iso, err, sizeof(err)))
		pr_err("%s", err);
	arm_timer(iso);
}

size_t iso_bg_keys(const struct iso *iso, struct segd_bg_key **out)
{
	time_t now = time(NULL);
	size_t i, k, n = 0;

	*out = NULL;
	if (!iso || !iso->n_bg)
		return 0;
	*out = calloc(iso->n_bg * STATE_BG_MAX_KEYS, sizeof(**out));
	if (!*out)
		return 0;
	for (i = 0; i < iso->n_bg; i++)
		for (k = 0; iso->bg[i].until > now && k < iso->bg[i].n_keys; k++)
			bg_key(&iso->bg[i], k, &(*out)[n++]);
	return n;
}

static json_t *bg_json(const struct state_bg *e)
{
	char since[32], until[32];

	rfc3339(e->since, since, sizeof(since));
	rfc3339(e->until, until, sizeof(until));
	return json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:s*}",
			 "id", (json_int_t)e->id, "from", e->from, "to", e->to,
			 "service", e->service, "since", since, "until", until,
			 "remaining_s", (json_int_t)(e->until - time(NULL)),
			 "uid", (json_int_t)e->uid, "reason", e->reason,
			 "ticket", *e->ticket ? e->ticket : NULL);
}

static json_t *do_breakglass(struct iso *iso, const json_t *req, uid_t uid,
			     const struct comp_policy *pol,
			     uint64_t generation)
{
	static const char *const keys[] = { "cmd", "from", "to", "service",
					    "for", "reason", "ticket", NULL };
	const char *from, *to, *svc, *reason, *ticket;
	struct state_bg e;
	struct segd_bg_key k;
	struct segd_bg_value old;
	time_t now = time(NULL);
	char err[512];
	json_t *fv;
	size_t i, j;
	int ret;

	memset(&e, 0, sizeof(e));
	if (check_keys(req, keys, err, sizeof(err)) ||
	    get_opt_str(req, "from", &from, STATE_HOST_LEN, err, sizeof(err)) ||
	    get_opt_str(req, "to", &to, STATE_HOST_LEN, err, sizeof(err)) ||
	    get_opt_str(req, "service", &svc, STATE_HOST_LEN, err, sizeof(err)) ||
	    get_opt_str(req, "reason", &reason, STATE_REASON_LEN, err, sizeof(err)) ||
	    get_opt_str(req, "ticket", &ticket, STATE_TICKET_LEN, err, sizeof(err)))
		return ctl_error_response("%s", err);
	if (!from || !to || !svc || !*from || !*to || !*svc)
		return ctl_error_response("breakglass: \"from\", \"to\" and \"service\" are required");
	if (!reason || !*reason)
		return ctl_error_response("breakglass: a reason is required (--reason TEXT): the audit trail says why");
	fv = json_object_get(req, "for");
	if (!json_is_integer(fv) || json_integer_value(fv) <= 0)
		return ctl_error_response("breakglass: \"for\" (a positive number of seconds) is required: a break-glass is time-bound");
	if ((uint64_t)json_integer_value(fv) > iso->max_bg_s)
		return ctl_error_response("--for %llds is longer than the maximum break-glass of %" PRIu64 "s (segd --max-breakglass)",
					  (long long)json_integer_value(fv), iso->max_bg_s);
	if (bg_resolve(pol, from, &e.src_id, err, sizeof(err)) ||
	    bg_resolve(pol, to, &e.dst_id, err, sizeof(err)))
		return ctl_error_response("%s", err);
	if (e.src_id == e.dst_id)
		return ctl_error_response("breakglass: \"%s\" to itself", from);
	for (i = 0; pol && i < pol->n_svcs; i++) {
		if (strcmp(pol->svcs[i].name, svc))
			continue;
		if (e.n_keys == STATE_BG_MAX_KEYS)
			return ctl_error_response("service \"%s\" has more than %d ports",
						  svc, STATE_BG_MAX_KEYS);
		e.proto[e.n_keys] = pol->svcs[i].proto;
		e.port[e.n_keys++] = pol->svcs[i].port;
	}
	if (!e.n_keys)
		return ctl_error_response("\"%s\" is not a service of the policy in force", svc);
	if (iso->n_bg >= SEGD_MAX_BREAKGLASS)
		return ctl_error_response("too many break-glass allows (at most %d)",
					  SEGD_MAX_BREAKGLASS);
	for (i = 0; i < e.n_keys; i++) {
		bg_key(&e, i, &k);
		if (!bpf_map_lookup_elem(iso->bg_fd, &k, &old))
			for (j = 0; j < iso->n_bg; j++)
				if (iso->bg[j].id == old.id)
					return ctl_error_response("break-glass #%u already allows %s -> %s %s; revoke it first",
								  old.id, iso->bg[j].from,
								  iso->bg[j].to, iso->bg[j].service);
	}
	e.id = iso->bg_next_id++;
	snprintf(e.from, sizeof(e.from), "%s", from);
	snprintf(e.to, sizeof(e.to), "%s", to);
	snprintf(e.service, sizeof(e.service), "%s", svc);
	snprintf(e.reason, sizeof(e.reason), "%s", reason);
	snprintf(e.ticket, sizeof(e.ticket), "%s", ticket ?: "");
	e.since = now;
	e.until = now + json_integer_value(fv);
	e.uid = uid;
	/* 1. the map: from here on the flow passes, until the deadline */
	ret = bg_write(iso, &e, now);
	if (ret) {
		bg_unwrite(iso, &e);
		return ctl_error_response("writing %s: %s", SEGD_MAP_BREAKGLASS,
					  strerror(-ret));
	}
	/* 2. state and audit */
	iso->bg[iso->n_bg++] = e;
	if (bg_save(iso, err, sizeof(err)))
		pr_err("%s", err);
	bg_audit(iso, "breakglass", &e, uid, reason, generation);
	arm_timer(iso);
	return json_pack("{s:b, s:o}", "ok", 1, "breakglass", bg_json(&e));
}

static json_t *bg_handle(struct iso *iso, const char *cmd, const json_t *req,
			 uid_t uid, const struct comp_policy *pol,
			 uint64_t generation)
{
	static const char *const list_keys[] = { "cmd", NULL };
	static const char *const revoke_keys[] = { "cmd", "id", "reason", NULL };
	const char *reason;
	char err[512];
	json_t *arr, *idv;
	size_t i;

	if (!strcmp(cmd, "breakglass"))
		return do_breakglass(iso, req, uid, pol, generation);
	if (!strcmp(cmd, "breakglass_list")) {
		if (check_keys(req, list_keys, err, sizeof(err)))
			return ctl_error_response("%s", err);
		arr = json_array();
		for (i = 0; arr && i < iso->n_bg; i++)
			json_array_append_new(arr, bg_json(&iso->bg[i]));
		return json_pack("{s:b, s:o}", "ok", 1, "breakglass", arr);
	}
	if (check_keys(req, revoke_keys, err, sizeof(err)) ||
	    get_opt_str(req, "reason", &reason, STATE_REASON_LEN, err, sizeof(err)))
		return ctl_error_response("%s", err);
	idv = json_object_get(req, "id");
	if (!json_is_integer(idv))
		return ctl_error_response("revoke: \"id\" (a break-glass id) is required");
	if (!reason || !*reason)
		return ctl_error_response("revoke: a reason is required (--reason TEXT): the audit trail says why");
	for (i = 0; i < iso->n_bg; i++) {
		struct state_bg e = iso->bg[i];

		if ((json_int_t)e.id != json_integer_value(idv))
			continue;
		bg_unwrite(iso, &e);
		bg_drop_at(iso, i);
		if (bg_save(iso, err, sizeof(err)))
			pr_err("%s", err);
		bg_audit(iso, "revoke", &e, uid, reason, generation);
		arm_timer(iso);
		return json_pack("{s:b, s:o}", "ok", 1, "revoked", bg_json(&e));
	}
	return ctl_error_response("no break-glass #%lld in force",
				  (long long)json_integer_value(idv));
}

json_t *iso_handle(struct iso *iso, const json_t *req, uid_t uid,
		   const struct comp_policy *pol, uint64_t generation)
{
	const char *cmd = json_string_value(json_object_get(req, "cmd"));
	char err[512];
	json_t *arr, *recs;
	size_t i;

	if (cmd && (!strcmp(cmd, "breakglass") || !strcmp(cmd, "revoke") ||
		    !strcmp(cmd, "breakglass_list"))) {
		if (!iso || iso->bg_fd < 0)
			return ctl_error_response("break-glass is not available");
		iso_expire(iso, generation);
		return bg_handle(iso, cmd, req, uid, pol, generation);
	}
	if (!cmd || (strcmp(cmd, "isolate") && strcmp(cmd, "release") &&
		     strcmp(cmd, "isolated") && strcmp(cmd, "history")))
		return NULL;
	if (!iso)
		return ctl_error_response("isolation is not available");
	iso_expire(iso, generation);
	if (!strcmp(cmd, "isolate"))
		return do_isolate(iso, req, uid, pol, generation);
	if (!strcmp(cmd, "release"))
		return do_release(iso, req, uid, pol, generation);
	if (!strcmp(cmd, "isolated")) {
		static const char *const keys[] = { "cmd", NULL };

		if (check_keys(req, keys, err, sizeof(err)))
			return ctl_error_response("%s", err);
		arr = json_array();
		for (i = 0; arr && i < iso->n; i++)
			json_array_append_new(arr, entry_json(&iso->v[i]));
		return json_pack("{s:b, s:o}", "ok", 1, "isolated", arr);
	}
	{
		static const char *const keys[] = { "cmd", "since", NULL };
		json_t *sv = json_object_get(req, "since");

		if (check_keys(req, keys, err, sizeof(err)))
			return ctl_error_response("%s", err);
		if (sv && (!json_is_integer(sv) || json_integer_value(sv) < 0))
			return ctl_error_response("\"since\" must be Unix seconds");
		recs = audit_read(iso->audit_path,
				  sv ? (int64_t)json_integer_value(sv) : 0, err,
				  sizeof(err));
		if (!recs)
			return ctl_error_response("%s", err);
		return json_pack("{s:b, s:o}", "ok", 1, "records", recs);
	}
}
