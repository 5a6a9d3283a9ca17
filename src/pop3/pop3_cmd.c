/* SPDX-License-Identifier: ISC */
/*
 * pop3_cmd.c - the POP3 command line parser (pop3_cmd.h).
 *
 * Process:  pop3-login and pop3-mail.
 * Trust:    the line is the client's: its length is checked before any
 *           byte is looked at, then every byte, every argument's length
 *           and every number's range.  SECURITY: the password is never
 *           copied and nothing here is logged; on failure no pointer into
 *           the line is left in the result.
 * Limits:   POP3_CMD_LINE_MAX, POP3_CMD_ARG_MAX.
 * See also: pop3_login.c, tests/unit/test_pop3_cmd.c.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "pop3_cmd.h"
#include "banned.h"

#define POP3_KEYWORD_MAX	4	/* RFC 1939 3: 3 or 4 characters */
#define POP3_ARGS_MAX		2	/* APOP, AUTH and TOP take two */

/* Argument flags of a verb. */
#define A_REST		0x01	/* one argument: the rest of the line (PASS) */
#define A_8BIT		0x02	/* arguments may hold 8-bit bytes (USER) */
#define A_MSG		0x04	/* the first argument is a message number */
#define A_LINES		0x08	/* the second argument is a line count (TOP) */
#define A_LONG2		0x10	/* the second one may fill the line (AUTH) */
#define A_LONG1		0x20	/* the first one may fill the line (USER: an
				   address reaches 254 octets, RFC 5321) */

struct pop3_verb_def {
	const char	*name;		/* upper case */
	enum pop3_verb	 verb;
	unsigned int	 amin, amax;	/* how many arguments */
	unsigned int	 flags;
};

static const struct pop3_verb_def pop3_verbs[] = {
	{ "USER", POP3_USER, 1, 1, A_8BIT | A_LONG1 },
	{ "PASS", POP3_PASS, 1, 1, A_REST | A_8BIT },
	{ "APOP", POP3_APOP, 2, 2, 0 },
	/* RFC 5034 4: a bare AUTH is allowed (the caller lists mechanisms) */
	{ "AUTH", POP3_AUTH, 0, 2, A_LONG2 },
	{ "STLS", POP3_STLS, 0, 0, 0 },
	{ "CAPA", POP3_CAPA, 0, 0, 0 },
	{ "QUIT", POP3_QUIT, 0, 0, 0 },
	{ "STAT", POP3_STAT, 0, 0, 0 },
	{ "LIST", POP3_LIST, 0, 1, A_MSG },
	{ "RETR", POP3_RETR, 1, 1, A_MSG },
	{ "DELE", POP3_DELE, 1, 1, A_MSG },
	{ "NOOP", POP3_NOOP, 0, 0, 0 },
	{ "RSET", POP3_RSET, 0, 0, 0 },
	{ "TOP", POP3_TOP, 2, 2, A_MSG | A_LINES },
	{ "UIDL", POP3_UIDL, 0, 1, A_MSG },
};

/*
 * The verb named by the n-byte keyword at s, ASCII letters in any case
 * (our own folding: no locale may make an 8-bit byte a letter).
 */
static const struct pop3_verb_def *
pop3_verb_find(const char *s, size_t n)
{
	size_t		i, j;
	const char	*name;
	char		 c;

	for (i = 0; i < sizeof(pop3_verbs) / sizeof(pop3_verbs[0]); i++) {
		name = pop3_verbs[i].name;
		if (strlen(name) != n)
			continue;
		for (j = 0; j < n; j++) {
			c = s[j];
			if (c >= 'a' && c <= 'z')
				c = (char)(c - 'a' + 'A');
			if (c != name[j])
				break;
		}
		if (j == n)
			return &pop3_verbs[i];
	}
	return NULL;
}

/*
 * A decimal number of n bytes at s, within min..UINT32_MAX: digits only,
 * no sign, no leading zero (one spelling per number).
 */
static int
pop3_number(const char *s, size_t n, uint32_t min, uint32_t *v)
{
	uint32_t	r = 0, d;
	size_t		i;

	if (n == 0 || (s[0] == '0' && n > 1))
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		d = (uint32_t)(s[i] - '0');
		if (r > (UINT32_MAX - d) / 10)	/* before multiplying */
			return -1;
		r = r * 10 + d;
	}
	if (r < min)
		return -1;
	*v = r;
	return 0;
}

