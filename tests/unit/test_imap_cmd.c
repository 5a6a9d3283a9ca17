/* SPDX-License-Identifier: ISC */
/*
 * test_imap_cmd.c - the IMAP command reader and parser (imap_cmd.c):
 * commands of every argument kind, every refusal of the parser, and the
 * reader through a real socketpair (literals synchronizing or not, their
 * limits checked before anything is read, long lines, NUL).
 */
#include "config.h"

#include <sys/socket.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io.h"
#include "imap_cmd.h"
#include "test.h"
#include "banned.h"

static struct imap_raw	raw;
static struct imap_cmd	cmd;
static const char	*err;

/* Parse one text line (no literal). */
static enum imap_parse_status
P(const char *text)
{
	size_t	len = strlen(text);

	imap_cmd_free(&cmd);
	free(raw.buf);
	raw.buf = malloc(len + 1);
	memcpy(raw.buf, text, len + 1);
	raw.len = raw.cap = len;
	raw.nsegs = 1;
	raw.segs[0].literal = raw.segs[0].literal8 = false;
	raw.segs[0].p = raw.buf;
	raw.segs[0].len = len;
	return imap_cmd_parse(&raw, &cmd, &err);
}

/* Parse segments given as (literal?, bytes, length) triples. */
struct tseg {
	bool		 lit;
	const char	*s;
	size_t		 len;
};

static enum imap_parse_status
PS(const struct tseg *t, size_t n)
{
	size_t	i, off = 0;

	imap_cmd_free(&cmd);
	free(raw.buf);
	for (raw.len = 0, i = 0; i < n; i++)
		raw.len += t[i].len;
	raw.buf = malloc(raw.len + 1);
	raw.cap = raw.len;
	for (i = 0; i < n; i++) {
		memcpy(raw.buf + off, t[i].s, t[i].len);
		raw.segs[i].literal = t[i].lit;
		raw.segs[i].literal8 = false;
		raw.segs[i].p = raw.buf + off;
		raw.segs[i].len = t[i].len;
		off += t[i].len;
	}
	raw.nsegs = n;
	return imap_cmd_parse(&raw, &cmd, &err);
}

static bool
arg_is(const struct imap_arg *a, enum imap_arg_type type, const char *s)
{
	if (a->type != type)
		return false;
	if (s == NULL)
		return a->s == NULL && a->len == 0;
	return a->len == strlen(s) && memcmp(a->s, s, a->len) == 0;
}

/* --- the reader, through a socketpair ------------------------------- */

static struct io	 rio;
static int		 rsv[2] = { -1, -1 };
static char		 conts[2048];
static size_t		 ncont;
static int		 iost;
static bool		 insync;

static int
cont_write(void *arg, const char *s, size_t len)
{
	(void)arg;
	if (len > sizeof(conts) - ncont)
		return -1;
	memcpy(conts + ncont, s, len);
	ncont += len;
	return 0;
}

static void
rd_open(void)
{
	if (rsv[0] != -1) {
		close(rsv[0]);
		close(rsv[1]);
	}
	test_assert(socketpair(AF_UNIX, SOCK_STREAM, 0, rsv) == 0);
	io_init(&rio, rsv[0], 300);
}

static void
rd_send(const void *wire, size_t len)
{
	test_assert(write(rsv[1], wire, len) == (ssize_t)len);
}

static enum imap_read_status
rd(size_t max_literal)
{
	ncont = 0;
	iost = -1;
	insync = false;
	return imap_cmd_read(&rio, &raw, max_literal, cont_write, NULL, &iost,
	    &insync);
}

/* Send wire, read one command (max_literal 4096), parse it. */
static enum imap_parse_status
PW(const char *wire, size_t len)
{
	imap_cmd_free(&cmd);
	rd_open();
	rd_send(wire, len);
	if (rd(4096) != IMAP_READ_OK)
		return (enum imap_parse_status)-1;
	return imap_cmd_parse(&raw, &cmd, &err);
}

/* --- the parser ------------------------------------------------------ */

