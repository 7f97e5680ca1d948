#!/usr/bin/env bash
# scripts/demo.sh BUILD_DIR - `make demo`: a small hospital behind one segd
# gateway, real traffic that the policy allows and forbids, and what segd
# counted. Everything it creates carries the prefix "segd-demo-" and is
# removed on exit, pass or fail. Exits non-zero if any expectation failed.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(dirname "$HERE")
BUILD=${1:-build}
[ -d "$BUILD" ] || BUILD=$SRC/$BUILD
BUILD=$(cd "$BUILD" 2>/dev/null && pwd) || { echo "demo: no build dir ${1:-build}" >&2; exit 2; }
# shellcheck source=topology.sh
. "$HERE/topology.sh"
TOPO_QUIET=1

if [ "$(id -u)" -ne 0 ]; then
	echo "demo: needs root (network namespaces, XDP, bpffs)" >&2
	exit 1
fi
for b in segd segctl; do
	[ -x "$BUILD/$b" ] || { echo "demo: $BUILD/$b not built (make)" >&2; exit 1; }
done

P=segd-demo-
SEGDIR=$SRC/segments
TMP=$(mktemp -d /tmp/segd-demo.XXXXXX)
SEGD_PID=
FAILED=0
N=0

if [ -t 1 ]; then
	B=$'\e[1m' G=$'\e[32m' R=$'\e[31m' D=$'\e[2m' Z=$'\e[0m'
else
	B='' G='' R='' D='' Z=''
fi

