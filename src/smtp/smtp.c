/* SPDX-License-Identifier: ISC */
/*
 * smtp.c - the smtp-session process: one per SMTP connection on the smtp,
 * submission and submissions listeners.
 *
 * For now it greets, answers QUIT, NOOP, RSET and HELP, and refuses every
 * other command with 502 (known verbs) or 500 (unknown); the full ESMTP
 * state machine replaces the command loop in the SMTP issue.
 *
 * Process:  smtp (unprivileged, exec'd by the master per connection).
 * Trust:    every byte from the socket is hostile; lines are bounded before
 *           they are looked at, NUL bytes are refused.
 * Limits:   SMTP_LINE_MAX, SMTP_MAX_ERRORS, SMTP_TIMEOUT_MS.
 * See also: common/session.c, common/io.c.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "session.h"
#include "banned.h"

#define SMTP_LINE_MAX	512		/* RFC 5321 4.5.3.1.4, incl. CRLF */
#define SMTP_MAX_ERRORS	10
#define SMTP_TIMEOUT_MS	(300 * 1000)	/* RFC 5321 4.5.3.2.7: 5 minutes */

/* Verbs of RFC 5321 and its extensions that are not served yet. */
static const char *smtp_later[] = {
	"EHLO", "HELO", "MAIL", "RCPT", "DATA", "BDAT", "VRFY", "EXPN",
	"STARTTLS", "AUTH", NULL
};

static int
smtp_verb_is(const char *line, size_t vlen, const char *verb)
{
	return strlen(verb) == vlen && strncasecmp(line, verb, vlen) == 0;
}

static void
smtp_error(struct session *s)
{
	if (++s->errors >= SMTP_MAX_ERRORS) {
		session_reply(s, "421 4.7.0 %s Too many errors\r\n", s->hostname);
		session_end(s, "too-many-errors");
	}
}

static void
smtp_command(struct session *s, const char *line, size_t len)
{
	char	esc[64];
	size_t	vlen;
	int	i;

	for (vlen = 0; vlen < len && line[vlen] != ' '; vlen++)
		;
	log_debug("%016" PRIx64 " smtp event=command verb=%s", s->id,
	    log_esc(esc, sizeof(esc), line, vlen));

	if (smtp_verb_is(line, vlen, "QUIT")) {
		if (vlen != len) {
			session_reply(s, "501 5.5.4 Syntax error in "
			    "parameters\r\n");
			smtp_error(s);
			return;
		}
		session_reply(s, "221 2.0.0 %s Bye\r\n", s->hostname);
		session_end(s, "quit");
	}
	if (smtp_verb_is(line, vlen, "NOOP") ||
	    smtp_verb_is(line, vlen, "RSET")) {
		session_reply(s, "250 2.0.0 Ok\r\n");
		return;
	}
	if (smtp_verb_is(line, vlen, "HELP")) {
		session_reply(s, "214 2.0.0 %s sealpost: this server does not "
		    "accept mail yet\r\n", s->hostname);
		return;
	}
#ifdef SP_TEST_HOOKS
	if (smtp_verb_is(line, vlen, "XSPTEST")) {
		char	reply[512];

		session_test_hook(s, line + vlen, reply, sizeof(reply));
		session_reply(s, "250 2.0.0 %s\r\n", reply);
		return;
	}
#endif
	for (i = 0; smtp_later[i] != NULL; i++) {
		if (smtp_verb_is(line, vlen, smtp_later[i])) {
			session_reply(s, "502 5.5.1 Command not implemented\r\n");
			smtp_error(s);
			return;
		}
	}
	session_reply(s, "500 5.5.2 Command unrecognized\r\n");
	smtp_error(s);
}

int
main(int argc, char **argv)
{
	struct session	 s;
	char		*line;
	size_t		 len;

	session_init(&s, argc, argv, "smtp", ROLE_SMTP, SMTP_TIMEOUT_MS);
	if (s.implicit_tls && session_tls_start(&s) == -1)
		session_end(&s, "tls-failed");
	session_reply(&s, "220 %s ESMTP sealpost\r\n", s.hostname);

	for (;;) {
		switch (io_getline(&s.io, SMTP_LINE_MAX - 2, &line, &len)) {
		case IO_LINE:
			if (strlen(line) != len) {
				/* SECURITY: nothing after a NUL is a command */
				session_reply(&s, "500 5.5.2 Syntax error: NUL "
				    "byte in command\r\n");
				smtp_error(&s);
				break;
			}
			smtp_command(&s, line, len);
			break;
		case IO_TOOLONG:
			session_reply(&s, "500 5.5.2 Line too long\r\n");
			smtp_error(&s);
			break;
		case IO_TIMEOUT:
			session_reply(&s, "421 4.4.2 %s Timeout exceeded\r\n",
			    s.hostname);
			session_end(&s, "timeout");
		case IO_STOP:
			session_reply(&s, "421 4.3.2 %s Service shutting "
			    "down\r\n", s.hostname);
			session_end(&s, "shutdown");
		case IO_LOST:
			session_reply(&s, "421 4.3.0 %s Service temporarily "
			    "unavailable, try again later\r\n", s.hostname);
			session_end(&s, "service-lost");
		case IO_EOF:
			session_end(&s, "client-closed");
		case IO_ERROR:
		default:
			session_end(&s, "io-error");
		}
	}
}
