/* SPDX-License-Identifier: ISC */
/*
 * meta_build.c - build a message's metadata record (meta.h): find every
 * MIME part and its byte offsets, read each part's header fields (their
 * values through meta_gmime.c), keep what IMAP and SEARCH need.
 *
 * Process:  the account's mail process, at import, inside its jail.
 * Trust:    the message is hostile.  The walk is one pass over the lines
 *           of the message with an explicit stack (no recursion): each
 *           line is looked at once, a line starting with "--" is compared
 *           with at most META_MAX_DEPTH boundaries, so the work is linear
 *           in the message size whatever its nesting, part count or
 *           header sizes; what is kept is bounded by the META_MAX_* limits
 *           and by META_MAX_OUTPUT encoded bytes, charged before keeping.
 * Limits:   all of meta.h; going past one flags the record, never fails.
 * See also: meta_gmime.c (GMime), meta.c (the encoding),
 *           tests/unit/test_meta.c (offsets checked against GMime's own
 *           parser), tests/fuzz/fuzz_meta.c.
 *
 * How parts are found.  Lines end at LF; a header block ends at an empty
 * line (LF or CRLF); a line is a boundary of an open multipart when it is
 * "--" boundary, or "--" boundary "--" for the close delimiter, followed
 * only by blanks, the innermost multipart tried first (each first for its
 * close delimiter): GMime's rules (gmime-parser.c), so that the parts are
 * the ones GMime finds.  Where this walker differs from GMime, on purpose:
 *  - The line break before a boundary line belongs to the boundary (RFC
 *    2046 5.1.1): a CRLF or a lone LF, whichever the line has; GMime
 *    strips as many bytes as the boundary line's own line break has.
 *  - Nesting stops at META_MAX_DEPTH (GMime: 1024) and parts at
 *    META_MAX_PARTS (GMime: none): a container not looked into is an
 *    application/octet-stream leaf with all its bytes; parts after the
 *    limit are not recorded, but the boundaries still end the parts that
 *    are.
 *  - A multipart without a boundary parameter or without any part is a
 *    text/plain leaf (IMAP has no empty multipart); a message/rfc822
 *    whose enclosed message has no bytes gets an empty one (GMime: none);
 *    only message/rfc822 and message/global enclose messages (GMime also
 *    message/news and message/rfc2822), as IMAP's grammar has it.
 *  - A Content-Type GMime cannot read makes text/plain (RFC 2045 5.2;
 *    GMime says application/octet-stream).
 *  - A CR inside a header value is a space (GMime keeps it).
 *  - GMime also refuses a message whose header ends, with the message,
 *    inside a field name ("...\nContent-Dispo"): here that last line is
 *    just not a field (mb_judge looks at the first lines only).
 * The top part's header must be one GMime reads as a message header, or
 * the record is META_UNPARSABLE.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "xmalloc.h"
#include "meta.h"
#include "meta_int.h"
#include "banned.h"

/* Charged when a part is made, settled when its type is known. */
#define MB_PART_RESERVE	(META_ENC_PART_FIXED + \
			 META_ENC_PART_STRS * META_ENC_STR_FIXED + \
			 META_ENC_ENV_FIXED + 2 * META_MAX_TYPE)
/* what GMime judges of the top header (mb_judge) */
#define MB_JUDGE_LINES	4		/* lines */
#define MB_JUDGE_NAME	998		/* bytes per line (RFC 5322 2.1.1) */
/* type + subtype bytes always charged: a part may become this later */
#define MB_TYPE_MIN	(sizeof("application") - 1 + sizeof("octet-stream") - 1)

enum mb_end { MB_END_BLANK, MB_END_EVENT, MB_END_EOF };
enum mb_kind { MB_LEAF, MB_MULTI, MB_MESSAGE };

/* A boundary line found, or the end of the message (frame -1). */
struct mb_event {
	size_t	ls;		/* the line's start */
	size_t	le;		/* after its LF */
	int	frame;		/* the multipart it belongs to, in the stack */
	int	close;		/* a close delimiter */
};

/* A header field of the block being read: offsets into the message. */
struct mb_field {
	size_t	name;
	size_t	name_len;	/* without blanks before the colon */
	size_t	value;		/* after the colon */
	size_t	end;		/* after the field's last line */
};

struct mb_hdr {
	size_t		 body;		/* where the body starts */
	int		 ended;		/* enum mb_end */
	size_t		 nvalid;	/* valid fields, kept or not */
	uint32_t	 limits;	/* META_LIMIT_HDR_* met */
	struct mb_event	 ev;		/* MB_END_EVENT: the boundary line */
};

/* An open container: a multipart looking for its boundary, a message. */
struct mb_frame {
	uint32_t	 part;
	int		 kind;		/* MB_MULTI, MB_MESSAGE */
	char		*boundary;	/* MB_MULTI */
	size_t		 blen;
	int		 epilogue;	/* close delimiter seen */
	uint32_t	 last;		/* last child, or META_NONE */
};

