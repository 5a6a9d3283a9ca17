/* SPDX-License-Identifier: ISC */
/*
 * imap_mbox.h - the authenticated and selected states of an IMAP
 * connection in the account's mail process (RFC 3501 6.3, 6.4): the
 * commands that work on the index.  imap_mail.c reads commands
 * (imap_cmd.c) and hands them here.
 */
#ifndef SP_IMAP_MBOX_H
#define SP_IMAP_MBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "index.h"

struct imap_cmd;

/* What the client was last told of a message's flags. */
struct mb_known {
	uint32_t	flags;		/* INDEX_F_* */
	uint64_t	kw;		/* keyword bits (index_keyword) */
	bool		recent;		/* \Recent in this session */
};

/* \Recent, beside the INDEX_F_* bits given to mb_flags and the search */
#define MB_F_RECENT	0x100

struct imap_mbox {
	struct index		*ix;
	const unsigned char	*sk;		/* the account's key: metadata */
	uint64_t		 appendlimit;	/* RFC 7889, for STATUS */
	int			(*write_fn)(void *, const char *, size_t);
	void			*arg;
	bool			 selected;
	bool			 readonly;	/* EXAMINE */
	bool			 utf8;		/* names and quoted strings on
						   the wire in UTF-8 */
	bool			 utf8_accept;	/* ENABLE UTF8=ACCEPT */
	bool			 rev2;		/* ENABLE IMAP4rev2 */
	bool			 condstore;	/* RFC 7162 3.1: enabled */
	bool			 qresync;	/* RFC 7162 3.2: enabled */
	uint32_t		 recent_floor;	/* EXAMINE: recent from here */
	struct index_mailbox	 mb;		/* as selected */
	uint32_t		*uids;		/* message number - 1 -> uid */
	struct mb_known		*known;		/* the flags the client knows */
	char			*kwnames[INDEX_KEYWORD_MAX];	/* cache */
	size_t			 nuids;
};

/*
 * Run one command of the authenticated or selected state and write its
 * whole answer; in the selected state the news (below) go just before
 * the tagged reply, without EXPUNGE for FETCH, STORE and SEARCH.  1 when
 * handled, 0 when the command is not one of ours (the caller answers
 * BAD), -1 when the write failed (end the session).
 */
int	imap_mbox_command(struct imap_mbox *, const struct imap_cmd *);
/* Leave the selected state (LOGOUT, a failed SELECT). */
void	imap_mbox_unselect(struct imap_mbox *);
/*
 * What changed in the selected mailbox since the client last heard
 * (other connections, new deliveries once imported): untagged EXPUNGE
 * (highest number first), EXISTS and FETCH (FLAGS) where the flags
 * differ from what the client was told, written out now (IDLE).  0, or
 * -1 when the write failed.
 */
int	imap_mbox_changes(struct imap_mbox *);

#endif