static int
pop3_fail(struct pop3_cmd *cmd, const char *err, const char **err_r)
{
	enum pop3_verb	verb = cmd->verb;

	/* SECURITY: no pointer into a refused line (a password) is left. */
	memset(cmd, 0, sizeof(*cmd));
	cmd->verb = verb;
	*err_r = err;
	return -1;
}

int
pop3_cmd_parse(const char *line, size_t len, struct pop3_cmd *cmd,
    const char **err_r)
{
	const struct pop3_verb_def	*def;
	const char			*arg[POP3_ARGS_MAX];
	size_t				 arglen[POP3_ARGS_MAX];
	size_t				 i, klen, start, nargs;
	unsigned char			 c;

	memset(cmd, 0, sizeof(*cmd));
	cmd->verb = POP3_UNKNOWN;

	/* The keyword first, so that a refused PASS line is known as one. */
	for (klen = 0; klen < len && klen <= POP3_KEYWORD_MAX &&
	    line[klen] != ' '; klen++)
		;
	def = klen <= POP3_KEYWORD_MAX ? pop3_verb_find(line, klen) : NULL;
	if (def != NULL)
		cmd->verb = def->verb;

	if (len > POP3_CMD_LINE_MAX - 2)	/* RFC 2449 4: CRLF not here */
		return pop3_fail(cmd, "Line too long", err_r);
	for (i = 0; i < len; i++) {
		c = (unsigned char)line[i];
		if (c < 0x20 || c == 0x7f)	/* NUL, CR, LF, controls */
			return pop3_fail(cmd, "Invalid character in command",
			    err_r);
	}
	if (len == 0)
		return pop3_fail(cmd, "Empty command", err_r);
	if (def == NULL)
		return pop3_fail(cmd, "Unknown command", err_r);

	/* Split the arguments, each after exactly one space. */
	nargs = 0;
	for (start = klen; start < len; start = i) {
		start++;			/* the space */
		if (def->flags & A_REST) {
			/* RFC 1939 7: spaces may be part of the password. */
			i = len;
		} else {
			for (i = start; i < len && line[i] != ' '; i++)
				;
		}
		if (i == start || nargs == POP3_ARGS_MAX)
			return pop3_fail(cmd, "Invalid arguments", err_r);
		arg[nargs] = line + start;
		arglen[nargs] = i - start;
		nargs++;
	}
	if (nargs < def->amin || nargs > def->amax)
		return pop3_fail(cmd, "Invalid arguments", err_r);

	for (i = 0; i < nargs; i++) {
		size_t	j;

		/*
		 * RFC 1939 3: 40 characters; the password and a SASL
		 * initial response are bounded by the line alone.
		 */
		if (arglen[i] > POP3_CMD_ARG_MAX && !(def->flags & A_REST) &&
		    !(i == 1 && (def->flags & A_LONG2)) &&
		    !(i == 0 && (def->flags & A_LONG1)))
			return pop3_fail(cmd, "Argument too long", err_r);
		/* UTF-8 user names and passwords; nothing else is 8-bit. */
		if (def->flags & A_8BIT)
			continue;
		for (j = 0; j < arglen[i]; j++)
			if ((unsigned char)arg[i][j] >= 0x80)
				return pop3_fail(cmd,
				    "Invalid character in command", err_r);
	}

	if ((def->flags & A_MSG) && nargs >= 1) {
		if (pop3_number(arg[0], arglen[0], 1, &cmd->n1) == -1)
			return pop3_fail(cmd, "Invalid message number", err_r);
		cmd->has_n1 = true;
		if ((def->flags & A_LINES) && nargs >= 2) {
			if (pop3_number(arg[1], arglen[1], 0, &cmd->n2) == -1)
				return pop3_fail(cmd, "Invalid number of lines",
				    err_r);
			cmd->has_n2 = true;
		}
		return 0;
	}
	if (nargs >= 1) {
		cmd->arg = arg[0];
		cmd->arglen = arglen[0];
	}
	if (nargs >= 2) {
		cmd->arg2 = arg[1];
		cmd->arg2len = arglen[1];
	}
	return 0;
}
