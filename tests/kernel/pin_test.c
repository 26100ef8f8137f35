// SPDX-License-Identifier: GPL-2.0
/*
 * pin_test - whether the kernel's page pinning reaches a ring's buffers
 * (layout.map_flags & LRING_MAP_PAGES), checked by what pinning does:
 *
 *   pin_test odirect RING BACKEND pages|frames DISK
 *       a receiving pool: an O_DIRECT write() to block device DISK straight
 *       from a filled buffer writes its bytes where the pool is mapped as
 *       pages, fails with EFAULT (writing nothing) where it is raw frames;
 *       an O_DIRECT read() into the read-only buffer always fails; a user
 *       pool's own memory is always reached
 *   pin_test odirect_tx RING BACKEND pages|frames DISK
 *       a sending pool: an O_DIRECT read() from DISK into a free buffer
 *       (disk to device with no copy) works where it is mapped as pages
 *   pin_test export RING BACKEND pages|frames
 *       LRING_IOC_EXPORT_BUF: a pool mapped as pages exports a buffer as a
 *       dma-buf whose own mapping shows the block's bytes; DMA_BUF_IOCTL_SYNC
 *       is refused (EBUSY) while the device owns the buffer; a receiving
 *       buffer exports read-only, a sending one read-write; the dma-buf
 *       keeps its pages after the device is unbound; raw frames are refused
 *       (EOPNOTSUPP), and so are a bad id or flags (EINVAL)
 *   pin_test import_vgem RING BACKEND
 *       another driver imports an exported buffer: vgem (a group with
 *       "# kmods: vgem") attaches its device and maps the buffer for its
 *       DMA (PRIME import), as the dma-buf core's bufinfo shows, and lets
 *       go again
 *   pin_test unplug RING BACKEND
 *       a pool mapped as pages: a block spliced into a pipe (vmsplice()
 *       holds its pages) is still intact in the pipe after the device was
 *       unbound and the pool freed; the device is bound again after
 *
 * RING is N of /dev/lringN: a simulated ring (its rate is set) or an edu one.
 * The second word after BACKEND is what the test expects the module to
 * claim on this machine, so a wrong claim fails here.
 */
#include "ktest.h"

#include <ctype.h>
#include <sys/uio.h>
#include <linux/dma-buf.h>

#define BUF_SIZE	8192	/* two pages: more than one page per buffer */
#define BUF_COUNT	4
#define SEED		0x5eed

static const char *const backend_names[] = {
	[LRING_BACKEND_COHERENT] = "coherent",
	[LRING_BACKEND_STREAMING] = "streaming",
	[LRING_BACKEND_NONCONTIG] = "noncontig",
	[LRING_BACKEND_USER] = "user",
};

static int parse_backend(const char *s)
{
	for (int b = 0; s && b < LRING_BACKEND_COUNT; b++)
		if (!strcmp(s, backend_names[b]))
			return b;
	return -1;
}

/* The application memory behind a user pool, or NULL. */
static void *user_mem;

