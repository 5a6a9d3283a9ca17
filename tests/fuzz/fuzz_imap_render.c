/* SPDX-License-Identifier: ISC */
/*
 * fuzz_imap_render.c - libFuzzer target for ENVELOPE, BODY and
 * BODYSTRUCTURE (imap/imap_render.c), what FETCH sends for every message
 * a client asks about.
 *
 * The input is a message: meta_build makes its record, and the renderings
 * of part 0 (ENVELOPE, BODYSTRUCTURE, BODY), of every other part, and of
 * every enclosed message's envelope are read back by a strict checker
 * written here from RFC 3501 9 (not by the renderer's code): every string
 * a quoted string of TEXT-CHARs with only \\ and \" escapes, or a literal
 * {n}\r\n of exactly n non-NUL bytes holding a byte a quoted string could
 * not; atoms only NIL or a number where the grammar allows one; SP
 * exactly where the grammar puts it; balanced parentheses; group marks
 * balanced; one body per part of the record; nothing left over.  Then:
 * a smaller buffer fails cleanly with ENOBUFS, and the record read back
 * from its encoding renders the same bytes.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "meta.h"
#include "imap_render.h"
#include "banned.h"

#define FUZZ_OUT_MAX	(64 * 1024 * 1024)
#define CHK_VAL_MAX	32	/* bytes of a string kept for a look */
/* the checker recurses once per body and envelope level */
#define CHK_DEPTH_MAX	(2 * META_MAX_DEPTH + 4)

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct chk {
	const uint8_t	*start, *p, *end;
	uint32_t	 bodies;	/* bodies seen */
	bool		 rev2;		/* rendered for IMAP4rev2 */
};

static void
chk_fail(const struct chk *c, const char *what, int line)
{
	size_t	off = (size_t)(c->p - c->start), i;

	fprintf(stderr, "fuzz_imap_render: %s (line %d) at offset %zu of:\n",
	    what, line, off);
	for (i = 0; i < (size_t)(c->end - c->start); i++)
		fputc(c->start[i] >= 0x20 && c->start[i] < 0x7f ?
		    c->start[i] : '.', stderr);
	fputc('\n', stderr);
	abort();
}

#define CHK(c, cond, what) do {					\
	if (!(cond))							\
		chk_fail((c), (what), __LINE__);			\
} while (0)

static bool
chk_text_char(uint8_t b)
{
	return b >= 0x01 && b <= 0x7f && b != '\r' && b != '\n';
}

static bool
chk_accept(struct chk *c, const char *lit)
{
	size_t	n = strlen(lit);

	if ((size_t)(c->end - c->p) < n || memcmp(c->p, lit, n) != 0)
		return false;
	c->p += n;
	return true;
}

static void
chk_expect(struct chk *c, const char *lit)
{
	CHK(c, chk_accept(c, lit), lit);
}

static bool
chk_peek(const struct chk *c, uint8_t b)
{
	return c->p < c->end && *c->p == b;
}

/* number: 1*DIGIT, 32 bits (RFC 3501 9), no leading zero from us */
static uint64_t
chk_number(struct chk *c)
{
	uint64_t	v = 0;
	size_t		n = 0;

	while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
		CHK(c, n == 0 || v != 0, "leading zero");
		v = v * 10 + (uint64_t)(*c->p++ - '0');
		CHK(c, v <= UINT32_MAX, "number past 32 bits");
		n++;
	}
	CHK(c, n > 0, "number expected");
	return v;
}

/*
 * string: quoted or literal.  The first CHK_VAL_MAX - 1 bytes of its
 * value go to val (NUL-terminated) when val is not NULL.
 */
static void
chk_string(struct chk *c, char *val)
{
	uint64_t	n;
	size_t		k = 0, i;
	bool		plain = true;
	uint8_t		b;

	if (chk_accept(c, "\"")) {
		for (;;) {
			CHK(c, c->p < c->end, "quoted string not closed");
			b = *c->p++;
			if (b == '"')
				break;
			if (b == '\\') {
				CHK(c, c->p < c->end && (*c->p == '"' ||
				    *c->p == '\\'), "bad escape");
				b = *c->p++;
			} else
				CHK(c, chk_text_char(b) && b != '"',
				    "not a TEXT-CHAR in a quoted string");
			if (val != NULL && k < CHK_VAL_MAX - 1)
				val[k++] = (char)b;
		}
	} else {
		CHK(c, chk_accept(c, "{"), "string expected");
		n = chk_number(c);
		chk_expect(c, "}\r\n");
		CHK(c, (uint64_t)(c->end - c->p) >= n, "literal cut short");
		for (i = 0; i < n; i++) {
			b = c->p[i];
			CHK(c, b != 0, "NUL in a literal");
			if (!chk_text_char(b))
				plain = false;
			if (val != NULL && k < CHK_VAL_MAX - 1)
				val[k++] = (char)b;
		}
		/* ours: a literal only for what a quoted string cannot hold */
		CHK(c, !plain, "a literal that could be quoted");
		c->p += n;
	}
	if (val != NULL)
		val[k] = '\0';
}

