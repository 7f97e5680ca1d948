// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * segctl.c - the operator's tool. Asks segd over its control socket, reads
 * the pinned maps directly where that is enough (stats, status while segd
 * is down), and compiles segment files itself for check and offline
 * explain.
 *
 * Exit codes: 0 done, 1 refused / invalid / failed, 2 usage.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <glob.h>
#include <limits.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <jansson.h>

#include "../include/segd_abi.h"
#include "compile.h"
#include "config.h"
#include "ctl.h"
#include "isocli.h"
#include "jsonout.h"
#include "loader.h"
#include "log.h"
#include "mapwriter.h"
#include "nftwriter.h"
#include "telcli.h"
#include "telemetry.h"

#define EXIT_OK 0
#define EXIT_FAIL 1
#define EXIT_USAGE 2

#define CALL_TIMEOUT_MS 10000
#define RELOAD_TIMEOUT_MS 120000
#define STOP_WAIT_MS 10000

/* Global options, accepted before or after the command. */
static const char *g_pin_dir = SEGD_DEFAULT_PIN_DIR;
static const char *g_run_dir = SEGD_DEFAULT_RUN_DIR;
static const char *g_nft_table = NFTW_DEFAULT_TABLE;
static bool g_nft_table_set;

/* Every map segd pins; teardown removes these names and no others. */
static const char *const segd_maps[] = {
	SEGD_MAP_CONFIG, SEGD_MAP_HOST4, SEGD_MAP_HOST6, SEGD_MAP_LPM4,
	SEGD_MAP_LPM6, SEGD_MAP_MAC, SEGD_MAP_POLICY, SEGD_MAP_COUNTERS,
	SEGD_MAP_NAMES, SEGD_MAP_EVENTS, SEGD_MAP_EVLIMIT, SEGD_MAP_EVSTATS,
	SEGD_MAP_META, SEGD_MAP_ISOLATED, SEGD_MAP_BREAKGLASS,
};
#define N_SEGD_MAPS (sizeof(segd_maps) / sizeof(segd_maps[0]))

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *args;
	const char *help;
};

static int do_help(int argc, char **argv);
static int do_check(int argc, char **argv);
static int do_explain(int argc, char **argv);
static int do_stats(int argc, char **argv);
static int do_top(int argc, char **argv);
static int do_events(int argc, char **argv);
static int do_status(int argc, char **argv);
static int do_apply(int argc, char **argv);
static int do_teardown(int argc, char **argv);
static int do_isolation(int argc, char **argv);

static const struct cmd cmds[] = {
	{ "check", do_check, "DIR",
	  "parse and compile segment files without the kernel" },
	{ "explain", do_explain,
	  "--from ADDR --to ADDR --proto tcp|udp|icmp|icmpv6 [--port N]\n"
	  "          [--icmp-type N] [--src-mac MAC] [--segments DIR]",
	  "what the loaded policy (or DIR's) does to a new flow" },
	{ "stats", do_stats, "",
	  "counters per segment pair, verdict and reason, with rates since\n"
	  "      the previous call (pinned maps)" },
	{ "top", do_top, "[--once] [-n FRAMES] [--interval S] [--file FILE]",
	  "live table of the busiest dropping pairs and sources" },
	{ "events", do_events,
	  "[--follow] [--segment S] [--reason R] [-n N] [--file FILE]",
	  "recent drop events from segd's events file (--follow: keep reading)" },
	{ "status", do_status, "",
	  "what segd enforces; what is pinned when segd is down" },
	{ "apply", do_apply, "",
	  "make segd reload its segment files" },
	{ "teardown", do_teardown, "--yes|-y",
	  "stop segd and remove enforcement: links, nft table, maps" },
	{ "isolate", do_isolation,
	  "HOST --reason TEXT [--for DURATION] [--ticket ID]",
	  "drop everything from or to HOST (address, MAC or device) but its\n"
	  "      remediation targets; end its connections" },
	{ "release", do_isolation, "HOST --reason TEXT",
	  "end the isolation of HOST" },
	{ "isolated", do_isolation, "", "hosts under isolation" },
	{ "history", do_isolation, "[--since TIME|DURATION]",
	  "the isolation and break-glass audit trail" },
	{ "breakglass", do_isolation,
	  "--from A --to B --service S --for DURATION --reason TEXT [--ticket ID]\n"
	  "      | list | revoke ID --reason TEXT",
	  "time-bound emergency allow of service S from segment or device A\n"
	  "      to B, over policy (never over isolation); lapses in the data path" },
	{ "help", do_help, "", "this help" },
};
#define N_CMDS (sizeof(cmds) / sizeof(cmds[0]))

static void usage(FILE *f)
{
	size_t i;

	fprintf(f,
		"usage: segctl [--pin-dir DIR] [--run-dir DIR] [--nft-table NAME] [--json]\n"
		"              COMMAND [ARGS]\n\ncommands:\n");
	for (i = 0; i < N_CMDS; i++)
		fprintf(f, "  %s%s%s\n      %s\n", cmds[i].name,
			*cmds[i].args ? " " : "", cmds[i].args, cmds[i].help);
	fprintf(f,
		"\nglobal options (before or after the command):\n"
		"  --pin-dir DIR     segd's bpffs pins (default %s)\n"
		"  --run-dir DIR     segd's socket and pid file (default %s)\n"
		"  --nft-table NAME  table teardown removes when segd is down\n"
		"                    (default %s)\n"
		"  --json            one JSON document on stdout, errors included\n"
		"\nexit status: 0 ok, 1 refused/invalid/failed, 2 usage\n",
		SEGD_DEFAULT_PIN_DIR, SEGD_DEFAULT_RUN_DIR, NFTW_DEFAULT_TABLE);
}

