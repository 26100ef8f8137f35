/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lring_internal.h - the ring core's private structures. Device drivers
 * include lring_driver.h only.
 */
#ifndef _LRING_INTERNAL_H
#define _LRING_INTERNAL_H

#include <linux/cdev.h>
#include <linux/device.h>
#include <linux/gfp.h>
#include <linux/kcsan-checks.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/lring.h>

#include "lring_driver.h"

/*
 * Buffer memory is charged to the memory cgroup of the process that
 * configures the pool, like the rest of its memory (CMA excepted, which no
 * cgroup owns); past its limit the pool fails with ENOMEM, quietly, and
 * never calls the OOM killer on the caller's behalf.
 */
/* What this module offers userspace (uapi/linux/lring.h, LRING_FEAT_*). */
#define LRING_FEATURES_NOW	(LRING_FEATURES_VER0 | LRING_FEAT_SIZED_ARGS | \
				 LRING_FEAT_TX | LRING_FEAT_MAP_PAGES | \
				 LRING_FEAT_ONE_BLOCK | \
				 (IS_ENABLED(CONFIG_DMA_SHARED_BUFFER) ? \
				  LRING_FEAT_EXPORT | LRING_FEAT_DMABUF_POOL : 0))
/*
 * tests/pkg/abi-compat.sh builds the module twice more, to prove that a
 * liblring copes with modules of other versions: as a later version would
 * look (a larger completion entry, a feature bit nobody knows yet), and as
 * an earlier one without LRING_IOC_WAIT.
 */
#if defined(LRING_ABI_TEST_NEWER)
#define LRING_FEATURES		(LRING_FEATURES_NOW | (1ULL << 62))
#define LRING_CQE_STRIDE	(sizeof(struct lring_cqe) + 16)
#elif defined(LRING_ABI_TEST_OLDER)
#define LRING_FEATURES		(LRING_FEATURES_VER0 & ~LRING_FEAT_WAIT)
#define LRING_CQE_STRIDE	sizeof(struct lring_cqe)
#else
#define LRING_FEATURES		LRING_FEATURES_NOW
#define LRING_CQE_STRIDE	sizeof(struct lring_cqe)
#endif

#define LRING_GFP_POOL	(GFP_KERNEL_ACCOUNT | __GFP_NOWARN | __GFP_RETRY_MAYFAIL)

/* Ownership of a buffer; kept here, never in memory userspace can write. */
enum lring_buf_state {
	LRING_BUF_FREE,		/* kernel holds it, nobody writes it */
	LRING_BUF_DEVICE,	/* queued to the device, which may write it */
	LRING_BUF_USER,		/* the application's: published, or (TX) free */
};

struct lring_pool;

/**
 * struct lring_allocator - an allocator for the buffer pool
 * @name:	as shown in sysfs
 * @contiguous:	each buffer is one physically contiguous allocation
 * @user_memory: buffers are the application's pinned pages
 * @imported:	buffers are the application's dma-bufs, which the kernel
 *		neither maps for the CPU nor charges: their exporter does
 * @alloc:	allocate and zero every buffer, fill dma_addr/cpu_addr/sgt
 * @free:	undo @alloc for buffers [0, @count)
 * @sync_for_cpu: make @len bytes the device wrote visible to the CPU
 * @sync_for_device: give the buffer to the device: the bytes it may write,
 *		or on a sending ring the buf->len bytes it will read
 * @page:	the page at byte @offset of the buffer, for the fault handler:
 *		found directly, not by walking the buffer's table; NULL for a
 *		backend whose buffers the ring's mapping does not reach
 * @pages_counted: optional: every page of this pool's buffers was
 *		allocated with a reference count of its own, which the DMA
 *		API drops, not forces, when it frees it; such a pool is
 *		mapped as pages (LRING_MAP_PAGES)
 */
struct lring_allocator {
	const char *name;
	bool contiguous;
	bool user_memory;
	bool imported;
	int (*alloc)(struct lring_pool *pool, struct lring_buffer *buf);
	void (*free)(struct lring_pool *pool, struct lring_buffer *buf);
	void (*sync_for_cpu)(struct lring_pool *pool, struct lring_buffer *buf,
			     u32 len);
	void (*sync_for_device)(struct lring_pool *pool,
				struct lring_buffer *buf);
	struct page *(*page)(struct lring_pool *pool, struct lring_buffer *buf,
			     u32 offset);
	bool (*pages_counted)(struct lring_pool *pool);
};

