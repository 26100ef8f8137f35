#!/usr/bin/env bash
# Install the Debian packages lring needs to build and test. Quiet and quick
# when everything is already there; runs `apt-get update` once only when
# something is missing.
#
# Usage: deps.sh [--check]    --check: only report, exit 1 if something is missing
set -euo pipefail

LRING_PROG=deps
# shellcheck source=tests/vm/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PKGS=(
	# userspace build
	gcc make libc6-dev pkg-config liburcu-dev libcriterion-dev
	# tools/lring-record: the ring to disk through io_uring
	liburing-dev
	# 32-bit x86 applications (the compat32 group): the i686 cross compiler
	# (gcc-multilib conflicts with the ARM cross compilers below)
	gcc-i686-linux-gnu libc6-dev-i386-cross
	# out-of-tree kernel modules (Debian 12 kernels are built with gcc-12)
	gcc-12 bc flex bison libelf-dev libssl-dev dwarves kmod sparse rsync
	# fetching test kernels (private apt configuration) and the VM
	apt dpkg ca-certificates qemu-system-x86 busybox-static cpio file util-linux coreutils
	# arm64 and armhf guests: the emulators, the cross compilers and libc for
	# static test programs, fdtput for the non-coherent machine's device tree
	qemu-system-arm gcc-aarch64-linux-gnu libc6-dev-arm64-cross device-tree-compiler
	gcc-arm-linux-gnueabihf libc6-dev-armhf-cross
	# the unit tests built for arm64, run by qemu-user (tests/vm/run-unit.sh)
	qemu-user-static
	# the wake-up protocols' models (tests/models)
	spin
	python3 perl xz-utils
	gnuplot-nox	# make bench: the throughput plot
	# packaging tests: dkms build, the Python binding, man pages
	dkms python3-numpy man-db groff-base tmux
)

missing=()
for p in "${PKGS[@]}"; do
	st=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
	case $st in ii*) ;; *) missing+=("$p") ;; esac
done
[ ${#missing[@]} -gt 0 ] || exit 0
if [ "${1:-}" = --check ]; then
	log "missing packages: ${missing[*]}"
	exit 1
fi

sudo=()
if [ "$(id -u)" != 0 ]; then
	command -v sudo >/dev/null || die "need root to install: ${missing[*]}"
	sudo=(sudo)
fi
log "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
log "done"
