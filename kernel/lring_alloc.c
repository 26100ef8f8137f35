// SPDX-License-Identifier: GPL-2.0
/*
 * lring_alloc.c - the allocator backends of the buffer pool.
 *
 * Each backend allocates (or pins) one buffer at a time, maps it for the
 * device, describes it as a scatter-gather table, and knows how to hand
 * ownership between CPU and device. Every buffer ends up with:
 *   ->sgt       CPU side (pages, for mmap) and DMA side (segments, for
 *               the device) of the same memory
 *   ->dma_addr  the first DMA segment
 *   ->cpu_addr  a kernel address for read(), or NULL
 * Every error path undoes exactly what succeeded before it.
 */
#include <linux/dma-mapping.h>
#include <linux/error-injection.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "lring_compat.h"
#include "lring_internal.h"

bool lring_debug_skip_sync_for_cpu;
module_param_named(debug_skip_sync_for_cpu, lring_debug_skip_sync_for_cpu,
		   bool, 0444);
MODULE_PARM_DESC(debug_skip_sync_for_cpu,
		 "Test only: never sync buffers for the CPU, to prove the tests catch it");

/*
 * One physically contiguous block per buffer (coherent, streaming): the
 * table's one entry gives the CPU side its pages, and its one DMA segment
 * the device its address. Its own function so that fault injection can
 * fail it after the DMA API allocated the block.
 */
static noinline int lring_block_table(struct lring_pool *pool,
				      struct lring_buffer *buf)
{
	int ret;

	ret = sg_alloc_table(&buf->own_sgt, 1, GFP_KERNEL);
	if (ret)
		return ret;
	sg_set_page(buf->own_sgt.sgl, virt_to_page(buf->cpu_addr),
		    pool->layout.buf_stride, 0);
	buf->sgt = &buf->own_sgt;
	buf->own_sgt.nents = 1;
	sg_dma_address(buf->own_sgt.sgl) = buf->dma_addr;
	sg_dma_len(buf->own_sgt.sgl) = pool->layout.buf_stride;
	return 0;
}
ALLOW_ERROR_INJECTION(lring_block_table, ERRNO);

/*
 * The application maps the pool together with the rings, with one
 * protection for all of it: ordinary cacheable memory. Coherent memory is
 * that only on a device that snoops the CPU caches, where the DMA layer
 * hands out pages of the kernel's linear map. Elsewhere (most ARM SoCs,
 * a device's own memory region) the kernel reaches it through a remapping
 * with another protection, and only dma_mmap_coherent(), which takes a
 * whole mapping of its own, could map it for the application: such a
 * device gets cached memory and a sync per hand-off from the streaming
 * backend instead.
 */
/* tutorial: coherent-uncached */
static noinline bool lring_coherent_uncached(struct lring_pool *pool,
					     struct lring_buffer *buf)
{
	if (!virt_addr_valid(buf->cpu_addr))
		return true;
	/* Architectures without one non-coherent device have no sync hooks. */
	if (!IS_ENABLED(CONFIG_ARCH_HAS_SYNC_DMA_FOR_DEVICE) &&
	    !IS_ENABLED(CONFIG_ARCH_HAS_SYNC_DMA_FOR_CPU) &&
	    !IS_ENABLED(CONFIG_ARCH_HAS_SYNC_DMA_FOR_CPU_ALL))
		return false;
	/*
	 * Behind an IOMMU, dma_need_sync() says yes for every device, coherent
	 * or not; there the memory of a non-coherent one is always remapped,
	 * which the test above caught.
	 */
	if (device_iommu_mapped(pool->dev))
		return false;
	/* A linear-map page made uncached in place (ARCH_HAS_DMA_SET_UNCACHED). */
	return dma_need_sync(pool->dev, buf->dma_addr);
}
/* tutorial-end: coherent-uncached */
ALLOW_ERROR_INJECTION(lring_coherent_uncached, TRUE);

/*
 * Coherent: memory that needs no syncs. One contiguous block even behind
 * an IOMMU, which would otherwise remap scattered pages into the vmalloc
 * area; buffers that big are the noncontiguous backend's.
 */
/* tutorial: coherent-alloc */
static noinline int lring_coherent_alloc(struct lring_pool *pool,
					 struct lring_buffer *buf)
{
	u32 stride = pool->layout.buf_stride;
	int ret = -EOPNOTSUPP;

