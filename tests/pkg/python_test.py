#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The Python binding (liblring/python/lring.py, on liblring-ffi.so.1) on
the host. Prints TAP lines.

Against fake_producer, a userspace model of the kernel side (tests/unit/
fake_kernel.h) in another process, whose memfd this process maps and
attaches to (Ring.attach()): the ABI as ctypes declares it against the C
header, zero copy (every array, batch and the pool view lie in the
mapping, and a view taken early shows what the producer wrote later),
data, and when buffers go back.

Then, in a child process with fake_kernel.so (the same model) preloaded,
whose ioctl() takes the place of the C library's: the whole of liblring
through its real code paths, Ring() opening, configuring and mapping the
fake device, NEED_WAKEUP kicks made by lring_return() and counted by the
fake, and waits that sleep on the eventfd and wake when the fake signals.

Usage: python_test.py FAKE_PRODUCER ABI_HELPER FAKE_KERNEL_SO
       python_test.py --in-process FAKE_KERNEL_SO   (the child)
The environment's LRING_FFI_LIB names the liblring-ffi.so.1 to test."""
import ctypes
import gc
import json
import mmap
import os
import selectors
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "liblring", "python"))
import lring  # noqa: E402

failures = 0


def ok(cond, name):
    global failures
    print("%s - %s" % ("ok" if cond else "not ok", name))
    sys.stdout.flush()
    if not cond:
        failures += 1
    return cond


def sim_words(seed, seq, n):
    """lring_sim_word(seed, seq, 0 .. n-1), vectorised."""
    with np.errstate(over="ignore"):
        x = (np.uint64(seq) << np.uint64(32)) ^ np.arange(n, dtype=np.uint64) \
            ^ np.uint64(seed)
        x ^= x >> np.uint64(29)
        x *= np.uint64(0xbf58476d1ce4e5b9)
        x ^= x >> np.uint64(32)
    return x


def addr(a):
    return a.__array_interface__["data"][0]


def _wait_for(cond, secs=3.0):
    end = time.monotonic() + secs
    while not cond() and time.monotonic() < end:
        time.sleep(0.01)


class Producer:
    def __init__(self, prog, buf_count, buf_size, nblocks, seed):
        self.p = subprocess.Popen([prog, str(buf_count), str(buf_size),
                                   str(nblocks), str(seed), "30"],
                                  stdout=subprocess.PIPE, text=True)
        path, size = self.p.stdout.readline().split()
        self.path = path
        fd = os.open(path, os.O_RDWR)
        self.map = mmap.mmap(fd, int(size), mmap.MAP_SHARED)
        os.close(fd)

    def finish(self):
        out = self.p.stdout.read().strip()
        rc = self.p.wait()
        return rc, dict(kv.split("=") for kv in out.split())


def test_library():
    want = os.environ.get("LRING_FFI_LIB")
    ok(want and lring.LIBRARY == want and lring.lib._name == want,
       "lring.py loaded the library LRING_FFI_LIB names (%s)" % lring.LIBRARY)
    ok(all(hasattr(lring.lib, f) for f in
           ("lring_peek", "lring_release", "lring_return", "lring_smp_mb",
            "lring_open", "lring_wait_for")),
       "it finds the fast path out of line next to liblring's own calls")


