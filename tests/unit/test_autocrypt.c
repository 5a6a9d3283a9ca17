/* SPDX-License-Identifier: ISC */
/*
 * test_autocrypt.c - the Autocrypt header's parser (pgp/autocrypt.c):
 * a header shaped as Level 1's example (a real ed25519/cv25519 key made
 * once with gpg, embedded here: no gpg at test time), folded with CR LF
 * and with LF, anywhere in keydata; prefer-encrypt values; critical and
 * non-critical attributes, duplicates, order (keydata last), missing
 * ones; strict base64; the first packet's header (old and new format,
 * every length form, wrong tags and versions, a body longer than the
 * data); the 10 KiB bound at its edge; NULs, controls, 8-bit, bare line
 * breaks; addr forms and the 254-octet bound; the From comparison; the
 * choice among a message's headers.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "autocrypt.h"
#include "test.h"
#include "banned.h"

/*
 * gpg --quick-gen-key '<alice@example.org>' ed25519, --quick-add-key
 * cv25519 encr, --export --export-options export-minimal: the five
 * packets Level 1 asks for, 400 octets.
 */
static const char	key_b64[] =
    "mDMEZ3SFgBYJKwYBBAHaRw8BAQdAYDEm1pvEx0U9fUrBLFvq8VUQ5K0K1B34"
    "i4gJtzIpQiC0EzxhbGljZUBleGFtcGxlLm9yZz6IkAQTFggAOBYhBKKHVT6I"
    "ynhulRhk9Rq3pYXZNxMoBQJndIWAAhsDBQsJCAcCBhUKCQgLAgQWAgMBAh4B"
    "AheAAAoJEBq3pYXZNxMojSMBAMDvV+Ndk1+RktpHGmS/o+vqiPfSUj03UOTV"
    "UolNvaqxAQD0Qqa7htj9QzGKXXPXAZmqJDJg34d3OJ4B3X2qDkeIBLg4BGd0"
    "hYASCisGAQQBl1UBBQEBB0APrXtCFDY9o1aKCaYSpSL3sDISEivBdTxLUcDi"
    "tEInGwMBCAeIeAQYFggAIBYhBKKHVT6IynhulRhk9Rq3pYXZNxMoBQJndIWA"
    "AhsMAAoJEBq3pYXZNxMoUa8BAKt/3NAaWiG8k4ydC+dkVlcE1qBDl1ghMMZG"
    "fKJmSezvAQD3DsGgYnpdyimOs1TGjWgTkOOQ1sq9+RUfmyb6tRhHDw==";
#define KEY_LEN		400

static char	big[2 * AUTOCRYPT_FIELD_MAX];
static const char big_a[] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

