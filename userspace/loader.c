// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * loader.c - open, adopt, load, attach and pin (see loader.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/if_link.h>
#include <linux/magic.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "errbuf.h"
#include "../include/segd_abi.h"
#include "loader.h"
#include "log.h"
#include "segd.skel.h"

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif

#define LDR_MAX_STALE 32

struct ldr {
	char pin_dir[PATH_MAX];
	enum ldr_xdp_mode mode;
	struct segd_bpf *skel;
	uint32_t prog_id;
	char *stale[LDR_MAX_STALE];	/* pinned segd_* maps of another build */
	size_t n_stale;
	size_t n_created;	/* maps not pinned before this load */
	size_t n_maps;		/* maps this load pins */
};

int ldr_check_bpffs(const char *pin_dir, char *err, size_t errlen)
{
	char path[PATH_MAX], *slash;
	struct statfs sfs;

	if (snprintf(path, sizeof(path), "%s", pin_dir) >= (int)sizeof(path)) {
		err_set(err, errlen, "pin dir \"%s\": name too long", pin_dir);
		return -ENAMETOOLONG;
	}
	/* The pin dir itself may not exist yet: judge its nearest parent. */
	for (;;) {
		if (!statfs(path, &sfs))
			break;
		if (errno != ENOENT) {
			int ret = -errno;

			err_set(err, errlen, "pin dir \"%s\": %s", path,
				   strerror(errno));
			return ret;
		}
		slash = strrchr(path, '/');
		if (!slash) {
			snprintf(path, sizeof(path), ".");
			continue;
		}
		if (slash == path) {
			path[1] = '\0';
			continue;
		}
		*slash = '\0';
	}
	if ((unsigned long)sfs.f_type == BPF_FS_MAGIC)
		return 0;
	/* Advise mounting on the pin dir's parent: /sys/fs/bpf by default. */
	snprintf(path, sizeof(path), "%s", pin_dir);
	slash = strrchr(path, '/');
	if (slash && slash != path)
		*slash = '\0';
	if (!strcmp(path, "/sys/fs/bpf"))
		err_set(err, errlen,
			   "pin dir \"%s\" is not on a BPF filesystem: /sys/fs/bpf is not bpffs; mount it first: mount -t bpf bpf /sys/fs/bpf",
			   pin_dir);
	else
		err_set(err, errlen,
			   "pin dir \"%s\" is not on a BPF filesystem (bpffs); mount one first: mkdir -p %s && mount -t bpf bpf %s",
			   pin_dir, path, path);
	return -ENOTSUP;
}

