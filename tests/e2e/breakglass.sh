#!/usr/bin/env bash
# tests/e2e/breakglass.sh - break-glass (issue 5), end to end.
#
# guest -> pacs DICOM (tcp/104) is dropped by policy. `segctl breakglass
# --from guest --to pacs --service dicom --for 3s` makes it pass (counted
# as `breakglass`, explain says so, an audit line is written, `breakglass
# list` shows it); isolation of the guest host still wins over it; with
# segd stopped (SIGTERM) it lapses in the data path at its deadline; a
# restarted segd records the expiry; a second one is revoked; one from a
# segment the next policy drops is revoked with it; a corrupt
# breakglass.json refuses the start. Refusals: no reason, unknown names,
# over --max-breakglass.
set -u
. "$(dirname "$0")/lib.sh"
e2e_init b

P=$E2E_PREFIX
if ! topo_up "$P" 2>"$E2E_TMP/topo.err"; then
	not_ok "topology up" "$(tr '\n' ' ' <"$E2E_TMP/topo.err")"
	exit 1
fi
ok "topology up ($P*)"

e2e_need_segd
e2e_segments_copy
STATE=$E2E_TMP/state
GUEST=$(topo_ip4 guest) PACS=$(topo_ip4 pacs)

ls_ok=0
topo_tcp_listen "$P" pacs 104 || ls_ok=1
check "pacs listens on tcp/104" $ls_ok

if ! e2e_segd_start --state-dir "$STATE" --max-breakglass 1h; then
	not_ok "segd starts" "$(tail -n 5 "$E2E_TMP/segd.log" | tr '\n' ' ')"
	exit 1
fi
ok "segd starts with --state-dir $STATE --max-breakglass 1h"

if topo_tcp_probe "$P" guest "$PACS" 104 1; then r=1; else r=0; fi
check "before: guest -> pacs dicom is dropped" $r

# ---- refusals
out=$(e2e_segctl breakglass --from guest --to pacs --service dicom --for 3s 2>&1); rc=$?
check "breakglass without --reason is refused" "$([ $rc -ne 0 ]; echo $?)" "$out"
out=$(e2e_segctl breakglass --from nope --to pacs --service dicom --for 3s --reason x 2>&1); rc=$?
check "breakglass from an unknown name is refused" "$([ $rc -ne 0 ] && grep -q 'not a segment or device' <<<"$out"; echo $?)" "$out"
out=$(e2e_segctl breakglass --from guest --to pacs --service nope --for 3s --reason x 2>&1); rc=$?
check "breakglass of an unknown service is refused" "$([ $rc -ne 0 ] && grep -q 'not a service' <<<"$out"; echo $?)" "$out"
out=$(e2e_segctl breakglass --from guest --to pacs --service dicom --for 2h --reason x 2>&1); rc=$?
check "breakglass --for 2h over --max-breakglass 1h is refused" "$([ $rc -ne 0 ] && grep -q 'maximum' <<<"$out"; echo $?)" "$out"

# ---- grant
before=$(e2e_snap)
out=$(e2e_segctl breakglass --from guest --to pacs --service dicom --for 3s \
	--reason "PACS viewer down in ER" --ticket INC-7 2>&1); rc=$?
t_grant=$(date +%s%N)
check "segctl breakglass --from guest --to pacs --service dicom --for 3s" $rc "$out"
if topo_tcp_probe "$P" guest "$PACS" 104; then r=0; else r=1; fi
check "guest -> pacs dicom passes" $r
if topo_tcp_probe "$P" guest "$PACS" 22 1; then r=1; else r=0; fi
check "guest -> pacs tcp/22 (not the service) is still dropped" $r
sleep 0.1
after=$(e2e_snap)
d=$(e2e_delta "$before" "$after" "guest/pacs/pass/breakglass")
check "counted as guest/pacs/pass/breakglass (+$d)" "$([ "$d" -ge 1 ]; echo $?)"
ex=$(e2e_explain "$GUEST" "$PACS" tcp 104)
check "explain $GUEST -> $PACS tcp/104 says pass breakglass ($ex)" "$([[ $ex == "pass breakglass"* ]]; echo $?)"
out=$(e2e_segctl breakglass list 2>&1)
check "breakglass list shows it" "$(grep -q '#1 .*guest.*pacs.*dicom.*PACS viewer down in ER.*INC-7' <<<"$out"; echo $?)" "$out"
out=$(e2e_segctl --json breakglass list 2>&1)
check "breakglass list --json" "$(grep -q '"breakglass": *\[' <<<"$out"; echo $?)" "$out"
line=$(grep '"action":"breakglass"' "$STATE/audit.log" | tail -n 1)
check "audit line written (event.action breakglass, reason, ticket)" \
	"$(grep -q '"event":{"action":"breakglass".*"source":{"segment":"guest"}.*"destination":{"segment":"pacs"}.*"reason":"PACS viewer down in ER".*"ticket":"INC-7"' <<<"$line"; echo $?)" "$line"

