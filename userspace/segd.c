// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * segd.c - the controller: compiles the segment files, loads (or adopts)
 * the XDP program and its pinned maps, applies the policy, attaches to the
 * gateway's interfaces, then serves the control socket until told to stop.
 *
 * Enforcement outlives segd: on SIGTERM/SIGINT or a "stop" request segd
 * exits and leaves the XDP links, the maps and the nft table in place; a
 * new segd adopts them. Only `segctl teardown --yes` removes them.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <ifaddrs.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <jansson.h>

#include "../include/segd_abi.h"
#include "compile.h"
#include "config.h"
#include "ctl.h"
#include "loader.h"
#include "log.h"
#include "mapwriter.h"
#include "nftwriter.h"

#define SEGD_MAX_IFACES 64

struct segd {
	/* options */
	const char *segments;
	const char *ifnames[SEGD_MAX_IFACES];
	size_t n_ifs;
	const char *pin_dir;
	const char *run_dir;
	const char *nft_table;
	enum ldr_xdp_mode mode;

	/* state */
	int pid_fd;
	struct ldr *ldr;
	struct mapw_fds fds;
	struct ctl_policy pol;	/* the policy in force, for status/explain */
	uint64_t generation;
	time_t loaded_at;
	int epfd, sigfd, lfd;
	struct ctl_conn conns[CTL_MAX_CLIENTS];
	bool stop;
};

enum { EV_SIGNAL = 1, EV_LISTEN = 2, EV_CONN = 3 };

static void usage(FILE *f)
{
	fprintf(f,
		"usage: segd --segments DIR --interface IF [--interface IF ...]\n"
		"            [--pin-dir DIR] [--run-dir DIR] [--nft-table NAME]\n"
		"            [--xdp-mode native|skb] [-v]\n"
		"\n"
		"  --segments DIR     segment files (*.json) to enforce\n"
		"  --interface IF     gateway interface facing a segment (repeat)\n"
		"  --pin-dir DIR      bpffs directory for maps and links (default %s)\n"
		"  --run-dir DIR      control socket and pid file (default %s)\n"
		"  --nft-table NAME   nftables table inet NAME (default %s)\n"
		"  --xdp-mode MODE    native (default; refuses interfaces without\n"
		"                     driver support) or skb (generic)\n"
		"  -v, --verbose      more logging (-vv: libbpf's too)\n"
		"\n"
		"Runs in the foreground and logs to stderr. SIGHUP reloads the\n"
		"segment files; SIGTERM exits and leaves enforcement in place.\n",
		SEGD_DEFAULT_PIN_DIR, SEGD_DEFAULT_RUN_DIR, NFTW_DEFAULT_TABLE);
}

static void print_diags(const struct cfg_diag *d)
{
	char line[1024];
	size_t i;

	for (i = 0; i < d->n; i++) {
		cfg_diag_format(d, i, line, sizeof(line));
		fprintf(stderr, "%s\n", line);
	}
	if (d->n_errors + d->n_warnings > d->n)
		fprintf(stderr, "(%zu more diagnostics not shown)\n",
			d->n_errors + d->n_warnings - d->n);
}

/* Every address of every interface of this host: the `gateway` identity. */
static int gw_addrs(struct comp_gw_addr **out, size_t *n)
{
	struct ifaddrs *ifa, *i;
	struct comp_gw_addr *v;
	size_t cnt = 0;

	*out = NULL;
	*n = 0;
	if (getifaddrs(&ifa))
		return -errno;
	for (i = ifa; i; i = i->ifa_next)
		cnt++;
	v = calloc(cnt ? cnt : 1, sizeof(*v));
	if (!v) {
		freeifaddrs(ifa);
		return -ENOMEM;
	}
	cnt = 0;
	for (i = ifa; i; i = i->ifa_next) {
		if (!i->ifa_addr)
			continue;
		if (i->ifa_addr->sa_family == AF_INET) {
			const struct sockaddr_in *sin = (void *)i->ifa_addr;

			v[cnt].family = AF_INET;
			memcpy(v[cnt].addr, &sin->sin_addr, 4);
			cnt++;
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			const struct sockaddr_in6 *sin6 = (void *)i->ifa_addr;

			v[cnt].family = AF_INET6;
			memcpy(v[cnt].addr, &sin6->sin6_addr, 16);
			cnt++;
		}
	}
	freeifaddrs(ifa);
	*out = v;
	*n = cnt;
	return 0;
}

