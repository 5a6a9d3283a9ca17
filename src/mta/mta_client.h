/* SPDX-License-Identifier: ISC */
/*
 * mta_client.h - the outbound SMTP client's conversation as a state
 * machine (RFC 5321, 3207 STARTTLS, 2920 PIPELINING, 1870 SIZE, 6152
 * 8BITMIME, 6531 SMTPUTF8, 3461 DSN, 3030 CHUNKING): it is given each
 * whole reply (mta_reply.h) and says what to do next: send a command,
 * start TLS, send the body (after DATA, or as one BDAT), or stop with a
 * result for every recipient.  A connection whose transaction ended in a
 * known state carries the next message to the same destination
 * (mta_client_next).  No I/O, so that the mta role drives it from its
 * event loop and the tests drive it from scripts of replies.
 *
 * The driver's loop (cmd is reset before every call that fills it):
 *
 *	mta_client_init(), then read the greeting, and for each whole
 *	reply step = mta_client_reply(c, reply, cmd):
 *	SEND      write cmd (maybe empty: a pipelined reply is still due),
 *	          read the next reply
 *	STARTTLS  the handshake, then step = mta_client_tls(c, cmd)
 *	AUTH      write the AUTH PLAIN line the driver holds (a secret:
 *	          never in cmd), read the next reply
 *	BODY      write the message through mta_data (dot-stuffed, the
 *	          dot at the end), read one reply
 *	BDAT      write cmd ("BDAT <m->size> LAST\r\n"), then exactly
 *	          m->size octets: the message as queued, unchanged (CR LF
 *	          canonical; no dot-stuffing, no dot), read one reply
 *	DONE      every c->r[i] is decided.  To close: write cmd (QUIT) and
 *	          close.  To carry another message (mta_client_reusable):
 *	          write nothing (NOT the QUIT) and step = mta_client_next(c,
 *	          m2, cmd), now or later; an idle connection kept is closed
 *	          by writing "QUIT\r\n".
 *	A broken or malformed reply, a timeout, a failed handshake:
 *	mta_client_abort(), close; such a connection is not reused.
 */
#ifndef SP_MTA_CLIENT_H
#define SP_MTA_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "mta_reply.h"

#define MTA_CLIENT_RCPTS_MAX	100	/* recipients per transaction */

/* one message for one destination */
struct mta_client_msg {
	const char	*from;		/* "" for the null sender */
	uint64_t	 size;
	int		 body8;		/* 8-bit body: BODY=8BITMIME needed */
	int		 smtputf8;	/* UTF-8 addresses: SMTPUTF8 needed */
	int		 ret;		/* DSN RET: 0 none, 1 FULL, 2 HDRS */
	const char	*envid;		/* xtext-encoded ENVID, or "" */
	const char	*const *rcpts;
	const unsigned int *notify;	/* DSN NOTIFY bits per rcpt, or NULL */
	const char	*const *orcpt;	/* xtext ORCPT per rcpt, or NULL */
	size_t		 nrcpts;
};

/* a recipient's outcome */
#define MTA_RCPT_PENDING	0
#define MTA_RCPT_OK		1	/* the remote took it (after the dot) */
#define MTA_RCPT_TEMP		2	/* try again later */
#define MTA_RCPT_PERM		3	/* bounce */

struct mta_rcpt_result {
	int	state;
	int	code;			/* the reply that decided, or 0 */
	char	text[MTA_REPLY_TEXT_MAX + 24];	/* "550 5.1.1 ..." */
};

/* what to do next */
#define MTA_DO_SEND		1	/* write cmd (maybe nothing: a pipelined
					 * reply is still due), read a reply */
#define MTA_DO_STARTTLS		2	/* start TLS now; then mta_client_tls */
#define MTA_DO_BODY		3	/* write the DATA body (mta_data), then
					 * read a reply */
#define MTA_DO_DONE		4	/* write cmd (QUIT) and close; or, to
					 * reuse the connection, write nothing
					 * and call mta_client_next */
#define MTA_DO_BDAT		5	/* write cmd ("BDAT <size> LAST"), then
					 * the message's m->size octets as
					 * they are, read one reply */
