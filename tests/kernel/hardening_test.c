// SPDX-License-Identifier: GPL-2.0
/*
 * hardening_test - what an outside review of the kernel side found (issue
 * 13, docs/reliability.md "Bugs found"), each as the behaviour the fix
 * guarantees. Runs in the VM with lring.ko and lring_sim.ko nr_rings >= 1.
 *
 *   hardening_test <subtest>
 *
 * Ring 0 is used throughout; uffd_remove unloads lring_sim, so it runs last.
 */
#include "ktest.h"

#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#define PAGE		4096u

static int ioctl_errno(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) ? errno : 0;
}

/* Opens /dev/lring0 without mapping it, with the sim at @rate blocks/s. */
static int open_unmapped(uint32_t rate, uint64_t seed)
{
	if (ktest_sim_set(0, "rate", rate) || ktest_sim_set(0, "block_size", 0) ||
	    ktest_sim_set(0, "seed", seed))
		return -1;
	return open("/dev/lring0", O_RDWR);
}

static int configure_fd(int fd, uint32_t count, uint32_t size, uint32_t cq_entries)
{
	struct lring_config cfg = {
		.buf_count = count, .buf_size = size, .cq_entries = cq_entries,
	};

	return ioctl_errno(fd, LRING_IOC_CONFIGURE, &cfg);
}

/* Waits until the device has delivered @n blocks on ring 0. */
static bool delivered_reaches(int64_t n)
{
	return ktest_wait_for(ktest_sysfs_read(0, "counters/delivered") >= n, 10000);
}

/* A signal that only interrupts: no SA_RESTART unless asked. */
static void on_signal(int sig)
{
	(void)sig;
}

static void catch_sigusr1(bool restart)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sa.sa_flags = restart ? SA_RESTART : 0;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
}

/*
 * Every counter snapshot LRING_IOC_GET_COUNTERS hands out balances, even
 * while the device publishes and drops as fast as it can on the other CPU.
 */
struct spin_consumer {
	struct lring *r;
	volatile bool stop;
};

static void *spin_consume(void *p)
{
	struct spin_consumer *c = p;
	uint32_t ids[64], idx;
	unsigned n, i;

	while (!c->stop) {
		n = lring_peek(c->r, 64, &idx);
		for (i = 0; i < n; i++)
			ids[i] = lring_cqe(c->r, idx + i)->buf_id;
		lring_release(c->r, n);
		if (n)
			if (lring_return(c->r, ids, n))
				ktest_diag("lring_return failed at %s:%d", __FILE__, __LINE__);
	}
	return NULL;
}

/*
 * Regression test: docs/reliability.md entry 9 (counter snapshots that did
 * not balance) and entry 18 (PREEMPT_RT: the same test in group rt).
 */
static void test_counters_snapshot(int argc, char **argv)
{
	struct spin_consumer c = { 0 };
	uint64_t snaps = 0, unbalanced = 0, until;
	struct lring_counters k;
	pthread_t t;

	(void)argc;
	(void)argv;
	/* Fast enough to drop too: both sums are in play. */
	if (!ktest_ok(!ktest_setup(0, &c.r, 8, PAGE, LRING_BACKEND_COHERENT,
				   200000, 0, 3, 0), "snapshot: setup"))
		return;
	lring_start(c.r);
	pthread_create(&t, NULL, spin_consume, &c);
	until = ktest_now_ns() + 5000000000ull;
	while (ktest_now_ns() < until) {
		if (ioctl(c.r->fd, LRING_IOC_GET_COUNTERS, &k))
			break;
		snaps++;
		if (k.produced != k.delivered + k.dropped) {
			if (!unbalanced)
				ktest_diag("produced %llu delivered %llu dropped %llu",
					   (unsigned long long)k.produced,
					   (unsigned long long)k.delivered,
					   (unsigned long long)k.dropped);
			unbalanced++;
		}
	}
	c.stop = true;
	pthread_join(t, NULL);
	ktest_ok(k.delivered > 1000 && k.dropped > 0,
		 "snapshot: the device delivered (%llu) and dropped (%llu) meanwhile",
		 (unsigned long long)k.delivered, (unsigned long long)k.dropped);
	ktest_ok(snaps > 10000 && !unbalanced,
		 "snapshot: every one of %llu snapshots has produced == delivered + dropped (%llu do not)",
		 (unsigned long long)snaps, (unsigned long long)unbalanced);
	lring_close(c.r);
}

