# shellcheck shell=bash
# scripts/topology.sh - the demo hospital as network namespaces.
#
# A sourced library, used by scripts/demo.sh and by every tests/e2e/*.sh:
# the one place where the netns hospital is built. Nothing here runs on
# its own.
#
#   topo_up PREFIX            build the hospital (idempotent: a leftover
#                             hospital with the same PREFIX is removed first)
#   topo_down PREFIX          remove it: processes in its namespaces, the
#                             namespaces (and with them every link)
#   topo_relink PREFIX HOST   delete HOST's veth pair and build it again
#                             (same names, addresses, routes; new ifindex)
#   topo_exec PREFIX HOST cmd...   run cmd inside HOST's namespace (HOST may
#                             be "gw"); the mount namespace is the caller's,
#                             so /sys/fs/bpf and /run are the host's
#
# Shape: one gateway namespace (PREFIX gw) and one namespace per host
# (PREFIX HOST), one veth pair per host: "eth0" in the host, named after the
# host in the gateway (ehr-ws, pump-7, ...). The gateway routes between all
# of them. Hosts keep their segment's /24 (/64) on-link, but the gateway
# only holds /32 (/128) host routes and answers ARP (proxy_arp) and ND
# (proxy_ndp entries) for every other host, so even two hosts of the same
# segment talk THROUGH the gateway, where intra-segment policy is enforced.
#
# Every name that exists outside a namespace carries PREFIX: the namespaces
# (/run/netns/PREFIXgw, ...), the bpffs pin dir, the run dir and the nft
# table. The veth links are created directly inside their namespaces (never
# in the caller's), so their short names cannot collide with anything and
# they disappear with the namespaces.
#
# segd helpers (also shared by demo and tests):
#   topo_segd_start PREFIX BUILD SEGDIR LOGFILE [extra segd args]
#                             start segd in the gateway netns, in the
#                             background; sets TOPO_SEGD_PID
#   topo_segd_wait PREFIX PID [SECONDS]   wait until it serves its socket
#   topo_segctl PREFIX BUILD args...      segctl with this run's pin/run dirs
#                                         (in the gateway netns, under timeout)
#   topo_segd_stop PID        SIGTERM, then SIGKILL after 5 s
#
# Traffic (every probe returns 0 when the traffic got through end to end):
#   topo_tcp_listen / topo_tcp_probe      socat echo server / client
#   topo_udp_listen / topo_udp_probe      socat receiver writing a file
#   topo_ping PREFIX FROM ADDR
#   topo_dicom_file DIR / topo_dicom_listen / topo_dicom_store   dcmtk

# ---------------------------------------------------------------- the plan

# Hosts, in the order they are shown.
TOPO_HOSTS=(ehr-ws ehr-db pump-7 modality pacs guest inet)

declare -gA TOPO_SEG=(
	[ehr-ws]=ehr [ehr-db]=ehr [pump-7]=iomt [modality]=iomt
	[pacs]=pacs [guest]=guest [inet]=world
)
# host address/prefix on eth0; the gateway holds .1 (::1) of it
declare -gA TOPO_IP4=(
	[ehr-ws]=10.10.0.10/24 [ehr-db]=10.10.0.20/24
	[pump-7]=10.20.0.7/24 [modality]=10.20.0.30/24
	[pacs]=10.30.0.10/24 [guest]=10.40.0.50/24
	[inet]=198.51.100.10/24
)
declare -gA TOPO_IP6=(
	[ehr-ws]=fd00:10::10/64 [ehr-db]=fd00:10::20/64
)
# Fixed MACs make captures and counters readable; pump-7's is the one the
# policy binds (anti-spoof).
declare -gA TOPO_MAC=(
	[ehr-ws]=02:00:00:10:00:10 [ehr-db]=02:00:00:10:00:20
	[pump-7]=02:00:00:20:00:07 [modality]=02:00:00:20:00:30
	[pacs]=02:00:00:30:00:10 [guest]=02:00:00:40:00:50
	[inet]=02:00:00:99:00:10
)

# Background processes started by the probe helpers (listeners). They are
# started as "nsenter ... -- prog &" so that the pid is the program's own.
TOPO_BG_PIDS=()

# ---------------------------------------------------------------- names

