// SPDX-License-Identifier: GPL-2.0
/*
 * lring_edu.c - QEMU's edu PCI device as an lring device: real DMA and MSI.
 *
 * The reference for a real card: this file only talks to the hardware; the
 * ring core owns the buffers, their mapping and their syncs. The device has
 * one DMA engine, so one transfer is in flight at a time. A block is moved
 * in pieces of at most LRING_EDU_XFER_MAX bytes that never cross one of the
 * buffer's DMA segments (scatter-gather: one transfer per segment at
 * least), each piece in two transfers: the pattern from a staging buffer
 * into the device ("the sensor"), then from the device into the ring's
 * buffer. The interrupt handler acknowledges the device, starts the next
 * transfer, and hands a full block to the core. See uapi/linux/lring_edu.h
 * for the data format.
 */
#include <linux/dma-mapping.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/lring_edu.h>

#include "lring_compat.h"
#include "lring_driver.h"

/* Longest a transfer may take (100 ms in QEMU) before stop gives up. */
#define LRING_EDU_DMA_TIMEOUT	(2 * HZ)

/**
 * struct lring_edu - one edu device
 * @pdev:	the PCI device
 * @mmio:	BAR0
 * @ring:	its ring
 * @stage:	staging buffer for the pattern (coherent, device-readable)
 * @stage_dma:	bus address of @stage
 * @idle_wq:	stop waits here for the transfer in flight
 * @spurious:	interrupts that completed no transfer
 * @seed:	mixed into the pattern (sysfs), read as each block starts
 * @block_size:	bytes per block (sysfs); 0 or more than a buffer: the buffer
 * @lock:	protects the fields below
 * @queue:	buffers the core handed over, oldest first
 * @cur:	buffer being filled, or NULL
 * @seq:	sequence number of the block in @cur
 * @cur_seed:	@seed when the block in @cur started
 * @cur_len:	bytes of the block in @cur
 * @off:	bytes of @cur already filled
 * @sg:		DMA segment of @cur the next piece goes to
 * @sg_off:	bytes of @sg already filled
 * @len:	bytes of the piece in flight
 * @to_ram:	the transfer in flight goes from the device to @cur
 * @busy:	a transfer is in flight, or a full buffer is being handed over
 * @running:	between start and stop
 */
/* tutorial: edu-struct */
struct lring_edu {
	struct pci_dev *pdev;
	void __iomem *mmio;
	struct lring *ring;
	u8 *stage;
	dma_addr_t stage_dma;
	wait_queue_head_t idle_wq;
	atomic_long_t spurious;
	u64 seed;
	u32 block_size;

	spinlock_t lock;
	struct list_head queue;
	struct lring_buffer *cur;
	u64 seq;
	u64 cur_seed;
	u32 cur_len;
	u32 off;
	struct scatterlist *sg;
	u32 sg_off;
	u32 len;
	bool to_ram;
	bool busy;
	bool running;
};
/* tutorial-end: edu-struct */

/* tutorial: edu-dma */
/* The DMA registers take 32-bit writes: the 28-bit mask keeps addresses low. */
static void lring_edu_dma(struct lring_edu *edu, dma_addr_t src,
			  dma_addr_t dst, u32 len, bool to_ram)
{
	edu->len = len;
	edu->to_ram = to_ram;
	iowrite32(lower_32_bits(src), edu->mmio + LRING_EDU_REG_DMA_SRC);
	iowrite32(lower_32_bits(dst), edu->mmio + LRING_EDU_REG_DMA_DST);
	iowrite32(len, edu->mmio + LRING_EDU_REG_DMA_COUNT);
	/* iowrite32() orders the staging buffer's stores before the start. */
	iowrite32(LRING_EDU_DMA_RUN | LRING_EDU_DMA_IRQ |
		  (to_ram ? LRING_EDU_DMA_TO_RAM : 0),
		  edu->mmio + LRING_EDU_REG_DMA_CMD);
}
/* tutorial-end: edu-dma */

/*
 * Stages the next piece of @cur's pattern and moves it into the device. A
 * piece ends where the block, the DMA segment or the engine's reach does.
 */
