#!/usr/bin/env bash
# Kernels built here from Debian's linux-source packages, for what no
# Debian binary kernel gives: the debug kernel's checkers, and a kernel
# newer than Debian 12's compiler and C library can build modules for from
# the binary packages. Each starts from allnoconfig plus
# tests/vm/guest-kernel.config (a minimal QEMU guest), is built once with
# the host's gcc and cached outside the checkout, keyed by the source
# version and a hash of its config fragments. A warm cache works offline.
#
#   debug    linux-source-6.1, plus tests/vm/debug-kernel.config (KASAN,
#            lockdep, kmemleak, DMA-API debug, UBSAN, fault injection)
#   newest   plus tests/vm/newest-kernel.config (no debug options):
#            the newest linux-source-X.Y in any suite the private apt
#            configuration serves (sid, trixie-backports, ...), resolved
#            at its first build and kept (kernel.sh refresh forgets it)
#   kcsan    linux-source-6.1, plus tests/vm/kcsan-kernel.config (KCSAN, strict,
#            with weak-memory and interrupt races; lockdep)
#   debug-arm64  the debug kernel for QEMU's arm64 virt machine, cross-built
#            with Debian's gcc-aarch64-linux-gnu: debug-kernel.config plus
#            tests/vm/guest-kernel-arm64.config (last, so its choices win)
#
# Usage:
#   source-kernel.sh NAME build   build if the cache has no matching kernel
#   source-kernel.sh NAME env     print KREL= KVER= KDIR= KIMAGE= (builds first)
# tests/vm/debug-kernel.sh and newest-kernel.sh call it with their NAME.
#
# Cache: $LRING_CACHE/NAME-kernel/<source version>-<config hash>/
#   bzImage (Image and the device trees it boots with on arm64), build/
#   (the tree after `make clean`, enough for external modules), build.log,
#   config.
set -euo pipefail

name=${1:-}
LRING_PROG=$name-kernel
# shellcheck source=tests/vm/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

VMDIR=$LRING_ROOT/tests/vm
frags=("$VMDIR/guest-kernel.config")
# make's architecture arguments, the image it builds and where it puts it
kmake=() image=bzImage image_path=arch/x86/boot/bzImage dtbs=()
case $name in
debug) frags+=("$VMDIR/debug-kernel.config") ;;
newest) frags+=("$VMDIR/newest-kernel.config") ;;
kcsan) frags+=("$VMDIR/kcsan-kernel.config") ;;
debug-arm64)
	frags+=("$VMDIR/debug-kernel.config" "$VMDIR/guest-kernel-arm64.config")
	kmake=(ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-)
	image=Image image_path=arch/arm64/boot/Image
	# the Raspberry Pi 3's device tree, for run-vm --machine raspi3b
	dtbs=(broadcom/bcm2837-rpi-3-b.dtb)
	;;
*)
	sed -n '2,/^set -e/{/^#/s/^# \{0,1\}//p}' "$0" >&2
	exit 2
	;;
esac
DCACHE=$LRING_CACHE/$name-kernel
hash=$(cat "${frags[@]}" | sha256sum | cut -c1-12)

# A finished build for these fragments (older ones are removed).
cached() {
	local d
	for d in "$DCACHE"/*-"$hash"; do
		[ -f "$d/$image" ] && [ -f "$d/build/Module.symvers" ] || continue
		for t in ${dtbs[@]+"${dtbs[@]}"}; do
			[ -f "$d/${t##*/}" ] || continue 2
		done
		echo "$d"
		return 0
	done
	return 1
}

# The source package to build, as PACKAGE=VERSION; resolved once per name.
source_package() {
	local f=$DCACHE/source
	if [ ! -s "$f" ]; then
		mkdir -p "$DCACHE"
		case $name in
		debug* | kcsan) "$VMDIR/kernel.sh" source linux-source-6.1 >"$f.tmp" ;;
		newest) "$VMDIR/kernel.sh" source newest >"$f.tmp" ;;
		esac
		mv "$f.tmp" "$f"
	fi
	cat "$f"
}

