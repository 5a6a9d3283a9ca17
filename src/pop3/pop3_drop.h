/* SPDX-License-Identifier: ISC */
/*
 * pop3_drop.h - the POP3 maildrop (RFC 1939 TRANSACTION and UPDATE
 * states) over an account's index: a snapshot of INBOX numbered 1..n in
 * UID order, the DELE marks, the RETR and TOP byte stream (dot-stuffed,
 * CRLF lines), and the commit at QUIT.  No I/O to the client except
 * through the caller's write callback; no logging; the reply texts that
 * are not part of a data stream are the caller's (pop3_mail.c).
 *
 * Process:  pop3-mail (account uid, account jail); tests/unit.
 * Trust:    message bytes are hostile content (any byte, any line
 *           length); message numbers come from pop3_cmd_parse (1..2^32-1,
 *           not yet checked against the drop: done here).
 * Limits:   POP3_DROP_MAX messages, POP3_DROP_CHUNK bytes read and
 *           written at a time.
 * See also: pop3_mail.c, pop3_enc.h (the stream), store/index.h,
 *           tests/unit/test_pop3_drop.c.
 */
#ifndef SP_POP3_DROP_H
#define SP_POP3_DROP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "index.h"

/* Messages in one maildrop: the most one index operation takes. */
#define POP3_DROP_MAX		INDEX_OP_MAX
/* Message bytes read (decrypted) and stream bytes written at a time. */
#define POP3_DROP_CHUNK		(64 * 1024)
/* "4294967295.4294967295" and its NUL. */
#define POP3_UIDL_MAX		24
/* pop3_drop_scan: what each line holds after the message number. */
#define POP3_SCAN_LIST		0	/* the size in octets */
#define POP3_SCAN_UIDL		1	/* the unique-id */

struct pop3_drop_msg {
	uint32_t	uid;
	uint64_t	size;		/* the index's: message bytes */
	bool		damaged;	/* a placeholder: unreadable */
	bool		deleted;	/* marked by DELE (until RSET) */
	bool		retrieved;	/* RETR sent it whole */
};

/*
 * Callers read the fields; they change only through the functions below.
 * msgs[i] is message number i + 1.
 */
struct pop3_drop {
	struct index		*ix;		/* the caller's */
	int64_t			 mailbox;	/* INBOX */
	uint32_t		 uidvalidity;
	struct pop3_drop_msg	*msgs;
	uint32_t		 n;
	uint32_t		 ndeleted;
	uint32_t		 nretrieved;
	uint64_t		 size;		/* of all n */
	uint64_t		 deleted_size;	/* of the marked ones */
	/* INBOX held more than POP3_DROP_MAX: the oldest are the drop */
	bool			 truncated;
};

/* What the commit at QUIT did. */
struct pop3_commit {
	uint32_t	deleted;	/* marked: uids asked to expunge */
	size_t		expunged;	/* rows the index removed (the
					   others: expunged by another
					   session) */
	uint32_t	seen;		/* retrieved, kept: \Seen asked */
	bool		seen_failed;	/* index_flags_update failed, */
	char		seen_err[INDEX_ERR_MAX];	/* why */
};

/* pop3_drop_send results. */
enum pop3_send {
	POP3_SEND_OK,		/* ok line, message, ".\r\n": all out */
	POP3_SEND_NOMSG,	/* none, or marked: nothing sent */
	POP3_SEND_DAMAGED,	/* did not open (EBADMSG): nothing sent */
	POP3_SEND_GONE,		/* expunged since the snapshot (ENOENT):
				   nothing sent */
	POP3_SEND_TEMP,		/* did not open, other errno: nothing sent */
	POP3_SEND_READ,		/* a read failed (errno) after the ok
				   line went out: stopped, no "." */
	POP3_SEND_WRITE		/* the write callback failed */
};

/*
 * The maildrop lock (RFC 1939 8: one POP3 session per maildrop): an
 * exclusive fcntl lock on the whole of "pop3.lock" in the account folder
 * dirfd (created 0600, O_NOFOLLOW).  1: locked, *fd_r is the caller's to
 * keep open for the session (closing it or exiting releases it); 0:
 * another process holds it; -1: error (errno).  fcntl locks are per
 * process: a second call from the same process succeeds.
 */
