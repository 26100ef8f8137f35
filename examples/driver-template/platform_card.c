// SPDX-License-Identifier: GPL-2.0
/*
 * platform_card.c - the smallest complete lring driver for a DMA engine in
 * an SoC's FPGA fabric (Zynq, ZynqMP, Agilex, i.MX with an FPGA on its
 * bus), described by a device tree node:
 *
 *	card@40400000 {
 *		compatible = "example,lring-card";
 *		reg = <0x40400000 0x10000>;
 *		interrupts = <0 29 4>;
 *		dma-coherent;		(only if the engine is on a coherent port)
 *	};
 *
 * The engine is the stream-to-memory half of Xilinx's AXI DMA in its direct
 * register mode (PG021): write a buffer's address, then its length to
 * start; it raises an interrupt when the stream's last beat has landed and
 * reports how many bytes that was. Change the register offsets and bits to
 * your engine's; the lring core does the rest (the buffer pool, its mapping
 * into the application, the rings, the cache maintenance, the wake-ups).
 */
#include <linux/dma-mapping.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/iopoll.h>
#include <linux/module.h>
#include <linux/of.h>
#include <linux/platform_device.h>
#include <linux/spinlock.h>

#include <linux/lring.h>	/* LRING_CQE_F_ERROR */
#include <lring_driver.h>

#define CARD_REG_CTRL		0x30	/* S2MM_DMACR */
#define CARD_REG_STATUS		0x34	/* S2MM_DMASR */
#define CARD_REG_ADDR_LO	0x48	/* S2MM_DA */
#define CARD_REG_ADDR_HI	0x4c	/* S2MM_DA_MSB */
#define CARD_REG_LENGTH		0x58	/* S2MM_LENGTH: write starts, read: bytes */
#define CARD_CTRL_RUN		BIT(0)
#define CARD_CTRL_RESET		BIT(2)
#define CARD_CTRL_IRQ_DONE	BIT(12)
#define CARD_STATUS_HALTED	BIT(0)
#define CARD_STATUS_IDLE	BIT(1)
#define CARD_STATUS_ERRORS	GENMASK(6, 4)
#define CARD_STATUS_DONE	BIT(12)	/* write 1 to clear */
#define CARD_LENGTH_MAX		GENMASK(25, 0)	/* the IP's widest length field */
#define CARD_DMA_BITS		32	/* address bits the engine drives */

struct card {
	struct device *dev;
	void __iomem *regs;
	int irq;
	struct lring *ring;

	spinlock_t lock;		/* protects the fields below */
	struct list_head queue;		/* buffers lring handed over */
	struct lring_buffer *cur;	/* the buffer being written, or NULL */
	bool running;
};

/* If the engine is idle and a buffer is queued, write a block into it. */
static void card_start_block(struct card *card)
{
	lockdep_assert_held(&card->lock);
	if (!card->running || card->cur || list_empty(&card->queue))
		return;
	card->cur = list_first_entry(&card->queue, struct lring_buffer, queue);
	list_del(&card->cur->queue);
	writel(lower_32_bits(card->cur->dma_addr), card->regs + CARD_REG_ADDR_LO);
	writel(upper_32_bits(card->cur->dma_addr), card->regs + CARD_REG_ADDR_HI);
	/* writel() orders the address before the write that starts it. */
	writel(min_t(u32, card->cur->size, CARD_LENGTH_MAX),
	       card->regs + CARD_REG_LENGTH);
}

static irqreturn_t card_irq(int irq, void *data)
{
	struct card *card = data;
	struct lring_buffer *buf;
	u32 status, len, flags = 0;

	status = readl(card->regs + CARD_REG_STATUS);
	if (!(status & CARD_STATUS_DONE))
		return IRQ_NONE;
	writel(CARD_STATUS_DONE, card->regs + CARD_REG_STATUS);
	/*
	 * Trust the buffer only for what the engine says it wrote: a stream
	 * may end its block early. An error (a bad address, a bus error)
	 * halts the engine; the block is handed over flagged, and the next
	 * start (the application's LRING_IOC_START) resets the engine.
	 */
	len = readl(card->regs + CARD_REG_LENGTH);
	if (status & CARD_STATUS_ERRORS)
		flags = LRING_CQE_F_ERROR;

	spin_lock(&card->lock);
	buf = card->cur;
	spin_unlock(&card->lock);
	/* Without our lock: lring may hand us the next buffer from here. */
	if (buf)
		lring_buffer_done(card->ring, buf, len, flags);

	spin_lock(&card->lock);
	card->cur = NULL;
	if (!(status & CARD_STATUS_ERRORS))
		card_start_block(card);
	spin_unlock(&card->lock);
	return IRQ_HANDLED;
}

