/* SPDX-License-Identifier: ISC */
/*
 * test_meta.c - the metadata builder and its record (store/meta*.c):
 * ENVELOPE and BODYSTRUCTURE fields of hand-written messages, RFC 2047 in
 * four charsets, groups, 8-bit and NUL in headers, broken boundaries;
 * every part's offsets checked against GMime's own parser on those and on
 * Python's test messages (RECIPES.md 8); the bombs of SECURITY-TESTS.md
 * T35-T36 (finish fast, flagged); encode/decode round trips, and every
 * truncation of every record refused.
 *
 * META_TEST_MSG_DIR names another folder of msg_*.txt files.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "meta.h"
#include "test.h"
#include "banned.h"

#define MSG_DIR		"/usr/lib/python3.11/test/test_email/data"
#define REF_MAX		4096		/* parts compared with GMime's */
#define BOMB_SECONDS	10.0		/* T35/T36: per message, under ASan, on a
					 * busy machine: catches a quadratic
					 * blow-up (minutes), not a slow run */

static char	err[256];
static char	(*ref_types)[128];
static int64_t	*ref_starts, *ref_ends;

static double
now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct meta *
build(const char *msg)
{
	return meta_build((const unsigned char *)msg, strlen(msg), err,
	    sizeof(err));
}

/* The bytes [s, e) of msg are exactly want. */
static int
range_is(const char *msg, uint64_t s, uint64_t e, const char *want)
{
	return e >= s && e - s == strlen(want) &&
	    memcmp(msg + s, want, (size_t)(e - s)) == 0;
}

/* Offset of the first occurrence of needle in msg (which must be there). */
static uint64_t
at(const char *msg, const char *needle)
{
	const char	*p = strstr(msg, needle);

	if (p == NULL) {
		printf("# test bug: \"%s\" not found\n", needle);
		abort();
	}
	return (uint64_t)(p - msg);
}

static const char *
param(const struct meta_param *v, uint32_t n, const char *name)
{
	uint32_t	i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i].name, name) == 0)
			return v[i].value;
	return NULL;
}

/*
 * Encode, decode, encode again: the same bytes; every strict prefix of
 * the record refused (all of them when small, a sample when large).
 */
static int
roundtrip(const struct meta *m)
{
	struct buf	*b1 = buf_new(META_MAX_OUTPUT), *b2;
	struct meta	*d;
	size_t		 n, step;
	int		 ok = 1;

	if (meta_encode(m, b1) == -1) {
		printf("# encode failed\n");
		buf_free(&b1);
		return 0;
	}
	if (b1->len > META_MAX_OUTPUT || b1->data[0] != META_VERSION)
		ok = 0;
	if ((d = meta_decode(b1->data, b1->len, err, sizeof(err))) == NULL) {
		printf("# decode failed: %s\n", err);
		buf_free(&b1);
		return 0;
	}
	b2 = buf_new(META_MAX_OUTPUT);
	if (meta_encode(d, b2) == -1 || b2->len != b1->len ||
	    memcmp(b1->data, b2->data, b1->len) != 0) {
		printf("# re-encoding differs\n");
		ok = 0;
	}
	meta_free(d);
	step = b1->len < 8192 ? 1 : b1->len / 997;
	for (n = 0; n < b1->len; n += step) {
		errno = 0;
		if ((d = meta_decode(b1->data, n, err, sizeof(err))) != NULL ||
		    errno != EBADMSG) {
			printf("# prefix of %zu bytes accepted\n", n);
			meta_free(d);
			ok = 0;
			break;
		}
	}
	buf_free(&b1);
	buf_free(&b2);
	return ok;
}

/*
 * The record's own invariants, and its parts against GMime's reading of
 * the message (same types in document order, same leaf bodies) when
 * nothing was flagged.  mismatch_ok: known differences (see
 * meta_build.c) are reported, not failed.
 */
static int
check_parts(const unsigned char *msg, size_t len, const struct meta *m,
    int mismatch_ok)
{
	const struct meta_part	*p;
	char			 t[300], num[256];
	uint32_t		 i, idx;
	int			 n, ok = 1, flagged = m->flags != 0;

	for (i = 0; i < m->nparts; i++) {
		p = &m->parts[i];
		if (p->hdr_start > p->body_start ||
		    p->body_start > p->body_end || p->body_end > len) {
			printf("# part %u offsets out of order\n", i);
			ok = 0;
		}
		if (p->flags & ~(uint32_t)META_PART_UNTERMINATED)
			flagged = 1;
		if (meta_part_number(m, i, num, sizeof(num)) == 1 &&
		    (meta_part_find(m, num, &idx) != 1 || idx != i)) {
			printf("# part %u: number %s finds another\n", i, num);
			ok = 0;
		}
	}
	/* unparsable exactly when GMime cannot parse it */
	if (m->flags & META_UNPARSABLE) {
		if (meta_gmime_reference(msg, len, ref_types, ref_starts,
		    ref_ends, REF_MAX) >= 0) {
			printf("# unparsable, but GMime parses it\n");
			ok = 0;
		}
		return ok;
	}
	if (flagged)
		return ok;
	if ((n = meta_gmime_reference(msg, len, ref_types, ref_starts,
	    ref_ends, REF_MAX)) < 0) {
		printf("# GMime cannot parse what the builder did\n");
		return 0;
	}
	if ((uint32_t)n != m->nparts) {
		printf("# %u parts, GMime %d\n", m->nparts, n);
		return mismatch_ok ? ok : 0;
	}
	for (i = 0; i < m->nparts && i < REF_MAX; i++) {
		p = &m->parts[i];
		snprintf(t, sizeof(t), "%s/%s", p->type, p->subtype);
		/* meta_build.c: RFC 2045 5.2 where GMime says octet-stream */
		if (strcmp(t, "text/plain") == 0 &&
		    strcmp(ref_types[i], "application/octet-stream") == 0)
			printf("# part %u: %s, GMime %s (unreadable "
			    "Content-Type)\n", i, t, ref_types[i]);
		else if (strcmp(t, ref_types[i]) != 0) {
			printf("# part %u: %s, GMime %s\n", i, t, ref_types[i]);
			if (!mismatch_ok)
				ok = 0;
			continue;
		}
		if (ref_starts[i] >= 0 && ((uint64_t)ref_starts[i] !=
		    p->body_start || (uint64_t)ref_ends[i] != p->body_end)) {
			printf("# part %u body [%llu, %llu), GMime [%lld, "
			    "%lld)\n", i, (unsigned long long)p->body_start,
			    (unsigned long long)p->body_end,
			    (long long)ref_starts[i], (long long)ref_ends[i]);
			if (!mismatch_ok)
				ok = 0;
		}
	}
	return ok;
}

