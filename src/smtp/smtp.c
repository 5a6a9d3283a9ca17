/* SPDX-License-Identifier: ISC */
/*
 * smtp.c - the smtp-session process: one per connection on the smtp (MX,
 * 25), submission (587, STARTTLS then AUTH) and submissions (465,
 * implicit TLS) listeners.  The ESMTP dialogue of RFC 5321 with
 * PIPELINING, SIZE, 8BITMIME, SMTPUTF8, ENHANCEDSTATUSCODES, STARTTLS,
 * AUTH PLAIN and LOGIN, CHUNKING and DSN; what happens to a message once
 * its data is in is smtp_txn.c.
 *
 * Process:  smtp (unprivileged, exec'd by the master per connection,
 *           jailed, ROLE_SMTP).
 * Trust:    every byte from the socket is hostile.  Command lines are
 *           bounded (SMTP_LINE_MAX) before they are looked at; a bare CR
 *           or LF, in a command or in DATA, ends the connection (SMTP
 *           smuggling: we and the client might disagree about where a
 *           message ends); NUL bytes are refused.  Who is a local
 *           recipient, whose address a sender may use and whether a
 *           password is right are asked of auth; the session never sees
 *           users.db, keys or the mail store.
 * Limits:   SMTP_LINE_MAX, SMTP_MAX_ERRORS, SMTP_MAX_AUTH_FAILS, the
 *           master's max-size and max-rcpts, the timeouts below.
 * See also: smtp_parse.c (the grammar), smtp_data.c (the body),
 *           smtp_txn.c, docs/sealpost.conf.5.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "log.h"
#include "xmalloc.h"
#include "ipc.h"
#include "ipc_types.h"
#include "ipc_deliver.h"
#include "smtp.h"
#include "sasl.h"
#include "banned.h"

#define SMTP_LINE_MAX		512	/* RFC 5321 4.5.3.1.4, with CRLF */
#define SMTP_SASL_LINE_MAX	12288	/* RFC 4954 4: an AUTH response */
#define SMTP_MAX_ERRORS		10
#define SMTP_MAX_AUTH_FAILS	3
#define SMTP_PASS_MAX		1024
/* RFC 5321 4.5.3.2: the server waits at least 5 minutes for a command */
#define SMTP_TIMEOUT_MS		(300 * 1000)
#define SMTP_TIMEOUT_GREET_MS	(60 * 1000)	/* before EHLO: a slowloris */
#define SMTP_TIMEOUT_DATA_MS	(180 * 1000)	/* per read in DATA/BDAT */
#define SMTP_DATA_TOTAL_MS	(600 * 1000)	/* one DATA or BDAT chunk */

/* The timeouts in use: these, or (test hooks) test-smtp-timeouts. */
static int	to_cmd = SMTP_TIMEOUT_MS;
static int	to_data = SMTP_TIMEOUT_DATA_MS;
static long	to_data_total = SMTP_DATA_TOTAL_MS;
#define SMTP_PREGREET_MS	100	/* MX: does the client talk first? */

static void
smtp_error(struct smtp *sm)
{
	if (++sm->s->errors >= SMTP_MAX_ERRORS) {
		session_reply(sm->s, "421 4.7.0 %s Too many errors, closing\r\n",
		    sm->s->hostname);
		session_end(sm->s, "too-many-errors");
	}
}

/* Any failure of the client connection ends the session. */
static void __attribute__((noreturn))
smtp_io_end(struct smtp *sm, enum io_status st)
{
	struct session	*s = sm->s;

	switch (st) {
	case IO_TIMEOUT:
		session_reply(s, "421 4.4.2 %s Timeout exceeded\r\n",
		    s->hostname);
		session_end(s, "timeout");
	case IO_STOP:
		session_reply(s, "421 4.3.2 %s Service shutting down\r\n",
		    s->hostname);
		session_end(s, "shutdown");
	case IO_LOST:
		session_reply(s, "421 4.3.0 %s Service temporarily "
		    "unavailable, try again later\r\n", s->hostname);
		session_end(s, "service-lost");
	case IO_EOF:
		session_end(s, "client-closed");
	default:
		session_end(s, "io-error");
	}
}

/* SMTP smuggling and friends: say why, then close (RFC 5321 2.3.8). */
static void __attribute__((noreturn))
smtp_bare(struct smtp *sm, const char *where)
{
	log_info("%016" PRIx64 " smtp event=refused reason=bare-cr-lf in=%s",
	    sm->s->id, where);
	session_reply(sm->s, "521 5.5.2 %s Bare CR or LF received, closing "
	    "(RFC 5321 2.3.8)\r\n", sm->s->hostname);
	session_end(sm->s, "bare-cr-lf");
}

/*
 * One command line: bounded, CRLF-terminated, no CR inside, no NUL.
 * Returns it, or NULL after answering a line that was too long or had a
 * NUL (the caller reads the next).
 */
