// SPDX-License-Identifier: GPL-2.0
/*
 * versions_test - the interface's rules for growing (uapi/linux/lring.h),
 * on the real module and lring_sim's ring 0.
 *
 *   versions_test sized_args   any module: ioctl arguments longer than this
 *                              program's struct (zero tail: taken; other
 *                              tail: E2BIG), shorter than the first version
 *                              (EINVAL), answers cut or zero-filled
 *   versions_test later        the module built with LRING_ABI_TEST_NEWER
 *                              (tests/pkg/abi-compat.sh): larger completion
 *                              entries and an unknown feature bit, which
 *                              this liblring streams through unchanged
 *   versions_test earlier      the module built with LRING_ABI_TEST_OLDER:
 *                              no LRING_IOC_WAIT, which liblring refuses
 *                              without a syscall; the rest streams
 */
#include "ktest.h"

#include <sys/eventfd.h>

/* A struct followed by 16 more bytes, as a later program would send. */
struct longer_info {
	struct lring_info info;
	uint8_t tail[16];
};

struct longer_eventfd {
	struct lring_eventfd ev;
	uint8_t tail[16];
};

static void test_sized_args(int argc, char **argv)
{
	struct longer_info li;
	struct longer_eventfd le;
	struct lring_config cfg = { 0 };
	int fd, efd, i, untouched = 1;

	(void)argc;
	(void)argv;
	fd = open("/dev/lring0", O_RDWR | O_CLOEXEC);
	if (!ktest_ok(fd >= 0, "sized_args: open /dev/lring0"))
		return;

	memset(&li, 0xa5, sizeof(li));
	ktest_ok(!ioctl(fd, _IOR(LRING_IOC_MAGIC, 2, struct longer_info), &li),
		 "sized_args: GET_INFO with a longer argument");
	for (i = 0; i < (int)sizeof(li.tail); i++)
		untouched &= li.tail[i] == 0xa5;
	ktest_ok(untouched && li.info.abi_version == LRING_ABI_VERSION,
		 "sized_args: the module wrote the fields it knows and left the rest alone");
	ktest_ok(li.info.features & LRING_FEAT_SIZED_ARGS,
		 "sized_args: the module announces LRING_FEAT_SIZED_ARGS (%#llx)",
		 (unsigned long long)li.info.features);

	efd = eventfd(0, EFD_CLOEXEC);
	memset(&le, 0, sizeof(le));
	le.ev.fd = efd;
	le.ev.batch = 1;
	ktest_ok(!ioctl(fd, _IOW(LRING_IOC_MAGIC, 6, struct longer_eventfd), &le),
		 "sized_args: SET_EVENTFD with a longer argument, zero tail: taken");
	le.tail[7] = 1;
	ktest_ok(ioctl(fd, _IOW(LRING_IOC_MAGIC, 6, struct longer_eventfd), &le) < 0 &&
		 errno == E2BIG,
		 "sized_args: a tail this module does not know, not zero: E2BIG");
	le.ev.fd = -1;
	le.tail[7] = 0;
	ioctl(fd, _IOW(LRING_IOC_MAGIC, 6, struct longer_eventfd), &le);
	close(efd);

	ktest_ok(ioctl(fd, _IOC(_IOC_WRITE, LRING_IOC_MAGIC, 1,
				LRING_CONFIG_SIZE_VER0 - 8), &cfg) < 0 &&
		 errno == EINVAL,
		 "sized_args: CONFIGURE shorter than the first version: EINVAL");
	ktest_ok(ioctl(fd, _IO(LRING_IOC_MAGIC, 99)) < 0 && errno == ENOTTY,
		 "sized_args: an unknown ioctl still gets ENOTTY");
	close(fd);
}

/* Streams 64 blocks on ring 0 and checks every byte. */
static void stream_64(struct lring *r, const char *what)
{
	struct ktest_stream s = { .seed = 71, .expect_len = 4096 };

	lring_start(r);
	ktest_ok(ktest_consume_until(r, &s, 64, 20000), "%s: 64 blocks arrive", what);
	lring_stop(r);
	ktest_ok(!s.bad_data && !s.bad_seq && !s.bad_len,
		 "%s: every block's data, sequence and length right "
		 "(%" PRIu64 " bad data, %" PRIu64 " bad seq, %" PRIu64 " bad len)",
		 what, s.bad_data, s.bad_seq, s.bad_len);
}

static void test_later(int argc, char **argv)
{
	struct lring *r;

	(void)argc;
	(void)argv;
	if (!ktest_ok(!ktest_setup(0, &r, 16, 4096, LRING_BACKEND_STREAMING, 0, 0,
				   71, 0), "later: setup"))
		return;
	ktest_ok(r->cqe_size > sizeof(struct lring_cqe),
		 "later: the module's completion entries are larger (%u > %zu bytes)",
		 r->cqe_size, sizeof(struct lring_cqe));
	ktest_ok(lring_features(r) & (1ULL << 62),
		 "later: a feature bit this liblring does not know (%#llx)",
		 (unsigned long long)lring_features(r));
	stream_64(r, "later");
	lring_close(r);
}

static void test_earlier(int argc, char **argv)
{
	struct lring_wait w = { .timeout_ns = 1000000, .min_entries = 1 };
	struct lring_counters c0, c1;
	struct lring *r;

	(void)argc;
	(void)argv;
	if (!ktest_ok(!ktest_setup(0, &r, 16, 4096, LRING_BACKEND_STREAMING, 0, 0,
				   71, 0), "earlier: setup"))
		return;
	ktest_ok(!(lring_features(r) & LRING_FEAT_WAIT),
		 "earlier: the module does not announce LRING_FEAT_WAIT (%#llx)",
		 (unsigned long long)lring_features(r));
	ktest_ok(ioctl(r->fd, LRING_IOC_WAIT, &w) < 0 && errno == ENOTTY,
		 "earlier: the module answers LRING_IOC_WAIT with ENOTTY");
	ioctl(r->fd, LRING_IOC_GET_COUNTERS, &c0);
	ktest_ok(lring_wait_ioctl(r, 1000000, 1) == -EOPNOTSUPP,
		 "earlier: lring_wait_ioctl() refuses with EOPNOTSUPP");
	ioctl(r->fd, LRING_IOC_GET_COUNTERS, &c1);
	ktest_ok(c1.waits == c0.waits, "earlier: ... without reaching the module");
	stream_64(r, "earlier");
	lring_close(r);
}

static const struct ktest_subtest tests[] = {
	{ "sized_args", test_sized_args },
	{ "later", test_later },
	{ "earlier", test_earlier },
};

int main(int argc, char **argv)
{
	return ktest_main(KTEST_SUBTESTS(tests), argc, argv);
}
