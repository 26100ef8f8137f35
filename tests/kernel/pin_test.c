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
 *   pin_test import RING heap|udmabuf|vgem
 *       LRING_BACKEND_DMABUF: a receiving pool of dma-bufs the application
 *       made (a dma-buf heap's, udmabuf's, vgem's), its fds closed once
 *       configured; every block of a stream shows in the application's own
 *       mapping of its dma-buf; the ring's mapping does not reach them; no
 *       copying read() or export; at close the ring lets go of every
 *       dma-buf. Bad fds, sizes and arrays are refused with their errno. A
 *       kernel without dma-bufs refuses the backend (EOPNOTSUPP); a kernel
 *       without the source says so (SKIP)
 *   pin_test relay RX TX_OUT RX_OUT
 *       data from one device to another with no copy: ring RX's buffers,
 *       exported as dma-bufs, are the pool of ring TX_OUT of a second device
 *       (two edu devices), which sends each filled block on as it came; the
 *       second device loops it back into ring RX_OUT, where every byte is
 *       checked against the first device's pattern
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
#include <linux/dma-heap.h>
#include <linux/udmabuf.h>

#define BUF_SIZE	8192	/* two pages: more than one page per buffer */
#define BUF_COUNT	4
#define SEED		0x5eed

static const char *const backend_names[] = {
	[LRING_BACKEND_COHERENT] = "coherent",
	[LRING_BACKEND_STREAMING] = "streaming",
	[LRING_BACKEND_NONCONTIG] = "noncontig",
	[LRING_BACKEND_USER] = "user",
	[LRING_BACKEND_DMABUF] = "dmabuf",
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

static int sync_dmabuf(int fd, uint64_t flags)
{
	struct dma_buf_sync sync = { .flags = flags };

	return ioctl(fd, DMA_BUF_IOCTL_SYNC, &sync) ? -errno : 0;
}

static int sync_start(int fd)
{
	return sync_dmabuf(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
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

/* ---- a pool of the application's dma-bufs (LRING_BACKEND_DMABUF) ---- */

struct vgem_create_dumb {
	uint32_t height, width, bpp, flags;
	uint32_t handle, pitch;
	uint64_t size;
};

#define VGEM_IOCTL_MODE_CREATE_DUMB	_IOWR('d', 0xb2, struct vgem_create_dumb)
#define VGEM_IOCTL_PRIME_HANDLE_TO_FD	_IOWR('d', 0x2d, struct vgem_prime_handle)

/* One dma-buf of @size bytes from @source's device @dev: its fd or -errno. */
static int make_dmabuf(const char *source, int dev, size_t size)
{
	if (!strcmp(source, "heap")) {
		struct dma_heap_allocation_data a = {
			.len = size, .fd_flags = O_RDWR | O_CLOEXEC,
		};

		return ioctl(dev, DMA_HEAP_IOCTL_ALLOC, &a) ? -errno : (int)a.fd;
	}
	if (!strcmp(source, "udmabuf")) {
		/* udmabuf wants a memfd that cannot shrink under it. */
		int memfd = memfd_create("pin_test", MFD_ALLOW_SEALING | MFD_CLOEXEC), fd;
		struct udmabuf_create c = {
			.memfd = memfd, .flags = UDMABUF_FLAGS_CLOEXEC, .size = size,
		};

		if (memfd < 0 || ftruncate(memfd, size) ||
		    fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK))
			fd = -errno;
		else if ((fd = ioctl(dev, UDMABUF_CREATE, &c)) < 0)
			fd = -errno;
		if (memfd >= 0)
			close(memfd);
		return fd;
	}
	{
		/* vgem: a dumb buffer of 4096-byte rows, exported (PRIME). */
		struct vgem_create_dumb d = { .height = size / 4096, .width = 1024, .bpp = 32 };
		struct vgem_prime_handle prime = { .flags = O_RDWR | O_CLOEXEC };
		uint32_t close_arg[2] = { 0 };
		int fd;

		if (ioctl(dev, VGEM_IOCTL_MODE_CREATE_DUMB, &d))
			return -errno;
		prime.handle = d.handle;
		fd = ioctl(dev, VGEM_IOCTL_PRIME_HANDLE_TO_FD, &prime) ? -errno : prime.fd;
		/* The dma-buf keeps the object. */
		close_arg[0] = d.handle;
		ioctl(dev, VGEM_IOCTL_GEM_CLOSE, close_arg);
		return fd;
	}
}

/* @n dma-bufs of @size bytes from @source into @fds: 0, or -errno (ENOENT: no such source here). */
static int make_dmabufs(const char *source, int n, size_t size, int *fds)
{
	int dev, i, ret = 0;

	if (!strcmp(source, "heap"))
		dev = open("/dev/dma_heap/system", O_RDWR | O_CLOEXEC);
	else if (!strcmp(source, "udmabuf"))
		dev = open("/dev/udmabuf", O_RDWR | O_CLOEXEC);
	else if (!strcmp(source, "vgem"))
		dev = open_vgem();
	else
		return -EINVAL;
	if (dev < 0)
		return -ENOENT;
	for (i = 0; i < n; i++)
		fds[i] = -1;
	for (i = 0; i < n && !ret; i++) {
		fds[i] = make_dmabuf(source, dev, size);
		ret = fds[i] < 0 ? fds[i] : 0;
	}
	close(dev);
	return ret;
}

static void close_all(int *fds, int n)
{
	for (int i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* LRING_IOC_CONFIGURE straight to the kernel, past liblring's checks. */
static int configure_dmabuf(struct lring *r, uint32_t count, uint32_t size,
			    const int *fds, uint32_t flags)
{
	struct lring_config cfg = {
		.buf_count = count, .buf_size = size,
		.backend = LRING_BACKEND_DMABUF, .flags = flags,
		.dmabuf_fds = (uintptr_t)fds,
	};

	return ioctl(lring_fd(r), LRING_IOC_CONFIGURE, &cfg) ? -errno : 0;
}

/* "Total N objects" of the dma-buf core: dma-bufs alive in the system. */
static long dmabuf_objects(void)
{
	FILE *f = fopen("/sys/kernel/debug/dma_buf/bufinfo", "r");
	char line[256];
	long n = -1;

	while (f && fgets(line, sizeof(line), f))
		sscanf(line, "Total %ld objects", &n);
	if (f)
		fclose(f);
	return n;
}

/* Whether a read of @p faults (EFAULT), without touching it ourselves. */
static bool unreadable(const void *p)
{
	int pipefd[2];
	bool fault;

	if (pipe(pipefd))
		return false;
	fault = write(pipefd[1], p, 1) < 0 && errno == EFAULT;
	close(pipefd[0]);
	close(pipefd[1]);
	return fault;
}

static void import_bad_input(struct lring *r, const char *source)
{
	int fds[BUF_COUNT], small = -1, ret;

	for (int i = 0; i < BUF_COUNT; i++)
		fds[i] = -1;
	ktest_ok(configure_dmabuf(r, BUF_COUNT, BUF_SIZE, fds, 0) == -EBADF,
		 "import: an fd that is not open is EBADF");
	fds[0] = lring_fd(r);
	ktest_ok(configure_dmabuf(r, 1, BUF_SIZE, fds, 0) == -EINVAL,
		 "import: an fd that is not a dma-buf is EINVAL");
	ktest_ok(configure_dmabuf(r, BUF_COUNT, BUF_SIZE, NULL, 0) == -EINVAL,
		 "import: no array of fds is EINVAL");
	ktest_ok(configure_dmabuf(r, BUF_COUNT, BUF_SIZE, (const int *)8, 0) == -EFAULT,
		 "import: an array that cannot be read is EFAULT");
	ret = make_dmabufs(source, 1, BUF_SIZE / 2, &small);
	ktest_ok(!ret && configure_dmabuf(r, 1, BUF_SIZE, &small, 0) == -EINVAL,
		 "import: a dma-buf smaller than a buffer is EINVAL");
	if (small >= 0)
		close(small);
}

static void test_import(int argc, char **argv)
{
	int ring = argc > 0 ? atoi(argv[0]) : 0;
	const char *source = argc > 1 ? argv[1] : "heap";
	long objects0 = dmabuf_objects();
	int fds[BUF_COUNT], ret, blocks = 0, bad = 0;
	uint8_t *views[BUF_COUNT];
	struct lring *r;
	char path[32], c;

	ktest_dev_path(ring, path, sizeof(path));
	ktest_sim_set(ring, "rate", 1000);
	if (!ktest_ok(!ktest_sim_set(ring, "seed", SEED) && !ktest_sim_set(ring, "block_size", 0) &&
		      !lring_open(path, &r), "import %s: open %s", source, path))
		return;
	if (!(lring_features(r) & LRING_FEAT_DMABUF_POOL)) {
		fds[0] = -1;
		ktest_ok(configure_dmabuf(r, 1, BUF_SIZE, fds, 0) == -EOPNOTSUPP,
			 "import: # SKIP a kernel without dma-buf (CONFIG_DMA_SHARED_BUFFER): EOPNOTSUPP");
		lring_close(r);
		return;
	}
	for (int i = 0; i < BUF_COUNT; i++)
		views[i] = MAP_FAILED;
	ret = make_dmabufs(source, BUF_COUNT, BUF_SIZE, fds);
	if (ret == -ENOENT) {
		ktest_ok(1, "import %s: # SKIP this kernel has no %s (its config)", source, source);
		lring_close(r);
		return;
	}
	if (!ktest_ok(!ret, "import %s: %d dma-bufs of %d bytes (%s)", source, BUF_COUNT,
		      BUF_SIZE, strerror(-ret)))
		goto out_close;
	for (int i = 0; i < BUF_COUNT; i++)
		views[i] = mmap(NULL, BUF_SIZE, PROT_READ, MAP_SHARED, fds[i], 0);
	import_bad_input(r, source);
	ret = lring_configure(r, &(struct lring_config){
		.buf_count = BUF_COUNT, .buf_size = BUF_SIZE,
		.backend = LRING_BACKEND_DMABUF, .dmabuf_fds = (uintptr_t)fds });
	if (!ktest_ok(!ret, "import %s: a receiving pool of them (%s)", source, strerror(-ret)))
		goto out_close;
	ktest_ok(lring_layout(r)->map_flags == 0, "import: not mapped as pages");
	ktest_ok(read(lring_fd(r), &c, 1) < 0 && errno == EOPNOTSUPP,
		 "import: no copying read() (no kernel address of the buffers)");
	ktest_ok(export_buf(r, 0, 0) == -EOPNOTSUPP, "import: an imported buffer is not exported again");
	ret = lring_start(r);
	while (!ret && blocks < 4 * BUF_COUNT) {
		const struct lring_cqe *cqe;
		uint32_t idx, id;

		if (!lring_peek(r, 1, &idx)) {
			if (lring_wait(r, 2000) < 0 || !lring_peek(r, 1, &idx))
				break;
		}
		cqe = lring_cqe(r, idx);
		id = cqe->buf_id;
		if (blocks == 0)
			ktest_ok(unreadable(lring_buf(r, id)),
				 "import: the ring's mapping does not reach the buffers");
		/* The application's reads through a dma-buf's own mapping. */
		bad += id >= BUF_COUNT || views[id] == MAP_FAILED ||
		       sync_dmabuf(fds[id], DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ) ||
		       ktest_bad_offset(views[id], cqe->len, SEED, cqe->seq) >= 0 ||
		       sync_dmabuf(fds[id], DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
		blocks++;
		lring_release(r, 1);
		if (lring_return(r, &id, 1))
			break;
	}
	ktest_ok(blocks == 4 * BUF_COUNT && !bad,
		 "import %s: %d blocks, each seen whole in its dma-buf's own mapping (%d bad)",
		 source, blocks, bad);
	lring_stop(r);
	/* The ring holds each dma-buf itself: the application may let go. */
	close_all(fds, BUF_COUNT);
	for (int i = 0; i < BUF_COUNT; i++)
		if (views[i] != MAP_FAILED)
			munmap(views[i], BUF_SIZE);
	ktest_ok(dmabuf_objects() == objects0 + BUF_COUNT,
		 "import %s: the ring keeps its dma-bufs when the application closes them (%ld)",
		 source, dmabuf_objects() - objects0);
	lring_close(r);
	ktest_ok(dmabuf_objects() == objects0,
		 "import %s: and lets go of every one at close (%ld, %ld before)", source,
		 dmabuf_objects(), objects0);
	return;

out_close:
	close_all(fds, BUF_COUNT);
	for (int i = 0; i < BUF_COUNT; i++)
		if (views[i] != MAP_FAILED)
			munmap(views[i], BUF_SIZE);
	lring_close(r);
}

#define RELAY_BLOCKS	8

/*
 * One pass of the relay loop: blocks the first device filled go out on the
 * second's sending ring; buffers it has sent go back to the first device;
 * what came round is checked. Return: true if anything moved.
 */
static bool relay_step(struct lring *rx, struct lring *tx, struct lring *out,
		       uint64_t *seqs, int *sent, int *checked, int *bad)
{
	const struct lring_cqe *cqe;
	uint32_t idx, ids[BUF_COUNT];
	bool moved = false;
	unsigned int n;

	if (lring_peek(rx, 1, &idx)) {
		cqe = lring_cqe(rx, idx);
		struct lring_sqe sqe = { .buf_id = cqe->buf_id, .len = cqe->len };

		/* The same memory, by the same id in both pools: nothing copied. */
		seqs[*sent % RELAY_BLOCKS] = cqe->seq;
		lring_release(rx, 1);
		*bad += lring_send(tx, &sqe, 1) != 0;
		++*sent;
		moved = true;
	}
	n = lring_take_free(tx, BUF_COUNT, ids);
	if (n) {
		*bad += lring_return(rx, ids, n) != 0;
		moved = true;
	}
	if (lring_peek(out, 1, &idx)) {
		uint32_t id;

		long at;

		cqe = lring_cqe(out, idx);
		id = cqe->buf_id;
		at = ktest_bad_offset(lring_buf(out, id), cqe->len, SEED,
				      seqs[*checked % RELAY_BLOCKS]);
		if (cqe->len != BUF_SIZE || at >= 0) {
			if (!(*bad)++)
				ktest_diag("relay: block %d (seq %llu): len %u, wrong from byte %ld",
					   *checked, (unsigned long long)seqs[*checked % RELAY_BLOCKS],
					   cqe->len, at);
		}
		++*checked;
		lring_release(out, 1);
		*bad += lring_return(out, &id, 1) != 0;
		moved = true;
	}
	return moved;
}

static void test_relay(int argc, char **argv)
{
	int ring_rx = argc > 0 ? atoi(argv[0]) : 0, ring_tx = argc > 1 ? atoi(argv[1]) : 3;
	int ring_out = argc > 2 ? atoi(argv[2]) : 2;
	int fds[BUF_COUNT], sent = 0, checked = 0, bad = 0, ret;
	uint64_t seqs[RELAY_BLOCKS], deadline;
	struct lring *rx, *tx, *out;
	uint32_t ids[BUF_COUNT];
	char path[32];

	if (!ktest_ok(!pin_setup(ring_rx, LRING_BACKEND_NONCONTIG, false, &rx),
		      "relay: the first device's receiving ring") ||
	    !ktest_ok(!pin_setup(ring_out, LRING_BACKEND_STREAMING, false, &out),
		      "relay: the second device's receiving ring"))
		return;
	for (int i = 0; i < BUF_COUNT; i++)
		fds[i] = export_buf(rx, i, LRING_EXPORT_CLOEXEC);
	ktest_dev_path(ring_tx, path, sizeof(path));
	ret = fds[BUF_COUNT - 1] < 0 ? fds[BUF_COUNT - 1] : lring_open(path, &tx);
	if (!ret)
		ret = lring_configure(tx, &(struct lring_config){
			.buf_count = BUF_COUNT, .buf_size = BUF_SIZE,
			.backend = LRING_BACKEND_DMABUF, .flags = LRING_CONFIG_TX,
			.dmabuf_fds = (uintptr_t)fds });
	close_all(fds, BUF_COUNT);
	if (!ktest_ok(!ret, "relay: its buffers, as dma-bufs, the pool of the second device's sending ring (%s)",
		      strerror(-ret)))
		return;
	/* Every sending buffer starts free: take them, to send as blocks come. */
	ktest_ok(lring_take_free(tx, BUF_COUNT, ids) == BUF_COUNT,
		 "relay: the sending ring's buffers are the application's");
	/*
	 * The sending ring first: a receiving ring that ran alone would get
	 * the device's own pattern; beside a sending one it gets only what
	 * is sent.
	 */
	ret = lring_start(tx) ?: lring_start(out) ?: lring_start(rx);
	deadline = ktest_now_ns() + 120000000000ull;
	while (!ret && checked < RELAY_BLOCKS && ktest_now_ns() < deadline)
		if (!relay_step(rx, tx, out, seqs, &sent, &checked, &bad))
			usleep(1000);
	ktest_ok(checked == RELAY_BLOCKS && !bad,
		 "relay: %d blocks from one device to the other, no copy, every byte checked (%d bad)",
		 checked, bad);
	lring_stop(rx);
	lring_stop(tx);
	lring_stop(out);
	lring_close(tx);
	pin_close(out);
	pin_close(rx);
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
		{ "import", test_import },
		{ "relay", test_relay },
	};

	return ktest_main(KTEST_SUBTESTS(tests), argc, argv);
}
