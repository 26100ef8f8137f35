#!/bin/sh
# Runs in the test VM with lring.ko and a device module loaded: every sysfs
# and debugfs file the ring core and lring_sim create for ring 0 is
# documented in docs/ABI/testing/ (carried to /lring/abi by the initramfs),
# and every documented file of the loaded modules (lring_edu's, and
# lring_cpudma's where it is loaded, too) exists and reads. (A PCI device has too many generic attributes to tell
# lring_edu's own apart, so those are checked one way only.)
# Prints TAP lines.
ABI=${LRING_ABI:-/lring/abi}
fails=0
ok() { echo "ok - $*"; }
nok() { echo "not ok - $*"; fails=$((fails + 1)); }

documented() { cat "$ABI"/* | grep -q "^What:[[:space:]]*$1\$"; }

# check_dir DIR DOCPREFIX SKIP...: each regular file in DIR is documented
check_dir() {
	dir=$1 doc=$2
	shift 2
	for f in "$dir"/*; do
		name=${f##*/}
		[ -f "$f" ] && [ ! -L "$f" ] || continue
		case " $* " in *" $name "*) continue ;; esac
		if documented "$doc/$name"; then
			ok "documented: $doc/$name"
		else
			nok "undocumented attribute: $f (no What: $doc/$name in docs/ABI/testing)"
		fi
	done
}

[ -d "$ABI" ] && ls "$ABI"/* >/dev/null 2>&1 || { nok "no ABI documents in $ABI"; exit 1; }
[ -d /sys/class/lring/lring0 ] || { nok "no /sys/class/lring/lring0"; exit 1; }

# generic files of the driver core, not ours
check_dir /sys/class/lring/lring0 '/sys/class/lring/lring<N>' dev uevent
check_dir /sys/class/lring/lring0/counters '/sys/class/lring/lring<N>/counters'
sim=/sys/bus/platform/devices/lring_sim.0
[ ! -d $sim ] ||
	check_dir $sim '/sys/bus/platform/devices/lring_sim.<M>' driver_override modalias uevent
check_dir /sys/kernel/debug/lring/lring0 '/sys/kernel/debug/lring/lring<N>'
cpudma=/sys/bus/platform/devices/lring-cpudma
[ ! -d $cpudma ] ||
	check_dir $cpudma $cpudma driver_override modalias uevent

# The other way: what is documented exists and can be read.
edu=$(ls -d /sys/bus/pci/drivers/lring_edu/0000:* 2>/dev/null | head -n 1)
for what in $(cat "$ABI"/* | sed -n 's/^What:[[:space:]]*//p'); do
	case $what in
	*lring_edu/\<BDF\>*)
		[ -n "$edu" ] || continue
		path=$(echo "$what" | sed "s|/sys/bus/pci/drivers/lring_edu/<BDF>|$edu|") ;;
	*lring_sim.\<M\>*)
		[ -d $sim ] || continue
		path=$(echo "$what" | sed 's/<M>/0/') ;;
	$cpudma/*)
		[ -d $cpudma ] || continue
		path=$what ;;
	*) path=$(echo "$what" | sed 's/<N>/0/') ;;
	esac
	if [ -f "$path" ] && cat "$path" >/dev/null; then
		ok "exists and reads: $what"
	else
		nok "documented but missing or unreadable: $what ($path)"
	fi
done
[ "$fails" = 0 ]
