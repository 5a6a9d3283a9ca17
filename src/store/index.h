/* SPDX-License-Identifier: ISC */
/*
 * index.h - an account's index (index.db) and its mailbox operations:
 * import of new/, mailboxes, reading messages, flags, append, copy, move,
 * expunge, and the keyless structure check (schema and the crash-safe
 * order of every operation: index.c).
 *
 * Users: the account's own mail processes (imap-mail, pop3-mail: its uid,
 * its key pair, its folder at /mail in its jail); sealpostctl store check
 * (index_check without a key, run as the account's uid: see index_open).
 * Several processes of one account may use the index at once; SQLite's
 * locking serializes their writes, and every change is one transaction.
 *
 * Conventions: int functions return -1 on error, 0 on success (or "not
 * found" where a comment says so) and 1 for "found".  On -1, errno is set
 * (ENOENT: no such mailbox or message; EEXIST: the name is taken; EPERM:
 * a mailbox every account keeps; EBADMSG: a message's integrity; EACCES:
 * the handle holds no key; EINVAL: a malformed argument; ENOSPC: a limit
 * below reached; EBUSY: index.db stayed locked; EIO: anything else) and
 * index_errstr() gives a one-line reason, valid until the next call on the
 * handle.  A mailbox is named by its id (from index_mailbox_open or
 * index_mailbox_list) once it is open; names are UTF-8 and "INBOX" is
 * matched in any case (RFC 3501 5.1).  One handle is used by one thread.
 */
#ifndef SP_INDEX_H
#define SP_INDEX_H

#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#include "blob.h"

#define INDEX_NAME_MAX		BLOB_FOLDER_MAX	/* mailbox name, bytes */
#define INDEX_MAILBOX_MAX	1000		/* mailboxes per account */
#define INDEX_KEYWORD_MAX	64		/* keywords per account */
#define INDEX_KEYWORD_LEN	64		/* bytes of one keyword */
#define INDEX_IMPORT_MAX	500		/* new/ entries per import */
#define INDEX_SCAN_MAX		20000		/* new/ names sorted per call */
#define INDEX_OP_MAX		(1 << 20)	/* uids per operation */
#define INDEX_META_MAX		(3 << 20)	/* sealed metadata bytes: more than
					   META_MAX_OUTPUT + its seal */
#define INDEX_TMP_AGE		3600		/* s: a stale ".tmp-" file */
#define INDEX_ORPHAN_GRACE	600		/* s: a young orphan is kept */
#define INDEX_CHECK_LIST_MAX	1000		/* problems listed by check */
#define INDEX_ERR_MAX		512

/* System flags (RFC 3501 2.3.2; \Recent is per session, not stored). */
#define INDEX_F_SEEN		0x01
#define INDEX_F_ANSWERED	0x02
#define INDEX_F_FLAGGED		0x04
#define INDEX_F_DELETED		0x08
#define INDEX_F_DRAFT		0x10
#define INDEX_F_ALL		0x1f

/* Special use (RFC 6154) of the mailboxes every account has. */
#define INDEX_SPECIAL_NONE	0
#define INDEX_SPECIAL_SENT	1
#define INDEX_SPECIAL_DRAFTS	2
#define INDEX_SPECIAL_JUNK	3
#define INDEX_SPECIAL_TRASH	4
#define INDEX_SPECIAL_ARCHIVE	5
#define INDEX_SPECIAL_MAX	5

/* index_open flags */
#define INDEX_OPEN_CREATE	0x01	/* create index.db and changes */

/* index_flags_update operations (IMAP STORE FLAGS, +FLAGS, -FLAGS) */
#define INDEX_FLAGS_SET		0
#define INDEX_FLAGS_ADD		1
#define INDEX_FLAGS_REMOVE	2

/* index_expunge flags */
#define INDEX_EXPUNGE_DELETED	0x01	/* only messages flagged \Deleted */

/* index_check flags */
#define INDEX_CHECK_REPAIR	0x01

struct index;
struct index_msg;