static int do_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	usage(stdout);
	return EXIT_OK;
}

/* Strict unsigned number in [0, max]; -1 if not. */
static long parse_num(const char *s, long max)
{
	char *end;
	long v;

	if (!s || *s < '0' || *s > '9')	/* no sign, no blank, no empty */
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < 0 || v > max)
		return -1;
	return v;
}

/* call - send {"cmd": CMD} to segd; the request is ours to release. */
/* isolate, release, isolated, history: isocli.c */
static int do_isolation(int argc, char **argv)
{
	return isocli_run(g_run_dir, argc, argv);
}

static int call(const char *cmd, json_t **resp, int timeout_ms, char *err,
		size_t errlen)
{
	json_t *rq = json_pack("{s:s}", "cmd", cmd);
	int ret;

	*resp = NULL;
	if (!rq) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	ret = ctl_call(g_run_dir, rq, resp, timeout_ms, err, errlen);
	json_decref(rq);
	return ret;
}

/* ------------------------------------------------------------------ */
/* check                                                                */
/* ------------------------------------------------------------------ */

static json_t *summary_json(const struct ctl_policy *p)
{
	const struct comp_policy *c = p->comp;
	size_t entries = c->n_host4 + c->n_host6 + c->n_lpm4 + c->n_lpm6 +
			 c->n_macs + c->n_allows;
	json_t *files = json_array();
	size_t i;

	for (i = 0; files && i < p->n_files; i++)
		json_array_append_new(files, json_string(p->files[i]));
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:s, s:o}",
			 "segments", (json_int_t)p->n_segments,
			 "devices", (json_int_t)p->n_devices,
			 "services", (json_int_t)p->n_services,
			 "rules", (json_int_t)p->n_rules,
			 "identities", (json_int_t)c->n_ids,
			 "entries", (json_int_t)entries,
			 "counts", ctl_counts_json(c),
			 "digest", c->digest,
			 "files", files ? files : json_array());
}

static void print_diag_lines(const struct cfg_diag *d)
{
	char line[1024];
	size_t i;

	for (i = 0; i < d->n; i++) {
		cfg_diag_format(d, i, line, sizeof(line));
		printf("%s\n", line);
	}
	if (d->n_errors + d->n_warnings > d->n)
		printf("(%zu more diagnostics not shown)\n",
		       d->n_errors + d->n_warnings - d->n);
}

static int do_check(int argc, char **argv)
{
	struct ctl_policy pol;
	struct cfg_diag *diag;
	char err[1024] = "";
	int ret, rc;

	if (argc != 2)
		return jo_usage("check takes one argument: the segment directory%s",
				   "");
	diag = calloc(1, sizeof(*diag));
	if (!diag) {
		jo_error("out of memory");
		return EXIT_FAIL;
	}
	ret = ctl_policy_load(argv[1], NULL, 0, NULL, 0, &pol, diag, err,
			      sizeof(err));
	if (jo_json()) {
		json_t *o;

		if (ret && ret != -EINVAL && !diag->n_errors) {
			jo_error_obj(json_pack("{s:b, s:o, s:o}", "ok", 0,
					       "errors", json_array(),
					       "warnings",
					       ctl_diag_json(diag, CFG_WARNING)),
				     "%s", err);
			rc = EXIT_FAIL;
			goto out;
		}
		o = json_pack("{s:b, s:o, s:o}", "ok", ret == 0,
			      "errors", ctl_diag_json(diag, CFG_ERROR),
			      "warnings", ctl_diag_json(diag, CFG_WARNING));
		if (o && !ret)
			json_object_set_new(o, "summary", summary_json(&pol));
		jo_emit(o);
		rc = ret ? EXIT_FAIL : EXIT_OK;
		goto out;
	}
	print_diag_lines(diag);
	if (ret == -EINVAL) {
		printf("%s: %zu error%s, %zu warning%s: nothing would be applied\n",
		       argv[1], diag->n_errors, diag->n_errors == 1 ? "" : "s",
		       diag->n_warnings, diag->n_warnings == 1 ? "" : "s");
		rc = EXIT_FAIL;
	} else if (ret) {
		jo_error("%s", err);
		rc = EXIT_FAIL;
	} else {
		const struct comp_policy *c = pol.comp;

		printf("%s: ok: segments %zu, devices %zu, services %zu, rules %zu, identities %zu, entries %zu (host4 %zu, host6 %zu, lpm4 %zu, lpm6 %zu, macs %zu, allows %zu)%s\n",
		       argv[1], pol.n_segments, pol.n_devices, pol.n_services,
		       pol.n_rules, c->n_ids,
		       c->n_host4 + c->n_host6 + c->n_lpm4 + c->n_lpm6 +
			       c->n_macs + c->n_allows,
		       c->n_host4, c->n_host6, c->n_lpm4, c->n_lpm6, c->n_macs,
		       c->n_allows, diag->n_warnings ? ", with warnings" : "");
		rc = EXIT_OK;
	}
out:
	if (!ret)
		ctl_policy_free(&pol);
	free(diag);
	return rc;
}

/* ------------------------------------------------------------------ */
/* explain                                                              */
/* ------------------------------------------------------------------ */

