#!/usr/bin/env bash
# liblring's ring indices on a weakly ordered CPU: built for arm64, every
# index the other side wrote is read with a load-acquire (LDAR, or LDAPR
# where the CPU has RCpc), every index this side publishes is written with
# a store-release (STLR), and the only full barrier (DMB ISH) is the one
# lring_fill_submit() needs before it tests NEED_WAKEUP. No function pays a
# DMB for a plain acquire or release. The proof is in the machine code of
# the fast path as an application compiles it (the header's static inline
# functions, -O2). The check first runs on two twins built from the same
# header, and must fail on each: one with every ordering turned into
# __ATOMIC_RELAXED, one with acquire and release done as relaxed accesses
# next to full barriers (what liblring did with liburcu's cmm_smp_mb()).
# Runs on the host, no VM. --result FILE writes "passed=N failed=N skipped=N".
#
# Usage: liblring-arm64.sh [--result FILE]
set -euo pipefail

LRING_PROG=liblring-arm64
# shellcheck source=tests/vm/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../vm/lib.sh"

# shellcheck source=tests/vm/tap.sh
. "$LRING_ROOT/tests/vm/tap.sh"
tap_start arm64 "$@"

cc=$(cross_cc arm64)
objdump=${cc%gcc}objdump

# One out-of-line copy of each fast-path step, as an application gets it.
cat >"$work/fastpath.c" <<'C'
#ifdef RELAXED_TWIN
#undef __ATOMIC_ACQUIRE
#undef __ATOMIC_RELEASE
#undef __ATOMIC_SEQ_CST
#define __ATOMIC_ACQUIRE __ATOMIC_RELAXED
#define __ATOMIC_RELEASE __ATOMIC_RELAXED
#define __ATOMIC_SEQ_CST __ATOMIC_RELAXED
#endif
#ifdef FENCED_TWIN
#define __atomic_load_n(p, o) ({ \
	__typeof__(*(p)) v_ = __atomic_load_n(p, __ATOMIC_RELAXED); \
	__atomic_thread_fence(__ATOMIC_SEQ_CST); v_; })
#define __atomic_store_n(p, v, o) do { \
	__atomic_thread_fence(__ATOMIC_SEQ_CST); \
	__atomic_store_n(p, v, __ATOMIC_RELAXED); } while (0)
#endif
#include <lring.h>

unsigned step_cq_ready(struct lring *r) { return lring_cq_ready(r); }
void step_release(struct lring *r) { lring_release(r, 1); }
uint32_t step_fill_free(struct lring *r) { return lring_fill_free(r, 1); }
int step_fill_submit(struct lring *r) { return lring_fill_submit(r, 1); }
C

# count OBJECT FUNCTION REGEX: instructions of FUNCTION matching REGEX
count() {
	"$objdump" -d --no-show-raw-insn "$1" |
		awk -v f="<$2>:" '$2 == f { on = 1; next } on && /^$/ { exit } on' |
		grep -cE "\s($3)\s" || true
}

# check OBJECT: one line per property that does not hold (none: all hold)
check() {
	local o=$1
	[ "$(count "$o" step_cq_ready 'ldar|ldapr')" -ge 1 ] ||
		echo "lring_cq_ready: the producer index is not read with a load-acquire"
	[ "$(count "$o" step_fill_free 'ldar|ldapr')" -ge 1 ] ||
		echo "lring_fill_free: the fill consumer index is not read with a load-acquire"
	[ "$(count "$o" step_release stlr)" -ge 1 ] ||
		echo "lring_release: the consumer index is not published with a store-release"
	[ "$(count "$o" step_fill_submit stlr)" -ge 1 ] ||
		echo "lring_fill_submit: the fill producer is not published with a store-release"
	[ "$(count "$o" step_fill_submit dmb)" -ge 1 ] ||
		echo "lring_fill_submit: no full barrier before testing NEED_WAKEUP"
	local f
	for f in step_cq_ready step_fill_free step_release; do
		[ "$(count "$o" $f dmb)" = 0 ] || echo "${f#step_}: a DMB where acquire/release suffices"
	done
}

build() {
	"$cc" -std=c11 -O2 -Wall -Werror -I"$LRING_ROOT/uapi" -I"$LRING_ROOT/liblring/include" \
		"$@" -c -o "$work/fastpath.o" "$work/fastpath.c" 2>"$work/cc.log"
}

# twin NAME MACRO PATTERN N: the MACRO build must show N faults matching PATTERN
twin() {
	local bad
	if build "-D$2" -Wno-builtin-macro-redefined; then
		bad=$(check "$work/fastpath.o" | grep -c "$3" || true)
		if [ "$bad" -ge "$4" ]; then
			ok "twin: $1: the check finds $bad faults (it can fail)"
		else
			nok "twin: $1: went unnoticed ($bad of $4 faults found)"
		fi
	else
		cat "$work/cc.log"
		nok "twin: $1: the fast path compiles"
	fi
}
twin "relaxed orderings" RELAXED_TWIN 'not\|no full' 5
twin "full barriers instead of acquire/release" FENCED_TWIN 'a DMB where' 3

if build; then
	ok "the fast path builds for arm64 ($cc -O2 -Werror)"
	bad=$(check "$work/fastpath.o")
	if [ -z "$bad" ]; then
		ok "indices read with LDAR, published with STLR, one DMB ISH (before the NEED_WAKEUP test)"
	else
		nok "the arm64 fast path's ordering: $bad"
		"$objdump" -d --no-show-raw-insn "$work/fastpath.o"
	fi
else
	cat "$work/cc.log"
	nok "the fast path builds for arm64"
fi
tap_finish
