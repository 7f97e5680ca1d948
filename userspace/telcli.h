/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * telcli.h - segctl's telemetry verbs: stats (with rates since the
 * previous call), top (a live table of the busiest dropping pairs and
 * sources) and events (the recent drop events, or --follow them).
 *
 * Each verb gets segctl's argv after the command name (argv[0] is the
 * verb) and returns segctl's exit code (0 ok, 1 failed, 2 usage). Output
 * goes through jsonout.
 *
 * Where things come from:
 *  - counters: the pinned maps (works while segd is down);
 *  - events: the events file segd writes (--events FILE), found through
 *    segd's status or given with --file; FILE.1 (the previous rotation) is
 *    read first. A file, not the control socket, because it is what the SOC
 *    ships anyway, it survives segd restarts, and it needs no state in segd.
 *  - the previous stats snapshot: <run-dir>/stats.<uid>.json.
 */
#ifndef SEGD_TELCLI_H
#define SEGD_TELCLI_H

struct tcli_env {
	const char *pin_dir;
	const char *run_dir;
};

int tcli_stats(const struct tcli_env *env, int argc, char **argv);
int tcli_top(const struct tcli_env *env, int argc, char **argv);
int tcli_events(const struct tcli_env *env, int argc, char **argv);

#endif /* SEGD_TELCLI_H */
