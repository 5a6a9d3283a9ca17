/* SPDX-License-Identifier: ISC */
/*
 * test_downgrade.c - the 7-bit header block for clients without
 * UTF8=ACCEPT (store/downgrade.c): 7-bit blocks left alone; Subject,
 * display names, IDN domains, non-ASCII local parts (empty groups),
 * groups, Return-Path and Delivered-To, ids, Content-Type and
 * Content-Disposition (RFC 2231); CRLF and LF blocks, blocks without the
 * empty line, folded fields, invalid UTF-8, folding of long values, the
 * limits and GMime's bombs.  Every new block is checked: 7-bit, no NUL,
 * no bare CR, lines within 998 bytes, and left alone by a second pass;
 * what it says is read back with GMime's decoders and parsers.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gmime/gmime.h>

#include "buf.h"
#include "meta.h"
#include "downgrade.h"
#include "test.h"
#include "banned.h"

#define SENTINEL	((struct buf *)0x1)
#define BOMB_SECONDS	10.0	/* under ASan on a busy machine: catches a
				   quadratic blow-up, not a slow run */

static char	*res;		/* the last new block, NUL-terminated */
static size_t	 reslen;

static double
now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The longest line of res, line ends not counted. */
static size_t
max_line(void)
{
	size_t	i, ls = 0, ll, max = 0;

	for (i = 0; i <= reslen; i++) {
		if (i < reslen && res[i] != '\n')
			continue;
		ll = i - ls;
		if (ll > 0 && res[i - 1] == '\r')
			ll--;
		if (ll > max)
			max = ll;
		ls = i + 1;
	}
	return max;
}

/* What every new block must be. */
static void
check_block(void)
{
	struct buf	*b = SENTINEL;
	size_t		 i;
	int		 bad = 0;

	for (i = 0; i < reslen; i++)
		if (res[i] == '\0' || (unsigned char)res[i] >= 0x80 ||
		    (res[i] == '\r' && res[i + 1] != '\n'))
			bad++;
	test_assert(bad == 0);
	test_assert(max_line() <= 998);
	test_assert(downgrade_header(res, reslen, &b) == 0);
	test_assert(b == SENTINEL);
}

/* downgrade_header on len bytes: the new block in res, checked. */
static int
dg_n(const char *in, size_t len)
{
	struct buf	*b = SENTINEL;
	int		 r;

	free(res);
	res = NULL;
	reslen = 0;
	r = downgrade_header(in, len, &b);
	if (r != 1) {
		test_assert(b == SENTINEL);
		return r;
	}
	test_assert(b != SENTINEL && b != NULL);
	if ((res = malloc(b->len + 1)) == NULL)
		abort();
	memcpy(res, b->data, b->len);
	res[b->len] = '\0';
	reslen = b->len;
	buf_free(&b);
	check_block();
	return r;
}

static int
dg(const char *in)
{
	return dg_n(in, strlen(in));
}

/*
 * The value of the first field called name (as written) in res,
 * unfolded, without the space after the colon; NULL when there is none.
 */
static const char *
value(const char *name)
{
	static char	 v[4 * 1024 * 1024];
	const char	*p = res;
	size_t		 nl = strlen(name), n = 0;

	if (p == NULL)
		return NULL;
	while (strncmp(p, name, nl) != 0 || p[nl] != ':') {
		if ((p = strchr(p, '\n')) == NULL)
			return NULL;
		p++;
	}
	p += nl + 1;
	if (*p == ' ')
		p++;
	for (; *p != '\0' && n + 1 < sizeof(v); p++) {
		if (*p == '\r' && p[1] == '\n')
			continue;
		if (*p == '\n') {
			if (p[1] == ' ' || p[1] == '\t')
				continue;
			break;
		}
		v[n++] = *p;
	}
	v[n] = '\0';
	return v;
}

/* GMime's decoding of an unstructured value: a static copy. */
static const char *
decoded(const char *v)
{
	static char	 d[4 * 1024 * 1024];
	char		*g;

	if (v == NULL)
		return NULL;
	g = g_mime_utils_header_decode_text(NULL, v);
	snprintf(d, sizeof(d), "%s", g);
	g_free(g);
	return d;
}

