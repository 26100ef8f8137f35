#!/usr/bin/env bash
# Build the base initramfs (uncompressed cpio newc) for the test VM.
#
# Usage: mkinitramfs.sh OUT.cpio [MODULE_DIR]
#
# Contents:
#   /init                  tests/vm/guest-init
#   /lring/kcsan-filter.awk  tests/vm/kcsan-filter.awk (for /init)
#   /bin/busybox           busybox-static (applets installed by /init)
#   /lring/modules/*.ko    the modules in MODULE_DIR (the lring build for that kernel)
#   /lring/bin/            build/tests/kernel/*, build/examples/*, build/perf/*, build/tools/*,
#                          tests/kernel/*.sh, and $LRING_VM_EXTRA_BIN (space separated);
#                          $LRING_VM_PROGS replaces build/ (static programs
#                          cross-built for another architecture's guest)
#   /lring/bin32/          with $LRING_VM_PROGS32: the same programs built for
#                          i386 (static), for the compat32 group
#   /lring/kmods/          with $LRING_VM_KMODS (module names) and $LRING_VM_KMODULES
#                          (the kernel's /lib/modules/<release>): those modules
#                          of the test kernel and what they depend on,
#                          uncompressed, and /lring/kmods/order, the order
#                          /init loads them in
#   /lring/abi/            docs/ABI/testing/* (sysfs_abi.sh checks them)
#   /lring/python/         with LRING_VM_PYTHON=yes: lring.py, the Python example and
#                          tests/kernel/python/*, plus python3 and numpy from the host,
#                          and build/lib/liblring-ffi.so.1, the library lring.py
#                          loads (LRING_FFI_LIB=/lring/python/liblring-ffi.so.1)
#   /lib*, /usr/lib*       exactly the shared libraries those programs need (ldd),
#                          with the dynamic loader
# The per-run part (/lring/run/config, /lring/run/commands) is appended by run-vm
# as a second cpio archive.
set -euo pipefail

LRING_PROG=mkinitramfs.sh
# shellcheck source=tests/vm/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[ $# -ge 1 ] || die "usage: mkinitramfs.sh OUT.cpio [MODULE_DIR]"
out=$1
moddir=${2:-}
busybox=${LRING_BUSYBOX:-/bin/busybox}
[ -x "$busybox" ] || die "$busybox missing: run 'make deps' (busybox-static)"
if ldd "$busybox" >/dev/null 2>&1; then
	die "$busybox is dynamically linked: install busybox-static ('make deps')"
fi

stage=$(mktemp -d "${TMPDIR:-/tmp}/lring-initramfs.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,run,etc,root} \
	"$stage/lring/bin" "$stage/lring/modules" "$stage/lring/run"
cp "$busybox" "$stage/bin/busybox"
install -m 0755 "$LRING_ROOT/tests/vm/guest-init" "$stage/init"
install -D -m 0644 "$LRING_ROOT/tests/vm/kcsan-filter.awk" "$stage/lring/kcsan-filter.awk"
: >"$stage/etc/ld.so.conf"
echo "root:x:0:0:root:/root:/bin/sh" >"$stage/etc/passwd"
echo "root:x:0:" >"$stage/etc/group"

if [ -n "$moddir" ] && [ -d "$moddir" ]; then
	find "$moddir" -maxdepth 1 -name '*.ko' -exec cp {} "$stage/lring/modules/" \;
fi

# Modules of the test kernel itself (the NVMe driver for a disk), each after
# the modules it depends on, uncompressed for busybox's insmod.
add_kmod() {
	local name=$1 ko dep
	[ -z "${kmod_done[$name]:-}" ] || return 0
	kmod_done[$name]=1
	# a module's name says _ where its file may say - (nvme-core)
	ko=$(find "$LRING_VM_KMODULES/kernel" -regextype posix-extended \
		-regex ".*/${name//[_-]/[_-]}\.ko(\.xz|\.zst)?" | head -n 1)
	[ -n "$ko" ] || die "module $name not in $LRING_VM_KMODULES"
	for dep in $(modinfo -F depends "$ko" | tr ',' ' '); do
		add_kmod "$dep"
	done
	case $ko in
	*.xz) xz -dc "$ko" >"$stage/lring/kmods/$name.ko" ;;
	*.zst) zstd -qdc "$ko" >"$stage/lring/kmods/$name.ko" ;;
	*) cp "$ko" "$stage/lring/kmods/$name.ko" ;;
	esac
	echo "$name" >>"$stage/lring/kmods/order"
}
kmods=${LRING_VM_KMODS:-}
if [ -n "${kmods// /}" ]; then
	[ -d "${LRING_VM_KMODULES:-}/kernel" ] ||
		die "modules $kmods asked for, but the test kernel has no module tree (a Debian kernel has)"
	mkdir -p "$stage/lring/kmods"
	declare -A kmod_done=()
	for m in $kmods; do add_kmod "$m"; done