static void
test_simple(void)
{
	test_begin("tag, name, atoms; the name upper-cased");
	test_assert(P("a1 select INBOX") == IMAP_PARSE_OK);
	test_assert_streq(cmd.tag, "a1");
	test_assert_streq(cmd.name, "SELECT");
	test_assert(!cmd.uid && cmd.nargs == 1 && cmd.nnodes == 1);
	test_assert(arg_is(&cmd.args[0], IMAP_ARG_ATOM, "INBOX"));
	test_assert(err == NULL);
	test_assert(P("A.1] NOOP") == IMAP_PARSE_OK);
	test_assert_streq(cmd.tag, "A.1]");
	test_assert(cmd.nargs == 0 && cmd.args == NULL);
	test_assert(P("x capability") == IMAP_PARSE_OK);
	test_assert_streq(cmd.name, "CAPABILITY");
	test_end();
}

static void
test_login(void)
{
	static const char	wire[] = "a2 login {4}\r\nuser {6+}\r\n"
	    "p\0s\r\nx\r\n";

	test_begin("LOGIN with quoted strings and escapes");
	test_assert(P("a LOGIN \"us er\" \"p\\\"a\\\\ss\"") == IMAP_PARSE_OK);
	test_assert(cmd.nargs == 2);
	test_assert(arg_is(&cmd.args[0], IMAP_ARG_QUOTED, "us er"));
	test_assert(arg_is(&cmd.args[1], IMAP_ARG_QUOTED, "p\"a\\ss"));
	test_assert(cmd.args[1].s[cmd.args[1].len] == '\0');
	test_assert(P("a LOGIN \"\" user") == IMAP_PARSE_OK);
	test_assert(arg_is(&cmd.args[0], IMAP_ARG_QUOTED, ""));
	test_assert(arg_is(&cmd.args[1], IMAP_ARG_ATOM, "user"));
	test_end();

	test_begin("LOGIN with literals: synchronizing and LITERAL+");
	test_assert(PW(wire, sizeof(wire) - 1) == IMAP_PARSE_OK);
	test_assert(ncont == 26 && memcmp(conts, "+ Ready for literal data\r\n",
	    26) == 0);
	test_assert_streq(cmd.name, "LOGIN");
	test_assert(cmd.nargs == 2);
	test_assert(arg_is(&cmd.args[0], IMAP_ARG_LITERAL, "user"));
	test_assert(cmd.args[1].type == IMAP_ARG_LITERAL &&
	    cmd.args[1].len == 6 && memcmp(cmd.args[1].s, "p\0s\r\nx", 6) == 0);
	test_assert(!cmd.args[0].literal8);
	test_end();
}

static void
test_fetch_store(void)
{
	test_begin("UID FETCH with a section list as one atom");
	test_assert(P("A3 UID fetch 1:*,5 (FLAGS "
	    "BODY.PEEK[HEADER.FIELDS (FROM SUBJECT)])") == IMAP_PARSE_OK);
	test_assert(cmd.uid);
	test_assert_streq(cmd.name, "FETCH");
	test_assert(cmd.nargs == 2 && cmd.nnodes == 4);
	test_assert(arg_is(&cmd.args[0], IMAP_ARG_ATOM, "1:*,5"));
	test_assert(cmd.args[1].type == IMAP_ARG_LIST && cmd.args[1].n == 2);
	test_assert(arg_is(&cmd.args[1].list[0], IMAP_ARG_ATOM, "FLAGS"));
	test_assert(arg_is(&cmd.args[1].list[1], IMAP_ARG_ATOM,
	    "BODY.PEEK[HEADER.FIELDS (FROM SUBJECT)]"));
	test_assert(P("a FETCH 1 BODY[HEADER.FIELDS (FROM TO)]<0.100>") ==
	    IMAP_PARSE_OK);
	test_assert(arg_is(&cmd.args[1], IMAP_ARG_ATOM,
	    "BODY[HEADER.FIELDS (FROM TO)]<0.100>"));
	test_assert(P("a FETCH 1 (BODY.PEEK[] BINARY[1.2] BODY[]<0.10> "
	    "BODY[HEADER.FIELDS (\"X-A\")])") == IMAP_PARSE_OK);
	test_assert(cmd.args[1].n == 4);
	test_assert(arg_is(&cmd.args[1].list[0], IMAP_ARG_ATOM, "BODY.PEEK[]"));
	test_assert(arg_is(&cmd.args[1].list[1], IMAP_ARG_ATOM, "BINARY[1.2]"));
	test_assert(arg_is(&cmd.args[1].list[2], IMAP_ARG_ATOM,
	    "BODY[]<0.10>"));
	test_assert(arg_is(&cmd.args[1].list[3], IMAP_ARG_ATOM,
	    "BODY[HEADER.FIELDS (\"X-A\")]"));
	test_end();

	test_begin("STORE with flags");
	test_assert(P("A4 STORE 1 +FLAGS.SILENT (\\Seen \\Deleted)") ==
	    IMAP_PARSE_OK);
	test_assert(cmd.nargs == 3);
	test_assert(arg_is(&cmd.args[1], IMAP_ARG_ATOM, "+FLAGS.SILENT"));
	test_assert(cmd.args[2].type == IMAP_ARG_LIST && cmd.args[2].n == 2);
	test_assert(arg_is(&cmd.args[2].list[0], IMAP_ARG_ATOM, "\\Seen"));
	test_assert(arg_is(&cmd.args[2].list[1], IMAP_ARG_ATOM, "\\Deleted"));
	test_assert(P("a STORE 1 FLAGS (\\*)") == IMAP_PARSE_OK);
	test_assert(arg_is(&cmd.args[2].list[0], IMAP_ARG_ATOM, "\\*"));
	test_assert(P("a LIST \"\" %") == IMAP_PARSE_OK);
	test_assert(arg_is(&cmd.args[1], IMAP_ARG_ATOM, "%"));
	test_end();
}

