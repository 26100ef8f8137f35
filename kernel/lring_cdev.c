// SPDX-License-Identifier: GPL-2.0
/*
 * lring_cdev.c - rings as character devices: registration by drivers,
 * open/release, ioctl, poll, mmap and sysfs.
 */
#include <linux/error-injection.h>
#include <linux/eventfd.h>
#include <linux/fs.h>
#include <linux/idr.h>
#include <linux/module.h>
#include <linux/nospec.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "lring_compat.h"
#include "lring_internal.h"

#define LRING_MAX_RINGS		256

static struct class *lring_class;
static dev_t lring_devt;
static DEFINE_IDA(lring_minors);

static int lring_open(struct inode *inode, struct file *file)
{
	struct lring *ring = container_of(inode->i_cdev, struct lring, cdev);
	int ret = 0;

	mutex_lock(&ring->lock);
	if (ring->dead)
		ret = -ENODEV;
	else if (ring->opened)
		ret = -EBUSY;	/* one consumer per ring: it owns the buffers */
	if (!ret) {
		ring->opened = true;
		ring->mapping = file->f_mapping;
		get_device(&ring->dev);
		file->private_data = ring;
	}
	mutex_unlock(&ring->lock);
	return ret;
}

static void lring_clear_eventfd(struct lring *ring)
{
	struct eventfd_ctx *old;
	unsigned long irqflags;

	spin_lock_irqsave(&ring->irq_lock, irqflags);
	old = ring->evctx;
	ring->evctx = NULL;
	spin_unlock_irqrestore(&ring->irq_lock, irqflags);
	if (old)
		eventfd_ctx_put(old);
}

/* Detaches and frees the pool; the device must be stopped. */
static void lring_drop_pool(struct lring *ring)
{
	struct lring_pool *pool = ring->pool;
	unsigned long irqflags;

	if (!pool)
		return;
	spin_lock_irqsave(&ring->irq_lock, irqflags);
	ring->pool = NULL;
	spin_unlock_irqrestore(&ring->irq_lock, irqflags);
	lring_pool_destroy(pool);
}

/*
 * Runs when the last reference to the file goes, which is after the last
 * mapping of it is gone: nothing can touch the pool any more.
 */
static int lring_release(struct inode *inode, struct file *file)
{
	struct lring *ring = file->private_data;

	mutex_lock(&ring->lock);
	if (ring->pool)
		lring_ring_stop(ring);
	lring_clear_eventfd(ring);
	lring_drop_pool(ring);
	ring->opened = false;
	ring->mapping = NULL;
	mutex_unlock(&ring->lock);
	put_device(&ring->dev);
	return 0;
}

/*
 * Checks that a new pool may replace the current one: not while the device
 * streams into it or an application maps it. Caller holds ring->lock.
 */
static int lring_may_configure(struct lring *ring)
{
	int ret = 0;

	if (ring->dead)
		return -ENODEV;
	mutex_lock(&ring->map_lock);
	if (ring->running || (ring->pool && atomic_read(&ring->pool->map_count)))
		ret = -EBUSY;
	mutex_unlock(&ring->map_lock);
	return ret;
}

/* What the ring's device can do: BIT(enum dma_data_direction) each. */
static unsigned int lring_directions(struct lring *ring)
{
	return ring->ops->directions ?: BIT(DMA_FROM_DEVICE);
}

/*
 * Builds the new pool under no lock of the ring: allocating pins user
 * memory and may fault on it (a page that never resolves must not hold up
 * the device's removal), then installs it if nothing changed meanwhile.
 */
static int lring_ioc_configure(struct lring *ring,
			       const struct lring_config *cfg)
{
	struct lring_pool *pool, *old;
	unsigned long irqflags;
	int ret;

	mutex_lock(&ring->lock);
	ret = lring_may_configure(ring);
	mutex_unlock(&ring->lock);
	if (ret)
		return ret;
	if (!(lring_directions(ring) & BIT(cfg->flags & LRING_CONFIG_TX ?
					   DMA_TO_DEVICE : DMA_FROM_DEVICE))) {
		dev_notice_ratelimited(&ring->dev, "the device cannot %s\n",
				       cfg->flags & LRING_CONFIG_TX ? "send" :
								      "receive");
		return -EOPNOTSUPP;
	}

	/* A cyclic transfer goes round one block, a buffer per period. */
	if (ring->ops->cyclic &&
	    (!(cfg->flags & LRING_CONFIG_ONE_BLOCK) ||
	     !PAGE_ALIGNED(cfg->buf_size))) {
		dev_notice_ratelimited(&ring->dev, "the device writes its pool round and round: configure LRING_CONFIG_ONE_BLOCK and a buffer size that is a multiple of %lu\n",
				       PAGE_SIZE);
		return -EINVAL;
	}

	pool = lring_pool_create(ring->dma_dev, cfg,
				 max(ring->ops->max_segments, 1U));
	if (IS_ERR(pool))
		return PTR_ERR(pool);

	mutex_lock(&ring->lock);
	ret = lring_may_configure(ring);
	if (ret) {
		/* Removed, started or mapped while we allocated. */
		mutex_unlock(&ring->lock);
		lring_pool_destroy(pool);
		return ret;
	}
	mutex_lock(&ring->map_lock);
	old = ring->pool;
	spin_lock_irqsave(&ring->irq_lock, irqflags);
	ring->pool = pool;
	spin_unlock_irqrestore(&ring->irq_lock, irqflags);
	mutex_unlock(&ring->map_lock);
	ring->read_off = 0;
	ring->read_cqe.len = 0;
	if (old)
		lring_pool_destroy(old);
	mutex_unlock(&ring->lock);
	return 0;
}

