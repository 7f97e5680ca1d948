// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* pkt.c - see pkt.h. */
#include <netinet/in.h>

#include "hospital.h"
#include "pkt.h"

static void build_ext6(struct frame *f, const struct ext6 *x)
{
	switch (x->type) {
	case 0:
	case 60:
		fr_opts6(f, x->type, x->len ? x->len : 8);
		break;
	case 43:
		fr_rthdr6(f, x->rtype);
		break;
	case 44:
		fr_frag6(f, x->frag, x->more);
		break;
	case 51:
		fr_ah6(f);
		break;
	}
}

void pkt_build(struct frame *f, const struct pkt_desc *d)
{
	uint16_t sport = d->sport ? d->sport : 40000;
	int i;

	fr_init(f);
	fr_eth(f, mac_gw, d->smac ? d->smac : mac_host);
	for (i = 0; i < d->ntags; i++)
		fr_vlan(f, d->tags[i].tpid, d->tags[i].vid);
	if (d->ethertype == 0x0806) {
		fr_arp(f);
		goto done;
	}
	if (d->ethertype) {
		fr_type(f, d->ethertype);
		fr_bytes(f, 46, 0x5a);
		goto done;
	}
	if (d->v == 4) {
		fr_ipv4(f, d->src, d->dst, d->ipopt, d->frag);
	} else {
		fr_ipv6(f, d->src, d->dst);
		for (i = 0; i < d->next; i++)
			build_ext6(f, &d->ext[i]);
	}
	if (d->hlim)
		f->buf[f->l3_off + (d->v == 4 ? 8 : 7)] = d->hlim;
	if (d->no_l4) {
		fr_type(f, d->proto);
		fr_bytes(f, d->payload ? d->payload : 64, 0x5a);
		goto lengths;
	}
	switch (d->proto) {
	case IPPROTO_TCP:
		fr_tcp(f, sport, d->dport, d->flags ? d->flags : FR_TCP_SYN);
		break;
	case IPPROTO_UDP:
		fr_udp(f, sport, d->dport);
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		fr_icmp(f, d->type, 0);
		break;
	default:
		fr_type(f, d->proto);
		break;
	}
	fr_bytes(f, d->payload, 0x5a);
	if (d->l4_keep)
		f->len = f->l4_off + d->l4_keep;
lengths:
	fr_finish(f);
	if (d->cut)
		f->len -= d->cut;
done:
	if (d->pad_to > f->len)
		fr_bytes(f, d->pad_to - f->len, 0);
	if (d->mangle)
		d->mangle(f);
}
