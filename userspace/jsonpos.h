/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * jsonpos.h - where each value of a jansson tree sits in its source text.
 *
 * jansson reports positions only for syntax errors. After jansson has
 * accepted a document, jpos_map_new() walks the text once, in step with the
 * tree, and records the line, column and byte range of every value and of
 * every object key. Entries are keyed by (parent container, key) or
 * (parent container, index), never by the value itself, because jansson's
 * true, false and null are shared singletons.
 *
 * Lines and columns are 1-based; a column counts Unicode characters (a tab
 * is one), like jansson's own error positions.
 */
#ifndef SEGD_JSONPOS_H
#define SEGD_JSONPOS_H

#include <stddef.h>

#include <jansson.h>

struct jpos {
	int line;
	int column;
	size_t offset;		/* byte offset of the first character */
	size_t len;		/* bytes of the value's text (0 for keys) */
};

/* One member of an object (key and value) or element of an array. */
struct jpos_entry {
	const json_t *parent;
	char *key;		/* NULL for array elements */
	size_t index;		/* array index; 0 for object members */
	struct jpos key_pos;	/* object members: position of the key */
	struct jpos value_pos;
};

struct jpos_map;

/*
 * jpos_map_new - record the positions of every value of @root, which
 * jansson decoded from @text (@len bytes). Returns NULL with errno set:
 * ENOMEM, or EINVAL when the text does not match the tree.
 */
struct jpos_map *jpos_map_new(const char *text, size_t len, const json_t *root);
void jpos_map_free(struct jpos_map *m);

/* Position of the top-level value. */
const struct jpos *jpos_root(const struct jpos_map *m);

/* Member @key of object @obj, element @i of array @arr; NULL if unknown. */
const struct jpos_entry *jpos_member(const struct jpos_map *m,
				     const json_t *obj, const char *key);
const struct jpos_entry *jpos_element(const struct jpos_map *m,
				      const json_t *arr, size_t i);

/*
 * jpos_find_duplicates - report every key that occurs twice in one object
 * of @text (which must be valid JSON apart from the duplicates). @fn gets
 * the key (decoded), its position and the position of its first
 * occurrence. Returns the number of duplicates found, or a negative errno.
 */
typedef void (*jpos_dup_fn)(void *ctx, const char *key,
			    const struct jpos *dup, const struct jpos *first);
int jpos_find_duplicates(const char *text, size_t len, jpos_dup_fn fn,
			 void *ctx);

#endif /* SEGD_JSONPOS_H */