/* read() of a pool with no kernel address refuses before taking anything. */
/* Regression test: docs/reliability.md entry 10 (read() of a USER pool stranded a buffer). */
static void test_read_user_pool(int argc, char **argv)
{
	const uint32_t count = 8;
	struct lring_config cfg = {
		.buf_count = count, .buf_size = PAGE, .backend = LRING_BACKEND_USER,
		.user_len = (uint64_t)count * PAGE,
	};
	static char chunk[PAGE];
	struct lring *r;
	void *mem;
	int fd, err;

	(void)argc;
	(void)argv;
	mem = mmap(NULL, cfg.user_len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cfg.user_addr = (uintptr_t)mem;
	fd = open_unmapped(1000, 5);
	if (!ktest_ok(fd >= 0 && !ioctl(fd, LRING_IOC_CONFIGURE, &cfg) &&
		      !ioctl(fd, LRING_IOC_START), "read user pool: setup"))
		return;
	ktest_ok(delivered_reaches(count), "read user pool: %u blocks delivered", count);
	err = read(fd, chunk, sizeof(chunk)) < 0 ? errno : 0;
	ktest_ok(err == EOPNOTSUPP, "read user pool: read() gets EOPNOTSUPP (%s)",
		 strerror(err));
	ioctl(fd, LRING_IOC_STOP);
	if (!ktest_ok(!lring_open_fd(fd, &r) && !lring_map(r), "read user pool: map"))
		return;
	ktest_ok(lring_cq_ready(r) == count,
		 "read user pool: all %u completions still wait for the application (%u)",
		 count, lring_cq_ready(r));
	lring_close(r);
	munmap(mem, cfg.user_len);
}

/* Values that can never be met are refused instead of never waking. */
/* Regression test: docs/reliability.md entry 11 (waits that could never end). */
static void test_impossible_waits(int argc, char **argv)
{
	struct lring_eventfd ev = { .fd = -1 };
	struct lring_wait w = { .timeout_ns = 50000000 };
	struct lring *r;

	(void)argc;
	(void)argv;
	if (!ktest_ok(!ktest_setup(0, &r, 16, PAGE, LRING_BACKEND_COHERENT,
				   1000, 0, 7, 0), "impossible: setup"))
		return;
	ev.fd = eventfd(0, EFD_CLOEXEC);
	ev.batch = r->layout.cq_entries + 1;
	ktest_ok(ioctl_errno(r->fd, LRING_IOC_SET_EVENTFD, &ev) == EINVAL,
		 "impossible: eventfd batch %u above cq_entries %u gets EINVAL",
		 ev.batch, r->layout.cq_entries);
	ev.batch = 0xffffffff;
	ktest_ok(ioctl_errno(r->fd, LRING_IOC_SET_EVENTFD, &ev) == EINVAL,
		 "impossible: eventfd batch 0xffffffff gets EINVAL");
	ev.batch = r->layout.cq_entries;
	ktest_ok(ioctl_errno(r->fd, LRING_IOC_SET_EVENTFD, &ev) == 0,
		 "impossible: eventfd batch == cq_entries is accepted");
	w.min_entries = r->layout.cq_entries + 1;
	ktest_ok(ioctl_errno(r->fd, LRING_IOC_WAIT, &w) == EINVAL,
		 "impossible: WAIT for %u entries of a %u-entry ring gets EINVAL",
		 w.min_entries, r->layout.cq_entries);
	w.min_entries = r->layout.cq_entries;
	ktest_ok(ioctl_errno(r->fd, LRING_IOC_WAIT, &w) == ETIMEDOUT,
		 "impossible: WAIT for a full ring is possible (ETIMEDOUT while stopped)");
	close(ev.fd);
	lring_close(r);
}

/* Sleepers of every kind on a ring that stops. */
struct sleeper {
	int fd;
	int kind;		/* 0 DQBUF, 1 read(), 2 WAIT */
	volatile int done;
	ssize_t ret;
	int err;
};

static void *sleep_in_kernel(void *p)
{
	struct sleeper *s = p;
	struct lring_wait w = { .timeout_ns = 30000000000ull };
	static char chunk[PAGE];
	struct lring_cqe cqe;

	if (s->kind == 0)
		s->ret = ioctl(s->fd, LRING_IOC_DQBUF, &cqe);
	else if (s->kind == 1)
		s->ret = read(s->fd, chunk, sizeof(chunk));
	else
		s->ret = ioctl(s->fd, LRING_IOC_WAIT, &w);
	s->err = s->ret < 0 ? errno : 0;
	s->done = 1;
	return NULL;
}

/* Regression test: docs/reliability.md entry 11 (sleepers that STOP did not wake). */
static void test_stop_wakes_sleepers(int argc, char **argv)
{
	static const char *const what[] = { "DQBUF", "read()", "WAIT" };
	struct sleeper s[3];
	struct lring_cqe cqe;
	pthread_t t[3];
	bool all;
	int fd, i;

	(void)argc;
	(void)argv;
	catch_sigusr1(false);
	fd = open_unmapped(1000, 9);
	if (!ktest_ok(fd >= 0 && !configure_fd(fd, 2, PAGE, 0) &&
		      !ioctl(fd, LRING_IOC_START), "stop: setup"))
		return;
	/* Take both buffers: the device runs dry, nothing more will come. */
	ktest_ok(delivered_reaches(2) && !ioctl(fd, LRING_IOC_DQBUF, &cqe) &&
		 !ioctl(fd, LRING_IOC_DQBUF, &cqe), "stop: both buffers taken");
	for (i = 0; i < 3; i++) {
		s[i] = (struct sleeper){ .fd = fd, .kind = i };
		pthread_create(&t[i], NULL, sleep_in_kernel, &s[i]);
	}
	ktest_sleep_ms(300);
	ktest_ok(!s[0].done && !s[1].done && !s[2].done,
		 "stop: DQBUF, read() and WAIT sleep on a dry device");
	ioctl(fd, LRING_IOC_STOP);
	all = ktest_wait_for(s[0].done && s[1].done && s[2].done, 5000);
	ktest_ok(all, "stop: every sleeper wakes when the ring stops");
	for (i = 0; i < 3; i++) {
		if (!s[i].done)
			pthread_kill(t[i], SIGUSR1);
		pthread_join(t[i], NULL);
	}
	ktest_ok(all && s[0].ret < 0 && s[0].err == ENODATA,
		 "stop: %s returns ENODATA (%zd, %s)", what[0], s[0].ret, strerror(s[0].err));
	ktest_ok(all && s[1].ret == 0, "stop: %s returns 0, end of stream (%zd, %s)",
		 what[1], s[1].ret, strerror(s[1].err));
	ktest_ok(all && s[2].ret < 0 && s[2].err == ENODATA,
		 "stop: %s returns ENODATA (%zd, %s)", what[2], s[2].ret, strerror(s[2].err));
	close(fd);
}

/* A signal ends LRING_IOC_WAIT with EINTR: no restart with the whole timeout. */
/* Regression test: docs/reliability.md entry 13 (WAIT restarted its relative timeout). */
static void test_wait_signal_eintr(int argc, char **argv)
{
	struct sleeper s = { .kind = 2 };
	struct lring *r;
	bool woke;
	pthread_t t;

	(void)argc;
	(void)argv;
	catch_sigusr1(true);
	if (!ktest_ok(!ktest_setup(0, &r, 4, PAGE, LRING_BACKEND_COHERENT,
				   1000, 0, 11, 0), "eintr: setup"))
		return;
	s.fd = r->fd;	/* never started: nothing will come */
	pthread_create(&t, NULL, sleep_in_kernel, &s);
	ktest_sleep_ms(300);
	pthread_kill(t, SIGUSR1);
	woke = ktest_wait_for(s.done, 5000);
	if (!woke) {	/* restarted with its whole timeout: end it, no hang */
		catch_sigusr1(false);
		pthread_kill(t, SIGUSR1);
	}
	pthread_join(t, NULL);
	ktest_ok(woke && s.ret < 0 && s.err == EINTR,
		 "eintr: WAIT interrupted by an SA_RESTART signal returns EINTR (%s)",
		 strerror(s.err));
	lring_close(r);
}

/* DQBUF that cannot copy its entry out leaves the completion where it was. */
/* Regression test: docs/reliability.md entry 21 (DQBUF with a bad pointer stranded buffers). */
static void test_dqbuf_bad_pointer(int argc, char **argv)
{
	struct lring_cqe cqe;
	int fd, i, efault = 0, got = 0;
	uint64_t next = 0;
	bool in_order = true;
	/* Below mmap_min_addr: never mapped. */
	void *bad = (void *)(uintptr_t)PAGE;

	(void)argc;
	(void)argv;
	fd = open_unmapped(1000, 13);
	if (!ktest_ok(fd >= 0 && !configure_fd(fd, 4, PAGE, 0) &&
		      !ioctl(fd, LRING_IOC_START), "dqbuf: setup"))
		return;
	ktest_ok(delivered_reaches(4), "dqbuf: 4 blocks delivered");
	for (i = 0; i < 4; i++)
		efault += ioctl_errno(fd, LRING_IOC_DQBUF, bad) == EFAULT;
	ktest_ok(efault == 4, "dqbuf: an unmapped argument gets EFAULT (%d of 4)", efault);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	while (!ioctl(fd, LRING_IOC_DQBUF, &cqe)) {
		in_order &= cqe.seq == next++;
		got++;
	}
	ktest_ok(got == 4 && in_order,
		 "dqbuf: the 4 completions are still there, in order (%d)", got);
	close(fd);
}

/*
 * read() walking a completion ring the application keeps rewinding (each
 * time to 2^20 - 1 entries behind the producer, onto never-written slots)
 * must not stay in the kernel: no call may take long, no soft lockup.
 */
struct rewinder {
	int fd;
	size_t size;
	uint32_t cq_entries, cons_off, prod_off;
	volatile bool stop;
	uint64_t rewinds;
};

static void *rewind_loop(void *p)
{
	struct rewinder *w = p;

	while (!w->stop) {
		uint8_t *m = mmap(NULL, w->size, PROT_READ | PROT_WRITE, MAP_SHARED, w->fd, 0);

		if (m == MAP_FAILED)
			break;
		*(volatile uint32_t *)(m + w->cons_off) =
			*(volatile uint32_t *)(m + w->prod_off) - (w->cq_entries - 1);
		munmap(m, w->size);
		w->rewinds++;
	}
	return NULL;
}

/* Regression test: docs/reliability.md entry 19 (read() walked a rewound completion ring). */
static void test_read_rewind(int argc, char **argv)
{
	struct rewinder w = { .cq_entries = LRING_MAX_RING_ENTRIES };
	uint64_t longest = 0, calls = 0, until, t0, dt;
	static char chunk[PAGE];
	struct lring_info info;
	pthread_t t;

	(void)argc;
	(void)argv;
	w.fd = open_unmapped(1000, 17);
	if (!ktest_ok(w.fd >= 0 && !configure_fd(w.fd, 1, PAGE, w.cq_entries) &&
		      !ioctl(w.fd, LRING_IOC_GET_INFO, &info) &&
		      !ioctl(w.fd, LRING_IOC_START), "rewind: setup"))
		return;
	delivered_reaches(1);
	w.size = info.layout.mmap_size;
	w.cons_off = info.layout.cq_consumer_off;
	w.prod_off = info.layout.cq_producer_off;
	fcntl(w.fd, F_SETFL, O_NONBLOCK);
	pthread_create(&t, NULL, rewind_loop, &w);
	until = ktest_now_ns() + 25000000000ull;	/* past the soft lockup limit */
	while (ktest_now_ns() < until) {
		t0 = ktest_now_ns();
		if (read(w.fd, chunk, sizeof(chunk)) < 0 && errno != EBUSY &&
		    errno != EAGAIN && errno != EIO)
			break;
		dt = ktest_now_ns() - t0;
		longest = dt > longest ? dt : longest;
		calls++;
	}
	w.stop = true;
	pthread_join(t, NULL);
	ktest_diag("rewind: %llu read() calls, %llu rewinds, longest call %llu ms",
		   (unsigned long long)calls, (unsigned long long)w.rewinds,
		   (unsigned long long)(longest / 1000000));
	ktest_ok(w.rewinds > 10, "rewind: the application rewound the ring (%llu times)",
		 (unsigned long long)w.rewinds);
	/* A bound on a hang, not a timing: a good call takes microseconds. */
	ktest_ok(calls > 10 && longest < 5000000000ull,
		 "rewind: read() keeps returning, no call stays in the kernel for seconds");
	close(w.fd);
}

/*
 * USER memory must be anonymous, hugetlbfs or shmem/memfd: a device writing
 * into a regular file's page cache for the life of the pool is refused.
 */
static int configure_user_at(int fd, void *addr, uint32_t count)
{
	struct lring_config cfg = {
		.buf_count = count, .buf_size = PAGE, .backend = LRING_BACKEND_USER,
		.user_addr = (uintptr_t)addr, .user_len = (uint64_t)count * PAGE,
	};

	return ioctl_errno(fd, LRING_IOC_CONFIGURE, &cfg);
}

static void *map_file(int file, size_t len)
{
	void *p;

	if (file < 0 || ftruncate(file, len))
		return MAP_FAILED;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, file, 0);
	close(file);
	return p;
}

