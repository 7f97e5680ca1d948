/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * loader.h - the XDP object: load (adopting pinned maps), attach, pins.
 *
 * Every map of the object is pinned at <pin-dir>/<map name>. The pin path
 * is set before load, so libbpf reuses a map that is already pinned there
 * (a restarted segd adopts the live maps: no gap, counters kept) and pins a
 * new one otherwise. A pinned map whose layout or capacity differs from
 * this build's is refused at load (the _vN suffix changes with a layout).
 *
 * Each interface gets one bpf_link, pinned at <pin-dir>/link_<ifname>. If
 * such a link is already pinned (segd restarted), the new program replaces
 * the old one in it (bpf_link_update): the interface is never without a
 * program. Links and maps stay when segd exits; only `segctl teardown`
 * removes them.
 */
#ifndef SEGD_LOADER_H
#define SEGD_LOADER_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum ldr_xdp_mode {
	LDR_XDP_NATIVE = 0,	/* driver mode; refuse interfaces without it */
	LDR_XDP_SKB = 1,	/* generic mode (--xdp-mode skb) */
};

struct ldr;
struct bpf_object;

/* What is attached to an interface, as the kernel reports it. */
struct ldr_iface_state {
	char name[IF_NAMESIZE];
	int ifindex;		/* 0 when the interface is gone */
	bool attached;		/* our program (by id) runs there */
	const char *mode;	/* "native", "skb", "hw", "multi" or NULL */
	uint32_t prog_id;	/* program attached there, 0 if none */
	char link_pin[4096];	/* <pin-dir>/link_<ifname> */
	bool pinned;		/* the link pin exists */
};

/*
 * ldr_check_bpffs - 0 if @pin_dir (or, when it does not exist yet, its
 * nearest existing parent) is on a BPF filesystem; -ENOTSUP otherwise with
 * a message in @err that says how to mount one.
 */
int ldr_check_bpffs(const char *pin_dir, char *err, size_t errlen);

/* ldr_link_pin_path - <pin_dir>/link_<ifname>; -ENAMETOOLONG if too long. */
int ldr_link_pin_path(const char *pin_dir, const char *ifname, char *buf,
		      size_t len);

/* A map size asked for at start (segd --max-*): max_entries of @map. */
struct ldr_cap {
	const char *map;	/* SEGD_MAP_* */
	uint32_t max_entries;
};

/*
 * ldr_open_load - open the skeleton, set the max_entries of @caps (@n_caps
 * entries, may be 0: the build's defaults), point every map at its pin path
 * under @pin_dir (created if needed), load. A pinned map that differs only
 * in max_entries is adopted with its pinned size, and a warning says so (a
 * new size takes effect after `segctl teardown --yes`). Pinned maps named
 * segd_* that this build does not have (a layout changed: the _vN suffix
 * moved on) are logged and remembered for ldr_remove_stale_pins(). Returns
 * a new loader or NULL with errno set and @err filled.
 */
struct ldr *ldr_open_load(const char *pin_dir, enum ldr_xdp_mode mode,
			  const struct ldr_cap *caps, size_t n_caps,
			  char *err, size_t errlen);

/*
 * ldr_remove_stale_pins - unpin the segd_* maps of another build found by
 * ldr_open_load. Call once the new program runs on every interface: a
 * program still holding such a map keeps it alive until it goes. Returns
 * the number removed.
 */
int ldr_remove_stale_pins(struct ldr *l);

/*
 * ldr_set_event_limits - drop event rate limit for the next ldr_open_load:
 * events per second per (source address, destination segment), 0 for no
 * limit, and the burst (docs/telemetry.md).
 */
void ldr_set_event_limits(uint32_t rate, uint32_t burst);

/*
 * ldr_set_rpf - strict reverse-path check (the XDP knob segd_rpf,
 * docs/datapath.md step 9) for the next ldr_open_load; on by default,
 * off with `segd --no-rpf`.
 */
void ldr_set_rpf(bool on);

struct bpf_object *ldr_object(const struct ldr *l);

/* Maps this load created (none was pinned under its name): all of them on
 * a first start, those whose layout changed after an upgrade, else 0. */
size_t ldr_n_created(const struct ldr *l);

/*
 * ldr_unpin_if_first - a first start (every map created by this load) that
 * fails before it enforces takes its pins back, so that no map sized or
 * filled by a refused start stays behind for the next one to adopt. Does
 * nothing when any map was adopted. 1 when it unpinned, 0 when it had
 * nothing to do, or a negative errno.
 */
int ldr_unpin_if_first(struct ldr *l);

/* Id of the loaded program (as in bpftool prog). */
uint32_t ldr_prog_id(const struct ldr *l);

/*
 * ldr_attach - run the program on @ifname: update the link pinned for it,
 * or create and pin a new link. In native mode an interface whose driver
 * has no XDP support is refused (-EOPNOTSUPP), never silently run in
 * generic mode. *@created tells whether a new link was made (rather than
 * a pinned one updated). Returns 0 or a negative errno with @err filled.
 */
int ldr_attach(struct ldr *l, const char *ifname, bool *created, char *err,
	       size_t errlen);

/*
 * ldr_unpin_link - remove <pin_dir>/link_<ifname>. With no other holder,
 * this detaches the program from the interface. 0, or negative errno.
 */
int ldr_unpin_link(const char *pin_dir, const char *ifname);

/*
 * ldr_iface_query - what the kernel has on @ifname, judged against
 * @prog_id (0: any program counts as attached).
 */
int ldr_iface_query(const char *pin_dir, const char *ifname, uint32_t prog_id,
		    struct ldr_iface_state *st);

/* ldr_free - close our fds. Pinned maps and links stay in the kernel. */
void ldr_free(struct ldr *l);

#endif /* SEGD_LOADER_H */
