/* SPDX-License-Identifier: ISC */
/*
 * downgrade.c - the top-level header block of a message with raw UTF-8
 * (SMTPUTF8 mail, RFC 6532) written again in 7-bit, for an IMAP client
 * that has not enabled UTF8=ACCEPT (RFC 6855 section 7, which points to
 * RFC 6857 and RFC 6858).
 *
 * Process:  the account's mail process (FETCH), inside its jail: GMime
 *           initialised by meta_init before the jail, iconv's modules
 *           there (RECIPES.md 10) for the charsets of the encoded-words
 *           and RFC 2231 values GMime decodes.
 * Trust:    the block is hostile.  The work is linear in its size: one
 *           pass over its lines; GMime is given at most the block's bytes,
 *           each value cut as meta_build cuts it (META_MAX_ADDR_COLONS:
 *           GMime recurses once per nested group; META_READ_ADDRS,
 *           META_READ_PARAMS: it makes an object per address and
 *           parameter; what is past a cut is lost, as in the metadata),
 *           and IDNA (libidn2 through GMime) only addresses that fit an
 *           SMTP path; no recursion here (an explicit stack).
 *           What GMime writes is checked to be 7-bit before it is used.
 * Limits:   META_MAX_HDR_BLOCK and META_MAX_HDR_FIELDS (meta.h),
 *           DOWNGRADE_MAX_OUTPUT (downgrade.h): past one, -1.
 * See also: meta_gmime.c (the other file that reads header values with
 *           GMime), tests/unit/test_downgrade.c, tests/fuzz/fuzz_downgrade.c
 *
 * The rules.
 *  - A block whose bytes are all 7-bit is left as it is (0), whatever
 *    else it holds.  Any other block is read as lines ending at LF; a line
 *    that starts with SP or HT continues the one before it.  A field is a
 *    line "name:" (the name printable ASCII but ':', blanks allowed only
 *    between it and the colon) with its continuation lines; any other
 *    line, with its continuations, is not a field.
 *  - A field, or a line that is not one, whose bytes are all 7-bit, none
 *    a NUL, every CR before an LF and every line at most 998 bytes, is
 *    copied byte for byte: folding and line ends unchanged.
 *  - Any other line that is not a field is dropped: nothing says what it
 *    was (an 8-bit byte in a field's name makes its line such a line).
 *  - Any other field is unfolded (its line breaks removed, any other CR a
 *    space, the value ended by a NUL as GMime ends it, blanks trimmed).
 *    A value that is not valid UTF-8 is read as ISO-8859-1, all of it, as
 *    meta.h reads 8-bit text: no byte is lost, none refused.  The field
 *    keeps its name as written and gets a new value by its name (in any
 *    case):
 *     From, Sender, Reply-To, To, Cc, Bcc, Resent-From, Resent-Sender,
 *     Resent-To, Resent-Cc, Resent-Bcc: GMime's reading of the address
 *       list (internet_address_list_parse).  A display name is written as
 *       it is when it is printable ASCII atoms, quoted when printable
 *       ASCII, else as encoded-words.  An address is written as GMime's
 *       IDNA form of it (the domain in punycode) when that is printable
 *       ASCII of at most 254 bytes (an SMTP path, RFC 5321 4.5.3.1.3);
 *       any other mailbox (a non-ASCII local part, a domain IDNA refuses,
 *       no address) becomes an empty group whose display name is the
 *       encoded-words form of the original "Name <address>", as in
 *       "=?UTF-8?B?SsO2cmcgPGrDtnJnQGV4YW1wbGUuZGU+?= :;" for "J\xc3\xb6rg
 *       <j\xc3\xb6rg@example.de>" (RFC 6858's idea: the reader sees who
 *       it was, nobody can reply to a wrong address).  A group keeps
 *       its name and its other members; a member that becomes an empty
 *       group moves out to just after its group (groups do not nest, RFC
 *       5322 3.4), and the members of a group GMime finds inside a group
 *       join the outer one.  A value in which GMime finds no address
 *       becomes one empty group holding all of it (a 7-bit one stays as
 *       it is).
 *     Return-Path: "<address>" as above, else "<>".
 *     Delivered-To: the address as above, else the field is dropped (it
 *       names a local mailbox; no client needs a mangled one).
 *     Message-ID, In-Reply-To, References, Content-ID, Resent-Message-ID:
 *       dropped when 8-bit (an id cannot be written in 7-bit and still
 *       match), else only unfolded and folded again.
 *     Content-Type, Content-Disposition: GMime's reading; the type (or
 *       the disposition) kept and the parameters written by GMime, which
 *       uses RFC 2231 for those that need it (8-bit or long).  A
 *       parameter whose name is not an RFC 2231 attribute (or is over
 *       DG_PARAM_NAME_MAX bytes), or whose value is empty, is dropped; a
 *       control character in a value becomes a space.  A type GMime
 *       cannot read, or that is not a token, drops the field (the part
 *       is then text/plain, as meta_build reads an unreadable type).
 *     Any other (Subject, Comments, Keywords, Received, unknown ones):
 *       the text, with RFC 2047 encoded-words in UTF-8 for each word
 *       that needs them (8-bit, a control character, "=?", over 77
 *       bytes), adjacent such words in one run (the blanks between them
 *       encoded too); other words and the blanks around them stay as
 *       they are, so that the text reads the same once decoded.
 *  - A field written again is folded at its blanks (the one after its
 *    colon too), so that no line is over 78 bytes where a blank allows
 *    it, and none over 998 (an encoded-word that begins a value is made
 *    short enough to fit beside the name); a field that cannot fit in 998
 *    (a name that long, 998 blanks in a row) is dropped.  Its lines end
 *    in CRLF when the block's first line does, else in LF, and its last
 *    line ends as its last line did (so a block without the empty line
 *    may end without a line end, as it did).
 *  - The empty line that ends the block is copied when it is there; a
 *    byte after it is an error (that is no header block).
 *
 * Encoded-words are written here, not with GMime's encoders: GMime 3.2.13
 * (Debian 12) decodes adjacent B words of one charset as one, and stops at
 * the padding of the first (GMime issue 133), so its own encoder's output
 * for a text over 45 bytes decodes cut short.  Here every B word but the
 * last of a run holds a multiple of three bytes (no padding), or the word
 * is Q; a run is Q or B, whichever is shorter; each word holds whole
 * characters in at most 75 bytes (RFC 2047 2 and 5), and Q uses only the
 * characters RFC 2047 5(3) allows in a phrase, so that one encoder serves
 * text and display names.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gmime/gmime.h>

#include "buf.h"
#include "log.h"
#include "xmalloc.h"
#include "meta.h"
#include "downgrade.h"
#include "banned.h"

#define DG_LINE_SOFT	78	/* RFC 5322 2.1.1: SHOULD, without CRLF */
#define DG_LINE_HARD	998	/* RFC 5322 2.1.1: MUST, without CRLF */
#define DG_WORD_PLAIN	77	/* longest word kept plain: " " + it fits 78 */
#define DG_EW_MAX	75	/* RFC 2047 2: an encoded-word's bytes */
#define DG_EW_FIXED	12	/* "=?UTF-8?X?" and "?=" */
#define DG_EW_MIN	24	/* holds any character (4 bytes, Q) */
#define DG_ADDR_MAX	254	/* RFC 5321 4.5.3.1.3: 256 with the <> */
#define DG_PARAM_NAME_MAX 64	/* longer parameter names are dropped */