/*
 * Where USER memory is not: beyond the user address space (TASK_SIZE) is
 * EINVAL, the man page's promise; a range below it that is not mapped, or
 * has a hole (e.g. past 2^47 with 5-level page tables, where mmap() only
 * goes when asked), EFAULT; and nothing stays pinned.
 * Regression test for docs/reliability.md entry 22.
 */
static void test_user_address_errors(int argc, char **argv)
{
	long long pins = ktest_pins_held();
	char *mem;
	int fd, err;

	(void)argc;
	(void)argv;
	fd = open_unmapped(1000, 31);
	mem = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!ktest_ok(fd >= 0 && mem != MAP_FAILED && !munmap(mem + 2 * PAGE, PAGE),
		      "user address: setup"))
		return;
	/* The kernel's half: past TASK_SIZE with 4- and 5-level page tables. */
	err = configure_user_at(fd, (void *)(uintptr_t)0xffff800000000000ull, 4);
	ktest_ok(err == EINVAL, "user address: a range past the user address space gets EINVAL (%s)",
		 strerror(err));
	err = configure_user_at(fd, mem, 4);
	ktest_ok(err == EFAULT, "user address: a range with a hole gets EFAULT (%s)",
		 strerror(err));
	ktest_ok(ktest_pins_held() == pins, "user address: no page stays pinned");
	close(fd);
	munmap(mem, 4 * PAGE);
}

