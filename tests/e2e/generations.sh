#!/usr/bin/env bash
# tests/e2e/generations.sh - policy changes and controller restarts without
# a gap (issue 4), proven under traffic that runs throughout:
#
#   streams    modality -> pacs:104 (IPv4) and ehr-ws -> ehr-db:443 (IPv6),
#              two long TCP connections sending a known number of bytes,
#              allowed by both policies: every byte must arrive, neither
#              connection may reset, and no packet of either direction may
#              be counted as a drop;
#   forbidden  guest -> ehr-db udp/514 (numbered datagrams), guest ->
#              pacs:11112 (TCP connects), pump-7 -> ehr-ws (ping), forbidden
#              by both policies: the receivers must see none of them;
#   sampler    every ~50 ms, `ip -o link` in the gateway: each gateway
#              interface must carry exactly one XDP program.
#
# Under that traffic:
#   1. 200 policy updates (`segctl apply` on a copied segments dir,
#      alternating two policies that differ in several rules and a device);
#   2. segd SIGKILLed and restarted 20 times (one restart asks for a tiny
#      --max-hosts: the pinned maps are kept, and the log says so; the last
#      one runs with --watch);
#   3. refusals, each leaving the live generation unchanged: a broken file
#      (segctl apply and --watch), a start naming a missing interface, and
#      a policy over capacity (a fresh segd started with a small
#      --max-hosts).
#
# GEN_UPDATES and GEN_RESTARTS override the counts (defaults 200 and 20).
set -u
. "$(dirname "$0")/lib.sh"
e2e_init g
e2e_need_segd

UPDATES=${GEN_UPDATES:-200}
RESTARTS=${GEN_RESTARTS:-20}
P=$E2E_PREFIX
T=$E2E_TMP
GW_NS=$(topo_ns "$P" gw)
if ! topo_up "$P" 2>"$T/topo.err"; then
	not_ok "topology up" "$(tr '\n' ' ' <"$T/topo.err")"
	exit 1
fi

# ---------------------------------------------------------------- policies

e2e_segments_copy
POLICY=$E2E_SEGDIR/hospital.json
cp "$POLICY" "$T/policy.a"
# B: drops device-syslog and guest-internet, adds ehr -> pacs https and
# pacs -> ehr syslog, and a printer device in ehr (one more host entry).
# Both keep modalities-store and ehr-web (the streams) and forbid the probes.
sed -e '/"device-syslog"/d' \
	-e 's|^ *{ "name": "guest-internet".*$|    { "name": "ehr-pacs-web", "from": ["ehr"], "to": ["pacs"], "services": ["https"] },\n    { "name": "pacs-syslog", "from": ["pacs"], "to": ["ehr"], "services": ["syslog"] }|' \
	-e 's|^\(      "members": { "cidr": \["10.10.0.0/24", "fd00:10::/64"\]\) }$|\1,\n        "devices": [{ "name": "ehr-printer", "ipv4": "10.10.0.99" }] }|' \
	"$T/policy.a" >"$T/policy.b"
# The sed edits must all have happened (else the test proves less).
mkdir -p "$T/chk" && cp "$T/policy.b" "$T/chk/hospital.json"
if [ "$(grep -c -e ehr-pacs-web -e pacs-syslog -e ehr-printer "$T/policy.b")" -ne 3 ] ||
	grep -q -e device-syslog -e guest-internet "$T/policy.b" ||
	! "$SEGD_BUILD/segctl" check "$T/chk" >"$T/chk.out" 2>&1; then
	not_ok "policy B is a valid variant of A" "$(head -c 300 "$T/chk.out")"
	exit 1
fi
ok "two policies: A (the demo hospital) and B (4 rules and a device differ)"

if ! e2e_segd_start; then
	not_ok "segd starts" "$(tail -n 5 "$T/segd.log" | tr '\n' ' ')"
	exit 1
fi
ok "segd starts (pid $E2E_SEGD_PID)"

generation() { e2e_segctl --json status 2>/dev/null | json_get generation; }

# After a SIGKILL the old socket file stays until the new segd replaces it,
# so "the socket exists" says nothing: wait until the new pid answers.
segd_restart() { # [extra segd args]
	local i
	e2e_segd_start "$@" || return 1
	for ((i = 0; i < 150; i++)); do
		kill -0 "$E2E_SEGD_PID" 2>/dev/null || return 1
		[ "$(e2e_segctl --json status 2>/dev/null | json_get pid)" = "$E2E_SEGD_PID" ] && return 0
		sleep 0.1
	done
	return 1
}

