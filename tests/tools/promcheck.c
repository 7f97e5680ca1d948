// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * promcheck - strict check of a Prometheus text file (tests/unit/
 * promparse.h), for the end-to-end tests.
 *
 *   promcheck FILE                      "ok N samples" or the first error
 *   promcheck FILE NAME [LABEL=VALUE..] the sum of the matching samples
 *                                       (and "none" + exit 1 if no match)
 * FILE "-" is stdin.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/promparse.h"

static struct pp_doc doc;

int main(int argc, char **argv)
{
	FILE *f;
	char *text = NULL;
	size_t len = 0, n;
	char buf[65536];
	double sum;

	if (argc < 2) {
		fprintf(stderr, "usage: promcheck FILE [NAME [LABEL=VALUE ...]]\n");
		return 2;
	}
	f = strcmp(argv[1], "-") ? fopen(argv[1], "r") : stdin;
	if (!f) {
		fprintf(stderr, "promcheck: \"%s\": %s\n", argv[1], strerror(errno));
		return 1;
	}
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
		char *nt = realloc(text, len + n + 1);

		if (!nt)
			return 1;
		text = nt;
		memcpy(text + len, buf, n);
		len += n;
	}
	if (f != stdin)
		fclose(f);
	if (!text)
		text = calloc(1, 1);
	text[len] = '\0';
	if (pp_parse(&doc, text)) {
		fprintf(stderr, "promcheck: %s: %s\n", argv[1], doc.err);
		return 1;
	}
	if (argc == 2) {
		printf("ok %zu samples\n", doc.n);
		return 0;
	}
	sum = pp_sum(&doc, argv[2], (const char *const *)argv + 3, &n);
	if (!n) {
		printf("none\n");
		return 1;
	}
	printf("%.0f\n", sum);
	free(text);
	return 0;
}