static void
test_append(void)
{
	static const char	wire[] = "A5 APPEND INBOX (\\Seen) {13}\r\n"
	    "Hi\r\n\r\nthere\r\n\r\n";

	test_begin("APPEND with a literal message");
	test_assert(PW(wire, sizeof(wire) - 1) == IMAP_PARSE_OK);
	test_assert(ncont == 26);
	test_assert(cmd.nargs == 3);
	test_assert(arg_is(&cmd.args[0], IMAP_ARG_ATOM, "INBOX"));
	test_assert(cmd.args[1].type == IMAP_ARG_LIST && cmd.args[1].n == 1);
	test_assert(arg_is(&cmd.args[2], IMAP_ARG_LITERAL,
	    "Hi\r\n\r\nthere\r\n"));
	test_end();

	test_begin("literal8 (~{N}) is marked");
	test_assert(PW("a APPEND b ~{2}\r\n\0\1\r\n", 21) == IMAP_PARSE_OK);
	test_assert(cmd.args[1].type == IMAP_ARG_LITERAL &&
	    cmd.args[1].literal8 && cmd.args[1].len == 2);
	test_end();
}

static void
test_lists(void)
{
	const struct imap_arg	*l;

	test_begin("nested lists, empty lists, NIL");
	test_assert(P("a X (a (b (c)) ()) NIL nil \"NIL\" ()") ==
	    IMAP_PARSE_OK);
	test_assert(cmd.nargs == 5 && cmd.nnodes == 11);
	l = &cmd.args[0];
	test_assert(l->type == IMAP_ARG_LIST && l->n == 3);
	test_assert(arg_is(&l->list[0], IMAP_ARG_ATOM, "a"));
	test_assert(l->list[1].type == IMAP_ARG_LIST && l->list[1].n == 2);
	test_assert(arg_is(&l->list[1].list[0], IMAP_ARG_ATOM, "b"));
	test_assert(l->list[1].list[1].type == IMAP_ARG_LIST &&
	    l->list[1].list[1].n == 1);
	test_assert(arg_is(&l->list[1].list[1].list[0], IMAP_ARG_ATOM, "c"));
	test_assert(l->list[2].type == IMAP_ARG_LIST && l->list[2].n == 0 &&
	    l->list[2].list == NULL);
	test_assert(arg_is(&cmd.args[1], IMAP_ARG_NIL, NULL));
	test_assert(arg_is(&cmd.args[2], IMAP_ARG_NIL, NULL));
	test_assert(arg_is(&cmd.args[3], IMAP_ARG_QUOTED, "NIL"));
	test_assert(cmd.args[4].type == IMAP_ARG_LIST && cmd.args[4].n == 0);
	test_assert(P("a X ()") == IMAP_PARSE_OK);
	test_assert(cmd.nargs == 1 && cmd.args[0].n == 0);
	test_assert(P("a X ((()))") == IMAP_PARSE_OK);
	test_assert(cmd.nnodes == 3);
	test_assert(P("a X (\"q\" {0}") == IMAP_PARSE_SYNTAX);
	test_end();
}