# Sum of packets of every counter matching SRC/DST/VERDICT (any reason).
drops() { # BEFORE AFTER SRC DST VERDICT
	local a b
	a=$(awk -v s="$3" -v d="$4" -v v="$5" '$1 == s && $2 == d && $3 == v { n += $5 } END { print n + 0 }' "$1")
	b=$(awk -v s="$3" -v d="$4" -v v="$5" '$1 == s && $2 == d && $3 == v { n += $5 } END { print n + 0 }' "$2")
	echo $((b - a))
}

# Drop counters moved, all keys, except the pairs the forbidden probes use
# (guest -> anything, iomt -> ehr): an allowed packet judged against a
# missing or half policy would resolve to other identities (world), so
# every other drop counts, whatever its key.
other_drops() { # BEFORE AFTER
	awk '$3 == "drop" && $1 != "guest" && !($1 == "iomt" && $2 == "ehr") { k = $1 "/" $2 "/" $4; n[k] += $5 }
		END { for (k in n) print k, n[k] }' "$1" | sort >"$1.drops"
	awk '$3 == "drop" && $1 != "guest" && !($1 == "iomt" && $2 == "ehr") { k = $1 "/" $2 "/" $4; n[k] += $5 }
		END { for (k in n) print k, n[k] }' "$2" | sort >"$2.drops"
	join -a 2 -e 0 -o 0,1.2,2.2 "$1.drops" "$2.drops" | awk '$3 != $2 { printf "%s +%d; ", $1, $3 - $2 }'
}
# TCP segments retransmitted by HOST's stack (a lost segment shows here
# even when it was counted under an unexpected key).
retrans() { # HOST
	topo_exec "$P" "$1" cat /proc/net/snmp | awk '/^Tcp:/ { if (!h) { for (i = 1; i <= NF; i++) c[$i] = i; h = 1 } else print $c["RetransSegs"] }'
}

# ---------------------------------------------------------------- traffic

STOP=$T/stop
CHUNK=4096
# A paced generator: CHUNK bytes every 10 ms until $STOP exists, then the
# number of chunks into FILE. Runs outside the namespaces (it only feeds a
# pipe); socat inside sends it.
gen() { # COUNTFILE
	local n=0
	while [ ! -e "$STOP" ]; do
		head -c "$CHUNK" /dev/zero || break
		n=$((n + 1))
		sleep 0.01
	done
	echo "$n" >"$1"
}

# Stream receivers: one connection each, every byte into a file.
stream_rx() { # HOST PORT FILE
	nsenter --net="$(topo_nspath "$P" "$1")" -- socat -u \
		"TCP6-LISTEN:$2,ipv6only=0,reuseaddr" "OPEN:$3,creat,trunc" \
		</dev/null >/dev/null 2>&1 &
	TOPO_BG_PIDS+=($!)
	topo_wait_listen "$P" "$1" tcp "$2"
}
stream_rx pacs 104 "$T/rx.dicom" && stream_rx ehr-db 443 "$T/rx.https" || {
	not_ok "stream receivers listen"; exit 1; }
# Forbidden receivers: every datagram / every accepted connection is a line.
topo_udp_listen "$P" ehr-db 514 "$T/rx.syslog" || { not_ok "udp receiver"; exit 1; }
: >"$T/rx.conn"
nsenter --net="$(topo_nspath "$P" pacs)" -- socat \
	"TCP6-LISTEN:11112,ipv6only=0,reuseaddr,fork" \
	"SYSTEM:echo accepted >>$T/rx.conn" </dev/null >/dev/null 2>&1 &
TOPO_BG_PIDS+=($!)
topo_wait_listen "$P" pacs tcp 11112 || { not_ok "tcp probe receiver"; exit 1; }

SNAP0=$(e2e_snap)
RT0="$(retrans modality) $(retrans ehr-ws) $(retrans pacs) $(retrans ehr-db)"
{ gen "$T/tx.dicom"; } | topo_exec "$P" modality socat -u - TCP4:10.30.0.10:104 2>"$T/sx.dicom" &
TX_DICOM=$!
{ gen "$T/tx.https"; } | topo_exec "$P" ehr-ws socat -u - "TCP6:[fd00:10::20]:443" 2>"$T/sx.https" &
TX_HTTPS=$!