static size_t
b64_encode(const unsigned char *in, size_t n, char *out, size_t outsz)
{
	static const char	 a[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t			 i, o = 0;
	unsigned long		 v;

	if (outsz < (n + 2) / 3 * 4 + 1)
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
	out[o] = '\0';
	return o;
}

/* src with sep inserted every width characters, into dst */
static void
fold(char *dst, size_t dstsz, const char *src, size_t width,
    const char *sep)
{
	size_t	i, o = 0, sl = strlen(sep);

	for (i = 0; src[i] != '\0'; i++) {
		if (i > 0 && i % width == 0) {
			if (o + sl >= dstsz)
				abort();
			memcpy(dst + o, sep, sl);
			o += sl;
		}
		if (o + 1 >= dstsz)
			abort();
		dst[o++] = src[i];
	}
	dst[o] = '\0';
}

static int
zeroed(const struct autocrypt_hdr *h)
{
	return h->addr[0] == '\0' && h->prefer_mutual == 0 &&
	    h->keydata == NULL && h->keylen == 0;
}

/* v parses; its key re-encoded is key_b64 */
static void
good_at(const char *v, size_t len, const char *addr, int mutual, int line)
{
	struct autocrypt_hdr	 h;
	const char		*why = NULL;
	char			 enc[1024];
	int			 r;

	r = autocrypt_parse(v, len, &h, &why);
	test_assert_at(r == 0, "parsed", __FILE__, line);
	if (r != 0) {
		test_assert_streq_at(why, "(parsed)", __FILE__, line);
		return;
	}
	test_assert_streq_at(h.addr, addr, __FILE__, line);
	test_assert_at(h.prefer_mutual == mutual, "prefer_mutual", __FILE__,
	    line);
	test_assert_at(h.keylen == KEY_LEN, "keylen", __FILE__, line);
	b64_encode(h.keydata, h.keylen, enc, sizeof(enc));
	test_assert_streq_at(enc, key_b64, __FILE__, line);
	autocrypt_free(&h);
	test_assert_at(zeroed(&h), "freed", __FILE__, line);
}

/* v is invalid for reason */
static void
bad_at(const char *v, size_t len, const char *reason, int line)
{
	struct autocrypt_hdr	 h;
	const char		*why = NULL;

	memset(&h, 0xa5, sizeof(h));
	test_assert_at(autocrypt_parse(v, len, &h, &why) == -1, "invalid",
	    __FILE__, line);
	test_assert_streq_at(why, reason, __FILE__, line);
	test_assert_at(zeroed(&h), "zeroed", __FILE__, line);
	autocrypt_free(&h);
}

/* v parses, its keydata SMALL_KEY */
static void
small_at(const char *v, size_t len, int line)
{
	struct autocrypt_hdr	 h;
	const char		*why = NULL;

	if (autocrypt_parse(v, len, &h, &why) != 0)
		test_assert_streq_at(why, "(parsed)", __FILE__, line);
	test_assert_at(h.keylen == 8, "keylen", __FILE__, line);
	autocrypt_free(&h);
}

#define GOOD(v, a, m)	good_at((v), strlen(v), (a), (m), __LINE__)
#define BAD(v, r)	bad_at((v), strlen(v), (r), __LINE__)
#define BADN(v, r)	bad_at((v), sizeof(v) - 1, (r), __LINE__)
#define SMALL(v)	small_at((v), strlen(v), __LINE__)
/* the smallest key packet: 98 06, version 4, a time, an algorithm */
#define SMALL_KEY	"mAYEAAAAABY="

static void
test_example(void)
{
	char	folded[2048], v[4096];

	test_begin("Level 1's example form, folded with CR LF and LF");
	/* Level 1's example: "keydata=" then the key folded, 76 a line */
	fold(folded, sizeof(folded), key_b64, 76, "\r\n ");
	snprintf(v, sizeof(v), "addr=alice@example.org; prefer-encrypt=mutual;"
	    " keydata=\r\n %s", folded);
	GOOD(v, "alice@example.org", 1);
	/* as a message stored with LF line ends has it; and a tab */
	fold(folded, sizeof(folded), key_b64, 50, "\n\t");
	snprintf(v, sizeof(v), " addr=alice@example.org;\n keydata=%s",
	    folded);
	GOOD(v, "alice@example.org", 0);
	/* whitespace around everything, folds anywhere in keydata */
	fold(folded, sizeof(folded), key_b64, 3, " \r\n \t ");
	snprintf(v, sizeof(v), "\r\n\t addr = alice@example.org \r\n ;"
	    "\tprefer-encrypt\t=\tmutual\t;\r\n keydata\r\n =\r\n %s \r\n ",
	    folded);
	GOOD(v, "alice@example.org", 1);
	/* unfolded, padding split by a fold, a trailing ";" */
	snprintf(v, sizeof(v), "addr=alice@example.org;keydata=%s", key_b64);
	GOOD(v, "alice@example.org", 0);
	snprintf(v, sizeof(v), "addr=alice@example.org;keydata=%.*s=\r\n =",
	    (int)strlen(key_b64) - 2, key_b64);
	GOOD(v, "alice@example.org", 0);
	snprintf(v, sizeof(v), "addr=alice@example.org; keydata=%s;",
	    key_b64);
	GOOD(v, "alice@example.org", 0);
	snprintf(v, sizeof(v), "addr=alice@example.org; keydata=%s ; \r\n ",
	    key_b64);
	GOOD(v, "alice@example.org", 0);
	test_end();
}

static void
test_prefer(void)
{
	static const struct {
		const char	*val;
		int		 mutual;
	} c[] = {
		{ "mutual", 1 }, { " mutual ", 1 }, { "nopreference", 0 },
		{ "Mutual", 0 }, { "MUTUAL", 0 }, { "", 0 }, { "mutual2", 0 },
		{ "mu tual", 0 }, { "\"mutual\"", 0 }, { "yes", 0 },
	};
	char	v[2048];
	size_t	i;

	test_begin("prefer-encrypt: mutual, or anything else no preference");
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		snprintf(v, sizeof(v), "addr=alice@example.org; "
		    "prefer-encrypt=%s; keydata=%s", c[i].val, key_b64);
		GOOD(v, "alice@example.org", c[i].mutual);
	}
	snprintf(v, sizeof(v), "addr=alice@example.org; prefer-encrypt=mutual;"
	    " prefer-encrypt=mutual; keydata=%s", key_b64);
	BAD(v, "prefer-encrypt twice");
	snprintf(v, sizeof(v), "prefer-encrypt=mutual; addr=alice@example.org;"
	    " prefer-encrypt=nopreference; keydata=%s", key_b64);
	BAD(v, "prefer-encrypt twice");
	test_end();
}

