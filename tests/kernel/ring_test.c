// SPDX-License-Identifier: GPL-2.0
/*
 * ring_test - the ring's behaviour on the real module, in the test VM, with
 * the simulated device (lring_sim nr_rings >= 4 loaded).
 *
 *   ring_test <subtest> [args]
 *
 * Each subtest prints TAP lines; see main() for the list.
 */
#include "ktest.h"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>

#define BUF_SIZE_ODD	3000	/* not a page multiple: partial pages too */

static uint32_t parse_backend(const char *s)
{
	return s && !strcmp(s, "streaming") ? LRING_BACKEND_STREAMING :
					      LRING_BACKEND_COHERENT;
}

static const char *backend_name(uint32_t b)
{
	return b == LRING_BACKEND_STREAMING ? "streaming" : "coherent";
}

static void counters(struct lring *r, struct lring_counters *c)
{
	if (ioctl(r->fd, LRING_IOC_GET_COUNTERS, c))
		memset(c, 0xff, sizeof(*c));
}

/* Checks the books balance: every block produced is delivered or dropped. */
static void check_balance(struct lring *r, const struct ktest_stream *s,
			  const char *what)
{
	struct lring_counters c;

	counters(r, &c);
	ktest_ok(c.produced == c.delivered + c.dropped,
		 "%s: produced %llu == delivered %llu + dropped %llu", what,
		 (unsigned long long)c.produced, (unsigned long long)c.delivered,
		 (unsigned long long)c.dropped);
	ktest_ok(s->buffers == c.delivered,
		 "%s: consumer saw every delivered block (%llu of %llu)", what,
		 (unsigned long long)s->buffers, (unsigned long long)c.delivered);
	ktest_ok(c.rejected_ids == 0 && c.rejected_indices == 0,
		 "%s: nothing rejected (ids %llu, indices %llu)", what,
		 (unsigned long long)c.rejected_ids,
		 (unsigned long long)c.rejected_indices);
}

static void check_stream_clean(const struct ktest_stream *s, const char *what)
{
	ktest_ok(s->bad_data == 0, "%s: every byte matches the pattern (%llu bad blocks)",
		 what, (unsigned long long)s->bad_data);
	ktest_ok(s->bad_seq == 0, "%s: sequence numbers contiguous (%llu breaks)",
		 what, (unsigned long long)s->bad_seq);
	ktest_ok(s->bad_len == 0, "%s: every block has its length (%llu wrong)",
		 what, (unsigned long long)s->bad_len);
}

/* Every byte and sequence number of @count blocks, returns scrambled. */
static void test_stream(int argc, char **argv)
{
	uint32_t backend = parse_backend(argc > 0 ? argv[0] : NULL);
	uint64_t count = argc > 1 ? strtoull(argv[1], NULL, 0) : 100000;
	struct ktest_stream s = { .seed = 0x1234abcd, .expect_len = BUF_SIZE_ODD,
				  .shuffle = true, .seed_rng = 1 };
	struct lring_counters c;
	struct lring *r;
	char what[64];

	snprintf(what, sizeof(what), "stream %s %llu", backend_name(backend),
		 (unsigned long long)count);
	if (!ktest_ok(!ktest_setup(0, &r, 64, BUF_SIZE_ODD, backend, 0, 0,
				   s.seed, 0), "%s: setup", what))
		return;
	ktest_ok(!lring_start(r), "%s: start", what);
	ktest_ok(ktest_consume_until(r, &s, count, 600000),
		 "%s: %llu blocks arrive", what, (unsigned long long)count);
	ktest_ok(!lring_stop(r), "%s: stop", what);
	while (ktest_consume(r, &s, 256))
		;
	check_stream_clean(&s, what);
	check_balance(r, &s, what);
	counters(r, &c);
	ktest_ok(c.dropped == 0, "%s: a stalling device drops nothing (%llu)",
		 what, (unsigned long long)c.dropped);
	ktest_diag("%s: %llu bytes, kicks %llu, need_wakeups %llu", what,
		   (unsigned long long)s.bytes, (unsigned long long)c.kicks,
		   (unsigned long long)c.need_wakeups);
	lring_close(r);
}

/* Indices that start just below 2^32 wrap while the stream stays intact. */
static void test_wrap(int argc, char **argv)
{
	uint32_t backend = parse_backend(argc > 0 ? argv[0] : NULL);
	uint32_t base = 0xffffffffu - 300;
	struct ktest_stream s = { .seed = 77, .expect_len = 512,
				  .shuffle = true, .seed_rng = 7 };
	struct lring *r;
	uint32_t prod;

	if (!ktest_ok(!ktest_setup(0, &r, 8, 512, backend, 0, 0, s.seed, base),
		      "wrap: setup with index_base %#x", base))
		return;
	ktest_ok(*r->cq_producer == base && *r->fq_consumer == base,
		 "wrap: kernel indices start at the base");
	lring_start(r);
	ktest_ok(ktest_consume_until(r, &s, 5000, 120000), "wrap: 5000 blocks");
	lring_stop(r);
	while (ktest_consume(r, &s, 256))
		;
	prod = lring_load_acquire(r->cq_producer);
	ktest_ok(prod < base && prod > 4000,
		 "wrap: completion producer wrapped past 2^32 (now %u)", prod);
	ktest_ok(lring_load_acquire(r->fq_consumer) < base,
		 "wrap: fill consumer wrapped past 2^32");
	check_stream_clean(&s, "wrap");
	check_balance(r, &s, "wrap");
	lring_close(r);
}

/* A stalled consumer makes the device drop; the books still balance. */
static void test_drops(int argc, char **argv)
{
	struct ktest_stream s = { .seed = 99, .expect_len = 1024 };
	struct lring_counters c;
	struct lring *r;
	uint64_t trailing;

	(void)argc;
	(void)argv;
	if (!ktest_ok(!ktest_setup(0, &r, 16, 1024, LRING_BACKEND_COHERENT,
				   2000, 0, s.seed, 0), "drops: setup"))
		return;
	lring_start(r);
	ktest_sleep_ms(300);	/* hold all 16 buffers: the device drops */
	ktest_ok(ktest_consume_until(r, &s, 600, 60000), "drops: 600 blocks after the stall");
	ktest_sleep_ms(100);
	ktest_consume_until(r, &s, 700, 60000);
	lring_stop(r);
	while (ktest_consume(r, &s, 256))
		;
	counters(r, &c);
	trailing = c.produced - s.next_seq;
	ktest_ok(c.dropped > 0, "drops: the stall dropped blocks (%llu)",
		 (unsigned long long)c.dropped);
	ktest_ok(s.gaps + trailing == c.dropped,
		 "drops: gaps reported in completions (%llu) + after the last one (%llu) == dropped (%llu)",
		 (unsigned long long)s.gaps, (unsigned long long)trailing,
		 (unsigned long long)c.dropped);
	check_stream_clean(&s, "drops");
	check_balance(r, &s, "drops");
	ktest_ok(ktest_sysfs_read(0, "counters/dropped") == (int64_t)c.dropped,
		 "drops: sysfs counters/dropped agrees");
	lring_close(r);
}

/* Publishes fill entries without lring_fill_submit()'s automatic kick. */
static void return_without_kick(struct lring *r, const uint32_t *ids, unsigned n)
{
	uint32_t idx = 0;
	unsigned i;

	lring_fill_reserve(r, n, &idx);
	for (i = 0; i < n; i++)
		lring_fqe(r, idx + i)->buf_id = ids[i];
	r->fq_cached_prod += n;
	lring_store_release(r->fq_producer, r->fq_cached_prod);
}

