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
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <jansson.h>

#include "../include/segd_abi.h"
#include "compile.h"
#include "config.h"
#include "ctl.h"
#include "isolate.h"
#include "loader.h"
#include "linkwatch.h"
#include "log.h"
#include "mapwriter.h"
#include "nftwatch.h"
#include "nftwriter.h"
#include "telsrv.h"

#define SEGD_MAX_IFACES 64
#define SEGD_WATCH_DELAY_MS 500	/* --watch: quiet time before a reload */

/*
 * --max-* options: how many entries of each kind ONE policy may hold. The
 * slotted maps get twice that (old and new generation side by side during
 * a switch); the names and counters maps are not slotted.
 */
enum segd_cap { CAP_HOSTS, CAP_PREFIXES, CAP_MACS, CAP_RULES, CAP_IDS,
		CAP_COUNTERS, CAP__N };
#define SEGD_CAP_MAX (1u << 26)

struct segd {
	/* options */
	const char *segments;
	const char *ifnames[SEGD_MAX_IFACES];
	size_t n_ifs;
	const char *pin_dir;
	const char *run_dir;
	const char *nft_table;
	enum ldr_xdp_mode mode;
	struct tsrv_opts tel;	/* --events, --metrics-*: telsrv.h */
	uint32_t caps[CAP__N];	/* 0: the build's default */
	bool watch;
	long watch_ms;
	const char *state_dir;	/* --state-dir: isolation state, audit log */
	uint64_t max_iso_s;	/* --max-isolation */
	uint64_t max_bg_s;	/* --max-breakglass */

	/* state */
	int pid_fd;
	int pin_fd;		/* flock on the pin dir: one segd per pin dir */
	struct ldr *ldr;
	struct mapw_fds fds;
	struct ctl_policy pol;	/* the policy in force, for status/explain */
	uint64_t generation;
	time_t loaded_at;
	int epfd, sigfd, lfd;
	struct tsrv *tsrv;	/* ring buffer, metrics: in the epoll loop */
	struct lw *lw;		/* link changes: reattach (linkwatch.h) */
	struct nftwatch *nw;	/* nft table deleted: recreate (nftwatch.h) */
	int infd, tfd;		/* --watch: inotify on the segments dir, debounce */
	struct ctl_conn conns[CTL_MAX_CLIENTS];
	int cur_fd;		/* connection whose request is being handled */
	struct iso *iso;	/* isolation (isolate.h) */
	bool stop;
};

#define EV_TEL 16	/* telsrv's registrations; low 32 bits: its sub-id */
#define EV_LINK 24	/* linkwatch */
#define EV_NFT 25	/* nftwatch */
#define EV_ISO 26	/* isolation expiry timer (isolate.h) */
enum { EV_SIGNAL = 1, EV_LISTEN = 2, EV_CONN = 3, EV_INOTIFY = 4, EV_TIMER = 5 };

