#!/bin/sh
# Runs in the test VM: lring.ko and lring_sim.ko (nr_rings=2) load, their device
# nodes /dev/lring0 and /dev/lring1 appear, both modules unload cleanly and the
# nodes disappear. Prints TAP-style ok / not ok lines.
M=${LRING_MODULES:-/lring/modules}
fails=0

check() {
	name=$1
	shift
	if "$@"; then
		echo "ok - $name"
	else
		echo "not ok - $name"
		fails=$((fails + 1))
	fi
}

# devtmpfs creates nodes asynchronously: wait up to 5 s for a condition
wait_for() {
	i=0
	while [ $i -lt 50 ]; do
		"$@" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}
nodes_present() { [ -c /dev/lring0 ] && [ -c /dev/lring1 ]; }
nodes_absent() { [ ! -e /dev/lring0 ] && [ ! -e /dev/lring1 ]; }
loaded() { grep -q "^$1 " /proc/modules; }
not_loaded() { ! grep -q "^$1 " /proc/modules; }

check "insmod lring.ko" insmod "$M/lring.ko"
check "insmod lring_sim.ko nr_rings=2" insmod "$M/lring_sim.ko" nr_rings=2
check "lring and lring_sim are listed in /proc/modules" eval 'loaded lring && loaded lring_sim'
check "/dev/lring0 and /dev/lring1 appear" wait_for nodes_present
check "no /dev/lring2 with nr_rings=2" test ! -e /dev/lring2
check "rmmod lring_sim" rmmod lring_sim
check "rmmod lring" rmmod lring
check "both modules are gone" eval 'not_loaded lring_sim && not_loaded lring'
check "/dev/lring0 and /dev/lring1 disappear" wait_for nodes_absent
[ "$fails" = 0 ]