struct index_mailbox {
	int64_t		id;
	char		name[INDEX_NAME_MAX + 1];
	uint32_t	uidvalidity;
	uint32_t	uidnext;	/* 2^32 - 1 at most; then full */
	uint64_t	highestmodseq;	/* RFC 7162; 1 when nothing changed */
	int		special_use;	/* INDEX_SPECIAL_* */
	int		subscribed;
	uint32_t	messages;
	uint32_t	unseen;		/* without \Seen */
	uint32_t	deleted;	/* with \Deleted */
	uint64_t	size;		/* sum of message sizes (RFC 8438) */
	uint64_t	deleted_size;	/* of those with \Deleted (RFC 9208) */
	uint32_t	recent_uid;	/* no session has claimed these yet */
	uint32_t	recent;		/* messages from recent_uid on */
};

struct index_msg_info {
	uint32_t	uid;
	uint32_t	flags;		/* INDEX_F_* */
	uint64_t	keywords;	/* bit b: keyword b (index_keyword) */
	uint64_t	size;		/* message bytes; damaged: file bytes */
	int64_t		internal_date;	/* unix seconds */
	uint64_t	modseq;
	int		damaged;	/* a placeholder: blob did not open */
	int		meta_version;	/* 0: no sealed metadata yet */
	unsigned char	blob_id[BLOB_ID_LEN];	/* zeros if malformed */
	uint64_t	dg_size;	/* downgraded size; 0: not known yet */
};

struct index_msgref {
	int64_t		mailbox;
	uint32_t	uid;
};

/* index_check: what kind of problem */
#define INDEX_P_MISSING		0	/* a row whose blob file is nowhere */
#define INDEX_P_UNMOVED		1	/* a row whose blob is still in new/ */
#define INDEX_P_ORPHAN		2	/* a blob in blobs/ without a row */
#define INDEX_P_GARBAGE		3	/* an expunged blob still on disk */
#define INDEX_P_BAD_NAME	4	/* not a blob name or not a file */
#define INDEX_P_BAD_BLOB	5	/* blob_check_structure failed */
#define INDEX_P_TEMP		6	/* a stale temporary file */
#define INDEX_P_DAMAGED		7	/* a row imported as a placeholder */
#define INDEX_P_USAGE		8	/* the usage counter is wrong */
#define INDEX_P_DB		9	/* SQLite's quick_check failed */
#define INDEX_P_MAX		10

struct index_problem {
	int		kind;		/* INDEX_P_* */
	int		repaired;	/* the repair fixed it */
	char		where[8];	/* "new", "blobs" or "index" */
	char		name[64];	/* file name (escaped) or uid */
	char		detail[160];
};

struct index_check {
	size_t			 rows;		/* messages (rows) */
	size_t			 blobs;		/* files in blobs/ */
	size_t			 pending;	/* blobs in new/ to import */
	size_t			 count[INDEX_P_MAX];
	size_t			 fixed[INDEX_P_MAX];	/* of count: repaired */
	size_t			 repaired;
	struct index_problem	*list;		/* up to INDEX_CHECK_LIST_MAX */
	size_t			 nlist;
	size_t			 unlisted;	/* problems beyond the list */
};

/*
 * Initialize SQLite and seed its random generator from the kernel: call
 * once before entering the jail (RECIPES.md 10: inside it SQLite would
 * find no /dev/urandom and seed itself from the time and the pid).
 * 0 or -1.
 */
int	index_init(void);

/*
 * Open the index of the account folder dirfd (an open directory; it stays
 * the caller's).  new/ and blobs/ are opened from dirfd (O_NOFOLLOW) and
 * kept open.  SQLite opens files by path, so dir_path is the same folder
 * as a path ("/mail" in the jail); index.db is opened (O_NOFOLLOW) from
 * dirfd first and must be the very file SQLite opens, else this fails.
 * With INDEX_OPEN_CREATE a missing index.db is created (mode 0600) with
 * the six mailboxes, and the "changes" file too.  pk and sk are the
 * account's key pair (sk in the caller's sodium_malloc memory): both are
 * referenced, not copied, and must outlive the handle; both may be NULL
 * (store check), then import, read and append fail with EACCES.
 * SECURITY: index.db is the account's file: run as the account's uid,
 * never as root (root would leave root-owned -wal and -shm files, and
 * would parse a file the account controls).
 * Returns a handle (index_close), or NULL with errno and a message in err.
 */
struct index	*index_open(int dirfd, const char *dir_path,
	    const unsigned char *pk, const unsigned char *sk, int flags,
	    char *err, size_t errlen);
