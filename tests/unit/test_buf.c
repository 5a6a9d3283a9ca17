/* SPDX-License-Identifier: ISC */
/* test_buf.c - unit tests for common/buf.c: the max is never passed. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "buf.h"
#include "test.h"
#include "banned.h"

static void
test_buf_max(void)
{
	struct buf	*b = buf_new(4);

	test_begin("buf_add respects max");
	test_assert(buf_add(b, "abcd", 4) == 0);
	errno = 0;
	test_assert(buf_add(b, "e", 1) == -1 && errno == ENOBUFS);
	test_assert_streq(buf_cstr(b), "abcd");
	test_assert(b->len == 4);
	buf_free(&b);
	test_assert(b == NULL);
	test_end();
}

static void
test_buf_grow(void)
{
	struct buf	*b = buf_new(100000);
	char		 chunk[1000];
	int		 i, ok = 1;

	test_begin("buf grows up to max, then refuses");
	memset(chunk, 'x', sizeof(chunk));
	for (i = 0; i < 100; i++)
		ok &= buf_add(b, chunk, sizeof(chunk)) == 0;
	test_assert(ok);
	test_assert(b->len == 100000);
	test_assert(buf_add(b, "y", 1) == -1);
	test_assert(strlen(buf_cstr(b)) == 100000);
	buf_free(&b);
	test_end();
}

static void
test_buf_addf(void)
{
	struct buf	*b = buf_new(10);

	test_begin("buf_addf formats and respects max");
	test_assert(buf_addf(b, "%d-%s", 42, "ab") == 0);
	test_assert_streq(buf_cstr(b), "42-ab");
	test_assert(buf_addf(b, "%s", "123456") == -1);
	test_assert_streq(buf_cstr(b), "42-ab");	/* unchanged */
	test_assert(buf_addf(b, "%s", "12345") == 0);
	test_assert_streq(buf_cstr(b), "42-ab12345");
	buf_free(&b);
	test_end();
}

static void
test_buf_secret(void)
{
	struct buf	*b = buf_new_flags(64, BUF_SECRET);

	test_begin("buf_reset of a secret buffer empties it");
	test_assert(buf_add(b, "hunter2", 7) == 0);
	buf_reset(b);
	test_assert(b->len == 0);
	test_assert(memchr(b->data, 'h', b->cap) == NULL);
	buf_free(&b);
	buf_free(&b);	/* NULL is fine */
	test_end();
}

static void
test_buf_zero_max(void)
{
	struct buf	*b = buf_new(0);

	test_begin("buf with max 0 takes only empty adds");
	test_assert(buf_add(b, "", 0) == 0);
	test_assert(buf_add(b, "a", 1) == -1);
	test_assert_streq(buf_cstr(b), "");
	buf_free(&b);
	test_end();
}

int
main(void)
{
	static void (*tests[])(void) = {
		test_buf_max, test_buf_grow, test_buf_addf, test_buf_secret,
		test_buf_zero_max, NULL
	};

	return test_run(tests);
}