static int
check_all(const char *msg, const struct meta *m)
{
	return check_parts((const unsigned char *)msg, strlen(msg), m, 0) &&
	    roundtrip(m);
}

static void
test_meta_simple(void)
{
	const char	*msg =
	    "From: Alice Example <alice@example.org>\r\n"
	    "To: bob@example.net\r\n"
	    "Subject: Hello\r\n"
	    " world\r\n"
	    "Date: Tue, 1 Jul 2003 10:52:37 +0200\r\n"
	    "Message-ID: <1@example.org>\r\n"
	    "\r\n"
	    "Hi Bob,\r\n"
	    "bye\r\n";
	struct meta		*m = build(msg);
	const struct meta_part	*p = &m->parts[0];
	const struct meta_envelope *e = p->env;
	uint64_t		 s, en;
	char			 num[16];

	test_begin("a simple text message");
	test_assert(m->flags == 0 && m->nparts == 1 && m->size == strlen(msg));
	test_assert_streq(err, "");
	test_assert_streq(p->type, "text");
	test_assert_streq(p->subtype, "plain");
	test_assert(p->nparams == 1);
	test_assert_streq(param(p->params, p->nparams, "charset"), "us-ascii");
	test_assert(p->encoding == NULL && p->id == NULL &&
	    p->disposition == NULL);
	test_assert(p->hdr_start == 0 && p->body_start == at(msg, "Hi Bob"));
	test_assert(p->body_end == strlen(msg) && p->lines == 2);
	test_assert(e != NULL);
	test_assert_streq(e->subject, "Hello world");
	test_assert_streq(e->date, "Tue, 1 Jul 2003 10:52:37 +0200");
	test_assert_streq(e->message_id, "<1@example.org>");
	test_assert(e->in_reply_to == NULL && e->cc.n == 0 &&
	    e->sender.n == 0);
	test_assert(e->from.n == 1 && e->from.v[0].kind == META_ADDR_MAILBOX);
	test_assert_streq(e->from.v[0].name, "Alice Example");
	test_assert(e->from.v[0].name_enc == NULL);
	test_assert_streq(e->from.v[0].mailbox, "alice");
	test_assert_streq(e->from.v[0].host, "example.org");
	test_assert(e->to.n == 1 && e->to.v[0].name == NULL);
	test_assert_streq(m->subject, "Hello world");
	test_assert_streq(m->from, "Alice Example <alice@example.org>");
	test_assert_streq(m->to, "bob@example.net");
	test_assert(m->cc == NULL && m->bcc == NULL);
	test_assert(m->has_date && m->date == 1057049557 &&
	    m->date_zone == 120);
	test_assert(m->nnames == 5);
	if (m->nnames == 5) {
		test_assert_streq(m->names[0], "from");
		test_assert_streq(m->names[4], "message-id");
	}
	test_assert(meta_part_number(m, 0, num, sizeof(num)) == 1);
	test_assert_streq(num, "1");
	test_assert(meta_section_range(m, "", META_SECTION_HEADER, &s, &en) ==
	    1 && s == 0 && en == p->body_start);
	test_assert(meta_section_range(m, "1", META_SECTION_BODY, &s, &en) ==
	    1 && range_is(msg, s, en, "Hi Bob,\r\nbye\r\n"));
	test_assert(meta_section_range(m, "", META_SECTION_BODY, &s, &en) ==
	    1 && s == 0 && en == strlen(msg));
	test_assert(meta_section_range(m, "1", META_SECTION_HEADER, &s, &en) ==
	    0);
	test_assert(meta_section_range(m, "2", META_SECTION_BODY, &s, &en) ==
	    0);
	test_assert(check_all(msg, m));
	meta_free(m);
	test_end();
}

