// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * evbench.c - informational: the drop event path under a flood
 * (`test_datapath --bench`). One denied SYN run through BPF_PROG_TEST_RUN
 * in chunks for about a second, the ring buffer drained between chunks as
 * segd would: frames/s, ns per frame, and events delivered, suppressed and
 * lost, with the default rate limit and with none.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <netinet/in.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "segd.skel.h"
#include "fixture.h"
#include "hospital.h"
#include "pkt.h"
#include "suites.h"

#define EVB_CHUNK 4096

static int evb_count(void *ctx, void *data, size_t size)
{
	(void)data;
	(void)size;
	(*(unsigned long long *)ctx)++;
	return 0;
}

static double evb_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int evb_run(long rate, const char *what)
{
	const struct pkt_desc denied = { TCP4("10.9.0.8", "10.1.0.10", 445) };
	unsigned long long delivered = 0, frames = 0, ns = 0;
	struct segd_evstats *v, sum = { 0 };
	static struct frame f;
	struct ring_buffer *rb = NULL;
	struct dp_env env;
	double t0, t;
	__u32 key = 0;
	int err, c;

	dp_ev_rate = rate;
	err = dp_env_open(&env, 0);
	dp_ev_rate = -1;
	if (err)
		return err;
	err = dp_env_reset(&env);
	if (!err)
		err = dp_seed(&env, hospital);
	if (err)
		goto out;
	rb = ring_buffer__new(bpf_map__fd(env.skel->maps.segd_events_v1),
			      evb_count, &delivered, NULL);
	if (!rb) {
		err = -errno;
		goto out;
	}
	pkt_build(&f, &denied);
	t0 = evb_now();
	do {
		__u32 d;

		err = dp_run(&env, f.buf, f.len, EVB_CHUNK, &d);
		if (err < 0)
			goto out;
		err = 0;
		frames += EVB_CHUNK;
		ns += (unsigned long long)d * EVB_CHUNK;
		ring_buffer__consume(rb);
		t = evb_now() - t0;
	} while (t < 1.0);
	v = calloc(env.ncpus, sizeof(*v));
	if (v && !bpf_map_lookup_elem(bpf_map__fd(env.skel->maps.segd_evstats_v1),
				      &key, v)) {
		for (c = 0; c < env.ncpus; c++) {
			sum.sent += v[c].sent;
			sum.suppressed += v[c].suppressed;
			sum.lost += v[c].lost;
		}
	}
	free(v);
	printf("  event path, one source flooding, %s:\n", what);
	printf("    %llu frames in %.2f s: %.0f frames/s, %.0f ns/frame in XDP\n",
	       frames, t, frames / t, (double)ns / frames);
	printf("    events delivered %llu (%.0f/s), suppressed %llu, lost %llu; sent+suppressed+lost = %llu (%s)\n",
	       delivered, delivered / t, (unsigned long long)sum.suppressed,
	       (unsigned long long)sum.lost,
	       (unsigned long long)(sum.sent + sum.suppressed + sum.lost),
	       sum.sent + sum.suppressed + sum.lost == frames ? "= frames" : "MISMATCH");
out:
	ring_buffer__free(rb);
	dp_env_close(&env);
	return err;
}

int ev_bench(void)
{
	int err;

	err = evb_run(-1, "default limit (10/s, burst 20)");
	if (!err)
		err = evb_run(0, "no limit (--events-rate 0)");
	if (err)
		fprintf(stderr, "event bench: %s\n", strerror(-err));
	return err;
}
