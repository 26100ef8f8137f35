// SPDX-License-Identifier: MIT
/*
 * eventfd_consumer - consume a ring and sleep when it is empty.
 *
 * Same verification as busy_poll. When lring_peek() finds nothing it
 * sleeps: on the eventfd (lring_wait, default), in poll() on the device
 * (--mode poll) or in LRING_IOC_WAIT (--mode ioctl). --batch N asks the
 * kernel to signal only when N completions wait; --timeout-ms bounds each
 * sleep (and so the latency a batch may add). Reports wakeups per buffer
 * (eventfd_signals / delivered) and its own CPU time (getrusage).
 *
 *   eventfd_consumer --dev /dev/lring0 --count 10000 --rate 1000 --batch 8
 */
#define _GNU_SOURCE	/* before any libc header: see common.h */
#include <sys/resource.h>

#include "common.h"

#define USAGE								\
	"[--dev DEV] [--count N] [--seconds T] [--buf-size B] "		\
	"[--buf-count C]\n"						\
	"        [--backend coherent|streaming] [--rate R] "		\
	"[--block-size S] [--seed X]\n"					\
	"        [--mode eventfd|poll|ioctl] [--batch N] "		\
	"[--timeout-ms MS] [--idle-ms MS]\n"				\
	"        [--no-verify] [--json]"

#define BATCH 64

static double cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

int main(int argc, char **argv)
{
	struct opts o;
	struct sim_params sp;
	struct verifier v;
	struct histogram *lat;
	struct lring_counters c;
	struct summary s;
	struct lring *r;
	uint64_t t_start, t_end, t_last, deadline, idle_ns;
	uint64_t sleeps = 0, timeouts = 0;
	uint32_t ids[BATCH], idx;
	unsigned acct;
	double secs, cpu0, cpu, wakeups;
	int err, stalled = 0, dead = 0;
	char mode = 'e';

	parse_opts(&o, argc, argv,
		   OPTBIT(OPT_DEV) | OPTBIT(OPT_COUNT) | OPTBIT(OPT_SECONDS) |
		   OPTBIT(OPT_BUF_SIZE) | OPTBIT(OPT_BUF_COUNT) |
		   OPTBIT(OPT_BACKEND) | OPTBIT(OPT_RATE) |
		   OPTBIT(OPT_BLOCK_SIZE) | OPTBIT(OPT_SEED) |
		   OPTBIT(OPT_MODE) | OPTBIT(OPT_BATCH) |
		   OPTBIT(OPT_TIMEOUT_MS) | OPTBIT(OPT_IDLE_MS) |
		   OPTBIT(OPT_NO_VERIFY) | OPTBIT(OPT_JSON), USAGE);
	if (!o.count && !o.seconds)
		o.count = 10000;
	if (o.verify < 0)
		o.verify = 1;
	mode = o.mode[0];
	lat = calloc(1, sizeof(*lat));
	if (!lat)
		return EXIT_SETUP;

	r = setup_ring(&o, &sp);
	verifier_init(&v, o.prog, o.verify, sp.seed, r->buf_size,
		      sp.block_size);
	if (mode == 'e') {
		err = lring_enable_eventfd(r, o.batch);
		if (err)
			setup_fail(&o, "enable eventfd", err);
	}
	err = lring_start(r);
	if (err)
		setup_fail(&o, "start", err);

	cpu0 = cpu_seconds();
	t_start = t_last = now_ns();
	deadline = o.seconds ? t_start + (uint64_t)(o.seconds * 1e9) : UINT64_MAX;
	idle_ns = (uint64_t)o.idle_ms * 1000000;
	while (!o.count || v.blocks < o.count) {
		unsigned n = lring_peek(r, BATCH, &idx), i;
		uint64_t now;

		if (!n) {
			now = now_ns();
			if (now >= deadline)
				break;
			if (now - t_last > idle_ns) {
				stalled = 1;
				break;
			}
			sleeps++;
			if (mode == 'i')
				err = lring_wait_ioctl(r, (uint64_t)o.timeout_ms *
						       1000000, o.batch);
			else
				err = lring_wait(r, o.timeout_ms);
			if (err == -ETIMEDOUT || err == -EINTR) {
				timeouts += err == -ETIMEDOUT;
				continue;
			}
			if (err < 0) {
				fprintf(stderr, "%s: wait: %s\n", o.prog,
					lring_strerror(err));
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
			dead = 1;
			break;
		}
	}
	t_end = now_ns();
	cpu = cpu_seconds() - cpu0;

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
	wakeups = c.delivered ? (double)c.eventfd_signals / c.delivered : 0;

	if (stalled)
		fprintf(stderr, "%s: STALLED: no completion for %d ms after %"
			PRIu64 " blocks\n", o.prog, o.idle_ms, v.blocks);
	if (!o.json) {
		printf("%s: %s mode=%s batch=%u backend=%s buf_size=%u "
		       "buf_count=%u rate=%" PRIu64 " block_size=%" PRIu64
		       " seed=%" PRIu64 "\n", o.prog, o.dev, o.mode, o.batch,
		       backend_name(o.backend), r->buf_size, r->buf_count,
		       sp.rate, sp.block_size, sp.seed);
		printf("received %" PRIu64 " blocks, %" PRIu64 " bytes in %.3f s:"
		       " %.0f blocks/s\n", v.blocks, v.bytes, secs,
		       secs > 0 ? v.blocks / secs : 0);
		printf("gaps %" PRIu64 " (%" PRIu64 " blocks dropped), truncated %"
		       PRIu64 ", device errors %" PRIu64 ", sequence errors %"
		       PRIu64 ", data errors %" PRIu64 "%s\n", v.gaps,
		       v.gap_blocks, v.truncated, v.device_errors, v.seq_errors,
		       v.data_errors, o.verify ? "" : " (data not verified)");
		printf("latency ns: p50=%" PRIu64 " p99=%" PRIu64 " p99.9=%" PRIu64
		       " max=%" PRIu64 "\n", hist_quantile(lat, 0.5),
		       hist_quantile(lat, 0.99), hist_quantile(lat, 0.999),
		       lat->max);
		print_counters(stdout, &c);
		printf("sleeps %" PRIu64 " (%" PRIu64 " timed out); eventfd "
		       "wakeups per buffer %.4f; cpu %.3f s (%.1f%% of one CPU, "
		       "%.0f ns per buffer)\n", sleeps, timeouts, wakeups, cpu,
		       secs > 0 ? 100 * cpu / secs : 0,
		       v.blocks ? cpu * 1e9 / v.blocks : 0);
	}

	memset(&s, 0, sizeof(s));
	s.json = o.json;
	sum_add(&s, "result", "%s", verifier_errors(&v) || acct || stalled ?
		"fail" : dead ? "error" : "pass");
	sum_add(&s, "program", "%s", o.prog);
	sum_add(&s, "mode", "%s", o.mode);
	sum_add(&s, "batch", "%u", o.batch);
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
	sum_add(&s, "sleeps", "%" PRIu64, sleeps);
	sum_add(&s, "wakeups_per_buf", "%.6f", wakeups);
	sum_add(&s, "cpu_s", "%.6f", cpu);
	sum_add(&s, "cpu_ns_per_buf", "%.0f", v.blocks ? cpu * 1e9 / v.blocks : 0);
	sum_print(&s);

	lring_close(r);
	free(lat);
	if (dead)
		return EXIT_SETUP;
	return verifier_errors(&v) || acct || stalled ? EXIT_DATA : 0;
}
