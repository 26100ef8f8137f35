// SPDX-License-Identifier: GPL-2.0
/*
 * lring_dmabuf.c - a ring's buffer as a dma-buf (LRING_IOC_EXPORT_BUF), for
 * another driver to map for its DMA, or for the CPU through the dma-buf's
 * own mapping, with no copy.
 *
 * Only a pool mapped as pages can be exported, for the reason such a pool
 * can be pinned (lring_pool.c): the dma-buf takes its own reference on every
 * page, and the DMA API's free drops only its own, so an importer's mapping
 * stays valid when the ring is reconfigured or its device goes away. From
 * then on the pages are the dma-buf's alone; the ring no longer uses them.
 *
 * The other way round, a pool of the dma-buf backend is the application's
 * dma-bufs, one per buffer, attached to the ring's device and mapped for
 * its DMA for as long as the pool lives, as IIO's DMABUF interface does. The
 * kernel never maps them for the CPU: the application reads and writes
 * each through its own mapping of the dma-buf.
 */
#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/module.h>
#include <linux/overflow.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "lring_compat.h"
#include "lring_internal.h"

#if IS_ENABLED(CONFIG_DMA_SHARED_BUFFER)
LRING_IMPORT_NS_DMA_BUF();

/**
 * struct lring_dmabuf - what an exported buffer's dma-buf holds
 * @ring:	the ring, kept by a reference on its device
 * @pool_serial: the pool the buffer was exported from: ownership is asked
 *		of the ring only while that pool is still the ring's
 * @buf_id:	the buffer's id in that pool
 * @npages:	pages in @pages
 * @pages:	the buffer's pages, one reference each
 */
struct lring_dmabuf {
	struct lring *ring;
	u64 pool_serial;
	u32 buf_id;
	unsigned int npages;
	struct page *pages[];
};

static struct sg_table *lring_dmabuf_map(struct dma_buf_attachment *attach,
					 enum dma_data_direction dir)
{
	struct lring_dmabuf *x = attach->dmabuf->priv;
	struct sg_table *sgt;
	int ret;

	sgt = kzalloc(sizeof(*sgt), GFP_KERNEL);
	if (!sgt)
		return ERR_PTR(-ENOMEM);
	ret = sg_alloc_table_from_pages(sgt, x->pages, x->npages, 0,
					(size_t)x->npages << PAGE_SHIFT, GFP_KERNEL);
	if (ret)
		goto err_free;
	/* The importer's device, which may sit behind another IOMMU. */
	ret = dma_map_sgtable(attach->dev, sgt, dir, 0);
	if (ret)
		goto err_table;
	return sgt;

err_table:
	sg_free_table(sgt);
err_free:
	kfree(sgt);
	return ERR_PTR(ret);
}

static void lring_dmabuf_unmap(struct dma_buf_attachment *attach,
			       struct sg_table *sgt, enum dma_data_direction dir)
{
	dma_unmap_sgtable(attach->dev, sgt, dir, 0);
	sg_free_table(sgt);
	kfree(sgt);
}

/*
 * The ring synced the buffer for the CPU when it published it; what is
 * left to check is that the application owns it, or a reader could take a
 * buffer the device is writing for a complete block.
 */
/* tutorial: dmabuf-begin */
static int lring_dmabuf_begin_cpu_access(struct dma_buf *dmabuf,
					 enum dma_data_direction dir)
{
	struct lring_dmabuf *x = dmabuf->priv;
	struct lring *ring = x->ring;
	struct lring_pool *pool;
	int ret = 0;

	mutex_lock(&ring->lock);
	pool = ring->pool;
	if (!ring->dead && pool && pool->serial == x->pool_serial &&
	    READ_ONCE(pool->bufs[x->buf_id].state) != LRING_BUF_USER)
		ret = -EBUSY;
	mutex_unlock(&ring->lock);
	return ret;
}
/* tutorial-end: dmabuf-begin */

static int lring_dmabuf_end_cpu_access(struct dma_buf *dmabuf,
				       enum dma_data_direction dir)
{
	/* Handing the buffer back syncs it for the device. */
	return 0;
}

static int lring_dmabuf_mmap(struct dma_buf *dmabuf, struct vm_area_struct *vma)
{
	struct lring_dmabuf *x = dmabuf->priv;

	return vm_map_pages(vma, x->pages, x->npages);
}

static void lring_dmabuf_free(struct lring_dmabuf *x)
{
	unsigned int i;

	for (i = 0; i < x->npages; i++)
		put_page(x->pages[i]);
	put_device(&x->ring->dev);
	kfree(x);
}

static void lring_dmabuf_release(struct dma_buf *dmabuf)
{
	lring_dmabuf_free(dmabuf->priv);
}

static const struct dma_buf_ops lring_dmabuf_ops = {
	.map_dma_buf = lring_dmabuf_map,
	.unmap_dma_buf = lring_dmabuf_unmap,
	.begin_cpu_access = lring_dmabuf_begin_cpu_access,
	.end_cpu_access = lring_dmabuf_end_cpu_access,
	.mmap = lring_dmabuf_mmap,
	.release = lring_dmabuf_release,
};

/**
 * lring_dmabuf_export() - LRING_IOC_EXPORT_BUF: one buffer as a dma-buf
 * @ring:	the ring, ring->lock held, with a pool
 * @arg:	buf_id and flags in, fd out
 *
 * Return: 0; -EINVAL for a bad id, flags or reserved field; -EOPNOTSUPP
 * for a pool not mapped as pages; -ENOMEM, or the errno of dma_buf_fd().
 */
