/* SPDX-License-Identifier: ISC */
/*
 * fuzz_imap_login.c - libFuzzer target for the IMAP command-line parsers
 * that exist today (F2): the tag/command split and LOGIN's arguments.  Any
 * input gives 0 or an error; on 0 every value is NUL-terminated, holds no
 * NUL, CR or LF, and fits its buffer.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imap_parse.h"
#include "log.h"
#include "banned.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		 user[64], pass[32], tag[IMAP_TAG_MAX + 1], *line;
	const char	*cmd, *rest;
	size_t		 clen;

	if ((line = malloc(size + 1)) == NULL)
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';
	if (imap_parse_tag(line, size, tag, sizeof(tag), &cmd, &clen,
	    &rest) == 0) {
		SP_ASSERT(strlen(tag) > 0 && strlen(tag) <= IMAP_TAG_MAX);
		SP_ASSERT(cmd > line && cmd + clen <= line + size && clen > 0);
		SP_ASSERT(rest == cmd + clen);
	}
	free(line);
	if (imap_parse_login((const char *)data, size, user, sizeof(user),
	    pass, sizeof(pass)) != 0)
		return 0;
	SP_ASSERT(strlen(user) < sizeof(user) && strlen(pass) < sizeof(pass));
	SP_ASSERT(strpbrk(user, "\r\n") == NULL && strpbrk(pass, "\r\n") ==
	    NULL);
	return 0;
}
