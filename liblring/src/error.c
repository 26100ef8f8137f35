// SPDX-License-Identifier: MIT
/*
 * liblring error messages.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>

#include <lring.h>

const char *lring_strerror(int err)
{
	const char *s;

	if (err < 0)
		err = -err;
	switch (err) {
	case 0:
		return "success";
	case EBUSY:
		return "ring is running or still mapped (or open elsewhere)";
	case EPROTO:
		return "kernel and library disagree on the ring layout";
	case ENODEV:
		return "ring device is gone";
	case ENOTTY:
		return "not an lring device";
	case ENODATA:
		return "ring is not configured";
	case ETIMEDOUT:
		return "timed out waiting for completions";
	case ENOSPC:
		return "fill ring is full (more buffers returned than owned)";
	case EALREADY:
		return "ring is already mapped";
	case EINVAL:
		return "invalid argument (configuration refused or bad call)";
	case ENOMEM:
		return "out of memory (pool too large for the backend?)";
	case EDEADLK:
		return "completions taken but not released: release them before waiting";
	case EOPNOTSUPP:
		return "not supported by this device or module (coherent memory on a device that does not snoop the caches, a direction the device lacks, or an older module)";
	}
	/* strerrordesc_np(): no locale, no buffer, thread-safe (glibc 2.32). */
	s = strerrordesc_np(err);
	return s ? s : "unknown error";
}
