// SPDX-License-Identifier: MIT
/*
 * The fast path against the fake kernel: peek, release, return, buffer
 * addresses, index wrap-around, batches across the ring end, NEED_WAKEUP.
 */
#include "fake_kernel.h"
#include <criterion/criterion.h>
#include "util.h"

#define BUF_SIZE 100	/* not a multiple of 8: checks the tail bytes too */

static void check_pattern(struct lring *r, const struct lring_cqe *c,
			  uint64_t seed)
{
	const uint8_t *p = lring_buf(r, c->buf_id);
	uint32_t i;

	cr_assert_not_null(p);
	for (i = 0; i < c->len; i++) {
		uint64_t w = lring_sim_word(seed, c->seq, i / 8);
		uint8_t want = (uint8_t)(w >> (8 * (i % 8)));

		cr_assert_eq(p[i], want, "seq %llu byte %u: %#x, want %#x",
			     (unsigned long long)c->seq, i, p[i], want);
	}
}

Test(rings, peek_returns_nothing_on_an_empty_ring)
{
	struct fake_kernel *fk = fk_create(4, BUF_SIZE, 0, 0, 0);
	struct lring *r = fk_lring(fk);
	uint32_t idx = 12345;

	cr_assert_eq(lring_peek(r, 8, &idx), 0);
	cr_assert_eq(lring_peek(r, 0, &idx), 0);
	lring_close(r);
	fk_free(fk);
}

Test(rings, peek_returns_entries_in_order_with_the_data_the_device_wrote)
{
	struct fake_kernel *fk = fk_create(8, BUF_SIZE, 0, 0, 0);
	struct lring *r = fk_lring(fk);
	uint32_t idx;
	unsigned i;

	fk_start(fk);
	cr_assert_eq(fk_complete_n(fk, 5, BUF_SIZE), 5);
	cr_assert_eq(lring_peek(r, 16, &idx), 5);
	for (i = 0; i < 5; i++) {
		const struct lring_cqe *c = lring_cqe(r, idx + i);

		cr_assert_eq(c->seq, i);
		cr_assert_eq(c->len, BUF_SIZE);
		cr_assert_eq(c->buf_id, i, "the device fills buffers in order");
		cr_assert_eq(c->flags, 0);
		check_pattern(r, c, fk->seed);
	}
	lring_close(r);
	fk_free(fk);
}

Test(rings, peek_with_max_smaller_than_available_hands_out_consecutive_batches)
{
	struct fake_kernel *fk = fk_create(8, BUF_SIZE, 0, 0, 0);
	struct lring *r = fk_lring(fk);
	uint32_t idx, first;

	fk_start(fk);
	cr_assert_eq(fk_complete_n(fk, 7, BUF_SIZE), 7);
	cr_assert_eq(lring_peek(r, 3, &first), 3);
	cr_assert_eq(lring_peek(r, 3, &idx), 3);
	cr_assert_eq(idx, first + 3);
	cr_assert_eq(lring_peek(r, 3, &idx), 1);
	cr_assert_eq(idx, first + 6);
	cr_assert_eq(lring_cqe(r, idx)->seq, 6);
	cr_assert_eq(lring_peek(r, 3, &idx), 0);
	lring_close(r);
	fk_free(fk);
}

Test(rings, peek_does_not_reload_the_producer_while_the_cache_has_enough)
{
	struct fake_kernel *fk = fk_create(8, BUF_SIZE, 0, 0, 0);
	struct lring *r = fk_lring(fk);
	uint32_t idx, cached;

	fk_start(fk);
	fk_complete_n(fk, 4, BUF_SIZE);
	cr_assert_eq(lring_peek(r, 1, &idx), 1);	/* loads: 4 ready */
	cached = r->cq_cached_prod;
	fk_complete_n(fk, 2, BUF_SIZE);
	cr_assert_eq(lring_peek(r, 3, &idx), 3);	/* 3 cached: no load */
	cr_assert_eq(r->cq_cached_prod, cached);
	cr_assert_eq(lring_peek(r, 4, &idx), 2);	/* 0 cached: loads */
	cr_assert_eq(r->cq_cached_prod, cached + 2);
	lring_close(r);
	fk_free(fk);
}

