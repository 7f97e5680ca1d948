/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * promparse.h - a small, strict parser of the Prometheus text exposition
 * format (0.0.4), for tests only (Debian's promtool comes with the whole
 * prometheus server, ~100 MB). Stricter than Prometheus itself:
 *  - every family has one # HELP and one # TYPE line, before its samples;
 *  - a family's samples are contiguous; a label set appears once;
 *  - names and label names match the format's grammar; label values use
 *    only the escapes \\ \" \n; a label name appears once per sample;
 *  - counters end in _total; values parse as floats (or +Inf, -Inf, NaN);
 *  - no blank lines, and the text ends with a newline.
 * Header-only: included by tests/unit/test_metrics.c and
 * tests/tools/promcheck.c.
 */
#ifndef SEGD_TEST_PROMPARSE_H
#define SEGD_TEST_PROMPARSE_H

#include <ctype.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PP_MAX_SAMPLES 4096
#define PP_MAX_FAMILIES 128
#define PP_MAX_LABELS 8
#define PP_STR 128

struct pp_sample {
	char name[PP_STR];
	int nlabels;
	char lname[PP_MAX_LABELS][PP_STR];
	char lval[PP_MAX_LABELS][PP_STR];
	double value;
};

struct pp_family {
	char name[PP_STR];
	char type[16];
	bool help, done;
};

struct pp_doc {
	size_t n;
	struct pp_sample s[PP_MAX_SAMPLES];
	size_t nf;
	struct pp_family f[PP_MAX_FAMILIES];
	char err[256];
};

static bool pp_name_ok(const char *s, bool metric)
{
	if (!*s || !(isalpha((unsigned char)*s) || *s == '_' ||
		     (metric && *s == ':')))
		return false;
	for (s++; *s; s++)
		if (!(isalnum((unsigned char)*s) || *s == '_' ||
		      (metric && *s == ':')))
			return false;
	return true;
}

static struct pp_family *pp_family(struct pp_doc *d, const char *name)
{
	size_t i;

	for (i = 0; i < d->nf; i++)
		if (!strcmp(d->f[i].name, name))
			return &d->f[i];
	return NULL;
}

/* The family a sample name belongs to (histogram/summary suffixes). */
static struct pp_family *pp_family_of(struct pp_doc *d, const char *name)
{
	static const char *const sfx[] = { "_bucket", "_sum", "_count" };
	struct pp_family *f = pp_family(d, name);
	char base[PP_STR];
	size_t i, l = strlen(name);

	for (i = 0; !f && i < 3; i++) {
		size_t sl = strlen(sfx[i]);

		if (l > sl && !strcmp(name + l - sl, sfx[i])) {
			snprintf(base, sizeof(base), "%.*s", (int)(l - sl), name);
			f = pp_family(d, base);
			if (f && strcmp(f->type, "histogram") &&
			    strcmp(f->type, "summary"))
				f = NULL;
		}
	}
	return f;
}

/* Reads a token of [A-Za-z0-9_:] into out. */
static const char *pp_word(const char *p, char *out)
{
	size_t n = 0;

	while (*p && (isalnum((unsigned char)*p) || *p == '_' || *p == ':') &&
	       n + 1 < PP_STR)
		out[n++] = *p++;
	out[n] = '\0';
	return p;
}

static int pp_fail(struct pp_doc *d, int line, const char *what)
{
	snprintf(d->err, sizeof(d->err), "line %d: %s", line, what);
	return -1;
}

static bool pp_value(const char *s, double *v)
{
	char *end;

	if (!strcmp(s, "+Inf")) {
		*v = INFINITY;
		return true;
	}
	if (!strcmp(s, "-Inf")) {
		*v = -INFINITY;
		return true;
	}
	if (!strcmp(s, "NaN")) {
		*v = NAN;
		return true;
	}
	if (!*s || isspace((unsigned char)*s))
		return false;
	*v = strtod(s, &end);
	return !*end;
}

static int pp_sample_line(struct pp_doc *d, int ln, const char *p,
			  struct pp_family **cur)
{
	struct pp_sample *s;
	struct pp_family *f;
	char val[64];
	size_t i, n;
	int j, k;

