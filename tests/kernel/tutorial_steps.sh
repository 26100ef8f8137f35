#!/bin/sh
# The commands docs/tutorial/ asks the reader to run, one step per chapter.
# Runs in the test VM (tests/kernel/*.sh are on the guest's PATH):
#
#   tests/vm/run-vm --kernel 6.1 -- tutorial_steps.sh STEP
#
# Each step loads what it needs, runs the commands the chapter shows, checks
# that their output says what the chapter says it will, unloads, and prints
# TAP lines (ok / not ok), so tests/kernel/groups/tutorial.group proves every
# step in make check. The regions between "tutorial:" markers are quoted in
# the chapters by tests/docs/snippets.py.
LRING_MODULES=${LRING_MODULES:-/lring/modules}
fails=0
out=/tmp/tutorial.out

check() {
	name=$1
	shift
	if "$@"; then
		echo "ok - tutorial: $name"
	else
		echo "not ok - tutorial: $name"
		fails=$((fails + 1))
	fi
}
# has PATTERN: the last command's output matched PATTERN (grep -E)
has() { grep -qE "$1" "$out"; }
# run CMD...: run and show a command, keeping its output for has()
run() {
	echo "\$ $*"
	"$@" >"$out" 2>&1
	rc=$?
	cat "$out"
	return $rc
}
# ring_of DRIVER: the /dev/lringN whose device is bound to DRIVER
ring_of() {
	for d in /sys/class/lring/lring*; do
		case $(readlink "$d/device/driver") in
		*/"$1") echo "/dev/${d##*/}"; return 0 ;;
		esac
	done
	return 1
}
wait_dev() {
	i=0
	while [ ! -c "$1" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
}

step_load() {
	# tutorial: step-load
	insmod $LRING_MODULES/lring.ko
	insmod $LRING_MODULES/lring_sim.ko
	ls /sys/class/lring/
	cat /sys/class/lring/lring0/device/rate
	# tutorial-end: step-load
	wait_dev /dev/lring0
	check "load: /dev/lring0 exists" test -c /dev/lring0
	check "load: the simulated device produces 1000 blocks/s" \
		test "$(cat /sys/class/lring/lring0/device/rate)" = 1000
	rmmod lring_sim && rmmod lring
	check "load: both modules unload" test ! -e /dev/lring0
}

step_stream() {
	insmod $LRING_MODULES/lring.ko && insmod $LRING_MODULES/lring_sim.ko && wait_dev /dev/lring0
	# tutorial: step-stream
	run tutorial_consumer /dev/lring0 2000
	# tutorial-end: step-stream
	check "stream: exits 0" test $? = 0
	check "stream: 2000 blocks, 0 bad" has '2000 blocks of 4096 bytes, 0 bad,'
	check "stream: no id rejected" has 'rejected_ids 0'
	rmmod lring_sim && rmmod lring
}

step_backends() {
	insmod $LRING_MODULES/lring.ko && insmod $LRING_MODULES/lring_sim.ko && wait_dev /dev/lring0
	# tutorial: step-backends
	run tutorial_consumer /dev/lring0 1000 busy streaming
	# tutorial-end: step-backends
	check "backends: streaming: 1000 blocks, 0 bad" \
		has '1000 blocks of 4096 bytes, 0 bad,'
	rmmod lring_sim && rmmod lring
}

step_mapping() {
	insmod $LRING_MODULES/lring.ko && insmod $LRING_MODULES/lring_sim.ko nr_rings=2
	wait_dev /dev/lring1
	# tutorial: step-mapping
	ring_test bad_input | grep -E 'mmap|SIGBUS|mprotect'
	ring_test lifecycle | grep -E 'munmap|fork|parent|kill'
	# tutorial-end: step-mapping
	ring_test bad_input >"$out" 2>&1
	check "mapping: every bad_input check passes" eval '! grep -q "^not ok" "$out"'
	ring_test lifecycle >"$out" 2>&1
	check "mapping: every lifecycle check passes" eval '! grep -q "^not ok" "$out"'
	rmmod lring_sim && rmmod lring
}

step_eventfd() {
	insmod $LRING_MODULES/lring.ko && insmod $LRING_MODULES/lring_sim.ko && wait_dev /dev/lring0
	# tutorial: step-eventfd
	run tutorial_consumer /dev/lring0 2000 eventfd
	# tutorial-end: step-eventfd
	# A host too busy to run the consumer for 32 ms makes the device drop
	# blocks: they must be counted, never silent.
	check "eventfd: 2000 blocks, 0 bad" has '2000 blocks of 4096 bytes, 0 bad,'
	check "eventfd: the kernel signalled the eventfd" \
		has 'eventfd_signals [1-9]'
	rmmod lring_sim && rmmod lring
}

step_edu() {
	insmod $LRING_MODULES/lring.ko && insmod $LRING_MODULES/lring_edu.ko
	sleep 0.5
	dev=$(ring_of lring_edu)
	check "edu: the edu device has a ring" test -n "$dev"
	# tutorial: step-edu
	ls /sys/bus/pci/drivers/lring_edu/ | grep :
	run tutorial_consumer "$dev" 10
	grep lring_edu /proc/interrupts
	# tutorial-end: step-edu
	check "edu: 10 blocks of real DMA, every byte right" \
		has '10 blocks of 4096 bytes, 0 bad, 0 dropped'
	check "edu: the books balance" has 'produced 10 delivered 10 dropped 0'
	check "edu: its interrupt is an MSI" \
		eval 'grep lring_edu /proc/interrupts | grep -q MSI'
	rmmod lring_edu && rmmod lring
}

step_send() {
	insmod $LRING_MODULES/lring.ko && insmod $LRING_MODULES/lring_sim.ko && wait_dev /dev/lring0
	# tutorial: step-send
	run busy_send --dev /dev/lring0 --count 2000 --buf-size 4096 --buf-count 16 --rate 0
	# tutorial-end: step-send
	check "send: 2000 blocks sent and read intact" \
		has 'result=pass blocks=2000 .* sent=2000 .* read=2000 mismatches=0'
	# tutorial: step-send-stop
	tx_test stop_inflight | grep -E 'cancel|unsent|resubmitted|sent in all'
	# tutorial-end: step-send-stop
	tx_test stop_inflight >"$out" 2>&1
	check "send: every stop_inflight check passes" eval '! grep -q "^not ok" "$out"'
	rmmod lring_sim && rmmod lring
}

step_loopback() {
	insmod $LRING_MODULES/lring.ko && insmod $LRING_MODULES/lring_edu.ko
	sleep 0.5
	# tutorial: step-loopback
	cat /sys/class/lring/lring0/directions /sys/class/lring/lring1/directions
	edu_test loopback coherent 5 | grep -E 'two rings|comes back|every byte|stop with'
	# tutorial-end: step-loopback
	edu_test loopback coherent 5 >"$out" 2>&1
	check "loopback: every check passes" eval '! grep -q "^not ok" "$out"'
	rmmod lring_edu && rmmod lring
}

case ${1:-} in
load) step_load ;;
stream) step_stream ;;
backends) step_backends ;;
mapping) step_mapping ;;
eventfd) step_eventfd ;;
edu) step_edu ;;
send) step_send ;;
loopback) step_loopback ;;
all) step_load; step_stream; step_backends; step_mapping; step_eventfd; step_edu; step_send; step_loopback ;;
*) echo "usage: tutorial_steps.sh load|stream|backends|mapping|eventfd|edu|send|loopback|all" >&2; exit 2 ;;
esac
[ "$fails" = 0 ]