/* nstring; true when it was NIL */
static bool
chk_nstring(struct chk *c, char *val)
{
	if (chk_accept(c, "NIL"))
		return true;
	chk_string(c, val);
	return false;
}

/* ours: media types and the like in upper case */
static void
chk_upper(struct chk *c, const char *val)
{
	for (; *val != '\0'; val++)
		CHK(c, *val < 'a' || *val > 'z', "lower case type");
}

static void
chk_addrlist(struct chk *c)
{
	bool	in_group = false, name_nil, mbox_nil, host_nil;

	if (chk_accept(c, "NIL"))
		return;
	chk_expect(c, "(");
	do {
		chk_expect(c, "(");
		name_nil = chk_nstring(c, NULL);
		chk_expect(c, " NIL ");		/* adl: no source routes */
		mbox_nil = chk_nstring(c, NULL);
		chk_expect(c, " ");
		host_nil = chk_nstring(c, NULL);
		chk_expect(c, ")");
		if (!host_nil)
			CHK(c, !mbox_nil, "an address without mailbox");
		else if (!mbox_nil) {
			CHK(c, !in_group && name_nil, "bad group start");
			in_group = true;
		} else {
			CHK(c, in_group && name_nil, "bad group end");
			in_group = false;
		}
	} while (chk_peek(c, '('));
	chk_expect(c, ")");
	CHK(c, !in_group, "group not ended");
}

static void
chk_envelope(struct chk *c)
{
	int	i;

	chk_expect(c, "(");
	chk_nstring(c, NULL);			/* date */
	chk_expect(c, " ");
	chk_nstring(c, NULL);			/* subject */
	for (i = 0; i < 6; i++) {		/* from ... bcc */
		chk_expect(c, " ");
		chk_addrlist(c);
	}
	chk_expect(c, " ");
	chk_nstring(c, NULL);			/* in-reply-to */
	chk_expect(c, " ");
	chk_nstring(c, NULL);			/* message-id */
	chk_expect(c, ")");
}

static void
chk_params(struct chk *c)
{
	if (chk_accept(c, "NIL"))
		return;
	chk_expect(c, "(");
	chk_string(c, NULL);
	chk_expect(c, " ");
	chk_string(c, NULL);
	while (chk_accept(c, " ")) {
		chk_string(c, NULL);
		chk_expect(c, " ");
		chk_string(c, NULL);
	}
	chk_expect(c, ")");
}

/* SP body-fld-dsp SP body-fld-lang SP body-fld-loc */
static void
chk_ext_common(struct chk *c)
{
	char	val[CHK_VAL_MAX];
	int	n = 0;

	chk_expect(c, " ");
	if (!chk_accept(c, "NIL")) {
		chk_expect(c, "(");
		chk_string(c, val);
		chk_upper(c, val);
		chk_expect(c, " ");
		chk_params(c);
		chk_expect(c, ")");
	}
	chk_expect(c, " ");
	if (chk_accept(c, "(")) {
		do {
			chk_string(c, NULL);
			n++;
		} while (chk_accept(c, " "));
		chk_expect(c, ")");
		CHK(c, n >= 2, "a list of one language");
	} else
		chk_nstring(c, NULL);
	chk_expect(c, " ");
	chk_nstring(c, NULL);
}

