#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The Python binding (liblring/python/lring.py) on the host, against
fake_producer: a userspace model of the kernel side (tests/unit/
fake_kernel.h) in a memfd that this process maps. Checks the ABI constants
against the C header, zero copy, data, and when buffers go back.
Usage: python_test.py FAKE_PRODUCER ABI_HELPER. Prints TAP lines."""
import ctypes
import gc
import json
import mmap
import os
import subprocess
import sys

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


def test_abi(helper):
    out = subprocess.run([helper], stdout=subprocess.PIPE, text=True,
                         check=True).stdout.split()
    c = dict((k, int(v, 0)) for k, v in (kv.split("=") for kv in out))
    mine = {
        "IOC_CONFIGURE": lring.IOC_CONFIGURE, "IOC_GET_INFO": lring.IOC_GET_INFO,
        "IOC_START": lring.IOC_START, "IOC_STOP": lring.IOC_STOP,
        "IOC_KICK": lring.IOC_KICK, "IOC_GET_COUNTERS": lring.IOC_GET_COUNTERS,
        "sizeof_cqe": lring._CQE.size, "sizeof_layout": lring._LAYOUT.size,
        "sizeof_config": lring._CONFIG.size, "sizeof_info": lring._INFO_SIZE,
        "sizeof_counters": lring._COUNTERS.size, "ABI_VERSION": lring.ABI_VERSION,
        "MAGIC": lring.MAGIC, "NEED_WAKEUP": lring.F_NEED_WAKEUP,
        "DEAD": lring.F_DEAD, "CQE_F_GAP": lring.CQE_F_GAP,
    }
    bad = [k for k in c if mine.get(k) != c[k]]
    ok(not bad and len(c) == len(mine),
       "ioctl numbers, struct sizes and flags match <linux/lring.h>%s" %
       (" (differ: %s)" % bad if bad else ""))


def test_stream(prog):
    n, seed, buf_size = 400, 0x1234, 16384
    prod = Producer(prog, 16, buf_size, n, seed)
    ring = lring.Ring.attach(prod.map)
    ok(ring.buf_count == 16 and ring.buf_size == buf_size,
       "attach reads the layout from the control page")
    base = ctypes.addressof(ctypes.c_char.from_buffer(prod.map))
    pool = base + ring.layout["pool_off"]
    in_place = bad_data = bad_seq = 0
    expect_seq = 0
    seen = 0
    for a in ring.arrays(np.dtype("<u8"), count=n, timeout=10):
        addr = a.__array_interface__["data"][0]
        off = addr - pool
        if off >= 0 and off % ring.layout["buf_stride"] == 0 and \
                off // ring.layout["buf_stride"] < ring.buf_count:
            in_place += 1
        if a.flags.writeable or a.size != buf_size // 8:
            bad_data += 1
        elif not np.array_equal(a, sim_words(seed, expect_seq, a.size)):
            bad_data += 1
        expect_seq += 1
        seen += 1
    ok(seen == n, "arrays() yields %d arrays (%d)" % (n, seen))
    ok(in_place == n, "every array is a view of its buffer in the mapping, "
                      "not a copy (%d of %d)" % (in_place, n))
    ok(bad_data == 0 and bad_seq == 0,
       "every array is read-only and holds the block's data (%d bad)" % bad_data)
    del a
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
    ok(ring.next_block(timeout=0.2) is None, "next_block() times out: None")
    ring.close()


def _wait_for(cond, secs=3.0):
    import time
    end = time.monotonic() + secs
    while not cond() and time.monotonic() < end:
        time.sleep(0.01)


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


def main():
    prog, helper = sys.argv[1], sys.argv[2]
    test_abi(helper)
    test_stream(prog)
    test_ownership(prog)
    test_example(prog)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
