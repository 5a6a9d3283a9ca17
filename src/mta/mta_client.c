/* SPDX-License-Identifier: ISC */
/*
 * mta_client.c - the outbound SMTP conversation (mta_client.h).
 *
 * Process:  mta (the outbound issue), and the tests.
 * Trust:    replies are the remote's, already bounded and checked by
 *           mta_reply.c; here only their codes decide, and their text is
 *           kept (printable ASCII) for logs and bounces.  What we send
 *           comes from our own queue: addresses and parameters were
 *           checked when the message was taken.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "mta_client.h"
#include "banned.h"

enum {
	S_GREETING = 0, S_EHLO, S_HELO, S_STARTTLS, S_TLS, S_MAIL, S_RCPT,
	S_DATA, S_PIPE, S_DOT, S_EMPTY, S_DONE,
	S_RSET,		/* RSET's reply, then MAIL */
	S_PRSET,	/* RSET's reply, then the pipelined ones (S_PIPE) */
	S_BDAT,		/* BDAT ... LAST's reply */
	S_AUTH		/* AUTH PLAIN's reply (issue 15, the smarthost) */
};

static int	done(struct mta_client *, struct buf *);

static int
msg_ok(const struct mta_client_msg *m)
{
	return m->nrcpts != 0 && m->nrcpts <= MTA_CLIENT_RCPTS_MAX;
}

int
mta_client_init(struct mta_client *c, const char *helo, int tls_wanted,
    const struct mta_client_msg *m)
{
	memset(c, 0, sizeof(*c));
	if (!msg_ok(m))
		return -1;
	c->helo = helo;
	c->tls_wanted = tls_wanted;
	c->chunking_wanted = 1;
	c->m = m;
	c->state = S_GREETING;
	return 0;
}

/* "550 5.1.1 text" of a reply, for a recipient's result. */
static void
result_set(struct mta_rcpt_result *r, int state, const struct mta_reply *rp)
{
	r->state = state;
	r->code = rp != NULL ? rp->code : 0;
	if (rp != NULL)
		(void)snprintf(r->text, sizeof(r->text), "%d%s%s %s", rp->code,
		    rp->status[0] != '\0' ? " " : "", rp->status, rp->text);
}

/* Every recipient still undecided (or taken, when taken too) gets state. */
static void
all_set(struct mta_client *c, int state, const struct mta_reply *rp,
    const char *why, int taken_too)
{
	size_t	i;

	for (i = 0; i < c->m->nrcpts; i++) {
		if (c->r[i].state == MTA_RCPT_PERM ||
		    c->r[i].state == MTA_RCPT_TEMP)
			continue;
		if (c->r[i].state == MTA_RCPT_OK && !taken_too)
			continue;
		result_set(&c->r[i], state, rp);
		if (rp == NULL)
			(void)snprintf(c->r[i].text, sizeof(c->r[i].text), "%s",
			    why);
	}
}

/*
 * Something our policy needs is missing (TLS, AUTH): every recipient for
 * now with "451 status text" and the reply that told, when one did.
 */
static int
refuse(struct mta_client *c, struct buf *cmd, const char *status,
    const char *text, const struct mta_reply *rp)
{
	char	why[MTA_REPLY_TEXT_MAX + 24];
	size_t	i;
	int	n;

	/* cut to the recipient's text (the remote's reply last) */
	n = snprintf(why, sizeof(why), "451 %s %s", status, text);
	if (rp != NULL && n > 0 && (size_t)n < sizeof(why))
		(void)snprintf(why + n, sizeof(why) - (size_t)n,
		    " (%d%s%.*s %.*s)", rp->code, rp->status[0] != '\0' ?
		    " " : "", 16, rp->status, (int)(sizeof(why) - 64),
		    rp->text);
	for (i = 0; i < c->m->nrcpts; i++) {
		if (c->r[i].state == MTA_RCPT_PERM ||
		    c->r[i].state == MTA_RCPT_TEMP)
			continue;
		c->r[i].state = MTA_RCPT_TEMP;
		c->r[i].code = 451;
		(void)snprintf(c->r[i].text, sizeof(c->r[i].text), "%s", why);
	}
	c->clean = 0;
	return done(c, cmd);
}

