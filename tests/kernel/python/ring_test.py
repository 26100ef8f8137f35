# SPDX-License-Identifier: MIT
"""The Python binding against the real module, in the VM (python group):
configure, map and stream /dev/lring0 from lring_sim through
liblring/python/lring.py, check every array's data against the device's
pattern, that arrays are views of the mapping, that buffers go back when
released, and that the kernel's counters agree. Prints TAP lines."""
import ctypes
import gc
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lring  # noqa: E402

failures = 0
SYS = "/sys/class/lring/lring0"


def ok(cond, name):
    global failures
    print("%s - python: %s" % ("ok" if cond else "not ok", name), flush=True)
    failures += not cond
    return cond


def sim(attr, value):
    with open(SYS + "/device/" + attr, "w") as f:
        f.write(str(value))


def counter(name):
    with open(SYS + "/counters/" + name) as f:
        return int(f.read())


def sim_words(seed, seq, n):
    with np.errstate(over="ignore"):
        x = (np.uint64(seq) << np.uint64(32)) ^ \
            np.arange(n, dtype=np.uint64) ^ np.uint64(seed)
        x ^= x >> np.uint64(29)
        x *= np.uint64(0xbf58476d1ce4e5b9)
        x ^= x >> np.uint64(32)
    return x


def test_stream():
    seed, n, size = 4242, 3000, 8192
    sim("rate", 0)          # as fast as buffers come back: nothing dropped
    sim("block_size", 0)
    sim("seed", seed)
    ring = lring.Ring("/dev/lring0", buf_count=32, buf_size=size,
                      backend="streaming")
    ok(ring.buf_count == 32 and ring.buf_size == size,
       "Ring() configures and maps a pool of 32 x %d" % size)
    with open(SYS + "/state") as f:
        ok(f.read().strip() == "stopped", "sysfs shows the ring stopped")
    base = ctypes.addressof(ctypes.c_char.from_buffer(ring._map))
    lo = base + ring.layout["pool_off"]
    hi = lo + ring.buf_count * ring.layout["buf_stride"]
    ring.start()
    bad = outside = gaps = 0
    seq = 0
    t0 = time.monotonic()
    for b in ring.blocks(np.dtype("<u8"), count=n, timeout=10):
        with b:
            a = b.array
            p = a.__array_interface__["data"][0]
            outside += not (lo <= p < hi)
            if b.seq != seq + b.dropped:
                print("# seq %d, expected %d + dropped %d" % (b.seq, seq, b.dropped))
            gaps += b.dropped
            if a.size != size // 8 or \
                    not np.array_equal(a, sim_words(seed, b.seq, a.size)):
                bad += 1
            seq = b.seq + 1
            del a
    secs = time.monotonic() - t0
    print("# %d blocks of %d bytes in %.2f s: %.1f MiB/s" %
          (n, size, secs, n * size / secs / 2**20))
    gc.collect()
    ring.flush()
    ok(seq - gaps == n, "%d blocks streamed" % n)
    ok(outside == 0, "every array points into the mapped pool (no copy)")
    ok(bad == 0, "every array holds its block's data (%d bad)" % bad)
    ring.stop()
    c = ring.counters()
    ok(c["dropped"] == gaps and c["rejected_ids"] == 0 and
       c["delivered"] >= n and c["returned"] + 32 >= c["delivered"],
       "kernel counters agree: %s" % {k: c[k] for k in
                                      ("delivered", "returned", "dropped",
                                       "rejected_ids", "kicks")})
    ok(counter("delivered") == c["delivered"],
       "sysfs counters/delivered equals the control page's")
    ring.close()


def test_release():
    sim("rate", 2000)
    sim("seed", 1)
    ring = lring.Ring("/dev/lring0", buf_count=8, buf_size=4096)
    ring.start()
    it = ring.arrays(timeout=5)
    held = [next(it) for _ in range(8)]     # every buffer: the device starves
    time.sleep(0.1)
    r0 = counter("returned")
    ok(counter("dropped") > 0, "holding every buffer makes the device drop")
    del held[:4]
    ring.flush()
    time.sleep(0.1)
    ok(counter("returned") == r0 + 4,
       "releasing 4 arrays returns 4 buffers (%d -> %d)" % (r0, counter("returned")))
    b = next(ring.blocks(timeout=5))
    ok(b.flags & lring.CQE_F_GAP and b.dropped > 0,
       "the next block reports the gap: %r" % b)
    with b:
        pass
    del held
    it.close()
    ring.stop()
    ring.close()
    # the device file is closed: another open succeeds
    r2 = lring.Ring("/dev/lring0", buf_count=4, buf_size=4096)
    ok(r2.buf_count == 4, "after close() the ring can be opened again")
    r2.close()


def test_close_with_live_array():
    sim("rate", 1000)
    ring = lring.Ring("/dev/lring0", buf_count=4, buf_size=4096)
    ring.start()
    a = next(ring.arrays(timeout=5))
    ring.close()
    ok(int(a[0]) >= 0 and a.size == 4096,
       "an array outlives close(): the mapping stays until it goes")
    try:
        lring.Ring("/dev/lring0", buf_count=4, buf_size=4096)
        busy = False
    except OSError as e:
        busy = e.errno == 16
    ok(busy, "while it lives the ring stays open (EBUSY for another open)")
    del a
    gc.collect()
    r2 = lring.Ring("/dev/lring0", buf_count=4, buf_size=4096)
    ok(True, "once it is gone the ring opens again")
    r2.close()


def main():
    test_stream()
    test_release()
    test_close_with_live_array()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
