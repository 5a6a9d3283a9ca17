/* SPDX-License-Identifier: ISC */
/*
 * meta.c - the metadata record (see meta.h): its version 1 encoding, the
 * strict decoder, freeing, and finding parts and sections by IMAP part
 * number.
 *
 * Process:  the account's mail process (import encodes; FETCH, SEARCH
 *           decode).
 * Trust:    a record reaches meta_decode after its AEAD check (the caller
 *           seals it to the account), but it is decoded as if hostile:
 *           every count is checked against its limit and against the
 *           bytes left before anything is allocated, every string for
 *           NUL, CR and LF, the tree and every offset for consistency.
 * Limits:   META_MAX_OUTPUT bytes per record, and the counts in meta.h.
 * See also: meta_build.c (builds records), meta.h, tests/unit/test_meta.c,
 *           tests/fuzz/fuzz_meta.c.
 *
 * Layout, version 1 (integers little-endian; a str is a u32 length L and
 * L bytes with no NUL, CR or LF, or the length 0xffffffff alone for NULL;
 * nothing follows the last part):
 *
 *	u8  version (1)			u8  flags	u32 limits
 *	u64 message size
 *	u8  has_date	i64 date (unix seconds)		i32 zone (minutes)
 *	str subject, from, to, cc, bcc			(search fields)
 *	u32 N names, then N str
 *	u32 P parts (1 .. META_MAX_PARTS), then P parts in document order:
 *
 *	part:	u32 children	u32 flags
 *		u64 hdr_start, body_start, body_end, lines
 *		str type, subtype
 *		u32 K, then K (str name, str value)	(Content-Type params)
 *		str id, description, encoding, location, disposition
 *		u32 K, then K (str name, str value)	(disposition params)
 *		u32 L, then L str			(languages)
 *		u8  has_envelope, then if 1:
 *		    str date, subject, in_reply_to, message_id
 *		    6 x (u32 A, then A addresses)	(from, sender,
 *							 reply-to, to, cc, bcc)
 *	address: u8 kind, str name, name_enc, mailbox, host
 *
 * The tree is implied by the children counts of the parts in document
 * order; parent, next and depth are computed, never stored.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
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

#define META_STR_NULL		UINT32_MAX

/* Smallest encodings, to bound counts by the bytes left. */
#define META_MIN_PART	(META_ENC_PART_FIXED + META_ENC_PART_STRS * \
			 META_ENC_STR_FIXED)

/* --- freeing --- */

static void
meta_params_free(struct meta_param *p, uint32_t n)
{
	uint32_t	i;

	for (i = 0; i < n; i++) {
		free(p[i].name);
		free(p[i].value);
	}
	free(p);
}

static void
meta_addrlist_free(struct meta_addrlist *l)
{
	uint32_t	i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].name);
		free(l->v[i].name_enc);
		free(l->v[i].mailbox);
		free(l->v[i].host);
	}
	free(l->v);
}

static void
meta_env_free(struct meta_envelope *e)
{
	if (e == NULL)
		return;
	free(e->date);
	free(e->subject);
	free(e->in_reply_to);
	free(e->message_id);
	meta_addrlist_free(&e->from);
	meta_addrlist_free(&e->sender);
	meta_addrlist_free(&e->reply_to);
	meta_addrlist_free(&e->to);
	meta_addrlist_free(&e->cc);
	meta_addrlist_free(&e->bcc);
	free(e);
}

void
meta_free(struct meta *m)
{
	struct meta_part	*p;
	uint32_t		 i, j;

	if (m == NULL)
		return;
	for (i = 0; i < m->nparts; i++) {
		p = &m->parts[i];
		free(p->type);
		free(p->subtype);
		meta_params_free(p->params, p->nparams);
		free(p->id);
		free(p->description);
		free(p->encoding);
		free(p->disposition);
		meta_params_free(p->dparams, p->ndparams);
		for (j = 0; j < p->nlanguage; j++)
			free(p->language[j]);
		free(p->language);
		free(p->location);
		meta_env_free(p->env);
	}
	free(m->parts);
	free(m->from);
	free(m->to);
	free(m->cc);
	free(m->bcc);
	free(m->subject);
	for (i = 0; i < m->nnames; i++)
		free(m->names[i]);
	free(m->names);
	free(m);
}