static void
test_limits(void)
{
	char	buf[IMAP_CMD_ARGS_MAX * 2 + 64];
	size_t	i, n;

	test_begin("lists nested 16 deep pass, 17 do not");
	n = (size_t)snprintf(buf, sizeof(buf), "a X ");
	for (i = 0; i < IMAP_CMD_DEPTH_MAX; i++)
		buf[n++] = '(';
	for (i = 0; i < IMAP_CMD_DEPTH_MAX; i++)
		buf[n++] = ')';
	buf[n] = '\0';
	test_assert(P(buf) == IMAP_PARSE_OK);
	test_assert(cmd.nnodes == IMAP_CMD_DEPTH_MAX);
	n = (size_t)snprintf(buf, sizeof(buf), "a X ");
	for (i = 0; i < IMAP_CMD_DEPTH_MAX + 1; i++)
		buf[n++] = '(';
	for (i = 0; i < IMAP_CMD_DEPTH_MAX + 1; i++)
		buf[n++] = ')';
	buf[n] = '\0';
	test_assert(P(buf) == IMAP_PARSE_DEPTH);
	test_assert_streq(cmd.tag, "a");
	test_assert(cmd.nodes == NULL && cmd.nargs == 0);
	test_end();

	test_begin("IMAP_CMD_ARGS_MAX nodes pass, one more does not");
	n = (size_t)snprintf(buf, sizeof(buf), "a X");
	for (i = 0; i < IMAP_CMD_ARGS_MAX; i++) {
		buf[n++] = ' ';
		buf[n++] = '1';
	}
	buf[n] = '\0';
	test_assert(P(buf) == IMAP_PARSE_OK);
	test_assert(cmd.nargs == IMAP_CMD_ARGS_MAX);
	buf[n - 2] = ' ';
	buf[n - 1] = '(';
	buf[n] = ')';
	buf[n + 1] = '\0';
	/* a list counts as a node */
	test_assert(P(buf) == IMAP_PARSE_OK);
	test_assert(cmd.nnodes == IMAP_CMD_ARGS_MAX);
	buf[n] = '1';
	buf[n + 1] = ')';
	buf[n + 2] = '\0';
	test_assert(P(buf) == IMAP_PARSE_TOOMANY);
	test_end();

	test_begin("tag and name lengths");
	memset(buf, 't', IMAP_CMD_TAG_MAX);
	snprintf(buf + IMAP_CMD_TAG_MAX, 16, " NOOP");
	test_assert(P(buf) == IMAP_PARSE_OK);
	test_assert(strlen(cmd.tag) == IMAP_CMD_TAG_MAX);
	memset(buf, 't', IMAP_CMD_TAG_MAX + 1);
	snprintf(buf + IMAP_CMD_TAG_MAX + 1, 16, " NOOP");
	test_assert(P(buf) == IMAP_PARSE_NOTAG);
	n = (size_t)snprintf(buf, sizeof(buf), "a ");
	memset(buf + n, 'N', IMAP_CMD_NAME_MAX);
	buf[n + IMAP_CMD_NAME_MAX] = '\0';
	test_assert(P(buf) == IMAP_PARSE_OK);
	buf[n + IMAP_CMD_NAME_MAX] = 'N';
	buf[n + IMAP_CMD_NAME_MAX + 1] = '\0';
	test_assert(P(buf) == IMAP_PARSE_SYNTAX);
	test_end();

	test_begin("a section over IMAP_CMD_SECTION_MAX");
	n = (size_t)snprintf(buf, sizeof(buf), "a FETCH 1 BODY[");
	memset(buf + n, 'A', IMAP_CMD_SECTION_MAX);
	n += IMAP_CMD_SECTION_MAX;
	buf[n] = ']';
	buf[n + 1] = '\0';
	test_assert(P(buf) == IMAP_PARSE_OK);
	buf[n] = 'A';
	buf[n + 1] = ']';
	buf[n + 2] = '\0';
	test_assert(P(buf) == IMAP_PARSE_SYNTAX);
	test_end();
}