struct mb {
	const unsigned char	*msg;
	size_t			 len;
	struct meta		*m;
	uint32_t		 cap;		/* parts allocated */
	size_t			 used;		/* encoded bytes charged */
	struct mb_field		*fields;	/* META_MAX_HDR_FIELDS */
	size_t			 nfields;
	struct mb_frame		 stack[META_MAX_DEPTH];
	int			 top;
	int			 nbound;	/* frames with a boundary */
	size_t			 gm_left;	/* META_READ_TOTAL left */
};

/* --- lines and boundaries --- */

static size_t
mb_line_end(const struct mb *b, size_t pos)
{
	const unsigned char	*nl;

	nl = memchr(b->msg + pos, '\n', b->len - pos);
	return nl == NULL ? b->len : (size_t)(nl - b->msg) + 1;
}

/* Before the line break that precedes ls, but not before lo. */
static size_t
mb_before(const struct mb *b, size_t ls, size_t lo)
{
	size_t	e = ls;

	if (e > lo && b->msg[e - 1] == '\n') {
		e--;
		if (e > lo && b->msg[e - 1] == '\r')
			e--;
	}
	return e;
}

static int
mb_blanks(const unsigned char *p, size_t n)
{
	for (; n > 0; p++, n--)
		if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
			return 0;
	return 1;
}

/*
 * Is [ls, le) a boundary line of an open multipart?  The frame's index,
 * or -1; *close_r tells a close delimiter.
 */
static int
mb_boundary(const struct mb *b, size_t ls, size_t le, int *close_r)
{
	const unsigned char	*l = b->msg + ls, *rest;
	const struct mb_frame	*f;
	size_t			 n = le - ls, rn;
	int			 i;

	if (b->nbound == 0)
		return -1;
	if (n > 0 && l[n - 1] == '\n')
		n--;
	if (n > 0 && l[n - 1] == '\r')
		n--;
	if (n < 2 || l[0] != '-' || l[1] != '-')
		return -1;
	for (i = b->top - 1; i >= 0; i--) {
		f = &b->stack[i];
		if (f->kind != MB_MULTI || f->epilogue || n - 2 < f->blen ||
		    memcmp(l + 2, f->boundary, f->blen) != 0)
			continue;
		rest = l + 2 + f->blen;
		rn = n - 2 - f->blen;
		if (rn >= 2 && rest[0] == '-' && rest[1] == '-' &&
		    mb_blanks(rest + 2, rn - 2)) {
			*close_r = 1;
			return i;
		}
		if (mb_blanks(rest, rn)) {
			*close_r = 0;
			return i;
		}
	}
	return -1;
}

/* The next boundary line from pos on (a line start), or the end. */
static void
mb_find(const struct mb *b, size_t pos, struct mb_event *ev)
{
	size_t	ls, le;
	int	f, close;

	for (ls = pos; b->nbound > 0 && ls < b->len; ls = le) {
		le = mb_line_end(b, ls);
		if (b->msg[ls] == '-' &&
		    (f = mb_boundary(b, ls, le, &close)) >= 0) {
			ev->ls = ls;
			ev->le = le;
			ev->frame = f;
			ev->close = close;
			return;
		}
	}
	ev->ls = ev->le = b->len;
	ev->frame = -1;
	ev->close = 0;
}

/* --- header blocks --- */

static int
mb_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

/*
 * Read the header block at pos: where it ends, and its fields (the first
 * META_MAX_HDR_FIELDS valid ones that end within META_MAX_HDR_BLOCK bytes)
 * in b->fields.  A field name is what precedes the colon: no control
 * character, blanks only before the colon; other lines, and lines folded
 * onto them, are not fields (GMime ignores them too).
 */
static void
mb_header(struct mb *b, size_t pos, struct mb_hdr *h)
{
	const unsigned char	*m = b->msg;
	struct mb_field		*f = NULL;
	size_t			 ls, le, i, nend;
	int			 blank, ok, fr, close;

	memset(h, 0, sizeof(*h));
	b->nfields = 0;
	for (ls = pos; ls < b->len; ls = le) {
		le = mb_line_end(b, ls);
		if (m[ls] == '\n' || (m[ls] == '\r' && ls + 1 < b->len &&
		    m[ls + 1] == '\n')) {
			h->body = le;
			h->ended = MB_END_BLANK;
			goto done;
		}
		if (m[ls] == '-' &&
		    (fr = mb_boundary(b, ls, le, &close)) >= 0) {
			/* a part cut short (GMime: "part without content") */
			h->body = mb_before(b, ls, pos);
			h->ended = MB_END_EVENT;
			h->ev.ls = ls;
			h->ev.le = le;
			h->ev.frame = fr;
			h->ev.close = close;
			goto done;
		}
		if (m[ls] == ' ' || m[ls] == '\t') {
			if (f != NULL)
				f->end = le;	/* folded */
			continue;
		}
		f = NULL;
		blank = 0;
		ok = 1;
		for (i = ls; i < le && m[i] != ':'; i++) {
			if (m[i] == ' ' || m[i] == '\t')
				blank = 1;
			else if (blank || mb_ctl(m[i])) {
				ok = 0;
				break;
			}
		}
		if (!ok || i == le || i == ls)
			continue;
		h->nvalid++;
		if (b->nfields >= META_MAX_HDR_FIELDS) {
			h->limits |= META_LIMIT_HDR_FIELDS;
			continue;
		}
		for (nend = i; nend > ls && (m[nend - 1] == ' ' ||
		    m[nend - 1] == '\t'); nend--)
			;
		f = &b->fields[b->nfields++];
		f->name = ls;
		f->name_len = nend - ls;
		f->value = i + 1;
		f->end = le;
	}
	h->body = b->len;
	h->ended = MB_END_EOF;
done:
	/* SECURITY: fields past the byte limit are not read at all */
	for (i = 0; i < b->nfields; i++)
		if (b->fields[i].end - pos > META_MAX_HDR_BLOCK) {
			b->nfields = i;
			h->limits |= META_LIMIT_HDR_BLOCK;
			break;
		}
}

