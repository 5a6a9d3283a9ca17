/* SPDX-License-Identifier: ISC */
/*
 * dkim_sign.c - DKIM keys and signatures: rsa-sha256 (RFC 6376 3.3.1,
 * RSASSA-PKCS1-v1_5 with SHA-256, through OpenSSL) and ed25519-sha256
 * (RFC 8463 3: PureEdDSA over the SHA-256 of the canonicalized header
 * data, through libsodium).  The one file that wraps those libraries'
 * signing calls (STYLE.md 3).
 *
 * Process:  signer (keys loaded before its jail), sealpostctl dkim (the
 *           public half of a key it made), tests.
 * Trust:    keys are read by root from DATA_DIR/keys/dkim (trusted); the
 *           message is hostile and only reaches dkim_canon.c's parsers.
 * SECURITY: an Ed25519 key lives in sodium_malloc memory (wiped and
 *           guarded); an RSA key lives in OpenSSL's EVP_PKEY, freed with
 *           it (OpenSSL clears BIGNUMs of private keys on free).  No
 *           error text ever holds key material.
 * See also: dkim.h, dkim_canon.c, signer.c, docs/dkim.md.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sodium.h>

#include "buf.h"
#include "xmalloc.h"
#include "dkim.h"
#include "banned.h"

#define RSA_BITS_MIN	1024	/* RFC 8301 3.2 */
#define RSA_BITS_MAX	8192
#define FOLD_AT		72	/* base64 characters a folded line */

struct dkim_key {
	enum dkim_alg	 alg;
	char		 domain[DKIM_DOMAIN_MAX + 1];
	char		 selector[DKIM_SELECTOR_MAX + 1];
	EVP_PKEY	*rsa;
	unsigned char	*ed_sk;		/* sodium_malloc, 64 */
	unsigned char	 ed_pk[crypto_sign_PUBLICKEYBYTES];
};

/* No passphrase is ever asked for (a key file with one is refused). */
static int
no_passphrase(char *buf, int size, int rw, void *u)
{
	(void)buf;
	(void)size;
	(void)rw;
	(void)u;
	return -1;
}

