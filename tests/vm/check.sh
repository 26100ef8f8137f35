#!/usr/bin/env bash
# The whole test suite: deps, build, unit tests, packaging, kernel style, then
# every VM test group on every test kernel. Ends with the line
# "N passed, N failed"; exits non-zero on any failure. This is what
# `make check` runs.
#
# Usage: check.sh [--kernels "6.1 6.12"] [--groups "smoke sim"] [--jobs N]
#                 [--all] [--no-build] [--no-unit] [--no-selftest]
#   --groups   group names (tests/kernel/groups/<name>.group); default: all
#   --all      every group on every kernel it is meant for: no tiers
#              (make check-all); without it the kernels in
#              LRING_CORE_KERNELS (lib.sh) run only the core groups
#   --jobs     VMs run at once (default $LRING_VM_JOBS or 1)
# The harness selftest (tests/vm/selftest.sh) runs too, on the first kernel,
# unless --groups narrows the run or --no-selftest is given.
set -euo pipefail

LRING_PROG=check
# shellcheck source=tests/vm/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
VMDIR=$LRING_ROOT/tests/vm

kernels="" groups="" build=1 unit=1 selftest=1 all=0 jobs=${LRING_VM_JOBS:-1}
while [ $# -gt 0 ]; do
	case $1 in
	--kernels) kernels=$2; shift 2 ;;
	--groups) groups=$2; shift 2 ;;
	--jobs) jobs=$2; shift 2 ;;
	--all) all=1; shift ;;
	--no-build) build=0; shift ;;
	--no-unit) unit=0; shift ;;
	--no-selftest) selftest=0; shift ;;
	*) die "unknown option $1" ;;
	esac
done
kernels=${kernels:-$LRING_SERIES_ALL}
[ -n "${kernels// /}" ] || kernels=$LRING_SERIES_ALL

t0=$(date +%s)
# results of this run (private: others may run checks in the same checkout)
mkdir -p "$LRING_BUILD/check"
res=$(mktemp -d "$LRING_BUILD/check/run.XXXXXX")
trap 'rm -rf "$res"' EXIT
pass=0 fail=0 skip=0 retried=0
lines=()

# add NAME FILE [SECONDS]: fold a "passed=N failed=N skipped=N" result file
# into the totals; the time a VM group took goes on its line, so the slow
# ones are known when the run must shrink (CI allows 90 minutes)
add() {
	local p=0 f=1 s=0 r=0
	if [ -f "$2" ]; then
		p=$(sed -n 's/.*passed=\([0-9]*\).*/\1/p' "$2")
		f=$(sed -n 's/.*failed=\([0-9]*\).*/\1/p' "$2")
		s=$(sed -n 's/.*skipped=\([0-9]*\).*/\1/p' "$2")
		r=$(sed -n 's/.*retried=\([0-9]*\).*/\1/p' "$2")
	fi
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s)) retried=$((retried + ${r:-0}))
	lines+=("$(printf '%-40s %4d passed %4d failed %4d skipped%s' "$1" "$p" "$f" "$s" \
		"${3:+ $(printf '%5d s' "$3")}")")
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
	[ "$retried" = 0 ] ||
		echo "($retried guests died before their tests started and were booted again)"
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
	echo "== unit tests, arm64 build under qemu-user"
	"$VMDIR/run-unit.sh" --arch arm64 --result "$res/unit-arm64" || true
	add "unit (arm64, qemu-user)" "$res/unit-arm64"
fi

if [ "$unit" = 1 ]; then
	echo "== doc snippets: tutorial, README, liblring.md (tests/docs/snippets.py)"
	python3 "$LRING_ROOT/tests/docs/snippets.py" --check --result "$res/snippets" || true
	add "doc snippets" "$res/snippets"
fi

if [ "$unit" = 1 ]; then
	echo "== wake-up protocol models (tests/models/check.sh)"
	"$LRING_ROOT/tests/models/check.sh" --result "$res/models" || true
	add "Spin models" "$res/models"
fi

if [ "$unit" = 1 ]; then
	echo "== sanitizers (tests/sanitizers/run.sh)"
	"$LRING_ROOT/tests/sanitizers/run.sh" --result "$res/sanitizers" || true
	add "sanitizers (TSan, ASan+UBSan)" "$res/sanitizers"
fi

