// SPDX-License-Identifier: MIT
/*
 * Sleeping: lring_wait() on the eventfd, lring_wait_ioctl(), a dead device,
 * and the counters read from the control page.
 */
#include "fake_kernel.h"
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <criterion/criterion.h>
#include "util.h"

#define BUF_SIZE 64

static uint64_t ms_since(uint64_t t0_ns)
{
	return (fk_now_ns() - t0_ns) / 1000000;
}

struct later {
	struct fake_kernel *fk;
	unsigned delay_ms;
	unsigned n;
	int kill;
};

static void *complete_later(void *arg)
{
	struct later *l = arg;

	usleep(l->delay_ms * 1000);
	if (l->kill)
		fk_kill(l->fk);
	else
		fk_complete_n(l->fk, l->n, BUF_SIZE);
	return NULL;
}

Test(wait, enable_eventfd_registers_it_and_the_batch_with_the_kernel)
{
	struct fake_kernel *fk = fk_create(4, BUF_SIZE, 0, 0, 0);
	struct lring *r = fk_lring(fk);

	cr_assert_eq(r->event_fd, -1);
	cr_assert_eq(lring_enable_eventfd(r, 3), 0);
	cr_assert_geq(r->event_fd, 0);
	cr_assert_geq(fk->eventfd, 0);
	cr_assert_eq(fk->ev_batch, 3);
	cr_assert_eq(lring_disable_eventfd(r), 0);
	cr_assert_eq(r->event_fd, -1);
	cr_assert_eq(fk->eventfd, -1);
	lring_close(r);
	fk_free(fk);
}

Test(wait, returns_at_once_with_the_count_when_entries_wait)
{
	struct fake_kernel *fk = fk_create(4, BUF_SIZE, 0, 0, 0);
	struct lring *r = fk_lring(fk);
	uint32_t idx;

	cr_assert_eq(lring_enable_eventfd(r, 1), 0);
	fk_start(fk);
	fk_complete_n(fk, 3, BUF_SIZE);
	cr_assert_eq(lring_wait(r, -1), 3);
	cr_assert_eq(lring_peek(r, 1, &idx), 1);
	cr_assert_eq(lring_wait(r, 0), 2, "counts what peek has not taken");
	lring_close(r);
	fk_free(fk);
}

Test(wait, times_out_with_etimedout_when_nothing_comes)
{
	struct fake_kernel *fk = fk_create(4, BUF_SIZE, 0, 0, 0);
	struct lring *r = fk_lring(fk);
	uint64_t t0;

	cr_assert_eq(lring_enable_eventfd(r, 1), 0);
	fk_start(fk);
	t0 = fk_now_ns();
	cr_assert_eq(lring_wait(r, 50), -ETIMEDOUT);
	cr_assert_geq(ms_since(t0), 49);
	cr_assert_eq(lring_wait(r, 0), -ETIMEDOUT);
	lring_close(r);
	fk_free(fk);
}

Test(wait, sleeps_on_the_eventfd_until_the_kernel_publishes)
{
	struct fake_kernel *fk = fk_create(4, BUF_SIZE, 0, 0, 0);
	struct lring *r = fk_lring(fk);
	struct later l = { .fk = fk, .delay_ms = 50, .n = 2 };
	pthread_t t;
	uint64_t t0;
	int n;

	cr_assert_eq(lring_enable_eventfd(r, 1), 0);
	fk_start(fk);
	t0 = fk_now_ns();
	pthread_create(&t, NULL, complete_later, &l);
	n = lring_wait(r, 10000);
	pthread_join(t, NULL);
	cr_assert_geq(n, 1, "lring_wait: %s", lring_strerror(n));
	cr_assert_geq(ms_since(t0), 45, "it slept");
	cr_assert_lt(ms_since(t0), 5000, "the signal woke it");
	cr_assert_eq(fk->counters->eventfd_signals, 1,
		     "one signal for empty -> non-empty");
	lring_close(r);
	fk_free(fk);
}

