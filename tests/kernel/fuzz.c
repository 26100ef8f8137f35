// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz - hostile userspace against the lring rings, in the test VM, while a
 * well-behaved consumer on another ring checks that it is not hurt.
 *
 *   fuzz [--seed S] [--seconds T] [--rings a,b,c] [--victim N] [--threads N]
 *   fuzz repro-mmap-lock [--seconds T] [--rings a]
 *   fuzz repro-fill-livelock [--seconds T] [--rings a]
 *   fuzz repro-edu-streaming --rings a
 *
 * The fuzz: one worker process per hostile ring (default: every /dev/lringN
 * but the victim), each with --threads threads sharing one open file and its
 * mappings, doing random operations: open, close, dup, configure with random
 * fields (a third of them rings that send: LRING_CONFIG_TX), every ioctl
 * with random, NULL, kernel, unmapped, read-only and never-touched pointers,
 * random ioctl numbers inside and outside the lring range, mmap with random
 * offsets, sizes, protections and flags, partial munmap, mprotect, mremap,
 * madvise, random values in the user page and the fill ring, forged,
 * duplicate and out-of-order returns (on a sending ring, submissions of
 * random lengths, and blocks written in place), bursts of index writes while
 * another thread kicks, DQBUF/QBUF with random ids, read() and write() with
 * random sizes, poll, eventfds, start/stop/kick races, fork children that
 * inherit everything and are killed at a random moment, and writes of random
 * values to the device's sysfs parameters. A supervisor kills the worker
 * processes with SIGKILL at random times and starts new ones. Faults the
 * workers cause themselves (SIGSEGV, SIGBUS) are caught and counted.
 *
 * The victim (default ring 0, a simulated ring) runs a verifying consumer
 * the whole time: every byte of every block, contiguous sequence numbers,
 * and after stop delivered + dropped == produced. At the end every hostile
 * ring must open again and stream a verified block sequence.
 *
 * Everything random comes from --seed (printed first), so a run can be
 * replayed; thread scheduling still varies, so the operation counts are
 * printed to compare runs. The kernel log is checked by the VM harness.
 *
 * The repro-* subcommands are minimal reproducers of kernel bugs the fuzzer
 * found; see docs/reliability.md.
 */
#include "ktest.h"

#include <dirent.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define MAX_RINGS	16
#define MAX_THREADS	8
#define MAX_MAPS	32
#define MAX_FDS		8

/* Operation kinds, counted across every process in shared memory. */
#define OPS(X)								\
	X(open) X(close) X(dup) X(configure) X(get_info) X(start)	\
	X(stop) X(kick) X(set_eventfd) X(wait) X(get_counters)		\
	X(dqbuf) X(qbuf) X(read) X(write) X(poll) X(ioctl_lring)	\
	X(ioctl_random) X(mmap) X(munmap) X(mprotect) X(mremap)		\
	X(madvise) X(user_index) X(fill_forge) X(consume)		\
	X(index_burst) X(poke) X(peek_pool) X(fork) X(sysfs)
#define OP_ENUM(n) OP_##n,
enum { OPS(OP_ENUM) OP_COUNT };
#define OP_NAME(n) #n,
static const char *const op_names[] = { OPS(OP_NAME) };

struct shared {
	volatile int stop;		/* workers finish their epoch */
	volatile int victim_stop;
	uint64_t ops[OP_COUNT];
	uint64_t ok[OP_COUNT];		/* ... that the kernel accepted */
	uint64_t faults;		/* SIGSEGV/SIGBUS caught */
	uint64_t children_killed;	/* fork children SIGKILLed */
	uint64_t workers_killed;	/* worker processes SIGKILLed */
	uint64_t workers_started;
	uint64_t worker_crashes;	/* died of something but our SIGKILL */
	uint64_t stuck_children;	/* fork children that would not die */
};
static struct shared *sh;

static void count(int op, bool ok)
{
	__atomic_fetch_add(&sh->ops[op], 1, __ATOMIC_RELAXED);
	if (ok)
		__atomic_fetch_add(&sh->ok[op], 1, __ATOMIC_RELAXED);
}

/* xorshift64*: each thread has its own, seeded from the run's seed. */
static uint64_t rnd_next(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545f4914f6cdd1dULL;
}

static uint64_t mix_seed(uint64_t a, uint64_t b)
{
	uint64_t x = a ^ (b * 0x9e3779b97f4a7c15ULL);

	x ^= x >> 31;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 29;
	return x ? x : 1;
}

static uint32_t rnd_below(uint64_t *s, uint32_t n)
{
	return n ? (uint32_t)(rnd_next(s) % n) : 0;
}

static bool chance(uint64_t *s, unsigned percent)
{
	return rnd_below(s, 100) < percent;
}

/* A random 32-bit value biased to the edges where bugs live. */
static uint32_t rnd_u32_edgy(uint64_t *s)
{
	switch (rnd_below(s, 8)) {
	case 0: return 0;
	case 1: return 0xffffffffu - rnd_below(s, 4);
	case 2: return 1u << rnd_below(s, 32);
	case 3: return (1u << rnd_below(s, 32)) - 1;
	case 4: return rnd_below(s, 64);
	case 5: return 0x80000000u + rnd_below(s, 4) - 2;
	default: return (uint32_t)rnd_next(s);
	}
}

/* ------------------------------------------------------------------------
 * Faults the hostile code causes itself: each thread arms a jump buffer.
 */
static __thread sigjmp_buf fault_jb;
static __thread volatile int fault_armed;

static void fault_handler(int sig, siginfo_t *si, void *uc)
{
	(void)si;
	(void)uc;
	if (fault_armed) {
		fault_armed = 0;
		__atomic_fetch_add(&sh->faults, 1, __ATOMIC_RELAXED);
		siglongjmp(fault_jb, 1);
	}
	signal(sig, SIG_DFL);	/* a fault outside the hostile code: crash */
}

static void install_fault_handlers(void)
{
	struct sigaction sa = { .sa_sigaction = fault_handler,
				.sa_flags = SA_SIGINFO | SA_NODEFER };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
}

/* ------------------------------------------------------------------------
 * A hostile worker: one process per ring, several threads sharing its fds
 * and mappings. The tables are guarded by one mutex, held across every
 * access to a mapping so that no thread writes into memory another thread
 * has unmapped (and the allocator may have reused).
 */
struct region {
	uint8_t *addr;
	size_t len;
};

struct worker {
	int ring;
	char path[32];
	bool sim;		/* has rate/block_size */
	pthread_mutex_t lock;
	int fds[MAX_FDS];
	struct region maps[MAX_MAPS];
	struct lring_layout layout;	/* last layout GET_INFO returned */
	uint32_t held[64];	/* buffer ids seen in completions / DQBUF */
	unsigned nheld;
	int evfd;
	uint8_t *scratch;	/* 4 pages: rw, rw, read-only, PROT_NONE */
	uint8_t *fresh;		/* a page dropped with MADV_DONTNEED before use */
	uint64_t deadline_ns;
};

static __thread bool holding_lock;

static void wlock(struct worker *w)
{
	pthread_mutex_lock(&w->lock);
	holding_lock = true;
}

static void wunlock(struct worker *w)
{
	holding_lock = false;
	pthread_mutex_unlock(&w->lock);
}

static int pick_fd(struct worker *w, uint64_t *s)
{
	int fd;

	wlock(w);
	fd = w->fds[rnd_below(s, MAX_FDS)];
	if (fd < 0)
		fd = w->fds[0];
	wunlock(w);
	return fd;
}

static void add_fd(struct worker *w, int fd)
{
	int i;

	wlock(w);
	for (i = 0; i < MAX_FDS; i++) {
		if (w->fds[i] < 0) {
			w->fds[i] = fd;
			fd = -1;
			break;
		}
	}
	wunlock(w);
	if (fd >= 0)
		close(fd);
}

static void add_region(struct worker *w, void *addr, size_t len)
{
	int i;

	for (i = 0; i < MAX_MAPS; i++) {
		if (!w->maps[i].addr) {
			w->maps[i] = (struct region){ addr, len };
			return;
		}
	}
	munmap(addr, len);
}

static struct region *whole_map(struct worker *w, uint64_t *s);

