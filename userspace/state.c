// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* state.c - see state.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "../include/segd_abi.h"
#include "errbuf.h"
#include "state.h"

const char *state_kind_name(uint8_t kind)
{
	switch (kind) {
	case SEGD_ISO_IPV4:
		return "ipv4";
	case SEGD_ISO_IPV6:
		return "ipv6";
	case SEGD_ISO_MAC:
		return "mac";
	}
	return "?";
}

void state_addr_str(const struct state_entry *e, char *buf, size_t len)
{
	if (e->kind == SEGD_ISO_MAC) {
		snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", e->addr[0],
			 e->addr[1], e->addr[2], e->addr[3], e->addr[4],
			 e->addr[5]);
		return;
	}
	if (!inet_ntop(e->kind == SEGD_ISO_IPV4 ? AF_INET : AF_INET6, e->addr,
		       buf, (socklen_t)len))
		snprintf(buf, len, "?");
}

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

/* fsync the directory holding @path, so the rename is durable. */
static int fsync_dir(const char *path)
{
	char buf[PATH_MAX];
	int fd, ret = 0;

	snprintf(buf, sizeof(buf), "%s", path);
	fd = open(dirname(buf), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd))
		ret = -errno;
	close(fd);
	return ret;
}

int state_write_json(const char *path, const json_t *root, char *err,
		     size_t errlen)
{
	char tmp[PATH_MAX];
	char *text = NULL;
	size_t i, len;
	int fd = -1, ret;

	text = json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	if (!text) {
		ret = -ENOMEM;
		goto out;
	}
	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >=
	    (int)sizeof(tmp)) {
		ret = -ENAMETOOLONG;
		goto out;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		ret = -errno;
		goto out;
	}
	len = strlen(text);
	text[len] = '\n';	/* json_dumps' NUL; one more byte is ours */
	for (i = 0; i < len + 1;) {
		ssize_t w = write(fd, text + i, len + 1 - i);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			ret = -errno;
			goto out;
		}
		i += (size_t)w;
	}
	text[len] = '\0';
	if (fsync(fd)) {
		ret = -errno;
		goto out;
	}
	close(fd);
	fd = -1;
	if (rename(tmp, path)) {
		ret = -errno;
		goto out;
	}
	ret = fsync_dir(path);
out:
	if (fd >= 0) {
		close(fd);
		unlink(tmp);
	}
	if (ret)
		err_set(err, errlen, "writing \"%s\": %s", path, strerror(-ret));
	free(text);
	return ret;
}

int state_save(const char *path, const struct state_entry *v, size_t n,
	       char *err, size_t errlen)
{
	char addr[64];
	json_t *root, *arr;
	size_t i;
	int ret = -ENOMEM;

	root = json_object();
	arr = json_array();
	if (!root || !arr || json_object_set_new(root, "version", json_integer(1)) ||
	    json_object_set(root, "isolated", arr))
		goto out;
	for (i = 0; i < n; i++) {
		const struct state_entry *e = &v[i];

		state_addr_str(e, addr, sizeof(addr));
		if (json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:s, s:s}",
			"kind", state_kind_name(e->kind), "address", addr,
			"host", e->host, "since", (json_int_t)e->since,
			"until", (json_int_t)e->until, "uid", (json_int_t)e->uid,
			"reason", e->reason, "ticket", e->ticket)))
			goto out;
	}
	ret = state_write_json(path, root, err, errlen);
out:
	if (ret == -ENOMEM)
		err_set(err, errlen, "writing \"%s\": %s", path, strerror(-ret));
	json_decref(arr);
	json_decref(root);
	return ret;
}

static int get_str(json_t *o, const char *key, char *buf, size_t len,
		   bool empty_ok)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_string(v) || json_string_length(v) >= len ||
	    (!empty_ok && !json_string_length(v)) ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return -EINVAL;
	memcpy(buf, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

static int get_int(json_t *o, const char *key, int64_t min, int64_t *out)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_integer(v) || json_integer_value(v) < min)
		return -EINVAL;
	*out = json_integer_value(v);
	return 0;
}

/*
 * state_open_array - load @path, a {"version": 1, "<@key>": [...]}
 * document. 0 with *@root (the caller releases it) and *@arr set;
 * -ENOENT when there is no file; -EINVAL when it is corrupt, truncated or
 * of another shape (said in @err, naming what a start without it loses:
 * @what); another negative errno when it cannot be read.
 */
