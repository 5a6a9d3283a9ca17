/* SPDX-License-Identifier: ISC */
/*
 * test_imap_render.c - ENVELOPE, BODY and BODYSTRUCTURE (imap_render.c)
 * of records built by meta_build from hand-written messages, compared
 * with responses written by hand from RFC 3501 7.4.2 and 9: a plain text
 * message (8-bit subject, RFC 2047 From name), multipart/alternative,
 * multipart/mixed with an attachment (disposition, filename, language,
 * location, id, description), an attached message/rfc822, groups, an
 * address without a domain, absent Date and Subject, quotes and
 * backslashes, raw 8-bit header bytes, an unparsable message; nstring
 * quoting, hand-made records (unnamed groups, no envelope), a record that
 * went through meta_encode/meta_decode, deep nesting, and the buffer
 * maximum.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "meta.h"
#include "imap_render.h"
#include "test.h"
#include "banned.h"

#define OUT_MAX		(1024 * 1024)

static char		 err[256];
static struct buf	*out;

static struct meta *
build(const char *msg)
{
	return meta_build((const unsigned char *)msg, strlen(msg), err,
	    sizeof(err));
}

static const char *
envelope(const struct meta_envelope *e)
{
	buf_reset(out);
	if (imap_render_envelope(out, e) == -1)
		return "(render failed)";
	return buf_cstr(out);
}

static const char *
body(const struct meta *m, uint32_t part, bool extended)
{
	buf_reset(out);
	if (imap_render_body(out, m, part, extended) == -1)
		return "(render failed)";
	return buf_cstr(out);
}

static const char *
nstring(const char *s)
{
	buf_reset(out);
	if (imap_render_nstring(out, s) == -1)
		return "(render failed)";
	return buf_cstr(out);
}

static void
test_render_nstring(void)
{
	test_begin("nstring: NIL, quoted with escapes, literals");
	test_assert_streq(nstring(NULL), "NIL");
	test_assert_streq(nstring(""), "\"\"");
	test_assert_streq(nstring("NIL"), "\"NIL\"");
	test_assert_streq(nstring("a \"b\" \\c"), "\"a \\\"b\\\" \\\\c\"");
	/* TEXT-CHAR is any 7-bit CHAR but CR and LF: tab and ^A quoted */
	test_assert_streq(nstring("\x01\tx\x7f"), "\"\x01\tx\x7f\"");
	test_assert_streq(nstring("a\rb"), "{3}\r\na\rb");
	test_assert_streq(nstring("a\nb"), "{3}\r\na\nb");
	/* 8-bit: a literal, bytes as they are, never escaped */
	test_assert_streq(nstring("\xff"), "{1}\r\n\xff");
	test_assert_streq(nstring("\"caf\xc3\xa9\" \\"),
	    "{9}\r\n\"caf\xc3\xa9\" \\");
	test_end();
}

/* A plain text message: 8-bit Subject, an RFC 2047 display name. */
static void
test_render_plain(void)
{
	const char	*msg =
	    "Date: Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\r\n"
	    "From: =?UTF-8?Q?J=C3=B6rg?= <joerg@example.de>\r\n"
	    "Subject: Gr\xc3\xbc\xc3\x9f Gott\r\n"
	    "To: Bob <bob@example.net>, carol@example.net\r\n"
	    "Message-ID: <B27397-0100000@example.de>\r\n"
	    "\r\n"
	    "Hello\r\n"
	    "world\r\n";
	struct meta	*m = build(msg);
	const char	*from;
	char		 want[1024];
	int		 n;

	test_begin("text/plain: 8-bit subject, encoded-word From name");
	test_assert(m->flags == 0 && m->nparts == 1);
	/*
	 * The name is decoded in the record and given again as 7-bit text
	 * by GMime (name_enc), which ENVELOPE sends: UTF-8 and base64,
	 * "SsO2cmc=" being 4A C3 B6 72 67.
	 */
	from = "((\"=?UTF-8?b?SsO2cmc=?=\" NIL \"joerg\" \"example.de\"))";
	n = snprintf(want, sizeof(want),
	    "(\"Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\" "
	    "{11}\r\nGr\xc3\xbc\xc3\x9f Gott "
	    "%s %s %s "
	    "((\"Bob\" NIL \"bob\" \"example.net\")"
	    "(NIL NIL \"carol\" \"example.net\")) "
	    "NIL NIL NIL \"<B27397-0100000@example.de>\")",
	    from, from, from);
	test_assert(n > 0 && (size_t)n < sizeof(want));
	test_assert_streq(envelope(m->parts[0].env), want);
	test_assert_streq(body(m, 0, true),
	    "(\"TEXT\" \"PLAIN\" (\"charset\" \"us-ascii\") NIL NIL \"7BIT\" "
	    "14 2 NIL NIL NIL NIL)");
	test_assert_streq(body(m, 0, false),
	    "(\"TEXT\" \"PLAIN\" (\"charset\" \"us-ascii\") NIL NIL \"7BIT\" "
	    "14 2)");
	meta_free(m);
	test_end();
}