static void lring_ioc_get_info(struct lring *ring, struct lring_info *info)
{
	memset(info, 0, sizeof(*info));
	info->abi_version = LRING_ABI_VERSION;
	info->features = LRING_FEATURES;
	if (ring->pool) {
		info->configured = 1;
		info->backend = ring->pool->backend_id;
		info->flags = READ_ONCE(ring->pool->ctrl->flags);
		info->segments_per_buf = ring->pool->segs_per_buf;
		info->layout = ring->pool->layout;
	}
}

/* One snapshot: produced == delivered + dropped holds in every copy. */
static void lring_ioc_get_counters(struct lring *ring,
				   struct lring_counters *cnt)
{
	unsigned long irqflags;

	spin_lock_irqsave(&ring->irq_lock, irqflags);
	*cnt = ring->pool->ctrl->counters;
	spin_unlock_irqrestore(&ring->irq_lock, irqflags);
}

static int lring_ioc_set_eventfd(struct lring *ring,
				 const struct lring_eventfd *req)
{
	struct eventfd_ctx *ctx = NULL, *old;
	unsigned long irqflags;

	if (req->resv[0] || req->resv[1] || req->fd < -1)
		return -EINVAL;
	/* A batch the completion ring can never hold would never signal. */
	if (req->batch > (ring->pool ? ring->pool->layout.cq_entries :
					LRING_MAX_RING_ENTRIES))
		return -EINVAL;
	if (req->fd >= 0) {
		ctx = eventfd_ctx_fdget(req->fd);
		if (IS_ERR(ctx))
			return PTR_ERR(ctx);
	}
	spin_lock_irqsave(&ring->irq_lock, irqflags);
	old = ring->evctx;
	ring->evctx = ctx;
	ring->ev_batch = req->batch;
	spin_unlock_irqrestore(&ring->irq_lock, irqflags);
	if (old)
		eventfd_ctx_put(old);
	return 0;
}

/*
 * Completions waiting, for sleepers that do not hold ring->lock: ring->pool
 * is replaced only under irq_lock too, so holding it keeps the pool alive.
 */
static u32 lring_ready_unlocked(struct lring *ring)
{
	unsigned long irqflags;
	u32 ready = 0;

	spin_lock_irqsave(&ring->irq_lock, irqflags);
	if (ring->pool)
		ready = lring_ring_ready(ring->pool);
	spin_unlock_irqrestore(&ring->irq_lock, irqflags);
	return ready;
}

/* Stops so far: a sleeper that sees this change wakes for good. */
static u32 lring_stops(struct lring *ring)
{
	return READ_ONCE(ring->stops);
}

static long lring_ioc_wait(struct lring *ring, const struct lring_wait *req)
{
	u32 stops = lring_stops(ring), cq_entries = 0, min, ready;
	unsigned long irqflags;
	long ret;

	if (req->resv)
		return -EINVAL;
	spin_lock_irqsave(&ring->irq_lock, irqflags);
	if (ring->pool) {
		cq_entries = ring->pool->layout.cq_entries;
		lring_count(&ring->pool->ctrl->counters.waits);
	}
	spin_unlock_irqrestore(&ring->irq_lock, irqflags);
	if (READ_ONCE(ring->dead))
		return -ENODEV;
	if (!cq_entries)
		return -EINVAL;
	min = max(req->min_entries, 1U);
	if (min > cq_entries)
		return -EINVAL;	/* could never be met */

	ret = wait_event_interruptible_hrtimeout(ring->wq,
			READ_ONCE(ring->dead) || lring_stops(ring) != stops ||
			lring_ready_unlocked(ring) >= min,
			ns_to_ktime(min_t(u64, req->timeout_ns, KTIME_MAX)));
	if (READ_ONCE(ring->dead))
		return -ENODEV;
	/* Not -ERESTARTSYS: a restart would sleep the whole timeout again. */
	if (ret == -ERESTARTSYS)
		return -EINTR;
	ready = lring_ready_unlocked(ring);
	if (ready >= min)
		return ready;
	return lring_stops(ring) != stops ? -ENODATA : -ETIMEDOUT;
}

/* Checks that the kernel may consume the ring for the caller; ring->lock held. */
static int lring_kernel_consumer_ok(struct lring *ring)
{
	if (ring->dead)
		return -ENODEV;
	if (!ring->pool)
		return -EINVAL;
	return 0;
}

/*
 * Runs @take under consume_lock until it stops saying -EAGAIN, sleeping in
 * between (without any lock) unless the file is non-blocking. A stop during
 * the call ends it with -ENODATA once nothing is left to take.
 */
