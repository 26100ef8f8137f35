#!/bin/sh
# count_syscalls.sh CMD [ARGS...]: run CMD and count every system call its
# process makes, as the kernel sees them (the raw_syscalls:sys_enter
# tracepoint, summed per thread id by a histogram in a tracefs instance of
# its own), independently of lring's own counters. Prints
# "syscalls=N pid=P" after CMD's output; exits with CMD's status, or 125
# without running CMD when the kernel cannot count.
T=/sys/kernel/tracing
[ -d $T/instances ] || mount -t tracefs tracefs $T || exit 125
I=$T/instances/count_syscalls.$$
mkdir $I || exit 125
# Histogram triggers are CONFIG_HIST_TRIGGERS: Debian has it, defconfig not.
if [ ! -e $I/events/raw_syscalls/sys_enter/hist ]; then
	rmdir $I
	echo "count_syscalls.sh: this kernel has no histogram triggers" >&2
	exit 125
fi
echo 'hist:keys=common_pid:vals=hitcount:size=256' >$I/events/raw_syscalls/sys_enter/trigger || exit 125
"$@" &
pid=$!
wait $pid
rc=$?
# "{ common_pid: 123 } hitcount: 456" for the process's one thread
n=$(sed -n "s/^{ common_pid: *$pid *} *hitcount: *\([0-9]*\).*/\1/p" \
	$I/events/raw_syscalls/sys_enter/hist)
echo "syscalls=${n:-0} pid=$pid"
echo '!hist:keys=common_pid:vals=hitcount:size=256' >$I/events/raw_syscalls/sys_enter/trigger
rmdir $I
exit $rc