static void lring_edu_seed_piece(struct lring_edu *edu)
{
	u32 len = min3(edu->cur_len - edu->off, LRING_EDU_XFER_MAX,
		       sg_dma_len(edu->sg) - edu->sg_off), i;

	for (i = 0; i < len; i++)
		edu->stage[i] = lring_edu_byte(edu->cur_seed, edu->seq,
					       edu->off + i);
	lring_edu_dma(edu, edu->stage_dma, LRING_EDU_BUF_ADDR, len, false);
}

/* tutorial: edu-kick */
/* Starts the next block if the engine is idle and a buffer is queued. */
static void lring_edu_kick(struct lring_edu *edu)
{
	lockdep_assert_held(&edu->lock);
	if (!edu->running || edu->busy || list_empty(&edu->queue))
		return;
	edu->cur = list_first_entry(&edu->queue, struct lring_buffer, queue);
	list_del(&edu->cur->queue);
	edu->off = 0;
	edu->sg = edu->cur->sgt->sgl;
	edu->sg_off = 0;
	/* Nothing completes while busy, so this is the number done() gives. */
	edu->seq = lring_next_seq(edu->ring);
	edu->cur_seed = READ_ONCE(edu->seed);
	edu->cur_len = READ_ONCE(edu->block_size);
	if (!edu->cur_len || edu->cur_len > edu->cur->size)
		edu->cur_len = edu->cur->size;
	edu->busy = true;
	lring_edu_seed_piece(edu);
}
/* tutorial-end: edu-kick */

/* tutorial: edu-advance */
/*
 * The transfer in flight finished: start the next one. Returns the buffer
 * when its block is complete; @busy stays set until the caller has handed
 * it to the core, so no block starts with a sequence number about to go.
 */
static struct lring_buffer *lring_edu_advance(struct lring_edu *edu)
{
	struct lring_buffer *buf = edu->cur;

	if (!edu->running) {
		/* Stopping: the core takes back the partly filled buffer. */
		edu->cur = NULL;
		edu->busy = false;
		wake_up(&edu->idle_wq);
		return NULL;
	}
	if (!edu->to_ram) {
		lring_edu_dma(edu, LRING_EDU_BUF_ADDR,
			      sg_dma_address(edu->sg) + edu->sg_off, edu->len, true);
		return NULL;
	}
	edu->off += edu->len;
	edu->sg_off += edu->len;
	if (edu->sg_off == sg_dma_len(edu->sg)) {
		/* The core's segments cover the buffer: there is a next one. */
		edu->sg = sg_next(edu->sg);
		edu->sg_off = 0;
	}
	if (edu->off < edu->cur_len) {
		lring_edu_seed_piece(edu);
		return NULL;
	}
	edu->cur = NULL;
	return buf;
}
/* tutorial-end: edu-advance */

/* tutorial: edu-irq */
static irqreturn_t lring_edu_irq(int irq, void *data)
{
	struct lring_edu *edu = data;
	struct lring_buffer *buf;
	u32 status, cmd;

	/*
	 * This read comes before the buffer is handed over: a PCI read is
	 * answered only after the device's earlier writes (the block) have
	 * reached memory. All ones: the device is gone (surprise removal).
	 */
	status = ioread32(edu->mmio + LRING_EDU_REG_IRQ_STATUS);
	if (!status || status == ~0U) {
		atomic_long_inc(&edu->spurious);
		return IRQ_NONE;
	}
	iowrite32(status, edu->mmio + LRING_EDU_REG_IRQ_ACK);

	spin_lock(&edu->lock);
	cmd = ioread32(edu->mmio + LRING_EDU_REG_DMA_CMD);
	/* Only the DMA bit, with a transfer that really ended, is progress. */
	if (!(status & LRING_EDU_IRQ_DMA) || !edu->busy || !edu->cur ||
	    (cmd & LRING_EDU_DMA_RUN)) {
		atomic_long_inc(&edu->spurious);
		spin_unlock(&edu->lock);
		return IRQ_HANDLED;
	}
	buf = lring_edu_advance(edu);
	spin_unlock(&edu->lock);
	if (!buf)
		return IRQ_HANDLED;

	/* Without our lock: done() may call lring_edu_queue(). */
	lring_buffer_done(edu->ring, buf, edu->cur_len, 0);
	spin_lock(&edu->lock);
	edu->busy = false;
	if (!edu->running)
		wake_up(&edu->idle_wq);
	lring_edu_kick(edu);
	spin_unlock(&edu->lock);
	return IRQ_HANDLED;
}
/* tutorial-end: edu-irq */

