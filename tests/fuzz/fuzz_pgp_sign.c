/* SPDX-License-Identifier: ISC */
/*
 * fuzz_pgp_sign.c - libFuzzer target for the multipart/signed made of a
 * hostile message (pgp/pgp_sign.c).  The signature is a constant (no
 * gpg in a fuzzer): what is tested is our MIME around it.
 *
 * The input is a message.  It is refused (-1: an empty result, a
 * printable reason), left alone (1: an empty result), or signed (0): the
 * result declares multipart/signed with our micalg, the bytes the signer
 * was given follow its first delimiter line, and from them on it is
 * 7-bit without NUL in CR LF lines (the message's own header fields
 * before them are kept as they were).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "mta_7bit.h"
#include "pgp_sign.h"
#include "banned.h"

#define FUZZ_MAX_INPUT	(256 * 1024)
#define FUZZ_MAX_OUTPUT	(4 * 1024 * 1024)

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct buf	*signed_copy;	/* what the signer was given */

static int
fuzz_sign(void *arg, const unsigned char *data, size_t len,
    struct buf *sig, char *micalg, size_t micalglen, char *err,
    size_t errlen)
{
	static const char	s[] = "-----BEGIN PGP SIGNATURE-----\n\n"
	    "iHUEABYIAB0WIQQ=\n-----END PGP SIGNATURE-----\n";

	(void)arg;
	(void)err;
	(void)errlen;
	buf_reset(signed_copy);
	SP_ASSERT(buf_add(signed_copy, data, len) == 0);
	strlcpy(micalg, "pgp-sha256", micalglen);
	return buf_add(sig, s, sizeof(s) - 1);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int		 ready;
	struct pgp_signer	 signer = { fuzz_sign, NULL };
	struct buf		*out;
	const uint8_t		*p;
	char			 err[256];
	size_t			 i;
	int			 r;

	if (!ready) {
		mta_7bit_init();
		signed_copy = buf_new(FUZZ_MAX_OUTPUT);
		ready = 1;
	}
	if (size > FUZZ_MAX_INPUT)
		return 0;
	out = buf_new(FUZZ_MAX_OUTPUT);
	buf_reset(signed_copy);
	r = pgp_sign_mime(&signer, data, size, out, err, sizeof(err));
	SP_ASSERT(r >= -1 && r <= 1);
	if (r != 0) {
		SP_ASSERT(out->len == 0);
		if (r == -1)
			SP_ASSERT(err[0] != '\0' && strlen(err) < sizeof(err));
		buf_free(&out);
		return 0;
	}
	SP_ASSERT(memmem(out->data, out->len, "multipart/signed", 16) != NULL);
	SP_ASSERT(memmem(out->data, out->len, "micalg=pgp-sha256", 17) !=
	    NULL);
	/* the signed bytes, whole, right after the first delimiter line */
	SP_ASSERT(signed_copy->len > 0);
	p = memmem(out->data, out->len, "\r\n\r\nThis is an OpenPGP/MIME "
	    "signed message", 39);
	SP_ASSERT(p != NULL);
	p = memmem(p, out->len - (size_t)(p - out->data), "\r\n--=-sp-", 9);
	SP_ASSERT(p != NULL);
	p = memchr(p + 2, '\n', out->len - (size_t)(p + 2 - out->data));
	SP_ASSERT(p != NULL);
	p++;
	SP_ASSERT((size_t)(out->data + out->len - p) > signed_copy->len &&
	    memcmp(p, signed_copy->data, signed_copy->len) == 0);
	/*
	 * From there on (the message's own header fields before it are
	 * copied as they are, 8-bit or not): 7-bit, CR LF.
	 */
	for (i = (size_t)(p - out->data); i < out->len; i++) {
		SP_ASSERT(out->data[i] != '\0' && out->data[i] < 0x80);
		if (out->data[i] == '\n')
			SP_ASSERT(i > 0 && out->data[i - 1] == '\r');
		if (out->data[i] == '\r')
			SP_ASSERT(i + 1 < out->len && out->data[i + 1] == '\n');
	}
	buf_free(&out);
	return 0;
}
