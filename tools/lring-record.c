// SPDX-License-Identifier: MIT
/*
 * lring-record - record a ring's stream to a file or disk through io_uring,
 * each block written by O_DIRECT straight from the buffer the device filled,
 * and check such a recording.
 *
 *   lring-record --dev /dev/lring0 -o /dev/nvme0n1 --bytes 1Gi --buf-size 1Mi
 *   lring-record --check /dev/nvme0n1 --verify --seed 7
 *
 * The file is a sequence of records: a 512-byte header (struct rec_header:
 * the block's seq, length, flags and drops, this recording's nonce and the
 * record's index) and the block's bytes, padded to 512 so that the next
 * header is aligned for O_DIRECT. A buffer goes back to the device only
 * when its write has completed. Writes complete in any order; the file is
 * valid up to the first record that did not complete, which is where a
 * regular file is truncated (a block device gets an end record there).
 *
 * Memory: by default the pool is the program's own memory (the user
 * backend), which the kernel can always pin for O_DIRECT; a device that
 * cannot take it gets a noncontiguous pool, which pinning reaches behind
 * an IOMMU (layout.map_flags & LRING_MAP_PAGES); elsewhere each block is
 * copied into an aligned buffer first, and the program says so once. A file
 * system without O_DIRECT is written through the page cache, said once.
 *
 * Exit codes: 0 recorded (or checked) in full; 1 a check or accounting
 * error; 2 usage or setup error; 3 the device went away; 4 the disk is
 * full. In each case the file is valid up to its last whole record.
 */
#define _GNU_SOURCE	/* before any libc header: see common.h */
#include <liburing.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/uio.h>

#include "common.h"

#define USAGE								\
	"[--dev DEV] -o FILE [--count N] [--bytes N] [--seconds T]\n"	\
	"        [--buf-size B] [--buf-count C] "			\
	"[--backend user|noncontig|streaming|coherent]\n"		\
	"        [--rate R] [--block-size S] [--seed X] [--idle-ms MS] [--json]\n" \
	"   or: lring-record --check FILE [--verify] [--seed X] [--count N] [--json]"

#define EXIT_GONE	3
#define EXIT_FULL	4

#define REC_ALIGN	512u
#define REC_MAGIC	"LRNGREC1"
#define REC_F_END	(1u << 31)	/* the end record: nothing follows */
#define POLL_TAG	UINT64_MAX	/* io_uring user_data of the ring's poll */

struct rec_header {
	char magic[8];
	uint64_t nonce;		/* the same in every record of one recording */
	uint64_t index;		/* 0, 1, 2...: the record's place in the file */
	uint64_t seq;		/* the block's sequence number (struct lring_cqe) */
	uint64_t timestamp_ns;
	uint32_t len;		/* the block's bytes */
	uint32_t data_size;	/* bytes after the header: len rounded up to 512 */
	uint32_t flags;		/* LRING_CQE_F_*, or REC_F_END */
	uint32_t dropped;	/* blocks the device dropped just before it */
	uint8_t pad[REC_ALIGN - 56];
};
_Static_assert(sizeof(struct rec_header) == REC_ALIGN, "one aligned header");

static uint64_t round_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) / a * a;
}

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* ---- the recorder ------------------------------------------------------- */

/* One record written or being written, in file order. */
struct slot {
	uint32_t buf_id;
	int state;		/* 0 free, 1 writing, 2 written, -errno failed */
};

struct recorder {
	struct opts o;
	struct lring *r;
	struct io_uring ring;
	int fd;
	int is_bdev;
	int copy;		/* blocks go through bounce buffers */
	void *user_mem;		/* the user backend's region */
	size_t user_len;
	struct rec_header *headers;	/* one per buffer */
	uint8_t *bounce;		/* one buf_stride per buffer (copy mode) */
	struct iovec *iov;		/* two per buffer */
	struct slot *fifo;		/* buf_count slots, records in file order */
	uint64_t head, tail;		/* fifo: oldest unfinished, next free */
	uint64_t nonce, next_off, valid_off;
	uint64_t queued_bytes, recorded_bytes, recorded, not_recorded, writes_in_flight;
	int poll_armed, error, broken, gone;
};

