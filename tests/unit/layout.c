// SPDX-License-Identifier: MIT
/*
 * Setup: configure + map through the ioctls, and lring_attach() refusing
 * every layout it cannot use without crashing on it. Also lring_strerror().
 */
#include "fake_kernel.h"
#include <criterion/criterion.h>
#include "util.h"

/* ---- configure / map ------------------------------------------------- */

Test(setup, configure_maps_the_layout_the_kernel_reports)
{
	struct fake_kernel *fk = fk_new();
	struct lring_config cfg = { .buf_count = 6, .buf_size = 3000 };
	struct lring_info info;
	struct lring *r;
	char path[64];

	fk_path(fk, path, sizeof(path));
	cr_assert_eq(lring_open(path, &r), 0);
	cr_assert_eq(lring_map(r), -ENODATA, "not configured yet");
	cr_assert_eq(lring_start(r), -EINVAL, "no pool to start");
	cr_assert_eq(lring_counters(r, &(struct lring_counters){ 0 }), -EINVAL,
		     "nothing mapped to read");
	cr_assert_eq(lring_configure(r, &cfg), 0);
	cr_assert_eq(lring_get_info(r, &info), 0);
	cr_assert_eq(memcmp(&info.layout, &r->layout, sizeof(r->layout)), 0);
	cr_assert_eq(r->map_size, info.layout.mmap_size);
	cr_assert_eq(r->layout.cq_entries, 8, "0 picks the next power of two");
	cr_assert_eq(r->buf_count, 6);
	cr_assert_eq(r->buf_size, 3000);
	cr_assert_eq(r->cq_mask, 7);
	cr_assert_eq(r->fq_size, 8);
	cr_assert_eq(lring_map(r), -EALREADY);
	/* Reconfiguring drops our own mapping first. */
	cfg.buf_count = 20;
	cr_assert_eq(lring_configure(r, &cfg), 0);
	cr_assert_eq(r->buf_count, 20);
	cr_assert_eq(r->layout.cq_entries, 32);
	lring_close(r);
	fk_free(fk);
}

Test(setup, configure_passes_on_the_kernels_refusal)
{
	struct fake_kernel *fk = fk_new();
	struct lring_config cfg = { .buf_count = 8, .buf_size = 64,
				    .cq_entries = 12 };
	struct lring *r;
	char path[64];

	fk_path(fk, path, sizeof(path));
	cr_assert_eq(lring_open(path, &r), 0);
	cr_assert_eq(lring_configure(r, &cfg), -EINVAL);
	cr_assert_null(r->map);
	lring_close(r);
	fk_free(fk);
}

Test(setup, map_rejects_a_control_page_that_differs_from_get_info)
{
	struct fake_kernel *fk = fk_create(4, 64, 0, 0, 0);
	struct lring *r;
	char path[64];

	fk->info_lie = 1;
	fk_path(fk, path, sizeof(path));
	cr_assert_eq(lring_open(path, &r), 0);
	cr_assert_eq(lring_map(r), -EPROTO);
	cr_assert_null(r->map);
	fk->info_lie = 0;
	cr_assert_eq(lring_map(r), 0);
	lring_close(r);
	fk_free(fk);
}

Test(setup, open_returns_negative_errno_for_a_missing_device)
{
	struct lring *r = NULL;

	cr_assert_eq(lring_open("/nonexistent/lring0", &r), -ENOENT);
	cr_assert_null(r);
	cr_assert_eq(lring_open_fd(-1, &r), -EBADF);
}

Test(setup, control_ioctls_reach_the_kernel)
{
	struct fake_kernel *fk = fk_create(4, 64, 0, 0, 0);
	struct lring *r = fk_lring(fk);

	cr_assert_eq(lring_flags(r) & LRING_F_RUNNING, 0);
	cr_assert_eq(lring_start(r), 0);
	cr_assert_eq(lring_flags(r) & LRING_F_RUNNING, LRING_F_RUNNING);
	cr_assert_eq(lring_start(r), -EBUSY);
	cr_assert_eq(lring_stop(r), 0);
	cr_assert_eq(lring_flags(r) & LRING_F_RUNNING, 0);
	cr_assert_eq(lring_kick(r), 0);
	cr_assert_eq(fk_kicks(fk), 1);
	lring_close(r);
	fk_free(fk);
}

Test(setup, ioctls_on_something_else_fail_with_enotty)
{
	struct lring *r;
	int fd = memfd_create("not-a-ring", MFD_CLOEXEC);

	cr_assert_geq(fd, 0);
	cr_assert_eq(lring_open_fd(fd, &r), 0);
	cr_assert_eq(lring_start(r), -ENOTTY);
	cr_assert_eq(lring_map(r), -ENOTTY);
	cr_assert_str_eq(lring_strerror(-ENOTTY), "not an lring device");
	lring_close(r);
}

