/* SPDX-License-Identifier: ISC */
/*
 * imap_mbox_int.h - what the files of the selected state share inside
 * the mail process (imap_mbox.c, imap_fetch.c): one command's answer
 * being composed, and the helpers that write into it.
 */
#ifndef SP_IMAP_MBOX_INT_H
#define SP_IMAP_MBOX_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf;
struct index_msg;
struct meta;
struct imap_arg;
struct imap_cmd;
struct imap_mbox;

#define MB_OUT_MAX	(16 * 1024 * 1024)	/* one command's answer */

struct mb_out {
	struct buf		*b;
	struct imap_mbox	*m;	/* its write_fn, to stream literals */
	int			 failed;	/* a write failed */
};

/* What was composed so far goes out (before a literal is streamed). */
void	mb_flush(struct mb_out *);
void	mb_printf(struct mb_out *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/* Ascending numbers as a compact set: "4:6,9". */
void	mb_uidset(struct mb_out *, const uint32_t *, size_t);
/* A flag list "(\Seen \Flagged $Label1)": INDEX_F_* bits, keywords. */
void	mb_flags(struct mb_out *, uint32_t, uint64_t);
/*
 * The UIDs a sequence-set argument names in the selected mailbox
 * (*uids_r: the caller's, ascending).  0, or -1 after the BAD.
 */
int	mb_resolve(struct imap_mbox *, const struct imap_cmd *,
	    const struct imap_arg *, struct mb_out *, uint32_t **, size_t *);
/* An astring argument into out (no NUL): 0, or -1. */
int	mb_astring(const struct imap_arg *, char *, size_t);
/* The index of uid in the ascending u[0..n), or n when it is not there. */
size_t	mb_uid_index(const uint32_t *u, size_t n, uint32_t uid);
/* Is the argument an atom, this word in any case? */
bool	mb_is(const struct imap_arg *, const char *word);
/* A string as an IMAP quoted string. */
void	mb_quoted(struct mb_out *, const char *);
/* The longest mailbox name on the wire: modified UTF-7 of INDEX_NAME_MAX
 * bytes of UTF-8 takes at most 5/2 as many. */
#define MB_WIRE_NAME_MAX	(3 * INDEX_NAME_MAX)
/*
 * A mailbox-name argument (astring) as the index keeps it: UTF-8, INBOX
 * canonical; decoded from modified UTF-7 unless the client enabled UTF-8.
 * 0, or -1 when the argument is not an astring of at most
 * MB_WIRE_NAME_MAX bytes.  A name no mailbox can have (not canonical
 * modified UTF-7, not UTF-8 text, too long) comes out as "", which
 * names nothing, and *why_r (if not NULL) says why; else *why_r is NULL.
 */
int	mb_name_arg(struct imap_mbox *, const struct imap_arg *, char *out,
	    size_t outlen, const char **why_r);
/* A mailbox name as the client reads it: quoted, modified UTF-7 unless
 * it enabled UTF-8. */
void	mb_name_out(struct mb_out *, const char *);
/* INBOX in any case, alone or as a parent, is INBOX (RFC 3501 5.1). */
void	mb_canon(char *);
/* CREATE, DELETE, RENAME, (UN)SUBSCRIBE (imap_folders.c). */
int	mb_create(struct imap_mbox *, const struct imap_cmd *, struct mb_out *);
int	mb_delete(struct imap_mbox *, const struct imap_cmd *, struct mb_out *);
int	mb_rename(struct imap_mbox *, const struct imap_cmd *, struct mb_out *);
int	mb_subscribe(struct imap_mbox *, const struct imap_cmd *,
	    struct mb_out *, bool);
/* FETCH and UID FETCH (imap_fetch.c). */
int	mb_fetch(struct imap_mbox *, const struct imap_cmd *, struct mb_out *);
/*
 * A message's metadata record (built now if it is not yet); NULL when
 * the message could not be read.  The caller's (meta_free).
 */
struct meta	*mb_meta(struct imap_mbox *, uint32_t uid);
/* Bytes [start, end) of an open message, decrypted; NULL on error. */
struct buf	*mb_read(struct index_msg *, uint64_t start, uint64_t end);
/*
 * Undo the transfer encoding of part idx (META_NONE: the message) in
 * *data (replaced); -1 for an encoding we do not know.
 */
int	mb_decode(const struct meta *, uint32_t idx, struct buf **data);
/* GETQUOTA, GETQUOTAROOT, SETQUOTA (imap_quota.c). */
int	mb_quota(struct imap_mbox *, const struct imap_cmd *, struct mb_out *);
/* Give back to the quota what this command's expunges freed. */
void	mb_quota_settle(struct imap_mbox *);
/* ENABLE (imap_enable.c). */
int	mb_enable(struct imap_mbox *, const struct imap_cmd *, struct mb_out *);
/* CONDSTORE and QRESYNC (imap_condstore.c). */
struct imap_seqset;
struct index_uidrange;
#include "imap_seqset.h"
struct mb_select_opts {
	bool			 condstore;	/* (CONDSTORE) */
	bool			 qresync;	/* (QRESYNC (...)) */
	uint32_t		 uidvalidity;	/* the client's */
	uint64_t		 modseq;	/* the client's */
	bool			 have_known;
	struct imap_seqset	 known;		/* UIDs it knows */
};
/* A mod-sequence value (zero_ok: valzer): 0, or -1. */
int	mb_modseq_arg(const struct imap_arg *, bool zero_ok, uint64_t *);
/* A CONDSTORE enabling command: on, and HIGHESTMODSEQ if selected. */
void	mb_condstore_on(struct imap_mbox *, struct mb_out *);
int	mb_select_opts(struct imap_mbox *, const struct imap_arg *,
	    struct mb_select_opts *, const char **err_r);
void	mb_select_opts_free(struct mb_select_opts *);
void	mb_qresync_select(struct imap_mbox *, struct mb_out *,
	    const struct mb_select_opts *);
/* "* VANISHED [(EARLIER)] set" of the ranges (within a set, or NULL). */
void	mb_vanished(struct mb_out *, bool earlier,
	    const struct index_uidrange *, size_t, const struct imap_seqset *);
int	mb_fetch_modifiers(struct imap_mbox *, const struct imap_cmd *,
	    const struct imap_arg *, uint64_t *changedsince_r,
	    bool *vanished_r, const char **err_r);
/* SEARCH and UID SEARCH (imap_search_cmd.c). */
int	mb_search(struct imap_mbox *, const struct imap_cmd *, struct mb_out *);

#endif
