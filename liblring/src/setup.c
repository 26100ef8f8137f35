// SPDX-License-Identifier: MIT
/*
 * liblring setup: open, configure, map, validate the layout, close, and the
 * control ioctls.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <lring.h>

/*
 * A field of the shared pages the kernel may change at any time: read once,
 * whole (a 64-bit counter is never torn, on a 32-bit CPU too), unordered.
 */
#define load_once(field) __atomic_load_n(&(field), __ATOMIC_RELAXED)

static int lring_ioctl(struct lring *r, unsigned long req, void *arg)
{
	if (!r)
		return -EINVAL;
	if (r->fd < 0)
		return -EBADF;
	if (ioctl(r->fd, req, arg) < 0)
		return -errno;
	return 0;
}

int lring_open_fd(int fd, struct lring **out)
{
	struct lring *r;

	if (!out)
		return -EINVAL;
	if (fd < 0)
		return -EBADF;
	/* Aligned as declared: each ring's fields have a cache line. */
	r = aligned_alloc(_Alignof(struct lring), sizeof(*r));
	if (!r)
		return -ENOMEM;		/* the fd stays the caller's */
	memset(r, 0, sizeof(*r));
	r->fd = fd;
	r->event_fd = -1;
	*out = r;
	return 0;
}

int lring_open(const char *path, struct lring **out)
{
	int fd, err;

	if (!path || !out)
		return -EINVAL;
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = lring_open_fd(fd, out);
	if (err)
		close(fd);
	return err;
}

/* ---- layout validation ------------------------------------------------ */

struct region {
	const char *name;
	uint64_t off;
	uint64_t len;
	uint64_t align;
};

static int is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

static int region_ok(const struct region *g, uint64_t size)
{
	return g->len && g->off <= size && g->len <= size - g->off &&
	       !(g->off % g->align);
}

static int regions_overlap(const struct region *a, const struct region *b)
{
	/* Both are inside the mapping, so the sums cannot overflow. */
	return a->off < b->off + b->len && b->off < a->off + a->len;
}

static int regions_ok(const struct region *g, unsigned n, uint64_t size)
{
	unsigned i, j;

	for (i = 0; i < n; i++) {
		if (!region_ok(&g[i], size))
			return 0;
		for (j = 0; j < i; j++)
			if (regions_overlap(&g[i], &g[j]))
				return 0;
	}
	return 1;
}

/*
 * Check everything a consumer relies on before it dereferences anything
 * beyond the header: the mapping may come from a kernel that disagrees with
 * us, and nothing here may crash on it.
 */
static int layout_valid(const struct lring_layout *l, uint32_t ctrl_size,
			uint32_t page_size, size_t map_size)
{
	uint64_t size = l->mmap_size;
	uint64_t hdr_len = offsetof(struct lring_ctrl, layout) +
			   sizeof(struct lring_layout);
	long host_page = sysconf(_SC_PAGESIZE);

	if (!is_pow2(page_size) || (host_page > 0 && (uint64_t)page_size != (uint64_t)host_page))
		return 0;
	if (!size || size > map_size || size % page_size)
		return 0;
	if (l->ctrl_off != 0 || ctrl_size < sizeof(struct lring_ctrl) ||
	    ctrl_size > size)
		return 0;
	if (!is_pow2(l->cq_entries) || l->cq_entries > LRING_MAX_RING_ENTRIES ||
	    !is_pow2(l->fq_entries) || l->fq_entries > LRING_MAX_RING_ENTRIES)
		return 0;
	/* A ring that works some way this library does not know is refused. */
	if (l->config_flags & ~(LRING_CONFIG_TX | LRING_CONFIG_ONE_BLOCK))
		return 0;
	/* A newer kernel's completions may be larger, never smaller. */
	if (l->cqe_size < sizeof(struct lring_cqe) || l->cqe_size % 8 ||
	    l->fqe_size != (l->config_flags & LRING_CONFIG_TX ?
			    sizeof(struct lring_sqe) : sizeof(struct lring_fqe)))
		return 0;
	if (!l->buf_count || l->buf_count > LRING_MAX_BUFFERS ||
	    !l->buf_size || l->buf_stride < l->buf_size ||
	    l->buf_stride % page_size ||
	    l->pool_size != (uint64_t)l->buf_count * l->buf_stride)
		return 0;

	/* Parts: inside the mapping, aligned, pairwise disjoint. */
	{
		const struct region parts[] = {
			{ "ctrl", 0, ctrl_size, page_size },
			{ "user", l->user_off, sizeof(struct lring_user),
			  page_size },
			{ "cq entries", l->cq_entries_off,
			  (uint64_t)l->cq_entries * l->cqe_size, 8 },
			{ "fq entries", l->fq_entries_off,
			  (uint64_t)l->fq_entries * l->fqe_size, 4 },
			{ "pool", l->pool_off, l->pool_size, page_size },
		};
		if (!regions_ok(parts, sizeof(parts) / sizeof(parts[0]), size))
			return 0;
	}
	/* Fields: the header, indices, flags and counters never overlap one
	 * another nor the entries and the pool. */
	{
		const struct region fields[] = {
			{ "header", 0, hdr_len, 1 },
			{ "cq producer", l->cq_producer_off, 4, 4 },
			{ "cq consumer", l->cq_consumer_off, 4, 4 },
			{ "fq producer", l->fq_producer_off, 4, 4 },
			{ "fq consumer", l->fq_consumer_off, 4, 4 },
			{ "flags", l->flags_off, 4, 4 },
			{ "counters", l->counters_off,
			  sizeof(struct lring_counters), 8 },
			{ "cq entries", l->cq_entries_off,
			  (uint64_t)l->cq_entries * l->cqe_size, 8 },
			{ "fq entries", l->fq_entries_off,
			  (uint64_t)l->fq_entries * l->fqe_size, 4 },
			{ "pool", l->pool_off, l->pool_size, page_size },
		};
		if (!regions_ok(fields, sizeof(fields) / sizeof(fields[0]),
				size))
			return 0;
	}
	return 1;
}

