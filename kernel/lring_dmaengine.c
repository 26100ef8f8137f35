// SPDX-License-Identifier: GPL-2.0
/*
 * lring_dmaengine.c - any Linux DMA engine channel as an lring device.
 *
 * On an SoC the DMA hardware is often not the peripheral's own but a DMA
 * controller with a dmaengine driver (Xilinx AXI DMA, BCM2835, i.MX SDMA,
 * PL330). This driver streams a channel's transfers into a ring, so that
 * such a peripheral needs a device tree node, not a driver
 * (docs/dmaengine.md has the binding):
 *
 *   slave	the node names its channel ("rx") and, for a controller
 *		that reads a peripheral's register, its FIFO
 *		(lring,fifo-address, lring,bus-width): every buffer the core
 *		queues becomes one DEV_TO_MEM scatter-gather transfer, queued
 *		to the engine at once, completed in order by its callback.
 *   memcpy	the node says lring,memcpy, or the module parameter
 *		memcpy_channels=N asks for N channels of any controller that
 *		copies memory: the "peripheral" is a staging buffer holding
 *		lring_sim's pattern, copied into each buffer piece by piece.
 *		For a controller with nothing attached: a test of the
 *		controller, its driver and the ring, every byte checkable.
 *   cyclic	the node says lring,cyclic, or the module parameter
 *		cyclic_channels=N asks for N channels that can run a cyclic
 *		transfer: for a peripheral that cannot stop (an ADC), one
 *		DEV_TO_MEM transfer goes round the whole pool, a buffer per
 *		period, from start to stop. A period that ends in a buffer
 *		the application holds is counted dropped: it fell a lap
 *		behind, and the engine wrote over that buffer.
 *
 * The pool is allocated and mapped for the controller
 * (dmaengine_get_dma_device()), which is what does the DMA; the ring
 * appears under this driver's own device, which carries the sysfs
 * attributes. Stop terminates the channel and waits for its callbacks
 * (dmaengine_terminate_sync()) before the core takes the buffers back.
 */
#include <linux/dmaengine.h>
#include <linux/dma-mapping.h>
#include <linux/error-injection.h>
#include <linux/module.h>
#include <linux/of.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <linux/lring.h>
#include <linux/lring_sim.h>

#include "lring_compat.h"
#include "lring_driver.h"

/* Bytes the engine copies per memcpy transfer from the staging buffer. */
#define LRING_DMAENGINE_PIECE	SZ_64K
/* Periods reported per lring_buffers_done() call, at most. */
#define LRING_DMAENGINE_BATCH	16

static unsigned int memcpy_channels;
module_param(memcpy_channels, uint, 0444);
MODULE_PARM_DESC(memcpy_channels,
		 "Rings on channels of any memcpy-capable DMA controller, each filled from a staging pattern (default 0)");

static unsigned int cyclic_channels;
module_param(cyclic_channels, uint, 0444);
MODULE_PARM_DESC(cyclic_channels,
		 "Rings on channels of any DMA controller that runs cyclic transfers from its peripheral (default 0)");

/**
 * struct lring_dmaengine - one ring on one DMA engine channel
 * @dev:	this driver's device (platform device)
 * @chan:	the channel
 * @ring:	the ring it fills
 * @memcpy:	copy the staging pattern (else: slave transfers from a FIFO)
 * @cyclic:	one cyclic transfer round the pool (else: one per buffer)
 * @residue_known: cyclic: the engine's residue says where it is, not only
 *		that a period ended
 * @block:	cyclic: the pool, one block
 * @cookie:	cyclic: the transfer's
 * @stage:	memcpy: the staging buffer, LRING_DMAENGINE_PIECE bytes
 * @stage_dma:	memcpy: its bus address for the controller
 * @seed:	mixed into the pattern (sysfs), read as each block starts
 * @block_size:	memcpy: bytes per block (sysfs); 0 or more than a
 *		buffer: the buffer
 * @errors:	transfers the engine or its driver failed (sysfs)
 * @fail_work:	slave: hands back, outside ->queue(), buffers the engine
 *		refused
 * @copy_work:	memcpy: prepares and submits the next piece, in process
 *		context without @lock (see lring_dmaengine_copy_work())
 * @lock:	protects the fields below
 * @waiting:	buffers queued to the driver, not yet given to the engine,
 *		oldest first
 * @inflight:	slave: buffers given to the engine, in the order it fills
 *		them
 * @failed:	slave: buffers the engine refused, for @fail_work
 * @running:	between start and stop
 * @cur:	memcpy: the buffer being filled, or NULL
 * @seq:	memcpy: sequence number of the block in @cur
 * @cur_seed:	memcpy: @seed when the block in @cur started
 * @cur_len:	memcpy: bytes of the block
 * @off:	memcpy: bytes of the block already copied
 * @sg:		memcpy: DMA segment of @cur the next piece goes to
 * @sg_off:	memcpy: bytes of @sg already filled
 * @piece:	memcpy: bytes of the piece in flight
 * @held:	cyclic: by buffer id (the period it is), the buffers queued
 *		to the driver, NULL for one the application holds
 * @period:	cyclic: the next period to report
 * @busy:	memcpy: @copy_work is queued or running, a piece is in
 *		flight, or a block is being handed to the core: one piece at
 *		a time through the one staging buffer, and no block starts
 *		before the core has numbered the last one, since the pattern
 *		depends on the number
 */
