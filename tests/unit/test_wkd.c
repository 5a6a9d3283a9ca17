/* SPDX-License-Identifier: ISC */
/*
 * test_wkd.c - the Web Key Directory's names (pgp/wkd.c): the draft's
 * test vector (Joe.Doe@Example.ORG), hashes checked against
 * gpg-wks-client --print-wkd-hash (GnuPG 2.2.40): letter case of the
 * local part (ASCII A-Z only lowered; UTF-8 kept as is, so "J\xc3\x96RG"
 * and "j\xc3\xb6rg" differ), z-base-32 of known bytes and its buffer
 * bounds; the advanced and direct URLs exact, with l= the local part as
 * given and percent-encoded; the key file's path; addresses refused
 * (quoted, controls, spaces, dots, bad UTF-8, Unicode spaces and bidi
 * controls, two @, bad domains, the length bounds at and past their
 * limits) and the buffers' bounds.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "wkd.h"
#include "test.h"
#include "banned.h"

static const struct {
	const char	*address, *hash;
} vectors[] = {
	/* draft-koch-openpgp-webkey-service 3.1's example */
	{ "Joe.Doe@Example.ORG", "iy9q119eutrkn8s1mk4r39qejnbu3n5q" },
	{ "joe.doe@example.org", "iy9q119eutrkn8s1mk4r39qejnbu3n5q" },
	{ "JOE.DOE@EXAMPLE.ORG", "iy9q119eutrkn8s1mk4r39qejnbu3n5q" },
	{ "alice@example.test", "kei1q4tipxxu1yj79k9kfukdhfy631xe" },
	{ "ALICE@example.test", "kei1q4tipxxu1yj79k9kfukdhfy631xe" },
	{ "x@a.b", "n85k5dsffewajk7k9i6dswmfyphfaed1" },
	/* UTF-8 is hashed as it is: only A-Z are lowered */
	{ "j\xc3\xb6rg@example.org", "h8ghzysw1a49fnopr45hii67zzgshjt8" },
	{ "J\xc3\x96RG@example.org", "w77p6y3jz34qfi4fgwkgaw3oeumka146" },
	{ "\xc3\x84@example.org", "s9fme9jo7eezrmouord47paj9xhd37rm" },
	{ "\xc3\xa4@example.org", "1ax4rm5bwizbuh9i9nd81ypctu46pwe9" },
	/* every atext special */
	{ "a+b%c&d=e?f#g/h~i_j-k@example.org",
	    "8yyaf8guw5wweifrkwfq6iqj5s9brb95" },
};

static void
test_vectors(void)
{
	struct wkd_addr	 a;
	const char	*e;
	size_t		 i;

	test_begin("hashes: the draft's vector and gpg-wks-client's");
	for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		e = NULL;
		test_assert(wkd_addr_parse(vectors[i].address, &a, &e) == 0);
		test_assert(e == NULL);
		test_assert_streq(a.hash, vectors[i].hash);
		test_assert(strlen(a.hash) == WKD_HASH_LEN);
	}
	test_end();
}

static void
test_split(void)
{
	struct wkd_addr	 a;
	const char	*e;

	test_begin("split: the local part as given, the domain lowered");
	test_assert(wkd_addr_parse("Joe.Doe@Example.ORG", &a, &e) == 0);
	test_assert_streq(a.local, "Joe.Doe");
	test_assert_streq(a.domain, "example.org");
	test_assert(wkd_addr_parse("J\xc3\x96RG@Mail-1.Example.Org", &a,
	    &e) == 0);
	test_assert_streq(a.local, "J\xc3\x96RG");
	test_assert_streq(a.domain, "mail-1.example.org");
	/* an international domain in its A-label form */
	test_assert(wkd_addr_parse("x@xn--mnchen-3ya.de", &a, &e) == 0);
	test_assert_streq(a.domain, "xn--mnchen-3ya.de");
	/* one label, digits */
	test_assert(wkd_addr_parse("x@localhost", &a, &e) == 0);
	test_assert(wkd_addr_parse("x@123.example", &a, &e) == 0);
	test_end();
}

static void
test_hash(void)
{
	char	out[WKD_HASH_LEN + 1], buf[65];

	test_begin("wkd_hash: of bytes, A-Z only lowered");
	test_assert(wkd_hash("Joe.Doe", 7, out) == 0);
	test_assert_streq(out, "iy9q119eutrkn8s1mk4r39qejnbu3n5q");
	/* SHA-1 of nothing, z-base-32 */
	test_assert(wkd_hash("", 0, out) == 0);
	test_assert_streq(out, "5eh48516ppfo4c1iz9z3kaya1nz7obaj");
	memset(buf, 'a', 64);
	test_assert(wkd_hash(buf, 64, out) == 0);
	test_assert_streq(out, "yncmiy1mmomrr66zwrjnws1rfe16a3np");
	memset(buf, 'A', 64);
	test_assert(wkd_hash(buf, 64, out) == 0);
	test_assert_streq(out, "yncmiy1mmomrr66zwrjnws1rfe16a3np");
	/* past the local part's bound: refused, not cut */
	memset(buf, 'a', 65);
	test_assert(wkd_hash(buf, 65, out) == -1);
	test_assert_streq(out, "");
	test_end();
}

