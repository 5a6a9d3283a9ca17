/* SPDX-License-Identifier: ISC */
/*
 * smtp.h - the smtp session's state, shared by smtp.c (the dialogue) and
 * smtp_txn.c (what happens to a message once its data is in).
 */
#ifndef SP_SMTP_H
#define SP_SMTP_H

#include <stdbool.h>
#include <stdint.h>

#include "session.h"
#include "smtp_parse.h"
#include "smtp_data.h"

#define SMTP_RCPTS_MAX		1000	/* = smtp-max-recipients' maximum */
#define SMTP_KEY_LEN		32

/* Header lines the filter may put on top of a message (X-Spam-..., ...). */
#define SMTP_FILTER_HEADERS_MAX	4096
/* The filter's policy group token (IMSG_FILTER_RCPT). */
#define SMTP_GROUP_TOKEN_MAX	400

struct smtp_rcpt_ent {
	char		 addr[SMTP_ADDR_MAX + 1];
	bool		 local;
	uint64_t	 account;
	unsigned char	 pk[SMTP_KEY_LEN];
	unsigned int	 notify;		/* DSN, kept for the queue */
	char		 orcpt[SMTP_ORCPT_MAX + 1];
	unsigned int	 pgp;			/* SMTP_PGP_*, the policy's */
	unsigned int	 pgp_flags;		/* PGP_F_*, the policy's */
	unsigned int	 tls;			/* SMTP_TLS_*, the policy's */
};

enum smtp_state {
	SMTP_S_GREETED,		/* no EHLO/HELO yet (or again after TLS) */
	SMTP_S_READY,		/* EHLO/HELO done, no transaction */
	SMTP_S_MAIL,		/* MAIL accepted: RCPT, DATA, BDAT */
	SMTP_S_BDAT		/* BDAT chunks coming */
};

struct smtp {
	struct session		*s;
	enum smtp_state		 state;
	bool			 esmtp;		/* EHLO (not HELO) */
	char			 helo[SMTP_DOMAIN_MAX + 1];
	unsigned int		 exts;		/* SMTP_EXT_* offered */
	bool			 submission;	/* 587 or 465 */
	bool			 authed;
	uint64_t		 account;	/* authed: who */
	char			 user[SMTP_ADDR_MAX + 1];
	unsigned int		 txns;		/* transactions so far */
	unsigned int		 auth_fails;

	/* settings from the master (-o) */
	const char		*domains;	/* "a.test,b.test" */
	uint64_t		 max_size;
	unsigned int		 max_rcpts;
	bool			 hide_client;
	const char		*pickup_from;	/* pickup: the mapped sender */
	const char		*pickup_uid;

	/* the transaction */
	struct smtp_mail	 mail;
	struct smtp_rcpt_ent	*rcpts;		/* max_rcpts entries */
	unsigned int		 nrcpts;
	int			 msgfd;		/* the memfd, or -1 */
	unsigned int		 added_lines;	/* our Received: header's */
	bool			 junk;		/* the filter said: into Junk */
	bool			 autocrypt;	/* the policy: learn the
						   sender's Autocrypt key */
	char			 group[SMTP_GROUP_TOKEN_MAX + 1];	/* the
					   first recipient's policy group */
	uint64_t		 rcpt_max;	/* smallest max-size, 0 none */
	struct smtp_data	 data;
};

/* smtp.c: auth, is addr an account (or an alias of one)?  1 yes (r
 * filled in), 0 no, -1 auth is gone */
int	smtp_lookup(struct smtp *, const char *addr, struct smtp_rcpt_ent *r,
	    uint64_t *quota_r, uint64_t *usage_r);

/* smtp_txn.c */
/* Start the message: a new memfd with our Received: header first. */
int	smtp_txn_begin(struct smtp *, bool bdat);
/*
 * The data is in (smtp_data_finish done): check its flags, then the
 * filter's verdict, then durable delivery to every local recipient; send
 * the one reply the transaction gets.  The transaction ends either way.
 */
void	smtp_txn_end(struct smtp *);
/* Drop the transaction (RSET, MAIL refused, EHLO, a new TLS session). */
void	smtp_txn_reset(struct smtp *);
/* Is domain one of ours (case-insensitive)? */
bool	smtp_local_domain(const struct smtp *, const char *domain);

#endif