static char *
smtp_getline(struct smtp *sm, size_t max, size_t *len_r)
{
	char		*line;
	enum io_status	 st;
	int		 crlf;

	st = io_getline_crlf(&sm->s->io, max - 2, &line, len_r, &crlf);
	if (st == IO_TOOLONG) {
		session_reply(sm->s, "500 5.5.2 Line too long (at most %zu "
		    "octets)\r\n", max);
		smtp_error(sm);
		return NULL;
	}
	if (st != IO_LINE)
		smtp_io_end(sm, st);
	if (!crlf || memchr(line, '\r', *len_r) != NULL)
		smtp_bare(sm, "command");
	if (strlen(line) != *len_r) {
		session_reply(sm->s, "500 5.5.2 NUL byte in command\r\n");
		smtp_error(sm);
		return NULL;
	}
	return line;
}

/* auth: is address an account (or an alias of one)?  -1: auth is gone */
int
smtp_lookup(struct smtp *sm, const char *addr, struct smtp_rcpt_ent *r,
    uint64_t *quota_r, uint64_t *usage_r)
{
	static struct ipc_msg	 reply;
	struct ipc_rcpt_info	 ri;

	_Static_assert(SMTP_KEY_LEN == IPC_ACCOUNT_KEY_LEN, "key lengths");
	if (session_call(sm->s, SVC_AUTH, ipc_auth_rcpt_req(0, addr),
	    &reply) == -1 || ipc_auth_rcpt_reply(&reply, &ri) == -1)
		return -1;
	r->account = ri.account;
	memcpy(r->pk, ri.pk, sizeof(r->pk));
	*quota_r = ri.quota;
	*usage_r = ri.usage;
	return ri.found ? 1 : 0;
}

static void
smtp_ehlo(struct smtp *sm, const char *args, bool ehlo)
{
	struct session	*s = sm->s;
	bool		 tls = s->io.tls != NULL;

	if (smtp_valid_helo(args) == -1) {
		session_reply(s, "501 5.5.4 Syntax: %s domain or address "
		    "literal\r\n", ehlo ? "EHLO" : "HELO");
		smtp_error(sm);
		return;
	}
	smtp_txn_reset(sm);
	strlcpy(sm->helo, args, sizeof(sm->helo));
	sm->esmtp = ehlo;
	sm->state = SMTP_S_READY;
	s->io.timeout_ms = to_cmd;
	if (!ehlo) {
		sm->exts = 0;
		session_reply(s, "250 %s\r\n", s->hostname);
		return;
	}
	sm->exts = SMTP_EXT_SIZE | SMTP_EXT_8BITMIME | SMTP_EXT_SMTPUTF8 |
	    SMTP_EXT_DSN;
	if (sm->submission && tls && sm->pickup_from == NULL)
		sm->exts |= SMTP_EXT_AUTH;
	session_reply(s, "250-%s\r\n250-PIPELINING\r\n250-SIZE %llu\r\n"
	    "250-8BITMIME\r\n250-SMTPUTF8\r\n250-ENHANCEDSTATUSCODES\r\n"
	    "250-CHUNKING\r\n250-DSN\r\n%s%s250 HELP\r\n", s->hostname,
	    (unsigned long long)sm->max_size,
	    !tls && s->tls_ctx != NULL && sm->pickup_from == NULL ?
	    "250-STARTTLS\r\n" : "",
	    (sm->exts & SMTP_EXT_AUTH) && !sm->authed ?
	    "250-AUTH PLAIN LOGIN\r\n" : "");
}

static void
smtp_starttls(struct smtp *sm, const char *args)
{
	struct session	*s = sm->s;

	if (s->io.tls != NULL || s->tls_ctx == NULL || !sm->esmtp ||
	    sm->pickup_from != NULL) {
		session_reply(s, "503 5.5.1 STARTTLS not available now\r\n");
		smtp_error(sm);
		return;
	}
	if (*args != '\0') {
		session_reply(s, "501 5.5.4 Syntax: STARTTLS\r\n");
		smtp_error(sm);
		return;
	}
	/*
	 * SECURITY: commands pipelined after STARTTLS would be read as if
	 * they came over TLS (CVE-2011-0411): refuse and close.
	 */
	if (io_buffered(&s->io) > 0) {
		session_reply(s, "554 5.5.1 Commands pipelined after "
		    "STARTTLS, closing\r\n");
		session_end(s, "starttls-pipelining");
	}
	session_reply(s, "220 2.0.0 Ready to start TLS\r\n");
	if (session_tls_start(s) == -1)
		session_end(s, "tls-failed");
	/* RFC 3207 4.2: forget everything learned before */
	smtp_txn_reset(sm);
	sm->state = SMTP_S_GREETED;
	sm->esmtp = false;
	sm->helo[0] = '\0';
}

/*
 * A failed AUTH is answered late: a second more for each failure on this
 * connection (at most SMTP_MAX_AUTH_FAILS), so that guessing costs the
 * guesser time; the limits in auth then refuse altogether.  Only this
 * client's session waits.
 */
