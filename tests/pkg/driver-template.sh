#!/usr/bin/env bash
# examples/driver-template built as a user builds it: outside the lring tree,
# against lring as `make modules_install` installed it (into a scratch root:
# the driver headers in /usr/src/lring-<version>/include, the kernel's
# Module.symvers next to them), then loaded in the VM, where pci_card drives
# QEMU's edu device and streams; platform_card loads (no machine here has
# its engine, so it is not probed). Every x86 kernel among
# $LRING_PKG_KERNELS that the template covers (5.10 6.1 6.12 newest).
# Prints TAP lines and, with --result FILE, writes "passed=N failed=N
# skipped=N" there for check.sh.
#
# Usage: driver-template.sh [--kernels "6.1 6.12"] [--result FILE]
set -euo pipefail

LRING_PROG=driver-template
# shellcheck source=tests/vm/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../vm/lib.sh"

# shellcheck source=tests/vm/tap.sh
. "$LRING_ROOT/tests/vm/tap.sh"
tap_start_kernels template "5.10 6.1 6.12 newest" "$@"
version=$(sed -n 's/^VERSION *:= *//p' "$LRING_ROOT/Makefile")
blocks=8 block=4095

for k in $kernels; do
	if ! env=$("$LRING_ROOT/tests/vm/kernel.sh" env "$k"); then
		nok "template on $k: cannot fetch the kernel"
		continue
	fi
	eval "$env"
	root=$work/root-$k
	if ! make -s -C "$LRING_ROOT" modules_install KDIR="$KDIR" DESTDIR="$root" \
		>"$work/install-$k.log" 2>&1; then
		tail -n 20 "$work/install-$k.log"
		nok "make modules_install KDIR=<$k> DESTDIR=<scratch>"
		continue
	fi
	kit=$root/usr/src/lring-$version
	if [ -f "$kit/include/lring_driver.h" ] && [ -f "$kit/include/linux/lring.h" ] &&
		grep -q '[[:space:]]lring_register[[:space:]]' "$kit/$KREL/Module.symvers"; then
		ok "modules_install for $KREL put the driver headers and Module.symvers in /usr/src/lring-$version"
	else
		nok "modules_install for $KREL put the driver headers and Module.symvers in /usr/src/lring-$version"
		continue
	fi

	# The user's copy, nowhere near the lring tree.
	tpl=$work/my-driver-$k
	cp -r "$LRING_ROOT/examples/driver-template" "$tpl"
	blog=$work/template-$k.log
	cc=$(kernel_cc "$KDIR")
	ccarg=()
	if [ -n "$cc" ] && ! command -v "$cc" >/dev/null; then
		ccarg=(CC=gcc)
	fi
	if make -C "$tpl" KDIR="$KDIR" LRING_DIR="$kit" "${ccarg[@]}" >"$blog" 2>&1 &&
		! grep -qE 'WARNING|warning:' "$blog"; then
		ok "the template builds out of tree against the installed lring for $KREL, without warnings"
	else
		tail -n 20 "$blog"
		nok "the template builds out of tree against the installed lring for $KREL, without warnings"
		continue
	fi
	# Without the installed Module.symvers, modpost must say so: the
	# template's Makefile finds it, not kbuild by chance.
	if ! make -C "$tpl" KDIR="$KDIR" LRING_DIR="$kit" LRING_SYMVERS=/nonexistent \
		"${ccarg[@]}" >"$work/nosym-$k.log" 2>&1; then
		ok "without lring's Module.symvers the template's Makefile stops with a message"
	else
		nok "without lring's Module.symvers the template's Makefile stops with a message"
	fi

	mods=$work/modules-$k
	mkdir -p "$mods"
	# as installed: compressed where the kernel's config says so (6.12)
	find "$root/lib/modules/$KREL" -name 'lring*.ko*' -exec cp {} "$mods/" \;
	for z in "$mods"/*.ko.xz "$mods"/*.ko.zst; do
		case $z in
		*.xz) [ -f "$z" ] && xz -d "$z" ;;
		*.zst) [ -f "$z" ] && zstd -q -d --rm "$z" ;;
		esac
	done
	cp "$tpl"/pci_card.ko "$tpl"/platform_card.ko "$mods/"
	# 0xa5 is the pattern pci_card loads into the card (examples/driver-template).
	guest='insmod $LRING_MODULES/lring.ko && insmod $LRING_MODULES/pci_card.ko &&
lring-cat --dev /dev/lring0 --count '$blocks' --buf-size 4096 -o /tmp/data &&
n=$(wc -c </tmp/data) && other=$(tr -d "\245" </tmp/data | wc -c) &&
echo "template-stream: bytes=$n other=$other" &&
insmod $LRING_MODULES/platform_card.ko && rmmod platform_card pci_card lring &&
echo template-unloaded'
	vlog=$work/vm-$k.log
	if "$LRING_ROOT/tests/vm/run-vm" --kernel "$k" --modules "$mods" --timeout 300 \
		--log "$vlog" --quiet -- sh -c "$guest" >/dev/null 2>&1; then
		:
	fi
	got=$(grep -ao 'template-stream: bytes=[0-9]* other=[0-9]*' "$vlog" | head -n 1 || true)
	if [ "$got" = "template-stream: bytes=$((blocks * block)) other=0" ]; then
		ok "pci_card streams $blocks blocks of $block bytes from edu on $KREL, every byte the card's pattern"
	else
		grep -a -E 'lring|card|Oops|BUG|WARNING' "$vlog" | tail -n 20 || true
		nok "pci_card streams $blocks blocks of $block bytes from edu on $KREL (got: ${got:-nothing})"
	fi
	if grep -aq '^template-unloaded' "$vlog" &&
		! grep -aqE 'BUG|WARNING:|Oops|Call Trace' "$vlog"; then
		ok "platform_card loads, both unload cleanly, no kernel warning on $KREL"
	else
		nok "platform_card loads, both unload cleanly, no kernel warning on $KREL"
	fi
done
tap_finish
