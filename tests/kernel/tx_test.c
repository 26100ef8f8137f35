// SPDX-License-Identifier: GPL-2.0
/*
 * tx_test - rings that send (LRING_CONFIG_TX) on the real module, in the
 * test VM, with lring_sim as the sink (lring_sim nr_rings >= 2 loaded).
 * The sink compares every block with the pattern the sender was asked to
 * write and counts the ones that differ (tx_mismatches).
 *
 *   tx_test <subtest> [args]
 *
 * Each subtest prints TAP lines; see main() for the list.
 */
#include "ktest.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>

#define SEED	0x7a11

static struct lring_counters counters(struct lring *r)
{
	struct lring_counters c;

	if (ioctl(lring_fd(r), LRING_IOC_GET_COUNTERS, &c))
		memset(&c, 0xff, sizeof(c));
	return c;
}

static unsigned long long sim_u64(int ring, const char *attr)
{
	char rel[64];

	snprintf(rel, sizeof(rel), "device/%s", attr);
	return (unsigned long long)ktest_sysfs_read(ring, rel);
}

/* Whether sysfs file @rel of ring @ring reads @want (one line). */
static bool sysfs_says(int ring, const char *rel, const char *want)
{
	char path[128], line[64] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/sys/class/lring/lring%d/%s", ring, rel);
	f = fopen(path, "r");
	if (!f)
		return false;
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';
	fclose(f);
	line[strcspn(line, "\n")] = '\0';
	return !strcmp(line, want);
}

/* Block @block of the sink's pattern, @len bytes, into @dst. */
static void write_block(void *dst, uint64_t block, uint32_t len)
{
	ktest_write_block(dst, len, SEED, block);
}

/* A length that is sometimes a whole buffer, often odd, never 0. */
static uint32_t block_len(uint64_t block, uint32_t buf_size)
{
	return block % 4 == 0 ? buf_size : 1 + (uint32_t)(block * 977 % buf_size);
}

static int open_tx(int ring, struct lring **r, uint32_t backend,
		   uint32_t buf_count, uint32_t buf_size, uint32_t rate)
{
	struct lring_config cfg = {
		.buf_count = buf_count,
		.buf_size = buf_size,
		.backend = backend,
		.flags = LRING_CONFIG_TX,
	};
	int ret;

	if ((ret = ktest_sim_set(ring, "rate", rate)) ||
	    (ret = ktest_sim_set(ring, "seed", SEED))) {
		ktest_diag("ring %d: sim parameters: %s", ring, strerror(-ret));
		return ret;
	}
	return ktest_open_configured(ring, r, &cfg);
}

/* The sender's books: what it submitted, in order, and what came back. */
struct sender {
	struct lring *r;
	uint64_t submitted;	/* blocks submitted, the next one's number */
	uint64_t sent;		/* completions seen that were sent */
	uint64_t handed_out;	/* NOT_SENT completions with len 0 */
	uint64_t not_sent;	/* NOT_SENT completions of submitted blocks */
	uint64_t bad_seq, bad_len, bad_flags;
	uint32_t *len_of;	/* submitted length by block number % ring */
	uint32_t *block_of;	/* block number each buffer holds */
	uint32_t *free_ids;
	unsigned nfree;
};

/* Takes what came back: sent blocks are checked, all are free again. */
static void reap(struct sender *s)
{
	const struct lring_cqe *c;
	uint32_t idx;
	unsigned n, i, ring = lring_buf_count(s->r);

	n = lring_peek(s->r, ring, &idx);
	lring_for_each_cqe(s->r, idx, n, i, c) {
		if (c->flags & LRING_CQE_F_NOT_SENT) {
			s->handed_out += c->len == 0;
			s->not_sent += c->len != 0;
			s->bad_seq += c->seq != 0;
		} else {
			uint64_t block = s->block_of[c->buf_id];

			s->bad_seq += c->seq != s->sent || block != s->sent;
			s->bad_len += c->len != s->len_of[block % ring];
			s->bad_flags += c->flags != 0;
			s->sent++;
		}
		s->free_ids[s->nfree++] = c->buf_id;
	}
	lring_release(s->r, n);
}