static void
smtp_auth_delay(struct smtp *sm)
{
	struct timespec	ts = { (time_t)sm->auth_fails + 1, 0 };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR &&
	    (sm->s->io.stop == NULL || !*sm->s->io.stop))
		;
}

static bool
smtp_has_ctl(const char *p, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++)
		if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
			return true;
	return false;
}

/* Read one SASL response line: 0, 1 cancelled ("*"); ends on I/O error. */
static int
smtp_sasl_line(struct smtp *sm, unsigned char *out, size_t outlen,
    size_t *len_r)
{
	char	*line;
	size_t	 len;
	int	 r;

	if ((line = smtp_getline(sm, SMTP_SASL_LINE_MAX, &len)) == NULL)
		return -1;
	r = sasl_b64_line(line, out, outlen, len_r);
	sodium_memzero(line, len);
	return r;
}

static void
smtp_auth(struct smtp *sm, const char *args)
{
	static struct ipc_msg	 reply;
	struct session		*s = sm->s;
	struct ipc_out		*out;
	const char		*initial, *text;
	char			 mech[21], user[SMTP_ADDR_MAX + 1], esc[96];
	unsigned char		*pass;
	size_t			 passlen = 0, ulen;
	uint64_t		 account;
	uint32_t		 result;
	int			 r;

	if (!sm->submission || sm->pickup_from != NULL) {
		session_reply(s, "503 5.5.1 AUTH not available on this "
		    "port\r\n");
		smtp_error(sm);
		return;
	}
	if (s->io.tls == NULL) {
		session_reply(s, "538 5.7.11 Encryption required for "
		    "requested authentication mechanism\r\n");
		smtp_error(sm);
		return;
	}
	if (!sm->esmtp || sm->authed || sm->state != SMTP_S_READY) {
		session_reply(s, "503 5.5.1 AUTH not allowed now\r\n");
		smtp_error(sm);
		return;
	}
	if (smtp_parse_auth(args, mech, &initial) == -1) {
		session_reply(s, "501 5.5.4 Syntax: AUTH mechanism "
		    "[initial-response]\r\n");
		smtp_error(sm);
		return;
	}
	if ((pass = sodium_malloc(SMTP_PASS_MAX + 1)) == NULL)
		fatal("sodium_malloc");
	r = -1;
	if (strcmp(mech, "PLAIN") == 0) {
		if (initial == NULL) {
			char	*line;
			size_t	 len;

			session_reply(s, "334 \r\n");
			if ((line = smtp_getline(sm, SMTP_SASL_LINE_MAX,
			    &len)) == NULL)
				goto done;
			if (strcmp(line, "*") == 0)
				r = 1;
			else
				r = sasl_plain_decode(line, user, sizeof(user),
				    pass, SMTP_PASS_MAX + 1, &passlen);
			sodium_memzero(line, len);
		} else
			r = sasl_plain_decode(initial, user, sizeof(user), pass,
			    SMTP_PASS_MAX + 1, &passlen);
	} else if (strcmp(mech, "LOGIN") == 0) {
		if (initial != NULL)
			r = sasl_b64_line(initial, (unsigned char *)user,
			    sizeof(user), &ulen);
		else {
			session_reply(s, "334 VXNlcm5hbWU6\r\n");
			r = smtp_sasl_line(sm, (unsigned char *)user,
			    sizeof(user), &ulen);
		}
		/* the user name: not empty, no control characters */
		if (r == 0 && (ulen == 0 || smtp_has_ctl(user, ulen)))
			r = -1;
		if (r == 0) {
			session_reply(s, "334 UGFzc3dvcmQ6\r\n");
			r = smtp_sasl_line(sm, pass, SMTP_PASS_MAX + 1,
			    &passlen);
		}
	} else {
		session_reply(s, "504 5.5.4 Unrecognized authentication "
		    "type\r\n");
		smtp_error(sm);
		goto done;
	}
	if (r == 1) {
		session_reply(s, "501 5.0.0 Authentication cancelled\r\n");
		goto done;
	}
	if (r == -1) {
		session_reply(s, "501 5.5.2 Cannot decode the response\r\n");
		smtp_error(sm);
		goto done;
	}
	out = ipc_out_new(IMSG_AUTH_LOGIN, 0, -1);
	ipc_add_u64(out, s->id);
	ipc_add_str(out, user);
	ipc_add_data(out, pass, passlen);
	sodium_memzero(pass, SMTP_PASS_MAX + 1);
	if (session_call(s, SVC_AUTH, out, &reply) == -1 ||
	    ipc_get_u32(&reply, &result) == -1 ||
	    ipc_get_str(&reply, &text, 256) == -1 ||
	    ipc_get_u64(&reply, &account) == -1 || ipc_end(&reply) == -1) {
		session_reply(s, "454 4.7.0 Temporary authentication failure, "
		    "try again later\r\n");
		goto done;
	}
	if (result == AUTH_RESULT_OK) {
		sm->authed = true;
		sm->account = account;
		strlcpy(sm->user, user, sizeof(sm->user));
		log_info("%016" PRIx64 " smtp event=auth result=ok user=%s",
		    s->id, log_esc(esc, sizeof(esc), user, strlen(user)));
		session_reply(s, "235 2.7.0 Authentication successful\r\n");
	} else if (result == AUTH_RESULT_TEMP) {
		smtp_auth_delay(sm);
		session_reply(s, "454 4.7.0 Temporary authentication failure, "
		    "try again later\r\n");
		smtp_error(sm);
	} else {
		smtp_auth_delay(sm);
		session_reply(s, "535 5.7.8 Authentication credentials "
		    "invalid\r\n");
		if (++sm->auth_fails >= SMTP_MAX_AUTH_FAILS) {
			session_reply(s, "421 4.7.0 %s Too many failed "
			    "authentications, closing\r\n", s->hostname);
			session_end(s, "auth-failures");
		}
		smtp_error(sm);
	}
done:
	sodium_free(pass);
	sodium_memzero(user, sizeof(user));
}

