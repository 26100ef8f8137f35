#!/bin/sh
# count_calls.sh FUNC CMD [ARGS...]: run CMD and count the calls of the
# kernel function FUNC made meanwhile by any task or interrupt (a kprobe
# event with a histogram, in a tracefs instance of its own). Prints
# "calls=N" after CMD's output; exits with CMD's status, or 125 without
# running CMD when the kernel cannot count (no kprobe events, no histogram
# triggers, or no function FUNC, e.g. arch_sync_dma_for_cpu on x86).
[ $# -ge 2 ] || { echo "usage: count_calls.sh FUNC CMD [ARGS...]" >&2; exit 2; }
func=$1
shift
T=/sys/kernel/tracing
[ -d $T/instances ] || mount -t tracefs tracefs $T || exit 125
ev=count_calls_$$
echo "p:$ev $func" >>$T/kprobe_events 2>/dev/null || {
	echo "count_calls.sh: cannot probe $func on this kernel" >&2
	exit 125
}
I=$T/instances/count_calls.$$
mkdir $I || exit 125
E=$I/events/kprobes/$ev
if [ ! -e $E/hist ]; then
	rmdir $I
	echo "-:$ev" >>$T/kprobe_events
	echo "count_calls.sh: this kernel has no histogram triggers" >&2
	exit 125
fi
echo 'hist:keys=common_pid:vals=hitcount:size=2048' >$E/trigger || exit 125
"$@"
rc=$?
# one "{ common_pid: P } hitcount: N" line per task that made calls
n=$(sed -n 's/^{ common_pid: *[0-9]* *} *hitcount: *\([0-9]*\).*/\1/p' $E/hist |
	awk '{ s += $1 } END { print s + 0 }')
echo "calls=$n"
echo '!hist:keys=common_pid:vals=hitcount:size=2048' >$E/trigger
rmdir $I
echo "-:$ev" >>$T/kprobe_events
exit $rc
