# shellcheck shell=bash
# Common helpers for the lring VM harness. Sourced, not executed.
#
# Environment honoured everywhere:
#   LRING_CACHE      cache root (default ${XDG_CACHE_HOME:-~/.cache}/lring)
#   LRING_BUILD      build output dir (default <repo>/build)

LRING_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LRING_CACHE=${LRING_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lring}
LRING_BUILD=${LRING_BUILD:-$LRING_ROOT/build}
LRING_KERNELS=$LRING_CACHE/kernels

# Kernel series the harness knows how to fetch. The opt-in ones run only the
# groups whose "# kernels:" line names them: 6.12-rt is Debian's PREEMPT_RT
# flavour, for what changes when spinlocks sleep; 5.10 is Debian 11's, the
# oldest kernel lring supports (still the base of many vendor BSPs);
# 6.1-arm64 and 6.12-arm64 are Debian's arm64 kernels and 6.1-armhf its
# 32-bit ARM one (armmp), booted on QEMU's virt machines with modules and
# programs cross-built for them.
LRING_SERIES_ALL="6.1 6.12"
LRING_SERIES_OPT_IN="6.12-rt 5.10 6.1-arm64 6.12-arm64 6.1-armhf"
# Kernels built here (tests/vm/NAME-kernel.sh) that are opt-in too: the
# newest kernel source Debian ships, the debug kernel for arm64 guests and
# the KCSAN kernel (the x86 debug kernel runs every group).
LRING_BUILT_OPT_IN="newest debug-arm64 kcsan"

# The tiers (docs/testing.md, "Tiers"): `make check` runs every group meant
# for a kernel, except that the kernels below run only the core groups;
# `make check-all` (check.sh --all) runs everything everywhere.
LRING_CORE_KERNELS="6.12 6.12-arm64 newest"
LRING_CORE_GROUPS="smoke sim edu edu-arm64 edu-noncoherent trace compat32 record record-iommu dmabuf dmaengine dmaengine-cyclic"

# KERNEL:GROUP pairs `make check` leaves to `make check-all` on the other
# kernels too: each group runs in `make check` on a kernel with the same
# code paths (smoke, python and tutorial on 6.1, whose module the debug
# kernel's sim, edu and fault groups check under KASAN; fuzz on 6.1,
# 6.12-rt and debug), and the pair costs CI minutes (90 at most) that the
# groups added since are worth more.
LRING_CHECK_ALL_ONLY="debug:smoke debug:python debug:tutorial 6.1-arm64:fuzz"

# core_only KERNEL GROUP: whether `make check` leaves GROUP out on KERNEL
core_only() {
	[[ " $LRING_CHECK_ALL_ONLY " == *" $1:$2 "* ]] && return 0
	[[ " $LRING_CORE_KERNELS " == *" $1 "* ]] && [[ " $LRING_CORE_GROUPS " != *" $2 "* ]]
}

# opt_in NAME: whether kernel NAME runs only the groups that name it
opt_in() { [[ " $LRING_SERIES_OPT_IN $LRING_BUILT_OPT_IN " == *" $1 "* ]]; }

log() { printf '%s: %s\n' "${LRING_PROG:-lring}" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# stock_series LIST: the Debian series in LIST (other names, e.g. debug, have
# no headers package); all of them when LIST names none.
stock_series() {
	local k out=""
	for k in $1; do
		[[ " $LRING_SERIES_ALL " != *" $k "* ]] || out="$out $k"
	done
	out=${out# }
	printf '%s\n' "${out:-$LRING_SERIES_ALL}"
}

# series_key 6.12-rt -> 6_12_rt (for variable names in resolved.env)
series_key() {
	local k=${1//./_}
	printf '%s' "${k//-/_}"
}

# kernel_cc KDIR: the compiler a Debian kernel's headers name (gcc-12), or
# nothing for a kernel built here
kernel_cc() {
	sed -n -E 's/^CC = .*\)(gcc-[0-9]+).*/\1/p' "$1/.kernelvariables" 2>/dev/null || true
}

# series_arch NAME: the Debian architecture of a kernel series
series_arch() {
	case $1 in
	*-arm64) echo arm64 ;;
	*-armhf) echo armhf ;;
	*) dpkg --print-architecture ;;
	esac
}

# debian_series NAME: whether NAME is a Debian kernel the harness fetches
debian_series() { [[ " $LRING_SERIES_ALL $LRING_SERIES_OPT_IN " == *" $1 "* ]]; }

# cross_cc ARCH: Debian's cross gcc for ARCH's programs on this (amd64)
# host. For i386 too: gcc-multilib's "gcc -m32" would do, but Debian's
# gcc-multilib and its cross compilers cannot be installed together.
cross_cc() {
	case $1 in
	arm64) echo aarch64-linux-gnu-gcc ;;
	armhf) echo arm-linux-gnueabihf-gcc ;;
	i386) echo i686-linux-gnu-gcc ;;
	*) die "no cross compiler known for $1" ;;
	esac
}

# unit_progs ARCH: the directory whose tests/unit holds the unit tests built
# for ARCH, linked against Debian's ARCH Criterion (kernel.sh unit-libs),
# made here incrementally next to vm_progs' programs. Prints the directory,
# then the library root on a second line.
unit_progs() {
	local arch=$1 dir libs triplet
	dir=$LRING_BUILD/$arch
	libs=$("$LRING_ROOT/tests/vm/kernel.sh" unit-libs "$arch") || return 1
	triplet=$($(cross_cc "$arch") -dumpmachine)
	cross_make "$arch" "the unit tests" unit-progs \
		UNIT_CPPFLAGS="-isystem $libs/usr/include/$triplet -isystem $libs/usr/include" \
		LDFLAGS="-L$libs/usr/lib/$triplet -Wl,-rpath-link=$libs/usr/lib/$triplet -Wl,-rpath-link=$libs/lib/$triplet"
	printf '%s\n%s\n' "$dir" "$libs"
}

# cross_make ARCH WHAT TARGET [VAR=VALUE...]: make TARGET with ARCH's cross
# compiler into build/ARCH, one make at a time in that directory (make
# check may boot two VMs); dies naming WHAT if the build fails.
cross_make() {
	local arch=$1 what=$2 target=$3 dir=$LRING_BUILD/$1
	shift 3
	mkdir -p "$dir"
	(
		flock 8
		make -C "$LRING_ROOT" -s B="$dir" CC="$(cross_cc "$arch")" "$@" "$target" >&2
	) 8>"$dir/.lock" || die "cross build of $what for $arch failed"
}

# vm_progs ARCH: the directory whose tests/kernel, examples, perf and tools
# go into an ARCH guest: the normal build for the host's architecture, else
# static programs cross-built into build/ARCH (made here, incrementally).
vm_progs() {
	local arch=$1 dir
	if [ "$arch" = "$(dpkg --print-architecture)" ]; then
		echo "$LRING_BUILD"
		return
	fi
	cross_make "$arch" "the test programs" vm-progs LDFLAGS=-static
	echo "$LRING_BUILD/$arch"
}
