/* SPDX-License-Identifier: ISC */
/*
 * test_mutf7.c - modified UTF-7 mailbox names to and from UTF-8:
 * RFC 3501's example, "&-", accents, surrogate pairs, every
 * non-canonical or malformed form refused either way, output buffers at
 * their exact size, and round trips.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "mutf7.h"
#include "test.h"
#include "banned.h"

#define OUT_MAX		512

/* Pairs in both spellings; each is the other's canonical form. */
static const struct {
	const char	*mutf7, *utf8;
} pairs[] = {
	/* RFC 3501 5.1.3's example */
	{ "~peter/mail/&U,BTFw-/&ZeVnLIqe-",
	    "~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/"
	    "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e" },
	{ "", "" },
	{ "INBOX", "INBOX" },
	{ "&-", "&" },
	{ "a&-b&-&-", "a&b&&" },
	{ " ~!", " ~!" },
	{ "Gr&APwA3w-e", "Gr\xc3\xbc\xc3\x9f" "e" },
	{ "Entw&APw-rfe", "Entw\xc3\xbcrfe" },
	{ "Stra&AN8-e/&ANw-bersicht",
	    "Stra\xc3\x9f" "e/\xc3\x9c" "bersicht" },
	{ "&AMk-l&AOk-ments envoy&AOk-s",
	    "\xc3\x89l\xc3\xa9ments envoy\xc3\xa9s" },
	{ "Caf&AOk-", "Caf\xc3\xa9" },
	{ "&AOk-&-&AOk-", "\xc3\xa9&\xc3\xa9" },
	{ "&AOk--", "\xc3\xa9-" },
	/* longer in UTF-8: 3 bytes for 16 bits of BASE64 */
	{ "&ZeVnLIqeZeVnLIqeZeVnLIqeZeVnLIqe-",
	    "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe6\x97\xa5\xe6\x9c\xac"
	    "\xe8\xaa\x9e\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe6\x97\xa5"
	    "\xe6\x9c\xac\xe8\xaa\x9e" },
	{ "&BBoEPgRABDcEOAQ9BDA-",
	    "\xd0\x9a\xd0\xbe\xd1\x80\xd0\xb7\xd0\xb8\xd0\xbd\xd0\xb0" },
	/* U+1F600, a surrogate pair; then three in two runs */
	{ "&2D3eAA-", "\xf0\x9f\x98\x80" },
	{ "a&2D3eAA-b&2D3eANg93gA-",
	    "a\xf0\x9f\x98\x80" "b\xf0\x9f\x98\x80\xf0\x9f\x98\x80" },
	/* the edges of what is allowed */
	{ "&AKA-", "\xc2\xa0" },
	{ "&1,8-", "\xed\x9f\xbf" },
	{ "&4AA-", "\xee\x80\x80" },
	{ "&,,4-", "\xef\xbf\xbe" },
	{ "&+wE-", "\xef\xac\x81" },
	{ "&2,,f,w-", "\xf4\x8f\xbf\xbf" },
};

/* Not canonical modified UTF-7, each for one reason. */
static const struct {
	const char	*in, *why;
} bad_mutf7[] = {
	{ "a\tb", "a C0 control" },
	{ "a\x7f", "DEL" },
	{ "Caf\xc3\xa9", "8-bit" },
	{ "&", "an empty run at the end" },
	{ "a&", "an empty run at the end, after text" },
	{ "&.-", "an empty run before another character" },
	{ "&AOk", "a run not closed" },
	{ "&AOk a", "a run closed by a space" },
	{ "&AOk/-", "RFC 2152's \"/\" instead of \",\"" },
	{ "&AOk=-", "base64 padding" },
	{ "&AOk_-", "a run closed by \"_\", between \"Z\" and \"a\"" },
	{ "&AGE-", "printable US-ASCII in a run (a)" },
	{ "&ACA-", "printable US-ASCII in a run (space)" },
	{ "&AH4-", "printable US-ASCII in a run (~)" },
	{ "&ACY-", "\"&\" in a run" },
	{ "&AOkAYQ-", "printable US-ASCII after a character in a run" },
	{ "&AOl-", "leftover bits not zero" },
	{ "&A-", "one character: 6 bits" },
	{ "&AO-", "two characters: 12 bits" },
	{ "&AOkA-", "8 bits left over" },
	{ "&AOkA6-", "14 bits left over" },
	{ "&AOkA6QA-", "10 bits left over" },
	{ "&2D0-", "a lone high surrogate" },
	{ "&2D0-a", "a high surrogate at the end of a run" },
	{ "&3gA-", "a lone low surrogate" },
	{ "&3gDYPQ-", "low then high" },
	{ "&2D0A6Q-", "high, then no low" },
	{ "&2D3YPd4A-", "high, high, low" },
	{ "&2D3gAA-", "high, then U+E000" },
	{ "&AOnYPQ-", "a high surrogate last" },
	{ "&AOk-&AOk-", "two adjacent runs" },
	{ "a&AOk-&2D3eAA-b", "two adjacent runs, different" },
	{ "&AAA-", "U+0000" },
	{ "&AB8-", "U+001F" },
	{ "&AH8-", "U+007F" },
	{ "&AIU-", "U+0085" },
	{ "&AJ8-", "U+009F" },
};

