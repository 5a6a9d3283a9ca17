/* SPDX-License-Identifier: ISC */
/*
 * pgp_sign.c - one recipient's copy of a message as RFC 3156
 * multipart/signed: GMime parses the message and writes its header
 * fields, mta_7bit.c makes the top-level part 7-bit, the signer (the
 * organization's key through pgp_agent.c) signs exactly those bytes.
 *
 * Process:  pgp (user _sp_pgp, in its jail and sandbox); the unit test
 *           and the fuzz target.  No GPGME here: the signature comes
 *           from a struct pgp_signer.
 * Trust:    the message is hostile (a local user's, for outbound mail).
 *           GMime parses it, mta_7bit_convert re-encodes its top-level
 *           part (and checks what it writes: 7-bit, CR LF, no line over
 *           998 octets); our own code only looks for armor lines and for
 *           the boundary in the signed bytes, bounded by their length.
 * Limits:   MTA_7BIT_MAX_INPUT input bytes; out's max (the caller's)
 *           bounds the result and every buffer made from it;
 *           PS_SIG_MAX bytes of signature.
 * See also: pgp_sign.h, pgp_agent.c, pgp_mime.c (the encrypted form),
 *           mta/mta_7bit.c, RFC 3156 5, RFC 2046 5.1.1, RFC 1847.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <gmime/gmime.h>
#include <sodium.h>

#include "buf.h"
#include "mta_7bit.h"
#include "pgp_sign.h"
#include "banned.h"

#define PS_SIG_MAX	(64 * 1024)	/* an armored detached signature */
#define PS_BOUNDARY_TRIES 4

/* inline OpenPGP: encrypted or clear-signed by the sender already */
static const char *const ps_armor[] = {
	"-----BEGIN PGP MESSAGE-----",
	"-----BEGIN PGP SIGNED MESSAGE-----"
};

/* A line of msg starting with pat?  Bounded by len. */
static int
ps_has_line(const unsigned char *msg, size_t len, const char *pat)
{
	const unsigned char	*p = msg, *end = msg + len, *nl;
	size_t			 plen = strlen(pat);

	while (p < end) {
		if ((size_t)(end - p) >= plen && memcmp(p, pat, plen) == 0)
			return 1;
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			break;
		p = nl + 1;
	}
	return 0;
}

/* Is the top-level part encrypted or signed already? */
static int
ps_protected_type(GMimeObject *part)
{
	GMimeContentType	*ct = g_mime_object_get_content_type(part);

	if (ct == NULL)
		return 0;
	return g_mime_content_type_is_type(ct, "multipart", "encrypted") ||
	    g_mime_content_type_is_type(ct, "multipart", "signed") ||
	    g_mime_content_type_is_type(ct, "application", "pkcs7-mime") ||
	    g_mime_content_type_is_type(ct, "application", "x-pkcs7-mime");
}

/* Does "--" boundary start a line of the signed part (or its start)? */
static int
ps_boundary_in(const struct buf *b, const char *boundary)
{
	char	delim[64];
	int	n;

	n = snprintf(delim, sizeof(delim), "--%s", boundary);
	if (n < 0 || (size_t)n >= sizeof(delim))
		return 1;
	return ps_has_line(b->data, b->len, delim);
}

/* Append data to b with every lone LF made CR LF (gpg's armor has LF). */
static int
ps_add_crlf(struct buf *b, const unsigned char *data, size_t len)
{
	size_t	i, start = 0;

	for (i = 0; i < len; i++) {
		if (data[i] != '\n' || (i > 0 && data[i - 1] == '\r'))
			continue;
		if (buf_add(b, data + start, i - start) == -1 ||
		    buf_add(b, "\r\n", 2) == -1)
			return -1;
		start = i + 1;
	}
	return buf_add(b, data + start, len - start);
}

/*
 * The body of the multipart/signed (RFC 1847 2.1, RFC 3156 5): the
 * signed part exactly as signed, its CR LF before the delimiter
 * belonging to the delimiter (RFC 2046 5.1.1), then the signature.
 */
static int
ps_body(struct buf *b, const struct buf *entity, const struct buf *sig,
    const char *boundary)
{
	if (buf_addf(b, "This is an OpenPGP/MIME signed message (RFC 4880 "
	    "and 3156)\r\n--%s\r\n", boundary) == -1 ||
	    buf_add(b, entity->data, entity->len) == -1 ||
	    buf_addf(b, "\r\n--%s\r\n"
	    "Content-Type: application/pgp-signature; "
	    "name=\"signature.asc\"\r\n"
	    "Content-Description: OpenPGP digital signature\r\n"
	    "Content-Disposition: attachment; filename=\"signature.asc\"\r\n"
	    "\r\n", boundary) == -1 ||
	    ps_add_crlf(b, sig->data, sig->len) == -1)
		return -1;
	if (sig->len > 0 && sig->data[sig->len - 1] != '\n' &&
	    buf_add(b, "\r\n", 2) == -1)
		return -1;
	return buf_addf(b, "\r\n--%s--\r\n", boundary);
}