/* Does GMime (libidn2) write IDN domains in punycode here? */
static int
idn_works(void)
{
	InternetAddress	*ia;
	int		 ok;

	ia = internet_address_mailbox_new(NULL, "x@b\xc3\xbc" "cher.example");
	ok = strcmp(internet_address_mailbox_get_idn_addr(
	    (InternetAddressMailbox *)ia), "x@xn--bcher-kva.example") == 0;
	g_object_unref(ia);
	return ok;
}

/* Entry i of GMime's reading of an address value. */
static InternetAddress *
addr_at(InternetAddressList *l, int i)
{
	if (l == NULL || i >= internet_address_list_length(l))
		return NULL;
	return internet_address_list_get_address(l, i);
}

static int
is_group(InternetAddress *ia, const char *name, int nmembers)
{
	return ia != NULL && INTERNET_ADDRESS_IS_GROUP(ia) &&
	    strcmp(internet_address_get_name(ia), name) == 0 &&
	    internet_address_list_length(internet_address_group_get_members(
	    (InternetAddressGroup *)ia)) == nmembers;
}

static int
is_mailbox(InternetAddress *ia, const char *name, const char *addr)
{
	const char	*n;

	if (ia == NULL || !INTERNET_ADDRESS_IS_MAILBOX(ia))
		return 0;
	n = internet_address_get_name(ia);
	return strcmp(n != NULL ? n : "", name) == 0 &&
	    strcmp(internet_address_mailbox_get_addr(
	    (InternetAddressMailbox *)ia), addr) == 0;
}

static void
test_dg_7bit(void)
{
	static const char	 ok[] = "From: a@example.com\r\n"
				    "Subject: =?UTF-8?Q?caf=C3=A9?=\r\n\r\n";
	static const char	 odd[] = "X: a\0b\rc\n\nbody";
	struct buf		*b = SENTINEL;
	char			*big;
	size_t			 n = META_MAX_HDR_BLOCK + 10;

	test_begin("a 7-bit block is left alone, whatever it holds");
	test_assert(downgrade_header(ok, strlen(ok), &b) == 0);
	test_assert(b == SENTINEL);
	test_assert(downgrade_header("", 0, &b) == 0);
	test_assert(downgrade_header(odd, sizeof(odd) - 1, &b) == 0);
	if ((big = malloc(n)) == NULL)
		abort();
	memset(big, 'a', n);
	memcpy(big, "X: ", 3);
	test_assert(downgrade_header(big, n, &b) == 0);
	test_assert(b == SENTINEL);
	free(big);
	test_end();
}

static void
test_dg_subject(void)
{
	/* 'a' and then 3-byte characters: no B word of a multiple of 3 */
	static const char	 cjk[] = "a\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa"
	    "\x9e\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe6\x97\xa5\xe6\x9c\xac"
	    "\xe8\xaa\x9e\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe6\x97\xa5\xe6"
	    "\x9c\xac\xe8\xaa\x9e\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e";
	char			 in[2048], want[1024];
	int			 i;

	test_begin("Subject: UTF-8 as encoded-words that decode back");
	test_assert(dg("Subject: Gr\xc3\xbc\xc3\x9f" "e aus K\xc3\xb6ln\r\n"
	    "\r\n") == 1);
	test_assert_streq(res, "Subject: =?UTF-8?B?R3LDvMOfZQ==?= aus "
	    "=?UTF-8?B?S8O2bG4=?=\r\n\r\n");
	test_assert_streq(decoded(value("Subject")),
	    "Gr\xc3\xbc\xc3\x9f" "e aus K\xc3\xb6ln");

	/* longer than one word: GMime 3.2.13 decodes B runs as one */
	snprintf(want, sizeof(want), "%s", "");
	for (i = 0; i < 12; i++)
		strlcat(want, "\xc3\xbcn\xc3\xaf" "c\xc3\xb6" "d\xc3\xa9 ",
		    sizeof(want));
	strlcat(want, "end", sizeof(want));
	snprintf(in, sizeof(in), "Subject: %s\r\n\r\n", want);
	test_assert(dg(in) == 1);
	test_assert_streq(decoded(value("Subject")), want);
	test_assert(max_line() <= 78);

	snprintf(in, sizeof(in), "Subject: %s\n\n", cjk);
	test_assert(dg(in) == 1);
	test_assert_streq(decoded(value("Subject")), cjk);

	/* text that looks like an encoded-word stays that text */
	test_assert(dg("Subject: a =?utf-8?q?x?= \xc3\xa9  two\tblanks\n\n")
	    == 1);
	test_assert_streq(decoded(value("Subject")),
	    "a =?utf-8?q?x?= \xc3\xa9  two\tblanks");

	/* the name as written; other fields as any text */
	test_assert(dg("SUBJECT : \xc3\xa9\nX-Unknown: \xc3\xa9t\xc3\xa9\n"
	    "Received: from h\xc3\xb4te by x; Mon, 1 Jan 2024\n\n") == 1);
	test_assert(strncmp(res, "SUBJECT : =?UTF-8?", 18) == 0);
	test_assert_streq(decoded(value("X-Unknown")), "\xc3\xa9t\xc3\xa9");
	test_assert_streq(decoded(value("Received")),
	    "from h\xc3\xb4te by x; Mon, 1 Jan 2024");
	test_end();
}

