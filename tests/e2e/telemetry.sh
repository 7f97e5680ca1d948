#!/usr/bin/env bash
# tests/e2e/telemetry.sh - drop telemetry for the SOC, end to end.
#
# The hospital of scripts/topology.sh under segd with --events,
# --metrics-file and --metrics-listen:
#   - a SYN scan of 1000 ports (attack/tcp_syn_portscan_1000ports.pcap,
#     rewritten as guest -> ehr-db) plus one late SYN of the same pair: the
#     events file holds drop events with the right fields and reason, and
#     delivered events + their suppressed counts = SYNs sent = the counter
#     guest/ehr/drop/policy = what ehr-db did not receive; the data path's
#     own totals (sent + suppressed + lost) add up to every drop;
#   - the metrics file and GET /metrics parse with a strict exposition
#     parser (build/tests/promcheck) and agree with the counters;
#   - segctl events (filters, --json), segctl stats rates, segctl top --once;
#   - SIGHUP reopens a moved events file; a non-loopback --metrics-listen
#     is refused;
#   - pacs switched to "mode": "audit" in a policy copy: guest -> pacs
#     passes and is reported as an audit would-drop.
set -u
. "$(dirname "$0")/lib.sh"
e2e_init t

PCAPS=${SEGD_PCAPS:-$SEGD_SRCDIR/../shared/pcaps}
SCAN_PCAP=$PCAPS/attack/tcp_syn_portscan_1000ports.pcap
if [ ! -f "$SCAN_PCAP" ]; then
	skip "telemetry (no capture at $SCAN_PCAP)"
	exit 0
fi
for t in tcpreplay tcprewrite tcpdump; do
	command -v "$t" >/dev/null 2>&1 || { not_ok "prerequisites" "$t not installed (make deps)"; exit 1; }
done
e2e_need_segd
PROMCHECK=$SEGD_BUILD/tests/promcheck
[ -x "$PROMCHECK" ] || { not_ok "prerequisites" "$PROMCHECK not built (make tests-build)"; exit 1; }

P=$E2E_PREFIX
EV=$E2E_TMP/events.json
PROM=$E2E_TMP/segd.prom
PORT=9640	# inside the gateway's own namespace: no clash with the host
RATE=10 BURST=20

if ! topo_up "$P" 2>"$E2E_TMP/topo.err"; then
	not_ok "topology up" "$(tr '\n' ' ' <"$E2E_TMP/topo.err")"
	exit 1
fi

# ---- options refused before anything is touched
out=$(nsenter --net="$(topo_nspath "$P" gw)" -- "$SEGD_BUILD/segd" --segments "$SEGD_SRCDIR/segments" \
	--interface guest --pin-dir "$(topo_pin_dir "$P")-x" --run-dir "$(topo_run_dir "$P")-x" \
	--metrics-listen 0.0.0.0:$PORT 2>&1); rc=$?
check "segd refuses --metrics-listen 0.0.0.0:$PORT (not loopback), quoting it" \
	"$([ "$rc" -ne 0 ] && grep -q '"0.0.0.0"' <<<"$out"; echo $?)" "rc $rc: $out"

e2e_segments_copy
if ! e2e_segd_start --events "$EV" --metrics-file "$PROM" --metrics-interval 1 \
	--metrics-listen "127.0.0.1:$PORT" --events-rate $RATE --events-burst $BURST; then
	not_ok "segd starts with --events, --metrics-file, --metrics-listen" "$(tail -n 5 "$E2E_TMP/segd.log" | tr '\n' ' ')"
	exit 1
fi
ok "segd starts with --events, --metrics-file, --metrics-listen 127.0.0.1:$PORT"

# ---- the scan: guest -> ehr-db, SYNs only
GUEST4=$(topo_ip4 guest) EHRDB4=$(topo_ip4 ehr-db)
scan=$E2E_TMP/scan.pcap
tcpdump -r "$SCAN_PCAP" -w "$E2E_TMP/scan.filtered.pcap" \
	'src host 172.16.0.8 and tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn' 2>/dev/null
tcprewrite -i "$E2E_TMP/scan.filtered.pcap" -o "$scan" \
	--srcipmap=172.16.0.8/32:"$GUEST4"/32 --dstipmap=64.13.134.52/32:"$EHRDB4"/32 \
	--enet-smac="$(topo_mac guest)" --enet-dmac="$(topo_gw_mac "$P" guest)" --fixcsum >/dev/null 2>&1
