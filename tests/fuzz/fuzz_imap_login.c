/* SPDX-License-Identifier: ISC */
/*
 * fuzz_imap_login.c - libFuzzer target for the IMAP LOGIN argument parser
 * (F2, the part that exists today): any input gives 0 or an error; on 0
 * both values are NUL-terminated, hold no NUL, CR or LF, and fit.
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
	char	user[64], pass[32];

	if (imap_parse_login((const char *)data, size, user, sizeof(user),
	    pass, sizeof(pass)) != 0)
		return 0;
	SP_ASSERT(strlen(user) < sizeof(user) && strlen(pass) < sizeof(pass));
	SP_ASSERT(strpbrk(user, "\r\n") == NULL && strpbrk(pass, "\r\n") ==
	    NULL);
	return 0;
}
