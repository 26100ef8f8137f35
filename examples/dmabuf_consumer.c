// SPDX-License-Identifier: MIT
/*
 * dmabuf_consumer - a consumer whose buffers belong to another driver: the
 * pool is dma-bufs from a dma-buf heap (/dev/dma_heap/system), as a GPU's
 * or a display's memory would be. The device writes into them by DMA; the
 * application reads each block through its own mapping of the dma-buf,
 * bracketed by DMA_BUF_IOCTL_SYNC, and hands the buffer back, with no copy
 * and, while blocks keep coming, no system call but those syncs.
 *
 *   dmabuf_consumer [--dev /dev/lring0] [--count N] [--buf-size B]
 *                   [--buf-count C] [--heap /dev/dma_heap/system]
 *
 * The heap is in Debian's 6.12 kernel (CONFIG_DMABUF_HEAPS_SYSTEM), not in
 * 6.1. On lring_sim it checks every byte. Its last line is key=value
 * pairs. Exit: 0 good, 1 bad data, 2 setup error.
 */
#define _GNU_SOURCE
#include <err.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/dma-buf.h>
#include <linux/dma-heap.h>
#include <lring.h>
#include <linux/lring_sim.h>

#define BATCH	64	/* completions taken per peek */

/* The simulated device's seed, from sysfs; -1 on another device. */
static int sim_seed(const char *dev, unsigned long long *seed)
{
	char path[256], *copy = strdup(dev);
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "/sys/class/lring/%s/device/seed", basename(copy));
	free(copy);
	f = fopen(path, "r");
	if (!f)
		return -1;
	ok = fscanf(f, "%llu", seed) == 1;
	fclose(f);
	return ok ? 0 : -1;
}

/* Every 64-bit word of block @seq must be the simulated device's word. */
static int block_ok(const void *buf, uint32_t len, uint64_t seed, uint64_t seq)
{
	const unsigned char *p = buf;
	uint32_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		uint64_t want = lring_sim_word(seed, seq, i / 8), got;

		memcpy(&got, p + i, 8);		/* little-endian, as x86 and arm */
		if (got != want)
			return 0;
	}
	return 1;
}

/* Begin or end a CPU access through a dma-buf's mapping; the exporter syncs. */
static void cpu_access(int fd, uint64_t flags)
{
	struct dma_buf_sync sync = { .flags = flags | DMA_BUF_SYNC_READ };

	if (ioctl(fd, DMA_BUF_IOCTL_SYNC, &sync))
		err(2, "DMA_BUF_IOCTL_SYNC");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dev", required_argument, NULL, 'd' },
		{ "count", required_argument, NULL, 'n' },
		{ "buf-size", required_argument, NULL, 'b' },
		{ "buf-count", required_argument, NULL, 'c' },
		{ "heap", required_argument, NULL, 'H' },
		{ 0 }
	};
	struct lring_config cfg = { .buf_count = 16, .buf_size = 65536,
				    .backend = LRING_BACKEND_DMABUF };
	const char *dev = "/dev/lring0", *heap_path = "/dev/dma_heap/system";
	uint64_t count = 10000, blocks = 0, bytes = 0, bad = 0, next_seq = 0;
	unsigned long long seed = 0;
	const struct lring_cqe *cqe;
	uint32_t idx, ids[BATCH];
	unsigned long i, n;
	int opt, ret, verify, heap, *fds;
	void **views;
	struct lring *r;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'd': dev = optarg; break;
		case 'n': count = strtoull(optarg, NULL, 0); break;
		case 'b': cfg.buf_size = strtoul(optarg, NULL, 0); break;
		case 'c': cfg.buf_count = strtoul(optarg, NULL, 0); break;
		case 'H': heap_path = optarg; break;
		default: errx(2, "usage: see the comment at the top of dmabuf_consumer.c");
		}
	}
	if (!cfg.buf_count || cfg.buf_count > 4096 || !cfg.buf_size)
		errx(2, "--buf-count 1..4096 and --buf-size > 0, please");

	/* tutorial: heap-pool */
	/* One dma-buf per buffer, each mapped here for reading. */
	heap = open(heap_path, O_RDWR | O_CLOEXEC);
	if (heap < 0)
		err(2, "%s (a kernel with CONFIG_DMABUF_HEAPS_SYSTEM)", heap_path);
	fds = calloc(cfg.buf_count, sizeof(*fds));
	views = calloc(cfg.buf_count, sizeof(*views));
	if (!fds || !views)
		err(2, "calloc");
	for (i = 0; i < cfg.buf_count; i++) {
		struct dma_heap_allocation_data alloc = {
			.len = cfg.buf_size, .fd_flags = O_RDWR | O_CLOEXEC,
		};

		if (ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &alloc))
			err(2, "%s: buffer %lu of %u bytes", heap_path, i, cfg.buf_size);
		fds[i] = alloc.fd;
		views[i] = mmap(NULL, cfg.buf_size, PROT_READ, MAP_SHARED, fds[i], 0);
		if (views[i] == MAP_FAILED)
			err(2, "mmap of dma-buf %lu", i);
	}
	close(heap);

	cfg.dmabuf_fds = (uintptr_t)fds;
	ret = lring_open(dev, &r);
	verify = !sim_seed(dev, &seed);
	if (!ret)
		ret = lring_configure(r, &cfg);	/* attach and map each for the device */
	/* tutorial-end: heap-pool */
	if (!ret)
		ret = lring_start(r);
	if (ret)
		errx(2, "%s: %s", dev, lring_strerror(ret));

	while (blocks < count) {
		n = lring_peek(r, BATCH, &idx);		/* no syscall */
		if (!n) {
			ret = lring_wait(r, 1000);	/* empty: sleep until a block */
			if (ret == -ENODEV)
				break;
			if (ret < 0 && ret != -ETIMEDOUT && ret != -EINTR)
				errx(2, "wait: %s", lring_strerror(ret));
			continue;
		}
		lring_for_each_cqe(r, idx, n, i, cqe) {
			if (cqe->seq != next_seq + ((cqe->flags & LRING_CQE_F_GAP) ?
						    cqe->dropped : 0))
				bad++;			/* a block vanished */
			next_seq = cqe->seq + 1;
			/* Not lring_buf(): the ring's mapping does not reach these. */
			cpu_access(fds[cqe->buf_id], DMA_BUF_SYNC_START);
			if (verify && !block_ok(views[cqe->buf_id], cqe->len, seed, cqe->seq))
				bad++;
			cpu_access(fds[cqe->buf_id], DMA_BUF_SYNC_END);
			bytes += cqe->len;
		}
		blocks += n;
		lring_cqe_ids(r, idx, n, ids);
		lring_release(r, n);
		ret = lring_return(r, ids, n);		/* a kick only if dry */
		if (ret)
			errx(2, "return: %s", lring_strerror(ret));
	}
	lring_stop(r);
	lring_close(r);		/* the ring lets go of its dma-bufs */
	for (i = 0; i < cfg.buf_count; i++) {
		munmap(views[i], cfg.buf_size);
		close(fds[i]);
	}
	free(views);
	free(fds);

	printf("result=%s blocks=%" PRIu64 " bytes=%" PRIu64 " bad=%" PRIu64
	       " verified=%d\n", bad ? "fail" : "pass", blocks, bytes, bad, verify);
	return bad ? 1 : 0;
}
