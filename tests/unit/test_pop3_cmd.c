/* SPDX-License-Identifier: ISC */
/*
 * test_pop3_cmd.c - the POP3 command line parser (pop3_cmd.c): every verb
 * with the right and the wrong number of arguments, keywords in any case,
 * numbers at their edges, PASS taken as is, AUTH with and without an
 * initial response, the line and argument limits exactly at and one over,
 * and every byte that is refused.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "pop3_cmd.h"
#include "test.h"
#include "banned.h"

static struct pop3_cmd	cmd;
static const char	*err;
static char		 line[1024];

static int
P(const char *s)
{
	err = NULL;
	return pop3_cmd_parse(s, strlen(s), &cmd, &err);
}

/* With an explicit length: for NUL bytes. */
static int
PN(const char *s, size_t len)
{
	err = NULL;
	return pop3_cmd_parse(s, len, &cmd, &err);
}

/* Refused with this error text, and nothing left pointing into the line. */
static int
refused(const char *s, const char *why)
{
	return P(s) == -1 && err != NULL && strcmp(err, why) == 0 &&
	    cmd.arg == NULL && cmd.arg2 == NULL && cmd.arglen == 0 &&
	    cmd.arg2len == 0 && !cmd.has_n1 && !cmd.has_n2 && cmd.n1 == 0 &&
	    cmd.n2 == 0;
}

/* The string argument is exactly want, pointing into line s. */
static int
arg_is(const char *s, const char *want)
{
	return cmd.arg != NULL && cmd.arg >= s && cmd.arg < s + strlen(s) &&
	    cmd.arglen == strlen(want) &&
	    memcmp(cmd.arg, want, cmd.arglen) == 0;
}

static int
arg2_is(const char *s, const char *want)
{
	return cmd.arg2 != NULL && cmd.arg2 >= s &&
	    cmd.arg2 < s + strlen(s) && cmd.arg2len == strlen(want) &&
	    memcmp(cmd.arg2, want, cmd.arg2len) == 0;
}

/* No argument of any kind. */
static int
bare(void)
{
	return cmd.arg == NULL && cmd.arg2 == NULL && !cmd.has_n1 &&
	    !cmd.has_n2 && cmd.n1 == 0 && cmd.n2 == 0;
}

/* A line of n copies of c after prefix. */
static const char *
fill(const char *prefix, char c, size_t n)
{
	size_t	p = strlen(prefix);

	if (p + n >= sizeof(line))
		return "";
	memcpy(line, prefix, p);
	memset(line + p, c, n);
	line[p + n] = '\0';
	return line;
}

static void
test_bare_verbs(void)
{
	static const struct {
		const char	*name;
		enum pop3_verb	 verb;
	} v[] = {
		{ "STLS", POP3_STLS }, { "CAPA", POP3_CAPA },
		{ "QUIT", POP3_QUIT }, { "STAT", POP3_STAT },
		{ "NOOP", POP3_NOOP }, { "RSET", POP3_RSET },
	};
	size_t	i;
	char	s[32];

	test_begin("pop3 cmd: verbs without arguments, and with one");
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		test_assert(P(v[i].name) == 0 && cmd.verb == v[i].verb &&
		    bare());
		(void)snprintf(s, sizeof(s), "%s x", v[i].name);
		test_assert(refused(s, "Invalid arguments") &&
		    cmd.verb == v[i].verb);
		(void)snprintf(s, sizeof(s), "%s 1", v[i].name);
		test_assert(refused(s, "Invalid arguments"));
		/* a trailing space is refused outside PASS */
		(void)snprintf(s, sizeof(s), "%s ", v[i].name);
		test_assert(refused(s, "Invalid arguments"));
	}
	test_end();
}

