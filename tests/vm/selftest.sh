#!/usr/bin/env bash
# Prove the VM harness reports failures: boots a few deliberately broken runs
# from a temporary directory and checks what run-vm says about them.
#   - a group with a "not ok" line and a failing command fails
#   - a kernel WARN (from a throwaway module built here) fails "dmesg clean"
#   - a hung guest is killed at the group timeout and reported
#   - a guest dead before its first command is booted once more, one that
#     dies in a test is not
#   - run-vm -- CMD returns the command's exit status
#   - a clean group passes
#   - the kernel style check fails a tree with one defect of each kind
# Usage: selftest.sh [--kernel SERIES] [--result FILE]
set -euo pipefail

LRING_PROG=selftest
# shellcheck source=tests/vm/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
VMDIR=$LRING_ROOT/tests/vm

kernel=6.1 result=""
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) kernel=$2; shift 2 ;;
	--result) result=$2; shift 2 ;;
	*) die "unknown option $1" ;;
	esac
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/lring-selftest.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
check() {
	local name=$1
	shift
	if "$@"; then
		echo "ok - selftest: $name"
		pass=$((pass + 1))
	else
		echo "not ok - selftest: $name"
		fail=$((fail + 1))
	fi
}

eval "$("$VMDIR/kernel.sh" env "$kernel")"