/* The device runs dry, says so, waits for a kick, and resumes after one. */
static void test_need_wakeup(int argc, char **argv)
{
	struct lring_counters cs, c0, c1, c2;
	uint32_t ids[8], idx;
	unsigned got = 0, i, n;
	uint64_t deadline;
	struct lring *r;

	(void)argc;
	(void)argv;
	if (!ktest_ok(!ktest_setup(0, &r, 8, 4096, LRING_BACKEND_STREAMING, 0,
				   0, 5, 0), "need_wakeup: setup"))
		return;
	counters(r, &cs);
	lring_start(r);
	deadline = ktest_now_ns() + 10000000000ull;
	while (got < 8 && ktest_now_ns() < deadline) {
		n = lring_peek(r, 8 - got, &idx);
		for (i = 0; i < n; i++)
			ids[got++] = lring_cqe(r, idx + i)->buf_id;
		lring_release(r, n);
	}
	ktest_ok(got == 8, "need_wakeup: the application holds all 8 buffers");
	ktest_ok(ktest_wait_for(lring_needs_wakeup(r), 10000),
		 "need_wakeup: flag raised when the device ran dry");
	/*
	 * lring_sim's thread looks at the fill ring for 2 ms before it asks
	 * for a kick: until it gives up, a busy-polling application that
	 * returned a buffer must not see the flag and kick for nothing.
	 * Regression test: docs/reliability.md entry 35.
	 */
	ktest_sleep_ms(100);
	counters(r, &c0);
	ktest_ok(c0.need_wakeups == cs.need_wakeups + 1,
		 "need_wakeup: raised once, when the device stopped looking (%llu times)",
		 (unsigned long long)(c0.need_wakeups - cs.need_wakeups));
	return_without_kick(r, ids, 8);
	ktest_sleep_ms(200);
	counters(r, &c1);
	ktest_ok(c1.delivered == c0.delivered,
		 "need_wakeup: without a kick the device stays idle (%llu -> %llu)",
		 (unsigned long long)c0.delivered, (unsigned long long)c1.delivered);
	ktest_ok(!lring_kick(r), "need_wakeup: kick");
	ktest_wait_for((counters(r, &c2), c2.delivered > c1.delivered), 10000);
	ktest_ok(c2.kicks == c1.kicks + 1, "need_wakeup: the kick is counted");
	ktest_ok(c2.delivered > c1.delivered, "need_wakeup: the kick resumes the device");
	ktest_ok(c2.returned == c0.returned + 8, "need_wakeup: all 8 returns accepted");
	lring_stop(r);
	lring_close(r);
}

/* The backends with memory of their own; pin_test imports dma-bufs. */
static const char *const backend_names[] = { "coherent", "streaming", "noncontig", "user" };
#define MEMORY_BACKENDS (sizeof(backend_names) / sizeof(backend_names[0]))

/* Minor page faults this process took so far. */
static long minor_faults(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
}

/*
 * The first read of a large buffer costs one page fault, not one per page:
 * at the start of a stream a consumer that faulted 4 KiB at a time fell
 * behind a fast device by the whole pool (busy-poll then had to kick).
 * The data read through the pages mapped ahead must be the block's.
 * Regression test: docs/reliability.md entry 36.
 */
static void test_first_touch(int argc, char **argv)
{
	const uint32_t size = 1 << 20, pages = size / 4096;
	static const uint32_t backends[] = { LRING_BACKEND_COHERENT,
					     LRING_BACKEND_STREAMING,
					     LRING_BACKEND_NONCONTIG };
	uint32_t idx, b, got, n;
	volatile const unsigned char *p;
	const struct lring_cqe *c;
	uint64_t deadline;
	long before, faults;
	struct lring *r;
	unsigned i;

	(void)argc;
	(void)argv;
	for (b = 0; b < sizeof(backends) / sizeof(backends[0]); b++) {
		const char *name = backend_names[backends[b]];

		if (!ktest_ok(!ktest_setup(0, &r, 4, size, backends[b], 0, 0, 61, 0),
			      "first_touch %s: setup", name))
			continue;
		lring_start(r);
		deadline = ktest_now_ns() + 10000000000ull;
		for (got = 0; got < 4 && ktest_now_ns() < deadline; got += n) {
			n = lring_peek(r, 1, &idx);
			if (!n)
				continue;
			c = lring_cqe(r, idx);
			p = lring_buf(r, c->buf_id);
			before = minor_faults();
			for (i = 0; i < pages; i++)
				(void)p[(size_t)i * 4096];
			faults = minor_faults() - before;
			ktest_ok(faults <= 4,
				 "first_touch %s: reading buffer %u's %u pages took %ld page faults",
				 name, c->buf_id, pages, faults);
			ktest_ok(c->len == size &&
				 ktest_bad_offset((const void *)p, c->len, 61, c->seq) < 0,
				 "first_touch %s: buffer %u holds block %llu", name,
				 c->buf_id, (unsigned long long)c->seq);
			lring_release(r, 1);
		}
		ktest_ok(got == 4, "first_touch %s: all 4 buffers seen", name);
		lring_stop(r);
		lring_close(r);
	}
}

/*
 * Buffers of ring 0 whose bus address (debugfs) is not buffer 0's plus
 * @stride per buffer; @count + 1 if the file cannot be read.
 */
static unsigned dma_breaks(uint32_t count, uint64_t stride)
{
	char line[128], state[16];
	unsigned long long dma, first = 0;
	unsigned id, seen = 0, breaks = 0;
	FILE *f = fopen("/sys/kernel/debug/lring/lring0/buffers", "r");

	if (!f)
		return count + 1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%u %15s %llx", &id, state, &dma) != 3)
			continue;
		if (!seen++)
			first = dma;
		breaks += !dma || dma != first + id * stride;
	}
	fclose(f);
	return seen == count ? breaks : count + 1;
}

/*
 * LRING_CONFIG_ONE_BLOCK: the pool is one range for the device, buffer i
 * at i * stride from buffer 0 (what a DMA engine's cyclic transfer
 * walks), and streams like any streaming pool; other backends, and a pool
 * above the device's DMA segment limit, are refused. The bus addresses
 * come from debugfs (the pool's mapping is raw page frames, which
 * /proc/self/pagemap does not show).
 */
static void test_one_block(int argc, char **argv)
{
	struct lring_config cfg = {
		.buf_count = 16,
		.buf_size = 65536,
		.backend = LRING_BACKEND_STREAMING,
		.flags = LRING_CONFIG_ONE_BLOCK,
	};
	struct ktest_stream st = { .seed = 71, .expect_len = 65536 };
	static const uint32_t others[] = { LRING_BACKEND_COHERENT,
					   LRING_BACKEND_NONCONTIG };
	struct lring_config other;
	struct lring *r;
	unsigned i;
	int ret;

	(void)argc;
	(void)argv;
	if (ktest_setup(0, &r, 1, 4096, LRING_BACKEND_STREAMING, 0, 0, 71, 0))
		return;
	ktest_ok(lring_features(r) & LRING_FEAT_ONE_BLOCK,
		 "one_block: the module offers it (features %#llx)",
		 (unsigned long long)lring_features(r));
	for (i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		other = cfg;
		other.backend = others[i];
		ret = lring_configure(r, &other);
		ktest_ok(ret == -EINVAL, "one_block: refused for the %s backend (%s)",
			 backend_names[others[i]], lring_strerror(ret));
	}
	/* A device that takes 64 KiB segments cannot walk a 1 MiB block. */
	ret = ktest_sim_set(0, "max_segment", 65536);
	ktest_ok(!ret && lring_configure(r, &cfg) == -EINVAL &&
		 !ktest_sim_set(0, "max_segment", UINT32_MAX),
		 "one_block: refused above the device's DMA segment limit");
	lring_close(r);

	if (!ktest_ok(!ktest_open_configured(0, &r, &cfg),
		      "one_block: %u buffers of %u bytes in one block",
		      cfg.buf_count, cfg.buf_size))
		return;
	ktest_ok(dma_breaks(cfg.buf_count, cfg.buf_size) == 0,
		 "one_block: the device sees buffer i at buffer 0's address + i * %u (debugfs)",
		 cfg.buf_size);
	ktest_ok(dma_breaks(cfg.buf_count, 2 * cfg.buf_size) > 0,
		 "one_block: twin: the same check with twice the stride finds breaks");
	lring_start(r);
	ktest_ok(ktest_consume_until(r, &st, 2000, 60000) && !st.bad_data &&
		 !st.bad_seq && !st.bad_len,
		 "one_block: 2000 blocks stream, every byte right (%llu bad, %llu out of order)",
		 (unsigned long long)st.bad_data, (unsigned long long)st.bad_seq);
	lring_stop(r);
	lring_close(r);
}