static void
test_meta_alternative(void)
{
	const char	*msg =
	    "From: a@example.org\r\n"
	    "Subject: alt\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: multipart/alternative; boundary=\"XyZ\"\r\n"
	    "\r\n"
	    "preamble\r\n"
	    "--XyZ\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "\r\n"
	    "plain body\r\n"
	    "--XyZ\r\n"
	    "Content-Type: text/html; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n"
	    "\r\n"
	    "<p>html</p>\r\n"
	    "--XyZ--\r\n"
	    "epilogue\r\n";
	struct meta		*m = build(msg);
	const struct meta_part	*p;
	uint64_t		 s, e;

	test_begin("multipart/alternative: parts, MIME headers, bodies");
	test_assert(m->flags == 0 && m->nparts == 3);
	if (m->nparts != 3)
		goto out;
	p = &m->parts[0];
	test_assert(meta_part_is_multipart(p) && p->nchildren == 2);
	test_assert_streq(p->subtype, "alternative");
	test_assert_streq(param(p->params, p->nparams, "boundary"), "XyZ");
	test_assert(p->body_start == at(msg, "preamble") &&
	    p->body_end == strlen(msg) && p->lines == 0 && p->flags == 0);
	test_assert(meta_part_child(m, 0, 1) == 1 &&
	    meta_part_child(m, 0, 2) == 2 && meta_part_child(m, 0, 3) ==
	    META_NONE);
	p = &m->parts[1];
	test_assert_streq(p->type, "text");
	test_assert_streq(param(p->params, p->nparams, "charset"), "utf-8");
	test_assert(range_is(msg, p->hdr_start, p->body_start,
	    "Content-Type: text/plain; charset=utf-8\r\n\r\n"));
	test_assert(range_is(msg, p->body_start, p->body_end, "plain body"));
	test_assert(p->lines == 1 && p->env == NULL && p->parent == 0);
	p = &m->parts[2];
	test_assert_streq(p->subtype, "html");
	test_assert_streq(p->encoding, "quoted-printable");
	test_assert(range_is(msg, p->body_start, p->body_end, "<p>html</p>"));
	test_assert(meta_section_range(m, "2", META_SECTION_MIME, &s, &e) ==
	    1 && s == p->hdr_start && e == p->body_start);
	test_assert(meta_section_range(m, "2", META_SECTION_BODY, &s, &e) ==
	    1 && range_is(msg, s, e, "<p>html</p>"));
	test_assert(meta_section_range(m, "", META_SECTION_TEXT, &s, &e) ==
	    1 && s == at(msg, "preamble") && e == strlen(msg));
	test_assert(check_all(msg, m));
out:
	meta_free(m);
	test_end();
}

static void
test_meta_nested(void)
{
	const char	*msg =
	    "From: a@example.org\n"
	    "To: b@example.net\n"
	    "Subject: nested\n"
	    "Content-Type: multipart/mixed; boundary=outer\n"
	    "\n"
	    "--outer\n"
	    "Content-Type: multipart/alternative; boundary=inner\n"
	    "\n"
	    "--inner\n"
	    "Content-Type: text/plain\n"
	    "\n"
	    "inner plain\n"
	    "--inner\n"
	    "Content-Type: text/html\n"
	    "\n"
	    "<b>inner html</b>\n"
	    "--inner--\n"
	    "\n"
	    "--outer\n"
	    "Content-Type: message/rfc822\n"
	    "Content-Disposition: attachment; filename=\"fwd.eml\"\n"
	    "Content-Language: en, de\n"
	    "\n"
	    "From: Carol <carol@example.com>\n"
	    "Subject: =?UTF-8?B?w6nDqQ==?=\n"
	    "Content-Type: multipart/mixed; boundary=deep\n"
	    "\n"
	    "--deep\n"
	    "Content-Type: text/plain\n"
	    "\n"
	    "deep text\n"
	    "--deep\n"
	    "Content-Type: application/pdf; name=x.pdf\n"
	    "Content-Transfer-Encoding: base64\n"
	    "\n"
	    "JVBERi0=\n"
	    "--deep--\n"
	    "--outer--\n";
	static const char	*types[] = {
		"multipart/mixed", "multipart/alternative", "text/plain",
		"text/html", "message/rfc822", "multipart/mixed",
		"text/plain", "application/pdf"
	};
	static const char	*nums[] = {
		NULL, "1", "1.1", "1.2", "2", NULL, "2.1", "2.2"
	};
	struct meta		*m = build(msg);
	const struct meta_part	*p;
	char			 t[300], num[64];
	uint64_t		 s, e;
	uint32_t		 i, idx;

	test_begin("nested multiparts and an attached message/rfc822");
	test_assert(m->flags == 0 && m->nparts == 8);
	if (m->nparts != 8)
		goto out;
	for (i = 0; i < 8; i++) {
		p = &m->parts[i];
		snprintf(t, sizeof(t), "%s/%s", p->type, p->subtype);
		test_assert_streq(t, types[i]);
		if (nums[i] == NULL)
			test_assert(meta_part_number(m, i, num,
			    sizeof(num)) == 0);
		else {
			test_assert(meta_part_number(m, i, num,
			    sizeof(num)) == 1);
			test_assert_streq(num, nums[i]);
			test_assert(meta_part_find(m, nums[i], &idx) == 1 &&
			    idx == i);
		}
	}
	test_assert(m->parts[4].nchildren == 1 && m->parts[5].env != NULL &&
	    m->parts[4].env == NULL && m->parts[1].env == NULL);
	test_assert(m->parts[7].depth == 3 && m->parts[5].parent == 4);
	test_assert(range_is(msg, m->parts[2].body_start, m->parts[2].body_end,
	    "inner plain"));
	test_assert(range_is(msg, m->parts[6].body_start, m->parts[6].body_end,
	    "deep text"));
	test_assert(range_is(msg, m->parts[7].body_start, m->parts[7].body_end,
	    "JVBERi0="));
	test_assert(m->parts[1].body_end == at(msg, "--inner--\n") + 10);
	/* the enclosed message spans its part's body */
	p = &m->parts[4];
	test_assert(p->body_start == at(msg, "From: Carol") &&
	    p->body_end == at(msg, "--deep--\n") + 8);
	test_assert(m->parts[5].hdr_start == p->body_start &&
	    m->parts[5].body_end == p->body_end);
	test_assert(p->lines == 14);
	test_assert_streq(p->disposition, "attachment");
	test_assert_streq(param(p->dparams, p->ndparams, "filename"),
	    "fwd.eml");
	test_assert(p->nlanguage == 2);
	if (p->nlanguage == 2) {
		test_assert_streq(p->language[0], "en");
		test_assert_streq(p->language[1], "de");
	}
	test_assert_streq(m->parts[5].env->subject, "=?UTF-8?B?w6nDqQ==?=");
	test_assert(m->parts[5].env->from.n == 1);
	test_assert_streq(m->parts[5].env->from.v[0].name, "Carol");
	test_assert_streq(m->subject, "nested");
	test_assert_streq(param(m->parts[7].params, m->parts[7].nparams,
	    "name"), "x.pdf");
	test_assert(meta_section_range(m, "2", META_SECTION_HEADER, &s, &e) ==
	    1 && s == at(msg, "From: Carol") && e == at(msg, "--deep\n"));
	test_assert(meta_section_range(m, "2", META_SECTION_TEXT, &s, &e) ==
	    1 && s == at(msg, "--deep\n") && e == m->parts[4].body_end);
	test_assert(meta_section_range(m, "2.1", META_SECTION_MIME, &s, &e) ==
	    1 && range_is(msg, s, e, "Content-Type: text/plain\n\n"));
	test_assert(meta_section_range(m, "1.2", META_SECTION_HEADER, &s,
	    &e) == 0);
	test_assert(meta_part_find(m, "3", &idx) == 0);
	test_assert(meta_part_find(m, "2.3", &idx) == 0);
	test_assert(meta_part_find(m, "1.1.1", &idx) == 0);
	test_assert(check_all(msg, m));
out:
	meta_free(m);
	test_end();
}

