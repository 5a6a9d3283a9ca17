/* SPDX-License-Identifier: ISC */
/*
 * pop3_cmd.h - the POP3 command line parser (RFC 1939 3, RFC 2449 CAPA,
 * RFC 2595 STLS, RFC 5034 AUTH with an initial response), for pop3-login
 * (AUTHORIZATION state) and pop3-mail (TRANSACTION state).  Which verbs
 * are legal in which state is the caller's business.  No I/O, no
 * logging; fuzzed (tests/fuzz/fuzz_pop3_cmd.c).
 *
 * Trust: the line is the client's (hostile).  Everything in struct
 * pop3_cmd has been checked; string arguments point into the caller's
 * line and are never copied (the caller wipes a PASS line).
 */
#ifndef SP_POP3_CMD_H
#define SP_POP3_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define POP3_CMD_LINE_MAX	255	/* RFC 2449 4: CRLF included */
#define POP3_CMD_ARG_MAX	40	/* RFC 1939 3: octets of one argument */

enum pop3_verb {
	POP3_USER, POP3_PASS, POP3_APOP, POP3_AUTH, POP3_STLS, POP3_CAPA,
	POP3_QUIT, POP3_STAT, POP3_LIST, POP3_RETR, POP3_DELE, POP3_NOOP,
	POP3_RSET, POP3_TOP, POP3_UIDL, POP3_UNKNOWN
};

struct pop3_cmd {
	enum pop3_verb	 verb;
	/* message number(s): LIST n, RETR n, DELE n, UIDL n, TOP n lines */
	uint32_t	 n1, n2;
	bool		 has_n1, has_n2;
	/* USER name, PASS secret, APOP name, AUTH mechanism: in the line */
	const char	*arg;
	size_t		 arglen;
	/* AUTH's initial response ("=": an empty one), APOP's digest */
	const char	*arg2;
	size_t		 arg2len;
};

/*
 * Parse one command line of len bytes, without its CRLF (line may be NULL
 * when len is 0).  Untrusted input; nothing is copied, logged or kept.
 *
 * The keyword is 3 or 4 ASCII letters in any case, then arguments each
 * after a single space:
 *	USER name		name: 1..POP3_CMD_ARG_MAX octets, 8-bit allowed
 *	PASS secret		the rest of the line after "PASS ", as is:
 *				spaces (leading, inner, trailing) and 8-bit
 *				allowed (RFC 1939 7), not empty
 *	APOP name digest	(parsed so that it can be refused politely)
 *	AUTH [mech [ir]]	ir: up to the line limit, "=" kept as is
 *	LIST [msg]  UIDL [msg]  RETR msg  DELE msg  TOP msg lines
 *	STLS CAPA QUIT STAT NOOP RSET
 * Other arguments are at most POP3_CMD_ARG_MAX octets of printable
 * US-ASCII.  msg is 1..4294967295 and lines 0..4294967295, in decimal
 * digits without sign and without leading zeros ("0" alone is a line
 * count).  Refused anywhere: a line over POP3_CMD_LINE_MAX - 2 octets,
 * NUL, CR, LF, any other control byte or DEL (also in PASS), an empty
 * argument (two spaces in a row) and a trailing space, except in PASS,
 * where they are part of the password.
 *
 * 0: *cmd is filled; arg and arg2 point into line (NULL and 0 when the
 * verb has none), has_n1/has_n2 say which numbers were given (a number not
 * given is 0).  -1: *err_r is a static text for "-ERR text", one of
 * "Line too long", "Invalid character in command", "Empty command",
 * "Unknown command", "Invalid arguments" (how many, an empty one, a
 * trailing space), "Argument too long", "Invalid message number",
 * "Invalid number of lines"; cmd->arg and cmd->arg2 are NULL, the
 * numbers 0, and cmd->verb is still the keyword's verb when the keyword
 * is known (POP3_UNKNOWN otherwise), so that a caller can tell a refused
 * PASS or AUTH line from others.
 */
int	pop3_cmd_parse(const char *line, size_t len, struct pop3_cmd *cmd,
	    const char **err_r);

#endif