/* A slow producer never leaves an eventfd sleeper stranded. */
static void test_eventfd_slow(int argc, char **argv)
{
	struct ktest_stream s = { .seed = 3, .expect_len = 256 };
	struct lring_counters c;
	unsigned timeouts = 0;
	struct lring *r;

	(void)argc;
	(void)argv;
	if (!ktest_ok(!ktest_setup(0, &r, 16, 256, LRING_BACKEND_COHERENT, 50,
				   0, s.seed, 0), "eventfd_slow: setup"))
		return;
	ktest_ok(!lring_enable_eventfd(r, 1), "eventfd_slow: eventfd armed");
	lring_start(r);
	while (s.buffers < 100 && timeouts < 3) {
		int ret = lring_wait(r, 2000);

		if (ret == -ETIMEDOUT)
			timeouts++;
		else
			ktest_consume(r, &s, 64);
	}
	lring_stop(r);
	counters(r, &c);
	ktest_ok(timeouts == 0, "eventfd_slow: no lost wakeup in 100 blocks at 50/s (%u timeouts)",
		 timeouts);
	ktest_ok(c.eventfd_signals >= 1 && c.eventfd_signals <= c.delivered,
		 "eventfd_slow: at most one signal per block (%llu for %llu)",
		 (unsigned long long)c.eventfd_signals,
		 (unsigned long long)c.delivered);
	check_stream_clean(&s, "eventfd_slow");
	lring_close(r);
}

/* No signal while completions wait unconsumed; batch thresholds hold. */
static void test_eventfd_busy(int argc, char **argv)
{
	struct ktest_stream s = { .seed = 4, .expect_len = 256 };
	struct lring_counters c0, c1, c2;
	struct lring *r;

	(void)argc;
	(void)argv;
	if (!ktest_ok(!ktest_setup(0, &r, 512, 256, LRING_BACKEND_COHERENT,
				   1000, 0, s.seed, 0), "eventfd_busy: setup"))
		return;
	lring_enable_eventfd(r, 1);
	lring_start(r);
	ktest_wait_for((counters(r, &c0), c0.delivered >= 50), 10000);
	ktest_ok(c0.delivered >= 50 && c0.eventfd_signals == 1,
		 "eventfd_busy: one signal for %llu unconsumed completions (%llu)",
		 (unsigned long long)c0.delivered,
		 (unsigned long long)c0.eventfd_signals);
	ktest_ok(!lring_enable_eventfd(r, 16), "eventfd_busy: batch 16");
	ktest_consume_until(r, &s, c0.delivered, 10000);
	while (ktest_consume(r, &s, 256))
		;
	counters(r, &c1);
	/* Leave 20 or more waiting: past the batch, so its one signal is due. */
	ktest_wait_for((counters(r, &c2), c2.delivered - c1.delivered >= 20), 10000);
	lring_stop(r);
	ktest_ok(c2.delivered - c1.delivered >= 20 &&
		 c2.eventfd_signals - c1.eventfd_signals == 1,
		 "eventfd_busy: batch 16 signals once for %llu waiting (%llu)",
		 (unsigned long long)(c2.delivered - c1.delivered),
		 (unsigned long long)(c2.eventfd_signals - c1.eventfd_signals));
	lring_close(r);
}

/*
 * A device that reports several blocks per lring_buffers_done() call (the
 * simulated one above 20000 blocks/s: 5 per timer tick) jumps the count of
 * waiting completions past the eventfd threshold; it must still signal,
 * once. Regression test: docs/reliability.md entry 34.
 */
static void test_eventfd_batch(int argc, char **argv)
{
	struct lring_counters c;
	struct lring *r;

	(void)argc;
	(void)argv;
	if (!ktest_ok(!ktest_setup(0, &r, 512, 256, LRING_BACKEND_COHERENT,
				   100000, 0, 5, 0), "eventfd_batch: setup"))
		return;
	ktest_ok(!lring_enable_eventfd(r, 1), "eventfd_batch: eventfd armed");
	lring_start(r);
	ktest_wait_for((counters(r, &c), c.delivered >= 50), 10000);
	lring_stop(r);
	counters(r, &c);
	ktest_ok(c.irqs < c.produced,
		 "eventfd_batch: blocks came in batches (%llu calls for %llu blocks)",
		 (unsigned long long)c.irqs, (unsigned long long)c.produced);
	ktest_ok(c.delivered >= 50 && c.eventfd_signals == 1,
		 "eventfd_batch: one signal for %llu completions that came in batches (%llu)",
		 (unsigned long long)c.delivered,
		 (unsigned long long)c.eventfd_signals);
	lring_close(r);
}

/* poll() and the blocking wait ioctl. */
static void test_poll(int argc, char **argv)
{
	struct pollfd p;
	struct lring *r;
	uint64_t t0;
	int ret;

	(void)argc;
	(void)argv;
	if (!ktest_ok(!ktest_setup(0, &r, 16, 512, LRING_BACKEND_COHERENT, 100,
				   0, 1, 0), "poll: setup"))
		return;
	p = (struct pollfd){ .fd = r->fd, .events = POLLIN };
	ktest_ok(poll(&p, 1, 100) == 0, "poll: times out on an idle ring");
	t0 = ktest_now_ns();
	ret = lring_wait_ioctl(r, 50000000, 1);
	ktest_ok(ret == -ETIMEDOUT && ktest_now_ns() - t0 >= 40000000,
		 "poll: LRING_IOC_WAIT times out after its timeout (%d)", ret);
	lring_start(r);
	ret = poll(&p, 1, 2000);
	ktest_ok(ret == 1 && (p.revents & POLLIN), "poll: POLLIN once a block arrives");
	ret = lring_wait_ioctl(r, 2000000000ull, 5);
	ktest_ok(ret >= 5, "poll: LRING_IOC_WAIT returns with >= min_entries (%d)", ret);
	lring_stop(r);
	lring_close(r);
}

struct multi_arg {
	int ring;
	struct ktest_stream s;
	bool ok;
};

static void *multi_thread(void *p)
{
	struct multi_arg *a = p;
	struct lring *r;

	a->s = (struct ktest_stream){ .seed = 1000 + a->ring, .expect_len = 2048,
				      .shuffle = true, .seed_rng = a->ring };
	if (ktest_setup(a->ring, &r, 32, 2048,
			a->ring & 1 ? LRING_BACKEND_STREAMING : LRING_BACKEND_COHERENT,
			0, 0, a->s.seed, 0))
		return NULL;
	lring_start(r);
	a->ok = ktest_consume_until(r, &a->s, 20000, 300000);
	lring_stop(r);
	while (ktest_consume(r, &a->s, 256))
		;
	lring_close(r);
	return NULL;
}

