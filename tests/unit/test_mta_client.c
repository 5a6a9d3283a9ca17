/* SPDX-License-Identifier: ISC */
/*
 * test_mta_client.c - the outbound SMTP conversation (mta/mta_client.c)
 * driven by scripts of replies: the commands it writes exactly, STARTTLS
 * when offered (and EHLO again after it), HELO when EHLO is refused,
 * PIPELINING (MAIL, RCPTs and DATA in one go, the replies taken in
 * order), per-recipient outcomes (taken, refused for now, refused for
 * good), MAIL or DATA refused, the dot's reply deciding for every taken
 * recipient, SIZE, 8BITMIME and SMTPUTF8 that the server lacks, DSN
 * parameters only when offered, a broken connection; a connection
 * reused for another message (RSET then MAIL, or pipelined with it),
 * refused after a 421, an abort or a refused RSET; CHUNKING (one BDAT
 * LAST after the RCPTs' replies, its reply deciding as the dot's, no BDAT
 * when no recipient was taken, DATA when the driver does not want it).
 */
#include "config.h"

#include <string.h>

#include "buf.h"
#include "mta_client.h"
#include "test.h"
#include "banned.h"

static struct mta_client	c;
static struct buf		*cmd;

/* Feed a reply ("250-a\n250 b"): the action; the command in cmd. */
static int
step(const char *text)
{
	struct mta_reply	 r;
	const char		*p = text, *nl, *why;
	size_t			 n;
	int			 rc = MTA_REPLY_MORE;

	mta_reply_init(&r);
	while (rc == MTA_REPLY_MORE) {
		nl = strchr(p, '\n');
		n = nl != NULL ? (size_t)(nl - p) : strlen(p);
		rc = mta_reply_line(&r, p, n, &why);
		p = nl != NULL ? nl + 1 : p + n;
	}
	if (rc != MTA_REPLY_DONE)
		return -1;
	buf_reset(cmd);
	return mta_client_reply(&c, &r, cmd);
}

static const char *const rcpts[] = { "a@remote.test", "b@remote.test",
    "c@remote.test" };
static const unsigned int notify[] = { 4 | 8, 0, 1 };
static const char *const orcpt[] = { "rfc822;a@remote.test", "", "" };

static void
test_plain(void)
{
	struct mta_client_msg	m = { "me@example.test", 1000, 0, 0, 0, "",
				    rcpts, NULL, NULL, 3 };

	test_begin("one step at a time: EHLO, STARTTLS, MAIL, RCPT, DATA");
	test_assert(mta_client_init(&c, "mail.example.test", 1, &m) == 0);
	test_assert(step("220 mx.remote.test ESMTP") == MTA_DO_SEND);
	test_assert_streq(buf_cstr(cmd), "EHLO mail.example.test\r\n");
	test_assert(step("250-mx.remote.test\n250-STARTTLS\n250 SIZE 5000") ==
	    MTA_DO_SEND);
	test_assert_streq(buf_cstr(cmd), "STARTTLS\r\n");
	test_assert(step("220 2.0.0 go ahead") == MTA_DO_STARTTLS);
	buf_reset(cmd);
	test_assert(mta_client_tls(&c, cmd) == MTA_DO_SEND);
	test_assert_streq(buf_cstr(cmd), "EHLO mail.example.test\r\n");
	/* after TLS, STARTTLS offered again is not taken again */
	test_assert(step("250-mx.remote.test\n250-STARTTLS\n250 SIZE 5000") ==
	    MTA_DO_SEND);
	test_assert_streq(buf_cstr(cmd), "MAIL FROM:<me@example.test> "
	    "SIZE=1000\r\n");
	test_assert(step("250 2.1.0 ok") == MTA_DO_SEND);
	test_assert_streq(buf_cstr(cmd), "RCPT TO:<a@remote.test>\r\n");
	test_assert(step("250 2.1.5 ok") == MTA_DO_SEND);
	test_assert_streq(buf_cstr(cmd), "RCPT TO:<b@remote.test>\r\n");
	test_assert(step("550 5.1.1 no such user") == MTA_DO_SEND);
	test_assert_streq(buf_cstr(cmd), "RCPT TO:<c@remote.test>\r\n");
	test_assert(step("451 4.2.1 try later") == MTA_DO_SEND);
	test_assert_streq(buf_cstr(cmd), "DATA\r\n");
	test_assert(step("354 go") == MTA_DO_BODY);
	test_assert(step("250 2.0.0 queued as X") == MTA_DO_DONE);
	test_assert_streq(buf_cstr(cmd), "QUIT\r\n");
	test_assert(c.r[0].state == MTA_RCPT_OK && c.r[0].code == 250);
	test_assert(c.r[1].state == MTA_RCPT_PERM);
	test_assert_streq(c.r[1].text, "550 5.1.1 no such user");
	test_assert(c.r[2].state == MTA_RCPT_TEMP);
	test_end();
}