/* tutorial: edu-queue */
static void lring_edu_queue(struct lring *ring, struct lring_buffer *buf)
{
	struct lring_edu *edu = lring_priv(ring);
	unsigned long flags;

	spin_lock_irqsave(&edu->lock, flags);
	list_add_tail(&buf->queue, &edu->queue);
	lring_edu_kick(edu);
	spin_unlock_irqrestore(&edu->lock, flags);
}
/* tutorial-end: edu-queue */

/* tutorial: edu-start */
static int lring_edu_start(struct lring *ring)
{
	struct lring_edu *edu = lring_priv(ring);

	pci_set_master(edu->pdev);
	spin_lock_irq(&edu->lock);
	edu->running = true;
	lring_edu_kick(edu);
	spin_unlock_irq(&edu->lock);
	return 0;
}
/* tutorial-end: edu-start */

/* tutorial: edu-stop */
/* The engine cannot be cancelled: wait for the transfer in flight. */
static void lring_edu_stop(struct lring *ring)
{
	struct lring_edu *edu = lring_priv(ring);

	spin_lock_irq(&edu->lock);
	edu->running = false;
	spin_unlock_irq(&edu->lock);

	if (!wait_event_timeout(edu->idle_wq, !READ_ONCE(edu->busy),
				LRING_EDU_DMA_TIMEOUT)) {
		/* A hung engine must not write freed memory: cut it off. */
		dev_err(&edu->pdev->dev, "DMA did not finish; disabling bus mastering\n");
		pci_clear_master(edu->pdev);
	}
	spin_lock_irq(&edu->lock);
	edu->busy = false;
	edu->cur = NULL;
	INIT_LIST_HEAD(&edu->queue);
	spin_unlock_irq(&edu->lock);
}
/* tutorial-end: edu-stop */

/* tutorial: edu-ops */
static const struct lring_device_ops lring_edu_ops = {
	.start = lring_edu_start,
	.stop = lring_edu_stop,
	.queue = lring_edu_queue,
	.max_segments = UINT_MAX,
};
/* tutorial-end: edu-ops */

static ssize_t spurious_irqs_show(struct device *dev,
				  struct device_attribute *attr, char *buf)
{
	struct lring_edu *edu = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%ld\n", atomic_long_read(&edu->spurious));
}
static DEVICE_ATTR_RO(spurious_irqs);

/* The same attribute as lring_sim's, so its consumers verify edu data too. */
static ssize_t seed_show(struct device *dev, struct device_attribute *attr,
			 char *buf)
{
	struct lring_edu *edu = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%llu\n", READ_ONCE(edu->seed));
}

static ssize_t seed_store(struct device *dev, struct device_attribute *attr,
			  const char *buf, size_t count)
{
	struct lring_edu *edu = dev_get_drvdata(dev);
	u64 val;
	int ret = kstrtou64(buf, 0, &val);

	if (!ret)
		WRITE_ONCE(edu->seed, val);
	return ret ?: count;
}
static DEVICE_ATTR_RW(seed);

/*
 * A block shorter than the buffer, as a capture card's frame may be: a
 * whole 8 MiB buffer would take the engine seven minutes to fill.
 */
static ssize_t block_size_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	struct lring_edu *edu = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%u\n", READ_ONCE(edu->block_size));
}

static ssize_t block_size_store(struct device *dev,
				struct device_attribute *attr,
				const char *buf, size_t count)
{
	struct lring_edu *edu = dev_get_drvdata(dev);
	u32 val;
	int ret = kstrtou32(buf, 0, &val);

	if (!ret)
		WRITE_ONCE(edu->block_size, val);
	return ret ?: count;
}
static DEVICE_ATTR_RW(block_size);