Test(rings, batch_straddling_the_ring_end_is_read_through_the_mask)
{
	struct fake_kernel *fk = fk_create(8, BUF_SIZE, 8, 8, 0);
	struct lring *r = fk_lring(fk);
	uint64_t seq = 0;
	uint32_t ids[8], idx;
	unsigned i;

	fk_start(fk);
	cr_assert_eq(fk_complete_n(fk, 6, BUF_SIZE), 6);
	cr_assert_eq(take(r, 8, ids, &seq), 6);
	cr_assert_eq(lring_return(r, ids, 6), 0);
	/* slots 6, 7, 0, 1, 2, 3 */
	cr_assert_eq(fk_complete_n(fk, 6, BUF_SIZE), 6);
	cr_assert_eq(lring_peek(r, 8, &idx), 6);
	cr_assert_eq(idx & r->cq_mask, 6);
	for (i = 0; i < 6; i++) {
		const struct lring_cqe *c = lring_cqe(r, idx + i);

		cr_assert_eq(c->seq, 6 + i);
		cr_assert_eq((const uint8_t *)c, r->cqes + (6 + i) % 8 * r->cqe_size);
		check_pattern(r, c, fk->seed);
	}
	lring_close(r);
	fk_free(fk);
}

Test(rings, both_rings_work_across_the_2_to_the_32_index_wrap)
{
	/* Start 5 below 2^32 and run 100 ring lengths past the wrap. */
	struct fake_kernel *fk = fk_create(8, BUF_SIZE, 8, 8, UINT32_MAX - 4);
	struct lring *r = fk_lring(fk);
	uint64_t seq = 0, want = 0;
	uint32_t ids[8];
	unsigned round, n;

	cr_assert_eq(r->cq_head, UINT32_MAX - 4);
	cr_assert_eq(r->fq_cached_prod, UINT32_MAX - 4);
	fk_start(fk);
	for (round = 0; round < 300; round++) {
		unsigned batch = 1 + round % 8;

		cr_assert_eq(fk_complete_n(fk, batch, BUF_SIZE), batch,
			     "round %u", round);
		n = take(r, 8, ids, &seq);
		cr_assert_eq(n, batch);
		cr_assert_eq(lring_return(r, ids, n), 0);
		want += batch;
	}
	cr_assert_eq(seq, want);
	cr_assert_lt(r->cq_head, 2000u, "the completion index wrapped");
	cr_assert_lt(r->fq_cached_prod, 2000u, "the fill index wrapped");
	/*
	 * A device above the low-water mark leaves returned ids on the fill
	 * ring until it runs low; a kick takes them all now.
	 */
	cr_assert_eq(lring_kick(r), 0);
	cr_assert_eq(*fk->fq_consumer, r->fq_cached_prod,
		     "the kernel took every returned id");
	cr_assert_eq(fk->counters->rejected_ids, 0);
	cr_assert_eq(fk->counters->rejected_indices, 0);
	cr_assert_eq(fk->counters->dropped, 0);
	lring_close(r);
	fk_free(fk);
}

