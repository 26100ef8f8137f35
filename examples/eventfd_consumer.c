// SPDX-License-Identifier: MIT
/*
 * eventfd_consumer - the low-CPU consumer: take what the completion ring
 * holds, read each block in place, hand the buffers back, and when the
 * ring is empty sleep on an eventfd the kernel signals once --batch
 * completions wait. While blocks keep coming it makes no system call per
 * buffer; a sleep costs a poll() and a read() of the eventfd, and the
 * batch spreads that over many buffers (bounded by --timeout-ms).
 *
 *   eventfd_consumer [--dev /dev/lring0] [--count N] [--seconds S]
 *                    [--buf-size B] [--buf-count C] [--rate R]
 *                    [--batch N] [--timeout-ms MS]
 *
 * On lring_sim it sets the rate and checks every byte. Its last line is
 * key=value pairs for make demo. Exit: 0 good, 1 bad data, 2 setup error.
 */
#define _GNU_SOURCE
#include <err.h>
#include <getopt.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lring.h>
#include <linux/lring_sim.h>

#define BATCH		64		/* completions taken per peek */
#define SAMPLES		(1 << 16)	/* latency samples kept */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);	/* the clock of cqe->timestamp_ns */
	return (uint64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/*
 * An attribute of the simulated device behind @dev, in sysfs:
 * /sys/class/lring/lringN/device/NAME. Writes if @val is not NULL, reads
 * into @out otherwise. Returns 0, or -1 on a device that has none.
 */
static int sim_attr(const char *dev, const char *name, const char *val,
		    unsigned long long *out)
{
	char path[256], *copy = strdup(dev);
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "/sys/class/lring/%s/device/%s",
		 basename(copy), name);
	free(copy);
	f = fopen(path, val ? "w" : "r");
	if (!f)
		return -1;
	ok = val ? fputs(val, f) >= 0 : fscanf(f, "%llu", out) == 1;
	return fclose(f) == 0 && ok ? 0 : -1;
}

/* Every 64-bit word of block @seq must be the simulated device's word. */
static int block_ok(const void *buf, uint32_t len, uint64_t seed, uint64_t seq)
{
	const unsigned char *p = buf;
	uint32_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		uint64_t want = lring_sim_word(seed, seq, i / 8), got;

		memcpy(&got, p + i, 8);		/* little-endian, as x86 and arm */
		if (got != want)
			return 0;
	}
	return 1;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dev", required_argument, NULL, 'd' },
		{ "count", required_argument, NULL, 'n' },
		{ "seconds", required_argument, NULL, 's' },
		{ "buf-size", required_argument, NULL, 'b' },
		{ "buf-count", required_argument, NULL, 'c' },
		{ "rate", required_argument, NULL, 'r' },
		{ "batch", required_argument, NULL, 'B' },
		{ "timeout-ms", required_argument, NULL, 't' },
		{ 0 }
	};
	struct lring_config cfg = { .buf_count = 64, .buf_size = 65536 };
	const char *dev = "/dev/lring0", *rate = NULL;
	uint64_t count = 10000, blocks = 0, bytes = 0, bad = 0, dropped = 0;
	uint64_t next_seq = 0, start, now, until = UINT64_MAX, *lat;
	unsigned long long seed = 0;
	unsigned long i, n, nlat = 0, batch = 1, sleeps = 0;
	const struct lring_cqe *cqe;
	uint32_t idx, ids[BATCH];
	struct lring_counters c;
	double seconds = 0;
	int opt, ret, verify, timeout_ms = 100;
	struct lring *r;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'd': dev = optarg; break;
		case 'n': count = strtoull(optarg, NULL, 0); break;
		case 's': seconds = atof(optarg); count = 0; break;
		case 'b': cfg.buf_size = strtoul(optarg, NULL, 0); break;
		case 'c': cfg.buf_count = strtoul(optarg, NULL, 0); break;
		case 'r': rate = optarg; break;
		case 'B': batch = strtoul(optarg, NULL, 0); break;
		case 't': timeout_ms = atoi(optarg); break;
		default: errx(2, "usage: see the comment at the top of eventfd_consumer.c");
		}
	}
	lat = malloc(SAMPLES * sizeof(*lat));
	if (!lat)
		err(2, "malloc");

	ret = lring_open(dev, &r);
	if (!ret && rate && sim_attr(dev, "rate", rate, NULL))
		errx(2, "%s: no rate attribute: not the simulated device?", dev);
	verify = !sim_attr(dev, "seed", NULL, &seed);
	if (!ret)
		ret = lring_configure(r, &cfg);		/* allocate and mmap() the pool */
	if (!ret)
		ret = lring_enable_eventfd(r, batch);	/* signal at @batch waiting */
	if (!ret)
		ret = lring_start(r);			/* every buffer to the device */
	if (ret)
		errx(2, "%s: %s", dev, lring_strerror(ret));

	start = now_ns();
	if (seconds > 0)
		until = start + (uint64_t)(seconds * 1e9);
	while (!count || blocks < count) {
		n = lring_peek(r, BATCH, &idx);		/* no syscall */
		if (!n) {
			if (now_ns() >= until)
				break;
			/* Empty: sleep until @batch wait, or the timeout. */
			ret = lring_wait(r, timeout_ms);
			sleeps++;
			if (ret == -ENODEV)
				break;			/* the device went away */
			if (ret < 0 && ret != -ETIMEDOUT && ret != -EINTR)
				errx(2, "wait: %s", lring_strerror(ret));
			continue;
		}
		now = now_ns();
		lring_for_each_cqe(r, idx, n, i, cqe) {
			if (nlat < SAMPLES)
				lat[nlat++] = now - cqe->timestamp_ns;
			if (cqe->flags & LRING_CQE_F_GAP)
				dropped += cqe->dropped;	/* counted, never silent */
			if (cqe->seq != next_seq + ((cqe->flags & LRING_CQE_F_GAP) ?
						    cqe->dropped : 0))
				bad++;				/* a block vanished */
			next_seq = cqe->seq + 1;
			if (verify && !block_ok(lring_buf(r, cqe->buf_id), cqe->len,
						seed, cqe->seq))
				bad++;
			bytes += cqe->len;
		}
		blocks += n;
		lring_cqe_ids(r, idx, n, ids);
		lring_release(r, n);			/* the ring slots */
		ret = lring_return(r, ids, n);		/* the buffers: a kick if dry */
		if (ret)
			errx(2, "return: %s", lring_strerror(ret));
		if (now >= until)
			break;
	}
	seconds = (now_ns() - start) / 1e9;
	lring_stop(r);
	lring_counters(r, &c);
	lring_close(r);

	qsort(lat, nlat, sizeof(*lat), cmp_u64);
	printf("result=%s blocks=%" PRIu64 " bytes=%" PRIu64 " seconds=%.3f"
	       " dropped=%" PRIu64 " bad=%" PRIu64 " verified=%d kicks=%llu"
	       " sleeps=%lu wakeups_per_buf=%.6f"
	       " p50_ns=%" PRIu64 " p99_ns=%" PRIu64 "\n",
	       bad ? "fail" : "pass", blocks, bytes, seconds, dropped, bad,
	       verify, (unsigned long long)c.kicks, sleeps,
	       blocks ? (double)c.eventfd_signals / blocks : 0,
	       nlat ? lat[nlat / 2] : 0, nlat ? lat[nlat * 99 / 100] : 0);
	free(lat);
	return bad ? 1 : 0;
}