/* Fills and submits every free buffer, up to @limit blocks in all. */
static int submit_free(struct sender *s, uint64_t limit)
{
	struct lring_sqe sqes[64];
	unsigned n = 0, ring = lring_buf_count(s->r);
	int ret;

	while (s->nfree && s->submitted < limit && n < 64) {
		uint32_t id = s->free_ids[--s->nfree];
		uint32_t len = block_len(s->submitted, lring_buf_size(s->r));

		write_block(lring_buf(s->r, id), s->submitted, len);
		s->len_of[s->submitted % ring] = len;
		s->block_of[id] = (uint32_t)s->submitted++;
		sqes[n++] = (struct lring_sqe){ .buf_id = id, .len = len };
	}
	ret = lring_send(s->r, sqes, n);
	return ret ? ret : (int)n;
}

static bool sender_init(struct sender *s, struct lring *r)
{
	unsigned ring = lring_buf_count(r);

	memset(s, 0, sizeof(*s));
	s->r = r;
	s->len_of = calloc(ring, sizeof(*s->len_of));
	s->block_of = calloc(ring, sizeof(*s->block_of));
	s->free_ids = calloc(ring, sizeof(*s->free_ids));
	return s->len_of && s->block_of && s->free_ids;
}

static void sender_free(struct sender *s)
{
	free(s->len_of);
	free(s->block_of);
	free(s->free_ids);
}

/* Streams @count blocks through the sink; false if it got stuck. */
static bool send_all(struct sender *s, uint64_t count)
{
	uint64_t deadline = ktest_now_ns() + 60ULL * 1000000000;

	while (s->sent < count && ktest_now_ns() < deadline) {
		reap(s);
		if (submit_free(s, count) < 0)
			return false;
		if (!s->nfree && s->sent < count)
			lring_wait(s->r, 100);
	}
	return s->sent == count;
}

static void check_books(struct lring *r, uint64_t submitted, const char *what)
{
	struct lring_counters c = counters(r);

	ktest_ok(c.returned == submitted,
		 "%s: counters.returned counts each block submitted (%llu of %llu)",
		 what, (unsigned long long)c.returned, (unsigned long long)submitted);
	ktest_ok(c.returned == c.delivered + c.cancelled + c.dropped,
		 "%s: submitted %llu == sent %llu + cancelled %llu + dropped %llu",
		 what, (unsigned long long)c.returned, (unsigned long long)c.delivered,
		 (unsigned long long)c.cancelled, (unsigned long long)c.dropped);
	ktest_ok(c.produced == c.delivered && c.dropped == 0,
		 "%s: nothing dropped (produced %llu, delivered %llu, dropped %llu)",
		 what, (unsigned long long)c.produced, (unsigned long long)c.delivered,
		 (unsigned long long)c.dropped);
}

/* The first hand-out: every buffer, once, NOT_SENT with len 0. */
static void check_hand_out(struct sender *s, const char *what)
{
	unsigned count = lring_buf_count(s->r), i, dup = 0;
	uint8_t *seen = calloc(count, 1);

	reap(s);
	for (i = 0; seen && i < s->nfree; i++) {
		dup += s->free_ids[i] >= count || seen[s->free_ids[i]];
		if (s->free_ids[i] < count)
			seen[s->free_ids[i]] = 1;
	}
	ktest_ok(seen && s->nfree == count && s->handed_out == count &&
		 !s->sent && !s->bad_seq && !dup,
		 "%s: configure hands every buffer out once on the completion ring, NOT_SENT, len 0 (%u entries, %u repeated)",
		 what, s->nfree, dup);
	free(seen);
}

