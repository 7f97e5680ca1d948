// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * config.c - segment files -> validated policy model.
 *
 * Three passes over the documents:
 *   1. load each document with jansson (strict), map every value to its
 *      line and column (jsonpos.c), and read "version", "services" and
 *      "segments" (with their members and devices);
 *   2. read "rules", now that every name of every document is known;
 *   3. cross-checks: the same address, prefix or MAC in two places, and
 *      warnings about segments no rule names.
 * Every problem becomes a diagnostic that quotes the value as the engineer
 * wrote it and says what would be right. Any error fails the whole parse:
 * nothing half-valid ever reaches the compiler.
 *
 * When a document cannot be loaded at all (a JSON syntax error), references
 * to undeclared names are not reported: they are likely declared in the
 * broken document, and a wall of follow-on errors hides the real one.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../include/segd_abi.h"
#include "config.h"
#include "jsonpos.h"

#define NAME_MAX_CHARS (SEGD_NAME_LEN - 1)

enum name_kind { NK_SERVICE, NK_SEGMENT, NK_DEVICE, NK_RULE };

struct name_slot {
	const char *name;	/* owned by the policy model */
	enum name_kind kind;
	size_t index;
};

/* Open-addressing set of names, so that big policies stay linear. */
struct nametab {
	struct name_slot *v;
	size_t n, cap;		/* cap: power of two or 0 */
};

/* A quoted or described value, for messages. */
struct vbuf {
	char s[96];
};

struct pdoc {
	const struct src_doc *src;
	json_t *root;		/* NULL when jansson refused the document */
	struct jpos_map *map;
};

/* An address, prefix or MAC member, for the duplicate checks. */
struct member {
	bool is_mac;
	uint8_t family;
	uint8_t plen;
	uint8_t addr[16];	/* or the MAC in addr[0..5] */
	size_t seg;
	long dev;		/* device index, or -1 for a plain member */
	const char *key;	/* "cidr", "ipv4", "ipv6", "mac" */
	struct vbuf shown;	/* the value, quoted */
	struct cfg_pos pos;
	size_t seq;
};

struct parser {
	struct cfg_policy *p;
	struct cfg_diag *diag;
	struct pdoc *docs;
	size_t n_docs;
	int err;		/* sticky -ENOMEM */
	bool load_failed;	/* some document did not load */
	struct nametab services, ids, rules;
	struct member *members;
	size_t n_members;
	bool *seg_used;
	bool any_used;		/* some rule names "*": every segment is used */
	char **ghosts;		/* devices of undeclared segments */
	size_t n_ghosts;
};

/* A name slot whose declaration failed (already reported). */
#define GHOST_INDEX ((size_t)-1)


static const char *const top_keys[] = { "version", "services", "segments",
					"rules", "isolation", NULL };
static const char *const isolation_keys[] = { "still_allowed", NULL };
static const char *const remedy_keys[] = { "to", "services", NULL };
static const char *const segment_keys[] = { "intra", "mode", "members", NULL };
static const char *const member_keys[] = { "cidr", "ipv4", "ipv6", "mac",
					   "devices", NULL };
static const char *const device_keys[] = { "name", "ipv4", "ipv6", "mac",
					   NULL };
static const char *const entry_keys[] = { "proto", "ports", NULL };
static const char *const rule_keys[] = { "name", "from", "to", "services",
					 NULL };

/* ---------------------------------------------------------------- */
/* Small helpers                                                      */
/* ---------------------------------------------------------------- */

/*
 * Make room for element @n of *@v. Capacity is implicit: the next power of
 * two, so arrays that carry no capacity field still grow geometrically.
 */
static int grow(void *vp, size_t n, size_t size)
{
	void **v = vp;
	void *nv;

	if (n && (n & (n - 1)))
		return 0;
	nv = realloc(*v, (n ? 2 * n : 1) * size);
	if (!nv)
		return -ENOMEM;
	*v = nv;
	return 0;
}

static uint64_t str_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

static struct name_slot *nt_find(const struct nametab *t, const char *name)
{
	size_t i;

	if (!t->cap)
		return NULL;
	i = str_hash(name) & (t->cap - 1);
	while (t->v[i].name) {
		if (!strcmp(t->v[i].name, name))
			return &t->v[i];
		i = (i + 1) & (t->cap - 1);
	}
	return NULL;
}

static int nt_add(struct nametab *t, const char *name, enum name_kind kind,
		  size_t index)
{
	size_t i;

	if (2 * (t->n + 1) > t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 64, k;
		struct name_slot *v = calloc(cap, sizeof(*v));

		if (!v)
			return -ENOMEM;
		for (k = 0; k < t->cap; k++) {
			if (!t->v[k].name)
				continue;
			i = str_hash(t->v[k].name) & (cap - 1);
			while (v[i].name)
				i = (i + 1) & (cap - 1);
			v[i] = t->v[k];
		}
		free(t->v);
		t->v = v;
		t->cap = cap;
	}
	i = str_hash(name) & (t->cap - 1);
	while (t->v[i].name)
		i = (i + 1) & (t->cap - 1);
	t->v[i].name = name;
	t->v[i].kind = kind;
	t->v[i].index = index;
	t->n++;
	return 0;
}

/* Quote @s (of @n bytes) as JSON would, shortened to fit a message. */
static const char *quote(const char *s, size_t n, struct vbuf *b)
{
	const size_t max = sizeof(b->s) - 6;	/* room for ...", NUL */
	size_t o = 0, i = 0;

	b->s[o++] = '"';
	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		char tmp[8];
		size_t tl, adv = 1;

		if (c == '"' || c == '\\') {
			tmp[0] = '\\';
			tmp[1] = (char)c;
			tl = 2;
		} else if (c < 0x20 || c == 0x7f) {
			tl = (size_t)snprintf(tmp, sizeof(tmp), "\\u%04x", c);
		} else {
			/* a whole UTF-8 character, never half of one */
			adv = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
			if (adv > n - i)
				adv = n - i;
			memcpy(tmp, s + i, adv);
			tl = adv;
		}
		if (o + tl > max) {
			memcpy(b->s + o, "...", 3);
			o += 3;
			break;
		}
		memcpy(b->s + o, tmp, tl);
		o += tl;
		i += adv;
	}
	b->s[o++] = '"';
	b->s[o] = '\0';
	return b->s;
}

static const char *quote_str(const char *s, struct vbuf *b)
{
	return quote(s, strlen(s), b);
}

/*
 * How to show a value in a message: strings quoted, numbers and literals
 * exactly as written (443.0 stays 443.0), containers by their kind.
 */
static const char *describe(const struct pdoc *d, const json_t *v,
			    const struct jpos *jp, struct vbuf *b)
{
	if (!v)
		return "nothing";
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return quote(json_string_value(v), json_string_length(v), b);
	case JSON_TRUE:
		return "true";
	case JSON_FALSE:
		return "false";
	case JSON_NULL:
		return "null";
	default:
		break;
	}
	if (jp && jp->len && jp->offset + jp->len <= d->src->len) {
		size_t n = jp->len;

		if (n > 40) {
			snprintf(b->s, sizeof(b->s), "%.37s...",
				 d->src->text + jp->offset);
		} else {
			memcpy(b->s, d->src->text + jp->offset, n);
			b->s[n] = '\0';
		}
		return b->s;
	}
	if (json_is_integer(v))
		snprintf(b->s, sizeof(b->s), "%" JSON_INTEGER_FORMAT,
			 json_integer_value(v));
	else
		snprintf(b->s, sizeof(b->s), "%g", json_real_value(v));
	return b->s;
}

/* "a", "b" or "c" */
static void list_names(const char *const *names, char *buf, size_t len)
{
	size_t i, n = 0, o = 0;

	while (names[n])
		n++;
	buf[0] = '\0';
	for (i = 0; i < n && o < len; i++) {
		const char *sep = i == 0 ? "" : i == n - 1 ? " or " : ", ";

		o += (size_t)snprintf(buf + o, len - o, "%s\"%s\"", sep,
				      names[i]);
	}
}

/* Optimal string alignment distance: a swap of two letters costs one. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t d[33][33];

	if (la > 32 || lb > 32)
		return (size_t)-1;
	for (i = 0; i <= la; i++)
		d[i][0] = i;
	for (j = 0; j <= lb; j++)
		d[0][j] = j;
	for (i = 1; i <= la; i++) {
		for (j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] != b[j - 1];
			size_t v = d[i - 1][j] + 1;

			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (d[i - 1][j - 1] + cost < v)
				v = d[i - 1][j - 1] + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	}
	return d[la][lb];
}

struct suggest {
	const char *target;
	const char *best;
	size_t dist;
};

static void suggest_init(struct suggest *s, const char *target)
{
	s->target = target;
	s->best = NULL;
	s->dist = strlen(target) <= 3 ? 2 : 3;	/* strictly below this */
}

static void suggest_try(struct suggest *s, const char *cand)
{
	size_t d = edit_distance(s->target, cand);

	if (d && d < s->dist) {
		s->best = cand;
		s->dist = d;
	}
}