enum dg_kind {
	DG_TEXT,
	DG_ADDR,
	DG_RETURN_PATH,
	DG_DELIVERED_TO,
	DG_ID,
	DG_CTYPE,
	DG_CDISP
};

static const struct {
	const char	*name;		/* lower case */
	enum dg_kind	 kind;
} dg_fields[] = {
	{ "from",		DG_ADDR },
	{ "sender",		DG_ADDR },
	{ "reply-to",		DG_ADDR },
	{ "to",			DG_ADDR },
	{ "cc",			DG_ADDR },
	{ "bcc",		DG_ADDR },
	{ "resent-from",	DG_ADDR },
	{ "resent-sender",	DG_ADDR },
	{ "resent-to",		DG_ADDR },
	{ "resent-cc",		DG_ADDR },
	{ "resent-bcc",		DG_ADDR },
	{ "return-path",	DG_RETURN_PATH },
	{ "delivered-to",	DG_DELIVERED_TO },
	{ "message-id",		DG_ID },
	{ "in-reply-to",	DG_ID },
	{ "references",		DG_ID },
	{ "content-id",		DG_ID },
	{ "resent-message-id",	DG_ID },
	{ "content-type",	DG_CTYPE },
	{ "content-disposition", DG_CDISP }
};

struct dg {
	const unsigned char	*hdr;
	size_t			 len;
	const char		*eol;	/* of fields written again */
	size_t			 eol_len;
	size_t			 room0;	/* after "Name: " on the first line */
	struct buf		*out;	/* the new block */
	struct buf		*val;	/* a field's new value, on one line */
	struct buf		*lines;	/* the field, folded */
	struct buf		*later;	/* empty groups after this group */
};

static GMimeParserOptions	*dg_popts;
static GMimeFormatOptions	*dg_fopts;

static void
dg_init(void)
{
	/* as meta_gmime.c: 8-bit text is UTF-8 if it is, else ISO-8859-1 */
	static const char	*charsets[] = { "utf-8", "iso-8859-1", NULL };

	if (dg_popts != NULL)
		return;
	meta_init();		/* g_mime_init, once per process */
	dg_popts = g_mime_parser_options_new();
	g_mime_parser_options_set_fallback_charsets(dg_popts, charsets);
	dg_fopts = g_mime_format_options_new();
	g_mime_format_options_set_param_encoding_method(dg_fopts,
	    GMIME_PARAM_ENCODING_METHOD_RFC2231);
}

/* --- encoded-words (RFC 2047) --- */

/* RFC 2047 5(3): what Q may leave as it is, even in a phrase */
static int
dg_q_safe(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '!' || c == '*' || c == '+' ||
	    c == '-' || c == '/';
}

