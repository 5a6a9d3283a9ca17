/* SPDX-License-Identifier: ISC */
/*
 * imap_mbname.c - whether a mailbox name a client asks to create is one
 * we keep (imap_mbname.h).  No I/O; fuzzed (tests/fuzz/fuzz_imap_mbname.c).
 *
 * Trust: the name is the client's, NUL-terminated and at most
 * INDEX_NAME_MAX + 1 bytes (mb_astring); read once, left to right.
 */
#include "config.h"

#include <stdbool.h>
#include <string.h>

#include "index.h"
#include "imap_mbname.h"
#include "banned.h"

/* RFC 3501 5.1.3: modified BASE64 of UTF-16, "," for "/". */
static bool
mbn_b64(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '+' || c == ',';
}

/*
 * A name a client may create: 1..INDEX_NAME_MAX printable 7-bit bytes,
 * no LIST wildcard, well-formed modified UTF-7, components neither empty
 * nor "." nor "..".  NULL, or why not.
 */
const char *
imap_mbname_bad(const char *name)
{
	const char	*p, *comp = name;
	size_t		 n, len = strlen(name);

	if (len == 0 || len > INDEX_NAME_MAX)
		return "Invalid mailbox name length";
	if (name[len - 1] == '/')
		return "Invalid hierarchy in the name";
	for (p = name; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			return "Mailbox names are 7-bit (modified UTF-7)";
		if (*p == '*' || *p == '%')
			return "Mailbox names cannot hold * or %";
		if (*p == '&') {
			/* "&-" is "&"; else base64, then "-" */
			for (n = 0, p++; mbn_b64(*p); p++)
				n++;
			if (*p != '-' || n == 1 || (n > 0 && n % 8 != 0 &&
			    n % 8 != 3 && n % 8 != 6))
				return "Invalid modified UTF-7 in the name";
		}
		if (*p == '/' || p[1] == '\0') {
			n = (size_t)(p - comp) + (*p == '/' ? 0 : 1);
			if (n == 0 || (n == 1 && comp[0] == '.') ||
			    (n == 2 && comp[0] == '.' && comp[1] == '.'))
				return "Invalid hierarchy in the name";
			comp = p + 1;
		}
	}
	return NULL;
}
