/* SPDX-License-Identifier: ISC */
/*
 * wkd.h - the OpenPGP Web Key Directory's names for an address
 * (draft-koch-openpgp-webkey-service, section 3.1): the hash of the
 * local part, the advanced and direct lookup URLs, and where the key
 * file lies in a WKD tree (wkd.c).
 *
 *	https://openpgpkey.DOMAIN/.well-known/openpgpkey/DOMAIN/hu/HASH?l=LOCAL
 *	https://DOMAIN/.well-known/openpgpkey/hu/HASH?l=LOCAL
 *	DATA_DIR/wkd/.well-known/openpgpkey/DOMAIN/hu/HASH   (the key)
 *	DATA_DIR/wkd/.well-known/openpgpkey/DOMAIN/policy    (empty)
 *
 * Pure functions, no I/O.  Users: sealpostctl key publish|unpublish|
 * published; the mta's WKD lookup (issue 13).
 */
#ifndef SP_WKD_H
#define SP_WKD_H

#include <stddef.h>

#define WKD_LOCAL_MAX	64	/* RFC 5321 4.5.3.1.1, octets */
#define WKD_DOMAIN_MAX	253	/* RFC 1035 2.3.4, without the root dot */
#define WKD_ADDRESS_MAX	254	/* RFC 5321 4.5.3.1.3, a path less <> */
#define WKD_HASH_LEN	32	/* z-base-32 of a 160-bit SHA-1 digest */
#define WKD_URL_MAX	1024	/* enough for any URL below */
#define WKD_PATH_MAX	512	/* enough for any path below */

#define WKD_TREE	"wkd"		/* the tree's folder, under DATA_DIR */
#define WKD_WELL_KNOWN	".well-known"	/* RFC 8615 */
#define WKD_OPENPGPKEY	"openpgpkey"
#define WKD_HU		"hu"		/* "hashed user" */
#define WKD_POLICY	"policy"	/* must exist, may be empty */

enum wkd_method {
	WKD_ADVANCED,	/* openpgpkey.DOMAIN, the domain in the path */
	WKD_DIRECT	/* DOMAIN itself */
};

/* An address split for WKD.  Every field is NUL-terminated. */
struct wkd_addr {
	char	local[WKD_LOCAL_MAX + 1];	/* as given */
	char	domain[WKD_DOMAIN_MAX + 1];	/* lower case */
	char	hash[WKD_HASH_LEN + 1];		/* of the local part */
};

/*
 * Split address into a; 0 ok, -1 refused with a reason in *errstr_r (a
 * static string) and a zeroed.
 * SECURITY: address is hostile.  Only a plain LOCAL@DOMAIN is taken, at
 * most WKD_ADDRESS_MAX bytes: the local part a dot-atom (RFC 5322 3.2.3)
 * of at most WKD_LOCAL_MAX bytes of atext and UTF-8 beyond ASCII (RFC
 * 6531 3.3; valid, shortest form, no C1 control, no surrogate, no
 * Unicode space, format or bidi control, no noncharacter); no quoted
 * local part, no whitespace, no control byte, one '@'; the domain
 * a host name (LDH labels of 1..63, an A-label for an international
 * name), lower-cased.  So the domain is safe as a path component and in
 * a URL, the local part never reaches a path, and pgp_address_ok takes
 * every address taken here.
 */
int	wkd_addr_parse(const char *address, struct wkd_addr *a,
	    const char **errstr_r);

/*
 * The WKD hash of a local part of len bytes: its ASCII A-Z lower-cased
 * (every other byte kept, draft 3.1), hashed with SHA-1, z-base-32
 * encoded: WKD_HASH_LEN characters and a NUL into out.  0, or -1 when
 * OpenSSL fails (out is then "").  The input is not checked.
 */
int	wkd_hash(const char *local, size_t len, char out[WKD_HASH_LEN + 1]);

/*
 * z-base-32 (RFC 6189 5.1.6) of in[0..len), most significant bit first,
 * a partial last group padded with zero bits: (len * 8 + 4) / 5
 * characters and a NUL.  -1 (out "" when outlen > 0) when outlen is too
 * small, else 0.
 */
int	wkd_zbase32(const unsigned char *in, size_t len, char *out,
	    size_t outlen);

/*
 * The lookup URL of a by method, into buf: l= is the local part as given,
 * percent-encoded (RFC 3986 2.1: every byte but ALPHA, DIGIT and "-._~"
 * as %XX, upper-case hex).  0, or -1 when it does not fit in len bytes,
 * or for WKD_ADVANCED when "openpgpkey." + DOMAIN is longer than a host
 * name may be (the direct method still works); buf is then "".
 */
int	wkd_url(const struct wkd_addr *a, enum wkd_method method, char *buf,
	    size_t len);

/*
 * The key file's path inside the tree (the advanced method's layout),
 * ".well-known/openpgpkey/DOMAIN/hu/HASH", into buf; 0, or -1 when it
 * does not fit (buf "").
 */
int	wkd_path(const struct wkd_addr *a, char *buf, size_t len);

#endif