def test_abi(helper):
    out = subprocess.run([helper], stdout=subprocess.PIPE, text=True,
                         check=True).stdout.split()
    c = dict((k, int(v, 0)) for k, v in (kv.split("=") for kv in out))
    mine = {}
    for st, name in ((lring.Sqe, "sqe"), (lring.Cqe, "cqe"),
                     (lring.Layout, "layout"),
                     (lring.Config, "config"), (lring.Info, "info"),
                     (lring.Counters, "counters")):
        mine["sizeof." + name] = ctypes.sizeof(st)
        for field, _ in st._fields_:
            mine[name + "." + field] = getattr(st, field).offset
    mine.update({
        "ABI_VERSION": lring.ABI_VERSION, "MAGIC": lring.MAGIC,
        "F_NEED_WAKEUP": lring.F_NEED_WAKEUP, "F_DEAD": lring.F_DEAD,
        "F_RUNNING": lring.F_RUNNING, "CQE_F_ERROR": lring.CQE_F_ERROR,
        "CQE_F_GAP": lring.CQE_F_GAP, "CQE_F_TRUNCATED": lring.CQE_F_TRUNCATED,
        "CQE_F_NOT_SENT": lring.CQE_F_NOT_SENT, "CONFIG_TX": lring.CONFIG_TX,
        "FEAT_TX": lring.FEAT_TX,
    })
    for name, val in lring.BACKENDS.items():
        mine["BACKEND_" + name.upper()] = val
    bad = sorted(k for k in set(c) | set(mine) if mine.get(k) != c.get(k))
    ok(not bad and len(c) > 60,
       "every struct size, field offset and constant of lring.py matches "
       "<linux/lring.h> (%d)%s" % (len(c), " (differ: %s)" % bad if bad else ""))
    ok(lring.CQE_DTYPE.itemsize == c["sizeof.cqe"] and
       lring.CQE_DTYPE.fields["seq"][1] == c["cqe.seq"],
       "CQE_DTYPE, numpy's view of struct lring_cqe, has the same layout")