static void
test_meta_rfc2047(void)
{
	static const struct {
		const char	*raw;
		const char	*decoded;
	} cases[] = {
		{ "=?ISO-8859-1?Q?Gr=FC=DFe_aus_K=F6ln?=",
		    "Gr\xc3\xbc\xc3\x9f" "e aus K\xc3\xb6ln" },
		{ "=?KOI8-R?B?8NLJ18XUIM3J0g==?=",
		    "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82 "
		    "\xd0\xbc\xd0\xb8\xd1\x80" },
		{ "=?Shift_JIS?B?grGC8YLJgr+CzQ==?=",
		    "\xe3\x81\x93\xe3\x82\x93\xe3\x81\xab\xe3\x81\xa1"
		    "\xe3\x81\xaf" },
		{ "=?UTF-8?B?w4dhIHZhPyDwn5iAIG9r?=",
		    "\xc3\x87" "a va? \xf0\x9f\x98\x80 ok" },
		{ "x =?utf-8?q?=C3=A9?= =?utf-8?q?t=C3=A9?= y",
		    "x \xc3\xa9t\xc3\xa9 y" },
		{ "=?unknown-charset?Q?abc?=", NULL },
	};
	char		 msg[1024];
	struct meta	*m;
	size_t		 i;

	test_begin("RFC 2047 subjects and names in four charsets");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(msg, sizeof(msg), "From: %s <x@example.org>\r\n"
		    "Subject: %s\r\n\r\nbody\r\n", cases[i].raw, cases[i].raw);
		m = build(msg);
		test_assert(m->flags == 0);
		test_assert_streq(m->parts[0].env->subject, cases[i].raw);
		if (cases[i].decoded != NULL) {
			test_assert_streq(m->subject, cases[i].decoded);
			test_assert(m->parts[0].env->from.n == 1);
			test_assert_streq(m->parts[0].env->from.v[0].name,
			    cases[i].decoded);
			/* ENVELOPE gets 7-bit text that decodes the same */
			test_assert(m->parts[0].env->from.v[0].name_enc !=
			    NULL);
		} else
			test_assert(m->subject != NULL);
		test_assert(check_all(msg, m));
		meta_free(m);
	}
	test_end();
}

static void
test_meta_groups(void)
{
	const char	*msg =
	    "From: a@example.org\r\n"
	    "To: undisclosed-recipients:;\r\n"
	    "Cc: Friends: a@x.org, \"B, b\" <b@y.org>;, c@z.org\r\n"
	    "Bcc: one@example.org\r\n"
	    "Bcc: two@example.org\r\n"
	    "\r\n"
	    "x\r\n";
	struct meta			*m = build(msg);
	const struct meta_envelope	*e = m->parts[0].env;

	test_begin("group syntax and repeated address fields");
	test_assert(m->flags == 0);
	test_assert(e->to.n == 2);
	if (e->to.n == 2) {
		test_assert(e->to.v[0].kind == META_ADDR_GROUP_START);
		test_assert_streq(e->to.v[0].name, "undisclosed-recipients");
		test_assert(e->to.v[0].mailbox == NULL &&
		    e->to.v[0].host == NULL);
		test_assert(e->to.v[1].kind == META_ADDR_GROUP_END &&
		    e->to.v[1].name == NULL);
	}
	test_assert(e->cc.n == 5);
	if (e->cc.n == 5) {
		test_assert(e->cc.v[0].kind == META_ADDR_GROUP_START);
		test_assert_streq(e->cc.v[0].name, "Friends");
		test_assert_streq(e->cc.v[2].name, "B, b");
		test_assert_streq(e->cc.v[2].host, "y.org");
		test_assert(e->cc.v[3].kind == META_ADDR_GROUP_END);
		test_assert_streq(e->cc.v[4].mailbox, "c");
	}
	test_assert(e->bcc.n == 2);
	test_assert_streq(m->bcc, "one@example.org, two@example.org");
	test_assert(m->to != NULL && strstr(m->to, "undisclosed") != NULL);
	test_assert(check_all(msg, m));
	meta_free(m);
	test_end();
}