static int
mb_name_is(const struct mb *b, const struct mb_field *f, const char *name)
{
	size_t	i, n = strlen(name);
	int	c;

	if (f->name_len != n)
		return 0;
	for (i = 0; i < n; i++) {
		c = b->msg[f->name + i];
		if (c >= 'A' && c <= 'Z')
			c = c - 'A' + 'a';
		if (c != name[i])
			return 0;
	}
	return 1;
}

/*
 * A field's value: unfolded (its line breaks removed), ended by a NUL
 * (GMime's values end there too: one reading of "Content-Type: multi
 * part/mixed<NUL>; boundary=b" for both), a CR that ends no line made a
 * space, blanks trimmed.  xmalloc'd.
 */
static char *
mb_value(const struct mb *b, const struct mb_field *f)
{
	const unsigned char	*p = b->msg + f->value, *e = b->msg + f->end;
	char			*s;
	size_t			 n = 0, i = 0;

	s = xmalloc((size_t)(e - p) + 1);
	for (; p < e && *p != '\0'; p++) {
		if (*p == '\n' || (*p == '\r' && p + 1 < e && p[1] == '\n'))
			continue;
		s[n++] = *p == '\r' ? ' ' : (char)*p;
	}
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	memmove(s, s + i, n - i);
	s[n - i] = '\0';
	return s;
}

/* The value of the last field of that name, or NULL. */
static char *
mb_last(const struct mb *b, const char *name)
{
	size_t	i;

	for (i = b->nfields; i-- > 0;)
		if (mb_name_is(b, &b->fields[i], name))
			return mb_value(b, &b->fields[i]);
	return NULL;
}

/*
 * May GMime read this value?  SECURITY: at most META_READ_TOTAL bytes of
 * values per message, so that its work (up to ~130 ns a byte for address
 * lists, natively) stays well under a second whatever the message.
 */
static int
mb_gm(struct mb *b, const char *v)
{
	size_t	n = strlen(v);

	if (n > b->gm_left) {
		b->m->limits |= META_LIMIT_READ;
		return 0;
	}
	b->gm_left -= n;
	return 1;
}

/* --- the output budget --- */

static int
mb_charge(struct mb *b, size_t n)
{
	if (n > META_MAX_OUTPUT - b->used) {
		b->m->limits |= META_LIMIT_OUTPUT;
		return 0;
	}
	b->used += n;
	return 1;
}

/* Keep s (charged; the slot's 4 bytes are in the fixed part) or free it. */
static char *
mb_keep(struct mb *b, char *s)
{
	if (s != NULL && !mb_charge(b, strlen(s))) {
		free(s);
		return NULL;
	}
	return s;
}

static size_t
mb_params_size(const struct meta_param *p, uint32_t n)
{
	size_t		sz = 0;
	uint32_t	i;

	for (i = 0; i < n; i++)
		sz += META_ENC_PARAM_FIXED + strlen(p[i].name) +
		    strlen(p[i].value);
	return sz;
}

/* Keep the parameters that fit, in order; free the rest. */
static void
mb_keep_params(struct mb *b, struct meta_param **v, uint32_t *n,
    uint32_t n_all)
{
	uint32_t	i, keep;

	if (n_all > *n)
		b->m->limits |= META_LIMIT_PARAMS;
	for (keep = 0; keep < *n; keep++)
		if (!mb_charge(b, mb_params_size(&(*v)[keep], 1)))
			break;
	for (i = keep; i < *n; i++) {
		free((*v)[i].name);
		free((*v)[i].value);
	}
	*n = keep;
	if (keep == 0) {
		free(*v);
		*v = NULL;
	}
}

/* --- parts --- */

static uint32_t
mb_new_part(struct mb *b, uint32_t parent, uint32_t depth)
{
	struct meta		*m = b->m;
	struct meta_part	*p;

	if (m->nparts >= META_MAX_PARTS) {
		m->limits |= META_LIMIT_PARTS;
		return META_NONE;
	}
	if (!mb_charge(b, MB_PART_RESERVE))
		return META_NONE;
	if (m->nparts == b->cap) {
		b->cap = b->cap == 0 ? 8 : b->cap * 2;
		if (b->cap > META_MAX_PARTS)
			b->cap = META_MAX_PARTS;
		m->parts = xreallocarray(m->parts, b->cap, sizeof(*m->parts));
	}
	p = &m->parts[m->nparts];
	memset(p, 0, sizeof(*p));
	p->parent = parent;
	p->depth = depth;
	if (parent != META_NONE)
		m->parts[parent].nchildren++;
	return m->nparts++;
}

