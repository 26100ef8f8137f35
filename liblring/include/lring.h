/* SPDX-License-Identifier: MIT */
/*
 * liblring - userspace side of lring: zero-copy streaming of device DMA
 * buffers through two shared rings mapped from /dev/lringN.
 *
 *   struct lring *r;
 *   lring_open("/dev/lring0", &r);
 *   lring_configure(r, &(struct lring_config){ .buf_count = 64,
 *                                              .buf_size = 4096 });
 *   lring_start(r);
 *   for (;;) {
 *           uint32_t idx, ids[64];
 *           unsigned n = lring_peek(r, 64, &idx);     // no syscall
 *           for (unsigned i = 0; i < n; i++) {
 *                   const struct lring_cqe *c = lring_cqe(r, idx + i);
 *                   consume(lring_buf(r, c->buf_id), c->len);
 *                   ids[i] = c->buf_id;
 *           }
 *           lring_release(r, n);                      // no syscall
 *           lring_return(r, ids, n);    // syscall only on NEED_WAKEUP
 *           if (!n)
 *                   lring_wait(r, 100);  // or spin, or lring_wait_ioctl()
 *   }
 *   lring_close(r);
 *
 * Every function that can fail returns a negative errno value; the library
 * keeps no global state, so distinct rings may be used from distinct
 * threads. One struct lring is not thread-safe: one thread consumes the
 * completion ring and one (possibly the same) fills the fill ring.
 *
 * Memory ordering. Each shared index has one writer. The writer publishes
 * with a store-release after writing the entries; the reader loads it with
 * a load-acquire before reading the entries. Each pair:
 *
 *   liblring                          kernel partner
 *   lring_peek: load-acquire          store-release of cq producer after
 *     cq producer                       writing the cqe and the buffer sync
 *   lring_release: store-release      load-acquire of cq consumer before
 *     cq consumer                       overwriting a slot
 *   lring_return: load-acquire        store-release of fq consumer after
 *     fq consumer                       reading the fqe slots
 *   lring_return: store-release       load-acquire of fq producer before
 *     fq producer                       reading the fqes
 *   lring_return: full barrier        set NEED_WAKEUP, full barrier, re-read
 *     between fq producer store and     fq producer (no lost wakeup)
 *     NEED_WAKEUP load
 *   lring_wait: full barrier          store-release cq producer, full
 *     between cq consumer store and     barrier, read cq consumer, signal
 *     cq producer re-load               on empty -> non-empty
 *
 * See docs/liblring.md for the long version.
 */
#ifndef LRING_H
#define LRING_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/lring.h>

/* A call whose failure, ignored, leaks buffers: the compiler warns. */
#define LRING_MUST_CHECK __attribute__((warn_unused_result))

/*
 * LRING_INLINE - how the fast path and the accessors below are defined:
 * static inline, so that they cost an application no call. Leave it alone.
 * liblring/ffi/ffi.c defines it empty before including this header, which
 * compiles each of them out of line, under its own name, into
 * liblring-ffi.so.1 for languages that cannot inline C (Python's ctypes,
 * a Rust or Go binding), as liburing-ffi does for liburing.
 */
#ifndef LRING_INLINE
#define LRING_INLINE static inline
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------
 * Barriers, named for what they do. The indices are read with C11 acquire
 * loads and published with release stores (GCC's __atomic builtins, as
 * liburing does): plain moves on x86, LDAR/STLR on arm64, never a full
 * barrier. Each pairs with the kernel's smp_load_acquire() or
 * smp_store_release() of the same index.
 */
/* tutorial: lib-barriers */
/*
 * lring_load_acquire - read a shared index written by the other side.
 * Later loads (ring entries, buffer data) and stores are ordered after it.
 * No syscall, never blocks.
 */