static int print_explain(json_t *res)
{
	char line[1024];

	json_object_del(res, "ok");
	if (jo_json()) {
		jo_emit(json_incref(res));
		return EXIT_OK;
	}
	if (ctl_explain_text(res, line, sizeof(line))) {
		jo_error("incomplete explain answer");
		return EXIT_FAIL;
	}
	printf("%s\n", line);
	return EXIT_OK;
}

static int do_explain(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "proto", required_argument, NULL, 'P' },
		{ "port", required_argument, NULL, 'p' },
		{ "icmp-type", required_argument, NULL, 'T' },
		{ "src-mac", required_argument, NULL, 'm' },
		{ "segments", required_argument, NULL, 's' },
		{ 0 },
	};
	const char *from = NULL, *to = NULL, *proto = NULL, *mac = NULL;
	const char *segments = NULL;
	long port = -1, icmp_type = -1;
	struct ctl_request req;
	json_t *rq, *resp = NULL;
	char err[1024] = "";
	int c, rc = EXIT_FAIL, ret;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			from = optarg;
			break;
		case 't':
			to = optarg;
			break;
		case 'P':
			proto = optarg;
			break;
		case 'p':
			if (port >= 0)
				return jo_usage("explain: --port given twice%s", "");
			port = parse_num(optarg, 65535);
			if (port < 1) {
				/* a bad value is invalid input (1), like a bad
				 * address; a bad command line is usage (2) */
				jo_error("--port \"%s\" is not a port (1-65535)",
					 optarg);
				return EXIT_FAIL;
			}
			break;
		case 'T':
			if (icmp_type >= 0)
				return jo_usage("explain: --icmp-type given twice%s", "");
			icmp_type = parse_num(optarg, 255);
			if (icmp_type < 0) {
				jo_error("--icmp-type \"%s\" is not an ICMP type (0-255)",
					 optarg);
				return EXIT_FAIL;
			}
			break;
		case 'm':
			mac = optarg;
			break;
		case 's':
			segments = optarg;
			break;
		default:
			return jo_usage("explain: unknown or incomplete option \"%s\"",
					   argv[optind - 1]);
		}
	}
	if (optind < argc)
		return jo_usage("explain: unexpected argument \"%s\"",
				   argv[optind]);
	if (!from || !to || !proto)
		return jo_usage("explain needs --from, --to and --proto%s", "");

	rq = json_pack("{s:s, s:s, s:s, s:s}", "cmd", "explain", "from", from,
		       "to", to, "proto", proto);
	if (!rq) {
		jo_error("out of memory");
		return EXIT_FAIL;
	}
	if (port >= 0)
		json_object_set_new(rq, "port", json_integer(port));
	if (icmp_type >= 0)
		json_object_set_new(rq, "icmp_type", json_integer(icmp_type));
	if (mac)
		json_object_set_new(rq, "src_mac", json_string(mac));

	/* Validate here too, so a bad probe is refused the same way online
	 * and offline, before segd is asked. */
	if (ctl_parse_request(rq, &req, err, sizeof(err))) {
		jo_error("%s", err);
		goto out;
	}
	if (segments) {
		struct ctl_policy pol;
		struct cfg_diag *diag = calloc(1, sizeof(*diag));

		if (!diag) {
			jo_error("out of memory");
			goto out;
		}
		/* Offline: no gateway addresses (this may not be the gateway). */
		ret = ctl_policy_load(segments, NULL, 0, NULL, 0, &pol, diag,
				      err, sizeof(err));
		if (ret) {
			if (!jo_json())
				print_diag_lines(diag);
			jo_error_obj(json_pack("{s:o}", "errors",
					       ctl_diag_json(diag, CFG_ERROR)),
				     "%s", err);
			free(diag);
			goto out;
		}
		free(diag);
		resp = ctl_explain(pol.comp, &req);
		ctl_policy_free(&pol);
		if (!resp) {
			jo_error("out of memory");
			goto out;
		}
		rc = print_explain(resp);
		goto out;
	}
	ret = ctl_call(g_run_dir, rq, &resp, CALL_TIMEOUT_MS, err, sizeof(err));
	if (ret) {
		jo_error("%s%s", err,
			 ret == -ENOENT || ret == -ECONNREFUSED ?
			 " (use --segments DIR to explain offline)" : "");
		goto out;
	}
	if (!json_is_true(json_object_get(resp, "ok"))) {
		jo_error("%s", json_string_value(json_object_get(resp, "error")) ?:
			 "segd refused the request");
		goto out;
	}
	rc = print_explain(resp);
out:
	json_decref(resp);
	json_decref(rq);
	return rc;
}

/* ------------------------------------------------------------------ */
/* stats                                                                */
/* ------------------------------------------------------------------ */

/* stats, top and events live in telcli.c. */
static int do_stats(int argc, char **argv)
{
	struct tcli_env env = { g_pin_dir, g_run_dir };

	return tcli_stats(&env, argc, argv);
}

static int do_top(int argc, char **argv)
{
	struct tcli_env env = { g_pin_dir, g_run_dir };

	return tcli_top(&env, argc, argv);
}

static int do_events(int argc, char **argv)
{
	struct tcli_env env = { g_pin_dir, g_run_dir };

	return tcli_events(&env, argc, argv);
}

/* ------------------------------------------------------------------ */
/* what is pinned / running (status while down, teardown)               */
/* ------------------------------------------------------------------ */

struct pinned {
	char **links;		/* file names link_* */
	size_t n_links;
	bool maps[N_SEGD_MAPS];
	size_t n_maps;
};

