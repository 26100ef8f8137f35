# perf/throughput.gp - throughput vs buffer size per mode, from the data
# file perf/report.py writes. Usage:
#   gnuplot -e "datafile='build/bench/throughput.dat'; outfile='x.png'" perf/throughput.gp
set terminal pngcairo size 960,600 font ",11"
set output outfile
set title "lring-sim in the test VM (QEMU TCG): throughput by consumer mode"
set xlabel "buffer size (KiB)"
set ylabel "GB/s (median round)"
set logscale x 2
set xtics ("4" 4, "16" 16, "64" 64, "256" 256, "1024" 1024, "4096" 4096)
set key outside right top
set grid
set yrange [0:*]
ncol = system("awk 'NR==1{print NF; exit}' " . datafile) + 0
plot for [i=2:ncol] datafile using 1:i with linespoints lw 2 pt 7 title columnheader(i)