	/* dma_alloc_attrs() always returns zeroed memory. */
	buf->cpu_addr = dma_alloc_attrs(pool->dev, stride, &buf->dma_addr,
					LRING_GFP_POOL, DMA_ATTR_FORCE_CONTIGUOUS);
	if (!buf->cpu_addr)
		return -ENOMEM;
	if (lring_coherent_uncached(pool, buf)) {
		dev_notice_ratelimited(pool->dev,
				       "coherent memory of this device is not cacheable: use the streaming backend\n");
		goto err_free;
	}
	ret = lring_block_table(pool, buf);
	if (ret)
		goto err_free;
	return 0;

err_free:
	dma_free_attrs(pool->dev, stride, buf->cpu_addr, buf->dma_addr,
		       DMA_ATTR_FORCE_CONTIGUOUS);
	buf->cpu_addr = NULL;
	return ret;
}
ALLOW_ERROR_INJECTION(lring_coherent_alloc, ERRNO);
/* tutorial-end: coherent-alloc */

/* Buffers the kernel maps, linearly or through vmap(). */
static struct page *lring_kernel_page(struct lring_pool *pool,
				      struct lring_buffer *buf, u32 offset)
{
	void *addr = buf->cpu_addr + offset;

	return is_vmalloc_addr(addr) ? vmalloc_to_page(addr) : virt_to_page(addr);
}

static void lring_coherent_free(struct lring_pool *pool,
				struct lring_buffer *buf)
{
	sg_free_table(&buf->own_sgt);
	dma_free_attrs(pool->dev, pool->layout.buf_stride, buf->cpu_addr,
		       buf->dma_addr, DMA_ATTR_FORCE_CONTIGUOUS);
	buf->cpu_addr = NULL;
}

static void lring_no_sync_for_cpu(struct lring_pool *pool,
				  struct lring_buffer *buf, u32 len)
{
}

static void lring_no_sync_for_device(struct lring_pool *pool,
				     struct lring_buffer *buf)
{
}

/*
 * LRING_CONFIG_ONE_BLOCK: the buffer is the slice of the pool's one block
 * (lring_pool.c) at its index, for the device as for the CPU.
 */
static int lring_block_slice(struct lring_pool *pool, struct lring_buffer *buf)
{
	size_t off = (size_t)buf->id * pool->layout.buf_stride;
	int ret;

	buf->cpu_addr = page_address(pool->block) + off;
	buf->dma_addr = pool->block_dma + off;
	ret = lring_block_table(pool, buf);
	if (ret)
		buf->cpu_addr = NULL;
	return ret;
}

/*
 * Streaming: cacheable pages mapped once for the device for the pool's
 * lifetime; ownership moves with dma_sync_single_for_{cpu,device}().
 * dma_alloc_pages() takes them from where this device reaches them (below
 * its DMA mask, from CMA, behind its IOMMU), so they are never bounced. It
 * allocates a power-of-two block, which the pool's memory budget counts.
 */
/* tutorial: streaming-alloc */
static noinline int lring_streaming_alloc(struct lring_pool *pool,
					  struct lring_buffer *buf)
{
	u32 stride = pool->layout.buf_stride;
	struct page *page;
	int ret;

	if (pool->block)
		return lring_block_slice(pool, buf);
	/* Zeroed, and owned by the device until synced for the CPU. */
	page = dma_alloc_pages(pool->dev, stride, &buf->dma_addr,
			       pool->dir, LRING_GFP_POOL);
	if (!page)
		return -ENOMEM;
	buf->cpu_addr = page_address(page);
	/* 6.1's DMA-API debug files the block as a mapping to be checked. */
	ret = dma_mapping_error(pool->dev, buf->dma_addr) ? -ENOMEM :
	      lring_block_table(pool, buf);
	if (ret) {
		dma_free_pages(pool->dev, stride, page, buf->dma_addr,
			       pool->dir);
		buf->cpu_addr = NULL;
	}
	return ret;
}
/* tutorial-end: streaming-alloc */
ALLOW_ERROR_INJECTION(lring_streaming_alloc, ERRNO);

static void lring_streaming_free(struct lring_pool *pool,
				 struct lring_buffer *buf)
{
	u32 stride = pool->layout.buf_stride;

	sg_free_table(&buf->own_sgt);
	/* The pool frees its one block itself, after every slice. */
	if (!pool->block)
		dma_free_pages(pool->dev, stride, virt_to_page(buf->cpu_addr),
			       buf->dma_addr, pool->dir);
	buf->cpu_addr = NULL;
}

/* tutorial: streaming-sync */
static void lring_streaming_sync_for_cpu(struct lring_pool *pool,
					 struct lring_buffer *buf, u32 len)
{
	if (lring_debug_skip_sync_for_cpu || !len)
		return;
	dma_sync_single_for_cpu(pool->dev, buf->dma_addr, len,
				pool->dir);
}

