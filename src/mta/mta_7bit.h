/* SPDX-License-Identifier: ISC */
/*
 * mta_7bit.h - a message with 8-bit content made 7-bit MIME for a remote
 * server that does not offer 8BITMIME (RFC 6152 3: the client converts or
 * returns the message; RFC 2045, RFC 2046), as Sendmail and Postfix do.
 *
 * Parts whose bytes are already 7-bit stay as they are; a part with 8-bit
 * bytes, a NUL, a bare CR or a line over 998 octets is encoded again:
 * quoted-printable for a text type, base64 for any other.  A header field
 * with 8-bit bytes cannot be made 7-bit without changing it (that needs
 * SMTPUTF8, RFC 6531): -1, and the caller returns the message (5.6.3 or
 * 5.6.7).  A multipart/signed with 8-bit content is converted too, as
 * Sendmail does: its signature no longer verifies.  The rules in full are
 * in mta_7bit.c.
 */
#ifndef SP_MTA_7BIT_H
#define SP_MTA_7BIT_H

#include <stddef.h>

struct buf;

#define MTA_7BIT_MAX_INPUT	(100 * 1024 * 1024)	/* message bytes */
/* lines starting "--" or "Content-Type": a bound on GMime's objects */
#define MTA_7BIT_MAX_PARTS	10000
/* lines that may be header lines: a bound on GMime's header objects */
#define MTA_7BIT_MAX_HDR_LINES	100000
#define MTA_7BIT_LINE_MAX	998	/* octets without CR LF (RFC 5322) */

/*
 * GMime's one-time set-up (g_mime_init), before the sandbox; idempotent.
 * mta_7bit_convert must not be called before it.
 */
void	mta_7bit_init(void);
/*
 * 1 when msg has a byte >= 0x80 or a NUL (BODY=8BITMIME, or a conversion,
 * is needed), else 0.  A line over 998 octets or a bare CR does not count
 * here, though mta_7bit_convert encodes a part holding one again.
 */
int	mta_7bit_needed(const unsigned char *msg, size_t len);
/*
 * Convert msg (at most MTA_7BIT_MAX_INPUT bytes, line ends CR LF or LF)
 * into out, which is reset first: 0, out holding a message of 7-bit bytes
 * without NUL, every line ended by CR LF and at most MTA_7BIT_LINE_MAX
 * octets long.  -1 when that cannot be done without changing what the
 * message says (a header field with 8-bit bytes, a limit, out's max):
 * out reset, a printable reason in err (errlen bytes, NUL-terminated).
 * The caller keeps ownership of msg and out.
 */
int	mta_7bit_convert(const unsigned char *msg, size_t len, struct buf *out,
	    char *err, size_t errlen);

#ifdef SP_TEST_HOOKS
/*
 * Tests only: the counts mta_7bit_convert bounds before GMime parses:
 * lines starting "--" or "Content-Type", and lines that may be header
 * lines.  GMime's objects and header fields must never outnumber them.
 */
void	mta_7bit_test_bounds(const unsigned char *msg, size_t len,
	    size_t *parts_r, size_t *hdr_r);
#endif

#endif