fi

bins=()
progs=${LRING_VM_PROGS:-$LRING_BUILD}
for d in "$progs/tests/kernel" "$progs/examples" "$progs/perf" "$progs/tools"; do
	[ -d "$d" ] || continue
	for f in "$d"/*; do
		[ -f "$f" ] && [ -x "$f" ] && bins+=("$f")
	done
done
for f in "$LRING_ROOT"/tests/kernel/*.sh ${LRING_VM_EXTRA_BIN:-}; do
	[ -f "$f" ] && bins+=("$f")
done
for f in ${bins[@]+"${bins[@]}"}; do
	cp "$f" "$stage/lring/bin/"
done
if [ -n "${LRING_VM_PROGS32:-}" ]; then
	mkdir -p "$stage/lring/bin32"
	for d in tests/kernel examples perf tools; do
		for f in "$LRING_VM_PROGS32/$d"/*; do
			[ -f "$f" ] && [ -x "$f" ] && cp "$f" "$stage/lring/bin32/"
		done
	done
fi
mkdir -p "$stage/lring/abi"
cp "$LRING_ROOT"/docs/ABI/testing/* "$stage/lring/abi/" 2>/dev/null || true

# Python 3 and numpy (Debian's), for the groups that ask: about 60 MB.
if [ "${LRING_VM_PYTHON:-no}" = yes ]; then
	py=$(readlink -f /usr/bin/python3)
	pyver=${py##*/}
	[ -x "$py" ] && [ -d /usr/lib/python3/dist-packages/numpy ] ||
		die "LRING_VM_PYTHON=yes needs python3 and python3-numpy ('make deps')"
	mkdir -p "$stage/usr/bin" "$stage/usr/lib/python3/dist-packages" "$stage/lring/python"
	cp "$py" "$stage/usr/bin/$pyver"
	ln -s "$pyver" "$stage/usr/bin/python3"
	bins+=("$py")
	tar -C /usr/lib -cf - --exclude=test --exclude=tests --exclude=idlelib \
		--exclude=tkinter --exclude=turtledemo --exclude=ensurepip --exclude=lib2to3 \
		--exclude='config-*' "$pyver" | tar -C "$stage/usr/lib" -xf -
	tar -C /usr/lib/python3/dist-packages -cf - --exclude=tests numpy |
		tar -C "$stage/usr/lib/python3/dist-packages" -xf -
	while IFS= read -r so; do bins+=("$so"); done < <(find /usr/lib/python3/dist-packages/numpy \
		"/usr/lib/$pyver/lib-dynload" -name '*.so')
	cp "$LRING_ROOT/liblring/python/lring.py" "$LRING_ROOT/examples/python/"*.py \
		"$LRING_ROOT"/tests/kernel/python/*.py "$stage/lring/python/" 2>/dev/null || true
	ffi=$progs/lib/liblring-ffi.so.1
	[ -f "$ffi" ] || die "LRING_VM_PYTHON=yes needs $ffi ('make userspace')"
	cp "$ffi" "$stage/lring/python/"
	bins+=("$ffi")
fi

# Shared libraries: whatever ldd lists for each ELF program, loader included.
declare -A seen=()
for f in ${bins[@]+"${bins[@]}"}; do
	head -c 4 "$f" | grep -q 'ELF' || continue
	while read -r lib; do
		[ -n "$lib" ] && [ -z "${seen[$lib]:-}" ] || continue
		seen[$lib]=1
		mkdir -p "$stage$(dirname "$lib")"
		cp -L "$lib" "$stage$lib"
	done < <(ldd "$f" 2>/dev/null | awk '/=> \// { print $3; next } /^[ \t]*\// { print $1 }')
done

(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) >"$out.tmp"
mv "$out.tmp" "$out"