static void
test_attributes(void)
{
	char	v[2048];

	test_begin("attributes: critical, non-critical, twice, order, missing");
	snprintf(v, sizeof(v), "addr=alice@example.org; _ignored=x; "
	    "keydata=%s", key_b64);
	GOOD(v, "alice@example.org", 0);
	snprintf(v, sizeof(v), "_a=; _b.c-d=x=y z!; addr=alice@example.org; "
	    "_=; _a=again; prefer-encrypt=mutual; keydata=%s", key_b64);
	GOOD(v, "alice@example.org", 1);
	snprintf(v, sizeof(v), "addr=alice@example.org; type=1; keydata=%s",
	    key_b64);
	BAD(v, "unknown critical attribute");
	snprintf(v, sizeof(v), "addr=alice@example.org; x=; keydata=%s",
	    key_b64);
	BAD(v, "unknown critical attribute");
	/* names are compared exactly */
	snprintf(v, sizeof(v), "Addr=alice@example.org; keydata=%s", key_b64);
	BAD(v, "unknown critical attribute");
	snprintf(v, sizeof(v), "addr=alice@example.org; KeyData=%s", key_b64);
	BAD(v, "unknown critical attribute");
	snprintf(v, sizeof(v), "addr=alice@example.org; addr=alice@example.org;"
	    " keydata=%s", key_b64);
	BAD(v, "addr twice");
	/* Level 1: keydata MUST be the last attribute */
	snprintf(v, sizeof(v), "addr=alice@example.org; keydata=%s; _x=y",
	    key_b64);
	BAD(v, "attribute after keydata");
	snprintf(v, sizeof(v), "keydata=%s; addr=alice@example.org", key_b64);
	BAD(v, "attribute after keydata");
	snprintf(v, sizeof(v), "addr=alice@example.org; keydata=%s; "
	    "keydata=%s", key_b64, key_b64);
	BAD(v, "attribute after keydata");
	snprintf(v, sizeof(v), "addr=alice@example.org; keydata=%s;;",
	    key_b64);
	BAD(v, "attribute after keydata");
	snprintf(v, sizeof(v), "keydata=%s", key_b64);
	BAD(v, "no addr");
	snprintf(v, sizeof(v), "prefer-encrypt=mutual; keydata=%s", key_b64);
	BAD(v, "no addr");
	BAD("addr=alice@example.org", "no keydata");
	BAD("addr=alice@example.org; prefer-encrypt=mutual;", "no keydata");
	BAD("", "empty value");
	BAD(" \t\r\n ", "empty value");
	BAD(";", "empty or unnamed attribute");
	BAD(";;;;;;;;", "empty or unnamed attribute");
	snprintf(v, sizeof(v), "addr=alice@example.org;; keydata=%s",
	    key_b64);
	BAD(v, "empty or unnamed attribute");
	snprintf(v, sizeof(v), "=x; addr=alice@example.org; keydata=%s",
	    key_b64);
	BAD(v, "empty or unnamed attribute");
	snprintf(v, sizeof(v), "addr=alice@example.org; _x; keydata=%s",
	    key_b64);
	BAD(v, "attribute without =value");
	snprintf(v, sizeof(v), "ad dr=alice@example.org; keydata=%s", key_b64);
	BAD(v, "attribute without =value");
	snprintf(v, sizeof(v), "addr:alice@example.org; keydata=%s", key_b64);
	BAD(v, "attribute without =value");
	snprintf(v, sizeof(v), "addr=alice@example.org; _x*=1; keydata=%s",
	    key_b64);
	BAD(v, "attribute without =value");
	test_end();
}