int lring_dmabuf_export(struct lring *ring, struct lring_export *arg)
{
	DEFINE_DMA_BUF_EXPORT_INFO(info);
	struct lring_pool *pool = ring->pool;
	struct lring_buffer *buf;
	struct lring_dmabuf *x;
	struct dma_buf *dmabuf;
	unsigned int i, npages;
	int fd;

	if ((arg->flags & ~LRING_EXPORT_CLOEXEC) || arg->resv ||
	    arg->buf_id >= pool->layout.buf_count)
		return -EINVAL;
	if (!pool->map_pages || !pool->dma_live)
		return -EOPNOTSUPP;
	npages = pool->layout.buf_stride >> PAGE_SHIFT;
	x = kzalloc(struct_size(x, pages, npages), GFP_KERNEL);
	if (!x)
		return -ENOMEM;
	buf = &pool->bufs[arg->buf_id];
	for (i = 0; i < npages; i++) {
		x->pages[i] = pool->allocator->page(pool, buf, i << PAGE_SHIFT);
		get_page(x->pages[i]);
	}
	x->npages = npages;
	x->buf_id = arg->buf_id;
	x->pool_serial = pool->serial;
	x->ring = ring;
	get_device(&ring->dev);

	info.ops = &lring_dmabuf_ops;
	info.size = (size_t)npages << PAGE_SHIFT;
	/* Only a sending ring's application writes its buffers. */
	info.flags = lring_sends(pool) ? O_RDWR : O_RDONLY;
	info.priv = x;
	dmabuf = dma_buf_export(&info);
	if (IS_ERR(dmabuf)) {
		lring_dmabuf_free(x);
		return PTR_ERR(dmabuf);
	}
	fd = dma_buf_fd(dmabuf, arg->flags & LRING_EXPORT_CLOEXEC ? O_CLOEXEC : 0);
	if (fd < 0) {
		/* Its release frees x. */
		dma_buf_put(dmabuf);
		return fd;
	}
	arg->fd = fd;
	return 0;
}

/**
 * lring_dmabuf_attach_buf() - the dma-buf backend's alloc: take dma-buf
 * @buf->id of the application's array and map it for the ring's device
 * @pool:	a pool being created, in the ioctl of the application
 * @buf:	the buffer
 *
 * The table is the exporter's mapping for the ring's device, which only
 * the exporter syncs (DMA_BUF_IOCTL_SYNC), and whose pages are not the
 * importer's to touch.
 *
 * Return: 0; -EFAULT for an array not readable, -EBADF for an fd not open,
 * -EINVAL for one that is not a dma-buf or too small, or the exporter's
 * errno.
 */
/* tutorial: dmabuf-attach */
int lring_dmabuf_attach_buf(struct lring_pool *pool, struct lring_buffer *buf)
{
	s32 __user *fds = (s32 __user *)pool->user_addr;
	struct dma_buf_attachment *attach;
	struct dma_buf *dmabuf;
	struct sg_table *sgt;
	s32 fd;
	int ret;

	if (get_user(fd, fds + buf->id))
		return -EFAULT;
	dmabuf = dma_buf_get(fd);
	if (IS_ERR(dmabuf))
		return PTR_ERR(dmabuf);
	if (dmabuf->size < pool->layout.buf_size) {
		ret = -EINVAL;
		goto err_put;
	}
	attach = dma_buf_attach(dmabuf, pool->dev);
	if (IS_ERR(attach)) {
		ret = PTR_ERR(attach);
		goto err_put;
	}
	sgt = dma_buf_map_attachment_unlocked(attach, pool->dir);
	if (IS_ERR(sgt)) {
		ret = PTR_ERR(sgt);
		goto err_detach;
	}
	buf->sgt = sgt;
	buf->dma_addr = sg_dma_address(sgt->sgl);
	buf->alloc_priv = attach;
	return 0;

err_detach:
	dma_buf_detach(dmabuf, attach);
err_put:
	dma_buf_put(dmabuf);
	return ret;
}
/* tutorial-end: dmabuf-attach */

/**
 * lring_dmabuf_detach_buf() - undo lring_dmabuf_attach_buf()
 * @pool:	the pool
 * @buf:	a buffer the device no longer uses
 *
 * The application's dma-buf lives on while it holds an fd or a mapping.
 */
void lring_dmabuf_detach_buf(struct lring_pool *pool, struct lring_buffer *buf)
{
	struct dma_buf_attachment *attach = buf->alloc_priv;
	struct dma_buf *dmabuf = attach->dmabuf;

	dma_buf_unmap_attachment_unlocked(attach, buf->sgt, pool->dir);
	dma_buf_detach(dmabuf, attach);
	dma_buf_put(dmabuf);
	buf->alloc_priv = NULL;
	buf->sgt = NULL;
}
#else
int lring_dmabuf_export(struct lring *ring, struct lring_export *arg)
{
	return -EOPNOTSUPP;
}

int lring_dmabuf_attach_buf(struct lring_pool *pool, struct lring_buffer *buf)
{
	return -EOPNOTSUPP;
}

void lring_dmabuf_detach_buf(struct lring_pool *pool, struct lring_buffer *buf)
{
}
#endif
