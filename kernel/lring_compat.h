/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lring_compat.h - the few kernel APIs that changed between the kernels lring
 * is tested on (Debian's 6.1 and 6.12).
 */
#ifndef _LRING_COMPAT_H
#define _LRING_COMPAT_H

#include <linux/version.h>
#include <linux/eventfd.h>
#include <linux/mm.h>
#include <linux/mmzone.h>

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 3, 0)
static inline void vm_flags_set(struct vm_area_struct *vma, vm_flags_t flags)
{
	vma->vm_flags |= flags;
}

static inline void vm_flags_clear(struct vm_area_struct *vma,
				  vm_flags_t flags)
{
	vma->vm_flags &= ~flags;
}
#endif

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 4, 0)
#define lring_class_create(name)	class_create(THIS_MODULE, name)
/* MAX_ORDER was exclusive until 6.4. */
#define LRING_MAX_PAGE_ORDER		(MAX_ORDER - 1)
#elif LINUX_VERSION_CODE < KERNEL_VERSION(6, 8, 0)
#define lring_class_create(name)	class_create(name)
#define LRING_MAX_PAGE_ORDER		MAX_ORDER
#else
#define lring_class_create(name)	class_create(name)
#define LRING_MAX_PAGE_ORDER		MAX_PAGE_ORDER
#endif

static inline void lring_eventfd_signal(struct eventfd_ctx *ctx)
{
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 8, 0)
	eventfd_signal(ctx, 1);
#else
	eventfd_signal(ctx);
#endif
}

#endif /* _LRING_COMPAT_H */
