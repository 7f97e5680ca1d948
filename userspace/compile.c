// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * compile.c - validated policy model -> identities, lookup entries and the
 * allow set, plus comp_explain(), the userspace twin of the XDP program's
 * verdict (docs/datapath.md steps 7-14).
 *
 * Everything here is pure and deterministic: the same model, gateway
 * addresses and hints always give the same entries in the same order, so
 * the map writer can diff generations and tests can compare whole tables.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "errbuf.h"
#include "compile.h"

/* More raw allow entries than this is a policy mistake, not a policy. */
#define COMP_MAX_RAW_ALLOWS (4ul * SEGD_MAX_POLICY)

struct vec {
	void *v;
	size_t n, cap, size;
};

static void *vec_push(struct vec *v)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? 2 * v->cap : 16;
		void *nv = realloc(v->v, cap * v->size);

		if (!nv)
			return NULL;
		v->v = nv;
		v->cap = cap;
	}
	return (char *)v->v + v->size * v->n++;
}

/* qsort() of an empty vector, whose base may be NULL, is undefined. */
static void vec_sort(struct vec *v, int (*cmp)(const void *, const void *))
{
	if (v->n > 1)
		qsort(v->v, v->n, v->size, cmp);
}

/* Remove adjacent duplicates of a sorted vector; -EINVAL when two entries
 * have the same key (first @key_len bytes) but different values. */
static int vec_uniq(struct vec *v, size_t key_len)
{
	char *base = v->v;
	size_t i, o = 0;

	for (i = 0; i < v->n; i++) {
		char *e = base + i * v->size;

		if (o) {
			char *last = base + (o - 1) * v->size;

			if (!memcmp(last, e, key_len)) {
				if (memcmp(last, e, v->size))
					return -EINVAL;
				continue;
			}
		}
		if (o != i)
			memcpy(base + o * v->size, e, v->size);
		o++;
	}
	v->n = o;
	return 0;
}

/* ---------------------------------------------------------------- */
/* Identities                                                         */
/* ---------------------------------------------------------------- */

struct id_ctx {
	const struct cfg_policy *cfg;
	uint32_t *seg_id;	/* by segment index */
	uint32_t *dev_id;	/* by device index */
	uint8_t taken[SEGD_MAX_IDENTITIES / 8];
};

static int cmp_seg_idx(const void *a, const void *b, void *arg)
{
	const struct cfg_policy *cfg = arg;

	return strcmp(cfg->segments[*(const size_t *)a].name,
		      cfg->segments[*(const size_t *)b].name);
}

static int cmp_dev_idx(const void *a, const void *b, void *arg)
{
	const struct cfg_policy *cfg = arg;

	return strcmp(cfg->devices[*(const size_t *)a].name,
		      cfg->devices[*(const size_t *)b].name);
}

static int cmp_hint(const void *a, const void *b)
{
	const struct comp_id_hint *x = a, *y = b;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return strncmp(x->name, y->name, SEGD_NAME_LEN);
}

static bool id_taken(const struct id_ctx *c, uint32_t id)
{
	return c->taken[id / 8] & (1u << (id % 8));
}

static void id_take(struct id_ctx *c, uint32_t id)
{
	c->taken[id / 8] |= (uint8_t)(1u << (id % 8));
}

static uint32_t hinted_id(struct id_ctx *c, const struct comp_id_hint *hints,
			  size_t n_hints, uint32_t kind, const char *name)
{
	struct comp_id_hint key;
	const struct comp_id_hint *h;

	if (!n_hints)
		return SEGD_ID_NONE;
	memset(&key, 0, sizeof(key));
	key.kind = kind;
	snprintf(key.name, sizeof(key.name), "%s", name);
	h = bsearch(&key, hints, n_hints, sizeof(*hints), cmp_hint);
	if (!h || h->id < SEGD_ID_FIRST || h->id >= SEGD_MAX_IDENTITIES ||
	    id_taken(c, h->id))
		return SEGD_ID_NONE;
	id_take(c, h->id);
	return h->id;
}

/*
 * Names that were in an earlier policy but are not in this one keep their
 * ids reserved, as long as that leaves room for the new names: counters are
 * never reset, so an id handed to a new segment would inherit the counts of
 * a removed one. Called after the live names took their hinted ids.
 */
static void reserve_retired(struct id_ctx *c, const struct comp_id_hint *hints,
			    size_t n_hints)
{
	const struct cfg_policy *cfg = c->cfg;
	size_t i, need = 0, free_ids = 0;
	uint32_t id;

	for (i = 0; i < cfg->n_segments; i++)
		need += !c->seg_id[i];
	for (i = 0; i < cfg->n_devices; i++)
		need += !c->dev_id[i];
	for (id = SEGD_ID_FIRST; id < SEGD_MAX_IDENTITIES; id++)
		free_ids += !id_taken(c, id);
	for (i = 0; i < n_hints && free_ids > need; i++) {
		id = hints[i].id;
		if ((hints[i].kind != SEGD_KIND_SEGMENT &&
		     hints[i].kind != SEGD_KIND_DEVICE) ||
		    id < SEGD_ID_FIRST || id >= SEGD_MAX_IDENTITIES ||
		    id_taken(c, id))
			continue;
		id_take(c, id);
		free_ids--;
	}
}

static uint32_t lowest_free(struct id_ctx *c, uint32_t *next)
{
	uint32_t id;

	for (id = *next; id < SEGD_MAX_IDENTITIES; id++) {
		if (!id_taken(c, id)) {
			id_take(c, id);
			*next = id + 1;
			return id;
		}
	}
	return SEGD_ID_NONE;
}