static void
test_render_alternative(void)
{
	const char	*msg =
	    "From: Alice <alice@example.org>\r\n"
	    "To: bob@example.net\r\n"
	    "Subject: alt\r\n"
	    "Date: Tue, 1 Jul 2003 10:52:37 +0200\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: multipart/alternative; boundary=\"b1\"\r\n"
	    "\r\n"
	    "--b1\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n"
	    "\r\n"
	    "caf=C3=A9\r\n"
	    "--b1\r\n"
	    "Content-Type: text/html; charset=utf-8\r\n"
	    "\r\n"
	    "<p>caf&eacute;</p>\r\n"
	    "<p>bye</p>\r\n"
	    "--b1--\r\n";
	struct meta	*m = build(msg);

	test_begin("multipart/alternative");
	test_assert(m->flags == 0 && m->nparts == 3);
	test_assert_streq(envelope(m->parts[0].env),
	    "(\"Tue, 1 Jul 2003 10:52:37 +0200\" \"alt\" "
	    "((\"Alice\" NIL \"alice\" \"example.org\")) "
	    "((\"Alice\" NIL \"alice\" \"example.org\")) "
	    "((\"Alice\" NIL \"alice\" \"example.org\")) "
	    "((NIL NIL \"bob\" \"example.net\")) NIL NIL NIL NIL)");
	/* the CRLF before a boundary is the boundary's: 9 and 30 bytes */
	test_assert_streq(body(m, 0, true),
	    "((\"TEXT\" \"PLAIN\" (\"charset\" \"utf-8\") NIL NIL "
	    "\"QUOTED-PRINTABLE\" 9 1 NIL NIL NIL NIL)"
	    "(\"TEXT\" \"HTML\" (\"charset\" \"utf-8\") NIL NIL \"7BIT\" "
	    "30 2 NIL NIL NIL NIL) "
	    "\"ALTERNATIVE\" (\"boundary\" \"b1\") NIL NIL NIL)");
	test_assert_streq(body(m, 0, false),
	    "((\"TEXT\" \"PLAIN\" (\"charset\" \"utf-8\") NIL NIL "
	    "\"QUOTED-PRINTABLE\" 9 1)"
	    "(\"TEXT\" \"HTML\" (\"charset\" \"utf-8\") NIL NIL \"7BIT\" "
	    "30 2) \"ALTERNATIVE\")");
	/* a part of its own (FETCH BODYSTRUCTURE of a part, later) */
	test_assert_streq(body(m, 2, false),
	    "(\"TEXT\" \"HTML\" (\"charset\" \"utf-8\") NIL NIL \"7BIT\" "
	    "30 2)");
	meta_free(m);
	test_end();
}

