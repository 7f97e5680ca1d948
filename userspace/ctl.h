/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * ctl.h - segd's control socket and what both ends of it share.
 *
 * Protocol: a Unix SOCK_STREAM socket at <run-dir>/segd.sock. A client
 * writes one JSON object per line and reads one JSON object per line back,
 * in order. Only root may talk (SO_PEERCRED). Requests:
 *   {"cmd":"status"}
 *   {"cmd":"reload"}
 *   {"cmd":"explain","from":ADDR,"to":ADDR,"proto":"tcp|udp|icmp|icmpv6",
 *    "port":N,"icmp_type":N,"src_mac":"aa:bb:cc:dd:ee:ff"}
 *   {"cmd":"stop"}
 *   isolate, release, isolated, history: isolate.h (segd hands them to
 *   iso_handle() before this module parses a request)
 * Every response has "ok": true or false; a refused request gets
 * {"ok":false,"error":"..."} and changes nothing. Unknown keys, wrong
 * types and bad values are refused.
 *
 * This module also holds what segd and segctl both do with a policy
 * directory (ctl_policy_load) and with an explain probe, so that
 * `segctl explain` online and offline print the same thing.
 */
#ifndef SEGD_CTL_H
#define SEGD_CTL_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>

#include "compile.h"
#include "config.h"

#define CTL_MAX_LINE (64 * 1024)	/* longest request line accepted */
#define CTL_MAX_CLIENTS 32		/* connections served at once */

enum ctl_cmd {
	CTL_CMD_STATUS,
	CTL_CMD_RELOAD,
	CTL_CMD_EXPLAIN,
	CTL_CMD_STOP,
};

struct ctl_request {
	enum ctl_cmd cmd;
	/* explain only: */
	struct comp_probe probe;
	char from[INET6_ADDRSTRLEN];	/* normalized (inet_ntop) */
	char to[INET6_ADDRSTRLEN];
	const char *proto;		/* "tcp", "udp", "icmp", "icmpv6" */
};

const char *ctl_cmd_name(enum ctl_cmd cmd);

/*
 * ctl_probe_parse - validate an explain probe given as strings and numbers
 * (the request's fields, or segctl's options) and fill req->probe.
 * @port: -1 when absent; required (1-65535) for tcp and udp, refused for
 * icmp. @icmp_type: -1 when absent (echo request); icmp/icmpv6 only.
 * @src_mac: NULL when absent. Returns 0 or -EINVAL with @err quoting the
 * bad input.
 */
int ctl_probe_parse(const char *from, const char *to, const char *proto,
		    long port, long icmp_type, const char *src_mac,
		    struct ctl_request *req, char *err, size_t errlen);

/* ctl_parse_request - validate a decoded request object. 0 or -EINVAL. */
int ctl_parse_request(const json_t *obj, struct ctl_request *req, char *err,
		      size_t errlen);

/* ctl_parse_line - decode (strictly: no duplicate keys) and validate. */
int ctl_parse_line(const char *line, size_t len, struct ctl_request *req,
		   char *err, size_t errlen);

/* ctl_error_response - new {"ok":false,"error":MSG}. */
json_t *ctl_error_response(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/* ------------------------------------------------------------------ */
/* Policy directory -> compiled policy (segd start/reload, segctl).    */
/* ------------------------------------------------------------------ */

struct ctl_policy {
	struct comp_policy *comp;
	char **files;		/* document names, in order */
	size_t n_files;
	size_t n_services, n_segments, n_devices, n_rules;
};

/*
 * ctl_policy_load - read @dir, parse, compile.
 * Returns 0; -EINVAL when the documents have errors (@diag lists them);
 * another negative errno when the directory cannot be read or the compiler
 * refuses (@err says why). @diag holds warnings in every case.
 */
int ctl_policy_load(const char *dir, const struct comp_gw_addr *gw,
		    size_t n_gw, const struct comp_id_hint *hints,
		    size_t n_hints, struct ctl_policy *out,
		    struct cfg_diag *diag, char *err, size_t errlen);
void ctl_policy_free(struct ctl_policy *p);

/* ctl_diag_json - diagnostics of one severity as
 * [{"file","line","column","message"}]. */
json_t *ctl_diag_json(const struct cfg_diag *d, enum cfg_severity sev);

/* ctl_counts_json - {"ids","host4","host6","lpm4","lpm6","macs","allows",
 * "rules"} of a compiled policy. */
json_t *ctl_counts_json(const struct comp_policy *p);

/* ------------------------------------------------------------------ */
/* explain                                                              */
/* ------------------------------------------------------------------ */

/*
 * ctl_explain - evaluate @req (an explain request) against @p:
 * {"verdict","reason","from":{"address","identity","segment","id"},
 *  "to":{...},"proto","port","icmp_type","rule"}. NULL on ENOMEM.
 */
json_t *ctl_explain(const struct comp_policy *p, const struct ctl_request *req);

/*
 * ctl_explain_text - one line for humans from ctl_explain's object, e.g.
 * "drop (policy): 10.40.0.50 [guest] -> 10.30.0.10 [pacs] tcp/104: no rule
 * allows it (default deny)". Returns 0 or -EINVAL if fields are missing.
 */
int ctl_explain_text(const json_t *res, char *buf, size_t len);

/* ------------------------------------------------------------------ */
/* Socket                                                               */
/* ------------------------------------------------------------------ */

/* ctl_sock_path - <run_dir>/segd.sock; -ENAMETOOLONG if it cannot fit
 * sockaddr_un. */
int ctl_sock_path(const char *run_dir, char *buf, size_t len);

/* ctl_listen - bind and listen at ctl_sock_path(run_dir), replacing a
 * stale socket file (the caller holds the pid lock), mode 0660.
 * Non-blocking, close-on-exec. Returns the fd or a negative errno. */
int ctl_listen(const char *run_dir);

/* ctl_peer_allowed - may the peer of @fd talk to segd? 1 yes, 0 no,
 * negative errno. Today: uid 0 only. */
int ctl_peer_allowed(int fd, uid_t *uid);

/* One server-side connection: bytes read but not yet a full line. */
struct ctl_conn {
	int fd;
	char *buf;
	size_t len;
	uint64_t last_ms;	/* CLOCK_MONOTONIC of the last activity */
};

/* Handles one request line; returns the response (ownership passes). */
typedef json_t *(*ctl_line_fn)(const char *line, size_t len, void *ctx);

/*
 * ctl_conn_read - read what is available on @c, answer every complete line
 * through @fn. Returns 0 to keep the connection, 1 when the peer closed or
 * must be dropped (oversized line, write failure), negative errno on a
 * read error.
 */
int ctl_conn_read(struct ctl_conn *c, ctl_line_fn fn, void *ctx);

/* ctl_send - write @obj as one line, waiting up to @timeout_ms. */
int ctl_send(int fd, const json_t *obj, int timeout_ms);

/*
 * ctl_call - client: connect to segd under @run_dir, send @req, read one
 * response into *resp. -ENOENT/-ECONNREFUSED: segd is not running;
 * -EACCES: not allowed; -ETIMEDOUT. @err says which, with the path.
 */
int ctl_call(const char *run_dir, const json_t *req, json_t **resp,
	     int timeout_ms, char *err, size_t errlen);

#endif /* SEGD_CTL_H */
