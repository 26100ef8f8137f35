#!/usr/bin/env bash
# perf/bench.sh - `make bench`: the standard benchmark set.
#
# Runs ring-host on this machine, ring-bench in the test VM, and the
# recording comparison (lring-record against lring-cat's write() and read()
# copies) in a VM with an NVMe disk, then writes
# docs/perf.md (tables, how it was measured, the machine) and
# docs/perf-throughput.png (gnuplot). Raw results stay in build/bench/.
#
# Environment: BENCH_KERNEL (default 6.1), BENCH_ARGS (extra ring-bench
# options, e.g. "--rounds 5"), BENCH_HOST_ARGS (extra ring-host options).
# Timings never fail this script; only a run that produces no results does.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
out=build/bench
kernel=${BENCH_KERNEL:-6.1}
mkdir -p "$out"

tests/vm/deps.sh
for p in build/perf/ring-bench build/perf/ring-host; do
	[ -x "$p" ] || { echo "bench: $p missing (make userspace)" >&2; exit 1; }
done

# The guest keeps time with the TSC, as real hardware does. Under TCG the
# kernel cannot calibrate it and falls back to the emulated HPET, whose every
# read (each completion's timestamp, each clock_gettime) is an MMIO exit
# under QEMU's global lock. QEMU's TCG TSC runs at the host's TSC rate.
tsc_khz=$(build/perf/ring-host --tsc-khz)
append=""
[ "${tsc_khz:-0}" -gt 0 ] && append="tsc_early_khz=$tsc_khz tsc=reliable clocksource=tsc"

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
echo "bench: host hand-off benchmark (ring-host)"
# shellcheck disable=SC2086
build/perf/ring-host --json ${BENCH_HOST_ARGS:-} >"$out/host.json"

echo "bench: ring-bench in the VM (kernel $kernel, TCG; a few minutes)"
guest='insmod $LRING_MODULES/lring.ko && insmod $LRING_MODULES/lring_sim.ko nr_rings=1 &&
ring-bench --json=/tmp/bench.json '"${BENCH_ARGS:-}"' && echo @@JSON-BEGIN && cat /tmp/bench.json && echo @@JSON-END'
tests/vm/run-vm --kernel "$kernel" --memory 4G --timeout 1800 --append "$append" \
	--log "$out/vm.log" --quiet -- sh -c "$guest"

echo "bench: recording to disk in the VM (lring-record, lring-cat, lring-cat --copy)"
rguest='insmod $LRING_MODULES/lring.ko && insmod $LRING_MODULES/lring_sim.ko nr_rings=1 || exit 1
gib=1073741824 args="--dev /dev/lring0 -o /dev/nvme0n1 --bytes 1073741824 --buf-size 1048576 --buf-count 16 --rate 0"
for round in 1 2 3; do
	for m in record cat copy; do
		case $m in
		record) set -- lring-record $args ;;
		cat) set -- lring-cat $args ;;
		copy) set -- lring-cat --copy $args ;;
		esac
		echo 3 >/proc/sys/vm/drop_caches
		cpu-cost --name $m --bytes $gib --sync -- "$@" 2>/dev/null | sed "s/^/@@REC /"
	done
done'
tests/vm/run-vm --kernel "$kernel" --memory 4G --disk 1100M --timeout 900 --append "$append" \
	--log "$out/record.log" --quiet -- sh -c "$rguest"
sed -n 's/^@@REC //p' "$out/record.log" >"$out/record.jsonl"
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# The JSON, without kernel messages the console may have interleaved.
sed -n '/^@@JSON-BEGIN/,/^@@JSON-END/p' "$out/vm.log" | sed '1d;$d' |
	grep -Ev '^\[ *[0-9]+\.[0-9]+\]' >"$out/vm.json"
grep -v '^\[ *[0-9]' "$out/vm.log" | sed -n '/^Throughput:/,/^xceil:/p' >"$out/vm-table.txt" || true

cat >"$out/meta.json" <<EOF
{"host_cpu": "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)",
 "host_cpus": $(nproc),
 "host_kernel": "$(uname -r)",
 "qemu": "$(qemu-system-x86_64 --version | head -n1)",
 "vm_kernel": "$(sed -n 's/^lring-vm: kernel \(.*\), machine.*/\1/p' "$out/vm.log" | head -n1)",
 "tsc_khz": ${tsc_khz:-0},
 "append": "$append",
 "load_before": "$load_before",
 "load_after": "$load_after",
 "commit": "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)",
 "date": "$(date -u +%Y-%m-%dT%H:%MZ)",
 "bench_args": "${BENCH_ARGS:-}"}
EOF

python3 perf/report.py "$out/vm.json" "$out/host.json" "$out/meta.json" \
	perf/notes.md "$out/throughput.dat" "$out/record.jsonl" >docs/perf.md
gnuplot -e "datafile='$out/throughput.dat'; outfile='docs/perf-throughput.png'" \
	perf/throughput.gp
echo "bench: wrote docs/perf.md and docs/perf-throughput.png"
