#!/bin/sh
# Runs in the test VM with lring.ko and lring_sim.ko loaded: while busy_poll
# streams ring 0 at 2000 blocks/s, `lring-stat --once --json` reports the
# ring running, a delivery rate near 2000/s, and counters between the sysfs
# values read just before and just after it. Prints TAP lines.
fails=0
ok() { echo "ok - $*"; }
nok() { echo "not ok - $*"; fails=$((fails + 1)); }
c=/sys/class/lring/lring0/counters
# json_num KEY: the number after "KEY": in ring 0's part of $out
json_num() {
	echo "${out%%\"name\": \"lring1\"*}" |
		sed -n "s/.*\"$1\": \([0-9.e+-]*\).*/\1/p" | head -n 1
}

busy_poll --dev /dev/lring0 --rate 2000 --seconds 5 --buf-count 32 \
	--buf-size 4096 >/tmp/bp.out 2>&1 &
bp=$!
i=0
while [ "$(cat /sys/class/lring/lring0/state)" != running ] && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
sleep 0.5
before=$(cat $c/delivered)
out=$(lring-stat --once --json --interval 1)
after=$(cat $c/delivered)
wait $bp || nok "busy_poll failed: $(cat /tmp/bp.out)"
echo "# $out"

case $out in
*'"name": "lring0", "state": "running"'*) ok "lring-stat --json: lring0 is running" ;;
*) nok "lring-stat --json: lring0 is running" ;;
esac
case $out in
*'"name": "lring1"'*) ok "lring-stat --json: lists lring1 too" ;;
*) nok "lring-stat --json: lists lring1 too" ;;
esac
d=$(json_num delivered)
if [ -n "$d" ] && [ "$before" -le "$d" ] && [ "$d" -le "$after" ]; then
	ok "lring-stat delivered ($d) lies between sysfs before ($before) and after ($after)"
else
	nok "lring-stat delivered ($d) lies between sysfs before ($before) and after ($after)"
fi
rate=$(json_num delivered_per_s | cut -d. -f1)
if [ -n "$rate" ] && [ "$rate" -ge 400 ] && [ "$rate" -le 3000 ]; then
	ok "lring-stat rate $rate/s is near the device's 2000/s"
else
	nok "lring-stat rate '$rate'/s is near the device's 2000/s"
fi
bc=$(json_num buf_count)
held=$(json_num held)
if [ "$bc" = 32 ] && [ -n "$held" ] && [ "$held" -le 32 ]; then
	ok "lring-stat: pool of 32, $held held by the application"
else
	nok "lring-stat: pool of 32 ('$bc'), held '$held' <= 32"
fi
table=$(lring-stat --once --interval 0.2)
echo "$table" | sed 's/^/# /'
if echo "$table" | grep -q '^RING ' && echo "$table" | grep -q '^lring0 '; then
	ok "lring-stat --once prints a table with a line per ring"
else
	nok "lring-stat --once prints a table with a line per ring"
fi

[ "$fails" = 0 ]
