// SPDX-License-Identifier: MIT
/*
 * ring-host - the cost of liblring's fast path on the host, next to a bare
 * ring of the same shape and a pipe carrying the same descriptors.
 *
 *   ring-host [--seconds S] [--reps N] [--count N] [--bytes B] [--json]
 *   ring-host --tsc-khz       print the TSC rate (for the VM's clock)
 *   (also reached as ring-bench --host)
 *
 * One producer thread (CPU 0) hands buffers to one consumer (CPU 1), which
 * hands them back, as fast as both can go. Each hand-off carries a struct
 * lring_cqe; the producer writes --bytes of the simulated device's pattern
 * into the buffer first and the consumer reads them (bench_sum()).
 *
 *   liblring    liblring's lring_peek/lring_release/lring_return against
 *               the userspace model of the kernel side the unit tests use
 *               (tests/unit/fake_kernel.h): the same layout in a memfd, the
 *               producer validates each returned id, takes a spinlock per
 *               batch of completions like the kernel's irq_lock, and stalls
 *               when it has no buffer (lring_sim at rate 0), so the consumer
 *               must kick it (counted; a kick is a real ioctl on the kernel).
 *               The consumer defers its index updates by the batch size.
 *   bare-ts     the same two rings (completion entries, fill ids, indices
 *               on their own cache lines, acquire/release) with none of the
 *               checks, locks, counters or NEED_WAKEUP, reusing buffers
 *               first-in first-out as the kernel does and reading the clock
 *               once per batch for the entries' timestamps: the fair floor.
 *   bare-ring   the same without timestamps: the floor of this shape.
 *   pipe        the descriptors through a pipe, the ids back through a
 *               second one; the producer writes one descriptor per write()
 *               (one "interrupt" per buffer), the consumer reads all that
 *               is waiting and writes the ids back in one write().
 *
 * The producer publishes --batch completions per "interrupt" (default: one
 * run each at 1, 8 and 32; the pipe only at 1). Each contender runs --reps
 * times for --seconds; the median run is shown, with its ratio to both bare
 * rings of the same batch.
 */
#include "../tests/unit/fake_kernel.h"
#include "bench.h"

#include <getopt.h>
#include <math.h>
#include <stdatomic.h>
#include <stdbool.h>

#include <lring.h>

#define BATCH	64

enum kind { K_LRING, K_BARE_TS, K_BARE, K_PIPE, K_COUNT };
static const char *const kind_names[K_COUNT] = {
	"liblring", "bare-ts", "bare-ring", "pipe"
};
static const unsigned batch_sizes[] = { 1, 8, 32 };
#define NR_BATCHES	(sizeof(batch_sizes) / sizeof(batch_sizes[0]))

struct opts {
	double seconds;
	int reps;
	uint32_t count;		/* buffers */
	uint32_t bytes;		/* written and read per hand-off */
	unsigned batch;		/* completions per producer step, 0: each size */
	bool json;
};

struct result {
	double seconds;
	uint64_t buffers;
	double ns_per_buf;
	double cons_cpu, prod_cpu;	/* seconds */
	uint64_t syscalls;		/* both sides */
	uint64_t kicks;
};

/* What the producer thread shares with the consumer. */
struct shared {
	const struct opts *o;
	unsigned batch;
	bool timestamps;
	atomic_int stop;
	uint64_t produced;
	double cpu;
	uint64_t syscalls;
	/* contender state */
	struct fake_kernel *fk;
	struct bare *bare;
	int cq_pipe[2], fq_pipe[2];
	uint8_t *pool;
	uint32_t stride;
};

static void fill(uint8_t *buf, uint32_t len, uint64_t seq)
{
	uint32_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		uint64_t w = htole64(lring_sim_word(0, seq, i / 8));

		memcpy(buf + i, &w, 8);
	}
}

/* ---- liblring against the fake kernel ---------------------------------- */

static void *lring_producer(void *arg)
{
	struct shared *sh = arg;
	uint64_t done = 0;

	unsigned n;

	bench_pin(0);
	while (!atomic_load_explicit(&sh->stop, memory_order_relaxed)) {
		n = fk_complete_batch(sh->fk, sh->batch, sh->o->bytes);
		done += n;
		if (!n)
			bench_relax();	/* stalled until the consumer kicks */
	}
	sh->produced = done;
	sh->cpu = bench_thread_cpu_s();
	return NULL;
}