/* Every byte of @count blocks of varied lengths reaches the sink, in order. */
static void test_send(int argc, char **argv)
{
	uint32_t backend = argc > 0 && !strcmp(argv[0], "streaming") ?
			   LRING_BACKEND_STREAMING : LRING_BACKEND_COHERENT;
	uint64_t count = argc > 1 ? strtoull(argv[1], NULL, 0) : 10000;
	uint32_t buf_size = argc > 2 ? strtoul(argv[2], NULL, 0) : 4096;
	struct sender s;
	struct lring *r;
	char what[64];

	snprintf(what, sizeof(what), "send %s %u", argc > 0 ? argv[0] : "coherent",
		 buf_size);
	if (!ktest_ok(!open_tx(0, &r, backend, 16, buf_size, 0), "%s: setup", what))
		return;
	ktest_ok(lring_is_tx(r) && (lring_features(r) & LRING_FEAT_TX) &&
		 sysfs_says(0, "direction", "tx"),
		 "%s: the ring says it sends (layout, sysfs), the module offers TX",
		 what);
	if (!sender_init(&s, r))
		goto out;
	check_hand_out(&s, what);
	if (!ktest_ok(!lring_start(r), "%s: start", what))
		goto out;
	ktest_ok(send_all(&s, count), "%s: %llu blocks sent (%llu seen)", what,
		 (unsigned long long)count, (unsigned long long)s.sent);
	lring_stop(r);
	ktest_ok(!s.bad_seq && !s.bad_len && !s.bad_flags,
		 "%s: completions in submission order with seq and len (%llu seq, %llu len, %llu flags wrong)",
		 what, (unsigned long long)s.bad_seq, (unsigned long long)s.bad_len,
		 (unsigned long long)s.bad_flags);
	ktest_ok(sim_u64(0, "tx_blocks") == count,
		 "%s: the sink read %llu blocks", what, sim_u64(0, "tx_blocks"));
	ktest_ok(sim_u64(0, "tx_mismatches") == 0,
		 "%s: every block the sink read matches the pattern (%llu differ)",
		 what, sim_u64(0, "tx_mismatches"));
	check_books(r, count, what);
	ktest_ok(counters(r).cancelled == 0, "%s: nothing cancelled", what);
out:
	sender_free(&s);
	lring_close(r);
}

/*
 * The broken twin of send: a block with one byte changed, and one sent
 * short, must be counted by the sink, or send's zero proves nothing.
 */
static void test_mismatch(int argc, char **argv)
{
	struct lring_sqe sqes[4];
	uint32_t ids[4];
	struct lring *r;
	unsigned i;

	(void)argc;
	(void)argv;
	if (!ktest_ok(!open_tx(0, &r, LRING_BACKEND_STREAMING, 4, 4096, 0),
		      "mismatch: setup"))
		return;
	ktest_ok(lring_take_free(r, 4, ids) == 4, "mismatch: four free buffers");
	for (i = 0; i < 4; i++) {
		write_block(lring_buf(r, ids[i]), i, 4096);
		sqes[i] = (struct lring_sqe){ .buf_id = ids[i], .len = 4096 };
	}
	((uint8_t *)lring_buf(r, ids[1]))[1000] ^= 1;
	write_block(lring_buf(r, ids[3]), 2, 4096);	/* block 2 again */
	lring_start(r);
	ktest_ok(!lring_send(r, sqes, 4), "mismatch: four blocks submitted");
	ktest_ok(ktest_wait_for(sim_u64(0, "tx_blocks") == 4, 5000),
		 "mismatch: the sink read all four");
	lring_stop(r);
	ktest_ok(sim_u64(0, "tx_mismatches") == 2,
		 "mismatch: the flipped byte and the repeated block are counted (%llu of 2)",
		 sim_u64(0, "tx_mismatches"));
	lring_close(r);
}

/* Submits @n raw entries in one go, written in place with lring_sqe(). */
static void submit_raw(struct lring *r, uint32_t id, uint32_t len, unsigned n)
{
	uint32_t idx;
	unsigned i;

	if (lring_fill_reserve(r, n, &idx) == n) {
		for (i = 0; i < n; i++)
			*lring_sqe(r, idx + i) = (struct lring_sqe){ id, len };
		(void)lring_fill_submit(r, n);
	}
}

/* Waits until the kernel has looked at every submission. */
static bool taken(struct lring *r)
{
	return ktest_wait_for(lring_load_acquire(r->fq_consumer) ==
			      lring_load_acquire(r->fq_producer), 2000);
}

