/* SPDX-License-Identifier: ISC */
/*
 * pgp_mime.c - one recipient's copy of a message as RFC 3156 PGP/MIME:
 * GMime parses the message and builds the multipart/encrypted, GPGME
 * (gpg) encrypts the original top-level part to the recipient's key.
 *
 * Process:  pgp (user _sp_pgp, its jail holds /usr and the keyring).
 * Trust:    the message is hostile (any sender's); GMime parses it, our
 *           own code only scans it for armor lines, bounded by len.
 *           What gpg writes is the ciphertext of what we gave it.
 * See also: pgp.c (the service), RFC 3156, RFC 4880,
 *           draft-autocrypt-lamps-protected-headers.
 */
#include "config.h"

#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <gmime/gmime.h>
#include <gpgme.h>

#include "pgp_mime.h"
#include "banned.h"

#define PGP_ARMOR	"-----BEGIN PGP MESSAGE-----"

/* headers the encrypted part repeats when the Subject is protected */
static const char *const pgp_protected[] = {
	"Subject", "From", "To", "Cc", "Reply-To", "Date", "Message-ID"
};

int
pgp_mime_has_armor(const unsigned char *msg, size_t len)
{
	const size_t	 alen = sizeof(PGP_ARMOR) - 1;
	const unsigned char *p = msg, *end = msg + len, *nl;

	while (p < end) {
		if ((size_t)(end - p) >= alen && memcmp(p, PGP_ARMOR,
		    alen) == 0)
			return 1;
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			break;
		p = nl + 1;
	}
	return 0;
}

static GMimeFormatOptions *
pgp_format(void)
{
	GMimeFormatOptions	*fo = g_mime_format_options_new();

	g_mime_format_options_set_newline_format(fo, GMIME_NEWLINE_FORMAT_DOS);
	return fo;
}

/* A part of type/subtype holding data as it is (7bit). */
static GMimePart *
pgp_part(const char *type, const char *subtype, const void *data,
    size_t len)
{
	GMimePart		*p = g_mime_part_new_with_type(type, subtype);
	GMimeStream		*s;
	GMimeDataWrapper	*w;

	s = g_mime_stream_mem_new_with_buffer(data, len);
	w = g_mime_data_wrapper_new_with_stream(s, GMIME_CONTENT_ENCODING_7BIT);
	g_mime_part_set_content(p, w);
	g_mime_part_set_content_encoding(p, GMIME_CONTENT_ENCODING_7BIT);
	g_object_unref(w);
	g_object_unref(s);
	return p;
}

/* Is the top-level part encrypted already (PGP/MIME or S/MIME)? */
static int
pgp_encrypted_type(GMimeObject *part)
{
	GMimeContentType	*ct = g_mime_object_get_content_type(part);

	if (ct == NULL)
		return 0;
	return g_mime_content_type_is_type(ct, "multipart", "encrypted") ||
	    g_mime_content_type_is_type(ct, "application", "pkcs7-mime") ||
	    g_mime_content_type_is_type(ct, "application", "x-pkcs7-mime");
}

/*
 * The protected headers (draft-autocrypt-lamps-protected-headers-02):
 * the encrypted part repeats the message's own header fields.
 */
static void
pgp_protect(GMimeMessage *msg, GMimeObject *part)
{
	GMimeHeaderList	*hl = g_mime_object_get_header_list(GMIME_OBJECT(msg));
	GMimeHeader	*h;
	const char	*v;
	size_t		 i;
	int		 k, n;

	/* in reverse, each prepended: the part lists them in this order */
	for (i = sizeof(pgp_protected) / sizeof(pgp_protected[0]); i > 0;
	    i--) {
		n = g_mime_header_list_get_count(hl);
		for (k = n - 1; k >= 0; k--) {
			h = g_mime_header_list_get_header_at(hl, k);
			if (strcasecmp(g_mime_header_get_name(h),
			    pgp_protected[i - 1]) != 0)
				continue;
			/* decoded, and encoded again as GMime writes it */
			if ((v = g_mime_header_get_value(h)) != NULL)
				g_mime_object_prepend_header(part,
				    pgp_protected[i - 1], v, "utf-8");
			break;
		}
	}
	g_mime_object_set_content_type_parameter(part, "protected-headers",
	    "v1");
}

