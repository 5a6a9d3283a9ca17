/* SPDX-License-Identifier: ISC */
/*
 * wkd.c - the OpenPGP Web Key Directory's names for an address
 * (draft-koch-openpgp-webkey-service 3.1): the address checked and split,
 * the z-base-32 SHA-1 hash of its local part, the lookup URLs and the key
 * file's place in a WKD tree.
 *
 * Process:  sealpostctl (root) to publish; the mta to look keys up.
 * Trust:    the address is hostile (from SMTP, or typed by the
 *           administrator): wkd_addr_parse takes only a plain
 *           LOCAL@DOMAIN, and everything else here works on its result.
 *           No I/O; OpenSSL's EVP for SHA-1 (libsodium has none).
 * Limits:   WKD_LOCAL_MAX, WKD_DOMAIN_MAX, WKD_ADDRESS_MAX; the caller's
 *           buffer sizes, checked.
 * See also: wkd.h, sealpostctl/ctl_key.c (key publish), docs/openpgp.md.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "mutf7.h"
#include "wkd.h"
#include "banned.h"

/* RFC 6189 5.1.6 */
static const char wkd_zb32_alphabet[] = "ybndrfg8ejkmcpqxot1uwisza345h769";

/* RFC 5322 3.2.3 atext, the ASCII part */
static int
wkd_atext(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/*
 * Unicode spaces, format and bidi controls, noncharacters: never in an
 * address (the same set as pgp_keys.c's, so that an address taken here
 * is one pgp_key_for looks up).
 */
static int
wkd_cp_bad(unsigned long c)
{
	return c == 0xa0 || c == 0xad || c == 0x1680 || c == 0x180e ||
	    (c >= 0x2000 && c <= 0x200f) || (c >= 0x2028 && c <= 0x202f) ||
	    (c >= 0x205f && c <= 0x206f) || c == 0x3000 || c == 0xfeff ||
	    (c >= 0xfff0 && c <= 0xfffb) || (c & 0xfffe) == 0xfffe;
}

/* Is s[0..n) a dot-atom of atext and UTF-8 beyond ASCII?  1 or 0. */
static int
wkd_local_ok(const char *s, size_t n, const char **errstr_r)
{
	const unsigned char	*u = (const unsigned char *)s;
	uint32_t		 cp;
	size_t			 i, j, len;

	if (u[0] == '"') {
		*errstr_r = "a quoted local part is not supported";
		return 0;
	}
	if (u[0] == '.' || u[n - 1] == '.') {
		*errstr_r = "a local part may not begin or end with a dot";
		return 0;
	}
	for (i = 0; i < n; i += len) {
		len = 1;
		if (u[i] == '.') {
			if (u[i + 1] == '.') {
				*errstr_r = "two dots in a row in the local "
				    "part";
				return 0;
			}
		} else if (u[i] >= 0x80) {
			/* RFC 3629, and no C1 control */
			j = i;
			if (utf8_next(u, n, &j, &cp) == -1 || cp <= 0x9f) {
				*errstr_r = "invalid UTF-8 in the local part";
				return 0;
			}
			len = j - i;
			if (wkd_cp_bad(cp)) {
				*errstr_r = "a Unicode space, format or bidi "
				    "character in the local part";
				return 0;
			}
		} else if (!wkd_atext(u[i])) {
			*errstr_r = u[i] == ' ' || u[i] == '\t' ?
			    "white space in the address" :
			    u[i] < 0x20 || u[i] == 0x7f ?
			    "a control character in the address" :
			    "a character not allowed in a plain local part";
			return 0;
		}
	}
	return 1;
}

/*
 * Is s[0..n) a host name: labels of 1..63 letters, digits and hyphens,
 * no hyphen at either end of a label, separated by single dots?
 */
static int
wkd_domain_ok(const char *s, size_t n)
{
	size_t	i, label = 0;

	for (i = 0; i < n; i++) {
		if (s[i] == '.') {
			if (label == 0 || s[i - 1] == '-')
				return 0;
			label = 0;
			continue;
		}
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return 0;
		if (s[i] == '-' && label == 0)
			return 0;
		if (++label > 63)
			return 0;
	}
	return label > 0 && s[n - 1] != '-';
}

int
wkd_addr_parse(const char *address, struct wkd_addr *a,
    const char **errstr_r)
{
	const char	*at;
	size_t		 n, llen, dlen, i;

	memset(a, 0, sizeof(*a));
	n = strnlen(address, WKD_ADDRESS_MAX + 1);
	if (n == 0) {
		*errstr_r = "an empty address";
		return -1;
	}
	if (n > WKD_ADDRESS_MAX) {
		*errstr_r = "an address longer than 254 bytes";
		return -1;
	}
	/* atext has no '@': the first one must be the only one */
	if ((at = memchr(address, '@', n)) == NULL) {
		*errstr_r = "no @ in the address";
		return -1;
	}
	llen = (size_t)(at - address);
	dlen = n - llen - 1;
	if (llen == 0) {
		*errstr_r = "an empty local part";
		return -1;
	}
	if (llen > WKD_LOCAL_MAX) {
		*errstr_r = "a local part longer than 64 bytes";
		return -1;
	}
	if (!wkd_local_ok(address, llen, errstr_r))
		return -1;
	if (dlen == 0) {
		*errstr_r = "an empty domain";
		return -1;
	}
	if (dlen > WKD_DOMAIN_MAX || !wkd_domain_ok(at + 1, dlen)) {
		*errstr_r = memchr(at + 1, '@', dlen) != NULL ?
		    "more than one @ in the address" :
		    "the domain is not a host name";
		return -1;
	}
	memcpy(a->local, address, llen);
	a->local[llen] = '\0';
	for (i = 0; i < dlen; i++)
		a->domain[i] = at[1 + i] >= 'A' && at[1 + i] <= 'Z' ?
		    (char)(at[1 + i] - 'A' + 'a') : at[1 + i];
	a->domain[dlen] = '\0';
	if (wkd_hash(a->local, llen, a->hash) == -1) {
		memset(a, 0, sizeof(*a));
		*errstr_r = "SHA-1 failed (OpenSSL)";
		return -1;
	}
	return 0;
}

int
wkd_zbase32(const unsigned char *in, size_t len, char *out, size_t outlen)
{
	unsigned int	acc = 0;
	size_t		need, bits = 0, i, o = 0;

	if (len > (((size_t)-1) - 4) / 8) {
		if (outlen > 0)
			out[0] = '\0';
		return -1;
	}
	need = (len * 8 + 4) / 5;
	if (outlen <= need) {
		if (outlen > 0)
			out[0] = '\0';
		return -1;
	}
	for (i = 0; i < len; i++) {
		acc = ((acc << 8) | in[i]) & 0xfff;
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			out[o++] = wkd_zb32_alphabet[(acc >> bits) & 0x1f];
		}
	}
	if (bits > 0)
		out[o++] = wkd_zb32_alphabet[(acc << (5 - bits)) & 0x1f];
	out[o] = '\0';
	return 0;
}

