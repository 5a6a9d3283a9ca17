/* SPDX-License-Identifier: ISC */
/* test_memfd.c - sealed memfds: a receiver refuses what is not sealed. */
#include "config.h"

#include <sys/mman.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "memfd.h"
#include "test.h"
#include "banned.h"

static void
test_memfd_roundtrip(void)
{
	char	out[6];
	size_t	len = 0;
	int	fd;

	test_begin("memfd_sealed_from: sealed, same bytes, cannot be written");
	fd = memfd_sealed_from("t", "hello", 5);
	test_assert(fd != -1);
	test_assert(memfd_check_sealed(fd, 100, &len) == 0 && len == 5);
	memset(out, 0, sizeof(out));
	test_assert(memfd_read(fd, out, 5) == 0);
	test_assert_streq(out, "hello");
	test_assert(write(fd, "x", 1) == -1 && errno == EPERM);
	test_assert(ftruncate(fd, 0) == -1);
	close(fd);
	test_end();
}

static void
test_memfd_unsealed(void)
{
	size_t	len;
	int	fd;

	test_begin("memfd_check_sealed refuses an unsealed memfd and a pipe");
	fd = memfd_create("u", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	test_assert(fd != -1);
	test_assert(write(fd, "abc", 3) == 3);
	test_assert(memfd_check_sealed(fd, 100, &len) == -1);
	/* only some seals: still refused */
	test_assert(fcntl(fd, F_ADD_SEALS, F_SEAL_GROW | F_SEAL_SHRINK) == 0);
	test_assert(memfd_check_sealed(fd, 100, &len) == -1);
	close(fd);
	{
		int	p[2];

		test_assert(pipe(p) == 0);
		test_assert(memfd_check_sealed(p[0], 100, &len) == -1);
		close(p[0]);
		close(p[1]);
	}
	test_end();
}

static void
test_memfd_too_big(void)
{
	size_t	len;
	int	fd;

	test_begin("memfd_check_sealed refuses more than max bytes");
	fd = memfd_sealed_from("b", "0123456789", 10);
	test_assert(memfd_check_sealed(fd, 9, &len) == -1);
	test_assert(memfd_check_sealed(fd, 10, &len) == 0 && len == 10);
	close(fd);
	test_end();
}

int
main(void)
{
	static void (*tests[])(void) = {
		test_memfd_roundtrip, test_memfd_unsealed, test_memfd_too_big,
		NULL
	};

	return test_run(tests);
}
