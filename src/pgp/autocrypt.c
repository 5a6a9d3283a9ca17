/* SPDX-License-Identifier: ISC */
/*
 * autocrypt.c - the Autocrypt header's parser (Autocrypt Level 1, "The
 * Autocrypt Header"), the addr comparison with From, and the choice of
 * the one header of a message to use.  Pure functions: no I/O, no
 * logging, no library but libc (and xmalloc), so that it is unit-tested
 * and fuzzed as it runs.
 *
 * Process:  pgp (user _sp_pgp, jailed, sandbox ROLE_PGP), on mail local
 *           users send (not called yet: issue 13).
 * Trust:    every byte of a value is hostile: NULs, 8-bit, folds,
 *           separators repeated, lengths far beyond any key.  The From
 *           address handed in is hostile too.  Nothing here trusts the
 *           key beyond its first packet header: GPGME checks it later.
 * Limits:   AUTOCRYPT_VALUE_MAX (Level 1's 10 KiB), AUTOCRYPT_KEY_MAX,
 *           AUTOCRYPT_ADDR_MAX, AUTOCRYPT_PICK_MAX in autocrypt.h.  One
 *           pass to check the octets, one to split the attributes, two
 *           over keydata: linear in the value.
 * See also: autocrypt.h (what is accepted), docs/openpgp.md,
 *           https://autocrypt.org/level1.html
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "autocrypt.h"
#include "xmalloc.h"
#include "banned.h"

static int
ac_is_ws(unsigned char c)
{
	/* CR and LF only ever pass ac_check_octets as part of a fold */
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int
ac_is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
ac_is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static unsigned char
ac_lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : c;
}

/*
 * SECURITY: the value is printable ASCII, SP and HTAB, and line breaks
 * only as folds (RFC 5322 2.2.3: CR LF followed by WSP; a bare LF
 * followed by WSP too, as a message stored with LF line ends has it).
 * Anything else (NUL, controls, DEL, 8-bit, a bare CR, a break that ends
 * the value) makes the whole header invalid, so that nothing below sees
 * those octets.
 */
static int
ac_check_octets(const unsigned char *v, size_t len, const char **why)
{
	size_t	i;

	for (i = 0; i < len; i++) {
		if (v[i] == '\r') {
			if (i + 1 >= len || v[i + 1] != '\n') {
				*why = "line break that is not a fold";
				return -1;
			}
			continue;		/* the LF is checked next */
		}
		if (v[i] == '\n') {
			if (i + 1 >= len || (v[i + 1] != ' ' &&
			    v[i + 1] != '\t')) {
				*why = "line break that is not a fold";
				return -1;
			}
			continue;
		}
		if (v[i] == '\0') {
			*why = "NUL in the value";
			return -1;
		}
		if (v[i] != ' ' && v[i] != '\t' && (v[i] < 0x21 ||
		    v[i] > 0x7e)) {
			*why = "octet outside printable ASCII";
			return -1;
		}
	}
	return 0;
}

