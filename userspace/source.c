// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * source.c - policy documents from a directory (or one file, or memory).
 *
 * Which files count: regular files (or symlinks to them) whose name ends in
 * ".json" and does not start with '.', so that editor droppings such as
 * emacs' ".#hospital.json" lock links are never read as policy.
 * Subdirectories are not entered.
 *
 * The digest identifies the policy a set of documents makes: SHA-256 over,
 * for each document in order, its base name, a NUL, its length in decimal,
 * a NUL and its contents. The base name (not the path as typed) is hashed
 * so that "segments/" and "/etc/segd/segments" give the same digest for the
 * same files.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "errbuf.h"
#include "source.h"

/* A policy file larger than this is a mistake (or an attack), not policy. */
#define SRC_MAX_FILE (16u << 20)

void src_docs_free(struct src_docs *d)
{
	size_t i;

	if (!d)
		return;
	for (i = 0; i < d->n; i++) {
		free(d->v[i].name);
		free(d->v[i].text);
	}
	free(d->v);
	free(d);
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

static int digest_docs(struct src_docs *d)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0, i;
	EVP_MD_CTX *ctx;
	char num[32];
	size_t k;
	/* SHA-256 over memory fails only when OpenSSL cannot allocate */
	int err = -ENOMEM;

	ctx = EVP_MD_CTX_new();
	if (!ctx)
		return -ENOMEM;
	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		goto out;
	for (k = 0; k < d->n; k++) {
		const char *b = base_name(d->v[k].name);
		int n = snprintf(num, sizeof(num), "%zu", d->v[k].len);

		if (EVP_DigestUpdate(ctx, b, strlen(b) + 1) != 1 ||
		    EVP_DigestUpdate(ctx, num, (size_t)n + 1) != 1 ||
		    EVP_DigestUpdate(ctx, d->v[k].text, d->v[k].len) != 1)
			goto out;
	}
	if (EVP_DigestFinal_ex(ctx, md, &md_len) != 1 || md_len != 32)
		goto out;
	for (i = 0; i < md_len; i++) {
		d->digest[2 * i] = hex[md[i] >> 4];
		d->digest[2 * i + 1] = hex[md[i] & 0xf];
	}
	d->digest[64] = '\0';
	err = 0;
out:
	EVP_MD_CTX_free(ctx);
	return err;
}

struct src_docs *src_from_strings(const char *const *names,
				  const char *const *texts, size_t n)
{
	struct src_docs *d;
	size_t i;
	int err;

	if (n && (!names || !texts)) {
		errno = EINVAL;
		return NULL;
	}
	d = calloc(1, sizeof(*d));
	if (!d)
		goto nomem;
	if (n) {
		d->v = calloc(n, sizeof(*d->v));
		if (!d->v)
			goto nomem;
	}
	for (i = 0; i < n; i++) {
		if (!names[i] || !texts[i]) {
			src_docs_free(d);
			errno = EINVAL;
			return NULL;
		}
		d->v[i].name = strdup(names[i]);
		d->v[i].text = strdup(texts[i]);
		d->n = i + 1;
		if (!d->v[i].name || !d->v[i].text)
			goto nomem;
		d->v[i].len = strlen(texts[i]);
	}
	err = digest_docs(d);
	if (err) {
		src_docs_free(d);
		errno = -err;
		return NULL;
	}
	return d;
nomem:
	src_docs_free(d);
	errno = ENOMEM;
	return NULL;
}

/* Read @path whole into a NUL-terminated buffer. */
static int read_file(const char *path, char **text, size_t *len, char *err,
		     size_t errlen)
{
	size_t n = 0, cap = 0;
	char *buf = NULL, *nb;
	struct stat st;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		err_set(err, errlen, "%s: %s", path, strerror(-ret));
		return ret;
	}
	if (fstat(fd, &st)) {
		ret = -errno;
		err_set(err, errlen, "%s: %s", path, strerror(-ret));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = -EINVAL;
		err_set(err, errlen, "%s: not a regular file", path);
		goto fail;
	}
	for (;;) {
		ssize_t r;

		if (cap - n < 2) {
			cap = cap ? 2 * cap : 4096;
			if (cap > SRC_MAX_FILE + 2)
				cap = SRC_MAX_FILE + 2;
			nb = realloc(buf, cap);
			if (!nb) {
				ret = -ENOMEM;
				err_set(err, errlen, "%s: out of memory", path);
				goto fail;
			}
			buf = nb;
		}
		r = read(fd, buf + n, cap - n - 1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			err_set(err, errlen, "%s: %s", path, strerror(-ret));
			goto fail;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > SRC_MAX_FILE) {
			ret = -EFBIG;
			err_set(err, errlen, "%s: larger than %u MiB", path,
				SRC_MAX_FILE >> 20);
			goto fail;
		}
	}
	close(fd);
	if (!buf) {
		buf = malloc(1);
		if (!buf) {
			err_set(err, errlen, "%s: out of memory", path);
			return -ENOMEM;
		}
	}
	buf[n] = '\0';
	*text = buf;
	*len = n;
	return 0;