/* Each bad submission is a counted rejection, each bad call an errno. */
static void test_bad_input(int argc, char **argv)
{
	struct lring_counters c0, c1;
	struct lring *r, *rx;
	uint32_t ids[8], id = 0;
	char byte;
	int fd;

	(void)argc;
	(void)argv;
	/* 2 blocks/s: a submitted block stays at the device for a while. */
	if (!ktest_ok(!open_tx(0, &r, LRING_BACKEND_STREAMING, 8, 4096, 2),
		      "bad_input: setup"))
		return;
	ktest_ok(lring_take_free(r, 8, ids) == 8, "bad_input: eight free buffers");
	lring_start(r);
	c0 = counters(r);
	submit_raw(r, 8, 100, 1);		/* out of range */
	submit_raw(r, 0xffffffff, 100, 1);	/* out of range */
	submit_raw(r, ids[0], 0, 1);		/* nothing to send */
	submit_raw(r, ids[0], 4097, 1);		/* more than the buffer */
	/* Good, then the same id again, while the first is at the device. */
	submit_raw(r, ids[1], 100, 2);
	ktest_ok(taken(r), "bad_input: the kernel took every submission");
	c1 = counters(r);
	ktest_ok(c1.rejected_ids - c0.rejected_ids == 5 &&
		 c1.returned - c0.returned == 1,
		 "bad_input: ids out of range, len 0, len > buf_size and a double submit are rejected, the good one taken (%llu rejected, %llu taken)",
		 (unsigned long long)(c1.rejected_ids - c0.rejected_ids),
		 (unsigned long long)(c1.returned - c0.returned));
	/* A producer index further than the ring: ignored, counted. */
	c0 = c1;
	lring_store_release(r->fq_producer,
			    lring_load_acquire(r->fq_producer) + 100);
	ioctl(lring_fd(r), LRING_IOC_KICK);
	c1 = counters(r);
	ktest_ok(c1.rejected_indices > c0.rejected_indices &&
		 c1.returned == c0.returned,
		 "bad_input: an impossible submission producer is counted, nothing taken");
	lring_store_release(r->fq_producer,
			    lring_load_acquire(r->fq_producer) - 100);

	ktest_ok(ktest_ioctl_errno(lring_fd(r), LRING_IOC_QBUF, &id) == EOPNOTSUPP,
		 "bad_input: LRING_IOC_QBUF on a TX ring: EOPNOTSUPP");
	ktest_ok(lring_return(r, &id, 1) == -EINVAL,
		 "bad_input: lring_return() on a TX ring: -EINVAL");
	ktest_ok(ktest_child_signal(ktest_write_u32, lring_buf(r, ids[2])) == 0,
		 "bad_input: the application writes a TX pool in place");
	lring_stop(r);
	check_books(r, 1, "bad_input");
	lring_close(r);

	/* read() needs an unmapped ring: a bare file, configured by ioctl. */
	fd = open("/dev/lring0", O_RDWR);
	{
		struct lring_config cfg = { .buf_count = 4, .buf_size = 4096,
					    .backend = LRING_BACKEND_STREAMING,
					    .flags = LRING_CONFIG_TX };
		struct lring_config bad = cfg;

		bad.flags = 1U << 7;
		ktest_ok(ktest_ioctl_errno(fd, LRING_IOC_CONFIGURE, &bad) == EINVAL,
			 "bad_input: an unknown configuration flag: EINVAL");
		ktest_ok(ktest_ioctl_errno(fd, LRING_IOC_CONFIGURE, &cfg) == 0,
			 "bad_input: a bare TX configuration");
		ktest_ok(read(fd, &byte, 1) < 0 && errno == EOPNOTSUPP,
			 "bad_input: read() on a TX ring: EOPNOTSUPP");
	}
	close(fd);

	if (!ktest_ok(!ktest_setup(1, &rx, 4, 4096, LRING_BACKEND_STREAMING,
				   100, 0, 1, 0), "bad_input: an RX ring"))
		return;
	ktest_ok(sysfs_says(1, "direction", "rx"), "bad_input: sysfs says rx");
	ktest_ok(ktest_child_signal(ktest_write_u32, lring_buf(rx, 0)) == SIGBUS,
		 "bad_input: writing an RX pool: SIGBUS");
	{
		struct lring_sqe sqe = { .buf_id = 0, .len = 1 };

		ktest_ok(lring_send(rx, &sqe, 1) == -EINVAL,
			 "bad_input: lring_send() on an RX ring: -EINVAL");
	}
	lring_close(rx);
}

/*
 * STOP with blocks at the device: the unsent come back NOT_SENT with their
 * lengths, the books balance, and resubmitted they are sent after START.
 * A block submitted while stopped waits for START.
 */