struct lring_dmaengine {
	struct device *dev;
	struct dma_chan *chan;
	struct lring *ring;
	bool memcpy;
	bool cyclic;
	bool residue_known;
	struct lring_block block;
	dma_cookie_t cookie;
	void *stage;
	dma_addr_t stage_dma;
	u64 seed;
	u32 block_size;
	atomic_long_t errors;
	struct work_struct fail_work;
	struct work_struct copy_work;

	spinlock_t lock;
	struct list_head waiting;
	struct list_head inflight;
	struct list_head failed;
	bool running;
	struct lring_buffer *cur;
	u64 seq;
	u64 cur_seed;
	u32 cur_len;
	u32 off;
	struct scatterlist *sg;
	u32 sg_off;
	u32 piece;
	bool busy;
	struct lring_buffer **held;
	u32 period;
};

/*
 * The engine's work, in a function of its own so that fault injection can
 * fail it (a driver out of descriptors): NULL.
 */
static noinline struct dma_async_tx_descriptor *
lring_dmaengine_prep(struct lring_dmaengine *de, struct lring_buffer *buf,
		     dma_addr_t dst, u32 len)
{
	unsigned long flags = DMA_PREP_INTERRUPT | DMA_CTRL_ACK;

	if (de->memcpy)
		return dmaengine_prep_dma_memcpy(de->chan, dst, de->stage_dma,
						 len, flags);
	return dmaengine_prep_slave_sg(de->chan, buf->sgt->sgl, buf->sgt->nents,
				       DMA_DEV_TO_MEM, flags);
}
ALLOW_ERROR_INJECTION(lring_dmaengine_prep, NULL);

static void lring_dmaengine_copied(void *param,
				   const struct dmaengine_result *result);
static void lring_dmaengine_filled(void *param,
				   const struct dmaengine_result *result);

/*
 * Gives @buf's transfer (slave), or the piece of it at @dst (memcpy), to
 * the engine. Fault injection fails it whole, as a driver refusing the
 * descriptor at submit looks to the ring: the transfer never starts.
 * Return: 0, or -ENOMEM if there was no descriptor, or the engine's error.
 */
static noinline int lring_dmaengine_submit(struct lring_dmaengine *de,
					   struct lring_buffer *buf,
					   dma_addr_t dst, u32 len)
{
	struct dma_async_tx_descriptor *tx;
	dma_cookie_t cookie;

	tx = lring_dmaengine_prep(de, buf, dst, len);
	if (!tx)
		return -ENOMEM;
	tx->callback_result = de->memcpy ? lring_dmaengine_copied :
					   lring_dmaengine_filled;
	tx->callback_param = de;
	cookie = dmaengine_submit(tx);
	return dma_submit_error(cookie);
}
ALLOW_ERROR_INJECTION(lring_dmaengine_submit, ERRNO);

/* A buffer the engine refused goes back flagged, from process context. */
static void lring_dmaengine_refused(struct lring_dmaengine *de,
				    struct lring_buffer *buf)
{
	lockdep_assert_held(&de->lock);
	list_add_tail(&buf->queue, &de->failed);
	schedule_work(&de->fail_work);
}

/* The refused buffer goes back to the application, flagged and empty. */
static void lring_dmaengine_hand_back(struct lring_dmaengine *de,
				      struct lring_buffer *buf)
{
	atomic_long_inc(&de->errors);
	dev_warn_ratelimited(de->dev, "the DMA engine refused a transfer\n");
	lring_buffer_done(de->ring, buf, 0, LRING_CQE_F_ERROR);
}

