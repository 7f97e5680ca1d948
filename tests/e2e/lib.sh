# shellcheck shell=bash
# tests/e2e/lib.sh - shared helpers of the end-to-end suites.
#
# Sourced by tests/e2e/*.sh (never run alone). Gives:
#   - TAP-like printers counted by tests/run.sh: ok, not_ok, skip
#   - e2e_init TAG: root check (skip otherwise), a unique prefix for this run
#     (E2E_PREFIX), a temp dir (E2E_TMP), a cleanup trap that runs pass or
#     fail: segctl teardown, our segd killed by pid, topo_down, our pin and
#     run dirs removed
#   - segd lifecycle: e2e_segd_start / e2e_segctl
#   - counters: e2e_snap, e2e_delta (from `segctl --json stats`)
#   - e2e_explain: `segctl --json explain` -> "verdict reason rule"
#   - e2e_probe: one probe, checked three ways (traffic, explain, counters)
#
# The hospital itself comes from scripts/topology.sh (shared with the demo).
# JSON is read with grep/sed/awk on purpose: the CI machine has only the
# packages of scripts/deps.sh (no jq).

# Executed instead of sourced (tests/run.sh runs every *.sh here): nothing to do.
(return 0 2>/dev/null) || exit 0

E2E_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SEGD_SRCDIR=${SEGD_SRCDIR:-$(cd "$E2E_LIB_DIR/../.." && pwd)}
SEGD_BUILD=${SEGD_BUILD:-$SEGD_SRCDIR/build}
# run.sh passes the build dir as given on its command line (often "build").
if [ -d "$SEGD_BUILD" ]; then
	SEGD_BUILD=$(cd "$SEGD_BUILD" && pwd)
elif [ -d "$SEGD_SRCDIR/$SEGD_BUILD" ]; then
	SEGD_BUILD=$(cd "$SEGD_SRCDIR/$SEGD_BUILD" && pwd)
fi
export SEGD_SRCDIR SEGD_BUILD

# shellcheck source=../../scripts/topology.sh
. "$SEGD_SRCDIR/scripts/topology.sh"
TOPO_QUIET=1

E2E_FAILED=0
E2E_PASSED=0
E2E_SEGD_PID=
E2E_PREFIX=
E2E_TMP=
E2E_EXPLAIN_EXTRA=()
E2E_SEGDIR=

# ---------------------------------------------------------------- printers

ok() { echo "ok - $*"; E2E_PASSED=$((E2E_PASSED + 1)); }
not_ok() { # NAME DETAILS...
	local name=$1; shift
	echo "not ok - $name${*:+: $*}"
	E2E_FAILED=$((E2E_FAILED + 1))
}
skip() { echo "skip - $*"; }
note() { echo "# $*"; }
# check NAME CONDITION-STATUS DETAILS: ok or not ok from a status.
check() { # NAME STATUS [DETAILS]
	if [ "$2" -eq 0 ]; then ok "$1"; else not_ok "$1" "${3:-}"; fi
}

# ---------------------------------------------------------------- setup

