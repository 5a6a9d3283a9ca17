/* SPDX-License-Identifier: ISC */
/*
 * fuzz_imap_seqset.c - libFuzzer target for IMAP sequence sets: any
 * bytes parse or fail; a parsed set is sorted, disjoint, not adjacent,
 * within 1..2^32-1, and has no more ranges than items.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imap_seqset.h"
#include "banned.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imap_seqset	 set;
	const char		*err;
	char			*copy;
	uint32_t		 star;
	size_t			 i, items = 1;

	if (size < 4)
		return 0;
	memcpy(&star, data, 4);
	copy = malloc(size - 4 + 1);
	memcpy(copy, data + 4, size - 4);
	for (i = 0; i < size - 4; i++)
		items += copy[i] == ',';
	if (imap_seqset_parse(copy, size - 4, star, &set, &err) == 0) {
		if (set.n > items)
			abort();
		for (i = 0; i < set.n; i++) {
			if (set.r[i].lo == 0 || set.r[i].lo > set.r[i].hi)
				abort();
			if (i > 0 && (uint64_t)set.r[i - 1].hi + 1 >=
			    set.r[i].lo)
				abort();
			if (!imap_seqset_has(&set, set.r[i].lo) ||
			    !imap_seqset_has(&set, set.r[i].hi))
				abort();
		}
		imap_seqset_free(&set);
	}
	free(copy);
	return 0;
}