static void lring_dmaengine_fail_work(struct work_struct *work)
{
	struct lring_dmaengine *de = container_of(work, struct lring_dmaengine,
						  fail_work);
	struct lring_buffer *buf;

	for (;;) {
		spin_lock_irq(&de->lock);
		buf = list_first_entry_or_null(&de->failed, struct lring_buffer,
					       queue);
		if (buf)
			list_del(&buf->queue);
		spin_unlock_irq(&de->lock);
		if (!buf)
			break;
		lring_dmaengine_hand_back(de, buf);
	}
}

/* @len bytes of the pattern of block @seq from byte @off, into the stage. */
static void lring_dmaengine_fill_stage(struct lring_dmaengine *de, u64 seed,
				       u64 seq, u32 off, u32 len)
{
	u8 *p = de->stage;
	__le64 word;
	u32 i;

	/* Pieces start on a word: segments hold whole pages. */
	for (i = 0; i < len; i += 8) {
		word = cpu_to_le64(lring_sim_word(seed, seq, (off + i) / 8));
		memcpy(p + i, &word, min(8U, len - i));
	}
}

/*
 * Memcpy mode: has the work start the next piece of the block in @cur,
 * or the next block, unless one is on its way.
 */
static void lring_dmaengine_kick_copy(struct lring_dmaengine *de)
{
	lockdep_assert_held(&de->lock);
	if (de->running && !de->busy &&
	    (de->cur || !list_empty(&de->waiting))) {
		de->busy = true;
		queue_work(system_highpri_wq, &de->copy_work);
	}
}

/*
 * Memcpy mode: the next piece, from process context. The dmaengine API
 * lets a client prepare transfers in atomic context, but drivers do not
 * all keep to it (BCM2835's memcpy allocates with GFP_KERNEL, which the
 * debug kernel caught when this ran in the completion callback); memcpy
 * mode is for bringing up such drivers, so it asks the least of them.
 * @busy keeps everything below to this work until the piece completes.
 */
static void lring_dmaengine_copy_work(struct work_struct *work)
{
	struct lring_dmaengine *de = container_of(work, struct lring_dmaengine,
						  copy_work);
	struct lring_buffer *buf;
	dma_addr_t dst;
	u32 len;

	spin_lock_irq(&de->lock);
	if (!de->running || !de->busy) {
		spin_unlock_irq(&de->lock);
		return;
	}
	if (!de->cur) {
		buf = list_first_entry_or_null(&de->waiting,
					       struct lring_buffer, queue);
		if (!buf) {
			de->busy = false;
			spin_unlock_irq(&de->lock);
			return;
		}
		list_del(&buf->queue);
		de->cur = buf;
		/* Nothing completes meanwhile: the number done() gives. */
		de->seq = lring_next_seq(de->ring);
		de->cur_seed = READ_ONCE(de->seed);
		de->cur_len = READ_ONCE(de->block_size);
		if (!de->cur_len || de->cur_len > buf->size)
			de->cur_len = buf->size;
		de->off = 0;
		de->sg = buf->sgt->sgl;
		de->sg_off = 0;
	}
	buf = de->cur;
	len = min3(de->cur_len - de->off, (u32)LRING_DMAENGINE_PIECE,
		   sg_dma_len(de->sg) - de->sg_off);
	dst = sg_dma_address(de->sg) + de->sg_off;
	de->piece = len;
	spin_unlock_irq(&de->lock);

	lring_dmaengine_fill_stage(de, de->cur_seed, de->seq, de->off, len);
	if (!lring_dmaengine_submit(de, buf, dst, len)) {
		dma_async_issue_pending(de->chan);
		return;
	}
	/* Refused: the block goes back flagged, then the next one starts. */
	spin_lock_irq(&de->lock);
	de->cur = NULL;
	de->piece = 0;
	spin_unlock_irq(&de->lock);
	lring_dmaengine_hand_back(de, buf);
	spin_lock_irq(&de->lock);
	de->busy = false;
	lring_dmaengine_kick_copy(de);
	spin_unlock_irq(&de->lock);
}

