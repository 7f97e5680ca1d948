// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * ctl.c - control protocol: requests, explain, policy loading, socket I/O.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "errbuf.h"
#include "../include/segd_abi.h"
#include "ctl.h"
#include "source.h"

static const char *const ctl_cmd_names[] = {
	[CTL_CMD_STATUS] = "status",
	[CTL_CMD_RELOAD] = "reload",
	[CTL_CMD_EXPLAIN] = "explain",
	[CTL_CMD_STOP] = "stop",
};

const char *ctl_cmd_name(enum ctl_cmd cmd)
{
	if ((size_t)cmd < sizeof(ctl_cmd_names) / sizeof(ctl_cmd_names[0]))
		return ctl_cmd_names[cmd];
	return "?";
}

/* ------------------------------------------------------------------ */
/* Requests                                                             */
/* ------------------------------------------------------------------ */

static int ctl_parse_mac(const char *s, uint8_t mac[6])
{
	size_t i;

	if (strlen(s) != 17)
		return -EINVAL;
	for (i = 0; i < 6; i++) {
		char hex[3] = { s[i * 3], s[i * 3 + 1], 0 };
		char *end;

		if (i < 5 && s[i * 3 + 2] != ':' && s[i * 3 + 2] != '-')
			return -EINVAL;
		if (!((hex[0] >= '0' && hex[0] <= '9') ||
		      (hex[0] >= 'a' && hex[0] <= 'f') ||
		      (hex[0] >= 'A' && hex[0] <= 'F')))
			return -EINVAL;
		mac[i] = (uint8_t)strtoul(hex, &end, 16);
		if (*end)
			return -EINVAL;
	}
	return 0;
}

static int ctl_parse_addr(const char *s, int *family, uint8_t addr[16],
			  char *norm, size_t normlen)
{
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, s, addr) == 1)
		*family = AF_INET;
	else if (inet_pton(AF_INET6, s, addr) == 1)
		*family = AF_INET6;
	else
		return -EINVAL;
	if (!inet_ntop(*family, addr, norm, normlen))
		return -errno;
	return 0;
}

int ctl_probe_parse(const char *from, const char *to, const char *proto,
		    long port, long icmp_type, const char *src_mac,
		    struct ctl_request *req, char *err, size_t errlen)
{
	struct comp_probe *pr = &req->probe;
	int ffam, tfam;
	bool icmp;

	memset(pr, 0, sizeof(*pr));
	if (!from || !*from) {
		err_set(err, errlen, "explain needs a source address (from)");
		return -EINVAL;
	}
	if (!to || !*to) {
		err_set(err, errlen, "explain needs a destination address (to)");
		return -EINVAL;
	}
	if (!proto || !*proto) {
		err_set(err, errlen,
			   "explain needs a protocol (proto: tcp, udp, icmp or icmpv6)");
		return -EINVAL;
	}
	if (ctl_parse_addr(from, &ffam, pr->src, req->from, sizeof(req->from))) {
		err_set(err, errlen, "\"%s\" is not an IPv4 or IPv6 address",
			   from);
		return -EINVAL;
	}
	if (ctl_parse_addr(to, &tfam, pr->dst, req->to, sizeof(req->to))) {
		err_set(err, errlen, "\"%s\" is not an IPv4 or IPv6 address",
			   to);
		return -EINVAL;
	}
	if (ffam != tfam) {
		err_set(err, errlen,
			   "\"%s\" and \"%s\" are not of the same address family",
			   from, to);
		return -EINVAL;
	}
	pr->family = ffam;