Test(wait, a_stale_signal_is_drained_and_the_wait_goes_on)
{
	struct fake_kernel *fk = fk_create(4, BUF_SIZE, 0, 0, 0);
	struct lring *r = fk_lring(fk);
	uint64_t seq = 0, t0, cnt;
	uint32_t ids[4];

	cr_assert_eq(lring_enable_eventfd(r, 1), 0);
	fk_start(fk);
	fk_complete_n(fk, 1, BUF_SIZE);		/* signals */
	cr_assert_eq(take(r, 4, ids, &seq), 1);	/* consumed without waiting */
	t0 = fk_now_ns();
	cr_assert_eq(lring_wait(r, 50), -ETIMEDOUT);
	cr_assert_geq(ms_since(t0), 49, "the stale signal did not end it");
	cr_assert_eq(read(r->event_fd, &cnt, sizeof(cnt)), -1,
		     "the eventfd was drained");
	lring_close(r);
	fk_free(fk);
}

Test(wait, batch_threshold_delays_the_signal_and_timeout_returns_what_came)
{
	struct fake_kernel *fk = fk_create(8, BUF_SIZE, 0, 0, 0);
	struct lring *r = fk_lring(fk);
	struct later l = { .fk = fk, .delay_ms = 10, .n = 2 };
	pthread_t t;
	uint64_t t0;

	cr_assert_eq(lring_enable_eventfd(r, 4), 0);
	fk_start(fk);
	t0 = fk_now_ns();
	pthread_create(&t, NULL, complete_later, &l);
	cr_assert_eq(lring_wait(r, 200), 2, "timeout with 2 < batch waiting");
	pthread_join(t, NULL);
	cr_assert_geq(ms_since(t0), 190);
	cr_assert_eq(fk->counters->eventfd_signals, 0);
	fk_complete_n(fk, 2, BUF_SIZE);
	cr_assert_eq(fk->counters->eventfd_signals, 1, "4 waiting: signal");
	lring_close(r);
	fk_free(fk);
}

Test(wait, returns_enodev_when_the_device_dies_during_the_sleep)
{
	struct fake_kernel *fk = fk_create(4, BUF_SIZE, 0, 0, 0);
	struct lring *r = fk_lring(fk);
	struct later l = { .fk = fk, .delay_ms = 30, .kill = 1 };
	pthread_t t;

	cr_assert_eq(lring_enable_eventfd(r, 1), 0);
	fk_start(fk);
	pthread_create(&t, NULL, complete_later, &l);
	cr_assert_eq(lring_wait(r, 10000), -ENODEV);
	pthread_join(t, NULL);
	cr_assert_eq(lring_wait(r, 0), -ENODEV);
	cr_assert_eq(lring_start(r), -ENODEV);
	cr_assert_str_eq(lring_strerror(-ENODEV), "ring device is gone");
	lring_close(r);
	fk_free(fk);
}

Test(wait, wait_ioctl_skips_the_syscall_when_enough_entries_wait)
{
	struct fake_kernel *fk = fk_create(4, BUF_SIZE, 0, 0, 0);
	struct lring *r = fk_lring(fk);

	fk_start(fk);
	fk_complete_n(fk, 2, BUF_SIZE);
	cr_assert_eq(lring_wait_ioctl(r, 1000000, 2), 2);
	cr_assert_eq(fk->counters->waits, 0);
	lring_close(r);
	fk_free(fk);
}

Test(wait, wait_ioctl_sleeps_in_the_kernel_for_min_entries)
{
	struct fake_kernel *fk = fk_create(4, BUF_SIZE, 0, 0, 0);
	struct lring *r = fk_lring(fk);
	struct later l = { .fk = fk, .delay_ms = 20, .n = 3 };
	pthread_t t;
	int n;

	fk_start(fk);
	cr_assert_eq(lring_wait_ioctl(r, 1000000, 1), -ETIMEDOUT);
	cr_assert_eq(fk->counters->waits, 1);
	pthread_create(&t, NULL, complete_later, &l);
	n = lring_wait_ioctl(r, 5000000000ull, 3);
	pthread_join(t, NULL);
	cr_assert_eq(n, 3, "lring_wait_ioctl: %s", lring_strerror(n));
	cr_assert_eq(fk->counters->waits, 2);
	lring_close(r);
	fk_free(fk);
}

