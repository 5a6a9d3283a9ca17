/* SPDX-License-Identifier: ISC */
/*
 * fuzz_pop3_cmd.c - libFuzzer target for the POP3 command line parser
 * (pop3_cmd.c).  The input is one line, copied to a buffer of exactly its
 * size so that ASan sees a read past it.  Invariants, checked here without
 * the parser's help:
 *  - success: the line is within POP3_CMD_LINE_MAX - 2 octets and free of
 *    control bytes; the verb is known and the line starts with its name
 *    in some case; has_n1/has_n2 fit the verb's arity and the numbers
 *    their range (0 when not given); arg/arg2 point inside the line, are
 *    not empty, hold no NUL/CR/LF, and are within POP3_CMD_ARG_MAX
 *    octets except PASS and AUTH's initial response; no 8-bit byte
 *    outside USER and PASS; and the line is rebuilt exactly from the
 *    verb, the numbers in decimal and the arguments (one spelling per
 *    command: single spaces, no leading zeros, PASS as is);
 *  - failure: the error text is not empty, nothing points into the line,
 *    the numbers are 0, and an unknown keyword leaves POP3_UNKNOWN;
 *  - the same line parses the same way twice.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pop3_cmd.h"
#include "banned.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char *const fuzz_names[] = {
	"USER", "PASS", "APOP", "AUTH", "STLS", "CAPA", "QUIT", "STAT",
	"LIST", "RETR", "DELE", "NOOP", "RSET", "TOP", "UIDL",
};

/* s is within the n-byte line and its len bytes are all inside it. */
static void
check_inside(const char *s, size_t len, const char *line, size_t n)
{
	size_t	i;

	SP_ASSERT(s != NULL && len > 0);
	SP_ASSERT(s >= line && s < line + n);
	SP_ASSERT(len <= n - (size_t)(s - line));
	for (i = 0; i < len; i++)
		SP_ASSERT(s[i] != '\0' && s[i] != '\r' && s[i] != '\n');
}

/* Append len bytes to the rebuilt line. */
static void
put(char *out, size_t *off, size_t cap, const char *s, size_t len)
{
	SP_ASSERT(len <= cap - *off);
	memcpy(out + *off, s, len);
	*off += len;
}

