/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR MIT) */
/*
 * lring: zero-copy streaming of device DMA buffers into userspace through
 * shared rings.
 *
 * One mmap() of /dev/lringN at offset 0 maps, in this order:
 *
 *   control page      read-only   struct lring_ctrl: ABI, layout, kernel-owned
 *                                 indices, flags and counters
 *   user page         read-write  struct lring_user: the indices the
 *                                 application owns
 *   completion ring   read-only   struct lring_cqe[cq_entries]
 *   fill ring         read-write  struct lring_fqe[fq_entries]
 *   buffer pool       read-only   buf_count buffers, buf_stride bytes apart
 *
 * Userspace must not hard-code this order or any size: every offset is in
 * struct lring_layout, found both in the control page and in the answer of
 * LRING_IOC_GET_INFO (which tells how large the mapping must be).
 *
 * Indices are free-running __u32 values; a ring's slot is index & (entries-1).
 * The producer of a ring writes its entry, then publishes the index with a
 * store-release; the consumer reads the index with a load-acquire before it
 * reads the entry, and publishes its own index with a store-release after it
 * has finished with the entry.
 *
 * Buffer ownership: a buffer published on the completion ring belongs to the
 * application until its id is written to the fill ring. The kernel validates
 * every id it reads back; bad ids are counted in rejected_ids, never used.
 *
 * A ring configured with LRING_CONFIG_TX runs the other way: the
 * application writes blocks into the pool (mapped read-write) and submits
 * them on the fill ring, which then holds struct lring_sqe {buf_id, len}
 * and is called the submission ring; the device reads each block, and the
 * buffer comes back on the completion ring once it has been sent. At
 * configure time every buffer is already on the completion ring, flagged
 * LRING_CQE_F_NOT_SENT with len 0: the completion ring is where the
 * application finds free buffers, first and always.
 */
#ifndef _UAPI_LINUX_LRING_H
#define _UAPI_LINUX_LRING_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define LRING_MAGIC		0x474e524cU	/* "LRNG" in memory order */
/*
 * How this interface grows without breaking the programs built against an
 * older one (as io_uring's feature bits and AF_XDP's sized structs do):
 *
 * - LRING_ABI_VERSION changes only with a change an older program cannot
 *   survive; userspace refuses any other value.
 * - A new capability gets an LRING_FEAT_* bit in lring_info.features; a
 *   program tests the bit before it relies on the capability, and ignores
 *   bits it does not know.
 * - Structs only grow at their end. In the mapping, struct lring_cqe is
 *   layout.cqe_size bytes apart and struct lring_ctrl is ctrl_size bytes:
 *   either may be larger than the program's struct, never smaller. An
 *   ioctl's argument size is part of its number: the kernel accepts any
 *   size from the first version's (LRING_*_SIZE_VER0) up, reads a shorter
 *   argument as if its missing tail were zero, refuses a longer one whose
 *   extra tail is not zero (E2BIG), and answers with the fields it knows,
 *   no more and no further than the size asked for: zero a longer struct
 *   before asking, and its fields this module does not know stay zero.
 * - struct lring_fqe never grows (the application writes it).
 */
#define LRING_ABI_VERSION	1

/* LRING_IOC_WAIT */
#define LRING_FEAT_WAIT		(1ULL << 0)
/* LRING_IOC_SET_EVENTFD, with a batch threshold */
#define LRING_FEAT_EVENTFD	(1ULL << 1)
/* the copying paths: read(), LRING_IOC_DQBUF and LRING_IOC_QBUF */
#define LRING_FEAT_COPY		(1ULL << 2)
/* LRING_BACKEND_USER and LRING_BACKEND_NONCONTIG pools */
#define LRING_FEAT_USER_POOL	(1ULL << 3)
#define LRING_FEAT_NONCONTIG	(1ULL << 4)
/* ioctl arguments of any size from LRING_*_SIZE_VER0 up (above) */
#define LRING_FEAT_SIZED_ARGS	(1ULL << 5)
/* LRING_CONFIG_TX: rings that send (struct lring_sqe, counters.cancelled) */
#define LRING_FEAT_TX		(1ULL << 6)
/* layout.map_flags: LRING_MAP_PAGES says where O_DIRECT and io_uring reach */
#define LRING_FEAT_MAP_PAGES	(1ULL << 7)
/* LRING_IOC_EXPORT_BUF: a buffer as a dma-buf */
#define LRING_FEAT_EXPORT	(1ULL << 8)
/* LRING_BACKEND_DMABUF: a pool of the application's dma-bufs */
#define LRING_FEAT_DMABUF_POOL	(1ULL << 9)
/* LRING_CONFIG_ONE_BLOCK: a streaming pool allocated as one block */
#define LRING_FEAT_ONE_BLOCK	(1ULL << 10)
/*
 * What a module of ABI version 1 that reports features == 0 has: the ones
 * it was released with, before this field existed.
 */
