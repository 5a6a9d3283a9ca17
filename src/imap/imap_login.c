/* SPDX-License-Identifier: ISC */
/*
 * imap_login.c - the imap-login process: one per IMAP connection (imap and
 * imaps listeners), up to a successful login.
 *
 * For now it greets, answers CAPABILITY, NOOP and LOGOUT, and takes LOGIN
 * over TLS: the credentials go to the auth service; on success auth tells
 * the master, the master starts the account's mail process and hands its
 * socket to us, and from then on this process only relays bytes between
 * the client and the mail process (session_proxy).  Without TLS, LOGIN
 * gets NO [PRIVACYREQUIRED] (RFC 5530).  Anything else gets BAD.  The IMAP
 * issue replaces this loop with the command parser and table.
 *
 * Process:  imap-login (unprivileged, exec'd by the master per connection).
 * Trust:    every byte from the socket is hostile; lines are bounded before
 *           they are looked at; a tag is echoed only when it is valid
 *           (RFC 3501 9: tag = 1*<any ASTRING-CHAR except "+">).
 * Limits:   IMAP_LINE_MAX, IMAP_MAX_ERRORS, IMAP_TIMEOUT_PRELOGIN_MS.
 * See also: common/session.c, common/io.c.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "log.h"
#include "ipc.h"
#include "ipc_types.h"
#include "session.h"
#include "imap_parse.h"
#include "smtp_parse.h"
#include "banned.h"

#define IMAP_LINE_MAX		8192
#define IMAP_MAX_ERRORS		10
#define IMAP_TIMEOUT_PRELOGIN_MS (60 * 1000)
#define IMAP_USER_MAX		320	/* RFC 5321 4.5.3.1 address */
#define IMAP_PASS_MAX		1024
/*
 * Without TLS no login of any kind (RFC 3501 6.2.3, 7.2.1; RFC 9051
 * 6.2.3): LOGINDISABLED and no AUTH= until STARTTLS.
 */
#define IMAP_CAPS_PLAIN		"IMAP4rev1 STARTTLS LOGINDISABLED ID"
#define IMAP_CAPS_PLAIN_NOTLS	"IMAP4rev1 LOGINDISABLED ID"
#define IMAP_CAPS_TLS		"IMAP4rev1 SASL-IR AUTH=PLAIN ID"
#define IMAP_CAPS_MAIL		"IMAP4rev1 LITERAL+ NAMESPACE UNSELECT UIDPLUS MOVE ENABLE ID IDLE" /* = imap_mail.c */

static struct ipc_msg	reply;	/* 64 KiB: not on the stack */

static void
imap_error(struct session *s)
{
	if (++s->errors >= IMAP_MAX_ERRORS) {
		session_reply(s, "* BYE Too many invalid commands\r\n");
		session_end(s, "too-many-errors");
	}
}

/* Does the line end in a literal announcement, {N} or {N+}? */
static int
imap_ends_in_literal(const char *line, size_t len)
{
	size_t	i;

	if (len < 3 || line[len - 1] != '}')
		return 0;
	i = len - 2;
	if (line[i] == '+')
		i--;
	if (i == 0 || line[i] < '0' || line[i] > '9')
		return 0;
	while (i > 0 && line[i] >= '0' && line[i] <= '9')
		i--;
	return line[i] == '{';
}

static const char *
imap_caps(struct session *s)
{
	if (s->io.tls != NULL)
		return IMAP_CAPS_TLS;
	return s->tls_ctx != NULL ? IMAP_CAPS_PLAIN : IMAP_CAPS_PLAIN_NOTLS;
}

/* Wait for the master's word that our mail process is there. */
static int
imap_wait_mail(struct session *s, int *fd_r)
{
	uint32_t	ok;
	uint64_t	account;

	if (ipc_recv(SP_FD_MASTER, &reply, SP_IPC_TIMEOUT_MS) != 1)
		return -1;
	if (reply.hdr.type != IMSG_MASTER_MAIL_READY ||
	    ipc_get_u32(&reply, &ok) == -1 ||
	    ipc_get_u64(&reply, &account) == -1 || ipc_end(&reply) == -1 ||
	    !ok || reply.fd == -1) {
		ipc_msg_clear(&reply);
		return -1;
	}
	*fd_r = reply.fd;
	reply.fd = -1;
	log_info("%016" PRIx64 " imap-login event=login account=%llu", s->id,
	    (unsigned long long)account);
	return 0;
}

/* RFC 3501 6.2.3 LOGIN, decided by the auth service. */
static void	imap_do_login(struct session *, const char *, const char *,
		    const unsigned char *, size_t);

static void
imap_login(struct session *s, const char *tag, const char *args, size_t len)
{
	char		 user[IMAP_USER_MAX + 1], pass[IMAP_PASS_MAX + 1];
	int		 r;

	if (s->io.tls == NULL) {
		session_reply(s, "%s NO [PRIVACYREQUIRED] Login only over "
		    "TLS\r\n", tag);
		imap_error(s);
		return;
	}
	r = imap_parse_login(args, len, user, sizeof(user), pass,
	    sizeof(pass));
	if (r != 0) {
		sodium_memzero(pass, sizeof(pass));
		session_reply(s, "%s BAD %s\r\n", tag, r == IMAP_PARSE_TOOLONG ?
		    "Argument too long" : "Invalid arguments to LOGIN");
		imap_error(s);
		return;
	}
	imap_do_login(s, tag, user, (unsigned char *)pass, strlen(pass));
	sodium_memzero(pass, sizeof(pass));
}