/* Four rings stream at once, each to its own thread. */
static void test_multi(int argc, char **argv)
{
	struct multi_arg a[4];
	pthread_t t[4];
	int i;

	(void)argc;
	(void)argv;
	for (i = 0; i < 4; i++) {
		a[i] = (struct multi_arg){ .ring = i };
		pthread_create(&t[i], NULL, multi_thread, &a[i]);
	}
	for (i = 0; i < 4; i++) {
		char what[32];

		pthread_join(t[i], NULL);
		snprintf(what, sizeof(what), "multi ring %d", i);
		ktest_ok(a[i].ok, "%s: 20000 blocks", what);
		check_stream_clean(&a[i].s, what);
	}
}

static int configure_errno(int fd, struct lring_config cfg)
{
	return ktest_ioctl_errno(fd, LRING_IOC_CONFIGURE, &cfg);
}

static void mprotect_and_write(void *p)
{
	void *page = (void *)((uintptr_t)p & ~(uintptr_t)4095);

	mprotect(page, 4096, PROT_READ | PROT_WRITE);
	*(volatile uint32_t *)p = 0xdeadbeef;
}

/*
 * Reads every part of a PROT_WRITE-only mapping, from userspace and through
 * an ioctl argument; the parent counts a hang (alarm) as a failure.
 */
struct write_only_map {
	int fd;
	const char *base;
	const struct lring_info *info;
};

static void read_write_only_map(void *p)
{
	const struct write_only_map *w = p;
	const struct lring_layout *l = &w->info->layout;

	alarm(5);
	(void)*(volatile const uint32_t *)(w->base + l->cq_producer_off);
	(void)*(volatile const uint32_t *)(w->base + l->cq_entries_off);
	(void)*(volatile const uint32_t *)(w->base + l->pool_off);
	/* The kernel's own read of the argument faults on the same pages. */
	ioctl(w->fd, LRING_IOC_QBUF, w->base + l->cq_entries_off);
	ioctl(w->fd, LRING_IOC_QBUF, w->base + l->pool_off + 4096);
}

/* Every bad argument gets an errno, never a splat. */
/* Regression test: docs/reliability.md entry 4 (a PROT_WRITE-only mapping's fault loop). */
static void test_bad_input(int argc, char **argv)
{
	struct lring_config good = { .buf_count = 8, .buf_size = 4096,
				     .backend = ktest_cached_backend(0) };
	struct lring_eventfd ev = { .fd = 0 };
	struct lring_info info;
	struct lring *r, *r2;
	size_t size;
	void *m;
	int fd;

	(void)argc;
	(void)argv;
	fd = open("/dev/lring0", O_RDWR);
	if (!ktest_ok(fd >= 0, "bad_input: open"))
		return;
	ktest_ok(open("/dev/lring0", O_RDWR) < 0 && errno == EBUSY,
		 "bad_input: a second open gets EBUSY");
	ktest_ok(ktest_ioctl_errno(fd, LRING_IOC_START, NULL) == EINVAL,
		 "bad_input: start before configure gets EINVAL");
	ktest_ok(ktest_ioctl_errno(fd, LRING_IOC_KICK, NULL) == EINVAL,
		 "bad_input: kick before configure gets EINVAL");
	ktest_ok(mmap(NULL, 65536, PROT_READ, MAP_SHARED, fd, 0) == MAP_FAILED &&
		 errno == EINVAL, "bad_input: mmap before configure gets EINVAL");
	ktest_ok(configure_errno(fd, (struct lring_config){ .buf_size = 4096 }) == EINVAL,
		 "bad_input: zero buffers gets EINVAL");
	ktest_ok(configure_errno(fd, (struct lring_config){ .buf_count = 8 }) == EINVAL,
		 "bad_input: zero buffer size gets EINVAL");
	ktest_ok(configure_errno(fd, (struct lring_config){ .buf_count = LRING_MAX_BUFFERS + 1,
							    .buf_size = 64 }) == EINVAL,
		 "bad_input: too many buffers gets EINVAL");
	ktest_ok(configure_errno(fd, (struct lring_config){ .buf_count = 2,
							    .buf_size = 64u << 20,
							    .backend = LRING_BACKEND_STREAMING }) == EINVAL,
		 "bad_input: a streaming buffer above the contiguous limit gets EINVAL");
	ktest_ok(configure_errno(fd, (struct lring_config){ .buf_count = 2,
							    .buf_size = 64u << 20 }) == ENOMEM,
		 "bad_input: a coherent buffer above the contiguous limit without CMA gets ENOMEM");
	ktest_ok(configure_errno(fd, (struct lring_config){ .buf_count = 8, .buf_size = 64,
							    .user_addr = 4096 }) == EINVAL,
		 "bad_input: user_addr with a kernel backend gets EINVAL");
	ktest_ok(configure_errno(fd, (struct lring_config){ .buf_count = 8, .buf_size = 64,
							    .backend = 99 }) == EINVAL,
		 "bad_input: unknown backend gets EINVAL");
	ktest_ok(configure_errno(fd, (struct lring_config){ .buf_count = 8, .buf_size = 64,
							    .cq_entries = 12 }) == EINVAL,
		 "bad_input: ring size not a power of two gets EINVAL");
	ktest_ok(configure_errno(fd, (struct lring_config){ .buf_count = 8, .buf_size = 64,
							    .fq_entries = 4 }) == EINVAL,
		 "bad_input: fill ring smaller than the pool gets EINVAL");
	ktest_ok(configure_errno(fd, (struct lring_config){ .buf_count = 8, .buf_size = 64,
							    .resv[1] = 1 }) == EINVAL,
		 "bad_input: reserved field set gets EINVAL");
	ktest_ok(configure_errno(fd, (struct lring_config){ .buf_count = 60000,
							    .buf_size = 4u << 20 }) == ENOMEM,
		 "bad_input: a pool larger than half of RAM gets ENOMEM");
	ktest_ok(ktest_ioctl_errno(fd, LRING_IOC_CONFIGURE, (void *)16) == EFAULT,
		 "bad_input: bad pointer gets EFAULT");
	ktest_ok(ktest_ioctl_errno(fd, _IO(LRING_IOC_MAGIC, 99), NULL) == ENOTTY,
		 "bad_input: unknown ioctl gets ENOTTY");
	ev.fd = fd;
	ktest_ok(ktest_ioctl_errno(fd, LRING_IOC_SET_EVENTFD, &ev) == EINVAL,
		 "bad_input: a non-eventfd fd gets EINVAL");
	ev.fd = 12345;
	ktest_ok(ktest_ioctl_errno(fd, LRING_IOC_SET_EVENTFD, &ev) == EBADF,
		 "bad_input: a closed fd gets EBADF");

	ktest_ok(configure_errno(fd, good) == 0, "bad_input: a good configure");
	ioctl(fd, LRING_IOC_GET_INFO, &info);
	size = info.layout.mmap_size;
	ktest_ok(mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 4096) == MAP_FAILED &&
		 errno == EINVAL, "bad_input: mmap at an offset gets EINVAL");
	ktest_ok(mmap(NULL, size - 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) == MAP_FAILED &&
		 errno == EINVAL, "bad_input: mmap of the wrong size gets EINVAL");
	ktest_ok(mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0) == MAP_FAILED &&
		 errno == EINVAL, "bad_input: MAP_PRIVATE gets EINVAL");
	ktest_ok(mmap(NULL, size, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0) == MAP_FAILED &&
		 errno == EPERM, "bad_input: PROT_EXEC gets EPERM");

	m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (ktest_ok(m != MAP_FAILED, "bad_input: mmap of the whole layout")) {
		char *base = m;

		ktest_ok(ktest_child_signal(ktest_write_u32, base + info.layout.cq_producer_off) == SIGBUS,
			 "bad_input: writing the control page faults (SIGBUS)");
		ktest_ok(ktest_child_signal(ktest_write_u32, base + info.layout.cq_entries_off) == SIGBUS,
			 "bad_input: writing the completion ring faults");
		ktest_ok(ktest_child_signal(ktest_write_u32, base + info.layout.pool_off) == SIGBUS,
			 "bad_input: writing a buffer faults");
		ktest_ok(ktest_child_signal(mprotect_and_write, base + info.layout.flags_off) == SIGBUS,
			 "bad_input: mprotect does not make the control page writable");
		ktest_ok(ktest_child_signal(ktest_write_u32, base + info.layout.fq_entries_off) == 0 &&
			 ktest_child_signal(ktest_write_u32, base + info.layout.cq_consumer_off) == 0,
			 "bad_input: the fill ring and user page are writable");
		ktest_ok(mprotect(m, 4096, PROT_READ | PROT_EXEC) && errno == EACCES,
			 "bad_input: mprotect cannot add PROT_EXEC");
		ktest_ok(configure_errno(fd, good) == EBUSY,
			 "bad_input: configure while mapped gets EBUSY");
		ktest_ok(ktest_ioctl_errno(fd, LRING_IOC_START, NULL) == 0, "bad_input: start");
		ktest_ok(ktest_ioctl_errno(fd, LRING_IOC_START, NULL) == EBUSY,
			 "bad_input: a second start gets EBUSY");
		ktest_ok(ktest_ioctl_errno(fd, LRING_IOC_STOP, NULL) == 0 &&
			 ktest_ioctl_errno(fd, LRING_IOC_STOP, NULL) == 0,
			 "bad_input: stop is idempotent");
		munmap(m, size);
		m = mmap(NULL, size, PROT_WRITE, MAP_SHARED, fd, 0);
		if (ktest_ok(m != MAP_FAILED, "bad_input: PROT_WRITE-only mmap")) {
			struct write_only_map w = { fd, m, &info };

			ktest_ok(ktest_child_signal(read_write_only_map, &w) == 0,
				 "bad_input: a PROT_WRITE-only mapping reads (no fault loop)");
			ktest_ok(ktest_child_signal(ktest_write_u32, (char *)m + info.layout.cq_entries_off) ==
				 SIGBUS, "bad_input: ...and its read-only parts stay read-only");
			munmap(m, size);
		}
		ktest_ok(configure_errno(fd, good) == 0,
			 "bad_input: configure after munmap succeeds");
	}
	close(fd);

	/* The library reports the kernel's errors as negative errnos. */
	ktest_ok(lring_open("/dev/lring0", &r) == 0, "bad_input: liblring open");
	ktest_ok(lring_open("/dev/lring0", &r2) == -EBUSY,
		 "bad_input: liblring second open gets -EBUSY");
	lring_close(r);
}