int
pgp_sign_mime(const struct pgp_signer *signer, const unsigned char *msg,
    size_t len, struct buf *out, char *err, size_t errlen)
{
	GMimeStream		*in = NULL, *ps = NULL, *bs = NULL, *os = NULL;
	GMimeParser		*parser = NULL;
	GMimeMessage		*m = NULL;
	GMimeObject		*part;
	GMimePart		*top = NULL;
	GMimeDataWrapper	*w = NULL;
	GMimeFormatOptions	*fo;
	GByteArray		*pa;
	struct buf		*entity = NULL, *sig = NULL, *body = NULL;
	unsigned char		 rnd[12];
	char			 micalg[PGP_SIGN_MICALG_MAX];
	char			 boundary[40];
	size_t			 i;
	int			 ret = -1, tries;

	buf_reset(out);
	err[0] = '\0';
	if (len > MTA_7BIT_MAX_INPUT) {
		snprintf(err, errlen, "message too large to sign");
		return -1;
	}
	for (i = 0; i < sizeof(ps_armor) / sizeof(ps_armor[0]); i++)
		if (ps_has_line(msg, len, ps_armor[i]))
			return 1;
	fo = g_mime_format_options_new();
	g_mime_format_options_set_newline_format(fo, GMIME_NEWLINE_FORMAT_DOS);
	in = g_mime_stream_mem_new_with_buffer((const char *)msg, len);
	parser = g_mime_parser_new_with_stream(in);
	g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
	if ((m = g_mime_parser_construct_message(parser, NULL)) == NULL ||
	    (part = g_mime_message_get_mime_part(m)) == NULL) {
		snprintf(err, errlen, "the message does not parse");
		goto done;
	}
	if (ps_protected_type(part)) {
		ret = 1;
		goto done;
	}

	/*
	 * RFC 3156 5: the top-level part, headers and body, 7-bit and in
	 * CR LF lines, so that no server on the way converts it (RFC 6152)
	 * and breaks the signature.
	 */
	ps = g_mime_stream_mem_new();
	if (g_mime_object_write_to_stream(part, fo, ps) == -1) {
		snprintf(err, errlen, "cannot write the part to sign");
		goto done;
	}
	pa = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(ps));
	entity = buf_new(out->max);
	if (mta_7bit_convert(pa->data, pa->len, entity, err, errlen) == -1)
		goto done;

	sig = buf_new(PS_SIG_MAX);
	if (signer->sign(signer->arg, entity->data, entity->len, sig, micalg,
	    sizeof(micalg), err, errlen) == -1)
		goto done;
	if (sig->len == 0) {
		snprintf(err, errlen, "empty signature");
		goto done;
	}

	/* a boundary that no line of the signed part starts with */
	for (tries = 0; tries < PS_BOUNDARY_TRIES; tries++) {
		randombytes_buf(rnd, sizeof(rnd));
		snprintf(boundary, sizeof(boundary), "=-sp-");
		for (i = 0; i < sizeof(rnd); i++)
			snprintf(boundary + 5 + 2 * i, sizeof(boundary) - 5 -
			    2 * i, "%02x", rnd[i]);
		if (!ps_boundary_in(entity, boundary))
			break;
	}
	if (tries == PS_BOUNDARY_TRIES) {
		snprintf(err, errlen, "no boundary");
		goto done;
	}
	body = buf_new(out->max);
	if (ps_body(body, entity, sig, boundary) == -1) {
		snprintf(err, errlen, "signed message too large");
		goto done;
	}

	/*
	 * The new top-level part is written as it stands (no transfer
	 * encoding, lines CR LF already): GMime adds only its header, so
	 * the signed bytes reach the recipient unchanged.
	 */
	top = g_mime_part_new_with_type("multipart", "signed");
	g_mime_object_set_content_type_parameter(GMIME_OBJECT(top), "micalg",
	    micalg);
	g_mime_object_set_content_type_parameter(GMIME_OBJECT(top),
	    "protocol", "application/pgp-signature");
	g_mime_object_set_content_type_parameter(GMIME_OBJECT(top),
	    "boundary", boundary);
	bs = g_mime_stream_mem_new_with_buffer((const char *)body->data,
	    body->len);
	w = g_mime_data_wrapper_new_with_stream(bs,
	    GMIME_CONTENT_ENCODING_DEFAULT);
	g_mime_part_set_content(top, w);
	g_mime_message_set_mime_part(m, GMIME_OBJECT(top));
	if (g_mime_object_get_header(GMIME_OBJECT(m), "MIME-Version") == NULL)
		g_mime_object_set_header(GMIME_OBJECT(m), "MIME-Version", "1.0",
		    NULL);
	os = g_mime_stream_mem_new();
	if (g_mime_object_write_to_stream(GMIME_OBJECT(m), fo, os) == -1) {
		snprintf(err, errlen, "cannot write the signed message");
		goto done;
	}
	pa = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(os));
	if (buf_add(out, pa->data, pa->len) == -1) {
		buf_reset(out);
		snprintf(err, errlen, "signed message too large");
		goto done;
	}
	ret = 0;
done:
	if (ret == -1 && err[0] == '\0')
		snprintf(err, errlen, "cannot sign");
	buf_free(&entity);
	buf_free(&sig);
	buf_free(&body);
	if (w != NULL)
		g_object_unref(w);
	if (bs != NULL)
		g_object_unref(bs);
	if (top != NULL)
		g_object_unref(top);
	if (os != NULL)
		g_object_unref(os);
	if (ps != NULL)
		g_object_unref(ps);
	if (m != NULL)
		g_object_unref(m);
	if (parser != NULL)
		g_object_unref(parser);
	if (in != NULL)
		g_object_unref(in);
	g_mime_format_options_free(fo);
	return ret;
}
