/* SPDX-License-Identifier: ISC */
/*
 * fuzz_mta_client.c - libFuzzer target for the outbound SMTP conversation
 * (mta_client.c): the first byte shapes the message (1 to 5 recipients,
 * 8-bit, UTF-8, a size, BDAT wanted or not), then each byte is the
 * server's next reply (a code, and for 250 a set of EHLO keywords).
 * After DONE, when the connection is reusable, the next byte (when odd)
 * shapes another message (0 to 5 recipients: 0 must be refused) sent on
 * the same connection with mta_client_next, at most 4 in all.  Whatever
 * the server says, every transaction ends within a bounded number of
 * steps; commands are CR LF lines, RSET comes first on a reused
 * connection, BDAT only when CHUNKING is offered and wanted, a recipient
 * taken and with the message's size, never along with DATA; when a
 * transaction ends (or the input does, and the connection is dropped)
 * every recipient has an outcome.
 */
#include "config.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "mta_client.h"
#include "banned.h"

static const int	codes[] = { 220, 250, 250, 250, 354, 421, 451, 452,
			    500, 502, 503, 550, 552, 553, 554, 221 };
static const char *const kws[] = { "STARTTLS", "PIPELINING", "8BITMIME",
			    "SMTPUTF8", "SIZE 5000", "DSN", "CHUNKING",
			    "ENHANCEDSTATUSCODES" };

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Every recipient of the transaction that ended has an outcome. */
static void
check_outcomes(const struct mta_client *c, const struct mta_client_msg *m)
{
	size_t	k;

	for (k = 0; k < m->nrcpts; k++)
		if (c->r[k].state == MTA_RCPT_PENDING)
			abort();
}

/* What the step's command may be. */
static void
check_cmd(const struct mta_client *c, const struct mta_client_msg *m,
    const struct buf *cmd, int act)
{
	char	want[64];
	size_t	k;

	/* a command line never holds a bare CR or LF, and ends with CR LF */
	for (k = 0; k < cmd->len; k++)
		if ((cmd->data[k] == '\n') != (k > 0 &&
		    cmd->data[k - 1] == '\r'))
			abort();
	if (cmd->len > 0 && cmd->data[cmd->len - 1] != '\n')
		abort();
	if (act == MTA_DO_BDAT) {
		if (!c->chunking_wanted || !(c->exts & MTA_EXT_CHUNKING) ||
		    c->accepted == 0)
			abort();
		(void)snprintf(want, sizeof(want), "BDAT %" PRIu64 " LAST\r\n",
		    m->size);
		if (cmd->len != strlen(want) ||
		    memcmp(cmd->data, want, cmd->len) != 0)
			abort();
	}
	if (act == MTA_DO_BODY && c->chunking)
		abort();
	if (c->chunking && memmem(cmd->data, cmd->len, "DATA\r\n", 6) != NULL)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const rcpts[5] = { "a@x.test", "b@x.test",
	    "c@x.test", "d@x.test", "e@x.test" };
	static struct mta_client	 c;
	struct mta_client_msg		 m;
	struct mta_reply		 r;
	struct buf			*cmd;
	const char			*why;
	char				 line[128];
	size_t				 i, k, steps = 0, tx = 1;
	int				 act = 0, done = 0, code;
	uint8_t				 b;

	if (size < 1)
		return 0;
	memset(&m, 0, sizeof(m));
	m.from = (data[0] & 0x80) ? "" : "me@example.test";
	m.nrcpts = 1 + data[0] % 5;
	m.rcpts = rcpts;
	m.body8 = (data[0] >> 3) & 1;
	m.smtputf8 = (data[0] >> 4) & 1;
	m.size = (data[0] & 0x20) ? 9000 : 100;
	m.envid = "";
	if (mta_client_init(&c, "h.example.test", (data[0] >> 6) & 1, &m) ==
	    -1)
		abort();
	c.chunking_wanted = (data[0] / 5) & 1;
	cmd = buf_new(1 << 20);
	for (i = 1; i < size; i++) {
		if (done) {
			check_outcomes(&c, &m);
			/* the connection kept for another message? */
			b = data[i];
			if (!(b & 1) || !mta_client_reusable(&c) || tx >= 4)
				break;
			m.from = (b & 0x80) ? "" : "you@example.test";
			m.nrcpts = (b >> 1) % 6;
			m.body8 = (b >> 3) & 1;
			m.smtputf8 = (b >> 4) & 1;
			m.size = (b & 0x20) ? 9000 : 100 + b;
			c.chunking_wanted = (b >> 6) & 1;
			buf_reset(cmd);
			act = mta_client_next(&c, &m, cmd);
			if (m.nrcpts == 0) {
				/* refused, and nothing changed */
				if (act != -1 || cmd->len != 0 ||
				    !mta_client_reusable(&c))
					abort();
				continue;
			}
			tx++;
			steps = 0;
			if (act == MTA_DO_DONE) {
				if (cmd->len != 6 || memcmp(cmd->data,
				    "QUIT\r\n", 6) != 0)
					abort();
				continue;
			}
			if (act != MTA_DO_SEND || cmd->len < 6 ||
			    memcmp(cmd->data, "RSET\r\n", 6) != 0)
				abort();
			check_cmd(&c, &m, cmd, act);
			done = 0;
			continue;
		}
		code = codes[data[i] & 15];
		mta_reply_init(&r);
		if (code == 250 && (data[i] & 0x10)) {
			/* an EHLO-like reply: keywords from the next byte */
			uint8_t kb = i + 1 < size ? data[++i] : 0;

			(void)mta_reply_line(&r, "250-hello", 9, &why);
			for (k = 0; k < 8; k++)
				if (kb & (1 << k)) {
					snprintf(line, sizeof(line), "250-%s",
					    kws[k]);
					(void)mta_reply_line(&r, line,
					    strlen(line), &why);
				}
			(void)mta_reply_line(&r, "250 end", 7, &why);
		} else {
			snprintf(line, sizeof(line), "%d 9.9.9 x", code);
			(void)mta_reply_line(&r, line, strlen(line), &why);
		}
		if (!r.done)
			abort();
		buf_reset(cmd);
		act = mta_client_reply(&c, &r, cmd);
		if (act == MTA_DO_STARTTLS) {
			buf_reset(cmd);
			act = mta_client_tls(&c, cmd);
		}
		if (act == MTA_DO_DONE)
			done = 1;
		else if (act != MTA_DO_SEND && act != MTA_DO_BODY &&
		    act != MTA_DO_BDAT)
			abort();
		else if (mta_client_reusable(&c))
			abort();	/* only at the end */
		check_cmd(&c, &m, cmd, act);
		/*
		 * every transaction ends: greeting, EHLO twice, STARTTLS,
		 * HELO, (RSET,) MAIL, 5 RCPTs, DATA, the dot or an empty
		 * message: a handful of steps
		 */
		if (++steps > 20)
			abort();
	}
	if (done)
		check_outcomes(&c, &m);
	else {
		mta_client_abort(&c, "the input ended");
		check_outcomes(&c, &m);
		if (mta_client_reusable(&c))
			abort();
	}
	buf_free(&cmd);
	return 0;
}
