/* SPDX-License-Identifier: ISC */
/*
 * sasl.h - the client's side of SASL PLAIN (RFC 4616) and of a base64
 * line, decoded for SMTP AUTH, IMAP AUTHENTICATE and POP3 AUTH.
 */
#ifndef SP_SASL_H
#define SP_SASL_H

#include <stddef.h>

#define SASL_PLAIN_MAX	1024	/* a decoded SASL PLAIN message (RFC 4616
				   2: 255-octet authzid, authcid and
				   passwd, two NULs) */

/*
 * Decode a SASL PLAIN message (RFC 4616: authzid NUL authcid NUL passwd,
 * each without NUL; authzid empty or equal to authcid) from base64 b64
 * (or "=" for empty).  authcid and passwd are written NUL-terminated
 * (passwd into the caller's sodium_malloc memory, at most passlen-1
 * bytes); *passlen_r its length.  authcid must be UTF-8 text without
 * controls (C0, DEL, C1); passwd may hold any byte but NUL.  The decoded
 * message is at most SASL_PLAIN_MAX and is wiped from the stack.  0, or
 * -1 (bad base64, bad structure, empty authcid or passwd, too long,
 * authzid naming someone else; authcid and passwd are then "").
 */
int	sasl_plain_decode(const char *b64, char *authcid, size_t authcidlen,
	    unsigned char *passwd, size_t passlen, size_t *passlen_r);
/*
 * Decode one base64 line (a LOGIN step, or "*" to cancel: returns 1) into
 * out (outlen with the NUL; NUL bytes in the decoded value are an
 * error; "" and "=" are the empty value).  The output may hold CR, LF and
 * other controls (a password): check a LOGIN user name before use.  0
 * decoded, 1 cancelled, -1 bad (out is then wiped).
 */
int	sasl_b64_line(const char *b64, unsigned char *out, size_t outlen,
	    size_t *len_r);

#endif
