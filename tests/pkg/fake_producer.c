// SPDX-License-Identifier: MIT
/*
 * fake_producer - the kernel side of a ring in userspace, for testing
 * consumers that are not liblring (the Python binding) on the host.
 *
 * Lays out a ring in a memfd with tests/unit/fake_kernel.h (the same model
 * liblring's unit tests use), prints "PATH SIZE" (a path that maps the
 * memfd from another process) and produces NBLOCKS blocks of the lring_sim
 * pattern with SEED. Like lring_sim at rate 0 it stalls when no buffer is
 * free and polls the fill ring itself, so no kick is needed. When every
 * block has been returned, or after TIMEOUT seconds, it prints the
 * counters as "key=value ..." and exits (1 on timeout).
 *
 * Usage: fake_producer BUF_COUNT BUF_SIZE NBLOCKS SEED [TIMEOUT]
 */
#include "fake_kernel.h"

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
