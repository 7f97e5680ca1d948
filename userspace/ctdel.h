/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * ctdel.h - end a host's connections: delete every conntrack entry of the
 * current network namespace that has the address at either end of its
 * original or reply tuple (ctnetlink over libmnl). Used by isolation, so
 * that no session of an isolated host goes on as a "reply".
 */
#ifndef SEGD_CTDEL_H
#define SEGD_CTDEL_H

#include <stddef.h>
#include <stdint.h>

/*
 * ctdel_host - @family AF_INET or AF_INET6, @addr network order.
 * Dumps the table (IPCTNL_MSG_CT_GET, NLM_F_DUMP), then deletes each match
 * by its original tuple (IPCTNL_MSG_CT_DELETE). An entry gone in between
 * is not an error. Returns the number deleted, or a negative errno with
 * @err saying what failed.
 */
int ctdel_host(int family, const uint8_t *addr, char *err, size_t errlen);

#endif /* SEGD_CTDEL_H */