static long lring_consume(struct lring *ring, struct file *file,
			  long (*take)(struct lring *ring, void *arg), void *arg)
{
	u32 stops = lring_stops(ring);
	bool last_try = false;
	long ret;

	for (;;) {
		if (mutex_lock_interruptible(&ring->consume_lock))
			return -ERESTARTSYS;
		ret = take(ring, arg);
		mutex_unlock(&ring->consume_lock);
		if (ret != -EAGAIN || (file->f_flags & O_NONBLOCK))
			return ret;
		if (lring_stops(ring) != stops) {
			/* What the device finished before stopping is still taken. */
			if (last_try)
				return -ENODATA;
			last_try = true;
			continue;
		}
		ret = wait_event_interruptible(ring->wq,
					       READ_ONCE(ring->dead) ||
					       lring_stops(ring) != stops ||
					       lring_ready_unlocked(ring));
		if (ret)
			return ret;
	}
}

struct lring_dqbuf_req {
	void __user *dst;
	size_t size;
	long copied;
};

/*
 * Takes one completion and copies it out, outside ring->lock. A completion
 * that cannot be copied out is put back: the application never loses a
 * buffer it was not told about.
 */
static long lring_take_cqe(struct lring *ring, void *arg)
{
	struct lring_dqbuf_req *req = arg;
	struct lring_cqe cqe;
	u32 cons;
	long ret;

	mutex_lock(&ring->lock);
	ret = lring_kernel_consumer_ok(ring);
	if (!ret)
		ret = lring_ring_dequeue(ring, &cqe, &cons);
	mutex_unlock(&ring->lock);
	if (ret)
		return ret;
	if (copy_to_user(req->dst, &cqe, min(req->size, sizeof(cqe)))) {
		lring_ring_undo_dequeue(ring, cons);
		return -EFAULT;
	}
	return 0;
}

static long lring_ioc_dqbuf(struct lring *ring, struct file *file,
			    void __user *dst, size_t size)
{
	struct lring_dqbuf_req req = { .dst = dst, .size = size };

	/* Fail before taking anything when the entry has nowhere to go. */
	if (clear_user(dst, min(size, sizeof(struct lring_cqe))))
		return -EFAULT;
	return lring_consume(ring, file, lring_take_cqe, &req);
}

struct lring_read_req {
	char __user *ubuf;
	size_t count;
	size_t done;
};

/*
 * Copies from a buffer to the reader without faulting (ring->lock held, and
 * a fault on memory that never resolves must not hold it): on a fault, drop
 * the lock, fault the page in and try again.
 * Return: 0, -EFAULT, or -EAGAIN when the ring changed while unlocked.
 */
static int lring_read_copy(struct lring *ring, struct lring_pool *pool,
			   char __user *dst, const void *src, size_t n)
{
	bool faulted_in;

	while (copy_to_user_nofault(dst, src, n)) {
		mutex_unlock(&ring->lock);
		faulted_in = !lring_fault_in_writeable(dst, n);
		mutex_lock(&ring->lock);
		if (!faulted_in)
			return -EFAULT;
		if (ring->dead || ring->pool != pool)
			return -EAGAIN;
	}
	return 0;
}

/*
 * Copies waiting blocks into the reader's buffer; a block stays pending
 * across calls until it has been copied completely, then goes back to the
 * device. Each completion is checked anew: the application may map the
 * ring (and rewrite its consumer index) at any time, so the walk stops
 * there, and it yields the CPU between completions.
 * Return: 0 when something was copied or the buffer is full, -EAGAIN when
 * nothing is waiting, or an error.
 */
static long lring_take_read_locked(struct lring *ring,
				   struct lring_read_req *req)
{
	struct lring_cqe *cqe = &ring->read_cqe;
	struct lring_pool *pool = ring->pool;
	struct lring_buffer *buf;
	size_t n;
	u32 cons;
	int ret;

	/*
	 * Nothing to read from a sending ring, and no kernel address to copy
	 * from in user memory: refuse before taking anything.
	 */
	if (lring_sends(pool) || !lring_kernel_allocates(pool->allocator))
		return -EOPNOTSUPP;
	while (req->done < req->count) {
		if (atomic_read(&pool->map_count))
			return req->done ? 0 : -EBUSY;	/* the mapping's owner consumes */
		if (signal_pending(current))
			return req->done ? 0 : -ERESTARTSYS;
		cond_resched();
		if (ring->read_off >= cqe->len) {
			ret = lring_ring_dequeue(ring, cqe, &cons);
			if (ret)
				return req->done ? 0 : ret;
			ring->read_off = 0;
			if (cqe->buf_id >= pool->layout.buf_count)
				return -EIO;
			if (!cqe->len) {
				lring_ring_give_back(ring, cqe->buf_id, 0);
				continue;
			}
		}
		buf = &pool->bufs[array_index_nospec(cqe->buf_id,
						     pool->layout.buf_count)];
		n = min_t(size_t, req->count - req->done, cqe->len - ring->read_off);
		ret = lring_read_copy(ring, pool, req->ubuf + req->done,
				      buf->cpu_addr + ring->read_off, n);
		if (ret)
			return req->done ? 0 : ret;
		req->done += n;
		ring->read_off += n;
		if (ring->read_off == cqe->len)
			lring_ring_give_back(ring, cqe->buf_id, 0);
	}
	return 0;
}