static void usage(FILE *f)
{
	fprintf(f,
		"usage: segd --segments DIR --interface IF [--interface IF ...]\n"
		"            [--pin-dir DIR] [--run-dir DIR] [--nft-table NAME]\n"
		"            [--xdp-mode native|skb] [--watch [--watch-delay MS]]\n"
		"            [--no-rpf] [--state-dir DIR] [--max-isolation DURATION]\n"
		"            [--max-breakglass DURATION]\n"
		"            [--max-hosts N] [--max-prefixes N] [--max-macs N]\n"
		"            [--max-rules N] [--max-identities N] [--max-counters N] [-v]\n"
		"\n"
		"  --segments DIR     segment files (*.json) to enforce\n"
		"  --interface IF     gateway interface facing a segment (repeat)\n"
		"  --pin-dir DIR      bpffs directory for maps and links (default %s)\n"
		"  --run-dir DIR      control socket and pid file (default %s)\n"
		"  --nft-table NAME   nftables table inet NAME (default %s)\n"
		"  --xdp-mode MODE    native (default; refuses interfaces without\n"
		"                     driver support) or skb (generic)\n"
		"  --watch            reload when a file of the segments dir changes\n"
		"  --watch-delay MS   quiet time after the last change (default %d)\n"
		"  --no-rpf           no reverse-path check of source addresses\n"
		"                     (asymmetric or multipath routing)\n"
		"  --state-dir DIR    isolation state and audit log (default\n"
		"                     " ISO_DEFAULT_STATE_DIR ")\n"
		"  --max-isolation D  longest `segctl isolate --for` (default 7d)\n"
		"  --max-breakglass D longest `segctl breakglass --for` (default 24h)\n"
		"  --max-hosts N      host addresses one policy may hold (IPv4 and\n"
		"                     IPv6 each; default %u); likewise --max-prefixes\n"
		"                     (default %u), --max-macs (%u), --max-rules (allow\n"
		"                     entries, %u), --max-identities (%u), --max-counters\n"
		"                     (%u). Applied when the maps are created; pinned\n"
		"                     maps keep their size until a teardown\n"
		TSRV_USAGE
		"  -v, --verbose      more logging (-vv: libbpf's too)\n"
		"\n"
		"Runs in the foreground and logs to stderr. SIGHUP reloads the\n"
		"segment files; SIGTERM exits and leaves enforcement in place.\n",
		SEGD_DEFAULT_PIN_DIR, SEGD_DEFAULT_RUN_DIR, NFTW_DEFAULT_TABLE,
		SEGD_WATCH_DELAY_MS, SEGD_MAX_HOSTS / 2, SEGD_MAX_PREFIXES / 2,
		SEGD_MAX_MACS / 2, SEGD_MAX_POLICY / 2, SEGD_MAX_IDENTITIES,
		SEGD_MAX_COUNTERS);
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
	/* up to two per entry: an IPv4 address and its broadcast */
	v = calloc(cnt ? 2 * cnt : 1, sizeof(*v));
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
			/* The subnet's broadcast is delivered here too, never
			 * forwarded (docs/datapath.md step 8). */
			sin = (void *)i->ifa_broadaddr;
			if ((i->ifa_flags & IFF_BROADCAST) && sin &&
			    sin->sin_family == AF_INET &&
			    sin->sin_addr.s_addr != INADDR_ANY) {
				v[cnt].family = AF_INET;
				memcpy(v[cnt].addr, &sin->sin_addr, 4);
				cnt++;
			}
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
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
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

/*
 * Take an exclusive flock on the pin directory itself. The run-dir lock
 * alone let a second segd with another --run-dir but the same --pin-dir
 * write its policy into the live maps; two writers of one set of maps can
 * leave the active slot empty. The lock goes with the process.
 */
static int pin_lock(struct segd *s)
{
	int fd, ret;

	ret = mkdirs(s->pin_dir, 0700);
	if (ret) {
		pr_err("cannot create pin dir \"%s\": %s", s->pin_dir,
			strerror(-ret));
		return ret;
	}
	fd = open(s->pin_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		pr_err("cannot open pin dir \"%s\": %s", s->pin_dir,
			strerror(errno));
		return ret;
	}
	{
		/* The bpffs root is shared with every other BPF user, and
		 * teardown removes the pin dir: segd wants its own. */
		struct stat a, b;
		char parent[PATH_MAX];

		snprintf(parent, sizeof(parent), "%s/..", s->pin_dir);
		if (!fstat(fd, &a) && !stat(parent, &b) && a.st_dev != b.st_dev) {
			pr_err("pin dir \"%s\" is the root of a bpffs mount; use a directory of its own below it, e.g. %s",
				s->pin_dir, SEGD_DEFAULT_PIN_DIR);
			close(fd);
			return -EINVAL;
		}
	}
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		ret = -errno;
		if (errno == EWOULDBLOCK)
			pr_err("another segd is already using pin dir \"%s\" (its lock is held); refusing to start",
				s->pin_dir);
		else
			pr_err("cannot lock pin dir \"%s\": %s", s->pin_dir,
				strerror(errno));
		close(fd);
		return ret;
	}
	s->pin_fd = fd;
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
	lw_check_all(s->lw, "reload");
	nftwatch_check(s->nw, "reload");
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
	iso_bg_check(s->iso, s->pol.comp, s->generation);

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
	if (o && tsrv_events_path(s->tsrv))
		json_object_set_new(o, "events_file",
				    json_string(tsrv_events_path(s->tsrv)));
	return o ? o : ctl_error_response("out of memory");
}