/* A pointer for an ioctl or read argument: good, bad or nasty. */
static void *rnd_ptr(struct worker *w, uint64_t *s, void *good, bool *mapping)
{
	*mapping = false;
	switch (rnd_below(s, 12)) {
	case 0: return NULL;
	case 1: return (void *)(uintptr_t)rnd_below(s, 4096);
	case 2: return (void *)0xffff888000000000ull;	/* kernel direct map */
	case 3: return (void *)(uintptr_t)rnd_next(s);
	case 4: return w->scratch + 2 * 4096;		/* read-only */
	case 5: return w->scratch + 3 * 4096 - rnd_below(s, 64); /* runs into PROT_NONE */
	case 6:
		madvise(w->fresh, 4096, MADV_DONTNEED);	/* faults under the call */
		return w->fresh + rnd_below(s, 4000);
	case 7: {
		/*
		 * Inside a whole ring mapping, which ends in read-only buffers:
		 * a copy running past a writable part faults there, never in
		 * our own memory. The lock is held until done_ptr().
		 */
		struct region *r = whole_map(w, s);

		if (r) {
			*mapping = true;
			return r->addr + rnd_below(s, r->len);
		}
		return good;
	}
	default: return good;
	}
}

static void done_ptr(struct worker *w, bool mapping)
{
	if (mapping)
		wunlock(w);
}

static void rnd_fill(uint64_t *s, void *p, size_t len)
{
	uint8_t *b = p;
	size_t i;

	for (i = 0; i < len; i++)
		b[i] = (uint8_t)rnd_next(s);
}

static void rnd_config(uint64_t *s, struct lring_config *c, bool sim)
{
	memset(c, 0, sizeof(*c));
	if (chance(s, 10)) {
		rnd_fill(s, c, sizeof(*c));
		return;
	}
	c->buf_count = chance(s, 90) ? 1 + rnd_below(s, 64) : rnd_u32_edgy(s);
	c->buf_size = chance(s, 85) ? 1 + rnd_below(s, sim ? 20000 : 9000) :
				      rnd_u32_edgy(s);
	c->backend = chance(s, 90) ? rnd_below(s, LRING_BACKEND_COUNT) :
				     rnd_u32_edgy(s);
	if (chance(s, 30))
		c->cq_entries = chance(s, 70) ? 1u << rnd_below(s, 12) : rnd_u32_edgy(s);
	if (chance(s, 30))
		c->fq_entries = chance(s, 70) ? 1u << rnd_below(s, 12) : rnd_u32_edgy(s);
	if (chance(s, 30))
		c->index_base = chance(s, 50) ? 0xffffffffu - rnd_below(s, 100) :
						rnd_u32_edgy(s);
	if (chance(s, 35))
		c->flags = LRING_CONFIG_TX;
	if (chance(s, 5))
		c->flags = rnd_u32_edgy(s);
	if (chance(s, 5))
		c->resv[rnd_below(s, sizeof(c->resv) / sizeof(c->resv[0]))] = rnd_u32_edgy(s);
	/* Keep the pool small enough not to push the guest into the OOM killer. */
	if ((uint64_t)c->buf_count * ((c->buf_size + 4095ull) & ~4095ull) > (32ull << 20) &&
	    !chance(s, 2))
		c->buf_count = 1 + rnd_below(s, 8);
}

/*
 * For the pinned-user-memory backend: our scratch pages (partly read-only
 * and PROT_NONE), a never-touched page, a ring mapping of our own (pfnmap,
 * not pinnable), or a fresh anonymous region that may be unmapped later
 * while the pool has it pinned.
 */
