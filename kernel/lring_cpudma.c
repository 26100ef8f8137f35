// SPDX-License-Identifier: GPL-2.0
/*
 * lring_cpudma.c - a DMA controller whose engine is the CPU, for tests.
 *
 * What vivid is to V4L2: a dmaengine provider with no hardware behind it,
 * so that lring_dmaengine's cyclic mode can be proven on a machine whose
 * DMA controller cannot run a cyclic transfer (QEMU's BCM2835 model runs
 * a control-block chain to its end inside the register write that starts
 * it, and a cyclic chain has no end).
 *
 * Each channel is an ADC that cannot stop: DEV_TO_MEM cyclic transfers
 * only, one period every period_us microseconds, each period the next
 * little-endian 64-bit words of a sample counter that runs on across
 * transfers, so a reader can tell from any block where in the stream it
 * belongs. An hrtimer in softirq mode plays the controller's interrupt,
 * as a controller's tasklet would. It writes at the bus address, which
 * for a device without an IOMMU is a physical address (as lring_sim does).
 *
 * The cookie and descriptor bookkeeping that in-tree drivers take from
 * drivers/dma/dmaengine.h and virt-dma.h is private to the kernel tree,
 * so it is written out here: one transfer per channel, cyclic.
 */
#include <linux/dmaengine.h>
#include <linux/dma-mapping.h>
#include <linux/highmem.h>
#include <linux/hrtimer.h>
#include <linux/module.h>
#include <linux/platform_device.h>
#include <linux/slab.h>

#include "lring_compat.h"

#define LRING_CPUDMA_MAX_CHANNELS	8

static unsigned int nr_channels = 1;
module_param(nr_channels, uint, 0444);
MODULE_PARM_DESC(nr_channels, "Channels of the controller (1-8)");

static unsigned int period_us = 1000;
module_param(period_us, uint, 0644);
MODULE_PARM_DESC(period_us, "Microseconds per period of a cyclic transfer (default 1000)");

/**
 * struct lring_cpudma_desc - one cyclic transfer
 * @tx:		what the client sees
 * @buf_addr:	bus address of the buffer it goes round
 * @buf_len:	bytes of the buffer
 * @period_len:	bytes per period, a callback after each
 * @dead:	on the channel's list of terminated transfers
 */
struct lring_cpudma_desc {
	struct dma_async_tx_descriptor tx;
	struct list_head dead;
	dma_addr_t buf_addr;
	size_t buf_len;
	size_t period_len;
};

/**
 * struct lring_cpudma_chan - one channel
 * @chan:	the dmaengine channel
 * @timer:	the "interrupt", once a period
 * @lock:	protects the fields below
 * @submitted:	submitted, not yet issued, or NULL
 * @active:	the transfer running, or NULL
 * @dead:	terminated transfers, freed once the timer has stopped
 * @ticking:	@timer is armed or running, and will look at @active
 * @period:	the period of @active being written next
 * @sample:	the counter's next value: the stream's next word
 * @periods:	periods completed since the module was loaded (sysfs)
 */
struct lring_cpudma_chan {
	struct dma_chan chan;
	struct hrtimer timer;

	spinlock_t lock;
	struct lring_cpudma_desc *submitted;
	struct lring_cpudma_desc *active;
	struct list_head dead;
	bool ticking;
	unsigned int period;
	u64 sample;
	u64 periods;
};

/**
 * struct lring_cpudma - the controller
 * @dma:	what the dmaengine core knows of it
 * @chans:	its channels, nr_channels of them
 */
struct lring_cpudma {
	struct dma_device dma;
	struct lring_cpudma_chan chans[LRING_CPUDMA_MAX_CHANNELS];
};

static ktime_t lring_cpudma_period(void)
{
	return ns_to_ktime((u64)READ_ONCE(period_us) * NSEC_PER_USEC);
}

static struct lring_cpudma_chan *to_cpudma_chan(struct dma_chan *chan)
{
	return container_of(chan, struct lring_cpudma_chan, chan);
}

static struct lring_cpudma_desc *
to_cpudma_desc(struct dma_async_tx_descriptor *tx)
{
	return container_of(tx, struct lring_cpudma_desc, tx);
}

static int lring_cpudma_alloc_chan_resources(struct dma_chan *chan)
{
	chan->cookie = DMA_MIN_COOKIE;
	chan->completed_cookie = DMA_MIN_COOKIE;
	return 0;
}

