// SPDX-License-Identifier: MIT
/*
 * liblring sleeping: eventfd registration, lring_wait() (eventfd or poll)
 * and lring_wait_ioctl() (LRING_IOC_WAIT).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <lring.h>

int lring_enable_eventfd(struct lring *r, unsigned batch)
{
	struct lring_eventfd ev;
	int efd;

	if (!r)
		return -EINVAL;
	if (r->fd < 0)
		return -EBADF;
	if (!(lring_features(r) & LRING_FEAT_EVENTFD))
		return -EOPNOTSUPP;
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (efd < 0)
		return -errno;
	memset(&ev, 0, sizeof(ev));
	ev.fd = efd;
	ev.batch = batch;
	if (ioctl(r->fd, LRING_IOC_SET_EVENTFD, &ev) < 0) {
		int err = -errno;

		close(efd);
		return err;
	}
	if (r->event_fd >= 0)
		close(r->event_fd);
	r->event_fd = efd;
	return 0;
}

int lring_disable_eventfd(struct lring *r)
{
	struct lring_eventfd ev;
	int err = 0;

	if (!r)
		return -EINVAL;
	if (r->fd < 0)
		return -EBADF;
	memset(&ev, 0, sizeof(ev));
	ev.fd = -1;
	if (ioctl(r->fd, LRING_IOC_SET_EVENTFD, &ev) < 0)
		err = -errno;
	if (r->event_fd >= 0)
		close(r->event_fd);
	r->event_fd = -1;
	return err;
}

int lring_register_eventfd(struct lring *r, int fd, unsigned batch)
{
	struct lring_eventfd ev;

	if (!r)
		return -EINVAL;
	if (r->fd < 0 || fd < 0)
		return -EBADF;
	if (!(lring_features(r) & LRING_FEAT_EVENTFD))
		return -EOPNOTSUPP;
	memset(&ev, 0, sizeof(ev));
	ev.fd = fd;
	ev.batch = batch;
	if (ioctl(r->fd, LRING_IOC_SET_EVENTFD, &ev) < 0)
		return -errno;
	/* The kernel holds its own reference; an eventfd of ours goes. */
	if (r->event_fd >= 0)
		close(r->event_fd);
	r->event_fd = -1;
	return 0;
}

int lring_eventfd_drain(int fd)
{
	uint64_t count;

	if (read(fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		return -errno;
	return 0;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Time left before @deadline, for ppoll(); NULL (forever) if it is -1. */
static struct timespec *remaining(int64_t deadline, struct timespec *ts)
{
	int64_t left;

	if (deadline < 0)
		return NULL;
	left = deadline - now_ns();
	if (left < 0)
		left = 0;
	ts->tv_sec = left / 1000000000;
	ts->tv_nsec = left % 1000000000;
	return ts;
}

/*
 * Dekker with the kernel's publish path: it stores the producer, does a
 * full barrier, reads our consumer and signals if the ring was empty. We
 * stored our consumer (lring_release), do a full barrier, and re-read the
 * producer: either we see its entry or it sees the ring empty and signals.
 * Model-checked in tests/models/eventfd.pml.
 */
static int ready_after_barrier(struct lring *r)
{
	/* Publish the consumer again: cheap, and makes the pairing local. */
	lring_store_release(r->cq_consumer, r->cq_released);
	r->cq_published = r->cq_released;
	/* Nothing held back while we sleep (lring_defer()). */
	lring_flush(r);
	lring_smp_mb();
	return lring_cq_ready(r);
}

int lring_wait_for(struct lring *r, unsigned min_entries, int64_t timeout_ns,
		   const void *sigmask)
{
	int64_t deadline = timeout_ns < 0 ? -1 : now_ns() + timeout_ns;
	struct pollfd pfd[2];
	struct timespec ts;
	int n, nfds, ret;

	if (!r || !r->map)
		return -EINVAL;
	if (!min_entries)
		min_entries = 1;
	if (min_entries > r->cq_mask + 1)
		return -EINVAL;
	for (;;) {
		n = lring_cq_ready(r);
		if (n < 0 || (unsigned)n >= min_entries)
			return n;
		/* The kernel counts them as waiting: no signal would come. */
		if (r->cq_head != r->cq_released)
			return -EDEADLK;
		if (lring_flags(r) & LRING_F_DEAD)
			return -ENODEV;
		n = ready_after_barrier(r);
		if (n < 0 || (unsigned)n >= min_entries)
			return n;

		memset(pfd, 0, sizeof(pfd));
		if (r->event_fd >= 0) {
			pfd[0].fd = r->event_fd;
			pfd[0].events = POLLIN;
			/* No events requested: reports only ERR/HUP (removal). */
			pfd[1].fd = r->fd;
			pfd[1].events = 0;
			nfds = r->fd >= 0 ? 2 : 1;
		} else {
			pfd[0].fd = r->fd;
			pfd[0].events = POLLIN;
			nfds = 1;
		}
		ret = ppoll(pfd, nfds, remaining(deadline, &ts), sigmask);
		if (ret < 0)
			return -errno;
		if (ret == 0) {
			/* Time is up: what came, if anything, else a timeout. */
			n = lring_cq_ready(r);
			return n ? n : -ETIMEDOUT;
		}
		if (r->event_fd >= 0) {
			if ((pfd[1].revents & (POLLERR | POLLHUP | POLLNVAL)) &&
			    nfds == 2)
				return -ENODEV;
			if (pfd[0].revents & POLLIN) {
				uint64_t cnt;

				/* Drain before re-checking the ring: a
				 * signal after this is for entries the
				 * re-check sees or stays pending. */
				if (read(r->event_fd, &cnt, sizeof(cnt)) < 0 &&
				    errno != EAGAIN)
					return -errno;
			}
		} else if (pfd[0].revents & (POLLERR | POLLHUP | POLLNVAL)) {
			if (lring_cq_ready(r))
				continue;
			return -ENODEV;
		}
	}
}

int lring_wait(struct lring *r, int timeout_ms)
{
	return lring_wait_for(r, 1, timeout_ms < 0 ? -1 : timeout_ms * 1000000LL,
			      NULL);
}

int lring_wait_ioctl(struct lring *r, uint64_t timeout_ns,
		     unsigned min_entries)
{
	struct lring_wait w;
	int ret;

	if (!r || !r->map)
		return -EINVAL;
	if (!min_entries)
		min_entries = 1;
	ret = lring_cq_ready(r);
	if (ret < 0 || (unsigned)ret >= min_entries)
		return ret;
	if (r->cq_head != r->cq_released)
		return -EDEADLK;
	if (r->fd < 0)
		return -EBADF;
	if (!(lring_features(r) & LRING_FEAT_WAIT))
		return -EOPNOTSUPP;
	lring_flush(r);
	memset(&w, 0, sizeof(w));
	w.timeout_ns = timeout_ns;
	w.min_entries = min_entries;
	ret = ioctl(r->fd, LRING_IOC_WAIT, &w);
	if (ret < 0)
		return -errno;
	return ret;
}