#define LRING_FEATURES_VER0	(LRING_FEAT_WAIT | LRING_FEAT_EVENTFD | \
				 LRING_FEAT_COPY | LRING_FEAT_USER_POOL | \
				 LRING_FEAT_NONCONTIG)

/* Largest buffer and ring sizes the kernel accepts. */
#define LRING_MAX_BUFFERS	65536U
#define LRING_MAX_RING_ENTRIES	(1U << 20)
#define LRING_MAX_BUF_SIZE	(1U << 31)

/**
 * struct lring_cqe - completion ring entry: one block the device filled
 * @buf_id:	index of the buffer in the pool, 0 .. buf_count - 1
 * @len:	bytes the device wrote, from the start of the buffer
 * @seq:	the block's sequence number: every block the device produced,
 *		delivered or dropped, takes the next number, starting at 0 at
 *		the first LRING_IOC_START after LRING_IOC_CONFIGURE
 * @timestamp_ns: CLOCK_MONOTONIC time at which the device completed the block
 * @flags:	LRING_CQE_F_*
 * @dropped:	number of blocks dropped immediately before this one (the gap
 *		in @seq); non-zero only with LRING_CQE_F_GAP
 */
struct lring_cqe {
	__u32 buf_id;
	__u32 len;
	__u64 seq;
	__u64 timestamp_ns;
	__u32 flags;
	__u32 dropped;
};

/* The device reported an error for this block; its data may be incomplete. */
#define LRING_CQE_F_ERROR	(1U << 0)
/* Blocks were dropped just before this one: see @dropped. */
#define LRING_CQE_F_GAP		(1U << 1)
/* The block did not fit the buffer and was cut at buf_size. */
#define LRING_CQE_F_TRUNCATED	(1U << 2)
/*
 * TX rings: the device did not read this buffer. @len is what the
 * application had submitted: 0 for a buffer handed out at configure time,
 * the block's length for one LRING_IOC_STOP took back before it was sent
 * (counted in cancelled). @seq is 0.
 */
#define LRING_CQE_F_NOT_SENT	(1U << 3)

/**
 * struct lring_fqe - fill ring entry: a buffer handed back to the kernel
 * @buf_id:	index of a buffer the application owns
 */
struct lring_fqe {
	__u32 buf_id;
};

/**
 * struct lring_sqe - submission ring entry of a TX ring: a block to send
 * @buf_id:	index of a buffer the application owns
 * @len:	bytes to send from the start of the buffer, 1 .. buf_size
 *
 * The fill ring of a ring configured with LRING_CONFIG_TX holds these
 * (layout.fqe_size says so). Blocks are sent in the order they are
 * submitted; an entry whose id the application does not own or whose
 * @len is out of range is counted in rejected_ids and skipped.
 */
struct lring_sqe {
	__u32 buf_id;
	__u32 len;
};