static bool name_chars_ok(const char *s)
{
	if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9')))
		return false;
	for (s++; *s; s++) {
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		      *s == '_' || *s == '.' || *s == '-'))
			return false;
	}
	return true;
}

static bool is_builtin(const char *s)
{
	return !strcmp(s, "world") || !strcmp(s, "gateway");
}

/* ---------------------------------------------------------------- */
/* Diagnostics                                                        */
/* ---------------------------------------------------------------- */

static struct cfg_pos mkpos(const struct pdoc *d, const struct jpos *jp)
{
	struct cfg_pos p = {
		.file = d->src->name,
		.line = jp ? jp->line : 0,
		.column = jp ? jp->column : 0,
	};
	return p;
}

static void vdiag(struct parser *P, enum cfg_severity sev,
		  const struct cfg_pos *pos, const char *fmt, va_list ap)
{
	struct cfg_diag *D = P->diag;
	struct cfg_diag_entry *e;

	if (sev == CFG_ERROR)
		D->n_errors++;
	else
		D->n_warnings++;
	if (D->n >= CFG_MAX_DIAGS) {
		size_t i;

		/* Full: an error takes the place of a stored warning, so
		 * the errors that refuse a policy are never the ones hidden
		 * behind a screenful of warnings. */
		if (sev != CFG_ERROR)
			return;
		for (i = D->n; i > 0 && D->v[i - 1].severity == CFG_ERROR; i--)
			;
		if (!i)
			return;
		e = &D->v[i - 1];
	} else {
		e = &D->v[D->n++];
	}
	e->severity = sev;
	snprintf(e->file, sizeof(e->file), "%s",
		 pos && pos->file ? pos->file : "");
	e->line = pos ? pos->line : 0;
	e->column = pos ? pos->column : 0;
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
}

static void __attribute__((format(printf, 3, 4)))
err_pos(struct parser *P, const struct cfg_pos *pos, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdiag(P, CFG_ERROR, pos, fmt, ap);
	va_end(ap);
}

static void __attribute__((format(printf, 3, 4)))
warn_pos(struct parser *P, const struct cfg_pos *pos, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdiag(P, CFG_WARNING, pos, fmt, ap);
	va_end(ap);
}

static void __attribute__((format(printf, 4, 5)))
err_at(struct parser *P, const struct pdoc *d, const struct jpos *jp,
       const char *fmt, ...)
{
	struct cfg_pos pos = mkpos(d, jp);
	va_list ap;

	va_start(ap, fmt);
	vdiag(P, CFG_ERROR, &pos, fmt, ap);
	va_end(ap);
}

static void __attribute__((format(printf, 4, 5)))
warn_at(struct parser *P, const struct pdoc *d, const struct jpos *jp,
	const char *fmt, ...)
{
	struct cfg_pos pos = mkpos(d, jp);
	va_list ap;

	va_start(ap, fmt);
	vdiag(P, CFG_WARNING, &pos, fmt, ap);
	va_end(ap);
}

/* "file:line:column", for messages that point at another place */
static const char *where_str(const struct cfg_pos *pos, char *buf, size_t len)
{
	snprintf(buf, len, "%s:%d:%d", pos->file ? pos->file : "", pos->line,
		 pos->column);
	return buf;
}

static const struct jpos *vpos(const struct pdoc *d, const json_t *obj,
			       const char *key)
{
	const struct jpos_entry *e = jpos_member(d->map, obj, key);

	return e ? &e->value_pos : NULL;
}

static const struct jpos *kpos(const struct pdoc *d, const json_t *obj,
			       const char *key)
{
	const struct jpos_entry *e = jpos_member(d->map, obj, key);

	return e ? &e->key_pos : NULL;
}

static const struct jpos *epos(const struct pdoc *d, const json_t *arr,
			       size_t i)
{
	const struct jpos_entry *e = jpos_element(d->map, arr, i);

	return e ? &e->value_pos : NULL;
}

/* Report every key of @obj not in @known. @where: "in rule \"x\"". */
static void check_keys(struct parser *P, const struct pdoc *d, json_t *obj,
		       const char *const *known, const char *where)
{
	const char *key;
	json_t *v;

	json_object_foreach(obj, key, v) {
		struct suggest sg;
		struct vbuf b;
		size_t i;

		for (i = 0; known[i]; i++) {
			if (!strcmp(key, known[i]))
				break;
		}
		if (known[i])
			continue;
		suggest_init(&sg, key);
		for (i = 0; known[i]; i++)
			suggest_try(&sg, known[i]);
		if (sg.best) {
			err_at(P, d, kpos(d, obj, key),
			       "unknown key %s %s; did you mean \"%s\"?",
			       quote_str(key, &b), where, sg.best);
		} else {
			char list[160];

			list_names(known, list, sizeof(list));
			err_at(P, d, kpos(d, obj, key),
			       "unknown key %s %s (expected %s)",
			       quote_str(key, &b), where, list);
		}
	}
}

/* Check that @v has type @t; else "KEY: expected WHAT, got ...". */
static bool want_type(struct parser *P, const struct pdoc *d, const json_t *v,
		      const struct jpos *jp, json_type t, const char *key,
		      const char *what)
{
	struct vbuf b;

	if (json_typeof(v) == t)
		return true;
	err_at(P, d, jp, "%s: expected %s, got %s", key, what,
	       describe(d, v, jp, &b));
	return false;
}

static bool check_name(struct parser *P, const struct pdoc *d,
		       const struct jpos *jp, const char *what,
		       const char *name)
{
	struct vbuf b;

	if (strlen(name) > NAME_MAX_CHARS) {
		err_at(P, d, jp, "%s name %s is too long (at most %d characters)",
		       what, quote_str(name, &b), NAME_MAX_CHARS);
		return false;
	}
	if (!name_chars_ok(name)) {
		err_at(P, d, jp,
		       "%s name %s is not valid (use a-z, 0-9, '_', '.' and '-', starting with a letter or digit)",
		       what, quote_str(name, &b));
		return false;
	}
	return true;
}

/*
 * A segment or device name: valid, not built in, not taken. Returns true
 * when the caller should declare it (also for invalid names, so that rules
 * naming it do not cascade into "not declared" errors).
 */
static bool check_id_name(struct parser *P, const struct pdoc *d,
			  const struct jpos *jp, enum name_kind kind,
			  const char *name)
{
	const char *what = kind == NK_SEGMENT ? "segment" : "device";
	const struct name_slot *prev;
	const struct cfg_pos *ppos;
	char where[300];
	struct vbuf b;

	check_name(P, d, jp, what, name);
	if (is_builtin(name)) {
		err_at(P, d, jp,
		       "%s name %s is reserved (world and gateway are built in)",
		       what, quote_str(name, &b));
		return false;
	}
	prev = nt_find(&P->ids, name);
	if (!prev)
		return true;
	if (prev->index == GHOST_INDEX) {
		err_at(P, d, jp, "%s %s is already declared", what,
		       quote_str(name, &b));
		return false;
	}
	ppos = prev->kind == NK_SEGMENT ? &P->p->segments[prev->index].pos :
					  &P->p->devices[prev->index].pos;
	where_str(ppos, where, sizeof(where));
	if (prev->kind == kind)
		err_at(P, d, jp, "%s %s is already declared at %s", what,
		       quote_str(name, &b), where);
	else
		err_at(P, d, jp,
		       "name %s is already used by the %s declared at %s",
		       quote_str(name, &b),
		       prev->kind == NK_SEGMENT ? "segment" : "device", where);
	return false;
}

/* ---------------------------------------------------------------- */
/* Addresses                                                          */
/* ---------------------------------------------------------------- */

static bool parse_addr(const char *s, uint8_t *family, uint8_t addr[16])
{
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, s, addr) == 1) {
		*family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, s, addr) == 1) {
		*family = AF_INET6;
		return true;
	}
	return false;
}

/* ::ffff:a.b.c.d: the data path sees such hosts' packets as IPv4, so an
 * IPv4-mapped member would never match and could hide a conflict with the
 * same address written as IPv4 in another segment. */
static bool is_v4mapped(uint8_t family, const uint8_t *addr)
{
	static const uint8_t pfx[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
					 0xff, 0xff };

	return family == AF_INET6 && !memcmp(addr, pfx, sizeof(pfx));
}

static void format_prefix(int family, const uint8_t *addr, int plen,
			  char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(family, addr, a, sizeof(a));
	if (plen >= 0)
		snprintf(buf, len, "%s/%d", a, plen);
	else
		snprintf(buf, len, "%s", a);
}

/* "NN" with no sign, no leading zero, at most @max. */
static int parse_plen(const char *s, int max)
{
	int v = 0;
	size_t n = strlen(s), i;

	if (n == 0 || n > 3 || (n > 1 && s[0] == '0'))
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v <= max ? v : -1;
}

