// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * test_config.c - policy sources, the position map and the segment file
 * parser.
 *
 * Most cases are data: tests/data/config/{valid,invalid}/<case>/ hold one or
 * more *.json files and, when the parser must say something, a file named
 * "expected" with the exact diagnostic lines (file names relative to the
 * case directory). Each directory becomes one cmocka test, so adding a case
 * is adding a directory. The rest are unit tests of what data cannot show:
 * the model itself, positions, the directory reader, the digest, the
 * diagnostic cap, and an allocation-failure sweep (malloc is interposed in
 * this binary, as in jansson's test_chaos.c).
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <cmocka.h>
#include <jansson.h>

#include "compile.h"
#include "config.h"
#include "jsonpos.h"
#include "source.h"

#ifndef SEGD_SRCDIR
#define SEGD_SRCDIR "."
#endif

#define DATA_DIR SEGD_SRCDIR "/tests/data/config"
#define HOSPITAL SEGD_SRCDIR "/segments/hospital.json"

/* ---------------------------------------------------------------- */
/* Allocation failure injection                                       */
/* ---------------------------------------------------------------- */
/*
 * While fm.on, every allocation is counted, the fm.fail_at-th one fails,
 * and live blocks are tracked in a small hash set, so that a sweep can
 * check both "fails cleanly with -ENOMEM" and "leaks nothing".
 */
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);

#define FM_BITS 16
#define FM_SLOTS (1u << FM_BITS)

static struct {
	bool on;
	long count;
	long fail_at;		/* 1-based; 0: never */
	long live;
	bool overflow;
	void *tab[FM_SLOTS];
} fm;

static size_t fm_hash(const void *p)
{
	return (size_t)(((uint64_t)(uintptr_t)p * 0x9e3779b97f4a7c15ULL) >>
			(64 - FM_BITS));
}

static void fm_insert(void *p)
{
	size_t i = fm_hash(p);

	if (fm.live >= (long)FM_SLOTS - 1) {
		fm.overflow = true;
		return;
	}
	while (fm.tab[i])
		i = (i + 1) & (FM_SLOTS - 1);
	fm.tab[i] = p;
	fm.live++;
}

static void fm_remove(void *p)
{
	size_t i = fm_hash(p), j, k;

	while (fm.tab[i] && fm.tab[i] != p)
		i = (i + 1) & (FM_SLOTS - 1);
	if (!fm.tab[i])
		return;		/* allocated before the window */
	fm.tab[i] = NULL;
	fm.live--;
	/* backward-shift deletion keeps every probe chain intact */
	for (j = (i + 1) & (FM_SLOTS - 1); fm.tab[j];
	     j = (j + 1) & (FM_SLOTS - 1)) {
		k = fm_hash(fm.tab[j]);
		if ((j > i && (k <= i || k > j)) || (j < i && k <= i && k > j)) {
			fm.tab[i] = fm.tab[j];
			fm.tab[j] = NULL;
			i = j;
		}
	}
}

static bool fm_fail(void)
{
	if (!fm.on)
		return false;
	fm.count++;
	if (fm.fail_at && fm.count == fm.fail_at) {
		errno = ENOMEM;
		return true;
	}
	return false;
}

void *malloc(size_t n)
{
	void *p;

	if (fm_fail())
		return NULL;
	p = __libc_malloc(n);
	if (p && fm.on)
		fm_insert(p);
	return p;
}

void *calloc(size_t a, size_t b)
{
	void *p;

	if (fm_fail())
		return NULL;
	p = __libc_calloc(a, b);
	if (p && fm.on)
		fm_insert(p);
	return p;
}

void *realloc(void *old, size_t n)
{
	void *p;

	if (fm_fail())
		return NULL;
	p = __libc_realloc(old, n);
	if (p && fm.on) {
		if (old)
			fm_remove(old);
		fm_insert(p);
	}
	return p;
}

void free(void *p)
{
	if (p && fm.on)
		fm_remove(p);
	__libc_free(p);
}

static void fm_start(long fail_at)
{
	memset(&fm, 0, sizeof(fm));
	fm.fail_at = fail_at;
	fm.on = true;
}

static void fm_stop(void)
{
	fm.on = false;
}

/* Under valgrind or a sanitizer our malloc is not the one called. */
static bool fm_works(void)
{
	void *(*volatile alloc)(size_t) = malloc;	/* not optimized out */
	void *p;

	fm_start(0);
	p = alloc(1);
	fm_stop();
	free(p);
	return fm.count == 1;
}

/* ---------------------------------------------------------------- */
/* Helpers                                                            */
/* ---------------------------------------------------------------- */

