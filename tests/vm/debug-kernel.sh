#!/usr/bin/env bash
# The debug kernel: Debian's linux-source-6.1 built from allnoconfig with
# tests/vm/guest-kernel.config (a minimal QEMU guest) and
# tests/vm/debug-kernel.config (KASAN, lockdep, kmemleak, DMA-API debug,
# UBSAN, fault injection). Built once and cached outside the checkout,
# keyed by the source version and a hash of the two config fragments.
#
# Usage:
#   debug-kernel.sh build      build if the cache has no matching kernel
#   debug-kernel.sh env        print KREL= KDIR= KIMAGE= (builds first if needed)
#
# Cache: $LRING_CACHE/debug-kernel/<source version>-<config hash>/
#   bzImage, build/ (the tree after `make clean`, enough for external
#   modules), build.log, config. A warm cache works offline.
set -euo pipefail

LRING_PROG=debug-kernel
# shellcheck source=tests/vm/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

GUEST=$LRING_ROOT/tests/vm/guest-kernel.config
FRAG=$LRING_ROOT/tests/vm/debug-kernel.config
DCACHE=$LRING_CACHE/debug-kernel
hash=$(cat "$GUEST" "$FRAG" | sha256sum | cut -c1-12)

# A finished build for this fragment, newest first.
cached() {
	local d
	for d in $(ls -dt "$DCACHE"/*-"$hash" 2>/dev/null); do
		[ -f "$d/bzImage" ] && [ -f "$d/build/Module.symvers" ] && { echo "$d"; return 0; }
	done
	return 1
}

build() {
	local v dir work src jobs
	if dir=$(cached); then
		echo "$dir"
		return
	fi
	v=$(apt-cache policy linux-source-6.1 2>/dev/null | awk '/Candidate:/ { print $2 }')
	if [ -z "$v" ] || [ "$v" = "(none)" ]; then
		log "linux-source-6.1 unknown to apt: running apt-get update"
		apt-get update -qq
		v=$(apt-cache policy linux-source-6.1 | awk '/Candidate:/ { print $2 }')
	fi
	[ -n "$v" ] && [ "$v" != "(none)" ] || die "no linux-source-6.1 package in the apt sources"
	dir=$DCACHE/$v-$hash
	work=$dir.tmp
	rm -rf "$work"
	mkdir -p "$work"
	log "building the debug kernel from linux-source-6.1 $v (config $hash); about 10 minutes on 2 cores"
	(cd "$work" && apt-get download -q "linux-source-6.1=$v" >download.log 2>&1) ||
		{ cat "$work/download.log" >&2; die "cannot download linux-source-6.1=$v"; }
	dpkg-deb --fsys-tarfile "$work"/linux-source-6.1_*.deb |
		tar -x -C "$work" ./usr/src/linux-source-6.1.tar.xz
	mkdir -p "$work/build"
	tar -xJf "$work/usr/src/linux-source-6.1.tar.xz" -C "$work/build" --strip-components=1
	rm -rf "$work/usr" "$work"/linux-source-6.1_*.deb
	src=$work/build
	jobs=$(nproc)
	{
		make -C "$src" allnoconfig
		"$src/scripts/kconfig/merge_config.sh" -m -O "$src" "$src/.config" "$GUEST" "$FRAG"
		make -C "$src" olddefconfig
	} >"$work/build.log" 2>&1 || { tail -n 30 "$work/build.log" >&2; die "configuring failed"; }
	# Every option of the fragment must have survived olddefconfig.
	# (An option that is "not set" may also vanish with its dependency.)
	cat "$GUEST" "$FRAG" | grep -E '^CONFIG_[A-Z0-9_]+=' | while IFS= read -r line; do
		grep -qxF "$line" "$src/.config" || die "config: '$line' did not stick (dependency missing?)"
	done
	sed -n 's/^# \(CONFIG_[A-Z0-9_]*\) is not set$/\1/p' "$FRAG" | while IFS= read -r opt; do
		! grep -q "^$opt=" "$src/.config" || die "config: $opt is still set"
	done
	make -C "$src" -j"$jobs" bzImage modules >>"$work/build.log" 2>&1 ||
		{ tail -n 40 "$work/build.log" >&2; die "debug kernel build failed (log: $work/build.log)"; }
	cp "$src/arch/x86/boot/bzImage" "$work/bzImage"
	cp "$src/.config" "$work/config"
	# Keep only what out-of-tree module builds need.
	make -C "$src" clean >>"$work/build.log" 2>&1
	rm -rf "$dir"
	mv "$work" "$dir"
	log "debug kernel ready in $dir"
	echo "$dir"
}

case ${1:-} in
build)
	build
	;;
env)
	dir=$(build)
	krel=$(make -s -C "$dir/build" kernelrelease 2>/dev/null)
	echo "KREL=$krel"
	echo "KDIR=$dir/build"
	echo "KIMAGE=$dir/bzImage"
	;;
*)
	sed -n '2,/^set -e/{/^#/s/^# \{0,1\}//p}' "$0" >&2
	exit 2
	;;
esac