/* Close the handle (NULL ok); the keys stay the caller's. */
void	index_close(struct index *);
/* The reason for the last failure (never NULL). */
const char	*index_errstr(const struct index *);

/*
 * Import up to max (at most INDEX_IMPORT_MAX) blobs of new/, oldest
 * first: one row each (in the mailbox its delivery names, else INBOX;
 * a blob that does not open becomes a damaged placeholder row in INBOX),
 * committed before the files move to blobs/.  Removes ".tmp-" files of
 * new/ older than INDEX_TMP_AGE (deliveries never acknowledged).
 * *imported_r: rows added; *remaining_r: blobs left in new/ (an estimate
 * when another process imports too; 0: nothing was left at the scan).
 * Either may be NULL.  0 or -1.
 */
int	index_import(struct index *, size_t max, size_t *imported_r,
	    size_t *remaining_r);

/*
 * Every mailbox with its counts, ordered by name.  *list_r is an array
 * of *n_r entries owned by the caller (free).  0 or -1.
 */
int	index_mailbox_list(struct index *, struct index_mailbox **list_r,
	    size_t *n_r);
/* One mailbox by name, with its counts: 1 found, 0 not, -1 error. */
int	index_mailbox_open(struct index *, const char *name,
	    struct index_mailbox *mb_r);
/* The same by id. */
int	index_mailbox_get(struct index *, int64_t mailbox,
	    struct index_mailbox *mb_r);
/*
 * Create a mailbox (untrusted name: UTF-8, no control characters,
 * INDEX_NAME_MAX bytes) with a fresh uidvalidity; special_use is
 * INDEX_SPECIAL_NONE or one no other mailbox has.  0 or -1 (EEXIST).
 */
int	index_mailbox_create(struct index *, const char *name,
	    int special_use);
/*
 * Delete a mailbox and expunge its messages (blobs no row references any
 * more are removed after the commit).  The six mailboxes every account
 * has cannot be deleted (EPERM).  0 or -1.
 */
int	index_mailbox_delete(struct index *, const char *name);
/*
 * Rename a mailbox (its id, uids and uidvalidity stay); not one of the
 * six (EPERM), not onto an existing name (EEXIST).  Children of a
 * hierarchy are the caller's business.  0 or -1.
 */
int	index_mailbox_rename(struct index *, const char *from,
	    const char *to);
/* Set or clear the subscribed bit.  0 or -1. */
int	index_mailbox_subscribe(struct index *, const char *name, int on);
/* "\\Sent" and the others for INDEX_SPECIAL_*; NULL for none. */
const char	*index_special_use_name(int special_use);

/*
 * Call cb for each message of the mailbox with uid_min <= uid <= uid_max
 * and modseq > changedsince (0: all), in UID order, from one consistent
 * snapshot.  cb must not change the index; a non-zero return from cb
 * stops the walk and is returned.  Else 0, or -1 on error.
 */
int	index_msg_foreach(struct index *, int64_t mailbox, uint32_t uid_min,
	    uint32_t uid_max, uint64_t changedsince,
	    int (*cb)(const struct index_msg_info *, void *), void *arg);
/* One message's row: 1 found, 0 not, -1 error. */
int	index_msg_info(struct index *, int64_t mailbox, uint32_t uid,
	    struct index_msg_info *info_r);

/*
 * Open a message for reading: blob_open of its file with the blob id the
 * row expects, so a file swapped in from another message or account is
 * an integrity error.  NULL with errno ENOENT (no such message), EBADMSG
 * (a damaged placeholder, a missing, tampered, truncated or foreign blob:
 * index_errstr says which) or another errno.  The reader is the
 * caller's (index_msg_close) and independent of the handle.
 */
struct index_msg	*index_msg_open(struct index *, int64_t mailbox,
	    uint32_t uid);
/*
 * Read up to len message bytes at off, decrypting only the chunks that
 * hold them: the count (0 at the end), or -1 with errno EBADMSG (that
 * chunk failed; buf holds no plaintext of it) or an I/O errno.
 */
ssize_t	index_msg_pread(struct index_msg *, void *buf, size_t len,
	    uint64_t off);
