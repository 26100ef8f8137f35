#!/usr/bin/env bash
# Run the kernel's checkpatch.pl over the kernel-side sources (kernel/, uapi/).
#
# Usage: checkpatch.sh [KDIR]
# LRING_KSRC overrides the source tree (default: the repository).
# checkpatch.pl is looked for in KDIR/scripts, an unpacked /usr/src/linux-source-*,
# and the lring cache; if none has it, it is taken from Debian's
# linux-source-6.1 into the cache once (LRING_CHECKPATCH_FETCH=0: skip instead).
set -euo pipefail

LRING_PROG=checkpatch
# shellcheck source=tests/vm/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

cp=""
for c in "${1:-/nonexistent}/scripts/checkpatch.pl" /usr/src/linux-source-*/scripts/checkpatch.pl \
	"$LRING_CACHE/checkpatch/scripts/checkpatch.pl"; do
	if [ -f "$c" ]; then cp=$c; break; fi
done
if [ -z "$cp" ]; then
	if [ "${LRING_CHECKPATCH_FETCH:-1}" = 0 ]; then
		log "checkpatch.pl not found (no linux-source unpacked); skipping"
		exit 0
	fi
	cp=$("$(dirname "$0")/kernel.sh" checkpatch)
fi
cd "${LRING_KSRC:-$LRING_ROOT}"
files=$(find kernel uapi examples/driver-template -name '*.[ch]' 2>/dev/null | LC_ALL=C sort)
if [ -z "$files" ]; then
	log "no kernel sources to check"
	exit 0
fi
log "using $cp"
# lring_compat.h maps the current API onto the old kernels' (kmap_local_page()
# onto 5.10's kmap_atomic()): there, and only there, the old API is the point.
compat=kernel/lring_compat.h
others=$(echo "$files" | grep -vxF "$compat" || true)
# shellcheck disable=SC2086
perl "$cp" --no-tree --terse --show-types -f $others
[ ! -f "$compat" ] || perl "$cp" --no-tree --terse --show-types --ignore DEPRECATED_API -f "$compat"
log "$(echo "$files" | wc -l) files clean"