# Forbidden senders, counting what they sent.
(
	n=0
	while [ ! -e "$STOP" ]; do
		echo "forbidden-$n" | topo_exec "$P" guest socat -u - UDP4:10.10.0.20:514 2>/dev/null
		n=$((n + 1))
		sleep 0.02
	done
	echo "$n" >"$T/tx.syslog"
) &
TX_UDP=$!
(
	n=0
	while [ ! -e "$STOP" ]; do
		topo_exec "$P" guest timeout 1 socat -u /dev/null \
			TCP4:10.30.0.10:11112,connect-timeout=0.2 2>/dev/null
		n=$((n + 1))
	done
	echo "$n" >"$T/tx.conn"
) &
TX_CONN=$!
# nsenter execs ping: $! is ping's own pid, for the SIGINT that makes it
# print its summary.
nsenter --net="$(topo_nspath "$P" pump-7)" -- ping -n -q -i 0.05 -w 600 10.10.0.10 >"$T/ping.bad" 2>&1 &
TX_PING=$!

# The sampler: one line per sample, the number of XDP programs on each
# gateway interface ("ehr-ws=1 ehr-db=1 ..."), and the program ids seen.
(
	while [ ! -e "$STOP" ]; do
		ip -n "$GW_NS" -o link show 2>/dev/null | awk -v hosts="${TOPO_HOSTS[*]}" '
		BEGIN { n = split(hosts, h, " ") }
		{
			name = $2; sub(/:$/, "", name); sub(/@.*/, "", name)
			c = 0; line = $0
			while (match(line, /prog\/xdp[a-z]* id [0-9]+/)) {
				c++; id[substr(line, RSTART, RLENGTH)] = 1
				line = substr(line, RSTART + RLENGTH)
			}
			cnt[name] = c
		}
		END {
			out = ""
			for (i = 1; i <= n; i++) out = out " " h[i] "=" (cnt[h[i]] + 0)
			for (k in id) { sub(/.* id /, "", k); out = out " id:" k }
			print substr(out, 2)
		}'
		sleep 0.05
	done >"$T/samples"
) &
SAMPLER=$!

sleep 1
if [ "$(stat -c %s "$T/rx.dicom")" -gt 0 ] && [ "$(stat -c %s "$T/rx.https")" -gt 0 ]; then
	ok "traffic runs: 2 streams, udp/tcp/icmp forbidden probes, XDP sampler"
else
	not_ok "traffic runs" "streams have not started: $(cat "$T/sx.dicom" "$T/sx.https" | head -c 200)"
fi

# ---------------------------------------------------------------- 1. updates

gen_start=$(generation)
fail=0 t0=$(date +%s%N)
for ((i = 1; i <= UPDATES; i++)); do
	if ((i % 2)); then cp "$T/policy.b" "$POLICY"; else cp "$T/policy.a" "$POLICY"; fi
	if ! out=$(e2e_segctl apply 2>&1); then
		fail=$((fail + 1))
		[ "$fail" -le 3 ] && note "apply $i failed: $(head -c 200 <<<"$out")"
	fi
done
t1=$(date +%s%N)
gen_end=$(generation)
check "$UPDATES policy updates applied (generation $gen_start -> $gen_end)" \
	"$([ "$fail" -eq 0 ] && [ "$((gen_end - gen_start))" -eq "$UPDATES" ]; echo $?)" \
	"$fail failed, generation advanced by $((gen_end - gen_start))"
note "updates: $UPDATES in $(((t1 - t0) / 1000000)) ms (segctl apply, end to end: $(((t1 - t0) / 1000 / UPDATES)) us each)"
SNAP1=$(e2e_snap)
RTU=$(($(retrans modality) + $(retrans ehr-ws)))

# The last policy (A, an even count) is in force: guest -> world https
# passes under A only.
topo_tcp_listen "$P" inet 443 >/dev/null 2>&1
if topo_tcp_probe "$P" guest 198.51.100.10 443; then
	ok "after the updates policy A is in force (guest -> world https passes)"
else
	not_ok "after the updates policy A is in force" "guest -> world https blocked"
fi

# ---------------------------------------------------------------- 2. restarts

