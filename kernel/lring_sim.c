// SPDX-License-Identifier: GPL-2.0
/*
 * lring_sim.c - a simulated streaming device for lring.
 *
 * It behaves like a bus master: it writes each block at the buffer's bus
 * address (which, for a device without an IOMMU, is a physical address),
 * never through the CPU address the core uses. So a missing sync shows up
 * here as it would on hardware, e.g. under swiotlb=force.
 *
 * An hrtimer plays the interrupt at the configured rate; a block that finds
 * no queued buffer is dropped. At rate 0 a kthread produces as fast as
 * buffers come back, and waits (the device stalls) when none is queued.
 *
 * On a ring configured to send, the device is a sink: it reads each block
 * at its bus address, at the same rate, and compares it with the pattern
 * the sender was asked to write, counting the blocks that differ. It never
 * drops: a tick that finds nothing queued waits for the next.
 */
#include <linux/delay.h>
#include <linux/dma-mapping.h>
#include <linux/hrtimer.h>
#include <linux/io.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <linux/lring_sim.h>

#include "lring_compat.h"
#include "lring_driver.h"

#define LRING_SIM_MAX_RINGS	16
/* How long the rate-0 device polls for returned buffers before sleeping. */
#define LRING_SIM_POLL_US	2000
/* Blocks reported per lring_buffers_done() call, at most. */
#define LRING_SIM_BATCH		16
/* The most timer interrupts per second the device asks for. */
#define LRING_SIM_MAX_TICKS	20000

static unsigned int nr_rings = 1;
module_param(nr_rings, uint, 0444);
MODULE_PARM_DESC(nr_rings, "Number of simulated rings (1-16)");

/**
 * struct lring_sim - one simulated device
 * @pdev:	its platform device, lring_sim.N
 * @ring:	its ring
 * @lock:	protects @queue
 * @queue:	buffers the core handed over, oldest first
 * @param_lock:	protects the parameters against changes while running
 * @rate:	blocks per second, 0 = as fast as buffers come back
 * @block_size:	bytes per block, 0 = the whole buffer
 * @seed:	mixed into the data pattern
 * @running:	between start and stop
 * @sends:	the ring sends: the device reads and checks blocks
 * @tx_blocks:	blocks read since the last start (sending ring)
 * @tx_mismatches: of those, blocks that differed from the pattern
 * @timer:	the "interrupt" at @rate
 * @period:	time between ticks of the "interrupt"
 * @blocks_per_tick: blocks each tick produces, so ticks stay affordable
 * @thread:	the producer at rate 0
 * @thread_wq:	@thread waits here for a buffer
 */
struct lring_sim {
	struct platform_device *pdev;
	struct lring *ring;

	spinlock_t lock;
	struct list_head queue;

	struct mutex param_lock;
	u32 rate;
	u32 block_size;
	u64 seed;
	bool running;
	bool sends;
	u64 tx_blocks;
	u64 tx_mismatches;

	struct hrtimer timer;
	ktime_t period;
	u32 blocks_per_tick;
	struct task_struct *thread;
	wait_queue_head_t thread_wq;
};

static struct lring_sim *lring_sims[LRING_SIM_MAX_RINGS];

static struct lring_buffer *lring_sim_pop(struct lring_sim *sim)
{
	struct lring_buffer *buf;
	unsigned long flags;

	spin_lock_irqsave(&sim->lock, flags);
	buf = list_first_entry_or_null(&sim->queue, struct lring_buffer, queue);
	if (buf)
		list_del(&buf->queue);
	spin_unlock_irqrestore(&sim->lock, flags);
	return buf;
}

/*
 * One page's worth of block @seq, from word *@word on, at @mem: a
 * receiving ring's device writes the pattern there; a sending ring's sink
 * reads it and compares, every word even after a wrong one, so that its
 * work per block does not depend on the data (ring-bench's tx-ceiling
 * sends buffers nobody wrote). Return: false if a byte differed.
 */
static bool lring_sim_page(struct lring_sim *sim, __le64 *mem, u32 bytes,
			   u64 seq, u64 *word)
{
	bool same = true;
	__le64 v;
	u32 w;

	for (w = 0; w < bytes / 8; w++, (*word)++) {
		v = cpu_to_le64(lring_sim_word(sim->seed, seq, *word));
		if (sim->sends)
			same &= mem[w] == v;
		else
			mem[w] = v;
	}
	if (bytes % 8) {
		v = cpu_to_le64(lring_sim_word(sim->seed, seq, *word));
		if (sim->sends)
			same &= !memcmp(&mem[w], &v, bytes % 8);
		else
			memcpy(&mem[w], &v, bytes % 8);
	}
	return same;
}