static size_t
dg_q_cost(unsigned char c)
{
	return dg_q_safe(c) || c == ' ' ? 1 : 3;
}

/* Bytes of the UTF-8 character at p (1 for a byte that starts none). */
static size_t
dg_u8len(const unsigned char *p, size_t n)
{
	size_t	k;

	if (p[0] < 0xc0)
		k = 1;
	else if (p[0] < 0xe0)
		k = 2;
	else if (p[0] < 0xf0)
		k = 3;
	else
		k = 4;
	return k > n ? 1 : k;
}

static int
dg_add_q(struct buf *b, const unsigned char *p, size_t n)
{
	static const char	hex[] = "0123456789ABCDEF";
	char			e[3];
	size_t			i;

	for (i = 0; i < n; i++) {
		if (dg_q_safe(p[i])) {
			if (buf_add(b, &p[i], 1) == -1)
				return -1;
		} else if (p[i] == ' ') {
			if (buf_add(b, "_", 1) == -1)
				return -1;
		} else {
			e[0] = '=';
			e[1] = hex[p[i] >> 4];
			e[2] = hex[p[i] & 0x0f];
			if (buf_add(b, e, sizeof(e)) == -1)
				return -1;
		}
	}
	return 0;
}

static int
dg_add_b64(struct buf *b, const unsigned char *p, size_t n)
{
	static const char	b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				    "abcdefghijklmnopqrstuvwxyz0123456789+/";
	char			q[4];
	uint32_t		v;
	size_t			i, k;

	for (i = 0; i < n; i += 3) {
		k = n - i < 3 ? n - i : 3;
		v = (uint32_t)p[i] << 16;
		if (k > 1)
			v |= (uint32_t)p[i + 1] << 8;
		if (k > 2)
			v |= p[i + 2];
		q[0] = b64[(v >> 18) & 0x3f];
		q[1] = b64[(v >> 12) & 0x3f];
		q[2] = k > 1 ? b64[(v >> 6) & 0x3f] : '=';
		q[3] = k > 2 ? b64[v & 0x3f] : '=';
		if (buf_add(b, q, sizeof(q)) == -1)
			return -1;
	}
	return 0;
}

/*
 * The n bytes at p (UTF-8) as encoded-words separated by spaces: each a
 * whole number of characters, at most DG_EW_MAX bytes, or room0 for the
 * first when it begins the value (so that it fits beside the name).
 */
static int
dg_ew(struct buf *b, const unsigned char *p, size_t n, size_t room0)
{
	size_t	i, j, k, c, cost, len, qlen = 0, best0, bestany, text;
	int	q, wq, first = 1;

	for (i = 0; i < n; i++)
		qlen += dg_q_cost(p[i]);
	q = qlen <= (n + 2) / 3 * 4;	/* Q reads better; B is shorter */
	if (b->len > 0 || room0 < DG_EW_MIN || room0 > DG_EW_MAX)
		room0 = DG_EW_MAX;
	while (n > 0) {
		text = (first ? room0 : DG_EW_MAX) - DG_EW_FIXED;
		len = 0;
		wq = q;
		if (!q) {
			best0 = bestany = 0;
			for (i = 0; i < n; i += k) {
				k = dg_u8len(p + i, n - i);
				if (i + k > text / 4 * 3)
					break;
				bestany = i + k;
				if (bestany % 3 == 0)
					best0 = bestany;
			}
			/*
			 * No padding but in a run's last word: GMime 3.2.13
			 * decodes the B words of a run as one (see above).
			 */
			if (bestany == n)
				len = n;
			else if (best0 > 0)
				len = best0;
			else
				wq = 1;
		}
		if (wq) {
			cost = 0;
			for (i = 0; i < n; i += k) {
				k = dg_u8len(p + i, n - i);
				for (c = 0, j = 0; j < k; j++)
					c += dg_q_cost(p[i + j]);
				if (cost + c > text)
					break;
				cost += c;
			}
			len = i;
		}
		SP_ASSERT(len > 0 && len <= n);
		if ((!first && buf_add(b, " ", 1) == -1) ||
		    buf_add(b, wq ? "=?UTF-8?Q?" : "=?UTF-8?B?", 10) == -1 ||
		    (wq ? dg_add_q(b, p, len) : dg_add_b64(b, p, len)) == -1 ||
		    buf_add(b, "?=", 2) == -1)
			return -1;
		first = 0;
		p += len;
		n -= len;
	}
	return 0;
}

/* May this word of a text stay as it is? */
static int
dg_word_plain(const unsigned char *p, size_t n)
{
	size_t	i;

	if (n > DG_WORD_PLAIN)
		return 0;
	for (i = 0; i < n; i++) {
		if (p[i] < 0x20 || p[i] >= 0x7f)
			return 0;
		/* it would be read as an encoded-word */
		if (p[i] == '=' && i + 1 < n && p[i + 1] == '?')
			return 0;
	}
	return 1;
}

