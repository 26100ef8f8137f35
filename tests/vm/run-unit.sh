#!/usr/bin/env bash
# Run every Criterion unit test binary in build/tests/unit and total the results
# from Criterion's "Synthesis: Tested: N | Passing: N | Failing: N | Crashing: N".
#
# Usage: run-unit.sh [--result FILE]   FILE gets "passed=N failed=N skipped=0"
# A binary that exits non-zero without reporting a failure, prints no synthesis
# line or runs longer than LRING_UNIT_TIMEOUT (default 300 s) counts as one failure.
set -euo pipefail

LRING_PROG=unit
# shellcheck source=tests/vm/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

result=""
[ "${1:-}" != --result ] || result=$2
pass=0
fail=0
n=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for t in "$LRING_BUILD"/tests/unit/*; do
	[ -f "$t" ] && [ -x "$t" ] || continue
	n=$((n + 1))
	echo "unit: $(basename "$t")"
	set +e
	timeout -k 5 "${LRING_UNIT_TIMEOUT:-300}" "$t" 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
	set -e
	syn=$(sed 's/\x1b\[[0-9;]*m//g' "$out" | grep -a 'Synthesis: Tested:' | tail -n 1 || true)
	if [ -z "$syn" ]; then
		echo "not ok - $(basename "$t"): no Criterion synthesis (exit status $rc)"
		fail=$((fail + 1))
		continue
	fi
	p=$(sed -n 's/.*Passing: \([0-9]*\).*/\1/p' <<<"$syn")
	f=$(sed -n 's/.*Failing: \([0-9]*\).*/\1/p' <<<"$syn")
	c=$(sed -n 's/.*Crashing: \([0-9]*\).*/\1/p' <<<"$syn")
	pass=$((pass + p))
	fail=$((fail + f + c))
	if [ "$rc" != 0 ] && [ $((f + c)) = 0 ]; then
		echo "not ok - $(basename "$t"): exit status $rc"
		fail=$((fail + 1))
	fi
done
[ "$n" -gt 0 ] || echo "unit: no unit test binaries in $LRING_BUILD/tests/unit"
echo "unit: $pass passed, $fail failed"
[ -z "$result" ] || echo "passed=$pass failed=$fail skipped=0" >"$result"
[ "$fail" = 0 ]