/* RFC 5322 3.2.3 atext: the characters of a dot-atom's atoms. */
static int
ac_is_atext(unsigned char c)
{
	return ac_is_alpha(c) || ac_is_digit(c) ||
	    (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/*
 * SECURITY: addr is kept only as a plain ASCII dot-atom local part "@"
 * a host name (letters, digits, hyphens, dots): no quoted local part, no
 * address literal, no space, exactly one "@".  It goes on to gpg, the
 * key-change queue and sealpostctl's output; it must also equal the From
 * address, which Level 1 compares lower-cased (autocrypt_addr_matches),
 * so the rarer forms would buy nothing but risk.
 */
static int
ac_addr_ok(const unsigned char *a, size_t len, const char **why)
{
	size_t	at, i, label;

	if (len == 0) {
		*why = "empty addr";
		return -1;
	}
	if (len > AUTOCRYPT_ADDR_MAX) {
		*why = "addr too long";
		return -1;
	}
	for (at = 0; at < len && a[at] != '@'; at++)
		;
	if (at == len) {
		*why = "addr without @";
		return -1;
	}
	if (at == 0 || at > AUTOCRYPT_LOCAL_MAX) {
		*why = "addr local part empty or too long";
		return -1;
	}
	for (i = 0; i < at; i++) {
		if (a[i] == '.') {
			if (i == 0 || i + 1 == at || a[i + 1] == '.') {
				*why = "addr local part not a dot-atom";
				return -1;
			}
		} else if (!ac_is_atext(a[i])) {
			*why = "addr local part not a dot-atom";
			return -1;
		}
	}
	/* RFC 1035 2.3.1 (letters, digits, hyphen), RFC 1123 2.1 */
	if (at + 1 == len) {
		*why = "addr domain empty";
		return -1;
	}
	label = 0;
	for (i = at + 1; i < len; i++) {
		if (a[i] == '.') {
			if (label == 0 || a[i - 1] == '-') {
				*why = "addr domain not a host name";
				return -1;
			}
			label = 0;
		} else if (ac_is_alpha(a[i]) || ac_is_digit(a[i]) ||
		    (a[i] == '-' && label > 0)) {
			if (++label > 63) {
				*why = "addr domain not a host name";
				return -1;
			}
		} else {
			*why = "addr domain not a host name";
			return -1;
		}
	}
	if (label == 0 || a[len - 1] == '-') {
		*why = "addr domain not a host name";
		return -1;
	}
	return 0;
}

static int
ac_b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/*
 * Strict base64 (RFC 4648 4), whitespace skipped anywhere: only the
 * alphabet, "=" only as the last one or two characters, a length that
 * is a multiple of 4, the unused bits of the last character zero (the
 * one encoding of the bytes).  0 with *out_r (xmalloc'd, the caller
 * frees) and *outlen_r >= 1; -1 with *why.
 */
static int
ac_b64_decode(const unsigned char *v, size_t len, unsigned char **out_r,
    size_t *outlen_r, const char **why)
{
	unsigned char	*out;
	const char	*end;
	size_t		 i, n = 0, pad = 0, o = 0;
	int		 d, last = 0;

	*out_r = NULL;
	*outlen_r = 0;
	for (i = 0; i < len; i++) {
		if (ac_is_ws(v[i]))
			continue;
		if (v[i] == '=') {
			if (++pad > 2) {
				*why = "bad base64 padding";
				return -1;
			}
		} else if ((d = ac_b64_value(v[i])) == -1) {
			*why = "bad base64 character";
			return -1;
		} else if (pad > 0) {
			*why = "base64 after padding";
			return -1;
		} else
			last = d;
		n++;
	}
	if (n == 0) {
		*why = "empty keydata";
		return -1;
	}
	if (n % 4 != 0 || (pad > 0 && n < 4)) {
		*why = "bad base64 length";
		return -1;
	}
	/* the bits the last character carries beyond the last octet */
	if ((pad == 1 && (last & 0x03) != 0) ||
	    (pad == 2 && (last & 0x0f) != 0)) {
		*why = "bad base64 padding";
		return -1;
	}
	*outlen_r = n / 4 * 3 - pad;
	if (*outlen_r == 0 || *outlen_r > AUTOCRYPT_KEY_MAX) {
		/* "====" cannot pass above; the bound holds by the value's */
		*why = "keydata size";
		*outlen_r = 0;
		return -1;
	}
	/*
	 * Checked above (with the reasons the tests name), so libsodium's
	 * strict decoder, skipping the same white space, takes all of it.
	 */
	out = xmalloc(*outlen_r);
	if (sodium_base642bin(out, *outlen_r, (const char *)v, len, " \t\r\n",
	    &o, &end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    o != *outlen_r || end != (const char *)v + len) {
		/* cannot happen: counted */
		free(out);
		*outlen_r = 0;
		*why = "keydata size";
		return -1;
	}
	*out_r = out;
	return 0;
}

/*
 * The key must start with an OpenPGP public key packet (RFC 4880 4.2,
 * RFC 9580 4.2 and 5.5.2): tag 6 in an old-format header (one, two or
 * four length octets; not indeterminate) or a new-format one (not a
 * partial length, which only data packets may use), a body within the
 * data, at least a version, a creation time and an algorithm, version
 * 4 (RFC 4880), 5 (LibrePGP) or 6 (RFC 9580).  The rest is GPGME's.
 */
static int
ac_key_ok(const unsigned char *k, size_t len, const char **why)
{
	size_t		hlen;
	uint32_t	blen;

	*why = "keydata is not an OpenPGP public key";
	if (len < 2 || (k[0] & 0x80) == 0)
		return -1;
	if (k[0] & 0x40) {			/* new format */
		if ((k[0] & 0x3f) != 6)
			return -1;
		if (k[1] < 192) {
			blen = k[1];
			hlen = 2;
		} else if (k[1] < 224) {
			if (len < 3)
				return -1;
			blen = ((uint32_t)(k[1] - 192) << 8) + k[2] + 192;
			hlen = 3;
		} else if (k[1] == 255) {
			if (len < 6)
				return -1;
			blen = (uint32_t)k[2] << 24 | (uint32_t)k[3] << 16 |
			    (uint32_t)k[4] << 8 | k[5];
			hlen = 6;
		} else
			return -1;		/* partial body length */
	} else {				/* old format */
		if (((k[0] >> 2) & 0x0f) != 6)
			return -1;
		switch (k[0] & 0x03) {
		case 0:
			blen = k[1];
			hlen = 2;
			break;
		case 1:
			if (len < 3)
				return -1;
			blen = (uint32_t)k[1] << 8 | k[2];
			hlen = 3;
			break;
		case 2:
			if (len < 5)
				return -1;
			blen = (uint32_t)k[1] << 24 | (uint32_t)k[2] << 16 |
			    (uint32_t)k[3] << 8 | k[4];
			hlen = 5;
			break;
		default:
			return -1;		/* indeterminate length */
		}
	}
	if (blen > len - hlen) {
		*why = "keydata shorter than its first packet";
		return -1;
	}
	if (blen < 6)				/* version, time, algorithm */
		return -1;
	if (k[hlen] != 4 && k[hlen] != 5 && k[hlen] != 6) {
		*why = "keydata: unknown public key version";
		return -1;
	}
	return 0;
}

static int
ac_name_char(unsigned char c)
{
	return ac_is_alpha(c) || ac_is_digit(c) || c == '-' || c == '_' ||
	    c == '.';
}

static int
ac_name_is(const unsigned char *n, size_t nlen, const char *lit)
{
	size_t	l = strlen(lit);

	return nlen == l && memcmp(n, lit, l) == 0;
}

int
autocrypt_parse(const char *value, size_t len, struct autocrypt_hdr *out,
    const char **why)
{
	const unsigned char	*v = (const unsigned char *)value;
	struct autocrypt_hdr	 h;
	size_t			 i = 0, ns, nl, vs, ve;
	int			 have_addr = 0, have_prefer = 0, have_key = 0;
	int			 nattr = 0;

	memset(out, 0, sizeof(*out));
	memset(&h, 0, sizeof(h));
	if (value == NULL) {
		*why = "no value";
		return -1;
	}
	/* Level 1: headers above 10 KiB SHOULD be treated as invalid */
	if (len > AUTOCRYPT_VALUE_MAX) {
		*why = "value longer than 10 KiB";
		return -1;
	}
	if (ac_check_octets(v, len, why) == -1)
		return -1;
	for (;;) {
		while (i < len && ac_is_ws(v[i]))
			i++;
		if (i == len)
			break;		/* the end, or after a last ";" */
		if (have_key) {
			/* Level 1: keydata MUST be the last attribute */
			*why = "attribute after keydata";
			goto bad;
		}
		ns = i;
		while (i < len && ac_name_char(v[i]))
			i++;
		nl = i - ns;
		while (i < len && ac_is_ws(v[i]))
			i++;
		if (nl == 0 || i == len || v[i] != '=') {
			*why = nl == 0 ? "empty or unnamed attribute" :
			    "attribute without =value";
			goto bad;
		}
		i++;
		while (i < len && ac_is_ws(v[i]))
			i++;
		vs = i;
		while (i < len && v[i] != ';')
			i++;
		ve = i;
		while (ve > vs && ac_is_ws(v[ve - 1]))
			ve--;
		if (i < len)
			i++;			/* the ";" */
		nattr++;

		if (ac_name_is(v + ns, nl, "addr")) {
			if (have_addr++) {
				*why = "addr twice";
				goto bad;
			}
			if (ac_addr_ok(v + vs, ve - vs, why) == -1)
				goto bad;
			/* ve - vs <= AUTOCRYPT_ADDR_MAX < sizeof(h.addr) */
			memcpy(h.addr, v + vs, ve - vs);
			h.addr[ve - vs] = '\0';
		} else if (ac_name_is(v + ns, nl, "prefer-encrypt")) {
			if (have_prefer++) {
				*why = "prefer-encrypt twice";
				goto bad;
			}
			/* Level 1: any other value is "nopreference" */
			h.prefer_mutual = ac_name_is(v + vs, ve - vs,
			    "mutual");
		} else if (ac_name_is(v + ns, nl, "keydata")) {
			have_key = 1;
			if (ac_b64_decode(v + vs, ve - vs, &h.keydata,
			    &h.keylen, why) == -1)
				goto bad;
			if (ac_key_ok(h.keydata, h.keylen, why) == -1)
				goto bad;
		} else if (v[ns] != '_') {
			/*
			 * Level 1: an unsupported critical attribute makes
			 * the entire header invalid (how a later version
			 * hides its headers from Level 1).
			 */
			*why = "unknown critical attribute";
			goto bad;
		}
		/* "_name": non-critical, ignored */
	}
	if (nattr == 0) {
		*why = "empty value";
		goto bad;
	}
	if (!have_addr) {
		*why = "no addr";
		goto bad;
	}
	if (!have_key) {
		*why = "no keydata";
		goto bad;
	}
	*out = h;
	return 0;
bad:
	autocrypt_free(&h);
	return -1;
}

void
autocrypt_free(struct autocrypt_hdr *hdr)
{
	if (hdr == NULL)
		return;
	free(hdr->keydata);
	memset(hdr, 0, sizeof(*hdr));
}

int
autocrypt_addr_matches(const struct autocrypt_hdr *hdr, const char *from_addr)
{
	const unsigned char	*a, *f;

	if (hdr == NULL || from_addr == NULL || hdr->addr[0] == '\0')
		return 0;
	a = (const unsigned char *)hdr->addr;
	f = (const unsigned char *)from_addr;
	/* hdr->addr is NUL-terminated within its array (autocrypt_parse) */
	for (; *a != '\0' && *f != '\0'; a++, f++) {
		if (*f >= 0x80 || ac_lower(*a) != ac_lower(*f))
			return 0;
	}
	return *a == '\0' && *f == '\0';
}

int
autocrypt_pick(const char *const *values, const size_t *lens, size_t n,
    const char *from_addr, struct autocrypt_hdr *out, const char **why)
{
	struct autocrypt_hdr	 h;
	const char		*first_why = NULL, *w;
	size_t			 i;
	int			 found = -1;

	memset(out, 0, sizeof(*out));
	if (n == 0) {
		*why = "no Autocrypt header";
		return -1;
	}
	if (n > AUTOCRYPT_PICK_MAX) {
		*why = "too many Autocrypt headers";
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (autocrypt_parse(values[i], lens[i], &h, &w) == -1) {
			if (first_why == NULL)
				first_why = w;
			continue;
		}
		if (!autocrypt_addr_matches(&h, from_addr)) {
			autocrypt_free(&h);
			if (first_why == NULL)
				first_why = "addr is not the From address";
			continue;
		}
		if (found != -1) {
			/* Level 1: more than one valid: all discarded */
			autocrypt_free(&h);
			autocrypt_free(out);
			*why = "more than one valid Autocrypt header";
			return -1;
		}
		*out = h;
		found = (int)i;
	}
	if (found == -1) {
		*why = first_why;
		return -1;
	}
	return found;
}
