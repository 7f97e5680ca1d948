#!/usr/bin/env bash
# tests/e2e/restart.sh - the life of a policy and of the controller.
#
#   - a bad segment file given to `segctl apply` is refused with
#     FILE:LINE:COLUMN and changes nothing (the bad copy also opens
#     guest -> pacs, which must stay closed); a good change applies and
#     is enforced; reverting it closes the path again;
#   - SIGTERM and SIGKILL of segd leave enforcement in place (forbidden
#     still dropped, allowed still passing, counters still counting);
#   - a restarted segd adopts the pinned state: counters are not reset and
#     no packet slips through or is lost while it starts;
#   - `segctl teardown` wants --yes; with it, XDP, pins and the nft table
#     are gone.
set -u
. "$(dirname "$0")/lib.sh"
e2e_init r
e2e_need_segd

P=$E2E_PREFIX
if ! topo_up "$P" 2>"$E2E_TMP/topo.err"; then
	not_ok "topology up" "$(tr '\n' ' ' <"$E2E_TMP/topo.err")"
	exit 1
fi
topo_tcp_listen "$P" pacs 104 && topo_tcp_listen "$P" ehr-db 443 || {
	not_ok "servers listening"; exit 1; }
e2e_segments_copy
POLICY=$E2E_SEGDIR/hospital.json
cp "$POLICY" "$E2E_TMP/hospital.json.orig"

if ! e2e_segd_start; then
	not_ok "segd starts" "$(tail -n 5 "$E2E_TMP/segd.log" | tr '\n' ' ')"
	exit 1
fi
ok "segd starts (pid $E2E_SEGD_PID)"

generation() { e2e_segctl --json status 2>/dev/null | json_get generation; }
xdp_ifaces() { # prints the gateway interfaces that have an XDP program
	local h
	for h in "${TOPO_HOSTS[@]}"; do
		topo_exec "$P" gw ip link show dev "$h" 2>/dev/null | grep -q ' xdp' && echo "$h"
	done
}
nft_has_table() {
	topo_exec "$P" gw nft list tables 2>/dev/null | grep -qw "$(topo_nft_table "$P")"
}

# enforcing LABEL [open]: the forbidden path (guest -> pacs:104) is dropped
# (or, with "open", passes) and the allowed ones (modality -> pacs:104,
# ehr-ws -> ehr-db:443, ping ehr-ws -> pump-7) pass.
enforcing() {
	local label=$1 want=drop bad=()
	[ "${2:-}" = open ] && want=pass
	if topo_tcp_probe "$P" guest 10.30.0.10 104; then
		[ "$want" = pass ] || bad+=("guest -> pacs:104 got through")
	else
		[ "$want" = drop ] || bad+=("guest -> pacs:104 did not get through")
	fi
	topo_tcp_probe "$P" modality 10.30.0.10 104 || bad+=("modality -> pacs:104 blocked")
	topo_tcp_probe "$P" ehr-ws 10.10.0.20 443 || bad+=("ehr-ws -> ehr-db:443 blocked")
	topo_ping "$P" ehr-ws 10.20.0.7 || bad+=("ping ehr-ws -> pump-7 blocked")
	check "$label" ${#bad[@]} "$(printf '%s; ' "${bad[@]}")"
}

gen0=$(generation)
check "segctl status reports a policy generation" "$([ -n "$gen0" ]; echo $?)" "no generation in: $(e2e_segctl --json status 2>&1 | head -c 200)"
enforcing "enforcing: guest -> pacs dropped; modality -> pacs, ehr https, clinical ping pass"
check "nft table $(topo_nft_table "$P") is loaded in the gateway" "$(nft_has_table; echo $?)"
[ "$(xdp_ifaces | wc -l)" -eq ${#TOPO_HOSTS[@]} ]
check "XDP attached to all ${#TOPO_HOSTS[@]} gateway interfaces" $? "only on: $(xdp_ifaces | tr '\n' ' ')"

# ---- bad files: refused with FILE:LINE:COLUMN, nothing applied
# Every bad copy also adds a rule that would open guest -> pacs (dicom).
open_rule='    { "name": "guest-pacs", "from": ["guest"], "to": ["pacs"], "services": ["dicom"] },'
# position LINE_REGEX NEEDLE [OFFSET]: sets BAD_LINE and BAD_COL (1-based)
# to where NEEDLE starts (plus OFFSET) on the first line matching.
position() {
	BAD_LINE=$(grep -n -- "$1" "$POLICY" | head -n 1 | cut -d: -f1)
	BAD_COL=$(sed -n "${BAD_LINE}p" "$POLICY" | awk -v n="$2" -v o="${3:-0}" '{ print index($0, n) + o }')
}
bad_policy() { # KIND: writes the bad copy, sets BAD_LINE and BAD_COL
	cp "$E2E_TMP/hospital.json.orig" "$POLICY"
	sed -i "s|^\(  \"rules\": \[\)\$|\1\n$open_rule|" "$POLICY"
	case $1 in
	port) # the value 70000
		sed -i 's|"ports": \[514\]|"ports": [70000]|' "$POLICY"
		position 70000 70000 ;;
	dupkey) # the second "intra"
		sed -i 's|^\(    "pacs": {\)$|\1 "intra": "allow", "intra": "deny",|' "$POLICY"
		position '"intra": "allow", "intra"' '"intra": "deny"' ;;
	syntax) # the "{" where ":" is missing
		sed -i 's|^\(    "guest": {\)$|\1 "members" { "cidr": [] },|' "$POLICY"
		position '"members" {' '"members" {' 10 ;;
	unknownref) # the string "guests"
		sed -i 's|"from": \["guest"\], "to": \["pacs"\]|"from": ["guests"], "to": ["pacs"]|' "$POLICY"
		position '"guests"' '"guests"' ;;
	esac
}
for kind in port dupkey syntax unknownref; do
	bad_policy "$kind"
	case $kind in
	port) what="port 70000 out of range" ;;
	dupkey) what="duplicate key" ;;
	syntax) what="JSON syntax error" ;;
	unknownref) what="rule names an undeclared segment" ;;
	esac
	out=$(e2e_segctl apply 2>&1); rc=$?
	if [ "$rc" -eq 1 ] && grep -q "hospital.json:$BAD_LINE:$BAD_COL: " <<<"$out"; then
		ok "bad file ($what) refused: $(grep -o "hospital.json:$BAD_LINE:$BAD_COL: .*" <<<"$out" | head -n 1 | cut -c 1-110)"
	else
		not_ok "bad file ($what) refused with hospital.json:$BAD_LINE:$BAD_COL and exit 1" \
			"exit $rc, output: $(head -c 300 <<<"$out" | tr '\n' ' ')"
	fi
	g=$(generation)
	check "bad file ($what): policy generation unchanged ($gen0)" "$([ "$g" = "$gen0" ]; echo $?)" "now '$g'"