/**
 * struct lring_counters - event counters, maintained by the kernel
 * @produced:	blocks the device completed (delivered + dropped)
 * @delivered:	blocks published on the completion ring
 * @dropped:	blocks lost because no buffer was free or the completion
 *		ring was full; always produced - delivered
 * @irqs:	device completions and drops reported by the driver (one per
 *		interrupt for hardware that interrupts once per block)
 * @kicks:	LRING_IOC_KICK calls (syscalls made because of NEED_WAKEUP)
 * @waits:	LRING_IOC_WAIT calls
 * @eventfd_signals: signals sent to the registered eventfd
 * @returned:	valid buffer ids taken back from the fill ring
 * @rejected_ids: fill ring entries rejected: id out of range or buffer not
 *		owned by the application (double return, forged id)
 * @rejected_indices: times a ring index written by the application was
 *		impossible (further than the ring size from the kernel's) and
 *		was ignored
 * @need_wakeups: times the device ran dry and NEED_WAKEUP was raised
 * @device_errors: blocks the device flagged with an error
 * @cancelled:	TX rings: submitted blocks LRING_IOC_STOP took back unsent
 *
 * On a TX ring, @returned counts the blocks submitted and taken, @produced
 * and @delivered the blocks sent, and @dropped stays 0 (it counts only
 * completions an impossible consumer index left no room for): once the
 * ring is stopped, returned == delivered + cancelled + dropped.
 *
 * LRING_IOC_GET_COUNTERS copies all of them at one instant: in its copy,
 * produced == delivered + dropped always holds. The copy in the control
 * page changes field by field while the device streams; each field is
 * written whole (a 64-bit reader never sees a torn value, a 32-bit one may
 * while the counter changes), and the sums hold only once the ring is
 * stopped.
 */
struct lring_counters {
	__u64 produced;
	__u64 delivered;
	__u64 dropped;
	__u64 irqs;
	__u64 kicks;
	__u64 waits;
	__u64 eventfd_signals;
	__u64 returned;
	__u64 rejected_ids;
	__u64 rejected_indices;
	__u64 need_wakeups;
	__u64 device_errors;
	__u64 cancelled;
	__u64 resv[3];
};

/**
 * struct lring_layout - where everything lives in the mapping
 *
 * Every _off is a byte offset from the start of the mapping.
 *
 * @mmap_size:		length to pass to mmap()
 * @ctrl_off:		struct lring_ctrl (read-only)
 * @user_off:		struct lring_user (read-write)
 * @cq_producer_off:	__u32 completion producer index (kernel writes)
 * @cq_consumer_off:	__u32 completion consumer index (application writes)
 * @cq_entries_off:	struct lring_cqe[cq_entries] (read-only)
 * @fq_producer_off:	__u32 fill producer index (application writes)
 * @fq_consumer_off:	__u32 fill consumer index (kernel writes)
 * @fq_entries_off:	struct lring_fqe[fq_entries] (read-write)
 * @flags_off:		__u32 LRING_F_* flags (kernel writes)
 * @counters_off:	struct lring_counters (kernel writes)
 * @pool_off:		first buffer; buffer i is at pool_off + i * buf_stride
 * @pool_size:		buf_count * buf_stride
 * @cq_entries:		completion ring size, a power of two
 * @fq_entries:		fill ring size, a power of two
 * @cqe_size:		sizeof(struct lring_cqe) as the kernel knows it
 * @fqe_size:		sizeof(struct lring_fqe) as the kernel knows it
 * @buf_count:		buffers in the pool
 * @buf_size:		usable bytes per buffer
 * @buf_stride:		distance between buffers, buf_size rounded up to pages
 * @config_flags:	LRING_CONFIG_* the ring was configured with
 * @map_flags:		LRING_MAP_* of this pool's mapping
 * @resv:		zero
 */
struct lring_layout {
	__u64 mmap_size;
	__u64 ctrl_off;
	__u64 user_off;
	__u64 cq_producer_off;
	__u64 cq_consumer_off;
	__u64 cq_entries_off;
	__u64 fq_producer_off;
	__u64 fq_consumer_off;
	__u64 fq_entries_off;
	__u64 flags_off;
	__u64 counters_off;
	__u64 pool_off;
	__u64 pool_size;
	__u32 cq_entries;
	__u32 fq_entries;
	__u32 cqe_size;
	__u32 fqe_size;
	__u32 buf_count;
	__u32 buf_size;
	__u32 buf_stride;
	__u32 config_flags;
	__u32 map_flags;
	__u32 resv[3];
};

