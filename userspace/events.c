// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * events.c - ECS JSON lines for drop events, and their file (events.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "events.h"

void ev_rfc3339_ms(uint64_t wall_ns, char *buf, size_t len)
{
	time_t t = (time_t)(wall_ns / 1000000000ULL);
	unsigned ms = (unsigned)(wall_ns / 1000000ULL % 1000);
	char sec[32];
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(sec, sizeof(sec), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03uZ", sec, ms);
}

void ev_mac(const uint8_t mac[6], char *buf, size_t len)
{
	snprintf(buf, len, "%02X-%02X-%02X-%02X-%02X-%02X", mac[0], mac[1],
		 mac[2], mac[3], mac[4], mac[5]);
}

const char *ev_transport(uint8_t proto, char *buf, size_t len)
{
	switch (proto) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_ICMP:
		return "icmp";
	case IPPROTO_ICMPV6:
		return "ipv6-icmp";	/* the IANA keyword, as ECS asks */
	default:
		snprintf(buf, len, "%u", proto);
		return buf;
	}
}

static bool has_ports(uint8_t proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP;
}

/* {"ip","port","mac"} of one end; members absent when unknown. */
static json_t *ev_end(const struct segd_event *e, const uint8_t *addr,
		      uint16_t port, const uint8_t *mac)
{
	static const uint8_t zero_mac[6];
	char ip[INET6_ADDRSTRLEN], m[24];
	json_t *o = json_object();

	if (!o)
		return NULL;
	if (e->family == 4 || e->family == 6) {
		inet_ntop(e->family == 4 ? AF_INET : AF_INET6, addr, ip,
			  sizeof(ip));
		json_object_set_new(o, "ip", json_string(ip));
	}
	if (e->family && has_ports(e->l4proto))
		json_object_set_new(o, "port", json_integer(port));
	if (memcmp(mac, zero_mac, 6)) {
		ev_mac(mac, m, sizeof(m));
		json_object_set_new(o, "mac", json_string(m));
	}
	return o;
}

json_t *ev_json(const struct segd_event *e, const struct ev_labels *l)
{
	char ts[48], pbuf[8], ss[SEGD_NAME_LEN + 16], ds[SEGD_NAME_LEN + 16];
	char si[SEGD_NAME_LEN + 16], di[SEGD_NAME_LEN + 16], vid[8];
	bool audit = e->flags & SEGD_EVF_AUDIT;
	json_t *o, *net, *segd;

	ev_rfc3339_ms(l->wall_ns, ts, sizeof(ts));
	o = json_pack("{s:s, s:{s:s, s:[s], s:[s], s:s, s:s, s:s, s:s}}",
		      "@timestamp", ts,
		      "event", "kind", "event", "category", "network",
		      "type", audit ? "connection" : "denied",
		      "action", audit ? "audit" : "deny",
		      "reason", tel_reason_name(e->reason),
		      "module", "segd", "dataset", "segd.drop");
	if (!o)
		return NULL;
	json_object_set_new(o, "source", ev_end(e, e->saddr, e->sport, e->smac));
	json_object_set_new(o, "destination",
			    ev_end(e, e->daddr, e->dport, e->dmac));
	net = json_object();
	if (net) {
		if (e->family) {
			json_object_set_new(net, "type", json_string(
				e->family == 4 ? "ipv4" : "ipv6"));
			json_object_set_new(net, "transport", json_string(
				ev_transport(e->l4proto, pbuf, sizeof(pbuf))));
			json_object_set_new(net, "iana_number",
					    json_string((snprintf(pbuf, sizeof(pbuf), "%u",
								  e->l4proto), pbuf)));
		}
		if (e->vlan) {
			/* ECS keeps vlan.id a keyword (string). */
			snprintf(vid, sizeof(vid), "%u", e->vlan);
			json_object_set_new(net, "vlan",
					    json_pack("{s:s}", "id", vid));
		}
		json_object_set_new(net, "bytes", json_integer(e->pkt_len));
		json_object_set_new(o, "network", net);
	}
	if (l->ifname)
		json_object_set_new(o, "observer",
				    json_pack("{s:{s:{s:s}}}", "ingress",
					      "interface", "name", l->ifname));
	segd = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I}",
			 "src_segment", tel_label(l->names, e->src_seg, ss, sizeof(ss)),
			 "dst_segment", tel_label(l->names, e->dst_seg, ds, sizeof(ds)),
			 "src_identity", tel_label(l->names, e->src_id, si, sizeof(si)),
			 "dst_identity", tel_label(l->names, e->dst_id, di, sizeof(di)),
			 "verdict", tel_verdict_name(e->verdict),
			 "generation", (json_int_t)e->generation,
			 "suppressed", (json_int_t)e->suppressed);
	if (segd && e->family &&
	    (e->l4proto == IPPROTO_ICMP || e->l4proto == IPPROTO_ICMPV6))
		json_object_set_new(segd, "icmp_type", json_integer(e->icmp_type));
	if (segd && e->ifindex)
		json_object_set_new(segd, "ifindex", json_integer(e->ifindex));
	json_object_set_new(o, "segd", segd);
	return o;
}