static long lring_take_read(struct lring *ring, void *arg)
{
	long ret;

	mutex_lock(&ring->lock);
	ret = lring_kernel_consumer_ok(ring);
	if (!ret)
		ret = lring_take_read_locked(ring, arg);
	mutex_unlock(&ring->lock);
	return ret;
}

static ssize_t lring_read(struct file *file, char __user *ubuf, size_t count,
			  loff_t *ppos)
{
	struct lring_read_req req = { .ubuf = ubuf, .count = count };
	struct lring *ring = file->private_data;
	long ret;

	if (!count)
		return 0;
	ret = lring_consume(ring, file, lring_take_read, &req);
	if (req.done)
		return req.done;
	return ret == -ENODATA ? 0 : ret;	/* stopped: end of stream */
}

struct lring_write_req {
	const char __user *ubuf;
	size_t count;
	size_t done;
};

/*
 * Copies from the writer into a buffer without faulting (ring->lock held),
 * as lring_read_copy() does the other way.
 * Return: 0, -EFAULT, or -EAGAIN when the ring changed while unlocked.
 */
static int lring_write_copy(struct lring *ring, struct lring_pool *pool,
			    void *dst, const char __user *src, size_t n)
{
	bool faulted_in;

	while (copy_from_user_nofault(dst, src, n)) {
		mutex_unlock(&ring->lock);
		faulted_in = !lring_fault_in_readable(src, n);
		mutex_lock(&ring->lock);
		if (!faulted_in)
			return -EFAULT;
		if (ring->dead || ring->pool != pool)
			return -EAGAIN;
	}
	return 0;
}

/*
 * write() on a sending ring, the copying path: takes a free buffer off the
 * completion ring, copies up to a buffer's worth of the writer's data into
 * it and submits it, until everything is copied. A buffer that could not
 * be filled or submitted goes back on the completion ring. What is done
 * stays in @req across calls, so a writer that sleeps for a free buffer
 * goes on where it stopped.
 * Return: 0 when everything was submitted (or something was, before an
 * error), -EAGAIN when no buffer is free, or an error.
 */
static long lring_take_write_locked(struct lring *ring,
				    struct lring_write_req *req)
{
	struct lring_pool *pool = ring->pool;
	struct lring_buffer *buf;
	struct lring_cqe cqe;
	u32 cons, n;
	int ret;

	if (!lring_sends(pool) || !lring_kernel_allocates(pool->allocator))
		return -EOPNOTSUPP;
	while (req->done < req->count) {
		if (atomic_read(&pool->map_count))
			return req->done ? 0 : -EBUSY;	/* the mapping's owner sends */
		if (!ring->running)
			return req->done ? 0 : -EPIPE;
		if (signal_pending(current))
			return req->done ? 0 : -ERESTARTSYS;
		cond_resched();
		ret = lring_ring_dequeue(ring, &cqe, &cons);
		/* No buffer free: the caller sleeps (or, non-blocking, returns). */
		if (ret == -EAGAIN)
			return ret;
		if (ret)
			return req->done ? 0 : ret;
		if (cqe.buf_id >= pool->layout.buf_count)
			return -EIO;
		buf = &pool->bufs[array_index_nospec(cqe.buf_id,
						     pool->layout.buf_count)];
		n = min_t(size_t, req->count - req->done, pool->layout.buf_size);
		ret = lring_write_copy(ring, pool, buf->cpu_addr,
				       req->ubuf + req->done, n);
		if (!ret)
			ret = lring_ring_give_back(ring, cqe.buf_id, n);
		if (ret) {
			lring_ring_undo_dequeue(ring, cons);
			return req->done ? 0 : ret;
		}
		req->done += n;
	}
	return 0;
}

static long lring_take_write(struct lring *ring, void *arg)
{
	long ret;

	mutex_lock(&ring->lock);
	ret = lring_kernel_consumer_ok(ring);
	if (!ret)
		ret = lring_take_write_locked(ring, arg);
	mutex_unlock(&ring->lock);
	return ret;
}

static ssize_t lring_write(struct file *file, const char __user *ubuf,
			   size_t count, loff_t *ppos)
{
	struct lring_write_req req = { .ubuf = ubuf, .count = count };
	struct lring *ring = file->private_data;
	long ret;

	if (!count)
		return 0;
	ret = lring_consume(ring, file, lring_take_write, &req);
	/* Stopped, interrupted or non-blocking: what was submitted counts. */
	if (req.done)
		return req.done;
	return ret == -ENODATA ? -EPIPE : ret;
}

/* Every ioctl's argument, copied in before any lock and out after. */
union lring_ioc_arg {
	struct lring_config cfg;
	struct lring_info info;
	struct lring_eventfd ev;
	struct lring_wait wait;
	struct lring_counters counters;
	struct lring_export export;
	u32 buf_id;
};

/* The ioctls that run under ring->lock and touch no user memory. */
static long lring_ioctl_locked(struct lring *ring, unsigned int cmd,
			       union lring_ioc_arg *karg)
{
	struct lring_pool *pool = ring->pool;