restarts_ok=0 kept_msg=0
for ((i = 1; i <= RESTARTS; i++)); do
	kill -KILL "$E2E_SEGD_PID" 2>/dev/null
	wait "$E2E_SEGD_PID" 2>/dev/null
	sleep 0.2
	extra=()
	[ "$i" -eq 5 ] && extra=(--max-hosts 4)
	# An upgrade that changed the layout of the config and policy maps,
	# as the new segd sees it: the maps the running program uses are
	# pinned under older names (_v0), this build's names are free. The
	# new segd must take the live slot and the numbering from the old
	# config, fill its new maps, swap the program, then unpin the _v0
	# maps: all under traffic, without a dropped or leaked packet.
	if [ "$i" -eq 3 ]; then
		pin=$(topo_pin_dir "$P")
		gen_v0=$(e2e_segctl --json status 2>/dev/null | json_get generation)
		mv "$pin/segd_config_v1" "$pin/segd_config_v0" &&
			mv "$pin/segd_policy_v1" "$pin/segd_policy_v0" ||
			note "renaming pins failed"
	fi
	[ "$i" -eq "$RESTARTS" ] && extra=(--watch --watch-delay 300)
	lines=$(wc -l <"$T/segd.log")
	if segd_restart "${extra[@]}"; then
		restarts_ok=$((restarts_ok + 1))
	else
		note "restart $i failed: $(tail -n 3 "$T/segd.log" | tr '\n' ' ')"
	fi
	if [ "$i" -eq 5 ] && tail -n +"$lines" "$T/segd.log" | grep -q 'keeping the pinned map'; then
		kept_msg=1
	fi
	if [ "$i" -eq 3 ]; then
		up=$(tail -n +"$lines" "$T/segd.log")
		g=$(generation)
		grep -q 'segd_policy_v0 is not part of this build' <<<"$up" &&
			grep -q 'took the live slot and generation from .*segd_config_v0' <<<"$up" &&
			[ ! -e "$pin/segd_policy_v0" ] && [ ! -e "$pin/segd_config_v0" ] &&
			[ "$g" = "$((gen_v0 + 1))" ]
		check "upgrade with new config and policy layouts: old maps reported, numbering continued ($gen_v0 -> $g), old pins removed" $? \
			"$(grep -m 3 -e '_v0' -e 'new in this build' <<<"$up" | tr '\n' ' ')"
	fi
done
check "segd SIGKILLed and restarted $RESTARTS times under traffic" \
	"$([ "$restarts_ok" -eq "$RESTARTS" ]; echo $?)" "$restarts_ok restarts succeeded"
check "a restart asking --max-hosts 4 keeps the pinned maps and says so" \
	"$((1 - kept_msg))" "$(grep -m 2 'max\|pinned map' "$T/segd.log" | tr '\n' ' ')"
SNAP2=$(e2e_snap)
RTR=$(($(retrans modality) + $(retrans ehr-ws)))

# ---------------------------------------------------------------- watch

g0=$(generation)
cp "$T/policy.b" "$POLICY.tmp" && mv "$POLICY.tmp" "$POLICY"
for ((i = 0; i < 40; i++)); do [ "$(generation)" != "$g0" ] && break; sleep 0.1; done
g1=$(generation)
check "--watch: a changed file is applied (generation $g0 -> $g1)" \
	"$([ "$g1" = "$((g0 + 1))" ]; echo $?)"
printf '{ "version": 1, "segments": { ' >"$POLICY"
sleep 1.2
g2=$(generation)
check "--watch: a broken file is refused, generation $g1 stays" \
	"$([ "$g2" = "$g1" ] && grep -q 'reload refused' "$T/segd.log"; echo $?)" "now '$g2'"
out=$(e2e_segctl apply 2>&1); rc=$?
check "segctl apply of the broken file: exit 1, FILE:LINE:COLUMN, generation stays" \
	"$([ "$rc" -eq 1 ] && grep -q 'hospital.json:[0-9]*:[0-9]*: ' <<<"$out" && [ "$(generation)" = "$g1" ]; echo $?)" \
	"exit $rc: $(head -c 200 <<<"$out")"
cp "$T/policy.a" "$POLICY"
e2e_segctl apply >/dev/null 2>&1
gen_live=$(generation)

# ---------------------------------------------------------------- missing interface

digest_live=$(e2e_segctl --json status 2>/dev/null | json_get digest)
kill -KILL "$E2E_SEGD_PID"; wait "$E2E_SEGD_PID" 2>/dev/null
down=$(e2e_segctl --json status 2>/dev/null)
check "segd down: segctl status still reports generation $gen_live and digest ${digest_live:0:12} from the pins" \
	"$([ "$(json_get running <<<"$down")" = false ] && [ "$(json_get generation <<<"$down")" = "$gen_live" ] &&
		[ -n "$digest_live" ] && [ "$(json_get digest <<<"$down")" = "$digest_live" ]; echo $?)" "$(head -c 300 <<<"$down")"
