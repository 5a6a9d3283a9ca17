/* SPDX-License-Identifier: ISC */
/*
 * pop3_login.c - the pop3-login process: one per POP3 connection (pop3 and
 * pop3s listeners), the AUTHORIZATION state (RFC 1939 4) up to a
 * successful login.
 *
 * It greets and answers CAPA (RFC 2449), STLS (RFC 2595), USER and PASS
 * (RFC 1939 7), AUTH PLAIN with an initial response or a continuation
 * (RFC 5034, RFC 4616) and QUIT; lines are parsed by pop3_cmd.c.  Without
 * TLS no credentials are taken: USER, PASS and AUTH get -ERR [AUTH] and
 * the password is never looked at (RFC 2595 2.2, SECURITY-TESTS T15).
 * The credentials go to the auth service; on success auth tells the
 * master, the master starts the account's pop3-mail process and hands its
 * socket to us, and from then on this process only relays bytes
 * (session_proxy).  pop3-mail, not this process, answers the PASS or
 * AUTH: only it can say whether the maildrop could be locked (+OK, or
 * -ERR [IN-USE]).
 *
 * Process:  pop3-login (unprivileged, exec'd by the master per connection).
 * Trust:    every byte from the socket is hostile; lines are bounded before
 *           they are looked at (RFC 2449 4: 255 octets), controls refused.
 *           A PASS line, an AUTH response and their copies are wiped after
 *           use; the password lives in sodium_malloc memory.
 * Limits:   POP3_CMD_LINE_MAX, POP3_MAX_ERRORS, POP3_TIMEOUT_PRELOGIN_MS
 *           (a whole line must arrive within it), POP3_SASL_LINE_MAX.
 * See also: pop3_cmd.c, pop3_mail.c, common/session.c, common/sasl.c.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "log.h"
#include "ipc.h"
#include "ipc_types.h"
#include "session.h"
#include "pop3_cmd.h"
#include "sasl.h"
#include "banned.h"

#define POP3_MAX_ERRORS		10
/*
 * Before login a client sends its commands at once: a line must be whole
 * within a minute, as IMAP's (a slow sender holds no process longer).
 * RFC 1939 3's ten-minute autologout is pop3-mail's, after login.
 */
#define POP3_TIMEOUT_PRELOGIN_MS (60 * 1000)
/* An AUTH PLAIN response after "+ ": base64 of SASL_PLAIN_MAX bytes. */
#define POP3_SASL_LINE_MAX	(4 * ((SASL_PLAIN_MAX + 2) / 3))
#define POP3_USER_MAX		POP3_CMD_LINE_MAX	/* a USER argument */
#define POP3_AUTHCID_MAX	320	/* RFC 5321 4.5.3.1 address, as IMAP */
#define POP3_PASS_MAX		POP3_CMD_LINE_MAX	/* the rest of a line */

/*
 * RFC 2449 5.  Before TLS nothing that takes credentials is offered (RFC
 * 2595 4: no USER or SASL), STLS when this listener has TLS; after it
 * USER and SASL PLAIN and no STLS.  Capabilities of the TRANSACTION state
 * are pop3-mail's.
 */
#define POP3_CAPS_COMMON	"TOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\n" \
				"PIPELINING\r\n"
#define POP3_CAPS_PLAIN		POP3_CAPS_COMMON "STLS\r\n"
#define POP3_CAPS_PLAIN_NOTLS	POP3_CAPS_COMMON
#define POP3_CAPS_TLS		POP3_CAPS_COMMON "USER\r\nSASL PLAIN\r\n"

static struct ipc_msg	reply;			/* 64 KiB: not on the stack */
static char		user[POP3_USER_MAX + 1];	/* after USER, or "" */

static void
pop3_error(struct session *s)
{
	if (++s->errors >= POP3_MAX_ERRORS) {
		session_reply(s, "-ERR Too many errors\r\n");
		session_end(s, "too-many-errors");
	}
}

/* No credentials before TLS (RFC 2595 2.2; RFC 3206 [AUTH]). */
static int
pop3_need_tls(struct session *s)
{
	if (s->io.tls != NULL)
		return 0;
	session_reply(s, "-ERR [AUTH] Login only over TLS%s\r\n",
	    s->tls_ctx != NULL ? ": use STLS first" : "");
	pop3_error(s);
	return -1;
}

/*
 * The credentials to auth (pass is wiped here once auth has it; the
 * caller frees it); on success wait for the mail process and relay: it
 * answers the command (never returns).  Otherwise the -ERR.
 */
