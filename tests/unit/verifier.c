// SPDX-License-Identifier: MIT
/*
 * lring-cat's checker (tools/common.h) must catch what it is there to
 * catch: a verifier that never fails would make every VM run "pass".
 */
#include "fake_kernel.h"
#include <criterion/criterion.h>
#include "util.h"
#include "../../tools/common.h"

#define BUF_SIZE 256

static struct verifier fresh(struct fake_kernel *fk, uint64_t block_size)
{
	struct verifier v;

	verifier_init(&v, "test", 1, fk->seed, BUF_SIZE, block_size);
	return v;
}

/* Consume everything waiting through the verifier; returns bad blocks. */
static unsigned verify_all(struct lring *r, struct verifier *v)
{
	uint32_t idx, ids[64];
	unsigned n, i, bad = 0;

	while ((n = lring_peek(r, 64, &idx)) > 0) {
		for (i = 0; i < n; i++) {
			bad += verify_cqe(v, r, lring_cqe(r, idx + i));
			ids[i] = lring_cqe(r, idx + i)->buf_id;
		}
		lring_release(r, n);
		cr_assert_eq(lring_return(r, ids, n), 0);
	}
	return bad;
}

Test(verifier, accepts_the_pattern_and_flagged_gaps)
{
	struct fake_kernel *fk = fk_create(4, BUF_SIZE, 0, 0, 0);
	struct lring *r = fk_lring(fk);
	struct verifier v = fresh(fk, 0);
	struct lring_counters c;

	fk_start(fk);
	cr_assert_eq(fk_complete_n(fk, 7, BUF_SIZE), 4);	/* 3 dropped */
	cr_assert_eq(verify_all(r, &v), 0);
	cr_assert_eq(fk_complete_n(fk, 2, BUF_SIZE), 2);
	cr_assert_eq(verify_all(r, &v), 0);
	cr_assert_eq(v.blocks, 6);
	cr_assert_eq(v.gaps, 1);
	cr_assert_eq(v.gap_blocks, 3);
	cr_assert_eq(verifier_errors(&v), 0);
	lring_counters(r, &c);
	cr_assert_eq(check_accounting("test", &v, &c), 0);
	lring_close(r);
	fk_free(fk);
}

Test(verifier, reports_the_first_wrong_byte)
{
	struct fake_kernel *fk = fk_create(4, BUF_SIZE, 0, 0, 0);
	struct lring *r = fk_lring(fk);
	struct verifier v = fresh(fk, 0);
	uint8_t want, got;
	uint32_t idx;
	uint8_t *p;

	fk_start(fk);
	fk_complete_n(fk, 1, BUF_SIZE);
	cr_assert_eq(lring_peek(r, 1, &idx), 1);
	p = fk->pool + (size_t)lring_cqe(r, idx)->buf_id * fk->layout.buf_stride;
	want = p[203];
	p[203] ^= 0x10;
	p[250] ^= 0x01;
	cr_assert_eq(sim_first_bad(p, BUF_SIZE, fk->seed, 0, &want, &got), 203);
	cr_assert_eq(got, want ^ 0x10);
	cr_assert_eq(verify_cqe(&v, r, lring_cqe(r, idx)), 1);
	cr_assert_eq(v.data_errors, 1);
	lring_close(r);
	fk_free(fk);
}

Test(verifier, catches_data_of_another_seed_or_block)
{
	struct fake_kernel *fk = fk_create(4, BUF_SIZE, 0, 0, 0);
	struct lring *r = fk_lring(fk);
	uint8_t want, got;
	uint32_t idx;
	const uint8_t *p;

	fk_start(fk);
	fk_complete_n(fk, 2, BUF_SIZE);
	cr_assert_eq(lring_peek(r, 2, &idx), 2);
	p = lring_buf(r, lring_cqe(r, idx + 1)->buf_id);
	cr_assert_eq(sim_first_bad(p, BUF_SIZE, fk->seed, 1, &want, &got), -1);
	cr_assert_eq(sim_first_bad(p, BUF_SIZE, fk->seed, 0, &want, &got), 0,
		     "a stale block from the previous seq");
	cr_assert_eq(sim_first_bad(p, BUF_SIZE, fk->seed + 1, 1, &want, &got),
		     0, "another run's seed");
	cr_assert_eq(sim_first_bad(p, 5, fk->seed, 1, &want, &got), -1,
		     "tail bytes of a short block");
	lring_close(r);
	fk_free(fk);
}

Test(verifier, flags_a_sequence_jump_without_the_gap_flag)
{
	struct fake_kernel *fk = fk_create(4, BUF_SIZE, 0, 0, 0);
	struct lring *r = fk_lring(fk);
	struct verifier v = fresh(fk, UINT64_MAX);
	struct lring_cqe c = { .buf_id = 0, .len = 0, .seq = 0 };

	cr_assert_eq(verify_cqe(&v, r, &c), 0);
	c.seq = 2;
	cr_assert_eq(verify_cqe(&v, r, &c), 1, "1 missing, not flagged");
	cr_assert_eq(v.seq_errors, 1);
	c.seq = 5;
	c.flags = LRING_CQE_F_GAP;
	c.dropped = 2;
	cr_assert_eq(verify_cqe(&v, r, &c), 0, "flagged gap of 2");
	c.seq = 6;
	c.flags = LRING_CQE_F_GAP;
	c.dropped = 0;
	cr_assert_eq(verify_cqe(&v, r, &c), 1, "GAP with dropped 0");
	c.seq = 7;
	c.flags = 0;
	c.dropped = 1;
	cr_assert_eq(verify_cqe(&v, r, &c), 1, "dropped without GAP");
	c.seq = 7;
	c.dropped = 0;
	cr_assert_eq(verify_cqe(&v, r, &c), 1, "a repeated seq");
	lring_close(r);
	fk_free(fk);
}