static uint64_t lring_consumer(struct shared *sh, struct lring *r,
			       uint64_t until)
{
	uint32_t ids[BATCH], idx;
	uint64_t got = 0;
	unsigned n, i, spins = 0;

	for (;;) {
		n = lring_peek(r, BATCH, &idx);
		if (!n) {
			bench_relax();
			if (++spins % 1024 == 0 && bench_now_ns() >= until)
				break;
			continue;
		}
		for (i = 0; i < n; i++) {
			const struct lring_cqe *c = lring_cqe(r, idx + i);

			bench_sink += bench_sum(lring_buf(r, c->buf_id), c->len);
			ids[i] = c->buf_id;
		}
		lring_release(r, n);
		if (lring_return(r, ids, n))
			abort();	/* ids we own always fit: a bug */
		got += n;
		if (got % 4096 < n && bench_now_ns() >= until)
			break;
	}
	(void)sh;
	return got;
}

/* ---- the bare ring ---------------------------------------------------- */

struct bare {
	_Alignas(64) _Atomic uint32_t cq_prod;
	_Alignas(64) _Atomic uint32_t cq_cons;
	_Alignas(64) _Atomic uint32_t fq_prod;
	_Alignas(64) _Atomic uint32_t fq_cons;
	_Alignas(64) struct lring_cqe *cqes;
	uint32_t *fqes;
	uint32_t mask;		/* both rings: count rounded up to a power of 2 */
};

static void *bare_producer(void *arg)
{
	struct shared *sh = arg;
	struct bare *b = sh->bare;
	uint32_t *free_ids = calloc(sh->o->count, sizeof(*free_ids));
	uint32_t head = 0, nfree = 0, prod = 0, fcons = 0, fprod, i, n;
	uint64_t seq = 0, now = 0;

	if (!free_ids)
		abort();
	bench_pin(0);
	/* A FIFO of free ids, as the kernel's device queue is. */
	for (i = 0; i < sh->o->count; i++)
		free_ids[nfree++] = i;
	while (!atomic_load_explicit(&sh->stop, memory_order_relaxed)) {
		n = nfree < sh->batch ? nfree : sh->batch;
		if (n && sh->timestamps)
			now = bench_now_ns();
		for (i = 0; i < n; i++) {
			uint32_t id = free_ids[head];
			struct lring_cqe *c = &b->cqes[prod & b->mask];

			head = (head + 1) % sh->o->count;
			nfree--;
			fill(sh->pool + (size_t)id * sh->stride, sh->o->bytes, seq);
			c->buf_id = id;
			c->len = sh->o->bytes;
			c->seq = seq++;
			c->timestamp_ns = now;
			c->flags = 0;
			c->dropped = 0;
			prod++;
		}
		if (n)
			atomic_store_explicit(&b->cq_prod, prod, memory_order_release);
		else
			bench_relax();
		/* Take returned ids after every batch, as the kernel does. */
		fprod = atomic_load_explicit(&b->fq_prod, memory_order_acquire);
		if (fprod != fcons) {
			while (fcons != fprod) {
				free_ids[(head + nfree) % sh->o->count] =
					b->fqes[fcons++ & b->mask];
				nfree++;
			}
			atomic_store_explicit(&b->fq_cons, fcons, memory_order_release);
		}
	}
	sh->produced = seq;
	sh->cpu = bench_thread_cpu_s();
	free(free_ids);
	return NULL;
}

static uint64_t bare_consumer(struct shared *sh, uint64_t until)
{
	struct bare *b = sh->bare;
	uint32_t cons = 0, fprod = 0, prod = 0, n, i;
	uint64_t got = 0;
	unsigned spins = 0;

	for (;;) {
		if (prod == cons)
			prod = atomic_load_explicit(&b->cq_prod, memory_order_acquire);
		n = prod - cons;
		if (!n) {
			bench_relax();
			if (++spins % 1024 == 0 && bench_now_ns() >= until)
				break;
			continue;
		}
		if (n > BATCH)
			n = BATCH;
		for (i = 0; i < n; i++) {
			const struct lring_cqe *c = &b->cqes[(cons + i) & b->mask];

			bench_sink += bench_sum(sh->pool + (size_t)c->buf_id * sh->stride,
						c->len);
			b->fqes[(fprod + i) & b->mask] = c->buf_id;
		}
		cons += n;
		fprod += n;
		atomic_store_explicit(&b->cq_cons, cons, memory_order_release);
		atomic_store_explicit(&b->fq_prod, fprod, memory_order_release);
		got += n;
		if (got % 4096 < n && bench_now_ns() >= until)
			break;
	}
	return got;
}

