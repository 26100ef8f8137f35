// SPDX-License-Identifier: GPL-2.0
/*
 * lring_pool.c - a ring's memory: the shared control page and rings, the
 * buffer pool (its buffers come from lring_alloc.c), and how all of it is
 * mapped into the application with one mmap().
 */
#include <linux/dma-mapping.h>
#include <linux/error-injection.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "lring_compat.h"
#include "lring_internal.h"

/* tutorial: contig-limit */
/* Largest physically contiguous allocation the page allocator makes. */
#define LRING_MAX_CONTIG_SIZE	(PAGE_SIZE << LRING_MAX_PAGE_ORDER)
/* tutorial-end: contig-limit */

/* Pages of a buffer one fault maps: 1 MiB of 4 KiB pages. */
#define LRING_MAP_AHEAD		256

static int lring_ring_size(u32 requested, u32 buf_count, u32 *out)
{
	if (!requested) {
		*out = roundup_pow_of_two(buf_count);
		return 0;
	}
	if (!is_power_of_2(requested) || requested < buf_count ||
	    requested > LRING_MAX_RING_ENTRIES)
		return -EINVAL;
	*out = requested;
	return 0;
}

/* Checks a configuration and computes where everything goes. */
static int lring_layout_init(struct device *dev,
			     const struct lring_config *cfg,
			     struct lring_layout *l)
{
	const struct lring_allocator *alloc = lring_allocator_get(cfg->backend);
	u64 pool_pages, user_len;
	int i;

	if ((cfg->flags & ~(LRING_CONFIG_TX | LRING_CONFIG_ONE_BLOCK)) ||
	    cfg->resv0 || !alloc)
		return -EINVAL;
	/* One block is one streaming allocation: cached, synced by slices. */
	if ((cfg->flags & LRING_CONFIG_ONE_BLOCK) &&
	    cfg->backend != LRING_BACKEND_STREAMING)
		return -EINVAL;
	for (i = 0; i < ARRAY_SIZE(cfg->resv); i++)
		if (cfg->resv[i])
			return -EINVAL;
	if (!cfg->buf_count || cfg->buf_count > LRING_MAX_BUFFERS ||
	    !cfg->buf_size || cfg->buf_size > LRING_MAX_BUF_SIZE)
		return -EINVAL;

	if (alloc->contiguous && cfg->buf_size > LRING_MAX_CONTIG_SIZE) {
		dev_notice_ratelimited(dev, "buffer size %u above the %s backend's limit %lu\n",
				       cfg->buf_size, alloc->name,
				       LRING_MAX_CONTIG_SIZE);
		return -EINVAL;
	}
	/*
	 * A memory-encrypted machine's DMA memory is shared (decrypted) pages,
	 * which only dma_mmap_*() map correctly, each into a mapping of its
	 * own; the application's own memory is bounced instead.
	 */
	if (lring_kernel_allocates(alloc) && lring_mem_encrypted()) {
		dev_notice_ratelimited(dev, "memory encryption: only the user backend can be mapped\n");
		return -EOPNOTSUPP;
	}

	/*
	 * Every backend but user memory gives a buffer one DMA segment (an
	 * IOMMU maps even a noncontiguous one as one range): the device must
	 * be able to take it whole. DMA-API debug warns otherwise.
	 */
	if (lring_kernel_allocates(alloc) &&
	    cfg->buf_size > dma_get_max_seg_size(dev)) {
		dev_notice_ratelimited(dev, "buffer size %u above the device's DMA segment limit %u (%s backend)\n",
				       cfg->buf_size, dma_get_max_seg_size(dev), alloc->name);
		return -EINVAL;
	}

	memset(l, 0, sizeof(*l));
	l->buf_count = cfg->buf_count;
	l->buf_size = cfg->buf_size;
	l->buf_stride = PAGE_ALIGN(cfg->buf_size);
	if (lring_ring_size(cfg->cq_entries, cfg->buf_count, &l->cq_entries) ||
	    lring_ring_size(cfg->fq_entries, cfg->buf_count, &l->fq_entries))
		return -EINVAL;
	pool_pages = (u64)l->buf_count * (l->buf_stride >> PAGE_SHIFT);