/* Slave mode: every waiting buffer to the engine, which queues them. */
/* tutorial: dmaengine-slave */
static void lring_dmaengine_kick_slave(struct lring_dmaengine *de)
{
	struct lring_buffer *buf, *next;
	bool issued = false;

	lockdep_assert_held(&de->lock);
	if (!de->running)
		return;
	list_for_each_entry_safe(buf, next, &de->waiting, queue) {
		list_del(&buf->queue);
		if (lring_dmaengine_submit(de, buf, 0, buf->size)) {
			lring_dmaengine_refused(de, buf);
			continue;
		}
		list_add_tail(&buf->queue, &de->inflight);
		issued = true;
	}
	if (issued)
		dma_async_issue_pending(de->chan);
}
/* tutorial-end: dmaengine-slave */

static void lring_dmaengine_kick(struct lring_dmaengine *de)
{
	/* Cyclic: the engine never waits; the next period takes them. */
	if (de->cyclic)
		return;
	if (de->memcpy)
		lring_dmaengine_kick_copy(de);
	else
		lring_dmaengine_kick_slave(de);
}

/* Memcpy mode: a piece arrived (the engine driver's callback context). */
static void lring_dmaengine_copied(void *param,
				   const struct dmaengine_result *result)
{
	struct lring_dmaengine *de = param;
	struct lring_buffer *done = NULL;
	unsigned long flags;
	u32 len, cqe_flags = 0;

	spin_lock_irqsave(&de->lock, flags);
	if (!de->cur || !de->busy) {
		spin_unlock_irqrestore(&de->lock, flags);
		return;
	}
	if (result && result->result != DMA_TRANS_NOERROR) {
		/* The rest of the block is lost: hand back what arrived. */
		cqe_flags = LRING_CQE_F_ERROR;
		de->cur_len = de->off;
	} else {
		de->off += de->piece;
		de->sg_off += de->piece;
		if (de->sg_off == sg_dma_len(de->sg) && de->off < de->cur_len) {
			de->sg = sg_next(de->sg);
			de->sg_off = 0;
		}
	}
	de->piece = 0;
	len = de->off;
	if (de->off >= de->cur_len) {
		done = de->cur;
		de->cur = NULL;
	} else {
		de->busy = false;
	}
	if (!done) {
		lring_dmaengine_kick_copy(de);
		spin_unlock_irqrestore(&de->lock, flags);
		return;
	}
	spin_unlock_irqrestore(&de->lock, flags);

	/* Without our lock, and still busy: done() may call our ->queue(). */
	if (cqe_flags)
		atomic_long_inc(&de->errors);
	lring_buffer_done(de->ring, done, len, cqe_flags);
	spin_lock_irqsave(&de->lock, flags);
	de->busy = false;
	lring_dmaengine_kick_copy(de);
	spin_unlock_irqrestore(&de->lock, flags);
}

/* Slave mode: the engine filled the oldest buffer it had. */
/* tutorial: dmaengine-filled */
static void lring_dmaengine_filled(void *param,
				   const struct dmaengine_result *result)
{
	struct lring_dmaengine *de = param;
	struct lring_buffer *buf;
	unsigned long flags;
	u32 len = 0, cqe_flags = 0;

	spin_lock_irqsave(&de->lock, flags);
	buf = list_first_entry_or_null(&de->inflight, struct lring_buffer, queue);
	if (buf)
		list_del(&buf->queue);
	spin_unlock_irqrestore(&de->lock, flags);
	if (!buf)
		return;
	if (result && result->result != DMA_TRANS_NOERROR) {
		cqe_flags = LRING_CQE_F_ERROR;
		atomic_long_inc(&de->errors);
	} else {
		len = buf->size - min(result ? result->residue : 0, buf->size);
	}
	lring_buffer_done(de->ring, buf, len, cqe_flags);
}
/* tutorial-end: dmaengine-filled */

/*
 * Cyclic mode: the period the engine is writing, from its residue (the
 * bytes left to the end of the pool), or, from an engine that cannot say,
 * the one after the period just reported.
 */
static u32 lring_dmaengine_position(struct lring_dmaengine *de,
				    const struct dma_tx_state *state)
{
	u64 size = (u64)de->block.buf_count * de->block.buf_size;

	if (!de->residue_known)
		return (de->period + 1) % de->block.buf_count;
	if (!state->residue || state->residue > size)
		return 0;
	return div_u64(size - state->residue, de->block.buf_size);
}

/*
 * Cyclic mode: one or more periods ended (the engine driver's callback
 * context; callbacks may come late and merge). Each goes to the core:
 * its buffer if the application had given it back, else a drop.
 */
