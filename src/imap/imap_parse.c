/* SPDX-License-Identifier: ISC */
/*
 * imap_parse.c - pure parsers for IMAP command arguments.  The full IMAP
 * grammar comes with the IMAP issue; today this is what LOGIN needs.
 *
 * Process:  imap-login (before login: every byte is hostile).
 * Trust:    input is bounded by the caller's line limit and by explicit
 *           end pointers; output by the caller's buffer sizes.  No NUL,
 *           CR, LF or 8-bit byte is accepted in a value.
 * See also: tests/unit/test_imap_parse.c, tests/fuzz/fuzz_imap_login.c.
 */
#include "config.h"

#include <string.h>

#include "imap_parse.h"
#include "banned.h"

/* RFC 3501 9: ATOM-CHAR plus resp-specials ("]"). */
static int
imap_astring_char(unsigned char c)
{
	if (c <= 0x20 || c >= 0x7f)
		return 0;
	return strchr("(){%*\"\\", c) == NULL;
}

static int
imap_tag_char(unsigned char c)
{
	return c != '+' && imap_astring_char(c);
}

int
imap_parse_tag(const char *line, size_t len, char *tag, size_t taglen,
    const char **cmd_r, size_t *cmdlen_r, const char **rest_r)
{
	const char	*cmd;
	size_t		 tlen, clen;

	for (tlen = 0; tlen < len && line[tlen] != ' '; tlen++)
		if (!imap_tag_char((unsigned char)line[tlen]))
			return IMAP_PARSE_BAD;
	if (tlen == 0 || tlen > IMAP_TAG_MAX || tlen >= taglen ||
	    tlen == len)
		return IMAP_PARSE_BAD;
	memcpy(tag, line, tlen);
	tag[tlen] = '\0';
	cmd = line + tlen + 1;
	for (clen = 0; cmd + clen < line + len && cmd[clen] != ' '; clen++)
		;
	if (clen == 0)
		return IMAP_PARSE_BAD;
	*cmd_r = cmd;
	*cmdlen_r = clen;
	*rest_r = cmd + clen;
	return 0;
}

int
imap_parse_astring(const char **pp, const char *end, char *out, size_t outlen)
{
	const char	*p = *pp;
	size_t		 o = 0;

	if (outlen == 0 || p >= end)
		return IMAP_PARSE_BAD;
	if (*p == '"') {
		for (p++; ; p++) {
			unsigned char	c;

			if (p >= end)
				return IMAP_PARSE_BAD;	/* unterminated */
			c = (unsigned char)*p;
			if (c == '"')
				break;
			if (c == '\\') {
				if (++p >= end || (*p != '\\' && *p != '"'))
					return IMAP_PARSE_BAD;
				c = (unsigned char)*p;
			} else if (c == 0 || c == '\r' || c == '\n' ||
			    c >= 0x80)
				return IMAP_PARSE_BAD;
			if (o + 1 >= outlen)
				return IMAP_PARSE_TOOLONG;
			out[o++] = (char)c;
		}
		p++;	/* the closing quote */
	} else {
		while (p < end && imap_astring_char((unsigned char)*p)) {
			if (o + 1 >= outlen)
				return IMAP_PARSE_TOOLONG;
			out[o++] = *p++;
		}
		if (o == 0)
			return IMAP_PARSE_BAD;
	}
	out[o] = '\0';
	*pp = p;
	return 0;
}

int
imap_parse_login(const char *args, size_t len, char *user, size_t ulen,
    char *pass, size_t plen)
{
	const char	*p = args, *end = args + len;
	int		 r;

	if (p >= end || *p++ != ' ')
		return IMAP_PARSE_BAD;
	if ((r = imap_parse_astring(&p, end, user, ulen)) != 0)
		return r;
	if (p >= end || *p++ != ' ')
		return IMAP_PARSE_BAD;
	if ((r = imap_parse_astring(&p, end, pass, plen)) != 0)
		return r;
	return p == end ? 0 : IMAP_PARSE_BAD;
}
