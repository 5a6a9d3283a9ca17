/* SPDX-License-Identifier: ISC */
/*
 * mta_7bit.c - a message with 8-bit content made 7-bit MIME for a remote
 * server without 8BITMIME (mta_7bit.h; RFC 6152 3, RFC 2045, RFC 2046).
 *
 * Process:  mta (the outbound client), after mta_7bit_init and inside its
 *           sandbox; the tests.  GMime is this file's only library.
 * Trust:    the message is hostile (any remote sender's or local user's).
 *           GMime parses it; what GMime writes is checked byte by byte
 *           before it is returned (m7_check: 7-bit, no NUL, no bare CR,
 *           no line over 998 octets), so that a mistake here or in GMime
 *           costs a refusal, never a bad message on the wire.
 * Limits:   MTA_7BIT_MAX_INPUT; MTA_7BIT_MAX_PARTS and
 *           MTA_7BIT_MAX_HDR_LINES, checked on the bytes before GMime sees
 *           them (m7_bounds), since GMime keeps an object of about 1.4 KB
 *           per part and 130 bytes per header field however small they
 *           are (measured: a million 4-byte header lines, 136 MB); GMime
 *           itself stops nesting at 1024 levels.  The walk uses an
 *           explicit stack; all work is linear in the message size, but
 *           for the delimiter lines looked for in bodies, which are
 *           bounded by M7_DELIM_BUDGET bytes compared (past it, a body
 *           is taken to hold one: encoded again, always safe), and for
 *           GMime's own matching of each line starting "--" with every
 *           open boundary (at most MTA_7BIT_MAX_PARTS lines times 1024
 *           levels; measured 1.3 s for 7900 lines under 520 boundaries
 *           of 985 octets).  out's own max bounds the result.  Memory:
 *           about three times the message at most (100 MiB of 8-bit
 *           text: 1.4 s, 320 MB with out, -O2).
 * See also: mta_data.c (what the result goes through next: dot-stuffing),
 *           mta_client.c (BODY=8BITMIME), tests/unit/test_mta_7bit.c,
 *           tests/fuzz/fuzz_mta_7bit.c.
 *
 * The rules.
 *  - A message whose bytes are 7-bit, without NUL or bare CR, whose lines
 *    are at most 998 octets long, is returned as it is, a lone LF made
 *    CR LF and a CR LF added at the end when the last line has none.
 *  - Any other message is parsed with GMime (GMIME_FORMAT_MESSAGE) and
 *    every part is looked at:
 *     - A header field (of the message, of a part, of an enclosed
 *       message) with a byte >= 0x80 cannot be made 7-bit without
 *       changing its text (RFC 2047 encoded-words are not the same field
 *       for addresses, ids, parameters): -1, "needs SMTPUTF8".  So is a
 *       header field with a bare CR or a line over 998 octets.
 *     - A leaf part whose bytes as they stand (its body in its own
 *       Content-Transfer-Encoding) are 7-bit, without NUL or bare CR, in
 *       lines of at most 998 octets, none starting with the delimiter
 *       of a multipart around it ("--" boundary, then anything), is kept
 *       byte for byte; a label 8bit or binary on it becomes 7bit, which
 *       is then true.  (GMime can leave such a line in a body: it takes
 *       as many bytes before a boundary line as that line's own line
 *       break has, so "--b--x" LF before "--b" CR LF is read as "--b--";
 *       written back, that would end the multipart.)
 *     - Any other leaf part is decoded (base64, quoted-printable and
 *       x-uuencode bodies: the 8-bit bytes were junk in the encoding) and
 *       encoded again: quoted-printable for a text type (a bare CR as
 *       =0D, so that the text decodes to the same bytes), base64 for any
 *       other, GMime's encoders (lines of 76).  A text whose
 *       quoted-printable form would have a line starting with such a
 *       delimiter is base64 instead, since the boundaries are kept: the
 *       encoder's soft line breaks can make one ("...=" and "--b"), and
 *       base64 has no "-".  A text/plain part without a charset
 *       parameter whose decoded text has 8-bit bytes gets charset=utf-8
 *       when the text is valid UTF-8, else unknown-8bit (RFC 1428);
 *       other text types keep their Content-Type (an HTML part may name
 *       its charset inside).  The message that holds the part, and each
 *       message around it, gets "MIME-Version: 1.0" when it has none.
 *     - A multipart keeps its boundary (one over 994 octets could not
 *       be written: -1).  Its preamble and epilogue, which MIME readers
 *       ignore (RFC 2046 5.1.1), are dropped unless they would be kept
 *       as a leaf is.  A label 8bit or binary on the multipart becomes
 *       7bit.
 *     - A message/rfc822 part (also message/global, message/news: what
 *       GMime reads as an enclosed message) may only be labelled 7bit,
 *       8bit or binary (RFC 2046 5.2.1), so the message inside is
 *       converted by these same rules and the label becomes 7bit.  A
 *       message part labelled base64 or quoted-printable is a leaf to
 *       GMime, and to this file.
 *     - multipart/signed (RFC 1847) is converted like any multipart, as
 *       Sendmail and Postfix do: a signature over 8-bit content no
 *       longer verifies after the conversion, but the message is
 *       delivered.  Signers that follow RFC 3156 5 and RFC 8551 3.1.1
 *       make the signed part 7-bit first, and such a part is left alone.
 *       Refusing would return every message of a careless signer to a
 *       7-bit server; the remote's readers see a failed signature and
 *       the text, not a silently changed text that verifies.
 *  - Bytes GMime does not keep are lost from the result: header lines
 *    GMime cannot read (no colon), an mbox "From " line.  A byte >= 0x80
 *    or a NUL among them (or in a header value, which GMime cuts at a
 *    NUL) would change the message silently, so every such byte of the
 *    input must be found again in a part's body, a preamble or an
 *    epilogue (m7->kept against the input's count), else -1.
 *    An enclosed message GMime cannot read (it would write nothing of
 *    it) is -1 too.
 *  - What GMime writes is then made CR LF (its epilogue keeps LF) and
 *    checked (m7_check); a CR LF ends the last line.
 *
 * GMime's parser reads the caller's bytes in place (a GByteArray taken
 * over and given back, m7_parse): no copy of up to 100 MiB.
 */
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gmime/gmime.h>