int ldr_link_pin_path(const char *pin_dir, const char *ifname, char *buf,
		      size_t len)
{
	int n = snprintf(buf, len, "%s/%s%s", pin_dir, SEGD_LINK_PIN_PREFIX,
			 ifname);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* mkdir -p, mode 0700 (the pins are root's alone). */
static int ldr_mkdirs(const char *dir)
{
	char path[PATH_MAX], *p;

	if (snprintf(path, sizeof(path), "%s", dir) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	for (p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0700) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(path, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

/*
 * A pinned map that libbpf would refuse to reuse: say which and why, in
 * our words (libbpf only says "parameter mismatch").
 */
static int ldr_check_pinned_map(struct bpf_map *m, const char *path,
				char *err, size_t errlen)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	int fd, ret = 0;

	fd = bpf_obj_get(path);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		ret = -errno;
		err_set(err, errlen, "pinned map \"%s\": %s", path,
			   strerror(errno));
		goto out;
	}
	if (info.type == bpf_map__type(m) &&
	    info.key_size == bpf_map__key_size(m) &&
	    info.value_size == bpf_map__value_size(m) &&
	    info.map_flags == bpf_map__map_flags(m) &&
	    info.max_entries != bpf_map__max_entries(m)) {
		/* Only the size differs: a map cannot be resized, and
		 * replacing it would drop the live policy and the counters.
		 * Keep the pinned one, loudly. */
		pr_warn("pinned map %s has %u entries, this start asks for %u: keeping the pinned map and its %u entries (a new size takes effect after `segctl teardown --yes`)",
			path, info.max_entries, bpf_map__max_entries(m),
			info.max_entries);
		ret = bpf_map__set_max_entries(m, info.max_entries);
		if (ret)
			err_set(err, errlen, "adopting \"%s\": %s", path,
				   strerror(-ret));
		goto out;
	}
	if (info.type != bpf_map__type(m) ||
	    info.key_size != bpf_map__key_size(m) ||
	    info.value_size != bpf_map__value_size(m) ||
	    info.max_entries != bpf_map__max_entries(m) ||
	    info.map_flags != bpf_map__map_flags(m)) {
		err_set(err, errlen,
			   "pinned map \"%s\" does not match this build (type %u/%u, key %u/%u, value %u/%u, entries %u/%u, flags 0x%x/0x%x: pinned/expected); remove the old pins with `segctl teardown --yes` first",
			   path, info.type, bpf_map__type(m), info.key_size,
			   bpf_map__key_size(m), info.value_size,
			   bpf_map__value_size(m), info.max_entries,
			   bpf_map__max_entries(m), info.map_flags,
			   bpf_map__map_flags(m));
		ret = -EEXIST;
	}
out:
	close(fd);
	return ret;
}

static uint32_t ldr_ev_rate = SEGD_EV_RATE_DEFAULT;
static uint32_t ldr_ev_burst = SEGD_EV_BURST_DEFAULT;

static bool ldr_rpf = true;

void ldr_set_rpf(bool on)
{
	ldr_rpf = on;
}

void ldr_set_event_limits(uint32_t rate, uint32_t burst)
{
	ldr_ev_rate = rate;
	ldr_ev_burst = burst;
}

/*
 * Pinned maps named segd_* that this build's object does not define: the
 * maps of an older (or newer) layout, whose name suffix differs. They are
 * not migrated; they are logged here and unpinned once the new program
 * runs everywhere (ldr_remove_stale_pins).
 */
static void ldr_find_stale(struct ldr *l)
{
	struct dirent *de;
	DIR *d;

	d = opendir(l->pin_dir);
	if (!d)
		return;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "segd_", 5))
			continue;
		if (bpf_object__find_map_by_name(l->skel->obj, de->d_name))
			continue;
		if (l->n_stale == LDR_MAX_STALE)
			break;
		l->stale[l->n_stale] = strdup(de->d_name);
		if (!l->stale[l->n_stale])
			break;
		pr_warn("pinned map %s/%s is not part of this build (its layout changed or it was removed): its contents are not migrated; it is unpinned once the new program runs on every interface",
			l->pin_dir, de->d_name);
		l->n_stale++;
	}
	closedir(d);
}

int ldr_remove_stale_pins(struct ldr *l)
{
	char path[PATH_MAX];
	int n = 0;
	size_t i;

	for (i = 0; i < l->n_stale; i++) {
		if (snprintf(path, sizeof(path), "%s/%s", l->pin_dir,
			     l->stale[i]) >= (int)sizeof(path))
			continue;
		if (unlink(path)) {
			pr_warn("cannot unpin %s: %s (`segctl teardown --yes` leaves it too; remove it by hand)",
				path, strerror(errno));
			continue;
		}
		pr_info("unpinned %s, a map of another build", path);
		n++;
	}
	return n;
}

