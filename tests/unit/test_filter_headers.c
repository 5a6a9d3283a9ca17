/* SPDX-License-Identifier: ISC */
/*
 * test_filter_headers.c - the RFC 5322 sanity checks of the filter:
 * required and single fields, header syntax, size and count limits.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "filter_headers.h"
#include "test.h"
#include "banned.h"

static char	reply[256];

static int
check(const char *m)
{
	reply[0] = '\0';
	return filter_headers_check((const unsigned char *)m, strlen(m), true, 0,
	    reply, sizeof(reply));
}

static void
test_good(void)
{
	test_begin("headers: a plain message, folded fields, no body");
	test_assert(check("From: a@b.test\r\nDate: Thu, 1 Jan 2026 00:00:00 "
	    "+0000\r\nSubject: hi\r\n there\r\n\r\nbody\r\nFrom: x\r\n") ==
	    0);
	test_assert(check("Received: x\r\nfrom: a@b\r\nDATE: d\r\n") == 0);
	test_assert(check("From: a\r\nDate: d\r\nX-Empty:\r\n\r\n") == 0);
	test_end();
}

static void
test_refused(void)
{
	test_begin("headers: missing, doubled, malformed, too large");
	test_assert(check("Date: d\r\n\r\nx") == -1);
	test_assert_streq(reply, "550 5.6.0 Message has no From: header field "
	    "(RFC 5322 3.6)");
	test_assert(check("From: a\r\n\r\n") == -1);
	test_assert_streq(reply, "550 5.6.0 Message has no Date: header field "
	    "(RFC 5322 3.6)");
	test_assert(check("From: a\r\nDate: d\r\nFrom: b\r\n\r\n") == -1);
	test_assert_streq(reply, "550 5.6.0 More than one From: header field "
	    "(RFC 5322 3.6)");
	test_assert(check("From: a\r\nDate: d\r\nSubject: 1\r\nsubject: 2\r\n"
	    "\r\n") == -1);
	test_assert(check("From: a\r\nDate: d\r\nno colon here\r\n\r\n") ==
	    -1);
	test_assert_streq(reply, "550 5.6.0 Malformed message header line 3 "
	    "(RFC 5322 2.2)");
	test_assert(check("From: a\r\nDate: d\r\nBad Name: x\r\n\r\n") == -1);
	test_assert(check("From: a\r\nDate: d\r\n: x\r\n\r\n") == -1);
	test_assert(check(" folded first\r\nFrom: a\r\nDate: d\r\n\r\n") == -1);
	test_assert(check("From: a\r\nDate: d\r\nX\xc3\xa9: 8-bit name\r\n"
	    "\r\n") == -1);
	test_end();
}

static void
test_limits(void)
{
	char	*m;
	size_t	 i, off;

	test_begin("headers: 1000 fields, 256 KiB, and one more");
	m = malloc(FH_BLOCK_MAX * 2);
	off = (size_t)snprintf(m, 64, "From: a\r\nDate: d\r\n");
	for (i = 2; i < FH_FIELDS_MAX; i++)
		off += (size_t)snprintf(m + off, 32, "X-%zu: y\r\n", i);
	memcpy(m + off, "\r\n", 3);
	test_assert(check(m) == 0);
	memcpy(m + off, "X-last: y\r\n\r\n", 14);
	test_assert(check(m) == -1);
	test_assert_streq(reply, "552 5.3.4 Too many header fields (at most "
	    "1000)");
	/* one long field over the block limit */
	off = (size_t)snprintf(m, 64, "From: a\r\nDate: d\r\nX: ");
	memset(m + off, 'x', FH_BLOCK_MAX);
	memcpy(m + off + FH_BLOCK_MAX, "\r\n\r\n", 5);
	test_assert(check(m) == -1);
	test_assert_streq(reply, "552 5.3.4 Message header larger than 262144 "
	    "bytes");
	/* a prefix that never reaches the blank line */
	test_assert(filter_headers_check((const unsigned char *)m,
	    FH_BLOCK_MAX + 2, false, 0, reply, sizeof(reply)) == -1);
	free(m);
	test_end();
}

int
main(void)
{
	static void (*tests[])(void) = {
		test_good, test_refused, test_limits, NULL
	};

	return test_run(tests);
}