/* Undo mb_new_part of the last part, which nothing was set in. */
static void
mb_drop_part(struct mb *b, uint32_t idx)
{
	struct meta	*m = b->m;

	SP_ASSERT(idx + 1 == m->nparts && m->parts[idx].type == NULL);
	if (m->parts[idx].parent != META_NONE)
		m->parts[m->parts[idx].parent].nchildren--;
	m->nparts--;
	b->used -= MB_PART_RESERVE;
}

/*
 * Settle the reserve of a new part (once): its type strings (at least
 * MB_TYPE_MIN, so that mb_retype never needs more) and an envelope or not.
 */
static void
mb_set_type(struct mb *b, uint32_t idx, char *type, char *subtype,
    int msg_top)
{
	struct meta_part	*p = &b->m->parts[idx];
	size_t			 real, tlen;

	SP_ASSERT(p->type == NULL && strlen(type) <= META_MAX_TYPE &&
	    strlen(subtype) <= META_MAX_TYPE);
	tlen = strlen(type) + strlen(subtype);
	real = MB_PART_RESERVE - 2 * META_MAX_TYPE +
	    (tlen > MB_TYPE_MIN ? tlen : MB_TYPE_MIN) -
	    (msg_top ? 0 : META_ENC_ENV_FIXED);
	b->used -= MB_PART_RESERVE - real;
	p->type = type;
	p->subtype = subtype;
}

/*
 * Make a settled part another (shorter or MB_TYPE_MIN) type, without its
 * parameters; what was charged stays charged.
 */
static void
mb_retype(struct mb *b, uint32_t idx, const char *type, const char *subtype)
{
	struct meta_part	*p = &b->m->parts[idx];

	SP_ASSERT(strlen(type) + strlen(subtype) <= MB_TYPE_MIN);
	free(p->type);
	free(p->subtype);
	p->type = xstrdup(type);
	p->subtype = xstrdup(subtype);
	while (p->nparams > 0) {
		p->nparams--;
		free(p->params[p->nparams].name);
		free(p->params[p->nparams].value);
	}
	free(p->params);
	p->params = NULL;
}

/* One address field (every occurrence) into l; text for SEARCH in text_r. */
static void
mb_addresses(struct mb *b, const char *name, struct meta_addrlist *l,
    char **text_r)
{
	struct meta_gaddrs	 ga;
	struct buf		*text = NULL;
	size_t			 i, sz;
	uint32_t		 k;
	char			*v;

	for (i = 0; i < b->nfields; i++) {
		if (!mb_name_is(b, &b->fields[i], name))
			continue;
		v = mb_value(b, &b->fields[i]);
		if (!mb_gm(b, v)) {
			free(v);
			continue;
		}
		meta_gmime_addresses(v, META_MAX_ADDRS - l->n, &ga);
		free(v);
		if (ga.n_all > ga.n || ga.cut)
			b->m->limits |= META_LIMIT_ADDRS;
		if (ga.colons_cut)
			b->m->limits |= META_LIMIT_GROUPS;
		for (sz = 0, k = 0; k < ga.n; k++)
			sz += META_ENC_ADDR_FIXED +
			    (ga.v[k].name ? strlen(ga.v[k].name) : 0) +
			    (ga.v[k].name_enc ? strlen(ga.v[k].name_enc) : 0) +
			    (ga.v[k].mailbox ? strlen(ga.v[k].mailbox) : 0) +
			    (ga.v[k].host ? strlen(ga.v[k].host) : 0);
		/* a whole occurrence or nothing: its groups stay balanced */
		if (ga.n > 0 && mb_charge(b, sz)) {
			l->v = xreallocarray(l->v, l->n + ga.n, sizeof(*l->v));
			memcpy(l->v + l->n, ga.v, ga.n * sizeof(*ga.v));
			l->n += ga.n;
			ga.n = 0;
		}
		for (k = 0; k < ga.n; k++) {
			free(ga.v[k].name);
			free(ga.v[k].name_enc);
			free(ga.v[k].mailbox);
			free(ga.v[k].host);
		}
		free(ga.v);
		if (text_r != NULL && ga.text != NULL) {
			if (text == NULL)
				text = buf_new(META_MAX_OUTPUT);
			/* past the max, the mb_keep below fails anyway */
			if ((text->len > 0 && buf_add(text, ", ", 2) == -1) ||
			    buf_add(text, ga.text, strlen(ga.text)) == -1)
				b->m->limits |= META_LIMIT_OUTPUT;
		}
		free(ga.text);
	}
	if (text_r != NULL && text != NULL)
		*text_r = mb_keep(b, xstrdup(buf_cstr(text)));
	buf_free(&text);
}