static void lring_streaming_sync_for_device(struct lring_pool *pool,
					    struct lring_buffer *buf)
{
	/*
	 * What the device may write (buf_size, not the page-rounded stride),
	 * or on a sending ring what it will read.
	 */
	dma_sync_single_for_device(pool->dev, buf->dma_addr, buf->len, pool->dir);
}
/* tutorial-end: streaming-sync */

/*
 * Scatter-gather backends (noncontig, user) sync the whole table, whatever
 * the length: the DMA API syncs an sg mapping only whole (DMA-API debug
 * reports a partial entry count as a driver bug), and a single-range sync
 * of one merged DMA segment would be wrong behind an IOMMU, where the
 * segment spans pages scattered in physical memory.
 */
static void lring_sg_sync_for_cpu(struct lring_pool *pool,
				  struct lring_buffer *buf, u32 len)
{
	if (lring_debug_skip_sync_for_cpu || !len)
		return;
	dma_sync_sgtable_for_cpu(pool->dev, buf->sgt, pool->dir);
}

static void lring_sg_sync_for_device(struct lring_pool *pool,
				     struct lring_buffer *buf)
{
	dma_sync_sgtable_for_device(pool->dev, buf->sgt, pool->dir);
}

#ifdef LRING_HAVE_NONCONTIG
/*
 * Noncontiguous: dma_alloc_noncontiguous() gives cacheable pages that an
 * IOMMU maps as one range, so a buffer may exceed the largest contiguous
 * allocation; without an IOMMU it falls back to one contiguous block.
 */
/* tutorial: noncontig-alloc */
static noinline int lring_noncontig_alloc(struct lring_pool *pool,
					  struct lring_buffer *buf)
{
	u32 stride = pool->layout.buf_stride;
	struct sg_table *sgt;

	sgt = dma_alloc_noncontiguous(pool->dev, stride, pool->dir,
				      LRING_GFP_POOL, 0);
	if (!sgt)
		return -ENOMEM;
	buf->cpu_addr = dma_vmap_noncontiguous(pool->dev, stride, sgt);
	if (!buf->cpu_addr) {
		dma_free_noncontiguous(pool->dev, stride, sgt, pool->dir);
		return -ENOMEM;
	}
	/* Not every path zeroes: no stale kernel data reaches userspace. */
	memset(buf->cpu_addr, 0, stride);
	dma_sync_sgtable_for_device(pool->dev, sgt, pool->dir);
	buf->sgt = sgt;
	buf->dma_addr = sg_dma_address(sgt->sgl);
	return 0;
}
/* tutorial-end: noncontig-alloc */
ALLOW_ERROR_INJECTION(lring_noncontig_alloc, ERRNO);

/*
 * Behind an IOMMU the DMA API builds a noncontiguous buffer from pages it
 * allocates one by one and frees each with a put, so a page a pin still
 * holds (an O_DIRECT write in flight as the device goes away) stays the
 * pinner's; dma_mmap_noncontiguous() maps exactly these as pages too.
 * Without an IOMMU the buffer is one high-order block whose tail pages
 * carry no count, or CMA memory, which is freed whatever holds it. Only an
 * IOMMU has a merge boundary.
 */
/* tutorial: pages-counted */
static bool lring_noncontig_pages_counted(struct lring_pool *pool)
{
	return dma_get_merge_boundary(pool->dev) != 0;
}
/* tutorial-end: pages-counted */

static void lring_noncontig_free(struct lring_pool *pool,
				 struct lring_buffer *buf)
{
	dma_vunmap_noncontiguous(pool->dev, buf->cpu_addr);
	dma_free_noncontiguous(pool->dev, pool->layout.buf_stride, buf->sgt,
			       pool->dir);
	buf->cpu_addr = NULL;
	buf->sgt = NULL;
}
#else
/* Before 5.13 the DMA API has no noncontiguous allocation to build on. */
static int lring_noncontig_alloc(struct lring_pool *pool,
				 struct lring_buffer *buf)
{
	dev_notice_ratelimited(pool->dev, "the noncontig backend needs Linux 5.13 or later\n");
	return -EOPNOTSUPP;
}

static void lring_noncontig_free(struct lring_pool *pool,
				 struct lring_buffer *buf)
{
}

static bool lring_noncontig_pages_counted(struct lring_pool *pool)
{
	return false;
}
#endif

/*
 * User: the application's own pages, pinned for the pool's lifetime
 * (FOLL_LONGTERM: the kernel first migrates them out of CMA and movable
 * zones) and mapped segment by segment. Segments are cut at what the
 * device (and a bounce buffer) can take in one piece.
 */