topo_ns() { echo "${1}${2}"; }                   # PREFIX HOST -> netns name
topo_nspath() { echo "/run/netns/${1}${2}"; }    # PREFIX HOST -> netns path
topo_pin_dir() { echo "/sys/fs/bpf/${1%-}"; }    # PREFIX -> bpffs pin dir
topo_run_dir() { echo "/run/${1%-}"; }           # PREFIX -> segd run dir
topo_nft_table() { local t=${1%-}; echo "${t//-/_}"; } # PREFIX -> nft table
topo_ip4() { echo "${TOPO_IP4[$1]%/*}"; }        # HOST -> IPv4 address
topo_ip6() { local a=${TOPO_IP6[$1]:-}; echo "${a%/*}"; } # HOST -> IPv6 or ""
topo_mac() { echo "${TOPO_MAC[$1]}"; }           # HOST -> MAC of its eth0
topo_seg() { echo "${TOPO_SEG[$1]}"; }           # HOST -> segment name
topo_ifaces() { echo "${TOPO_HOSTS[*]}"; }       # gateway interfaces

# The gateway's address in HOST's segment (x.y.z.1 / prefix::1).
topo_gw4() { local a; a=$(topo_ip4 "$1"); echo "${a%.*}.1"; }
topo_gw6() {
	local a; a=$(topo_ip6 "$1")
	[ -n "$a" ] || return 0
	echo "${a%:*}:1"
}

# MAC of the gateway's interface that faces HOST.
topo_gw_mac() {
	ip -n "$(topo_ns "$1" gw)" -o link show dev "$2" 2>/dev/null |
		sed -n 's/.*link\/ether \([0-9a-f:]*\) .*/\1/p'
}

topo_exec() { # PREFIX HOST cmd...
	local p=$1 h=$2; shift 2
	nsenter --net="$(topo_nspath "$p" "$h")" -- "$@"
}

topo_log() { [ "${TOPO_QUIET:-0}" = 1 ] || echo "topo: $*" >&2; }

# ---------------------------------------------------------------- up / down

# bpffs must be mounted where segd pins (a fresh machine may not have it).
topo_bpffs() {
	if ! mountpoint -q /sys/fs/bpf 2>/dev/null; then
		mount -t bpf bpf /sys/fs/bpf || {
			echo "topo: cannot mount bpffs on /sys/fs/bpf" >&2
			return 1
		}
	fi
}

topo_exists() { # PREFIX: any namespace of this hospital exists?
	local h
	for h in gw "${TOPO_HOSTS[@]}"; do
		[ -e "$(topo_nspath "$1" "$h")" ] && return 0
	done
	return 1
}

topo_sysctl() { # PREFIX HOST key=value...
	local p=$1 h=$2 kv; shift 2
	for kv in "$@"; do
		topo_exec "$p" "$h" sysctl -qw "$kv" >/dev/null || {
			echo "topo: sysctl $kv failed in $h" >&2
			return 1
		}
	done
}

# One host's veth pair: "HOST" in the gateway, "eth0" in the host's
# namespace (which must exist), with its MAC, offloads, addresses, routes
# and the gateway's proxy ARP/ND settings for it.
topo_veth() { # PREFIX HOST
	local p=$1 h=$2 gw ip4 ip6 gw4 gw6
	gw=$(topo_ns "$p" gw)
	# The pair is born inside the namespaces: nothing in the caller's.
	ip -n "$gw" link add "$h" type veth peer name eth0 \
		netns "$(topo_ns "$p" "$h")" || return 1
	topo_exec "$p" "$h" ip link set eth0 address "$(topo_mac "$h")"
	# XDP must see the frames a real NIC would hand it: MTU-sized
	# (no TSO/GSO super-frames) and with VLAN tags left in the data
	# (no rx/tx VLAN offload moving them into metadata).
	topo_exec "$p" "$h" ethtool -K eth0 tso off gso off \
		rxvlan off txvlan off >/dev/null 2>&1
	topo_exec "$p" gw ethtool -K "$h" gro off \
		rxvlan off txvlan off >/dev/null 2>&1
	topo_exec "$p" "$h" ip link set eth0 up
	topo_exec "$p" gw ip link set "$h" up

	ip4=${TOPO_IP4[$h]} gw4=$(topo_gw4 "$h")
	topo_exec "$p" "$h" ip addr add "$ip4" dev eth0
	topo_exec "$p" "$h" ip route add default via "$gw4" dev eth0
	topo_exec "$p" gw ip addr add "$gw4/32" dev "$h"
	topo_exec "$p" gw ip route add "${ip4%/*}/32" dev "$h"
	# proxy_delay 0: answer proxied ARP/ND at once, not after up
	# to 0.8 s (which would eat a probe's 1 s connect timeout).
	topo_sysctl "$p" gw "net.ipv4.conf.$h.proxy_arp=1" \
		"net.ipv4.neigh.$h.proxy_delay=0" \
		"net.ipv6.neigh.$h.proxy_delay=0" \
		"net.ipv4.conf.$h.send_redirects=0" \
		"net.ipv6.conf.$h.accept_ra=0" || return 1

	ip6=${TOPO_IP6[$h]:-}
	if [ -n "$ip6" ]; then
		gw6=$(topo_gw6 "$h")
		topo_exec "$p" "$h" ip -6 addr add "$ip6" dev eth0 nodad
		topo_exec "$p" "$h" ip -6 route add default via "$gw6" dev eth0
		topo_exec "$p" gw ip -6 addr add "$gw6/128" dev "$h" nodad
		topo_exec "$p" gw ip -6 route add "${ip6%/*}/128" dev "$h"
		topo_sysctl "$p" gw "net.ipv6.conf.$h.proxy_ndp=1" || return 1
	fi
}

