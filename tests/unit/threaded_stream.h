/* SPDX-License-Identifier: MIT */
/*
 * threaded_stream.h - the fake kernel producing on its own thread while a
 * liblring consumer verifies every sequence number and every byte: the
 * acquire/release pairs, the NEED_WAKEUP handshake and the eventfd
 * handshake under real concurrency. The device stalls instead of dropping
 * (rate 0), so nothing may be lost.
 *
 * Shared by the Criterion test (tests/unit/threaded.c) and the
 * ThreadSanitizer program (tests/sanitizers/race.c), which cannot use
 * Criterion. Include after fake_kernel.h, with STREAM_CHECK(cond, fmt, ...)
 * defined to fail the test with the message when cond is false.
 */
#ifndef LRING_THREADED_STREAM_H
#define LRING_THREADED_STREAM_H

#include <sched.h>
#include <urcu/arch.h>	/* caa_cpu_relax(): pause on x86, yield on arm64 */
#include <lring.h>

#define STREAM_BUF_COUNT 32
#define STREAM_BUF_MAX 61	/* small buffers; lengths vary 1..61 */

struct stream_producer {
	struct fake_kernel *fk;
	uint64_t total;
};

static inline uint32_t stream_len_of(uint64_t seq)
{
	return 1 + (uint32_t)(seq * 7 % STREAM_BUF_MAX);
}

static void *stream_produce(void *arg)
{
	struct stream_producer *p = arg;
	uint64_t done = 0;

	while (done < p->total) {
		if (fk_complete(p->fk, stream_len_of(done)) == 0)
			done++;
		else
			sched_yield();	/* stalled: wait for returned buffers */
	}
	return NULL;
}

/* First wrong byte of the block, or -1. */
static inline long stream_bad_byte(const uint8_t *p, uint32_t len, uint64_t seed,
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

static inline void stream_consume_all(struct lring *r, struct fake_kernel *fk,
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

				STREAM_CHECK(w > 0, "lring_wait at seq %llu: %s",
					     (unsigned long long)seq, lring_strerror(w));
			} else {
				/* Spins since the last block, not in total. */
				STREAM_CHECK(++idle < 2000000000ul, "stuck at seq %llu",
					     (unsigned long long)seq);
				caa_cpu_relax();
			}
			continue;
		}
		for (i = 0; i < n; i++) {
			const struct lring_cqe *c = lring_cqe(r, idx + i);
			const uint8_t *p = lring_buf(r, c->buf_id);
			long bad;

			STREAM_CHECK(c->seq == seq, "seq %llu, want %llu",
				     (unsigned long long)c->seq, (unsigned long long)seq);
			STREAM_CHECK(c->flags == 0, "seq %llu: flags %#x",
				     (unsigned long long)seq, c->flags);
			STREAM_CHECK(c->len == stream_len_of(seq), "seq %llu: len %u",
				     (unsigned long long)seq, c->len);
			STREAM_CHECK(p != NULL, "buf_id %u", c->buf_id);
			bad = stream_bad_byte(p, c->len, fk->seed, c->seq);
			STREAM_CHECK(bad == -1, "seq %llu: bad byte at %ld",
				     (unsigned long long)c->seq, bad);
			ids[i] = c->buf_id;
			seq++;
		}
		idle = 0;
		lring_release(r, n);
		STREAM_CHECK(lring_return(r, ids, n) == 0, "lring_return at seq %llu",
			     (unsigned long long)seq);
	}
}

/*
 * The fake device opened through liblring, mapped anew (as an application
 * maps a kernel's ring) or, with @same_mapping, attached to the fake's own
 * mapping: ThreadSanitizer tells memory apart by address, so it can see a
 * race between the two sides only where they use the same one.
 */
static inline struct lring *stream_open(struct fake_kernel *fk, int same_mapping)
{
	struct lring *r;
	char path[64];
	int err;

	fk_path(fk, path, sizeof(path));
	err = lring_open(path, &r);
	STREAM_CHECK(!err, "lring_open: %s", lring_strerror(err));
	err = same_mapping ? lring_attach(r, fk->map, fk->size) : lring_map(r);
	STREAM_CHECK(!err, "mapping the ring: %s", lring_strerror(err));
	return r;
}

/*
 * Streams @total blocks, busy-polling or (@use_wait) sleeping on the
 * eventfd, then checks every counter. Returns the counters.
 */
static inline struct lring_counters stream_run(uint64_t total, int use_wait,
					       int same_mapping)
{
	/* Start near 2^32 so the indices wrap during the run. */
	struct fake_kernel *fk = fk_create(STREAM_BUF_COUNT, STREAM_BUF_MAX, 0, 0,
					   UINT32_MAX - 1000);
	struct lring *r = stream_open(fk, same_mapping);
	struct stream_producer p = { .fk = fk, .total = total };
	struct lring_counters c;
	pthread_t t;

	fk->stall = 1;
	if (use_wait)
		STREAM_CHECK(lring_enable_eventfd(r, 1) == 0, "lring_enable_eventfd");
	fk_start(fk);
	pthread_create(&t, NULL, stream_produce, &p);
	stream_consume_all(r, fk, total, use_wait);
	pthread_join(t, NULL);

	STREAM_CHECK(lring_peek(r, 16, &(uint32_t){ 0 }) == 0, "nothing extra");
	STREAM_CHECK(lring_counters(r, &c) == 0, "lring_counters");
	STREAM_CHECK(c.delivered == total && c.produced == total,
		     "delivered %llu, produced %llu of %llu", (unsigned long long)c.delivered,
		     (unsigned long long)c.produced, (unsigned long long)total);
	STREAM_CHECK(!c.dropped && !c.rejected_ids && !c.rejected_indices,
		     "dropped %llu, rejected ids %llu, indices %llu",
		     (unsigned long long)c.dropped, (unsigned long long)c.rejected_ids,
		     (unsigned long long)c.rejected_indices);
	STREAM_CHECK(c.kicks == fk_kicks(fk), "%llu kicks counted, %llu made",
		     (unsigned long long)c.kicks, (unsigned long long)fk_kicks(fk));
	/*
	 * A kick needs a NEED_WAKEUP the consumer saw. One raise can cost two
	 * kicks: the consumer publishes a batch the interrupt path takes at
	 * once, the device runs dry on it and raises the flag, and the
	 * consumer, testing the flag after its publish, kicks for nothing;
	 * its next return kicks for real. Never more.
	 */
	STREAM_CHECK(c.kicks <= 2 * c.need_wakeups, "%llu kicks for %llu NEED_WAKEUP raises",
		     (unsigned long long)c.kicks, (unsigned long long)c.need_wakeups);
	lring_close(r);
	fk_free(fk);
	return c;
}

#endif