/* Opens ring @ring with a pool of @backend, receiving or sending. */
static int pin_setup(int ring, int backend, bool tx, struct lring **r)
{
	struct lring_config cfg = {
		.buf_count = BUF_COUNT,
		.buf_size = BUF_SIZE,
		.backend = backend,
		.flags = tx ? LRING_CONFIG_TX : 0,
	};
	char path[32];
	int ret;

	/* Both devices have a seed and block size; only the sim has a rate. */
	ktest_sim_set(ring, "rate", 1000);
	if ((ret = ktest_sim_set(ring, "seed", SEED)) ||
	    (ret = ktest_sim_set(ring, "block_size", 0)))
		return ret;
	if (backend == LRING_BACKEND_USER) {
		user_mem = mmap(NULL, BUF_SIZE * BUF_COUNT, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (user_mem == MAP_FAILED)
			return -errno;
		cfg.user_addr = (uintptr_t)user_mem;
		cfg.user_len = BUF_SIZE * BUF_COUNT;
	}
	ktest_dev_path(ring, path, sizeof(path));
	ret = lring_open(path, r);
	if (ret)
		return ret;
	ret = lring_configure(*r, &cfg);
	if (ret) {
		ktest_diag("configure %s (%s): %s", path, backend_names[backend],
			   lring_strerror(ret));
		lring_close(*r);
	}
	return ret;
}

static void pin_close(struct lring *r)
{
	lring_close(r);
	if (user_mem && user_mem != MAP_FAILED)
		munmap(user_mem, BUF_SIZE * BUF_COUNT);
	user_mem = NULL;
}

/*
 * Starts the device and takes its first filled buffer, checked against the
 * device's pattern (edu writes the sim's); -1 if none came.
 */
static int64_t first_block(struct lring *r)
{
	uint64_t deadline = ktest_now_ns() + 10000000000ull;
	const struct lring_cqe *cqe;
	uint32_t idx;
	long bad;

	if (lring_start(r))
		return -1;
	while (!lring_peek(r, 1, &idx)) {
		if (ktest_now_ns() > deadline)
			return -1;
		lring_wait(r, 500);
	}
	cqe = lring_cqe(r, idx);
	bad = ktest_bad_offset(lring_buf(r, cqe->buf_id), cqe->len, SEED, cqe->seq);
	if (!cqe->len || bad >= 0) {
		ktest_diag("block %u: len %u, wrong from byte %ld", cqe->buf_id, cqe->len, bad);
		return -1;
	}
	return cqe->buf_id;
}

/* A page-aligned scratch buffer filled with @byte. */
static void *scratch(int byte)
{
	void *p = aligned_alloc(4096, BUF_SIZE);

	if (p)
		memset(p, byte, BUF_SIZE);
	return p;
}

static bool expect_pages(const char *s)
{
	return s && !strcmp(s, "pages");
}

static void test_odirect(int argc, char **argv)
{
	int ring = argc > 0 ? atoi(argv[0]) : 0;
	int backend = parse_backend(argc > 1 ? argv[1] : NULL);
	bool pages = expect_pages(argc > 2 ? argv[2] : NULL);
	const char *disk = argc > 3 ? argv[3] : "/dev/nvme0n1";
	uint8_t *before = scratch(0x5a), *back = scratch(0);
	const char *name = argc > 1 ? argv[1] : "?";
	struct lring *r;
	int64_t id;
	uint8_t *buf;
	ssize_t n;
	int fd;

	if (!ktest_ok(backend >= 0 && before && back, "odirect: arguments") ||
	    !ktest_ok(!pin_setup(ring, backend, false, &r), "odirect %s: setup", name))
		return;
	ktest_ok(!!(r->layout.map_flags & LRING_MAP_PAGES) == pages,
		 "odirect %s: the pool is mapped as %s, as expected here (map_flags %#x)",
		 name, pages ? "pages" : "raw frames", r->layout.map_flags);
	id = first_block(r);
	fd = open(disk, O_RDWR | O_DIRECT);
	if (!ktest_ok(id >= 0 && fd >= 0, "odirect %s: a filled buffer (%lld) and %s open O_DIRECT",
		      name, (long long)id, disk))
		goto out;
	buf = lring_buf(r, id);

	/* The disk holds 0x5a first, so a write that wrote nothing shows. */
	ktest_ok(pwrite(fd, before, BUF_SIZE, 0) == BUF_SIZE, "odirect %s: disk prepared", name);
	errno = 0;
	n = pwrite(fd, buf, BUF_SIZE, 0);
	if (pages)
		ktest_ok(n == BUF_SIZE, "odirect %s: O_DIRECT write from the buffer: %zd (%s)",
			 name, n, strerror(errno));
	else
		ktest_ok(n < 0 && errno == EFAULT,
			 "odirect %s: O_DIRECT write from raw frames fails with EFAULT (%zd, %s)",
			 name, n, strerror(errno));
	ktest_ok(pread(fd, back, BUF_SIZE, 0) == BUF_SIZE &&
		 !memcmp(back, pages ? buf : before, BUF_SIZE),
		 "odirect %s: the disk holds %s", name,
		 pages ? "the buffer's bytes" : "what it held before");

	/* The device's buffer is read-only: no pin may write it either. */
	memcpy(back, buf, BUF_SIZE);
	errno = 0;
	n = pread(fd, buf, BUF_SIZE, 0);
	ktest_ok(n < 0 && errno == EFAULT && !memcmp(back, buf, BUF_SIZE),
		 "odirect %s: an O_DIRECT read into the receiving buffer fails with EFAULT (%zd)",
		 name, n);
	ktest_ok(ktest_child_signal(ktest_write_u32, buf) == SIGBUS,
		 "odirect %s: a store into the receiving buffer is SIGBUS", name);

	if (user_mem) {
		uint8_t *own = (uint8_t *)user_mem + (size_t)id * BUF_SIZE;

		ktest_ok(!memcmp(own, buf, BUF_SIZE) &&
			 pwrite(fd, own, BUF_SIZE, BUF_SIZE) == BUF_SIZE &&
			 pread(fd, back, BUF_SIZE, BUF_SIZE) == BUF_SIZE &&
			 !memcmp(back, own, BUF_SIZE),
			 "odirect user: the application's own memory goes to disk by O_DIRECT");
	}
	lring_release(r, 1);
	lring_stop(r);
	close(fd);
out:
	pin_close(r);
	free(before);
	free(back);
}

static void test_odirect_tx(int argc, char **argv)
{
	int ring = argc > 0 ? atoi(argv[0]) : 0;
	int backend = parse_backend(argc > 1 ? argv[1] : NULL);
	bool pages = expect_pages(argc > 2 ? argv[2] : NULL);
	const char *disk = argc > 3 ? argv[3] : "/dev/nvme0n1";
	const char *name = argc > 1 ? argv[1] : "?";
	uint8_t *on_disk = scratch(0), *back = scratch(0);
	struct lring *r;
	uint32_t id = 0;
	uint8_t *buf;
	ssize_t n;
	int fd;

	if (!ktest_ok(backend >= 0 && on_disk && back, "odirect_tx: arguments") ||
	    !ktest_ok(!pin_setup(ring, backend, true, &r), "odirect_tx %s: setup", name))
		return;
	ktest_ok(!!(r->layout.map_flags & LRING_MAP_PAGES) == pages,
		 "odirect_tx %s: the pool is mapped as %s, as expected here (map_flags %#x)",
		 name, pages ? "pages" : "raw frames", r->layout.map_flags);
	fd = open(disk, O_RDWR | O_DIRECT);
	if (!ktest_ok(lring_take_free(r, 1, &id) == 1 && fd >= 0,
		      "odirect_tx %s: a free buffer and %s open O_DIRECT", name, disk))
		goto out;
	buf = lring_buf(r, id);
	for (size_t i = 0; i < BUF_SIZE; i++)
		on_disk[i] = (uint8_t)(i * 7 + 3);
	ktest_ok(pwrite(fd, on_disk, BUF_SIZE, 0) == BUF_SIZE, "odirect_tx %s: disk prepared", name);
	memset(buf, 0xa5, BUF_SIZE);
	errno = 0;
	n = pread(fd, buf, BUF_SIZE, 0);
	if (pages)
		ktest_ok(n == BUF_SIZE && !memcmp(buf, on_disk, BUF_SIZE),
			 "odirect_tx %s: O_DIRECT read into the sending buffer: %zd, same bytes",
			 name, n);
	else
		ktest_ok(n < 0 && errno == EFAULT,
			 "odirect_tx %s: O_DIRECT read into raw frames fails with EFAULT (%zd, %s)",
			 name, n, strerror(errno));
	memset(buf, 0x3c, BUF_SIZE);
	n = pwrite(fd, buf, BUF_SIZE, BUF_SIZE);
	ktest_ok(pages ? n == BUF_SIZE && pread(fd, back, BUF_SIZE, BUF_SIZE) == BUF_SIZE &&
			 !memcmp(back, buf, BUF_SIZE) :
			 n < 0 && errno == EFAULT,
		 "odirect_tx %s: O_DIRECT write from the sending buffer: %zd", name, n);
	close(fd);
out:
	pin_close(r);
	free(on_disk);
	free(back);
}

/* Writes @text to the file at @dir/@name. */
static int write_attr(const char *dir, const char *name, const char *text)
{
	char path[PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return ktest_write_file(path, text);
}

/* Unbinds ring @ring's device from its driver (and binds it again). */
static bool rebind(int ring, bool bind)
{
	static char dev[PATH_MAX], driver[PATH_MAX];
	char link[80];

	if (!bind) {
		snprintf(link, sizeof(link), "/sys/class/lring/lring%d/device", ring);
		if (!realpath(link, dev))
			return false;
		strcat(link, "/driver");
		if (!realpath(link, driver))
			return false;
	}
	return !write_attr(driver, bind ? "bind" : "unbind", strrchr(dev, '/') + 1);
}

static void test_unplug(int argc, char **argv)
{
	int ring = argc > 0 ? atoi(argv[0]) : 0;
	int backend = parse_backend(argc > 1 ? argv[1] : NULL);
	uint8_t *copy = scratch(0), *back = scratch(0);
	struct iovec iov;
	struct lring *r;
	int pipefd[2];
	int64_t id;

	if (!ktest_ok(backend >= 0 && copy && back, "unplug: arguments") ||
	    !ktest_ok(!pin_setup(ring, backend, false, &r), "unplug: setup"))
		return;
	if (!ktest_ok(r->layout.map_flags & LRING_MAP_PAGES,
		      "unplug: the pool is mapped as pages (map_flags %#x)", r->layout.map_flags)) {
		pin_close(r);
		return;
	}
	id = first_block(r);
	if (!ktest_ok(id >= 0 && !pipe(pipefd), "unplug: a filled buffer (%lld)", (long long)id)) {
		pin_close(r);
		return;
	}
	memcpy(copy, lring_buf(r, id), BUF_SIZE);
	iov.iov_base = lring_buf(r, id);
	iov.iov_len = 4096;	/* a pipe of 16 pages holds it whole */
	ktest_ok(vmsplice(pipefd[1], &iov, 1, 0) == 4096,
		 "unplug: vmsplice() takes the buffer's page into a pipe");
	ktest_ok(rebind(ring, false), "unplug: the device unbound from its driver");
	ktest_ok(lring_flags(r) & LRING_F_DEAD, "unplug: the control page says DEAD");
	ktest_ok(read(pipefd[0], back, 4096) == 4096 && !memcmp(back, copy, 4096),
		 "unplug: the pipe still holds the block's bytes after the pool was freed");
	ktest_ok(*(volatile uint8_t *)lring_buf(r, id) == 0,
		 "unplug: the mapping reads zeros where the buffer was");
	close(pipefd[0]);
	close(pipefd[1]);
	pin_close(r);
	ktest_ok(rebind(ring, true), "unplug: the device bound again");
	free(copy);
	free(back);
}

/* LRING_IOC_EXPORT_BUF of buffer @id: the fd, or -errno. */
static int export_buf(struct lring *r, uint32_t id, uint32_t flags)
{
	struct lring_export ex = { .buf_id = id, .flags = flags };

	return ioctl(r->fd, LRING_IOC_EXPORT_BUF, &ex) ? -errno : ex.fd;
}

static int sync_start(int fd)
{
	struct dma_buf_sync sync = { .flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ };

	return ioctl(fd, DMA_BUF_IOCTL_SYNC, &sync) ? -errno : 0;
}

static void test_export(int argc, char **argv)
{
	int ring = argc > 0 ? atoi(argv[0]) : 0;
	int backend = parse_backend(argc > 1 ? argv[1] : NULL);
	bool pages = expect_pages(argc > 2 ? argv[2] : NULL);
	const char *name = argc > 1 ? argv[1] : "?";
	uint8_t *copy = scratch(0), *view;
	struct lring *r;
	int fd, fd0;
	int64_t id;

	if (!ktest_ok(backend >= 0 && copy, "export: arguments") ||
	    !ktest_ok(!pin_setup(ring, backend, false, &r), "export %s: setup", name))
		return;
	if (!(lring_features(r) & LRING_FEAT_EXPORT)) {
		ktest_ok(export_buf(r, 0, 0) == -EOPNOTSUPP,
			 "export: # SKIP a kernel without dma-buf (CONFIG_DMA_SHARED_BUFFER): EOPNOTSUPP");
		pin_close(r);
		return;
	}
	if (!pages) {
		fd = export_buf(r, 0, 0);
		ktest_ok(fd == -EOPNOTSUPP, "export %s: raw frames are refused (%s)", name,
			 strerror(-fd));
		pin_close(r);
		return;
	}
	ktest_ok(export_buf(r, BUF_COUNT, 0) == -EINVAL, "export: an id out of range is EINVAL");
	ktest_ok(export_buf(r, 0, 0x100) == -EINVAL, "export: unknown flags are EINVAL");
	/* Before the start every buffer is the kernel's: no reader may take it. */
	fd0 = export_buf(r, 0, LRING_EXPORT_CLOEXEC);
	ktest_ok(fd0 >= 0 && (fcntl(fd0, F_GETFD) & FD_CLOEXEC),
		 "export %s: buffer 0 as a dma-buf, close-on-exec (%d)", name, fd0);
	ktest_ok(sync_start(fd0) == -EBUSY,
		 "export: DMA_BUF_IOCTL_SYNC is EBUSY while the kernel owns the buffer");
	ktest_ok(mmap(NULL, BUF_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd0, 0) == MAP_FAILED,
		 "export: a receiving buffer's dma-buf maps read-only only");
	id = first_block(r);
	fd = id == 0 ? fd0 : export_buf(r, id, LRING_EXPORT_CLOEXEC);
	view = fd >= 0 ? mmap(NULL, BUF_SIZE, PROT_READ, MAP_SHARED, fd, 0) : MAP_FAILED;
	if (!ktest_ok(id >= 0 && view != MAP_FAILED, "export: the filled buffer %lld mapped through its dma-buf",
		      (long long)id)) {
		pin_close(r);
		return;
	}
	ktest_ok(sync_start(fd) == 0, "export: DMA_BUF_IOCTL_SYNC once the application owns it");
	memcpy(copy, lring_buf(r, id), BUF_SIZE);
	ktest_ok(!memcmp(view, copy, BUF_SIZE), "export: the dma-buf shows the block's bytes");
	ktest_ok(rebind(ring, false), "export: the device unbound under the exported buffer");
	ktest_ok(!memcmp(view, copy, BUF_SIZE) && sync_start(fd) == 0,
		 "export: the dma-buf keeps its pages and bytes after the device is gone");
	munmap(view, BUF_SIZE);
	if (fd != fd0)
		close(fd);
	close(fd0);
	pin_close(r);
	ktest_ok(rebind(ring, true), "export: the device bound again");
	free(copy);
}

/*
 * The two DRM ioctls the import takes, from <drm/drm.h> (libdrm's headers,
 * not needed for one struct).
 */
struct vgem_prime_handle {
	uint32_t handle;
	uint32_t flags;
	int32_t fd;
};

#define VGEM_IOCTL_PRIME_FD_TO_HANDLE	_IOWR('d', 0x2e, struct vgem_prime_handle)
#define VGEM_IOCTL_GEM_CLOSE		_IOW('d', 0x09, uint32_t[2])

/* How many of lring's dma-bufs the dma-buf core lists with @device attached. */
static int bufinfo_attached(const char *device)
{
	FILE *f = fopen("/sys/kernel/debug/dma_buf/bufinfo", "r");
	char line[256];
	int n = 0, ours = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		/* a buffer's line ends with its exporter's name... */
		if (strstr(line, "\tlring\t") || strstr(line, " lring "))
			ours = 1;
		else if (strstr(line, "Attached Devices"))
			continue;
		/* ...and its attached devices follow, one per line */
		else if (ours && strstr(line, device))
			n++;
		else if (!isspace((unsigned char)line[0]))
			ours = 0;
	}
	fclose(f);
	return n;
}

/* /dev/dri/cardN of the vgem driver, opened; -1 if there is none. */
static int open_vgem(void)
{
	char link[64], target[PATH_MAX], path[32];

	for (int i = 0; i < 8; i++) {
		/* vgem's device is a platform device of that name, with no driver */
		snprintf(link, sizeof(link), "/sys/class/drm/card%d/device", i);
		if (!realpath(link, target) || strcmp(strrchr(target, '/'), "/vgem"))
			continue;
		snprintf(path, sizeof(path), "/dev/dri/card%d", i);
		return open(path, O_RDWR | O_CLOEXEC);
	}
	return -1;
}

static void test_import_vgem(int argc, char **argv)
{
	int ring = argc > 0 ? atoi(argv[0]) : 0;
	int backend = parse_backend(argc > 1 ? argv[1] : NULL);
	struct vgem_prime_handle prime = { 0 };
	uint32_t close_arg[2] = { 0 };
	int card = open_vgem(), fd = -1;
	struct lring *r;
	int64_t id;

	if (!ktest_ok(card >= 0, "import_vgem: vgem's /dev/dri/card") ||
	    !ktest_ok(backend >= 0 && !pin_setup(ring, backend, false, &r), "import_vgem: setup"))
		return;
	if (!(lring_features(r) & LRING_FEAT_EXPORT)) {
		ktest_ok(1, "import_vgem: # SKIP a kernel without dma-buf (CONFIG_DMA_SHARED_BUFFER)");
		goto out;
	}
	id = first_block(r);
	fd = id >= 0 ? export_buf(r, id, LRING_EXPORT_CLOEXEC) : -1;
	prime.fd = fd;
	errno = 0;
	ktest_ok(fd >= 0 && !ioctl(card, VGEM_IOCTL_PRIME_FD_TO_HANDLE, &prime),
		 "import_vgem: vgem imports buffer %lld and maps it for its device%s%s",
		 (long long)id, errno ? ": " : "", errno ? strerror(errno) : "");
	ktest_ok(bufinfo_attached("vgem") == 1,
		 "import_vgem: the dma-buf core lists lring's buffer with vgem attached (%d)",
		 bufinfo_attached("vgem"));
	close_arg[0] = prime.handle;
	ktest_ok(prime.handle && !ioctl(card, VGEM_IOCTL_GEM_CLOSE, close_arg) &&
		 bufinfo_attached("vgem") == 0,
		 "import_vgem: the importer lets go, and detaches");
	if (fd >= 0)
		close(fd);
out:
	close(card);
	pin_close(r);
}

static void test_export_tx(int argc, char **argv)
{
	int ring = argc > 0 ? atoi(argv[0]) : 0;
	int backend = parse_backend(argc > 1 ? argv[1] : NULL);
	const char *name = argc > 1 ? argv[1] : "?";
	struct lring *r;
	uint32_t id = 0;
	uint8_t *view;
	int fd;

	if (!ktest_ok(backend >= 0 && !pin_setup(ring, backend, true, &r),
		      "export_tx %s: setup", name))
		return;
	if (!(lring_features(r) & LRING_FEAT_EXPORT)) {
		ktest_ok(1, "export_tx: # SKIP a kernel without dma-buf (CONFIG_DMA_SHARED_BUFFER)");
		pin_close(r);
		return;
	}
	fd = lring_take_free(r, 1, &id) == 1 ? export_buf(r, id, 0) : -1;
	view = fd >= 0 ? mmap(NULL, BUF_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) :
			 MAP_FAILED;
	if (ktest_ok(view != MAP_FAILED, "export_tx %s: a free buffer's dma-buf maps read-write", name)) {
		ktest_ok(sync_start(fd) == 0, "export_tx: the application owns a free buffer");
		memset(view, 0x6b, BUF_SIZE);
		ktest_ok(((uint8_t *)lring_buf(r, id))[BUF_SIZE - 1] == 0x6b,
			 "export_tx: written through the dma-buf, seen in the ring's pool");
		munmap(view, BUF_SIZE);
	}
	if (fd >= 0)
		close(fd);
	pin_close(r);
}

int main(int argc, char **argv)
{
	static const struct ktest_subtest tests[] = {
		{ "odirect", test_odirect },
		{ "odirect_tx", test_odirect_tx },
		{ "unplug", test_unplug },
		{ "export", test_export },
		{ "export_tx", test_export_tx },
		{ "import_vgem", test_import_vgem },
	};

	return ktest_main(KTEST_SUBTESTS(tests), argc, argv);
}
