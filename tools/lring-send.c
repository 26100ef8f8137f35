// SPDX-License-Identifier: MIT
/*
 * lring-send - send stdin or a file to a ring's device: lring-cat's mirror.
 *
 * The ring is configured to send (LRING_CONFIG_TX). Each block is read from
 * the input straight into a free buffer of the mapped pool (no copy in
 * userspace), then submitted; the last block may be short. While no buffer
 * is free it sleeps on the eventfd. At the end of the input it waits until
 * the device has sent every block (--idle-ms without one sent: stalled),
 * then stops. --verify, on the simulated device, asks the device how many
 * blocks it read and how many differed from its pattern: input that
 * `lring-cat --verify` took from a simulated ring with the same seed and
 * buffer size passes. A progress line goes to stderr when stderr is a
 * terminal; with --json or --verify a summary follows.
 *
 *   lring-cat --dev /dev/lring0 --count 1000 --seed 5 |
 *           lring-send --dev /dev/lring1 --seed 5 --verify
 *   lring-send --dev /dev/lring3 -i waveform.bin --buf-size 1Mi
 */
#define _GNU_SOURCE	/* before any libc header: see common.h */
#include "common.h"

#define USAGE								\
	"[--dev DEV] [-i FILE] [--verify] [--count N] [--bytes N]\n"	\
	"        [--buf-size B] [--buf-count C] "			\
	"[--backend coherent|streaming|block] [--rate R]\n"			\
	"        [--seed X] [--idle-ms MS] [--json]"

#define BATCH 64

/* Reads until @buf is full or the input ends. Return: bytes, or -errno. */
static ssize_t read_full(int fd, uint8_t *buf, size_t size)
{
	size_t got = 0;

	while (got < size) {
		ssize_t n = read(fd, buf + got, size - got);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (!n)
			break;
		got += n;
	}
	return got;
}

static void progress(uint64_t blocks, uint64_t bytes, uint64_t sent,
		     uint64_t t_start, int final)
{
	double secs = (now_ns() - t_start) / 1e9;

	fprintf(stderr, "\r%" PRIu64 " blocks read, %" PRIu64 " sent, %.1f MiB, "
		"%.1f MiB/s%s", blocks, sent, bytes / 1048576.0,
		secs > 0 ? bytes / secs / 1048576 : 0, final ? "\n" : "   ");
}

