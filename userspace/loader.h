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

/*
 * ldr_open_load - open the skeleton, point every map at its pin path under
 * @pin_dir (created if needed), load. Returns a new loader or NULL with
 * errno set and @err filled.
 */
struct ldr *ldr_open_load(const char *pin_dir, enum ldr_xdp_mode mode,
			  char *err, size_t errlen);

struct bpf_object *ldr_object(const struct ldr *l);

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
