// SPDX-License-Identifier: GPL-2.0
/*
 * soak - a million buffers through several simulated rings at once, every
 * byte verified, with consumers killed and restarted all along.
 *
 *   soak [--buffers N] [--rings a,b,c,d] [--seed S] [--buf-size B]
 *
 * Each ring has a supervisor process that runs consumer processes one after
 * another until the ring's share of N verified buffers is reached. A
 * consumer streams and verifies every byte, sequence number and length, and
 * writes its progress to shared memory as it goes. Three kinds of rounds:
 *
 *   clean   the consumer opens, configures and maps the ring itself,
 *           streams a random number of buffers, stops, and checks that
 *           delivered + dropped == produced and that it saw every delivered
 *           block; then it exits.
 *   kill    the same consumer, SIGKILLed at a random moment; the next one
 *           must be able to open the ring again (its file is released once
 *           the process is gone).
 *   held    the supervisor opens, configures and maps the ring and forks a
 *           consumer that inherits them; the consumer is SIGKILLed at a
 *           random moment, and the supervisor, still holding the ring,
 *           stops it and checks the books exactly: produced == delivered +
 *           dropped, and delivered == what the dead consumer verified plus
 *           the completions it had not yet taken.
 *
 * One ring (the last) runs at a fixed rate with few buffers, so it drops
 * now and then; the gaps its consumers see must add up to its drop counter.
 * Figures (buffers, bytes, kills, rounds, time) are printed at the end.
 */
#include "ktest.h"

#include <signal.h>
#include <sys/wait.h>

#define MAX_RINGS	8

/* What one consumer process reports, in shared memory. */
struct progress {
	struct ktest_stream s;
	struct lring_counters c;	/* at the end of a clean round */
	uint32_t released;		/* completions taken off the ring */
	int phase;			/* 1 streaming, 2 done */
	int err;			/* why set-up failed: -errno */
	const char *step;		/* ... and where */
};

struct ring_soak {
	int ring;
	bool dropping;		/* the rate-limited ring */
	uint64_t seed;
	uint64_t target;
	uint32_t buf_size;
	struct progress *p;	/* shared with the consumer */
	/* totals */
	uint64_t buffers, bytes, gaps, dropped, rounds, kills, held_kills;
	uint64_t bad;		/* consumers with a wrong byte, seq or length */
	uint64_t unbalanced;	/* rounds whose books did not balance */
	uint64_t reopen_fail;
	uint64_t rnd;
};

static uint64_t rnd(struct ring_soak *r)
{
	r->rnd ^= r->rnd << 13;
	r->rnd ^= r->rnd >> 7;
	r->rnd ^= r->rnd << 17;
	return r->rnd;
}

static int sim_params(const struct ring_soak *r, uint64_t seed)
{
	int ret;

	if ((ret = ktest_sim_set(r->ring, "rate", r->dropping ? 20000 : 0)) ||
	    (ret = ktest_sim_set(r->ring, "block_size", 0)))
		return ret;
	return ktest_sim_set(r->ring, "seed", seed);
}

static struct lring_config soak_config(const struct ring_soak *r)
{
	return (struct lring_config){
		.buf_count = r->dropping ? 8 : 32,
		.buf_size = r->buf_size,
		.backend = r->ring & 1 ? LRING_BACKEND_STREAMING : LRING_BACKEND_COHERENT,
		/* Indices wrap past 2^32 in the first rounds. */
		.index_base = 0xffffffffu - 20000,
	};
}

/* Consumes until @count buffers (0: forever), publishing progress. */
static void consume(struct lring *r, struct progress *p, uint64_t count)
{
	while (!count || p->s.buffers < count) {
		unsigned n = ktest_consume(r, &p->s, 64);

		p->released += n;
		if (!n)
			sched_yield();
	}
}

/* A consumer that owns the ring: opens, configures, streams, verifies. */
static void consumer_own(struct ring_soak *rs, uint64_t seed, uint64_t count)
{
	struct lring_config cfg = soak_config(rs);
	struct progress *p = rs->p;
	struct lring *r;
	char path[32];
	int i, ret = -EBUSY;

	ktest_dev_path(rs->ring, path, sizeof(path));
	/* The previous consumer's file goes away when its process is reaped. */
	for (i = 0; i < 500 && ret == -EBUSY; i++) {
		ret = lring_open(path, &r);
		if (ret == -EBUSY)
			ktest_sleep_ms(10);
	}
	p->step = "open";
	if (!ret) {
		p->step = "sim parameters";
		ret = sim_params(rs, seed);
	}
	if (!ret) {
		p->step = "configure";
		ret = lring_configure(r, &cfg);
	}
	if (ret) {
		p->err = ret;
		_exit(3);
	}
	p->phase = 1;
	lring_start(r);
	consume(r, p, count);
	lring_stop(r);
	while (ktest_consume(r, &p->s, 256))
		;
	if (ioctl(r->fd, LRING_IOC_GET_COUNTERS, &p->c))
		_exit(4);
	p->phase = 2;
	lring_close(r);
	_exit(0);
}