static void forge(struct lring *r, uint32_t id)
{
	uint32_t idx = 0;

	lring_fill_reserve(r, 1, &idx);
	lring_fqe(r, idx)->buf_id = id;
	lring_fill_submit(r, 1);
}

/* Garbage in every writable shared field is counted and rejected. */
static void test_garbage(int argc, char **argv)
{
	struct ktest_stream s = { .seed = 11, .expect_len = 1024 };
	struct lring_counters c0, c1;
	uint32_t saved, idx = 0, id;
	struct lring *r;

	(void)argc;
	(void)argv;
	if (!ktest_ok(!ktest_setup(0, &r, 16, 1024, LRING_BACKEND_STREAMING, 0,
				   0, s.seed, 0), "garbage: setup"))
		return;
	lring_start(r);
	ktest_consume_until(r, &s, 100, 20000);

	/*
	 * A completion we hold, returned twice, plus forged ids. Stopped, so
	 * the device cannot hand the buffer back to us in between.
	 */
	while (!lring_peek(r, 1, &idx))
		;
	id = lring_cqe(r, idx)->buf_id;
	s.next_seq = lring_cqe(r, idx)->seq + 1;	/* consumed by hand */
	lring_release(r, 1);
	lring_stop(r);
	counters(r, &c0);
	forge(r, id);
	forge(r, id);
	forge(r, 16);
	forge(r, 0xffffffffu);
	lring_kick(r);
	counters(r, &c1);
	ktest_ok(c1.returned - c0.returned == 1 && c1.rejected_ids - c0.rejected_ids == 3,
		 "garbage: one good return accepted; double return and out-of-range ids rejected (%llu)",
		 (unsigned long long)(c1.rejected_ids - c0.rejected_ids));
	lring_start(r);

	/* An impossible fill producer index is ignored and counted. */
	saved = *r->fq_producer;
	lring_store_release(r->fq_producer, saved + 0x40000000u);
	lring_kick(r);
	counters(r, &c0);
	ktest_ok(c0.rejected_indices > c1.rejected_indices,
		 "garbage: an impossible fill producer is counted");
	lring_store_release(r->fq_producer, saved);

	/*
	 * An impossible completion consumer: the device drops instead of
	 * publishing. It must hold buffers when the index goes bad, or it has
	 * nothing to drop: running, it can publish all 16 between our last
	 * peek and the store (seen once in CI). So drain while stopped and
	 * start with the whole pool queued.
	 */
	lring_stop(r);
	while (ktest_consume(r, &s, 256))
		;
	lring_kick(r);	/* stopped: the returned buffers go back to the pool */
	saved = *r->cq_consumer;
	lring_store_release(r->cq_consumer, saved + 0x40000000u);
	counters(r, &c0);
	lring_start(r);
	ktest_sleep_ms(100);
	lring_stop(r);
	counters(r, &c1);
	lring_store_release(r->cq_consumer, saved);
	lring_start(r);
	/*
	 * The kernel re-reads the consumer index only when its cached copy
	 * shows the ring full (docs/reliability.md entry 34): up to a ring's worth is
	 * published first, then the impossible index is seen and every later
	 * block dropped.
	 */
	ktest_ok(c1.rejected_indices > c0.rejected_indices && c1.dropped > c0.dropped &&
		 c1.delivered - c0.delivered <= r->cq_mask + 1,
		 "garbage: an impossible completion consumer is counted, at most a ring published (%llu drops, %llu published)",
		 (unsigned long long)(c1.dropped - c0.dropped),
		 (unsigned long long)(c1.delivered - c0.delivered));

	/* A whole fill ring of random ids, published: each one is checked. */
	{
		unsigned seed = 42, i, n;

		n = lring_fill_free(r, r->fq_size);
		lring_fill_reserve(r, n, &idx);
		for (i = 0; i < n; i++)
			lring_fqe(r, idx + i)->buf_id = rand_r(&seed) | 0x100;
		counters(r, &c0);
		lring_fill_submit(r, n);
		lring_kick(r);
		counters(r, &c1);
		ktest_ok(c1.rejected_ids - c0.rejected_ids == n,
			 "garbage: %u random ids all rejected (%llu)", n,
			 (unsigned long long)(c1.rejected_ids - c0.rejected_ids));
	}
	lring_stop(r);
	lring_close(r);

	/* The ring is still fully usable afterwards. */
	s = (struct ktest_stream){ .seed = 12, .expect_len = 1024, .shuffle = true };
	if (!ktest_ok(!ktest_setup(0, &r, 16, 1024, LRING_BACKEND_STREAMING, 0,
				   0, s.seed, 0), "garbage: setup again"))
		return;
	lring_start(r);
	ktest_ok(ktest_consume_until(r, &s, 2000, 60000), "garbage: a clean stream after it");
	lring_stop(r);
	while (ktest_consume(r, &s, 256))
		;
	check_stream_clean(&s, "garbage: after");
	check_balance(r, &s, "garbage: after");
	lring_close(r);
}