static void
test_meta_8bit(void)
{
	static const char	 raw[] =
	    "From: J\xc3\xb6rg <j@x.de>\r\n"
	    "Subject: caf\xe9 ol\0e\r\n"
	    "X-N\0ul: v\r\n"
	    "X-Ok: 1\r\n"
	    "To: \"\x01" "ctl\" <c@x.de>\r\n"
	    "\r\n"
	    "b\0dy\r\n";
	struct meta		*m;
	const struct meta_envelope *e;
	uint32_t		 i;

	test_begin("8-bit and NUL bytes in headers");
	m = meta_build((const unsigned char *)raw, sizeof(raw) - 1, err,
	    sizeof(err));
	e = m->parts[0].env;
	test_assert(m->flags == 0 && m->nparts == 1);
	test_assert_streq(e->subject, "caf\xe9 ol");	/* a NUL ends it */
	test_assert_streq(m->subject, "caf\xc3\xa9 ol");
	test_assert(e->from.n == 1);
	test_assert_streq(e->from.v[0].name, "J\xc3\xb6rg");
	test_assert(e->from.v[0].name_enc != NULL &&
	    strstr(e->from.v[0].name_enc, "=?") != NULL);
	/* a NUL in a name: not a field */
	for (i = 0; i < m->nnames; i++)
		test_assert(strncmp(m->names[i], "x-n", 3) != 0 ||
		    strcmp(m->names[i], "x-ok") == 0);
	test_assert(m->nnames == 4);
	test_assert(m->parts[0].body_end == sizeof(raw) - 1);
	test_assert(check_parts((const unsigned char *)raw, sizeof(raw) - 1,
	    m, 0) && roundtrip(m));
	meta_free(m);
	test_end();
}

static void
test_meta_broken(void)
{
	const char	*nob =
	    "Content-Type: multipart/mixed\r\n\r\n"
	    "--foo\r\n\r\nx\r\n--foo--\r\n";
	const char	*open =
	    "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
	    "--b\r\n\r\none\r\n--b\r\nContent-Type: text/html\r\n\r\ntwo\r\n";
	const char	*empty =
	    "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
	    "no part at all\r\n";
	const char	*cut =
	    "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
	    "--b\r\nContent-Type: text/plain\r\n--b\r\n--b\r\n\r\nz\r\n"
	    "--b--\r\n";
	const char	*parent =
	    "Content-Type: multipart/mixed; boundary=o\r\n\r\n--o\r\n"
	    "Content-Type: multipart/mixed; boundary=i\r\n\r\n--i\r\n\r\n"
	    "in\r\n--o\r\n\r\nout\r\n--o--\r\n";
	const char	*msg822 =
	    "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
	    "Content-Type: message/rfc822\r\n--b\r\n"
	    "Content-Type: message/rfc822\r\nContent-Transfer-Encoding: "
	    "base64\r\n\r\nRnJvbTogYQ==\r\n--b--\r\n";
	const char	*garbage = "\x01\x02 binary\r\n\r\n";
	struct meta	*m;

	test_begin("missing and broken boundaries, unparsable messages");
	m = build(nob);
	test_assert(m->nparts == 1 && m->flags == 0);
	test_assert_streq(m->parts[0].type, "text");
	test_assert(m->parts[0].flags == META_PART_NO_CHILDREN &&
	    m->parts[0].nparams == 0);
	test_assert(range_is(nob, m->parts[0].body_start, m->parts[0].body_end,
	    "--foo\r\n\r\nx\r\n--foo--\r\n"));
	test_assert(check_all(nob, m));
	meta_free(m);

	m = build(open);
	test_assert(m->nparts == 3 &&
	    m->parts[0].flags == META_PART_UNTERMINATED);
	test_assert(range_is(open, m->parts[1].body_start, m->parts[1].body_end,
	    "one"));
	test_assert(range_is(open, m->parts[2].body_start, m->parts[2].body_end,
	    "two\r\n"));
	test_assert(check_all(open, m));
	meta_free(m);

	m = build(empty);
	test_assert(m->nparts == 1 && m->parts[0].flags ==
	    (META_PART_NO_CHILDREN | META_PART_UNTERMINATED));
	test_assert(check_all(empty, m));
	meta_free(m);

	/* a header cut by a boundary; an empty one is no part (GMime) */
	m = build(cut);
	test_assert(m->nparts == 3);
	if (m->nparts == 3) {
		test_assert(m->parts[1].body_start == m->parts[1].body_end &&
		    m->parts[1].body_start == at(cut, "plain") + 5);
		test_assert(range_is(cut, m->parts[2].body_start,
		    m->parts[2].body_end, "z"));
	}
	test_assert(check_all(cut, m));
	meta_free(m);

	/* the parent's boundary ends the child multipart */
	m = build(parent);
	test_assert(m->nparts == 4 && m->parts[1].flags ==
	    META_PART_UNTERMINATED);
	if (m->nparts == 4) {
		test_assert(range_is(parent, m->parts[2].body_start,
		    m->parts[2].body_end, "in"));
		test_assert(range_is(parent, m->parts[3].body_start,
		    m->parts[3].body_end, "out"));
	}
	test_assert(check_all(parent, m));
	meta_free(m);

	/* an empty enclosed message; an encoded one is a leaf */
	m = build(msg822);
	test_assert(m->nparts == 4);
	if (m->nparts == 4) {
		test_assert(meta_part_is_message(&m->parts[1]) &&
		    m->parts[2].env != NULL &&
		    m->parts[2].body_start == m->parts[2].body_end);
		test_assert_streq(m->parts[3].type, "application");
		test_assert(m->parts[3].flags == META_PART_ENCODED_MSG);
	}
	test_assert(check_parts((const unsigned char *)msg822, strlen(msg822),
	    m, 1) && roundtrip(m));
	meta_free(m);

	m = build(garbage);
	test_assert(m->flags == META_UNPARSABLE && m->nparts == 1);
	test_assert_streq(m->parts[0].type, "application");
	test_assert_streq(m->parts[0].subtype, "octet-stream");
	test_assert(m->parts[0].body_start == 0 &&
	    m->parts[0].body_end == strlen(garbage));
	test_assert(strncmp(err, "unparsable", 10) == 0);
	test_assert(roundtrip(m));
	meta_free(m);

	m = meta_build((const unsigned char *)"", 0, err, sizeof(err));
	test_assert(m->flags == META_UNPARSABLE && m->nparts == 1 &&
	    m->parts[0].body_end == 0);
	test_assert(roundtrip(m));
	meta_free(m);
	test_end();
}