static void
test_render_mixed(void)
{
	const char	*msg =
	    "From: a@example.org\r\n"
	    "Subject: report\r\n"
	    "Content-Type: multipart/mixed; boundary=\"=_x\"\r\n"
	    "Content-Language: en\r\n"
	    "\r\n"
	    "This is a MIME message.\r\n"
	    "--=_x\r\n"
	    "Content-Type: text/plain; charset=us-ascii\r\n"
	    "\r\n"
	    "See attached.\r\n"
	    "--=_x\r\n"
	    "Content-Type: application/pdf; name=\"r.pdf\"\r\n"
	    "Content-Transfer-Encoding: base64\r\n"
	    "Content-ID: <part2@example.org>\r\n"
	    "Content-Description: The report\r\n"
	    "Content-Disposition: attachment; filename=\"report 2024.pdf\";"
	    " size=6\r\n"
	    "Content-Language: en-GB, fr\r\n"
	    "Content-Location: http://example.org/r.pdf\r\n"
	    "\r\n"
	    "JVBERi0=\r\n"
	    "--=_x--\r\n";
	struct meta	*m = build(msg);

	test_begin("multipart/mixed: an attachment with every extension");
	test_assert(m->flags == 0 && m->nparts == 3);
	test_assert_streq(body(m, 0, true),
	    "((\"TEXT\" \"PLAIN\" (\"charset\" \"us-ascii\") NIL NIL \"7BIT\" "
	    "13 1 NIL NIL NIL NIL)"
	    "(\"APPLICATION\" \"PDF\" (\"name\" \"r.pdf\") "
	    "\"<part2@example.org>\" \"The report\" \"BASE64\" 8 NIL "
	    "(\"ATTACHMENT\" (\"filename\" \"report 2024.pdf\" "
	    "\"size\" \"6\")) "
	    "(\"en-GB\" \"fr\") \"http://example.org/r.pdf\") "
	    "\"MIXED\" (\"boundary\" \"=_x\") NIL \"en\" NIL)");
	test_assert_streq(body(m, 0, false),
	    "((\"TEXT\" \"PLAIN\" (\"charset\" \"us-ascii\") NIL NIL \"7BIT\" "
	    "13 1)"
	    "(\"APPLICATION\" \"PDF\" (\"name\" \"r.pdf\") "
	    "\"<part2@example.org>\" \"The report\" \"BASE64\" 8) \"MIXED\")");
	test_assert_streq(envelope(m->parts[0].env),
	    "(NIL \"report\" ((NIL NIL \"a\" \"example.org\")) "
	    "((NIL NIL \"a\" \"example.org\")) "
	    "((NIL NIL \"a\" \"example.org\")) NIL NIL NIL NIL NIL)");
	meta_free(m);
	test_end();
}

#define INNER_ENV \
	"(\"Thu, 2 Jan 2020 03:04:05 +0000\" \"inner\" " \
	"((\"Carol\" NIL \"carol\" \"example.com\")) " \
	"((\"Carol\" NIL \"carol\" \"example.com\")) " \
	"((\"Carol\" NIL \"carol\" \"example.com\")) " \
	"NIL NIL NIL \"<x@y>\" NIL)"