/* --- predicates and links --- */

bool
meta_part_is_multipart(const struct meta_part *p)
{
	return strcmp(p->type, "multipart") == 0;
}

bool
meta_part_is_message(const struct meta_part *p)
{
	return strcmp(p->type, "message") == 0 &&
	    (strcmp(p->subtype, "rfc822") == 0 ||
	    strcmp(p->subtype, "global") == 0);
}

/*
 * parent, depth and next from the children counts (the tree must be
 * whole: meta_build makes it so, meta_decode checks it first).
 */
void
meta_link(struct meta *m)
{
	uint32_t	 stack[META_MAX_DEPTH], left[META_MAX_DEPTH];
	uint32_t	 i, top = 0, c, k;

	SP_ASSERT(m->nparts >= 1);
	for (i = 0; i < m->nparts; i++) {
		while (top > 0 && left[top - 1] == 0)
			top--;
		if (i == 0) {
			m->parts[i].parent = META_NONE;
			m->parts[i].depth = 0;
		} else {
			SP_ASSERT(top > 0);
			m->parts[i].parent = stack[top - 1];
			m->parts[i].depth = m->parts[stack[top - 1]].depth + 1;
			left[top - 1]--;
		}
		if (m->parts[i].nchildren > 0) {
			SP_ASSERT(top < META_MAX_DEPTH);
			stack[top] = i;
			left[top++] = m->parts[i].nchildren;
		}
	}
	/* next, from the end: a subtree ends where its last child's does */
	for (i = m->nparts; i-- > 0;) {
		if (m->parts[i].nchildren == 0) {
			m->parts[i].next = i + 1;
			continue;
		}
		c = i + 1;
		for (k = 1; k < m->parts[i].nchildren; k++)
			c = m->parts[c].next;
		m->parts[i].next = m->parts[c].next;
	}
}

uint32_t
meta_part_child(const struct meta *m, uint32_t idx, uint32_t n)
{
	uint32_t	c, k;

	if (idx >= m->nparts || n == 0 || n > m->parts[idx].nchildren)
		return META_NONE;
	c = idx + 1;
	for (k = 1; k < n; k++)
		c = m->parts[c].next;
	return c;
}

int
meta_part_find(const struct meta *m, const char *s, uint32_t *idx_r)
{
	const char	*p;
	uint64_t	 k;
	uint32_t	 cur = 0, sel = META_NONE;

	/* syntax first: nz-number *("." nz-number) */
	if (s == NULL || *s == '\0')
		return -1;
	for (p = s; *p != '\0'; p++) {
		if (*p < '1' || *p > '9')
			return -1;
		for (k = 0; *p >= '0' && *p <= '9'; p++)
			if ((k = k * 10 + (uint64_t)(*p - '0')) > UINT32_MAX)
				return -1;
		if (*p == '\0')
			break;
		if (*p != '.' || p[1] == '\0')
			return -1;
	}
	for (p = s; *p != '\0';) {
		for (k = 0; *p >= '0' && *p <= '9'; p++)
			k = k * 10 + (uint64_t)(*p - '0');
		if (*p == '.')
			p++;
		/* from the part selected so far to what its numbers mean */
		if (sel != META_NONE) {
			if (meta_part_is_message(&m->parts[sel]))
				cur = meta_part_child(m, sel, 1);
			else if (meta_part_is_multipart(&m->parts[sel]))
				cur = sel;
			else
				return 0;
			if (cur == META_NONE)
				return 0;
		}
		/* RFC 3501 6.4.5: a non-multipart message has only part 1 */
		if (meta_part_is_multipart(&m->parts[cur]))
			sel = meta_part_child(m, cur, (uint32_t)k);
		else
			sel = k == 1 ? cur : META_NONE;
		if (sel == META_NONE)
			return 0;
	}
	*idx_r = sel;
	return 1;
}