/*
 * The "DMA": block @seq of the pattern, @len bytes, written into @buf (or,
 * on a sending ring, read from it and checked), segment by segment at the
 * buffer's bus addresses (physical addresses, checked at probe). A page at
 * a time, through a temporary mapping: on a 32-bit kernel a pinned user
 * page may be in highmem, which has no permanent kernel address.
 * Return: false if the sink found a byte that differed.
 */
static bool lring_sim_dma(struct lring_sim *sim, struct lring_buffer *buf,
			  u64 seq, u32 len)
{
	bool same = true;
	u64 word = 0;
	struct scatterlist *sg;
	int i;

	for_each_sgtable_dma_sg(buf->sgt, sg, i) {
		phys_addr_t addr = sg_dma_address(sg);
		u32 n = min(len, sg_dma_len(sg));

		len -= n;
		while (n) {
			/* Segments hold whole pages, so every word is aligned. */
			u32 chunk = min_t(u32, n, PAGE_SIZE - offset_in_page(addr));
			__le64 *mem = kmap_local_page(pfn_to_page(PHYS_PFN(addr))) +
				      offset_in_page(addr);

			same &= lring_sim_page(sim, mem, chunk, seq, &word);
			kunmap_local(mem);
			addr += chunk;
			n -= chunk;
		}
		if (!len)
			break;
	}
	return same;
}

/* Block length; a block larger than the buffer is cut by the core. */
static u32 lring_sim_block_len(struct lring_sim *sim, struct lring_buffer *buf)
{
	return sim->block_size ?: buf->size;
}

/*
 * Fills a batch of blocks into the buffers in @done (a NULL buffer is a
 * block the device had none for), to be reported in one call, as a device
 * that coalesces its interrupts would. Block i of the batch carries
 * sequence number next_seq + i: drops count too.
 */
static void lring_sim_fill_batch(struct lring_sim *sim, struct lring_done *done,
				 unsigned int n)
{
	u64 seq = lring_next_seq(sim->ring);
	unsigned int i, bad = 0;

	for (i = 0; i < n; i++) {
		if (!done[i].buf)
			continue;
		if (sim->sends) {
			/* Block seq + i of the stream of blocks sent. */
			done[i].len = done[i].buf->len;
			bad += !lring_sim_dma(sim, done[i].buf, seq + i,
					      done[i].len);
			continue;
		}
		done[i].len = lring_sim_block_len(sim, done[i].buf);
		lring_sim_dma(sim, done[i].buf, seq + i,
			      min(done[i].len, done[i].buf->size));
	}
	if (sim->sends) {
		/* One context at a time moves them: the timer or the thread. */
		WRITE_ONCE(sim->tx_blocks, sim->tx_blocks + n);
		WRITE_ONCE(sim->tx_mismatches, sim->tx_mismatches + bad);
	}
}

static enum hrtimer_restart lring_sim_tick(struct hrtimer *timer)
{
	struct lring_sim *sim = container_of(timer, struct lring_sim, timer);
	struct lring_done done[LRING_SIM_BATCH] = {};
	u32 i, n = 0;

	for (i = 0; i < sim->blocks_per_tick; i++) {
		done[n].buf = lring_sim_pop(sim);
		/* A sink with nothing queued waits for the next tick. */
		if (!done[n].buf && sim->sends) {
			if (n) {
				lring_sim_fill_batch(sim, done, n);
				lring_buffers_done(sim->ring, done, n);
			}
			break;
		}
		/* A drop ends the batch: its refill may feed the next block. */
		if (!done[n++].buf || n == LRING_SIM_BATCH ||
		    i + 1 == sim->blocks_per_tick) {
			lring_sim_fill_batch(sim, done, n);
			lring_buffers_done(sim->ring, done, n);
			n = 0;
		}
	}
	/*
	 * The next tick is a whole period after this one ends: a machine too
	 * slow for the rate slips the device's clock instead of spending all
	 * its time in this interrupt.
	 */
	hrtimer_set_expires(timer, ktime_add(ktime_get(), sim->period));
	return HRTIMER_RESTART;
}