static void
test_render_rfc822(void)
{
	const char	*msg =
	    "From: a@example.org\r\n"
	    "To: b@example.org\r\n"
	    "Subject: fwd\r\n"
	    "Content-Type: multipart/mixed; boundary=o\r\n"
	    "\r\n"
	    "--o\r\n"
	    "Content-Type: text/plain; charset=us-ascii\r\n"
	    "\r\n"
	    "fwd below\r\n"
	    "--o\r\n"
	    "Content-Type: message/rfc822\r\n"
	    "Content-Disposition: inline\r\n"
	    "\r\n"
	    "From: Carol <carol@example.com>\r\n"
	    "Subject: inner\r\n"
	    "Date: Thu, 2 Jan 2020 03:04:05 +0000\r\n"
	    "In-Reply-To: <x@y>\r\n"
	    "\r\n"
	    "inner body\r\n"
	    "--o--\r\n";
	struct meta	*m = build(msg), *d;
	struct buf	*enc = buf_new(META_MAX_OUTPUT);
	char		 want[2048];

	test_begin("an attached message/rfc822: envelope, body, lines");
	test_assert(m->flags == 0 && m->nparts == 4);
	/*
	 * The message part's body: 33 + 16 + 38 + 20 + 2 + 10 = 119 bytes
	 * and 6 lines (5 line ends and the last, unterminated, line).
	 */
	test_assert_streq(body(m, 0, true),
	    "((\"TEXT\" \"PLAIN\" (\"charset\" \"us-ascii\") NIL NIL \"7BIT\" "
	    "9 1 NIL NIL NIL NIL)"
	    "(\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 119 "
	    INNER_ENV " "
	    "(\"TEXT\" \"PLAIN\" (\"charset\" \"us-ascii\") NIL NIL \"7BIT\" "
	    "10 1 NIL NIL NIL NIL) 6 NIL (\"INLINE\" NIL) NIL NIL) "
	    "\"MIXED\" (\"boundary\" \"o\") NIL NIL NIL)");
	test_assert_streq(body(m, 0, false),
	    "((\"TEXT\" \"PLAIN\" (\"charset\" \"us-ascii\") NIL NIL \"7BIT\" "
	    "9 1)"
	    "(\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 119 "
	    INNER_ENV " "
	    "(\"TEXT\" \"PLAIN\" (\"charset\" \"us-ascii\") NIL NIL \"7BIT\" "
	    "10 1) 6) \"MIXED\")");
	/* the message part alone, and the enclosed message's body */
	test_assert_streq(body(m, 2, false),
	    "(\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 119 "
	    INNER_ENV " "
	    "(\"TEXT\" \"PLAIN\" (\"charset\" \"us-ascii\") NIL NIL \"7BIT\" "
	    "10 1) 6)");
	test_assert_streq(body(m, 3, true),
	    "(\"TEXT\" \"PLAIN\" (\"charset\" \"us-ascii\") NIL NIL \"7BIT\" "
	    "10 1 NIL NIL NIL NIL)");
	test_assert_streq(envelope(m->parts[3].env), INNER_ENV);

	/* a record read back from its encoding renders the same */
	test_assert(strlcpy(want, body(m, 0, true), sizeof(want)) <
	    sizeof(want));
	test_assert(meta_encode(m, enc) == 0);
	d = meta_decode(enc->data, enc->len, err, sizeof(err));
	test_assert(d != NULL);
	if (d != NULL) {
		test_assert_streq(body(d, 0, true), want);
		meta_free(d);
	}
	buf_free(&enc);
	meta_free(m);
	test_end();
}

/*
 * Groups, no Date or Subject, Sender and Reply-To of their own, an
 * address without a domain.
 */
static void
test_render_groups(void)
{
	const char	*msg =
	    "From: Boss <boss@example.com>\r\n"
	    "Sender: secretary@example.com\r\n"
	    "Reply-To: list@example.com\r\n"
	    "To: undisclosed-recipients:;\r\n"
	    "Cc: Friends: a@x.org, \"B, b\" <b@y.org>;, c@z.org\r\n"
	    "Bcc: localuser\r\n"
	    "\r\n"
	    "x\r\n";
	struct meta	*m = build(msg);

	test_begin("groups, an address without domain, no Date or Subject");
	test_assert(m->flags == 0);
	test_assert_streq(envelope(m->parts[0].env),
	    "(NIL NIL "
	    "((\"Boss\" NIL \"boss\" \"example.com\")) "
	    "((NIL NIL \"secretary\" \"example.com\")) "
	    "((NIL NIL \"list\" \"example.com\")) "
	    "((NIL NIL \"undisclosed-recipients\" NIL)(NIL NIL NIL NIL)) "
	    "((NIL NIL \"Friends\" NIL)(NIL NIL \"a\" \"x.org\")"
	    "(\"B, b\" NIL \"b\" \"y.org\")(NIL NIL NIL NIL)"
	    "(NIL NIL \"c\" \"z.org\")) "
	    "((NIL NIL \"localuser\" \"\")) NIL NIL)");
	test_assert_streq(body(m, 0, true),
	    "(\"TEXT\" \"PLAIN\" (\"charset\" \"us-ascii\") NIL NIL \"7BIT\" "
	    "3 1 NIL NIL NIL NIL)");
	meta_free(m);
	test_end();
}

/*
 * RFC 3501 7.4.2: a field present but empty is "", absent NIL; an empty
 * Sender is From's; an unnamed group starts with "", not NIL (which
 * would end it).  An empty Content-Transfer-Encoding is 7BIT.
 */
