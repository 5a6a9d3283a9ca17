/* SPDX-License-Identifier: ISC */
/*
 * imap_login.c - the imap-login process: one per IMAP connection (imap and
 * imaps listeners), up to a successful login.
 *
 * It greets and answers the commands of the not-authenticated state
 * (RFC 3501 6.1, 6.2): CAPABILITY, NOOP, LOGOUT, ID, STARTTLS, LOGIN and
 * AUTHENTICATE PLAIN (with SASL-IR), read and parsed by imap_cmd.c like
 * every later command (so a password may come as a literal).  The
 * credentials go to the auth service; on success auth tells the master,
 * the master starts the account's mail process and hands its socket to
 * us, and from then on this process only relays bytes between the client
 * and the mail process (session_proxy), what the client pipelined after
 * the login first.  Without TLS, LOGIN gets NO [PRIVACYREQUIRED] (RFC
 * 5530).  Anything else gets BAD.
 *
 * Process:  imap-login (unprivileged, exec'd by the master per connection).
 * Trust:    every byte from the socket is hostile; commands are bounded
 *           before they are looked at (a literal before login at most
 *           IMAP_LOGIN_LITERAL_MAX); a tag is echoed only when it is valid
 *           (RFC 3501 9: tag = 1*<any ASTRING-CHAR except "+">).  What held
 *           a password (the command, io's buffer) is wiped after use.
 * Limits:   IMAP_CMD_* (imap_cmd.h), IMAP_LOGIN_LITERAL_MAX,
 *           IMAP_MAX_ERRORS, IMAP_TIMEOUT_PRELOGIN_MS.
 * See also: common/session.c, common/io.c, imap_cmd.c.
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
#include "imap_cmd.h"
#include "sasl.h"
#include "banned.h"

#define IMAP_LINE_MAX		IMAP_CMD_LINE_MAX
#define IMAP_LOGIN_LITERAL_MAX	1024	/* a user name or a password */
#define IMAP_MAX_ERRORS		10
#define IMAP_TIMEOUT_PRELOGIN_MS (60 * 1000)
#define IMAP_USER_MAX		320	/* RFC 5321 4.5.3.1 address */
#define IMAP_PASS_MAX		1024
/*
 * Without TLS no login of any kind (RFC 3501 6.2.3, 7.2.1; RFC 9051
 * 6.2.3): LOGINDISABLED and no AUTH= until STARTTLS.
 */
#define IMAP_CAPS_PLAIN		"IMAP4rev1 IMAP4rev2 STARTTLS LOGINDISABLED ID"
#define IMAP_CAPS_PLAIN_NOTLS	"IMAP4rev1 IMAP4rev2 LOGINDISABLED ID"
#define IMAP_CAPS_TLS		"IMAP4rev1 IMAP4rev2 SASL-IR AUTH=PLAIN ID"

static struct ipc_msg	reply;	/* 64 KiB: not on the stack */
static const char	*appendlimit = "";	/* " APPENDLIMIT=N" */
static struct imap_raw	raw;	/* the command being read */
static struct imap_cmd	cmd;	/* and parsed */

/* SECURITY: a LOGIN's password leaves no copy behind (io keeps unread). */
static void
imap_wipe(struct session *s)
{
	if (cmd.strs != NULL)
		sodium_memzero(cmd.strs, cmd.strslen);
	if (raw.buf != NULL)
		sodium_memzero(raw.buf, raw.cap);
	io_wipe_spent(&s->io);
}

static void
imap_error(struct session *s)
{
	if (++s->errors >= IMAP_MAX_ERRORS) {
		session_reply(s, "* BYE Too many invalid commands\r\n");
		session_end(s, "too-many-errors");
	}
}

static const char *
imap_caps(struct session *s)
{
	if (s->io.tls != NULL)
		return IMAP_CAPS_TLS;
	return s->tls_ctx != NULL ? IMAP_CAPS_PLAIN : IMAP_CAPS_PLAIN_NOTLS;
}