/* A "cidr" element. Returns true and fills @out when valid. */
static bool parse_cidr(struct parser *P, const struct pdoc *d,
		       const struct jpos *jp, const char *s,
		       struct cfg_prefix *out)
{
	uint8_t family, addr[16], masked[16];
	char a[INET6_ADDRSTRLEN + 8], fix[INET6_ADDRSTRLEN + 8];
	const char *slash = strchr(s, '/');
	struct vbuf b;
	int plen, max, bits, i;

	if (!slash) {
		if (parse_addr(s, &family, addr)) {
			err_at(P, d, jp,
			       "cidr: %s has no prefix length (write \"%s/%d\", or list the host under \"%s\")",
			       quote_str(s, &b), s,
			       family == AF_INET ? 32 : 128,
			       family == AF_INET ? "ipv4" : "ipv6");
		} else {
			err_at(P, d, jp,
			       "cidr: %s is not a prefix (expected an address, '/' and a length, like \"10.20.0.0/24\")",
			       quote_str(s, &b));
		}
		return false;
	}
	if ((size_t)(slash - s) >= sizeof(a)) {
		err_at(P, d, jp,
		       "cidr: %s is not a prefix (expected an address, '/' and a length, like \"10.20.0.0/24\")",
		       quote_str(s, &b));
		return false;
	}
	memcpy(a, s, (size_t)(slash - s));
	a[slash - s] = '\0';
	if (!parse_addr(a, &family, addr)) {
		err_at(P, d, jp,
		       "cidr: %s is not a prefix (expected an address, '/' and a length, like \"10.20.0.0/24\")",
		       quote_str(s, &b));
		return false;
	}
	max = family == AF_INET ? 32 : 128;
	plen = parse_plen(slash + 1, max);
	if (plen < 0) {
		err_at(P, d, jp,
		       "cidr: %s has an invalid prefix length (0-%d for %s)",
		       quote_str(s, &b), max,
		       family == AF_INET ? "IPv4" : "IPv6");
		return false;
	}
	memcpy(masked, addr, 16);
	for (i = 0; i < max / 8; i++) {
		bits = plen - 8 * i;
		if (bits >= 8)
			continue;
		masked[i] &= bits <= 0 ? 0 : (uint8_t)(0xff << (8 - bits));
	}
	if (memcmp(masked, addr, 16)) {
		format_prefix(family, masked, plen, fix, sizeof(fix));
		err_at(P, d, jp,
		       "cidr: %s has host bits set (did you mean \"%s\"?)",
		       quote_str(s, &b), fix);
		return false;
	}
	if (is_v4mapped(family, addr) && plen >= 96) {
		err_at(P, d, jp,
		       "cidr: %s is an IPv4-mapped IPv6 prefix; write it as IPv4 (packets of such hosts are IPv4)",
		       quote_str(s, &b));
		return false;
	}
	if (plen == 0)
		warn_at(P, d, jp,
			"cidr: %s makes every %s address no other segment declares a member of this segment; the built-in \"world\" then matches none (name \"world\" in rules instead)",
			quote_str(s, &b), family == AF_INET ? "IPv4" : "IPv6");
	out->family = family;
	memcpy(out->addr, addr, 16);
	out->plen = (uint8_t)plen;
	out->pos = mkpos(d, jp);
	return true;
}

/*
 * A host address of @family given under @key. @prefix_hint says where a
 * prefix would have belonged.
 */
