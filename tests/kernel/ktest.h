/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ktest.h - helpers for the test programs that run inside the test VM
 * against the real module: TAP output, sysfs access, and a verifying
 * consumer of the simulated device's stream.
 */
#ifndef LRING_KTEST_H
#define LRING_KTEST_H

#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/lring.h>
#include <linux/lring_sim.h>
#include <lring.h>

static int ktest_failures;

/* Prints one TAP result line and counts failures. */
static inline bool ktest_ok(bool cond, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static inline bool ktest_ok(bool cond, const char *fmt, ...)
{
	va_list ap;

	printf("%s - ", cond ? "ok" : "not ok");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (!cond)
		ktest_failures++;
	return cond;
}

/* A diagnostic line, shown in the log but not counted. */
static inline void ktest_diag(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static inline void ktest_diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static inline uint64_t ktest_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static inline void ktest_sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/*
 * Re-evaluates @cond every millisecond until it holds or @ms pass, for
 * states the kernel reaches on its own time: a slow (TCG, loaded) machine
 * then waits longer instead of failing. Evaluates to @cond's last value.
 */
#define ktest_wait_for(cond, ms) ({					\
	uint64_t ktest_until_ = ktest_now_ns() + (ms) * 1000000ull;	\
	bool ktest_held_;						\
									\
	while (!(ktest_held_ = (cond)) && ktest_now_ns() < ktest_until_) \
		ktest_sleep_ms(1);					\
	ktest_held_;							\
})

/* Writes a sim parameter: /sys/class/lring/lringN/device/<attr>. */
static inline int ktest_sim_set(int ring, const char *attr, uint64_t val)
{
	char path[128], text[32];
	int fd, len, ret = 0;

	snprintf(path, sizeof(path), "/sys/class/lring/lring%d/device/%s",
		 ring, attr);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	len = snprintf(text, sizeof(text), "%" PRIu64, val);
	if (write(fd, text, len) != len)
		ret = -errno;
	close(fd);
	return ret;
}

/* Reads a number from sysfs below /sys/class/lring/lringN/. */
static inline int64_t ktest_sysfs_read(int ring, const char *rel)
{
	char path[160], text[64] = "";
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/class/lring/lring%d/%s", ring, rel);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	return strtoll(text, NULL, 0);
}

/* The errno of an ioctl, 0 if it succeeded. */
static inline int ktest_ioctl_errno(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) ? errno : 0;
}

/* Runs @fn in a child; returns the signal that killed it, or 0. */
static inline int ktest_child_signal(void (*fn)(void *), void *arg)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		fn(arg);
		_exit(0);
	}
	waitpid(pid, &status, 0);
	return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
}

/* Writes a word at @p: in a child, to see whether it faults. */
static inline void ktest_write_u32(void *p)
{
	*(volatile uint32_t *)p = 0xdeadbeef;
}

