// SPDX-License-Identifier: GPL-2.0
/*
 * lring_ring.c - the hand-off: completions out, returned buffers in.
 *
 * Everything here runs under ring->irq_lock, usually from the device's
 * interrupt handler. Indices userspace writes are read once, checked against
 * the kernel's own copy and never trusted; buffer ownership lives only in
 * struct lring_buffer.state.
 *
 * Memory-ordering pairs with liblring (liblring/include/lring.h):
 *   cq_producer: smp_store_release() here   / lring_load_acquire() in peek
 *   cq_consumer: smp_load_acquire() here    / lring_store_release() in release
 *   fq_producer: smp_load_acquire() here    / lring_store_release() in return
 *   fq_consumer: smp_store_release() here   / lring_load_acquire() in return
 *   NEED_WAKEUP: smp_mb() in lring_refill() / lring_smp_mb() in return
 *   eventfd:     smp_mb() in lring_notify() / lring_smp_mb() in wait
 * The last two are model-checked, each with the barriers removed as twins:
 * tests/models/need_wakeup.pml and tests/models/eventfd.pml. A change to
 * either side of them is a change to its model.
 */
#include <linux/eventfd.h>
#include <linux/export.h>
#include <linux/ktime.h>
#include <linux/nospec.h>
#include <linux/poll.h>

#include "lring_compat.h"
#include "lring_internal.h"
#include "lring_trace.h"

/* Completions published and not yet consumed, as far as the kernel can tell. */
static u32 lring_cq_used(struct lring_pool *pool, u32 cons)
{
	return pool->cq_prod - cons;
}

/**
 * lring_ring_ready() - completions waiting for the application
 * @pool: the ring's pool
 *
 * Return: the number of unconsumed completions; 0 when userspace wrote an
 * impossible consumer index.
 */
u32 lring_ring_ready(struct lring_pool *pool)
{
	u32 used = lring_cq_used(pool, READ_ONCE(pool->user->cq_consumer));

	return used <= pool->layout.cq_entries ? used : 0;
}

/* Writes the shared line only on a change: the consumer polls it. */
static void lring_set_flag(struct lring_pool *pool, u32 flag, bool on)
{
	u32 flags = pool->ctrl->flags;
	u32 want = on ? flags | flag : flags & ~flag;

	/* Userspace only reads the flags; in the kernel irq_lock orders writers. */
	ASSERT_EXCLUSIVE_WRITER(pool->ctrl->flags);
	if (want != flags)
		WRITE_ONCE(pool->ctrl->flags, want);
}

/* tutorial: ring-take-back */
static void lring_queue_to_device(struct lring *ring, struct lring_pool *pool,
				  struct lring_buffer *buf)
{
	buf->state = LRING_BUF_DEVICE;
	pool->nr_device++;
	ring->ops->queue(ring, buf);
}

/* Hands a buffer to the device, or keeps it when the ring is not streaming. */
static void lring_give_to_device(struct lring *ring, struct lring_pool *pool,
				 struct lring_buffer *buf)
{
	if (!ring->running || ring->stopping) {
		buf->state = LRING_BUF_FREE;
		return;
	}
	pool->allocator->sync_for_device(pool, buf);
	lring_queue_to_device(ring, pool, buf);
}

/*
 * Takes one id from the fill ring, if the application really owns it (and,
 * on a sending ring, submitted a length the buffer holds).
 * Return: true if taken; the caller counts it as returned or rejected.
 */
static bool lring_take_back(struct lring *ring, struct lring_pool *pool,
			    u32 id, u32 len)
{
	bool owned = id < pool->layout.buf_count;

	if (owned) {
		/* The id comes from userspace: no speculative load beyond the pool. */
		id = array_index_nospec(id, pool->layout.buf_count);
		owned = pool->bufs[id].state == LRING_BUF_USER;
	}
	if (owned && lring_sends(pool)) {
		owned = len && len <= pool->layout.buf_size;
		if (owned)
			pool->bufs[id].len = len;
	}
	trace_lring_return(ring, id, owned);
	if (owned)
		lring_give_to_device(ring, pool, &pool->bufs[id]);
	return owned;
}
/* tutorial-end: ring-take-back */

/* tutorial: ring-refill */
/*
 * Fill ring entries one look takes at most. The look runs with interrupts
 * off, so its length must not grow with what userspace writes: as AF_XDP
 * bounds its work per poll, a refill takes at most this many ids, and only
 * a kick (process context) goes on, in steps, past a run of bad ids.
 */
