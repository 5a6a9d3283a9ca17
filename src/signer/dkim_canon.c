/* SPDX-License-Identifier: ISC */
/*
 * dkim_canon.c - what DKIM signing needs of a message, and no more: the
 * header split into fields, the From field's domain, RFC 6376 3.4.2 and
 * 3.4.4 relaxed canonicalization, and the list of fields to sign.  No
 * I/O and no cryptography, so that it is fuzzed as it runs.
 *
 * Process:  signer (and tests).
 * Trust:    the message is hostile: every offset is checked against the
 *           length, the header is bounded (DKIM_HEADER_MAX,
 *           DKIM_FIELDS_MAX), and anything unusual makes the message
 *           unsigned, never a crash.
 * Limits:   DKIM_HEADER_MAX, DKIM_FIELDS_MAX, DKIM_DOMAIN_MAX.
 * See also: dkim.h, dkim_sign.c, tests/unit/test_dkim.c,
 *           tests/fuzz/fuzz_dkim.c.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "xmalloc.h"
#include "dkim.h"
#include "banned.h"

#define IS_WSP(c)	((c) == ' ' || (c) == '\t')
#define IS_EOL(c)	((c) == '\r' || (c) == '\n')
#define EMIT_CHUNK	4096

/*
 * The line at off: its content ends at *end_r, the next line starts at
 * *next_r.  A line end is CR LF, a lone CR or a lone LF.
 */
static void
line_at(const unsigned char *p, size_t len, size_t off, size_t *end_r,
    size_t *next_r)
{
	size_t	i = off;

	while (i < len && !IS_EOL(p[i]))
		i++;
	*end_r = i;
	if (i < len && p[i] == '\r' && i + 1 < len && p[i + 1] == '\n')
		i += 2;
	else if (i < len)
		i++;
	*next_r = i;
}

int
dkim_msg_parse(struct dkim_msg *m, const unsigned char *msg, size_t len,
    const char **errstr_r)
{
	struct dkim_field	*f;
	size_t			 off = 0, end, next, i, cap = 0;

	memset(m, 0, sizeof(*m));
	m->p = msg;
	m->len = len;
	m->body = len;
	while (off < len) {
		line_at(msg, len, off, &end, &next);
		if (next > DKIM_HEADER_MAX) {
			*errstr_r = "header too large";
			goto bad;
		}
		if (end == off) {		/* the empty line */
			m->body = next;
			return 0;
		}
		if (IS_WSP(msg[off])) {		/* a continuation line */
			if (m->nfields == 0) {
				*errstr_r = "continuation line first";
				goto bad;
			}
			f = &m->fields[m->nfields - 1];
			f->len = next - f->off;
			off = next;
			continue;
		}
		/* RFC 5322 2.2: ftext is %d33-57 / %d59-126; obs-optional
		 * (4.5.8) allows white space before the colon */
		for (i = off; i < end && msg[i] > 32 && msg[i] < 127 &&
		    msg[i] != ':'; i++)
			;
		if (i == off) {
			*errstr_r = "not a header field";
			goto bad;
		}
		f = NULL;
		{
			size_t	namelen = i - off;

			while (i < end && IS_WSP(msg[i]))
				i++;
			if (i == end || msg[i] != ':') {
				*errstr_r = "not a header field";
				goto bad;
			}
			if (m->nfields == DKIM_FIELDS_MAX) {
				*errstr_r = "too many header fields";
				goto bad;
			}
			if (m->nfields == cap) {
				cap = cap == 0 ? 32 : cap * 2;
				m->fields = xreallocarray(m->fields, cap,
				    sizeof(*m->fields));
			}
			f = &m->fields[m->nfields++];
			f->off = off;
			f->len = next - off;
			f->namelen = namelen;
		}
		off = next;
	}
	return 0;			/* a header without a body */
bad:
	dkim_msg_free(m);
	return -1;
}

void
dkim_msg_free(struct dkim_msg *m)
{
	free(m->fields);
	m->fields = NULL;
	m->nfields = 0;
}

int
dkim_field_is(const struct dkim_msg *m, size_t i, const char *name)
{
	size_t	n = strlen(name);

	return i < m->nfields && m->fields[i].namelen == n &&
	    strncasecmp((const char *)m->p + m->fields[i].off, name, n) == 0;
}