Test(wait, counters_are_read_from_the_control_page_without_a_syscall)
{
	struct fake_kernel *fk = fk_create(4, BUF_SIZE, 0, 0, 0);
	struct lring *r = fk_lring(fk);
	struct lring_counters c, k;
	unsigned ioctls;

	fk_start(fk);
	fk_complete_n(fk, 6, BUF_SIZE);		/* 4 delivered, 2 dropped */
	fk->counters->device_errors = 7;
	fk->counters->rejected_indices = 9;
	ioctls = fk->nr_ioctls;
	cr_assert_eq(lring_counters(r, &c), 0);
	cr_assert_eq(fk->nr_ioctls, ioctls);
	cr_assert_eq(c.produced, 6);
	cr_assert_eq(c.delivered, 4);
	cr_assert_eq(c.dropped, 2);
	cr_assert_eq(c.need_wakeups, 1);
	cr_assert_eq(c.device_errors, 7);
	cr_assert_eq(c.rejected_indices, 9);
	cr_assert_eq(ioctl(r->fd, LRING_IOC_GET_COUNTERS, &k), 0);
	cr_assert_eq(memcmp(&c, &k, sizeof(c)), 0, "same as the ioctl");
	lring_close(r);
	fk_free(fk);
}

/* Issue 17: waits that could only time out refuse instead. */
Test(wait, refuses_to_sleep_while_taken_entries_are_not_released)
{
	struct fake_kernel *fk = fk_create(4, BUF_SIZE, 0, 0, 0);
	struct lring *r = fk_lring(fk);
	uint64_t t0;
	uint32_t idx;

	cr_assert_eq(lring_enable_eventfd(r, 1), 0);
	fk_start(fk);
	fk_complete_n(fk, 2, BUF_SIZE);
	cr_assert_eq(lring_peek(r, 4, &idx), 2);
	t0 = fk_now_ns();
	cr_assert_eq(lring_wait(r, 5000), -EDEADLK);
	cr_assert_eq(lring_wait_ioctl(r, 5000000000ull, 1), -EDEADLK);
	cr_assert_lt(ms_since(t0), 1000, "neither slept");
	cr_assert_str_eq(lring_strerror(-EDEADLK),
			 "completions taken but not released: release them before waiting");
	lring_release(r, 2);
	cr_assert_eq(lring_wait(r, 0), -ETIMEDOUT, "released: an ordinary wait");
	lring_close(r);
	fk_free(fk);
}

Test(wait, an_impossible_producer_index_is_reported_not_read_as_empty)
{
	struct fake_kernel *fk = fk_create(4, BUF_SIZE, 0, 0, 0);
	struct lring *r = fk_lring(fk);
	uint32_t idx;

	fk_start(fk);
	*fk->cq_producer = *fk->cq_consumer + 3 * fk->layout.cq_entries;
	cr_assert_eq(lring_peek(r, 4, &idx), 0, "peek takes nothing");
	cr_assert_eq(lring_cq_ready(r), -EPROTO);
	cr_assert_eq(lring_wait(r, 5000), -EPROTO, "and the wait says why");
	cr_assert_eq(lring_wait_ioctl(r, 5000000000ull, 1), -EPROTO);
	lring_close(r);
	fk_free(fk);
}

