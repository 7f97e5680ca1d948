#!/usr/bin/env bash
# tests/e2e/isolate.sh - containment for the SOC (issue 5), end to end.
#
# ehr-ws holds an open TCP session to ehr-db (https, streaming timestamped
# lines that ehr-db echoes back) and a running ping to pacs. It is isolated:
# both directions of the session and the ping stop within 100 ms of the
# command (measured from the timestamps on each side), new connections
# are dropped and counted as `isolated`, explain says so, and ssh to the
# remediation target (pacs stands in for the SOC forensics host:
# isolation.still_allowed) passes. Release restores policy. The isolation
# survives segd SIGKILL + restart; a timed isolation (--for 2s) lapses
# with segd stopped. Refusals: no reason, over the maximum, the gateway,
# a remediation target. The audit trail has every step.
set -u
. "$(dirname "$0")/lib.sh"
e2e_init i

P=$E2E_PREFIX
if ! topo_up "$P" 2>"$E2E_TMP/topo.err"; then
	not_ok "topology up" "$(tr '\n' ' ' <"$E2E_TMP/topo.err")"
	exit 1
fi
ok "topology up ($P*)"

e2e_need_segd
e2e_segments_copy
cat >"$E2E_SEGDIR/isolation.json" <<'JSON'
{
  "version": 1,
  "services": { "ssh": [{ "proto": "tcp", "ports": [22] }] },
  "isolation": {
    "still_allowed": [ { "to": "pacs", "services": ["ssh"] } ]
  }
}
JSON
STATE=$E2E_TMP/state
WS=$(topo_ip4 ehr-ws) DB=$(topo_ip4 ehr-db) PACS=$(topo_ip4 pacs)

ls_ok=0
topo_tcp_listen "$P" pacs 22 || ls_ok=1
# the streaming session's server: echoes every line and logs it
nsenter --net="$(topo_nspath "$P" ehr-db)" -- socat TCP4-LISTEN:443,reuseaddr,fork \
	SYSTEM:"tee -a $E2E_TMP/server.log" </dev/null >/dev/null 2>&1 &
TOPO_BG_PIDS+=($!)
topo_wait_listen "$P" ehr-db tcp 443 || ls_ok=1
check "servers listening" $ls_ok

if ! e2e_segd_start --state-dir "$STATE" --max-isolation 1d \
	--metrics-file "$E2E_TMP/metrics.prom" --metrics-interval 1; then
	not_ok "segd starts" "$(tail -n 5 "$E2E_TMP/segd.log" | tr '\n' ' ')"
	exit 1
fi
ok "segd starts with --state-dir $STATE"

now_ns() { date +%s%N; }

# ---- before: the session and the ping flow
nsenter --net="$(topo_nspath "$P" ehr-ws)" -- bash -c \
	'while :; do date +%s%N || exit; sleep 0.005; done' 2>/dev/null |
	nsenter --net="$(topo_nspath "$P" ehr-ws)" -- socat - "TCP4:$DB:443" \
		>"$E2E_TMP/client.log" 2>/dev/null &
STREAM_PID=$!
TOPO_BG_PIDS+=($STREAM_PID)
nsenter --net="$(topo_nspath "$P" ehr-ws)" -- ping -4 -n -D -i 0.01 "$PACS" \
	>"$E2E_TMP/ping.log" 2>&1 &
PING_PID=$!
TOPO_BG_PIDS+=($PING_PID)
sleep 1
c0=$(wc -l <"$E2E_TMP/client.log") p0=$(grep -c 'bytes from' "$E2E_TMP/ping.log")
check "before: the session streams both ways ($c0 lines echoed) and the ping gets replies ($p0)" \
	"$([ "$c0" -gt 20 ] && [ "$p0" -gt 20 ]; echo $?)"

# ---- refusals (nothing changes)
out=$(e2e_segctl isolate ehr-ws-nope --reason x 2>&1); rc=$?
check "isolate of an unknown name is refused" "$([ $rc -ne 0 ] && grep -q 'not an IPv4' <<<"$out"; echo $?)" "$out"
out=$(e2e_segctl isolate "$WS" 2>&1); rc=$?
check "isolate without --reason is refused" "$([ $rc -ne 0 ]; echo $?)" "$out"
out=$(e2e_segctl isolate "$WS" --reason x --for 30d 2>&1); rc=$?
check "isolate --for 30d over --max-isolation 1d is refused" "$([ $rc -ne 0 ] && grep -q 'maximum' <<<"$out"; echo $?)" "$out"
out=$(e2e_segctl isolate "$(topo_gw4 ehr-ws)" --reason x 2>&1); rc=$?
check "isolating the gateway's own address is refused" "$([ $rc -ne 0 ] && grep -q "gateway" <<<"$out"; echo $?)" "$out"
out=$(e2e_segctl isolate "$PACS" --reason x 2>&1); rc=$?
check "isolating a remediation target is refused" "$([ $rc -ne 0 ] && grep -q "remediation target" <<<"$out"; echo $?)" "$out"