static void say(const struct recorder *rec, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", rec->o.prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Opens and configures the ring with @backend; 0 or -errno (quietly). */
static int try_backend(struct recorder *rec, uint32_t backend)
{
	struct lring_config cfg = {
		.buf_count = rec->o.buf_count,
		.buf_size = rec->o.buf_size,
		.backend = backend,
	};
	int err = lring_open(rec->o.dev, &rec->r);

	if (err)
		return err;
	if (backend == LRING_BACKEND_USER) {
		rec->user_len = (size_t)rec->o.buf_count * rec->o.buf_size;
		rec->user_mem = mmap(NULL, rec->user_len, PROT_READ | PROT_WRITE,
				     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (rec->user_mem == MAP_FAILED) {
			rec->user_mem = NULL;
			err = -errno;
			goto fail;
		}
		/* Fewer, larger DMA segments where the kernel can. */
		madvise(rec->user_mem, rec->user_len, MADV_HUGEPAGE);
		cfg.user_addr = (uintptr_t)rec->user_mem;
		cfg.user_len = rec->user_len;
	}
	err = lring_configure(rec->r, &cfg);
	if (!err)
		return 0;
fail:
	lring_close(rec->r);
	rec->r = NULL;
	if (rec->user_mem)
		munmap(rec->user_mem, rec->user_len);
	rec->user_mem = NULL;
	return err;
}

/*
 * The pool: the backend asked for, or the best one the device takes. Only
 * memory page pinning reaches is written with no copy.
 */
static void setup_pool(struct recorder *rec, int backend)
{
	static const uint32_t order[] = { LRING_BACKEND_USER, LRING_BACKEND_NONCONTIG,
					  LRING_BACKEND_COHERENT, LRING_BACKEND_STREAMING };
	uint32_t b = LRING_BACKEND_USER;
	int err = -EINVAL;
	size_t i;

	if (backend >= 0) {
		b = backend;
		err = try_backend(rec, b);
	} else if (rec->o.buf_size % 4096) {
		say(rec, "buf-size %u is not a multiple of the page size", rec->o.buf_size);
		exit(EXIT_SETUP);
	} else {
		/* Not a ring at all: say so, not what each backend said. */
		err = lring_open(rec->o.dev, &rec->r);
		if (err) {
			say(rec, "%s: %s", rec->o.dev, lring_strerror(err));
			exit(EXIT_SETUP);
		}
		lring_close(rec->r);
		for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
			b = order[i];
			err = try_backend(rec, b);
			if (err)
				say(rec, "%s: the %s backend: %s", rec->o.dev, backend_name(b),
				    lring_strerror(err));
			/* Noncontig that pinning does not reach is no better. */
			if (!err && b == LRING_BACKEND_NONCONTIG &&
			    !(lring_layout(rec->r)->map_flags & LRING_MAP_PAGES)) {
				lring_close(rec->r);
				err = -EOPNOTSUPP;
			}
			if (!err)
				break;
		}
	}
	if (err) {
		say(rec, "%s: configure (%s backend): %s", rec->o.dev, backend_name(b),
		    lring_strerror(err));
		exit(EXIT_SETUP);
	}
	rec->copy = b != LRING_BACKEND_USER &&
		    !(lring_layout(rec->r)->map_flags & LRING_MAP_PAGES);
	if (rec->copy)
		say(rec, "the %s pool cannot be pinned (raw page frames): copying each block for O_DIRECT",
		    backend_name(b));
	else if (!rec->o.json)
		say(rec, "%s backend: blocks go to disk straight from the device's buffers",
		    backend_name(b));
}

/* The block of buffer @id as the kernel may pin it: the program's own memory. */
static uint8_t *block_addr(struct recorder *rec, uint32_t id)
{
	if (rec->user_mem)
		return (uint8_t *)rec->user_mem + (size_t)id * rec->o.buf_size;
	return lring_buf(rec->r, id);
}

static void setup_output(struct recorder *rec)
{
	struct stat st;

	rec->fd = open(rec->o.output, O_WRONLY | O_CREAT | O_DIRECT | O_CLOEXEC, 0644);
	if (rec->fd < 0 && errno == EINVAL) {
		say(rec, "%s: the file system does not take O_DIRECT: writing through the page cache",
		    rec->o.output);
		rec->fd = open(rec->o.output, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	}
	if (rec->fd < 0) {
		say(rec, "%s: %s", rec->o.output, strerror(errno));
		exit(EXIT_SETUP);
	}
	if (fstat(rec->fd, &st) == 0)
		rec->is_bdev = S_ISBLK(st.st_mode);
	/* A file starts empty; a disk is overwritten from its start. */
	if (!rec->is_bdev && ftruncate(rec->fd, 0)) {
		say(rec, "%s: truncate: %s", rec->o.output, strerror(errno));
		exit(EXIT_SETUP);
	}
}

static void setup_buffers(struct recorder *rec)
{
	uint32_t n = rec->o.buf_count, stride = lring_layout(rec->r)->buf_stride;
	struct io_uring_params params = { .flags = IORING_SETUP_CQSIZE, .cq_entries = n + 1 };
	int err;

	rec->headers = aligned_alloc(4096, round_up((size_t)n * REC_ALIGN, 4096));
	rec->iov = calloc((size_t)n * 2, sizeof(*rec->iov));
	rec->fifo = calloc(n, sizeof(*rec->fifo));
	if (rec->copy)
		rec->bounce = aligned_alloc(4096, (size_t)n * stride);
	if (!rec->headers || !rec->iov || !rec->fifo || (rec->copy && !rec->bounce)) {
		say(rec, "out of memory");
		exit(EXIT_SETUP);
	}
	memset(rec->headers, 0, (size_t)n * REC_ALIGN);
	/*
	 * A write in flight per buffer and the ring's poll: the completion
	 * queue (params) holds all of them; get_sqe() submits when the
	 * submission queue is full, so it can be smaller (io_uring takes at
	 * most 32768 entries).
	 */
	err = io_uring_queue_init_params(n + 1 < 1024 ? n + 1 : 1024, &rec->ring, &params);
	if (err) {
		say(rec, "io_uring: %s", strerror(-err));
		exit(EXIT_SETUP);
	}
	rec->nonce = now_ns() ^ ((uint64_t)getpid() << 32);
}

static struct io_uring_sqe *get_sqe(struct recorder *rec)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&rec->ring);

	if (!sqe) {
		io_uring_submit(&rec->ring);
		sqe = io_uring_get_sqe(&rec->ring);
	}
	return sqe;
}