static void
mb_envelope(struct mb *b, uint32_t idx, int top)
{
	struct meta		*m = b->m;
	struct meta_envelope	*e;
	char			*v;

	e = m->parts[idx].env = xcalloc(1, sizeof(*e));
	e->date = mb_keep(b, mb_last(b, "date"));
	e->subject = mb_keep(b, mb_last(b, "subject"));
	e->in_reply_to = mb_keep(b, mb_last(b, "in-reply-to"));
	e->message_id = mb_keep(b, mb_last(b, "message-id"));
	mb_addresses(b, "from", &e->from, top ? &m->from : NULL);
	mb_addresses(b, "sender", &e->sender, NULL);
	mb_addresses(b, "reply-to", &e->reply_to, NULL);
	mb_addresses(b, "to", &e->to, top ? &m->to : NULL);
	mb_addresses(b, "cc", &e->cc, top ? &m->cc : NULL);
	mb_addresses(b, "bcc", &e->bcc, top ? &m->bcc : NULL);
	if (!top)
		return;
	if ((v = mb_last(b, "subject")) != NULL) {
		if (mb_gm(b, v))
			m->subject = mb_keep(b, meta_gmime_decode_text(v));
		free(v);
	}
	if ((v = mb_last(b, "date")) != NULL) {
		if (mb_gm(b, v) &&
		    meta_gmime_date(v, &m->date, &m->date_zone) == 0)
			m->has_date = true;
		free(v);
	}
}

/* The top part's field names, lower case, each once. */
static void
mb_names(struct mb *b)
{
	struct meta	*m = b->m;
	const char	*src;
	char		*n;
	size_t		 i, j, k;

	if (b->nfields > 0)
		m->names = xreallocarray(NULL, b->nfields, sizeof(*m->names));
	for (i = 0; i < b->nfields; i++) {
		src = (const char *)b->msg + b->fields[i].name;
		n = xstrndup(src, b->fields[i].name_len);
		for (k = 0; n[k] != '\0'; k++)
			if (n[k] >= 'A' && n[k] <= 'Z')
				n[k] = (char)(n[k] - 'A' + 'a');
		for (j = 0; j < m->nnames; j++)
			if (strcmp(m->names[j], n) == 0)
				break;
		if (j < m->nnames ||
		    !mb_charge(b, META_ENC_STR_FIXED + strlen(n))) {
			free(n);
			continue;
		}
		m->names[m->nnames++] = n;
	}
}

static void
mb_language(struct mb *b, uint32_t idx, const char *v)
{
	struct meta_part	*p = &b->m->parts[idx];
	const char		*s, *e, *t;
	char			*tag;

	for (s = v; *s != '\0'; s = *e == ',' ? e + 1 : e) {
		for (e = s; *e != '\0' && *e != ','; e++)
			;
		while (s < e && (*s == ' ' || *s == '\t'))
			s++;
		for (t = e; t > s && (t[-1] == ' ' || t[-1] == '\t'); t--)
			;
		if (t == s)
			continue;
		tag = xstrndup(s, (size_t)(t - s));
		if (p->nlanguage >= META_MAX_LANGS) {
			b->m->limits |= META_LIMIT_LANGS;
			free(tag);
			break;
		}
		if (!mb_charge(b, META_ENC_STR_FIXED + strlen(tag))) {
			free(tag);
			break;
		}
		p->language = xreallocarray(p->language, p->nlanguage + 1,
		    sizeof(*p->language));
		p->language[p->nlanguage++] = tag;
	}
}

/*
 * Read part idx's fields (the block mb_header left in b->fields) and
 * decide what it is.  A MB_MULTI part's boundary goes to *boundary_r; a
 * MB_MESSAGE part's child is made here (*child_r), before the part's own
 * strings are charged, so that it always fits.
 */
