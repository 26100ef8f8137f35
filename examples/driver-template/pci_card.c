// SPDX-License-Identifier: GPL-2.0
/*
 * pci_card.c - the smallest complete lring driver for a PCI card whose one
 * DMA engine writes blocks into memory and raises an interrupt per block.
 *
 * Copy this directory, rename the file and the card_ prefix, and change
 * what touches the hardware: the register offsets, card_start_block() and
 * the interrupt handler's acknowledge. The lring core does everything else:
 * the buffer pool, its mapping into the application, the shared rings, the
 * cache maintenance and the wake-ups. Build it against an installed lring
 * with the Makefile next to this file.
 *
 * As shipped it drives QEMU's edu device (qemu -device edu): its engine
 * copies up to 4095 bytes from the card's own memory into RAM and then
 * raises an MSI. The card has no sensor, so probe loads a test pattern
 * into that memory once and every block carries it.
 */
#include <linux/dma-mapping.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/iopoll.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/spinlock.h>

#include <lring_driver.h>

/* The card: QEMU's edu device. */
#define CARD_VENDOR		0x1234
#define CARD_DEVICE		0x11e8
#define CARD_REG_IRQ_STATUS	0x24
#define CARD_REG_IRQ_ACK	0x64
#define CARD_REG_DMA_SRC	0x80
#define CARD_REG_DMA_DST	0x88
#define CARD_REG_DMA_COUNT	0x90
#define CARD_REG_DMA_CMD	0x98
#define CARD_DMA_RUN		0x1	/* set to start, cleared when done */
#define CARD_DMA_TO_RAM		0x2	/* from the card's memory to RAM */
#define CARD_DMA_IRQ		0x4	/* interrupt when done */
#define CARD_IRQ_DMA		0x100	/* status bit of a finished transfer */
#define CARD_MEMORY		0x40000	/* the card's memory, as its engine sees it */
#define CARD_BLOCK_MAX		4095U	/* bytes the engine moves at most */
#define CARD_DMA_BITS		28	/* address bits the engine drives */
#define CARD_PATTERN		0xa5	/* every byte of every block */

struct card {
	struct pci_dev *pdev;
	void __iomem *regs;
	struct lring *ring;

	spinlock_t lock;		/* protects the fields below */
	struct list_head queue;		/* buffers lring handed over */
	struct lring_buffer *cur;	/* the buffer being written, or NULL */
	u32 cur_len;
	bool running;
};

static void card_dma(struct card *card, dma_addr_t src, dma_addr_t dst,
		     u32 len, u32 cmd)
{
	/* The registers take 32 bits: CARD_DMA_BITS keeps addresses low. */
	iowrite32(lower_32_bits(src), card->regs + CARD_REG_DMA_SRC);
	iowrite32(lower_32_bits(dst), card->regs + CARD_REG_DMA_DST);
	iowrite32(len, card->regs + CARD_REG_DMA_COUNT);
	iowrite32(CARD_DMA_RUN | cmd, card->regs + CARD_REG_DMA_CMD);
}

/* If the engine is idle and a buffer is queued, write a block into it. */
static void card_start_block(struct card *card)
{
	lockdep_assert_held(&card->lock);
	if (!card->running || card->cur || list_empty(&card->queue))
		return;
	card->cur = list_first_entry(&card->queue, struct lring_buffer, queue);
	list_del(&card->cur->queue);
	card->cur_len = min(card->cur->size, CARD_BLOCK_MAX);
	card_dma(card, CARD_MEMORY, card->cur->dma_addr, card->cur_len,
		 CARD_DMA_TO_RAM | CARD_DMA_IRQ);
}