# Proxy ND: on HOST's interface, answer for every other host of the same
# IPv6 prefix (IPv4 does this with proxy_arp and the routes).
topo_proxy_nd() { # PREFIX HOST
	local p=$1 h=$2 ip6 o o6
	ip6=$(topo_ip6 "$h")
	[ -n "$ip6" ] || return 0
	for o in "${TOPO_HOSTS[@]}"; do
		o6=$(topo_ip6 "$o")
		[ "$o" != "$h" ] && [ -n "$o6" ] || continue
		[ "${o6%:*}" = "${ip6%:*}" ] || continue
		topo_exec "$p" gw ip -6 neigh add proxy "$o6" dev "$h"
	done
}

# Deletes HOST's veth pair and builds it again with the same names,
# addresses and routes (the gateway's interface comes back with a new
# ifindex, as after a driver reload or an operator's `ip link del`).
topo_relink() { # PREFIX HOST
	local p=${1:?topo_relink PREFIX HOST} h=${2:?topo_relink PREFIX HOST}
	ip -n "$(topo_ns "$p" gw)" link del "$h" || return 1
	topo_veth "$p" "$h" || return 1
	topo_proxy_nd "$p" "$h"
}

topo_up() { # PREFIX
	local p=${1:?topo_up PREFIX} gw h
	gw=$(topo_ns "$p" gw)
	topo_bpffs || return 1
	if topo_exists "$p"; then
		topo_log "removing a leftover hospital with prefix $p"
		topo_down "$p"
	fi
	ip netns add "$gw" || return 1
	topo_exec "$p" gw ip link set lo up
	topo_sysctl "$p" gw net.ipv4.ip_forward=1 \
		net.ipv6.conf.all.forwarding=1 \
		net.ipv4.conf.all.send_redirects=0 \
		net.ipv4.conf.default.send_redirects=0 \
		net.ipv6.conf.default.accept_dad=0 \
		net.ipv6.conf.default.accept_ra=0 || return 1

	for h in "${TOPO_HOSTS[@]}"; do
		ip netns add "$(topo_ns "$p" "$h")" || return 1
		topo_exec "$p" "$h" ip link set lo up
		topo_sysctl "$p" "$h" net.ipv6.conf.default.accept_dad=0 \
			net.ipv6.conf.default.accept_ra=0 \
			net.ipv6.conf.all.accept_ra=0 || return 1
		topo_veth "$p" "$h" || return 1
	done

	for h in "${TOPO_HOSTS[@]}"; do
		topo_proxy_nd "$p" "$h"
	done
	topo_log "hospital $p is up ($(topo_ifaces))"
}

# Kill whatever runs inside one namespace (only ours: it has our prefix).
topo_kill_ns() { # NSNAME
	local pids
	pids=$(ip netns pids "$1" 2>/dev/null) || return 0
	[ -n "$pids" ] || return 0
	# shellcheck disable=SC2086
	kill -TERM $pids 2>/dev/null
	sleep 0.2
	pids=$(ip netns pids "$1" 2>/dev/null)
	# shellcheck disable=SC2086
	[ -n "$pids" ] && kill -KILL $pids 2>/dev/null
	return 0
}