#define LRING_REFILL_BUDGET	64

/* The fill (or submission) ring entry at ring index @idx. */
static void *lring_fq_entry(struct lring_pool *pool, u32 idx)
{
	return pool->fq_entries +
	       (size_t)(idx & (pool->layout.fq_entries - 1)) * pool->layout.fqe_size;
}

/* tutorial: ring-tx-room */
/*
 * Blocks a sending ring may hand to its device now: as many as the
 * completion ring has slots that neither a waiting completion nor a block
 * already at the device will take. A sent block then always finds a slot,
 * so nothing is ever dropped on the way back; an application that keeps
 * its completions unread makes its own submissions wait.
 */
static u32 lring_tx_room(struct lring_pool *pool)
{
	u32 entries = pool->layout.cq_entries, used, cons;

	used = lring_cq_used(pool, pool->cq_cons_cached) + pool->nr_device;
	if (used < entries)
		return entries - used;
	/* Pairs with lring_store_release() of cq_consumer in lring_release(). */
	cons = smp_load_acquire(&pool->user->cq_consumer);
	if (lring_cq_used(pool, cons) > entries)
		return 0;	/* impossible index: counted when a block completes */
	pool->cq_cons_cached = cons;
	used = lring_cq_used(pool, cons) + pool->nr_device;
	return used < entries ? entries - used : 0;
}
/* tutorial-end: ring-tx-room */

/*
 * Takes up to @budget entries from the fill ring, up to @prod. A sending
 * ring's submissions wait there while it is stopped or has no room.
 * Return: true if entries are left that only the budget kept from a look.
 */
static bool lring_take_fill(struct lring *ring, struct lring_pool *pool,
			    u32 prod, u32 budget)
{
	u32 avail = prod - pool->fq_cons, start = pool->fq_cons, taken = 0;
	bool cut;

	if (avail > pool->layout.fq_entries) {
		lring_count(&pool->ctrl->counters.rejected_indices);
		return false;
	}
	if (lring_sends(pool))
		avail = ring->running && !ring->stopping ?
			min(avail, lring_tx_room(pool)) : 0;
	cut = avail > budget;
	avail = min(avail, budget);
	while (avail--) {
		/* A struct lring_sqe starts as a struct lring_fqe does. */
		struct lring_sqe *e = lring_fq_entry(pool, pool->fq_cons);
		u32 id = READ_ONCE(e->buf_id);
		u32 len = lring_sends(pool) ? READ_ONCE(e->len) : 0;

		pool->fq_cons++;
		taken += lring_take_back(ring, pool, id, len);
	}
	/* One write per counter per look: the reader's line moves once. */
	if (taken)
		lring_count_add(&pool->ctrl->counters.returned, taken);
	if (pool->fq_cons - start != taken)
		lring_count_add(&pool->ctrl->counters.rejected_ids,
				pool->fq_cons - start - taken);
	/* Only this path moves the fill consumer: irq_lock orders it. */
	ASSERT_EXCLUSIVE_WRITER(pool->ctrl->fq_consumer);
	if (pool->fq_cons != start) /* pairs with lring_fill_free() */
		smp_store_release(&pool->ctrl->fq_consumer, pool->fq_cons);
	return cut;
}

/* The device streams but holds no buffer, and will not look by itself. */
static bool lring_device_dry(struct lring *ring, struct lring_pool *pool)
{
	return !pool->nr_device && ring->running && !ring->stopping &&
	       !ring->device_polling;
}

/*
 * One budget of fill ids; true if the device now holds a buffer. @more
 * says whether the budget left ids unlooked at.
 */
static bool lring_feed(struct lring *ring, struct lring_pool *pool, u32 prod,
		       bool *more)
{
	*more = lring_take_fill(ring, pool, prod, LRING_REFILL_BUDGET);
	if (lring_device_dry(ring, pool))
		return false;
	lring_set_flag(pool, LRING_F_NEED_WAKEUP, false);
	return true;
}

/*
 * Moves returned buffers from the fill ring to the device. When the device
 * is left with nothing, raise NEED_WAKEUP and look once more, so that a
 * buffer returned while the flag was going up is not stranded (the
 * application does the mirror image: publish, barrier, test the flag).
 * Return: true if the device is dry and ids are left that this call did
 * not look at (only an application that wrote a run of bad ids gets here).
 */