/* A reply's class as a recipient's state: 2 OK, 4 TEMP, else PERM. */
static int
class_state(int code)
{
	return code / 100 == 2 ? MTA_RCPT_OK : code / 100 == 4 ?
	    MTA_RCPT_TEMP : MTA_RCPT_PERM;
}

static int
done(struct mta_client *c, struct buf *cmd)
{
	c->state = S_DONE;
	(void)buf_addf(cmd, "QUIT\r\n");
	return MTA_DO_DONE;
}

static void
add_mail(struct mta_client *c, struct buf *cmd)
{
	const struct mta_client_msg	*m = c->m;

	(void)buf_addf(cmd, "MAIL FROM:<%s>", m->from);
	if (c->exts & MTA_EXT_SIZE)
		(void)buf_addf(cmd, " SIZE=%" PRIu64, m->size);
	if (m->body8 && (c->exts & MTA_EXT_8BITMIME))
		(void)buf_addf(cmd, " BODY=8BITMIME");
	if (m->smtputf8 && (c->exts & MTA_EXT_SMTPUTF8))
		(void)buf_addf(cmd, " SMTPUTF8");
	if (c->exts & MTA_EXT_DSN) {
		if (m->ret == 1 || m->ret == 2)
			(void)buf_addf(cmd, " RET=%s", m->ret == 1 ? "FULL" :
			    "HDRS");
		if (m->envid != NULL && m->envid[0] != '\0')
			(void)buf_addf(cmd, " ENVID=%s", m->envid);
	}
	(void)buf_addf(cmd, "\r\n");
}

static void
add_rcpt(struct mta_client *c, size_t i, struct buf *cmd)
{
	const struct mta_client_msg	*m = c->m;
	unsigned int			 n;

	(void)buf_addf(cmd, "RCPT TO:<%s>", m->rcpts[i]);
	if ((c->exts & MTA_EXT_DSN) && m->notify != NULL &&
	    (n = m->notify[i]) != 0) {
		/* SMTP_NOTIFY_*: 1 NEVER, 2 SUCCESS, 4 FAILURE, 8 DELAY */
		if (n & 1)
			(void)buf_addf(cmd, " NOTIFY=NEVER");
		else
			(void)buf_addf(cmd, " NOTIFY=%s%s%s%s%s",
			    n & 2 ? "SUCCESS" : "",
			    (n & 2) && (n & 12) ? "," : "",
			    n & 4 ? "FAILURE" : "",
			    (n & 4) && (n & 8) ? "," : "",
			    n & 8 ? "DELAY" : "");
	}
	if ((c->exts & MTA_EXT_DSN) && m->orcpt != NULL &&
	    m->orcpt[i] != NULL && m->orcpt[i][0] != '\0')
		(void)buf_addf(cmd, " ORCPT=%s", m->orcpt[i]);
	(void)buf_addf(cmd, "\r\n");
}

/*
 * EHLO (or HELO) done, or the previous transaction (rset): refuse what
 * cannot go, else (RSET and) MAIL, and more with PIPELINING.
 */
