/* SPDX-License-Identifier: MIT */
/*
 * bench.h - what the perf/ programs share: clocks, CPU time, the consumer's
 * work on a block, percentiles, and a small JSON writer.
 *
 * Benchmarks print what they measured and how; they never judge it.
 */
#ifndef LRING_PERF_BENCH_H
#define LRING_PERF_BENCH_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <linux/lring_sim.h>

/* ---- time ------------------------------------------------------------- */

static inline uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* CPU time (user + system) of the calling thread, in seconds. */
static inline double bench_thread_cpu_s(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_THREAD, &ru))
		return 0;
	return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* Voluntary context switches of the calling thread (times it slept). */
static inline uint64_t bench_thread_vcsw(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_THREAD, &ru))
		return 0;
	return (uint64_t)ru.ru_nvcsw;
}

/* Pins the calling thread to @cpu; quietly does nothing if that fails. */
static inline int bench_pin(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return 0;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) ? -errno : 0;
}

static inline void bench_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}

/* ---- the consumer's work ------------------------------------------------
 *
 * Every consuming mode does the same work on a block: it reads every byte
 * once (a 64-bit sum of all words, kept so the compiler cannot drop it) and
 * checks the first and the last word against the simulated device's
 * pattern, which proves it read this block and not a stale one.
 */
static uint64_t bench_sink;

/*
 * Four scalar accumulators and no vectorizing: plain 64-bit loads and adds
 * run at full speed everywhere, including under QEMU's TCG, where SSE
 * integer instructions are emulated by helper calls and a vectorized loop
 * is several times slower than this one.
 */
__attribute__((noinline, optimize("no-tree-vectorize")))
static uint64_t bench_sum(const void *data, size_t len)
{
	const uint64_t *w = data;
	size_t i, n = len / 8;
	uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;

	for (i = 0; i + 4 <= n; i += 4) {
		s0 += w[i];
		s1 += w[i + 1];
		s2 += w[i + 2];
		s3 += w[i + 3];
	}
	for (; i < n; i++)
		s0 += w[i];
	if (len % 8) {
		uint64_t last = 0;

		memcpy(&last, (const uint8_t *)data + 8 * n, len % 8);
		s0 += last;
	}
	return s0 + s1 + s2 + s3;
}

/* Return: 1 if the block's first and last whole words match the pattern. */
static inline int bench_check(const void *data, size_t len, uint64_t seed,
			      uint64_t seq)
{
	const uint64_t *w = data;
	size_t n = len / 8;

	if (!n)
		return 1;
	return w[0] == htole64(lring_sim_word(seed, seq, 0)) &&
	       w[n - 1] == htole64(lring_sim_word(seed, seq, n - 1));
}

/* ---- percentiles ------------------------------------------------------- */

static int bench_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Sorts @v in place. Return: the value at quantile @q (nearest rank). */
static inline uint64_t bench_quantile(uint64_t *v, size_t n, double q)
{
	size_t rank;

	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), bench_cmp_u64);
	rank = (size_t)(q * n + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return v[rank - 1];
}

/* ---- JSON --------------------------------------------------------------
 * Just enough to write flat objects in arrays: the caller opens and closes
 * the brackets; bench_json_* add "key": value with the right commas.
 */
struct bench_json {
	FILE *f;
	int first;	/* no member written yet at this level */
};

static inline void bench_json_open(struct bench_json *j, const char *key,
				   char bracket)
{
	if (!j->first)
		fputs(",", j->f);
	if (key)
		fprintf(j->f, "\n\"%s\": %c", key, bracket);
	else
		fprintf(j->f, "\n%c", bracket);
	j->first = 1;
}

static inline void bench_json_close(struct bench_json *j, char bracket)
{
	fprintf(j->f, "%c", bracket);
	j->first = 0;
}

static inline void bench_json_key(struct bench_json *j, const char *key)
{
	fprintf(j->f, "%s\"%s\": ", j->first ? "" : ", ", key);
	j->first = 0;
}

static inline void bench_json_num(struct bench_json *j, const char *key,
				  double v)
{
	bench_json_key(j, key);
	if (v != v)
		fputs("null", j->f);	/* NaN: not measured */
	else
		fprintf(j->f, "%.6g", v);
}

static inline void bench_json_u64(struct bench_json *j, const char *key,
				  uint64_t v)
{
	bench_json_key(j, key);
	fprintf(j->f, "%" PRIu64, v);
}

static inline void bench_json_str(struct bench_json *j, const char *key,
				  const char *s)
{
	bench_json_key(j, key);
	fputc('"', j->f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', j->f);
		if ((unsigned char)*s >= 0x20)
			fputc(*s, j->f);
	}
	fputc('"', j->f);
}

/* Reads the first line of a small text file into @buf; "" if it fails. */
static inline const char *bench_read_line(const char *path, char *buf,
					  size_t size)
{
	FILE *f = fopen(path, "r");

	buf[0] = 0;
	if (f) {
		if (!fgets(buf, (int)size, f))
			buf[0] = 0;
		fclose(f);
	}
	buf[strcspn(buf, "\n")] = 0;
	return buf;
}

/* The CPU model from /proc/cpuinfo into @buf; "" if there is none. */
static inline const char *bench_cpu_model(char *buf, size_t size)
{
	char line[256];
	FILE *f = fopen("/proc/cpuinfo", "r");

	buf[0] = 0;
	if (!f)
		return buf;
	while (fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');

		if (!strncmp(line, "model name", 10) && colon) {
			snprintf(buf, size, "%s", colon + 2);
			buf[strcspn(buf, "\n")] = 0;
			break;
		}
	}
	fclose(f);
	return buf;
}

#endif /* LRING_PERF_BENCH_H */