#include "buf.h"
#include "log.h"
#include "xmalloc.h"
#include "mta_7bit.h"
#include "banned.h"

#define M7_CHUNK	8192		/* bytes read from a part at a time */
#define M7_NONE		SIZE_MAX	/* no enclosing message or multipart */
/* "--" boundary "--" on a line of at most MTA_7BIT_LINE_MAX */
#define M7_BOUNDARY_MAX	(MTA_7BIT_LINE_MAX - 4)
/* bytes compared looking for delimiter lines, in all: past it, assume one */
#define M7_DELIM_BUDGET	(64 * 1024 * 1024)

/* A multipart's boundary, and the multipart around it. */
struct m7_bnd {
	const char	*s;		/* GMime's, borrowed */
	size_t		 len;
	size_t		 parent;	/* index into m7.bnds, or M7_NONE */
};

/* A GMime object still to look at, where it is. */
struct m7_frame {
	GMimeObject	*obj;		/* borrowed from the tree */
	size_t		 msg;		/* index into m7.msgs */
	size_t		 bnd;		/* the multipart around, or M7_NONE */
};

/* A message: the top one or one enclosed in a message part. */
struct m7_msg {
	GMimeMessage	*m;		/* borrowed from the tree */
	size_t		 parent;	/* index, M7_NONE for the top */
	int		 changed;	/* a part in it was encoded again */
};

struct m7 {
	char		*err;
	size_t		 errlen;
	uint64_t	 kept;		/* 8-bit and NUL bytes GMime kept */
	uint64_t	 budget;	/* M7_DELIM_BUDGET, what is left */
	struct m7_frame	*stack;
	size_t		 nstack, capstack;
	struct m7_msg	*msgs;
	size_t		 nmsgs, capmsgs;
	struct m7_bnd	*bnds;
	size_t		 nbnds, capbnds;
	/* the boundaries around what is being scanned (m7_around) */
	const struct m7_bnd **around;
	size_t		 naround, caparound, around_max;
};

/* What a scan of some bytes found; fed in pieces (m7_scan_feed). */
struct m7_scan {
	struct m7	*c;		/* c->around: delimiters to look for */
	uint64_t	 bad;		/* bytes >= 0x80 and NULs */
	uint64_t	 high;		/* bytes >= 0x80 */
	size_t		 col;		/* octets of the current line so far */
	int		 cr;		/* the byte before was a CR */
	int		 bare_cr;	/* a CR not before an LF */
	int		 long_line;	/* a line over MTA_7BIT_LINE_MAX */
	int		 u8_need;	/* UTF-8 continuation bytes due */
	unsigned char	 u8_lo, u8_hi;	/* the next one's range */
	int		 u8_bad;	/* not valid UTF-8 */
	int		 bol;		/* at the start of a line */
	int		 in_head;	/* keeping a line's start in head */
	size_t		 headlen;
	unsigned char	 head[M7_BOUNDARY_MAX + 2];
	int		 delim;		/* a line starts with a delimiter */
};

static int	m7_inited;

static int	m7_fail(struct m7 *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

void
mta_7bit_init(void)
{
	if (m7_inited)
		return;
	g_mime_init();
	m7_inited = 1;
}

int
mta_7bit_needed(const unsigned char *msg, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++)
		if (msg[i] >= 0x80 || msg[i] == '\0')
			return 1;
	return 0;
}