static void user_memory(struct worker *w, uint64_t *s, struct lring_config *c)
{
	if (c->backend != LRING_BACKEND_USER && !chance(s, 5))
		return;
	if (chance(s, 80)) {
		c->buf_size = 4096 * (1 + rnd_below(s, 2));
		c->buf_count = 1 + rnd_below(s, 4);
	}
	c->user_len = (uint64_t)c->buf_count * c->buf_size;
	switch (rnd_below(s, 5)) {
	case 0: c->user_addr = (uintptr_t)w->scratch + 4096 * rnd_below(s, 4); break;
	case 1: c->user_addr = (uintptr_t)w->fresh; break;
	case 2: {
		struct region *r = whole_map(w, s);

		if (r) {
			c->user_addr = (uintptr_t)r->addr;
			wunlock(w);
		}
		break;
	}
	case 3: {
		/* Our own region, unmapped by a later OP_munmap at any moment. */
		void *m = mmap(NULL, c->user_len ? c->user_len : 4096, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (m != MAP_FAILED) {
			c->user_addr = (uintptr_t)m;
			wlock(w);
			add_region(w, m, c->user_len ? c->user_len : 4096);
			wunlock(w);
		}
		break;
	}
	default: c->user_addr = rnd_next(s) & ~4095ull;
	}
	if (chance(s, 10))
		c->user_len = rnd_next(s);
}

/* Writes a random value into a sysfs parameter of the ring's device. */
static void op_sysfs(struct worker *w, uint64_t *s)
{
	static const char *const sim_attrs[] = { "rate", "block_size", "seed" };
	const char *attr = w->sim ? sim_attrs[rnd_below(s, 3)] : "seed";
	char path[128], text[40];
	int fd, len;
	bool ok;

	snprintf(path, sizeof(path), "/sys/class/lring/lring%d/device/%s", w->ring, attr);
	switch (rnd_below(s, 6)) {
	case 0: len = snprintf(text, sizeof(text), "-%u", rnd_below(s, 100)); break;
	case 1: len = snprintf(text, sizeof(text), "%llu0000000000",
			       (unsigned long long)rnd_next(s)); break;
	case 2: len = snprintf(text, sizeof(text), "0x%x\n", rnd_u32_edgy(s)); break;
	case 3: rnd_fill(s, text, 16); len = 1 + rnd_below(s, 16); break;
	default:
		/* Mostly sane values: a fast rate would only slow the VM. */
		len = snprintf(text, sizeof(text), "%u\n",
			       !strcmp(attr, "rate") ? rnd_below(s, 20000) :
			       !strcmp(attr, "block_size") ? rnd_below(s, 70000) :
			       rnd_u32_edgy(s));
	}
	fd = open(path, chance(s, 80) ? O_WRONLY : O_RDONLY);
	ok = fd >= 0 && write(fd, text, len) == len;
	if (fd >= 0) {
		char back[64];

		lseek(fd, 0, SEEK_SET);
		if (read(fd, back, sizeof(back)) < 0)
			ok = ok && true;
		close(fd);
	}
	/* Reading every ring attribute takes ring->lock too. */
	if (chance(s, 30)) {
		static const char *const rel[] = { "state", "backend", "counters/produced",
						   "counters/rejected_ids" };

		(void)ktest_sysfs_read(w->ring, rel[rnd_below(s, 4)]);
	}
	count(OP_sysfs, ok);
}

/* A random ioctl number: lring's magic with any nr/size/dir, or anything. */
static unsigned long rnd_ioctl_cmd(uint64_t *s, bool lring_range)
{
	static const unsigned long real[] = {
		LRING_IOC_CONFIGURE, LRING_IOC_GET_INFO, LRING_IOC_START,
		LRING_IOC_STOP, LRING_IOC_KICK, LRING_IOC_SET_EVENTFD,
		LRING_IOC_WAIT, LRING_IOC_GET_COUNTERS, LRING_IOC_DQBUF,
		LRING_IOC_QBUF,
	};

	if (lring_range) {
		if (chance(s, 50))
			return real[rnd_below(s, 10)] ^ (chance(s, 50) ?
				(unsigned long)rnd_below(s, 4) << _IOC_DIRSHIFT : 0);
		return _IOC(rnd_below(s, 4), LRING_IOC_MAGIC, rnd_below(s, 32),
			    rnd_below(s, 1u << _IOC_SIZEBITS));
	}
	return chance(s, 50) ? (unsigned long)rnd_next(s) : (uint32_t)rnd_next(s);
}

/* Reads the layout through GET_INFO and remembers it for the ring writes. */
static bool refresh_layout(struct worker *w, int fd)
{
	struct lring_info info;

	if (ioctl(fd, LRING_IOC_GET_INFO, &info) || !info.configured)
		return false;
	wlock(w);
	w->layout = info.layout;
	wunlock(w);
	return true;
}

/* Picks a mapping that covers the whole layout, lock held on success. */
static struct region *whole_map(struct worker *w, uint64_t *s)
{
	int i, start = rnd_below(s, MAX_MAPS);

	wlock(w);
	for (i = 0; i < MAX_MAPS; i++) {
		struct region *r = &w->maps[(start + i) % MAX_MAPS];

		if (r->addr && w->layout.mmap_size && r->len >= w->layout.mmap_size &&
		    r->len >= w->layout.pool_off)
			return r;
	}
	wunlock(w);
	return NULL;
}

static void op_mmap(struct worker *w, uint64_t *s, int fd)
{
	size_t size = w->layout.mmap_size, len;
	int prot, flags;
	off_t off = 0;
	void *p;

	switch (rnd_below(s, 6)) {
	case 0: len = 4096ul * (1 + rnd_below(s, 64)); break;
	case 1: len = size + 4096ul * rnd_below(s, 4); break;
	case 2: len = chance(s, 20) ? rnd_next(s) & 0xffffffffffull : rnd_next(s) & 0xffffff; break;
	default: len = size ? size : 65536;
	}
	if (chance(s, 15))
		off = chance(s, 50) ? (off_t)(4096 * rnd_below(s, 32)) : (off_t)rnd_next(s);
	prot = chance(s, 70) ? PROT_READ | PROT_WRITE :
		(int)((const int[]){ PROT_READ, PROT_WRITE, PROT_NONE,
				     PROT_READ | PROT_EXEC, 7 })[rnd_below(s, 5)];
	flags = chance(s, 80) ? MAP_SHARED : MAP_PRIVATE;
	if (chance(s, 10))
		flags |= MAP_POPULATE;
	if (chance(s, 5))
		flags |= MAP_LOCKED;
	if (chance(s, 5))
		flags |= MAP_NORESERVE;
	wlock(w);
	if (chance(s, 10)) {
		/* On top of one of our own ring mappings. */
		int i = rnd_below(s, MAX_MAPS);

		if (w->maps[i].addr) {
			/* Never longer than it: MAP_FIXED would clobber our memory. */
			if (len > w->maps[i].len)
				len = w->maps[i].len;
			p = mmap(w->maps[i].addr, len, prot, flags | MAP_FIXED, fd, off);
			if (p == MAP_FAILED) {
				/* MAP_FIXED may have unmapped the old one anyway. */
				munmap(w->maps[i].addr, w->maps[i].len);
			}
			w->maps[i] = (struct region){ NULL, 0 };
			if (p != MAP_FAILED)
				w->maps[i] = (struct region){ p, len };
			wunlock(w);
			count(OP_mmap, p != MAP_FAILED);
			return;
		}
	}
	p = mmap(NULL, len, prot, flags, fd, off);
	if (p != MAP_FAILED)
		add_region(w, p, len);
	wunlock(w);
	count(OP_mmap, p != MAP_FAILED);
}

static void op_munmap(struct worker *w, uint64_t *s)
{
	int i = rnd_below(s, MAX_MAPS);
	struct region *r;
	bool ok = false;

	wlock(w);
	r = &w->maps[i];
	if (r->addr) {
		size_t pages = r->len / 4096, first, n;

		if (chance(s, 50) || pages < 2) {
			ok = !munmap(r->addr, r->len);
			*r = (struct region){ NULL, 0 };
		} else {
			/* A hole: the VMA splits, each piece has its own open/close. */
			first = rnd_below(s, pages);
			n = 1 + rnd_below(s, pages - first);
			ok = !munmap(r->addr + first * 4096, n * 4096);
			if (ok) {
				struct region right = { r->addr + (first + n) * 4096,
							r->len - (first + n) * 4096 };

				r->len = first * 4096;
				if (!r->len)
					*r = (struct region){ NULL, 0 };
				if (right.len)
					add_region(w, right.addr, right.len);
			}
		}
	}
	wunlock(w);
	count(OP_munmap, ok);
}

static void op_vm_misc(struct worker *w, uint64_t *s, int op)
{
	int i = rnd_below(s, MAX_MAPS);
	struct region *r;
	bool ok = false;

	wlock(w);
	r = &w->maps[i];
	if (r->addr) {
		size_t pages = r->len / 4096;
		size_t first = rnd_below(s, pages ? pages : 1);
		size_t n = 1 + rnd_below(s, pages > first ? pages - first : 1);
		uint8_t *a = r->addr + first * 4096;

		if (op == OP_mprotect) {
			ok = !mprotect(a, n * 4096, (int)rnd_below(s, 8));
		} else if (op == OP_madvise) {
			static const int adv[] = { MADV_DONTNEED, MADV_DONTFORK,
						   MADV_DOFORK, MADV_WILLNEED,
						   MADV_REMOVE, MADV_WIPEONFORK,
						   MADV_KEEPONFORK, MADV_COLD,
						   MADV_PAGEOUT, MADV_NORMAL };

			ok = !madvise(a, n * 4096, adv[rnd_below(s, 10)]);
		} else {
			size_t nlen = chance(s, 50) ? r->len / 2 + 4096 :
						      r->len + 4096ul * (1 + rnd_below(s, 8));
			void *p = mremap(r->addr, r->len, nlen & ~4095ul,
					 chance(s, 50) ? MREMAP_MAYMOVE : 0);

			ok = p != MAP_FAILED;
			if (ok)
				*r = (struct region){ p, nlen & ~4095ul };
		}
	}
	wunlock(w);
	count(op, ok);
}

/* Writes into the user page: consumer and producer indices, plausible or wild. */
static void op_user_index(struct worker *w, uint64_t *s)
{
	struct region *r = whole_map(w, s);
	uint32_t *p, v;

	if (!r) {
		count(OP_user_index, false);
		return;
	}
	p = (uint32_t *)(r->addr + (chance(s, 50) ? w->layout.cq_consumer_off :
						    w->layout.fq_producer_off));
	v = *p;
	switch (rnd_below(s, 4)) {
	case 0: v += rnd_below(s, 8); break;
	case 1: v -= rnd_below(s, 8); break;
	case 2: v += w->layout.cq_entries + rnd_below(s, 3) - 1; break;
	default: v = rnd_u32_edgy(s);
	}
	lring_store_release(p, v);
	wunlock(w);
	count(OP_user_index, true);
}

/*
 * Fill ring entry @i of the mapping at @base: a struct lring_fqe, or on a
 * sending ring a struct lring_sqe, which starts the same way.
 */
static struct lring_sqe *fq_entry(const struct lring_layout *l, uint8_t *base,
				  uint32_t i)
{
	return (struct lring_sqe *)(base + l->fq_entries_off +
				    (size_t)(i & (l->fq_entries - 1)) * l->fqe_size);
}

/* A submission length: mostly right, often at or past the edges. */
static uint32_t rnd_len(uint64_t *s, const struct lring_layout *l)
{
	switch (rnd_below(s, 6)) {
	case 0: return 0;
	case 1: return l->buf_size;
	case 2: return l->buf_size + 1;
	case 3: return rnd_u32_edgy(s);
	default: return 1 + rnd_below(s, l->buf_size ? l->buf_size : 1);
	}
}

static bool sends(const struct lring_layout *l)
{
	return l->fqe_size == sizeof(struct lring_sqe);
}

/* Forged, duplicate and out-of-order fill entries, published, maybe kicked. */
static void op_fill_forge(struct worker *w, uint64_t *s, int fd)
{
	struct region *r = whole_map(w, s);
	const struct lring_layout *l = &w->layout;
	uint32_t *prod, n, i;

	if (!r) {
		count(OP_fill_forge, false);
		return;
	}
	prod = (uint32_t *)(r->addr + l->fq_producer_off);
	n = 1 + rnd_below(s, l->fq_entries ? l->fq_entries : 1);
	for (i = 0; i < n; i++) {
		uint32_t id;

		switch (rnd_below(s, 4)) {
		case 0: id = w->nheld ? w->held[rnd_below(s, w->nheld)] : 0; break;
		case 1: id = rnd_below(s, l->buf_count + 2); break;
		case 2: id = rnd_u32_edgy(s); break;
		default: id = w->nheld ? w->held[(w->nheld - 1 - i % w->nheld)] : i;
		}
		fq_entry(l, r->addr, *prod + i)->buf_id = id;
		if (sends(l))
			fq_entry(l, r->addr, *prod + i)->len = rnd_len(s, l);
	}
	lring_store_release(prod, *prod + (chance(s, 90) ? n : rnd_u32_edgy(s)));
	wunlock(w);
	if (chance(s, 50))
		count(OP_kick, !ioctl(fd, LRING_IOC_KICK));
	count(OP_fill_forge, true);
}

/* Consumes like a real application, returning in a scrambled order. */
static void op_consume(struct worker *w, uint64_t *s)
{
	struct region *r = whole_map(w, s);
	const struct lring_layout *l = &w->layout;
	uint32_t prod, cons, n, i;
	volatile uint8_t sink = 0;

	if (!r) {
		count(OP_consume, false);
		return;
	}
	prod = lring_load_acquire((uint32_t *)(r->addr + l->cq_producer_off));
	cons = *(uint32_t *)(r->addr + l->cq_consumer_off);
	n = prod - cons;
	if (n > l->cq_entries)
		n = 0;
	for (i = 0; i < n && i < 64; i++) {
		const struct lring_cqe *c = (const struct lring_cqe *)
			(r->addr + l->cq_entries_off) + ((cons + i) & (l->cq_entries - 1));

		if (c->buf_id < l->buf_count && c->len <= l->buf_size) {
			uint8_t *buf = r->addr + l->pool_off +
				       (uint64_t)c->buf_id * l->buf_stride;

			/* A block to send is written in place; one received, read. */
			if (sends(l))
				memset(buf, (int)rnd_below(s, 256),
				       1 + rnd_below(s, l->buf_size ? l->buf_size : 1));
			else
				sink ^= buf[c->len ? c->len - 1 : 0];
			if (w->nheld < 64)
				w->held[w->nheld++] = c->buf_id;
		}
	}
	lring_store_release((uint32_t *)(r->addr + l->cq_consumer_off), cons + i);
	/* Give most of them back, in reverse order. */
	if (w->nheld && chance(s, 80)) {
		uint32_t *fprod = (uint32_t *)(r->addr + l->fq_producer_off);
		uint32_t p = *fprod, k = 0;

		while (w->nheld && k < l->fq_entries) {
			struct lring_sqe *e = fq_entry(l, r->addr, p + k++);

			e->buf_id = w->held[--w->nheld];
			if (sends(l))
				e->len = chance(s, 90) ? l->buf_size : rnd_len(s, l);
		}
		lring_store_release(fprod, p + k);
	}
	wunlock(w);
	(void)sink;
	count(OP_consume, n > 0);
}

/* A tight burst of fill producer writes (garbage ids) while kicking. */
static void op_index_burst(struct worker *w, uint64_t *s, int fd)
{
	struct region *r = whole_map(w, s);
	uint64_t end = ktest_now_ns() + 1000000ull * (1 + rnd_below(s, 20));
	uint32_t *prod;

	if (!r) {
		count(OP_index_burst, false);
		return;
	}
	prod = (uint32_t *)(r->addr + w->layout.fq_producer_off);
	while (ktest_now_ns() < end) {
		lring_store_release(prod, *prod + 1);
		if (chance(s, 1))
			ioctl(fd, LRING_IOC_KICK);
	}
	wunlock(w);
	count(OP_index_burst, true);
}

/* A random value at a random offset of a mapping: faults are expected. */
static void op_poke(struct worker *w, uint64_t *s)
{
	int i = rnd_below(s, MAX_MAPS);

	wlock(w);
	if (w->maps[i].addr) {
		size_t off = rnd_below(s, w->maps[i].len) & ~3ul;

		if (chance(s, 50))
			*(volatile uint32_t *)(w->maps[i].addr + off) = rnd_u32_edgy(s);
		else
			(void)*(volatile uint32_t *)(w->maps[i].addr + off);
	}
	wunlock(w);
	count(OP_poke, true);
}

/* Reads every page of a mapping (buffers of a revoked pool read as zeros). */
static void op_peek_pool(struct worker *w, uint64_t *s)
{
	int i = rnd_below(s, MAX_MAPS);
	volatile uint8_t sink = 0;
	size_t off;

	wlock(w);
	if (w->maps[i].addr)
		for (off = 0; off < w->maps[i].len && off < (8u << 20); off += 4096)
			sink ^= w->maps[i].addr[off];
	wunlock(w);
	(void)sink;
	count(OP_peek_pool, true);
}

static void do_op(struct worker *w, uint64_t *s, bool in_child);

/* Prints each line of a /proc file as a diagnostic, after @prefix. */
static void dump_proc_file(const char *path, const char *prefix)
{
	char line[256];
	FILE *f = fopen(path, "r");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		ktest_diag("%s%.*s", prefix, (int)strcspn(line, "\n"), line);
	fclose(f);
}

/*
 * Prints where each thread of a process that ignores SIGKILL sits in the
 * kernel: its state (from stat) and its kernel stack. A task stuck in the
 * kernel is a module bug (or a slow path) that only this shows.
 */
static void dump_stuck_task(pid_t pid)
{
	char path[96], prefix[32];
	struct dirent *de;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	dir = opendir(path);
	if (!dir) {
		ktest_diag("  %d: no /proc entry (%s)", pid, strerror(errno));
		return;
	}
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%.16s/stat", pid, de->d_name);
		snprintf(prefix, sizeof(prefix), "  task %.16s: ", de->d_name);
		dump_proc_file(path, prefix);
		snprintf(path, sizeof(path), "/proc/%d/task/%.16s/syscall", pid, de->d_name);
		dump_proc_file(path, "    syscall ");
		/* Three samples: a task that moves is slow, one that does not is stuck. */
		snprintf(path, sizeof(path), "/proc/%d/task/%.16s/stack", pid, de->d_name);
		for (int sample = 0; sample < 3; sample++) {
			dump_proc_file(path, "    ");
			ktest_diag("    --");
			ktest_sleep_ms(300);
		}
	}
	closedir(dir);
	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	dump_proc_file(path, "  map ");
}