static int
label_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

/* Dot-separated labels of [a-z0-9-], 1..63 each, no hyphen at an end. */
static int
labels_ok(const char *s, size_t max)
{
	size_t	i, start = 0, n = strlen(s);

	if (n == 0 || n > max)
		return 0;
	for (i = 0; i <= n; i++) {
		if (i < n && s[i] != '.') {
			if (!label_char((unsigned char)s[i]))
				return 0;
			continue;
		}
		if (i == start || i - start > 63 || s[start] == '-' ||
		    s[i - 1] == '-')
			return 0;
		start = i + 1;
	}
	return 1;
}

int
dkim_domain_ok(const char *s)
{
	return labels_ok(s, DKIM_DOMAIN_MAX);
}

int
dkim_selector_ok(const char *s)
{
	return labels_ok(s, DKIM_SELECTOR_MAX);
}

int
dkim_from_domain(const struct dkim_msg *m, char *dom, size_t domlen)
{
	const unsigned char	*v;
	char			*s, *addr, *at, *lt = NULL, *gt;
	size_t			 i, n, vlen, found = 0, which = 0, o = 0;
	int			 quote = 0, depth = 0, r = -1;

	for (i = 0; i < m->nfields; i++)
		if (dkim_field_is(m, i, "from")) {
			found++;
			which = i;
		}
	if (found != 1)
		return -1;		/* RFC 5322 3.6: exactly one */
	v = m->p + m->fields[which].off + m->fields[which].namelen;
	vlen = m->fields[which].len - m->fields[which].namelen;
	/* past the white space and the colon */
	while (vlen > 0 && *v != ':') {
		v++;
		vlen--;
	}
	if (vlen == 0)
		return -1;
	v++;
	vlen--;
	s = xmalloc(vlen + 1);
	/* unfolded, comments dropped, quoted strings kept (RFC 5322 3.2) */
	for (i = 0; i < vlen; i++) {
		unsigned char	c = v[i];

		if (IS_EOL(c))
			continue;
		if (c == '\\' && (quote || depth > 0)) {
			if (i + 1 < vlen && !IS_EOL(v[i + 1])) {
				if (depth == 0) {
					s[o++] = (char)c;
					s[o++] = (char)v[i + 1];
				}
				i++;
			}
			continue;
		}
		if (depth > 0) {
			if (c == '(')
				depth++;
			else if (c == ')')
				depth--;
			continue;
		}
		if (quote) {
			if (c == '"')
				quote = 0;
			s[o++] = (char)c;
			continue;
		}
		if (c == '"')
			quote = 1;
		else if (c == '(') {
			depth = 1;
			s[o++] = ' ';
			continue;
		} else if (c == ',' || c == ';')
			goto done;	/* a list or a group */
		else if (c == '<') {
			if (lt != NULL)
				goto done;
			lt = s + o;
		}
		s[o++] = (char)c;
	}
	s[o] = '\0';
	if (quote || depth > 0)
		goto done;
	if (lt != NULL) {
		addr = lt + 1;
		if ((gt = strchr(addr, '>')) == NULL)
			goto done;
		*gt++ = '\0';
		while (IS_WSP(*gt))
			gt++;
		if (*gt != '\0')
			goto done;
	} else
		addr = s;
	while (IS_WSP(*addr))
		addr++;
	n = strlen(addr);
	while (n > 0 && IS_WSP(addr[n - 1]))
		addr[--n] = '\0';
	if ((at = strrchr(addr, '@')) == NULL || at == addr)
		goto done;
	for (i = 0; at[1 + i] != '\0'; i++)
		if (at[1 + i] >= 'A' && at[1 + i] <= 'Z')
			at[1 + i] = (char)(at[1 + i] - 'A' + 'a');
	if (!dkim_domain_ok(at + 1) || strlcpy(dom, at + 1, domlen) >= domlen)
		goto done;
	r = 0;
done:
	free(s);
	return r;
}