struct ldr *ldr_open_load(const char *pin_dir, enum ldr_xdp_mode mode,
			  const struct ldr_cap *caps, size_t n_caps,
			  char *err, size_t errlen)
{
	struct bpf_prog_info pinfo;
	__u32 plen = sizeof(pinfo);
	struct bpf_map *m;
	struct ldr *l;
	int ret;

	l = calloc(1, sizeof(*l));
	if (!l) {
		errno = ENOMEM;
		return NULL;
	}
	l->mode = mode;
	if (snprintf(l->pin_dir, sizeof(l->pin_dir), "%s", pin_dir) >=
	    (int)sizeof(l->pin_dir)) {
		ret = -ENAMETOOLONG;
		err_set(err, errlen, "pin dir \"%s\": name too long", pin_dir);
		goto fail;
	}
	ret = ldr_mkdirs(pin_dir);
	if (ret) {
		err_set(err, errlen, "creating pin dir \"%s\": %s", pin_dir,
			   strerror(-ret));
		goto fail;
	}
	l->skel = segd_bpf__open();
	if (!l->skel) {
		ret = -errno;
		err_set(err, errlen, "opening the BPF object: %s",
			   strerror(-ret));
		goto fail;
	}
	/* Event rate limit knobs (telemetry): .rodata, before load. */
	l->skel->rodata->segd_ev_rate = ldr_ev_rate;
	l->skel->rodata->segd_ev_burst = ldr_ev_burst;
	l->skel->rodata->segd_rpf = ldr_rpf;
	bpf_object__for_each_map(m, l->skel->obj) {
		char path[PATH_MAX];

		/* .rodata and friends belong to one program instance. */
		if (bpf_map__is_internal(m))
			continue;
		for (size_t i = 0; i < n_caps; i++) {
			if (!caps[i].max_entries ||
			    strcmp(caps[i].map, bpf_map__name(m)))
				continue;
			ret = bpf_map__set_max_entries(m, caps[i].max_entries);
			if (ret) {
				err_set(err, errlen, "sizing %s to %u entries: %s",
					   caps[i].map, caps[i].max_entries,
					   strerror(-ret));
				goto fail;
			}
		}
		if (snprintf(path, sizeof(path), "%s/%s", pin_dir,
			     bpf_map__name(m)) >= (int)sizeof(path)) {
			ret = -ENAMETOOLONG;
			err_set(err, errlen, "pin path for %s too long",
				   bpf_map__name(m));
			goto fail;
		}
		l->n_maps++;
		if (access(path, F_OK))
			l->n_created++;
		ret = ldr_check_pinned_map(m, path, err, errlen);
		if (ret)
			goto fail;
		ret = bpf_map__set_pin_path(m, path);
		if (ret) {
			err_set(err, errlen, "pin path \"%s\": %s", path,
				   strerror(-ret));
			goto fail;
		}
	}
	ret = segd_bpf__load(l->skel);
	if (ret) {
		ret = ret < 0 ? ret : -errno;
		err_set(err, errlen,
			   "loading the XDP program: %s (the kernel's reason is logged above)",
			   strerror(-ret));
		goto fail;
	}
	memset(&pinfo, 0, sizeof(pinfo));
	if (!bpf_obj_get_info_by_fd(bpf_program__fd(l->skel->progs.segd_xdp),
				    &pinfo, &plen))
		l->prog_id = pinfo.id;
	pr_debug("loaded program id %u, maps pinned under %s", l->prog_id,
		 pin_dir);
	ldr_find_stale(l);
	return l;
fail:
	ldr_free(l);
	errno = -ret;
	return NULL;
}

struct bpf_object *ldr_object(const struct ldr *l)
{
	return l->skel->obj;
}

size_t ldr_n_created(const struct ldr *l)
{
	return l->n_created;
}

int ldr_unpin_if_first(struct ldr *l)
{
	struct bpf_map *m;
	int ret = 0;

	if (!l || !l->n_maps || l->n_created != l->n_maps)
		return 0;
	bpf_object__for_each_map(m, l->skel->obj) {
		if (bpf_map__is_internal(m) || !bpf_map__pin_path(m))
			continue;
		if (bpf_map__unpin(m, NULL) && !ret)
			ret = -errno;
	}
	if (ret)
		return ret;
	rmdir(l->pin_dir);	/* only if empty */
	return 1;
}

uint32_t ldr_prog_id(const struct ldr *l)
{
	return l->prog_id;
}