/*
 * A child that inherits the fds and mappings, does a few operations (only
 * async-signal-safe ones: the parent has other threads) and is killed.
 */
static void op_fork(struct worker *w, uint64_t *s)
{
	uint64_t cs = rnd_next(s);
	int status, i;
	pid_t pid;

	wlock(w);	/* no thread is inside the tables while we fork */
	pid = fork();
	if (pid == 0) {
		volatile int n = 0;

		holding_lock = false;
		/* Dies with the thread that forked it, even if that is killed. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		pthread_mutex_init(&w->lock, NULL);
		/* The parent's jump buffer is another thread's: arm our own. */
		if (sigsetjmp(fault_jb, 1) && holding_lock)
			wunlock(w);
		while (n++ < 1000) {
			fault_armed = 1;
			do_op(w, &cs, true);
		}
		_exit(0);
	}
	wunlock(w);
	if (pid < 0) {
		count(OP_fork, false);
		return;
	}
	ktest_sleep_ms(rnd_below(s, 30));
	kill(pid, SIGKILL);
	for (i = 0; i < 1000; i++) {
		pid_t got = waitpid(pid, &status, WNOHANG);

		if (got == pid) {
			if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
				__atomic_fetch_add(&sh->children_killed, 1, __ATOMIC_RELAXED);
			break;
		}
		ktest_sleep_ms(10);
	}
	if (i == 1000) {
		__atomic_fetch_add(&sh->stuck_children, 1, __ATOMIC_RELAXED);
		ktest_diag("fork child %d did not die within 10 s of SIGKILL:", pid);
		dump_stuck_task(pid);
		waitpid(pid, &status, 0);
	}
	count(OP_fork, true);
}