	if (!strcmp(proto, "tcp")) {
		pr->proto = IPPROTO_TCP;
		req->proto = "tcp";
	} else if (!strcmp(proto, "udp")) {
		pr->proto = IPPROTO_UDP;
		req->proto = "udp";
	} else if (!strcmp(proto, "icmp")) {
		pr->proto = IPPROTO_ICMP;
		req->proto = "icmp";
	} else if (!strcmp(proto, "icmpv6")) {
		pr->proto = IPPROTO_ICMPV6;
		req->proto = "icmpv6";
	} else {
		err_set(err, errlen,
			   "unknown protocol \"%s\" (use tcp, udp, icmp or icmpv6)",
			   proto);
		return -EINVAL;
	}
	icmp = pr->proto == IPPROTO_ICMP || pr->proto == IPPROTO_ICMPV6;
	if (pr->proto == IPPROTO_ICMP && ffam != AF_INET) {
		err_set(err, errlen,
			   "icmp is for IPv4 addresses; use icmpv6 with \"%s\"",
			   from);
		return -EINVAL;
	}
	if (pr->proto == IPPROTO_ICMPV6 && ffam != AF_INET6) {
		err_set(err, errlen,
			   "icmpv6 is for IPv6 addresses; use icmp with \"%s\"",
			   from);
		return -EINVAL;
	}
	if (icmp) {
		if (port >= 0) {
			err_set(err, errlen,
				   "a port does not apply to %s (it takes an ICMP type)",
				   req->proto);
			return -EINVAL;
		}
		if (icmp_type > 255) {
			err_set(err, errlen,
				   "icmp type %ld out of range (0-255)",
				   icmp_type);
			return -EINVAL;
		}
		if (icmp_type >= 0)
			pr->icmp_type = (uint8_t)icmp_type;
		else
			pr->icmp_type = pr->proto == IPPROTO_ICMP ? 8 : 128;
	} else {
		if (icmp_type >= 0) {
			err_set(err, errlen,
				   "an icmp type does not apply to %s",
				   req->proto);
			return -EINVAL;
		}
		if (port < 0) {
			err_set(err, errlen, "%s needs a destination port",
				   req->proto);
			return -EINVAL;
		}
		if (port < 1 || port > 65535) {
			err_set(err, errlen, "port %ld out of range (1-65535)",
				   port);
			return -EINVAL;
		}
		pr->dport = (uint16_t)port;
	}
	if (src_mac) {
		if (ctl_parse_mac(src_mac, pr->src_mac)) {
			err_set(err, errlen,
				   "\"%s\" is not a MAC address (aa:bb:cc:dd:ee:ff)",
				   src_mac);
			return -EINVAL;
		}
		pr->has_src_mac = true;
	}
	return 0;
}

static int ctl_get_int(const json_t *obj, const char *key, long *out,
		       char *err, size_t errlen)
{
	const json_t *v = json_object_get(obj, key);

	*out = -1;
	if (!v)
		return 0;
	if (!json_is_integer(v)) {
		err_set(err, errlen, "\"%s\" must be an integer", key);
		return -EINVAL;
	}
	if (json_integer_value(v) < 0 || json_integer_value(v) > 65535) {
		err_set(err, errlen, "\"%s\" %lld out of range", key,
			   (long long)json_integer_value(v));
		return -EINVAL;
	}
	*out = (long)json_integer_value(v);
	return 0;
}

static int ctl_get_str(const json_t *obj, const char *key, const char **out,
		       char *err, size_t errlen)
{
	const json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (!v)
		return 0;
	if (!json_is_string(v)) {
		err_set(err, errlen, "\"%s\" must be a string", key);
		return -EINVAL;
	}
	*out = json_string_value(v);
	return 0;
}