/* lring hands the card a buffer to fill: any context, interrupts off. */
static void card_queue(struct lring *ring, struct lring_buffer *buf)
{
	struct card *card = lring_priv(ring);
	unsigned long flags;

	spin_lock_irqsave(&card->lock, flags);
	list_add_tail(&buf->queue, &card->queue);
	card_start_block(card);
	spin_unlock_irqrestore(&card->lock, flags);
}

/* A reset stops a transfer in flight and clears an error halt. */
static int card_reset(struct card *card)
{
	u32 ctrl;

	writel(CARD_CTRL_RESET, card->regs + CARD_REG_CTRL);
	return readl_poll_timeout(card->regs + CARD_REG_CTRL, ctrl,
				  !(ctrl & CARD_CTRL_RESET), 10, 100000);
}

static int card_start(struct lring *ring)
{
	struct card *card = lring_priv(ring);
	int ret;

	ret = card_reset(card);
	if (ret)
		return ret;
	writel(CARD_CTRL_RUN | CARD_CTRL_IRQ_DONE, card->regs + CARD_REG_CTRL);
	spin_lock_irq(&card->lock);
	card->running = true;
	card_start_block(card);
	spin_unlock_irq(&card->lock);
	return 0;
}

/* Return only when the engine no longer writes any buffer. */
static void card_stop(struct lring *ring)
{
	struct card *card = lring_priv(ring);

	spin_lock_irq(&card->lock);
	card->running = false;
	spin_unlock_irq(&card->lock);
	if (card_reset(card))
		dev_err(card->dev, "the engine did not reset\n");
	synchronize_irq(card->irq);
	spin_lock_irq(&card->lock);
	card->cur = NULL;
	INIT_LIST_HEAD(&card->queue);	/* lring takes back what we held */
	spin_unlock_irq(&card->lock);
}

static const struct lring_device_ops card_ops = {
	.start = card_start,
	.stop = card_stop,
	.queue = card_queue,
};

/*
 * On removal, first of all (devres runs in reverse): lring stops the ring,
 * revokes the application's mapping and frees the pool; then the interrupt
 * and the registers go.
 */
static void card_unregister(void *ring)
{
	lring_unregister(ring);
}

static int card_probe(struct platform_device *pdev)
{
	struct device *dev = &pdev->dev;
	struct card *card;
	int ret;

	card = devm_kzalloc(dev, sizeof(*card), GFP_KERNEL);
	if (!card)
		return -ENOMEM;
	card->dev = dev;
	spin_lock_init(&card->lock);
	INIT_LIST_HEAD(&card->queue);

	card->regs = devm_platform_ioremap_resource(pdev, 0);
	if (IS_ERR(card->regs))
		return PTR_ERR(card->regs);
	card->irq = platform_get_irq(pdev, 0);
	if (card->irq < 0)
		return card->irq;
	/* Coherent or not, and any offset: the node's dma-coherent, dma-ranges. */
	ret = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(CARD_DMA_BITS));
	if (ret)
		return dev_err_probe(dev, ret, "no memory the engine can reach\n");
	ret = card_reset(card);
	if (ret)
		return dev_err_probe(dev, ret, "the engine did not reset\n");
	ret = devm_request_irq(dev, card->irq, card_irq, 0, KBUILD_MODNAME, card);
	if (ret)
		return ret;

	card->ring = lring_register(dev, &card_ops, card);
	if (IS_ERR(card->ring))
		return PTR_ERR(card->ring);
	return devm_add_action_or_reset(dev, card_unregister, card->ring);
}

static const struct of_device_id card_of_ids[] = {
	{ .compatible = "example,lring-card" },
	{ }
};
MODULE_DEVICE_TABLE(of, card_of_ids);

static struct platform_driver card_driver = {
	.driver = {
		.name = KBUILD_MODNAME,
		.of_match_table = card_of_ids,
	},
	.probe = card_probe,
};
module_platform_driver(card_driver);

MODULE_DESCRIPTION("lring driver template: a DMA engine in an SoC's FPGA");
MODULE_LICENSE("GPL");