/* Unstructured text (UTF-8, trimmed, no CR or LF) for any reader. */
static int
dg_text(struct buf *b, const unsigned char *s, size_t n, size_t room0)
{
	size_t	i = 0, ws, w, rs = 0, re = 0;
	int	open = 0;

	while (i < n) {
		for (ws = i; i < n && (s[i] == ' ' || s[i] == '\t'); i++)
			;
		for (w = i; i < n && s[i] != ' ' && s[i] != '\t'; i++)
			;
		if (w == i)
			break;
		if (!dg_word_plain(s + w, i - w)) {
			if (!open) {
				if (buf_add(b, s + ws, w - ws) == -1)
					return -1;
				open = 1;
				rs = w;
			}
			re = i;		/* the blanks between are encoded */
			continue;
		}
		if (open) {
			if (dg_ew(b, s + rs, re - rs, room0) == -1)
				return -1;
			open = 0;
		}
		if (buf_add(b, s + ws, i - ws) == -1)
			return -1;
	}
	if (open && dg_ew(b, s + rs, re - rs, room0) == -1)
		return -1;
	return 0;
}

/* RFC 5322 3.2.3 atext */
static int
dg_atext(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') ||
	    (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* A display name (UTF-8, trimmed) as an RFC 5322 phrase. */
static int
dg_phrase(struct buf *b, const char *s, size_t room0)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 n = strlen(s), i, w = 0;
	int			 plain = 1, atoms = 1;

	if (n == 0)
		return buf_add(b, "\"\"", 2);
	for (i = 0; i < n; i++) {
		if (p[i] == ' ') {
			w = 0;
			continue;
		}
		if (p[i] < 0x20 || p[i] >= 0x7f ||
		    (p[i] == '=' && i + 1 < n && p[i + 1] == '?') ||
		    ++w > DG_WORD_PLAIN)
			plain = 0;
		else if (!dg_atext(p[i]))
			atoms = 0;
	}
	if (!plain)
		return dg_ew(b, p, n, room0);
	if (atoms)
		return buf_add(b, s, n);
	if (buf_add(b, "\"", 1) == -1)
		return -1;
	for (i = 0; i < n; i++)
		if (((p[i] == '"' || p[i] == '\\') &&
		    buf_add(b, "\\", 1) == -1) || buf_add(b, &p[i], 1) == -1)
			return -1;
	return buf_add(b, "\"", 1);
}

/* --- address fields --- */

/* GMime's string as valid UTF-8 without blanks around it; g_free. */
static char *
dg_gstr(const char *s)
{
	char	*r;

	if (s == NULL)
		s = "";
	r = g_utf8_validate(s, -1, NULL) ? g_strdup(s) :
	    g_utf8_make_valid(s, -1);
	return g_strstrip(r);
}

/* Printable ASCII only? */
static int
dg_printable(const char *s, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return 0;
	return 1;
}

/* The mailbox's address as it may be written in 7-bit, or NULL. */
static const char *
dg_mb_addr(InternetAddressMailbox *mb)
{
	const char	*a;
	size_t		 n;

	a = internet_address_mailbox_get_addr(mb);
	/*
	 * SECURITY: IDNA (punycode is quadratic in a label's length) only
	 * for what fits in an SMTP path.
	 */
	if (a == NULL || (n = strlen(a)) == 0 || n > DG_ADDR_MAX)
		return NULL;
	a = internet_address_mailbox_get_idn_addr(mb);
	if (a == NULL || (n = strlen(a)) == 0 || n > DG_ADDR_MAX ||
	    !dg_printable(a, n))
		return NULL;
	return a;
}

/*
 * A mailbox: "Name <addr>" or "addr" when addr (from dg_mb_addr) is not
 * NULL, else the empty group "=?...?= :;" naming the original.
 */
static int
dg_mb_write(struct buf *b, InternetAddress *ia, const char *addr,
    size_t room0)
{
	GString	*t;
	char	*name, *raw;
	int	 r;

	name = dg_gstr(internet_address_get_name(ia));
	if (addr != NULL) {
		r = 0;
		if (*name != '\0')
			r = dg_phrase(b, name, room0) == -1 ||
			    buf_add(b, " <", 2) == -1 ||
			    buf_add(b, addr, strlen(addr)) == -1 ||
			    buf_add(b, ">", 1) == -1 ? -1 : 0;
		else
			r = buf_add(b, addr, strlen(addr));
		g_free(name);
		return r;
	}
	raw = dg_gstr(internet_address_mailbox_get_addr(
	    (InternetAddressMailbox *)ia));
	t = g_string_new(name);
	if (*name != '\0' && *raw != '\0')
		g_string_append(t, " <");
	if (*raw != '\0')
		g_string_append(t, raw);
	if (*name != '\0' && *raw != '\0')
		g_string_append_c(t, '>');
	r = dg_phrase(b, t->str, room0) == -1 ||
	    buf_add(b, " :;", 3) == -1 ? -1 : 0;
	g_string_free(t, TRUE);
	g_free(raw);
	g_free(name);
	return r;
}

/*
 * Write GMime's list into d->val.  In order, without recursion: a stack
 * as deep as GMime's nesting, which the colon cut bounds.
 */
static int
dg_addr_walk(struct dg *d, InternetAddressList *top)
{
	struct {
		InternetAddressList	*list;
		int			 next;
	}			 st[META_MAX_ADDR_COLONS + 2];
	struct buf		*b = d->val;
	InternetAddress		*ia;
	InternetAddressList	*members;
	const char		*addr;
	char			*name;
	int			 sp = 0, ntop = 0, nmem = 0, r;

	buf_reset(d->later);
	st[0].list = top;
	st[0].next = 0;
	while (sp >= 0) {
		if (st[sp].next >= internet_address_list_length(st[sp].list)) {
			if (sp == 1) {
				/* the group's end, then its moved members */
				if (buf_add(b, ";", 1) == -1 ||
				    buf_add(b, d->later->data,
				    d->later->len) == -1)
					return -1;
				buf_reset(d->later);
			}
			sp--;
			continue;
		}
		ia = internet_address_list_get_address(st[sp].list,
		    st[sp].next++);
		if (INTERNET_ADDRESS_IS_GROUP(ia)) {
			members = internet_address_group_get_members(
			    (InternetAddressGroup *)ia);
			if (sp == 0) {
				if (ntop++ > 0 && buf_add(b, ", ", 2) == -1)
					return -1;
				name = dg_gstr(internet_address_get_name(ia));
				r = dg_phrase(b, name, d->room0);
				g_free(name);
				if (r == -1 || buf_add(b, ":", 1) == -1)
					return -1;
				nmem = 0;
			}
			if (members != NULL &&
			    sp + 1 < (int)(sizeof(st) / sizeof(st[0]))) {
				st[++sp].list = members;
				st[sp].next = 0;
			} else if (sp == 0 && buf_add(b, ";", 1) == -1)
				return -1;
		} else if (INTERNET_ADDRESS_IS_MAILBOX(ia)) {
			addr = dg_mb_addr((InternetAddressMailbox *)ia);
			if (sp == 0) {
				if ((ntop++ > 0 && buf_add(b, ", ", 2) == -1) ||
				    dg_mb_write(b, ia, addr, d->room0) == -1)
					return -1;
			} else if (addr != NULL) {
				if (buf_add(b, nmem > 0 ? ", " : " ",
				    nmem > 0 ? 2 : 1) == -1 ||
				    dg_mb_write(b, ia, addr, d->room0) == -1)
					return -1;
				nmem++;
			} else if (buf_add(d->later, ", ", 2) == -1 ||
			    dg_mb_write(d->later, ia, NULL, d->room0) == -1)
				return -1;
		}
	}
	return 0;
}

/* The length of v (n bytes) before its max-th sep, or n. */
static size_t
dg_cut(const char *v, size_t n, char sep, size_t max)
{
	size_t	i, k = 0;

	for (i = 0; i < n; i++)
		if (v[i] == sep && ++k >= max)
			return i;
	return n;
}

/*
 * GMime's reading of an address value, or NULL.  SECURITY: GMime sees it
 * only up to its META_MAX_ADDR_COLONS+1-th ':' (its parser recurses once
 * per group in a group) and its META_READ_ADDRS-th ',' (as meta_gmime.c).
 */
static InternetAddressList *
dg_parse_addrs(const char *v, size_t n)
{
	InternetAddressList	*l;
	char			*cut;

	n = dg_cut(v, n, ':', META_MAX_ADDR_COLONS + 1);
	n = dg_cut(v, n, ',', META_READ_ADDRS);
	cut = xstrndup(v, n);
	l = internet_address_list_parse(dg_popts, cut);
	free(cut);
	if (l != NULL && internet_address_list_length(l) <= 0) {
		g_object_unref(l);
		l = NULL;
	}
	return l;
}

static int
dg_addresses(struct dg *d, const char *v, size_t n, int has8)
{
	InternetAddressList	*l;
	int			 r;

	if ((l = dg_parse_addrs(v, n)) == NULL) {
		if (!has8)
			return buf_add(d->val, v, n) == -1 ? -1 : 1;
		return dg_phrase(d->val, v, d->room0) == -1 ||
		    buf_add(d->val, " :;", 3) == -1 ? -1 : 1;
	}
	r = dg_addr_walk(d, l);
	g_object_unref(l);
	return r == -1 ? -1 : 1;
}

/* Return-Path ("<addr>", or "<>") and Delivered-To ("addr", or dropped) */
static int
dg_path(struct dg *d, const char *v, size_t n, enum dg_kind kind)
{
	InternetAddressList	*l;
	InternetAddress		*ia;
	const char		*addr = NULL;
	int			 r;

	if ((l = dg_parse_addrs(v, n)) != NULL) {
		ia = internet_address_list_get_address(l, 0);
		if (INTERNET_ADDRESS_IS_MAILBOX(ia))
			addr = dg_mb_addr((InternetAddressMailbox *)ia);
	}
	if (addr == NULL)
		r = kind == DG_RETURN_PATH ?
		    (buf_add(d->val, "<>", 2) == -1 ? -1 : 1) : 0;
	else if (kind == DG_RETURN_PATH)
		r = buf_add(d->val, "<", 1) == -1 ||
		    buf_add(d->val, addr, strlen(addr)) == -1 ||
		    buf_add(d->val, ">", 1) == -1 ? -1 : 1;
	else
		r = buf_add(d->val, addr, strlen(addr)) == -1 ? -1 : 1;
	if (l != NULL)
		g_object_unref(l);
	return r;
}

/* --- Content-Type, Content-Disposition --- */

/* An RFC 2045 token (attr: an RFC 2231 attribute) of 1..max bytes? */
static int
dg_token(const char *s, size_t max, int attr)
{
	size_t	i, n;

	if (s == NULL || (n = strlen(s)) == 0 || n > max)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 ||
		    (unsigned char)s[i] >= 0x7f ||
		    strchr("()<>@,;:\\\"/[]?=", s[i]) != NULL ||
		    (attr && strchr("*'%", s[i]) != NULL))
			return 0;
	return 1;
}

