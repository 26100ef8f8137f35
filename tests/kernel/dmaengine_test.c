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
 *   dmaengine_test refused DEVICE FUNCTION RETVAL TIMES
 *       the engine refuses TIMES transfers (fail_function makes the
 *       driver's FUNCTION return RETVAL: lring_dmaengine_prep as if the
 *       engine's driver had no descriptor, lring_dmaengine_submit as if
 *       it refused the descriptor): exactly TIMES blocks come back
 *       flagged LRING_CQE_F_ERROR and empty, counted by the device's
 *       errors attribute and the ring's device_errors; every other block
 *       is whole and right (the pattern on a memcpy ring, a growing
 *       counter on a slave one) and the stream goes on; SKIP on a kernel
 *       without fail_function
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

/* The next completion, after waiting up to a second for one; or NULL. */
static const struct lring_cqe *next_cqe(struct lring *r)
{
	uint32_t idx;

	if (!lring_peek(r, 1, &idx)) {
		lring_wait(r, 1000);
		if (!lring_peek(r, 1, &idx))
			return NULL;
	}
	return lring_cqe(r, idx);
}

/* Releases the completion just read and returns its buffer @id. */
static int give_back(struct lring *r, uint32_t id)
{
	lring_release(r, 1);
	return lring_return(r, &id, 1);
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
	uint32_t first = 0, last = 0, i;
	struct lring_counters c;
	struct lring *r;

	if (!ktest_ok(ring >= 0 && !ktest_open_configured(ring, &r, &cfg) && !lring_start(r),
		      "counter: %s's ring %d streams", name, ring))
		return;
	while (done < blocks && ktest_now_ns() < deadline) {
		const struct lring_cqe *cqe = next_cqe(r);
		const uint32_t *w;

		if (!cqe)
			continue;
		w = lring_buf(r, cqe->buf_id);
		short_blocks += cqe->len != cfg.buf_size;
		flagged += !!(cqe->flags & (LRING_CQE_F_ERROR | LRING_CQE_F_GAP));
		for (i = 0; i < cqe->len / 4; i++) {
			if (!done && !i)
				first = last = w[0];
			backwards += w[i] < last;
			last = w[i];
		}
		done++;
		if (give_back(r, cqe->buf_id))
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

/* The first line of /sys/devices/platform/@name/@attr, "" if unreadable. */
static void device_text(const char *name, const char *attr, char *text, int size)
{
	char path[PATH_MAX];
	FILE *f;

	text[0] = 0;
	snprintf(path, sizeof(path), "/sys/devices/platform/%s/%s", name, attr);
	f = fopen(path, "r");
	if (!f)
		return;
	if (!fgets(text, size, f))
		text[0] = 0;
	fclose(f);
}

/* /sys/devices/platform/@name/@attr as a number, -1 if unreadable. */
static long long device_attr(const char *name, const char *attr)
{
	char text[32];

	device_text(name, attr, text, sizeof(text));
	return text[0] ? strtoll(text, NULL, 0) : -1;
}

/* Whether @name's channel copies the staging pattern (else: a FIFO). */
static bool copies_pattern(const char *name)
{
	char text[96];

	device_text(name, "channel", text, sizeof(text));
	return strstr(text, " memcpy") != NULL;
}

static void test_refused(int argc, char **argv)
{
	const char *name = argc > 0 ? argv[0] : "lring-dmaengine";
	const char *func = argc > 1 ? argv[1] : "lring_dmaengine_prep";
	int retval = argc > 2 ? strtol(argv[2], NULL, 0) : 0;
	const char *times = argc > 3 ? argv[3] : "5";
	uint32_t want = strtoul(times, NULL, 0), good_wanted = 100;
	struct lring_config cfg = {
		.buf_size = 65536,
		.buf_count = 8,
		.backend = LRING_BACKEND_STREAMING,
	};
	bool pattern = copies_pattern(name);
	long long seed = device_attr(name, "seed");
	long long errors = device_attr(name, "errors");
	uint32_t flagged = 0, empty = 0, good = 0, bad = 0, i;
	uint64_t deadline = ktest_now_ns() + 120000000000ull;
	uint32_t last = 0;
	struct lring_counters c;
	int ring = ring_of(name);
	struct lring *r;

	if (access(KTEST_FAIL_FUNC "/inject", W_OK)) {
		ktest_ok(true, "refused # SKIP kernel without fail_function");
		return;
	}
	if (!ktest_ok(ring >= 0 && errors >= 0 && !ktest_open_configured(ring, &r, &cfg),
		      "refused: %s's ring %d set up (errors so far %lld)", name, ring, errors))
		return;
	if (!ktest_ok(!ktest_fail_function(func, retval, 1, times),
		      "refused: %s fails its next %s calls with %d", func, times, retval)) {
		ktest_fail_function_off();
		lring_close(r);
		return;
	}
	if (lring_start(r))
		ktest_diag("lring_start: %s", strerror(errno));
	while ((flagged < want || good < good_wanted) && ktest_now_ns() < deadline) {
		const struct lring_cqe *cqe = next_cqe(r);
		const uint32_t *w;

		if (!cqe)
			continue;
		w = lring_buf(r, cqe->buf_id);
		if (cqe->flags & LRING_CQE_F_ERROR) {
			flagged++;
			empty += cqe->len == 0;
		} else if (pattern) {
			good++;
			bad += cqe->len != cfg.buf_size ||
			       ktest_bad_offset(w, cqe->len, seed, cqe->seq) >= 0;
		} else {
			good++;
			bad += cqe->len != cfg.buf_size;
			for (i = 0; i < cqe->len / 4; i++) {
				bad += w[i] < last;
				last = w[i];
			}
		}
		if (give_back(r, cqe->buf_id))
			break;
	}
	lring_stop(r);
	ktest_fail_function_off();
	ktest_ok(flagged == want && empty == flagged,
		 "refused: %u blocks came back flagged as errors, %u of them empty (%u injected)",
		 flagged, empty, want);
	ktest_ok(good >= good_wanted && !bad,
		 "refused: the stream went on: %u blocks %s, %u wrong",
		 good, pattern ? "of the pattern" : "of a growing counter", bad);
	ktest_ok(device_attr(name, "errors") == errors + want,
		 "refused: the device counted them (errors %lld, was %lld)",
		 device_attr(name, "errors"), errors);
	ktest_ok(!lring_counters(r, &c) && c.device_errors == want && c.dropped == 0 &&
		 c.produced == c.delivered,
		 "refused: the ring counted them (device_errors %llu, produced %llu, delivered %llu, dropped %llu)",
		 (unsigned long long)c.device_errors, (unsigned long long)c.produced,
		 (unsigned long long)c.delivered, (unsigned long long)c.dropped);
	lring_close(r);
}

int main(int argc, char **argv)
{
	static const struct ktest_subtest tests[] = {
		{ "counter", test_counter },
		{ "refused", test_refused },
	};

	return ktest_main(KTEST_SUBTESTS(tests), argc, argv);
}
