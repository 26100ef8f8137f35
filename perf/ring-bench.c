// SPDX-License-Identifier: MIT
/*
 * ring-bench - what lring's hand-off costs next to what a driver writer
 * would build instead, on one simulated device, in one run.
 *
 * Runs in the test VM with the modules loaded:
 *
 *   insmod lring.ko && insmod lring_sim.ko nr_rings=1
 *   ring-bench [options]            table on stdout
 *   ring-bench --json               JSON on stdout instead
 *   ring-bench --json=FILE          table on stdout, JSON in FILE
 *   ring-bench --host [args]        the host benchmark (runs ring-host)
 *
 * Modes, all on /dev/lringN with the same pool (coherent backend,
 * --count buffers of each size):
 *
 *   ceiling     the device alone: rate 0 (produce as fast as buffers come
 *               back), the consumer busy-polls and returns each buffer
 *               without touching it. The physical limit of the device.
 *   busy-poll   liblring peek/return, spinning when the ring is empty
 *   eventfd     liblring with an eventfd armed at a batch of 3/4 of the
 *               pool: sleeps in lring_wait() when the ring is empty
 *   eventfd-b1  the same with batch 1 (a signal on every empty ->
 *               non-empty transition)
 *   poll        liblring, sleeping in poll() on the device fd
 *   read-copy   read() on the unmapped fd: the kernel copies each block to
 *               a user buffer with copy_to_user() and requeues it
 *   dqbuf-qbuf  the mapped pool, but LRING_IOC_DQBUF to learn a buffer is
 *               full and LRING_IOC_QBUF to give it back
 *
 * and the other way, on the same ring configured to send (LRING_CONFIG_TX,
 * the device a sink that reads every block and checks it):
 *
 *   tx-ceiling  the sink alone: the sender submits free buffers as they
 *               come back, writing nothing into them
 *   tx-busy     liblring take_free/send, spinning when no buffer is free
 *   tx-eventfd  the same, sleeping in lring_wait() with an eventfd armed at
 *               a batch of 3/4 of the pool
 *   write-copy  write() on the unmapped fd: the sender writes each block
 *               into its own buffer, the kernel copies it into a free DMA
 *               buffer with copy_from_user() and submits it
 *
 * Every consuming mode does the same work per block (bench.h): it reads
 * every byte once (64-bit sum) and checks the first and last word against
 * the device's pattern. read-copy reads the copy; the others read the DMA
 * buffer in place. Every sending mode but the ceiling writes the device's
 * whole pattern into each block (the sink checks every word): write-copy
 * into its own buffer, the others into the DMA buffer in place.
 *
 * Syscalls: this program defines ioctl(), poll(), read() and write(), which count
 * and then make the system call, so every such call of the process,
 * liblring's included (it is linked statically), is counted; the kernel's
 * own counters (kicks, waits, eventfd_signals) are read from the ring
 * before and after. Consumer CPU time comes from getrusage(RUSAGE_THREAD);
 * the device's from /proc/<kthread>/stat.
 *
 * Latency runs the device at a fixed rate (--lat-rate, an hrtimer) and
 * takes clock_gettime(CLOCK_MONOTONIC) when the consumer first sees an
 * entry, minus the entry's timestamp_ns (CLOCK_MONOTONIC at publish).
 * read() hands out bytes without their completion entry, so read-copy has
 * no latency figure.
 *
 * The device is pinned to CPU 0 (its kthread, or the CPU that arms its
 * timer), the consumer to CPU 1, unless --no-pin.
 */
#define _GNU_SOURCE
#include "bench.h"

#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <stdbool.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>

#include <linux/lring.h>
#include <lring.h>

/* ---- syscall accounting ------------------------------------------------ */

static uint64_t nr_ioctl, nr_poll, nr_read, nr_write;

/* Replaces the C library's ioctl() for this program and liblring in it. */
int ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	nr_ioctl++;
	return (int)syscall(SYS_ioctl, fd, req, arg);
}

int poll(struct pollfd *fds, nfds_t nfds, int timeout)
{
	nr_poll++;
#ifdef SYS_poll
	return (int)syscall(SYS_poll, fds, nfds, timeout);
#else
	struct timespec ts = { timeout / 1000, (timeout % 1000) * 1000000L };

	return (int)syscall(SYS_ppoll, fds, nfds, timeout < 0 ? NULL : &ts,
			    NULL, 0);
#endif
}

ssize_t read(int fd, void *buf, size_t count)
{
	nr_read++;
	return syscall(SYS_read, fd, buf, count);
}

ssize_t write(int fd, const void *buf, size_t count)
{
	nr_write++;
	return syscall(SYS_write, fd, buf, count);
}

/* ---- modes ------------------------------------------------------------- */

enum mode {
	M_CEILING,
	M_BUSY,
	M_EVENTFD,
	M_EVENTFD_B1,
	M_POLL,
	M_READ,
	M_DQBUF,
	M_TX_CEILING,	/* the sending modes, from here on */
	M_TX_BUSY,
	M_TX_EVENTFD,
	M_TX_WRITE,
	M_COUNT
};

static const char *const mode_names[M_COUNT] = {
	"ceiling", "busy-poll", "eventfd", "eventfd-b1", "poll", "read-copy",
	"dqbuf-qbuf", "tx-ceiling", "tx-busy", "tx-eventfd", "write-copy",
};

static const char *const mode_desc[M_COUNT] = {
	"device alone: consumer returns each buffer untouched (busy-poll)",
	"liblring peek/return, spin when empty",
	"liblring, eventfd batch 3/4 of the pool, lring_wait() when empty",
	"liblring, eventfd batch 1, lring_wait() when empty",
	"liblring, poll() on the device fd when empty",
	"read() on the unmapped fd: copy_to_user, then the buffer is requeued",
	"mapped pool, one LRING_IOC_DQBUF + one LRING_IOC_QBUF per buffer",
	"sink alone: sender submits each free buffer untouched (busy-poll)",
	"liblring take_free/send, block written in place, spin when none free",
	"liblring, eventfd batch 3/4 of the pool, lring_wait() when none free",
	"write() on the unmapped fd: block written into a user buffer, copy_from_user into a free DMA buffer",
};

/* The ring sends in this mode (configured with LRING_CONFIG_TX). */
static bool mode_sends(int m)
{
	return m >= M_TX_CEILING;
}

