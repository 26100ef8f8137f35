/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lring_compat.h - the few kernel APIs that changed between the kernels lring
 * is tested on (Debian's 5.10, 6.1 and 6.12, and the newest source, 7.3).
 *
 * This is the only file that tests LINUX_VERSION_CODE; .checkpatch.conf
 * silences checkpatch's advice against it, which is meant for in-tree code.
 */
#ifndef _LRING_COMPAT_H
#define _LRING_COMPAT_H

#include <linux/version.h>
#include <linux/eventfd.h>
#include <linux/highmem.h>
#include <linux/hrtimer.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/pagemap.h>
#include <linux/scatterlist.h>
#include <linux/shmem_fs.h>
#include <linux/uaccess.h>

/* tutorial: vm-flags */
#if KERNEL_VERSION(6, 3, 0) > LINUX_VERSION_CODE
static inline void vm_flags_set(struct vm_area_struct *vma, vm_flags_t flags)
{
	vma->vm_flags |= flags;
}

static inline void vm_flags_clear(struct vm_area_struct *vma,
				  vm_flags_t flags)
{
	vma->vm_flags &= ~flags;
}
#endif
/* tutorial-end: vm-flags */

/* tutorial: max-order */
#if KERNEL_VERSION(6, 4, 0) > LINUX_VERSION_CODE
#define lring_class_create(name)	class_create(THIS_MODULE, name)
/* MAX_ORDER was exclusive until 6.4. */
#define LRING_MAX_PAGE_ORDER		(MAX_ORDER - 1)
#elif KERNEL_VERSION(6, 8, 0) > LINUX_VERSION_CODE
#define lring_class_create(name)	class_create(name)
#define LRING_MAX_PAGE_ORDER		MAX_ORDER
#else
#define lring_class_create(name)	class_create(name)
#define LRING_MAX_PAGE_ORDER		MAX_PAGE_ORDER
#endif
/* tutorial-end: max-order */

static inline void lring_eventfd_signal(struct eventfd_ctx *ctx)
{
#if KERNEL_VERSION(6, 8, 0) > LINUX_VERSION_CODE
	eventfd_signal(ctx, 1);
#else
	eventfd_signal(ctx);
#endif
}

/* The page cache (or swap cache) mapping a pinned page belongs to, or NULL. */
#if KERNEL_VERSION(5, 16, 0) > LINUX_VERSION_CODE
#define lring_page_mapping(page)	page_mapping(page)
#else
#define lring_page_mapping(page)	folio_mapping(page_folio(page))
#endif

/* Return: the bytes at @uaddr that could not be faulted in writable. */
static inline size_t lring_fault_in_writeable(char __user *uaddr, size_t size)
{
#if KERNEL_VERSION(5, 16, 0) > LINUX_VERSION_CODE
	return fault_in_pages_writeable(uaddr, size) ? size : 0;
#else
	return fault_in_writeable(uaddr, size);
#endif
}

/* Return: the bytes at @uaddr that could not be faulted in readable. */
static inline size_t lring_fault_in_readable(const char __user *uaddr,
					     size_t size)
{
#if KERNEL_VERSION(5, 16, 0) > LINUX_VERSION_CODE
	return fault_in_pages_readable(uaddr, size) ? size : 0;
#else
	return fault_in_readable(uaddr, size);
#endif
}

/* sg_alloc_table_from_pages_segment() arrived in 5.15; before, the long form. */
#if KERNEL_VERSION(5, 15, 0) > LINUX_VERSION_CODE
static inline int lring_sg_from_pages(struct sg_table *sgt, struct page **pages,
				      unsigned int n_pages, unsigned int offset,
				      unsigned long size, unsigned int max_segment,
				      gfp_t gfp)
{
	return PTR_ERR_OR_ZERO(__sg_alloc_table_from_pages(sgt, pages, n_pages,
							   offset, size,
							   max_segment, NULL,
							   0, gfp));
}
#else
#define lring_sg_from_pages	sg_alloc_table_from_pages_segment
#endif

/*
 * Whether a file mapping is shmem (memfd, shared anonymous, tmpfs): an
 * inline test since 6.1 at the latest; 5.10's is not exported to modules,
 * so there the superblock says it.
 */
#if KERNEL_VERSION(6, 1, 0) > LINUX_VERSION_CODE
#include <uapi/linux/magic.h>
static inline bool lring_shmem_mapping(struct address_space *mapping)
{
	return mapping->host && mapping->host->i_sb->s_magic == TMPFS_MAGIC;
}
#else
#define lring_shmem_mapping(mapping)	shmem_mapping(mapping)
#endif

/*
 * pci_driver.dev_groups arrived in 5.13; before, the driver core's own field,
 * which pci_register_driver() overwrites from it since.
 */
#if KERNEL_VERSION(5, 13, 0) > LINUX_VERSION_CODE
#define LRING_PCI_DEV_GROUPS(groups)	.driver.dev_groups = (groups)
#else
#define LRING_PCI_DEV_GROUPS(groups)	.dev_groups = (groups)
#endif

/* dma_alloc_noncontiguous() and dma_vmap_noncontiguous() arrived in 5.13. */
#if KERNEL_VERSION(5, 13, 0) <= LINUX_VERSION_CODE
#define LRING_HAVE_NONCONTIG
#endif

/* Memory encryption (SEV, TDX, SME) makes DMA memory shared pages. */
#if KERNEL_VERSION(5, 16, 0) > LINUX_VERSION_CODE
#include <linux/mem_encrypt.h>
#define lring_mem_encrypted()	mem_encrypt_active()
#else
#include <linux/cc_platform.h>
#define lring_mem_encrypted()	cc_platform_has(CC_ATTR_MEM_ENCRYPT)
#endif

/* kmap_local_page() arrived in 5.11; before, the atomic kind did the same here. */
#if KERNEL_VERSION(5, 11, 0) > LINUX_VERSION_CODE
#define kmap_local_page(page)	kmap_atomic(page)
#define kunmap_local(addr)	kunmap_atomic(addr)
#endif

/* hrtimer_setup() arrived in 6.13, and hrtimer_init() is gone since 6.15. */
#if KERNEL_VERSION(6, 13, 0) > LINUX_VERSION_CODE
static inline void hrtimer_setup(struct hrtimer *timer,
				 enum hrtimer_restart (*function)(struct hrtimer *),
				 clockid_t clock_id, enum hrtimer_mode mode)
{
	hrtimer_init(timer, clock_id, mode);
	timer->function = function;
}
#endif

/*
 * The dma-buf API is in the DMA_BUF symbol namespace from 5.16; from 6.13
 * MODULE_IMPORT_NS() takes the namespace as a string.
 */
#if KERNEL_VERSION(5, 16, 0) > LINUX_VERSION_CODE
#define LRING_IMPORT_NS_DMA_BUF()	static_assert(1)
#elif KERNEL_VERSION(6, 13, 0) > LINUX_VERSION_CODE
#define LRING_IMPORT_NS_DMA_BUF()	MODULE_IMPORT_NS(DMA_BUF)
#else
#define LRING_IMPORT_NS_DMA_BUF()	MODULE_IMPORT_NS("DMA_BUF")
#endif

/*
 * Before 6.1 an importer mapped an attachment without the reservation lock,
 * which only a dynamic exporter wanted held; from 6.1 the _unlocked calls
 * take it. Holding it suits both kinds of exporter of the older kernels.
 */
#if KERNEL_VERSION(6, 1, 0) > LINUX_VERSION_CODE && IS_ENABLED(CONFIG_DMA_SHARED_BUFFER)
#include <linux/dma-buf.h>
#include <linux/dma-resv.h>

static inline struct sg_table *
dma_buf_map_attachment_unlocked(struct dma_buf_attachment *attach,
				enum dma_data_direction dir)
{
	struct sg_table *sgt;

	dma_resv_lock(attach->dmabuf->resv, NULL);
	sgt = dma_buf_map_attachment(attach, dir);
	dma_resv_unlock(attach->dmabuf->resv);
	return sgt;
}

static inline void
dma_buf_unmap_attachment_unlocked(struct dma_buf_attachment *attach,
				  struct sg_table *sgt,
				  enum dma_data_direction dir)
{
	dma_resv_lock(attach->dmabuf->resv, NULL);
	dma_buf_unmap_attachment(attach, sgt, dir);
	dma_resv_unlock(attach->dmabuf->resv);
}
#endif

/* A channel's DMA device, for a controller that maps for its channels. */
#if KERNEL_VERSION(5, 11, 0) > LINUX_VERSION_CODE
#include <linux/dmaengine.h>
static inline struct device *dmaengine_get_dma_device(struct dma_chan *chan)
{
	return chan->device->dev;
}
#endif

/*
 * A platform driver's remove returned int until 6.3 gave it remove_new,
 * which 6.11 made remove again: LRING_PLATFORM_REMOVE(fn) names a void
 * function in the field each kernel wants, with a wrapper before 6.3.
 */
#if KERNEL_VERSION(6, 11, 0) <= LINUX_VERSION_CODE
#define LRING_PLATFORM_REMOVE(fn)	.remove = fn
#elif KERNEL_VERSION(6, 3, 0) <= LINUX_VERSION_CODE
#define LRING_PLATFORM_REMOVE(fn)	.remove_new = fn
#else
#define LRING_PLATFORM_REMOVE(fn)	.remove = fn##_int
#endif
#if KERNEL_VERSION(6, 3, 0) > LINUX_VERSION_CODE
#define LRING_PLATFORM_REMOVE_WRAPPER(fn)				\
	static int fn##_int(struct platform_device *pdev)		\
	{								\
		fn(pdev);						\
		return 0;						\
	}
#else
#define LRING_PLATFORM_REMOVE_WRAPPER(fn)
#endif

#endif /* _LRING_COMPAT_H */
