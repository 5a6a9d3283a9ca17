/* SPDX-License-Identifier: ISC */
/*
 * mutf7.c - mailbox names between the wire's modified UTF-7
 * (RFC 3501 5.1.3) and the UTF-8 the server keeps (mutf7.h).  No
 * I/O, no allocation; fuzzed (tests/fuzz/fuzz_mutf7.c).
 *
 * Trust: every input is NUL-terminated (or has a length) and is read
 * once, left to right; output goes only into the caller's buffer, within
 * outlen.  SECURITY: only the canonical form is accepted either way, so
 * a name has exactly one spelling on the wire and one in the index (two
 * spellings of one name would be two mailboxes to us and one to a
 * client).
 */
#include "config.h"

#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "mutf7.h"
#include "banned.h"

/* RFC 3501 5.1.3: RFC 2152's BASE64 with "," instead of "/". */
static const char	mu_b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

/* The value of a modified BASE64 character, or -1. */
static int
mu_b64_val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == ',')
		return 63;
	return -1;
}

/*
 * A scalar value (from utf8_next()) a name may hold: no C0 control,
 * DEL or C1 control (RFC 5198 2).
 */
static int
mu_cp_ok(uint32_t cp)
{
	return cp >= 0x20 && (cp < 0x7f || cp > 0x9f);
}