int
meta_part_number(const struct meta *m, uint32_t idx, char *buf, size_t len)
{
	uint32_t	 comp[2 * META_MAX_DEPTH], n = 0, c, par, k, j;
	size_t		 off = 0;
	int		 w;

	if (idx >= m->nparts || len == 0)
		return 0;
	for (c = idx;;) {
		par = m->parts[c].parent;
		if (par == META_NONE || meta_part_is_message(&m->parts[par])) {
			/* a message's top part: "1" unless it is a multipart */
			if (!meta_part_is_multipart(&m->parts[c]))
				comp[n++] = 1;
			else if (c == idx)
				return 0;
			if (par == META_NONE)
				break;
		} else {
			for (k = 1, j = par + 1; j != c; k++)
				j = m->parts[j].next;
			comp[n++] = k;
		}
		c = par;
	}
	while (n > 0) {
		w = snprintf(buf + off, len - off, off == 0 ? "%u" : ".%u",
		    comp[--n]);
		if (w < 0 || (size_t)w >= len - off)
			return 0;
		off += (size_t)w;
	}
	return 1;
}

int
meta_section_range(const struct meta *m, const char *part,
    enum meta_section sec, uint64_t *start_r, uint64_t *end_r)
{
	const struct meta_part	*p, *c;
	uint32_t		 idx, ci;
	int			 r;

	if (part == NULL || *part == '\0') {
		c = &m->parts[0];
		switch (sec) {
		case META_SECTION_BODY:
			*start_r = 0;
			*end_r = m->size;
			return 1;
		case META_SECTION_HEADER:
			*start_r = c->hdr_start;
			*end_r = c->body_start;
			return 1;
		case META_SECTION_TEXT:
			*start_r = c->body_start;
			*end_r = c->body_end;
			return 1;
		default:
			return 0;
		}
	}
	if ((r = meta_part_find(m, part, &idx)) != 1)
		return r;
	p = &m->parts[idx];
	switch (sec) {
	case META_SECTION_BODY:
		*start_r = p->body_start;
		*end_r = p->body_end;
		return 1;
	case META_SECTION_MIME:
		*start_r = p->hdr_start;
		*end_r = p->body_start;
		return 1;
	case META_SECTION_HEADER:
	case META_SECTION_TEXT:
		if (!meta_part_is_message(p) ||
		    (ci = meta_part_child(m, idx, 1)) == META_NONE)
			return 0;
		c = &m->parts[ci];
		*start_r = sec == META_SECTION_HEADER ? c->hdr_start :
		    c->body_start;
		*end_r = sec == META_SECTION_HEADER ? c->body_start :
		    c->body_end;
		return 1;
	}
	return 0;
}

/* --- encoding --- */

/* An encoder that only counts when b is NULL; after a failure it stops. */
struct meta_enc {
	struct buf	*b;
	size_t		 n;
	int		 failed;
};

static void
enc_bytes(struct meta_enc *e, const void *p, size_t n)
{
	if (e->failed)
		return;
	if (e->b != NULL && buf_add(e->b, p, n) == -1) {
		e->failed = 1;
		return;
	}
	e->n += n;
}

static void
enc_u8(struct meta_enc *e, uint8_t v)
{
	enc_bytes(e, &v, 1);
}

