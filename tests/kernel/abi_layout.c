// SPDX-License-Identifier: GPL-2.0
/*
 * abi_layout - print the layout of lring's userspace ABI as this program
 * was compiled: every struct's size, the offset of each field that follows
 * a change of width, and every ioctl number (which encodes its argument's
 * size). The compat32 group runs a 64-bit and a 32-bit build in the same
 * guest; their outputs must be identical, or a 32-bit application would
 * talk to the 64-bit kernel in another language.
 *
 *   abi_layout            the ABI
 *   abi_layout --twin     the ABI plus sizeof(long): must differ between
 *                         the two builds (proves the comparison can fail)
 */
#include "ktest.h"

#define SIZE(s) printf("sizeof %s %zu\n", #s, sizeof(struct s))
#define FIELD(s, f) printf("offsetof %s.%s %zu\n", #s, #f, offsetof(struct s, f))
#define IOCTL(n) printf("ioctl %s 0x%08lx\n", #n, (unsigned long)(n))

int main(int argc, char **argv)
{
	SIZE(lring_cqe);
	FIELD(lring_cqe, seq);
	FIELD(lring_cqe, timestamp_ns);
	FIELD(lring_cqe, flags);
	SIZE(lring_fqe);
	SIZE(lring_sqe);
	FIELD(lring_sqe, len);
	SIZE(lring_counters);
	FIELD(lring_counters, device_errors);
	FIELD(lring_counters, cancelled);
	SIZE(lring_layout);
	FIELD(lring_layout, pool_size);
	FIELD(lring_layout, cq_entries);
	FIELD(lring_layout, config_flags);
	FIELD(lring_layout, map_flags);
	FIELD(lring_layout, resv);
	SIZE(lring_ctrl);
	FIELD(lring_ctrl, layout);
	FIELD(lring_ctrl, cq_producer);
	FIELD(lring_ctrl, fq_consumer);
	FIELD(lring_ctrl, flags);
	FIELD(lring_ctrl, counters);
	SIZE(lring_user);
	FIELD(lring_user, fq_producer);
	SIZE(lring_config);
	FIELD(lring_config, user_addr);
	FIELD(lring_config, user_len);
	FIELD(lring_config, dmabuf_fds);
	FIELD(lring_config, resv);
	SIZE(lring_info);
	FIELD(lring_info, layout);
	FIELD(lring_info, resv);
	SIZE(lring_eventfd);
	SIZE(lring_wait);
	FIELD(lring_wait, min_entries);
	SIZE(lring_export);
	FIELD(lring_export, fd);
	IOCTL(LRING_IOC_CONFIGURE);
	IOCTL(LRING_IOC_GET_INFO);
	IOCTL(LRING_IOC_START);
	IOCTL(LRING_IOC_STOP);
	IOCTL(LRING_IOC_KICK);
	IOCTL(LRING_IOC_SET_EVENTFD);
	IOCTL(LRING_IOC_WAIT);
	IOCTL(LRING_IOC_GET_COUNTERS);
	IOCTL(LRING_IOC_DQBUF);
	IOCTL(LRING_IOC_QBUF);
	IOCTL(LRING_IOC_EXPORT_BUF);
	if (argc > 1 && !strcmp(argv[1], "--twin"))
		printf("sizeof long %zu\n", sizeof(long));
	return 0;
}