int lring_attach(struct lring *r, void *base, size_t size)
{
	const struct lring_ctrl *ctrl = base;
	struct lring_layout l;
	uint32_t magic, abi, ctrl_size, page_size;
	uint8_t *b = base;
	uint32_t cq_prod, cq_cons, fq_prod, fq_cons;

	if (!r || !base || r->map)
		return -EINVAL;
	if (size < offsetof(struct lring_ctrl, layout) + sizeof(l))
		return -EPROTO;

	magic = load_once(ctrl->magic);
	abi = load_once(ctrl->abi_version);
	ctrl_size = load_once(ctrl->ctrl_size);
	page_size = load_once(ctrl->page_size);
	if (magic != LRING_MAGIC || abi != LRING_ABI_VERSION)
		return -EPROTO;
	/* One copy: the kernel could change the page, we check what we use. */
	memcpy(&l, (const void *)&ctrl->layout, sizeof(l));
	if (!layout_valid(&l, ctrl_size, page_size, size))
		return -EPROTO;

	r->cq_producer = (const uint32_t *)(b + l.cq_producer_off);
	r->cq_consumer = (uint32_t *)(b + l.cq_consumer_off);
	r->fq_producer = (uint32_t *)(b + l.fq_producer_off);
	r->fq_consumer = (const uint32_t *)(b + l.fq_consumer_off);

	/* The indices must describe rings that are possible. */
	cq_cons = load_once(*r->cq_consumer);
	cq_prod = lring_load_acquire(r->cq_producer);
	fq_prod = load_once(*r->fq_producer);
	fq_cons = lring_load_acquire(r->fq_consumer);
	if (cq_prod - cq_cons > l.cq_entries || fq_prod - fq_cons > l.fq_entries)
		return -EPROTO;

	r->layout = l;
	r->ctrl = ctrl;
	r->cqes = b + l.cq_entries_off;
	r->cqe_size = l.cqe_size;
	r->cq_mask = l.cq_entries - 1;
	r->cq_cached_prod = cq_prod;
	r->cq_head = cq_cons;
	r->cq_released = cq_cons;
	r->cq_published = cq_cons;

	r->fqes = (struct lring_fqe *)(b + l.fq_entries_off);
	r->fq_mask = l.fq_entries - 1;
	r->fq_size = l.fq_entries;
	r->fq_cached_prod = fq_prod;
	r->fq_submitted = fq_prod;
	r->fq_reserved = fq_prod;
	r->fq_cached_end = fq_cons + l.fq_entries;

	r->flags = (const uint32_t *)(b + l.flags_off);
	r->counters = (const struct lring_counters *)(b + l.counters_off);
	r->pool = b + l.pool_off;
	r->buf_count = l.buf_count;
	r->buf_size = l.buf_size;
	r->buf_stride = l.buf_stride;

	r->map = base;
	r->map_size = size;
	r->map_owned = 0;
	return 0;
}

static void lring_unmap(struct lring *r)
{
	if (r->map && r->map_owned)
		munmap(r->map, r->map_size);
	r->map = NULL;
	r->map_size = 0;
	r->map_owned = 0;
	r->ctrl = NULL;
}