/* Regression test: docs/reliability.md entry 8 (USER pools on a regular file's page cache). */
static void test_user_file_backed(int argc, char **argv)
{
	const char *dir = "/tmp/lring-ramfs";
	const size_t len = 4 * PAGE;
	void *ramfs, *memfd, *shared;
	int fd, err;

	(void)argc;
	(void)argv;
	mkdir(dir, 0700);
	if (!ktest_ok(!mount("none", dir, "ramfs", 0, NULL), "file-backed: mount ramfs"))
		return;
	ramfs = map_file(open("/tmp/lring-ramfs/pool", O_RDWR | O_CREAT, 0600), len);
	memfd = map_file(memfd_create("lring-pool", MFD_CLOEXEC), len);
	shared = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	fd = open_unmapped(1000, 19);
	if (!ktest_ok(fd >= 0 && ramfs != MAP_FAILED && memfd != MAP_FAILED &&
		      shared != MAP_FAILED, "file-backed: setup"))
		return;
	err = configure_user_at(fd, ramfs, 4);
	ktest_ok(err == EOPNOTSUPP,
		 "file-backed: a MAP_SHARED file on ramfs is refused with EOPNOTSUPP (%s)",
		 strerror(err));
	err = configure_user_at(fd, memfd, 4);
	ktest_ok(!err, "file-backed: memfd memory is accepted (%s)", strerror(err));
	ktest_ok(!ioctl(fd, LRING_IOC_START) && delivered_reaches(4),
		 "file-backed: and the device fills it");
	ioctl(fd, LRING_IOC_STOP);
	err = configure_user_at(fd, shared, 4);
	ktest_ok(!err, "file-backed: MAP_SHARED|MAP_ANONYMOUS (shmem) is accepted (%s)",
		 strerror(err));
	close(fd);
	munmap(ramfs, len);
	munmap(memfd, len);
	munmap(shared, len);
	ktest_ok(!umount(dir), "file-backed: ramfs unmounts: no page of it stays pinned");
}

