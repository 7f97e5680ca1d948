#!/usr/bin/env bash
# tests/e2e/hospital.sh - the netns hospital under segd, probe by probe.
#
# Builds the hospital of scripts/topology.sh with a unique prefix, checks
# that without segd every probe gets through (so a drop later is segd's
# doing, not the topology's), starts segd on the gateway with a copy of
# segments/hospital.json, then runs a table of probes (IPv4/IPv6, TCP, UDP,
# ICMP, DICOM C-STORE; allowed, denied, intra-segment, device rule, world,
# the gateway itself) and a MAC spoof. Every probe is checked three ways:
# the real outcome, `segctl --json explain` (the datapath contract), and the
# counters of `segctl --json stats`.
set -u
. "$(dirname "$0")/lib.sh"
e2e_init h

# NAME | KIND | FROM | TO (host, "gw" or address) | FAMILY | PORT | EXPECT | REASON | RULE
PROBES=(
	"https ehr-ws -> ehr-db (IPv4)|tcp|ehr-ws|ehr-db|4|443|pass|allowed|ehr-web"
	"https ehr-ws -> ehr-db (IPv6)|tcp|ehr-ws|ehr-db|6|443|pass|allowed|ehr-web"
	"ssh ehr-ws -> ehr-db, not a service of ehr (IPv4)|tcp|ehr-ws|ehr-db|4|22|drop|policy|"
	"ssh ehr-ws -> ehr-db, not a service of ehr (IPv6)|tcp|ehr-ws|ehr-db|6|22|drop|policy|"
	"ping6 ehr-ws -> ehr-db, no ping inside ehr|ping|ehr-ws|ehr-db|6||drop|policy|"
	"syslog ehr-ws -> ehr-db over IPv6, not allowed|udp|ehr-ws|ehr-db|6|514|drop|policy|"
	"hl7 pump-7 -> ehr-db (device rule)|tcp|pump-7|ehr-db|4|2575|pass|allowed|pump-hl7"
	"hl7 modality -> ehr-db, the device rule is pump-7's alone|tcp|modality|ehr-db|4|2575|drop|policy|"
	"syslog pump-7 -> ehr-db|udp|pump-7|ehr-db|4|514|pass|allowed|device-syslog"
	"syslog modality -> ehr-db|udp|modality|ehr-db|4|514|pass|allowed|device-syslog"
	"syslog guest -> ehr-db|udp|guest|ehr-db|4|514|drop|policy|"
	"https guest -> ehr-db|tcp|guest|ehr-db|4|443|drop|policy|"
	"ping ehr-ws -> pump-7|ping|ehr-ws|pump-7|4||pass|allowed|clinical-ping"
	"ping ehr-ws -> pacs|ping|ehr-ws|pacs|4||pass|allowed|clinical-ping"
	"ping pump-7 -> ehr-ws, clinical-ping is one way|ping|pump-7|ehr-ws|4||drop|policy|"
	"ping guest -> pump-7|ping|guest|pump-7|4||drop|policy|"
	"intra-iomt modality -> pump-7 tcp/2575 (intra deny)|tcp|modality|pump-7|4|2575|drop|policy|"
	"DICOM C-STORE modality -> pacs:104|dicom|modality|pacs|4|104|pass|allowed|modalities-store"
	"dicom port pump-7 -> pacs:11112|tcp|pump-7|pacs|4|11112|pass|allowed|modalities-store"
	"DICOM C-STORE guest -> pacs:104|dicom|guest|pacs|4|104|drop|policy|"
	"pacs -> modality tcp/104, rules are one way|tcp|pacs|modality|4|104|drop|policy|"
	"https guest -> world|tcp|guest|inet|4|443|pass|allowed|guest-internet"
	"dns guest -> world|udp|guest|inet|4|53|pass|allowed|guest-internet"
	"https ehr-ws -> world|tcp|ehr-ws|inet|4|443|drop|policy|"
	"ping ehr-ws -> the gateway itself (IPv4)|ping|ehr-ws|gw|4||drop|policy|"
	"ping6 ehr-ws -> the gateway itself (IPv6)|ping|ehr-ws|gw|6||drop|policy|"
)

P=$E2E_PREFIX
if ! topo_up "$P" 2>"$E2E_TMP/topo.err"; then
	not_ok "topology up" "$(tr '\n' ' ' <"$E2E_TMP/topo.err")"
	exit 1
fi
ok "topology up: gateway + ${#TOPO_HOSTS[@]} hosts ($P*)"

# Servers the probes talk to.
ls_ok=0
for s in "ehr-db 443" "ehr-db 22" "ehr-db 2575" "pump-7 2575" "pacs 11112" \
	"modality 104" "inet 443"; do
	# shellcheck disable=SC2086
	topo_tcp_listen "$P" $s || ls_ok=1
done
topo_udp_listen "$P" ehr-db 514 "$E2E_TMP/udp.514.ehr-db" || ls_ok=1
topo_udp_listen "$P" inet 53 "$E2E_TMP/udp.53.inet" || ls_ok=1
topo_dicom_listen "$P" pacs 104 "$E2E_TMP/dicom.104" || ls_ok=1
E2E_DICOM_FILE=$(topo_dicom_file "$E2E_TMP") || ls_ok=1
check "servers listening (socat tcp/udp, storescp), DICOM object made with dump2dcm" $ls_ok