/* Queues the write of one record: header and block, at the file's end. */
/* tutorial: record-queue */
static void queue_block(struct recorder *rec, const struct lring_cqe *cqe)
{
	uint32_t id = cqe->buf_id;
	struct rec_header *h = &rec->headers[id];
	uint8_t *data = block_addr(rec, id);
	struct io_uring_sqe *sqe;
	struct slot *s;

	memset(h, 0, sizeof(*h));
	memcpy(h->magic, REC_MAGIC, 8);
	h->nonce = htole64(rec->nonce);
	/* The record's place in the file is its place in the fifo. */
	h->index = htole64(rec->tail);
	h->seq = htole64(cqe->seq);
	h->timestamp_ns = htole64(cqe->timestamp_ns);
	h->len = htole32(cqe->len);
	/* The padding stays inside the buffer: its stride is whole pages. */
	h->data_size = htole32(round_up(cqe->len, REC_ALIGN));
	h->flags = htole32(cqe->flags);
	h->dropped = htole32(cqe->dropped);
	if (rec->copy) {
		uint8_t *b = rec->bounce + (size_t)id * lring_layout(rec->r)->buf_stride;

		memcpy(b, data, cqe->len);
		data = b;
	}
	rec->iov[2 * id] = (struct iovec){ h, REC_ALIGN };
	rec->iov[2 * id + 1] = (struct iovec){ data, le32toh(h->data_size) };

	sqe = get_sqe(rec);
	io_uring_prep_writev(sqe, rec->fd, &rec->iov[2 * id], h->data_size ? 2 : 1,
			     rec->next_off);
	s = &rec->fifo[rec->tail % rec->o.buf_count];
	s->buf_id = id;
	s->state = 1;
	io_uring_sqe_set_data64(sqe, rec->tail);
	rec->tail++;
	rec->next_off += REC_ALIGN + le32toh(h->data_size);
	rec->queued_bytes += cqe->len;
	rec->writes_in_flight++;
}
/* tutorial-end: record-queue */