static void test_stop_inflight(int argc, char **argv)
{
	struct lring_sqe again[16];
	unsigned n_again = 0, i;
	struct lring_counters c;
	const struct lring_cqe *e;
	struct sender s;
	struct lring *r;
	uint32_t idx;
	unsigned n;

	(void)argc;
	(void)argv;
	/* 20 blocks/s: most of 16 are still queued 200 ms later. */
	if (!ktest_ok(!open_tx(0, &r, LRING_BACKEND_STREAMING, 16, 4096, 20),
		      "stop_inflight: setup"))
		return;
	if (!sender_init(&s, r))
		goto out;
	reap(&s);
	lring_start(r);
	ktest_ok(submit_free(&s, 16) == 16, "stop_inflight: 16 blocks submitted");
	ktest_sleep_ms(200);
	lring_stop(r);
	c = counters(r);
	ktest_ok(c.cancelled > 0 && c.delivered + c.cancelled == 16,
		 "stop_inflight: stop cancels what the device had not read (sent %llu, cancelled %llu)",
		 (unsigned long long)c.delivered, (unsigned long long)c.cancelled);
	check_books(r, 16, "stop_inflight");

	/* Sent ones first, checked; then the NOT_SENT ones, to send again. */
	n = lring_peek(r, 64, &idx);
	lring_for_each_cqe(r, idx, n, i, e) {
		if (!(e->flags & LRING_CQE_F_NOT_SENT)) {
			s.sent++;
			continue;
		}
		s.bad_len += e->len != s.len_of[s.block_of[e->buf_id] % 16];
		again[n_again++] = (struct lring_sqe){ e->buf_id, e->len };
	}
	lring_release(r, n);
	ktest_ok(n == 16 && n_again == c.cancelled && !s.bad_len,
		 "stop_inflight: every block comes back, the unsent with their submitted length (%u back, %u unsent)",
		 n, n_again);
	/* Resubmitted in their original order: the sink expects block s.sent next. */
	for (i = 1; i < n_again; i++) {
		unsigned j = i;

		while (j && s.block_of[again[j - 1].buf_id] > s.block_of[again[j].buf_id]) {
			struct lring_sqe t = again[j];

			again[j] = again[j - 1];
			again[--j] = t;
		}
	}
	ktest_ok(!lring_send(r, again, n_again), "stop_inflight: resubmitted while stopped");
	ktest_sleep_ms(100);
	ktest_ok(counters(r).returned == 16,
		 "stop_inflight: a stopped ring leaves submissions on the ring");
	lring_start(r);
	ktest_ok(ktest_wait_for(lring_cq_ready(r) == (int)n_again, 5000),
		 "stop_inflight: after start, every resubmitted block is sent");
	lring_stop(r);
	ktest_ok(sim_u64(0, "tx_mismatches") == 0 &&
		 sim_u64(0, "tx_blocks") == n_again,
		 "stop_inflight: the sink read them, in order, intact (%llu read, %llu differ)",
		 sim_u64(0, "tx_blocks"), sim_u64(0, "tx_mismatches"));
	c = counters(r);
	ktest_ok(c.delivered == 16 && c.returned == 16 + n_again,
		 "stop_inflight: 16 sent in all, each exactly once (sent %llu, submitted %llu)",
		 (unsigned long long)c.delivered, (unsigned long long)c.returned);
out:
	sender_free(&s);
	lring_close(r);
}

/*
 * A sink that ran dry raises NEED_WAKEUP; the next lring_send() kicks
 * once. A sender with no free buffer sleeps until one is, woken by the
 * eventfd, and poll() says POLLOUT.
 */
