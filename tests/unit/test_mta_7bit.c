/* SPDX-License-Identifier: ISC */
/*
 * test_mta_7bit.c - 8-bit messages made 7-bit MIME (mta/mta_7bit.c): a
 * UTF-8 text body to quoted-printable, a multipart with an 8-bit text part
 * and a binary attachment (quoted-printable and base64), an already 7-bit
 * message byte for byte (LF made CR LF), a message/rfc822 part with 8-bit
 * content, header fields with 8-bit bytes or a NUL refused (also in a
 * part's header, an enclosed message's, a line GMime cannot read), lines
 * over 998 octets encoded again, 8-bit junk in base64, a bare CR, the
 * charset added to text/plain, preamble and epilogue, lines that would
 * become boundary delimiters (quoted-printable's wrapping, GMime's reading
 * of a line before a boundary), 8bit labels on
 * 7-bit content, multipart/signed converted, the limits.  Every result is
 * read back with GMime: each leaf's decoded bytes equal the input's, and
 * every result is 7-bit with CR LF lines of at most 998 octets.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <gmime/gmime.h>

#include "buf.h"
#include "mta_7bit.h"
#include "test.h"
#include "banned.h"

#define T_OUT_MAX	(8 * 1024 * 1024)
#define T_MAX_LEAVES	16

/* Every byte 7-bit, no NUL, every line CR LF and at most 998 octets. */
static int
lines_ok(const struct buf *b)
{
	size_t	i, ll = 0;

	for (i = 0; i < b->len; i++) {
		if (b->data[i] == '\0' || b->data[i] >= 0x80)
			return 0;
		if (b->data[i] == '\r') {
			if (i + 1 >= b->len || b->data[i + 1] != '\n')
				return 0;
			i++;
			ll = 0;
			continue;
		}
		if (b->data[i] == '\n' || ++ll > 998)
			return 0;
	}
	return b->len == 0 || b->data[b->len - 1] == '\n';
}

static GMimeMessage *
parse(const void *p, size_t n)
{
	GMimeStream	*s;
	GMimeParser	*parser;
	GMimeMessage	*m;

	s = g_mime_stream_mem_new_with_buffer(p, n);
	parser = g_mime_parser_new_with_stream(s);
	g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
	m = g_mime_parser_construct_message(parser, NULL);
	g_object_unref(parser);
	g_object_unref(s);
	return m;
}

/* The leaves of m in document order (enclosed messages entered). */
static void
leaves_of(GMimeObject *o, GMimeObject **v, size_t *n)
{
	GMimeMessage	*em;
	int		 i;

	if (o == NULL)
		return;
	if (GMIME_IS_MULTIPART(o)) {
		for (i = 0; i < g_mime_multipart_get_count(GMIME_MULTIPART(o));
		    i++)
			leaves_of(g_mime_multipart_get_part(GMIME_MULTIPART(o),
			    i), v, n);
	} else if (GMIME_IS_MESSAGE_PART(o)) {
		em = g_mime_message_part_get_message(GMIME_MESSAGE_PART(o));
		if (em != NULL)
			leaves_of(g_mime_message_get_mime_part(em), v, n);
	} else if (*n < T_MAX_LEAVES)
		v[(*n)++] = o;
}

/* A leaf's body decoded (g_malloc'd, the length in *len). */
static guint8 *
decoded(GMimeObject *o, size_t *len)
{
	GMimeStream	*mem = g_mime_stream_mem_new();
	GByteArray	*a;
	guint8		*r;

	g_mime_data_wrapper_write_to_stream(
	    g_mime_part_get_content(GMIME_PART(o)), mem);
	a = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	*len = a->len;
	r = g_malloc(a->len + 1);
	memcpy(r, a->data, a->len);
	g_object_unref(mem);
	return r;
}

/*
 * The input and the result read by GMime have as many leaves, of the
 * same types, with the same decoded bytes; the number of leaves.
 */
