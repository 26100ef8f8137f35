// SPDX-License-Identifier: GPL-2.0
/*
 * edu_test - the lring_edu driver on QEMU's edu PCI device, in the test VM
 * (lring.ko and lring_edu.ko loaded; the group adds iomem=relaxed so the
 * test can poke the device's registers through resource0).
 *
 *   edu_test stream [BACKEND] [blocks] [buf_size] [buf_count] [block_size]
 *                   [segments: N at least, =N exactly]
 *                                       BACKEND: coherent, streaming,
 *                                       noncontig or user (anonymous memory)
 *   edu_test loopback BACKEND [blocks] [buf_size] [buf_count]
 *                                       blocks sent on the sending ring come
 *                                       back through the device's DMA into
 *                                       the receiving ring, byte for byte
 *   edu_test kill BACKEND               kill -9 mid-stream frees everything
 *   edu_test fail BACKEND FUNCTION N    FUNCTION fails at its N-th call (debug)
 *   edu_test nosync_detected [blocks]   (lring.ko debug_skip_sync_for_cpu=1)
 *   edu_test spurious [backend]         interrupts nobody asked for
 *   edu_test rebind                     sysfs unbind/bind while streaming
 *   edu_test remove [backend]           PCI remove, rmmod, insmod, rescan
 *   edu_test cache_maintenance [backend [size count]]
 *                                       cache invalidations counted per
 *                                       hand-off: some iff the device is not
 *                                       coherent (count_events.sh calls)
 *
 * Every block is checked byte by byte against the pattern of
 * uapi/linux/lring_edu.h (the simulated device's, so ktest.h verifies it).
 * The device is slow (200 ms per 4095 bytes), so the consumers sleep on the
 * eventfd instead of spinning. See main() for the subtests.
 */
/* ktest.h's sim helpers are not all used here. */
#pragma GCC diagnostic ignored "-Wunused-function"
#include "ktest.h"

#include <dirent.h>
#include <pthread.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>

#include <linux/lring_edu.h>

#define EDU_BUF_SIZE	4000	/* one piece: two transfers per block */

static const char *const backend_names[] = {
	[LRING_BACKEND_COHERENT] = "coherent",
	[LRING_BACKEND_STREAMING] = "streaming",
	[LRING_BACKEND_NONCONTIG] = "noncontig",
	[LRING_BACKEND_USER] = "user",
};

static uint32_t parse_backend(const char *s)
{
	uint32_t b;

	for (b = 0; s && b < sizeof(backend_names) / sizeof(backend_names[0]); b++)
		if (!strcmp(s, backend_names[b]))
			return b;
	return LRING_BACKEND_COHERENT;
}

static const char *backend_name(uint32_t b)
{
	return backend_names[b];
}

/* The application memory behind a user-backend pool, freed by edu_close(). */
static void *user_region;
static size_t user_region_len;

static int read_text(const char *path, char *text, size_t size)
{
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return -errno;
	n = read(fd, text, size - 1);
	close(fd);
	if (n < 0)
		return -EIO;
	text[n] = 0;
	return 0;
}

static int write_text(const char *path, const char *text)
{
	ssize_t len = strlen(text), n;
	int fd = open(path, O_WRONLY);

	if (fd < 0)
		return -errno;
	n = write(fd, text, len);
	close(fd);
	return n == len ? 0 : -errno;
}

/*
 * Finds a ring of an edu device: /sys/class/lring/lringN whose device is
 * PCI 1234:11e8 and whose "directions" is @dir ("rx": the receiving ring,
 * "tx": the sending one), of the device at @want if it is not NULL.
 * Waits up to @wait_ms for it (after bind or rescan).
 * Return: N, with the PCI address in @bdf; -ENODEV if there is none.
 */
static int edu_find_dir(char *bdf, size_t size, unsigned wait_ms,
			const char *dir, const char *want)
{
	uint64_t deadline = ktest_now_ns() + wait_ms * 1000000ull;

	do {
		struct dirent *de;
		DIR *d = opendir("/sys/class/lring");
		int ring = -1;

		while (d && (de = readdir(d))) {
			char path[300], text[64], link[300];
			ssize_t n;

			if (strncmp(de->d_name, "lring", 5))
				continue;
			snprintf(path, sizeof(path), "/sys/class/lring/%s/device/vendor",
				 de->d_name);
			if (read_text(path, text, sizeof(text)) ||
			    strtoul(text, NULL, 0) != LRING_EDU_VENDOR)
				continue;
			snprintf(path, sizeof(path), "/sys/class/lring/%s/device/device",
				 de->d_name);
			if (read_text(path, text, sizeof(text)) ||
			    strtoul(text, NULL, 0) != LRING_EDU_DEVICE)
				continue;
			snprintf(path, sizeof(path), "/sys/class/lring/%s/directions",
				 de->d_name);
			if (read_text(path, text, sizeof(text)) ||
			    strncmp(text, dir, strlen(dir)))
				continue;
			snprintf(path, sizeof(path), "/sys/class/lring/%s/device",
				 de->d_name);
			n = readlink(path, link, sizeof(link) - 1);
			if (n <= 0)
				continue;
			link[n] = 0;
			if (want && strcmp(want, strrchr(link, '/') + 1))
				continue;
			snprintf(bdf, size, "%s", strrchr(link, '/') + 1);
			ring = atoi(de->d_name + 5);
			snprintf(path, sizeof(path), "/dev/%s", de->d_name);
			if (access(path, R_OK | W_OK))
				ring = -1;	/* devtmpfs not there yet */
			else
				break;
		}
		if (d)
			closedir(d);
		if (ring >= 0)
			return ring;
		ktest_sleep_ms(50);
	} while (ktest_now_ns() < deadline);
	return -ENODEV;
}

