/* SPDX-License-Identifier: ISC */
/*
 * pgp_sign.h - a message made RFC 3156 multipart/signed (pgp_sign.c: the
 * MIME, GMime and mta_7bit.c only), and the organization's signing key
 * in the pgp service's jail (pgp_agent.c: its own gpg-agent, GPGME).
 */
#ifndef SP_PGP_SIGN_H
#define SP_PGP_SIGN_H

#include <stddef.h>

#include <gpgme.h>

struct buf;

#define PGP_SIGN_MICALG_MAX	32	/* "pgp-sha512" and the like */

/*
 * What signs: sign() makes a detached, armored OpenPGP signature of the
 * len bytes at data (exactly those: RFC 3156 5, canonical CR LF already)
 * into sig, and names its hash in micalg ("pgp-sha256", RFC 3156 5), at
 * most micalglen bytes with the NUL.  0, or -1 with a reason in err.
 * The service's is pgp_agent_sign; the tests bring a real gpg of their
 * own, the fuzz target a constant.
 */
struct pgp_signer {
	int	(*sign)(void *arg, const unsigned char *data, size_t len,
		    struct buf *sig, char *micalg, size_t micalglen,
		    char *err, size_t errlen);
	void	*arg;
};

/*
 * msg (len bytes, hostile; at most MTA_7BIT_MAX_INPUT) as a signed
 * message in out (reset first; its max bounds the result): the header
 * fields of msg as they are but the top-level Content-* fields, then
 * multipart/signed; micalg=...; protocol="application/pgp-signature"
 * whose first part is msg's top-level part, headers and body, made 7-bit
 * (mta_7bit_convert: 8-bit text as quoted-printable, other 8-bit content
 * as base64, every line ended by CR LF and at most 998 octets) and whose
 * second part is its signature by signer.  The signed part is written
 * byte for byte as it was signed.  Lines end in CR LF.
 * 0 written; 1 when msg is encrypted or signed already (top-level
 * multipart/encrypted, multipart/signed, application/pkcs7-mime or
 * x-pkcs7-mime, or a line starting "-----BEGIN PGP "): out is empty and
 * the message goes as it is; -1 (out empty) with a printable reason in
 * err: the message does not parse, a Content-* field of its top-level
 * part has 8-bit bytes (needs SMTPUTF8), a limit, signer's failure.
 * GMime must be initialized (g_mime_init, mta_7bit_init).
 */
int	pgp_sign_mime(const struct pgp_signer *signer,
	    const unsigned char *msg, size_t len, struct buf *out,
	    char *err, size_t errlen);

/*
 * pgp_agent.c, the pgp service only, in its jail: the signing home at
 * home (PGP_SIGN_HOME, a tmpfs of jail_pgp's with gpg.conf, the key's
 * pubring.kbx and private-keys-v1.d).  Without a key there: NULL and
 * err empty.  Otherwise its gpg-agent is started (a child: --supervised
 * on a socket bound here, ended by the kernel when this process ends)
 * and a GPGME context on the home returned, the key as its signer and
 * its fingerprint in fpr (fprlen >= 41); NULL with a reason in err when
 * any of that fails.  The caller owns the context.
 */
gpgme_ctx_t	pgp_agent_start(const char *home, char *fpr, size_t fprlen,
		    char *err, size_t errlen);
/*
 * A struct pgp_signer's sign for a context of pgp_agent_start (arg):
 * binary mode, armored, detached, by the one key.
 */
int	pgp_agent_sign(void *arg, const unsigned char *data, size_t len,
	    struct buf *sig, char *micalg, size_t micalglen, char *err,
	    size_t errlen);

#endif
