#!/usr/bin/env bash
# lring-stat on recorded counters (--sysfs DIR, a copy of the layout of
# /sys/class/lring): the JSON numbers follow from the counters, the table
# has a line per ring, and the live view redraws in a terminal (tmux).
# Runs on the host, no VM; the VM side is tests/kernel/lring_stat.sh.
# Prints TAP lines; --result FILE writes "passed=N failed=N skipped=N".
set -euo pipefail

LRING_PROG=lring-stat-test
# shellcheck source=tests/vm/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../vm/lib.sh"

# shellcheck source=tests/vm/tap.sh
. "$LRING_ROOT/tests/vm/tap.sh"
tap_start stat "$@"
stat=$LRING_BUILD/tools/lring-stat
[ -x "$stat" ] || make -s -C "$LRING_ROOT" "build/tools/lring-stat"

sess=lring-stat-test-$$
trap 'tmux kill-session -t "$sess" 2>/dev/null || true; rm -rf "$work"' EXIT
fs=$work/sys

# ring DIR STATE BACKEND BUF_COUNT BUF_SIZE name=value...
ring() {
	local d=$fs/$1 c
	mkdir -p "$d/counters"
	echo "$2" >"$d/state"
	echo "$3" >"$d/backend"
	echo "$4" >"$d/buf_count"
	echo "$5" >"$d/buf_size"
	shift 5
	for c in produced delivered dropped irqs kicks waits eventfd_signals \
		returned rejected_ids rejected_indices need_wakeups device_errors \
		cancelled; do
		echo 0 >"$d/counters/$c"
	done
	for c in "$@"; do echo "${c#*=}" >"$d/counters/${c%%=*}"; done
}
ring lring0 running streaming 64 65536 produced=1100 delivered=1000 dropped=100 \
	returned=990 eventfd_signals=50 kicks=5 waits=20
ring lring1 stopped coherent 8 4096 produced=7 delivered=7 returned=7
ring lring10 unconfigured none 0 0
# A sending ring: 100 submitted, 90 sent, 4 cancelled: 6 at the device.
ring lring2 running coherent 16 4096 produced=90 delivered=90 returned=100 cancelled=4
echo tx >"$fs/lring2/direction"

# The interval's second sample sees new counters, written half-way.
"$stat" --sysfs "$fs" --once --json --interval 2 >"$work/out" &
sleep 1
d=$fs/lring0/counters
echo 3100 >"$d/produced"; echo 2800 >"$d/delivered"; echo 300 >"$d/dropped"
echo 2780 >"$d/returned"; echo 140 >"$d/eventfd_signals"
echo 23 >"$d/kicks"; echo 56 >"$d/waits"
wait
out=$(cat "$work/out")
echo "# $out"
q() { echo "$out" | python3 -c "import json,sys; d=json.load(sys.stdin); print(($1))"; }
if echo "$out" | python3 -m json.tool >/dev/null; then
	ok "--once --json prints one valid JSON object"
else
	nok "--once --json prints one valid JSON object"
	tap_finish
	exit 1
fi
[ "$(q "[r['name'] for r in d['rings']]")" = "['lring0', 'lring1', 'lring2', 'lring10']" ] &&
	ok "every ring, in numeric order" || nok "every ring, in numeric order"
[ "$(q "d['rings'][0]['counters']['delivered'], d['rings'][0]['counters']['dropped'],")" = "(2800, 300)" ] &&
	ok "counters are the second sample's" || nok "counters are the second sample's"
rate=$(q "round(d['rings'][0]['delivered_per_s'] * d['interval_s'])")
[ "$rate" = 1800 ] && ok "delivered_per_s * interval_s = the counter's rise (1800)" ||
	nok "delivered_per_s * interval_s = the counter's rise ($rate, want 1800)"
drop=$(q "round(d['rings'][0]['dropped_per_s'] * d['interval_s'])")
[ "$drop" = 200 ] && ok "dropped_per_s * interval_s = 200" || nok "dropped_per_s: $drop, want 200"
[ "$(q "d['rings'][0]['held'], d['rings'][0]['occupancy']")" = "(20, 0.3125)" ] &&
	ok "held = delivered - returned (20), occupancy 20/64" || nok "held/occupancy"
[ "$(q "d['rings'][0]['wakeups_per_buf'], d['rings'][0]['syscalls_per_buf']")" = "(0.05, 0.03)" ] &&
	ok "wakeups/buf = 90/1800, syscalls/buf = (18+36)/1800" || nok "wakeups/syscalls per buffer"
[ "$(q "d['rings'][2]['direction'], d['rings'][2]['held']")" = "('tx', 10)" ] &&
	ok "a sending ring holds the pool but what is at the device (16 - 6)" ||
	nok "a sending ring's held: $(q "d['rings'][2]['held']"), want 10"
[ "$(q "d['rings'][1]['delivered_per_s'], d['rings'][1]['wakeups_per_buf'], d['rings'][3]['state']")" = "(0, None, 'unconfigured')" ] &&
	ok "an idle ring shows rate 0 and no per-buffer figures" || nok "idle ring"

table=$("$stat" --sysfs "$fs" --once --interval 0.1)
echo "$table" | sed 's/^/# /'
if [ "$(echo "$table" | grep -c '^lring')" = 4 ] && echo "$table" | grep -q '^RING'; then
	ok "--once prints a header and one line per ring"
else
	nok "--once prints a header and one line per ring"
fi
lines=$("$stat" --sysfs "$fs" --json --interval 0.1 --count 3 | wc -l)
[ "$lines" = 3 ] && ok "--json --count 3 prints 3 JSON lines" || nok "--json --count 3: $lines lines"

# The live view, in a terminal: redraws in place, quits on Ctrl-C.
if command -v tmux >/dev/null; then
	tmux new-session -d -s "$sess" -x 120 -y 20 "$stat --sysfs $fs --interval 0.2"
	sleep 1.5
	screen=$(tmux capture-pane -p -t "$sess")
	echo "$screen" | sed 's/^/# /'
	if echo "$screen" | grep -q '^lring-stat - 4 rings' &&
		[ "$(echo "$screen" | grep -c '^RING')" = 1 ]; then
		ok "live view under tmux: one redrawn screen, not a scroll of tables"
	else
		nok "live view under tmux: one redrawn screen"
	fi
	tmux send-keys -t "$sess" C-c
	sleep 0.5
	if ! tmux has-session -t "$sess" 2>/dev/null; then
		ok "live view quits on Ctrl-C"
	else
		nok "live view quits on Ctrl-C"
	fi
else
	skipped "live view under tmux" "tmux not installed"
fi
tap_finish
