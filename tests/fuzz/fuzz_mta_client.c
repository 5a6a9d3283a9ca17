/* SPDX-License-Identifier: ISC */
/*
 * fuzz_mta_client.c - libFuzzer target for the outbound SMTP conversation
 * (mta_client.c): the first byte shapes the message (1 to 5 recipients,
 * 8-bit, UTF-8, a size), then each byte is the server's next reply (a
 * code, and for 250 a set of EHLO keywords).  Whatever the server says,
 * the conversation ends within a bounded number of steps, and when it
 * ends (or the input does, and the connection is dropped) every recipient
 * has an outcome.
 */
#include "config.h"

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
	size_t				 i, k, steps = 0;
	int				 act = 0, done = 0, code;

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
	cmd = buf_new(1 << 20);
	for (i = 1; i < size && !done; i++, steps++) {
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
		else if (act != MTA_DO_SEND && act != MTA_DO_BODY)
			abort();
		/* a command line never holds a bare CR or LF */
		for (k = 0; k < cmd->len; k++)
			if ((cmd->data[k] == '\n') != (k > 0 &&
			    cmd->data[k - 1] == '\r'))
				abort();
	}
	/* every conversation ends: at most MAIL, 5 RCPTs, DATA, the dot,
	 * greeting, EHLO twice, STARTTLS, HELO: a handful of steps */
	if (steps > 20 && !done)
		abort();
	if (!done)
		mta_client_abort(&c, "the input ended");
	for (k = 0; k < m.nrcpts; k++)
		if (c.r[k].state == MTA_RCPT_PENDING)
			abort();
	buf_free(&cmd);
	return 0;
}
