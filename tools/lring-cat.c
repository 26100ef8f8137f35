// SPDX-License-Identifier: MIT
/*
 * lring-cat - stream a ring's data to stdout or a file.
 *
 * Each block is written straight from the mapped buffer (no copy in
 * userspace), then the buffer goes back to the device. Sleeps on the
 * eventfd when the ring is empty. --verify checks the lring_sim pattern and
 * sequence numbers on the way; --count / --bytes / --seconds stop it. A
 * progress line goes to stderr when stderr is a terminal. --copy takes the
 * copying path instead (read() from the unmapped ring), to compare with.
 *
 *   lring-cat --dev /dev/lring0 --bytes 100Mi -o /tmp/data --verify
 *   lring-cat --count 1000 | sha256sum
 */
#define _GNU_SOURCE	/* before any libc header: see common.h */
#include <signal.h>
#include <sys/ioctl.h>

#include "common.h"

#define USAGE								\
	"[--dev DEV] [-o FILE] [--verify] [--count N] [--bytes N] "	\
	"[--seconds T]\n"						\
	"        [--buf-size B] [--buf-count C] "			\
	"[--backend coherent|streaming|block] [--rate R]\n"			\
	"        [--block-size S] [--seed X] [--idle-ms MS] [--json] [--copy]"

#define BATCH 64

/* Write all of @len bytes; 0, or -errno (-EPIPE: the reader went away). */
static int write_all(int fd, const uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= n;
	}
	return 0;
}

static void progress(const struct verifier *v, uint64_t blocks_out,
		     uint64_t bytes_out, uint64_t t_start, int final)
{
	double secs = (now_ns() - t_start) / 1e9;

	fprintf(stderr, "\r%" PRIu64 " blocks, %.1f MiB, %.1f MiB/s, %" PRIu64
		" dropped%s", blocks_out, bytes_out / 1048576.0,
		secs > 0 ? bytes_out / secs / 1048576 : 0, v->gap_blocks,
		final ? "\n" : "   ");
}

/*
 * --copy: the copying path, to compare with: the ring is not mapped, each
 * read() copies a block out of its DMA buffer into this program's buffer,
 * and write() copies it on.
 */
static int cat_copy(const struct opts *o, int out)
{
	struct lring_config cfg = {
		.buf_count = o->buf_count,
		.buf_size = o->buf_size,
		.backend = o->backend,
		.flags = o->config_flags,
	};
	uint64_t bytes = 0, blocks = 0, deadline;
	struct summary s;
	struct lring *r;
	uint8_t *buf;
	int err = 0;

	err = lring_open(o->dev, &r);
	if (err)
		setup_fail(o, "open", err);
	if (ioctl(lring_fd(r), LRING_IOC_CONFIGURE, &cfg))
		setup_fail(o, "configure", -errno);
	set_sim_params(o, r);
	buf = aligned_alloc(4096, (o->buf_size + 4095) / 4096 * 4096);
	if (!buf)
		setup_fail(o, "buffer", -ENOMEM);
	if (ioctl(lring_fd(r), LRING_IOC_START))
		setup_fail(o, "start", -errno);
	deadline = o->seconds ? now_ns() + (uint64_t)(o->seconds * 1e9) : UINT64_MAX;
	while ((!o->bytes || bytes < o->bytes) && (!o->count || blocks < o->count) &&
	       now_ns() < deadline) {
		ssize_t n = read(lring_fd(r), buf, o->buf_size);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n < 0 ? -errno : -ENODEV;
			fprintf(stderr, "%s: read: %s\n", o->prog, lring_strerror(err));
			break;
		}
		if (o->bytes && (uint64_t)n > o->bytes - bytes)
			n = o->bytes - bytes;
		err = write_all(out, buf, n);
		if (err) {
			if (err != -EPIPE)
				fprintf(stderr, "%s: write: %s\n", o->prog, strerror(-err));
			break;
		}
		bytes += n;
		blocks++;
	}
	ioctl(lring_fd(r), LRING_IOC_STOP);
	if (o->json) {
		memset(&s, 0, sizeof(s));
		s.json = 1;
		sum_add(&s, "result", "%s", err && err != -EPIPE ? "error" : "pass");
		sum_add(&s, "program", "%s", o->prog);
		sum_add(&s, "blocks_written", "%" PRIu64, blocks);
		sum_add(&s, "bytes_written", "%" PRIu64, bytes);
		fprintf(stderr, "{%s}\n", s.text);
	}
	free(buf);
	lring_close(r);
	if (out != STDOUT_FILENO && close(out) < 0)
		err = -errno;
	return err && err != -EPIPE ? EXIT_SETUP : 0;
}