/* Hands @n buffers back to the device (a device gone takes none). */
static void give_back(struct recorder *rec, const uint32_t *ids, unsigned n)
{
	int err = rec->gone || !n ? 0 : lring_return(rec->r, ids, n);

	if (err && err != -ENODEV)
		say(rec, "return: %s", lring_strerror(err));
}

/*
 * Gives written buffers back, and moves the valid end over finished
 * records, in file order: the file is valid up to the first record that
 * failed, whatever completed after it.
 */
static void retire(struct recorder *rec)
{
	uint32_t ids[64];
	unsigned n = 0;

	while (rec->head < rec->tail) {
		struct slot *s = &rec->fifo[rec->head % rec->o.buf_count];
		const struct rec_header *h = &rec->headers[s->buf_id];

		if (s->state == 1)
			break;
		if (s->state != 2)
			rec->broken = 1;
		if (!rec->broken) {
			rec->valid_off += REC_ALIGN + le32toh(h->data_size);
			rec->recorded++;
			rec->recorded_bytes += le32toh(h->len);
		} else {
			rec->not_recorded++;
		}
		ids[n++] = s->buf_id;
		s->state = 0;
		rec->head++;
		if (n == 64) {
			give_back(rec, ids, n);
			n = 0;
		}
	}
	give_back(rec, ids, n);
}

/* Takes the results of finished writes (and of the ring's poll). */
static void reap(struct recorder *rec)
{
	struct io_uring_cqe *cqe;
	unsigned head, n = 0;

	io_uring_for_each_cqe(&rec->ring, head, cqe) {
		uint64_t tag = io_uring_cqe_get_data64(cqe);
		struct slot *s;
		uint64_t want;

		n++;
		if (tag == POLL_TAG) {
			rec->poll_armed = 0;
			continue;
		}
		s = &rec->fifo[tag % rec->o.buf_count];
		want = REC_ALIGN + le32toh(rec->headers[s->buf_id].data_size);
		rec->writes_in_flight--;
		if (cqe->res == (int)want) {
			s->state = 2;
			continue;
		}
		/* A short write is the end of the disk as much as ENOSPC is. */
		s->state = cqe->res < 0 ? cqe->res : -ENOSPC;
		if (!rec->error) {
			rec->error = s->state;
			say(rec, "%s: write of record %llu: %s", rec->o.output,
			    (unsigned long long)tag, strerror(-s->state));
		}
	}
	io_uring_cq_advance(&rec->ring, n);
	retire(rec);
}

/* Sleeps until the ring has completions or a write finishes (1 s at most). */
static void wait_events(struct recorder *rec)
{
	struct __kernel_timespec ts = { .tv_sec = 1 };
	struct io_uring_cqe *cqe;

	if (!rec->poll_armed && !rec->gone) {
		struct io_uring_sqe *sqe = get_sqe(rec);

		/* One sleep for both: the ring's completions and the writes. */
		io_uring_prep_poll_add(sqe, lring_fd(rec->r), POLLIN);
		io_uring_sqe_set_data64(sqe, POLL_TAG);
		rec->poll_armed = 1;
	}
	io_uring_submit_and_wait_timeout(&rec->ring, &cqe, 1, &ts, NULL);
}

