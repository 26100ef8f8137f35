// SPDX-License-Identifier: GPL-2.0
/*
 * mem_test - the pool's memory: pinned user memory (plain pages,
 * transparent huge pages, hugetlbfs), big buffers (CMA-backed coherent,
 * noncontiguous, user), and pools of thousands of buffers and most of the
 * VM's RAM. Runs in the VM with lring.ko and lring_sim.ko loaded.
 *
 *   mem_test user_stream plain|thp|hugetlb BUF_SIZE BUF_COUNT BLOCKS
 *   mem_test user_errors
 *   mem_test user_kill
 *   mem_test big coherent|noncontig|user|streaming BUF_SIZE BUF_COUNT BLOCKS
 *   mem_test pinned_balance    (every pin taken was released)
 *   mem_test refused BACKEND ERRNO   (a backend this kernel cannot offer)
 */
#include "ktest.h"

#include <linux/capability.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <signal.h>

#ifndef MAP_HUGETLB
#define MAP_HUGETLB 0x40000
#endif
#define HUGE_2M (2ul << 20)

static uint32_t backend_of(const char *s)
{
	if (!strcmp(s, "streaming"))
		return LRING_BACKEND_STREAMING;
	if (!strcmp(s, "noncontig"))
		return LRING_BACKEND_NONCONTIG;
	if (!strcmp(s, "user"))
		return LRING_BACKEND_USER;
	return LRING_BACKEND_COHERENT;
}