/* The ceiling a mode is measured against: its direction's. */
static int mode_ceiling(int m)
{
	return mode_sends(m) ? M_TX_CEILING : M_CEILING;
}

#define BATCH		64	/* completions taken per peek */
#define WAIT_MS		100	/* longest sleep of the sleeping modes */
#define CLOCK_EVERY	(1u << 20)	/* bytes consumed between clock reads */

struct opts {
	int ring;
	uint32_t sizes[16];
	int nr_sizes;
	uint32_t count;
	uint32_t backend;
	double seconds;
	double warmup;
	int rounds;
	uint32_t lat_rate;
	uint32_t lat_size;
	uint32_t lat_count;
	uint32_t lat_samples;
	bool modes[M_COUNT];
	bool latency;
	bool pin;
	bool pause;		/* PAUSE in the busy-poll spin */
	uint32_t read_chunk;	/* bytes per read(), 0: auto */
	int dev_cpu, cons_cpu;
	const char *json;	/* NULL: table only; "-": JSON only */
};

/* One measurement window's worth of everything we count. */
struct snap {
	uint64_t t;
	double cpu;
	uint64_t vcsw;
	uint64_t ioctls, polls, reads, writes;
	double dev_cpu;
	struct lring_counters c;
};

struct result {
	enum mode mode;
	uint32_t buf_size, buf_count, batch;
	bool latency;
	uint32_t rate;
	double seconds;
	uint64_t buffers, bytes, bad, errors;
	double cpu_s, dev_cpu_s;
	uint64_t ioctls, polls, reads, writes, vcsw;
	struct lring_counters c;	/* deltas */
	uint64_t samples, p50, p99, p999, max;
	const char *note;
	/* over the rounds: this result is the round with the median GB/s */
	int rounds;
	double ratio;		/* median of GB/s over the same round's ceiling */
	double ratio_min;	/* the worst round's ratio */
	double gbps_min, gbps_max;
	uint64_t p99_min, p99_max;	/* latency: best and worst round */
};

/* The ring being measured and the state of the current run. */
struct run {
	const struct opts *o;
	enum mode mode;
	int fd;			/* the device */
	struct lring *r;	/* its mapping, in the mapped modes */
	int sim_id;
	int ring;		/* N of /dev/lringN */
	struct lring_config cfg;	/* its pool, flags set for the mode */
	int kthread;		/* pid of the rate-0 producer, or 0 */
	uint64_t seed;
	uint32_t buf_size, buf_count;
	bool work;

	uint64_t buffers, bytes, bad, errors;
	uint64_t next_seq;	/* read-copy, sending: sequence of the next block */
	uint8_t *ubuf;		/* read-copy, write-copy: the user buffer */
	size_t chunk;

	uint64_t *lat;		/* latency samples, or NULL */
	size_t nlat, lat_want;
};

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "ring-bench: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(2);
}

/* ---- the simulated device through sysfs --------------------------------- */

static int sim_set(int ring, const char *attr, uint64_t val)
{
	char path[128], text[32];
	int fd, len, ret = 0;

	snprintf(path, sizeof(path), "/sys/class/lring/lring%d/device/%s",
		 ring, attr);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	len = snprintf(text, sizeof(text), "%" PRIu64, val);
	if (write(fd, text, len) != len)
		ret = -errno;
	close(fd);
	return ret;
}

/* A number the simulated device shows in sysfs; 0 if it cannot be read. */
static uint64_t sim_get(int ring, const char *attr)
{
	char path[128], text[32];

	snprintf(path, sizeof(path), "/sys/class/lring/lring%d/device/%s",
		 ring, attr);
	return strtoull(bench_read_line(path, text, sizeof(text)), NULL, 10);
}

/* The platform device id N of lring_sim.N behind /dev/lring<ring>. */
static int sim_id_of(int ring)
{
	char path[128], target[PATH_MAX];
	const char *base;
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/class/lring/lring%d/device", ring);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return -1;
	target[n] = 0;
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	if (strncmp(base, "lring_sim.", 10))
		return -1;
	return atoi(base + 10);
}