	if (d->n == PP_MAX_SAMPLES)
		return pp_fail(d, ln, "too many samples");
	s = &d->s[d->n];
	memset(s, 0, sizeof(*s));
	p = pp_word(p, s->name);
	if (!pp_name_ok(s->name, true))
		return pp_fail(d, ln, "bad metric name");
	f = pp_family_of(d, s->name);
	if (!f || !f->help || !f->type[0])
		return pp_fail(d, ln, "sample before its # HELP and # TYPE");
	if (f->done)
		return pp_fail(d, ln, "family's samples are not contiguous");
	if (*cur && *cur != f)
		(*cur)->done = true;
	*cur = f;
	if (*p == '{') {
		p++;
		while (*p != '}') {
			if (s->nlabels == PP_MAX_LABELS)
				return pp_fail(d, ln, "too many labels");
			p = pp_word(p, s->lname[s->nlabels]);
			if (!pp_name_ok(s->lname[s->nlabels], false))
				return pp_fail(d, ln, "bad label name");
			if (*p++ != '=' || *p++ != '"')
				return pp_fail(d, ln, "expected =\" after a label name");
			n = 0;
			while (*p != '"') {
				char c = *p++;

				if (!c || c == '\n')
					return pp_fail(d, ln, "unterminated label value");
				if (c == '\\') {
					c = *p++;
					if (c == 'n')
						c = '\n';
					else if (c != '\\' && c != '"')
						return pp_fail(d, ln, "bad escape in a label value");
				}
				if (n + 1 < PP_STR)
					s->lval[s->nlabels][n++] = c;
			}
			p++;
			for (j = 0; j < s->nlabels; j++)
				if (!strcmp(s->lname[j], s->lname[s->nlabels]))
					return pp_fail(d, ln, "label name repeated");
			s->nlabels++;
			if (*p == ',')
				p++;
			else if (*p != '}')
				return pp_fail(d, ln, "expected , or } after a label");
		}
		p++;
	}
	if (*p++ != ' ')
		return pp_fail(d, ln, "expected one space before the value");
	n = strcspn(p, " ");
	if (n >= sizeof(val))
		return pp_fail(d, ln, "value too long");
	memcpy(val, p, n);
	val[n] = '\0';
	if (!pp_value(val, &s->value))
		return pp_fail(d, ln, "value is not a number");
	p += n;
	if (*p == ' ') {	/* timestamp: an integer */
		p++;
		if (*p == '-')
			p++;
		if (!*p)
			return pp_fail(d, ln, "empty timestamp");
		for (; *p; p++)
			if (!isdigit((unsigned char)*p))
				return pp_fail(d, ln, "bad timestamp");
	}
	if (!strcmp(f->type, "counter") && s->value < 0)
		return pp_fail(d, ln, "negative counter");
	/* Same name and same label set twice? */
	for (i = 0; i < d->n; i++) {
		const struct pp_sample *o = &d->s[i];
		bool same = !strcmp(o->name, s->name) &&
			    o->nlabels == s->nlabels;

		for (j = 0; same && j < s->nlabels; j++) {
			bool found = false;

			for (k = 0; k < o->nlabels; k++)
				if (!strcmp(o->lname[k], s->lname[j]) &&
				    !strcmp(o->lval[k], s->lval[j]))
					found = true;
			same = found;
		}
		if (same)
			return pp_fail(d, ln, "duplicate sample (same labels)");
	}
	d->n++;
	return 0;
}

/* pp_parse - parse @text into @d. 0, or -1 with d->err naming the line. */
static int pp_parse(struct pp_doc *d, const char *text)
{
	struct pp_family *cur = NULL;
	char line[4096];
	const char *p = text;
	int ln = 0;

	memset(d, 0, sizeof(*d));
	if (!*text || text[strlen(text) - 1] != '\n')
		return pp_fail(d, 0, "text does not end with a newline");
	while (*p) {
		size_t n = strcspn(p, "\n");
		char kw[8], name[PP_STR];
		struct pp_family *f;

		ln++;
		if (n >= sizeof(line))
			return pp_fail(d, ln, "line too long");
		memcpy(line, p, n);
		line[n] = '\0';
		p += n + 1;
		if (!n)
			return pp_fail(d, ln, "blank line");
		if (line[0] != '#') {
			if (pp_sample_line(d, ln, line, &cur))
				return -1;
			continue;
		}
		if (sscanf(line, "# %7s %127s", kw, name) != 2 ||
		    (strcmp(kw, "HELP") && strcmp(kw, "TYPE")))
			continue;	/* a plain comment */
		if (!pp_name_ok(name, true))
			return pp_fail(d, ln, "bad metric name in # HELP/# TYPE");
		f = pp_family(d, name);
		if (!f) {
			if (d->nf == PP_MAX_FAMILIES)
				return pp_fail(d, ln, "too many families");
			f = &d->f[d->nf++];
			snprintf(f->name, sizeof(f->name), "%s", name);
		}
		if (f->done || (cur && cur == f))
			return pp_fail(d, ln, "# HELP/# TYPE after the family's samples");
		if (!strcmp(kw, "HELP")) {
			if (f->help)
				return pp_fail(d, ln, "second # HELP");
			f->help = true;
		} else {
			const char *t = line + 7 + strlen(name);

			if (f->type[0])
				return pp_fail(d, ln, "second # TYPE");
			while (*t == ' ')
				t++;
			if (strcmp(t, "counter") && strcmp(t, "gauge") &&
			    strcmp(t, "histogram") && strcmp(t, "summary") &&
			    strcmp(t, "untyped"))
				return pp_fail(d, ln, "unknown type");
			snprintf(f->type, sizeof(f->type), "%s", t);
			if (!strcmp(t, "counter") &&
			    (strlen(name) < 6 ||
			     strcmp(name + strlen(name) - 6, "_total")))
				return pp_fail(d, ln, "counter name does not end in _total");
		}
	}
	return 0;
}

/*
 * pp_sum - sum of the samples named @name whose labels include every
 * "k=v" of @match (NULL-terminated; NULL for none). *count gets how many.
 */
static double pp_sum(const struct pp_doc *d, const char *name,
		     const char *const *match, size_t *count)
{
	double sum = 0;
	size_t i, c = 0;

	for (i = 0; i < d->n; i++) {
		const struct pp_sample *s = &d->s[i];
		const char *const *m;
		bool ok = !strcmp(s->name, name);

		for (m = match; ok && m && *m; m++) {
			const char *eq = strchr(*m, '=');
			bool found = false;
			int j;

			for (j = 0; eq && j < s->nlabels; j++)
				if (strlen(s->lname[j]) == (size_t)(eq - *m) &&
				    !strncmp(s->lname[j], *m, eq - *m) &&
				    !strcmp(s->lval[j], eq + 1))
					found = true;
			ok = found;
		}
		if (ok) {
			sum += s->value;
			c++;
		}
	}
	if (count)
		*count = c;
	return sum;
}

#endif /* SEGD_TEST_PROMPARSE_H */