static void test_wakeups(int argc, char **argv)
{
	struct lring_counters c0, c1;
	struct lring_sqe sqe;
	struct pollfd p;
	uint32_t ids[4];
	struct lring *r;
	int ret;

	(void)argc;
	(void)argv;
	if (!ktest_ok(!open_tx(0, &r, LRING_BACKEND_STREAMING, 4, 4096, 0),
		      "wakeups: setup"))
		return;
	ktest_ok(lring_take_free(r, 4, ids) == 4, "wakeups: four free buffers");
	lring_start(r);
	/*
	 * The start raises the flag at once, but the sink's thread, once it
	 * runs, polls the submission ring for 2 ms and lowers it meanwhile:
	 * only after that look (slow on a debug kernel) is the flag its own.
	 */
	ktest_sleep_ms(300);
	ktest_ok(ktest_wait_for(lring_needs_wakeup(r), 2000),
		 "wakeups: a sink with nothing to send raises NEED_WAKEUP");
	c0 = counters(r);
	write_block(lring_buf(r, ids[0]), 0, 512);
	sqe = (struct lring_sqe){ .buf_id = ids[0], .len = 512 };
	ktest_ok(!lring_send(r, &sqe, 1), "wakeups: one block submitted");
	c1 = counters(r);
	ktest_ok(c1.kicks - c0.kicks == 1, "wakeups: the submit kicked once (%llu)",
		 (unsigned long long)(c1.kicks - c0.kicks));
	ktest_ok(ktest_wait_for(lring_cq_ready(r) == 1, 2000),
		 "wakeups: the block comes back sent");
	lring_stop(r);
	lring_close(r);

	/* 5 blocks/s and every buffer submitted: the sender must sleep. */
	if (!ktest_ok(!open_tx(0, &r, LRING_BACKEND_STREAMING, 4, 4096, 5),
		      "wakeups: setup at 5 blocks/s"))
		return;
	lring_enable_eventfd(r, 1);
	lring_take_free(r, 4, ids);
	lring_start(r);
	for (ret = 0; ret < 4; ret++) {
		write_block(lring_buf(r, ids[ret]), ret, 64);
		sqe = (struct lring_sqe){ .buf_id = ids[ret], .len = 64 };
		ktest_ok(!lring_send(r, &sqe, 1), "wakeups: block %d submitted", ret);
	}
	p = (struct pollfd){ .fd = lring_fd(r), .events = POLLOUT };
	ktest_ok(poll(&p, 1, 0) == 0, "wakeups: no free buffer: poll() reports nothing");
	ret = lring_wait(r, 2000);
	ktest_ok(ret > 0, "wakeups: the sender sleeps until a buffer is free (%d)", ret);
	ktest_ok(counters(r).eventfd_signals >= 1, "wakeups: the eventfd woke it");
	ktest_ok(poll(&p, 1, 0) == 1 && (p.revents & POLLOUT),
		 "wakeups: poll() reports POLLOUT with a free buffer");
	lring_stop(r);
	ktest_ok(sim_u64(0, "tx_mismatches") == 0, "wakeups: the sink read them intact");
	lring_close(r);
}

/*
 * The device goes away under a sender that is writing a block: the pool's
 * pages go with it, yet the sender's writes land somewhere harmless (the
 * pool's sink page, never the shared zero page), and calls say ENODEV.
 */