static bool lring_refill(struct lring *ring, struct lring_pool *pool)
{
	bool more;
	u32 prod;

	lockdep_assert_held(&ring->irq_lock);
	/* Pairs with lring_store_release() of fq_producer in lring_return(). */
	prod = smp_load_acquire(&pool->user->fq_producer);
	if (lring_feed(ring, pool, prod, &more))
		return false;
	if (!(pool->ctrl->flags & LRING_F_NEED_WAKEUP)) {
		lring_set_flag(pool, LRING_F_NEED_WAKEUP, true);
		lring_count(&pool->ctrl->counters.need_wakeups);
	}
	/* Ids left: the budget cut the look, or they wait (bad index, TX room). */
	if (pool->fq_cons != prod)
		return more;
	/* Flag before re-reading; pairs with lring_smp_mb() in return. */
	smp_mb();	/* tests/models/need_wakeup.pml */
	/* Pairs with lring_store_release() of fq_producer, as above. */
	prod = smp_load_acquire(&pool->user->fq_producer);
	if (prod == pool->fq_cons || lring_feed(ring, pool, prod, &more))
		return false;
	return more;
}
/* tutorial-end: ring-refill */

/* tutorial: ring-notify */
/*
 * Tells sleepers that completions are waiting. The eventfd fires only when
 * the count of unconsumed completions crosses the batch threshold with
 * this batch's @published entries (at threshold 1: the empty to non-empty
 * transition), so a consumer that keeps up costs no signals at all.
 */
static void lring_notify(struct lring *ring, struct lring_pool *pool,
			 u32 published)
{
	u32 used, threshold;

	if (ring->evctx) {
		/* cq_producer before cq_consumer; pairs with lring_wait(). */
		smp_mb();	/* tests/models/eventfd.pml */
		used = lring_cq_used(pool, READ_ONCE(pool->user->cq_consumer));
		/* A pool configured smaller than the batch still signals. */
		threshold = clamp(ring->ev_batch, 1U, pool->layout.cq_entries);
		if (used >= threshold && used - published < threshold) {
			lring_eventfd_signal(ring->evctx);
			lring_count(&pool->ctrl->counters.eventfd_signals);
			trace_lring_wakeup(ring, used, true);
		}
	}
	if (wq_has_sleeper(&ring->wq)) {
		/* A sending ring's completions are free buffers: room to write. */
		wake_up_interruptible_poll(&ring->wq, EPOLLIN | EPOLLRDNORM |
					   (lring_sends(pool) ?
					    EPOLLOUT | EPOLLWRNORM : 0));
		trace_lring_wakeup(ring, lring_cq_used(pool, READ_ONCE(pool->user->cq_consumer)),
				   false);
	}
}
/* tutorial-end: ring-notify */

/*
 * What one call of lring_buffers_done() did, counted privately and
 * written to the control page once at the end: each shared counter line
 * then moves to the kernel's cache once per batch, not once per block.
 */
struct lring_tally {
	u32 produced;
	u32 delivered;
	u32 dropped;
	u32 device_errors;
	u32 rejected_indices;
};

static void lring_publish_tally(struct lring_pool *pool,
				const struct lring_tally *t)
{
	struct lring_counters *cnt = &pool->ctrl->counters;

	lring_count(&cnt->irqs);
	lring_count_add(&cnt->produced, t->produced);
	if (t->delivered)
		lring_count_add(&cnt->delivered, t->delivered);
	if (t->dropped)
		lring_count_add(&cnt->dropped, t->dropped);
	if (t->device_errors)
		lring_count_add(&cnt->device_errors, t->device_errors);
	if (t->rejected_indices)
		lring_count_add(&cnt->rejected_indices, t->rejected_indices);
}

static void lring_drop_block(struct lring *ring, struct lring_pool *pool,
			     struct lring_tally *t)
{
	t->dropped++;
	/* Saturates: a gap of 2^32 blocks must not read as no gap. */
	if (pool->gap != U32_MAX)
		pool->gap++;
	pool->seq++;
	trace_lring_drop(ring, pool, pool->ctrl->counters.dropped + t->dropped);
}

/*
 * Room for one more completion? Reads the application's consumer index
 * only when the cached one shows the ring full, as AF_XDP's cached_cons
 * does: a consumer that keeps up then never makes the producer re-read a
 * line it has just written.
 */
