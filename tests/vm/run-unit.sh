#!/usr/bin/env bash
# Run every Criterion unit test binary in build/tests/unit and total the results
# from Criterion's "Synthesis: Tested: N | Passing: N | Failing: N | Crashing: N".
#
# Usage: run-unit.sh [--arch ARCH] [--result FILE]
#   --arch ARCH   build the unit tests for ARCH (arm64) against Debian's
#                 ARCH Criterion and run them under qemu-user, so liblring's
#                 fast path runs as compiled for that CPU (acquire/release as
#                 LDAR/STLR on arm64). Not armhf: Debian 12 builds no
#                 Criterion for it.
#   --result FILE FILE gets "passed=N failed=N skipped=N"
# A binary that exits non-zero without reporting a failure, prints no synthesis
# line or runs longer than LRING_UNIT_TIMEOUT (default 300 s) counts as one failure.
#
# Criterion runs each test in a fresh exec of its own binary, so qemu-user
# alone is not enough: the kernel must know to hand a foreign binary to
# qemu, which is binfmt_misc's job. If the machine has no qemu handler for
# ARCH registered, the tests run in a private user and mount namespace with
# their own binfmt_misc instance (Linux 6.7 and later), registered there: the
# machine's binfmt_misc is never touched. Where neither is possible they are
# reported as skipped, with the reason.
set -euo pipefail

LRING_PROG=unit
# shellcheck source=tests/vm/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

args=("$@")
arch="" result=""
while [ $# -gt 0 ]; do
	case $1 in
	--arch) arch=$2; shift 2 ;;
	--result) result=$2; shift 2 ;;
	*) die "usage: run-unit.sh [--arch ARCH] [--result FILE]" ;;
	esac
done
[ "$arch" != "$(dpkg --print-architecture)" ] || arch=""

skip_all() {
	echo "unit: skipped: $*"
	[ -z "$result" ] || echo "passed=0 failed=0 skipped=1" >"$result"
	exit 0
}

dir=$LRING_BUILD
filter=() skipped=0
if [ -n "$arch" ]; then
	# qemu's name for the CPU and the ELF header binfmt_misc matches
	# (class, data, version, type EXEC or DYN, machine)
	case $arch in
	arm64)
		qarch=aarch64
		magic='\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00'
		;;
	*) die "no qemu-user setup known for $arch" ;;
	esac
	mask='\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff'
	qemu=/usr/bin/qemu-$qarch-static
	[ -x "$qemu" ] || die "$qemu is missing: run make deps (qemu-user-static)"
	{ read -r dir; read -r libs; } < <(unit_progs "$arch")
	[ -n "${libs:-}" ] || die "cross build of the unit tests for $arch failed"
	export QEMU_LD_PREFIX=$libs
	if [ -n "${LRING_UNIT_PRIVATE_BINFMT:-}" ]; then
		mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc 2>/dev/null ||
			skip_all "this kernel ($(uname -r)) has no binfmt_misc per user namespace (Linux 6.7+) and no qemu-$qarch handler is registered"
		printf ':qemu-%s:M::%s:%s:%s:F' "$qarch" "$magic" "$mask" "$qemu" \
			>/proc/sys/fs/binfmt_misc/register
	elif ! "$dir/tests/unit/layout" --version >/dev/null 2>&1; then
		unshare --user --map-root-user --mount true 2>/dev/null ||
			skip_all "no qemu-$qarch binfmt_misc handler and no user namespaces to register one privately"
		LRING_UNIT_PRIVATE_BINFMT=1 exec unshare --user --map-root-user --mount "$0" "${args[@]}"
	fi
	echo "unit: $arch binaries under $(basename "$qemu") ($("$qemu" --version | head -n 1))"
	# qemu-user answers an ioctl it has no translation for with ENOSYS
	# itself: the kernel never sees it, so what this test checks (the
	# kernel's ENOTTY) cannot happen there.
	notrun=setup/ioctls_on_something_else_fail_with_enotty
	echo "unit: skipped: $notrun (qemu-user does not pass unknown ioctls to the kernel)"
	filter=("--filter=!($notrun)")
	skipped=1
fi

pass=0
fail=0
n=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for t in "$dir"/tests/unit/*; do
	[ -f "$t" ] && [ -x "$t" ] || continue
	n=$((n + 1))
	echo "unit: ${arch:+$arch/}$(basename "$t")"
	set +e
	timeout -k 5 "${LRING_UNIT_TIMEOUT:-300}" "$t" ${filter[@]+"${filter[@]}"} 2>&1 | tee "$out"
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
[ "$n" -gt 0 ] || echo "unit: no unit test binaries in $dir/tests/unit"
echo "unit: ${arch:+$arch: }$pass passed, $fail failed"
[ -z "$result" ] || echo "passed=$pass failed=$fail skipped=$skipped" >"$result"
[ "$fail" = 0 ]
