#!/usr/bin/env bash
# How often does a guest die while it boots, before any lring module is
# loaded? (Issue 13, item 18: an "Oops: int3" 2.2 s into a 6.12 boot under
# multi-threaded TCG.) Boots each kernel N times, JOBS at a time, with a
# group that loads and unloads lring, and counts the boots run-vm had to
# repeat (retried=1: the guest died before its first command) and the runs
# that failed. Not part of `make check`: it measures the emulator.
#
# Usage: boot-flake.sh [--boots N] [--jobs J] [--out DIR] KERNEL...
set -euo pipefail

LRING_PROG=boot-flake
# shellcheck source=tests/vm/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
VMDIR=$LRING_ROOT/tests/vm

boots=200 jobs=2 out=$LRING_BUILD/boot-flake
while [ $# -gt 0 ]; do
	case $1 in
	--boots) boots=$2; shift 2 ;;
	--jobs) jobs=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	-*) die "unknown option $1" ;;
	*) break ;;
	esac
done
[ $# -gt 0 ] || die "usage: boot-flake.sh [--boots N] [--jobs J] [--out DIR] KERNEL..."
mkdir -p "$out"
cat >"$out/boot.group" <<'GROUP'
# timeout: 120
insmod $LRING_MODULES/lring.ko && rmmod lring
GROUP

one() { # KERNEL I
	"$VMDIR/run-vm" --kernel "$1" --group "$out/boot.group" --quiet \
		--log "$out/$1-$2.log" --result "$out/$1-$2.res" >/dev/null 2>&1 || true
}
for k in "$@"; do
	rm -f "$out/$k"-*
	for i in $(seq 1 "$boots"); do
		one "$k" "$i" &
		while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
	done
	wait
	retried=$(cat "$out/$k"-*.res 2>/dev/null | grep -c 'retried=1' || true)
	failed=$(cat "$out/$k"-*.res 2>/dev/null | grep -vc 'failed=0 ' || true)
	missing=$((boots - $(find "$out" -name "$k-*.res" | wc -l)))
	echo "$k: $boots runs, $retried guests died before their tests (booted again), $failed runs failed, $missing without a result"
done