static void
test_base64(void)
{
	char	v[2048], k[700];
	size_t	kl = strlen(key_b64);

	test_begin("keydata: strict base64");
	BAD("addr=alice@example.org; keydata=", "empty keydata");
	BAD("addr=alice@example.org; keydata= \r\n ", "empty keydata");
	BAD("addr=alice@example.org; keydata===", "bad base64 length");
	BAD("addr=alice@example.org; keydata====", "bad base64 padding");
	BAD("addr=alice@example.org; keydata=A===", "bad base64 padding");
	/* a character outside the alphabet, the URL-safe ones too */
	memcpy(k, key_b64, kl + 1);
	k[100] = '*';
	snprintf(v, sizeof(v), "addr=alice@example.org; keydata=%s", k);
	BAD(v, "bad base64 character");
	k[100] = '-';
	snprintf(v, sizeof(v), "addr=alice@example.org; keydata=%s", k);
	BAD(v, "bad base64 character");
	k[100] = '_';
	snprintf(v, sizeof(v), "addr=alice@example.org; keydata=%s", k);
	BAD(v, "bad base64 character");
	k[100] = '.';
	snprintf(v, sizeof(v), "addr=alice@example.org; keydata=%s", k);
	BAD(v, "bad base64 character");
	/* "=" inside, and data after the padding */
	memcpy(k, key_b64, kl + 1);
	k[100] = '=';
	snprintf(v, sizeof(v), "addr=alice@example.org; keydata=%s", k);
	BAD(v, "base64 after padding");
	snprintf(v, sizeof(v), "addr=alice@example.org; keydata=%sAAAA",
	    key_b64);
	BAD(v, "base64 after padding");
	snprintf(v, sizeof(v), "addr=alice@example.org; keydata=%s=",
	    key_b64);
	BAD(v, "bad base64 padding");
	/* the padding left out, or part of it */
	snprintf(v, sizeof(v), "addr=alice@example.org; keydata=%.*s",
	    (int)kl - 2, key_b64);
	BAD(v, "bad base64 length");
	snprintf(v, sizeof(v), "addr=alice@example.org; keydata=%.*s",
	    (int)kl - 1, key_b64);
	BAD(v, "bad base64 length");
	/* a character too many, too few */
	snprintf(v, sizeof(v), "addr=alice@example.org; keydata=A%s", key_b64);
	BAD(v, "bad base64 length");
	snprintf(v, sizeof(v), "addr=alice@example.org; keydata=%s", key_b64 +
	    1);
	BAD(v, "bad base64 length");
	/* "Dw==" is 0x0f; "Dx==" sets bits no octet holds */
	memcpy(k, key_b64, kl + 1);
	k[kl - 3] = 'x';
	snprintf(v, sizeof(v), "addr=alice@example.org; keydata=%s", k);
	BAD(v, "bad base64 padding");
	/* one "=": the last character's low two bits */
	BAD("addr=alice@example.org; keydata=mDM=",
	    "keydata shorter than its first packet");
	BAD("addr=alice@example.org; keydata=mDN=", "bad base64 padding");
	BAD("addr=alice@example.org; keydata=mDO=", "bad base64 padding");
	BAD("addr=alice@example.org; keydata=mDP=", "bad base64 padding");
	/* the smallest key packet: 98 06 04, a time, an algorithm */
	BAD("addr=alice@example.org; keydata=mAYEAAAAABZ=",
	    "bad base64 padding");
	SMALL("addr=alice@example.org; keydata=" SMALL_KEY);
	test_end();
}

/* keydata made of the n octets k, then parsed */
static int
parse_key(const unsigned char *k, size_t n, const char **why)
{
	struct autocrypt_hdr	 h;
	char			 v[1024], enc[700];
	int			 r;

	b64_encode(k, n, enc, sizeof(enc));
	snprintf(v, sizeof(v), "addr=a@example.org; keydata=%s", enc);
	r = autocrypt_parse(v, strlen(v), &h, why);
	if (r == 0 && (h.keylen != n || memcmp(h.keydata, k, n) != 0))
		r = -2;
	autocrypt_free(&h);
	return r;
}