static void add_stream(struct ring_soak *rs, const struct ktest_stream *s)
{
	rs->buffers += s->buffers;
	rs->bytes += s->bytes;
	rs->gaps += s->gaps;
	if (s->bad_data || s->bad_seq || s->bad_len) {
		ktest_diag("ring %d: consumer saw %llu bad blocks, %llu seq breaks, %llu bad lengths",
			   rs->ring, (unsigned long long)s->bad_data,
			   (unsigned long long)s->bad_seq, (unsigned long long)s->bad_len);
		rs->bad++;
	}
}

static void new_stream(struct ring_soak *rs, uint64_t seed)
{
	memset(rs->p, 0, sizeof(*rs->p));
	rs->p->s = (struct ktest_stream){ .seed = seed, .expect_len = rs->buf_size,
					  .shuffle = true, .seed_rng = (unsigned)seed };
}

/* clean and kill rounds: the consumer owns the ring. */
static void round_own(struct ring_soak *rs, bool kill_it)
{
	uint64_t seed = rnd(rs), count = 2000 + rnd(rs) % 20000;
	int status;
	pid_t pid;

	new_stream(rs, seed);
	pid = fork();
	if (pid == 0)
		consumer_own(rs, seed, count);
	if (kill_it) {
		ktest_sleep_ms(20 + rnd(rs) % 400);
		kill(pid, SIGKILL);
	}
	waitpid(pid, &status, 0);
	add_stream(rs, &rs->p->s);
	if (kill_it && WIFSIGNALED(status)) {
		rs->kills++;
		return;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) || rs->p->phase != 2) {
		ktest_diag("ring %d: consumer ended with status %#x (%s: %s)", rs->ring, status,
			   rs->p->step ? rs->p->step : "-", strerror(-rs->p->err));
		rs->reopen_fail++;
		return;
	}
	{
		const struct lring_counters *c = &rs->p->c;
		const struct ktest_stream *s = &rs->p->s;
		uint64_t trailing = c->produced - s->next_seq;

		rs->dropped += c->dropped;
		if (c->produced != c->delivered + c->dropped || c->delivered != s->buffers ||
		    s->gaps + trailing != c->dropped || (!rs->dropping && c->dropped)) {
			ktest_diag("ring %d: produced %llu delivered %llu dropped %llu, seen %llu, "
				   "gaps %llu + trailing %llu", rs->ring,
				   (unsigned long long)c->produced,
				   (unsigned long long)c->delivered,
				   (unsigned long long)c->dropped,
				   (unsigned long long)s->buffers,
				   (unsigned long long)s->gaps, (unsigned long long)trailing);
			rs->unbalanced++;
		}
	}
}

/* held round: the supervisor holds the ring; the consumer is killed. */
static void round_held(struct ring_soak *rs)
{
	uint64_t seed = rnd(rs);
	struct lring_counters c;
	struct lring *r = NULL;
	uint32_t waiting, taken;
	int status, i, ret = -EBUSY;
	pid_t pid;

	for (i = 0; i < 500 && ret == -EBUSY; i++) {
		struct lring_config cfg = soak_config(rs);
		char path[32];

		ktest_dev_path(rs->ring, path, sizeof(path));
		ret = lring_open(path, &r);
		if (!ret && !(ret = sim_params(rs, seed)))
			ret = lring_configure(r, &cfg);
		if (ret && r) {
			lring_close(r);
			r = NULL;
		}
		if (ret == -EBUSY)
			ktest_sleep_ms(10);
	}
	if (ret) {
		ktest_diag("ring %d: supervisor cannot set the ring up: %s", rs->ring,
			   lring_strerror(ret));
		rs->reopen_fail++;
		return;
	}
	new_stream(rs, seed);
	lring_start(r);
	pid = fork();
	if (pid == 0) {
		consume(r, rs->p, 0);
		_exit(0);
	}
	ktest_sleep_ms(20 + rnd(rs) % 400);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	rs->kills++;
	rs->held_kills++;
	lring_stop(r);
	ioctl(r->fd, LRING_IOC_GET_COUNTERS, &c);
	add_stream(rs, &rs->p->s);
	rs->dropped += c.dropped;
	/*
	 * The dead consumer verified a batch, released it to the kernel, then
	 * counted it in s.buffers and then in p->released; it may have died
	 * anywhere in between. What it had not taken still waits on the ring.
	 */
	taken = *r->cq_consumer - soak_config(rs).index_base;
	waiting = lring_load_acquire(r->cq_producer) - *r->cq_consumer;
	if (c.produced != c.delivered + c.dropped || c.delivered != (uint64_t)taken + waiting ||
	    rs->p->released > rs->p->s.buffers || rs->p->s.buffers > taken ||
	    taken > rs->p->released + 64) {
		ktest_diag("ring %d held: produced %llu delivered %llu dropped %llu, verified %llu "
			   "released %u taken %u waiting %u", rs->ring,
			   (unsigned long long)c.produced,
			   (unsigned long long)c.delivered, (unsigned long long)c.dropped,
			   (unsigned long long)rs->p->s.buffers, rs->p->released, taken, waiting);
		rs->unbalanced++;
	}
	lring_close(r);
}