	if (alloc->user_memory) {
		/* Buffers tile the application's region exactly. */
		if (!PAGE_ALIGNED(cfg->user_addr) || l->buf_stride != cfg->buf_size ||
		    check_mul_overflow((u64)cfg->buf_count, (u64)cfg->buf_size, &user_len) ||
		    cfg->user_len != user_len ||
		    cfg->user_addr + user_len < cfg->user_addr ||
		    cfg->user_addr + user_len > TASK_SIZE)
			return -EINVAL;
	} else if (cfg->user_addr || cfg->user_len) {
		return -EINVAL;
	}
	if (alloc->imported != !!cfg->dmabuf_fds || cfg->dmabuf_fds >= TASK_SIZE)
		return -EINVAL;

	l->config_flags = cfg->flags;
	l->cqe_size = LRING_CQE_STRIDE;
	l->fqe_size = cfg->flags & LRING_CONFIG_TX ? sizeof(struct lring_sqe) :
						      sizeof(struct lring_fqe);
	l->ctrl_off = 0;
	l->user_off = PAGE_SIZE;
	l->cq_producer_off = offsetof(struct lring_ctrl, cq_producer);
	l->fq_consumer_off = offsetof(struct lring_ctrl, fq_consumer);
	l->flags_off = offsetof(struct lring_ctrl, flags);
	l->counters_off = offsetof(struct lring_ctrl, counters);
	l->cq_consumer_off = l->user_off +
			     offsetof(struct lring_user, cq_consumer);
	l->fq_producer_off = l->user_off +
			     offsetof(struct lring_user, fq_producer);
	l->cq_entries_off = 2 * PAGE_SIZE;
	l->fq_entries_off = l->cq_entries_off +
			    PAGE_ALIGN((u64)l->cq_entries * l->cqe_size);
	l->pool_off = l->fq_entries_off +
		      PAGE_ALIGN((u64)l->fq_entries * l->fqe_size);
	l->pool_size = pool_pages << PAGE_SHIFT;
	l->mmap_size = l->pool_off + l->pool_size;
	/* The device walks the block as one segment. */
	if ((cfg->flags & LRING_CONFIG_ONE_BLOCK) &&
	    l->pool_size > dma_get_max_seg_size(dev)) {
		dev_notice_ratelimited(dev, "a pool of %llu bytes in one block: above the device's DMA segment limit %u\n",
				       l->pool_size, dma_get_max_seg_size(dev));
		return -EINVAL;
	}
	return 0;
}

/*
 * Kernel-allocated pools of all rings together may take at most 3/4 of RAM,
 * so that no number of rings can starve the machine. (User memory is the
 * application's own, limited by RLIMIT_MEMLOCK instead.)
 */
static atomic_long_t lring_kernel_pages = ATOMIC_LONG_INIT(0);

/* Numbers every pool, for what outlives it (an exported buffer). */
static atomic64_t lring_pool_serial = ATOMIC64_INIT(0);

static int lring_pool_charge(struct lring_pool *pool)
{
	/* The DMA API allocates each buffer (or the one block) as a power-of-two block. */
	unsigned long pages = pool->layout.config_flags & LRING_CONFIG_ONE_BLOCK ?
			      1UL << get_order(pool->layout.pool_size) :
			      (unsigned long)pool->layout.buf_count <<
			      get_order(pool->layout.buf_stride);
	unsigned long limit = totalram_pages() - totalram_pages() / 4;

	if (atomic_long_add_return(pages, &lring_kernel_pages) > limit) {
		atomic_long_sub(pages, &lring_kernel_pages);
		dev_notice_ratelimited(pool->dev, "pools would take more than 3/4 of RAM\n");
		return -ENOMEM;
	}
	pool->charged_pages = pages;
	return 0;
}

/**
 * lring_pool_kernel_pages() - pages the kernel-allocated pools of all rings
 * take right now
 *
 * Back to 0 whenever no ring has a pool: tests read it (debugfs) to prove
 * that nothing a ring allocated outlives it.
 *
 * Return: the number of pages charged.
 */