static const char *ldr_mode_name(__u8 attach_mode)
{
	switch (attach_mode) {
	case XDP_ATTACHED_DRV:
		return "native";
	case XDP_ATTACHED_SKB:
		return "skb";
	case XDP_ATTACHED_HW:
		return "hw";
	case XDP_ATTACHED_MULTI:
		return "multi";
	default:
		return NULL;
	}
}

int ldr_iface_query(const char *pin_dir, const char *ifname, uint32_t prog_id,
		    struct ldr_iface_state *st)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	int ret;

	memset(st, 0, sizeof(*st));
	snprintf(st->name, sizeof(st->name), "%s", ifname);
	ret = ldr_link_pin_path(pin_dir, ifname, st->link_pin,
				sizeof(st->link_pin));
	if (ret)
		return ret;
	st->pinned = access(st->link_pin, F_OK) == 0;
	st->ifindex = (int)if_nametoindex(ifname);
	if (!st->ifindex)
		return 0;
	if (bpf_xdp_query(st->ifindex, 0, &q))
		return -errno;
	st->mode = ldr_mode_name(q.attach_mode);
	st->prog_id = q.prog_id;
	if (q.attach_mode == XDP_ATTACHED_MULTI)
		st->prog_id = q.drv_prog_id ? q.drv_prog_id : q.skb_prog_id;
	st->attached = st->prog_id && (!prog_id || st->prog_id == prog_id);
	return 0;
}

/*
 * Replace the program in the link pinned at @path. Returns 1 when done,
 * 0 when the pinned link is stale (its interface is gone: the caller
 * attaches anew), negative errno on failure.
 */
static int ldr_update_pinned(struct ldr *l, const char *ifname, int ifindex,
			     const char *path, char *err, size_t errlen)
{
	struct bpf_link_info info;
	__u32 len = sizeof(info);
	struct bpf_link *link;
	int ret;

	link = bpf_link__open(path);
	if (!link) {
		ret = -errno;
		err_set(err, errlen, "opening pinned link \"%s\": %s", path,
			   strerror(-ret));
		return ret;
	}
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(bpf_link__fd(link), &info, &len)) {
		ret = -errno;
		err_set(err, errlen, "pinned link \"%s\": %s", path,
			   strerror(-ret));
		goto out;
	}
	if (info.type != BPF_LINK_TYPE_XDP) {
		ret = -EINVAL;
		err_set(err, errlen, "\"%s\" is not an XDP link", path);
		goto out;
	}
	if (info.xdp.ifindex == 0) {
		/* The interface went away (and came back): the link is
		 * defunct. Drop its pin and attach anew. */
		pr_info("%s: pinned link is defunct (interface recreated); attaching anew",
			ifname);
		bpf_link__unpin(link);
		ret = 0;
		goto out;
	}
	if ((int)info.xdp.ifindex != ifindex) {
		ret = -EEXIST;
		err_set(err, errlen,
			   "\"%s\" runs on ifindex %u, but \"%s\" is ifindex %d (renamed interface?); remove it with `segctl teardown --yes`",
			   path, info.xdp.ifindex, ifname, ifindex);
		goto out;
	}
	ret = bpf_link__update_program(link, l->skel->progs.segd_xdp);
	if (ret) {
		err_set(err, errlen, "updating the program in \"%s\": %s",
			   path, strerror(-ret));
		goto out;
	}
	pr_info("%s: replaced the program in pinned link %s (prog id %u -> %u)",
		ifname, path, info.prog_id, l->prog_id);
	ret = 1;
out:
	/* Closes our fd only: the pin keeps the link. */
	bpf_link__destroy(link);
	return ret;
}

