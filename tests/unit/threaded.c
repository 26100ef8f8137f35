// SPDX-License-Identifier: MIT
/*
 * The fake kernel produces on its own thread while the consumer verifies
 * every sequence number and every byte (threaded_stream.h): the
 * acquire/release pairs, the NEED_WAKEUP handshake and the eventfd
 * handshake under real concurrency. The same stream runs under
 * ThreadSanitizer in tests/sanitizers/race.c.
 */
#include "fake_kernel.h"
#include <criterion/criterion.h>

#define STREAM_CHECK(cond, ...) cr_assert(cond, __VA_ARGS__)
#include "threaded_stream.h"

static void run(uint64_t total, int use_wait)
{
	struct lring_counters c = stream_run(total, use_wait, 0);

	cr_log_info("%llu blocks: %llu need_wakeups, %llu kicks, "
		    "%llu eventfd signals",
		    (unsigned long long)total,
		    (unsigned long long)c.need_wakeups,
		    (unsigned long long)c.kicks,
		    (unsigned long long)c.eventfd_signals);
}

Test(threaded, busy_polling_consumer_sees_a_million_blocks_intact,
     .timeout = 120)
{
	run(1000000, 0);
}

Test(threaded, eventfd_consumer_never_misses_a_wakeup, .timeout = 120)
{
	run(200000, 1);
}