static void
test_dg_from(void)
{
	InternetAddressList	*l;

	test_begin("From: an 8-bit display name as encoded-words");
	test_assert(dg("From: J\xc3\xb6rg M\xc3\xbcller <joerg@example.com>\r\n"
	    "\r\n") == 1);
	test_assert_streq(value("From"),
	    "=?UTF-8?B?SsO2cmcgTcO8bGxlcg==?= <joerg@example.com>");
	l = internet_address_list_parse(NULL, value("From"));
	test_assert(is_mailbox(addr_at(l, 0), "J\xc3\xb6rg M\xc3\xbcller",
	    "joerg@example.com"));
	g_object_unref(l);

	/* ASCII names beside it: atoms as they are, others quoted */
	test_assert(dg("To: \"Smith, J.\" <j@x.example>, Ann Lee <a@x.example>,"
	    " \xc3\x89lise <e@x.example>\n\n") == 1);
	test_assert_streq(value("To"), "\"Smith, J.\" <j@x.example>, "
	    "Ann Lee <a@x.example>, =?UTF-8?B?w4lsaXNl?= <e@x.example>");
	l = internet_address_list_parse(NULL, value("To"));
	test_assert(is_mailbox(addr_at(l, 0), "Smith, J.", "j@x.example"));
	test_assert(is_mailbox(addr_at(l, 2), "\xc3\x89lise", "e@x.example"));
	g_object_unref(l);
	test_end();
}

static void
test_dg_idn(void)
{
	InternetAddressList	*l;
	int			 idn = idn_works();

	test_begin("an IDN domain in punycode (GMime with libidn2)");
	printf("# GMime IDNA here: %s\n", idn ? "yes" : "no");
	test_assert(dg("To: Bob <bob@b\xc3\xbc" "cher.example>, "
	    "x@xn--bcher-kva.example\r\n\r\n") == 1);
	l = internet_address_list_parse(NULL, value("To"));
	if (idn) {
		test_assert_streq(value("To"),
		    "Bob <bob@xn--bcher-kva.example>, x@xn--bcher-kva.example");
	} else {
		/* no IDNA: the mailbox cannot be written, an empty group */
		test_assert(is_group(addr_at(l, 0),
		    "Bob <bob@b\xc3\xbc" "cher.example>", 0));
	}
	g_object_unref(l);
	test_end();
}