static size_t
same_leaves(const char *in, size_t inlen, const struct buf *out)
{
	GMimeMessage	*a = parse(in, inlen), *b = parse(out->data, out->len);
	GMimeObject	*va[T_MAX_LEAVES], *vb[T_MAX_LEAVES];
	size_t		 na = 0, nb = 0, i, la, lb;
	guint8		*da, *db;

	if (a == NULL || b == NULL) {
		test_assert(a != NULL && b != NULL);
		return 0;
	}
	leaves_of(g_mime_message_get_mime_part(a), va, &na);
	leaves_of(g_mime_message_get_mime_part(b), vb, &nb);
	test_assert(na == nb);
	for (i = 0; i < na && i < nb; i++) {
		GMimeContentType	*ca, *cb;

		ca = g_mime_object_get_content_type(va[i]);
		cb = g_mime_object_get_content_type(vb[i]);
		test_assert(g_mime_content_type_is_type(cb,
		    g_mime_content_type_get_media_type(ca),
		    g_mime_content_type_get_media_subtype(ca)));
		da = decoded(va[i], &la);
		db = decoded(vb[i], &lb);
		test_assert(la == lb && memcmp(da, db, la) == 0);
		g_free(da);
		g_free(db);
	}
	g_object_unref(a);
	g_object_unref(b);
	return na;
}

static int
has(const struct buf *b, const char *s)
{
	return strstr(buf_cstr(b), s) != NULL;
}

static int
convert(const char *msg, size_t len, struct buf *out, char *err,
    size_t errlen)
{
	int	r = mta_7bit_convert((const unsigned char *)msg, len, out, err,
		    errlen);

	if (r == 0)
		test_assert(lines_ok(out));
	else
		test_assert(out->len == 0 && err[0] != '\0');
	return r;
}

static void
test_text(void)
{
	static const char	msg[] = "From: a@example.test\r\n"
	    "Subject: plain\r\n\r\n"
	    "Gr\xc3\xbc\xc3\x9f""e aus K\xc3\xb6ln, \xe2\x82\xac 5\r\n"
	    "a line = with an equals sign and a trailing blank \r\n"
	    ".a dot\r\nFrom the start\r\n";
	struct buf	*b = buf_new(T_OUT_MAX);
	char		 err[128];

	test_begin("UTF-8 text: quoted-printable, charset, MIME-Version");
	test_assert(mta_7bit_needed((const unsigned char *)msg,
	    sizeof(msg) - 1) == 1);
	test_assert(convert(msg, sizeof(msg) - 1, b, err, sizeof(err)) == 0);
	test_assert(mta_7bit_needed(b->data, b->len) == 0);
	test_assert(has(b, "From: a@example.test\r\nSubject: plain\r\n"));
	test_assert(has(b, "Content-Transfer-Encoding: quoted-printable\r\n"));
	test_assert(has(b, "charset=utf-8"));
	test_assert(has(b, "MIME-Version: 1.0\r\n"));
	test_assert(has(b, "\r\n\r\nGr=C3=BC=C3=9Fe aus K=C3=B6ln, "
	    "=E2=82=AC 5\r\n"));
	test_assert(has(b, "blank=20\r\n"));
	test_assert(same_leaves(msg, sizeof(msg) - 1, b) == 1);
	buf_free(&b);
	test_end();
}