build() {
	local pkg v dir work src jobs t0
	# One build of a kernel at a time: a second one would start by
	# deleting the first one's work directory. It waits, then finds the
	# kernel cached.
	mkdir -p "$DCACHE"
	exec 8>"$DCACHE/.lock-$name"
	flock 8
	if dir=$(cached); then
		echo "$dir"
		return
	fi
	pkg=$(source_package)
	v=${pkg#*=}
	dir=$DCACHE/$v-$hash
	work=$dir.tmp
	rm -rf "$work"
	mkdir -p "$work"
	log "building the $name kernel from $pkg (config $hash); 6-10 minutes on 2 cores"
	t0=$(date +%s)
	"$VMDIR/kernel.sh" download "$work" "$pkg" ||
		{ cat "$work/download.log" >&2; die "cannot download $pkg"; }
	dpkg-deb --fsys-tarfile "$work"/linux-source-*.deb |
		tar -x -C "$work" --wildcards './usr/src/linux-source-*.tar.xz'
	mkdir -p "$work/build"
	tar -xJf "$work"/usr/src/linux-source-*.tar.xz -C "$work/build" --strip-components=1
	rm -rf "${work:?}/usr" "$work"/linux-source-*.deb
	src=$work/build
	jobs=$(nproc)
	{
		make -C "$src" "${kmake[@]}" allnoconfig
		"$src/scripts/kconfig/merge_config.sh" -m -O "$src" "$src/.config" "${frags[@]}"
		make -C "$src" "${kmake[@]}" olddefconfig
	} >"$work/build.log" 2>&1 || { tail -n 30 "$work/build.log" >&2; die "configuring failed"; }
	# Every option of the fragments must have survived olddefconfig, but
	# those a fragment names in a "# may-drop: CONFIG_X" line. (An option
	# that is "not set" may also vanish with its dependency.)
	drop=" $(cat "${frags[@]}" | sed -n 's/^# may-drop: *\(CONFIG_[A-Z0-9_]*\).*/\1/p' | tr '\n' ' ')"
	cat "${frags[@]}" | grep -E '^CONFIG_[A-Z0-9_]+=' | while IFS= read -r line; do
		[[ "$drop" != *" ${line%%=*} "* ]] || continue
		grep -qxF "$line" "$src/.config" || die "config: '$line' did not stick (dependency missing?)"
	done || exit 1	# die ended only the loop's subshell, and $(build) has no errexit
	cat "${frags[@]}" | sed -n 's/^# \(CONFIG_[A-Z0-9_]*\) is not set$/\1/p' | while IFS= read -r opt; do
		! grep -q "^$opt=" "$src/.config" || die "config: $opt is still set"
	done || exit 1
	make -C "$src" "${kmake[@]}" -j"$jobs" "$image" modules >>"$work/build.log" 2>&1 ||
		{ tail -n 40 "$work/build.log" >&2; die "$name kernel build failed (log: $work/build.log)"; }
	cp "$src/$image_path" "$work/$image"
	for d in ${dtbs[@]+"${dtbs[@]}"}; do
		make -C "$src" "${kmake[@]}" "$d" >>"$work/build.log" 2>&1 ||
			{ tail -n 20 "$work/build.log" >&2; die "cannot build $d"; }
		cp "$src/arch/arm64/boot/dts/$d" "$work/"
	done
	cp "$src/.config" "$work/config"
	# Keep only what out-of-tree module builds need.
	make -C "$src" "${kmake[@]}" clean >>"$work/build.log" 2>&1
	echo "$pkg built in $(($(date +%s) - t0)) s" >"$work/build.time"
	rm -rf "$dir"
	mv "$work" "$dir"
	# Older builds of this kernel (another config or version) are 1-2 GiB each.
	find "$DCACHE" -mindepth 1 -maxdepth 1 -type d ! -path "$dir" -exec rm -rf {} +
	log "$name kernel ready in $dir ($(cat "$dir/build.time"))"
	echo "$dir"
}

case ${2:-} in
build)
	build
	;;
env)
	dir=$(build)
	krel=$(make -s -C "$dir/build" "${kmake[@]}" kernelrelease 2>/dev/null)
	echo "KREL=$krel"
	echo "KVER=\"$name kernel, $(source_package)\""
	echo "KDIR=$dir/build"
	echo "KIMAGE=$dir/$image"
	;;
*)
	sed -n '2,/^set -e/{/^#/s/^# \{0,1\}//p}' "$0" >&2
	exit 2
	;;
esac
