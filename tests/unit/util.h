/* SPDX-License-Identifier: MIT */
/*
 * util.h - glue between the fake kernel and liblring for the unit tests.
 * Include after fake_kernel.h and <criterion/criterion.h>.
 */
#ifndef LRING_TEST_UTIL_H
#define LRING_TEST_UTIL_H

#include <lring.h>

/* Open the fake device through liblring and map it (GET_INFO + mmap). */
static inline struct lring *fk_lring(struct fake_kernel *fk)
{
	struct lring *r;
	char path[64];
	int err;

	fk_path(fk, path, sizeof(path));
	err = lring_open(path, &r);
	cr_assert_eq(err, 0, "lring_open: %s", lring_strerror(err));
	err = lring_map(r);
	cr_assert_eq(err, 0, "lring_map: %s", lring_strerror(err));
	return r;
}

/* Consume up to @max completions: check their seqs continue from *next_seq,
 * copy their ids out, release them. Returns the number consumed. */
static inline unsigned take(struct lring *r, unsigned max, uint32_t *ids,
		     uint64_t *next_seq)
{
	uint32_t idx;
	unsigned n = lring_peek(r, max, &idx), i;

	for (i = 0; i < n; i++) {
		const struct lring_cqe *c = lring_cqe(r, idx + i);

		cr_assert_eq(c->seq, *next_seq, "entry %u: seq %llu, want %llu",
			     i, (unsigned long long)c->seq,
			     (unsigned long long)*next_seq);
		(*next_seq)++;
		ids[i] = c->buf_id;
	}
	lring_release(r, n);
	return n;
}

#endif /* LRING_TEST_UTIL_H */