static void
test_meta_syntax(void)
{
	static const char	*bad[] = {
		"0", "1.", ".1", "1..2", "01", "1.0", "4294967296", "a",
		"1 ", "-1", "1.2.", ""
	};
	struct meta		*m = build("Subject: x\r\n\r\nbody\r\n");
	uint32_t		 idx;
	size_t			 i;

	test_begin("IMAP part numbers: syntax and range");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		test_assert(meta_part_find(m, bad[i], &idx) == -1);
	test_assert(meta_part_find(m, "1", &idx) == 1 && idx == 0);
	test_assert(meta_part_find(m, "2", &idx) == 0);
	test_assert(meta_part_find(m, "1.1", &idx) == 0);
	test_assert(meta_part_find(m, "4294967295", &idx) == 0);
	meta_free(m);
	test_end();
}

/* --- bombs --- */

static struct buf *
bomb_buf(void)
{
	return buf_new(64 * 1024 * 1024);
}

/* Build, check flagged and fast, round trip. */
static struct meta *
bomb(const char *name, struct buf *b, uint32_t want_limit)
{
	struct meta	*m;
	double		 t;

	t = now();
	m = meta_build(b->data, b->len, err, sizeof(err));
	t = now() - t;
	printf("# %s: %zu bytes, %.3f s, %u parts, %s\n", name, b->len, t,
	    m->nparts, err);
	test_assert(t < BOMB_SECONDS);
	test_assert((m->flags & META_LIMITED) && (m->limits & want_limit));
	test_assert(check_parts(b->data, b->len, m, 0));
	test_assert(roundtrip(m));
	return m;
}

static void
test_meta_bomb_nested(void)
{
	struct buf	*b = bomb_buf();
	struct meta	*m;
	int		 i;

	test_begin("T35: 10,000 nested multipart/mixed under 1 MB");
	buf_addf(b, "From: a@example.org\r\nContent-Type: multipart/mixed; "
	    "boundary=b0\r\n\r\n");
	for (i = 1; i < 10000; i++)
		buf_addf(b, "--b%d\r\nContent-Type: multipart/mixed; "
		    "boundary=b%d\r\n\r\n", i - 1, i);
	buf_addf(b, "--b9999\r\n\r\nleaf\r\n");
	for (i = 9999; i >= 0; i--)
		buf_addf(b, "--b%d--\r\n", i);
	test_assert(b->len < 1024 * 1024);
	m = bomb("nested", b, META_LIMIT_DEPTH);
	test_assert(m->nparts == META_MAX_DEPTH);
	test_assert(m->parts[m->nparts - 1].flags == META_PART_NOT_PARSED &&
	    m->parts[m->nparts - 1].depth == META_MAX_DEPTH - 1);
	meta_free(m);

	/* the same boundary at every level */
	buf_reset(b);
	buf_addf(b, "Content-Type: multipart/mixed;boundary=a\n\n");
	for (i = 0; i < 10000; i++)
		buf_addf(b, "--a\nContent-Type: multipart/mixed;"
		    "boundary=a\n\n");
	meta_free(bomb("nested, one boundary", b, META_LIMIT_DEPTH));

	buf_reset(b);
	buf_addf(b, "From: a@example.org\r\nContent-Type: message/rfc822\r\n"
	    "\r\n");
	for (i = 0; i < 10000; i++)
		buf_addf(b, "Subject: %d\r\nContent-Type: message/rfc822\r\n"
		    "\r\n", i);
	buf_addf(b, "x\r\n");
	m = bomb("message/rfc822 chain", b, META_LIMIT_DEPTH);
	test_assert(m->nparts == META_MAX_DEPTH);
	meta_free(m);
	buf_free(&b);
	test_end();
}

