// SPDX-License-Identifier: MIT
/*
 * busy_send - the fastest sender: spin on the completion ring for free
 * buffers, write each block where the device will read it, submit it.
 * No system call per buffer: lring_take_free() and lring_send() only touch
 * shared memory, and lring_send() makes one (a kick) only if the device
 * ran out of blocks to send. It costs a whole CPU.
 *
 *   busy_send [--dev /dev/lring0] [--count N] [--seconds S]
 *             [--buf-size B] [--buf-count C] [--rate R]
 *
 * The ring is configured to send (LRING_CONFIG_TX). On the simulated
 * device (lring_sim) it sets the rate, writes the device's pattern into
 * every block, and at the end asks the device how many blocks it read and
 * how many differed. It ends with one line of key=value pairs (result=
 * pass|fail first). Exit status: 0 all good, 1 a block lost or wrong, 2 a
 * setup error.
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

#define BATCH	64		/* free buffers taken, blocks submitted, per turn */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
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

/* Block @seq of the simulated device's pattern: what its sink expects. */
static void write_block(void *buf, uint32_t len, uint64_t seed, uint64_t seq)
{
	unsigned char *p = buf;
	uint32_t i;

	for (i = 0; i < len; i += 8) {
		uint64_t word = lring_sim_word(seed, seq, i / 8);

		/* little-endian, as x86 and arm */
		memcpy(p + i, &word, len - i < 8 ? len - i : 8);
	}
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
		{ 0 }
	};
	/* tutorial: send-config */
	struct lring_config cfg = { .buf_count = 64, .buf_size = 65536,
				    .flags = LRING_CONFIG_TX };
	/* tutorial-end: send-config */
	const char *dev = "/dev/lring0", *rate = NULL;
	uint64_t count = 10000, submitted = 0, bytes = 0, start, until = UINT64_MAX;
	unsigned long long seed = 0, read = 0, mismatches = 0;
	struct lring_sqe sqes[BATCH];
	unsigned long spins = 0;
	uint32_t ids[BATCH];
	struct lring_counters c;
	double seconds = 0;
	int opt, ret, sim, lost;
	unsigned i, n;
	struct lring *r;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'd': dev = optarg; break;
		case 'n': count = strtoull(optarg, NULL, 0); break;
		case 's': seconds = atof(optarg); count = 0; break;
		case 'b': cfg.buf_size = strtoul(optarg, NULL, 0); break;
		case 'c': cfg.buf_count = strtoul(optarg, NULL, 0); break;
		case 'r': rate = optarg; break;
		default: errx(2, "usage: see the comment at the top of busy_send.c");
		}
	}

	ret = lring_open(dev, &r);
	if (!ret && rate && sim_attr(dev, "rate", rate, NULL))
		errx(2, "%s: no rate attribute: not the simulated device?", dev);
	sim = !sim_attr(dev, "seed", NULL, &seed);
	if (!ret)
		ret = lring_configure(r, &cfg);	/* every buffer now free for us */
	if (ret == -EOPNOTSUPP) {
		/* Coherent memory on a device that does not snoop: uncached. */
		cfg.backend = LRING_BACKEND_STREAMING;
		ret = lring_configure(r, &cfg);
	}
	if (!ret)
		ret = lring_start(r);
	if (ret)
		errx(2, "%s: %s", dev, lring_strerror(ret));

	start = now_ns();
	if (seconds > 0)
		until = start + (uint64_t)(seconds * 1e9);
	/* tutorial: send-loop */
	while (!count || submitted < count) {
		n = lring_take_free(r, BATCH, ids);	/* no syscall */
		if (count && n > count - submitted)
			n = count - submitted;	/* the rest stay free: unused */
		if (!n) {
			/* The clock and the flags now and then only: they cost. */
			if (++spins % 1024)
				continue;
			if (now_ns() >= until || lring_flags(r) & LRING_F_DEAD)
				break;
			continue;
		}
		for (i = 0; i < n; i++) {
			/* Block number `submitted` goes into buffer ids[i], in place. */
			write_block(lring_buf(r, ids[i]), cfg.buf_size, seed, submitted);
			sqes[i].buf_id = ids[i];
			sqes[i].len = cfg.buf_size;
			submitted++;
			bytes += cfg.buf_size;
		}
		ret = lring_send(r, sqes, n);	/* a kick only if the device is idle */
		if (ret)
			errx(2, "send: %s", lring_strerror(ret));
		if (now_ns() >= until)
			break;
	}
	/* tutorial-end: send-loop */
	/* Every block submitted must come back sent: wait for the last ones. */
	while (lring_counters(r, &c) == 0 && c.delivered < submitted &&
	       !(lring_flags(r) & LRING_F_DEAD))
		if (!lring_take_free(r, BATCH, ids))
			lring_wait(r, 100);
	seconds = (now_ns() - start) / 1e9;
	lring_stop(r);
	lring_counters(r, &c);
	if (sim) {
		sim_attr(dev, "tx_blocks", NULL, &read);
		sim_attr(dev, "tx_mismatches", NULL, &mismatches);
	}
	lring_close(r);

	lost = c.delivered != submitted || (sim && read != submitted);
	printf("result=%s blocks=%" PRIu64 " bytes=%" PRIu64 " seconds=%.3f"
	       " sent=%llu rejected=%llu verified=%d read=%llu mismatches=%llu"
	       " kicks=%llu\n",
	       lost || mismatches ? "fail" : "pass", submitted, bytes, seconds,
	       (unsigned long long)c.delivered,
	       (unsigned long long)c.rejected_ids, sim, read, mismatches,
	       (unsigned long long)c.kicks);
	return lost || mismatches ? 1 : 0;
}