int ctl_parse_request(const json_t *obj, struct ctl_request *req, char *err,
		      size_t errlen)
{
	static const char *const explain_keys[] = {
		"cmd", "from", "to", "proto", "port", "icmp_type", "src_mac",
	};
	const char *cmd, *key, *from, *to, *proto, *mac;
	const json_t *v;
	long port, icmp_type;
	size_t i;

	memset(req, 0, sizeof(*req));
	if (!json_is_object(obj)) {
		err_set(err, errlen, "a request must be a JSON object");
		return -EINVAL;
	}
	v = json_object_get(obj, "cmd");
	if (!v) {
		err_set(err, errlen, "missing \"cmd\"");
		return -EINVAL;
	}
	if (!json_is_string(v)) {
		err_set(err, errlen, "\"cmd\" must be a string");
		return -EINVAL;
	}
	cmd = json_string_value(v);
	if (!strcmp(cmd, "status"))
		req->cmd = CTL_CMD_STATUS;
	else if (!strcmp(cmd, "reload"))
		req->cmd = CTL_CMD_RELOAD;
	else if (!strcmp(cmd, "explain"))
		req->cmd = CTL_CMD_EXPLAIN;
	else if (!strcmp(cmd, "stop"))
		req->cmd = CTL_CMD_STOP;
	else {
		err_set(err, errlen,
			   "unknown cmd \"%s\" (status, reload, explain, stop)",
			   cmd);
		return -EINVAL;
	}

	/* Strict: a key we do not know is a mistake worth reporting. */
	json_object_foreach((json_t *)obj, key, v) {
		bool known = !strcmp(key, "cmd");

		if (req->cmd == CTL_CMD_EXPLAIN)
			for (i = 0; i < sizeof(explain_keys) / sizeof(*explain_keys); i++)
				known |= !strcmp(key, explain_keys[i]);
		if (!known) {
			err_set(err, errlen, "unknown key \"%s\" for cmd \"%s\"",
				   key, cmd);
			return -EINVAL;
		}
	}
	if (req->cmd != CTL_CMD_EXPLAIN)
		return 0;

	if (ctl_get_str(obj, "from", &from, err, errlen) ||
	    ctl_get_str(obj, "to", &to, err, errlen) ||
	    ctl_get_str(obj, "proto", &proto, err, errlen) ||
	    ctl_get_str(obj, "src_mac", &mac, err, errlen) ||
	    ctl_get_int(obj, "port", &port, err, errlen) ||
	    ctl_get_int(obj, "icmp_type", &icmp_type, err, errlen))
		return -EINVAL;
	return ctl_probe_parse(from, to, proto, port, icmp_type, mac, req, err,
			       errlen);
}

int ctl_parse_line(const char *line, size_t len, struct ctl_request *req,
		   char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *obj;
	int ret;

	obj = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!obj) {
		err_set(err, errlen, "request is not valid JSON: %s (column %d)",
			   jerr.text, jerr.column);
		memset(req, 0, sizeof(*req));
		return -EINVAL;
	}
	ret = ctl_parse_request(obj, req, err, errlen);
	json_decref(obj);
	return ret;
}

json_t *ctl_error_response(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return json_pack("{s:b, s:s}", "ok", 0, "error", msg);
}

/* ------------------------------------------------------------------ */
/* Policy                                                               */
/* ------------------------------------------------------------------ */

int ctl_policy_load(const char *dir, const struct comp_gw_addr *gw,
		    size_t n_gw, const struct comp_id_hint *hints,
		    size_t n_hints, struct ctl_policy *out,
		    struct cfg_diag *diag, char *err, size_t errlen)
{
	struct cfg_policy *cfg = NULL;
	struct src_docs *docs;
	char rerr[512] = "";
	size_t i;
	int ret;

