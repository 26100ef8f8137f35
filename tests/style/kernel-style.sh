#!/usr/bin/env bash
# The kernel side judged as a patch to the kernel would be: checkpatch.pl
# clean, sparse clean (make C=2) against each test kernel, kernel-doc with no
# warnings, a kernel-doc comment on every function another file calls, and
# no header of the DMA layer's internals.
# The W=1 module build itself (any warning fails it) runs before the VM
# groups.
#
# Usage: kernel-style.sh [--kernels "6.1 6.12"] [--result FILE]
# Prints TAP lines; --result FILE writes "passed=N failed=N skipped=N".
# LRING_KSRC checks another tree (the harness selftest gives it a bad one).
set -euo pipefail

LRING_PROG=kernel-style
# shellcheck source=tests/vm/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../vm/lib.sh"
VMDIR=$LRING_ROOT/tests/vm

result="" kernels=$LRING_SERIES_ALL
while [ $# -gt 0 ]; do
	case $1 in
	--result) result=$2; shift 2 ;;
	--kernels) kernels=$2; shift 2 ;;
	*) die "unknown option $1" ;;
	esac
done
# shellcheck source=tests/vm/tap.sh
. "$LRING_ROOT/tests/vm/tap.sh"
check() { # DESCRIPTION COMMAND...: ok if COMMAND succeeds
	local what=$1
	shift
	if "$@"; then ok "$what"; else nok "$what"; fi
}

cd "${LRING_KSRC:-$LRING_ROOT}"
nfiles=$(find kernel uapi examples/driver-template -name '*.[ch]' | wc -l)
if out=$("$VMDIR/checkpatch.sh" 2>&1); then
	ok "checkpatch.pl: $nfiles files in kernel/, uapi/ and the driver template clean"
else
	printf '%s\n' "$out" | sed 's/^/# /'
	nok "checkpatch.pl: $nfiles files in kernel/, uapi/ and the driver template clean"
fi

objdir=""
for k in $kernels; do
	if ! kdir=$("$VMDIR/kernel.sh" kdir "$k"); then
		nok "sparse on $k: no kernel build directory"
		continue
	fi
	# The objects stay even when warnings fail the build.
	objdir=${objdir:-$LRING_BUILD/kmod/$("$VMDIR/kernel.sh" krel "$kdir")/kernel}
	if out=$("$VMDIR/build-kmod.sh" "$kdir" C=2 CHECK=sparse 2>&1 >/dev/null); then
		ok "sparse on $k: the modules build with C=2 and not one warning"
	else
		printf '%s\n' "$out" | grep -E 'warning|error' | sed 's/^/# /'
		nok "sparse on $k: the modules build with C=2 and not one warning"
	fi
done

# Only the DMA API drivers are meant to use: these headers are the DMA
# layer's own (dma-map-ops.h answers "is this device coherent", which a
# driver must leave to the DMA API's mapping and sync calls).
# Regression test: docs/reliability.md entry 24.
internal=$(grep -nE '#include <linux/(dma-map-ops|dma-direct|swiotlb)\.h>' \
	$(find kernel examples/driver-template -name '*.[ch]' | LC_ALL=C sort) || true)
[ -z "$internal" ] || printf '%s\n' "$internal" | sed 's/^/# /'
check "DMA API: no DMA-layer internal header in kernel/ or the driver template" test -z "$internal"

kdoc=$(dirname "$("$VMDIR/kernel.sh" checkpatch)")/kernel-doc
mapfile -t ksrc < <(find kernel -name '*.[ch]' | LC_ALL=C sort)
warnings=$(perl "$kdoc" -none "${ksrc[@]}" 2>&1 || true)
[ -z "$warnings" ] || printf '%s\n' "$warnings" | sed 's/^/# /'
check "kernel-doc: no warnings in kernel/" test -z "$warnings"

# "Every function another file calls": the modules' global functions. The
# core's parts are linked into lring.o, so its parts are listed one by one.
exported=$(sed -n 's/^EXPORT_SYMBOL\(_GPL\)\?(\([a-z0-9_]*\));/\2/p' kernel/*.c | wc -l)
globals=$(for o in "${objdir:-/nonexistent}"/*.o; do
	case $o in */lring.o | *.mod.o) continue ;; esac
	[ -f "$o" ] && nm --defined-only "$o" | awk '$2 == "T" && $3 ~ /^lring_/ { print $3 }'
done | LC_ALL=C sort -u)
documented=$(perl "$kdoc" -rst kernel/*.c 2>/dev/null |
	sed -n 's/^\.\. c:function:: .*[ *]\([a-z0-9_]*\) (.*/\1/p' | LC_ALL=C sort -u)
missing=$(LC_ALL=C comm -23 <(echo "$globals") <(echo "$documented") | xargs)
check "kernel-doc: all $(echo "$globals" | wc -w) functions other files call ($exported exported) documented${missing:+ (not: $missing)}" \
	test -n "$globals" -a -z "$missing"
tap_finish
