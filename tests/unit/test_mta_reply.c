/* SPDX-License-Identifier: ISC */
/*
 * test_mta_reply.c - the outbound client's reply reader and DATA encoder
 * (src/mta): single and multi-line replies, enhanced status codes, the
 * text kept; every refusal of SECURITY-TESTS T48 (100,000 continuation
 * lines, a 64 KiB line, codes "2", "2500", "25x", 199 and 600, a NUL,
 * CR or LF inside, differing codes, a line after the end); EHLO's
 * keywords; dot-stuffing with every line ending (T02); and the hosts to
 * try for a domain from its MX records (RFC 5321 5.1, RFC 7505).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "mta_reply.h"
#include "mta_data.h"
#include "mta_route.h"
#include "test.h"
#include "banned.h"

static struct mta_reply	r;

/* Feed NUL-separated lines; the last answer. */
static int
feed(const char *const *lines, const char **why)
{
	int	rc = MTA_REPLY_BAD;

	mta_reply_init(&r);
	for (; *lines != NULL; lines++)
		if ((rc = mta_reply_line(&r, *lines, strlen(*lines), why)) !=
		    MTA_REPLY_MORE)
			break;
	return rc;
}

static void
test_replies(void)
{
	static const char *const one[] = { "250 2.1.0 Ok", NULL };
	static const char *const multi[] = { "250-mx.example.org hi",
	    "250-SIZE 1000", "250 8BITMIME", NULL };
	static const char *const bare[] = { "354", NULL };
	static const char *const noclass[] = { "550 4.1.1 wrong class", NULL };
	static const char *const junk[] = { "451 4.3.0 caf\xc3\xa9\x1b[31m",
	    NULL };
	const char	*why;

	test_begin("replies: codes, status codes, text");
	test_assert(feed(one, &why) == MTA_REPLY_DONE && why == NULL);
	test_assert(r.code == 250 && r.nlines == 1);
	test_assert_streq(r.status, "2.1.0");
	test_assert_streq(r.text, "Ok");
	test_assert(feed(multi, &why) == MTA_REPLY_DONE && r.nlines == 3);
	test_assert_streq(r.text, "mx.example.org hi / SIZE 1000 / 8BITMIME");
	test_assert_streq(r.status, "");
	test_assert(feed(bare, &why) == MTA_REPLY_DONE && r.code == 354);
	/* a status code of another class is text, not a status */
	test_assert(feed(noclass, &why) == MTA_REPLY_DONE);
	test_assert_streq(r.status, "");
	test_assert_streq(r.text, "4.1.1 wrong class");
	/* only printable ASCII is kept */
	test_assert(feed(junk, &why) == MTA_REPLY_DONE);
	test_assert_streq(r.text, "caf???[31m");
	test_assert_streq(r.status, "4.3.0");
	test_end();
}

static void
test_hostile(void)
{
	static const char *const bad[][3] = {
		{ "2", NULL }, { "25", NULL }, { "2500 too long", NULL },
		{ "25x Ok", NULL }, { "199 Ok", NULL }, { "600 Ok", NULL },
		{ "260 Ok", NULL }, { "250_Ok", NULL }, { "", NULL },
		{ "250-a", "251 b", NULL }, { "250-a", "250x", NULL },
	};
	char		*big;
	const char	*why;
	size_t		 i;
	int		 rc;

	test_begin("hostile replies refused, bounded (T48)");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		test_assert(feed(bad[i], &why) == MTA_REPLY_BAD &&
		    why != NULL);
	}
	/* NUL, CR, LF inside a line */
	mta_reply_init(&r);
	test_assert(mta_reply_line(&r, "250 a\0b", 7, &why) == MTA_REPLY_BAD);
	mta_reply_init(&r);
	test_assert(mta_reply_line(&r, "250 a\rb", 7, &why) == MTA_REPLY_BAD);
	/* a 64 KiB line; the longest one taken: 510 octets + CR LF */
	big = malloc(65536);
	memset(big, 'a', 65536);
	memcpy(big, "250 ", 4);
	mta_reply_init(&r);
	test_assert(mta_reply_line(&r, big, 65536, &why) == MTA_REPLY_BAD);
	mta_reply_init(&r);
	test_assert(mta_reply_line(&r, big, 511, &why) == MTA_REPLY_BAD);
	mta_reply_init(&r);
	test_assert(mta_reply_line(&r, big, 510, &why) == MTA_REPLY_DONE);
	test_assert(r.textlen == 506);
	/* 100,000 continuation lines: refused at the 101st */
	memcpy(big, "250-", 4);
	mta_reply_init(&r);
	for (i = 0, rc = MTA_REPLY_MORE; i < 100000 && rc == MTA_REPLY_MORE;
	    i++)
		rc = mta_reply_line(&r, big, 300, &why);
	test_assert(rc == MTA_REPLY_BAD && i == MTA_REPLY_LINES_MAX + 1);
	test_assert(r.textlen == MTA_REPLY_TEXT_MAX);
	/* nothing after the end */
	mta_reply_init(&r);
	test_assert(mta_reply_line(&r, "250 ok", 6, &why) == MTA_REPLY_DONE);
	test_assert(mta_reply_line(&r, "250 ok", 6, &why) == MTA_REPLY_BAD);
	free(big);
	test_end();
}

