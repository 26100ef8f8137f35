#!/usr/bin/env bash
# The whole test suite: deps, build, unit tests, then every VM test group on
# every test kernel. Ends with the line "N passed, N failed"; exits non-zero on
# any failure. This is what `make check` runs.
#
# Usage: check.sh [--kernels "6.1 6.12"] [--groups "smoke sim"] [--jobs N]
#                 [--no-build] [--no-unit]
#   --groups   group names (tests/kernel/groups/<name>.group); default: all
#   --jobs     VMs run at once (default $LRING_VM_JOBS or 1)
set -euo pipefail

LRING_PROG=check
# shellcheck source=tests/vm/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
VMDIR=$LRING_ROOT/tests/vm

kernels="" groups="" build=1 unit=1 jobs=${LRING_VM_JOBS:-1}
while [ $# -gt 0 ]; do
	case $1 in
	--kernels) kernels=$2; shift 2 ;;
	--groups) groups=$2; shift 2 ;;
	--jobs) jobs=$2; shift 2 ;;
	--no-build) build=0; shift ;;
	--no-unit) unit=0; shift ;;
	*) die "unknown option $1" ;;
	esac
done
kernels=${kernels:-$LRING_SERIES_ALL}
[ -n "${kernels// /}" ] || kernels=$LRING_SERIES_ALL

t0=$(date +%s)
res=$LRING_BUILD/check
rm -rf "$res"
mkdir -p "$res"
pass=0 fail=0 skip=0
lines=()

# add NAME FILE: fold a "passed=N failed=N skipped=N" result file into the totals
add() {
	local p=0 f=1 s=0
	if [ -f "$2" ]; then
		p=$(sed -n 's/.*passed=\([0-9]*\).*/\1/p' "$2")
		f=$(sed -n 's/.*failed=\([0-9]*\).*/\1/p' "$2")
		s=$(sed -n 's/.*skipped=\([0-9]*\).*/\1/p' "$2")
	fi
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
	lines+=("$(printf '%-40s %4d passed %4d failed %4d skipped' "$1" "$p" "$f" "$s")")
}
# failed NAME WHY: one failure that is not a test result (build, fetch)
failed() {
	echo "not ok - $1: $2"
	echo "passed=0 failed=1 skipped=0" >"$res/$1.fail"
	add "$1 ($2)" "$res/$1.fail"
}

summary() {
	local l
	echo
	echo "== summary ($(($(date +%s) - t0))s)"
	for l in ${lines[@]+"${lines[@]}"}; do echo "  $l"; done
	[ "$skip" = 0 ] || echo "($skip skipped)"
	echo "$pass passed, $fail failed"
	[ "$fail" = 0 ]
}

# Stop running VMs if we are interrupted.
pids=()
on_signal() {
	local p
	for p in ${pids[@]+"${pids[@]}"}; do kill -TERM "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	exit 130
}
trap on_signal INT TERM

"$VMDIR/deps.sh"

if [ "$build" = 1 ]; then
	echo "== build"
	if ! make -C "$LRING_ROOT" -s userspace; then
		failed build "userspace build failed"
		summary
		exit 1
	fi
fi

if [ "$unit" = 1 ]; then
	echo "== unit tests"
	"$VMDIR/run-unit.sh" --result "$res/unit" || true
	add "unit" "$res/unit"
fi

# Which groups.
gfiles=()
if [ -n "${groups// /}" ]; then
	for g in $groups; do
		f=$LRING_ROOT/tests/kernel/groups/${g%.group}.group
		[ -f "$f" ] || die "no group '$g' ($f)"
		gfiles+=("$f")
	done
else
	for f in "$LRING_ROOT"/tests/kernel/groups/*.group; do
		[ -f "$f" ] && gfiles+=("$f")
	done
fi
[ ${#gfiles[@]} -gt 0 ] || log "no VM test groups in tests/kernel/groups"

# Kernels: fetch, build the modules, then queue the groups meant for them.
jobs_k=() jobs_g=()
for k in $kernels; do
	[ ${#gfiles[@]} -gt 0 ] || break
	echo "== kernel $k"
	if ! env=$("$VMDIR/kernel.sh" env "$k"); then
		failed "kernel-$k" "cannot fetch kernel $k"
		continue
	fi
	eval "$env"
	echo "kernel $k: Debian package $KVER ($KREL)"
	if [ -f "${LRING_KSRC:-$LRING_ROOT}/Kbuild" ]; then
		if ! "$VMDIR/build-kmod.sh" "$KDIR" >/dev/null; then
			failed "kmod-$KREL" "module build failed"
			continue
		fi
	else
		log "no Kbuild yet: testing kernel $k without lring modules"
	fi
	for f in "${gfiles[@]}"; do
		only=$(sed -n 's/^#[[:space:]]*kernels:[[:space:]]*//p' "$f" | head -n 1)
		if [ -n "$only" ] && [[ " $only " != *" $k "* ]]; then
			continue
		fi
		jobs_k+=("$k") jobs_g+=("$f")
	done
done

# Run the queued VMs, $jobs at a time. With one job the console streams live;
# with more, each VM's console goes to its log and failures print its tail.
run_one() {
	local k=$1 f=$2 name
	name=$(basename "$f" .group)
	if [ "$jobs" -gt 1 ]; then
		"$VMDIR/run-vm" --kernel "$k" --group "$f" --result "$res/$k-$name" --quiet \
			>"$res/$k-$name.out" 2>&1 || true
		if grep -q . "$res/$k-$name.out" && ! grep -q 'failed=0' "$res/$k-$name" 2>/dev/null; then
			cat "$res/$k-$name.out"
		else
			tail -n 1 "$res/$k-$name.out"
		fi
	else
		"$VMDIR/run-vm" --kernel "$k" --group "$f" --result "$res/$k-$name" || true
	fi
}
for i in "${!jobs_k[@]}"; do
	if [ "$jobs" -gt 1 ]; then
		while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
		run_one "${jobs_k[$i]}" "${jobs_g[$i]}" &
		pids+=($!)
	else
		echo "== group $(basename "${jobs_g[$i]}" .group) on kernel ${jobs_k[$i]}"
		run_one "${jobs_k[$i]}" "${jobs_g[$i]}"
	fi
done
wait
for i in "${!jobs_k[@]}"; do
	name=$(basename "${jobs_g[$i]}" .group)
	add "vm ${jobs_k[$i]} $name" "$res/${jobs_k[$i]}-$name"
done

summary