int
utf8_next(const unsigned char *s, size_t len, size_t *i, uint32_t *cp_r)
{
	uint32_t	cp, min;
	size_t		n, k;
	unsigned char	c = s[*i];

	if (c < 0x80) {
		*cp_r = c;
		(*i)++;
		return 0;
	}
	/* 0x80..0xc1: a continuation or an overlong lead; 0xf5..: too high */
	if (c >= 0xc2 && c <= 0xdf) {
		n = 1;
		min = 0x80;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 2;
		min = 0x800;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 3;
		min = 0x10000;
		cp = c & 0x07;
	} else
		return -1;
	if (n > len - *i - 1)
		return -1;
	for (k = 1; k <= n; k++) {
		if ((s[*i + k] & 0xc0) != 0x80)
			return -1;
		cp = cp << 6 | (uint32_t)(s[*i + k] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	*i += n + 1;
	*cp_r = cp;
	return 0;
}

/*
 * cp, a scalar value of U+0080 or more (US-ASCII never comes out of a
 * run), as UTF-8 in u8[4]; the number of bytes.
 */
static size_t
mu_utf8_put(uint32_t cp, char u8[4])
{
	if (cp < 0x800) {
		u8[0] = (char)(0xc0 | cp >> 6);
		u8[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		u8[0] = (char)(0xe0 | cp >> 12);
		u8[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		u8[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	u8[0] = (char)(0xf0 | cp >> 18);
	u8[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	u8[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	u8[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/*
 * Append the n bytes at p to out, where *o < outlen bytes are in use,
 * keeping one byte for the NUL.  0, or -1 when they do not fit.
 */
static int
mu_put(char *out, size_t outlen, size_t *o, const char *p, size_t n)
{
	if (n >= outlen - *o)
		return -1;
	memcpy(out + *o, p, n);
	*o += n;
	return 0;
}

/* The output length must fit the int we return. */
static size_t
mu_outlen(size_t outlen)
{
	return outlen > (size_t)INT_MAX ? (size_t)INT_MAX : outlen;
}

int
mutf7_to_utf8(const char *in, char *out, size_t outlen)
{
	const char	*p;
	char		 u8[4];
	uint32_t	 bits, unit, hi, cp;
	size_t		 o = 0, nbits;
	int		 v, after_run = 0;

	if (outlen == 0)
		return -1;
	outlen = mu_outlen(outlen);
	for (p = in; *p != '\0'; p++) {
		/* RFC 3501 5.1.3: nothing but printable US-ASCII */
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			goto bad;
		if (*p != '&') {
			if (mu_put(out, outlen, &o, p, 1) == -1)
				goto bad;
			after_run = 0;
			continue;
		}
		if (*++p == '-') {
			if (mu_put(out, outlen, &o, "&", 1) == -1)
				goto bad;
			after_run = 0;
			continue;
		}
		/* RFC 3501 5.1.3: "&AOk-&AOk-" must have been "&AOkA6Q-" */
		if (after_run)
			goto bad;
		bits = 0;
		nbits = 0;
		hi = 0;
		for (; (v = mu_b64_val(*p)) != -1; p++) {
			bits = bits << 6 | (uint32_t)v;
			nbits += 6;
			if (nbits < 16)
				continue;
			nbits -= 16;
			unit = bits >> nbits & 0xffff;
			bits &= (1U << nbits) - 1;
			if (hi != 0) {
				/* a high surrogate not followed by a low one */
				if (unit < 0xdc00 || unit > 0xdfff)
					goto bad;
				cp = 0x10000 + ((hi - 0xd800) << 10) +
				    (unit - 0xdc00);
				hi = 0;
			} else if (unit >= 0xd800 && unit <= 0xdbff) {
				hi = unit;
				continue;
			} else if (unit >= 0xdc00 && unit <= 0xdfff)
				goto bad;	/* a low surrogate on its own */
			else
				cp = unit;
			/*
			 * RFC 3501 5.1.3: printable US-ASCII goes as itself;
			 * below U+00A0 the rest are controls.
			 */
			if (cp < 0xa0)
				goto bad;
			if (mu_put(out, outlen, &o, u8, mu_utf8_put(cp, u8)) ==
			    -1)
				goto bad;
		}
		/*
		 * Closed by "-" (an empty run is "&" without one); whole
		 * 16-bit units: fewer than 6 bits left, and those zero; no
		 * high surrogate waiting for its pair.
		 */
		if (*p != '-' || nbits >= 6 || bits != 0 || hi != 0)
			goto bad;
		after_run = 1;
	}
	out[o] = '\0';
	return (int)o;
bad:
	out[0] = '\0';
	return -1;
}

/*
 * Close the open run: the last bits padded with zeros to a whole BASE64
 * character, then "-".  0, or -1 when that does not fit.
 */
static int
mu_run_close(char *out, size_t outlen, size_t *o, uint32_t bits,
    size_t nbits)
{
	if (nbits > 0 && mu_put(out, outlen, o,
	    &mu_b64[bits << (6 - nbits) & 0x3f], 1) == -1)
		return -1;
	return mu_put(out, outlen, o, "-", 1);
}

int
utf8_to_mutf7(const char *in, char *out, size_t outlen)
{
	const unsigned char	*s = (const unsigned char *)in;
	size_t			 len = strlen(in), i = 0, o = 0, nbits = 0;
	size_t			 k, nunits;
	uint32_t		 cp, bits = 0, units[2];
	char			 c;
	int			 inrun = 0;

	if (outlen == 0)
		return -1;
	outlen = mu_outlen(outlen);
	while (i < len) {
		if (utf8_next(s, len, &i, &cp) == -1 || !mu_cp_ok(cp))
			goto bad;
		if (cp < 0x80) {
			/* printable US-ASCII, mu_cp_ok() says */
			if (inrun && mu_run_close(out, outlen, &o, bits,
			    nbits) == -1)
				goto bad;
			inrun = 0;
			bits = 0;
			nbits = 0;
			c = (char)cp;
			if (mu_put(out, outlen, &o, &c, 1) == -1)
				goto bad;
			if (c == '&' && mu_put(out, outlen, &o, "-", 1) == -1)
				goto bad;
			continue;
		}
		/* RFC 3501 5.1.3: one run for the whole stretch */
		if (!inrun && mu_put(out, outlen, &o, "&", 1) == -1)
			goto bad;
		inrun = 1;
		if (cp >= 0x10000) {
			units[0] = 0xd800 + ((cp - 0x10000) >> 10);
			units[1] = 0xdc00 + ((cp - 0x10000) & 0x3ff);
			nunits = 2;
		} else {
			units[0] = cp;
			nunits = 1;
		}
		for (k = 0; k < nunits; k++) {
			bits = bits << 16 | units[k];
			nbits += 16;
			while (nbits >= 6) {
				nbits -= 6;
				if (mu_put(out, outlen, &o,
				    &mu_b64[bits >> nbits & 0x3f], 1) == -1)
					goto bad;
			}
			bits &= (1U << nbits) - 1;
		}
	}
	if (inrun && mu_run_close(out, outlen, &o, bits, nbits) == -1)
		goto bad;
	out[o] = '\0';
	return (int)o;
bad:
	out[0] = '\0';
	return -1;
}

int
utf8_valid_text(const char *s, size_t len)
{
	uint32_t	cp;
	size_t		i = 0;

	while (i < len)
		if (utf8_next((const unsigned char *)s, len, &i, &cp) ==
		    -1 || !mu_cp_ok(cp))
			return 0;
	return 1;
}