static void
test_zbase32(void)
{
	static const unsigned char	ff[] = { 0xff, 0xff, 0xff, 0xff,
					    0xff };
	static const unsigned char	zero[] = { 0, 0, 0, 0, 0 };
	static const unsigned char	one[] = { 0x80 };
	static const unsigned char	two[] = { 0xf0, 0x0f };
	char				out[16];

	test_begin("z-base-32: groups, padding, bounds");
	test_assert(wkd_zbase32(zero, 5, out, sizeof(out)) == 0);
	test_assert_streq(out, "yyyyyyyy");
	test_assert(wkd_zbase32(ff, 5, out, sizeof(out)) == 0);
	test_assert_streq(out, "99999999");
	/* 1 bit set of 8: "o" (10000), then 000 padded: "y" */
	test_assert(wkd_zbase32(one, 1, out, sizeof(out)) == 0);
	test_assert_streq(out, "oy");
	/* 11110 00000 00111 1(0000): 30 0 7 16 */
	test_assert(wkd_zbase32(two, 2, out, sizeof(out)) == 0);
	test_assert_streq(out, "6y8o");
	test_assert(wkd_zbase32(zero, 0, out, sizeof(out)) == 0);
	test_assert_streq(out, "");
	/* exactly 8 characters and the NUL fit in 9; 8 do not */
	test_assert(wkd_zbase32(ff, 5, out, 9) == 0);
	test_assert_streq(out, "99999999");
	test_assert(wkd_zbase32(ff, 5, out, 8) == -1);
	test_assert_streq(out, "");
	test_assert(wkd_zbase32(ff, 5, out, 0) == -1);
	test_end();
}

static void
test_urls(void)
{
	struct wkd_addr	 a;
	const char	*e;
	char		 url[WKD_URL_MAX], path[WKD_PATH_MAX];

	test_begin("URLs and the path: exact, l= as given");
	test_assert(wkd_addr_parse("Joe.Doe@Example.ORG", &a, &e) == 0);
	test_assert(wkd_url(&a, WKD_ADVANCED, url, sizeof(url)) == 0);
	test_assert_streq(url, "https://openpgpkey.example.org/.well-known/"
	    "openpgpkey/example.org/hu/iy9q119eutrkn8s1mk4r39qejnbu3n5q"
	    "?l=Joe.Doe");
	test_assert(wkd_url(&a, WKD_DIRECT, url, sizeof(url)) == 0);
	test_assert_streq(url, "https://example.org/.well-known/openpgpkey/"
	    "hu/iy9q119eutrkn8s1mk4r39qejnbu3n5q?l=Joe.Doe");
	test_assert(wkd_path(&a, path, sizeof(path)) == 0);
	test_assert_streq(path, ".well-known/openpgpkey/example.org/hu/"
	    "iy9q119eutrkn8s1mk4r39qejnbu3n5q");
	test_end();

	test_begin("URLs: l= percent-encoded");
	test_assert(wkd_addr_parse("a+b%c&d=e?f#g/h~i_j-k@example.org", &a,
	    &e) == 0);
	test_assert(wkd_url(&a, WKD_DIRECT, url, sizeof(url)) == 0);
	test_assert_streq(url, "https://example.org/.well-known/openpgpkey/"
	    "hu/8yyaf8guw5wweifrkwfq6iqj5s9brb95"
	    "?l=a%2Bb%25c%26d%3De%3Ff%23g%2Fh~i_j-k");
	test_assert(wkd_addr_parse("!$'*^`{|}@example.org", &a, &e) == 0);
	test_assert(wkd_url(&a, WKD_DIRECT, url, sizeof(url)) == 0);
	test_assert(strstr(url, "?l=%21%24%27%2A%5E%60%7B%7C%7D") != NULL);
	test_assert(strlen(strstr(url, "?l=")) == 3 + 9 * 3);
	test_assert(wkd_addr_parse("J\xc3\x96RG@example.org", &a, &e) == 0);
	test_assert(wkd_url(&a, WKD_ADVANCED, url, sizeof(url)) == 0);
	test_assert_streq(url, "https://openpgpkey.example.org/.well-known/"
	    "openpgpkey/example.org/hu/w77p6y3jz34qfi4fgwkgaw3oeumka146"
	    "?l=J%C3%96RG");
	test_end();
}