static json_t *segd_handle(const char *line, size_t len, void *ctx)
{
	struct segd *s = ctx;
	struct segd_bg_key *bgk = NULL;
	struct ctl_request req;
	char err[512];
	json_t *r;

	{
		/* isolate, release, isolated, history, breakglass,
		 * breakglass_list, revoke: isolate.c's */
		json_t *obj = json_loadb(line, len, JSON_REJECT_DUPLICATES,
					 NULL);
		uid_t uid = (uid_t)-1;

		if (obj && s->cur_fd >= 0)
			ctl_peer_allowed(s->cur_fd, &uid);
		r = obj ? iso_handle(s->iso, obj, uid, s->pol.comp,
				     s->generation) : NULL;
		json_decref(obj);
		if (r)
			return r;
	}
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
		req.probe.src_isolated = iso_has(s->iso, req.probe.family,
						 req.probe.src);
		req.probe.dst_isolated = iso_has(s->iso, req.probe.family,
						 req.probe.dst);
		req.probe.n_bg = iso_bg_keys(s->iso, &bgk);
		req.probe.bg = bgk;
		r = ctl_explain(s->pol.comp, &req);
		free(bgk);
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

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
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
			/* Full: the client that has been quiet longest makes
			 * room, so idle connections can never lock an operator
			 * out of status, apply or teardown. */
			size_t k;

			i = 0;
			for (k = 1; k < CTL_MAX_CLIENTS; k++)
				if (s->conns[k].last_ms < s->conns[i].last_ms)
					i = k;
			pr_warn("control socket full: closing the connection idle longest");
			conn_close(s, i);
		}
		s->conns[i].fd = fd;
		s->conns[i].len = 0;
		s->conns[i].last_ms = now_ms();
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
			tsrv_reopen(s->tsrv);
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

/*
 * --watch: every change of a *.json file in the segments directory (an
 * editor's write, a rename into place, a removal) re-arms a one-shot timer;
 * the reload runs when the directory has been quiet for watch_ms, so a
 * burst of writes (or a `cp` of several files) gives one reload. A reload
 * that fails keeps the live generation, as for SIGHUP.
 */
static int watch_start(struct segd *s)
{
	struct epoll_event ev = { .events = EPOLLIN };

	s->infd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (s->infd < 0)
		return -errno;
	if (inotify_add_watch(s->infd, s->segments,
			      IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM |
			      IN_DELETE | IN_CREATE | IN_DELETE_SELF |
			      IN_MOVE_SELF) < 0) {
		int ret = -errno;

		pr_err("--watch: cannot watch \"%s\": %s", s->segments,
		       strerror(errno));
		return ret;
	}
	s->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (s->tfd < 0)
		return -errno;
	ev.data.u64 = (uint64_t)EV_INOTIFY << 32;
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->infd, &ev))
		return -errno;
	ev.data.u64 = (uint64_t)EV_TIMER << 32;
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->tfd, &ev))
		return -errno;
	pr_info("watching %s for changes (reload %ld ms after the last one)",
		s->segments, s->watch_ms);
	return 0;
}

static bool is_json_name(const char *name)
{
	size_t n = strlen(name);

	return n > 5 && !strcmp(name + n - 5, ".json");
}

static void on_inotify(struct segd *s)
{
	char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
	struct itimerspec its = { 0 };
	bool changed = false;
	ssize_t n;

	while ((n = read(s->infd, buf, sizeof(buf))) > 0) {
		char *p = buf;

		while (p < buf + n) {
			const struct inotify_event *e = (const void *)p;

			if (e->mask & (IN_DELETE_SELF | IN_MOVE_SELF))
				pr_warn("--watch: \"%s\" was removed or moved; no more automatic reloads (SIGHUP or segctl apply still work)",
					s->segments);
			else if (e->len && is_json_name(e->name))
				changed = true;
			p += sizeof(*e) + e->len;
		}
	}
	if (!changed)
		return;
	its.it_value.tv_sec = s->watch_ms / 1000;
	its.it_value.tv_nsec = (s->watch_ms % 1000) * 1000000L;
	if (!its.it_value.tv_sec && !its.it_value.tv_nsec)
		its.it_value.tv_nsec = 1;
	if (timerfd_settime(s->tfd, 0, &its, NULL))
		pr_warn("--watch: arming the timer: %s", strerror(errno));
}

static void on_watch_timer(struct segd *s)
{
	uint64_t ticks;
	json_t *r = NULL;

	if (read(s->tfd, &ticks, sizeof(ticks)) != sizeof(ticks))
		return;
	pr_info("%s changed: reloading", s->segments);
	segd_reload(s, &r);
	json_decref(r);
}

