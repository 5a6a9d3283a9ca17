/* SPDX-License-Identifier: ISC */
/* test_imap_parse.c - LOGIN arguments: atoms, quoted strings, limits. */
#include "config.h"

#include <string.h>

#include "imap_parse.h"
#include "test.h"
#include "banned.h"

static char	user[32], pass[16];

static int
login(const char *args)
{
	memset(user, 'X', sizeof(user));
	memset(pass, 'X', sizeof(pass));
	return imap_parse_login(args, strlen(args), user, sizeof(user), pass,
	    sizeof(pass));
}

static void
test_login_good(void)
{
	test_begin("LOGIN: atoms and quoted strings with escapes");
	test_assert(login(" demo@example.test s3cret") == 0);
	test_assert_streq(user, "demo@example.test");
	test_assert_streq(pass, "s3cret");
	test_assert(login(" \"a b\" \"q\\\"x\\\\\"") == 0);
	test_assert_streq(user, "a b");
	test_assert_streq(pass, "q\"x\\");
	test_assert(login(" \"\" ]") == 0);	/* empty quoted; "]" is ASTRING */
	test_assert_streq(user, "");
	test_assert_streq(pass, "]");
	test_end();
}

static void
test_login_bad(void)
{
	test_begin("LOGIN: bad syntax is refused");
	test_assert(login("") == IMAP_PARSE_BAD);
	test_assert(login(" ") == IMAP_PARSE_BAD);
	test_assert(login(" a") == IMAP_PARSE_BAD);
	test_assert(login(" a ") == IMAP_PARSE_BAD);
	test_assert(login("  a b") == IMAP_PARSE_BAD);
	test_assert(login(" a b ") == IMAP_PARSE_BAD);
	test_assert(login(" a b c") == IMAP_PARSE_BAD);
	test_assert(login(" \"a b") == IMAP_PARSE_BAD);
	test_assert(login(" \"a\\n\" b") == IMAP_PARSE_BAD);
	test_assert(login(" \"a\\") == IMAP_PARSE_BAD);
	test_assert(login(" a(b c") == IMAP_PARSE_BAD);
	test_assert(login(" {3} c") == IMAP_PARSE_BAD);
	test_assert(login(" a%b c") == IMAP_PARSE_BAD);
	test_assert(login(" \"\xc3\xa9\" c") == IMAP_PARSE_BAD);
	test_assert(login(" \"a\rb\" c") == IMAP_PARSE_BAD);
	test_end();
}

static void
test_login_nul_and_length(void)
{
	const char	nul[] = " a\0b c";
	const char	qnul[] = " \"a\0b\" c";

	test_begin("LOGIN: NUL bytes and over-long values");
	test_assert(imap_parse_login(nul, sizeof(nul) - 1, user, sizeof(user),
	    pass, sizeof(pass)) == IMAP_PARSE_BAD);
	test_assert(imap_parse_login(qnul, sizeof(qnul) - 1, user,
	    sizeof(user), pass, sizeof(pass)) == IMAP_PARSE_BAD);
	test_assert(login(" 1234567890123456789012345678901 p") == 0);
	test_assert(login(" 12345678901234567890123456789012 p") ==
	    IMAP_PARSE_TOOLONG);				/* 32 > 31 */
	test_assert(login(" u \"123456789012345\"") == 0);	/* 15 fits */
	test_assert(login(" u \"1234567890123456\"") == IMAP_PARSE_TOOLONG);
	test_end();
}

static void
test_tag(void)
{
	char		 tag[IMAP_TAG_MAX + 1];
	const char	*cmd, *rest;
	size_t		 clen;
	char		 long_tag[100];

#define TAG(l)	imap_parse_tag((l), strlen(l), tag, sizeof(tag), &cmd, &clen, \
	    &rest)
	test_begin("tag and command split (RFC 3501 9)");
	test_assert(TAG("a1 NOOP") == 0);
	test_assert_streq(tag, "a1");
	test_assert(clen == 4 && strncmp(cmd, "NOOP", 4) == 0);
	test_assert_streq(rest, "");
	test_assert(TAG("x] LOGIN a b") == 0);	/* "]" is allowed in tags */
	test_assert_streq(rest, " a b");
	test_assert(TAG("a+b NOOP") == IMAP_PARSE_BAD);
	test_assert(TAG("a*b NOOP") == IMAP_PARSE_BAD);
	test_assert(TAG("\"a\" NOOP") == IMAP_PARSE_BAD);
	test_assert(TAG("NOOP") == IMAP_PARSE_BAD);
	test_assert(TAG("a ") == IMAP_PARSE_BAD);
	test_assert(TAG(" NOOP") == IMAP_PARSE_BAD);
	test_assert(TAG("") == IMAP_PARSE_BAD);
	memset(long_tag, 't', 65);
	memcpy(long_tag + 65, " NOOP", 6);
	test_assert(TAG(long_tag) == IMAP_PARSE_BAD);
	long_tag[1] = ' ';
	test_assert(TAG(long_tag + 2) == 0);	/* 63 */
#undef TAG
	test_end();
}

int
main(void)
{
	static void (*tests[])(void) = {
		test_login_good, test_login_bad, test_login_nul_and_length,
		test_tag, NULL
	};

	return test_run(tests);
}