static int
mb_fields(struct mb *b, uint32_t idx, int msg_top, char **boundary_r,
    uint32_t *child_r)
{
	struct meta		*m = b->m;
	struct meta_part	*p = &m->parts[idx];
	struct meta_ctype	 ct;
	uint32_t		 parent = p->parent, depth = p->depth, n_all;
	char			*v, *cte, *disp;
	int			 kind = MB_LEAF, digest, cut;

	*boundary_r = NULL;
	*child_r = META_NONE;
	digest = parent != META_NONE &&
	    meta_part_is_multipart(&m->parts[parent]) &&
	    strcmp(m->parts[parent].subtype, "digest") == 0;
	memset(&ct, 0, sizeof(ct));
	if ((v = mb_last(b, "content-type")) != NULL) {
		if (mb_gm(b, v))
			meta_gmime_content_type(v, &ct);
		free(v);
		if (ct.cut)
			m->limits |= META_LIMIT_PARAMS;
	}
	if (ct.type == NULL) {
		/* RFC 2045 5.2, RFC 2046 5.1.5 */
		meta_gmime_ctype_free(&ct);
		ct.type = xstrdup(digest ? "message" : "text");
		ct.subtype = xstrdup(digest ? "rfc822" : "plain");
		if (!digest) {
			ct.params = xcalloc(1, sizeof(*ct.params));
			ct.params[0].name = xstrdup("charset");
			ct.params[0].value = xstrdup("us-ascii");
			ct.nparams = ct.nparams_all = 1;
		}
	}
	cte = mb_last(b, "content-transfer-encoding");
	mb_set_type(b, idx, ct.type, ct.subtype, msg_top);
	ct.type = ct.subtype = NULL;
	p->params = ct.params;
	p->nparams = ct.nparams;
	ct.params = NULL;
	mb_keep_params(b, &p->params, &p->nparams, ct.nparams_all);
	ct.nparams = 0;

	if (meta_part_is_multipart(p)) {
		if (ct.boundary == NULL || *ct.boundary == '\0') {
			mb_retype(b, idx, "text", "plain");
			p->flags |= META_PART_NO_CHILDREN;
		} else if (depth + 2 > META_MAX_DEPTH) {
			mb_retype(b, idx, "application", "octet-stream");
			p->flags |= META_PART_NOT_PARSED;
			m->limits |= META_LIMIT_DEPTH;
		} else {
			kind = MB_MULTI;
			*boundary_r = ct.boundary;
			ct.boundary = NULL;
		}
	} else if (meta_part_is_message(p)) {
		if (cte != NULL && meta_gmime_encoded(cte)) {
			mb_retype(b, idx, "application", "octet-stream");
			p->flags |= META_PART_ENCODED_MSG;
		} else if (depth + 2 > META_MAX_DEPTH) {
			mb_retype(b, idx, "application", "octet-stream");
			p->flags |= META_PART_NOT_PARSED;
			m->limits |= META_LIMIT_DEPTH;
		} else if ((*child_r = mb_new_part(b, idx, depth + 1)) ==
		    META_NONE) {
			p = &m->parts[idx];
			mb_retype(b, idx, "application", "octet-stream");
			p->flags |= META_PART_NOT_PARSED;
		} else
			kind = MB_MESSAGE;
		p = &m->parts[idx];	/* mb_new_part may have moved it */
	}
	meta_gmime_ctype_free(&ct);

	p->encoding = mb_keep(b, cte);
	p->id = mb_keep(b, mb_last(b, "content-id"));
	p->description = mb_keep(b, mb_last(b, "content-description"));
	p->location = mb_keep(b, mb_last(b, "content-location"));
	if ((v = mb_last(b, "content-disposition")) != NULL &&
	    !mb_gm(b, v)) {
		free(v);
		v = NULL;
	}
	if (v != NULL) {
		meta_gmime_disposition(v, &disp, &p->dparams, &p->ndparams,
		    &n_all, &cut);
		free(v);
		if (cut)
			m->limits |= META_LIMIT_PARAMS;
		if ((p->disposition = mb_keep(b, disp)) == NULL) {
			while (p->ndparams > 0) {
				p->ndparams--;
				free(p->dparams[p->ndparams].name);
				free(p->dparams[p->ndparams].value);
			}
			free(p->dparams);
			p->dparams = NULL;
		} else
			mb_keep_params(b, &p->dparams, &p->ndparams, n_all);
	}
	if ((v = mb_last(b, "content-language")) != NULL) {
		mb_language(b, idx, v);
		free(v);
	}
	if (msg_top)
		mb_envelope(b, idx, idx == 0);
	return kind;
}

/* An empty enclosed message: no header, no body (GMime: no message). */
static void
mb_empty_message(struct mb *b, uint32_t idx, uint64_t at)
{
	struct meta_part	*p = &b->m->parts[idx];

	mb_set_type(b, idx, xstrdup("text"), xstrdup("plain"), 1);
	p->hdr_start = p->body_start = p->body_end = at;
	p->env = xcalloc(1, sizeof(*p->env));
}

/* Part idx ends at the event (the line break before it is not its). */
static void
mb_close(struct mb *b, uint32_t idx, uint32_t last, const struct mb_event *ev)
{
	struct meta_part	*p = &b->m->parts[idx];
	uint64_t		 end;

	end = ev->frame < 0 ? b->len : mb_before(b, ev->ls, p->body_start);
	if (end < p->body_start)
		end = p->body_start;
	/* a child that ends at its blank line may end after that break */
	if (last != META_NONE && b->m->parts[last].body_end > end)
		end = b->m->parts[last].body_end;
	p->body_end = end;
}

static void
mb_push(struct mb *b, uint32_t part, int kind, char *boundary)
{
	struct mb_frame	*f;

	SP_ASSERT(b->top < META_MAX_DEPTH);
	f = &b->stack[b->top++];
	memset(f, 0, sizeof(*f));
	f->part = part;
	f->kind = kind;
	f->last = META_NONE;
	if (kind == MB_MULTI) {
		f->boundary = boundary;
		f->blen = strlen(boundary);
		b->nbound++;
	}
}

