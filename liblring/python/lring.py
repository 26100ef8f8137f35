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
``ring.batch()`` takes every waiting completion at once (a ``Batch``:
their entries as a numpy record array, a view of each buffer, one return
for all), and ``ring.pool_array()`` is the whole pool as one 2-D view.
Returned buffers reach the fill ring at the ring's next call (the next
block, ``flush()``, ``wait()`` or ``close()``).

To sleep instead of polling: ``ring.enable_eventfd(batch)``, then
``ring.wait(timeout)`` sleeps on the eventfd (``lring_wait_for()``); or put
``ring.event_fd`` (``ring.fileno()`` without an eventfd) into your own
``selectors`` loop and call ``ring.drain_eventfd()`` when it is readable.

This module is a ctypes binding of liblring-ffi.so.1, liblring with its
inline fast path also compiled out of line (docs/liblring.md, "Other
languages"): setup, ``lring_peek()``, ``lring_release()``,
``lring_return()``, their barriers and the NEED_WAKEUP kick are liblring's
own code, on every architecture liblring runs on. The library is found by
its soname; the environment variable ``LRING_FFI_LIB`` names another file
(the tests use build/lib/liblring-ffi.so.1). Needs Python 3 and numpy
(Debian: python3, python3-numpy).

One Ring is used by one thread at a time, as one struct lring is.
"""

import collections
import ctypes
import errno
import functools
import os
import time
import weakref

import numpy as np

__all__ = ["Ring", "Block", "Batch", "LringError", "BACKENDS", "CQE_DTYPE",
           "COUNTERS"]

# ---- <linux/lring.h> -------------------------------------------------------
# The structures as ctypes declares them; tests/pkg/python_test.py checks
# every size and offset against the C header (tests/pkg/python_abi.c).

ABI_VERSION = 1
MAGIC = 0x474e524c
BACKENDS = {"coherent": 0, "streaming": 1, "noncontig": 2, "user": 3}

CQE_F_ERROR = 1 << 0
CQE_F_GAP = 1 << 1
CQE_F_TRUNCATED = 1 << 2
CQE_F_NOT_SENT = 1 << 3
CONFIG_TX = 1 << 0
CONFIG_ONE_BLOCK = 1 << 1
FEAT_TX = 1 << 6
FEAT_MAP_PAGES = 1 << 7
FEAT_EXPORT = 1 << 8
FEAT_DMABUF_POOL = 1 << 9
FEAT_ONE_BLOCK = 1 << 10
MAP_PAGES = 1 << 0
F_NEED_WAKEUP = 1 << 0
F_DEAD = 1 << 1
F_RUNNING = 1 << 2

_u32, _u64 = ctypes.c_uint32, ctypes.c_uint64


class Sqe(ctypes.Structure):
    """struct lring_sqe: one block to send (a ring configured to send)."""
    _fields_ = [("buf_id", _u32), ("len", _u32)]


class Cqe(ctypes.Structure):
    """struct lring_cqe: one completion."""
    _fields_ = [("buf_id", _u32), ("len", _u32), ("seq", _u64),
                ("timestamp_ns", _u64), ("flags", _u32), ("dropped", _u32)]


class Layout(ctypes.Structure):
    """struct lring_layout: where everything lives in the mapping."""
    _fields_ = [(name, _u64) for name in (
        "mmap_size ctrl_off user_off cq_producer_off cq_consumer_off "
        "cq_entries_off fq_producer_off fq_consumer_off fq_entries_off "
        "flags_off counters_off pool_off pool_size").split()] + \
        [(name, _u32) for name in (
            "cq_entries fq_entries cqe_size fqe_size buf_count buf_size "
            "buf_stride config_flags map_flags").split()] + [("resv", _u32 * 3)]


class Config(ctypes.Structure):
    """struct lring_config: the argument of lring_configure()."""
    _fields_ = [("buf_count", _u32), ("buf_size", _u32), ("backend", _u32),
                ("cq_entries", _u32), ("fq_entries", _u32),
                ("index_base", _u32), ("flags", _u32), ("resv0", _u32),
                ("user_addr", _u64), ("user_len", _u64),
                ("dmabuf_fds", _u64), ("resv", _u32 * 2)]


class Info(ctypes.Structure):
    """struct lring_info: the answer of lring_get_info()."""
    _fields_ = [("abi_version", _u32), ("configured", _u32),
                ("backend", _u32), ("flags", _u32),
                ("segments_per_buf", _u32), ("resv0", _u32),
                ("layout", Layout), ("features", _u64), ("resv", _u64 * 7)]


COUNTERS = ("produced delivered dropped irqs kicks waits eventfd_signals "
            "returned rejected_ids rejected_indices need_wakeups "
            "device_errors cancelled").split()


class Counters(ctypes.Structure):
    """struct lring_counters: the kernel's event counters."""
    _fields_ = [(name, _u64) for name in COUNTERS] + [("resv", _u64 * 3)]


# The completion entry as numpy sees it: Batch.entries has this dtype.
CQE_DTYPE = np.dtype(Cqe)

# ---- liblring-ffi.so.1 -----------------------------------------------------

_ring_p = ctypes.c_void_p               # struct lring *
_u32_p = ctypes.POINTER(_u32)
_c_int, _c_uint = ctypes.c_int, ctypes.c_uint
_PROTOTYPES = {
    # setup, waits and the rest of liblring.so.1 (out of line in C too)
    "lring_open": (_c_int, [ctypes.c_char_p, ctypes.POINTER(_ring_p)]),
    "lring_open_fd": (_c_int, [_c_int, ctypes.POINTER(_ring_p)]),
    "lring_configure": (_c_int, [_ring_p, ctypes.POINTER(Config)]),
    "lring_get_info": (_c_int, [_ring_p, ctypes.POINTER(Info)]),
    "lring_features": (_u64, [_ring_p]),
    "lring_map": (_c_int, [_ring_p]),
    "lring_attach": (_c_int, [_ring_p, ctypes.c_void_p, ctypes.c_size_t]),
    "lring_close": (None, [_ring_p]),
    "lring_start": (_c_int, [_ring_p]),
    "lring_stop": (_c_int, [_ring_p]),
    "lring_kick": (_c_int, [_ring_p]),
    "lring_enable_eventfd": (_c_int, [_ring_p, _c_uint]),
    "lring_disable_eventfd": (_c_int, [_ring_p]),
    "lring_register_eventfd": (_c_int, [_ring_p, _c_int, _c_uint]),
    "lring_eventfd_drain": (_c_int, [_c_int]),
    "lring_wait": (_c_int, [_ring_p, _c_int]),
    "lring_wait_for": (_c_int, [_ring_p, _c_uint, ctypes.c_int64,
                                ctypes.c_void_p]),
    "lring_wait_ioctl": (_c_int, [_ring_p, _u64, _c_uint]),
    "lring_counters": (_c_int, [_ring_p, ctypes.POINTER(Counters)]),
    "lring_strerror": (ctypes.c_char_p, [_c_int]),
    # the inline fast path, out of line in liblring-ffi.so.1 only
    "lring_load_acquire": (_u32, [ctypes.c_void_p]),
    "lring_store_release": (None, [ctypes.c_void_p, _u32]),
    "lring_smp_mb": (None, []),
    "lring_fd": (_c_int, [_ring_p]),
    "lring_event_fd": (_c_int, [_ring_p]),
    "lring_buf_size": (_u32, [_ring_p]),
    "lring_buf_count": (_u32, [_ring_p]),
    "lring_layout": (ctypes.POINTER(Layout), [_ring_p]),
    "lring_flags": (_u32, [_ring_p]),
    "lring_needs_wakeup": (_c_int, [_ring_p]),
    "lring_peek": (_c_uint, [_ring_p, _c_uint, _u32_p]),
    "lring_cq_ready": (_c_int, [_ring_p]),
    "lring_cqe": (ctypes.c_void_p, [_ring_p, _u32]),
    "lring_cqe_ids": (None, [_ring_p, _u32, _c_uint, _u32_p]),
    "lring_buf": (ctypes.c_void_p, [_ring_p, _u32]),
    "lring_release": (None, [_ring_p, _c_uint]),
    "lring_fill_free": (_u32, [_ring_p, _u32]),
    "lring_fill_reserve": (_c_uint, [_ring_p, _c_uint, _u32_p]),
    "lring_fqe": (ctypes.c_void_p, [_ring_p, _u32]),
    "lring_fill_submit": (_c_int, [_ring_p, _c_uint]),
    "lring_flush": (_c_int, [_ring_p]),
    "lring_defer": (None, [_ring_p, _c_uint]),
    "lring_return": (_c_int, [_ring_p, _u32_p, _c_uint]),
    "lring_is_tx": (_c_int, [_ring_p]),
    "lring_take_free": (_c_uint, [_ring_p, _c_uint, _u32_p]),
    "lring_sqe": (ctypes.c_void_p, [_ring_p, _u32]),
    "lring_send": (_c_int, [_ring_p, ctypes.POINTER(Sqe), _c_uint]),
}

LIBRARY = os.environ.get("LRING_FFI_LIB") or "liblring-ffi.so.1"


def _load(path):
    try:
        lib = ctypes.CDLL(path)
    except OSError as e:
        raise ImportError(
            "lring: cannot load %s (%s); install liblring (make install, "
            "then ldconfig) or set LRING_FFI_LIB to the library's path" %
            (path, e)) from e
    for name, (restype, argtypes) in _PROTOTYPES.items():
        fn = getattr(lib, name)
        fn.restype, fn.argtypes = restype, argtypes
    return lib


# Every function of liblring-ffi.so.1, with its C prototype; for calls this
# module does not wrap. The handle is Ring.handle.
lib = _load(LIBRARY)


class LringError(OSError):
    """A ring operation failed; .errno says why."""


def strerror(err):
    """liblring's message for a (negative) errno."""
    return lib.lring_strerror(err).decode(errors="replace")


def _check(ret, what):
    if ret < 0:
        raise LringError(-ret, "%s: %s" % (what, strerror(ret)))
    return ret


@functools.lru_cache(maxsize=None)
def _span_type(size):
    # A ctypes array type over @size bytes of the mapping, whose instances
    # take attributes: each holds the _Mapping it lies in.
    return type("_LringSpan", (ctypes.c_ubyte * size,), {})


class _Mapping:
    """The liblring handle and the mapping it points into.

    Every array, memoryview and span over the mapping holds this object
    (span._mapping), and so does the Ring until close(): lring_close() runs
    when the last of them is gone, so that no view outlives the mapping
    (and the device file stays open until then)."""

    def __init__(self, handle, hold=None):
        lay = lib.lring_layout(handle)
        if not lay:
            raise LringError(errno.EINVAL, "the ring is not mapped")
        self.handle = handle
        self.layout = Layout.from_buffer_copy(lay.contents)
        self.pool_addr = lib.lring_buf(handle, 0)       # buffer 0
        self.hold = hold        # attach(): the caller's mmap, exported
        # Last: from here on the handle is this object's to close. Not at
        # exit: views may still be read then, and exit unmaps anyway.
        self._final = weakref.finalize(self, lib.lring_close, handle)
        self._final.atexit = False

    def span(self, addr, size):
        """A new ctypes object over [addr, addr + size) of the mapping."""
        s = _span_type(size).from_address(addr)
        s._mapping = self
        return s


class _HandBack:
    """What a Block and a Batch share: their buffers go back once, when
    released, at the end of a ``with``, or when the last view of their data
    is collected (``_final``, a weakref.finalize on it)."""

    __slots__ = ()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.release()

    def _give_back(self, ids):
        if self._final is not None and self._final.detach() is not None:
            self._ring._pending.extend(ids)
            self._ring.flush()
        self._final = None


class Block(_HandBack):
    """One completed buffer: metadata plus a zero-copy numpy view.

    ``with ring.next_block() as b: use(b.array)`` returns the buffer when
    the block ends, even if ``b.array`` is still referenced: do not read it
    afterwards (the device may be writing it again).
    """

    __slots__ = ("buf_id", "len", "seq", "timestamp_ns", "flags", "dropped",
                 "array", "_ring", "_final")

    def release(self):
        """Hand the buffer back now (idempotent)."""
        self._give_back([self.buf_id])
        self.array = None

    def __repr__(self):
        return ("Block(buf_id=%d, len=%d, seq=%d, flags=%#x, dropped=%d)" %
                (self.buf_id, self.len, self.seq, self.flags, self.dropped))


class Batch(_HandBack):
    """Completions taken together (``Ring.batch()``).

    ``entries`` is a copy of their completion entries, a numpy record
    array of ``CQE_DTYPE`` (``ids``, ``lens``, ``seqs`` are its columns);
    ``batch[i]`` (and iterating) gives a read-only numpy view of buffer i,
    ``memoryview(i)`` the same as a memoryview, both in place. The buffers
    go back together, in one ``lring_return()``: at the end of a ``with``
    block, on ``release()``, or when the batch and every view of its
    buffers are gone, whichever comes first. Do not read a view after
    ``release()``.
    """

    __slots__ = ("entries", "dtype", "_ring", "_span", "_final")

    @property
    def ids(self):
        return self.entries["buf_id"]

    @property
    def lens(self):
        return self.entries["len"]

    @property
    def seqs(self):
        return self.entries["seq"]

    def __len__(self):
        return len(self.entries)

    def array(self, i, dtype=None):
        """Buffer i of the batch, its ``len`` bytes, as a numpy view."""
        if self._span is None:
            raise ValueError("lring: the batch was released")
        dt = np.dtype(self.dtype if dtype is None else dtype)
        e = self.entries[i]
        a = np.frombuffer(self._span, dtype=dt, count=int(e["len"]) // dt.itemsize,
                          offset=int(e["buf_id"]) * self._ring._stride)
        a.flags.writeable = False
        return a

    def memoryview(self, i):
        """Buffer i of the batch, its ``len`` bytes, as a memoryview."""
        if self._span is None:
            raise ValueError("lring: the batch was released")
        off = int(self.entries[i]["buf_id"]) * self._ring._stride
        return memoryview(self._span)[off:off + int(self.entries[i]["len"])] \
            .toreadonly()

    def __getitem__(self, i):
        return self.array(i)

    def __iter__(self):
        return (self.array(i) for i in range(len(self.entries)))

    def release(self):
        """Hand every buffer of the batch back now (idempotent)."""
        self._give_back(self.ids.tolist())
        self._span = None

    def __repr__(self):
        return "Batch(%d completions, ids=%s)" % (len(self), self.ids.tolist())


class Ring:
    """One lring ring, configured, mapped, and consumed from Python.

    Ring(path, buf_count, buf_size, backend="coherent") opens the device,
    configures a pool and maps it (lring_open(), lring_configure()).
    With ``one_block=True`` a streaming pool is one physically contiguous
    block (LRING_CONFIG_ONE_BLOCK).
    With ``tx=True`` the ring sends (LRING_CONFIG_TX): take a free buffer
    with free_buffer(), write the block into the array it gives, submit it
    with send(); write() does the three for a bytes-like object (a copy),
    drain() waits until everything submitted was sent.
    Ring.attach(mapping) consumes a ring someone else laid out in
    ``mapping`` (for tests against a userspace producer): there is no
    device then, start()/stop()/kick() do nothing, the producer must look
    at its fill ring without a kick, and wait() checks every millisecond.

    ``handle`` is the struct lring * (an int), for calls through ``lib``
    that this class does not wrap.
    """

    def __init__(self, path="/dev/lring0", buf_count=64, buf_size=65536,
                 backend="coherent", cq_entries=0, fq_entries=0, tx=False,
                 one_block=False):
        self._mapping = None
        handle = _ring_p()
        _check(lib.lring_open(os.fsencode(path), ctypes.byref(handle)), path)
        try:
            cfg = Config(buf_count=buf_count, buf_size=buf_size,
                         backend=BACKENDS[backend], cq_entries=cq_entries,
                         fq_entries=fq_entries,
                         flags=(CONFIG_TX if tx else 0) |
                         (CONFIG_ONE_BLOCK if one_block else 0))
            _check(lib.lring_configure(handle, ctypes.byref(cfg)),
                   "%s: configure" % path)
            mapping = _Mapping(handle.value)
        except BaseException:
            lib.lring_close(handle)
            raise
        self._device = True
        self._setup(mapping)

    @classmethod
    def attach(cls, mapping):
        """Consume a ring laid out by another producer in ``mapping`` (an
        mmap object; close() closes it once no view is left)."""
        self = cls.__new__(cls)
        self._mapping = None
        hold = (ctypes.c_ubyte * len(mapping)).from_buffer(mapping)
        # The handle needs an fd: an eventfd nobody signals, which liblring
        # polls in wait() (a timeout) and refuses to ioctl (no kick).
        fd = os.eventfd(0, os.EFD_CLOEXEC)
        handle = _ring_p()
        err = lib.lring_open_fd(fd, ctypes.byref(handle))
        if err < 0:
            os.close(fd)
            _check(err, "attach")
        try:
            _check(lib.lring_attach(handle, ctypes.addressof(hold),
                                    len(mapping)), "attach")
            m = _Mapping(handle.value, (hold, mapping))
        except BaseException:
            lib.lring_close(handle)
            raise
        self._device = False
        self._setup(m)
        return self

    def _setup(self, m):
        h = m.handle
        lay = m.layout
        self._mapping = m
        self.handle = h
        self.layout = {name: getattr(lay, name) for name, _ in Layout._fields_
                       if name != "resv"}
        self.buf_count = lib.lring_buf_count(h)
        self.buf_size = lib.lring_buf_size(h)
        self._stride = lay.buf_stride
        # The completion ring as a numpy array in place, entry i at
        # lring_cqe(r, i), layout.cqe_size apart (a later module's entries
        # may be larger than CQE_DTYPE): a batch is copied out in one step.
        names = CQE_DTYPE.names
        ring_dtype = np.dtype({
            "names": names, "offsets": [CQE_DTYPE.fields[n][1] for n in names],
            "formats": [CQE_DTYPE.fields[n][0] for n in names],
            "itemsize": lay.cqe_size})
        cq0 = lib.lring_cqe(h, 0)
        self._cq = np.frombuffer(m.span(cq0, lay.cq_entries * lay.cqe_size),
                                 dtype=ring_dtype)
        self._cq.flags.writeable = False
        self._cq_mask = lay.cq_entries - 1
        self._idx = _u32()
        self._pending = []      # ids released by arrays, not yet on the fill ring
        self._ready = collections.deque()  # peeked, not yet handed out
        self.tx = bool(lib.lring_is_tx(h))
        self._free = collections.deque()   # sending: free ids, not yet used

    def _h(self):
        if self._mapping is None:
            raise ValueError("lring: the ring is closed")
        return self.handle

    # ---- control ----------------------------------------------------------

    def start(self):
        """Start streaming (lring_start())."""
        if self._device:
            _check(lib.lring_start(self._h()), "start")

    def stop(self):
        """Stop streaming; buffers the application holds stay with it."""
        if self._device:
            _check(lib.lring_stop(self._h()), "stop")

    def kick(self):
        """Hand the fill ring's buffers to the device now (a syscall).
        Returning buffers kicks by itself when the device needs it."""
        if self._device:
            _check(lib.lring_kick(self._h()), "kick")

    def features(self):
        """LRING_FEAT_* of the module (lring_features())."""
        return lib.lring_features(self._h())

    def flags(self):
        """LRING_F_* from the control page (lring_flags())."""
        return lib.lring_flags(self._h())

    def needs_wakeup(self):
        """Whether the device waits for a kick (lring_needs_wakeup())."""
        return bool(lib.lring_needs_wakeup(self._h()))

    def counters(self):
        """The kernel's counters, as a dict (read from the control page)."""
        c = Counters()
        _check(lib.lring_counters(self._h(), ctypes.byref(c)), "counters")
        return {name: getattr(c, name) for name in COUNTERS}

    def fileno(self):
        """The device fd (lring_fd()), for a selector: readable when
        completions wait. -1 for an attached ring."""
        return lib.lring_fd(self._h()) if self._device else -1

    # ---- eventfd -----------------------------------------------------------

    def enable_eventfd(self, batch=1):
        """Have the kernel signal an eventfd of the ring's own when ``batch``
        completions wait (1: when the ring turns non-empty); wait() then
        sleeps on it. lring_enable_eventfd()."""
        _check(lib.lring_enable_eventfd(self._h(), batch), "enable_eventfd")

    def disable_eventfd(self):
        """Stop the signals and close the eventfd (or unregister yours)."""
        _check(lib.lring_disable_eventfd(self._h()), "disable_eventfd")

    def register_eventfd(self, fd, batch=1):
        """Have the kernel signal ``fd``, an eventfd of yours that may serve
        several rings (lring_register_eventfd()); you keep ``fd``."""
        _check(lib.lring_register_eventfd(self._h(), fd, batch),
               "register_eventfd")

    @property
    def event_fd(self):
        """The eventfd enable_eventfd() made, or -1: put it in your own
        selector, and call drain_eventfd() when it is readable."""
        return lib.lring_event_fd(self._h())

    def drain_eventfd(self, fd=None):
        """Reset the eventfd (``fd``, else the ring's own) after it woke you,
        before taking completions (lring_eventfd_drain())."""
        fd = self.event_fd if fd is None else fd
        if fd >= 0:
            _check(lib.lring_eventfd_drain(fd), "drain_eventfd")

    # ---- closing -----------------------------------------------------------

    def close(self):
        """Stop using the ring. Arrays still alive keep the mapping alive;
        the device file closes when the last of them is gone."""
        m = self._mapping
        if m is None:
            return
        self.flush()
        self._mapping = self._cq = None
        self._ready.clear()
        mm = m.hold[1] if m.hold else None
        del m       # the last reference, unless views are left
        if mm is not None:
            try:
                mm.close()
            except BufferError:
                pass    # views still refer to it: unmapped when they go

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ---- the two rings ----------------------------------------------------

    def _peek(self, max_entries):
        """Take up to max_entries completions: copy their entries out and
        free their slots at once (the buffers stay ours)."""
        h = self._h()
        n = lib.lring_peek(h, max_entries, ctypes.byref(self._idx))
        if not n:
            return np.empty(0, CQE_DTYPE)
        sel = (np.arange(n, dtype=np.uint64) + self._idx.value) & self._cq_mask
        entries = self._cq[sel].astype(CQE_DTYPE)
        lib.lring_release(h, n)
        bad = entries["buf_id"] >= self.buf_count
        if bad.any():
            raise LringError(errno.EIO, "a completion names buffer %d" %
                             entries["buf_id"][bad][0])
        return entries

    def flush(self):
        """Put released buffers on the fill ring (lring_return(), which
        kicks the device if it waits for buffers)."""
        if not self._pending or self._mapping is None:
            return
        ids = self._pending[:]
        del self._pending[:len(ids)]    # a finalizer may append meanwhile
        arr = np.array(ids, dtype=np.uint32)
        err = lib.lring_return(self.handle, arr.ctypes.data_as(_u32_p),
                               len(arr))
        # Without a device the kick fails (ENOTTY): the producer polls.
        if err == -errno.ENOSPC:
            self._pending[:0] = ids
        if err < 0 and (self._device or err == -errno.ENOSPC):
            _check(err, "return")

    def give_back(self, buf_id):
        """Return a buffer by id (what releasing its array does)."""
        self._pending.append(buf_id)
        self.flush()

    def ready(self):
        """Completions waiting, taken or not (no syscall)."""
        n = _check(lib.lring_cq_ready(self._h()), "ready")
        return n + len(self._ready)

    def wait(self, timeout=None, min_entries=1):
        """Sleep until ``min_entries`` completions wait (lring_wait_for():
        on the eventfd if one is enabled, else in poll() on the device).

        Returns how many wait: ``min_entries`` or more, fewer but at least
        one at the timeout, 0 (false) if none came within ``timeout``
        seconds (None: no limit). Raises LringError(ENODEV) when the device
        went away."""
        h = self._h()
        self.flush()
        have = len(self._ready)
        if have >= min_entries:
            return have
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = -1 if deadline is None else \
                max(0, int((deadline - time.monotonic()) * 1e9))
            if not self._device:
                # nobody signals: look every millisecond
                left = 1000000 if left < 0 else min(left, 1000000)
            n = lib.lring_wait_for(h, min_entries - have, left, None)
            if n > 0:
                return n + have
            if n == -errno.ETIMEDOUT:
                if deadline is not None and time.monotonic() >= deadline:
                    return have
                continue        # an attached ring's slice ended
            if n == -errno.EINTR:
                continue        # signal handlers have run: sleep on
            _check(n, "wait")

    # ---- sending (a ring configured with tx=True) ---------------------------

    def _need_tx(self):
        if not self.tx:
            raise ValueError("lring: the ring receives: configure it with "
                             "tx=True to send")
        return self._h()

    def free_buffer(self, timeout=None):
        """A free buffer to write a block into: (buf_id, array), the array
        a writable uint8 view of the whole buffer, in place. Sleeps until
        one is free (a sent block's buffer comes back), at most ``timeout``
        seconds; None if none came. The buffer is ours until send()."""
        h = self._need_tx()
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._free:
            ids = np.empty(self._cq_mask + 1, dtype=np.uint32)
            n = lib.lring_take_free(h, len(ids), ids.ctypes.data_as(_u32_p))
            self._free.extend(ids[:n].tolist())
            if self._free:
                break
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return None
            n = lib.lring_wait_for(h, 1, -1 if left is None else
                                   int(left * 1e9), None)
            if n < 0 and n not in (-errno.ETIMEDOUT, -errno.EINTR):
                _check(n, "wait")
        buf_id = self._free.popleft()
        m = self._mapping
        a = np.frombuffer(m.span(m.pool_addr, m.layout.pool_size),
                          dtype=np.uint8, count=self.buf_size,
                          offset=buf_id * self._stride)
        return buf_id, a

    def send(self, buf_id, length):
        """Submit the first ``length`` bytes of buffer ``buf_id`` (from
        free_buffer()) to be sent (lring_send(): a system call only if the
        device waits for a kick). Blocks go out in the order sent."""
        h = self._need_tx()
        sqe = Sqe(buf_id=buf_id, len=length)
        _check(lib.lring_send(h, ctypes.byref(sqe), 1), "send")

    def write(self, data, timeout=None):
        """Send a bytes-like object, copied into as many buffers as it
        takes. Returns the bytes submitted: fewer only if no buffer came
        free within ``timeout`` seconds."""
        view = memoryview(data).cast("B")
        done = 0
        while done < len(view):
            got = self.free_buffer(timeout)
            if got is None:
                break
            buf_id, a = got
            n = min(self.buf_size, len(view) - done)
            a[:n] = np.frombuffer(view[done:done + n], dtype=np.uint8)
            self.send(buf_id, n)
            done += n
        return done

    def drain(self, timeout=None):
        """Wait until every block submitted was sent (or came back
        unsent after stop()). Returns True, or False at the timeout."""
        h = self._need_tx()
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            c = self.counters()
            if c["delivered"] + c["cancelled"] + c["dropped"] >= c["returned"]:
                return True
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return False
            ids = np.empty(self._cq_mask + 1, dtype=np.uint32)
            n = lib.lring_take_free(h, len(ids), ids.ctypes.data_as(_u32_p))
            self._free.extend(ids[:n].tolist())
            if not n:
                lib.lring_wait_for(h, 1, 100000000 if left is None else
                                   int(min(left, 0.1) * 1e9), None)

    # ---- views -------------------------------------------------------------

    def _view(self, span, buf_id, length, dtype):
        a = np.frombuffer(span, dtype=dtype, count=length // dtype.itemsize,
                          offset=buf_id * self._stride)
        a.flags.writeable = False
        return a

    def pool_array(self, dtype=np.uint8):
        """The whole pool as one read-only 2-D numpy array, in place: row i
        is buffer i (buf_size bytes). Rows of buffers the application does
        not hold change under it: read a row between its completion and
        its return."""
        self._h()
        m = self._mapping
        dt = np.dtype(dtype)
        a = np.ndarray((self.buf_count, self.buf_size // dt.itemsize), dtype=dt,
                       buffer=m.span(m.pool_addr, m.layout.pool_size),
                       strides=(self._stride, dt.itemsize))
        a.flags.writeable = False
        return a

    def pool_memoryview(self):
        """The whole pool as one read-only memoryview, in place (buffer i
        at i * layout["buf_stride"])."""
        self._h()
        m = self._mapping
        return memoryview(m.span(m.pool_addr, m.layout.pool_size)).toreadonly()

    # ---- taking completions -------------------------------------------------

    def _take(self, timeout):
        """Fill the ready queue; False if nothing came within timeout."""
        if self.tx:
            raise ValueError("lring: a ring that sends has no blocks to "
                             "take: free_buffer(), send()")
        if self._ready:
            return True
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            self.flush()
            self._ready.extend(self._peek(self._cq_mask + 1).tolist())
            if self._ready:
                return True
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return False
            if not self.wait(left):
                return bool(self._ready)

    def next_block(self, dtype=np.uint8, timeout=None):
        """The next completed buffer as a Block, or None on timeout."""
        self.flush()
        if not self._take(timeout):
            return None
        buf_id, length, seq, ts, flags, dropped = self._ready.popleft()
        m = self._mapping
        span = m.span(m.pool_addr, m.layout.pool_size)
        b = Block()
        b.buf_id, b.len, b.seq = buf_id, length, seq
        b.timestamp_ns, b.flags, b.dropped = ts, flags, dropped
        b.array = self._view(span, buf_id, length, np.dtype(dtype))
        b._ring = self
        # The span is private to this array and its views: when the last of
        # them goes, the buffer goes back.
        b._final = weakref.finalize(span, self._pending.append, buf_id)
        return b

    def batch(self, max_entries=None, dtype=np.uint8, timeout=None):
        """Every waiting completion, up to ``max_entries`` (default: the
        ring's size), as a Batch; waits like next_block() when none is
        there, None on timeout."""
        self.flush()
        limit = self._cq_mask + 1 if max_entries is None else max_entries
        if not self._take(timeout):
            return None
        k = min(limit, len(self._ready))
        entries = np.array([self._ready.popleft() for _ in range(k)],
                           dtype=CQE_DTYPE)
        if k < limit and not self._ready:
            entries = np.concatenate([entries, self._peek(limit - k)])
        m = self._mapping
        b = Batch()
        b.entries = entries
        b.dtype = np.dtype(dtype)
        b._ring = self
        b._span = m.span(m.pool_addr, m.layout.pool_size)
        b._final = weakref.finalize(b._span, self._pending.extend,
                                    entries["buf_id"].tolist())
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

    def batches(self, max_entries=None, dtype=np.uint8, count=None,
                timeout=None):
        """Yield Batches until ``count`` completions have been handed out
        (the last batch is cut to fit); raises TimeoutError when none came
        within ``timeout``."""
        n = 0
        while count is None or n < count:
            want = max_entries if count is None else \
                min(max_entries or count - n, count - n)
            box = [self.batch(want, dtype, timeout)]
            if box[0] is None:
                raise TimeoutError("no completion within %s s" % timeout)
            n += len(box[0])
            yield box.pop()
