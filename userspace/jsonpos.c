// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * jsonpos.c - line and column of every value of a decoded JSON document.
 *
 * The scanner below trusts nothing: it checks every bound and fails with
 * EINVAL on text it does not expect, but it is not a validator. It only
 * runs on text jansson has already accepted (or accepted apart from
 * duplicate keys), so it can stay small.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jsonpos.h"

/* jansson stops at 2048 levels; anything deeper is not what jansson read. */
#define JPOS_MAX_DEPTH 4096

struct jpos_map {
	struct jpos root;
	struct jpos_entry *v;
	size_t n, cap;
	size_t *slots;		/* index into v plus one; 0 = empty */
	size_t n_slots;		/* power of two */
};

struct dup_key {
	char *key;
	struct jpos pos;
};

struct scan {
	const char *s;
	size_t len;
	size_t off;
	int line;
	int col;		/* characters consumed on this line */
	struct jpos_map *map;	/* position mode */
	jpos_dup_fn dup_fn;	/* duplicate mode */
	void *dup_ctx;
	int n_dups;
};

static uint64_t hash_entry(const json_t *parent, const char *key, size_t index)
{
	uint64_t h = 1469598103934665603ULL;
	uintptr_t p = (uintptr_t)parent;
	size_t i;

	for (i = 0; i < sizeof(p); i++) {
		h ^= (p >> (8 * i)) & 0xff;
		h *= 1099511628211ULL;
	}
	if (key) {
		for (; *key; key++) {
			h ^= (unsigned char)*key;
			h *= 1099511628211ULL;
		}
	} else {
		for (i = 0; i < sizeof(index); i++) {
			h ^= (index >> (8 * i)) & 0xff;
			h *= 1099511628211ULL;
		}
		h ^= 0xff;	/* keys and indexes never collide by design */
	}
	return h;
}

static bool entry_is(const struct jpos_entry *e, const json_t *parent,
		     const char *key, size_t index)
{
	if (e->parent != parent)
		return false;
	if (key)
		return e->key && !strcmp(e->key, key);
	return !e->key && e->index == index;
}

static const struct jpos_entry *map_find(const struct jpos_map *m,
					 const json_t *parent, const char *key,
					 size_t index)
{
	size_t mask, i, slot;

	if (!m || !m->n_slots)
		return NULL;
	mask = m->n_slots - 1;
	i = hash_entry(parent, key, index) & mask;
	while ((slot = m->slots[i])) {
		if (entry_is(&m->v[slot - 1], parent, key, index))
			return &m->v[slot - 1];
		i = (i + 1) & mask;
	}
	return NULL;
}

