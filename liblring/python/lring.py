# SPDX-License-Identifier: MIT
"""lring for Python: read a ring's buffers in place as numpy arrays.

    import numpy as np, lring

    with lring.Ring("/dev/lring0", buf_count=64, buf_size=65536) as ring:
        ring.start()
        for a in ring.arrays(np.uint64, count=1000):
            total += a.sum()        # a is a view of the DMA buffer: no copy

Each array is a read-only numpy view of one mapped buffer. The buffer goes
back to the device when the last array (or view of it) that refers to it
is released; ``ring.blocks()`` yields ``Block`` objects whose ``with``
block returns the buffer at its end instead, and which carry the
completion's ``seq``, ``len``, ``flags``, ``dropped`` and ``timestamp_ns``.
Returned buffers reach the fill ring at the ring's next call (the next
block, ``flush()``, ``wait()`` or ``close()``).

Needs only Python 3 and numpy (Debian: python3, python3-numpy); liblring
itself is not used, because its fast path is inline C. This module speaks
the ring protocol of <linux/lring.h> directly, with ``ioctl()`` for setup
and ``mmap`` for everything else.

Memory ordering. The protocol needs acquire loads of the producer indices
and release stores of our own. Python cannot issue barriers, so this
module is for x86-64 only, whose TSO model gives loads acquire and stores
release semantics by themselves (each access here is an opaque C call that
the compiler cannot reorder). The one ordering TSO does not give is a store
followed by a load (the NEED_WAKEUP test after publishing the fill
producer), so a kick may be missed for an instant; ``wait()`` therefore
checks NEED_WAKEUP again before each sleep and kicks if buffers are
waiting, and sleeps at most ``POLL_SLICE`` seconds at a time.
"""

import collections
import errno
import fcntl
import mmap
import os
import platform
import select
import struct
import time
import weakref

import numpy as np

__all__ = ["Ring", "Block", "LringError", "BACKENDS"]

if platform.machine() not in ("x86_64", "AMD64", "i686", "i386") and \
        not os.environ.get("LRING_PY_ANY_ARCH"):
    raise ImportError("lring.py relies on x86 memory ordering (TSO); "
                      "use liblring from C on this machine")

# ---- <linux/lring.h> -------------------------------------------------------

ABI_VERSION = 1
MAGIC = 0x474e524c
BACKENDS = {"coherent": 0, "streaming": 1, "noncontig": 2, "user": 3}

CQE_F_ERROR = 1 << 0
CQE_F_GAP = 1 << 1
CQE_F_TRUNCATED = 1 << 2
F_NEED_WAKEUP = 1 << 0
F_DEAD = 1 << 1
F_RUNNING = 1 << 2

_LAYOUT = struct.Struct("<13Q12I")      # struct lring_layout, 152 bytes
_LAYOUT_FIELDS = (
    "mmap_size ctrl_off user_off cq_producer_off cq_consumer_off "
    "cq_entries_off fq_producer_off fq_consumer_off fq_entries_off "
    "flags_off counters_off pool_off pool_size cq_entries fq_entries "
    "cqe_size fqe_size buf_count buf_size buf_stride").split()
_CONFIG = struct.Struct("<8I2Q4I")      # struct lring_config, 64 bytes
_INFO_HEAD = struct.Struct("<6I")       # struct lring_info up to layout
_INFO_SIZE = _INFO_HEAD.size + _LAYOUT.size + 8 * 8
_CQE = struct.Struct("<IIQQII")         # struct lring_cqe, 32 bytes
_U32 = struct.Struct("<I")
COUNTERS = ("produced delivered dropped irqs kicks waits eventfd_signals "
            "returned rejected_ids rejected_indices need_wakeups "
            "device_errors").split()
_COUNTERS = struct.Struct("<16Q")


def _ioc(direction, nr, size):
    return (direction << 30) | (size << 16) | (0xb7 << 8) | nr


IOC_CONFIGURE = _ioc(1, 1, _CONFIG.size)
IOC_GET_INFO = _ioc(2, 2, _INFO_SIZE)
IOC_START = _ioc(0, 3, 0)
IOC_STOP = _ioc(0, 4, 0)
IOC_KICK = _ioc(0, 5, 0)
IOC_GET_COUNTERS = _ioc(2, 8, _COUNTERS.size)

POLL_SLICE = 0.1        # longest single sleep in wait(), seconds


class LringError(OSError):
    """A ring operation failed; .errno says why."""


class Block:
    """One completed buffer: metadata plus a zero-copy numpy view.

    ``with ring.next_block() as b: use(b.array)`` returns the buffer when
    the block ends, even if ``b.array`` is still referenced: do not read it
    afterwards (the device may be writing it again).
    """

    __slots__ = ("buf_id", "len", "seq", "timestamp_ns", "flags", "dropped",
                 "array", "_ring", "_final")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.release()

    def release(self):
        """Hand the buffer back now (idempotent)."""
        if self._final is not None and self._final.detach() is not None:
            self._ring._pending.append(self.buf_id)
            self._ring.flush()
        self._final = None
        self.array = None

    def __repr__(self):
        return ("Block(buf_id=%d, len=%d, seq=%d, flags=%#x, dropped=%d)" %
                (self.buf_id, self.len, self.seq, self.flags, self.dropped))