tcpdump -r "$scan" -w "$E2E_TMP/late.pcap" -c 1 2>/dev/null
N=$(tcpdump -n -r "$scan" 2>/dev/null | grep -c '^[0-9]')
if [ "${N:-0}" -lt 100 ]; then
	not_ok "scan capture rewritten" "only ${N:-0} frames"
	exit 1
fi

replay() { # HOST PCAP -> SENT
	local o
	o=$(topo_exec "$P" "$1" tcpreplay -i eth0 --pps=2000 "$2" 2>&1)
	SENT=$(sed -n 's/.*Actual: \([0-9]*\) packets.*/\1/p' <<<"$o")
	[ -n "$SENT" ] || { note "tcpreplay: $o"; SENT=-1; }
}
evstats() { # -> "sent suppressed lost" from segctl --json stats
	local j
	j=$(e2e_segctl --json stats | tr -d '\n' | grep -o '"events":{[^}]*}')
	echo "$(json_get sent <<<"$j") $(json_get suppressed <<<"$j") $(json_get lost <<<"$j")"
}
# Every drop and audit counter, summed (what the events must account for).
drops_total() {
	awk '$3 == "drop" || $4 == "audit" { s += $5 } END { print s + 0 }' "$1"
}

before=$(e2e_snap)
read -r es0 ss0 ls0 <<<"$(evstats)"
: >"$E2E_TMP/cap.err"
nsenter --net="$(topo_nspath "$P" ehr-db)" -- tcpdump -Z root -U -n -i eth0 \
	-w "$E2E_TMP/cap.pcap" "src host $GUEST4" 2>"$E2E_TMP/cap.err" &
CAP_PID=$!
for ((i = 0; i < 40; i++)); do grep -q 'listening on' "$E2E_TMP/cap.err" && break; sleep 0.05; done
replay guest "$scan"; sent1=$SENT
sleep 0.4	# one token later: the late SYN's event carries the count
replay guest "$E2E_TMP/late.pcap"; sent2=$SENT
sleep 0.5
kill -INT "$CAP_PID" 2>/dev/null; wait "$CAP_PID" 2>/dev/null
got=$(tcpdump -n -r "$E2E_TMP/cap.pcap" 2>/dev/null | grep -c '^[0-9]')
after=$(e2e_snap)
read -r es1 ss1 ls1 <<<"$(evstats)"
SENT=$((sent1 + sent2))
check "scan: tcpreplay sent $N SYNs + 1 late one" "$([ "$sent1" -eq "$N" ] && [ "$sent2" -eq 1 ]; echo $?)" "sent $sent1 + $sent2"
d=$(e2e_delta "$before" "$after" guest/ehr/drop/policy)
check "scan: counter guest/ehr/drop/policy +$d = $SENT sent" "$([ "$d" -eq "$SENT" ]; echo $?)"
check "scan: ehr-db received none of them (so the counter = sent - received)" "$got" "ehr-db captured $got"

# The events of this pair in the file.
grep '"src_segment":"guest","dst_segment":"ehr"' "$EV" >"$E2E_TMP/pair.json"
D=$(grep -c . "$E2E_TMP/pair.json")
S=$(sed -n 's/.*"suppressed":\([0-9]*\).*/\1/p' "$E2E_TMP/pair.json" | awk '{ s += $1 } END { print s + 0 }')
LOST=$((ls1 - ls0))
check "scan: $D events delivered + $S suppressed + $LOST lost = $SENT sent" \
	"$([ $((D + S + LOST)) -eq "$SENT" ]; echo $?)"
check "scan: the rate limit held: $D events for $SENT drops (burst $BURST, $RATE/s)" \
	"$([ "$D" -ge "$BURST" ] && [ "$D" -le $((BURST + 10)) ]; echo $?)"
check "data path totals: sent +$((es1 - es0)), suppressed +$((ss1 - ss0)), lost +$LOST = $SENT" \
	"$([ $((es1 - es0 + ss1 - ss0 + LOST)) -eq "$SENT" ]; echo $?)"
tot_drops=$(drops_total "$after")
check "data path totals account for every drop and audit: $es1 + $ss1 + $ls1 = $tot_drops" \
	"$([ $((es1 + ss1 + ls1)) -eq "$tot_drops" ]; echo $?)"
last_sup=$(tail -n 1 "$E2E_TMP/pair.json" | sed -n 's/.*"suppressed":\([0-9]*\).*/\1/p')
check "scan: the late SYN's event carries the suppressed count ($last_sup)" \
	"$([ "${last_sup:-0}" -gt 0 ]; echo $?)"
note "scan: $SENT drops -> $D events, $S suppressed, $LOST lost"