Test(rings, release_makes_completion_slots_available_to_the_kernel)
{
	/* cq_entries == buf_count: holding every slot fills the ring. */
	struct fake_kernel *fk = fk_create(8, BUF_SIZE, 8, 8, 0);
	struct lring *r = fk_lring(fk);
	uint32_t idx;

	fk_start(fk);
	cr_assert_eq(fk_complete_n(fk, 8, BUF_SIZE), 8);
	cr_assert_eq(lring_peek(r, 8, &idx), 8);
	/* Return the buffers but keep the slots: the ring is full. */
	{
		uint32_t ids[8] = { 0, 1, 2, 3, 4, 5, 6, 7 };

		cr_assert_eq(lring_return(r, ids, 8), 0);
	}
	cr_assert_eq(fk_complete(fk, BUF_SIZE), -ENOSPC);
	cr_assert_eq(*fk->cq_consumer, 0);
	lring_release(r, 3);
	cr_assert_eq(*fk->cq_consumer, 3, "release publishes the consumer");
	cr_assert_eq(fk_complete_n(fk, 4, BUF_SIZE), 3);
	cr_assert_eq(lring_peek(r, 8, &idx), 3);
	cr_assert_eq(idx, 8);
	cr_assert_eq(lring_cqe(r, idx)->flags & LRING_CQE_F_GAP,
		     LRING_CQE_F_GAP, "the dropped block shows as a gap");
	cr_assert_eq(lring_cqe(r, idx)->dropped, 1);
	cr_assert_eq(lring_cqe(r, idx)->seq, 9);
	lring_close(r);
	fk_free(fk);
}

Test(rings, release_never_gives_back_more_than_was_peeked)
{
	struct fake_kernel *fk = fk_create(8, BUF_SIZE, 0, 0, 0);
	struct lring *r = fk_lring(fk);
	uint32_t idx;

	fk_start(fk);
	fk_complete_n(fk, 5, BUF_SIZE);
	cr_assert_eq(lring_peek(r, 2, &idx), 2);
	lring_release(r, 10);
	cr_assert_eq(*fk->cq_consumer, 2);
	lring_release(r, 1);
	cr_assert_eq(*fk->cq_consumer, 2);
	cr_assert_eq(lring_peek(r, 8, &idx), 3);
	cr_assert_eq(lring_cqe(r, idx)->seq, 2);
	lring_close(r);
	fk_free(fk);
}

Test(rings, return_makes_buffers_available_to_the_device)
{
	struct fake_kernel *fk = fk_create(4, BUF_SIZE, 0, 0, 0);
	struct lring *r = fk_lring(fk);
	uint64_t seq = 0;
	uint32_t ids[4];

	fk_start(fk);
	cr_assert_eq(fk_complete_n(fk, 3, BUF_SIZE), 3);
	cr_assert_eq(take(r, 4, ids, &seq), 3);
	cr_assert_eq(lring_return(r, ids, 2), 0);
	cr_assert_eq(*fk->fq_producer, 2, "return publishes the producer");
	/* One buffer still queued plus the two returned ones. */
	cr_assert_eq(fk_complete_n(fk, 4, BUF_SIZE), 3);
	cr_assert_eq(fk->counters->returned, 2);
	cr_assert_eq(fk_kicks(fk), 0);
	lring_close(r);
	fk_free(fk);
}

Test(rings, return_is_all_or_nothing_when_the_fill_ring_lacks_space)
{
	struct fake_kernel *fk = fk_create(4, BUF_SIZE, 4, 4, 0);
	struct lring *r = fk_lring(fk);
	uint32_t ids[5] = { 0, 1, 2, 3, 0 };

	cr_assert_eq(lring_return(r, ids, 5), -ENOSPC);
	cr_assert_eq(*fk->fq_producer, 0, "nothing was published");
	cr_assert_eq(lring_return(r, ids, 4), 0);
	cr_assert_eq(*fk->fq_producer, 4);
	cr_assert_eq(lring_return(r, ids, 1), -ENOSPC,
		     "the kernel has not consumed anything yet");
	lring_close(r);
	fk_free(fk);
}

Test(rings, return_does_not_kick_while_the_device_has_buffers)
{
	struct fake_kernel *fk = fk_create(8, BUF_SIZE, 0, 0, 0);
	struct lring *r = fk_lring(fk);
	uint64_t seq = 0;
	uint32_t ids[8];
	unsigned i, n, ioctls;

	fk_start(fk);
	ioctls = fk->nr_ioctls;
	for (i = 0; i < 100; i++) {
		cr_assert_eq(fk_complete_n(fk, 4, BUF_SIZE), 4);
		n = take(r, 8, ids, &seq);
		cr_assert_eq(lring_return(r, ids, n), 0);
	}
	cr_assert_eq(fk->nr_ioctls, ioctls, "no syscall in steady state");
	cr_assert_eq(fk->counters->kicks, 0);
	cr_assert_eq(fk->counters->need_wakeups, 0);
	lring_close(r);
	fk_free(fk);
}

