/* SPDX-License-Identifier: ISC */
/*
 * imap_render.c - ENVELOPE, BODY and BODYSTRUCTURE in IMAP4rev1 syntax
 * (RFC 3501 7.4.2 and 9) from a metadata record (imap_render.h).
 *
 * Process:  imap-mail (FETCH).  Pure: no I/O, no allocation.
 * Trust:    the record is sealed and checked by meta_decode (or just built
 *           by meta_build), so its tree links are sound; its strings come
 *           from hostile messages and may hold any byte but NUL, so every
 *           string goes out as a quoted string only when each byte is a
 *           7-bit TEXT-CHAR, else as a literal: no byte of a message can
 *           end a string early or break the response's syntax.
 * Limits:   the output is bounded by out's maximum (ENOBUFS); the walk
 *           over the part tree is a loop (the tree can be META_MAX_DEPTH
 *           deep), each ancestor chain walked upwards at most once per
 *           part, so the work is linear in the record.
 * See also: store/meta.h (the record), tests/unit/test_imap_render.c.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "meta.h"
#include "imap_render.h"
#include "banned.h"

#define RENDER_CHUNK	256	/* bytes staged before a buf_add */

/*
 * The output and a sticky failure: once a buf_add failed nothing more is
 * appended (a later, smaller piece could fit and splice the syntax).
 */
struct render {
	struct buf	*out;
	int		 failed;
	bool		 rev2;		/* IMAP4rev2: message/global is a message */
};

static void
render_add(struct render *r, const void *p, size_t n)
{
	if (r->failed || n == 0)
		return;
	if (buf_add(r->out, p, n) == -1)
		r->failed = 1;
}

static void
render_lit(struct render *r, const char *s)
{
	render_add(r, s, strlen(s));
}

static int
render_end(const struct render *r)
{
	if (r->failed) {
		errno = ENOBUFS;
		return -1;
	}
	return 0;
}

static void
render_number(struct render *r, uint64_t v)
{
	char	num[32];
	int	n;

	n = snprintf(num, sizeof(num), "%llu", (unsigned long long)v);
	SP_ASSERT(n > 0 && (size_t)n < sizeof(num));
	render_add(r, num, (size_t)n);
}

/* RFC 3501 9: TEXT-CHAR, the bytes a quoted string may hold */
static int
render_text_char(unsigned char c)
{
	return c >= 0x01 && c <= 0x7f && c != '\r' && c != '\n';
}

/*
 * A string (never NIL): quoted when every byte is a TEXT-CHAR, else a
 * literal.  upper: a-z sent as A-Z (media types and such, ASCII only).
 */
static void
render_string(struct render *r, const char *s, int upper)
{
	unsigned char	 chunk[RENDER_CHUNK];
	unsigned char	 c;
	size_t		 len = strlen(s), i, n = 0;
	int		 quoted = 1;

	for (i = 0; i < len && quoted; i++)
		quoted = render_text_char((unsigned char)s[i]);
	if (quoted)
		chunk[n++] = '"';
	else {
		/*
		 * SECURITY: 8-bit bytes, CR and LF only ever inside a
		 * literal, whose length is counted here, from the bytes sent.
		 */
		render_lit(r, "{");
		render_number(r, len);
		render_lit(r, "}\r\n");
	}
	for (i = 0; i < len; i++) {
		/* room for an escape, the byte and the closing quote */
		if (n > sizeof(chunk) - 3) {
			render_add(r, chunk, n);
			n = 0;
		}
		c = (unsigned char)s[i];
		if (upper && c >= 'a' && c <= 'z')
			c = (unsigned char)(c - 'a' + 'A');
		if (quoted && (c == '"' || c == '\\'))
			chunk[n++] = '\\';
		chunk[n++] = c;
	}
	if (quoted)
		chunk[n++] = '"';
	render_add(r, chunk, n);
}

static void
render_nstring(struct render *r, const char *s)
{
	if (s == NULL)
		render_lit(r, "NIL");
	else
		render_string(r, s, 0);
}

/*
 * An address list (RFC 3501 7.4.2): "(" 1*address ")", or NIL when empty.
 * Group marks have a NIL host; a start's mailbox is the group name, an
 * end's is NIL too.
 */