/* Terminated transfers, once nothing can run them: see terminate_all. */
static void lring_cpudma_free_dead(struct lring_cpudma_chan *cc)
{
	struct lring_cpudma_desc *desc, *next;
	LIST_HEAD(dead);

	spin_lock_irq(&cc->lock);
	list_splice_init(&cc->dead, &dead);
	spin_unlock_irq(&cc->lock);
	list_for_each_entry_safe(desc, next, &dead, dead)
		kfree(desc);
}

static void lring_cpudma_synchronize(struct dma_chan *chan)
{
	struct lring_cpudma_chan *cc = to_cpudma_chan(chan);

	/* Waits for a period being written and its callback. */
	hrtimer_cancel(&cc->timer);
	spin_lock_irq(&cc->lock);
	cc->ticking = false;
	spin_unlock_irq(&cc->lock);
	lring_cpudma_free_dead(cc);
}

static int lring_cpudma_terminate_all(struct dma_chan *chan)
{
	struct lring_cpudma_chan *cc = to_cpudma_chan(chan);
	unsigned long flags;

	/*
	 * The timer may be writing a period of @active right now: it is
	 * freed by synchronize, after the timer has stopped.
	 */
	spin_lock_irqsave(&cc->lock, flags);
	if (cc->active)
		list_add_tail(&cc->active->dead, &cc->dead);
	if (cc->submitted)
		list_add_tail(&cc->submitted->dead, &cc->dead);
	cc->active = NULL;
	cc->submitted = NULL;
	spin_unlock_irqrestore(&cc->lock, flags);
	return 0;
}

static void lring_cpudma_free_chan_resources(struct dma_chan *chan)
{
	lring_cpudma_terminate_all(chan);
	lring_cpudma_synchronize(chan);
}

/* The next cookie, as every controller numbers its transfers. */
static dma_cookie_t lring_cpudma_tx_submit(struct dma_async_tx_descriptor *tx)
{
	struct lring_cpudma_chan *cc = to_cpudma_chan(tx->chan);
	unsigned long flags;
	dma_cookie_t cookie;

	spin_lock_irqsave(&cc->lock, flags);
	if (cc->submitted || cc->active) {
		/* One cyclic transfer at a time: it never ends. */
		spin_unlock_irqrestore(&cc->lock, flags);
		return -EBUSY;
	}
	cookie = tx->chan->cookie + 1;
	if (cookie < DMA_MIN_COOKIE)
		cookie = DMA_MIN_COOKIE;
	tx->chan->cookie = cookie;
	tx->cookie = cookie;
	cc->submitted = to_cpudma_desc(tx);
	spin_unlock_irqrestore(&cc->lock, flags);
	return cookie;
}

static struct dma_async_tx_descriptor *
lring_cpudma_prep_cyclic(struct dma_chan *chan, dma_addr_t buf_addr,
			 size_t buf_len, size_t period_len,
			 enum dma_transfer_direction dir, unsigned long flags)
{
	struct lring_cpudma_desc *desc;

	/* Whole words, whole periods: what the counter writes. */
	if (dir != DMA_DEV_TO_MEM || !period_len || buf_len % period_len ||
	    period_len % 8 || buf_addr % 8) {
		dev_err(chan->device->dev, "cyclic transfer of %zu bytes in periods of %zu: refused\n",
			buf_len, period_len);
		return NULL;
	}
	desc = kzalloc(sizeof(*desc), GFP_NOWAIT);
	if (!desc)
		return NULL;
	dma_async_tx_descriptor_init(&desc->tx, chan);
	desc->tx.tx_submit = lring_cpudma_tx_submit;
	desc->tx.flags = flags;
	desc->buf_addr = buf_addr;
	desc->buf_len = buf_len;
	desc->period_len = period_len;
	return &desc->tx;
}

static void lring_cpudma_issue_pending(struct dma_chan *chan)
{
	struct lring_cpudma_chan *cc = to_cpudma_chan(chan);
	unsigned long flags;

	spin_lock_irqsave(&cc->lock, flags);
	if (cc->submitted && !cc->active) {
		cc->active = cc->submitted;
		cc->submitted = NULL;
		cc->period = 0;
		/* A running tick goes on to this transfer by itself. */
		if (!cc->ticking) {
			cc->ticking = true;
			hrtimer_start(&cc->timer, lring_cpudma_period(),
				      HRTIMER_MODE_REL_SOFT);
		}
	}
	spin_unlock_irqrestore(&cc->lock, flags);
}

/* A cyclic transfer never completes; its residue says where it is. */
static enum dma_status lring_cpudma_tx_status(struct dma_chan *chan,
					      dma_cookie_t cookie,
					      struct dma_tx_state *state)
{
	struct lring_cpudma_chan *cc = to_cpudma_chan(chan);
	enum dma_status status;
	unsigned long flags;
	u32 residue = 0;