static void
test_dg_local(void)
{
	InternetAddressList	*l;

	test_begin("a non-ASCII local part: an empty group naming it");
	test_assert(dg("To: J\xc3\xb6rg <j\xc3\xb6rg@example.de>\r\n"
	    "Cc: a@b.example, \xc3\xb1@x.example\r\n"
	    "Bcc: \xc3\xa4\xc3\xa4\r\n\r\n") == 1);
	test_assert_streq(value("To"),
	    "=?UTF-8?B?SsO2cmcgPGrDtnJnQGV4YW1wbGUuZGU+?= :;");
	l = internet_address_list_parse(NULL, value("To"));
	test_assert(internet_address_list_length(l) == 1);
	test_assert(is_group(addr_at(l, 0),
	    "J\xc3\xb6rg <j\xc3\xb6rg@example.de>", 0));
	g_object_unref(l);
	l = internet_address_list_parse(NULL, value("Cc"));
	test_assert(is_mailbox(addr_at(l, 0), "", "a@b.example"));
	test_assert(is_group(addr_at(l, 1), "\xc3\xb1@x.example", 0));
	g_object_unref(l);
	/* no address at all: the text, in an empty group */
	l = internet_address_list_parse(NULL, value("Bcc"));
	test_assert(is_group(addr_at(l, 0), "\xc3\xa4\xc3\xa4", 0));
	g_object_unref(l);
	test_end();
}

static void
test_dg_groups(void)
{
	InternetAddressList	*l;
	InternetAddressList	*m;

	test_begin("groups keep their members; one that cannot moves out");
	test_assert(dg("To: Team: a@b.example, \xc3\x9cn\xc3\xaf "
	    "<\xc3\xbc@x.example>, \"Smith, J.\" <j@x.example>;, "
	    "plain@x.example\n\n") == 1);
	l = internet_address_list_parse(NULL, value("To"));
	test_assert(internet_address_list_length(l) == 3);
	test_assert(is_group(addr_at(l, 0), "Team", 2));
	m = internet_address_group_get_members(
	    (InternetAddressGroup *)addr_at(l, 0));
	test_assert(is_mailbox(addr_at(m, 0), "", "a@b.example"));
	test_assert(is_mailbox(addr_at(m, 1), "Smith, J.", "j@x.example"));
	test_assert(is_group(addr_at(l, 1),
	    "\xc3\x9cn\xc3\xaf <\xc3\xbc@x.example>", 0));
	test_assert(is_mailbox(addr_at(l, 2), "", "plain@x.example"));
	g_object_unref(l);

	/* empty groups; a group in a group joins the outer one */
	test_assert(dg("To: undisclosed-recipients:;, \xc3\xa9quipe: "
	    "inner: x@y.example;;\n\n") == 1);
	l = internet_address_list_parse(NULL, value("To"));
	test_assert(is_group(addr_at(l, 0), "undisclosed-recipients", 0));
	test_assert(is_group(addr_at(l, 1), "\xc3\xa9quipe", 1));
	g_object_unref(l);
	test_end();
}

static void
test_dg_paths(void)
{
	int	idn = idn_works();

	test_begin("Return-Path and Delivered-To");
	test_assert(dg("Return-Path: <j\xc3\xb6rg@example.de>\r\n"
	    "Delivered-To: j\xc3\xb6rg@example.de\r\nX: y\r\n\r\n") == 1);
	test_assert_streq(res, "Return-Path: <>\r\nX: y\r\n\r\n");
	test_assert(dg("Return-Path: <j@b\xc3\xbc" "cher.example>\r\n"
	    "Delivered-To: j@b\xc3\xbc" "cher.example\r\n\r\n") == 1);
	if (idn)
		test_assert_streq(res, "Return-Path: "
		    "<j@xn--bcher-kva.example>\r\n"
		    "Delivered-To: j@xn--bcher-kva.example\r\n\r\n");
	else
		test_assert_streq(res, "Return-Path: <>\r\n\r\n");
	test_end();
}

static void
test_dg_ids(void)
{
	test_begin("Message-ID and the other ids: dropped when 8-bit");
	test_assert(dg("Message-ID: <\xc3\xa9t\xc3\xa9@example.de>\r\n"
	    "In-Reply-To: <\xc3\xa9@x>\r\n"
	    "References: <a@x>\r\n <\xc3\xa9@x>\r\n"
	    "Content-ID: <\xc3\xa9@x>\r\nResent-Message-ID: <\xc3\xa9@x>\r\n"
	    "message-id: <ok@x>\r\nX: \xc3\xa9\r\n\r\n") == 1);
	test_assert_streq(res, "message-id: <ok@x>\r\nX: =?UTF-8?B?w6k=?=\r\n"
	    "\r\n");
	/* a 7-bit id that cannot be copied: unfolded, folded again */
	test_assert(dg("Message-ID: <a\rb@x>\nX: \xc3\xa9\n\n") == 1);
	test_assert_streq(value("Message-ID"), "<a b@x>");
	test_end();
}

