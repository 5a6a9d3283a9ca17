/* SPDX-License-Identifier: ISC */
/*
 * meta_seal.h - a message's metadata record, sealed to its account and
 * kept in index.db: built once from the decrypted message (meta_build),
 * sealed, stored beside the row (index_meta_set), opened for FETCH and
 * SEARCH.
 *
 * Users: the account's mail process (it alone holds the private key).
 */
#ifndef SP_META_SEAL_H
#define SP_META_SEAL_H

#include <stddef.h>
#include <stdint.h>

struct index;
struct meta;

/* The format version stored with a sealed record (index meta_version). */
#define META_SEAL_VERSION	1
/* Messages larger than this get the "unreadable" record, not a build. */
#define META_SEAL_MSG_MAX	(256ULL * 1024 * 1024)

/*
 * Build, seal and store the record of one message.  sk is the account's
 * private key (the caller's sodium_malloc memory).  1: stored; 0: the
 * message could not be read (a chunk failed its check, or it is larger
 * than META_SEAL_MSG_MAX): an empty record is stored so that it is not
 * tried again, and meta_seal_load reports it; -1: an index error.  err
 * gets a one-line note for the log (never a quote of the message).
 */
int		 meta_seal_build(struct index *, const unsigned char *sk,
		    int64_t mailbox, uint32_t uid, char *err, size_t errlen);

/*
 * Build the records that are missing (or older than META_SEAL_VERSION),
 * newest first, at most max of them: what the mail process does after
 * each import batch, so that a backlog is worked off a batch at a time.
 * *built_r: records stored (unreadable ones included).  0 or -1.
 */
int		 meta_seal_pending(struct index *, const unsigned char *sk,
		    size_t max, size_t *built_r);

/*
 * The record of a message, opened and decoded (the caller's, meta_free),
 * or NULL with errno: ENOENT (not built yet, or no such message), EBADMSG
 * (the seal does not open: tampered, moved from another message; or the
 * message was unreadable when it was built) and a message in err.
 */
struct meta	*meta_seal_load(struct index *, const unsigned char *sk,
		    int64_t mailbox, uint32_t uid, char *err, size_t errlen);

#endif