int
wkd_hash(const char *local, size_t len, char out[WKD_HASH_LEN + 1])
{
	unsigned char	lower[WKD_LOCAL_MAX], md[EVP_MAX_MD_SIZE];
	unsigned int	mdlen = 0;
	size_t		i;

	out[0] = '\0';
	if (len > sizeof(lower))
		return -1;
	/* draft 3.1: "mapped to lowercase" for ASCII only; UTF-8 as is */
	for (i = 0; i < len; i++)
		lower[i] = local[i] >= 'A' && local[i] <= 'Z' ?
		    (unsigned char)(local[i] - 'A' + 'a') :
		    (unsigned char)local[i];
	if (EVP_Digest(lower, len, md, &mdlen, EVP_sha1(), NULL) != 1 ||
	    mdlen != 20)
		return -1;
	return wkd_zbase32(md, mdlen, out, WKD_HASH_LEN + 1);
}

/* s percent-encoded (RFC 3986 2.1, 2.3) at buf + *off; -1 when full. */
static int
wkd_pct(const char *s, char *buf, size_t len, size_t *off)
{
	static const char	 hex[] = "0123456789ABCDEF";
	const unsigned char	*u = (const unsigned char *)s;

	for (; *u != '\0'; u++) {
		if ((*u >= 'a' && *u <= 'z') || (*u >= 'A' && *u <= 'Z') ||
		    (*u >= '0' && *u <= '9') || *u == '-' || *u == '.' ||
		    *u == '_' || *u == '~') {
			if (len - *off < 2)
				return -1;
			buf[(*off)++] = (char)*u;
			continue;
		}
		if (len - *off < 4)
			return -1;
		buf[(*off)++] = '%';
		buf[(*off)++] = hex[*u >> 4];
		buf[(*off)++] = hex[*u & 0x0f];
	}
	buf[*off] = '\0';
	return 0;
}

int
wkd_url(const struct wkd_addr *a, enum wkd_method method, char *buf,
    size_t len)
{
	size_t	off;
	int	n;

	if (len == 0)
		return -1;
	buf[0] = '\0';
	if (method == WKD_ADVANCED) {
		/* the host openpgpkey.DOMAIN must itself be a host name */
		if (strlen(a->domain) > WKD_DOMAIN_MAX -
		    (sizeof(WKD_OPENPGPKEY ".") - 1))
			return -1;
		n = snprintf(buf, len, "https://" WKD_OPENPGPKEY ".%s/"
		    WKD_WELL_KNOWN "/" WKD_OPENPGPKEY "/%s/" WKD_HU "/%s?l=",
		    a->domain, a->domain, a->hash);
	} else
		n = snprintf(buf, len, "https://%s/" WKD_WELL_KNOWN "/"
		    WKD_OPENPGPKEY "/" WKD_HU "/%s?l=", a->domain, a->hash);
	if (n < 0 || (size_t)n >= len) {
		buf[0] = '\0';
		return -1;
	}
	off = (size_t)n;
	if (wkd_pct(a->local, buf, len, &off) == -1) {
		buf[0] = '\0';
		return -1;
	}
	return 0;
}

int
wkd_path(const struct wkd_addr *a, char *buf, size_t len)
{
	int	n;

	if (len == 0)
		return -1;
	n = snprintf(buf, len, WKD_WELL_KNOWN "/" WKD_OPENPGPKEY "/%s/"
	    WKD_HU "/%s", a->domain, a->hash);
	if (n < 0 || (size_t)n >= len) {
		buf[0] = '\0';
		return -1;
	}
	return 0;
}
