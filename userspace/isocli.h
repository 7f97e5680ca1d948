/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * isocli.h - segctl's isolation commands (isolate.h is segd's side):
 *   isolate HOST --reason TEXT [--for DURATION] [--ticket ID]
 *   release HOST --reason TEXT
 *   isolated
 *   history [--since T]   (T: RFC 3339 UTC, or a duration ago: 1h, 2d)
 * @argv[0] is the command name; global options are already taken out.
 * Returns segctl's exit status: 0 ok, 1 refused/failed, 2 usage.
 */
#ifndef SEGD_ISOCLI_H
#define SEGD_ISOCLI_H

int isocli_run(const char *run_dir, int argc, char **argv);

#endif /* SEGD_ISOCLI_H */