static size_t iso_count_cb(const void *ctx)
{
	return ctx ? iso_count(ctx) : 0;
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
	{
		char err[512];

		s->tsrv = tsrv_new(&s->tel, ldr_object(s->ldr), s->epfd, EV_TEL,
				   err, sizeof(err));
		if (!s->tsrv) {
			pr_err("telemetry: %s", err);
			return -errno;
		}
		tsrv_set_isolated(s->tsrv, iso_count_cb, s->iso);
	}
	{
		char err[512];

		s->lw = lw_new(s->ldr, s->pin_dir, s->ifnames, s->n_ifs, s->epfd,
			       (uint64_t)EV_LINK << 32, err, sizeof(err));
		s->nw = s->lw ? nftwatch_new(s->nft_table, s->epfd,
					     (uint64_t)EV_NFT << 32, err,
					     sizeof(err)) : NULL;
		if (!s->nw) {
			pr_err("%s", err);
			return -errno;
		}
	}
	if (s->watch) {
		int ret = watch_start(s);

		if (ret)
			return ret;
	}
	ev.data.u64 = (uint64_t)EV_ISO << 32;
	if (s->iso && epoll_ctl(s->epfd, EPOLL_CTL_ADD, iso_timer_fd(s->iso),
				&ev))
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
			case EV_INOTIFY:
				on_inotify(s);
				break;
			case EV_TIMER:
				on_watch_timer(s);
				break;
			case EV_TEL:
				tsrv_handle(s->tsrv, (uint32_t)idx);
				break;
			case EV_LINK:
				lw_handle(s->lw);
				break;
			case EV_NFT:
				nftwatch_handle(s->nw);
				break;
			case EV_ISO:
				iso_expire(s->iso, s->generation);
				break;
			case EV_CONN:
				if (s->conns[idx].fd < 0)
					break;
				s->conns[idx].last_ms = now_ms();
				s->cur_fd = s->conns[idx].fd;
				ret = ctl_conn_read(&s->conns[idx], segd_handle, s);
				s->cur_fd = -1;
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

/* @keep_old: leave the old slot's entries (mapw_apply_keep_old). */
static int start_apply(struct segd *s, bool keep_old, char *err,
		       size_t errlen)
{
	int ret;

	ret = keep_old ? mapw_apply_keep_old(&s->fds, s->pol.comp,
					     &s->generation, err, errlen) :
			 mapw_apply(&s->fds, s->pol.comp, &s->generation, err,
				    errlen);
	if (ret) {
		pr_err("applying the policy: %s", err);
		return ret;
	}
	s->loaded_at = time(NULL);
	log_applied(s);
	return 0;
}

static int start(struct segd *s)
{
	bool created[SEGD_MAX_IFACES] = { false };
	bool policy_live, upgraded_cfg;
	uint32_t old_slot = 0;
	struct cfg_diag *diag = NULL;
	char err[2048] = "";
	size_t i;
	int ret;

	/* Outputs first: a segd that cannot write its events file must say
	 * so before it touches the kernel, not after it enforces (under
	 * Restart=on-failure it would swap the program again and again). */
	if (s->tel.events && strcmp(s->tel.events, "-")) {
		int fd = open(s->tel.events,
			      O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);

		if (fd < 0) {
			ret = -errno;
			pr_err("cannot open events file \"%s\": %s; nothing was changed",
				s->tel.events, strerror(errno));
			return ret;
		}
		close(fd);
	}

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
	ret = pin_lock(s);
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

	{
		const uint32_t *c = s->caps;
		const struct ldr_cap caps[] = {
			{ SEGD_MAP_HOST4, 2 * c[CAP_HOSTS] },
			{ SEGD_MAP_HOST6, 2 * c[CAP_HOSTS] },
			{ SEGD_MAP_LPM4, 2 * c[CAP_PREFIXES] },
			{ SEGD_MAP_LPM6, 2 * c[CAP_PREFIXES] },
			{ SEGD_MAP_MAC, 2 * c[CAP_MACS] },
			{ SEGD_MAP_POLICY, 2 * c[CAP_RULES] },
			{ SEGD_MAP_NAMES, c[CAP_IDS] },
			{ SEGD_MAP_COUNTERS, c[CAP_COUNTERS] },
		};

		s->ldr = ldr_open_load(s->pin_dir, s->mode, caps,
				       sizeof(caps) / sizeof(caps[0]), err,
				       sizeof(err));
	}
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
	/* Upgrade: a config map of a new layout starts empty; take the live
	 * slot and the numbering from the old one, which the old program is
	 * still using, so the apply below fills the other slot. */
	ret = mapw_adopt_config(&s->fds, s->pin_dir, err, sizeof(err));
	if (ret < 0) {
		pr_err("adopting an older config map: %s", strerror(-ret));
		return ret;
	}
	if (ret > 0)
		pr_warn("%s is new in this build: took the live slot and generation from %s (layout changed)",
			SEGD_MAP_CONFIG, err);
	upgraded_cfg = ret > 0;
	if (upgraded_cfg) {
		struct segd_config c;

		if (!mapw_read_config(&s->fds, &c))
			old_slot = c.slot;
	}
	/* With no policy live yet, the policy is written before any
	 * interface runs the program (it would drop everything as
	 * no_policy). With one live (adopted maps), the interfaces are
	 * attached first and the new policy applied last, so a start that
	 * fails (an interface cannot take XDP) leaves the old policy in
	 * force, not half of a new start. */
	{
		struct segd_config live;

		/* A config taken over from an older layout (ret > 0) goes
		 * with maps this program has not filled yet: apply first.
		 * So does any map created by this start (an upgrade changed
		 * its layout): the new program must not run on it empty. */
		policy_live = ret == 0 && ldr_n_created(s->ldr) == 0 &&
			      !mapw_read_config(&s->fds, &live) &&
			      (live.flags & SEGD_CFG_LOADED);
	}
	if (!policy_live) {
		/* After a config upgrade the old program reads the old slot
		 * through its old config map until its link is updated: its
		 * entries go only after the attach below. */
		ret = start_apply(s, upgraded_cfg, err, sizeof(err));
		if (ret) {
			if (ldr_unpin_if_first(s->ldr) > 0)
				pr_info("removed the maps this start created under %s",
					s->pin_dir);
			return ret;
		}
	}

	/* Isolation is restored into its pinned map before any interface
	 * this start attaches judges a packet (isolate.h). */
	{
		struct bpf_map *m = bpf_object__find_map_by_name(
			ldr_object(s->ldr), SEGD_MAP_ISOLATED);

		ret = m ? iso_open(&s->iso, s->state_dir, s->max_iso_s,
				   bpf_map__fd(m), s->generation, err,
				   sizeof(err)) : -ENOENT;
		if (ret) {
			pr_err("isolation: %s; refusing to start (the pinned program and maps stay in force)",
			       m ? err : "the BPF object has no " SEGD_MAP_ISOLATED);
			return ret;
		}
		m = bpf_object__find_map_by_name(ldr_object(s->ldr),
						 SEGD_MAP_BREAKGLASS);
		ret = m ? iso_bg_open(s->iso, bpf_map__fd(m), s->max_bg_s,
				      s->generation, err, sizeof(err)) : -ENOENT;
		if (ret) {
			pr_err("break-glass: %s; refusing to start (the pinned program and maps stay in force)",
			       m ? err : "the BPF object has no " SEGD_MAP_BREAKGLASS);
			return ret;
		}
		iso_bg_check(s->iso, s->pol.comp, s->generation);
	}

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

	if (policy_live) {
		ret = start_apply(s, false, err, sizeof(err));
		if (ret)
			goto detach_new;
	}
	if (upgraded_cfg) {
		ret = mapw_drop_slot(&s->fds, old_slot);
		if (ret)
			pr_warn("removing the generation of the old config: %s (cleared on the next apply)",
				strerror(-ret));
	}

	/* Every interface runs the new program now: maps of another
	 * build's layout are no longer read by anything of ours. */
	ldr_remove_stale_pins(s->ldr);

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
	if (s->infd >= 0)
		close(s->infd);
	if (s->tfd >= 0)
		close(s->tfd);
	lw_free(s->lw);
	nftwatch_free(s->nw);
	if (s->epfd >= 0)
		close(s->epfd);
	tsrv_free(s->tsrv);	/* before ldr_free: it reads the maps */
	ctl_policy_free(&s->pol);
	iso_free(s->iso);
	ldr_free(s->ldr);	/* closes fds; pins and links stay */
	if (s->pin_fd >= 0)
		close(s->pin_fd);	/* releases the pin dir lock */
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
		{ "watch", no_argument, NULL, 'W' },
		{ "state-dir", required_argument, NULL, 0x300 },
		{ "max-isolation", required_argument, NULL, 0x301 },
		{ "max-breakglass", required_argument, NULL, 0x302 },
		{ "no-rpf", no_argument, NULL, 'N' },
		{ "watch-delay", required_argument, NULL, 'D' },
		{ "max-hosts", required_argument, NULL, 0x100 + CAP_HOSTS },
		{ "max-prefixes", required_argument, NULL, 0x100 + CAP_PREFIXES },
		{ "max-macs", required_argument, NULL, 0x100 + CAP_MACS },
		{ "max-rules", required_argument, NULL, 0x100 + CAP_RULES },
		{ "max-identities", required_argument, NULL, 0x100 + CAP_IDS },
		{ "max-counters", required_argument, NULL, 0x100 + CAP_COUNTERS },
		TSRV_LONG_OPTIONS,
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
	tsrv_opts_init(&s.tel);
	s.pid_fd = s.pin_fd = s.epfd = s.sigfd = s.lfd = s.infd = s.tfd = -1;
	s.watch_ms = SEGD_WATCH_DELAY_MS;
	s.state_dir = ISO_DEFAULT_STATE_DIR;
	s.max_iso_s = ISO_DEFAULT_MAX_S;
	s.max_bg_s = ISO_DEFAULT_MAX_BG_S;
	s.cur_fd = -1;
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
		case 'W':
			s.watch = true;
			break;
		case 0x300:
			s.state_dir = optarg;
			break;
		case 0x301:
			if (iso_parse_duration(optarg, &s.max_iso_s)) {
				fprintf(stderr, "segd: --max-isolation \"%s\": a duration like 90s, 15m, 12h, 7d\n",
					optarg);
				return 2;
			}
			break;
		case 0x302:
			if (iso_parse_duration(optarg, &s.max_bg_s)) {
				fprintf(stderr, "segd: --max-breakglass \"%s\": a duration like 90s, 15m, 12h\n",
					optarg);
				return 2;
			}
			break;
		case 'N':
			ldr_set_rpf(false);
			break;
		case 'D': {
			char *end;

			errno = 0;
			s.watch_ms = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || s.watch_ms < 0 ||
			    s.watch_ms > 600000) {
				fprintf(stderr, "segd: --watch-delay \"%s\": milliseconds, 0 to 600000\n",
					optarg);
				return 2;
			}
			break;
		}
		case 0x100 + CAP_HOSTS:
		case 0x100 + CAP_PREFIXES:
		case 0x100 + CAP_MACS:
		case 0x100 + CAP_RULES:
		case 0x100 + CAP_IDS:
		case 0x100 + CAP_COUNTERS: {
			unsigned long v;
			char *end;

			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno || *end || end == optarg || optarg[0] == '-' ||
			    v < (c == 0x100 + CAP_IDS ? 2 * SEGD_ID_FIRST : 1) ||
			    v > SEGD_CAP_MAX) {
				static const char *const cap_opt[CAP__N] = {
					"max-hosts", "max-prefixes", "max-macs",
					"max-rules", "max-identities",
					"max-counters",
				};

				fprintf(stderr, "segd: --%s \"%s\": a number from %d to %u\n",
					cap_opt[c - 0x100], optarg,
					c == 0x100 + CAP_IDS ? 2 * SEGD_ID_FIRST : 1,
					SEGD_CAP_MAX);
				return 2;
			}
			s.caps[c - 0x100] = (uint32_t)v;
			break;
		}
		case TSRV_OPT_BASE ... TSRV_OPT_END - 1: {
			char err[256];

			if (tsrv_parse_opt(&s.tel, c, optarg, err, sizeof(err))) {
				fprintf(stderr, "segd: %s\n", err);
				return 2;
			}
			break;
		}
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

	{
		char err[512];

		if (tsrv_check_opts(&s.tel, err, sizeof(err))) {
			pr_err("%s", err);
			return 1;
		}
		ldr_set_event_limits(s.tel.ev_rate, s.tel.ev_burst);
	}
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
