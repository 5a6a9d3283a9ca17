/* SPDX-License-Identifier: ISC */
/*
 * fuzz_mta_7bit.c - libFuzzer target for the 8-bit to 7-bit conversion
 * (mta/mta_7bit.c): what goes to a remote server without 8BITMIME.
 *
 * The input is a message.  It may be refused (-1) with a printable reason
 * and an empty result.  When it is converted (0): the result is 7-bit,
 * holds no NUL and no CR or LF outside CR LF, every line is at most 998
 * octets, the last one ends in CR LF; mta_7bit_needed says no; a message
 * that was already such (line ends aside) comes back byte for byte with
 * CR LF line ends; and a second conversion gives the same bytes.  And
 * what it says is the same: GMime finds as many leaf parts in the result
 * as in the input, of the same types, each decoding to the same bytes
 * (CR LF and LF taken as one, line ends at the very end aside).  With
 * test hooks, for any input GMime parses: its objects and header fields
 * are within what mta_7bit_convert bounds before it lets GMime parse (the
 * memory GMime takes).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gmime/gmime.h>

#include "buf.h"
#include "log.h"
#include "mta_7bit.h"
#include "banned.h"

#define FUZZ_MAX_INPUT	(256 * 1024)
#define FUZZ_MAX_OUTPUT	(4 * 1024 * 1024)

struct fuzz_leaves {
	GMimeObject	**v;
	size_t		  n, cap;
};

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* The checks of the result, independent of mta_7bit.c's own. */
static void
fuzz_check_out(const struct buf *b)
{
	const uint8_t	*p = b->data;
	size_t		 i, col = 0;

	for (i = 0; i < b->len; i++) {
		SP_ASSERT(p[i] != '\0' && p[i] < 0x80);
		if (p[i] == '\r') {
			SP_ASSERT(i + 1 < b->len && p[i + 1] == '\n');
			continue;
		}
		if (p[i] == '\n') {
			SP_ASSERT(i > 0 && p[i - 1] == '\r');
			col = 0;
			continue;
		}
		col++;
		SP_ASSERT(col <= 998);
	}
	SP_ASSERT(b->len == 0 || p[b->len - 1] == '\n');
	SP_ASSERT(mta_7bit_needed(p, b->len) == 0);
}

/* Was the input fine as it is (7-bit, no NUL or bare CR, lines <= 998)? */
static int
fuzz_clean(const uint8_t *p, size_t n)
{
	size_t	i, col = 0;

	for (i = 0; i < n; i++) {
		if (p[i] == '\0' || p[i] >= 0x80)
			return 0;
		if (p[i] == '\r' && (i + 1 == n || p[i + 1] != '\n'))
			return 0;
		if (p[i] == '\r')
			continue;
		if (p[i] == '\n')
			col = 0;
		else if (++col > 998)
			return 0;
	}
	return 1;
}

/* out is in with every lone LF made CR LF and a CR LF at the end. */
static void
fuzz_check_same(const uint8_t *in, size_t n, const struct buf *b)
{
	size_t	i, k = 0;

	for (i = 0; i < n; i++) {
		if (in[i] == '\n' && (i == 0 || in[i - 1] != '\r')) {
			SP_ASSERT(k < b->len && b->data[k] == '\r');
			k++;
		}
		SP_ASSERT(k < b->len && b->data[k] == in[i]);
		k++;
	}
	if (n > 0 && in[n - 1] != '\n') {
		SP_ASSERT(k + 2 == b->len);
		SP_ASSERT(b->data[k] == '\r' && b->data[k + 1] == '\n');
	} else
		SP_ASSERT(k == b->len);
}

static GMimeMessage *
fuzz_parse(const uint8_t *p, size_t n)
{
	GMimeStream	*s;
	GMimeParser	*parser;
	GMimeMessage	*m;

	s = g_mime_stream_mem_new_with_buffer((const char *)p, n);
	parser = g_mime_parser_new_with_stream(s);
	g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
	m = g_mime_parser_construct_message(parser, NULL);
	g_object_unref(parser);
	g_object_unref(s);
	return m;
}