/* ---- the pipe --------------------------------------------------------- */

static void *pipe_producer(void *arg)
{
	struct shared *sh = arg;
	uint32_t *free_ids = calloc(sh->o->count, sizeof(*free_ids));
	uint32_t nfree = 0, i;
	uint64_t seq = 0, calls = 0;
	ssize_t got;

	if (!free_ids)
		abort();
	bench_pin(0);
	for (i = 0; i < sh->o->count; i++)
		free_ids[nfree++] = i;
	while (!atomic_load_explicit(&sh->stop, memory_order_relaxed)) {
		if (!nfree) {
			got = read(sh->fq_pipe[0], free_ids,
				   sh->o->count * sizeof(*free_ids));
			calls++;
			if (got <= 0)
				break;
			nfree = got / sizeof(*free_ids);
			continue;
		}
		{
			uint32_t id = free_ids[--nfree];
			struct lring_cqe c = {
				.buf_id = id, .len = sh->o->bytes, .seq = seq++,
			};

			fill(sh->pool + (size_t)id * sh->stride, sh->o->bytes, c.seq);
			calls++;
			if (write(sh->cq_pipe[1], &c, sizeof(c)) != sizeof(c))
				break;
		}
	}
	sh->produced = seq;
	sh->syscalls = calls;
	sh->cpu = bench_thread_cpu_s();
	free(free_ids);
	return NULL;
}

static uint64_t pipe_consumer(struct shared *sh, uint64_t until,
			      uint64_t *calls)
{
	struct lring_cqe c[BATCH];
	uint32_t ids[BATCH];
	uint64_t got = 0;
	ssize_t n;
	size_t i, k;

	for (;;) {
		n = read(sh->cq_pipe[0], c, sizeof(c));
		(*calls)++;
		if (n <= 0)
			break;
		k = n / sizeof(c[0]);
		for (i = 0; i < k; i++) {
			bench_sink += bench_sum(sh->pool + (size_t)c[i].buf_id * sh->stride,
						c[i].len);
			ids[i] = c[i].buf_id;
		}
		(*calls)++;
		if (write(sh->fq_pipe[1], ids, k * sizeof(ids[0])) < 0)
			break;
		got += k;
		if (bench_now_ns() >= until)
			break;
	}
	return got;
}

/* ---- one run ------------------------------------------------------------- */

static uint32_t pow2_at_least(uint32_t v)
{
	uint32_t p = 1;

	while (p < v)
		p <<= 1;
	return p;
}

static void run_one(const struct opts *o, enum kind k, unsigned batch,
		    struct result *res)
{
	struct shared sh = { .o = o, .batch = batch, .timestamps = k == K_BARE_TS };
	uint64_t until, t0, t1, calls = 0;
	void *(*producer)(void *) = NULL;
	struct lring *r = NULL;
	struct bare *b = NULL;
	double c0;
	pthread_t t;
	char path[64];
	int ret;

	memset(res, 0, sizeof(*res));
	sh.stride = (o->bytes + 4095) / 4096 * 4096;
	if (!sh.stride)
		sh.stride = 4096;
	switch (k) {
	case K_LRING:
		sh.fk = fk_create(o->count, sh.stride, 0, 0, 0);
		sh.fk->stall = 1;
		fk_path(sh.fk, path, sizeof(path));
		if ((ret = lring_open(path, &r)) || (ret = lring_map(r))) {
			fprintf(stderr, "ring-host: %s\n", lring_strerror(ret));
			exit(2);
		}
		fk_start(sh.fk);
		lring_defer(r, batch);
		producer = lring_producer;
		break;
	case K_BARE_TS:
	case K_BARE:
		b = aligned_alloc(64, sizeof(*b));
		if (!b)
			abort();
		memset(b, 0, sizeof(*b));
		b->mask = pow2_at_least(o->count) - 1;
		b->cqes = calloc(b->mask + 1, sizeof(*b->cqes));
		b->fqes = calloc(b->mask + 1, sizeof(*b->fqes));
		sh.bare = b;
		producer = bare_producer;
		break;
	case K_PIPE:
		if (pipe(sh.cq_pipe) || pipe(sh.fq_pipe))
			abort();
		producer = pipe_producer;
		break;
	default:
		abort();
	}
	if (k != K_LRING) {
		sh.pool = aligned_alloc(4096, (size_t)o->count * sh.stride);
		if (!sh.pool)
			abort();
		memset(sh.pool, 0, (size_t)o->count * sh.stride);
	}

