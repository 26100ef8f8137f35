// SPDX-License-Identifier: GPL-2.0
/*
 * fault_test - every place the module can fail to get a resource, failed on
 * purpose, on the debug kernel (lring.ko and lring_sim.ko loaded).
 *
 *   fault_test nth        fail the 1st, 2nd, ... allocation of each
 *                         operation in turn (/proc/thread-self/fail-nth,
 *                         through failslab and fail_page_alloc)
 *   fault_test functions  fail each of the module's ALLOW_ERROR_INJECTION
 *                         functions through fail_function
 *
 * Each failure must come back as a clean errno, and the ring must work
 * afterwards; kmemleak and DMA-API debug (checked by the harness after the
 * group) must have nothing to say. On a kernel without fault injection the
 * subtests report a skip. On a device without coherent DMA (lring_sim on
 * arm64) the coherent backend is refused with EOPNOTSUPP before most of its
 * failure paths: there the rings use the streaming backend, and the checks
 * of the coherent backend's later failures are skipped.
 */
#include "ktest.h"

#include <dirent.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>

#define DBG "/sys/kernel/debug"

/* A short verified stream: the ring still works after the failures. */
/* In a backend argument below: the pool in one block (streaming only). */
#define ONE_BLOCK 0x100u

static bool ring_still_works(uint32_t backend)
{
	struct ktest_stream s = { .seed = 61, .expect_len = 2048 };
	struct lring *r;
	bool ok;

	if (ktest_setup(0, &r, 8, 2048, backend & ~ONE_BLOCK, 0, 0, s.seed, 0))
		return false;
	lring_start(r);
	ok = ktest_consume_until(r, &s, 200, 20000);
	lring_stop(r);
	lring_close(r);
	return ok && !s.bad_data && !s.bad_seq;
}

/* The operation under test: 0 or a negative errno. */
struct op {
	const char *name;
	int (*run)(int fd);
	bool needs_config;	/* run on a configured, unmapped ring */
	uint32_t backend;
};

/* The application memory the user backend pins: 8 buffers of 8 KiB. */
static void *user_region;