	spin_lock_irqsave(&cc->lock, flags);
	status = dma_async_is_complete(cookie, chan->completed_cookie,
				       chan->cookie);
	if (cc->active && cc->active->tx.cookie == cookie)
		residue = cc->active->buf_len -
			  cc->period * cc->active->period_len;
	dma_set_tx_state(state, chan->completed_cookie, chan->cookie, residue);
	spin_unlock_irqrestore(&cc->lock, flags);
	return status;
}

/* @len bytes of the counter at bus address @addr, page by page. */
static void lring_cpudma_write(dma_addr_t addr, size_t len, u64 *sample)
{
	while (len) {
		size_t chunk = min_t(size_t, len,
				     PAGE_SIZE - offset_in_page(addr));
		__le64 *mem = kmap_local_page(pfn_to_page(PHYS_PFN(addr))) +
			      offset_in_page(addr);
		size_t i;

		for (i = 0; i < chunk / 8; i++)
			mem[i] = cpu_to_le64((*sample)++);
		kunmap_local(mem);
		addr += chunk;
		len -= chunk;
	}
}

/* One period of the active transfer, then its callback, as an IRQ would. */
static enum hrtimer_restart lring_cpudma_tick(struct hrtimer *timer)
{
	struct lring_cpudma_chan *cc = container_of(timer, struct lring_cpudma_chan,
						    timer);
	struct dmaengine_result result = { .result = DMA_TRANS_NOERROR };
	struct lring_cpudma_desc *desc;
	unsigned long flags;
	dma_addr_t addr;
	bool live, again;
	u64 sample;

	spin_lock_irqsave(&cc->lock, flags);
	desc = cc->active;
	if (!desc) {
		cc->ticking = false;
		spin_unlock_irqrestore(&cc->lock, flags);
		return HRTIMER_NORESTART;
	}
	addr = desc->buf_addr + cc->period * desc->period_len;
	sample = cc->sample;
	spin_unlock_irqrestore(&cc->lock, flags);

	/* Terminated meanwhile or not, @desc lives until synchronize. */
	lring_cpudma_write(addr, desc->period_len, &sample);

	spin_lock_irqsave(&cc->lock, flags);
	cc->sample = sample;
	live = cc->active == desc;
	if (live) {
		cc->periods++;
		cc->period = (cc->period + 1) % (desc->buf_len / desc->period_len);
	}
	spin_unlock_irqrestore(&cc->lock, flags);

	/*
	 * Without the lock: the client may ask tx_status() or terminate. A
	 * transfer terminated meanwhile gets no callback.
	 */
	if (live && desc->tx.callback_result)
		desc->tx.callback_result(desc->tx.callback_param, &result);
	else if (live && desc->tx.callback)
		desc->tx.callback(desc->tx.callback_param);

	/* Ticks go on while a transfer is active, even a newly issued one. */
	spin_lock_irqsave(&cc->lock, flags);
	again = cc->active != NULL;
	cc->ticking = again;
	spin_unlock_irqrestore(&cc->lock, flags);
	if (!again)
		return HRTIMER_NORESTART;
	hrtimer_forward_now(timer, lring_cpudma_period());
	return HRTIMER_RESTART;
}

static ssize_t periods_show(struct device *dev, struct device_attribute *attr,
			    char *buf)
{
	struct lring_cpudma *cd = dev_get_drvdata(dev);
	u64 sum = 0;
	unsigned int i;

	for (i = 0; i < nr_channels; i++) {
		spin_lock_irq(&cd->chans[i].lock);
		sum += cd->chans[i].periods;
		spin_unlock_irq(&cd->chans[i].lock);
	}
	return sysfs_emit(buf, "%llu\n", sum);
}
static DEVICE_ATTR_RO(periods);

static struct attribute *lring_cpudma_attrs[] = {
	&dev_attr_periods.attr,
	NULL,
};
ATTRIBUTE_GROUPS(lring_cpudma);

/* The last channel reference is gone: the controller may go. */
static void lring_cpudma_release(struct dma_device *dma)
{
	kfree(container_of(dma, struct lring_cpudma, dma));
}

