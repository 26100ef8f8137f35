// SPDX-License-Identifier: MIT
/*
 * python_abi - what lring.py declares of <linux/lring.h>, from C: the size
 * and every field's offset of the structs it declares with ctypes, and the
 * constants it names. One "key=value" per line.
 */
#include <stddef.h>
#include <stdio.h>
#include <linux/lring.h>

#define SIZE(s)		printf("sizeof.%s=%zu\n", #s, sizeof(struct lring_##s))
#define OFF(s, f)	printf("%s.%s=%zu\n", #s, #f, offsetof(struct lring_##s, f))
#define CONST(c)	printf("%s=%llu\n", #c, (unsigned long long)(LRING_##c))

int main(void)
{
	SIZE(sqe);
	OFF(sqe, buf_id); OFF(sqe, len);

	SIZE(cqe);
	OFF(cqe, buf_id); OFF(cqe, len); OFF(cqe, seq); OFF(cqe, timestamp_ns);
	OFF(cqe, flags); OFF(cqe, dropped);

	SIZE(layout);
	OFF(layout, mmap_size); OFF(layout, ctrl_off); OFF(layout, user_off);
	OFF(layout, cq_producer_off); OFF(layout, cq_consumer_off);
	OFF(layout, cq_entries_off); OFF(layout, fq_producer_off);
	OFF(layout, fq_consumer_off); OFF(layout, fq_entries_off);
	OFF(layout, flags_off); OFF(layout, counters_off); OFF(layout, pool_off);
	OFF(layout, pool_size); OFF(layout, cq_entries); OFF(layout, fq_entries);
	OFF(layout, cqe_size); OFF(layout, fqe_size); OFF(layout, buf_count);
	OFF(layout, buf_size); OFF(layout, buf_stride);
	OFF(layout, config_flags); OFF(layout, map_flags); OFF(layout, resv);

	SIZE(config);
	OFF(config, buf_count); OFF(config, buf_size); OFF(config, backend);
	OFF(config, cq_entries); OFF(config, fq_entries);
	OFF(config, index_base); OFF(config, flags); OFF(config, resv0);
	OFF(config, user_addr); OFF(config, user_len); OFF(config, dmabuf_fds);
	OFF(config, resv);

	SIZE(info);
	OFF(info, abi_version); OFF(info, configured); OFF(info, backend);
	OFF(info, flags); OFF(info, segments_per_buf); OFF(info, resv0);
	OFF(info, layout); OFF(info, features); OFF(info, resv);

	SIZE(counters);
	OFF(counters, produced); OFF(counters, delivered); OFF(counters, dropped);
	OFF(counters, irqs); OFF(counters, kicks); OFF(counters, waits);
	OFF(counters, eventfd_signals); OFF(counters, returned);
	OFF(counters, rejected_ids); OFF(counters, rejected_indices);
	OFF(counters, need_wakeups); OFF(counters, device_errors);
	OFF(counters, cancelled); OFF(counters, resv);

	CONST(ABI_VERSION); CONST(MAGIC);
	CONST(F_NEED_WAKEUP); CONST(F_DEAD); CONST(F_RUNNING);
	CONST(CQE_F_ERROR); CONST(CQE_F_GAP); CONST(CQE_F_TRUNCATED);
	CONST(CQE_F_NOT_SENT); CONST(CONFIG_TX); CONST(FEAT_TX);
	CONST(BACKEND_COHERENT); CONST(BACKEND_STREAMING);
	CONST(BACKEND_NONCONTIG); CONST(BACKEND_USER);
	return 0;
}
