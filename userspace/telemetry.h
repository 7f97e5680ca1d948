/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * telemetry.h - counters from the pinned maps, labelled with names.
 *
 * segd_counters_v1 is a per-CPU hash: tel_read_counters() sums every CPU's
 * packets and bytes per (source segment, destination segment, verdict,
 * reason). Ids are labelled through segd_names_v1 (tel_names_read), so this
 * works from the pinned maps alone, while segd is down.
 */
#ifndef SEGD_TELEMETRY_H
#define SEGD_TELEMETRY_H

#include <stddef.h>
#include <stdint.h>

#include "../include/segd_abi.h"

struct tel_counter {
	uint32_t src_seg;
	uint32_t dst_seg;
	uint8_t verdict;	/* enum segd_verdict */
	uint8_t reason;		/* enum segd_reason */
	uint64_t packets;
	uint64_t bytes;
};

/* Names by id, as read from segd_names_v1. */
struct tel_names {
	char (*name)[SEGD_NAME_LEN];	/* name[id], "" when unused */
	uint32_t n;			/* ids 0 .. n-1 */
};

/*
 * tel_read_counters - every counter of @counters_fd, summed over CPUs and
 * sorted by packets (then bytes) descending, then by key. Caller frees
 * *out. Returns 0 or a negative errno.
 */
int tel_read_counters(int counters_fd, struct tel_counter **out, size_t *n);

/* tel_sort - the order tel_read_counters returns (exposed for tests). */
void tel_sort(struct tel_counter *v, size_t n);

/* tel_names_read - load every name of @names_fd. Free with tel_names_free. */
int tel_names_read(int names_fd, struct tel_names *names);
void tel_names_free(struct tel_names *names);

/*
 * tel_label - printable label of @id: "-" for SEGD_ID_NONE, the recorded
 * name, or "id:N" when the names map does not know it (@names may be NULL).
 * Returns @buf.
 */
const char *tel_label(const struct tel_names *names, uint32_t id, char *buf,
		      size_t len);

/*
 * tel_read_evstats - segd_evstats_v1 (@fd) summed over CPUs: events sent,
 * suppressed by the rate limit, lost to a full ring buffer. 0 or -errno.
 */
int tel_read_evstats(int fd, struct segd_evstats *out);

/* Reason and verdict names as used in counters and metrics. */
const char *tel_reason_name(unsigned reason);
const char *tel_verdict_name(unsigned verdict);

#endif /* SEGD_TELEMETRY_H */