static void
test_url_bounds(void)
{
	struct wkd_addr	 a;
	const char	*e;
	char		 addr[WKD_ADDRESS_MAX + 2], url[WKD_URL_MAX], want[80];
	size_t		 n;

	test_begin("URLs: buffers at and below their size");
	test_assert(wkd_addr_parse("ab@x.org", &a, &e) == 0);
	n = strlen("https://x.org/.well-known/openpgpkey/hu/") +
	    WKD_HASH_LEN + strlen("?l=ab");
	test_assert(wkd_url(&a, WKD_DIRECT, url, n + 1) == 0);
	test_assert(strlen(url) == n);
	test_assert(wkd_url(&a, WKD_DIRECT, url, n) == -1);
	test_assert_streq(url, "");
	/* cut inside an escape: "%2" never ends a URL */
	test_assert(wkd_addr_parse("a+@x.org", &a, &e) == 0);
	n = strlen("https://x.org/.well-known/openpgpkey/hu/") +
	    WKD_HASH_LEN + strlen("?l=a%2B");
	test_assert(wkd_url(&a, WKD_DIRECT, url, n + 1) == 0);
	test_assert(wkd_url(&a, WKD_DIRECT, url, n) == -1);
	test_assert_streq(url, "");
	test_assert(wkd_url(&a, WKD_DIRECT, url, n - 1) == -1);
	test_assert(wkd_url(&a, WKD_DIRECT, url, 0) == -1);
	test_assert(wkd_path(&a, url, 10) == -1);
	test_assert_streq(url, "");
	snprintf(want, sizeof(want), ".well-known/openpgpkey/x.org/hu/%s",
	    a.hash);
	test_assert(wkd_path(&a, url, strlen(want) + 1) == 0);
	test_assert_streq(url, want);
	test_assert(wkd_path(&a, url, strlen(want)) == -1);
	test_end();

	test_begin("URLs: openpgpkey.DOMAIN too long for a host name");
	/* a 1-byte local part, '@', a 242-byte domain: 244 bytes */
	memset(addr, 0, sizeof(addr));
	addr[0] = 'x';
	addr[1] = '@';
	for (n = 0; n < 242; n++)
		addr[2 + n] = (n % 64 == 63) ? '.' : 'a';
	test_assert(wkd_addr_parse(addr, &a, &e) == 0);
	test_assert(strlen(a.domain) == 242);
	test_assert(wkd_url(&a, WKD_ADVANCED, url, sizeof(url)) == 0);
	addr[2 + 242] = 'a';
	test_assert(wkd_addr_parse(addr, &a, &e) == 0);
	test_assert(wkd_url(&a, WKD_ADVANCED, url, sizeof(url)) == -1);
	test_assert_streq(url, "");
	test_assert(wkd_url(&a, WKD_DIRECT, url, sizeof(url)) == 0);
	test_end();
}

