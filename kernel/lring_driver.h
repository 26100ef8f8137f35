/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lring_driver.h - what a device driver sees of the lring core.
 *
 * A driver registers one ring per data stream with lring_register() and a
 * struct lring_device_ops. The core owns the buffer pool, the rings shared
 * with userspace and every buffer's ownership state; the driver only moves
 * buffers through its hardware:
 *
 *   ->queue(buf)    the core hands a buffer to the device (any context, with
 *                   a core spinlock held and interrupts off: just add it to
 *                   the hardware's or the driver's queue)
 *   done(buf)       the device filled it: call lring_buffer_done() from the
 *                   interrupt handler (hard-IRQ safe), without holding the
 *                   driver's own locks, because it may call ->queue() again;
 *                   a device that finishes several blocks per interrupt
 *                   reports them together with lring_buffers_done()
 *   dropped         the device produced a block but had no buffer: call
 *                   lring_block_dropped() so userspace sees the gap
 *   ran dry         a device that can keep polling for returned buffers
 *                   calls lring_device_poll() meanwhile, sparing the
 *                   application its kick
 *
 * ->start() begins streaming; buffers may be queued before it is called.
 * ->stop() must return only when the device no longer writes any buffer and
 * will not call lring_buffer_done() again; the core then takes back every
 * buffer the driver still held.
 *
 * A ring the application configured to send (lring_direction() says
 * DMA_TO_DEVICE) works the same way round: ->queue() hands over a buffer
 * holding buf->len bytes for the device to read, lring_buffer_done() says
 * it has read them, and the device must take buffers in the order they
 * were queued. No block is dropped on such a ring: a device with nothing
 * queued waits. A driver offers sending in lring_device_ops.directions.
 */
#ifndef _LRING_DRIVER_H
#define _LRING_DRIVER_H

#include <linux/device.h>
#include <linux/dma-direction.h>
#include <linux/list.h>
#include <linux/scatterlist.h>
#include <linux/types.h>

struct lring;

/* tutorial: driver-buffer */
/**
 * struct lring_buffer - one buffer of a ring's pool, as a driver sees it
 * @queue:	free for the driver's use while the buffer is queued to it
 * @dma_addr:	bus address of the first DMA segment
 * @size:	usable bytes, the pool's buffer size
 * @len:	on a sending ring, the bytes to send (1 .. @size), set before
 *		->queue(); on a receiving ring, @size
 * @id:		index in the pool, as userspace sees it
 * @sgt:	every DMA segment of the buffer: walk them with
 *		for_each_sgtable_dma_sg(); a single segment starts at
 *		@dma_addr and covers at least @size bytes
 * @state:	ownership, private to the core
 * @cpu_addr:	kernel address or NULL, private to the core
 * @own_sgt:	storage behind @sgt for most backends, private to the core
 * @alloc_priv:	the allocator backend's own data, private to the core
 *
 * A driver whose device cannot scatter-gather leaves
 * lring_device_ops.max_segments at 0 and then only ever sees one segment.
 */
struct lring_buffer {
	struct list_head queue;
	dma_addr_t dma_addr;
	u32 size;
	u32 len;
	u32 id;
	struct sg_table *sgt;
	/* Private to the core. */
	u8 state;
	void *cpu_addr;
	struct sg_table own_sgt;
	void *alloc_priv;
};
/* tutorial-end: driver-buffer */

/* tutorial: driver-ops */
/**
 * struct lring_device_ops - what the core asks of a device
 * @start:	begin filling queued buffers; may sleep; returns 0 or -errno
 * @stop:	quiesce the device (see the top of this file); may sleep
 * @queue:	take ownership of @buf until lring_buffer_done(); atomic
 *		context, must not fail
 * @max_segments: DMA segments the device can fill in one buffer; 0 means 1.
 *		Pools whose buffers need more are refused with EINVAL.
 * @directions:	what the ring can be configured for: BIT(DMA_FROM_DEVICE)
 *		(receive) and/or BIT(DMA_TO_DEVICE) (send); 0 means receive
 *		only. A configuration the device cannot do gets EOPNOTSUPP.
 * @cyclic:	the device writes the whole pool round and round, buffer
 *		after buffer, whether or not it holds them (a cyclic DMA
 *		transfer: lring_pool_block() says where). The core refuses,
 *		with EINVAL, a pool that is not one block
 *		(LRING_CONFIG_ONE_BLOCK) of buffers tiling it (a buffer size
 *		that is a multiple of the page size).
 */
struct lring_device_ops {
	int (*start)(struct lring *ring);
	void (*stop)(struct lring *ring);
	void (*queue)(struct lring *ring, struct lring_buffer *buf);
	unsigned int max_segments;
	unsigned int directions;
	bool cyclic;
};

/**
 * struct lring_block - a pool allocated as one block, as a device sees it
 * @dma_addr:	bus address of buffer 0; buffer N starts N * @buf_size
 *		bytes after it
 * @buf_size:	bytes per buffer
 * @buf_count:	buffers in the pool
 */
struct lring_block {
	dma_addr_t dma_addr;
	u32 buf_size;
	u32 buf_count;
};

/**
 * struct lring_done - one block the device finished, for lring_buffers_done()
 * @buf:	the buffer it wrote, or NULL for a block it had no buffer for
 *		(a receiving ring only)
 * @len:	bytes written, or read on a sending ring
 * @flags:	LRING_CQE_F_ERROR if the device reported an error, else 0
 */
struct lring_done {
	struct lring_buffer *buf;
	u32 len;
	u32 flags;
};

struct lring *lring_register(struct device *dma_dev,
			     const struct lring_device_ops *ops, void *priv);
struct lring *lring_register_client(struct device *parent,
				    struct device *dma_dev,
				    const struct lring_device_ops *ops,
				    void *priv);
void lring_unregister(struct lring *ring);

void lring_buffer_done(struct lring *ring, struct lring_buffer *buf,
		       u32 len, u32 flags);
void lring_buffers_done(struct lring *ring, const struct lring_done *done,
			unsigned int n);
void lring_block_dropped(struct lring *ring);
void lring_device_poll(struct lring *ring, bool polling);
u64 lring_next_seq(struct lring *ring);
int lring_pool_block(struct lring *ring, struct lring_block *block);

void *lring_priv(struct lring *ring);
struct device *lring_device(struct lring *ring);
bool lring_is_running(struct lring *ring);
enum dma_data_direction lring_direction(struct lring *ring);
/* tutorial-end: driver-ops */

#endif /* _LRING_DRIVER_H */
