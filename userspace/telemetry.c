// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * telemetry.c - per-CPU counter aggregation and id labels.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "compile.h"
#include "telemetry.h"

const char *tel_reason_name(unsigned reason)
{
	return comp_reason_name(reason);
}

const char *tel_verdict_name(unsigned verdict)
{
	return comp_verdict_name(verdict);
}

static int tel_cmp(const void *a, const void *b)
{
	const struct tel_counter *x = a, *y = b;

	if (x->packets != y->packets)
		return x->packets > y->packets ? -1 : 1;
	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	if (x->src_seg != y->src_seg)
		return x->src_seg < y->src_seg ? -1 : 1;
	if (x->dst_seg != y->dst_seg)
		return x->dst_seg < y->dst_seg ? -1 : 1;
	if (x->verdict != y->verdict)
		return x->verdict < y->verdict ? -1 : 1;
	if (x->reason != y->reason)
		return x->reason < y->reason ? -1 : 1;
	return 0;
}

void tel_sort(struct tel_counter *v, size_t n)
{
	if (n)
		qsort(v, n, sizeof(*v), tel_cmp);
}

int tel_read_counters(int counters_fd, struct tel_counter **out, size_t *n)
{
	struct segd_counter_key key, next;
	struct segd_counter_value *vals = NULL;
	struct tel_counter *v = NULL;
	size_t cnt = 0, cap = 0;
	void *prev = NULL;
	int ncpu, c, ret = 0;

	*out = NULL;
	*n = 0;
	ncpu = libbpf_num_possible_cpus();
	if (ncpu <= 0)
		return ncpu < 0 ? ncpu : -EINVAL;
	/* Per-CPU values are laid out one per CPU, each rounded up to 8
	 * bytes; struct segd_counter_value is 16. */
	vals = calloc(ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	while (!bpf_map_get_next_key(counters_fd, prev, &next)) {
		struct tel_counter t;

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(counters_fd, &key, vals)) {
			if (errno == ENOENT)	/* deleted meanwhile */
				continue;
			ret = -errno;
			goto fail;
		}
		memset(&t, 0, sizeof(t));
		t.src_seg = key.src_seg;
		t.dst_seg = key.dst_seg;
		t.verdict = key.verdict;
		t.reason = key.reason;
		for (c = 0; c < ncpu; c++) {
			t.packets += vals[c].packets;
			t.bytes += vals[c].bytes;
		}
		if (cnt == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			struct tel_counter *nv = realloc(v, ncap * sizeof(*v));

			if (!nv) {
				ret = -ENOMEM;
				goto fail;
			}
			v = nv;
			cap = ncap;
		}
		v[cnt++] = t;
	}
	if (errno != ENOENT) {
		ret = -errno;
		goto fail;
	}
	tel_sort(v, cnt);
	*out = v;
	*n = cnt;
	free(vals);
	return 0;
fail:
	free(vals);
	free(v);
	return ret;
}

int tel_names_read(int names_fd, struct tel_names *names)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info), id;
	int ret;

	names->name = NULL;
	names->n = 0;
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(names_fd, &info, &len))
		return -errno;
	if (info.value_size != sizeof(struct segd_name))
		return -EPROTO;
	names->name = calloc(info.max_entries, SEGD_NAME_LEN);
	if (!names->name)
		return -ENOMEM;
	names->n = info.max_entries;
	for (id = 0; id < info.max_entries; id++) {
		struct segd_name n;

		if (bpf_map_lookup_elem(names_fd, &id, &n)) {
			ret = -errno;
			tel_names_free(names);
			return ret;
		}
		if (n.kind == SEGD_KIND_UNUSED)
			continue;
		memcpy(names->name[id], n.name, SEGD_NAME_LEN - 1);
	}
	return 0;
}

void tel_names_free(struct tel_names *names)
{
	free(names->name);
	names->name = NULL;
	names->n = 0;
}

const char *tel_label(const struct tel_names *names, uint32_t id, char *buf,
		      size_t len)
{
	if (id == SEGD_ID_NONE)
		snprintf(buf, len, "-");
	else if (names && id < names->n && names->name[id][0])
		snprintf(buf, len, "%s", names->name[id]);
	else
		snprintf(buf, len, "id:%u", id);
	return buf;
}

int tel_read_evstats(int fd, struct segd_evstats *out)
{
	struct segd_evstats *vals;
	__u32 key = 0;
	int ncpu, c;

	memset(out, 0, sizeof(*out));
	ncpu = libbpf_num_possible_cpus();
	if (ncpu <= 0)
		return ncpu < 0 ? ncpu : -EINVAL;
	/* 24-byte values, rounded up to 8 per CPU: no padding. */
	vals = calloc(ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, &key, vals)) {
		int ret = -errno;

		free(vals);
		return ret;
	}
	for (c = 0; c < ncpu; c++) {
		out->sent += vals[c].sent;
		out->suppressed += vals[c].suppressed;
		out->lost += vals[c].lost;
	}
	free(vals);
	return 0;
}