static int mkdirs(const char *dir, mode_t mode)
{
	char path[PATH_MAX], *p;

	if (snprintf(path, sizeof(path), "%s", dir) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	for (p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, mode) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(path, mode) && errno != EEXIST)
		return -errno;
	return 0;
}

/*
 * Take <run-dir>/segd.pid with an exclusive flock: one segd per run dir.
 * The lock, not the file's existence, says segd runs; it goes with the
 * process however it ends.
 */
static int pid_lock(struct segd *s)
{
	char path[PATH_MAX], buf[32];
	int fd, n, ret;

	snprintf(path, sizeof(path), "%s/%s", s->run_dir, SEGD_PID_NAME);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		ret = -errno;
		pr_err("cannot open pid file \"%s\": %s", path, strerror(errno));
		return ret;
	}
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		ret = -errno;
		if (errno == EWOULDBLOCK) {
			n = (int)pread(fd, buf, sizeof(buf) - 1, 0);
			buf[n > 0 ? n : 0] = '\0';
			buf[strcspn(buf, "\n")] = '\0';
			pr_err("another segd%s%s%s is already running with run dir \"%s\" (lock held on %s); refusing to start",
				buf[0] ? " (pid " : "", buf, buf[0] ? ")" : "",
				s->run_dir, path);
		} else {
			pr_err("cannot lock \"%s\": %s", path, strerror(errno));
		}
		close(fd);
		return ret;
	}
	n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) || pwrite(fd, buf, (size_t)n, 0) != n) {
		ret = -errno;
		pr_err("cannot write pid file \"%s\": %s", path, strerror(errno));
		close(fd);
		return ret;
	}
	s->pid_fd = fd;
	return 0;
}

/* Ids a previous segd gave to names, from the pinned names map if any. */
static void pinned_hints(const char *pin_dir, struct comp_id_hint **hints,
			 size_t *n)
{
	struct mapw_fds fds;
	char path[PATH_MAX];
	int ret;

	*hints = NULL;
	*n = 0;
	snprintf(path, sizeof(path), "%s/%s", pin_dir, SEGD_MAP_NAMES);
	memset(&fds, -1, sizeof(fds));
	fds.names = bpf_obj_get(path);
	if (fds.names < 0) {
		if (errno != ENOENT)
			pr_warn("cannot open \"%s\" for id hints: %s", path,
				strerror(errno));
		return;
	}
	ret = mapw_read_hints(&fds, hints, n);
	if (ret)
		pr_warn("reading id hints from \"%s\": %s", path, strerror(-ret));
	else
		pr_debug("%zu id hints from %s", *n, path);
	close(fds.names);
}

static void rfc3339(time_t t, char *buf, size_t len)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/*
 * Compile the segment directory. On -EINVAL the diagnostics are in @diag;
 * other errors in @err. Hints come from @fds when given (reload) or from
 * the pin dir (start).
 */
static int segd_compile(struct segd *s, const struct mapw_fds *fds,
			struct ctl_policy *pol, struct cfg_diag *diag,
			char *err, size_t errlen)
{
	struct comp_id_hint *hints = NULL;
	struct comp_gw_addr *gw = NULL;
	size_t n_hints = 0, n_gw = 0;
	int ret;

	if (fds) {
		ret = mapw_read_hints(fds, &hints, &n_hints);
		if (ret)
			pr_warn("reading id hints: %s (ids may change)",
				strerror(-ret));
	} else {
		pinned_hints(s->pin_dir, &hints, &n_hints);
	}
	ret = gw_addrs(&gw, &n_gw);
	if (ret) {
		snprintf(err, errlen, "listing the gateway's addresses: %s",
			 strerror(-ret));
		goto out;
	}
	ret = ctl_policy_load(s->segments, gw, n_gw, hints, n_hints, pol, diag,
			      err, errlen);
out:
	free(hints);
	free(gw);
	return ret;
}

static void log_applied(const struct segd *s)
{
	const struct comp_policy *p = s->pol.comp;

	pr_info("policy generation %llu in force: %zu file%s, digest %.12s, %zu ids, %zu host4, %zu host6, %zu lpm4, %zu lpm6, %zu macs, %zu allows",
		(unsigned long long)s->generation, s->pol.n_files,
		s->pol.n_files == 1 ? "" : "s", p->digest, p->n_ids,
		p->n_host4, p->n_host6, p->n_lpm4, p->n_lpm6, p->n_macs,
		p->n_allows);
}