static void
test_pipelining(void)
{
	struct mta_client_msg	m = { "me@example.test", 1000, 1, 0, 2, "ID1",
				    rcpts, notify, orcpt, 3 };

	test_begin("PIPELINING, DSN and 8BITMIME parameters; replies in order");
	test_assert(mta_client_init(&c, "h.example.test", 0, &m) == 0);
	test_assert(step("220 hi") == MTA_DO_SEND);
	/* no TLS wanted: STARTTLS offered but not taken */
	test_assert(step("250-x\n250-PIPELINING\n250-8BITMIME\n250-DSN\n"
	    "250 STARTTLS") == MTA_DO_SEND);
	test_assert_streq(buf_cstr(cmd),
	    "MAIL FROM:<me@example.test> BODY=8BITMIME RET=HDRS ENVID=ID1\r\n"
	    "RCPT TO:<a@remote.test> NOTIFY=FAILURE,DELAY "
	    "ORCPT=rfc822;a@remote.test\r\n"
	    "RCPT TO:<b@remote.test>\r\n"
	    "RCPT TO:<c@remote.test> NOTIFY=NEVER\r\n"
	    "DATA\r\n");
	test_assert(step("250 ok") == MTA_DO_SEND && cmd->len == 0);
	test_assert(step("250 ok") == MTA_DO_SEND && cmd->len == 0);
	test_assert(step("550 no") == MTA_DO_SEND && cmd->len == 0);
	test_assert(step("250 ok") == MTA_DO_SEND && cmd->len == 0);
	test_assert(step("354 go") == MTA_DO_BODY);
	test_assert(step("452 4.3.1 full") == MTA_DO_DONE);
	test_assert(c.r[0].state == MTA_RCPT_TEMP &&
	    c.r[1].state == MTA_RCPT_PERM && c.r[2].state == MTA_RCPT_TEMP);
	test_assert_streq(c.r[0].text, "452 4.3.1 full");

	/* MAIL refused: the RCPTs' and DATA's replies are still read */
	test_assert(mta_client_init(&c, "h.example.test", 0, &m) == 0);
	test_assert(step("220 hi") == MTA_DO_SEND);
	test_assert(step("250-x\n250-PIPELINING\n250 8BITMIME") ==
	    MTA_DO_SEND);
	test_assert(step("553 5.7.1 sender refused") == MTA_DO_SEND);
	test_assert(step("503 5.5.1 no MAIL") == MTA_DO_SEND);
	test_assert(step("503 5.5.1 no MAIL") == MTA_DO_SEND);
	test_assert(step("503 5.5.1 no MAIL") == MTA_DO_SEND);
	test_assert(step("503 5.5.1 no valid recipients") == MTA_DO_DONE);
	test_assert(c.r[0].state == MTA_RCPT_PERM);
	test_assert_streq(c.r[2].text, "553 5.7.1 sender refused");

	/* every RCPT refused yet DATA taken: an empty message ends it */
	test_assert(mta_client_init(&c, "h.example.test", 0, &m) == 0);
	test_assert(step("220 hi") == MTA_DO_SEND);
	test_assert(step("250-x\n250-PIPELINING\n250 8BITMIME") ==
	    MTA_DO_SEND);
	test_assert(step("250 ok") == MTA_DO_SEND);
	test_assert(step("550 a") == MTA_DO_SEND);
	test_assert(step("550 b") == MTA_DO_SEND);
	test_assert(step("550 c") == MTA_DO_SEND);
	test_assert(step("354 go") == MTA_DO_SEND);
	test_assert_streq(buf_cstr(cmd), ".\r\n");
	test_assert(step("554 no recipients") == MTA_DO_DONE);
	test_assert(c.r[0].state == MTA_RCPT_PERM &&
	    c.r[2].state == MTA_RCPT_PERM);
	test_end();
}