int lring_get_info(struct lring *r, struct lring_info *info)
{
	int err;

	memset(info, 0, sizeof(*info));
	err = lring_ioctl(r, LRING_IOC_GET_INFO, info);
	if (!err && r)
		r->features = info->features ? info->features : LRING_FEATURES_VER0;
	return err;
}

uint64_t lring_features(struct lring *r)
{
	struct lring_info info;

	if (r && !r->features)
		lring_get_info(r, &info);
	return r ? r->features : 0;
}

int lring_map(struct lring *r)
{
	struct lring_info info;
	void *base;
	int err;

	if (!r)
		return -EINVAL;
	if (r->map)
		return -EALREADY;
	err = lring_get_info(r, &info);
	if (err)
		return err;
	if (!info.configured)
		return -ENODATA;
	if (info.abi_version != LRING_ABI_VERSION || !info.layout.mmap_size ||
	    info.layout.mmap_size > SIZE_MAX)
		return -EPROTO;

	base = mmap(NULL, info.layout.mmap_size, PROT_READ | PROT_WRITE,
		    MAP_SHARED, r->fd, 0);
	if (base == MAP_FAILED)
		return -errno;
	err = lring_attach(r, base, info.layout.mmap_size);
	if (!err && memcmp(&r->layout, &info.layout, sizeof(info.layout))) {
		r->map = NULL;
		err = -EPROTO;
	}
	if (err) {
		munmap(base, info.layout.mmap_size);
		return err;
	}
	r->map_owned = 1;
	return 0;
}

int lring_configure(struct lring *r, const struct lring_config *cfg)
{
	struct lring_config c;
	int err;

	if (!r || !cfg)
		return -EINVAL;
	if (r->map && !r->map_owned)
		return -EBUSY;
	if ((cfg->backend == LRING_BACKEND_USER &&
	     !(lring_features(r) & LRING_FEAT_USER_POOL)) ||
	    (cfg->backend == LRING_BACKEND_NONCONTIG &&
	     !(lring_features(r) & LRING_FEAT_NONCONTIG)) ||
	    (cfg->backend == LRING_BACKEND_DMABUF &&
	     !(lring_features(r) & LRING_FEAT_DMABUF_POOL)) ||
	    ((cfg->flags & LRING_CONFIG_TX) &&
	     !(lring_features(r) & LRING_FEAT_TX)) ||
	    ((cfg->flags & LRING_CONFIG_ONE_BLOCK) &&
	     !(lring_features(r) & LRING_FEAT_ONE_BLOCK)))
		return -EOPNOTSUPP;
	/* The kernel refuses to reconfigure a mapped ring: drop our map. */
	lring_unmap(r);
	c = *cfg;
	err = lring_ioctl(r, LRING_IOC_CONFIGURE, &c);
	if (err)
		return err;
	return lring_map(r);
}

void lring_close(struct lring *r)
{
	if (!r)
		return;
	lring_unmap(r);
	if (r->event_fd >= 0)
		close(r->event_fd);
	if (r->fd >= 0)
		close(r->fd);
	free(r);
}

int lring_start(struct lring *r)
{
	return lring_ioctl(r, LRING_IOC_START, NULL);
}

int lring_stop(struct lring *r)
{
	return lring_ioctl(r, LRING_IOC_STOP, NULL);
}

int lring_kick(struct lring *r)
{
	return lring_ioctl(r, LRING_IOC_KICK, NULL);
}

int lring_export_buf(struct lring *r, uint32_t buf_id, uint32_t flags)
{
	struct lring_export ex = { .buf_id = buf_id, .flags = flags };
	int err;

	if (r && !(lring_features(r) & LRING_FEAT_EXPORT))
		return -EOPNOTSUPP;
	err = lring_ioctl(r, LRING_IOC_EXPORT_BUF, &ex);
	return err ? err : ex.fd;
}

int lring_counters(const struct lring *r, struct lring_counters *out)
{
	const struct lring_counters *c;

	if (!r || !r->map || !out)
		return -EINVAL;
	c = r->counters;
	memset(out, 0, sizeof(*out));
	out->produced = load_once(c->produced);
	out->delivered = load_once(c->delivered);
	out->dropped = load_once(c->dropped);
	out->irqs = load_once(c->irqs);
	out->kicks = load_once(c->kicks);
	out->waits = load_once(c->waits);
	out->eventfd_signals = load_once(c->eventfd_signals);
	out->returned = load_once(c->returned);
	out->rejected_ids = load_once(c->rejected_ids);
	out->rejected_indices = load_once(c->rejected_indices);
	out->need_wakeups = load_once(c->need_wakeups);
	out->device_errors = load_once(c->device_errors);
	return 0;
}
