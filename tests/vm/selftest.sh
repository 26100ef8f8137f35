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
#   - the guest's KCSAN filter keeps lring's races and sets the core's aside
#   - with --kcsan: a data race in a module fails a group on the kcsan kernel
# Usage: selftest.sh [--kernel SERIES] [--kcsan] [--result FILE]
set -euo pipefail

LRING_PROG=selftest
# shellcheck source=tests/vm/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
VMDIR=$LRING_ROOT/tests/vm

kernel=6.1 result="" kcsan=0
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) kernel=$2; shift 2 ;;
	--kcsan) kcsan=1; shift ;;
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

# throwaway_module NAME: builds lring_selftest_NAME.ko from the C source on
# stdin against $KDIR, in a tree of its own; prints the directory of the
# .ko (the build log is $tmp/NAME-kmod.log)
throwaway_module() {
	local src=$tmp/$1-src out
	mkdir -p "$src/kernel" "$src/uapi"
	echo 'obj-m += kernel/' >"$src/Kbuild"
	echo "obj-m += lring_selftest_$1.o" >"$src/kernel/Kbuild"
	cat >"$src/kernel/lring_selftest_$1.c"
	out=$(LRING_KSRC=$src LRING_BUILD=$tmp/$1-build "$VMDIR/build-kmod.sh" "$KDIR" \
		2>"$tmp/$1-kmod.log") || return 1
	echo "$out/kernel"
}

# A module that warns when loaded with warn=1.
mods=$(throwaway_module warn <<'EOF'
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
) || { cat "$tmp/warn-kmod.log" >&2; die "cannot build the selftest module"; }

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
# Regression test: docs/reliability.md entry 27.
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
# (The last is the broken twin of docs/reliability.md entry 24's check.)
mkdir -p "$tmp/bad"
cp -r "$LRING_ROOT/Kbuild" "$LRING_ROOT/.checkpatch.conf" "$LRING_ROOT/kernel" \
	"$LRING_ROOT/uapi" "$tmp/bad/"
mkdir -p "$tmp/bad/examples"
cp -r "$LRING_ROOT/examples/driver-template" "$tmp/bad/examples/"
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

# The guest's KCSAN filter (tests/vm/kcsan-filter.awk) on two canned
# reports: a race between two core-kernel functions is set aside, one
# whose racing access is in an lring module stays in the log and fails it.
kcsan_report() {
	cat <<EOF
[   41.671054] ==================================================================
[   41.672242] BUG: KCSAN: data-race in $1 / $2
[   41.673071]
[   41.673290] write to 0xffa00000001abdf0 of 8 bytes by interrupt on cpu 1:
[   41.674823]  $1+0x2d/0x50$3
[   41.675251]  __hrtimer_run_queues+0xe1/0x550
[   41.687643]
[   41.688621] read to 0xffa00000001abdf0 of 8 bytes by task 83 on cpu 1:
[   41.688827]  $2+0x18f/0x2b0
[   41.689322]  lring_sim_thread+0x1ec/0x330 [lring_sim]
[   41.690000]
[   41.690100] Reported by Kernel Concurrency Sanitizer on:
[   41.690200] ==================================================================
[   41.690300] after the report
EOF
}
kcsan_report hrtimer_wakeup schedule_hrtimeout_range_clock "" >"$tmp/kcsan-core.log"
kcsan_report lring_sim_tick schedule_hrtimeout_range_clock " [lring_sim]" >"$tmp/kcsan-lring.log"
for k in core lring; do
	rm -f "$tmp/kcsan-$k.foreign"
	awk -v foreign="$tmp/kcsan-$k.foreign" -f "$VMDIR/kcsan-filter.awk" \
		"$tmp/kcsan-$k.log" >"$tmp/kcsan-$k.out"
done
check "KCSAN filter sets a core-kernel race aside" \
	eval '! grep -q "BUG: KCSAN" "$tmp/kcsan-core.out" && grep -q "BUG: KCSAN" "$tmp/kcsan-core.foreign"'
check "KCSAN filter keeps a race in an lring module (it fails the group)" \
	eval 'grep -q "BUG: KCSAN" "$tmp/kcsan-lring.out" && [ ! -e "$tmp/kcsan-lring.foreign" ]'
check "KCSAN filter keeps the rest of the log" grep -q "after the report" "$tmp/kcsan-core.out"

# KCSAN's twin: a throwaway module whose two threads increment a plain
# counter must fail its group on the kcsan kernel (its report names the
# module, so the guest's filter counts it as lring's).
if [ "$kcsan" = 1 ]; then
	eval "$("$VMDIR/kernel.sh" env kcsan)"
	if racemods=$(throwaway_module race <<'EOF'
// SPDX-License-Identifier: GPL-2.0
#include <linux/completion.h>
#include <linux/kthread.h>
#include <linux/module.h>
static unsigned long racy;
static DECLARE_COMPLETION(done);
static int bump(void *arg)
{
	unsigned long i;

	/* barrier(): one plain load and store per round, not one add */
	for (i = 0; i < 2000000; i++) {
		racy++;
		barrier();
	}
	complete(&done);
	return 0;
}
static int __init selftest_init(void)
{
	kthread_run(bump, NULL, "race1");
	kthread_run(bump, NULL, "race2");
	wait_for_completion(&done);
	wait_for_completion(&done);
	return 0;
}
static void __exit selftest_exit(void)
{
}
module_init(selftest_init);
module_exit(selftest_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("lring harness selftest: a data race for KCSAN");
EOF
	); then
		printf '# timeout: 300\ninsmod /lring/modules/lring_selftest_race.ko\n' >"$tmp/race.group"
		set +e
		LRING_BUILD=$tmp/race-build "$VMDIR/run-vm" --kernel kcsan --modules "$racemods" \
			--quiet --group "$tmp/race.group" --log "$tmp/race.log" >"$tmp/race.out" 2>&1
		echo $? >"$tmp/race.rc"
		set -e
	else
		echo 1 >"$tmp/race.rc"
		: >"$tmp/race.log"
	fi
	check "a data race in a module fails the group on the kcsan kernel" \
		eval 'test "$(rc race)" != 0 && inlog race "^not ok - dmesg clean" && inlog race "BUG: KCSAN: data-race in bump"'
fi

echo "selftest: $pass passed, $fail failed"
[ -z "$result" ] || echo "passed=$pass failed=$fail skipped=0" >"$result"
if [ "$fail" != 0 ]; then
	for f in "$tmp"/*.out; do
		echo "--- $(basename "$f")"
		tail -n 20 "$f"
	done
	exit 1
fi