Test(rings, return_kicks_exactly_once_when_need_wakeup_is_set)
{
	struct fake_kernel *fk = fk_create(4, BUF_SIZE, 0, 0, 0);
	struct lring *r = fk_lring(fk);
	uint64_t seq = 0;
	uint32_t ids[4];

	fk_start(fk);
	cr_assert_eq(fk_complete_n(fk, 4, BUF_SIZE), 4);
	cr_assert(lring_needs_wakeup(r), "all 4 buffers are the app's");
	cr_assert_eq(take(r, 4, ids, &seq), 4);
	cr_assert_eq(lring_return(r, ids, 2), 0);
	cr_assert_eq(fk_kicks(fk), 1, "NEED_WAKEUP was set: one kick");
	cr_assert_eq(fk->counters->kicks, 1);
	cr_assert_not(lring_needs_wakeup(r), "the kick cleared it");
	cr_assert_eq(lring_return(r, ids + 2, 2), 0);
	cr_assert_eq(fk_kicks(fk), 1, "flag clear: no second kick");
	cr_assert_eq(fk_complete_n(fk, 4, BUF_SIZE), 4);
	cr_assert_eq(fk->counters->returned, 4);
	lring_close(r);
	fk_free(fk);
}

/* Publish ids on the fill ring behind the library's back: no kick. */
static void return_without_kick(struct lring *r, const uint32_t *ids,
				unsigned n)
{
	uint32_t idx;
	unsigned i;

	cr_assert_eq(lring_fill_reserve(r, n, &idx), n);
	for (i = 0; i < n; i++)
		lring_fqe(r, idx + i)->buf_id = ids[i];
	lring_store_release(r->fq_producer, idx + n);
}

Test(rings, a_stalled_device_gets_returned_buffers_only_through_a_kick)
{
	struct fake_kernel *fk = fk_create(4, BUF_SIZE, 0, 0, 0);
	struct lring *r = fk_lring(fk);
	uint64_t seq = 0;
	uint32_t ids[4];

	fk->stall = 1;		/* lring_sim at rate 0 */
	fk_start(fk);
	cr_assert_eq(fk_complete_n(fk, 4, BUF_SIZE), 4);
	cr_assert_eq(take(r, 4, ids, &seq), 4);
	return_without_kick(r, ids, 4);
	cr_assert_eq(fk_complete(fk, BUF_SIZE), -ENOBUFS);
	cr_assert_eq(fk_complete(fk, BUF_SIZE), -ENOBUFS);
	cr_assert_eq(fk->counters->dropped, 0, "stalled, not dropping");
	cr_assert_eq(lring_kick(r), 0);
	cr_assert_not(lring_needs_wakeup(r));
	cr_assert_eq(fk_complete_n(fk, 4, BUF_SIZE), 4);
	lring_close(r);
	fk_free(fk);
}

Test(rings, a_dropped_block_picks_up_returned_buffers_without_a_kick)
{
	struct fake_kernel *fk = fk_create(4, BUF_SIZE, 0, 0, 0);
	struct lring *r = fk_lring(fk);
	uint64_t seq = 0;
	uint32_t ids[4], idx;

	fk_start(fk);
	cr_assert_eq(fk_complete_n(fk, 4, BUF_SIZE), 4);
	cr_assert_eq(take(r, 4, ids, &seq), 4);
	return_without_kick(r, ids, 4);
	/* The drop's interrupt reads the fill ring, like the kernel. */
	cr_assert_eq(fk_complete(fk, BUF_SIZE), -ENOBUFS);
	cr_assert_not(lring_needs_wakeup(r));
	cr_assert_eq(fk_complete(fk, BUF_SIZE), 0);
	cr_assert_eq(lring_peek(r, 1, &idx), 1);
	cr_assert_eq(lring_cqe(r, idx)->seq, 5);
	cr_assert_eq(lring_cqe(r, idx)->dropped, 1);
	cr_assert_eq(fk->counters->kicks, 0);
	lring_close(r);
	fk_free(fk);
}