static int map_rehash(struct jpos_map *m, size_t n_slots)
{
	size_t *slots, i, j, mask = n_slots - 1;

	slots = calloc(n_slots, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	for (i = 0; i < m->n; i++) {
		const struct jpos_entry *e = &m->v[i];

		j = hash_entry(e->parent, e->key, e->index) & mask;
		while (slots[j])
			j = (j + 1) & mask;
		slots[j] = i + 1;
	}
	free(m->slots);
	m->slots = slots;
	m->n_slots = n_slots;
	return 0;
}

/* Takes ownership of @key (also on failure). */
static int map_add(struct jpos_map *m, const json_t *parent, char *key,
		   size_t index, const struct jpos *key_pos,
		   const struct jpos *value_pos)
{
	struct jpos_entry *e;
	size_t mask, i;
	int err;

	if (map_find(m, parent, key, index)) {
		/* Only possible with duplicate keys, which jansson rejects. */
		free(key);
		return -EINVAL;
	}
	if (m->n == m->cap) {
		size_t cap = m->cap ? 2 * m->cap : 64;

		e = realloc(m->v, cap * sizeof(*e));
		if (!e) {
			free(key);
			return -ENOMEM;
		}
		m->v = e;
		m->cap = cap;
	}
	if (2 * (m->n + 1) > m->n_slots) {
		err = map_rehash(m, m->n_slots ? 2 * m->n_slots : 128);
		if (err) {
			free(key);
			return err;
		}
	}
	e = &m->v[m->n];
	e->parent = parent;
	e->key = key;
	e->index = key ? 0 : index;
	if (key_pos)
		e->key_pos = *key_pos;
	else
		memset(&e->key_pos, 0, sizeof(e->key_pos));
	e->value_pos = *value_pos;
	mask = m->n_slots - 1;
	i = hash_entry(parent, key, index) & mask;
	while (m->slots[i])
		i = (i + 1) & mask;
	m->slots[i] = ++m->n;
	return 0;
}

/* ---------------------------------------------------------------- */
/* Scanner                                                            */
/* ---------------------------------------------------------------- */

static bool at_end(const struct scan *sc)
{
	return sc->off >= sc->len;
}

static char peek(const struct scan *sc)
{
	return at_end(sc) ? '\0' : sc->s[sc->off];
}

static void advance(struct scan *sc)
{
	unsigned char c = (unsigned char)sc->s[sc->off++];

	if (c == '\n') {
		sc->line++;
		sc->col = 0;
	} else if ((c & 0xc0) != 0x80) {
		/* count characters, not the continuation bytes of UTF-8 */
		sc->col++;
	}
}

static struct jpos here(const struct scan *sc)
{
	struct jpos p = {
		.line = sc->line,
		.column = sc->col + 1,
		.offset = sc->off,
		.len = 0,
	};
	return p;
}

static void skip_ws(struct scan *sc)
{
	while (!at_end(sc)) {
		char c = peek(sc);

		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			break;
		advance(sc);
	}
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

static int read_u4(struct scan *sc, unsigned *out)
{
	unsigned v = 0;
	int i, h;

	for (i = 0; i < 4; i++) {
		if (at_end(sc))
			return -EINVAL;
		h = hexval(peek(sc));
		if (h < 0)
			return -EINVAL;
		v = v << 4 | (unsigned)h;
		advance(sc);
	}
	*out = v;
	return 0;
}

static size_t put_utf8(char *o, unsigned cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | cp >> 18);
	o[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	o[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/*
 * Scan a string starting at its opening quote. With @out, decode it into a
 * new NUL-terminated buffer (escapes resolved, as jansson does).
 */
static int scan_string(struct scan *sc, char **out)
{
	size_t start, cap, n = 0;
	char *buf = NULL;
	int err = -EINVAL;

	if (peek(sc) != '"')
		return -EINVAL;
	advance(sc);
	start = sc->off;
	if (out) {
		/* decoded text is never longer than the source text */
		while (start + n < sc->len && sc->s[start + n] != '"')
			n += sc->s[start + n] == '\\' ? 2 : 1;
		cap = n + 1;
		buf = malloc(cap);
		if (!buf)
			return -ENOMEM;
		n = 0;
	}
	for (;;) {
		char c;

		if (at_end(sc))
			goto fail;
		c = peek(sc);
		if (c == '"') {
			advance(sc);
			break;
		}
		if ((unsigned char)c < 0x20)
			goto fail;
		if (c != '\\') {
			if (buf)
				buf[n++] = c;
			advance(sc);
			continue;
		}
		advance(sc);
		if (at_end(sc))
			goto fail;
		c = peek(sc);
		advance(sc);
		switch (c) {
		case '"': case '\\': case '/':
			break;
		case 'b': c = '\b'; break;
		case 'f': c = '\f'; break;
		case 'n': c = '\n'; break;
		case 'r': c = '\r'; break;
		case 't': c = '\t'; break;
		case 'u': {
			unsigned cp, lo;

			if (read_u4(sc, &cp))
				goto fail;
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (peek(sc) != '\\')
					goto fail;
				advance(sc);
				if (peek(sc) != 'u')
					goto fail;
				advance(sc);
				if (read_u4(sc, &lo) || lo < 0xdc00 || lo > 0xdfff)
					goto fail;
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			} else if (cp >= 0xdc00 && cp <= 0xdfff) {
				goto fail;
			}
			/* \uXXXX takes 6 source bytes, at most 4 decoded */
			if (buf)
				n += put_utf8(buf + n, cp);
			continue;
		}
		default:
			goto fail;
		}
		if (buf)
			buf[n++] = c;
	}
	if (buf) {
		buf[n] = '\0';
		*out = buf;
	}
	return 0;
fail:
	free(buf);
	return err;
}

/* Numbers and the literals true, false, null: scanned, not judged. */
static int scan_atom(struct scan *sc)
{
	size_t start = sc->off;

	while (!at_end(sc)) {
		char c = peek(sc);

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
		      c == '-' || c == '+' || c == '.' || c == 'E'))
			break;
		advance(sc);
	}
	return sc->off > start ? 0 : -EINVAL;
}

static int scan_value(struct scan *sc, const json_t *node, struct jpos *pos,
		      int depth);

static void free_dups(struct dup_key *d, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(d[i].key);
	free(d);
}

static int scan_object(struct scan *sc, const json_t *node, int depth)
{
	struct dup_key *seen = NULL;
	size_t n_seen = 0, cap_seen = 0, i;
	int err;

	if (node && !json_is_object(node))
		node = NULL;
	advance(sc);		/* '{' */
	skip_ws(sc);
	if (peek(sc) == '}') {
		advance(sc);
		return 0;
	}
	for (;;) {
		struct jpos kpos, vpos;
		char *key = NULL;

		skip_ws(sc);
		kpos = here(sc);
		err = scan_string(sc, &key);
		if (err)
			goto out;
		skip_ws(sc);
		if (peek(sc) != ':') {
			free(key);
			err = -EINVAL;
			goto out;
		}
		advance(sc);
		err = scan_value(sc, node ? json_object_get(node, key) : NULL,
				 &vpos, depth + 1);
		if (err) {
			free(key);
			goto out;
		}
		if (sc->map) {
			if (!node) {
				free(key);
			} else {
				err = map_add(sc->map, node, key, 0, &kpos,
					      &vpos);
				if (err)
					goto out;
			}
		} else {
			for (i = 0; i < n_seen; i++) {
				if (!strcmp(seen[i].key, key))
					break;
			}
			if (i < n_seen) {
				sc->n_dups++;
				if (sc->dup_fn)
					sc->dup_fn(sc->dup_ctx, key, &kpos,
						   &seen[i].pos);
				free(key);
			} else {
				if (n_seen == cap_seen) {
					size_t cap = cap_seen ? 2 * cap_seen : 16;
					struct dup_key *d;

					d = realloc(seen, cap * sizeof(*d));
					if (!d) {
						free(key);
						err = -ENOMEM;
						goto out;
					}
					seen = d;
					cap_seen = cap;
				}
				seen[n_seen].key = key;
				seen[n_seen].pos = kpos;
				n_seen++;
			}
		}
		skip_ws(sc);
		if (peek(sc) == ',') {
			advance(sc);
			continue;
		}
		if (peek(sc) == '}') {
			advance(sc);
			err = 0;
			goto out;
		}
		err = -EINVAL;
		goto out;
	}
out:
	free_dups(seen, n_seen);
	return err;
}

static int scan_array(struct scan *sc, const json_t *node, int depth)
{
	size_t i;
	int err;

	if (node && !json_is_array(node))
		node = NULL;
	advance(sc);		/* '[' */
	skip_ws(sc);
	if (peek(sc) == ']') {
		advance(sc);
		return 0;
	}
	for (i = 0;; i++) {
		struct jpos vpos;

		err = scan_value(sc, node ? json_array_get(node, i) : NULL,
				 &vpos, depth + 1);
		if (err)
			return err;
		if (sc->map && node) {
			err = map_add(sc->map, node, NULL, i, NULL, &vpos);
			if (err)
				return err;
		}
		skip_ws(sc);
		if (peek(sc) == ',') {
			advance(sc);
			continue;
		}
		if (peek(sc) == ']') {
			advance(sc);
			return 0;
		}
		return -EINVAL;
	}
}

static int scan_value(struct scan *sc, const json_t *node, struct jpos *pos,
		      int depth)
{
	int err;

	if (depth > JPOS_MAX_DEPTH)
		return -EINVAL;
	skip_ws(sc);
	*pos = here(sc);
	switch (peek(sc)) {
	case '{':
		err = scan_object(sc, node, depth);
		break;
	case '[':
		err = scan_array(sc, node, depth);
		break;
	case '"':
		err = scan_string(sc, NULL);
		break;
	default:
		err = scan_atom(sc);
		break;
	}
	pos->len = sc->off - pos->offset;
	return err;
}

static void scan_init(struct scan *sc, const char *text, size_t len)
{
	memset(sc, 0, sizeof(*sc));
	sc->s = text;
	sc->len = len;
	sc->line = 1;
}

struct jpos_map *jpos_map_new(const char *text, size_t len, const json_t *root)
{
	struct jpos_map *m;
	struct scan sc;
	int err;

	m = calloc(1, sizeof(*m));
	if (!m) {
		errno = ENOMEM;
		return NULL;
	}
	scan_init(&sc, text, len);
	sc.map = m;
	err = scan_value(&sc, root, &m->root, 0);
	if (err) {
		jpos_map_free(m);
		errno = -err;
		return NULL;
	}
	return m;
}

void jpos_map_free(struct jpos_map *m)
{
	size_t i;

	if (!m)
		return;
	for (i = 0; i < m->n; i++)
		free(m->v[i].key);
	free(m->v);
	free(m->slots);
	free(m);
}

const struct jpos *jpos_root(const struct jpos_map *m)
{
	return m ? &m->root : NULL;
}

const struct jpos_entry *jpos_member(const struct jpos_map *m,
				     const json_t *obj, const char *key)
{
	if (!key)
		return NULL;
	return map_find(m, obj, key, 0);
}

const struct jpos_entry *jpos_element(const struct jpos_map *m,
				      const json_t *arr, size_t i)
{
	return map_find(m, arr, NULL, i);
}

int jpos_find_duplicates(const char *text, size_t len, jpos_dup_fn fn,
			 void *ctx)
{
	struct scan sc;
	struct jpos root;
	int err;

	scan_init(&sc, text, len);
	sc.dup_fn = fn;
	sc.dup_ctx = ctx;
	err = scan_value(&sc, NULL, &root, 0);
	if (err)
		return err;
	return sc.n_dups;
}