/*
 * Pools are charged to the memory cgroup of whoever configures them, like
 * the rest of its memory: a process limited to 64 MiB cannot configure a
 * 256 MiB pool of any kernel-allocated backend (and is not OOM-killed for
 * trying: it gets ENOMEM).
 */
#define CGROUP		"/sys/fs/cgroup"
#define CGROUP_TEST	CGROUP "/lring-test"

static void configure_in_cgroup(void)
{
	static const struct { uint32_t backend; const char *name; } kinds[] = {
		{ LRING_BACKEND_COHERENT, "coherent" },
		{ LRING_BACKEND_STREAMING, "streaming" },
		{ LRING_BACKEND_NONCONTIG, "noncontig" },
	};
	char pid[16];
	unsigned i;
	int fd, err;

	snprintf(pid, sizeof(pid), "%d", getpid());
	if (!ktest_ok(!ktest_write_file(CGROUP_TEST "/cgroup.procs", pid),
		      "cgroup: the configuring process is in a 64 MiB cgroup"))
		return;
	fd = open_unmapped(1000, 29);
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		struct lring_config cfg = { .buf_count = 65536, .buf_size = PAGE,
					    .backend = kinds[i].backend };

		err = ioctl_errno(fd, LRING_IOC_CONFIGURE, &cfg);
		ktest_ok(err == ENOMEM, "cgroup: a 256 MiB %s pool gets ENOMEM (%s)",
			 kinds[i].name, strerror(err));
		cfg.buf_count = 1024;
		err = ioctl_errno(fd, LRING_IOC_CONFIGURE, &cfg);
		ktest_ok(!err, "cgroup: a 4 MiB %s pool fits (%s)", kinds[i].name,
			 strerror(err));
	}
	close(fd);
}