/* Parameters GMime may write: names that are attributes, values text. */
static void
dg_params_clean(GMimeParamList *pl)
{
	GMimeParam	*p;
	const char	*v;
	char		*c;
	size_t		 j;
	int		 i;

	for (i = g_mime_param_list_length(pl) - 1; i >= 0; i--) {
		p = g_mime_param_list_get_parameter_at(pl, i);
		if (p == NULL ||
		    !dg_token(g_mime_param_get_name(p), DG_PARAM_NAME_MAX, 1)) {
			g_mime_param_list_remove_at(pl, i);
			continue;
		}
		/* GMime writes an empty value as "name=", not a token */
		if ((v = g_mime_param_get_value(p)) == NULL || *v == '\0') {
			g_mime_param_list_remove_at(pl, i);
			continue;
		}
		/*
		 * SECURITY: GMime writes a decoded value's controls raw in a
		 * quoted string, "%0D%0A" as a line break.
		 */
		c = g_utf8_validate(v, -1, NULL) ? g_strdup(v) :
		    g_utf8_make_valid(v, -1);
		for (j = 0; c[j] != '\0'; j++)
			if ((unsigned char)c[j] < 0x20 ||
			    (unsigned char)c[j] == 0x7f)
				c[j] = ' ';
		if (strcmp(c, v) != 0)
			g_mime_param_set_value(p, c);
		g_free(c);
	}
}