/* What all pools take (debugfs), or -1 without it. */
static inline long ktest_kernel_pages(void)
{
	FILE *f = fopen("/sys/kernel/debug/lring/kernel_pages", "r");
	long v = -1;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

/* Whether ring N can be configured for @dir ("rx" or "tx"): its directions. */
static inline bool ktest_ring_can(int ring, const char *dir)
{
	char path[96], text[32] = "";
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/class/lring/lring%d/directions", ring);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return false;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return false;
	text[n] = '\0';
	return strstr(text, dir) != NULL;
}

static inline void ktest_dev_path(int ring, char *path, size_t size)
{
	snprintf(path, size, "/dev/lring%d", ring);
}

/*
 * Whether ring N's device does cache-coherent DMA, as the firmware says
 * (not as lring says: this is what lring's answer is checked against).
 * x86 is always coherent. On ARM (arm64, armv7) a device is coherent only if the
 * device-tree node of the device or of a parent bus (the PCIe host bridge)
 * has "dma-coherent"; a device with no node at all, such as lring_sim's
 * platform device, is not.
 */
static inline bool ktest_dma_coherent(int ring)
{
	char dev[PATH_MAX], node[PATH_MAX + 16], *slash;
	struct utsname u;
	struct stat st;

	if (uname(&u) || (strcmp(u.machine, "aarch64") && strncmp(u.machine, "arm", 3)))
		return true;
	snprintf(node, sizeof(node), "/sys/class/lring/lring%d/device", ring);
	if (!realpath(node, dev))
		return false;
	/* the nearest device with a device-tree node */
	for (;;) {
		snprintf(node, sizeof(node), "%s/of_node", dev);
		if (!stat(node, &st))
			break;
		slash = strrchr(dev, '/');
		if (!slash || slash == dev)
			return false;
		*slash = '\0';
	}
	if (!realpath(node, dev))
		return false;
	/* that node, or a parent node, says dma-coherent */
	while (strlen(dev) > strlen("/sys/firmware/devicetree/base")) {
		snprintf(node, sizeof(node), "%s/dma-coherent", dev);
		if (!stat(node, &st))
			return true;
		*strrchr(dev, '/') = '\0';
	}
	return false;
}

/*
 * The best backend ring N's device allows: coherent memory where the
 * device snoops the CPU caches, else streaming (cached too, a sync per
 * hand-off). What a portable application picks.
 */
static inline uint32_t ktest_cached_backend(int ring)
{
	return ktest_dma_coherent(ring) ? LRING_BACKEND_COHERENT : LRING_BACKEND_STREAMING;
}

/*
 * Opens ring N and configures (and maps) its pool; a message on failure.
 * On a device without coherent DMA the coherent backend must be refused
 * (its memory would be uncached, docs/backends.md): that is checked, and
 * the pool is made with the streaming backend instead.
 */
static inline int ktest_open_configured(int ring, struct lring **out,
					const struct lring_config *cfg)
{
	struct lring_config streaming;
	char path[32];
	int ret;

	ktest_dev_path(ring, path, sizeof(path));
	ret = lring_open(path, out);
	if (ret) {
		ktest_diag("open %s: %s", path, lring_strerror(ret));
		return ret;
	}
	ret = lring_configure(*out, cfg);
	if (cfg->backend == LRING_BACKEND_COHERENT && !ktest_dma_coherent(ring)) {
		ktest_ok(ret == -EOPNOTSUPP,
			 "%s does no coherent DMA: the coherent backend is refused (%s)",
			 path, lring_strerror(ret));
		streaming = *cfg;
		streaming.backend = LRING_BACKEND_STREAMING;
		ret = lring_configure(*out, &streaming);
	}
	if (ret) {
		ktest_diag("configure %s: %s", path, lring_strerror(ret));
		lring_close(*out);
		*out = NULL;
	}
	return ret;
}

/* Opens ring N, sets the sim parameters and configures the pool. */
static inline int ktest_setup(int ring, struct lring **out, uint32_t buf_count,
		       uint32_t buf_size, uint32_t backend, uint32_t rate,
		       uint32_t block_size, uint64_t seed, uint32_t index_base)
{
	struct lring_config cfg = {
		.buf_count = buf_count,
		.buf_size = buf_size,
		.backend = backend,
		.index_base = index_base,
	};
	int ret;

	if ((ret = ktest_sim_set(ring, "rate", rate)) ||
	    (ret = ktest_sim_set(ring, "block_size", block_size)) ||
	    (ret = ktest_sim_set(ring, "seed", seed))) {
		ktest_diag("ring %d: sim parameters: %s", ring, strerror(-ret));
		return ret;
	}
	return ktest_open_configured(ring, out, &cfg);
}

/*
 * Checks a block against the simulated device's pattern.
 * Return: -1 if all @len bytes match, else the first bad offset.
 */
static inline long ktest_bad_offset(const void *data, uint32_t len, uint64_t seed,
			     uint64_t seq)
{
	const unsigned char *p = data;
	uint32_t words = len / 8, i;

	for (i = 0; i < words; i++) {
		uint64_t want = htole64(lring_sim_word(seed, seq, i)), got;

		memcpy(&got, p + 8 * i, 8);
		if (got != want)
			return 8L * i;
	}
	if (len % 8) {
		uint64_t want = htole64(lring_sim_word(seed, seq, words));

		if (memcmp(p + 8 * words, &want, len % 8))
			return 8L * words;
	}
	return -1;
}

/*
 * Writes block @seq of the simulated device's pattern, @len bytes, into
 * @dst: what a sender writes for a device that checks it (lring_sim's
 * sink, the edu loopback's receiving side).
 */
static inline void ktest_write_block(void *dst, uint32_t len, uint64_t seed,
				     uint64_t seq)
{
	unsigned char *p = dst;
	uint32_t w;

	for (w = 0; w * 8 < len; w++) {
		uint64_t v = htole64(lring_sim_word(seed, seq, w));

		memcpy(p + w * 8, &v, len - w * 8 < 8 ? len - w * 8 : 8);
	}
}

/* What a verifying consumer saw. */
struct ktest_stream {
	uint64_t seed;
	uint32_t expect_len;	/* bytes every block must carry */
	uint64_t next_seq;	/* sequence number expected next */
	uint64_t buffers;	/* completions seen */
	uint64_t bytes;
	uint64_t gaps;		/* sum of cqe->dropped */
	uint64_t bad_data;	/* blocks with a wrong byte */
	uint64_t bad_seq;	/* completions out of sequence */
	uint64_t bad_len;
	bool shuffle;		/* return buffers in a scrambled order */
	unsigned seed_rng;
};

/*
 * Takes what is waiting (up to @max), verifies it, releases the entries and
 * returns the buffers, in a scrambled order when asked.
 * Return: entries handled.
 */
static inline unsigned ktest_consume(struct lring *r, struct ktest_stream *s,
			      unsigned max)
{
	uint32_t ids[256], idx;
	unsigned n, i;

	if (max > 256)
		max = 256;
	n = lring_peek(r, max, &idx);
	for (i = 0; i < n; i++) {
		const struct lring_cqe *cqe = lring_cqe(r, idx + i);
		long bad;

		if (cqe->flags & LRING_CQE_F_GAP)
			s->gaps += cqe->dropped;
		if (cqe->seq != s->next_seq + ((cqe->flags & LRING_CQE_F_GAP) ?
					       cqe->dropped : 0)) {
			if (!s->bad_seq)
				ktest_diag("seq %" PRIu64 " expected %" PRIu64
					   " (flags %#x dropped %u)", (uint64_t)cqe->seq,
					   s->next_seq, cqe->flags, cqe->dropped);
			s->bad_seq++;
		}
		s->next_seq = cqe->seq + 1;
		if (s->expect_len && cqe->len != s->expect_len)
			s->bad_len++;
		bad = ktest_bad_offset(lring_buf(r, cqe->buf_id), cqe->len,
				       s->seed, cqe->seq);
		if (bad >= 0) {
			if (!s->bad_data)
				ktest_diag("buffer %u seq %" PRIu64 ": bad byte at %ld",
					   cqe->buf_id, (uint64_t)cqe->seq, bad);
			s->bad_data++;
		}
		s->bytes += cqe->len;
		ids[i] = cqe->buf_id;
	}
	if (s->shuffle) {
		for (i = n; i > 1; i--) {
			unsigned j = rand_r(&s->seed_rng) % i;
			uint32_t t = ids[i - 1];

			ids[i - 1] = ids[j];
			ids[j] = t;
		}
	}
	lring_release(r, n);
	if (n && lring_return(r, ids, n))
		ktest_diag("lring_return of %u ids we owned failed", n);
	s->buffers += n;
	return n;
}

/* Busy-polls until @count buffers are seen or @timeout_ms passes. */
static inline bool ktest_consume_until(struct lring *r, struct ktest_stream *s,
				uint64_t count, unsigned timeout_ms)
{
	uint64_t deadline = ktest_now_ns() + timeout_ms * 1000000ull;

	while (s->buffers < count) {
		if (!ktest_consume(r, s, 64)) {
			if (ktest_now_ns() > deadline)
				return false;
			sched_yield();
		}
	}
	return true;
}


static inline int ktest_write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY), ret = 0;
	ssize_t len = strlen(text);

	if (fd < 0)
		return -errno;
	if (write(fd, text, len) != len)
		ret = -errno;
	close(fd);
	return ret;
}

