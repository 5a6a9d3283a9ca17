/* SPDX-License-Identifier: ISC */
/*
 * fuzz_downgrade.c - libFuzzer target for the 7-bit header block
 * (store/downgrade.c), what a mail process makes of a message's header
 * for a client without UTF8=ACCEPT.
 *
 * The input is a header block.  Any may be refused (-1); 0 only for a
 * 7-bit input, with the out pointer untouched; 1 with a block that is
 * 7-bit, holds no NUL and no CR outside CRLF, no line over 998 bytes, an
 * empty line only as its last line and only when the input ended with
 * one, no longer than DOWNGRADE_MAX_OUTPUT, and that a second pass leaves
 * alone (0).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "downgrade.h"
#include "banned.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Does the block end with an empty line (the end of a header)? */
static int
fuzz_ends_blank(const uint8_t *p, size_t n)
{
	return (n == 1 && p[0] == '\n') ||
	    (n >= 2 && p[n - 1] == '\n' && p[n - 2] == '\n') ||
	    (n == 2 && p[0] == '\r' && p[1] == '\n') ||
	    (n >= 3 && p[n - 1] == '\n' && p[n - 2] == '\r' &&
	    p[n - 3] == '\n');
}

static void
fuzz_check(const uint8_t *in, size_t inlen, const struct buf *b)
{
	const uint8_t	*p = b->data;
	size_t		 n = b->len, i, ls = 0, ll;
	struct buf	*again = (struct buf *)0x1;

	SP_ASSERT(n <= DOWNGRADE_MAX_OUTPUT);
	for (i = 0; i < n; i++) {
		SP_ASSERT(p[i] != '\0' && p[i] < 0x80);
		SP_ASSERT(p[i] != '\r' || (i + 1 < n && p[i + 1] == '\n'));
		if (p[i] != '\n')
			continue;
		ll = i - ls;
		if (ll > 0 && p[i - 1] == '\r')
			ll--;
		SP_ASSERT(ll <= 998);
		/* an empty line ends the block */
		if (ll == 0)
			SP_ASSERT(i + 1 == n);
		ls = i + 1;
	}
	SP_ASSERT(n - ls <= 998);
	SP_ASSERT(fuzz_ends_blank(p, n) == fuzz_ends_blank(in, inlen));
	SP_ASSERT(downgrade_header((const char *)p, n, &again) == 0);
	SP_ASSERT(again == (struct buf *)0x1);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf	*b = NULL;
	size_t		 i;
	int		 r;

	r = downgrade_header((const char *)data, size, &b);
	SP_ASSERT(r >= -1 && r <= 1);
	if (r == 1) {
		SP_ASSERT(b != NULL);
		fuzz_check(data, size, b);
		buf_free(&b);
		return 0;
	}
	SP_ASSERT(b == NULL);
	if (r == 0)
		for (i = 0; i < size; i++)
			SP_ASSERT(data[i] < 0x80);
	return 0;
}