/* ---- bad layouts --------------------------------------------------------
 *
 * Each test maps the fake's valid layout privately (copy-on-write), breaks
 * one thing and expects -EPROTO. The mapping is exactly mmap_size long, so
 * a read outside it would crash the test.
 */

struct bad {
	struct fake_kernel *fk;
	uint8_t *map;
	size_t size;
	struct lring_ctrl *ctrl;
	struct lring_layout *l;
	struct lring *r;
};

static struct bad bad_setup(void)
{
	struct bad b;

	b.fk = fk_create(8, 4096, 16, 8, 0);
	b.size = b.fk->size;
	b.map = mmap(NULL, b.size, PROT_READ | PROT_WRITE, MAP_PRIVATE,
		     b.fk->memfd, 0);
	cr_assert_neq(b.map, MAP_FAILED);
	b.ctrl = (struct lring_ctrl *)b.map;
	b.l = &b.ctrl->layout;
	cr_assert_eq(lring_open_fd(dup(b.fk->memfd), &b.r), 0);
	return b;
}

/* Expect -EPROTO, leave the handle unattached, and prove the same handle
 * attaches to the untouched layout. */
static void bad_expect_eproto(struct bad *b)
{
	cr_assert_eq(lring_attach(b->r, b->map, b->size), -EPROTO);
	cr_assert_null(b->r->map);
	cr_assert_eq(lring_attach(b->r, b->fk->map, b->fk->size), 0);
	lring_close(b->r);
	munmap(b->map, b->size);
	fk_free(b->fk);
}

Test(layout, valid_layout_attaches)
{
	struct bad b = bad_setup();

	cr_assert_eq(lring_attach(b.r, b.map, b.size), 0);
	cr_assert_eq(b.r->pool, b.map + b.l->pool_off);
	cr_assert_eq(lring_attach(b.r, b.map, b.size), -EINVAL,
		     "already attached");
	lring_close(b.r);
	munmap(b.map, b.size);
	fk_free(b.fk);
}

Test(layout, attach_rejects_bad_magic)
{
	struct bad b = bad_setup();

	b.ctrl->magic = 0x4c524e47;
	bad_expect_eproto(&b);
}

Test(layout, attach_rejects_other_abi_version)
{
	struct bad b = bad_setup();

	b.ctrl->abi_version = LRING_ABI_VERSION + 1;
	bad_expect_eproto(&b);
}

Test(layout, attach_rejects_ctrl_size_smaller_than_the_struct)
{
	struct bad b = bad_setup();

	b.ctrl->ctrl_size = sizeof(struct lring_ctrl) - 8;
	bad_expect_eproto(&b);
}

Test(layout, attach_rejects_a_foreign_page_size)
{
	struct bad b = bad_setup();

	b.ctrl->page_size = 3000;
	bad_expect_eproto(&b);
}

Test(layout, attach_rejects_a_mapping_shorter_than_mmap_size)
{
	struct bad b = bad_setup();

	cr_assert_eq(lring_attach(b.r, b.map, b.size - 4096), -EPROTO);
	cr_assert_eq(lring_attach(b.r, b.map, 100), -EPROTO);
	b.l->mmap_size += 4096;
	bad_expect_eproto(&b);
}

Test(layout, attach_rejects_non_power_of_two_completion_ring)
{
	struct bad b = bad_setup();

	b.l->cq_entries = 12;
	bad_expect_eproto(&b);
}

Test(layout, attach_rejects_empty_fill_ring)
{
	struct bad b = bad_setup();

	b.l->fq_entries = 0;
	bad_expect_eproto(&b);
}

Test(layout, attach_rejects_ring_larger_than_the_abi_allows)
{
	struct bad b = bad_setup();

	b.l->cq_entries = 2 * LRING_MAX_RING_ENTRIES;
	bad_expect_eproto(&b);
}

/* A later kernel's entries may be larger; never smaller, always 8-aligned. */
Test(layout, attach_rejects_a_smaller_completion_entry)
{
	struct bad b = bad_setup();

	b.l->cqe_size = sizeof(struct lring_cqe) - 8;
	bad_expect_eproto(&b);
}

Test(layout, attach_rejects_an_unaligned_completion_entry)
{
	struct bad b = bad_setup();

	b.l->cqe_size = sizeof(struct lring_cqe) + 4;
	bad_expect_eproto(&b);
}

Test(layout, attach_rejects_other_fqe_size)
{
	struct bad b = bad_setup();

	b.l->fqe_size = 8;
	bad_expect_eproto(&b);
}

Test(layout, attach_rejects_completion_entries_past_the_end)
{
	struct bad b = bad_setup();

	b.l->cq_entries_off = b.l->mmap_size - 256;	/* 512 bytes long */
	bad_expect_eproto(&b);
}

