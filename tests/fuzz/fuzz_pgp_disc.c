/* SPDX-License-Identifier: ISC */
/*
 * fuzz_pgp_disc.c - libFuzzer target for the index of learnt keys
 * (pgp/pgp_disc.c; the pgp service reads it at every start): any bytes
 * parse, bad lines skipped; what parses formats to text that parses to
 * the same entries with nothing skipped, and formats again byte for byte;
 * every entry's address passes pgp_address_ok, its fingerprint is empty
 * or 40 hex digits.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pgp_disc.h"
#include "pgp_keys.h"
#include "banned.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct disc	 d, e;
	char		*t1, *t2;
	size_t		 skipped, len1, len2, i;

	memset(&d, 0, sizeof(d));
	memset(&e, 0, sizeof(e));
	if (size > 1 << 20)
		return 0;
	disc_parse(&d, (const char *)data, size, &skipped);
	for (i = 0; i < d.n; i++)
		if (!pgp_address_ok(d.ent[i].addr) ||
		    (d.ent[i].fpr[0] != '\0' && !pgp_fpr_ok(d.ent[i].fpr)))
			abort();
	t1 = disc_format(&d, &len1);
	disc_parse(&e, t1, len1, &skipped);
	if (skipped != 0 || e.n != d.n)
		abort();
	t2 = disc_format(&e, &len2);
	if (len1 != len2 || memcmp(t1, t2, len1) != 0)
		abort();
	free(t1);
	free(t2);
	disc_free(&d);
	disc_free(&e);
	return 0;
}