/* RFC 3501 6.2.3 LOGIN, decided by the auth service. */
static void	imap_do_login(struct session *, const char *, const char *,
		    unsigned char *, size_t);

/*
 * A LOGIN argument (RFC 3501 9: astring, an atom, quoted string or
 * literal) into out, NUL-terminated; a NUL inside refused.  0, -1 bad,
 * -2 too long.
 */
static int
imap_login_arg(const struct imap_arg *a, char *out, size_t outlen)
{
	if (a->type != IMAP_ARG_ATOM && a->type != IMAP_ARG_QUOTED &&
	    a->type != IMAP_ARG_LITERAL)
		return -1;
	if (a->literal8 || memchr(a->s, '\0', a->len) != NULL)
		return -1;
	if (a->len >= outlen)
		return -2;
	memcpy(out, a->s, a->len);
	out[a->len] = '\0';
	return 0;
}

static void
imap_login(struct session *s, const struct imap_cmd *c)
{
	char		 user[IMAP_USER_MAX + 1];
	unsigned char	*pass;
	int		 r = -1;

	if (s->io.tls == NULL) {
		session_reply(s, "%s NO [PRIVACYREQUIRED] Login only over "
		    "TLS\r\n", c->tag);
		imap_error(s);
		return;
	}
	if ((pass = sodium_malloc(IMAP_PASS_MAX + 1)) == NULL)
		fatal("imap-login: sodium_malloc");
	if (c->nargs == 2 && (r = imap_login_arg(&c->args[0], user,
	    sizeof(user))) == 0)
		r = imap_login_arg(&c->args[1], (char *)pass, IMAP_PASS_MAX + 1);
	if (r != 0) {
		sodium_free(pass);
		session_reply(s, "%s BAD %s\r\n", c->tag, r == -2 ?
		    "Argument too long" : "Invalid arguments to LOGIN");
		imap_error(s);
		return;
	}
	imap_do_login(s, c->tag, user, pass, strlen((char *)pass));
	sodium_free(pass);
}

/*
 * The credentials to auth; on success wait for the mail process and
 * relay (never returns); otherwise the NO.  pass is wiped here once auth
 * has it (the caller frees it).
 */
static void
imap_do_login(struct session *s, const char *tag, const char *user,
    unsigned char *pass, size_t passlen)
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
	sodium_memzero(pass, passlen);
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
	if (session_wait_mail(s, &fd) == -1) {
		session_reply(s, "%s NO [UNAVAILABLE] Login temporarily "
		    "unavailable, try again\r\n", tag);
		imap_error(s);
		return;
	}
	session_reply(s, "%s OK [CAPABILITY " IMAP_CAPS_AUTH "%s] Logged in\r\n",
	    tag, appendlimit);
	imap_wipe(s);
	session_proxy(s, fd);
}