static void
test_dg_params(void)
{
	GMimeContentType	*ct;
	GMimeContentDisposition	*cd;
	char			*v;
	static const char	 jp[] = "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e"
	    "\xe3\x81\xae\xe3\x83\x95\xe3\x82\xa1\xe3\x82\xa4\xe3\x83\xab\xe5"
	    "\x90\x8d.txt";
	char			 in[512];

	test_begin("Content-Type and -Disposition: RFC 2231 parameters");
	snprintf(in, sizeof(in), "Content-Type: text/plain; charset=utf-8;"
	    " name=\"r\xc3\xa9sum\xc3\xa9.pdf\"\r\nContent-Disposition: "
	    "attachment;\r\n filename=\"%s\"\r\n\r\n", jp);
	test_assert(dg(in) == 1);
	test_assert(strstr(res, "Content-Type: text/plain; charset=utf-8; "
	    "name*=") != NULL);
	test_assert(strstr(res, "filename*0*=") != NULL);
	test_assert(max_line() <= 78);
	ct = g_mime_content_type_parse(NULL, value("Content-Type"));
	test_assert_streq(g_mime_content_type_get_parameter(ct, "name"),
	    "r\xc3\xa9sum\xc3\xa9.pdf");
	test_assert_streq(g_mime_content_type_get_parameter(ct, "charset"),
	    "utf-8");
	g_object_unref(ct);
	cd = g_mime_content_disposition_parse(NULL,
	    value("Content-Disposition"));
	test_assert_streq(g_mime_content_disposition_get_disposition(cd),
	    "attachment");
	test_assert_streq(g_mime_content_disposition_get_parameter(cd,
	    "filename"), jp);
	g_object_unref(cd);

	/* an unreadable type: dropped; a bad parameter name: dropped */
	test_assert(dg("Content-Type: garbage \xc3\xa9\nContent-Disposition: "
	    "\xc3\xa9\nContent-Type: text/html; n\xc3\xa4me=1; a=\"\"; "
	    "b=\"x\xc3\xa9\"\n\n") == 1);
	test_assert_streq(res, "Content-Type: text/html; "
	    "b*=iso-8859-1''x%E9\n\n");
	/* a CR LF decoded from RFC 2231 stays out of the header */
	test_assert(dg("Content-Type: text/plain; name*=utf-8''a%0D%0Ab%09c;"
	    " x=\xc3\xa9\n\n") == 1);
	ct = g_mime_content_type_parse(NULL, value("Content-Type"));
	test_assert_streq(g_mime_content_type_get_parameter(ct, "name"),
	    "a  b c");
	g_object_unref(ct);
	v = strstr(res, "\n\n");
	test_assert(v != NULL && v[2] == '\0');
	test_end();
}

static void
test_dg_line_ends(void)
{
	test_begin("LF blocks, blocks without the empty line, folded input");
	/* LF only: LF out, other fields byte for byte */
	test_assert(dg("X-A: 1\n  folded\nSubject: \xc3\xa9\nX-B: 2\n\n") == 1);
	test_assert_streq(res, "X-A: 1\n  folded\nSubject: =?UTF-8?B?w6k=?=\n"
	    "X-B: 2\n\n");
	/* CRLF after a first CRLF line; a bare-LF field copied as it is */
	test_assert(dg("X-A: 1\r\nX-B: 2\nSubject: \xc3\xa9\n\r\n") == 1);
	test_assert_streq(res, "X-A: 1\r\nX-B: 2\nSubject: =?UTF-8?B?w6k=?="
	    "\r\n\r\n");
	/* no empty line, the last line without its line end */
	test_assert(dg("X-A: 1\r\nSubject: \xc3\xa9") == 1);
	test_assert_streq(res, "X-A: 1\r\nSubject: =?UTF-8?B?w6k=?=");
	test_assert(dg("Subject: \xc3\xa9\r\nX-A: 1") == 1);
	test_assert_streq(res, "Subject: =?UTF-8?B?w6k=?=\r\nX-A: 1");
	/* folded 8-bit field: unfolded, its blanks kept */
	test_assert(dg("Subject: Gr\xc3\xbc\xc3\x9f" "e\r\n aus\r\n"
	    "\tK\xc3\xb6ln\r\nX-Long: a\r\n b\r\n\r\n") == 1);
	test_assert_streq(decoded(value("Subject")),
	    "Gr\xc3\xbc\xc3\x9f" "e aus\tK\xc3\xb6ln");
	test_assert(strstr(res, "\r\nX-Long: a\r\n b\r\n\r\n") != NULL);
	test_end();
}

