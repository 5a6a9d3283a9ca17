/* SPDX-License-Identifier: ISC */
/*
 * dkim.h - DKIM signing (RFC 6376, rsa-sha256; RFC 8463, ed25519-sha256):
 * the message's header parsed only as far as signing needs
 * (dkim_canon.c), relaxed/relaxed canonicalization, and the keys and
 * signatures (dkim_sign.c, the one file that includes OpenSSL's and
 * libsodium's signing headers).
 *
 * Trust:    the message is hostile (an authenticated user wrote it, but
 *           it is still bytes from outside): every parser here is bounded
 *           and fuzzed (tests/fuzz/fuzz_dkim.c).
 */
#ifndef SP_DKIM_H
#define SP_DKIM_H

#include <stddef.h>
#include <stdint.h>

struct buf;

#define DKIM_HEADER_MAX		(1024 * 1024)	/* header bytes */
#define DKIM_FIELDS_MAX		2000		/* header fields */
#define DKIM_DOMAIN_MAX		253		/* RFC 1035 2.3.4 */
#define DKIM_SELECTOR_MAX	63		/* one DNS label */
#define DKIM_SIG_MAX		(16 * 1024)	/* the fields we add */
#define DKIM_KEYS_MAX		64		/* keys loaded */
#define DKIM_KEYFILE_MAX	(16 * 1024)	/* one PEM key file */

/* One header field: raw bytes [off, off + len), line ends included. */
struct dkim_field {
	size_t	off;
	size_t	len;
	size_t	namelen;	/* the name, before the colon */
};

/* A message's header, parsed (dkim_msg_parse). */
struct dkim_msg {
	const unsigned char	*p;		/* the caller's bytes */
	size_t			 len;
	size_t			 body;		/* its offset */
	struct dkim_field	*fields;	/* owned: dkim_msg_free */
	size_t			 nfields;
};

/* dkim_canon.c */

/*
 * Split msg[0..len) into header fields and body.  A line end is CR LF,
 * or a lone CR or LF (the mta sends each as CR LF).  -1 with a reason in
 * *errstr_r (a constant string) when the header is not one we sign: a
 * line that is neither a field nor a continuation, a field name that is
 * not printable ASCII, more than DKIM_FIELDS_MAX fields or
 * DKIM_HEADER_MAX bytes.  The caller keeps msg, which m points into,
 * and frees m with dkim_msg_free.
 */
int	dkim_msg_parse(struct dkim_msg *m, const unsigned char *msg,
	    size_t len, const char **errstr_r);
void	dkim_msg_free(struct dkim_msg *m);

/* Does field i have this name (ASCII case-insensitive)? */
int	dkim_field_is(const struct dkim_msg *m, size_t i, const char *name);

/*
 * The domain of the one From field's address, lower-cased, into dom
 * (at least DKIM_DOMAIN_MAX + 1 bytes): 0, or -1 when there is no From,
 * more than one, or its address is not one plain mailbox with a domain
 * of LDH labels.
 */
int	dkim_from_domain(const struct dkim_msg *m, char *dom, size_t domlen);

/*
 * RFC 6376 3.4.2, relaxed header canonicalization of field[0..len) (name,
 * colon, value, line ends included), appended to out with a final CR LF
 * when crlf is set.  -1 when out is full.
 */
int	dkim_canon_header(struct buf *out, const unsigned char *field,
	    size_t len, int crlf);

/*
 * RFC 6376 3.4.4, relaxed body canonicalization of body[0..len), given to
 * emit in pieces (to a hash, or a buffer in tests).  Line ends as in
 * dkim_msg_parse.
 */
typedef void (*dkim_emit_fn)(void *arg, const void *p, size_t n);
void	dkim_canon_body(const unsigned char *body, size_t len,
	    dkim_emit_fn emit, void *arg);

/*
 * The header fields to sign, as the h= tag's value ("from:to:..."), into
 * out: every instance of each name of the list present (RFC 6376 5.4.2,
 * bottom up), and From, To, Cc, Subject, Date, Reply-To and Message-ID
 * once more (oversigned: a field of these names added later breaks the
 * signature).  The canonicalized fields, in that order, go to hdr.  -1
 * when a buffer is full.
 */
int	dkim_signed_fields(const struct dkim_msg *m, struct buf *hlist,
	    struct buf *hdr);

/* Is s a domain name we may sign for (LDH labels, lower case)? */
int	dkim_domain_ok(const char *s);
/* Is s a selector ([a-z0-9-] labels, dots between, at most 63)? */
int	dkim_selector_ok(const char *s);

/* dkim_sign.c */

enum dkim_alg {
	DKIM_RSA_SHA256 = 0,
	DKIM_ED25519_SHA256
};

struct dkim_key;

/*
 * A private key from PEM bytes (PKCS#8 or traditional RSA; RSA of at
 * least 1024 bits, RFC 8301 3.2, or Ed25519).  pem stays the caller's
 * (to be wiped by it).  NULL with a reason in err (never key material).
 * An Ed25519 key is kept in sodium_malloc memory; an RSA key in
 * OpenSSL's.
 */
struct dkim_key	*dkim_key_from_pem(const unsigned char *pem, size_t len,
		    const char *domain, const char *selector, char *err,
		    size_t errlen);
void		 dkim_key_free(struct dkim_key *);
enum dkim_alg	 dkim_key_alg(const struct dkim_key *);
const char	*dkim_key_domain(const struct dkim_key *);
const char	*dkim_key_selector(const struct dkim_key *);
/* "rsa" or "ed25519" (the k= tag of the DNS record) */
const char	*dkim_alg_keytype(enum dkim_alg);

/*
 * The base64 public key of the DNS record's p= tag (RSA: the DER
 * SubjectPublicKeyInfo; Ed25519: the raw 32 bytes, RFC 8463 4.2) into out.
 * -1 on failure.
 */
int	dkim_key_public_b64(const struct dkim_key *, struct buf *out);

/*
 * A DKIM-Signature field for m signed with key at time now, appended to
 * out (folded, CR LF ended).  -1 with a reason in err.
 */
int	dkim_sign(const struct dkim_key *key, const struct dkim_msg *m,
	    int64_t now, struct buf *out, char *err, size_t errlen);

#endif