done
enforcing "after the refused files: guest -> pacs still dropped, allowed still pass"

# ---- a good change applies, and is enforced; reverting closes it again
bad_policy none
out=$(e2e_segctl apply 2>&1); rc=$?
g1=$(generation)
check "good file (adds guest -> pacs dicom) applies" \
	"$([ "$rc" -eq 0 ] && [ -n "$g1" ] && [ "$g1" != "$gen0" ]; echo $?)" \
	"exit $rc, generation $gen0 -> '$g1': $(head -c 200 <<<"$out")"
enforcing "after apply: guest -> pacs:104 now passes" open
cp "$E2E_TMP/hospital.json.orig" "$POLICY"
e2e_segctl apply >/dev/null 2>&1
check "revert applies" $?
enforcing "after revert: guest -> pacs:104 dropped again"
gen_now=$(generation)

prog_id() { e2e_segctl --json status 2>/dev/null | json_get prog_id; }
prog0=$(prog_id)

# ---- SIGTERM: enforcement stays
before=$(e2e_snap)
kill -TERM "$E2E_SEGD_PID"
for ((i = 0; i < 50; i++)); do kill -0 "$E2E_SEGD_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$E2E_SEGD_PID" 2>/dev/null
check "segd exits on SIGTERM" "$((1 - $?))"
wait "$E2E_SEGD_PID" 2>/dev/null
[ "$(xdp_ifaces | wc -l)" -eq ${#TOPO_HOSTS[@]} ]
check "after SIGTERM: XDP still attached to all interfaces" $? "only on: $(xdp_ifaces | tr '\n' ' ')"
enforcing "after SIGTERM: still enforcing"

# ---- restart: adopts
if e2e_segd_start; then ok "segd restarts after SIGTERM"; else not_ok "segd restarts after SIGTERM" "$(tail -n 5 "$E2E_TMP/segd.log" | tr '\n' ' ')"; fi
g=$(generation)
check "restarted segd reports a generation (was $gen_now)" "$([ -n "$g" ]; echo $?)"
after=$(e2e_snap)
d=$(e2e_delta "$before" "$after" guest/pacs/drop/policy)
check "restarted segd kept the counters (guest/pacs/drop/policy +$d, not reset)" \
	"$([ "$d" -ge 1 ]; echo $?)" "delta $d"
enforcing "after restart: enforcing"
note "XDP program id before SIGTERM $prog0, after the restart $(prog_id)"

# ---- SIGKILL: enforcement stays, counting goes on
snap_kill=$(e2e_snap)
kill -KILL "$E2E_SEGD_PID"
wait "$E2E_SEGD_PID" 2>/dev/null
[ "$(xdp_ifaces | wc -l)" -eq ${#TOPO_HOSTS[@]} ]
check "after SIGKILL: XDP still attached to all interfaces" $? "only on: $(xdp_ifaces | tr '\n' ' ')"
check "after SIGKILL: pins still in $(topo_pin_dir "$P")" "$([ -n "$(ls -A "$(topo_pin_dir "$P")" 2>/dev/null)" ]; echo $?)"
enforcing "after SIGKILL: forbidden still dropped, allowed still pass"
after=$(e2e_snap)
d=$(e2e_delta "$snap_kill" "$after" guest/pacs/drop/policy)
check "after SIGKILL: drops still counted in the pinned map (segctl stats reads it without segd)" \
	"$([ "$d" -ge 1 ]; echo $?)" "guest/pacs/drop/policy +$d; $(head -c 200 "$after.err")"

# ---- restart under traffic: no gap
snap_before=$(e2e_snap)
topo_exec "$P" guest ping -n -q -i 0.01 -c 300 -W 1 10.30.0.10 >"$E2E_TMP/ping.bad" 2>&1 &
bad_pid=$!
topo_exec "$P" ehr-ws ping -n -q -i 0.01 -c 300 -W 1 10.20.0.7 >"$E2E_TMP/ping.good" 2>&1 &
good_pid=$!
sleep 0.3
if e2e_segd_start; then ok "segd restarts after SIGKILL"; else not_ok "segd restarts after SIGKILL" "$(tail -n 5 "$E2E_TMP/segd.log" | tr '\n' ' ')"; fi
wait "$bad_pid" "$good_pid" 2>/dev/null
recv_bad=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$E2E_TMP/ping.bad")
recv_good=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$E2E_TMP/ping.good")
check "while segd restarts: guest -> pacs pings (300 at 10 ms) all dropped" \
	"$([ "${recv_bad:-x}" = 0 ]; echo $?)" "$recv_bad of 300 answered: $(tail -n 2 "$E2E_TMP/ping.bad" | tr '\n' ' ')"
check "while segd restarts: ehr-ws -> pump-7 pings (300 at 10 ms) all answered" \
	"$([ "${recv_good:-x}" = 300 ]; echo $?)" "$recv_good of 300 answered"
after=$(e2e_snap)
d=$(e2e_delta "$snap_before" "$after" guest/pacs/drop/policy)
check "restarted segd adopted the counters (guest/pacs/drop/policy +$d, 300 pings)" \
	"$([ "$d" -ge 300 ]; echo $?)" "delta $d"
enforcing "after restart: enforcing"
note "XDP program id after the restart under traffic $(prog_id)"

# ---- teardown
out=$(e2e_segctl teardown 2>&1); rc=$?
[ "$rc" -ne 0 ] && [ "$(xdp_ifaces | wc -l)" -eq ${#TOPO_HOSTS[@]} ]
check "segctl teardown without --yes is refused and changes nothing" $? "exit $rc: $(head -c 200 <<<"$out")"
out=$(e2e_segctl teardown --yes 2>&1); rc=$?
check "segctl teardown --yes exits 0" "$rc" "$(head -c 300 <<<"$out" | tr '\n' ' ')"
sleep 0.2
left=$(xdp_ifaces | tr '\n' ' ')
check "after teardown: no XDP program on any gateway interface" "$([ -z "$left" ]; echo $?)" "still on: $left"
check "after teardown: pin dir $(topo_pin_dir "$P") is gone" "$([ ! -e "$(topo_pin_dir "$P")" ]; echo $?)" \
	"left: $(ls -A "$(topo_pin_dir "$P")" 2>&1 | tr '\n' ' ')"
nft_has_table; st=$?
check "after teardown: nft table $(topo_nft_table "$P") is gone" "$((1 - st))"
if topo_tcp_probe "$P" guest 10.30.0.10 104; then
	ok "after teardown: nothing is enforced (guest -> pacs:104 gets through)"
else
	not_ok "after teardown: nothing is enforced" "guest -> pacs:104 still blocked"
fi
