/* SPDX-License-Identifier: ISC */
/*
 * mutf7.h - mailbox names between the wire's modified UTF-7
 * (RFC 3501 5.1.3) and the UTF-8 the server keeps.
 */
#ifndef SP_MUTF7_H
#define SP_MUTF7_H

#include <stddef.h>
#include <stdint.h>

/*
 * Decode the NUL-terminated modified UTF-7 name in (untrusted: the
 * client's) into UTF-8 in out, outlen bytes including the NUL.  Only the
 * canonical form is accepted: printable US-ASCII 0x20..0x7e, "&-" for
 * "&", every other "&" opening a non-empty run of modified BASE64 of
 * UTF-16BE closed by "-", holding whole 16-bit units with zero padding
 * bits, paired surrogates, no printable US-ASCII and no control
 * (U+0000..U+001F, U+007F..U+009F), and never right after another run.
 * The output is at most strlen(in) + strlen(in) / 8 bytes (a run of
 * U+0800..U+FFFF: 3 bytes of UTF-8 for 16 bits of BASE64).  The output
 * length, or -1 when in is not canonical or the output does not fit;
 * out is then "" (unless outlen is 0: it is not touched).  The caller
 * owns both buffers.
 */
int	mutf7_to_utf8(const char *in, char *out, size_t outlen);

/*
 * Encode the NUL-terminated UTF-8 name in (trusted or checked: the
 * index's, or a UTF8=ACCEPT client's) as canonical modified UTF-7 in
 * out, outlen bytes including the NUL: printable US-ASCII as itself, "&"
 * as "&-", each stretch of other characters as one "&...-" run.  The
 * output is at most 5 * strlen(in) / 2 bytes (a lone U+0080..U+07FF
 * between ASCII characters).  The output length, or -1 when in is not
 * what utf8_valid_text() accepts or the output does not fit; out is then
 * "" (unless outlen is 0: it is not touched).  The caller owns both
 * buffers.
 */
int	utf8_to_mutf7(const char *in, char *out, size_t outlen);

/*
 * 1 when the len bytes at s (untrusted; a NUL among them counts as a
 * control) are well-formed UTF-8 (RFC 3629: no overlong form, no
 * surrogate U+D800..U+DFFF, nothing past U+10FFFF, no truncated
 * sequence) without a C0 control, DEL or C1 control; else 0.
 */
int	utf8_valid_text(const char *s, size_t len);

/*
 * The code point at s[*i] (*i < len), strictly as RFC 3629 4 has it: no
 * overlong form, no surrogate, nothing past U+10FFFF, no sequence cut
 * by len.  *i moves past it.  0, or -1 when the bytes are not UTF-8.
 */
int	utf8_next(const unsigned char *s, size_t len, size_t *i,
	    uint32_t *cp_r);

#endif
