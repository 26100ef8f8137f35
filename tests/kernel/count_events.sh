#!/bin/sh
# Count, as the kernel itself sees them, the events a command causes, with
# a histogram trigger in a tracefs instance of its own (independent of
# lring's own counters):
#
#   count_events.sh syscalls CMD [ARGS...]
#       every system call CMD's process makes (raw_syscalls:sys_enter, for
#       its thread id); prints "syscalls=N pid=P" after CMD's output
#   count_events.sh calls FUNC CMD [ARGS...]
#       the calls of kernel function FUNC made meanwhile by any task or
#       interrupt (a kprobe event); prints "calls=N"
#
# Exits with CMD's status, or 125 without running CMD when the kernel
# cannot count: no histogram triggers (CONFIG_HIST_TRIGGERS: Debian has it,
# defconfig not), no kprobe events, or no function FUNC (e.g.
# arch_sync_dma_for_cpu on x86).
# (The exit 125 for missing histogram triggers: docs/reliability.md entry 28.)
usage() {
	echo "usage: count_events.sh syscalls CMD [ARGS...] | calls FUNC CMD [ARGS...]" >&2
	exit 2
}
mode=$1
case $mode in
syscalls) [ $# -ge 2 ] || usage; shift ;;
calls) [ $# -ge 3 ] || usage; func=$2; shift 2 ;;
*) usage ;;
esac

T=/sys/kernel/tracing
[ -d $T/instances ] || mount -t tracefs tracefs $T || exit 125
probe=""
if [ "$mode" = calls ]; then
	probe=count_events_$$
	echo "p:$probe $func" >>$T/kprobe_events 2>/dev/null || {
		echo "count_events.sh: cannot probe $func on this kernel" >&2
		exit 125
	}
	event=kprobes/$probe
else
	event=raw_syscalls/sys_enter
fi
I=$T/instances/count_events.$$
cleanup() {
	rmdir $I 2>/dev/null
	[ -z "$probe" ] || echo "-:$probe" >>$T/kprobe_events
}
mkdir $I || { cleanup; exit 125; }
E=$I/events/$event
if [ ! -e $E/hist ]; then
	cleanup
	echo "count_events.sh: this kernel has no histogram triggers" >&2
	exit 125
fi
trigger='hist:keys=common_pid:vals=hitcount:size=2048'
echo "$trigger" >$E/trigger || { cleanup; exit 125; }
"$@" &
pid=$!
wait $pid
rc=$?
# one "{ common_pid: P } hitcount: N" line per task that caused events
if [ "$mode" = calls ]; then
	n=$(sed -n 's/^{ common_pid: *[0-9]* *} *hitcount: *\([0-9]*\).*/\1/p' $E/hist |
		awk '{ s += $1 } END { print s + 0 }')
	echo "calls=$n"
else
	n=$(sed -n "s/^{ common_pid: *$pid *} *hitcount: *\([0-9]*\).*/\1/p" $E/hist)
	echo "syscalls=${n:-0} pid=$pid"
fi
echo "!$trigger" >$E/trigger
cleanup
exit $rc
