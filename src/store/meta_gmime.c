/* SPDX-License-Identifier: ISC */
/*
 * meta_gmime.c - the metadata builder's reading of header field values
 * with GMime: Content-Type and Content-Disposition with their parameters
 * (RFC 2045, RFC 2231), address lists with groups (RFC 5322 3.4), RFC 2047
 * encoded-words and charsets (through iconv), dates.  The builder's only
 * GMime file (downgrade.c and the mail process's FETCH use GMime too);
 * what it returns is ours (xmalloc'd, NUL-free, no CR or LF, decoded
 * text valid UTF-8).
 *
 * Process:  the account's mail process (import), after meta_init and
 *           inside its jail (the gconv modules mounted, RECIPES.md 10).
 * Trust:    every value is from a hostile message; meta_build.c has cut
 *           it to META_MAX_HDR_BLOCK bytes and removed NULs before GMime
 *           sees it.  GMime's own work on such a value was measured
 *           linear (256 KiB of addresses, encoded-words, RFC 2231
 *           continuations or parameters: 35 ms at most).
 * Limits:   META_MAX_PARAMS, META_MAX_ADDRS (the caller's max), META_MAX_TYPE,
 *           META_MAX_ADDR_COLONS (GMime's recursion on nested groups),
 *           META_READ_PARAMS and META_READ_ADDRS (GMime's work).
 * See also: meta_build.c (the part walker), meta.h (what the record says).
 *
 * GMime's headers are included as they are: with gcc 12 and clang 14 they
 * raise none of our warnings (-Wshadow, -Wstrict-prototypes included), so
 * no pragma and no -isystem is needed.
 *
 * GMime's parser for whole messages is not used on messages (only to ask
 * whether a message header is readable at all, and under SP_TEST_HOOKS as
 * the reference the tests compare the walker with): it recurses once per
 * nesting level up to 1024 levels, keeps every part however many there
 * are (100,000 parts: 1.7 s and 138 MB; a million: 12.7 s and 1.3 GB),
 * and does not say where a multipart's body or a part's header block
 * starts and ends, which partial fetches need.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gmime/gmime.h>

#include "log.h"
#include "xmalloc.h"
#include "meta.h"
#include "meta_int.h"
#include "banned.h"

static GMimeParserOptions	*gm_opts;

void
meta_init(void)
{
	meta_gmime_init();
}

void
meta_gmime_init(void)
{
	/* 8-bit header text: UTF-8 if it is, else ISO-8859-1 (never fails) */
	static const char	*charsets[] = { "utf-8", "iso-8859-1", NULL };

	if (gm_opts != NULL)
		return;
	g_mime_init();
	gm_opts = g_mime_parser_options_new();
	g_mime_parser_options_set_fallback_charsets(gm_opts, charsets);
}

/*
 * Our copy of a GMime string: CR and LF become spaces; with utf8, invalid
 * UTF-8 is repaired (GMime's decoders should never produce it).
 */
static char *
gm_str(const char *s, int utf8)
{
	char	*r, *p;
	gchar	*valid;

	if (s == NULL)
		return NULL;
	if (utf8 && !g_utf8_validate(s, -1, NULL)) {
		valid = g_utf8_make_valid(s, -1);
		r = xstrdup(valid);
		g_free(valid);
	} else
		r = xstrdup(s);
	for (p = r; *p != '\0'; p++)
		if (*p == '\r' || *p == '\n')
			*p = ' ';
	return r;
}

/*
 * Lower-case copy of a type token, or NULL when empty, too long, or not
 * printable ASCII (RFC 2045 tokens are; GMime also takes 8-bit bytes).
 */
static char *
gm_token(const char *s)
{
	size_t	 i, n;
	char	*r;

	if (s == NULL || (n = strlen(s)) == 0 || n > META_MAX_TYPE)
		return NULL;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
			return NULL;
	r = xstrdup(s);
	for (i = 0; i < n; i++)
		if (r[i] >= 'A' && r[i] <= 'Z')
			r[i] = (char)(r[i] - 'A' + 'a');
	return r;
}

/*
 * SECURITY: the value up to its max-th sep (an xmalloc'd copy, *cut_r
 * set), or NULL when it has fewer: GMime's work is bounded by what is
 * kept, not by the header size.
 */
static char *
gm_cut(const char *v, char sep, uint32_t max, int *cut_r)
{
	const char	*p;
	uint32_t	 n = 0;

	for (p = v; *p != '\0'; p++)
		if (*p == sep && ++n >= max) {
			*cut_r = 1;
			return xstrndup(v, (size_t)(p - v));
		}
	return NULL;
}