static void
test_multipart(void)
{
	static const char	msg[] = "From: a@example.test\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: multipart/mixed; boundary=\"=_b1\"\r\n"
	    "Content-Transfer-Encoding: 8bit\r\n\r\n"
	    "This is a multi-part message.\r\n"
	    "--=_b1\r\n"
	    "Content-Type: text/plain; charset=iso-8859-1\r\n"
	    "Content-Transfer-Encoding: 8bit\r\n\r\n"
	    "caf\xe9 cr\xe8me\r\n"
	    "--=_b1\r\n"
	    "Content-Type: text/plain; charset=us-ascii\r\n"
	    "Content-Transfer-Encoding: 7bit\r\n\r\n"
	    "plain ascii, left alone\r\n"
	    "--=_b1\r\n"
	    "Content-Type: application/octet-stream; name=\"x.bin\"\r\n"
	    "Content-Transfer-Encoding: binary\r\n\r\n"
	    "\x00\x01\xff\xfe\r\rbinary\n\x80 bytes\r\n\x00"
	    "\r\n--=_b1\r\n"
	    "Content-Type: image/png\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\n"
	    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk\r\n"
	    "--=_b1--\r\n";
	struct buf	*b = buf_new(T_OUT_MAX);
	char		 err[128];

	test_begin("multipart: 8-bit text to QP, binary to base64");
	test_assert(convert(msg, sizeof(msg) - 1, b, err, sizeof(err)) == 0);
	test_assert(same_leaves(msg, sizeof(msg) - 1, b) == 4);
	/* the multipart's own label, and the encodings of the parts */
	test_assert(has(b, "boundary=\"=_b1\"\r\n"
	    "Content-Transfer-Encoding: 7bit\r\n\r\n"
	    "This is a multi-part message.\r\n--=_b1\r\n"));
	test_assert(has(b, "Content-Type: text/plain; charset=iso-8859-1\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
	    "caf=E9 cr=E8me\r\n--=_b1\r\n"));
	/* GMime ends base64 with a line break, before the boundary's */
	test_assert(has(b, "Content-Transfer-Encoding: base64\r\n\r\n"
	    "AAH//g0NYmluYXJ5CoAgYnl0ZXMNCgA=\r\n\r\n--=_b1\r\n"));
	/* 7-bit parts byte for byte */
	test_assert(has(b, "--=_b1\r\n"
	    "Content-Type: text/plain; charset=us-ascii\r\n"
	    "Content-Transfer-Encoding: 7bit\r\n\r\n"
	    "plain ascii, left alone\r\n--=_b1\r\n"));
	test_assert(has(b, "--=_b1\r\nContent-Type: image/png\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\n"
	    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk\r\n"
	    "--=_b1--\r\n"));
	/* it had a MIME-Version: not a second one */
	test_assert(strstr(strstr(buf_cstr(b), "MIME-Version") + 1,
	    "MIME-Version") == NULL);
	buf_free(&b);
	test_end();
}

static void
test_seven_bit(void)
{
	static const char	crlf[] = "From: a@example.test\r\n"
	    "Subject: ascii\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
	    "just ascii\r\n\r\n.\r\n";
	static const char	lf[] = "From: a@example.test\n"
	    "Subject: ascii\n\nline\n\nlast without an end";
	static const char	lf_crlf[] = "From: a@example.test\r\n"
	    "Subject: ascii\r\n\r\nline\r\n\r\nlast without an end\r\n";
	struct buf	*b = buf_new(T_OUT_MAX);
	char		 err[128];

	test_begin("7-bit messages: byte for byte, line ends CR LF");
	test_assert(mta_7bit_needed((const unsigned char *)crlf,
	    sizeof(crlf) - 1) == 0);
	test_assert(convert(crlf, sizeof(crlf) - 1, b, err, sizeof(err)) == 0);
	test_assert(b->len == sizeof(crlf) - 1 &&
	    memcmp(b->data, crlf, b->len) == 0);
	test_assert(convert(lf, sizeof(lf) - 1, b, err, sizeof(err)) == 0);
	test_assert_streq(buf_cstr(b), lf_crlf);
	/* empty */
	test_assert(convert("", 0, b, err, sizeof(err)) == 0);
	test_assert(b->len == 0);
	buf_free(&b);
	test_end();
}