/* tutorial: dmaengine-period */
static void lring_dmaengine_period(void *param,
				   const struct dmaengine_result *result)
{
	struct lring_dmaengine *de = param;
	struct lring_done done[LRING_DMAENGINE_BATCH];
	struct lring_buffer *buf, *next;
	struct dma_tx_state state = {};
	unsigned long flags;
	u32 now, n;

	dmaengine_tx_status(de->chan, de->cookie, &state);
	do {
		spin_lock_irqsave(&de->lock, flags);
		if (!de->running || !de->held) {
			spin_unlock_irqrestore(&de->lock, flags);
			return;
		}
		list_for_each_entry_safe(buf, next, &de->waiting, queue) {
			list_del(&buf->queue);
			de->held[buf->id] = buf;
		}
		now = lring_dmaengine_position(de, &state);
		for (n = 0; n < ARRAY_SIZE(done) && de->period != now; n++) {
			buf = de->held[de->period];
			de->held[de->period] = NULL;
			done[n].buf = buf;
			done[n].len = buf ? buf->size : 0;
			done[n].flags = 0;
			de->period = (de->period + 1) % de->block.buf_count;
		}
		spin_unlock_irqrestore(&de->lock, flags);
		/* Without our lock: done() calls ->queue() with buffers back. */
		lring_buffers_done(de->ring, done, n);
	} while (n == ARRAY_SIZE(done));
}
/* tutorial-end: dmaengine-period */

static void lring_dmaengine_queue(struct lring *ring, struct lring_buffer *buf)
{
	struct lring_dmaengine *de = lring_priv(ring);
	unsigned long flags;

	spin_lock_irqsave(&de->lock, flags);
	list_add_tail(&buf->queue, &de->waiting);
	lring_dmaengine_kick(de);
	spin_unlock_irqrestore(&de->lock, flags);
}

/* Cyclic mode's one transfer; fault injection fails it (NULL). */
static noinline struct dma_async_tx_descriptor *
lring_dmaengine_prep_cyclic(struct lring_dmaengine *de)
{
	return dmaengine_prep_dma_cyclic(de->chan, de->block.dma_addr,
					 (size_t)de->block.buf_count * de->block.buf_size,
					 de->block.buf_size, DMA_DEV_TO_MEM,
					 DMA_PREP_INTERRUPT);
}
ALLOW_ERROR_INJECTION(lring_dmaengine_prep_cyclic, NULL);

/* Cyclic mode: one transfer round the pool, a period per buffer. */
/* tutorial: dmaengine-cyclic */
static int lring_dmaengine_start_cyclic(struct lring_dmaengine *de)
{
	struct dma_async_tx_descriptor *tx;
	struct lring_buffer **held;
	struct dma_slave_caps caps;
	int ret;

	/* The core let only a pool in one block of whole pages configure. */
	ret = lring_pool_block(de->ring, &de->block);
	if (ret)
		return ret;
	held = kcalloc(de->block.buf_count, sizeof(*held), GFP_KERNEL);
	if (!held)
		return -ENOMEM;
	de->residue_known = !dma_get_slave_caps(de->chan, &caps) &&
		caps.residue_granularity != DMA_RESIDUE_GRANULARITY_DESCRIPTOR;
	tx = lring_dmaengine_prep_cyclic(de);
	if (!tx) {
		dev_warn(de->dev, "the DMA engine refused a cyclic transfer of %u periods of %u bytes\n",
			 de->block.buf_count, de->block.buf_size);
		kfree(held);
		return -EIO;
	}
	tx->callback_result = lring_dmaengine_period;
	tx->callback_param = de;
	spin_lock_irq(&de->lock);
	de->held = held;
	de->period = 0;
	de->running = true;
	spin_unlock_irq(&de->lock);
	/* Buffers queued so far go to @held at the first period. */
	de->cookie = dmaengine_submit(tx);
	ret = dma_submit_error(de->cookie);
	if (ret)
		return ret;	/* the core stops the ring, which frees @held */
	dma_async_issue_pending(de->chan);
	/*
	 * Every period looks at the fill ring (done() refills after a drop),
	 * so the application never needs to kick; stop ends the polling.
	 */
	lring_device_poll(de->ring, true);
	return 0;
}
/* tutorial-end: dmaengine-cyclic */

static int lring_dmaengine_start(struct lring *ring)
{
	struct lring_dmaengine *de = lring_priv(ring);

	if (de->cyclic)
		return lring_dmaengine_start_cyclic(de);
	spin_lock_irq(&de->lock);
	de->running = true;
	lring_dmaengine_kick(de);
	spin_unlock_irq(&de->lock);
	return 0;
}

