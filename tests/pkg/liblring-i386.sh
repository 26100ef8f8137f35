#!/usr/bin/env bash
# liblring for 32-bit x86 applications: it builds for i386 (Debian's
# i686-linux-gnu-gcc) with
# -Werror (as make vm-progs does for the compat32 group), and
# lring_counters() reads each 64-bit counter the kernel updates in one
# memory access, so a 32-bit reader never sees half of an update. The
# proof is in the machine code: one 8-byte load (fildll, movq or movsd) per
# counter. The check is first run on a twin that reads a counter with a
# plain 64-bit load, which i386 splits into two 32-bit loads: it must fail.
# Runs on the host, no VM. --result FILE writes "passed=N failed=N skipped=N".
#
# Usage: liblring-i386.sh [--result FILE]
set -euo pipefail

LRING_PROG=liblring-i386
# shellcheck source=tests/vm/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../vm/lib.sh"

# shellcheck source=tests/vm/tap.sh
. "$LRING_ROOT/tests/vm/tap.sh"
tap_start i386 "$@"


# whole_loads OBJECT FUNCTION: how many single 8-byte loads FUNCTION makes
whole_loads() {
	objdump -d --no-show-raw-insn "$1" |
		awk -v f="<$2>:" '$2 == f { on = 1; next } on && /^$/ { exit } on' |
		grep -cE '\s(fildll|movq|vmovq|movsd|vmovsd)\s+(0x[0-9a-f]+)?\(' || true
}

cat >"$work/twin.c" <<'C'
#include <stdint.h>
uint64_t twin_counter(const volatile uint64_t *c) { return *c; }
C
$(cross_cc i386) -O2 -c -o "$work/twin.o" "$work/twin.c"
n=$(whole_loads "$work/twin.o" twin_counter)
if [ "$n" = 0 ]; then
	ok "twin: a plain 64-bit load on i386 is not one access (the check can fail)"
else
	nok "twin: a plain 64-bit load was counted as one access ($n)"
fi

# Regression test: docs/reliability.md entry 32 (sign-compare errors only a
# 32-bit build shows).
if dir=$(vm_progs i386 2>"$work/build.log"); then
	ok "liblring and the test programs build for i386 (i686-linux-gnu-gcc -Werror, static)"
	n=$(whole_loads "$dir/obj/liblring/setup.o" lring_counters)
	if [ "$n" -ge 12 ]; then
		ok "lring_counters reads each of the 12 counters in one 8-byte load ($n)"
	else
		nok "lring_counters: $n single 8-byte loads for 12 counters"
	fi
else
	cat "$work/build.log"
	nok "liblring and the test programs build for i386"
fi
tap_finish