static bool lring_sim_has_buffer(struct lring_sim *sim)
{
	unsigned long flags;
	bool ret;

	spin_lock_irqsave(&sim->lock, flags);
	ret = !list_empty(&sim->queue);
	spin_unlock_irqrestore(&sim->lock, flags);
	return ret;
}

/*
 * Out of buffers: poll the fill ring for a while, as a device walking its
 * descriptor ring would, so that a consumer that is only a little behind
 * need not kick; then ask for a kick and sleep until a buffer comes. The
 * thread is "polling" whenever it is awake, not only inside this loop:
 * the completion that hands over its last buffer comes first, and must not
 * raise NEED_WAKEUP for a device that is about to look by itself.
 */
static void lring_sim_wait_for_buffer(struct lring_sim *sim)
{
	ktime_t until = ktime_add_us(ktime_get(), LRING_SIM_POLL_US);

	do {
		lring_device_poll(sim->ring, true);
		if (lring_sim_has_buffer(sim))
			return;
		usleep_range(10, 20);
	} while (ktime_before(ktime_get(), until) && !kthread_should_stop());
	lring_device_poll(sim->ring, false);
	wait_event_interruptible(sim->thread_wq,
				 lring_sim_has_buffer(sim) ||
				 kthread_should_stop());
	if (!kthread_should_stop())
		lring_device_poll(sim->ring, true);
}

static int lring_sim_thread(void *data)
{
	struct lring_sim *sim = data;
	struct lring_done done[LRING_SIM_BATCH];
	unsigned int n;

	lring_device_poll(sim->ring, true);
	while (!kthread_should_stop()) {
		/* What is queued now, up to a batch: no waiting to fill one. */
		for (n = 0; n < LRING_SIM_BATCH; n++) {
			done[n] = (struct lring_done){ .buf = lring_sim_pop(sim) };
			if (!done[n].buf)
				break;
		}
		if (!n) {
			lring_sim_wait_for_buffer(sim);
			continue;
		}
		lring_sim_fill_batch(sim, done, n);
		/*
		 * Complete as an interrupt handler would: interrupts off,
		 * except on PREEMPT_RT, where handlers run in threads and the
		 * core's spinlock_t locks may sleep.
		 */
		if (!IS_ENABLED(CONFIG_PREEMPT_RT))
			local_irq_disable();
		lring_buffers_done(sim->ring, done, n);
		if (!IS_ENABLED(CONFIG_PREEMPT_RT))
			local_irq_enable();
		cond_resched();
	}
	return 0;
}

static void lring_sim_queue(struct lring *ring, struct lring_buffer *buf)
{
	struct lring_sim *sim = lring_priv(ring);
	unsigned long flags;

	spin_lock_irqsave(&sim->lock, flags);
	list_add_tail(&buf->queue, &sim->queue);
	spin_unlock_irqrestore(&sim->lock, flags);
	if (!sim->rate)
		wake_up(&sim->thread_wq);
}

static int lring_sim_start(struct lring *ring)
{
	struct lring_sim *sim = lring_priv(ring);
	int ret = 0;

	mutex_lock(&sim->param_lock);
	sim->sends = lring_direction(ring) == DMA_TO_DEVICE;
	WRITE_ONCE(sim->tx_blocks, 0);
	WRITE_ONCE(sim->tx_mismatches, 0);
	if (sim->rate) {
		/* Above 20k blocks/s, several blocks per tick. */
		sim->blocks_per_tick = DIV_ROUND_UP(sim->rate, LRING_SIM_MAX_TICKS);
		sim->period = ns_to_ktime(div_u64((u64)NSEC_PER_SEC *
						  sim->blocks_per_tick, sim->rate));
		hrtimer_start(&sim->timer, sim->period, HRTIMER_MODE_REL);
	} else {
		sim->thread = kthread_run(lring_sim_thread, sim, "lring_sim/%d",
					  sim->pdev->id);
		if (IS_ERR(sim->thread)) {
			ret = PTR_ERR(sim->thread);
			sim->thread = NULL;
		}
	}
	sim->running = !ret;
	mutex_unlock(&sim->param_lock);
	return ret;
}

