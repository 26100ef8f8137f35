/* SPDX-License-Identifier: MIT */
/*
 * fake_kernel.h - a userspace model of the lring kernel side, for host
 * unit tests of liblring.
 *
 * The "device" is a memfd. The fake builds the same layout the kernel does
 * (control page, user page, completion entries, fill entries, pool, each
 * page-aligned) in it, publishes completions with release stores, consumes
 * the fill ring validating ids like the kernel (range and ownership, counted
 * in rejected_ids), raises NEED_WAKEUP when the device runs dry, and signals
 * an eventfd on the empty -> non-empty transition (or the batch threshold).
 * It follows kernel/lring_ring.c: the consumer index is re-read only when
 * the cached one shows the ring full, the fill ring is read after a drop,
 * on a kick, and after a completion that leaves the device below a
 * quarter of the pool; counters are written once per batch. With fk->stall set the device behaves
 * like lring_sim at rate 0: without a buffer it just waits, so returned
 * buffers reach it only through a kick.
 *
 * liblring is not modified for the tests: it calls ioctl() on the fd, and
 * this header defines ioctl() (a test binary's own definition wins over the
 * C library's for the statically linked liblring), which hands requests on
 * a fake's memfd to the fake and every other fd to the real syscall. So
 * kicks, waits and configuration go through the library's real code paths
 * and are counted here as the kernel would count them.
 *
 * The fake uses C11-style __atomic builtins, not liblring's barrier
 * helpers, so it checks the library against an independent implementation.
 *
 * Include it from exactly one .c file per test binary.
 */
#ifndef LRING_FAKE_KERNEL_H
#define LRING_FAKE_KERNEL_H

#define _GNU_SOURCE
#include <endian.h>
#include <stddef.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <linux/lring.h>
#include <linux/lring_sim.h>

enum fk_buf_state { FK_FREE, FK_DEVICE, FK_USER };

struct fake_kernel {
	int memfd;
	dev_t st_dev;
	ino_t st_ino;
	int lock;		/* everything below, like the kernel's irq_lock */

	/* the kernel's own view of the shared memory */
	int configured;
	uint8_t *map;
	size_t size;
	struct lring_layout layout;
	struct lring_ctrl *ctrl;
	uint32_t *cq_producer, *cq_consumer, *fq_producer, *fq_consumer;
	uint32_t *flags;
	struct lring_counters *counters;
	uint8_t *cqes;		/* entry i at cqes + i * layout.cqe_size */
	uint8_t *fqes;		/* entry i at fqes + i * layout.fqe_size */
	uint8_t *pool;

	/* kernel-private state: never in shared memory */
	uint8_t *state;		/* enum fk_buf_state per buffer */
	uint32_t *devq;		/* FIFO of buffers queued to the device */
	uint32_t devq_head, devq_len;
	uint32_t cq_prod;	/* authoritative completion producer */
	uint32_t cq_cons_cached; /* consumer as last read; re-read when full */
	uint32_t fq_cons;	/* authoritative fill consumer */
	uint64_t seq;
	uint32_t gap;
	uint64_t seed;
	int running;
	int stall;		/* no buffer: stall (rate 0) instead of drop */
	int eventfd;
	uint32_t ev_batch;

	/* what the tests observe */
	unsigned nr_ioctls;	/* every ioctl on this device */
	unsigned nr_kicks;	/* LRING_IOC_KICK calls */
	int info_lie;		/* GET_INFO reports a different layout */
	/* another version of the module: set before fk_configure() */
	uint32_t cqe_pad;	/* a later module's larger completion entries */
	uint64_t features;	/* GET_INFO's LRING_FEAT_*; 0: this module's */
};

/* ---- ioctl() interposition registry ------------------------------------ */

#define FK_MAX 8
static struct fake_kernel *fk_registry[FK_MAX];

static inline struct fake_kernel *fk_for_fd(int fd)
{
	struct stat st;
	int i;

	if (fstat(fd, &st) < 0)
		return NULL;
	for (i = 0; i < FK_MAX; i++) {
		struct fake_kernel *fk = fk_registry[i];

		if (fk && fk->st_dev == st.st_dev && fk->st_ino == st.st_ino)
			return fk;
	}
	return NULL;
}

/* ---- shared-memory helpers (the kernel's READ_ONCE & co) --------------- */