static void
test_refusals(void)
{
	struct mta_client_msg	m = { "", 9000, 0, 0, 0, "", rcpts, NULL,
				    NULL, 1 };

	test_begin("greeting, EHLO, SIZE, 8BITMIME, SMTPUTF8, a broken line");
	test_assert(mta_client_init(&c, "h", 0, &m) == 0);
	test_assert(step("554 go away") == MTA_DO_DONE);
	test_assert(c.r[0].state == MTA_RCPT_TEMP);	/* another MX may */
	/* EHLO refused: HELO, no extensions, the null sender */
	test_assert(mta_client_init(&c, "h", 0, &m) == 0);
	test_assert(step("220 old") == MTA_DO_SEND);
	test_assert(step("502 what") == MTA_DO_SEND);
	test_assert_streq(buf_cstr(cmd), "HELO h\r\n");
	test_assert(step("250 ok") == MTA_DO_SEND);
	test_assert_streq(buf_cstr(cmd), "MAIL FROM:<>\r\n");
	/* SIZE too small for the message */
	test_assert(mta_client_init(&c, "h", 0, &m) == 0);
	test_assert(step("220 x") == MTA_DO_SEND);
	test_assert(step("250-x\n250 SIZE 8000") == MTA_DO_DONE);
	test_assert(c.r[0].state == MTA_RCPT_PERM);
	test_assert(strncmp(c.r[0].text, "552 5.3.4 ", 10) == 0);
	/* an 8-bit body to a server without 8BITMIME; UTF-8 without SMTPUTF8 */
	m.size = 10;
	m.body8 = 1;
	test_assert(mta_client_init(&c, "h", 0, &m) == 0);
	test_assert(step("220 x") == MTA_DO_SEND);
	test_assert(step("250 x") == MTA_DO_DONE);
	test_assert(strncmp(c.r[0].text, "554 5.6.3 ", 10) == 0);
	m.body8 = 0;
	m.smtputf8 = 1;
	test_assert(mta_client_init(&c, "h", 0, &m) == 0);
	test_assert(step("220 x") == MTA_DO_SEND);
	test_assert(step("250-x\n250 8BITMIME") == MTA_DO_DONE);
	test_assert(strncmp(c.r[0].text, "553 5.6.7 ", 10) == 0);
	/* MAIL refused for now; then a connection that breaks */
	m.smtputf8 = 0;
	test_assert(mta_client_init(&c, "h", 0, &m) == 0);
	test_assert(step("220 x") == MTA_DO_SEND);
	test_assert(step("250 x") == MTA_DO_SEND);
	test_assert(step("421 4.3.2 shutting down") == MTA_DO_DONE);
	test_assert(c.r[0].state == MTA_RCPT_TEMP);
	test_assert(mta_client_init(&c, "h", 0, &m) == 0);
	test_assert(step("220 x") == MTA_DO_SEND);
	mta_client_abort(&c, "connection closed by the remote");
	test_assert(c.r[0].state == MTA_RCPT_TEMP);
	test_assert_streq(c.r[0].text, "connection closed by the remote");
	/* no recipient, too many */
	m.nrcpts = 0;
	test_assert(mta_client_init(&c, "h", 0, &m) == -1);
	m.nrcpts = MTA_CLIENT_RCPTS_MAX + 1;
	test_assert(mta_client_init(&c, "h", 0, &m) == -1);
	test_end();
}

/* A whole transaction already under way: the body, and its 250. */
static void
finish(int body)
{
	test_assert(body == MTA_DO_BODY);
	test_assert(step("250 2.0.0 queued") == MTA_DO_DONE);
	test_assert_streq(buf_cstr(cmd), "QUIT\r\n");
}

