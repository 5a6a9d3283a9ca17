/* SPDX-License-Identifier: ISC */
/*
 * test_mta_wkd.c - the pure half of the mta's Web Key Directory lookup
 * (mta/mta_wkd_url.c): the request's checks at and past each bound
 * (domain: LDH, lower case, 253 bytes; hash: 32 z-base-32 characters;
 * local part: 1..64 bytes, no C0 or DEL), the advanced host name and its
 * length limit, the URLs with and without a port (l= percent-encoded,
 * nothing of the local part outside the query), the buffers' bounds, and
 * what each HTTP status means.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "ipc_types.h"
#include "mta_wkd.h"
#include "test.h"
#include "banned.h"

#define H	"kei1q4tipxxu1yj79k9kfukdhfy631xe"	/* alice's */

static void
test_request_ok(void)
{
	char	d[300], l[80];

	test_begin("request checks: domain, hash, local part");
	test_assert(mta_wkd_request_ok("example.test", H, "alice"));
	test_assert(mta_wkd_request_ok("a-b.example.test", H, "J\xc3\xb6rg"));
	test_assert(mta_wkd_request_ok("x", H, "a+b%c&d=e?f#g/h~i"));
	/* domain */
	test_assert(!mta_wkd_request_ok("", H, "alice"));
	test_assert(!mta_wkd_request_ok("Example.test", H, "alice"));
	test_assert(!mta_wkd_request_ok("example.test.", H, "alice"));
	test_assert(!mta_wkd_request_ok(".example.test", H, "alice"));
	test_assert(!mta_wkd_request_ok("ex_ample.test", H, "alice"));
	test_assert(!mta_wkd_request_ok("-a.test", H, "alice"));
	test_assert(!mta_wkd_request_ok("a..test", H, "alice"));
	test_assert(!mta_wkd_request_ok("127.0.0.1", H, "alice"));
	test_assert(!mta_wkd_request_ok("a.test/x", H, "alice"));
	test_assert(!mta_wkd_request_ok("a.test:443", H, "alice"));
	test_assert(!mta_wkd_request_ok("a test", H, "alice"));
	/* 253 bytes, labels of 63: the longest; one more is refused */
	memset(d, 'a', 253);
	d[63] = d[127] = d[191] = '.';
	d[253] = '\0';
	test_assert(mta_wkd_request_ok(d, H, "alice"));
	d[253] = 'a';
	d[254] = '\0';
	test_assert(!mta_wkd_request_ok(d, H, "alice"));
	/* hash */
	test_assert(!mta_wkd_request_ok("a.test", "", "alice"));
	test_assert(!mta_wkd_request_ok("a.test", H "y", "alice"));
	test_assert(!mta_wkd_request_ok("a.test",
	    "kei1q4tipxxu1yj79k9kfukdhfy631x", "alice"));
	/* "l", "v", "2" and upper case are not z-base-32 */
	test_assert(!mta_wkd_request_ok("a.test",
	    "lei1q4tipxxu1yj79k9kfukdhfy631xe", "alice"));
	test_assert(!mta_wkd_request_ok("a.test",
	    "vei1q4tipxxu1yj79k9kfukdhfy631xe", "alice"));
	test_assert(!mta_wkd_request_ok("a.test",
	    "2ei1q4tipxxu1yj79k9kfukdhfy631xe", "alice"));
	test_assert(!mta_wkd_request_ok("a.test",
	    "Kei1q4tipxxu1yj79k9kfukdhfy631xe", "alice"));
	test_assert(!mta_wkd_request_ok("a.test",
	    "kei1q4tipxxu1yj79k9kfukdhfy631x/", "alice"));
	/* local part */
	test_assert(!mta_wkd_request_ok("a.test", H, ""));
	test_assert(!mta_wkd_request_ok("a.test", H, "a\rb"));
	test_assert(!mta_wkd_request_ok("a.test", H, "a\nb"));
	test_assert(!mta_wkd_request_ok("a.test", H, "a\tb"));
	test_assert(!mta_wkd_request_ok("a.test", H, "a\x7f"));
	test_assert(!mta_wkd_request_ok("a.test", H, "\x1b[0m"));
	memset(l, 'x', 64);
	l[64] = '\0';
	test_assert(mta_wkd_request_ok("a.test", H, l));
	l[64] = 'x';
	l[65] = '\0';
	test_assert(!mta_wkd_request_ok("a.test", H, l));
	test_end();
}