static bool parse_host(struct parser *P, const struct pdoc *d,
		       const struct jpos *jp, const char *key, int family,
		       const char *s, const char *prefix_hint, uint8_t addr[16])
{
	const char *what = family == AF_INET ? "an IPv4" : "an IPv6";
	uint8_t fam;
	struct vbuf b;

	if (parse_addr(s, &fam, addr) && fam == family) {
		if (!is_v4mapped(fam, addr))
			return true;
		err_at(P, d, jp,
		       "%s: %s is an IPv4-mapped IPv6 address; write it as IPv4 under \"ipv4\" (packets of such hosts are IPv4)",
		       key, quote_str(s, &b));
		return false;
	}
	if (strchr(s, '/'))
		err_at(P, d, jp, "%s: %s is not %s address (%s)", key,
		       quote_str(s, &b), what, prefix_hint);
	else if (parse_addr(s, &fam, addr))
		err_at(P, d, jp,
		       "%s: %s is not %s address (%s addresses go under \"%s\")",
		       key, quote_str(s, &b), what,
		       fam == AF_INET ? "IPv4" : "IPv6",
		       fam == AF_INET ? "ipv4" : "ipv6");
	else
		err_at(P, d, jp, "%s: %s is not %s address", key,
		       quote_str(s, &b), what);
	return false;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* "02:00:00:20:00:07" or "02-00-00-20-00-07", any case. */
static bool parse_mac_str(const char *s, uint8_t mac[6])
{
	char sep;
	int i;

	if (strlen(s) != 17)
		return false;
	sep = s[2];
	if (sep != ':' && sep != '-')
		return false;
	for (i = 0; i < 6; i++) {
		int hi = hexval(s[3 * i]), lo = hexval(s[3 * i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		if (i < 5 && s[3 * i + 2] != sep)
			return false;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

static bool parse_mac(struct parser *P, const struct pdoc *d,
		      const struct jpos *jp, const char *s, uint8_t mac[6])
{
	static const uint8_t zero[6];
	struct vbuf b;

	if (!parse_mac_str(s, mac)) {
		err_at(P, d, jp,
		       "mac: %s is not a MAC address (expected six hex pairs like \"02:00:00:20:00:07\")",
		       quote_str(s, &b));
		return false;
	}
	if (mac[0] & 1) {
		err_at(P, d, jp,
		       "mac: %s is a multicast MAC (hosts send from unicast MACs)",
		       quote_str(s, &b));
		return false;
	}
	if (!memcmp(mac, zero, 6)) {
		err_at(P, d, jp, "mac: %s is not a host's MAC (all zeros)",
		       quote_str(s, &b));
		return false;
	}
	return true;
}

static int add_member(struct parser *P, bool is_mac, int family,
		      const uint8_t *addr, int plen, size_t seg, long dev,
		      const char *key, const char *text,
		      const struct cfg_pos *pos)
{
	struct member *m;

	if (grow(&P->members, P->n_members, sizeof(*P->members)))
		return P->err = -ENOMEM;
	m = &P->members[P->n_members];
	memset(m, 0, sizeof(*m));
	m->is_mac = is_mac;
	m->family = (uint8_t)family;
	m->plen = (uint8_t)plen;
	memcpy(m->addr, addr, is_mac ? 6 : 16);
	m->seg = seg;
	m->dev = dev;
	m->key = key;
	quote_str(text, &m->shown);
	m->pos = *pos;
	m->seq = P->n_members++;
	return 0;
}

/* ---------------------------------------------------------------- */
/* services                                                           */
/* ---------------------------------------------------------------- */

static const char *const proto_names[] = { "tcp", "udp", "icmp", "icmpv6",
					   "any", NULL };
static const uint8_t proto_nums[] = { IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP,
				      IPPROTO_ICMPV6, 0 };

static int enum_index(const json_t *v, const char *const *names)
{
	int i;

	if (!json_is_string(v))
		return -1;
	for (i = 0; names[i]; i++) {
		if (!strcmp(json_string_value(v), names[i]))
			return i;
	}
	return -1;
}

static void parse_ports(struct parser *P, const struct pdoc *d,
			json_t *ports, struct cfg_service_entry *e)
{
	size_t i, k;
	json_t *v;

	json_array_foreach(ports, i, v) {
		const struct jpos *jp = epos(d, ports, i);
		struct vbuf b;
		json_int_t port;

		if (!json_is_integer(v)) {
			const char *hint = "1-65535";
			const char *s = json_is_string(v) ?
						json_string_value(v) : NULL;

			if (s && *s && strspn(s, "0123456789") == strlen(s))
				hint = "1-65535, written without quotes";
			else if (s && strchr(s, '-'))
				hint = "1-65535; ranges are not supported yet";
			err_at(P, d, jp, "ports: %s is not a port (%s)",
			       describe(d, v, jp, &b), hint);
			continue;
		}
		port = json_integer_value(v);
		if (port < 1 || port > 65535) {
			err_at(P, d, jp, "ports: %s is not a port (1-65535)",
			       describe(d, v, jp, &b));
			continue;
		}
		for (k = 0; k < e->n_ports; k++) {
			if (e->ports[k] == port)
				break;
		}
		if (k < e->n_ports) {
			warn_at(P, d, jp, "ports: %s is listed twice",
				describe(d, v, jp, &b));
			continue;
		}
		if (grow(&e->ports, e->n_ports, sizeof(*e->ports))) {
			P->err = -ENOMEM;
			return;
		}
		e->ports[e->n_ports++] = (uint16_t)port;
	}
}

static void parse_service_entry(struct parser *P, const struct pdoc *d,
				const char *sname, json_t *arr, size_t i,
				json_t *v, struct cfg_service *svc)
{
	const struct jpos *jp = epos(d, arr, i);
	struct cfg_service_entry *e;
	char where[160], what[160];
	json_t *proto, *ports;
	struct vbuf b;
	int pi = -1;

	snprintf(where, sizeof(where), "in an entry of service %s",
		 quote_str(sname, &b));
	snprintf(what, sizeof(what), "service %s", quote_str(sname, &b));
	if (!want_type(P, d, v, jp, JSON_OBJECT, what,
		       "an entry like {\"proto\": \"tcp\", \"ports\": [443]}"))
		return;
	check_keys(P, d, v, entry_keys, where);

	proto = json_object_get(v, "proto");
	if (!proto) {
		err_at(P, d, jp,
		       "%s: \"proto\" is missing (expected \"tcp\", \"udp\", \"icmp\", \"icmpv6\" or \"any\")",
		       what);
	} else {
		pi = enum_index(proto, proto_names);
		if (pi < 0)
			err_at(P, d, vpos(d, v, "proto"),
			       "proto: %s is not valid (expected \"tcp\", \"udp\", \"icmp\", \"icmpv6\" or \"any\")",
			       describe(d, proto, vpos(d, v, "proto"), &b));
	}

	if (svc) {
		if (grow(&svc->entries, svc->n_entries, sizeof(*e))) {
			P->err = -ENOMEM;
			return;
		}
		e = &svc->entries[svc->n_entries++];
		memset(e, 0, sizeof(*e));
		e->proto = pi >= 0 ? proto_nums[pi] : 0;
		e->pos = mkpos(d, jp);
	} else {
		e = NULL;
	}

	ports = json_object_get(v, "ports");
	if (!ports)
		return;
	if (pi >= 0 && proto_nums[pi] != IPPROTO_TCP &&
	    proto_nums[pi] != IPPROTO_UDP) {
		err_at(P, d, kpos(d, v, "ports"),
		       "ports: not allowed with proto \"%s\" (only tcp and udp have ports)",
		       proto_names[pi]);
		return;
	}
	if (!want_type(P, d, ports, vpos(d, v, "ports"), JSON_ARRAY, "ports",
		       "an array of port numbers like [443]"))
		return;
	if (!json_array_size(ports)) {
		err_at(P, d, vpos(d, v, "ports"),
		       "ports: empty list (leave \"ports\" out to allow every port)");
		return;
	}
	if (e) {
		parse_ports(P, d, ports, e);
	} else {
		struct cfg_service_entry tmp = { 0 };

		parse_ports(P, d, ports, &tmp);
		free(tmp.ports);
	}
}

static void parse_service(struct parser *P, const struct pdoc *d,
			  json_t *services, const char *name, json_t *v)
{
	const struct jpos *kp = kpos(d, services, name);
	const struct jpos *jp = vpos(d, services, name);
	struct cfg_service *svc = NULL;
	const struct name_slot *prev;
	char what[160], where[300];
	struct vbuf b;
	size_t i;
	json_t *e;

	check_name(P, d, kp, "service", name);
	prev = nt_find(&P->services, name);
	if (prev) {
		err_at(P, d, kp, "service %s is already declared at %s",
		       quote_str(name, &b),
		       where_str(&P->p->services[prev->index].pos, where,
				 sizeof(where)));
	} else {
		struct cfg_policy *p = P->p;

		if (grow(&p->services, p->n_services, sizeof(*svc)))
			goto nomem;
		svc = &p->services[p->n_services];
		memset(svc, 0, sizeof(*svc));
		svc->name = strdup(name);
		if (!svc->name)
			goto nomem;
		svc->pos = mkpos(d, kp);
		p->n_services++;
		if (nt_add(&P->services, svc->name, NK_SERVICE,
			   p->n_services - 1))
			goto nomem;
	}

	snprintf(what, sizeof(what), "service %s", quote_str(name, &b));
	if (!want_type(P, d, v, jp, JSON_ARRAY, what,
		       "an array of entries like [{\"proto\": \"tcp\", \"ports\": [443]}]"))
		return;
	if (!json_array_size(v)) {
		err_at(P, d, jp,
		       "service %s has no entries (add one like {\"proto\": \"tcp\", \"ports\": [443]})",
		       quote_str(name, &b));
		return;
	}
	json_array_foreach(v, i, e) {
		parse_service_entry(P, d, name, v, i, e, svc);
		if (P->err)
			return;
	}
	return;
nomem:
	P->err = -ENOMEM;
}

static void parse_services(struct parser *P, const struct pdoc *d,
			   json_t *root)
{
	json_t *obj = json_object_get(root, "services"), *v;
	const char *name;

	if (!want_type(P, d, obj, vpos(d, root, "services"), JSON_OBJECT,
		       "services",
		       "an object of named services like {\"https\": [{\"proto\": \"tcp\", \"ports\": [443]}]}"))
		return;
	json_object_foreach(obj, name, v) {
		parse_service(P, d, obj, name, v);
		if (P->err)
			return;
	}
}

/* ---------------------------------------------------------------- */
/* segments                                                           */
/* ---------------------------------------------------------------- */

/* Index of the segment being filled, or -1 when it is not declared. */
static struct cfg_segment *seg_at(struct parser *P, long seg)
{
	return seg >= 0 ? &P->p->segments[seg] : NULL;
}

static void add_prefix(struct parser *P, long seg, const struct cfg_prefix *px,
		       const char *key, const char *text)
{
	struct cfg_segment *s = seg_at(P, seg);

	if (!s)
		return;
	if (grow(&s->prefixes, s->n_prefixes, sizeof(*px))) {
		P->err = -ENOMEM;
		return;
	}
	s->prefixes[s->n_prefixes++] = *px;
	add_member(P, false, px->family, px->addr, px->plen, (size_t)seg, -1,
		   key, text, &px->pos);
}

/* cidr, ipv4, ipv6 or mac list of a segment */
static void parse_member_list(struct parser *P, const struct pdoc *d,
			      json_t *members, const char *key, long seg)
{
	json_t *arr = json_object_get(members, key), *v;
	const char *what, *example;
	size_t i;

	if (!strcmp(key, "cidr")) {
		what = "an array of prefixes like [\"10.20.0.0/24\"]";
		example = "a prefix (expected a string like \"10.20.0.0/24\")";
	} else if (!strcmp(key, "ipv4")) {
		what = "an array of addresses like [\"10.30.0.10\"]";
		example = "an IPv4 address (expected a string like \"10.30.0.10\")";
	} else if (!strcmp(key, "ipv6")) {
		what = "an array of addresses like [\"fd00:30::10\"]";
		example = "an IPv6 address (expected a string like \"fd00:30::10\")";
	} else {
		what = "an array of MAC addresses like [\"02:00:00:20:00:07\"]";
		example = "a MAC address (expected a string like \"02:00:00:20:00:07\")";
	}
	if (!want_type(P, d, arr, vpos(d, members, key), JSON_ARRAY, key, what))
		return;
	json_array_foreach(arr, i, v) {
		const struct jpos *jp = epos(d, arr, i);
		struct cfg_prefix px;
		struct vbuf b;
		const char *s;

		if (P->err)
			return;
		if (!json_is_string(v)) {
			err_at(P, d, jp, "%s: %s is not %s", key,
			       describe(d, v, jp, &b), example);
			continue;
		}
		s = json_string_value(v);
		memset(&px, 0, sizeof(px));
		if (!strcmp(key, "cidr")) {
			if (parse_cidr(P, d, jp, s, &px))
				add_prefix(P, seg, &px, key, s);
		} else if (!strcmp(key, "ipv4") || !strcmp(key, "ipv6")) {
			int fam = key[3] == '4' ? AF_INET : AF_INET6;

			if (!parse_host(P, d, jp, key, fam, s,
					"prefixes go under \"cidr\"", px.addr))
				continue;
			px.family = fam;
			px.plen = fam == AF_INET ? 32 : 128;
			px.pos = mkpos(d, jp);
			add_prefix(P, seg, &px, key, s);
		} else {
			struct cfg_segment *sg;
			struct cfg_mac m;

			if (!parse_mac(P, d, jp, s, m.mac))
				continue;
			m.pos = mkpos(d, jp);
			sg = seg_at(P, seg);
			if (!sg)
				continue;
			if (grow(&sg->macs, sg->n_macs, sizeof(m))) {
				P->err = -ENOMEM;
				return;
			}
			sg->macs[sg->n_macs++] = m;
			add_member(P, true, 0, m.mac, 48, (size_t)seg, -1,
				   "mac", s, &m.pos);
		}
	}
}

/* The single "ipv4", "ipv6" or "mac" value of a device. */
static bool device_value(struct parser *P, const struct pdoc *d, json_t *dev,
			 const char *key, const char **s,
			 const struct jpos **jp)
{
	json_t *v = json_object_get(dev, key);
	const char *example = !strcmp(key, "ipv4") ? "\"10.20.0.7\"" :
			      !strcmp(key, "ipv6") ? "\"fd00:20::7\"" :
						     "\"02:00:00:20:00:07\"";
	char what[64];

	*jp = vpos(d, dev, key);
	if (!v)
		return false;
	snprintf(what, sizeof(what), "one %s like %s",
		 !strcmp(key, "mac") ? "MAC" : "address", example);
	if (!want_type(P, d, v, *jp, JSON_STRING, key, what))
		return false;
	*s = json_string_value(v);
	return true;
}

static void parse_device(struct parser *P, const struct pdoc *d, json_t *arr,
			 size_t i, json_t *v, long seg)
{
	const struct jpos *jp = epos(d, arr, i), *np, *ap;
	uint8_t a4[16], a6[16];
	struct cfg_device dev;
	long di = -1;
	char where[128];
	const char *name = NULL, *s;
	json_t *nv;
	struct vbuf b;

	if (!want_type(P, d, v, jp, JSON_OBJECT, "devices",
		       "a device like {\"name\": \"pump-7\", \"ipv4\": \"10.20.0.7\"}"))
		return;
	memset(&dev, 0, sizeof(dev));
	nv = json_object_get(v, "name");
	np = vpos(d, v, "name");
	if (!nv)
		err_at(P, d, jp, "device: \"name\" is missing");
	else if (want_type(P, d, nv, np, JSON_STRING, "name", "a string"))
		name = json_string_value(nv);
	if (name)
		snprintf(where, sizeof(where), "in device %s",
			 quote_str(name, &b));
	else
		snprintf(where, sizeof(where), "in a device");
	check_keys(P, d, v, device_keys, where);

	if (device_value(P, d, v, "ipv4", &s, &ap) &&
	    parse_host(P, d, ap, "ipv4", AF_INET, s,
		       "a device has one host address", a4)) {
		memcpy(dev.ipv4, a4, 4);
		dev.has_ipv4 = true;
		dev.ipv4_pos = mkpos(d, ap);
	}
	if (device_value(P, d, v, "ipv6", &s, &ap) &&
	    parse_host(P, d, ap, "ipv6", AF_INET6, s,
		       "a device has one host address", a6)) {
		memcpy(dev.ipv6, a6, 16);
		dev.has_ipv6 = true;
		dev.ipv6_pos = mkpos(d, ap);
	}
	if (device_value(P, d, v, "mac", &s, &ap) &&
	    parse_mac(P, d, ap, s, dev.mac)) {
		dev.has_mac = true;
		dev.mac_pos = mkpos(d, ap);
	}
	if (!json_object_get(v, "ipv4") && !json_object_get(v, "ipv6") &&
	    !json_object_get(v, "mac")) {
		if (name)
			err_at(P, d, jp,
			       "device %s needs \"ipv4\", \"ipv6\" or \"mac\"",
			       quote_str(name, &b));
		else
			err_at(P, d, jp,
			       "device: needs \"ipv4\", \"ipv6\" or \"mac\"");
	}

	if (!name || !check_id_name(P, d, np, NK_DEVICE, name))
		return;
	if (seg < 0) {
		/* its segment was refused: remember the name, so that rules
		 * naming the device do not add errors about it */
		char *g = strdup(name);

		if (!g || grow(&P->ghosts, P->n_ghosts, sizeof(g))) {
			free(g);
			goto nomem;
		}
		P->ghosts[P->n_ghosts++] = g;
		if (nt_add(&P->ids, g, NK_DEVICE, GHOST_INDEX))
			goto nomem;
		return;
	}

	/* declare it */
	{
		struct cfg_policy *p = P->p;
		struct cfg_segment *sg = &p->segments[seg];

		dev.name = strdup(name);
		if (!dev.name)
			goto nomem;
		dev.segment = (size_t)seg;
		dev.pos = mkpos(d, np);
		if (grow(&p->devices, p->n_devices, sizeof(dev))) {
			free(dev.name);
			goto nomem;
		}
		di = (long)p->n_devices;
		p->devices[p->n_devices++] = dev;
		if (nt_add(&P->ids, p->devices[di].name, NK_DEVICE,
			   (size_t)di))
			goto nomem;
		if (grow(&sg->devices, sg->n_devices, sizeof(*sg->devices)))
			goto nomem;
		sg->devices[sg->n_devices++] = (size_t)di;

		if (dev.has_ipv4)
			add_member(P, false, AF_INET, a4, 32, (size_t)seg, di,
				   "ipv4",
				   json_string_value(json_object_get(v, "ipv4")),
				   &dev.ipv4_pos);
		if (dev.has_ipv6)
			add_member(P, false, AF_INET6, a6, 128,
				   (size_t)seg, di, "ipv6",
				   json_string_value(json_object_get(v, "ipv6")),
				   &dev.ipv6_pos);
		if (dev.has_mac)
			add_member(P, true, 0, dev.mac, 48, (size_t)seg, di,
				   "mac",
				   json_string_value(json_object_get(v, "mac")),
				   &dev.mac_pos);
	}
	return;
nomem:
	P->err = -ENOMEM;
}

static void parse_members(struct parser *P, const struct pdoc *d,
			  json_t *seg_obj, const char *sname, long seg)
{
	json_t *members = json_object_get(seg_obj, "members"), *devs, *v;
	const char *key;
	char where[128];
	struct vbuf b;
	size_t i;

	if (!want_type(P, d, members, vpos(d, seg_obj, "members"), JSON_OBJECT,
		       "members",
		       "an object like {\"cidr\": [\"10.20.0.0/24\"]}"))
		return;
	snprintf(where, sizeof(where), "in the members of segment %s",
		 quote_str(sname, &b));
	check_keys(P, d, members, member_keys, where);
	/* in the order written, so "first declared" reads naturally */
	json_object_foreach(members, key, v) {
		if (P->err)
			return;
		if (!strcmp(key, "cidr") || !strcmp(key, "ipv4") ||
		    !strcmp(key, "ipv6") || !strcmp(key, "mac"))
			parse_member_list(P, d, members, key, seg);
		if (strcmp(key, "devices"))
			continue;
		devs = v;
		if (!want_type(P, d, devs, vpos(d, members, "devices"),
			       JSON_ARRAY, "devices",
			       "an array of devices like [{\"name\": \"pump-7\", \"ipv4\": \"10.20.0.7\"}]"))
			continue;
		for (i = 0; i < json_array_size(devs) && !P->err; i++)
			parse_device(P, d, devs, i, json_array_get(devs, i),
				     seg);
	}
}

static void parse_segment(struct parser *P, const struct pdoc *d,
			  json_t *segments, const char *name, json_t *v)
{
	const struct jpos *kp = kpos(d, segments, name);
	const struct jpos *jp = vpos(d, segments, name);
	static const char *const intra_names[] = { "deny", "allow", NULL };
	static const char *const mode_names[] = { "enforce", "audit", NULL };
	struct cfg_policy *p = P->p;
	char where[128];
	long seg = -1;
	struct vbuf b;
	json_t *x;
	int k;

	if (check_id_name(P, d, kp, NK_SEGMENT, name)) {
		struct cfg_segment *s;

		if (grow(&p->segments, p->n_segments, sizeof(*s)))
			goto nomem;
		s = &p->segments[p->n_segments];
		memset(s, 0, sizeof(*s));
		s->name = strdup(name);
		if (!s->name)
			goto nomem;
		s->pos = mkpos(d, kp);
		seg = (long)p->n_segments++;
		if (nt_add(&P->ids, s->name, NK_SEGMENT, (size_t)seg))
			goto nomem;
	}

	snprintf(where, sizeof(where), "segment %s", quote_str(name, &b));
	if (!want_type(P, d, v, jp, JSON_OBJECT, where,
		       "an object like {\"members\": {\"cidr\": [\"10.20.0.0/24\"]}}"))
		return;
	snprintf(where, sizeof(where), "in segment %s", quote_str(name, &b));
	check_keys(P, d, v, segment_keys, where);

	x = json_object_get(v, "intra");
	if (x) {
		k = enum_index(x, intra_names);
		if (k < 0)
			err_at(P, d, vpos(d, v, "intra"),
			       "intra: %s is not valid (expected \"allow\" or \"deny\")",
			       describe(d, x, vpos(d, v, "intra"), &b));
		else if (seg >= 0)
			p->segments[seg].intra_allow = k == 1;
	}
	x = json_object_get(v, "mode");
	if (x) {
		k = enum_index(x, mode_names);
		if (k < 0)
			err_at(P, d, vpos(d, v, "mode"),
			       "mode: %s is not valid (expected \"enforce\" or \"audit\")",
			       describe(d, x, vpos(d, v, "mode"), &b));
		else if (seg >= 0)
			p->segments[seg].audit = k == 1;
	}
	if (json_object_get(v, "members"))
		parse_members(P, d, v, name, seg);
	return;
nomem:
	P->err = -ENOMEM;
}

static void parse_segments(struct parser *P, const struct pdoc *d,
			   json_t *root)
{
	json_t *obj = json_object_get(root, "segments"), *v;
	const char *name;

	if (!want_type(P, d, obj, vpos(d, root, "segments"), JSON_OBJECT,
		       "segments",
		       "an object of named segments like {\"ehr\": {\"members\": {...}}}"))
		return;
	json_object_foreach(obj, name, v) {
		parse_segment(P, d, obj, name, v);
		if (P->err)
			return;
	}
}

/* ---------------------------------------------------------------- */
/* rules                                                              */
/* ---------------------------------------------------------------- */

static void ref_not_declared(struct parser *P, const struct pdoc *d,
			     const struct jpos *jp, const char *key,
			     const char *name)
{
	const struct cfg_policy *p = P->p;
	struct suggest sg;
	struct vbuf b;
	size_t i;

	if (P->load_failed)
		return;
	suggest_init(&sg, name);
	for (i = 0; i < p->n_segments; i++)
		suggest_try(&sg, p->segments[i].name);
	for (i = 0; i < p->n_devices; i++)
		suggest_try(&sg, p->devices[i].name);
	suggest_try(&sg, "world");
	suggest_try(&sg, "gateway");
	if (sg.best)
		err_at(P, d, jp,
		       "%s: %s is not a declared segment or device; did you mean \"%s\"?",
		       key, quote_str(name, &b), sg.best);
	else
		err_at(P, d, jp,
		       "%s: %s is not a declared segment or device (nor world, gateway or \"*\")",
		       key, quote_str(name, &b));
}

static void parse_refs(struct parser *P, const struct pdoc *d, json_t *rule,
		       const char *key, struct cfg_ref **out, size_t *n_out)
{
	json_t *arr = json_object_get(rule, key), *v;
	const struct jpos *ajp = vpos(d, rule, key);
	size_t i;

	if (!want_type(P, d, arr, ajp, JSON_ARRAY, key,
		       "an array of names like [\"ehr\"]"))
		return;
	if (!json_array_size(arr)) {
		err_at(P, d, ajp,
		       "%s: empty list (name at least one segment or device, world, gateway or \"*\")",
		       key);
		return;
	}
	json_array_foreach(arr, i, v) {
		const struct jpos *jp = epos(d, arr, i);
		const struct name_slot *ns;
		struct cfg_ref ref;
		struct vbuf b;
		const char *s;

		if (!json_is_string(v)) {
			err_at(P, d, jp,
			       "%s: %s is not a name (expected a segment, device, world, gateway or \"*\")",
			       key, describe(d, v, jp, &b));
			continue;
		}
		s = json_string_value(v);
		memset(&ref, 0, sizeof(ref));
		ref.pos = mkpos(d, jp);
		if (!strcmp(s, "*")) {
			ref.kind = CFG_REF_ANY;
			P->any_used = true;
		} else if (!strcmp(s, "world")) {
			ref.kind = CFG_REF_WORLD;
		} else if (!strcmp(s, "gateway")) {
			ref.kind = CFG_REF_GATEWAY;
		} else if ((ns = nt_find(&P->ids, s)) &&
			   ns->index == GHOST_INDEX) {
			continue;
		} else if (ns) {
			ref.kind = ns->kind == NK_SEGMENT ? CFG_REF_SEGMENT :
							    CFG_REF_DEVICE;
			ref.index = ns->index;
			P->seg_used[ns->kind == NK_SEGMENT ?
					    ns->index :
					    P->p->devices[ns->index].segment] =
				true;
		} else {
			ref_not_declared(P, d, jp, key, s);
			continue;
		}
		if (!out)
			continue;
		if (grow(out, *n_out, sizeof(ref))) {
			P->err = -ENOMEM;
			return;
		}
		(*out)[(*n_out)++] = ref;
	}
}

static void parse_rule_services(struct parser *P, const struct pdoc *d,
				json_t *rule, struct cfg_rule *r)
{
	json_t *arr = json_object_get(rule, "services"), *v;
	const struct jpos *ajp = vpos(d, rule, "services");
	size_t i;

	if (!want_type(P, d, arr, ajp, JSON_ARRAY, "services",
		       "an array of service names like [\"https\"]"))
		return;
	if (!json_array_size(arr)) {
		err_at(P, d, ajp,
		       "services: empty list (name at least one service)");
		return;
	}
	json_array_foreach(arr, i, v) {
		const struct jpos *jp = epos(d, arr, i);
		const struct name_slot *ns;
		struct vbuf b;

		if (!json_is_string(v)) {
			err_at(P, d, jp, "services: %s is not a service name",
			       describe(d, v, jp, &b));
			continue;
		}
		ns = nt_find(&P->services, json_string_value(v));
		if (!ns) {
			struct suggest sg;
			size_t k;

			if (P->load_failed)
				continue;
			suggest_init(&sg, json_string_value(v));
			for (k = 0; k < P->p->n_services; k++)
				suggest_try(&sg, P->p->services[k].name);
			if (sg.best)
				err_at(P, d, jp,
				       "services: %s is not a declared service; did you mean \"%s\"?",
				       describe(d, v, jp, &b), sg.best);
			else
				err_at(P, d, jp,
				       "services: %s is not a declared service",
				       describe(d, v, jp, &b));
			continue;
		}
		if (!r)
			continue;
		if (grow(&r->services, r->n_services, sizeof(*r->services))) {
			P->err = -ENOMEM;
			return;
		}
		r->services[r->n_services++] = ns->index;
	}
}

static void parse_rule(struct parser *P, const struct pdoc *d, json_t *arr,
		       size_t i, json_t *v)
{
	static const char *const need[] = { "from", "to", "services" };
	const struct jpos *jp = epos(d, arr, i), *np;
	struct cfg_policy *p = P->p;
	struct cfg_rule *r = NULL;
	const char *name = NULL;
	char where[128], who[128];
	json_t *nv;
	struct vbuf b;
	size_t k;

	if (!want_type(P, d, v, jp, JSON_OBJECT, "rules",
		       "a rule like {\"name\": ..., \"from\": [...], \"to\": [...], \"services\": [...]}"))
		return;
	nv = json_object_get(v, "name");
	np = vpos(d, v, "name");
	if (!nv)
		err_at(P, d, jp, "rule: \"name\" is missing");
	else if (want_type(P, d, nv, np, JSON_STRING, "name", "a string"))
		name = json_string_value(nv);
	if (name) {
		snprintf(where, sizeof(where), "in rule %s", quote_str(name, &b));
		snprintf(who, sizeof(who), "rule %s", quote_str(name, &b));
	} else {
		snprintf(where, sizeof(where), "in a rule");
		snprintf(who, sizeof(who), "rule");
	}
	check_keys(P, d, v, rule_keys, where);
	{
		const char *miss[3];
		size_t n = 0;

		for (k = 0; k < 3; k++) {
			if (!json_object_get(v, need[k]))
				miss[n++] = need[k];
		}
		if (n == 1)
			err_at(P, d, jp, "%s: \"%s\" is missing", who, miss[0]);
		else if (n == 2)
			err_at(P, d, jp, "%s: \"%s\" and \"%s\" are missing",
			       who, miss[0], miss[1]);
		else if (n == 3)
			err_at(P, d, jp,
			       "%s: \"%s\", \"%s\" and \"%s\" are missing", who,
			       miss[0], miss[1], miss[2]);
	}

	if (name) {
		const struct name_slot *prev = nt_find(&P->rules, name);
		char at[300];

		check_name(P, d, np, "rule", name);
		if (prev) {
			err_at(P, d, np, "rule %s is already declared at %s",
			       quote_str(name, &b),
			       where_str(&p->rules[prev->index].pos, at,
					 sizeof(at)));
		} else {
			if (grow(&p->rules, p->n_rules, sizeof(*r)))
				goto nomem;
			r = &p->rules[p->n_rules];
			memset(r, 0, sizeof(*r));
			r->name = strdup(name);
			if (!r->name)
				goto nomem;
			r->pos = mkpos(d, np);
			p->n_rules++;
			if (nt_add(&P->rules, r->name, NK_RULE,
				   p->n_rules - 1))
				goto nomem;
		}
	}
	if (json_object_get(v, "from"))
		parse_refs(P, d, v, "from", r ? &r->from : NULL,
			   r ? &r->n_from : NULL);
	if (!P->err && json_object_get(v, "to"))
		parse_refs(P, d, v, "to", r ? &r->to : NULL,
			   r ? &r->n_to : NULL);
	if (!P->err && json_object_get(v, "services"))
		parse_rule_services(P, d, v, r);
	return;
nomem:
	P->err = -ENOMEM;
}

static void parse_rules(struct parser *P, const struct pdoc *d, json_t *root)
{
	json_t *arr = json_object_get(root, "rules"), *v;
	size_t i;

	if (!want_type(P, d, arr, vpos(d, root, "rules"), JSON_ARRAY, "rules",
		       "an array of rules"))
		return;
	json_array_foreach(arr, i, v) {
		parse_rule(P, d, arr, i, v);
		if (P->err)
			return;
	}
}

/* ---------------------------------------------------------------- */
/* isolation                                                          */
/* ---------------------------------------------------------------- */

/* "to" of a remediation target: a name or an array of names; never
 * "*" or "world" (that would be no isolation at all). */
static void parse_remedy_to(struct parser *P, const struct pdoc *d,
			    json_t *obj, struct cfg_rule *r)
{
	json_t *v = json_object_get(obj, "to");
	const struct jpos *jp = vpos(d, obj, "to");
	size_t i;

	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		const struct name_slot *ns = nt_find(&P->ids, s);
		struct cfg_ref ref = { .pos = mkpos(d, jp) };

		if (!strcmp(s, "gateway")) {
			ref.kind = CFG_REF_GATEWAY;
		} else if (!strcmp(s, "*") || !strcmp(s, "world")) {
			ref.kind = CFG_REF_ANY;	/* refused below */
		} else if (ns && ns->index == GHOST_INDEX) {
			return;
		} else if (ns) {
			ref.kind = ns->kind == NK_SEGMENT ? CFG_REF_SEGMENT :
							    CFG_REF_DEVICE;
			ref.index = ns->index;
			P->seg_used[ns->kind == NK_SEGMENT ?
					    ns->index :
					    P->p->devices[ns->index].segment] =
				true;
		} else {
			ref_not_declared(P, d, jp, "to", s);
			return;
		}
		if (grow(&r->to, r->n_to, sizeof(ref))) {
			P->err = -ENOMEM;
			return;
		}
		r->to[r->n_to++] = ref;
	} else if (json_is_array(v)) {
		bool any = P->any_used;

		parse_refs(P, d, obj, "to", &r->to, &r->n_to);
		P->any_used = any;
	} else {
		struct vbuf b;

		err_at(P, d, jp,
		       "to: %s is not a name or an array of names (expected a segment, device or gateway)",
		       describe(d, v, jp, &b));
		return;
	}
	for (i = 0; i < r->n_to; i++) {
		if (r->to[i].kind == CFG_REF_ANY || r->to[i].kind == CFG_REF_WORLD)
			err_pos(P, &r->to[i].pos,
				"to: an isolated host may not keep \"*\" or \"world\" (that is no isolation); name the remediation hosts (a segment, a device or gateway)");
	}
}

static void parse_isolation(struct parser *P, const struct pdoc *d,
			    json_t *root)
{
	json_t *iso = json_object_get(root, "isolation"), *arr, *v;
	const struct jpos *ajp;
	struct cfg_policy *p = P->p;
	size_t i;

	if (!want_type(P, d, iso, vpos(d, root, "isolation"), JSON_OBJECT,
		       "isolation",
		       "an object like {\"still_allowed\": [...]}"))
		return;
	check_keys(P, d, iso, isolation_keys, "in \"isolation\"");
	arr = json_object_get(iso, "still_allowed");
	if (!arr)
		return;
	ajp = vpos(d, iso, "still_allowed");
	if (!want_type(P, d, arr, ajp, JSON_ARRAY, "still_allowed",
		       "an array like [{\"to\": \"soc-forensics\", \"services\": [\"ssh\"]}]"))
		return;
	json_array_foreach(arr, i, v) {
		const struct jpos *jp = epos(d, arr, i);
		struct cfg_rule *r;

		if (!want_type(P, d, v, jp, JSON_OBJECT, "still_allowed",
			       "an object like {\"to\": \"soc-forensics\", \"services\": [\"ssh\"]}"))
			continue;
		check_keys(P, d, v, remedy_keys, "in isolation.still_allowed");
		if (!json_object_get(v, "to") ||
		    !json_object_get(v, "services")) {
			err_at(P, d, jp,
			       "still_allowed: \"%s\" is missing",
			       json_object_get(v, "to") ? "services" : "to");
			continue;
		}
		if (grow(&p->still_allowed, p->n_still_allowed, sizeof(*r))) {
			P->err = -ENOMEM;
			return;
		}
		r = &p->still_allowed[p->n_still_allowed];
		memset(r, 0, sizeof(*r));
		if (asprintf(&r->name, "isolation.still_allowed[%zu]",
			     p->n_still_allowed) < 0) {
			r->name = NULL;
			P->err = -ENOMEM;
			return;
		}
		r->pos = mkpos(d, jp);
		p->n_still_allowed++;
		parse_remedy_to(P, d, v, r);
		if (!P->err)
			parse_rule_services(P, d, v, r);
		if (P->err)
			return;
	}
}

/* ---------------------------------------------------------------- */
/* Documents                                                          */
/* ---------------------------------------------------------------- */

/*
 * jansson reports some allocation failures as syntax errors ("string or
 * '}' expected" when a string buffer cannot grow). To tell "out of memory"
 * from "bad file", jansson's allocator is wrapped once, process-wide, with
 * one that notes failures in a per-thread flag and otherwise forwards to
 * whatever allocator was installed before.
 */
static json_malloc_t jansson_malloc_prev;
static __thread bool jansson_oom;
static pthread_once_t jansson_once = PTHREAD_ONCE_INIT;

static void *jansson_malloc(size_t n)
{
	void *p = jansson_malloc_prev(n);

	if (!p)
		jansson_oom = true;
	return p;
}

static void jansson_wrap(void)
{
	json_free_t free_fn;

	json_get_alloc_funcs(&jansson_malloc_prev, &free_fn);
	if (jansson_malloc_prev && free_fn)
		json_set_alloc_funcs(jansson_malloc, free_fn);
}

struct dup_ctx {
	struct parser *P;
	const struct pdoc *d;
	int n;
};

static void on_duplicate(void *ctx, const char *key, const struct jpos *dup,
			 const struct jpos *first)
{
	struct dup_ctx *c = ctx;
	struct vbuf b;

	c->n++;
	err_at(c->P, c->d, dup, "duplicate key %s (first at line %d, column %d)",
	       quote_str(key, &b), first->line, first->column);
}

static void load_doc(struct parser *P, struct pdoc *d)
{
	json_error_t je;
	struct jpos jp;

	pthread_once(&jansson_once, jansson_wrap);
	jansson_oom = false;
	memset(&je, 0, sizeof(je));
	d->root = json_loadb(d->src->text, d->src->len, JSON_REJECT_DUPLICATES,
			     &je);
	if (!d->root) {
		enum json_error_code code = json_error_code(&je);
		struct dup_ctx c = { P, d, 0 };

		P->load_failed = true;
		/* jansson fails its own setup without saying why: only
		 * allocations can fail there */
		if (jansson_oom || code == json_error_out_of_memory ||
		    (code == json_error_unknown && !je.text[0])) {
			P->err = -ENOMEM;
			return;
		}
		if (code == json_error_duplicate_key) {
			int n = jpos_find_duplicates(d->src->text, d->src->len,
						     on_duplicate, &c);

			/* jansson stopped at the first duplicate; the scanner
			 * may stop later, at a syntax error jansson did not
			 * reach: what it found before that is still true */
			if (n == -ENOMEM)
				P->err = -ENOMEM;
			if (c.n || n == -ENOMEM)
				return;
		}
		/* jansson's column 0 means "before the first character" */
		memset(&jp, 0, sizeof(jp));
		jp.line = je.line > 0 ? je.line : 1;
		jp.column = je.column > 0 ? je.column : 1;
		err_at(P, d, &jp, "invalid JSON: %s", je.text);
		return;
	}
	if (jansson_oom) {
		/* jansson drops characters it cannot store and goes on */
		P->err = -ENOMEM;
		return;
	}
	d->map = jpos_map_new(d->src->text, d->src->len, d->root);
	if (!d->map) {
		if (errno == ENOMEM) {
			P->err = -ENOMEM;
		} else {
			P->load_failed = true;
			err_at(P, d, NULL,
			       "internal error: cannot locate the values of this document");
		}
		json_decref(d->root);
		d->root = NULL;
	}
}

static void parse_doc_top(struct parser *P, struct pdoc *d)
{
	const struct jpos *rp = jpos_root(d->map);
	json_t *root = d->root, *ver;
	struct vbuf b;

	if (!want_type(P, d, root, rp, JSON_OBJECT, "top level",
		       "an object with \"version\", \"services\", \"segments\" and \"rules\"")) {
		json_decref(d->root);
		d->root = NULL;
		return;
	}
	check_keys(P, d, root, top_keys, "at the top level");
	ver = json_object_get(root, "version");
	if (!ver)
		err_at(P, d, rp, "\"version\" is missing (add \"version\": 1)");
	else if (!json_is_integer(ver) || json_integer_value(ver) != 1)
		err_at(P, d, vpos(d, root, "version"),
		       "version: %s is not supported (expected 1)",
		       describe(d, ver, vpos(d, root, "version"), &b));
	if (json_object_get(root, "services"))
		parse_services(P, d, root);
	if (!P->err && json_object_get(root, "segments"))
		parse_segments(P, d, root);
}

/* ---------------------------------------------------------------- */
/* Cross-checks                                                       */
/* ---------------------------------------------------------------- */

static int cmp_member(const void *a, const void *b)
{
	const struct member *x = a, *y = b;
	int c;

	if (x->is_mac != y->is_mac)
		return x->is_mac ? 1 : -1;
	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	c = memcmp(x->addr, y->addr, sizeof(x->addr));
	if (c)
		return c;
	if (x->plen != y->plen)
		return x->plen < y->plen ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static bool same_member(const struct member *x, const struct member *y)
{
	return x->is_mac == y->is_mac && x->family == y->family &&
	       !memcmp(x->addr, y->addr, sizeof(x->addr)) && x->plen == y->plen;
}

static void check_members(struct parser *P)
{
	const struct cfg_policy *p = P->p;
	size_t i, first = 0;

	if (P->n_members > 1)
		qsort(P->members, P->n_members, sizeof(*P->members),
		      cmp_member);
	for (i = 1; i < P->n_members; i++) {
		const struct member *m = &P->members[i], *f;
		char where[300];
		struct vbuf b;

		if (!same_member(&P->members[first], m)) {
			first = i;
			continue;
		}
		f = &P->members[first];
		where_str(&f->pos, where, sizeof(where));
		if (f->dev < 0 && m->dev < 0 && f->seg == m->seg) {
			warn_pos(P, &m->pos,
				 "%s: %s is listed twice in segment %s (first at %s)",
				 m->key, m->shown.s,
				 quote_str(p->segments[m->seg].name, &b), where);
		} else if (f->dev >= 0) {
			err_pos(P, &m->pos,
				"%s: %s is already the %s of device %s at %s",
				m->key, m->shown.s,
				f->is_mac ? "MAC" : "address",
				quote_str(p->devices[f->dev].name, &b), where);
		} else {
			err_pos(P, &m->pos,
				"%s: %s is already a member of segment %s at %s",
				m->key, m->shown.s,
				quote_str(p->segments[f->seg].name, &b), where);
		}
	}
}

static void check_segments_used(struct parser *P)
{
	const struct cfg_policy *p = P->p;
	size_t i;

	for (i = 0; i < p->n_segments; i++) {
		const struct cfg_segment *s = &p->segments[i];
		struct vbuf b;

		if (!s->n_prefixes && !s->n_macs && !s->n_devices)
			warn_pos(P, &s->pos, "segment %s has no members",
				 quote_str(s->name, &b));
		if (!P->seg_used[i] && !s->intra_allow && !P->any_used)
			warn_pos(P, &s->pos,
				 "segment %s is not named by any rule (its members can reach nothing)",
				 quote_str(s->name, &b));
	}
}

/* File order, then line and column; stable (insertion sort, n <= 64). */
static void sort_diags(struct parser *P)
{
	struct cfg_diag *D = P->diag;
	size_t i, j;

	for (i = 1; i < D->n; i++) {
		struct cfg_diag_entry tmp = D->v[i];
		size_t fi, fj;

		for (fi = 0; fi < P->n_docs; fi++) {
			if (!strcmp(P->docs[fi].src->name, tmp.file))
				break;
		}
		for (j = i; j > 0; j--) {
			const struct cfg_diag_entry *e = &D->v[j - 1];

			for (fj = 0; fj < P->n_docs; fj++) {
				if (!strcmp(P->docs[fj].src->name, e->file))
					break;
			}
			if (fj < fi || (fj == fi && (e->line < tmp.line ||
						     (e->line == tmp.line &&
						      e->column <= tmp.column))))
				break;
			D->v[j] = D->v[j - 1];
		}
		D->v[j] = tmp;
	}
}

/* ---------------------------------------------------------------- */
/* Public API                                                         */
/* ---------------------------------------------------------------- */

void cfg_policy_free(struct cfg_policy *p)
{
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->n_services; i++) {
		size_t k;

		for (k = 0; k < p->services[i].n_entries; k++)
			free(p->services[i].entries[k].ports);
		free(p->services[i].entries);
		free(p->services[i].name);
	}
	free(p->services);
	for (i = 0; i < p->n_segments; i++) {
		free(p->segments[i].name);
		free(p->segments[i].prefixes);
		free(p->segments[i].macs);
		free(p->segments[i].devices);
	}
	free(p->segments);
	for (i = 0; i < p->n_devices; i++)
		free(p->devices[i].name);
	free(p->devices);
	for (i = 0; i < p->n_rules; i++) {
		free(p->rules[i].name);
		free(p->rules[i].from);
		free(p->rules[i].to);
		free(p->rules[i].services);
	}
	free(p->rules);
	for (i = 0; i < p->n_still_allowed; i++) {
		free(p->still_allowed[i].name);
		free(p->still_allowed[i].to);
		free(p->still_allowed[i].services);
	}
	free(p->still_allowed);
	src_docs_free(p->docs);
	free(p);
}

int cfg_parse(struct src_docs *docs, struct cfg_policy **out,
	      struct cfg_diag *diag)
{
	struct parser P;
	size_t i;
	int ret;

	if (out)
		*out = NULL;
	if (!docs || !out || !diag) {
		src_docs_free(docs);
		return -EINVAL;
	}
	memset(diag, 0, sizeof(*diag));
	memset(&P, 0, sizeof(P));
	P.diag = diag;
	P.p = calloc(1, sizeof(*P.p));
	if (!P.p) {
		src_docs_free(docs);
		return -ENOMEM;
	}
	P.p->docs = docs;
	P.n_docs = docs->n;
	if (docs->n) {
		P.docs = calloc(docs->n, sizeof(*P.docs));
		if (!P.docs) {
			ret = -ENOMEM;
			goto out;
		}
	} else {
		err_pos(&P, NULL, "no policy documents");
	}
	for (i = 0; i < docs->n && !P.err; i++) {
		P.docs[i].src = &docs->v[i];
		load_doc(&P, &P.docs[i]);
	}
	for (i = 0; i < P.n_docs && !P.err; i++) {
		if (P.docs[i].root)
			parse_doc_top(&P, &P.docs[i]);
	}
	if (!P.err && P.p->n_segments) {
		P.seg_used = calloc(P.p->n_segments, sizeof(*P.seg_used));
		if (!P.seg_used)
			P.err = -ENOMEM;
	}
	for (i = 0; i < P.n_docs && !P.err; i++) {
		if (P.docs[i].root && json_object_get(P.docs[i].root, "rules"))
			parse_rules(&P, &P.docs[i], P.docs[i].root);
	}
	for (i = 0; i < P.n_docs && !P.err; i++) {
		if (P.docs[i].root &&
		    json_object_get(P.docs[i].root, "isolation"))
			parse_isolation(&P, &P.docs[i], P.docs[i].root);
	}
	if (!P.err)
		check_members(&P);
	/* usage warnings only for a policy that is otherwise sound: after
	 * errors they mostly echo them ("no members" when all were bad) */
	if (!P.err && !P.load_failed && !diag->n_errors)
		check_segments_used(&P);
	sort_diags(&P);

	ret = P.err;
	if (!ret && diag->n_errors)
		ret = -EINVAL;
out:
	for (i = 0; P.docs && i < P.n_docs; i++) {
		jpos_map_free(P.docs[i].map);
		json_decref(P.docs[i].root);
	}
	free(P.docs);
	free(P.members);
	free(P.seg_used);
	for (i = 0; i < P.n_ghosts; i++)
		free(P.ghosts[i]);
	free(P.ghosts);
	free(P.services.v);
	free(P.ids.v);
	free(P.rules.v);
	if (ret) {
		cfg_policy_free(P.p);
		return ret;
	}
	*out = P.p;
	return 0;
}

void cfg_diag_format(const struct cfg_diag *d, size_t i, char *buf,
		     size_t len)
{
	const struct cfg_diag_entry *e;
	const char *sev;

	if (!buf || !len)
		return;
	if (!d || i >= d->n) {
		buf[0] = '\0';
		return;
	}
	e = &d->v[i];
	sev = e->severity == CFG_WARNING ? "warning" : "error";
	if (!e->file[0])
		snprintf(buf, len, "%s: %s", sev, e->msg);
	else if (e->line <= 0)
		snprintf(buf, len, "%s: %s: %s", e->file, sev, e->msg);
	else
		snprintf(buf, len, "%s:%d:%d: %s: %s", e->file, e->line,
			 e->column, sev, e->msg);
}

long cfg_find_segment(const struct cfg_policy *p, const char *name)
{
	size_t i;

	if (!p || !name)
		return -1;
	for (i = 0; i < p->n_segments; i++) {
		if (!strcmp(p->segments[i].name, name))
			return (long)i;
	}
	return -1;
}

long cfg_find_device(const struct cfg_policy *p, const char *name)
{
	size_t i;

	if (!p || !name)
		return -1;
	for (i = 0; i < p->n_devices; i++) {
		if (!strcmp(p->devices[i].name, name))
			return (long)i;
	}
	return -1;
}
