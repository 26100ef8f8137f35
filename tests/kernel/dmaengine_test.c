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
 *   dmaengine_test cyclic DEVICE BLOCKS STALL_MS [BUF_SIZE] [BUF_COUNT]
 *       a ring in cyclic mode on lring_cpudma, the CPU-driven controller,
 *       whose "ADC" writes a 64-bit sample counter that never stops: a
 *       pool that is not one block of whole pages is refused; BLOCKS
 *       blocks, then a stall of STALL_MS while the engine laps the ring,
 *       then BLOCKS more. Every block is the counter at its place in the
 *       stream (its sequence number) unless the engine had gone a lap
 *       past it when it was read; the stall's periods are counted
 *       dropped, reported to the reader in the completions' gaps, and it
 *       overwrote buffers the application held; buffers went back
 *       without a kick; the ring produced every period the controller
 *       completed, no more
 *   dmaengine_test cyclic_refused DEVICE
 *       the engine refuses the cyclic transfer once (fail_function on
 *       lring_dmaengine_prep_cyclic): start fails with EIO and says why
 *       in the log, the next start streams; SKIP on a kernel without
 *       fail_function
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

/* The first line of the file at @path, "" if unreadable. */
static void file_text(const char *path, char *text, int size)
{
	FILE *f = fopen(path, "r");

	text[0] = 0;
	if (!f)
		return;
	if (!fgets(text, size, f))
		text[0] = 0;
	fclose(f);
}

/* The first line of /sys/devices/platform/@name/@attr, "" if unreadable. */
static void device_text(const char *name, const char *attr, char *text, int size)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "/sys/devices/platform/%s/%s", name, attr);
	file_text(path, text, size);
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

/* What a cyclic run saw. */
struct cyclic_tally {
	uint64_t seq0;		/* the first block's sequence number */
	uint64_t sample0;	/* and its first word */
	uint32_t good;		/* blocks right for their place */
	uint32_t lapped;	/* wrong, with the engine a lap past them */
	uint32_t bad;		/* wrong, without that excuse */
	uint64_t gaps;		/* drops the completions reported */
	bool started;
};

/*
 * Reads @blocks completions (or until @deadline): each block must hold the
 * sample counter from where its sequence number puts it in the stream. A
 * block that does not is excused only if, when it was read, the engine had
 * reached its buffer again: the ring had produced at least seq + count - 1
 * blocks (the one being written is not counted yet).
 */
static void read_cyclic(struct lring *r, const struct lring_config *cfg,
			uint32_t blocks, uint64_t deadline, struct cyclic_tally *t)
{
	uint32_t words = cfg->buf_size / 8, read = 0, i;

	while (read < blocks && ktest_now_ns() < deadline) {
		const struct lring_cqe *cqe = next_cqe(r);
		const uint64_t *w;
		struct lring_counters c;
		uint64_t want;
		bool right;

		if (!cqe)
			continue;
		w = lring_buf(r, cqe->buf_id);
		if (!t->started) {
			t->started = true;
			t->seq0 = cqe->seq;
			t->sample0 = w[0];
		}
		t->gaps += cqe->dropped;
		want = t->sample0 + (cqe->seq - t->seq0) * words;
		right = cqe->len == cfg->buf_size && !(cqe->flags & LRING_CQE_F_ERROR);
		for (i = 0; right && i < words; i++)
			right = w[i] == want + i;
		if (right)
			t->good++;
		else if (!lring_counters(r, &c) &&
			 c.produced + 1 >= cqe->seq + cfg->buf_count)
			t->lapped++;
		else
			t->bad++;
		read++;
		if (give_back(r, cqe->buf_id))
			break;
	}
}

/* /sys/module/@module/parameters/@param as a number, -1 if unreadable. */
static long long module_param_value(const char *module, const char *param)
{
	char path[PATH_MAX], text[32];

	snprintf(path, sizeof(path), "/sys/module/%s/parameters/%s", module, param);
	file_text(path, text, sizeof(text));
	return text[0] ? strtoll(text, NULL, 0) : -1;
}