#define KTEST_FAIL_FUNC "/sys/kernel/debug/fail_function"

/*
 * Arms fail_function: @func (which returns -errno) returns @err at its
 * @interval-th call, @times times ("-1": always). Debug kernel only.
 */
static inline int ktest_fail_function(const char *func, int err, unsigned interval,
				      const char *times)
{
	char path[128], text[32];
	int ret;

	ret = ktest_write_file(KTEST_FAIL_FUNC "/inject", func);
	if (ret)
		return ret;
	snprintf(path, sizeof(path), KTEST_FAIL_FUNC "/%s/retval", func);
	snprintf(text, sizeof(text), "%#llx", (unsigned long long)(long long)err);
	if ((ret = ktest_write_file(path, text)))
		return ret;
	snprintf(text, sizeof(text), "%u", interval);
	if ((ret = ktest_write_file(KTEST_FAIL_FUNC "/probability", "100")) ||
	    (ret = ktest_write_file(KTEST_FAIL_FUNC "/interval", text)) ||
	    (ret = ktest_write_file(KTEST_FAIL_FUNC "/times", times)) ||
	    (ret = ktest_write_file(KTEST_FAIL_FUNC "/verbose", "0")) ||
	    /*
	     * No task filter: the kprobe runs in the int3 handler, where
	     * in_task() is false, so a filtered injection never fires. Only
	     * the calling test uses the module meanwhile.
	     */
	    (ret = ktest_write_file(KTEST_FAIL_FUNC "/task-filter", "N")))
		return ret;
	return 0;
}

