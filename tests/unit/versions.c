// SPDX-License-Identifier: MIT
/*
 * liblring against kernel modules of other versions (uapi/linux/lring.h:
 * how the interface grows): a later module's larger completion entries and
 * unknown feature bits, an earlier module without LRING_IOC_WAIT. The same
 * cases run against the real module built both ways in
 * tests/pkg/abi-compat.sh.
 */
#include "fake_kernel.h"
#include <signal.h>
#include <criterion/criterion.h>
#include "util.h"

static struct fake_kernel *fk_version(uint32_t cqe_pad, uint64_t features)
{
	struct fake_kernel *fk = fk_new();
	struct lring_config cfg = { .buf_count = 8, .buf_size = 4096 };

	fk->cqe_pad = cqe_pad;
	fk->features = features;
	cr_assert_eq(fk_configure(fk, &cfg), 0);
	return fk;
}

Test(versions, a_later_modules_larger_entries_are_read_at_their_stride)
{
	struct fake_kernel *fk = fk_version(16, 0);
	struct lring *r = fk_lring(fk);
	uint64_t seq = 0;
	uint32_t ids[8], idx;
	unsigned round, i, n;

	cr_assert_eq(r->cqe_size, sizeof(struct lring_cqe) + 16);
	fk_start(fk);
	/* Three times round the 8-entry ring: every slot, at its stride. */
	for (round = 0; round < 3; round++) {
		cr_assert_eq(fk_complete_n(fk, 8, 1000 + round), 8);
		n = lring_peek(r, 8, &idx);
		cr_assert_eq(n, 8);
		for (i = 0; i < n; i++) {
			const struct lring_cqe *c = lring_cqe(r, idx + i);

			cr_assert_eq(c->seq, seq++);
			cr_assert_eq(c->len, 1000 + round);
			cr_assert_lt(c->buf_id, 8);
			ids[i] = c->buf_id;
		}
		lring_release(r, n);
		cr_assert_eq(lring_return(r, ids, n), 0);
		cr_assert_eq(lring_kick(r), 0);
	}
	lring_close(r);
	fk_free(fk);
}

Test(versions, feature_bits_this_library_does_not_know_are_kept)
{
	uint64_t later = LRING_FEATURES_VER0 | LRING_FEAT_SIZED_ARGS | (1ULL << 62);
	struct fake_kernel *fk = fk_version(0, later);
	struct lring *r = fk_lring(fk);

	cr_assert_eq(lring_features(r), later);
	cr_assert_eq(lring_wait_ioctl(r, 0, 1), -ETIMEDOUT);
	lring_close(r);
	fk_free(fk);
}

Test(versions, an_earlier_module_without_wait_gets_eopnotsupp_and_no_syscall)
{
	struct fake_kernel *fk = fk_version(0, LRING_FEATURES_VER0 & ~LRING_FEAT_WAIT);
	struct lring *r = fk_lring(fk);
	unsigned ioctls;

	cr_assert_eq(lring_features(r) & LRING_FEAT_WAIT, 0);
	ioctls = fk->nr_ioctls;
	cr_assert_eq(lring_wait_ioctl(r, 1000000, 1), -EOPNOTSUPP);
	cr_assert_eq(fk->nr_ioctls, ioctls, "the ioctl the module lacks was not made");
	cr_assert_str_eq(lring_strerror(-EOPNOTSUPP),
			 "not supported by this device or module (coherent memory on "
			 "a device that does not snoop the caches, a direction the "
			 "device lacks, or an older module)");
	/* The rest of the ring works as before. */
	fk_start(fk);
	cr_assert_eq(fk_complete_n(fk, 2, 100), 2);
	cr_assert_eq(lring_cq_ready(r), 2);
	lring_close(r);
	fk_free(fk);
}

Test(versions, a_null_handle_is_einval_not_a_crash)
{
	struct lring_info info;

	struct lring_counters c;
	sigset_t none;

	sigemptyset(&none);
	/* Every out-of-line call of lring.h that takes a handle. */
	cr_assert_eq(lring_get_info(NULL, &info), -EINVAL);
	cr_assert_eq(lring_features(NULL), 0);
	cr_assert_eq(lring_map(NULL), -EINVAL);
	cr_assert_eq(lring_attach(NULL, &info, sizeof(info)), -EINVAL);
	cr_assert_eq(lring_configure(NULL, NULL), -EINVAL);
	cr_assert_eq(lring_start(NULL), -EINVAL);
	cr_assert_eq(lring_stop(NULL), -EINVAL);
	cr_assert_eq(lring_kick(NULL), -EINVAL);
	cr_assert_eq(lring_counters(NULL, &c), -EINVAL);
	cr_assert_eq(lring_enable_eventfd(NULL, 1), -EINVAL);
	cr_assert_eq(lring_disable_eventfd(NULL), -EINVAL);
	cr_assert_eq(lring_register_eventfd(NULL, 0, 1), -EINVAL);
	cr_assert_eq(lring_wait(NULL, 0), -EINVAL);
	cr_assert_eq(lring_wait_for(NULL, 1, 0, &none), -EINVAL);
	cr_assert_eq(lring_wait_ioctl(NULL, 0, 1), -EINVAL);
	lring_close(NULL);
}
