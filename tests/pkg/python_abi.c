// SPDX-License-Identifier: MIT
/* python_abi - the <linux/lring.h> values lring.py hard-codes, from C. */
#include <stdio.h>
#include <linux/lring.h>

int main(void)
{
	printf("IOC_CONFIGURE=%#lx IOC_GET_INFO=%#lx IOC_START=%#lx\n",
	       (unsigned long)LRING_IOC_CONFIGURE, (unsigned long)LRING_IOC_GET_INFO,
	       (unsigned long)LRING_IOC_START);
	printf("IOC_STOP=%#lx IOC_KICK=%#lx IOC_GET_COUNTERS=%#lx\n",
	       (unsigned long)LRING_IOC_STOP, (unsigned long)LRING_IOC_KICK,
	       (unsigned long)LRING_IOC_GET_COUNTERS);
	printf("sizeof_cqe=%zu sizeof_layout=%zu sizeof_config=%zu sizeof_info=%zu sizeof_counters=%zu\n",
	       sizeof(struct lring_cqe), sizeof(struct lring_layout),
	       sizeof(struct lring_config), sizeof(struct lring_info),
	       sizeof(struct lring_counters));
	printf("ABI_VERSION=%d MAGIC=%#x NEED_WAKEUP=%u DEAD=%u CQE_F_GAP=%u\n",
	       LRING_ABI_VERSION, LRING_MAGIC, LRING_F_NEED_WAKEUP, LRING_F_DEAD,
	       LRING_CQE_F_GAP);
	return 0;
}