/*
 * Reload: re-read and compile; apply only a policy that compiled and fits.
 * On any failure the live policy stays, and *resp says why. Returns 0 or
 * a negative errno.
 */
static int segd_reload(struct segd *s, json_t **resp)
{
	struct ctl_policy pol;
	struct cfg_diag *diag;
	char err[1024] = "";
	uint64_t gen;
	json_t *warn;
	int ret;

	diag = calloc(1, sizeof(*diag));
	if (!diag) {
		*resp = ctl_error_response("out of memory");
		return -ENOMEM;
	}
	ret = segd_compile(s, &s->fds, &pol, diag, err, sizeof(err));
	if (ret) {
		pr_warn("reload refused, generation %llu stays in force: %s",
			(unsigned long long)s->generation, err);
		print_diags(diag);
		*resp = ctl_error_response("policy not applied: %s", err);
		if (*resp) {
			json_object_set_new(*resp, "errors",
					    ctl_diag_json(diag, CFG_ERROR));
			json_object_set_new(*resp, "warnings",
					    ctl_diag_json(diag, CFG_WARNING));
			json_object_set_new(*resp, "generation",
					    json_integer((json_int_t)s->generation));
		}
		goto out;
	}
	if (diag->n_warnings)
		print_diags(diag);
	ret = mapw_apply(&s->fds, pol.comp, &gen, err, sizeof(err));
	if (ret) {
		pr_warn("reload refused, generation %llu stays in force: %s",
			(unsigned long long)s->generation, err);
		*resp = ctl_error_response("policy not applied: %s", err);
		if (*resp)
			json_object_set_new(*resp, "generation",
					    json_integer((json_int_t)s->generation));
		ctl_policy_free(&pol);
		goto out;
	}
	ctl_policy_free(&s->pol);
	s->pol = pol;
	s->generation = gen;
	s->loaded_at = time(NULL);
	log_applied(s);

	warn = ctl_diag_json(diag, CFG_WARNING);
	ret = nftw_apply(s->nft_table, err, sizeof(err));
	if (ret) {
		/* The maps are live already; the table only feeds conntrack
		 * today and is retried on the next reload. */
		pr_warn("%s", err);
		if (warn)
			json_array_append_new(warn, json_pack("{s:s}", "message", err));
		ret = 0;
	}
	*resp = json_pack("{s:b, s:I, s:s, s:o}", "ok", 1,
			  "generation", (json_int_t)gen,
			  "digest", s->pol.comp->digest,
			  "warnings", warn ? warn : json_array());
out:
	free(diag);
	return ret;
}

static json_t *segd_status(struct segd *s)
{
	struct stat nsst;
	char when[64];
	json_t *ifs, *files, *o;
	size_t i;

	ifs = json_array();
	files = json_array();
	for (i = 0; ifs && i < s->n_ifs; i++) {
		struct ldr_iface_state st;
		json_t *e;

		if (ldr_iface_query(s->pin_dir, s->ifnames[i], ldr_prog_id(s->ldr),
				    &st)) {
			st.attached = false;
			st.mode = NULL;
		}
		e = json_pack("{s:s, s:i, s:b, s:o, s:s, s:b}", "name", st.name,
			      "ifindex", st.ifindex, "attached", st.attached,
			      "mode", st.mode ? json_string(st.mode) : json_null(),
			      "link_pin", st.link_pin, "pinned", st.pinned);
		json_array_append_new(ifs, e);
	}
	for (i = 0; files && i < s->pol.n_files; i++)
		json_array_append_new(files, json_string(s->pol.files[i]));
	rfc3339(s->loaded_at, when, sizeof(when));
	/* Lets segctl see whether it shares our network namespace (the nft
	 * table and the interfaces are per namespace). */
	if (stat("/proc/self/ns/net", &nsst))
		nsst.st_ino = 0;
	o = json_pack("{s:b, s:i, s:o, s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:o, s:s, s:o, s:I}",
		      "ok", 1, "pid", (int)getpid(),
		      "interfaces", ifs ? ifs : json_array(),
		      "xdp_mode", s->mode == LDR_XDP_SKB ? "skb" : "native",
		      "pin_dir", s->pin_dir, "run_dir", s->run_dir,
		      "nft_table", s->nft_table, "segments_dir", s->segments,
		      "generation", (json_int_t)s->generation,
		      "digest", s->pol.comp->digest,
		      "files", files ? files : json_array(),
		      "loaded_at", when,
		      "counts", ctl_counts_json(s->pol.comp),
		      "prog_id", (json_int_t)ldr_prog_id(s->ldr));
	if (o)
		json_object_set_new(o, "netns", json_integer((json_int_t)nsst.st_ino));
	return o ? o : ctl_error_response("out of memory");
}