static void
test_case(void)
{
	test_begin("pop3 cmd: keywords in any case");
	test_assert(P("quit") == 0 && cmd.verb == POP3_QUIT);
	test_assert(P("QuIt") == 0 && cmd.verb == POP3_QUIT);
	test_assert(P("stls") == 0 && cmd.verb == POP3_STLS);
	test_assert(P("top 1 2") == 0 && cmd.verb == POP3_TOP);
	test_assert(P("ToP 1 2") == 0 && cmd.verb == POP3_TOP);
	test_assert(P("user Bob") == 0 && cmd.verb == POP3_USER &&
	    arg_is("user Bob", "Bob"));
	test_assert(P("uidl") == 0 && cmd.verb == POP3_UIDL);
	test_assert(P("Auth plain") == 0 && cmd.verb == POP3_AUTH);
	test_end();
}

static void
test_unknown(void)
{
	test_begin("pop3 cmd: unknown keywords, empty line, long keyword");
	test_assert(refused("XYZZY", "Unknown command") &&
	    cmd.verb == POP3_UNKNOWN);
	test_assert(refused("HELO", "Unknown command") &&
	    cmd.verb == POP3_UNKNOWN);
	test_assert(refused("QUITX", "Unknown command") &&
	    cmd.verb == POP3_UNKNOWN);
	test_assert(refused("QUITQUITQUIT", "Unknown command"));
	test_assert(refused("USERNAME bob", "Unknown command"));
	test_assert(refused("QU", "Unknown command"));
	test_assert(refused("TO 1 2", "Unknown command"));
	test_assert(refused(" QUIT", "Unknown command"));
	test_assert(refused("X", "Unknown command"));
	test_assert(refused("Q\xc3\x9cIT", "Unknown command"));
	test_assert(refused("\xc3\x9cSER bob", "Unknown command"));
	test_assert(refused("", "Empty command") &&
	    cmd.verb == POP3_UNKNOWN);
	test_assert(PN(NULL, 0) == -1 && strcmp(err, "Empty command") == 0);
	test_assert(refused(" ", "Unknown command"));
	test_end();
}

static void
test_user(void)
{
	const char	*s;

	test_begin("pop3 cmd: USER");
	s = "USER demo@example.test";
	test_assert(P(s) == 0 && cmd.verb == POP3_USER &&
	    arg_is(s, "demo@example.test") && cmd.arg2 == NULL &&
	    !cmd.has_n1);
	/* 8-bit user names (UTF-8) */
	s = "USER j\xc3\xbcrgen@example.test";
	test_assert(P(s) == 0 && arg_is(s, "j\xc3\xbcrgen@example.test"));
	test_assert(refused("USER", "Invalid arguments") &&
	    cmd.verb == POP3_USER);
	test_assert(refused("USER ", "Invalid arguments"));
	test_assert(refused("USER a b", "Invalid arguments"));
	test_assert(refused("USER  bob", "Invalid arguments"));
	test_assert(refused("USER bob ", "Invalid arguments"));
	/* RFC 1939 3 says 40 octets; an address may be 254 (RFC 5321
	 * 4.5.3.1.3), and RFC 2449's 255-octet line holds it */
	s = fill("USER ", 'u', 40);
	test_assert(P(s) == 0 && cmd.arglen == 40 && cmd.arg == s + 5);
	s = fill("USER ", 'u', 248);
	test_assert(P(s) == 0 && cmd.arglen == 248);
	test_assert(refused(fill("USER ", 'u', 249), "Line too long"));
	test_end();
}