static void
gm_params(GMimeParamList *pl, struct meta_param **params_r, uint32_t *n_r,
    uint32_t *n_all_r)
{
	GMimeParam	*p;
	int		 i, n;
	uint32_t	 keep;

	*params_r = NULL;
	*n_r = *n_all_r = 0;
	if (pl == NULL || (n = g_mime_param_list_length(pl)) <= 0)
		return;
	*n_all_r = (uint32_t)n;
	keep = (uint32_t)n > META_MAX_PARAMS ? META_MAX_PARAMS : (uint32_t)n;
	*params_r = xreallocarray(NULL, keep, sizeof(**params_r));
	for (i = 0; i < (int)keep; i++) {
		p = g_mime_param_list_get_parameter_at(pl, i);
		(*params_r)[i].name = gm_str(p != NULL &&
		    g_mime_param_get_name(p) != NULL ?
		    g_mime_param_get_name(p) : "", 1);
		(*params_r)[i].value = gm_str(p != NULL &&
		    g_mime_param_get_value(p) != NULL ?
		    g_mime_param_get_value(p) : "", 1);
	}
	*n_r = keep;
}

void
meta_gmime_content_type(const char *value, struct meta_ctype *ct)
{
	GMimeContentType	*g;
	const char		*t, *st, *b, *v;
	char			*cut;

	memset(ct, 0, sizeof(*ct));
	cut = gm_cut(value, ';', META_READ_PARAMS, &ct->cut);
	g = g_mime_content_type_parse(gm_opts, cut != NULL ? cut : value);
	free(cut);
	if (g == NULL)
		return;
	t = g_mime_content_type_get_media_type(g);
	st = g_mime_content_type_get_media_subtype(g);
	/*
	 * GMime answers application/octet-stream for a value it cannot read;
	 * RFC 2045 5.2 wants text/plain then: tell the caller it failed.
	 */
	for (v = value; *v == ' ' || *v == '\t'; v++)
		;
	if (t != NULL && st != NULL &&
	    g_ascii_strcasecmp(t, "application") == 0 &&
	    g_ascii_strcasecmp(st, "octet-stream") == 0 &&
	    g_ascii_strncasecmp(v, "application", 11) != 0)
		t = st = NULL;
	ct->type = gm_token(t);
	ct->subtype = gm_token(st);
	if (ct->type == NULL || ct->subtype == NULL) {
		free(ct->type);
		free(ct->subtype);
		ct->type = ct->subtype = NULL;
		g_object_unref(g);
		return;
	}
	gm_params(g_mime_content_type_get_parameters(g), &ct->params,
	    &ct->nparams, &ct->nparams_all);
	if ((b = g_mime_content_type_get_parameter(g, "boundary")) != NULL)
		ct->boundary = xstrdup(b);	/* compared with raw lines */
	g_object_unref(g);
}

void
meta_gmime_ctype_free(struct meta_ctype *ct)
{
	uint32_t	i;

	free(ct->type);
	free(ct->subtype);
	for (i = 0; i < ct->nparams; i++) {
		free(ct->params[i].name);
		free(ct->params[i].value);
	}
	free(ct->params);
	free(ct->boundary);
	memset(ct, 0, sizeof(*ct));
}

void
meta_gmime_disposition(const char *value, char **disp_r,
    struct meta_param **params_r, uint32_t *n_r, uint32_t *n_all_r,
    int *cut_r)
{
	GMimeContentDisposition	*g;
	char			*cut;

	*disp_r = NULL;
	*params_r = NULL;
	*n_r = *n_all_r = 0;
	*cut_r = 0;
	cut = gm_cut(value, ';', META_READ_PARAMS, cut_r);
	g = g_mime_content_disposition_parse(gm_opts, cut != NULL ? cut : value);
	free(cut);
	if (g == NULL)
		return;
	if ((*disp_r = gm_token(g_mime_content_disposition_get_disposition(g)))
	    != NULL)
		gm_params(g_mime_content_disposition_get_parameters(g),
		    params_r, n_r, n_all_r);
	g_object_unref(g);
}