nsenter --net="$(topo_nspath "$P" gw)" -- "$SEGD_BUILD/segd" --segments "$E2E_SEGDIR" \
	--interface ehr-ws --interface nope0 --pin-dir "$(topo_pin_dir "$P")" \
	--run-dir "$(topo_run_dir "$P")" --nft-table "$(topo_nft_table "$P")" >"$T/missing.log" 2>&1
rc=$?
g=$(e2e_segctl --json status 2>/dev/null | json_get generation)
check "a start naming a missing interface is refused (exit $rc: $(head -n 1 "$T/missing.log" | cut -c 1-60)), generation $gen_live stays" \
	"$([ "$rc" -eq 1 ] && grep -q 'no such interface "nope0"' "$T/missing.log" && [ "$g" = "$gen_live" ]; echo $?)" "generation '$g'"
segd_restart || not_ok "segd restarts after the refused start"

# ---------------------------------------------------------------- stop traffic, judge

sleep 0.5
touch "$STOP"
wait "$TX_DICOM"; rc_dicom=$?
wait "$TX_HTTPS"; rc_https=$?
wait "$TX_UDP" "$TX_CONN" 2>/dev/null
kill -INT "$TX_PING" 2>/dev/null
for ((i = 0; i < 20; i++)); do kill -0 "$TX_PING" 2>/dev/null || break; sleep 0.1; done
kill -TERM "$TX_PING" 2>/dev/null; wait "$TX_PING" 2>/dev/null
wait "$SAMPLER" 2>/dev/null
for ((i = 0; i < 30; i++)); do
	[ "$(stat -c %s "$T/rx.dicom")" -ge $(($(cat "$T/tx.dicom") * CHUNK)) ] &&
		[ "$(stat -c %s "$T/rx.https")" -ge $(($(cat "$T/tx.https") * CHUNK)) ] && break
	sleep 0.1
done
SNAP3=$(e2e_snap)

for s in dicom https; do
	sent=$(($(cat "$T/tx.$s") * CHUNK)) got=$(stat -c %s "$T/rx.$s")
	rc=rc_$s
	check "stream $s: socat exit ${!rc}, no reset, $got of $sent bytes arrived" \
		"$([ "${!rc}" -eq 0 ] && [ "$got" -eq "$sent" ] && [ "$sent" -gt 0 ] &&
			! grep -qi 'reset\|refused\|broken' "$T/sx.$s"; echo $?)" \
		"$(head -c 200 "$T/sx.$s")"