static const char *
smtp_perr_reply(enum smtp_perr e, bool mail)
{
	switch (e) {
	case SMTP_P_ADDRESS:
		return mail ? "501 5.1.7 Bad sender address syntax" :
		    "501 5.1.3 Bad recipient address syntax";
	case SMTP_P_PARAM:
		return "555 5.5.4 Unsupported or repeated parameter";
	case SMTP_P_PARAM_VALUE:
		return "501 5.5.4 Bad parameter value";
	case SMTP_P_UTF8:
		return "553 5.6.7 UTF-8 address without SMTPUTF8";
	case SMTP_P_TOOLONG:
		return mail ? "501 5.1.7 Sender address too long" :
		    "501 5.1.3 Recipient address too long";
	default:
		return mail ? "501 5.5.4 Syntax: MAIL FROM:<address>" :
		    "501 5.5.4 Syntax: RCPT TO:<address>";
	}
}

static void
smtp_mail(struct smtp *sm, const char *args)
{
	struct session		*s = sm->s;
	struct smtp_rcpt_ent	 who;
	enum smtp_perr		 e;
	uint64_t		 q, u;
	int			 r;

	if (sm->state != SMTP_S_READY) {
		session_reply(s, sm->state == SMTP_S_GREETED ?
		    "503 5.5.1 Send EHLO or HELO first\r\n" :
		    "503 5.5.1 Nested MAIL command\r\n");
		smtp_error(sm);
		return;
	}
	if (sm->submission && !sm->authed) {
		session_reply(s, "530 5.7.0 Authentication required\r\n");
		smtp_error(sm);
		return;
	}
	if ((e = smtp_parse_mail(args, sm->exts, &sm->mail)) != SMTP_P_OK) {
		session_reply(s, "%s\r\n", smtp_perr_reply(e, true));
		memset(&sm->mail, 0, sizeof(sm->mail));
		smtp_error(sm);
		return;
	}
	/* pickup: <> stands for the local user's own address */
	if (sm->pickup_from != NULL && sm->mail.addr[0] == '\0')
		strlcpy(sm->mail.addr, sm->pickup_from, sizeof(sm->mail.addr));
	if (sm->mail.has_size && sm->mail.size > sm->max_size) {
		session_reply(s, "552 5.3.4 Message size exceeds fixed maximum "
		    "message size\r\n");
		memset(&sm->mail, 0, sizeof(sm->mail));
		return;
	}
	/* an authenticated sender speaks for its own addresses only */
	if (sm->authed && sm->mail.addr[0] != '\0') {
		if ((r = smtp_lookup(sm, sm->mail.addr, &who, &q, &u)) == -1) {
			session_reply(s, "451 4.3.0 Temporary failure, try "
			    "again later\r\n");
			memset(&sm->mail, 0, sizeof(sm->mail));
			return;
		}
		if (r == 0 || who.account != sm->account) {
			session_reply(s, "553 5.7.1 Sender address not owned by "
			    "the authenticated user\r\n");
			memset(&sm->mail, 0, sizeof(sm->mail));
			smtp_error(sm);
			return;
		}
	}
	sm->nrcpts = 0;
	sm->state = SMTP_S_MAIL;
	session_reply(s, "250 2.1.0 Ok\r\n");
}

/* <Postmaster>: postmaster@ the first local domain the hostname ends in. */
static void
smtp_postmaster(struct smtp *sm, char *addr, size_t len)
{
	const char	*h = sm->s->hostname;

	for (; h != NULL; h = (h = strchr(h, '.')) != NULL ? h + 1 : NULL)
		if (smtp_local_domain(sm, h)) {
			snprintf(addr, len, "postmaster@%s", h);
			return;
		}
	snprintf(addr, len, "postmaster@%s", sm->s->hostname);
}

/*
 * "pgp required": the recipient must have a usable key now, or it is
 * refused while the sender can still be told (local and remote alike).
 * 0 it has one, -1 the reply was sent.
 */