int	pop3_drop_lock(int dirfd, int *fd_r);

/*
 * Snapshot INBOX of ix: every message in UID order (at most
 * POP3_DROP_MAX, the oldest), with its uid, size and damaged bit.  ix
 * stays the caller's and must outlive the drop.  The drop is the
 * caller's (pop3_drop_close), or NULL with errno (index_errstr(ix) says
 * why; ENOENT: no INBOX).
 */
struct pop3_drop	*pop3_drop_open(struct index *ix);
/* Free the drop (NULL ok); nothing changes in the index. */
void	pop3_drop_close(struct pop3_drop *);

/* The messages not marked deleted: how many, and their octets. */
void	pop3_drop_stat(const struct pop3_drop *, uint32_t *n_r,
	    uint64_t *size_r);
/*
 * Message number msgno (untrusted), or NULL when there is none (0, past
 * n).  A marked message is returned too: ->deleted says so.
 */
const struct pop3_drop_msg	*pop3_drop_msg(const struct pop3_drop *,
	    uint32_t msgno);
/*
 * The unique-id of message msgno (RFC 1939 7 UIDL): "<uidvalidity>.<uid>"
 * in decimal, the identity IMAP shows in INBOX, into buf (len bytes,
 * POP3_UIDL_MAX is enough).  0, or -1 when there is no such message or
 * buf is too small.
 */
int	pop3_drop_uidl(const struct pop3_drop *, uint32_t msgno, char *buf,
	    size_t len);
/*
 * The lines of a multi-line LIST or UIDL answer: "i size" or "i id" for
 * every message not marked, then ".", each with CRLF, appended to out
 * after what the caller put there (its "+OK" line).  out is written with
 * write_fn(arg, p, len) whenever it holds POP3_DROP_CHUNK bytes and at
 * the end, and left empty (out->max must be at least POP3_DROP_CHUNK +
 * 64).  0, or -1 when a write (or, with a smaller max, an add) failed.
 */
int	pop3_drop_scan(const struct pop3_drop *, int what, struct buf *out,
	    int (*write_fn)(void *, const void *, size_t), void *arg);
/*
 * Mark message msgno for deletion at the commit: 1 marked now, 0 not
 * (no such message, or marked already: pop3_drop_msg tells which).
 */
int	pop3_drop_dele(struct pop3_drop *, uint32_t msgno);
/* RSET: unmark every message. */
void	pop3_drop_rset(struct pop3_drop *);

/*
 * RETR (top false) or TOP msgno lines (top true): open the message; when
 * it opens, write the caller's ok line (oklen bytes, its CRLF included)
 * and then the message as a POP3 multi-line stream (RFC 1939 3): a line
 * beginning with "." gets another "."; a line ends with CRLF whatever
 * ended it in the message (CRLF, a bare LF, a bare CR, or nothing at the
 * end of the last line); then ".\r\n".  TOP sends the header, the empty
 * line ending it and the first `lines` lines of the body (all of it when
 * it has fewer; a message without an empty line is all header).  The
 * message is read POP3_DROP_CHUNK bytes at a time, never whole; writes
 * go out in pieces of at most about POP3_DROP_CHUNK bytes.  A RETR that
 * completes marks the message retrieved (\Seen at the commit).  Returns
 * an enum pop3_send (errno kept for POP3_SEND_READ and _TEMP).  The
 * buffers that held message bytes are wiped.
 */
enum pop3_send	pop3_drop_send(struct pop3_drop *, uint32_t msgno,
	    bool top, uint32_t lines, const char *ok, size_t oklen,
	    int (*write_fn)(void *, const void *, size_t), void *arg);

/*
 * The UPDATE state (RFC 1939 6): \Seen on every message retrieved and
 * not marked (one index_flags_update; a failure is reported in res and
 * does not stop the rest), then one index_expunge of the marked uids
 * (uids another session expunged meanwhile are simply absent).  res is
 * filled either way.  0, or -1 when the expunge failed (index_errstr of
 * the drop's index; nothing was expunged).  The bytes freed are the
 * index's (index_freed_take) for the caller to give back to the quota.
 * The drop stays open (pop3_drop_close).
 */
int	pop3_drop_commit(struct pop3_drop *, struct pop3_commit *res);

#endif