static void
chk_body(struct chk *c, bool ext, int depth)
{
	char	type[CHK_VAL_MAX], sub[CHK_VAL_MAX], enc[CHK_VAL_MAX];

	CHK(c, depth < CHK_DEPTH_MAX, "nested too deep");
	c->bodies++;
	chk_expect(c, "(");
	if (chk_peek(c, '(')) {
		/* body-type-mpart: 1*body, no SP between them */
		while (chk_peek(c, '('))
			chk_body(c, ext, depth + 1);
		chk_expect(c, " ");
		chk_string(c, sub);
		chk_upper(c, sub);
		if (ext) {
			chk_expect(c, " ");
			chk_params(c);
			chk_ext_common(c);
		}
		chk_expect(c, ")");
		return;
	}
	chk_string(c, type);
	chk_upper(c, type);
	chk_expect(c, " ");
	chk_string(c, sub);
	chk_upper(c, sub);
	chk_expect(c, " ");
	chk_params(c);
	chk_expect(c, " ");
	chk_nstring(c, NULL);			/* id */
	chk_expect(c, " ");
	chk_nstring(c, NULL);			/* description */
	chk_expect(c, " ");
	chk_string(c, enc);			/* encoding: string, not NIL */
	chk_upper(c, enc);
	chk_expect(c, " ");
	chk_number(c);				/* octets */
	if (strcmp(type, "TEXT") == 0) {
		chk_expect(c, " ");
		chk_number(c);			/* lines */
	} else if (strcmp(type, "MESSAGE") == 0 && (strcmp(sub, "RFC822") == 0 ||
	    (c->rev2 && strcmp(sub, "GLOBAL") == 0))) {
		/* IMAP4rev1: only MESSAGE/RFC822; message/global is basic;
		 * IMAP4rev2: MESSAGE/GLOBAL too, when it encloses one */
		chk_expect(c, " ");
		chk_envelope(c);
		chk_expect(c, " ");
		chk_body(c, ext, depth + 1);
		chk_expect(c, " ");
		chk_number(c);			/* lines */
	}
	if (ext) {
		chk_expect(c, " ");
		CHK(c, chk_accept(c, "NIL"), "md5 not NIL");
		chk_ext_common(c);
	}
	chk_expect(c, ")");
}

static void
chk_init(struct chk *c, const struct buf *b)
{
	c->start = c->p = b->data;
	c->end = b->data + b->len;
	c->bodies = 0;
	c->rev2 = false;
}

static void
check_body(const struct meta *m, uint32_t part, bool ext, struct buf *b,
    bool rev2)
{
	struct chk	c;
	uint32_t	i, want = 0;

	buf_reset(b);
	SP_ASSERT(imap_render_body_ext(b, m, part, ext, rev2) == 0);
	chk_init(&c, b);
	c.rev2 = rev2;
	chk_body(&c, ext, 0);
	CHK(&c, c.p == c.end, "bytes after the body");
	/* one body per part of the subtree, but inside a message/global
	 * for IMAP4rev1 */
	for (i = part; i < m->parts[part].next; i++) {
		want++;
		if (!rev2 && m->parts[i].nchildren > 0 &&
		    strcmp(m->parts[i].type, "message") == 0 &&
		    strcmp(m->parts[i].subtype, "rfc822") != 0)
			i = m->parts[i].next - 1;
	}
	CHK(&c, c.bodies == want, "body count");
}

static void
check_envelope(const struct meta_envelope *e, struct buf *b)
{
	struct chk	c;

	buf_reset(b);
	SP_ASSERT(imap_render_envelope(b, e) == 0);
	chk_init(&c, b);
	chk_envelope(&c);
	CHK(&c, c.p == c.end, "bytes after the envelope");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int	 init;
	struct meta	*m, *d;
	struct buf	*b, *b2, *small, *enc;
	char		 err[256];
	uint32_t	 i;
	size_t		 full;

	if (!init) {
		meta_init();
		init = 1;
	}
	m = meta_build(data, size, err, sizeof(err));
	SP_ASSERT(m != NULL);
	b = buf_new(FUZZ_OUT_MAX);
	b2 = buf_new(FUZZ_OUT_MAX);

	check_envelope(m->parts[0].env, b);
	check_body(m, 0, false, b, false);
	check_body(m, 0, true, b, false);
	full = b->len;
	for (i = 1; i < m->nparts; i++) {
		check_body(m, i, true, b2, false);
		if (m->parts[i].env != NULL)
			check_envelope(m->parts[i].env, b2);
	}
	/* IMAP4rev2: message/global opened like message/rfc822 */
	check_body(m, 0, true, b2, true);

	/* a buffer too small by a half: -1, ENOBUFS, never past its max */
	small = buf_new(full / 2);
	errno = 0;
	SP_ASSERT(imap_render_body(small, m, 0, true) == -1 &&
	    errno == ENOBUFS && small->len <= full / 2);
	buf_free(&small);

	/* the record read back from its encoding renders the same */
	enc = buf_new(META_MAX_OUTPUT);
	SP_ASSERT(meta_encode(m, enc) == 0);
	if ((d = meta_decode(enc->data, enc->len, err, sizeof(err))) == NULL)
		fatalx("decode of a built record: %s", err);
	buf_reset(b2);
	SP_ASSERT(imap_render_body(b2, d, 0, true) == 0);
	SP_ASSERT(b2->len == b->len && memcmp(b->data, b2->data, b->len) == 0);
	meta_free(d);
	buf_free(&enc);

	buf_free(&b);
	buf_free(&b2);
	meta_free(m);
	return 0;
}
