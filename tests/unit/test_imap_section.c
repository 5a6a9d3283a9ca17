/* SPDX-License-Identifier: ISC */
/*
 * test_imap_section.c - the FETCH section items (imap_section.c): every
 * form RFC 3501 and RFC 3516 allow, the names written back, partials at
 * their limits, and the malformed forms refused; the HEADER.FIELDS
 * filter with continuation lines, case and .NOT.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "imap_section.h"
#include "test.h"
#include "banned.h"

static struct imap_section	sec;
static const char		*err;

static int
parse(const char *s)
{
	return imap_section_parse(s, strlen(s), &sec, &err);
}

static void
test_forms(void)
{
	test_begin("section: BODY forms and their names");
	test_assert(parse("BODY[]") == 1 && !sec.peek && sec.part[0] == '\0' &&
	    sec.text == IMAP_SEC_ALL && !sec.partial);
	test_assert_streq(sec.echo, "BODY[]");
	test_assert(parse("body.peek[header]") == 1 && sec.peek &&
	    sec.text == IMAP_SEC_HEADER);
	test_assert_streq(sec.echo, "BODY[HEADER]");
	test_assert(parse("BODY[TEXT]") == 1 && sec.text == IMAP_SEC_TEXT);
	test_assert(parse("BODY[1]") == 1 && strcmp(sec.part, "1") == 0 &&
	    sec.text == IMAP_SEC_ALL);
	test_assert(parse("BODY[1.2.3.MIME]") == 1 &&
	    strcmp(sec.part, "1.2.3") == 0 && sec.text == IMAP_SEC_MIME);
	test_assert_streq(sec.echo, "BODY[1.2.3.MIME]");
	test_assert(parse("BODY[2.HEADER]") == 1 &&
	    strcmp(sec.part, "2") == 0 && sec.text == IMAP_SEC_HEADER);
	test_assert(parse("BODY[4.2.TEXT]") == 1 &&
	    strcmp(sec.part, "4.2") == 0 && sec.text == IMAP_SEC_TEXT);
	test_assert(parse("BODY.PEEK[HEADER.FIELDS (From to \"Subject\")]")
	    == 1 && sec.text == IMAP_SEC_FIELDS && sec.nnames == 3);
	test_assert_streq(sec.names[1], "TO");
	test_assert_streq(sec.echo, "BODY[HEADER.FIELDS (FROM TO SUBJECT)]");
	test_assert(parse("BODY[1.HEADER.FIELDS.NOT (X-A)]") == 1 &&
	    sec.text == IMAP_SEC_FIELDS_NOT && strcmp(sec.part, "1") == 0);
	test_assert_streq(sec.echo, "BODY[1.HEADER.FIELDS.NOT (X-A)]");
	test_end();

	test_begin("section: RFC822 forms, BINARY, partials");
	test_assert(parse("RFC822") == 1 && !sec.peek &&
	    sec.text == IMAP_SEC_ALL);
	test_assert_streq(sec.echo, "RFC822");
	test_assert(parse("rfc822.header") == 1 && sec.peek &&
	    sec.text == IMAP_SEC_HEADER);
	test_assert(parse("RFC822.TEXT") == 1 && !sec.peek &&
	    sec.text == IMAP_SEC_TEXT);
	test_assert(parse("BINARY[]") == 1 && sec.att == IMAP_ATT_BINARY &&
	    !sec.peek);
	test_assert(parse("BINARY.PEEK[1.2]<0.10>") == 1 && sec.peek &&
	    sec.partial && sec.origin == 0 && sec.count == 10);
	test_assert_streq(sec.echo, "BINARY[1.2]");
	test_assert(parse("BINARY.SIZE[3]") == 1 &&
	    sec.att == IMAP_ATT_BINARY_SIZE);
	test_assert_streq(sec.echo, "BINARY.SIZE[3]");
	test_assert(parse("BODY[]<4294967295.4294967295>") == 1 &&
	    sec.origin == 4294967295U && sec.count == 4294967295U);
	test_assert(parse("BODY[]<0.1>") == 1 && sec.partial);
	test_end();

	test_begin("section: not a section item");
	test_assert(parse("FLAGS") == 0);
	test_assert(parse("BODY") == 0);
	test_assert(parse("BODYSTRUCTURE") == 0);
	test_assert(parse("RFC822.SIZE") == 0);
	test_end();
}

static void
test_bad(void)
{
	static const char *const bad[] = {
		"BODY[", "BODY[]]", "BODY[0]", "BODY[1.0]", "BODY[01x]",
		"BODY[1.]", "BODY[.1]", "BODY[MIME]", "BODY[HEADER.FIELDS]",
		"BODY[HEADER.FIELDS ()]", "BODY[HEADER.FIELDS (A B]",
		"BODY[HEADER.FIELDS (A:B)]", "BODY[HEADER.FIELDS  (A)]",
		"BODY[HEADER.FIELDS (A  B)]", "BODY[TEXTX]", "BODY[1.TEXT.MIME]",
		"BODY[]<0.0>", "BODY[]<1>", "BODY[]<4294967296.1>",
		"BODY[]<0.4294967296>", "BODY[]<-1.2>", "BODY[]<0.1>x",
		"BODY[4294967296]", "BINARY[HEADER]", "BINARY[1.MIME]",
		"BINARY.SIZE[1]<0.1>", "BODY[]x", "BODY[1.2.3.4.5.6.7.8.9.10.11.12."
		"13.14.15.16.17.18.19.20.21.22.23.24.25.26.27.28.29.30.31.32]",
		"BODY[HEADER.FIELDS (\"A)]", "BODY[HEADER.FIELDS (\"\")]",
	};
	size_t	i;

	test_begin("section: malformed items refused with a reason");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int	r = parse(bad[i]);

		if (r != -1 || err == NULL)
			fprintf(stderr, "  %s: %d\n", bad[i], r);
		test_assert(r == -1 && err != NULL);
	}
	{
		char	big[IMAP_SEC_NAMES_MAX * 3 + 64];
		size_t	n = (size_t)snprintf(big, sizeof(big),
		    "BODY[HEADER.FIELDS (");

		for (i = 0; i <= IMAP_SEC_NAMES_MAX; i++)
			n += (size_t)snprintf(big + n, sizeof(big) - n, "%sA",
			    i > 0 ? " " : "");
		snprintf(big + n, sizeof(big) - n, ")]");
		test_assert(parse(big) == -1);
	}
	test_end();
}

static void
test_fields(void)
{
	static const char	hdr[] =
	    "From: a@b\r\nTo: c@d,\r\n e@f\r\nsubject : hi\r\n"
	    "X-From: no\r\nReceived: x\r\n\tmore\r\n\r\n";
	char			out[sizeof(hdr) + 2];
	size_t			n;

	test_begin("section: HEADER.FIELDS and .NOT");
	test_assert(parse("BODY[HEADER.FIELDS (to SUBJECT)]") == 1);
	n = imap_section_fields(&sec, hdr, sizeof(hdr) - 1, out, sizeof(out));
	test_assert(n == strlen("To: c@d,\r\n e@f\r\nsubject : hi\r\n\r\n") &&
	    memcmp(out, "To: c@d,\r\n e@f\r\nsubject : hi\r\n\r\n", n) == 0);
	test_assert(parse("BODY[HEADER.FIELDS.NOT (TO SUBJECT RECEIVED)]") ==
	    1);
	n = imap_section_fields(&sec, hdr, sizeof(hdr) - 1, out, sizeof(out));
	test_assert(n == strlen("From: a@b\r\nX-From: no\r\n\r\n") &&
	    memcmp(out, "From: a@b\r\nX-From: no\r\n\r\n", n) == 0);
	/* nothing matches: the blank line alone */
	test_assert(parse("BODY[HEADER.FIELDS (NONE)]") == 1);
	n = imap_section_fields(&sec, hdr, sizeof(hdr) - 1, out, sizeof(out));
	test_assert(n == 2 && memcmp(out, "\r\n", 2) == 0);
	/* a header without its blank line, a bare LF, a short buffer */
	test_assert(parse("BODY[HEADER.FIELDS (FROM)]") == 1);
	n = imap_section_fields(&sec, "From: x\n", 8, out, sizeof(out));
	test_assert(n == 10 && memcmp(out, "From: x\n\r\n", 10) == 0);
	n = imap_section_fields(&sec, hdr, sizeof(hdr) - 1, out, 4);
	test_assert(n == strlen("From: a@b\r\n\r\n"));
	test_end();
}

int
main(void)
{
	static void (*tests[])(void) = { test_forms, test_bad, test_fields,
	    NULL };

	return test_run(tests);
}