uint64_t	index_msg_size(const struct index_msg *);
/* The authenticated delivery header and blob id (live as the reader). */
const struct blob_meta	*index_msg_delivery(const struct index_msg *);
const unsigned char	*index_msg_blob_id(const struct index_msg *);
/* Wipe and free the reader; NULL ok. */
void	index_msg_close(struct index_msg *);
/*
 * The downgraded size when a look at the header says it (the message's
 * own: a header of 7-bit bytes, up to its first empty line), else 0: the
 * check import and APPEND make, for rows that predate it.
 */
uint64_t	index_msg_probe_dg(struct index_msg *);

/*
 * The bit (0..INDEX_KEYWORD_MAX-1) of a keyword (an IMAP atom, at most
 * INDEX_KEYWORD_LEN bytes, compared without case), created when create
 * is set and it is new.  The bit, or -1 (ENOENT: unknown and not
 * created; ENOSPC: INDEX_KEYWORD_MAX keywords exist; EINVAL: malformed).
 */
int	index_keyword(struct index *, const char *name, int create);
/* The keyword of a bit into buf: 1 found, 0 none, -1 error. */
int	index_keyword_name(struct index *, int bit, char *buf, size_t len);

/*
 * Change the flags and keywords of the listed messages (absent uids are
 * skipped) with op INDEX_FLAGS_SET, _ADD or _REMOVE, in one transaction.
 * Every message that changes gets the same new modseq (returned in
 * *modseq_r, else the mailbox's highest) and *changed_r counts them;
 * either may be NULL.  0 or -1.
 */
int	index_flags_update(struct index *, int64_t mailbox,
	    const uint32_t *uids, size_t n, int op, uint32_t flags,
	    uint64_t keywords, uint64_t *modseq_r, size_t *changed_r);
/*
 * The same, leaving alone every message whose modseq is above
 * unchangedsince (RFC 7162 3.1.3; UINT64_MAX: none): their uids go into
 * modified_r (n entries, or NULL), ascending, *nmodified_r counts them.
 */
int	index_flags_update_cond(struct index *, int64_t mailbox,
	    const uint32_t *uids, size_t n, int op, uint32_t flags,
	    uint64_t keywords, uint64_t unchangedsince, uint32_t *modified_r,
	    size_t *nmodified_r, uint64_t *modseq_r, size_t *changed_r);

/*
 * Append a message: seal msg_len bytes of msg_fd (read with pread) to the
 * account's public key into blobs/ (temporary name, fsync, rename, fsync
 * blobs/), then add its row with the flags, keywords and internal date
 * (unix seconds) in one transaction.  *uid_r: its uid (APPENDUID).
 * A crash before the row leaves an orphan blob that index_check puts
 * back into new/ (it is imported into this mailbox): never lost, maybe
 * twice if the client appends it again.  0 or -1 (nothing left behind).
 */
int	index_append(struct index *, int64_t mailbox, int msg_fd,
	    uint64_t msg_len, uint32_t flags, uint64_t keywords,
	    int64_t internal_date, uint32_t *uid_r);

/*
 * Copy the listed messages (absent uids are skipped; handled in
 * ascending order) into dst, one transaction: new rows with new uids
 * sharing the blobs, flags, keywords, dates and metadata.  src_uids_r
 * and dst_uids_r (n entries each, or NULL) receive the pairs (COPYUID,
 * RFC 4315), *n_r how many.  0 or -1.
 */
int	index_copy(struct index *, int64_t src, const uint32_t *uids,
	    size_t n, int64_t dst, uint32_t *src_uids_r, uint32_t *dst_uids_r,
	    size_t *n_r);
/* The same and the source rows expunged, in the same transaction. */
int	index_move(struct index *, int64_t src, const uint32_t *uids,
	    size_t n, int64_t dst, uint32_t *src_uids_r, uint32_t *dst_uids_r,
	    size_t *n_r);

/*
 * Expunge the listed messages (uids NULL: all of the mailbox), only those
 * flagged \Deleted with INDEX_EXPUNGE_DELETED.  The rows go in one
 * transaction that also records the blobs no row references any more;
 * after the commit those files are removed.  *uids_r (the caller's to
 * free; may be NULL) gets the expunged uids in ascending order, *n_r
 * their count.  0 or -1.
 */
int	index_expunge(struct index *, int64_t mailbox, const uint32_t *uids,
	    size_t n, int flags, uint32_t **uids_r, size_t *n_r);