/* RFC 3501 6.2.2 AUTHENTICATE, PLAIN only (RFC 4616), with SASL-IR. */
static void
imap_authenticate(struct session *s, const struct imap_cmd *c)
{
	char		 user[IMAP_USER_MAX + 1], *line, *ir = NULL;
	unsigned char	*pass;
	size_t		 len, passlen;
	int		 r;

	if (s->io.tls == NULL) {
		session_reply(s, "%s NO [PRIVACYREQUIRED] Authentication "
		    "only over TLS\r\n", c->tag);
		imap_error(s);
		return;
	}
	/* "PLAIN" or "PLAIN <initial response>" (RFC 4959: "=" is empty) */
	if (c->nargs < 1 || c->nargs > 2 || c->args[0].type !=
	    IMAP_ARG_ATOM || (c->nargs == 2 && c->args[1].type !=
	    IMAP_ARG_ATOM)) {
		session_reply(s, "%s BAD Invalid arguments to AUTHENTICATE\r\n",
		    c->tag);
		imap_error(s);
		return;
	}
	if (c->args[0].len != 5 || strncasecmp(c->args[0].s, "PLAIN", 5) != 0) {
		session_reply(s, "%s NO [CANNOT] Unsupported authentication "
		    "mechanism\r\n", c->tag);
		imap_error(s);
		return;
	}
	if (c->nargs == 2) {
		/* an atom of the command's own text: NUL-terminate a copy */
		if ((ir = sodium_malloc(c->args[1].len + 1)) == NULL)
			fatal("imap-login: sodium_malloc");
		memcpy(ir, c->args[1].s, c->args[1].len);
		ir[c->args[1].len] = '\0';
	} else {
		session_reply(s, "+ \r\n");
		switch (io_getline(&s->io, IMAP_LINE_MAX, &line, &len)) {
		case IO_LINE:
			break;
		case IO_TOOLONG:
			session_reply(s, "%s BAD Line too long\r\n", c->tag);
			imap_error(s);
			return;
		default:
			session_end(s, "client-closed");
		}
		if ((ir = sodium_malloc(len + 1)) == NULL)
			fatal("imap-login: sodium_malloc");
		memcpy(ir, line, len + 1);
		io_wipe_spent(&s->io);
		if (strcmp(ir, "*") == 0) {
			sodium_free(ir);
			session_reply(s, "%s BAD Authentication cancelled\r\n",
			    c->tag);
			return;
		}
	}
	if ((pass = sodium_malloc(IMAP_PASS_MAX + 1)) == NULL)
		fatal("imap-login: sodium_malloc");
	/* the same decoder as SMTP AUTH PLAIN (common/sasl.c) */
	r = sasl_plain_decode(ir, user, sizeof(user), pass, IMAP_PASS_MAX + 1,
	    &passlen);
	sodium_free(ir);
	if (r == -1) {
		sodium_free(pass);
		session_reply(s, "%s BAD Invalid SASL PLAIN response\r\n",
		    c->tag);
		imap_error(s);
		return;
	}
	imap_do_login(s, c->tag, user, pass, passlen);
	sodium_free(pass);
}

/*
 * RFC 2971 ID: NIL or a list of field-value string pairs (at most 30);
 * the client's fields are not kept; ours are the name.
 */