/*
 * The pool is mapped as ordinary pages, not raw page frames, so the
 * kernel's page pinning reaches the buffers through this mapping: an
 * O_DIRECT write(), an io_uring write or send, vmsplice() can take a block
 * straight from its buffer (a receiving ring's buffers are read-only: only
 * what reads them works). Set where the DMA API hands out pages that each
 * carry their own reference (LRING_BACKEND_NONCONTIG behind an IOMMU);
 * elsewhere pinning fails with EFAULT. A LRING_BACKEND_USER pool is the
 * application's own memory: pinning always reaches it at its own address.
 */
#define LRING_MAP_PAGES		(1U << 0)

/*
 * The device has no buffer queued: buffers returned on the fill ring stay
 * there until the application calls LRING_IOC_KICK. Test it after
 * publishing the fill producer, with a full barrier in between.
 */
#define LRING_F_NEED_WAKEUP	(1U << 0)
/*
 * The device behind the ring is gone; every call fails with ENODEV. The
 * buffers' memory went with it: the pool reads as zeros until munmap().
 */
#define LRING_F_DEAD		(1U << 1)
/* The device is streaming (between LRING_IOC_START and LRING_IOC_STOP). */
#define LRING_F_RUNNING		(1U << 2)

/* Cache line size the layout pads to, so indices never share a line. */
#define LRING_CACHELINE		64

/**
 * struct lring_ctrl - the read-only control page, at layout.ctrl_off (0)
 * @magic:	LRING_MAGIC
 * @abi_version: LRING_ABI_VERSION of the kernel that made the mapping
 * @ctrl_size:	sizeof(struct lring_ctrl) as the kernel knows it
 * @page_size:	the kernel's page size
 * @layout:	offsets and sizes of everything in the mapping
 * @cq_producer: completion producer index, on its own cache line
 * @fq_consumer: fill consumer index, on its own cache line
 * @flags:	LRING_F_*, on its own cache line
 * @counters:	event counters
 *
 * Read the hot fields through the offsets in @layout, not through this
 * struct, so that a newer kernel may move them.
 */
struct lring_ctrl {
	__u32 magic;
	__u32 abi_version;
	__u32 ctrl_size;
	__u32 page_size;
	struct lring_layout layout;
	__u8 pad0[LRING_CACHELINE - (16 + sizeof(struct lring_layout)) % LRING_CACHELINE];

	__u32 cq_producer;
	__u8 pad1[LRING_CACHELINE - 4];
	__u32 fq_consumer;
	__u8 pad2[LRING_CACHELINE - 4];
	__u32 flags;
	__u8 pad3[LRING_CACHELINE - 4];
	struct lring_counters counters;
};

/**
 * struct lring_user - the read-write page, at layout.user_off
 * @cq_consumer: completion consumer index, on its own cache line
 * @fq_producer: fill producer index, on its own cache line
 */
struct lring_user {
	__u32 cq_consumer;
	__u8 pad0[LRING_CACHELINE - 4];
	__u32 fq_producer;
	__u8 pad1[LRING_CACHELINE - 4];
};

/*
 * Allocator backends for the buffer pool. Which to pick when is in
 * docs/backends.md.
 */
enum lring_backend {
	/*
	 * dma_alloc_coherent(): no syncs. Only on a device that snoops the
	 * CPU caches (EOPNOTSUPP elsewhere: use STREAMING). Physically
	 * contiguous: above 4 MiB only from a CMA area (cma= on the kernel
	 * command line).
	 */
	LRING_BACKEND_COHERENT = 0,
	/*
	 * dma_alloc_pages(): cacheable pages where the device reaches them,
	 * synced by the kernel, never bounced. Up to 4 MiB.
	 */
	LRING_BACKEND_STREAMING = 1,
	/*
	 * dma_alloc_noncontiguous(): cacheable pages the device sees as one
	 * range when an IOMMU maps them (buffers beyond 4 MiB); without an
	 * IOMMU, contiguous like STREAMING.
	 */
	LRING_BACKEND_NONCONTIG = 2,
	/*
	 * The application's own memory (user_addr, user_len), pinned for the
	 * life of the pool and mapped for DMA buffer by buffer, in as many
	 * segments as its pages are scattered (hugepages make fewer). Counts
	 * against RLIMIT_MEMLOCK. The device must support scatter-gather.
	 */
	LRING_BACKEND_USER = 3,
	/*
	 * One dma-buf per buffer, from the application (dmabuf_fds): a dma-buf
	 * heap's, udmabuf's, another device's, another ring's export. Each is
	 * attached and mapped for the ring's device for the life of the pool,
	 * in as many segments as its exporter gives. The ring's mapping does
	 * not reach the buffers (SIGBUS): the application maps its dma-bufs.
	 */
	LRING_BACKEND_DMABUF = 4,
	LRING_BACKEND_COUNT,
};