int ev_format(const struct segd_event *e, const struct ev_labels *l,
	      char *buf, size_t len)
{
	json_t *o = ev_json(e, l);
	size_t n;

	if (!o)
		return -ENOMEM;
	n = json_dumpb(o, buf, len, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (!n)
		return -ENOMEM;
	if (n + 2 > len)
		return -ENOSPC;
	buf[n++] = '\n';
	buf[n] = '\0';
	return (int)n;
}

/* ---- sink ----------------------------------------------------------- */

static int ev_sink_open_fd(struct ev_sink *s)
{
	struct stat st;
	int fd;

	fd = open(s->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		int ret = -errno;

		close(fd);
		return ret;
	}
	s->size = (uint64_t)st.st_size;
	return fd;
}

int ev_sink_open(struct ev_sink *s, const char *path, uint64_t max_size)
{
	int fd;

	memset(s, 0, sizeof(*s));
	s->fd = -1;
	s->path = strdup(path);
	if (!s->path)
		return -ENOMEM;
	s->max_size = max_size;
	if (!strcmp(path, "-")) {
		s->fd = STDOUT_FILENO;
		return 0;
	}
	fd = ev_sink_open_fd(s);
	if (fd < 0) {
		free(s->path);
		s->path = NULL;
		return fd;
	}
	s->fd = fd;
	return 0;
}

int ev_sink_reopen(struct ev_sink *s)
{
	int fd;

	if (!s->path || !strcmp(s->path, "-"))
		return 0;
	fd = ev_sink_open_fd(s);
	if (fd < 0)
		return fd;
	if (s->fd >= 0)
		close(s->fd);
	s->fd = fd;
	return 0;
}

/* FILE -> FILE.1, then a fresh FILE. */
static int ev_sink_rotate(struct ev_sink *s)
{
	char old[PATH_MAX];

	if (snprintf(old, sizeof(old), "%s.1", s->path) >= (int)sizeof(old))
		return -ENAMETOOLONG;
	if (rename(s->path, old) && errno != ENOENT)
		return -errno;
	return ev_sink_reopen(s);
}

int ev_sink_write(struct ev_sink *s, const char *line, size_t len)
{
	ssize_t n;
	int ret;

	if (s->fd < 0)
		return -EBADF;
	if (s->max_size && strcmp(s->path, "-") && s->size &&
	    s->size + len > s->max_size) {
		ret = ev_sink_rotate(s);
		if (ret) {
			s->failed++;
			return ret;
		}
	}
	if (s->cut) {
		/* An earlier line was cut (disk full) and could not be taken
		 * back: end it, so this one starts on a line of its own and
		 * a reader loses one line, not two. */
		if (write(s->fd, "\n", 1) != 1) {
			s->failed++;
			return -EIO;
		}
		s->size++;
		s->cut = false;
	}
	n = write(s->fd, line, len);
	if (n < 0 || (size_t)n != len) {
		ret = n < 0 ? -errno : -ENOSPC;
		s->failed++;
		/* Take a partial line back; where that is impossible (a
		 * pipe, stdout), remember to end it before the next one. */
		if (n > 0 && (s->fd == STDOUT_FILENO ||
			      ftruncate(s->fd, (off_t)s->size)))
			s->cut = true;
		return ret;
	}
	s->size += len;
	s->written++;
	return 0;
}

void ev_sink_close(struct ev_sink *s)
{
	if (s->fd >= 0 && s->fd != STDOUT_FILENO)
		close(s->fd);
	s->fd = -1;
	free(s->path);
	s->path = NULL;
}