# ---- without segd, the hospital routes everything: a baseline
base_fail=()
for row in "${PROBES[@]}"; do
	IFS='|' read -r name kind from to fam port _ <<<"$row"
	if [ "$fam" = 6 ]; then
		case $to in gw) addr=$(topo_gw6 "$from") ;; *) addr=$(topo_ip6 "$to") ;; esac
	else
		case $to in gw) addr=$(topo_gw4 "$from") ;; *) addr=$(topo_ip4 "$to") ;; esac
	fi
	e2e_traffic "$kind" "$from" "$addr" "$port" "$to" || base_fail+=("$name")
done
check "without segd all ${#PROBES[@]} probes get through (baseline)" ${#base_fail[@]} \
	"blocked: $(printf '%s; ' "${base_fail[@]}")"

# Same-segment hosts reach each other through the gateway (proxy ARP/ND).
gwmac=$(topo_gw_mac "$P" modality)
nmac=$(topo_exec "$P" modality ip neigh show 10.20.0.7 | sed -n 's/.*lladdr \([0-9a-f:]*\).*/\1/p')
check "intra-segment traffic goes through the gateway (modality sees pump-7 at the gateway's MAC)" \
	"$([ -n "$gwmac" ] && [ "$nmac" = "$gwmac" ]; echo $?)" "pump-7 at '$nmac', gateway '$gwmac'"
gwmac6=$(topo_gw_mac "$P" ehr-ws)
nmac6=$(topo_exec "$P" ehr-ws ip -6 neigh show fd00:10::20 | sed -n 's/.*lladdr \([0-9a-f:]*\).*/\1/p')
check "intra-segment IPv6 goes through the gateway (ehr-ws sees ehr-db at the gateway's MAC)" \
	"$([ -n "$gwmac6" ] && [ "$nmac6" = "$gwmac6" ]; echo $?)" "ehr-db at '$nmac6', gateway '$gwmac6'"

# ---- segd
e2e_need_segd
e2e_segments_copy
if ! e2e_segd_start; then
	not_ok "segd starts and serves $(topo_run_dir "$P")/segd.sock" "$(tail -n 5 "$E2E_TMP/segd.log" | tr '\n' ' ')"
	exit 1
fi
ok "segd starts and serves $(topo_run_dir "$P")/segd.sock"

noxdp=()
for h in "${TOPO_HOSTS[@]}"; do
	topo_exec "$P" gw ip link show dev "$h" | grep -q ' xdp' || noxdp+=("$h")
done
check "XDP attached to every gateway interface" ${#noxdp[@]} "missing on: ${noxdp[*]}"

for row in "${PROBES[@]}"; do
	IFS='|' read -r name kind from to fam port expect reason rule <<<"$row"
	e2e_probe "$name" "$kind" "$from" "$to" "$fam" "$port" "$expect" "$reason" "$rule"
done

# ---- anti-spoof: pump-7's address from another MAC
SPOOF_MAC=02:00:00:20:00:99
topo_exec "$P" pump-7 ip link set eth0 address "$SPOOF_MAC"
topo_exec "$P" gw ip neigh flush dev pump-7 2>/dev/null
E2E_EXPLAIN_EXTRA=(--src-mac "$SPOOF_MAC")
e2e_probe "spoof: hl7 from pump-7's address with MAC $SPOOF_MAC" tcp pump-7 ehr-db 4 2575 drop spoofed
E2E_EXPLAIN_EXTRA=()
topo_exec "$P" pump-7 ip link set eth0 address "$(topo_mac pump-7)"
topo_exec "$P" gw ip neigh flush dev pump-7 2>/dev/null
if topo_tcp_probe "$P" pump-7 "$(topo_ip4 ehr-db)" 2575; then
	ok "spoof: with its own MAC back, pump-7's hl7 passes again"
else
	not_ok "spoof: with its own MAC back, pump-7's hl7 passes again" "did not get through"
fi

# ---- the stats table an operator reads
if e2e_segctl stats >"$E2E_TMP/stats.txt" 2>&1 && grep -q 'guest' "$E2E_TMP/stats.txt"; then
	ok "segctl stats prints the counter table"
else
	not_ok "segctl stats prints the counter table" "$(head -c 300 "$E2E_TMP/stats.txt")"
fi
sed 's/^/# /' "$E2E_TMP/stats.txt"

# ---- teardown when segd is dead (restart.sh covers it with segd running)
kill -KILL "$E2E_SEGD_PID"
wait "$E2E_SEGD_PID" 2>/dev/null
out=$(e2e_segctl teardown --yes 2>&1); rc=$?
check "segd killed (SIGKILL), then segctl teardown --yes exits 0" "$rc" "$(head -c 300 <<<"$out" | tr '\n' ' ')"
left=()
for h in "${TOPO_HOSTS[@]}"; do
	topo_exec "$P" gw ip link show dev "$h" | grep -q ' xdp' && left+=("$h")
done
check "after teardown: no XDP program left" ${#left[@]} "still on: ${left[*]}"
check "after teardown: pin dir $(topo_pin_dir "$P") gone" "$([ ! -e "$(topo_pin_dir "$P")" ]; echo $?)"
topo_exec "$P" gw nft list tables 2>/dev/null | grep -qw "$(topo_nft_table "$P")"; st=$?
check "after teardown: nft table $(topo_nft_table "$P") gone" "$((1 - st))"
if topo_tcp_probe "$P" guest "$(topo_ip4 pacs)" 11112; then
	ok "after teardown: nothing is enforced (guest -> pacs:11112 gets through)"
else
	not_ok "after teardown: nothing is enforced" "guest -> pacs:11112 still blocked"
fi