static void
check_ok(const struct pop3_cmd *cmd, const char *line, size_t n)
{
	char		 out[2 * POP3_CMD_LINE_MAX], num[16];
	const char	*name;
	size_t		 i, off = 0, nlen;
	int		 k;
	bool		 msg, eight;

	SP_ASSERT(n <= POP3_CMD_LINE_MAX - 2);
	for (i = 0; i < n; i++)
		SP_ASSERT((unsigned char)line[i] >= 0x20 &&
		    (unsigned char)line[i] != 0x7f);
	SP_ASSERT(cmd->verb >= POP3_USER && cmd->verb < POP3_UNKNOWN);
	name = fuzz_names[cmd->verb];
	nlen = strlen(name);
	SP_ASSERT(n >= nlen);
	for (i = 0; i < nlen; i++)
		SP_ASSERT((line[i] & ~0x20) == name[i]);

	/* the numbers: which verbs have them, and their ranges */
	msg = cmd->verb == POP3_LIST || cmd->verb == POP3_UIDL ||
	    cmd->verb == POP3_RETR || cmd->verb == POP3_DELE ||
	    cmd->verb == POP3_TOP;
	if (!msg)
		SP_ASSERT(!cmd->has_n1);
	if (cmd->verb == POP3_RETR || cmd->verb == POP3_DELE ||
	    cmd->verb == POP3_TOP)
		SP_ASSERT(cmd->has_n1);
	SP_ASSERT(cmd->has_n2 == (cmd->verb == POP3_TOP));
	SP_ASSERT(cmd->has_n1 ? cmd->n1 >= 1 : cmd->n1 == 0);
	if (!cmd->has_n2)
		SP_ASSERT(cmd->n2 == 0);

	/* the strings: which verbs have them, where, how long */
	switch (cmd->verb) {
	case POP3_USER:
	case POP3_PASS:
		SP_ASSERT(cmd->arg != NULL && cmd->arg2 == NULL);
		break;
	case POP3_APOP:
		SP_ASSERT(cmd->arg != NULL && cmd->arg2 != NULL);
		break;
	case POP3_AUTH:
		SP_ASSERT(cmd->arg != NULL || cmd->arg2 == NULL);
		break;
	default:
		SP_ASSERT(cmd->arg == NULL && cmd->arg2 == NULL);
		break;
	}
	if (cmd->arg == NULL)
		SP_ASSERT(cmd->arglen == 0);
	else {
		check_inside(cmd->arg, cmd->arglen, line, n);
		/* an address as USER may fill the line (RFC 5321 4.5.3.1.3) */
		if (cmd->verb != POP3_PASS && cmd->verb != POP3_USER)
			SP_ASSERT(cmd->arglen <= POP3_CMD_ARG_MAX);
	}
	if (cmd->arg2 == NULL)
		SP_ASSERT(cmd->arg2len == 0);
	else {
		check_inside(cmd->arg2, cmd->arg2len, line, n);
		SP_ASSERT(cmd->arg2 > cmd->arg + cmd->arglen);
		if (cmd->verb != POP3_AUTH)
			SP_ASSERT(cmd->arg2len <= POP3_CMD_ARG_MAX);
	}
	eight = cmd->verb == POP3_USER || cmd->verb == POP3_PASS;
	for (i = 0; !eight && i < n; i++)
		SP_ASSERT((unsigned char)line[i] < 0x80);
	if (cmd->verb != POP3_PASS)
		for (i = 0; i < cmd->arglen; i++)
			SP_ASSERT(cmd->arg[i] != ' ');
	for (i = 0; i < cmd->arg2len; i++)
		SP_ASSERT(cmd->arg2[i] != ' ');

	/* the line again, from the result alone */
	put(out, &off, sizeof(out), line, nlen);	/* the keyword's case */
	if (cmd->has_n1) {
		k = snprintf(num, sizeof(num), " %u", cmd->n1);
		SP_ASSERT(k > 0 && (size_t)k < sizeof(num));
		put(out, &off, sizeof(out), num, (size_t)k);
	}
	if (cmd->has_n2) {
		k = snprintf(num, sizeof(num), " %u", cmd->n2);
		SP_ASSERT(k > 0 && (size_t)k < sizeof(num));
		put(out, &off, sizeof(out), num, (size_t)k);
	}
	if (cmd->arg != NULL) {
		put(out, &off, sizeof(out), " ", 1);
		put(out, &off, sizeof(out), cmd->arg, cmd->arglen);
	}
	if (cmd->arg2 != NULL) {
		put(out, &off, sizeof(out), " ", 1);
		put(out, &off, sizeof(out), cmd->arg2, cmd->arg2len);
	}
	SP_ASSERT(off == n && memcmp(out, line, n) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pop3_cmd	 cmd, again;
	const char	*err = NULL, *err2 = NULL;
	char		*line;
	int		 rv;

	if ((line = malloc(size > 0 ? size : 1)) == NULL)
		return 0;
	if (size > 0)
		memcpy(line, data, size);
	rv = pop3_cmd_parse(line, size, &cmd, &err);
	SP_ASSERT(rv == 0 || rv == -1);
	if (rv == 0)
		check_ok(&cmd, line, size);
	else {
		SP_ASSERT(err != NULL && err[0] != '\0');
		SP_ASSERT(cmd.arg == NULL && cmd.arg2 == NULL &&
		    cmd.arglen == 0 && cmd.arg2len == 0);
		SP_ASSERT(!cmd.has_n1 && !cmd.has_n2 && cmd.n1 == 0 &&
		    cmd.n2 == 0);
		SP_ASSERT(cmd.verb >= POP3_USER && cmd.verb <= POP3_UNKNOWN);
		if (strcmp(err, "Unknown command") == 0)
			SP_ASSERT(cmd.verb == POP3_UNKNOWN);
	}
	SP_ASSERT(pop3_cmd_parse(line, size, &again, &err2) == rv);
	SP_ASSERT(again.verb == cmd.verb && again.n1 == cmd.n1 &&
	    again.n2 == cmd.n2 && again.has_n1 == cmd.has_n1 &&
	    again.has_n2 == cmd.has_n2 && again.arg == cmd.arg &&
	    again.arglen == cmd.arglen && again.arg2 == cmd.arg2 &&
	    again.arg2len == cmd.arg2len);
	SP_ASSERT(rv == 0 || strcmp(err, err2) == 0);
	free(line);
	return 0;
}
