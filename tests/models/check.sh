#!/usr/bin/env bash
# Model-check the two wake-up protocols with Spin (tests/models/*.pml): each
# model must verify with no invalid end state (no lost wake-up, no
# deadlock), and each of its twins, the same model with one full barrier
# removed (-DNO_USER_MB, -DNO_KERNEL_MB), must fail: a check that cannot
# fail proves nothing. Runs on the host. --result FILE writes
# "passed=N failed=N skipped=N".
#
# Usage: check.sh [--result FILE]
set -euo pipefail

LRING_PROG=models
# shellcheck source=tests/vm/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../vm/lib.sh"

# shellcheck source=tests/vm/tap.sh
. "$LRING_ROOT/tests/vm/tap.sh"
tap_start models "$@"

command -v spin >/dev/null || die "spin is missing: run make deps"

# verify MODEL [DEFINE]: the number of errors Spin finds (exhaustive
# search, safety properties: assertions and invalid end states)
verify() {
	(
		cd "$work"
		rm -f pan pan.* ./*.trail
		spin -a ${2:+"$2"} "$1" >spin.log 2>&1 || { cat spin.log >&2; exit 1; }
		gcc -O2 -DSAFETY -o pan pan.c 2>>spin.log || { cat spin.log >&2; exit 1; }
		./pan -m100000 >pan.log 2>&1
		grep -q 'max search depth too small' pan.log && { cat pan.log >&2; exit 1; }
		sed -n 's/.*errors: \([0-9]*\).*/\1/p' pan.log | head -n 1
	)
}

for m in "$LRING_ROOT"/tests/models/*.pml; do
	name=$(basename "$m" .pml)
	n=$(verify "$m") || n=""
	if [ "$n" = 0 ]; then
		ok "$name: no lost wake-up or deadlock in any interleaving ($(sed -n 's/^ *\([0-9]*\) states, stored.*/\1/p' "$work/pan.log") states)"
	else
		nok "$name: Spin found ${n:-no verdict}"
	fi
	twins="NO_USER_MB NO_KERNEL_MB"
	# The eventfd model's third twin: the threshold test batches break.
	grep -q EQUAL_THRESHOLD "$m" && twins="$twins EQUAL_THRESHOLD"
	for twin in $twins; do
		n=$(verify "$m" "-D$twin") || n=""
		if [ -n "$n" ] && [ "$n" -gt 0 ]; then
			ok "$name twin $twin: the lost wake-up is found"
		else
			nok "$name twin $twin: Spin found ${n:-no verdict} errors without that barrier"
		fi
	done
done
tap_finish