static int
smtp_pgp_required(struct smtp *sm, const struct smtp_rcpt_ent *r)
{
	static struct ipc_msg	 reply;
	struct ipc_out		*out;
	const char		*why;
	uint32_t		 found;

	out = ipc_out_new(IMSG_PGP_LOOKUP, 0, -1);
	ipc_add_str(out, r->addr);
	ipc_add_u32(out, r->pgp_flags & PGP_F_WKD);
	if (session_call(sm->s, SVC_PGP, out, &reply) == -1 ||
	    ipc_get_u32(&reply, &found) == -1 ||
	    ipc_get_str(&reply, &why, 256) == -1 || ipc_end(&reply) == -1 ||
	    found > 2) {
		session_reply(sm->s, "451 4.3.0 Temporary failure, try again "
		    "later\r\n");
		return -1;
	}
	if (found == 2) {
		/* its Web Key Directory could not be asked: not a refusal */
		session_reply(sm->s, "451 4.7.1 Recipient requires encrypted "
		    "mail and its OpenPGP key cannot be looked up now, try "
		    "again later\r\n");
		return -1;
	}
	if (!found) {
		session_reply(sm->s, "550 5.7.1 Recipient requires encrypted "
		    "mail and no usable OpenPGP key is known for it\r\n");
		return -1;
	}
	return 0;
}

/*
 * The policy's RCPT phase, from the filter: the recipient's group and
 * max-size.  From the Internet a recipient of another group than the
 * first is deferred (452 4.5.3) and comes back in a transaction of its
 * own, since the one reply to DATA follows one group's policy; on
 * submission nothing is split (mail clients do not retry deferred
 * recipients) and the sender's policy decides (DESIGN.md).  0 accepted,
 * -1 the reply was sent.
 */
static int
smtp_rcpt_policy(struct smtp *sm, struct smtp_rcpt_ent *r)
{
	static struct ipc_msg	 reply;
	struct ipc_out		*out;
	const char		*token;
	uint64_t		 max, size;
	uint32_t		 pgp, flags, tls;

	out = ipc_out_new(IMSG_FILTER_RCPT, 0, -1);
	ipc_add_str(out, sm->mail.addr);
	ipc_add_u32(out, sm->authed);
	ipc_add_str(out, r->addr);
	if (session_call(sm->s, SVC_FILTER, out, &reply) == -1 ||
	    ipc_get_str(&reply, &token, SMTP_GROUP_TOKEN_MAX) == -1 ||
	    ipc_get_u64(&reply, &max) == -1 ||
	    ipc_get_u32(&reply, &pgp) == -1 ||
	    ipc_get_u32(&reply, &flags) == -1 ||
	    ipc_get_u32(&reply, &tls) == -1 || ipc_end(&reply) == -1 ||
	    pgp > SMTP_PGP_NEVER || tls > SMTP_TLS_REQUIRED ||
	    (flags & ~PGP_F_ALL) != 0) {
		session_reply(sm->s, "451 4.3.0 Temporary failure, try again "
		    "later\r\n");
		return -1;
	}
	if (sm->s->kind == SP_LISTEN_SMTP && sm->nrcpts > 0 &&
	    strcmp(token, sm->group) != 0) {
		session_reply(sm->s, "452 4.5.3 Recipient of another policy "
		    "group: send it in a separate transaction\r\n");
		return -1;
	}
	size = sm->mail.has_size ? sm->mail.size : 0;
	if (max != 0 && size > max) {
		session_reply(sm->s, "552 5.3.4 Message too big for this "
		    "recipient\r\n");
		return -1;
	}
	r->pgp = pgp;
	r->pgp_flags = flags;
	r->tls = tls;
	if (pgp == SMTP_PGP_REQUIRED && smtp_pgp_required(sm, r) == -1)
		return -1;
	if (sm->nrcpts == 0)
		strlcpy(sm->group, token, sizeof(sm->group));
	if (max != 0 && (sm->rcpt_max == 0 || max < sm->rcpt_max))
		sm->rcpt_max = max;
	return 0;
}