/* The leaves in document order, enclosed messages entered (GMime's depth
 * is bounded, 1024 levels). */
static void
fuzz_leaves(GMimeObject *o, struct fuzz_leaves *l)
{
	GMimeMultipart	*mp;
	GMimeMessage	*em;
	int		 i;

	if (o == NULL)
		return;
	if (GMIME_IS_MULTIPART(o)) {
		mp = GMIME_MULTIPART(o);
		for (i = 0; i < g_mime_multipart_get_count(mp); i++)
			fuzz_leaves(g_mime_multipart_get_part(mp, i), l);
		return;
	}
	if (GMIME_IS_MESSAGE_PART(o)) {
		em = g_mime_message_part_get_message(GMIME_MESSAGE_PART(o));
		if (em != NULL)
			fuzz_leaves(g_mime_message_get_mime_part(em), l);
		return;
	}
	if (l->n == l->cap) {
		l->cap = l->cap == 0 ? 16 : l->cap * 2;
		l->v = reallocarray(l->v, l->cap, sizeof(*l->v));
		SP_ASSERT(l->v != NULL);
	}
	l->v[l->n++] = o;
}

/*
 * A leaf decoded (raw: as it stands), every CR before an LF and the line
 * ends at the very end taken away.
 */
static GByteArray *
fuzz_decoded(GMimeObject *o, int raw)
{
	GMimeStream		*mem = g_mime_stream_mem_new();
	GMimeDataWrapper	*w = g_mime_part_get_content(GMIME_PART(o));
	GByteArray		*a, *r = g_byte_array_new();
	size_t			 i;

	if (w != NULL && raw)
		(void)g_mime_stream_write_to_stream(
		    g_mime_data_wrapper_get_stream(w), mem);
	else if (w != NULL)
		(void)g_mime_data_wrapper_write_to_stream(w, mem);
	a = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	for (i = 0; i < a->len; i++)
		if (a->data[i] != '\r' || i + 1 == a->len ||
		    a->data[i + 1] != '\n')
			g_byte_array_append(r, a->data + i, 1);
	while (r->len > 0 && (r->data[r->len - 1] == '\n' ||
	    r->data[r->len - 1] == '\r'))
		g_byte_array_set_size(r, r->len - 1);
	g_object_unref(mem);
	return r;
}

/* The input and the result have the same leaves, decoding the same. */
static void
fuzz_check_leaves(const uint8_t *in, size_t n, const struct buf *b)
{
	GMimeMessage		*a = fuzz_parse(in, n);
	GMimeMessage		*c = fuzz_parse(b->data, b->len);
	struct fuzz_leaves	 la = { NULL, 0, 0 }, lc = { NULL, 0, 0 };
	GMimeContentType	*ta, *tc;
	GByteArray		*da, *dc;
	size_t			 i;
	int			 raw;

	/* converted, so GMime read the input; and it reads what it wrote */
	SP_ASSERT(a != NULL && c != NULL);
	fuzz_leaves(g_mime_message_get_mime_part(a), &la);
	fuzz_leaves(g_mime_message_get_mime_part(c), &lc);
	SP_ASSERT(la.n == lc.n);
	for (i = 0; i < la.n; i++) {
		ta = g_mime_object_get_content_type(la.v[i]);
		tc = g_mime_object_get_content_type(lc.v[i]);
		SP_ASSERT(g_mime_content_type_is_type(tc,
		    g_mime_content_type_get_media_type(ta),
		    g_mime_content_type_get_media_subtype(ta)));
		/*
		 * GMime's uudecoder takes the CR of a CR LF for data: a
		 * 7-bit x-uuencode body kept as it is, its lone LFs now CR
		 * LF, is compared as it stands.
		 */
		raw = g_mime_part_get_content_encoding(GMIME_PART(la.v[i])) ==
		    GMIME_CONTENT_ENCODING_UUENCODE &&
		    g_mime_part_get_content_encoding(GMIME_PART(lc.v[i])) ==
		    GMIME_CONTENT_ENCODING_UUENCODE;
		da = fuzz_decoded(la.v[i], raw);
		dc = fuzz_decoded(lc.v[i], raw);
		SP_ASSERT(da->len == dc->len && (da->len == 0 ||
		    memcmp(da->data, dc->data, da->len) == 0));
		g_byte_array_free(da, TRUE);
		g_byte_array_free(dc, TRUE);
	}
	free(la.v);
	free(lc.v);
	g_object_unref(a);
	g_object_unref(c);
}

