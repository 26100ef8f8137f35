# shellcheck shell=bash
# TAP for the host-side test scripts (tests/pkg, tests/style): source it
# after lib.sh and set $result to the --result file, if any.
#   ok / nok WHAT          print "ok - WHAT" / "not ok - WHAT" and count it
#   skipped WHAT WHY       print "ok - WHAT # SKIP WHY" and count a skip
#   tap_finish             write "passed=N failed=N skipped=N" to $result
#                          (when set); fails if anything failed
#   tap_start NAME "$@"    for a script whose only option is --result FILE:
#                          takes $result from it and makes the scratch
#                          directory $work, removed on exit
#   tap_start_kernels NAME COVERED "$@"   the same, with --kernels LIST
pass=0 fail=0 skip=0 result=${result:-}
ok() { echo "ok - $*"; pass=$((pass + 1)); }
nok() { echo "not ok - $*"; fail=$((fail + 1)); }
skipped() { echo "ok - $1 # SKIP $2"; skip=$((skip + 1)); }
tap_finish() {
	[ -z "$result" ] || echo "passed=$pass failed=$fail skipped=$skip" >"$result"
	[ "$fail" = 0 ]
}
# tap_start_kernels NAME COVERED "$@": tap_start for a script that also
# takes --kernels LIST: $kernels is the series of COVERED that LIST (else
# $LRING_PKG_KERNELS, else all of COVERED) names.
tap_start_kernels() {
	local name=$1 covered=$2 want=${LRING_PKG_KERNELS:-$2} k
	shift 2
	while [ $# -gt 0 ]; do
		case $1 in
		--kernels) want=$2; shift 2 ;;
		--result) result=$2; shift 2 ;;
		*) die "unknown option $1" ;;
		esac
	done
	kernels=""
	for k in $want; do
		[[ " $covered " != *" $k "* ]] || kernels="$kernels $k"
	done
	work=$(mktemp -d "${TMPDIR:-/tmp}/lring-$name.XXXXXX")
	trap 'rm -rf "$work"' EXIT
}
tap_start() {
	local name=$1
	shift
	[ "${1:-}" != --result ] || result=$2
	work=$(mktemp -d "${TMPDIR:-/tmp}/lring-$name.XXXXXX")
	trap 'rm -rf "$work"' EXIT
}
