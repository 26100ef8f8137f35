#!/usr/bin/env bash
# This liblring against lring modules of other versions, on the real kernel:
# the module is built twice more (kernel/lring_internal.h, LRING_ABI_TEST_*)
# to look like a later version (larger completion entries, a feature bit
# nobody knows yet) and like an earlier one (no LRING_IOC_WAIT), each in a
# build directory of its own, and `versions_test later` / `earlier` run
# against them in the VM. The module as shipped is tested by the sim group
# (`versions_test sized_args`). Kernels: 6.1 and 6.12 among
# $LRING_PKG_KERNELS. Prints TAP lines and, with --result FILE, writes
# "passed=N failed=N skipped=N" there for check.sh.
#
# Usage: abi-compat.sh [--kernels "6.1"] [--result FILE]
set -euo pipefail

LRING_PROG=abi-compat
# shellcheck source=tests/vm/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../vm/lib.sh"

# shellcheck source=tests/vm/tap.sh
. "$LRING_ROOT/tests/vm/tap.sh"
tap_start_kernels abi "6.1 6.12" "$@"

for k in $kernels; do
	if ! env=$("$LRING_ROOT/tests/vm/kernel.sh" env "$k"); then
		nok "abi-compat on $k: cannot fetch the kernel"
		continue
	fi
	eval "$env"
	for version in later earlier; do
		case $version in
		later) flag=-DLRING_ABI_TEST_NEWER ;;
		earlier) flag=-DLRING_ABI_TEST_OLDER ;;
		esac
		build=$work/build-$version
		if ! LRING_BUILD=$build "$LRING_ROOT/tests/vm/build-kmod.sh" "$KDIR" \
			KCFLAGS="$flag" >/dev/null 2>"$work/kmod-$version-$k.log"; then
			tail -n 20 "$work/kmod-$version-$k.log"
			nok "the module builds as the $version version would look, for $KREL"
			continue
		fi
		ok "the module builds as the $version version would look, for $KREL"
		vlog=$work/vm-$version-$k.log
		guest='insmod $LRING_MODULES/lring.ko && insmod $LRING_MODULES/lring_sim.ko nr_rings=1 &&
versions_test '$version' && echo abi-compat-passed'
		"$LRING_ROOT/tests/vm/run-vm" --kernel "$k" --modules "$build/kmod/$KREL/kernel" \
			--timeout 300 --log "$vlog" --quiet -- sh -c "$guest" >/dev/null 2>&1 || true
		grep -a -E '^(not )?ok - ' "$vlog" | sed "s/ - / - $KREL: /" || true
		pass=$((pass + $(grep -a -c '^ok - ' "$vlog" || true)))
		fail=$((fail + $(grep -a -c '^not ok - ' "$vlog" || true)))
		if grep -aq '^abi-compat-passed' "$vlog" &&
			! grep -aqE 'BUG|WARNING:|Oops|Call Trace' "$vlog"; then
			ok "versions_test $version passed on $KREL, no kernel warning"
		else
			grep -a -E 'lring|Oops|BUG|WARNING' "$vlog" | tail -n 20 || true
			nok "versions_test $version passed on $KREL, no kernel warning"
		fi
	done
done
tap_finish