static void *supervisor(void *arg)
{
	struct ring_soak *rs = arg;

	while (rs->buffers < rs->target) {
		unsigned kind = rnd(rs) % 3;

		rs->rounds++;
		if (kind == 2)
			round_held(rs);
		else
			round_own(rs, kind == 1);
		if (rs->reopen_fail > 3)
			break;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	uint64_t total = 1000000, seed = 1, t0, all = 0, bytes = 0, kills = 0;
	int rings[MAX_RINGS] = { 0, 1, 2, 3 }, nrings = 4, i;
	uint32_t buf_size = 256;
	struct ring_soak *rs;
	pid_t pids[MAX_RINGS];
	double secs;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--buffers") && i + 1 < argc) {
			total = strtoull(argv[++i], NULL, 0);
		} else if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
			seed = strtoull(argv[++i], NULL, 0);
		} else if (!strcmp(argv[i], "--buf-size") && i + 1 < argc) {
			buf_size = (uint32_t)strtoul(argv[++i], NULL, 0);
		} else if (!strcmp(argv[i], "--rings") && i + 1 < argc) {
			char *p = argv[++i];

			for (nrings = 0; *p && nrings < MAX_RINGS; ) {
				rings[nrings++] = (int)strtol(p, &p, 0);
				if (*p != ',')
					break;
				p++;
			}
		} else {
			fprintf(stderr, "usage: soak [--buffers N] [--rings a,b] [--seed S] "
				"[--buf-size B]\n");
			return 2;
		}
	}
	ktest_diag("soak: %llu buffers of %u bytes through %d rings, seed %llu",
		   (unsigned long long)total, buf_size, nrings, (unsigned long long)seed);
	rs = mmap(NULL, sizeof(*rs) * MAX_RINGS, PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (rs == MAP_FAILED)
		return 1;
	t0 = ktest_now_ns();
	for (i = 0; i < nrings; i++) {
		rs[i] = (struct ring_soak){
			.ring = rings[i], .dropping = nrings > 1 && i == nrings - 1,
			.target = (total + nrings - 1) / nrings, .buf_size = buf_size,
			.rnd = seed * 0x9e3779b97f4a7c15ull + i + 1,
		};
		rs[i].p = mmap(NULL, sizeof(struct progress), PROT_READ | PROT_WRITE,
			       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		/*
		 * A process per ring, not a thread: a consumer forked from one
		 * ring's supervisor must not inherit another ring's file and
		 * mapping, which would keep that ring busy while it lives.
		 */
		pids[i] = fork();
		if (pids[i] == 0) {
			supervisor(&rs[i]);
			_exit(0);
		}
	}
	for (i = 0; i < nrings; i++)
		waitpid(pids[i], NULL, 0);
	secs = (ktest_now_ns() - t0) / 1e9;
	for (i = 0; i < nrings; i++) {
		struct ring_soak *r = &rs[i];

		ktest_diag("ring %d%s: %llu buffers, %llu bytes, %llu rounds, %llu kills "
			   "(%llu with the ring held), %llu dropped, %llu gaps seen", r->ring,
			   r->dropping ? " (rate 20000/s, 8 buffers)" : "",
			   (unsigned long long)r->buffers, (unsigned long long)r->bytes,
			   (unsigned long long)r->rounds, (unsigned long long)r->kills,
			   (unsigned long long)r->held_kills, (unsigned long long)r->dropped,
			   (unsigned long long)r->gaps);
		ktest_ok(r->buffers >= r->target, "soak ring %d: %llu of %llu buffers verified",
			 r->ring, (unsigned long long)r->buffers, (unsigned long long)r->target);
		ktest_ok(!r->bad, "soak ring %d: every byte, sequence number and length right "
			 "(%llu consumers saw a fault)", r->ring, (unsigned long long)r->bad);
		ktest_ok(!r->unbalanced, "soak ring %d: books balance exactly in every round "
			 "(%llu did not)", r->ring, (unsigned long long)r->unbalanced);
		ktest_ok(!r->reopen_fail, "soak ring %d: the ring opens again after every kill "
			 "(%llu failures)", r->ring, (unsigned long long)r->reopen_fail);
		all += r->buffers;
		bytes += r->bytes;
		kills += r->kills;
	}
	ktest_ok(all >= total, "soak: %llu buffers (%llu bytes) verified in %.1f s, "
		 "%llu consumers killed", (unsigned long long)all, (unsigned long long)bytes,
		 secs, (unsigned long long)kills);
	return ktest_exit();
}