static void lring_sim_stop(struct lring *ring)
{
	struct lring_sim *sim = lring_priv(ring);
	unsigned long flags;

	mutex_lock(&sim->param_lock);
	hrtimer_cancel(&sim->timer);
	if (sim->thread) {
		kthread_stop(sim->thread);
		sim->thread = NULL;
	}
	/* The core takes back whatever we still hold. */
	spin_lock_irqsave(&sim->lock, flags);
	INIT_LIST_HEAD(&sim->queue);
	spin_unlock_irqrestore(&sim->lock, flags);
	sim->running = false;
	mutex_unlock(&sim->param_lock);
}

static const struct lring_device_ops lring_sim_ops = {
	.start = lring_sim_start,
	.stop = lring_sim_stop,
	.queue = lring_sim_queue,
	/* Writing through the CPU, it takes any number of segments. */
	.max_segments = UINT_MAX,
	.directions = BIT(DMA_FROM_DEVICE) | BIT(DMA_TO_DEVICE),
};

/* Parameters: sysfs attributes of lring_sim.N, changed only while stopped. */
static ssize_t lring_sim_store_u64(struct device *dev, const char *buf,
				   size_t count, u64 max, void (*set)(struct lring_sim *, u64))
{
	struct lring_sim *sim = dev_get_drvdata(dev);
	u64 val;
	int ret;

	ret = kstrtou64(buf, 0, &val);
	if (ret)
		return ret;
	if (val > max)
		return -ERANGE;
	mutex_lock(&sim->param_lock);
	if (sim->running)
		ret = -EBUSY;
	else
		set(sim, val);
	mutex_unlock(&sim->param_lock);
	return ret ?: count;
}

static void lring_sim_set_rate(struct lring_sim *sim, u64 val)
{
	sim->rate = val;
}

static void lring_sim_set_block_size(struct lring_sim *sim, u64 val)
{
	sim->block_size = val;
}

static void lring_sim_set_seed(struct lring_sim *sim, u64 val)
{
	sim->seed = val;
}

static ssize_t rate_show(struct device *dev, struct device_attribute *attr,
			 char *buf)
{
	struct lring_sim *sim = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%u\n", READ_ONCE(sim->rate));
}

static ssize_t rate_store(struct device *dev, struct device_attribute *attr,
			  const char *buf, size_t count)
{
	return lring_sim_store_u64(dev, buf, count, LRING_SIM_MAX_RATE,
				   lring_sim_set_rate);
}
static DEVICE_ATTR_RW(rate);

static ssize_t block_size_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	struct lring_sim *sim = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%u\n", READ_ONCE(sim->block_size));
}

static ssize_t block_size_store(struct device *dev,
				struct device_attribute *attr,
				const char *buf, size_t count)
{
	return lring_sim_store_u64(dev, buf, count, U32_MAX,
				   lring_sim_set_block_size);
}
static DEVICE_ATTR_RW(block_size);

static ssize_t seed_show(struct device *dev, struct device_attribute *attr,
			 char *buf)
{
	struct lring_sim *sim = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%llu\n", READ_ONCE(sim->seed));
}

static ssize_t seed_store(struct device *dev, struct device_attribute *attr,
			  const char *buf, size_t count)
{
	return lring_sim_store_u64(dev, buf, count, U64_MAX,
				   lring_sim_set_seed);
}
static DEVICE_ATTR_RW(seed);

/*
 * The DMA segment limit a real card may have (many take 64 KiB): the core
 * must then refuse single-segment buffers above it and cut pinned user
 * memory at it. Read at configure time.
 */
static void lring_sim_set_max_segment(struct lring_sim *sim, u64 val)
{
	dma_set_max_seg_size(&sim->pdev->dev, val);
}

static ssize_t max_segment_show(struct device *dev,
				struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", dma_get_max_seg_size(dev));
}

static ssize_t max_segment_store(struct device *dev,
				 struct device_attribute *attr,
				 const char *buf, size_t count)
{
	u64 val;
	int ret = kstrtou64(buf, 0, &val);

	if (ret)
		return ret;
	/* A page at least: buffers are made of pages. */
	if (val < PAGE_SIZE)
		return -ERANGE;
	return lring_sim_store_u64(dev, buf, count, U32_MAX,
				   lring_sim_set_max_segment);
}
static DEVICE_ATTR_RW(max_segment);