static void test_unplug(int argc, char **argv)
{
	struct lring_sqe sqe = { .buf_id = 0, .len = 8 };
	uint32_t ids[4];
	struct lring *r;

	(void)argc;
	(void)argv;
	if (!ktest_ok(!open_tx(0, &r, LRING_BACKEND_STREAMING, 4, 4096, 100),
		      "unplug: setup"))
		return;
	lring_take_free(r, 4, ids);
	lring_start(r);
	sqe.buf_id = ids[0];
	ktest_ok(!lring_send(r, &sqe, 1), "unplug: a block submitted");
	ktest_ok(system("rmmod lring_sim") == 0,
		 "unplug: the driver unloads under a mapped TX ring");
	ktest_ok(lring_flags(r) & LRING_F_DEAD, "unplug: the control page says DEAD");
	ktest_ok(ktest_child_signal(ktest_write_u32, lring_buf(r, ids[1])) == 0,
		 "unplug: a write to the gone pool does not kill the sender");
	ktest_write_u32(lring_buf(r, ids[1]));
	ktest_ok(*(volatile uint32_t *)lring_buf(r, ids[2]) == 0xdeadbeef,
		 "unplug: the write went to the pool's own sink page, behind every page");
	{
		const uint8_t *zero = mmap(NULL, 4096, PROT_READ,
					   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		ktest_ok(zero != MAP_FAILED && zero[0] == 0,
			 "unplug: the shared zero page still reads zero");
	}
	ktest_ok(lring_kick(r) == -ENODEV, "unplug: a kick says ENODEV");
	lring_close(r);
}

/* Configures ring @ring to send on a bare fd (no mapping), and starts it. */
static int bare_tx(int ring, uint32_t buf_count, uint32_t rate)
{
	struct lring_config cfg = { .buf_count = buf_count, .buf_size = 4096,
				    .backend = ktest_cached_backend(ring),
				    .flags = LRING_CONFIG_TX };
	char path[32];
	int fd;

	ktest_sim_set(ring, "rate", rate);
	ktest_sim_set(ring, "seed", SEED);
	ktest_dev_path(ring, path, sizeof(path));
	fd = open(path, O_RDWR);
	if (fd >= 0 && (ioctl(fd, LRING_IOC_CONFIGURE, &cfg) ||
			ioctl(fd, LRING_IOC_START))) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/*
 * write(), the copying path: @count blocks of the pattern written with one
 * write() each (and some as one large write()) reach the sink intact; each
 * refusal has its errno, and a write() from a bad pointer submits nothing.
 */
static void test_copy(int argc, char **argv)
{
	uint64_t count = argc > 0 ? strtoull(argv[0], NULL, 0) : 2000, i;
	struct lring_counters c0, c1;
	static uint8_t block[4 * 4096];
	void *none = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct lring *r;
	ssize_t n = 0;
	int fd, flags;

	fd = bare_tx(0, 8, 0);
	if (!ktest_ok(fd >= 0, "copy: a bare TX ring, started"))
		return;
	for (i = 0; i < count; i++) {
		write_block(block, i, 4096);
		n = write(fd, block, 4096);
		if (n != 4096)
			break;
	}
	ktest_ok(i == count, "copy: %llu blocks written, one write() each (%llu, %s)",
		 (unsigned long long)count, (unsigned long long)i,
		 n < 0 ? strerror(errno) : "ok");
	/* One write() of four blocks: four buffers. */
	for (i = 0; i < 4; i++)
		write_block(block + i * 4096, count + i, 4096);
	ktest_ok(write(fd, block, sizeof(block)) == sizeof(block),
		 "copy: one write() of 4 buffers' worth submits it all");
	ioctl(fd, LRING_IOC_GET_COUNTERS, &c0);
	ktest_ok(none != MAP_FAILED && write(fd, none, 4096) < 0 && errno == EFAULT,
		 "copy: a write() from memory that cannot be read: EFAULT");
	ioctl(fd, LRING_IOC_GET_COUNTERS, &c1);
	ktest_ok(c1.returned == c0.returned && c1.rejected_ids == c0.rejected_ids,
		 "copy: and nothing submitted");
	ktest_ok(ktest_wait_for(ktest_sysfs_read(0, "counters/delivered") ==
				(int64_t)count + 4, 10000),
		 "copy: every block sent (%lld of %llu)",
		 (long long)ktest_sysfs_read(0, "counters/delivered"),
		 (unsigned long long)count + 4);
	ioctl(fd, LRING_IOC_STOP);
	ktest_ok(sim_u64(0, "tx_blocks") == count + 4 && sim_u64(0, "tx_mismatches") == 0,
		 "copy: the sink read them all intact (%llu read, %llu differ)",
		 sim_u64(0, "tx_blocks"), sim_u64(0, "tx_mismatches"));
	ktest_ok(write(fd, block, 4096) < 0 && errno == EPIPE,
		 "copy: write() on a stopped ring: EPIPE");
	close(fd);

	/* 1 block/s and 2 buffers: the third non-blocking write() has none. */
	fd = bare_tx(0, 2, 1);
	flags = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	for (i = 0; i < 3; i++)
		n = write(fd, block, 4096);
	ktest_ok(n < 0 && errno == EAGAIN,
		 "copy: O_NONBLOCK with no free buffer: EAGAIN");
	close(fd);

	if (!ktest_ok(!open_tx(0, &r, LRING_BACKEND_STREAMING, 4, 4096, 0),
		      "copy: a mapped TX ring"))
		return;
	lring_start(r);
	ktest_ok(write(lring_fd(r), block, 4096) < 0 && errno == EBUSY,
		 "copy: write() on a mapped ring: EBUSY (the mapping's owner sends)");
	lring_close(r);
	if (!ktest_ok(!ktest_setup(1, &r, 4, 4096, LRING_BACKEND_STREAMING,
				   100, 0, 1, 0), "copy: an RX ring"))
		return;
	ktest_ok(write(lring_fd(r), block, 4096) < 0 && errno == EOPNOTSUPP,
		 "copy: write() on a receiving ring: EOPNOTSUPP");
	lring_close(r);
}

/*
 * The application's own memory as the pool (LRING_BACKEND_USER): blocks
 * written there, where the application already has them, go out intact;
 * write() refuses such a pool.
 */
static void test_user(int argc, char **argv)
{
	size_t len = 8 * 4096;
	uint8_t *mem = mmap(NULL, len, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	struct lring_config cfg = { .buf_count = 8, .buf_size = 4096,
				    .backend = LRING_BACKEND_USER,
				    .flags = LRING_CONFIG_TX,
				    .user_addr = (uintptr_t)mem, .user_len = len };
	uint64_t sent = 0, count = argc > 0 ? strtoull(argv[0], NULL, 0) : 500;
	struct lring_sqe sqes[8];
	uint32_t ids[8];
	struct lring *r;
	unsigned n, i;
	char byte = 0;

	if (!ktest_ok(mem != MAP_FAILED && !ktest_sim_set(0, "rate", 0) &&
		      !ktest_sim_set(0, "seed", SEED) &&
		      !ktest_open_configured(0, &r, &cfg),
		      "user: a TX pool of the application's own memory"))
		return;
	lring_start(r);
	while (sent < count) {
		n = lring_take_free(r, count - sent < 8 ? count - sent : 8, ids);
		for (i = 0; i < n; i++) {
			/* Buffer id i is the i-th page of our own region. */
			write_block(mem + (size_t)ids[i] * 4096, sent++, 4096);
			sqes[i] = (struct lring_sqe){ .buf_id = ids[i], .len = 4096 };
		}
		if (lring_send(r, sqes, n))
			break;
		if (!n && lring_wait(r, 1000) < 0)
			break;
	}
	ktest_ok(ktest_wait_for(ktest_sysfs_read(0, "counters/delivered") ==
				(int64_t)count, 5000),
		 "user: %llu blocks sent from our own memory",
		 (unsigned long long)count);
	ktest_ok(write(lring_fd(r), &byte, 1) < 0 && errno == EOPNOTSUPP,
		 "user: write() refuses a user-memory pool: EOPNOTSUPP");
	lring_stop(r);
	ktest_ok(sim_u64(0, "tx_blocks") == count && sim_u64(0, "tx_mismatches") == 0,
		 "user: the sink read them intact (%llu read, %llu differ)",
		 sim_u64(0, "tx_blocks"), sim_u64(0, "tx_mismatches"));
	lring_close(r);
	munmap(mem, len);
}

/*
 * A sender killed with blocks in flight: the ring is free again at once,
 * its pool's memory goes back, and the next sender finds every buffer.
 */
static void test_kill(int argc, char **argv)
{
	int go[2], status;
	pid_t pid;
	char c;

	(void)argc;
	(void)argv;
	if (pipe(go))
		return;
	pid = fork();
	if (pid == 0) {
		struct lring_sqe sqes[16];
		uint32_t ids[16];
		struct lring *r;
		unsigned n, i;

		if (open_tx(0, &r, LRING_BACKEND_STREAMING, 16, 65536, 5))
			_exit(1);
		lring_start(r);
		n = lring_take_free(r, 16, ids);
		for (i = 0; i < n; i++)
			sqes[i] = (struct lring_sqe){ .buf_id = ids[i], .len = 65536 };
		if (lring_send(r, sqes, n))
			_exit(1);
		if (write(go[1], "g", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	ktest_ok(read(go[0], &c, 1) == 1, "kill: a sender with 16 blocks in flight");
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	ktest_ok(WIFSIGNALED(status), "kill: killed with SIGKILL");
	/* Every pool's pages, as debugfs counts them: none left. */
	if (access("/sys/kernel/debug/lring/kernel_pages", R_OK))
		ktest_ok(true, "kill: pool pages freed # SKIP no debugfs");
	else
		ktest_ok(ktest_wait_for(ktest_kernel_pages() == 0, 5000),
			 "kill: the pool's memory went back (%ld pages left)",
			 ktest_kernel_pages());
	{
		struct lring *r;
		uint32_t ids[32];

		ktest_ok(!open_tx(0, &r, LRING_BACKEND_STREAMING, 32, 4096, 0),
			 "kill: the ring opens and configures again");
		ktest_ok(r && lring_take_free(r, 32, ids) == 32,
			 "kill: the next sender finds every buffer free");
		if (r)
			lring_close(r);
	}
	close(go[0]);
	close(go[1]);
}

static const struct ktest_subtest tests[] = {
	{ "send", test_send },
	{ "mismatch", test_mismatch },
	{ "bad_input", test_bad_input },
	{ "stop_inflight", test_stop_inflight },
	{ "wakeups", test_wakeups },
	{ "copy", test_copy },
	{ "user", test_user },
	{ "kill", test_kill },
	{ "unplug", test_unplug },
};

int main(int argc, char **argv)
{
	return ktest_main(KTEST_SUBTESTS(tests), argc, argv);
}