Test(verifier, checks_lengths_against_the_block_size)
{
	struct fake_kernel *fk = fk_create(4, BUF_SIZE, 0, 0, 0);
	struct lring *r = fk_lring(fk);
	struct verifier v = fresh(fk, 100);
	struct lring_cqe c = { .buf_id = 1, .len = 100, .seq = 0 };

	fk_fill_pattern(fk, fk->pool + fk->layout.buf_stride, 0, BUF_SIZE);
	cr_assert_eq(verify_cqe(&v, r, &c), 0);
	c.seq = 1;
	fk_fill_pattern(fk, fk->pool + fk->layout.buf_stride, 1, BUF_SIZE);
	c.len = 99;
	cr_assert_eq(verify_cqe(&v, r, &c), 1, "short block");
	cr_assert_eq(v.len_errors, 1);

	v = fresh(fk, 1000);	/* larger than the buffer: truncated */
	c.seq = 0;
	c.len = BUF_SIZE;
	fk_fill_pattern(fk, fk->pool + fk->layout.buf_stride, 0, BUF_SIZE);
	cr_assert_eq(verify_cqe(&v, r, &c), 1, "TRUNCATED flag missing");
	c.seq = 1;
	c.flags = LRING_CQE_F_TRUNCATED;
	fk_fill_pattern(fk, fk->pool + fk->layout.buf_stride, 1, BUF_SIZE);
	cr_assert_eq(verify_cqe(&v, r, &c), 0);
	c.seq = 2;
	c.buf_id = 4;
	cr_assert_eq(verify_cqe(&v, r, &c), 1, "buffer id out of range");
	lring_close(r);
	fk_free(fk);
}

Test(verifier, accounting_catches_counters_that_disagree)
{
	struct verifier v;
	struct lring_counters c = { .produced = 10, .delivered = 8,
				    .dropped = 2 };

	verifier_init(&v, "test", 0, 0, 64, UINT64_MAX);
	v.blocks = 8;
	v.gap_blocks = 2;
	cr_assert_eq(check_accounting("test", &v, &c), 0);
	v.blocks = 7;
	cr_assert_eq(check_accounting("test", &v, &c), 1, "a lost block");
	v.blocks = 8;
	c.produced = 11;
	cr_assert_eq(check_accounting("test", &v, &c), 1, "a silent drop");
	c.produced = 10;
	v.gap_blocks = 3;
	cr_assert_eq(check_accounting("test", &v, &c), 1, "gaps > drops");
	v.gap_blocks = 2;
	c.rejected_ids = 1;
	cr_assert_eq(check_accounting("test", &v, &c), 1, "rejected id");
}

Test(histogram, buckets_bound_values_within_three_percent)
{
	uint64_t v;

	for (v = 0; v < 5000000; v = v < 1000 ? v + 1 : v * 1.01 + 1) {
		unsigned i = hist_index(v);

		cr_assert_lt(i, HIST_BUCKETS);
		cr_assert_geq(hist_upper(i), v, "v %llu", (unsigned long long)v);
		cr_assert_leq(hist_upper(i) - v, v / 32 + 1,
			      "v %llu", (unsigned long long)v);
		if (i)
			cr_assert_lt(hist_upper(i - 1), v);
	}
	cr_assert_lt(hist_index(UINT64_MAX), HIST_BUCKETS);
	cr_assert_eq(hist_upper(hist_index(UINT64_MAX)), UINT64_MAX);
}

Test(histogram, quantiles_of_a_known_distribution)
{
	struct histogram *h = calloc(1, sizeof(*h));
	uint64_t i;

	cr_assert_eq(hist_quantile(h, 0.5), 0, "empty");
	for (i = 1; i <= 100000; i++)
		hist_add(h, i * 10);	/* 10 ns .. 1 ms */
	cr_assert_geq(hist_quantile(h, 0.5), 500000);
	cr_assert_leq(hist_quantile(h, 0.5), 500000 * 1.032);
	cr_assert_geq(hist_quantile(h, 0.99), 990000);
	cr_assert_leq(hist_quantile(h, 0.99), 1000000);
	cr_assert_geq(hist_quantile(h, 0.999), 999000);
	cr_assert_eq(hist_quantile(h, 1.0), 1000000, "capped at the max");
	cr_assert_eq(h->max, 1000000);
	free(h);
}

Test(options, numbers_take_decimal_and_binary_suffixes)
{
	uint64_t v;

	cr_assert_eq(parse_u64("4096", &v), 0);
	cr_assert_eq(v, 4096);
	cr_assert_eq(parse_u64("100k", &v), 0);
	cr_assert_eq(v, 100000);
	cr_assert_eq(parse_u64("2Mi", &v), 0);
	cr_assert_eq(v, 2 << 20);
	cr_assert_eq(parse_u64("0x10", &v), 0);
	cr_assert_eq(v, 16);
	cr_assert_eq(parse_u64("-1", &v), -1);
	cr_assert_eq(parse_u64("12x", &v), -1);
	cr_assert_eq(parse_u64("", &v), -1);
	cr_assert_eq(parse_u64("99999999999Gi", &v), -1, "overflow");
}