/*
 * Nothing new starts once running is clear; the memcpy work is let finish,
 * terminate_sync() then aborts what the engine holds and waits for its
 * callbacks, and the refused buffers' work is done or cancelled: the core
 * takes back the rest.
 */
/* tutorial: dmaengine-stop */
static void lring_dmaengine_stop(struct lring *ring)
{
	struct lring_dmaengine *de = lring_priv(ring);
	struct lring_buffer **held;

	spin_lock_irq(&de->lock);
	de->running = false;
	spin_unlock_irq(&de->lock);
	/* A piece the work was preparing reaches the engine, then is aborted. */
	cancel_work_sync(&de->copy_work);
	dmaengine_terminate_sync(de->chan);
	cancel_work_sync(&de->fail_work);
	spin_lock_irq(&de->lock);
	INIT_LIST_HEAD(&de->waiting);
	INIT_LIST_HEAD(&de->inflight);
	INIT_LIST_HEAD(&de->failed);
	de->cur = NULL;
	de->piece = 0;
	de->busy = false;
	held = de->held;
	de->held = NULL;
	spin_unlock_irq(&de->lock);
	kfree(held);
}
/* tutorial-end: dmaengine-stop */

static const struct lring_device_ops lring_dmaengine_ops = {
	.start = lring_dmaengine_start,
	.stop = lring_dmaengine_stop,
	.queue = lring_dmaengine_queue,
	.max_segments = UINT_MAX,
};

static const struct lring_device_ops lring_dmaengine_cyclic_ops = {
	.start = lring_dmaengine_start,
	.stop = lring_dmaengine_stop,
	.queue = lring_dmaengine_queue,
	.max_segments = 1,
	.cyclic = true,
};

/* The same attributes as lring_sim's, so its consumers verify this data. */
static ssize_t seed_show(struct device *dev, struct device_attribute *attr,
			 char *buf)
{
	struct lring_dmaengine *de = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%llu\n", READ_ONCE(de->seed));
}

static ssize_t seed_store(struct device *dev, struct device_attribute *attr,
			  const char *buf, size_t count)
{
	struct lring_dmaengine *de = dev_get_drvdata(dev);
	u64 val;
	int ret = kstrtou64(buf, 0, &val);

	if (!ret)
		WRITE_ONCE(de->seed, val);
	return ret ?: count;
}
static DEVICE_ATTR_RW(seed);

static ssize_t block_size_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	struct lring_dmaengine *de = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%u\n", READ_ONCE(de->block_size));
}

static ssize_t block_size_store(struct device *dev,
				struct device_attribute *attr,
				const char *buf, size_t count)
{
	struct lring_dmaengine *de = dev_get_drvdata(dev);
	u32 val;
	int ret = kstrtou32(buf, 0, &val);

	if (!ret)
		WRITE_ONCE(de->block_size, val);
	return ret ?: count;
}
static DEVICE_ATTR_RW(block_size);

static ssize_t errors_show(struct device *dev, struct device_attribute *attr,
			   char *buf)
{
	struct lring_dmaengine *de = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%ld\n", atomic_long_read(&de->errors));
}
static DEVICE_ATTR_RO(errors);

/* Which channel, of which controller: for the logs and the tests. */
static ssize_t channel_show(struct device *dev, struct device_attribute *attr,
			    char *buf)
{
	struct lring_dmaengine *de = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%s %s %s\n", dma_chan_name(de->chan),
			  dev_name(dmaengine_get_dma_device(de->chan)),
			  de->memcpy ? "memcpy" : de->cyclic ? "cyclic" : "slave");
}
static DEVICE_ATTR_RO(channel);

static struct attribute *lring_dmaengine_attrs[] = {
	&dev_attr_seed.attr,
	&dev_attr_block_size.attr,
	&dev_attr_errors.attr,
	&dev_attr_channel.attr,
	NULL,
};
ATTRIBUTE_GROUPS(lring_dmaengine);

/*
 * The node's channel, and its peripheral's FIFO if it names one; with
 * lring,memcpy, or without a node (memcpy_channels), a memcpy channel and
 * the staging pattern; without a node and with platform data saying so
 * (cyclic_channels), a channel that runs cyclic transfers from its own
 * peripheral.
 */
