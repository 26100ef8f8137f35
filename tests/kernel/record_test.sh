#!/bin/sh
# lring-record in the test VM, on the NVMe disk /dev/nvme0n1 (a group with
# "# disk:"), lring.ko and a device loaded. Prints TAP lines.
#
#   record_test.sh stream DEV BYTES BUF_SIZE [SEED [direct|copy]]
#       record BYTES from DEV at its full rate, then check every byte of
#       every record on the disk against the device's pattern; the blocks
#       must go to disk from the device's buffers (direct, the default), or
#       through a copy where no pool the device takes can be pinned (copy:
#       edu without an IOMMU, whose 28-bit reach user memory is beyond)
#   record_test.sh full DEV          record until the disk is full: exit 4,
#                                    the disk valid up to its last record
#   record_test.sh sigint DEV        SIGINT mid-recording: a clean stop,
#                                    exit 0, the writes in flight finished,
#                                    the disk valid to its end record
#   record_test.sh kill DEV          SIGKILL mid-recording: what is on disk
#                                    checks, the ring is free again, no
#                                    page stays pinned
#   record_test.sh gone DEV          the device unbound mid-recording: exit
#                                    3, the disk valid
#   record_test.sh nodirect DEV      a file on tmpfs (no O_DIRECT before
#                                    6.6): said once, written, checked
#   record_test.sh badinput DEV      usage errors, a missing file, a device
#                                    that is not a ring: exit 2, a message
# DEV is /dev/lringN; the simulated device's rate and seed are set, an edu
# device (no rate) records at its own pace. Skips where lring-record was not
# built (a cross build without liburing).
fails=0
ok() { echo "ok - $*"; }
nok() { echo "not ok - $*"; fails=$((fails + 1)); }
check() { if eval "$2"; then ok "$1"; else nok "$1"; fi; }
disk=/dev/nvme0n1
sub=$1 dev=$2
ring=${dev#/dev/}
sysdev=/sys/class/lring/$ring/device

if ! command -v lring-record >/dev/null; then
	echo "ok - $sub # SKIP lring-record is not built for $(uname -m) (no liburing)"
	exit 0
fi
[ -b $disk ] || { nok "$sub: no disk $disk"; exit 1; }
# the simulated device has a rate: as fast as buffers come back, or slower
# for the tests that act while it records
rate="" slow=""
[ -e "$sysdev/rate" ] && rate="--rate 0" slow="--rate 100"

# json_num KEY FILE: the number after "KEY": in FILE
json_num() { sed -n "s/.*\"$1\":\([0-9.]*\).*/\1/p" "$2" | head -n 1; }
json_str() { sed -n "s/.*\"$1\":\"\([a-z-]*\)\".*/\1/p" "$2" | head -n 1; }
# accounted WHAT: delivered = recorded + not recorded, in /tmp/rec.out
accounted() {
	check "$1: every block delivered was recorded or counted as not" \
		'[ "$(json_num delivered /tmp/rec.out)" = \
		   $(( $(json_num records /tmp/rec.out) + $(json_num not_recorded /tmp/rec.out) )) ]'
}
# disk_holds WHAT SEED: the disk checks, with as many records as /tmp/rec.out
# says and the end record
disk_holds() {
	recs=$(json_num records /tmp/rec.out)
	lring-record --check $disk --verify --seed "$2" --json 2>/tmp/chk.out
	rc=$?
	cat /tmp/chk.out
	check "$1: the disk holds the $recs records and the end record ($rc)" \
		'[ $rc = 0 ] && [ "$(json_num records /tmp/chk.out)" = "$recs" ] &&
		 [ "$(json_num end_record /tmp/chk.out)" = 1 ]'
}
pins() {
	echo 1 >/proc/sys/vm/stat_refresh 2>/dev/null
	awk '/^nr_foll_pin_acquired/ { a = $2 } /^nr_foll_pin_released/ { r = $2 }
		END { print a - r }' /proc/vmstat
}

case $sub in
stream)
	bytes=$3 bs=$4 seed=${5:-7} how=${6:-direct}
	lring-record --dev "$dev" -o $disk --bytes "$bytes" --buf-size "$bs" $rate \
		--seed "$seed" --json 2>/tmp/rec.out
	rc=$?
	cat /tmp/rec.out
	check "stream: lring-record exits 0 ($rc)" '[ $rc = 0 ]'
	if [ "$how" = direct ]; then
		check "stream: from the device's own buffers, no copy" \
			'[ "$(json_num zero_copy /tmp/rec.out)" = 1 ]'
	else
		check "stream: through a copy, and says so once" \
			'[ "$(json_num zero_copy /tmp/rec.out)" = 0 ] &&
			 [ "$(grep -c "copying each block" /tmp/rec.out)" = 1 ]'
	fi
	recs=$(json_num records /tmp/rec.out)
	got=$(json_num bytes /tmp/rec.out)
	check "stream: $got bytes recorded, $bytes asked for" '[ "${got:-0}" -ge "$bytes" ]'
	accounted stream
	lring-record --check $disk --verify --seed "$seed" --count "${recs:-1}" --json 2>/tmp/chk.out
	rc=$?
	cat /tmp/chk.out
	check "stream: all $recs records on disk, every byte the device's ($rc)" \
		'[ $rc = 0 ] && [ "$(json_num bytes /tmp/chk.out)" = "$got" ]'
	# The checker's broken twin: one byte of the third record's block changed
	# must fail the check, and a record whose index is wrong ends the walk.
	rec3=$(( 2 * (512 + bs) + 512 + 100 ))
	printf 'X' | dd of=$disk bs=1 seek=$rec3 conv=notrunc 2>/dev/null
	lring-record --check $disk --verify --seed "$seed" --count "${recs:-1}" --json 2>/tmp/chk.out
	rc=$?
	check "stream: a changed byte fails the check ($rc): $(grep -o '"data_errors":[0-9]*' /tmp/chk.out)" \
		'[ $rc = 1 ] && [ "$(json_num data_errors /tmp/chk.out)" = 1 ]'
	printf '\377' | dd of=$disk bs=1 seek=$(( 3 * (512 + bs) + 16 )) conv=notrunc 2>/dev/null
	lring-record --check $disk --count "${recs:-1}" --json 2>/tmp/chk.out
	rc=$?
	check "stream: a wrong record index ends the recording there ($rc, $(json_num records /tmp/chk.out) records)" \
		'[ $rc = 1 ] && [ "$(json_num records /tmp/chk.out)" = 3 ]'
	;;