/*
 * The credentials to auth; on success wait for the mail process and
 * relay (never returns); otherwise the NO.  pass is wiped by the caller.
 */
static void
imap_do_login(struct session *s, const char *tag, const char *user,
    const unsigned char *pass, size_t passlen)
{
	struct ipc_out	*out;
	const char	*text;
	uint64_t	 account;	/* the master tells us which, later */
	uint32_t	 result;
	int		 r, fd;

	out = ipc_out_new(IMSG_AUTH_LOGIN, 0, -1);
	ipc_add_u64(out, s->id);
	ipc_add_str(out, user);
	ipc_add_data(out, pass, passlen);
	r = session_call(s, SVC_AUTH, out, &reply);
	if (r == -1 || ipc_get_u32(&reply, &result) == -1 ||
	    ipc_get_str(&reply, &text, 256) == -1 ||
	    ipc_get_u64(&reply, &account) == -1 || ipc_end(&reply) == -1) {
		session_reply(s, "* BYE [UNAVAILABLE] Internal service "
		    "restarting, try again\r\n");
		session_end(s, "service-lost");
	}
	if (result != AUTH_RESULT_OK) {
		/* RFC 5530: the same answer whether the user exists or not */
		session_reply(s, "%s NO [%s\r\n", tag,
		    result == AUTH_RESULT_TEMP ? "UNAVAILABLE] Too many failed "
		    "logins, try again later" : "AUTHENTICATIONFAILED] "
		    "Authentication failed");
		imap_error(s);
		return;
	}
	if (imap_wait_mail(s, &fd) == -1) {
		session_reply(s, "%s NO [UNAVAILABLE] Login temporarily "
		    "unavailable, try again\r\n", tag);
		imap_error(s);
		return;
	}
	session_reply(s, "%s OK [CAPABILITY " IMAP_CAPS_MAIL "] Logged in\r\n",
	    tag);
	session_proxy(s, fd);
}

/* RFC 3501 6.2.2 AUTHENTICATE, PLAIN only (RFC 4616), with SASL-IR. */
static void
imap_authenticate(struct session *s, const char *tag, const char *args)
{
	char		 mech[16], user[IMAP_USER_MAX + 1], *line;
	const char	*ir = NULL;
	unsigned char	 pass[IMAP_PASS_MAX + 1];	/* wiped below */
	size_t		 n, len, passlen;
	int		 r;

	if (s->io.tls == NULL) {
		session_reply(s, "%s NO [PRIVACYREQUIRED] Authentication "
		    "only over TLS\r\n", tag);
		imap_error(s);
		return;
	}
	/* " PLAIN" or " PLAIN <initial response>" */
	n = strcspn(args + (*args == ' '), " ");
	if (*args != ' ' || n == 0 || n >= sizeof(mech)) {
		session_reply(s, "%s BAD Invalid arguments to AUTHENTICATE\r\n",
		    tag);
		imap_error(s);
		return;
	}
	memcpy(mech, args + 1, n);
	mech[n] = '\0';
	if (args[1 + n] == ' ')
		ir = args + 2 + n;
	else if (args[1 + n] != '\0') {
		session_reply(s, "%s BAD Invalid arguments to AUTHENTICATE\r\n",
		    tag);
		imap_error(s);
		return;
	}
	if (strcasecmp(mech, "PLAIN") != 0) {
		session_reply(s, "%s NO [CANNOT] Unsupported authentication "
		    "mechanism\r\n", tag);
		imap_error(s);
		return;
	}
	if (ir == NULL) {
		session_reply(s, "+ \r\n");
		switch (io_getline(&s->io, IMAP_LINE_MAX, &line, &len)) {
		case IO_LINE:
			break;
		case IO_TOOLONG:
			session_reply(s, "%s BAD Line too long\r\n", tag);
			imap_error(s);
			return;
		default:
			session_end(s, "client-closed");
		}
		ir = line;
	}
	if (strcmp(ir, "*") == 0) {
		session_reply(s, "%s BAD Authentication cancelled\r\n", tag);
		return;
	}
	/* the same decoder as SMTP AUTH PLAIN (smtp_parse.c) */
	r = smtp_sasl_plain(ir, user, sizeof(user), pass, IMAP_PASS_MAX + 1,
	    &passlen);
	sodium_memzero((char *)(uintptr_t)ir, strlen(ir));	/* in io's buffer */
	if (r == -1) {
		session_reply(s, "%s BAD Invalid SASL PLAIN response\r\n",
		    tag);
		imap_error(s);
		return;
	}
	imap_do_login(s, tag, user, pass, passlen);
	sodium_memzero(pass, sizeof(pass));
}