static void test_cyclic(int argc, char **argv)
{
	const char *name = argc > 0 ? argv[0] : "lring-dmaengine.0";
	uint32_t blocks = argc > 1 ? strtoul(argv[1], NULL, 0) : 300;
	uint32_t stall_ms = argc > 2 ? strtoul(argv[2], NULL, 0) : 500;
	struct lring_config cfg = {
		.buf_size = argc > 3 ? strtoul(argv[3], NULL, 0) : 16384,
		.buf_count = argc > 4 ? strtoul(argv[4], NULL, 0) : 16,
		.backend = LRING_BACKEND_STREAMING,
	};
	long long period_us = module_param_value("lring_cpudma", "period_us");
	struct cyclic_tally before = {}, after = {};
	long long periods0, periods;
	uint64_t stall_dropped;
	struct lring_counters c;
	int ring = ring_of(name);
	uint64_t deadline;
	struct lring *r;
	char path[32];
	int ret;

	ktest_dev_path(ring, path, sizeof(path));
	/* Refused: a pool of separate buffers, and buffers that leave holes. */
	ret = ring >= 0 ? lring_open(path, &r) : -ENODEV;
	if (!ktest_ok(!ret, "cyclic: %s's ring %d opens (%s)", name, ring, lring_strerror(ret)))
		return;
	ret = lring_configure(r, &cfg);
	ktest_ok(ret == -EINVAL, "cyclic: a pool not in one block is refused (%s)",
		 lring_strerror(ret));
	cfg.flags = LRING_CONFIG_ONE_BLOCK;
	cfg.buf_size -= 8;
	ret = lring_configure(r, &cfg);
	ktest_ok(ret == -EINVAL, "cyclic: buffers of %u bytes, not whole pages, are refused (%s)",
		 cfg.buf_size, lring_strerror(ret));
	cfg.buf_size += 8;
	lring_close(r);

	periods0 = device_attr("lring-cpudma", "periods");
	if (!ktest_ok(period_us > 0 && periods0 >= 0 &&
		      !ktest_open_configured(ring, &r, &cfg) && !lring_start(r),
		      "cyclic: %s streams a pool of %u x %u bytes in one block, a period every %lld us",
		      name, cfg.buf_count, cfg.buf_size, period_us))
		return;
	deadline = ktest_now_ns() + 120000000000ull;
	read_cyclic(r, &cfg, blocks, deadline, &before);
	usleep(stall_ms * 1000);
	/* Reported with the first completion after the backlog, at the latest. */
	if (lring_counters(r, &c))
		memset(&c, 0, sizeof(c));
	stall_dropped = c.dropped;
	/* The backlog, then as many blocks again, from the same place. */
	after.started = true;
	after.seq0 = before.seq0;
	after.sample0 = before.sample0;
	read_cyclic(r, &cfg, cfg.buf_count + blocks, deadline, &after);
	lring_stop(r);
	periods = device_attr("lring-cpudma", "periods") - periods0;
	if (lring_counters(r, &c))
		memset(&c, 0xff, sizeof(c));

	ktest_ok(before.good + before.lapped >= blocks && !before.bad,
		 "cyclic: %u blocks, each the counter at its place in the stream (%u lapped, %u wrong)",
		 before.good + before.lapped, before.lapped, before.bad);
	ktest_ok(after.good >= blocks && !after.bad,
		 "cyclic: after a stall of %u ms the stream goes on: %u blocks right, %u wrong",
		 stall_ms, after.good, after.bad);
	ktest_ok(after.lapped > 0,
		 "cyclic: the stall let the engine write over held buffers, and the check saw it (%u blocks)",
		 after.lapped);
	ktest_ok(stall_dropped >= (uint64_t)stall_ms * 1000 / period_us / 4 &&
		 before.gaps + after.gaps >= stall_dropped &&
		 before.gaps + after.gaps <= c.dropped &&
		 c.produced == c.delivered + c.dropped,
		 "cyclic: the laps were counted: %llu dropped by the stall's end, reported in gaps (%llu of %llu), produced %llu = delivered %llu + dropped",
		 (unsigned long long)stall_dropped,
		 (unsigned long long)(before.gaps + after.gaps),
		 (unsigned long long)c.dropped,
		 (unsigned long long)c.produced, (unsigned long long)c.delivered);
	/* Regression test: docs/reliability.md entry 38 */
	ktest_ok(c.need_wakeups == 0 && c.kicks == 0,
		 "cyclic: no syscall to return buffers, even after the stall: the driver looks at the fill ring every period (need_wakeups %llu, kicks %llu)",
		 (unsigned long long)c.need_wakeups, (unsigned long long)c.kicks);
	ktest_ok(periods >= (long long)c.produced && periods <= (long long)c.produced + 2,
		 "cyclic: the ring produced every period the controller completed (%lld periods, %llu produced)",
		 periods, (unsigned long long)c.produced);
	lring_close(r);
}

static void test_cyclic_refused(int argc, char **argv)
{
	const char *name = argc > 0 ? argv[0] : "lring-dmaengine.0";
	struct lring_config cfg = {
		.buf_size = 16384,
		.buf_count = 16,
		.backend = LRING_BACKEND_STREAMING,
		.flags = LRING_CONFIG_ONE_BLOCK,
	};
	struct cyclic_tally t = {};
	int ring = ring_of(name), ret;
	struct lring *r;

	if (access(KTEST_FAIL_FUNC "/inject", W_OK)) {
		ktest_ok(true, "cyclic_refused # SKIP kernel without fail_function");
		return;
	}
	if (!ktest_ok(ring >= 0 && !ktest_open_configured(ring, &r, &cfg),
		      "cyclic_refused: %s's ring %d set up", name, ring))
		return;
	if (!ktest_ok(!ktest_fail_function("lring_dmaengine_prep_cyclic", 0, 1, "1"),
		      "cyclic_refused: the engine refuses the next cyclic transfer")) {
		ktest_fail_function_off();
		lring_close(r);
		return;
	}
	ret = lring_start(r);
	ktest_fail_function_off();
	ktest_ok(ret == -EIO &&
		 !system("dmesg | grep -q 'the DMA engine refused a cyclic transfer'"),
		 "cyclic_refused: start fails with EIO and the log says why (%s)",
		 lring_strerror(ret));
	ret = lring_start(r);
	if (ktest_ok(!ret, "cyclic_refused: the next start streams (%s)", lring_strerror(ret)))
		read_cyclic(r, &cfg, 50, ktest_now_ns() + 60000000000ull, &t);
	lring_stop(r);
	ktest_ok(t.good + t.lapped == 50 && !t.bad,
		 "cyclic_refused: 50 blocks of the counter (%u lapped, %u wrong)", t.lapped, t.bad);
	lring_close(r);
}

int main(int argc, char **argv)
{
	static const struct ktest_subtest tests[] = {
		{ "counter", test_counter },
		{ "refused", test_refused },
		{ "cyclic", test_cyclic },
		{ "cyclic_refused", test_cyclic_refused },
	};

	return ktest_main(KTEST_SUBTESTS(tests), argc, argv);
}
