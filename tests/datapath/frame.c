// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* frame.c - test frame builder, see frame.h. */
#include <arpa/inet.h>
#include <assert.h>
#include <netinet/in.h>
#include <string.h>

#include "frame.h"

static uint8_t *grow(struct frame *f, size_t n)
{
	uint8_t *p = f->buf + f->len;

	assert(f->len + n <= sizeof(f->buf));
	memset(p, 0, n);
	f->len += n;
	return p;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

/* Write this header's type into the previous header, then remember where
 * this header's own next-protocol field is. */
static void chain(struct frame *f, uint16_t type, size_t next_off,
		  int next_width)
{
	if (f->next_width == 2)
		put16(f->buf + f->next_off, type);
	else if (f->next_width == 1)
		f->buf[f->next_off] = (uint8_t)type;
	f->next_off = next_off;
	f->next_width = next_width;
}

static void pton(int af, const char *s, void *dst)
{
	int ok = inet_pton(af, s, dst);

	assert(ok == 1);
	(void)ok;
}

void fr_init(struct frame *f)
{
	memset(f, 0, sizeof(*f));
}

void fr_eth(struct frame *f, const uint8_t dst[6], const uint8_t src[6])
{
	uint8_t *p = grow(f, 14);

	memcpy(p, dst, 6);
	memcpy(p + 6, src, 6);
	f->next_off = f->len - 2;
	f->next_width = 2;
}

void fr_vlan(struct frame *f, uint16_t tpid, uint16_t vid)
{
	uint8_t *p = grow(f, 4);

	put16(p, vid & 0x0fff);
	chain(f, tpid, f->len - 2, 2);
}

void fr_type(struct frame *f, uint16_t type)
{
	chain(f, type, 0, 0);
}

void fr_arp(struct frame *f)
{
	static const uint8_t req[8] = { 0, 1, 8, 0, 6, 4, 0, 1 };
	uint8_t *p;

	chain(f, 0x0806, 0, 0);
	p = grow(f, 28);
	memcpy(p, req, sizeof(req));
}

static uint16_t csum(const uint8_t *p, size_t n)
{
	uint32_t s = 0;
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

void fr_ipv4(struct frame *f, const char *src, const char *dst, size_t optlen,
	     uint16_t frag_off)
{
	size_t off = f->len;
	uint8_t *p;

	assert(optlen % 4 == 0 && optlen <= 40);
	chain(f, 0x0800, off + 9, 1);
	p = grow(f, 20 + optlen);
	p[0] = 0x40 | (uint8_t)((20 + optlen) / 4);
	put16(p + 4, 0x1234);
	put16(p + 6, frag_off);
	p[8] = 64;
	pton(AF_INET, src, p + 12);
	pton(AF_INET, dst, p + 16);
	memset(p + 20, 1, optlen);	/* NOP options */
	f->l3 = 4;
	f->l3_off = off;
}

void fr_ipv6(struct frame *f, const char *src, const char *dst)
{
	size_t off = f->len;
	uint8_t *p;

	chain(f, 0x86dd, off + 6, 1);
	p = grow(f, 40);
	p[0] = 0x60;
	p[7] = 64;
	pton(AF_INET6, src, p + 8);
	pton(AF_INET6, dst, p + 24);
	f->l3 = 6;
	f->l3_off = off;
}

void fr_opts6(struct frame *f, uint8_t type, size_t len)
{
	size_t off = f->len;
	uint8_t *p;

	assert(len >= 8 && len % 8 == 0 && len <= 2048);
	chain(f, type, off, 1);
	p = grow(f, len);
	p[1] = (uint8_t)(len / 8 - 1);
	p[2] = 1;		/* PadN over the rest */
	p[3] = (uint8_t)(len - 4);
}

void fr_rthdr6(struct frame *f, uint8_t rtype)
{
	size_t off = f->len;
	uint8_t *p;

	chain(f, 43, off, 1);
	p = grow(f, 24);
	p[1] = 2;		/* (2 + 1) * 8 = 24 bytes */
	p[2] = rtype;
	p[3] = 1;		/* segments left */
	pton(AF_INET6, "2001:db8:ffff::1", p + 8);
}

void fr_frag6(struct frame *f, uint16_t offset, int more)
{
	size_t off = f->len;
	uint8_t *p;

	chain(f, 44, off, 1);
	p = grow(f, 8);
	put16(p + 2, (uint16_t)(offset << 3) | (more ? 1 : 0));
	p[7] = 0x42;		/* identification */
}

void fr_ah6(struct frame *f)
{
	size_t off = f->len;
	uint8_t *p;

	chain(f, 51, off, 1);
	p = grow(f, 24);
	p[1] = 4;		/* (4 + 2) * 4 = 24 bytes */
	p[7] = 1;		/* SPI */
}

void fr_tcp(struct frame *f, uint16_t sport, uint16_t dport, uint8_t flags)
{
	uint8_t *p;

	chain(f, IPPROTO_TCP, 0, 0);
	f->l4_off = f->len;
	f->l4proto = IPPROTO_TCP;
	p = grow(f, 20);
	put16(p, sport);
	put16(p + 2, dport);
	p[7] = 1;		/* seq */
	p[12] = 5 << 4;
	p[13] = flags;
	put16(p + 14, 64240);
}

void fr_udp(struct frame *f, uint16_t sport, uint16_t dport)
{
	uint8_t *p;

	chain(f, IPPROTO_UDP, 0, 0);
	f->l4_off = f->len;
	f->l4proto = IPPROTO_UDP;
	p = grow(f, 8);
	put16(p, sport);
	put16(p + 2, dport);
}

void fr_icmp(struct frame *f, uint8_t type, uint8_t code)
{
	uint8_t proto = f->l3 == 6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
	uint8_t *p;

	chain(f, proto, 0, 0);
	f->l4_off = f->len;
	f->l4proto = proto;
	p = grow(f, 8);
	p[0] = type;
	p[1] = code;
}

void fr_bytes(struct frame *f, size_t n, uint8_t fill)
{
	memset(grow(f, n), fill, n);
}

void fr_finish(struct frame *f)
{
	uint8_t *ip = f->buf + f->l3_off;

	if (f->l3 == 4) {
		size_t hl = (ip[0] & 0x0f) * 4;

		put16(ip + 2, (uint16_t)(f->len - f->l3_off));
		put16(ip + 10, 0);
		put16(ip + 10, csum(ip, hl));
	} else if (f->l3 == 6) {
		put16(ip + 4, (uint16_t)(f->len - f->l3_off - 40));
	}
	if (f->l4proto == IPPROTO_UDP && f->l4_off + 8 <= f->len)
		put16(f->buf + f->l4_off + 4, (uint16_t)(f->len - f->l4_off));
}
