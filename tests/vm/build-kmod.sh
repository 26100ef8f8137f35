#!/usr/bin/env bash
# Build the lring kernel modules out of tree against one kernel.
#
# Usage: build-kmod.sh [-C=N] KDIR [make args...]
#
# Kernels before 6.x cannot put out-of-tree objects in a separate directory, so
# Kbuild, kernel/ and uapi/ are copied (rsync, mtimes kept so rebuilds are
# incremental) into build/kmod/<kernel-release>/ and built there with W=1.
# The modules end up in build/kmod/<kernel-release>/kernel/*.ko.
# Any warning fails the build (W=1 clean); extra make arguments such as
# C=2 CHECK=sparse are passed through. The build output goes to stderr and
# build/kmod/<kernel-release>/build.log; stdout gets the output directory.
#
# LRING_KSRC overrides the source tree (default: the repository).
set -euo pipefail

LRING_PROG=build-kmod.sh
# shellcheck source=tests/vm/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[ $# -ge 1 ] || die "usage: build-kmod.sh KDIR [make args...]"
kdir=$1
shift
src=${LRING_KSRC:-$LRING_ROOT}
[ -f "$src/Kbuild" ] || die "no Kbuild in $src (the kernel modules are not written yet)"
[ -f "$kdir/Makefile" ] || die "KDIR=$kdir is not a kernel build directory"
krel=$("$(dirname "$0")/kernel.sh" krel "$kdir")
[ -n "$krel" ] || die "cannot tell the kernel release of $kdir"
out=$LRING_BUILD/kmod/$krel
mkdir -p "$out"
# one build per output directory at a time (others may share this checkout)
exec 9>"$LRING_BUILD/kmod/.lock-$krel"
flock 9

# Keep build products in the copy, drop sources that disappeared.
rsync -a --delete \
	--filter='P *.o' --filter='P *.ko' --filter='P *.mod' --filter='P *.mod.c' \
	--filter='P .*.cmd' --filter='P modules.order' --filter='P Module.symvers' \
	--filter='P *.a' --filter='P .*.d' --filter='P *.dwo' \
	"$src/Kbuild" "$src/kernel" "$src/uapi" "$out/"

# W=1 must be clean: any compiler, modpost or sparse warning fails the build.
# (LRING_KMOD_WARNINGS=ok lets warnings through while iterating.)
klog=$out/build.log
# The compiler the kernel was built with, else (5.10's gcc-10 is not in
# Debian 12) the host's gcc, which kbuild accepts for a module.
cc=$(kernel_cc "$kdir")
ccarg=()
if [ -n "$cc" ] && ! command -v "$cc" >/dev/null; then
	ccarg=(CC=gcc)
fi
# A foreign kernel (arm64 or armhf headers on an x86 host): Debian's
# headers name $(CROSS_COMPILE)gcc-12; the cross compilers are
# gcc-aarch64-linux-gnu and gcc-arm-linux-gnueabihf. The kbuild programs
# are the host's (kernel.sh). Debian's headers set ARCH themselves, a tree
# built here (debug-arm64) does not.
if grep -q '^CONFIG_ARM64=y' "$kdir/.config" && [ "$(uname -m)" != aarch64 ]; then
	ccarg+=(ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-)
elif grep -q '^CONFIG_ARM=y' "$kdir/.config" && [ "$(uname -m)" != armv7l ]; then
	# The host's modpost checks device tables with a 64-bit kernel's
	# sizes; a 32-bit module's of_device_id table fails that check.
	ccarg+=(ARCH=arm CROSS_COMPILE=arm-linux-gnueabihf- KCFLAGS=-DLRING_HOST_MODPOST)
fi
set +e
make -C "$kdir" M="$out" W=1 "${ccarg[@]}" "$@" modules 2>&1 | tee "$klog" >&2
rc=${PIPESTATUS[0]}
set -e
[ "$rc" = 0 ] || die "module build for $krel failed"
nwarn=$(grep -vE '^make(\[[0-9]+\])?: ' "$klog" | grep -cE '(warning|error):|^WARNING:' || true)
if [ "$nwarn" != 0 ] && [ "${LRING_KMOD_WARNINGS:-}" != ok ]; then
	die "module build for $krel has $nwarn warning(s) (see above / $klog)"
fi
ls "$out"/kernel/*.ko >/dev/null 2>&1 || die "no modules were built in $out/kernel"
echo "$out"