fail:
	free(buf);
	close(fd);
	return ret;
}

static int is_policy_name(const char *name)
{
	size_t n = strlen(name);

	return name[0] != '.' && n > 5 && !strcmp(name + n - 5, ".json");
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *join_path(const char *dir, const char *name)
{
	size_t n = strlen(dir);
	char *p;

	while (n > 1 && dir[n - 1] == '/')
		n--;
	if (asprintf(&p, "%.*s/%s", (int)n, dir, name) < 0)
		return NULL;
	if (n == 1 && dir[0] == '/')
		memmove(p, p + 1, strlen(p));	/* "/" + name, not "//name" */
	return p;
}

/* Collect the sorted paths of the policy files in @dir. */
static int list_dir(const char *dir, char ***out, size_t *n_out, char *err,
		    size_t errlen)
{
	char **v = NULL, **nv, *path;
	size_t n = 0, cap = 0, i;
	struct dirent *de;
	struct stat st;
	DIR *dp;
	int ret;

	dp = opendir(dir);
	if (!dp) {
		ret = -errno;
		err_set(err, errlen, "%s: %s", dir, strerror(-ret));
		return ret;
	}
	for (;;) {
		errno = 0;
		de = readdir(dp);
		if (!de) {
			if (errno) {
				ret = -errno;
				err_set(err, errlen, "%s: %s", dir,
					strerror(-ret));
				goto fail;
			}
			break;
		}
		if (!is_policy_name(de->d_name))
			continue;
		path = join_path(dir, de->d_name);
		if (!path)
			goto nomem;
		/* Follows symlinks: a link to a regular file is read. Any
		 * other *.json entry (a dangling link, a directory, a FIFO,
		 * a device) is an error, never skipped: a policy file that
		 * silently vanished could reopen a path. */
		if (stat(path, &st)) {
			ret = -errno;
			err_set(err, errlen, "%s: %s", path, strerror(-ret));
			free(path);
			goto fail;
		}
		if (!S_ISREG(st.st_mode)) {
			ret = -EINVAL;
			err_set(err, errlen,
				"%s: not a regular file (every *.json entry of a policy directory must be one)",
				path);
			free(path);
			goto fail;
		}
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				free(path);
				goto nomem;
			}
			v = nv;
		}
		v[n++] = path;
	}
	closedir(dp);
	if (n)
		qsort(v, n, sizeof(*v), cmp_str);
	*out = v;
	*n_out = n;
	return 0;
nomem:
	ret = -ENOMEM;
	err_set(err, errlen, "%s: out of memory", dir);
fail:
	closedir(dp);
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
	return ret;
}

struct src_docs *src_read_dir(const char *dir, char *err, size_t errlen)
{
	struct src_docs *d = NULL;
	char **paths = NULL;
	size_t n = 0, i;
	struct stat st;
	int ret;

	if (!dir || !*dir) {
		err_set(err, errlen, "no policy directory given");
		errno = EINVAL;
		return NULL;
	}
	if (stat(dir, &st)) {
		ret = -errno;
		err_set(err, errlen, "%s: %s", dir, strerror(-ret));
		errno = -ret;
		return NULL;
	}
	if (S_ISREG(st.st_mode)) {
		paths = malloc(sizeof(*paths));
		if (!paths)
			goto nomem;
		paths[0] = strdup(dir);
		if (!paths[0])
			goto nomem;
		n = 1;
	} else if (S_ISDIR(st.st_mode)) {
		ret = list_dir(dir, &paths, &n, err, errlen);
		if (ret)
			goto fail;
		if (!n) {
			err_set(err, errlen, "%s: no *.json file", dir);
			ret = -ENODATA;
			goto fail;
		}
	} else {
		err_set(err, errlen, "%s: not a file or directory", dir);
		ret = -EINVAL;
		goto fail;
	}

	d = calloc(1, sizeof(*d));
	if (!d)
		goto nomem;
	d->v = calloc(n, sizeof(*d->v));
	if (!d->v)
		goto nomem;
	for (i = 0; i < n; i++) {
		ret = read_file(paths[i], &d->v[i].text, &d->v[i].len, err,
				errlen);
		if (ret)
			goto fail;
		d->v[i].name = paths[i];
		paths[i] = NULL;
		d->n = i + 1;
	}
	ret = digest_docs(d);
	if (ret) {
		err_set(err, errlen, "%s: cannot compute the digest", dir);
		goto fail;
	}
	free(paths);
	return d;
nomem:
	ret = -ENOMEM;
	err_set(err, errlen, "%s: out of memory", dir);
fail:
	if (paths) {
		for (i = 0; i < n; i++)
			free(paths[i]);
		free(paths);
	}
	src_docs_free(d);
	errno = -ret;
	return NULL;
}