static void
test_pass(void)
{
	const char	*s;

	test_begin("pop3 cmd: PASS takes the rest of the line as is");
	s = "PASS secret";
	test_assert(P(s) == 0 && cmd.verb == POP3_PASS &&
	    arg_is(s, "secret") && cmd.arg == s + 5 && cmd.arg2 == NULL);
	s = "pass correct horse battery staple";
	test_assert(P(s) == 0 && arg_is(s, "correct horse battery staple"));
	/* leading, doubled and trailing spaces belong to the password */
	s = "PASS  two  spaces ";
	test_assert(P(s) == 0 && arg_is(s, " two  spaces "));
	s = "PASS  ";
	test_assert(P(s) == 0 && arg_is(s, " "));
	s = "PASS p\xc3\xa4ss w\xc3\xb6rd \xff";
	test_assert(P(s) == 0 && arg_is(s, "p\xc3\xa4ss w\xc3\xb6rd \xff"));
	test_assert(refused("PASS", "Invalid arguments") &&
	    cmd.verb == POP3_PASS);
	test_assert(refused("PASS ", "Invalid arguments") &&
	    cmd.verb == POP3_PASS);
	/* the password may be longer than 40 octets, up to the line limit */
	s = fill("PASS ", 'p', POP3_CMD_LINE_MAX - 2 - 5);
	test_assert(P(s) == 0 && cmd.arglen == POP3_CMD_LINE_MAX - 2 - 5);
	test_assert(refused(fill("PASS ", 'p', POP3_CMD_LINE_MAX - 2 - 4),
	    "Line too long") && cmd.verb == POP3_PASS);
	/* controls are refused in passwords too, and nothing points in */
	test_assert(refused("PASS sec\tret", "Invalid character in command") &&
	    cmd.verb == POP3_PASS);
	test_assert(PN("PASS sec\0ret", 12) == -1 && cmd.arg == NULL &&
	    cmd.verb == POP3_PASS &&
	    strcmp(err, "Invalid character in command") == 0);
	test_end();
}

static void
test_apop(void)
{
	const char	*s;

	test_begin("pop3 cmd: APOP parsed");
	s = "APOP mrose c4c9334bac560ecc979e58001b3e22fb";
	test_assert(P(s) == 0 && cmd.verb == POP3_APOP &&
	    arg_is(s, "mrose") &&
	    arg2_is(s, "c4c9334bac560ecc979e58001b3e22fb"));
	test_assert(refused("APOP", "Invalid arguments") &&
	    cmd.verb == POP3_APOP);
	test_assert(refused("APOP mrose", "Invalid arguments"));
	test_assert(refused("APOP a b c", "Invalid arguments"));
	test_assert(refused("APOP a  b", "Invalid arguments"));
	test_assert(refused(fill("APOP a ", 'f', 41), "Argument too long"));
	test_assert(refused("APOP \xc3\xbc b", "Invalid character in command"));
	test_end();
}

static void
test_auth(void)
{
	const char	*s;
	size_t		 n;

	test_begin("pop3 cmd: AUTH, with and without an initial response");
	test_assert(P("AUTH") == 0 && cmd.verb == POP3_AUTH && bare());
	s = "AUTH PLAIN";
	test_assert(P(s) == 0 && arg_is(s, "PLAIN") && cmd.arg2 == NULL);
	s = "AUTH PLAIN AGRlbW8Ac2VjcmV0";
	test_assert(P(s) == 0 && arg_is(s, "PLAIN") &&
	    arg2_is(s, "AGRlbW8Ac2VjcmV0"));
	/* RFC 5034 4: "=" is an empty initial response, kept as is */
	s = "AUTH PLAIN =";
	test_assert(P(s) == 0 && arg_is(s, "PLAIN") && arg2_is(s, "="));
	s = "auth x-oauth2 abc=";
	test_assert(P(s) == 0 && arg_is(s, "x-oauth2") && arg2_is(s, "abc="));
	test_assert(refused("AUTH ", "Invalid arguments") &&
	    cmd.verb == POP3_AUTH);
	test_assert(refused("AUTH PLAIN ", "Invalid arguments"));
	test_assert(refused("AUTH PLAIN a b", "Invalid arguments"));
	test_assert(refused("AUTH  PLAIN", "Invalid arguments"));
	test_assert(refused("AUTH PLAIN \xc3\xbc",
	    "Invalid character in command"));
	/* the mechanism within 40, the response up to the line limit */
	test_assert(refused(fill("AUTH ", 'M', 41), "Argument too long"));
	n = POP3_CMD_LINE_MAX - 2 - strlen("AUTH PLAIN ");
	s = fill("AUTH PLAIN ", 'A', n);
	test_assert(P(s) == 0 && cmd.arg2 == s + 11 && cmd.arg2len == n);
	test_assert(refused(fill("AUTH PLAIN ", 'A', n + 1), "Line too long") &&
	    cmd.verb == POP3_AUTH);
	test_end();
}

