/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lring_trace.h - tracepoints of the ring core, under events/lring/ in
 * tracefs:
 *
 *   lring_publish	a completion was published for the application
 *   lring_return	the application handed a buffer id back (accepted or
 *			rejected)
 *   lring_drop		a block was dropped: no buffer, or the completion
 *			ring was full
 *   lring_kick		the application kicked the device (LRING_IOC_KICK)
 *   lring_wakeup	a sleeper was woken: the eventfd was signalled or
 *			poll()/LRING_IOC_WAIT sleepers were woken
 *
 * Every event names its ring by minor number (ring=N is /dev/lringN). All
 * fire under ring->irq_lock, usually in hard-IRQ context.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM lring

#if !defined(_LRING_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _LRING_TRACE_H

#include <linux/tracepoint.h>

#include "lring_internal.h"

TRACE_EVENT(lring_publish,
	TP_PROTO(struct lring *ring, const struct lring_cqe *cqe),
	TP_ARGS(ring, cqe),
	TP_STRUCT__entry(
		__field(u32, ring)
		__field(u32, buf_id)
		__field(u32, len)
		__field(u32, flags)
		__field(u32, dropped)
		__field(u64, seq)
	),
	TP_fast_assign(
		__entry->ring = MINOR(ring->dev.devt);
		__entry->buf_id = cqe->buf_id;
		__entry->len = cqe->len;
		__entry->flags = cqe->flags;
		__entry->dropped = cqe->dropped;
		__entry->seq = cqe->seq;
	),
	TP_printk("ring=%u buf_id=%u len=%u seq=%llu flags=0x%x dropped=%u",
		  __entry->ring, __entry->buf_id, __entry->len,
		  __entry->seq, __entry->flags, __entry->dropped)
);

TRACE_EVENT(lring_return,
	TP_PROTO(struct lring *ring, u32 buf_id, bool accepted),
	TP_ARGS(ring, buf_id, accepted),
	TP_STRUCT__entry(
		__field(u32, ring)
		__field(u32, buf_id)
		__field(bool, accepted)
	),
	TP_fast_assign(
		__entry->ring = MINOR(ring->dev.devt);
		__entry->buf_id = buf_id;
		__entry->accepted = accepted;
	),
	TP_printk("ring=%u buf_id=%u %s", __entry->ring, __entry->buf_id,
		  __entry->accepted ? "accepted" : "rejected")
);

TRACE_EVENT(lring_drop,
	TP_PROTO(struct lring *ring, struct lring_pool *pool, u64 dropped),
	TP_ARGS(ring, pool, dropped),
	TP_STRUCT__entry(
		__field(u32, ring)
		__field(u32, gap)
		__field(u64, seq)
		__field(u64, dropped)
	),
	TP_fast_assign(
		__entry->ring = MINOR(ring->dev.devt);
		__entry->gap = pool->gap;
		__entry->seq = pool->seq;
		__entry->dropped = dropped;
	),
	TP_printk("ring=%u seq=%llu gap=%u dropped=%llu", __entry->ring,
		  __entry->seq, __entry->gap, __entry->dropped)
);

TRACE_EVENT(lring_kick,
	TP_PROTO(struct lring *ring, struct lring_pool *pool),
	TP_ARGS(ring, pool),
	TP_STRUCT__entry(
		__field(u32, ring)
		__field(u32, fill_waiting)
		__field(u32, nr_device)
		__field(bool, need_wakeup)
	),
	TP_fast_assign(
		__entry->ring = MINOR(ring->dev.devt);
		__entry->fill_waiting = READ_ONCE(pool->user->fq_producer) -
					pool->fq_cons;
		__entry->nr_device = pool->nr_device;
		__entry->need_wakeup = !!(pool->ctrl->flags &
					  LRING_F_NEED_WAKEUP);
	),
	TP_printk("ring=%u fill_waiting=%u nr_device=%u need_wakeup=%d",
		  __entry->ring, __entry->fill_waiting, __entry->nr_device,
		  __entry->need_wakeup)
);

/*
 * @ready is the count the wakeup was decided on: read again here, a
 * consumer on another CPU may already have taken everything.
 */
TRACE_EVENT(lring_wakeup,
	TP_PROTO(struct lring *ring, u32 ready, bool eventfd),
	TP_ARGS(ring, ready, eventfd),
	TP_STRUCT__entry(
		__field(u32, ring)
		__field(u32, ready)
		__field(bool, eventfd)
	),
	TP_fast_assign(
		__entry->ring = MINOR(ring->dev.devt);
		__entry->ready = ready;
		__entry->eventfd = eventfd;
	),
	TP_printk("ring=%u ready=%u via=%s", __entry->ring, __entry->ready,
		  __entry->eventfd ? "eventfd" : "waitqueue")
);

#endif /* _LRING_TRACE_H */

/* Out of tree: define_trace.h finds this file through -I$(src). */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE lring_trace
#include <trace/define_trace.h>