static void
test_rfc822(void)
{
	static const char	msg[] = "From: a@example.test\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: multipart/mixed; boundary=outer\r\n\r\n"
	    "--outer\r\n"
	    "Content-Type: text/plain\r\n\r\n"
	    "see the attached message\r\n"
	    "--outer\r\n"
	    "Content-Type: message/rfc822\r\n"
	    "Content-Transfer-Encoding: 8bit\r\n\r\n"
	    "From: b@example.test\r\n"
	    "Subject: inner\r\n\r\n"
	    "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82\r\n"
	    "--outer--\r\n";
	static const char	badhdr[] = "From: a@example.test\r\n"
	    "Content-Type: message/rfc822\r\n\r\n"
	    "From: b@example.test\r\n"
	    "Subject: \xd0\x9f\xd1\x80\xd0\xb8\r\n\r\n"
	    "body\r\n";
	struct buf	*b = buf_new(T_OUT_MAX);
	char		 err[128];
	const char	*inner;

	test_begin("message/rfc822 with 8-bit content: converted inside");
	test_assert(convert(msg, sizeof(msg) - 1, b, err, sizeof(err)) == 0);
	test_assert(same_leaves(msg, sizeof(msg) - 1, b) == 2);
	test_assert(has(b, "Content-Type: message/rfc822\r\n"
	    "Content-Transfer-Encoding: 7bit\r\n\r\n"
	    "From: b@example.test\r\nSubject: inner\r\n"));
	/* the enclosed message says MIME now, and how its body is encoded */
	inner = strstr(buf_cstr(b), "Subject: inner\r\n");
	test_assert(inner != NULL && strstr(inner, "MIME-Version: 1.0\r\n") !=
	    NULL);
	test_assert(has(b, "Content-Transfer-Encoding: quoted-printable\r\n"
	    "\r\n=D0=9F=D1=80=D0=B8=D0=B2=D0=B5=D1=82\r\n--outer--\r\n"));
	/* the enclosed message's header fields are header fields too */
	test_assert(convert(badhdr, sizeof(badhdr) - 1, b, err,
	    sizeof(err)) == -1);
	test_assert_streq(err, "a header field with 8-bit bytes needs "
	    "SMTPUTF8");
	buf_free(&b);
	test_end();
}

static void
test_headers(void)
{
	static const struct {
		const char	*msg;
		size_t		 len;
		const char	*err;
	} t[] = {
#define T(s, e)	{ s, sizeof(s) - 1, e }
		T("From: J\xc3\xb6rg <j@example.test>\r\n\r\nbody\r\n",
		    "a header field with 8-bit bytes needs SMTPUTF8"),
		/* 8-bit in the name, in a continuation line */
		T("X-\xe9: v\r\n\r\nbody \xe9\r\n",
		    "a header field with 8-bit bytes needs SMTPUTF8"),
		T("Subject: a\r\n b \xe9\r\n\r\nbody\r\n",
		    "a header field with 8-bit bytes needs SMTPUTF8"),
		/* in a part's header: a file name */
		T("Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
		    "Content-Type: application/pdf; name=\"r\xc3\xa9sum\xc3\xa9"
		    ".pdf\"\r\n\r\nx\r\n--b--\r\n",
		    "a header field with 8-bit bytes needs SMTPUTF8"),
		/* a line GMime cannot read: it would drop it */
		T("From: a@example.test\r\nno colon \xe9\r\n\r\nbody\r\n",
		    "8-bit bytes or NULs in a header block or in header lines "
		    "that cannot be read"),
		/* a NUL in a value: GMime would cut it there */
		T("Subject: a\0b\r\nX: y\r\n\r\nbody\r\n",
		    "8-bit bytes or NULs in a header block or in header lines "
		    "that cannot be read"),
		T("Subject: a\rb\r\n\r\nbody \xe9\r\n",
		    "a header field with a bare CR"),
#undef T
	};
	static char	longhdr[1200];
	struct buf	*b = buf_new(T_OUT_MAX);
	char		 err[128];
	size_t		 i;

	test_begin("header fields with 8-bit bytes, a NUL, a bare CR: -1");
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		test_assert(convert(t[i].msg, t[i].len, b, err,
		    sizeof(err)) == -1);
		test_assert_streq(err, t[i].err);
	}
	/* a header line over 998 octets, in a 7-bit message */
	memcpy(longhdr, "X-Long: ", 8);
	memset(longhdr + 8, 'a', 1000);
	memcpy(longhdr + 1008, "\r\n\r\nbody\r\n", 10);
	test_assert(convert(longhdr, 1018, b, err, sizeof(err)) == -1);
	test_assert_streq(err, "a header line over 998 octets");
	/* an error buffer of one byte, and of none */
	test_assert(mta_7bit_convert((const unsigned char *)t[0].msg,
	    t[0].len, b, err, 1) == -1 && err[0] == '\0');
	test_assert(mta_7bit_convert((const unsigned char *)t[0].msg,
	    t[0].len, b, NULL, 0) == -1 && b->len == 0);
	buf_free(&b);
	test_end();
}