e2e_init() { # TAG (one letter or word, makes the prefix unique per suite)
	if [ "$(id -u)" -ne 0 ]; then
		skip "$(basename "$0" .sh): needs root (network namespaces, XDP)"
		exit 0
	fi
	local t
	for t in ip nsenter socat ping ethtool nft ss; do
		command -v "$t" >/dev/null 2>&1 || {
			not_ok "prerequisites" "$t not installed (make deps)"
			exit 1
		}
	done
	E2E_PREFIX="segdt$$${1:-}-"
	E2E_TMP=$(mktemp -d "/tmp/${E2E_PREFIX}XXXXXX") || {
		not_ok "temp dir" "mktemp -d failed"
		exit 1
	}
	trap e2e_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

e2e_need_segd() {
	if [ ! -x "$SEGD_BUILD/segd" ] || [ ! -x "$SEGD_BUILD/segctl" ]; then
		not_ok "segd and segctl are built" "not found in $SEGD_BUILD (run make)"
		exit 1
	fi
}

e2e_cleanup() {
	local rc=$? pin run
	set +e
	trap - EXIT
	trap '' INT TERM # a second signal must not cut the cleanup short
	[ -n "$E2E_PREFIX" ] || exit "$rc"
	pin=$(topo_pin_dir "$E2E_PREFIX") run=$(topo_run_dir "$E2E_PREFIX")
	if [ "$E2E_FAILED" -gt 0 ] && [ -s "$E2E_TMP/segd.log" ]; then
		note "segd log (last 30 lines):"
		tail -n 30 "$E2E_TMP/segd.log" | sed 's/^/#   /'
	fi
	if [ -x "$SEGD_BUILD/segctl" ] && [ -e "$(topo_nspath "$E2E_PREFIX" gw)" ] &&
		{ [ -e "$pin" ] || [ -e "$run" ]; }; then
		TOPO_SEGCTL_TIMEOUT=10 topo_segctl "$E2E_PREFIX" "$SEGD_BUILD" teardown --yes >/dev/null 2>&1
	fi
	topo_segd_stop "$E2E_SEGD_PID"
	topo_bg_stop
	topo_down "$E2E_PREFIX"
	# Ours alone: both carry this run's unique prefix.
	[ -e "$pin" ] && rm -rf "$pin"
	[ -e "$run" ] && rm -rf "$run"
	[ -n "$E2E_TMP" ] && rm -rf "$E2E_TMP"
	[ "$E2E_FAILED" -gt 0 ] && [ "$rc" -eq 0 ] && rc=1
	exit "$rc"
}

# A private copy of the demo policy: tests edit it, never the repo's.
e2e_segments_copy() {
	mkdir -p "$E2E_TMP/segments"
	cp "$SEGD_SRCDIR"/segments/*.json "$E2E_TMP/segments/"
	E2E_SEGDIR=$E2E_TMP/segments
}

e2e_segd_start() { # [extra segd args]; needs E2E_SEGDIR
	topo_segd_start "$E2E_PREFIX" "$SEGD_BUILD" "$E2E_SEGDIR" \
		"$E2E_TMP/segd.log" -v "$@"
	E2E_SEGD_PID=$TOPO_SEGD_PID
	topo_segd_wait "$E2E_PREFIX" "$E2E_SEGD_PID" 15
}

e2e_segctl() { topo_segctl "$E2E_PREFIX" "$SEGD_BUILD" "$@"; }

# ---------------------------------------------------------------- JSON

# First value of "KEY" in the JSON on stdin (string, number, true/false/null).
json_get() { # KEY
	tr -d '\n' | grep -o "\"$1\"[[:space:]]*:[[:space:]]*\(\"[^\"]*\"\|[^,}[:space:]]*\)" |
		head -n 1 | sed 's/^"[^"]*"[[:space:]]*:[[:space:]]*//; s/^"//; s/"$//'
}

# `segctl --json stats` -> one line per counter: SRC DST VERDICT REASON PKTS BYTES
# (segment 0, "frames dropped before both ends are known", shows as "-").
e2e_stats_lines() {
	tr -d '\n' | grep -o '{[^{}]*}' | awk '
	function f(o, k,   m) {
		if (!match(o, "\"" k "\"[ \t]*:[ \t]*(\"[^\"]*\"|[^,} \t]+)")) return "?"
		m = substr(o, RSTART, RLENGTH)
		sub(/^"[^"]*"[ \t]*:[ \t]*/, "", m); gsub(/"/, "", m)
		if (m == "" || m == "null" || m == "none") m = "-"
		return m
	}
	/"src_segment"/ {
		print f($0, "src_segment"), f($0, "dst_segment"), f($0, "verdict"),
			f($0, "reason"), f($0, "packets"), f($0, "bytes")
	}'
}