static bool lring_cq_has_room(struct lring_pool *pool, struct lring_tally *t)
{
	u32 cons;

	if (lring_cq_used(pool, pool->cq_cons_cached) < pool->layout.cq_entries)
		return true;
	/* Pairs with lring_store_release() of cq_consumer in lring_release(). */
	cons = smp_load_acquire(&pool->user->cq_consumer);
	if (lring_cq_used(pool, cons) > pool->layout.cq_entries) {
		t->rejected_indices++;
		return false;
	}
	pool->cq_cons_cached = cons;
	return lring_cq_used(pool, cons) < pool->layout.cq_entries;
}

/* The completion entry at ring index @idx: layout.cqe_size bytes apart. */
static struct lring_cqe *lring_cq_entry(struct lring_pool *pool, u32 idx)
{
	return pool->cq_entries +
	       (size_t)(idx & (pool->layout.cq_entries - 1)) * pool->layout.cqe_size;
}

/* tutorial: ring-publish */
/* Writes one completion entry; the caller publishes the producer index. */
static void lring_fill_cqe(struct lring *ring, struct lring_pool *pool,
			   const struct lring_done *done, u64 now)
{
	struct lring_buffer *buf = done->buf;
	struct lring_cqe *cqe;
	u32 len = done->len, flags = done->flags & LRING_CQE_F_ERROR;

	if (lring_sends(pool)) {
		/*
		 * The device only read the buffer: nothing to sync for the
		 * CPU, whose next writes sync_for_device() hands over.
		 */
		len = min(len, buf->len);
	} else {
		if (len > buf->size) {
			len = buf->size;
			flags |= LRING_CQE_F_TRUNCATED;
		}
		pool->allocator->sync_for_cpu(pool, buf, len);
	}
	buf->state = LRING_BUF_USER;

	cqe = lring_cq_entry(pool, pool->cq_prod);
	cqe->buf_id = buf->id;
	cqe->len = len;
	cqe->seq = pool->seq++;
	cqe->timestamp_ns = now;
	cqe->dropped = pool->gap;
	cqe->flags = flags | (pool->gap ? LRING_CQE_F_GAP : 0);
	pool->gap = 0;
	pool->cq_prod++;
	trace_lring_publish(ring, cqe);
}
/* tutorial-end: ring-publish */

/* tutorial: ring-not-sent */
/*
 * A sending ring's buffer the device did not read goes back to the
 * application: an entry flagged LRING_CQE_F_NOT_SENT with the length it
 * had submitted. The caller publishes the producer index.
 */
static void lring_put_not_sent(struct lring_pool *pool,
			       struct lring_buffer *buf, u32 len, u64 now)
{
	struct lring_cqe *cqe = lring_cq_entry(pool, pool->cq_prod);

	buf->state = LRING_BUF_USER;
	cqe->buf_id = buf->id;
	cqe->len = len;
	cqe->seq = 0;
	cqe->timestamp_ns = now;
	cqe->flags = LRING_CQE_F_NOT_SENT;
	cqe->dropped = 0;
	pool->cq_prod++;
}

/**
 * lring_ring_hand_out() - give a new sending pool's buffers to the application
 * @pool: a pool configured with LRING_CONFIG_TX, not yet installed
 *
 * Every buffer goes on the completion ring, so that the application finds
 * free buffers where it finds sent ones, and the kernel's consumers
 * (LRING_IOC_DQBUF) find them too.
 */
void lring_ring_hand_out(struct lring_pool *pool)
{
	u64 now = ktime_get_ns();
	u32 i;

	for (i = 0; i < pool->layout.buf_count; i++)
		lring_put_not_sent(pool, &pool->bufs[i], 0, now);
	pool->ctrl->cq_producer = pool->cq_prod;
}
/* tutorial-end: ring-not-sent */

/*
 * Below this many buffers on the device, every completion looks at the
 * fill ring; above it, returned buffers wait there for a later completion
 * and the device works on what it holds. A quarter of the pool, so one
 * look takes back a run of buffers instead of one.
 */
static u32 lring_low_water(struct lring_pool *pool)
{
	return clamp(pool->layout.buf_count / 4, 1U, LRING_REFILL_BUDGET / 2);
}

