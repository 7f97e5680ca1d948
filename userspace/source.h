/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * source.h - where policy documents come from.
 *
 * The compiler never reads files itself: it is handed a set of named
 * documents. Today they come from a directory (every *.json file in it,
 * sorted by name); a fleet source (etcd) will hand over the same shape.
 */
#ifndef SEGD_SOURCE_H
#define SEGD_SOURCE_H

#include <stddef.h>

struct src_doc {
	char *name;		/* shown in diagnostics, e.g. "segments/hospital.json" */
	char *text;		/* NUL-terminated contents */
	size_t len;
};

struct src_docs {
	struct src_doc *v;
	size_t n;
	char digest[65];	/* hex SHA-256 over names and contents, in order */
};

/*
 * src_read_dir - read every regular *.json file of @dir, sorted by name.
 * A path that is a single file is read as a one-document set.
 * Returns a new set, or NULL with errno set (ENOENT: no such directory,
 * ENODATA: no *.json file in it). @err receives a readable message.
 */
struct src_docs *src_read_dir(const char *dir, char *err, size_t errlen);

/* src_from_strings - build a set from memory (tests, other sources). */
struct src_docs *src_from_strings(const char *const *names,
				  const char *const *texts, size_t n);

void src_docs_free(struct src_docs *d);

#endif /* SEGD_SOURCE_H */