static json_t *segd_handle(const char *line, size_t len, void *ctx)
{
	struct segd *s = ctx;
	struct ctl_request req;
	char err[512];
	json_t *r;

	if (ctl_parse_line(line, len, &req, err, sizeof(err))) {
		pr_debug("refused request: %s", err);
		return ctl_error_response("%s", err);
	}
	pr_debug("request: %s", ctl_cmd_name(req.cmd));
	switch (req.cmd) {
	case CTL_CMD_STATUS:
		return segd_status(s);
	case CTL_CMD_RELOAD:
		pr_info("reload requested over the control socket");
		segd_reload(s, &r);
		return r;
	case CTL_CMD_EXPLAIN:
		r = ctl_explain(s->pol.comp, &req);
		if (!r)
			return ctl_error_response("out of memory");
		json_object_set_new(r, "ok", json_true());
		json_object_set_new(r, "generation",
				    json_integer((json_int_t)s->generation));
		return r;
	case CTL_CMD_STOP:
		pr_info("stop requested over the control socket; enforcement stays in place");
		s->stop = true;
		return json_pack("{s:b, s:i}", "ok", 1, "pid", (int)getpid());
	}
	return ctl_error_response("unhandled request");
}

static void conn_close(struct segd *s, size_t i)
{
	struct ctl_conn *c = &s->conns[i];

	epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->buf);
	c->fd = -1;
	c->buf = NULL;
	c->len = 0;
}

static void on_accept(struct segd *s)
{
	for (;;) {
		struct epoll_event ev = { .events = EPOLLIN };
		json_t *r;
		uid_t uid = (uid_t)-1;
		size_t i;
		int fd, ok;

		fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR)
				pr_warn("accept on the control socket: %s",
					strerror(errno));
			return;
		}
		ok = ctl_peer_allowed(fd, &uid);
		if (ok <= 0) {
			r = ctl_error_response("permission denied: uid %d may not talk to segd",
					       (int)uid);
			pr_warn("refused a control connection from uid %d",
				(int)uid);
			if (r) {
				ctl_send(fd, r, 500);
				json_decref(r);
			}
			close(fd);
			continue;
		}
		for (i = 0; i < CTL_MAX_CLIENTS && s->conns[i].fd >= 0; i++)
			;
		if (i == CTL_MAX_CLIENTS) {
			r = ctl_error_response("too many connections");
			if (r) {
				ctl_send(fd, r, 500);
				json_decref(r);
			}
			close(fd);
			continue;
		}
		s->conns[i].fd = fd;
		s->conns[i].len = 0;
		ev.data.u64 = ((uint64_t)EV_CONN << 32) | i;
		if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev)) {
			pr_warn("epoll: %s", strerror(errno));
			close(fd);
			s->conns[i].fd = -1;
		}
	}
}

static void on_signal(struct segd *s)
{
	struct signalfd_siginfo si;
	json_t *r = NULL;

	while (read(s->sigfd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGHUP:
			pr_info("SIGHUP: reloading %s", s->segments);
			segd_reload(s, &r);
			json_decref(r);
			r = NULL;
			break;
		case SIGTERM:
		case SIGINT:
			pr_info("%s: exiting; XDP links, maps and nft table stay in place",
				strsignal((int)si.ssi_signo));
			s->stop = true;
			break;
		default:
			break;
		}
	}
}