/* The pid of the kthread "lring_sim/<id>", or 0. */
static int find_kthread(int sim_id)
{
	char want[32], path[300], comm[64];
	struct dirent *d;
	DIR *dir = opendir("/proc");
	int pid = 0;

	if (!dir)
		return 0;
	snprintf(want, sizeof(want), "lring_sim/%d", sim_id);
	while (!pid && (d = readdir(dir))) {
		if (d->d_name[0] < '1' || d->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", d->d_name);
		if (!strcmp(bench_read_line(path, comm, sizeof(comm)), want))
			pid = atoi(d->d_name);
	}
	closedir(dir);
	return pid;
}

/*
 * CPU time of @pid in seconds; NAN if gone. From its CPU-time clock, not
 * /proc/<pid>/stat: parsing that took milliseconds under TCG, long enough
 * for the device to use up the pool while the consumer stood still at the
 * start of the measured run, and the kick that followed was counted.
 */
static double pid_cpu_s(int pid)
{
	struct timespec ts;
	clockid_t clock;

	if (!pid || clock_getcpuclockid(pid, &clock) ||
	    clock_gettime(clock, &ts))
		return NAN;
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void get_counters(int fd, struct lring_counters *c)
{
	if (ioctl(fd, LRING_IOC_GET_COUNTERS, c))
		memset(c, 0, sizeof(*c));
}

static void take_snap(struct run *ru, struct snap *s, bool begin)
{
	if (begin) {
		get_counters(ru->fd, &s->c);
		s->dev_cpu = pid_cpu_s(ru->kthread);
	}
	s->ioctls = nr_ioctl;
	s->polls = nr_poll;
	s->reads = nr_read;
	s->writes = nr_write;
	s->cpu = bench_thread_cpu_s();
	s->vcsw = bench_thread_vcsw();
	s->t = bench_now_ns();
	if (!begin) {
		s->dev_cpu = pid_cpu_s(ru->kthread);
		get_counters(ru->fd, &s->c);
	}
}

static void snap_delta(struct result *res, const struct snap *a,
		       const struct snap *b)
{
	const __u64 *x = (const __u64 *)&a->c, *y = (const __u64 *)&b->c;
	__u64 *d = (__u64 *)&res->c;
	size_t i;

	res->seconds = (b->t - a->t) / 1e9;
	res->cpu_s = b->cpu - a->cpu;
	res->dev_cpu_s = b->dev_cpu - a->dev_cpu;
	res->vcsw = b->vcsw - a->vcsw;
	res->ioctls = b->ioctls - a->ioctls;
	res->polls = b->polls - a->polls;
	res->reads = b->reads - a->reads;
	res->writes = b->writes - a->writes;
	for (i = 0; i < sizeof(res->c) / sizeof(__u64); i++)
		d[i] = y[i] - x[i];
}

/* ---- consumer loops ------------------------------------------------------ */

static inline void consume(struct run *ru, const void *data, uint32_t len,
			   uint64_t seq)
{
	if (!ru->work)
		return;
	bench_sink += bench_sum(data, len);
	if (!bench_check(data, len, ru->seed, seq))
		ru->bad++;
}

/* A sender's work: block @seq of the device's pattern, every word. */
static inline void produce(struct run *ru, void *data, uint32_t len,
			   uint64_t seq)
{
	uint64_t *w = data;
	uint32_t i;

	if (!ru->work)
		return;
	for (i = 0; i < len / 8; i++)
		w[i] = htole64(lring_sim_word(ru->seed, seq, i));
}

static inline bool lat_record(struct run *ru, uint64_t seen, uint64_t done)
{
	if (ru->nlat < ru->lat_want)
		ru->lat[ru->nlat++] = seen > done ? seen - done : 0;
	return ru->nlat >= ru->lat_want;
}

/*
 * Nothing to take: spin (the clock read only now and then) or sleep in
 * lring_wait(). Return: false when the window is over or the wait failed.
 */
static bool idle(struct run *ru, bool spin, unsigned long *spins,
		 uint64_t until)
{
	int ret;

	if (spin) {
		if (ru->o->pause)
			bench_relax();
		return ++*spins % 65536 || bench_now_ns() < until;
	}
	if (bench_now_ns() >= until)
		return false;
	ret = lring_wait(ru->r, WAIT_MS);
	if (ret < 0 && ret != -ETIMEDOUT && ret != -EINTR) {
		ru->errors++;
		return false;
	}
	return true;
}

/* busy-poll, ceiling, eventfd, poll: liblring's fast path. */
static void loop_ring(struct run *ru, uint64_t until)
{
	struct lring *r = ru->r;
	bool spin = ru->mode == M_BUSY || ru->mode == M_CEILING;
	uint32_t ids[BATCH], idx;
	uint64_t since = 0, seen = 0;
	unsigned long spins = 0;
	bool full = false;
	unsigned n, i;

	for (;;) {
		n = lring_peek(r, BATCH, &idx);
		if (!n) {
			if (idle(ru, spin, &spins, until))
				continue;
			return;
		}
		if (ru->lat)
			seen = bench_now_ns();
		for (i = 0; i < n; i++) {
			const struct lring_cqe *c = lring_cqe(r, idx + i);

			if (ru->lat)
				full = lat_record(ru, seen, c->timestamp_ns);
			consume(ru, lring_buf(r, c->buf_id), c->len, c->seq);
			ids[i] = c->buf_id;
			since += c->len;
		}
		lring_release(r, n);
		if (lring_return(r, ids, n))
			ru->errors++;
		ru->buffers += n;
		if (full)
			return;
		if (since >= CLOCK_EVERY || ru->lat) {
			ru->bytes += since;
			since = 0;
			if (bench_now_ns() >= until)
				return;
		}
	}
	ru->bytes += since;
}

/* dqbuf-qbuf: one ioctl to take a buffer, one to give it back. */
static void loop_dqbuf(struct run *ru, uint64_t until)
{
	uint64_t since = 0, seen;
	struct lring_cqe c;
	uint32_t id;

	for (;;) {
		if (ioctl(ru->fd, LRING_IOC_DQBUF, &c)) {
			if (errno == EINTR)
				continue;
			ru->errors++;
			return;
		}
		if (ru->lat) {
			seen = bench_now_ns();
			lat_record(ru, seen, c.timestamp_ns);
		}
		consume(ru, lring_buf(ru->r, c.buf_id), c.len, c.seq);
		id = c.buf_id;
		if (ioctl(ru->fd, LRING_IOC_QBUF, &id))
			ru->errors++;
		ru->buffers++;
		ru->bytes += c.len;
		if (ru->lat && ru->nlat >= ru->lat_want)
			return;
		since += c.len;
		if (since >= CLOCK_EVERY || ru->lat) {
			since = 0;
			if (bench_now_ns() >= until)
				return;
		}
	}
}

/* read-copy: whole blocks (chunk is a multiple of the block) per read(). */
static void loop_read(struct run *ru, uint64_t until)
{
	uint32_t bs = ru->buf_size;
	ssize_t got;
	size_t b;

	for (;;) {
		got = read(ru->fd, ru->ubuf, ru->chunk);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			ru->errors++;
			return;
		}
		if (got % bs)
			ru->errors++;	/* a block split across reads */
		for (b = 0; b + bs <= (size_t)got; b += bs)
			consume(ru, ru->ubuf + b, bs, ru->next_seq++);
		ru->buffers += got / bs;
		ru->bytes += got;
		if (bench_now_ns() >= until)
			return;
	}
}

/* tx-ceiling, tx-busy, tx-eventfd: liblring's sending fast path. */
static void loop_send(struct run *ru, uint64_t until)
{
	struct lring *r = ru->r;
	bool spin = ru->mode != M_TX_EVENTFD;
	uint32_t ids[BATCH], bs = ru->buf_size;
	struct lring_sqe sqes[BATCH];
	unsigned long spins = 0;
	uint64_t since = 0;
	unsigned n, i;

	for (;;) {
		n = lring_take_free(r, BATCH, ids);
		if (!n) {
			if (idle(ru, spin, &spins, until))
				continue;
			break;
		}
		for (i = 0; i < n; i++) {
			produce(ru, lring_buf(r, ids[i]), bs, ru->next_seq++);
			sqes[i] = (struct lring_sqe){ .buf_id = ids[i], .len = bs };
		}
		if (lring_send(r, sqes, n))
			ru->errors++;
		ru->buffers += n;
		since += (uint64_t)n * bs;
		if (since >= CLOCK_EVERY) {
			ru->bytes += since;
			since = 0;
			if (bench_now_ns() >= until)
				return;
		}
	}
	ru->bytes += since;
}

/* write-copy: one block per write(), produced in the user buffer. */
static void loop_write(struct run *ru, uint64_t until)
{
	uint32_t bs = ru->buf_size;
	uint64_t since = 0;
	ssize_t put;

	for (;;) {
		produce(ru, ru->ubuf, bs, ru->next_seq);
		put = write(ru->fd, ru->ubuf, bs);
		if (put != (ssize_t)bs) {
			if (put < 0 && errno == EINTR)
				continue;
			ru->errors++;
			break;
		}
		ru->next_seq++;
		ru->buffers++;
		since += bs;
		if (since >= CLOCK_EVERY) {
			ru->bytes += since;
			since = 0;
			if (bench_now_ns() >= until)
				return;
		}
	}
	ru->bytes += since;
}

static void run_loop(struct run *ru, uint64_t until)
{
	if (ru->mode == M_TX_WRITE)
		loop_write(ru, until);
	else if (mode_sends(ru->mode))
		loop_send(ru, until);
	else if (ru->mode == M_READ)
		loop_read(ru, until);
	else if (ru->mode == M_DQBUF)
		loop_dqbuf(ru, until);
	else
		loop_ring(ru, until);
}

/* ---- one mode on one configured ring --------------------------------- */

static void set_nonblock(int fd, bool on)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl >= 0)
		fcntl(fd, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK);
}