static void
test_render_empty(void)
{
	const char	*msg =
	    "From: a@b.example\r\n"
	    "Subject:\r\n"
	    "Sender: \r\n"
	    "In-Reply-To: \r\n"
	    "To: :;\r\n"
	    "Content-Transfer-Encoding: \r\n"
	    "\r\n";
	struct meta	*m = build(msg);

	test_begin("empty header fields are empty strings");
	test_assert_streq(envelope(m->parts[0].env),
	    "(NIL \"\" ((NIL NIL \"a\" \"b.example\")) "
	    "((NIL NIL \"a\" \"b.example\")) "
	    "((NIL NIL \"a\" \"b.example\")) "
	    "((NIL NIL \"\" NIL)(NIL NIL NIL NIL)) NIL NIL \"\" NIL)");
	/* no body at all */
	test_assert_streq(body(m, 0, false),
	    "(\"TEXT\" \"PLAIN\" (\"charset\" \"us-ascii\") NIL NIL \"7BIT\" "
	    "0 0)");
	meta_free(m);
	test_end();
}

static void
test_render_quotes(void)
{
	const char	*msg =
	    "Subject: say \"hi\" to C:\\dir\r\n"
	    "From: \"Joe \\\"Q\\\" Public\" <joe@example.com>\r\n"
	    "Message-ID: <\"a\\\\b\"@example.com>\r\n"
	    "Content-Type: text/plain; charset=\"us-ascii\"; "
	    "x-note=\"a \\\"q\\\"\"\r\n"
	    "\r\n"
	    "b";
	struct meta	*m = build(msg);

	test_begin("double quotes and backslashes are escaped");
	test_assert(m->flags == 0);
	test_assert_streq(envelope(m->parts[0].env),
	    "(NIL \"say \\\"hi\\\" to C:\\\\dir\" "
	    "((\"Joe \\\"Q\\\" Public\" NIL \"joe\" \"example.com\")) "
	    "((\"Joe \\\"Q\\\" Public\" NIL \"joe\" \"example.com\")) "
	    "((\"Joe \\\"Q\\\" Public\" NIL \"joe\" \"example.com\")) "
	    "NIL NIL NIL NIL \"<\\\"a\\\\\\\\b\\\"@example.com>\")");
	/* one unterminated line of one byte */
	test_assert_streq(body(m, 0, false),
	    "(\"TEXT\" \"PLAIN\" (\"charset\" \"us-ascii\" "
	    "\"x-note\" \"a \\\"q\\\"\") NIL NIL \"7BIT\" 1 1)");
	meta_free(m);
	test_end();
}

/* Raw 8-bit bytes in header fields, and an RFC 2231 parameter. */
static void
test_render_8bit(void)
{
	const char	*msg =
	    "Subject: caf\xe9\r\n"
	    "Content-Type: text/plain; charset=iso-8859-1;\r\n"
	    " name*=utf-8''caf%C3%A9.txt\r\n"
	    "Content-Description: d\xe9j\xe0 vu\r\n"
	    "Content-Transfer-Encoding: 8bit\r\n"
	    "\r\n"
	    "caf\xe9\r\n";
	struct meta	*m = build(msg);

	test_begin("raw 8-bit header bytes are literals");
	test_assert(m->flags == 0 && m->nparts == 1);
	test_assert_streq(envelope(m->parts[0].env),
	    "(NIL {4}\r\ncaf\xe9 NIL NIL NIL NIL NIL NIL NIL NIL)");
	test_assert_streq(body(m, 0, true),
	    "(\"TEXT\" \"PLAIN\" (\"charset\" \"iso-8859-1\" "
	    "\"name\" {9}\r\ncaf\xc3\xa9.txt) NIL {7}\r\nd\xe9j\xe0 vu "
	    "\"8BIT\" 6 1 NIL NIL NIL NIL)");
	meta_free(m);
	test_end();
}

