/* SPDX-License-Identifier: ISC */
/*
 * fuzz_imap_mbname.c - libFuzzer target for the mailbox names CREATE and
 * RENAME accept (imap_mbname.c).  Invariants, checked independently: an
 * accepted name is 1..INDEX_NAME_MAX bytes without a byte below 0x20,
 * DEL, "*" or "%", encodes as modified UTF-7 (so it is UTF-8 text) and
 * decodes back to itself, neither starts nor ends with "/", and has no
 * empty, "." or ".." component; a refusal has a reason.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "index.h"
#include "imap_mbname.h"
#include "mutf7.h"
#include "banned.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*why;
	char		*name, *comp, *p;
	size_t		 i;

	if (size > INDEX_NAME_MAX + 1)
		return 0;
	name = malloc(size + 1);
	memcpy(name, data, size);
	name[size] = '\0';
	if ((why = imap_mbname_bad(name)) != NULL) {
		SP_ASSERT(why[0] != '\0');
		free(name);
		return 0;
	}
	size = strlen(name);
	SP_ASSERT(size >= 1 && size <= INDEX_NAME_MAX);
	SP_ASSERT(name[0] != '/' && name[size - 1] != '/');
	for (i = 0; i < size; i++) {
		SP_ASSERT((unsigned char)name[i] >= 0x20 && name[i] != 0x7f);
		SP_ASSERT(name[i] != '*' && name[i] != '%');
	}
	{
		char	wire[3 * INDEX_NAME_MAX + 1], back[INDEX_NAME_MAX + 1];

		SP_ASSERT(utf8_to_mutf7(name, wire, sizeof(wire)) > 0);
		SP_ASSERT(mutf7_to_utf8(wire, back, sizeof(back)) ==
		    (int)size && strcmp(back, name) == 0);
	}
	for (comp = name; comp != NULL; comp = p != NULL ? p + 1 : NULL) {
		p = strchr(comp, '/');
		i = p != NULL ? (size_t)(p - comp) : strlen(comp);
		SP_ASSERT(i > 0);
		SP_ASSERT(!(i == 1 && comp[0] == '.'));
		SP_ASSERT(!(i == 2 && comp[0] == '.' && comp[1] == '.'));
	}
	free(name);
	return 0;
}