static void
smtp_rcpt(struct smtp *sm, const char *args)
{
	struct session		*s = sm->s;
	struct smtp_rcpt	 p;
	struct smtp_rcpt_ent	*r;
	enum smtp_perr		 e;
	const char		*at;
	uint64_t		 quota, usage, size;
	int			 found;

	if (sm->state != SMTP_S_MAIL) {
		session_reply(s, "503 5.5.1 Need MAIL before RCPT\r\n");
		smtp_error(sm);
		return;
	}
	if ((e = smtp_parse_rcpt(args, sm->exts, sm->mail.smtputf8, &p)) !=
	    SMTP_P_OK) {
		session_reply(s, "%s\r\n", smtp_perr_reply(e, false));
		smtp_error(sm);
		return;
	}
	if (sm->nrcpts >= sm->max_rcpts) {
		session_reply(s, "452 4.5.3 Too many recipients\r\n");
		return;
	}
	r = &sm->rcpts[sm->nrcpts];
	memset(r, 0, sizeof(*r));
	if (p.postmaster)
		smtp_postmaster(sm, p.addr, sizeof(p.addr));
	strlcpy(r->addr, p.addr, sizeof(r->addr));
	r->notify = p.notify;
	strlcpy(r->orcpt, p.orcpt, sizeof(r->orcpt));
	at = strrchr(r->addr, '@');
	if (at != NULL && smtp_local_domain(sm, at + 1)) {
		if ((found = smtp_lookup(sm, r->addr, r, &quota, &usage)) ==
		    -1) {
			session_reply(s, "451 4.3.0 Temporary failure, try "
			    "again later\r\n");
			return;
		}
		if (found == 0) {
			session_reply(s, "550 5.1.1 No such user here\r\n");
			smtp_error(sm);
			return;
		}
		size = sm->mail.has_size ? sm->mail.size : 0;
		if (quota != 0 && size > quota) {
			session_reply(s, "552 5.2.2 Message larger than the "
			    "mailbox quota\r\n");
			return;
		}
		if (quota != 0 && (usage >= quota || quota - usage < size)) {
			session_reply(s, "452 4.2.2 Mailbox full, try again "
			    "later\r\n");
			return;
		}
		r->local = true;
	} else if (!sm->authed) {
		/* SECURITY: never an open relay */
		session_reply(s, "554 5.7.1 Relay access denied\r\n");
		smtp_error(sm);
		return;
	} else
		r->local = false;	/* to the outbound queue */
	if (smtp_rcpt_policy(sm, r) == -1)
		return;
	sm->nrcpts++;
	session_reply(s, "250 2.1.5 Ok\r\n");
}

/*
 * Read the body of DATA, or one BDAT chunk of n bytes, through the data
 * reader.  Bytes the client pipelined after the end of DATA stay in io.
 */
static void
smtp_read_body(struct smtp *sm, bool bdat, uint64_t n)
{
	struct io	*io = &sm->s->io;
	const uint8_t	*p;
	long		 deadline;
	size_t		 len, used;
	enum io_status	 st;
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	deadline = ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + to_data_total;
	io->timeout_ms = to_data;
	while (bdat ? n > 0 : !sm->data.done) {
		if ((st = io_wait_input(io)) != IO_LINE)
			smtp_io_end(sm, st);
		p = io_peek(io, &len);
		if (bdat && len > n)
			len = (size_t)n;
		used = smtp_data_feed(&sm->data, p, len);
		io_consume(io, used);
		if (bdat)
			n -= used;
		/* SECURITY: in DATA, a bare CR or LF ends the connection */
		if (!bdat && (sm->data.flags & (SMTP_DATA_BARE_CR |
		    SMTP_DATA_BARE_LF)))
			smtp_bare(sm, "data");
		clock_gettime(CLOCK_MONOTONIC, &ts);
		if (ts.tv_sec * 1000 + ts.tv_nsec / 1000000 > deadline)
			smtp_io_end(sm, IO_TIMEOUT);
	}
	io->timeout_ms = to_cmd;
}

static void
smtp_data(struct smtp *sm, const char *args)
{
	struct session	*s = sm->s;

	if (sm->state != SMTP_S_MAIL || sm->nrcpts == 0) {
		session_reply(s, sm->state == SMTP_S_BDAT ?
		    "503 5.5.1 DATA not allowed after BDAT\r\n" :
		    sm->state == SMTP_S_MAIL ?
		    "554 5.5.1 No valid recipients\r\n" :
		    "503 5.5.1 Need MAIL and RCPT before DATA\r\n");
		smtp_error(sm);
		return;
	}
	if (*args != '\0') {
		session_reply(s, "501 5.5.4 Syntax: DATA\r\n");
		smtp_error(sm);
		return;
	}
	if (smtp_txn_begin(sm, false) == -1) {
		session_reply(s, "451 4.3.0 Local error, try again later\r\n");
		smtp_txn_reset(sm);
		return;
	}
	/*
	 * SECURITY: DATA ends a pipelined group (RFC 2920 3.1); a client
	 * that sends the body before 354 is not speaking SMTP with us, and
	 * its bytes must not become a message (SECURITY-TESTS T10).
	 */
	if (io_input_waiting(&s->io, 0)) {
		session_reply(s, "554 5.5.0 Protocol error: message data sent "
		    "before the 354 reply\r\n");
		session_end(s, "data-before-354");
	}
	session_reply(s, "354 End data with <CR><LF>.<CR><LF>\r\n");
	smtp_read_body(sm, false, 0);
	smtp_data_finish(&sm->data);
	smtp_txn_end(sm);
}

