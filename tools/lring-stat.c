// SPDX-License-Identifier: MIT
/*
 * lring-stat - live view of every lring ring, from sysfs alone.
 *
 * Reads /sys/class/lring/lring<N>/{state,direction,backend,buf_count,
 * buf_size} and counters/<name> of every ring (no ring is opened, so it
 * never disturbs a consumer) and shows, per ring and per refresh interval:
 * the rate of delivered blocks (on a ring that sends: blocks sent; MiB/s
 * at most, buf_size per block), how many buffers the application holds
 * against the pool (receiving: delivered - returned; sending: the pool but
 * what is at the device, returned - delivered - cancelled - dropped),
 * drops, and eventfd wakeups and syscalls (kicks + waits) per delivered
 * buffer. The live view redraws like top until interrupted.
 *
 *   lring-stat                    live, every second
 *   lring-stat --once             one table (sampled over one interval)
 *   lring-stat --once --json      one JSON object, for scripts
 *   lring-stat --json             one JSON object per line, every interval
 *   lring-stat --sysfs DIR        read recorded counters from DIR instead
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_RINGS 256

static const char *const counter_names[] = {
	"produced", "delivered", "dropped", "irqs", "kicks", "waits",
	"eventfd_signals", "returned", "rejected_ids", "rejected_indices",
	"need_wakeups", "device_errors", "cancelled",
};
#define NR_COUNTERS (sizeof(counter_names) / sizeof(counter_names[0]))
enum { PRODUCED, DELIVERED, DROPPED, IRQS, KICKS, WAITS, EVENTFD_SIGNALS,
       RETURNED, REJECTED_IDS, REJECTED_INDICES, NEED_WAKEUPS, DEVICE_ERRORS,
       CANCELLED };

struct ring_sample {
	char name[256];
	char state[24];
	char direction[8];	/* rx, tx, none; empty from an older module */
	char backend[24];
	uint64_t buf_count, buf_size;
	uint64_t c[NR_COUNTERS];
};