static void
test_reuse(void)
{
	struct mta_client_msg	m1 = { "me@example.test", 1000, 0, 0, 0, "",
				    rcpts, NULL, NULL, 1 };
	struct mta_client_msg	m2 = { "you@example.test", 2000, 0, 0, 0,
				    "", rcpts + 1, NULL, NULL, 2 };
	struct mta_client_msg	big = { "me@example.test", 9000, 0, 0, 0, "",
				    rcpts, NULL, NULL, 1 };
	struct mta_client_msg	none = { "me@example.test", 10, 0, 0, 0, "",
				    rcpts, NULL, NULL, 0 };

	test_begin("reuse: RSET and MAIL, pipelined or not; 421, abort, RSET");
	/* without PIPELINING: RSET, then MAIL after its 250 */
	test_assert(mta_client_init(&c, "h", 0, &m1) == 0);
	test_assert(step("220 x") == MTA_DO_SEND);
	test_assert(!mta_client_reusable(&c));
	test_assert(step("250-x\n250 SIZE 5000") == MTA_DO_SEND);
	test_assert(step("250 ok") == MTA_DO_SEND);
	test_assert(step("250 ok") == MTA_DO_SEND);
	test_assert(!mta_client_reusable(&c));
	test_assert(step("354 go") == MTA_DO_BODY);
	finish(MTA_DO_BODY);
	test_assert(c.r[0].state == MTA_RCPT_OK);
	test_assert(mta_client_reusable(&c));
	/* a bad message changes nothing */
	buf_reset(cmd);
	test_assert(mta_client_next(&c, &none, cmd) == -1 && cmd->len == 0);
	test_assert(mta_client_reusable(&c) && c.r[0].state == MTA_RCPT_OK);
	buf_reset(cmd);
	test_assert(mta_client_next(&c, &m2, cmd) == MTA_DO_SEND);
	test_assert_streq(buf_cstr(cmd), "RSET\r\n");
	test_assert(c.r[0].state == MTA_RCPT_PENDING);	/* forgotten */
	test_assert(step("250 2.0.0 reset") == MTA_DO_SEND);
	test_assert_streq(buf_cstr(cmd), "MAIL FROM:<you@example.test> "
	    "SIZE=2000\r\n");
	test_assert(step("250 ok") == MTA_DO_SEND);
	test_assert_streq(buf_cstr(cmd), "RCPT TO:<b@remote.test>\r\n");
	test_assert(step("250 ok") == MTA_DO_SEND);
	test_assert_streq(buf_cstr(cmd), "RCPT TO:<c@remote.test>\r\n");
	test_assert(step("550 5.1.1 no") == MTA_DO_SEND);
	test_assert_streq(buf_cstr(cmd), "DATA\r\n");
	finish(step("354 go"));
	test_assert(c.r[0].state == MTA_RCPT_OK && c.r[1].state ==
	    MTA_RCPT_PERM);
	test_assert(mta_client_reusable(&c));
	/* refused before MAIL (SIZE): nothing sent, still reusable */
	buf_reset(cmd);
	test_assert(mta_client_next(&c, &big, cmd) == MTA_DO_DONE);
	test_assert(c.r[0].state == MTA_RCPT_PERM);
	test_assert(strncmp(c.r[0].text, "552 5.3.4 ", 10) == 0);
	test_assert(mta_client_reusable(&c));
	/* a refused RSET: for now for everyone, and the connection closes */
	buf_reset(cmd);
	test_assert(mta_client_next(&c, &m2, cmd) == MTA_DO_SEND);
	test_assert(step("500 5.5.1 what") == MTA_DO_DONE);
	test_assert_streq(buf_cstr(cmd), "QUIT\r\n");
	test_assert(c.r[0].state == MTA_RCPT_TEMP &&
	    c.r[1].state == MTA_RCPT_TEMP);
	test_assert_streq(c.r[1].text, "500 5.5.1 what");
	test_assert(!mta_client_reusable(&c));
	buf_reset(cmd);
	test_assert(mta_client_next(&c, &m1, cmd) == -1);

	/* PIPELINING: RSET, MAIL, RCPTs and DATA in one write */
	test_assert(mta_client_init(&c, "h", 0, &m1) == 0);
	test_assert(step("220 x") == MTA_DO_SEND);
	test_assert(step("250-x\n250 PIPELINING") == MTA_DO_SEND);
	test_assert(step("250 ok") == MTA_DO_SEND);
	test_assert(step("250 ok") == MTA_DO_SEND);
	finish(step("354 go"));
	test_assert(mta_client_reusable(&c));
	buf_reset(cmd);
	test_assert(mta_client_next(&c, &m2, cmd) == MTA_DO_SEND);
	test_assert_streq(buf_cstr(cmd), "RSET\r\n"
	    "MAIL FROM:<you@example.test>\r\n"
	    "RCPT TO:<b@remote.test>\r\n"
	    "RCPT TO:<c@remote.test>\r\n"
	    "DATA\r\n");
	test_assert(step("250 reset") == MTA_DO_SEND && cmd->len == 0);
	test_assert(step("250 ok") == MTA_DO_SEND && cmd->len == 0);
	test_assert(step("451 4.2.1 later") == MTA_DO_SEND && cmd->len == 0);
	test_assert(step("250 ok") == MTA_DO_SEND && cmd->len == 0);
	finish(step("354 go"));
	test_assert(c.r[0].state == MTA_RCPT_TEMP && c.r[1].state ==
	    MTA_RCPT_OK);
	/* a refused pipelined RSET: the rest is not read, not reusable */
	buf_reset(cmd);
	test_assert(mta_client_next(&c, &m2, cmd) == MTA_DO_SEND);
	test_assert(step("421 4.4.2 idle too long") == MTA_DO_DONE);
	test_assert(c.r[0].state == MTA_RCPT_TEMP &&
	    c.r[1].state == MTA_RCPT_TEMP);
	test_assert_streq(c.r[0].text, "421 4.4.2 idle too long");
	test_assert(!mta_client_reusable(&c));
	/* a 421 to a pipelined RCPT ends it: no more replies come */
	test_assert(mta_client_init(&c, "h", 0, &m2) == 0);
	test_assert(step("220 x") == MTA_DO_SEND);
	test_assert(step("250-x\n250 PIPELINING") == MTA_DO_SEND);
	test_assert(step("250 ok") == MTA_DO_SEND);
	test_assert(step("250 ok") == MTA_DO_SEND);
	test_assert(step("421 4.3.2 bye") == MTA_DO_DONE);
	test_assert(c.r[0].state == MTA_RCPT_TEMP &&
	    c.r[1].state == MTA_RCPT_TEMP);
	test_assert(!mta_client_reusable(&c));

	/* after MAIL's 421, an abort, a 554 greeting, a 4xx EHLO: never */
	test_assert(mta_client_init(&c, "h", 0, &m1) == 0);
	test_assert(step("220 x") == MTA_DO_SEND);
	test_assert(step("250 x") == MTA_DO_SEND);
	test_assert(step("421 4.3.2 shutting down") == MTA_DO_DONE);
	test_assert(c.r[0].state == MTA_RCPT_TEMP);
	test_assert(!mta_client_reusable(&c));
	buf_reset(cmd);
	test_assert(mta_client_next(&c, &m2, cmd) == -1);
	test_assert(mta_client_init(&c, "h", 0, &m1) == 0);
	test_assert(step("220 x") == MTA_DO_SEND);
	test_assert(step("250 x") == MTA_DO_SEND);
	mta_client_abort(&c, "timed out");
	test_assert(!mta_client_reusable(&c));
	test_assert(mta_client_init(&c, "h", 0, &m1) == 0);
	test_assert(step("554 no") == MTA_DO_DONE);
	test_assert(!mta_client_reusable(&c));
	test_assert(mta_client_init(&c, "h", 0, &m1) == 0);
	test_assert(step("220 x") == MTA_DO_SEND);
	test_assert(step("451 later") == MTA_DO_DONE);
	test_assert(!mta_client_reusable(&c));
	/* an idle connection kept, then broken: not reusable either */
	test_assert(mta_client_init(&c, "h", 0, &m1) == 0);
	test_assert(step("220 x") == MTA_DO_SEND);
	test_assert(step("250 x") == MTA_DO_SEND);
	test_assert(step("250 ok") == MTA_DO_SEND);
	test_assert(step("250 ok") == MTA_DO_SEND);
	finish(step("354 go"));
	test_assert(mta_client_reusable(&c));
	mta_client_abort(&c, "closed while idle");
	test_assert(!mta_client_reusable(&c));
	test_assert(c.r[0].state == MTA_RCPT_OK);	/* still the result */
	test_end();
}