/**
 * struct lring_pool - one configuration of a ring: buffers and shared rings
 * @dev:	the device that DMAs into the buffers
 * @dir:	DMA_FROM_DEVICE for a receiving ring, DMA_TO_DEVICE for a
 *		sending one (LRING_CONFIG_TX)
 * @allocator:	allocates the buffers
 * @backend_id:	enum lring_backend value
 * @layout:	the mapping's layout, as published in the control page
 * @shared:	vmalloc'ed control page, user page and both rings
 * @shared_size: bytes at @shared
 * @ctrl:	control page (read-only for userspace)
 * @user:	user page (written by userspace)
 * @cq_entries: completion ring entries, layout.cqe_size bytes apart
 * @fq_entries: fill ring entries (struct lring_fqe, or struct lring_sqe
 *		on a sending ring), layout.fqe_size bytes apart
 * @user_addr:	start of the application's memory (user backend), or of
 *		its array of dma-buf fds (dma-buf backend)
 * @mm:		whose RLIMIT_MEMLOCK the pinned pages count against, or NULL
 * @charged_pages: pages counted against the limit of all kernel pools
 * @segs_per_buf: the most DMA segments any buffer needs
 * @bufs:	the buffers, @layout.buf_count of them
 * @block:	LRING_CONFIG_ONE_BLOCK: the pool's one allocation, of which
 *		each buffer is a slice; else NULL
 * @block_dma:	its bus address
 * @dma_live:	buffers allocated; cleared when the device goes away
 * @revoked:	mappings no longer reach the buffers (device going away)
 * @map_pages:	the buffers are mapped as pages, which pinning reaches
 *		(LRING_MAP_PAGES), not as raw page frames
 * @serial:	this pool among all pools since the module was loaded: an
 *		exported buffer knows its pool by it, not by a pointer that a
 *		later pool may reuse
 * @sink_page:	what a revoked pool's buffers map: zeros, and where a
 *		sender's writes go
 * @map_count:	VMAs that map this pool
 * @cq_prod:	the kernel's completion producer index (authoritative)
 * @cq_cons_cached: the completion consumer index as last read and found
 *		possible; re-read only when it shows the ring full
 * @fq_cons:	the kernel's fill consumer index (authoritative)
 * @seq:	sequence number of the next block
 * @gap:	blocks dropped since the last published completion
 * @nr_device:	buffers in LRING_BUF_DEVICE state
 */
struct lring_pool {
	struct device *dev;
	enum dma_data_direction dir;
	const struct lring_allocator *allocator;
	u32 backend_id;
	struct lring_layout layout;

	void *shared;
	size_t shared_size;
	struct lring_ctrl *ctrl;
	struct lring_user *user;
	void *cq_entries;
	void *fq_entries;

	unsigned long user_addr;
	struct mm_struct *mm;
	unsigned long charged_pages;
	u32 segs_per_buf;
	struct lring_buffer *bufs;
	struct page *block;
	dma_addr_t block_dma;
	bool dma_live;
	bool revoked;
	bool map_pages;
	u64 serial;
	struct page *sink_page;
	atomic_t map_count;

	u32 cq_prod;
	u32 cq_cons_cached;
	u32 fq_cons;
	u64 seq;
	u32 gap;
	u32 nr_device;
};

/**
 * struct lring - one ring: a char device and the stream behind it
 * @dev:	the class device /dev/lringN; its refcount keeps this alive
 * @cdev:	the char device
 * @dma_dev:	the driver's device, used for every DMA call
 * @ops:	the driver's ops
 * @priv:	the driver's data
 * @lock:	serialises configuration, start/stop, eventfd setup,
 *		open/release and unregistration (process context); never
 *		held while touching user memory, so that a fault that never
 *		resolves cannot hold up the device's removal
 * @map_lock:	serialises ->mmap() against replacing the pool and against
 *		unregistration; taken under mmap_lock, so nothing may fault
 *		on user memory while holding it
 * @consume_lock: serialises the kernel-side consumers (read(), DQBUF), so
 *		that a completion one of them could not copy out can be put
 *		back; held while touching user memory, never taken by
 *		unregistration
 * @irq_lock:	protects the pool's indices, buffer states and counters,
 *		@evctx and @stops; taken from the device's interrupt handler
 * @pool:	current configuration, or NULL; changed under both locks
 * @mapping:	address space of the open file, to revoke mappings on removal
 * @evctx:	eventfd to signal, or NULL
 * @ev_batch:	signal when this many completions are waiting
 * @wq:		poll() and LRING_IOC_WAIT sleepers
 * @stops:	LRING_IOC_STOPs so far; a sleeper that sees it change wakes
 * @read_cqe:	the block read() is in the middle of copying
 * @read_off:	bytes of @read_cqe already copied; a block is pending while
 *		this is below read_cqe.len
 * @opened:	the ring allows one open file at a time
 * @running:	between a successful start and stop
 * @stopping:	stop in progress: finish completions, queue nothing more
 * @device_polling: the device looks at the fill ring by itself for now
 * @dead:	lring_unregister() was called
 * @debugfs:	/sys/kernel/debug/lring/lringN/, or an error pointer
 */