topo_down() { # PREFIX
	local p=${1:?topo_down PREFIX} h ns
	for h in "${TOPO_HOSTS[@]}" gw; do
		ns=$(topo_ns "$p" "$h")
		[ -e "/run/netns/$ns" ] || continue
		topo_kill_ns "$ns"
		ip netns del "$ns" 2>/dev/null
	done
	TOPO_BG_PIDS=()
	return 0
}

# ---------------------------------------------------------------- segd

topo_segd_start() { # PREFIX BUILD SEGDIR LOGFILE [extra args]
	local p=$1 build=$2 segdir=$3 log=$4 h args=()
	shift 4
	for h in "${TOPO_HOSTS[@]}"; do args+=(--interface "$h"); done
	nsenter --net="$(topo_nspath "$p" gw)" -- "$build/segd" \
		--segments "$segdir" "${args[@]}" \
		--pin-dir "$(topo_pin_dir "$p")" --run-dir "$(topo_run_dir "$p")" \
		--nft-table "$(topo_nft_table "$p")" "$@" >>"$log" 2>&1 &
	TOPO_SEGD_PID=$!
}

# Runs under timeout (TOPO_SEGCTL_TIMEOUT, default 30 s): a wedged segd
# must not hang a demo or a test.
topo_segctl() { # PREFIX BUILD args...
	local p=$1 build=$2; shift 2
	timeout "${TOPO_SEGCTL_TIMEOUT:-30}" \
		nsenter --net="$(topo_nspath "$p" gw)" -- "$build/segctl" \
		--pin-dir "$(topo_pin_dir "$p")" --run-dir "$(topo_run_dir "$p")" \
		--nft-table "$(topo_nft_table "$p")" "$@"
}