static void
test_long_lines(void)
{
	static const char	hdr_text[] = "From: a@example.test\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
	    "--b\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n";
	static const char	hdr_app[] = "\r\n--b\r\n"
	    "Content-Type: application/json\r\n"
	    "Content-Transfer-Encoding: 7bit\r\n\r\n";
	static const char	hdr_b64[] = "\r\n--b\r\n"
	    "Content-Type: application/octet-stream\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\n";
	struct buf	*in = buf_new(T_OUT_MAX), *b = buf_new(T_OUT_MAX);
	char		 err[128], line[3000];
	size_t		 i;

	test_begin("lines over 998 octets: encoded again");
	for (i = 0; i < sizeof(line); i++)
		line[i] = 'a' + i % 26;
	test_assert(buf_add(in, hdr_text, sizeof(hdr_text) - 1) == 0);
	/* 998 octets is fine, 999 is not */
	test_assert(buf_add(in, line, 998) == 0);
	test_assert(buf_add(in, "\r\n", 2) == 0);
	test_assert(buf_add(in, line, 999) == 0);
	test_assert(buf_add(in, hdr_app, sizeof(hdr_app) - 1) == 0);
	test_assert(buf_add(in, line, 2000) == 0);
	/* one base64 line of 2400: decoded and encoded again */
	test_assert(buf_add(in, hdr_b64, sizeof(hdr_b64) - 1) == 0);
	test_assert(buf_add(in, line, 2400) == 0);
	test_assert(buf_add(in, "\r\n--b--\r\n", 9) == 0);
	test_assert(mta_7bit_needed(in->data, in->len) == 0);
	test_assert(convert((const char *)in->data, in->len, b, err,
	    sizeof(err)) == 0);
	test_assert(same_leaves((const char *)in->data, in->len, b) == 3);
	test_assert(has(b, "charset=us-ascii\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n"));
	test_assert(has(b, "Content-Type: application/json\r\n"
	    "Content-Transfer-Encoding: base64\r\n"));
	/* no charset was added: the text is ASCII */
	test_assert(strstr(buf_cstr(b), "utf-8") == NULL);
	buf_free(&in);
	buf_free(&b);
	test_end();
}

static void
test_junk_and_cr(void)
{
	static const char	junk[] = "From: a@example.test\r\n"
	    "Content-Type: application/pdf\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\n"
	    "JVBERi0x\xe9LjQK\r\n";
	static const char	cr[] = "From: a@example.test\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: 8bit\r\n\r\n"
	    "over\rwritten \xc3\xa9\r\n";
	static const char	qpjunk[] = "From: a@example.test\r\n"
	    "Content-Type: text/plain; charset=iso-8859-1\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
	    "caf=E9 and caf\xe9\r\n";
	struct buf	*b = buf_new(T_OUT_MAX);
	char		 err[128];

	test_begin("8-bit junk in base64 and QP, a bare CR in text");
	test_assert(convert(junk, sizeof(junk) - 1, b, err, sizeof(err)) == 0);
	test_assert(same_leaves(junk, sizeof(junk) - 1, b) == 1);
	test_assert(has(b, "\r\n\r\nJVBERi0xLjQK\r\n"));
	test_assert(convert(cr, sizeof(cr) - 1, b, err, sizeof(err)) == 0);
	test_assert(same_leaves(cr, sizeof(cr) - 1, b) == 1);
	test_assert(has(b, "over=0Dwritten =C3=A9\r\n"));
	test_assert(convert(qpjunk, sizeof(qpjunk) - 1, b, err,
	    sizeof(err)) == 0);
	test_assert(same_leaves(qpjunk, sizeof(qpjunk) - 1, b) == 1);
	test_assert(has(b, "caf=E9 and caf=E9\r\n"));
	buf_free(&b);
	test_end();
}