static int
dg_params(struct dg *d, const char *v, size_t n, enum dg_kind kind)
{
	GMimeContentType	*ct = NULL;
	GMimeContentDisposition	*cd = NULL;
	GMimeParamList		*pl = NULL;
	GString			*s = NULL;
	const char		*t, *st;
	char			*cut;
	int			 r = 0;

	/* SECURITY: GMime makes an object per parameter (meta.h) */
	cut = xstrndup(v, dg_cut(v, n, ';', META_READ_PARAMS));
	if (kind == DG_CTYPE) {
		if ((ct = g_mime_content_type_parse(dg_popts, cut)) == NULL)
			goto done;
		t = g_mime_content_type_get_media_type(ct);
		st = g_mime_content_type_get_media_subtype(ct);
		if (!dg_token(t, META_MAX_TYPE, 0) ||
		    !dg_token(st, META_MAX_TYPE, 0))
			goto done;
		/* GMime's answer for a value it cannot read (meta_gmime.c) */
		if (g_ascii_strcasecmp(t, "application") == 0 &&
		    g_ascii_strcasecmp(st, "octet-stream") == 0 &&
		    g_ascii_strncasecmp(v, "application", 11) != 0)
			goto done;
		s = g_string_new(t);
		g_string_append_c(s, '/');
		g_string_append(s, st);
		pl = g_mime_content_type_get_parameters(ct);
	} else {
		if ((cd = g_mime_content_disposition_parse(dg_popts, cut)) ==
		    NULL)
			goto done;
		t = g_mime_content_disposition_get_disposition(cd);
		if (!dg_token(t, META_MAX_TYPE, 0))
			goto done;
		s = g_string_new(t);
		pl = g_mime_content_disposition_get_parameters(cd);
	}
	if (pl != NULL) {
		dg_params_clean(pl);
		g_mime_param_list_encode(pl, dg_fopts, FALSE, s);
	}
	/* SECURITY: what GMime wrote is checked, not trusted */
	if (!dg_printable(s->str, s->len))
		goto done;
	r = buf_add(d->val, s->str, s->len) == -1 ? -1 : 1;
done:
	if (s != NULL)
		g_string_free(s, TRUE);
	if (ct != NULL)
		g_object_unref(ct);
	if (cd != NULL)
		g_object_unref(cd);
	free(cut);
	return r;
}

/* --- the block --- */

/* After the LF that ends the line at pos, or the block's end. */
static size_t
dg_line_end(const struct dg *d, size_t pos)
{
	const unsigned char	*nl;

	nl = memchr(d->hdr + pos, '\n', d->len - pos);
	return nl == NULL ? d->len : (size_t)(nl - d->hdr) + 1;
}

/*
 * Is the line [ls, le) a field's first line?  Then its colon and the end
 * of its name.  As meta_build.c's reader, but a name is printable ASCII.
 */