/* Application memory of the given kind, 2 MiB aligned. */
static void *region_alloc(const char *kind, size_t len)
{
	int flags = MAP_PRIVATE | MAP_ANONYMOUS;
	size_t map_len = len + HUGE_2M;
	char *p, *aligned;

	if (!strcmp(kind, "hugetlb")) {
		p = mmap(NULL, len, PROT_READ | PROT_WRITE,
			 flags | MAP_HUGETLB, -1, 0);
		return p == MAP_FAILED ? NULL : p;
	}
	p = mmap(NULL, map_len, PROT_READ | PROT_WRITE, flags, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	aligned = (char *)(((uintptr_t)p + HUGE_2M - 1) & ~(HUGE_2M - 1));
	madvise(aligned, len, !strcmp(kind, "thp") ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
	memset(aligned, 0xa5, len);	/* fault it in (as huge pages if asked) */
	return aligned;
}

static int configure_user(struct lring *r, void *addr, uint32_t size,
			  uint32_t count)
{
	struct lring_config cfg = {
		.buf_count = count,
		.buf_size = size,
		.backend = LRING_BACKEND_USER,
		.user_addr = (uintptr_t)addr,
		.user_len = (uint64_t)size * count,
	};

	return lring_configure(r, &cfg);
}

/*
 * Streams @blocks blocks, verifying each through the application's own
 * address of the buffer when @own is set: that is the zero copy.
 */
static void stream_verify(struct lring *r, uint64_t seed, uint64_t blocks,
			  const char *what, unsigned char *own, uint32_t stride)
{
	struct ktest_stream s = { .seed = seed, .expect_len = r->buf_size };
	struct lring_counters c;
	uint64_t deadline = ktest_now_ns() + 600ull * 1000000000ull;
	uint32_t ids[64], idx;
	unsigned n, i;

	lring_start(r);
	while (s.buffers < blocks && ktest_now_ns() < deadline) {
		n = lring_peek(r, 64, &idx);
		for (i = 0; i < n; i++) {
			const struct lring_cqe *cqe = lring_cqe(r, idx + i);
			const void *data = own ? own + (size_t)cqe->buf_id * stride :
					   lring_buf(r, cqe->buf_id);

			if (cqe->seq != s.next_seq + ((cqe->flags & LRING_CQE_F_GAP) ?
						      cqe->dropped : 0))
				s.bad_seq++;
			s.next_seq = cqe->seq + 1;
			if (cqe->len != s.expect_len ||
			    ktest_bad_offset(data, cqe->len, seed, cqe->seq) >= 0) {
				if (!s.bad_data)
					ktest_diag("%s: buffer %u seq %llu bad", what,
						   cqe->buf_id, (unsigned long long)cqe->seq);
				s.bad_data++;
			}
			ids[i] = cqe->buf_id;
		}
		lring_release(r, n);
		if (lring_return(r, ids, n))
			ktest_diag("lring_return failed at %s:%d", __FILE__, __LINE__);
		s.buffers += n;
	}
	lring_stop(r);
	lring_counters(r, &c);
	ktest_ok(s.buffers >= blocks, "%s: %llu blocks arrive", what,
		 (unsigned long long)s.buffers);
	ktest_ok(!s.bad_data && !s.bad_seq,
		 "%s: every byte and sequence number right (%llu bad, %llu breaks)",
		 what, (unsigned long long)s.bad_data, (unsigned long long)s.bad_seq);
	ktest_ok(c.produced == c.delivered + c.dropped && c.rejected_ids == 0,
		 "%s: the books balance", what);
}

static void sim_params(uint64_t seed)
{
	ktest_sim_set(0, "rate", 0);
	ktest_sim_set(0, "block_size", 0);
	ktest_sim_set(0, "seed", seed);
}

/* Sets the pool of 2 MiB hugetlbfs pages that MAP_HUGETLB draws from. */
static void reserve_hugepages(unsigned long n)
{
	char text[32];
	int fd = open("/proc/sys/vm/nr_hugepages", O_WRONLY);

	snprintf(text, sizeof(text), "%lu", n);
	if (fd >= 0) {
		if (write(fd, text, strlen(text)) < 0)
			ktest_diag("nr_hugepages: %s", strerror(errno));
		close(fd);
	}
}

/*
 * Regression test: docs/reliability.md entry 30 (lring_sim oopsed on a user
 * pool in highmem; this test on the 32-bit ARM kernel, group mem-armhf).
 */
static void test_user_stream(int argc, char **argv)
{
	const char *kind = argc > 0 ? argv[0] : "plain";
	uint32_t size = argc > 1 ? strtoul(argv[1], NULL, 0) : 65536;
	uint32_t count = argc > 2 ? strtoul(argv[2], NULL, 0) : 16;
	uint64_t blocks = argc > 3 ? strtoull(argv[3], NULL, 0) : 2000;
	long long pins0 = ktest_pins_held();
	struct lring_info info;
	struct lring *r;
	char what[96];
	void *region;
	int ret;

	snprintf(what, sizeof(what), "user %s %u x %u", kind, count, size);
	if (!strcmp(kind, "hugetlb"))
		reserve_hugepages((uint64_t)size * count / HUGE_2M + 1);
	region = region_alloc(kind, (size_t)size * count);
	if (!ktest_ok(region != NULL, "%s: application memory", what))
		return;
	sim_params(71);
	if (!ktest_ok(lring_open("/dev/lring0", &r) == 0, "%s: open", what))
		return;
	ret = configure_user(r, region, size, count);
	if (!ktest_ok(ret == 0, "%s: configure (%s)", what, lring_strerror(ret))) {
		lring_close(r);
		return;
	}
	ktest_ok(ktest_pins_held() - pins0 == (long long)size / 4096 * count,
		 "%s: every page of the region is pinned (%lld)", what,
		 ktest_pins_held() - pins0);
	lring_get_info(r, &info);
	ktest_diag("%s: %u DMA segments per buffer at most", what, info.segments_per_buf);
	if (!strcmp(kind, "hugetlb") && size <= HUGE_2M)
		ktest_ok(info.segments_per_buf == 1,
			 "%s: a buffer within a huge page is one segment (%u)", what,
			 info.segments_per_buf);
	else if (!strcmp(kind, "thp"))
		ktest_ok(info.segments_per_buf < size / 4096,
			 "%s: huge pages make fewer segments than pages (%u < %u)",
			 what, info.segments_per_buf, size / 4096);
	stream_verify(r, 71, blocks, what, region, size);
	lring_close(r);
	ktest_ok(ktest_pins_held() == pins0, "%s: close unpins every page (%lld left)", what,
		 ktest_pins_held() - pins0);
}

/*
 * seg_limit: a device with a 64 KiB DMA segment limit (the sim's
 * max_segment). Buffers the core would give one segment are refused above
 * it; pinned user memory is cut at it (DMA-API debug on the debug kernel
 * warns at any longer segment) and streams.
 */
static void test_seg_limit(int argc, char **argv)
{
	static const uint32_t one_segment[] = {
		LRING_BACKEND_COHERENT, LRING_BACKEND_STREAMING, LRING_BACKEND_NONCONTIG,
	};
	static const char *const names[] = { "coherent", "streaming", "noncontig" };
	const uint32_t size = 262144, count = 4;
	struct lring_info info;
	struct lring *r;
	void *region;
	unsigned i;
	int ret;

	(void)argc;
	(void)argv;
	sim_params(75);
	if (!ktest_ok(ktest_sim_set(0, "max_segment", 65536) == 0,
		      "seg_limit: the device takes segments of 64 KiB at most"))
		return;
	ktest_ok(ktest_sim_set(0, "max_segment", 4095) == -ERANGE,
		 "seg_limit: a limit below a page gets ERANGE");
	for (i = 0; i < sizeof(one_segment) / sizeof(one_segment[0]); i++) {
		struct lring_config cfg = { .buf_count = count, .buf_size = size,
					    .backend = one_segment[i] };
		int fd = open("/dev/lring0", O_RDWR);

		ret = fd < 0 ? -1 : ioctl(fd, LRING_IOC_CONFIGURE, &cfg) ? errno : 0;
		ktest_ok(ret == EINVAL, "seg_limit: a 256 KiB %s buffer gets EINVAL (%s)",
			 names[i], ret ? strerror(ret) : "accepted");
		cfg.buf_size = 65536;
		ret = fd < 0 ? -1 : ioctl(fd, LRING_IOC_CONFIGURE, &cfg) ? errno : 0;
		if (one_segment[i] == LRING_BACKEND_COHERENT && !ktest_dma_coherent(0))
			ktest_ok(ret == EOPNOTSUPP,
				 "seg_limit: a 64 KiB coherent buffer of a non-coherent device gets EOPNOTSUPP (%s)",
				 ret ? strerror(ret) : "accepted");
		else
			ktest_ok(ret == 0, "seg_limit: a 64 KiB %s buffer is accepted (%s)",
				 names[i], ret ? strerror(ret) : "ok");
		if (fd >= 0)
			close(fd);
	}
	/* One 2 MiB page: each 256 KiB buffer would be one segment uncut. */
	reserve_hugepages(2);
	region = region_alloc("hugetlb", (size_t)size * count);
	if (ktest_ok(region && lring_open("/dev/lring0", &r) == 0, "seg_limit: user memory")) {
		ret = configure_user(r, region, size, count);
		if (ktest_ok(ret == 0, "seg_limit: user memory: configure (%s)",
			     lring_strerror(ret))) {
			lring_get_info(r, &info);
			ktest_ok(info.segments_per_buf == size / 65536,
				 "seg_limit: one huge page is cut at the limit (%u segments per 256 KiB)",
				 info.segments_per_buf);
			stream_verify(r, 75, 500, "seg_limit: user memory", region, size);
		}
		lring_close(r);
	}
	if (region)
		munmap(region, (size_t)size * count);
	ktest_ok(ktest_sim_set(0, "max_segment", 4294967295u) == 0,
		 "seg_limit: the limit lifted again");
}

static int user_errno(void *addr, uint32_t size, uint32_t count, uint64_t len)
{
	struct lring_config cfg = {
		.buf_count = count, .buf_size = size,
		.backend = LRING_BACKEND_USER,
		.user_addr = (uintptr_t)addr, .user_len = len,
	};
	int fd = open("/dev/lring0", O_RDWR), ret;

	if (fd < 0)
		return -errno;
	ret = ioctl(fd, LRING_IOC_CONFIGURE, &cfg) ? errno : 0;
	close(fd);
	return ret;
}

/* Drops CAP_IPC_LOCK, so that RLIMIT_MEMLOCK applies, as for most users. */
static void drop_ipc_lock(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	syscall(SYS_capget, &h, d);
	d[CAP_IPC_LOCK / 32].effective &= ~(1u << (CAP_IPC_LOCK % 32));
	d[CAP_IPC_LOCK / 32].permitted &= ~(1u << (CAP_IPC_LOCK % 32));
	syscall(SYS_capset, &h, d);
}

static void test_user_errors(int argc, char **argv)
{
	long long pins0 = ktest_pins_held();
	size_t len = 16 * 65536;
	char *region = region_alloc("plain", len), *ro;
	struct rlimit rl = { 256 * 1024, 256 * 1024 };
	int status;
	pid_t pid;

	(void)argc;
	(void)argv;
	sim_params(72);
	ktest_ok(user_errno(region + 100, 65536, 16, len) == EINVAL,
		 "user: an unaligned address gets EINVAL");
	ktest_ok(user_errno(region, 65536, 16, len - 4096) == EINVAL,
		 "user: a length that is not count * size gets EINVAL");
	ktest_ok(user_errno(region, 65536 - 100, 16, (uint64_t)(65536 - 100) * 16) == EINVAL,
		 "user: a buffer size that is not a page multiple gets EINVAL");
	/* The kernel's half: above 2^47 on 64-bit, the top GiB of a 32-bit kernel. */
	ktest_ok(user_errno((void *)(uintptr_t)(sizeof(void *) == 8 ? 0xffff800000000000ull :
						 0xffff0000ull), 65536, 16, len) == EINVAL,
		 "user: a region in kernel space gets EINVAL");
	ktest_ok(user_errno(NULL, 65536, 16, len) == EFAULT,
		 "user: unmapped memory gets EFAULT");
	ro = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ktest_ok(user_errno(ro, 65536, 16, len) == EFAULT,
		 "user: read-only memory gets EFAULT");
	/* tutorial: test-partial-pin */
	munmap(region + 8 * 65536, 65536);	/* a hole: buffer 8 is missing */
	ktest_ok(user_errno(region, 65536, 16, len) == EFAULT,
		 "user: a hole in the region gets EFAULT after pinning buffers 0-7");
	ktest_ok(ktest_pins_held() == pins0,
		 "user: every failed configure released what it pinned (%lld left)",
		 ktest_pins_held() - pins0);
	/* tutorial-end: test-partial-pin */

	region = region_alloc("plain", len);
	pid = fork();
	if (pid == 0) {
		drop_ipc_lock();
		setrlimit(RLIMIT_MEMLOCK, &rl);
		_exit(user_errno(region, 65536, 16, len));
	}
	waitpid(pid, &status, 0);
	ktest_ok(WIFEXITED(status) && WEXITSTATUS(status) == ENOMEM,
		 "user: a region above RLIMIT_MEMLOCK gets ENOMEM (%d)",
		 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	pid = fork();
	if (pid == 0) {
		rl.rlim_cur = rl.rlim_max = 2 * len;
		drop_ipc_lock();
		setrlimit(RLIMIT_MEMLOCK, &rl);
		_exit(user_errno(region, 65536, 16, len));
	}
	waitpid(pid, &status, 0);
	ktest_ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		 "user: a region within RLIMIT_MEMLOCK is accepted");
	ktest_ok(ktest_pins_held() == pins0, "user: nothing stays pinned (%lld)",
		 ktest_pins_held() - pins0);
}

/* kill -9 in the middle of a stream releases every pinned page. */
static void test_user_kill(int argc, char **argv)
{
	long long pins0 = ktest_pins_held();
	int status, fd;
	pid_t pid;

	(void)argc;
	(void)argv;
	sim_params(73);
	pid = fork();
	if (pid == 0) {
		void *region = region_alloc("thp", 32 * 65536);
		struct lring *r;
		uint32_t ids[64], idx;
		unsigned n, i;

		if (lring_open("/dev/lring0", &r) || configure_user(r, region, 65536, 32))
			_exit(2);
		lring_start(r);
		for (;;) {
			n = lring_peek(r, 64, &idx);
			for (i = 0; i < n; i++)
				ids[i] = lring_cqe(r, idx + i)->buf_id;
			lring_release(r, n);
			if (lring_return(r, ids, n))
				ktest_diag("lring_return failed at %s:%d", __FILE__, __LINE__);
		}
	}
	ktest_wait_for(ktest_pins_held() - pins0 == 32 * 16, 20000);
	ktest_ok(ktest_pins_held() - pins0 == 32 * 16, "user_kill: the consumer pinned its region (%lld)",
		 ktest_pins_held() - pins0);
	/* tutorial: test-user-kill */
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	ktest_wait_for(ktest_pins_held() == pins0, 5000);
	ktest_ok(ktest_pins_held() == pins0,
		 "user_kill: kill -9 mid-stream unpins every page (%lld left)",
		 ktest_pins_held() - pins0);
	/* tutorial-end: test-user-kill */
	fd = open("/dev/lring0", O_RDWR);
	ktest_ok(fd >= 0, "user_kill: the ring is free again");
	close(fd);
}

/*
 * Regression test: docs/reliability.md entry 20 ("big streaming 4096 65536
 * 2000", group mem: an RCU stall freeing a big pool) and entry 25 ("big
 * streaming 4194304 4 40" under swiotlb=force, group mem-swiotlb).
 */
static void test_big(int argc, char **argv)
{
	uint32_t backend = backend_of(argc > 0 ? argv[0] : "coherent");
	uint32_t size = argc > 1 ? strtoul(argv[1], NULL, 0) : 16u << 20;
	uint32_t count = argc > 2 ? strtoul(argv[2], NULL, 0) : 4;
	uint64_t blocks = argc > 3 ? strtoull(argv[3], NULL, 0) : 20;
	struct lring_config cfg = { .buf_count = count, .buf_size = size,
				    .backend = backend };
	struct lring_info info;
	unsigned char *own = NULL;
	struct lring *r;
	char what[96];
	int ret;

	snprintf(what, sizeof(what), "big %s %u x %u MiB", argv[0], count, size >> 20);
	if (size < (1u << 20))
		snprintf(what, sizeof(what), "big %s %u x %u KiB", argv[0], count, size >> 10);
	sim_params(74);
	if (backend == LRING_BACKEND_USER) {
		own = region_alloc("thp", (size_t)size * count);
		cfg.user_addr = (uintptr_t)own;
		cfg.user_len = (uint64_t)size * count;
	}
	if (!ktest_ok(lring_open("/dev/lring0", &r) == 0, "%s: open", what))
		return;
	ret = lring_configure(r, &cfg);
	if (!ktest_ok(ret == 0, "%s: configure (%s)", what, lring_strerror(ret))) {
		lring_close(r);
		return;
	}
	lring_get_info(r, &info);
	ktest_diag("%s: pool %llu MiB, %u segments per buffer at most", what,
		   (unsigned long long)(info.layout.pool_size >> 20), info.segments_per_buf);
	stream_verify(r, 74, blocks, what, own, size);
	lring_close(r);
}

/*
 * user_expect DEV ERRNO: what a user-memory pool of single-page buffers
 * gets on DEV (e.g. EINVAL from a 28-bit device with neither an IOMMU nor
 * bounce buffers, 0 behind an IOMMU); no warning may come with it.
 */
static void test_user_expect(int argc, char **argv)
{
	const char *dev = argc > 0 ? argv[0] : "/dev/lring0";
	const char *want = argc > 1 ? argv[1] : "0";
	int expect = !strcmp(want, "EINVAL") ? EINVAL : atoi(want);
	struct lring_config cfg = { .buf_count = 4, .buf_size = 4096,
				    .backend = LRING_BACKEND_USER };
	long long pins0 = ktest_pins_held();
	void *region = region_alloc("plain", 4 * 4096);
	int fd = open(dev, O_RDWR), got;

	cfg.user_addr = (uintptr_t)region;
	cfg.user_len = 4 * 4096;
	got = fd < 0 ? -1 : ioctl(fd, LRING_IOC_CONFIGURE, &cfg) ? errno : 0;
	if (fd >= 0)
		close(fd);
	ktest_ok(got == expect, "user memory on %s gets %s (%s)", dev,
		 expect ? strerror(expect) : "success", got ? strerror(got) : "success");
	ktest_ok(ktest_pins_held() == pins0, "user memory on %s: no pin left behind", dev);
}

/*
 * refused BACKEND ERRNO: a pool of BACKEND on /dev/lring0 gets ERRNO (a
 * backend the running kernel cannot offer, e.g. noncontig before 5.13),
 * and the ring then streams with the streaming backend.
 */
static void test_refused(int argc, char **argv)
{
	uint32_t backend = backend_of(argc > 0 ? argv[0] : "noncontig");
	const char *want = argc > 1 ? argv[1] : "EOPNOTSUPP";
	int expect = !strcmp(want, "EOPNOTSUPP") ? EOPNOTSUPP :
		     !strcmp(want, "EINVAL") ? EINVAL : atoi(want);
	struct lring_config cfg = { .buf_count = 4, .buf_size = 65536,
				    .backend = backend };
	struct lring *r;
	int ret;

	sim_params(75);
	if (!ktest_ok(lring_open("/dev/lring0", &r) == 0, "refused %s: open", argv[0]))
		return;
	ret = lring_configure(r, &cfg);
	ktest_ok(ret == -expect, "refused %s: configure gets %s (%s)", argv[0],
		 strerror(expect), lring_strerror(ret));
	cfg.backend = LRING_BACKEND_STREAMING;
	ret = lring_configure(r, &cfg);
	if (ktest_ok(ret == 0, "refused %s: the same ring takes a streaming pool (%s)",
		     argv[0], lring_strerror(ret)))
		stream_verify(r, 75, 200, "refused: then streaming", NULL, cfg.buf_size);
	lring_close(r);
}

static const struct ktest_subtest tests[] = {
	{ "user_stream", test_user_stream },
	{ "user_errors", test_user_errors },
	{ "user_kill", test_user_kill },
	{ "big", test_big },
	{ "user_expect", test_user_expect },
	{ "seg_limit", test_seg_limit },
	{ "refused", test_refused },
};

int main(int argc, char **argv)
{
	return ktest_main(KTEST_SUBTESTS(tests), argc, argv);
}