/**
 * lring_buffers_done() - the device finished a batch of blocks
 * @ring:	the blocks' ring
 * @done:	the blocks, oldest first: each a buffer the core queued to
 *		the device with the bytes written and LRING_CQE_F_ERROR if the
 *		device reported an error, or a NULL buffer for a block the
 *		device produced without a buffer (dropped)
 * @n:		entries in @done
 *
 * Publishes each buffer on the completion ring for the application, or
 * drops it (counted, and reported with the next completion) when the
 * completion ring is full, then refills the device from the fill ring. A
 * batch costs one lock, one publication of the producer index, one
 * wake-up, one clock read (every entry carries the same timestamp) and at
 * most one look at the fill ring, so a device that finishes several blocks
 * per interrupt should report them in one call. The caller must not hold
 * locks that its ->queue() op takes.
 *
 * Context: anywhere a spinlock_t may be taken: an interrupt handler from
 * request_irq() (on PREEMPT_RT it runs in a thread), a softirq, an hrtimer
 * that is not HRTIMER_MODE_*_HARD, a thread. Not under a raw_spinlock_t,
 * from a _HARD hrtimer or an IRQF_NO_THREAD handler: on PREEMPT_RT the
 * ring's locks sleep. Interrupts stay off for the whole batch: keep @n to
 * what one interrupt brings.
 */
void lring_buffers_done(struct lring *ring, const struct lring_done *done,
			unsigned int n)
{
	struct lring_tally t = {};
	struct lring_pool *pool;
	unsigned long irqflags;
	bool had_drop = false;
	u32 cq_start;
	u64 now = 0;

	spin_lock_irqsave(&ring->irq_lock, irqflags);
	pool = ring->pool;
	if (!pool || !n)
		goto out_unlock;
	cq_start = pool->cq_prod;
	for (; n--; done++) {
		struct lring_buffer *buf = done->buf;

		if (!buf) {
			/*
			 * Nothing to publish from a device that is not
			 * streaming; a sending one waits, never drops.
			 */
			if (!ring->running || lring_sends(pool))
				continue;
			t.produced++;
			lring_drop_block(ring, pool, &t);
			had_drop = true;
			continue;
		}
		if (WARN_ON_ONCE(buf->state != LRING_BUF_DEVICE))
			continue;
		pool->nr_device--;
		t.produced++;
		if (done->flags & LRING_CQE_F_ERROR)
			t.device_errors++;
		if (!lring_cq_has_room(pool, &t)) {
			lring_drop_block(ring, pool, &t);
			if (lring_sends(pool)) {
				/*
				 * lring_tx_room() kept a slot for it: only an
				 * impossible consumer index gets here.
				 */
				buf->state = LRING_BUF_USER;
				continue;
			}
			/* The CPU never looked at it: straight back to the device. */
			buf->state = LRING_BUF_FREE;
			lring_give_to_device(ring, pool, buf);
			continue;
		}
		if (!now)
			now = ktime_get_ns();
		lring_fill_cqe(ring, pool, done, now);
	}
	if (!t.produced)
		goto out_unlock;
	t.delivered = pool->cq_prod - cq_start;
	if (t.delivered) {
		/* One writer, under irq_lock: KCSAN checks no other path moves it. */
		ASSERT_EXCLUSIVE_WRITER(pool->ctrl->cq_producer);
		/* Entries before index; pairs with lring_load_acquire() in lring_peek(). */
		smp_store_release(&pool->ctrl->cq_producer, pool->cq_prod);
	}
	lring_publish_tally(pool, &t);
	if (t.delivered)
		lring_notify(ring, pool, t.delivered);
	/*
	 * A device that dropped a block may hold nothing; one that holds
	 * plenty works on while returned buffers gather on the fill ring.
	 */
	if (had_drop || pool->nr_device < lring_low_water(pool))
		lring_refill(ring, pool);
out_unlock:
	spin_unlock_irqrestore(&ring->irq_lock, irqflags);
}
EXPORT_SYMBOL_GPL(lring_buffers_done);

/**
 * lring_buffer_done() - the device finished writing one buffer
 * @ring:	the buffer's ring
 * @buf:	a buffer the core queued to the device
 * @len:	bytes the device wrote
 * @flags:	LRING_CQE_F_ERROR if the device reported an error, else 0
 *
 * lring_buffers_done() for a batch of one.
 * Context: as lring_buffers_done().
 */
void lring_buffer_done(struct lring *ring, struct lring_buffer *buf,
		       u32 len, u32 flags)
{
	struct lring_done done = { .buf = buf, .len = len, .flags = flags };

	lring_buffers_done(ring, &done, 1);
}
EXPORT_SYMBOL_GPL(lring_buffer_done);

/**
 * lring_block_dropped() - the device produced a block but had no buffer
 * @ring: the ring
 *
 * Counts the drop; the next completion carries the gap. Also refills the
 * device, so a device that keeps producing picks up returned buffers even
 * if the application did not kick. lring_buffers_done() with a NULL buffer
 * does the same inside a batch.
 *
 * Context: as lring_buffers_done().
 */