static void do_op(struct worker *w, uint64_t *s, bool in_child)
{
	int fd = pick_fd(w, s), ret, op = rnd_below(s, OP_COUNT);
	uint8_t buf[512] __attribute__((aligned(8)));
	bool m;
	void *p;

	if (in_child && (op == OP_fork || op == OP_sysfs || op == OP_index_burst))
		op = OP_fill_forge;
	rnd_fill(s, buf, 64);
	switch (op) {
	case OP_open: {
		static const int modes[] = { O_RDWR, O_RDONLY, O_WRONLY, O_RDWR | O_NONBLOCK };

		ret = open(w->path, modes[rnd_below(s, 4)] | O_CLOEXEC);
		count(op, ret >= 0);
		if (ret >= 0)
			add_fd(w, ret);
		break;
	}
	case OP_close: {
		int i = rnd_below(s, MAX_FDS);

		wlock(w);
		fd = w->fds[i];
		w->fds[i] = -1;
		wunlock(w);
		count(op, fd >= 0 && !close(fd));
		break;
	}
	case OP_dup:
		ret = fd >= 0 ? fcntl(fd, F_DUPFD_CLOEXEC, 3) : -1;
		count(op, ret >= 0);
		if (ret >= 0)
			add_fd(w, ret);
		break;
	case OP_configure:
		rnd_config(s, (struct lring_config *)buf, w->sim);
		user_memory(w, s, (struct lring_config *)buf);
		p = rnd_ptr(w, s, buf, &m);
		ret = ioctl(fd, LRING_IOC_CONFIGURE, p);
		done_ptr(w, m);
		count(op, !ret);
		if (!ret)
			refresh_layout(w, fd);
		break;
	case OP_get_info:
		p = rnd_ptr(w, s, buf, &m);
		ret = ioctl(fd, LRING_IOC_GET_INFO, p);
		done_ptr(w, m);
		count(op, !ret);
		if (!ret && chance(s, 50))
			refresh_layout(w, fd);
		break;
	case OP_start:
		count(op, !ioctl(fd, LRING_IOC_START));
		break;
	case OP_stop:
		count(op, !ioctl(fd, LRING_IOC_STOP));
		break;
	case OP_kick:
		count(op, !ioctl(fd, LRING_IOC_KICK));
		break;
	case OP_set_eventfd: {
		struct lring_eventfd *ev = (void *)buf;

		memset(ev, 0, sizeof(*ev));
		ev->fd = (int)((const int[]){ -1, w->evfd, fd, 0, -2,
					      (int)rnd_u32_edgy(s) })[rnd_below(s, 6)];
		ev->batch = chance(s, 70) ? rnd_below(s, 8) : rnd_u32_edgy(s);
		if (chance(s, 5))
			ev->resv[0] = 1;
		p = rnd_ptr(w, s, buf, &m);
		ret = ioctl(fd, LRING_IOC_SET_EVENTFD, p);
		done_ptr(w, m);
		count(op, !ret);
		break;
	}
	case OP_wait: {
		struct lring_wait *wt = (void *)buf;

		memset(wt, 0, sizeof(*wt));
		wt->timeout_ns = chance(s, 95) ? rnd_below(s, 20000000) :
			(in_child ? ~0ull : (uint64_t)rnd_next(s));
		wt->min_entries = chance(s, 80) ? rnd_below(s, 4) : rnd_u32_edgy(s);
		if (chance(s, 3))
			wt->resv = 1;
		p = rnd_ptr(w, s, buf, &m);
		ret = ioctl(fd, LRING_IOC_WAIT, p);
		done_ptr(w, m);
		count(op, ret >= 0);
		break;
	}
	case OP_get_counters:
		p = rnd_ptr(w, s, buf, &m);
		ret = ioctl(fd, LRING_IOC_GET_COUNTERS, p);
		done_ptr(w, m);
		count(op, !ret);
		break;
	case OP_dqbuf: {
		bool block = chance(s, 10);

		if (block)
			fcntl(fd, F_SETFL, 0);
		p = rnd_ptr(w, s, buf, &m);
		ret = ioctl(fd, LRING_IOC_DQBUF, p);
		done_ptr(w, m);
		if (block)
			fcntl(fd, F_SETFL, O_NONBLOCK);
		count(op, !ret);
		wlock(w);
		if (!ret && p == buf && w->nheld < 64)
			w->held[w->nheld++] = ((struct lring_cqe *)buf)->buf_id;
		wunlock(w);
		break;
	}
	case OP_qbuf: {
		uint32_t *id = (void *)buf;

		wlock(w);
		*id = chance(s, 60) && w->nheld ? w->held[rnd_below(s, w->nheld)] :
						  rnd_u32_edgy(s);
		if (w->nheld && chance(s, 50))
			w->nheld--;
		wunlock(w);
		p = rnd_ptr(w, s, buf, &m);
		ret = ioctl(fd, LRING_IOC_QBUF, p);
		done_ptr(w, m);
		count(op, !ret);
		break;
	}
	case OP_read: {
		size_t len = chance(s, 70) ? rnd_below(s, sizeof(buf) + 1) :
					     (size_t)rnd_next(s) >> rnd_below(s, 64);

		fcntl(fd, F_SETFL, chance(s, 90) ? O_NONBLOCK : 0);
		p = rnd_ptr(w, s, buf, &m);
		/* Never past the page the pointer is in: it may be our own memory. */
		if (p == buf && len > sizeof(buf))
			len = sizeof(buf);
		else if (p != buf && len > 4096 - ((uintptr_t)p & 4095))
			len = 4096 - ((uintptr_t)p & 4095);
		ret = (int)read(fd, p, len);
		done_ptr(w, m);
		fcntl(fd, F_SETFL, O_NONBLOCK);
		count(op, ret >= 0);
		break;
	}
	case OP_write:
		count(op, write(fd, buf, rnd_below(s, 64)) >= 0);
		break;
	case OP_poll: {
		struct pollfd pf = { .fd = fd, .events = (short)rnd_next(s) };

		count(op, poll(&pf, 1, rnd_below(s, 10)) >= 0);
		break;
	}
	case OP_ioctl_lring:
	case OP_ioctl_random: {
		unsigned long cmd = rnd_ioctl_cmd(s, op == OP_ioctl_lring);

		/* Blocking ones only with a short wait or non-blocking. */
		if (cmd == LRING_IOC_WAIT)
			cmd = LRING_IOC_KICK;
		p = rnd_ptr(w, s, buf, &m);
		ret = ioctl(fd, cmd, p);
		done_ptr(w, m);
		count(op, !ret);
		break;
	}
	case OP_mmap:
		op_mmap(w, s, fd);
		break;
	case OP_munmap:
		op_munmap(w, s);
		break;
	case OP_mprotect:
	case OP_mremap:
	case OP_madvise:
		op_vm_misc(w, s, op);
		break;
	case OP_user_index:
		op_user_index(w, s);
		break;
	case OP_fill_forge:
		op_fill_forge(w, s, fd);
		break;
	case OP_consume:
		op_consume(w, s);
		break;
	case OP_index_burst:
		op_index_burst(w, s, fd);
		break;
	case OP_poke:
		op_poke(w, s);
		break;
	case OP_peek_pool:
		op_peek_pool(w, s);
		break;
	case OP_fork:
		op_fork(w, s);
		break;
	case OP_sysfs:
		op_sysfs(w, s);
		break;
	}
}

struct wthread {
	struct worker *w;
	uint64_t seed;
	pthread_t t;
};

static void *worker_thread(void *p)
{
	struct wthread *t = p;
	struct worker *w = t->w;
	uint64_t s = t->seed;

	while (!sh->stop && ktest_now_ns() < w->deadline_ns) {
		if (sigsetjmp(fault_jb, 1)) {
			/* A fault while a mapping was in use: drop the lock. */
			if (holding_lock)
				wunlock(w);
			continue;
		}
		fault_armed = 1;
		do_op(w, &s, false);
		fault_armed = 0;
	}
	return NULL;
}