static void
render_addrlist(struct render *r, const struct meta_addrlist *l)
{
	const struct meta_addr	*a;
	const char		*name;
	uint32_t		 i;

	if (l->n == 0) {
		render_lit(r, "NIL");
		return;
	}
	render_lit(r, "(");
	for (i = 0; i < l->n; i++) {
		a = &l->v[i];
		/* meta.h: name_enc is the 7-bit form of an 8-bit name */
		name = a->name_enc != NULL ? a->name_enc : a->name;
		switch (a->kind) {
		case META_ADDR_GROUP_START:
			/*
			 * An unnamed group (": a@b;") must not look like a
			 * group's end: its name is "", not NIL.
			 */
			render_lit(r, "(NIL NIL ");
			render_string(r, name != NULL ? name : "", 0);
			render_lit(r, " NIL)");
			break;
		case META_ADDR_GROUP_END:
			render_lit(r, "(NIL NIL NIL NIL)");
			break;
		default:
			/*
			 * A mailbox; the adl is always NIL (meta.h: GMime
			 * drops source routes).  The host is "" for an
			 * address without a domain: NIL would make it a
			 * group mark.
			 */
			render_lit(r, "(");
			render_nstring(r, name);
			render_lit(r, " NIL ");
			render_string(r, a->mailbox != NULL ? a->mailbox : "",
			    0);
			render_lit(r, " ");
			render_string(r, a->host != NULL ? a->host : "", 0);
			render_lit(r, ")");
			break;
		}
	}
	render_lit(r, ")");
}

static void
render_envelope(struct render *r, const struct meta_envelope *e)
{
	const struct meta_addrlist	*sender, *reply_to;

	if (e == NULL) {
		render_lit(r, "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)");
		return;
	}
	/* RFC 3501 7.4.2: absent or empty Sender, Reply-To: From's */
	sender = e->sender.n > 0 ? &e->sender : &e->from;
	reply_to = e->reply_to.n > 0 ? &e->reply_to : &e->from;
	render_lit(r, "(");
	render_nstring(r, e->date);
	render_lit(r, " ");
	render_nstring(r, e->subject);
	render_lit(r, " ");
	render_addrlist(r, &e->from);
	render_lit(r, " ");
	render_addrlist(r, sender);
	render_lit(r, " ");
	render_addrlist(r, reply_to);
	render_lit(r, " ");
	render_addrlist(r, &e->to);
	render_lit(r, " ");
	render_addrlist(r, &e->cc);
	render_lit(r, " ");
	render_addrlist(r, &e->bcc);
	render_lit(r, " ");
	render_nstring(r, e->in_reply_to);
	render_lit(r, " ");
	render_nstring(r, e->message_id);
	render_lit(r, ")");
}

/* body-fld-param: ("name" "value" ...) or NIL */
static void
render_params(struct render *r, const struct meta_param *v, uint32_t n)
{
	uint32_t	i;

	if (n == 0) {
		render_lit(r, "NIL");
		return;
	}
	render_lit(r, "(");
	for (i = 0; i < n; i++) {
		if (i > 0)
			render_lit(r, " ");
		render_string(r, v[i].name != NULL ? v[i].name : "", 0);
		render_lit(r, " ");
		render_string(r, v[i].value != NULL ? v[i].value : "", 0);
	}
	render_lit(r, ")");
}

/*
 * SP body-fld-dsp SP body-fld-lang SP body-fld-loc: the extension fields
 * that single parts and multiparts share (after md5, or after the
 * multipart's parameters).
 */
static void
render_ext_common(struct render *r, const struct meta_part *p)
{
	uint32_t	i;

	render_lit(r, " ");
	if (p->disposition == NULL)
		render_lit(r, "NIL");
	else {
		render_lit(r, "(");
		render_string(r, p->disposition, 1);
		render_lit(r, " ");
		render_params(r, p->dparams, p->ndparams);
		render_lit(r, ")");
	}
	/* body-fld-lang: nstring, or a list when there are several */
	render_lit(r, " ");
	if (p->nlanguage == 0)
		render_lit(r, "NIL");
	else if (p->nlanguage == 1)
		render_string(r, p->language[0] != NULL ? p->language[0] : "",
		    0);
	else {
		render_lit(r, "(");
		for (i = 0; i < p->nlanguage; i++) {
			if (i > 0)
				render_lit(r, " ");
			render_string(r, p->language[i] != NULL ?
			    p->language[i] : "", 0);
		}
		render_lit(r, ")");
	}
	render_lit(r, " ");
	render_nstring(r, p->location);
}

/* body-ext-1part: md5 (NIL: the record keeps no Content-MD5), then the rest */
static void
render_ext_1part(struct render *r, const struct meta_part *p)
{
	render_lit(r, " NIL");
	render_ext_common(r, p);
}

/*
 * "TYPE" SP "SUBTYPE" SP body-fields: params, id, description, encoding,
 * size (the body's bytes, as sent).
 */
static void
render_fields(struct render *r, const struct meta_part *p)
{
	render_string(r, p->type, 1);
	render_lit(r, " ");
	render_string(r, p->subtype, 1);
	render_lit(r, " ");
	render_params(r, p->params, p->nparams);
	render_lit(r, " ");
	render_nstring(r, p->id);
	render_lit(r, " ");
	render_nstring(r, p->description);
	render_lit(r, " ");
	/*
	 * RFC 2045 6.1: no Content-Transfer-Encoding is 7bit; an empty one
	 * names no encoding either, and "" would puzzle clients.
	 */
	render_string(r, p->encoding != NULL && *p->encoding != '\0' ?
	    p->encoding : "7BIT", 1);
	render_lit(r, " ");
	render_number(r, p->body_end > p->body_start ?
	    p->body_end - p->body_start : 0);
}