def test_stream(prog):
    n, seed, buf_size = 400, 0x1234, 16384
    prod = Producer(prog, 16, buf_size, n, seed)
    ring = lring.Ring.attach(prod.map)
    ok(ring.buf_count == 16 and ring.buf_size == buf_size,
       "attach reads the layout from the control page")
    stride = ring.layout["buf_stride"]
    # Taken before any buffer went back: every block from seq 16 on was
    # written after it.
    pool = ring.pool_array(np.dtype("<u8"))
    base = ctypes.addressof(ctypes.c_char.from_buffer(prod.map))
    pool_addr = base + ring.layout["pool_off"]
    ok(addr(pool) == pool_addr and pool.shape == (16, buf_size // 8) and
       pool.strides == (stride, 8) and not pool.flags.writeable,
       "pool_array() is the mapped pool, one read-only row per buffer")
    in_place = bad_data = 0
    last_seq = {}
    expect_seq = 0
    seen = 0
    for a in ring.arrays(np.dtype("<u8"), count=n, timeout=10):
        off = addr(a) - pool_addr
        if off >= 0 and off % stride == 0 and off // stride < ring.buf_count:
            in_place += 1
            last_seq[off // stride] = expect_seq
        if a.flags.writeable or a.size != buf_size // 8:
            bad_data += 1
        elif not np.array_equal(a, sim_words(seed, expect_seq, a.size)):
            bad_data += 1
        expect_seq += 1
        seen += 1
    ok(seen == n, "arrays() yields %d arrays (%d)" % (n, seen))
    ok(in_place == n, "every array is a view of its buffer in the mapping, "
                      "not a copy (%d of %d)" % (in_place, n))
    ok(bad_data == 0,
       "every array is read-only and holds the block's data (%d bad)" % bad_data)
    later = [b for b, s in last_seq.items() if s >= ring.buf_count and
             np.array_equal(pool[b], sim_words(seed, s, pool.shape[1]))]
    ok(len(later) == ring.buf_count,
       "the pool view taken first shows each buffer's last block, written "
       "after it (%d of %d buffers)" % (len(later), ring.buf_count))
    del a, pool
    gc.collect()
    ring.flush()
    rc, c = prod.finish()
    ok(rc == 0 and int(c["returned"]) == n and int(c["rejected_ids"]) == 0,
       "every buffer went back once its array was released (%s)" % c)
    ring.close()


def test_ownership(prog):
    prod = Producer(prog, 8, 4096, 8, 5)
    ring = lring.Ring.attach(prod.map)
    returned = lambda: ring.counters()["returned"]  # noqa: E731
    it = ring.arrays(np.uint8, timeout=10)
    held = [next(it) for _ in range(3)]
    view = held[0][100:200].view(np.uint16)
    ring.flush()
    ok(returned() == 0, "buffers are not returned while their arrays live")
    del held[2]
    ring.wait(0.5)  # flushes
    _wait_for(lambda: returned() == 1)
    ok(returned() == 1, "dropping an array returns its buffer")
    del held[0]
    ring.flush()
    _wait_for(lambda: returned() == 2, 0.3)
    ok(returned() == 1, "a view of a released array keeps the buffer")
    del view
    ring.flush()
    _wait_for(lambda: returned() == 2)
    ok(returned() == 2, "... until the view goes too")
    del held
    it.close()
    b = ring.next_block(timeout=5)
    keep = b.array
    with b:
        ok(b.len == 4096 and b.seq == 3 and keep.size == 4096,
           "a Block carries its completion: %r" % b)
    _wait_for(lambda: returned() == 4)
    ok(returned() == 4, "the end of a with block returns the buffer, even "
                        "with its array still referenced")
    del keep
    for b in ring.blocks(count=4, timeout=5):
        with b:
            pass
    ring.flush()
    rc, c = prod.finish()
    ok(rc == 0 and c["returned"] == "8" and c["rejected_ids"] == "0",
       "no buffer returned twice (%s)" % c)
    t = time.monotonic()
    ok(ring.next_block(timeout=0.2) is None and time.monotonic() - t >= 0.19,
       "next_block() times out: None")
    ring.close()


def test_batch(prog):
    n, seed, size = 64, 77, 8192
    prod = Producer(prog, 16, size, n, seed)
    ring = lring.Ring.attach(prod.map)
    returned = lambda: ring.counters()["returned"]  # noqa: E731
    stride = ring.layout["buf_stride"]
    pool_addr = addr(ring.pool_array())
    _wait_for(lambda: ring.ready() == 16)
    b = ring.batch(timeout=5)
    ok(b is not None and len(b) == 16 and sorted(b.ids.tolist()) == list(range(16))
       and b.seqs.tolist() == list(range(16)) and (b.lens == size).all(),
       "batch() takes every waiting completion: %r" % b)
    arrays = [b.array(i, np.dtype("<u8")) for i in range(len(b))]
    ok(all(addr(a) == pool_addr + int(i) * stride and not a.flags.writeable
           for a, i in zip(arrays, b.ids)),
       "each buffer of a batch is a read-only view in the mapped pool")
    ok(all(np.array_equal(a, sim_words(seed, s, a.size))
           for a, s in zip(arrays, b.seqs.tolist())) and
       bytes(b.memoryview(3)) == arrays[3].tobytes(),
       "... holding its block's data, as an array or a memoryview")
    keep = arrays[5]
    del arrays, b
    gc.collect()
    _wait_for(lambda: returned() > 0, 0.3)
    ok(returned() == 0, "a view of one buffer keeps the whole batch")
    del keep
    ring.flush()
    _wait_for(lambda: returned() == 16)
    ok(returned() == 16, "... whose 16 buffers go back together when it goes")
    with ring.batch(max_entries=8, timeout=5) as b:
        ok(len(b) == 8 and b.seqs.tolist() == list(range(16, 24)),
           "batch(max_entries=8) takes 8, in order")
        first = b[0]
    ring.flush()
    _wait_for(lambda: returned() == 24)
    ok(returned() == 24, "the end of its with block returns them, views or not")
    del first
    seqs = []
    for b in ring.batches(max_entries=5, count=n - 24, timeout=5):
        with b:
            seqs += b.seqs.tolist()
    ok(seqs == list(range(24, n)), "batches() hands out the rest in order")
    ring.flush()
    rc, c = prod.finish()
    ok(rc == 0 and c["returned"] == str(n) and c["rejected_ids"] == "0",
       "every buffer of every batch went back once (%s)" % c)
    ring.close()


def test_example(prog):
    n = 600
    prod = Producer(prog, 32, 32768, n, 99)
    ex = os.path.join(ROOT, "examples", "python", "running_mean.py")
    out = subprocess.run([sys.executable, ex, "--mapping", prod.path,
                          "--count", str(n)], stdout=subprocess.PIPE,
                         text=True)
    try:
        res = json.loads(out.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        res = {}
    rc, c = prod.finish()
    ok(out.returncode == 0 and res.get("blocks") == n,
       "examples/python/running_mean.py reads %d blocks" % n)
    ok(abs(res.get("mean", 0) - 127.5) < 1.5 and abs(res.get("std", 0) - 73.9) < 1.5,
       "its running mean and std of the top bytes are near 127.5 and 73.9 "
       "(%.3f, %.3f)" % (res.get("mean", 0), res.get("std", 0)))
    ok(rc == 0 and c["returned"] == str(n), "it returned every buffer (%s)" % c)


# ---- the child: liblring through the fake device in this process ---------

def fake_kernel(so):
    fk = ctypes.CDLL(so)
    fk.fp_new.argtypes = [ctypes.c_uint64]
    fk.fp_run.argtypes = [ctypes.c_uint64, ctypes.c_uint32, ctypes.c_uint,
                          ctypes.c_int]
    fk.fp_join.argtypes = [ctypes.c_uint]
    fk.fp_join.restype = ctypes.c_uint64
    fk.fp_done.restype = ctypes.c_uint64
    fk.fp_kicks.restype = ctypes.c_uint
    return fk


def test_kicks(fk, ring, seed):
    n, size = 64, 4096
    pool = ring.pool_array(np.dtype("<u8"))
    zero = not pool.any()
    ring.start()
    fk.fp_run(n, size, 0, 0)        # the device never polls its fill ring
    it = ring.arrays(np.dtype("<u8"), timeout=5)
    held = [next(it) for _ in range(ring.buf_count)]
    _wait_for(ring.needs_wakeup)
    ok(ring.needs_wakeup() and ring.flags() & lring.F_NEED_WAKEUP and
       fk.fp_kicks() == 0,
       "holding every buffer runs the device dry: NEED_WAKEUP, no kick yet")
    del held[0]
    ring.flush()
    ok(fk.fp_kicks() == 1,
       "returning one buffer kicks it, once (lring_return() saw NEED_WAKEUP; "
       "%d kicks)" % fk.fp_kicks())
    _wait_for(lambda: fk.fp_done() > ring.buf_count)
    ok(fk.fp_done() > ring.buf_count,
       "... and the device goes on (%d blocks)" % fk.fp_done())
    del held
    it.close()
    bad = seen = aliased = 0
    expect = ring.buf_count
    for b in ring.blocks(np.dtype("<u8"), count=n - ring.buf_count, timeout=5):
        with b:
            seen += 1
            bad += b.seq != expect or \
                not np.array_equal(b.array, sim_words(seed, b.seq, b.array.size))
            expect += 1
            aliased += addr(pool[b.buf_id]) == addr(b.array) and \
                np.array_equal(pool[b.buf_id], b.array)
    fk.fp_join(2000)
    c = ring.counters()
    ok(seen == n - ring.buf_count and bad == 0,
       "Ring() on the fake device streams all %d blocks through liblring "
       "(%d bad)" % (n, bad))
    ok(c["kicks"] == fk.fp_kicks() and 0 < c["kicks"] <= c["need_wakeups"],
       "kicks only when the device raised NEED_WAKEUP: %d kicks, %d "
       "NEED_WAKEUPs" % (c["kicks"], c["need_wakeups"]))
    ok(zero and aliased == seen,
       "a pool view taken before start() shows every block written after "
       "it (%d of %d)" % (aliased, seen))


def test_eventfd(fk, ring):
    ok(ring.event_fd == -1, "no eventfd until enable_eventfd()")
    ring.enable_eventfd(1)
    ok(ring.event_fd >= 0 and ring.event_fd != ring.fileno(),
       "enable_eventfd() makes one (event_fd %d)" % ring.event_fd)
    sig0 = ring.counters()["eventfd_signals"]
    n, period = 6, 0.1
    fk.fp_run(n, 4096, int(period * 1e6), 0)
    wall, cpu = time.monotonic(), time.process_time()
    got = woke = 0
    slowest = 0.0
    while got < n:
        t = time.monotonic()
        k = ring.wait(timeout=2)
        slowest = max(slowest, time.monotonic() - t)
        if not k:
            break
        woke += 1
        b = ring.batch(timeout=0)
        got += len(b)
        b.release()
    wall, cpu = time.monotonic() - wall, time.process_time() - cpu
    fk.fp_join(2000)
    signals = ring.counters()["eventfd_signals"] - sig0
    ok(got == n and signals > 0 and slowest < 1.0,
       "wait() sleeps on the eventfd and wakes for each block: %d blocks, "
       "%d wake-ups, %d signals, longest wait %.3f s" %
       (got, woke, signals, slowest))
    ok(cpu < 0.3 * wall,
       "... asleep, not polling: %.3f s of CPU in %.3f s" % (cpu, wall))
    t = time.monotonic()
    k = ring.wait(timeout=0.2)
    ok(k == 0 and time.monotonic() - t >= 0.19,
       "wait() returns 0 at its timeout when nothing comes")

    # The application's own selector on event_fd.
    fk.fp_run(3, 4096, int(period * 1e6), 0)
    sel = selectors.DefaultSelector()
    sel.register(ring.event_fd, selectors.EVENT_READ)
    got = 0
    deadline = time.monotonic() + 5
    while got < 3 and time.monotonic() < deadline:
        if not sel.select(2):
            continue
        ring.drain_eventfd()
        b = ring.batch(timeout=0)
        if b is not None:
            got += len(b)
            b.release()
    sel.close()
    fk.fp_join(2000)
    ok(got == 3, "event_fd in a selector, drain_eventfd(), batch(): %d of 3" % got)
    ring.disable_eventfd()
    ok(ring.event_fd == -1, "disable_eventfd() closes it")


def in_process(so):
    fk = fake_kernel(so)
    seed = 0x5151
    memfd = fk.fp_new(seed)
    ring = lring.Ring("/proc/self/fd/%d" % memfd, buf_count=8, buf_size=4096)
    ok(ring.buf_count == 8 and ring.fileno() >= 0 and
       ring.features() & 2,     # LRING_FEAT_EVENTFD
       "Ring() opens, configures and maps the fake device through liblring")
    test_kicks(fk, ring, seed)
    test_eventfd(fk, ring)
    ring.stop()
    ring.close()
    try:
        ring.counters()
        closed = False
    except ValueError:
        closed = True
    ok(closed, "a closed ring refuses calls (ValueError), never crashes")
    fk.fp_free()
    return 1 if failures else 0


def main():
    if sys.argv[1] == "--in-process":
        return in_process(sys.argv[2])
    prog, helper, so = sys.argv[1], sys.argv[2], sys.argv[3]
    test_library()
    test_abi(helper)
    test_stream(prog)
    test_ownership(prog)
    test_batch(prog)
    test_example(prog)
    env = dict(os.environ, LD_PRELOAD=so)
    rc = subprocess.run([sys.executable, os.path.abspath(__file__),
                         "--in-process", so], env=env).returncode
    ok(rc == 0, "the in-process tests with fake_kernel.so preloaded "
                "(exit status %d)" % rc)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