static int state_open_array(const char *path, const char *key,
			    const char *what, json_t **root, json_t **arr,
			    char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *r, *x, *a;

	*root = *arr = NULL;
	if (access(path, F_OK)) {
		int ret = -errno;

		if (ret != -ENOENT)
			err_set(err, errlen, "\"%s\": %s", path, strerror(errno));
		return ret;
	}
	r = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!r) {
		err_set(err, errlen,
			"\"%s\" is corrupt or truncated: %s (line %d, column %d); move it away to start with no %s, or restore it",
			path, jerr.text, jerr.line, jerr.column, what);
		return -EINVAL;
	}
	x = json_object_get(r, "version");
	a = json_object_get(r, key);
	if (!json_is_object(r) || json_object_size(r) != 2 ||
	    !json_is_integer(x) || json_integer_value(x) != 1 ||
	    !json_is_array(a)) {
		err_set(err, errlen,
			"\"%s\" is corrupt: expected {\"version\": 1, \"%s\": [...]}; fix it or move it away (segd never reads it as empty)",
			path, key);
		json_decref(r);
		return -EINVAL;
	}
	*root = r;
	*arr = a;
	return 0;
}

int state_load(const char *path, struct state_entry **v, size_t *n,
	       char *err, size_t errlen)
{
	static const char *const keys[] = { "kind", "address", "host", "since",
					    "until", "uid", "reason", "ticket" };
	struct state_entry *out = NULL;
	json_t *root = NULL, *arr, *o, *x;
	const char *key, *what = NULL;
	char addr[64], kind[8];
	size_t i, k;
	int ret = -EINVAL;

	*v = NULL;
	*n = 0;
	ret = state_open_array(path, "isolated", "isolation", &root, &arr,
			       err, errlen);
	if (ret)
		return ret;
	ret = -EINVAL;
	out = calloc(json_array_size(arr) + 1, sizeof(*out));
	if (!out) {
		ret = -ENOMEM;
		err_set(err, errlen, "out of memory");
		goto out;
	}
	json_array_foreach(arr, i, o) {
		struct state_entry *e = &out[i];
		int family;

		what = NULL;
		if (!json_is_object(o)) {
			what = "not an object";
			goto bad;
		}
		json_object_foreach(o, key, x) {
			for (k = 0; k < sizeof(keys) / sizeof(*keys); k++)
				if (!strcmp(key, keys[k]))
					break;
			if (k == sizeof(keys) / sizeof(*keys)) {
				what = "unknown key";
				goto bad;
			}
		}
		if (get_str(o, "kind", kind, sizeof(kind), false)) {
			what = "\"kind\" missing or not ipv4, ipv6, mac";
			goto bad;
		}
		if (get_str(o, "address", addr, sizeof(addr), false)) {
			what = "\"address\" missing or not a string";
			goto bad;
		}
		if (!strcmp(kind, "mac")) {
			e->kind = SEGD_ISO_MAC;
			if (parse_mac(addr, e->addr)) {
				what = "\"address\" is not a MAC";
				goto bad;
			}
		} else if (!strcmp(kind, "ipv4") || !strcmp(kind, "ipv6")) {
			family = kind[3] == '4' ? AF_INET : AF_INET6;
			e->kind = family == AF_INET ? SEGD_ISO_IPV4 :
						      SEGD_ISO_IPV6;
			if (inet_pton(family, addr, e->addr) != 1) {
				what = "\"address\" is not an address of its kind";
				goto bad;
			}
		} else {
			what = "\"kind\" is not ipv4, ipv6 or mac";
			goto bad;
		}
		if (get_str(o, "host", e->host, sizeof(e->host), false) ||
		    get_str(o, "reason", e->reason, sizeof(e->reason), false) ||
		    get_str(o, "ticket", e->ticket, sizeof(e->ticket), true)) {
			what = "\"host\", \"reason\" or \"ticket\" missing, too long or not a string";
			goto bad;
		}
		if (get_int(o, "since", 0, &e->since) ||
		    get_int(o, "until", 0, &e->until) ||
		    get_int(o, "uid", -1, &e->uid)) {
			what = "\"since\", \"until\" or \"uid\" missing or not a number";
			goto bad;
		}
		for (k = 0; k < i; k++) {
			if (out[k].kind == e->kind &&
			    !memcmp(out[k].addr, e->addr, sizeof(e->addr))) {
				what = "the same address twice";
				goto bad;
			}
		}
	}
	*v = out;
	*n = json_array_size(arr);
	out = NULL;
	ret = 0;
	goto out;
bad:
	err_set(err, errlen,
		"\"%s\" is corrupt: entry %zu: %s; fix it or move it away (segd never reads it as empty)",
		path, i, what);
out:
	free(out);
	json_decref(root);
	return ret;
}

/* ---------------------------------------------------------------- */
/* breakglass.json                                                    */
/* ---------------------------------------------------------------- */