static int serve(struct segd *s)
{
	struct epoll_event ev = { .events = EPOLLIN };
	sigset_t mask;
	size_t i;

	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s->epfd < 0)
		return -errno;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	s->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (s->sigfd < 0)
		return -errno;
	ev.data.u64 = (uint64_t)EV_SIGNAL << 32;
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->sigfd, &ev))
		return -errno;
	ev.data.u64 = (uint64_t)EV_LISTEN << 32;
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->lfd, &ev))
		return -errno;

	while (!s->stop) {
		struct epoll_event evs[16];
		int n, k;

		n = epoll_wait(s->epfd, evs, 16, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (k = 0; k < n; k++) {
			uint32_t type = (uint32_t)(evs[k].data.u64 >> 32);
			size_t idx = (size_t)(evs[k].data.u64 & 0xffffffffu);
			int ret;

			switch (type) {
			case EV_SIGNAL:
				on_signal(s);
				break;
			case EV_LISTEN:
				on_accept(s);
				break;
			case EV_CONN:
				if (s->conns[idx].fd < 0)
					break;
				ret = ctl_conn_read(&s->conns[idx], segd_handle, s);
				if (ret)
					conn_close(s, idx);
				break;
			}
		}
	}
	for (i = 0; i < CTL_MAX_CLIENTS; i++)
		if (s->conns[i].fd >= 0)
			conn_close(s, i);
	return 0;
}

static int start(struct segd *s)
{
	bool created[SEGD_MAX_IFACES] = { false };
	struct cfg_diag *diag = NULL;
	char err[2048] = "";
	size_t i;
	int ret;

	ret = ldr_check_bpffs(s->pin_dir, err, sizeof(err));
	if (ret) {
		pr_err("%s", err);
		return ret;
	}
	ret = mkdirs(s->run_dir, 0755);
	if (ret) {
		pr_err("cannot create run dir \"%s\": %s", s->run_dir,
			strerror(-ret));
		return ret;
	}
	ret = pid_lock(s);
	if (ret)
		return ret;
	/* A socket left by a killed segd would tell clients we are up. */
	{
		char sock[PATH_MAX];

		if (!ctl_sock_path(s->run_dir, sock, sizeof(sock)))
			unlink(sock);
	}

	diag = calloc(1, sizeof(*diag));
	if (!diag)
		return -ENOMEM;
	ret = segd_compile(s, NULL, &s->pol, diag, err, sizeof(err));
	print_diags(diag);
	free(diag);
	if (ret) {
		pr_err("%s; nothing was changed", err);
		return ret;
	}

	s->ldr = ldr_open_load(s->pin_dir, s->mode, err, sizeof(err));
	if (!s->ldr) {
		ret = -errno;
		pr_err("%s", err);
		return ret;
	}
	ret = mapw_fds_from_obj(ldr_object(s->ldr), &s->fds);
	if (ret) {
		pr_err("the BPF object lacks a segd map: %s", strerror(-ret));
		return ret;
	}
	/* The policy is written before any interface runs the program. */
	ret = mapw_apply(&s->fds, s->pol.comp, &s->generation, err, sizeof(err));
	if (ret) {
		pr_err("applying the policy: %s", err);
		return ret;
	}
	s->loaded_at = time(NULL);
	log_applied(s);

	ret = nftw_apply(s->nft_table, err, sizeof(err));
	if (ret) {
		pr_err("%s", err);
		return ret;
	}
	pr_info("nft table inet %s in place", s->nft_table);

	for (i = 0; i < s->n_ifs; i++) {
		ret = ldr_attach(s->ldr, s->ifnames[i], &created[i], err,
				 sizeof(err));
		if (ret) {
			pr_err("%s", err);
			goto detach_new;
		}
	}

	s->lfd = ctl_listen(s->run_dir);
	if (s->lfd < 0) {
		ret = s->lfd;
		pr_err("cannot listen on %s/%s: %s", s->run_dir,
			SEGD_SOCKET_NAME, strerror(-ret));
		goto detach_new;
	}
	pr_info("enforcing on %zu interface%s; control socket %s/%s",
		s->n_ifs, s->n_ifs == 1 ? "" : "s", s->run_dir,
		SEGD_SOCKET_NAME);
	return 0;

detach_new:
	/* A start that fails attaches nothing new: interfaces this start
	 * attached are detached again. Links adopted from a previous segd
	 * stay (they enforced before and still do). */
	for (i = 0; i < s->n_ifs; i++) {
		if (!created[i])
			continue;
		if (ldr_unpin_link(s->pin_dir, s->ifnames[i]))
			pr_warn("%s: could not detach after the failed start",
				s->ifnames[i]);
		else
			pr_info("%s: detached again (start failed)", s->ifnames[i]);
	}
	return ret;
}

