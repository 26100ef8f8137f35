// SPDX-License-Identifier: GPL-2.0
/*
 * dmaengine_test - lring_dmaengine in slave mode, on a peripheral that
 * streams: the ring's device tree node names a channel of the SoC's DMA
 * controller and, as its FIFO, a register whose value only grows (the
 * Raspberry Pi's free-running 1 MHz system timer, run-vm's raspi3b
 * machine). Every buffer is one DEV_TO_MEM transfer of 32-bit reads of it.
 *
 *   dmaengine_test counter DEVICE BLOCKS [BUF_SIZE] [BUF_COUNT]
 *       the ring of platform device DEVICE (the node's name, lring-timer):
 *       BLOCKS blocks, each whole (the engine's residue 0), each word no
 *       smaller than the one before it across the whole stream, and the
 *       counter moving on between the first block and the last; no block
 *       flagged, none dropped, the counters balanced
 */
#include "ktest.h"

/* N of the /dev/lringN that platform device @name registered, or -1. */
static int ring_of(const char *name)
{
	char path[PATH_MAX];
	int n;

	for (n = 0; n < 64; n++) {
		char link[64];

		snprintf(link, sizeof(link), "/sys/class/lring/lring%d/device", n);
		if (realpath(link, path) && !strcmp(strrchr(path, '/') + 1, name))
			return n;
	}
	return -1;
}

static void test_counter(int argc, char **argv)
{
	const char *name = argc > 0 ? argv[0] : "lring-timer";
	int ring = ring_of(name);
	uint32_t blocks = argc > 1 ? strtoul(argv[1], NULL, 0) : 200;
	struct lring_config cfg = {
		.buf_size = argc > 2 ? strtoul(argv[2], NULL, 0) : 65536,
		.buf_count = argc > 3 ? strtoul(argv[3], NULL, 0) : 8,
		.backend = LRING_BACKEND_STREAMING,
	};
	uint64_t deadline = ktest_now_ns() + 60000000000ull;
	uint32_t done = 0, short_blocks = 0, flagged = 0, backwards = 0;
	uint32_t first = 0, last = 0, idx, id, i;
	struct lring_counters c;
	struct lring *r;

	if (!ktest_ok(ring >= 0 && !ktest_open_configured(ring, &r, &cfg) && !lring_start(r),
		      "counter: %s's ring %d streams", name, ring))
		return;
	while (done < blocks && ktest_now_ns() < deadline) {
		const struct lring_cqe *cqe;
		const uint32_t *w;

		if (!lring_peek(r, 1, &idx)) {
			lring_wait(r, 1000);
			continue;
		}
		cqe = lring_cqe(r, idx);
		id = cqe->buf_id;
		w = lring_buf(r, id);
		short_blocks += cqe->len != cfg.buf_size;
		flagged += !!(cqe->flags & (LRING_CQE_F_ERROR | LRING_CQE_F_GAP));
		for (i = 0; i < cqe->len / 4; i++) {
			if (!done && !i)
				first = last = w[0];
			backwards += w[i] < last;
			last = w[i];
		}
		done++;
		lring_release(r, 1);
		if (lring_return(r, &id, 1))
			break;
	}
	lring_stop(r);
	ktest_ok(done == blocks && !short_blocks && !flagged,
		 "counter: %u blocks of %u bytes, whole and unflagged (%u short, %u flagged)",
		 done, cfg.buf_size, short_blocks, flagged);
	ktest_ok(!backwards && last > first,
		 "counter: the register's value only grew, from %u to %u (%u words went back)",
		 first, last, backwards);
	ktest_ok(!lring_counters(r, &c) && c.dropped == 0 &&
		 c.produced == c.delivered && c.delivered >= done,
		 "counter: counters balance (produced %llu, delivered %llu, dropped %llu)",
		 (unsigned long long)c.produced, (unsigned long long)c.delivered,
		 (unsigned long long)c.dropped);
	lring_close(r);
}

int main(int argc, char **argv)
{
	static const struct ktest_subtest tests[] = {
		{ "counter", test_counter },
	};

	return ktest_main(KTEST_SUBTESTS(tests), argc, argv);
}