full)
	size=$(($(cat /sys/block/nvme0n1/size) * 512))
	lring-record --dev "$dev" -o $disk --buf-size 1Mi $rate --seed 11 --json 2>/tmp/rec.out
	rc=$?
	cat /tmp/rec.out
	check "full: exit 4 when the disk is full ($rc)" '[ $rc = 4 ]'
	check "full: says why" 'grep -q "No space left" /tmp/rec.out'
	check "full: result disk-full" '[ "$(json_str result /tmp/rec.out)" = disk-full ]'
	recs=$(json_num records /tmp/rec.out)
	fb=$(json_num file_bytes /tmp/rec.out)
	check "full: $fb of $size bytes hold whole records, up to the last one that fits" \
		'[ "${fb:-0}" -le "$size" ] && [ $((size - ${fb:-0})) -lt $((1048576 + 1024)) ]'
	lring-record --check $disk --verify --seed 11 --count "${recs:-1}" --json 2>/tmp/chk.out
	rc=$?
	cat /tmp/chk.out
	check "full: the disk checks, $recs records ($rc)" '[ $rc = 0 ]'
	accounted full
	;;
sigint)
	lring-record --dev "$dev" -o $disk --buf-size 256Ki $slow --seed 23 --json 2>/tmp/rec.out &
	pid=$!
	sleep 2
	kill -INT $pid
	wait $pid
	rc=$?
	cat /tmp/rec.out
	check "sigint: a clean stop, exit 0 ($rc)" '[ $rc = 0 ]'
	check "sigint: result recorded" '[ "$(json_str result /tmp/rec.out)" = recorded ]'
	accounted sigint
	disk_holds sigint 23
	;;
kill)
	p0=$(pins)
	lring-record --dev "$dev" -o $disk --buf-size 256Ki $slow --seed 13 2>/tmp/rec.out &
	pid=$!
	sleep 2
	kill -9 $pid
	wait $pid
	rc=$?
	check "kill: lring-record died of SIGKILL ($rc)" '[ $rc = 137 ]'
	lring-record --check $disk --verify --seed 13 --json 2>/tmp/chk.out
	rc=$?
	cat /tmp/chk.out
	recs=$(json_num records /tmp/chk.out)
	check "kill: the disk holds $recs whole records, all right ($rc)" \
		'[ $rc = 0 ] && [ "${recs:-0}" -gt 0 ]'
	i=0
	while [ "$(cat /sys/class/lring/$ring/state)" != unconfigured ] && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	check "kill: the ring is free again ($(cat /sys/class/lring/$ring/state))" \
		'[ "$(cat /sys/class/lring/$ring/state)" = unconfigured ]'
	check "kill: no page stays pinned ($p0 before, $(pins) after)" '[ "$(pins)" = "$p0" ]'
	;;