static void
test_meta_bomb_wide(void)
{
	struct buf	*b = bomb_buf();
	struct meta	*m;
	int		 i;

	test_begin("T36: 100,000 and 1,000,000 sibling parts");
	buf_addf(b, "Content-Type: multipart/mixed; boundary=b\r\n\r\n");
	for (i = 0; i < 100000; i++)
		buf_addf(b, "--b\r\n\r\nx\r\n");
	buf_addf(b, "--b--\r\nepilogue\r\n");
	m = bomb("100,000 parts", b, META_LIMIT_PARTS);
	test_assert(m->nparts == META_MAX_PARTS &&
	    (m->parts[0].flags & META_PART_SKIPPED) &&
	    m->parts[0].body_end == b->len);
	meta_free(m);
	for (i = 100000; i < 1000000; i++)
		buf_addf(b, "--b\r\n\r\nx\r\n");
	meta_free(bomb("1,000,000 parts", b, META_LIMIT_PARTS));
	buf_free(&b);
	test_end();
}

static void
test_meta_bomb_headers(void)
{
	struct buf	*b = bomb_buf();
	struct meta	*m;
	int		 i, j;

	test_begin("T36: huge header lines, fields, addresses, parameters");
	buf_addf(b, "From: a@example.org\r\nSubject: ");
	for (i = 0; i < 2 * 1024 * 1024; i++)
		buf_add(b, "x", 1);
	buf_addf(b, "\r\nTo: b@example.org\r\n\r\nbody\r\n");
	m = bomb("2 MiB header line", b, META_LIMIT_HDR_BLOCK);
	test_assert(m->parts[0].env->subject == NULL &&
	    m->parts[0].env->from.n == 1 && m->parts[0].env->to.n == 0);
	test_assert(range_is((const char *)b->data, m->parts[0].body_start,
	    m->parts[0].body_end, "body\r\n"));
	meta_free(m);

	buf_reset(b);
	buf_addf(b, "Subject: many lines\r\nX-Long: start\r\n");
	for (i = 0; i < 100000; i++)
		buf_addf(b, " continuation line %d of a 10 MB header\r\n", i);
	buf_addf(b, "\r\nbody\r\n");
	meta_free(bomb("100,000 continuation lines", b, META_LIMIT_HDR_BLOCK));

	buf_reset(b);
	for (i = 0; i < 5000; i++)
		buf_addf(b, "X-F%d: v\r\n", i);
	buf_addf(b, "\r\nbody\r\n");
	m = bomb("5,000 fields", b, META_LIMIT_HDR_FIELDS);
	test_assert(m->nnames == META_MAX_HDR_FIELDS);
	meta_free(m);

	buf_reset(b);
	buf_addf(b, "To: ");
	for (i = 0; i < 1500; i++)
		buf_addf(b, "%su%d@example.org", i ? ", " : "", i);
	buf_addf(b, "\r\n\r\nbody\r\n");
	m = bomb("1,500 addresses", b, META_LIMIT_ADDRS);
	test_assert(m->parts[0].env->to.n == META_MAX_ADDRS);
	meta_free(m);

	buf_reset(b);
	buf_addf(b, "To: ");
	for (i = 0; i < 50000; i++)
		buf_addf(b, "%su%d@example.org", i ? ", " : "", i);
	buf_addf(b, "\r\n\r\nbody\r\n");
	meta_free(bomb("50,000 addresses", b, META_LIMIT_HDR_BLOCK));

	buf_reset(b);
	buf_addf(b, "Content-Type: text/plain");
	for (i = 0; i < 100; i++)
		buf_addf(b, "; p%d=v", i);
	buf_addf(b, "\r\nContent-Disposition: attachment");
	for (i = 0; i < 10000; i++)
		buf_addf(b, "; filename*%d*=a%%41", i);
	buf_addf(b, "\r\n\r\nbody\r\n");
	m = bomb("10,000 RFC 2231 continuations", b, META_LIMIT_PARAMS);
	test_assert(m->parts[0].nparams == META_MAX_PARAMS &&
	    m->parts[0].ndparams == 1);
	meta_free(m);

	/* what GMime reads is cut: parameters, addresses, bytes in all */
	buf_reset(b);
	buf_addf(b, "Content-Type: multipart/mixed; boundary=b\r\n\r\n");
	for (i = 0; i < 100; i++) {
		buf_addf(b, "--b\r\nContent-Type: text/plain");
		for (j = 0; j < 25000; j++)
			buf_addf(b, "; p%d=v", j);
		buf_addf(b, "\r\n\r\nx\r\n");
	}
	buf_addf(b, "--b--\r\n");
	m = bomb("100 parts of 25,000 parameters", b, META_LIMIT_PARAMS);
	test_assert(m->nparts == 101 &&
	    m->parts[1].nparams == META_MAX_PARAMS);
	meta_free(m);

	buf_reset(b);
	buf_addf(b, "From: a@example.org\r\nContent-Type: multipart/mixed; "
	    "boundary=b\r\n\r\n");
	for (i = 0; i < 60; i++) {
		buf_addf(b, "--b\r\nContent-Type: message/rfc822\r\n\r\n"
		    "To: ");
		for (j = 0; j < 9000; j++)
			buf_addf(b, "%su%d@example.org", j ? ", " : "", j);
		buf_addf(b, "\r\n\r\nx\r\n");
	}
	buf_addf(b, "--b--\r\n");
	m = bomb("60 messages of 9,000 addresses", b,
	    META_LIMIT_READ | META_LIMIT_ADDRS);
	test_assert((m->limits & META_LIMIT_READ) && m->nparts == 121);
	meta_free(m);

	/* GMime recurses per nested group: 100,000 would overflow 8 MB */
	buf_reset(b);
	buf_addf(b, "From: a@example.org\r\nTo: ");
	for (i = 0; i < 100000; i++)
		buf_addf(b, "a:");
	buf_addf(b, "x@example.org\r\n\r\nbody\r\n");
	m = bomb("100,000 nested groups", b, META_LIMIT_GROUPS);
	test_assert(m->parts[0].env->from.n == 1 &&
	    m->parts[0].env->to.n >= 2 &&
	    m->parts[0].env->to.v[0].kind == META_ADDR_GROUP_START);
	meta_free(m);
	buf_free(&b);
	test_end();
}