/* lring_config.flags: the ring sends (see the top of this file). */
#define LRING_CONFIG_TX		(1U << 0)
/*
 * lring_config.flags: the pool is one block of memory, buffer i at
 * i * layout.buf_stride from its start for the device as for the CPU, so
 * a device can walk the whole pool as one range (a DMA engine's cyclic
 * transfer). LRING_BACKEND_STREAMING only, and the pool no bigger than
 * the device's DMA segment limit (else EINVAL); ENOMEM when no block that
 * big is free (CMA gives big ones).
 */
#define LRING_CONFIG_ONE_BLOCK	(1U << 1)

/**
 * struct lring_config - argument of LRING_IOC_CONFIGURE
 * @buf_count:	buffers in the pool, 1 .. LRING_MAX_BUFFERS
 * @buf_size:	bytes per buffer, 1 .. LRING_MAX_BUF_SIZE and the backend's
 *		limit (the largest
 *		physically contiguous allocation for STREAMING; a multiple of
 *		the page size for USER)
 * @backend:	enum lring_backend
 * @cq_entries:	completion ring size, a power of two >= buf_count; 0 picks
 *		the smallest that fits
 * @fq_entries:	fill ring size, same rules as @cq_entries
 * @index_base:	first value of every ring index; lets tests start near 2^32
 *		to prove wrap-around, 0 otherwise
 * @flags:	LRING_CONFIG_TX for a ring that sends (EOPNOTSUPP from a
 *		device that cannot), LRING_CONFIG_ONE_BLOCK for a pool in
 *		one block, else 0
 * @resv0:	zero
 * @user_addr:	LRING_BACKEND_USER only: page-aligned start of the
 *		application's memory; buffer i is at user_addr + i * buf_size
 * @user_len:	LRING_BACKEND_USER only: buf_count * buf_size
 * @dmabuf_fds:	LRING_BACKEND_DMABUF only: address of an array of buf_count
 *		__s32 dma-buf fds; buffer i is the start of dma-buf i, which
 *		must hold at least buf_size bytes
 * @resv:	zero
 *
 * Allowed only while the ring is stopped and not mapped (else EBUSY).
 * Replaces any previous pool. For LRING_BACKEND_USER, a range that is not
 * page-aligned or not inside the user address space (TASK_SIZE) gets
 * EINVAL, one not mapped in full EFAULT, and memory a device must not
 * write for long gets EOPNOTSUPP: only anonymous, hugetlbfs and shmem
 * (memfd, MAP_SHARED|MAP_ANONYMOUS) memory is taken, never a regular
 * file's page cache. For LRING_BACKEND_DMABUF, an fd that is not open
 * gets EBADF, one that is not a dma-buf or is smaller than buf_size
 * EINVAL, and a kernel without dma-bufs EOPNOTSUPP; the ring keeps its own
 * reference on each dma-buf, so the application may close its fds. The
 * application brackets its accesses through each dma-buf's own mapping
 * with DMA_BUF_IOCTL_SYNC, as for any dma-buf: the exporter syncs the
 * caches then, the ring does not. On a receiving ring
 * every buffer starts owned by the kernel and is handed to the device by
 * LRING_IOC_START; on a TX ring every buffer starts on the completion ring,
 * owned by the application.
 */