	memset(out, 0, sizeof(*out));
	memset(diag, 0, sizeof(*diag));
	docs = src_read_dir(dir, rerr, sizeof(rerr));
	if (!docs) {
		ret = errno ? -errno : -EIO;
		if (rerr[0])
			err_set(err, errlen, "%s", rerr);
		else
			err_set(err, errlen, "reading \"%s\": %s", dir,
				   strerror(-ret));
		return ret;
	}
	ret = cfg_parse(docs, &cfg, diag);
	if (ret) {
		if (ret == -EINVAL)
			err_set(err, errlen, "%zu error%s in \"%s\"",
				   diag->n_errors, diag->n_errors == 1 ? "" : "s",
				   dir);
		else
			err_set(err, errlen, "parsing \"%s\": %s", dir,
				   strerror(-ret));
		return ret;
	}
	out->files = calloc(cfg->docs->n ? cfg->docs->n : 1, sizeof(char *));
	if (!out->files) {
		ret = -ENOMEM;
		goto fail;
	}
	for (i = 0; i < cfg->docs->n; i++) {
		out->files[i] = strdup(cfg->docs->v[i].name);
		if (!out->files[i]) {
			ret = -ENOMEM;
			goto fail;
		}
		out->n_files++;
	}
	out->n_services = cfg->n_services;
	out->n_segments = cfg->n_segments;
	out->n_devices = cfg->n_devices;
	out->n_rules = cfg->n_rules;
	ret = comp_build(cfg, gw, n_gw, hints, n_hints, &out->comp, err, errlen);
	if (ret)
		goto fail;
	cfg_policy_free(cfg);
	return 0;
fail:
	if (ret == -ENOMEM)
		err_set(err, errlen, "out of memory");
	cfg_policy_free(cfg);
	ctl_policy_free(out);
	return ret;
}

void ctl_policy_free(struct ctl_policy *p)
{
	size_t i;

	if (!p)
		return;
	if (p->comp)
		comp_free(p->comp);
	for (i = 0; i < p->n_files; i++)
		free(p->files[i]);
	free(p->files);
	memset(p, 0, sizeof(*p));
}

json_t *ctl_diag_json(const struct cfg_diag *d, enum cfg_severity sev)
{
	json_t *arr = json_array();
	size_t i;

	if (!arr)
		return NULL;
	for (i = 0; i < d->n && i < CFG_MAX_DIAGS; i++) {
		const struct cfg_diag_entry *e = &d->v[i];

		if (e->severity != sev)
			continue;
		json_array_append_new(arr, json_pack("{s:s, s:i, s:i, s:s}",
						     "file", e->file,
						     "line", e->line,
						     "column", e->column,
						     "message", e->msg));
	}
	return arr;
}

json_t *ctl_counts_json(const struct comp_policy *p)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
			 "ids", (json_int_t)p->n_ids,
			 "host4", (json_int_t)p->n_host4,
			 "host6", (json_int_t)p->n_host6,
			 "lpm4", (json_int_t)p->n_lpm4,
			 "lpm6", (json_int_t)p->n_lpm6,
			 "macs", (json_int_t)p->n_macs,
			 "allows", (json_int_t)p->n_allows,
			 "rules", (json_int_t)p->n_rules);
}

/* ------------------------------------------------------------------ */
/* explain                                                              */
/* ------------------------------------------------------------------ */

static void ctl_id_name(const struct comp_policy *p, uint32_t id, char *buf,
			size_t len)
{
	const struct comp_identity *ci = comp_identity(p, id);

	if (ci && ci->name[0])
		snprintf(buf, len, "%s", ci->name);
	else
		snprintf(buf, len, "id:%u", id);
}

static json_t *ctl_end_json(const struct comp_policy *p, const char *addr,
			    const struct segd_endpoint *ep)
{
	char id[SEGD_NAME_LEN + 16], seg[SEGD_NAME_LEN + 16];
	json_t *o;

	ctl_id_name(p, ep->id, id, sizeof(id));
	ctl_id_name(p, ep->seg, seg, sizeof(seg));
	o = json_pack("{s:s, s:s, s:s, s:I}", "address", addr, "identity", id,
		      "segment", seg, "id", (json_int_t)ep->id);
	if (o && (ep->flags & SEGD_EP_MAC_BOUND)) {
		char mac[18];

		snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x",
			 ep->mac[0], ep->mac[1], ep->mac[2], ep->mac[3],
			 ep->mac[4], ep->mac[5]);
		json_object_set_new(o, "bound_mac", json_string(mac));
	}
	return o;
}