void lring_block_dropped(struct lring *ring)
{
	struct lring_done done = {};

	lring_buffers_done(ring, &done, 1);
}
EXPORT_SYMBOL_GPL(lring_block_dropped);

/**
 * lring_device_poll() - a device with no buffer looks at the fill ring itself
 * @ring:	the ring
 * @polling:	true while the device keeps looking, false when it stops
 *
 * For devices that, like a NIC polling its descriptor ring, can keep
 * looking for returned buffers for a while after they ran dry: each call
 * hands the device whatever the application returned, and while @polling
 * is true NEED_WAKEUP stays down, so the application need not kick. The
 * call with @polling false raises NEED_WAKEUP if the device is still dry.
 * A device that always looks before it sleeps (a thread, a NAPI-style
 * poll) says true when it wakes, so the completion that takes its last
 * buffer does not raise the flag either, and false just before it sleeps.
 * Context: as lring_buffer_done().
 */
void lring_device_poll(struct lring *ring, bool polling)
{
	unsigned long irqflags;

	spin_lock_irqsave(&ring->irq_lock, irqflags);
	ring->device_polling = polling;
	if (ring->pool && ring->running)
		lring_refill(ring, ring->pool);
	spin_unlock_irqrestore(&ring->irq_lock, irqflags);
}
EXPORT_SYMBOL_GPL(lring_device_poll);

/**
 * lring_next_seq() - sequence number the next block will carry
 * @ring: the ring
 *
 * A device that stamps its data with the sequence number reads it when it
 * starts a block; only the device's own completions and drops advance it.
 *
 * Return: the sequence number of the next completed or dropped block.
 */
u64 lring_next_seq(struct lring *ring)
{
	struct lring_pool *pool = READ_ONCE(ring->pool);

	return pool ? READ_ONCE(pool->seq) : 0;
}
EXPORT_SYMBOL_GPL(lring_next_seq);

/**
 * lring_pool_block() - where a pool in one block lies, for a cyclic device
 * @ring:	the ring, configured
 * @block:	receives the block's bus address and its buffers' geometry
 *
 * A device with lring_device_ops.cyclic runs one transfer over the whole
 * block; buffer N is its Nth period. Call it from ->start(), where the
 * pool cannot change.
 *
 * Return: 0, or -EINVAL if the ring's pool is not one block of buffers
 * that tile it.
 */
int lring_pool_block(struct lring *ring, struct lring_block *block)
{
	struct lring_pool *pool = READ_ONCE(ring->pool);

	if (!pool || !pool->block ||
	    pool->layout.buf_size != pool->layout.buf_stride)
		return -EINVAL;
	block->dma_addr = pool->block_dma;
	block->buf_size = pool->layout.buf_size;
	block->buf_count = pool->layout.buf_count;
	return 0;
}
EXPORT_SYMBOL_GPL(lring_pool_block);

/**
 * lring_ring_dequeue() - consume the oldest completion on the caller's behalf
 * @ring:	a configured ring
 * @cqe:	receives a copy of the entry
 * @cons_out:	receives the consumer index the entry was taken at, for
 *		lring_ring_undo_dequeue()
 *
 * For the kernel-side consumers (read(), LRING_IOC_DQBUF): the kernel then
 * writes the completion consumer index itself.
 *
 * Return: 0, -EAGAIN when no completion is waiting, or -EIO when the
 * consumer index userspace wrote is impossible.
 */
int lring_ring_dequeue(struct lring *ring, struct lring_cqe *cqe, u32 *cons_out)
{
	struct lring_pool *pool;
	unsigned long irqflags;
	u32 cons, used;
	int ret = 0;

	spin_lock_irqsave(&ring->irq_lock, irqflags);
	pool = ring->pool;
	cons = READ_ONCE(pool->user->cq_consumer);
	used = lring_cq_used(pool, cons);
	if (!used) {
		ret = -EAGAIN;
	} else if (used > pool->layout.cq_entries) {
		lring_count(&pool->ctrl->counters.rejected_indices);
		ret = -EIO;
	} else {
		*cqe = *lring_cq_entry(pool, cons);
		/* Entry read before the slot is freed, as lring_release() does. */
		smp_store_release(&pool->user->cq_consumer, cons + 1);
	}
	spin_unlock_irqrestore(&ring->irq_lock, irqflags);
	*cons_out = cons;
	return ret;
}