struct sample {
	double t;		/* CLOCK_MONOTONIC seconds */
	unsigned n;
	struct ring_sample r[MAX_RINGS];
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Reads one line of DIR/REL into @buf without the newline; "" if absent. */
static void read_text(const char *dir, const char *rel, char *buf, size_t size)
{
	char path[512];
	FILE *f;

	buf[0] = 0;
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	f = fopen(path, "r");
	if (!f)
		return;
	if (fgets(buf, size, f))
		buf[strcspn(buf, "\n")] = 0;
	fclose(f);
}

static uint64_t read_u64(const char *dir, const char *rel)
{
	char text[32];

	read_text(dir, rel, text, sizeof(text));
	return strtoull(text, NULL, 10);
}

static int by_number(const struct dirent **a, const struct dirent **b)
{
	return strverscmp((*a)->d_name, (*b)->d_name);
}

static int is_ring(const struct dirent *d)
{
	return !strncmp(d->d_name, "lring", 5);
}

static void take_sample(const char *root, struct sample *s)
{
	struct dirent **list;
	char dir[1024], rel[64];
	int n, i;
	unsigned k;

	s->t = now();
	s->n = 0;
	n = scandir(root, &list, is_ring, by_number);
	for (i = 0; i < n; i++) {
		struct ring_sample *r = &s->r[s->n];

		if (s->n < MAX_RINGS) {
			snprintf(dir, sizeof(dir), "%s/%s", root, list[i]->d_name);
			snprintf(r->name, sizeof(r->name), "%s", list[i]->d_name);
			read_text(dir, "state", r->state, sizeof(r->state));
			read_text(dir, "direction", r->direction, sizeof(r->direction));
			read_text(dir, "backend", r->backend, sizeof(r->backend));
			r->buf_count = read_u64(dir, "buf_count");
			r->buf_size = read_u64(dir, "buf_size");
			for (k = 0; k < NR_COUNTERS; k++) {
				snprintf(rel, sizeof(rel), "counters/%s",
					 counter_names[k]);
				r->c[k] = read_u64(dir, rel);
			}
			s->n++;
		}
		free(list[i]);
	}
	if (n >= 0)
		free(list);
}

/* What the view shows of one ring over one interval. */
struct ring_view {
	const struct ring_sample *r;
	double delivered_per_s, dropped_per_s, mib_per_s;
	uint64_t held;		/* buffers the application has */
	double occupancy;	/* held / buf_count */
	double wakeups_per_buf, syscalls_per_buf;	/* -1: no buffer */
};

/* Counter deltas; a ring reconfigured in between restarts from zero. */
static uint64_t delta(const struct ring_sample *a, const struct ring_sample *b,
		      unsigned k)
{
	if (!a || b->c[k] < a->c[k])
		return b->c[k];
	return b->c[k] - a->c[k];
}

static void make_view(const struct sample *s0, const struct sample *s1,
		      unsigned i, struct ring_view *v)
{
	const struct ring_sample *b = &s1->r[i], *a = NULL;
	double dt = s1->t - s0->t;
	uint64_t dd;
	unsigned j;

	for (j = 0; j < s0->n; j++)
		if (!strcmp(s0->r[j].name, b->name))
			a = &s0->r[j];
	if (dt <= 0)
		dt = 1e-9;
	memset(v, 0, sizeof(*v));
	v->r = b;
	dd = delta(a, b, DELIVERED);
	v->delivered_per_s = dd / dt;
	v->dropped_per_s = delta(a, b, DROPPED) / dt;
	v->mib_per_s = v->delivered_per_s * b->buf_size / (1024.0 * 1024.0);
	if (!strcmp(b->direction, "tx")) {
		/* Everything but what is at the device, to be sent. */
		uint64_t back = b->c[DELIVERED] + b->c[CANCELLED] + b->c[DROPPED];
		uint64_t at_device = b->c[RETURNED] >= back ? b->c[RETURNED] - back : 0;

		v->held = b->buf_count >= at_device ? b->buf_count - at_device : 0;
	} else {
		v->held = b->c[DELIVERED] >= b->c[RETURNED] ?
			  b->c[DELIVERED] - b->c[RETURNED] : 0;
	}
	v->occupancy = b->buf_count ? (double)v->held / b->buf_count : 0;
	v->wakeups_per_buf = dd ? (double)delta(a, b, EVENTFD_SIGNALS) / dd : -1;
	v->syscalls_per_buf = dd ? (double)(delta(a, b, KICKS) +
					    delta(a, b, WAITS)) / dd : -1;
}

static void print_table(const struct sample *s0, const struct sample *s1,
			bool live)
{
	struct ring_view v;
	char occ[32], wk[16], sc[16];
	unsigned i;

	if (live) {
		/* home, clear to the end: a flicker-free redraw like top */
		printf("\033[H\033[J");
		printf("lring-stat - %u ring%s, every %.1f s (Ctrl-C quits)\n\n",
		       s1->n, s1->n == 1 ? "" : "s", s1->t - s0->t);
	}
	printf("%-8s %-12s %-4s %-9s %10s %9s %14s %10s %8s %9s %9s\n", "RING",
	       "STATE", "DIR", "BACKEND", "BUF/S", "MIB/S<=", "HELD/POOL",
	       "DROPPED", "DROP/S", "WAKE/BUF", "SYSC/BUF");
	for (i = 0; i < s1->n; i++) {
		make_view(s0, s1, i, &v);
		snprintf(occ, sizeof(occ), "%" PRIu64 "/%" PRIu64 " %3.0f%%",
			 v.held, v.r->buf_count, 100 * v.occupancy);
		snprintf(wk, sizeof(wk), v.wakeups_per_buf < 0 ? "-" : "%.4f",
			 v.wakeups_per_buf);
		snprintf(sc, sizeof(sc), v.syscalls_per_buf < 0 ? "-" : "%.4f",
			 v.syscalls_per_buf);
		printf("%-8s %-12s %-4s %-9s %10.0f %9.1f %14s %10" PRIu64
		       " %8.0f %9s %9s\n", v.r->name, v.r->state,
		       v.r->direction[0] ? v.r->direction : "-", v.r->backend,
		       v.delivered_per_s, v.mib_per_s, occ,
		       v.r->c[DROPPED], v.dropped_per_s, wk, sc);
	}
	if (!s1->n)
		printf("(no rings: is lring.ko loaded?)\n");
	fflush(stdout);
}

static void print_json_number(double x)
{
	if (x < 0)
		printf("null");
	else
		printf("%.6g", x);
}

static void print_json(const struct sample *s0, const struct sample *s1)
{
	struct ring_view v;
	unsigned i, k;

	printf("{\"interval_s\": %.6f, \"rings\": [", s1->t - s0->t);
	for (i = 0; i < s1->n; i++) {
		make_view(s0, s1, i, &v);
		printf("%s{\"name\": \"%s\", \"state\": \"%s\", \"direction\": \"%s\", "
		       "\"backend\": \"%s\", "
		       "\"buf_count\": %" PRIu64 ", \"buf_size\": %" PRIu64
		       ", \"held\": %" PRIu64 ", \"occupancy\": ",
		       i ? ", " : "", v.r->name, v.r->state, v.r->direction,
		       v.r->backend,
		       v.r->buf_count, v.r->buf_size, v.held);
		print_json_number(v.occupancy);
		printf(", \"delivered_per_s\": ");
		print_json_number(v.delivered_per_s);
		printf(", \"dropped_per_s\": ");
		print_json_number(v.dropped_per_s);
		printf(", \"mib_per_s_max\": ");
		print_json_number(v.mib_per_s);
		printf(", \"wakeups_per_buf\": ");
		print_json_number(v.wakeups_per_buf);
		printf(", \"syscalls_per_buf\": ");
		print_json_number(v.syscalls_per_buf);
		printf(", \"counters\": {");
		for (k = 0; k < NR_COUNTERS; k++)
			printf("%s\"%s\": %" PRIu64, k ? ", " : "",
			       counter_names[k], v.r->c[k]);
		printf("}}");
	}
	printf("]}\n");
	fflush(stdout);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: lring-stat [--once] [--json] [--interval SECONDS] [--count N]\n"
		"                  [--sysfs DIR]\n"
		"  --once        sample over one interval, print once, exit\n"
		"  --json        JSON (one object per interval) instead of a table\n"
		"  --interval S  refresh interval in seconds (default 1)\n"
		"  --count N     stop after N refreshes\n"
		"  --sysfs DIR   read rings from DIR (default /sys/class/lring)\n");
}

