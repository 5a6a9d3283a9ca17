/* SPDX-License-Identifier: ISC */
/*
 * imap_mbname.c - whether a mailbox name a client asks to create is one
 * we keep (imap_mbname.h).  No I/O; fuzzed (tests/fuzz/fuzz_imap_mbname.c).
 *
 * Trust: the name is the client's, decoded to UTF-8 by mb_name_arg and
 * NUL-terminated, at most INDEX_NAME_MAX + 1 bytes; read once, left to
 * right.
 */
#include "config.h"

#include <string.h>

#include "index.h"
#include "mutf7.h"
#include "imap_mbname.h"
#include "banned.h"

/*
 * A name a client may create: 1..INDEX_NAME_MAX bytes of UTF-8 text (no
 * control), no LIST wildcard, components ("/" between them) neither
 * empty nor "." nor "..".  NULL, or why not.
 */
const char *
imap_mbname_bad(const char *name)
{
	const char	*p, *comp = name;
	size_t		 n, len = strlen(name);

	if (len == 0 || len > INDEX_NAME_MAX)
		return "Invalid mailbox name length";
	if (!utf8_valid_text(name, len))
		return "Mailbox names are UTF-8 text without controls";
	if (name[len - 1] == '/')
		return "Invalid hierarchy in the name";
	for (p = name; *p != '\0'; p++) {
		if (*p == '*' || *p == '%')
			return "Mailbox names cannot hold * or %";
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