/*
 * Opens ring @ring with @backend (8 buffers of 4096 bytes; a user pool
 * gets its memory here), not started. Returns 0, -EOPNOTSUPP if this
 * kernel or device cannot have the backend (noncontig before 5.13,
 * coherent on a device without coherent DMA), or another -errno.
 */
static int open_backend(int ring, uint32_t backend, struct lring **out)
{
	static void *user_mem;
	struct lring_config cfg = { .buf_count = 8, .buf_size = 4096, .backend = backend };
	char path[32];
	int ret;

	if (backend == LRING_BACKEND_USER) {
		if (!user_mem)
			user_mem = mmap(NULL, 8 * 4096, PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		if (user_mem == MAP_FAILED)
			return -errno;
		cfg.user_addr = (uintptr_t)user_mem;
		cfg.user_len = 8 * 4096;
	}
	ktest_dev_path(ring, path, sizeof(path));
	ret = lring_open(path, out);
	if (ret)
		return ret;
	ret = lring_configure(*out, &cfg);	/* maps it too */
	if (ret) {
		lring_close(*out);
		*out = NULL;
	}
	return ret;
}


/* One malformed input (or a good one) and what it must do to the counters. */
struct counter_row {
	const char *what;
	void (*apply)(struct lring *r, const uint32_t *held);
	int rejected_ids, rejected_indices, returned;	/* exact increments */
};

static void one_id(struct lring *r, uint32_t id)
{
	forge(r, id);
	lring_kick(r);
}

static void row_out_of_range(struct lring *r, const uint32_t *held)
{
	(void)held;
	one_id(r, r->buf_count);
}

static void row_all_ones(struct lring *r, const uint32_t *held)
{
	(void)held;
	one_id(r, 0xffffffffu);
}

static void row_owned(struct lring *r, const uint32_t *held)
{
	one_id(r, held[0]);
}

static void row_returned_twice(struct lring *r, const uint32_t *held)
{
	one_id(r, held[0]);
}

static void row_duplicate_in_batch(struct lring *r, const uint32_t *held)
{
	uint32_t ids[2] = { held[1], held[1] };

	if (lring_return(r, ids, 2))
		ktest_diag("lring_return failed at %s:%d", __FILE__, __LINE__);
	lring_kick(r);
}

/* Writes a bad index, kicks (or dequeues), then puts the right one back. */
static void bad_index(struct lring *r, uint32_t *index, uint32_t bad, bool dequeue)
{
	uint32_t saved = *index;
	struct lring_cqe cqe;

	lring_store_release(index, bad);
	if (dequeue)
		ktest_ok(ioctl(r->fd, LRING_IOC_DQBUF, &cqe) < 0 && errno == EIO,
			 "counters: the dequeue refuses it with EIO");
	else
		lring_kick(r);
	lring_store_release(index, saved);
	lring_kick(r);
}

static void row_fill_producer_back(struct lring *r, const uint32_t *held)
{
	(void)held;
	bad_index(r, r->fq_producer, *r->fq_producer - 1, false);
}

static void row_fill_producer_past_ring(struct lring *r, const uint32_t *held)
{
	(void)held;
	bad_index(r, r->fq_producer, *r->fq_producer + r->fq_size + 1, false);
}

static void row_consumer_past_producer(struct lring *r, const uint32_t *held)
{
	(void)held;
	bad_index(r, r->cq_consumer, *r->cq_producer + 1, true);
}

static void row_consumer_back_past_ring(struct lring *r, const uint32_t *held)
{
	(void)held;
	bad_index(r, r->cq_consumer, *r->cq_producer - r->cq_mask - 2, true);
}

static const struct counter_row counter_rows[] = {
	{ "id out of range (buf_count)", row_out_of_range, 1, 0, 0 },
	{ "id 0xffffffff", row_all_ones, 1, 0, 0 },
	{ "an owned id", row_owned, 0, 0, 1 },
	{ "the same id again, no longer owned", row_returned_twice, 1, 0, 0 },
	{ "an owned id twice in one batch", row_duplicate_in_batch, 1, 0, 1 },
	{ "fill producer moved backwards", row_fill_producer_back, 0, 1, 0 },
	{ "fill producer moved past the ring", row_fill_producer_past_ring, 0, 1, 0 },
	{ "completion consumer past the producer", row_consumer_past_producer, 0, 1, 0 },
	{ "completion consumer moved back past the ring", row_consumer_back_past_ring, 0, 1, 0 },
};

/*
 * counters [RING [BACKEND...]]: every malformed fill entry and index move
 * of counter_rows, on each backend the device allows (or those named), with
 * the exact value of
 * every counter after each row, as AF_XDP's tests do. The device fills its
 * 8 buffers once and is stopped, so nothing else moves the counters: 8
 * produced and delivered, 0 dropped, throughout.
 */
static void test_counters(int argc, char **argv)
{
	int ring = argc > 0 ? atoi(argv[0]) : 0;
	int64_t rate = ktest_sysfs_read(ring, "device/rate");
	struct lring_counters c;
	uint32_t backend, held[8], idx;
	struct lring *r;
	size_t i;

	for (backend = 0; backend < MEMORY_BACKENDS; backend++) {
		const char *name = backend_names[backend];
		uint64_t ids = 0, indices = 0, returned = 0;
		unsigned n = 0;
		int ret, a;

		for (a = 1; a < argc && strcmp(argv[a], name); a++)
			;
		if (argc > 1 && a == argc)
			continue;	/* not one of those named */
		ret = open_backend(ring, backend, &r);

		if (ret == -EOPNOTSUPP) {
			ktest_ok(true, "counters %s # SKIP %s", name,
				 "the backend is refused here (kernel or device)");
			continue;
		}
		if (!ktest_ok(!ret, "counters %s: ring %d configured (%s)", name, ring,
			      lring_strerror(ret)))
			continue;
		/*
		 * A simulated device at rate 0 stalls when its 8 buffers are
		 * full instead of dropping (a slow guest once dropped 6 at the
		 * default 1000 blocks/s); edu has no rate and never drops.
		 */
		ktest_sim_set(ring, "rate", 0);
		lring_start(r);
		while (n < 8 && lring_wait(r, 5000) > 0) {
			unsigned k = lring_peek(r, 8 - n, &idx), j;

			for (j = 0; j < k; j++)
				held[n + j] = lring_cqe(r, idx + j)->buf_id;
			lring_release(r, k);
			n += k;
		}
		lring_stop(r);
		counters(r, &c);
		ktest_ok(n == 8 && c.produced == 8 && c.delivered == 8 && !c.dropped &&
			 !c.rejected_ids && !c.rejected_indices && !c.returned,
			 "counters %s: the device filled its 8 buffers and stopped (%u seen)",
			 name, n);
		for (i = 0; n == 8 && i < sizeof(counter_rows) / sizeof(counter_rows[0]); i++) {
			const struct counter_row *row = &counter_rows[i];

			row->apply(r, held);
			ids += row->rejected_ids;
			indices += row->rejected_indices;
			returned += row->returned;
			counters(r, &c);
			ktest_ok(c.rejected_ids == ids && c.rejected_indices == indices &&
				 c.returned == returned && c.produced == 8 &&
				 c.delivered == 8 && c.dropped == 0,
				 "counters %s: %s: rejected ids %llu, indices %llu, returned %llu, produced %llu, delivered %llu, dropped %llu",
				 name, row->what, (unsigned long long)c.rejected_ids,
				 (unsigned long long)c.rejected_indices,
				 (unsigned long long)c.returned, (unsigned long long)c.produced,
				 (unsigned long long)c.delivered, (unsigned long long)c.dropped);
		}
		lring_close(r);
	}
	if (rate >= 0)
		ktest_sim_set(ring, "rate", rate);
}

/*
 * setup_loop [COUNT [RING]]: configure, map, start, take a few blocks,
 * stop, unmap, close, COUNT times (1000), cycling through the backends.
 * Afterwards no pool pages are charged, no page is pinned, and (by the
 * harness) kmemleak has nothing to report.
 */
static void test_setup_loop(int argc, char **argv)
{
	int count = argc > 0 ? atoi(argv[0]) : 1000, ring = argc > 1 ? atoi(argv[1]) : 0;
	long long pins0 = ktest_pins_held();
	int i, failed = 0, skipped = 0;
	struct lring *r;
	uint32_t idx;

	for (i = 0; i < count; i++) {
		uint32_t backend = i % MEMORY_BACKENDS;
		int ret = open_backend(ring, backend, &r), got = 0;

		if (ret == -EOPNOTSUPP) {
			skipped++;
			continue;
		}
		if (ret) {
			if (!failed++)
				ktest_diag("setup_loop %d (%s): %s", i, backend_names[backend],
					   lring_strerror(ret));
			continue;
		}
		lring_start(r);
		while (got < 4 && lring_wait(r, 5000) > 0) {
			unsigned k = lring_peek(r, 4, &idx);

			lring_release(r, k);
			got += k;
		}
		failed += got < 4;
		lring_stop(r);
		lring_close(r);
	}
	ktest_ok(!failed, "setup_loop: %d configure/map/start/stream/stop/close cycles (%d refused backends)",
		 count - skipped, skipped);
	if (ktest_kernel_pages() < 0)
		ktest_ok(true, "setup_loop: pool pages # SKIP no debugfs");
	else
		ktest_ok(ktest_kernel_pages() == 0, "setup_loop: no pool pages left charged (%ld)",
			 ktest_kernel_pages());
	ktest_ok(ktest_pins_held() == pins0, "setup_loop: no page left pinned (%lld)",
		 ktest_pins_held() - pins0);
}

static void stream_forever(void *arg)
{
	struct ktest_stream s = { .seed = 21 };
	struct lring *r;

	(void)arg;
	if (ktest_setup(1, &r, 16, 4096, LRING_BACKEND_STREAMING, 0, 0, s.seed, 0))
		_exit(2);
	lring_start(r);
	for (;;)
		ktest_consume(r, &s, 64);
}

/* Close, kill -9, munmap and fork at any moment leave the ring usable. */
static void test_lifecycle(int argc, char **argv)
{
	struct ktest_stream s = { .seed = 21 };
	struct lring *r;
	pid_t pid;
	int fd, status;

	(void)argc;
	(void)argv;
	/* Close while streaming, with the mapping gone first. */
	if (ktest_setup(1, &r, 16, 4096, LRING_BACKEND_COHERENT, 0, 0, 21, 0) == 0) {
		lring_start(r);
		ktest_consume_until(r, &s, 500, 20000);
		lring_close(r);
	}
	fd = open("/dev/lring1", O_RDWR);
	ktest_ok(fd >= 0, "lifecycle: close while streaming releases the ring");
	if (fd >= 0)
		close(fd);

	/* Close the fd but keep the mapping: the stream goes on. */
	s = (struct ktest_stream){ .seed = 21 };
	/* A rate, so the device's own ticks refill it: nobody can kick. */
	if (ktest_setup(1, &r, 16, 4096, LRING_BACKEND_COHERENT, 2000, 0, 21, 0) == 0) {
		int dup_fd = r->fd;

		lring_start(r);
		r->fd = -1;	/* the handle no longer owns it */
		close(dup_fd);
		ktest_ok(open("/dev/lring1", O_RDWR) < 0 && errno == EBUSY,
			 "lifecycle: a live mapping keeps the ring open after close");
		s.shuffle = false;
		ktest_ok(ktest_consume_until(r, &s, 200, 20000),
			 "lifecycle: completions keep coming after close (no kick needed)");
		lring_close(r);	/* munmap: the last reference */
		fd = open("/dev/lring1", O_RDWR);
		ktest_ok(fd >= 0, "lifecycle: munmap of the last mapping releases the ring");
		if (fd >= 0)
			close(fd);
	}

	/* kill -9 of a consumer mid-stream. */
	pid = fork();
	if (pid == 0)
		stream_forever(NULL);
	ktest_sleep_ms(500);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	fd = open("/dev/lring1", O_RDWR);
	ktest_ok(fd >= 0, "lifecycle: kill -9 of a streaming consumer releases the ring");
	if (fd >= 0)
		close(fd);

	/* fork with the mapping: the child consumes, the parent watches. */
	s = (struct ktest_stream){ .seed = 22 };
	if (ktest_setup(1, &r, 16, 4096, LRING_BACKEND_STREAMING, 0, 0, 22, 0) == 0) {
		struct lring_counters c;

		lring_start(r);
		pid = fork();
		if (pid == 0) {
			struct ktest_stream cs = { .seed = 22 };

			_exit(ktest_consume_until(r, &cs, 1000, 30000) &&
			      !cs.bad_data && !cs.bad_seq ? 0 : 1);
		}
		waitpid(pid, &status, 0);
		ktest_ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
			 "lifecycle: a forked child consumes through the inherited mapping");
		counters(r, &c);
		ktest_ok(c.delivered >= 1000, "lifecycle: the parent sees the child's progress");
		lring_stop(r);
		lring_close(r);
	}
}