/*
 * A sender's last step, outside the measured window: wait until every
 * block it submitted was sent, so that the stop cancels nothing and leaves
 * nothing on the submission ring, and the next sending mode's first block
 * is the next one the device expects.
 */
static void wait_sent(struct run *ru)
{
	uint64_t until = bench_now_ns() + 10000000000ull;
	struct lring_counters c;

	/* Submissions still on the ring wait for a look: one kick gives it. */
	ioctl(ru->fd, LRING_IOC_KICK);
	do {
		get_counters(ru->fd, &c);
		if (c.delivered >= ru->next_seq)
			return;
		usleep(1000);
	} while (bench_now_ns() < until);
	ru->errors++;
}

/* After LRING_IOC_STOP: hand back every buffer the application holds. */
static void drain(struct run *ru)
{
	uint32_t ids[BATCH], idx, id;
	struct lring_cqe c;
	unsigned n;

	if (mode_sends(ru->mode)) {
		/* Unsent blocks came back NOT_SENT: free buffers, as the rest. */
		return;
	} else if (ru->mode == M_READ) {
		set_nonblock(ru->fd, true);
		while (read(ru->fd, ru->ubuf, ru->chunk) > 0)
			;
		set_nonblock(ru->fd, false);
	} else if (ru->mode == M_DQBUF) {
		set_nonblock(ru->fd, true);
		while (!ioctl(ru->fd, LRING_IOC_DQBUF, &c)) {
			id = c.buf_id;
			ioctl(ru->fd, LRING_IOC_QBUF, &id);
		}
		set_nonblock(ru->fd, false);
	} else {
		while ((n = lring_peek(ru->r, BATCH, &idx))) {
			lring_cqe_ids(ru->r, idx, n, ids);
			lring_release(ru->r, n);
			if (lring_return(ru->r, ids, n))
				ru->errors++;
		}
	}
}

static void start_device(struct run *ru)
{
	const struct opts *o = ru->o;
	cpu_set_t set;
	int ret;

	/* The timer of a rate > 0 device fires on the CPU that armed it. */
	if (o->pin)
		bench_pin(o->dev_cpu);
	ret = ioctl(ru->fd, LRING_IOC_START);
	if (ret)
		die("LRING_IOC_START: %s", strerror(errno));
	ru->kthread = find_kthread(ru->sim_id);
	if (o->pin) {
		if (ru->kthread) {
			CPU_ZERO(&set);
			CPU_SET(o->dev_cpu, &set);
			sched_setaffinity(ru->kthread, sizeof(set), &set);
		}
		bench_pin(o->cons_cpu);
	}
}

static void run_mode(struct run *ru, struct result *res)
{
	const struct opts *o = ru->o;
	struct lring_counters c0;
	struct snap a, b;
	uint64_t t;
	int ret;

	memset(res, 0, sizeof(*res));
	res->mode = ru->mode;
	res->buf_size = ru->buf_size;
	res->buf_count = ru->buf_count;
	ru->buffers = ru->bytes = ru->bad = ru->errors = 0;
	ru->work = ru->mode != M_CEILING && ru->mode != M_TX_CEILING;
	ru->r = NULL;

	/* A new pool when the direction changes (the ring is stopped, unmapped). */
	if (!!(ru->cfg.flags & LRING_CONFIG_TX) != mode_sends(ru->mode)) {
		struct lring_config cfg = ru->cfg;

		cfg.flags = mode_sends(ru->mode) ? LRING_CONFIG_TX : 0;
		if (ioctl(ru->fd, LRING_IOC_CONFIGURE, &cfg))
			die("configure %s: %s", mode_names[ru->mode], strerror(errno));
		ru->cfg = cfg;
	}
	if (ru->mode != M_READ && ru->mode != M_TX_WRITE) {
		int dfd = fcntl(ru->fd, F_DUPFD_CLOEXEC, 0);

		if (dfd < 0 || lring_open_fd(dfd, &ru->r))
			die("dup: %s", strerror(errno));
		ret = lring_map(ru->r);
		if (ret)
			die("lring_map: %s", lring_strerror(ret));
		if (ru->mode == M_EVENTFD || ru->mode == M_EVENTFD_B1 ||
		    ru->mode == M_TX_EVENTFD) {
			res->batch = ru->mode != M_EVENTFD_B1 && !ru->lat ?
				     ru->buf_count * 3 / 4 : 1;
			ret = lring_enable_eventfd(ru->r, res->batch);
			if (ret)
				die("lring_enable_eventfd: %s", lring_strerror(ret));
		}
	}
	/*
	 * read-copy: the next block's sequence number is the count so far;
	 * sending: the blocks sent so far (a stop cancels the rest).
	 */
	get_counters(ru->fd, &c0);
	ru->next_seq = mode_sends(ru->mode) ? c0.delivered : c0.produced;

	start_device(ru);
	if (ru->lat) {
		res->latency = true;
		t = bench_now_ns();
		/* Warm up on a few samples, then start over. */
		ru->lat_want = 20;
		run_loop(ru, t + 5000000000ull);
		ru->nlat = 0;
		ru->lat_want = o->lat_samples;
		take_snap(ru, &a, true);
		ru->buffers = ru->bytes = 0;
		run_loop(ru, bench_now_ns() + 30000000000ull +
			 (uint64_t)o->lat_samples * 3000000000ull / o->lat_rate);
		take_snap(ru, &b, false);
	} else {
		t = bench_now_ns();
		run_loop(ru, t + (uint64_t)(o->warmup * 1e9));
		ru->buffers = ru->bytes = 0;
		take_snap(ru, &a, true);
		run_loop(ru, a.t + (uint64_t)(o->seconds * 1e9));
		take_snap(ru, &b, false);
	}
	if (mode_sends(ru->mode))
		wait_sent(ru);
	if (ioctl(ru->fd, LRING_IOC_STOP))
		die("LRING_IOC_STOP: %s", strerror(errno));
	drain(ru);

	snap_delta(res, &a, &b);
	res->buffers = ru->buffers;
	res->bytes = ru->bytes;
	/* What the sink found wrong since this mode's start. */
	if (mode_sends(ru->mode) && ru->work)
		ru->bad = sim_get(ru->ring, "tx_mismatches");
	res->bad = ru->bad;
	res->errors = ru->errors;
	if (ru->lat) {
		res->samples = ru->nlat;
		res->max = bench_quantile(ru->lat, ru->nlat, 1.0);
		res->p50 = bench_quantile(ru->lat, ru->nlat, 0.50);
		res->p99 = bench_quantile(ru->lat, ru->nlat, 0.99);
		res->p999 = bench_quantile(ru->lat, ru->nlat, 0.999);
	}
	if (ru->r) {
		if (ru->r->event_fd >= 0)
			lring_disable_eventfd(ru->r);
		lring_close(ru->r);
		ru->r = NULL;
	}
}

