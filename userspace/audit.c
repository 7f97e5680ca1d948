// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* audit.c - see audit.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "errbuf.h"

void audit_timestamp(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;
	char s[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03ldZ", s, ts.tv_nsec / 1000000);
}

int audit_append(const char *path, const json_t *rec, char *err,
		 size_t errlen)
{
	char *line;
	size_t len, off = 0;
	int fd, ret = 0;

	line = json_dumps(rec, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (!line) {
		err_set(err, errlen, "out of memory");
		return -ENOMEM;
	}
	len = strlen(line);
	line[len] = '\n';	/* in place of the NUL: written by length */
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		ret = -errno;
		goto out;
	}
	while (off < len + 1) {
		ssize_t w = write(fd, line + off, len + 1 - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			ret = -errno;
			goto out;
		}
		off += (size_t)w;
	}
	if (fsync(fd))
		ret = -errno;
out:
	if (fd >= 0)
		close(fd);
	if (ret)
		err_set(err, errlen, "appending to the audit log \"%s\": %s",
			path, strerror(-ret));
	free(line);
	return ret;
}

/* "2026-12-03T18:53:33.123Z" -> Unix seconds; -1 if not that form. */
static int64_t ts_seconds(const char *s)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	end = s ? strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
	if (!end)
		return -1;
	return (int64_t)timegm(&tm);
}

json_t *audit_read(const char *path, int64_t since, char *err, size_t errlen)
{
	json_t *arr = json_array();
	char *line = NULL;
	size_t cap = 0;
	long lineno = 0;
	FILE *f;

	if (!arr) {
		err_set(err, errlen, "out of memory");
		return NULL;
	}
	f = fopen(path, "re");
	if (!f) {
		if (errno == ENOENT)
			return arr;
		err_set(err, errlen, "reading the audit log \"%s\": %s", path,
			strerror(errno));
		json_decref(arr);
		return NULL;
	}
	while (getline(&line, &cap, f) >= 0) {
		json_t *rec;

		lineno++;
		rec = json_loads(line, 0, NULL);
		if (!json_is_object(rec)) {
			json_decref(rec);
			rec = json_pack("{s:I}", "unreadable", (json_int_t)lineno);
		} else if (since > 0 &&
			   ts_seconds(json_string_value(json_object_get(rec, "@timestamp"))) < since) {
			json_decref(rec);
			continue;
		}
		json_array_append_new(arr, rec);
	}
	free(line);
	fclose(f);
	return arr;
}