static void
test_chunking(void)
{
	struct mta_client_msg	m = { "me@example.test", 1234, 1, 0, 0, "",
				    rcpts, NULL, NULL, 2 };

	test_begin("CHUNKING: BDAT LAST after the RCPTs, its reply decides");
	/* one step at a time; BODY=8BITMIME still */
	test_assert(mta_client_init(&c, "h", 0, &m) == 0);
	test_assert(c.chunking_wanted == 1);
	test_assert(step("220 x") == MTA_DO_SEND);
	test_assert(step("250-x\n250-CHUNKING\n250 8BITMIME") == MTA_DO_SEND);
	test_assert_streq(buf_cstr(cmd), "MAIL FROM:<me@example.test> "
	    "BODY=8BITMIME\r\n");
	test_assert(step("250 ok") == MTA_DO_SEND);
	test_assert(step("250 ok") == MTA_DO_SEND);
	test_assert(step("550 5.1.1 no") == MTA_DO_BDAT);
	test_assert_streq(buf_cstr(cmd), "BDAT 1234 LAST\r\n");
	test_assert(step("250 2.0.0 queued") == MTA_DO_DONE);
	test_assert_streq(buf_cstr(cmd), "QUIT\r\n");
	test_assert(c.r[0].state == MTA_RCPT_OK && c.r[0].code == 250);
	test_assert(c.r[1].state == MTA_RCPT_PERM);
	test_assert(mta_client_reusable(&c));
	/* reused, pipelined: RSET, MAIL, RCPTs, no DATA; BDAT's 554 */
	test_assert(mta_client_init(&c, "h", 0, &m) == 0);
	test_assert(step("220 x") == MTA_DO_SEND);
	test_assert(step("250-x\n250-PIPELINING\n250-CHUNKING\n250 8BITMIME")
	    == MTA_DO_SEND);
	test_assert_streq(buf_cstr(cmd),
	    "MAIL FROM:<me@example.test> BODY=8BITMIME\r\n"
	    "RCPT TO:<a@remote.test>\r\n"
	    "RCPT TO:<b@remote.test>\r\n");
	test_assert(step("250 ok") == MTA_DO_SEND && cmd->len == 0);
	test_assert(step("250 ok") == MTA_DO_SEND && cmd->len == 0);
	test_assert(step("250 ok") == MTA_DO_BDAT);
	test_assert_streq(buf_cstr(cmd), "BDAT 1234 LAST\r\n");
	test_assert(step("250 ok") == MTA_DO_DONE);
	buf_reset(cmd);
	test_assert(mta_client_next(&c, &m, cmd) == MTA_DO_SEND);
	test_assert_streq(buf_cstr(cmd), "RSET\r\n"
	    "MAIL FROM:<me@example.test> BODY=8BITMIME\r\n"
	    "RCPT TO:<a@remote.test>\r\n"
	    "RCPT TO:<b@remote.test>\r\n");
	test_assert(step("250 ok") == MTA_DO_SEND);
	test_assert(step("250 ok") == MTA_DO_SEND);
	test_assert(step("250 ok") == MTA_DO_SEND);
	test_assert(step("451 4.2.1 later") == MTA_DO_BDAT);
	test_assert(step("554 5.6.0 content refused") == MTA_DO_DONE);
	test_assert(c.r[0].state == MTA_RCPT_PERM);
	test_assert_streq(c.r[0].text, "554 5.6.0 content refused");
	test_assert(c.r[1].state == MTA_RCPT_TEMP);
	test_assert_streq(c.r[1].text, "451 4.2.1 later");
	test_assert(mta_client_reusable(&c));
	/* BDAT's 4xx: for now for every taken recipient */
	buf_reset(cmd);
	test_assert(mta_client_next(&c, &m, cmd) == MTA_DO_SEND);
	test_assert(step("250 ok") == MTA_DO_SEND);
	test_assert(step("250 ok") == MTA_DO_SEND);
	test_assert(step("250 ok") == MTA_DO_SEND);
	test_assert(step("250 ok") == MTA_DO_BDAT);
	test_assert(step("452 4.3.1 full") == MTA_DO_DONE);
	test_assert(c.r[0].state == MTA_RCPT_TEMP &&
	    c.r[1].state == MTA_RCPT_TEMP);
	test_assert_streq(c.r[1].text, "452 4.3.1 full");
	/* no recipient taken: no BDAT, the end (pipelined, and not) */
	buf_reset(cmd);
	test_assert(mta_client_next(&c, &m, cmd) == MTA_DO_SEND);
	test_assert(step("250 ok") == MTA_DO_SEND);
	test_assert(step("250 ok") == MTA_DO_SEND);
	test_assert(step("550 a") == MTA_DO_SEND);
	test_assert(step("450 b") == MTA_DO_DONE);
	test_assert_streq(buf_cstr(cmd), "QUIT\r\n");
	test_assert(c.r[0].state == MTA_RCPT_PERM &&
	    c.r[1].state == MTA_RCPT_TEMP);
	test_assert(mta_client_reusable(&c));
	/* MAIL refused with the RCPTs pipelined: their replies, then the end */
	buf_reset(cmd);
	test_assert(mta_client_next(&c, &m, cmd) == MTA_DO_SEND);
	test_assert(step("250 ok") == MTA_DO_SEND);
	test_assert(step("553 5.7.1 sender refused") == MTA_DO_SEND);
	test_assert(step("503 no MAIL") == MTA_DO_SEND);
	test_assert(step("503 no MAIL") == MTA_DO_DONE);
	test_assert_streq(c.r[1].text, "553 5.7.1 sender refused");
	test_assert(mta_client_init(&c, "h", 0, &m) == 0);
	test_assert(step("220 x") == MTA_DO_SEND);
	test_assert(step("250-x\n250-CHUNKING\n250 8BITMIME") == MTA_DO_SEND);
	test_assert(step("250 ok") == MTA_DO_SEND);
	test_assert(step("550 a") == MTA_DO_SEND);
	test_assert(step("550 b") == MTA_DO_DONE);
	test_assert_streq(buf_cstr(cmd), "QUIT\r\n");
	test_assert(c.r[0].state == MTA_RCPT_PERM &&
	    c.r[1].state == MTA_RCPT_PERM);
	/* the driver does not want it: DATA and the dot */
	test_assert(mta_client_init(&c, "h", 0, &m) == 0);
	c.chunking_wanted = 0;
	test_assert(step("220 x") == MTA_DO_SEND);
	test_assert(step("250-x\n250-PIPELINING\n250-CHUNKING\n250 8BITMIME")
	    == MTA_DO_SEND);
	test_assert_streq(buf_cstr(cmd),
	    "MAIL FROM:<me@example.test> BODY=8BITMIME\r\n"
	    "RCPT TO:<a@remote.test>\r\n"
	    "RCPT TO:<b@remote.test>\r\n"
	    "DATA\r\n");
	test_assert(step("250 ok") == MTA_DO_SEND);
	test_assert(step("250 ok") == MTA_DO_SEND);
	test_assert(step("250 ok") == MTA_DO_SEND);
	finish(step("354 go"));
	/* ... and wanted again for the next message on the connection */
	c.chunking_wanted = 1;
	buf_reset(cmd);
	test_assert(mta_client_next(&c, &m, cmd) == MTA_DO_SEND);
	test_assert(strstr(buf_cstr(cmd), "DATA") == NULL);
	test_end();
}