done
udp_sent=$(cat "$T/tx.syslog") udp_got=$(grep -c forbidden "$T/rx.syslog")
conn_sent=$(cat "$T/tx.conn") conn_got=$(grep -c accepted "$T/rx.conn")
ping_sent=$(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' "$T/ping.bad")
ping_got=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$T/ping.bad")
check "forbidden guest -> ehr-db udp/514: $udp_got of $udp_sent datagrams received" \
	"$([ "$udp_sent" -gt 0 ] && [ "$udp_got" -eq 0 ]; echo $?)"
check "forbidden guest -> pacs tcp/11112: $conn_got of $conn_sent connects accepted" \
	"$([ "$conn_sent" -gt 0 ] && [ "$conn_got" -eq 0 ]; echo $?)"
check "forbidden pump-7 -> ehr-ws ping: ${ping_got:-?} of ${ping_sent:-?} answered" \
	"$([ "${ping_sent:-0}" -gt 0 ] && [ "${ping_got:-1}" -eq 0 ]; echo $?)"

# No packet of the allowed streams was ever judged a drop, in any phase.
bad=()
for pair in "iomt pacs" "pacs iomt" "ehr ehr"; do
	# shellcheck disable=SC2086
	for ph in "$SNAP0 $SNAP1 updates" "$SNAP1 $SNAP2 restarts" "$SNAP2 $SNAP3 refusals"; do
		read -r a b name <<<"$ph"
		d=$(drops "$a" "$b" $pair drop)
		[ "$d" -eq 0 ] || bad+=("${pair/ /->}: $d dropped during $name")
	done
done
RT1="$(retrans modality) $(retrans ehr-ws) $(retrans pacs) $(retrans ehr-db)"
for ph in "$SNAP0 $SNAP1 updates" "$SNAP1 $SNAP2 restarts" "$SNAP2 $SNAP3 refusals"; do
	read -r a b name <<<"$ph"
	o=$(other_drops "$a" "$b")
	[ -z "$o" ] || bad+=("drops during $name: $o")
done
allowed_pkts=$(($(drops "$SNAP0" "$SNAP3" iomt pacs pass) + $(drops "$SNAP0" "$SNAP3" pacs iomt pass) + $(drops "$SNAP0" "$SNAP3" ehr ehr pass)))
check "allowed streams: $allowed_pkts packets passed, 0 drops counted outside the forbidden probes' pairs" ${#bad[@]} "$(printf '%s; ' "${bad[@]}")"
read -r r0a r0b r0c r0d <<<"$RT0"; read -r r1a r1b r1c r1d <<<"$RT1"
note "TCP retransmissions (informational; a spurious timeout under load also counts): modality $((r1a - r0a)), ehr-ws $((r1b - r0b)), pacs $((r1c - r0c)), ehr-db $((r1d - r0d)); senders: $((RTU - r0a - r0b)) during the updates, $((RTR - RTU)) during the restarts"
leak=$(($(drops "$SNAP0" "$SNAP3" guest ehr pass) + $(drops "$SNAP0" "$SNAP3" guest pacs pass) + $(drops "$SNAP0" "$SNAP3" iomt ehr pass)))
forb_pkts=$(($(drops "$SNAP0" "$SNAP3" guest ehr drop) + $(drops "$SNAP0" "$SNAP3" guest pacs drop) + $(drops "$SNAP0" "$SNAP3" iomt ehr drop)))
check "forbidden probes: $forb_pkts packets counted as dropped, $leak as passed" \
	"$([ "$leak" -eq 0 ] && [ "$forb_pkts" -gt 0 ]; echo $?)"

samples=$(wc -l <"$T/samples")
viol=$(grep -c -v -E "^(${TOPO_HOSTS[0]}=1)( [a-z0-9-]+=1){$((${#TOPO_HOSTS[@]} - 1))}( id:[0-9]+)*$" "$T/samples")
ids=$(grep -o 'id:[0-9]*' "$T/samples" | sort -u | wc -l)
check "XDP sampler: $samples samples, each with exactly one program on every interface ($ids program ids seen)" \
	"$([ "$samples" -gt 20 ] && [ "$viol" -eq 0 ]; echo $?)" \
	"$viol bad samples: $(grep -v -m 3 -E ' id:' "$T/samples" | tr '\n' ';')"
note "totals: updates $UPDATES, restarts $RESTARTS, packets judged $((allowed_pkts + forb_pkts)) (allowed $allowed_pkts, forbidden $forb_pkts), misclassified $((leak + ${#bad[@]}))"

# ---------------------------------------------------------------- capacity

# A fresh segd (teardown first: pinned maps keep their size) sized for
# the hospital and a little more; a policy with 40 more hosts is refused.
e2e_segctl teardown --yes >/dev/null 2>&1
E2E_SEGD_PID=
small=24
if ! e2e_segd_start --max-hosts "$small"; then
	not_ok "segd starts with --max-hosts $small" "$(tail -n 3 "$T/segd.log" | tr '\n' ' ')"
	exit 1
fi
gc=$(generation)
devs=$(for ((i = 1; i <= 40; i++)); do printf '{ "name": "bed-%d", "ipv4": "10.20.1.%d" },' "$i" "$i"; done)
sed "s|^\(        \"devices\": \[\)\$|\1 ${devs%,},|; s|^\(        \"devices\": \[\)\(.*pump-7.*\)$|\1 ${devs} \2|" \
	"$T/policy.a" >"$POLICY"
grep -q bed-40 "$POLICY" || not_ok "capacity policy written" "no bed-40 in $(head -c 300 "$POLICY")"
out=$(e2e_segctl apply 2>&1); rc=$?
check "a policy over capacity is refused: $(grep -o 'does not fit [a-z0-9_]*' <<<"$out" | head -n 1)" \
	"$([ "$rc" -eq 1 ] && grep -q 'does not fit segd_host4_v1' <<<"$out"; echo $?)" "exit $rc: $(head -c 300 <<<"$out")"
check "over capacity: generation $gc stays" "$([ "$(generation)" = "$gc" ]; echo $?)"
if topo_tcp_probe "$P" guest 10.30.0.10 104; then
	not_ok "over capacity: the live policy still enforces" "guest -> pacs:104 got through"
else
	ok "over capacity: the live policy still enforces (guest -> pacs:104 dropped)"
fi