static inline uint32_t fk_load_acquire(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline void fk_store_release(uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static inline uint32_t fk_read_once(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static inline void fk_smp_mb(void)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/*
 * The kernel's irq_lock: a spinlock whose unlock is a plain release store,
 * as qspinlock's is, not a mutex that may call into the kernel.
 */
static inline void fk_lock(struct fake_kernel *fk)
{
	while (__atomic_exchange_n(&fk->lock, 1, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(&fk->lock, __ATOMIC_RELAXED))
			;
}

static inline void fk_unlock(struct fake_kernel *fk)
{
	__atomic_store_n(&fk->lock, 0, __ATOMIC_RELEASE);
}

static inline void fk_count(__u64 *c, uint64_t n)
{
	__atomic_store_n(c, *c + n, __ATOMIC_RELAXED);
}

static inline void fk_set_flag(struct fake_kernel *fk, uint32_t f, int on)
{
	uint32_t v = fk_read_once(fk->flags), want = on ? v | f : v & ~f;

	/* As lring_set_flag(): an unchanged line stays clean in the reader's cache. */
	if (want != v)
		__atomic_store_n(fk->flags, want, __ATOMIC_RELAXED);
}

static inline uint64_t fk_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static inline uint64_t fk_round_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) / a * a;
}

static inline int fk_is_pow2(uint32_t v)
{
	return v && !(v & (v - 1));
}

/* ---- lifecycle ----------------------------------------------------------- */

/* A fresh, unconfigured device. */
static inline struct fake_kernel *fk_new(void)
{
	struct fake_kernel *fk = calloc(1, sizeof(*fk));
	struct stat st;
	int i;

	if (!fk)
		abort();
	fk->memfd = memfd_create("fake-lring", MFD_CLOEXEC);
	if (fk->memfd < 0 || fstat(fk->memfd, &st) < 0)
		abort();
	fk->st_dev = st.st_dev;
	fk->st_ino = st.st_ino;
	fk->eventfd = -1;
	fk->seed = 0x5eed;
	for (i = 0; i < FK_MAX && fk_registry[i]; i++)
		;
	if (i == FK_MAX)
		abort();
	fk_registry[i] = fk;
	return fk;
}

static inline void fk_unmap(struct fake_kernel *fk)
{
	if (fk->map)
		munmap(fk->map, fk->size);
	free(fk->state);
	free(fk->devq);
	fk->map = NULL;
	fk->state = NULL;
	fk->devq = NULL;
	fk->configured = 0;
}

static inline void fk_free(struct fake_kernel *fk)
{
	int i;

	for (i = 0; i < FK_MAX; i++)
		if (fk_registry[i] == fk)
			fk_registry[i] = NULL;
	fk_unmap(fk);
	if (fk->eventfd >= 0)
		close(fk->eventfd);
	close(fk->memfd);
	free(fk);
}

/*
 * Build the layout as the kernel does. Rules of LRING_IOC_CONFIGURE: ring
 * sizes powers of two >= buf_count, 0 picks the smallest. Locked by caller
 * (or not yet shared).
 */
static inline int fk_configure_locked(struct fake_kernel *fk,
			       const struct lring_config *cfg)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	struct lring_layout *l = &fk->layout;
	uint32_t cq = cfg->cq_entries, fq = cfg->fq_entries, i;
	uint64_t off;

	if (fk->running)
		return -EBUSY;
	if (!cfg->buf_count || cfg->buf_count > LRING_MAX_BUFFERS ||
	    !cfg->buf_size || cfg->backend >= LRING_BACKEND_COUNT ||
	    (cfg->flags & ~LRING_CONFIG_TX))
		return -EINVAL;
	if (!cq)
		for (cq = 1; cq < cfg->buf_count; cq <<= 1)
			;
	if (!fq)
		for (fq = 1; fq < cfg->buf_count; fq <<= 1)
			;
	if (!fk_is_pow2(cq) || !fk_is_pow2(fq) || cq < cfg->buf_count ||
	    fq < cfg->buf_count || cq > LRING_MAX_RING_ENTRIES ||
	    fq > LRING_MAX_RING_ENTRIES)
		return -EINVAL;

	fk_unmap(fk);
	memset(l, 0, sizeof(*l));
	l->ctrl_off = 0;
	l->cq_producer_off = offsetof(struct lring_ctrl, cq_producer);
	l->fq_consumer_off = offsetof(struct lring_ctrl, fq_consumer);
	l->flags_off = offsetof(struct lring_ctrl, flags);
	l->counters_off = offsetof(struct lring_ctrl, counters);
	off = fk_round_up(sizeof(struct lring_ctrl), page);
	l->user_off = off;
	l->cq_consumer_off = off + offsetof(struct lring_user, cq_consumer);
	l->fq_producer_off = off + offsetof(struct lring_user, fq_producer);
	off += fk_round_up(sizeof(struct lring_user), page);
	l->cq_entries_off = off;
	off += fk_round_up((uint64_t)cq * (sizeof(struct lring_cqe) + fk->cqe_pad), page);
	l->fq_entries_off = off;
	l->config_flags = cfg->flags;
	l->fqe_size = cfg->flags & LRING_CONFIG_TX ? sizeof(struct lring_sqe) :
						     sizeof(struct lring_fqe);
	off += fk_round_up((uint64_t)fq * l->fqe_size, page);
	l->pool_off = off;
	l->cq_entries = cq;
	l->fq_entries = fq;
	l->cqe_size = sizeof(struct lring_cqe) + fk->cqe_pad;
	l->buf_count = cfg->buf_count;
	l->buf_size = cfg->buf_size;
	l->buf_stride = fk_round_up(cfg->buf_size, page);
	l->pool_size = (uint64_t)l->buf_count * l->buf_stride;
	l->mmap_size = l->pool_off + l->pool_size;

	/* Zero everything, as the kernel zeroes buffers before mapping. */
	if (ftruncate(fk->memfd, 0) < 0 ||
	    ftruncate(fk->memfd, l->mmap_size) < 0)
		return -errno;
	fk->size = l->mmap_size;
	fk->map = mmap(NULL, fk->size, PROT_READ | PROT_WRITE, MAP_SHARED,
		       fk->memfd, 0);
	if (fk->map == MAP_FAILED) {
		fk->map = NULL;
		return -errno;
	}
	fk->ctrl = (struct lring_ctrl *)fk->map;
	fk->ctrl->magic = LRING_MAGIC;
	fk->ctrl->abi_version = LRING_ABI_VERSION;
	fk->ctrl->ctrl_size = sizeof(struct lring_ctrl);
	fk->ctrl->page_size = page;
	fk->ctrl->layout = *l;
	fk->cq_producer = (uint32_t *)(fk->map + l->cq_producer_off);
	fk->cq_consumer = (uint32_t *)(fk->map + l->cq_consumer_off);
	fk->fq_producer = (uint32_t *)(fk->map + l->fq_producer_off);
	fk->fq_consumer = (uint32_t *)(fk->map + l->fq_consumer_off);
	fk->flags = (uint32_t *)(fk->map + l->flags_off);
	fk->counters = (struct lring_counters *)(fk->map + l->counters_off);
	fk->cqes = fk->map + l->cq_entries_off;
	fk->fqes = fk->map + l->fq_entries_off;
	fk->pool = fk->map + l->pool_off;

	fk->cq_prod = fk->fq_cons = fk->cq_cons_cached = cfg->index_base;
	*fk->cq_producer = *fk->cq_consumer = cfg->index_base;
	*fk->fq_producer = *fk->fq_consumer = cfg->index_base;
	fk->state = calloc(l->buf_count, 1);
	fk->devq = calloc(l->buf_count, sizeof(uint32_t));
	if (!fk->state || !fk->devq)
		abort();
	for (i = 0; i < l->buf_count; i++)
		fk->state[i] = FK_FREE;
	fk->devq_head = fk->devq_len = 0;
	fk->seq = 0;
	fk->gap = 0;
	fk->configured = 1;
	/* A sending ring: every buffer is the application's, handed out. */
	if (cfg->flags & LRING_CONFIG_TX) {
		for (i = 0; i < l->buf_count; i++) {
			struct lring_cqe *c = (struct lring_cqe *)(fk->cqes +
				(size_t)(fk->cq_prod & (cq - 1)) * l->cqe_size);

			memset(c, 0, sizeof(*c));
			c->buf_id = i;
			c->flags = LRING_CQE_F_NOT_SENT;
			fk->state[i] = FK_USER;
			fk->cq_prod++;
		}
		*fk->cq_producer = fk->cq_prod;
	}
	return 0;
}

static inline int fk_configure(struct fake_kernel *fk, const struct lring_config *cfg)
{
	int ret;

	fk_lock(fk);
	ret = fk_configure_locked(fk, cfg);
	fk_unlock(fk);
	return ret;
}

/* A configured device with @buf_count buffers of @buf_size bytes. */
static inline struct fake_kernel *fk_create(uint32_t buf_count, uint32_t buf_size,
				     uint32_t cq_entries, uint32_t fq_entries,
				     uint32_t index_base)
{
	struct fake_kernel *fk = fk_new();
	struct lring_config cfg = {
		.buf_count = buf_count, .buf_size = buf_size,
		.cq_entries = cq_entries, .fq_entries = fq_entries,
		.index_base = index_base,
	};

	if (fk_configure(fk, &cfg))
		abort();
	return fk;
}

/* Path that opens a new file description of the fake device. */
static inline void fk_path(const struct fake_kernel *fk, char *buf, size_t len)
{
	snprintf(buf, len, "/proc/self/fd/%d", fk->memfd);
}

/* ---- device model -------------------------------------------------------- */

static inline void fk_devq_push(struct fake_kernel *fk, uint32_t id)
{
	uint32_t n = fk->layout.buf_count;

	fk->devq[(fk->devq_head + fk->devq_len) % n] = id;
	fk->devq_len++;
	fk->state[id] = FK_DEVICE;
}

static inline uint32_t fk_devq_pop(struct fake_kernel *fk)
{
	uint32_t id = fk->devq[fk->devq_head];

	fk->devq_head = (fk->devq_head + 1) % fk->layout.buf_count;
	fk->devq_len--;
	return id;
}

static inline void fk_set_need_wakeup(struct fake_kernel *fk, int on)
{
	fk_set_flag(fk, LRING_F_NEED_WAKEUP, on);
}

/*
 * The kernel's lring_refill(): take returned ids off the fill ring,
 * validating each (range, ownership); if the device is left with nothing,
 * raise NEED_WAKEUP, full barrier, and look at the fill ring once more, so
 * that either the application sees the flag or we see its entries.
 */
static inline void fk_refill_locked(struct fake_kernel *fk)
{
	uint32_t mask = fk->layout.fq_entries - 1;
	uint32_t prod, avail, seen, start;

	/* Pairs with liblring's store-release of the fill producer. */
	prod = fk_load_acquire(fk->fq_producer);
	for (;;) {
		avail = prod - fk->fq_cons;
		if (avail > fk->layout.fq_entries) {
			fk_count(&fk->counters->rejected_indices, 1);
			avail = 0;
		}
		start = fk->fq_cons;
		while (avail--) {
			/* A struct lring_sqe starts as a struct lring_fqe does. */
			const struct lring_sqe *e = (const void *)(fk->fqes +
				(size_t)(fk->fq_cons & mask) * fk->layout.fqe_size);
			uint32_t id = fk_read_once(&e->buf_id);
			int tx = fk->layout.config_flags & LRING_CONFIG_TX;
			uint32_t len = tx ? fk_read_once(&e->len) : 0;

			fk->fq_cons++;
			if (id >= fk->layout.buf_count ||
			    fk->state[id] != FK_USER ||
			    (tx && (!len || len > fk->layout.buf_size))) {
				fk_count(&fk->counters->rejected_ids, 1);
				continue;
			}
			fk_devq_push(fk, id);
			fk_count(&fk->counters->returned, 1);
		}
		/* Pairs with liblring's load-acquire; published only on change. */
		if (fk->fq_cons != start)
			fk_store_release(fk->fq_consumer, fk->fq_cons);

		if (fk->devq_len || !fk->running) {
			fk_set_need_wakeup(fk, 0);
			return;
		}
		if (!(fk_read_once(fk->flags) & LRING_F_NEED_WAKEUP)) {
			fk_set_need_wakeup(fk, 1);
			fk_count(&fk->counters->need_wakeups, 1);
		}
		/* Pairs with the smp_mb in lring_fill_submit(). */
		fk_smp_mb();
		seen = prod;
		prod = fk_load_acquire(fk->fq_producer);
		if (prod == seen)
			return;
	}
}

/*
 * The kernel's lring_notify(): eventfd when this batch's @published
 * entries carry the count of waiting ones across the threshold.
 */
static inline void fk_signal_locked(struct fake_kernel *fk, uint32_t published)
{
	uint32_t pending, threshold = fk->ev_batch > 1 ? fk->ev_batch : 1;
	uint64_t one = 1;

	if (fk->eventfd < 0)
		return;
	/* Pairs with the smp_mb in lring_wait(): producer stored, barrier,
	 * then read the consumer. */
	fk_smp_mb();
	pending = fk->cq_prod - fk_load_acquire(fk->cq_consumer);
	if (pending >= threshold && pending - published < threshold) {
		if (write(fk->eventfd, &one, sizeof(one)) == sizeof(one))
			fk_count(&fk->counters->eventfd_signals, 1);
	}
}

static inline void fk_fill_pattern(struct fake_kernel *fk, uint8_t *buf,
				   uint64_t seq, uint32_t len)
{
	uint32_t i;

	for (i = 0; i < len; i += 8) {
		uint64_t w = htole64(lring_sim_word(fk->seed, seq, i / 8));
		uint32_t n = len - i < 8 ? len - i : 8;

		memcpy(buf + i, &w, n);
	}
}

/* What one batch did, written to the control page once at its end. */
struct fk_tally {
	uint32_t produced, delivered, dropped, rejected_indices;
	int dry;		/* a block found no buffer */
	uint64_t now;		/* the batch's one clock read, 0 before it */
};

static inline void fk_drop_locked(struct fake_kernel *fk, struct fk_tally *t)
{
	fk->gap++;
	fk->seq++;
	t->dropped++;
}

/* The kernel's lring_cq_has_room(): the consumer is read only when full. */
static inline int fk_cq_has_room(struct fake_kernel *fk, struct fk_tally *t)
{
	uint32_t cons, size = fk->layout.cq_entries;

	if (fk->cq_prod - fk->cq_cons_cached < size)
		return 1;
	/* Pairs with lring_release()'s store-release of the cq consumer. */
	cons = fk_load_acquire(fk->cq_consumer);
	if (fk->cq_prod - cons > size) {
		t->rejected_indices++;
		return 0;
	}
	fk->cq_cons_cached = cons;
	return fk->cq_prod - cons < size;
}

/* One block of a batch; see fk_complete_locked() for the return value. */
static inline int fk_block_locked(struct fake_kernel *fk, uint32_t len,
				  uint32_t cflags, struct fk_tally *t)
{
	struct lring_cqe *cqe;
	uint32_t id;

	if (!fk->devq_len) {
		if (fk->stall)
			return -ENOBUFS;
		t->produced++;
		t->dry = 1;
		fk_drop_locked(fk, t);
		return -ENOBUFS;
	}
	id = fk_devq_pop(fk);
	t->produced++;
	if (!fk_cq_has_room(fk, t)) {
		fk_drop_locked(fk, t);
		fk_devq_push(fk, id);
		return -ENOSPC;
	}
	if (len > fk->layout.buf_size) {
		len = fk->layout.buf_size;
		cflags |= LRING_CQE_F_TRUNCATED;
	}
	fk_fill_pattern(fk, fk->pool + (size_t)id * fk->layout.buf_stride,
			fk->seq, len);
	if (!t->now)
		t->now = fk_now_ns();
	cqe = (struct lring_cqe *)(fk->cqes + (size_t)(fk->cq_prod &
		(fk->layout.cq_entries - 1)) * fk->layout.cqe_size);
	cqe->buf_id = id;
	cqe->len = len;
	cqe->seq = fk->seq;
	cqe->timestamp_ns = t->now;
	cqe->flags = cflags | (fk->gap ? LRING_CQE_F_GAP : 0);
	cqe->dropped = fk->gap;
	fk->state[id] = FK_USER;
	fk->cq_prod++;
	fk->seq++;
	fk->gap = 0;
	t->delivered++;
	return 0;
}

/*
 * The end of the kernel's lring_buffers_done(): one release of the
 * producer, the counters once, one notify, and a refill only when the
 * device dropped or holds less than the low-water mark.
 */
static inline void fk_finish_batch_locked(struct fake_kernel *fk,
					  const struct fk_tally *t)
{
	uint32_t low = fk->layout.buf_count / 4;

	if (!t->produced)
		return;
	if (t->delivered) {
		/* Pairs with lring_peek()'s load-acquire of the cq producer. */
#ifdef FK_TWIN_RELAXED_PUBLISH
		/* The broken twin of tests/sanitizers/run.sh: TSan must see a race. */
		__atomic_store_n(fk->cq_producer, fk->cq_prod, __ATOMIC_RELAXED);
#else
		fk_store_release(fk->cq_producer, fk->cq_prod);
#endif
	}
	fk_count(&fk->counters->irqs, 1);
	fk_count(&fk->counters->produced, t->produced);
	if (t->delivered)
		fk_count(&fk->counters->delivered, t->delivered);
	if (t->dropped)
		fk_count(&fk->counters->dropped, t->dropped);
	if (t->rejected_indices)
		fk_count(&fk->counters->rejected_indices, t->rejected_indices);
	if (t->delivered)
		fk_signal_locked(fk, t->delivered);
	low = low < 1 ? 1 : low > 32 ? 32 : low;
	if (t->dry || fk->devq_len < low)
		fk_refill_locked(fk);
}

/*
 * One block of @len bytes completes on the device (lring_buffer_done(), or
 * lring_block_dropped() when no buffer is queued).
 * Return: 0 published; -EAGAIN not started; -ENOBUFS no buffer queued
 * (dropped, or with fk->stall the device just waits: no interrupt, no
 * refill); -ENOSPC completion ring full (dropped, buffer requeued).
 */
static inline int fk_complete_locked(struct fake_kernel *fk, uint32_t len,
				     uint32_t cflags)
{
	struct fk_tally t = { 0 };
	int ret;

	if (!fk->running)
		return -EAGAIN;
	ret = fk_block_locked(fk, len, cflags, &t);
	fk_finish_batch_locked(fk, &t);
	return ret;
}

static inline int fk_complete(struct fake_kernel *fk, uint32_t len)
{
	int ret;

	fk_lock(fk);
	ret = fk_complete_locked(fk, len, 0);
	fk_unlock(fk);
	return ret;
}

/*
 * Up to @n blocks in one batch, as a driver calling lring_buffers_done()
 * once per interrupt; a stalled device ends the batch early.
 * Return: blocks published.
 */
static inline unsigned fk_complete_batch(struct fake_kernel *fk, unsigned n,
					 uint32_t len)
{
	struct fk_tally t = { 0 };
	int ret = 0;

	fk_lock(fk);
	while (fk->running && n-- && ret != -ENOBUFS)
		ret = fk_block_locked(fk, len, 0, &t);
	fk_finish_batch_locked(fk, &t);
	fk_unlock(fk);
	return t.delivered;
}

/* Complete @n blocks of @len bytes; returns how many were published. */
static inline unsigned fk_complete_n(struct fake_kernel *fk, unsigned n, uint32_t len)
{
	unsigned done = 0;

	while (n--)
		if (!fk_complete(fk, len))
			done++;
	return done;
}

static inline int fk_start_locked(struct fake_kernel *fk)
{
	uint32_t i;

	if (!fk->configured)
		return -EINVAL;
	if (fk->running)
		return -EBUSY;
	fk->running = 1;
	for (i = 0; i < fk->layout.buf_count; i++)
		if (fk->state[i] == FK_FREE)
			fk_devq_push(fk, i);
	fk_refill_locked(fk);
	fk_set_flag(fk, LRING_F_RUNNING, 1);
	return 0;
}

static inline void fk_start(struct fake_kernel *fk)
{
	fk_lock(fk);
	if (fk_start_locked(fk))
		abort();
	fk_unlock(fk);
}

/* The device goes away: DEAD, and every sleeper is woken. */
static inline void fk_kill(struct fake_kernel *fk)
{
	uint64_t one = 1;

	fk_lock(fk);
	fk->running = 0;
	fk_set_flag(fk, LRING_F_DEAD, 1);
	fk_set_flag(fk, LRING_F_RUNNING, 0);
	if (fk->eventfd >= 0 && write(fk->eventfd, &one, sizeof(one)) < 0)
		abort();
	fk_unlock(fk);
}

static inline unsigned fk_kicks(struct fake_kernel *fk)
{
	unsigned n;

	fk_lock(fk);
	n = fk->nr_kicks;
	fk_unlock(fk);
	return n;
}

/* ---- the ioctls ------------------------------------------------------ */

static inline int fk_wait(struct fake_kernel *fk, struct lring_wait *w)
{
	uint64_t deadline = fk_now_ns() + w->timeout_ns;
	uint32_t min = w->min_entries ? w->min_entries : 1;

	for (;;) {
		uint32_t ready;

		fk_lock(fk);
		ready = fk->cq_prod - fk_load_acquire(fk->cq_consumer);
		if (fk_read_once(fk->flags) & LRING_F_DEAD) {
			fk_unlock(fk);
			return -ENODEV;
		}
		fk_unlock(fk);
		if (ready >= min)
			return ready;
		if (fk_now_ns() >= deadline)
			return -ETIMEDOUT;
		usleep(100);
	}
}

static inline int fk_ioctl(struct fake_kernel *fk, unsigned long req, void *arg)
{
	int ret = 0;

	fk_lock(fk);
	fk->nr_ioctls++;
	if (req != LRING_IOC_CONFIGURE && req != LRING_IOC_GET_INFO &&
	    req != LRING_IOC_SET_EVENTFD) {
		/* As the kernel: no pool is EINVAL, a dead ring ENODEV. */
		if (!fk->configured)
			ret = -EINVAL;
		else if (fk_read_once(fk->flags) & LRING_F_DEAD)
			ret = -ENODEV;
		if (ret) {
			fk_unlock(fk);
			return ret;
		}
	}
	switch (req) {
	case LRING_IOC_CONFIGURE:
		ret = fk_configure_locked(fk, arg);
		break;
	case LRING_IOC_GET_INFO: {
		struct lring_info *info = arg;

		memset(info, 0, sizeof(*info));
		info->abi_version = LRING_ABI_VERSION;
		info->features = fk->features ? fk->features :
				 LRING_FEATURES_VER0 | LRING_FEAT_SIZED_ARGS |
				 LRING_FEAT_TX;
		info->configured = fk->configured;
		info->segments_per_buf = 1;
		if (fk->configured) {
			info->layout = fk->layout;
			info->flags = fk_read_once(fk->flags);
		}
		if (fk->info_lie)
			info->layout.buf_size--;
		break;
	}
	case LRING_IOC_START:
		ret = fk_start_locked(fk);
		break;
	case LRING_IOC_STOP:
		/* Buffers on the device come back; the app keeps its own. */
		while (fk->devq_len)
			fk->state[fk_devq_pop(fk)] = FK_FREE;
		fk->running = 0;
		fk_set_flag(fk, LRING_F_RUNNING | LRING_F_NEED_WAKEUP, 0);
		break;
	case LRING_IOC_KICK:
		fk->nr_kicks++;
		fk_count(&fk->counters->kicks, 1);
		fk_refill_locked(fk);
		break;
	case LRING_IOC_SET_EVENTFD: {
		const struct lring_eventfd *ev = arg;

		if (fk->eventfd >= 0)
			close(fk->eventfd);
		fk->eventfd = -1;
		if (ev->fd >= 0) {
			/* The kernel takes its own reference. */
			fk->eventfd = fcntl(ev->fd, F_DUPFD_CLOEXEC, 0);
			if (fk->eventfd < 0)
				ret = -EBADF;
		}
		fk->ev_batch = ev->batch;
		break;
	}
	case LRING_IOC_WAIT:
		/* As a module from before LRING_IOC_WAIT would answer. */
		if (fk->features && !(fk->features & LRING_FEAT_WAIT)) {
			ret = -ENOTTY;
			break;
		}
		fk_count(&fk->counters->waits, 1);
		fk_unlock(fk);
		return fk_wait(fk, arg);
	case LRING_IOC_GET_COUNTERS:
		memcpy(arg, fk->counters, sizeof(*fk->counters));
		break;
	default:
		ret = -ENOTTY;
	}
	fk_unlock(fk);
	return ret;
}

/* Replaces the C library's ioctl() for this test binary (see top). */
int ioctl(int fd, unsigned long req, ...)
{
	struct fake_kernel *fk;
	va_list ap;
	void *arg;
	int ret;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	fk = fk_for_fd(fd);
	if (!fk)
		return syscall(SYS_ioctl, fd, req, arg);
	ret = fk_ioctl(fk, req, arg);
	if (ret < 0) {
		errno = -ret;
		return -1;
	}
	return ret;
}

#endif /* LRING_FAKE_KERNEL_H */