static void
test_msg_verbs(void)
{
	test_begin("pop3 cmd: LIST, UIDL, RETR, DELE, TOP arguments");
	test_assert(P("LIST") == 0 && cmd.verb == POP3_LIST && bare());
	test_assert(P("LIST 7") == 0 && cmd.has_n1 && cmd.n1 == 7 &&
	    !cmd.has_n2 && cmd.arg == NULL);
	test_assert(refused("LIST 1 2", "Invalid arguments"));
	test_assert(P("UIDL") == 0 && cmd.verb == POP3_UIDL && bare());
	test_assert(P("UIDL 12") == 0 && cmd.has_n1 && cmd.n1 == 12);
	test_assert(refused("UIDL 1 2", "Invalid arguments"));
	test_assert(P("RETR 3") == 0 && cmd.verb == POP3_RETR &&
	    cmd.has_n1 && cmd.n1 == 3 && !cmd.has_n2);
	test_assert(refused("RETR", "Invalid arguments") &&
	    cmd.verb == POP3_RETR);
	test_assert(refused("RETR 1 2", "Invalid arguments"));
	test_assert(P("DELE 4") == 0 && cmd.verb == POP3_DELE &&
	    cmd.has_n1 && cmd.n1 == 4);
	test_assert(refused("DELE", "Invalid arguments"));
	test_assert(refused("DELE 1 2", "Invalid arguments"));
	test_assert(P("TOP 1 10") == 0 && cmd.verb == POP3_TOP &&
	    cmd.has_n1 && cmd.n1 == 1 && cmd.has_n2 && cmd.n2 == 10 &&
	    cmd.arg == NULL && cmd.arg2 == NULL);
	test_assert(P("TOP 5 0") == 0 && cmd.n1 == 5 && cmd.has_n2 &&
	    cmd.n2 == 0);
	test_assert(refused("TOP", "Invalid arguments") &&
	    cmd.verb == POP3_TOP);
	test_assert(refused("TOP 1", "Invalid arguments"));
	test_assert(refused("TOP 1 2 3", "Invalid arguments"));
	test_assert(refused("TOP 1  2", "Invalid arguments"));
	test_assert(refused("TOP 1 2 ", "Invalid arguments"));
	test_assert(refused("RETR  1", "Invalid arguments"));
	test_assert(refused("RETR 1 ", "Invalid arguments"));
	test_end();
}

static void
test_numbers(void)
{
	static const char *bad[] = {
		"0", "00", "01", "007", "4294967296", "4294967300",
		"99999999999999999999", "18446744073709551616", "+1", "-1",
		"1a", "a1", "1.0", "0x10", "1e3", "\xd9\xa1",
	};
	char	s[128];
	size_t	i;

	test_begin("pop3 cmd: message numbers and line counts at the edges");
	test_assert(P("RETR 1") == 0 && cmd.n1 == 1);
	test_assert(P("RETR 4294967295") == 0 && cmd.n1 == 4294967295U);
	test_assert(P("TOP 4294967295 4294967295") == 0 &&
	    cmd.n1 == 4294967295U && cmd.n2 == 4294967295U);
	test_assert(P("TOP 1 0") == 0 && cmd.n2 == 0 && cmd.has_n2);
	test_assert(P("DELE 1000000000") == 0 && cmd.n1 == 1000000000U);
	test_assert(P("LIST 429496729") == 0 && cmd.n1 == 429496729U);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		(void)snprintf(s, sizeof(s), "RETR %s", bad[i]);
		test_assert(refused(s, bad[i][0] == '\xd9' ?
		    "Invalid character in command" :
		    "Invalid message number") && cmd.verb == POP3_RETR);
		(void)snprintf(s, sizeof(s), "LIST %s", bad[i]);
		test_assert(P(s) == -1 && cmd.arg == NULL && !cmd.has_n1);
		(void)snprintf(s, sizeof(s), "TOP %s 1", bad[i]);
		test_assert(P(s) == -1 && !cmd.has_n1 && !cmd.has_n2);
		if (strcmp(bad[i], "0") == 0 || bad[i][0] == '\xd9')
			continue;
		/* the same spellings as a line count, 0 aside */
		(void)snprintf(s, sizeof(s), "TOP 1 %s", bad[i]);
		test_assert(refused(s, "Invalid number of lines"));
	}
	test_assert(refused("TOP 0 1", "Invalid message number"));
	test_assert(refused("UIDL 0", "Invalid message number"));
	test_assert(refused("DELE 0", "Invalid message number"));
	test_assert(refused("LIST 0", "Invalid message number"));
	/* 40 digits are still one argument, 41 are too long */
	test_assert(refused(fill("RETR ", '9', 40), "Invalid message number"));
	test_assert(refused(fill("RETR ", '9', 41), "Argument too long"));
	test_end();
}

