/* SPDX-License-Identifier: ISC */
/*
 * fuzz_imap_section.c - libFuzzer target for the FETCH section items
 * (imap_section.c).  Invariants: a known status, an error text exactly on
 * -1; on 1 the part is digits and single dots, the names are upper-case
 * ftext, a partial counts at least 1, the echo is NUL-terminated and,
 * with the partial written back, parses to the same item; and the
 * HEADER.FIELDS filter, given the input as a header, never writes past
 * its buffer and reports the same length with a buffer too short.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imap_section.h"
#include "log.h"
#include "banned.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imap_section	 sec, again;
	const char		*err;
	char			 item[IMAP_SEC_ECHO_MAX + 32], *out;
	size_t			 i, j, n, m;
	int			 r;

	r = imap_section_parse((const char *)data, size, &sec, &err);
	SP_ASSERT(r == -1 || r == 0 || r == 1);
	SP_ASSERT((r == -1) == (err != NULL));
	if (r != 1)
		return 0;
	SP_ASSERT(memchr(sec.echo, '\0', sizeof(sec.echo)) != NULL);
	for (i = 0; sec.part[i] != '\0'; i++)
		SP_ASSERT((sec.part[i] >= '0' && sec.part[i] <= '9') ||
		    (sec.part[i] == '.' && i > 0 && sec.part[i + 1] != '.'));
	SP_ASSERT(sec.nnames <= IMAP_SEC_NAMES_MAX);
	for (i = 0; i < sec.nnames; i++)
		for (j = 0; sec.names[i][j] != '\0'; j++)
			SP_ASSERT(sec.names[i][j] > 32 && sec.names[i][j] < 127 &&
			    sec.names[i][j] != ':' &&
			    !(sec.names[i][j] >= 'a' && sec.names[i][j] <= 'z'));
	SP_ASSERT(!sec.partial || sec.count >= 1);
	/* the echo (a BODY or BINARY item, with its partial) parses again */
	if (strncmp(sec.echo, "RFC822", 6) != 0) {
		n = (size_t)snprintf(item, sizeof(item), "%s", sec.echo);
		if (sec.peek && sec.att != IMAP_ATT_BINARY_SIZE) {
			/* BODY[ -> BODY.PEEK[ (BINARY likewise) */
			char	*lb = strchr(item, '[');

			memmove(lb + 5, lb, strlen(lb) + 1);
			memcpy(lb, ".PEEK", 5);
			n += 5;
		}
		if (sec.partial)
			n += (size_t)snprintf(item + n, sizeof(item) - n,
			    "<%u.%u>", sec.origin, sec.count);
		SP_ASSERT(imap_section_parse(item, n, &again, &err) == 1);
		SP_ASSERT(again.att == sec.att && again.peek == sec.peek &&
		    again.text == sec.text && again.nnames == sec.nnames &&
		    again.partial == sec.partial &&
		    again.origin == sec.origin && again.count == sec.count &&
		    strcmp(again.part, sec.part) == 0 &&
		    strcmp(again.echo, sec.echo) == 0);
	}
	if (sec.nnames > 0) {
		out = malloc(size + 2);
		n = imap_section_fields(&sec, (const char *)data, size, out,
		    size + 2);
		SP_ASSERT(n <= size + 2);
		m = imap_section_fields(&sec, (const char *)data, size, out,
		    n / 2);
		SP_ASSERT(m == n);
		free(out);
	}
	return 0;
}