# Snapshot of the counters into a new file; prints the file name. (Called
# as $(e2e_snap): a subshell, so the name comes from mktemp, not a counter.)
e2e_snap() {
	local f
	f=$(mktemp "$E2E_TMP/snap.XXXXXX" 2>/dev/null) || { echo /dev/null; return 1; }
	e2e_segctl --json stats 2>"$f.err" | e2e_stats_lines >"$f"
	echo "$f"
}

# Packets (or bytes) of one counter key "src/dst/verdict/reason" in a snapshot.
e2e_count() { # SNAPFILE KEY [packets|bytes]
	local col=5
	[ "${3:-packets}" = bytes ] && col=6
	awk -v k="$2" -v c="$col" '{ if ($1 "/" $2 "/" $3 "/" $4 == k) s += $c } END { print s + 0 }' "$1"
}

e2e_delta() { # BEFORE AFTER KEY [packets|bytes]
	echo $(($(e2e_count "$2" "$3" "${4:-packets}") - $(e2e_count "$1" "$3" "${4:-packets}")))
}

# ---------------------------------------------------------------- explain

# Prints "VERDICT REASON RULE" from `segctl --json explain` (RULE "-" if none).
e2e_explain() { # FROM_ADDR TO_ADDR PROTO [PORT] [extra args...]
	local from=$1 to=$2 proto=$3 port=${4:-} out v r rule args
	shift 3; [ $# -gt 0 ] && shift
	args=(--json explain --from "$from" --to "$to" --proto "$proto")
	[ -n "$port" ] && args+=(--port "$port")
	out=$(e2e_segctl "${args[@]}" "$@" 2>"$E2E_TMP/explain.err")
	v=$(json_get verdict <<<"$out") r=$(json_get reason <<<"$out")
	rule=$(json_get rule <<<"$out")
	[ "$rule" = null ] && rule=
	echo "${v:-?} ${r:-?} ${rule:--}"
}

# ---------------------------------------------------------------- probes

# Segment of an address of the hospital ("gateway" for the gateway's own).
e2e_seg_of_addr() { # ADDR
	local h
	for h in "${TOPO_HOSTS[@]}"; do
		if [ "$1" = "$(topo_ip4 "$h")" ] || [ "$1" = "$(topo_ip6 "$h")" ]; then
			topo_seg "$h"; return
		fi
		if [ "$1" = "$(topo_gw4 "$h")" ] || [ "$1" = "$(topo_gw6 "$h")" ]; then
			echo gateway; return
		fi
	done
	echo world
}

# The traffic of one probe; 0 when it got through.
#   tcp    socat echo (needs topo_tcp_listen on the target)
#   udp    datagram seen by the receiver (needs topo_udp_listen writing
#          $E2E_TMP/udp.<port>.<host>)
#   ping   one echo request/reply
#   dicom  storescu C-STORE, object arrived ($E2E_DICOM_FILE, storescp
#          writing to $E2E_TMP/dicom.<port>)
e2e_traffic() { # KIND FROM ADDR PORT TOHOST
	case $1 in
	tcp) topo_tcp_probe "$E2E_PREFIX" "$2" "$3" "$4" ;;
	udp) topo_udp_probe "$E2E_PREFIX" "$2" "$3" "$4" "$E2E_TMP/udp.$4.$5" ;;
	ping) topo_ping "$E2E_PREFIX" "$2" "$3" ;;
	dicom) topo_dicom_store "$E2E_PREFIX" "$2" "$3" "$4" "$E2E_DICOM_FILE" "$E2E_TMP/dicom.$4" ;;
	*) return 2 ;;
	esac
}