/* The receiving ring of any edu device. */
static int edu_find(char *bdf, size_t size, unsigned wait_ms)
{
	return edu_find_dir(bdf, size, wait_ms, "rx", NULL);
}

static int64_t edu_attr(const char *bdf, const char *attr)
{
	char path[160], text[64];

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/%s", bdf, attr);
	if (read_text(path, text, sizeof(text)))
		return -1;
	return strtoll(text, NULL, 0);
}

static int edu_set_attr(const char *bdf, const char *attr, uint64_t val)
{
	char path[160], text[32];

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/%s", bdf, attr);
	snprintf(text, sizeof(text), "%" PRIu64, val);
	return write_text(path, text);
}

/* Opens the edu ring, sets the seed and configures the pool. */
static int edu_setup(int ring, const char *bdf, struct lring **out,
		     uint32_t buf_count, uint32_t buf_size, uint32_t backend,
		     uint64_t seed)
{
	struct lring_config cfg = {
		.buf_count = buf_count,
		.buf_size = buf_size,
		.backend = backend,
	};
	int ret;

	ret = edu_set_attr(bdf, "seed", seed) ?: edu_set_attr(bdf, "block_size", 0);
	if (ret) {
		ktest_diag("%s: seed, block_size: %s", bdf, strerror(-ret));
		return ret;
	}
	if (backend == LRING_BACKEND_USER) {
		/* Plain anonymous pages: scattered, so many DMA segments. */
		user_region_len = (size_t)buf_size * buf_count;
		user_region = mmap(NULL, user_region_len, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (user_region == MAP_FAILED)
			return -errno;
		madvise(user_region, user_region_len, MADV_NOHUGEPAGE);
		/* Last page first: descending frames, which no segment merges. */
		for (size_t off = user_region_len; off; off -= 4096)
			((volatile char *)user_region)[off - 4096] = 0;
		cfg.user_addr = (uintptr_t)user_region;
		cfg.user_len = user_region_len;
	}
	return ktest_open_configured(ring, out, &cfg);
}

/* Closes @r (if any) and frees the application memory behind its pool. */
static void edu_close(struct lring *r)
{
	if (r)
		lring_close(r);
	if (user_region && user_region != MAP_FAILED)
		munmap(user_region, user_region_len);
	user_region = NULL;
}

/*
 * Consumes until @count blocks are seen, sleeping on the eventfd between
 * batches. Return: 0, or the error that ended the wait.
 */
static int edu_consume(struct lring *r, struct ktest_stream *s, uint64_t count,
		       unsigned timeout_ms)
{
	uint64_t deadline = ktest_now_ns() + timeout_ms * 1000000ull;
	int ret;

	while (s->buffers < count) {
		if (ktest_consume(r, s, 64))
			continue;
		if (ktest_now_ns() > deadline)
			return -ETIMEDOUT;
		ret = lring_wait(r, 1000);
		if (ret < 0 && ret != -ETIMEDOUT)
			return ret;
	}
	return 0;
}

static void counters(struct lring *r, struct lring_counters *c)
{
	if (ioctl(r->fd, LRING_IOC_GET_COUNTERS, c))
		memset(c, 0xff, sizeof(*c));
}

static void check_stream(struct lring *r, const struct ktest_stream *s,
			 const char *what)
{
	struct lring_counters c;

	counters(r, &c);
	ktest_ok(s->bad_data == 0, "%s: every byte matches the pattern (%llu bad blocks)",
		 what, (unsigned long long)s->bad_data);
	ktest_ok(s->bad_seq == 0, "%s: sequence numbers contiguous (%llu breaks)",
		 what, (unsigned long long)s->bad_seq);
	ktest_ok(s->bad_len == 0, "%s: every block has its length (%llu wrong)",
		 what, (unsigned long long)s->bad_len);
	ktest_ok(c.produced == c.delivered && c.dropped == 0,
		 "%s: the device stalls instead of dropping (produced %llu delivered %llu dropped %llu)",
		 what, (unsigned long long)c.produced,
		 (unsigned long long)c.delivered, (unsigned long long)c.dropped);
	ktest_ok(s->buffers == c.delivered && c.device_errors == 0,
		 "%s: consumer saw every delivered block (%llu of %llu), no errors",
		 what, (unsigned long long)s->buffers,
		 (unsigned long long)c.delivered);
	ktest_ok(c.rejected_ids == 0 && c.rejected_indices == 0,
		 "%s: nothing rejected", what);
}

/* @count blocks of @size bytes, every byte and sequence number checked. */
static void test_stream(int argc, char **argv)
{
	uint32_t backend = parse_backend(argc > 0 ? argv[0] : NULL);
	uint64_t count = argc > 1 ? strtoull(argv[1], NULL, 0) : 60;
	uint32_t size = argc > 2 ? strtoul(argv[2], NULL, 0) : EDU_BUF_SIZE;
	uint32_t nbufs = argc > 3 ? strtoul(argv[3], NULL, 0) : 32;
	uint32_t block = argc > 4 ? strtoul(argv[4], NULL, 0) : 0;
	/* "N": at least N DMA segments per buffer; "=N": exactly N. */
	const char *segs = argc > 5 ? argv[5] : "1";
	bool exact = segs[0] == '=';
	uint32_t want_segs = strtoul(segs + exact, NULL, 0);
	uint32_t len = block ? block : size;
	struct ktest_stream s = { .seed = 0xed0 + count, .expect_len = len,
				  .shuffle = true, .seed_rng = 3 };
	uint32_t pieces = (len + LRING_EDU_XFER_MAX - 1) / LRING_EDU_XFER_MAX;
	int64_t spurious0, spurious;
	struct lring_info info;
	uint64_t t0, ns;
	struct lring *r;
	char what[100], bdf[64];
	int ring, ret;

	snprintf(what, sizeof(what), "edu stream %s %llu x %u of %u bytes (pool %u)",
		 backend_name(backend), (unsigned long long)count, len, size, nbufs);
	ring = edu_find(bdf, sizeof(bdf), 2000);
	if (!ktest_ok(ring >= 0, "%s: edu ring found", what))
		return;
	if (!ktest_ok(!edu_setup(ring, bdf, &r, nbufs, size, backend, s.seed),
		      "%s: setup (lring%d at %s)", what, ring, bdf))
		return;
	ktest_ok(!edu_set_attr(bdf, "block_size", block), "%s: block_size %u", what, block);
	if (lring_get_info(r, &info))
		info.segments_per_buf = 0;
	ktest_ok(exact ? info.segments_per_buf == want_segs : info.segments_per_buf >= want_segs,
		 "%s: %u DMA segments per buffer at most (%s%u expected)", what,
		 info.segments_per_buf, exact ? "" : "at least ", want_segs);
	/* Every segment boundary inside a block can cut one more piece. */
	pieces += info.segments_per_buf;
	lring_enable_eventfd(r, 1);
	spurious0 = edu_attr(bdf, "spurious_irqs");
	t0 = ktest_now_ns();
	ktest_ok(!lring_start(r), "%s: start", what);
	ret = edu_consume(r, &s, count, count * pieces * 1000 + 10000);
	ns = ktest_now_ns() - t0;
	ktest_ok(!ret, "%s: %llu blocks arrive (%s)", what,
		 (unsigned long long)s.buffers, ret ? strerror(-ret) : "ok");
	ktest_ok(!lring_stop(r), "%s: stop", what);
	while (ktest_consume(r, &s, 64))
		;
	check_stream(r, &s, what);
	spurious = edu_attr(bdf, "spurious_irqs");
	ktest_ok(spurious == spurious0, "%s: no spurious interrupts (%lld)", what,
		 (long long)(spurious - spurious0));
	ktest_diag("%s: %llu bytes in %.1f s, %.0f ms per block",
		   what, (unsigned long long)s.bytes, ns / 1e9,
		   s.buffers ? ns / 1e6 / s.buffers : 0.0);
	edu_set_attr(bdf, "block_size", 0);
	edu_close(r);
}

/* The sender's side of the loopback: what it submitted, in order. */
struct edu_sender {
	struct lring *r;
	uint64_t seed;
	uint32_t len;
	uint64_t submitted;
};

/* Writes block n of the pattern into each free buffer and submits it. */
static int edu_send_free(struct edu_sender *tx, uint64_t limit)
{
	struct lring_sqe sqes[16];
	uint32_t ids[16];
	unsigned n, i;

	/* Only as many as will be sent: a free buffer taken stays ours. */
	n = lring_take_free(tx->r, limit - tx->submitted < 16 ?
			    limit - tx->submitted : 16, ids);
	for (i = 0; i < n; i++) {
		ktest_write_block(lring_buf(tx->r, ids[i]), tx->len, tx->seed,
				  tx->submitted++);
		sqes[i] = (struct lring_sqe){ .buf_id = ids[i], .len = tx->len };
	}
	return lring_send(tx->r, sqes, n);
}

/*
 * loopback BACKEND COUNT [SIZE] [BUFS]: COUNT blocks sent on the sending
 * ring go RAM -> edu -> RAM by the device's DMA engine into the receiving
 * ring, which must get each one, in order, every byte as written. Then
 * blocks in flight when sending stops come back unsent, and the books of
 * both rings balance.
 */
static void test_loopback(int argc, char **argv)
{
	uint32_t backend = parse_backend(argc > 0 ? argv[0] : NULL);
	uint64_t count = argc > 1 ? strtoull(argv[1], NULL, 0) : 20;
	uint32_t size = argc > 2 ? strtoul(argv[2], NULL, 0) : EDU_BUF_SIZE;
	uint32_t nbufs = argc > 3 ? strtoul(argv[3], NULL, 0) : 8;
	struct ktest_stream s = { .seed = 0x100b + count, .expect_len = size,
				  .shuffle = true, .seed_rng = 5 };
	struct edu_sender tx = { .seed = s.seed, .len = size };
	struct lring_config cfg = { .buf_count = nbufs, .buf_size = size,
				    .backend = backend, .flags = LRING_CONFIG_TX };
	uint32_t pieces = (size + LRING_EDU_XFER_MAX - 1) / LRING_EDU_XFER_MAX;
	uint64_t deadline = ktest_now_ns() + (count * pieces * 400 + 20000) * 1000000ull;
	struct lring_counters ct, cr;
	int rx_ring, tx_ring, ret = 0;
	struct lring *rx = NULL;
	char what[100], bdf[64], tx_bdf[64];
	void *tx_mem = MAP_FAILED;
	struct pollfd p[2];

	snprintf(what, sizeof(what), "edu loopback %s %llu x %u bytes",
		 backend_name(backend), (unsigned long long)count, size);
	rx_ring = edu_find(bdf, sizeof(bdf), 2000);
	tx_ring = rx_ring < 0 ? -ENODEV :
		  edu_find_dir(tx_bdf, sizeof(tx_bdf), 0, "tx", bdf);
	if (!ktest_ok(rx_ring >= 0 && tx_ring >= 0,
		      "%s: the device's two rings (rx lring%d, tx lring%d)",
		      what, rx_ring, tx_ring))
		return;
	if (backend == LRING_BACKEND_USER) {
		/* The sender's own memory too: blocks written where it has them. */
		tx_mem = mmap(NULL, (size_t)nbufs * size, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		cfg.user_addr = (uintptr_t)tx_mem;
		cfg.user_len = (uint64_t)nbufs * size;
	}
	if (!ktest_ok(!edu_setup(rx_ring, bdf, &rx, nbufs, size, backend, s.seed) &&
		      !ktest_open_configured(tx_ring, &tx.r, &cfg),
		      "%s: both rings configured", what))
		goto out;
	lring_enable_eventfd(rx, 1);
	lring_enable_eventfd(tx.r, 1);
	/* Sending first: the receiving ring then waits for what is sent. */
	ktest_ok(!lring_start(tx.r) && !lring_start(rx), "%s: both started", what);
	while (s.buffers < count && !ret && ktest_now_ns() < deadline) {
		ret = edu_send_free(&tx, count);
		if (ktest_consume(rx, &s, 64))
			continue;
		p[0] = (struct pollfd){ .fd = lring_event_fd(rx), .events = POLLIN };
		p[1] = (struct pollfd){ .fd = lring_event_fd(tx.r), .events = POLLIN };
		if (poll(p, 2, 1000) > 0) {
			lring_eventfd_drain(p[0].fd);
			lring_eventfd_drain(p[1].fd);
		}
	}
	ktest_ok(s.buffers == count && !ret,
		 "%s: every block sent comes back through the device (%llu of %llu, %s)",
		 what, (unsigned long long)s.buffers, (unsigned long long)count,
		 ret ? strerror(-ret) : "ok");
	check_stream(rx, &s, what);

	/* Blocks in flight when sending stops come back unsent, counted. */
	ret = edu_send_free(&tx, tx.submitted + nbufs);
	ktest_sleep_ms(300);
	lring_stop(tx.r);
	lring_stop(rx);
	counters(tx.r, &ct);
	counters(rx, &cr);
	ktest_ok(!ret && ct.returned == ct.delivered + ct.cancelled && !ct.dropped &&
		 ct.cancelled > 0,
		 "%s: stop with blocks in flight: submitted %llu == sent %llu + cancelled %llu",
		 what, (unsigned long long)ct.returned,
		 (unsigned long long)ct.delivered, (unsigned long long)ct.cancelled);
	/*
	 * A block cut short reaches neither ring; once sending stopped, the
	 * receiving ring may have made a pattern block: right all the same.
	 */
	while (ktest_consume(rx, &s, 64))
		;
	ktest_ok(cr.dropped == 0 && cr.delivered >= ct.delivered &&
		 s.bad_data == 0 && s.bad_seq == 0,
		 "%s: the receiving ring got every block sent, right (%llu of %llu)",
		 what, (unsigned long long)cr.delivered, (unsigned long long)ct.delivered);
	ktest_ok(ct.rejected_ids == 0 && ct.rejected_indices == 0,
		 "%s: the sender's submissions all taken", what);
out:
	if (tx.r)
		lring_close(tx.r);
	edu_close(rx);
	if (tx_mem != MAP_FAILED)
		munmap(tx_mem, (size_t)nbufs * size);
}

/*
 * After a failure or a kill: a fresh @backend pool on @ring streams 3
 * blocks, every byte right.
 */
static void check_streams_again(int ring, const char *bdf, uint32_t backend,
				struct ktest_stream *s, const char *what)
{
	struct lring *r;
	int ret;

	ret = edu_setup(ring, bdf, &r, 8, 16384, backend, s->seed);
	if (!ret && lring_start(r)) {
		edu_close(r);
		ret = -1;
	}
	if (!ktest_ok(!ret, "%s: the ring streams again", what))
		return;
	lring_enable_eventfd(r, 1);
	ktest_ok(!edu_consume(r, s, 3, 60000) && !s->bad_data && !s->bad_seq,
		 "%s: 3 blocks after it, every byte right", what);
	edu_close(r);
}

/*
 * kill -9 of a consumer in the middle of a stream: every page it pinned is
 * unpinned and every mapping undone (DMA-API debug checks the latter on the
 * debug kernel), and the ring streams again for the next process.
 */
static void test_kill(int argc, char **argv)
{
	uint32_t backend = parse_backend(argc > 0 ? argv[0] : NULL);
	struct ktest_stream s = { .seed = 0xdead, .expect_len = 16384 };
	long long pins0 = ktest_pins_held();
	volatile uint64_t *seen;
	char bdf[64], what[32];
	struct lring *r;
	int ring, status, i;
	pid_t pid;

	ring = edu_find(bdf, sizeof(bdf), 2000);
	if (!ktest_ok(ring >= 0, "kill %s: edu ring found", backend_name(backend)))
		return;
	seen = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	*seen = 0;
	pid = fork();
	if (pid == 0) {
		struct ktest_stream cs = s;

		if (edu_setup(ring, bdf, &r, 8, 16384, backend, s.seed) || lring_start(r))
			_exit(2);
		lring_enable_eventfd(r, 1);
		for (;;) {
			edu_consume(r, &cs, cs.buffers + 1, 60000);
			*seen = cs.buffers;
		}
	}
	for (i = 0; i < 600 && !*seen && !waitpid(pid, &status, WNOHANG); i++)
		ktest_sleep_ms(100);
	ktest_ok(*seen > 0, "kill %s: the consumer streamed (%llu blocks)",
		 backend_name(backend), (unsigned long long)*seen);
	if (backend == LRING_BACKEND_USER)
		ktest_ok(ktest_pins_held() - pins0 == 8 * 4,
			 "kill user: the consumer pinned its 32 pages (%lld)",
			 ktest_pins_held() - pins0);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	ktest_wait_for(ktest_pins_held() == pins0, 5000);
	ktest_ok(ktest_pins_held() == pins0,
		 "kill %s: kill -9 mid-transfer leaves no page pinned (%lld)",
		 backend_name(backend), ktest_pins_held() - pins0);
	snprintf(what, sizeof(what), "kill %s", backend_name(backend));
	check_streams_again(ring, bdf, backend, &s, what);
	munmap((void *)seen, 4096);
}

/*
 * Run with lring.ko debug_skip_sync_for_cpu=1 under swiotlb=force: the
 * device's data stays in the bounce buffers and the consumer must see it
 * wrong, which proves test_stream would catch a missing sync.
 */
static void test_nosync_detected(int argc, char **argv)
{
	/* Buffers of whole pages; blocks of one piece, to stream quickly. */
	struct ktest_stream s = { .seed = 0x5eed, .expect_len = EDU_BUF_SIZE };
	uint64_t count = argc > 0 ? strtoull(argv[0], NULL, 0) : 20;
	struct lring *r;
	char bdf[64];
	int ring;

	ring = edu_find(bdf, sizeof(bdf), 2000);
	/* Pinned pages: the one pool swiotlb still bounces. */
	if (!ktest_ok(ring >= 0 && !edu_setup(ring, bdf, &r, 8, 16384,
					      LRING_BACKEND_USER, s.seed) &&
		      !edu_set_attr(bdf, "block_size", EDU_BUF_SIZE),
		      "nosync: setup"))
		return;
	lring_enable_eventfd(r, 1);
	lring_start(r);
	ktest_ok(!edu_consume(r, &s, count, count * 1000 + 10000),
		 "nosync: %llu blocks arrive", (unsigned long long)count);
	lring_stop(r);
	ktest_ok(s.bad_data > 0,
		 "nosync: without the sync the consumer sees wrong data (%llu of %llu blocks)",
		 (unsigned long long)s.bad_data, (unsigned long long)s.buffers);
	edu_close(r);
}

/* BAR0 of the device, mapped through sysfs, to play a misbehaving device. */
static volatile uint32_t *edu_map_bar(const char *bdf)
{
	char path[160];
	void *p;
	int fd;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource0", bdf);
	fd = open(path, O_RDWR | O_SYNC);
	if (fd < 0)
		return NULL;
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	return p == MAP_FAILED ? NULL : p;
}

static void edu_raise(volatile uint32_t *bar, uint32_t bits)
{
	bar[LRING_EDU_REG_IRQ_RAISE / 4] = bits;
}

struct storm {
	volatile uint32_t *bar;
	volatile bool stop;
	unsigned raised;
};

static void *storm_thread(void *p)
{
	struct storm *st = p;

	while (!st->stop) {
		/* The DMA bit too: it must not pass for a finished transfer. */
		edu_raise(st->bar, st->raised % 2 ? LRING_EDU_IRQ_DMA : 0x1);
		st->raised++;
		ktest_sleep_ms(7);
	}
	return NULL;
}

/*
 * Interrupts the driver did not ask for, idle and while streaming, are
 * counted in spurious_irqs and change nothing in the stream.
 */
static void test_spurious(int argc, char **argv)
{
	uint32_t backend = parse_backend(argc > 0 ? argv[0] : NULL);
	struct ktest_stream s = { .seed = 0x57, .expect_len = EDU_BUF_SIZE };
	struct storm st = { 0 };
	int64_t before, after;
	struct lring *r;
	pthread_t t;
	char bdf[64];
	int ring, i;

	ring = edu_find(bdf, sizeof(bdf), 2000);
	if (!ktest_ok(ring >= 0, "spurious: edu ring found"))
		return;
	st.bar = edu_map_bar(bdf);
	if (!ktest_ok(st.bar != NULL, "spurious: BAR0 mapped through resource0 (%s)",
		      strerror(errno)))
		return;
	ktest_ok((st.bar[LRING_EDU_REG_ID / 4] & 0xff) == 0xed,
		 "spurious: the ID register reads 0x..ed (%#x)",
		 st.bar[LRING_EDU_REG_ID / 4]);

	before = edu_attr(bdf, "spurious_irqs");
	for (i = 0; i < 10; i++) {
		edu_raise(st.bar, i % 2 ? LRING_EDU_IRQ_DMA : 0x1);
		ktest_sleep_ms(20);
	}
	after = edu_attr(bdf, "spurious_irqs");
	ktest_ok(after - before >= 10,
		 "spurious: 10 interrupts with no DMA pending are counted (%lld)",
		 (long long)(after - before));
	ktest_ok(st.bar[LRING_EDU_REG_IRQ_STATUS / 4] == 0,
		 "spurious: and acknowledged (status %#x)",
		 st.bar[LRING_EDU_REG_IRQ_STATUS / 4]);

	if (!ktest_ok(!edu_setup(ring, bdf, &r, 8, EDU_BUF_SIZE, backend, s.seed),
		      "spurious: setup (%s)", backend_name(backend)))
		return;
	lring_enable_eventfd(r, 1);
	before = edu_attr(bdf, "spurious_irqs");
	lring_start(r);
	pthread_create(&t, NULL, storm_thread, &st);
	ktest_ok(!edu_consume(r, &s, 30, 60000),
		 "spurious: 30 blocks arrive during an interrupt storm");
	st.stop = true;
	pthread_join(t, NULL);
	lring_stop(r);
	while (ktest_consume(r, &s, 64))
		;
	after = edu_attr(bdf, "spurious_irqs");
	ktest_ok(after - before > 0 && after - before <= st.raised + 2,
		 "spurious: the storm is counted (%lld counted, %u raised)",
		 (long long)(after - before), st.raised);
	check_stream(r, &s, "spurious");
	edu_close(r);
	munmap((void *)st.bar, 4096);
}

struct waiter {
	struct lring *r;
	struct ktest_stream s;
	int ret;
};

static void *wait_thread(void *p)
{
	struct waiter *w = p;

	for (;;) {
		w->ret = lring_wait(w->r, 10000);
		if (w->ret < 0 && w->ret != -ETIMEDOUT)
			return NULL;
		ktest_consume(w->r, &w->s, 64);
	}
}

/*
 * A child that holds the mapping: it reads blocks until told the device is
 * gone, then reports DEAD from the control page and reads every buffer.
 * Exits 0 if they read as zeros; a SIGBUS would also be a clean end.
 */
static void mapping_holder(struct lring *r, int go_fd, int report_fd)
{
	volatile uint8_t sink = 0;
	uint32_t i, j;
	char c;

	close(r->fd);	/* the mapping alone keeps the pool */
	while (read(go_fd, &c, 1) != 1 || c != 'g') {
		sink += *(volatile uint8_t *)lring_buf(r, 0);
		ktest_sleep_ms(10);
	}
	c = lring_flags(r) & LRING_F_DEAD ? 'D' : 'x';
	if (write(report_fd, &c, 1) != 1)
		_exit(3);
	for (i = 0; i < r->layout.buf_count; i++) {
		const volatile uint8_t *p = lring_buf(r, i);

		for (j = 0; j < r->layout.buf_size; j++)
			if (p[j])
				_exit(4);
	}
	(void)sink;
	_exit(0);
}

/* Return: the signal that ended @pid, or 1000 + its exit status. */
static int wait_child(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFSIGNALED(status) ? WTERMSIG(status) : 1000 + WEXITSTATUS(status);
}

/* A short stream on whatever edu ring exists now. */
static void stream_again(const char *what)
{
	struct ktest_stream s = { .seed = 0xa9a1, .expect_len = EDU_BUF_SIZE };
	struct lring *r;
	char bdf[64];
	int ring = edu_find(bdf, sizeof(bdf), 5000);

	if (!ktest_ok(ring >= 0 && !edu_setup(ring, bdf, &r, 4, EDU_BUF_SIZE,
					      LRING_BACKEND_COHERENT, s.seed),
		      "%s: the device is back (lring%d at %s)", what, ring, ring >= 0 ? bdf : "-"))
		return;
	lring_enable_eventfd(r, 1);
	lring_start(r);
	ktest_ok(!edu_consume(r, &s, 10, 20000), "%s: a new stream works", what);
	lring_stop(r);
	ktest_ok(s.bad_data == 0 && s.bad_seq == 0,
		 "%s: every byte of the new stream right", what);
	edu_close(r);
}

/*
 * The PCI device is removed (sysfs remove) while one consumer sleeps on
 * the eventfd and a child holds the mapping; then the driver unloads,
 * comes back, and a rescan brings the device back.
 */
static void test_remove(int argc, char **argv)
{
	struct waiter w = { .ret = 1, .s = { .seed = 0x3e, .expect_len = EDU_BUF_SIZE } };
	uint32_t backend = parse_backend(argc > 0 ? argv[0] : NULL);
	int go[2], report[2], sig, i;
	char bdf[64], path[160], c = 0;
	struct lring_info info;
	pthread_t t;
	pid_t pid;
	int ring;

	ring = edu_find(bdf, sizeof(bdf), 2000);
	if (!ktest_ok(ring >= 0 && !edu_setup(ring, bdf, &w.r, 8, EDU_BUF_SIZE,
					      backend, w.s.seed),
		      "remove: setup (%s)", backend_name(backend)))
		return;
	if (pipe(go) || pipe(report))
		return;
	fcntl(go[0], F_SETFL, O_NONBLOCK);
	pid = fork();
	if (pid == 0)
		mapping_holder(w.r, go[0], report[1]);
	lring_enable_eventfd(w.r, 1);
	lring_start(w.r);
	pthread_create(&t, NULL, wait_thread, &w);
	/* A few blocks through, so a transfer is surely in flight. */
	ktest_wait_for(__atomic_load_n(&w.s.buffers, __ATOMIC_RELAXED) >= 3, 30000);

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/remove", bdf);
	ktest_ok(!write_text(path, "1"),
		 "remove: the device is removed while streaming, waited on and mapped");
	for (i = 0; i < 50 && w.ret > 0; i++)
		ktest_sleep_ms(100);
	ktest_ok(w.ret == -ENODEV, "remove: the eventfd sleeper wakes with -ENODEV (%d)",
		 w.ret);
	pthread_join(t, NULL);
	ktest_ok(w.s.buffers > 0 && w.s.bad_data == 0 && w.s.bad_seq == 0,
		 "remove: what arrived before was right (%llu blocks)",
		 (unsigned long long)w.s.buffers);
	ktest_ok(ioctl(w.r->fd, LRING_IOC_GET_INFO, &info) && errno == ENODEV,
		 "remove: ioctls fail with ENODEV");
	ktest_ok(write(go[1], "g", 1) == 1 && read(report[0], &c, 1) == 1 && c == 'D',
		 "remove: the mapping's control page stays readable and says DEAD");
	sig = wait_child(pid);
	ktest_ok(sig == 1000 || sig == SIGBUS,
		 "remove: the mapped buffers stay safe: %s", sig == 1000 ?
		 "they read as zeros" : sig == SIGBUS ? "they fault (SIGBUS)" :
		 "wrong (see the exit status)");
	if (sig != 1000 && sig != SIGBUS)
		ktest_diag("remove: mapping holder ended with %d", sig);
	lring_close(w.r);

	ktest_ok(system("rmmod lring_edu") == 0,
		 "remove: the driver unloads after the removal");
	ktest_ok(system("insmod $LRING_MODULES/lring_edu.ko") == 0,
		 "remove: and loads again");
	ktest_ok(!write_text("/sys/bus/pci/rescan", "1"), "remove: rescan");
	stream_again("remove");
}

/* Unbind while the ring streams and is mapped; bind brings a new ring. */
static void test_rebind(int argc, char **argv)
{
	struct ktest_stream s = { .seed = 0xb1, .expect_len = EDU_BUF_SIZE };
	struct lring *r;
	char bdf[64];
	int ring, ret, i;

	(void)argc;
	(void)argv;
	ring = edu_find(bdf, sizeof(bdf), 2000);
	if (!ktest_ok(ring >= 0 && !edu_setup(ring, bdf, &r, 8, EDU_BUF_SIZE,
					      LRING_BACKEND_COHERENT, s.seed),
		      "rebind: setup"))
		return;
	lring_enable_eventfd(r, 1);
	lring_start(r);
	ktest_ok(!edu_consume(r, &s, 3, 10000), "rebind: streaming");
	ktest_ok(s.bad_data == 0 && s.bad_seq == 0, "rebind: data before was right");
	ktest_ok(!write_text("/sys/bus/pci/drivers/lring_edu/unbind", bdf),
		 "rebind: unbind while streaming");
	/*
	 * Blocks still waiting when the device went away read as zeros (their
	 * pages are revoked), so their data is not checked: only that the
	 * consumer learns the ring died.
	 */
	ret = 0;
	for (i = 0; i < 20 && ret != -ENODEV; i++)
		ret = edu_consume(r, &s, UINT64_MAX, 200);
	ktest_ok(ret == -ENODEV && (lring_flags(r) & LRING_F_DEAD),
		 "rebind: the consumer sees the ring die (%d)", ret);
	edu_close(r);
	ktest_ok(edu_find(bdf, sizeof(bdf), 0) == -ENODEV, "rebind: no edu ring while unbound");
	ktest_ok(!write_text("/sys/bus/pci/drivers/lring_edu/bind", bdf), "rebind: bind");
	stream_again("rebind");
}

/*
 * fail BACKEND FUNCTION N: the module's FUNCTION fails at its N-th call
 * while an edu pool is configured (fail_function, debug kernel): the
 * configure gets ENOMEM, what was pinned and mapped before is undone (pin
 * count here, DMA-API debug in the kernel log), and the ring streams.
 */
static void test_fail(int argc, char **argv)
{
	uint32_t backend = parse_backend(argc > 0 ? argv[0] : NULL);
	const char *func = argc > 1 ? argv[1] : "lring_user_pin";
	unsigned nth = argc > 2 ? strtoul(argv[2], NULL, 0) : 1;
	struct ktest_stream s = { .seed = 0xfa11, .expect_len = 16384 };
	long long pins0 = ktest_pins_held();
	char bdf[64], what[80];
	struct lring *r = NULL;
	int ring, ret;

	if (access(KTEST_FAIL_FUNC "/inject", W_OK)) {
		ktest_ok(true, "fail %s # SKIP kernel without fail_function", func);
		return;
	}
	ring = edu_find(bdf, sizeof(bdf), 2000);
	if (!ktest_ok(ring >= 0, "fail %s: edu ring found", func))
		return;
	ret = ktest_fail_function(func, -ENOMEM, nth, "1");
	if (!ktest_ok(!ret, "fail %s: armed (%s)", func, strerror(-ret))) {
		ktest_fail_function_off();
		return;
	}
	ret = edu_setup(ring, bdf, &r, 8, 16384, backend, s.seed);
	ktest_fail_function_off();
	edu_close(ret ? NULL : r);
	ktest_ok(ret == -ENOMEM, "fail %s (call %u): a %s pool on edu gets ENOMEM (%s)",
		 func, nth, backend_name(backend), strerror(-ret));
	ktest_ok(ktest_pins_held() == pins0, "fail %s: no page left pinned (%lld)", func,
		 ktest_pins_held() - pins0);
	snprintf(what, sizeof(what), "fail %s", func);
	check_streams_again(ring, bdf, backend, &s, what);
}

/*
 * cache_maintenance BACKEND [SIZE COUNT]: 40 blocks streamed by "edu_test
 * stream BACKEND 40 SIZE COUNT" under "count_events.sh calls", which counts
 * the kernel's arch_sync_dma_for_cpu() calls: the CPU cache maintenance of
 * a hand-off. On a device the firmware does
 * not call coherent, every block must have had its cache lines invalidated
 * (one call per block at least); on a coherent device there must be none.
 */
static void test_cache_maintenance(int argc, char **argv)
{
	const char *backend = argc > 0 ? argv[0] : "streaming";
	const char *size = argc > 1 ? argv[1] : "", *count = argc > 2 ? argv[2] : "";
	char args[160], bdf[64];
	int ring, inner_failed;
	bool coherent;
	long calls;

	ring = edu_find(bdf, sizeof(bdf), 2000);
	if (!ktest_ok(ring >= 0, "cache_maintenance: edu ring found"))
		return;
	coherent = ktest_dma_coherent(ring);
	snprintf(args, sizeof(args), "calls arch_sync_dma_for_cpu edu_test stream %s 40 %s %s",
		 backend, size, count);
	calls = ktest_count_events(args, "calls", &inner_failed);
	if (calls == -2) {
		ktest_ok(true, "cache_maintenance # SKIP no arch_sync_dma_for_cpu() to count (x86: all DMA is coherent)");
		return;
	}
	ktest_ok(calls >= 0 && !inner_failed,
		 "cache_maintenance %s: 40 blocks, every byte right", backend);
	if (coherent)
		ktest_ok(calls == 0,
			 "cache_maintenance %s: coherent device, no cache maintenance (%ld calls)",
			 backend, calls);
	else
		ktest_ok(calls >= 40,
			 "cache_maintenance %s: non-coherent device, %ld cache invalidations for 40 blocks",
			 backend, calls);
}

static const struct ktest_subtest tests[] = {
	{ "stream", test_stream },
	{ "loopback", test_loopback },
	{ "kill", test_kill },
	{ "fail", test_fail },
	{ "nosync_detected", test_nosync_detected },
	{ "spurious", test_spurious },
	{ "remove", test_remove },
	{ "rebind", test_rebind },
	{ "cache_maintenance", test_cache_maintenance },
};

int main(int argc, char **argv)
{
	return ktest_main(KTEST_SUBTESTS(tests), argc, argv);
}
