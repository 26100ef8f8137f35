// SPDX-License-Identifier: GPL-2.0
/*
 * trace_test - the ring core's tracepoints and its debugfs file, in the VM
 * against the simulated device (ring 0).
 *
 *   trace_test events    enables events/lring/ through tracefs (ftrace; no
 *                        trace-cmd in the guest), streams with drops, a
 *                        kick, a rejected return, eventfd and ioctl waits,
 *                        then checks that every event arrived, that the
 *                        fields are sane and that the counts agree with
 *                        the ring's counters
 *   trace_test debugfs   holds some buffers and checks that
 *                        /sys/kernel/debug/lring/lring0/buffers shows each
 *                        buffer's owner and the kernel's indices
 *   trace_test syscall_count   checks "count_events.sh syscalls", which counts the
 *                        demo's syscalls: a process making N more system
 *                        calls must count exactly N more
 *   trace_test burst N   makes N getppid() calls (for syscall_count)
 *
 * Prints TAP lines.
 */
#include "ktest.h"	/* first: it defines _GNU_SOURCE */

#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static char tracefs[64];

/* Finds tracefs, mounting it if nobody has. */
static bool find_tracefs(void)
{
	static const char *const dirs[] = {
		"/sys/kernel/tracing", "/sys/kernel/debug/tracing",
	};
	char path[128];
	unsigned i;

	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/events", dirs[i]);
		if (access(path, F_OK) && i == 0)
			mount("tracefs", dirs[0], "tracefs", 0, NULL);
		if (!access(path, F_OK)) {
			snprintf(tracefs, sizeof(tracefs), "%s", dirs[i]);
			return true;
		}
	}
	return false;
}

static int trace_write(const char *rel, const char *text)
{
	char path[192];
	ssize_t len = strlen(text);
	int fd, ret = 0;

	snprintf(path, sizeof(path), "%s/%s", tracefs, rel);
	fd = open(path, O_WRONLY | O_TRUNC);
	if (fd < 0)
		return -errno;
	if (len && write(fd, text, len) != len)
		ret = -errno;
	close(fd);
	return ret;
}

struct trace_counts {
	uint64_t publish, ret_ok, ret_bad, drop, kick, wake_efd, wake_wq;
	uint64_t bad_fields;	/* events whose fields make no sense */
	uint64_t last_seq;
	bool seq_seen;
	uint64_t seq_backwards;
	uint64_t max_dropped;	/* largest dropped= of lring_drop */
};

static void bad_field(struct trace_counts *t, const char *line)
{
	if (!t->bad_fields)
		ktest_diag("odd event: %s", line);
	t->bad_fields++;
}