/* Not what utf8_valid_text() takes, each for one reason. */
static const struct {
	const char	*in, *why;
} bad_utf8[] = {
	{ "\xc0\xaf", "overlong 2 bytes (C0)" },
	{ "\xc1\xbf", "overlong 2 bytes (C1)" },
	{ "\xe0\x80\xaf", "overlong 3 bytes" },
	{ "\xe0\x9f\xbf", "overlong 3 bytes, the highest" },
	{ "\xf0\x80\x80\xaf", "overlong 4 bytes" },
	{ "\xf0\x8f\xbf\xbf", "overlong 4 bytes, the highest" },
	{ "\xed\xa0\x80", "U+D800" },
	{ "\xed\xbf\xbf", "U+DFFF" },
	{ "\xed\xa0\xbd\xed\xb8\x80", "a surrogate pair in CESU-8" },
	{ "\xf4\x90\x80\x80", "U+110000" },
	{ "\xf5\x80\x80\x80", "lead F5" },
	{ "\xf8\x88\x80\x80\x80", "5 bytes" },
	{ "\xfe", "FE" },
	{ "\xff", "FF" },
	{ "\x80", "a lone continuation" },
	{ "a\xbf", "a continuation after ASCII" },
	{ "\xc3", "cut after 1 of 2" },
	{ "\xe6\x97", "cut after 2 of 3" },
	{ "\xf0\x9f\x98", "cut after 3 of 4" },
	{ "\xc3" "a", "cut by ASCII" },
	{ "\xf0\x9f\x98" "\xc3\xa9", "cut by another sequence" },
	{ "\t", "TAB" },
	{ "a\x01", "U+0001" },
	{ "\x1f", "U+001F" },
	{ "\x7f", "DEL" },
	{ "\xc2\x80", "U+0080" },
	{ "\xc2\x85", "U+0085 (NEL)" },
	{ "\xc2\x9f", "U+009F" },
};

static void
test_pairs(void)
{
	char	out[OUT_MAX];
	size_t	i;

	test_begin("mutf7: decode and encode, RFC 3501 example, accents, "
	    "emoji");
	for (i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		test_assert(mutf7_to_utf8(pairs[i].mutf7, out,
		    sizeof(out)) == (int)strlen(pairs[i].utf8));
		test_assert_streq(out, pairs[i].utf8);
		test_assert(utf8_valid_text(pairs[i].utf8,
		    strlen(pairs[i].utf8)) == 1);
		test_assert(utf8_to_mutf7(pairs[i].utf8, out,
		    sizeof(out)) == (int)strlen(pairs[i].mutf7));
		test_assert_streq(out, pairs[i].mutf7);
	}
	test_end();
}

static void
test_bad_mutf7(void)
{
	char	out[OUT_MAX];
	size_t	i;
	int	rv;

	test_begin("mutf7: every non-canonical form refused, output empty");
	for (i = 0; i < sizeof(bad_mutf7) / sizeof(bad_mutf7[0]); i++) {
		memset(out, 'x', sizeof(out));
		rv = mutf7_to_utf8(bad_mutf7[i].in, out, sizeof(out));
		test_assert(rv == -1);
		test_assert(out[0] == '\0');
		if (rv != -1)
			test_assert_streq(bad_mutf7[i].why, "");
	}
	test_end();
}

static void
test_bad_utf8(void)
{
	char	out[OUT_MAX];
	size_t	i;
	int	rv;

	test_begin("mutf7: malformed UTF-8 and controls refused, output "
	    "empty");
	for (i = 0; i < sizeof(bad_utf8) / sizeof(bad_utf8[0]); i++) {
		memset(out, 'x', sizeof(out));
		rv = utf8_to_mutf7(bad_utf8[i].in, out, sizeof(out));
		test_assert(rv == -1);
		test_assert(out[0] == '\0');
		test_assert(utf8_valid_text(bad_utf8[i].in,
		    strlen(bad_utf8[i].in)) == 0);
		if (rv != -1)
			test_assert_streq(bad_utf8[i].why, "");
	}
	test_end();
}

