// SPDX-License-Identifier: MIT
/*
 * fake_producer - the kernel side of a ring in userspace, for testing
 * consumers that are not liblring's C users (the Python binding) on the
 * host. Two builds of this file:
 *
 * The program: lays out a ring in a memfd with tests/unit/fake_kernel.h
 * (the same model liblring's unit tests use), prints "PATH SIZE" (a path
 * that maps the memfd from another process) and produces NBLOCKS blocks of
 * the lring_sim pattern with SEED. Like lring_sim at rate 0 it stalls when
 * no buffer is free and polls the fill ring itself, so no kick is needed
 * (the consumer attaches to the mapping and has no device to kick). When
 * every block has been returned, or after TIMEOUT seconds, it prints the
 * counters as "key=value ..." and exits (1 on timeout).
 *
 *   Usage: fake_producer BUF_COUNT BUF_SIZE NBLOCKS SEED [TIMEOUT]
 *
 * With -DFAKE_PRODUCER_LIB -shared -fPIC: fake_kernel.so, to LD_PRELOAD
 * into the consumer's process. Its ioctl() takes the place of the C
 * library's (fake_kernel.h), so liblring-ffi.so.1 in that process opens,
 * configures, maps, starts, kicks and registers its eventfd with the fake
 * through its real code paths, as with the kernel; a thread of the fake
 * produces the blocks (fp_* below, called through ctypes).
 */
#include "fake_kernel.h"

#ifndef FAKE_PRODUCER_LIB

int main(int argc, char **argv)
{
	struct fake_kernel *fk;
	uint64_t nblocks, done = 0, deadline;
	uint32_t buf_size;
	int timeout, ret;

	if (argc < 5) {
		fprintf(stderr, "usage: fake_producer BUF_COUNT BUF_SIZE NBLOCKS SEED [TIMEOUT]\n");
		return 2;
	}
	buf_size = strtoul(argv[2], NULL, 0);
	nblocks = strtoull(argv[3], NULL, 0);
	timeout = argc > 5 ? atoi(argv[5]) : 30;
	fk = fk_create(strtoul(argv[1], NULL, 0), buf_size, 0, 0, 0);
	fk->seed = strtoull(argv[4], NULL, 0);
	fk->stall = 1;
	fk_start(fk);
	printf("/proc/%d/fd/%d %zu\n", (int)getpid(), fk->memfd, fk->size);
	fflush(stdout);

	deadline = fk_now_ns() + (uint64_t)timeout * 1000000000ull;
	while (fk_now_ns() < deadline) {
		if (done < nblocks) {
			ret = fk_complete(fk, buf_size);
			if (!ret) {
				done++;
				continue;
			}
		}
		/* dry or finished: look at the fill ring, as a polling device */
		fk_lock(fk);
		fk_refill_locked(fk);
		fk_unlock(fk);
		if (done == nblocks && fk->counters->returned == nblocks)
			break;
		usleep(200);
	}
	printf("delivered=%llu returned=%llu rejected_ids=%llu dropped=%llu\n",
	       (unsigned long long)fk->counters->delivered,
	       (unsigned long long)fk->counters->returned,
	       (unsigned long long)fk->counters->rejected_ids,
	       (unsigned long long)fk->counters->dropped);
	return fk->counters->returned == nblocks ? 0 : 1;
}

#else /* FAKE_PRODUCER_LIB */

/* One fake device per process, driven from Python through ctypes. */
static struct {
	struct fake_kernel *fk;
	pthread_t thread;
	int running;		/* the thread exists */
	uint64_t nblocks;
	uint64_t done;		/* blocks published, read with __atomic */
	uint32_t len;
	unsigned period_us;	/* pause after each block; 0: none */
	int poll;		/* look at the fill ring when dry, as fake_producer */
	int quit;		/* fp_join() asks the thread to stop */
} fp;

/*
 * fp_new - a new, unconfigured fake device
 * Return: its memfd; "/proc/self/fd/N" opens the device (lring_open()).
 */
int fp_new(uint64_t seed)
{
	fp.fk = fk_new();
	fp.fk->seed = seed;
	fp.fk->stall = 1;	/* rate 0: no buffer, no block, no drop */
	return fp.fk->memfd;
}

static void *fp_thread(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&fp.quit, __ATOMIC_RELAXED) &&
	       __atomic_load_n(&fp.done, __ATOMIC_RELAXED) < fp.nblocks) {
		int ret = fk_complete(fp.fk, fp.len);

		if (!ret) {
			__atomic_add_fetch(&fp.done, 1, __ATOMIC_RELAXED);
			if (fp.period_us)
				usleep(fp.period_us);
			continue;
		}
		/*
		 * Not started, or no buffer. Without @poll only a kick hands
		 * the device returned buffers: the device ran dry, so the
		 * completion that emptied it raised NEED_WAKEUP (fake_kernel.h,
		 * as the kernel does) and lring_return() must kick.
		 */
		if (fp.poll) {
			fk_lock(fp.fk);
			fk_refill_locked(fp.fk);
			fk_unlock(fp.fk);
		}
		usleep(200);
	}
	return NULL;
}

/*
 * fp_run - produce @nblocks blocks of @len bytes in a thread, one every
 * @period_us (0: as fast as buffers come back); @poll: the device looks at
 * the fill ring itself when it is dry, else only a kick refills it.
 * Return: 0 or -errno.
 */
int fp_run(uint64_t nblocks, uint32_t len, unsigned period_us, int poll)
{
	if (!fp.fk || fp.running)
		return -EINVAL;
	fp.nblocks = nblocks;
	fp.len = len;
	fp.period_us = period_us;
	fp.poll = poll;
	fp.done = 0;
	fp.quit = 0;
	if (pthread_create(&fp.thread, NULL, fp_thread, NULL))
		return -EAGAIN;
	fp.running = 1;
	return 0;
}

/*
 * fp_join - wait up to @timeout_ms for the blocks of fp_run(), then stop
 * Return: blocks published.
 */
uint64_t fp_join(unsigned timeout_ms)
{
	uint64_t deadline = fk_now_ns() + timeout_ms * 1000000ull;

	if (!fp.running)
		return fp.done;
	while (__atomic_load_n(&fp.done, __ATOMIC_RELAXED) < fp.nblocks &&
	       fk_now_ns() < deadline)
		usleep(1000);
	__atomic_store_n(&fp.quit, 1, __ATOMIC_RELAXED);
	pthread_join(fp.thread, NULL);
	fp.running = 0;
	return fp.done;
}

/* fp_done - blocks published so far */
uint64_t fp_done(void)
{
	return __atomic_load_n(&fp.done, __ATOMIC_RELAXED);
}

/* fp_kicks - LRING_IOC_KICK calls the fake received */
unsigned fp_kicks(void)
{
	return fp.fk ? fk_kicks(fp.fk) : 0;
}

/* fp_free - stop the thread and free the device (after lring_close()) */
void fp_free(void)
{
	fp_join(0);
	if (fp.fk)
		fk_free(fp.fk);
	fp.fk = NULL;
}

#endif /* FAKE_PRODUCER_LIB */