gone)
	# a driver unbinds its device (edu); the simulated devices go with
	# their module
	name=$(basename "$(readlink -f $sysdev)")
	driver=""
	[ -e $sysdev/driver ] && driver=$(readlink -f $sysdev/driver)
	lring-record --dev "$dev" -o $disk --buf-size 256Ki $slow --seed 17 --json 2>/tmp/rec.out &
	pid=$!
	sleep 2
	if [ -n "$driver" ]; then
		echo "$name" >"$driver/unbind"
	else
		rmmod lring_sim
	fi
	wait $pid
	rc=$?
	cat /tmp/rec.out
	check "gone: exit 3 when the device goes away ($rc)" '[ $rc = 3 ]'
	check "gone: says so" 'grep -q "went away" /tmp/rec.out'
	disk_holds gone 17
	if [ -n "$driver" ]; then
		echo "$name" >"$driver/bind"
	else
		insmod "$LRING_MODULES/lring_sim.ko" nr_rings=2
	fi
	i=0
	while [ ! -e "$dev" ] && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	check "gone: the device is back" '[ -e "$dev" ]'
	;;
nodirect)
	lring-record --dev "$dev" -o /tmp/rec.data --count 40 --buf-size 64Ki $rate \
		--seed 19 --json 2>/tmp/rec.out
	rc=$?
	cat /tmp/rec.out
	check "nodirect: exit 0 ($rc)" '[ $rc = 0 ]'
	if grep -q "does not take O_DIRECT" /tmp/rec.out; then
		check "nodirect: said once" '[ "$(grep -c "O_DIRECT" /tmp/rec.out)" = 1 ]'
	else
		ok "nodirect: this kernel's tmpfs takes O_DIRECT (6.6 and later), nothing to say"
	fi
	lring-record --check /tmp/rec.data --verify --seed 19 --count 40 --json 2>/tmp/chk.out
	rc=$?
	cat /tmp/chk.out
	check "nodirect: 40 records, every byte ($rc)" '[ $rc = 0 ]'
	check "nodirect: the file ends at its last record" \
		'[ "$(stat -c %s /tmp/rec.data)" = "$(json_num file_bytes /tmp/rec.out)" ]'
	rm -f /tmp/rec.data
	;;
badinput)
	lring-record --dev "$dev" >/dev/null 2>/tmp/e.out
	rc=$?
	check "badinput: no -o: exit 2, a message ($rc)" '[ $rc = 2 ] && grep -q "\-o FILE" /tmp/e.out'
	lring-record --dev "$dev" -o $disk --backend nosuch 2>/tmp/e.out
	rc=$?
	check "badinput: an unknown backend: exit 2 ($rc)" '[ $rc = 2 ]'
	lring-record --dev /dev/null -o /tmp/x 2>/tmp/e.out
	rc=$?
	check "badinput: not a ring: exit 2 ($rc): $(cat /tmp/e.out)" '[ $rc = 2 ] && [ -s /tmp/e.out ]'
	lring-record --dev "$dev" -o /nonexistent/dir/file 2>/tmp/e.out
	rc=$?
	check "badinput: an output that cannot be made: exit 2 ($rc): $(cat /tmp/e.out)" \
		'[ $rc = 2 ] && grep -q "No such file" /tmp/e.out'
	lring-record --check /nonexistent 2>/tmp/e.out
	rc=$?
	check "badinput: --check of a missing file: exit 2 ($rc)" '[ $rc = 2 ]'
	dd if=/dev/zero of=/tmp/zeros bs=4096 count=4 2>/dev/null
	lring-record --check /tmp/zeros --count 1 2>/tmp/e.out
	rc=$?
	check "badinput: --check of no recording: exit 1, 0 records ($rc)" \
		'[ $rc = 1 ] && grep -q "records=0" /tmp/e.out'
	;;
*)
	echo "usage: record_test.sh stream|full|sigint|kill|gone|nodirect|badinput DEV ..." >&2
	exit 2
	;;
esac
[ $fails = 0 ]