	switch (cmd) {
	case LRING_IOC_GET_INFO:
		lring_ioc_get_info(ring, &karg->info);
		return 0;
	case LRING_IOC_SET_EVENTFD:
		return lring_ioc_set_eventfd(ring, &karg->ev);
	}
	if (!pool)
		return -EINVAL;
	switch (cmd) {
	case LRING_IOC_START:
		return ring->running ? -EBUSY : lring_ring_start(ring);
	case LRING_IOC_STOP:
		lring_ring_stop(ring);
		return 0;
	case LRING_IOC_KICK:
		lring_ring_kick(ring);
		return 0;
	case LRING_IOC_GET_COUNTERS:
		lring_ioc_get_counters(ring, &karg->counters);
		return 0;
	case LRING_IOC_QBUF:
		/* A block to send needs its length: the submission ring has it. */
		if (lring_sends(pool))
			return -EOPNOTSUPP;
		return lring_ring_give_back(ring, karg->buf_id, 0);
	case LRING_IOC_EXPORT_BUF:
		return lring_dmabuf_export(ring, &karg->export);
	}
	return -ENOTTY;
}

/* A struct may grow, never shrink below its first version. */
static_assert(sizeof(struct lring_config) >= LRING_CONFIG_SIZE_VER0);
static_assert(sizeof(struct lring_info) >= LRING_INFO_SIZE_VER0);
static_assert(sizeof(struct lring_eventfd) >= LRING_EVENTFD_SIZE_VER0);
static_assert(sizeof(struct lring_wait) >= LRING_WAIT_SIZE_VER0);
static_assert(sizeof(struct lring_counters) >= LRING_COUNTERS_SIZE_VER0);
static_assert(sizeof(struct lring_cqe) >= LRING_CQE_SIZE_VER0);
static_assert(sizeof(struct lring_export) >= LRING_EXPORT_SIZE_VER0);

/*
 * The command this module knows under @cmd's type, number and direction,
 * with this module's argument size; the caller's size goes to @usize. 0
 * for an unknown command or an argument shorter than the first version's
 * (uapi/linux/lring.h: how this interface grows).
 */
static unsigned int lring_ioc_known(unsigned int cmd, size_t *usize)
{
	static const struct {
		unsigned int cmd;
		size_t size_ver0;
	} known[] = {
		{ LRING_IOC_CONFIGURE, LRING_CONFIG_SIZE_VER0 },
		{ LRING_IOC_GET_INFO, LRING_INFO_SIZE_VER0 },
		{ LRING_IOC_START, 0 },
		{ LRING_IOC_STOP, 0 },
		{ LRING_IOC_KICK, 0 },
		{ LRING_IOC_SET_EVENTFD, LRING_EVENTFD_SIZE_VER0 },
		{ LRING_IOC_WAIT, LRING_WAIT_SIZE_VER0 },
		{ LRING_IOC_GET_COUNTERS, LRING_COUNTERS_SIZE_VER0 },
		{ LRING_IOC_DQBUF, LRING_CQE_SIZE_VER0 },
		{ LRING_IOC_QBUF, sizeof(u32) },
		{ LRING_IOC_EXPORT_BUF, LRING_EXPORT_SIZE_VER0 },
	};
	unsigned int i, k;

	for (i = 0; i < ARRAY_SIZE(known); i++) {
		k = known[i].cmd;
		if (_IOC_TYPE(cmd) != _IOC_TYPE(k) || _IOC_NR(cmd) != _IOC_NR(k) ||
		    _IOC_DIR(cmd) != _IOC_DIR(k))
			continue;
		*usize = _IOC_SIZE(cmd);
		return *usize >= known[i].size_ver0 ? k : 0;
	}
	return 0;
}

/*
 * As video_usercopy() does: the argument is copied in before ring->lock is
 * taken and out after it is dropped, so that a fault on user memory that
 * never resolves (userfaultfd, a stuck FUSE file) blocks only the caller,
 * never the device's removal or a sysfs reader.
 */
static long lring_ioctl(struct file *file, unsigned int ucmd, unsigned long arg)
{
	struct lring *ring = file->private_data;
	void __user *uarg = (void __user *)arg;
	union lring_ioc_arg karg;
	unsigned int cmd;
	size_t usize = 0, ksize;
	long ret;

	cmd = lring_ioc_known(ucmd, &usize);
	if (!cmd)
		return _IOC_TYPE(ucmd) == LRING_IOC_MAGIC && usize ? -EINVAL : -ENOTTY;
	/* An ABI test build plays a module from before LRING_IOC_WAIT. */
	if (cmd == LRING_IOC_WAIT && !(LRING_FEATURES & LRING_FEAT_WAIT))
		return -ENOTTY;
	if (cmd == LRING_IOC_DQBUF) {
		if (READ_ONCE(ring->dead))
			return -ENODEV;
		return lring_ioc_dqbuf(ring, file, uarg, usize);
	}
	ksize = _IOC_SIZE(cmd);
	memset(&karg, 0, sizeof(karg));
	if (_IOC_DIR(cmd) & _IOC_WRITE) {
		/* Shorter: the tail is zero. Longer: only with a zero tail. */
		ret = copy_struct_from_user(&karg, ksize, uarg, usize);
		if (ret)
			return ret;
	}

	switch (cmd) {
	case LRING_IOC_CONFIGURE:
		ret = lring_ioc_configure(ring, &karg.cfg);
		break;
	case LRING_IOC_WAIT:
		/* Sleeps without ring->lock, so that stop and kick still work. */
		ret = lring_ioc_wait(ring, &karg.wait);
		break;
	default:
		mutex_lock(&ring->lock);
		ret = ring->dead ? -ENODEV : lring_ioctl_locked(ring, cmd, &karg);
		mutex_unlock(&ring->lock);
	}
	/* Only what this module knows: a longer argument's tail is the caller's. */
	if (!ret && (_IOC_DIR(cmd) & _IOC_READ) &&
	    copy_to_user(uarg, &karg, min(usize, ksize)))
		ret = -EFAULT;
	return ret;
}

