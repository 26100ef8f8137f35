// SPDX-License-Identifier: MIT
/*
 * race - the threaded stream of tests/unit/threaded.c (a fake-kernel
 * producer thread, a liblring consumer busy-polling, then one sleeping on
 * the eventfd) as a plain program, for ThreadSanitizer: Criterion cannot
 * run under it (its sandbox's fixed arena collides with TSan's memory
 * layout, Criterion issue 274). TSan sees liblring's and the fake kernel's
 * __atomic acquire/release pairs, so any access to a ring entry or to
 * buffer data they do not order is a reported race.
 *
 * Usage: race [BLOCKS]   exit 0 when every block arrived intact; TSan
 * makes it exit 66 on a race.
 */
#include "fake_kernel.h"

#define STREAM_CHECK(cond, ...) do {				\
	if (!(cond)) {						\
		fprintf(stderr, "race: FAIL: " __VA_ARGS__);	\
		fputc('\n', stderr);				\
		exit(1);					\
	}							\
} while (0)
#include "threaded_stream.h"

int main(int argc, char **argv)
{
	uint64_t blocks = argc > 1 ? strtoull(argv[1], NULL, 0) : 100000;
	struct lring_counters c;

	c = stream_run(blocks, 0, 1);
	printf("race: busy-poll: %llu blocks intact, %llu kicks\n",
	       (unsigned long long)blocks, (unsigned long long)c.kicks);
	c = stream_run(blocks / 4, 1, 1);
	printf("race: eventfd: %llu blocks intact, %llu eventfd signals\n",
	       (unsigned long long)blocks / 4, (unsigned long long)c.eventfd_signals);
	return 0;
}