unsigned long lring_pool_kernel_pages(void)
{
	return atomic_long_read(&lring_kernel_pages);
}

static void lring_pool_uncharge(struct lring_pool *pool)
{
	atomic_long_sub(pool->charged_pages, &lring_kernel_pages);
	pool->charged_pages = 0;
}

static void lring_pool_free_block(struct lring_pool *pool)
{
	if (!pool->block)
		return;
	dma_free_pages(pool->dev, pool->layout.pool_size, pool->block,
		       pool->block_dma, pool->dir);
	pool->block = NULL;
}

/*
 * LRING_CONFIG_ONE_BLOCK: the whole pool from one allocation, for the
 * device and zeroed, which the backend then slices (lring_alloc.c). Its
 * own function so that fault injection can fail it.
 */
static noinline int lring_pool_alloc_block(struct lring_pool *pool)
{
	pool->block = dma_alloc_pages(pool->dev, pool->layout.pool_size,
				      &pool->block_dma, pool->dir,
				      LRING_GFP_POOL);
	if (!pool->block)
		return -ENOMEM;
	if (dma_mapping_error(pool->dev, pool->block_dma)) {
		lring_pool_free_block(pool);
		return -ENOMEM;
	}
	return 0;
}
ALLOW_ERROR_INJECTION(lring_pool_alloc_block, ERRNO);

static void lring_pool_free_bufs(struct lring_pool *pool, u32 count)
{
	/* 65536 buffers take seconds on a debug kernel: let others run. */
	while (count--) {
		pool->allocator->free(pool, &pool->bufs[count]);
		cond_resched();
	}
	lring_pool_free_block(pool);
}

/*
 * Pinned user memory counts against the application's RLIMIT_MEMLOCK, like
 * mlock(); the mm is kept so that it can be given back at release, which
 * may run after the process has gone.
 */
static int lring_pool_account(struct lring_pool *pool)
{
	int ret;

	ret = account_locked_vm(current->mm, pool->layout.pool_size >> PAGE_SHIFT,
				true);
	if (ret)
		return ret;
	pool->mm = current->mm;
	mmgrab(pool->mm);
	return 0;
}

static void lring_pool_unaccount(struct lring_pool *pool)
{
	if (!pool->mm)
		return;
	account_locked_vm(pool->mm, pool->layout.pool_size >> PAGE_SHIFT, false);
	mmdrop(pool->mm);
	pool->mm = NULL;
}

/* Allocates every buffer; the device must cope with its segments. */
static int lring_pool_alloc_bufs(struct lring_pool *pool, u32 max_segments)
{
	u32 i;
	int ret;

	if (pool->layout.config_flags & LRING_CONFIG_ONE_BLOCK) {
		ret = lring_pool_alloc_block(pool);
		if (ret) {
			dev_notice_ratelimited(pool->dev, "no block of %llu bytes for the pool\n",
					       pool->layout.pool_size);
			return ret;
		}
	}
	for (i = 0; i < pool->layout.buf_count; i++) {
		struct lring_buffer *buf = &pool->bufs[i];

		buf->id = i;
		buf->size = pool->layout.buf_size;
		buf->len = buf->size;
		buf->state = LRING_BUF_FREE;
		ret = pool->allocator->alloc(pool, buf);
		if (ret) {
			dev_notice_ratelimited(pool->dev, "%s buffer %u of %u (%u bytes): %d\n",
					       pool->allocator->name, i,
					       pool->layout.buf_count,
					       pool->layout.buf_stride, ret);
			goto err_free;
		}
		pool->segs_per_buf = max(pool->segs_per_buf, buf->sgt->nents);
		if (buf->sgt->nents > max_segments) {
			dev_notice_ratelimited(pool->dev, "buffer %u needs %u DMA segments, the device takes %u\n",
					       i, buf->sgt->nents, max_segments);
			ret = -EINVAL;
			i++;
			goto err_free;
		}
		cond_resched();
	}
	return 0;

err_free:
	lring_pool_free_bufs(pool, i);
	return ret;
}

/*
 * A page mapped as a page gains a reference from each mapping and each pin,
 * which only a page with a count of its own can take (vm_insert_page()
 * refuses the others): the backend vouches for how its pages are freed,
 * and every page is checked.
 */