/* Is s NULL, or printable ASCII (nothing to encode for ENVELOPE)? */
static int
gm_printable(const char *s)
{
	for (; s != NULL && *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return 0;
	return 1;
}

static void
gm_addr_add(struct meta_gaddrs *out, uint32_t cap, int kind,
    const char *name, const char *addr, int at)
{
	struct meta_addr	*a;
	char			*enc, *local;
	size_t			 alen;

	SP_ASSERT(out->n < cap);
	a = &out->v[out->n++];
	memset(a, 0, sizeof(*a));
	a->kind = (uint8_t)kind;
	if (kind == META_ADDR_GROUP_END)
		return;
	if (name != NULL && *name != '\0') {
		a->name = gm_str(name, 1);
		if (!gm_printable(a->name)) {
			enc = g_mime_utils_header_encode_text(NULL, a->name,
			    "utf-8");
			a->name_enc = gm_str(enc, 0);
			g_free(enc);
			/* SECURITY: ENVELOPE relies on this being 7-bit */
			if (a->name_enc != NULL && (*a->name_enc == '\0' ||
			    !gm_printable(a->name_enc))) {
				free(a->name_enc);
				a->name_enc = NULL;
			}
		}
	}
	if (kind != META_ADDR_MAILBOX)
		return;
	if (addr == NULL)
		addr = "";
	alen = strlen(addr);
	/* GMime's at is the '@' between local part and domain, or -1 */
	if (at < 0 || (size_t)at >= alen || addr[at] != '@') {
		a->mailbox = gm_str(addr, 0);
		a->host = xstrdup("");
	} else {
		local = xstrndup(addr, (size_t)at);
		a->mailbox = gm_str(local, 0);
		free(local);
		a->host = gm_str(addr + at + 1, 0);
	}
}

/*
 * Walk a GMime list in order.  Entries are counted in n_all; they are
 * kept while they fit in max, a group's end always kept with its start
 * (so the kept list is balanced).  Groups inside groups (GMime builds
 * them: "a: b: x@y;;") are flattened, IMAP has no nested groups; an
 * explicit stack, as deep as GMime's nesting (at most
 * META_MAX_ADDR_COLONS), not recursion.
 */
static void
gm_addr_walk(InternetAddressList *top, struct meta_gaddrs *out, uint32_t max)
{
	struct {
		InternetAddressList	*list;
		int			 next;
	}			 st[META_MAX_ADDR_COLONS + 2];
	InternetAddress		*ia;
	InternetAddressMailbox	*mb;
	InternetAddressList	*members;
	int			 sp = 0, started = 0;
	uint32_t		 cap;

	st[0].list = top;
	st[0].next = 0;
	while (sp >= 0) {
		if (st[sp].next >= internet_address_list_length(st[sp].list)) {
			if (sp == 1 && started)
				gm_addr_add(out, max, META_ADDR_GROUP_END, NULL,
				    NULL, -1);
			sp--;
			continue;
		}
		ia = internet_address_list_get_address(st[sp].list,
		    st[sp].next++);
		if (INTERNET_ADDRESS_IS_GROUP(ia)) {
			members = internet_address_group_get_members(
			    (InternetAddressGroup *)ia);
			if (sp == 0) {
				out->n_all += 2;
				/* room for the start, and its end */
				if ((started = out->n + 2 <= max))
					gm_addr_add(out, max,
					    META_ADDR_GROUP_START,
					    internet_address_get_name(ia), NULL,
					    -1);
			}
			if (members != NULL &&
			    sp + 1 < (int)(sizeof(st) / sizeof(st[0]))) {
				st[++sp].list = members;
				st[sp].next = 0;
			} else if (sp == 0 && started)
				gm_addr_add(out, max, META_ADDR_GROUP_END, NULL,
				    NULL, -1);
		} else if (INTERNET_ADDRESS_IS_MAILBOX(ia)) {
			out->n_all++;
			if (sp > 0 && !started)
				continue;	/* its group was cut */
			cap = sp > 0 ? max - 1 : max;	/* the group's end */
			if (out->n >= cap)
				continue;
			mb = (InternetAddressMailbox *)ia;
			gm_addr_add(out, max, META_ADDR_MAILBOX,
			    internet_address_get_name(ia),
			    internet_address_mailbox_get_addr(mb), mb->at);
		}
	}
}

void
meta_gmime_addresses(const char *value, uint32_t max, struct meta_gaddrs *out)
{
	InternetAddressList	*list;
	const char		*p;
	char			*text, *cut = NULL, *cut2;
	uint32_t		 colons = 0;

	memset(out, 0, sizeof(*out));
	/*
	 * SECURITY: GMime's address parser, and its formatter, recurse once
	 * per group nested in a group ("a: b: c: x@y;;;"): 100,000 levels
	 * (200 KB) overflow an 8 MB stack, 3,000 a 256 KiB one.  Each level
	 * takes a ':', so GMime sees the value only up to its
	 * META_MAX_ADDR_COLONS-th ':' (quoted or not: no guess about how
	 * GMime would read a quote).  Comments and the other parsers used
	 * here do not recurse (checked with 100,000 levels).
	 */
	for (p = value; *p != '\0'; p++)
		if (*p == ':' && ++colons > META_MAX_ADDR_COLONS) {
			cut = xstrndup(value, (size_t)(p - value));
			value = cut;
			out->colons_cut = 1;
			break;
		}
	if ((cut2 = gm_cut(value, ',', META_READ_ADDRS, &out->cut)) != NULL) {
		free(cut);
		value = cut = cut2;
	}
	list = internet_address_list_parse(gm_opts, value);
	free(cut);
	if (list == NULL)
		return;
	if (max > 0)
		out->v = xreallocarray(NULL, max, sizeof(*out->v));
	gm_addr_walk(list, out, max);
	if (internet_address_list_length(list) > 0) {
		text = internet_address_list_to_string(list, NULL, FALSE);
		out->text = gm_str(text, 1);
		g_free(text);
	}
	g_object_unref(list);
}

char *
meta_gmime_decode_text(const char *value)
{
	char	*g, *r;

	g = g_mime_utils_header_decode_text(gm_opts, value);
	r = gm_str(g != NULL ? g : "", 1);
	g_free(g);
	return r;
}

int
meta_gmime_date(const char *value, int64_t *t_r, int32_t *zone_r)
{
	GDateTime	*dt;
	GTimeSpan	 off;

	if ((dt = g_mime_utils_header_decode_date(value)) == NULL)
		return -1;
	*t_r = g_date_time_to_unix(dt);
	off = g_date_time_get_utc_offset(dt) / G_TIME_SPAN_MINUTE;
	g_date_time_unref(dt);
	if (off <= -24 * 60 || off >= 24 * 60)
		return -1;
	*zone_r = (int32_t)off;
	return 0;
}

int
meta_gmime_encoded(const char *cte)
{
	switch (g_mime_content_encoding_from_string(cte)) {
	case GMIME_CONTENT_ENCODING_BASE64:
	case GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE:
	case GMIME_CONTENT_ENCODING_UUENCODE:
		return 1;
	default:
		return 0;
	}
}

/* GMime's parser over a copy of the bytes. */
static GMimeMessage *
gm_parse(const unsigned char *msg, size_t len)
{
	GMimeStream	*s;
	GMimeParser	*p;
	GMimeMessage	*m;

	s = g_mime_stream_mem_new_with_buffer((const char *)msg, len);
	p = g_mime_parser_new_with_stream(s);
	m = g_mime_parser_construct_message(p, gm_opts);
	g_object_unref(p);
	g_object_unref(s);
	return m;
}

int
meta_gmime_parsable(const unsigned char *hdr, size_t len)
{
	GMimeMessage	*m;

	SP_ASSERT(gm_opts != NULL);	/* meta_init first */
	if ((m = gm_parse(hdr, len)) == NULL)
		return 0;
	g_object_unref(m);
	return 1;
}

#ifdef SP_TEST_HOOKS
int
meta_gmime_reference(const unsigned char *msg, size_t len,
    char (*types)[128], int64_t *starts, int64_t *ends, size_t max)
{
	GMimeMessage		*m, *inner;
	GMimeObject		*o;
	GMimeContentType	*ct;
	GMimeDataWrapper	*dw;
	GMimeStream		*st;
	GPtrArray		*todo;
	size_t			 n = 0;
	int			 i;

	meta_gmime_init();
	if ((m = gm_parse(msg, len)) == NULL)
		return -1;
	todo = g_ptr_array_new();
	if (m->mime_part != NULL)
		g_ptr_array_add(todo, m->mime_part);
	/* document order without recursion: a stack, children reversed */
	while (todo->len > 0) {
		o = g_ptr_array_remove_index(todo, todo->len - 1);
		if (n < max) {
			ct = g_mime_object_get_content_type(o);
			snprintf(types[n], sizeof(types[n]), "%s/%s",
			    g_mime_content_type_get_media_type(ct),
			    g_mime_content_type_get_media_subtype(ct));
			for (i = 0; types[n][i] != '\0'; i++)
				types[n][i] = g_ascii_tolower(types[n][i]);
			starts[n] = ends[n] = -1;
			if (GMIME_IS_PART(o) &&
			    (dw = g_mime_part_get_content((GMimePart *)o)) !=
			    NULL &&
			    (st = g_mime_data_wrapper_get_stream(dw)) != NULL) {
				starts[n] = st->bound_start;
				ends[n] = st->bound_end;
			}
		}
		n++;
		if (GMIME_IS_MULTIPART(o)) {
			for (i = g_mime_multipart_get_count(
			    (GMimeMultipart *)o) - 1; i >= 0; i--)
				g_ptr_array_add(todo, g_mime_multipart_get_part(
				    (GMimeMultipart *)o, i));
		} else if (GMIME_IS_MESSAGE_PART(o) &&
		    (inner = g_mime_message_part_get_message(
		    (GMimeMessagePart *)o)) != NULL &&
		    inner->mime_part != NULL)
			g_ptr_array_add(todo, inner->mime_part);
	}
	g_ptr_array_free(todo, TRUE);
	g_object_unref(m);
	return n > INT32_MAX ? INT32_MAX : (int)n;
}
#endif