/* Where the recording ends: a file is cut there, a disk gets an end record. */
static void finish_file(struct recorder *rec)
{
	struct rec_header *end = aligned_alloc(4096, 4096);

	if (rec->is_bdev) {
		if (!end)
			return;
		memset(end, 0, 4096);
		memcpy(end->magic, REC_MAGIC, 8);
		end->nonce = htole64(rec->nonce);
		end->index = htole64(rec->recorded);
		end->flags = htole32(REC_F_END);
		/* On a full disk there may be no room: the next header is invalid anyway. */
		if (pwrite(rec->fd, end, REC_ALIGN, rec->valid_off) != REC_ALIGN &&
		    !rec->error)
			say(rec, "%s: end record: %s", rec->o.output, strerror(errno));
	} else if (ftruncate(rec->fd, rec->valid_off)) {
		say(rec, "%s: truncate: %s", rec->o.output, strerror(errno));
	}
	free(end);
	if (fdatasync(rec->fd) && !rec->error)
		say(rec, "%s: sync: %s", rec->o.output, strerror(errno));
}

static double cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void progress(const struct recorder *rec, uint64_t t_start, int final)
{
	double secs = (now_ns() - t_start) / 1e9;
	struct lring_counters c = { 0 };

	if (!rec->gone)
		lring_counters(rec->r, &c);
	fprintf(stderr, "\r%.1f MiB, %.1f MiB/s, %llu dropped, %llu/%u buffers free%s",
		rec->recorded_bytes / 1048576.0,
		secs > 0 ? rec->recorded_bytes / secs / 1048576 : 0,
		(unsigned long long)c.dropped,
		(unsigned long long)(rec->o.buf_count - (rec->tail - rec->head)),
		rec->o.buf_count, final ? "\n" : "   ");
}

static int record(struct recorder *rec, int backend)
{
	uint64_t t_start, t_last, t_progress, deadline, idle_ns;
	struct lring_counters c = { 0 };
	int tty = isatty(STDERR_FILENO), stalled = 0, accounting = 0, err;
	double cpu0;
	struct summary s;
	uint32_t idx;

	setup_pool(rec, backend);
	setup_output(rec);
	set_sim_params(&rec->o, rec->r);
	setup_buffers(rec);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	err = lring_start(rec->r);
	if (err)
		setup_fail(&rec->o, "start", err);

	cpu0 = cpu_seconds();
	t_start = t_last = t_progress = now_ns();
	deadline = rec->o.seconds ? t_start + (uint64_t)(rec->o.seconds * 1e9) : UINT64_MAX;
	idle_ns = (uint64_t)rec->o.idle_ms * 1000000;
	while (!interrupted && !rec->error && now_ns() < deadline) {
		uint64_t queued = rec->recorded + rec->writes_in_flight;
		unsigned n, i, want = rec->o.buf_count;

		if ((rec->o.count && queued >= rec->o.count) ||
		    (rec->o.bytes && rec->queued_bytes >= rec->o.bytes))
			break;
		if (rec->o.count && rec->o.count - queued < want)
			want = rec->o.count - queued;
		n = lring_peek(rec->r, want, &idx);
		for (i = 0; i < n; i++) {
			const struct lring_cqe *cqe = lring_cqe(rec->r, idx + i);

			if (rec->o.bytes && rec->queued_bytes >= rec->o.bytes) {
				give_back(rec, &cqe->buf_id, 1);	/* past --bytes */
				rec->not_recorded++;
			} else {
				queue_block(rec, cqe);
			}
		}
		lring_release(rec->r, n);
		if (n) {
			t_last = now_ns();
			io_uring_submit(&rec->ring);
		}
		reap(rec);
		if (lring_flags(rec->r) & LRING_F_DEAD) {
			rec->gone = 1;
			say(rec, "%s: the device went away", rec->o.dev);
			break;
		}
		if (!n) {
			if (now_ns() - t_last > idle_ns && !rec->writes_in_flight) {
				stalled = 1;
				say(rec, "STALLED: no block for %d ms", rec->o.idle_ms);
				break;
			}
			wait_events(rec);
		}
		if (tty && now_ns() - t_progress > 1000000000ull) {
			progress(rec, t_start, 0);
			t_progress = now_ns();
		}
	}

	/* Every write finishes; blocks still on the ring are not recorded. */
	if (!rec->gone)
		lring_stop(rec->r);
	while (rec->writes_in_flight) {
		io_uring_submit_and_wait(&rec->ring, 1);
		reap(rec);
	}
	if (!rec->gone) {
		uint32_t ids[64];
		unsigned n;

		while ((n = lring_peek(rec->r, 64, &idx)) > 0) {
			lring_cqe_ids(rec->r, idx, n, ids);
			lring_release(rec->r, n);
			rec->not_recorded += n;
			give_back(rec, ids, n);
		}
		lring_counters(rec->r, &c);
	}
	finish_file(rec);
	if (tty)
		progress(rec, t_start, 1);
	/* Every block delivered was recorded or said not to be. */
	if (!rec->gone && c.delivered != rec->recorded + rec->not_recorded) {
		say(rec, "ACCOUNTING: delivered %llu != recorded %llu + not recorded %llu",
		    (unsigned long long)c.delivered, (unsigned long long)rec->recorded,
		    (unsigned long long)rec->not_recorded);
		accounting = 1;
	}

	memset(&s, 0, sizeof(s));
	s.json = rec->o.json;
	sum_add(&s, "result", "%s", rec->gone ? "device-gone" :
		rec->error == -ENOSPC ? "disk-full" : rec->error ? "error" :
		stalled ? "stalled" : accounting ? "accounting" : "recorded");
	sum_add(&s, "program", "%s", rec->o.prog);
	sum_add(&s, "zero_copy", "%d", !rec->copy);
	sum_add(&s, "records", "%" PRIu64, rec->recorded);
	sum_add(&s, "bytes", "%" PRIu64, rec->recorded_bytes);
	sum_add(&s, "file_bytes", "%" PRIu64, rec->valid_off);
	sum_add(&s, "not_recorded", "%" PRIu64, rec->not_recorded);
	sum_add(&s, "seconds", "%.3f", (now_ns() - t_start) / 1e9);
	sum_add(&s, "cpu_seconds", "%.3f", cpu_seconds() - cpu0);
	if (!rec->gone)
		sum_counters(&s, &c);
	fprintf(stderr, s.json ? "{%s}\n" : "%s\n", s.text);
	lring_close(rec->r);
	io_uring_queue_exit(&rec->ring);
	close(rec->fd);
	if (rec->gone)
		return EXIT_GONE;
	if (rec->error)
		return rec->error == -ENOSPC ? EXIT_FULL : EXIT_SETUP;
	return stalled || accounting ? EXIT_DATA : 0;
}

