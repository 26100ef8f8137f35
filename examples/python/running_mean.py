#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""running_mean.py - a running statistic over a ring's stream, in Python.

Reads each completed buffer in place as a numpy array of little-endian
uint64 words (lring.Ring.blocks(): a view of the DMA buffer, no copy) and
keeps the running mean and standard deviation of their top bytes (Chan's
parallel update of Welford's algorithm, one numpy reduction per block).
The simulated device's words are a hash, so the top byte is uniform on
0..255: the mean tends to 127.5 and the deviation to 73.9.

    running_mean.py --dev /dev/lring0 --count 2000 [--rate 5000]
    running_mean.py --mapping /proc/PID/fd/N --count 2000   (see tests/pkg)

lring.py loads liblring-ffi.so.1 (make install); from the source tree,
name the one built there: LRING_FFI_LIB=build/lib/liblring-ffi.so.1.

Prints one line per --every blocks and a JSON summary at the end.
"""
import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "liblring", "python"))
import lring  # noqa: E402  (installed: python3 finds it on its own)


def set_sim(dev, attr, value):
    """Writes a lring_sim parameter, if the ring is a simulated one."""
    path = "/sys/class/lring/%s/device/%s" % (os.path.basename(dev), attr)
    if os.path.exists(path):
        with open(path, "w") as f:
            f.write(str(value))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dev", default="/dev/lring0")
    ap.add_argument("--mapping", help="attach to a ring laid out in this file")
    ap.add_argument("--count", type=int, default=1000, help="blocks to read")
    ap.add_argument("--buf-count", type=int, default=64)
    ap.add_argument("--buf-size", type=int, default=65536)
    ap.add_argument("--rate", type=int, help="lring_sim blocks per second")
    ap.add_argument("--every", type=int, default=0,
                    help="print the statistic every N blocks")
    ap.add_argument("--timeout", type=float, default=10.0)
    args = ap.parse_args()

    if args.mapping:
        import mmap
        fd = os.open(args.mapping, os.O_RDWR)
        size = os.fstat(fd).st_size
        ring = lring.Ring.attach(mmap.mmap(fd, size, mmap.MAP_SHARED))
        os.close(fd)
    else:
        if args.rate is not None:
            set_sim(args.dev, "rate", args.rate)
        ring = lring.Ring(args.dev, args.buf_count, args.buf_size)

    n, mean, m2, blocks, nbytes, gaps = 0, 0.0, 0.0, 0, 0, 0
    t0 = time.monotonic()
    with ring:
        ring.start()
        for b in ring.blocks(np.dtype("<u8"), count=args.count,
                             timeout=args.timeout):
            with b:     # the buffer goes back at the end of this block
                top = b.array >> np.uint64(56)
                k = top.size
                if k:
                    bmean = float(top.mean())
                    bm2 = float(((top - bmean) ** 2).sum())
                    delta = bmean - mean
                    tot = n + k
                    mean += delta * k / tot
                    m2 += bm2 + delta * delta * n * k / tot
                    n = tot
                blocks += 1
                nbytes += b.len
                gaps += b.dropped
            if args.every and blocks % args.every == 0:
                print("%8d blocks  mean %.3f  std %.3f" %
                      (blocks, mean, (m2 / n) ** 0.5 if n else 0.0))
        ring.stop()
        counters = ring.counters()
    secs = time.monotonic() - t0
    print(json.dumps({
        "blocks": blocks, "bytes": nbytes, "samples": n,
        "mean": mean, "std": (m2 / n) ** 0.5 if n else 0.0,
        "dropped_in_stream": gaps, "seconds": round(secs, 3),
        "MiB_per_s": round(nbytes / secs / 2**20, 2) if secs else 0,
        "counters": counters,
    }))


if __name__ == "__main__":
    main()