static int ldr_attach_new(struct ldr *l, const char *ifname, int ifindex,
			  const char *path, char *err, size_t errlen)
{
	struct bpf_program *prog = l->skel->progs.segd_xdp;
	struct bpf_link *link = NULL;
	struct ldr_iface_state st;
	int ret, fd;

	if (l->mode == LDR_XDP_SKB) {
		/* bpf_program__attach_xdp() has no flags: generic mode needs
		 * the raw link_create. */
		LIBBPF_OPTS(bpf_link_create_opts, o, .flags = XDP_FLAGS_SKB_MODE);

		fd = bpf_link_create(bpf_program__fd(prog), ifindex, BPF_XDP, &o);
		if (fd < 0) {
			ret = -errno;
			goto attach_err;
		}
		if (bpf_obj_pin(fd, path)) {
			ret = -errno;
			close(fd);	/* unpinned: this detaches it */
			err_set(err, errlen, "pinning link \"%s\": %s", path,
				   strerror(-ret));
			return ret;
		}
		close(fd);
		pr_info("%s: attached in skb (generic) mode, link pinned at %s",
			ifname, path);
		return 0;
	}

	link = bpf_program__attach_xdp(prog, ifindex);
	if (!link) {
		ret = -errno;
		goto attach_err;
	}
	/* Without flags the kernel falls back to generic mode on drivers
	 * without XDP support; native was asked for, so check. */
	ret = ldr_iface_query(l->pin_dir, ifname, l->prog_id, &st);
	if (ret || !st.mode || strcmp(st.mode, "native")) {
		bpf_link__destroy(link);	/* not pinned: detaches */
		err_set(err, errlen,
			   "\"%s\" has no native (driver) XDP support; run segd with --xdp-mode skb for generic mode",
			   ifname);
		return ret ? ret : -EOPNOTSUPP;
	}
	ret = bpf_link__pin(link, path);
	if (ret) {
		bpf_link__destroy(link);
		err_set(err, errlen, "pinning link \"%s\": %s", path,
			   strerror(-ret));
		return ret;
	}
	bpf_link__destroy(link);	/* closes our fd; the pin holds it */
	pr_info("%s: attached in native mode, link pinned at %s", ifname, path);
	return 0;

attach_err:
	if (ret == -EBUSY || ret == -EEXIST)
		err_set(err, errlen,
			   "attaching XDP to \"%s\": %s (another XDP program is attached; detach it first, e.g. ip link set dev %s xdp off)",
			   ifname, strerror(-ret), ifname);
	else
		err_set(err, errlen, "attaching XDP to \"%s\": %s", ifname,
			   strerror(-ret));
	return ret;
}

int ldr_unpin_link(const char *pin_dir, const char *ifname)
{
	char path[PATH_MAX];
	int ret;

	ret = ldr_link_pin_path(pin_dir, ifname, path, sizeof(path));
	if (ret)
		return ret;
	if (unlink(path))
		return -errno;
	return 0;
}

int ldr_attach(struct ldr *l, const char *ifname, bool *created, char *err,
	       size_t errlen)
{
	char path[PATH_MAX];
	int ifindex, ret;

	*created = false;
	ifindex = (int)if_nametoindex(ifname);
	if (!ifindex) {
		err_set(err, errlen, "no such interface \"%s\"", ifname);
		return -ENODEV;
	}
	ret = ldr_link_pin_path(l->pin_dir, ifname, path, sizeof(path));
	if (ret) {
		err_set(err, errlen, "link pin path for \"%s\" too long",
			   ifname);
		return ret;
	}
	if (access(path, F_OK) == 0) {
		ret = ldr_update_pinned(l, ifname, ifindex, path, err, errlen);
		if (ret < 0)
			return ret;
		if (ret == 1) {
			struct ldr_iface_state st;

			if (!ldr_iface_query(l->pin_dir, ifname, 0, &st) &&
			    st.mode &&
			    strcmp(st.mode, l->mode == LDR_XDP_SKB ? "skb" : "native"))
				pr_warn("%s: kept its link in %s mode; a new --xdp-mode takes effect after `segctl teardown --yes`",
					ifname, st.mode);
			return 0;
		}
	}
	ret = ldr_attach_new(l, ifname, ifindex, path, err, errlen);
	*created = !ret;
	return ret;
}

void ldr_free(struct ldr *l)
{
	if (!l)
		return;
	while (l->n_stale)
		free(l->stale[--l->n_stale]);
	segd_bpf__destroy(l->skel);
	free(l);
}