/*
 * Sealed metadata (the metadata builder's, opaque here): store len bytes
 * (at most INDEX_META_MAX) with a format version (>= 1) on the message
 * and every other row sharing its blob (the same bytes, so bind a seal
 * to the blob id, not to the uid).  0 or -1.
 */
int	index_meta_set(struct index *, int64_t mailbox, uint32_t uid,
	    const void *meta, size_t len, int version);
/*
 * Get it: 1 with *meta_r (the caller's, free) and *len_r, *version_r;
 * 0 when the message has none yet (or does not exist); -1 on error.
 */
int	index_meta_get(struct index *, int64_t mailbox, uint32_t uid,
	    void **meta_r, size_t *len_r, int *version_r);
/*
 * Up to max messages (not damaged) whose metadata is missing or older
 * than version, newest first (what a user looks at first): *n_r of them
 * in out.  0 or -1.
 */
int	index_meta_todo(struct index *, int version, struct index_msgref *out,
	    size_t max, size_t *n_r);

/*
 * The account's usage: bytes and count of distinct blobs that rows
 * reference (a copied message counts once, as on disk).  0 or -1.
 */
int	index_usage(struct index *, uint64_t *bytes_r, uint64_t *blobs_r);
/*
 * Bytes of the blobs this handle's committed expunges (EXPUNGE, MOVE's
 * source rows never free one, a deleted mailbox) left without any row
 * since the last call: what to give back to the account's quota.
 */
uint64_t index_freed_take(struct index *);
/*
 * The size of the message as a client without UTF8=ACCEPT reads it
 * (downgrade.h), on the message and every row sharing its blob: the
 * metadata builder's, with the record.  0 or -1.
 */
int	index_dg_set(struct index *, int64_t mailbox, uint32_t uid,
	    uint64_t dg_size);

/* Ascending UID ranges. */
struct index_uidrange {
	uint32_t	lo, hi;
};
/*
 * QRESYNC (RFC 7162 3.2.5, 3.2.6): the UIDs in [uid_min, uid_max] of the
 * mailbox expunged after modseq since, as ascending ranges (*r_r: the
 * caller's to free, *n_r of them).  Every expunge and MOVE records its
 * UIDs (schema 4); where that history does not reach back to since (an
 * index.db upgraded from before it), every UID below uidnext in range
 * without a message: a superset, which never misses one.  0 or -1.
 */
int	index_vanished(struct index *, int64_t mailbox, uint64_t since,
	    uint32_t uid_min, uint32_t uid_max, struct index_uidrange **r_r,
	    size_t *n_r);
/*
 * \Recent (RFC 3501 2.3.2): claim for the calling session the messages
 * no session has seen yet, uids [*from_r, *to_r), and move the mailbox's
 * recent_uid past them, in one transaction (two sessions never both get
 * one).  *from_r == *to_r: nothing to claim.  0 or -1.
 */
int	index_recent_claim(struct index *, int64_t mailbox, uint32_t *from_r,
	    uint32_t *to_r);

/*
 * Check the structure (no key needed): rows whose blob is missing or
 * still in new/, blobs without a row, entries of new/ and blobs/ that
 * are not blob names, blob_check_structure of every blob, stale
 * temporaries, damaged rows, the usage counter and SQLite's quick_check.
 * With INDEX_CHECK_REPAIR: blobs still in new/ with a row are moved into
 * blobs/; orphans older than INDEX_ORPHAN_GRACE are moved back into new/
 * for import (a younger one may be an append in progress), except those
 * the expunged table names, which are removed (their rows were
 * expunged: the user's will); stale temporaries are removed; the usage
 * counter is recomputed.  Nothing else is ever deleted.  res is filled
 * (index_check_free).  0 or -1.
 */
int	index_check(struct index *, int flags, struct index_check *res);
void	index_check_free(struct index_check *);

#ifdef SP_TEST_HOOKS
/*
 * Test hooks: name a step ("import-row", "import-move", "expunge-commit",
 * "append-written") and the index _exit(99)s right after it, as a crash.
 */
extern const char	*index_test_crash_at;
/* When not 0: the expunge history kept per mailbox (IX_VANISHED_KEEP). */
extern size_t		 index_test_vanished_keep;
#endif

#endif