LRING_INLINE uint32_t lring_load_acquire(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

/*
 * lring_store_release - publish a shared index this side owns. Earlier
 * loads and stores (entries read or written) are ordered before it.
 * No syscall, never blocks.
 */
LRING_INLINE void lring_store_release(uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}
/* tutorial-end: lib-barriers */

/*
 * lring_smp_mb - full barrier: orders earlier stores before later loads,
 * which acquire/release do not. Used only where a store must be visible
 * before a flag or index of the other side is read (Dekker pattern):
 * before testing NEED_WAKEUP and before going to sleep in lring_wait().
 * A sequentially consistent fence is the userspace twin of the kernel's
 * smp_mb() in its half of the pattern: a locked add on x86-64, dmb ish on
 * arm64.
 */
LRING_INLINE void lring_smp_mb(void)
{
#if defined(__x86_64__) && !defined(__SANITIZE_THREAD__)
	/*
	 * A locked add to the stack orders stores before loads on x86 as
	 * mfence does, at a fraction of its cost (mfence also waits for
	 * non-temporal stores, which the rings never use): the kernel's own
	 * smp_mb() on x86-64 is the same instruction. ThreadSanitizer sees
	 * only the fence below, so its builds keep it.
	 */
	__asm__ __volatile__("lock; addl $0,-4(%%rsp)" ::: "memory", "cc");
#else
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
}

/* ------------------------------------------------------------------------
 * The ring handle. Visible only so that the fast path can be inline: its
 * fields are private and may change with the library's version. Use the
 * accessors below (lring_fd(), lring_buf_size()...), which stay.
 */
struct lring {
	int fd;			/* the device, or -1 */
	int event_fd;		/* eventfd armed with the kernel, or -1 */
	void *map;		/* the mapping, or NULL before lring_map() */
	size_t map_size;
	int map_owned;		/* lring_close() munmaps it */
	struct lring_layout layout;	/* copy of ctrl->layout, validated */
	const struct lring_ctrl *ctrl;
	uint32_t defer;		/* index updates held back, lring_defer() */

	/*
	 * Completion ring: the kernel produces, we consume. On a cache line
	 * of its own, so that a thread consuming and another returning do
	 * not share one.
	 */
	__attribute__((aligned(64))) const uint32_t *cq_producer;
	uint32_t *cq_consumer;
	const uint8_t *cqes;	/* entry i at cqes + i * cqe_size */
	uint32_t cqe_size;	/* layout.cqe_size: a newer kernel's may be larger */
	uint32_t cq_mask;
	uint32_t cq_cached_prod;	/* last producer value loaded */
	uint32_t cq_head;		/* next entry lring_peek() hands out */
	uint32_t cq_released;		/* slots released by the application */
	uint32_t cq_published;		/* value of *cq_consumer */

	/* Fill ring: we produce, the kernel consumes. */
	__attribute__((aligned(64))) uint32_t *fq_producer;
	const uint32_t *fq_consumer;
	struct lring_fqe *fqes;
	uint32_t fq_mask;
	uint32_t fq_size;
	uint32_t fq_cached_prod;	/* value of *fq_producer */
	uint32_t fq_submitted;		/* end of the submitted entries */
	uint32_t fq_reserved;		/* end of the reserved, unsubmitted span */
	uint32_t fq_cached_end;		/* last consumer value loaded + size */

	/* Read-only after setup. */
	__attribute__((aligned(64))) const uint32_t *flags;
	const struct lring_counters *counters;

	uint8_t *pool;
	uint32_t buf_count;
	uint32_t buf_size;
	uint32_t buf_stride;
	uint64_t features;	/* LRING_FEAT_*, 0 until asked: lring_features() */
	uint64_t resv[8];	/* room to grow without changing the size */
};

/*
 * lring_fd - the ring's device fd, for your own poll() or epoll set
 * lring_event_fd - the eventfd lring_enable_eventfd() made, or -1
 * lring_buf_size - usable bytes per buffer
 * lring_buf_count - buffers in the pool
 * lring_layout - the mapping's layout (NULL before the ring is mapped)
 * No syscall.
 */
LRING_INLINE int lring_fd(const struct lring *r)
{
	return r->fd;
}

LRING_INLINE int lring_event_fd(const struct lring *r)
{
	return r->event_fd;
}

LRING_INLINE uint32_t lring_buf_size(const struct lring *r)
{
	return r->buf_size;
}

LRING_INLINE uint32_t lring_buf_count(const struct lring *r)
{
	return r->buf_count;
}

LRING_INLINE const struct lring_layout *lring_layout(const struct lring *r)
{
	return r->map ? &r->layout : NULL;
}

/*
 * lring_is_tx - whether the mapped ring sends (configured with
 * LRING_CONFIG_TX): its fill ring is a submission ring of struct
 * lring_sqe, and its completions are free buffers. No syscall.
 */
LRING_INLINE int lring_is_tx(const struct lring *r)
{
	return !!(r->layout.config_flags & LRING_CONFIG_TX);
}

/* ------------------------------------------------------------------------
 * Setup and teardown (liblring/src/lring.c)
 */

/*
 * lring_open - open a ring device
 * @path: e.g. "/dev/lring0"
 * @out: receives a new handle, to be freed with lring_close()
 *
 * Opens @path O_RDWR|O_CLOEXEC. The ring is not mapped yet: call
 * lring_configure() (new pool) or lring_map() (pool configured earlier).
 * Return: 0, or -errno from open() (-EBUSY: another file has the ring
 * open), -ENOMEM. Syscall: open. Does not block.
 */
int lring_open(const char *path, struct lring **out);

/*
 * lring_open_fd - wrap an already open ring fd
 * @fd: the device fd; the handle owns it once this call succeeded (on
 *	failure it is still the caller's to close)
 * @out: receives a new handle
 *
 * Return: 0, -EBADF if @fd < 0, -EINVAL if @out is NULL, -ENOMEM. No
 * syscall.
 */
int lring_open_fd(int fd, struct lring **out);

/*
 * lring_configure - create the buffer pool and rings, then map them
 * @r: an open, unmapped handle
 * @cfg: struct lring_config (see <linux/lring.h>); zero every field you
 *	do not set
 *
 * LRING_IOC_CONFIGURE, then lring_map().
 * Return: 0; -EBUSY if the ring is running or still mapped; -EINVAL for a
 * configuration the kernel refuses; -ENOMEM; -EPROTO if the resulting
 * layout does not validate; -errno of mmap(). Syscalls: ioctl x2, mmap.
 * Does not block (the kernel allocates the pool, which may take a while).
 */
int lring_configure(struct lring *r, const struct lring_config *cfg);

/*
 * lring_get_info - ask the kernel how the ring is configured
 * Return: 0 or -errno of LRING_IOC_GET_INFO. Syscall: ioctl.
 */
int lring_get_info(struct lring *r, struct lring_info *info);

/*
 * lring_features - what the ring's kernel module offers
 * @r: an open handle
 *
 * LRING_FEAT_* bits (<linux/lring.h>): test one before relying on what it
 * announces; bits this library does not know are kept, and mean nothing to
 * it. A module that predates feature bits reports LRING_FEATURES_VER0.
 * The calls that need a feature check it themselves and fail with
 * -EOPNOTSUPP without a syscall when the module lacks it.
 * Return: the bits; 0 if the module could not be asked (no such device).
 * Syscall: LRING_IOC_GET_INFO the first time, none after.
 */
uint64_t lring_features(struct lring *r);

/*
 * lring_map - map a configured ring and attach to it
 *
 * LRING_IOC_GET_INFO, mmap(MAP_SHARED, PROT_READ|PROT_WRITE, offset 0,
 * layout.mmap_size), then lring_attach(). The layout in the control page
 * must equal the one GET_INFO returned.
 * Return: 0; -EALREADY if already mapped; -ENODATA if the ring is not
 * configured; -EPROTO for a layout this library cannot use; -errno of
 * ioctl/mmap. Syscalls: ioctl, mmap. Does not block.
 */
int lring_map(struct lring *r);

/*
 * lring_attach - validate a mapped layout and point the handle into it
 * @r: a handle without a mapping
 * @base: start of the mapping (the control page)
 * @size: bytes mapped at @base
 *
 * Checks magic, ABI version, ctrl_size, entry sizes, power-of-two ring
 * sizes, that every part lies inside @size, is aligned and overlaps no
 * other part, and that the pool fits; then caches the indices. The caller
 * keeps ownership of the mapping (lring_map() hands it to the handle).
 * Return: 0; -EINVAL for a NULL/short argument or a handle already
 * attached; -EPROTO for a layout that fails any check (nothing is
 * dereferenced outside [@base, @base + @size) on the way). No syscall.
 */
int lring_attach(struct lring *r, void *base, size_t size);

/*
 * lring_close - unmap, disarm and close everything, free the handle
 *
 * Does not stop the device explicitly: closing the fd does. NULL is a
 * no-op. Syscalls: munmap, close. Does not block.
 */
void lring_close(struct lring *r);

/*
 * lring_start / lring_stop - start or stop the device streaming
 *
 * Return: 0 or -errno of LRING_IOC_START/STOP (-EINVAL not configured,
 * -ENODEV device gone, -EBUSY already running for start). Syscall: ioctl.
 * lring_stop() waits for the device to finish the block in flight.
 */
int lring_start(struct lring *r);
int lring_stop(struct lring *r);

/*
 * lring_kick - hand the buffers waiting on the fill ring to the device
 *
 * Needed only when LRING_F_NEED_WAKEUP is set; lring_return() and
 * lring_fill_submit() call it for you. The kernel counts it in
 * counters.kicks. Return: 0 or -errno (-ENODEV). Syscall: ioctl. Does not
 * block.
 */
int lring_kick(struct lring *r);

/*
 * lring_export_buf - one buffer of the pool as a dma-buf
 * @buf_id: the buffer
 * @flags: LRING_EXPORT_CLOEXEC, or 0
 *
 * For another driver to map for its DMA (a second ring's
 * LRING_BACKEND_DMABUF pool, a GPU), or for the CPU through the dma-buf's
 * own mapping. Only a pool mapped as pages exports (layout.map_flags &
 * LRING_MAP_PAGES). The dma-buf keeps the buffer's memory after the ring
 * is reconfigured or its device is gone; DMA_BUF_IOCTL_SYNC on it fails
 * with EBUSY unless the application owns the buffer. A receiving ring's
 * buffer exports read-only.
 * Return: the dma-buf's fd; -EOPNOTSUPP for a pool not mapped as pages or
 * a kernel without dma-bufs; -EINVAL for a bad id or flags; -errno of
 * LRING_IOC_EXPORT_BUF. Syscall: ioctl. Does not block.
 */
int lring_export_buf(struct lring *r, uint32_t buf_id, uint32_t flags);

/*
 * lring_enable_eventfd - have the kernel signal an eventfd
 * @batch: signal when this many unreleased completions are waiting; 0 or 1
 *	signals on every empty -> non-empty transition
 *
 * Creates an eventfd (EFD_CLOEXEC|EFD_NONBLOCK), registers it with
 * LRING_IOC_SET_EVENTFD and replaces any previous one. lring_wait() then
 * sleeps on it. Return: 0 or -errno. Syscalls: eventfd, ioctl.
 */
int lring_enable_eventfd(struct lring *r, unsigned batch);

/*
 * lring_disable_eventfd - stop the signals and close the eventfd
 * Return: 0 or -errno of the ioctl (the eventfd is closed either way).
 * Syscalls: ioctl, close.
 */
int lring_disable_eventfd(struct lring *r);

/*
 * lring_register_eventfd - signal an eventfd of the application's own
 * @fd: an eventfd (EFD_NONBLOCK is best), which may serve several rings
 * @batch: as lring_enable_eventfd()'s
 *
 * For an application that waits for many rings, or for a ring and its own
 * sockets, in one epoll: register the same eventfd with each ring, add it
 * to the epoll set, and when it is readable call lring_eventfd_drain() and
 * then lring_peek() on every ring registered with it. The caller keeps
 * @fd (the kernel takes a reference of its own: close it whenever);
 * lring_wait() on this ring then sleeps in poll() on the device.
 * lring_disable_eventfd() unregisters it.
 * Return: 0; -EBADF; -EOPNOTSUPP if the module has no eventfd support;
 * -EINVAL for a batch above the ring size. Syscall: ioctl.
 */
int lring_register_eventfd(struct lring *r, int fd, unsigned batch);

/*
 * lring_eventfd_drain - reset an eventfd after it woke the application
 * Drain first, then peek every ring: a completion that comes after the
 * drain signals again. Return: 0 (nothing to drain is 0 too), or -errno
 * of read(). Syscall: read.
 */
int lring_eventfd_drain(int fd);

/*
 * lring_wait - wait until completions are available
 * @timeout_ms: longest sleep; 0 does not sleep, -1 sleeps without limit
 *
 * Returns at once, without a syscall, when entries are waiting that
 * lring_peek() has not handed out. Otherwise it makes sure the kernel sees
 * our consumer index (full barrier, then a re-check of the producer, so a
 * completion published meanwhile is not missed), then sleeps on the
 * eventfd if one is enabled (poll + read to drain it), else in poll() on
 * the device fd. lring_wait_for() with a count of 1 and no signal mask.
 *
 * Release every peeked entry before waiting: the kernel signals when the
 * ring, as it sees it (producer vs published consumer), fills past the
 * eventfd's batch, so unreleased entries keep it from signalling and only
 * the timeout would end the sleep. lring_wait() refuses instead.
 *
 * Return: number of completions available (> 0); -ETIMEDOUT if none came
 * in time; -EINTR if a signal interrupted the sleep; -ENODEV if the
 * device is gone (LRING_F_DEAD, or POLLERR/POLLHUP from the fd);
 * -EDEADLK, without sleeping, if entries were peeked and not released;
 * -EPROTO if the kernel's producer index is impossible.
 * Blocks. Syscalls: poll, read (none if entries are already waiting).
 */
int lring_wait(struct lring *r, int timeout_ms);

/*
 * lring_wait_for - wait for @min_entries completions, with a signal mask
 * @min_entries: 0 means 1; at most the ring's size (-EINVAL)
 * @timeout_ns: longest sleep in nanoseconds; 0 does not sleep, -1 sleeps
 *	without limit
 * @sigmask: a const sigset_t *: the signals blocked while sleeping, as
 *	ppoll(2)'s (NULL: the thread's mask), so that a signal let in only
 *	during the wait ends it with -EINTR and none is lost between a check
 *	and the sleep. Declared void * because ISO C's <signal.h> has no
 *	sigset_t: this header must build with -std=c11 alone.
 *
 * lring_wait() with a minimum count and a mask: it sleeps (on the eventfd,
 * else in ppoll() on the device) and wakes until @min_entries wait. With
 * an eventfd batch below @min_entries it wakes per signal and sleeps on;
 * set the batch to @min_entries to wake once.
 * Return: completions available, >= @min_entries, or at the timeout fewer
 * but at least one; errors as lring_wait(). Blocks. Syscalls: ppoll, read
 * (none if enough entries are waiting).
 */
int lring_wait_for(struct lring *r, unsigned min_entries, int64_t timeout_ns,
		   const void *sigmask);

/*
 * lring_wait_ioctl - sleep in the kernel until @min_entries are waiting
 * @timeout_ns: longest sleep, 0 returns at once
 * @min_entries: 0 means 1
 *
 * Returns at once without a syscall if @min_entries are already waiting.
 * Counted by the kernel in counters.waits.
 * Return: completions available (>= @min_entries), -ETIMEDOUT, -EINTR,
 * -ENODEV, -EDEADLK and -EPROTO as lring_wait(), -EOPNOTSUPP if the module
 * has no LRING_IOC_WAIT (lring_features()). Blocks. Syscall: ioctl
 * (LRING_IOC_WAIT).
 */
int lring_wait_ioctl(struct lring *r, uint64_t timeout_ns,
		     unsigned min_entries);

/*
 * lring_counters - snapshot the kernel's counters from the control page
 *
 * Each field is read atomically, the set is not (a field read later may
 * include events a field read earlier does not). For a consistent set use
 * LRING_IOC_GET_COUNTERS on r->fd. Return: 0, or -EINVAL if not mapped.
 * No syscall.
 */
int lring_counters(const struct lring *r, struct lring_counters *out);

/*
 * lring_strerror - describe an error returned by liblring
 * @err: a negative (or positive) errno value
 *
 * Return: a static string, lring-specific where the errno has a meaning
 * of its own here (e.g. -EBUSY, -EPROTO, -ENODEV), otherwise the C
 * library's description. Thread-safe, no syscall.
 */
const char *lring_strerror(int err);

/* ------------------------------------------------------------------------
 * Fast path: inline, no syscall except the documented kick.
 */

/*
 * lring_flags - the ring's LRING_F_* flags word (a relaxed atomic load:
 * read once, never torn, no ordering).
 */
LRING_INLINE uint32_t lring_flags(const struct lring *r)
{
	return __atomic_load_n(r->flags, __ATOMIC_RELAXED);
}

LRING_INLINE int lring_flush(struct lring *r);

/*
 * lring_peek - take up to @max completions from the ring
 * @idx: receives the index of the first; entry i is lring_cqe(r, *idx + i)
 *
 * Reads the kernel's producer index (load-acquire) only when the cached
 * value shows fewer than @max entries, so a consumer that keeps up does
 * not touch the kernel's cache line on every call. The entries stay valid
 * until lring_release(); the buffers they name until lring_return().
 * Return: number of entries taken, 0 if none. No syscall, never blocks.
 */
/* tutorial: lib-peek */
LRING_INLINE unsigned lring_peek(struct lring *r, unsigned max, uint32_t *idx)
{
	uint32_t avail = r->cq_cached_prod - r->cq_head;

	if (avail < max) {
		/* Pairs with the kernel's smp_store_release() of cq producer. */
		r->cq_cached_prod = lring_load_acquire(r->cq_producer);
		avail = r->cq_cached_prod - r->cq_head;
		/* A producer further than the ring size is impossible. */
		if (avail > r->cq_mask + 1)
			avail = 0;
	}
	if (avail > max)
		avail = max;
	*idx = r->cq_head;
	r->cq_head += avail;
	/* Idle: nothing may stay held back while we wait for more. */
	if (!avail)
		lring_flush(r);
	return avail;
}
/* tutorial-end: lib-peek */

/*
 * lring_defer - hold back up to @n index updates before publishing them
 *
 * By default lring_release() and lring_fill_submit() publish at once:
 * one store-release each, and one full barrier per submit. With @n > 0
 * each holds back up to @n slots or ids, so a consumer that takes one
 * completion at a time pays those costs once per @n buffers; the kernel
 * sees the slots and buffers later, so a pool that is small next to @n
 * runs the device dry sooner. lring_peek() flushes when it finds nothing,
 * lring_wait() before sleeping; an application that stops calling both
 * calls lring_flush(). Capped at a quarter of the pool. No syscall.
 */
LRING_INLINE void lring_defer(struct lring *r, unsigned n)
{
	if (r->map)
		lring_flush(r);
	r->defer = n < r->buf_count / 4 ? n : r->buf_count / 4;
}

/*
 * lring_cq_ready - completions lring_peek() could take now (reloads the
 * producer, load-acquire). No syscall.
 * Return: the count, or -EPROTO if the kernel's producer index is more than
 * a ring ahead of us, which is impossible (a corrupt control page):
 * lring_peek() then takes nothing, and lring_wait() reports it.
 */
LRING_INLINE int lring_cq_ready(struct lring *r)
{
	uint32_t avail;

	r->cq_cached_prod = lring_load_acquire(r->cq_producer);
	avail = r->cq_cached_prod - r->cq_head;
	return avail > r->cq_mask + 1 ? -EPROTO : (int)avail;
}

/*
 * lring_for_each_cqe - visit the @n entries lring_peek() handed out at @idx
 * @i: an unsigned counter; @cqe: a const struct lring_cqe * set to each
 *
 *	n = lring_peek(r, 64, &idx);
 *	lring_for_each_cqe(r, idx, n, i, cqe)
 *		use(lring_buf(r, cqe->buf_id), cqe->len);
 */
#define lring_for_each_cqe(r, idx, n, i, cqe)				\
	for ((i) = 0; (i) < (n) && ((cqe) = lring_cqe((r), (idx) + (i)), 1); (i)++)

/*
 * lring_cqe - the completion entry at ring index @idx (from lring_peek)
 */
LRING_INLINE const struct lring_cqe *lring_cqe(const struct lring *r,
					       uint32_t idx)
{
	return (const struct lring_cqe *)(r->cqes +
					  (size_t)(idx & r->cq_mask) * r->cqe_size);
}

/*
 * lring_cqe_ids - the buffer ids of @n entries from ring index @idx
 * @ids: receives @n ids, in ring order
 *
 * For a consumer that hands a batch back whole: peek, read the buffers,
 * lring_cqe_ids(), lring_release(), lring_return(). No syscall.
 */
LRING_INLINE void lring_cqe_ids(const struct lring *r, uint32_t idx,
				unsigned n, uint32_t *ids)
{
	unsigned i;

	for (i = 0; i < n; i++)
		ids[i] = lring_cqe(r, idx + i)->buf_id;
}

/*
 * lring_buf - address of buffer @buf_id in the pool
 * Return: the buffer (buf_size usable bytes), or NULL for an id out of range.
 */
LRING_INLINE void *lring_buf(const struct lring *r, uint32_t buf_id)
{
	if (buf_id >= r->buf_count)
		return NULL;
	return r->pool + (size_t)buf_id * r->buf_stride;
}

/*
 * lring_release - give the oldest @n peeked completion slots back
 *
 * Store-release of the consumer index: the entries have been read before
 * the kernel can see the slots free (the kernel load-acquires it before
 * overwriting). Clamped to the number peeked and not yet released. With
 * lring_defer() the store waits until more than the deferred count are
 * released, or for lring_flush(). The buffers stay the application's
 * until lring_return(). No syscall.
 */
/* tutorial: lib-release */
LRING_INLINE void lring_release(struct lring *r, unsigned n)
{
	uint32_t held = r->cq_head - r->cq_released;

	if (n > held)
		n = held;
	r->cq_released += n;
	if (!n || r->cq_released - r->cq_published <= r->defer)
		return;
	r->cq_published = r->cq_released;
	/* Pairs with the kernel's smp_load_acquire() of cq consumer. */
	lring_store_release(r->cq_consumer, r->cq_published);
}
/* tutorial-end: lib-release */

/*
 * lring_fill_free - free fill ring slots, at least @want if available
 *
 * Loads the kernel's consumer index (load-acquire, pairs with its
 * store-release after reading the slots) only when the cached value shows
 * fewer than @want free slots. No syscall.
 */
LRING_INLINE uint32_t lring_fill_free(struct lring *r, uint32_t want)
{
	uint32_t free_slots = r->fq_cached_end - r->fq_reserved;

	if (free_slots < want) {
		r->fq_cached_end = lring_load_acquire(r->fq_consumer) +
				   r->fq_size;
		free_slots = r->fq_cached_end - r->fq_reserved;
		/* A consumer ahead of our producer is impossible: cap it. */
		if (free_slots > r->fq_size) {
			r->fq_cached_end = r->fq_reserved + r->fq_size;
			free_slots = r->fq_size;
		}
	}
	return free_slots;
}

/*
 * lring_fill_reserve - reserve @n fill ring slots, all or nothing
 * @idx: receives the index of the first; write ids with lring_fqe()
 * Return: @n, or 0 if fewer than @n slots are free. No syscall.
 */
LRING_INLINE unsigned lring_fill_reserve(struct lring *r, unsigned n,
					 uint32_t *idx)
{
	*idx = r->fq_reserved;
	if (lring_fill_free(r, n) < n)
		return 0;
	r->fq_reserved += n;
	return n;
}

/*
 * lring_fqe - the fill ring entry at ring index @idx (from reserve)
 */
LRING_INLINE struct lring_fqe *lring_fqe(const struct lring *r, uint32_t idx)
{
	return &r->fqes[idx & r->fq_mask];
}

/*
 * lring_needs_wakeup - whether the kernel waits for a kick (plain load;
 * order it after your last store yourself, e.g. with lring_smp_mb()).
 */
LRING_INLINE int lring_needs_wakeup(const struct lring *r)
{
	return !!(lring_flags(r) & LRING_F_NEED_WAKEUP);
}

/*
 * lring_fill_submit - publish the @n oldest reserved fill ring entries
 *
 * Store-release of the fill producer (the kernel load-acquires it before
 * reading the entries), then a full barrier and a test of
 * LRING_F_NEED_WAKEUP: the kernel sets the flag, does a full barrier and
 * re-reads the producer, so either it sees our entries or we see the flag.
 * Only if the flag is set does this call lring_kick() (one ioctl; the
 * kernel counts it). With lring_defer() the entries wait until more than
 * the deferred count are submitted, or for lring_flush(). Return: 0, or
 * -errno of the kick (the entries are published either way). Never blocks.
 */
/* tutorial: lib-fill-submit */
LRING_INLINE int lring_fill_submit(struct lring *r, unsigned n)
{
	uint32_t pending = r->fq_reserved - r->fq_submitted;

	if (n > pending)
		n = pending;
	r->fq_submitted += n;
	if (n && r->fq_submitted - r->fq_cached_prod <= r->defer)
		return 0;	/* held back: lring_defer() */
	if (r->fq_submitted != r->fq_cached_prod) {
		r->fq_cached_prod = r->fq_submitted;
		/* Pairs with the kernel's smp_load_acquire() of fq producer. */
		lring_store_release(r->fq_producer, r->fq_cached_prod);
	}
	/* Pairs with the kernel's smp_mb() between NEED_WAKEUP and re-read. */
	lring_smp_mb();	/* tests/models/need_wakeup.pml */
	if (__builtin_expect(lring_needs_wakeup(r), 0))
		return lring_kick(r);
	return 0;
}
/* tutorial-end: lib-fill-submit */

/*
 * lring_flush - publish every index update lring_defer() held back
 *
 * Store-release of the completion consumer if slots were held back; if
 * fill entries were, their producer and the NEED_WAKEUP handshake of
 * lring_fill_submit(). lring_peek() calls it when it finds nothing,
 * lring_wait() and lring_wait_ioctl() before they sleep. Return: 0, or
 * -errno of the kick. Syscall: ioctl only when NEED_WAKEUP is set. Never
 * blocks.
 */
LRING_INLINE int lring_flush(struct lring *r)
{
	if (r->cq_released != r->cq_published) {
		r->cq_published = r->cq_released;
		/* Pairs with the kernel's smp_load_acquire() of cq consumer. */
		lring_store_release(r->cq_consumer, r->cq_published);
	}
	/* With nothing new to submit, this publishes what was held back. */
	if (r->fq_submitted != r->fq_cached_prod)
		return lring_fill_submit(r, 0);
	return 0;
}

/*
 * lring_return - hand @n buffers back to the kernel, all or nothing
 * @buf_ids: ids taken from completion entries (any order)
 *
 * Reserve + write + lring_fill_submit(): kicks the kernel only if it set
 * NEED_WAKEUP. Returning an id the application does not own is counted by
 * the kernel in rejected_ids and ignored.
 * Return: 0; -EINVAL on a ring that sends (nothing written: lring_send());
 * -ENOSPC if fewer than @n slots are free (nothing written;
 * impossible while only owned buffers are returned, since fq_entries >=
 * buf_count); -errno of the kick (ids are published anyway). Syscall:
 * ioctl only when NEED_WAKEUP is set. Never blocks.
 */
LRING_MUST_CHECK
LRING_INLINE int lring_return(struct lring *r, const uint32_t *buf_ids,
			      unsigned n)
{
	uint32_t idx;
	unsigned i;

	if (lring_is_tx(r))
		return -EINVAL;	/* blocks to send need a length: lring_send() */
	if (!n)
		return 0;
	if (lring_fill_reserve(r, n, &idx) != n)
		return -ENOSPC;
	for (i = 0; i < n; i++)
		lring_fqe(r, idx + i)->buf_id = buf_ids[i];
	return lring_fill_submit(r, n);
}

/* ------------------------------------------------------------------------
 * Sending (rings configured with LRING_CONFIG_TX). The completion ring
 * holds free buffers: at first every buffer, flagged LRING_CQE_F_NOT_SENT;
 * then each buffer the device has read. The application takes free
 * buffers there, writes blocks into them in place and submits {id, len}
 * on the submission ring; the device sends them in submission order:
 *
 *	uint32_t ids[16];
 *	struct lring_sqe sqes[16];
 *	unsigned n = lring_take_free(r, 16, ids);       // no syscall
 *	for (i = 0; i < n; i++) {
 *		sqes[i].buf_id = ids[i];
 *		sqes[i].len = produce(lring_buf(r, ids[i]), lring_buf_size(r));
 *	}
 *	err = lring_send(r, sqes, n);   // syscall only on NEED_WAKEUP
 *	if (!n)
 *		lring_wait(r, 100);     // sleeps until a buffer is free
 */

/*
 * lring_take_free - take up to @max free buffers from the completion ring
 * @ids: receives their ids, oldest first
 *
 * lring_peek(), lring_cqe_ids() and lring_release() in one: for a sender
 * that needs only the ids. A sender that wants to know which blocks were
 * sent (seq, timestamp_ns, LRING_CQE_F_ERROR) or came back unsent
 * (LRING_CQE_F_NOT_SENT after lring_stop()) peeks itself. Return: the
 * number taken, 0 if none is free. No syscall, never blocks.
 */
LRING_INLINE unsigned lring_take_free(struct lring *r, unsigned max,
				      uint32_t *ids)
{
	uint32_t idx;
	unsigned n = lring_peek(r, max, &idx);

	lring_cqe_ids(r, idx, n, ids);
	lring_release(r, n);
	return n;
}

/*
 * lring_sqe - the submission ring entry at ring index @idx (from
 * lring_fill_reserve() on a TX ring)
 */
LRING_INLINE struct lring_sqe *lring_sqe(const struct lring *r, uint32_t idx)
{
	return (struct lring_sqe *)r->fqes + (idx & r->fq_mask);
}

/*
 * lring_send - submit @n blocks to send, all or nothing
 * @sqes: each a buffer the application owns and the bytes to send from
 *	its start (1 .. lring_buf_size())
 *
 * Reserve + write + lring_fill_submit(), as lring_return() does for a
 * receiving ring: kicks the kernel only if it set NEED_WAKEUP. An entry
 * the kernel refuses (an id not owned, a length out of range) is counted
 * in rejected_ids and skipped; the rest are sent in order.
 * Return: 0; -EINVAL on a ring that does not send (nothing written);
 * -ENOSPC if fewer than @n slots are free (nothing written; impossible
 * while only owned buffers are submitted); -errno of the kick (the blocks
 * are submitted anyway). Syscall: ioctl only when NEED_WAKEUP is set.
 * Never blocks.
 */
LRING_MUST_CHECK
LRING_INLINE int lring_send(struct lring *r, const struct lring_sqe *sqes,
			    unsigned n)
{
	uint32_t idx;
	unsigned i;

	if (!lring_is_tx(r))
		return -EINVAL;
	if (!n)
		return 0;
	if (lring_fill_reserve(r, n, &idx) != n)
		return -ENOSPC;
	for (i = 0; i < n; i++)
		*lring_sqe(r, idx + i) = sqes[i];
	return lring_fill_submit(r, n);
}

#ifdef __cplusplus
}
#endif

#endif /* LRING_H */
