// SPDX-License-Identifier: GPL-2.0
/*
 * lring_edu.c - QEMU's edu PCI device as an lring device: real DMA and MSI.
 *
 * The reference for a real card: this file only talks to the hardware; the
 * ring core owns the buffers, their mapping and their syncs. Each device
 * has two rings, one per direction, as a full-duplex card would: the
 * receiving ring's buffers are filled by the device, the sending ring's
 * blocks read by it. The device has one DMA engine, so one transfer is in
 * flight at a time. A block is moved in pieces of at most
 * LRING_EDU_XFER_MAX bytes that never cross one of a buffer's DMA segments
 * (scatter-gather: one transfer per segment at least), each piece in two
 * transfers: into the device's buffer, from the sending ring's block or,
 * when nothing is being sent, from a staging buffer holding the pattern
 * ("the sensor"); then out of it into the receiving ring's buffer. So
 * while both rings stream, the receiving ring gets every block sent, a
 * loopback through the device's real DMA engine. The interrupt handler
 * acknowledges the device, starts the next transfer, and hands finished
 * blocks to the core. See uapi/linux/lring_edu.h for the data format.
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
 * struct lring_edu - one edu device, with a receiving and a sending ring
 * @pdev:	the PCI device
 * @mmio:	BAR0
 * @ring:	the receiving ring: the device writes blocks into its buffers
 * @tx_ring:	the sending ring: the device reads blocks from its buffers
 * @stage:	staging buffer for the pattern (coherent, device-readable)
 * @stage_dma:	bus address of @stage
 * @idle_wq:	stop waits here for the transfer in flight
 * @spurious:	interrupts that completed no transfer
 * @seed:	mixed into the pattern (sysfs), read as each block starts
 * @block_size:	bytes per block (sysfs); 0 or more than a buffer: the buffer
 * @lock:	protects the fields below
 * @queue:	@ring's buffers the core handed over, oldest first
 * @tx_queue:	@tx_ring's blocks to send, oldest first
 * @cur:	buffer being filled, or NULL
 * @tx_cur:	block being sent, or NULL
 * @seq:	sequence number of the block in @cur (pattern blocks)
 * @cur_seed:	@seed when the block in @cur started
 * @cur_len:	bytes of the block (sent, or made from the pattern)
 * @rx_len:	bytes of it that go into @cur: @cur_len, or less if @cur is
 *		shorter (the core flags the block truncated)
 * @off:	bytes of the block already moved
 * @sg:		DMA segment of @cur the next piece goes to
 * @sg_off:	bytes of @sg already filled
 * @tx_sg:	DMA segment of @tx_cur the next piece comes from
 * @tx_sg_off:	bytes of @tx_sg already sent
 * @len:	bytes of the piece in flight
 * @to_ram:	the transfer in flight goes from the device to @cur
 * @busy:	a transfer is in flight, or a finished block is being handed over
 * @job_rx:	the block in hand involves @ring's buffer (@cur)
 * @job_tx:	the block in hand involves @tx_ring's buffer (@tx_cur)
 * @running:	@ring between start and stop
 * @tx_running:	@tx_ring between start and stop
 */
/* tutorial: edu-struct */
struct lring_edu {
	struct pci_dev *pdev;
	void __iomem *mmio;
	struct lring *ring;
	struct lring *tx_ring;
	u8 *stage;
	dma_addr_t stage_dma;
	wait_queue_head_t idle_wq;
	atomic_long_t spurious;
	u64 seed;
	u32 block_size;

	spinlock_t lock;
	struct list_head queue;
	struct list_head tx_queue;
	struct lring_buffer *cur;
	struct lring_buffer *tx_cur;
	u64 seq;
	u64 cur_seed;
	u32 cur_len;
	u32 rx_len;
	u32 off;
	struct scatterlist *sg;
	u32 sg_off;
	struct scatterlist *tx_sg;
	u32 tx_sg_off;
	u32 len;
	bool to_ram;
	bool busy;
	bool job_rx;
	bool job_tx;
	bool running;
	bool tx_running;
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
 * Moves the next piece of the block into the device: from the block being
 * sent, or else from the pattern, staged. A piece ends where the block,
 * the engine's reach or a DMA segment of either buffer does.
 */
static void lring_edu_seed_piece(struct lring_edu *edu)
{
	u32 len = min(edu->cur_len - edu->off, LRING_EDU_XFER_MAX), i;

	if (edu->off < edu->rx_len)
		len = min3(len, edu->rx_len - edu->off,
			   sg_dma_len(edu->sg) - edu->sg_off);
	if (edu->tx_cur) {
		len = min(len, sg_dma_len(edu->tx_sg) - edu->tx_sg_off);
		lring_edu_dma(edu, sg_dma_address(edu->tx_sg) + edu->tx_sg_off,
			      LRING_EDU_BUF_ADDR, len, false);
		return;
	}
	for (i = 0; i < len; i++)
		edu->stage[i] = lring_edu_byte(edu->cur_seed, edu->seq,
					       edu->off + i);
	lring_edu_dma(edu, edu->stage_dma, LRING_EDU_BUF_ADDR, len, false);
}

static struct lring_buffer *lring_edu_pop(struct list_head *queue)
{
	struct lring_buffer *buf;