static void cleanup(struct segd *s)
{
	char sock[PATH_MAX];

	if (s->lfd >= 0) {
		close(s->lfd);
		/* Still under the pid lock: no other segd owns this path. */
		if (!ctl_sock_path(s->run_dir, sock, sizeof(sock)))
			unlink(sock);
	}
	if (s->sigfd >= 0)
		close(s->sigfd);
	if (s->epfd >= 0)
		close(s->epfd);
	ctl_policy_free(&s->pol);
	ldr_free(s->ldr);	/* closes fds; pins and links stay */
	if (s->pid_fd >= 0)
		close(s->pid_fd);	/* releases the lock */
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "segments", required_argument, NULL, 's' },
		{ "interface", required_argument, NULL, 'i' },
		{ "pin-dir", required_argument, NULL, 'p' },
		{ "run-dir", required_argument, NULL, 'r' },
		{ "nft-table", required_argument, NULL, 't' },
		{ "xdp-mode", required_argument, NULL, 'm' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct segd s;
	sigset_t mask;
	int verbose = 0, c, ret;
	size_t i;

	memset(&s, 0, sizeof(s));
	s.pin_dir = SEGD_DEFAULT_PIN_DIR;
	s.run_dir = SEGD_DEFAULT_RUN_DIR;
	s.nft_table = NFTW_DEFAULT_TABLE;
	s.mode = LDR_XDP_NATIVE;
	s.pid_fd = s.epfd = s.sigfd = s.lfd = -1;
	for (i = 0; i < CTL_MAX_CLIENTS; i++)
		s.conns[i].fd = -1;

	while ((c = getopt_long(argc, argv, "s:i:p:r:t:m:vh", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			s.segments = optarg;
			break;
		case 'i':
			if (s.n_ifs == SEGD_MAX_IFACES) {
				fprintf(stderr, "segd: at most %d interfaces\n",
					SEGD_MAX_IFACES);
				return 2;
			}
			s.ifnames[s.n_ifs++] = optarg;
			break;
		case 'p':
			s.pin_dir = optarg;
			break;
		case 'r':
			s.run_dir = optarg;
			break;
		case 't':
			s.nft_table = optarg;
			break;
		case 'm':
			if (!strcmp(optarg, "native")) {
				s.mode = LDR_XDP_NATIVE;
			} else if (!strcmp(optarg, "skb")) {
				s.mode = LDR_XDP_SKB;
			} else {
				fprintf(stderr, "segd: --xdp-mode \"%s\": use native or skb\n",
					optarg);
				return 2;
			}
			break;
		case 'v':
			verbose++;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "segd: unexpected argument \"%s\"\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (!s.segments || !s.n_ifs) {
		fprintf(stderr, "segd: %s is required\n",
			!s.segments ? "--segments" : "--interface");
		usage(stderr);
		return 2;
	}
	log_init("segd", verbose >= 2 ? LOG_LVL_TRACE :
			 verbose ? LOG_LVL_DEBUG : LOG_LVL_INFO);
	log_libbpf_setup();

	if (!nftw_valid_name(s.nft_table)) {
		pr_err("--nft-table \"%s\": use a letter, then letters, digits, '_' or '-' (at most %d)",
			s.nft_table, NFTW_TABLE_MAX - 1);
		return 1;
	}
	if (s.pin_dir[0] != '/' || s.run_dir[0] != '/') {
		pr_err("--pin-dir and --run-dir must be absolute paths (\"%s\")",
			s.pin_dir[0] != '/' ? s.pin_dir : s.run_dir);
		return 1;
	}
	for (i = 0; i < s.n_ifs; i++) {
		size_t j;

		if (!if_nametoindex(s.ifnames[i])) {
			pr_err("no such interface \"%s\"", s.ifnames[i]);
			return 1;
		}
		for (j = 0; j < i; j++) {
			if (!strcmp(s.ifnames[i], s.ifnames[j])) {
				pr_err("interface \"%s\" given twice", s.ifnames[i]);
				return 1;
			}
		}
	}

	/* Signals are read from the signalfd, in the loop; block them first
	 * so none is lost during start-up. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);

	ret = start(&s);
	if (!ret) {
		ret = serve(&s);
		if (ret)
			pr_err("event loop: %s", strerror(-ret));
	}
	cleanup(&s);
	return ret ? 1 : 0;
}
