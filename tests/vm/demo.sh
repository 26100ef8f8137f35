#!/usr/bin/env bash
# make demo: build everything, boot the Debian 6.1 test VM, load the simulated
# device, stream 256 MiB through each example with every byte verified (and a
# short stream from QEMU's edu PCI device when its driver is built), then
# print a summary table. Exits non-zero if any byte, sequence number or
# counter is wrong.
#
# Usage: demo.sh [--kernel 6.1|6.12] [--mib N]
set -euo pipefail

LRING_PROG=demo
# shellcheck source=tests/vm/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

kernel=6.1
mib=256
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) kernel=$2; shift 2 ;;
	--mib) mib=$2; shift 2 ;;
	*) die "usage: demo.sh [--kernel 6.1|6.12] [--mib N]" ;;
	esac
done

cd "$LRING_ROOT"
log "building"
make -s userspace >/dev/null

# 64 KiB blocks: $mib MiB is 16 blocks per MiB.
count=$((mib * 16))
edu=""
if [ -f kernel/lring_edu.c ]; then
	edu='insmod $LRING_MODULES/lring_edu.ko && edu_dev=$(ls /sys/bus/pci/drivers/lring_edu 2>/dev/null | grep -c :) &&
echo "== edu: 20 blocks of 4000 bytes over real DMA and MSI ($edu_dev device)" &&
edu_test stream coherent 20 4000 8 | tee /tmp/edu.out; grep -q "^not ok" /tmp/edu.out && echo "edu: result=FAIL" || echo "edu: result=pass"
echo "== edu loopback: 10 blocks of 4000 bytes sent on the TX ring, back through the DMA engine into the RX ring" &&
edu_test loopback coherent 10 | tee /tmp/loop.out; grep -q "^not ok" /tmp/loop.out && echo "edu_loopback: result=FAIL" || echo "edu_loopback: result=pass blocks=10 bytes=40000"'
fi

guest=$(
	cat <<EOF
set -e
insmod \$LRING_MODULES/lring.ko
insmod \$LRING_MODULES/lring_sim.ko nr_rings=3
# name CMD...: run an example, counting its process's every system call
run() { n=\$1; shift; count_events.sh syscalls "\$@" 2>&1 | sed "s/^result=/\$n: result=/; s/^syscalls=/\$n: syscalls=/"; }
echo "== busy_poll: $mib MiB, 64 KiB blocks, device as fast as buffers return"
run busy_poll busy_poll --dev /dev/lring0 --count $count --buf-size 65536 --buf-count 32 --rate 0
echo "== busy_poll latency: 2000 blocks of 4 KiB at 1000 blocks/s"
run busy_poll_latency busy_poll --dev /dev/lring0 --count 2000 --buf-size 4096 --buf-count 32 --rate 1000
echo "== eventfd_consumer: $mib MiB, sleeps when idle, wakes per batch of 16"
run eventfd_consumer eventfd_consumer --dev /dev/lring1 --count $count --buf-size 65536 --buf-count 32 --rate 0 --batch 16
echo "== lring-cat --verify: $mib MiB to /dev/null"
run lring-cat lring-cat --dev /dev/lring2 --verify --count $count --buf-size 65536 --buf-count 32 --rate 0 -o /dev/null
echo "== busy_send: $mib MiB the other way, 64 KiB blocks, every one checked by the device"
run busy_send busy_send --dev /dev/lring0 --count $count --buf-size 65536 --buf-count 32 --rate 0
set +e
$edu
EOF
)

log "booting the $kernel test VM"
out=$(mktemp "${TMPDIR:-/tmp}/lring-demo.XXXXXX")
trap 'rm -f "$out"' EXIT
set +e
"$LRING_ROOT/tests/vm/run-vm" --kernel "$kernel" --timeout 1200 -- sh -c "$guest" | tee "$out"
rc=${PIPESTATUS[0]}
set -e

# The examples end with "name: result=ok key=value ...", and the syscall
# count follows as "name: syscalls=N pid=P": one line each, then a table.
results=$(grep -E '^[a-z_-]+: (result|syscalls)=' "$out" | tr -d '\r' || true)
[ -n "$results" ] || die "no example reported a result (VM exit status $rc)"
summary=""
for name in busy_poll busy_poll_latency eventfd_consumer lring-cat busy_send ${edu:+edu edu_loopback}; do
	line=$(grep -m1 "^$name: result=" <<<"$results") || die "$name reported no result (see above)"
	sc=$(grep -m1 "^$name: syscalls=" <<<"$results" | sed 's/^[^:]*: //' || true)
	summary+="$line $sc"$'\n'
done
summary=${summary%$'\n'}
echo
echo "lring demo on kernel $kernel: every byte verified against the device's pattern"
printf '%s\n' "$summary" | awk '
	function get(k,   i, n, kv) {
		for (i = 2; i <= NF; i++) { n = index($i, "="); if (substr($i, 1, n - 1) == k) return substr($i, n + 1) }
		return "-"
	}
	BEGIN {
		printf "%-18s %-6s %8s %8s %8s %6s %9s %12s %12s %9s %9s\n", "example", "result", "MiB", "buffers",
			"MiB/s", "drops", "syscalls", "syscalls/buf", "wakeups/buf", "p50 us", "p99 us"
	}
	{
		name = $1; sub(/:$/, "", name)
		bytes = get("bytes"); secs = get("seconds"); blocks = get("blocks")
		if (bytes == "-") bytes = get("bytes_written")
		if (blocks == "-") blocks = get("blocks_checked")
		mibs = (bytes == "-") ? "-" : sprintf("%.1f", bytes / 1048576)
		rate = (bytes == "-" || secs == "-" || secs == 0) ? "-" : sprintf("%.1f", bytes / 1048576 / secs)
		# every syscall of the process, counted by the kernel
		sc = get("syscalls")
		scb = (sc == "-" || blocks == "-" || blocks == 0) ? "-" : sprintf("%.6f", sc / blocks)
		wk = get("wakeups_per_buf")
		p50 = get("p50_ns"); p99 = get("p99_ns")
		p50 = (p50 == "-") ? "-" : sprintf("%.1f", p50 / 1000)
		p99 = (p99 == "-") ? "-" : sprintf("%.1f", p99 / 1000)
		printf "%-18s %-6s %8s %8s %8s %6s %9s %12s %12s %9s %9s\n", name, get("result"), mibs,
			blocks, rate, get("dropped"), sc, scb, wk, p50, p99
	}'
echo
echo "(Timings are from a TCG-emulated VM: compare ratios, not absolute numbers.)"
if grep -qv "result=pass" <<<"$summary"; then
	die "a stream failed verification (see above)"
fi
[ "$rc" = 0 ] || die "the VM run failed (exit status $rc)"
log "all streams verified"