/* Regression test: docs/reliability.md entry 16 (pools charged to no memory cgroup). */
static void test_cgroup_limit(int argc, char **argv)
{
	int status = -1;
	pid_t pid;
	char controllers[256] = "";
	FILE *f;

	(void)argc;
	(void)argv;
	if (access(CGROUP "/cgroup.controllers", R_OK))
		mount("cgroup2", CGROUP, "cgroup2", 0, NULL);
	f = fopen(CGROUP "/cgroup.controllers", "r");
	if (!f || !fgets(controllers, sizeof(controllers), f) ||
	    !strstr(controllers, "memory")) {
		/* The debug kernel's defconfig has no CONFIG_MEMCG. */
		ktest_ok(true, "cgroup: pools charged to the memory cgroup # SKIP kernel without memory cgroups");
		if (f)
			fclose(f);
		return;
	}
	fclose(f);
	mkdir(CGROUP_TEST, 0755);
	if (!ktest_ok(!ktest_write_file(CGROUP "/cgroup.subtree_control", "+memory") &&
		      !ktest_write_file(CGROUP_TEST "/memory.max", "64M"),
		      "cgroup: a memory cgroup limited to 64 MiB"))
		return;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		configure_in_cgroup();
		fflush(stdout);
		_exit(ktest_failures ? 1 : 0);
	}
	waitpid(pid, &status, 0);
	ktest_ok(WIFEXITED(status), "cgroup: the process was not killed for asking");
	if (WIFEXITED(status))
		ktest_failures += WEXITSTATUS(status);
	rmdir(CGROUP_TEST);
}

/*
 * A file opened read-only cannot drive the rings (the application writes its
 * indices through the mapping): mmap() says so with EACCES, whatever the
 * protection asked for, instead of a puzzling EINVAL.
 * Regression test for docs/reliability.md entry 23.
 */
