# shellcheck shell=bash
# scripts/bench_isolate.sh - section "isolate" of scripts/bench.sh (sourced
# by it): how long from `segctl isolate` issued to the isolated host's
# first dropped packet, in the netns hospital of scripts/topology.sh.
#
# ehr-ws pings pacs every 200 µs (ping -D: a wall-clock timestamp on every
# reply). Each round: t0 = just before `segctl isolate 10.10.0.10`, then
# the last reply seen; latency = last reply - t0 + one interval (the next
# request was the first dropped; replies are dropped at the gateway too),
# then release. BENCH_ISOLATE_ROUNDS (default 30). Everything it creates
# carries a prefix of its own and is removed, pass or fail.

bench_isolate() {
	local raw=$DIR/isolate.raw p="segdb$$-" tmp n=${BENCH_ISOLATE_ROUNDS:-30} i
	local ws pacs pid ping t0 last lat med p99 rt rtm rt99 h args=()
	# shellcheck source=topology.sh
	. "$SRC/scripts/topology.sh"
	tmp=$(mktemp -d "/tmp/${p}XXXXXX")
	bench_isolate_cleanup() {
		trap - RETURN
		[ -n "${ping:-}" ] && kill "$ping" 2>/dev/null
		[ -n "${pid:-}" ] && topo_segctl "$p" "$OUT" teardown --yes >/dev/null 2>&1
		[ -n "${pid:-}" ] && topo_segd_stop "$pid"
		topo_down "$p" 2>/dev/null
		rm -rf "$(topo_pin_dir "$p")" "$(topo_run_dir "$p")" "$tmp"
	}
	trap bench_isolate_cleanup RETURN
	TOPO_QUIET=1 topo_up "$p" >/dev/null 2>&1 || { echo "bench: topology failed" >&2; return 1; }
	topo_segd_start "$p" "$OUT" "$SRC/segments" "$tmp/segd.log" --state-dir "$tmp/state"
	pid=$TOPO_SEGD_PID
	topo_segd_wait "$p" "$pid" 15 || { echo "bench: segd did not start" >&2; cat "$tmp/segd.log" >&2; return 1; }
	ws=$(topo_ip4 ehr-ws) pacs=$(topo_ip4 pacs)
	nsenter --net="$(topo_nspath "$p" ehr-ws)" -- ping -4 -n -D -i 0.0002 "$pacs" \
		>"$tmp/ping.log" 2>&1 &
	ping=$!
	sleep 0.5
	: >"$raw"
	for ((i = 0; i < n; i++)); do
		t0=$(date +%s%N)
		topo_segctl "$p" "$OUT" isolate "$ws" --reason bench >/dev/null || { echo "bench: isolate failed" >&2; return 1; }
		rt=$(date +%s%N)
		sleep 0.1
		last=$(grep 'bytes from' "$tmp/ping.log" | tail -n 1 | sed -n 's/^\[\([0-9]*\)\.\([0-9]*\)\].*/\1\2/p')
		# µs: last reply - t0 + one 200 µs interval
		echo "$(( 10#$last - t0 / 1000 + 200 )) $(( (rt - t0) / 1000 ))" >>"$raw"
		topo_segctl "$p" "$OUT" release "$ws" --reason bench >/dev/null
		sleep 0.1
	done
	lat=$(awk '{ print $1 }' "$raw" | sort -n)
	rt=$(awk '{ print $2 }' "$raw" | sort -n)
	med=$(sed -n "$(( (n + 1) / 2 ))p" <<<"$lat")
	p99=$(sed -n "$(( (n * 99 + 99) / 100 ))p" <<<"$lat")
	rtm=$(sed -n "$(( (n + 1) / 2 ))p" <<<"$rt")
	rt99=$(sed -n "$(( (n * 99 + 99) / 100 ))p" <<<"$rt")
	printf '{"rounds": %s, "first_drop_median_us": %s, "first_drop_p99_us": %s, "command_median_us": %s, "command_p99_us": %s}\n' \
		"$n" "$med" "$p99" "$rtm" "$rt99" >"$DIR/isolate.json"
	{
		echo "## Isolate latency (netns hospital, ping every 200 µs, $n rounds)"
		echo
		echo "From \`segctl isolate\` issued (a new segctl process: connect, request,"
		echo "map write, conntrack delete, state file and audit fsync) to the isolated"
		echo "host's first dropped packet (last ping reply + one interval; resolution"
		echo "200 µs), and to the command's return."
		echo
		echo "| | median | p99 |"
		echo "| --- | ---: | ---: |"
		echo "| **first packet dropped** | **$(ms "$med") ms** | **$(ms "$p99") ms** |"
		echo "| segctl isolate returns | $(ms "$rtm") ms | $(ms "$rt99") ms |"
		echo
	} >"$DIR/isolate.md"
}