struct lring {
	struct device dev;
	struct cdev cdev;
	struct device *dma_dev;
	const struct lring_device_ops *ops;
	void *priv;

	struct mutex lock;
	struct mutex map_lock;
	struct mutex consume_lock;
	spinlock_t irq_lock;
	struct lring_pool *pool;
	struct address_space *mapping;
	struct eventfd_ctx *evctx;
	u32 ev_batch;
	wait_queue_head_t wq;
	u32 stops;
	struct lring_cqe read_cqe;
	u32 read_off;

	bool opened;
	bool running;
	bool stopping;
	bool device_polling;
	bool dead;
	struct dentry *debugfs;
};

/*
 * Counters live in the control page, read by userspace while they change:
 * each is written whole (irq_lock held), never torn by the compiler.
 */
static inline void lring_count_add(__u64 *counter, u32 n)
{
	/* Readers race by design (READ_ONCE, userspace); writers never do. */
	ASSERT_EXCLUSIVE_WRITER(*counter);
	WRITE_ONCE(*counter, *counter + n);
}

static inline void lring_count(__u64 *counter)
{
	lring_count_add(counter, 1);
}

/* A ring that sends: buffers come from the application full. */
static inline bool lring_sends(const struct lring_pool *pool)
{
	return pool->dir == DMA_TO_DEVICE;
}

/*
 * Memory the kernel allocates, as against the application's: the kernel
 * holds an address of every buffer (for read() and write()).
 */
static inline bool lring_kernel_allocates(const struct lring_allocator *alloc)
{
	return !alloc->user_memory && !alloc->imported;
}

/* lring_pool.c */
struct lring_pool *lring_pool_create(struct device *dev,
				     const struct lring_config *cfg,
				     u32 max_segments);
void lring_pool_destroy(struct lring_pool *pool);
void lring_pool_release_dma(struct lring_pool *pool);
int lring_pool_mmap(struct lring_pool *pool, struct vm_area_struct *vma);
void lring_pool_revoke(struct lring_pool *pool, struct address_space *mapping);
unsigned long lring_pool_kernel_pages(void);

/* lring_alloc.c */
const struct lring_allocator *lring_allocator_get(u32 id);
const char *lring_backend_name(u32 id);
extern bool lring_debug_skip_sync_for_cpu;

/* lring_ring.c */
int lring_ring_start(struct lring *ring);
void lring_ring_stop(struct lring *ring);
void lring_ring_kick(struct lring *ring);
int lring_ring_dequeue(struct lring *ring, struct lring_cqe *cqe, u32 *cons);
bool lring_ring_undo_dequeue(struct lring *ring, u32 cons);
int lring_ring_give_back(struct lring *ring, u32 id, u32 len);
u32 lring_ring_ready(struct lring_pool *pool);
void lring_ring_hand_out(struct lring_pool *pool);
void lring_ring_wake_all(struct lring *ring);

/* lring_dmabuf.c */
int lring_dmabuf_export(struct lring *ring, struct lring_export *arg);
int lring_dmabuf_attach_buf(struct lring_pool *pool, struct lring_buffer *buf);
void lring_dmabuf_detach_buf(struct lring_pool *pool, struct lring_buffer *buf);

/* lring_debugfs.c */
void lring_debugfs_add(struct lring *ring);
void lring_debugfs_remove(struct lring *ring);
void lring_debugfs_init(void);
void lring_debugfs_exit(void);

#endif /* _LRING_INTERNAL_H */