static void
test_refused(void)
{
	static const struct {
		const char	*address, *why;
	} bad[] = {
		{ "", "an empty address" },
		{ "alice", "no @ in the address" },
		{ "@example.org", "an empty local part" },
		{ "alice@", "an empty domain" },
		{ "\"a b\"@example.org",
		    "a quoted local part is not supported" },
		{ "a\"b@example.org",
		    "a character not allowed in a plain local part" },
		{ "<alice@example.org>",
		    "a character not allowed in a plain local part" },
		{ "a(b)@example.org",
		    "a character not allowed in a plain local part" },
		{ "a,b@example.org",
		    "a character not allowed in a plain local part" },
		{ "a\\b@example.org",
		    "a character not allowed in a plain local part" },
		{ "a:b@example.org",
		    "a character not allowed in a plain local part" },
		{ "a b@example.org", "white space in the address" },
		{ "a\tb@example.org", "white space in the address" },
		{ "a\nb@example.org", "a control character in the address" },
		{ "a\rb@example.org", "a control character in the address" },
		{ "a\x1b[31m@example.org",
		    "a control character in the address" },
		{ "a\x7f@example.org", "a control character in the address" },
		{ ".alice@example.org",
		    "a local part may not begin or end with a dot" },
		{ "alice.@example.org",
		    "a local part may not begin or end with a dot" },
		{ "a..b@example.org", "two dots in a row in the local part" },
		/* UTF-8: C1, overlong, surrogate, cut, stray, past U+10FFFF */
		{ "a\xc2\x85@example.org", "invalid UTF-8 in the local part" },
		{ "a\xc0\xae@example.org", "invalid UTF-8 in the local part" },
		{ "a\xe0\x80\xaf@example.org",
		    "invalid UTF-8 in the local part" },
		{ "a\xed\xa0\x80@example.org",
		    "invalid UTF-8 in the local part" },
		{ "a\xc3@example.org", "invalid UTF-8 in the local part" },
		{ "a\x80@example.org", "invalid UTF-8 in the local part" },
		{ "a\xf4\x90\x80\x80@example.org",
		    "invalid UTF-8 in the local part" },
		{ "a\xff@example.org", "invalid UTF-8 in the local part" },
		/* NBSP, soft hyphen, ZWSP, RLO, BOM, U+FFFF */
		{ "a\xc2\xa0@example.org", "a Unicode space, format or bidi "
		    "character in the local part" },
		{ "a\xc2\xad@example.org", "a Unicode space, format or bidi "
		    "character in the local part" },
		{ "a\xe2\x80\x8b@example.org", "a Unicode space, format or "
		    "bidi character in the local part" },
		{ "a\xe2\x80\xae@example.org", "a Unicode space, format or "
		    "bidi character in the local part" },
		{ "a\xef\xbb\xbf@example.org", "a Unicode space, format or "
		    "bidi character in the local part" },
		{ "a\xef\xbf\xbf@example.org", "a Unicode space, format or "
		    "bidi character in the local part" },
		{ "a@b@example.org", "more than one @ in the address" },
		{ "a@example.org.", "the domain is not a host name" },
		{ "a@.example.org", "the domain is not a host name" },
		{ "a@example..org", "the domain is not a host name" },
		{ "a@-example.org", "the domain is not a host name" },
		{ "a@example-.org", "the domain is not a host name" },
		{ "a@exa_mple.org", "the domain is not a host name" },
		{ "a@[192.0.2.1]", "the domain is not a host name" },
		{ "a@m\xc3\xbcnchen.de", "the domain is not a host name" },
		{ "a@example.org/x", "the domain is not a host name" },
		{ "a@example.org ", "the domain is not a host name" },
		{ "a@../../etc", "the domain is not a host name" },
	};
	struct wkd_addr	 a;
	const char	*e;
	size_t		 i;

	test_begin("refused addresses, with their reasons");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		e = NULL;
		memset(&a, 'x', sizeof(a));
		test_assert(wkd_addr_parse(bad[i].address, &a, &e) == -1);
		test_assert(e != NULL);
		if (e != NULL)
			test_assert_streq(e, bad[i].why);
		test_assert(a.local[0] == '\0' && a.domain[0] == '\0' &&
		    a.hash[0] == '\0');
	}
	test_end();
}

static void
test_lengths(void)
{
	struct wkd_addr	 a;
	const char	*e;
	char		 addr[WKD_ADDRESS_MAX + 64];
	size_t		 i;

	test_begin("lengths: local part 64, label 63, address 254");
	/* a 64-byte local part is taken, 65 is not */
	memset(addr, 'a', 64);
	strlcpy(addr + 64, "@example.org", sizeof(addr) - 64);
	test_assert(wkd_addr_parse(addr, &a, &e) == 0);
	test_assert(strlen(a.local) == 64);
	memset(addr, 'a', 65);
	strlcpy(addr + 65, "@example.org", sizeof(addr) - 65);
	test_assert(wkd_addr_parse(addr, &a, &e) == -1);
	test_assert_streq(e, "a local part longer than 64 bytes");
	/* a label of 63 bytes, then 64 */
	addr[0] = 'a';
	addr[1] = '@';
	memset(addr + 2, 'b', 63);
	strlcpy(addr + 65, ".org", sizeof(addr) - 65);
	test_assert(wkd_addr_parse(addr, &a, &e) == 0);
	memset(addr + 2, 'b', 64);
	strlcpy(addr + 66, ".org", sizeof(addr) - 66);
	test_assert(wkd_addr_parse(addr, &a, &e) == -1);
	test_assert_streq(e, "the domain is not a host name");
	/* 254 bytes in all (a 252-byte domain) is taken, 255 is not */
	addr[0] = 'a';
	addr[1] = '@';
	for (i = 0; i < 252; i++)
		addr[2 + i] = (i % 50 == 49) ? '.' : 'c';
	addr[254] = '\0';
	test_assert(wkd_addr_parse(addr, &a, &e) == 0);
	test_assert(strlen(a.domain) == 252);
	addr[254] = 'c';
	addr[255] = '\0';
	test_assert(wkd_addr_parse(addr, &a, &e) == -1);
	test_assert_streq(e, "an address longer than 254 bytes");
	/* a string without NUL past the bound is not read further */
	memset(addr, 'a', sizeof(addr));
	addr[sizeof(addr) - 1] = '\0';
	test_assert(wkd_addr_parse(addr, &a, &e) == -1);
	test_assert_streq(e, "an address longer than 254 bytes");
	test_end();
}

int
main(void)
{
	static void (*tests[])(void) = { test_vectors, test_split, test_hash,
	    test_zbase32, test_urls, test_url_bounds, test_refused,
	    test_lengths, NULL };

	return test_run(tests);
}