static void
test_delimiters(void)
{
	struct buf	*in = buf_new(4096), *b = buf_new(T_OUT_MAX);
	char		 err[128], ys[75];

	test_begin("no delimiter lines made by wrapping or by GMime");
	memset(ys, 'y', sizeof(ys));
	test_assert(buf_addf(in, "Content-Type: multipart/mixed; boundary=b"
	    "\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n"
	    "\r\n\xc3\xa9\r\n%.75s--b\r\n%.74s--b--\r\n--b--\r\n", ys,
	    ys) == 0);
	test_assert(convert((const char *)in->data, in->len, b, err,
	    sizeof(err)) == 0);
	/* in quoted-printable "--b" and "-b--" would start lines */
	test_assert(has(b, "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: base64\r\n"));
	test_assert(same_leaves((const char *)in->data, in->len, b) == 1);
	/* a "--" that starts a line of the text is no such line */
	buf_reset(in);
	test_assert(buf_addf(in, "Content-Type: multipart/mixed; boundary=b"
	    "\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n"
	    "\r\n\xc3\xa9\r\n-- \r\nsignature\r\n--b--\r\n") == 0);
	test_assert(convert((const char *)in->data, in->len, b, err,
	    sizeof(err)) == 0);
	test_assert(has(b, "=C3=A9\r\n--=20\r\nsignature\r\n--b--\r\n"));
	test_assert(same_leaves((const char *)in->data, in->len, b) == 1);
	/*
	 * GMime reads "--b--x" LF before "--b" CR LF as "--b--" (it takes
	 * two bytes before the boundary line): a 7-bit body, a preamble
	 * with such a line are not written back as they are.
	 */
	buf_reset(in);
	test_assert(buf_addf(in, "Content-Type: multipart/mixed; boundary=b"
	    "\r\n\r\npre\n--b--x\n--b\r\n\r\n\xe9\r\n--b\r\n"
	    "Content-Type: application/x-thing\r\n\r\nline\r\n--b--x\n"
	    "--b\r\n\r\nlast\r\n--b--\r\n") == 0);
	test_assert(convert((const char *)in->data, in->len, b, err,
	    sizeof(err)) == 0);
	test_assert(same_leaves((const char *)in->data, in->len, b) == 3);
	test_assert(strstr(buf_cstr(b), "pre") == NULL);
	test_assert(has(b, "Content-Type: application/x-thing\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\nbGluZQ0KLS1iLS0=\r\n"));
	buf_free(&in);
	buf_free(&b);
	test_end();
}

static void
test_charset(void)
{
	static const char	latin[] = "From: a@example.test\r\n\r\n"
	    "caf\xe9\r\n";
	static const char	html[] = "From: a@example.test\r\n"
	    "Content-Type: text/html\r\n\r\n"
	    "<p>caf\xc3\xa9</p>\r\n";
	struct buf	*b = buf_new(T_OUT_MAX);
	char		 err[128];

	test_begin("charset: utf-8, unknown-8bit, none added to text/html");
	test_assert(convert(latin, sizeof(latin) - 1, b, err,
	    sizeof(err)) == 0);
	test_assert(has(b, "Content-Type: text/plain; charset=unknown-8bit"));
	test_assert(has(b, "MIME-Version: 1.0\r\n"));
	test_assert(same_leaves(latin, sizeof(latin) - 1, b) == 1);
	test_assert(convert(html, sizeof(html) - 1, b, err, sizeof(err)) == 0);
	test_assert(has(b, "Content-Type: text/html\r\n"));
	test_assert(strstr(buf_cstr(b), "charset") == NULL);
	test_assert(same_leaves(html, sizeof(html) - 1, b) == 1);
	buf_free(&b);
	test_end();
}

static void
test_edges(void)
{
	static const char	msg[] = "From: a@example.test\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
	    "pr\xe9""ambule\r\n"
	    "--b\r\n"
	    "Content-Type: text/plain\r\n"
	    "Content-Transfer-Encoding: 8bit\r\n\r\n"
	    "7-bit content labelled 8bit\r\n"
	    "--b\r\n\r\n"
	    "\xc3\xa9\r\n"
	    "--b--\r\n"
	    "\xc3\xa9pilogue\r\n";
	struct buf	*b = buf_new(T_OUT_MAX);
	char		 err[128];

	test_begin("8-bit preamble and epilogue dropped, 8bit label to 7bit");
	test_assert(convert(msg, sizeof(msg) - 1, b, err, sizeof(err)) == 0);
	test_assert(same_leaves(msg, sizeof(msg) - 1, b) == 2);
	test_assert(strstr(buf_cstr(b), "ambule") == NULL);
	test_assert(strstr(buf_cstr(b), "pilogue") == NULL);
	test_assert(has(b, "Content-Type: text/plain\r\n"
	    "Content-Transfer-Encoding: 7bit\r\n\r\n"
	    "7-bit content labelled 8bit\r\n--b\r\n"));
	buf_free(&b);
	test_end();
}