static void
test_dg_invalid(void)
{
	static const char	 nul[] = "X: a\0b\nY: bare\rcr\nZ: \xc3\xa9\n";
	InternetAddressList	*l;

	test_begin("invalid UTF-8 read as ISO-8859-1; broken lines");
	test_assert(dg("Subject: caf\xe9 cr\xe8me\r\n"
	    "From: J\xf6rg <j@x.example>\r\n\r\n") == 1);
	test_assert_streq(decoded(value("Subject")),
	    "caf\xc3\xa9 cr\xc3\xa8me");
	l = internet_address_list_parse(NULL, value("From"));
	test_assert(is_mailbox(addr_at(l, 0), "J\xc3\xb6rg", "j@x.example"));
	g_object_unref(l);
	/* a line that is no field: kept when 7-bit, else dropped */
	test_assert(dg(" leading\nS\xc3\xbc" "bject: x\n\tmore\nFrom x\n"
	    "To: a@b\n\n") == 1);
	test_assert_streq(res, " leading\nFrom x\nTo: a@b\n\n");
	/* NUL, bare CR, a long line in a 7-bit field of an 8-bit block */
	test_assert(dg_n(nul, sizeof(nul) - 1) == 1);
	test_assert_streq(res, "X: a\nY: bare cr\nZ: =?UTF-8?B?w6k=?=\n");
	/* an empty value; blanks alone after the colon */
	test_assert(dg("Subject:\nX: \xc3\xa9\nY:   \n\n") == 1);
	test_assert_streq(res, "Subject:\nX: =?UTF-8?B?w6k=?=\nY:   \n\n");
	test_end();
}

static void
test_dg_long(void)
{
	InternetAddressList	*l;
	char			*in, *want, *p;
	size_t			 cap = 64 * 1024;
	int			 i, ok = 1;

	test_begin("long values folded under 78 and 998");
	if ((in = malloc(cap)) == NULL || (want = malloc(cap)) == NULL)
		abort();
	/* a long text of words, some long */
	want[0] = '\0';
	for (i = 0; i < 60; i++)
		strlcat(want, i % 7 == 3 ? "http://example.com/a/very/long/"
		    "path/that/goes/on/and/on/and/on/for/ever/and/ever/"
		    "index.html " : "na\xc3\xafve caf\xc3\xa9 ", cap);
	strlcat(want, "end", cap);
	snprintf(in, cap, "Subject: %s\r\n\r\n", want);
	test_assert(dg(in) == 1);
	test_assert(max_line() <= 78);
	test_assert_streq(decoded(value("Subject")), want);

	/* a word far longer than a line */
	memset(want, 'x', 3000);
	memcpy(want, "\xc3\xa9 ", 3);
	want[3000] = '\0';
	snprintf(in, cap, "Subject: %s\n\n", want);
	test_assert(dg(in) == 1);
	test_assert(max_line() <= 78);
	test_assert_streq(decoded(value("Subject")), want);

	/* 100 addresses */
	p = in + snprintf(in, cap, "To: ");
	for (i = 0; i < 100; i++)
		p += snprintf(p, cap - (size_t)(p - in), "%sR\xc3\xa9my %d "
		    "<remy%d@example.com>", i > 0 ? ", " : "", i, i);
	snprintf(p, cap - (size_t)(p - in), "\r\n\r\n");
	test_assert(dg(in) == 1);
	test_assert(max_line() <= 78);
	l = internet_address_list_parse(NULL, value("To"));
	test_assert(internet_address_list_length(l) == 100);
	for (i = 0; i < 100; i++) {
		snprintf(want, cap, "remy%d@example.com", i);
		snprintf(in, cap, "R\xc3\xa9my %d", i);
		ok &= is_mailbox(addr_at(l, i), in, want);
	}
	test_assert(ok);
	g_object_unref(l);

	/* a name too long for a line: the field cannot be written */
	memset(in, 'X', 1000);
	snprintf(in + 1000, cap - 1000, ": \xc3\xa9\nY: \xc3\xa9\n\n");
	test_assert(dg(in) == 1);
	test_assert_streq(res, "Y: =?UTF-8?B?w6k=?=\n\n");
	free(in);
	free(want);
	test_end();
}