static struct sample samples[2];

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "once", no_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'j' },
		{ "interval", required_argument, NULL, 'i' },
		{ "count", required_argument, NULL, 'c' },
		{ "sysfs", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *root = "/sys/class/lring";
	bool once = false, json = false, live;
	double interval = 1.0;
	long count = -1, done = 0;
	struct timespec ts;
	int opt, cur = 0;

	while ((opt = getopt_long(argc, argv, "oji:c:s:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'o':
			once = true;
			break;
		case 'j':
			json = true;
			break;
		case 'i':
			interval = strtod(optarg, NULL);
			break;
		case 'c':
			count = strtol(optarg, NULL, 10);
			break;
		case 's':
			root = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || interval <= 0 || interval > 3600) {
		usage(stderr);
		return 2;
	}
	if (once)
		count = 1;
	live = !json && !once && isatty(STDOUT_FILENO);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	take_sample(root, &samples[cur]);
	while (!stop && (count < 0 || done < count)) {
		ts.tv_sec = (time_t)interval;
		ts.tv_nsec = (long)((interval - ts.tv_sec) * 1e9);
		while (nanosleep(&ts, &ts) && errno == EINTR && !stop)
			;
		if (stop)
			break;
		take_sample(root, &samples[!cur]);
		if (json)
			print_json(&samples[cur], &samples[!cur]);
		else
			print_table(&samples[cur], &samples[!cur], live);
		cur = !cur;
		done++;
	}
	return 0;
}