/* Counts the lring events of ring 0 in the trace and checks their fields. */
static void parse_trace(struct trace_counts *t, uint32_t buf_count,
			uint32_t block)
{
	unsigned ring, id, len, flags, dropped, gap, fw, nd, nw, ready;
	unsigned long long seq, total;
	char path[192], line[512], word[16];
	const char *p;
	FILE *f;

	snprintf(path, sizeof(path), "%s/trace", tracefs);
	f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		if ((p = strstr(line, "lring_publish: "))) {
			if (sscanf(p, "lring_publish: ring=%u buf_id=%u len=%u seq=%llu flags=0x%x dropped=%u",
				   &ring, &id, &len, &seq, &flags, &dropped) != 6 ||
			    ring != 0 || id >= buf_count || len != block ||
			    (!!dropped != !!(flags & LRING_CQE_F_GAP))) {
				bad_field(t, line);
				continue;
			}
			if (t->seq_seen && seq <= t->last_seq)
				t->seq_backwards++;
			t->seq_seen = true;
			t->last_seq = seq;
			t->publish++;
		} else if ((p = strstr(line, "lring_return: "))) {
			if (sscanf(p, "lring_return: ring=%u buf_id=%u %15s",
				   &ring, &id, word) != 3 || ring != 0) {
				bad_field(t, line);
			} else if (!strcmp(word, "accepted") && id < buf_count) {
				t->ret_ok++;
			} else if (!strcmp(word, "rejected")) {
				t->ret_bad++;
			} else {
				bad_field(t, line);
			}
		} else if ((p = strstr(line, "lring_drop: "))) {
			if (sscanf(p, "lring_drop: ring=%u seq=%llu gap=%u dropped=%llu",
				   &ring, &seq, &gap, &total) != 4 || ring != 0 ||
			    !gap || !total || total <= t->max_dropped) {
				bad_field(t, line);
				continue;
			}
			t->max_dropped = total;
			t->drop++;
		} else if ((p = strstr(line, "lring_kick: "))) {
			if (sscanf(p, "lring_kick: ring=%u fill_waiting=%u nr_device=%u need_wakeup=%u",
				   &ring, &fw, &nd, &nw) != 4 || ring != 0 ||
			    fw > buf_count || nd > buf_count || nw > 1) {
				bad_field(t, line);
				continue;
			}
			t->kick++;
		} else if ((p = strstr(line, "lring_wakeup: "))) {
			if (sscanf(p, "lring_wakeup: ring=%u ready=%u via=%15s",
				   &ring, &ready, word) != 3 || ring != 0 ||
			    !ready || ready > buf_count) {
				bad_field(t, line);
			} else if (!strcmp(word, "eventfd")) {
				t->wake_efd++;
			} else if (!strcmp(word, "waitqueue")) {
				t->wake_wq++;
			} else {
				bad_field(t, line);
			}
		}
	}
	fclose(f);
}

static void test_events(int argc, char **argv)
{
	static const char *const events[] = {
		"lring_publish", "lring_return", "lring_drop", "lring_kick",
		"lring_wakeup",
	};
	struct ktest_stream s = { .seed = 7, .expect_len = 1024 };
	struct trace_counts t = { 0 };
	struct lring_counters c;
	char path[192];
	uint32_t bogus = 1000;
	struct lring *r;
	unsigned i;
	int ret;

	(void)argc;
	(void)argv;
	if (!ktest_ok(find_tracefs(), "events: tracefs is mounted (%s)", tracefs))
		return;
	for (i = 0; i < 5; i++) {
		snprintf(path, sizeof(path), "%s/events/lring/%s/format",
			 tracefs, events[i]);
		ktest_ok(!access(path, R_OK), "events: %s is registered",
			 events[i]);
	}
	trace_write("tracing_on", "0");
	trace_write("buffer_size_kb", "8192");
	trace_write("trace", "");
	ret = trace_write("events/lring/enable", "1");
	if (!ktest_ok(!ret, "events: events/lring/enable: %s", strerror(-ret)))
		return;
	trace_write("tracing_on", "1");

	if (!ktest_ok(!ktest_setup(0, &r, 8, 1024, LRING_BACKEND_COHERENT,
				   2000, 0, s.seed, 0), "events: setup")) {
		trace_write("events/lring/enable", "0");
		return;
	}
	lring_enable_eventfd(r, 1);
	lring_start(r);
	ktest_sleep_ms(100);		/* hold all 8 buffers: drops */
	while (s.buffers < 300) {	/* sleep on the eventfd when idle */
		if (!ktest_consume(r, &s, 64) && lring_wait(r, 1000) < 0)
			break;
	}
	lring_disable_eventfd(r);
	while (s.buffers < 400) {	/* sleep in LRING_IOC_WAIT */
		if (!ktest_consume(r, &s, 64) &&
		    lring_wait_ioctl(r, 1000000000ull, 1) < 0)
			break;
	}
	lring_kick(r);
	ioctl(r->fd, LRING_IOC_QBUF, &bogus);	/* rejected */
	lring_stop(r);
	while (ktest_consume(r, &s, 64))
		;
	trace_write("tracing_on", "0");
	trace_write("events/lring/enable", "0");
	ioctl(r->fd, LRING_IOC_GET_COUNTERS, &c);
	lring_close(r);

	parse_trace(&t, 8, 1024);
	ktest_diag("trace: %" PRIu64 " publish, %" PRIu64 "+%" PRIu64
		   " return, %" PRIu64 " drop, %" PRIu64 " kick, %" PRIu64
		   "+%" PRIu64 " wakeup", t.publish, t.ret_ok, t.ret_bad,
		   t.drop, t.kick, t.wake_efd, t.wake_wq);
	ktest_diag("counters: delivered %llu returned %llu rejected_ids %llu dropped %llu kicks %llu eventfd_signals %llu",
		   (unsigned long long)c.delivered, (unsigned long long)c.returned,
		   (unsigned long long)c.rejected_ids, (unsigned long long)c.dropped,
		   (unsigned long long)c.kicks, (unsigned long long)c.eventfd_signals);
	ktest_ok(s.buffers >= 400 && !s.bad_data && !s.bad_seq,
		 "events: the stream itself was clean (%" PRIu64 " buffers)",
		 s.buffers);
	ktest_ok(t.bad_fields == 0, "events: every event has sane fields");
	ktest_ok(t.publish && t.publish == c.delivered,
		 "events: one lring_publish per delivered block (%" PRIu64 ")",
		 t.publish);
	ktest_ok(t.seq_backwards == 0, "events: lring_publish seq increases");
	ktest_ok(t.ret_ok && t.ret_ok == c.returned,
		 "events: one accepted lring_return per returned buffer (%" PRIu64 ")",
		 t.ret_ok);
	ktest_ok(t.ret_bad == 1 && c.rejected_ids == 1,
		 "events: the forged id gives one rejected lring_return");
	ktest_ok(t.drop && t.drop == c.dropped,
		 "events: one lring_drop per dropped block (%" PRIu64 ")", t.drop);
	ktest_ok(t.kick && t.kick == c.kicks,
		 "events: one lring_kick per kick (%" PRIu64 ")", t.kick);
	ktest_ok(t.wake_efd && t.wake_efd == c.eventfd_signals,
		 "events: one eventfd lring_wakeup per signal (%" PRIu64 ")",
		 t.wake_efd);
	ktest_ok(t.wake_wq > 0,
		 "events: LRING_IOC_WAIT sleepers give waitqueue lring_wakeups (%" PRIu64 ")",
		 t.wake_wq);
}