static void
pop3_do_login(struct session *s, const char *name, unsigned char *pass,
    size_t passlen)
{
	struct ipc_out	*out;
	const char	*text;
	uint64_t	 account;	/* the master tells us which, later */
	uint32_t	 result;
	int		 r, fd;

	out = ipc_out_new(IMSG_AUTH_LOGIN, 0, -1);
	ipc_add_u64(out, s->id);
	ipc_add_str(out, name);
	ipc_add_data(out, pass, passlen);
	sodium_memzero(pass, passlen);
	io_wipe_spent(&s->io);
	r = session_call(s, SVC_AUTH, out, &reply);
	if (r == -1 || ipc_get_u32(&reply, &result) == -1 ||
	    ipc_get_str(&reply, &text, 256) == -1 ||
	    ipc_get_u64(&reply, &account) == -1 || ipc_end(&reply) == -1) {
		session_reply(s, "-ERR [SYS/TEMP] Internal service "
		    "restarting, try again\r\n");
		session_end(s, "service-lost");
	}
	user[0] = '\0';		/* RFC 1939 7: a new USER after a failure */
	if (result != AUTH_RESULT_OK) {
		/* the same answer whether the user exists or not */
		session_reply(s, "-ERR %s\r\n", result == AUTH_RESULT_TEMP ?
		    "[SYS/TEMP] Too many failed logins, try again later" :
		    "[AUTH] Authentication failed");
		pop3_error(s);
		return;
	}
	if (session_wait_mail(s, &fd) == -1) {
		session_reply(s, "-ERR [SYS/TEMP] Login temporarily "
		    "unavailable, try again\r\n");
		pop3_error(s);
		return;
	}
	session_proxy(s, fd);
}

/* RFC 1939 7 USER: the name for the PASS that follows. */
static void
pop3_user(struct session *s, const struct pop3_cmd *c)
{
	if (pop3_need_tls(s) == -1)
		return;
	SP_ASSERT(c->arglen < sizeof(user));
	memcpy(user, c->arg, c->arglen);
	user[c->arglen] = '\0';
	if (strlen(user) != c->arglen) {	/* the parser refuses NUL */
		user[0] = '\0';
		session_reply(s, "-ERR Invalid arguments\r\n");
		pop3_error(s);
		return;
	}
	/* the same whether the name exists or not (T22) */
	session_reply(s, "+OK Send the password\r\n");
}

/* RFC 1939 7 PASS: the rest of the line is the password. */
static void
pop3_pass(struct session *s, const struct pop3_cmd *c)
{
	unsigned char	*pass;

	if (pop3_need_tls(s) == -1)
		return;
	if (user[0] == '\0') {
		session_reply(s, "-ERR Send USER first\r\n");
		pop3_error(s);
		return;
	}
	SP_ASSERT(c->arglen <= POP3_PASS_MAX);
	if ((pass = sodium_malloc(POP3_PASS_MAX + 1)) == NULL)
		fatal("pop3-login: sodium_malloc");
	memcpy(pass, c->arg, c->arglen);
	pop3_do_login(s, user, pass, c->arglen);
	sodium_free(pass);
}

/*
 * RFC 5034 AUTH: without a mechanism, the list (the SASL capability's);
 * PLAIN with an initial response ("=": empty) or after a "+ "
 * continuation; a "*" cancels.
 */
static void
pop3_auth(struct session *s, const struct pop3_cmd *c)
{
	char		 name[POP3_AUTHCID_MAX + 1], *line, *ir;
	unsigned char	*pass;
	size_t		 len, passlen;
	int		 r;

	if (pop3_need_tls(s) == -1)
		return;
	if (c->arg == NULL) {
		session_reply(s, "+OK Mechanisms follow\r\nPLAIN\r\n.\r\n");
		return;
	}
	if (c->arglen != 5 || strncasecmp(c->arg, "PLAIN", 5) != 0) {
		session_reply(s, "-ERR Unsupported authentication "
		    "mechanism\r\n");
		pop3_error(s);
		return;
	}
	if (c->arg2 != NULL) {
		if ((ir = sodium_malloc(c->arg2len + 1)) == NULL)
			fatal("pop3-login: sodium_malloc");
		memcpy(ir, c->arg2, c->arg2len);
		ir[c->arg2len] = '\0';
	} else {
		session_reply(s, "+ \r\n");
		switch (io_getline(&s->io, POP3_SASL_LINE_MAX, &line, &len)) {
		case IO_LINE:
			break;
		case IO_TOOLONG:
			io_wipe_spent(&s->io);
			session_reply(s, "-ERR Line too long\r\n");
			pop3_error(s);
			return;
		case IO_TIMEOUT:
			session_reply(s, "-ERR Autologout; idle for too "
			    "long\r\n");
			session_end(s, "timeout");
		default:
			session_end(s, "client-closed");
		}
		if ((ir = sodium_malloc(len + 1)) == NULL)
			fatal("pop3-login: sodium_malloc");
		memcpy(ir, line, len + 1);
		io_wipe_spent(&s->io);
		if (strcmp(ir, "*") == 0) {
			sodium_free(ir);
			/* RFC 5034 4: a cancelled exchange fails */
			session_reply(s, "-ERR Authentication cancelled\r\n");
			return;
		}
	}
	if ((pass = sodium_malloc(SASL_PLAIN_MAX + 1)) == NULL)
		fatal("pop3-login: sodium_malloc");
	/* the same decoder as SMTP and IMAP (common/sasl.c) */
	r = sasl_plain_decode(ir, name, sizeof(name), pass, SASL_PLAIN_MAX + 1,
	    &passlen);
	sodium_free(ir);
	if (r == -1) {
		sodium_free(pass);
		io_wipe_spent(&s->io);
		session_reply(s, "-ERR [AUTH] Invalid SASL PLAIN response\r\n");
		pop3_error(s);
		return;
	}
	pop3_do_login(s, name, pass, passlen);
	sodium_free(pass);
}