int state_bg_save(const char *path, const struct state_bg *v, size_t n,
		  char *err, size_t errlen)
{
	json_t *root, *arr, *keys;
	size_t i, k;
	int ret = -ENOMEM;

	root = json_object();
	arr = json_array();
	if (!root || !arr || json_object_set_new(root, "version", json_integer(1)) ||
	    json_object_set(root, "breakglass", arr))
		goto out;
	for (i = 0; i < n; i++) {
		const struct state_bg *e = &v[i];

		keys = json_array();
		for (k = 0; keys && k < e->n_keys; k++)
			if (json_array_append_new(keys, json_pack("[i, i]",
					(int)e->proto[k], (int)e->port[k])))
				break;
		if (!keys || k < e->n_keys ||
		    json_array_append_new(arr, json_pack("{s:I, s:s, s:s, s:s, s:I, s:I, s:o, s:I, s:I, s:I, s:s, s:s}",
			"id", (json_int_t)e->id, "from", e->from, "to", e->to,
			"service", e->service, "src_id", (json_int_t)e->src_id,
			"dst_id", (json_int_t)e->dst_id, "keys", keys,
			"since", (json_int_t)e->since,
			"until", (json_int_t)e->until, "uid", (json_int_t)e->uid,
			"reason", e->reason, "ticket", e->ticket)))
			goto out;
	}
	ret = state_write_json(path, root, err, errlen);
out:
	if (ret == -ENOMEM)
		err_set(err, errlen, "writing \"%s\": %s", path, strerror(-ret));
	json_decref(arr);
	json_decref(root);
	return ret;
}

int state_bg_load(const char *path, struct state_bg **v, size_t *n,
		  char *err, size_t errlen)
{
	static const char *const keys[] = { "id", "from", "to", "service",
					    "src_id", "dst_id", "keys", "since",
					    "until", "uid", "reason", "ticket" };
	struct state_bg *out = NULL;
	json_t *root = NULL, *arr, *o, *x, *kv;
	const char *key, *what = NULL;
	int64_t id, sid, did;
	size_t i = 0, k;
	int ret = -EINVAL;

	*v = NULL;
	*n = 0;
	ret = state_open_array(path, "breakglass", "break-glass", &root, &arr,
			       err, errlen);
	if (ret)
		return ret;
	ret = -EINVAL;
	out = calloc(json_array_size(arr) + 1, sizeof(*out));
	if (!out) {
		ret = -ENOMEM;
		err_set(err, errlen, "out of memory");
		goto out;
	}
	json_array_foreach(arr, i, o) {
		struct state_bg *e = &out[i];

		if (!json_is_object(o)) {
			what = "not an object";
			goto bad;
		}
		json_object_foreach(o, key, x) {
			for (k = 0; k < sizeof(keys) / sizeof(*keys); k++)
				if (!strcmp(key, keys[k]))
					break;
			if (k == sizeof(keys) / sizeof(*keys)) {
				what = "unknown key";
				goto bad;
			}
		}
		if (get_str(o, "from", e->from, sizeof(e->from), false) ||
		    get_str(o, "to", e->to, sizeof(e->to), false) ||
		    get_str(o, "service", e->service, sizeof(e->service), false) ||
		    get_str(o, "reason", e->reason, sizeof(e->reason), false) ||
		    get_str(o, "ticket", e->ticket, sizeof(e->ticket), true)) {
			what = "a string field is missing, too long or not a string";
			goto bad;
		}
		if (get_int(o, "id", 1, &id) || id > UINT32_MAX ||
		    get_int(o, "src_id", SEGD_ID_FIRST, &sid) || sid > UINT32_MAX ||
		    get_int(o, "dst_id", SEGD_ID_FIRST, &did) || did > UINT32_MAX ||
		    get_int(o, "since", 0, &e->since) ||
		    get_int(o, "until", 1, &e->until) ||
		    get_int(o, "uid", -1, &e->uid)) {
			what = "a number field is missing or out of range";
			goto bad;
		}
		e->id = (uint32_t)id;
		e->src_id = (uint32_t)sid;
		e->dst_id = (uint32_t)did;
		x = json_object_get(o, "keys");
		if (!json_is_array(x) || !json_array_size(x) ||
		    json_array_size(x) > STATE_BG_MAX_KEYS) {
			what = "\"keys\" is not a list of 1 to 16 [proto, port]";
			goto bad;
		}
		json_array_foreach(x, k, kv) {
			json_t *pr = json_array_get(kv, 0), *po = json_array_get(kv, 1);

			if (!json_is_array(kv) || json_array_size(kv) != 2 ||
			    !json_is_integer(pr) || !json_is_integer(po) ||
			    json_integer_value(pr) < 0 || json_integer_value(pr) > 255 ||
			    json_integer_value(po) < 0 || json_integer_value(po) > 65535) {
				what = "\"keys\" holds something that is not [proto, port]";
				goto bad;
			}
			e->proto[k] = (uint8_t)json_integer_value(pr);
			e->port[k] = (uint16_t)json_integer_value(po);
		}
		e->n_keys = json_array_size(x);
		for (k = 0; k < i; k++) {
			if (out[k].id == e->id) {
				what = "the same id twice";
				goto bad;
			}
		}
	}
	*v = out;
	*n = json_array_size(arr);
	out = NULL;
	ret = 0;
	goto out;
bad:
	err_set(err, errlen,
		"\"%s\" is corrupt: entry %zu: %s; fix it or move it away (segd never reads it as empty)",
		path, i, what);
out:
	free(out);
	json_decref(root);
	return ret;
}
