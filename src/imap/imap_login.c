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
#include "banned.h"

#define IMAP_LINE_MAX		8192
#define IMAP_MAX_ERRORS		10
#define IMAP_TIMEOUT_PRELOGIN_MS (60 * 1000)
#define IMAP_USER_MAX		320	/* RFC 5321 4.5.3.1 address */
#define IMAP_PASS_MAX		1024
/* No STARTTLS yet: without TLS, no login (RFC 3501 6.2.3, 7.2.1). */
#define IMAP_CAPS_PLAIN		"IMAP4rev1 LOGINDISABLED"
#define IMAP_CAPS_TLS		"IMAP4rev1"

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
	return s->io.tls != NULL ? IMAP_CAPS_TLS : IMAP_CAPS_PLAIN;
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
static void
imap_login(struct session *s, const char *tag, const char *args, size_t len)
{
	struct ipc_out	*out;
	const char	*text;
	char		 user[IMAP_USER_MAX + 1], pass[IMAP_PASS_MAX + 1];
	uint64_t	 account;	/* the master tells us which, later */
	uint32_t	 result;
	int		 r, fd;

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
	out = ipc_out_new(IMSG_AUTH_LOGIN, 0, -1);
	ipc_add_u64(out, s->id);
	ipc_add_str(out, user);
	ipc_add_data(out, pass, strlen(pass));
	sodium_memzero(pass, sizeof(pass));
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
		session_reply(s, "%s NO [%s]\r\n", tag,
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
	session_reply(s, "%s OK [CAPABILITY " IMAP_CAPS_TLS "] Logged in\r\n",
	    tag);
	session_proxy(s, fd);
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