static int
dg_name(const struct dg *d, size_t ls, size_t le, size_t *colon_r,
    size_t *nend_r)
{
	const unsigned char	*p = d->hdr;
	size_t			 i;

	for (i = ls; i < le && p[i] > 0x20 && p[i] < 0x7f && p[i] != ':'; i++)
		;
	if (i == ls)
		return 0;
	*nend_r = i;
	while (i < le && (p[i] == ' ' || p[i] == '\t'))
		i++;
	if (i == le || p[i] != ':')
		return 0;
	*colon_r = i;
	return 1;
}

/* May [s, e) be copied as it is: 7-bit, no NUL, no bare CR, short lines? */
static int
dg_clean(const struct dg *d, size_t s, size_t e)
{
	const unsigned char	*p = d->hdr;
	size_t			 i, ls = s, ll;

	for (i = s; i < e; i++) {
		if (p[i] == '\0' || p[i] >= 0x80)
			return 0;
		if (p[i] == '\r' && (i + 1 == e || p[i + 1] != '\n'))
			return 0;
		if (p[i] == '\n') {
			ll = i - ls;
			if (ll > 0 && p[i - 1] == '\r')
				ll--;
			if (ll > DG_LINE_HARD)
				return 0;
			ls = i + 1;
		}
	}
	return e - ls <= DG_LINE_HARD;
}

/*
 * The value [s, e) unfolded: line breaks removed, any other CR a space,
 * ended by a NUL, blanks trimmed.  xmalloc'd, NUL-terminated.
 */
static char *
dg_unfold(const struct dg *d, size_t s, size_t e, size_t *n_r)
{
	const unsigned char	*p = d->hdr;
	char			*v;
	size_t			 i, n = 0, a = 0;

	v = xmalloc(e - s + 1);
	for (i = s; i < e && p[i] != '\0'; i++) {
		if (p[i] == '\n' || (p[i] == '\r' && i + 1 < e &&
		    p[i + 1] == '\n'))
			continue;
		v[n++] = p[i] == '\r' ? ' ' : (char)p[i];
	}
	while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	while (a < n && (v[a] == ' ' || v[a] == '\t'))
		a++;
	memmove(v, v + a, n - a);
	n -= a;
	v[n] = '\0';
	*n_r = n;
	return v;
}

/* ISO-8859-1 to UTF-8: every byte is a character.  xmalloc'd. */
static char *
dg_latin1(const char *v, size_t n, size_t *n_r)
{
	const unsigned char	*p = (const unsigned char *)v;
	char			*r;
	size_t			 i, k = 0;

	r = xreallocarray(NULL, n + 1, 2);
	for (i = 0; i < n; i++) {
		if (p[i] < 0x80)
			r[k++] = (char)p[i];
		else {
			r[k++] = (char)(0xc0 | (p[i] >> 6));
			r[k++] = (char)(0x80 | (p[i] & 0x3f));
		}
	}
	r[k] = '\0';
	*n_r = k;
	return r;
}

static enum dg_kind
dg_kind_of(const struct dg *d, size_t ls, size_t nend)
{
	size_t	i, j, n = nend - ls;
	int	c;

	for (i = 0; i < sizeof(dg_fields) / sizeof(dg_fields[0]); i++) {
		if (strlen(dg_fields[i].name) != n)
			continue;
		for (j = 0; j < n; j++) {
			c = d->hdr[ls + j];
			if (c >= 'A' && c <= 'Z')
				c = c - 'A' + 'a';
			if (c != dg_fields[i].name[j])
				break;
		}
		if (j == n)
			return dg_fields[i].kind;
	}
	return DG_TEXT;
}

/*
 * Write the field: its name as written (prefix, its colon included), a
 * space and d->val folded at its blanks.  0 (nothing written) when it
 * does not fit in lines of DG_LINE_HARD bytes.
 */
static int
dg_fold(struct dg *d, const unsigned char *prefix, size_t plen, int eol)
{
	const unsigned char	*v = d->val->data;
	struct buf		*b = d->lines;
	size_t			 n = d->val->len, i = 0, ws, w, cur, add;

	buf_reset(b);
	if (plen > DG_LINE_HARD)
		return 0;
	if (buf_add(b, prefix, plen) == -1)
		return -1;
	cur = plen;
	while (i < n) {
		for (ws = i; i < n && (v[i] == ' ' || v[i] == '\t'); i++)
			;
		for (w = i; i < n && v[i] != ' ' && v[i] != '\t'; i++)
			;
		if (w == i)
			break;
		/* the first word gets one space after the colon */
		add = (ws == w ? 1 : w - ws) + (i - w);
		if (cur + add > DG_LINE_SOFT) {
			if (buf_add(b, d->eol, d->eol_len) == -1)
				return -1;
			cur = 0;
		}
		if (cur + add > DG_LINE_HARD)
			return 0;
		if ((ws == w ? buf_add(b, " ", 1) :
		    buf_add(b, v + ws, w - ws)) == -1 ||
		    buf_add(b, v + w, i - w) == -1)
			return -1;
		cur += add;
	}
	if (eol && buf_add(b, d->eol, d->eol_len) == -1)
		return -1;
	return buf_add(d->out, b->data, b->len) == -1 ? -1 : 1;
}