/* BDAT SIZE [LAST] (RFC 3030) */
static void
smtp_bdat(struct smtp *sm, const char *args)
{
	struct session	*s = sm->s;
	const char	*errstr;
	char		 num[21];
	size_t		 n;
	uint64_t	 size;
	bool		 last = false, ok;

	n = strspn(args, "0123456789");
	if (n == 0 || n > 20 || (args[n] != '\0' && strcasecmp(args + n,
	    " LAST") != 0)) {
		/* no size we can trust: the stream cannot be followed */
		session_reply(s, "501 5.5.4 Syntax: BDAT size [LAST], "
		    "closing\r\n");
		session_end(s, "bdat-syntax");
	}
	memcpy(num, args, n);
	num[n] = '\0';
	size = (uint64_t)strtonum(num, 0, LLONG_MAX, &errstr);
	if (errstr != NULL) {
		session_reply(s, "501 5.5.4 BDAT size out of range, "
		    "closing\r\n");
		session_end(s, "bdat-syntax");
	}
	last = args[n] != '\0';
	/*
	 * A chunk larger than any message may be: reading it through to
	 * stay in step would let one command hold the session for as long
	 * as the client likes (SECURITY-TESTS T09).  Say so and close.
	 */
	if (size > sm->max_size ||
	    (sm->state == SMTP_S_BDAT && sm->data.seen + size > sm->max_size)) {
		session_reply(s, "552 5.3.4 Message size exceeds fixed maximum "
		    "message size, closing\r\n");
		session_end(s, "bdat-too-big");
	}
	ok = (sm->state == SMTP_S_MAIL && sm->nrcpts > 0) ||
	    sm->state == SMTP_S_BDAT;
	if (ok && sm->state == SMTP_S_MAIL) {
		if (smtp_txn_begin(sm, true) == -1) {
			smtp_txn_reset(sm);
			ok = false;
		} else
			sm->state = SMTP_S_BDAT;
	}
	if (!ok) {
		/* RFC 3030 2: the chunk is read and thrown away */
		struct smtp_data	save = sm->data;

		smtp_data_init(&sm->data, false, 0, NULL, NULL);
		smtp_read_body(sm, true, size);
		sm->data = save;
		session_reply(s, sm->state == SMTP_S_MAIL ?
		    "554 5.5.1 No valid recipients\r\n" :
		    "503 5.5.1 Need MAIL and RCPT before BDAT\r\n");
		smtp_error(sm);
		return;
	}
	smtp_read_body(sm, true, size);
	if (!last) {
		session_reply(s, "250 2.0.0 %llu octets received\r\n",
		    (unsigned long long)size);
		return;
	}
	smtp_data_finish(&sm->data);
	smtp_txn_end(sm);
}

static void
smtp_command(struct smtp *sm, char *line, size_t len)
{
	struct session	*s = sm->s;
	const char	*args;
	enum smtp_verb	 v;

	(void)len;
	v = smtp_parse_verb(line, &args);
	log_debug("%016" PRIx64 " smtp event=command verb=%d", s->id, v);
	switch (v) {
	case SMTP_V_EHLO:
	case SMTP_V_HELO:
		smtp_ehlo(sm, args, v == SMTP_V_EHLO);
		return;
	case SMTP_V_STARTTLS:
		smtp_starttls(sm, args);
		return;
	case SMTP_V_AUTH:
		smtp_auth(sm, args);
		return;
	case SMTP_V_MAIL:
		smtp_mail(sm, args);
		return;
	case SMTP_V_RCPT:
		smtp_rcpt(sm, args);
		return;
	case SMTP_V_DATA:
		smtp_data(sm, args);
		return;
	case SMTP_V_BDAT:
		smtp_bdat(sm, args);
		return;
	case SMTP_V_RSET:
		if (*args != '\0') {
			session_reply(s, "501 5.5.4 Syntax: RSET\r\n");
			smtp_error(sm);
			return;
		}
		smtp_txn_reset(sm);
		session_reply(s, "250 2.0.0 Ok\r\n");
		return;
	case SMTP_V_NOOP:
		session_reply(s, "250 2.0.0 Ok\r\n");
		return;
	case SMTP_V_QUIT:
		if (*args != '\0') {
			session_reply(s, "501 5.5.4 Syntax error in "
			    "parameters\r\n");
			smtp_error(sm);
			return;
		}
		session_reply(s, "221 2.0.0 %s Bye\r\n", s->hostname);
		session_end(s, "quit");
	case SMTP_V_HELP:
		session_reply(s, "214 2.0.0 See RFC 5321; this is sealpost\r\n");
		return;
	case SMTP_V_VRFY:
		/* never say which accounts exist */
		session_reply(s, "252 2.5.0 Cannot VRFY user, but will accept "
		    "message and attempt delivery\r\n");
		return;
	case SMTP_V_EXPN:
		session_reply(s, "502 5.5.1 EXPN not available\r\n");
		return;
#ifdef SP_TEST_HOOKS
	case SMTP_V_XSPTEST: {
		char	reply[512];

		session_test_hook(s, line + 7, reply, sizeof(reply));
		session_reply(s, "250 2.0.0 %s\r\n", reply);
		return;
	}
#endif
	default:
		session_reply(s, "500 5.5.2 Command unrecognized\r\n");
		smtp_error(sm);
		return;
	}
}