static void
test_packet(void)
{
	/* an ed25519 public key packet's body: version 4, 51 octets */
	static const unsigned char	body[51] = { 0x04, 0x67, 0x74, 0x85,
	    0x80, 0x16, 0x09, 0x2b, 0x06, 0x01, 0x04, 0x01, 0xda, 0x47, 0x0f,
	    0x01, 0x01, 0x07, 0x40 };
	unsigned char			 k[400];
	const char			*why;

	test_begin("keydata starts with an OpenPGP public key packet");
	/* old format: one, two, four length octets */
	k[0] = 0x98; k[1] = 0x33;
	memcpy(k + 2, body, 51);
	test_assert(parse_key(k, 53, &why) == 0);
	k[0] = 0x99; k[1] = 0x00; k[2] = 0x33;
	memcpy(k + 3, body, 51);
	test_assert(parse_key(k, 54, &why) == 0);
	k[0] = 0x9a; k[1] = 0; k[2] = 0; k[3] = 0; k[4] = 0x33;
	memcpy(k + 5, body, 51);
	test_assert(parse_key(k, 56, &why) == 0);
	/* new format: one, two, five length octets */
	k[0] = 0xc6; k[1] = 0x33;
	memcpy(k + 2, body, 51);
	test_assert(parse_key(k, 53, &why) == 0);
	/* packets after the first one are GPGME's business */
	k[53] = 0xcd; k[54] = 0x01; k[55] = 'x';
	test_assert(parse_key(k, 56, &why) == 0);
	k[0] = 0xc6; k[1] = 0xff; k[2] = 0; k[3] = 0; k[4] = 0; k[5] = 0x33;
	memcpy(k + 6, body, 51);
	test_assert(parse_key(k, 57, &why) == 0);
	/* two-octet: 192..8383; 200 = (0xc0 - 192) << 8 + 8 + 192 */
	memset(k, 0, sizeof(k));
	k[0] = 0xc6; k[1] = 0xc0; k[2] = 8;
	memcpy(k + 3, body, 51);
	test_assert(parse_key(k, 203, &why) == 0);
	test_assert(parse_key(k, 202, &why) == -1);
	test_assert_streq(why, "keydata shorter than its first packet");
	/* versions 5 and 6 pass, 3 does not */
	k[3] = 6;
	test_assert(parse_key(k, 203, &why) == 0);
	k[3] = 5;
	test_assert(parse_key(k, 203, &why) == 0);
	k[3] = 3;
	test_assert(parse_key(k, 203, &why) == -1);
	test_assert_streq(why, "keydata: unknown public key version");

	/* the body longer than the data */
	k[0] = 0x98; k[1] = 0x34;
	memcpy(k + 2, body, 51);
	test_assert(parse_key(k, 53, &why) == -1);
	test_assert_streq(why, "keydata shorter than its first packet");
	k[0] = 0x9a; k[1] = 0xff; k[2] = 0xff; k[3] = 0xff; k[4] = 0xff;
	test_assert(parse_key(k, 56, &why) == -1);
	test_assert_streq(why, "keydata shorter than its first packet");
	k[0] = 0xc6; k[1] = 0xff; k[2] = 0x80; k[3] = 0; k[4] = 0; k[5] = 0;
	test_assert(parse_key(k, 57, &why) == -1);
	test_assert_streq(why, "keydata shorter than its first packet");
	/* headers cut short */
	k[0] = 0x99;
	test_assert(parse_key(k, 2, &why) == -1);
	k[0] = 0x9a;
	test_assert(parse_key(k, 4, &why) == -1);
	k[0] = 0xc6; k[1] = 0xc0;
	test_assert(parse_key(k, 2, &why) == -1);
	k[0] = 0xc6; k[1] = 0xff;
	test_assert(parse_key(k, 5, &why) == -1);
	k[0] = 0x98;
	test_assert(parse_key(k, 1, &why) == -1);
	test_assert_streq(why, "keydata is not an OpenPGP public key");

	/* other packets and forms */
	k[1] = 0x33;
	memcpy(k + 2, body, 51);
	k[0] = 0x9b;			/* old format, indeterminate length */
	test_assert(parse_key(k, 53, &why) == -1);
	k[0] = 0x94;			/* old format tag 5, a secret key */
	test_assert(parse_key(k, 53, &why) == -1);
	k[0] = 0xc5;			/* new format tag 5 */
	test_assert(parse_key(k, 53, &why) == -1);
	k[0] = 0xce;			/* new format tag 14, a subkey */
	test_assert(parse_key(k, 53, &why) == -1);
	k[0] = 0x88;			/* old format tag 2, a signature */
	test_assert(parse_key(k, 53, &why) == -1);
	k[0] = 0x18;			/* bit 7 clear */
	test_assert(parse_key(k, 53, &why) == -1);
	test_assert_streq(why, "keydata is not an OpenPGP public key");
	k[0] = 0xc6; k[1] = 0xe0;	/* a partial body length */
	test_assert(parse_key(k, 53, &why) == -1);
	k[1] = 0xfe;
	test_assert(parse_key(k, 53, &why) == -1);
	k[0] = 0x98; k[1] = 5;		/* a body too short to be a key */
	test_assert(parse_key(k, 53, &why) == -1);
	test_assert_streq(why, "keydata is not an OpenPGP public key");
	k[1] = 6;
	test_assert(parse_key(k, 53, &why) == 0);
	/* armor is not binary: "-----BEGIN" fails as base64 anyway */
	test_end();
}

