#!/usr/bin/env bash
# tests/e2e/pcap_replay.sh - real third-party captures replayed through segd.
#
# Captures are read in place from ${SEGD_PCAPS:-$SEGD_SRCDIR/../shared/pcaps}
# (see its MANIFEST.md); filtered copies and tcprewrite'd versions go to this
# run's temp dir only. Each one is replayed with tcpreplay from inside a host
# namespace onto its eth0, and the counters of segd must move by exactly the
# number of frames (and bytes) tcpreplay says it sent:
#   - HL7 v2 ADT^A01 over MLLP (nDPI hl7.pcap), client side rewritten as
#     pump-7 (address and MAC) -> ehr-db, port 6661 -> 2575: every frame
#     iomt/ehr/pass/allowed, and ehr-db receives them all;
#   - the same frames from another MAC: every one iomt/ehr/drop/spoofed;
#   - the same frames (pump-7's address and MAC) from the guest port: the
#     reverse-path check, iomt/ehr/drop/spoofed, none reaches ehr-db;
#   - an nmap SYN scan of 1000 ports (nDPI synscan.pcap) rewritten as
#     guest -> pacs: every SYN guest/pacs/drop/policy, none reaches pacs;
#   - HTTP with an 802.1p priority tag (VID 0), rewritten guest -> world:443:
#     VID 0 is untagged, guest/world/pass/allowed;
#   - HTTP under three VLAN tags: every frame -/-/drop/malformed;
#   - a SYN cut in 8-byte IPv4 fragments (VLAN 6): the first fragment has
#     no room for the TCP header: -/-/drop/malformed;
#   - BACnet over 802.2 LLC (no IP): -/-/drop/unknown_ethertype;
#   - IPv6 HTTP behind Hop-by-Hop, Destination Options, atomic Fragment and
#     Routing type 0 headers (replayed unmodified, a test-only segment "lab6"
#     declares its /64, routed through ehr-ws): RH0 frames
#     -/-/drop/malformed, the rest allowed;
#   - one IPv6 UDP packet with HBH + RH0: -/-/drop/malformed.
set -u
. "$(dirname "$0")/lib.sh"
e2e_init p

PCAPS=${SEGD_PCAPS:-$SEGD_SRCDIR/../shared/pcaps}
if [ ! -d "$PCAPS" ]; then
	skip "pcap replay (no captures at $PCAPS)"
	exit 0
fi
PCAPS=$(cd "$PCAPS" && pwd)
for t in tcpreplay tcprewrite tcpdump; do
	command -v "$t" >/dev/null 2>&1 || { not_ok "prerequisites" "$t not installed (make deps)"; exit 1; }
done
e2e_need_segd

P=$E2E_PREFIX
if ! topo_up "$P" 2>"$E2E_TMP/topo.err"; then
	not_ok "topology up" "$(tr '\n' ' ' <"$E2E_TMP/topo.err")"
	exit 1
fi

# The demo policy plus a test-only segment for the IPv6 capture, which is
# replayed unmodified (tcprewrite 4.4 mangles IPv6 frames with extension
# headers: it rewrites their MACs and leaves the ports).
e2e_segments_copy
sed -i \
	-e 's|^\(  "services": {\)$|\1\n    "http": [{ "proto": "tcp", "ports": [80] }],|' \
	-e 's|^\(  "segments": {\)$|\1\n    "lab6": { "members": { "cidr": ["2001:db8:1::/64"] } },|' \
	-e 's|^\(  "rules": \[\)$|\1\n    { "name": "lab6-web", "from": ["lab6"], "to": ["lab6"], "services": ["http"] },|' \
	"$E2E_SEGDIR/hospital.json"
if [ "$(grep -c 'lab6\|"http"' "$E2E_SEGDIR/hospital.json")" -lt 3 ]; then
	not_ok "test policy" "could not add the lab6 segment to the copy of hospital.json"
	exit 1
fi
# The capture is replayed from ehr-ws: its prefix routes through ehr-ws, as
# a segment's prefix does in a real deployment, or the reverse-path check
# (docs/datapath.md step 9) drops its frames as spoofed.
if ! topo_exec "$P" gw ip -6 route add 2001:db8:1::/64 dev ehr-ws; then
	not_ok "test route" "could not route 2001:db8:1::/64 through ehr-ws"
	exit 1
fi