static void
test_ehlo(void)
{
	static const char *const e1[] = { "250-mx.example.org Hello",
	    "250-PIPELINING", "250-SIZE 52428800", "250-8bitmime",
	    "250-STARTTLS", "250-ENHANCEDSTATUSCODES", "250-AUTH LOGIN PLAIN",
	    "250-DSN", "250-SMTPUTF8", "250 CHUNKING", NULL };
	static const char *const e2[] = { "250-STARTTLS ignored: first line",
	    "250-SIZE", "250-SIZE2 9", "250-AUTH=PLAIN", "250 X-STARTTLS",
	    NULL };
	static const char *const e3[] = { "250-x", "250-SIZE 99999999999999999999999",
	    "250 AUTH CRAM-MD5", NULL };
	struct mta_ehlo	 e;
	const char	*why;

	test_begin("EHLO keywords");
	test_assert(feed(e1, &why) == MTA_REPLY_DONE);
	mta_reply_ehlo(&r, &e);
	test_assert(e.exts == (MTA_EXT_STARTTLS | MTA_EXT_8BITMIME |
	    MTA_EXT_SMTPUTF8 | MTA_EXT_SIZE | MTA_EXT_PIPELINING |
	    MTA_EXT_CHUNKING | MTA_EXT_DSN | MTA_EXT_ENHANCED | MTA_EXT_AUTH));
	test_assert(e.size == 52428800 && e.auth_plain);
	test_assert(feed(e2, &why) == MTA_REPLY_DONE);
	mta_reply_ehlo(&r, &e);
	test_assert(e.exts == MTA_EXT_SIZE && e.size == 0 && !e.auth_plain);
	test_assert(feed(e3, &why) == MTA_REPLY_DONE);
	mta_reply_ehlo(&r, &e);
	test_assert(e.exts == (MTA_EXT_SIZE | MTA_EXT_AUTH) && e.size == 0 &&
	    !e.auth_plain);
	test_end();
}

/* Encode in (cut at cut) and compare with want. */
static int
data_is(const char *in, size_t cut, const char *want)
{
	struct mta_data	 d;
	unsigned char	 out[256];
	size_t		 n = 0, len = strlen(in);

	mta_data_init(&d);
	n += mta_data_encode(&d, (const unsigned char *)in, cut, out);
	n += mta_data_encode(&d, (const unsigned char *)in + cut, len - cut,
	    out + n);
	n += mta_data_finish(&d, out + n);
	return n == strlen(want) && memcmp(out, want, n) == 0;
}

static void
test_data(void)
{
	test_begin("DATA: dot-stuffing and line endings (T02)");
	test_assert(data_is("a\r\n", 0, "a\r\n.\r\n"));
	test_assert(data_is("", 0, ".\r\n"));
	test_assert(data_is("no end", 3, "no end\r\n.\r\n"));
	test_assert(data_is(".\r\n..\r\n.x\r\n", 4,
	    "..\r\n...\r\n..x\r\n.\r\n"));
	test_assert(data_is("a\r\n.\r\nb\r\n", 4, "a\r\n..\r\nb\r\n.\r\n"));
	/* lone LF, lone CR, CR cut from its LF, CR CR LF */
	test_assert(data_is("a\nb\rc\r\n", 0, "a\r\nb\r\nc\r\n.\r\n"));
	test_assert(data_is("a\r\nb", 2, "a\r\nb\r\n.\r\n"));
	test_assert(data_is("a\r\r\n.", 2, "a\r\n\r\n..\r\n.\r\n"));
	test_assert(data_is("x\r", 2, "x\r\n.\r\n"));
	test_assert(data_is("\r.", 1, "\r\n..\r\n.\r\n"));
	test_end();
}