static void
test_refusals(void)
{
	static const char	*notag[] = { "", " NOOP", "a+b NOOP", "+ NOOP",
	    "a(1 NOOP", "a\"b NOOP", "a*b NOOP", "a%b NOOP", "a{1} NOOP",
	    "a\\b NOOP", "\xc3\xa9 NOOP", "a\tb NOOP", NULL };
	static const char	*syntax[] = {
	    "a1", "a1 ", "a1  NOOP", "a1 NO(OP", "a1 UID", "a1 UID ",
	    "a1 X a  b", "a1 X a ", "a1 X (a", "a1 X a)", "a1 X (a))",
	    "a1 X ( a)", "a1 X (a )", "a1 X (a)b", "a1 X \"a\"b",
	    "a1 LOGIN \"a\\b\"", "a1 LOGIN \"a\\", "a1 LOGIN \"abc",
	    "a1 LOGIN \"caf\xc3\xa9\"", "a1 LOGIN caf\xc3\xa9",
	    "a1 LOGIN \"a\rb\"", "a1 LOGIN a\rb", "a1 X BODY[HEADER",
	    "a1 X BODY]", "a1 X BODY[(]", "a1 X BODY[)]", "a1 X BODY[a][b]",
	    "a1 X BODY[\"a]", "a1 X BODY[{1}]", "a1 X BODY[\xc3]",
	    "a1 X \\", "a1 X a\\b", "a1 X a{3}", "a1 X {3}x", "a1 X {3} ",
	    "a1 X {}", "a1 X {3", "a1 X {-1}", "a1 X ~{3}x", "a1 X {3}",
	    "a1 X a\"b", "a1 X ]", "a1 X (]", NULL };
	static const char	 nul[] = "a1 X a\0b";
	size_t			 i;

	test_begin("no valid tag: NOTAG");
	for (i = 0; notag[i] != NULL; i++) {
		if (P(notag[i]) != IMAP_PARSE_NOTAG)
			printf("# not NOTAG: \"%s\"\n", notag[i]);
		test_assert(P(notag[i]) == IMAP_PARSE_NOTAG);
		test_assert(err != NULL && cmd.nodes == NULL);
	}
	test_end();

	test_begin("syntax errors, with the tag kept");
	for (i = 0; syntax[i] != NULL; i++) {
		if (P(syntax[i]) != IMAP_PARSE_SYNTAX)
			printf("# not SYNTAX: \"%s\"\n", syntax[i]);
		test_assert(P(syntax[i]) == IMAP_PARSE_SYNTAX);
		test_assert_streq(cmd.tag, "a1");
		test_assert(err != NULL && cmd.nodes == NULL &&
		    cmd.strs == NULL);
	}
	{
		struct tseg	t[] = { { false, nul, sizeof(nul) - 1 } };

		test_assert(PS(t, 1) == IMAP_PARSE_SYNTAX);
		t[0].len = 8;	/* the NUL in a quoted string */
		t[0].s = "a1 X \"\0\"";
		test_assert(PS(t, 1) == IMAP_PARSE_SYNTAX);
	}
	test_end();

	test_begin("literal segments must match their announcements");
	{
		struct tseg	ok[] = { { false, "a X {3}", 7 },
		    { true, "abc", 3 }, { false, " y", 2 } };
		struct tseg	short_[] = { { false, "a X {3}", 7 },
		    { true, "ab", 2 }, { false, "", 0 } };
		struct tseg	missing[] = { { false, "a X {3}", 7 } };
		struct tseg	unann[] = { { false, "a X y", 5 },
		    { true, "abc", 3 }, { false, "", 0 } };
		struct tseg	twolit[] = { { false, "a X {3}", 7 },
		    { true, "abc", 3 }, { true, "abc", 3 } };
		struct tseg	lit8[] = { { false, "a X ~{3}", 8 },
		    { true, "abc", 3 } };
		struct tseg	first[] = { { true, "abc", 3 } };

		test_assert(PS(ok, 3) == IMAP_PARSE_OK);
		test_assert(cmd.nargs == 2);
		test_assert(arg_is(&cmd.args[0], IMAP_ARG_LITERAL, "abc"));
		test_assert(arg_is(&cmd.args[1], IMAP_ARG_ATOM, "y"));
		test_assert(PS(ok, 2) == IMAP_PARSE_OK);
		test_assert(PS(short_, 3) == IMAP_PARSE_SYNTAX);
		test_assert(PS(missing, 1) == IMAP_PARSE_SYNTAX);
		test_assert(PS(unann, 3) == IMAP_PARSE_SYNTAX);
		test_assert(PS(twolit, 3) == IMAP_PARSE_SYNTAX);
		/* the segment is not marked literal8: a mismatch */
		test_assert(PS(lit8, 2) == IMAP_PARSE_SYNTAX);
		test_assert(PS(first, 1) == IMAP_PARSE_NOTAG);
		test_assert(PS(first, 0) == IMAP_PARSE_NOTAG);
	}
	test_end();
}