static struct attribute *lring_edu_attrs[] = {
	&dev_attr_spurious_irqs.attr,
	&dev_attr_seed.attr,
	&dev_attr_block_size.attr,
	NULL,
};
ATTRIBUTE_GROUPS(lring_edu);

/* tutorial: edu-probe */
static int lring_edu_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct device *dev = &pdev->dev;
	struct lring_edu *edu;
	int ret;

	edu = devm_kzalloc(dev, sizeof(*edu), GFP_KERNEL);
	if (!edu)
		return -ENOMEM;
	edu->pdev = pdev;
	spin_lock_init(&edu->lock);
	INIT_LIST_HEAD(&edu->queue);
	init_waitqueue_head(&edu->idle_wq);

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	/* Not pcim_iomap_regions(): deprecated, and its successor is 6.11+. */
	edu->mmio = devm_ioremap_resource(dev, &pdev->resource[0]);
	if (IS_ERR(edu->mmio))
		return PTR_ERR(edu->mmio);
	if ((ioread32(edu->mmio + LRING_EDU_REG_ID) & 0xff) != 0xed)
		return -ENODEV;

	/* tutorial: edu-mask */
	/* The engine drives 28 address bits: lring_edu_dma() relies on it. */
	ret = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(28));
	if (ret)
		return dev_err_probe(dev, ret, "no memory below 256 MiB and no IOMMU: the 28-bit engine reaches nothing\n");
	/* tutorial-end: edu-mask */
	/* Segments of any length: the driver cuts them into transfers itself. */
	dma_set_max_seg_size(dev, UINT_MAX);
	edu->stage = dmam_alloc_coherent(dev, LRING_EDU_XFER_MAX,
					 &edu->stage_dma, GFP_KERNEL);
	if (!edu->stage)
		return -ENOMEM;

	ret = pci_alloc_irq_vectors(pdev, 1, 1, PCI_IRQ_MSI);
	if (ret < 0)
		return ret;
	/* Whatever a previous driver left pending. */
	iowrite32(ioread32(edu->mmio + LRING_EDU_REG_IRQ_STATUS),
		  edu->mmio + LRING_EDU_REG_IRQ_ACK);
	ret = devm_request_irq(dev, pci_irq_vector(pdev, 0), lring_edu_irq, 0,
			       KBUILD_MODNAME, edu);
	if (ret)
		return ret;
	pci_set_master(pdev);

	pci_set_drvdata(pdev, edu);
	edu->ring = lring_register(dev, &lring_edu_ops, edu);
	return PTR_ERR_OR_ZERO(edu->ring);
}
/* tutorial-end: edu-probe */

/* tutorial: edu-remove */
/*
 * The core stops the ring (waiting for the transfer in flight), revokes the
 * user mappings and frees the buffers. The handler touches the ring only
 * while a transfer is in flight, so the interrupt, freed later by devres,
 * cannot reach a dead ring.
 */
static void lring_edu_remove(struct pci_dev *pdev)
{
	struct lring_edu *edu = pci_get_drvdata(pdev);

	lring_unregister(edu->ring);
}
/* tutorial-end: edu-remove */

/* tutorial: edu-driver */
static const struct pci_device_id lring_edu_ids[] = {
	{ PCI_DEVICE(LRING_EDU_VENDOR, LRING_EDU_DEVICE) },
	{ }
};
MODULE_DEVICE_TABLE(pci, lring_edu_ids);

static struct pci_driver lring_edu_driver = {
	.name = KBUILD_MODNAME,
	.id_table = lring_edu_ids,
	.probe = lring_edu_probe,
	.remove = lring_edu_remove,
	LRING_PCI_DEV_GROUPS(lring_edu_groups),
};
module_pci_driver(lring_edu_driver);
/* tutorial-end: edu-driver */

MODULE_DESCRIPTION("lring driver for QEMU's edu PCI device");
MODULE_LICENSE("GPL");