static void
test_required_tls(void)
{
	struct mta_client_msg	m = { "me@example.test", 10, 0, 0, 0, "",
				    rcpts, NULL, NULL, 2 };

	test_begin("required TLS (issue 15): never plaintext; AUTH after TLS");
	/* no STARTTLS offered: every recipient for now, no MAIL */
	test_assert(mta_client_init(&c, "h", 1, &m) == 0);
	c.tls_required = 1;
	test_assert(step("220 hi") == MTA_DO_SEND);
	test_assert(step("250-x\n250 PIPELINING") == MTA_DO_DONE);
	test_assert_streq(buf_cstr(cmd), "QUIT\r\n");
	test_assert(c.r[0].state == MTA_RCPT_TEMP &&
	    c.r[1].state == MTA_RCPT_TEMP);
	test_assert(strstr(c.r[0].text, "451 4.7.4 TLS is required") ==
	    c.r[0].text);
	test_assert(!mta_client_reusable(&c));
	/* STARTTLS refused */
	test_assert(mta_client_init(&c, "h", 1, &m) == 0);
	c.tls_required = 1;
	test_assert(step("220 hi") == MTA_DO_SEND);
	test_assert(step("250-x\n250 STARTTLS") == MTA_DO_SEND);
	test_assert(step("454 4.7.0 not now") == MTA_DO_DONE);
	test_assert(c.r[1].state == MTA_RCPT_TEMP &&
	    strstr(c.r[1].text, "(454 4.7.0 not now)") != NULL);
	/* EHLO refused: no HELO (it cannot give STARTTLS) */
	test_assert(mta_client_init(&c, "h", 1, &m) == 0);
	c.tls_required = 1;
	test_assert(step("220 hi") == MTA_DO_SEND);
	test_assert(step("502 no EHLO") == MTA_DO_DONE);
	test_assert(c.r[0].state == MTA_RCPT_TEMP);
	/* AUTH: after TLS, PLAIN offered; 235, then MAIL */
	test_assert(mta_client_init(&c, "h", 1, &m) == 0);
	c.tls_required = 1;
	c.auth_wanted = 1;
	test_assert(step("220 hi") == MTA_DO_SEND);
	test_assert(step("250-x\n250-AUTH PLAIN\n250 STARTTLS") ==
	    MTA_DO_SEND);
	test_assert_streq(buf_cstr(cmd), "STARTTLS\r\n");
	test_assert(step("220 go") == MTA_DO_STARTTLS);
	buf_reset(cmd);
	test_assert(mta_client_tls(&c, cmd) == MTA_DO_SEND);
	test_assert(step("250-x\n250 AUTH LOGIN PLAIN") == MTA_DO_AUTH);
	test_assert(step("235 2.7.0 ok") == MTA_DO_SEND);
	test_assert_streq(buf_cstr(cmd), "MAIL FROM:<me@example.test>\r\n");
	/* AUTH refused: for now, with the server's reply */
	test_assert(mta_client_init(&c, "h", 1, &m) == 0);
	c.tls_required = 1;
	c.auth_wanted = 1;
	test_assert(step("220 hi") == MTA_DO_SEND);
	test_assert(step("250-x\n250 STARTTLS") == MTA_DO_SEND);
	test_assert(step("220 go") == MTA_DO_STARTTLS);
	buf_reset(cmd);
	test_assert(mta_client_tls(&c, cmd) == MTA_DO_SEND);
	test_assert(step("250-x\n250 AUTH PLAIN") == MTA_DO_AUTH);
	test_assert(step("535 5.7.8 bad credentials") == MTA_DO_DONE);
	test_assert(c.r[0].state == MTA_RCPT_TEMP);
	test_assert_streq(c.r[0].text, "451 4.7.8 the server refused our AUTH "
	    "(535 5.7.8 bad credentials)");
	/* AUTH not offered after TLS */
	test_assert(mta_client_init(&c, "h", 1, &m) == 0);
	c.tls_required = 1;
	c.auth_wanted = 1;
	test_assert(step("220 hi") == MTA_DO_SEND);
	test_assert(step("250-x\n250 STARTTLS") == MTA_DO_SEND);
	test_assert(step("220 go") == MTA_DO_STARTTLS);
	buf_reset(cmd);
	test_assert(mta_client_tls(&c, cmd) == MTA_DO_SEND);
	test_assert(step("250-x\n250 AUTH LOGIN") == MTA_DO_DONE);
	test_assert(c.r[1].state == MTA_RCPT_TEMP);
	test_end();
}

int
main(void)
{
	static void (*tests[])(void) = { test_plain, test_pipelining,
	    test_refusals, test_reuse, test_chunking, test_required_tls,
	    NULL };
	int	rc;

	cmd = buf_new(65536);
	rc = test_run(tests);
	buf_free(&cmd);
	return rc;
}
