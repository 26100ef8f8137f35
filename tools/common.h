/* SPDX-License-Identifier: MIT */
/*
 * common.h - what lring-cat and lring-send need beyond liblring:
 * options, setting up a simulated ring through liblring and sysfs,
 * checking the lring_sim data pattern and sequence numbers, latency
 * percentiles and the final report.
 *
 * Not part of liblring: the pattern and the sysfs attributes belong to the
 * simulated device, the report format to these programs. The examples in
 * examples/ do not use it: each is meant to be read alone.
 *
 * Exit codes of every tool: 0 everything verified, 1 a data, sequence,
 * length or accounting error or a stall (the first error of each kind is
 * printed; for data: buffer, offset, expected and got byte), 2 usage or
 * setup error.
 */
#ifndef LRING_TOOLS_COMMON_H
#define LRING_TOOLS_COMMON_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include <lring.h>
#include <linux/lring_sim.h>

#define EXIT_DATA	1
#define EXIT_SETUP	2

/* ---- time ----------------------------------------------------------------- */

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);	/* vDSO: no syscall */
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* ---- options -------------------------------------------------------------- */

enum opt_id {
	OPT_DEV = 256, OPT_COUNT, OPT_BYTES, OPT_BUF_SIZE, OPT_BUF_COUNT,
	OPT_BACKEND, OPT_RATE, OPT_BLOCK_SIZE, OPT_SEED, OPT_SECONDS,
	OPT_JSON, OPT_NO_VERIFY, OPT_VERIFY, OPT_BATCH, OPT_MODE,
	OPT_TIMEOUT_MS, OPT_IDLE_MS, OPT_OUTPUT, OPT_INPUT, OPT_COPY, OPT_HELP,
};

/* Which options a program accepts: bits of (1ull << (id - OPT_DEV)). */
#define OPTBIT(id)	(1ull << ((id) - OPT_DEV))

struct opts {
	const char *prog;
	const char *dev;
	uint64_t count;		/* blocks to consume, 0 = no limit */
	uint64_t bytes;		/* bytes to consume, 0 = no limit */
	uint32_t buf_size;
	uint32_t buf_count;
	uint32_t backend;
	int64_t rate;		/* -1: leave the device's value */
	int64_t block_size;	/* -1: leave */
	int have_seed;
	uint64_t seed;
	double seconds;		/* 0 = no limit */
	int json;
	int verify;		/* -1 until an option says; programs pick */
	unsigned batch;		/* eventfd / wait threshold */
	const char *mode;	/* eventfd | poll | ioctl */
	int timeout_ms;		/* one wait's timeout */
	int idle_ms;		/* no completion for this long: stalled */
	const char *output;
	const char *input;
	uint32_t config_flags;	/* lring_config.flags: TX, ONE_BLOCK */
	int copy;		/* the copying path: read() or write(), no mapping */
};

static const struct option all_options[] = {
	{ "dev", required_argument, NULL, OPT_DEV },
	{ "count", required_argument, NULL, OPT_COUNT },
	{ "bytes", required_argument, NULL, OPT_BYTES },
	{ "buf-size", required_argument, NULL, OPT_BUF_SIZE },
	{ "buf-count", required_argument, NULL, OPT_BUF_COUNT },
	{ "backend", required_argument, NULL, OPT_BACKEND },
	{ "rate", required_argument, NULL, OPT_RATE },
	{ "block-size", required_argument, NULL, OPT_BLOCK_SIZE },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "seconds", required_argument, NULL, OPT_SECONDS },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "no-verify", no_argument, NULL, OPT_NO_VERIFY },
	{ "verify", no_argument, NULL, OPT_VERIFY },
	{ "batch", required_argument, NULL, OPT_BATCH },
	{ "mode", required_argument, NULL, OPT_MODE },
	{ "timeout-ms", required_argument, NULL, OPT_TIMEOUT_MS },
	{ "idle-ms", required_argument, NULL, OPT_IDLE_MS },
	{ "output", required_argument, NULL, OPT_OUTPUT },
	{ "input", required_argument, NULL, OPT_INPUT },
	{ "copy", no_argument, NULL, OPT_COPY },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