static __poll_t lring_poll(struct file *file, poll_table *wait)
{
	struct lring *ring = file->private_data;

	poll_wait(file, &ring->wq, wait);
	if (READ_ONCE(ring->dead))
		return EPOLLERR | EPOLLHUP;
	if (!lring_ready_unlocked(ring))
		return 0;
	/* A sending ring's completions are free buffers: room to write. */
	return lring_direction(ring) == DMA_TO_DEVICE ?
	       EPOLLIN | EPOLLRDNORM | EPOLLOUT | EPOLLWRNORM :
	       EPOLLIN | EPOLLRDNORM;
}

/*
 * Called with mmap_lock held: takes only map_lock, which nobody holds while
 * touching user memory.
 */
static int lring_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct lring *ring = file->private_data;
	int ret;

	/*
	 * The application writes its indices through the mapping: a file
	 * opened read-only cannot drive the rings, and one open file per
	 * ring leaves no room for a read-only observer (lring-stat reads
	 * sysfs instead). Said plainly, not as the EINVAL a read-only
	 * file's mapping would otherwise get for lacking VM_SHARED.
	 */
	if (!(file->f_mode & FMODE_WRITE))
		return -EACCES;
	mutex_lock(&ring->map_lock);
	if (ring->dead)
		ret = -ENODEV;
	else if (!ring->pool)
		ret = -EINVAL;
	else
		ret = lring_pool_mmap(ring->pool, vma);
	mutex_unlock(&ring->map_lock);
	return ret;
}

static const struct file_operations lring_fops = {
	.owner = THIS_MODULE,
	.open = lring_open,
	.release = lring_release,
	.read = lring_read,
	.write = lring_write,
	.unlocked_ioctl = lring_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.poll = lring_poll,
	.mmap = lring_mmap,
	.llseek = noop_llseek,
};

/* sysfs: configuration and counters of each ring, one value per file. */

static ssize_t lring_show_locked(struct device *dev, char *buf,
				 ssize_t (*show)(struct lring *ring,
						 struct lring_pool *pool,
						 char *buf))
{
	struct lring *ring = container_of(dev, struct lring, dev);
	ssize_t ret;

	mutex_lock(&ring->lock);
	ret = show(ring, ring->pool, buf);
	mutex_unlock(&ring->lock);
	return ret;
}

static ssize_t lring_state_show_locked(struct lring *ring,
				       struct lring_pool *pool, char *buf)
{
	const char *state = "unconfigured";

	if (ring->dead)
		state = "dead";
	else if (ring->running)
		state = "running";
	else if (pool)
		state = "stopped";
	return sysfs_emit(buf, "%s\n", state);
}

static ssize_t state_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	return lring_show_locked(dev, buf, lring_state_show_locked);
}
static DEVICE_ATTR_RO(state);

static ssize_t lring_backend_show_locked(struct lring *ring,
					 struct lring_pool *pool, char *buf)
{
	return sysfs_emit(buf, "%s\n",
			  pool ? lring_backend_name(pool->backend_id) : "none");
}

static ssize_t backend_show(struct device *dev, struct device_attribute *attr,
			    char *buf)
{
	return lring_show_locked(dev, buf, lring_backend_show_locked);
}
static DEVICE_ATTR_RO(backend);

static ssize_t lring_direction_show_locked(struct lring *ring,
					   struct lring_pool *pool, char *buf)
{
	return sysfs_emit(buf, "%s\n", !pool ? "none" :
			  lring_sends(pool) ? "tx" : "rx");
}

static ssize_t direction_show(struct device *dev,
			      struct device_attribute *attr, char *buf)
{
	return lring_show_locked(dev, buf, lring_direction_show_locked);
}
static DEVICE_ATTR_RO(direction);

/* What the device can do, fixed at registration: no lock needed. */
static ssize_t directions_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	unsigned int dirs = lring_directions(container_of(dev, struct lring, dev));

	return sysfs_emit(buf, "%s%s%s\n",
			  dirs & BIT(DMA_FROM_DEVICE) ? "rx" : "",
			  dirs & BIT(DMA_FROM_DEVICE) && dirs & BIT(DMA_TO_DEVICE) ?
			  " " : "",
			  dirs & BIT(DMA_TO_DEVICE) ? "tx" : "");
}
static DEVICE_ATTR_RO(directions);

/*
 * A read-only attribute showing @expr, a number computed from @pool, in
 * @fmt; 0 when the ring is unconfigured.
 */