static int
transaction(struct mta_client *c, struct buf *cmd, int rset)
{
	const struct mta_client_msg	*m = c->m;
	struct mta_reply		 fake;
	size_t				 i;

	mta_reply_init(&fake);
	if (m->smtputf8 && !(c->exts & MTA_EXT_SMTPUTF8)) {
		fake.code = 553;
		strlcpy(fake.status, "5.6.7", sizeof(fake.status));
		strlcpy(fake.text, "the server does not offer SMTPUTF8, which "
		    "the addresses need", sizeof(fake.text));
		all_set(c, MTA_RCPT_PERM, &fake, NULL, 1);
		return done(c, cmd);
	}
	if (m->body8 && !(c->exts & MTA_EXT_8BITMIME)) {
		/* RFC 6152: never 8-bit data to a 7-bit server */
		fake.code = 554;
		strlcpy(fake.status, "5.6.3", sizeof(fake.status));
		strlcpy(fake.text, "the server does not offer 8BITMIME and the "
		    "message is 8-bit", sizeof(fake.text));
		all_set(c, MTA_RCPT_PERM, &fake, NULL, 1);
		return done(c, cmd);
	}
	if ((c->exts & MTA_EXT_SIZE) && c->maxsize != 0 &&
	    m->size > c->maxsize) {
		fake.code = 552;
		strlcpy(fake.status, "5.3.4", sizeof(fake.status));
		(void)snprintf(fake.text, sizeof(fake.text), "the message is "
		    "larger than the server takes (%" PRIu64 " bytes)",
		    c->maxsize);
		all_set(c, MTA_RCPT_PERM, &fake, NULL, 1);
		return done(c, cmd);
	}
	c->chunking = c->chunking_wanted && (c->exts & MTA_EXT_CHUNKING);
	if (rset)
		(void)buf_addf(cmd, "RSET\r\n");
	if (!(c->exts & MTA_EXT_PIPELINING)) {
		if (rset) {
			c->state = S_RSET;
			return MTA_DO_SEND;
		}
		add_mail(c, cmd);
		c->state = S_MAIL;
		return MTA_DO_SEND;
	}
	/*
	 * RFC 2920: (RSET,) MAIL, every RCPT and DATA in one go.  With
	 * BDAT, no DATA: BDAT waits for the RCPTs' replies (RFC 3030 lets
	 * it go in the same write, but then a body would go to nobody).
	 */
	add_mail(c, cmd);
	for (i = 0; i < m->nrcpts; i++)
		add_rcpt(c, i, cmd);
	if (!c->chunking)
		(void)buf_addf(cmd, "DATA\r\n");
	c->pipelined = 1;
	c->next = 0;
	c->state = rset ? S_PRSET : S_PIPE;
	return MTA_DO_SEND;
}

/* The body as one chunk (RFC 3030): the driver sends m->size octets. */
static int
bdat(struct mta_client *c, struct buf *cmd)
{
	(void)buf_addf(cmd, "BDAT %" PRIu64 " LAST\r\n", c->m->size);
	c->state = S_BDAT;
	return MTA_DO_BDAT;
}

/* After the RCPTs: DATA when one was taken, else the end. */
static int
after_rcpts(struct mta_client *c, struct buf *cmd)
{
	if (c->accepted == 0)
		return done(c, cmd);
	if (c->chunking)
		return bdat(c, cmd);
	(void)buf_addf(cmd, "DATA\r\n");
	c->state = S_DATA;
	return MTA_DO_SEND;
}

/* The reply to one RCPT (i). */
static void
rcpt_reply(struct mta_client *c, size_t i, const struct mta_reply *rp)
{
	if (rp->code / 100 == 2) {
		c->r[i].state = MTA_RCPT_PENDING;	/* until the dot */
		c->r[i].code = rp->code;
		c->accepted++;
		return;
	}
	result_set(&c->r[i], class_state(rp->code), rp);
}

/* The reply to the body's dot (or BDAT LAST): for every recipient taken. */
static int
dot_reply(struct mta_client *c, const struct mta_reply *rp, struct buf *cmd)
{
	size_t	i;

	for (i = 0; i < c->m->nrcpts; i++)
		if (c->r[i].state == MTA_RCPT_PENDING && c->r[i].code != 0)
			result_set(&c->r[i], class_state(rp->code), rp);
	all_set(c, MTA_RCPT_TEMP, NULL, "not taken", 0);
	return done(c, cmd);
}

int
mta_client_reply(struct mta_client *c, const struct mta_reply *rp,
    struct buf *cmd)
{
	struct mta_ehlo	e;
	size_t		i, n = c->m->nrcpts;