/* ---- the checker -------------------------------------------------------- */

/*
 * Walks the records of @path from its start: each must carry the first
 * one's nonce and the next index; the walk ends at the end record, the end
 * of the file, or the first record that does not. With --verify each
 * block's bytes are checked against the simulated device's pattern.
 */
static int check(struct opts *o)
{
	uint64_t off = 0, index = 0, nonce = 0, bytes = 0, next_seq = 0, gaps = 0;
	uint64_t data_errors = 0, seq_errors = 0;
	struct rec_header h;
	size_t cap = 1 << 20;
	uint8_t *data = malloc(cap);
	struct summary s;
	int fd = open(o->input, O_RDONLY | O_CLOEXEC), ended = 0;

	if (fd < 0 || !data) {
		fprintf(stderr, "%s: %s: %s\n", o->prog, o->input, strerror(errno));
		return EXIT_SETUP;
	}
	while (pread(fd, &h, sizeof(h), off) == sizeof(h)) {
		uint32_t len = le32toh(h.len), size = le32toh(h.data_size);
		uint64_t seq = le64toh(h.seq);

		if (memcmp(h.magic, REC_MAGIC, 8) || (index && le64toh(h.nonce) != nonce) ||
		    le64toh(h.index) != index)
			break;
		nonce = le64toh(h.nonce);
		if (le32toh(h.flags) & REC_F_END) {
			ended = 1;
			break;
		}
		if (size != round_up(len, REC_ALIGN))
			break;
		if (size > cap) {
			cap = size;
			data = realloc(data, cap);
			if (!data)
				return EXIT_SETUP;
		}
		if (pread(fd, data, size, off + REC_ALIGN) != (ssize_t)size)
			break;	/* a record cut short: the file ends before it */
		if (index && seq != next_seq) {
			if (seq < next_seq || seq - next_seq != le32toh(h.dropped)) {
				if (!seq_errors++)
					fprintf(stderr, "%s: record %llu: seq %llu after %llu, %u dropped\n",
						o->prog, (unsigned long long)index,
						(unsigned long long)seq,
						(unsigned long long)next_seq - 1, le32toh(h.dropped));
			}
			gaps++;
		}
		next_seq = seq + 1;
		if (o->verify > 0) {
			uint8_t want, got;
			int64_t bad = sim_first_bad(data, len, o->seed, seq, &want, &got);

			if (bad >= 0 && !data_errors++)
				fprintf(stderr, "%s: record %llu (seq %llu): wrong from byte %lld\n",
					o->prog, (unsigned long long)index,
					(unsigned long long)seq, (long long)bad);
		}
		bytes += len;
		off += REC_ALIGN + size;
		index++;
		if (o->count && index >= o->count)
			break;
	}
	close(fd);
	free(data);
	memset(&s, 0, sizeof(s));
	s.json = o->json;
	sum_add(&s, "result", "%s", data_errors || seq_errors ||
		(o->count && index < o->count) ? "fail" : "pass");
	sum_add(&s, "program", "%s", o->prog);
	sum_add(&s, "records", "%" PRIu64, index);
	sum_add(&s, "bytes", "%" PRIu64, bytes);
	sum_add(&s, "end_record", "%d", ended);
	sum_add(&s, "gaps", "%" PRIu64, gaps);
	sum_add(&s, "seq_errors", "%" PRIu64, seq_errors);
	sum_add(&s, "data_errors", "%" PRIu64, data_errors);
	sum_add(&s, "verified", "%d", o->verify > 0);
	fprintf(stderr, s.json ? "{%s}\n" : "%s\n", s.text);
	if (o->count && index < o->count)
		fprintf(stderr, "%s: %llu records, %llu wanted\n", o->prog,
			(unsigned long long)index, (unsigned long long)o->count);
	return data_errors || seq_errors || (o->count && index < o->count) ? EXIT_DATA : 0;
}