static void test_readonly_mapping(int argc, char **argv)
{
	struct lring_config cfg = { .buf_count = 4, .buf_size = PAGE };
	struct lring_info info;
	void *m;
	int fd;

	(void)argc;
	(void)argv;
	fd = open("/dev/lring0", O_RDONLY);
	if (!ktest_ok(fd >= 0 && !ioctl(fd, LRING_IOC_CONFIGURE, &cfg) &&
		      !ioctl(fd, LRING_IOC_GET_INFO, &info), "read-only: configure"))
		return;
	m = mmap(NULL, info.layout.mmap_size, PROT_READ, MAP_SHARED, fd, 0);
	ktest_ok(m == MAP_FAILED && errno == EACCES,
		 "read-only: a PROT_READ mapping of an O_RDONLY file gets EACCES (%s)",
		 m == MAP_FAILED ? strerror(errno) : "mapped");
	if (m != MAP_FAILED)
		munmap(m, info.layout.mmap_size);
	close(fd);
}

/*
 * An ioctl whose argument sits on a page that never resolves (userfaultfd)
 * must not hold up the device's removal.
 */
struct uffd_caller {
	int fd;
	void *arg;
	volatile int done;
	int err;
};

static void *configure_from(void *p)
{
	struct uffd_caller *c = p;

	c->err = ioctl_errno(c->fd, LRING_IOC_CONFIGURE, c->arg);
	c->done = 1;
	return NULL;
}

/* Regression test: docs/reliability.md entry 7 (user memory touched under ring->lock). */
static void test_uffd_remove(int argc, char **argv)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };
	struct uffd_caller c = { 0 };
	struct uffd_msg msg;
	struct pollfd p;
	bool removed;
	pthread_t t;
	pid_t pid;
	int uffd, status = -1;
	void *page;

	(void)argc;
	(void)argv;
	uffd = syscall(SYS_userfaultfd, O_CLOEXEC);
	page = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	reg.range.start = (uintptr_t)page;
	reg.range.len = PAGE;
	c.fd = open_unmapped(1000, 23);
	c.arg = page;
	if (!ktest_ok(uffd >= 0 && !ioctl(uffd, UFFDIO_API, &api) &&
		      !ioctl(uffd, UFFDIO_REGISTER, &reg) && c.fd >= 0,
		      "uffd: userfaultfd on the argument's page"))
		return;
	pthread_create(&t, NULL, configure_from, &c);
	/* The ioctl is now stuck reading its argument. */
	p = (struct pollfd){ .fd = uffd, .events = POLLIN };
	ktest_ok(poll(&p, 1, 5000) == 1 && read(uffd, &msg, sizeof(msg)) == sizeof(msg) &&
		 msg.event == UFFD_EVENT_PAGEFAULT && !c.done,
		 "uffd: CONFIGURE faults on its argument and waits");
	pid = fork();
	if (pid == 0) {
		execlp("rmmod", "rmmod", "lring_sim", (char *)NULL);
		_exit(127);
	}
	removed = ktest_wait_for(waitpid(pid, &status, WNOHANG) == pid, 5000);
	ktest_ok(removed && WIFEXITED(status) && WEXITSTATUS(status) == 0,
		 "uffd: the device is removed while the ioctl waits on its argument");
	/* Resolve the fault: the ioctl finishes against a dead ring. */
	{
		struct uffdio_zeropage zp = { .range = reg.range };

		ioctl(uffd, UFFDIO_ZEROPAGE, &zp);
	}
	if (!removed)
		waitpid(pid, &status, 0);
	pthread_join(t, NULL);
	ktest_ok(c.err == ENODEV, "uffd: the ioctl then fails with ENODEV (%s)",
		 strerror(c.err));
	close(c.fd);
	close(uffd);
}

static const struct ktest_subtest tests[] = {
	{ "counters_snapshot", test_counters_snapshot },
	{ "read_user_pool", test_read_user_pool },
	{ "impossible_waits", test_impossible_waits },
	{ "stop_wakes_sleepers", test_stop_wakes_sleepers },
	{ "wait_signal_eintr", test_wait_signal_eintr },
	{ "dqbuf_bad_pointer", test_dqbuf_bad_pointer },
	{ "read_rewind", test_read_rewind },
	{ "user_address_errors", test_user_address_errors },
	{ "user_file_backed", test_user_file_backed },
	{ "readonly_mapping", test_readonly_mapping },
	{ "cgroup_limit", test_cgroup_limit },
	{ "uffd_remove", test_uffd_remove },
};

int main(int argc, char **argv)
{
	return ktest_main(KTEST_SUBTESTS(tests), argc, argv);
}