# A module that warns when loaded with warn=1.
mkdir -p "$tmp/src/kernel" "$tmp/src/uapi"
echo 'obj-m += kernel/' >"$tmp/src/Kbuild"
echo 'obj-m += lring_selftest_warn.o' >"$tmp/src/kernel/Kbuild"
cat >"$tmp/src/kernel/lring_selftest_warn.c" <<'EOF'
// SPDX-License-Identifier: GPL-2.0
#include <linux/module.h>
static bool warn;
module_param(warn, bool, 0444);
static int __init selftest_init(void)
{
	WARN_ON(warn);
	return 0;
}
static void __exit selftest_exit(void)
{
}
module_init(selftest_init);
module_exit(selftest_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("lring harness selftest: WARN on demand");
EOF
mods=$(LRING_KSRC=$tmp/src LRING_BUILD=$tmp/build "$VMDIR/build-kmod.sh" "$KDIR" 2>"$tmp/kmod.log") ||
	{ cat "$tmp/kmod.log" >&2; die "cannot build the selftest module"; }
mods=$mods/kernel

# run NAME GROUP-TEXT [run-vm options]: boot, keep exit status, result and log
run() {
	local name=$1 text=$2
	shift 2
	printf '%s\n' "$text" >"$tmp/$name.group"
	set +e
	LRING_BUILD=$tmp/build "$VMDIR/run-vm" --kernel "$kernel" --modules "$mods" --quiet \
		--group "$tmp/$name.group" --log "$tmp/$name.log" --result "$tmp/$name.res" "$@" \
		>"$tmp/$name.out" 2>&1
	echo $? >"$tmp/$name.rc"
	set -e
}
rc() { cat "$tmp/$1.rc"; }
res() { cat "$tmp/$1.res" 2>/dev/null || true; }
inlog() { grep -q -- "$2" "$tmp/$1.log"; }

run failing '# timeout: 120
echo "ok - fine"; echo "not ok - deliberate failure"
false
true'
check "failing group exits non-zero" test "$(rc failing)" != 0
check "failing group counts 3 passed, 2 failed" test "$(res failing)" = "passed=3 failed=2 skipped=0 retried=0"

run warn '# timeout: 120
insmod /lring/modules/lring_selftest_warn.ko warn=1'
check "kernel WARN fails the run" test "$(rc warn)" != 0
check "kernel WARN is reported as 'not ok - dmesg clean'" inlog warn '^not ok - dmesg clean'
check "kernel WARN counts 1 passed, 1 failed" test "$(res warn)" = "passed=1 failed=1 skipped=0 retried=0"

run clean '# timeout: 120
insmod /lring/modules/lring_selftest_warn.ko && rmmod lring_selftest_warn
echo "ok - a # SKIP not here"'
check "clean group passes" test "$(rc clean)" = 0
check "clean group counts 2 passed, 1 skipped" test "$(res clean)" = "passed=2 failed=0 skipped=1 retried=0"

run hang '# timeout: 20
# cmd-timeout: 300
sleep 600'
check "hung guest fails the run" test "$(rc hang)" != 0
check "hung guest is reported as timed out" inlog hang 'timed out after 20s'
check "no QEMU left after the timeout" eval '! pgrep -f -- "$tmp/build/vm/" >/dev/null'

# A guest that dies before its first command (here: no init to run) is
# booted once more, then fails; one that dies after a command started (a
# deliberate panic) fails at once.
run noinit '# timeout: 60
true' --append rdinit=/lring-selftest-no-such-init
check "a guest dead before its tests fails the run" test "$(rc noinit)" != 0
check "a guest dead before its tests is booted again, once" \
	test "$(grep -c 'died before its tests started' "$tmp/noinit.log")" = 1
check "a guest dead before its tests counts as retried" eval 'res noinit | grep -q "retried=1$"'

run panic '# timeout: 60
echo c >/proc/sysrq-trigger'
check "a guest that panics in a test fails the run" test "$(rc panic)" != 0
check "a guest that panics in a test is not booted again" \
	eval '! inlog panic "died before its tests started" && res panic | grep -q "retried=0$"'

set +e
LRING_BUILD=$tmp/build "$VMDIR/run-vm" --kernel "$kernel" --modules "$mods" --quiet \
	--log "$tmp/exec.log" -- sh -c 'echo hello from the guest; exit 3' >"$tmp/exec.out" 2>&1
erc=$?
set -e
check "run-vm -- CMD returns the command's status" test "$erc" = 3
check "run-vm -- CMD output reaches the log" inlog exec '^hello from the guest'

# The kernel style check on a copy of the sources with one defect for each
# of its checks: trailing whitespace (checkpatch), a __user pointer
# dereferenced (sparse), a parameter the kernel-doc leaves out, an
# export with no kernel-doc at all, and a DMA-layer internal header.
mkdir -p "$tmp/bad"
cp -r "$LRING_ROOT/Kbuild" "$LRING_ROOT/.checkpatch.conf" "$LRING_ROOT/kernel" \
	"$LRING_ROOT/uapi" "$tmp/bad/"
cat >>"$tmp/bad/kernel/lring_ring.c" <<'EOF'

/**
 * lring_selftest_doc() - a parameter is missing here
 */
static int __maybe_unused lring_selftest_doc(int x)
{
	return x;
}

int lring_selftest_undocumented(const char __user *p);
int lring_selftest_undocumented(const char __user *p)
{
	return *p;
}
EXPORT_SYMBOL_GPL(lring_selftest_undocumented);
EOF
printf '/* trailing whitespace */ \n' >>"$tmp/bad/kernel/lring_ring.c"
sed -i '1a #include <linux/dma-map-ops.h>' "$tmp/bad/kernel/lring_alloc.c"
set +e
LRING_KSRC=$tmp/bad LRING_BUILD=$tmp/build "$LRING_ROOT/tests/style/kernel-style.sh" \
	--kernels "$kernel" --result "$tmp/style.res" >"$tmp/style.out" 2>&1
src=$?
set -e
check "kernel style fails a bad tree" test "$src" != 0
check "kernel style finds all 5 defects" test "$(cat "$tmp/style.res")" = "passed=0 failed=5 skipped=0"
check "kernel style names the undocumented export" \
	grep -q "not: lring_selftest_undocumented" "$tmp/style.out"

echo "selftest: $pass passed, $fail failed"
[ -z "$result" ] || echo "passed=$pass failed=$fail skipped=0" >"$result"
if [ "$fail" != 0 ]; then
	for f in "$tmp"/*.out; do
		echo "--- $(basename "$f")"
		tail -n 20 "$f"
	done
	exit 1
fi