static char *read_text(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = calloc(1, (size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

/* Replace every "@from" in @s (in place; @to is never longer). */
static void strip_all(char *s, const char *from)
{
	size_t n = strlen(from);
	char *p;

	while ((p = strstr(s, from)))
		memmove(p, p + n, strlen(p + n) + 1);
}

/* Diagnostics as lines, with @prefix removed from file names. */
static char *diag_text(const struct cfg_diag *d, const char *prefix)
{
	size_t cap = 1024 + d->n * 1100, o = 0, i;
	char *out = calloc(1, cap);

	assert_non_null(out);
	for (i = 0; i < d->n; i++) {
		char line[1100];

		cfg_diag_format(d, i, line, sizeof(line));
		if (prefix)
			strip_all(line, prefix);
		o += (size_t)snprintf(out + o, cap - o, "%s\n", line);
	}
	return out;
}

static int parse_strings(const char *const *names, const char *const *texts,
			 size_t n, struct cfg_policy **p, struct cfg_diag *d)
{
	struct src_docs *docs = src_from_strings(names, texts, n);

	assert_non_null(docs);
	return cfg_parse(docs, p, d);
}

static int parse_one(const char *text, struct cfg_policy **p,
		     struct cfg_diag *d)
{
	const char *names[] = { "t.json" };
	const char *texts[] = { text };

	return parse_strings(names, texts, 1, p, d);
}

static void assert_pos(const struct cfg_pos *pos, const char *file, int line,
		       int column)
{
	assert_non_null(pos->file);
	assert_string_equal(pos->file, file);
	assert_int_equal(pos->line, line);
	assert_int_equal(pos->column, column);
}

/* ---------------------------------------------------------------- */
/* Data-driven cases                                                  */
/* ---------------------------------------------------------------- */

struct dcase {
	char dir[1024];
	bool valid;
};

static void run_data_case(void **state)
{
	const struct dcase *c = *state;
	struct cfg_policy *p = NULL;
	struct cfg_diag *d = calloc(1, sizeof(*d));
	char err[512], prefix[1100], path[1100];
	struct src_docs *docs;
	char *got, *want;
	int ret;

	assert_non_null(d);
	docs = src_read_dir(c->dir, err, sizeof(err));
	if (!docs)
		fail_msg("%s: %s", c->dir, err);
	ret = cfg_parse(docs, &p, d);
	snprintf(prefix, sizeof(prefix), "%s/", c->dir);
	got = diag_text(d, prefix);
	snprintf(path, sizeof(path), "%s/expected", c->dir);
	want = read_text(path);
	if (!want) {
		if (!c->valid)
			fail_msg("%s: an invalid case needs an expected file",
				 c->dir);
		want = strdup("");
	}
	if (strcmp(got, want)) {
		print_error("--- expected\n%s--- got\n%s", want, got);
		fail_msg("%s: diagnostics differ", c->dir);
	}
	if (c->valid) {
		assert_int_equal(ret, 0);
		assert_non_null(p);
		assert_int_equal(d->n_errors, 0);
	} else {
		assert_int_equal(ret, -EINVAL);
		assert_null(p);
		assert_true(d->n_errors > 0);
	}
	cfg_policy_free(p);
	free(got);
	free(want);
	free(d);
}

static int cmp_strp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Append one test per subdirectory of DATA_DIR/@kind, sorted. */
static size_t add_data_cases(struct CMUnitTest **tests, size_t n,
			     const char *kind)
{
	char base[512], *names[1024];
	size_t k = 0, i;
	struct dirent *de;
	DIR *dp;

	snprintf(base, sizeof(base), "%s/%s", DATA_DIR, kind);
	dp = opendir(base);
	if (!dp) {
		fprintf(stderr, "no test data in %s\n", base);
		exit(1);
	}
	while ((de = readdir(dp)) && k < 1024) {
		if (de->d_name[0] == '.')
			continue;
		names[k++] = strdup(de->d_name);
	}
	closedir(dp);
	qsort(names, k, sizeof(*names), cmp_strp);
	*tests = realloc(*tests, (n + k) * sizeof(**tests));
	for (i = 0; i < k; i++) {
		struct dcase *c = calloc(1, sizeof(*c));
		struct CMUnitTest *t = &(*tests)[n + i];
		char *name;

		snprintf(c->dir, sizeof(c->dir), "%s/%s", base, names[i]);
		c->valid = !strcmp(kind, "valid");
		if (asprintf(&name, "%s/%s", kind, names[i]) < 0)
			exit(1);
		memset(t, 0, sizeof(*t));
		t->name = name;
		t->test_func = run_data_case;
		t->initial_state = c;
		free(names[i]);
	}
	return n + k;
}

/* ---------------------------------------------------------------- */
/* The model of segments/hospital.json                                */
/* ---------------------------------------------------------------- */

static void test_hospital_model(void **state)
{
	struct cfg_policy *p = NULL;
	struct cfg_diag d;
	struct src_docs *docs;
	const struct cfg_service *s;
	const struct cfg_segment *seg;
	const struct cfg_device *dev;
	const struct cfg_rule *r;
	char err[256];
	long iomt, ehr, pacs, pump;
	uint8_t a[16];

	(void)state;
	docs = src_read_dir(HOSPITAL, err, sizeof(err));
	assert_non_null(docs);
	assert_int_equal(cfg_parse(docs, &p, &d), 0);
	assert_int_equal(d.n, 0);

	assert_int_equal(p->n_services, 6);
	s = &p->services[1];
	assert_string_equal(s->name, "dicom");
	assert_pos(&s->pos, HOSPITAL, 5, 5);
	assert_int_equal(s->n_entries, 1);
	assert_int_equal(s->entries[0].proto, IPPROTO_TCP);
	assert_int_equal(s->entries[0].n_ports, 2);
	assert_int_equal(s->entries[0].ports[0], 104);
	assert_int_equal(s->entries[0].ports[1], 11112);
	s = &p->services[4];
	assert_string_equal(s->name, "dns");
	assert_int_equal(s->n_entries, 2);
	assert_int_equal(s->entries[0].proto, IPPROTO_UDP);
	assert_int_equal(s->entries[1].proto, IPPROTO_TCP);
	s = &p->services[5];
	assert_string_equal(s->name, "ping");
	assert_int_equal(s->entries[0].proto, IPPROTO_ICMP);
	assert_int_equal(s->entries[0].n_ports, 0);
	assert_int_equal(s->entries[1].proto, IPPROTO_ICMPV6);

	assert_int_equal(p->n_segments, 4);
	ehr = cfg_find_segment(p, "ehr");
	iomt = cfg_find_segment(p, "iomt");
	pacs = cfg_find_segment(p, "pacs");
	assert_int_equal(ehr, 0);
	assert_int_equal(iomt, 1);
	assert_int_equal(pacs, 2);
	assert_int_equal(cfg_find_segment(p, "guest"), 3);
	assert_int_equal(cfg_find_segment(p, "pump-7"), -1);

	seg = &p->segments[ehr];
	assert_false(seg->intra_allow);
	assert_false(seg->audit);
	assert_int_equal(seg->n_prefixes, 2);
	assert_int_equal(seg->prefixes[0].family, AF_INET);
	assert_int_equal(seg->prefixes[0].plen, 24);
	inet_pton(AF_INET, "10.10.0.0", a);
	assert_memory_equal(seg->prefixes[0].addr, a, 4);
	assert_int_equal(seg->prefixes[1].family, AF_INET6);
	assert_int_equal(seg->prefixes[1].plen, 64);
	inet_pton(AF_INET6, "fd00:10::", a);
	assert_memory_equal(seg->prefixes[1].addr, a, 16);

	seg = &p->segments[pacs];
	assert_int_equal(seg->n_prefixes, 1);
	assert_int_equal(seg->prefixes[0].plen, 32);
	assert_pos(&seg->prefixes[0].pos, HOSPITAL, 25, 29);

	assert_int_equal(p->n_devices, 1);
	pump = cfg_find_device(p, "pump-7");
	assert_int_equal(pump, 0);
	assert_int_equal(cfg_find_device(p, "iomt"), -1);
	dev = &p->devices[pump];
	assert_int_equal(dev->segment, (size_t)iomt);
	assert_true(dev->has_ipv4);
	assert_false(dev->has_ipv6);
	assert_true(dev->has_mac);
	inet_pton(AF_INET, "10.20.0.7", a);
	assert_memory_equal(dev->ipv4, a, 4);
	assert_memory_equal(dev->mac, "\x02\x00\x00\x20\x00\x07", 6);
	assert_pos(&dev->pos, HOSPITAL, 20, 21);
	assert_pos(&dev->ipv4_pos, HOSPITAL, 20, 39);
	assert_pos(&dev->mac_pos, HOSPITAL, 20, 59);
	assert_int_equal(p->segments[iomt].n_devices, 1);
	assert_int_equal(p->segments[iomt].devices[0], (size_t)pump);

	assert_int_equal(p->n_rules, 6);
	r = &p->rules[0];
	assert_string_equal(r->name, "ehr-web");
	assert_pos(&r->pos, HOSPITAL, 32, 15);
	r = &p->rules[2];
	assert_string_equal(r->name, "pump-hl7");
	assert_int_equal(r->n_from, 1);
	assert_int_equal(r->from[0].kind, CFG_REF_DEVICE);
	assert_int_equal(r->from[0].index, (size_t)pump);
	assert_int_equal(r->to[0].kind, CFG_REF_SEGMENT);
	assert_int_equal(r->to[0].index, (size_t)ehr);
	assert_int_equal(r->n_services, 1);
	assert_string_equal(p->services[r->services[0]].name, "hl7-mllp");
	r = &p->rules[4];
	assert_int_equal(r->n_to, 2);
	assert_int_equal(r->to[1].index, (size_t)pacs);
	r = &p->rules[5];
	assert_int_equal(r->to[0].kind, CFG_REF_WORLD);
	assert_int_equal(r->n_services, 2);

	assert_non_null(p->docs);
	assert_int_equal(strlen(p->docs->digest), 64);
	cfg_policy_free(p);
}

/* Every reference kind, every member kind, flags. */
static void test_model_references_and_flags(void **state)
{
	static const char text[] =
		"{\"version\": 1,\n"
		" \"services\": {\"all\": [{\"proto\": \"any\"}],\n"
		"               \"web\": [{\"proto\": \"tcp\"}]},\n"
		" \"segments\": {\"lab\": {\"intra\": \"allow\", \"mode\": \"audit\",\n"
		"   \"members\": {\"mac\": [\"02-AA-00-00-00-01\"],\n"
		"     \"devices\": [{\"name\": \"scale\", \"ipv6\": \"fd00::5\"}]}}},\n"
		" \"rules\": [{\"name\": \"r\", \"from\": [\"*\", \"gateway\"],\n"
		"            \"to\": [\"world\", \"scale\", \"lab\"], \"services\": [\"all\", \"web\"]}]}\n";
	struct cfg_policy *p = NULL;
	struct cfg_diag d;
	const struct cfg_rule *r;
	uint8_t a[16];

	(void)state;
	assert_int_equal(parse_one(text, &p, &d), 0);
	assert_int_equal(d.n, 0);
	assert_true(p->segments[0].intra_allow);
	assert_true(p->segments[0].audit);
	assert_int_equal(p->segments[0].n_macs, 1);
	assert_memory_equal(p->segments[0].macs[0].mac,
			    "\x02\xaa\x00\x00\x00\x01", 6);
	assert_pos(&p->segments[0].macs[0].pos, "t.json", 5, 24);
	assert_true(p->devices[0].has_ipv6);
	assert_false(p->devices[0].has_mac);
	inet_pton(AF_INET6, "fd00::5", a);
	assert_memory_equal(p->devices[0].ipv6, a, 16);
	assert_int_equal(p->services[0].entries[0].proto, 0);
	assert_int_equal(p->services[1].entries[0].n_ports, 0);
	r = &p->rules[0];
	assert_int_equal(r->n_from, 2);
	assert_int_equal(r->from[0].kind, CFG_REF_ANY);
	assert_int_equal(r->from[1].kind, CFG_REF_GATEWAY);
	assert_pos(&r->from[1].pos, "t.json", 7, 40);
	assert_int_equal(r->n_to, 3);
	assert_int_equal(r->to[0].kind, CFG_REF_WORLD);
	assert_int_equal(r->to[1].kind, CFG_REF_DEVICE);
	assert_int_equal(r->to[2].kind, CFG_REF_SEGMENT);
	cfg_policy_free(p);
}

/* ---------------------------------------------------------------- */
/* Positions                                                          */
/* ---------------------------------------------------------------- */

static void test_jpos_map(void **state)
{
	static const char text[] =
		"{\"a\": [true, false, null, {\"b\": \"\xc3\xa9\"}],\n"
		"\t\"c\": {\"d\": 1.5e3}, \"\xc3\xa9\": \"x\"}";
	const struct jpos_entry *e;
	struct jpos_map *m;
	json_error_t je;
	json_t *root, *arr, *obj;

	(void)state;
	root = json_loadb(text, strlen(text), JSON_REJECT_DUPLICATES, &je);
	assert_non_null(root);
	m = jpos_map_new(text, strlen(text), root);
	assert_non_null(m);
	assert_int_equal(jpos_root(m)->line, 1);
	assert_int_equal(jpos_root(m)->column, 1);
	assert_int_equal(jpos_root(m)->len, strlen(text));

	arr = json_object_get(root, "a");
	e = jpos_member(m, root, "a");
	assert_non_null(e);
	assert_int_equal(e->key_pos.line, 1);
	assert_int_equal(e->key_pos.column, 2);
	assert_int_equal(e->value_pos.column, 7);
	/* true, false and null are singletons: keyed by parent and index */
	e = jpos_element(m, arr, 0);
	assert_int_equal(e->value_pos.column, 8);
	assert_int_equal(e->value_pos.len, 4);
	e = jpos_element(m, arr, 1);
	assert_int_equal(e->value_pos.column, 14);
	assert_int_equal(e->value_pos.len, 5);
	e = jpos_element(m, arr, 2);
	assert_int_equal(e->value_pos.column, 21);
	obj = json_array_get(arr, 3);
	assert_int_equal(jpos_element(m, arr, 3)->value_pos.column, 27);
	e = jpos_member(m, obj, "b");
	assert_int_equal(e->key_pos.column, 28);
	assert_int_equal(e->value_pos.column, 33);
	assert_int_equal(e->value_pos.len, 4);	/* "é": quotes + 2 bytes */
	assert_null(jpos_element(m, arr, 4));
	assert_null(jpos_member(m, root, "b"));

	/* line 2: a tab counts as one column, é as one character */
	e = jpos_member(m, root, "c");
	assert_int_equal(e->key_pos.line, 2);
	assert_int_equal(e->key_pos.column, 2);
	assert_int_equal(e->value_pos.column, 7);
	e = jpos_member(m, json_object_get(root, "c"), "d");
	assert_int_equal(e->value_pos.column, 13);
	assert_int_equal(e->value_pos.len, 5);
	assert_memory_equal(text + e->value_pos.offset, "1.5e3", 5);
	e = jpos_member(m, root, "\xc3\xa9");
	assert_non_null(e);
	assert_int_equal(e->key_pos.column, 21);
	assert_int_equal(e->value_pos.column, 26);

	jpos_map_free(m);
	json_decref(root);
}

static void test_jpos_escaped_keys(void **state)
{
	static const char text[] =
		"{\"a\\u00e9\\n\": 1, \"\\ud83d\\ude00\": [[], {}], \"q\\\"\": 2}";
	struct jpos_map *m;
	json_error_t je;
	json_t *root;

	(void)state;
	root = json_loads(text, 0, &je);
	assert_non_null(root);
	m = jpos_map_new(text, strlen(text), root);
	assert_non_null(m);
	assert_non_null(jpos_member(m, root, "a\xc3\xa9\n"));
	assert_int_equal(jpos_member(m, root, "\xf0\x9f\x98\x80")->key_pos.column,
			 18);
	assert_non_null(jpos_member(m, root, "q\""));
	jpos_map_free(m);
	/* a text that is not the tree's is refused, not half-mapped */
	m = jpos_map_new("[1, 2", 5, root);
	assert_null(m);
	assert_int_equal(errno, EINVAL);
	json_decref(root);
}

struct dups {
	int n;
	char keys[4][8];
	struct jpos at[4], first[4];
};

static void on_dup(void *ctx, const char *key, const struct jpos *dup,
		   const struct jpos *first)
{
	struct dups *d = ctx;

	if (d->n < 4) {
		snprintf(d->keys[d->n], sizeof(d->keys[0]), "%s", key);
		d->at[d->n] = *dup;
		d->first[d->n] = *first;
	}
	d->n++;
}

static void test_jpos_duplicates(void **state)
{
	static const char text[] = "{\"a\": 1, \"b\": {\"x\": 1, \"x\": 2}, \"a\": 3}";
	struct dups d;

	(void)state;
	memset(&d, 0, sizeof(d));
	assert_int_equal(jpos_find_duplicates(text, strlen(text), on_dup, &d), 2);
	assert_int_equal(d.n, 2);
	assert_string_equal(d.keys[0], "x");
	assert_int_equal(d.at[0].column, 24);
	assert_int_equal(d.first[0].column, 16);
	assert_string_equal(d.keys[1], "a");
	assert_int_equal(d.at[1].column, 33);
	assert_int_equal(d.first[1].column, 2);
	assert_int_equal(jpos_find_duplicates("{\"a\": [1, {\"a\": 2}]}", 20, NULL,
					      NULL), 0);
}

/* ---------------------------------------------------------------- */
/* Sources                                                            */
/* ---------------------------------------------------------------- */

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_src_read_dir(void **state)
{
	char dir[] = "/tmp/segd-test-src-XXXXXX", path[512], err[512];
	const char *names[] = { "a.json", "b.json", "link.json" };
	const char *texts[] = { "{\"version\": 1}\n", "{}", "{\"version\": 1}\n" };
	struct src_docs *d, *m;
	size_t i;

	(void)state;
	assert_non_null(mkdtemp(dir));
	write_file(dir, "b.json", "{}");
	write_file(dir, "a.json", "{\"version\": 1}\n");
	write_file(dir, ".#a.json", "lock");
	write_file(dir, ".hidden.json", "{}");
	write_file(dir, "notes.txt", "x");
	write_file(dir, "upper.JSON", "{}");
	write_file(dir, ".json", "{}");
	snprintf(path, sizeof(path), "%s/link.json", dir);
	assert_int_equal(symlink("a.json", path), 0);

	d = src_read_dir(dir, err, sizeof(err));
	assert_non_null(d);
	assert_int_equal(d->n, 3);
	for (i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		assert_string_equal(d->v[i].name, path);
		assert_string_equal(d->v[i].text, texts[i]);
		assert_int_equal(d->v[i].len, strlen(texts[i]));
	}
	/* the digest hashes base names: same files, same digest */
	m = src_from_strings(names, texts, 3);
	assert_non_null(m);
	assert_string_equal(d->digest, m->digest);
	src_docs_free(m);
	src_docs_free(d);

	/* a trailing slash does not double */
	snprintf(path, sizeof(path), "%s/", dir);
	d = src_read_dir(path, err, sizeof(err));
	assert_non_null(d);
	snprintf(path, sizeof(path), "%s/a.json", dir);
	assert_string_equal(d->v[0].name, path);
	src_docs_free(d);

	/* a *.json entry that cannot be read as a file is an error, never
	 * skipped: a policy file that silently vanished could reopen a path */
	snprintf(path, sizeof(path), "%s/dangling.json", dir);
	assert_int_equal(symlink("nowhere.json", path), 0);
	errno = 0;
	assert_null(src_read_dir(dir, err, sizeof(err)));
	assert_int_equal(errno, ENOENT);
	assert_non_null(strstr(err, "dangling.json"));
	unlink(path);
	snprintf(path, sizeof(path), "%s/sub.json", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	errno = 0;
	assert_null(src_read_dir(dir, err, sizeof(err)));
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(err, "sub.json: not a regular file"));
	snprintf(path, sizeof(path), "%s/a.json", dir);

	/* one file */
	d = src_read_dir(path, err, sizeof(err));
	assert_non_null(d);
	assert_int_equal(d->n, 1);
	assert_string_equal(d->v[0].name, path);
	src_docs_free(d);

	/* missing */
	snprintf(path, sizeof(path), "%s/missing", dir);
	errno = 0;
	assert_null(src_read_dir(path, err, sizeof(err)));
	assert_int_equal(errno, ENOENT);
	assert_non_null(strstr(err, "missing"));

	/* no policy files */
	snprintf(path, sizeof(path), "%s/sub.json", dir);
	errno = 0;
	assert_null(src_read_dir(path, err, sizeof(err)));
	assert_int_equal(errno, ENODATA);
	assert_non_null(strstr(err, "no *.json file"));

	assert_null(src_read_dir("", err, sizeof(err)));
	assert_int_equal(errno, EINVAL);

	/* clean up */
	{
		const char *all[] = { "b.json", "a.json", ".#a.json",
				      ".hidden.json", "notes.txt", "upper.JSON",
				      ".json", "link.json", "dangling.json" };

		for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
			snprintf(path, sizeof(path), "%s/%s", dir, all[i]);
			unlink(path);
		}
		snprintf(path, sizeof(path), "%s/sub.json", dir);
		rmdir(path);
		rmdir(dir);
	}
}

static void test_src_digest(void **state)
{
	const char *names[] = { "a.json", "b.json" };
	const char *texts[] = { "{\"version\": 1}\n", "{}" };
	const char *texts2[] = { "{\"version\": 1}\n", "{ }" };
	const char *names2[] = { "dir/a.json", "/etc/segd/b.json" };
	const char *swapped_n[] = { "b.json", "a.json" };
	const char *swapped_t[] = { "{}", "{\"version\": 1}\n" };
	struct src_docs *d;

	(void)state;
	/* sha256("a.json\0" "15\0" "{\"version\": 1}\n" "b.json\0" "2\0" "{}") */
	d = src_from_strings(names, texts, 2);
	assert_non_null(d);
	assert_string_equal(d->digest,
			    "0b8b3359689486c73f3a35fdced71439dbf658f624411fe6f78c354734b4421a");
	src_docs_free(d);
	d = src_from_strings(names2, texts, 2);
	assert_string_equal(d->digest,
			    "0b8b3359689486c73f3a35fdced71439dbf658f624411fe6f78c354734b4421a");
	assert_string_equal(d->v[1].name, "/etc/segd/b.json");
	src_docs_free(d);
	d = src_from_strings(names, texts2, 2);
	assert_string_not_equal(d->digest,
				"0b8b3359689486c73f3a35fdced71439dbf658f624411fe6f78c354734b4421a");
	src_docs_free(d);
	d = src_from_strings(swapped_n, swapped_t, 2);
	assert_string_not_equal(d->digest,
				"0b8b3359689486c73f3a35fdced71439dbf658f624411fe6f78c354734b4421a");
	src_docs_free(d);
	d = src_from_strings(NULL, NULL, 0);
	assert_non_null(d);
	assert_int_equal(d->n, 0);
	assert_string_equal(d->digest,
			    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	src_docs_free(d);
	errno = 0;
	assert_null(src_from_strings(NULL, texts, 1));
	assert_int_equal(errno, EINVAL);
	src_docs_free(NULL);
}

/* ---------------------------------------------------------------- */
/* Diagnostics                                                        */
/* ---------------------------------------------------------------- */

static void test_diag_format_and_args(void **state)
{
	struct cfg_policy *p = (struct cfg_policy *)1;
	struct cfg_diag d;
	char line[600];

	(void)state;
	assert_int_equal(cfg_parse(NULL, &p, &d), -EINVAL);
	assert_null(p);
	assert_int_equal(cfg_parse(src_from_strings(NULL, NULL, 0), &p, &d),
			 -EINVAL);
	assert_int_equal(d.n, 1);
	cfg_diag_format(&d, 0, line, sizeof(line));
	assert_string_equal(line, "error: no policy documents");

	memset(&d, 0, sizeof(d));
	d.n = 3;
	d.v[0].severity = CFG_ERROR;
	strcpy(d.v[0].file, "a.json");
	d.v[0].line = 3;
	d.v[0].column = 7;
	strcpy(d.v[0].msg, "bad");
	d.v[1].severity = CFG_WARNING;
	strcpy(d.v[1].file, "b.json");
	strcpy(d.v[1].msg, "whole file");
	d.v[2].severity = CFG_WARNING;
	strcpy(d.v[2].file, "c.json");
	d.v[2].line = 1;
	d.v[2].column = 1;
	strcpy(d.v[2].msg, "hm");
	cfg_diag_format(&d, 0, line, sizeof(line));
	assert_string_equal(line, "a.json:3:7: error: bad");
	cfg_diag_format(&d, 1, line, sizeof(line));
	assert_string_equal(line, "b.json: warning: whole file");
	cfg_diag_format(&d, 2, line, sizeof(line));
	assert_string_equal(line, "c.json:1:1: warning: hm");
	cfg_diag_format(&d, 3, line, sizeof(line));
	assert_string_equal(line, "");
	cfg_diag_format(&d, 0, line, 8);
	assert_string_equal(line, "a.json:");
}

/* More errors than CFG_MAX_DIAGS: the first ones are kept, all counted. */
static void test_diag_cap(void **state)
{
	struct cfg_policy *p = NULL;
	struct cfg_diag d;
	char *text, line[600];
	size_t o = 0, i;

	(void)state;
	text = malloc(8192);
	assert_non_null(text);
	o += (size_t)sprintf(text + o,
			     "{\"version\": 1, \"services\": {\"x\": [{\"proto\": \"tcp\", \"ports\": [\n");
	for (i = 0; i < 100; i++)
		o += (size_t)sprintf(text + o, "%s%zu\n", i ? "," : "",
				     70000 + i);
	sprintf(text + o, "]}]}}\n");
	assert_int_equal(parse_one(text, &p, &d), -EINVAL);
	assert_int_equal(d.n, CFG_MAX_DIAGS);
	assert_int_equal(d.n_errors, 100);
	cfg_diag_format(&d, 0, line, sizeof(line));
	assert_string_equal(line, "t.json:2:1: error: ports: 70000 is not a port (1-65535)");
	cfg_diag_format(&d, CFG_MAX_DIAGS - 1, line, sizeof(line));
	assert_string_equal(line, "t.json:65:2: error: ports: 70063 is not a port (1-65535)");
	free(text);
}

/* Full of warnings, an error still gets a place: it refuses the policy. */
static void test_diag_cap_error_over_warnings(void **state)
{
	struct cfg_policy *p = NULL;
	struct cfg_diag d;
	char *text;
	size_t o = 0, i, n_err = 0;

	(void)state;
	text = malloc(8192);
	assert_non_null(text);
	o += (size_t)sprintf(text + o,
			     "{\"version\": 1, \"segments\": {\"s\": {\"members\": {\"ipv4\": [\n");
	for (i = 0; i < 100; i++)
		o += (size_t)sprintf(text + o, "%s\"10.0.0.1\"\n", i ? "," : "");
	sprintf(text + o, "]}}}, \"rules\": [{\"name\": \"r\", \"from\": [\"s\"], \"to\": [\"nowhere\"], \"services\": [\"x\"]}]}\n");
	assert_int_equal(parse_one(text, &p, &d), -EINVAL);
	assert_true(d.n_warnings > CFG_MAX_DIAGS);
	assert_true(d.n_errors >= 1);
	assert_int_equal(d.n, CFG_MAX_DIAGS);
	for (i = 0; i < d.n; i++)
		n_err += d.v[i].severity == CFG_ERROR;
	assert_int_equal(n_err, d.n_errors < CFG_MAX_DIAGS ? d.n_errors : CFG_MAX_DIAGS);
	free(text);
}

/* Long and odd values are quoted safely and shortened. */
static void test_diag_quoting(void **state)
{
	struct cfg_policy *p = NULL;
	struct cfg_diag d;
	char line[600], want[600];
	char text[512];

	(void)state;
	snprintf(text, sizeof(text),
		 "{\"version\": 1, \"segments\": {\"s\": {\"mode\": \"%s\"}}, \"rules\": [{\"name\": \"tab\\there\"}]}",
		 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
	assert_int_equal(parse_one(text, &p, &d), -EINVAL);
	cfg_diag_format(&d, 0, line, sizeof(line));
	/* 89 characters of the value, then "..." */
	snprintf(want, sizeof(want),
		 "t.json:1:43: error: mode: \"%.89s...\" is not valid (expected \"enforce\" or \"audit\")",
		 text + 43);
	assert_string_equal(line, want);
	cfg_diag_format(&d, 1, line, sizeof(line));
	assert_string_equal(line,
			    "t.json:1:159: error: rule \"tab\\u0009here\": \"from\", \"to\" and \"services\" are missing");
	cfg_diag_format(&d, 2, line, sizeof(line));
	assert_string_equal(line,
			    "t.json:1:168: error: rule name \"tab\\u0009here\" is not valid (use a-z, 0-9, '_', '.' and '-', starting with a letter or digit)");
}

/* ---------------------------------------------------------------- */
/* Allocation failures                                                */
/* ---------------------------------------------------------------- */

static const char sweep_bad[] =
	"{\"version\": 1, \"services\": {\"a\": [{\"proto\": \"tcp\", \"ports\": [0, 443, 443]}]},\n"
	" \"segments\": {\"s\": {\"members\": {\"cidr\": [\"10.0.0.1/8\"], \"ipv4\": [\"10.1.1.1\"],\n"
	"   \"devices\": [{\"name\": \"d\", \"ipv4\": \"10.1.1.1\", \"mac\": \"02:00:00:00:00:01\"}]}},\n"
	"   \"t\": {\"members\": {\"mac\": [\"02:00:00:00:00:01\"]}, \"mode\": \"x\"}},\n"
	" \"rules\": [{\"name\": \"r\", \"from\": [\"s\", \"nope\"], \"to\": [\"*\"], \"services\": [\"a\", \"b\"]},\n"
	"           {\"name\": \"r\", \"from\": [\"d\"], \"to\": [\"t\"], \"services\": [\"a\"], \"x\": 1}]}\n";
static const char sweep_dup[] = "{\"version\": 1, \"rules\": [], \"rules\": []}";

/*
 * Fail every allocation of cfg_parse and comp_build in turn (and back:
 * comp_free, cfg_policy_free). Each run must end in success or -ENOMEM,
 * never in a made-up diagnostic, and leave nothing allocated.
 */
static void sweep(const char *text, long min_allocs)
{
	const char *names[] = { "x.json" };
	long k;

	for (k = 1;; k++) {
		struct cfg_policy *p = NULL;
		struct comp_policy *cp = NULL;
		struct cfg_diag *d = calloc(1, sizeof(*d));
		struct comp_gw_addr gw = { .family = AF_INET };
		struct src_docs *docs;
		char err[256];
		bool done;
		int ret;

		assert_non_null(d);
		inet_pton(AF_INET, "10.20.0.1", gw.addr);
		docs = src_from_strings(names, &text, 1);
		assert_non_null(docs);
		fm_start(k);
		ret = cfg_parse(docs, &p, d);
		if (!ret) {
			ret = comp_build(p, &gw, 1, NULL, 0, &cp, err,
					 sizeof(err));
			comp_free(cp);
			cfg_policy_free(p);
		}
		done = fm.count < k;
		fm_stop();
		if (fm.overflow)
			fail_msg("allocation tracker overflow");
		if (fm.live)
			fail_msg("allocation %ld failing: %ld blocks leaked", k,
				 fm.live);
		if (done) {
			/* nothing failed: the real result */
			if (ret != 0 && ret != -EINVAL)
				fail_msg("unexpected result %d", ret);
			free(d);
			break;
		}
		if (ret != -ENOMEM) {
			char line[600];

			cfg_diag_format(d, 0, line, sizeof(line));
			fail_msg("allocation %ld failing: got %d, not -ENOMEM (%s)",
				 k, ret, line);
		}
		free(d);
	}
	assert_true(k > min_allocs);
}

/*
 * The same for src_from_strings, without the leak count: OpenSSL keeps
 * caches of its own, which an injected failure may make it rebuild.
 */
static void sweep_source(void)
{
	const char *names[] = { "a.json", "b.json" };
	const char *texts[] = { "{}", "[]" };
	struct src_docs *ref;
	long k;

	ref = src_from_strings(names, texts, 2);
	assert_non_null(ref);
	for (k = 1;; k++) {
		struct src_docs *docs;
		bool done;
		int e;

		fm_start(k);
		docs = src_from_strings(names, texts, 2);
		e = errno;
		done = fm.count < k;
		fm_stop();
		if (docs) {
			/* done, or OpenSSL got over the failure by itself */
			assert_int_equal(docs->n, 2);
			assert_string_equal(docs->digest, ref->digest);
			src_docs_free(docs);
		} else {
			assert_false(done);
			assert_int_equal(e, ENOMEM);
		}
		if (done)
			break;
	}
	src_docs_free(ref);
	assert_true(k > 4);
}

static void test_alloc_sweep_hospital(void **state)
{
	char *text;

	(void)state;
	if (!fm_works())
		skip();
	text = read_text(HOSPITAL);
	assert_non_null(text);
	sweep(text, 300);
	free(text);
}

static void test_alloc_sweep_errors(void **state)
{
	(void)state;
	if (!fm_works())
		skip();
	sweep(sweep_bad, 100);
	sweep(sweep_dup, 10);
	sweep_source();
}

int main(void)
{
	static const struct CMUnitTest unit[] = {
		cmocka_unit_test(test_hospital_model),
		cmocka_unit_test(test_model_references_and_flags),
		cmocka_unit_test(test_jpos_map),
		cmocka_unit_test(test_jpos_escaped_keys),
		cmocka_unit_test(test_jpos_duplicates),
		cmocka_unit_test(test_src_read_dir),
		cmocka_unit_test(test_src_digest),
		cmocka_unit_test(test_diag_format_and_args),
		cmocka_unit_test(test_diag_cap),
		cmocka_unit_test(test_diag_cap_error_over_warnings),
		cmocka_unit_test(test_diag_quoting),
		cmocka_unit_test(test_alloc_sweep_hospital),
		cmocka_unit_test(test_alloc_sweep_errors),
	};
	struct CMUnitTest *tests = NULL;
	size_t n = sizeof(unit) / sizeof(unit[0]);

	tests = malloc(n * sizeof(*tests));
	if (!tests)
		return 1;
	memcpy(tests, unit, sizeof(unit));
	n = add_data_cases(&tests, n, "valid");
	n = add_data_cases(&tests, n, "invalid");
	return _cmocka_run_group_tests("config", tests, n, NULL, NULL);
}
