/* SPDX-License-Identifier: ISC */
/*
 * fuzz_autocrypt.c - libFuzzer target for the Autocrypt header's parser
 * (pgp/autocrypt.c): the input is one Autocrypt value, as hostile as it
 * comes.  A value that parses has an addr of printable ASCII without
 * spaces, with exactly one "@", that matches itself in upper case;
 * 1..AUTOCRYPT_KEY_MAX octets of key starting with a packet header for
 * tag 6; and the header rebuilt from it (keydata re-encoded in base64)
 * parses to the same addr, preference and octets.  Given twice to
 * autocrypt_pick it is refused (more than one valid), once it is taken.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "autocrypt.h"
#include "banned.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static size_t
fuzz_b64(const unsigned char *in, size_t n, char *out, size_t outsz)
{
	static const char	 a[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t			 i, o = 0;
	unsigned long		 v;

	if (outsz < (n + 2) / 3 * 4)
		abort();
	for (i = 0; i + 2 < n; i += 3) {
		v = (unsigned long)in[i] << 16 | in[i + 1] << 8 | in[i + 2];
		out[o++] = a[v >> 18 & 63];
		out[o++] = a[v >> 12 & 63];
		out[o++] = a[v >> 6 & 63];
		out[o++] = a[v & 63];
	}
	if (n - i == 1) {
		v = (unsigned long)in[i] << 16;
		out[o++] = a[v >> 18 & 63];
		out[o++] = a[v >> 12 & 63];
		out[o++] = '=';
		out[o++] = '=';
	} else if (n - i == 2) {
		v = (unsigned long)in[i] << 16 | in[i + 1] << 8;
		out[o++] = a[v >> 18 & 63];
		out[o++] = a[v >> 12 & 63];
		out[o++] = a[v >> 6 & 63];
		out[o++] = '=';
	}
	return o;
}

static void
fuzz_check(const struct autocrypt_hdr *h)
{
	char	upper[AUTOCRYPT_ADDR_MAX + 1];
	size_t	i, at = 0, len = strlen(h->addr);

	if (len == 0 || len > AUTOCRYPT_ADDR_MAX)
		abort();
	for (i = 0; i < len; i++) {
		if (h->addr[i] <= ' ' || h->addr[i] > '~')
			abort();
		if (h->addr[i] == '@')
			at++;
		upper[i] = (h->addr[i] >= 'a' && h->addr[i] <= 'z') ?
		    (char)(h->addr[i] - 'a' + 'A') : h->addr[i];
	}
	upper[len] = '\0';
	if (at != 1)
		abort();
	if (!autocrypt_addr_matches(h, h->addr) ||
	    !autocrypt_addr_matches(h, upper))
		abort();
	if (h->prefer_mutual != 0 && h->prefer_mutual != 1)
		abort();
	if (h->keydata == NULL || h->keylen == 0 ||
	    h->keylen > AUTOCRYPT_KEY_MAX)
		abort();
	/* tag 6, old format (100110xx) or new (0xc6) */
	if ((h->keydata[0] & 0xfc) != 0x98 && h->keydata[0] != 0xc6)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct autocrypt_hdr	 h, h2;
	const char		*why = NULL, *vals[2];
	size_t			 lens[2], n;
	char			*v;
	int			 r;

	r = autocrypt_parse((const char *)data, size, &h, &why);
	if (r == -1) {
		if (why == NULL || h.keydata != NULL || h.keylen != 0 ||
		    h.addr[0] != '\0')
			abort();
		return 0;
	}
	if (r != 0)
		abort();
	fuzz_check(&h);

	/* rebuilt: the same header */
	/* no longer than the value parsed: it fits AUTOCRYPT_VALUE_MAX */
	n = sizeof("addr=;prefer-encrypt=mutual;keydata=") + strlen(h.addr) +
	    (h.keylen + 2) / 3 * 4;
	v = malloc(n);
	if (v == NULL)
		abort();
	r = snprintf(v, n, "addr=%s;%skeydata=", h.addr, h.prefer_mutual ?
	    "prefer-encrypt=mutual;" : "");
	if (r < 0 || (size_t)r >= n)
		abort();
	n = (size_t)r + fuzz_b64(h.keydata, h.keylen, v + r, n - (size_t)r);
	if (autocrypt_parse(v, n, &h2, &why) != 0)
		abort();
	if (strcmp(h.addr, h2.addr) != 0 || h.prefer_mutual !=
	    h2.prefer_mutual || h.keylen != h2.keylen ||
	    memcmp(h.keydata, h2.keydata, h.keylen) != 0)
		abort();
	autocrypt_free(&h2);
	free(v);

	/* Level 1: two valid headers are none; one is taken */
	vals[0] = vals[1] = (const char *)data;
	lens[0] = lens[1] = size;
	if (autocrypt_pick(vals, lens, 2, h.addr, &h2, &why) != -1 ||
	    h2.keydata != NULL)
		abort();
	if (autocrypt_pick(vals, lens, 1, h.addr, &h2, &why) != 0 ||
	    h2.keylen != h.keylen)
		abort();
	autocrypt_free(&h2);
	autocrypt_free(&h);
	return 0;
}