Test(rings, kernel_rejects_and_counts_ids_the_app_does_not_own)
{
	struct fake_kernel *fk = fk_create(4, BUF_SIZE, 0, 0, 0);
	struct lring *r = fk_lring(fk);
	struct lring_counters c;
	uint64_t seq = 0;
	uint32_t ids[4], bad[3] = { 4, UINT32_MAX, 0 };

	fk_start(fk);
	fk_complete_n(fk, 1, BUF_SIZE);
	cr_assert_eq(take(r, 4, ids, &seq), 1);
	cr_assert_eq(lring_return(r, ids, 1), 0);
	cr_assert_eq(lring_return(r, bad, 3), 0);	/* 0 is now a double */
	fk_complete_n(fk, 4, BUF_SIZE);
	cr_assert_eq(lring_counters(r, &c), 0);
	cr_assert_eq(c.rejected_ids, 3);
	cr_assert_eq(c.returned, 1);
	cr_assert_eq(c.delivered, 5);
	lring_close(r);
	fk_free(fk);
}

Test(rings, buf_returns_the_pool_address_and_null_out_of_range)
{
	struct fake_kernel *fk = fk_create(16, 5000, 0, 0, 0);
	struct lring *r = fk_lring(fk);
	long page = sysconf(_SC_PAGESIZE);
	uint8_t *b0 = lring_buf(r, 0), *last = lring_buf(r, 15);

	cr_assert_eq(r->buf_stride, 2 * page);
	cr_assert_eq(b0, (uint8_t *)r->map + r->layout.pool_off);
	cr_assert_eq(last, b0 + 15 * r->buf_stride);
	cr_assert_null(lring_buf(r, 16));
	cr_assert_null(lring_buf(r, UINT32_MAX));
	/* The same memory the kernel writes, up to the last usable byte. */
	fk->pool[15 * fk->layout.buf_stride + 4999] = 0xa5;
	cr_assert_eq(last[4999], 0xa5);
	lring_close(r);
	fk_free(fk);
}

Test(rings, truncated_and_gap_flags_reach_the_consumer)
{
	struct fake_kernel *fk = fk_create(2, BUF_SIZE, 0, 0, 0);
	struct lring *r = fk_lring(fk);
	uint64_t seq = 0;
	uint32_t ids[2], idx;

	fk_start(fk);
	cr_assert_eq(fk_complete(fk, BUF_SIZE * 3), 0);
	cr_assert_eq(fk_complete(fk, BUF_SIZE), 0);
	cr_assert_eq(fk_complete(fk, BUF_SIZE), -ENOBUFS);	/* dropped */
	cr_assert_eq(fk_complete(fk, BUF_SIZE), -ENOBUFS);	/* dropped */
	cr_assert_eq(lring_peek(r, 1, &idx), 1);
	cr_assert_eq(lring_cqe(r, idx)->flags, LRING_CQE_F_TRUNCATED);
	cr_assert_eq(lring_cqe(r, idx)->len, BUF_SIZE);
	lring_release(r, 1);
	seq = 1;
	cr_assert_eq(take(r, 2, ids + 1, &seq), 1);
	ids[0] = 0;
	cr_assert_eq(lring_return(r, ids, 2), 0);
	cr_assert_eq(fk_complete(fk, BUF_SIZE), 0);
	cr_assert_eq(lring_peek(r, 1, &idx), 1);
	cr_assert_eq(lring_cqe(r, idx)->seq, 4);
	cr_assert_eq(lring_cqe(r, idx)->flags, LRING_CQE_F_GAP);
	cr_assert_eq(lring_cqe(r, idx)->dropped, 2);
	lring_close(r);
	fk_free(fk);
}