	/*
	 * RFC 5321 3.8, 4.2.2: the server is closing the connection (no
	 * more replies come, even to pipelined commands): for now for every
	 * recipient not decided (a taken one is until the end of the body).
	 */
	if (rp->code == 421 || rp->code == 221)
		c->clean = 0;
	if (rp->code == 421) {
		all_set(c, MTA_RCPT_TEMP, rp, NULL, 0);
		return done(c, cmd);
	}
	switch (c->state) {
	case S_GREETING:
		if (rp->code != 220) {
			/* this host, not the message: try the next one */
			all_set(c, MTA_RCPT_TEMP, rp, NULL, 1);
			return done(c, cmd);
		}
		(void)buf_addf(cmd, "EHLO %s\r\n", c->helo);
		c->state = S_EHLO;
		return MTA_DO_SEND;
	case S_EHLO:
		if (rp->code / 100 == 5 && (c->tls_required || c->auth_wanted) &&
		    !c->tls)
			/* HELO cannot give STARTTLS (RFC 3207) */
			return refuse(c, cmd, "4.7.4", "TLS is required and "
			    "the server refused EHLO", rp);
		if (rp->code / 100 == 5) {
			(void)buf_addf(cmd, "HELO %s\r\n", c->helo);
			c->state = S_HELO;
			return MTA_DO_SEND;
		}
		if (rp->code != 250) {
			all_set(c, MTA_RCPT_TEMP, rp, NULL, 1);
			return done(c, cmd);
		}
		mta_reply_ehlo(rp, &e);
		c->exts = e.exts;
		c->maxsize = e.size;
		c->auth_plain = e.auth_plain;
		if ((c->tls_wanted || c->tls_required) && !c->tls &&
		    (e.exts & MTA_EXT_STARTTLS)) {
			(void)buf_addf(cmd, "STARTTLS\r\n");
			c->state = S_STARTTLS;
			return MTA_DO_SEND;
		}
		/* SECURITY: required TLS is never given up (T48 downgrade) */
		if (c->tls_required && !c->tls)
			return refuse(c, cmd, "4.7.4", "TLS is required and "
			    "the server offers no STARTTLS", NULL);
		if (c->auth_wanted) {
			/* SECURITY: credentials only inside TLS */
			if (!c->tls)
				return refuse(c, cmd, "4.7.4", "AUTH needs TLS "
				    "first", NULL);
			if (!(e.exts & MTA_EXT_AUTH) || !c->auth_plain)
				return refuse(c, cmd, "4.7.8", "the server "
				    "offers no AUTH PLAIN", NULL);
			c->state = S_AUTH;
			return MTA_DO_AUTH;
		}
		c->clean = 1;
		return transaction(c, cmd, 0);
	case S_AUTH:
		if (rp->code != 235)
			/* our credentials, not the message: for now */
			return refuse(c, cmd, "4.7.8", "the server refused "
			    "our AUTH", rp);
		c->clean = 1;
		return transaction(c, cmd, 0);
	case S_HELO:
		if (c->tls_required || c->auth_wanted)
			return refuse(c, cmd, "4.7.4", "TLS is required and "
			    "the server speaks no ESMTP", NULL);
		if (rp->code != 250) {
			all_set(c, MTA_RCPT_TEMP, rp, NULL, 1);
			return done(c, cmd);
		}
		c->exts = 0;
		c->clean = 1;
		return transaction(c, cmd, 0);
	case S_STARTTLS:
		if (rp->code == 220) {
			c->state = S_TLS;
			return MTA_DO_STARTTLS;
		}
		if (c->tls_required)
			return refuse(c, cmd, "4.7.4", "TLS is required and "
			    "the server refused STARTTLS", rp);
		/* opportunistic: on without TLS */
		c->clean = rp->code != 221;
		return transaction(c, cmd, 0);
	case S_RSET:
	case S_PRSET:
		if (rp->code / 100 != 2) {
			/* the transaction's state is unknown: close */
			c->clean = 0;
			all_set(c, MTA_RCPT_TEMP, rp, NULL, 1);
			return done(c, cmd);
		}
		if (c->state == S_PRSET) {
			c->state = S_PIPE;
			return MTA_DO_SEND;	/* MAIL's reply is due */
		}
		add_mail(c, cmd);
		c->state = S_MAIL;
		return MTA_DO_SEND;
	case S_MAIL:
		if (rp->code / 100 != 2) {
			all_set(c, class_state(rp->code), rp, NULL, 1);
			return done(c, cmd);
		}
		c->mail_ok = 1;
		c->next = 0;
		add_rcpt(c, 0, cmd);
		c->state = S_RCPT;
		return MTA_DO_SEND;
	case S_RCPT:
		rcpt_reply(c, c->next, rp);
		if (++c->next < n) {
			add_rcpt(c, c->next, cmd);
			return MTA_DO_SEND;
		}
		return after_rcpts(c, cmd);
	case S_DATA:
		if (rp->code != 354) {
			for (i = 0; i < n; i++)
				if (c->r[i].state == MTA_RCPT_PENDING)
					result_set(&c->r[i],
					    class_state(rp->code), rp);
			return done(c, cmd);
		}
		c->state = S_DOT;
		return MTA_DO_BODY;
	case S_PIPE:
		if (c->next == 0) {
			/* MAIL's reply; the RCPTs' and DATA's follow anyway */
			c->mail_ok = rp->code / 100 == 2;
			if (!c->mail_ok)
				all_set(c, class_state(rp->code), rp, NULL, 1);
		} else if (c->next <= n) {
			if (c->mail_ok)
				rcpt_reply(c, c->next - 1, rp);
			if (c->next == n && c->chunking) {
				/* the last RCPT's: BDAT if anyone takes it */
				if (c->mail_ok && c->accepted > 0)
					return bdat(c, cmd);
				return done(c, cmd);
			}
		} else {
			/* DATA's */
			if (rp->code == 354 && c->mail_ok && c->accepted > 0) {
				c->state = S_DOT;
				return MTA_DO_BODY;
			}
			if (rp->code == 354) {
				/* nobody to send to: an empty message ends it */
				(void)buf_addf(cmd, ".\r\n");
				c->state = S_EMPTY;
				return MTA_DO_SEND;
			}
			for (i = 0; i < n; i++)
				if (c->r[i].state == MTA_RCPT_PENDING &&
				    c->r[i].code != 0)
					result_set(&c->r[i],
					    class_state(rp->code), rp);
			all_set(c, MTA_RCPT_TEMP, rp, NULL, 0);
			return done(c, cmd);
		}
		c->next++;
		return MTA_DO_SEND;	/* nothing to write: the next reply */
	case S_DOT:
	case S_BDAT:
		return dot_reply(c, rp, cmd);
	case S_EMPTY:
		return done(c, cmd);
	default:
		/* a reply out of turn: nothing is known any more */
		c->clean = 0;
		all_set(c, MTA_RCPT_TEMP, rp, NULL, 0);
		return done(c, cmd);
	}
}