static void
test_route(void)
{
	struct mta_mx		 mx[6];
	struct mta_route	 rt, r2;
	size_t			 i;
	int			 swapped = 0;
	uint32_t		 seed;

	test_begin("MX records to hosts: order, null MX, implicit MX");
	/* preference order; equal ones shuffled by the seed; case, dot */
	memset(mx, 0, sizeof(mx));
	mx[0].pref = 20; strlcpy(mx[0].host, "MX2.Example.ORG.", sizeof(mx[0].host));
	mx[1].pref = 10; strlcpy(mx[1].host, "a.example.org", sizeof(mx[1].host));
	mx[2].pref = 10; strlcpy(mx[2].host, "b.example.org.", sizeof(mx[2].host));
	mx[3].pref = 5; strlcpy(mx[3].host, "bad_host.example.org", sizeof(mx[3].host));
	mx[4].pref = 1; strlcpy(mx[4].host, "192.0.2.1", sizeof(mx[4].host));
	mx[5].pref = 30; strlcpy(mx[5].host, "a.example.org", sizeof(mx[5].host));
	test_assert(mta_route_build("example.org", mx, 6, 1, &rt) ==
	    MTA_ROUTE_OK);
	test_assert(rt.nhosts == 3 && !rt.implicit);
	test_assert(rt.prefs[0] == 10 && rt.prefs[1] == 10 && rt.prefs[2] == 20);
	test_assert_streq(rt.hosts[2], "mx2.example.org");
	test_assert((strcmp(rt.hosts[0], "a.example.org") == 0 &&
	    strcmp(rt.hosts[1], "b.example.org") == 0) ||
	    (strcmp(rt.hosts[0], "b.example.org") == 0 &&
	    strcmp(rt.hosts[1], "a.example.org") == 0));
	/* some seed puts the other first: the load is shared */
	for (seed = 2; seed < 64 && !swapped; seed++) {
		test_assert(mta_route_build("example.org", mx, 6, seed, &r2) ==
		    MTA_ROUTE_OK);
		swapped = strcmp(r2.hosts[0], rt.hosts[0]) != 0;
	}
	test_assert(swapped);
	/* no MX: the domain itself; a bad domain: nothing */
	test_assert(mta_route_build("Example.ORG.", NULL, 0, 1, &rt) ==
	    MTA_ROUTE_OK && rt.implicit && rt.nhosts == 1);
	test_assert_streq(rt.hosts[0], "example.org");
	test_assert(mta_route_build("-x.org", NULL, 0, 1, &rt) == MTA_ROUTE_BAD);
	/* null MX (RFC 7505), alone; "." among others is skipped */
	memset(mx, 0, sizeof(mx));
	strlcpy(mx[0].host, ".", sizeof(mx[0].host));
	test_assert(mta_route_build("example.org", mx, 1, 1, &rt) ==
	    MTA_ROUTE_NULL_MX && rt.nhosts == 0);
	mx[1].pref = 10; strlcpy(mx[1].host, "mx.example.org", sizeof(mx[1].host));
	test_assert(mta_route_build("example.org", mx, 2, 1, &rt) ==
	    MTA_ROUTE_OK && rt.nhosts == 1);
	/* only bad hosts: nothing to try */
	strlcpy(mx[0].host, "a..b", sizeof(mx[0].host));
	strlcpy(mx[1].host, "x-.org", sizeof(mx[1].host));
	test_assert(mta_route_build("example.org", mx, 2, 1, &rt) ==
	    MTA_ROUTE_BAD);
	/* at most MTA_ROUTE_HOSTS_MAX, the lowest preferences */
	{
		struct mta_mx	many[40];

		memset(many, 0, sizeof(many));
		for (i = 0; i < 40; i++) {
			many[i].pref = (uint16_t)(40 - i);
			snprintf(many[i].host, sizeof(many[i].host),
			    "mx%zu.example.org", i);
		}
		test_assert(mta_route_build("example.org", many, 40, 1, &rt) ==
		    MTA_ROUTE_OK && rt.nhosts == MTA_ROUTE_HOSTS_MAX);
		test_assert(rt.prefs[0] == 1 && rt.prefs[15] == 16);
	}
	/* host names */
	test_assert(mta_host_ok("mx-1.example.org") && mta_host_ok("a"));
	test_assert(!mta_host_ok("") && !mta_host_ok("10.0.0.1") &&
	    !mta_host_ok("a.-b.org") && !mta_host_ok("a b.org") &&
	    !mta_host_ok("[127.0.0.1]") && !mta_host_ok("a.b-"));
	test_end();
}

int
main(void)
{
	static void (*tests[])(void) = { test_replies, test_hostile,
	    test_ehlo, test_data, test_route, NULL };

	return test_run(tests);
}