static bool lring_pool_pages_counted(struct lring_pool *pool)
{
	const struct lring_layout *l = &pool->layout;
	u32 i, off;

	if (!pool->allocator->pages_counted ||
	    !pool->allocator->pages_counted(pool))
		return false;
	for (i = 0; i < l->buf_count; i++)
		for (off = 0; off < l->buf_stride; off += PAGE_SIZE)
			if (!page_count(pool->allocator->page(pool, &pool->bufs[i], off)))
				return false;
	return true;
}

/**
 * lring_pool_create() - allocate a pool and its shared rings
 * @dev:	the device that will DMA into the buffers
 * @cfg:	what userspace asked for (validated here)
 * @max_segments: DMA segments the device can fill per buffer (at least 1)
 *
 * Every buffer starts zeroed (or, for user memory, as the application left
 * it), in LRING_BUF_FREE state on a receiving ring, on the completion ring
 * in LRING_BUF_USER state on a sending one.
 *
 * Return: the pool, or ERR_PTR(-EINVAL) for a bad configuration,
 * ERR_PTR(-ENOMEM) when the memory, DMA mappings or RLIMIT_MEMLOCK do not
 * allow it, ERR_PTR(-EFAULT) for user memory that cannot be pinned.
 */
struct lring_pool *lring_pool_create(struct device *dev,
				     const struct lring_config *cfg,
				     u32 max_segments)
{
	struct lring_pool *pool;
	int ret;

	pool = kzalloc(sizeof(*pool), GFP_KERNEL);
	if (!pool)
		return ERR_PTR(-ENOMEM);

	ret = lring_layout_init(dev, cfg, &pool->layout);
	if (ret)
		goto err_free_pool;
	pool->dev = get_device(dev);
	pool->dir = cfg->flags & LRING_CONFIG_TX ? DMA_TO_DEVICE : DMA_FROM_DEVICE;
	pool->backend_id = cfg->backend;
	pool->allocator = lring_allocator_get(cfg->backend);
	pool->user_addr = pool->allocator->imported ? cfg->dmabuf_fds :
						      cfg->user_addr;

	pool->shared_size = pool->layout.pool_off;
	/* Zeroed: nothing stale reaches userspace; quiet: failure is ENOMEM. */
	pool->shared = __vmalloc(pool->shared_size,
				 GFP_KERNEL_ACCOUNT | __GFP_ZERO | __GFP_NOWARN);
	if (!pool->shared) {
		ret = -ENOMEM;
		goto err_put_dev;
	}
	pool->ctrl = pool->shared;
	pool->user = pool->shared + pool->layout.user_off;
	pool->cq_entries = pool->shared + pool->layout.cq_entries_off;
	pool->fq_entries = pool->shared + pool->layout.fq_entries_off;
	pool->sink_page = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
	if (!pool->sink_page) {
		ret = -ENOMEM;
		goto err_free_shared;
	}

	pool->bufs = kvcalloc(pool->layout.buf_count, sizeof(*pool->bufs),
			      GFP_KERNEL_ACCOUNT);
	if (!pool->bufs) {
		ret = -ENOMEM;
		goto err_free_shared;
	}
	if (pool->allocator->user_memory)
		ret = lring_pool_account(pool);
	else if (lring_kernel_allocates(pool->allocator))
		ret = lring_pool_charge(pool);
	if (ret)
		goto err_free_bufs;
	ret = lring_pool_alloc_bufs(pool, max_segments);
	if (ret)
		goto err_unaccount;
	pool->dma_live = true;
	pool->serial = atomic64_inc_return(&lring_pool_serial);
	pool->map_pages = lring_pool_pages_counted(pool);
	if (pool->map_pages)
		pool->layout.map_flags |= LRING_MAP_PAGES;

	pool->cq_prod = cfg->index_base;
	pool->cq_cons_cached = cfg->index_base;
	pool->fq_cons = cfg->index_base;
	pool->ctrl->magic = LRING_MAGIC;
	pool->ctrl->abi_version = LRING_ABI_VERSION;
	pool->ctrl->ctrl_size = sizeof(struct lring_ctrl);
	pool->ctrl->page_size = PAGE_SIZE;
	pool->ctrl->layout = pool->layout;
	pool->ctrl->cq_producer = cfg->index_base;
	pool->ctrl->fq_consumer = cfg->index_base;
	pool->user->cq_consumer = cfg->index_base;
	pool->user->fq_producer = cfg->index_base;
	if (lring_sends(pool))
		lring_ring_hand_out(pool);
	return pool;

err_unaccount:
	lring_pool_unaccount(pool);
	lring_pool_uncharge(pool);
err_free_bufs:
	kvfree(pool->bufs);
err_free_shared:
	if (pool->sink_page)
		__free_page(pool->sink_page);
	vfree(pool->shared);
err_put_dev:
	put_device(pool->dev);
err_free_pool:
	kfree(pool);
	return ERR_PTR(ret);
}
ALLOW_ERROR_INJECTION(lring_pool_create, ERRNO);