static int lring_cpudma_probe(struct platform_device *pdev)
{
	struct device *dev = &pdev->dev;
	struct lring_cpudma *cd;
	unsigned int i;
	int ret;

	ret = dma_coerce_mask_and_coherent(dev, DMA_BIT_MASK(64));
	if (ret)
		return ret;
	dma_set_max_seg_size(dev, UINT_MAX);
	/* A bus address must be a physical address for lring_cpudma_write(). */
	if (device_iommu_mapped(dev) || dev->dma_range_map)
		return dev_err_probe(dev, -EOPNOTSUPP, "bus addresses are not physical ones\n");

	cd = kzalloc(sizeof(*cd), GFP_KERNEL);
	if (!cd)
		return -ENOMEM;
	INIT_LIST_HEAD(&cd->dma.channels);
	for (i = 0; i < nr_channels; i++) {
		struct lring_cpudma_chan *cc = &cd->chans[i];

		spin_lock_init(&cc->lock);
		INIT_LIST_HEAD(&cc->dead);
		hrtimer_setup(&cc->timer, lring_cpudma_tick, CLOCK_MONOTONIC,
			      HRTIMER_MODE_REL_SOFT);
		cc->chan.device = &cd->dma;
		list_add_tail(&cc->chan.device_node, &cd->dma.channels);
	}
	dma_cap_set(DMA_SLAVE, cd->dma.cap_mask);
	dma_cap_set(DMA_CYCLIC, cd->dma.cap_mask);
	/* Only for a client that asks: never a public memcpy channel. */
	dma_cap_set(DMA_PRIVATE, cd->dma.cap_mask);
	cd->dma.dev = dev;
	cd->dma.directions = BIT(DMA_DEV_TO_MEM);
	cd->dma.src_addr_widths = BIT(DMA_SLAVE_BUSWIDTH_8_BYTES);
	cd->dma.residue_granularity = DMA_RESIDUE_GRANULARITY_SEGMENT;
	cd->dma.device_alloc_chan_resources = lring_cpudma_alloc_chan_resources;
	cd->dma.device_free_chan_resources = lring_cpudma_free_chan_resources;
	cd->dma.device_prep_dma_cyclic = lring_cpudma_prep_cyclic;
	cd->dma.device_issue_pending = lring_cpudma_issue_pending;
	cd->dma.device_tx_status = lring_cpudma_tx_status;
	cd->dma.device_terminate_all = lring_cpudma_terminate_all;
	cd->dma.device_synchronize = lring_cpudma_synchronize;
	cd->dma.device_release = lring_cpudma_release;

	ret = dma_async_device_register(&cd->dma);
	if (ret) {
		kfree(cd);
		return ret;
	}
	platform_set_drvdata(pdev, cd);
	dev_info(dev, "%u cyclic channels, a period every %u us\n",
		 nr_channels, period_us);
	return 0;
}

/* Clients hold a reference on the module: none is left when this runs. */
static void lring_cpudma_remove(struct platform_device *pdev)
{
	struct lring_cpudma *cd = platform_get_drvdata(pdev);

	dma_async_device_unregister(&cd->dma);
}

LRING_PLATFORM_REMOVE_WRAPPER(lring_cpudma_remove);

static struct platform_driver lring_cpudma_driver = {
	.probe = lring_cpudma_probe,
	LRING_PLATFORM_REMOVE(lring_cpudma_remove),
	.driver = {
		.name = "lring-cpudma",
		/* Clients hold channels: it goes with the module, not before. */
		.suppress_bind_attrs = true,
		.dev_groups = lring_cpudma_groups,
	},
};

static struct platform_device *lring_cpudma_pdev;

static int __init lring_cpudma_init(void)
{
	int ret;

	if (!nr_channels || nr_channels > LRING_CPUDMA_MAX_CHANNELS) {
		pr_err("lring_cpudma: nr_channels %u: 1 to %u\n", nr_channels,
		       LRING_CPUDMA_MAX_CHANNELS);
		return -EINVAL;
	}
	ret = platform_driver_register(&lring_cpudma_driver);
	if (ret)
		return ret;
	lring_cpudma_pdev = platform_device_register_simple("lring-cpudma", -1,
							    NULL, 0);
	if (IS_ERR(lring_cpudma_pdev)) {
		platform_driver_unregister(&lring_cpudma_driver);
		return PTR_ERR(lring_cpudma_pdev);
	}
	return 0;
}
module_init(lring_cpudma_init);

static void __exit lring_cpudma_exit(void)
{
	platform_device_unregister(lring_cpudma_pdev);
	platform_driver_unregister(&lring_cpudma_driver);
}
module_exit(lring_cpudma_exit);

MODULE_DESCRIPTION("A DMA controller whose engine is the CPU, for testing lring_dmaengine");
MODULE_LICENSE("GPL");