/* RFC 2595 4 STLS on the plaintext listener. */
static void
pop3_stls(struct session *s)
{
	if (s->io.tls != NULL) {
		session_reply(s, "-ERR Command not permitted when TLS "
		    "active\r\n");
		pop3_error(s);
		return;
	}
	if (s->tls_ctx == NULL) {
		session_reply(s, "-ERR STLS not available\r\n");
		pop3_error(s);
		return;
	}
	/* SECURITY: nothing sent before the handshake counts after it */
	if (io_buffered(&s->io) > 0) {
		session_reply(s, "-ERR Commands pipelined after STLS\r\n");
		session_end(s, "starttls-pipelining");
	}
	session_reply(s, "+OK Begin TLS negotiation now\r\n");
	user[0] = '\0';		/* T14: no state crosses the handshake */
	if (session_tls_start(s) == -1)
		session_end(s, "tls-failed");
}

static void
pop3_command(struct session *s, const char *line, size_t len)
{
	struct pop3_cmd	 c;
	const char	*err;
	char		 esc[32];

	memset(&c, 0, sizeof(c));
	if (pop3_cmd_parse(line, len, &c, &err) == -1) {
		/* a refused PASS or AUTH line may hold a secret: wipe it */
		if (c.verb == POP3_PASS || c.verb == POP3_AUTH)
			io_wipe_spent(&s->io);
		session_reply(s, "-ERR %s\r\n", err);
		pop3_error(s);
		return;
	}
	/* the keyword only (never a PASS argument), escaped */
	log_debug("%016" PRIx64 " pop3-login event=command verb=%s", s->id,
	    log_esc(esc, sizeof(esc), line, len < 4 ? len : 4));
	switch (c.verb) {
	case POP3_QUIT:
		session_reply(s, "+OK %s POP3 server signing off\r\n",
		    s->hostname);
		session_end(s, "quit");
	case POP3_CAPA:
		session_reply(s, "+OK Capability list follows\r\n%s.\r\n",
		    s->io.tls != NULL ? POP3_CAPS_TLS : s->tls_ctx != NULL ?
		    POP3_CAPS_PLAIN : POP3_CAPS_PLAIN_NOTLS);
		break;
	case POP3_STLS:
		pop3_stls(s);
		break;
	case POP3_USER:
		pop3_user(s, &c);
		break;
	case POP3_PASS:
		pop3_pass(s, &c);
		io_wipe_spent(&s->io);
		break;
	case POP3_AUTH:
		pop3_auth(s, &c);
		io_wipe_spent(&s->io);
		break;
	case POP3_APOP:
		/* no timestamp in the greeting: APOP is not offered */
		session_reply(s, "-ERR APOP not supported\r\n");
		pop3_error(s);
		break;
	case POP3_UNKNOWN:
		session_reply(s, "-ERR Unknown command\r\n");
		pop3_error(s);
		break;
	default:
		session_reply(s, "-ERR Command not valid in the AUTHORIZATION "
		    "state\r\n");
		pop3_error(s);
		break;
	}
}

int
main(int argc, char **argv)
{
	struct session	 s;
	char		*line;
	size_t		 len;

	session_init(&s, argc, argv, "pop3-login", ROLE_POP3_LOGIN,
	    POP3_TIMEOUT_PRELOGIN_MS);
#ifdef SP_TEST_HOOKS
	{
		const char	*v, *errstr;

		if ((v = child_opt(&s.args, "timeouts")) != NULL) {
			s.io.timeout_ms = (int)strtonum(v, 100, 60000, &errstr);
			if (errstr != NULL)
				fatalx("pop3-login: bad timeouts from the "
				    "master");
		}
	}
#endif
	if (s.implicit_tls && session_tls_start(&s) == -1)
		session_end(&s, "tls-failed");
	session_reply(&s, "+OK %s POP3 server ready\r\n", s.hostname);

	for (;;) {
		switch (io_getline(&s.io, POP3_CMD_LINE_MAX - 2, &line, &len)) {
		case IO_LINE:
			pop3_command(&s, line, len);
			break;
		case IO_TOOLONG:
			/* it may have been a PASS line */
			io_wipe_spent(&s.io);
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
