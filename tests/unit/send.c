// SPDX-License-Identifier: MIT
/*
 * liblring's sending side (LRING_CONFIG_TX) against the fake kernel: the
 * hand-out of free buffers, submission entries at their 8-byte stride,
 * the kick on NEED_WAKEUP, and the calls that belong to the other
 * direction refused. The real module's side is tests/kernel/tx_test.c.
 */
#include "fake_kernel.h"
#include <criterion/criterion.h>
#include "util.h"

static struct fake_kernel *fk_tx(uint32_t buf_count)
{
	struct fake_kernel *fk = fk_new();
	struct lring_config cfg = { .buf_count = buf_count, .buf_size = 4096,
				    .flags = LRING_CONFIG_TX };

	cr_assert_eq(fk_configure(fk, &cfg), 0);
	return fk;
}

Test(send, every_buffer_is_free_at_first_and_taken_once)
{
	struct fake_kernel *fk = fk_tx(8);
	struct lring *r = fk_lring(fk);
	uint32_t ids[16];
	unsigned i, seen = 0;

	cr_assert(lring_is_tx(r));
	cr_assert_eq(lring_take_free(r, 16, ids), 8);
	for (i = 0; i < 8; i++)
		seen |= 1U << ids[i];
	cr_assert_eq(seen, 0xff, "each buffer once: %#x", seen);
	cr_assert_eq(lring_take_free(r, 16, ids), 0, "taken means released");
	cr_assert_eq(*fk->cq_consumer, *fk->cq_producer);
	lring_close(r);
	fk_free(fk);
}

Test(send, blocks_reach_the_kernel_with_their_lengths_in_order)
{
	struct fake_kernel *fk = fk_tx(8);
	struct lring *r = fk_lring(fk);
	struct lring_sqe sqes[8];
	uint32_t ids[8], i;

	cr_assert_eq(lring_take_free(r, 8, ids), 8);
	for (i = 0; i < 8; i++)
		sqes[i] = (struct lring_sqe){ .buf_id = ids[i], .len = 100 + i };
	fk_start(fk);	/* nothing queued: the kernel sets NEED_WAKEUP */
	cr_assert(lring_needs_wakeup(r));
	cr_assert_eq(lring_send(r, sqes, 8), 0);
	cr_assert_eq(fk_kicks(fk), 1, "one kick for the batch");
	cr_assert_eq(fk->counters->returned, 8);
	cr_assert_eq(fk->counters->rejected_ids, 0);
	for (i = 0; i < 8; i++) {
		const struct lring_sqe *e = (const void *)(fk->fqes + i * 8);

		cr_assert_eq(e->buf_id, ids[i]);
		cr_assert_eq(e->len, 100 + i);
		cr_assert_eq(fk->devq[i], ids[i], "queued in submission order");
	}
	lring_close(r);
	fk_free(fk);
}

Test(send, a_length_out_of_range_is_rejected_by_the_kernel)
{
	struct fake_kernel *fk = fk_tx(4);
	struct lring *r = fk_lring(fk);
	struct lring_sqe sqes[2];
	uint32_t ids[4];

	cr_assert_eq(lring_take_free(r, 4, ids), 4);
	sqes[0] = (struct lring_sqe){ .buf_id = ids[0], .len = 0 };
	sqes[1] = (struct lring_sqe){ .buf_id = ids[1], .len = 4097 };
	fk_start(fk);
	cr_assert_eq(lring_send(r, sqes, 2), 0);
	cr_assert_eq(fk->counters->rejected_ids, 2);
	cr_assert_eq(fk->counters->returned, 0);
	lring_close(r);
	fk_free(fk);
}

Test(send, each_direction_refuses_the_others_call)
{
	struct fake_kernel *tx = fk_tx(4), *rx = fk_create(4, 4096, 0, 0, 0);
	struct lring *rt = fk_lring(tx), *rr = fk_lring(rx);
	struct lring_sqe sqe = { .buf_id = 0, .len = 1 };
	uint32_t id = 0;

	cr_assert_eq(lring_return(rt, &id, 1), -EINVAL);
	cr_assert_eq(lring_send(rr, &sqe, 1), -EINVAL);
	cr_assert_not(lring_is_tx(rr));
	cr_assert_eq(*tx->fq_producer, 0, "nothing written");
	cr_assert_eq(*rx->fq_producer, 0, "nothing written");
	lring_close(rt);
	lring_close(rr);
	fk_free(tx);
	fk_free(rx);
}

Test(send, a_full_submission_ring_writes_nothing)
{
	struct fake_kernel *fk = fk_tx(4);
	struct lring *r = fk_lring(fk);
	struct lring_sqe sqes[5] = {};

	/* The kernel is stopped: nothing is taken, the 4 slots fill up. */
	cr_assert_eq(lring_send(r, sqes, 4), 0);
	cr_assert_eq(lring_send(r, sqes, 1), -ENOSPC);
	cr_assert_eq(*fk->fq_producer, 4);
	lring_close(r);
	fk_free(fk);
}
