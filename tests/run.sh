#!/usr/bin/env bash
# Runs every test suite and ends with one line: "N passed, N failed".
#
#   tests/run.sh BUILD_DIR [unit|datapath|e2e]...
#
# Suites:
#   unit      cmocka binaries build/tests/test_* except test_datapath (no root)
#   datapath  build/tests/test_datapath: the real XDP object under
#             BPF_PROG_TEST_RUN (root)
#   e2e       tests/e2e/*.sh: network namespaces, real traffic (root)
#
# cmocka suites are counted from cmocka's own "[  PASSED  ]"/"[  FAILED  ]"
# lines; shell suites print "ok - ...", "not ok - ..." and "skip - ..." lines.
# VERBOSE=1 shows every line of every suite (otherwise only failures).
set -u
OUT=${1:?usage: tests/run.sh BUILD_DIR [suite...]}
shift
SUITES=("$@")
[ ${#SUITES[@]} -eq 0 ] && SUITES=(unit datapath e2e)
HERE=$(cd "$(dirname "$0")" && pwd)
export SEGD_BUILD="$OUT" SEGD_SRCDIR="$(dirname "$HERE")"

passed=0 failed=0 skipped=0
failures=()

count_cmocka() { # name logfile rc
	local p f
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$2" | awk '{s+=$1} END {print s+0}')
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$2" | awk '{s+=$1} END {print s+0}')
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ] && [ "$3" -ne 0 ]; then
		f=1 # crashed before cmocka could report
	fi
	passed=$((passed + p)); failed=$((failed + f))
	[ "$f" -gt 0 ] && failures+=("$1")
	echo "$1: $p passed, $f failed"
	return 0
}

count_tap() { # name logfile rc
	local p f s
	p=$(grep -c '^ok - ' "$2"); f=$(grep -c '^not ok - ' "$2"); s=$(grep -c '^skip - ' "$2")
	if [ "$3" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1; echo "not ok - $1 exited with status $3" >>"$2"
	fi
	passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
	[ "$f" -gt 0 ] && failures+=("$1")
	echo "$1: $p passed, $f failed, $s skipped"
	grep '^skip - ' "$2" | sed 's/^/  /'
	return 0
}

run_one() { # kind name cmd...
	local kind=$1 name=$2; shift 2
	local log rc
	log=$(mktemp)
	"$@" >"$log" 2>&1; rc=$?
	if [ "${VERBOSE:-0}" = 1 ]; then sed "s|^|  [$name] |" "$log"; fi
	"count_$kind" "$name" "$log" "$rc"
	if [ "${VERBOSE:-0}" != 1 ] && { [ "$rc" -ne 0 ] || grep -q -e '^not ok' -e '^\[  FAILED  \]' "$log"; }; then
		sed "s|^|  [$name] |" "$log" | tail -n 60
	fi
	rm -f "$log"
}

for s in "${SUITES[@]}"; do
	case $s in
	unit)
		for t in "$OUT"/tests/test_*; do
			[ -x "$t" ] || continue
			[ "$(basename "$t")" = test_datapath ] && continue
			run_one cmocka "unit/$(basename "$t")" "$t"
		done ;;
	datapath)
		if [ -x "$OUT/tests/test_datapath" ]; then
			run_one cmocka datapath "$OUT/tests/test_datapath"
		fi ;;
	e2e)
		for t in "$HERE"/e2e/*.sh; do
			[ -f "$t" ] || continue
			[ "$(basename "$t")" = lib.sh ] && continue
			run_one tap "e2e/$(basename "$t" .sh)" bash "$t"
		done ;;
	*) echo "unknown suite: $s" >&2; exit 2 ;;
	esac
done

[ ${#failures[@]} -gt 0 ] && echo "failed suites: ${failures[*]}"
if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
