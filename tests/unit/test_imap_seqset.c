/* SPDX-License-Identifier: ISC */
/*
 * test_imap_seqset.c - IMAP sequence sets: ranges either way round, "*",
 * merging, the largest numbers, and every malformed form refused.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "imap_seqset.h"
#include "test.h"
#include "banned.h"

static struct imap_seqset	set;
static const char		*err;

static int
parse(const char *s, uint32_t star)
{
	imap_seqset_free(&set);
	return imap_seqset_parse(s, strlen(s), star, &set, &err);
}

/* The set as "lo-hi,lo-hi". */
static const char *
show(void)
{
	static char	buf[512];
	size_t		i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < set.n && off < sizeof(buf) - 32; i++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%u-%u",
		    i > 0 ? "," : "", set.r[i].lo, set.r[i].hi);
	return buf;
}

static void
test_good(void)
{
	test_begin("seqset: numbers, ranges, *, merging");
	test_assert(parse("1", 10) == 0);
	test_assert_streq(show(), "1-1");
	test_assert(parse("1:4,7,9:*", 12) == 0);
	test_assert_streq(show(), "1-4,7-7,9-12");
	test_assert(parse("5:2", 10) == 0);
	test_assert_streq(show(), "2-5");
	test_assert(parse("*:3", 10) == 0);
	test_assert_streq(show(), "3-10");
	test_assert(parse("3,1,2,10:20,15:25,26", 99) == 0);
	test_assert_streq(show(), "1-3,10-26");
	test_assert(parse("1:4294967295", 5) == 0);
	test_assert_streq(show(), "1-4294967295");
	test_assert(imap_seqset_has(&set, 4294967295U) &&
	    imap_seqset_max(&set) == 4294967295U);
	/* RFC 3501 6.4.8: 559:* names the last UID even when it is lower */
	test_assert(parse("559:*", 20) == 0);
	test_assert_streq(show(), "20-559");
	/* an empty mailbox: * is no message */
	test_assert(parse("*", 0) == 0 && set.n == 0);
	test_assert(parse("1:*", 0) == 0);
	test_assert_streq(show(), "1-1");
	test_assert(parse("2,4,6", 9) == 0 && imap_seqset_has(&set, 4) &&
	    !imap_seqset_has(&set, 5) && !imap_seqset_has(&set, 1) &&
	    !imap_seqset_has(&set, 7));
	test_end();
}

static void
test_bad(void)
{
	static const char *bad[] = {
		"", "0", "01", "1:0", "1:", ":1", "1,", ",1", "1,,2", "a",
		"1 2", "1:2:3", "4294967296", "99999999999999999999", "-1",
		"1:*:", "**", "1;2",
	};
	char	big[70000];
	size_t	i, off = 0;

	test_begin("seqset: malformed sets and limits refused");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		test_assert(parse(bad[i], 10) == -1);
	for (i = 0; i < IMAP_SEQSET_ITEMS_MAX + 1 && off < sizeof(big) - 8;
	    i++)
		off += (size_t)snprintf(big + off, sizeof(big) - off, "%s%zu",
		    i > 0 ? "," : "", i % 7 + 1);
	test_assert(parse(big, 10) == -1);
	test_assert_streq(err, "sequence set too long");
	test_end();
}

int
main(void)
{
	static void (*tests[])(void) = { test_good, test_bad, NULL };
	int	rv = test_run(tests);

	imap_seqset_free(&set);
	return rv;
}