cleanup() {
	local rc=$?
	set +e
	trap - EXIT
	trap '' INT TERM # a second Ctrl-C must not cut the cleanup short
	echo
	echo "${B}== cleaning up${Z}"
	if [ -e "$(topo_nspath "$P" gw)" ]; then
		TOPO_SEGCTL_TIMEOUT=10 topo_segctl "$P" "$BUILD" teardown --yes >/dev/null 2>&1 &&
			echo "   segctl teardown --yes: XDP detached, pins and nft table removed"
	fi
	if [ -n "$SEGD_PID" ]; then
		topo_segd_stop "$SEGD_PID"
		echo "   segd (pid $SEGD_PID) stopped"
	fi
	topo_bg_stop
	topo_down "$P"
	rm -rf "$(topo_pin_dir "$P")" "$(topo_run_dir "$P")" "$TMP"
	echo "   namespaces ${P}* removed"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# row FROM TO SERVICE POLICY EXPECT(pass|drop) GOT(pass|drop) [NOTE]
row() {
	local exp=DROPPED got=DROPPED verdict col
	[ "$5" = pass ] && exp=PASSED
	[ "$6" = pass ] && got=PASSED
	N=$((N + 1))
	if [ "$5" = "$6" ]; then
		verdict="${G}as expected${Z}"
		if [ "$6" = pass ]; then col=$G; else col=$R; fi
	else
		verdict="${R}${B}UNEXPECTED${Z}"; col=$B$R
		FAILED=$((FAILED + 1))
	fi
	printf ' %2d  %-9s %-14s %-22s %-22s %-8s %s%-8s%s %s%s\n' "$N" "$1" "$2" "$3" "$4" \
		"$exp" "$col" "$got" "$Z" "$verdict" "${7:+  $D$7$Z}"
}
did() { if "$@"; then echo pass; else echo drop; fi; }

echo "${B}== segd demo: a small hospital behind one gateway${Z}"
if ! topo_up "$P" 2>"$TMP/topo.err"; then
	cat "$TMP/topo.err" >&2
	exit 1
fi
cat <<EOF
   One network namespace per host, one for the gateway (${P}gw); every host
   hangs off its own veth, and the gateway routes between all of them, even
   between two hosts of one segment (proxy ARP/ND), so intra-segment policy
   is enforced at the gateway too.

     segment  host      address(es)
     ehr      ehr-ws    10.10.0.10   fd00:10::10
     ehr      ehr-db    10.10.0.20   fd00:10::20
     iomt     pump-7    10.20.0.7    MAC 02:00:00:20:00:07 (device, MAC-bound)
     iomt     modality  10.20.0.30
     pacs     pacs      10.30.0.10
     guest    guest     10.40.0.50
     (world)  inet      198.51.100.10 (stands for the internet)

EOF

# Servers: TCP echo (socat), a syslog receiver, a DICOM store SCP.
topo_tcp_listen "$P" ehr-db 443 && topo_tcp_listen "$P" ehr-db 2575 &&
	topo_tcp_listen "$P" pump-7 2575 && topo_tcp_listen "$P" inet 443 &&
	topo_udp_listen "$P" ehr-db 514 "$TMP/syslog.txt" &&
	topo_dicom_listen "$P" pacs 104 "$TMP/pacs-store" || {
	echo "demo: could not start the servers" >&2; exit 1; }
DCM=$(topo_dicom_file "$TMP") || { echo "demo: dump2dcm failed" >&2; exit 1; }

echo "${B}== starting segd on the gateway${Z}"
echo "   ${D}segd --segments segments/ --interface ehr-ws ... --interface inet --pin-dir $(topo_pin_dir "$P")${Z}"
topo_segd_start "$P" "$BUILD" "$SEGDIR" "$TMP/segd.log"
SEGD_PID=$TOPO_SEGD_PID
t0=$(date +%s%N)
if ! topo_segd_wait "$P" "$SEGD_PID" 15; then
	echo "demo: segd did not come up; its log:" >&2
	sed 's/^/   /' "$TMP/segd.log" >&2
	exit 1
fi
echo "   segd (pid $SEGD_PID) is enforcing after $((($(date +%s%N) - t0) / 1000000)) ms, policy segments/hospital.json"
topo_segctl "$P" "$BUILD" status 2>&1 | sed 's/^/   /'

echo
echo "${B}== real traffic through the gateway${Z}"
printf ' %2s  %-9s %-14s %-22s %-22s %-8s %-8s %s\n' '#' from to service policy expected got ''
row ehr-ws ehr-db "https tcp/443 IPv4" "rule ehr-web" pass \
	"$(did topo_tcp_probe "$P" ehr-ws 10.10.0.20 443)"
row ehr-ws ehr-db "https tcp/443 IPv6" "rule ehr-web" pass \
	"$(did topo_tcp_probe "$P" ehr-ws fd00:10::20 443)"
row pump-7 ehr-db "hl7 tcp/2575" "rule pump-hl7 (device)" pass \
	"$(did topo_tcp_probe "$P" pump-7 10.10.0.20 2575)"
row modality ehr-db "hl7 tcp/2575" "pump-hl7 is pump-7's" drop \
	"$(did topo_tcp_probe "$P" modality 10.10.0.20 2575)"
got=$(did topo_udp_probe "$P" pump-7 10.10.0.20 514 "$TMP/syslog.txt")
row pump-7 ehr-db "syslog udp/514" "rule device-syslog" pass "$got" \
	"$([ "$got" = pass ] && echo 'ehr-db received the line')"
lines=$(wc -l <"$TMP/syslog.txt")
got=$(did topo_udp_probe "$P" guest 10.10.0.20 514 "$TMP/syslog.txt")
row guest ehr-db "syslog udp/514" "default deny" drop "$got" \
	"$([ "$got" = drop ] && [ "$(wc -l <"$TMP/syslog.txt")" = "$lines" ] && echo 'nothing received')"
row ehr-ws pump-7 "ping (icmp echo)" "rule clinical-ping" pass \
	"$(did topo_ping "$P" ehr-ws 10.20.0.7)"
row guest pump-7 "ping (icmp echo)" "default deny" drop \
	"$(did topo_ping "$P" guest 10.20.0.7)"
row modality pump-7 "tcp/2575 same segment" "iomt intra: deny" drop \
	"$(did topo_tcp_probe "$P" modality 10.20.0.7 2575)"
got=$(did topo_dicom_store "$P" modality 10.30.0.10 104 "$DCM" "$TMP/pacs-store")
stored=$(find "$TMP/pacs-store" -type f -printf '%f\n' 2>/dev/null | head -n 1)
row modality pacs "DICOM C-STORE tcp/104" "rule modalities-store" pass "$got" \
	"${stored:+pacs stored $stored}"
row guest pacs "DICOM C-STORE tcp/104" "default deny" drop \
	"$(did topo_dicom_store "$P" guest 10.30.0.10 104 "$DCM" "$TMP/pacs-store")"
row guest inet "https tcp/443" "rule guest-internet" pass \
	"$(did topo_tcp_probe "$P" guest 198.51.100.10 443)"

echo
echo "${B}== segctl stats${Z}  ${D}(per segment pair, verdict and reason; replies pass as 'reply')${Z}"
topo_segctl "$P" "$BUILD" stats 2>&1 | sed 's/^/   /'

echo
echo "${B}== segctl explain${Z}  ${D}(what the data path does with a packet, and why)${Z}"
for probe in "10.20.0.30 10.30.0.10 tcp 104" "10.40.0.50 10.30.0.10 tcp 104"; do
	# shellcheck disable=SC2086
	set -- $probe
	echo "   \$ segctl explain --from $1 --to $2 --proto $3 --port $4"
	topo_segctl "$P" "$BUILD" explain --from "$1" --to "$2" --proto "$3" --port "$4" 2>&1 | sed 's/^/     /'
done

echo
if [ "$FAILED" -eq 0 ]; then
	echo "${B}${G}== all $N expectations met${Z}"
else
	echo "${B}${R}== $FAILED of $N expectations NOT met${Z}"
	echo "   segd log (last 20 lines):"
	tail -n 20 "$TMP/segd.log" | sed 's/^/   /'
	exit 1
fi
