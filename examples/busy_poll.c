// SPDX-License-Identifier: MIT
/*
 * busy_poll - consume a ring by spinning on the completion ring: no
 * syscall per buffer (a kick only when the kernel raised NEED_WAKEUP).
 *
 * Verifies every byte against the lring_sim pattern and that sequence
 * numbers are contiguous except where a completion flags a gap, returns
 * each buffer at once, measures per-buffer latency (CLOCK_MONOTONIC at
 * consumption minus cqe.timestamp_ns), and ends with the kernel's counters,
 * the syscalls each buffer cost, and one key=value (or --json) line.
 *
 *   busy_poll --dev /dev/lring0 --count 100000 --rate 100000 --block-size 4096
 */
#define _GNU_SOURCE	/* before any libc header: see common.h */
#include "common.h"

#define USAGE								\
	"[--dev DEV] [--count N] [--seconds T] [--buf-size B] "		\
	"[--buf-count C]\n"						\
	"        [--backend coherent|streaming] [--rate R] "		\
	"[--block-size S] [--seed X]\n"					\
	"        [--idle-ms MS] [--no-verify] [--json]"

#define BATCH 64

int main(int argc, char **argv)
{
	struct opts o;
	struct sim_params sp;
	struct verifier v;
	struct histogram *lat;
	struct lring_counters c;
	struct summary s;
	struct lring *r;
	uint64_t t_start, t_end, t_last, deadline, idle_ns, spins = 0;
	uint32_t ids[BATCH], idx;
	unsigned acct;
	double secs, syscalls;
	int err, stalled = 0, dead = 0;

	parse_opts(&o, argc, argv,
		   OPTBIT(OPT_DEV) | OPTBIT(OPT_COUNT) | OPTBIT(OPT_SECONDS) |
		   OPTBIT(OPT_BUF_SIZE) | OPTBIT(OPT_BUF_COUNT) |
		   OPTBIT(OPT_BACKEND) | OPTBIT(OPT_RATE) |
		   OPTBIT(OPT_BLOCK_SIZE) | OPTBIT(OPT_SEED) |
		   OPTBIT(OPT_IDLE_MS) | OPTBIT(OPT_NO_VERIFY) |
		   OPTBIT(OPT_JSON), USAGE);
	if (!o.count && !o.seconds)
		o.count = 10000;
	if (o.verify < 0)
		o.verify = 1;
	lat = calloc(1, sizeof(*lat));
	if (!lat)
		return EXIT_SETUP;

	r = setup_ring(&o, &sp);
	verifier_init(&v, o.prog, o.verify, sp.seed, r->buf_size,
		      sp.block_size);
	err = lring_start(r);
	if (err)
		setup_fail(&o, "start", err);

	t_start = t_last = now_ns();
	deadline = o.seconds ? t_start + (uint64_t)(o.seconds * 1e9) : UINT64_MAX;
	idle_ns = (uint64_t)o.idle_ms * 1000000;
	while (!o.count || v.blocks < o.count) {
		unsigned n = lring_peek(r, BATCH, &idx), i;
		uint64_t now;

		if (!n) {
			/* Look at the clock and the flags now and then only. */
			if (++spins % 1024)
				continue;
			now = now_ns();
			if (now >= deadline)
				break;
			if (now - t_last > idle_ns) {
				stalled = 1;
				break;
			}
			if (lring_flags(r) & LRING_F_DEAD) {
				dead = 1;
				break;
			}
			continue;
		}
		now = t_last = now_ns();
		for (i = 0; i < n; i++) {
			const struct lring_cqe *cqe = lring_cqe(r, idx + i);

			hist_add(lat, now > cqe->timestamp_ns ?
				 now - cqe->timestamp_ns : 0);
			verify_cqe(&v, r, cqe);
			ids[i] = cqe->buf_id;
		}
		lring_release(r, n);
		err = lring_return(r, ids, n);
		if (err) {
			fprintf(stderr, "%s: return: %s\n", o.prog,
				lring_strerror(err));
			dead = err == -ENODEV;
			break;
		}
		if (now >= deadline)
			break;
	}
	t_end = now_ns();

	if (!dead) {
		err = lring_stop(r);
		if (err)
			fprintf(stderr, "%s: stop: %s\n", o.prog,
				lring_strerror(err));
		drain_ring(r, &v);
	}
	lring_counters(r, &c);
	acct = dead ? 0 : check_accounting(o.prog, &v, &c);
	secs = (t_end - t_start) / 1e9;
	syscalls = c.delivered ? (double)(c.kicks + c.waits) / c.delivered : 0;

	if (stalled)
		fprintf(stderr, "%s: STALLED: no completion for %d ms after %"
			PRIu64 " blocks\n", o.prog, o.idle_ms, v.blocks);
	if (dead)
		fprintf(stderr, "%s: the device went away\n", o.prog);
	if (!o.json) {
		printf("%s: %s backend=%s buf_size=%u buf_count=%u rate=%" PRIu64
		       " block_size=%" PRIu64 " seed=%" PRIu64 "\n", o.prog, o.dev,
		       backend_name(o.backend), r->buf_size, r->buf_count,
		       sp.rate, sp.block_size, sp.seed);
		printf("received %" PRIu64 " blocks, %" PRIu64 " bytes in %.3f s:"
		       " %.0f blocks/s, %.1f MiB/s\n", v.blocks, v.bytes, secs,
		       secs > 0 ? v.blocks / secs : 0,
		       secs > 0 ? v.bytes / secs / 1048576 : 0);
		printf("gaps %" PRIu64 " (%" PRIu64 " blocks dropped), truncated %"
		       PRIu64 ", device errors %" PRIu64 ", sequence errors %"
		       PRIu64 ", data errors %" PRIu64 "%s\n", v.gaps,
		       v.gap_blocks, v.truncated, v.device_errors, v.seq_errors,
		       v.data_errors, o.verify ? "" : " (data not verified)");
		printf("latency ns: p50=%" PRIu64 " p99=%" PRIu64 " p99.9=%" PRIu64
		       " max=%" PRIu64 " (device completion to consumption)\n",
		       hist_quantile(lat, 0.5), hist_quantile(lat, 0.99),
		       hist_quantile(lat, 0.999), lat->max);
		print_counters(stdout, &c);
		printf("syscalls per buffer: %.6f (kicks %llu + waits %llu over "
		       "%llu delivered)\n", syscalls,
		       (unsigned long long)c.kicks, (unsigned long long)c.waits,
		       (unsigned long long)c.delivered);
	}

	memset(&s, 0, sizeof(s));
	s.json = o.json;
	sum_add(&s, "result", "%s", verifier_errors(&v) || acct || stalled ?
		"fail" : dead ? "error" : "pass");
	sum_add(&s, "program", "%s", o.prog);
	sum_add(&s, "blocks", "%" PRIu64, v.blocks);
	sum_add(&s, "bytes", "%" PRIu64, v.bytes);
	sum_add(&s, "seconds", "%.3f", secs);
	sum_add(&s, "gaps", "%" PRIu64, v.gaps);
	sum_add(&s, "gap_blocks", "%" PRIu64, v.gap_blocks);
	sum_add(&s, "seq_errors", "%" PRIu64, v.seq_errors);
	sum_add(&s, "data_errors", "%" PRIu64, v.data_errors);
	sum_add(&s, "len_errors", "%" PRIu64, v.len_errors);
	sum_add(&s, "accounting_errors", "%u", acct);
	sum_add(&s, "verified", "%d", o.verify);
	sum_add(&s, "p50_ns", "%" PRIu64, hist_quantile(lat, 0.5));
	sum_add(&s, "p99_ns", "%" PRIu64, hist_quantile(lat, 0.99));
	sum_add(&s, "p999_ns", "%" PRIu64, hist_quantile(lat, 0.999));
	sum_add(&s, "max_ns", "%" PRIu64, lat->max);
	sum_counters(&s, &c);
	sum_add(&s, "syscalls_per_buf", "%.6f", syscalls);
	sum_print(&s);

	lring_close(r);
	free(lat);
	if (dead)
		return EXIT_SETUP;
	return verifier_errors(&v) || acct || stalled ? EXIT_DATA : 0;
}