/* RFC 2971 ID: the client's fields are not kept; ours are the name. */
static void
imap_id(struct session *s, const char *tag, const char *args)
{
	if (*args != ' ' || (strcasecmp(args + 1, "NIL") != 0 &&
	    (args[1] != '(' || args[strlen(args) - 1] != ')'))) {
		session_reply(s, "%s BAD Invalid arguments to ID\r\n", tag);
		imap_error(s);
		return;
	}
	session_reply(s, "* ID (\"name\" \"sealpost\")\r\n"
	    "%s OK ID completed\r\n", tag);
}

/* RFC 3501 6.2.1 STARTTLS on the plaintext listener. */
static void
imap_starttls(struct session *s, const char *tag)
{
	if (s->io.tls != NULL || s->tls_ctx == NULL) {
		session_reply(s, "%s BAD STARTTLS not available\r\n", tag);
		imap_error(s);
		return;
	}
	/* SECURITY: nothing sent before the handshake counts after it */
	if (io_buffered(&s->io) > 0) {
		session_reply(s, "* BYE Commands pipelined after STARTTLS\r\n");
		session_end(s, "starttls-pipelining");
	}
	session_reply(s, "%s OK Begin TLS negotiation now\r\n", tag);
	if (session_tls_start(s) == -1)
		session_end(s, "tls-failed");
}

static void
imap_command(struct session *s, const char *line, size_t len)
{
	char		 tag[IMAP_TAG_MAX + 1], esc[64];
	const char	*cmd, *rest;
	size_t		 clen;

	if (imap_parse_tag(line, len, tag, sizeof(tag), &cmd, &clen,
	    &rest) != 0) {
		session_reply(s, "* BAD Invalid tag or missing command\r\n");
		imap_error(s);
		return;
	}
	log_debug("%016" PRIx64 " imap-login event=command command=%s",
	    s->id, log_esc(esc, sizeof(esc), cmd, clen));

	if (imap_ends_in_literal(line, len)) {
		/* SECURITY: a literal's bytes would follow; do not read them. */
		session_reply(s, "* BYE Literals are not accepted here\r\n");
		session_end(s, "literal");
	}
	if (clen == 10 && strncasecmp(cmd, "CAPABILITY", clen) == 0 &&
	    *rest == '\0') {
		session_reply(s, "* CAPABILITY %s\r\n"
		    "%s OK CAPABILITY completed\r\n", imap_caps(s), tag);
		return;
	}
	if (clen == 4 && strncasecmp(cmd, "NOOP", clen) == 0 &&
	    *rest == '\0') {
		session_reply(s, "%s OK NOOP completed\r\n", tag);
		return;
	}
	if (clen == 6 && strncasecmp(cmd, "LOGOUT", clen) == 0 &&
	    *rest == '\0') {
		session_reply(s, "* BYE %s IMAP server logging out\r\n"
		    "%s OK LOGOUT completed\r\n", s->hostname, tag);
		session_end(s, "logout");
	}
	if (clen == 5 && strncasecmp(cmd, "LOGIN", clen) == 0) {
		imap_login(s, tag, rest, len - (size_t)(rest - line));
		return;
	}
	if (clen == 12 && strncasecmp(cmd, "AUTHENTICATE", clen) == 0) {
		imap_authenticate(s, tag, rest);
		return;
	}
	if (clen == 2 && strncasecmp(cmd, "ID", clen) == 0) {
		imap_id(s, tag, rest);
		return;
	}
	if (clen == 8 && strncasecmp(cmd, "STARTTLS", clen) == 0 &&
	    *rest == '\0') {
		imap_starttls(s, tag);
		return;
	}
	session_reply(s, "%s BAD Command unknown or not available before "
	    "login\r\n", tag);
	imap_error(s);
}

int
main(int argc, char **argv)
{
	struct session	 s;
	char		*line;
	size_t		 len;

	session_init(&s, argc, argv, "imap-login", ROLE_IMAP_LOGIN,
	    IMAP_TIMEOUT_PRELOGIN_MS);
	if (s.implicit_tls && session_tls_start(&s) == -1)
		session_end(&s, "tls-failed");
	session_reply(&s, "* OK [CAPABILITY %s] %s sealpost ready\r\n",
	    imap_caps(&s), s.hostname);

	for (;;) {
		switch (io_getline(&s.io, IMAP_LINE_MAX, &line, &len)) {
		case IO_LINE:
			if (strlen(line) != len) {
				session_reply(&s, "* BAD NUL byte in "
				    "command\r\n");
				imap_error(&s);
				break;
			}
			imap_command(&s, line, len);
			break;
		case IO_TOOLONG:
			session_reply(&s, "* BAD Line too long\r\n");
			imap_error(&s);
			break;
		case IO_TIMEOUT:
			session_reply(&s, "* BYE Autologout; idle for too "
			    "long\r\n");
			session_end(&s, "timeout");
		case IO_STOP:
			session_reply(&s, "* BYE Server shutting down\r\n");
			session_end(&s, "shutdown");
		case IO_LOST:
			session_reply(&s, "* BYE [UNAVAILABLE] Internal service "
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
