// SPDX-License-Identifier: MIT
/*
 * The fake kernel produces on its own thread while the consumer verifies
 * every sequence number and every byte: the acquire/release pairs, the
 * NEED_WAKEUP handshake and the eventfd handshake under real concurrency.
 * The device stalls instead of dropping (rate 0), so nothing may be lost.
 */
#include "fake_kernel.h"
#include <criterion/criterion.h>
#include <sched.h>
#include <urcu/arch.h>	/* caa_cpu_relax(): pause on x86, yield on arm64 */
#include "util.h"

#define BUF_COUNT 32
#define BUF_MAX 61	/* small buffers; lengths vary 1..61 */

struct producer {
	struct fake_kernel *fk;
	uint64_t total;
	volatile int stop;
};

static uint32_t len_of(uint64_t seq)
{
	return 1 + (uint32_t)(seq * 7 % BUF_MAX);
}

static void *produce(void *arg)
{
	struct producer *p = arg;
	uint64_t done = 0;

	while (done < p->total && !p->stop) {
		if (fk_complete(p->fk, len_of(done)) == 0)
			done++;
		else
			sched_yield();	/* stalled: wait for returned buffers */
	}
	return NULL;
}

/* First wrong byte of the block, or -1. */
static long bad_byte(const uint8_t *p, uint32_t len, uint64_t seed,
		     uint64_t seq)
{
	uint32_t i;

	for (i = 0; i < len; i++) {
		uint64_t w = lring_sim_word(seed, seq, i / 8);

		if (p[i] != (uint8_t)(w >> (8 * (i % 8))))
			return i;
	}
	return -1;
}

static void consume_all(struct lring *r, struct fake_kernel *fk,
			uint64_t total, int use_wait)
{
	uint64_t seq = 0;
	uint32_t ids[16], idx;
	unsigned long idle = 0;

	while (seq < total) {
		unsigned n = lring_peek(r, 16, &idx), i;

		if (!n) {
			if (use_wait) {
				int w = lring_wait(r, 5000);

				cr_assert_gt(w, 0, "lring_wait at seq %llu: %s",
					     (unsigned long long)seq,
					     lring_strerror(w));
			} else {
				/* Spins since the last block, not in total. */
				cr_assert_lt(++idle, 2000000000ul,
					     "stuck at seq %llu",
					     (unsigned long long)seq);
				caa_cpu_relax();
			}
			continue;
		}
		for (i = 0; i < n; i++) {
			const struct lring_cqe *c = lring_cqe(r, idx + i);
			const uint8_t *p = lring_buf(r, c->buf_id);
			long bad;

			cr_assert_eq(c->seq, seq, "seq %llu, want %llu",
				     (unsigned long long)c->seq,
				     (unsigned long long)seq);
			cr_assert_eq(c->flags, 0);
			cr_assert_eq(c->len, len_of(seq));
			cr_assert_not_null(p, "buf_id %u", c->buf_id);
			bad = bad_byte(p, c->len, fk->seed, c->seq);
			cr_assert_eq(bad, -1, "seq %llu: bad byte at %ld",
				     (unsigned long long)c->seq, bad);
			ids[i] = c->buf_id;
			seq++;
		}
		idle = 0;
		lring_release(r, n);
		cr_assert_eq(lring_return(r, ids, n), 0);
	}
}

static void run(uint64_t total, int use_wait)
{
	/* Start near 2^32 so the indices wrap during the run. */
	struct fake_kernel *fk = fk_create(BUF_COUNT, BUF_MAX, 0, 0,
					   UINT32_MAX - 1000);
	struct lring *r = fk_lring(fk);
	struct producer p = { .fk = fk, .total = total };
	struct lring_counters c;
	pthread_t t;

	fk->stall = 1;
	if (use_wait)
		cr_assert_eq(lring_enable_eventfd(r, 1), 0);
	fk_start(fk);
	pthread_create(&t, NULL, produce, &p);
	consume_all(r, fk, total, use_wait);
	pthread_join(t, NULL);

	cr_assert_eq(lring_peek(r, 16, &(uint32_t){ 0 }), 0, "nothing extra");
	cr_assert_eq(lring_counters(r, &c), 0);
	cr_assert_eq(c.delivered, total);
	cr_assert_eq(c.produced, total);
	cr_assert_eq(c.dropped, 0);
	cr_assert_eq(c.rejected_ids, 0);
	cr_assert_eq(c.rejected_indices, 0);
	cr_assert_eq(c.kicks, fk_kicks(fk));
	/*
	 * A kick needs a NEED_WAKEUP the consumer saw. One raise can cost two
	 * kicks: the consumer publishes a batch the interrupt path takes at
	 * once, the device runs dry on it and raises the flag, and the
	 * consumer, testing the flag after its publish, kicks for nothing;
	 * its next return kicks for real. Never more.
	 */
	cr_assert_leq(c.kicks, 2 * c.need_wakeups,
		      "%llu kicks for %llu NEED_WAKEUP raises",
		      (unsigned long long)c.kicks,
		      (unsigned long long)c.need_wakeups);
	cr_log_info("%llu blocks: %llu need_wakeups, %llu kicks, "
		    "%llu eventfd signals",
		    (unsigned long long)total,
		    (unsigned long long)c.need_wakeups,
		    (unsigned long long)c.kicks,
		    (unsigned long long)c.eventfd_signals);
	lring_close(r);
	fk_free(fk);
}

Test(threaded, busy_polling_consumer_sees_a_million_blocks_intact,
     .timeout = 120)
{
	run(1000000, 0);
}

Test(threaded, eventfd_consumer_never_misses_a_wakeup, .timeout = 120)
{
	run(200000, 1);
}
