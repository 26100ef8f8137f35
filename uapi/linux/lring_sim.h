/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR MIT) */
/*
 * lring_sim: the simulated lring device.
 *
 * Each simulated ring is a platform device lring_sim.N whose ring appears as
 * /dev/lringM. Its parameters are sysfs attributes of the platform device,
 * reachable from the ring as /sys/class/lring/lringM/device/<attr>:
 *
 *   rate        blocks per second, 1 .. LRING_SIM_MAX_RATE; 0 produces as fast
 *               as buffers come back (the device stalls instead of dropping)
 *   block_size  bytes per block, 0 = the whole buffer; a block larger than
 *               the buffer is cut and flagged LRING_CQE_F_TRUNCATED
 *   seed        mixed into the pattern, so a consumer proves it reads this
 *               run's data
 *
 * Parameters can be changed only while the ring is stopped (else EBUSY).
 *
 * A ring configured with LRING_CONFIG_TX makes the device a sink: it reads
 * each block sent, at @rate, and compares it with the pattern (seq being
 * the number of blocks sent before it). Read-only attributes:
 *
 *   tx_blocks      blocks read since the last start
 *   tx_mismatches  of those, blocks that differed from the pattern
 *
 * The data pattern: byte i of the block with sequence number seq is byte
 * (i % 8) of the little-endian 64-bit word lring_sim_word(seed, seq, i / 8).
 */
#ifndef _UAPI_LINUX_LRING_SIM_H
#define _UAPI_LINUX_LRING_SIM_H

#include <linux/types.h>

#define LRING_SIM_MAX_RATE	1000000U

/**
 * lring_sim_word() - the 64-bit word at @word_index of block @seq
 * @seed:	the ring's seed attribute
 * @seq:	the block's sequence number (struct lring_cqe.seq)
 * @word_index:	the word's position in the block, counted in 8-byte words
 *
 * Return: the value the device writes, in CPU byte order; stored
 * little-endian.
 */
static inline __u64 lring_sim_word(__u64 seed, __u64 seq, __u64 word_index)
{
	__u64 x = (seq << 32) ^ word_index ^ seed;

	/* A cheap mix, so a stale or shifted word never looks right. */
	x ^= x >> 29;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 32;
	return x;
}

#endif /* _UAPI_LINUX_LRING_SIM_H */
