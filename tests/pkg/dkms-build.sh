#!/usr/bin/env bash
# `dkms build` of the lring modules against each Debian test kernel's
# headers (not the running kernel), in a private DKMS tree: nothing under
# /var/lib/dkms, /usr/src or /lib/modules is touched, and nothing is signed
# or installed. The sources come from `make dkms-src`, as a package would
# ship them. Prints TAP lines and, with --result FILE, writes
# "passed=N failed=N skipped=N" there for check.sh.
#
# Usage: dkms-build.sh [--kernels "6.1 6.12"] [--result FILE]
# (default: the Debian series among $LRING_PKG_KERNELS, else all of them)
set -euo pipefail

LRING_PROG=dkms-build
# shellcheck source=tests/vm/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../vm/lib.sh"

kernels=$(stock_series "${LRING_PKG_KERNELS:-}") result=""
while [ $# -gt 0 ]; do
	case $1 in
	--kernels) kernels=$2; shift 2 ;;
	--result) result=$2; shift 2 ;;
	*) die "unknown option $1" ;;
	esac
done

# shellcheck source=tests/vm/tap.sh
. "$LRING_ROOT/tests/vm/tap.sh"

if ! command -v dkms >/dev/null; then
	nok "dkms is installed (make deps)"
	tap_finish
	exit 1
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/lring-dkms.XXXXXX")
trap 'rm -rf "$work"' EXIT
version=$(sed -n 's/^VERSION *:= *//p' "$LRING_ROOT/Makefile")
src=$work/src tree=$work/dkms
mkdir -p "$tree"
if make -s -C "$LRING_ROOT" dkms-src DESTDIR="$work" DKMSSRCDIR=/src/lring-"$version" \
	>"$work/src.log" 2>&1; then
	ok "make dkms-src lays out lring-$version with dkms.conf"
else
	cat "$work/src.log"
	nok "make dkms-src"
	tap_finish
	exit 1
fi

d=(dkms --dkmstree "$tree" --sourcetree "$src")
if "${d[@]}" add -m lring -v "$version" >"$work/add.log" 2>&1; then
	ok "dkms add lring/$version (private tree)"
else
	cat "$work/add.log"
	nok "dkms add lring/$version"
fi

for k in $kernels; do
	if ! env=$("$LRING_ROOT/tests/vm/kernel.sh" env "$k"); then
		nok "dkms build on $k: cannot fetch the kernel"
		continue
	fi
	eval "$env"
	log=$work/build-$KREL.log
	if "${d[@]}" build -m lring -v "$version" -k "$KREL" \
		--kernelsourcedir "$KDIR" >"$log" 2>&1; then
		ok "dkms build lring/$version for $KREL"
	else
		cat "$log" "$tree/lring/$version/build/make.log" 2>/dev/null | tail -n 40
		nok "dkms build lring/$version for $KREL"
		continue
	fi
	mods=$tree/lring/$version/$KREL/x86_64/module
	for m in lring lring_sim lring_edu lring_dmaengine lring_cpudma; do
		f=$(ls "$mods/$m".ko* 2>/dev/null | head -n 1)
		if [ -n "$f" ] && modinfo -F vermagic "$f" | grep -q "^$KREL "; then
			ok "dkms built $m.ko for $KREL (vermagic matches)"
		else
			nok "dkms built $m.ko for $KREL"
		fi
	done
	# what a driver of its own builds against (kernel/dkms-post-build.sh)
	if grep -q '[[:space:]]lring_register[[:space:]]' "$mods/Module.symvers" 2>/dev/null; then
		ok "dkms kept Module.symvers for $KREL next to the modules"
	else
		nok "dkms kept Module.symvers for $KREL next to the modules"
	fi
	# and the driver template builds against the DKMS install alone
	tpl=$work/template-$KREL
	cp -r "$LRING_ROOT/examples/driver-template" "$tpl"
	cc=$(kernel_cc "$KDIR")
	ccarg=()
	if [ -n "$cc" ] && ! command -v "$cc" >/dev/null; then
		ccarg=(CC=gcc)
	fi
	if make -C "$tpl" KDIR="$KDIR" LRING_DIR="$src/lring-$version" \
		LRING_SYMVERS="$mods/Module.symvers" "${ccarg[@]}" >"$tpl.log" 2>&1 &&
		! grep -qE 'WARNING|warning:' "$tpl.log"; then
		ok "the driver template builds against the DKMS install for $KREL"
	else
		tail -n 20 "$tpl.log"
		nok "the driver template builds against the DKMS install for $KREL"
	fi
	# and as a DKMS module of its own, with its dkms.conf, after lring
	tsrc=$src/my-card-1.0
	rm -rf "$tsrc" && cp -r "$LRING_ROOT/examples/driver-template" "$tsrc"
	"${d[@]}" add -m my-card -v 1.0 >"$work/tadd.log" 2>&1 || true
	if "${d[@]}" build -m my-card -v 1.0 -k "$KREL" --kernelsourcedir "$KDIR" \
		>"$work/tbuild-$KREL.log" 2>&1 &&
		ls "$tree/my-card/1.0/$KREL"/*/module/pci_card.ko* >/dev/null 2>&1 &&
		! grep -qE 'WARNING|warning:' "$tree/my-card/1.0/$KREL"/*/log/make.log; then
		ok "dkms builds the driver template's dkms.conf against lring's for $KREL"
	else
		cat "$work/tadd.log" "$work/tbuild-$KREL.log" | tail -n 30
		nok "dkms builds the driver template's dkms.conf against lring's for $KREL"
	fi
	# warnings count as failures here too, as in build-kmod.sh
	blog=$tree/lring/$version/$KREL/x86_64/log/make.log
	if [ -f "$blog" ] && ! grep -qE '(warning|error):' "$blog"; then
		ok "dkms build for $KREL has no compiler warnings"
	else
		nok "dkms build for $KREL has no compiler warnings"
	fi
done
nbuilt=$("${d[@]}" status -m "lring/$version" 2>/dev/null | grep -c ': built$' || true)
if [ "$nbuilt" = "$(echo $kernels | wc -w)" ]; then
	ok "dkms status shows lring/$version built for every kernel ($nbuilt)"
else
	nok "dkms status shows lring/$version built for every kernel ($nbuilt)"
fi
tap_finish
