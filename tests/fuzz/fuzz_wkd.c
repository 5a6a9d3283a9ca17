/* SPDX-License-Identifier: ISC */
/*
 * fuzz_wkd.c - libFuzzer target for an address as the WKD names it
 * (pgp/wkd.c).  The input, up to its first NUL, is parsed; when taken:
 * the address is exactly LOCAL@DOMAIN with only the domain's letters
 * lowered, the hash is 32 z-base-32 characters and the local part's hash
 * again, the path is .well-known/openpgpkey/DOMAIN/hu/HASH with no "..",
 * no '/' but the separators and only [a-z0-9.-], the URLs are printable
 * ASCII without space, '"', '<', '>' or '\\', end in the percent-encoded
 * local part, and the advanced one fails exactly when openpgpkey.DOMAIN
 * is too long.  When refused: the reason is set and the result is zeroed.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wkd.h"
#include "banned.h"

#define FUZZ_WKD_MAX	1024

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char zb32[] = "ybndrfg8ejkmcpqxot1uwisza345h769";

static void
check_url(const char *url, const char *local)
{
	const char	*q, *s;
	size_t		 n = 0;

	for (s = url; *s != '\0'; s++)
		if (*s <= 0x20 || *s >= 0x7f || strchr("\"<>\\", *s) != NULL)
			abort();
	if (strncmp(url, "https://", 8) != 0 ||
	    (q = strstr(url, "?l=")) == NULL)
		abort();
	/* the l= value decodes back to the local part */
	for (s = q + 3; *s != '\0'; s++, n++) {
		if (*s == '%') {
			if (s[1] == '\0' || s[2] == '\0' ||
			    strtol((char[]){ s[1], s[2], '\0' }, NULL, 16) !=
			    (unsigned char)local[n])
				abort();
			s += 2;
		} else if (*s != local[n])
			abort();
	}
	if (local[n] != '\0')
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wkd_addr	 a;
	const char	*e = NULL, *s;
	char		 in[FUZZ_WKD_MAX + 1], url[WKD_URL_MAX];
	char		 path[WKD_PATH_MAX], hash[WKD_HASH_LEN + 1];
	size_t		 n, ll, i;
	int		 r;

	n = size < FUZZ_WKD_MAX ? size : FUZZ_WKD_MAX;
	memcpy(in, data, n);
	in[n] = '\0';
	if (wkd_addr_parse(in, &a, &e) == -1) {
		if (e == NULL || a.local[0] != '\0' || a.domain[0] != '\0' ||
		    a.hash[0] != '\0')
			abort();
		return 0;
	}
	ll = strlen(a.local);
	if (ll == 0 || ll > WKD_LOCAL_MAX || strncmp(in, a.local, ll) != 0 ||
	    in[ll] != '@' || strlen(in + ll + 1) != strlen(a.domain) ||
	    strlen(in) > WKD_ADDRESS_MAX)
		abort();
	for (i = 0; a.domain[i] != '\0'; i++) {
		if (!((a.domain[i] >= 'a' && a.domain[i] <= 'z') ||
		    (a.domain[i] >= '0' && a.domain[i] <= '9') ||
		    a.domain[i] == '-' || a.domain[i] == '.'))
			abort();
		if ((in[ll + 1 + i] | 0x20) != (a.domain[i] | 0x20))
			abort();
	}
	if (strlen(a.hash) != WKD_HASH_LEN ||
	    strspn(a.hash, zb32) != WKD_HASH_LEN)
		abort();
	if (wkd_hash(a.local, ll, hash) != 0 || strcmp(hash, a.hash) != 0)
		abort();
	if (wkd_path(&a, path, sizeof(path)) != 0 ||
	    strncmp(path, ".well-known/openpgpkey/", 23) != 0 ||
	    strstr(path, "..") != NULL ||
	    strcmp(path + strlen(path) - WKD_HASH_LEN, a.hash) != 0)
		abort();
	for (s = path + 23; *s != '\0'; s++)
		if (*s == '/' && s != path + 23 + strlen(a.domain) &&
		    s != path + 23 + strlen(a.domain) + 3)
			abort();
	if (wkd_url(&a, WKD_DIRECT, url, sizeof(url)) != 0)
		abort();
	check_url(url, a.local);
	r = wkd_url(&a, WKD_ADVANCED, url, sizeof(url));
	if ((r == -1) != (strlen(a.domain) > WKD_DOMAIN_MAX - 11))
		abort();
	if (r == 0)
		check_url(url, a.local);
	return 0;
}