/* Reads /sys/kernel/debug/lring/lring0/buffers into counts by state. */
static bool read_buffers(unsigned n[3], unsigned *lines, int64_t *user_field,
			 uint32_t buf_count)
{
	char line[128], state[16];
	unsigned id, next = 0;
	long long v;
	bool ok = true;
	FILE *f;

	f = fopen("/sys/kernel/debug/lring/lring0/buffers", "r");
	if (!f)
		return false;
	n[0] = n[1] = n[2] = 0;
	*lines = 0;
	*user_field = -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "user: %lld", &v) == 1)
			*user_field = v;
		if (sscanf(line, "%u %15s", &id, state) != 2)
			continue;
		if (id != next++ || id >= buf_count)
			ok = false;
		if (!strcmp(state, "FREE"))
			n[0]++;
		else if (!strcmp(state, "DEVICE"))
			n[1]++;
		else if (!strcmp(state, "USER"))
			n[2]++;
		else
			ok = false;
		(*lines)++;
	}
	fclose(f);
	return ok;
}

static void test_debugfs(int argc, char **argv)
{
	struct ktest_stream s = { .seed = 3, .expect_len = 4096 };
	uint32_t idx, ids[16];
	unsigned n[3], lines, got = 0, i;
	int64_t user_field;
	uint64_t deadline;
	struct lring *r;

	(void)argc;
	(void)argv;
	if (!ktest_ok(!ktest_setup(0, &r, 16, 4096, LRING_BACKEND_STREAMING,
				   500, 0, s.seed, 0), "debugfs: setup"))
		return;
	ktest_ok(read_buffers(n, &lines, &user_field, 16) && lines == 16 &&
		 n[0] == 16, "debugfs: configured and stopped, all 16 buffers FREE");
	lring_start(r);
	/* Take 5 completions and keep them. */
	deadline = ktest_now_ns() + 10000000000ull;
	while (got < 5 && ktest_now_ns() < deadline) {
		unsigned k = lring_peek(r, 5 - got, &idx);

		for (i = 0; i < k; i++)
			ids[got + i] = lring_cqe(r, idx + i)->buf_id;
		lring_release(r, k);
		got += k;
		if (!k)
			ktest_sleep_ms(5);
	}
	ktest_sleep_ms(50);	/* the device may complete more meanwhile */
	ktest_ok(read_buffers(n, &lines, &user_field, 16) && lines == 16,
		 "debugfs: one line per buffer, ids in order, known states");
	ktest_ok(n[0] + n[1] + n[2] == 16 && n[2] >= 5 &&
		 user_field == n[2],
		 "debugfs: running: %u FREE %u DEVICE %u USER (>= 5 held)",
		 n[0], n[1], n[2]);
	lring_stop(r);
	/*
	 * Return everything held: what we kept and what came after. Stopped,
	 * the kernel takes the fill ring's entries back only when kicked.
	 */
	if (lring_return(r, ids, got))
		ktest_diag("lring_return failed at %s:%d", __FILE__, __LINE__);
	s.next_seq = got;
	while (ktest_consume(r, &s, 16))
		;
	ktest_ok(read_buffers(n, &lines, &user_field, 16) && n[2] >= 5,
		 "debugfs: returned but not kicked: still USER (%u)", n[2]);
	lring_kick(r);
	ktest_ok(read_buffers(n, &lines, &user_field, 16) && n[2] == 0 &&
		 n[1] == 0 && n[0] == 16,
		 "debugfs: stopped with every buffer returned: 16 FREE");
	lring_close(r);
	ktest_ok(read_buffers(n, &lines, &user_field, 16) && lines == 0,
		 "debugfs: closed: the ring shows unconfigured");
}