/* tutorial: dmaengine-channel */
static int lring_dmaengine_channel(struct lring_dmaengine *de)
{
	struct device *dev = de->dev;
	struct dma_slave_config cfg = { .direction = DMA_DEV_TO_MEM };
	struct dma_slave_caps caps;
	u32 width = 4, burst = 1;
	dma_cap_mask_t mask;
	u64 fifo;

	if (!dev->of_node) {
		de->cyclic = dev_get_platdata(dev) != NULL;
		de->memcpy = !de->cyclic;
		dma_cap_zero(mask);
		dma_cap_set(de->cyclic ? DMA_CYCLIC : DMA_MEMCPY, mask);
		if (de->cyclic)
			dma_cap_set(DMA_SLAVE, mask);
		de->chan = dma_request_chan_by_mask(&mask);
		return PTR_ERR_OR_ZERO(de->chan);
	}
	de->chan = dma_request_chan(dev, "rx");
	if (IS_ERR(de->chan))
		return dev_err_probe(dev, PTR_ERR(de->chan), "no \"rx\" DMA channel\n");
	de->memcpy = of_property_read_bool(dev->of_node, "lring,memcpy");
	de->cyclic = of_property_read_bool(dev->of_node, "lring,cyclic");
	if (de->memcpy && de->cyclic)
		return dev_err_probe(dev, -EINVAL, "lring,memcpy and lring,cyclic: one mode\n");
	/* A stream engine (AXI DMA's S2MM) has no FIFO address to set. */
	if (de->memcpy ||
	    of_property_read_u64(dev->of_node, "lring,fifo-address", &fifo))
		return 0;
	of_property_read_u32(dev->of_node, "lring,bus-width", &width);
	of_property_read_u32(dev->of_node, "lring,maxburst", &burst);
	if (!is_power_of_2(width) || width > 64)
		return dev_err_probe(dev, -EINVAL, "lring,bus-width %u: 1, 2, 4 ... 64 bytes\n",
				     width);
	/* Else every transfer would be refused, one by one, while streaming. */
	if (!dma_get_slave_caps(de->chan, &caps) && width < 32 &&
	    !(caps.src_addr_widths & BIT(width)))
		return dev_err_probe(dev, -EINVAL,
				     "lring,bus-width %u: the channel reads widths %#x (bit N: N bytes)\n",
				     width, caps.src_addr_widths);
	cfg.src_addr = fifo;
	cfg.src_addr_width = width;
	cfg.src_maxburst = burst;
	return dmaengine_slave_config(de->chan, &cfg);
}
/* tutorial-end: dmaengine-channel */

static int lring_dmaengine_probe(struct platform_device *pdev)
{
	struct device *dev = &pdev->dev;
	struct lring_dmaengine *de;
	struct device *dma_dev;
	int ret;

	de = devm_kzalloc(dev, sizeof(*de), GFP_KERNEL);
	if (!de)
		return -ENOMEM;
	de->dev = dev;
	spin_lock_init(&de->lock);
	INIT_LIST_HEAD(&de->waiting);
	INIT_LIST_HEAD(&de->inflight);
	INIT_LIST_HEAD(&de->failed);
	INIT_WORK(&de->fail_work, lring_dmaengine_fail_work);
	INIT_WORK(&de->copy_work, lring_dmaengine_copy_work);

	ret = lring_dmaengine_channel(de);
	if (ret) {
		if (!IS_ERR_OR_NULL(de->chan))
			dma_release_channel(de->chan);
		return ret;
	}
	/* tutorial: dmaengine-register */
	dma_dev = dmaengine_get_dma_device(de->chan);
	if (de->memcpy && !de->chan->device->device_prep_dma_memcpy) {
		ret = dev_err_probe(dev, -EOPNOTSUPP, "channel %s cannot copy memory\n",
				    dma_chan_name(de->chan));
		goto err_release;
	}
	if (de->cyclic && !dma_has_cap(DMA_CYCLIC, de->chan->device->cap_mask)) {
		ret = dev_err_probe(dev, -EOPNOTSUPP, "channel %s cannot run a cyclic transfer\n",
				    dma_chan_name(de->chan));
		goto err_release;
	}
	if (de->memcpy) {
		de->stage = dma_alloc_coherent(dma_dev, LRING_DMAENGINE_PIECE,
					       &de->stage_dma, GFP_KERNEL);
		if (!de->stage) {
			ret = -ENOMEM;
			goto err_release;
		}
	}
	platform_set_drvdata(pdev, de);
	de->ring = lring_register_client(dev, dma_dev, de->cyclic ?
					 &lring_dmaengine_cyclic_ops :
					 &lring_dmaengine_ops, de);
	/* tutorial-end: dmaengine-register */
	if (IS_ERR(de->ring)) {
		ret = PTR_ERR(de->ring);
		goto err_free_stage;
	}
	dev_info(dev, "%s: channel %s of %s (%s)\n", dev_name(lring_device(de->ring)),
		 dma_chan_name(de->chan), dev_name(dma_dev),
		 de->memcpy ? "memcpy from a staging pattern" :
		 de->cyclic ? "cyclic" : "slave");
	return 0;

err_free_stage:
	if (de->stage)
		dma_free_coherent(dma_dev, LRING_DMAENGINE_PIECE, de->stage,
				  de->stage_dma);
err_release:
	dma_release_channel(de->chan);
	return ret;
}