struct dkim_key *
dkim_key_from_pem(const unsigned char *pem, size_t len, const char *domain,
    const char *selector, char *err, size_t errlen)
{
	struct dkim_key	*k;
	EVP_PKEY	*pk = NULL;
	BIO		*bio;
	unsigned char	*seed = NULL;
	size_t		 n = crypto_sign_SEEDBYTES;
	int		 bits;

	if (len > DKIM_KEYFILE_MAX || len > INT32_MAX) {
		snprintf(err, errlen, "key file too large");
		return NULL;
	}
	if (!dkim_domain_ok(domain) || !dkim_selector_ok(selector)) {
		snprintf(err, errlen, "bad domain or selector name");
		return NULL;
	}
	if ((bio = BIO_new_mem_buf(pem, (int)len)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pk = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
	BIO_free(bio);
	ERR_clear_error();	/* OpenSSL's queue may name the input */
	if (pk == NULL) {
		snprintf(err, errlen, "not a PEM private key (or encrypted)");
		return NULL;
	}
	k = xcalloc(1, sizeof(*k));
	strlcpy(k->domain, domain, sizeof(k->domain));
	strlcpy(k->selector, selector, sizeof(k->selector));
	switch (EVP_PKEY_get_base_id(pk)) {
	case EVP_PKEY_RSA:
		bits = EVP_PKEY_get_bits(pk);
		if (bits < RSA_BITS_MIN || bits > RSA_BITS_MAX) {
			snprintf(err, errlen, "RSA key of %d bits (%d..%d)",
			    bits, RSA_BITS_MIN, RSA_BITS_MAX);
			goto bad;
		}
		k->alg = DKIM_RSA_SHA256;
		k->rsa = pk;
		return k;
	case EVP_PKEY_ED25519:
		k->alg = DKIM_ED25519_SHA256;
		if ((seed = sodium_malloc(crypto_sign_SEEDBYTES)) == NULL ||
		    (k->ed_sk = sodium_malloc(crypto_sign_SECRETKEYBYTES)) ==
		    NULL) {
			snprintf(err, errlen, "sodium_malloc failed");
			goto bad;
		}
		if (EVP_PKEY_get_raw_private_key(pk, seed, &n) != 1 ||
		    n != crypto_sign_SEEDBYTES ||
		    crypto_sign_seed_keypair(k->ed_pk, k->ed_sk, seed) != 0) {
			ERR_clear_error();
			snprintf(err, errlen, "unreadable Ed25519 key");
			goto bad;
		}
		sodium_free(seed);
		EVP_PKEY_free(pk);
		return k;
	default:
		snprintf(err, errlen, "neither an RSA nor an Ed25519 key");
		goto bad;
	}
bad:
	if (seed != NULL)
		sodium_free(seed);	/* wipes */
	EVP_PKEY_free(pk);
	k->rsa = NULL;
	dkim_key_free(k);
	return NULL;
}

void
dkim_key_free(struct dkim_key *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_free(k->rsa);
	if (k->ed_sk != NULL)
		sodium_free(k->ed_sk);
	free(k);
}

enum dkim_alg
dkim_key_alg(const struct dkim_key *k)
{
	return k->alg;
}

const char *
dkim_key_domain(const struct dkim_key *k)
{
	return k->domain;
}

const char *
dkim_key_selector(const struct dkim_key *k)
{
	return k->selector;
}

const char *
dkim_alg_keytype(enum dkim_alg a)
{
	return a == DKIM_ED25519_SHA256 ? "ed25519" : "rsa";
}

static const char *
alg_name(enum dkim_alg a)
{
	return a == DKIM_ED25519_SHA256 ? "ed25519-sha256" : "rsa-sha256";
}

/* base64 (RFC 4648 4, with padding) of bin, appended to out. */
static int
b64_add(struct buf *out, const unsigned char *bin, size_t len)
{
	size_t	n = sodium_base64_encoded_len(len,
		    sodium_base64_VARIANT_ORIGINAL);

	if (buf_grow(out, n) == -1)
		return -1;
	sodium_bin2base64((char *)out->data + out->len, n, bin, len,
	    sodium_base64_VARIANT_ORIGINAL);
	buf_advance(out, n - 1);	/* without the NUL */
	return 0;
}

int
dkim_key_public_b64(const struct dkim_key *k, struct buf *out)
{
	unsigned char	*der = NULL;
	int		 n, r;

	if (k->alg == DKIM_ED25519_SHA256)
		return b64_add(out, k->ed_pk, sizeof(k->ed_pk));
	if ((n = i2d_PUBKEY(k->rsa, &der)) <= 0)
		return -1;
	r = b64_add(out, der, (size_t)n);
	OPENSSL_free(der);
	return r;
}

static void
sha_emit(void *arg, const void *p, size_t n)
{
	crypto_hash_sha256_update(arg, p, n);
}

/* tag=value; with "\r\n\t" first when the line would pass 76 columns */
static int
tag_add(struct buf *b, size_t *col, const char *tag)
{
	size_t	n = strlen(tag);

	if (*col + 1 + n > 76) {
		if (buf_add(b, "\r\n\t", 3) == -1)
			return -1;
		*col = 8;
	} else if (*col > 0) {
		if (buf_add(b, " ", 1) == -1)
			return -1;
		*col += 1;
	}
	*col += n;
	return buf_add(b, tag, n);
}

int
dkim_sign(const struct dkim_key *k, const struct dkim_msg *m, int64_t now,
    struct buf *out, char *err, size_t errlen)
{
	crypto_hash_sha256_state	 st;
	unsigned char			 bh[crypto_hash_sha256_BYTES];
	unsigned char			 hh[crypto_hash_sha256_BYTES];
	unsigned char			*sig = NULL;
	struct buf			*hlist, *hdr, *f;
	EVP_MD_CTX			*ctx = NULL;
	char				 tag[DKIM_DOMAIN_MAX + 16];
	size_t				 col, siglen = 0, i, start, nl;
	int				 r = -1;

	hlist = buf_new(4096);
	hdr = buf_new(DKIM_HEADER_MAX + DKIM_SIG_MAX);
	f = buf_new(DKIM_SIG_MAX);
	/* RFC 6376 3.7: the body hash first */
	crypto_hash_sha256_init(&st);
	dkim_canon_body(m->p + m->body, m->len - m->body, sha_emit, &st);
	crypto_hash_sha256_final(&st, bh);
	if (dkim_signed_fields(m, hlist, hdr) == -1) {
		snprintf(err, errlen, "header too large");
		goto done;
	}
	/* the field without the b= value (3.5, 3.7) */
	(void)buf_addf(f, "DKIM-Signature: v=1; a=%s; c=relaxed/relaxed;",
	    alg_name(k->alg));
	col = f->len;
	snprintf(tag, sizeof(tag), "d=%s;", k->domain);
	(void)tag_add(f, &col, tag);
	snprintf(tag, sizeof(tag), "s=%s;", k->selector);
	(void)tag_add(f, &col, tag);
	snprintf(tag, sizeof(tag), "t=%" PRId64 ";", now);
	(void)tag_add(f, &col, tag);
	/* h=, folded at a colon (FWS is allowed there, 3.5) */
	(void)tag_add(f, &col, "h=");
	for (start = 0; start < hlist->len; start = nl + 1) {
		for (nl = start; nl < hlist->len && hlist->data[nl] != ':';
		    nl++)
			;
		if (col + (nl - start) + 2 > 76) {
			(void)buf_add(f, "\r\n\t", 3);
			col = 8;
		}
		(void)buf_add(f, hlist->data + start, nl - start);
		(void)buf_add(f, nl < hlist->len ? ":" : ";", 1);
		col += nl - start + 1;
	}
	(void)buf_add(f, "\r\n\tbh=", 6);
	(void)b64_add(f, bh, sizeof(bh));
	if (buf_add(f, ";\r\n\tb=", 6) == -1 ||
	    dkim_canon_header(hdr, f->data, f->len, 0) == -1) {
		snprintf(err, errlen, "signature field too large");
		goto done;
	}
	if (k->alg == DKIM_ED25519_SHA256) {
		/* RFC 8463 3: Ed25519 over SHA-256(data) */
		crypto_hash_sha256(hh, hdr->data, hdr->len);
		sig = xmalloc(crypto_sign_BYTES);
		if (crypto_sign_detached(sig, NULL, hh, sizeof(hh),
		    k->ed_sk) != 0) {
			snprintf(err, errlen, "Ed25519 signing failed");
			goto done;
		}
		siglen = crypto_sign_BYTES;
	} else {
		if ((ctx = EVP_MD_CTX_new()) == NULL ||
		    EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL,
		    k->rsa) != 1 ||
		    EVP_DigestSign(ctx, NULL, &siglen, hdr->data,
		    hdr->len) != 1) {
			snprintf(err, errlen, "RSA signing failed");
			goto done;
		}
		sig = xmalloc(siglen);
		if (EVP_DigestSign(ctx, sig, &siglen, hdr->data,
		    hdr->len) != 1) {
			snprintf(err, errlen, "RSA signing failed");
			goto done;
		}
	}
	/* b=, folded every FOLD_AT characters (its FWS is ignored, 3.5) */
	buf_reset(hdr);
	if (b64_add(hdr, sig, siglen) == -1)
		goto full;
	for (i = 0; i < hdr->len; i += FOLD_AT) {
		if (i > 0 && buf_add(f, "\r\n\t", 3) == -1)
			goto full;
		if (buf_add(f, hdr->data + i, hdr->len - i < FOLD_AT ?
		    hdr->len - i : FOLD_AT) == -1)
			goto full;
	}
	if (buf_add(f, "\r\n", 2) == -1 || buf_add(out, f->data,
	    f->len) == -1)
		goto full;
	r = 0;
	goto done;
full:
	snprintf(err, errlen, "signature field too large");
done:
	ERR_clear_error();
	EVP_MD_CTX_free(ctx);
	free(sig);
	buf_free(&hlist);
	buf_free(&hdr);
	buf_free(&f);
	return r;
}