/* What the sink read since the last start: tests compare it with counters. */
static ssize_t tx_blocks_show(struct device *dev,
			      struct device_attribute *attr, char *buf)
{
	struct lring_sim *sim = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%llu\n", READ_ONCE(sim->tx_blocks));
}
static DEVICE_ATTR_RO(tx_blocks);

static ssize_t tx_mismatches_show(struct device *dev,
				  struct device_attribute *attr, char *buf)
{
	struct lring_sim *sim = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%llu\n", READ_ONCE(sim->tx_mismatches));
}
static DEVICE_ATTR_RO(tx_mismatches);

static struct attribute *lring_sim_attrs[] = {
	&dev_attr_rate.attr,
	&dev_attr_tx_blocks.attr,
	&dev_attr_tx_mismatches.attr,
	&dev_attr_block_size.attr,
	&dev_attr_seed.attr,
	&dev_attr_max_segment.attr,
	NULL,
};
ATTRIBUTE_GROUPS(lring_sim);

static void lring_sim_destroy(struct lring_sim *sim)
{
	if (sim->ring)
		lring_unregister(sim->ring);
	platform_device_unregister(sim->pdev);
	kfree(sim);
}

static struct lring_sim *lring_sim_create(int id)
{
	struct lring_sim *sim;
	int ret;

	sim = kzalloc(sizeof(*sim), GFP_KERNEL);
	if (!sim)
		return ERR_PTR(-ENOMEM);
	spin_lock_init(&sim->lock);
	INIT_LIST_HEAD(&sim->queue);
	mutex_init(&sim->param_lock);
	init_waitqueue_head(&sim->thread_wq);
	/*
	 * Not _HARD: a hard interrupt elsewhere, but on PREEMPT_RT a softirq,
	 * where lring_buffer_done()'s spinlock_t may sleep.
	 */
	hrtimer_setup(&sim->timer, lring_sim_tick, CLOCK_MONOTONIC, HRTIMER_MODE_REL);
	sim->rate = 1000;
	sim->seed = id;

	sim->pdev = platform_device_alloc("lring_sim", id);
	if (!sim->pdev) {
		kfree(sim);
		return ERR_PTR(-ENOMEM);
	}
	platform_set_drvdata(sim->pdev, sim);
	sim->pdev->dev.groups = lring_sim_groups;
	ret = platform_device_add(sim->pdev);
	if (ret) {
		platform_device_put(sim->pdev);
		kfree(sim);
		return ERR_PTR(ret);
	}

	ret = dma_coerce_mask_and_coherent(&sim->pdev->dev, DMA_BIT_MASK(64));
	if (ret)
		goto err_destroy;
	/* No limit of its own on segments: cut only where bouncing needs it. */
	dma_set_max_seg_size(&sim->pdev->dev, UINT_MAX);
	/* A bus address must be a physical address for lring_sim_dma(). */
	if (device_iommu_mapped(&sim->pdev->dev) ||
	    sim->pdev->dev.dma_range_map) {
		ret = -EOPNOTSUPP;
		goto err_destroy;
	}

	sim->ring = lring_register(&sim->pdev->dev, &lring_sim_ops, sim);
	if (IS_ERR(sim->ring)) {
		ret = PTR_ERR(sim->ring);
		sim->ring = NULL;
		goto err_destroy;
	}
	return sim;

err_destroy:
	lring_sim_destroy(sim);
	return ERR_PTR(ret);
}

static void lring_sim_exit(void)
{
	int i;

	for (i = LRING_SIM_MAX_RINGS - 1; i >= 0; i--) {
		if (lring_sims[i])
			lring_sim_destroy(lring_sims[i]);
		lring_sims[i] = NULL;
	}
}

static int __init lring_sim_init(void)
{
	unsigned int i;

	if (!nr_rings || nr_rings > LRING_SIM_MAX_RINGS)
		return -EINVAL;
	for (i = 0; i < nr_rings; i++) {
		struct lring_sim *sim = lring_sim_create(i);

		if (IS_ERR(sim)) {
			pr_err("lring_sim: ring %u: %ld\n", i, PTR_ERR(sim));
			lring_sim_exit();
			return PTR_ERR(sim);
		}
		lring_sims[i] = sim;
	}
	return 0;
}

module_init(lring_sim_init);
module_exit(lring_sim_exit);
MODULE_DESCRIPTION("lring simulated streaming device");
MODULE_LICENSE("GPL");