/* Opens and configures the ring for one buffer size, runs @modes on it. */
static int run_size(const struct opts *o, uint32_t size, uint32_t count,
		    uint32_t rate, bool latency, const bool *modes,
		    struct result *out)
{
	struct lring_config cfg = {
		.buf_count = count, .buf_size = size, .backend = o->backend,
	};
	struct run ru = {
		.o = o, .seed = 0x5eed0000u + size, .buf_size = size,
		.buf_count = count, .ring = o->ring, .cfg = cfg,
	};
	char path[32];
	int nres = 0, ret, round;
	enum mode m;

	ru.sim_id = sim_id_of(o->ring);
	if (ru.sim_id < 0)
		die("/dev/lring%d is not a simulated ring (load lring_sim)", o->ring);
	if ((ret = sim_set(o->ring, "rate", rate)) ||
	    (ret = sim_set(o->ring, "block_size", 0)) ||
	    (ret = sim_set(o->ring, "seed", ru.seed)))
		die("lring%d sysfs: %s", o->ring, strerror(-ret));
	snprintf(path, sizeof(path), "/dev/lring%d", o->ring);
	ru.fd = open(path, O_RDWR | O_CLOEXEC);
	if (ru.fd < 0)
		die("%s: %s", path, strerror(errno));
	if (ioctl(ru.fd, LRING_IOC_CONFIGURE, &cfg))
		die("configure %u x %u bytes: %s", count, size, strerror(errno));

	ru.chunk = o->read_chunk ? o->read_chunk :
		   size > (256u << 10) ? size : (256u << 10) / size * size;
	ru.chunk = ru.chunk < size ? size : ru.chunk / size * size;
	ru.ubuf = aligned_alloc(4096, ru.chunk);
	if (!ru.ubuf)
		die("out of memory");
	memset(ru.ubuf, 0, ru.chunk);
	if (latency) {
		ru.lat = calloc(o->lat_samples + 64, sizeof(*ru.lat));
		if (!ru.lat)
			die("out of memory");
	}
	for (round = 0; round < o->rounds; round++) {
		for (m = 0; m < M_COUNT; m++) {
			if (!modes[m])
				continue;
			ru.mode = m;
			ru.nlat = 0;
			if (latency && mode_sends(m))
				continue;	/* completions of blocks sent: no latency */
			if (latency && m == M_READ) {
				memset(&out[nres], 0, sizeof(out[nres]));
				out[nres].mode = m;
				out[nres].latency = true;
				out[nres].buf_size = size;
				out[nres].buf_count = count;
				out[nres].note = "not measured: read() returns data without its completion timestamp";
			} else {
				run_mode(&ru, &out[nres]);
			}
			out[nres].rate = rate;
			out[nres].rounds = round;	/* which round, for now */
			nres++;
			fprintf(stderr, "ring-bench: %s %u B round %d done\n",
				mode_names[m], size, round + 1);
		}
	}
	free(ru.lat);
	free(ru.ubuf);
	close(ru.fd);
	return nres;
}

/* ---- output ------------------------------------------------------------ */

static double per(double a, double b)
{
	return b ? a / b : NAN;
}