# One probe of the table, checked three ways:
#   1. the real outcome (the traffic got through or not),
#   2. `segctl --json explain` gives the same verdict and reason (and rule),
#   3. the counters moved under (src seg, dst seg, verdict, reason), and
#      for a passing connection the replies under (dst, src, pass, reply);
#      for a drop, nothing was counted as allowed for that pair.
# EXPECT: pass or drop. REASON: allowed / policy / spoofed.
# Extra explain args (e.g. --src-mac) in E2E_EXPLAIN_EXTRA (array).
e2e_probe() { # NAME KIND FROM TOHOST|ADDR FAMILY PORT EXPECT REASON [RULE]
	local name=$1 kind=$2 from=$3 to=$4 fam=$5 port=$6 expect=$7 reason=$8 rule=${9:-}
	local addr src tohost=$4 proto sseg dseg before after got ex v r xr d rev fwd leak
	if [ "$fam" = 6 ]; then
		case $to in *:*) addr=$to ;; gw) addr=$(topo_gw6 "$from") ;; *) addr=$(topo_ip6 "$to") ;; esac
		src=$(topo_ip6 "$from")
	else
		case $to in *.*) addr=$to ;; gw) addr=$(topo_gw4 "$from") ;; *) addr=$(topo_ip4 "$to") ;; esac
		src=$(topo_ip4 "$from")
	fi
	case $kind in
	tcp | dicom) proto=tcp ;;
	udp) proto=udp ;;
	ping) proto=icmp; [ "$fam" = 6 ] && proto=icmpv6; port= ;;
	esac
	sseg=$(topo_seg "$from") dseg=$(e2e_seg_of_addr "$addr")

	before=$(e2e_snap)
	if e2e_traffic "$kind" "$from" "$addr" "$port" "$tohost"; then got=pass; else got=drop; fi
	sleep 0.1
	after=$(e2e_snap)

	# 1. what really happened
	if [ "$got" = "$expect" ]; then
		if [ "$got" = pass ]; then ok "$name: passed"; else ok "$name: dropped"; fi
	elif [ "$expect" = pass ]; then
		not_ok "$name" "expected to pass, the traffic did not get through"
	else
		not_ok "$name" "expected a drop, the traffic got through"
	fi

	# 2. what explain says about it
	ex=$(e2e_explain "$src" "$addr" "$proto" "$port" "${E2E_EXPLAIN_EXTRA[@]}")
	read -r v r xr <<<"$ex"
	if [ "$v" = "$expect" ] && [ "$r" = "$reason" ] && { [ -z "$rule" ] || [ "$xr" = "$rule" ]; }; then
		ok "$name: explain says $v ($r${rule:+, rule $rule})"
	else
		not_ok "$name: explain" "expected $expect ($reason${rule:+, rule $rule}), explain says $v ($r, rule $xr)$(head -c 300 "$E2E_TMP/explain.err" | tr '\n' ' ')"
	fi

	# 3. what the counters say
	fwd="$sseg/$dseg/$expect/$reason"
	d=$(e2e_delta "$before" "$after" "$fwd")
	if [ "$expect" = pass ]; then
		rev=0
		if [ "$kind" != udp ]; then
			rev=$(e2e_delta "$before" "$after" "$dseg/$sseg/pass/reply")
		fi
		if [ "$d" -ge 1 ] && { [ "$kind" = udp ] || [ "$rev" -ge 1 ]; }; then
			if [ "$kind" = udp ]; then
				ok "$name: counted $fwd +$d"
			else
				ok "$name: counted $fwd +$d, $dseg/$sseg/pass/reply +$rev"
			fi
		elif [ "$kind" = udp ]; then
			not_ok "$name: counters" "$fwd +$d (want >= 1)"
		else
			not_ok "$name: counters" "$fwd +$d, $dseg/$sseg/pass/reply +$rev (want >= 1 each)"
		fi
	else
		leak=$(e2e_delta "$before" "$after" "$sseg/$dseg/pass/allowed")
		if [ "$d" -ge 1 ] && [ "$leak" -eq 0 ]; then
			ok "$name: counted $fwd +$d"
		else
			not_ok "$name: counters" "$fwd +$d (want >= 1), $sseg/$dseg/pass/allowed +$leak (want 0)"
		fi
	fi
}