static void
test_limits(void)
{
	struct autocrypt_hdr	 h;
	const char		*why;
	static const char	 head[] = "addr=alice@example.org; keydata=";
	unsigned char		*k;
	size_t			 n, kl, used;
	char			*enc, v[512];

	test_begin("10 KiB, the key, the addr's 254 and 64 octets");
	/* a key of the most octets that fit: header + base64 = MAX */
	n = AUTOCRYPT_VALUE_MAX - (sizeof(head) - 1);
	kl = n / 4 * 3;
	k = calloc(1, kl);
	enc = malloc(n + 8);
	test_assert(k != NULL && enc != NULL);
	k[0] = 0x98; k[1] = 0x33; k[2] = 0x04;
	used = b64_encode(k, kl, enc, n + 8);
	test_assert(used <= n);
	memcpy(big, head, sizeof(head) - 1);
	memcpy(big + sizeof(head) - 1, enc, used);
	/* whitespace to reach the bound exactly */
	memset(big + sizeof(head) - 1 + used, ' ', n - used);
	test_assert(autocrypt_parse(big, AUTOCRYPT_VALUE_MAX, &h, &why) == 0);
	test_assert(h.keylen == kl && h.keylen <= AUTOCRYPT_KEY_MAX);
	autocrypt_free(&h);
	big[AUTOCRYPT_VALUE_MAX] = ' ';
	test_assert(autocrypt_parse(big, AUTOCRYPT_VALUE_MAX + 1, &h,
	    &why) == -1);
	test_assert_streq(why, "value longer than 10 KiB");
	test_assert(zeroed(&h));
	/* an enormous length is refused before a byte is read */
	test_assert(autocrypt_parse(big, (size_t)-1, &h, &why) == -1);
	test_assert_streq(why, "value longer than 10 KiB");
	/* separators, repeated up to the bound */
	memset(big, ';', AUTOCRYPT_VALUE_MAX);
	test_assert(autocrypt_parse(big, AUTOCRYPT_VALUE_MAX, &h, &why) == -1);
	test_assert_streq(why, "empty or unnamed attribute");
	memset(big, '=', AUTOCRYPT_VALUE_MAX);
	test_assert(autocrypt_parse(big, AUTOCRYPT_VALUE_MAX, &h, &why) == -1);
	memcpy(big, "_x=", 3);
	memset(big + 3, ';', AUTOCRYPT_VALUE_MAX - 3);
	test_assert(autocrypt_parse(big, AUTOCRYPT_VALUE_MAX, &h, &why) == -1);
	test_assert_streq(why, "empty or unnamed attribute");
	free(k);
	free(enc);

	/* addr: 254 octets pass, 255 do not */
	memset(v, 0, sizeof(v));
	memcpy(v, "addr=", 5);
	memset(v + 5, 'a', 64);
	v[5 + 64] = '@';
	for (n = 5 + 65; n < 5 + 254; n++)	/* labels of 9 */
		v[n] = (n - 70) % 10 == 9 ? '.' : 'b';
	strlcpy(v + 5 + 254, ";keydata=" SMALL_KEY, sizeof(v) - 5 - 254);
	test_assert(autocrypt_parse(v, strlen(v), &h, &why) == 0);
	test_assert(strlen(h.addr) == AUTOCRYPT_ADDR_MAX);
	autocrypt_free(&h);
	memmove(v + 5 + 255, v + 5 + 254, strlen(v + 5 + 254) + 1);
	v[5 + 254] = 'c';
	test_assert(autocrypt_parse(v, strlen(v), &h, &why) == -1);
	test_assert_streq(why, "addr too long");
	/* a local part of 64 passes, 65 does not */
	snprintf(v, sizeof(v), "addr=%.*s@example.org; keydata=" SMALL_KEY,
	    64, big_a);
	SMALL(v);
	snprintf(v, sizeof(v), "addr=%.*s@example.org; keydata=" SMALL_KEY,
	    65, big_a);
	BAD(v, "addr local part empty or too long");
	/* a label of 63 passes, 64 does not */
	snprintf(v, sizeof(v), "addr=a@x.%.*s.org; keydata=" SMALL_KEY,
	    63, big_a);
	SMALL(v);
	snprintf(v, sizeof(v), "addr=a@x.%.*s.org; keydata=" SMALL_KEY,
	    64, big_a);
	BAD(v, "addr domain not a host name");
	snprintf(v, sizeof(v), "addr=a@%.*s; keydata=" SMALL_KEY, 64, big_a);
	BAD(v, "addr domain not a host name");
	test_end();
}

