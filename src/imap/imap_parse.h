/* SPDX-License-Identifier: ISC */
/*
 * imap_parse.h - pure parsers for IMAP command arguments (no I/O).
 */
#ifndef SP_IMAP_PARSE_H
#define SP_IMAP_PARSE_H

#include <stddef.h>

#define IMAP_PARSE_BAD		-1	/* syntax */
#define IMAP_PARSE_TOOLONG	-2	/* a value does not fit its buffer */

/*
 * Read one astring (RFC 3501 9: an atom of ASTRING-CHARs, or a quoted
 * string with \\ and \" escapes) at *p, which must not run past end.
 * Literals are not taken here.  The value goes to out (NUL-terminated);
 * *p moves past it.  0, IMAP_PARSE_BAD or IMAP_PARSE_TOOLONG.
 */
int	imap_parse_astring(const char **p, const char *end, char *out,
	    size_t outlen);
#define IMAP_TAG_MAX		64

/*
 * Split "tag SP command[ SP args]" (RFC 3501 9: tag = 1*<ASTRING-CHAR
 * except "+">).  The tag (at most IMAP_TAG_MAX) goes to tag; *cmd_r and
 * *cmdlen_r name the command word, *rest_r what follows it (" args" or
 * "").  line must be NUL-terminated at len.  0 or IMAP_PARSE_BAD.
 */
int	imap_parse_tag(const char *line, size_t len, char *tag, size_t taglen,
	    const char **cmd_r, size_t *cmdlen_r, const char **rest_r);
/*
 * The arguments of LOGIN: " userid password" and nothing after
 * (RFC 3501 6.2.3).  args is untrusted and need not be NUL-terminated.
 */
int	imap_parse_login(const char *args, size_t len, char *user,
	    size_t ulen, char *pass, size_t plen);

#endif