json_t *ctl_explain(const struct comp_policy *p, const struct ctl_request *req)
{
	const struct comp_probe *pr = &req->probe;
	struct comp_verdict v;
	json_t *res, *from, *to;
	bool icmp;

	memset(&v, 0, sizeof(v));
	comp_explain(p, pr, &v);
	icmp = pr->proto == IPPROTO_ICMP || pr->proto == IPPROTO_ICMPV6;
	from = ctl_end_json(p, req->from, &v.src);
	to = ctl_end_json(p, req->to, &v.dst);
	res = json_pack("{s:s, s:s, s:o, s:o, s:s}",
			"verdict", comp_verdict_name(v.verdict),
			"reason", comp_reason_name(v.reason),
			"from", from, "to", to,
			"proto", req->proto ? req->proto : "?");
	if (!res)
		return NULL;
	json_object_set_new(res, "port",
			    icmp ? json_null() : json_integer(pr->dport));
	if (icmp)
		json_object_set_new(res, "icmp_type",
				    json_integer(pr->icmp_type));
	if (pr->has_src_mac) {
		char mac[18];

		snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x",
			 pr->src_mac[0], pr->src_mac[1], pr->src_mac[2],
			 pr->src_mac[3], pr->src_mac[4], pr->src_mac[5]);
		json_object_set_new(res, "src_mac", json_string(mac));
	}
	if (v.has_rule && v.rule < p->n_rules && p->rule_names[v.rule])
		json_object_set_new(res, "rule",
				    json_string(p->rule_names[v.rule]));
	else
		json_object_set_new(res, "rule", json_null());
	return res;
}

static const char *ctl_jstr(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

/* "[pacs]" for a segment or built-in, "[iomt/pump-7]" for a device. */
static void ctl_end_label(const json_t *end, char *buf, size_t len)
{
	const char *id = ctl_jstr(end, "identity");
	const char *seg = ctl_jstr(end, "segment");

	if (!strcmp(id, seg))
		snprintf(buf, len, "[%s]", seg);
	else
		snprintf(buf, len, "[%s/%s]", seg, id);
}

int ctl_explain_text(const json_t *res, char *buf, size_t len)
{
	const json_t *from = json_object_get(res, "from");
	const json_t *to = json_object_get(res, "to");
	const char *verdict = ctl_jstr(res, "verdict");
	const char *reason = ctl_jstr(res, "reason");
	const char *proto = ctl_jstr(res, "proto");
	const char *rule = json_string_value(json_object_get(res, "rule"));
	const json_t *port = json_object_get(res, "port");
	const json_t *itype = json_object_get(res, "icmp_type");
	char fl[SEGD_NAME_LEN * 2 + 8], tl[SEGD_NAME_LEN * 2 + 8];
	char svc[64], detail[256];

	if (!json_is_object(from) || !json_is_object(to) || !*verdict ||
	    !*reason)
		return -EINVAL;
	ctl_end_label(from, fl, sizeof(fl));
	ctl_end_label(to, tl, sizeof(tl));
	if (json_is_integer(port))
		snprintf(svc, sizeof(svc), "%s/%lld", proto,
			 (long long)json_integer_value(port));
	else if (json_is_integer(itype))
		snprintf(svc, sizeof(svc), "%s type %lld", proto,
			 (long long)json_integer_value(itype));
	else
		snprintf(svc, sizeof(svc), "%s", proto);

	if (!strcmp(reason, "allowed") && rule)
		snprintf(detail, sizeof(detail), " by rule %s", rule);
	else if (!strcmp(reason, "policy"))
		snprintf(detail, sizeof(detail),
			 ": no rule allows it (default deny)");
	else if (!strcmp(reason, "audit"))
		snprintf(detail, sizeof(detail),
			 ": no rule allows it; passed and counted because of audit mode");
	else if (!strcmp(reason, "spoofed"))
		snprintf(detail, sizeof(detail),
			 ": %s is bound to MAC %s and the frame comes from another MAC",
			 ctl_jstr(from, "address"), ctl_jstr(from, "bound_mac"));
	else if (!strcmp(reason, "local"))
		snprintf(detail, sizeof(detail),
			 ": control traffic of the gateway's links (DHCP or DHCPv6 to the gateway, ICMPv6 ND/MLD, hop limit assumed link-local) always passes");
	else if (!strcmp(reason, "reply"))
		snprintf(detail, sizeof(detail),
			 ": reply to a request the policy allows");
	else if (!strcmp(reason, "no_policy"))
		snprintf(detail, sizeof(detail), ": no policy loaded (fail closed)");
	else if (!strcmp(reason, "isolated"))
		snprintf(detail, sizeof(detail), ": host under isolation");
	else
		detail[0] = '\0';

	snprintf(buf, len, "%s (%s): %s %s -> %s %s %s%s", verdict, reason,
		 ctl_jstr(from, "address"), fl, ctl_jstr(to, "address"), tl,
		 svc, detail);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Socket                                                               */
/* ------------------------------------------------------------------ */

int ctl_sock_path(const char *run_dir, char *buf, size_t len)
{
	struct sockaddr_un sun;
	int n;

	n = snprintf(buf, len, "%s/%s", run_dir, SEGD_SOCKET_NAME);
	if (n < 0 || (size_t)n >= len || (size_t)n >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	return 0;
}

int ctl_listen(const char *run_dir)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd, ret;

	ret = ctl_sock_path(run_dir, sun.sun_path, sizeof(sun.sun_path));
	if (ret)
		return ret;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (unlink(sun.sun_path) && errno != ENOENT) {
		ret = -errno;
		goto fail;
	}
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun))) {
		ret = -errno;
		goto fail;
	}
	/* Root's group may connect; SO_PEERCRED decides who may talk. */
	if (chmod(sun.sun_path, 0660)) {
		ret = -errno;
		goto fail;
	}
	if (listen(fd, 16)) {
		ret = -errno;
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return ret;
}