static void
test_hostile(void)
{
	static const char	nul_addr[] = "addr=alice@exa\0mple.org; "
	    "keydata=" SMALL_KEY;
	static const char	nul_key[] = "addr=alice@example.org; "
	    "keydata=mDMEZ3SF\0gBYJ";
	static const char	nul_end[] = "addr=alice@example.org; "
	    "keydata=" SMALL_KEY "\0";
	static const char	*addrs[] = {
		"alice", "alice@", "@example.org", "alice@@example.org",
		"alice@example.org@x.org", "\"alice\"@example.org",
		"\"a b\"@example.org", "<alice@example.org>",
		"mailto:alice@example.org", "alice@[127.0.0.1]",
		"alice@example.org.", "alice@.example.org",
		"alice@example..org", ".alice@example.org",
		"alice.@example.org", "al..ice@example.org",
		"alice@-example.org", "alice@example-.org",
		"alice@exa_mple.org", "al(ice)@example.org",
		"al,ice@example.org", "al\\ice@example.org",
		"alice @example.org", "al ice@example.org",
		"alice@exa mple.org", "alice@example.org x",
		"al<ice@example.org", "alice@example.org>",
		"alice@ex:ample.org", "alice@example.org,bob@example.org",
	};
	char	v[300];
	size_t	i;

	test_begin("NUL, controls, 8-bit, bare line breaks, addr forms");
	BADN(nul_addr, "NUL in the value");
	BADN(nul_key, "NUL in the value");
	BADN(nul_end, "NUL in the value");
	BAD("addr=alice@ex\xc3\xa4mple.org; keydata=" SMALL_KEY,
	    "octet outside printable ASCII");
	BAD("addr=j\xc3\xb6rg@example.org; keydata=" SMALL_KEY,
	    "octet outside printable ASCII");
	BAD("addr=alice@example.org; _x=\xff; keydata=" SMALL_KEY,
	    "octet outside printable ASCII");
	BAD("addr=alice@example.org; keydata=mDMEZ3SF\x1bgBYJ",
	    "octet outside printable ASCII");
	BAD("addr=alice@example.org; keydata=mDMEZ3SF\x7fgBYJ",
	    "octet outside printable ASCII");
	BAD("addr=alice@example.org; keydata=mDMEZ3SF\vgBYJ",
	    "octet outside printable ASCII");
	BAD("addr=alice@example.org; keydata=mDMEZ3SF\fgBYJ",
	    "octet outside printable ASCII");
	/* a line break that is not a fold: header injection */
	BAD("addr=alice@example.org; keydata=mDMEZ3SF\rgBYJ",
	    "line break that is not a fold");
	BAD("addr=alice@example.org; keydata=mDMEZ3SF\ngBYJ",
	    "line break that is not a fold");
	BAD("addr=alice@example.org; keydata=mDMEZ3SF\r\ngBYJ",
	    "line break that is not a fold");
	BAD("addr=alice@example.org; keydata=mDMEZ3SF\r\rgBYJ",
	    "line break that is not a fold");
	BAD("addr=alice@example.org; keydata=mDMEZ3SF\n\r gBYJ",
	    "line break that is not a fold");
	BAD("addr=alice@example.org; keydata=" SMALL_KEY "\r\n",
	    "line break that is not a fold");
	BAD("addr=alice@example.org; keydata=" SMALL_KEY "\r",
	    "line break that is not a fold");
	BAD("addr=alice@example.org\r\nBcc: x@y; keydata=" SMALL_KEY,
	    "line break that is not a fold");
	for (i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		struct autocrypt_hdr	 h;
		const char		*why = NULL;

		snprintf(v, sizeof(v), "addr=%s; keydata=" SMALL_KEY,
		    addrs[i]);
		test_assert(autocrypt_parse(v, strlen(v), &h, &why) == -1);
		test_assert(why != NULL && strncmp(why, "addr", 4) == 0);
		if (why == NULL || strncmp(why, "addr", 4) != 0)
			printf("# %s: %s\n", addrs[i], why ? why : "parsed");
		test_assert(zeroed(&h));
	}
	/* atext and host names that pass */
	snprintf(v, sizeof(v), "addr=A.b+tag!#$%%&'*/=?^_`{|}~-@Sub-1.Example."
	    "ORG; keydata=" SMALL_KEY);
	SMALL(v);
	SMALL("addr=a@localhost; keydata=" SMALL_KEY);
	SMALL("addr=a@1.2.3.4; keydata=" SMALL_KEY);
	SMALL("addr=1@xn--bcher-kva.example; keydata=" SMALL_KEY);
	test_assert(autocrypt_parse(NULL, 0, &(struct autocrypt_hdr){ 0 },
	    &(const char *){ NULL }) == -1);
	autocrypt_free(NULL);
	test_end();
}

static void
test_addr_matches(void)
{
	struct autocrypt_hdr	 h;
	const char		*why;
	char			 v[1024];

	test_begin("addr against From: ASCII case ignored, nothing else");
	snprintf(v, sizeof(v), "addr=Alice.Smith@Example.org; keydata=%s",
	    key_b64);
	test_assert(autocrypt_parse(v, strlen(v), &h, &why) == 0);
	test_assert(autocrypt_addr_matches(&h, "Alice.Smith@Example.org"));
	test_assert(autocrypt_addr_matches(&h, "alice.smith@example.org"));
	test_assert(autocrypt_addr_matches(&h, "ALICE.SMITH@EXAMPLE.ORG"));
	test_assert(autocrypt_addr_matches(&h, "aLICE.sMITH@eXAMPLE.oRG"));
	test_assert(!autocrypt_addr_matches(&h, "alice.smith@example.or"));
	test_assert(!autocrypt_addr_matches(&h, "alice.smith@example.org."));
	test_assert(!autocrypt_addr_matches(&h, "malice.smith@example.org"));
	test_assert(!autocrypt_addr_matches(&h, "lice.smith@example.org"));
	test_assert(!autocrypt_addr_matches(&h,
	    "alice.smith@example.org.evil.test"));
	test_assert(!autocrypt_addr_matches(&h, "alicesmith@example.org"));
	test_assert(!autocrypt_addr_matches(&h, "<alice.smith@example.org>"));
	test_assert(!autocrypt_addr_matches(&h, " alice.smith@example.org"));
	test_assert(!autocrypt_addr_matches(&h, "bob@example.org"));
	test_assert(!autocrypt_addr_matches(&h, ""));
	test_assert(!autocrypt_addr_matches(&h, NULL));
	/* no Unicode folding: K (U+212A KELVIN SIGN) is not k */
	test_assert(!autocrypt_addr_matches(&h,
	    "alice.smith@example.org\xe2\x84\xaa"));
	test_assert(!autocrypt_addr_matches(&h, "\xc3\x81lice.smith@"
	    "example.org"));
	/* "@" and "`" are "A" and "a" less 1: no arithmetic folding */
	test_assert(!autocrypt_addr_matches(&h, "Alice.Smith`Example.org"));
	autocrypt_free(&h);
	test_assert(!autocrypt_addr_matches(&h, ""));
	test_assert(!autocrypt_addr_matches(&h, "alice.smith@example.org"));
	test_assert(!autocrypt_addr_matches(NULL, "alice.smith@example.org"));
	test_end();
}