/* --- the reader ------------------------------------------------------ */

static void
test_read_literals(void)
{
	static const char	lplus[] = "a APPEND x {3+}\r\nabc\r\n";
	static const char	multi[] = "a X {1}\r\na {2+}\r\nbc ~{0}\r\n"
	    " ({3}\r\n\r\n\n)\r\n";
	enum imap_read_status	r;

	test_begin("a synchronizing literal gets \"+ \" and is read");
	rd_open();
	rd_send("a LOGIN {3}\r\n", 13);
	/* the client waits for "+ ": the literal is not sent yet */
	rd_send("abc xyz\r\n", 9);
	test_assert(rd(100) == IMAP_READ_OK);
	test_assert(ncont == 26 && memcmp(conts, "+ ", 2) == 0);
	test_assert(raw.nsegs == 3);
	test_assert(!raw.segs[0].literal && raw.segs[0].len == 11 &&
	    memcmp(raw.segs[0].p, "a LOGIN {3}", 11) == 0);
	test_assert(raw.segs[1].literal && raw.segs[1].len == 3 &&
	    memcmp(raw.segs[1].p, "abc", 3) == 0);
	test_assert(!raw.segs[2].literal && raw.segs[2].len == 4 &&
	    memcmp(raw.segs[2].p, " xyz", 4) == 0);
	test_end();

	test_begin("LITERAL+ gets no \"+ \"");
	rd_open();
	rd_send(lplus, sizeof(lplus) - 1);
	test_assert(rd(100) == IMAP_READ_OK);
	test_assert(ncont == 0);
	test_assert(raw.nsegs == 3 && raw.segs[1].len == 3);
	test_end();

	test_begin("a command of several literals");
	rd_open();
	rd_send(multi, sizeof(multi) - 1);
	test_assert(rd(100) == IMAP_READ_OK);
	test_assert(ncont == 78);
	test_assert(raw.nsegs == 9);
	test_assert(raw.segs[1].len == 1 && raw.segs[3].len == 2 &&
	    raw.segs[5].len == 0 && raw.segs[5].literal8 &&
	    raw.segs[7].len == 3 && memcmp(raw.segs[7].p, "\r\n\n", 3) == 0);
	test_assert(raw.segs[8].len == 1 && raw.segs[8].p[0] == ')');
	imap_cmd_free(&cmd);
	test_assert(imap_cmd_parse(&raw, &cmd, &err) == IMAP_PARSE_OK);
	test_assert(cmd.nargs == 4 && cmd.args[3].type == IMAP_ARG_LIST);
	test_assert(arg_is(&cmd.args[3].list[0], IMAP_ARG_LITERAL, "\r\n\n"));
	test_assert(cmd.args[2].literal8 && cmd.args[2].len == 0);
	test_end();

	test_begin("{4294967295} is refused without reading or asking");
	rd_open();
	rd_send("a APPEND x {4294967295}\r\nb NOOP\r\n", 33);
	test_assert(rd(1 << 20) == IMAP_READ_LITERAL_TOOBIG);
	test_assert(ncont == 0 && insync && raw.nsegs == 0);
	test_assert(strcmp(raw.tag, "a") == 0);	/* the refusal is tagged */
	test_assert(rd(100) == IMAP_READ_OK);
	test_assert(raw.nsegs == 1 && raw.segs[0].len == 6);
	rd_send("a+b X {4294967295}\r\n", 21);	/* no valid tag: none */
	test_assert(rd(100) == IMAP_READ_LITERAL_TOOBIG && raw.tag[0] == '\0');
	rd_send("a APPEND x {99999999999999999999}\r\n", 35);
	test_assert(rd(SIZE_MAX) == IMAP_READ_LITERAL_TOOBIG);
	rd_send("a APPEND x {123456789012345678901}\r\n", 36);
	test_assert(rd(SIZE_MAX) == IMAP_READ_LITERAL_TOOBIG);
	rd_send("a APPEND x {5+}\r\n", 17);
	test_assert(rd(4) == IMAP_READ_LITERAL_TOOBIG);
	test_assert(ncont == 0 && !insync);
	test_end();

	test_begin("a literal of max_literal passes, one more does not");
	{
		char	lit[4096 + 32];
		int	n;

		rd_open();
		n = snprintf(lit, sizeof(lit), "a X {4096}\r\n");
		memset(lit + n, 'x', 4096);
		memcpy(lit + n + 4096, "\r\n", 2);
		rd_send(lit, (size_t)n + 4098);
		test_assert(rd(4096) == IMAP_READ_OK);
		test_assert(raw.nsegs == 3 && raw.segs[1].len == 4096);
		rd_send("a X {4097}\r\n", 12);
		test_assert(rd(4096) == IMAP_READ_LITERAL_TOOBIG);
		test_assert(ncont == 0 && insync);
	}
	test_end();

	test_begin("IMAP_CMD_MAX and IMAP_CMD_SEGS_MAX, before reading");
	rd_open();
	rd_send("a X {1048577}\r\n", 15);
	test_assert(rd(SIZE_MAX) == IMAP_READ_TOOBIG);
	test_assert(ncont == 0 && insync);
	{
		char	wire[IMAP_CMD_SEGS_MAX * 8 + 32];
		size_t	i, n = 0;

		/* the 32nd literal would need segments 64 and 65 */
		memcpy(wire, "a X", 3);
		n = 3;
		for (i = 0; i < IMAP_CMD_SEGS_MAX / 2; i++) {
			memcpy(wire + n, " {1}\r\nx", 7);
			n += 7;
		}
		memcpy(wire + n, "\r\n", 2);
		rd_send(wire, n + 2);
		test_assert(rd(100) == IMAP_READ_TOOBIG);
		test_assert(ncont == 26 * (IMAP_CMD_SEGS_MAX / 2 - 1));
	}
	rd_open();
	rd_send("a X {1}\r\nx {1}\r\ny\r\n", 19);
	test_assert(rd(100) == IMAP_READ_OK && raw.nsegs == 5);
	test_end();

	test_begin("too long a line; NUL; the io status");
	{
		char	line[IMAP_CMD_LINE_MAX + 16];

		rd_open();
		memset(line, 'a', sizeof(line));
		memcpy(line + IMAP_CMD_LINE_MAX + 1, "\r\n", 2);
		rd_send(line, IMAP_CMD_LINE_MAX + 3);
		rd_send("b NOOP\r\n", 8);
		test_assert(rd(100) == IMAP_READ_LINE_TOOLONG);
		test_assert(rd(100) == IMAP_READ_OK && raw.segs[0].len == 6);
		memcpy(line + IMAP_CMD_LINE_MAX, "\r\n", 2);
		rd_send(line, IMAP_CMD_LINE_MAX + 2);
		test_assert(rd(100) == IMAP_READ_OK &&
		    raw.segs[0].len == IMAP_CMD_LINE_MAX);
	}
	rd_send("a NOOP\0x\r\nb NOOP\r\n", 18);
	test_assert(rd(100) == IMAP_READ_NUL && raw.nsegs == 0);
	test_assert(strcmp(raw.tag, "a") == 0);
	test_assert(rd(100) == IMAP_READ_OK && raw.segs[0].len == 6);
	rd_send("a X\0 {3+}\r\nabc\r\nb NOOP\n", 23);
	test_assert(rd(100) == IMAP_READ_NUL);
	test_assert(rd(100) == IMAP_READ_OK && raw.segs[0].len == 6);
	rd_send("a X\0 {3}\r\n", 10);
	test_assert(rd(100) == IMAP_READ_NUL && ncont == 0);
	r = rd(100);
	test_assert(r == IMAP_READ_IO && iost == IO_TIMEOUT);
	rd_send("a X {3}\r\nab", 11);
	test_assert(rd(100) == IMAP_READ_IO && iost == IO_TIMEOUT);
	close(rsv[1]);
	rsv[1] = dup(rsv[0]);
	test_assert(rd(100) == IMAP_READ_IO && iost == IO_EOF);
	test_end();

	rd_open();
	close(rsv[0]);
	close(rsv[1]);
	rsv[0] = rsv[1] = -1;
}

int
main(void)
{
	static void	(*tests[])(void) = {
		test_simple, test_login, test_fetch_store, test_append,
		test_lists, test_limits, test_refusals, test_read_literals,
		NULL
	};
	int		 r;

	r = test_run(tests);
	imap_cmd_free(&cmd);
	imap_raw_free(&raw);
	return r;
}