static irqreturn_t card_irq(int irq, void *data)
{
	struct card *card = data;
	struct lring_buffer *buf;
	u32 status, len;

	/*
	 * Reading the card also makes sure its DMA writes, posted before the
	 * interrupt, have reached memory. All ones: the card is gone.
	 */
	status = ioread32(card->regs + CARD_REG_IRQ_STATUS);
	if (!status || status == ~0U)
		return IRQ_NONE;
	iowrite32(status, card->regs + CARD_REG_IRQ_ACK);
	if (!(status & CARD_IRQ_DMA))
		return IRQ_HANDLED;

	spin_lock(&card->lock);
	buf = card->cur;
	len = card->cur_len;
	spin_unlock(&card->lock);
	/* Without our lock: lring may hand us the next buffer from here. */
	if (buf)
		lring_buffer_done(card->ring, buf, len, 0);

	spin_lock(&card->lock);
	card->cur = NULL;
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

static int card_start(struct lring *ring)
{
	struct card *card = lring_priv(ring);

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
	u32 cmd;

	spin_lock_irq(&card->lock);
	card->running = false;
	spin_unlock_irq(&card->lock);
	/* edu's engine cannot be cancelled: wait out the transfer in flight. */
	if (readl_poll_timeout(card->regs + CARD_REG_DMA_CMD, cmd,
			       !(cmd & CARD_DMA_RUN), 1000, 2 * USEC_PER_SEC))
		pci_clear_master(card->pdev);	/* hung: cut it off the bus */
	synchronize_irq(pci_irq_vector(card->pdev, 0));
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

/* The card has no sensor: give its memory the pattern every block carries. */
static int card_load_pattern(struct card *card)
{
	struct device *dev = &card->pdev->dev;
	dma_addr_t dma;
	void *page;
	u32 cmd;
	int ret;

	page = dma_alloc_coherent(dev, CARD_BLOCK_MAX, &dma, GFP_KERNEL);
	if (!page)
		return -ENOMEM;
	memset(page, CARD_PATTERN, CARD_BLOCK_MAX);
	card_dma(card, dma, CARD_MEMORY, CARD_BLOCK_MAX, 0);
	ret = readl_poll_timeout(card->regs + CARD_REG_DMA_CMD, cmd,
				 !(cmd & CARD_DMA_RUN), 1000, 2 * USEC_PER_SEC);
	dma_free_coherent(dev, CARD_BLOCK_MAX, page, dma);
	return ret;
}

/*
 * On removal, first of all (devres runs in reverse): lring stops the ring,
 * revokes the application's mapping and frees the pool; then the interrupt
 * and the registers go.
 */
static void card_unregister(void *ring)
{
	lring_unregister(ring);
}

static int card_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct device *dev = &pdev->dev;
	struct card *card;
	int ret;

	card = devm_kzalloc(dev, sizeof(*card), GFP_KERNEL);
	if (!card)
		return -ENOMEM;
	card->pdev = pdev;
	spin_lock_init(&card->lock);
	INIT_LIST_HEAD(&card->queue);

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	card->regs = devm_ioremap_resource(dev, &pdev->resource[0]);
	if (IS_ERR(card->regs))
		return PTR_ERR(card->regs);
	ret = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(CARD_DMA_BITS));
	if (ret)
		return dev_err_probe(dev, ret, "no memory the engine can reach\n");
	pci_set_master(pdev);
	ret = card_load_pattern(card);
	if (ret)
		return dev_err_probe(dev, ret, "the engine did not finish\n");

	ret = pci_alloc_irq_vectors(pdev, 1, 1, PCI_IRQ_MSI);
	if (ret < 0)
		return ret;
	ret = devm_request_irq(dev, pci_irq_vector(pdev, 0), card_irq, 0,
			       KBUILD_MODNAME, card);
	if (ret)
		return ret;

	card->ring = lring_register(dev, &card_ops, card);
	if (IS_ERR(card->ring))
		return PTR_ERR(card->ring);
	return devm_add_action_or_reset(dev, card_unregister, card->ring);
}

static const struct pci_device_id card_ids[] = {
	{ PCI_DEVICE(CARD_VENDOR, CARD_DEVICE) },
	{ }
};
MODULE_DEVICE_TABLE(pci, card_ids);

static struct pci_driver card_driver = {
	.name = KBUILD_MODNAME,
	.id_table = card_ids,
	.probe = card_probe,
};
module_pci_driver(card_driver);

MODULE_DESCRIPTION("lring driver template: a PCI card with one DMA engine");
MODULE_LICENSE("GPL");