int main(int argc, char **argv)
{
	struct opts o;
	struct sim_params sp;
	struct lring_counters c;
	struct lring_sqe sqes[BATCH];
	struct summary s;
	struct lring *r;
	uint64_t blocks = 0, bytes = 0, t_start, t_progress, t_last, idle_ns;
	uint64_t last_sent = 0, read_blocks = 0, mismatches = 0;
	uint32_t ids[BATCH];
	int in = STDIN_FILENO, err, eof = 0, stalled = 0, dead = 0, read_err = 0;
	int tty = isatty(STDERR_FILENO);
	unsigned n, i, k;

	parse_opts(&o, argc, argv,
		   OPTBIT(OPT_DEV) | OPTBIT(OPT_INPUT) | OPTBIT(OPT_VERIFY) |
		   OPTBIT(OPT_COUNT) | OPTBIT(OPT_BYTES) |
		   OPTBIT(OPT_BUF_SIZE) | OPTBIT(OPT_BUF_COUNT) |
		   OPTBIT(OPT_BACKEND) | OPTBIT(OPT_RATE) | OPTBIT(OPT_SEED) |
		   OPTBIT(OPT_IDLE_MS) | OPTBIT(OPT_JSON), USAGE);
	if (o.verify < 0)
		o.verify = 0;
	o.config_flags |= LRING_CONFIG_TX;
	if (o.input) {
		in = open(o.input, O_RDONLY | O_CLOEXEC);
		if (in < 0) {
			fprintf(stderr, "%s: %s: %s\n", o.prog, o.input,
				strerror(errno));
			return EXIT_SETUP;
		}
	}

	r = setup_ring(&o, &sp);
	start_ring(&o, r);

	t_start = t_progress = t_last = now_ns();
	idle_ns = (uint64_t)o.idle_ms * 1000000;
	for (;;) {
		lring_counters(r, &c);		/* the control page: no syscall */
		if (c.delivered != last_sent) {
			last_sent = c.delivered;
			t_last = now_ns();
		}
		if (eof && c.delivered + c.cancelled >= blocks)
			break;			/* everything read was sent */
		if (tty && now_ns() - t_progress > 500000000) {
			progress(blocks, bytes, c.delivered, t_start, 0);
			t_progress = now_ns();
		}
		/* Only as many free buffers as there may be blocks left. */
		n = eof ? 0 : lring_take_free(r, o.count && o.count - blocks < BATCH ?
					      o.count - blocks : BATCH, ids);
		for (i = k = 0; i < n && !eof; i++) {
			uint32_t size = lring_buf_size(r);
			ssize_t got;

			if (o.bytes && size > o.bytes - bytes)
				size = o.bytes - bytes;
			got = read_full(in, lring_buf(r, ids[i]), size);
			if (got < 0) {
				fprintf(stderr, "%s: read: %s\n", o.prog,
					strerror((int)-got));
				read_err = 1;
			}
			if (got <= 0) {
				eof = 1;	/* the buffer stays ours, unused */
				break;
			}
			sqes[k++] = (struct lring_sqe){ .buf_id = ids[i],
							.len = (uint32_t)got };
			blocks++;
			bytes += got;
			if ((size_t)got < size || (o.count && blocks >= o.count) ||
			    (o.bytes && bytes >= o.bytes))
				eof = 1;
		}
		err = lring_send(r, sqes, k);	/* a kick only if the device idles */
		if (err) {
			fprintf(stderr, "%s: send: %s\n", o.prog, lring_strerror(err));
			dead = 1;
			break;
		}
		if (n || k)
			continue;
		if (now_ns() - t_last > idle_ns) {
			stalled = 1;
			break;
		}
		err = lring_wait(r, 100);
		if (err < 0 && err != -ETIMEDOUT && err != -EINTR) {
			fprintf(stderr, "%s: wait: %s\n", o.prog, lring_strerror(err));
			dead = 1;
			break;
		}
	}
	if (!dead)
		lring_stop(r);
	lring_counters(r, &c);
	if (o.verify && (sim_read(r, o.dev, "tx_blocks", &read_blocks) ||
			 sim_read(r, o.dev, "tx_mismatches", &mismatches))) {
		fprintf(stderr, "%s: the device does not check what it reads "
			"(not lring_sim?): no --verify\n", o.prog);
		read_err = 1;
	}
	if (tty)
		progress(blocks, bytes, c.delivered, t_start, 1);
	if (stalled)
		fprintf(stderr, "%s: STALLED: nothing sent for %d ms, %" PRIu64
			" of %" PRIu64 " blocks sent\n", o.prog, o.idle_ms,
			(uint64_t)c.delivered, blocks);

	/* The summary goes to stderr, as lring-cat's does. */
	if (o.verify || o.json) {
		int bad = stalled || c.delivered != blocks ||
			  (o.verify && (read_blocks != blocks || mismatches));

		memset(&s, 0, sizeof(s));
		s.json = o.json;
		sum_add(&s, "result", "%s", bad ? "fail" :
			dead || read_err ? "error" : "pass");
		sum_add(&s, "program", "%s", o.prog);
		sum_add(&s, "blocks_read", "%" PRIu64, blocks);
		sum_add(&s, "bytes_read", "%" PRIu64, bytes);
		sum_add(&s, "seconds", "%.3f", (now_ns() - t_start) / 1e9);
		sum_add(&s, "verified", "%d", o.verify);
		sum_add(&s, "device_read", "%" PRIu64, read_blocks);
		sum_add(&s, "device_mismatches", "%" PRIu64, mismatches);
		sum_counters(&s, &c);
		fprintf(stderr, s.json ? "{%s}\n" : "%s\n", s.text);
	}
	lring_close(r);
	if (in != STDIN_FILENO)
		close(in);
	if (dead || read_err)
		return EXIT_SETUP;
	return stalled || c.delivered != blocks ||
	       (o.verify && (read_blocks != blocks || mismatches)) ? EXIT_DATA : 0;
}
