/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * hospital.h - the small hospital every datapath case runs against, as
 * compiled map entries (what userspace would write for the segment files):
 *
 *   segment  id  IPv4           IPv6              notes
 *   ehr      16  10.1.0.0/16    2001:db8:1::/48   10.1.0.99 is a PACS host
 *   iomt     17  10.2.0.0/16    2001:db8:2::/48   device pump (32), MAC-bound
 *   pacs     18  10.3.0.0/16    2001:db8:3::/48   device modality (33), by MAC
 *   guest    19  10.9.0.0/16    2001:db8:9::/48
 *   lab      20  10.20.0.0/16   2001:db8:20::/48  audit mode
 *   gateway   2  10.0.0.1       2001:db8::1       built-in; 10.0.0.255
 *                255.255.255.255, 224.0.0.0/4, ff00::/8, fe80::/10
 *                (destination-only, as the compiler writes them)
 *
 * Rules (slot 0): ehr->pacs tcp/443, icmp echo, icmpv6 echo; ehr->iomt udp
 * (any port); iomt->ehr any protocol (and pump->ehr, its expansion);
 * world->ehr tcp/443; ehr->world tcp/443; ehr->gateway tcp/22;
 * modality->pacs tcp/104; guest->world tcp (any port); guest->gateway icmp
 * and icmpv6 (any type).
 */
#ifndef SEGD_TEST_HOSPITAL_H
#define SEGD_TEST_HOSPITAL_H

#include <linux/types.h>
#include "fixture.h"

#define ID_EHR      16
#define ID_IOMT     17
#define ID_PACS     18
#define ID_GUEST    19
#define ID_LAB      20
#define ID_PUMP     32
#define ID_MODALITY 33
#define ID_WORLD    SEGD_ID_WORLD
#define ID_GW       SEGD_ID_GATEWAY

extern const __u8 mac_gw[6];		/* destination of every frame */
extern const __u8 mac_host[6];		/* default source MAC */
extern const __u8 mac_pump[6];		/* bound to 10.2.0.5 / 2001:db8:2::5 */
extern const __u8 mac_modality[6];	/* PACS member by MAC */
extern const __u8 mac_rogue[6];		/* nobody's */

extern const struct seed hospital[];

#endif /* SEGD_TEST_HOSPITAL_H */