#ifdef SP_TEST_HOOKS
/* GMime's objects (messages too) and header fields under o. */
static void
fuzz_count(GMimeObject *o, size_t *objs, size_t *hdrs)
{
	GMimeMultipart	*mp;
	GMimeMessage	*em;
	int		 i;

	if (o == NULL)
		return;
	(*objs)++;
	*hdrs += g_mime_header_list_get_count(g_mime_object_get_header_list(o));
	if (GMIME_IS_MULTIPART(o)) {
		mp = GMIME_MULTIPART(o);
		for (i = 0; i < g_mime_multipart_get_count(mp); i++)
			fuzz_count(g_mime_multipart_get_part(mp, i), objs,
			    hdrs);
	} else if (GMIME_IS_MESSAGE_PART(o)) {
		em = g_mime_message_part_get_message(GMIME_MESSAGE_PART(o));
		if (em != NULL) {
			(*objs)++;
			*hdrs += g_mime_header_list_get_count(
			    g_mime_object_get_header_list(GMIME_OBJECT(em)));
			fuzz_count(g_mime_message_get_mime_part(em), objs,
			    hdrs);
		}
	}
}

static void
fuzz_check_bounds(const uint8_t *in, size_t n)
{
	GMimeMessage	*m = fuzz_parse(in, n);
	size_t		 parts, hdr, objs = 1, hdrs;

	if (m == NULL)
		return;
	mta_7bit_test_bounds(in, n, &parts, &hdr);
	hdrs = g_mime_header_list_get_count(
	    g_mime_object_get_header_list(GMIME_OBJECT(m)));
	fuzz_count(g_mime_message_get_mime_part(m), &objs, &hdrs);
	SP_ASSERT(hdrs <= hdr);
	SP_ASSERT(objs <= 3 * parts + 2);
	g_object_unref(m);
}
#endif

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct buf	*out, *again;
	char			 err[256];
	size_t			 i;
	int			 r;

	if (size > FUZZ_MAX_INPUT)
		return 0;
	if (out == NULL) {
		mta_7bit_init();
		out = buf_new(FUZZ_MAX_OUTPUT);
		again = buf_new(FUZZ_MAX_OUTPUT);
	}
#ifdef SP_TEST_HOOKS
	fuzz_check_bounds(data, size);
#endif
	memset(err, 'x', sizeof(err));
	r = mta_7bit_convert(data, size, out, err, sizeof(err));
	SP_ASSERT(r == 0 || r == -1);
	if (r == -1) {
		SP_ASSERT(out->len == 0);
		SP_ASSERT(memchr(err, '\0', sizeof(err)) != NULL);
		SP_ASSERT(err[0] != '\0');
		for (i = 0; err[i] != '\0'; i++)
			SP_ASSERT(err[i] >= 0x20 && err[i] < 0x7f);
		return 0;
	}
	fuzz_check_out(out);
	if (fuzz_clean(data, size))
		fuzz_check_same(data, size, out);
	else
		fuzz_check_leaves(data, size, out);
	/* what is 7-bit already comes back as it is */
	SP_ASSERT(mta_7bit_convert(out->data, out->len, again, err,
	    sizeof(err)) == 0);
	SP_ASSERT(again->len == out->len &&
	    memcmp(again->data, out->data, out->len) == 0);
	return 0;
}