static void
test_dg_limits(void)
{
	char	*in, *p;
	size_t	 cap = META_MAX_HDR_BLOCK + 4096;
	int	 i;

	test_begin("limits: block size, fields, bytes after the header");
	if ((in = malloc(cap)) == NULL)
		abort();
	memset(in, 'a', cap);
	memcpy(in, "Subject: \xc3\xa9", 11);
	in[META_MAX_HDR_BLOCK - 1] = '\n';
	test_assert(dg_n(in, META_MAX_HDR_BLOCK) == 1);
	test_assert(dg_n(in, META_MAX_HDR_BLOCK + 1) == -1);

	p = in;
	for (i = 0; i < META_MAX_HDR_FIELDS; i++)
		p += snprintf(p, cap - (size_t)(p - in), "X%d: \xc3\xa9\n", i);
	test_assert(dg_n(in, (size_t)(p - in)) == 1);
	p += snprintf(p, cap - (size_t)(p - in), "Y: 1\n");
	test_assert(dg_n(in, (size_t)(p - in)) == -1);

	test_assert(dg("X: \xc3\xa9\n\nbody") == -1);
	test_assert(dg("X: \xc3\xa9\n\n\n") == -1);
	free(in);
	test_end();
}

static void
test_dg_bombs(void)
{
	char	*in, *p;
	size_t	 cap = META_MAX_HDR_BLOCK, n;
	double	 t, worst = 0;
	int	 k, i;

	test_begin("GMime's bombs: nesting, addresses, IDNA, parameters");
	if ((in = malloc(cap + 1)) == NULL)
		abort();
	for (k = 0; k < 6; k++) {
		p = in + snprintf(in, cap, "%s", k == 5 ? "Content-Type: "
		    "text/plain" : "To: ");
		n = cap - 64;
		for (i = 0; (size_t)(p - in) < n; i++) {
			switch (k) {
			case 0:		/* groups in groups */
				p += snprintf(p, 8, "g: ");
				break;
			case 1:		/* addresses */
				p += snprintf(p, 64, "N\xc3\xa9%d "
				    "<a%d@b\xc3\xbc.example>, ", i, i);
				break;
			case 2:		/* one domain for IDNA */
			case 3:		/* one local part */
				p += snprintf(p, 8, "%s", i == 0 && k == 2 ?
				    "x@" : "\xc3\xbc");
				break;
			case 4:		/* comments */
				*p++ = '(';
				break;
			default:	/* parameters */
				p += snprintf(p, 64, "; n%d=\"\xc3\xa9%d\"", i,
				    i);
				break;
			}
		}
		p += snprintf(p, 16, "\xc3\xa9\n\n");
		t = now();
		test_assert(dg_n(in, (size_t)(p - in)) == 1);
		t = now() - t;
		if (t > worst)
			worst = t;
	}
	printf("# slowest: %.3f s\n", worst);
	test_assert(worst < BOMB_SECONDS);
	free(in);
	test_end();
}

int
main(void)
{
	static void	(*tests[])(void) = {
		test_dg_7bit,
		test_dg_subject,
		test_dg_from,
		test_dg_idn,
		test_dg_local,
		test_dg_groups,
		test_dg_paths,
		test_dg_ids,
		test_dg_params,
		test_dg_line_ends,
		test_dg_invalid,
		test_dg_long,
		test_dg_limits,
		test_dg_bombs,
		NULL
	};
	int		 r;

	meta_init();
	r = test_run(tests);
	free(res);
	return r;
}
