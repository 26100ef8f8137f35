// SPDX-License-Identifier: GPL-2.0
/*
 * irqsoff_test - how long lring keeps interrupts off, measured by the
 * kernel's own irqsoff tracer (a debug kernel with CONFIG_IRQSOFF_TRACER),
 * while userspace does its worst: the fill ring kept full of bad ids while
 * the device holds no buffer and another CPU kicks without pause; the
 * start of a 65536-buffer pool; its debugfs listing.
 *
 *   irqsoff_test kick_storm SECONDS
 *   irqsoff_test big_pool
 *
 * The tracer keeps the longest interrupts-off stretch of the whole kernel;
 * each phase resets it and prints where that stretch began and ended.
 * Under TCG a stretch lasts as long as the host leaves the vCPU's thread
 * off the CPU: interrupt handlers of an idle guest have measured 15-20 ms
 * on a busy 2-core host. So the bound asserted is 100 ms, a hang's bound,
 * which the old code broke by 3-30 times (docs/reliability.md, entries 5
 * and 6); the 1 ms the review asks for is for real hardware.
 */
#include "ktest.h"

#include <pthread.h>
#include <sys/mount.h>

#define TRACING		"/sys/kernel/tracing"
#define LIMIT_US	100000

static int tracing_write(const char *rel, const char *text)
{
	char path[128];

	snprintf(path, sizeof(path), TRACING "/%s", rel);
	return ktest_write_file(path, text);
}

/* Arms the irqsoff tracer with a fresh maximum. */
static bool irqsoff_arm(void)
{
	if (access(TRACING "/available_tracers", R_OK))
		mount("tracefs", TRACING, "tracefs", 0, NULL);
	/*
	 * No function trace, and said before the tracer is chosen: it would
	 * lengthen every stretch it measures, and patching every function's
	 * entry under TCG has hung a vCPU in the IPIs of text_poke.
	 */
	return !tracing_write("tracing_on", "0") &&
	       !tracing_write("options/function-trace", "0") &&
	       !tracing_write("current_tracer", "irqsoff") &&
	       !tracing_write("tracing_max_latency", "0") &&
	       !tracing_write("tracing_on", "1");
}

/*
 * The longest stretch since irqsoff_arm(), in microseconds, and where it
 * began and ended (printed, for the log).
 */
static long irqsoff_max(const char *what)
{
	char line[256];
	long max = -1;
	FILE *f;

	tracing_write("tracing_on", "0");
	f = fopen(TRACING "/tracing_max_latency", "r");
	if (!f || fscanf(f, "%ld", &max) != 1)
		max = -1;
	if (f)
		fclose(f);
	f = fopen(TRACING "/trace", "r");
	while (f && fgets(line, sizeof(line), f)) {
		if (strstr(line, "=> started at:") || strstr(line, "=> ended at:") ||
		    strstr(line, "=> lring"))
			ktest_diag("%s: %s", what, strtok(line, "\n"));
	}
	if (f)
		fclose(f);
	tracing_write("current_tracer", "nop");
	return max;
}

struct storm {
	struct lring *r;
	volatile bool stop;
	uint64_t rounds;
};

static void pin_to_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/*
 * Keeps the fill ring full of ids the kernel rejects: the producer always
 * a whole ring ahead of the kernel's consumer.
 */
static void *fill_bad_ids(void *p)
{
	struct storm *s = p;
	struct lring *r = s->r;
	uint32_t i;

	pin_to_cpu(0);
	for (i = 0; i < r->fq_size; i++)
		r->fqes[i].buf_id = 0xffffffff;
	while (!s->stop) {
		lring_store_release(r->fq_producer,
				    lring_load_acquire(r->fq_consumer) + r->fq_size);
		s->rounds++;
	}
	return NULL;
}

static void *kick_forever(void *p)
{
	struct storm *s = p;

	pin_to_cpu(1);
	while (!s->stop)
		ioctl(s->r->fd, LRING_IOC_KICK);
	return NULL;
}

/* Regression test: docs/reliability.md entry 5 (interrupts off as long as userspace likes). */
static void test_kick_storm(int argc, char **argv)
{
	unsigned seconds = argc > 0 ? strtoul(argv[0], NULL, 0) : 30;
	struct lring_config cfg = { .buf_count = 4, .buf_size = 4096,
				    .fq_entries = LRING_MAX_RING_ENTRIES };
	struct storm s = { 0 };
	struct lring_counters c;
	pthread_t fill, kick;
	long max;

	ktest_sim_set(0, "rate", 1000);
	ktest_sim_set(0, "block_size", 0);
	if (!ktest_ok(!ktest_open_configured(0, &s.r, &cfg) && !lring_start(s.r),
		      "storm: setup"))
		return;
	/* Keep every buffer: the device holds none from now on. */
	ktest_ok(ktest_wait_for(lring_cq_ready(s.r) == 4, 10000),
		 "storm: the application holds all 4 buffers");
	if (!ktest_ok(irqsoff_arm(), "storm: irqsoff tracer armed"))
		return;
	pthread_create(&fill, NULL, fill_bad_ids, &s);
	pthread_create(&kick, NULL, kick_forever, &s);
	ktest_sleep_ms(seconds * 1000);
	s.stop = true;
	pthread_join(fill, NULL);
	pthread_join(kick, NULL);
	max = irqsoff_max("storm");
	lring_counters(s.r, &c);
	ktest_diag("storm: %llu kicks, %llu bad ids rejected, %llu producer moves in %u s",
		   (unsigned long long)c.kicks, (unsigned long long)c.rejected_ids,
		   (unsigned long long)s.rounds, seconds);
	ktest_ok(c.kicks > 10 && c.rejected_ids > 10000,
		 "storm: the kernel kept rejecting bad ids");
	ktest_ok(max >= 0 && max < LIMIT_US,
		 "storm: interrupts were never off for %d us or more (longest %ld us)",
		 LIMIT_US, max);
	lring_close(s.r);
}

/* Starting, listing and stopping the largest pool a ring takes. */
/* Regression test: docs/reliability.md entry 6 (interrupts-off work that grew with the pool). */
static void test_big_pool(int argc, char **argv)
{
	struct lring_config cfg = { .buf_count = LRING_MAX_BUFFERS, .buf_size = 4096,
				    .backend = LRING_BACKEND_STREAMING };
	char line[128];
	struct lring *r;
	long max, lines = 0;
	FILE *f;

	(void)argc;
	(void)argv;
	ktest_sim_set(0, "rate", 1000);
	if (!ktest_ok(!ktest_open_configured(0, &r, &cfg), "big pool: %u buffers",
		      cfg.buf_count))
		return;
	if (!ktest_ok(irqsoff_arm(), "big pool: irqsoff tracer armed"))
		return;
	lring_start(r);
	f = fopen("/sys/kernel/debug/lring/lring0/buffers", "r");
	while (f && fgets(line, sizeof(line), f))
		lines++;
	if (f)
		fclose(f);
	lring_stop(r);
	max = irqsoff_max("big pool");
	ktest_ok(lines > (long)LRING_MAX_BUFFERS, "big pool: debugfs lists every buffer (%ld lines)",
		 lines);
	ktest_ok(max >= 0 && max < LIMIT_US,
		 "big pool: start, debugfs and stop kept interrupts off under %d us (longest %ld us)",
		 LIMIT_US, max);
	lring_close(r);
}

static const struct ktest_subtest tests[] = {
	{ "kick_storm", test_kick_storm },
	{ "big_pool", test_big_pool },
};

int main(int argc, char **argv)
{
	return ktest_main(KTEST_SUBTESTS(tests), argc, argv);
}