/* The core stops the ring (terminating the channel) before it returns. */
static void lring_dmaengine_remove(struct platform_device *pdev)
{
	struct lring_dmaengine *de = platform_get_drvdata(pdev);

	lring_unregister(de->ring);
	if (de->stage)
		dma_free_coherent(dmaengine_get_dma_device(de->chan),
				  LRING_DMAENGINE_PIECE, de->stage, de->stage_dma);
	dma_release_channel(de->chan);
}

LRING_PLATFORM_REMOVE_WRAPPER(lring_dmaengine_remove);

static const struct of_device_id lring_dmaengine_of_ids[] = {
	{ .compatible = "lring,dmaengine" },
	{ }
};
/*
 * The test harness cross-builds 32-bit ARM modules with the host's modpost,
 * whose device table sizes are a 64-bit kernel's: there the table is left
 * out (nodes still match; only autoloading is lost). Built for its own
 * kernel, on the board or by DKMS, the module always has it.
 */
#ifndef LRING_HOST_MODPOST
MODULE_DEVICE_TABLE(of, lring_dmaengine_of_ids);
#endif

static struct platform_driver lring_dmaengine_driver = {
	.probe = lring_dmaengine_probe,
	LRING_PLATFORM_REMOVE(lring_dmaengine_remove),
	.driver = {
		.name = "lring-dmaengine",
		.of_match_table = lring_dmaengine_of_ids,
		.dev_groups = lring_dmaengine_groups,
	},
};

/*
 * memcpy_channels, then cyclic_channels: devices of our own, with no node,
 * one per channel, numbered in that order; a cyclic one's platform data
 * says so.
 */
static struct platform_device **lring_dmaengine_pdevs;

static void lring_dmaengine_remove_pdevs(void)
{
	unsigned int i;

	for (i = 0; lring_dmaengine_pdevs &&
		    i < memcpy_channels + cyclic_channels; i++)
		if (!IS_ERR_OR_NULL(lring_dmaengine_pdevs[i]))
			platform_device_unregister(lring_dmaengine_pdevs[i]);
	kfree(lring_dmaengine_pdevs);
	lring_dmaengine_pdevs = NULL;
}

static int __init lring_dmaengine_init(void)
{
	unsigned int i, n = memcpy_channels + cyclic_channels;
	static const bool cyclic = true;
	int ret;

	ret = platform_driver_register(&lring_dmaengine_driver);
	if (ret || !n)
		return ret;
	lring_dmaengine_pdevs = kcalloc(n, sizeof(*lring_dmaengine_pdevs),
					GFP_KERNEL);
	if (!lring_dmaengine_pdevs) {
		ret = -ENOMEM;
		goto err_driver;
	}
	for (i = 0; i < n; i++) {
		lring_dmaengine_pdevs[i] =
			platform_device_register_data(NULL, "lring-dmaengine", i,
						      i < memcpy_channels ? NULL : &cyclic,
						      i < memcpy_channels ? 0 : sizeof(cyclic));
		if (IS_ERR(lring_dmaengine_pdevs[i])) {
			ret = PTR_ERR(lring_dmaengine_pdevs[i]);
			goto err_pdevs;
		}
	}
	return 0;

err_pdevs:
	lring_dmaengine_remove_pdevs();
err_driver:
	platform_driver_unregister(&lring_dmaengine_driver);
	return ret;
}
module_init(lring_dmaengine_init);

static void __exit lring_dmaengine_exit(void)
{
	lring_dmaengine_remove_pdevs();
	platform_driver_unregister(&lring_dmaengine_driver);
}
module_exit(lring_dmaengine_exit);

MODULE_DESCRIPTION("lring driver for any dmaengine channel");
MODULE_LICENSE("GPL");