/* A field [ls, end) that cannot be copied: its new form, or nothing. */
static int
dg_field(struct dg *d, size_t ls, size_t colon, size_t nend, size_t end)
{
	char	*v, *u;
	size_t	 n, i;
	int	 has8 = 0, r;

	v = dg_unfold(d, colon + 1, end, &n);
	for (i = 0; i < n; i++)
		if ((unsigned char)v[i] >= 0x80)
			has8 = 1;
	if (has8 && !g_utf8_validate(v, (gssize)n, NULL)) {
		u = dg_latin1(v, n, &n);
		free(v);
		v = u;
	}
	buf_reset(d->val);
	/* the name, its colon and a space: what is left of 78 */
	d->room0 = colon + 2 - ls < DG_LINE_SOFT ?
	    DG_LINE_SOFT - (colon + 2 - ls) : 0;
	switch (dg_kind_of(d, ls, nend)) {
	case DG_ADDR:
		r = dg_addresses(d, v, n, has8);
		break;
	case DG_RETURN_PATH:
		r = dg_path(d, v, n, DG_RETURN_PATH);
		break;
	case DG_DELIVERED_TO:
		r = dg_path(d, v, n, DG_DELIVERED_TO);
		break;
	case DG_ID:
		r = has8 ? 0 : (buf_add(d->val, v, n) == -1 ? -1 : 1);
		break;
	case DG_CTYPE:
		r = dg_params(d, v, n, DG_CTYPE);
		break;
	case DG_CDISP:
		r = dg_params(d, v, n, DG_CDISP);
		break;
	default:
		r = dg_text(d->val, (const unsigned char *)v, n,
		    d->room0) == -1 ? -1 : 1;
		break;
	}
	free(v);
	if (r != 1)
		return r;
	/* our own writing, or GMime's checked: 7-bit, no NUL, CR or LF */
	for (i = 0; i < d->val->len; i++)
		SP_ASSERT(d->val->data[i] != '\0' && d->val->data[i] < 0x80 &&
		    d->val->data[i] != '\r' && d->val->data[i] != '\n');
	return dg_fold(d, d->hdr + ls, colon + 1 - ls, d->hdr[end - 1] == '\n');
}

int
downgrade_header(const char *hdr, size_t len, struct buf **out_r)
{
	struct dg	 d;
	size_t		 pos, le, end, colon = 0, nend = 0, i, nlines = 0;
	int		 field;

	for (i = 0; i < len; i++)
		if ((unsigned char)hdr[i] >= 0x80)
			break;
	if (i == len)
		return 0;
	if (len > META_MAX_HDR_BLOCK)
		return -1;
	dg_init();
	memset(&d, 0, sizeof(d));
	d.hdr = (const unsigned char *)hdr;
	d.len = len;
	le = dg_line_end(&d, 0);
	if (le >= 2 && hdr[le - 1] == '\n' && hdr[le - 2] == '\r') {
		d.eol = "\r\n";
		d.eol_len = 2;
	} else {
		d.eol = "\n";
		d.eol_len = 1;
	}
	d.out = buf_new(DOWNGRADE_MAX_OUTPUT);
	d.val = buf_new(DOWNGRADE_MAX_OUTPUT);
	d.lines = buf_new(DOWNGRADE_MAX_OUTPUT);
	d.later = buf_new(DOWNGRADE_MAX_OUTPUT);
	for (pos = 0; pos < len; pos = end) {
		le = dg_line_end(&d, pos);
		if (hdr[pos] == '\n' || (le - pos == 2 && hdr[pos] == '\r' &&
		    hdr[pos + 1] == '\n')) {
			/* the empty line: the block's last */
			if (le != len ||
			    buf_add(d.out, hdr + pos, le - pos) == -1)
				goto fail;
			break;
		}
		if (++nlines > META_MAX_HDR_FIELDS)
			goto fail;
		field = hdr[pos] != ' ' && hdr[pos] != '\t' &&
		    dg_name(&d, pos, le, &colon, &nend);
		for (end = le; end < len && (hdr[end] == ' ' ||
		    hdr[end] == '\t'); end = dg_line_end(&d, end))
			;
		if (dg_clean(&d, pos, end)) {
			if (buf_add(d.out, hdr + pos, end - pos) == -1)
				goto fail;
		} else if (field && dg_field(&d, pos, colon, nend, end) == -1)
			goto fail;
	}
	buf_free(&d.val);
	buf_free(&d.lines);
	buf_free(&d.later);
	*out_r = d.out;
	return 1;
fail:
	buf_free(&d.out);
	buf_free(&d.val);
	buf_free(&d.lines);
	buf_free(&d.later);
	return -1;
}

uint64_t
downgrade_size(const char *hdr, size_t hlen, uint64_t size)
{
	struct buf	*out = NULL;

	if (hlen > size || downgrade_header(hdr, hlen, &out) != 1)
		return size;
	size = size - hlen + out->len;
	buf_free(&out);
	return size;
}