static void
test_pick(void)
{
	struct autocrypt_hdr	 h;
	const char		*vals[AUTOCRYPT_PICK_MAX + 1], *why = NULL;
	size_t			 lens[AUTOCRYPT_PICK_MAX + 1], i;
	char			 a[1024], b[1024], c[1024], d[1024];

	test_begin("the one header of a message");
	snprintf(a, sizeof(a), "addr=alice@example.org; keydata=%s", key_b64);
	snprintf(b, sizeof(b), "addr=alice@example.org; prefer-encrypt=mutual;"
	    " keydata=%s", key_b64);
	snprintf(c, sizeof(c), "addr=alice@example.org; level=2; keydata=%s",
	    key_b64);
	snprintf(d, sizeof(d), "addr=mallory@example.org; keydata=%s",
	    key_b64);

	vals[0] = b;
	lens[0] = strlen(b);
	test_assert(autocrypt_pick(vals, lens, 1, "Alice@Example.ORG", &h,
	    &why) == 0);
	test_assert_streq(h.addr, "alice@example.org");
	test_assert(h.prefer_mutual == 1 && h.keylen == KEY_LEN);
	autocrypt_free(&h);
	/* two valid headers, even identical: neither */
	vals[1] = a;
	lens[1] = strlen(a);
	test_assert(autocrypt_pick(vals, lens, 2, "alice@example.org", &h,
	    &why) == -1);
	test_assert_streq(why, "more than one valid Autocrypt header");
	test_assert(zeroed(&h));
	vals[1] = b;
	lens[1] = strlen(b);
	test_assert(autocrypt_pick(vals, lens, 2, "alice@example.org", &h,
	    &why) == -1);
	test_assert_streq(why, "more than one valid Autocrypt header");
	test_assert(zeroed(&h));
	/* with invalid ones around: the valid one (Level 1's rule) */
	vals[0] = c;
	lens[0] = strlen(c);
	vals[1] = d;
	lens[1] = strlen(d);
	vals[2] = a;
	lens[2] = strlen(a);
	vals[3] = "garbage";
	lens[3] = 7;
	test_assert(autocrypt_pick(vals, lens, 4, "alice@example.org", &h,
	    &why) == 2);
	test_assert(h.prefer_mutual == 0 && h.keylen == KEY_LEN);
	autocrypt_free(&h);
	vals[3] = b;
	lens[3] = strlen(b);
	test_assert(autocrypt_pick(vals, lens, 4, "alice@example.org", &h,
	    &why) == -1);
	test_assert_streq(why, "more than one valid Autocrypt header");
	test_assert(zeroed(&h));
	/* none valid: the first reason */
	test_assert(autocrypt_pick(vals, lens, 2, "alice@example.org", &h,
	    &why) == -1);
	test_assert_streq(why, "unknown critical attribute");
	test_assert(autocrypt_pick(vals + 1, lens + 1, 1, "alice@example.org",
	    &h, &why) == -1);
	test_assert_streq(why, "addr is not the From address");
	test_assert(zeroed(&h));
	test_assert(autocrypt_pick(vals + 1, lens + 1, 1, "mallory@example.org",
	    &h, &why) == 0);
	autocrypt_free(&h);
	test_assert(autocrypt_pick(vals, lens, 0, "alice@example.org", &h,
	    &why) == -1);
	test_assert_streq(why, "no Autocrypt header");
	/* AUTOCRYPT_PICK_MAX headers are looked at, one more is refused */
	for (i = 0; i < AUTOCRYPT_PICK_MAX + 1; i++) {
		vals[i] = "x=y";
		lens[i] = 3;
	}
	vals[AUTOCRYPT_PICK_MAX - 1] = a;
	lens[AUTOCRYPT_PICK_MAX - 1] = strlen(a);
	test_assert(autocrypt_pick(vals, lens, AUTOCRYPT_PICK_MAX,
	    "alice@example.org", &h, &why) == AUTOCRYPT_PICK_MAX - 1);
	autocrypt_free(&h);
	test_assert(autocrypt_pick(vals, lens, AUTOCRYPT_PICK_MAX + 1,
	    "alice@example.org", &h, &why) == -1);
	test_assert_streq(why, "too many Autocrypt headers");
	test_assert(zeroed(&h));
	test_end();
}

int
main(void)
{
	static void (*tests[])(void) = { test_example, test_prefer,
	    test_attributes, test_base64, test_packet, test_limits,
	    test_hostile, test_addr_matches, test_pick, NULL };

	return test_run(tests);
}