struct stack_job {
	struct buf	*b;
	uint32_t	 nparts;
	uint32_t	 limits;
};

static void *
stack_run(void *arg)
{
	struct stack_job	*j = arg;
	struct meta		*m;
	char			 e[256];

	m = meta_build(j->b->data, j->b->len, e, sizeof(e));
	j->nparts = m->nparts;
	j->limits = m->limits;
	meta_free(m);
	return NULL;
}

/* Build in a thread with a 256 KiB stack (T35); 0 when it did not run. */
static int
small_stack(struct stack_job *j)
{
	pthread_attr_t	attr;
	pthread_t	t;
	int		ok;

	if (pthread_attr_init(&attr) != 0)
		return 0;
	ok = pthread_attr_setstacksize(&attr, 256 * 1024) == 0 &&
	    pthread_create(&t, &attr, stack_run, j) == 0 &&
	    pthread_join(t, NULL) == 0;
	pthread_attr_destroy(&attr);
	return ok;
}

static void
test_meta_bomb_stack(void)
{
	struct stack_job	j;
	int			i;

	test_begin("T35: the bombs on a 256 KiB thread stack");
	memset(&j, 0, sizeof(j));
	j.b = bomb_buf();
	buf_addf(j.b, "Content-Type: multipart/mixed;boundary=a\n\n");
	for (i = 0; i < 10000; i++)
		buf_addf(j.b, "--a\nContent-Type: multipart/mixed;"
		    "boundary=a\n\n");
	test_assert(small_stack(&j) && (j.limits & META_LIMIT_DEPTH));
	buf_reset(j.b);
	buf_addf(j.b, "Content-Type: message/rfc822\n\n");
	for (i = 0; i < 10000; i++)
		buf_addf(j.b, "Content-Type: message/rfc822\n\n");
	test_assert(small_stack(&j) && j.nparts == META_MAX_DEPTH);
	buf_reset(j.b);
	buf_addf(j.b, "To: ");
	for (i = 0; i < 10000; i++)
		buf_addf(j.b, "a: \"q:\" <b@c>, ");
	buf_addf(j.b, "\n\nbody\n");
	test_assert(small_stack(&j) && (j.limits & META_LIMIT_GROUPS));
	buf_free(&j.b);
	test_end();
}

/* --- real messages --- */

static int
name_cmp(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static void
test_meta_python(void)
{
	const char	*dir = getenv("META_TEST_MSG_DIR");
	struct dirent	**ents;
	struct buf	*b;
	struct meta	*m;
	char		 path[4096], name[300], chunk[4096];
	FILE		*fp;
	size_t		 n;
	int		 i, count;

	if (dir == NULL)
		dir = MSG_DIR;
	if ((count = scandir(dir, &ents, NULL, name_cmp)) == -1) {
		test_skip("Python's test messages", "no " MSG_DIR
		    " (Debian: libpython3.11-testsuite)");
		return;
	}
	b = buf_new(16 * 1024 * 1024);
	for (i = 0; i < count; i++) {
		if (strncmp(ents[i]->d_name, "msg_", 4) != 0)
			goto next;
		snprintf(path, sizeof(path), "%s/%s", dir, ents[i]->d_name);
		snprintf(name, sizeof(name), "Python test message %s",
		    ents[i]->d_name);
		if ((fp = fopen(path, "rb")) == NULL)
			goto next;
		buf_reset(b);
		while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
			buf_add(b, chunk, n);
		fclose(fp);
		test_begin(name);
		m = meta_build(b->data, b->len, err, sizeof(err));
		if (m->flags != 0)
			printf("# %s\n", err);
		test_assert(check_parts(b->data, b->len, m, 0));
		test_assert(roundtrip(m));
		meta_free(m);
		test_end();
next:
		free(ents[i]);
	}
	free(ents);
	buf_free(&b);
}

int
main(void)
{
	static void	(*tests[])(void) = {
		test_meta_simple,
		test_meta_alternative,
		test_meta_nested,
		test_meta_rfc2047,
		test_meta_groups,
		test_meta_8bit,
		test_meta_broken,
		test_meta_syntax,
		test_meta_bomb_nested,
		test_meta_bomb_wide,
		test_meta_bomb_headers,
		test_meta_bomb_stack,
		test_meta_python,
		NULL
	};

	meta_init();
	ref_types = calloc(REF_MAX, sizeof(*ref_types));
	ref_starts = calloc(REF_MAX, sizeof(*ref_starts));
	ref_ends = calloc(REF_MAX, sizeof(*ref_ends));
	if (ref_types == NULL || ref_starts == NULL || ref_ends == NULL)
		return 1;
	return test_run(tests);
}