int main(int argc, char **argv)
{
	struct opts o;
	struct sim_params sp;
	struct verifier v;
	struct lring_counters c;
	struct summary s;
	struct lring *r;
	uint64_t t_start, t_last, t_progress, deadline, idle_ns;
	uint64_t bytes_out = 0, blocks_out = 0;
	uint32_t ids[BATCH], idx;
	unsigned acct = 0;
	int out = STDOUT_FILENO, err, stalled = 0, dead = 0, done = 0;
	int tty = isatty(STDERR_FILENO);
	int write_err = 0;

	parse_opts(&o, argc, argv,
		   OPTBIT(OPT_DEV) | OPTBIT(OPT_OUTPUT) | OPTBIT(OPT_VERIFY) |
		   OPTBIT(OPT_COUNT) | OPTBIT(OPT_BYTES) |
		   OPTBIT(OPT_SECONDS) | OPTBIT(OPT_BUF_SIZE) |
		   OPTBIT(OPT_BUF_COUNT) | OPTBIT(OPT_BACKEND) |
		   OPTBIT(OPT_RATE) | OPTBIT(OPT_BLOCK_SIZE) |
		   OPTBIT(OPT_SEED) | OPTBIT(OPT_IDLE_MS) | OPTBIT(OPT_JSON) |
		   OPTBIT(OPT_COPY), USAGE);
	if (o.verify < 0)
		o.verify = 0;
	if (o.copy && o.verify)
		die_usage(&o, USAGE, "--copy has no completion entries to verify against");
	if (o.output) {
		out = open(o.output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
			   0644);
		if (out < 0) {
			fprintf(stderr, "%s: %s: %s\n", o.prog, o.output,
				strerror(errno));
			return EXIT_SETUP;
		}
	}
	/* A reader that goes away ends the stream; not an error. */
	signal(SIGPIPE, SIG_IGN);
	if (o.copy)
		return cat_copy(&o, out);

	r = setup_ring(&o, &sp);
	verifier_init(&v, o.prog, o.verify, sp.seed, r->buf_size,
		      o.verify ? sp.block_size : UINT64_MAX);
	start_ring(&o, r);

	t_start = t_last = t_progress = now_ns();
	deadline = o.seconds ? t_start + (uint64_t)(o.seconds * 1e9) : UINT64_MAX;
	idle_ns = (uint64_t)o.idle_ms * 1000000;
	while (!done) {
		unsigned n = lring_peek(r, BATCH, &idx), i;
		uint64_t now = now_ns();

		if (now >= deadline)
			break;
		if (tty && now - t_progress > 500000000) {
			progress(&v, blocks_out, bytes_out, t_start, 0);
			t_progress = now;
		}
		if (!n) {
			if (now - t_last > idle_ns) {
				stalled = 1;
				break;
			}
			err = lring_wait(r, 100);
			if (err < 0 && err != -ETIMEDOUT && err != -EINTR) {
				fprintf(stderr, "%s: wait: %s\n", o.prog,
					lring_strerror(err));
				dead = 1;
				break;
			}
			continue;
		}
		t_last = now;
		for (i = 0; i < n; i++) {
			const struct lring_cqe *cqe = lring_cqe(r, idx + i);
			const uint8_t *p = lring_buf(r, cqe->buf_id);
			uint64_t len = cqe->len;

			ids[i] = cqe->buf_id;
			/* Past the limit blocks are checked, not written. */
			verify_cqe(&v, r, cqe);
			if (done || !p || len > r->buf_size)
				continue;	/* bad ones: the verifier counts */
			if (o.bytes && len > o.bytes - bytes_out)
				len = o.bytes - bytes_out;
			err = write_all(out, p, len);
			if (err) {
				if (err != -EPIPE) {
					fprintf(stderr, "%s: write: %s\n",
						o.prog, strerror(-err));
					write_err = 1;
				}
				done = 1;
				continue;
			}
			bytes_out += len;
			blocks_out++;
			if ((o.bytes && bytes_out >= o.bytes) ||
			    (o.count && blocks_out >= o.count))
				done = 1;
		}
		lring_release(r, n);
		err = lring_return(r, ids, n);
		if (err) {
			fprintf(stderr, "%s: return: %s\n", o.prog,
				lring_strerror(err));
			dead = 1;
			break;
		}
	}

	if (!dead) {
		lring_stop(r);
		drain_ring(r, &v);
		lring_counters(r, &c);
		if (o.verify)
			acct = check_accounting(o.prog, &v, &c);
	} else {
		lring_counters(r, &c);
	}
	if (tty)
		progress(&v, blocks_out, bytes_out, t_start, 1);
	if (stalled)
		fprintf(stderr, "%s: STALLED: no completion for %d ms after %"
			PRIu64 " blocks\n", o.prog, o.idle_ms, blocks_out);
	if (out != STDOUT_FILENO && close(out) < 0) {
		fprintf(stderr, "%s: %s: %s\n", o.prog, o.output,
			strerror(errno));
		write_err = 1;
	}

	/* The summary goes to stderr: stdout may be the data. */
	if (o.verify || o.json) {
		memset(&s, 0, sizeof(s));
		s.json = o.json;
		sum_add(&s, "result", "%s", verifier_errors(&v) || acct ||
			stalled ? "fail" : dead || write_err ? "error" : "pass");
		sum_add(&s, "program", "%s", o.prog);
		sum_add(&s, "blocks_written", "%" PRIu64, blocks_out);
		sum_add(&s, "bytes_written", "%" PRIu64, bytes_out);
		sum_add(&s, "blocks_checked", "%" PRIu64, v.blocks);
		sum_add(&s, "gaps", "%" PRIu64, v.gaps);
		sum_add(&s, "gap_blocks", "%" PRIu64, v.gap_blocks);
		sum_add(&s, "seq_errors", "%" PRIu64, v.seq_errors);
		sum_add(&s, "data_errors", "%" PRIu64, v.data_errors);
		sum_add(&s, "len_errors", "%" PRIu64, v.len_errors);
		sum_add(&s, "accounting_errors", "%u", acct);
		sum_add(&s, "verified", "%d", o.verify);
		sum_counters(&s, &c);
		fprintf(stderr, s.json ? "{%s}\n" : "%s\n", s.text);
	}

	lring_close(r);
	if (dead || write_err)
		return EXIT_SETUP;
	return verifier_errors(&v) || acct || stalled ? EXIT_DATA : 0;
}
