# SPDX-License-Identifier: MIT
"""The Python binding against the real module, in the VM (python group):
configure, map and stream /dev/lring0 from lring_sim through
liblring/python/lring.py (liblring-ffi.so.1, which LRING_FFI_LIB names),
check every array's data against the device's pattern, that arrays,
batches and the pool view are views of the mapping (a pool view taken
before start() shows the blocks written later), that buffers go back when
released, that returning a buffer to the dry device kicks it, that wait()
sleeps on the eventfd and wakes, and that the kernel's counters agree;
then sends (tx=True): blocks written in place into free buffers and by
write(), each read and checked by the simulated device.
Prints TAP lines."""
import gc
import os
import selectors
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


def addr(a):
    return a.__array_interface__["data"][0]


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
    pool = ring.pool_array(np.dtype("<u8"))     # before the first block
    lo = addr(pool)
    hi = lo + ring.buf_count * ring.layout["buf_stride"]
    ring.start()
    bad = outside = gaps = unseen = 0
    seq = 0
    t0 = time.monotonic()
    for b in ring.blocks(np.dtype("<u8"), count=n, timeout=10):
        with b:
            a = b.array
            p = addr(a)
            outside += not (lo <= p < hi)
            row = pool[b.buf_id][:a.size]
            unseen += addr(row) != p or not np.array_equal(row, a)
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
    ok(unseen == 0, "the pool view taken before start() is the same memory "
                    "and shows every block written since (%d not)" % unseen)
    del pool, row
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


def test_kick():
    sim("rate", 0)          # as fast as buffers come back, never a drop
    sim("seed", 3)
    ring = lring.Ring("/dev/lring0", buf_count=8, buf_size=4096)
    ring.start()
    it = ring.arrays(timeout=5)
    held = [next(it) for _ in range(8)]     # the device runs dry
    end = time.monotonic() + 3
    while not ring.needs_wakeup() and time.monotonic() < end:
        time.sleep(0.01)
    k0 = ring.counters()["kicks"]
    ok(ring.needs_wakeup() and ring.flags() & lring.F_NEED_WAKEUP,
       "holding every buffer: the kernel raises NEED_WAKEUP")
    del held[0]
    ring.flush()
    ok(ring.counters()["kicks"] == k0 + 1 and counter("kicks") == k0 + 1,
       "returning one kicks the device, once, through lring_return() "
       "(%d -> %d)" % (k0, ring.counters()["kicks"]))
    b = ring.next_block(timeout=2)
    ok(b is not None, "and the device streams again: %r" % b)
    del b, held
    it.close()
    ring.stop()
    ring.close()


def test_eventfd():
    seed, n = 9, 12
    sim("rate", 25)         # a block every 40 ms: the consumer sleeps
    sim("seed", seed)
    ring = lring.Ring("/dev/lring0", buf_count=8, buf_size=4096)
    ring.enable_eventfd(1)
    ok(ring.event_fd >= 0 and ring.fileno() >= 0,
       "enable_eventfd(): event_fd %d, device fd %d" %
       (ring.event_fd, ring.fileno()))
    pool_lo = addr(ring.pool_array())
    stride = ring.layout["buf_stride"]
    ring.start()
    sig0 = counter("eventfd_signals")
    wall, cpu = time.monotonic(), time.process_time()
    got = woke = bad = 0
    slowest = 0.0
    while got < n:
        t = time.monotonic()
        if not ring.wait(timeout=2):
            break
        slowest = max(slowest, time.monotonic() - t)
        woke += 1
        with ring.batch(dtype=np.dtype("<u8"), timeout=0) as b:
            for i, a in enumerate(b):
                bad += addr(a) != pool_lo + int(b.ids[i]) * stride \
                    or not np.array_equal(a, sim_words(seed, int(b.seqs[i]), a.size))
            got += len(b)
    wall, cpu = time.monotonic() - wall, time.process_time() - cpu
    signals = counter("eventfd_signals") - sig0
    ok(got >= n and signals > 0 and slowest < 1.0,
       "wait() sleeps on the eventfd and wakes: %d blocks, %d wake-ups, "
       "%d signals, longest wait %.3f s" % (got, woke, signals, slowest))
    ok(cpu < 0.5 * wall, "... asleep, not polling: %.3f s of CPU in %.3f s"
       % (cpu, wall))
    ok(bad == 0, "every buffer of every batch is in place and holds its "
                 "block (%d bad)" % bad)
    sel = selectors.DefaultSelector()
    sel.register(ring.event_fd, selectors.EVENT_READ)
    got = 0
    end = time.monotonic() + 5
    while got < 3 and time.monotonic() < end:
        if sel.select(2):
            ring.drain_eventfd()
            b = ring.batch(timeout=0)
            if b is not None:
                got += len(b)
                b.release()
    sel.close()
    ok(got >= 3, "event_fd in a selector wakes it too (%d blocks)" % got)
    ring.stop()
    ring.close()


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


def sim_read(attr):
    with open(SYS + "/device/" + attr) as f:
        return int(f.read())


def test_one_block():
    seed, n, size = 99, 200, 65536
    sim("rate", 0)
    sim("block_size", 0)
    sim("seed", seed)
    ring = lring.Ring("/dev/lring0", buf_count=16, buf_size=size,
                      backend="streaming", one_block=True)
    ok(ring.layout["config_flags"] & lring.CONFIG_ONE_BLOCK,
       "one_block=True configures the pool in one block (config_flags %#x)"
       % ring.layout["config_flags"])
    ring.start()
    bad = seen = 0
    for b in ring.blocks(np.dtype("<u8"), count=n, timeout=10):
        with b:
            seen += 1
            bad += b.array.size != size // 8 or \
                not np.array_equal(b.array, sim_words(seed, b.seq, size // 8))
    ring.stop()
    ok(seen == n and bad == 0,
       "%d blocks through a pool in one block, every word right (%d bad)"
       % (seen, bad))
    ring.close()


def test_send():
    seed, n, size = 777, 300, 4096
    sim("rate", 0)
    sim("seed", seed)
    ring = lring.Ring("/dev/lring0", buf_count=8, buf_size=size, tx=True)
    ok(ring.tx, "tx=True configures a ring that sends")
    try:
        ring.next_block(timeout=0)
        refused = False
    except ValueError:
        refused = True
    ok(refused, "a ring that sends refuses next_block() (ValueError)")
    ring.start()
    for i in range(n):
        got = ring.free_buffer(timeout=5)
        if got is None:
            break
        buf_id, a = got
        # Written in place: the array is the pool's own memory.
        a.view("<u8")[:] = sim_words(seed, i, size // 8)
        ring.send(buf_id, size)
    # Two more through write(): copies, one block per buffer.
    data = b"".join(sim_words(seed, n + k, size // 8).astype("<u8").tobytes()
                    for k in range(2))
    ok(ring.write(data, timeout=5) == len(data), "write() submits every byte")
    ok(ring.drain(timeout=10), "drain(): every block submitted was sent")
    ring.stop()
    c = ring.counters()
    ok(c["returned"] == n + 2 and c["delivered"] == n + 2 and
       c["cancelled"] == 0, "the books: %d submitted, %d sent" %
       (c["returned"], c["delivered"]))
    ok(sim_read("tx_blocks") == n + 2 and sim_read("tx_mismatches") == 0,
       "the device read %d blocks, %d differed from the pattern" %
       (sim_read("tx_blocks"), sim_read("tx_mismatches")))
    ring.close()


def main():
    test_stream()
    test_release()
    test_kick()
    test_eventfd()
    test_close_with_live_array()
    test_send()
    test_one_block()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