static void
test_advanced_host(void)
{
	char	d[300], h[MTA_HOST_MAX + 1];

	test_begin("openpgpkey.DOMAIN, and a domain too long for it");
	test_assert(mta_wkd_advanced_host("a.test", h, sizeof(h)) == 0);
	test_assert_streq(h, "openpgpkey.a.test");
	/* 242 bytes + 11 = 253: fits; 243 does not */
	memset(d, 'a', 242);
	d[63] = d[127] = d[191] = '.';
	d[242] = '\0';
	test_assert(mta_wkd_advanced_host(d, h, sizeof(h)) == 0);
	test_assert(strlen(h) == 253);
	d[242] = 'a';
	d[243] = '\0';
	test_assert(mta_wkd_advanced_host(d, h, sizeof(h)) == -1);
	test_assert_streq(h, "");
	test_assert(mta_wkd_advanced_host("a.test", h, 10) == -1);
	test_end();
}

static void
test_urls(void)
{
	char	u[WKD_URL_MAX + 8];

	test_begin("URLs: both methods, the port, l= encoded");
	test_assert(mta_wkd_url("a.test", H, "alice", WKD_ADVANCED, 443, u,
	    sizeof(u)) == 0);
	test_assert_streq(u, "https://openpgpkey.a.test/.well-known/"
	    "openpgpkey/a.test/hu/" H "?l=alice");
	test_assert(mta_wkd_url("a.test", H, "alice", WKD_DIRECT, 443, u,
	    sizeof(u)) == 0);
	test_assert_streq(u, "https://a.test/.well-known/openpgpkey/hu/" H
	    "?l=alice");
	test_assert(mta_wkd_url("a.test", H, "Al/ice?&#", WKD_ADVANCED, 4443,
	    u, sizeof(u)) == 0);
	test_assert_streq(u, "https://openpgpkey.a.test:4443/.well-known/"
	    "openpgpkey/a.test/hu/" H "?l=Al%2Fice%3F%26%23");
	test_assert(mta_wkd_url("a.test", H, "J\xc3\xb6rg x", WKD_DIRECT, 1,
	    u, sizeof(u)) == 0);
	test_assert_streq(u, "https://a.test:1/.well-known/openpgpkey/hu/" H
	    "?l=J%C3%B6rg%20x");
	/* bounds: exactly enough, one byte short */
	test_assert(mta_wkd_url("a.test", H, "alice", WKD_DIRECT, 8443, u,
	    strlen("https://a.test:8443/.well-known/openpgpkey/hu/" H
	    "?l=alice") + 1) == 0);
	test_assert(mta_wkd_url("a.test", H, "alice", WKD_DIRECT, 8443, u,
	    strlen("https://a.test:8443/.well-known/openpgpkey/hu/" H
	    "?l=alice")) == -1);
	test_assert_streq(u, "");
	test_assert(mta_wkd_url("a.test", H, "alice", WKD_DIRECT, 443, u,
	    20) == -1);
	test_assert_streq(u, "");
	test_end();
}

static void
test_status(void)
{
	test_begin("what an HTTP status means");
	test_assert(mta_wkd_status(200) == WKD_FOUND);
	test_assert(mta_wkd_status(404) == WKD_NONE);
	test_assert(mta_wkd_status(410) == WKD_NONE);
	test_assert(mta_wkd_status(301) == WKD_NONE);
	test_assert(mta_wkd_status(302) == WKD_NONE);
	test_assert(mta_wkd_status(308) == WKD_NONE);
	test_assert(mta_wkd_status(0) == WKD_TEMP);
	test_assert(mta_wkd_status(204) == WKD_TEMP);
	test_assert(mta_wkd_status(403) == WKD_TEMP);
	test_assert(mta_wkd_status(429) == WKD_TEMP);
	test_assert(mta_wkd_status(500) == WKD_TEMP);
	test_assert(mta_wkd_status(503) == WKD_TEMP);
	test_end();
}

int
main(void)
{
	static void (*tests[])(void) = {
		test_request_ok,
		test_advanced_host,
		test_urls,
		test_status,
		NULL
	};

	return test_run(tests);
}