# Packaging on the host: tests/pkg/*.sh (make install + pkg-config, dkms
# build against the Debian test kernels' headers, the Python binding).
if [ "$unit" = 1 ]; then
	for t in "$LRING_ROOT"/tests/pkg/*.sh; do
		[ -x "$t" ] || continue
		n=$(basename "$t" .sh)
		echo "== packaging: $n"
		LRING_PKG_KERNELS="$kernels" "$t" --result "$res/pkg-$n" || true
		add "pkg $n" "$res/pkg-$n"
	done
fi

# Kernel style: checkpatch, sparse on the stock kernels, kernel-doc.
if [ "$unit" = 1 ]; then
	echo "== kernel style (tests/style/kernel-style.sh)"
	"$LRING_ROOT/tests/style/kernel-style.sh" --kernels "$(stock_series "$kernels")" \
		--result "$res/style" || true
	add "kernel style" "$res/style"
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
	if debian_series "$k"; then
		echo "kernel $k: Debian package $KVER ($KREL)"
	else
		echo "kernel $k: $KVER ($KREL)"
	fi
	if [ -f "${LRING_KSRC:-$LRING_ROOT}/Kbuild" ]; then
		if ! "$VMDIR/build-kmod.sh" "$KDIR" >/dev/null 2>"$res/kmod-$k.log"; then
			cat "$res/kmod-$k.log"
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
		# an opt-in kernel runs only the groups that name it
		also=$(sed -n 's/^#[[:space:]]*also-kernels:[[:space:]]*//p' "$f" | head -n 1)
		if [ -z "$only" ] && opt_in "$k" &&
			[[ " $also " != *" $k "* ]]; then
			continue
		fi
		# the lower tier: core groups only, unless --all or named by --groups
		if [ "$all" = 0 ] && [ -z "${groups// /}" ] && core_only "$k" "$(basename "$f" .group)"; then
			continue
		fi
		jobs_k+=("$k") jobs_g+=("$f")
	done
done

# Run the queued VMs, $jobs at a time. With one job the console streams live;
# with more, each VM's console goes to its log and its output is shown when it
# ends (all of it if it failed). run-vm is started directly (no subshell), so
# on_signal's TERM reaches it and it stops its QEMU.
declare -A running=()
# took OUT: the seconds since OUT.start, into OUT.secs (for the summary)
took() { echo $(($(date +%s) - $(cat "$1.start"))) >"$1.secs"; }
out_of() { echo "$res/${jobs_k[$1]}-$(basename "${jobs_g[$1]}" .group)"; }
reap() {
	local pid i o
	for pid in "${!running[@]}"; do
		kill -0 "$pid" 2>/dev/null && continue
		wait "$pid" || true
		i=${running[$pid]}
		unset "running[$pid]"
		o=$(out_of "$i")
		took "$o"
		if grep -q 'failed=0' "$o" 2>/dev/null; then tail -n 1 "$o.out"; else cat "$o.out"; fi
	done
}
for i in "${!jobs_k[@]}"; do
	o=$(out_of "$i")
	if [ "$jobs" -gt 1 ]; then
		while [ "${#running[@]}" -ge "$jobs" ]; do
			wait -n || true
			reap
		done
		date +%s >"$o.start"
		"$VMDIR/run-vm" --kernel "${jobs_k[$i]}" --group "${jobs_g[$i]}" --result "$o" \
			--quiet >"$o.out" 2>&1 &
		pids+=($!)
		running[$!]=$i
	else
		echo "== group $(basename "${jobs_g[$i]}" .group) on kernel ${jobs_k[$i]}"
		date +%s >"$o.start"
		"$VMDIR/run-vm" --kernel "${jobs_k[$i]}" --group "${jobs_g[$i]}" --result "$o" || true
		took "$o"
	fi
done
while [ "${#running[@]}" -gt 0 ]; do
	wait -n || true
	reap
done
wait
for i in "${!jobs_k[@]}"; do
	name=$(basename "${jobs_g[$i]}" .group)
	o=$(out_of "$i")
	add "vm ${jobs_k[$i]} $name" "$o" "$(cat "$o.secs" 2>/dev/null || true)"
done

if [ "$selftest" = 1 ] && [ -z "${groups// /}" ]; then
	k=${kernels%% *}
	echo "== harness selftest on kernel $k"
	# the KCSAN twin when the kcsan kernel is in the run
	kcsan_arg=()
	[[ " $kernels " != *" kcsan "* ]] || kcsan_arg=(--kcsan)
	"$VMDIR/selftest.sh" --kernel "$k" ${kcsan_arg[@]+"${kcsan_arg[@]}"} --result "$res/selftest" || true
	add "harness selftest ($k)" "$res/selftest"
fi

summary