/**
 * lring_ring_undo_dequeue() - put back a completion the caller never got
 * @ring:	a configured ring
 * @cons:	what lring_ring_dequeue() reported
 *
 * For a kernel-side consumer that took a completion and then could not
 * copy it out: the entry is still in its slot, and the consumer index goes
 * back to it unless someone consumed past it meanwhile.
 *
 * Return: true if the completion is waiting again.
 */
bool lring_ring_undo_dequeue(struct lring *ring, u32 cons)
{
	struct lring_pool *pool;
	unsigned long irqflags;
	bool undone = false;

	spin_lock_irqsave(&ring->irq_lock, irqflags);
	pool = ring->pool;
	if (pool && READ_ONCE(pool->user->cq_consumer) == cons + 1 &&
	    lring_cq_used(pool, cons) <= pool->layout.cq_entries) {
		WRITE_ONCE(pool->user->cq_consumer, cons);
		/* The slot is taken again: the cache must not count it free. */
		if ((s32)(pool->cq_cons_cached - cons) > 0)
			pool->cq_cons_cached = cons;
		undone = true;
	}
	spin_unlock_irqrestore(&ring->irq_lock, irqflags);
	return undone;
}

/**
 * lring_ring_give_back() - a buffer handed back by a syscall, not the fill
 * (or submission) ring: LRING_IOC_QBUF, read(), write()
 * @ring:	a configured ring
 * @id:		the buffer's id, validated like a fill ring entry
 * @len:	on a sending ring, the bytes to send, validated like a
 *		submission ring entry's; else ignored
 *
 * Return: 0; -EINVAL for an id the application does not own or a length
 * refused (counted in rejected_ids); -EPIPE on a sending ring that is not
 * streaming, whose blocks would have nowhere to wait (the buffer stays the
 * application's).
 */
int lring_ring_give_back(struct lring *ring, u32 id, u32 len)
{
	struct lring_pool *pool;
	unsigned long irqflags;
	bool rejected;

	spin_lock_irqsave(&ring->irq_lock, irqflags);
	pool = ring->pool;
	if (lring_sends(pool) && (!ring->running || ring->stopping)) {
		spin_unlock_irqrestore(&ring->irq_lock, irqflags);
		return -EPIPE;
	}
	rejected = !lring_take_back(ring, pool, id, len);
	lring_count(rejected ? &pool->ctrl->counters.rejected_ids :
			       &pool->ctrl->counters.returned);
	lring_refill(ring, pool);
	spin_unlock_irqrestore(&ring->irq_lock, irqflags);
	return rejected ? -EINVAL : 0;
}

/**
 * lring_ring_kick() - hand the fill ring's buffers to the device now
 * @ring: a configured ring; ring->lock held
 *
 * Looks at every id the fill ring held when called, LRING_REFILL_BUDGET at
 * a time with interrupts enabled in between.
 */
void lring_ring_kick(struct lring *ring)
{
	struct lring_pool *pool = ring->pool;
	u32 steps = pool->layout.fq_entries / LRING_REFILL_BUDGET + 1;
	unsigned long irqflags;
	bool more;

	spin_lock_irqsave(&ring->irq_lock, irqflags);
	lring_count(&pool->ctrl->counters.kicks);
	trace_lring_kick(ring, pool);
	more = lring_refill(ring, pool);
	spin_unlock_irqrestore(&ring->irq_lock, irqflags);
	/* Past a run of bad ids: bounded steps, interrupts on in between. */
	while (more && --steps) {
		cond_resched();
		spin_lock_irqsave(&ring->irq_lock, irqflags);
		more = lring_refill(ring, pool);
		spin_unlock_irqrestore(&ring->irq_lock, irqflags);
	}
}

/**
 * lring_ring_start() - queue every free buffer and start the device
 * @ring: a configured, stopped ring; ring->lock held
 *
 * Return: 0 or the driver's error, with the ring left stopped.
 */