#define MTA_DO_AUTH		6	/* write "AUTH PLAIN <credentials>"
					 * (the driver's secret), read a
					 * reply */

struct mta_client {
	int				 state;
	const char			*helo;	/* our name */
	int				 tls;	/* TLS is on */
	int				 tls_wanted;	/* STARTTLS when offered */
	/*
	 * Set after init (issue 15).  tls_required: without STARTTLS
	 * offered and taken, every recipient is TEMP 4.7.4, and nothing
	 * of the message is sent.  auth_wanted: AUTH PLAIN after TLS
	 * (never before), refused or not offered: every recipient TEMP.
	 */
	int				 tls_required;
	int				 auth_wanted;
	int				 auth_plain;	/* EHLO offered it */
	/* BDAT when CHUNKING is offered: 1 after init, 0 for DATA */
	int				 chunking_wanted;
	unsigned int			 exts;	/* MTA_EXT_* of the last EHLO */
	uint64_t			 maxsize;
	const struct mta_client_msg	*m;
	struct mta_rcpt_result		 r[MTA_CLIENT_RCPTS_MAX];
	size_t				 next;	/* replies to pipelined commands:
						 * 0 MAIL, 1..n RCPT, n+1 DATA
						 * (no DATA with BDAT) */
	size_t				 accepted;
	int				 mail_ok;
	int				 pipelined;
	int				 chunking;	/* BDAT this time */
	int				 clean;	/* in a known state: reusable
						 * at DONE */
};

/*
 * Start the conversation for m with our name helo; tls_wanted: ask for
 * STARTTLS when the server offers it.  The first thing is to read the
 * greeting: no command yet.  0, or -1 when m has no recipient or more
 * than MTA_CLIENT_RCPTS_MAX (the caller splits a larger transaction).
 * CHUNKING is used when offered: clear c->chunking_wanted after this (or
 * before mta_client_next) to send DATA and a dot-stuffed body instead.
 * With BDAT, m->size must be the exact number of octets the driver sends
 * after the BDAT command (the stored message, CR LF canonical, sent
 * unchanged); it is also MAIL's SIZE.
 */
int	mta_client_init(struct mta_client *, const char *helo, int tls_wanted,
	    const struct mta_client_msg *m);
/*
 * The whole reply to what was last sent (or the greeting): the next step
 * (MTA_DO_*), with the command to write (CR LF ended) in cmd for SEND,
 * BDAT and DONE.  Results for recipients are in c->r as they are decided;
 * at DONE every recipient's is.  The reply to BDAT ... LAST decides for
 * every taken recipient as the dot's does.  With CHUNKING and PIPELINING,
 * MAIL and every RCPT go in one write, and BDAT only after the last
 * RCPT's reply (RFC 3030 allows either): no body is sent when no
 * recipient was taken.
 */
int	mta_client_reply(struct mta_client *, const struct mta_reply *,
	    struct buf *cmd);
/* TLS is up (after MTA_DO_STARTTLS): the next command (EHLO again). */
int	mta_client_tls(struct mta_client *, struct buf *cmd);
/*
 * The connection broke or timed out: every recipient not decided yet is
 * TEMP with why.  The connection is not reusable after it.
 */
void	mta_client_abort(struct mta_client *, const char *why);
/*
 * After MTA_DO_DONE, whether the connection may carry another
 * transaction: the session ended in a known state (greeting and EHLO or
 * HELO were fine, no 421 or 221, no RSET refused, not aborted).  The
 * transaction itself may have failed (MAIL, every RCPT or the body
 * refused, or a message refused before MAIL for SIZE, 8BITMIME or
 * SMTPUTF8): the next one starts with RSET.
 */
int	mta_client_reusable(const struct mta_client *);
/*
 * Another transaction, for m, on the same connection (only when
 * reusable; the previous DONE's QUIT was not written): the previous
 * message's results are forgotten (read them first), TLS, the extensions
 * and SIZE's limit are kept.  The first command(s) are in cmd: RSET, then
 * MAIL after RSET's 250; with PIPELINING, RSET, MAIL, every RCPT and DATA
 * (not DATA with BDAT) in one write, RSET's reply read first.  A refused
 * RSET makes every recipient TEMP and ends (DONE, not reusable: write the
 * QUIT and close).  The next step (MTA_DO_*) as mta_client_reply's (DONE
 * at once, with nothing sent, when m is refused for SIZE, 8BITMIME or
 * SMTPUTF8; the connection stays reusable), or -1 when the connection is
 * not reusable or m has no recipient or too many (nothing changed).
 */
int	mta_client_next(struct mta_client *, const struct mta_client_msg *m,
	    struct buf *cmd);

#endif
