/* SPDX-License-Identifier: ISC */
/*
 * fuzz_mutf7.c - libFuzzer target for modified UTF-7 mailbox names
 * to and from UTF-8 (mutf7.c).  The input, up to its first NUL, is
 * tried both ways.  Invariants: a decoded name is printable US-ASCII
 * that decodes to valid UTF-8 of at most len + len / 8 bytes, and
 * encodes back to exactly itself (one spelling per name); a name
 * encodes exactly when utf8_valid_text() takes it, to printable US-ASCII
 * of at most 5 * len / 2 bytes that decodes back to it; a success needs
 * exactly length + 1 bytes of output (heap buffers of that size and one
 * less, so that ASan sees any byte past them); a refusal leaves "".
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mutf7.h"
#include "banned.h"

#define FUZZ_MUTF7_MAX	1024

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Every byte printable US-ASCII. */
static void
check_ascii(const char *s)
{
	for (; *s != '\0'; s++)
		SP_ASSERT(*s >= 0x20 && *s <= 0x7e);
}

/*
 * fn(in) gave the n-byte want: n + 1 bytes of output take it exactly,
 * n bytes refuse it with "".
 */
static void
check_fit(int (*fn)(const char *, char *, size_t), const char *in,
    const char *want, size_t n)
{
	char	*out;

	out = malloc(n + 1);
	SP_ASSERT(out != NULL);
	SP_ASSERT(fn(in, out, n + 1) == (int)n);
	SP_ASSERT(strcmp(out, want) == 0);
	free(out);
	if (n == 0)
		return;
	out = malloc(n);
	SP_ASSERT(out != NULL);
	SP_ASSERT(fn(in, out, n) == -1);
	SP_ASSERT(out[0] == '\0');
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*x, *dec, *enc, *back;
	size_t	 len, declen, enclen;
	int	 n, m;

	if (size > FUZZ_MUTF7_MAX)
		return 0;
	x = malloc(size + 1);
	SP_ASSERT(x != NULL);
	memcpy(x, data, size);
	x[size] = '\0';
	len = strlen(x);
	declen = len + len / 8 + 1;
	enclen = 5 * len / 2 + 1;
	dec = malloc(declen);
	enc = malloc(enclen);
	back = malloc(enclen > declen ? enclen : declen);
	SP_ASSERT(dec != NULL && enc != NULL && back != NULL);

	/* x as modified UTF-7: canonical, so it comes back as itself */
	n = mutf7_to_utf8(x, dec, declen);
	if (n == -1)
		SP_ASSERT(dec[0] == '\0');
	else {
		check_ascii(x);
		SP_ASSERT((size_t)n == strlen(dec) && (size_t)n < declen);
		SP_ASSERT(utf8_valid_text(dec, (size_t)n) == 1);
		SP_ASSERT(utf8_to_mutf7(dec, back, len + 1) == (int)len);
		SP_ASSERT(strcmp(back, x) == 0);
		check_fit(mutf7_to_utf8, x, dec, (size_t)n);
	}

	/* x as UTF-8: encodes when valid, and decodes back */
	m = utf8_to_mutf7(x, enc, enclen);
	SP_ASSERT((m != -1) == (utf8_valid_text(x, len) == 1));
	if (m == -1)
		SP_ASSERT(enc[0] == '\0');
	else {
		SP_ASSERT((size_t)m == strlen(enc) && (size_t)m < enclen);
		SP_ASSERT(len <= (size_t)m + (size_t)m / 8);
		check_ascii(enc);
		SP_ASSERT(mutf7_to_utf8(enc, back, len + 1) ==
		    (int)len);
		SP_ASSERT(strcmp(back, x) == 0);
		check_fit(utf8_to_mutf7, x, enc, (size_t)m);
	}
	free(back);
	free(enc);
	free(dec);
	free(x);
	return 0;
}
