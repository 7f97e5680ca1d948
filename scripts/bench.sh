#!/usr/bin/env bash
# scripts/bench.sh - `make bench`: measurements, not tests. Writes
# bench/results/<UTC date-time>/report.md and report.json and prints the
# tables.
#
#   scripts/bench.sh BUILD_DIR [section...]
#
# Each section is a function bench_<name> that runs its tool, saves the raw
# output as <name>.raw, and writes <name>.json (one JSON value) and <name>.md
# (a markdown fragment). report.json is {"date", "host", "kernel", "cpus",
# "sections": {name: value}}; report.md is the fragments in order. To add a
# section (issue 8: data path throughput), write bench_<name> and add it to
# SECTIONS. Every number of a report comes from one run on one machine:
# compare ratios, not absolute times, across machines.
#
# Environment: BENCH_UPDATES (default 200), BENCH_HOSTS (100000),
# BENCH_RULES (10000), BENCH_LARGE_UPDATES (10).
set -eu
OUT=${1:?usage: scripts/bench.sh BUILD_DIR [section...]}
shift
SRC=$(cd "$(dirname "$0")/.." && pwd)
SECTIONS=("$@")
[ ${#SECTIONS[@]} -eq 0 ] && SECTIONS=(policy datapath isolate)
[ "$(id -u)" -eq 0 ] || { echo "bench: needs root (BPF)" >&2; exit 1; }

STAMP=$(date -u +%Y-%m-%dT%H%M%SZ)
DIR=$SRC/bench/results/$STAMP
mkdir -p "$DIR"

# JSON number of KEY in the one-line JSON object on stdin (first match).
jnum() { grep -o "\"$1\": *[0-9.]*" | head -n 1 | sed 's/.*: *//'; }
# Ratio A/B with one decimal.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "-" }'; }
ms() { awk -v u="$1" 'BEGIN { printf "%.2f", u / 1000 }'; }

# ---------------------------------------------------------------- policy

bench_policy() {
	local raw=$DIR/policy.raw u g c l
	(cd "$SRC" && "$OUT/tests/bench_policy" --updates "${BENCH_UPDATES:-200}" \
		--hosts "${BENCH_HOSTS:-100000}" --rules "${BENCH_RULES:-10000}" \
		--large-updates "${BENCH_LARGE_UPDATES:-10}") >"$raw"
	cp "$raw" "$DIR/policy.json"
	u=$(tr -d '\n' <"$raw" | sed 's/.*"update": {\([^}]*\)}.*/\1/')
	g=$(tr -d '\n' <"$raw" | sed 's/.*"grace": {\([^}]*\)}.*/\1/')
	c=$(tr -d '\n' <"$raw" | sed 's/.*"cold": {\(.*\)}, *"large".*/\1/')
	l=$(tr -d '\n' <"$raw" | sed 's/.*"large": {\([^}]*\)}.*/\1/')
	{
		echo "## Policy updates (bench_policy: comp_build + mapw_apply, in-process, real maps)"
		echo
		echo "One-rule change of segments/hospital.json, $(jnum n <<<"$u") updates, alternating;"
		echo "\"in force\" is compile + capacity check (a scan of every slotted map) + fill"
		echo "+ switch: packets see the new policy from then on; \"apply returns\" adds the"
		echo "RCU grace period and the deletion of the old generation."
		echo
		echo "| step | median | p99 |"
		echo "| --- | ---: | ---: |"
		echo "| compile (comp_build) | $(jnum compile_median_us <<<"$u") µs | $(jnum compile_p99_us <<<"$u") µs |"
		echo "| fill the inactive slot | $(jnum fill_median_us <<<"$u") µs | $(jnum fill_p99_us <<<"$u") µs |"
		echo "| switch (one map write) | $(jnum switch_median_ns <<<"$u") ns | $(jnum switch_p99_ns <<<"$u") ns |"
		echo "| **in force** | **$(jnum in_force_median_us <<<"$u") µs** | **$(jnum in_force_p99_us <<<"$u") µs** |"
		echo "| grace period (map-in-map update) | $(ms "$(jnum grace_median_us <<<"$u")") ms | $(ms "$(jnum grace_p99_us <<<"$u")") ms |"
		echo "| delete the old generation | $(ms "$(jnum purge_median_us <<<"$u")") ms | $(ms "$(jnum purge_p99_us <<<"$u")") ms |"
		echo "| **update, apply returns** | **$(ms "$(jnum total_median_us <<<"$u")") ms** | **$(ms "$(jnum total_p99_us <<<"$u")") ms** |"
		echo "| grace period alone | $(ms "$(jnum grace_median_us <<<"$g")") ms | $(ms "$(jnum grace_p99_us <<<"$g")") ms |"
		echo
		echo "Cold start of a generated policy: $(jnum hosts <<<"$c") host addresses in $(jnum segments <<<"$c") segments,"
		echo "$(jnum devices <<<"$c") named devices, $(jnum rules <<<"$c") rules ($(jnum bytes <<<"$c") bytes of JSON;"
		echo "$(jnum host4 <<<"$c") host4, $(jnum allows <<<"$c") allow entries), applied to empty maps."
		echo
		echo "| step | time |"
		echo "| --- | ---: |"
		echo "| parse | $(ms "$(jnum parse_us <<<"$c")") ms |"
		echo "| compile | $(ms "$(jnum compile_us <<<"$c")") ms |"
		echo "| apply (fill $(ms "$(jnum fill_us <<<"$c")") ms, switch $(jnum switch_ns <<<"$c") ns) | $(ms "$(jnum apply_us <<<"$c")") ms |"
		echo "| **parse + compile + apply** | **$(ms "$(jnum total_us <<<"$c")") ms** |"
		echo
		echo "One-rule change of the generated policy, $(jnum n <<<"$l") updates (every apply rewrites"
		echo "the whole generation): in force after $(ms "$(jnum in_force_median_us <<<"$l")") ms median"
		echo "($(ms "$(jnum in_force_p99_us <<<"$l")") ms p99), apply returns after $(ms "$(jnum total_median_us <<<"$l")") ms median"
		echo "($(ms "$(jnum total_p99_us <<<"$l")") ms p99; delete of the old generation $(ms "$(jnum purge_median_us <<<"$l")") ms)."
		echo
	} >"$DIR/policy.md"
}

# ---------------------------------------------------------------- datapath

bench_datapath() {
	local raw=$DIR/datapath.raw a d k t
	"$OUT/tests/test_datapath" --bench >"$raw" 2>&1
	# The first table of the output (later ones add their own lines).
	a=$(sed -n 's/.*segd_xdp *allowed tcp4 SYN.*: \([0-9]*\) ns\/run.*/\1/p' "$raw" | head -n 1)
	d=$(sed -n 's/.*segd_xdp *denied *tcp4 SYN.*: \([0-9]*\) ns\/run.*/\1/p' "$raw" | head -n 1)
	k=$(sed -n 's/.*segd_xdp *denied *tcp4 ACK.*: \([0-9]*\) ns\/run.*/\1/p' "$raw" | head -n 1)
	t=$(sed -n 's/.*trivial *XDP_DROP *: \([0-9]*\) ns\/run.*/\1/p' "$raw" | head -n 1)
	if [ -z "$a" ] || [ -z "$d" ] || [ -z "$k" ] || [ -z "$t" ]; then
		echo "bench: unexpected output of test_datapath --bench:" >&2
		cat "$raw" >&2
		return 1
	fi
	printf '{"allowed_syn_ns": %s, "denied_syn_ns": %s, "denied_ack_ns": %s, "xdp_drop_floor_ns": %s, "allowed_ratio": %s, "denied_ratio": %s, "ack_ratio": %s}\n' \
		"$a" "$d" "$k" "$t" "$(ratio "$a" "$t")" "$(ratio "$d" "$t")" "$(ratio "$k" "$t")" >"$DIR/datapath.json"
	{
		echo "## Per-packet verdict (test_datapath --bench: BPF_PROG_TEST_RUN, median of 11 x 1e6 runs)"
		echo
		echo "| frame | ns/packet | × empty XDP_DROP |"
		echo "| --- | ---: | ---: |"
		echo "| empty program returning XDP_DROP (the floor) | $t | 1.0 |"
		echo "| segd_xdp, allowed tcp4 SYN | $a | $(ratio "$a" "$t") |"
		echo "| segd_xdp, denied tcp4 SYN | $d | $(ratio "$d" "$t") |"
		echo "| segd_xdp, denied tcp4 ACK (conntrack miss) | $k | $(ratio "$k" "$t") |"
		echo
		# Whatever else test_datapath --bench reports after that
		# table (drop event path, reverse-path check), verbatim.
		if [ -n "$(awk 'f; /trivial *XDP_DROP/ { f = 1 }' "$raw")" ]; then
			echo '```'
			awk 'f; /trivial *XDP_DROP/ { f = 1 }' "$raw"
			echo '```'
			echo
		fi
	} >"$DIR/datapath.md"
}

# ---------------------------------------------------------------- isolate

# bench_isolate: scripts/bench_isolate.sh (issue 5)
# shellcheck source=bench_isolate.sh
. "$SRC/scripts/bench_isolate.sh"

# ---------------------------------------------------------------- report

for s in "${SECTIONS[@]}"; do
	declare -F "bench_$s" >/dev/null || { echo "bench: no section \"$s\"" >&2; exit 2; }
	echo "bench: $s ..." >&2
	"bench_$s"
done

{
	echo "# segd bench, $STAMP"
	echo
	echo "$(uname -n), kernel $(uname -r), $(nproc) CPUs ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)),"
	echo "commit $(git -C "$SRC" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$SRC" diff --quiet 2>/dev/null || echo ' (with local changes)')."
	echo "All numbers of this report come from this one run."
	echo
	for s in "${SECTIONS[@]}"; do cat "$DIR/$s.md"; done
} >"$DIR/report.md"
{
	printf '{"date": "%s", "host": "%s", "kernel": "%s", "cpus": %s, "sections": {' \
		"$STAMP" "$(uname -n)" "$(uname -r)" "$(nproc)"
	sep=
	for s in "${SECTIONS[@]}"; do
		printf '%s"%s": %s' "$sep" "$s" "$(tr -d '\n' <"$DIR/$s.json")"
		sep=", "
	done
	printf '}}\n'
} >"$DIR/report.json"

cat "$DIR/report.md"
echo "bench: wrote $DIR/report.md and report.json" >&2