struct lring_config {
	__u32 buf_count;
	__u32 buf_size;
	__u32 backend;
	__u32 cq_entries;
	__u32 fq_entries;
	__u32 index_base;
	__u32 flags;
	__u32 resv0;
	__u64 user_addr;
	__u64 user_len;
	__u64 dmabuf_fds;
	__u32 resv[2];
};

/**
 * struct lring_info - answer of LRING_IOC_GET_INFO
 * @abi_version: LRING_ABI_VERSION of the running module
 * @configured:	1 once LRING_IOC_CONFIGURE has succeeded, else 0 and @layout
 *		is all zeros
 * @backend:	enum lring_backend of the pool
 * @flags:	LRING_F_* as in the control page
 * @segments_per_buf: the most DMA segments any buffer of the pool needs
 *		(1 when the device sees every buffer as one range)
 * @resv0:	zero
 * @layout:	the mapping's layout
 * @features:	LRING_FEAT_* of the running module (0 from a module that
 *		predates the field: read it as LRING_FEATURES_VER0)
 * @resv:	zero
 */
struct lring_info {
	__u32 abi_version;
	__u32 configured;
	__u32 backend;
	__u32 flags;
	__u32 segments_per_buf;
	__u32 resv0;
	struct lring_layout layout;
	__u64 features;
	__u64 resv[7];
};

/**
 * struct lring_eventfd - argument of LRING_IOC_SET_EVENTFD
 * @fd:		an eventfd to signal, or -1 to stop signalling
 * @batch:	signal when this many unconsumed completions are waiting:
 *		1 (or 0) signals on every empty to non-empty transition. A
 *		consumer that uses a batch above 1 bounds its latency with the
 *		timeout of its wait. At most cq_entries (LRING_MAX_RING_ENTRIES
 *		before the first LRING_IOC_CONFIGURE), else EINVAL; a pool
 *		configured later with fewer entries signals when it is full.
 * @resv:	zero
 */
struct lring_eventfd {
	__s32 fd;
	__u32 batch;
	__u32 resv[2];
};

/**
 * struct lring_wait - argument of LRING_IOC_WAIT
 * @timeout_ns:	longest time to sleep; 0 returns at once
 * @min_entries: wake when this many completions are waiting (0 means 1);
 *		at most cq_entries, else EINVAL
 * @resv:	zero
 *
 * Returns the number of completions waiting (>= min_entries), or fails with
 * ETIMEDOUT; EINTR when a signal arrived (never restarted, even with
 * SA_RESTART: the timeout is relative); ENODATA when the ring was stopped
 * meanwhile and fewer are waiting; ENODEV when the device went away.
 */
struct lring_wait {
	__u64 timeout_ns;
	__u32 min_entries;
	__u32 resv;
};

#define LRING_IOC_MAGIC		0xb7

/* The argument sizes of the first version: the smallest the kernel takes. */
#define LRING_CONFIG_SIZE_VER0		64
#define LRING_INFO_SIZE_VER0		240
#define LRING_EVENTFD_SIZE_VER0		16
#define LRING_WAIT_SIZE_VER0		16
#define LRING_COUNTERS_SIZE_VER0	128
#define LRING_CQE_SIZE_VER0		32

#define LRING_IOC_CONFIGURE	_IOW(LRING_IOC_MAGIC, 1, struct lring_config)
#define LRING_IOC_GET_INFO	_IOR(LRING_IOC_MAGIC, 2, struct lring_info)
#define LRING_IOC_START		_IO(LRING_IOC_MAGIC, 3)
#define LRING_IOC_STOP		_IO(LRING_IOC_MAGIC, 4)
/* Hand the buffers waiting on the fill ring to the device now. */
#define LRING_IOC_KICK		_IO(LRING_IOC_MAGIC, 5)
#define LRING_IOC_SET_EVENTFD	_IOW(LRING_IOC_MAGIC, 6, struct lring_eventfd)
#define LRING_IOC_WAIT		_IOW(LRING_IOC_MAGIC, 7, struct lring_wait)
#define LRING_IOC_GET_COUNTERS	_IOR(LRING_IOC_MAGIC, 8, struct lring_counters)

