/* SPDX-License-Identifier: ISC */
/*
 * pop3_login.c - the pop3-login process: one per POP3 connection (pop3 and
 * pop3s listeners), up to a successful login.
 *
 * For now it greets, answers CAPA and QUIT, and refuses the rest: USER,
 * PASS, APOP, AUTH and STLS with -ERR [SYS/PERM] (no account can log in
 * until the store and auth service exist), anything else with -ERR.  The
 * POP3 issue replaces this loop with the full AUTHORIZATION state.
 *
 * Process:  pop3-login (unprivileged, exec'd by the master per connection).
 * Trust:    every byte from the socket is hostile; lines are bounded before
 *           they are looked at, NUL bytes refused.
 * Limits:   POP3_LINE_MAX, POP3_MAX_ERRORS, POP3_TIMEOUT_MS.
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

#define POP3_LINE_MAX	255		/* RFC 2449 4: incl. CRLF */
#define POP3_MAX_ERRORS	10
#define POP3_TIMEOUT_MS	(600 * 1000)	/* RFC 1939 3: at least 10 minutes */

static const char *pop3_later[] = {
	"USER", "PASS", "APOP", "AUTH", "STLS", NULL
};

static void
pop3_error(struct session *s)
{
	if (++s->errors >= POP3_MAX_ERRORS) {
		session_reply(s, "-ERR Too many errors\r\n");
		session_end(s, "too-many-errors");
	}
}

static int
pop3_verb_is(const char *line, size_t vlen, const char *verb)
{
	return strlen(verb) == vlen && strncasecmp(line, verb, vlen) == 0;
}

static void
pop3_command(struct session *s, const char *line, size_t len)
{
	char	esc[64];
	size_t	vlen;
	int	i;

	for (vlen = 0; vlen < len && line[vlen] != ' '; vlen++)
		;
	log_debug("%016" PRIx64 " pop3-login event=command verb=%s", s->id,
	    log_esc(esc, sizeof(esc), line, vlen));

	if (pop3_verb_is(line, vlen, "QUIT") && vlen == len) {
		session_reply(s, "+OK %s POP3 server signing off\r\n",
		    s->hostname);
		session_end(s, "quit");
	}
	if (pop3_verb_is(line, vlen, "CAPA") && vlen == len) {
		/* RFC 2449 5: multi-line, dot-terminated. */
		session_reply(s, "+OK Capability list follows\r\n"
		    "RESP-CODES\r\n.\r\n");
		return;
	}
	for (i = 0; pop3_later[i] != NULL; i++) {
		if (pop3_verb_is(line, vlen, pop3_later[i])) {
			session_reply(s, "-ERR [SYS/PERM] Login is not "
			    "available on this server yet\r\n");
			pop3_error(s);
			return;
		}
	}
	session_reply(s, "-ERR Unknown command\r\n");
	pop3_error(s);
}

int
main(int argc, char **argv)
{
	struct session	 s;
	char		*line;
	size_t		 len;

	session_init(&s, argc, argv, "pop3-login", ROLE_POP3_LOGIN,
	    POP3_TIMEOUT_MS);
	if (s.implicit_tls && session_tls_start(&s) == -1)
		session_end(&s, "tls-failed");
	session_reply(&s, "+OK %s POP3 server ready\r\n", s.hostname);

	for (;;) {
		switch (io_getline(&s.io, POP3_LINE_MAX - 2, &line, &len)) {
		case IO_LINE:
			if (strlen(line) != len) {
				session_reply(&s, "-ERR NUL byte in "
				    "command\r\n");
				pop3_error(&s);
				break;
			}
			pop3_command(&s, line, len);
			break;
		case IO_TOOLONG:
			session_reply(&s, "-ERR Line too long\r\n");
			pop3_error(&s);
			break;
		case IO_TIMEOUT:
			session_reply(&s, "-ERR Autologout; idle for too "
			    "long\r\n");
			session_end(&s, "timeout");
		case IO_STOP:
			session_reply(&s, "-ERR [SYS/TEMP] Server shutting "
			    "down\r\n");
			session_end(&s, "shutdown");
		case IO_LOST:
			session_reply(&s, "-ERR [SYS/TEMP] Internal service "
			    "restarting, try again\r\n");
			session_end(&s, "service-lost");
		case IO_EOF:
			session_end(&s, "client-closed");
		case IO_ERROR:
		default:
			session_end(&s, "io-error");
		}
	}
}