static int cmp_identity(const void *a, const void *b)
{
	const struct comp_identity *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static void add_identity(struct comp_policy *p, uint32_t id, uint32_t kind,
			 uint32_t seg, const char *name)
{
	struct comp_identity *e = &p->ids[p->n_ids++];

	memset(e, 0, sizeof(*e));
	e->id = id;
	e->kind = kind;
	e->seg = seg;
	snprintf(e->name, sizeof(e->name), "%s", name);
}

static int assign_ids(struct comp_policy *p, struct id_ctx *c,
		      const struct comp_id_hint *hints_in, size_t n_hints,
		      char *err, size_t errlen)
{
	const struct cfg_policy *cfg = c->cfg;
	struct comp_id_hint *hints = NULL;
	size_t *seg_ord = NULL, *dev_ord = NULL, i;
	uint32_t next = SEGD_ID_FIRST, id;
	int ret = -ENOMEM;

	seg_ord = calloc(cfg->n_segments + 1, sizeof(*seg_ord));
	dev_ord = calloc(cfg->n_devices + 1, sizeof(*dev_ord));
	if (!seg_ord || !dev_ord)
		goto out;
	if (n_hints) {
		hints = malloc(n_hints * sizeof(*hints));
		if (!hints)
			goto out;
		memcpy(hints, hints_in, n_hints * sizeof(*hints));
		for (i = 0; i < n_hints; i++)
			hints[i].name[SEGD_NAME_LEN - 1] = '\0';
		qsort(hints, n_hints, sizeof(*hints), cmp_hint);
	}
	for (i = 0; i < cfg->n_segments; i++)
		seg_ord[i] = i;
	for (i = 0; i < cfg->n_devices; i++)
		dev_ord[i] = i;
	qsort_r(seg_ord, cfg->n_segments, sizeof(*seg_ord), cmp_seg_idx,
		(void *)cfg);
	qsort_r(dev_ord, cfg->n_devices, sizeof(*dev_ord), cmp_dev_idx,
		(void *)cfg);

	for (id = 0; id < SEGD_ID_FIRST; id++)
		id_take(c, id);
	/* names seen before keep their ids, then the rest in name order */
	for (i = 0; i < cfg->n_segments; i++)
		c->seg_id[seg_ord[i]] =
			hinted_id(c, hints, n_hints, SEGD_KIND_SEGMENT,
				  cfg->segments[seg_ord[i]].name);
	for (i = 0; i < cfg->n_devices; i++)
		c->dev_id[dev_ord[i]] =
			hinted_id(c, hints, n_hints, SEGD_KIND_DEVICE,
				  cfg->devices[dev_ord[i]].name);
	reserve_retired(c, hints, n_hints);
	for (i = 0; i < cfg->n_segments + cfg->n_devices; i++) {
		uint32_t *slot = i < cfg->n_segments ?
					 &c->seg_id[seg_ord[i]] :
					 &c->dev_id[dev_ord[i - cfg->n_segments]];

		if (*slot)
			continue;
		*slot = lowest_free(c, &next);
		if (!*slot) {
			err_set(err, errlen,
				"too many segments and devices: at most %d identities",
				SEGD_MAX_IDENTITIES - SEGD_ID_FIRST);
			ret = -ENOSPC;
			goto out;
		}
	}

	p->ids = calloc(2 + cfg->n_segments + cfg->n_devices, sizeof(*p->ids));
	if (!p->ids)
		goto out;
	add_identity(p, SEGD_ID_WORLD, SEGD_KIND_BUILTIN, SEGD_ID_WORLD, "world");
	add_identity(p, SEGD_ID_GATEWAY, SEGD_KIND_BUILTIN, SEGD_ID_GATEWAY,
		     "gateway");
	for (i = 0; i < cfg->n_segments; i++)
		add_identity(p, c->seg_id[i], SEGD_KIND_SEGMENT, c->seg_id[i],
			     cfg->segments[i].name);
	for (i = 0; i < cfg->n_devices; i++)
		add_identity(p, c->dev_id[i], SEGD_KIND_DEVICE,
			     c->seg_id[cfg->devices[i].segment],
			     cfg->devices[i].name);
	qsort(p->ids, p->n_ids, sizeof(*p->ids), cmp_identity);
	ret = 0;
out:
	if (ret == -ENOMEM)
		err_set(err, errlen, "out of memory");
	free(hints);
	free(seg_ord);
	free(dev_ord);
	return ret;
}

/* ---------------------------------------------------------------- */
/* Lookup entries                                                     */
/* ---------------------------------------------------------------- */

struct entries {
	struct vec host4, host6, lpm4, lpm6, macs;
};

static struct segd_endpoint mk_ep(uint32_t id, uint32_t seg, uint16_t flags,
				  const uint8_t *mac)
{
	struct segd_endpoint ep;

	memset(&ep, 0, sizeof(ep));
	ep.id = id;
	ep.seg = seg;
	ep.flags = flags;
	if (mac)
		memcpy(ep.mac, mac, 6);
	return ep;
}

static int push_addr(struct entries *E, int family, const uint8_t *addr,
		     int plen, const struct segd_endpoint *ep)
{
	if (family == AF_INET && plen == 32) {
		struct comp_host4 *h = vec_push(&E->host4);

		if (!h)
			return -ENOMEM;
		memset(h, 0, sizeof(*h));
		memcpy(h->addr, addr, 4);
		h->ep = *ep;
	} else if (family == AF_INET) {
		struct comp_lpm4 *l = vec_push(&E->lpm4);

		if (!l)
			return -ENOMEM;
		memset(l, 0, sizeof(*l));
		memcpy(l->addr, addr, 4);
		l->plen = (uint8_t)plen;
		l->ep = *ep;
	} else if (plen == 128) {
		struct comp_host6 *h = vec_push(&E->host6);

		if (!h)
			return -ENOMEM;
		memset(h, 0, sizeof(*h));
		memcpy(h->addr, addr, 16);
		h->ep = *ep;
	} else {
		struct comp_lpm6 *l = vec_push(&E->lpm6);

		if (!l)
			return -ENOMEM;
		memset(l, 0, sizeof(*l));
		memcpy(l->addr, addr, 16);
		l->plen = (uint8_t)plen;
		l->ep = *ep;
	}
	return 0;
}

static int push_mac(struct entries *E, const uint8_t *mac,
		    const struct segd_endpoint *ep)
{
	struct comp_mac *m = vec_push(&E->macs);

	if (!m)
		return -ENOMEM;
	memset(m, 0, sizeof(*m));
	memcpy(m->mac, mac, 6);
	m->ep = *ep;
	return 0;
}

/*
 * A gateway address must not be declared as a member: say where it is.
 * Returns true (and writes @err) when it is.
 */
static bool gw_conflict(const struct cfg_policy *cfg,
			const struct comp_gw_addr *g, char *err, size_t errlen)
{
	int alen = g->family == AF_INET ? 4 : 16;
	int hlen = g->family == AF_INET ? 32 : 128;
	char a[INET6_ADDRSTRLEN];
	size_t i, k;

	inet_ntop(g->family, g->addr, a, sizeof(a));
	for (i = 0; i < cfg->n_segments; i++) {
		const struct cfg_segment *s = &cfg->segments[i];

		for (k = 0; k < s->n_prefixes; k++) {
			const struct cfg_prefix *px = &s->prefixes[k];

			if (px->family != g->family || px->plen != hlen ||
			    memcmp(px->addr, g->addr, (size_t)alen))
				continue;
			err_set(err, errlen,
				"%s:%d:%d: error: %s is an address of this gateway, so it cannot be a member of segment \"%s\"",
				px->pos.file ? px->pos.file : "",
				px->pos.line, px->pos.column, a, s->name);
			return true;
		}
	}
	for (i = 0; i < cfg->n_devices; i++) {
		const struct cfg_device *d = &cfg->devices[i];
		const struct cfg_pos *pos;

		if (g->family == AF_INET && d->has_ipv4 &&
		    !memcmp(d->ipv4, g->addr, 4))
			pos = &d->ipv4_pos;
		else if (g->family == AF_INET6 && d->has_ipv6 &&
			 !memcmp(d->ipv6, g->addr, 16))
			pos = &d->ipv6_pos;
		else
			continue;
		err_set(err, errlen,
			"%s:%d:%d: error: %s is an address of this gateway, so it cannot be the address of device \"%s\"",
			pos->file ? pos->file : "", pos->line, pos->column, a,
			d->name);
		return true;
	}
	return false;
}

static int cmp_host4(const void *a, const void *b)
{
	return memcmp(((const struct comp_host4 *)a)->addr,
		      ((const struct comp_host4 *)b)->addr, 4);
}

static int cmp_host6(const void *a, const void *b)
{
	return memcmp(((const struct comp_host6 *)a)->addr,
		      ((const struct comp_host6 *)b)->addr, 16);
}

static int cmp_lpm4(const void *a, const void *b)
{
	const struct comp_lpm4 *x = a, *y = b;
	int c = memcmp(x->addr, y->addr, 4);

	return c ? c : x->plen - y->plen;
}

static int cmp_lpm6(const void *a, const void *b)
{
	const struct comp_lpm6 *x = a, *y = b;
	int c = memcmp(x->addr, y->addr, 16);

	return c ? c : x->plen - y->plen;
}

static int cmp_mac(const void *a, const void *b)
{
	return memcmp(((const struct comp_mac *)a)->mac,
		      ((const struct comp_mac *)b)->mac, 6);
}

/*
 * Destinations always delivered to the gateway itself, never forwarded
 * (docs/datapath.md step 7): limited broadcast, IPv4 and IPv6 multicast,
 * IPv6 link-local. Entries of `gateway`, destination-only.
 */
static const struct {
	int family;
	uint8_t addr[16];
	int plen;
} builtin_gw[] = {
	{ AF_INET, { 255, 255, 255, 255 }, 32 },
	{ AF_INET, { 224 }, 4 },
	{ AF_INET6, { 0xff }, 8 },
	{ AF_INET6, { 0xfe, 0x80 }, 10 },
};

/* An entry with this key (address and length) is already in E. */
static bool has_key(const struct entries *E, int family, const uint8_t *addr,
		    int plen)
{
	size_t i;

	if (family == AF_INET && plen == 32) {
		const struct comp_host4 *h = E->host4.v;

		for (i = 0; i < E->host4.n; i++)
			if (!memcmp(h[i].addr, addr, 4))
				return true;
	} else if (family == AF_INET) {
		const struct comp_lpm4 *l = E->lpm4.v;

		for (i = 0; i < E->lpm4.n; i++)
			if (l[i].plen == plen && !memcmp(l[i].addr, addr, 4))
				return true;
	} else if (plen == 128) {
		const struct comp_host6 *h = E->host6.v;

		for (i = 0; i < E->host6.n; i++)
			if (!memcmp(h[i].addr, addr, 16))
				return true;
	} else {
		const struct comp_lpm6 *l = E->lpm6.v;

		for (i = 0; i < E->lpm6.n; i++)
			if (l[i].plen == plen && !memcmp(l[i].addr, addr, 16))
				return true;
	}
	return false;
}

static int build_entries(struct comp_policy *p, const struct id_ctx *c,
			 const struct comp_gw_addr *gw, size_t n_gw,
			 char *err, size_t errlen)
{
	const struct cfg_policy *cfg = c->cfg;
	struct entries E = {
		.host4 = { .size = sizeof(struct comp_host4) },
		.host6 = { .size = sizeof(struct comp_host6) },
		.lpm4 = { .size = sizeof(struct comp_lpm4) },
		.lpm6 = { .size = sizeof(struct comp_lpm6) },
		.macs = { .size = sizeof(struct comp_mac) },
	};
	struct segd_endpoint ep;
	size_t i, k;
	int ret = -ENOMEM;

	for (i = 0; i < cfg->n_segments; i++) {
		const struct cfg_segment *s = &cfg->segments[i];
		uint16_t flags = s->audit ? SEGD_EP_AUDIT : 0;

		ep = mk_ep(c->seg_id[i], c->seg_id[i], flags, NULL);
		for (k = 0; k < s->n_prefixes; k++) {
			if (push_addr(&E, s->prefixes[k].family,
				      s->prefixes[k].addr, s->prefixes[k].plen,
				      &ep))
				goto fail;
		}
		for (k = 0; k < s->n_macs; k++) {
			if (push_mac(&E, s->macs[k].mac, &ep))
				goto fail;
		}
	}
	for (i = 0; i < cfg->n_devices; i++) {
		const struct cfg_device *d = &cfg->devices[i];
		const struct cfg_segment *s = &cfg->segments[d->segment];
		uint32_t seg = c->seg_id[d->segment];
		uint16_t flags = s->audit ? SEGD_EP_AUDIT : 0;
		bool bound = d->has_mac && (d->has_ipv4 || d->has_ipv6);

		ep = mk_ep(c->dev_id[i], seg,
			   flags | (bound ? SEGD_EP_MAC_BOUND : 0),
			   bound ? d->mac : NULL);
		if (d->has_ipv4 && push_addr(&E, AF_INET, d->ipv4, 32, &ep))
			goto fail;
		if (d->has_ipv6 && push_addr(&E, AF_INET6, d->ipv6, 128, &ep))
			goto fail;
		ep = mk_ep(c->dev_id[i], seg, flags, NULL);
		if (d->has_mac && push_mac(&E, d->mac, &ep))
			goto fail;
	}
	ep = mk_ep(SEGD_ID_GATEWAY, SEGD_ID_GATEWAY, 0, NULL);
	for (i = 0; i < n_gw; i++) {
		if (gw[i].family != AF_INET && gw[i].family != AF_INET6) {
			err_set(err, errlen,
				"gateway address %zu: unknown address family %d",
				i, gw[i].family);
			ret = -EINVAL;
			goto fail;
		}
		if (gw_conflict(cfg, &gw[i], err, errlen)) {
			ret = -EINVAL;
			goto fail;
		}
		if (push_addr(&E, gw[i].family, gw[i].addr,
			      gw[i].family == AF_INET ? 32 : 128, &ep))
			goto fail;
	}
	/* Built-ins last: a member or gateway address declared with the same
	 * key keeps it; more specific members win by longest prefix. */
	ep = mk_ep(SEGD_ID_GATEWAY, SEGD_ID_GATEWAY, SEGD_EP_DST_ONLY, NULL);
	for (i = 0; i < sizeof(builtin_gw) / sizeof(builtin_gw[0]); i++) {
		if (has_key(&E, builtin_gw[i].family, builtin_gw[i].addr,
			    builtin_gw[i].plen))
			continue;
		if (push_addr(&E, builtin_gw[i].family, builtin_gw[i].addr,
			      builtin_gw[i].plen, &ep))
			goto fail;
	}

	vec_sort(&E.host4, cmp_host4);
	vec_sort(&E.host6, cmp_host6);
	vec_sort(&E.lpm4, cmp_lpm4);
	vec_sort(&E.lpm6, cmp_lpm6);
	vec_sort(&E.macs, cmp_mac);
	/*
	 * The same entry twice (a member listed twice in one segment, a
	 * gateway address given twice) is folded; the same key with two
	 * meanings cannot come out of a validated model.
	 */
	if (vec_uniq(&E.host4, 4) || vec_uniq(&E.host6, 16) ||
	    vec_uniq(&E.lpm4, 5) || vec_uniq(&E.lpm6, 17) ||
	    vec_uniq(&E.macs, 6)) {
		err_set(err, errlen,
			"internal error: one address or MAC maps to two identities");
		ret = -EINVAL;
		goto fail;
	}
	p->host4 = E.host4.v;
	p->n_host4 = E.host4.n;
	p->host6 = E.host6.v;
	p->n_host6 = E.host6.n;
	p->lpm4 = E.lpm4.v;
	p->n_lpm4 = E.lpm4.n;
	p->lpm6 = E.lpm6.v;
	p->n_lpm6 = E.lpm6.n;
	p->macs = E.macs.v;
	p->n_macs = E.macs.n;
	return 0;
fail:
	if (ret == -ENOMEM)
		err_set(err, errlen, "out of memory");
	free(E.host4.v);
	free(E.host6.v);
	free(E.lpm4.v);
	free(E.lpm6.v);
	free(E.macs.v);
	return ret;
}

/* ---------------------------------------------------------------- */
/* Allow set                                                          */
/* ---------------------------------------------------------------- */

struct svc_tuple {
	uint8_t proto;
	uint16_t port;
};

/* Every identity a reference stands for. */
static int expand_ref(const struct comp_policy *p, const struct id_ctx *c,
		      const struct cfg_ref *r, struct vec *out)
{
	const struct cfg_policy *cfg = c->cfg;
	uint32_t *id;
	size_t i;

	switch (r->kind) {
	case CFG_REF_WORLD:
	case CFG_REF_GATEWAY:
		id = vec_push(out);
		if (!id)
			return -ENOMEM;
		*id = r->kind == CFG_REF_WORLD ? SEGD_ID_WORLD :
						 SEGD_ID_GATEWAY;
		return 0;
	case CFG_REF_DEVICE:
		if (r->index >= cfg->n_devices)
			return -EINVAL;
		id = vec_push(out);
		if (!id)
			return -ENOMEM;
		*id = c->dev_id[r->index];
		return 0;
	case CFG_REF_SEGMENT: {
		const struct cfg_segment *s;

		if (r->index >= cfg->n_segments)
			return -EINVAL;
		s = &cfg->segments[r->index];
		id = vec_push(out);
		if (!id)
			return -ENOMEM;
		*id = c->seg_id[r->index];
		for (i = 0; i < s->n_devices; i++) {
			id = vec_push(out);
			if (!id)
				return -ENOMEM;
			*id = c->dev_id[s->devices[i]];
		}
		return 0;
	}
	case CFG_REF_ANY:
		for (i = 0; i < p->n_ids; i++) {
			id = vec_push(out);
			if (!id)
				return -ENOMEM;
			*id = p->ids[i].id;
		}
		return 0;
	}
	return -EINVAL;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int expand_refs(const struct comp_policy *p, const struct id_ctx *c,
		       const struct cfg_ref *refs, size_t n, struct vec *out)
{
	size_t i;
	int ret;

	out->n = 0;
	for (i = 0; i < n; i++) {
		ret = expand_ref(p, c, &refs[i], out);
		if (ret)
			return ret;
	}
	vec_sort(out, cmp_u32);
	return vec_uniq(out, sizeof(uint32_t));
}

static int cmp_tuple(const void *a, const void *b)
{
	const struct svc_tuple *x = a, *y = b;

	if (x->proto != y->proto)
		return x->proto < y->proto ? -1 : 1;
	return x->port < y->port ? -1 : x->port > y->port;
}

static int expand_services(const struct cfg_policy *cfg,
			   const struct cfg_rule *r, struct vec *out)
{
	struct svc_tuple *t;
	size_t i, k, j;

	out->n = 0;
	for (i = 0; i < r->n_services; i++) {
		const struct cfg_service *s;

		if (r->services[i] >= cfg->n_services)
			return -EINVAL;
		s = &cfg->services[r->services[i]];
		for (k = 0; k < s->n_entries; k++) {
			const struct cfg_service_entry *e = &s->entries[k];
			bool has_ports = e->proto == IPPROTO_TCP ||
					 e->proto == IPPROTO_UDP;

			/* any protocol, no ports, or ICMP (no types yet) */
			if (!has_ports || !e->n_ports) {
				t = vec_push(out);
				if (!t)
					return -ENOMEM;
				t->proto = e->proto;
				t->port = 0;
				continue;
			}
			for (j = 0; j < e->n_ports; j++) {
				t = vec_push(out);
				if (!t)
					return -ENOMEM;
				t->proto = e->proto;
				t->port = e->ports[j];
			}
		}
	}
	vec_sort(out, cmp_tuple);
	for (i = 0, k = 0; i < out->n; i++) {
		struct svc_tuple *v = out->v;

		if (k && !cmp_tuple(&v[k - 1], &v[i]))
			continue;
		v[k++] = v[i];
	}
	out->n = k;
	return 0;
}

static int push_allows(struct vec *allows, const struct vec *src,
		       const struct vec *dst, const struct vec *tuples,
		       uint32_t rule)
{
	const uint32_t *s = src->v, *d = dst->v;
	const struct svc_tuple *t = tuples->v;
	size_t i, j, k;

	if (src->n && dst->n && tuples->n &&
	    allows->n + src->n * dst->n * tuples->n > COMP_MAX_RAW_ALLOWS)
		return -E2BIG;
	for (i = 0; i < src->n; i++) {
		for (j = 0; j < dst->n; j++) {
			for (k = 0; k < tuples->n; k++) {
				struct comp_allow *a = vec_push(allows);

				if (!a)
					return -ENOMEM;
				memset(a, 0, sizeof(*a));
				a->src_id = s[i];
				a->dst_id = d[j];
				a->proto = t[k].proto;
				a->port = t[k].port;
				a->rule = rule;
			}
		}
	}
	return 0;
}

static int cmp_allow(const void *a, const void *b)
{
	const struct comp_allow *x = a, *y = b;

	if (x->src_id != y->src_id)
		return x->src_id < y->src_id ? -1 : 1;
	if (x->dst_id != y->dst_id)
		return x->dst_id < y->dst_id ? -1 : 1;
	if (x->proto != y->proto)
		return x->proto < y->proto ? -1 : 1;
	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	return x->rule < y->rule ? -1 : x->rule > y->rule;
}

/* The policy map's key: everything but the rule. */
static int cmp_allow_key(const void *a, const void *b)
{
	struct comp_allow x = *(const struct comp_allow *)a;

	x.rule = ((const struct comp_allow *)b)->rule;
	return cmp_allow(&x, b);
}

static bool same_allow_key(const struct comp_allow *x,
			   const struct comp_allow *y)
{
	return x->src_id == y->src_id && x->dst_id == y->dst_id &&
	       x->proto == y->proto && x->port == y->port;
}

static int build_allows(struct comp_policy *p, const struct id_ctx *c,
			char *err, size_t errlen)
{
	const struct cfg_policy *cfg = c->cfg;
	struct vec allows = { .size = sizeof(struct comp_allow) };
	struct vec src = { .size = sizeof(uint32_t) };
	struct vec dst = { .size = sizeof(uint32_t) };
	struct vec tuples = { .size = sizeof(struct svc_tuple) };
	struct vec names = { .size = sizeof(char *) };
	struct comp_allow *a;
	size_t *intra = NULL, n_intra = 0, i, k;
	char **name;
	int ret = -ENOMEM;

	for (i = 0; i < cfg->n_rules; i++) {
		const struct cfg_rule *r = &cfg->rules[i];

		name = vec_push(&names);
		if (!name)
			goto out;
		*name = strdup(r->name);
		if (!*name) {
			names.n--;
			goto out;
		}
		ret = expand_refs(p, c, r->from, r->n_from, &src);
		if (!ret)
			ret = expand_refs(p, c, r->to, r->n_to, &dst);
		if (!ret)
			ret = expand_services(cfg, r, &tuples);
		if (!ret)
			ret = push_allows(&allows, &src, &dst, &tuples,
					  (uint32_t)i);
		if (ret)
			goto out;
		ret = -ENOMEM;
	}

	/* intra: allow, in segment name order, after the rules */
	intra = calloc(cfg->n_segments + 1, sizeof(*intra));
	if (!intra)
		goto out;
	for (i = 0; i < cfg->n_segments; i++) {
		if (cfg->segments[i].intra_allow)
			intra[n_intra++] = i;
	}
	qsort_r(intra, n_intra, sizeof(*intra), cmp_seg_idx, (void *)cfg);
	for (k = 0; k < n_intra; k++) {
		struct cfg_ref ref = { .kind = CFG_REF_SEGMENT,
				       .index = intra[k] };
		struct svc_tuple *t;

		name = vec_push(&names);
		if (!name)
			goto out;
		if (asprintf(name, "intra:%s", cfg->segments[intra[k]].name) <
		    0) {
			names.n--;
			goto out;
		}
		tuples.n = 0;
		t = vec_push(&tuples);
		if (!t)
			goto out;
		t->proto = 0;
		t->port = 0;
		ret = expand_refs(p, c, &ref, 1, &src);
		if (!ret)
			ret = push_allows(&allows, &src, &src, &tuples,
					  (uint32_t)(cfg->n_rules + k));
		if (ret)
			goto out;
		ret = -ENOMEM;
	}

	/* isolation.still_allowed, after intra: (ISOLATED, T, service) and
	 * (T, ISOLATED, service), docs/datapath.md step 7b */
	for (k = 0; k < cfg->n_still_allowed; k++) {
		const struct cfg_rule *r = &cfg->still_allowed[k];
		struct vec iso = { .size = sizeof(uint32_t) };
		uint32_t *id;

		name = vec_push(&names);
		if (!name)
			goto out;
		*name = strdup(r->name);
		if (!*name) {
			names.n--;
			goto out;
		}
		id = vec_push(&iso);
		if (!id)
			goto out;
		*id = SEGD_ID_ISOLATED;
		ret = expand_refs(p, c, r->to, r->n_to, &dst);
		if (!ret)
			ret = expand_services(cfg, r, &tuples);
		if (!ret)
			ret = push_allows(&allows, &iso, &dst, &tuples,
					  (uint32_t)(names.n - 1));
		if (!ret)
			ret = push_allows(&allows, &dst, &iso, &tuples,
					  (uint32_t)(names.n - 1));
		free(iso.v);
		if (ret)
			goto out;
		ret = -ENOMEM;
	}

	vec_sort(&allows, cmp_allow);
	a = allows.v;
	for (i = 0, k = 0; i < allows.n; i++) {
		/* sorted by rule last: the first rule wins */
		if (k && same_allow_key(&a[k - 1], &a[i]))
			continue;
		a[k++] = a[i];
	}
	allows.n = k;
	p->allows = allows.v;
	p->n_allows = allows.n;
	allows.v = NULL;
	p->rule_names = names.v;
	p->n_rules = names.n;
	names.v = NULL;
	names.n = 0;
	ret = 0;
out:
	if (ret == -ENOMEM)
		err_set(err, errlen, "out of memory");
	else if (ret == -E2BIG)
		err_set(err, errlen,
			"the rules expand to more than %lu allow entries",
			COMP_MAX_RAW_ALLOWS);
	else if (ret)
		err_set(err, errlen, "internal error: bad reference in a rule");
	for (i = 0; i < names.n; i++)
		free(((char **)names.v)[i]);
	free(names.v);
	free(allows.v);
	free(src.v);
	free(dst.v);
	free(tuples.v);
	free(intra);
	return ret;
}

/* ---------------------------------------------------------------- */
/* Public API                                                         */
/* ---------------------------------------------------------------- */

/* Every service as (name, proto, port) tuples, for break-glass. */
static int build_svcs(struct comp_policy *p, const struct cfg_policy *cfg)
{
	size_t i, k, j, n = 0;

	for (i = 0; i < cfg->n_services; i++)
		for (k = 0; k < cfg->services[i].n_entries; k++)
			n += cfg->services[i].entries[k].n_ports + 1;
	p->svcs = calloc(n + 1, sizeof(*p->svcs));
	if (!p->svcs)
		return -ENOMEM;
	for (i = 0; i < cfg->n_services; i++) {
		const struct cfg_service *s = &cfg->services[i];

		for (k = 0; k < s->n_entries; k++) {
			const struct cfg_service_entry *e = &s->entries[k];
			bool has_ports = e->proto == IPPROTO_TCP ||
					 e->proto == IPPROTO_UDP;
			size_t np = has_ports && e->n_ports ? e->n_ports : 1;

			for (j = 0; j < np; j++) {
				struct comp_svc *t = &p->svcs[p->n_svcs++];

				snprintf(t->name, sizeof(t->name), "%s", s->name);
				t->proto = e->proto;
				t->port = np == e->n_ports && has_ports ?
					  e->ports[j] : 0;
			}
		}
	}
	return 0;
}

void comp_free(struct comp_policy *p)
{
	size_t i;

	if (!p)
		return;
	free(p->ids);
	free(p->host4);
	free(p->host6);
	free(p->lpm4);
	free(p->lpm6);
	free(p->macs);
	free(p->allows);
	free(p->svcs);
	for (i = 0; i < p->n_rules; i++)
		free(p->rule_names[i]);
	free(p->rule_names);
	free(p);
}

int comp_build(const struct cfg_policy *cfg, const struct comp_gw_addr *gw,
	       size_t n_gw, const struct comp_id_hint *hints, size_t n_hints,
	       struct comp_policy **out, char *err, size_t errlen)
{
	struct comp_policy *p = NULL;
	struct id_ctx *c = NULL;
	int ret;

	if (out)
		*out = NULL;
	if (!cfg || !out || (n_gw && !gw) || (n_hints && !hints)) {
		err_set(err, errlen, "invalid arguments");
		return -EINVAL;
	}
	ret = -ENOMEM;
	p = calloc(1, sizeof(*p));
	c = calloc(1, sizeof(*c));
	if (!p || !c)
		goto fail_nomem;
	c->cfg = cfg;
	c->seg_id = calloc(cfg->n_segments + 1, sizeof(*c->seg_id));
	c->dev_id = calloc(cfg->n_devices + 1, sizeof(*c->dev_id));
	if (!c->seg_id || !c->dev_id)
		goto fail_nomem;

	ret = assign_ids(p, c, hints, n_hints, err, errlen);
	if (!ret)
		ret = build_entries(p, c, gw, n_gw, err, errlen);
	if (!ret)
		ret = build_allows(p, c, err, errlen);
	if (!ret && build_svcs(p, cfg)) {
		ret = -ENOMEM;
		err_set(err, errlen, "out of memory");
	}
	if (ret)
		goto fail;
	p->flags = SEGD_CFG_LOADED;
	if (cfg->docs)
		memcpy(p->digest, cfg->docs->digest, sizeof(p->digest));
	p->digest[sizeof(p->digest) - 1] = '\0';
	free(c->seg_id);
	free(c->dev_id);
	free(c);
	*out = p;
	return 0;
fail_nomem:
	err_set(err, errlen, "out of memory");
fail:
	if (c) {
		free(c->seg_id);
		free(c->dev_id);
		free(c);
	}
	comp_free(p);
	return ret;
}

const struct comp_identity *comp_identity(const struct comp_policy *p,
					  uint32_t id)
{
	struct comp_identity key = { .id = id };

	if (!p || !p->n_ids)
		return NULL;
	return bsearch(&key, p->ids, p->n_ids, sizeof(*p->ids), cmp_identity);
}

/* ---------------------------------------------------------------- */
/* explain                                                            */
/* ---------------------------------------------------------------- */

static const struct segd_endpoint *find_host(const struct comp_policy *p,
					     int family, const uint8_t *addr)
{
	if (family == AF_INET) {
		struct comp_host4 key, *h;

		memcpy(key.addr, addr, 4);
		h = p->n_host4 ? bsearch(&key, p->host4, p->n_host4,
					 sizeof(key), cmp_host4) :
				 NULL;
		return h ? &h->ep : NULL;
	} else {
		struct comp_host6 key, *h;

		memcpy(key.addr, addr, 16);
		h = p->n_host6 ? bsearch(&key, p->host6, p->n_host6,
					 sizeof(key), cmp_host6) :
				 NULL;
		return h ? &h->ep : NULL;
	}
}

static const struct segd_endpoint *find_mac(const struct comp_policy *p,
					    const uint8_t *mac)
{
	struct comp_mac key, *m;

	memcpy(key.mac, mac, 6);
	m = p->n_macs ? bsearch(&key, p->macs, p->n_macs, sizeof(key),
				cmp_mac) :
			NULL;
	return m ? &m->ep : NULL;
}

static bool prefix_match(const uint8_t *net, const uint8_t *addr, int plen)
{
	int full = plen / 8, rest = plen % 8;

	if (memcmp(net, addr, (size_t)full))
		return false;
	if (!rest)
		return true;
	return !((net[full] ^ addr[full]) & (uint8_t)(0xff << (8 - rest)));
}

static const struct segd_endpoint *find_lpm(const struct comp_policy *p,
					    int family, const uint8_t *addr)
{
	const struct segd_endpoint *best = NULL;
	int best_len = -1;
	size_t i;

	if (family == AF_INET) {
		for (i = 0; i < p->n_lpm4; i++) {
			if (p->lpm4[i].plen > best_len &&
			    prefix_match(p->lpm4[i].addr, addr, p->lpm4[i].plen)) {
				best = &p->lpm4[i].ep;
				best_len = p->lpm4[i].plen;
			}
		}
	} else {
		for (i = 0; i < p->n_lpm6; i++) {
			if (p->lpm6[i].plen > best_len &&
			    prefix_match(p->lpm6[i].addr, addr, p->lpm6[i].plen)) {
				best = &p->lpm6[i].ep;
				best_len = p->lpm6[i].plen;
			}
		}
	}
	return best;
}

/* (src, dst, proto, port), then (.., proto, 0), then (.., 0, 0). */
static const struct comp_allow *find_allow(const struct comp_policy *p,
					   uint32_t src, uint32_t dst,
					   uint8_t proto, uint16_t port)
{
	struct comp_allow key;
	const struct comp_allow *a;
	int step;

	/* allows are sorted and unique by (src, dst, proto, port) */
	if (!p->n_allows)
		return NULL;
	for (step = 0; step < 3; step++) {
		memset(&key, 0, sizeof(key));
		key.src_id = src;
		key.dst_id = dst;
		key.proto = step < 2 ? proto : 0;
		key.port = step < 1 ? port : 0;
		a = bsearch(&key, p->allows, p->n_allows, sizeof(key),
			    cmp_allow_key);
		if (a)
			return a;
	}
	return NULL;
}

/*
 * Step 8 as the XDP program's is_local_control(): DHCP and DHCPv6 only to
 * the gateway itself. ND and MLD: the probe has no hop limit, so explain
 * assumes the link-local one (255 for ND, 1 for MLD).
 */
static bool is_local(const struct comp_probe *q,
		     const struct segd_endpoint *dst)
{
	uint16_t sp = q->sport, dp = q->dport;

	if (q->proto == IPPROTO_UDP && dst->id != SEGD_ID_GATEWAY)
		return false;
	if (q->proto == IPPROTO_UDP && q->family == AF_INET) {
		if ((dp == 67 && (sp == 68 || !sp)) ||
		    (dp == 68 && (sp == 67 || !sp)))
			return true;
	}
	if (q->proto == IPPROTO_UDP && q->family == AF_INET6) {
		if ((dp == 547 && (sp == 546 || !sp)) ||
		    (dp == 546 && (sp == 547 || !sp)))
			return true;
	}
	if (q->proto == IPPROTO_ICMPV6 && q->family == AF_INET6) {
		uint8_t t = q->icmp_type;

		/* Neighbor Discovery 133-137, MLD 130-132 and 143 */
		if ((t >= 133 && t <= 137) || (t >= 130 && t <= 132) ||
		    t == 143)
			return true;
	}
	return false;
}

static uint16_t probe_port(const struct comp_probe *q)
{
	if (q->proto == IPPROTO_TCP || q->proto == IPPROTO_UDP)
		return q->dport;
	if (q->proto == IPPROTO_ICMP || q->proto == IPPROTO_ICMPV6)
		return SEGD_ICMP_PORT(q->icmp_type);
	return 0;
}

static bool bg_pair(const struct comp_probe *q, uint32_t src, uint32_t dst,
		    uint16_t port)
{
	size_t i;

	for (i = 0; i < q->n_bg; i++) {
		const struct segd_bg_key *k = &q->bg[i];

		if (k->src_id == src && k->dst_id == dst &&
		    (!k->proto || (k->proto == q->proto &&
				   (k->port == port || !k->port))))
			return true;
	}
	return false;
}

/* Step 11b, in the data path's order (bpf/breakglass.h). */
static bool bg_match(const struct comp_probe *q,
		     const struct segd_endpoint *src,
		     const struct segd_endpoint *dst)
{
	uint16_t port = probe_port(q);

	return bg_pair(q, src->id, dst->id, port) ||
	       bg_pair(q, src->seg, dst->id, port) ||
	       bg_pair(q, src->id, dst->seg, port) ||
	       bg_pair(q, src->seg, dst->seg, port);
}

void comp_explain(const struct comp_policy *p, const struct comp_probe *q,
		  struct comp_verdict *out)
{
	const struct segd_endpoint *ep;
	const struct comp_allow *a, *iso = NULL;

	if (!out)
		return;
	memset(out, 0, sizeof(*out));
	out->verdict = SEGD_VERDICT_DROP;
	out->reason = SEGD_REASON_MALFORMED;
	if (!p || !q || (q->family != AF_INET && q->family != AF_INET6))
		return;

	/* 7. identities; destination-only entries do not name a source */
	ep = find_host(p, q->family, q->src);
	if (ep && (ep->flags & SEGD_EP_DST_ONLY))
		ep = NULL;
	if (!ep && q->has_src_mac)
		ep = find_mac(p, q->src_mac);
	if (!ep)
		ep = find_lpm(p, q->family, q->src);
	if (ep && (ep->flags & SEGD_EP_DST_ONLY))
		ep = NULL;
	out->src = ep ? *ep : mk_ep(SEGD_ID_WORLD, SEGD_ID_WORLD, 0, NULL);
	ep = find_host(p, q->family, q->dst);
	if (!ep)
		ep = find_lpm(p, q->family, q->dst);
	out->dst = ep ? *ep : mk_ep(SEGD_ID_WORLD, SEGD_ID_WORLD, 0, NULL);

	/* 7b. isolation: only remediation traffic goes on (segd fills
	 * src_isolated / dst_isolated from its isolation list) */
	if (q->src_isolated || q->dst_isolated) {
		uint32_t s = q->src_isolated ? SEGD_ID_ISOLATED : out->src.id;
		uint32_t d = q->dst_isolated ? SEGD_ID_ISOLATED : out->dst.id;

		iso = s != d ? find_allow(p, s, d, q->proto, probe_port(q)) :
			       NULL;
		if (!iso && s != d &&
		    ((q->proto == IPPROTO_ICMP && q->icmp_type == 0) ||
		     (q->proto == IPPROTO_ICMPV6 && q->icmp_type == 129)))
			iso = find_allow(p, d, s, q->proto,
					 SEGD_ICMP_PORT(q->proto == IPPROTO_ICMP ?
								8 : 128));
		if (!iso) {
			out->verdict = SEGD_VERDICT_DROP;
			out->reason = SEGD_REASON_ISOLATED;
			return;
		}
	}

	/* 8. local control traffic */
	if (is_local(q, &out->dst)) {
		out->verdict = SEGD_VERDICT_PASS;
		out->reason = SEGD_REASON_LOCAL;
		return;
	}
	/* 9. anti-spoof: without a MAC, assume the bound one. Routes are
	 * not known here: explain assumes the frame arrived on the interface
	 * its source routes through (the reverse-path check passes). */
	if ((out->src.flags & SEGD_EP_MAC_BOUND) && q->has_src_mac &&
	    memcmp(out->src.mac, q->src_mac, 6)) {
		out->verdict = SEGD_VERDICT_DROP;
		out->reason = SEGD_REASON_SPOOFED;
		return;
	}
	/* 10. (non-first fragments) does not apply to a flow's first packet */
	/* 11. policy; remediation traffic of an isolated host (7b) */
	if (iso) {
		out->verdict = SEGD_VERDICT_PASS;
		out->reason = SEGD_REASON_ALLOWED;
		out->has_rule = true;
		out->rule = iso->rule;
		return;
	}
	a = find_allow(p, out->src.id, out->dst.id, q->proto, probe_port(q));
	if (a) {
		out->verdict = SEGD_VERDICT_PASS;
		out->reason = SEGD_REASON_ALLOWED;
		out->has_rule = true;
		out->rule = a->rule;
		return;
	}
	/* 11b. break-glass allows in force (segd fills q->bg) */
	if (bg_match(q, &out->src, &out->dst)) {
		out->verdict = SEGD_VERDICT_PASS;
		out->reason = SEGD_REASON_BREAKGLASS;
		return;
	}
	/* 12. replies: only echo replies can be known without conntrack */
	if ((q->proto == IPPROTO_ICMP && q->icmp_type == 0) ||
	    (q->proto == IPPROTO_ICMPV6 && q->icmp_type == 129)) {
		uint8_t req = q->proto == IPPROTO_ICMP ? 8 : 128;

		a = find_allow(p, out->dst.id, out->src.id, q->proto,
			       SEGD_ICMP_PORT(req));
		if (a) {
			out->verdict = SEGD_VERDICT_PASS;
			out->reason = SEGD_REASON_REPLY;
			out->has_rule = true;
			out->rule = a->rule;
			return;
		}
	}
	/* 13. audit */
	if ((p->flags & SEGD_CFG_AUDIT) || (out->src.flags & SEGD_EP_AUDIT) ||
	    (out->dst.flags & SEGD_EP_AUDIT)) {
		out->verdict = SEGD_VERDICT_PASS;
		out->reason = SEGD_REASON_AUDIT;
		return;
	}
	/* 14. default deny */
	out->verdict = SEGD_VERDICT_DROP;
	out->reason = SEGD_REASON_POLICY;
}

static const char *const reason_names[SEGD_REASON__MAX] = {
	[SEGD_REASON_ALLOWED] = "allowed",
	[SEGD_REASON_REPLY] = "reply",
	[SEGD_REASON_LOCAL] = "local",
	[SEGD_REASON_FRAGMENT] = "fragment",
	[SEGD_REASON_AUDIT] = "audit",
	[SEGD_REASON_POLICY] = "policy",
	[SEGD_REASON_SPOOFED] = "spoofed",
	[SEGD_REASON_MALFORMED] = "malformed",
	[SEGD_REASON_UNKNOWN_ETHERTYPE] = "unknown_ethertype",
	[SEGD_REASON_ISOLATED] = "isolated",
	[SEGD_REASON_NO_POLICY] = "no_policy",
	[SEGD_REASON_BREAKGLASS] = "breakglass",
};

const char *comp_reason_name(unsigned reason)
{
	if (reason >= SEGD_REASON__MAX || !reason_names[reason])
		return "invalid";
	return reason_names[reason];
}

const char *comp_verdict_name(unsigned verdict)
{
	switch (verdict) {
	case SEGD_VERDICT_PASS:
		return "pass";
	case SEGD_VERDICT_DROP:
		return "drop";
	default:
		return "invalid";
	}
}