/*
 * The classic hand-off, one syscall per step, for consumers that do not
 * drive the rings themselves (and for comparing against them):
 *
 * LRING_IOC_DQBUF sleeps until a completion is waiting (EAGAIN at once with
 * O_NONBLOCK), copies its entry out and consumes it from the completion ring
 * on the caller's behalf. The buffer's data is read through the mapping.
 * An argument that cannot be written gets EFAULT, and the completion stays
 * on the ring. LRING_IOC_QBUF hands the buffer with the given id back to
 * the device.
 *
 * read() is the copying path for the simplest consumers: it copies the
 * waiting blocks' data into the caller's buffer (several blocks per call if
 * they fit, a block across several calls if it does not) and hands each
 * buffer back once it has been copied completely. It sleeps only until the
 * first block is there (EAGAIN with O_NONBLOCK). read() refuses with EBUSY
 * while the ring is mapped, since the mapping's owner consumes the ring,
 * and with EOPNOTSUPP on a LRING_BACKEND_USER pool, whose data the
 * application already has. On a TX ring, read() and LRING_IOC_QBUF fail
 * with EOPNOTSUPP; LRING_IOC_DQBUF hands out a free buffer's entry.
 *
 * write() is the copying path of a TX ring: it takes free buffers off the
 * completion ring, copies up to a buffer's worth of the caller's data into
 * each and submits it, and returns the bytes submitted: all of them, since
 * it sleeps whenever no buffer is free, unless a signal or LRING_IOC_STOP
 * cuts it short; with O_NONBLOCK, what fit in the buffers free at the time
 * (EAGAIN if none was). It refuses
 * with EBUSY while the ring is mapped, with EPIPE while it is stopped,
 * and with EOPNOTSUPP on a receiving ring or a LRING_BACKEND_USER pool.
 * A block LRING_IOC_STOP took back unsent (counted in cancelled) is not
 * sent again by write(): its buffer is reused.
 *
 * LRING_IOC_STOP wakes every sleeper: once nothing is left to take, DQBUF
 * fails with ENODATA and read() returns 0, the end of the stream.
 */
#define LRING_IOC_DQBUF		_IOR(LRING_IOC_MAGIC, 9, struct lring_cqe)
#define LRING_IOC_QBUF		_IOW(LRING_IOC_MAGIC, 10, __u32)

/**
 * struct lring_export - argument of LRING_IOC_EXPORT_BUF
 * @buf_id:	the buffer to export
 * @flags:	LRING_EXPORT_CLOEXEC, or 0
 * @fd:		out: the dma-buf's file descriptor
 * @resv:	zero
 *
 * LRING_IOC_EXPORT_BUF makes buffer @buf_id a dma-buf, for another driver
 * to map for its DMA, or for the CPU through the dma-buf's own mmap(). Only
 * a pool mapped as pages (LRING_MAP_PAGES) can be exported (EOPNOTSUPP
 * otherwise): the dma-buf holds its own reference on every page, so its
 * memory stays valid after the ring is closed, reconfigured or its device
 * is gone, while the ring no longer uses it. A receiving ring's buffer
 * exports read-only (mmap() with PROT_WRITE is refused), a sending ring's
 * read-write.
 *
 * Ownership stays the ring's: the bytes are the block's only while the
 * application owns the buffer (published on the completion ring and not
 * yet returned, or on a sending ring free). DMA_BUF_IOCTL_SYNC with
 * DMA_BUF_SYNC_START fails with EBUSY while the device owns it, so a
 * reader cannot take a buffer being written for a complete block. The
 * ring already synced the buffer for the CPU when it published it, so
 * the sync itself moves no data; DMA_BUF_SYNC_END does nothing.
 */
struct lring_export {
	__u32 buf_id;
	__u32 flags;
	__s32 fd;
	__u32 resv;
};

#define LRING_EXPORT_CLOEXEC	(1U << 0)
#define LRING_EXPORT_SIZE_VER0	16
#define LRING_IOC_EXPORT_BUF	_IOWR(LRING_IOC_MAGIC, 11, struct lring_export)

#endif /* _UAPI_LINUX_LRING_H */