/**
 * lring_pool_release_dma() - free the buffers early, when the device goes
 * @pool: a pool whose device no longer writes any buffer
 *
 * The caller has already revoked every user mapping of the buffers. The
 * control page and rings stay until lring_pool_destroy().
 */
void lring_pool_release_dma(struct lring_pool *pool)
{
	if (!pool->dma_live)
		return;
	lring_pool_free_bufs(pool, pool->layout.buf_count);
	lring_pool_unaccount(pool);
	lring_pool_uncharge(pool);
	pool->dma_live = false;
}

/**
 * lring_pool_destroy() - free everything a pool holds
 * @pool: a pool no VMA maps and no device writes
 */
void lring_pool_destroy(struct lring_pool *pool)
{
	lring_pool_release_dma(pool);
	kvfree(pool->bufs);
	__free_page(pool->sink_page);
	vfree(pool->shared);
	put_device(pool->dev);
	kfree(pool);
}

/*
 * The parts of the mapping userspace writes: its indices, its fill ring
 * and, on a sending ring, the buffers.
 */
static bool lring_offset_writable(const struct lring_pool *pool, u64 off)
{
	const struct lring_layout *l = &pool->layout;

	if (off >= l->pool_off)
		return lring_sends(pool);
	return (off >= l->user_off && off < l->user_off + PAGE_SIZE) ||
	       off >= l->fq_entries_off;
}

/* tutorial: pfn-mkwrite */
static vm_fault_t lring_vm_pfn_mkwrite(struct vm_fault *vmf)
{
	struct lring_pool *pool = vmf->vma->vm_private_data;

	/*
	 * A write to a page mapped read-only: the writable parts only get
	 * here after an mprotect() round trip; refuse the rest.
	 */
	return lring_offset_writable(pool, (u64)vmf->pgoff << PAGE_SHIFT) ?
	       0 : VM_FAULT_SIGBUS;
}
/* tutorial-end: pfn-mkwrite */

/*
 * A write to a pool mapped as pages: write-notify keeps every page mapped
 * read-only until its first write, which lands here.
 */
/* tutorial: page-mkwrite */
static vm_fault_t lring_vm_page_mkwrite(struct vm_fault *vmf)
{
	struct lring_pool *pool = vmf->vma->vm_private_data;

	if (!lring_offset_writable(pool, (u64)vmf->pgoff << PAGE_SHIFT))
		return VM_FAULT_SIGBUS;
	/* The page has no file to lock it against: the core wants it locked. */
	lock_page(vmf->page);
	return VM_FAULT_LOCKED;
}
/* tutorial-end: page-mkwrite */

/* The page at @off of the pool's buffers, as its backend finds it. */
static struct page *lring_pool_page(struct lring_pool *pool, u64 off)
{
	u32 id = div_u64(off, pool->layout.buf_stride);
	struct lring_buffer *buf = &pool->bufs[id];

	return pool->allocator->page(pool, buf,
				     off - (u64)id * pool->layout.buf_stride);
}

/*
 * A pool mapped as pages takes a reference per mapped page, with the
 * mapping's own protection: read-only (write-notify) until a write goes
 * through lring_vm_page_mkwrite(). Raw page frames are mapped with the
 * protection of their part.
 */