Test(wait, one_eventfd_of_the_applications_serves_two_rings)
{
	struct fake_kernel *fk1 = fk_create(4, BUF_SIZE, 0, 0, 0);
	struct fake_kernel *fk2 = fk_create(4, BUF_SIZE, 0, 0, 0);
	struct lring *r1 = fk_lring(fk1), *r2 = fk_lring(fk2);
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	struct pollfd pfd = { .fd = efd, .events = POLLIN };
	uint32_t idx;

	cr_assert_eq(lring_register_eventfd(r1, efd, 1), 0);
	cr_assert_eq(lring_register_eventfd(r2, efd, 1), 0);
	cr_assert_eq(r2->event_fd, -1, "the eventfd stays the application's");
	fk_start(fk1);
	fk_start(fk2);
	cr_assert_eq(poll(&pfd, 1, 0), 0);
	fk_complete_n(fk2, 1, BUF_SIZE);
	cr_assert_eq(poll(&pfd, 1, 0), 1, "ring 2's completion signals it");
	cr_assert_eq(lring_eventfd_drain(efd), 0);
	cr_assert_eq(poll(&pfd, 1, 0), 0, "drained");
	cr_assert_eq(lring_peek(r1, 4, &idx), 0);
	cr_assert_eq(lring_peek(r2, 4, &idx), 1);
	lring_release(r2, 1);
	fk_complete_n(fk1, 1, BUF_SIZE);
	cr_assert_eq(poll(&pfd, 1, 0), 1, "and so does ring 1's");
	cr_assert_eq(lring_eventfd_drain(efd), 0);
	cr_assert_eq(lring_eventfd_drain(efd), 0, "nothing to drain is not an error");
	close(efd);
	lring_close(r1);
	lring_close(r2);
	fk_free(fk1);
	fk_free(fk2);
}

Test(wait, wait_for_sleeps_until_the_minimum_count_waits)
{
	struct fake_kernel *fk = fk_create(8, BUF_SIZE, 0, 0, 0);
	struct lring *r = fk_lring(fk);
	struct later l = { .fk = fk, .delay_ms = 50, .n = 3 };
	pthread_t t;
	uint64_t t0;

	cr_assert_eq(lring_enable_eventfd(r, 1), 0);
	fk_start(fk);
	fk_complete_n(fk, 1, BUF_SIZE);
	t0 = fk_now_ns();
	pthread_create(&t, NULL, complete_later, &l);
	cr_assert_eq(lring_wait_for(r, 4, 5000000000ll, NULL), 4);
	pthread_join(t, NULL);
	cr_assert_geq(ms_since(t0), 45, "one entry was not enough");
	cr_assert_eq(lring_wait_for(r, 9, 0, NULL), -EINVAL, "more than the ring holds");
	lring_close(r);
	fk_free(fk);
}

Test(wait, wait_for_returns_what_came_at_the_timeout)
{
	struct fake_kernel *fk = fk_create(8, BUF_SIZE, 0, 0, 0);
	struct lring *r = fk_lring(fk);
	uint64_t t0;

	cr_assert_eq(lring_enable_eventfd(r, 1), 0);
	fk_start(fk);
	fk_complete_n(fk, 1, BUF_SIZE);
	t0 = fk_now_ns();
	cr_assert_eq(lring_wait_for(r, 3, 50000000, NULL), 1);
	cr_assert_geq(ms_since(t0), 49);
	lring_close(r);
	fk_free(fk);
}

static void on_usr1(int sig)
{
	(void)sig;
}

struct kill_later {
	pthread_t target;
	unsigned delay_ms;
};

static void *kill_later(void *arg)
{
	struct kill_later *k = arg;

	usleep(k->delay_ms * 1000);
	pthread_kill(k->target, SIGUSR1);
	return NULL;
}

/* A signal blocked outside the wait and let in by its mask ends it. */
Test(wait, wait_for_takes_a_signal_mask_as_ppoll_does)
{
	struct fake_kernel *fk = fk_create(8, BUF_SIZE, 0, 0, 0);
	struct lring *r = fk_lring(fk);
	struct kill_later k = { .target = pthread_self(), .delay_ms = 50 };
	struct sigaction sa = { .sa_handler = on_usr1 };
	sigset_t blocked, during;
	pthread_t t;

	sigaction(SIGUSR1, &sa, NULL);
	sigemptyset(&blocked);
	sigaddset(&blocked, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &blocked, &during);
	sigdelset(&during, SIGUSR1);
	cr_assert_eq(lring_enable_eventfd(r, 1), 0);
	fk_start(fk);
	pthread_create(&t, NULL, kill_later, &k);
	cr_assert_eq(lring_wait_for(r, 1, 5000000000ll, &during), -EINTR);
	pthread_join(t, NULL);
	pthread_sigmask(SIG_UNBLOCK, &blocked, NULL);
	lring_close(r);
	fk_free(fk);
}