int
pgp_mime_encrypt(gpgme_ctx_t ctx, gpgme_key_t key, gpgme_key_t also,
    const unsigned char *msg, size_t len, int protect_subject, int sign,
    int out_fd, char *err, size_t errlen)
{
	GMimeStream			*in = NULL, *plain = NULL, *out = NULL;
	GMimeParser			*parser = NULL;
	GMimeMessage			*m = NULL;
	GMimeObject			*part;
	GMimeMultipartEncrypted		*enc = NULL;
	GMimePart			*vpart = NULL, *dpart = NULL;
	GMimeFormatOptions		*fo = pgp_format();
	GByteArray			*pa;
	gpgme_data_t			 din = NULL, dout = NULL;
	gpgme_key_t			 keys[3] = { key, also, NULL };
	gpgme_error_t			 ge;
	char				*ct = NULL;
	size_t				 clen = 0;
	int				 ret = -1;

	if (pgp_mime_has_armor(msg, len)) {
		ret = 1;
		goto done;
	}
	in = g_mime_stream_mem_new_with_buffer((const char *)msg, len);
	parser = g_mime_parser_new_with_stream(in);
	g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
	if ((m = g_mime_parser_construct_message(parser, NULL)) == NULL ||
	    (part = g_mime_message_get_mime_part(m)) == NULL) {
		snprintf(err, errlen, "the message does not parse");
		goto done;
	}
	if (pgp_encrypted_type(part)) {
		ret = 1;
		goto done;
	}
	if (protect_subject)
		pgp_protect(m, part);

	/* the top-level part, headers and body, is what gets encrypted */
	plain = g_mime_stream_mem_new();
	if (g_mime_object_write_to_stream(part, fo, plain) == -1) {
		snprintf(err, errlen, "cannot write the part to encrypt");
		goto done;
	}
	pa = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(plain));
	if ((ge = gpgme_data_new_from_mem(&din, (const char *)pa->data,
	    pa->len, 0)) != 0 || (ge = gpgme_data_new(&dout)) != 0) {
		snprintf(err, errlen, "gpgme: %s", gpgme_strerror(ge));
		goto done;
	}
	gpgme_set_armor(ctx, 1);
	/* RFC 3156 6.2: signed and encrypted in one OpenPGP message */
	if (sign)
		ge = gpgme_op_encrypt_sign(ctx, keys,
		    GPGME_ENCRYPT_ALWAYS_TRUST, din, dout);
	else
		ge = gpgme_op_encrypt(ctx, keys, GPGME_ENCRYPT_ALWAYS_TRUST,
		    din, dout);
	gpgme_set_armor(ctx, 0);
	if (ge != 0) {
		snprintf(err, errlen, "gpg: %s", gpgme_strerror(ge));
		goto done;
	}
	if ((ct = gpgme_data_release_and_get_mem(dout, &clen)) == NULL ||
	    clen == 0) {
		dout = NULL;
		snprintf(err, errlen, "gpg wrote nothing");
		goto done;
	}
	dout = NULL;

	/* RFC 3156 6.1: the version part, then the ciphertext */
	enc = g_mime_multipart_encrypted_new();
	g_mime_object_set_content_type_parameter(GMIME_OBJECT(enc),
	    "protocol", "application/pgp-encrypted");
	vpart = pgp_part("application", "pgp-encrypted", "Version: 1\r\n",
	    12);
	g_mime_object_set_header(GMIME_OBJECT(vpart), "Content-Description",
	    "PGP/MIME version identification", NULL);
	dpart = pgp_part("application", "octet-stream", ct, clen);
	g_mime_object_set_header(GMIME_OBJECT(dpart), "Content-Description",
	    "OpenPGP encrypted message", NULL);
	g_mime_part_set_filename(dpart, "encrypted.asc");
	g_mime_object_set_disposition(GMIME_OBJECT(dpart), "inline");
	g_mime_multipart_add(GMIME_MULTIPART(enc), GMIME_OBJECT(vpart));
	g_mime_multipart_add(GMIME_MULTIPART(enc), GMIME_OBJECT(dpart));
	g_mime_multipart_set_boundary(GMIME_MULTIPART(enc), NULL);
	g_mime_multipart_set_prologue(GMIME_MULTIPART(enc), "This is an "
	    "OpenPGP/MIME encrypted message (RFC 4880 and 3156)");
	g_mime_message_set_mime_part(m, GMIME_OBJECT(enc));
	if (g_mime_object_get_header(GMIME_OBJECT(m), "MIME-Version") == NULL)
		g_mime_object_set_header(GMIME_OBJECT(m), "MIME-Version", "1.0",
		    NULL);
	if (protect_subject)
		g_mime_message_set_subject(m, "...", NULL);

	out = g_mime_stream_fs_new(dup(out_fd));
	if (g_mime_object_write_to_stream(GMIME_OBJECT(m), fo, out) == -1 ||
	    g_mime_stream_flush(out) == -1) {
		snprintf(err, errlen, "cannot write the encrypted message");
		goto done;
	}
	ret = 0;
done:
	if (ct != NULL) {
		gpgme_free(ct);
	}
	if (din != NULL)
		gpgme_data_release(din);
	if (dout != NULL)
		gpgme_data_release(dout);
	if (plain != NULL) {
		/* the plaintext part: wipe before it goes back to the heap */
		pa = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(plain));
		if (pa != NULL && pa->len > 0)
			memset(pa->data, 0, pa->len);
		g_object_unref(plain);
	}
	if (vpart != NULL)
		g_object_unref(vpart);
	if (dpart != NULL)
		g_object_unref(dpart);
	if (enc != NULL)
		g_object_unref(enc);
	if (out != NULL)
		g_object_unref(out);
	if (m != NULL)
		g_object_unref(m);
	if (parser != NULL)
		g_object_unref(parser);
	if (in != NULL)
		g_object_unref(in);
	g_mime_format_options_free(fo);
	return ret;
}