static void
test_render_unparsable(void)
{
	const char	*msg = "\x01\x02 binary\r\n\r\n";
	struct meta	*m = build(msg);

	test_begin("an unparsable message: one application/octet-stream");
	test_assert(m->flags == META_UNPARSABLE);
	test_assert_streq(envelope(m->parts[0].env),
	    "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)");
	test_assert_streq(body(m, 0, true),
	    "(\"APPLICATION\" \"OCTET-STREAM\" NIL NIL NIL \"7BIT\" 13 "
	    "NIL NIL NIL NIL)");
	meta_free(m);
	test_end();
}

/* Records made by hand: what meta_build does not make from our messages. */
static void
test_render_handmade(void)
{
	struct meta_addr	 to[] = {
		{ META_ADDR_GROUP_START, NULL, NULL, NULL, NULL },
		{ META_ADDR_MAILBOX, "X", NULL, "x", "example.org" },
		{ META_ADDR_GROUP_END, NULL, NULL, NULL, NULL },
	};
	struct meta_addr	 from[] = {
		{ META_ADDR_MAILBOX, "Ren\xc3\xa9", NULL, "r", "example.fr" },
	};
	struct meta_envelope	 env;
	char			*langs[] = { "de" };
	struct meta_param	 dp[] = { { "filename", "a.txt" } };
	struct meta_part	 parts[3];
	struct meta		 m;

	test_begin("hand-made records: unnamed group, no envelope, global");
	memset(&env, 0, sizeof(env));
	env.to.v = to;
	env.to.n = 3;
	env.from.v = from;
	env.from.n = 1;
	env.subject = "";
	/* an unnamed group's start must not read as a group's end */
	test_assert_streq(envelope(&env),
	    "(NIL \"\" (({5}\r\nRen\xc3\xa9 NIL \"r\" \"example.fr\")) "
	    "(({5}\r\nRen\xc3\xa9 NIL \"r\" \"example.fr\")) "
	    "(({5}\r\nRen\xc3\xa9 NIL \"r\" \"example.fr\")) "
	    "((NIL NIL \"\" NIL)(\"X\" NIL \"x\" \"example.org\")"
	    "(NIL NIL NIL NIL)) NIL NIL NIL NIL)");
	test_assert_streq(envelope(NULL),
	    "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)");

	/*
	 * message/global (RFC 6532) is a message part like rfc822; one
	 * language is a string; a disposition with parameters.
	 */
	memset(parts, 0, sizeof(parts));
	memset(&m, 0, sizeof(m));
	parts[0] = (struct meta_part){ .parent = META_NONE, .next = 2,
	    .nchildren = 1, .type = "message", .subtype = "global",
	    .encoding = "8bit", .disposition = "attachment", .dparams = dp,
	    .ndparams = 1, .language = langs, .nlanguage = 1,
	    .location = "loc", .body_start = 10, .body_end = 30, .lines = 2,
	    .env = &env };
	parts[1] = (struct meta_part){ .parent = 0, .next = 2, .depth = 1,
	    .type = "image", .subtype = "png", .id = "<i>", .hdr_start = 10,
	    .body_start = 20, .body_end = 30 };
	m.parts = parts;
	m.nparts = 2;
	m.size = 30;
	memset(&env, 0, sizeof(env));
	parts[1].env = &env;
	/* IMAP4rev1: message/global is a basic part, its message not shown */
	test_assert_streq(body(&m, 0, true),
	    "(\"MESSAGE\" \"GLOBAL\" NIL NIL NIL \"8BIT\" 20 "
	    "NIL (\"ATTACHMENT\" (\"filename\" \"a.txt\")) \"de\" \"loc\")");
	test_assert_streq(body(&m, 0, false),
	    "(\"MESSAGE\" \"GLOBAL\" NIL NIL NIL \"8BIT\" 20)");
	/* the same as message/rfc822: envelope, body, lines */
	parts[0].subtype = "rfc822";
	test_assert_streq(body(&m, 0, true),
	    "(\"MESSAGE\" \"RFC822\" NIL NIL NIL \"8BIT\" 20 "
	    "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL) "
	    "(\"IMAGE\" \"PNG\" NIL \"<i>\" NIL \"7BIT\" 10 NIL NIL NIL NIL) "
	    "2 NIL (\"ATTACHMENT\" (\"filename\" \"a.txt\")) \"de\" \"loc\")");
	/* a message part's child without an envelope: ten NILs */
	parts[1].env = NULL;
	test_assert_streq(body(&m, 0, false),
	    "(\"MESSAGE\" \"RFC822\" NIL NIL NIL \"8BIT\" 20 "
	    "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL) "
	    "(\"IMAGE\" \"PNG\" NIL \"<i>\" NIL \"7BIT\" 10) 2)");
	test_end();
}