/* One worker process: a few threads on one ring for one epoch. */
static int worker_main(int ring, uint64_t seed, unsigned nthreads, unsigned epoch_ms)
{
	struct wthread t[MAX_THREADS];
	struct worker w = { .ring = ring, .evfd = -1 };
	uint64_t s = seed;
	char attr[128];
	unsigned i;
	int fd = -1;

	install_fault_handlers();
	pthread_mutex_init(&w.lock, NULL);
	ktest_dev_path(ring, w.path, sizeof(w.path));
	snprintf(attr, sizeof(attr), "/sys/class/lring/lring%d/device/rate", ring);
	w.sim = access(attr, F_OK) == 0;
	for (i = 0; i < MAX_FDS; i++)
		w.fds[i] = -1;
	/* The previous worker's file may still be going away. */
	for (i = 0; i < 200 && fd < 0; i++) {
		fd = open(w.path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0)
			ktest_sleep_ms(10);
	}
	if (fd >= 0)
		w.fds[0] = fd;
	w.evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	w.scratch = mmap(NULL, 4 * 4096, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	/* A guard page after it: copies running off its end fault. */
	w.fresh = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (w.scratch == MAP_FAILED || w.fresh == MAP_FAILED)
		return 3;
	mprotect(w.scratch + 2 * 4096, 4096, PROT_READ);
	mprotect(w.scratch + 3 * 4096, 4096, PROT_NONE);
	mprotect(w.fresh + 4096, 4096, PROT_NONE);
	/* Start from a sane configuration half of the time. */
	if (fd >= 0 && chance(&s, 50)) {
		struct lring_config c = { .buf_count = 1 + rnd_below(&s, 32),
					  .buf_size = 1 + rnd_below(&s, 8192),
					  .backend = rnd_below(&s, 2),
					  .flags = chance(&s, 40) ? LRING_CONFIG_TX : 0 };

		if (!ioctl(fd, LRING_IOC_CONFIGURE, &c) && refresh_layout(&w, fd)) {
			void *m = mmap(NULL, w.layout.mmap_size, PROT_READ | PROT_WRITE,
				       MAP_SHARED, fd, 0);

			if (m != MAP_FAILED)
				add_region(&w, m, w.layout.mmap_size);
			ioctl(fd, LRING_IOC_START);
		}
	}
	w.deadline_ns = ktest_now_ns() + epoch_ms * 1000000ull;
	for (i = 0; i < nthreads; i++) {
		t[i] = (struct wthread){ .w = &w, .seed = mix_seed(seed, i + 1) };
		pthread_create(&t[i].t, NULL, worker_thread, &t[i]);
	}
	for (i = 0; i < nthreads; i++)
		pthread_join(t[i].t, NULL);
	return 0;
}

/* ------------------------------------------------------------------------
 * The victim: a well-behaved verifying consumer on its own ring.
 */
struct victim_result {
	struct ktest_stream s;
	struct lring_counters c;
	bool setup_ok;
	bool done;
};

static void victim_main(int ring, uint64_t seed, struct victim_result *res)
{
	struct ktest_stream *s = &res->s;
	struct lring *r;

	*s = (struct ktest_stream){ .seed = seed & 0xffffffffu, .expect_len = 1000,
				    .shuffle = true, .seed_rng = (unsigned)seed };
	if (ktest_setup(ring, &r, 32, 1000, LRING_BACKEND_STREAMING, 0, 0,
			s->seed, 0xffffffffu - 5000))
		_exit(1);
	res->setup_ok = true;
	lring_start(r);
	while (!sh->victim_stop) {
		if (!ktest_consume(r, s, 64))
			sched_yield();
	}
	lring_stop(r);
	while (ktest_consume(r, s, 256))
		;
	if (ioctl(r->fd, LRING_IOC_GET_COUNTERS, &res->c))
		memset(&res->c, 0xff, sizeof(res->c));
	lring_close(r);
	res->done = true;
	_exit(0);
}

/*
 * Opens and configures ring @ring after the fuzz: files of killed processes
 * may still be going away, so it waits for the ring to open, then retries
 * while it is busy. Return: 0 or -errno, with the ring in @out.
 */
static int reopen_ring(int ring, const struct lring_config *cfg,
		       struct lring **out)
{
	char path[32];
	int i, ret = -EBUSY;

	ktest_dev_path(ring, path, sizeof(path));
	for (i = 0; i < 1000; i++) {
		int fd = open(path, O_RDWR);

		if (fd >= 0) {
			close(fd);
			break;
		}
		ktest_sleep_ms(10);
	}
	for (i = 0; i < 10 && ret == -EBUSY; i++) {
		ret = ktest_open_configured(ring, out, cfg);
		if (ret == -EBUSY)
			ktest_sleep_ms(20);
	}
	return ret;
}

/*
 * After the fuzz, a ring that can send still does: @want blocks, each
 * taken, sent exactly once and, on the simulated sink, read intact.
 */
static void check_ring_sends(int ring, bool sim)
{
	struct lring_config cfg = { .buf_count = 8, .buf_size = 2000,
				    .backend = ktest_cached_backend(ring),
				    .flags = LRING_CONFIG_TX };
	uint64_t seed = 0x5e4d0000u + ring, want = sim ? 500 : 4, sent = 0;
	uint64_t deadline = ktest_now_ns() + 60000000000ull;
	struct lring_counters c = { 0 };
	struct lring_sqe sqes[8];
	struct lring *r = NULL;
	uint32_t ids[8];
	unsigned n, i;
	int ret;

	if (sim) {
		ktest_sim_set(ring, "rate", 0);
		ktest_sim_set(ring, "seed", seed);
	}
	ret = reopen_ring(ring, &cfg, &r);
	if (!ktest_ok(!ret, "after fuzz: ring %d configures to send (%d)", ring, ret))
		return;
	lring_start(r);
	while (ktest_now_ns() < deadline && !lring_counters(r, &c) &&
	       c.delivered < want) {
		n = lring_take_free(r, want - sent < 8 ? want - sent : 8, ids);
		for (i = 0; i < n; i++) {
			ktest_write_block(lring_buf(r, ids[i]), cfg.buf_size, seed, sent++);
			sqes[i] = (struct lring_sqe){ .buf_id = ids[i], .len = cfg.buf_size };
		}
		if (lring_send(r, sqes, n))
			break;
		if (!n)
			lring_wait(r, 100);
	}
	lring_stop(r);
	lring_counters(r, &c);
	ktest_ok(c.delivered == want && c.returned == want && !c.cancelled,
		 "after fuzz: ring %d sends %llu blocks, each once (sent %llu, submitted %llu)",
		 ring, (unsigned long long)want, (unsigned long long)c.delivered,
		 (unsigned long long)c.returned);
	if (sim)
		ktest_ok(ktest_sysfs_read(ring, "device/tx_mismatches") == 0,
			 "after fuzz: ring %d's sink read every block intact", ring);
	lring_close(r);
}

/* After the fuzz: the ring opens again and streams a verified sequence. */
static void check_ring_usable(int ring)
{
	struct ktest_stream s = { .seed = 0x5eed0000u + ring, .shuffle = true };
	struct lring_config cfg = { 0 };
	struct lring_counters c;
	struct lring *r = NULL;
	char attr[128];
	uint64_t want;
	bool sim;
	int ret;

	snprintf(attr, sizeof(attr), "/sys/class/lring/lring%d/device/rate", ring);
	sim = access(attr, F_OK) == 0;
	if (ktest_ring_can(ring, "tx"))
		check_ring_sends(ring, sim);
	if (!ktest_ring_can(ring, "rx"))
		return;
	want = sim ? 2000 : 5;
	s.expect_len = sim ? 1500 : 2000;
	cfg.buf_count = sim ? 16 : 4;
	cfg.buf_size = s.expect_len;
	cfg.backend = sim ? LRING_BACKEND_COHERENT : ktest_cached_backend(ring);
	if (sim) {
		ktest_sim_set(ring, "rate", 0);
		ktest_sim_set(ring, "block_size", 0);
	}
	ktest_sim_set(ring, "seed", s.seed);	/* edu has one too */
	ret = reopen_ring(ring, &cfg, &r);
	if (!ktest_ok(!ret, "after fuzz: ring %d opens and configures (%d)", ring, ret))
		return;
	lring_start(r);
	ktest_ok(ktest_consume_until(r, &s, want, 60000),
		 "after fuzz: ring %d streams %llu blocks", ring, (unsigned long long)want);
	lring_stop(r);
	while (ktest_consume(r, &s, 256))
		;
	ioctl(r->fd, LRING_IOC_GET_COUNTERS, &c);
	ktest_ok(!s.bad_data && !s.bad_seq && !s.bad_len,
		 "after fuzz: ring %d every byte right (%llu bad data, %llu bad seq, %llu bad len)",
		 ring, (unsigned long long)s.bad_data, (unsigned long long)s.bad_seq,
		 (unsigned long long)s.bad_len);
	ktest_ok(c.produced == c.delivered + c.dropped && c.delivered == s.buffers,
		 "after fuzz: ring %d balances: produced %llu == delivered %llu + dropped %llu, seen %llu",
		 ring, (unsigned long long)c.produced, (unsigned long long)c.delivered,
		 (unsigned long long)c.dropped, (unsigned long long)s.buffers);
	lring_close(r);
}

static int parse_rings(const char *arg, int *rings)
{
	int n = 0;

	while (*arg && n < MAX_RINGS) {
		rings[n++] = (int)strtol(arg, (char **)&arg, 0);
		if (*arg == ',')
			arg++;
		else
			break;
	}
	return n;
}

static int all_rings_but(int victim, int *rings)
{
	char path[32];
	int i, n = 0;

	for (i = 0; i < MAX_RINGS; i++) {
		ktest_dev_path(i, path, sizeof(path));
		if (i != victim && access(path, F_OK) == 0)
			rings[n++] = i;
	}
	return n;
}

static pid_t spawn_worker(int ring, uint64_t seed, unsigned threads, unsigned epoch_ms)
{
	pid_t pid = fork();

	if (pid == 0) {
		/* Its own process group: a kill takes its fork children too. */
		setpgid(0, 0);
		_exit(worker_main(ring, seed, threads, epoch_ms));
	}
	setpgid(pid, pid);
	if (pid > 0)
		__atomic_fetch_add(&sh->workers_started, 1, __ATOMIC_RELAXED);
	return pid;
}

/* Waits for a worker; true if it went as expected (exit 0 or our SIGKILL). */
static bool reap_worker(pid_t pid, bool killed_by_us)
{
	int status, i;

	for (i = 0; i < 3000; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid) {
			if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
				return true;
			if (killed_by_us && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
				return true;
			ktest_diag("worker %d ended with status %#x", pid, status);
			__atomic_fetch_add(&sh->worker_crashes, 1, __ATOMIC_RELAXED);
			return false;
		}
		ktest_sleep_ms(10);
	}
	ktest_diag("worker %d did not die within 30 s of SIGKILL; its threads:", pid);
	dump_stuck_task(pid);
	__atomic_fetch_add(&sh->worker_crashes, 1, __ATOMIC_RELAXED);
	return false;
}

static int fuzz_main(uint64_t seed, unsigned seconds, int *rings, int nrings,
		     int victim, unsigned threads)
{
	struct victim_result *vr;
	pid_t workers[MAX_RINGS], vpid;
	uint64_t s = seed, end, t0 = ktest_now_ns(), gen = 0, total = 0;
	int i, status;

	ktest_diag("fuzz: seed %llu, %u s, victim ring %d, %d hostile rings, %u threads each",
		   (unsigned long long)seed, seconds, victim, nrings, threads);
	ktest_diag("fuzz: replay with: fuzz --seed %llu --seconds %u --victim %d --threads %u",
		   (unsigned long long)seed, seconds, victim, threads);
	vr = mmap(NULL, sizeof(*vr), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	vpid = fork();
	if (vpid == 0)
		victim_main(victim, seed, vr);
	ktest_sleep_ms(200);
	for (i = 0; i < nrings; i++)
		workers[i] = spawn_worker(rings[i], mix_seed(seed, 1000 + gen++), threads,
					  500 + rnd_below(&s, 3000));
	end = t0 + seconds * 1000000000ull;
	while (ktest_now_ns() < end) {
		ktest_sleep_ms(50 + rnd_below(&s, 400));
		for (i = 0; i < nrings; i++) {
			bool kill_it = chance(&s, 15);
			pid_t got;

			if (kill_it) {
				kill(-workers[i], SIGKILL);
				__atomic_fetch_add(&sh->workers_killed, 1, __ATOMIC_RELAXED);
				reap_worker(workers[i], true);
			} else {
				got = waitpid(workers[i], &status, WNOHANG);
				if (got != workers[i])
					continue;
				kill(-workers[i], SIGKILL);	/* fork children left over */
				if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
					ktest_diag("worker on ring %d ended with status %#x",
						   rings[i], status);
					__atomic_fetch_add(&sh->worker_crashes, 1,
							   __ATOMIC_RELAXED);
				}
			}
			workers[i] = spawn_worker(rings[i], mix_seed(seed, 1000 + gen++),
						  threads, 300 + rnd_below(&s, 3000));
		}
	}
	sh->stop = 1;
	for (i = 0; i < nrings; i++) {
		/* Threads may sleep in a blocking call: SIGKILL ends them. */
		ktest_sleep_ms(100);
		kill(-workers[i], SIGKILL);
		reap_worker(workers[i], true);
	}
	sh->victim_stop = 1;
	waitpid(vpid, &status, 0);

	for (i = 0; i < OP_COUNT; i++) {
		ktest_diag("ops %-13s %10llu  accepted %10llu", op_names[i],
			   (unsigned long long)sh->ops[i], (unsigned long long)sh->ok[i]);
		total += sh->ops[i];
	}
	ktest_diag("fuzz: %llu operations in %.1f s; %llu faults caught, %llu worker processes "
		   "(%llu SIGKILLed), %llu fork children SIGKILLed", (unsigned long long)total,
		   (ktest_now_ns() - t0) / 1e9, (unsigned long long)sh->faults,
		   (unsigned long long)sh->workers_started,
		   (unsigned long long)sh->workers_killed,
		   (unsigned long long)sh->children_killed);
	ktest_ok(total > 0 && sh->ops[OP_configure] && sh->ok[OP_mmap] && sh->ok[OP_start],
		 "fuzz: operations ran (%llu; %llu configures, %llu mappings, %llu starts accepted)",
		 (unsigned long long)total, (unsigned long long)sh->ok[OP_configure],
		 (unsigned long long)sh->ok[OP_mmap], (unsigned long long)sh->ok[OP_start]);
	ktest_ok(sh->worker_crashes == 0,
		 "fuzz: every worker ended by exit or our SIGKILL (%llu did not)",
		 (unsigned long long)sh->worker_crashes);
	ktest_ok(sh->stuck_children == 0, "fuzz: every fork child died at SIGKILL (%llu stuck)",
		 (unsigned long long)sh->stuck_children);
	if (ktest_ok(WIFEXITED(status) && WEXITSTATUS(status) == 0 && vr->done,
		     "fuzz: victim ring %d consumer ran to the end", victim)) {
		const struct ktest_stream *vs = &vr->s;
		const struct lring_counters *c = &vr->c;

		ktest_ok(vs->buffers > 0 && !vs->bad_data && !vs->bad_seq && !vs->bad_len,
			 "fuzz: victim saw %llu blocks (%llu bytes), every byte right "
			 "(%llu bad data, %llu bad seq, %llu bad len)",
			 (unsigned long long)vs->buffers, (unsigned long long)vs->bytes,
			 (unsigned long long)vs->bad_data, (unsigned long long)vs->bad_seq,
			 (unsigned long long)vs->bad_len);
		ktest_ok(c->produced == c->delivered + c->dropped &&
			 c->delivered == vs->buffers && c->dropped == 0,
			 "fuzz: victim balances: produced %llu == delivered %llu + dropped %llu, "
			 "consumer saw %llu", (unsigned long long)c->produced,
			 (unsigned long long)c->delivered, (unsigned long long)c->dropped,
			 (unsigned long long)vs->buffers);
		ktest_ok(c->rejected_ids == 0 && c->rejected_indices == 0,
			 "fuzz: victim ring rejected nothing (ids %llu, indices %llu)",
			 (unsigned long long)c->rejected_ids,
			 (unsigned long long)c->rejected_indices);
	}
	for (i = 0; i < nrings; i++)
		check_ring_usable(rings[i]);
	ktest_diag("fuzz: seed %llu", (unsigned long long)seed);
	return ktest_exit();
}

/* ------------------------------------------------------------------------
 * Reproducers.
 */
struct repro {
	int fd;
	uint8_t *arg;
	volatile uint64_t progress[2];
};

static void *repro_ioctl_thread(void *p)
{
	struct repro *r = p;

	for (;;) {
		/* Every call faults the argument page in under ring->lock. */
		madvise(r->arg, 4096, MADV_DONTNEED);
		ioctl(r->fd, LRING_IOC_GET_INFO, r->arg);
		r->progress[0]++;
	}
	return NULL;
}

static void *repro_mmap_thread(void *p)
{
	struct repro *r = p;

	for (;;) {
		/* mmap_lock held for writing, then ring->lock in lring_mmap(). */
		void *m = mmap(NULL, 4096, PROT_READ, MAP_SHARED, r->fd, 0);

		if (m != MAP_FAILED)
			munmap(m, 4096);
		r->progress[1]++;
	}
	return NULL;
}

/*
 * lring_ioctl() copies from and to userspace under ring->lock, which may
 * fault and take mmap_lock; lring_mmap() runs with mmap_lock held for
 * writing and takes ring->lock. Two threads of one process doing both
 * deadlock (ABBA), unkillably. The threads run in a child; this process
 * watches their progress through shared memory, so that it can report
 * (with the stuck tasks' kernel stacks) and end even if they hang.
 * Regression test for docs/reliability.md entry 1.
 */
static int repro_mmap_lock(int ring, unsigned seconds)
{
	struct lring_config cfg = { .buf_count = 4, .buf_size = 4096,
				    .backend = ktest_cached_backend(ring) };
	uint64_t end, last[2] = { 0, 0 }, stall_since = 0;
	struct repro *r;
	bool stuck = false;
	char path[32];
	pid_t pid;
	int status;

	r = mmap(NULL, sizeof(*r), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ktest_dev_path(ring, path, sizeof(path));
	r->fd = open(path, O_RDWR);
	if (!ktest_ok(r->fd >= 0 && !ioctl(r->fd, LRING_IOC_CONFIGURE, &cfg),
		      "repro-mmap-lock: ring %d configured", ring))
		return ktest_exit();
	pid = fork();
	if (pid == 0) {
		pthread_t t[2];

		r->arg = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		pthread_create(&t[0], NULL, repro_ioctl_thread, r);
		pthread_create(&t[1], NULL, repro_mmap_thread, r);
		pause();
		_exit(0);
	}
	close(r->fd);
	end = ktest_now_ns() + seconds * 1000000000ull;
	while (ktest_now_ns() < end) {
		ktest_sleep_ms(100);
		if (r->progress[0] == last[0] && r->progress[1] == last[1]) {
			if (!stall_since)
				stall_since = ktest_now_ns();
			if (ktest_now_ns() - stall_since > 3000000000ull) {
				stuck = true;
				break;
			}
		} else {
			stall_since = 0;
		}
		last[0] = r->progress[0];
		last[1] = r->progress[1];
	}
	ktest_ok(!stuck,
		 "repro-mmap-lock: GET_INFO (fault under ring->lock) and mmap (ring->lock "
		 "under mmap_lock) in two threads keep making progress for %u s "
		 "(%llu ioctls, %llu mmaps)", seconds,
		 (unsigned long long)r->progress[0], (unsigned long long)r->progress[1]);
	if (stuck) {
		ktest_diag("repro-mmap-lock: no progress for 3 s; kernel stacks of the child:");
		dump_stuck_task(pid);
		kill(pid, SIGKILL);
		ktest_diag("repro-mmap-lock: the child (pid %d) stays in D state holding ring %d",
			   pid, ring);
		return ktest_exit();	/* no waitpid: it never ends */
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return ktest_exit();
}

/*
 * The streaming backend allocates its pages anywhere in RAM and maps them
 * for the device; for a device whose DMA mask does not reach them (edu: 28
 * bits) on a machine without swiotlb or an IOMMU, the DMA API WARNs. Any
 * user who may open the ring triggers it with LRING_IOC_CONFIGURE. Run with
 * more RAM than the mask reaches (2 GiB); the harness sees the WARNING.
 * Regression test for docs/reliability.md entry 2.
 */
static int repro_edu_streaming(int ring)
{
	struct lring_config cfg = { .buf_count = 256, .buf_size = 65536,
				    .backend = LRING_BACKEND_STREAMING };
	char path[32];
	int fd, ret, i;

	ktest_dev_path(ring, path, sizeof(path));
	fd = open(path, O_RDWR);
	if (!ktest_ok(fd >= 0, "repro-edu-streaming: open %s", path))
		return ktest_exit();
	for (i = 0, ret = 0; i < 4; i++)
		ret = ioctl(fd, LRING_IOC_CONFIGURE, &cfg) ? errno : 0;
	ktest_diag("repro-edu-streaming: configure streaming 256 x 64 KiB: %s",
		   ret ? strerror(ret) : "accepted");
	close(fd);
	ktest_ok(true, "repro-edu-streaming: ran (the verdict is the kernel log's)");
	return ktest_exit();
}

struct hammer {
	uint32_t *prod;
	volatile int stop;
	volatile uint64_t writes;
};

static void *hammer_thread(void *p)
{
	struct hammer *h = p;

	while (!h->stop) {
		lring_store_release(h->prod, *h->prod + 1);
		h->writes++;
	}
	return NULL;
}

/*
 * lring_refill() loops while the fill producer keeps moving and the device
 * has no buffer, under ring->irq_lock with interrupts off: a thread that
 * keeps bumping the producer holds a CPU in the kernel for as long as it
 * likes.
 * Regression test for docs/reliability.md entry 5 (and the paragraph on
 * repro-fill-livelock just before that list).
 */
static int repro_fill_livelock(int ring, unsigned seconds)
{
	struct hammer h = { 0 };
	struct lring *r;
	uint64_t t0, worst = 0, kicks = 0, end;
	uint32_t idx;
	pthread_t t;

	if (!ktest_ok(!ktest_setup(ring, &r, 1, 64, LRING_BACKEND_COHERENT, 1000, 0, 1, 0),
		      "repro-fill-livelock: ring %d setup", ring))
		return ktest_exit();
	lring_start(r);
	/* Hold the only buffer: the device has nothing left. */
	while (!lring_peek(r, 1, &idx))
		sched_yield();
	lring_release(r, 1);
	h.prod = r->fq_producer;
	pthread_create(&t, NULL, hammer_thread, &h);
	end = ktest_now_ns() + seconds * 1000000000ull;
	while (ktest_now_ns() < end) {
		t0 = ktest_now_ns();
		ioctl(r->fd, LRING_IOC_KICK);
		t0 = ktest_now_ns() - t0;
		if (t0 > worst)
			worst = t0;
		kicks++;
		if (worst > 1000000000ull)
			break;
	}
	h.stop = 1;
	pthread_join(t, NULL);
	ktest_ok(worst < 100000000ull,
		 "repro-fill-livelock: a kick returns within 100 ms while another thread "
		 "moves the fill producer (worst %.3f s over %llu kicks, %llu index writes)",
		 worst / 1e9, (unsigned long long)kicks, (unsigned long long)h.writes);
	lring_stop(r);
	lring_close(r);
	return ktest_exit();
}

int main(int argc, char **argv)
{
	uint64_t seed = 1;
	unsigned seconds = 60, threads = 3;
	int rings[MAX_RINGS], nrings = 0, victim = 0, i;
	const char *repro = NULL;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--seed") && i + 1 < argc)
			seed = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
			seconds = (unsigned)strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--rings") && i + 1 < argc)
			nrings = parse_rings(argv[++i], rings);
		else if (!strcmp(argv[i], "--victim") && i + 1 < argc)
			victim = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
			threads = (unsigned)atoi(argv[++i]);
		else if (!strncmp(argv[i], "repro-", 6))
			repro = argv[i];
		else {
			fprintf(stderr, "usage: fuzz [repro-mmap-lock|repro-fill-livelock] "
				"[--seed S] [--seconds T] [--rings a,b] [--victim N] [--threads N]\n");
			return 2;
		}
	}
	/* A seed given as 0 means: pick one, and say which. */
	if (!seed)
		seed = ktest_now_ns();
	if (threads < 1 || threads > MAX_THREADS)
		threads = 3;
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return 1;
	signal(SIGPIPE, SIG_IGN);
	if (repro) {
		int ring = nrings ? rings[0] : 1;

		if (!strcmp(repro, "repro-mmap-lock"))
			return repro_mmap_lock(ring, seconds);
		if (!strcmp(repro, "repro-edu-streaming"))
			return repro_edu_streaming(ring);
		if (!strcmp(repro, "repro-fill-livelock"))
			return repro_fill_livelock(ring, seconds);
		fprintf(stderr, "fuzz: no reproducer %s\n", repro);
		return 2;
	}
	if (!nrings)
		nrings = all_rings_but(victim, rings);
	if (!ktest_ok(nrings > 0, "fuzz: %d hostile rings", nrings))
		return ktest_exit();
	return fuzz_main(seed, seconds, rings, nrings, victim, threads);
}