/* tutorial: vm-insert */
static vm_fault_t lring_vm_insert(struct vm_area_struct *vma,
				  struct lring_pool *pool, unsigned long addr,
				  struct page *page, pgprot_t prot)
{
	int err;

	if (!pool->map_pages)
		return vmf_insert_pfn_prot(vma, addr, page_to_pfn(page), prot);
	err = vm_insert_page(vma, addr, page);
	/* -EBUSY: another thread's fault mapped it first. */
	if (!err || err == -EBUSY)
		return VM_FAULT_NOPAGE;
	return err == -ENOMEM ? VM_FAULT_OOM : VM_FAULT_SIGBUS;
}
/* tutorial-end: vm-insert */

/* Readers: faults on a pool's buffers; writer: lring_pool_revoke(). */
DEFINE_STATIC_SRCU(lring_map_srcu);

/* tutorial: vm-fault */
/*
 * A consumer reads a block from its start: with the page that faulted, map
 * the rest of its buffer (at most LRING_MAP_AHEAD pages), as TTM's fault
 * handler maps ahead. The first pass over a pool of 1 MiB buffers then
 * costs one fault per buffer, not 256, and a consumer starting a stream
 * does not fall behind its device while it faults. A page that cannot be
 * mapped ahead faults later by itself.
 */
static vm_fault_t lring_vm_fault_buffer(struct vm_fault *vmf,
					struct lring_pool *pool, u64 pool_off,
					pgprot_t prot)
{
	struct vm_area_struct *vma = vmf->vma;
	unsigned long addr = vmf->address & PAGE_MASK;
	u32 in_buf, pages, i;
	vm_fault_t ret;

	/* Imported memory is its exporter's to map: through the dma-buf. */
	if (!pool->allocator->page)
		return VM_FAULT_SIGBUS;
	div_u64_rem(pool_off, pool->layout.buf_stride, &in_buf);
	pages = min3((pool->layout.buf_stride - in_buf) >> PAGE_SHIFT,
		     (u32)LRING_MAP_AHEAD, (u32)((vma->vm_end - addr) >> PAGE_SHIFT));
	ret = lring_vm_insert(vma, pool, addr, lring_pool_page(pool, pool_off), prot);
	for (i = 1; i < pages && ret == VM_FAULT_NOPAGE; i++)
		if (lring_vm_insert(vma, pool, addr + i * PAGE_SIZE,
				    lring_pool_page(pool, pool_off + i * PAGE_SIZE),
				    prot) != VM_FAULT_NOPAGE)
			break;
	return ret;
}

/*
 * Pages are inserted when first touched, each with the protection of its
 * part. Nothing is mapped in ->mmap(), so ->mmap() needs no lock that an
 * ioctl copying from userspace could hold, and a buffer revoked because its
 * device went away can never be mapped again: it reads as zeros until
 * munmap, so a consumer in the middle of a block does not crash.
 */
static vm_fault_t lring_vm_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct lring_pool *pool = vma->vm_private_data;
	const struct lring_layout *l = &pool->layout;
	u64 off = (u64)vmf->pgoff << PAGE_SHIFT;
	bool writable = lring_offset_writable(pool, off);
	unsigned long vm_flags = vma->vm_flags | VM_READ;
	vm_fault_t ret;
	pgprot_t prot;
	int idx;

	if (off >= l->mmap_size)
		return VM_FAULT_SIGBUS;
	if ((vmf->flags & FAULT_FLAG_WRITE) && !writable)
		return VM_FAULT_SIGBUS;
	/*
	 * A PROT_WRITE-only mapping is accessible, so it faults here, but
	 * without VM_READ its read-only parts would get PAGE_NONE: the access
	 * would fault again forever (a get_user() into it never returns on a
	 * kernel without NUMA balancing). Writable implies readable on every
	 * architecture lring runs on, so read-only parts map readable.
	 */
	if (!writable)
		vm_flags &= ~VM_WRITE;
	prot = vm_get_page_prot(vm_flags);
	if (off < pool->shared_size)
		return lring_vm_insert(vma, pool, vmf->address & PAGE_MASK,
				       vmalloc_to_page(pool->shared + off), prot);

	idx = srcu_read_lock(&lring_map_srcu);
	/*
	 * Not the zero page, which is everyone's and never writable: a sender
	 * in the middle of a block writes on into the pool's own sink page.
	 */
	if (READ_ONCE(pool->revoked))
		ret = lring_vm_insert(vma, pool, vmf->address & PAGE_MASK,
				      pool->sink_page, prot);
	else
		ret = lring_vm_fault_buffer(vmf, pool, off - l->pool_off, prot);
	srcu_read_unlock(&lring_map_srcu, idx);
	return ret;
}
/* tutorial-end: vm-fault */