/* META_MAX_DEPTH nested multiparts and more: a loop, not recursion. */
static void
test_render_deep(void)
{
	struct buf	*msg = buf_new(1024 * 1024);
	struct meta	*m;
	const char	*s;
	size_t		 open = 0, close = 0;
	int		 i, levels = META_MAX_DEPTH + 8;

	test_begin("deep nesting: bounded, balanced");
	for (i = 0; i < levels; i++)
		test_assert(buf_addf(msg, "Content-Type: multipart/mixed; "
		    "boundary=b%d\r\n\r\n--b%d\r\n", i, i) == 0);
	test_assert(buf_addf(msg, "Content-Type: text/plain\r\n\r\nleaf\r\n")
	    == 0);
	for (i = levels - 1; i >= 0; i--)
		test_assert(buf_addf(msg, "--b%d--\r\n", i) == 0);
	m = meta_build(msg->data, msg->len, err, sizeof(err));
	test_assert((m->limits & META_LIMIT_DEPTH) != 0);
	test_assert(m->nparts == META_MAX_DEPTH);
	s = body(m, 0, true);
	for (; *s != '\0'; s++) {
		open += *s == '(';
		close += *s == ')';
	}
	test_assert(open == close);
	/* the deepest part, not looked into, is an octet stream */
	test_assert(strstr(body(m, 0, false),
	    "((\"APPLICATION\" \"OCTET-STREAM\" ") != NULL);
	meta_free(m);
	buf_free(&msg);
	test_end();
}

/* -1 and ENOBUFS at out's maximum, exactly there, and nothing spliced. */
static void
test_render_max(void)
{
	const char	*msg =
	    "From: Alice <alice@example.org>\r\n"
	    "Subject: caf\xe9 \"quoted\"\r\n"
	    "Content-Type: multipart/mixed; boundary=b\r\n"
	    "\r\n"
	    "--b\r\n"
	    "Content-Type: text/plain; charset=us-ascii\r\n"
	    "\r\n"
	    "x\r\n"
	    "--b--\r\n";
	struct meta	*m = build(msg);
	struct buf	*b;
	size_t		 full, max;
	int		 ok = 1, pass;

	test_begin("the buffer maximum: -1, ENOBUFS, a clean prefix");
	for (pass = 0; pass < 2; pass++) {
		/* the full length, then every smaller maximum */
		b = buf_new(OUT_MAX);
		test_assert((pass == 0 ? imap_render_body(b, m, 0, true) :
		    imap_render_envelope(b, m->parts[0].env)) == 0);
		full = b->len;
		buf_free(&b);
		for (max = 0; max <= full; max++) {
			b = buf_new(max);
			errno = 0;
			if ((pass == 0 ? imap_render_body(b, m, 0, true) :
			    imap_render_envelope(b, m->parts[0].env)) !=
			    (max == full ? 0 : -1) ||
			    (max < full && errno != ENOBUFS) || b->len > max)
				ok = 0;
			buf_free(&b);
		}
	}
	test_assert(ok);
	b = buf_new(8);
	test_assert(imap_render_nstring(b, "0123456789") == -1 &&
	    errno == ENOBUFS);
	buf_free(&b);
	meta_free(m);
	test_end();
}

int
main(void)
{
	static void	(*tests[])(void) = {
		test_render_nstring,
		test_render_plain,
		test_render_alternative,
		test_render_mixed,
		test_render_rfc822,
		test_render_groups,
		test_render_empty,
		test_render_quotes,
		test_render_8bit,
		test_render_unparsable,
		test_render_handmade,
		test_render_deep,
		test_render_max,
		NULL
	};

	meta_init();
	if ((out = buf_new(OUT_MAX)) == NULL)
		return 1;
	return test_run(tests);
}
