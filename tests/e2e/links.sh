#!/usr/bin/env bash
# tests/e2e/links.sh - enforcement is not lost silently when the ground
# moves under segd:
#   - a gateway interface deleted: segd logs it and `segctl status` exits 1
#     (NOT ENFORCING, "enforcing": false in JSON);
#   - recreated with the same name (new ifindex): segd reattaches at once
#     (measured), forbidden traffic is dropped and counted again, allowed
#     passes, `segctl status` exits 0; likewise with topo_relink (delete
#     and recreate in one go);
#   - the XDP link detached behind segd's back (no link event): put back
#     by the periodic check;
#   - `nft flush ruleset` in the gateway (Debian's nftables.service
#     reload): segd's table is back at once (measured) and an allowed TCP
#     connection, whose replies need conntrack, works again; a foreign
#     table is never recreated or touched.
set -u
. "$(dirname "$0")/lib.sh"
e2e_init l
e2e_need_segd

P=$E2E_PREFIX
TABLE=$(topo_nft_table "$P")
if ! topo_up "$P" 2>"$E2E_TMP/topo.err"; then
	not_ok "topology up" "$(tr '\n' ' ' <"$E2E_TMP/topo.err")"
	exit 1
fi
topo_tcp_listen "$P" pacs 104 && topo_tcp_listen "$P" ehr-db 443 &&
	topo_tcp_listen "$P" inet 443 || { not_ok "servers listening"; exit 1; }
e2e_segments_copy
if ! e2e_segd_start; then
	not_ok "segd starts" "$(tail -n 5 "$E2E_TMP/segd.log" | tr '\n' ' ')"
	exit 1
fi
ok "segd starts (pid $E2E_SEGD_PID)"

now_ms() { date +%s%3N; }
has_xdp() { topo_exec "$P" gw ip link show dev "$1" 2>/dev/null | grep -q ' xdp'; }
# wait_xdp IF: until IF runs an XDP program (5 s at most); prints the ms waited
wait_xdp() {
	local t0 i
	t0=$(now_ms)
	for ((i = 0; i < 250; i++)); do
		has_xdp "$1" && { echo $(($(now_ms) - t0)); return 0; }
		sleep 0.02
	done
	echo "timeout"
	return 1
}
has_table() { topo_exec "$P" gw nft list table inet "$1" >/dev/null 2>&1; }
status_rc() { e2e_segctl status >"$E2E_TMP/status.out" 2>&1; echo $?; }
log_has() { grep -q -- "$1" "$E2E_TMP/segd.log"; }

# enforced LABEL HOST: HOST's forbidden path dropped and counted, its
# allowed path passes.
enforced() {
	local label=$1 h=$2 before after d key bad=()
	before=$(e2e_snap)
	case $h in
	guest)
		topo_tcp_probe "$P" guest 10.30.0.10 104 && bad+=("guest -> pacs:104 got through")
		topo_tcp_probe "$P" guest 198.51.100.10 443 || bad+=("guest -> inet:443 blocked")
		key=guest/pacs/drop/policy ;;
	modality)
		topo_tcp_probe "$P" modality 10.10.0.20 443 && bad+=("modality -> ehr-db:443 got through")
		topo_tcp_probe "$P" modality 10.30.0.10 104 || bad+=("modality -> pacs:104 blocked")
		key=iomt/ehr/drop/policy ;;
	esac
	sleep 0.1
	after=$(e2e_snap)
	d=$(e2e_delta "$before" "$after" "$key")
	[ "$d" -ge 1 ] || bad+=("$key +$d (want >= 1)")
	check "$label" ${#bad[@]} "$(printf '%s; ' "${bad[@]}")"
}

rc=$(status_rc)
check "segctl status exits 0 with every interface attached" "$rc" "exit $rc: $(head -c 300 "$E2E_TMP/status.out")"
enforced "before: guest -> pacs dropped and counted, guest -> internet https passes" guest

# ---- delete guest's interface: logged, status says NOT ENFORCING, exit 1
topo_exec "$P" gw ip link del guest
sleep 0.3
log_has "guest: interface is gone"
check "guest deleted: segd logs it" $? "$(tail -n 3 "$E2E_TMP/segd.log" | tr '\n' ' ')"
rc=$(status_rc)
[ "$rc" -eq 1 ] && grep -q "NOT ATTACHED" "$E2E_TMP/status.out" && grep -q "NOT ENFORCING.*guest" "$E2E_TMP/status.out"
check "guest deleted: segctl status says NOT ENFORCING on guest and exits 1" $? "exit $rc: $(tail -n 2 "$E2E_TMP/status.out" | tr '\n' ' ')"
js=$(e2e_segctl --json status 2>/dev/null); rc=$?
[ "$rc" -eq 1 ] && [ "$(json_get enforcing <<<"$js")" = false ] && grep -q '"not_attached": *\[ *"guest"' <<<"$js"
check "guest deleted: segctl --json status has \"enforcing\": false, \"not_attached\": [\"guest\"], exit 1" $? "exit $rc: $(head -c 300 <<<"$js")"

# ---- recreate it with the same name: reattached at once. A poller started
# before `ip link add` notes when the program is there again.
( for ((i = 0; i < 500; i++)); do
	has_xdp guest && { now_ms >"$E2E_TMP/xdp.guest"; exit 0; }
	sleep 0.005
done ) &
poller=$!
t0=$(now_ms)
topo_veth "$P" guest && topo_proxy_nd "$P" guest
t1=$(now_ms)
wait "$poller"
ms=timeout
[ -s "$E2E_TMP/xdp.guest" ] && ms=$(($(cat "$E2E_TMP/xdp.guest") - t0))
check "guest recreated: XDP back on it within a second (${ms} ms after 'ip link add' began; configuring the pair took $((t1 - t0)) ms)" \
	"$([ "$ms" != timeout ] && [ "$ms" -le 1000 ]; echo $?)"