/*
 * Does the part enclose others?  Exactly when it has children: meta_build
 * makes, and meta_decode checks, that only multiparts (one child or more)
 * and message parts (exactly one) have any.
 */
static int
render_is_container(const struct meta_part *p)
{
	if (p->nchildren == 0)
		return 0;
	SP_ASSERT(meta_part_is_multipart(p) ||
	    (meta_part_is_message(p) && p->nchildren == 1));
	return 1;
}

/*
 * IMAP4rev1 (RFC 3501 9) gives an envelope and a body only to
 * MESSAGE/RFC822: a message/global part (RFC 6532) is a basic part for
 * it, its enclosed message not shown.  IMAP4rev2 (RFC 9051 9,
 * media-message) gives them to MESSAGE/GLOBAL too.
 */
static bool
render_rev1_leaf(const struct render *r, const struct meta_part *p)
{
	return !r->rev2 && meta_part_is_message(p) &&
	    strcmp(p->subtype, "rfc822") != 0;
}

/* A part without children: the whole body-type-1part. */
static void
render_leaf(struct render *r, const struct meta_part *p, bool extended)
{
	render_lit(r, "(");
	render_fields(r, p);
	if (strcmp(p->type, "text") == 0) {
		render_lit(r, " ");		/* body-type-text */
		render_number(r, p->lines);
	}
	if (extended)
		render_ext_1part(r, p);
	render_lit(r, ")");
}

/*
 * The start of a part that encloses others, up to where the first child's
 * body goes.  A multipart: "(" (RFC 3501 9: 1*body, no SP between the
 * children).  A message part: body-type-msg's fields and the enclosed
 * message's envelope, which the child (its top part) carries.
 */
static void
render_open(struct render *r, const struct meta *m, uint32_t idx)
{
	const struct meta_part	*p = &m->parts[idx];

	render_lit(r, "(");
	if (meta_part_is_multipart(p))
		return;
	SP_ASSERT(idx + 1 < m->nparts);		/* its one child */
	render_fields(r, p);
	render_lit(r, " ");
	render_envelope(r, m->parts[idx + 1].env);
	render_lit(r, " ");
}

/* The end of a part that encloses others, once its children are out. */
static void
render_close(struct render *r, const struct meta_part *p, bool extended)
{
	render_lit(r, " ");
	if (meta_part_is_multipart(p)) {
		render_string(r, p->subtype, 1);	/* body-type-mpart */
		if (extended) {
			render_lit(r, " ");		/* body-ext-mpart */
			render_params(r, p->params, p->nparams);
			render_ext_common(r, p);
		}
	} else {
		render_number(r, p->lines);		/* body-type-msg */
		if (extended)
			render_ext_1part(r, p);
	}
	render_lit(r, ")");
}

int
imap_render_nstring(struct buf *out, const char *s)
{
	struct render	r = { out, 0, false };

	render_nstring(&r, s);
	return render_end(&r);
}

int
imap_render_envelope(struct buf *out, const struct meta_envelope *env)
{
	struct render	r = { out, 0, false };

	render_envelope(&r, env);
	return render_end(&r);
}

int
imap_render_body(struct buf *out, const struct meta *m, uint32_t part,
    bool extended)
{
	return imap_render_body_ext(out, m, part, extended, false);
}

int
imap_render_body_ext(struct buf *out, const struct meta *m, uint32_t part,
    bool extended, bool rev2)
{
	struct render		 r = { out, 0, rev2 };
	const struct meta_part	*p;
	uint32_t		 i, c, par, end, leaf;

	SP_ASSERT(part < m->nparts);
	end = m->parts[part].next;
	SP_ASSERT(end > part && end <= m->nparts);
	/*
	 * Document order is a pre-order walk: a part that encloses others
	 * is opened, its subtree follows at the next indexes, and it is
	 * closed after its last descendant, which is where its own subtree
	 * ends (the last child's next is its parent's next).  No recursion
	 * and no stack: the parent links lead back up.
	 */
	for (i = part; i < end && !r.failed; i++) {
		p = &m->parts[i];
		if (render_is_container(p) && !render_rev1_leaf(&r, p)) {
			render_open(&r, m, i);
			continue;
		}
		render_leaf(&r, p, extended);
		leaf = i;
		i = p->next - 1;	/* past a message/global's subtree */
		for (c = leaf; c != part; c = par) {
			par = m->parts[c].parent;
			SP_ASSERT(par < c);	/* meta_decode: a sound tree */
			if (m->parts[c].next != m->parts[par].next)
				break;		/* c has a next sibling */
			render_close(&r, &m->parts[par], extended);
		}
	}
	return render_end(&r);
}