int lring_ring_start(struct lring *ring)
{
	struct lring_pool *pool = ring->pool;
	unsigned long irqflags;
	u32 i, j, end;
	int ret;

	lockdep_assert_held(&ring->lock);
	/*
	 * The device is stopped and nothing else moves a FREE buffer, so the
	 * syncs need no lock; the hand-over goes in steps, so that interrupts
	 * are never off for the whole pool.
	 */
	for (i = 0; i < pool->layout.buf_count; i++) {
		if (pool->bufs[i].state == LRING_BUF_FREE)
			pool->allocator->sync_for_device(pool, &pool->bufs[i]);
		cond_resched();
	}
	spin_lock_irqsave(&ring->irq_lock, irqflags);
	ring->running = true;
	ring->stopping = false;
	spin_unlock_irqrestore(&ring->irq_lock, irqflags);
	for (i = 0; i < pool->layout.buf_count; i = end) {
		end = min(i + LRING_REFILL_BUDGET, pool->layout.buf_count);
		spin_lock_irqsave(&ring->irq_lock, irqflags);
		for (j = i; j < end; j++)
			if (pool->bufs[j].state == LRING_BUF_FREE)
				lring_queue_to_device(ring, pool, &pool->bufs[j]);
		spin_unlock_irqrestore(&ring->irq_lock, irqflags);
		cond_resched();
	}
	spin_lock_irqsave(&ring->irq_lock, irqflags);
	lring_refill(ring, pool);
	lring_set_flag(pool, LRING_F_RUNNING, true);
	spin_unlock_irqrestore(&ring->irq_lock, irqflags);

	ret = ring->ops->start(ring);
	if (ret)
		lring_ring_stop(ring);
	return ret;
}

/**
 * lring_ring_stop() - quiesce the device and take back its buffers
 * @ring: a ring; ring->lock held
 *
 * Buffers the application owns stay with it. A sending ring's blocks the
 * device did not read go back to the application (LRING_CQE_F_NOT_SENT,
 * counted in cancelled); those still on the submission ring wait there
 * for the next start. Every sleeper in DQBUF, read()
 * or LRING_IOC_WAIT wakes: nothing more will come until the next start.
 */
void lring_ring_stop(struct lring *ring)
{
	struct lring_pool *pool = ring->pool;
	struct lring_tally t = {};
	unsigned long irqflags;
	u32 i, cq_start, cancelled = 0;
	u64 now;

	lockdep_assert_held(&ring->lock);
	if (!ring->running)
		return;

	spin_lock_irqsave(&ring->irq_lock, irqflags);
	ring->stopping = true;
	spin_unlock_irqrestore(&ring->irq_lock, irqflags);

	ring->ops->stop(ring);

	spin_lock_irqsave(&ring->irq_lock, irqflags);
	cq_start = pool->cq_prod;
	/* One clock read for every block a stop gives back, as for a batch. */
	now = lring_sends(pool) ? ktime_get_ns() : 0;
	for (i = 0; i < pool->layout.buf_count; i++) {
		struct lring_buffer *buf = &pool->bufs[i];

		if (buf->state != LRING_BUF_DEVICE)
			continue;
		pool->nr_device--;
		if (!lring_sends(pool)) {
			buf->state = LRING_BUF_FREE;
			continue;
		}
		/* lring_tx_room() kept a slot unless the consumer index lies. */
		if (lring_cq_has_room(pool, &t))
			lring_put_not_sent(pool, buf, buf->len, now);
		else
			buf->state = LRING_BUF_USER;
		cancelled++;
	}
	WARN_ON_ONCE(pool->nr_device);
	if (cancelled)
		lring_count_add(&pool->ctrl->counters.cancelled, cancelled);
	if (t.rejected_indices)
		lring_count_add(&pool->ctrl->counters.rejected_indices,
				t.rejected_indices);
	if (pool->cq_prod != cq_start) {
		/* Entries before index, as in lring_buffers_done(). */
		smp_store_release(&pool->ctrl->cq_producer, pool->cq_prod);
		lring_notify(ring, pool, pool->cq_prod - cq_start);
	}
	ring->running = false;
	ring->stopping = false;
	ring->device_polling = false;
	WRITE_ONCE(ring->stops, ring->stops + 1);
	lring_set_flag(pool, LRING_F_RUNNING | LRING_F_NEED_WAKEUP, false);
	spin_unlock_irqrestore(&ring->irq_lock, irqflags);
	/* Nothing more will come: sleepers in DQBUF, read() and WAIT return. */
	wake_up_interruptible_all(&ring->wq);
}

/**
 * lring_ring_wake_all() - wake every sleeper, e.g. because the device left
 * @ring: the ring; ring->lock held
 */
void lring_ring_wake_all(struct lring *ring)
{
	unsigned long irqflags;

	spin_lock_irqsave(&ring->irq_lock, irqflags);
	if (ring->evctx)
		lring_eventfd_signal(ring->evctx);
	spin_unlock_irqrestore(&ring->irq_lock, irqflags);
	wake_up_interruptible_all(&ring->wq);
}