static void
mb_pop(struct mb *b, const struct mb_event *ev)
{
	struct mb_frame		*f = &b->stack[b->top - 1];
	struct meta_part	*p = &b->m->parts[f->part];

	mb_close(b, f->part, f->last, ev);
	if (f->kind == MB_MULTI) {
		if (!f->epilogue) {
			p->flags |= META_PART_UNTERMINATED;
			b->nbound--;
		}
		if (p->nchildren == 0) {
			mb_retype(b, f->part, "text", "plain");
			p->flags |= META_PART_NO_CHILDREN;
		}
		free(f->boundary);
	}
	b->top--;
	if (b->top > 0)
		b->stack[b->top - 1].last = f->part;
}

/*
 * The walk: read a part's header, then either open it (a multipart waits
 * for its boundary lines, a message part reads its enclosed message's
 * header next) or look for the boundary line that ends it; each boundary
 * line (or the end) closes what it ends and starts the next part.
 */
static void
mb_walk(struct mb *b)
{
	struct meta	*m = b->m;
	struct mb_hdr	 h;
	struct mb_event	 ev;
	struct mb_frame	*f;
	uint32_t	 i, child;
	size_t		 pos = 0;
	char		*boundary;
	int		 kind, in_multi;

	i = mb_new_part(b, META_NONE, 0);
	SP_ASSERT(i == 0);
next_part:
	mb_header(b, pos, &h);
	in_multi = b->top > 0 && b->stack[b->top - 1].kind == MB_MULTI;
	/* GMime too makes no part of an empty header cut by a boundary */
	if (in_multi && ((h.ended == MB_END_EVENT && h.nvalid == 0) ||
	    (h.ended == MB_END_EOF && h.body == pos))) {
		mb_drop_part(b, i);
		if (h.ended == MB_END_EVENT)
			ev = h.ev;
		else
			mb_find(b, b->len, &ev);
		goto event;
	}
	m->limits |= h.limits;
	m->parts[i].hdr_start = pos;
	m->parts[i].body_start = h.body;
	kind = mb_fields(b, i, i == 0 || !in_multi, &boundary, &child);
	if (i == 0)
		mb_names(b);
	if (h.ended == MB_END_EVENT)
		ev = h.ev;
	else if (h.ended == MB_END_EOF)
		mb_find(b, b->len, &ev);
	switch (kind) {
	case MB_MULTI:
		if (h.ended != MB_END_BLANK) {
			free(boundary);
			mb_retype(b, i, "text", "plain");
			m->parts[i].flags |= META_PART_NO_CHILDREN;
			break;
		}
		mb_push(b, i, MB_MULTI, boundary);
		mb_find(b, m->parts[i].body_start, &ev);
		goto event;
	case MB_MESSAGE:
		mb_push(b, i, MB_MESSAGE, NULL);
		if (h.ended != MB_END_BLANK) {
			mb_empty_message(b, child, m->parts[i].body_start);
			b->stack[b->top - 1].last = child;
			goto event;
		}
		pos = m->parts[i].body_start;
		i = child;
		goto next_part;
	default:
		if (h.ended == MB_END_BLANK)
			mb_find(b, m->parts[i].body_start, &ev);
		break;
	}
	/* a leaf: it ends at the event */
	mb_close(b, i, META_NONE, &ev);
	if (b->top > 0)
		b->stack[b->top - 1].last = i;
event:
	while (b->top > ev.frame + 1)
		mb_pop(b, &ev);
	if (ev.frame < 0)
		return;
	f = &b->stack[ev.frame];
	if (ev.close) {
		/* the epilogue is the multipart's until its parent ends */
		f->epilogue = 1;
		b->nbound--;
		mb_find(b, ev.le, &ev);
		goto event;
	}
	if ((i = mb_new_part(b, f->part, m->parts[f->part].depth + 1)) ==
	    META_NONE) {
		/* SECURITY: past a limit, parts are skipped, not read */
		m->parts[f->part].flags |= META_PART_SKIPPED;
		mb_find(b, ev.le, &ev);
		goto event;
	}
	pos = ev.le;
	goto next_part;
}

/* Body lines of text and message parts. */
static void
mb_lines(struct mb *b)
{
	struct meta_part	*p;
	const unsigned char	*s, *e, *nl;
	uint32_t		 i;

	for (i = 0; i < b->m->nparts; i++) {
		p = &b->m->parts[i];
		if (strcmp(p->type, "text") != 0 && !meta_part_is_message(p))
			continue;
		s = b->msg + p->body_start;
		e = b->msg + p->body_end;
		for (; s < e && (nl = memchr(s, '\n', (size_t)(e - s))) != NULL;
		    s = nl + 1)
			p->lines++;
		if (p->body_end > p->body_start && e[-1] != '\n')
			p->lines++;
	}
}

/*
 * Is the message readable at all?  GMime refuses a message exactly when
 * the first of its lines that is not a "From " line is not a header field
 * (or the message ends inside a field name); it is asked about a copy of
 * the first MB_JUDGE_LINES lines, each cut after its colon, or to
 * MB_JUDGE_NAME bytes when it has none there (so a field name longer
 * than that makes a message unparsable), line breaks kept.
 * SECURITY: GMime's message parser would read the values too, address
 * fields included, with the recursion meta_gmime_addresses guards
 * against; the values are not needed for the verdict.
 */