static inline void die_usage(const struct opts *o, const char *usage,
			     const char *fmt, ...)
{
	va_list ap;

	if (fmt) {
		fprintf(stderr, "%s: ", o->prog);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fprintf(stderr, "\n");
	}
	fprintf(stderr, "usage: %s %s\n", o->prog, usage);
	exit(EXIT_SETUP);
}

/* Unsigned number with an optional k/M/G (x1000) or Ki/Mi/Gi suffix. */
static inline int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	uint64_t mul = 1;

	if (!s || !*s || *s == '-')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno)
		return -1;
	if (!strcmp(end, "k") || !strcmp(end, "K"))
		mul = 1000;
	else if (!strcmp(end, "M"))
		mul = 1000000;
	else if (!strcmp(end, "G"))
		mul = 1000000000;
	else if (!strcmp(end, "Ki"))
		mul = 1024;
	else if (!strcmp(end, "Mi"))
		mul = 1024 * 1024;
	else if (!strcmp(end, "Gi"))
		mul = 1024 * 1024 * 1024;
	else if (*end)
		return -1;
	if (v > UINT64_MAX / mul)
		return -1;
	*out = v * mul;
	return 0;
}

static inline uint32_t parse_u32_opt(const struct opts *o, const char *usage,
				     const char *name, const char *s)
{
	uint64_t v;

	if (parse_u64(s, &v) || v > UINT32_MAX)
		die_usage(o, usage, "bad %s '%s'", name, s);
	return (uint32_t)v;
}

/*
 * Parse argv into @o. @allowed selects the options of this program
 * (OPTBIT()s); anything else is a usage error. Defaults are set first.
 */
static inline void parse_opts(struct opts *o, int argc, char **argv,
			      uint64_t allowed, const char *usage)
{
	int c;

	memset(o, 0, sizeof(*o));
	o->prog = basename(argv[0]);
	o->dev = "/dev/lring0";
	o->buf_size = 4096;
	o->buf_count = 64;
	o->backend = LRING_BACKEND_COHERENT;
	o->rate = -1;
	o->block_size = -1;
	o->verify = -1;
	o->batch = 1;
	o->mode = "eventfd";
	o->timeout_ms = 100;
	o->idle_ms = 5000;
	allowed |= OPTBIT(OPT_HELP);

	while ((c = getopt_long(argc, argv, "o:i:", all_options, NULL)) != -1) {
		uint64_t v;

		if (c == 'o')
			c = OPT_OUTPUT;
		if (c == 'i')
			c = OPT_INPUT;
		if (c < OPT_DEV || c > OPT_HELP || !(allowed & OPTBIT(c)))
			die_usage(o, usage, NULL);
		switch (c) {
		case OPT_DEV:
			o->dev = optarg;
			break;
		case OPT_COUNT:
			if (parse_u64(optarg, &o->count))
				die_usage(o, usage, "bad count '%s'", optarg);
			break;
		case OPT_BYTES:
			if (parse_u64(optarg, &o->bytes))
				die_usage(o, usage, "bad bytes '%s'", optarg);
			break;
		case OPT_BUF_SIZE:
			o->buf_size = parse_u32_opt(o, usage, "buf-size", optarg);
			break;
		case OPT_BUF_COUNT:
			o->buf_count = parse_u32_opt(o, usage, "buf-count", optarg);
			break;
		case OPT_BACKEND:
			/* block: streaming memory, the whole pool in one piece */
			o->config_flags &= ~LRING_CONFIG_ONE_BLOCK;
			if (!strcmp(optarg, "coherent")) {
				o->backend = LRING_BACKEND_COHERENT;
			} else if (!strcmp(optarg, "streaming")) {
				o->backend = LRING_BACKEND_STREAMING;
			} else if (!strcmp(optarg, "block")) {
				o->backend = LRING_BACKEND_STREAMING;
				o->config_flags |= LRING_CONFIG_ONE_BLOCK;
			} else {
				die_usage(o, usage, "backend must be coherent, streaming or block");
			}
			break;
		case OPT_RATE:
			o->rate = parse_u32_opt(o, usage, "rate", optarg);
			break;
		case OPT_BLOCK_SIZE:
			o->block_size = parse_u32_opt(o, usage, "block-size", optarg);
			break;
		case OPT_SEED:
			if (parse_u64(optarg, &o->seed))
				die_usage(o, usage, "bad seed '%s'", optarg);
			o->have_seed = 1;
			break;
		case OPT_SECONDS: {
			char *end;

			o->seconds = strtod(optarg, &end);
			if (*end || o->seconds < 0)
				die_usage(o, usage, "bad seconds '%s'", optarg);
			break;
		}
		case OPT_JSON:
			o->json = 1;
			break;
		case OPT_NO_VERIFY:
			o->verify = 0;
			break;
		case OPT_VERIFY:
			o->verify = 1;
			break;
		case OPT_BATCH:
			o->batch = parse_u32_opt(o, usage, "batch", optarg);
			break;
		case OPT_MODE:
			if (strcmp(optarg, "eventfd") && strcmp(optarg, "poll") &&
			    strcmp(optarg, "ioctl"))
				die_usage(o, usage, "mode must be eventfd, poll or ioctl");
			o->mode = optarg;
			break;
		case OPT_TIMEOUT_MS:
			o->timeout_ms = parse_u32_opt(o, usage, "timeout-ms", optarg);
			break;
		case OPT_IDLE_MS:
			if (parse_u64(optarg, &v) || v > INT32_MAX)
				die_usage(o, usage, "bad idle-ms '%s'", optarg);
			o->idle_ms = (int)v;
			break;
		case OPT_OUTPUT:
			o->output = optarg;
			break;
		case OPT_INPUT:
			o->input = optarg;
			break;
		case OPT_COPY:
			o->copy = 1;
			break;
		case OPT_HELP:
			fprintf(stdout, "usage: %s %s\n", o->prog, usage);
			exit(0);
		}
	}
	if (optind < argc)
		die_usage(o, usage, "unexpected argument '%s'", argv[optind]);
	if (!o->buf_size || !o->buf_count)
		die_usage(o, usage, "buf-size and buf-count must be > 0");
}