	bench_pin(1);
	pthread_create(&t, NULL, producer, &sh);
	c0 = bench_thread_cpu_s();
	t0 = bench_now_ns();
	until = t0 + (uint64_t)(o->seconds * 1e9);
	if (k == K_LRING)
		res->buffers = lring_consumer(&sh, r, until);
	else if (k == K_BARE || k == K_BARE_TS)
		res->buffers = bare_consumer(&sh, until);
	else
		res->buffers = pipe_consumer(&sh, until, &calls);
	t1 = bench_now_ns();
	res->cons_cpu = bench_thread_cpu_s() - c0;
	atomic_store(&sh.stop, 1);
	if (k == K_PIPE) {
		/* Unblock a producer waiting for ids or for room. */
		close(sh.fq_pipe[1]);
		close(sh.cq_pipe[0]);
	}
	pthread_join(t, NULL);
	res->prod_cpu = sh.cpu;
	res->seconds = (t1 - t0) / 1e9;
	res->ns_per_buf = res->buffers ? (t1 - t0) / (double)res->buffers : NAN;

	switch (k) {
	case K_LRING:
		res->kicks = fk_kicks(sh.fk);
		res->syscalls = res->kicks;
		lring_close(r);
		fk_free(sh.fk);
		break;
	case K_BARE_TS:
	case K_BARE:
		free(b->cqes);
		free(b->fqes);
		free(b);
		break;
	case K_PIPE:
		res->syscalls = calls + sh.syscalls;
		close(sh.fq_pipe[0]);
		close(sh.cq_pipe[1]);
		break;
	default:
		break;
	}
	free(sh.pool);
}

static int cmp_ns(const void *a, const void *b)
{
	const struct result *x = a, *y = b;

	return x->ns_per_buf < y->ns_per_buf ? -1 : x->ns_per_buf > y->ns_per_buf;
}

/* The batch of slot @bi: --batch alone if given, else each of batch_sizes. */
static unsigned batch_of(const struct opts *o, unsigned bi)
{
	return o->batch ? o->batch : batch_sizes[bi];
}

/* Whether contender @k runs in batch slot @bi. */
static bool want(const struct opts *o, enum kind k, unsigned bi)
{
	if (o->batch)
		return bi == 0;
	/* A pipe write per buffer has no batch size. */
	return k != K_PIPE || batch_sizes[bi] == 1;
}