static int
mb_judge(const struct mb *b)
{
	char		 in[MB_JUDGE_LINES * (MB_JUDGE_NAME + 2)];
	const char	*colon, *l;
	size_t		 ls = 0, le, n = 0, k;
	int		 i;

	for (i = 0; i < MB_JUDGE_LINES && ls < b->len; i++, ls = le) {
		le = mb_line_end(b, ls);
		l = (const char *)b->msg + ls;
		k = le - ls < MB_JUDGE_NAME ? le - ls : MB_JUDGE_NAME;
		if ((colon = memchr(l, ':', k)) != NULL) {
			k = (size_t)(colon - l) + 1;
			memcpy(in + n, l, k);
			n += k;
			if (b->msg[le - 1] == '\n')
				in[n++] = '\n';
		} else {
			memcpy(in + n, l, k);
			n += k;
			if (k < le - ls)
				in[n++] = '\n';
		}
		if (l[0] == '\n' || (l[0] == '\r' && le - ls == 2))
			break;		/* the blank line: the header ends */
	}
	return meta_gmime_parsable((const unsigned char *)in, n);
}

/*
 * A record of one part: unparsable (application/octet-stream, all bytes
 * its body) or, should a record ever outgrow META_MAX_OUTPUT, text/plain
 * after the top header.
 */
static void
mb_single(struct mb *b, int unparsable, size_t body)
{
	struct meta	*m = b->m;
	uint32_t	 flags = m->flags, limits = m->limits;
	uint64_t	 size = m->size;

	meta_free(m);
	b->m = m = xcalloc(1, sizeof(*m));
	m->size = size;
	m->flags = flags;
	m->limits = limits;
	b->used = META_ENC_RECORD_FIXED + 5 * META_ENC_STR_FIXED;
	b->cap = 0;
	SP_ASSERT(mb_new_part(b, META_NONE, 0) == 0);
	mb_set_type(b, 0, xstrdup(unparsable ? "application" : "text"),
	    xstrdup(unparsable ? "octet-stream" : "plain"), 1);
	m->parts[0].hdr_start = 0;
	m->parts[0].body_start = unparsable ? 0 : body;
	m->parts[0].body_end = size;
	m->parts[0].env = xcalloc(1, sizeof(*m->parts[0].env));
	if (unparsable)
		m->flags |= META_UNPARSABLE;
	else
		m->limits |= META_LIMIT_OUTPUT;
}

static void
mb_note(const struct meta *m, char *err, size_t errlen)
{
	static const struct {
		uint32_t	 bit;
		const char	*name;
	} names[] = {
		{ META_LIMIT_DEPTH, "depth" },
		{ META_LIMIT_PARTS, "parts" },
		{ META_LIMIT_HDR_BLOCK, "header-bytes" },
		{ META_LIMIT_HDR_FIELDS, "header-fields" },
		{ META_LIMIT_ADDRS, "addresses" },
		{ META_LIMIT_PARAMS, "parameters" },
		{ META_LIMIT_LANGS, "languages" },
		{ META_LIMIT_OUTPUT, "output" },
		{ META_LIMIT_GROUPS, "address-groups" },
		{ META_LIMIT_READ, "gmime-bytes" },
	};
	size_t	i, n;

	if (errlen == 0)
		return;
	err[0] = '\0';
	if (m->flags & META_UNPARSABLE)
		snprintf(err, errlen, "unparsable: the message does not start "
		    "with a header field");
	else if (m->flags & META_LIMITED) {
		n = strlcpy(err, "limited:", errlen);
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			if ((m->limits & names[i].bit) == 0)
				continue;
			strlcat(err, " ", errlen);
			if ((n = strlcat(err, names[i].name, errlen)) >= errlen)
				break;	/* cut: the note is for the log */
		}
	}
}

struct meta *
meta_build(const unsigned char *msg, size_t len, char *err, size_t errlen)
{
	struct mb	 b;
	uint32_t	 i;

	memset(&b, 0, sizeof(b));
	b.msg = msg;
	b.len = len;
	b.m = xcalloc(1, sizeof(*b.m));
	b.m->size = len;
	b.used = META_ENC_RECORD_FIXED + 5 * META_ENC_STR_FIXED;
	b.gm_left = META_READ_TOTAL;
	b.fields = xreallocarray(NULL, META_MAX_HDR_FIELDS, sizeof(*b.fields));

	if (len == 0 || !mb_judge(&b))
		mb_single(&b, 1, 0);
	else {
		mb_walk(&b);
		SP_ASSERT(b.top == 0);
		mb_lines(&b);
		/* the charges are exact: this is a safety net */
		if (meta_encoded_size(b.m) > META_MAX_OUTPUT)
			mb_single(&b, 0, b.m->parts[0].body_start);
	}
	for (i = 0; i < b.m->nparts; i++)
		SP_ASSERT(b.m->parts[i].type != NULL);
	if (b.m->limits != 0)
		b.m->flags |= META_LIMITED;
	meta_link(b.m);
	free(b.fields);
	mb_note(b.m, err, errlen);
	return b.m;
}