int
mta_client_tls(struct mta_client *c, struct buf *cmd)
{
	/* RFC 3207 4.2: forget what the server said before TLS */
	c->tls = 1;
	c->exts = 0;
	c->maxsize = 0;
	(void)buf_addf(cmd, "EHLO %s\r\n", c->helo);
	c->state = S_EHLO;
	return MTA_DO_SEND;
}

void
mta_client_abort(struct mta_client *c, const char *why)
{
	size_t	i;

	for (i = 0; i < c->m->nrcpts; i++)
		if (c->r[i].state == MTA_RCPT_PENDING) {
			c->r[i].state = MTA_RCPT_TEMP;
			c->r[i].code = 0;
			(void)snprintf(c->r[i].text, sizeof(c->r[i].text),
			    "%s", why);
		}
	c->state = S_DONE;
	c->clean = 0;
}

int
mta_client_reusable(const struct mta_client *c)
{
	return c->state == S_DONE && c->clean;
}

int
mta_client_next(struct mta_client *c, const struct mta_client_msg *m,
    struct buf *cmd)
{
	if (!mta_client_reusable(c) || !msg_ok(m))
		return -1;
	memset(c->r, 0, sizeof(c->r));
	c->m = m;
	c->next = 0;
	c->accepted = 0;
	c->mail_ok = 0;
	c->pipelined = 0;
	c->chunking = 0;
	return transaction(c, cmd, 1);
}