/* TSC ticks per millisecond, measured against CLOCK_MONOTONIC_RAW. */
static double tsc_khz(void)
{
#if defined(__x86_64__) || defined(__i386__)
	struct timespec a, b, d = { 0, 200000000 };
	uint64_t t0, t1;

	clock_gettime(CLOCK_MONOTONIC_RAW, &a);
	t0 = __builtin_ia32_rdtsc();
	nanosleep(&d, NULL);
	t1 = __builtin_ia32_rdtsc();
	clock_gettime(CLOCK_MONOTONIC_RAW, &b);
	return (t1 - t0) / ((b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6);
#else
	return 0;
#endif
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "seconds", required_argument, 0, 's' },
		{ "reps", required_argument, 0, 'r' },
		{ "count", required_argument, 0, 'c' },
		{ "bytes", required_argument, 0, 'b' },
		{ "batch", required_argument, 0, 'B' },
		{ "json", no_argument, 0, 'j' },
		{ "tsc-khz", no_argument, 0, 't' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 }
	};
	struct opts o = { .seconds = 1, .reps = 3, .count = 256, .bytes = 64 };
	struct result runs[16], med[NR_BATCHES][K_COUNT];
	char cpu[256];
	int c, k, i;
	unsigned bi;

	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 's': o.seconds = atof(optarg); break;
		case 'r': o.reps = atoi(optarg); break;
		case 'c': o.count = strtoul(optarg, NULL, 0); break;
		case 'b': o.bytes = strtoul(optarg, NULL, 0) / 8 * 8; break;
		case 'B': o.batch = strtoul(optarg, NULL, 0); break;
		case 'j': o.json = true; break;
		case 't': printf("%.0f\n", tsc_khz()); return 0;
		case 'h':
			printf("Usage: ring-host [--seconds S] [--reps N] [--count BUFFERS] "
			       "[--bytes B] [--batch N] [--json] | --tsc-khz\n");
			return 0;
		default:
			return 2;
		}
	}
	if (o.reps < 1 || o.reps > 16 || !o.count || o.count > LRING_MAX_BUFFERS ||
	    o.batch > o.count)
		return 2;

	/* Interleave the contenders, so that a slow spell of the host hits
	 * each of them alike. */
	{
		static struct result all[NR_BATCHES][K_COUNT][16];

		for (i = 0; i < o.reps; i++)
			for (bi = 0; bi < NR_BATCHES; bi++)
				for (k = 0; k < K_COUNT; k++)
					if (want(&o, k, bi))
						run_one(&o, k, batch_of(&o, bi), &all[bi][k][i]);
		for (bi = 0; bi < NR_BATCHES; bi++)
			for (k = 0; k < K_COUNT; k++) {
				memcpy(runs, all[bi][k], o.reps * sizeof(runs[0]));
				qsort(runs, o.reps, sizeof(runs[0]), cmp_ns);
				med[bi][k] = runs[o.reps / 2];
			}
	}

	if (o.json) {
		struct bench_json j = { .f = stdout, .first = 1 };

		fputs("{", stdout);
		bench_json_open(&j, "machine", '{');
		bench_json_str(&j, "cpu", bench_cpu_model(cpu, sizeof(cpu)));
		bench_json_u64(&j, "cpus", (uint64_t)sysconf(_SC_NPROCESSORS_ONLN));
		bench_json_close(&j, '}');
		bench_json_open(&j, "config", '{');
		bench_json_num(&j, "seconds", o.seconds);
		bench_json_u64(&j, "reps", o.reps);
		bench_json_u64(&j, "buf_count", o.count);
		bench_json_u64(&j, "bytes", o.bytes);
		bench_json_close(&j, '}');
		bench_json_open(&j, "results", '[');
		for (bi = 0; bi < NR_BATCHES; bi++)
			for (k = 0; k < K_COUNT; k++) {
				struct result *r = &med[bi][k];

				if (!want(&o, k, bi))
					continue;
				bench_json_open(&j, NULL, '{');
				bench_json_str(&j, "contender", kind_names[k]);
				bench_json_u64(&j, "batch", batch_of(&o, bi));
				bench_json_num(&j, "ns_per_buf", r->ns_per_buf);
				bench_json_num(&j, "bufs_per_s", r->buffers / r->seconds);
				bench_json_num(&j, "vs_bare", r->ns_per_buf / med[bi][K_BARE].ns_per_buf);
				bench_json_num(&j, "vs_bare_ts",
					       r->ns_per_buf / med[bi][K_BARE_TS].ns_per_buf);
				bench_json_num(&j, "syscalls_per_buf", (double)r->syscalls / r->buffers);
				bench_json_num(&j, "kicks_per_buf", (double)r->kicks / r->buffers);
				bench_json_num(&j, "consumer_cpu_util", r->cons_cpu / r->seconds);
				bench_json_num(&j, "producer_cpu_util", r->prod_cpu / r->seconds);
				bench_json_u64(&j, "buffers", r->buffers);
				bench_json_close(&j, '}');
			}
		bench_json_close(&j, ']');
		fputs("\n}\n", stdout);
		return 0;
	}
	printf("Host hand-off: %u buffers, %u bytes written and read per buffer, "
	       "median of %d x %.1f s, producer CPU 0, consumer CPU 1\n",
	       o.count, o.bytes, o.reps, o.seconds);
	printf("%-10s %5s %10s %12s %8s %8s %10s %10s\n", "contender", "batch",
	       "ns/buf", "buf/s", "x bare", "x bare-ts", "sys/buf", "kicks/buf");
	for (bi = 0; bi < NR_BATCHES; bi++)
		for (k = 0; k < K_COUNT; k++) {
			struct result *r = &med[bi][k];

			if (!want(&o, k, bi))
				continue;
			printf("%-10s %5u %10.1f %12.0f %8.2f %8.2f %10.4f %10.4f\n",
			       kind_names[k], batch_of(&o, bi), r->ns_per_buf,
			       r->buffers / r->seconds,
			       r->ns_per_buf / med[bi][K_BARE].ns_per_buf,
			       r->ns_per_buf / med[bi][K_BARE_TS].ns_per_buf,
			       (double)r->syscalls / r->buffers,
			       (double)r->kicks / r->buffers);
		}
	return 0;
}