# ---- isolate
before=$(e2e_snap)
t0=$(now_ns)
out=$(e2e_segctl --json isolate "$WS" --reason "ransomware alert" --ticket INC-42 2>&1); rc=$?
t1=$(now_ns)
check "segctl isolate $WS exits 0 ($(((t1 - t0) / 1000000)) ms round trip, segd: $(json_get elapsed_ms <<<"$out") ms, $(json_get conntrack_deleted <<<"$out") conntrack entries deleted)" \
	$rc "$out"
sleep 0.5
# last line the server got, last line echoed back to the client, last ping reply
last_srv=$(tail -n 1 "$E2E_TMP/server.log" | tr -dc 0-9)
last_cli=$(tail -n 1 "$E2E_TMP/client.log" | tr -dc 0-9)
last_ping=$(grep 'bytes from' "$E2E_TMP/ping.log" | tail -n 1 | sed -n 's/^\[\([0-9.]*\)\].*/\1/p' | tr -d .)
last_ping=$((10#${last_ping:-0} * 1000))
d_srv=$(((10#${last_srv:-0} - t0) / 1000000))
d_cli=$(((10#${last_cli:-0} - t0) / 1000000))
d_ping=$(((last_ping - t0) / 1000000))
note "after isolate: last line at the server ${d_srv} ms, last echo at the client ${d_cli} ms, last ping reply ${d_ping} ms (from the command)"
check "the session stops client -> server within 100 ms (${d_srv} ms)" "$([ "$d_srv" -le 100 ]; echo $?)"
check "the session stops server -> client within 100 ms (${d_cli} ms)" "$([ "$d_cli" -le 100 ]; echo $?)"
check "the ping stops within 100 ms (${d_ping} ms)" "$([ "$d_ping" -le 100 ]; echo $?)"
s1=$(wc -l <"$E2E_TMP/server.log")
sleep 0.5
s2=$(wc -l <"$E2E_TMP/server.log")
check "the session stays stopped ($s1 -> $s2 lines at the server)" "$([ "$s1" = "$s2" ]; echo $?)"

if topo_tcp_probe "$P" ehr-ws "$DB" 443 1; then nc=pass; else nc=drop; fi
if topo_tcp_probe "$P" ehr-db "$WS" 443 1; then nc2=pass; else nc2=drop; fi
sleep 0.1
after=$(e2e_snap)
d=$(e2e_delta "$before" "$after" "ehr/ehr/drop/isolated")
check "new connections from and to the isolated host are dropped ($nc, $nc2) and counted as isolated (+$d)" \
	"$([ $nc = drop ] && [ $nc2 = drop ] && [ "$d" -ge 1 ]; echo $?)"
ex=$(e2e_explain "$WS" "$DB" tcp 443)
check "explain $WS -> $DB tcp/443 says drop isolated ($ex)" "$([[ $ex == "drop isolated"* ]]; echo $?)"
if topo_tcp_probe "$P" ehr-ws "$PACS" 22; then r=0; else r=1; fi
check "ssh to the remediation target (pacs, isolation.still_allowed) still passes" $r
ex=$(e2e_explain "$WS" "$PACS" tcp 22)
check "explain $WS -> $PACS tcp/22 says pass allowed ($ex)" "$([[ $ex == "pass allowed isolation.still_allowed[0]" ]]; echo $?)"
out=$(e2e_segctl isolated 2>&1)
check "segctl isolated lists $WS with its reason" "$(grep -q "$WS.*ransomware alert.*INC-42" <<<"$out"; echo $?)" "$out"
for i in $(seq 1 30); do
	m=$(sed -n 's/^segd_isolated_hosts \([0-9]*\)$/\1/p' "$E2E_TMP/metrics.prom" 2>/dev/null)
	[ "${m:-0}" -ge 1 ] && break
	sleep 0.1
done
check "metrics: segd_isolated_hosts counts the isolation (${m:-none})" "$([ "${m:-0}" -ge 1 ]; echo $?)"

# ---- SIGKILL + restart keeps it
kill -KILL "$E2E_SEGD_PID"; wait "$E2E_SEGD_PID" 2>/dev/null
if topo_tcp_probe "$P" ehr-ws "$DB" 443 1; then r=1; else r=0; fi
check "segd killed: $WS stays isolated" $r
if e2e_segd_start --state-dir "$STATE" --max-isolation 1d; then r=0; else r=1; fi
check "segd restarts" $r
out=$(e2e_segctl isolated 2>&1)
check "after the restart segctl isolated still lists $WS" "$(grep -q "$WS.*ransomware alert" <<<"$out"; echo $?)" "$out"
if topo_tcp_probe "$P" ehr-ws "$DB" 443 1; then r=1; else r=0; fi
check "after the restart $WS is still isolated" $r

# ---- release
out=$(e2e_segctl release "$WS" 2>&1); rc=$?
check "release without --reason is refused" "$([ $rc -ne 0 ]; echo $?)" "$out"
out=$(e2e_segctl release "$WS" --reason "reimaged" 2>&1); rc=$?
check "segctl release $WS exits 0" $rc "$out"
if topo_tcp_probe "$P" ehr-ws "$DB" 443; then r=0; else r=1; fi
check "after release: https ehr-ws -> ehr-db passes again" $r
if topo_tcp_probe "$P" ehr-ws "$PACS" 22 1; then r=1; else r=0; fi
check "after release: ssh ehr-ws -> pacs is policy's again (dropped)" $r

# ---- a timed isolation lapses with segd stopped
out=$(e2e_segctl isolate ehr-ws --reason "short containment" --for 2s 2>&1); rc=$?
check "isolate by a name that is not a device of the policy (ehr-ws) is refused" "$([ $rc -ne 0 ]; echo $?)" "$out"
out=$(e2e_segctl isolate "$WS" --reason "short containment" --for 2s 2>&1); rc=$?
check "isolate $WS --for 2s" $rc "$out"
topo_segd_stop "$E2E_SEGD_PID"
if topo_tcp_probe "$P" ehr-ws "$DB" 443 1; then r=1; else r=0; fi
check "segd stopped: $WS is isolated" $r
sleep 2.5
if topo_tcp_probe "$P" ehr-ws "$DB" 443; then r=0; else r=1; fi
check "2.5 s later, segd still stopped: the isolation has lapsed in the data path" $r
if e2e_segd_start --state-dir "$STATE"; then r=0; else r=1; fi
check "segd restarts" $r
out=$(e2e_segctl isolated 2>&1)
check "after the restart nothing is isolated" "$(grep -q 'no host is isolated' <<<"$out"; echo $?)" "$out"

# ---- device names: pump-7 (address and MAC)
out=$(e2e_segctl isolate pump-7 --reason "odd behaviour" 2>&1); rc=$?
check "isolate pump-7 (a device: its address and MAC)" $rc "$out"
if topo_tcp_probe "$P" pump-7 "$(topo_ip4 pacs)" 11112 1; then r=1; else r=0; fi
check "pump-7 isolated: dicom to pacs is dropped" $r
out=$(e2e_segctl release pump-7 --reason "vendor checked it" 2>&1); rc=$?
check "release pump-7" $rc "$out"

# ---- the audit trail
out=$(e2e_segctl history 2>&1)
n_iso=$(grep -c ' isolate ' <<<"$out") n_rel=$(grep -c ' release ' <<<"$out") n_exp=$(grep -c ' expire ' <<<"$out")
check "history: isolate, release and expire recorded ($n_iso isolate, $n_rel release, $n_exp expire)" \
	"$([ "$n_iso" -ge 3 ] && [ "$n_rel" -ge 2 ] && [ "$n_exp" -ge 1 ]; echo $?)" "$out"
line=$(head -n 1 "$STATE/audit.log")
check "audit.log lines are ECS-style JSON" \
	"$(grep -q '"@timestamp":.*"event":{"action":"isolate".*"user":{"id":"0"}.*"source":{"ip":"'"$WS"'"}.*"reason":"ransomware alert".*"ticket":"INC-42".*"segd":{"generation":' <<<"$line"; echo $?)" "$line"
out=$(e2e_segctl --json history --since 1h 2>&1)
check "history --json --since 1h" "$(grep -q '"records"' <<<"$out"; echo $?)" "$out"

kill "$STREAM_PID" "$PING_PID" 2>/dev/null
