/* SPDX-License-Identifier: ISC */
/*
 * pgp_mime.h - a message made into RFC 3156 PGP/MIME for one key
 * (pgp_mime.c), and the test of whether it is encrypted already.
 */
#ifndef SP_PGP_MIME_H
#define SP_PGP_MIME_H

#include <stddef.h>

#include <gpgme.h>

/*
 * 1 when the message (len bytes, hostile) holds a line of inline PGP
 * armor ("-----BEGIN PGP MESSAGE-----" at the start of a line) anywhere:
 * encrypted already, delivered as it is.
 */
int	pgp_mime_has_armor(const unsigned char *msg, size_t len);

/*
 * Encrypt msg to key (and to also, when not NULL: the sender's key) with
 * ctx, and with sign also sign it with ctx's signing key (RFC 3156 6.2,
 * one OpenPGP message signed and encrypted; ctx is then pgp_sign.c's)
 * (armored, always-trust: the keyring holds
 * only what the administrator imported) and write the whole new message
 * to out_fd: the original header fields, every one in place (Subject as
 * "..." with protect_subject), with the top-level MIME part replaced by
 * multipart/encrypted; protocol="application/pgp-encrypted" whose second
 * part holds the original top-level part, headers and body, encrypted.
 * With protect_subject the encrypted part carries Subject, From, To, Cc,
 * Reply-To, Date and Message-ID and protected-headers="v1" in its
 * Content-Type (draft-autocrypt-lamps-protected-headers), which
 * Thunderbird and K-9 show.  Lines end in CR LF.  0 written; 1 when
 * the message is encrypted already (its top-level type is
 * multipart/encrypted, application/pkcs7-mime or x-pkcs7-mime, or
 * pgp_mime_has_armor): nothing written, it goes as it is; -1 with a
 * message in err.
 */
int	pgp_mime_encrypt(gpgme_ctx_t ctx, gpgme_key_t key,
	    gpgme_key_t also, const unsigned char *msg, size_t len,
	    int protect_subject, int sign,
	    int out_fd, char *err, size_t errlen);

#endif