int main(int argc, char **argv)
{
	static struct recorder rec;
	int backend = -1, buf_count_given = 0, i, j;

	/* --check FILE and --backend NAME are this program's own options. */
	for (i = j = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--check") && i + 1 < argc) {
			argv[j++] = "--input";
			argv[j++] = argv[++i];
		} else if (!strcmp(argv[i], "--backend") && i + 1 < argc) {
			for (backend = 0; backend < LRING_BACKEND_COUNT; backend++)
				if (!strcmp(argv[i + 1], backend_name(backend)))
					break;
			if (backend == LRING_BACKEND_COUNT) {
				fprintf(stderr, "usage: lring-record %s\n", USAGE);
				return EXIT_SETUP;
			}
			i++;
		} else {
			buf_count_given |= !strcmp(argv[i], "--buf-count");
			argv[j++] = argv[i];
		}
	}
	argc = j;
	parse_opts(&rec.o, argc, argv,
		   OPTBIT(OPT_DEV) | OPTBIT(OPT_OUTPUT) | OPTBIT(OPT_INPUT) |
		   OPTBIT(OPT_COUNT) | OPTBIT(OPT_BYTES) | OPTBIT(OPT_SECONDS) |
		   OPTBIT(OPT_BUF_SIZE) | OPTBIT(OPT_BUF_COUNT) |
		   OPTBIT(OPT_RATE) | OPTBIT(OPT_BLOCK_SIZE) | OPTBIT(OPT_SEED) |
		   OPTBIT(OPT_IDLE_MS) | OPTBIT(OPT_JSON) | OPTBIT(OPT_VERIFY),
		   USAGE);
	if (rec.o.input)
		return check(&rec.o);
	if (!rec.o.output)
		die_usage(&rec.o, USAGE, "-o FILE is needed");
	/* 64 buffers of 1 MiB or more pin more memory than a recorder needs. */
	if (!buf_count_given && rec.o.buf_size >= (1u << 20))
		rec.o.buf_count = 16;
	return record(&rec, backend);
}