if ! e2e_segd_start; then
	not_ok "segd starts" "$(tail -n 5 "$E2E_TMP/segd.log" | tr '\n' ' ')"
	exit 1
fi
ok "segd enforces segments/hospital.json (+ lab6) on $P"

# prep NAME IN FILTER [tcprewrite args...]: filtered (and rewritten) copy in
# the temp dir; prints its path. No rewrite args: the filtered copy as is.
prep() {
	local name=$1 in=$PCAPS/$2 filter=$3 f out
	shift 3
	f=$E2E_TMP/$name.filtered.pcap out=$E2E_TMP/$name.pcap
	if [ -n "$filter" ]; then
		tcpdump -r "$in" -w "$f" "$filter" 2>/dev/null || return 1
	else
		cp "$in" "$f" || return 1
	fi
	if [ $# -gt 0 ]; then
		tcprewrite -i "$f" -o "$out" "$@" >/dev/null 2>&1 || return 1
	else
		mv "$f" "$out"
	fi
	echo "$out"
}

# Frames in a capture file (one timestamped line each; tcpdump adds hex
# lines for frames it cannot decode, such as 802.2 LLC).
pcap_count() { tcpdump -n -r "$1" 2>/dev/null | grep -c '^[0-9]'; }

# Capture on HOST's eth0 what arrives from the replay (to prove delivery).
cap_start() { # HOST FILTER
	CAP_FILE=$E2E_TMP/cap.$1.pcap
	: >"$E2E_TMP/cap.err"
	nsenter --net="$(topo_nspath "$P" "$1")" -- tcpdump -Z root -U --immediate-mode -n -i eth0 \
		-w "$CAP_FILE" "$2" 2>"$E2E_TMP/cap.err" &
	CAP_PID=$!
	local i
	for ((i = 0; i < 40; i++)); do
		grep -q 'listening on' "$E2E_TMP/cap.err" && return 0
		sleep 0.05
	done
	return 1
}
cap_stop() { # sets CAP_COUNT: the number of frames captured
	sleep 0.3
	kill -INT "$CAP_PID" 2>/dev/null
	wait "$CAP_PID" 2>/dev/null
	CAP_COUNT=$(pcap_count "$CAP_FILE")
}

# replay HOST PCAP: tcpreplay on HOST's eth0; sets SENT_PKTS, SENT_BYTES.
replay() {
	local out
	out=$(topo_exec "$P" "$1" tcpreplay -i eth0 --pps=2000 "$2" 2>&1)
	SENT_PKTS=$(sed -n 's/.*Actual: \([0-9]*\) packets (\([0-9]*\) bytes).*/\1/p' <<<"$out")
	SENT_BYTES=$(sed -n 's/.*Actual: \([0-9]*\) packets (\([0-9]*\) bytes).*/\2/p' <<<"$out")
	[ -n "$SENT_PKTS" ] || { note "tcpreplay: $out"; SENT_PKTS=-1 SENT_BYTES=-1; }
}

# expect NAME BEFORE AFTER KEY PKTS BYTES: the counter moved by exactly that.
expect_exact() {
	local dp db
	dp=$(e2e_delta "$2" "$3" "$4") db=$(e2e_delta "$2" "$3" "$4" bytes)
	if [ "$dp" -eq "$5" ] && [ "$db" -eq "$6" ]; then
		ok "$1: $4 +$dp frames, +$db bytes (exactly what was sent)"
	else
		not_ok "$1" "$4 +$dp frames / +$db bytes, sent $5 frames / $6 bytes"
	fi
}
expect_zero() { # NAME BEFORE AFTER KEY
	local d
	d=$(e2e_delta "$2" "$3" "$4")
	check "$1: nothing counted as $4" "$d" "$4 +$d"
}

GW_PUMP=$(topo_gw_mac "$P" pump-7) GW_GUEST=$(topo_gw_mac "$P" guest)

# ---- HL7 ADT^A01 over MLLP: pump-7 -> ehr-db:2575, allowed by pump-hl7
hl7=$(prep hl7 clinical/hl7v2_mllp_adt_a01.pcap 'src host 10.0.0.155' \
	--srcipmap=10.0.0.155/32:10.20.0.7/32 --dstipmap=10.0.0.126/32:10.10.0.20/32 \
	--portmap=6661:2575 --enet-smac="$(topo_mac pump-7)" --enet-dmac="$GW_PUMP" --fixcsum)
if [ -z "$hl7" ]; then
	not_ok "hl7 capture: filter and rewrite failed"
else
	n=$(pcap_count "$hl7")
	before=$(e2e_snap)
	cap_start ehr-db 'src host 10.20.0.7 and tcp port 2575'
	replay pump-7 "$hl7"
	cap_stop; got=$CAP_COUNT
	after=$(e2e_snap)
	check "hl7 ADT^A01 pump-7 -> ehr-db:2575: tcpreplay sent all $n client frames" \
		"$([ "$SENT_PKTS" -eq "$n" ]; echo $?)" "sent $SENT_PKTS"
	expect_exact "hl7 ADT^A01 pump-7 -> ehr-db:2575" "$before" "$after" iomt/ehr/pass/allowed "$SENT_PKTS" "$SENT_BYTES"
	check "hl7 ADT^A01 pump-7 -> ehr-db:2575: ehr-db received all $SENT_PKTS" \
		"$([ "$got" -eq "$SENT_PKTS" ]; echo $?)" "ehr-db captured $got"

	# ---- the same frames from another MAC: anti-spoof
	spoof=$E2E_TMP/hl7-spoof.pcap
	tcprewrite -i "$hl7" -o "$spoof" --enet-smac=02:00:00:20:00:99 >/dev/null 2>&1
	before=$(e2e_snap)
	cap_start ehr-db 'src host 10.20.0.7 and tcp port 2575'
	replay pump-7 "$spoof"
	cap_stop; got=$CAP_COUNT
	after=$(e2e_snap)
	expect_exact "hl7 from pump-7's address, MAC 02:00:00:20:00:99" "$before" "$after" iomt/ehr/drop/spoofed "$SENT_PKTS" "$SENT_BYTES"
	expect_zero "hl7 from pump-7's address, MAC 02:00:00:20:00:99" "$before" "$after" iomt/ehr/pass/allowed
	check "hl7 from pump-7's address, MAC 02:00:00:20:00:99: ehr-db received none" "$got" "ehr-db captured $got"

	# ---- the same frames, pump-7's address AND MAC, sent from the guest
	# port: the MAC binding holds, the reverse-path check does not (the
	# route to 10.20.0.7 leaves through pump-7, not guest)
	spoof=$E2E_TMP/hl7-from-guest.pcap
	tcprewrite -i "$hl7" -o "$spoof" --enet-dmac="$GW_GUEST" >/dev/null 2>&1
	before=$(e2e_snap)
	cap_start ehr-db 'src host 10.20.0.7 and tcp port 2575'
	replay guest "$spoof"
	cap_stop; got=$CAP_COUNT
	after=$(e2e_snap)
	expect_exact "hl7 as pump-7 (address and MAC) from the guest port" "$before" "$after" iomt/ehr/drop/spoofed "$SENT_PKTS" "$SENT_BYTES"
	expect_zero "hl7 as pump-7 from the guest port" "$before" "$after" iomt/ehr/pass/allowed
	check "hl7 as pump-7 from the guest port: ehr-db received none" "$got" "ehr-db captured $got"
fi

# ---- nmap SYN scan of 1000 ports: guest -> pacs
scan=$(prep synscan attack/tcp_syn_portscan_1000ports.pcap \
	'src host 172.16.0.8 and tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn' \
	--srcipmap=172.16.0.8/32:10.40.0.50/32 --dstipmap=64.13.134.52/32:10.30.0.10/32 \
	--enet-smac="$(topo_mac guest)" --enet-dmac="$GW_GUEST" --fixcsum)
if [ -z "$scan" ]; then
	not_ok "syn scan capture: filter and rewrite failed"
else
	n=$(pcap_count "$scan")
	before=$(e2e_snap)
	cap_start pacs 'src host 10.40.0.50'
	replay guest "$scan"
	cap_stop; got=$CAP_COUNT
	after=$(e2e_snap)
	check "syn scan guest -> pacs: tcpreplay sent all $n SYNs" \
		"$([ "$SENT_PKTS" -eq "$n" ]; echo $?)" "sent $SENT_PKTS"
	expect_exact "syn scan guest -> pacs ($n SYNs, 1000 ports)" "$before" "$after" guest/pacs/drop/policy "$SENT_PKTS" "$SENT_BYTES"
	expect_zero "syn scan guest -> pacs" "$before" "$after" guest/pacs/pass/allowed
	check "syn scan guest -> pacs: pacs received none" "$got" "pacs captured $got"
fi

# ---- 802.1p priority tag (VID 0) is untagged: guest -> world https
vlan0=$(prep vlan0 edge_cases/vlan0_priority_tag_http.pcap 'vlan and src host 141.142.228.5' \
	--srcipmap=141.142.228.5/32:10.40.0.50/32 --dstipmap=192.150.187.43/32:198.51.100.10/32 \
	--portmap=80:443 --enet-smac="$(topo_mac guest)" --enet-dmac="$GW_GUEST" --fixcsum)
if [ -z "$vlan0" ]; then
	not_ok "vlan0 capture: filter and rewrite failed"
else
	before=$(e2e_snap)
	replay guest "$vlan0"
	sleep 0.2
	after=$(e2e_snap)
	expect_exact "https guest -> world under a VID 0 priority tag" "$before" "$after" guest/world/pass/allowed "$SENT_PKTS" "$SENT_BYTES"
fi

# ---- three VLAN tags: malformed
triple=$(prep triple edge_cases/vlan_triple_tag_http.pcap '')
n=$(pcap_count "$triple")
before=$(e2e_snap)
replay guest "$triple"
sleep 0.2
after=$(e2e_snap)
# Full-size frames plus 12 bytes of tags exceed what the veth accepts; the
# counters must match what tcpreplay could send.
expect_exact "http under three VLAN tags ($SENT_PKTS of $n frames fit the MTU)" "$before" "$after" "-/-/drop/malformed" "$SENT_PKTS" "$SENT_BYTES"

# ---- tiny fragments: a first fragment too short for the TCP header
tiny=$(prep tiny edge_cases/vlan_ipv4_tiny_fragments_syn.pcap 'vlan and ip[6:2] & 0x1fff = 0')
before=$(e2e_snap)
replay guest "$tiny"
sleep 0.2
after=$(e2e_snap)
expect_exact "VLAN 6 SYN in 8-byte fragments: the first fragment (no room for ports)" "$before" "$after" "-/-/drop/malformed" "$SENT_PKTS" "$SENT_BYTES"

# ---- not IP at all: BACnet over 802.2 LLC
llc=$(prep llc iot_building/bacnet_ip_and_llc.pcap 'not ip and not ip6 and not arp')
before=$(e2e_snap)
replay guest "$llc"
sleep 0.2
after=$(e2e_snap)
expect_exact "BACnet over 802.2 LLC (no IP header)" "$before" "$after" "-/-/drop/unknown_ethertype" "$SENT_PKTS" "$SENT_BYTES"

# ---- IPv6 extension headers (HBH, DSTOPT, atomic fragment, RH0)
v6=$(prep v6ext edge_cases/ipv6_ext_hbh_dst_rh_frag_http.pcap 'ip6 and src host 2001:db8:1::2 and ip6[6] != 58')
v6rh0=$E2E_TMP/v6ext-rh0.pcap v6ok=$E2E_TMP/v6ext-ok.pcap
tcpdump -r "$v6" -w "$v6rh0" 'ip6[6] == 43' 2>/dev/null
tcpdump -r "$v6" -w "$v6ok" 'ip6[6] != 43' 2>/dev/null
before=$(e2e_snap)
replay ehr-ws "$v6ok"
sleep 0.2
after=$(e2e_snap)
expect_exact "IPv6 http behind HBH / DSTOPT / atomic-fragment headers" "$before" "$after" lab6/lab6/pass/allowed "$SENT_PKTS" "$SENT_BYTES"
before=$(e2e_snap)
replay ehr-ws "$v6rh0"
sleep 0.2
after=$(e2e_snap)
expect_exact "IPv6 http behind a type 0 routing header (RFC 5095)" "$before" "$after" "-/-/drop/malformed" "$SENT_PKTS" "$SENT_BYTES"
expect_zero "IPv6 http behind a type 0 routing header" "$before" "$after" lab6/lab6/pass/allowed

rh0=$(prep rh0 edge_cases/ipv6_hbh_rh0_udp.pcap '')
before=$(e2e_snap)
replay guest "$rh0"
sleep 0.2
after=$(e2e_snap)
expect_exact "IPv6 udp behind HBH + RH0 (2 segments left)" "$before" "$after" "-/-/drop/malformed" "$SENT_PKTS" "$SENT_BYTES"
