#!/usr/bin/env bash
# liblring on the host under the compilers' sanitizers, each with a broken
# twin it must catch:
#
#   ThreadSanitizer   race.c: the fake kernel producing on one thread, a
#                     liblring consumer on another (busy-poll, then
#                     eventfd), both on one mapping so TSan can compare
#                     their accesses. No report allowed. Twin: the fake
#                     kernel publishes completions with a relaxed store
#                     (FK_TWIN_RELAXED_PUBLISH): TSan must report the race
#                     on the entries and the data.
#   ASan + UBSan      every Criterion unit test, rebuilt into build/asan
#                     with -fsanitize=address,undefined (no recovery). Twin:
#                     a Criterion test reading past a liblring allocation
#                     must be counted as failed.
#
# TSan cannot check the full barriers (lring_smp_mb(), a fence: GCC's TSan
# ignores fences, hence -Wno-tsan); the Promela models of the wake-up
# protocols do (docs/reliability.md). Runs on the host, no VM.
#
# Usage: run.sh [--result FILE]   FILE gets "passed=N failed=N skipped=N"
set -euo pipefail

LRING_PROG=sanitizers
# shellcheck source=tests/vm/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../vm/lib.sh"

# shellcheck source=tests/vm/tap.sh
. "$LRING_ROOT/tests/vm/tap.sh"
tap_start sanitizers "$@"

cd "$LRING_ROOT"
tsan=(-O1 -g -std=c11 -Wall -Wextra -Werror -Wno-tsan -fsanitize=thread)
# shellcheck disable=SC2054 # one option, its value has a comma
asan=(-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all)

# race BINARY: run it, its output in $work/race.log; prints the exit status
race() {
	set +e
	timeout -k 5 300 "$1" 100000 >"$work/race.log" 2>&1
	echo $?
	set -e
}

build_race() {
	gcc "${tsan[@]}" "$@" -Iuapi -Iliblring/include -Itests/unit \
		-o "$work/race" tests/sanitizers/race.c liblring/src/*.c -lpthread 2>"$work/cc.log"
}

if build_race -DFK_TWIN_RELAXED_PUBLISH; then
	rc=$(race "$work/race")
	races=$(grep -c 'WARNING: ThreadSanitizer: data race' "$work/race.log" || true)
	if [ "$rc" != 0 ] && [ "$races" -gt 0 ]; then
		ok "tsan twin: a relaxed completion publish is reported ($races races, exit $rc)"
	else
		nok "tsan twin: a relaxed completion publish went unnoticed (exit $rc)"
	fi
else
	cat "$work/cc.log"
	nok "tsan twin builds"
fi

if build_race; then
	rc=$(race "$work/race")
	if [ "$rc" = 0 ] && ! grep -q ThreadSanitizer "$work/race.log"; then
		ok "tsan: $(grep -c 'blocks intact' "$work/race.log") threaded streams, no race"
	else
		cat "$work/race.log"
		nok "tsan: threaded streams (exit $rc)"
	fi
else
	cat "$work/cc.log"
	nok "tsan: race.c builds"
fi

# The unit tests under ASan and UBSan, counted like `make unit`.
if make -s B="$LRING_BUILD/asan" SANITIZE="${asan[*]}" unit-progs >"$work/make.log" 2>&1; then
	if LRING_BUILD=$LRING_BUILD/asan "$LRING_ROOT/tests/vm/run-unit.sh" \
		--result "$work/unit" >"$work/unit.log" 2>&1; then
		ok "asan+ubsan: unit tests: $(tail -n 1 "$work/unit.log" | sed 's/^unit: //')"
	else
		grep -aE 'not ok|ERROR|runtime error|Synthesis' "$work/unit.log" || true
		nok "asan+ubsan: unit tests: $(tail -n 1 "$work/unit.log" | sed 's/^unit: //')"
	fi
else
	cat "$work/make.log"
	nok "asan+ubsan: unit tests build"
fi

mkdir -p "$work/twin/tests/unit"
cat >"$work/twin.c" <<'C'
#include <criterion/criterion.h>
#include <stdint.h>
#include <lring.h>

/* One byte past the handle liblring allocated: ASan must stop it. */
Test(twin, reads_past_the_handle)
{
	struct lring *r;

	cr_assert_eq(lring_open_fd(0, &r), 0);
	cr_assert_neq(((volatile uint8_t *)r)[sizeof(*r)], 0x5a);
	lring_close(r);
}
C
if gcc "${asan[@]}" -Iuapi -Iliblring/include -o "$work/twin/tests/unit/twin" "$work/twin.c" \
	"$LRING_BUILD/asan/lib/liblring.a" -lcriterion 2>"$work/cc.log"; then
	if LRING_BUILD=$work/twin "$LRING_ROOT/tests/vm/run-unit.sh" >"$work/twin.log" 2>&1; then
		nok "asan twin: a read past liblring's allocation went unnoticed"
	else
		ok "asan twin: a read past liblring's allocation fails the run ($(tail -n 1 "$work/twin.log" | sed 's/^unit: //'))"
	fi
else
	cat "$work/cc.log"
	nok "asan twin builds"
fi
tap_finish