	buf = list_first_entry(queue, struct lring_buffer, queue);
	list_del(&buf->queue);
	return buf;
}

/* tutorial: edu-kick */
/*
 * Starts the next block if the engine is idle and its buffers are queued.
 * While the sending ring streams, the receiving ring gets what it sends
 * (a loopback through the device's buffer), or nothing if it is stopped;
 * alone, the receiving ring gets the pattern.
 */
static void lring_edu_kick(struct lring_edu *edu)
{
	lockdep_assert_held(&edu->lock);
	if (edu->busy)
		return;
	if (edu->tx_running) {
		if (list_empty(&edu->tx_queue) ||
		    (edu->running && list_empty(&edu->queue)))
			return;
		edu->tx_cur = lring_edu_pop(&edu->tx_queue);
		edu->tx_sg = edu->tx_cur->sgt->sgl;
		edu->tx_sg_off = 0;
		edu->cur_len = edu->tx_cur->len;
		edu->cur = edu->running ? lring_edu_pop(&edu->queue) : NULL;
	} else {
		if (!edu->running || list_empty(&edu->queue))
			return;
		edu->cur = lring_edu_pop(&edu->queue);
		/* Nothing completes while busy, so this is the number done() gives. */
		edu->seq = lring_next_seq(edu->ring);
		edu->cur_seed = READ_ONCE(edu->seed);
		edu->cur_len = READ_ONCE(edu->block_size);
		if (!edu->cur_len || edu->cur_len > edu->cur->size)
			edu->cur_len = edu->cur->size;
	}
	edu->rx_len = edu->cur ? min(edu->cur_len, edu->cur->size) : 0;
	if (edu->cur) {
		edu->sg = edu->cur->sgt->sgl;
		edu->sg_off = 0;
	}
	edu->off = 0;
	edu->busy = true;
	edu->job_rx = !!edu->cur;
	edu->job_tx = !!edu->tx_cur;
	lring_edu_seed_piece(edu);
}
/* tutorial-end: edu-kick */

/* The block in hand lost a ring that stopped: its other buffer waits again. */
static bool lring_edu_abandon(struct lring_edu *edu)
{
	if ((!edu->cur || edu->running) && (!edu->tx_cur || edu->tx_running))
		return false;
	/* Still queued to us: it starts over with the next block. */
	if (edu->cur && edu->running)
		list_add(&edu->cur->queue, &edu->queue);
	if (edu->tx_cur && edu->tx_running)
		list_add(&edu->tx_cur->queue, &edu->tx_queue);
	edu->cur = NULL;
	edu->tx_cur = NULL;
	edu->busy = false;
	wake_up(&edu->idle_wq);
	return true;
}

/* Moves a buffer's cursor past @len bytes; the core's segments cover it. */
static void lring_edu_step(struct scatterlist **sg, u32 *sg_off, u32 len)
{
	*sg_off += len;
	if (*sg_off == sg_dma_len(*sg)) {
		*sg = sg_next(*sg);
		*sg_off = 0;
	}
}

/* tutorial: edu-advance */
/*
 * The transfer in flight finished: start the next one. Returns true when
 * the block is complete; @busy stays set until the caller has handed its
 * buffers to the core, so no block starts with a sequence number about to
 * go.
 */
static bool lring_edu_advance(struct lring_edu *edu)
{
	if (lring_edu_abandon(edu))
		return false;
	if (!edu->to_ram && edu->off < edu->rx_len) {
		lring_edu_dma(edu, LRING_EDU_BUF_ADDR,
			      sg_dma_address(edu->sg) + edu->sg_off, edu->len, true);
		return false;
	}
	if (edu->off < edu->rx_len)
		lring_edu_step(&edu->sg, &edu->sg_off, edu->len);
	if (edu->tx_cur)
		lring_edu_step(&edu->tx_sg, &edu->tx_sg_off, edu->len);
	edu->off += edu->len;
	if (edu->off < edu->cur_len) {
		lring_edu_seed_piece(edu);
		return false;
	}
	return true;
}
/* tutorial-end: edu-advance */

/* tutorial: edu-irq */
static irqreturn_t lring_edu_irq(int irq, void *data)
{
	struct lring_edu *edu = data;
	struct lring_buffer *rx, *tx;
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
	if (!(status & LRING_EDU_IRQ_DMA) || !edu->busy ||
	    (!edu->cur && !edu->tx_cur) || (cmd & LRING_EDU_DMA_RUN)) {
		atomic_long_inc(&edu->spurious);
		spin_unlock(&edu->lock);
		return IRQ_HANDLED;
	}
	if (!lring_edu_advance(edu)) {
		spin_unlock(&edu->lock);
		return IRQ_HANDLED;
	}
	rx = edu->cur;
	tx = edu->tx_cur;
	edu->cur = NULL;
	edu->tx_cur = NULL;
	spin_unlock(&edu->lock);

	/* Without our lock: done() may call our ->queue() ops. */
	if (tx)
		lring_buffer_done(edu->tx_ring, tx, edu->cur_len, 0);
	if (rx)
		lring_buffer_done(edu->ring, rx, edu->cur_len, 0);

	spin_lock(&edu->lock);
	edu->busy = false;
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
	list_add_tail(&buf->queue, ring == edu->tx_ring ? &edu->tx_queue :
							   &edu->queue);
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
	if (ring == edu->tx_ring)
		edu->tx_running = true;
	else
		edu->running = true;
	lring_edu_kick(edu);
	spin_unlock_irq(&edu->lock);
	return 0;
}
/* tutorial-end: edu-start */

/* Whether the block in hand still needs a buffer of @ring (lock not held). */
static bool lring_edu_in_use(struct lring_edu *edu, struct lring *ring)
{
	bool ret;

	spin_lock_irq(&edu->lock);
	ret = edu->busy && (ring == edu->tx_ring ? edu->job_tx : edu->job_rx);
	spin_unlock_irq(&edu->lock);
	return ret;
}

/* tutorial: edu-stop */
/*
 * The engine cannot be cancelled: wait for the transfer in flight, after
 * which a block that involves this ring is abandoned. The other ring's
 * blocks go on.
 */
static void lring_edu_stop(struct lring *ring)
{
	struct lring_edu *edu = lring_priv(ring);
	bool tx = ring == edu->tx_ring;

	spin_lock_irq(&edu->lock);
	if (tx)
		edu->tx_running = false;
	else
		edu->running = false;
	spin_unlock_irq(&edu->lock);
	if (!wait_event_timeout(edu->idle_wq, !lring_edu_in_use(edu, ring),
				LRING_EDU_DMA_TIMEOUT)) {
		/* A hung engine must not write freed memory: cut it off. */
		dev_err(&edu->pdev->dev, "DMA did not finish; disabling bus mastering\n");
		pci_clear_master(edu->pdev);
		spin_lock_irq(&edu->lock);
		edu->busy = false;
		edu->cur = NULL;
		edu->tx_cur = NULL;
		spin_unlock_irq(&edu->lock);
	}
	spin_lock_irq(&edu->lock);
	INIT_LIST_HEAD(tx ? &edu->tx_queue : &edu->queue);
	/* The receiving ring makes the pattern again once sending stops. */
	lring_edu_kick(edu);
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

/* The same ops: they tell the rings apart by the ring they are given. */
static const struct lring_device_ops lring_edu_tx_ops = {
	.start = lring_edu_start,
	.stop = lring_edu_stop,
	.queue = lring_edu_queue,
	.max_segments = UINT_MAX,
	.directions = BIT(DMA_TO_DEVICE),
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
	INIT_LIST_HEAD(&edu->tx_queue);
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
	/* Two rings, one per direction: /dev/lringN receives, lringN+1 sends. */
	edu->ring = lring_register(dev, &lring_edu_ops, edu);
	if (IS_ERR(edu->ring))
		return PTR_ERR(edu->ring);
	edu->tx_ring = lring_register(dev, &lring_edu_tx_ops, edu);
	if (IS_ERR(edu->tx_ring)) {
		lring_unregister(edu->ring);
		return PTR_ERR(edu->tx_ring);
	}
	return 0;
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

	lring_unregister(edu->tx_ring);
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