# Waits until this segd (PID) serves its socket. Fails early if it exits.
topo_segd_wait() { # PREFIX PID [SECONDS]
	local p=$1 pid=$2 secs=${3:-15} sock i
	sock="$(topo_run_dir "$p")/segd.sock"
	for ((i = 0; i < secs * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || return 1
		# A socket file alone may be a killed segd's. This segd writes
		# its pid, then removes a stale socket, and creates its own
		# only once it enforces: the pid first, then the socket.
		if [ "$(cat "$(topo_run_dir "$p")/segd.pid" 2>/dev/null)" = "$pid" ] &&
			[ -S "$sock" ]; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

topo_segd_stop() { # PID
	local pid=$1 i
	[ -n "$pid" ] || return 0
	kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

# ---------------------------------------------------------------- traffic

topo_is6() { [[ $1 == *:* ]]; }

# Waits until HOST listens on PROTO (tcp|udp) PORT.
topo_wait_listen() { # PREFIX HOST tcp|udp PORT
	local p=$1 h=$2 flag=-Hltn i
	[ "$3" = udp ] && flag=-Hlun
	for ((i = 0; i < 30; i++)); do
		topo_exec "$p" "$h" ss "$flag" "sport = :$4" 2>/dev/null |
			grep -q . && return 0
		sleep 0.1
	done
	echo "topo: $h does not listen on $3/$4" >&2
	return 1
}

# TCP echo server on every address of HOST (IPv4 and IPv6).
topo_tcp_listen() { # PREFIX HOST PORT
	nsenter --net="$(topo_nspath "$1" "$2")" -- socat "TCP6-LISTEN:$3,ipv6only=0,reuseaddr,fork" \
		EXEC:cat </dev/null >/dev/null 2>&1 &
	TOPO_BG_PIDS+=($!)
	topo_wait_listen "$1" "$2" tcp "$3"
}

# Connects from FROM to ADDR:PORT, sends a line and expects it echoed back:
# passes only if the handshake, the data and the reply all got through.
topo_tcp_probe() { # PREFIX FROM ADDR PORT [CONNECT_TIMEOUT]
	local p=$1 from=$2 addr=$3 port=$4 to=${5:-1} tok got target
	tok="segd-probe-$from-$RANDOM$RANDOM"
	if topo_is6 "$addr"; then target="TCP6:[$addr]:$port"; else target="TCP4:$addr:$port"; fi
	got=$(echo "$tok" | topo_exec "$p" "$from" timeout 5 \
		socat -t 2 -T 3 - "$target,connect-timeout=$to" 2>/dev/null)
	[ "$got" = "$tok" ]
}

# UDP receiver: every datagram HOST receives on PORT is appended to FILE.
topo_udp_listen() { # PREFIX HOST PORT FILE
	: >"$4"
	nsenter --net="$(topo_nspath "$1" "$2")" -- socat -u "UDP6-RECV:$3,ipv6only=0,reuseaddr" \
		"OPEN:$4,creat,append" </dev/null >/dev/null 2>&1 &
	TOPO_BG_PIDS+=($!)
	topo_wait_listen "$1" "$2" udp "$3"
}

# Sends one datagram with a unique token; passes if the receiver's FILE
# shows it within WAIT seconds.
topo_udp_probe() { # PREFIX FROM ADDR PORT FILE [WAIT]
	local p=$1 from=$2 addr=$3 port=$4 file=$5 wait=${6:-1} tok target i
	tok="segd-probe-$from-$RANDOM$RANDOM"
	if topo_is6 "$addr"; then target="UDP6:[$addr]:$port"; else target="UDP4:$addr:$port"; fi
	echo "$tok" | topo_exec "$p" "$from" socat -u - "$target" 2>/dev/null
	for ((i = 0; i < wait * 20; i++)); do
		grep -qF "$tok" "$file" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

topo_ping() { # PREFIX FROM ADDR [COUNT]
	local fam=-4
	topo_is6 "$3" && fam=-6
	topo_exec "$1" "$2" ping "$fam" -n -q -c "${4:-1}" -W 1 "$3" >/dev/null 2>&1
}

# A small DICOM object (Secondary Capture, 8x8 8-bit) made with dcmtk's
# dump2dcm, so no capture or sample file is needed. Prints its path.
topo_dicom_file() { # DIR
	local dir=$1 uid
	uid="1.2.826.0.1.3680043.9.7433.1.$(date +%s).$$"
	local pix
	pix=$(printf '00%.0s' $(seq 64) | sed 's/../&\\/g;s/\\$//')
	cat >"$dir/ct.dump" <<-EOF
	(0002,0001) OB 00\\01
	(0002,0002) UI =SecondaryCaptureImageStorage
	(0002,0003) UI [$uid.1]
	(0002,0010) UI =LittleEndianExplicit
	(0008,0016) UI =SecondaryCaptureImageStorage
	(0008,0018) UI [$uid.1]
	(0008,0020) DA [20240101]
	(0008,0060) CS [OT]
	(0008,0064) CS [WSD]
	(0010,0010) PN [Demo^Patient]
	(0010,0020) LO [SEGD-0001]
	(0020,000d) UI [$uid.2]
	(0020,000e) UI [$uid.3]
	(0020,0013) IS [1]
	(0028,0002) US 1
	(0028,0004) CS [MONOCHROME2]
	(0028,0010) US 8
	(0028,0011) US 8
	(0028,0100) US 8
	(0028,0101) US 8
	(0028,0102) US 7
	(0028,0103) US 0
	(7fe0,0010) OB $pix
	EOF
	dump2dcm -q "$dir/ct.dump" "$dir/image.dcm" || return 1
	echo "$dir/image.dcm"
}

# storescp on HOST: accepts any storage SOP class, writes to OUTDIR. No
# reverse DNS of the peer (-dhl): the namespaces have no resolver.
topo_dicom_listen() { # PREFIX HOST PORT OUTDIR
	mkdir -p "$4"
	nsenter --net="$(topo_nspath "$1" "$2")" -- storescp -q -dhl --fork -aet PACS -od "$4" "$3" \
		</dev/null >/dev/null 2>&1 &
	TOPO_BG_PIDS+=($!)
	topo_wait_listen "$1" "$2" tcp "$3"
}

# C-STORE FILE from FROM to ADDR:PORT. Passes if storescu succeeds AND the
# object arrived in OUTDIR (which is emptied first).
topo_dicom_store() { # PREFIX FROM ADDR PORT FILE OUTDIR
	local p=$1 from=$2 addr=$3 port=$4 file=$5 out=$6 i
	find "$out" -mindepth 1 -delete 2>/dev/null
	topo_exec "$p" "$from" timeout 10 storescu -q -aet "${from^^}" -aec PACS \
		-to 2 -ta 2 -td 5 "$addr" "$port" "$file" >/dev/null 2>&1 || return 1
	for ((i = 0; i < 20; i++)); do
		[ -n "$(find "$out" -type f -size +0 2>/dev/null)" ] && return 0
		sleep 0.05
	done
	return 1
}

topo_bg_stop() { # stop the listeners the probe helpers started
	local pid
	for pid in "${TOPO_BG_PIDS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	for pid in "${TOPO_BG_PIDS[@]}"; do
		wait "$pid" 2>/dev/null
	done
	TOPO_BG_PIDS=()
}
