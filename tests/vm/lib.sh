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
# oldest kernel lring supports (still the base of many vendor BSPs).
LRING_SERIES_ALL="6.1 6.12"
LRING_SERIES_OPT_IN="6.12-rt 5.10"

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

# debian_series NAME: whether NAME is a Debian kernel the harness fetches
debian_series() { [[ " $LRING_SERIES_ALL $LRING_SERIES_OPT_IN " == *" $1 "* ]]; }
