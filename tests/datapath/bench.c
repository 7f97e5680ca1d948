// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * bench.c - informational timings, not a test: `test_datapath --bench`.
 * Median over 11 rounds of BPF_PROG_TEST_RUN with repeat = 1000000 (the
 * kernel reports the mean ns per run of each round) for an allowed and a
 * denied IPv4 TCP SYN against the hospital policy, a denied ACK (which
 * also pays a conntrack lookup that misses), next to a trivial program
 * that only returns XDP_DROP (the harness's own cost).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>

#include "fixture.h"
#include "hospital.h"
#include "pkt.h"
#include "suites.h"

#define ROUNDS 11
#define REPEAT 1000000

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

/* Median ns per run of prog_fd on the frame, or a negative errno. */
static long median_ns(int prog_fd, const struct frame *f)
{
	__u32 d[ROUNDS];
	int i;

	for (i = 0; i < ROUNDS; i++) {
		LIBBPF_OPTS(bpf_test_run_opts, opts,
			.data_in = f->buf,
			.data_size_in = (__u32)f->len,
			.repeat = REPEAT,
		);

		if (bpf_prog_test_run_opts(prog_fd, &opts))
			return -errno;
		d[i] = opts.duration;
	}
	qsort(d, ROUNDS, sizeof(d[0]), cmp_u32);
	return d[ROUNDS / 2];
}

static int trivial_drop_prog(void)
{
	const struct bpf_insn insns[] = {
		/* r0 = XDP_DROP; exit */
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = XDP_DROP },
		{ .code = BPF_JMP | BPF_EXIT },
	};

	return bpf_prog_load(BPF_PROG_TYPE_XDP, "segd_bench_drop", "GPL", insns,
			     sizeof(insns) / sizeof(insns[0]), NULL);
}

int dp_bench(void)
{
	const struct pkt_desc allowed = { TCP4("10.1.0.10", "10.3.0.9", 443) };
	const struct pkt_desc denied = { TCP4("10.1.0.10", "10.3.0.9", 22) };
	const struct pkt_desc ack = { TCP4("10.1.0.10", "10.3.0.9", 22),
				      .flags = FR_TCP_ACK };
	static struct frame fa, fd, fk;
	struct dp_env env;
	long a, d, k, t = -1;
	int err, drop_fd;

	err = dp_env_open(&env, 0);
	if (err)
		goto out_msg;
	err = dp_env_reset(&env);
	if (!err)
		err = dp_seed(&env, hospital);
	if (err)
		goto out;
	pkt_build(&fa, &allowed);
	pkt_build(&fd, &denied);
	pkt_build(&fk, &ack);
	a = median_ns(env.prog_fd, &fa);
	d = median_ns(env.prog_fd, &fd);
	k = median_ns(env.prog_fd, &fk);
	drop_fd = trivial_drop_prog();
	if (drop_fd >= 0) {
		t = median_ns(drop_fd, &fd);
		close(drop_fd);
	}
	if (a < 0 || d < 0 || k < 0) {
		err = (int)(a < 0 ? a : d < 0 ? d : k);
		goto out;
	}
	printf("bpf_prog_test_run_opts, repeat=%d, median of %d rounds, %ld CPUs online\n",
	       REPEAT, ROUNDS, sysconf(_SC_NPROCESSORS_ONLN));
	printf("  segd_xdp  allowed tcp4 SYN (%zu bytes): %ld ns/run\n", fa.len, a);
	printf("  segd_xdp  denied  tcp4 SYN (%zu bytes): %ld ns/run\n", fd.len, d);
	printf("  segd_xdp  denied  tcp4 ACK (%zu bytes): %ld ns/run (conntrack miss)\n",
	       fk.len, k);
	if (t >= 0)
		printf("  trivial   XDP_DROP                  : %ld ns/run\n", t);
	err = ev_bench();
out:
	dp_env_close(&env);
out_msg:
	if (err)
		fprintf(stderr, "bench: %s\n", strerror(-err));
	return err;
}
