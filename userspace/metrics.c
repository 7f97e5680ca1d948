// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * metrics.c - Prometheus text exposition, atomic file, listen address
 * (metrics.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "metrics.h"

const char *met_escape_label(const char *in, char *buf, size_t len)
{
	size_t o = 0;

	if (!len)
		return buf;
	for (; *in && o + 1 < len; in++) {
		const char *rep = NULL;

		if (*in == '\\')
			rep = "\\\\";
		else if (*in == '"')
			rep = "\\\"";
		else if (*in == '\n')
			rep = "\\n";
		if (rep) {
			if (o + 2 >= len)
				break;
			buf[o++] = rep[0];
			buf[o++] = rep[1];
		} else {
			buf[o++] = *in;
		}
	}
	buf[o] = '\0';
	return buf;
}

static void met_family(FILE *f, const char *name, const char *type,
		       const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One family over every counter: packets or bytes. */
static void met_pairs(FILE *f, const struct met_snapshot *s, bool bytes)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		const struct tel_counter *c = &s->counters[i];
		char a[SEGD_NAME_LEN + 16], b[SEGD_NAME_LEN + 16];
		char ea[2 * sizeof(a)], eb[2 * sizeof(b)];

		tel_label(s->names, c->src_seg, a, sizeof(a));
		tel_label(s->names, c->dst_seg, b, sizeof(b));
		fprintf(f,
			"%s{src_segment=\"%s\",dst_segment=\"%s\",verdict=\"%s\",reason=\"%s\"} %llu\n",
			bytes ? "segd_bytes_total" : "segd_packets_total",
			met_escape_label(a, ea, sizeof(ea)),
			met_escape_label(b, eb, sizeof(eb)),
			tel_verdict_name(c->verdict), tel_reason_name(c->reason),
			(unsigned long long)(bytes ? c->bytes : c->packets));
	}
}

int met_render(const struct met_snapshot *s, char **out, size_t *len)
{
	char ver[64];
	FILE *f;

	*out = NULL;
	*len = 0;
	f = open_memstream(out, len);
	if (!f)
		return -ENOMEM;
	met_family(f, "segd_packets_total", "counter",
		   "Frames judged by the XDP program, per source and destination segment, verdict and reason.");
	met_pairs(f, s, false);
	met_family(f, "segd_bytes_total", "counter",
		   "Bytes of the frames judged by the XDP program, per source and destination segment, verdict and reason.");
	met_pairs(f, s, true);
	met_family(f, "segd_events_total", "counter",
		   "Drop and audit events the data path put in the ring buffer.");
	fprintf(f, "segd_events_total %llu\n",
		(unsigned long long)s->events_sent);
	met_family(f, "segd_events_suppressed_total", "counter",
		   "Drop and audit events held back by the per (source, destination segment) rate limit.");
	fprintf(f, "segd_events_suppressed_total %llu\n",
		(unsigned long long)s->events_suppressed);
	met_family(f, "segd_ringbuf_lost_total", "counter",
		   "Drop and audit events lost because the ring buffer was full.");
	fprintf(f, "segd_ringbuf_lost_total %llu\n",
		(unsigned long long)s->ringbuf_lost);
	met_family(f, "segd_events_written_total", "counter",
		   "Event lines this segd wrote to its events file.");
	fprintf(f, "segd_events_written_total %llu\n",
		(unsigned long long)s->events_written);
	met_family(f, "segd_events_write_errors_total", "counter",
		   "Event lines this segd could not write to its events file (disk full, I/O error).");
	fprintf(f, "segd_events_write_errors_total %llu\n",
		(unsigned long long)s->events_write_errors);
	met_family(f, "segd_isolated_hosts", "gauge",
		   "Isolation entries in force (segctl isolated): addresses and MACs.");
	fprintf(f, "segd_isolated_hosts %llu\n",
		(unsigned long long)s->isolated_hosts);
	met_family(f, "segd_policy_generation", "gauge",
		   "Generation of the policy in force.");
	fprintf(f, "segd_policy_generation %llu\n",
		(unsigned long long)s->generation);
	met_family(f, "segd_build_info", "gauge",
		   "Always 1; the version of segd as a label.");
	fprintf(f, "segd_build_info{version=\"%s\"} 1\n",
		met_escape_label(s->version ? s->version : MET_VERSION, ver,
				 sizeof(ver)));
	if (fclose(f)) {
		free(*out);
		*out = NULL;
		*len = 0;
		return -ENOMEM;
	}
	return 0;
}

int met_write_file(const char *path, const char *text, size_t len)
{
	char tmp[PATH_MAX];
	size_t off = 0;
	int fd, ret = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	while (off < len) {
		ssize_t n = write(fd, text + off, len - off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			goto out;
		}
		off += (size_t)n;
	}
	if (fsync(fd)) {
		ret = -errno;
		goto out;
	}
	if (close(fd)) {
		fd = -1;
		ret = -errno;
		goto out;
	}
	fd = -1;
	if (rename(tmp, path))
		ret = -errno;
out:
	if (fd >= 0)
		close(fd);
	if (ret)
		unlink(tmp);
	return ret;
}

int met_parse_listen(const char *spec, struct sockaddr_storage *ss,
		     socklen_t *sl, char *err, size_t errlen)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon, *h = host;
	char *end;
	long port;
	size_t hl;

	memset(ss, 0, sizeof(*ss));
	colon = strrchr(spec, ':');
	if (!colon || colon == spec) {
		snprintf(err, errlen,
			 "--metrics-listen \"%s\": use 127.0.0.1:PORT or [::1]:PORT",
			 spec);
		return -EINVAL;
	}
	hl = (size_t)(colon - spec);
	if (hl >= sizeof(host)) {
		snprintf(err, errlen, "--metrics-listen \"%s\": address too long",
			 spec);
		return -EINVAL;
	}
	memcpy(host, spec, hl);
	host[hl] = '\0';
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (!colon[1] || *end || errno || port < 1 || port > 65535) {
		snprintf(err, errlen, "--metrics-listen \"%s\": bad port \"%s\"",
			 spec, colon + 1);
		return -EINVAL;
	}
	if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
		struct sockaddr_in6 *s6 = (void *)ss;

		host[hl - 1] = '\0';
		h = host + 1;
		if (inet_pton(AF_INET6, h, &s6->sin6_addr) != 1)
			goto bad;
		if (!IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr))
			goto notlo;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		*sl = sizeof(*s6);
		return 0;
	} else {
		struct sockaddr_in *s4 = (void *)ss;

		if (inet_pton(AF_INET, h, &s4->sin_addr) != 1)
			goto bad;
		if ((ntohl(s4->sin_addr.s_addr) >> 24) != 127)
			goto notlo;
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		*sl = sizeof(*s4);
		return 0;
	}
bad:
	snprintf(err, errlen,
		 "--metrics-listen \"%s\": bad address \"%s\" (use 127.0.0.1:PORT or [::1]:PORT)",
		 spec, h);
	return -EINVAL;
notlo:
	snprintf(err, errlen,
		 "--metrics-listen \"%s\": \"%s\" is not a loopback address; the endpoint has no authentication, so only loopback is served (put a proxy in front for anything else)",
		 spec, h);
	return -EPERM;
}
