// SPDX-License-Identifier: MIT
/*
 * tutorial_consumer - the smallest complete lring consumer, the one
 * docs/tutorial/ builds up. It streams COUNT blocks from a ring, checks
 * every byte and every sequence number, hands each buffer back at once, and
 * prints what the kernel's counters say the stream cost.
 *
 *   tutorial_consumer DEV COUNT [busy|eventfd] [coherent|streaming]
 *
 * Works on any lring device whose data follows the lring_sim pattern (the
 * simulated device and the edu driver); the seed is read from sysfs. Exit
 * status: 0 every byte right, 1 wrong data or a lost block, 2 setup error.
 */
#define _GNU_SOURCE
#include <err.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lring.h>
#include <linux/lring_sim.h>

#define BATCH 16

/* The device's seed: /sys/class/lring/<name>/device/seed. */
static uint64_t read_seed(const char *dev)
{
	char path[256], *copy = strdup(dev);
	unsigned long long seed = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/class/lring/%s/device/seed",
		 basename(copy));
	f = fopen(path, "r");
	if (!f || fscanf(f, "%llu", &seed) != 1)
		errx(2, "cannot read %s", path);
	fclose(f);
	free(copy);
	return seed;
}

/* tutorial: consumer-check */
/* Every 64-bit word of block @seq must be the pattern's word. */
static int block_ok(const void *buf, uint32_t len, uint64_t seed, uint64_t seq)
{
	const unsigned char *p = buf;
	uint32_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		uint64_t want = lring_sim_word(seed, seq, i / 8), got;

		memcpy(&got, p + i, 8);		/* little-endian, as x86 */
		if (got != want)
			return 0;
	}
	return 1;
}
/* tutorial-end: consumer-check */

int main(int argc, char **argv)
{
	const char *dev = argc > 1 ? argv[1] : "/dev/lring0";
	uint64_t count = argc > 2 ? strtoull(argv[2], NULL, 0) : 1000;
	int use_eventfd = argc > 3 && !strcmp(argv[3], "eventfd");
	int streaming = argc > 4 && !strcmp(argv[4], "streaming");
	uint64_t seed = read_seed(dev), blocks = 0, bad = 0, lost = 0;
	uint64_t next_seq = 0;
	struct lring_counters c;
	struct lring *r;
	int err;

	/* tutorial: consumer-setup */
	struct lring_config cfg = {
		.buf_count = 32,
		.buf_size = 4096,
		.backend = streaming ? LRING_BACKEND_STREAMING
				     : LRING_BACKEND_COHERENT,
	};

	err = lring_open(dev, &r);		/* open(): one consumer per ring */
	if (!err)
		err = lring_configure(r, &cfg);	/* allocate the pool, mmap() it */
	if (!err && use_eventfd)
		err = lring_enable_eventfd(r, 1);	/* signal on empty -> non-empty */
	if (!err)
		err = lring_start(r);		/* every buffer goes to the device */
	if (err)
		errx(2, "%s: %s", dev, lring_strerror(err));
	/* tutorial-end: consumer-setup */

	/* tutorial: consumer-loop */
	while (blocks < count) {
		uint64_t want = count - blocks < BATCH ? count - blocks : BATCH;
		uint32_t idx, ids[BATCH];
		unsigned n = lring_peek(r, want, &idx), i;	/* no syscall */

		if (!n) {
			if (use_eventfd) {
				err = lring_wait(r, 1000);	/* sleeps */
				if (err < 0 && err != -ETIMEDOUT)
					errx(2, "wait: %s", lring_strerror(err));
			}
			continue;				/* or spin */
		}
		for (i = 0; i < n; i++) {
			const struct lring_cqe *cqe = lring_cqe(r, idx + i);

			if (cqe->flags & LRING_CQE_F_GAP)
				lost += cqe->dropped;	/* counted, never silent */
			if (cqe->seq != next_seq + ((cqe->flags & LRING_CQE_F_GAP) ?
						    cqe->dropped : 0))
				bad++;			/* a block vanished */
			next_seq = cqe->seq + 1;
			if (!block_ok(lring_buf(r, cqe->buf_id), cqe->len, seed,
				      cqe->seq))
				bad++;
			ids[i] = cqe->buf_id;
			blocks++;
		}
		lring_release(r, n);		/* the ring slots: no syscall */
		err = lring_return(r, ids, n);	/* the buffers: kicks only if dry */
		if (err)
			errx(2, "return: %s", lring_strerror(err));
	}
	/* tutorial-end: consumer-loop */

	/* tutorial: consumer-report */
	lring_stop(r);
	lring_counters(r, &c);
	printf("%s: %" PRIu64 " blocks of %u bytes, %" PRIu64 " bad, %" PRIu64
	       " dropped\n", dev, blocks, lring_buf_size(r), bad, lost);
	printf("kernel: produced %llu delivered %llu dropped %llu kicks %llu "
	       "eventfd_signals %llu rejected_ids %llu\n",
	       (unsigned long long)c.produced, (unsigned long long)c.delivered,
	       (unsigned long long)c.dropped, (unsigned long long)c.kicks,
	       (unsigned long long)c.eventfd_signals,
	       (unsigned long long)c.rejected_ids);
	/* tutorial-end: consumer-report */
	lring_close(r);
	return bad ? 1 : 0;
}