int
dkim_canon_header(struct buf *out, const unsigned char *f, size_t len,
    int crlf)
{
	size_t	i, c;
	int	space = 0, any = 0;

	/* the name, lower-cased, without the white space before the colon */
	for (c = 0; c < len && f[c] != ':'; c++)
		;
	if (c == len)
		return -1;
	for (i = 0; i < c && !IS_WSP(f[i]); i++) {
		char	ch = (char)f[i];

		if (ch >= 'A' && ch <= 'Z')
			ch = (char)(ch - 'A' + 'a');
		if (buf_add(out, &ch, 1) == -1)
			return -1;
	}
	if (buf_add(out, ":", 1) == -1)
		return -1;
	/* the value unfolded, runs of WSP one SP, none at either end */
	for (i = c + 1; i < len; i++) {
		if (IS_EOL(f[i]))
			continue;
		if (IS_WSP(f[i])) {
			space = 1;
			continue;
		}
		if ((space && any && buf_add(out, " ", 1) == -1) ||
		    buf_add(out, f + i, 1) == -1)
			return -1;
		space = 0;
		any = 1;
	}
	if (crlf && buf_add(out, "\r\n", 2) == -1)
		return -1;
	return 0;
}

struct emitter {
	dkim_emit_fn	emit;
	void		*arg;
	unsigned char	 b[EMIT_CHUNK];
	size_t		 n;
};

static void
em_put(struct emitter *e, const void *p, size_t n)
{
	if (n > sizeof(e->b) - e->n) {
		if (e->n > 0)
			e->emit(e->arg, e->b, e->n);
		e->n = 0;
		if (n > sizeof(e->b)) {
			e->emit(e->arg, p, n);
			return;
		}
	}
	memcpy(e->b + e->n, p, n);
	e->n += n;
}

void
dkim_canon_body(const unsigned char *p, size_t len, dkim_emit_fn emit,
    void *arg)
{
	struct emitter	*e = xcalloc(1, sizeof(*e));
	size_t		 off = 0, end, next, i, s, empty = 0;

	e->emit = emit;
	e->arg = arg;
	while (off < len) {
		line_at(p, len, off, &end, &next);
		/* trailing WSP goes (3.4.4 b) */
		while (end > off && IS_WSP(p[end - 1]))
			end--;
		if (end == off) {
			/* empty lines count only when a line follows (c) */
			empty++;
			off = next;
			continue;
		}
		for (; empty > 0; empty--)
			em_put(e, "\r\n", 2);
		/* a run of WSP becomes one SP (a) */
		for (i = off; i < end; ) {
			if (IS_WSP(p[i])) {
				em_put(e, " ", 1);
				while (i < end && IS_WSP(p[i]))
					i++;
				continue;
			}
			for (s = i; i < end && !IS_WSP(p[i]); i++)
				;
			em_put(e, p + s, i - s);
		}
		em_put(e, "\r\n", 2);
		off = next;
	}
	if (e->n > 0)
		emit(arg, e->b, e->n);
	free(e);
}

static const struct {
	const char	*name;
	int		 over;	/* oversigned */
} signed_names[] = {
	{ "from", 1 }, { "to", 1 }, { "cc", 1 }, { "subject", 1 },
	{ "date", 1 }, { "message-id", 1 }, { "reply-to", 1 },
	{ "mime-version", 0 }, { "content-type", 0 },
	{ "content-transfer-encoding", 0 }, { "in-reply-to", 0 },
	{ "references", 0 },
};

static int
hlist_add(struct buf *hlist, const char *name)
{
	if (hlist->len > 0 && buf_add(hlist, ":", 1) == -1)
		return -1;
	return buf_add(hlist, name, strlen(name));
}

int
dkim_signed_fields(const struct dkim_msg *m, struct buf *hlist,
    struct buf *hdr)
{
	size_t	k, i;

	for (k = 0; k < sizeof(signed_names) / sizeof(signed_names[0]); k++) {
		/* RFC 6376 5.4.2: several instances are signed bottom up */
		for (i = m->nfields; i-- > 0; ) {
			if (!dkim_field_is(m, i, signed_names[k].name))
				continue;
			if (hlist_add(hlist, signed_names[k].name) == -1 ||
			    dkim_canon_header(hdr, m->p + m->fields[i].off,
			    m->fields[i].len, 1) == -1)
				return -1;
		}
		/* 5.4.2: a name with no instance left matches nothing, so
		 * one more makes an added field of this name break it */
		if (signed_names[k].over &&
		    hlist_add(hlist, signed_names[k].name) == -1)
			return -1;
	}
	return 0;
}
