/* SPDX-License-Identifier: ISC */
/*
 * sasl.c - SASL PLAIN (RFC 4616) and base64 lines as clients send them
 * to SMTP AUTH (RFC 4954), IMAP AUTHENTICATE (RFC 3501 6.2.2, SASL-IR
 * RFC 4959) and POP3 AUTH (RFC 5034) (sasl.h).  No I/O; fuzzed through
 * tests/fuzz/fuzz_smtp_parse.c.
 *
 * Trust:    every byte is the client's; what is decoded goes only into
 *           the caller's buffers within their lengths, and the decoded
 *           message (a password) is wiped from the stack before return.
 */
#include "config.h"

#include <stdbool.h>
#include <string.h>

#include <sodium.h>

#include "mutf7.h"
#include "sasl.h"
#include "banned.h"

/* Decode b64 ("" and "=" are empty) into out, at most max bytes. */
static int
sasl_b64_decode(const char *b64, unsigned char *out, size_t max,
    size_t *len_r)
{
	*len_r = 0;
	if (b64[0] == '\0' || (b64[0] == '=' && b64[1] == '\0'))
		return 0;
	/* ORIGINAL: padding required; libsodium also refuses non-zero
	   trailing bits and, without b64_end, any byte it cannot decode */
	if (sodium_base642bin(out, max, b64, strlen(b64), NULL, len_r, NULL,
	    sodium_base64_VARIANT_ORIGINAL) != 0) {
		*len_r = 0;
		return -1;
	}
	return 0;
}

int
sasl_plain_decode(const char *b64, char *authcid, size_t authcidlen,
    unsigned char *passwd, size_t passlen, size_t *passlen_r)
{
	unsigned char	 msg[SASL_PLAIN_MAX];
	unsigned char	*zid, *cid, *pw, *nul;
	size_t		 mlen, zlen, clen, plen;
	int		 ret = -1;

	*passlen_r = 0;
	if (authcidlen == 0 || passlen == 0)
		return -1;
	authcid[0] = '\0';
	passwd[0] = '\0';
	if (sasl_b64_decode(b64, msg, sizeof(msg), &mlen) == -1)
		goto done;
	/* RFC 4616 2: [authzid] NUL authcid NUL passwd */
	zid = msg;
	if ((nul = memchr(zid, '\0', mlen)) == NULL)
		goto done;
	zlen = (size_t)(nul - zid);
	cid = nul + 1;
	if ((nul = memchr(cid, '\0', mlen - zlen - 1)) == NULL)
		goto done;
	clen = (size_t)(nul - cid);
	pw = nul + 1;
	plen = mlen - zlen - 1 - clen - 1;
	if (clen == 0 || plen == 0 || memchr(pw, '\0', plen) != NULL)
		goto done;
	/* SECURITY: no acting as someone else (no authorization rules) */
	if (zlen != 0 && (zlen != clen || memcmp(zid, cid, clen) != 0))
		goto done;
	/* RFC 4616 authcid: UTF-8, and (ours) no control characters */
	if (!utf8_valid_text((const char *)cid, clen))
		goto done;
	if (clen >= authcidlen || plen >= passlen)
		goto done;
	memcpy(authcid, cid, clen);
	authcid[clen] = '\0';
	memcpy(passwd, pw, plen);
	passwd[plen] = '\0';
	*passlen_r = plen;
	ret = 0;
done:
	sodium_memzero(msg, sizeof(msg));
	return ret;
}

int
sasl_b64_line(const char *b64, unsigned char *out, size_t outlen,
    size_t *len_r)
{
	*len_r = 0;
	if (b64[0] == '*' && b64[1] == '\0')
		return 1;	/* RFC 4954 4: the client cancels */
	if (outlen == 0)
		return -1;
	if (sasl_b64_decode(b64, out, outlen - 1, len_r) == -1 ||
	    memchr(out, '\0', *len_r) != NULL) {
		sodium_memzero(out, outlen);
		*len_r = 0;
		return -1;
	}
	out[*len_r] = '\0';
	return 0;
}