static int op_configure(int fd, uint32_t backend)
{
	struct lring_config cfg = { .buf_count = 8, .buf_size = 6000,
				    .backend = backend & ~ONE_BLOCK };

	if (backend & ONE_BLOCK)
		cfg.flags = LRING_CONFIG_ONE_BLOCK;

	if (backend == LRING_BACKEND_USER) {
		if (!user_region) {
			user_region = mmap(NULL, 8 * 8192, PROT_READ | PROT_WRITE,
					   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
			if (user_region == MAP_FAILED)
				return -errno;
		}
		cfg.buf_size = 8192;
		cfg.user_addr = (uintptr_t)user_region;
		cfg.user_len = 8 * 8192;
	}
	return ioctl(fd, LRING_IOC_CONFIGURE, &cfg) ? -errno : 0;
}

static int op_configure_coherent(int fd)
{
	return op_configure(fd, LRING_BACKEND_COHERENT);
}

static int op_configure_streaming(int fd)
{
	return op_configure(fd, LRING_BACKEND_STREAMING);
}

static int op_configure_block(int fd)
{
	return op_configure(fd, LRING_BACKEND_STREAMING | ONE_BLOCK);
}

static int op_configure_noncontig(int fd)
{
	return op_configure(fd, LRING_BACKEND_NONCONTIG);
}

static int op_configure_user(int fd)
{
	return op_configure(fd, LRING_BACKEND_USER);
}

/* What an operation left to undo once failures are no longer injected. */
static void *op_map;
static size_t op_map_size;

static int op_mmap(int fd)
{
	struct lring_info info;
	void *m;

	if (ioctl(fd, LRING_IOC_GET_INFO, &info))
		return -errno;
	m = mmap(NULL, info.layout.mmap_size, PROT_READ | PROT_WRITE,
		 MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		return -errno;
	op_map = m;
	op_map_size = info.layout.mmap_size;
	return 0;
}

/* Undone after disarming: munmap itself may allocate, and must not fail. */
static void op_cleanup(void)
{
	if (op_map)
		munmap(op_map, op_map_size);
	op_map = NULL;
}

static int op_start(int fd)
{
	int ret = ioctl(fd, LRING_IOC_START) ? -errno : 0;

	ioctl(fd, LRING_IOC_STOP);
	return ret;
}

static int op_eventfd(int fd)
{
	struct lring_eventfd ev = { .batch = 1 };
	int efd = eventfd(0, EFD_CLOEXEC), ret;

	if (efd < 0)
		return -errno;
	ev.fd = efd;
	ret = ioctl(fd, LRING_IOC_SET_EVENTFD, &ev) ? -errno : 0;
	close(efd);
	return ret;
}

/* The rows marked "cached" run on the device's cached backend. */
#define CACHED_BACKEND UINT32_MAX

static const struct op ops[] = {
	{ "configure coherent", op_configure_coherent, false, 0 },
	{ "configure streaming", op_configure_streaming, false, 0 },
	{ "configure streaming in one block", op_configure_block, false, 0 },
	{ "configure noncontig", op_configure_noncontig, false, 0 },
	{ "configure user memory", op_configure_user, false, 0 },
	{ "mmap", op_mmap, true, LRING_BACKEND_STREAMING },
	{ "start", op_start, true, CACHED_BACKEND },
	{ "set eventfd", op_eventfd, true, CACHED_BACKEND },
};

/* The errnos a resource failure may honestly turn into. */
static bool clean_errno(int err)
{
	return err == -ENOMEM || err == -ENOSPC || err == -EIO ||
	       err == -EAGAIN || err == -EINTR;
}

/* The group boots with slub_debug=A,kmalloc-*: count what that marked. */
static void count_failslab_caches(void)
{
	char path[300], flag[8];
	struct dirent *d;
	DIR *dir = opendir("/sys/kernel/slab");
	int marked = 0, fd;

	if (!dir)
		return;
	while ((d = readdir(dir))) {
		snprintf(path, sizeof(path), "/sys/kernel/slab/%s/failslab", d->d_name);
		fd = open(path, O_RDONLY);
		if (fd < 0)
			continue;
		if (read(fd, flag, sizeof(flag)) > 0 && flag[0] == '1')
			marked++;
		close(fd);
	}
	closedir(dir);
	ktest_diag("failslab: %d slab caches may fail", marked);
}

/* Of the failures nth_once() armed, how many were not reached. */
static int nth_left;

/*
 * Runs @op once on a fresh open of ring 0 (configured first with @backend
 * if the op needs it), its @nth allocation failing if @nth > 0 (through
 * the fail-nth file @path). Returns the op's result, or -EBADFD when the
 * ring could not even be opened or configured.
 */
static int nth_once(const struct op *op, uint32_t backend, const char *path, int nth)
{
	char buf[32] = "";
	int fd, ret, f;

	nth_left = 0;
	fd = open("/dev/lring0", O_RDWR);
	if (fd < 0)
		return -EBADFD;
	if (op->needs_config && op_configure(fd, backend)) {
		close(fd);
		return -EBADFD;
	}
	if (nth > 0) {
		snprintf(buf, sizeof(buf), "%d", nth);
		ktest_write_file(path, buf);
	}
	ret = op->run(fd);
	if (nth > 0) {
		memset(buf, 0, sizeof(buf));
		f = open(path, O_RDWR);
		if (f >= 0 && read(f, buf, sizeof(buf) - 1) < 0)
			buf[0] = 0;
		nth_left = atoi(buf);
		if (f >= 0)
			close(f);
		ktest_write_file(path, "0");	/* disarm what is left */
	}
	op_cleanup();
	close(fd);
	return ret;
}

/* Regression test: docs/reliability.md entry 33 (the fault test assumed a coherent device). */
static void test_nth(int argc, char **argv)
{
	char path[64];
	long long pins0 = ktest_pins_held();
	unsigned total = 0;
	size_t i;
	int nth;

	(void)argc;
	(void)argv;
	snprintf(path, sizeof(path), "/proc/self/task/%ld/fail-nth",
		 (long)syscall(SYS_gettid));
	if (access(path, W_OK) || access(DBG "/failslab", F_OK)) {
		ktest_ok(true, "fail-nth # SKIP kernel without fault injection");
		return;
	}
	/*
	 * Sleeping allocations may fail too, and page allocations of any order.
	 * Of the slab caches only the kmalloc ones fail (the group boots with
	 * slub_debug=A,kmalloc-*, which marks them): the DMA-API checker's
	 * own radix tree must not, or it switches itself off.
	 */
	count_failslab_caches();
	ktest_write_file(DBG "/failslab/cache-filter", "Y");
	ktest_write_file(DBG "/failslab/ignore-gfp-wait", "N");
	ktest_write_file(DBG "/fail_page_alloc/ignore-gfp-wait", "N");
	ktest_write_file(DBG "/fail_page_alloc/ignore-gfp-highmem", "N");
	ktest_write_file(DBG "/fail_page_alloc/min-order", "0");
	ktest_write_file(DBG "/failslab/verbose", "0");
	ktest_write_file(DBG "/fail_page_alloc/verbose", "0");

	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		unsigned injected = 0, unclean = 0, broken = 0;
		uint32_t backend = ops[i].backend;
		int ret = 0, uninjected;
		bool refused;

		if (backend == CACHED_BACKEND)
			backend = ktest_cached_backend(0);
		/*
		 * What the operation gives with nothing failed: an injected
		 * failure may give that too (a device without coherent DMA
		 * refuses the coherent backend, whatever failed before).
		 */
		uninjected = nth_once(&ops[i], backend, NULL, 0);
		refused = ops[i].run == op_configure_coherent && !ktest_dma_coherent(0);
		ktest_ok(uninjected == (refused ? -EOPNOTSUPP : 0),
			 "fail-nth: %s: with nothing failed it gives %s", ops[i].name,
			 uninjected ? strerror(-uninjected) : "success");
		for (nth = 1; nth < 2000; nth++) {
			ret = nth_once(&ops[i], backend, path, nth);
			if (ret == -EBADFD) {
				broken++;
				break;
			}
			if (nth_left) {	/* the operation made fewer than nth calls */
				if (ret != uninjected)
					unclean++;
				break;
			}
			injected++;
			if (ret && !clean_errno(ret) && ret != uninjected) {
				ktest_diag("%s: failure %d gave %s", ops[i].name,
					   nth, strerror(-ret));
				unclean++;
			}
		}
		total += injected;
		ktest_ok(!unclean && !broken && nth < 2000,
			 "fail-nth: %s: %u allocation failures, each a clean errno or survived",
			 ops[i].name, injected);
		ktest_ok(ring_still_works(LRING_BACKEND_STREAMING) &&
			 ring_still_works(ktest_cached_backend(0)),
			 "fail-nth: %s: the ring streams correctly afterwards", ops[i].name);
	}
	ktest_diag("fail-nth: %u injection points tried", total);
	ktest_ok(ktest_pins_held() == pins0,
		 "fail-nth: every page pinned on the way was unpinned (%lld left)",
		 ktest_pins_held() - pins0);
}

static int configure_fd(uint32_t backend, int *fdp)
{
	int fd = open("/dev/lring0", O_RDWR), ret;

	if (fd < 0)
		return -errno;
	ret = op_configure(fd, backend);
	*fdp = fd;
	return ret;
}

/*
 * @func returns @retval at its @interval-th call: the configure (or the
 * mmap) must fail with @expect, and the ring must work afterwards.
 */
static void check_injected(const char *func, int retval, int expect,
			   unsigned interval, uint32_t backend, bool map)
{
	int fd = -1, ret, again = 0;

	if (ktest_fail_function(func, retval, interval, "1")) {
		ktest_ok(false, "fail_function: %s cannot be injected", func);
		ktest_fail_function_off();
		return;
	}
	ret = configure_fd(backend, &fd);
	if (!ret && map)
		ret = op_mmap(fd);
	ktest_fail_function_off();
	if (fd >= 0)
		close(fd);
	ktest_ok(ret == expect, "fail_function: %s (call %u) fails the operation with %s (%s)",
		 func, interval, strerror(-expect), strerror(-ret));
	if (backend == LRING_BACKEND_USER) {
		/* The same region can be pinned again: nothing stayed behind. */
		again = configure_fd(backend, &fd);
		close(fd);
		backend = LRING_BACKEND_STREAMING;
	}
	ktest_ok(!again && ring_still_works(backend),
		 "fail_function: %s: the ring works afterwards", func);
}

static void check_function(const char *func, unsigned interval,
			   uint32_t backend, bool map)
{
	check_injected(func, -ENOMEM, -ENOMEM, interval, backend, map);
}

/*
 * Regression test: docs/reliability.md entry 24 (lring_coherent_uncached()
 * says "uncached": EOPNOTSUPP, nothing left behind) and entry 33 (the fault
 * test assumed a coherent device).
 */
static void test_functions(int argc, char **argv)
{
	long long pins0 = ktest_pins_held();
	uint32_t cached = ktest_cached_backend(0);
	bool coherent = cached == LRING_BACKEND_COHERENT;
	int ret;

	(void)argc;
	(void)argv;
	if (access(KTEST_FAIL_FUNC "/inject", W_OK)) {
		ktest_ok(true, "fail_function # SKIP kernel without fail_function");
		return;
	}
	/* tutorial: test-fail-functions */
	check_function("lring_pool_create", 1, cached, false);
	check_function("lring_coherent_alloc", 1, LRING_BACKEND_COHERENT, false);
	check_function("lring_streaming_alloc", 3, LRING_BACKEND_STREAMING, false);
	check_function("lring_block_table", 1, LRING_BACKEND_STREAMING, false);
	check_function("lring_block_table", 5, LRING_BACKEND_STREAMING, false);
	/* The pool's one block, then a slice's table: two slices undone. */
	check_function("lring_pool_alloc_block", 1, LRING_BACKEND_STREAMING | ONE_BLOCK, false);
	check_function("lring_block_table", 3, LRING_BACKEND_STREAMING | ONE_BLOCK, false);
	check_function("lring_pool_mmap", 1, LRING_BACKEND_STREAMING, true);
	check_function("lring_noncontig_alloc", 3, LRING_BACKEND_NONCONTIG, false);
	/* The third buffer's pin or mapping fails: two are undone. */
	check_function("lring_user_pin", 3, LRING_BACKEND_USER, false);
	check_function("lring_user_map", 3, LRING_BACKEND_USER, false);
	check_function("lring_user_alloc", 1, LRING_BACKEND_USER, false);
	ktest_ok(ktest_pins_held() == pins0,
		 "fail_function: every page pinned on the way was unpinned (%lld left)",
		 ktest_pins_held() - pins0);
	/* tutorial-end: test-fail-functions */

	/*
	 * The coherent backend past its first buffer. A device without
	 * coherent DMA (lring_sim on arm64) refuses it at the first already.
	 */
	if (coherent) {
		/* The fifth buffer fails: the four before it must be unwound. */
		check_function("lring_coherent_alloc", 5, LRING_BACKEND_COHERENT, false);
		/* Memory the application could not map cacheable is refused. */
		check_injected("lring_coherent_uncached", 1, -EOPNOTSUPP, 3,
			       LRING_BACKEND_COHERENT, false);
		check_function("lring_block_table", 5, LRING_BACKEND_COHERENT, false);
	} else {
		ktest_ok(true, "fail_function: the coherent backend's later failures # SKIP refused at its first buffer on a device without coherent DMA");
	}

	/* Device setup: the driver's probe sees lring_register() fail. */
	ktest_ok(system("rmmod lring_sim") == 0, "fail_function: sim unloaded");
	/* Every call fails: busybox insmod retries with init_module(). */
	ret = ktest_fail_function("lring_register", -ENOMEM, 1, "-1");
	ret = ret ?: system("insmod $LRING_MODULES/lring_sim.ko nr_rings=4 2>/dev/null");
	ktest_fail_function_off();
	ktest_ok(ret != 0, "fail_function: lring_register failing makes insmod fail cleanly");
	ktest_ok(system("insmod $LRING_MODULES/lring_sim.ko nr_rings=4") == 0,
		 "fail_function: insmod works again afterwards");
	ktest_sleep_ms(200);	/* devtmpfs */
	ktest_ok(ring_still_works(cached),
		 "fail_function: lring_register: the rings work afterwards");
}

static const struct ktest_subtest tests[] = {
	{ "nth", test_nth },
	{ "functions", test_functions },
};

int main(int argc, char **argv)
{
	return ktest_main(KTEST_SUBTESTS(tests), argc, argv);
}