/* ---- the simulated device's sysfs attributes ------------------------------ */

/*
 * /sys/dev/char/MAJ:MIN/device/<attr> is the ring's parent (lring_sim.N),
 * found from the fd whatever the device node is called. The environment
 * variable LRING_SYSFS_DIR overrides the directory (tests, odd setups).
 */
static inline void sim_attr_path(struct lring *r, const char *dev,
				 const char *attr, char *buf, size_t len)
{
	const char *dir = getenv("LRING_SYSFS_DIR");
	struct stat st;

	if (dir) {
		snprintf(buf, len, "%s/%s", dir, attr);
	} else if (fstat(r->fd, &st) == 0 && S_ISCHR(st.st_mode)) {
		snprintf(buf, len, "/sys/dev/char/%u:%u/device/%s",
			 major(st.st_rdev), minor(st.st_rdev), attr);
	} else {
		char tmp[256];

		snprintf(tmp, sizeof(tmp), "%s", dev);
		snprintf(buf, len, "/sys/class/lring/%s/device/%s",
			 basename(tmp), attr);
	}
}

static inline int sim_read(struct lring *r, const char *dev, const char *attr,
			   uint64_t *val)
{
	char path[512], text[64];
	ssize_t n;
	int fd;

	sim_attr_path(r, dev, attr, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return n < 0 ? -errno : -EIO;
	text[n] = 0;
	return parse_u64(strtok(text, "\n"), val) ? -EINVAL : 0;
}

static inline int sim_write(struct lring *r, const char *dev, const char *attr,
			    uint64_t val)
{
	char path[512], text[32];
	int fd, len, ret = 0;

	sim_attr_path(r, dev, attr, path, sizeof(path));
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	len = snprintf(text, sizeof(text), "%" PRIu64 "\n", val);
	if (write(fd, text, len) != len)
		ret = -errno;
	close(fd);
	return ret;
}

/* ---- setting up a ring ---------------------------------------------------- */

struct sim_params {
	uint64_t rate;
	uint64_t block_size;
	uint64_t seed;
};

static inline void setup_fail(const struct opts *o, const char *what, int err)
{
	fprintf(stderr, "%s: %s: %s: %s\n", o->prog, o->dev, what,
		lring_strerror(err));
	exit(EXIT_SETUP);
}

/* Sets the simulated device's parameters the user gave (--rate and so on). */
static inline void set_sim_params(const struct opts *o, struct lring *r)
{
	int err;

	if (o->rate >= 0 && (err = sim_write(r, o->dev, "rate", o->rate)))
		setup_fail(o, "set rate", err);
	if (o->block_size >= 0 &&
	    (err = sim_write(r, o->dev, "block_size", o->block_size)))
		setup_fail(o, "set block_size", err);
	if (o->have_seed && (err = sim_write(r, o->dev, "seed", o->seed)))
		setup_fail(o, "set seed", err);
}

/*
 * Open and configure the ring, set the simulated device's parameters the
 * user gave, read back what the device will use. Does not start it.
 */
static inline struct lring *setup_ring(const struct opts *o,
				       struct sim_params *p)
{
	struct lring_config cfg;
	struct lring *r;
	int err;

	err = lring_open(o->dev, &r);
	if (err)
		setup_fail(o, "open", err);
	memset(&cfg, 0, sizeof(cfg));
	cfg.buf_count = o->buf_count;
	cfg.buf_size = o->buf_size;
	cfg.backend = o->backend;
	cfg.flags = o->config_flags;
	err = lring_configure(r, &cfg);
	if (err)
		setup_fail(o, "configure", err);

	memset(p, 0, sizeof(*p));
	set_sim_params(o, r);
	if (o->verify && (err = sim_read(r, o->dev, "seed", &p->seed))) {
		fprintf(stderr, "%s: cannot read the simulated device's seed "
			"(not lring_sim? use --no-verify)\n", o->prog);
		setup_fail(o, "read seed", err);
	}
	/* Only needed to predict lengths; absent on other devices. */
	if (sim_read(r, o->dev, "block_size", &p->block_size))
		p->block_size = UINT64_MAX;
	if (sim_read(r, o->dev, "rate", &p->rate))
		p->rate = UINT64_MAX;
	return r;
}

/* Arms an eventfd that signals every completion, and starts the ring. */
static inline void start_ring(const struct opts *o, struct lring *r)
{
	int err = lring_enable_eventfd(r, 1);

	if (err)
		setup_fail(o, "enable eventfd", err);
	err = lring_start(r);
	if (err)
		setup_fail(o, "start", err);
}

/* The name of an enum lring_backend value, as sysfs shows it; NULL if none. */
static inline const char *backend_name(uint32_t b)
{
	static const char *const names[] = {
		[LRING_BACKEND_COHERENT] = "coherent",
		[LRING_BACKEND_STREAMING] = "streaming",
		[LRING_BACKEND_NONCONTIG] = "noncontig",
		[LRING_BACKEND_USER] = "user",
		[LRING_BACKEND_DMABUF] = "dmabuf",
	};

	return b < sizeof(names) / sizeof(names[0]) ? names[b] : NULL;
}

/* ---- verification ------------------------------------------------------ */

struct verifier {
	const char *prog;
	int check_data;
	uint64_t seed;
	uint32_t buf_size;
	uint64_t block_size;	/* UINT64_MAX: unknown, lengths not checked */
	uint64_t next_seq;
	/* results */
	uint64_t blocks;
	uint64_t bytes;
	uint64_t gaps;
	uint64_t gap_blocks;	/* sum of cqe.dropped */
	uint64_t truncated;
	uint64_t device_errors;
	uint64_t seq_errors;
	uint64_t data_errors;	/* blocks with at least one wrong byte */
	uint64_t len_errors;
	unsigned reported;	/* kinds whose first error was printed */
};

/* Kinds of error; the first of each kind is printed. */
enum { VERR_SEQ = 1, VERR_LEN = 2, VERR_DATA = 4 };

static inline void verifier_init(struct verifier *v, const char *prog,
				 int check_data, uint64_t seed,
				 uint32_t buf_size, uint64_t block_size)
{
	memset(v, 0, sizeof(*v));
	v->prog = prog;
	v->check_data = check_data;
	v->seed = seed;
	v->buf_size = buf_size;
	v->block_size = block_size;
}

static inline uint64_t verifier_errors(const struct verifier *v)
{
	return v->seq_errors + v->data_errors + v->len_errors;
}

static inline void verifier_report(struct verifier *v, unsigned kind,
				   const char *fmt, ...)
{
	va_list ap;

	if (v->reported & kind)
		return;
	v->reported |= kind;
	fprintf(stderr, "%s: FIRST %s ERROR: ", v->prog,
		kind == VERR_SEQ ? "SEQUENCE" : kind == VERR_LEN ? "LENGTH" :
		"DATA");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
}

/*
 * Offset of the first byte of @p[0..len) that differs from the pattern of
 * block @seq, or -1. Word by word: byte i is byte i % 8 of the
 * little-endian word lring_sim_word(seed, seq, i / 8).
 */
static inline int64_t sim_first_bad(const uint8_t *p, uint32_t len,
				    uint64_t seed, uint64_t seq,
				    uint8_t *want_out, uint8_t *got_out)
{
	uint32_t words = len / 8, i;

	for (i = 0; i < words; i++) {
		uint64_t want = htole64(lring_sim_word(seed, seq, i)), got;

		memcpy(&got, p + 8 * (size_t)i, 8);
		if (got != want)
			break;
	}
	for (i *= 8; i < len; i++) {
		uint8_t want = (uint8_t)(lring_sim_word(seed, seq, i / 8) >>
					 (8 * (i % 8)));

		if (p[i] != want) {
			*want_out = want;
			*got_out = p[i];
			return i;
		}
	}
	return -1;
}

/*
 * Check one completion: sequence continuity (gaps only where flagged),
 * length, and every byte. Returns 0 if it is right.
 */
static inline int verify_cqe(struct verifier *v, const struct lring *r,
			     const struct lring_cqe *c)
{
	const uint8_t *p = lring_buf(r, c->buf_id);
	uint64_t want_seq = v->next_seq;
	int bad = 0;

	v->blocks++;
	v->bytes += c->len;
	if (c->flags & LRING_CQE_F_GAP) {
		v->gaps++;
		v->gap_blocks += c->dropped;
		want_seq += c->dropped;
		if (!c->dropped) {
			v->seq_errors++;
			verifier_report(v, VERR_SEQ, "seq %" PRIu64 ": GAP flag with "
					"dropped = 0", c->seq);
			bad = 1;
		}
	} else if (c->dropped) {
		v->seq_errors++;
		verifier_report(v, VERR_SEQ, "seq %" PRIu64 ": dropped = %u without the "
				"GAP flag", c->seq, c->dropped);
		bad = 1;
	}
	if (c->seq != want_seq) {
		v->seq_errors++;
		verifier_report(v, VERR_SEQ, "got seq %" PRIu64 ", expected %"
				PRIu64 " (buffer %u, %u dropped before it)",
				c->seq, want_seq, c->buf_id, c->dropped);
		bad = 1;
	}
	v->next_seq = c->seq + 1;
	if (c->flags & LRING_CQE_F_TRUNCATED)
		v->truncated++;
	if (c->flags & LRING_CQE_F_ERROR) {
		v->device_errors++;
		return bad;	/* the data may be incomplete: not checked */
	}
	if (!p || c->len > v->buf_size) {
		v->len_errors++;
		verifier_report(v, VERR_LEN, "seq %" PRIu64 ": buffer id %u / length %u "
				"outside the pool (%u buffers of %u bytes)",
				c->seq, c->buf_id, c->len, r->buf_count,
				v->buf_size);
		return 1;
	}
	if (v->block_size != UINT64_MAX) {
		uint64_t want_len = v->block_size ? v->block_size : v->buf_size;
		int trunc = want_len > v->buf_size;

		if (trunc)
			want_len = v->buf_size;
		if (c->len != want_len ||
		    !!(c->flags & LRING_CQE_F_TRUNCATED) != trunc) {
			v->len_errors++;
			verifier_report(v, VERR_LEN, "seq %" PRIu64 ": length %u%s, "
					"expected %" PRIu64 "%s", c->seq,
					c->len,
					c->flags & LRING_CQE_F_TRUNCATED ?
					" (truncated)" : "", want_len,
					trunc ? " (truncated)" : "");
			bad = 1;
		}
	}
	if (v->check_data) {
		uint8_t want = 0, got = 0;
		int64_t off = sim_first_bad(p, c->len, v->seed, c->seq,
					    &want, &got);

		if (off >= 0) {
			v->data_errors++;
			verifier_report(v, VERR_DATA, "buffer %u (seq %" PRIu64
					"), offset %" PRId64 ": expected 0x%02x,"
					" got 0x%02x", c->buf_id, c->seq, off,
					want, got);
			bad = 1;
		}
	}
	return bad;
}

/* ---- latency histogram (log-linear, ~3% resolution) --------------------- */

#define HIST_SUB_BITS	5
#define HIST_SUB	(1u << HIST_SUB_BITS)
#define HIST_LINEAR	(2 * HIST_SUB)		/* 0..63 exact */
#define HIST_BUCKETS	(HIST_LINEAR + (64 - HIST_SUB_BITS - 1) * HIST_SUB)

struct histogram {
	uint64_t count;
	uint64_t max;
	uint64_t sum;
	uint64_t bucket[HIST_BUCKETS];
};

static inline unsigned hist_index(uint64_t v)
{
	unsigned e;

	if (v < HIST_LINEAR)
		return (unsigned)v;
	e = 63 - __builtin_clzll(v);		/* >= HIST_SUB_BITS + 1 */
	return HIST_LINEAR + (e - HIST_SUB_BITS - 1) * HIST_SUB +
	       (unsigned)((v >> (e - HIST_SUB_BITS)) & (HIST_SUB - 1));
}

/* Largest value that falls in bucket @i. */
static inline uint64_t hist_upper(unsigned i)
{
	unsigned e, sub;

	if (i < HIST_LINEAR)
		return i;
	e = (i - HIST_LINEAR) / HIST_SUB + HIST_SUB_BITS + 1;
	sub = (i - HIST_LINEAR) % HIST_SUB;
	return ((uint64_t)(HIST_SUB + sub + 1) << (e - HIST_SUB_BITS)) - 1;
}

static inline void hist_add(struct histogram *h, uint64_t v)
{
	h->bucket[hist_index(v)]++;
	h->count++;
	h->sum += v;
	if (v > h->max)
		h->max = v;
}

/* Value at or below which a fraction @q of the samples lie (bucket upper
 * bound, capped at the maximum seen); 0 without samples. */
static inline uint64_t hist_quantile(const struct histogram *h, double q)
{
	uint64_t rank, seen = 0;
	unsigned i;

	if (!h->count)
		return 0;
	rank = (uint64_t)(q * (double)h->count);
	if ((double)rank < q * (double)h->count)
		rank++;
	if (rank < 1)
		rank = 1;
	for (i = 0; i < HIST_BUCKETS; i++) {
		seen += h->bucket[i];
		if (seen >= rank) {
			uint64_t u = hist_upper(i);

			return u < h->max ? u : h->max;
		}
	}
	return h->max;
}

/* ---- the report ------------------------------------------------------------ */

/*
 * Key=value pairs collected for the final line (or the JSON object), so
 * the human report and the machine summary say the same numbers.
 */
struct summary {
	char text[4096];
	size_t len;
	int json;
};

static inline void sum_add(struct summary *s, const char *key,
			   const char *fmt, ...)
{
	char val[256];
	va_list ap;
	int n, quote;

	va_start(ap, fmt);
	vsnprintf(val, sizeof(val), fmt, ap);
	va_end(ap);
	quote = s->json && (val[0] == 0 || strspn(val, "0123456789.-") !=
			    strlen(val));
	n = snprintf(s->text + s->len, sizeof(s->text) - s->len,
		     s->json ? "%s\"%s\":%s%s%s" : "%s%s=%s%s%s",
		     s->len ? (s->json ? "," : " ") : "", key,
		     quote ? "\"" : "", val, quote ? "\"" : "");
	if (n > 0 && (size_t)n < sizeof(s->text) - s->len)
		s->len += n;
}

static inline void sum_print(const struct summary *s)
{
	if (s->json)
		printf("{%s}\n", s->text);
	else
		printf("%s\n", s->text);
	fflush(stdout);
}

static inline void print_counters(FILE *f, const struct lring_counters *c)
{
	fprintf(f, "counters: produced=%llu delivered=%llu dropped=%llu "
		"irqs=%llu kicks=%llu waits=%llu eventfd_signals=%llu "
		"returned=%llu rejected_ids=%llu rejected_indices=%llu "
		"need_wakeups=%llu device_errors=%llu\n",
		(unsigned long long)c->produced,
		(unsigned long long)c->delivered,
		(unsigned long long)c->dropped, (unsigned long long)c->irqs,
		(unsigned long long)c->kicks, (unsigned long long)c->waits,
		(unsigned long long)c->eventfd_signals,
		(unsigned long long)c->returned,
		(unsigned long long)c->rejected_ids,
		(unsigned long long)c->rejected_indices,
		(unsigned long long)c->need_wakeups,
		(unsigned long long)c->device_errors);
}

static inline void sum_counters(struct summary *s,
				const struct lring_counters *c)
{
	sum_add(s, "produced", "%llu", (unsigned long long)c->produced);
	sum_add(s, "delivered", "%llu", (unsigned long long)c->delivered);
	sum_add(s, "dropped", "%llu", (unsigned long long)c->dropped);
	sum_add(s, "irqs", "%llu", (unsigned long long)c->irqs);
	sum_add(s, "kicks", "%llu", (unsigned long long)c->kicks);
	sum_add(s, "waits", "%llu", (unsigned long long)c->waits);
	sum_add(s, "eventfd_signals", "%llu",
		(unsigned long long)c->eventfd_signals);
	sum_add(s, "returned", "%llu", (unsigned long long)c->returned);
	sum_add(s, "rejected_ids", "%llu",
		(unsigned long long)c->rejected_ids);
	sum_add(s, "rejected_indices", "%llu",
		(unsigned long long)c->rejected_indices);
	sum_add(s, "need_wakeups", "%llu",
		(unsigned long long)c->need_wakeups);
	sum_add(s, "device_errors", "%llu",
		(unsigned long long)c->device_errors);
	sum_add(s, "cancelled", "%llu", (unsigned long long)c->cancelled);
}

/*
 * After the device is stopped and the ring drained: the kernel's counters
 * must agree with what we saw. Returns the number of disagreements (each
 * printed).
 */
static inline unsigned check_accounting(const char *prog,
					const struct verifier *v,
					const struct lring_counters *c)
{
	unsigned bad = 0;

	if (c->delivered != v->blocks) {
		fprintf(stderr, "%s: ACCOUNTING: kernel delivered %llu blocks,"
			" we consumed %llu\n", prog,
			(unsigned long long)c->delivered,
			(unsigned long long)v->blocks);
		bad++;
	}
	if (c->produced != c->delivered + c->dropped) {
		fprintf(stderr, "%s: ACCOUNTING: produced %llu != delivered "
			"%llu + dropped %llu\n", prog,
			(unsigned long long)c->produced,
			(unsigned long long)c->delivered,
			(unsigned long long)c->dropped);
		bad++;
	}
	/* Drops after the last delivered block are in no completion. */
	if (v->gap_blocks > c->dropped) {
		fprintf(stderr, "%s: ACCOUNTING: completions report %llu "
			"dropped blocks, the kernel counted %llu\n", prog,
			(unsigned long long)v->gap_blocks,
			(unsigned long long)c->dropped);
		bad++;
	}
	if (c->rejected_ids || c->rejected_indices) {
		fprintf(stderr, "%s: ACCOUNTING: the kernel rejected %llu ids "
			"and %llu indices we wrote\n", prog,
			(unsigned long long)c->rejected_ids,
			(unsigned long long)c->rejected_indices);
		bad++;
	}
	return bad;
}

/*
 * Consume what is left after lring_stop(): verified and returned like the
 * rest, so the totals match the kernel's.
 */
static inline void drain_ring(struct lring *r, struct verifier *v)
{
	uint32_t idx, ids[64];
	unsigned n, i;

	while ((n = lring_peek(r, 64, &idx)) > 0) {
		for (i = 0; i < n; i++) {
			const struct lring_cqe *c = lring_cqe(r, idx + i);

			verify_cqe(v, r, c);
			ids[i] = c->buf_id;
		}
		lring_release(r, n);
		if (lring_return(r, ids, n))
			break;	/* cannot happen: these ids were ours */
	}
}

#endif /* LRING_TOOLS_COMMON_H */
