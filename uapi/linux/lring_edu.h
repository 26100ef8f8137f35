/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR MIT) */
/*
 * lring_edu: QEMU's edu PCI device (1234:11e8) as an lring device.
 *
 * Each edu device has two rings whose parent is the PCI device
 * (/sys/class/lring/lringM/device is /sys/bus/pci/devices/<bdf>): a
 * receiving ring, /dev/lringM, and a sending ring, /dev/lringM+1 (its
 * sysfs "directions" says tx; configure it with LRING_CONFIG_TX). The
 * driver adds these attributes to the PCI device:
 *
 *   seed           mixed into the pattern, read as each block starts (the
 *                  name lring_sim uses, so the same consumers verify both)
 *   spurious_irqs  interrupts that completed no DMA (read-only): a status of
 *                  zero, a status without the DMA bit, or the DMA bit while
 *                  no transfer was in flight; counted and otherwise ignored
 *
 * The device cannot make data: its "sensor" is its 4 KiB internal buffer.
 * For each block the driver stages the pattern below in RAM, DMAs it into
 * the device and then from the device into the receiving ring's buffer, at
 * most LRING_EDU_XFER_MAX bytes at a time (a buffer larger than that is
 * filled with several pairs of transfers). Each transfer takes 100 ms of
 * virtual time in QEMU, so a block of n bytes takes 200 ms * ceil(n / 4095).
 *
 * While the sending ring streams, the device sends its blocks the same
 * way: each block goes from its buffer into the device, then on into the
 * next buffer of the receiving ring if that ring is started (a loopback:
 * the receiving ring then gets exactly the blocks sent, in order, and
 * waits for them instead of making the pattern), or nowhere if it is not.
 * Nothing is dropped either way: the device waits for a block to send and
 * for a buffer to receive it.
 *
 * The data pattern is the simulated device's: byte i of the block with
 * sequence number seq is byte (i % 8) of the little-endian 64-bit word
 * lring_sim_word(seed, seq, i / 8), so a consumer verifies both devices'
 * blocks with the same code.
 */
#ifndef _UAPI_LINUX_LRING_EDU_H
#define _UAPI_LINUX_LRING_EDU_H

#include <linux/types.h>
#include <linux/lring_sim.h>

#define LRING_EDU_VENDOR	0x1234
#define LRING_EDU_DEVICE	0x11e8

/*
 * Largest transfer: QEMU 7.2's edu rejects a transfer that ends exactly at
 * the end of its 4 KiB buffer, so a block is moved in pieces of this size.
 */
#define LRING_EDU_XFER_MAX	4095U

/* BAR0 registers (32-bit accesses; the DMA registers are 64 bits wide). */
#define LRING_EDU_REG_ID	0x00	/* 0xRRrr00ed: major, minor, 0xed */
#define LRING_EDU_REG_IRQ_STATUS 0x24
#define LRING_EDU_REG_IRQ_RAISE	0x60	/* write: OR into the status, interrupt */
#define LRING_EDU_REG_IRQ_ACK	0x64	/* write: clear these status bits */
#define LRING_EDU_REG_DMA_SRC	0x80
#define LRING_EDU_REG_DMA_DST	0x88
#define LRING_EDU_REG_DMA_COUNT	0x90
#define LRING_EDU_REG_DMA_CMD	0x98

#define LRING_EDU_DMA_RUN	0x1	/* set to start, cleared when done */
#define LRING_EDU_DMA_TO_RAM	0x2	/* direction: device buffer to RAM */
#define LRING_EDU_DMA_IRQ	0x4	/* interrupt when done */
#define LRING_EDU_IRQ_DMA	0x100	/* status bit of a finished DMA */
#define LRING_EDU_BUF_ADDR	0x40000	/* the device buffer, in DMA space */

/**
 * lring_edu_byte() - byte @pos of the block with sequence number @seq
 * @seed:	the device's seed attribute
 * @seq:	the block's sequence number (struct lring_cqe.seq)
 * @pos:	offset in the block
 *
 * Return: the byte the block carries at @pos.
 */
static inline __u8 lring_edu_byte(__u64 seed, __u64 seq, __u64 pos)
{
	return (__u8)(lring_sim_word(seed, seq, pos / 8) >> (8 * (pos % 8)));
}

#endif /* _UAPI_LINUX_LRING_EDU_H */