static unsigned int lring_max_segment(struct device *dev)
{
	size_t max = min_t(size_t, dma_get_max_seg_size(dev),
			   dma_max_mapping_size(dev));

	return max_t(size_t, round_down(max, PAGE_SIZE), PAGE_SIZE);
}

/*
 * Memory a device may write into for as long as the pool lives: anonymous,
 * hugetlbfs or shmem (memfd, MAP_SHARED|MAP_ANONYMOUS). A regular file's
 * page cache is refused, as io_uring refuses it for fixed buffers: the
 * filesystem would write back (or truncate) pages a device still writes.
 */
static bool lring_user_vma_ok(struct vm_area_struct *vma)
{
	return !vma->vm_file || is_vm_hugetlb_page(vma) ||
	       lring_shmem_mapping(vma->vm_file->f_mapping);
}

/*
 * Every page of [@start, @start + @len) is mapped, and mapped from memory
 * lring_user_vma_ok() accepts. Return: 0, -EFAULT or -EOPNOTSUPP.
 */
static int lring_user_range_ok(unsigned long start, unsigned long len)
{
	unsigned long end = start + len;
	struct vm_area_struct *vma;
	int ret = 0;

	mmap_read_lock(current->mm);
	while (start < end) {
		vma = find_vma(current->mm, start);
		if (!vma || vma->vm_start > start) {
			ret = -EFAULT;
			break;
		}
		if (!lring_user_vma_ok(vma)) {
			ret = -EOPNOTSUPP;
			break;
		}
		start = vma->vm_end;
	}
	mmap_read_unlock(current->mm);
	return ret;
}

/*
 * The same rule for the pages actually pinned: the mapping may have changed
 * since lring_user_range_ok() looked.
 */
static bool lring_user_pages_ok(struct page **pages, int npages)
{
	struct address_space *mapping;
	int i;

	for (i = 0; i < npages; i++) {
		if (PageAnon(pages[i]) || PageHuge(pages[i]))
			continue;
		mapping = lring_page_mapping(pages[i]);
		if (!mapping || !lring_shmem_mapping(mapping))
			return false;
	}
	return true;
}

/* Its own function so that fault injection can fail the mapping alone. */
static noinline int lring_user_map(struct lring_pool *pool,
				   struct lring_buffer *buf)
{
	return dma_map_sgtable(pool->dev, &buf->own_sgt, pool->dir, 0);
}
ALLOW_ERROR_INJECTION(lring_user_map, ERRNO);

/* tutorial: user-pin */
static noinline int lring_user_pin(unsigned long addr, int npages,
				   struct page **pages)
{
	int pinned;

	pinned = pin_user_pages_fast(addr, npages, FOLL_WRITE | FOLL_LONGTERM,
				     pages);
	if (pinned == npages)
		return 0;
	/* A short pin still holds the pages it got: release exactly those. */
	if (pinned > 0)
		unpin_user_pages(pages, pinned);
	return pinned < 0 ? pinned : -EFAULT;
}
/* tutorial-end: user-pin */
ALLOW_ERROR_INJECTION(lring_user_pin, ERRNO);

/* tutorial: user-alloc */
static noinline int lring_user_alloc(struct lring_pool *pool,
				     struct lring_buffer *buf)
{
	u32 stride = pool->layout.buf_stride;
	int npages = stride >> PAGE_SHIFT;
	struct page **pages;
	int ret;

	/*
	 * The application's pages may lie anywhere: a device that cannot
	 * reach all of memory needs an IOMMU or bounce buffers for them
	 * (dma-direct caps the mapping size exactly when it can bounce).
	 */
	if (dma_addressing_limited(pool->dev) &&
	    !device_iommu_mapped(pool->dev) &&
	    dma_max_mapping_size(pool->dev) == SIZE_MAX)
		return -EINVAL;

	ret = lring_user_range_ok(pool->user_addr + (unsigned long)buf->id * stride,
				  stride);
	if (ret)
		return ret;
	pages = kvmalloc_array(npages, sizeof(*pages), GFP_KERNEL);
	if (!pages)
		return -ENOMEM;
	ret = lring_user_pin(pool->user_addr + (unsigned long)buf->id * stride,
			     npages, pages);
	if (ret)
		goto err_free_pages;
	if (!lring_user_pages_ok(pages, npages)) {
		ret = -EOPNOTSUPP;
		goto err_unpin;
	}