check "guest recreated: segd logs the reattach at warning level" "$(grep -q 'warning: guest: interface reappeared.*XDP program attached again' "$E2E_TMP/segd.log"; echo $?)" \
	"$(grep guest "$E2E_TMP/segd.log" | tail -n 3 | tr '\n' ' ')"
rc=$(status_rc)
check "guest recreated: segctl status exits 0" "$rc" "exit $rc: $(tail -n 3 "$E2E_TMP/status.out" | tr '\n' ' ')"
enforced "guest recreated: forbidden dropped and counted again, allowed passes" guest

# ---- topo_relink (delete and recreate in one go), timed from the delete
t0=$(now_ms)
topo_relink "$P" modality
ms_relink=$(($(now_ms) - t0))
ms=$(wait_xdp modality)
check "modality relinked: XDP back on it (${ms} ms after topo_relink returned, which took ${ms_relink} ms)" \
	"$([ "$ms" != timeout ] && [ "$ms" -le 1000 ]; echo $?)"
note "reattach after topo_relink: by the end of the relink (${ms_relink} ms) + ${ms} ms"
grep -o 'modality: .*XDP program attached again.*' "$E2E_TMP/segd.log" | tail -n 1 | sed 's/^/# segd: /'
rc=$(status_rc)
check "modality relinked: segctl status exits 0" "$rc" "exit $rc: $(tail -n 3 "$E2E_TMP/status.out" | tr '\n' ' ')"
enforced "modality relinked: forbidden dropped and counted, allowed passes" modality

# ---- the link detached behind segd's back (no link event): periodic check
lid=$(bpftool -j link show pinned "$(topo_pin_dir "$P")/link_pacs" 2>/dev/null | grep -o '"id":[0-9]*' | head -n 1 | cut -d: -f2)
if [ -n "$lid" ] && bpftool link detach id "$lid" 2>/dev/null; then
	has_xdp pacs; detached=$?
	ms=$(wait_xdp pacs)
	check "pacs's link detached with bpftool: segd attaches again (${ms} ms; periodic check, detached at once: $([ $detached -ne 0 ] && echo yes || echo no))" \
		"$([ "$ms" != timeout ] && [ "$ms" -le 2500 ]; echo $?)"
	rc=$(status_rc)
	check "pacs reattached: segctl status exits 0" "$rc" "exit $rc"
else
	skip "bpftool link detach of pacs's link (link id '${lid}')"
fi

# ---- nft flush ruleset in the gateway: table back at once, conntrack works
OTHER="${TABLE}_other"
topo_exec "$P" gw nft add table inet "$OTHER"
has_table "$TABLE"
check "nft table $TABLE in place" $?
topo_tcp_probe "$P" ehr-ws 10.10.0.20 443
check "before the flush: ehr-ws -> ehr-db:443 works" $?
t0=$(now_ms)
topo_exec "$P" gw nft flush ruleset
for ((i = 0; i < 250; i++)); do has_table "$TABLE" && break; sleep 0.02; done
ms=$(($(now_ms) - t0))
check "after nft flush ruleset: table inet $TABLE is back (${ms} ms)" "$(has_table "$TABLE" && [ "$ms" -le 1000 ]; echo $?)"
note "table restore after 'nft flush ruleset': ${ms} ms (from before the flush command)"
topo_exec "$P" gw nft list chain inet "$TABLE" forward 2>/dev/null | grep -q 'ct state established,related counter'
check "restored table has its forward chain and conntrack rule" $?
topo_tcp_probe "$P" ehr-ws 10.10.0.20 443
check "after the flush: an allowed TCP connection (replies via conntrack) works again" $?
has_table "$OTHER"
check "a foreign table (inet $OTHER) deleted by the flush is not recreated" "$((1 - $?))"
log_has "nft table inet $TABLE recreated"
check "segd logs the restore" $? "$(tail -n 3 "$E2E_TMP/segd.log" | tr '\n' ' ')"

# ---- our table alone deleted; a foreign table next to it untouched
topo_exec "$P" gw nft add table inet "$OTHER"
topo_exec "$P" gw nft add chain inet "$OTHER" c
topo_exec "$P" gw nft delete table inet "$TABLE"
for ((i = 0; i < 50; i++)); do has_table "$TABLE" && break; sleep 0.02; done
has_table "$TABLE"
check "nft delete table inet $TABLE: back" $?
topo_exec "$P" gw nft list table inet "$OTHER" 2>/dev/null | grep -q 'chain c'
check "foreign table inet $OTHER untouched" $?
topo_exec "$P" gw nft delete table inet "$OTHER"
n=$(grep -c "nft table inet $TABLE recreated" "$E2E_TMP/segd.log")
check "segd recreated the table exactly once per deletion (2), no loop with its own writes" "$([ "$n" -eq 2 ]; echo $?)" "$n times"

# ---- segctl apply re-checks: still enforcing, exit 0
e2e_segctl apply >/dev/null 2>&1
check "segctl apply exits 0" $?
rc=$(status_rc)
check "after everything: segctl status exits 0" "$rc" "exit $rc: $(tail -n 3 "$E2E_TMP/status.out" | tr '\n' ' ')"
kill -0 "$E2E_SEGD_PID" 2>/dev/null
check "segd still running" $?
note "segd's warnings:"
grep -e 'warning:' -e 'error:' "$E2E_TMP/segd.log" | sed 's/^/#   /'