static void
test_signed(void)
{
	static const char	msg[] = "From: a@example.test\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: multipart/signed; boundary=s; "
	    "protocol=\"application/pgp-signature\"; micalg=pgp-sha256\r\n\r\n"
	    "--s\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: 8bit\r\n\r\n"
	    "sign\xc3\xa9\r\n"
	    "--s\r\n"
	    "Content-Type: application/pgp-signature\r\n\r\n"
	    "-----BEGIN PGP SIGNATURE-----\r\n\r\niQEz\r\n"
	    "-----END PGP SIGNATURE-----\r\n"
	    "--s--\r\n";
	struct buf	*b = buf_new(T_OUT_MAX);
	char		 err[128];

	test_begin("multipart/signed with 8-bit content: converted");
	test_assert(convert(msg, sizeof(msg) - 1, b, err, sizeof(err)) == 0);
	test_assert(same_leaves(msg, sizeof(msg) - 1, b) == 2);
	test_assert(has(b, "sign=C3=A9\r\n--s\r\n"));
	test_assert(has(b, "-----BEGIN PGP SIGNATURE-----\r\n\r\niQEz\r\n"));
	buf_free(&b);
	test_end();
}

static void
test_limits(void)
{
	struct buf	*in = buf_new(2 * MTA_7BIT_MAX_INPUT);
	struct buf	*b = buf_new(T_OUT_MAX), *small = buf_new(150);
	struct buf	*big = buf_new(2 * MTA_7BIT_MAX_INPUT);
	char		 err[128];
	size_t		 i, j;

	test_begin("limits: parts, header lines, input size, output max");
	/* MTA_7BIT_MAX_PARTS boundaries are fine, one more is not */
	test_assert(buf_addf(in, "Content-Type: multipart/mixed; "
	    "boundary=b\r\n\r\n") == 0);
	for (i = 0; i < MTA_7BIT_MAX_PARTS - 2; i++)
		test_assert(buf_add(in, "--b\r\n\r\n\xe9\r\n", 10) == 0);
	test_assert(buf_add(in, "--b--\r\n", 7) == 0);
	test_assert(convert((const char *)in->data, in->len, b, err,
	    sizeof(err)) == 0);
	buf_reset(in);
	test_assert(buf_addf(in, "Content-Type: multipart/mixed; "
	    "boundary=b\r\n\r\n") == 0);
	for (i = 0; i < MTA_7BIT_MAX_PARTS - 1; i++)
		test_assert(buf_add(in, "--b\r\n\r\n\xe9\r\n", 10) == 0);
	test_assert(buf_add(in, "--b--\r\n", 7) == 0);
	test_assert(convert((const char *)in->data, in->len, b, err,
	    sizeof(err)) == -1);
	test_assert_streq(err, "more than 10000 MIME boundaries and "
	    "Content-Type fields");
	/* header lines: the top block; a body's lines are not counted */
	buf_reset(in);
	for (i = 0; i < MTA_7BIT_MAX_HDR_LINES; i++)
		test_assert(buf_add(in, "X:y\r\n", 5) == 0);
	test_assert(buf_add(in, "\r\n\xe9\r\n", 5) == 0);
	test_assert(convert((const char *)in->data, in->len, b, err,
	    sizeof(err)) == 0);
	buf_reset(in);
	test_assert(buf_add(in, "Subject: x\r\n\r\n\xe9\r\n", 17) == 0);
	for (i = 0; i < 2 * MTA_7BIT_MAX_HDR_LINES; i++)
		test_assert(buf_add(in, "X:y\r\n", 5) == 0);
	test_assert(convert((const char *)in->data, in->len, b, err,
	    sizeof(err)) == 0);
	/* ... nor an attachment's, which has no empty line */
	buf_reset(in);
	test_assert(buf_addf(in, "Content-Type: multipart/mixed; boundary=b"
	    "\r\n\r\n--b\r\n\r\n\xe9\r\n--b\r\n"
	    "Content-Type: application/octet-stream\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\n") == 0);
	for (i = 0; i < 2 * MTA_7BIT_MAX_HDR_LINES; i++)
		test_assert(buf_add(in, "AAAA\r\n", 6) == 0);
	test_assert(buf_addf(in, "--b--\r\n") == 0);
	test_assert(convert((const char *)in->data, in->len, b, err,
	    sizeof(err)) == 0);
	/* ... but those of an enclosed message, and a digest's part's, are */
	for (j = 0; j < 3; j++) {
		static const char	*const hd[] = {
			"Content-Type: multipart/digest; boundary=b\r\n\r\n"
			    "--b\r\n\r\n",
			"Content-Type: multipart/mixed; boundary=b\r\n\r\n"
			    "--b\r\nContent-Type: message/rfc822\r\n\r\n",
			"Content-Type: multipart/mixed; boundary=b\r\n\r\n"
			    "--b\r\nContent-Type:\r\n message/rfc822\r\n\r\n"
		};

		buf_reset(in);
		test_assert(buf_addf(in, "%s", hd[j]) == 0);
		/* the top Content-Type and the lines after "--b" count */
		for (i = 0; i < (size_t)MTA_7BIT_MAX_HDR_LINES - 1 - j; i++)
			test_assert(buf_add(in, "X:y\r\n", 5) == 0);
		test_assert(buf_addf(in, "\r\n\xe9\r\n--b--\r\n") == 0);
		test_assert(convert((const char *)in->data, in->len, b, err,
		    sizeof(err)) == 0);
		buf_reset(in);
		test_assert(buf_addf(in, "%s", hd[j]) == 0);
		for (i = 0; i < MTA_7BIT_MAX_HDR_LINES; i++)
			test_assert(buf_add(in, "X:y\r\n", 5) == 0);
		test_assert(buf_addf(in, "\r\n\xe9\r\n--b--\r\n") == 0);
		test_assert(convert((const char *)in->data, in->len, b, err,
		    sizeof(err)) == -1);
		test_assert_streq(err, "more than 100000 header lines");
	}
	/* the input's size: 100 MiB of 8-bit text converted, one more not */
	buf_reset(in);
	test_assert(buf_add(in, "Subject: x\r\n\r\n", 14) == 0);
	test_assert(buf_grow(in, MTA_7BIT_MAX_INPUT + 1) == 0);
	memset(in->data + in->len, 'a', MTA_7BIT_MAX_INPUT + 1 - in->len);
	for (i = in->len + 900; i < MTA_7BIT_MAX_INPUT; i += 900)
		in->data[i] = '\n';
	in->data[in->len] = '\xe9';
	buf_advance(in, MTA_7BIT_MAX_INPUT + 1 - in->len);
	test_assert(convert((const char *)in->data, in->len, big, err,
	    sizeof(err)) == -1);
	test_assert_streq(err, "the message is over 104857600 bytes");
	test_assert(convert((const char *)in->data, in->len - 1, big, err,
	    sizeof(err)) == 0);
	test_assert(big->len > MTA_7BIT_MAX_INPUT);
	/* the output buffer's max: refused, not cut */
	test_assert(convert("Subject: x\r\n\r\n\xe9\xe9\xe9\xe9\xe9\r\n", 21,
	    small, err, sizeof(err)) == 0);
	test_assert(convert("Subject: x\r\n\r\n\xe9\xe9\xe9\xe9\xe9\xe9\xe9"
	    "\xe9\xe9\xe9\xe9\xe9\xe9\xe9\xe9\xe9\r\n", 32, small, err,
	    sizeof(err)) == -1);
	test_assert_streq(err, "the converted message is too large");
	buf_free(&in);
	buf_free(&b);
	buf_free(&small);
	buf_free(&big);
	test_end();
}

int
main(void)
{
	static void (*tests[])(void) = { test_text, test_multipart,
	    test_seven_bit, test_rfc822, test_headers, test_long_lines,
	    test_junk_and_cr, test_delimiters, test_charset, test_edges,
	    test_signed, test_limits, NULL };

	mta_7bit_init();
	mta_7bit_init();
	return test_run(tests);
}