/*
 * Pickup: the kernel said who the local user is, the configuration what
 * address that is; auth says which account that address belongs to, and
 * the session is authenticated as it.  An address that is no account or
 * alias here cannot send: nobody could own its mail.
 */
static void
smtp_pickup_start(struct smtp *sm)
{
	struct smtp_rcpt_ent	who;
	uint64_t		q, u;
	int			r;

	if ((r = smtp_lookup(sm, sm->pickup_from, &who, &q, &u)) != 1) {
		session_reply(sm->s, r == 0 ? "554 5.7.1 %s: the local-sender "
		    "address of uid %s is not an account or alias here\r\n" :
		    "421 4.3.0 %s Temporary failure (uid %s), try again "
		    "later\r\n", r == 0 ? sm->pickup_from : sm->s->hostname,
		    sm->pickup_uid);
		session_end(sm->s, "pickup-unmapped");
	}
	sm->authed = true;
	sm->account = who.account;
	strlcpy(sm->user, sm->pickup_from, sizeof(sm->user));
	log_info("%016" PRIx64 " smtp event=pickup uid=%s account=%llu",
	    sm->s->id, sm->pickup_uid, (unsigned long long)who.account);
}

/* The master's -o settings for smtp sessions. */
static void
smtp_settings(struct smtp *sm)
{
	const struct child_args	*a = &sm->s->args;
	const char		*v, *errstr;

	if ((sm->domains = child_opt(a, "domains")) == NULL)
		sm->domains = "";
	if ((v = child_opt(a, "max-size")) == NULL)
		fatalx("smtp: no max-size from the master");
	sm->max_size = (uint64_t)strtonum(v, 1, LLONG_MAX, &errstr);
	if (errstr != NULL)
		fatalx("smtp: bad max-size from the master");
	if ((v = child_opt(a, "max-rcpts")) == NULL)
		fatalx("smtp: no max-rcpts from the master");
	sm->max_rcpts = (unsigned int)strtonum(v, 1, SMTP_RCPTS_MAX, &errstr);
	if (errstr != NULL)
		fatalx("smtp: bad max-rcpts from the master");
	sm->hide_client = (v = child_opt(a, "hide-client")) != NULL &&
	    strcmp(v, "1") == 0;
#ifdef SP_TEST_HOOKS
	if ((v = child_opt(a, "timeouts")) != NULL) {
		to_cmd = to_data = (int)strtonum(v, 100, 60000, &errstr);
		if (errstr != NULL)
			fatalx("smtp: bad timeouts from the master");
		to_data_total = 3L * to_data;
		sm->s->io.timeout_ms = to_cmd;		/* greeting too */
	}
#endif
	/* a local user through sealpost-sendmail (sealpostd/pickup.c) */
	sm->pickup_from = child_opt(a, "pickup-from");
	sm->pickup_uid = child_opt(a, "pickup-uid");
	if ((sm->pickup_from == NULL) != (sm->pickup_uid == NULL))
		fatalx("smtp: half a pickup from the master");
}

int
main(int argc, char **argv)
{
	static struct session	 s;
	static struct smtp	 sm;
	char			*line;
	size_t			 len;

	if (sodium_init() < 0)		/* before the sandbox */
		return 1;
	session_init(&s, argc, argv, "smtp", ROLE_SMTP, SMTP_TIMEOUT_GREET_MS);
	sm.s = &s;
	sm.msgfd = -1;
	sm.state = SMTP_S_GREETED;
	sm.submission = s.kind == SP_LISTEN_SUBMISSION ||
	    s.kind == SP_LISTEN_SUBMISSIONS;
	smtp_settings(&sm);
	sm.rcpts = xcalloc(sm.max_rcpts, sizeof(*sm.rcpts));
	if (s.implicit_tls && session_tls_start(&s) == -1)
		session_end(&s, "tls-failed");
	if (sm.pickup_from != NULL)
		smtp_pickup_start(&sm);
	/*
	 * A client that talks before the greeting is not waiting for our
	 * replies (spam engines, or an attack on pipelining): the MX port
	 * listens for SMTP_PREGREET_MS first (SECURITY-TESTS T10).
	 */
	if (!s.implicit_tls && sm.pickup_from == NULL &&
	    io_input_waiting(&s.io, s.kind == SP_LISTEN_SMTP ?
	    SMTP_PREGREET_MS : 0)) {
		session_reply(&s, "554 5.5.1 %s Protocol error: data sent before "
		    "the greeting\r\n", s.hostname);
		session_end(&s, "pregreet");
	}
	session_reply(&s, "220 %s ESMTP sealpost\r\n", s.hostname);
	for (;;)
		if ((line = smtp_getline(&sm, SMTP_LINE_MAX, &len)) != NULL)
			smtp_command(&sm, line, len);
}