class Ring:
    """One lring ring, configured, mapped, and consumed from Python.

    Ring(path, buf_count, buf_size, backend="coherent") opens the device,
    configures a pool and maps it. Ring.attach(mapping) consumes a ring
    someone else laid out in ``mapping`` (for tests against a userspace
    producer); then there is no device fd, and kick()/start()/stop() are
    no-ops.
    """

    def __init__(self, path="/dev/lring0", buf_count=64, buf_size=65536,
                 backend="coherent", cq_entries=0, fq_entries=0):
        self._fd = -1
        self._map = None
        fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
        try:
            cfg = _CONFIG.pack(buf_count, buf_size, BACKENDS[backend],
                               cq_entries, fq_entries, 0, 0, 0, 0, 0,
                               0, 0, 0, 0)
            fcntl.ioctl(fd, IOC_CONFIGURE, cfg)
            info = bytearray(_INFO_SIZE)
            fcntl.ioctl(fd, IOC_GET_INFO, info, True)
            abi = _INFO_HEAD.unpack_from(info)[0]
            if abi != ABI_VERSION:
                raise LringError(errno.EPROTO, "kernel ABI %d, want %d" %
                                 (abi, ABI_VERSION))
            size = _LAYOUT.unpack_from(info, _INFO_HEAD.size)[0]
            mapping = mmap.mmap(fd, size, mmap.MAP_SHARED,
                                mmap.PROT_READ | mmap.PROT_WRITE)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        self._setup(mapping)

    @classmethod
    def attach(cls, mapping):
        """Consume a ring laid out by another producer in ``mapping``."""
        self = cls.__new__(cls)
        self._fd = -1
        self._map = None
        self._setup(mapping)
        return self

    def _setup(self, mapping):
        magic, abi, _, _ = struct.unpack_from("<4I", mapping, 0)
        if magic != MAGIC or abi != ABI_VERSION:
            raise LringError(errno.EPROTO, "not an lring mapping")
        lay = dict(zip(_LAYOUT_FIELDS, _LAYOUT.unpack_from(mapping, 16)))
        # A later module's completion entries may be larger, never smaller.
        if (lay["cqe_size"] < _CQE.size or lay["cqe_size"] % 8 or
                lay["fqe_size"] != 4 or
                lay["mmap_size"] > len(mapping) or
                lay["pool_off"] + lay["buf_count"] * lay["buf_stride"] >
                len(mapping)):
            raise LringError(errno.EPROTO, "layout does not fit the mapping")
        self._map = mapping
        self.layout = lay
        self.buf_count = lay["buf_count"]
        self.buf_size = lay["buf_size"]
        self._cq_mask = lay["cq_entries"] - 1
        self._cqe_size = lay["cqe_size"]
        self._fq_size = lay["fq_entries"]
        self._cq_head = _U32.unpack_from(mapping, lay["cq_consumer_off"])[0]
        self._fq_prod = _U32.unpack_from(mapping, lay["fq_producer_off"])[0]
        self._pending = []      # ids released by arrays, not yet on the fill ring
        self._ready = collections.deque()  # peeked, not yet handed out

    # ---- control ----------------------------------------------------------

    def _ioctl(self, req, arg=0):
        if self._fd >= 0:
            fcntl.ioctl(self._fd, req, arg)

    def start(self):
        """Start streaming (LRING_IOC_START)."""
        self._ioctl(IOC_START)

    def stop(self):
        """Stop streaming; buffers the application holds stay with it."""
        self._ioctl(IOC_STOP)

    def kick(self):
        """Hand the fill ring's buffers to the device now (a syscall)."""
        self._ioctl(IOC_KICK)

    def flags(self):
        """LRING_F_* from the control page."""
        return self._load(self.layout["flags_off"])

    def counters(self):
        """The kernel's counters, as a dict (read from the control page)."""
        vals = _COUNTERS.unpack_from(self._map, self.layout["counters_off"])
        return dict(zip(COUNTERS, vals))

    def fileno(self):
        return self._fd

    def close(self):
        """Stop using the ring. Arrays still alive keep the mapping alive;
        the device file closes when the last of them is gone."""
        if self._map is None:
            return
        self.flush()
        mapping, self._map = self._map, None
        try:
            mapping.close()
        except BufferError:
            pass        # arrays still refer to it: unmapped when they go
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ---- the two rings ----------------------------------------------------

    def _load(self, off):
        # x86 TSO: a load is not reordered with later loads (acquire)
        return _U32.unpack_from(self._map, off)[0]

    def _store(self, off, val):
        # x86 TSO: a store is not reordered with earlier accesses (release)
        _U32.pack_into(self._map, off, val & 0xffffffff)

    def _peek(self):
        """Copy out waiting completions and free their slots at once."""
        lay = self.layout
        prod = self._load(lay["cq_producer_off"])
        avail = (prod - self._cq_head) & 0xffffffff
        if not avail or avail > self._cq_mask + 1:
            return 0
        base = lay["cq_entries_off"]
        for i in range(avail):
            off = base + ((self._cq_head + i) & self._cq_mask) * self._cqe_size
            self._ready.append(_CQE.unpack_from(self._map, off))
        self._cq_head = (self._cq_head + avail) & 0xffffffff
        self._store(lay["cq_consumer_off"], self._cq_head)
        return avail

    def flush(self):
        """Put released buffers on the fill ring; kick if the device is dry."""
        if not self._pending or self._map is None:
            return
        lay = self.layout
        cons = self._load(lay["fq_consumer_off"])
        room = self._fq_size - ((self._fq_prod - cons) & 0xffffffff)
        n = min(room, len(self._pending))
        ids, self._pending[:n] = self._pending[:n], []
        for i, buf_id in enumerate(ids):
            off = lay["fq_entries_off"] + \
                ((self._fq_prod + i) & (self._fq_size - 1)) * 4
            self._store(off, buf_id)
        self._fq_prod = (self._fq_prod + n) & 0xffffffff
        self._store(lay["fq_producer_off"], self._fq_prod)
        if self.flags() & F_NEED_WAKEUP:
            self.kick()

    def give_back(self, buf_id):
        """Return a buffer by id (what releasing its array does)."""
        self._pending.append(buf_id)
        self.flush()

    def wait(self, timeout=None):
        """Sleep until a completion is waiting; False on timeout.

        Raises LringError(ENODEV) when the device went away."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            self.flush()
            if self._ready or self._peek():
                return True
            flags = self.flags()
            if flags & F_DEAD:
                raise LringError(errno.ENODEV, "the device went away")
            # A NEED_WAKEUP we may have read too early (see the module doc).
            lay = self.layout
            if flags & F_NEED_WAKEUP and \
                    self._load(lay["fq_consumer_off"]) != self._fq_prod:
                self.kick()
            left = POLL_SLICE if deadline is None else \
                min(POLL_SLICE, deadline - time.monotonic())
            if left <= 0:
                return False
            if self._fd >= 0:
                p = select.poll()
                p.register(self._fd, select.POLLIN)
                p.poll(left * 1000)
            else:
                time.sleep(min(left, 0.001))

    def _view(self, buf_id, length, dtype):
        if buf_id >= self.buf_count:
            raise LringError(errno.EIO, "completion names buffer %d" % buf_id)
        dtype = np.dtype(dtype)
        off = self.layout["pool_off"] + buf_id * self.layout["buf_stride"]
        a = np.frombuffer(self._map, dtype=dtype,
                          count=length // dtype.itemsize, offset=off)
        a.flags.writeable = False
        return a

    def next_block(self, dtype=np.uint8, timeout=None):
        """The next completed buffer as a Block, or None on timeout."""
        self.flush()
        if not self._ready and not self.wait(timeout):
            return None
        buf_id, length, seq, ts, flags, dropped = self._ready.popleft()
        b = Block()
        b.buf_id, b.len, b.seq = buf_id, length, seq
        b.timestamp_ns, b.flags, b.dropped = ts, flags, dropped
        b.array = self._view(buf_id, length, dtype)
        b._ring = self
        # a.base is a memoryview private to this array and its views: when
        # the last of them goes, the buffer goes back.
        b._final = weakref.finalize(b.array.base, self._pending.append,
                                    buf_id)
        return b

    def _next_or_raise(self, dtype, timeout):
        b = self.next_block(dtype, timeout)
        if b is None:
            raise TimeoutError("no block within %s s" % timeout)
        return b

    # The generators below hand out values they keep no reference to (the
    # box is emptied by the yield itself), so that dropping what they
    # yielded really releases it.

    def blocks(self, dtype=np.uint8, count=None, timeout=None):
        """Yield Blocks; each is returned at the end of its ``with`` block
        or when it and its array are released. Stops after ``count``
        blocks; raises TimeoutError when none came within ``timeout``."""
        n = 0
        while count is None or n < count:
            box = [self._next_or_raise(dtype, timeout)]
            n += 1
            yield box.pop()

    def arrays(self, dtype=np.uint8, count=None, timeout=None):
        """Yield one read-only numpy view per completed buffer (no copy);
        the buffer goes back when the array and its views are released."""
        n = 0
        while count is None or n < count:
            box = [self._next_or_raise(dtype, timeout).array]
            n += 1
            yield box.pop()