static void
imap_id(struct session *s, const struct imap_cmd *c)
{
	const struct imap_arg	*a = &c->args[0];
	size_t			 i;
	bool			 ok = c->nargs == 1 && (a->type == IMAP_ARG_NIL ||
	    (a->type == IMAP_ARG_LIST && a->n % 2 == 0 && a->n <= 60));

	for (i = 0; ok && a->type == IMAP_ARG_LIST && i < a->n; i++)
		if (a->list[i].type != IMAP_ARG_QUOTED &&
		    a->list[i].type != IMAP_ARG_LITERAL &&
		    (i % 2 == 0 || a->list[i].type != IMAP_ARG_NIL))
			ok = false;
	if (!ok) {
		session_reply(s, "%s BAD Invalid arguments to ID\r\n", c->tag);
		imap_error(s);
		return;
	}
	session_reply(s, "* ID (\"name\" \"sealpost\")\r\n"
	    "%s OK ID completed\r\n", c->tag);
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
imap_command(struct session *s, const struct imap_cmd *c)
{
	const char	*tag = c->tag;
	bool		 noargs = c->nargs == 0 && !c->uid;

	log_debug("%016" PRIx64 " imap-login event=command command=%s",
	    s->id, c->name);
	if (strcmp(c->name, "CAPABILITY") == 0 && noargs) {
		session_reply(s, "* CAPABILITY %s\r\n"
		    "%s OK CAPABILITY completed\r\n", imap_caps(s), tag);
	} else if (strcmp(c->name, "NOOP") == 0 && noargs) {
		session_reply(s, "%s OK NOOP completed\r\n", tag);
	} else if (strcmp(c->name, "LOGOUT") == 0 && noargs) {
		session_reply(s, "* BYE %s IMAP server logging out\r\n"
		    "%s OK LOGOUT completed\r\n", s->hostname, tag);
		session_end(s, "logout");
	} else if (strcmp(c->name, "LOGIN") == 0 && !c->uid) {
		imap_login(s, c);
	} else if (strcmp(c->name, "AUTHENTICATE") == 0 && !c->uid) {
		imap_authenticate(s, c);
	} else if (strcmp(c->name, "ID") == 0 && !c->uid) {
		imap_id(s, c);
	} else if (strcmp(c->name, "STARTTLS") == 0 && noargs) {
		imap_starttls(s, tag);
	} else {
		session_reply(s, "%s BAD Command unknown or not available "
		    "before login\r\n", tag);
		imap_error(s);
	}
}

static int
imap_write(void *arg, const char *p, size_t len)
{
	struct session	*s = arg;

	return io_write(&s->io, p, len);
}

int
main(int argc, char **argv)
{
	struct session		 s;

	session_init(&s, argc, argv, "imap-login", ROLE_IMAP_LOGIN,
	    IMAP_TIMEOUT_PRELOGIN_MS);
	/* T56: a command must be whole within the timeout, however slow */
	raw.cmd_timeout_ms = IMAP_TIMEOUT_PRELOGIN_MS;
	{
		static char	 al[40];
		const char	*v, *errstr;
		long long	 n;

		if ((v = child_opt(&s.args, "max-size")) != NULL) {
			n = strtonum(v, 1024, 1LL << 40, &errstr);
			if (errstr != NULL)
				fatalx("imap-login: bad max-size from the "
				    "master");
			snprintf(al, sizeof(al), " APPENDLIMIT=%lld", n);
			appendlimit = al;
		}
	}
#ifdef SP_TEST_HOOKS
	{
		const char	*v, *errstr;

		if ((v = child_opt(&s.args, "timeouts")) != NULL) {
			s.io.timeout_ms = (int)strtonum(v, 100, 60000, &errstr);
			if (errstr != NULL)
				fatalx("imap-login: bad timeouts from the master");
			raw.cmd_timeout_ms = s.io.timeout_ms;
		}
	}
#endif
	if (s.implicit_tls && session_tls_start(&s) == -1)
		session_end(&s, "tls-failed");
	session_reply(&s, "* OK [CAPABILITY %s] %s sealpost ready\r\n",
	    imap_caps(&s), s.hostname);

	for (;;) {
		enum imap_read_status	 rs;
		enum imap_parse_status	 ps;
		const char		*perr;
		int			 iost = IO_ERROR;
		bool			 insync = true;
		char			 refusal[256];

		rs = imap_cmd_read(&s.io, &raw, IMAP_LOGIN_LITERAL_MAX,
		    imap_write, &s, &iost, &insync);
		switch (rs) {
		case IMAP_READ_OK:
			break;
		case IMAP_READ_IO:
			switch (iost) {
			case IO_TIMEOUT:
				session_reply(&s, "* BYE Autologout; idle for "
				    "too long\r\n");
				session_end(&s, "timeout");
			case IO_STOP:
				session_reply(&s, "* BYE Server shutting "
				    "down\r\n");
				session_end(&s, "shutdown");
			case IO_LOST:
				session_reply(&s, "* BYE [UNAVAILABLE] Internal "
				    "service restarting, try again\r\n");
				session_end(&s, "service-lost");
			case IO_EOF:
				session_end(&s, "client-closed");
			default:
				session_end(&s, "io-error");
			}
		default:
			if (imap_read_refusal(rs, &raw, insync, refusal,
			    sizeof(refusal))) {
				session_reply(&s, "%s", refusal);
				session_end(&s, "literal-too-big");
			}
			session_reply(&s, "%s", refusal);
			imap_error(&s);
			continue;
		}
		memset(&cmd, 0, sizeof(cmd));
		if ((ps = imap_cmd_parse(&raw, &cmd, &perr)) != IMAP_PARSE_OK) {
			imap_parse_refusal(ps, &cmd, perr, refusal,
			    sizeof(refusal));
			session_reply(&s, "%s", refusal);
			imap_error(&s);
		} else
			imap_command(&s, &cmd);
		imap_wipe(&s);
		imap_cmd_free(&cmd);
	}
}