# ---- it lapses with segd stopped
topo_segd_stop "$E2E_SEGD_PID"
ms=$((($(date +%s%N) - t_grant) / 1000000))
if [ "$ms" -lt 2800 ]; then
	if topo_tcp_probe "$P" guest "$PACS" 104; then r=0; else r=1; fi
	check "segd stopped ${ms} ms after the grant: dicom still passes" $r
fi
while [ $((($(date +%s%N) - t_grant) / 1000000)) -lt 3600 ]; do sleep 0.1; done
if topo_tcp_probe "$P" guest "$PACS" 104 1; then r=1; else r=0; fi
check "3.6 s after the grant, segd still stopped: dropped again (lapsed in the data path)" $r
if e2e_segd_start --state-dir "$STATE" --max-breakglass 1h; then r=0; else r=1; fi
check "segd restarts" $r
out=$(e2e_segctl breakglass list 2>&1)
check "after the restart nothing is in force" "$(grep -q 'no break-glass' <<<"$out"; echo $?)" "$out"
check "the expiry is in the audit log" "$(grep -q '"action":"expire".*"breakglass":1' "$STATE/audit.log"; echo $?)"

# ---- revoke
out=$(e2e_segctl breakglass --from guest --to pacs --service dicom --for 10m --reason "again" 2>&1); rc=$?
check "a second break-glass (10m)" $rc "$out"
id=$(sed -n 's/^break-glass #\([0-9]*\):.*/\1/p' <<<"$out")
if topo_tcp_probe "$P" guest "$PACS" 104; then r=0; else r=1; fi
check "dicom passes again" $r
# ---- isolation wins
out=$(e2e_segctl isolate "$GUEST" --reason "still contained" 2>&1); rc=$?
check "isolate $GUEST" $rc "$out"
if topo_tcp_probe "$P" guest "$PACS" 104 1; then r=1; else r=0; fi
check "isolated guest: break-glass does not let dicom through" $r
out=$(e2e_segctl release "$GUEST" --reason "done" 2>&1); rc=$?
check "release $GUEST" $rc "$out"

out=$(e2e_segctl breakglass revoke "${id:-0}" 2>&1); rc=$?
check "revoke without --reason is refused" "$([ $rc -ne 0 ]; echo $?)" "$out"
out=$(e2e_segctl breakglass revoke "${id:-0}" --reason "viewer fixed" 2>&1); rc=$?
check "segctl breakglass revoke $id" $rc "$out"
if topo_tcp_probe "$P" guest "$PACS" 104 1; then r=1; else r=0; fi
check "after revoke: dropped" $r
check "the revoke is in the audit log" "$(grep -q '"action":"revoke".*"reason":"viewer fixed"' "$STATE/audit.log"; echo $?)"
# state file after a revoke: an empty list (not a missing file)
check "breakglass.json holds the (empty) list" "$(grep -q '"breakglass": \[\]' "$STATE/breakglass.json"; echo $?)" "$(cat "$STATE/breakglass.json" 2>&1)"

# ---- expiry with segd running: segd records it (timer, or the next request)
out=$(e2e_segctl breakglass --from guest --to pacs --service dicom --for 1s --reason "short" 2>&1); rc=$?
id=$(sed -n 's/^break-glass #\([0-9]*\):.*/\1/p' <<<"$out")
check "a 1 s break-glass (#$id)" $rc "$out"
sleep 1.5
out=$(e2e_segctl breakglass list 2>&1)
check "1.5 s later it is gone from the list, audit expire written by the running segd" \
	"$(grep -q 'no break-glass' <<<"$out" && grep -q '"action":"expire".*"breakglass":'"${id:-x}"',' "$STATE/audit.log"; echo $?)" "$out"

# ---- a segment that disappears takes its break-glass with it
cat >"$E2E_SEGDIR/bgtmp.json" <<'JSON'
{ "version": 1, "segments": { "bgtmp": { "members": { "cidr": ["10.99.0.0/24"] } } } }
JSON
out=$(e2e_segctl apply 2>&1); rc=$?
check "apply a policy with a segment bgtmp" $rc "$out"
out=$(e2e_segctl breakglass --from bgtmp --to pacs --service dicom --for 10m --reason "temp" 2>&1); rc=$?
check "breakglass --from bgtmp" $rc "$out"
rm -f "$E2E_SEGDIR/bgtmp.json"
out=$(e2e_segctl apply 2>&1); rc=$?
check "apply without bgtmp" $rc "$out"
out=$(e2e_segctl breakglass list 2>&1)
check "its break-glass is revoked with the segment" "$(grep -q 'no break-glass' <<<"$out" &&
	grep -q '"action":"revoke".*"bgtmp or pacs is no longer in the policy"' "$STATE/audit.log"; echo $?)" "$out"

# ---- a corrupt state file refuses the start
topo_segd_stop "$E2E_SEGD_PID"
echo '{"version": 1, "breakglass": [' >"$STATE/breakglass.json"
if e2e_segd_start --state-dir "$STATE"; then r=1; else r=0; fi
check "a corrupt breakglass.json refuses the start" $r "$(tail -n 3 "$E2E_TMP/segd.log")"