static int
m7_fail(struct m7 *c, const char *fmt, ...)
{
	va_list	ap;

	if (c->errlen > 0) {
		va_start(ap, fmt);
		(void)vsnprintf(c->err, c->errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/*
 * A scan that looks for lines starting with "--" and a boundary of
 * c->around (c NULL: none), as well as for what m7_scan_clean wants.
 */
static void
m7_scan_init(struct m7_scan *s, struct m7 *c)
{
	memset(s, 0, sizeof(*s));
	s->c = c != NULL && c->naround > 0 ? c : NULL;
	s->bol = 1;
}

/* One byte through the UTF-8 validator (RFC 3629 4: no overlong forms,
 * no surrogates, nothing past U+10FFFF). */
static void
m7_utf8(struct m7_scan *s, unsigned char c)
{
	if (s->u8_bad)
		return;
	if (s->u8_need > 0) {
		if (c < s->u8_lo || c > s->u8_hi) {
			s->u8_bad = 1;
			return;
		}
		s->u8_need--;
		s->u8_lo = 0x80;
		s->u8_hi = 0xbf;
		return;
	}
	if (c < 0x80)
		return;
	s->u8_lo = 0x80;
	s->u8_hi = 0xbf;
	if (c >= 0xc2 && c <= 0xdf)
		s->u8_need = 1;
	else if (c >= 0xe0 && c <= 0xef) {
		s->u8_need = 2;
		if (c == 0xe0)
			s->u8_lo = 0xa0;
		else if (c == 0xed)
			s->u8_hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		s->u8_need = 3;
		if (c == 0xf0)
			s->u8_lo = 0x90;
		else if (c == 0xf4)
			s->u8_hi = 0x8f;
	} else
		s->u8_bad = 1;
}

/*
 * The start of a line kept in head: does it begin with "--" and one of
 * the boundaries around?  Any text after it, as RFC 2046 5.1.1 forbids
 * the delimiter anywhere in a body and some readers match a prefix.
 * Each byte compared is charged to the budget; without budget left, the
 * answer is yes (the part is then encoded again, which is always safe).
 */
static void
m7_head_check(struct m7_scan *s)
{
	struct m7		*c = s->c;
	const struct m7_bnd	*b;
	size_t			 i;

	s->in_head = 0;
	if (s->delim || s->headlen < 2 || s->head[1] != '-')
		return;
	for (i = 0; i < c->naround; i++) {
		b = c->around[i];
		if (s->headlen < 2 + b->len)
			continue;
		if (c->budget < b->len) {
			s->delim = 1;
			return;
		}
		c->budget -= b->len;
		if (memcmp(s->head + 2, b->s, b->len) == 0) {
			s->delim = 1;
			return;
		}
	}
}

static void
m7_scan_feed(struct m7_scan *s, const unsigned char *p, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		unsigned char	c = p[i];

		m7_utf8(s, c);
		if (c >= 0x80) {
			s->bad++;
			s->high++;
		} else if (c == '\0')
			s->bad++;
		if (s->c != NULL) {
			if (s->bol && c == '-') {
				s->in_head = 1;
				s->headlen = 0;
			}
			if (s->in_head) {
				if (c == '\n')
					m7_head_check(s);
				else {
					s->head[s->headlen++] = c;
					if (s->headlen == 2 + s->c->around_max)
						m7_head_check(s);
				}
			}
			s->bol = c == '\n';
		}
		if (s->cr) {
			s->cr = 0;
			if (c == '\n') {
				s->col = 0;
				continue;
			}
			s->bare_cr = 1;
			if (++s->col > MTA_7BIT_LINE_MAX)
				s->long_line = 1;
		}
		if (c == '\r')
			s->cr = 1;
		else if (c == '\n')
			s->col = 0;
		else if (++s->col > MTA_7BIT_LINE_MAX)
			s->long_line = 1;
	}
}

static void
m7_scan_end(struct m7_scan *s)
{
	if (s->cr) {
		s->cr = 0;
		s->bare_cr = 1;
		if (++s->col > MTA_7BIT_LINE_MAX)
			s->long_line = 1;
	}
	if (s->u8_need > 0)
		s->u8_bad = 1;
	if (s->in_head)
		m7_head_check(s);
}

/* Bytes that may be written as they are, in the same place. */
static int
m7_scan_clean(const struct m7_scan *s)
{
	return s->bad == 0 && !s->bare_cr && !s->long_line && !s->delim;
}

/* A stream's bytes from its start (a part's body as it stands). */
static int
m7_scan_stream(GMimeStream *st, struct m7_scan *s)
{
	char	chunk[M7_CHUNK];
	ssize_t	n;

	if (g_mime_stream_reset(st) == -1)
		return -1;
	while ((n = g_mime_stream_read(st, chunk, sizeof(chunk))) > 0)
		m7_scan_feed(s, (const unsigned char *)chunk, (size_t)n);
	m7_scan_end(s);
	if (n < 0 || g_mime_stream_reset(st) == -1)
		return -1;
	return 0;
}

static void
m7_scan_str(const char *str, struct m7_scan *s)
{
	m7_scan_feed(s, (const unsigned char *)str, strlen(str));
}

/*
 * Whether p holds what may go out as it is: 7-bit, no NUL, every CR
 * before an LF, lines of at most MTA_7BIT_LINE_MAX octets.  The bytes
 * m7_emit adds (a CR before each lone LF, a CR LF at the end) in
 * *extra_r; the reason in *why_r.
 */
static int
m7_check(const unsigned char *p, size_t n, size_t *extra_r,
    const char **why_r)
{
	size_t	i, col = 0, extra = 0;

	for (i = 0; i < n; i++) {
		if (p[i] == '\n') {
			if (i == 0 || p[i - 1] != '\r')
				extra++;
			col = 0;
			continue;
		}
		if (p[i] == '\r') {
			if (i + 1 < n && p[i + 1] == '\n')
				continue;
			*why_r = "a bare CR";
			return -1;
		}
		if (p[i] >= 0x80 || p[i] == '\0') {
			*why_r = "an 8-bit byte or a NUL";
			return -1;
		}
		if (++col > MTA_7BIT_LINE_MAX) {
			*why_r = "a line over 998 octets";
			return -1;
		}
	}
	if (n > 0 && p[n - 1] != '\n')
		extra += 2;
	*extra_r = extra;
	return 0;
}

/* p (checked by m7_check, extra from it) into out with CR LF line ends. */
static int
m7_emit(struct m7 *c, const unsigned char *p, size_t n, size_t extra,
    struct buf *out)
{
	unsigned char	*o;
	size_t		 i, k = 0;

	if (extra > SIZE_MAX - n || buf_grow(out, n + extra) == -1)
		return m7_fail(c, "the converted message is too large");
	o = out->data + out->len;
	for (i = 0; i < n; i++) {
		if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
			o[k++] = '\r';
		o[k++] = p[i];
	}
	if (n > 0 && p[n - 1] != '\n') {
		o[k++] = '\r';
		o[k++] = '\n';
	}
	SP_ASSERT(k == n + extra);
	buf_advance(out, k);
	return 0;
}

/* Does p hold "digest" in any case, anywhere? */
static int
m7_has_digest(const unsigned char *p, size_t n)
{
	size_t	i;

	for (i = 0; i + 6 <= n; i++)
		if ((p[i] == 'd' || p[i] == 'D') &&
		    strncasecmp((const char *)p + i, "digest", 6) == 0)
			return 1;
	return 0;
}

static size_t
m7_token(const unsigned char *p, size_t i, size_t ll)
{
	while (i < ll && ((p[i] >= 'a' && p[i] <= 'z') ||
	    (p[i] >= 'A' && p[i] <= 'Z') || (p[i] >= '0' && p[i] <= '9') ||
	    p[i] == '-' || p[i] == '.' || p[i] == '+' || p[i] == '_'))
		i++;
	return i;
}

/*
 * The line p (ll octets) starts with "content-type" in any case: is it
 * plainly a Content-Type field of a type other than message/...?  That
 * is "Content-Type:", blanks, a token, "/", a token, then the end, a
 * blank or ";".  Anything else GMime might read as another type, or as
 * none (a comment, quotes, the value on the next line, "text/"), and in
 * a digest no type is message/rfc822: 0, "may be an enclosed message".
 */
static int
m7_ct_plain(const unsigned char *p, size_t ll)
{
	size_t	i = 12, t, u;

	if (i >= ll || p[i] != ':')
		return 0;
	i++;
	while (i < ll && (p[i] == ' ' || p[i] == '\t'))
		i++;
	t = m7_token(p, i, ll);
	if (t == i || t >= ll || p[t] != '/')
		return 0;
	u = m7_token(p, t + 1, ll);
	if (u == t + 1 || (u < ll && p[u] != ' ' && p[u] != '\t' &&
	    p[u] != ';'))
		return 0;
	return !(t - i == 7 && strncasecmp((const char *)p + i, "message",
	    7) == 0);
}

/*
 * Upper bounds on what GMime makes of p, before it parses: at most three
 * objects for each line starting "--" (a boundary: a part; in a digest a
 * message part, its message and that one's top part) or "Content-Type"
 * in any case (a multipart; an enclosed message and its top part), and
 * at most one header object for each line that may be in a header block.
 * Those are the message's first lines up to an empty line; the lines
 * after a "--" line up to an empty line; and the block after a header
 * block that may make its part an enclosed message: one with a line
 * "Content-Type..." other than a plain type that is not message/...
 * (m7_ct_plain), or, when "digest" is anywhere in the message, one after
 * a "--" line without a plain Content-Type (a digest's part is
 * message/rfc822 by default).  A "--" line inside a header block may be
 * a boundary or a field: both are assumed.  Lines are over-counted,
 * never under-counted (tests/fuzz/fuzz_mta_7bit.c checks it against
 * GMime): GMime ends a header block at an empty line too.  A part's body
 * is counted only when it may be an enclosed message, so that a large
 * attachment (base64 has no empty line) is not taken for a header.
 */
static void
m7_bounds_count(const unsigned char *p, size_t n, size_t max_parts,
    size_t max_hdr, size_t *parts_r, size_t *hdr_r)
{
	const unsigned char	*nl;
	size_t			 i = 0, ls, le, ll, parts = 0, hdr = 0;
	int			 in_hdr = 1, after_dash = 0, saw_ct = 0;
	int			 saw_msg = 0, digest, dash, ct;

	digest = m7_has_digest(p, n);
	while (i < n && parts <= max_parts && hdr <= max_hdr) {
		ls = i;
		nl = memchr(p + i, '\n', n - i);
		le = nl != NULL ? (size_t)(nl - p) : n;
		i = nl != NULL ? le + 1 : n;
		ll = le - ls;
		if (ll > 0 && nl != NULL && p[le - 1] == '\r')
			ll--;
		dash = ll >= 2 && p[ls] == '-' && p[ls + 1] == '-';
		ct = ll >= 12 && strncasecmp((const char *)p + ls,
		    "content-type", 12) == 0;
		if (dash || ct)
			parts++;
		if (in_hdr) {
			if (ll == 0) {
				if (!saw_msg && !(after_dash && !saw_ct &&
				    digest))
					in_hdr = 0;
				after_dash = saw_ct = saw_msg = 0;
			} else {
				hdr++;
				if (ct && m7_ct_plain(p + ls, ll))
					saw_ct = 1;
				else if (ct)
					saw_msg = 1;
			}
		}
		/* a boundary, or a line of the same block (saw_msg kept) */
		if (dash) {
			in_hdr = after_dash = 1;
			saw_ct = 0;
		}
	}
	*parts_r = parts;
	*hdr_r = hdr;
}

static int
m7_bounds(struct m7 *c, const unsigned char *p, size_t n)
{
	size_t	parts, hdr;

	m7_bounds_count(p, n, MTA_7BIT_MAX_PARTS, MTA_7BIT_MAX_HDR_LINES,
	    &parts, &hdr);
	if (parts > MTA_7BIT_MAX_PARTS)
		return m7_fail(c, "more than %d MIME boundaries and "
		    "Content-Type fields", MTA_7BIT_MAX_PARTS);
	if (hdr > MTA_7BIT_MAX_HDR_LINES)
		return m7_fail(c, "more than %d header lines",
		    MTA_7BIT_MAX_HDR_LINES);
	return 0;
}

#ifdef SP_TEST_HOOKS
void
mta_7bit_test_bounds(const unsigned char *msg, size_t len, size_t *parts_r,
    size_t *hdr_r)
{
	m7_bounds_count(msg, len, SIZE_MAX - 1, SIZE_MAX - 1, parts_r, hdr_r);
}
#endif

static uint64_t
m7_count_bad(const unsigned char *p, size_t n)
{
	uint64_t	bad = 0;
	size_t		i;

	for (i = 0; i < n; i++)
		if (p[i] >= 0x80 || p[i] == '\0')
			bad++;
	return bad;
}

static void
m7_push(struct m7 *c, GMimeObject *obj, size_t msg, size_t bnd)
{
	if (obj == NULL)
		return;
	if (c->nstack == c->capstack) {
		c->capstack = c->capstack == 0 ? 64 : c->capstack * 2;
		c->stack = xreallocarray(c->stack, c->capstack,
		    sizeof(*c->stack));
	}
	c->stack[c->nstack].obj = obj;
	c->stack[c->nstack].msg = msg;
	c->stack[c->nstack].bnd = bnd;
	c->nstack++;
}

static size_t
m7_add_msg(struct m7 *c, GMimeMessage *m, size_t parent)
{
	if (c->nmsgs == c->capmsgs) {
		c->capmsgs = c->capmsgs == 0 ? 8 : c->capmsgs * 2;
		c->msgs = xreallocarray(c->msgs, c->capmsgs, sizeof(*c->msgs));
	}
	c->msgs[c->nmsgs].m = m;
	c->msgs[c->nmsgs].parent = parent;
	c->msgs[c->nmsgs].changed = 0;
	return c->nmsgs++;
}

/* A multipart's boundary (NULL: GMime makes a new one as it writes). */
static int
m7_add_bnd(struct m7 *c, const char *b, size_t parent, size_t *idx_r)
{
	if (b == NULL) {
		*idx_r = parent;
		return 0;
	}
	if (strlen(b) > M7_BOUNDARY_MAX)
		return m7_fail(c, "a boundary over %d octets",
		    M7_BOUNDARY_MAX);
	if (c->nbnds == c->capbnds) {
		c->capbnds = c->capbnds == 0 ? 8 : c->capbnds * 2;
		c->bnds = xreallocarray(c->bnds, c->capbnds, sizeof(*c->bnds));
	}
	c->bnds[c->nbnds].s = b;
	c->bnds[c->nbnds].len = strlen(b);
	c->bnds[c->nbnds].parent = parent;
	*idx_r = c->nbnds++;
	return 0;
}

/* c->around: the boundary bi and those of the multiparts around it. */
static void
m7_around(struct m7 *c, size_t bi)
{
	c->naround = 0;
	c->around_max = 0;
	for (; bi != M7_NONE; bi = c->bnds[bi].parent) {
		if (c->naround == c->caparound) {
			c->caparound = c->caparound == 0 ? 8 :
			    c->caparound * 2;
			c->around = xreallocarray(c->around, c->caparound,
			    sizeof(*c->around));
		}
		c->around[c->naround++] = &c->bnds[bi];
		if (c->bnds[bi].len > c->around_max)
			c->around_max = c->bnds[bi].len;
	}
}

/* A part of message mi was encoded again: it and those around it. */
static void
m7_changed(struct m7 *c, size_t mi)
{
	while (mi != M7_NONE && !c->msgs[mi].changed) {
		c->msgs[mi].changed = 1;
		mi = c->msgs[mi].parent;
	}
}

/* Every header field of o: 7-bit, no bare CR, lines within 998. */
static int
m7_headers(struct m7 *c, GMimeObject *o)
{
	GMimeHeaderList	*hl = g_mime_object_get_header_list(o);
	GMimeHeader	*h;
	const char	*name, *raw;
	struct m7_scan	 s;
	int		 i, n;

	n = hl != NULL ? g_mime_header_list_get_count(hl) : 0;
	for (i = 0; i < n; i++) {
		h = g_mime_header_list_get_header_at(hl, i);
		if ((name = g_mime_header_get_name(h)) == NULL)
			name = "";
		if ((raw = g_mime_header_get_raw_value(h)) == NULL)
			raw = "";
		m7_scan_init(&s, NULL);
		m7_scan_str(name, &s);
		m7_scan_str(":", &s);
		m7_scan_str(raw, &s);
		m7_scan_end(&s);
		if (s.bad > 0)
			return m7_fail(c, "a header field with 8-bit bytes "
			    "needs SMTPUTF8");
		if (s.bare_cr)
			return m7_fail(c, "a header field with a bare CR");
		if (s.long_line)
			return m7_fail(c, "a header line over 998 octets");
	}
	return 0;
}

/* A Content-Transfer-Encoding 8bit or binary on o made 7bit. */
static void
m7_relabel(GMimeObject *o)
{
	const char		*v;
	GMimeContentEncoding	 e;

	if ((v = g_mime_object_get_header(o, "Content-Transfer-Encoding")) ==
	    NULL)
		return;
	e = g_mime_content_encoding_from_string(v);
	if (e == GMIME_CONTENT_ENCODING_8BIT ||
	    e == GMIME_CONTENT_ENCODING_BINARY)
		g_mime_object_set_header(o, "Content-Transfer-Encoding",
		    "7bit", NULL);
}

/* A preamble or epilogue (c->around set): kept when clean, else -1. */
static int
m7_edge(struct m7 *c, const char *text)
{
	struct m7_scan	s;

	if (text == NULL)
		return 0;
	m7_scan_init(&s, c);
	m7_scan_str(text, &s);
	m7_scan_end(&s);
	c->kept += s.bad;
	return m7_scan_clean(&s) ? 0 : -1;
}

static int
m7_multipart(struct m7 *c, GMimeMultipart *mp, size_t mi, size_t bnd)
{
	size_t	bi = 0;
	int	i, n;

	if (m7_add_bnd(c, g_mime_multipart_get_boundary(mp), bnd, &bi) == -1)
		return -1;
	m7_around(c, bi);
	if (m7_edge(c, g_mime_multipart_get_prologue(mp)) == -1)
		g_mime_multipart_set_prologue(mp, NULL);
	if (m7_edge(c, g_mime_multipart_get_epilogue(mp)) == -1)
		g_mime_multipart_set_epilogue(mp, NULL);
	m7_relabel(GMIME_OBJECT(mp));
	n = g_mime_multipart_get_count(mp);
	for (i = n - 1; i >= 0; i--)
		m7_push(c, g_mime_multipart_get_part(mp, i), mi, bi);
	return 0;
}

/*
 * The body of a part to encode again, decoded when its encoding is one
 * (8-bit bytes in base64 or quoted-printable are junk the decoder skips
 * or keeps): a new content, scanned into s.
 */
static int
m7_decode(struct m7 *c, GMimePart *part, GMimeDataWrapper *w,
    struct m7_scan *s)
{
	GMimeStream		*mem;
	GMimeDataWrapper	*nw;
	GByteArray		*a;

	mem = g_mime_stream_mem_new();
	if (g_mime_data_wrapper_write_to_stream(w, mem) == -1) {
		g_object_unref(mem);
		return m7_fail(c, "a part's body cannot be decoded");
	}
	a = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	m7_scan_init(s, NULL);
	m7_scan_feed(s, a->data, a->len);
	m7_scan_end(s);
	(void)g_mime_stream_reset(mem);
	nw = g_mime_data_wrapper_new_with_stream(mem,
	    GMIME_CONTENT_ENCODING_DEFAULT);
	g_mime_part_set_content(part, nw);	/* w is released */
	g_object_unref(nw);
	g_object_unref(mem);
	return 0;
}

/*
 * A text part in quoted-printable, encoded here (GMime's encoder: lines
 * of at most 76, a CR LF a line break, a lone CR =0D) so that the result
 * can be looked at (c->around set): 0 with the part set to it; 1 when a
 * line of it starts with a delimiter of a multipart around the part, the
 * part unchanged.  Such a line can be new: the encoder's soft line
 * breaks make "...75 octets--b" into "...=" and "--b".
 */
static int
m7_qp(struct m7 *c, GMimePart *part)
{
	GMimeDataWrapper	*w = g_mime_part_get_content(part), *nw;
	GMimeStream		*mem, *fs;
	GMimeFilter		*f;
	GByteArray		*a;
	struct m7_scan		 s;
	int			 rv;

	mem = g_mime_stream_mem_new();
	fs = g_mime_stream_filter_new(mem);
	f = g_mime_filter_basic_new(GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE,
	    TRUE);
	g_mime_stream_filter_add(GMIME_STREAM_FILTER(fs), f);
	g_object_unref(f);
	rv = g_mime_data_wrapper_write_to_stream(w, fs) == -1 ||
	    g_mime_stream_flush(fs) == -1 ? -1 : 0;
	g_object_unref(fs);
	if (rv == -1) {
		g_object_unref(mem);
		return m7_fail(c, "a part's body cannot be encoded");
	}
	a = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	m7_scan_init(&s, c);
	m7_scan_feed(&s, a->data, a->len);
	m7_scan_end(&s);
	if (!m7_scan_clean(&s)) {
		g_object_unref(mem);
		return 1;
	}
	(void)g_mime_stream_reset(mem);
	nw = g_mime_data_wrapper_new_with_stream(mem,
	    GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
	g_mime_part_set_content(part, nw);
	g_mime_part_set_content_encoding(part,
	    GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
	g_object_unref(nw);
	g_object_unref(mem);
	return 0;
}

static int
m7_leaf(struct m7 *c, GMimePart *part, size_t mi, size_t bnd)
{
	GMimeObject		*o = GMIME_OBJECT(part);
	GMimeDataWrapper	*w;
	GMimeStream		*st;
	GMimeContentType	*ct;
	GMimeContentEncoding	 enc;
	struct m7_scan		 s;
	int			 r;

	if ((w = g_mime_part_get_content(part)) == NULL ||
	    (st = g_mime_data_wrapper_get_stream(w)) == NULL)
		return 0;
	m7_around(c, bnd);
	m7_scan_init(&s, c);
	if (m7_scan_stream(st, &s) == -1)
		return m7_fail(c, "a part's body cannot be read");
	c->kept += s.bad;
	enc = g_mime_part_get_content_encoding(part);
	if (m7_scan_clean(&s)) {
		if (enc == GMIME_CONTENT_ENCODING_8BIT ||
		    enc == GMIME_CONTENT_ENCODING_BINARY)
			g_mime_part_set_content_encoding(part,
			    GMIME_CONTENT_ENCODING_7BIT);
		return 0;
	}

	switch (g_mime_data_wrapper_get_encoding(w)) {
	case GMIME_CONTENT_ENCODING_BASE64:
	case GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE:
	case GMIME_CONTENT_ENCODING_UUENCODE:
		if (m7_decode(c, part, w, &s) == -1)
			return -1;
		break;
	default:
		/* the bytes are the content: GMime encodes them as they are */
		break;
	}
	m7_changed(c, mi);
	ct = g_mime_object_get_content_type(o);
	if (ct == NULL || !g_mime_content_type_is_type(ct, "text", "*")) {
		g_mime_part_set_content_encoding(part,
		    GMIME_CONTENT_ENCODING_BASE64);
		return 0;
	}
	if (s.high > 0 && g_mime_content_type_is_type(ct, "text", "plain") &&
	    g_mime_object_get_content_type_parameter(o, "charset") == NULL)
		g_mime_object_set_content_type_parameter(o, "charset",
		    s.u8_bad ? "unknown-8bit" : "utf-8");
	/* no multipart around: no delimiter, GMime encodes as it writes */
	if (c->naround == 0) {
		g_mime_part_set_content_encoding(part,
		    GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
		return 0;
	}
	if ((r = m7_qp(c, part)) == 1)
		g_mime_part_set_content_encoding(part,
		    GMIME_CONTENT_ENCODING_BASE64);
	return r == -1 ? -1 : 0;
}

/* Every object of the tree under message m, without recursion. */
static int
m7_walk(struct m7 *c, GMimeMessage *m)
{
	GMimeObject	*o;
	GMimeMessage	*em;
	size_t		 mi, bi, i;

	mi = m7_add_msg(c, m, M7_NONE);
	if (m7_headers(c, GMIME_OBJECT(m)) == -1)
		return -1;
	m7_push(c, g_mime_message_get_mime_part(m), mi, M7_NONE);
	while (c->nstack > 0) {
		c->nstack--;
		o = c->stack[c->nstack].obj;
		mi = c->stack[c->nstack].msg;
		bi = c->stack[c->nstack].bnd;
		if (m7_headers(c, o) == -1)
			return -1;
		if (GMIME_IS_MULTIPART(o)) {
			if (m7_multipart(c, GMIME_MULTIPART(o), mi, bi) == -1)
				return -1;
		} else if (GMIME_IS_MESSAGE_PART(o)) {
			m7_relabel(o);
			em = g_mime_message_part_get_message(
			    GMIME_MESSAGE_PART(o));
			/* GMime could not read it (the input ends inside a
			 * field name): it would write nothing of it */
			if (em == NULL)
				return m7_fail(c, "an enclosed message that "
				    "cannot be parsed");
			mi = m7_add_msg(c, em, mi);
			if (m7_headers(c, GMIME_OBJECT(em)) == -1)
				return -1;
			m7_push(c, g_mime_message_get_mime_part(em), mi, bi);
		} else if (GMIME_IS_PART(o)) {
			if (m7_leaf(c, GMIME_PART(o), mi, bi) == -1)
				return -1;
		} else
			return m7_fail(c, "a MIME object of an unknown kind");
	}
	for (i = 0; i < c->nmsgs; i++)
		if (c->msgs[i].changed && g_mime_object_get_header(
		    GMIME_OBJECT(c->msgs[i].m), "MIME-Version") == NULL)
			g_mime_object_set_header(GMIME_OBJECT(c->msgs[i].m),
			    "MIME-Version", "1.0", NULL);
	return 0;
}
/*
 * Parse msg with GMime, convert, write the result into out.  The
 * GByteArray takes msg over for the parser's mem stream (not its owner,
 * so that nothing frees or writes msg) and gives it back at the end.
 */
static int
m7_parse(struct m7 *c, const unsigned char *msg, size_t len, uint64_t bad,
    struct buf *out)
{
	GByteArray		*in_arr, *res;
	GMimeStream		*in, *os = NULL;
	GMimeParser		*parser;
	GMimeMessage		*m;
	GMimeFormatOptions	*fo = NULL;
	const char		*why;
	size_t			 extra;
	int			 rv = -1;

	/* GLib's array lengths are guint */
	SP_ASSERT(len <= G_MAXUINT);
	in_arr = g_byte_array_new_take((guint8 *)(uintptr_t)msg, len);
	in = g_mime_stream_mem_new_with_byte_array(in_arr);
	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(in), FALSE);
	parser = g_mime_parser_new_with_stream(in);
	g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
	if ((m = g_mime_parser_construct_message(parser, NULL)) == NULL) {
		m7_fail(c, "the message cannot be parsed");
		goto done;
	}
	if (m7_walk(c, m) == -1)
		goto done;
	if (c->kept != bad) {
		m7_fail(c, "8-bit bytes or NULs in a header block or in "
		    "header lines that cannot be read");
		goto done;
	}
	fo = g_mime_format_options_new();
	g_mime_format_options_set_newline_format(fo,
	    GMIME_NEWLINE_FORMAT_DOS);
	os = g_mime_stream_mem_new();
	if (g_mime_object_write_to_stream(GMIME_OBJECT(m), fo, os) == -1) {
		m7_fail(c, "the converted message cannot be written");
		goto done;
	}
	res = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(os));
	/* the assertion: nothing leaves that is not 7-bit */
	if (m7_check(res->data, res->len, &extra, &why) == -1) {
		m7_fail(c, "the conversion left %s", why);
		goto done;
	}
	rv = m7_emit(c, res->data, res->len, extra, out);
done:
	if (os != NULL)
		g_object_unref(os);
	if (fo != NULL)
		g_mime_format_options_free(fo);
	if (m != NULL)
		g_object_unref(m);
	g_object_unref(parser);
	g_object_unref(in);
	(void)g_byte_array_steal(in_arr, NULL);	/* msg is the caller's */
	return rv;
}

int
mta_7bit_convert(const unsigned char *msg, size_t len, struct buf *out,
    char *err, size_t errlen)
{
	struct m7	 c;
	const char	*why;
	size_t		 extra;
	uint64_t	 bad;
	int		 rv;

	SP_ASSERT(m7_inited);
	memset(&c, 0, sizeof(c));
	c.err = err;
	c.errlen = errlen;
	c.budget = M7_DELIM_BUDGET;
	if (errlen > 0)
		err[0] = '\0';
	buf_reset(out);
	if (len > MTA_7BIT_MAX_INPUT)
		return m7_fail(&c, "the message is over %d bytes",
		    MTA_7BIT_MAX_INPUT);
	if (m7_check(msg, len, &extra, &why) == 0) {
		if ((rv = m7_emit(&c, msg, len, extra, out)) == -1)
			buf_reset(out);
		return rv;
	}
	if (m7_bounds(&c, msg, len) == -1)
		return -1;
	bad = m7_count_bad(msg, len);
	rv = m7_parse(&c, msg, len, bad, out);
	free(c.stack);
	free(c.msgs);
	free(c.bnds);
	free(c.around);
	if (rv == -1)
		buf_reset(out);
	return rv;
}
