// SPDX-License-Identifier: GPL-2.0
/*
 * lring_debugfs.c - /sys/kernel/debug/lring/lringN/buffers: who owns each
 * buffer right now (FREE, DEVICE, USER), where the device writes it, and
 * the kernel's view of the indices, for debugging a stuck or leaking
 * consumer or a device writing in the wrong place; and
 * /sys/kernel/debug/lring/kernel_pages, what all pools take, for proving
 * nothing leaks. Read-only; a debug interface, not an ABI.
 */
#include <linux/debugfs.h>
#include <linux/mm.h>
#include <linux/seq_file.h>

#include "lring_internal.h"

static struct dentry *lring_debugfs_root;

static const char *const lring_state_names[] = {
	[LRING_BUF_FREE] = "FREE",
	[LRING_BUF_DEVICE] = "DEVICE",
	[LRING_BUF_USER] = "USER",
};

/* Buffer states copied per irq_lock hold: interrupts stay off briefly. */
#define LRING_DEBUGFS_CHUNK	256

/*
 * Copies every buffer's state, a chunk at a time under irq_lock; the list
 * and the totals printed from it agree with each other, though the pool may
 * have moved on between chunks.
 */
static void lring_debugfs_states(struct lring *ring, struct lring_pool *pool,
				 u8 *states)
{
	u32 i, end, count = pool->layout.buf_count;
	unsigned long irqflags;

	for (i = 0; i < count; ) {
		end = min(i + LRING_DEBUGFS_CHUNK, count);
		spin_lock_irqsave(&ring->irq_lock, irqflags);
		for (; i < end; i++)
			states[i] = min_t(u32, pool->bufs[i].state, LRING_BUF_USER);
		spin_unlock_irqrestore(&ring->irq_lock, irqflags);
	}
}

static void lring_debugfs_show_pool(struct seq_file *m, struct lring *ring,
				    struct lring_pool *pool, const u8 *states)
{
	u32 count[ARRAY_SIZE(lring_state_names)] = { 0 };
	unsigned long irqflags;
	u32 i;

	for (i = 0; i < pool->layout.buf_count; i++)
		count[states[i]]++;
	spin_lock_irqsave(&ring->irq_lock, irqflags);
	seq_printf(m, "running: %d\n", ring->running);
	seq_printf(m, "flags: 0x%x\n", READ_ONCE(pool->ctrl->flags));
	seq_printf(m, "cq_producer: %u\n", pool->cq_prod);
	seq_printf(m, "cq_consumer: %u\n", READ_ONCE(pool->user->cq_consumer));
	seq_printf(m, "fq_producer: %u\n", READ_ONCE(pool->user->fq_producer));
	seq_printf(m, "fq_consumer: %u\n", pool->fq_cons);
	seq_printf(m, "seq: %llu\n", pool->seq);
	seq_printf(m, "gap: %u\n", pool->gap);
	seq_printf(m, "nr_device: %u\n", pool->nr_device);
	spin_unlock_irqrestore(&ring->irq_lock, irqflags);
	seq_printf(m, "buf_count: %u\n", pool->layout.buf_count);
	seq_printf(m, "free: %u\ndevice: %u\nuser: %u\n",
		   count[LRING_BUF_FREE], count[LRING_BUF_DEVICE],
		   count[LRING_BUF_USER]);
	seq_puts(m, "id state dma\n");
	for (i = 0; i < pool->layout.buf_count; i++)
		seq_printf(m, "%u %s %pad\n", i, lring_state_names[states[i]],
			   &pool->bufs[i].dma_addr);
}

static int lring_buffers_show(struct seq_file *m, void *unused)
{
	struct lring *ring = m->private;
	struct lring_pool *pool;
	u8 *states;

	/* ring->lock keeps the pool; irq_lock is taken in short pieces. */
	mutex_lock(&ring->lock);
	pool = ring->pool;
	if (!pool) {
		seq_puts(m, "unconfigured\n");
		goto out;
	}
	states = kvmalloc(pool->layout.buf_count, GFP_KERNEL);
	if (!states) {
		mutex_unlock(&ring->lock);
		return -ENOMEM;
	}
	lring_debugfs_states(ring, pool, states);
	lring_debugfs_show_pool(m, ring, pool, states);
	kvfree(states);
out:
	mutex_unlock(&ring->lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(lring_buffers);

/**
 * lring_debugfs_add() - create /sys/kernel/debug/lring/lringN/
 * @ring: a ring whose device has its name
 *
 * Failure is not an error: the ring works without its debug files.
 */
void lring_debugfs_add(struct lring *ring)
{
	ring->debugfs = debugfs_create_dir(dev_name(&ring->dev),
					   lring_debugfs_root);
	debugfs_create_file("buffers", 0400, ring->debugfs, ring,
			    &lring_buffers_fops);
}

/**
 * lring_debugfs_remove() - remove the ring's debug files
 * @ring: the ring; returns once no reader is inside lring_buffers_show()
 */
void lring_debugfs_remove(struct lring *ring)
{
	debugfs_remove_recursive(ring->debugfs);
	ring->debugfs = NULL;
}

static int lring_kernel_pages_get(void *data, u64 *val)
{
	*val = lring_pool_kernel_pages();
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(lring_kernel_pages_fops, lring_kernel_pages_get, NULL, "%llu\n");

/**
 * lring_debugfs_init() - create /sys/kernel/debug/lring/ and its
 * kernel_pages file
 *
 * Without debugfs the rings simply have no debug files.
 */
void lring_debugfs_init(void)
{
	lring_debugfs_root = debugfs_create_dir("lring", NULL);
	debugfs_create_file_unsafe("kernel_pages", 0400, lring_debugfs_root, NULL,
				   &lring_kernel_pages_fops);
}

/**
 * lring_debugfs_exit() - remove /sys/kernel/debug/lring/ and all below it
 */
void lring_debugfs_exit(void)
{
	debugfs_remove_recursive(lring_debugfs_root);
}