static inline void ktest_fail_function_off(void)
{
	ktest_write_file(KTEST_FAIL_FUNC "/inject", "\n");
}

/* nr_foll_pin_acquired - nr_foll_pin_released: pages pinned right now. */
static inline long long ktest_pins_held(void)
{
	char line[128];
	long long acq = -1, rel = -1, v;
	FILE *f;
	int fd;

	/* Fold the per-CPU deltas first, or the counters lag. */
	fd = open("/proc/sys/vm/stat_refresh", O_WRONLY);
	if (fd >= 0) {
		if (write(fd, "1", 1) < 0)
			ktest_diag("stat_refresh: %s", strerror(errno));
		close(fd);
	}
	f = fopen("/proc/vmstat", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "nr_foll_pin_acquired %lld", &v) == 1)
			acq = v;
		else if (sscanf(line, "nr_foll_pin_released %lld", &v) == 1)
			rel = v;
	}
	fclose(f);
	return acq < 0 || rel < 0 ? -1 : acq - rel;
}

/*
 * Runs "count_events.sh @args" (tests/kernel/count_events.sh) and reads the
 * "@key=N" line it prints after the command's output. @not_ok, if given,
 * gets the number of "not ok" lines the command printed. Returns N; -1 if
 * the command or the count failed; -2 if the kernel cannot count (exit
 * status 125), which the caller reports as a skip.
 */
static inline long ktest_count_events(const char *args, const char *key, int *not_ok)
{
	char cmd[256], line[256];
	size_t klen = strlen(key);
	long count = -1;
	int status, bad = 0;
	FILE *f;

	if (not_ok)
		*not_ok = 0;
	snprintf(cmd, sizeof(cmd), "count_events.sh %s", args);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, klen) && line[klen] == '=')
			count = strtol(line + klen + 1, NULL, 10);
		bad += !strncmp(line, "not ok", 6);
	}
	status = pclose(f);
	if (not_ok)
		*not_ok = bad;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 125)
		return -2;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? count : -1;
}

static inline int ktest_exit(void)
{
	return ktest_failures ? 1 : 0;
}

/* A subcommand of a test program: `PROGRAM NAME [ARGS...]` runs @fn. */
struct ktest_subtest {
	const char *name;
	void (*fn)(int argc, char **argv);
};

#define KTEST_SUBTESTS(table) (table), sizeof(table) / sizeof((table)[0])

/*
 * Runs the subtest argv[1] names with the arguments after it.
 * Return: the program's exit status; 2 for an unknown subtest.
 */
static inline int ktest_main(const struct ktest_subtest *tests, size_t n,
			     int argc, char **argv)
{
	size_t i;

	for (i = 0; argc > 1 && i < n; i++) {
		if (!strcmp(argv[1], tests[i].name)) {
			tests[i].fn(argc - 2, argv + 2);
			return ktest_exit();
		}
	}
	fprintf(stderr, "usage: %s SUBTEST [ARGS...]\nsubtests:", argv[0]);
	for (i = 0; i < n; i++)
		fprintf(stderr, " %s", tests[i].name);
	fputc('\n', stderr);
	return 2;
}

#endif /* LRING_KTEST_H */