static void
test_valid(void)
{
	test_begin("mutf7: utf8_valid_text takes a length");
	test_assert(utf8_valid_text("", 0) == 1);
	test_assert(utf8_valid_text(NULL, 0) == 1);
	test_assert(utf8_valid_text("Caf\xc3\xa9", 5) == 1);
	/* a NUL inside the length is a control */
	test_assert(utf8_valid_text("a\0b", 3) == 0);
	test_assert(utf8_valid_text("a\0b", 1) == 1);
	/* a sequence cut by the length, though the bytes go on */
	test_assert(utf8_valid_text("Caf\xc3\xa9", 4) == 0);
	test_assert(utf8_valid_text("\xf0\x9f\x98\x80", 3) == 0);
	test_assert(utf8_valid_text("\xf0\x9f\x98\x80", 4) == 1);
	test_assert(utf8_valid_text("\xf4\x8f\xbf\xbf", 4) == 1);
	test_end();
}

/*
 * fn(in) into every outlen from 0 to the exact size: each refused with
 * "" (0: out untouched), the exact size taken, nothing written past
 * outlen.
 */
static void
check_sizes(int (*fn)(const char *, char *, size_t), const char *in,
    const char *want)
{
	char	out[OUT_MAX];
	size_t	n = strlen(want), len;

	for (len = 0; len <= n + 1; len++) {
		memset(out, 'x', sizeof(out));
		if (len <= n) {
			test_assert(fn(in, out, len) == -1);
			test_assert(out[0] == (len == 0 ? 'x' : '\0'));
		} else {
			test_assert(fn(in, out, len) == (int)n);
			test_assert_streq(out, want);
		}
		test_assert(out[len] == 'x');
	}
}

static void
test_sizes(void)
{
	size_t	i;

	test_begin("mutf7: output buffers at the exact size and one short");
	for (i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		check_sizes(mutf7_to_utf8, pairs[i].mutf7, pairs[i].utf8);
		check_sizes(utf8_to_mutf7, pairs[i].utf8, pairs[i].mutf7);
	}
	/* the worst growth: a lone U+0080..U+07FF, 2 bytes to 5 */
	check_sizes(utf8_to_mutf7, "\xc3\xa9", "&AOk-");
	test_end();
}

static void
test_huge_outlen(void)
{
	char	out[16];

	/* only what the output needs is written, whatever outlen says */
	test_begin("mutf7: an outlen past INT_MAX");
	test_assert(mutf7_to_utf8("Caf&AOk-", out, SIZE_MAX) == 5);
	test_assert_streq(out, "Caf\xc3\xa9");
	test_assert(utf8_to_mutf7("Caf\xc3\xa9", out, SIZE_MAX) == 8);
	test_assert_streq(out, "Caf&AOk-");
	test_end();
}

static void
test_round_trip(void)
{
	static const char *names[] = {
		"INBOX", "Sent", "Archive/2026", "&", "a & b", "-&-",
		"\xc3\xa9", "\xc3\xa9\xc3\xa9\xc3\xa9", "a\xc3\xa9" "b",
		"\xe5\x8f\xb0\xe5\x8c\x97", "\xf0\x9f\x98\x80",
		"\xf0\x9f\x98\x80-\xf0\x9f\x98\x80",
		"\xf0\x9f\x98\x80&\xc3\xa9",
		"Ko\xc5\xa1/\xc4\x8c" "e\xc5\xa1tina",
		"\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d",
		"\xe0\xa4\xa8\xe0\xa4\xae\xe0\xa4\xb8\xe0\xa5\x8d\xe0\xa4\xa4"
		"\xe0\xa5\x87",
		"\xef\xbb\xbf" "BOM", "x\xf4\x8f\xbf\xbfy",
		"\xc2\xa0\xc2\xa0 \xc2\xa0",
	};
	char	enc[OUT_MAX], dec[OUT_MAX];
	size_t	i;
	int	n;

	test_begin("mutf7: round trips, and the encoding decodes back");
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		n = utf8_to_mutf7(names[i], enc, sizeof(enc));
		test_assert(n >= 0 && (size_t)n == strlen(enc));
		test_assert(mutf7_to_utf8(enc, dec, sizeof(dec)) ==
		    (int)strlen(names[i]));
		test_assert_streq(dec, names[i]);
	}
	test_end();
}

int
main(void)
{
	static void (*tests[])(void) = { test_pairs, test_bad_mutf7,
	    test_bad_utf8, test_valid, test_sizes, test_huge_outlen,
	    test_round_trip, NULL };

	return test_run(tests);
}