	ret = lring_sg_from_pages(&buf->own_sgt, pages, npages, 0, stride,
				  lring_max_segment(pool->dev), GFP_KERNEL);
	if (ret)
		goto err_unpin;
	ret = lring_user_map(pool, buf);
	if (ret)
		goto err_free_table;

	buf->sgt = &buf->own_sgt;
	buf->dma_addr = sg_dma_address(buf->sgt->sgl);
	buf->alloc_priv = pages;
	return 0;

err_free_table:
	sg_free_table(&buf->own_sgt);
err_unpin:
	unpin_user_pages(pages, npages);
err_free_pages:
	kvfree(pages);
	return ret;
}
ALLOW_ERROR_INJECTION(lring_user_alloc, ERRNO);
/* tutorial-end: user-alloc */

/* The pinned pages, one per entry: O(1) even for a buffer of 4 KiB pages. */
static struct page *lring_user_page(struct lring_pool *pool,
				    struct lring_buffer *buf, u32 offset)
{
	struct page **pages = buf->alloc_priv;

	return pages[offset >> PAGE_SHIFT];
}

/* tutorial: user-free */
static void lring_user_free(struct lring_pool *pool, struct lring_buffer *buf)
{
	struct page **pages = buf->alloc_priv;

	dma_unmap_sgtable(pool->dev, &buf->own_sgt, pool->dir, 0);
	sg_free_table(&buf->own_sgt);
	/*
	 * A receiving device wrote them behind the MMU's back: mark them
	 * dirty, so that reclaim writes them to swap rather than dropping a
	 * copy.
	 */
	unpin_user_pages_dirty_lock(pages, pool->layout.buf_stride >> PAGE_SHIFT,
				    pool->dir == DMA_FROM_DEVICE);
	kvfree(pages);
	buf->alloc_priv = NULL;
	buf->sgt = NULL;
}
/* tutorial-end: user-free */

static const struct lring_allocator lring_allocators[LRING_BACKEND_COUNT] = {
	[LRING_BACKEND_COHERENT] = {
		.name = "coherent",
		.alloc = lring_coherent_alloc,
		.free = lring_coherent_free,
		.sync_for_cpu = lring_no_sync_for_cpu,
		.sync_for_device = lring_no_sync_for_device,
		.page = lring_kernel_page,
	},
	[LRING_BACKEND_STREAMING] = {
		.name = "streaming",
		.contiguous = true,
		.alloc = lring_streaming_alloc,
		.free = lring_streaming_free,
		.sync_for_cpu = lring_streaming_sync_for_cpu,
		.sync_for_device = lring_streaming_sync_for_device,
		.page = lring_kernel_page,
	},
	[LRING_BACKEND_NONCONTIG] = {
		.name = "noncontig",
		.alloc = lring_noncontig_alloc,
		.free = lring_noncontig_free,
		.sync_for_cpu = lring_sg_sync_for_cpu,
		.sync_for_device = lring_sg_sync_for_device,
		.page = lring_kernel_page,
		.pages_counted = lring_noncontig_pages_counted,
	},
	[LRING_BACKEND_USER] = {
		.name = "user",
		.user_memory = true,
		.alloc = lring_user_alloc,
		.free = lring_user_free,
		.sync_for_cpu = lring_sg_sync_for_cpu,
		.sync_for_device = lring_sg_sync_for_device,
		.page = lring_user_page,
	},
	/*
	 * The exporter syncs, when the application brackets its accesses
	 * with DMA_BUF_IOCTL_SYNC, as videobuf2 and IIO leave it: an
	 * importer's table need not even carry pages (CONFIG_DMABUF_DEBUG
	 * scrambles them).
	 */
	[LRING_BACKEND_DMABUF] = {
		.name = "dmabuf",
		.imported = true,
		.alloc = lring_dmabuf_attach_buf,
		.free = lring_dmabuf_detach_buf,
		.sync_for_cpu = lring_no_sync_for_cpu,
		.sync_for_device = lring_no_sync_for_device,
	},
};

/**
 * lring_allocator_get() - the allocator backend for an enum lring_backend
 * @id: the backend userspace asked for
 *
 * Return: the backend, or NULL for an unknown id.
 */
const struct lring_allocator *lring_allocator_get(u32 id)
{
	return id < LRING_BACKEND_COUNT ? &lring_allocators[id] : NULL;
}

/**
 * lring_backend_name() - the name sysfs shows for a backend id
 * @id: enum lring_backend value
 *
 * Return: a static string, "unknown" for an id out of range.
 */
const char *lring_backend_name(u32 id)
{
	return id < LRING_BACKEND_COUNT ? lring_allocators[id].name : "unknown";
}