static void
test_bytes(void)
{
	static const char ctl[] = {
		'\r', '\n', '\t', '\b', '\033', '\x01', '\x1f', '\x7f',
	};
	char	s[64];
	size_t	i;

	test_begin("pop3 cmd: NUL, CR, LF and other control bytes refused");
	for (i = 0; i < sizeof(ctl); i++) {
		(void)snprintf(s, sizeof(s), "QUIT%c", ctl[i]);
		test_assert(refused(s, "Invalid character in command") &&
		    cmd.verb == POP3_UNKNOWN);
		(void)snprintf(s, sizeof(s), "USER b%cb", ctl[i]);
		test_assert(refused(s, "Invalid character in command") &&
		    cmd.verb == POP3_USER);
		(void)snprintf(s, sizeof(s), "%cSTAT", ctl[i]);
		test_assert(refused(s, "Invalid character in command"));
	}
	test_assert(PN("QUIT\0", 5) == -1 &&
	    strcmp(err, "Invalid character in command") == 0);
	test_assert(PN("\0", 1) == -1 &&
	    strcmp(err, "Invalid character in command") == 0);
	test_assert(PN("RETR 1\0", 7) == -1 && !cmd.has_n1);
	test_assert(PN("USER a\0b", 8) == -1 && cmd.arg == NULL);
	test_assert(PN("AUTH PLAIN A\0", 13) == -1 && cmd.arg == NULL);
	test_assert(refused("QUIT\r\n", "Invalid character in command"));
	/* 8-bit only in USER and PASS arguments */
	test_assert(refused("LIST \xc2\xb9", "Invalid character in command"));
	test_assert(refused("AUTH PL\xc3\x84IN",
	    "Invalid character in command"));
	test_assert(P("USER \x80\xff") == 0 && cmd.arglen == 2);
	test_end();
}

static void
test_line_limit(void)
{
	const char	*s;
	size_t		 max = POP3_CMD_LINE_MAX - 2;

	test_begin("pop3 cmd: the line limit exactly at and one over");
	s = fill("PASS ", 'x', max - 5);
	test_assert(strlen(s) == max && P(s) == 0 && cmd.arglen == max - 5);
	s = fill("PASS ", 'x', max - 4);
	test_assert(strlen(s) == max + 1 && refused(s, "Line too long"));
	s = fill("PASS ", 'x', sizeof(line) - 6);
	test_assert(refused(s, "Line too long"));
	/* a long line is refused before its bytes are looked at */
	s = fill("XXXX ", '\n', max);
	test_assert(refused(s, "Line too long") && cmd.verb == POP3_UNKNOWN);
	s = fill("QUIT", ' ', max - 4);
	test_assert(refused(s, "Invalid arguments"));
	s = fill("QUIT", ' ', max - 3);
	test_assert(refused(s, "Line too long") && cmd.verb == POP3_QUIT);
	test_end();
}

int
main(void)
{
	static void (*tests[])(void) = {
		test_bare_verbs, test_case, test_unknown, test_user,
		test_pass, test_apop, test_auth, test_msg_verbs,
		test_numbers, test_bytes, test_line_limit, NULL
	};

	return test_run(tests);
}
