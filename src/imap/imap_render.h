/* SPDX-License-Identifier: ISC */
/*
 * imap_render.h - IMAP4rev1 ENVELOPE, BODY and BODYSTRUCTURE (RFC 3501
 * 7.4.2, grammar in 9) from a message's metadata record (store/meta.h),
 * for FETCH.  No I/O; fuzzed (tests/fuzz/fuzz_imap_render.c).
 *
 * Output conventions (RFC 3501 compares these case-insensitively; we pick
 * one spelling and keep to it):
 *   - media type, subtype, Content-Transfer-Encoding and disposition type
 *     are sent as quoted strings in upper case ("TEXT" "PLAIN" "BASE64",
 *     ("ATTACHMENT" ...)), as UW-IMAP does; a missing or empty encoding
 *     is "7BIT";
 *   - everything else (parameter names and values, header values,
 *     addresses) is sent as the record holds it;
 *   - a string is quoted when every byte is a 7-bit TEXT-CHAR, with \ and
 *     " escaped, else a literal {n}\r\n<bytes> (8-bit bytes are never
 *     quoted);
 *   - BODYSTRUCTURE always carries every extension field that RFC 3501
 *     defines (md5 is always NIL: the record keeps no Content-MD5).
 *
 * Every function appends to out and returns 0, or -1 with errno ENOBUFS
 * when out's maximum was reached; out then holds a partial rendering (as
 * many whole pieces as fitted) that the caller must discard.
 */
#ifndef SP_IMAP_RENDER_H
#define SP_IMAP_RENDER_H

#include <stdbool.h>
#include <stdint.h>

struct buf;
struct meta;
struct meta_envelope;

/*
 * An nstring: NIL for NULL, else a quoted string or a literal (above).
 * s is any NUL-terminated string (untrusted content is fine).
 */
int	imap_render_nstring(struct buf *out, const char *s);

/*
 * "(date subject from sender reply-to to cc bcc in-reply-to message-id)".
 * RFC 3501 7.4.2: Sender and Reply-To are From's list when absent (an
 * empty list); an empty list is NIL; group marks as (NIL NIL name NIL)
 * and (NIL NIL NIL NIL).  env NULL renders an envelope of ten NILs.
 */
int	imap_render_envelope(struct buf *out, const struct meta_envelope *env);

/*
 * BODYSTRUCTURE (extended: with extension data) or BODY (not extended) of
 * m->parts[part] (0: the whole message).  part must be below m->nparts,
 * and m a record from meta_build or meta_decode, whose tree is whole (a
 * broken one is our bug: SP_ASSERT).  The tree is walked with a loop, not
 * recursion.
 */
int	imap_render_body(struct buf *out, const struct meta *m, uint32_t part,
	    bool extended);
/* The same for an IMAP4rev2 client: message/global as a message too. */
int	imap_render_body_ext(struct buf *out, const struct meta *m,
	    uint32_t part, bool extended, bool rev2);

#endif