# Fields of one event (ECS names, nested objects).
e=$(head -n 1 "$E2E_TMP/pair.json")
sub() { grep -o "\"$1\":{[^{}]*}" <<<"$e" | head -n 1; }
gmac=$(topo_mac guest | tr 'a-f:' 'A-F-')
fails=()
[ "$(json_get kind <<<"$(grep -o '"event":{[^}]*}' <<<"$e")")" = event ] || fails+=(event.kind)
grep -q '"category":\["network"\]' <<<"$e" || fails+=(event.category)
[ "$(json_get action <<<"$(grep -o '"event":{[^}]*}' <<<"$e")")" = deny ] || fails+=(event.action)
[ "$(json_get reason <<<"$(grep -o '"event":{[^}]*}' <<<"$e")")" = policy ] || fails+=(event.reason)
[ "$(json_get ip <<<"$(sub source)")" = "$GUEST4" ] || fails+=(source.ip)
[ "$(json_get mac <<<"$(sub source)")" = "$gmac" ] || fails+=(source.mac)
[ -n "$(json_get port <<<"$(sub source)")" ] || fails+=(source.port)
[ "$(json_get ip <<<"$(sub destination)")" = "$EHRDB4" ] || fails+=(destination.ip)
[ -n "$(json_get port <<<"$(sub destination)")" ] || fails+=(destination.port)
[ "$(json_get transport <<<"$e")" = tcp ] || fails+=(network.transport)
[ "$(json_get type <<<"$(grep -o '"network":{[^}]*}' <<<"$e")")" = ipv4 ] || fails+=(network.type)
[ "$(json_get name <<<"$e")" = guest ] || fails+=(observer.ingress.interface.name)
grep -q '"src_identity":"guest","dst_identity":"ehr"' <<<"$e" || fails+=(segd.identities)
grep -Eq '"generation":[1-9]' <<<"$e" || fails+=(segd.generation)
grep -Eq '^\{"@timestamp":"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z"' <<<"$e" || fails+=(@timestamp)
check "scan: an event has the right ECS fields" ${#fails[@]} "wrong: ${fails[*]} in $e"

# ---- metrics: the file and the endpoint
sleep 1.5
out=$("$PROMCHECK" "$PROM" 2>&1); rc=$?
check "metrics file parses strictly ($out)" "$rc" "$out"
m=$("$PROMCHECK" "$PROM" segd_packets_total src_segment=guest dst_segment=ehr verdict=drop reason=policy)
c=$(e2e_count "$(e2e_snap)" guest/ehr/drop/policy)
check "metrics file: segd_packets_total{guest,ehr,drop,policy} = $m = counter $c" "$([ "$m" = "$c" ]; echo $?)"
for f in segd_bytes_total segd_events_total segd_events_suppressed_total segd_ringbuf_lost_total segd_policy_generation segd_build_info; do
	"$PROMCHECK" "$PROM" "$f" >/dev/null || fails+=("$f")
done
check "metrics file has every family" ${#fails[@]} "missing: ${fails[*]}"
check "metrics file: no addresses in labels" "$(grep -c '10\.[0-9]*\.[0-9]*\.[0-9]*' "$PROM")"
printf 'GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n' |
	topo_exec "$P" gw socat -t 3 - "TCP4:127.0.0.1:$PORT" >"$E2E_TMP/http.txt" 2>&1
head -n 1 "$E2E_TMP/http.txt" | grep -q '^HTTP/1.1 200'; rc=$?
sed '1,/^\r$/d' "$E2E_TMP/http.txt" >"$E2E_TMP/http.prom"
out=$("$PROMCHECK" "$E2E_TMP/http.prom" 2>&1); rc2=$?
check "GET /metrics on 127.0.0.1:$PORT: 200 and it parses ($out)" "$((rc + rc2))" "$(head -c 300 "$E2E_TMP/http.txt")"

# A client that drips a request, and a crowd of idle ones, never stall
# segd's loop: the control socket answers and another scrape works.
slow_pids=()
(printf 'G'; sleep 1; printf 'E'; sleep 4) |
	topo_exec "$P" gw socat -t 6 - "TCP4:127.0.0.1:$PORT" >/dev/null 2>&1 &
slow_pids+=($!)
for i in $(seq 1 20); do
	sleep 6 | topo_exec "$P" gw socat -t 7 - "TCP4:127.0.0.1:$PORT" >/dev/null 2>&1 &
	slow_pids+=($!)
done
sleep 0.5
t0=$(date +%s%N)
e2e_segctl status >/dev/null 2>&1
t1=$(date +%s%N)
ms=$(((t1 - t0) / 1000000))
check "segctl status answers in ${ms} ms while 21 slow metrics clients hang on (< 1000 ms)" \
	"$([ "$ms" -lt 1000 ]; echo $?)"
printf 'GET /metrics HTTP/1.0\r\n\r\n' |
	topo_exec "$P" gw socat -t 3 - "TCP4:127.0.0.1:$PORT" >"$E2E_TMP/http2.txt" 2>&1
head -n 1 "$E2E_TMP/http2.txt" | grep -q '^HTTP/1.1 200'
check "GET /metrics still answered while slow clients hang on" $? "$(head -c 200 "$E2E_TMP/http2.txt")"
kill "${slow_pids[@]}" 2>/dev/null
wait "${slow_pids[@]}" 2>/dev/null

# ---- segctl
out=$(e2e_segctl events -n 3 --segment ehr --reason policy 2>&1)
check "segctl events -n 3 --segment ehr --reason policy: 3 lines naming guest -> ehr" \
	"$([ "$(grep -c "$GUEST4:.* \[guest\] -> $EHRDB4 \[ehr\]" <<<"$out")" -eq 3 ]; echo $?)" "$out"
out=$(e2e_segctl --json events -n 2 2>&1)
check "segctl --json events -n 2: one document with 2 events" \
	"$([ "$(grep -o '"@timestamp"' <<<"$out" | wc -l)" -eq 2 ] && [ "$(grep -c . <<<"$out")" -eq 1 ]; echo $?)" "$(head -c 300 <<<"$out")"
out=$(e2e_segctl events --reason bogus 2>&1); rc=$?
check "segctl events --reason bogus: usage error quoting it" "$([ "$rc" -eq 2 ] && grep -q '"bogus"' <<<"$out"; echo $?)" "rc $rc: $out"
e2e_segctl stats >/dev/null 2>&1
sleep 0.3
out=$(e2e_segctl stats 2>&1)
check "segctl stats: rates since the previous call" "$(grep -q 'rates over the last' <<<"$out"; echo $?)" "$(head -c 300 <<<"$out")"
out=$(e2e_segctl --json stats 2>&1)
check "segctl --json stats: pps and bps per counter" "$(grep -q '"pps":' <<<"$out" && grep -q '"interval_s":[0-9]' <<<"$out"; echo $?)" "$(head -c 300 <<<"$out")"
out=$(e2e_segctl top --once 2>&1)
check "segctl top --once: guest -> ehr among the pairs, $GUEST4 among the sources" \
	"$(grep -q '^guest  *ehr  *policy' <<<"$out" && grep -q "^$GUEST4 " <<<"$out"; echo $?)" "$out"
sed 's/^/# /' <<<"$out"

# ---- SIGHUP: a log rotator moved the file; segd reopens it
mv "$EV" "$EV.rotated"
kill -HUP "$E2E_SEGD_PID"
sleep 0.5
topo_tcp_probe "$P" guest "$EHRDB4" 22 >/dev/null 2>&1
sleep 0.5
check "SIGHUP: a new events file appears after the old one was moved" \
	"$(grep -q '"src_segment":"guest"' "$EV" 2>/dev/null; echo $?)"

# ---- audit: pacs in audit mode passes guest -> pacs and reports it
topo_tcp_listen "$P" pacs 11112
sed -i 's|^\(    "pacs": {\)$|\1\n      "mode": "audit",|' "$E2E_SEGDIR/hospital.json"
if ! grep -q '"mode": "audit"' "$E2E_SEGDIR/hospital.json"; then
	not_ok "audit: policy copy with pacs in audit mode" "sed did not apply"
else
	out=$(e2e_segctl apply 2>&1)
	check "audit: segctl apply (pacs in audit mode)" $? "$out"
	before=$(e2e_snap)
	topo_tcp_probe "$P" guest "$(topo_ip4 pacs)" 11112; rc=$?
	sleep 0.5
	after=$(e2e_snap)
	check "audit: guest -> pacs:11112 gets through" "$rc"
	d=$(e2e_delta "$before" "$after" guest/pacs/pass/audit)
	check "audit: counted guest/pacs/pass/audit +$d" "$([ "$d" -ge 1 ]; echo $?)"
	a=$(grep '"action":"audit"' "$EV" | grep '"src_segment":"guest","dst_segment":"pacs"' | head -n 1)
	check "audit: an event with event.action audit, reason audit, verdict pass" \
		"$(grep -q '"reason":"audit"' <<<"$a" && grep -q '"verdict":"pass"' <<<"$a"; echo $?)" "$(tail -n 2 "$EV")"
fi