static void lring_vm_open(struct vm_area_struct *vma)
{
	struct lring_pool *pool = vma->vm_private_data;

	atomic_inc(&pool->map_count);
}

static void lring_vm_close(struct vm_area_struct *vma)
{
	struct lring_pool *pool = vma->vm_private_data;

	atomic_dec(&pool->map_count);
}

/*
 * The VMA pins the file and the file pins the pool (it is destroyed only at
 * release), so the VMA needs no reference of its own: map_count only tells
 * LRING_IOC_CONFIGURE that the pool is still in use.
 */
static const struct vm_operations_struct lring_vm_ops = {
	.open = lring_vm_open,
	.close = lring_vm_close,
	.fault = lring_vm_fault,
	.pfn_mkwrite = lring_vm_pfn_mkwrite,
	.page_mkwrite = lring_vm_page_mkwrite,
};

/**
 * lring_pool_mmap() - set up @vma to map control page, rings and buffers
 * @pool:	a pool with live buffers
 * @vma:	a shared mapping of exactly layout.mmap_size bytes at offset 0
 *
 * Pages are inserted as they are touched, each with the protection of its
 * part: only the user page and the fill ring are writable. Writes to the
 * rest fault with SIGBUS, even after mprotect().
 *
 * Return: 0, -EINVAL for a bad offset, size or MAP_PRIVATE, -EPERM for
 * PROT_EXEC, or -ENODEV when the buffers are gone.
 */
/* tutorial: pool-mmap */
int lring_pool_mmap(struct lring_pool *pool, struct vm_area_struct *vma)
{
	const struct lring_layout *l = &pool->layout;

	if (vma->vm_pgoff || vma->vm_end - vma->vm_start != l->mmap_size)
		return -EINVAL;
	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	if (vma->vm_flags & VM_EXEC)
		return -EPERM;
	if (!pool->dma_live || pool->revoked)
		return -ENODEV;

	/*
	 * Pages where every page has a count of its own (LRING_MAP_PAGES),
	 * raw page frames elsewhere; never expanded by mremap, left out of
	 * core dumps, never executable. Fork shares it.
	 */
	vm_flags_clear(vma, VM_MAYEXEC);
	vm_flags_set(vma, (pool->map_pages ? VM_MIXEDMAP : VM_PFNMAP | VM_IO) |
		     VM_DONTEXPAND | VM_DONTDUMP);
	vma->vm_ops = &lring_vm_ops;
	vma->vm_private_data = pool;
	lring_vm_open(vma);
	return 0;
}
ALLOW_ERROR_INJECTION(lring_pool_mmap, ERRNO);
/* tutorial-end: pool-mmap */

/**
 * lring_pool_revoke() - take the buffers away from every mapping
 * @pool:	the pool of a device that is going away
 * @mapping:	the address space of the ring's file, or NULL
 *
 * After this no mapping reaches the buffers: pages already mapped are
 * zapped, and later faults map the zeroed sink page. The caller may then free the
 * buffers.
 */
void lring_pool_revoke(struct lring_pool *pool, struct address_space *mapping)
{
	WRITE_ONCE(pool->revoked, true);
	/* Every fault that saw the buffers has inserted its page... */
	synchronize_srcu(&lring_map_srcu);
	/* ...so zapping now leaves none behind. */
	if (mapping)
		unmap_mapping_range(mapping, pool->layout.pool_off,
				    pool->layout.pool_size, 1);
}