#define LRING_POOL_ATTR(name, fmt, expr)				\
static ssize_t lring_##name##_show_locked(struct lring *ring,		\
					  struct lring_pool *pool,	\
					  char *buf)			\
{									\
	return sysfs_emit(buf, fmt "\n", pool ? (expr) : 0);		\
}									\
static ssize_t name##_show(struct device *dev,				\
			   struct device_attribute *attr, char *buf)	\
{									\
	return lring_show_locked(dev, buf, lring_##name##_show_locked);	\
}									\
static DEVICE_ATTR_RO(name)

/* A u32 of the layout. */
#define LRING_LAYOUT_ATTR(field)					\
	LRING_POOL_ATTR(field, "%u", pool->layout.field)

LRING_LAYOUT_ATTR(buf_count);
LRING_LAYOUT_ATTR(buf_size);
LRING_LAYOUT_ATTR(cq_entries);
LRING_LAYOUT_ATTR(fq_entries);

static struct attribute *lring_attrs[] = {
	&dev_attr_state.attr,
	&dev_attr_backend.attr,
	&dev_attr_buf_count.attr,
	&dev_attr_buf_size.attr,
	&dev_attr_cq_entries.attr,
	&dev_attr_fq_entries.attr,
	&dev_attr_direction.attr,
	&dev_attr_directions.attr,
	NULL,
};

static const struct attribute_group lring_attr_group = {
	.attrs = lring_attrs,
};

/* Counters: /sys/class/lring/lringN/counters/<name>, 0 when unconfigured. */
#define LRING_COUNTER_ATTR(field)					\
	LRING_POOL_ATTR(field, "%llu", READ_ONCE(pool->ctrl->counters.field))

LRING_COUNTER_ATTR(produced);
LRING_COUNTER_ATTR(delivered);
LRING_COUNTER_ATTR(dropped);
LRING_COUNTER_ATTR(irqs);
LRING_COUNTER_ATTR(kicks);
LRING_COUNTER_ATTR(waits);
LRING_COUNTER_ATTR(eventfd_signals);
LRING_COUNTER_ATTR(returned);
LRING_COUNTER_ATTR(rejected_ids);
LRING_COUNTER_ATTR(rejected_indices);
LRING_COUNTER_ATTR(need_wakeups);
LRING_COUNTER_ATTR(device_errors);
LRING_COUNTER_ATTR(cancelled);

static struct attribute *lring_counter_attrs[] = {
	&dev_attr_produced.attr,
	&dev_attr_delivered.attr,
	&dev_attr_dropped.attr,
	&dev_attr_irqs.attr,
	&dev_attr_kicks.attr,
	&dev_attr_waits.attr,
	&dev_attr_eventfd_signals.attr,
	&dev_attr_returned.attr,
	&dev_attr_rejected_ids.attr,
	&dev_attr_rejected_indices.attr,
	&dev_attr_need_wakeups.attr,
	&dev_attr_device_errors.attr,
	&dev_attr_cancelled.attr,
	NULL,
};

static const struct attribute_group lring_counter_group = {
	.name = "counters",
	.attrs = lring_counter_attrs,
};

static const struct attribute_group *lring_groups[] = {
	&lring_attr_group,
	&lring_counter_group,
	NULL,
};

static void lring_dev_release(struct device *dev)
{
	struct lring *ring = container_of(dev, struct lring, dev);

	ida_free(&lring_minors, MINOR(dev->devt));
	kfree(ring);
}

/**
 * lring_register_client() - create a ring whose DMA another device does
 * @parent:	the driver's device: /sys/class/lring/lringN/device
 * @dma_dev:	the device that DMAs into the ring's buffers, which the
 *		pool is allocated and mapped for: a DMA engine channel's
 *		controller (dmaengine_get_dma_device()), not its client
 * @ops:	the driver's start/stop/queue
 * @priv:	the driver's data, returned by lring_priv()
 *
 * Context: process context; may sleep.
 * Return: the ring, or ERR_PTR(-ENOSPC) when all minors are used,
 * ERR_PTR(-ENOMEM), or the driver core's error.
 */
struct lring *lring_register_client(struct device *parent,
				    struct device *dma_dev,
				    const struct lring_device_ops *ops,
				    void *priv)
{
	struct lring *ring;
	int minor, ret;

	ring = kzalloc(sizeof(*ring), GFP_KERNEL);
	if (!ring)
		return ERR_PTR(-ENOMEM);
	minor = ida_alloc_max(&lring_minors, LRING_MAX_RINGS - 1, GFP_KERNEL);
	if (minor < 0) {
		kfree(ring);
		return ERR_PTR(minor);
	}

	ring->dma_dev = dma_dev;
	ring->ops = ops;
	ring->priv = priv;
	mutex_init(&ring->lock);
	mutex_init(&ring->map_lock);
	mutex_init(&ring->consume_lock);
	spin_lock_init(&ring->irq_lock);
	init_waitqueue_head(&ring->wq);

	device_initialize(&ring->dev);
	ring->dev.class = lring_class;
	ring->dev.parent = parent;
	ring->dev.devt = MKDEV(MAJOR(lring_devt), minor);
	ring->dev.groups = lring_groups;
	ring->dev.release = lring_dev_release;
	dev_set_drvdata(&ring->dev, ring);
	ret = dev_set_name(&ring->dev, "lring%d", minor);
	if (ret)
		goto err_put;

	cdev_init(&ring->cdev, &lring_fops);
	ring->cdev.owner = THIS_MODULE;
	ret = cdev_device_add(&ring->cdev, &ring->dev);
	if (ret)
		goto err_put;
	lring_debugfs_add(ring);
	return ring;

err_put:
	/* The release callback frees the minor and the ring. */
	put_device(&ring->dev);
	return ERR_PTR(ret);
}
EXPORT_SYMBOL_GPL(lring_register_client);

/**
 * lring_register() - create a ring and its /dev/lringN node
 * @dma_dev:	the device that DMAs into the ring's buffers
 * @ops:	the driver's start/stop/queue
 * @priv:	the driver's data, returned by lring_priv()
 *
 * Context: process context; may sleep.
 * Return: as lring_register_client(), which this is with @dma_dev as the
 * parent too.
 */
struct lring *lring_register(struct device *dma_dev,
			     const struct lring_device_ops *ops, void *priv)
{
	return lring_register_client(dma_dev, dma_dev, ops, priv);
}
EXPORT_SYMBOL_GPL(lring_register);
ALLOW_ERROR_INJECTION(lring_register, ERRNO);

/**
 * lring_unregister() - remove a ring; its device is going away
 * @ring: a ring from lring_register()
 *
 * Stops the device, revokes every user mapping of the buffers (they read
 * as zeros from then on; the control page stays readable and shows
 * LRING_F_DEAD), frees the buffers, and wakes every sleeper, which then
 * sees ENODEV. The ring itself lives on until its file is closed.
 *
 * Context: process context; may sleep.
 */
/* tutorial: cdev-unregister */
void lring_unregister(struct lring *ring)
{
	struct lring_pool *pool;

	lring_debugfs_remove(ring);
	cdev_device_del(&ring->cdev, &ring->dev);

	mutex_lock(&ring->lock);
	/* No new mapping from here on. */
	mutex_lock(&ring->map_lock);
	WRITE_ONCE(ring->dead, true);
	mutex_unlock(&ring->map_lock);

	pool = ring->pool;
	if (pool) {
		lring_ring_stop(ring);
		WRITE_ONCE(pool->ctrl->flags, pool->ctrl->flags | LRING_F_DEAD);
		lring_pool_revoke(pool, ring->mapping);
		lring_pool_release_dma(pool);
	}
	lring_ring_wake_all(ring);
	mutex_unlock(&ring->lock);

	put_device(&ring->dev);
}
/* tutorial-end: cdev-unregister */
EXPORT_SYMBOL_GPL(lring_unregister);

/**
 * lring_priv() - the driver data given to lring_register()
 * @ring: the ring
 *
 * Return: the pointer.
 */
void *lring_priv(struct lring *ring)
{
	return ring->priv;
}
EXPORT_SYMBOL_GPL(lring_priv);

/**
 * lring_device() - the ring's class device, e.g. for dev_err()
 * @ring: the ring
 *
 * Return: /dev/lringN's struct device.
 */
struct device *lring_device(struct lring *ring)
{
	return &ring->dev;
}
EXPORT_SYMBOL_GPL(lring_device);

/**
 * lring_is_running() - whether the ring streams (between start and stop)
 * @ring: the ring
 *
 * Return: true while the ring is started.
 */
bool lring_is_running(struct lring *ring)
{
	return READ_ONCE(ring->running);
}
EXPORT_SYMBOL_GPL(lring_is_running);

/**
 * lring_direction() - which way the ring's data flows
 * @ring: the ring
 *
 * Fixed by LRING_IOC_CONFIGURE, so a driver reads it in ->start() and
 * ->queue(); between configurations it says DMA_FROM_DEVICE.
 *
 * Return: DMA_FROM_DEVICE for a ring the device fills, DMA_TO_DEVICE for
 * one whose blocks it reads (sends).
 */
enum dma_data_direction lring_direction(struct lring *ring)
{
	struct lring_pool *pool = READ_ONCE(ring->pool);

	return pool ? pool->dir : DMA_FROM_DEVICE;
}
EXPORT_SYMBOL_GPL(lring_direction);

static int __init lring_init(void)
{
	int ret;

	ret = alloc_chrdev_region(&lring_devt, 0, LRING_MAX_RINGS, "lring");
	if (ret)
		return ret;
	lring_class = lring_class_create("lring");
	if (IS_ERR(lring_class)) {
		unregister_chrdev_region(lring_devt, LRING_MAX_RINGS);
		return PTR_ERR(lring_class);
	}
	lring_debugfs_init();
	return 0;
}

static void __exit lring_exit(void)
{
	lring_debugfs_exit();
	class_destroy(lring_class);
	unregister_chrdev_region(lring_devt, LRING_MAX_RINGS);
}

module_init(lring_init);
module_exit(lring_exit);
MODULE_DESCRIPTION("lring: zero-copy DMA buffer rings shared with userspace");
MODULE_LICENSE("GPL");