Test(layout, attach_rejects_offsets_that_overflow_when_added)
{
	struct bad b = bad_setup();

	b.l->fq_entries_off = UINT64_MAX - 8;
	bad_expect_eproto(&b);
}

Test(layout, attach_rejects_index_outside_the_mapping)
{
	struct bad b = bad_setup();

	b.l->cq_producer_off = b.l->mmap_size;
	bad_expect_eproto(&b);
}

Test(layout, attach_rejects_unaligned_index)
{
	struct bad b = bad_setup();

	b.l->fq_consumer_off += 2;
	bad_expect_eproto(&b);
}

Test(layout, attach_rejects_two_indices_at_one_place)
{
	struct bad b = bad_setup();

	b.l->cq_consumer_off = b.l->cq_producer_off;
	bad_expect_eproto(&b);
}

Test(layout, attach_rejects_flags_inside_the_pool)
{
	struct bad b = bad_setup();

	b.l->flags_off = b.l->pool_off + 64;
	bad_expect_eproto(&b);
}

Test(layout, attach_rejects_index_inside_the_header)
{
	struct bad b = bad_setup();

	/* a zero word of the header, so only the overlap check can catch it */
	b.l->fq_producer_off = offsetof(struct lring_ctrl, layout.resv);
	bad_expect_eproto(&b);
}

Test(layout, attach_rejects_overlapping_rings)
{
	struct bad b = bad_setup();

	b.l->fq_entries_off = b.l->cq_entries_off + 256;
	bad_expect_eproto(&b);
}

Test(layout, attach_rejects_unaligned_completion_entries)
{
	struct bad b = bad_setup();

	b.l->cq_entries_off += 4;
	bad_expect_eproto(&b);
}

Test(layout, attach_rejects_unaligned_pool)
{
	struct bad b = bad_setup();

	b.l->pool_off -= 64;	/* still in bounds, overlapping nothing */
	bad_expect_eproto(&b);
}

Test(layout, attach_rejects_pool_past_the_end)
{
	struct bad b = bad_setup();

	b.l->buf_count++;
	b.l->pool_size += b.l->buf_stride;
	bad_expect_eproto(&b);
}

Test(layout, attach_rejects_pool_size_that_disagrees_with_count_and_stride)
{
	struct bad b = bad_setup();

	b.l->pool_size -= 4096;
	bad_expect_eproto(&b);
}

Test(layout, attach_rejects_stride_smaller_than_buffer)
{
	struct bad b = bad_setup();

	b.l->buf_size = b.l->buf_stride + 1;
	bad_expect_eproto(&b);
}

Test(layout, attach_rejects_empty_pool)
{
	struct bad b = bad_setup();

	b.l->buf_count = 0;
	b.l->pool_size = 0;
	bad_expect_eproto(&b);
}

Test(layout, attach_rejects_completion_indices_further_apart_than_the_ring)
{
	struct bad b = bad_setup();

	b.ctrl->cq_producer = 17;	/* 16 entries, consumer at 0 */
	bad_expect_eproto(&b);
}

Test(layout, attach_rejects_fill_indices_further_apart_than_the_ring)
{
	struct bad b = bad_setup();
	uint32_t *fq_prod = (uint32_t *)(b.map + b.l->fq_producer_off);

	*fq_prod = 9;			/* 8 entries, consumer at 0 */
	bad_expect_eproto(&b);
}

Test(layout, attach_rejects_null_base_with_einval)
{
	struct bad b = bad_setup();

	cr_assert_eq(lring_attach(b.r, NULL, b.size), -EINVAL);
	lring_close(b.r);
	munmap(b.map, b.size);
	fk_free(b.fk);
}

/* ---- messages ------------------------------------------------------------ */

Test(strerror, lring_errors_have_lring_wording)
{
	cr_assert_str_eq(lring_strerror(-EPROTO),
			 "kernel and library disagree on the ring layout");
	cr_assert_str_eq(lring_strerror(-EBUSY),
			 "ring is running or still mapped (or open elsewhere)");
	cr_assert_str_eq(lring_strerror(EPROTO), lring_strerror(-EPROTO),
			 "either sign works");
}

Test(strerror, other_errors_use_the_c_library_text)
{
	cr_assert_str_eq(lring_strerror(-ENOENT), "No such file or directory");
	cr_assert_str_eq(lring_strerror(-100000), "unknown error");
}

/* Issue 17: a failed lring_open_fd() leaves the descriptor to its caller. */
Test(setup, open_fd_that_fails_leaves_the_fd_open)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	cr_assert_geq(fd, 0);
	cr_assert_eq(lring_open_fd(fd, NULL), -EINVAL);
	cr_assert_geq(fcntl(fd, F_GETFD), 0, "still the caller's");
	cr_assert_eq(lring_open_fd(-1, NULL), -EINVAL);
	close(fd);
}
