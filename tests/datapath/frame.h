/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * frame.h - build test frames header by header.
 *
 * Each fr_* call appends one header and writes its own type into the
 * previous header's "next protocol" field (ethertype, IPv4 protocol or
 * IPv6 next header), so frames read top-down like the wire:
 *
 *	fr_eth(f, dmac, smac); fr_vlan(f, 0x8100, 10);
 *	fr_ipv4(f, "10.1.0.10", "10.3.0.9", 0, 0); fr_tcp(f, 40000, 443, SYN);
 *	fr_finish(f);
 *
 * fr_finish() fills the IPv4 total length and checksum, the IPv6 payload
 * length and the UDP length from the frame's current length.
 */
#ifndef SEGD_TEST_FRAME_H
#define SEGD_TEST_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define FRAME_MAX 9216

#define FR_TCP_FIN 0x01
#define FR_TCP_SYN 0x02
#define FR_TCP_RST 0x04
#define FR_TCP_PSH 0x08
#define FR_TCP_ACK 0x10

struct frame {
	uint8_t buf[FRAME_MAX];
	size_t len;
	size_t next_off;	/* where the next header's type is written */
	int next_width;		/* 2 ethertype, 1 IP protocol, 0 none */
	size_t l3_off;
	int l3;			/* 4, 6 or 0 */
	size_t l4_off;
	uint8_t l4proto;
};

void fr_init(struct frame *f);
void fr_eth(struct frame *f, const uint8_t dst[6], const uint8_t src[6]);
void fr_vlan(struct frame *f, uint16_t tpid, uint16_t vid);
/* Closes the chain with a raw type: an ethertype after Ethernet/VLAN, an
 * IP protocol after IP. */
void fr_type(struct frame *f, uint16_t type);
void fr_arp(struct frame *f);
void fr_ipv4(struct frame *f, const char *src, const char *dst, size_t optlen,
	     uint16_t frag_off);
void fr_ipv6(struct frame *f, const char *src, const char *dst);
/* Hop-by-Hop (0) or Destination Options (60) of len bytes (multiple of 8). */
void fr_opts6(struct frame *f, uint8_t type, size_t len);
/* Routing header of the given routing type, with one address. */
void fr_rthdr6(struct frame *f, uint8_t rtype);
/* Fragment header: offset in 8-byte units, more = M flag. */
void fr_frag6(struct frame *f, uint16_t offset, int more);
/* Authentication Header with a 12-byte ICV (24 bytes). */
void fr_ah6(struct frame *f);
void fr_tcp(struct frame *f, uint16_t sport, uint16_t dport, uint8_t flags);
void fr_udp(struct frame *f, uint16_t sport, uint16_t dport);
/* ICMP in IPv4, ICMPv6 in IPv6; 8 bytes (type, code, checksum, rest). */
void fr_icmp(struct frame *f, uint8_t type, uint8_t code);
void fr_bytes(struct frame *f, size_t n, uint8_t fill);
void fr_finish(struct frame *f);

#endif /* SEGD_TEST_FRAME_H */
