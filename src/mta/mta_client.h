/* SPDX-License-Identifier: ISC */
/*
 * mta_client.h - the outbound SMTP client's conversation as a state
 * machine (RFC 5321, 3207 STARTTLS, 2920 PIPELINING, 1870 SIZE, 6152
 * 8BITMIME, 6531 SMTPUTF8, 3461 DSN): it is given each whole reply
 * (mta_reply.h) and says what to do next: send a command, start TLS,
 * send the body, or stop with a result for every recipient.  No I/O, so
 * that the mta role drives it from its event loop and the tests drive it
 * from scripts of replies.
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
#define MTA_DO_DONE		4	/* write cmd (QUIT) and close */

struct mta_client {
	int				 state;
	const char			*helo;	/* our name */
	int				 tls;	/* TLS is on */
	int				 tls_wanted;	/* STARTTLS when offered */
	unsigned int			 exts;	/* MTA_EXT_* of the last EHLO */
	uint64_t			 maxsize;
	const struct mta_client_msg	*m;
	struct mta_rcpt_result		 r[MTA_CLIENT_RCPTS_MAX];
	size_t				 next;	/* replies to pipelined commands:
						 * 0 MAIL, 1..n RCPT, n+1 DATA */
	size_t				 accepted;
	int				 mail_ok;
	int				 pipelined;
};

/*
 * Start the conversation for m with our name helo; tls_wanted: ask for
 * STARTTLS when the server offers it.  The first thing is to read the
 * greeting: no command yet.  0, or -1 when m has no recipient or more
 * than MTA_CLIENT_RCPTS_MAX (the caller splits a larger transaction).
 */
int	mta_client_init(struct mta_client *, const char *helo, int tls_wanted,
	    const struct mta_client_msg *m);
/*
 * The whole reply to what was last sent (or the greeting): the next step
 * (MTA_DO_*), with the command to write (CR LF ended) in cmd for SEND and
 * DONE.  Results for recipients are in c->r as they are decided; at DONE
 * every recipient's is.
 */
int	mta_client_reply(struct mta_client *, const struct mta_reply *,
	    struct buf *cmd);
/* TLS is up (after MTA_DO_STARTTLS): the next command (EHLO again). */
int	mta_client_tls(struct mta_client *, struct buf *cmd);
/*
 * The connection broke or timed out: every recipient not decided yet is
 * TEMP with why.
 */
void	mta_client_abort(struct mta_client *, const char *why);

#endif