Test(rings, deferred_updates_wait_for_the_batch_or_an_idle_peek)
{
	struct fake_kernel *fk = fk_create(16, BUF_SIZE, 0, 0, 0);
	struct lring *r = fk_lring(fk);
	uint64_t seq = 0;
	uint32_t ids[16];

	fk_start(fk);
	lring_defer(r, 100);
	cr_assert_eq(r->defer, 4, "capped at a quarter of the pool");
	cr_assert_eq(fk_complete_batch(fk, 3, BUF_SIZE), 3);
	cr_assert_eq(take(r, 16, ids, &seq), 3);
	cr_assert_eq(lring_return(r, ids, 3), 0);
	cr_assert_eq(*fk->cq_consumer, 0, "3 released slots held back");
	cr_assert_eq(*fk->fq_producer, 0, "3 returned ids held back");
	cr_assert_eq(fk_complete_batch(fk, 2, BUF_SIZE), 2);
	cr_assert_eq(take(r, 16, ids, &seq), 2);
	cr_assert_eq(*fk->cq_consumer, 5, "past the batch: published");
	cr_assert_eq(lring_return(r, ids, 1), 0);
	cr_assert_eq(*fk->fq_producer, 0, "4 returned ids held back");
	cr_assert_eq(lring_return(r, ids + 1, 1), 0);
	cr_assert_eq(*fk->fq_producer, 5, "past the batch: published");
	cr_assert_eq(fk_complete_batch(fk, 1, BUF_SIZE), 1);
	cr_assert_eq(take(r, 16, ids, &seq), 1);
	cr_assert_eq(lring_return(r, ids, 1), 0);
	cr_assert_eq(*fk->cq_consumer, 5);
	cr_assert_eq(*fk->fq_producer, 5);
	cr_assert_eq(take(r, 16, ids, &seq), 0);
	cr_assert_eq(*fk->cq_consumer, 6, "an idle peek flushes the slots");
	cr_assert_eq(*fk->fq_producer, 6, "and the ids");
	cr_assert_eq(fk->counters->rejected_ids, 0);
	lring_close(r);
	fk_free(fk);
}

Test(rings, a_batch_of_completions_is_one_interrupt_with_one_timestamp)
{
	struct fake_kernel *fk = fk_create(16, BUF_SIZE, 0, 0, 0);
	struct lring *r = fk_lring(fk);
	uint32_t idx;

	fk_start(fk);
	cr_assert_eq(fk_complete_batch(fk, 8, BUF_SIZE), 8);
	cr_assert_eq(lring_peek(r, 16, &idx), 8);
	cr_assert_eq(lring_cqe(r, idx)->seq, 0);
	cr_assert_eq(lring_cqe(r, idx + 7)->seq, 7);
	cr_assert_eq(lring_cqe(r, idx)->timestamp_ns, lring_cqe(r, idx + 7)->timestamp_ns);
	cr_assert_eq(fk->counters->irqs, 1);
	cr_assert_eq(fk->counters->delivered, 8);
	lring_close(r);
	fk_free(fk);
}

Test(rings, for_each_cqe_and_cqe_ids_walk_a_batch_across_the_ring_end)
{
	struct fake_kernel *fk = fk_create(8, BUF_SIZE, 8, 8, UINT32_MAX - 2);
	struct lring *r = fk_lring(fk);
	const struct lring_cqe *cqe;
	uint32_t idx, ids[8], seen[8];
	unsigned n, i;

	fk_start(fk);
	cr_assert_eq(fk_complete_n(fk, 6, BUF_SIZE), 6);
	n = lring_peek(r, 8, &idx);
	cr_assert_eq(n, 6);
	lring_for_each_cqe(r, idx, n, i, cqe) {
		cr_assert_eq(cqe->seq, i);
		seen[i] = cqe->buf_id;
	}
	cr_assert_eq(i, 6);
	lring_cqe_ids(r, idx, n, ids);
	cr_assert_arr_eq(ids, seen, n * sizeof(ids[0]));
	lring_release(r, n);
	cr_assert_eq(lring_return(r, ids, n), 0);
	lring_close(r);
	fk_free(fk);
}