static void pinned_free(struct pinned *p)
{
	size_t i;

	for (i = 0; i < p->n_links; i++)
		free(p->links[i]);
	free(p->links);
	memset(p, 0, sizeof(*p));
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int pinned_scan(const char *pin_dir, struct pinned *p)
{
	struct dirent *de;
	DIR *d;
	size_t i;

	memset(p, 0, sizeof(*p));
	d = opendir(pin_dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		if (!strncmp(de->d_name, SEGD_LINK_PIN_PREFIX,
			     strlen(SEGD_LINK_PIN_PREFIX))) {
			char **nl = realloc(p->links,
					    (p->n_links + 1) * sizeof(char *));

			if (!nl || !(nl[p->n_links] = strdup(de->d_name))) {
				if (nl)
					p->links = nl;
				closedir(d);
				return -ENOMEM;
			}
			p->links = nl;
			p->n_links++;
			continue;
		}
		for (i = 0; i < N_SEGD_MAPS; i++) {
			if (!strcmp(de->d_name, segd_maps[i]) && !p->maps[i]) {
				p->maps[i] = true;
				p->n_maps++;
			}
		}
	}
	closedir(d);
	if (p->n_links)
		qsort(p->links, p->n_links, sizeof(char *), cmp_str);
	return 0;
}

/* Link info of a pinned link: ifindex and program id. */
static int link_info(const char *path, __u32 *ifindex, __u32 *prog_id)
{
	struct bpf_link_info info;
	__u32 len = sizeof(info);
	int fd, ret = 0;

	*ifindex = *prog_id = 0;
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		ret = -errno;
	else if (info.type == BPF_LINK_TYPE_XDP)
		*ifindex = info.xdp.ifindex;
	*prog_id = info.prog_id;
	close(fd);
	return ret;
}

/*
 * Is a segd running for the run dir? Its flock on segd.pid says so.
 * Returns 1 (and its pid, if written) or 0.
 */
static int segd_running(const char *run_dir, int *pid)
{
	char path[PATH_MAX], buf[32];
	int fd, n, running = 0;

	*pid = 0;
	snprintf(path, sizeof(path), "%s/%s", run_dir, SEGD_PID_NAME);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (flock(fd, LOCK_SH | LOCK_NB)) {
		if (errno == EWOULDBLOCK) {
			running = 1;
			n = (int)read(fd, buf, sizeof(buf) - 1);
			buf[n > 0 ? n : 0] = '\0';
			*pid = atoi(buf);
		}
	} else {
		flock(fd, LOCK_UN);
	}
	close(fd);
	return running;
}

/*
 * The pinned record of the generation @cfg has in force (segd_meta_v1):
 * digest of its files and, in @when, the time of its switch (RFC 3339,
 * UTC). False when there is none, or when it describes another generation
 * (segd died between the switch and the record).
 */
static bool read_pinned_meta(const struct segd_config *cfg,
			     struct segd_meta *meta, char *when, size_t len)
{
	char path[PATH_MAX];
	__u32 zero = 0;
	struct tm tm;
	time_t t;
	int fd;
	bool ok;

	snprintf(path, sizeof(path), "%s/%s", g_pin_dir, SEGD_MAP_META);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return false;
	ok = !bpf_map_lookup_elem(fd, &zero, meta) &&
	     meta->generation == cfg->generation && meta->digest[0];
	close(fd);
	if (!ok)
		return false;
	meta->digest[sizeof(meta->digest) - 1] = '\0';
	t = (time_t)(meta->applied_ns / 1000000000ull);
	gmtime_r(&t, &tm);
	strftime(when, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return true;
}

static json_t *pinned_json(const struct pinned *p, struct segd_config *cfg,
			   bool have_cfg)
{
	json_t *links = json_array(), *maps = json_array(), *o;
	size_t i;

	for (i = 0; links && i < p->n_links; i++) {
		char path[PATH_MAX], ifname[IF_NAMESIZE] = "";
		__u32 ifindex = 0, prog_id = 0;

		snprintf(path, sizeof(path), "%s/%s", g_pin_dir, p->links[i]);
		link_info(path, &ifindex, &prog_id);
		if (ifindex)
			if_indextoname(ifindex, ifname);
		json_array_append_new(links,
			json_pack("{s:s, s:s, s:i, s:s, s:I}", "pin", path,
				  "interface", p->links[i] + strlen(SEGD_LINK_PIN_PREFIX),
				  "ifindex", (int)ifindex,
				  "ifname", ifname, "prog_id", (json_int_t)prog_id));
	}
	for (i = 0; maps && i < N_SEGD_MAPS; i++)
		if (p->maps[i])
			json_array_append_new(maps, json_string(segd_maps[i]));
	o = json_pack("{s:s, s:o, s:o}", "pin_dir", g_pin_dir,
		      "links", links ? links : json_array(),
		      "maps", maps ? maps : json_array());
	if (o && have_cfg) {
		struct segd_meta meta;
		char when[64];

		json_object_set_new(o, "generation",
				    json_integer((json_int_t)cfg->generation));
		json_object_set_new(o, "policy_loaded",
				    json_boolean(cfg->flags & SEGD_CFG_LOADED));
		if (read_pinned_meta(cfg, &meta, when, sizeof(when))) {
			json_object_set_new(o, "digest", json_string(meta.digest));
			json_object_set_new(o, "loaded_at", json_string(when));
		}
	}
	return o;
}

static bool read_pinned_config(struct segd_config *cfg)
{
	char path[PATH_MAX];
	__u32 zero = 0;
	int fd;
	bool ok;

	snprintf(path, sizeof(path), "%s/%s", g_pin_dir, SEGD_MAP_CONFIG);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return false;
	ok = !bpf_map_lookup_elem(fd, &zero, cfg);
	close(fd);
	return ok;
}

/* ------------------------------------------------------------------ */
/* status                                                               */
/* ------------------------------------------------------------------ */

static void print_status(const json_t *r)
{
	const json_t *ifs = json_object_get(r, "interfaces");
	const json_t *files = json_object_get(r, "files");
	const json_t *counts = json_object_get(r, "counts");
	const json_t *e;
	const char *k;
	size_t i;

	printf("segd: running (pid %lld)\n",
	       (long long)json_integer_value(json_object_get(r, "pid")));
	printf("policy: generation %lld, loaded %s, digest %s\n",
	       (long long)json_integer_value(json_object_get(r, "generation")),
	       json_string_value(json_object_get(r, "loaded_at")) ?: "?",
	       json_string_value(json_object_get(r, "digest")) ?: "?");
	printf("segments: %s\n",
	       json_string_value(json_object_get(r, "segments_dir")) ?: "?");
	printf("files:");
	json_array_foreach(files, i, e)
		printf(" %s", json_string_value(e));
	printf("\nentries:");
	json_object_foreach((json_t *)counts, k, e)
		printf(" %s %lld", k, (long long)json_integer_value(e));
	printf("\npin dir: %s\nrun dir: %s\nnft table: inet %s\n",
	       json_string_value(json_object_get(r, "pin_dir")) ?: "?",
	       json_string_value(json_object_get(r, "run_dir")) ?: "?",
	       json_string_value(json_object_get(r, "nft_table")) ?: "?");
	printf("interfaces:\n");
	json_array_foreach(ifs, i, e) {
		const json_t *mode = json_object_get(e, "mode");

		printf("  %-15s ifindex %-4lld %s %-6s %s\n",
		       json_string_value(json_object_get(e, "name")),
		       (long long)json_integer_value(json_object_get(e, "ifindex")),
		       json_is_true(json_object_get(e, "attached")) ?
			       "attached    " : "NOT ATTACHED",
		       json_is_string(mode) ? json_string_value(mode) : "-",
		       json_string_value(json_object_get(e, "link_pin")));
	}
}

/*
 * A configured interface without our program is a hole in enforcement:
 * adds "enforcing" (bool) and "not_attached" (names) to a running segd's
 * status, and "error" when some are missing. Returns how many.
 */
static int mark_detached(json_t *r)
{
	json_t *ifs = json_object_get(r, "interfaces"), *e, *names;
	char msg[1024] = "";
	size_t i, len = 0;
	int n = 0;

	names = json_array();
	json_array_foreach(ifs, i, e) {
		const char *name = json_string_value(json_object_get(e, "name"));

		if (json_is_true(json_object_get(e, "attached")))
			continue;
		n++;
		json_array_append_new(names, json_string(name ?: "?"));
		if (len < sizeof(msg))
			len += (size_t)snprintf(msg + len, sizeof(msg) - len, "%s%s",
						n > 1 ? ", " : "", name ?: "?");
	}
	json_object_set_new(r, "enforcing", json_boolean(n == 0));
	json_object_set_new(r, "not_attached", names ? names : json_array());
	if (n)
		json_object_set_new(r, "error",
			json_sprintf("segd's XDP program is not attached to %d configured interface%s: %s (interface missing, or its program was removed; segd reattaches when it reappears)",
				     n, n == 1 ? "" : "s", msg));
	return n;
}

static int do_status(int argc, char **argv)
{
	struct segd_config cfg;
	struct pinned p;
	json_t *resp = NULL, *o;
	char err[1024] = "";
	bool have_cfg;
	size_t i;
	int ret;

	if (argc != 1)
		return jo_usage("status takes no argument (\"%s\")", argv[1]);
	ret = call("status", &resp, CALL_TIMEOUT_MS, err, sizeof(err));
	if (!ret) {
		if (!json_is_true(json_object_get(resp, "ok"))) {
			jo_error("%s", json_string_value(json_object_get(resp, "error")) ?:
				 "segd refused the request");
			json_decref(resp);
			return EXIT_FAIL;
		}
		json_object_del(resp, "ok");
		json_object_set_new(resp, "running", json_true());
		ret = mark_detached(resp);
		if (jo_json())
			jo_emit(json_incref(resp));
		else
			print_status(resp);
		if (ret && !jo_json())
			printf("NOT ENFORCING: %s\n",
			       json_string_value(json_object_get(resp, "error")));
		json_decref(resp);
		return ret ? EXIT_FAIL : EXIT_OK;
	}
	if (ret != -ENOENT && ret != -ECONNREFUSED) {
		jo_error("%s", err);
		return EXIT_FAIL;
	}

	/* segd is down: report what the kernel still holds. */
	ret = pinned_scan(g_pin_dir, &p);
	if (ret) {
		jo_error("%s; and reading pin dir \"%s\": %s", err, g_pin_dir,
			 strerror(-ret));
		return EXIT_FAIL;
	}
	have_cfg = read_pinned_config(&cfg);
	if (jo_json()) {
		o = pinned_json(&p, &cfg, have_cfg);
		if (o) {
			json_object_set_new(o, "running", json_false());
			json_object_set_new(o, "error", json_string(err));
		}
		jo_emit(o);
		pinned_free(&p);
		return EXIT_FAIL;
	}
	printf("%s\n", err);
	if (!p.n_links && !p.n_maps) {
		printf("nothing pinned under %s: no enforcement in place\n",
		       g_pin_dir);
		pinned_free(&p);
		return EXIT_FAIL;
	}
	if (p.n_links)
		printf("pinned under %s (enforcement continues without segd):\n",
		       g_pin_dir);
	else
		printf("pinned under %s (no XDP link: nothing is enforced):\n",
		       g_pin_dir);
	for (i = 0; i < p.n_links; i++) {
		char path[PATH_MAX], ifname[IF_NAMESIZE] = "";
		__u32 ifindex, prog_id;

		snprintf(path, sizeof(path), "%s/%s", g_pin_dir, p.links[i]);
		if (link_info(path, &ifindex, &prog_id)) {
			printf("  link %s: unreadable\n", p.links[i]);
			continue;
		}
		if (ifindex)
			if_indextoname(ifindex, ifname);
		if (ifindex)
			printf("  link %s: XDP on %s (ifindex %u), prog id %u\n",
			       p.links[i], ifname[0] ? ifname : "?", ifindex,
			       prog_id);
		else
			printf("  link %s: defunct (interface gone)\n",
			       p.links[i]);
	}
	printf("  maps:");
	for (i = 0; i < N_SEGD_MAPS; i++)
		if (p.maps[i])
			printf(" %s", segd_maps[i]);
	printf("\n");
	if (have_cfg) {
		struct segd_meta meta;
		char when[64];

		printf("  policy: generation %llu%s\n",
		       (unsigned long long)cfg.generation,
		       cfg.flags & SEGD_CFG_LOADED ? "" :
		       " (no policy loaded: everything but ARP is dropped)");
		if (read_pinned_meta(&cfg, &meta, when, sizeof(when)))
			printf("  files: digest %s, in force since %s\n",
			       meta.digest, when);
	}
	pinned_free(&p);
	return EXIT_FAIL;
}

/* ------------------------------------------------------------------ */
/* apply                                                                */
/* ------------------------------------------------------------------ */

static int do_apply(int argc, char **argv)
{
	json_t *resp = NULL, *errs, *e, *warns;
	char err[1024] = "";
	size_t i;
	int ret;

	if (argc != 1)
		return jo_usage("apply takes no argument (\"%s\"); segd reloads its --segments directory",
				   argv[1]);
	ret = call("reload", &resp, RELOAD_TIMEOUT_MS, err, sizeof(err));
	if (ret) {
		jo_error("%s", err);
		return EXIT_FAIL;
	}
	errs = json_object_get(resp, "errors");
	warns = json_object_get(resp, "warnings");
	if (!json_is_true(json_object_get(resp, "ok"))) {
		char msg[1024];

		snprintf(msg, sizeof(msg), "%s",
			 json_string_value(json_object_get(resp, "error")) ?:
			 "reload refused");
		if (jo_json()) {
			json_object_del(resp, "error");
			json_object_del(resp, "ok");
			jo_error_obj(json_incref(resp), "%s", msg);
		} else {
			json_array_foreach(errs, i, e)
				printf("%s:%lld:%lld: error: %s\n",
				       json_string_value(json_object_get(e, "file")),
				       (long long)json_integer_value(json_object_get(e, "line")),
				       (long long)json_integer_value(json_object_get(e, "column")),
				       json_string_value(json_object_get(e, "message")));
			jo_error("%s; generation %lld stays in force", msg,
				 (long long)json_integer_value(json_object_get(resp, "generation")));
		}
		json_decref(resp);
		return EXIT_FAIL;
	}
	if (jo_json()) {
		json_object_del(resp, "ok");
		jo_emit(json_incref(resp));
	} else {
		json_array_foreach(warns, i, e) {
			if (json_object_get(e, "file"))
				printf("%s:%lld:%lld: warning: %s\n",
				       json_string_value(json_object_get(e, "file")),
				       (long long)json_integer_value(json_object_get(e, "line")),
				       (long long)json_integer_value(json_object_get(e, "column")),
				       json_string_value(json_object_get(e, "message")));
			else
				printf("warning: %s\n",
				       json_string_value(json_object_get(e, "message")));
		}
		printf("applied: generation %lld (digest %.12s)\n",
		       (long long)json_integer_value(json_object_get(resp, "generation")),
		       json_string_value(json_object_get(resp, "digest")) ?: "?");
	}
	json_decref(resp);
	return EXIT_OK;
}

/* ------------------------------------------------------------------ */
/* teardown                                                             */
/* ------------------------------------------------------------------ */

/* Waits until segd released its pid lock (it exited). */
static bool wait_stopped(const char *run_dir, int timeout_ms)
{
	int pid, waited;

	for (waited = 0; waited < timeout_ms; waited += 50) {
		if (!segd_running(run_dir, &pid))
			return true;
		usleep(50 * 1000);
	}
	return !segd_running(run_dir, &pid);
}

static int do_teardown(int argc, char **argv)
{
	char path[PATH_MAX], sock[PATH_MAX], pidf[PATH_MAX], err[1024] = "";
	const char *table = g_nft_table;
	json_t *done = NULL, *fails = NULL, *resp = NULL;
	bool yes = false, have_sock, have_pid;
	struct pinned p;
	int i, pid, running, nft, ret, rc = EXIT_OK;
	size_t k;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--yes") || !strcmp(argv[i], "-y"))
			yes = true;
		else
			return jo_usage("teardown: unexpected argument \"%s\"",
					   argv[i]);
	}
	if (ctl_sock_path(g_run_dir, sock, sizeof(sock))) {
		jo_error("run dir \"%s\": name too long", g_run_dir);
		return EXIT_FAIL;
	}
	snprintf(pidf, sizeof(pidf), "%s/%s", g_run_dir, SEGD_PID_NAME);
	running = segd_running(g_run_dir, &pid);
	/* A running segd knows its own nft table best. */
	if (running &&
	    !call("status", &resp, CALL_TIMEOUT_MS, err, sizeof(err))) {
		const char *t = json_string_value(json_object_get(resp, "nft_table"));

		const json_t *ns = json_object_get(resp, "netns");
		struct stat st;

		if (t && nftw_valid_name(t) && !g_nft_table_set)
			table = t;
		/* The nft table lives in segd's network namespace: deleting
		 * "the same name" in another one would touch someone else's. */
		if (json_is_integer(ns) && json_integer_value(ns) &&
		    !stat("/proc/self/ns/net", &st) &&
		    (json_int_t)st.st_ino != json_integer_value(ns)) {
			json_decref(resp);
			jo_error("segd (pid %d) runs in another network namespace; run segctl teardown in that namespace (e.g. nsenter --net=...)",
				 pid);
			return EXIT_FAIL;
		}
	}
	if (!nftw_valid_name(table)) {
		json_decref(resp);
		return jo_usage("--nft-table \"%s\" is not a valid table name",
				   table);
	}
	ret = pinned_scan(g_pin_dir, &p);
	if (ret) {
		json_decref(resp);
		jo_error("reading pin dir \"%s\": %s", g_pin_dir, strerror(-ret));
		return EXIT_FAIL;
	}
	nft = nftw_exists(table);
	have_sock = access(sock, F_OK) == 0;
	have_pid = access(pidf, F_OK) == 0;

	if (!yes) {
		json_t *would = json_object();
		json_t *links = json_array(), *maps = json_array();

		if (!jo_json()) {
			fprintf(stderr, "segctl: teardown stops all enforcement; it would:\n");
			if (running)
				fprintf(stderr, "  stop segd (pid %d)\n", pid);
			for (k = 0; k < p.n_links; k++)
				fprintf(stderr, "  detach XDP: unpin %s/%s\n",
					g_pin_dir, p.links[k]);
			if (nft == 1)
				fprintf(stderr, "  delete nft table inet %s\n", table);
			for (k = 0; k < N_SEGD_MAPS; k++)
				if (p.maps[k])
					fprintf(stderr, "  unpin map %s/%s\n",
						g_pin_dir, segd_maps[k]);
			if (have_sock)
				fprintf(stderr, "  remove %s\n", sock);
			if (have_pid)
				fprintf(stderr, "  remove %s\n", pidf);
			fprintf(stderr, "segctl: refusing without --yes\n");
		} else {
			for (k = 0; k < p.n_links; k++)
				json_array_append_new(links, json_sprintf("%s/%s",
						      g_pin_dir, p.links[k]));
			for (k = 0; k < N_SEGD_MAPS; k++)
				if (p.maps[k])
					json_array_append_new(maps, json_sprintf("%s/%s",
							      g_pin_dir, segd_maps[k]));
			json_object_set_new(would, "stop_segd", json_boolean(running));
			if (running && pid)
				json_object_set_new(would, "pid", json_integer(pid));
			json_object_set_new(would, "links", links);
			json_object_set_new(would, "nft_table",
					    nft == 1 ? json_sprintf("inet %s", table) : json_null());
			json_object_set_new(would, "maps", maps);
			json_object_set_new(would, "socket", have_sock ? json_string(sock) : json_null());
			json_object_set_new(would, "pid_file", have_pid ? json_string(pidf) : json_null());
			jo_error_obj(json_pack("{s:o}", "would_remove", would),
				     "teardown stops all enforcement; refusing without --yes");
		}
		pinned_free(&p);
		json_decref(resp);
		return EXIT_FAIL;
	}

	done = json_array();
	fails = json_array();
	if (running) {
		json_t *r = NULL;

		json_decref(resp);
		resp = NULL;
		ret = call("stop", &r, CALL_TIMEOUT_MS, err, sizeof(err));
		json_decref(r);
		if (ret) {
			json_array_append_new(fails, json_sprintf(
				"segd (pid %d) runs but did not take the stop request: %s; stop it (e.g. systemctl stop segd) and retry; nothing removed",
				pid, err));
			rc = EXIT_FAIL;
			goto out;
		}
		if (!wait_stopped(g_run_dir, STOP_WAIT_MS)) {
			json_array_append_new(fails, json_sprintf(
				"segd (pid %d) did not exit within %d s; nothing removed",
				pid, STOP_WAIT_MS / 1000));
			rc = EXIT_FAIL;
			goto out;
		}
		json_array_append_new(done, json_sprintf("stopped segd (pid %d)", pid));
	}
	/* Links first: unpinning the last reference detaches XDP. */
	for (k = 0; k < p.n_links; k++) {
		snprintf(path, sizeof(path), "%s/%s", g_pin_dir, p.links[k]);
		if (unlink(path) && errno != ENOENT)
			json_array_append_new(fails, json_sprintf("unpin %s: %s", path,
								   strerror(errno)));
		else
			json_array_append_new(done, json_sprintf("detached XDP: unpinned %s", path));
	}
	if (nft == 1 || nft < 0) {
		ret = nftw_delete(table, err, sizeof(err));
		if (ret && ret != -ENOENT)
			json_array_append_new(fails, json_string(err));
		else if (!ret)
			json_array_append_new(done, json_sprintf("deleted nft table inet %s", table));
	}
	for (k = 0; k < N_SEGD_MAPS; k++) {
		if (!p.maps[k])
			continue;
		snprintf(path, sizeof(path), "%s/%s", g_pin_dir, segd_maps[k]);
		if (unlink(path) && errno != ENOENT)
			json_array_append_new(fails, json_sprintf("unpin %s: %s", path,
								   strerror(errno)));
		else
			json_array_append_new(done, json_sprintf("unpinned map %s", path));
	}
	if (!rmdir(g_pin_dir))
		json_array_append_new(done, json_sprintf("removed %s", g_pin_dir));
	else if (errno != ENOENT && errno != ENOTEMPTY && errno != EEXIST)
		json_array_append_new(fails, json_sprintf("rmdir %s: %s", g_pin_dir,
							   strerror(errno)));
	if (!unlink(sock))
		json_array_append_new(done, json_sprintf("removed %s", sock));
	if (!unlink(pidf))
		json_array_append_new(done, json_sprintf("removed %s", pidf));
	{
		/* segctl stats' own snapshots (stats.<uid>.json) */
		glob_t g;
		size_t j;

		snprintf(path, sizeof(path), "%s/stats.*.json", g_run_dir);
		if (!glob(path, GLOB_NOSORT, NULL, &g)) {
			for (j = 0; j < g.gl_pathc; j++)
				if (!unlink(g.gl_pathv[j]))
					json_array_append_new(done, json_sprintf("removed %s",
										 g.gl_pathv[j]));
			globfree(&g);
		}
	}
	if (!rmdir(g_run_dir))
		json_array_append_new(done, json_sprintf("removed %s", g_run_dir));
	if (json_array_size(fails))
		rc = EXIT_FAIL;
out:
	if (jo_json()) {
		json_t *o = json_pack("{s:b, s:O, s:O}", "ok", rc == EXIT_OK,
				      "done", done, "failed", fails);

		if (rc != EXIT_OK && o)
			json_object_set_new(o, "error",
					    json_string("teardown incomplete"));
		jo_emit(o);
	} else {
		json_t *e;

		json_array_foreach(done, k, e)
			printf("%s\n", json_string_value(e));
		json_array_foreach(fails, k, e)
			fprintf(stderr, "segctl: error: %s\n", json_string_value(e));
		if (rc == EXIT_OK)
			printf("teardown complete: no segd enforcement left under %s\n",
			       g_pin_dir);
	}
	json_decref(done);
	json_decref(fails);
	json_decref(resp);
	pinned_free(&p);
	return rc;
}

/* ------------------------------------------------------------------ */
/* main                                                                 */
/* ------------------------------------------------------------------ */

/*
 * Pulls the global options out of argv wherever they stand, so that
 * `segctl --json stats` and `segctl stats --json` mean the same. Returns
 * the new argc, or -1 on a usage error (message in *bad).
 */
static int take_globals(int argc, char **argv, bool *json, bool *help,
			const char **bad)
{
	static const struct {
		const char *name;
		const char **val;
	} opts[] = {
		{ "--pin-dir", &g_pin_dir },
		{ "--run-dir", &g_run_dir },
		{ "--nft-table", &g_nft_table },
	};
	int i, out = 1;
	size_t k;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		bool taken = false;

		if (!strcmp(a, "--")) {
			while (i < argc)
				argv[out++] = argv[i++];
			break;
		}
		if (!strcmp(a, "--json") || !strcmp(a, "-j")) {
			*json = true;
			continue;
		}
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			*help = true;
			continue;
		}
		for (k = 0; k < sizeof(opts) / sizeof(opts[0]); k++) {
			size_t n = strlen(opts[k].name);

			if (!strcmp(a, opts[k].name)) {
				if (i + 1 >= argc) {
					*bad = a;
					return -1;
				}
				*opts[k].val = argv[++i];
				taken = true;
			} else if (!strncmp(a, opts[k].name, n) && a[n] == '=') {
				*opts[k].val = a + n + 1;
				taken = true;
			}
			if (taken) {
				if (opts[k].val == &g_nft_table)
					g_nft_table_set = true;
				break;
			}
		}
		if (!taken)
			argv[out++] = argv[i];
	}
	argv[out] = NULL;
	return out;
}

int main(int argc, char **argv)
{
	const char *bad = NULL;
	bool json = false, help = false;
	size_t i;

	log_init("segctl", LOG_LVL_WARN);
	log_libbpf_setup();
	log_libbpf_mute(true);	/* we report failures ourselves */
	argc = take_globals(argc, argv, &json, &help, &bad);
	jo_init("segctl", json);
	if (argc < 0)
		return jo_usage("option \"%s\" needs a value", bad);
	if (help || argc < 2) {
		if (help) {
			usage(stdout);
			return EXIT_OK;
		}
		return jo_usage("no command given%s", "");
	}
	if (!*g_pin_dir || !*g_run_dir)
		return jo_usage("empty --pin-dir or --run-dir%s", "");
	for (i = 0; i < N_CMDS; i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].fn(argc - 1, argv + 1);
	return jo_usage("unknown command \"%s\"", argv[1]);
}