int ctl_peer_allowed(int fd, uid_t *uid)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len))
		return -errno;
	if (uid)
		*uid = cred.uid;
	/* XXX: a configurable operator group (read-only commands) comes
	 * later; until then only root talks to segd. */
	return cred.uid == 0;
}

int ctl_send(int fd, const json_t *obj, int timeout_ms)
{
	struct timespec start, now;
	size_t len, off = 0;
	char *s;
	int ret = 0;

	s = json_dumps(obj, JSON_COMPACT);
	if (!s)
		return -ENOMEM;
	len = strlen(s);
	s[len] = '\n';	/* json_dumps' NUL becomes the line end */
	len++;
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (off < len) {
		ssize_t n = send(fd, s + off, len - off, MSG_NOSIGNAL);
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		long left;

		if (n >= 0) {
			off += (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			ret = -errno;
			break;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		left = timeout_ms - ((now.tv_sec - start.tv_sec) * 1000 +
				     (now.tv_nsec - start.tv_nsec) / 1000000);
		if (left <= 0 || poll(&p, 1, (int)left) <= 0) {
			ret = -ETIMEDOUT;
			break;
		}
	}
	free(s);
	return ret;
}

int ctl_conn_read(struct ctl_conn *c, ctl_line_fn fn, void *ctx)
{
	for (;;) {
		char *nl;
		ssize_t n;

		if (!c->buf) {
			c->buf = malloc(CTL_MAX_LINE + 1);
			if (!c->buf)
				return -ENOMEM;
			c->len = 0;
		}
		n = read(c->fd, c->buf + c->len, CTL_MAX_LINE + 1 - c->len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return -errno;
		}
		if (n == 0)
			return 1;
		c->len += (size_t)n;
		while ((nl = memchr(c->buf, '\n', c->len))) {
			size_t llen = (size_t)(nl - c->buf);
			size_t used = llen + 1;
			json_t *resp;
			int ret;

			*nl = '\0';
			if (llen && c->buf[llen - 1] == '\r')
				c->buf[--llen] = '\0';
			resp = llen ? fn(c->buf, llen, ctx) : NULL;
			memmove(c->buf, c->buf + used, c->len - used);
			c->len -= used;
			if (!resp)
				continue;
			ret = ctl_send(c->fd, resp, 2000);
			json_decref(resp);
			if (ret)
				return 1;
		}
		if (c->len > CTL_MAX_LINE) {
			json_t *resp = ctl_error_response(
				"request line longer than %d bytes", CTL_MAX_LINE);

			if (resp) {
				ctl_send(c->fd, resp, 1000);
				json_decref(resp);
			}
			return 1;
		}
	}
}

int ctl_call(const char *run_dir, const json_t *req, json_t **resp,
	     int timeout_ms, char *err, size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	size_t len = 0, cap = 4096;
	struct timespec start, now;
	char *buf = NULL, *nl = NULL;
	json_error_t jerr;
	int fd, ret;

	*resp = NULL;
	ret = ctl_sock_path(run_dir, sun.sun_path, sizeof(sun.sun_path));
	if (ret) {
		err_set(err, errlen, "run dir \"%s\": socket path too long",
			   run_dir);
		return ret;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ret = -errno;
		err_set(err, errlen, "socket: %s", strerror(errno));
		return ret;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun))) {
		ret = -errno;
		if (ret == -ENOENT || ret == -ECONNREFUSED)
			err_set(err, errlen,
				   "segd is not running (no answer on %s)",
				   sun.sun_path);
		else if (ret == -EACCES || ret == -EPERM)
			err_set(err, errlen,
				   "permission denied on %s: segd answers root only",
				   sun.sun_path);
		else
			err_set(err, errlen, "connecting to %s: %s",
				   sun.sun_path, strerror(-ret));
		goto out;
	}
	ret = ctl_send(fd, req, timeout_ms);
	/* A peer that refuses us answers, then closes before our request is
	 * written: read its answer anyway. */
	if (ret && ret != -EPIPE && ret != -ECONNRESET) {
		err_set(err, errlen, "sending to %s: %s", sun.sun_path,
			   strerror(-ret));
		goto out;
	}
	buf = malloc(cap);
	if (!buf) {
		ret = -ENOMEM;
		goto out;
	}
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (!nl) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		long left;
		ssize_t n;

		clock_gettime(CLOCK_MONOTONIC, &now);
		left = timeout_ms - ((now.tv_sec - start.tv_sec) * 1000 +
				     (now.tv_nsec - start.tv_nsec) / 1000000);
		if (left <= 0 || poll(&p, 1, (int)left) == 0) {
			ret = -ETIMEDOUT;
			err_set(err, errlen,
				   "segd did not answer within %d ms on %s",
				   timeout_ms, sun.sun_path);
			goto out;
		}
		if (len + 1 >= cap) {
			char *nb = realloc(buf, cap * 2);

			if (!nb) {
				ret = -ENOMEM;
				goto out;
			}
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			err_set(err, errlen, "reading from %s: %s",
				   sun.sun_path, strerror(-ret));
			goto out;
		}
		if (n == 0) {
			ret = -ECONNRESET;
			err_set(err, errlen,
				   "segd closed the connection without an answer");
			goto out;
		}
		len += (size_t)n;
		buf[len] = '\0';
		nl = memchr(buf, '\n', len);
	}
	*resp = json_loadb(buf, (size_t)(nl - buf), 0, &jerr);
	if (!*resp) {
		ret = -EPROTO;
		err_set(err, errlen, "segd sent an invalid answer: %s",
			   jerr.text);
		goto out;
	}
	ret = 0;
out:
	free(buf);
	close(fd);
	return ret;
}