/* burst N: N system calls that do nothing else. */
static void test_burst(int argc, char **argv)
{
	long n = argc > 0 ? strtol(argv[0], NULL, 0) : 0;

	while (n-- > 0)
		syscall(SYS_getppid);
}

/*
 * What count_events.sh syscalls says of "trace_test burst N"; -1 on
 * failure, -2 when the kernel has no way to count.
 */
static long counted_syscalls(long n)
{
	char args[64];

	snprintf(args, sizeof(args), "syscalls trace_test burst %ld", n);
	return ktest_count_events(args, "syscalls", NULL);
}

/*
 * syscall_count: the demo's syscalls column comes from count_events.sh syscalls
 * (the kernel's raw_syscalls tracepoint), not from lring's counters. The
 * same program with 1000 more getppid() calls must count exactly 1000 more.
 * Regression test for docs/reliability.md entry 26, and for entry 28 (a
 * kernel without histogram triggers is a skip, not a failure).
 */
static void test_syscall_count(int argc, char **argv)
{
	long none = counted_syscalls(0), more = counted_syscalls(1000);

	(void)argc;
	(void)argv;
	if (none == -2) {
		ktest_ok(true, "syscall_count # SKIP kernel without histogram triggers");
		return;
	}
	ktest_ok(none > 0, "syscall_count: a process doing nothing still counts its start (%ld)",
		 none);
	ktest_ok(more - none == 1000,
		 "syscall_count: 1000 more system calls count 1000 more (%ld - %ld)",
		 more, none);
}

static const struct ktest_subtest tests[] = {
	{ "events", test_events },
	{ "debugfs", test_debugfs },
	{ "syscall_count", test_syscall_count },
	{ "burst", test_burst },
};

int main(int argc, char **argv)
{
	return ktest_main(KTEST_SUBTESTS(tests), argc, argv);
}