/* read() copies the stream; DQBUF/QBUF hand buffers over one syscall each. */
static void test_copy_paths(int argc, char **argv)
{
	const uint32_t block = 3000;
	struct ktest_stream s = { .seed = 51, .expect_len = block };
	uint64_t pos = 0, bad = 0, total = 1000ull * block;
	struct lring_config cfg = { .buf_count = 16, .buf_size = block,
				    .backend = ktest_cached_backend(0) };
	static unsigned char chunk[5000];
	struct lring_counters c;
	struct lring_cqe cqe;
	struct lring *r;
	uint32_t id;
	int fd, i;

	(void)argc;
	(void)argv;
	ktest_sim_set(0, "rate", 0);
	ktest_sim_set(0, "block_size", 0);
	ktest_sim_set(0, "seed", s.seed);
	fd = open("/dev/lring0", O_RDWR);
	if (!ktest_ok(fd >= 0 && !ioctl(fd, LRING_IOC_CONFIGURE, &cfg),
		      "copy: configure without mapping"))
		return;
	fcntl(fd, F_SETFL, O_NONBLOCK);
	ktest_ok(read(fd, chunk, sizeof(chunk)) < 0 && errno == EAGAIN,
		 "copy: non-blocking read of an idle ring gets EAGAIN");
	fcntl(fd, F_SETFL, 0);
	ioctl(fd, LRING_IOC_START);
	/* Odd-sized reads: blocks span reads and reads span blocks. */
	while (pos < total) {
		ssize_t n = read(fd, chunk, sizeof(chunk));

		if (n <= 0)
			break;
		for (i = 0; i < n; i++, pos++) {
			uint64_t seq = pos / block, off = pos % block;
			uint64_t w = htole64(lring_sim_word(s.seed, seq, off / 8));

			if (chunk[i] != ((unsigned char *)&w)[off % 8])
				bad++;
		}
	}
	ioctl(fd, LRING_IOC_STOP);
	ktest_ok(pos >= total, "copy: read() streamed %llu bytes", (unsigned long long)pos);
	ktest_ok(bad == 0, "copy: every byte read() returned matches the pattern (%llu bad)",
		 (unsigned long long)bad);
	ioctl(fd, LRING_IOC_GET_COUNTERS, &c);
	ktest_ok(c.returned + 16 >= c.delivered && c.dropped == 0,
		 "copy: read() hands every copied buffer back (%llu of %llu)",
		 (unsigned long long)c.returned, (unsigned long long)c.delivered);
	close(fd);

	if (!ktest_ok(!ktest_setup(0, &r, 16, block, LRING_BACKEND_STREAMING, 0,
				   0, s.seed, 0), "copy: setup with mapping"))
		return;
	ktest_ok(read(r->fd, chunk, sizeof(chunk)) < 0 && errno == EBUSY,
		 "copy: read() while mapped gets EBUSY");
	lring_start(r);
	for (i = 0; i < 1000; i++) {
		if (ioctl(r->fd, LRING_IOC_DQBUF, &cqe))
			break;
		if (cqe.seq != s.next_seq ||
		    ktest_bad_offset(lring_buf(r, cqe.buf_id), cqe.len, s.seed, cqe.seq) >= 0)
			s.bad_data++;
		s.next_seq = cqe.seq + 1;
		id = cqe.buf_id;
		if (ioctl(r->fd, LRING_IOC_QBUF, &id))
			break;
	}
	ktest_ok(i == 1000 && s.bad_data == 0,
		 "copy: 1000 blocks by DQBUF/QBUF, all verified (%d, %llu bad)", i,
		 (unsigned long long)s.bad_data);
	/* Stopped, every buffer comes home: the last one returned is free. */
	lring_stop(r);
	fcntl(r->fd, F_SETFL, O_NONBLOCK);
	while (!ioctl(r->fd, LRING_IOC_DQBUF, &cqe)) {
		id = cqe.buf_id;
		ioctl(r->fd, LRING_IOC_QBUF, &id);
	}
	ktest_ok(errno == EAGAIN, "copy: non-blocking DQBUF of an empty ring gets EAGAIN");
	ktest_ok(ioctl(r->fd, LRING_IOC_QBUF, &id) && errno == EINVAL,
		 "copy: QBUF of a buffer already returned gets EINVAL");
	id = 1000;
	ktest_ok(ioctl(r->fd, LRING_IOC_QBUF, &id) && errno == EINVAL,
		 "copy: QBUF of an out-of-range id gets EINVAL");
	lring_close(r);
}