static void
enc_u32(struct meta_enc *e, uint32_t v)
{
	uint8_t	b[4];
	int	i;

	for (i = 0; i < 4; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	enc_bytes(e, b, sizeof(b));
}

static void
enc_u64(struct meta_enc *e, uint64_t v)
{
	uint8_t	b[8];
	int	i;

	for (i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	enc_bytes(e, b, sizeof(b));
}

static void
enc_str(struct meta_enc *e, const char *s)
{
	size_t	n;

	if (s == NULL) {
		enc_u32(e, META_STR_NULL);
		return;
	}
	n = strlen(s);
	/* a record from meta_build or meta_decode: never this long */
	SP_ASSERT(n < META_STR_NULL);
	enc_u32(e, (uint32_t)n);
	enc_bytes(e, s, n);
}

static void
enc_params(struct meta_enc *e, const struct meta_param *p, uint32_t n)
{
	uint32_t	i;

	enc_u32(e, n);
	for (i = 0; i < n; i++) {
		enc_str(e, p[i].name);
		enc_str(e, p[i].value);
	}
}

static void
enc_addrlist(struct meta_enc *e, const struct meta_addrlist *l)
{
	uint32_t	i;

	enc_u32(e, l->n);
	for (i = 0; i < l->n; i++) {
		enc_u8(e, l->v[i].kind);
		enc_str(e, l->v[i].name);
		enc_str(e, l->v[i].name_enc);
		enc_str(e, l->v[i].mailbox);
		enc_str(e, l->v[i].host);
	}
}

static void
enc_part(struct meta_enc *e, const struct meta_part *p)
{
	const struct meta_envelope	*env = p->env;
	uint32_t			 i;

	enc_u32(e, p->nchildren);
	enc_u32(e, p->flags);
	enc_u64(e, p->hdr_start);
	enc_u64(e, p->body_start);
	enc_u64(e, p->body_end);
	enc_u64(e, p->lines);
	enc_str(e, p->type);
	enc_str(e, p->subtype);
	enc_params(e, p->params, p->nparams);
	enc_str(e, p->id);
	enc_str(e, p->description);
	enc_str(e, p->encoding);
	enc_str(e, p->location);
	enc_str(e, p->disposition);
	enc_params(e, p->dparams, p->ndparams);
	enc_u32(e, p->nlanguage);
	for (i = 0; i < p->nlanguage; i++)
		enc_str(e, p->language[i]);
	enc_u8(e, env != NULL);
	if (env == NULL)
		return;
	enc_str(e, env->date);
	enc_str(e, env->subject);
	enc_str(e, env->in_reply_to);
	enc_str(e, env->message_id);
	enc_addrlist(e, &env->from);
	enc_addrlist(e, &env->sender);
	enc_addrlist(e, &env->reply_to);
	enc_addrlist(e, &env->to);
	enc_addrlist(e, &env->cc);
	enc_addrlist(e, &env->bcc);
}

static void
enc_record(struct meta_enc *e, const struct meta *m)
{
	uint32_t	i;

	enc_u8(e, META_VERSION);
	enc_u8(e, (uint8_t)m->flags);
	enc_u32(e, m->limits);
	enc_u64(e, m->size);
	enc_u8(e, m->has_date);
	enc_u64(e, (uint64_t)m->date);
	enc_u32(e, (uint32_t)m->date_zone);
	enc_str(e, m->subject);
	enc_str(e, m->from);
	enc_str(e, m->to);
	enc_str(e, m->cc);
	enc_str(e, m->bcc);
	enc_u32(e, m->nnames);
	for (i = 0; i < m->nnames; i++)
		enc_str(e, m->names[i]);
	enc_u32(e, m->nparts);
	for (i = 0; i < m->nparts; i++)
		enc_part(e, &m->parts[i]);
}

int
meta_encode(const struct meta *m, struct buf *out)
{
	struct meta_enc	e = { out, 0, 0 };

	enc_record(&e, m);
	if (e.failed) {
		errno = ENOBUFS;
		return -1;
	}
	return 0;
}

size_t
meta_encoded_size(const struct meta *m)
{
	struct meta_enc	e = { NULL, 0, 0 };

	enc_record(&e, m);
	return e.n;
}

/* --- decoding --- */

struct meta_dec {
	const unsigned char	*start;
	const unsigned char	*p;
	const unsigned char	*end;
	char			*err;
	size_t			 errlen;
	int			 failed;
};

static void dec_fail(struct meta_dec *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static void
dec_fail(struct meta_dec *d, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	if (d->failed)
		return;
	d->failed = 1;
	n = snprintf(d->err, d->errlen, "metadata record, byte %zu: ",
	    (size_t)(d->p - d->start));
	if (n < 0 || (size_t)n >= d->errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(d->err + n, d->errlen - (size_t)n, fmt, ap);
	va_end(ap);
}

static int
dec_need(struct meta_dec *d, size_t n)
{
	if (d->failed)
		return -1;
	if (n > (size_t)(d->end - d->p)) {
		dec_fail(d, "truncated");
		return -1;
	}
	return 0;
}

static uint8_t
dec_u8(struct meta_dec *d)
{
	if (dec_need(d, 1) == -1)
		return 0;
	return *d->p++;
}

static uint32_t
dec_u32(struct meta_dec *d)
{
	uint32_t	v = 0;
	int		i;

	if (dec_need(d, 4) == -1)
		return 0;
	for (i = 0; i < 4; i++)
		v |= (uint32_t)d->p[i] << (8 * i);
	d->p += 4;
	return v;
}

static uint64_t
dec_u64(struct meta_dec *d)
{
	uint64_t	v = 0;
	int		i;

	if (dec_need(d, 8) == -1)
		return 0;
	for (i = 0; i < 8; i++)
		v |= (uint64_t)d->p[i] << (8 * i);
	d->p += 8;
	return v;
}

/* A string; NULL for the NULL mark (or after a failure). */
static char *
dec_str(struct meta_dec *d)
{
	uint32_t	 n;
	char		*s;

	n = dec_u32(d);
	if (d->failed || n == META_STR_NULL)
		return NULL;
	if (dec_need(d, n) == -1)
		return NULL;
	/* SECURITY: the record's strings reach IMAP output: no NUL, CR, LF */
	if (memchr(d->p, '\0', n) != NULL || memchr(d->p, '\r', n) != NULL ||
	    memchr(d->p, '\n', n) != NULL) {
		dec_fail(d, "NUL, CR or LF in a string");
		return NULL;
	}
	s = xmalloc((size_t)n + 1);
	memcpy(s, d->p, n);
	s[n] = '\0';
	d->p += n;
	return s;
}

/* Is s valid UTF-8 (RFC 3629: shortest forms, no surrogates)?  NULL is. */
static int
dec_utf8(const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	uint32_t		 c;
	int			 n, i;

	for (; p != NULL && *p != '\0'; p += n) {
		if (*p < 0x80) {
			n = 1;
			continue;
		}
		if (*p >= 0xc2 && *p <= 0xdf) {
			n = 2;
			c = *p & 0x1f;
		} else if (*p >= 0xe0 && *p <= 0xef) {
			n = 3;
			c = *p & 0x0f;
		} else if (*p >= 0xf0 && *p <= 0xf4) {
			n = 4;
			c = *p & 0x07;
		} else
			return 0;
		for (i = 1; i < n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return 0;	/* the NUL ends here too */
			c = (c << 6) | (p[i] & 0x3f);
		}
		if ((n == 3 && c < 0x800) || (n == 4 && c < 0x10000) ||
		    c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
			return 0;
	}
	return 1;
}

/* A decoded string (meta.h): valid UTF-8, or NULL. */
static char *
dec_text(struct meta_dec *d)
{
	char	*s = dec_str(d);

	if (!dec_utf8(s))
		dec_fail(d, "decoded text is not UTF-8");
	return s;
}

/* A media type, subtype or disposition: 1..127 bytes, lower case ASCII. */
static int
dec_token(const char *s)
{
	const char	*p;

	if (*s == '\0' || strlen(s) > META_MAX_TYPE)
		return 0;
	for (p = s; *p != '\0'; p++)
		if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e ||
		    (*p >= 'A' && *p <= 'Z'))
			return 0;
	return 1;
}

/* A string that must be there (and, with token, dec_token). */
static char *
dec_str_req(struct meta_dec *d, const char *what, int token)
{
	char	*s;

	if ((s = dec_str(d)) == NULL) {
		dec_fail(d, "%s missing", what);
		return NULL;
	}
	if (token && !dec_token(s))
		dec_fail(d, "bad %s", what);
	return s;
}

/* A count, at most max and at most what the bytes left can hold. */
static uint32_t
dec_count(struct meta_dec *d, uint32_t max, size_t min_each, const char *what)
{
	uint32_t	n;

	n = dec_u32(d);
	if (d->failed)
		return 0;
	if (n > max || (size_t)n > (size_t)(d->end - d->p) / min_each) {
		dec_fail(d, "%s count %u out of range", what, n);
		return 0;
	}
	return n;
}

static void
dec_params(struct meta_dec *d, struct meta_param **v, uint32_t *n)
{
	uint32_t	i;

	*v = NULL;
	*n = dec_count(d, META_MAX_PARAMS, META_ENC_PARAM_FIXED, "parameter");
	if (*n == 0)
		return;
	*v = xcalloc(*n, sizeof(**v));
	for (i = 0; i < *n; i++) {
		(*v)[i].name = dec_str_req(d, "parameter name", 0);
		(*v)[i].value = dec_str_req(d, "parameter value", 0);
		if (!dec_utf8((*v)[i].name) || !dec_utf8((*v)[i].value))
			dec_fail(d, "parameter is not UTF-8");
	}
}

static void
dec_addrlist(struct meta_dec *d, struct meta_addrlist *l)
{
	struct meta_addr	*a;
	uint32_t		 i;
	int			 in_group = 0;

	l->n = dec_count(d, META_MAX_ADDRS, META_ENC_ADDR_FIXED, "address");
	if (l->n == 0)
		return;
	l->v = xcalloc(l->n, sizeof(*l->v));
	for (i = 0; i < l->n && !d->failed; i++) {
		a = &l->v[i];
		a->kind = dec_u8(d);
		a->name = dec_text(d);
		a->name_enc = dec_str(d);
		a->mailbox = dec_str(d);
		a->host = dec_str(d);
		if (d->failed)
			break;
		if (a->name_enc != NULL) {
			const char	*p;

			/* SECURITY: sent in ENVELOPE as a quoted string */
			for (p = a->name_enc; *p != '\0'; p++)
				if ((unsigned char)*p < 0x20 ||
				    (unsigned char)*p > 0x7e)
					dec_fail(d, "8-bit encoded name");
			if (a->name == NULL)
				dec_fail(d, "encoded name without a name");
		}
		switch (a->kind) {
		case META_ADDR_MAILBOX:
			if (a->mailbox == NULL || a->host == NULL)
				dec_fail(d, "mailbox without address");
			break;
		case META_ADDR_GROUP_START:
			if (in_group || a->mailbox != NULL || a->host != NULL)
				dec_fail(d, "bad group start");
			in_group = 1;
			break;
		case META_ADDR_GROUP_END:
			if (!in_group || a->name != NULL ||
			    a->mailbox != NULL || a->host != NULL)
				dec_fail(d, "bad group end");
			in_group = 0;
			break;
		default:
			dec_fail(d, "bad address kind %u", a->kind);
		}
	}
	if (in_group)
		dec_fail(d, "group not ended");
}

static struct meta_envelope *
dec_env(struct meta_dec *d)
{
	struct meta_envelope	*e = xcalloc(1, sizeof(*e));

	e->date = dec_str(d);
	e->subject = dec_str(d);
	e->in_reply_to = dec_str(d);
	e->message_id = dec_str(d);
	dec_addrlist(d, &e->from);
	dec_addrlist(d, &e->sender);
	dec_addrlist(d, &e->reply_to);
	dec_addrlist(d, &e->to);
	dec_addrlist(d, &e->cc);
	dec_addrlist(d, &e->bcc);
	return e;
}

static void
dec_part(struct meta_dec *d, struct meta_part *p)
{
	uint32_t	i;
	uint8_t		has_env;

	p->nchildren = dec_u32(d);
	p->flags = dec_u32(d);
	p->hdr_start = dec_u64(d);
	p->body_start = dec_u64(d);
	p->body_end = dec_u64(d);
	p->lines = dec_u64(d);
	p->type = dec_str_req(d, "type", 1);
	p->subtype = dec_str_req(d, "subtype", 1);
	dec_params(d, &p->params, &p->nparams);
	p->id = dec_str(d);
	p->description = dec_str(d);
	p->encoding = dec_str(d);
	p->location = dec_str(d);
	p->disposition = dec_str(d);
	dec_params(d, &p->dparams, &p->ndparams);
	p->nlanguage = dec_count(d, META_MAX_LANGS, META_ENC_STR_FIXED,
	    "language");
	if (p->nlanguage > 0) {
		p->language = xcalloc(p->nlanguage, sizeof(*p->language));
		for (i = 0; i < p->nlanguage; i++)
			p->language[i] = dec_str_req(d, "language", 0);
	}
	if ((has_env = dec_u8(d)) == 1)
		p->env = dec_env(d);
	else if (has_env != 0)
		dec_fail(d, "bad envelope mark");
	if (d->failed)
		return;
	if (p->flags & ~(uint32_t)META_PART_ALL)
		dec_fail(d, "unknown part flags");
	if (p->disposition == NULL && p->ndparams > 0)
		dec_fail(d, "disposition parameters without disposition");
	if (p->disposition != NULL && !dec_token(p->disposition))
		dec_fail(d, "bad disposition");
}

/*
 * The tree and the offsets: children counts add up, nesting stays within
 * META_MAX_DEPTH, each kind of part has the children it must have, an
 * envelope exactly on message tops, children inside their parent's body
 * and in order, the child of a message part spanning its parent's body.
 */
static void
dec_check_tree(struct meta_dec *d, const struct meta *m)
{
	const struct meta_part	*p, *par;
	uint32_t		 stack[META_MAX_DEPTH], left[META_MAX_DEPTH];
	uint64_t		 prev_end[META_MAX_DEPTH];
	uint32_t		 i, top = 0, want;
	bool			 msg_top;

	for (i = 0; i < m->nparts && !d->failed; i++) {
		p = &m->parts[i];
		while (top > 0 && left[top - 1] == 0)
			top--;
		if (i == 0) {
			par = NULL;
			msg_top = true;
			if (p->hdr_start != 0 || p->body_end != m->size)
				dec_fail(d, "part 0 does not span the message");
		} else {
			if (top == 0) {
				dec_fail(d, "part %u has no parent", i);
				break;
			}
			par = &m->parts[stack[top - 1]];
			msg_top = meta_part_is_message(par);
			left[top - 1]--;
			if (p->hdr_start < prev_end[top - 1] ||
			    p->body_end > par->body_end)
				dec_fail(d, "part %u outside its parent", i);
			if (msg_top && (p->hdr_start != par->body_start ||
			    p->body_end != par->body_end))
				dec_fail(d, "part %u does not span its "
				    "message", i);
			prev_end[top - 1] = p->body_end;
		}
		if (p->hdr_start > p->body_start ||
		    p->body_start > p->body_end || p->body_end > m->size)
			dec_fail(d, "part %u offsets out of order", i);
		if ((p->env != NULL) != msg_top)
			dec_fail(d, "part %u envelope misplaced", i);
		if (meta_part_is_multipart(p))
			want = p->nchildren >= 1 ? p->nchildren : 1;
		else if (meta_part_is_message(p))
			want = 1;
		else
			want = 0;
		if (p->nchildren != want)
			dec_fail(d, "part %u has %u children", i,
			    p->nchildren);
		if (p->lines > p->body_end - p->body_start ||
		    (p->lines != 0 && strcmp(p->type, "text") != 0 &&
		    !meta_part_is_message(p)))
			dec_fail(d, "part %u line count", i);
		if (p->nchildren > 0) {
			if (top >= META_MAX_DEPTH - 1) {
				dec_fail(d, "part %u nested too deep", i);
				break;
			}
			stack[top] = i;
			left[top] = p->nchildren;
			prev_end[top++] = p->body_start;
		}
	}
	while (!d->failed && top > 0)
		if (left[--top] != 0)
			dec_fail(d, "children missing");
}

struct meta *
meta_decode(const unsigned char *data, size_t len, char *err, size_t errlen)
{
	struct meta_dec	 d = { data, data, data + len, err, errlen, 0 };
	struct meta	*m;
	uint32_t	 i;
	uint8_t		 version, has_date;
	char		*p;

	if (errlen > 0)
		err[0] = '\0';
	m = xcalloc(1, sizeof(*m));
	if (len > META_MAX_OUTPUT)
		dec_fail(&d, "record of %zu bytes is too long", len);
	if ((version = dec_u8(&d)) != META_VERSION)
		dec_fail(&d, "version %u, expected %u", version, META_VERSION);
	m->flags = dec_u8(&d);
	m->limits = dec_u32(&d);
	m->size = dec_u64(&d);
	has_date = dec_u8(&d);
	m->has_date = has_date == 1;
	m->date = (int64_t)dec_u64(&d);
	m->date_zone = (int32_t)dec_u32(&d);
	if (!d.failed && (has_date > 1 || m->date_zone <= -24 * 60 ||
	    m->date_zone >= 24 * 60 || (!m->has_date && (m->date != 0 ||
	    m->date_zone != 0))))
		dec_fail(&d, "bad date");
	if (!d.failed && ((m->flags & ~(META_UNPARSABLE | META_LIMITED)) ||
	    (m->limits & ~(uint32_t)META_LIMIT_ALL) ||
	    ((m->flags & META_LIMITED) != 0) != (m->limits != 0)))
		dec_fail(&d, "bad flags");
	m->subject = dec_text(&d);
	m->from = dec_text(&d);
	m->to = dec_text(&d);
	m->cc = dec_text(&d);
	m->bcc = dec_text(&d);
	m->nnames = dec_count(&d, META_MAX_HDR_FIELDS, META_ENC_STR_FIXED,
	    "name");
	if (m->nnames > 0)
		m->names = xcalloc(m->nnames, sizeof(*m->names));
	for (i = 0; i < m->nnames && !d.failed; i++) {
		if ((m->names[i] = dec_str_req(&d, "name", 0)) == NULL)
			break;
		if (*m->names[i] == '\0')
			dec_fail(&d, "empty name");
		for (p = m->names[i]; *p != '\0'; p++)
			if (*p >= 'A' && *p <= 'Z')
				dec_fail(&d, "name not lower case");
	}
	m->nparts = dec_count(&d, META_MAX_PARTS, META_MIN_PART, "part");
	if (!d.failed && m->nparts == 0)
		dec_fail(&d, "no part");
	if (m->nparts > 0)
		m->parts = xcalloc(m->nparts, sizeof(*m->parts));
	for (i = 0; i < m->nparts && !d.failed; i++)
		dec_part(&d, &m->parts[i]);
	if (!d.failed && d.p != d.end)
		dec_fail(&d, "%zu bytes left over", (size_t)(d.end - d.p));
	if (!d.failed && (m->flags & META_UNPARSABLE) && m->nparts != 1)
		dec_fail(&d, "unparsable record with %u parts", m->nparts);
	if (!d.failed)
		dec_check_tree(&d, m);
	if (d.failed) {
		meta_free(m);
		errno = EBADMSG;
		return NULL;
	}
	meta_link(m);
	return m;
}
