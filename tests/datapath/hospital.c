// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* hospital.c - see hospital.h. */
#include <netinet/in.h>

#include "hospital.h"

const __u8 mac_gw[6] = { 0x02, 0, 0, 0, 0, 0x01 };
const __u8 mac_host[6] = { 0x02, 0, 0, 0, 0, 0xaa };
const __u8 mac_pump[6] = { 0x02, 0, 0, 0x02, 0, 0x05 };
const __u8 mac_modality[6] = { 0x02, 0, 0, 0x03, 0, 0x07 };
const __u8 mac_rogue[6] = { 0x02, 0, 0, 0, 0, 0xbb };

const struct seed hospital[] = {
	S_CFG(0, SEGD_CFG_LOADED),
	S_NET(0, "10.1.0.0/16", ID_EHR, ID_EHR, 0),
	S_NET(0, "2001:db8:1::/48", ID_EHR, ID_EHR, 0),
	S_NET(0, "10.2.0.0/16", ID_IOMT, ID_IOMT, 0),
	S_NET(0, "2001:db8:2::/48", ID_IOMT, ID_IOMT, 0),
	S_NET(0, "10.3.0.0/16", ID_PACS, ID_PACS, 0),
	S_NET(0, "2001:db8:3::/48", ID_PACS, ID_PACS, 0),
	S_NET(0, "10.9.0.0/16", ID_GUEST, ID_GUEST, 0),
	S_NET(0, "2001:db8:9::/48", ID_GUEST, ID_GUEST, 0),
	S_NET(0, "10.20.0.0/16", ID_LAB, ID_LAB, SEGD_EP_AUDIT),
	S_NET(0, "2001:db8:20::/48", ID_LAB, ID_LAB, SEGD_EP_AUDIT),
	S_HOST(0, "10.1.0.99", ID_PACS, ID_PACS),
	S_HOST(0, "2001:db8:1::99", ID_PACS, ID_PACS),
	S_DEV(0, "10.2.0.5", ID_PUMP, ID_IOMT, mac_pump),
	S_DEV(0, "2001:db8:2::5", ID_PUMP, ID_IOMT, mac_pump),
	S_MAC(0, mac_modality, ID_MODALITY, ID_PACS),
	S_HOST(0, "10.0.0.1", ID_GW, ID_GW),
	S_HOST(0, "2001:db8::1", ID_GW, ID_GW),
	S_HOST(0, "10.0.0.255", ID_GW, ID_GW),	/* a subnet broadcast */
	/* the compiler's built-ins, destination-only */
	S_BUILTIN(SEED_HOST, 0, "255.255.255.255"),
	S_BUILTIN(SEED_NET, 0, "224.0.0.0/4"),
	S_BUILTIN(SEED_NET, 0, "ff00::/8"),
	S_BUILTIN(SEED_NET, 0, "fe80::/10"),

	S_RULE(0, ID_EHR, ID_PACS, IPPROTO_TCP, 443),
	S_RULE(0, ID_EHR, ID_PACS, IPPROTO_ICMP, SEGD_ICMP_PORT(8)),
	S_RULE(0, ID_EHR, ID_PACS, IPPROTO_ICMPV6, SEGD_ICMP_PORT(128)),
	S_RULE(0, ID_EHR, ID_IOMT, IPPROTO_UDP, 0),
	S_RULE(0, ID_IOMT, ID_EHR, 0, 0),
	S_RULE(0, ID_PUMP, ID_EHR, 0, 0),
	S_RULE(0, ID_WORLD, ID_EHR, IPPROTO_TCP, 443),
	S_RULE(0, ID_EHR, ID_WORLD, IPPROTO_TCP, 443),
	S_RULE(0, ID_EHR, ID_GW, IPPROTO_TCP, 22),
	S_RULE(0, ID_MODALITY, ID_PACS, IPPROTO_TCP, 104),
	S_RULE(0, ID_GUEST, ID_WORLD, IPPROTO_TCP, 0),
	S_RULE(0, ID_GUEST, ID_GW, IPPROTO_ICMP, 0),
	S_RULE(0, ID_GUEST, ID_GW, IPPROTO_ICMPV6, 0),
	S_END,
};