static double gbps(const struct result *r)
{
	return per(r->bytes / 1e9, r->seconds);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * Folds the rounds of one buffer size (@in, @n results, round-major) into
 * one result per mode: the round with the median GB/s, its spread, and the
 * median over rounds of the ratio to the ceiling measured in the same round
 * (rounds alternate the modes, so a slow spell of the host hits the ceiling
 * and the mode next to it alike). Return: results written to @out.
 */
static int aggregate(const struct result *in, int n, struct result *out)
{
	double g[64], ratio[64], ceil_g;
	int m, i, k, nout = 0, rounds = 0;

	for (i = 0; i < n; i++)
		rounds = in[i].rounds + 1 > rounds ? in[i].rounds + 1 : rounds;
	for (m = 0; m < M_COUNT; m++) {
		int idx[64], cnt = 0, nr = 0;

		for (i = 0; i < n && cnt < 64; i++)
			if (in[i].mode == (enum mode)m)
				idx[cnt++] = i;
		if (!cnt)
			continue;
		for (k = 0; k < cnt; k++) {
			const struct result *r = &in[idx[k]];

			g[k] = r->latency ? (double)r->p99 : gbps(r);
			ceil_g = NAN;
			for (i = 0; i < n; i++)
				if ((int)in[i].mode == mode_ceiling(m) &&
				    in[i].rounds == r->rounds)
					ceil_g = gbps(&in[i]);
			if (ceil_g == ceil_g)
				ratio[nr++] = g[k] / ceil_g;
		}
		/* the representative: the round with the median GB/s */
		for (k = 0; k < cnt; k++) {
			int below = 0, j;

			for (j = 0; j < cnt; j++)
				below += g[j] < g[k] || (g[j] == g[k] && j < k);
			if (below == cnt / 2)
				break;
		}
		out[nout] = in[idx[k < cnt ? k : 0]];
		out[nout].rounds = cnt;
		qsort(g, cnt, sizeof(g[0]), cmp_double);
		out[nout].p99_min = (uint64_t)g[0];
		out[nout].p99_max = (uint64_t)g[cnt - 1];
		out[nout].gbps_min = g[0];
		out[nout].gbps_max = g[cnt - 1];
		qsort(ratio, nr, sizeof(ratio[0]), cmp_double);
		out[nout].ratio = nr ? ratio[nr / 2] : NAN;
		out[nout].ratio_min = nr ? ratio[0] : NAN;
		nout++;
	}
	(void)rounds;
	return nout;
}

static void size_str(uint32_t size, char *buf, size_t len)
{
	if (size >= (1u << 20) && !(size % (1u << 20)))
		snprintf(buf, len, "%u MiB", size >> 20);
	else if (size >= 1024 && !(size % 1024))
		snprintf(buf, len, "%u KiB", size >> 10);
	else
		snprintf(buf, len, "%u B", size);
}

static void print_table(FILE *f, const struct opts *o,
			const struct result *res, int n)
{
	char sz[32];
	int i;

	fprintf(f, "\nThroughput: rate 0 (device produces as fast as buffers come back), "
		"%u buffers, %d rounds of %.1f s per mode after %.1f s warm-up; "
		"the round with the median GB/s\n", o->count, o->rounds, o->seconds,
		o->warmup);
	fprintf(f, "%-8s %-11s %8s %10s %6s %9s %8s %8s %8s %8s %8s %6s %5s\n",
		"size", "mode", "GB/s", "buf/s", "xceil", "cpu s/GB", "cpu %",
		"dev %", "sys/buf", "krn/buf", "evfd/buf", "drops", "bad");
	for (i = 0; i < n; i++) {
		const struct result *r = &res[i];
		double sys = r->ioctls + r->polls + r->reads + r->writes;

		if (r->latency)
			continue;
		size_str(r->buf_size, sz, sizeof(sz));
		fprintf(f, "%-8s %-11s %8.3f %10.0f %6.3f %9.3f %8.1f %8.1f %8.4f %8.4f %8.4f %6llu %5llu\n",
			sz, mode_names[r->mode], gbps(r),
			per(r->buffers, r->seconds),
			r->ratio,
			per(r->cpu_s, r->bytes / 1e9),
			100 * per(r->cpu_s, r->seconds),
			100 * per(r->dev_cpu_s, r->seconds),
			per(sys, r->buffers),
			per(r->c.kicks + r->c.waits, r->buffers),
			per(r->c.eventfd_signals, r->buffers),
			(unsigned long long)r->c.dropped,
			(unsigned long long)(r->bad + r->errors));
	}
	fprintf(f, "\nLatency: completion (cqe.timestamp_ns) to observation, rate %u/s, %u x %u B, "
		"%d rounds of %u samples; the round with the median p99\n",
		o->lat_rate, o->lat_count, o->lat_size, o->rounds, o->lat_samples);
	fprintf(f, "%-11s %8s %10s %10s %10s %10s %6s %21s\n", "mode", "samples",
		"p50 us", "p99 us", "p99.9 us", "max us", "drops",
		"p99 best-worst round");
	for (i = 0; i < n; i++) {
		const struct result *r = &res[i];

		if (!r->latency)
			continue;
		if (r->note) {
			fprintf(f, "%-11s %8s  (%s)\n", mode_names[r->mode], "-", r->note);
			continue;
		}
		fprintf(f, "%-11s %8llu %10.1f %10.1f %10.1f %10.1f %6llu %10.1f-%-10.1f\n",
			mode_names[r->mode], (unsigned long long)r->samples,
			r->p50 / 1e3, r->p99 / 1e3, r->p999 / 1e3, r->max / 1e3,
			(unsigned long long)r->c.dropped, r->p99_min / 1e3,
			r->p99_max / 1e3);
	}
	fprintf(f, "\nxceil: median over rounds of GB/s / that round's ceiling; cpu: consumer thread (getrusage); "
		"dev: the device's kthread; sys/buf: ioctl+poll+read+write made by the process; "
		"krn/buf: kicks+waits counted by the kernel; evfd/buf: eventfd signals; "
		"bad: blocks failing the pattern check or errors\n");
}

static void print_json(FILE *f, const struct opts *o,
		       const struct result *res, int n)
{
	struct bench_json j = { .f = f, .first = 1 };
	char buf[256];
	struct utsname u;
	int i;

	uname(&u);
	fputs("{", f);
	bench_json_open(&j, "machine", '{');
	bench_json_str(&j, "kernel", u.release);
	bench_json_str(&j, "cpu", bench_cpu_model(buf, sizeof(buf)));
	bench_json_u64(&j, "cpus", (uint64_t)sysconf(_SC_NPROCESSORS_ONLN));
	bench_json_str(&j, "clocksource",
		       bench_read_line("/sys/devices/system/clocksource/clocksource0/current_clocksource",
				       buf, sizeof(buf)));
	bench_json_close(&j, '}');
	bench_json_open(&j, "config", '{');
	bench_json_u64(&j, "buf_count", o->count);
	bench_json_str(&j, "backend", o->backend == LRING_BACKEND_STREAMING ?
		       "streaming" : "coherent");
	bench_json_num(&j, "seconds", o->seconds);
	bench_json_num(&j, "warmup", o->warmup);
	bench_json_u64(&j, "rounds", o->rounds);
	bench_json_u64(&j, "lat_rate", o->lat_rate);
	bench_json_u64(&j, "lat_size", o->lat_size);
	bench_json_u64(&j, "lat_count", o->lat_count);
	bench_json_u64(&j, "lat_samples", o->lat_samples);
	bench_json_u64(&j, "pinned", o->pin);
	bench_json_u64(&j, "spin_pause", o->pause);
	bench_json_u64(&j, "dev_cpu", o->dev_cpu);
	bench_json_u64(&j, "cons_cpu", o->cons_cpu);
	bench_json_close(&j, '}');
	bench_json_open(&j, "modes", '{');
	for (i = 0; i < M_COUNT; i++)
		bench_json_str(&j, mode_names[i], mode_desc[i]);
	bench_json_close(&j, '}');
	bench_json_open(&j, "results", '[');
	for (i = 0; i < n; i++) {
		const struct result *r = &res[i];
		double sys = r->ioctls + r->polls + r->reads + r->writes;

		bench_json_open(&j, NULL, '{');
		bench_json_str(&j, "kind", r->latency ? "latency" : "throughput");
		bench_json_str(&j, "mode", mode_names[r->mode]);
		bench_json_u64(&j, "buf_size", r->buf_size);
		bench_json_u64(&j, "buf_count", r->buf_count);
		bench_json_u64(&j, "rate", r->rate);
		bench_json_u64(&j, "eventfd_batch", r->batch);
		bench_json_num(&j, "seconds", r->seconds);
		bench_json_u64(&j, "buffers", r->buffers);
		bench_json_u64(&j, "bytes", r->bytes);
		bench_json_num(&j, "gbps", gbps(r));
		bench_json_num(&j, "bufs_per_s", per(r->buffers, r->seconds));
		bench_json_num(&j, "ratio_to_ceiling", r->latency ? NAN : r->ratio);
		bench_json_num(&j, "ratio_to_ceiling_min", r->latency ? NAN : r->ratio_min);
		bench_json_u64(&j, "rounds", r->rounds);
		bench_json_num(&j, "gbps_min", r->latency ? NAN : r->gbps_min);
		bench_json_num(&j, "gbps_max", r->latency ? NAN : r->gbps_max);
		bench_json_num(&j, "cpu_s", r->cpu_s);
		bench_json_num(&j, "cpu_s_per_gb", per(r->cpu_s, r->bytes / 1e9));
		bench_json_num(&j, "cpu_util", per(r->cpu_s, r->seconds));
		bench_json_num(&j, "dev_cpu_util", per(r->dev_cpu_s, r->seconds));
		bench_json_u64(&j, "sys_ioctl", r->ioctls);
		bench_json_u64(&j, "sys_poll", r->polls);
		bench_json_u64(&j, "sys_read", r->reads);
		bench_json_u64(&j, "sys_write", r->writes);
		bench_json_num(&j, "syscalls_per_buf", per(sys, r->buffers));
		bench_json_u64(&j, "vcsw", r->vcsw);
		bench_json_num(&j, "sleeps_per_buf", per(r->vcsw, r->buffers));
		bench_json_u64(&j, "kicks", r->c.kicks);
		bench_json_u64(&j, "waits", r->c.waits);
		bench_json_u64(&j, "eventfd_signals", r->c.eventfd_signals);
		bench_json_num(&j, "kernel_syscalls_per_buf",
			       per(r->c.kicks + r->c.waits, r->buffers));
		bench_json_num(&j, "eventfd_signals_per_buf",
			       per(r->c.eventfd_signals, r->buffers));
		bench_json_u64(&j, "need_wakeups", r->c.need_wakeups);
		bench_json_u64(&j, "produced", r->c.produced);
		bench_json_u64(&j, "delivered", r->c.delivered);
		bench_json_u64(&j, "dropped", r->c.dropped);
		bench_json_u64(&j, "bad_blocks", r->bad);
		bench_json_u64(&j, "errors", r->errors);
		if (r->latency && !r->note) {
			bench_json_u64(&j, "samples", r->samples);
			bench_json_num(&j, "p50_us", r->p50 / 1e3);
			bench_json_num(&j, "p99_us", r->p99 / 1e3);
			bench_json_num(&j, "p999_us", r->p999 / 1e3);
			bench_json_num(&j, "max_us", r->max / 1e3);
			bench_json_num(&j, "p99_best_round_us", r->p99_min / 1e3);
			bench_json_num(&j, "p99_worst_round_us", r->p99_max / 1e3);
		}
		if (r->note)
			bench_json_str(&j, "note", r->note);
		bench_json_close(&j, '}');
	}
	bench_json_close(&j, ']');
	fputs("\n}\n", f);
}

/* ---- main ---------------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f,
"Usage: ring-bench [options]        (in the VM, lring + lring_sim loaded)\n"
"       ring-bench --host [ring-host options]\n"
"  --ring N           /dev/lringN, a simulated ring (default 0)\n"
"  --sizes LIST       buffer sizes in bytes (default 4096,65536,1048576)\n"
"  --count N          buffers in the pool (default 256)\n"
"  --backend NAME     coherent (default) or streaming\n"
"  --seconds S        measured time per mode, size and round (default 1)\n"
"  --warmup S         unmeasured time before it (default 0.3)\n"
"  --rounds N         rounds over all modes per size; the median is shown\n"
"                     (default 3)\n"
"  --modes LIST       comma-separated subset of: ceiling,busy-poll,eventfd,\n"
"                     eventfd-b1,poll,read-copy,dqbuf-qbuf, and sending:\n"
"                     tx-ceiling,tx-busy,tx-eventfd,write-copy (default all)\n"
"  --lat-rate R       device rate of the latency runs (default 1000/s)\n"
"  --lat-samples N    samples per latency run and round (default 2000)\n"
"  --lat-size B       buffer size of the latency runs (default 4096)\n"
"  --no-latency       skip the latency runs\n"
"  --no-pin           do not pin the device to CPU 0 and the consumer to CPU 1\n"
"  --spin-pause       PAUSE in the busy-poll spin (under TCG every PAUSE exits\n"
"                     to QEMU's main loop and slows the other vCPU)\n"
"  --read-chunk B     bytes per read() in read-copy, rounded to whole blocks\n"
"                     (default: the block, at least 256 KiB)\n"
"  --json[=FILE]      JSON on stdout instead of the table, or into FILE\n");
}

static void exec_host(int argc, char **argv)
{
	char self[PATH_MAX], tool[PATH_MAX + 16];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n < 0)
		die("/proc/self/exe: %s", strerror(errno));
	self[n] = 0;
	snprintf(tool, sizeof(tool), "%s/ring-host", dirname(self));
	argv[0] = tool;
	execv(tool, argv);
	(void)argc;
	die("%s: %s", tool, strerror(errno));
}

static void parse_modes(struct opts *o, char *list)
{
	char *tok, *save = NULL;
	int m;

	memset(o->modes, 0, sizeof(o->modes));
	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		for (m = 0; m < M_COUNT && strcmp(tok, mode_names[m]); m++)
			;
		if (m == M_COUNT)
			die("unknown mode %s", tok);
		o->modes[m] = true;
	}
}

int main(int argc, char **argv)
{
	enum { O_SIZES = 256, O_COUNT, O_BACKEND, O_SECONDS, O_WARMUP, O_MODES,
	       O_LRATE, O_LSAMPLES, O_LSIZE, O_NOLAT, O_NOPIN, O_JSON, O_RING,
	       O_HOST, O_PAUSE, O_RCHUNK, O_ROUNDS };
	static const struct option lo[] = {
		{ "ring", required_argument, 0, O_RING },
		{ "sizes", required_argument, 0, O_SIZES },
		{ "count", required_argument, 0, O_COUNT },
		{ "backend", required_argument, 0, O_BACKEND },
		{ "seconds", required_argument, 0, O_SECONDS },
		{ "warmup", required_argument, 0, O_WARMUP },
		{ "modes", required_argument, 0, O_MODES },
		{ "lat-rate", required_argument, 0, O_LRATE },
		{ "lat-samples", required_argument, 0, O_LSAMPLES },
		{ "lat-size", required_argument, 0, O_LSIZE },
		{ "no-latency", no_argument, 0, O_NOLAT },
		{ "no-pin", no_argument, 0, O_NOPIN },
		{ "spin-pause", no_argument, 0, O_PAUSE },
		{ "read-chunk", required_argument, 0, O_RCHUNK },
		{ "rounds", required_argument, 0, O_ROUNDS },
		{ "json", optional_argument, 0, O_JSON },
		{ "host", no_argument, 0, O_HOST },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 }
	};
	struct opts o = {
		.sizes = { 4096, 65536, 1048576 }, .nr_sizes = 3, .count = 256,
		.seconds = 1, .warmup = 0.3, .rounds = 3, .lat_rate = 1000, .lat_size = 4096,
		.lat_count = 64, .lat_samples = 2000, .latency = true, .pin = true,
		.dev_cpu = 0, .cons_cpu = 1,
	};
	struct result *res, *raw;
	bool lat_modes[M_COUNT] = { 0 };
	int i, c, n = 0;
	char *tok, *save = NULL;

	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--host")) {
			memmove(&argv[i], &argv[i + 1], (argc - i) * sizeof(*argv));
			exec_host(argc - 1, argv);
		}
	for (i = 0; i < M_COUNT; i++)
		o.modes[i] = true;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case O_RING: o.ring = atoi(optarg); break;
		case O_SIZES:
			o.nr_sizes = 0;
			for (tok = strtok_r(optarg, ",", &save); tok && o.nr_sizes < 16;
			     tok = strtok_r(NULL, ",", &save))
				o.sizes[o.nr_sizes++] = strtoul(tok, NULL, 0);
			break;
		case O_COUNT: o.count = strtoul(optarg, NULL, 0); break;
		case O_BACKEND:
			o.backend = !strcmp(optarg, "streaming") ?
				    LRING_BACKEND_STREAMING : LRING_BACKEND_COHERENT;
			break;
		case O_SECONDS: o.seconds = atof(optarg); break;
		case O_WARMUP: o.warmup = atof(optarg); break;
		case O_MODES: parse_modes(&o, optarg); break;
		case O_LRATE: o.lat_rate = strtoul(optarg, NULL, 0); break;
		case O_LSAMPLES: o.lat_samples = strtoul(optarg, NULL, 0); break;
		case O_LSIZE: o.lat_size = strtoul(optarg, NULL, 0); break;
		case O_NOLAT: o.latency = false; break;
		case O_NOPIN: o.pin = false; break;
		case O_PAUSE: o.pause = true; break;
		case O_ROUNDS: o.rounds = atoi(optarg); break;
		case O_RCHUNK: o.read_chunk = strtoul(optarg, NULL, 0); break;
		case O_JSON: o.json = optarg ? optarg : "-"; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc || !o.count || !o.lat_rate || !o.lat_samples ||
	    o.rounds < 1 || o.rounds > 64)
		die("bad arguments (see --help)");
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		o.pin = false;

	res = calloc((size_t)o.nr_sizes * M_COUNT + M_COUNT, sizeof(*res));
	raw = calloc((size_t)o.rounds * M_COUNT, sizeof(*raw));
	if (!res || !raw)
		die("out of memory");
	for (i = 0; i < o.nr_sizes; i++) {
		int nraw = run_size(&o, o.sizes[i], o.count, 0, false, o.modes, raw);

		n += aggregate(raw, nraw, res + n);
	}
	free(raw);
	raw = NULL;
	if (o.latency) {
		/* The ceiling does no work and read() has no timestamps. */
		memcpy(lat_modes, o.modes, sizeof(lat_modes));
		lat_modes[M_CEILING] = false;
		lat_modes[M_EVENTFD] = false;	/* at a low rate: batch 1 */
		raw = calloc((size_t)o.rounds * M_COUNT, sizeof(*raw));
		if (!raw)
			die("out of memory");
		n += aggregate(raw, run_size(&o, o.lat_size, o.lat_count,
					     o.lat_rate, true, lat_modes, raw),
			       res + n);
		free(raw);
	}

	if (!o.json || strcmp(o.json, "-"))
		print_table(stdout, &o, res, n);
	if (o.json) {
		FILE *f = strcmp(o.json, "-") ? fopen(o.json, "w") : stdout;

		if (!f)
			die("%s: %s", o.json, strerror(errno));
		print_json(f, &o, res, n);
		if (f != stdout)
			fclose(f);
	}
	free(res);
	return 0;
}