/*
 * Without sync-for-CPU, bounce buffers (swiotlb=force) hide the device's
 * data. Run with lring.ko debug_skip_sync_for_cpu=1: it proves the tests
 * would catch a missing sync. The pool is the application's own pinned
 * memory, which swiotlb bounces; kernel-allocated pools come from where the
 * device reaches and are not bounced.
 */
/* tutorial: test-nosync */
static void test_nosync_detected(int argc, char **argv)
{
	struct ktest_stream s = { .seed = 31, .expect_len = 4096 };
	size_t len = 16 * 4096;
	void *region = mmap(NULL, len, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct lring_config cfg = {
		.buf_count = 16, .buf_size = 4096, .backend = LRING_BACKEND_USER,
		.user_addr = (uintptr_t)region, .user_len = len,
	};
	struct lring *r;

	(void)argc;
	(void)argv;
	if (!ktest_ok(region != MAP_FAILED && !ktest_sim_set(0, "rate", 0) &&
		      !ktest_sim_set(0, "block_size", 0) &&
		      !ktest_sim_set(0, "seed", s.seed) &&
		      !ktest_open_configured(0, &r, &cfg), "nosync: setup"))
		return;
	lring_start(r);
	ktest_consume_until(r, &s, 2000, 60000);
	lring_stop(r);
	ktest_ok(s.bad_data > 0,
		 "nosync: without the sync the consumer sees wrong data (%llu of %llu blocks)",
		 (unsigned long long)s.bad_data, (unsigned long long)s.buffers);
	lring_close(r);
	munmap(region, len);
}
/* tutorial-end: test-nosync */

struct unplug_waiter {
	struct lring *r;
	int ret;
};

static void *unplug_wait_thread(void *p)
{
	struct unplug_waiter *w = p;
	struct ktest_stream s = { .seed = 41 };

	for (;;) {
		w->ret = lring_wait(w->r, 10000);
		if (w->ret < 0 && w->ret != -ETIMEDOUT)
			return NULL;
		ktest_consume(w->r, &s, 64);
	}
}

static void read_and_check_zero(void *p)
{
	const volatile uint64_t *w = p;
	int i;

	for (i = 0; i < 512; i++)
		if (w[i])
			_exit(3);
}

/*
 * The device goes away (its driver module is unloaded) under a consumer
 * that sleeps on the eventfd and holds the mapping.
 */
static void test_unplug(int argc, char **argv)
{
	struct unplug_waiter w = { .ret = 1 };
	struct lring_info info;
	struct pollfd p;
	pthread_t t;
	int i;

	(void)argc;
	(void)argv;
	if (!ktest_ok(!ktest_setup(0, &w.r, 16, 4096, LRING_BACKEND_COHERENT,
				   200, 0, 41, 0), "unplug: setup"))
		return;
	lring_enable_eventfd(w.r, 1);
	lring_start(w.r);
	pthread_create(&t, NULL, unplug_wait_thread, &w);
	ktest_sleep_ms(300);
	ktest_ok(system("rmmod lring_sim") == 0,
		 "unplug: the driver unloads while the ring is open and mapped");
	for (i = 0; i < 50 && w.ret > 0; i++)
		ktest_sleep_ms(100);
	ktest_ok(w.ret == -ENODEV, "unplug: the eventfd sleeper wakes with -ENODEV (%d)",
		 w.ret);
	pthread_join(t, NULL);
	ktest_ok(lring_flags(w.r) & LRING_F_DEAD,
		 "unplug: the control page stays readable and says DEAD");
	ktest_ok(ktest_ioctl_errno(w.r->fd, LRING_IOC_GET_INFO, &info) == ENODEV,
		 "unplug: ioctls fail with ENODEV");
	p = (struct pollfd){ .fd = w.r->fd, .events = POLLIN };
	ktest_ok(poll(&p, 1, 0) == 1 && (p.revents & (POLLERR | POLLHUP)),
		 "unplug: poll reports POLLERR|POLLHUP");
	{
		pid_t pid = fork();
		int status;

		if (pid == 0) {
			read_and_check_zero(lring_buf(w.r, 0));
			read_and_check_zero(lring_buf(w.r, 15));
			_exit(0);
		}
		waitpid(pid, &status, 0);
		ktest_ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
			 "unplug: the freed buffers read as zeros, without a fault");
		ktest_ok(ktest_child_signal(ktest_write_u32, lring_buf(w.r, 0)) == SIGBUS,
			 "unplug: and still cannot be written");
	}
	/* tutorial: test-unplug-rmmod */
	ktest_ok(system("rmmod lring 2>/dev/null") != 0,
		 "unplug: the core module stays while the file is open");
	lring_close(w.r);
	ktest_ok(system("rmmod lring") == 0,
		 "unplug: the core module unloads once the file is closed");
	/* tutorial-end: test-unplug-rmmod */
}

static const struct ktest_subtest tests[] = {
	{ "stream", test_stream },
	{ "wrap", test_wrap },
	{ "drops", test_drops },
	{ "need_wakeup", test_need_wakeup },
	{ "first_touch", test_first_touch },
	{ "one_block", test_one_block },
	{ "eventfd_slow", test_eventfd_slow },
	{ "eventfd_busy", test_eventfd_busy },
	{ "eventfd_batch", test_eventfd_batch },
	{ "poll", test_poll },
	{ "multi", test_multi },
	{ "bad_input", test_bad_input },
	{ "garbage", test_garbage },
	{ "counters", test_counters },
	{ "setup_loop", test_setup_loop },
	{ "lifecycle", test_lifecycle },
	{ "copy_paths", test_copy_paths },
	{ "nosync_detected", test_nosync_detected },
	{ "unplug", test_unplug },
};

int main(int argc, char **argv)
{
	return ktest_main(KTEST_SUBTESTS(tests), argc, argv);
}
